-- guides_store: the items (事项) and their versions in the plugin's tables.
-- An item is one service at its column, of one unit; each save while no
-- version is waiting in review writes its draft, each submission sends the
-- draft through the column's review chain, and the last approval makes it
-- the public version (the one before is kept, superseded). Publishing and
-- withdrawal report to the site's index (park.items, kind "guide") in the
-- same transaction, and bump the version the page cache is stamped with.
local park = require("park")
local cjson = require("cjson")
local content = require("park.content")
local fields = require("guides_fields")

local db = park.db
local check = content.check
local store = {}

local function json(v) return cjson.encode(v) end

-- A transaction, or the one already open (park.db's do not nest): an
-- import or the seed makes many items in one.
local open = false
local function tx(fn)
  if open then return fn() end
  open = true
  local r = table.pack(pcall(db.transaction, fn))
  open = false
  if not r[1] then error(r[2], 0) end
  return table.unpack(r, 2, r.n)
end
store.transaction = tx

local function decode(s, default)
  return content.decode(s, default)
end
store.decode = decode

local function bump()
  check(db.exec("UPDATE guides_meta SET value = value + 1 WHERE key = 'version'"))
  require("guides_cache").forget()
end
store.bump = bump

--- The stamp of what residents see: changes with every publishing and withdrawal.
function store.version()
  local row = db.first("SELECT value FROM guides_meta WHERE key = 'version'")
  return row and row.value or 0
end

function store.item(id)
  if not id then return nil end
  return db.first("SELECT * FROM guides_items WHERE id = ?", id)
end

-- db.exec's row id, or an error.
local function insert(sql, ...)
  local n, id, code = db.exec(sql, ...)
  check(n, id, code)
  return id
end

local function version_row(row)
  if not row then return nil end
  row.data = fields.from_json(decode(row.data, {}))
  row.chain = decode(row.chain, {})
  return row
end

function store.version_of(id)
  return version_row(db.first("SELECT * FROM guides_versions WHERE id = ?", id))
end

--- The item's newest version (the one being written or reviewed).
function store.latest(item_id)
  return version_row(db.first("SELECT * FROM guides_versions WHERE item_id = ?"
    .. " ORDER BY number DESC LIMIT 1", item_id))
end

--- The public version of an item, or nil.
function store.live(item)
  return item and item.live_version and store.version_of(item.live_version) or nil
end

--- Every version of an item, newest first, without their data.
function store.versions(item_id)
  return db.query("SELECT id, number, state, created_by, created_at, updated_at"
    .. " FROM guides_versions WHERE item_id = ? ORDER BY number DESC", item_id)
end

function store.version_number(item_id, number)
  return version_row(db.first("SELECT * FROM guides_versions WHERE item_id = ? AND number = ?",
    item_id, number))
end

function store.steps(version_id)
  return db.query("SELECT * FROM guides_steps WHERE version_id = ? ORDER BY id", version_id)
end

--- The record of all versions of an item, newest first.
function store.history(item_id)
  return db.query([[SELECT s.*, v.number FROM guides_steps s
    JOIN guides_versions v ON v.id = s.version_id WHERE v.item_id = ?
    ORDER BY s.id DESC]], item_id)
end

-- A step on record, with the name of who took it (the logged-in user's;
-- in a job, the seed's).
local function record(version_id, step, decision, login, now, comment)
  local name = "演示数据"
  if login ~= "demo" then -- the seed runs in a job, without a request to ask
    local user = park.auth.user()
    name = user and user.login == login and user.name or login
  end
  check(db.exec("INSERT INTO guides_steps (version_id, step, decision, login, name, at, comment)"
    .. " VALUES (?, ?, ?, ?, ?, ?, ?)", version_id, step, decision, login, name, now,
    comment or ""))
end

--- A new item with its first draft; returns the item's id.
function store.create(col, g, login, now)
  return check(tx(function()
    local id = insert("INSERT INTO guides_items (col, unit, name, created_by, created_at)"
      .. " VALUES (?, ?, ?, ?, ?)", col, g.unit, g.name, login, now)
    check(db.exec("INSERT INTO guides_versions (item_id, number, data, created_by, created_at,"
      .. " updated_at) VALUES (?, 1, ?, ?, ?, ?)", id, json(fields.kept(g)), login, now, now))
    return id
  end))
end

--- Save the item's draft: the newest version when it is a draft or was
-- sent back, else (published or superseded) a new version. Returns its id.
function store.save(item, g, login, now)
  return check(tx(function()
    local latest = store.latest(item.id)
    assert(latest.state ~= "review", "a version in review cannot be changed")
    local id
    if latest.state == "draft" or latest.state == "returned" then
      check(db.exec("UPDATE guides_versions SET data = ?, state = 'draft', updated_at = ?"
        .. " WHERE id = ?", json(fields.kept(g)), now, latest.id))
      id = latest.id
    else
      id = insert("INSERT INTO guides_versions (item_id, number, data, created_by,"
        .. " created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)", item.id, latest.number + 1,
        json(fields.kept(g)), login, now, now)
    end
    -- The item's unit follows its newest version; its name shown in the
    -- lists is the public version's while there is one.
    if item.published == 1 then
      check(db.exec("UPDATE guides_items SET unit = ? WHERE id = ?", g.unit, item.id))
    else
      check(db.exec("UPDATE guides_items SET unit = ?, name = ? WHERE id = ?", g.unit, g.name,
        item.id))
    end
    return id
  end))
end

function store.submit(version, chain, login, now)
  check(tx(function()
    check(db.exec("UPDATE guides_versions SET state = 'review', chain = ?, step = 1,"
      .. " waiting_since = ?, updated_at = ? WHERE id = ? AND state IN ('draft', 'returned')",
      json(chain), now, now, version.id))
    record(version.id, "editor", "submit", login, now)
  end))
end

-- The item in the site's index: its name, what search reads besides.
local function index(item, g)
  local runs = fields.runs_label(g.runs)
  local summary = ("%s · %s · 承诺 %d 个工作日%s"):format(g.kind, table.concat(g.objs, "、"),
    g.promise_days or 0, runs and (" · " .. runs) or "")
  park.items.publish({ key = tostring(item.id), column = item.col, kind = "guide",
    title = g.name, url = item.col:gsub("/$", "") .. "/" .. item.id, summary = summary,
    text = fields.search_text(g), attrs = { topic = table.concat(g.themes, "、"):sub(1, 200) } })
end

-- Make `version` the item's public version (inside a transaction).
local function publish(version, login, now)
  local item = store.item(version.item_id)
  check(db.exec("UPDATE guides_versions SET state = 'superseded', updated_at = ?"
    .. " WHERE item_id = ? AND state = 'published'", now, item.id))
  check(db.exec("UPDATE guides_versions SET state = 'published', step = 0,"
    .. " waiting_since = NULL, updated_at = ? WHERE id = ?", now, version.id))
  local g = version.data
  check(db.exec([[UPDATE guides_items SET published = 1, live_version = ?, updated_at = ?,
    name = ?, unit = ?, obj = ?, themes = ?, runs = ?, sort = ?, withdrawn_at = NULL,
    withdrawn_by = NULL, withdrawn_reason = NULL WHERE id = ?]], version.id, now, g.name, g.unit,
    fields.obj_bits(g), "|" .. table.concat(g.themes, "|") .. "|", g.runs or 9, g.name, item.id))
  record(version.id, "publish", "publish", login, now)
  item.col = item.col or version.col
  index(item, g)
  bump()
end
store.publish_now = publish

--- A step approves; past the chain's last step the version goes public.
-- Returns true when it was published.
function store.approve(version, step_name, login, now, comment)
  return check(tx(function()
    record(version.id, step_name, "approve", login, now, comment)
    if version.step >= #version.chain then
      publish(version, login, now)
      return true
    end
    check(db.exec("UPDATE guides_versions SET step = step + 1, waiting_since = ?, updated_at = ?"
      .. " WHERE id = ?", now, now, version.id))
    return false
  end))
end

function store.send_back(version, step_name, login, now, reason)
  check(tx(function()
    record(version.id, step_name, "return", login, now, reason)
    check(db.exec("UPDATE guides_versions SET state = 'returned', step = 0,"
      .. " waiting_since = NULL, updated_at = ? WHERE id = ?", now, version.id))
  end))
end

--- Take a public item off the site; the reason stays on record.
function store.withdraw(item, login, now, reason)
  check(tx(function()
    check(db.exec("UPDATE guides_items SET published = 0, withdrawn_at = ?, withdrawn_by = ?,"
      .. " withdrawn_reason = ? WHERE id = ?", now, login, reason, item.id))
    park.items.withdraw(tostring(item.id))
    record(item.live_version, "withdraw", "withdraw", login, now, reason)
    bump()
  end))
end

---------------------------------------------------------------------------
-- Staff lists
---------------------------------------------------------------------------

--- The column's items with their newest version's state, by id; `units`
-- (a set of codes) limits them, nil for all.
function store.manage_list(col)
  return db.query([[SELECT i.id, i.unit, i.name, i.published, i.updated_at, v.state, v.number,
    v.step, v.chain, v.created_by FROM guides_items i
    JOIN guides_versions v ON v.item_id = i.id
      AND v.number = (SELECT max(number) FROM guides_versions WHERE item_id = i.id)
    WHERE i.col = ? ORDER BY i.unit, i.id]], col)
end

function store.count(col)
  local row = db.first("SELECT count(*) AS n FROM guides_items WHERE col = ?", col)
  return row and row.n or 0
end

---------------------------------------------------------------------------
-- The residents' catalogue
---------------------------------------------------------------------------

local function where(col, f)
  local sql, args = { "i.col = ? AND i.published = 1" }, { col }
  if f.obj then sql[#sql + 1] = "(i.obj & ?) <> 0"; args[#args + 1] = f.obj end
  if f.unit then sql[#sql + 1] = "i.unit = ?"; args[#args + 1] = f.unit end
  if f.theme then
    sql[#sql + 1] = "instr(i.themes, ?) > 0"
    args[#args + 1] = "|" .. f.theme .. "|"
  end
  if f.once then sql[#sql + 1] = "i.runs <= 1" end
  return table.concat(sql, " AND "), args
end

--- A page of published items matching the filters f = { obj = bits,
-- unit =, theme =, once = }, by name (how many match in all: the facets').
function store.catalogue(col, f, offset, n)
  local w, args = where(col, f)
  args[#args + 1] = n
  args[#args + 1] = offset
  -- The page's ids first (unfiltered, the catalogue index alone: a deep
  -- page skips index entries, not rows), then what a catalogue line shows,
  -- not the whole guide (kind, 服务对象 and 承诺时限 read out of the
  -- version's JSON by SQLite).
  local rows = db.query("SELECT i.id, i.unit, i.name, i.obj, i.runs, i.updated_at,"
    .. " json_extract(v.data, '$.kind') AS kind, json_extract(v.data, '$.objs') AS objs,"
    .. " json_extract(v.data, '$.promise_days') AS promise_days"
    .. " FROM (SELECT i.id FROM guides_items i WHERE " .. w
    .. " ORDER BY i.sort, i.id LIMIT ? OFFSET ?) p JOIN guides_items i ON i.id = p.id"
    .. " JOIN guides_versions v ON v.id = i.live_version ORDER BY i.sort, i.id",
    table.unpack(args))
  return rows
end

--- The facets of the catalogue: the published items grouped by their keys
-- (obj, unit, themes, and whether they need at most one visit), with how
-- many share each group: a few dozen rows where there are thousands of
-- items, so that counting every facet under the other filters (in Lua)
-- costs the same at 20 items or 20,000.
function store.facets(col)
  -- In the order of guides_items_facets (003_facets.sql): one pass over the
  -- index, no sort.
  return db.query("SELECT obj, unit, themes, runs <= 1 AS once, count(*) AS n"
    .. " FROM guides_items WHERE col = ? AND published = 1 GROUP BY obj, unit, themes, runs",
    col)
end

---------------------------------------------------------------------------
-- Forms (空表, 样表)
---------------------------------------------------------------------------

function store.add_file(item_id, file_id, name, ftype, size, login, now)
  return insert("INSERT INTO guides_files (item_id, file_id, name, type, size, created_by,"
    .. " created_at) VALUES (?, ?, ?, ?, ?, ?, ?)", item_id, file_id, name, ftype, size, login, now)
end

function store.file(id)
  return id and db.first("SELECT id, item_id, file_id, name, type, size, created_at"
    .. " FROM guides_files WHERE id = ?", id)
end

return store
