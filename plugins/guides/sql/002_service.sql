-- The service half of the guides plugin (SERVICE.md): 好差评 ratings of an
-- item with their follow-ups (整改) and moderated comments, and 办件查询,
-- the status of cases sent by the provincial service platform. Reads only
-- guides_items (id, col, unit, name, published) of 001_guides.sql.

-- One rating per participant and item: the unique key is the rule "one
-- each", so two concurrent posts of one browser count once (as the survey's
-- survey_answers). A comment is shown only once staff approved it.
CREATE TABLE guides_ratings (
  id INTEGER PRIMARY KEY,
  item_id INTEGER NOT NULL REFERENCES guides_items (id),
  participant TEXT NOT NULL,             -- "b:<browser token>" (cookie ph_guides)
  stars INTEGER NOT NULL CHECK (stars BETWEEN 1 AND 5),
  comment TEXT NOT NULL DEFAULT '',
  moderation TEXT NOT NULL DEFAULT 'none'
    CHECK (moderation IN ('none', 'pending', 'approved', 'hidden')),
  moderated_by TEXT,
  moderated_at INTEGER,
  address TEXT NOT NULL DEFAULT '',
  created_at INTEGER NOT NULL,
  UNIQUE (item_id, participant)
);
CREATE INDEX guides_ratings_item ON guides_ratings (item_id, id);
CREATE INDEX guides_ratings_pending ON guides_ratings (item_id) WHERE moderation = 'pending';
CREATE INDEX guides_ratings_time ON guides_ratings (created_at);

-- A follow-up (整改) of a 1-2 star rating, for the item's unit, due in
-- working days (park.calendar); its answer is published with the rating.
CREATE TABLE guides_followups (
  id INTEGER PRIMARY KEY,
  rating_id INTEGER NOT NULL UNIQUE REFERENCES guides_ratings (id),
  item_id INTEGER NOT NULL REFERENCES guides_items (id),
  unit TEXT NOT NULL,                    -- the item's unit when it was opened
  opened_on TEXT NOT NULL,               -- YYYY-MM-DD, the park's date
  due TEXT NOT NULL,                     -- YYYY-MM-DD, followup_days working days later
  answer TEXT NOT NULL DEFAULT '',       -- 整改情况
  answered_by TEXT,
  answered_at INTEGER,
  answered_on TEXT,                      -- YYYY-MM-DD of answered_at
  created_at INTEGER NOT NULL
);
CREATE INDEX guides_followups_open ON guides_followups (due) WHERE answered_at IS NULL;
CREATE INDEX guides_followups_item ON guides_followups (item_id);

-- Counters per network address and hour window ('rate': ratings, 'lookup':
-- case lookups): one row updated per request, so the limit holds across
-- workers and costs the same after a million.
CREATE TABLE guides_rates (
  kind TEXT NOT NULL,
  address TEXT NOT NULL,
  hour INTEGER NOT NULL,                 -- seconds since the epoch // 3600
  count INTEGER NOT NULL,
  PRIMARY KEY (kind, address, hour)
);

-- Cases (办件) from the provincial service platform, upserted by case
-- number. The applicant's name is kept to match a lookup and is never shown
-- whole.
CREATE TABLE guides_cases (
  id INTEGER PRIMARY KEY,
  case_no TEXT NOT NULL UNIQUE,          -- 办件编号
  unit TEXT NOT NULL,                    -- the unit that handles it
  item_name TEXT NOT NULL,               -- 事项名称
  applicant TEXT NOT NULL,               -- 申请人 (a person or an organisation)
  status TEXT NOT NULL,                  -- 受理, 办理中, 补正, 办结, 不予受理, 撤回
  received_on TEXT NOT NULL,             -- YYYY-MM-DD
  finished_on TEXT,                      -- YYYY-MM-DD, for 办结 and 不予受理
  result TEXT NOT NULL DEFAULT '',       -- 办理结果, short
  source TEXT NOT NULL,                  -- "key:<id>" or "upload:<login>"
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE INDEX guides_cases_unit ON guides_cases (unit, updated_at DESC);

-- API keys of the import endpoint, one unit each. Only the SHA-256 of a key
-- is kept; the key is shown once, when it is made.
CREATE TABLE guides_keys (
  id INTEGER PRIMARY KEY,
  unit TEXT NOT NULL,
  label TEXT NOT NULL,
  hint TEXT NOT NULL,                    -- the key's first characters, to recognise it
  hash TEXT NOT NULL UNIQUE,             -- hex SHA-256 of the whole key
  created_by TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  last_used_at INTEGER,
  revoked_by TEXT,
  revoked_at INTEGER
);
CREATE INDEX guides_keys_unit ON guides_keys (unit, id);
