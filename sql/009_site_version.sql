-- The site model's version: one more at every change of a unit, a column or
-- a binding, whoever makes it (the console in any worker, or a command such
-- as `parkhost site import` while the site runs). Each worker looks at it
-- every site-poll-ms and serves the model again when it moved: the fallback
-- when the workers' own signal (workers/) was missed, and the way a
-- command's change reaches the running site.
CREATE TABLE park_site_version (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  version INTEGER NOT NULL
);
INSERT INTO park_site_version VALUES (1, 0);

CREATE TRIGGER park_units_site_ins AFTER INSERT ON park_units
BEGIN UPDATE park_site_version SET version = version + 1; END;
CREATE TRIGGER park_units_site_upd AFTER UPDATE ON park_units
BEGIN UPDATE park_site_version SET version = version + 1; END;
CREATE TRIGGER park_units_site_del AFTER DELETE ON park_units
BEGIN UPDATE park_site_version SET version = version + 1; END;
CREATE TRIGGER park_columns_site_ins AFTER INSERT ON park_columns
BEGIN UPDATE park_site_version SET version = version + 1; END;
CREATE TRIGGER park_columns_site_upd AFTER UPDATE ON park_columns
BEGIN UPDATE park_site_version SET version = version + 1; END;
CREATE TRIGGER park_columns_site_del AFTER DELETE ON park_columns
BEGIN UPDATE park_site_version SET version = version + 1; END;
CREATE TRIGGER park_bindings_site_ins AFTER INSERT ON park_bindings
BEGIN UPDATE park_site_version SET version = version + 1; END;
CREATE TRIGGER park_bindings_site_upd AFTER UPDATE ON park_bindings
BEGIN UPDATE park_site_version SET version = version + 1; END;
CREATE TRIGGER park_bindings_site_del AFTER DELETE ON park_bindings
BEGIN UPDATE park_site_version SET version = version + 1; END;
