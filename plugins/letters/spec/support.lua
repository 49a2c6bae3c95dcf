-- What the letters' specs share: a site with the park's units and staff
-- logged in, a resident writing a letter through the form, the staff's
-- steps, and reads of the test database (sqlite3) to check the pages.
local testing = require("park.testing")

local support = {}

support.UNITS = { { code = "invest", name = "招商局" }, { code = "social", name = "社会事务局" },
                  { code = "talent", name = "人才办" } }

-- login, unit, role, name
support.STAFF = {
  { "cd", "center", "editor", "中心分办员" },
  { "crv", "center", "reviewer", "中心审核员" },
  { "cwm", "center", "webmaster", "中心网站管理员" },
  { "ied", "invest", "editor", "招商局编辑" },
  { "irv", "invest", "reviewer", "招商局审核员" },
  { "ild", "invest", "leader", "招商局领导" },
  { "iwm", "invest", "webmaster", "招商局网站管理员" },
  { "sed", "social", "editor", "社会事务局编辑" },
  { "sld", "social", "leader", "社会事务局领导" },
}

function support.has(body, s) return body:find(s, 1, true) ~= nil end

--- Today in the park's zone (UTC+8), whatever the test machine's zone.
function support.today(offset_days)
  return os.date("!%Y-%m-%d", os.time() + 8 * 3600 + (offset_days or 0) * 86400)
end

--- A site with `columns` (letters bindings: { path =, title =, unit =,
-- config = }), the staff logged in: site, browsers by login.
function support.start(columns, opts)
  local cols = {}
  for i, c in ipairs(columns) do
    cols[i] = { path = c.path, title = c.title, kind = "interaction", unit = c.unit or "center",
                plugin = "letters", config = c.config }
  end
  local site = testing.start_site({ plugins = { "plugins" }, args = opts and opts.args,
    site = { units = support.UNITS, columns = cols, settings = opts and opts.settings } })
  local b = {}
  for _, s in ipairs(support.STAFF) do
    site:add_user(s[1], s[2], s[3], s[4], s[1] .. "-password")
    b[s[1]] = site:browser():login(s[1], s[1] .. "-password")
  end
  return site, b
end

--- Log the staff in again (after a restart, sessions live on, but the
-- browsers' CSRF tokens are fetched again).
function support.relogin(site, b)
  for _, s in ipairs(support.STAFF) do
    b[s[1]] = site:browser():login(s[1], s[1] .. "-password")
  end
end

--- A resident writes to `column`: the response, its 查询码, 查询密码 and
-- due date, and the browser.
function support.write(site, column, fields, files, resident)
  resident = resident or site:browser()
  local page = resident:get(column .. "/write")
  assert(page.status == 200, page.body)
  local all = { _nonce = page.body:match('name="_nonce" value="([^"]+)"'), publish = "1" }
  for k, v in pairs(fields) do all[k] = v end
  local res = resident:post(column .. "/write", all, nil, files)
  return res, res.body:match('id="query%-code">(%d+)<'),
    res.body:match('id="query%-secret">(%w+)<'),
    res.body:match('id="due">([%d-]+)<'), resident, all._nonce
end

--- The status page of a letter for whoever holds its code and secret.
function support.status(site, column, code, secret)
  local r = site:browser()
  r:get(column .. "/status")
  return r:post(column .. "/status", { code = code, secret = secret }), r
end

--- The letter id of a 查询码, from the staff's queue.
function support.id_of(site, code)
  return math.tointeger(tonumber(support.sql(site,
    "SELECT id FROM letters_letters WHERE query_code = '" .. code .. "'")))
end

--- A staff step that must work (303 back to the letter).
function support.act(browser, path, fields)
  browser:get(path:match("^(.*/manage/%d+)"))
  local res = browser:post(path, fields or {})
  assert(res.status == 303, ("POST %s: %d\n%s"):format(path, res.status,
    res.body:match('<div class="alert".-</div>') or res.body:match("<main.-</main>") or res.body))
  return res
end

--- One value (the first column of the first row) of a query on the site's
-- database, read with the sqlite3 command while the server runs; `rows`
-- for every row, each a list of fields.
function support.sql(site, query)
  local rows = support.rows(site, query)
  return rows[1] and rows[1][1]
end

local function sh(s) return "'" .. s:gsub("'", "'\\''") .. "'" end

function support.rows(site, query)
  local p = assert(io.popen(("sqlite3 -readonly -ascii %s %s"):format(sh(site.db_path),
    sh(query))))
  local out = p:read("a")
  p:close()
  local rows = {}
  for line in out:gmatch("([^\30]*)\30") do
    local row = {}
    for field in (line .. "\31"):gmatch("([^\31]*)\31") do row[#row + 1] = field end
    rows[#rows + 1] = row
  end
  return rows
end

--- `n` working days after `date`, by the park's calendar (the command).
function support.add_days(site, date, n)
  local out = site:command("calendar", "add", date, tostring(n))
  return assert(out:match("(%d%d%d%d%-%d%d%-%d%d)%s*$"), out)
end

return support
