-- interview_store: the interviews' tables (sql/001_interview.sql).
local park = require("park")
local content = require("park.content")
local cjson = require("cjson")

local db = park.db
local store = {}

local check, decode = content.check, content.decode
store.check, store.decode = check, decode

function store.get(id)
  local it = check(db.first("SELECT * FROM interview_interviews WHERE id = ?", id))
  if it then
    it.guests = decode(it.guests, {})
    it.chain = decode(it.chain, {})
  end
  return it
end

-- Whether residents may see it: announced, live or ended.
function store.public(it)
  return it.state == "announced" or it.state == "live" or it.state == "ended"
end

-- The interview in the site-wide index (park.items) once it is announced.
function store.index(it)
  park.items.publish({ key = tostring(it.id), column = it.column_path, kind = "interview",
    title = it.title, summary = it.topic,
    url = it.column_path:gsub("/$", "") .. "/" .. it.id,
    text = table.concat({ it.unit_name or "", it.host or "", it.intro or "" }, "\n") })
end

function store.list(column)
  return check(db.query([[SELECT id, title, topic, unit_name, host, starts_at, minutes, state
    FROM interview_interviews WHERE column_path = ? AND state IN ('announced', 'live', 'ended')
    ORDER BY starts_at DESC, id DESC LIMIT 500]], column))
end

function store.staff_list(column)
  return check(db.query([[SELECT id, title, starts_at, state, step, chain,
    (SELECT count(*) FROM interview_questions q WHERE q.interview_id = i.id
      AND q.status = 'pending') AS pending
    FROM interview_interviews i WHERE column_path = ? ORDER BY id DESC LIMIT 500]], column))
end

function store.steps(id)
  return check(db.query("SELECT step, decision, login, name, at, comment FROM interview_steps"
    .. " WHERE interview_id = ? ORDER BY id", id))
end

function store.record(id, step, decision, who, now, comment)
  check(db.exec("INSERT INTO interview_steps (interview_id, step, decision, login, name, at,"
    .. " comment) VALUES (?, ?, ?, ?, ?, ?, ?)", id, step, decision, who.login, who.name or "",
    now, comment or ""))
end

local FIELDS = { "title", "topic", "intro", "unit_name", "guests", "host", "starts_at",
                 "minutes" }

local function values(f)
  local v = {}
  for i, k in ipairs(FIELDS) do v[i] = k == "guests" and cjson.encode(f[k]) or f[k] end
  return v
end

function store.create(column, login, now, f)
  local v = values(f)
  return check(db.transaction(function()
    check(db.exec([[INSERT INTO interview_interviews (column_path, title, topic, intro,
      unit_name, guests, host, starts_at, minutes, created_by, created_at, updated_at)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)]], column, v[1], v[2], v[3], v[4], v[5],
      v[6], v[7], v[8], login, now, now))
    return check(db.first("SELECT last_insert_rowid() AS id")).id
  end))
end

function store.update(id, now, f)
  local v = values(f)
  check(db.exec([[UPDATE interview_interviews SET title = ?, topic = ?, intro = ?,
    unit_name = ?, guests = ?, host = ?, starts_at = ?, minutes = ?, state = 'draft',
    updated_at = ? WHERE id = ? AND state IN ('draft', 'returned')]], v[1], v[2], v[3], v[4],
    v[5], v[6], v[7], v[8], now, id))
end

function store.set(id, fields, now)
  content.set("interview_interviews", id, fields, now)
end

---------------------------------------------------------------------------
-- Questions and public events
---------------------------------------------------------------------------

function store.rate(address, now)
  local hour = now // 3600
  local row = check(db.first([[INSERT INTO interview_rates (address, hour, count)
    VALUES (?, ?, 1) ON CONFLICT (address, hour) DO UPDATE SET count = count + 1
    RETURNING count]], address, hour))
  if row.count == 1 then
    check(db.exec("DELETE FROM interview_rates WHERE address = ? AND hour < ?", address, hour))
  end
  return row.count
end

function store.ask(id, name, contact, body, address, now)
  check(db.exec([[INSERT INTO interview_questions (interview_id, name, contact, body, address,
    submitted_at) VALUES (?, ?, ?, ?, ?, ?)]], id, name, contact, body, address, now))
end

function store.question(qid)
  return check(db.first("SELECT * FROM interview_questions WHERE id = ?", qid))
end

function store.questions(id, status)
  return check(db.query("SELECT * FROM interview_questions WHERE interview_id = ? AND"
    .. " (? IS NULL OR status = ?) ORDER BY id", id, status, status))
end

-- What watchers of an interview wait on (park.wait).
function store.key(id)
  return "events:" .. id
end

-- The newest events each interview had posted on this worker, with their
-- JSON made once: 2,000 watchers woken for one entry send it from here
-- instead of asking the database 2,000 times.
local RING = 64
local rings = {}

local function event_json(e)
  return cjson.encode({ id = e.id, kind = e.kind, speaker = e.speaker, body = e.body,
                        question = e.question, image = e.image, at = e.at })
end
store.event_json = event_json

