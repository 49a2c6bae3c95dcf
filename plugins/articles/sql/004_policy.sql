-- 政务公开: the attributes of a policy column's documents, and their
-- 索引号 (index numbers).
--
-- What the editor fills in, per revision (so a change goes through review):
-- 文号 (the document number, free text), 主题分类 (one of the State
-- Council's topics, articles_policy.TOPICS) and 有效性 (articles_policy.
-- VALIDITIES; 已废止 and 已失效 come from the repeal and the expiry).
ALTER TABLE articles_revisions ADD COLUMN doc_no TEXT NOT NULL DEFAULT '';
ALTER TABLE articles_revisions ADD COLUMN topic TEXT NOT NULL DEFAULT '';
ALTER TABLE articles_revisions ADD COLUMN validity TEXT NOT NULL DEFAULT '';

-- The last serial given per unit and year: it only ever increases, so a
-- number once given is never given again (a withdrawn article keeps its
-- number; nothing takes a serial back).
CREATE TABLE articles_index_serials (
  unit TEXT NOT NULL,
  year INTEGER NOT NULL,
  last INTEGER NOT NULL CHECK (last > 0),
  PRIMARY KEY (unit, year)
);

-- Every 索引号 given, `<unit>-<year>-<serial, 5 digits>`, with its item:
-- assigned when an article first goes public in a policy column, and never
-- deleted (the record outlives its article).
CREATE TABLE articles_index_numbers (
  index_no TEXT PRIMARY KEY,
  item_id INTEGER NOT NULL UNIQUE,
  unit TEXT NOT NULL,
  year INTEGER NOT NULL,
  serial INTEGER NOT NULL,
  column_path TEXT NOT NULL,
  assigned_at INTEGER NOT NULL,
  UNIQUE (unit, year, serial)
);
CREATE INDEX articles_index_numbers_unit ON articles_index_numbers (unit, year);
