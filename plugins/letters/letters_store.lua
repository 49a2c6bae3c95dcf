-- letters_store: the letters' tables (sql/001_letters.sql).
local park = require("park")
local content = require("park.content")
local page = require("park.page")
local cjson = require("cjson")

local db = park.db
local check, decode = content.check, content.decode

local store = { check = check, decode = decode }

local function letter(row)
  if row then row.files = decode(row.files, {}) end
  return row
end

function store.get(id)
  id = math.tointeger(tonumber(id or ""))
  if not id then return nil end
  return letter(check(db.first("SELECT * FROM letters_letters WHERE id = ?", id)))
end

-- A letter by its 查询码 and 查询密码 (both as the writer typed them).
function store.by_code(code, secret)
  code = (code or ""):gsub("%s", "")
  secret = (secret or ""):gsub("%s", ""):upper()
  if code == "" or secret == "" or #code > 32 or #secret > 32 then return nil end
  local row = letter(check(db.first("SELECT * FROM letters_letters WHERE query_code = ?", code)))
  if row and row.secret == secret then return row end
  return nil
end

function store.set(id, fields, now)
  content.set("letters_letters", id, fields, now)
end

---------------------------------------------------------------------------
-- Codes for the writer
---------------------------------------------------------------------------

local SECRET_CHARS = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"

-- 10 digits: the 查询码.
local function query_code()
  local t, out = park.token(), {}
  for i = 1, 10 do out[i] = tostring(t:byte(i) % 10) end
  if out[1] == "0" then out[1] = "8" end
  return table.concat(out)
end

-- 10 characters without look-alikes (0/O, 1/I/L): the 查询密码.
local function secret()
  local t, out = park.token(), {}
  for i = 1, 10 do
    local k = t:byte(i) % #SECRET_CHARS + 1
    out[i] = SECRET_CHARS:sub(k, k)
  end
  return table.concat(out)
end

---------------------------------------------------------------------------
-- Rates
---------------------------------------------------------------------------

--- Count one more of `kind` from `address` this hour; the count so far.
function store.bump(kind, address, now)
  local hour = now // 3600
  local row = check(db.first([[INSERT INTO letters_rates (kind, address, hour, count)
    VALUES (?, ?, ?, 1) ON CONFLICT (kind, address, hour) DO UPDATE SET count = count + 1
    RETURNING count]], kind, address, hour))
  if row.count == 1 then
    check(db.exec("DELETE FROM letters_rates WHERE kind = ? AND address = ? AND hour < ?",
      kind, address, hour))
  end
  return row.count
end

--- The count of `kind` from `address` this hour, without counting.
function store.count(kind, address, now)
  local row = check(db.first("SELECT count FROM letters_rates WHERE kind = ? AND address = ?"
    .. " AND hour = ?", kind, address, now // 3600))
  return row and row.count or 0
end

---------------------------------------------------------------------------
-- The timeline
---------------------------------------------------------------------------

--- One step on the letter's timeline. e: { action =, unit =, to_unit =,
-- note =, public = bool, note_public = bool }; who: a user or nil (the
-- writer, the system).
function store.event(id, who, e, now)
  check(db.exec([[INSERT INTO letters_events (letter_id, at, login, name, unit, to_unit, action,
    note, public, note_public) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)]], id, now,
    who and who.login or "", who and who.name or "", e.unit or "", e.to_unit or "", e.action,
    e.note or "", e.public and 1 or 0, e.note_public and 1 or 0))
end

function store.events(id, public_only)
  return check(db.query("SELECT * FROM letters_events WHERE letter_id = ?"
    .. (public_only and " AND public = 1" or "") .. " ORDER BY id", id))
end

---------------------------------------------------------------------------
-- Submission: one transaction per letter, idempotent by the form's nonce
---------------------------------------------------------------------------

