-- The center's site model from outside: the site file imported and
-- exported, routing and navigation from the column tree, configs checked
-- when they are saved, and park.site closed to every plugin but the console.
local testing = require("park.testing")
local cjson = require("cjson")

local PLUGINS = { "plugins", "tests/fixtures/plugins" }

local DEMO = {
  units = {
    { code = "invest", name = "招商局" },
    { code = "social", name = "社会事务局" },
  },
  columns = {
    { path = "/gxcy", title = "高新创业", kind = "section", unit = "center" },
    { path = "/gxcy/tzgg", title = "通知公告", parent = "/gxcy", kind = "notice", unit = "invest",
      max_stale_days = 14, plugin = "sitekit", config = { label = "通知", size = 20 } },
    { path = "/gxcy/zcwj", title = "政策文件", parent = "/gxcy", kind = "policy", unit = "invest",
      plugin = "hello", enabled = false },
    { path = "/yqsh", title = "园区生活", kind = "section", unit = "center" },
    { path = "/yqsh/bsfw", title = "办事服务", parent = "/yqsh", kind = "service", unit = "social",
      plugin = "hello", config = { greeting = "您好" } },
    { path = "/yqsh/kong", title = "空栏目", parent = "/yqsh", kind = "static", unit = "social" },
  },
}

local function write(path, text)
  local f = assert(io.open(path, "w"))
  f:write(text)
  f:close()
end

local function read(path)
  local f = assert(io.open(path))
  local s = f:read("a")
  f:close()
  return s
end

