-- What the service half's specs (rate_spec, cases_spec) share: a site with
-- the guides plugin bound to /bszn (a column of 社会事务局) and the park's
-- staff logged in, published items put straight into the test database
-- (sqlite3, as plugins/letters/spec/support.lua reads it: a guides_items
-- row and its published version, which the core half's item page shows),
-- and reads of it.
local testing = require("park.testing")

local support = {}

support.COLUMN = "/bszn"

support.UNITS = { { code = "invest", name = "招商局" }, { code = "social", name = "社会事务局" },
                  { code = "talent", name = "人才办" } }

-- login, unit, role, name
support.STAFF = {
  { "cwm", "center", "webmaster", "中心网站管理员" },
  { "sed", "social", "editor", "社会事务局编辑" },
  { "ied", "invest", "editor", "招商局编辑" },
  { "iwm", "invest", "webmaster", "招商局网站管理员" },
  { "ted", "talent", "editor", "人才办编辑" },
  { "twm", "talent", "webmaster", "人才办网站管理员" },
}

function support.has(body, s) return body:find(s, 1, true) ~= nil end

local function sh(s) return "'" .. s:gsub("'", "'\\''") .. "'" end

--- A site with the guides plugin on /bszn (config `config`), a column for
-- each unit, and the staff logged in: site, browsers by login.
function support.start(config)
  local cfg = { page_cache = false }
  for k, v in pairs(config or {}) do cfg[k] = v end
  local site = testing.start_site({ plugins = { "plugins" },
    site = { units = support.UNITS, columns = {
      { path = support.COLUMN, title = "办事指南", kind = "service", unit = "social",
        plugin = "guides", config = cfg },
      { path = "/zsj", title = "招商局", kind = "static", unit = "invest" },
      { path = "/rcb", title = "人才办", kind = "static", unit = "talent" },
    } } })
  local b = {}
  for _, s in ipairs(support.STAFF) do
    site:add_user(s[1], s[2], s[3], s[4], s[1] .. "-password")
    b[s[1]] = site:browser():login(s[1], s[1] .. "-password")
  end
  return site, b
end

--- Run SQL on the test database with the sqlite3 command (writes too).
function support.exec(site, sql)
  local p = assert(io.popen(("sqlite3 -cmd '.timeout 5000' %s %s 2>&1"):format(sh(site.db_path),
    sh(sql))))
  local out = p:read("a")
  p:close()
  return out
end

--- Rows of a query: each a list of fields (as text).
function support.rows(site, query)
  local out
  for _ = 1, 5 do -- a read that meets the server's write (busy) is tried again
    local p = assert(io.popen(("sqlite3 -cmd '.timeout 5000' -readonly -ascii %s %s 2>/dev/null")
      :format(sh(site.db_path), sh(query))))
    out = p:read("a")
    if p:close() then break end
    out = ""
  end
  local rows = {}
  for line in out:gmatch("([^\30]*)\30") do
    local row = {}
    for field in (line .. "\31"):gmatch("([^\31]*)\31") do row[#row + 1] = field end
    rows[#rows + 1] = row
  end
  return rows
end

function support.sql(site, query)
  local rows = support.rows(site, query)
  return rows[1] and rows[1][1]
end

local function q(s) return "'" .. tostring(s):gsub("'", "''") .. "'" end

--- A published item of `unit` named `name`, written straight into the
-- database (a guides_items row and its public version): its id.
function support.item(site, name, unit)
  local data = ('{"name":%s,"unit":%s,"kind":"行政许可","objs":["个人"],"themes":[],'
    .. '"materials":[],"promise_days":5,"legal_days":20,"runs":0}'):format(
    '"' .. name .. '"', '"' .. unit .. '"')
  local out = support.exec(site, ([[
BEGIN IMMEDIATE;
INSERT INTO guides_items (col, unit, name, published, sort, created_by, created_at)
  VALUES (%s, %s, %s, 1, %s, 'spec', strftime('%%s','now'));
INSERT INTO guides_versions (item_id, number, data, state, created_by, created_at, updated_at)
  VALUES (last_insert_rowid(), 1, %s, 'published', 'spec', strftime('%%s','now'),
    strftime('%%s','now'));
UPDATE guides_items SET live_version = last_insert_rowid(), updated_at = strftime('%%s','now')
  WHERE id = (SELECT max(id) FROM guides_items);
COMMIT;
SELECT max(id) FROM guides_items;]]):format(q(support.COLUMN), q(unit), q(name), q(name),
    q(data)))
  return assert(math.tointeger(tonumber(out:match("(%d+)%s*$"))), out)
end

--- Today in the park's zone (UTC+8).
function support.today()
  return os.date("!%Y-%m-%d", os.time() + 8 * 3600)
end

--- `n` working days after `date`, by the park's calendar (the command).
function support.add_days(site, date, n)
  local out = site:command("calendar", "add", date, tostring(n))
  return assert(out:match("(%d%d%d%d%-%d%d%-%d%d)%s*$"), out)
end

--- A resident's browser rates item `id`: the response.
function support.rate(site, id, stars, comment, browser)
  browser = browser or site:browser()
  local page = browser:get(support.COLUMN .. "/" .. id)
  assert(page.status == 200, page.body)
  return browser:post(support.COLUMN .. "/rate/" .. id, { stars = tostring(stars),
    comment = comment }), browser
end

return support
