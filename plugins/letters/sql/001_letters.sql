-- Letters from residents and enterprises (主任信箱, 咨询, 建议, 投诉, 找错):
-- received by a column, routed to the unit that answers (分办, 转办), answered
-- within working days through the column's review chain, published when the
-- writer and the column allow it, rated by the writer. README.md has the
-- states and the deadline rules.
CREATE TABLE letters_letters (
  id INTEGER PRIMARY KEY,
  column_path TEXT NOT NULL,
  type TEXT NOT NULL,                    -- 主任信箱, 咨询, 建议, 投诉, 找错
  nonce TEXT NOT NULL UNIQUE,            -- the form's: the same form posted twice is one letter
  query_code TEXT NOT NULL UNIQUE,       -- 查询码, given to the writer
  secret TEXT NOT NULL,                  -- 查询密码, given to the writer with it
  name TEXT NOT NULL DEFAULT '',
  contact TEXT NOT NULL DEFAULT '',      -- a phone number or an e-mail address
  verified INTEGER NOT NULL DEFAULT 0,   -- the contact was checked with a code
  title TEXT NOT NULL,
  body TEXT NOT NULL,
  page_url TEXT NOT NULL DEFAULT '',     -- 找错: the page reported
  files TEXT NOT NULL DEFAULT '[]',      -- attachments (park.files), JSON
  wants_public INTEGER NOT NULL DEFAULT 0,
  address TEXT NOT NULL DEFAULT '',
  state TEXT NOT NULL CHECK (state IN ('dispatch', 'assigned', 'accepted', 'review',
                                       'answered', 'declined')),
  unit TEXT NOT NULL,                    -- the unit it is at, or that answered it
  dispatcher TEXT NOT NULL,              -- the column's unit: 分办, and where 退回 goes
  round INTEGER NOT NULL DEFAULT 1,      -- 2 after 再次办理
  received_at INTEGER NOT NULL,
  round_at INTEGER NOT NULL,             -- when this round began (received, or 再次办理)
  accepted_at INTEGER,                   -- the first 受理 (受理日期)
  due TEXT NOT NULL,                     -- the last working day to answer, YYYY-MM-DD
  base_due TEXT NOT NULL,                -- ... before the extensions of this round
  extended INTEGER NOT NULL DEFAULT 0,   -- working days added by approved extensions
  answered_at INTEGER,                   -- the last answer
  answer_days INTEGER,                   -- working days from the round's start to it
  on_time INTEGER,                       -- answered by the due (extensions counted)
  published INTEGER NOT NULL DEFAULT 0,
  published_at INTEGER,                  -- first published: the public list's order
  declined_reason TEXT,
  merged_into INTEGER,
  rating TEXT,                           -- the writer's last rating
  risk INTEGER NOT NULL DEFAULT 0,       -- unanswered 3 months: 互动回应差 risk
  updated_at INTEGER NOT NULL
);
CREATE INDEX letters_public ON letters_letters (column_path, published, published_at DESC, id DESC);
CREATE INDEX letters_open ON letters_letters (state, due);
CREATE INDEX letters_received ON letters_letters (received_at);
CREATE INDEX letters_column_state ON letters_letters (column_path, state, id);

