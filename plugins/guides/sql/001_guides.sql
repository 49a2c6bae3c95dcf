-- Service guides (办事指南). An item (事项) is one service at its column,
-- answered for by one unit (责任单位); its versions are what editors write
-- and reviewers sign off; the published version is what residents read.
-- Every version is kept. The service half (002_service.sql) reads
-- id, col, unit, name and published and references guides_items (id).
CREATE TABLE guides_items (
  id INTEGER PRIMARY KEY,
  col TEXT NOT NULL,                     -- the column path the item belongs to
  unit TEXT NOT NULL,                    -- 责任单位: a unit code
  name TEXT NOT NULL,                    -- 事项名称: the published version's, else the draft's
  published INTEGER NOT NULL DEFAULT 0,  -- 1 while a version is public
  live_version INTEGER,                  -- guides_versions.id of the public version
  updated_at INTEGER,                    -- 更新日期: when the public version was published
  -- Catalogue keys, copied from the public version when it is published:
  obj INTEGER NOT NULL DEFAULT 0,        -- 服务对象: 1 个人, 2 法人, 3 both
  themes TEXT NOT NULL DEFAULT '',       -- 主题分类, as '|生育收养|就业创业|'
  runs INTEGER NOT NULL DEFAULT 1,       -- 跑动次数
  sort TEXT NOT NULL DEFAULT '',         -- the catalogue's order (the name)
  withdrawn_at INTEGER,
  withdrawn_by TEXT,
  withdrawn_reason TEXT,
  created_by TEXT NOT NULL DEFAULT '',
  created_at INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX guides_items_catalogue ON guides_items (col, sort, id) WHERE published = 1;
CREATE INDEX guides_items_unit ON guides_items (col, unit, id);

CREATE TABLE guides_versions (
  id INTEGER PRIMARY KEY,
  item_id INTEGER NOT NULL REFERENCES guides_items (id),
  number INTEGER NOT NULL,
  data TEXT NOT NULL,                    -- every field of the guide, JSON
  state TEXT NOT NULL DEFAULT 'draft'
    CHECK (state IN ('draft', 'review', 'returned', 'published', 'superseded')),
  chain TEXT NOT NULL DEFAULT '[]',      -- the review chain when submitted, JSON
  step INTEGER NOT NULL DEFAULT 0,       -- the chain's step waiting (1-based) in review
  waiting_since INTEGER,
  created_by TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  UNIQUE (item_id, number)
);
CREATE INDEX guides_versions_review ON guides_versions (state, item_id) WHERE state = 'review';

-- The record of every step: who, when, what, why.
CREATE TABLE guides_steps (
  id INTEGER PRIMARY KEY,
  version_id INTEGER NOT NULL REFERENCES guides_versions (id),
  step TEXT NOT NULL,
  decision TEXT NOT NULL
    CHECK (decision IN ('submit', 'approve', 'return', 'publish', 'withdraw', 'import')),
  login TEXT NOT NULL,
  name TEXT NOT NULL DEFAULT '',         -- the staff member's name, as shown
  at INTEGER NOT NULL,
  comment TEXT NOT NULL DEFAULT ''
);
CREATE INDEX guides_steps_version ON guides_steps (version_id, id);

-- Blank forms (空表) and samples (样表) of the materials, kept in park.files.
CREATE TABLE guides_files (
  id INTEGER PRIMARY KEY,
  item_id INTEGER REFERENCES guides_items (id),
  file_id TEXT NOT NULL,                 -- park.files id: an upload, or a demo form (put)
  name TEXT NOT NULL,                    -- the file name shown and downloaded
  type TEXT NOT NULL,                    -- pdf, doc, docx, xls, xlsx, ofd, jpg, png
  size INTEGER NOT NULL,
  created_by TEXT NOT NULL,
  created_at INTEGER NOT NULL
);

-- A version of everything residents see, bumped by every publishing and
-- withdrawal, so that each worker's page cache knows when pages went stale.
CREATE TABLE guides_meta (
  key TEXT PRIMARY KEY,
  value INTEGER NOT NULL
);
INSERT INTO guides_meta (key, value) VALUES ('version', 1);
