-- Staff accounts. A unit (单位) answers for columns; the service center is
-- the unit that owns the site. A user holds roles, each for one unit:
-- admin (the center's administrators only), webmaster, editor, reviewer,
-- leader. Passwords are Argon2id hashes (libsodium's crypto_pwhash_str).
CREATE TABLE park_units (
  id INTEGER PRIMARY KEY,
  code TEXT NOT NULL UNIQUE CHECK (length(code) BETWEEN 1 AND 32
    AND code NOT GLOB '*[^a-z0-9_-]*'),
  name TEXT NOT NULL,
  is_center INTEGER NOT NULL DEFAULT 0 CHECK (is_center IN (0, 1)),
  created_at INTEGER NOT NULL
);
-- At most one center.
CREATE UNIQUE INDEX park_units_center ON park_units (is_center) WHERE is_center = 1;
INSERT INTO park_units (code, name, is_center, created_at)
  VALUES ('center', '园区服务中心', 1, CAST(strftime('%s', 'now') AS INTEGER));

CREATE TABLE park_users (
  id INTEGER PRIMARY KEY,
  login TEXT NOT NULL UNIQUE CHECK (length(login) BETWEEN 2 AND 64
    AND login NOT GLOB '*[^a-z0-9._-]*'),
  name TEXT NOT NULL DEFAULT '',
  password_hash TEXT NOT NULL CHECK (password_hash LIKE '$argon2id$%'),
  disabled INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
  created_at INTEGER NOT NULL,
  password_changed_at INTEGER NOT NULL
);

CREATE TABLE park_roles (
  user_id INTEGER NOT NULL REFERENCES park_users (id) ON DELETE CASCADE,
  unit_id INTEGER NOT NULL REFERENCES park_units (id) ON DELETE CASCADE,
  role TEXT NOT NULL CHECK (role IN ('admin', 'webmaster', 'editor', 'reviewer', 'leader')),
  PRIMARY KEY (user_id, unit_id, role)
);
CREATE INDEX park_roles_unit ON park_roles (unit_id);