-- The timeline: every step, who, when, the note. `public` events show on
-- the writer's status page; `note_public` says whether their note does.
CREATE TABLE letters_events (
  id INTEGER PRIMARY KEY,
  letter_id INTEGER NOT NULL REFERENCES letters_letters (id),
  at INTEGER NOT NULL,
  login TEXT NOT NULL DEFAULT '',
  name TEXT NOT NULL DEFAULT '',
  unit TEXT NOT NULL DEFAULT '',          -- the acting unit
  to_unit TEXT NOT NULL DEFAULT '',       -- 分办, 转办: where it went
  action TEXT NOT NULL,
  note TEXT NOT NULL DEFAULT '',
  public INTEGER NOT NULL DEFAULT 0,
  note_public INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX letters_events_letter ON letters_events (letter_id, id);

-- Replies, drafted by an editor, approved through the column's chain.
CREATE TABLE letters_replies (
  id INTEGER PRIMARY KEY,
  letter_id INTEGER NOT NULL REFERENCES letters_letters (id),
  round INTEGER NOT NULL,
  unit TEXT NOT NULL,
  body TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('draft', 'review', 'returned', 'approved')),
  chain TEXT NOT NULL DEFAULT '[]',
  step INTEGER NOT NULL DEFAULT 0,
  created_by TEXT NOT NULL,
  created_name TEXT NOT NULL DEFAULT '',
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  approved_at INTEGER
);
CREATE INDEX letters_replies_letter ON letters_replies (letter_id, id);

CREATE TABLE letters_steps (
  id INTEGER PRIMARY KEY,
  reply_id INTEGER NOT NULL REFERENCES letters_replies (id),
  step TEXT NOT NULL,
  decision TEXT NOT NULL,
  login TEXT NOT NULL,
  name TEXT NOT NULL DEFAULT '',
  at INTEGER NOT NULL,
  comment TEXT NOT NULL DEFAULT ''
);
CREATE INDEX letters_steps_reply ON letters_steps (reply_id, id);

-- 延期: asked with a reason, approved (or not) by a leader of the unit.
CREATE TABLE letters_extensions (
  id INTEGER PRIMARY KEY,
  letter_id INTEGER NOT NULL REFERENCES letters_letters (id),
  round INTEGER NOT NULL,
  days INTEGER NOT NULL,
  reason TEXT NOT NULL,
  requested_by TEXT NOT NULL,
  requested_name TEXT NOT NULL DEFAULT '',
  requested_at INTEGER NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('pending', 'approved', 'rejected')),
  decided_by TEXT,
  decided_at INTEGER,
  old_due TEXT,
  new_due TEXT
);
CREATE INDEX letters_extensions_letter ON letters_extensions (letter_id, state);

-- The writer's rating of each round's answer.
CREATE TABLE letters_ratings (
  letter_id INTEGER NOT NULL REFERENCES letters_letters (id),
  round INTEGER NOT NULL,
  rating TEXT NOT NULL CHECK (rating IN ('满意', '基本满意', '不满意')),
  reason TEXT NOT NULL DEFAULT '',
  again INTEGER NOT NULL DEFAULT 0,       -- 不满意 and asked for 再次办理
  at INTEGER NOT NULL,
  PRIMARY KEY (letter_id, round)
);

-- Warnings of the daily job, once per letter, kind and due date: the
-- units' console queue (<column>/manage/warnings) and the channel.
CREATE TABLE letters_warnings (
  id INTEGER PRIMARY KEY,
  letter_id INTEGER NOT NULL REFERENCES letters_letters (id),
  column_path TEXT NOT NULL,
  unit TEXT NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('soon', 'overdue', 'risk')),
  due TEXT NOT NULL,
  at INTEGER NOT NULL,
  UNIQUE (letter_id, kind, due)
);
CREATE INDEX letters_warnings_unit ON letters_warnings (unit, id);

-- Codes sent to a writer's contact (verify = "code").
CREATE TABLE letters_codes (
  column_path TEXT NOT NULL,
  contact TEXT NOT NULL,
  code TEXT NOT NULL,
  expires_at INTEGER NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  sent_at INTEGER NOT NULL,
  PRIMARY KEY (column_path, contact)
);

-- Counters per network address and hour: letters submitted ('letter'),
-- failed look-ups of a query code ('lookup'), codes sent ('code').
CREATE TABLE letters_rates (
  kind TEXT NOT NULL,
  address TEXT NOT NULL,
  hour INTEGER NOT NULL,
  count INTEGER NOT NULL,
  PRIMARY KEY (kind, address, hour)
);
