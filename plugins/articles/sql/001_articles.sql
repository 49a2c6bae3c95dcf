-- Articles of the responsibility columns (通知公告, 政策文件, 政务动态 ...).
-- An item is one article at its column; its revisions are what editors
-- write and reviewers sign off, step by step (先审后上、分级负责); the item's
-- live revision is what residents read. Every revision is kept.
CREATE TABLE articles_items (
  id INTEGER PRIMARY KEY,
  column_path TEXT NOT NULL,
  status TEXT NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'live', 'withdrawn')),
  live_rev INTEGER,              -- the published revision, NULL before the first publishing
  pub_at INTEGER,                -- the live revision's publication time: the sort key
  expires_at INTEGER,            -- the live revision's expiry, NULL: none
  repealed_at INTEGER,           -- a policy repealed (废止): still readable, marked
  repealed_reason TEXT,
  withdrawn_at INTEGER,          -- taken off the site: the reason stays on record
  withdrawn_by TEXT,
  withdrawn_reason TEXT,
  created_by TEXT NOT NULL,
  created_at INTEGER NOT NULL
);
-- Column pages and feeds, newest first, by keyset (pub_at, id): no OFFSET.
CREATE INDEX articles_items_column ON articles_items (column_path, pub_at DESC, id DESC)
  WHERE status = 'live';
CREATE INDEX articles_items_site ON articles_items (pub_at DESC, id DESC) WHERE status = 'live';

CREATE TABLE articles_revisions (
  id INTEGER PRIMARY KEY,
  item_id INTEGER NOT NULL REFERENCES articles_items (id),
  number INTEGER NOT NULL,
  title TEXT NOT NULL,
  summary TEXT NOT NULL DEFAULT '',
  body TEXT NOT NULL DEFAULT '',          -- sanitised HTML
  source TEXT NOT NULL DEFAULT '',        -- 信息来源
  author_unit TEXT NOT NULL DEFAULT '',   -- 发布机构
  pub_date INTEGER,                       -- the date to publish under; NULL: when published
  expires_at INTEGER,
  related TEXT NOT NULL DEFAULT '[]',     -- ids of related items (a policy and its 解读), JSON
  files TEXT NOT NULL DEFAULT '[]',       -- attachments: [{ id, name, type, size }], JSON
  state TEXT NOT NULL DEFAULT 'draft'
    CHECK (state IN ('draft', 'review', 'returned', 'published', 'superseded')),
  chain TEXT NOT NULL DEFAULT '[]',       -- the review chain when submitted, JSON
  step INTEGER NOT NULL DEFAULT 0,        -- the chain's step waiting (1-based) while in review
  waiting_since INTEGER,                  -- when that step began
  overdue_at INTEGER,                     -- when the scheduler flagged the wait as overdue
  findings TEXT NOT NULL DEFAULT '[]',    -- the word check's warnings at submission, JSON
  created_by TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  UNIQUE (item_id, number)
);
CREATE INDEX articles_revisions_review ON articles_revisions (waiting_since) WHERE state = 'review';

-- The record of every step: who, when, what, why.
CREATE TABLE articles_steps (
  id INTEGER PRIMARY KEY,
  revision_id INTEGER NOT NULL REFERENCES articles_revisions (id),
  step TEXT NOT NULL,
  decision TEXT NOT NULL
    CHECK (decision IN ('submit', 'approve', 'return', 'publish', 'withdraw', 'repeal')),
  login TEXT NOT NULL,
  name TEXT NOT NULL DEFAULT '',
  at INTEGER NOT NULL,
  comment TEXT NOT NULL DEFAULT ''
);
CREATE INDEX articles_steps_revision ON articles_steps (revision_id, id);

-- Site search over live articles: rowid is the item's id; the text is
-- stored as overlapping bigrams (articles_text.tokens) so that two- and
-- four-character Chinese terms are found without a word segmenter.
CREATE VIRTUAL TABLE articles_search USING fts5(tokens, tokenize = 'unicode61');