-- A public event: the interview's watchers are woken for it.
local function publish(id, kind, speaker, body, qid, login, now, image, image_type)
  local changed, eid, code = db.exec([[INSERT INTO interview_events (interview_id, kind,
    speaker, body, question_id, posted_by, at, image, image_type) VALUES (?, ?, ?, ?, ?, ?, ?,
    ?, ?)]], id, kind, speaker, body, qid, login, now, image, image_type)
  check(changed, eid, code)
  local e = { id = eid, kind = kind, speaker = speaker, body = body, at = now, image = image }
  if kind == "entry" and qid then
    e.question = check(db.first("SELECT body FROM interview_questions WHERE id = ?", qid)).body
  end
  e.data = event_json(e)
  local ring = rings[id] or {}
  ring[#ring + 1] = e
  if #ring > RING then table.remove(ring, 1) end
  rings[id] = ring
  park.notify(store.key(id))
end

-- The events after `after` from this worker's ring, when it holds all of
-- them (consecutive ids from after + 1: none posted elsewhere between);
-- nil when the database must be asked (the ring has nothing newer: the
-- post that woke the watcher was made on another worker).
function store.recent(id, after)
  local ring = rings[id]
  if not ring or #ring == 0 or ring[#ring].id <= after then return nil end
  local out, want = {}, after + 1
  for _, e in ipairs(ring) do
    if e.id > after then
      if e.id ~= want then return nil end
      out[#out + 1] = e
      want = want + 1
    end
  end
  if #out == 0 or out[1].id ~= after + 1 then return nil end
  return out
end

-- The events after `after`: from the ring, else from the database, whose
-- answer then joins the ring, so that the worker's other watchers woken by
-- the same post on another worker find it there.
function store.since(id, after)
  local out = store.recent(id, after)
  if out then return out end
  local batch = store.events(id, after)
  local ring = rings[id] or {}
  for _, e in ipairs(batch) do
    if #ring == 0 or e.id > ring[#ring].id then
      e.data = event_json(e)
      ring[#ring + 1] = e
    end
  end
  while #ring > RING do table.remove(ring, 1) end
  rings[id] = ring
  return batch
end

-- Moderation: approve (the question shows), reject (with a reason residents
-- never see), merge into another question of the same interview.
function store.moderate(q, decision, who, now, reason, into)
  check(db.transaction(function()
    local status = decision == "approve" and "approved" or decision == "reject" and "rejected"
      or "merged"
    check(db.exec([[UPDATE interview_questions SET status = ?, reason = ?, merged_into = ?,
      moderated_by = ?, moderated_at = ? WHERE id = ?]], status, reason or "", into, who.login,
      now, q.id))
    if status == "approved" then
      publish(q.interview_id, "question", q.name ~= "" and q.name or "网友", q.body, q.id,
        who.login, now)
    end
  end))
end

-- An entry by the host or a guest; with a question, the answer to it.
function store.post(id, speaker, body, qid, who, now, image, image_type)
  check(db.transaction(function()
    publish(id, "entry", speaker, body, qid, who.login, now, image, image_type)
    if qid then
      check(db.exec("UPDATE interview_questions SET answered_live = 1 WHERE id = ?", qid))
    end
  end))
end

function store.events(id, after)
  return check(db.query([[SELECT e.id, e.kind, e.speaker, e.body, e.question_id, e.at,
    e.image, q.body AS question FROM interview_events e LEFT JOIN interview_questions q
    ON q.id = e.question_id AND e.kind = 'entry' WHERE e.interview_id = ? AND e.id > ?
    ORDER BY e.id LIMIT 2000]], id, after))
end

-- End: approved questions not answered live are due in writing.
function store.finish(id, due, now)
  check(db.exec([[UPDATE interview_questions SET due = ? WHERE interview_id = ?
    AND status = 'approved' AND answered_live = 0 AND answer = '']], due, id))
  check(db.exec("UPDATE interview_interviews SET state = 'ended', ended_at = ?, updated_at = ?"
    .. " WHERE id = ?", now, now, id))
end

-- An entry's image: its file id and type, when `file` is one.
function store.image(id, file)
  return check(db.first("SELECT image, image_type FROM interview_events WHERE interview_id = ?"
    .. " AND image = ?", id, file))
end

function store.answer(qid, text, who, now)
  check(db.exec([[UPDATE interview_questions SET answer = ?, answered_by = ?, answered_at = ?
    WHERE id = ?]], text, who.login, now, qid))
end

-- Questions answered in writing after the interview, for the archive.
function store.followups(id)
  return check(db.query([[SELECT id, name, body, answer, answered_at, due FROM
    interview_questions WHERE interview_id = ? AND due IS NOT NULL ORDER BY id]], id))
end

-- Flag written answers past their due day (site time), once each.
function store.flag_overdue(now)
  local today = os.date("%Y-%m-%d", now)
  local rows = check(db.query([[SELECT id, interview_id, due FROM interview_questions
    WHERE due IS NOT NULL AND due < ? AND answer = '' AND overdue_at IS NULL]], today))
  for _, q in ipairs(rows) do
    check(db.exec("UPDATE interview_questions SET overdue_at = ? WHERE id = ?", now, q.id))
  end
  return rows
end

return store
