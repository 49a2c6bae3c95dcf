-- Scheduled jobs of plugins (park.sched, core/sched). A job is named by its
-- plugin, the name of its handler in the plugin's `jobs` table, and a key
-- that tells apart several jobs of one handler ("survey-42"). Times are
-- seconds since the epoch on the park clock.
CREATE TABLE park_jobs (
  id INTEGER PRIMARY KEY,
  plugin TEXT NOT NULL,
  name TEXT NOT NULL,
  key TEXT NOT NULL DEFAULT '',
  kind TEXT NOT NULL CHECK (kind IN ('after', 'at', 'every', 'cron')),
  -- after, at: the seconds or time it was set with; every: the interval in
  -- seconds; cron: the expression.
  spec TEXT NOT NULL,
  payload TEXT NOT NULL DEFAULT 'null', -- JSON
  declared INTEGER NOT NULL DEFAULT 0,  -- 1: from the plugin's manifest
  next_run INTEGER,                     -- NULL: nothing more to run
  -- every: runs fall on anchor + k * interval, retries or not.
  anchor INTEGER,
  -- The worker running it and until when; an expired lease is free again.
  lease_owner TEXT,
  lease_until INTEGER,
  attempts INTEGER NOT NULL DEFAULT 0,  -- failed runs in a row, retried
  runs INTEGER NOT NULL DEFAULT 0,
  last_run INTEGER,
  last_status TEXT CHECK (last_status IN ('ok', 'error', 'failed')),
  last_error TEXT,
  created_at INTEGER NOT NULL,
  UNIQUE (plugin, name, key)
);

CREATE INDEX park_jobs_due ON park_jobs (next_run) WHERE next_run IS NOT NULL;
