-- A version of everything residents see: bumped by every publishing,
-- withdrawal and repeal, so that each worker's page cache knows when its
-- pages went stale without asking more than this one row.
CREATE TABLE articles_meta (
  key TEXT PRIMARY KEY,
  value INTEGER NOT NULL
);
INSERT INTO articles_meta (key, value) VALUES ('version', 1);

-- The body as plain text, kept with each revision for search snippets and
-- comparisons (sanitised HTML is parsed once, when it is saved).
ALTER TABLE articles_revisions ADD COLUMN body_text TEXT NOT NULL DEFAULT '';
