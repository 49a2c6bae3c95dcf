-- Staff sessions and failed logins. A session is known by the BLAKE2b hash
-- of the random token in its cookie: the token itself is never stored, so
-- a copy of the database opens no session.
CREATE TABLE park_sessions (
  id BLOB PRIMARY KEY,
  user_id INTEGER NOT NULL REFERENCES park_users (id) ON DELETE CASCADE,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  address TEXT NOT NULL DEFAULT ''
);
CREATE INDEX park_sessions_user ON park_sessions (user_id);
CREATE INDEX park_sessions_expiry ON park_sessions (expires_at);

-- One row per failed login, for the rate limits per account and per
-- address; rows older than the window are removed as logins happen.
CREATE TABLE park_login_failures (
  login TEXT NOT NULL,
  address TEXT NOT NULL,
  at INTEGER NOT NULL
);
CREATE INDEX park_login_failures_login ON park_login_failures (login, at);
CREATE INDEX park_login_failures_address ON park_login_failures (address, at);
