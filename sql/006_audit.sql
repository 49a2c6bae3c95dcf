-- The audit log: who changed what, when, from where, with the values
-- before and after (JSON). Append-only: the triggers refuse any UPDATE or
-- DELETE, and plugins cannot reach the table at all (the authorizer).
CREATE TABLE park_audit (
  id INTEGER PRIMARY KEY,
  at INTEGER NOT NULL,
  actor TEXT NOT NULL,             -- "user:li", "cli:root", "plugin:survey"
  user_id INTEGER,                 -- the logged-in user, if any (kept after the account goes)
  address TEXT NOT NULL DEFAULT '',
  action TEXT NOT NULL,            -- "user.add", "survey.close"
  object TEXT NOT NULL DEFAULT '', -- what it was done to: "user:li", "/hdjl/myzj/42"
  before TEXT,                     -- JSON, or NULL
  after TEXT                       -- JSON, or NULL
);
CREATE INDEX park_audit_at ON park_audit (at);
CREATE INDEX park_audit_actor ON park_audit (actor, at);

CREATE TRIGGER park_audit_no_update BEFORE UPDATE ON park_audit
BEGIN
  SELECT RAISE(ABORT, 'the audit log is append-only');
END;
CREATE TRIGGER park_audit_no_delete BEFORE DELETE ON park_audit
BEGIN
  SELECT RAISE(ABORT, 'the audit log is append-only');
END;
