-- What the guides' specs share: a site with the park's units, the guides
-- plugin bound to /bszn (a column of 社会事务局) and the staff logged in;
-- a complete guide as the edit form posts it; the staff's steps; reads and
-- writes of the test database (sqlite3) to check what the pages say. The
-- service half's specs add theirs in service_support.lua.
local testing = require("park.testing")

local support = {}

support.COLUMN = "/bszn"

support.UNITS = { { code = "invest", name = "招商局" }, { code = "social", name = "社会事务局" },
                  { code = "talent", name = "人才办" } }

-- login, unit, role, name
support.STAFF = {
  { "cwm", "center", "webmaster", "中心网站管理员" },
  { "crv", "center", "reviewer", "中心审核员" },
  { "sed", "social", "editor", "社会事务局编辑" },
  { "srv", "social", "reviewer", "社会事务局审核员" },
  { "sld", "social", "leader", "社会事务局领导" },
  { "ied", "invest", "editor", "招商局编辑" },
  { "irv", "invest", "reviewer", "招商局审核员" },
  { "ild", "invest", "leader", "招商局领导" },
  { "ted", "talent", "editor", "人才办编辑" },
}

function support.has(body, s) return body:find(s, 1, true) ~= nil end

--- A site with guides on /bszn (config merged over { page_cache = false }),
-- more `columns`, the staff (opts.staff, default support.STAFF) logged in:
-- site, browsers by login. opts.args: more flags of the server.
function support.start(config, columns, opts)
  opts = opts or {}
  local cfg = { page_cache = false }
  for k, v in pairs(config or {}) do cfg[k] = v end
  local cols = {
    { path = support.COLUMN, title = "办事指南", kind = "service", unit = "social",
      plugin = "guides", config = cfg },
    { path = "/zsj", title = "招商局", kind = "static", unit = "invest" },
  }
  for _, c in ipairs(columns or {}) do cols[#cols + 1] = c end
  local site = testing.start_site({ plugins = { "plugins" }, args = opts.args,
    site = { units = support.UNITS, columns = cols } })
  local b = {}
  for _, s in ipairs(opts.staff or support.STAFF) do
    site:add_user(s[1], s[2], s[3], s[4], s[1] .. "-password")
    b[s[1]] = site:browser():login(s[1], s[1] .. "-password")
  end
  return site, b
end

--- The fields of the edit form for a complete guide of `unit`, with
-- `changes` (false removes a field).
function support.guide(unit, changes)
  local f = {
    name = "生育登记", kind = "公共服务", objs = "个人", themes = "生育收养", unit = unit or "social",
    basis = "《中华人民共和国人口与计划生育法》 https://www.example.gov.cn/law\n《母婴保健法》",
    conditions = "夫妻一方户籍在园区。",
    m_name_1 = "居民身份证", m_copies_1 = "1", m_form_1 = "原件", m_required_1 = "1",
    m_note_1 = "",
    address = "创新大道 88 号", hall = "政务服务中心", window = "12 号窗口",
    hours = "工作日 9:00—17:00", phone_ask = "0512-66880212", phone_complain = "0512-12345",
    steps = "1. 网上申请\n2. 核验\n3. 办结", legal_days = "5", promise_days = "1", runs = "0",
    fee = "不收费", depth = "4", online_url = "https://zwfw.example.gov.cn/demo/sydj",
    faq_q_1 = "需要本人到场吗？", faq_a_1 = "不需要。", action = "save",
  }
  for k, v in pairs(changes or {}) do
    if v == false then f[k] = nil else f[k] = v end
  end
  return f
end

--- Post the edit form (new when id is nil): the response.
function support.post_guide(browser, id, fields, files)
  local path = support.COLUMN .. "/manage/" .. (id and (id .. "/edit") or "new")
  browser:get(path)
  return browser:post(path, fields, nil, files)
end

--- Create a guide and return its id (the form must be accepted).
function support.create(browser, fields, files)
  local res = support.post_guide(browser, nil, fields, files)
  assert(res.status == 303, ("create: %d\n%s"):format(res.status,
    res.body:match('<div class="alert".-</div>') or res.body))
  return math.tointeger(tonumber(res.headers.location:match("/manage/(%d+)$")))
end

--- A staff step that must work (303 back to the item).
function support.act(browser, id, step, fields)
  local base = support.COLUMN .. "/manage/" .. id
  browser:get(base)
  local res = browser:post(base .. "/" .. step, fields or {})
  assert(res.status == 303, ("POST %s/%s: %d\n%s"):format(base, step, res.status,
    res.body:match('<div class="alert".-</div>') or res.body:match("<main.-</main>") or res.body))
  return res
end

--- Create, submit and pass the review chain ({ "review" } by default:
-- one reviewer of the unit): the item's id.
function support.publish(b, editor, reviewer, fields)
  local id = support.create(b[editor], fields)
  support.act(b[editor], id, "submit")
  support.act(b[reviewer], id, "decide", { decision = "approve" })
  return id
end

local function sh(s) return "'" .. s:gsub("'", "'\\''") .. "'" end

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

--- The text of a page without its tags, white space collapsed.
function support.text(body)
  return (body:gsub("<[^>]*>", " "):gsub("&nbsp;", " "):gsub("%s+", " "))
end

return support
