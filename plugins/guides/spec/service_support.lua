-- What the service half's specs (rate_spec, cases_spec) add to support.lua:
-- their staff (the units' webmasters, who manage import keys) and a column
-- of 人才办 besides; published items put straight into the test database
-- (a guides_items row and its published version, which the core half's
-- item page shows); the park's calendar; a resident's rating.
local support = require("support")

local service = setmetatable({}, { __index = support })

-- login, unit, role, name
service.STAFF = {
  { "cwm", "center", "webmaster", "中心网站管理员" },
  { "sed", "social", "editor", "社会事务局编辑" },
  { "ied", "invest", "editor", "招商局编辑" },
  { "iwm", "invest", "webmaster", "招商局网站管理员" },
  { "ted", "talent", "editor", "人才办编辑" },
  { "twm", "talent", "webmaster", "人才办网站管理员" },
}

--- A site with the guides plugin on /bszn (config `config`), a column for
-- each unit, and service.STAFF logged in: site, browsers by login.
function service.start(config)
  return support.start(config, { { path = "/rcb", title = "人才办", kind = "static",
    unit = "talent" } }, { staff = service.STAFF })
end

local function q(s) return "'" .. tostring(s):gsub("'", "''") .. "'" end

--- A published item of `unit` named `name`, written straight into the
-- database (a guides_items row and its public version): its id.
function service.item(site, name, unit)
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
function service.today()
  return os.date("!%Y-%m-%d", os.time() + 8 * 3600)
end

--- `n` working days after `date`, by the park's calendar (the command).
function service.add_days(site, date, n)
  local out = site:command("calendar", "add", date, tostring(n))
  return assert(out:match("(%d%d%d%d%-%d%d%-%d%d)%s*$"), out)
end

--- A resident's browser rates item `id`: the response.
function service.rate(site, id, stars, comment, browser)
  browser = browser or site:browser()
  local page = browser:get(support.COLUMN .. "/" .. id)
  assert(page.status == 200, page.body)
  return browser:post(support.COLUMN .. "/rate/" .. id, { stars = tostring(stars),
    comment = comment }), browser
end

return service