describe("the site model", function()
  local site

  setup(function()
    site = testing.start_site({ plugins = PLUGINS, site = DEMO })
  end)

  teardown(function()
    assert.are.equal(0, site:stop())
  end)

  it("routes a request under a column's path to its plugin, with the column's config", function()
    local res = site:request("GET", "/gxcy/tzgg")
    assert.are.equal(200, res.status)
    local body = cjson.decode(res.body)
    assert.are.same({ label = "通知", size = 20 }, body.config)
    assert.are.equal("通知公告", body.column.title)
    assert.are.equal("invest", body.column.unit)
    assert.are.equal("招商局", body.column.unit_name)
    assert.are.equal(14, body.column.max_stale_days)
    assert.are.equal("您好", site:request("GET", "/yqsh/bsfw").body)
  end)

  it("answers 404 under a column with no enabled binding", function()
    assert.are.equal(404, site:request("GET", "/gxcy/zcwj").status)   -- disabled
    assert.are.equal(404, site:request("GET", "/yqsh/kong").status)   -- no plugin
    assert.are.equal(404, site:request("GET", "/gxcy").status)        -- a section
    assert.are.equal(404, site:request("GET", "/nowhere").status)
  end)

  it("builds the navigation from the tree: served columns and the sections above them", function()
    local nav = cjson.decode(site:request("GET", "/gxcy/tzgg").body).nav
    assert.are.equal(2, #nav)
    assert.are.equal("高新创业", nav[1].title)
    assert.is_true(nav[1].current)
    assert.are.same({ "/gxcy/tzgg" }, { nav[1].children[1].path, nav[1].children[2] })
    assert.is_true(nav[1].children[1].current)
    assert.are.equal("园区生活", nav[2].title)
    assert.is_false(nav[2].current)
    assert.are.equal(1, #nav[2].children, "the empty column is not in the navigation")
    assert.are.equal("/yqsh/bsfw", nav[2].children[1].path)
  end)

  it("lists the units, the center first, and says what an anonymous visitor may do", function()
    local body = cjson.decode(site:request("GET", "/gxcy/tzgg").body)
    assert.are.same({ "center", "invest", "social" },
      { body.units[1].code, body.units[2].code, body.units[3].code })
    assert.is_true(body.units[1].center)
    assert.is_false(body.can_view)
    assert.is_false(body.can_admin)
  end)

  it("shows a plugin its own columns' bindings, and not another plugin's config", function()
    local body = cjson.decode(site:request("GET", "/gxcy/tzgg").body)
    assert.are.same({ plugin = "sitekit", enabled = true, config = { label = "通知", size = 20 } },
      body.own_binding)
    assert.is_false(body.other_binding)
  end)

  it("keeps park.site's changes to the admin console: another plugin raises", function()
    for _, fn in ipairs({ "unit_put", "bind", "unbind", "column_put", "users", "grant",
                          "disable", "passwd", "audit" }) do
      local res = site:request("POST", "/gxcy/tzgg/escalate",
        { ["Content-Type"] = "application/x-www-form-urlencoded" }, "fn=" .. fn)
      assert.are.equal(500, res.status, fn)
      site:wait_log_match("park%.site%." .. fn .. " is for the admin console only")
    end
    local out = site:command("unit", "list")
    assert.falsy(out:find("evil", 1, true))
  end)
end)

describe("parkhost site import", function()
  local dir

  before_each(function()
    dir = os.tmpname()
    os.remove(dir)
    os.execute("mkdir -p " .. dir)
  end)

  after_each(function()
    os.execute("rm -rf " .. dir)
  end)

  local function import(site, text)
    write(dir .. "/site.lua", text)
    return site:command("site", "import", dir .. "/site.lua")
  end

  it("refuses a bad config, an unknown plugin or a bad column, naming the entry, and keeps "
    .. "nothing", function()
    local site = testing.start_site({ plugins = PLUGINS })
    finally(function() site:stop() end)
    local cases = {
      { 'plugin = "sitekit", config = { size = 500 }', "columns%[2%] %(/b%): 配置项“size”：不能"
        .. "大于 50" },
      { 'plugin = "sitekit", config = { sise = 5 }', "没有配置项“sise”" },
      { 'plugin = "sitekit", config = { size = "5" }', "配置项“size”：应为整数，不能是文字" },
      { 'plugin = "nosuch"', "no plugin named 'nosuch' is loaded" },
      { 'parent = "/zz"', "columns%[2%] %(/b%): parent: there is no column /zz" },
    }
    for _, case in ipairs(cases) do
      local out, ok = import(site, ([[return { units = { { code = "u1", name = "单位" } },
        columns = { { path = "/a", title = "甲", kind = "static", unit = "u1" },
                    { path = "/b", title = "乙", kind = "static", unit = "u1", %s } } }]])
        :format(case[1]))
      assert.is_false(ok, case[1])
      assert.matches(case[2], out)
      assert.matches("nothing was imported", out)
    end
    local out = site:command("site", "export")
    assert.falsy(out:find('"u1"', 1, true), "nothing of a refused file is kept")
    assert.falsy(out:find('"/a"', 1, true))
  end)

  it("reports a site file that is not Lua with its file and line", function()
    local site = testing.start_site({ plugins = PLUGINS })
    finally(function() site:stop() end)
    local out, ok = import(site, "return {\n  columns = {\n    { path = '/a' \n")
    assert.is_false(ok)
    assert.matches("site%.lua:4: '}' expected", out)
    out, ok = import(site, "return { colums = {} }")
    assert.is_false(ok)
    assert.matches("unknown field 'colums'", out)
  end)

  it("gives the same site after import, export and import into a new database", function()
    local first = testing.start_site({ plugins = PLUGINS, site = DEMO })
    local second
    finally(function()
      first:stop()
      if second then second:stop() end
    end)
    local out, ok = first:command("site", "export", dir .. "/a.lua")
    assert.is_true(ok, out)
    local a = read(dir .. "/a.lua")
    assert.truthy(a:find('title = "通知公告"', 1, true), a)
    assert.truthy(a:find('config = { label = "通知", size = 20 }', 1, true), a)
    assert.truthy(a:find("enabled = false", 1, true), a)
    assert.falsy(a:find("password", 1, true))
    second = testing.start_site({ plugins = PLUGINS, site = dir .. "/a.lua" })
    out, ok = second:command("site", "export", dir .. "/b.lua")
    assert.is_true(ok, out)
    assert.are.equal(a, read(dir .. "/b.lua"))
    assert.are.equal("您好", second:request("GET", "/yqsh/bsfw").body)
    -- Each change is on record; importing the same file again changes
    -- nothing, and records nothing.
    local function changes()
      local log = second:command("audit", "--action", "column.")
      return select(2, log:gsub("column%.put", ""))
    end
    assert.are.equal(#DEMO.columns, changes())
    out, ok = second:command("site", "import", dir .. "/a.lua")
    assert.is_true(ok, out)
    second:command("site", "export", dir .. "/c.lua")
    assert.are.equal(a, read(dir .. "/c.lua"))
    assert.are.equal(#DEMO.columns, changes())
  end)
end)

describe("a binding whose plugin is gone", function()
  it("leaves its column answering 404 and says why in the log", function()
    local dir = os.tmpname()
    os.remove(dir)
    os.execute("mkdir -p " .. dir .. " && cp -r tests/fixtures/plugins/sitekit " .. dir)
    local site = testing.start_site({ plugins = { "plugins", dir, "tests/fixtures/impostor" },
                                      site = DEMO })
    finally(function()
      site:stop()
      os.execute("rm -rf " .. dir)
    end)
    assert.are.equal(200, site:request("GET", "/gxcy/tzgg").status)
    site:halt()
    os.execute("rm -rf " .. dir .. "/sitekit")
    site:restart()
    site:wait_log_match("column /gxcy/tzgg is not served: no plugin named 'sitekit' is loaded")
    assert.are.equal(404, site:request("GET", "/gxcy/tzgg").status)
    assert.are.equal("您好", site:request("GET", "/yqsh/bsfw").body)
    -- A plugin cannot take the console's name.
    site:wait_log_match("plugin admin in tests/fixtures/impostor not loaded: a plugin of that "
      .. "name is already loaded")
    assert.are_not.equal("impostor", site:request("GET", "/admin/").body)
  end)
end)