--- Store a letter: f holds its fields (column_path, type, nonce, name,
-- contact, verified, title, body, page_url, files, wants_public, address,
-- state, unit, dispatcher, due) and rate_key, the column's counter; limit
-- is the letters an address may send the column in an hour. Returns
-- { "new", letter } or { "same", letter } (the nonce's: the same receipt),
-- or { "rate" } when the address is over its limit.
function store.submit(f, limit, now)
  return check(db.transaction(function()
    local same = check(db.first("SELECT * FROM letters_letters WHERE nonce = ?", f.nonce))
    if same then return { "same", letter(same) } end
    if store.bump(f.rate_key, f.address, now) > limit then return { "rate" } end
    local id
    for _ = 1, 5 do
      local changed, rowid, code = db.exec([[INSERT INTO letters_letters (column_path, type,
        nonce, query_code, secret, name, contact, verified, title, body, page_url, files,
        wants_public, address, state, unit, dispatcher, round, received_at, round_at, due,
        base_due, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1,
        ?, ?, ?, ?, ?)]], f.column_path, f.type, f.nonce, query_code(), secret(), f.name,
        f.contact, f.verified and 1 or 0, f.title, f.body, f.page_url, cjson.encode(f.files),
        f.wants_public and 1 or 0, f.address, f.state, f.unit, f.dispatcher, now, now, f.due,
        f.due, now)
      if changed == 1 then
        id = rowid
        break
      end
      if code ~= "CONSTRAINT" then check(nil, rowid, code) end
      -- A 查询码 drawn twice: draw again.
    end
    if not id then error("letters: no free query code after 5 draws", 0) end
    store.event(id, nil, { action = "submit", unit = f.unit, public = true }, now)
    if f.state == "assigned" then
      store.event(id, nil, { action = "assign", unit = f.dispatcher, to_unit = f.unit,
        public = true, note = "按栏目设置直接交办" }, now)
    end
    return { "new", letter(check(db.first("SELECT * FROM letters_letters WHERE id = ?", id))) }
  end))
end

---------------------------------------------------------------------------
-- Replies and their review steps
---------------------------------------------------------------------------

local function reply(row)
  if row then row.chain = decode(row.chain, {}) end
  return row
end

function store.replies(letter_id)
  local rows = check(db.query("SELECT * FROM letters_replies WHERE letter_id = ? ORDER BY id",
    letter_id))
  for _, r in ipairs(rows) do reply(r) end
  return rows
end

-- The reply of the letter's round that is not approved yet (a draft, in
-- review or returned), or nil.
function store.open_reply(letter_id, round)
  return reply(check(db.first("SELECT * FROM letters_replies WHERE letter_id = ? AND round = ?"
    .. " AND state <> 'approved' ORDER BY id DESC LIMIT 1", letter_id, round)))
end

function store.approved_replies(letter_id)
  local rows = check(db.query("SELECT * FROM letters_replies WHERE letter_id = ? AND"
    .. " state = 'approved' ORDER BY id", letter_id))
  for _, r in ipairs(rows) do reply(r) end
  return rows
end

function store.steps(reply_id)
  return check(db.query("SELECT step, decision, login, name, at, comment FROM letters_steps"
    .. " WHERE reply_id = ? ORDER BY id", reply_id))
end

function store.record_step(reply_id, step, decision, who, now, comment)
  check(db.exec("INSERT INTO letters_steps (reply_id, step, decision, login, name, at, comment)"
    .. " VALUES (?, ?, ?, ?, ?, ?, ?)", reply_id, step, decision, who.login, who.name or "", now,
    comment or ""))
end

function store.save_reply(l, r, body, user, now)
  if r then
    check(db.exec("UPDATE letters_replies SET body = ?, state = 'draft', created_by = ?,"
      .. " created_name = ?, updated_at = ? WHERE id = ?", body, user.login, user.name or "", now,
      r.id))
    return r.id
  end
  local changed, id, code = db.exec([[INSERT INTO letters_replies (letter_id, round, unit, body,
    state, created_by, created_name, created_at, updated_at)
    VALUES (?, ?, ?, ?, 'draft', ?, ?, ?, ?)]],
    l.id, l.round, l.unit, body, user.login, user.name or "", now, now)
  check(changed, id, code)
  return id
end

function store.set_reply(id, fields, now)
  content.set("letters_replies", id, fields, now)
