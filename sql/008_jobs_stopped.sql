-- A job the host stopped for good: it kept running past its instruction
-- budget, its hold time or its plugin's CPU quota job-retries + 1 times in
-- a row. It is not run again, after a restart either, until the plugin
-- declares or schedules it with another kind or spec.
ALTER TABLE park_jobs ADD COLUMN stopped INTEGER NOT NULL DEFAULT 0;
