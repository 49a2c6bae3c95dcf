-- The site-wide index of what the site has published (docs/plugin-api.md,
-- park.items): one row per item a plugin made public, whatever the plugin.
-- The front page, site-wide search, feeds, the monitor and the assessment
-- read it; nobody reads plugins' private tables for that.
--
-- published_at is stamped by the server the first time an item becomes
-- public and never changes afterwards (a faked publication date is a
-- single-veto fault in the national inspection); updated_at moves with each
-- later publication of the same item. What an editor types (成文日期) is an
-- attribute, shown as such.
CREATE TABLE park_items (
  id INTEGER PRIMARY KEY,
  plugin TEXT NOT NULL,
  key TEXT NOT NULL CHECK (length(key) BETWEEN 1 AND 200),
  column_id INTEGER NOT NULL REFERENCES park_columns (id) ON DELETE CASCADE,
  kind TEXT NOT NULL CHECK (kind IN ('news', 'notice', 'policy', 'letter', 'guide', 'survey',
                                     'interview', 'page', 'other')),
  title TEXT NOT NULL CHECK (length(title) BETWEEN 1 AND 500),
  url TEXT NOT NULL CHECK (url LIKE '/%' AND url NOT LIKE '//%'),
  summary TEXT NOT NULL DEFAULT '',
  -- 文号 (doc_no), 索引号 (index_no), 成文日期 (written_on), 主题分类
  -- (topic), 有效性 (validity): a JSON object of strings.
  attrs TEXT NOT NULL DEFAULT '{}',
  published_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  UNIQUE (plugin, key)
);
CREATE INDEX park_items_recent ON park_items (published_at DESC, id DESC);
CREATE INDEX park_items_column ON park_items (column_id, published_at DESC, id DESC);
CREATE INDEX park_items_kind ON park_items (kind, published_at DESC, id DESC);

-- Search: the title and the text as tokens (items.c: words, and Chinese
-- as overlapping pairs of characters), rowid the item's id.
CREATE VIRTUAL TABLE park_items_fts USING fts5(title, body, tokenize = 'unicode61');
