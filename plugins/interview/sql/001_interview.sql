-- Online interviews (在线访谈): announced after review, questions collected
-- and moderated, broadcast live, archived, and followed up in writing.
CREATE TABLE interview_interviews (
  id INTEGER PRIMARY KEY,
  column_path TEXT NOT NULL,
  title TEXT NOT NULL,
  topic TEXT NOT NULL DEFAULT '',
  intro TEXT NOT NULL DEFAULT '',
  unit_name TEXT NOT NULL DEFAULT '',     -- the unit whose leader is interviewed
  guests TEXT NOT NULL DEFAULT '[]',      -- [{ name, post, photo = file id }], JSON
  host TEXT NOT NULL DEFAULT '',
  starts_at INTEGER NOT NULL,
  minutes INTEGER NOT NULL DEFAULT 60,
  state TEXT NOT NULL DEFAULT 'draft'
    CHECK (state IN ('draft', 'review', 'returned', 'announced', 'live', 'ended')),
  chain TEXT NOT NULL DEFAULT '[]',
  step INTEGER NOT NULL DEFAULT 0,
  waiting_since INTEGER,
  announced_at INTEGER,
  ended_at INTEGER,
  created_by TEXT NOT NULL DEFAULT '',
  created_at INTEGER NOT NULL DEFAULT 0,
  updated_at INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX interview_interviews_column ON interview_interviews (column_path, starts_at DESC);

CREATE TABLE interview_steps (
  id INTEGER PRIMARY KEY,
  interview_id INTEGER NOT NULL REFERENCES interview_interviews (id),
  step TEXT NOT NULL,
  decision TEXT NOT NULL,
  login TEXT NOT NULL,
  name TEXT NOT NULL DEFAULT '',
  at INTEGER NOT NULL,
  comment TEXT NOT NULL DEFAULT ''
);

-- Residents' questions. A rejection's reason is for staff only.
CREATE TABLE interview_questions (
  id INTEGER PRIMARY KEY,
  interview_id INTEGER NOT NULL REFERENCES interview_interviews (id),
  name TEXT NOT NULL DEFAULT '',          -- '' : anonymous (网友)
  contact TEXT NOT NULL DEFAULT '',
  body TEXT NOT NULL,
  address TEXT NOT NULL DEFAULT '',
  submitted_at INTEGER NOT NULL,
  status TEXT NOT NULL DEFAULT 'pending'
    CHECK (status IN ('pending', 'approved', 'rejected', 'merged')),
  reason TEXT NOT NULL DEFAULT '',
  merged_into INTEGER,
  moderated_by TEXT NOT NULL DEFAULT '',
  moderated_at INTEGER,
  answered_live INTEGER NOT NULL DEFAULT 0,
  answer TEXT NOT NULL DEFAULT '',        -- the written answer after the interview
  answered_by TEXT NOT NULL DEFAULT '',
  answered_at INTEGER,
  due TEXT,                               -- YYYY-MM-DD, working days after the end
  overdue_at INTEGER
);
CREATE INDEX interview_questions_interview ON interview_questions (interview_id, status);

-- What residents see of a live interview, in order: entries by the host
-- and guests (answers among them) and approved questions. The SSE stream
-- sends these by id.
CREATE TABLE interview_events (
  id INTEGER PRIMARY KEY,
  interview_id INTEGER NOT NULL REFERENCES interview_interviews (id),
  kind TEXT NOT NULL CHECK (kind IN ('entry', 'question')),
  speaker TEXT NOT NULL DEFAULT '',
  body TEXT NOT NULL,
  question_id INTEGER,
  posted_by TEXT NOT NULL DEFAULT '',
  at INTEGER NOT NULL
);
CREATE INDEX interview_events_interview ON interview_events (interview_id, id);

CREATE TABLE interview_rates (
  address TEXT NOT NULL,
  hour INTEGER NOT NULL,
  count INTEGER NOT NULL,
  PRIMARY KEY (address, hour)
);
