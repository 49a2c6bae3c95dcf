-- What residents search for on the site-wide search page: the query text
-- only (never who asked), so the page can offer the most frequent ones.
CREATE TABLE portal_queries (
  q TEXT PRIMARY KEY,
  count INTEGER NOT NULL DEFAULT 1,
  last_at INTEGER NOT NULL
);
CREATE INDEX portal_queries_count ON portal_queries (count DESC);
