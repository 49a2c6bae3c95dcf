-- Opinion surveys and consultations (民意调查征集). A survey is reviewed
-- before it opens (park.review), opens and closes by itself, takes one
-- answer per participant (the unique key below, whatever the mode), and
-- publishes its results and what was done about them.
CREATE TABLE survey_surveys (
  id INTEGER PRIMARY KEY,
  column_path TEXT NOT NULL,
  title TEXT NOT NULL,
  purpose TEXT NOT NULL DEFAULT '',
  draft TEXT NOT NULL DEFAULT '',        -- the text under consultation, plain paragraphs
  files TEXT NOT NULL DEFAULT '[]',      -- its attachments (park.files), JSON
  questions TEXT NOT NULL,               -- the questions as staff wrote them
  parsed TEXT NOT NULL,                  -- ... and parsed (survey_questions), JSON
  opens_at INTEGER NOT NULL,
  closes_at INTEGER NOT NULL CHECK (closes_at > opens_at),
  mode TEXT NOT NULL CHECK (mode IN ('anonymous', 'code', 'invite')),
  state TEXT NOT NULL DEFAULT 'draft'
    CHECK (state IN ('draft', 'review', 'returned', 'scheduled', 'open', 'closed')),
  chain TEXT NOT NULL DEFAULT '[]',
  step INTEGER NOT NULL DEFAULT 0,
  waiting_since INTEGER,
  outcome TEXT NOT NULL DEFAULT '',      -- 征集结果反馈
  outcome_at INTEGER,
  created_by TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE INDEX survey_surveys_column ON survey_surveys (column_path, opens_at DESC);

CREATE TABLE survey_steps (
  id INTEGER PRIMARY KEY,
  survey_id INTEGER NOT NULL REFERENCES survey_surveys (id),
  step TEXT NOT NULL,
  decision TEXT NOT NULL,
  login TEXT NOT NULL,
  name TEXT NOT NULL DEFAULT '',
  at INTEGER NOT NULL,
  comment TEXT NOT NULL DEFAULT ''
);
CREATE INDEX survey_steps_survey ON survey_steps (survey_id, id);

-- One row per participant and survey: the unique key is the rule "one
-- answer each", so two concurrent submissions of one participant count once.
CREATE TABLE survey_answers (
  id INTEGER PRIMARY KEY,
  survey_id INTEGER NOT NULL REFERENCES survey_surveys (id),
  participant TEXT NOT NULL,             -- "b:<browser token>", "c:<contact>", "i:<invitation>"
  nonce TEXT NOT NULL,                   -- the form's: the same form posted twice is one answer
  mode TEXT NOT NULL,
  answers TEXT NOT NULL,                 -- JSON
  contact TEXT NOT NULL DEFAULT '',      -- for the feedback, when the participant left one
  address TEXT NOT NULL DEFAULT '',
  submitted_at INTEGER NOT NULL,
  UNIQUE (survey_id, participant)
);
CREATE INDEX survey_answers_address ON survey_answers (address, submitted_at);

-- Codes sent to a participant's contact (mode "code"), and invitations.
CREATE TABLE survey_codes (
  survey_id INTEGER NOT NULL,
  contact TEXT NOT NULL,
  code TEXT NOT NULL,
  expires_at INTEGER NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  sent_at INTEGER NOT NULL,
  PRIMARY KEY (survey_id, contact)
);
CREATE TABLE survey_invites (
  token TEXT PRIMARY KEY,
  survey_id INTEGER NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE INDEX survey_invites_survey ON survey_invites (survey_id);

-- Answers per network address and hour (the anonymous mode's limit): one
-- row updated per answer, so the check costs the same after a million.
CREATE TABLE survey_rates (
  address TEXT NOT NULL,
  hour INTEGER NOT NULL,
  count INTEGER NOT NULL,
  PRIMARY KEY (address, hour)
);
