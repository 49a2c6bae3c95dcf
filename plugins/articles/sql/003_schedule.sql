-- Scheduled publishing: a time the editor asks for (定时发布), and when the
-- last approval came before it (the revision then waits for its time, out
-- of every reviewer's queue, and a job publishes it then).
ALTER TABLE articles_revisions ADD COLUMN publish_at INTEGER;
ALTER TABLE articles_revisions ADD COLUMN scheduled_at INTEGER;