end

---------------------------------------------------------------------------
-- Extensions, ratings, warnings
---------------------------------------------------------------------------

function store.extensions(letter_id)
  return check(db.query("SELECT * FROM letters_extensions WHERE letter_id = ? ORDER BY id",
    letter_id))
end

function store.pending_extension(letter_id)
  return check(db.first("SELECT * FROM letters_extensions WHERE letter_id = ? AND"
    .. " state = 'pending' ORDER BY id DESC LIMIT 1", letter_id))
end

function store.ratings(letter_id)
  return check(db.query("SELECT * FROM letters_ratings WHERE letter_id = ? ORDER BY round",
    letter_id))
end

function store.rating(letter_id, round)
  return check(db.first("SELECT * FROM letters_ratings WHERE letter_id = ? AND round = ?",
    letter_id, round))
end

--- A warning, once per letter, kind and due: true when it is new.
function store.warn(l, unit, kind, due, now)
  local changed = check(db.exec([[INSERT INTO letters_warnings (letter_id, column_path, unit,
    kind, due, at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (letter_id, kind, due) DO NOTHING]],
    l.id, l.column_path, unit, kind, due, now))
  return changed == 1
end

--- The warnings of a column for the units in `units` (a set; true: all),
-- newest first.
function store.warnings(column, units, limit)
  local rows = check(db.query([[SELECT w.*, l.title, l.state, l.due AS letter_due, l.extended
    FROM letters_warnings w JOIN letters_letters l ON l.id = w.letter_id
    WHERE w.column_path = ? ORDER BY w.id DESC LIMIT ?]], column, limit or 500))
  if units == true then return rows end
  local out = {}
  for _, r in ipairs(rows) do
    if units[r.unit] then out[#out + 1] = r end
  end
  return out
end

---------------------------------------------------------------------------
-- Lists
---------------------------------------------------------------------------

local LIST = [[SELECT id, type, title, name, contact, unit, received_at, accepted_at,
  answered_at, published_at, state, round FROM letters_letters]]

--- The published letters of the request's column, newest first: a park.page
-- page of the binding's page_size.
local PUBLIC = page.new({ order = { "published_at DESC", "id DESC" } })
function store.public_page(req)
  return PUBLIC:sized(req.config.page_size):query(req, LIST
    .. " WHERE column_path = ? AND published = 1", req.column)
end

--- Published letters of a column by ids (the search's hits).
function store.public_by_ids(column, ids)
  if #ids == 0 then return {} end
  local marks = {}
  for i = 1, #ids do marks[i] = "?" end
  local args = { column }
  for _, v in ipairs(ids) do args[#args + 1] = v end
  return check(db.query(LIST .. " WHERE column_path = ? AND published = 1 AND id IN ("
    .. table.concat(marks, ", ") .. ") ORDER BY published_at DESC, id DESC",
    table.unpack(args)))
end

--- The staff's list: the letters of a column at (or dispatched by) the
-- units in `units` (a set; true: all), in one of `states`, newest first.
function store.staff_list(column, units, states, limit)
  local marks, args = {}, { column }
  for i, s in ipairs(states) do
    marks[i] = "?"
    args[#args + 1] = s
  end
  local where = ""
  if units ~= true then
    local codes, um = {}, {}
    for u in pairs(units) do codes[#codes + 1] = u end
    if #codes == 0 then return {} end
    table.sort(codes)
    for i = 1, #codes do um[i] = "?" end
    for _ = 1, 2 do
      for _, u in ipairs(codes) do args[#args + 1] = u end
    end
    local list = table.concat(um, ", ")
    where = " AND (unit IN (" .. list .. ") OR dispatcher IN (" .. list .. "))"
  end
  args[#args + 1] = limit or 500
  return check(db.query([[SELECT id, type, title, unit, dispatcher, state, round,
    received_at, due, extended, risk, rating, answered_at FROM letters_letters
    WHERE column_path = ? AND state IN (]] .. table.concat(marks, ", ") .. ")" .. where
    .. " ORDER BY id DESC LIMIT ?", table.unpack(args)))
end

return store
