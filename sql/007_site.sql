-- The site model: the column tree, the unit that answers for each column,
-- and bindings (a plugin enabled on a column with its config). The path is
-- a column's identity and its URL; the tree (parent, position) orders the
-- navigation, so moving a column never breaks its links.
CREATE TABLE park_columns (
  id INTEGER PRIMARY KEY,
  path TEXT NOT NULL UNIQUE CHECK (path LIKE '/%'),
  title TEXT NOT NULL CHECK (length(title) BETWEEN 1 AND 100),
  parent_id INTEGER REFERENCES park_columns (id),
  position INTEGER NOT NULL DEFAULT 0,
  kind TEXT NOT NULL CHECK (kind IN ('section', 'news', 'notice', 'policy', 'interaction',
                                     'service', 'static')),
  unit_id INTEGER NOT NULL REFERENCES park_units (id),
  -- The longest a column may go without an update (inspection); NULL: no limit.
  max_stale_days INTEGER CHECK (max_stale_days IS NULL OR max_stale_days > 0),
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE INDEX park_columns_parent ON park_columns (parent_id, position);
CREATE INDEX park_columns_unit ON park_columns (unit_id);

-- One plugin per column; one plugin may serve many columns. The config is
-- the JSON the center saved (validated against the plugin's schema when
-- saved); the plugin's defaults fill the rest when it is served.
CREATE TABLE park_bindings (
  column_id INTEGER PRIMARY KEY REFERENCES park_columns (id) ON DELETE CASCADE,
  plugin TEXT NOT NULL,
  enabled INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
  config TEXT NOT NULL DEFAULT '{}',
  updated_at INTEGER NOT NULL
);
