-- survey_store: the surveys' tables (sql/001_survey.sql).
local park = require("park")
local content = require("park.content")
local cjson = require("cjson")

local db = park.db
local store = {}

local check, decode = content.check, content.decode
store.check, store.decode = check, decode

function store.get(id)
  local s = check(db.first("SELECT * FROM survey_surveys WHERE id = ?", id))
  if s then
    s.chain = decode(s.chain, {})
    s.files = decode(s.files, {})
    s.parsed = decode(s.parsed, {})
  end
  return s
end

-- The state residents see: the stored one, with the clock as the last word
-- (a job that has not run yet never keeps a survey open past its close).
function store.phase(s, now)
  if s.state == "open" or s.state == "scheduled" then
    if now >= s.closes_at then return "closed" end
    if s.state == "open" or now >= s.opens_at then return "open" end
    return "upcoming"
  end
  if s.state == "closed" then return "closed" end
  return "unpublished"
end

function store.list(column)
  return check(db.query([[SELECT id, title, purpose, opens_at, closes_at, state, mode,
    outcome_at FROM survey_surveys WHERE column_path = ? AND state IN ('scheduled', 'open',
    'closed') ORDER BY opens_at DESC, id DESC LIMIT 200]], column))
end

function store.staff_list(column)
  return check(db.query([[SELECT id, title, opens_at, closes_at, state, step, chain,
    (SELECT count(*) FROM survey_answers a WHERE a.survey_id = s.id) AS answers
    FROM survey_surveys s WHERE column_path = ? ORDER BY id DESC LIMIT 500]], column))
end

function store.steps(id)
  return check(db.query("SELECT step, decision, login, name, at, comment FROM survey_steps"
    .. " WHERE survey_id = ? ORDER BY id", id))
end

function store.record(id, step, decision, who, now, comment)
  check(db.exec("INSERT INTO survey_steps (survey_id, step, decision, login, name, at, comment)"
    .. " VALUES (?, ?, ?, ?, ?, ?, ?)", id, step, decision, who.login, who.name or "",
    now, comment or ""))
end

local FIELDS = { "title", "purpose", "draft", "questions", "parsed", "opens_at", "closes_at",
                 "mode", "files" }

function store.create(column, login, now, f)
  return check(db.transaction(function()
    check(db.exec([[INSERT INTO survey_surveys (column_path, title, purpose, draft, questions,
      parsed, opens_at, closes_at, mode, files, created_by, created_at, updated_at)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)]], column, f.title, f.purpose, f.draft,
      f.questions, cjson.encode(f.parsed), f.opens_at, f.closes_at, f.mode,
      cjson.encode(f.files or {}), login, now, now))
    return check(db.first("SELECT last_insert_rowid() AS id")).id
  end))
end

function store.update(id, now, f)
  local sets, args = {}, {}
  for _, k in ipairs(FIELDS) do
    sets[#sets + 1] = k .. " = ?"
    local v = f[k]
    if k == "parsed" or k == "files" then v = cjson.encode(v or {}) end
    args[#args + 1] = v
  end
  args[#args + 1] = now
  args[#args + 1] = id
  check(db.exec("UPDATE survey_surveys SET " .. table.concat(sets, ", ")
    .. ", state = 'draft', updated_at = ? WHERE id = ? AND state IN ('draft', 'returned')",
    table.unpack(args)))
end

-- The survey in the site-wide index (park.items) once it is public (from
-- its approval: residents see it announced before it opens).
function store.index(s)
  park.items.publish({ key = tostring(s.id), column = s.column_path, kind = "survey",
    title = s.title, summary = s.purpose, url = s.column_path:gsub("/$", "") .. "/" .. s.id,
    text = (s.draft or "") .. "\n" .. (s.questions or "") })
end

function store.set(id, fields, now)
  content.set("survey_surveys", id, fields, now)
end

-- One answer of a participant: inserted, or the one they gave before.
-- Returns "new", "same" (the same form posted again) or "other", and the
-- answer's id (its receipt number).
function store.answer(s, participant, nonce, mode, answers, contact, address, now)
  local changed, id, code = db.exec([[INSERT INTO survey_answers (survey_id, participant,
    nonce, mode, answers, contact, address, submitted_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
    ON CONFLICT (survey_id, participant) DO NOTHING]], s.id, participant, nonce, mode,
    cjson.encode(answers), contact or "", address or "", now)
  if changed == nil then check(nil, id, code) end
  if changed == 1 then return "new", id end
  local row = check(db.first("SELECT id, nonce FROM survey_answers"
    .. " WHERE survey_id = ? AND participant = ?", s.id, participant))
  if row and row.nonce == nonce then return "same", row.id end
  return "other"
end

function store.answered(s, participant)
  return check(db.first("SELECT 1 AS x FROM survey_answers WHERE survey_id = ? AND"
    .. " participant = ?", s.id, participant)) ~= nil
end

function store.answers(id)
  return check(db.query("SELECT answers, mode, submitted_at, contact FROM survey_answers"
    .. " WHERE survey_id = ? ORDER BY id", id))
end

function store.count(id)
  return check(db.first("SELECT count(*) AS n FROM survey_answers WHERE survey_id = ?", id)).n
end

-- Count one more answer from `address` this hour; the count so far. Hours
-- before the last are forgotten now and then.
function store.rate(address, now)
  local hour = now // 3600
  local row = check(db.first([[INSERT INTO survey_rates (address, hour, count) VALUES (?, ?, 1)
    ON CONFLICT (address, hour) DO UPDATE SET count = count + 1 RETURNING count]],
    address, hour))
  if row.count == 1 then
    check(db.exec("DELETE FROM survey_rates WHERE address = ? AND hour < ?", address, hour))
  end
  return row.count
end

return store
