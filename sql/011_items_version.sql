-- The index's version: one more at every change of park_items (a
-- publication, a republication, a withdrawal, a column's items going with
-- it), whoever makes it: a worker or a command. A page built from the index
-- (the front page, a section page) is kept while it has not moved
-- (park.items.version()).
CREATE TABLE park_items_version (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  version INTEGER NOT NULL
);
INSERT INTO park_items_version VALUES (1, 0);

CREATE TRIGGER park_items_version_ins AFTER INSERT ON park_items
BEGIN UPDATE park_items_version SET version = version + 1; END;
CREATE TRIGGER park_items_version_upd AFTER UPDATE ON park_items
BEGIN UPDATE park_items_version SET version = version + 1; END;
CREATE TRIGGER park_items_version_del AFTER DELETE ON park_items
BEGIN UPDATE park_items_version SET version = version + 1; END;
