-- The site's settings: what the center sets once and every page shows
-- (the footer's 主办单位, 网站标识码, ICP and 公安 备案号, contact; the
-- SiteName, SiteDomain and SiteIDCode meta tags). The keys and their checks
-- are core/site's (site_setting_keys); a change is audited and, like a
-- change of the column tree, makes every worker serve the site model again.
CREATE TABLE park_settings (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL CHECK (length(value) <= 500)
) WITHOUT ROWID;

CREATE TRIGGER park_settings_site_ins AFTER INSERT ON park_settings
BEGIN UPDATE park_site_version SET version = version + 1; END;
CREATE TRIGGER park_settings_site_upd AFTER UPDATE ON park_settings
BEGIN UPDATE park_site_version SET version = version + 1; END;
CREATE TRIGGER park_settings_site_del AFTER DELETE ON park_settings
BEGIN UPDATE park_site_version SET version = version + 1; END;
