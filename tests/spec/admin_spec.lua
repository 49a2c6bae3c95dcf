-- The admin console at /admin (lualib/admin): who may reach what, CSRF,
-- sessions, config forms generated from a plugin's schema with the core's
-- validation errors shown in them, the audit log, and bindings served at once.
local testing = require("park.testing")

local SITE = {
  units = {
    { code = "invest", name = "招商局" },
    { code = "social", name = "社会事务局" },
  },
  columns = {
    { path = "/gxcy", title = "高新创业", kind = "section", unit = "center" },
    { path = "/gxcy/tzgg", title = "通知公告", parent = "/gxcy", kind = "notice",
      unit = "invest", max_stale_days = 14,
      plugin = "hello", enabled = true, config = { greeting = "你好" } },
    { path = "/gxcy/shsw", title = "社会事务", parent = "/gxcy", kind = "news",
      unit = "social", plugin = "hello", enabled = true, config = { greeting = "社会事务" } },
  },
}

-- One account per role; the password is "<login>-password".
local STAFF = {
  { "admin", "center", "admin", "管理员" },
  { "wm-invest", "invest", "webmaster", "招商网管" },
  { "ed-invest", "invest", "editor", "招商编辑" },
  { "rv-invest", "invest", "reviewer", "招商审核" },
  { "ld-invest", "invest", "leader", "招商领导" },
  { "wm-social", "social", "webmaster", "社会网管" },
}

local function password(login) return login .. "-password" end

local function start(args)
  local site = testing.start_site({ plugins = { "plugins", "tests/fixtures/plugins" },
                                    site = SITE, args = args })
  for _, s in ipairs(STAFF) do site:add_user(s[1], s[2], s[3], s[4], password(s[1])) end
  return site
end

local function encode(s)
  return (tostring(s):gsub("[^%w%-_%.~]", function(c) return ("%%%02X"):format(c:byte()) end))
end

local function plain(body, s)
  return body:find(s, 1, true) ~= nil
end

-- A browser (park.testing): keeps its cookies and the last CSRF token.
local function browser(site)
  return site:browser()
end

-- Logs a browser in through the console's own form; returns the browser
-- holding its session and a fresh token (the token changes at login).
local function login(site, who, pw)
  local b = browser(site)
  assert.are.equal(200, b:get("/admin/login").status)
  local res = b:post("/admin/login", { login = who, password = pw or password(who) })
  assert.are.equal(303, res.status, res.body)
  assert.are.equal("/admin/", res.headers.location)
  assert.truthy(b.jar.ph_session, "a session cookie")
  assert.are.equal(200, b:get("/admin/").status)
  return b
end

---------------------------------------------------------------------------
-- Who may reach what
---------------------------------------------------------------------------

local ALL = { "admin", "wm-invest", "ed-invest", "rv-invest", "ld-invest", "wm-social" }
local ADMIN = { "admin" }
local TZGG = { "admin", "wm-invest" }
local SHSW = { "admin", "wm-social" }

local function bind_form(path, greeting)
  return { path = path, plugin = "hello", enabled = "1", ["cfg.greeting"] = greeting }
end

-- { method, path, who may, form }. Run role by role in this order, so a
-- binding removed is bound again by the next case.
local CASES = {
  { "GET", "/admin/", ALL },
  { "GET", "/admin/login", ALL },
  { "GET", "/admin/columns", ALL },
  { "GET", "/admin/units", ADMIN },
  { "POST", "/admin/units", ADMIN, { code = "invest", name = "招商局" } },
  { "GET", "/admin/columns/new", ADMIN },
  { "GET", "/admin/columns/new?parent=%2Fgxcy", ADMIN },
  { "POST", "/admin/columns", ADMIN, { path = "/matrix", title = "矩阵", kind = "static",
                                       unit = "center", parent = "" } },
  { "GET", "/admin/columns/edit?path=%2Fgxcy%2Ftzgg", ADMIN },
  { "POST", "/admin/columns/edit", ADMIN, { path = "/gxcy/tzgg", title = "通知公告",
      kind = "notice", unit = "invest", parent = "/gxcy", position = "", max_stale_days = "14" } },
  { "GET", "/admin/bindings?path=%2Fgxcy%2Ftzgg", TZGG },
  { "GET", "/admin/bindings?path=%2Fgxcy%2Ftzgg&plugin=apikit", TZGG },
  { "POST", "/admin/bindings/remove", TZGG, { path = "/gxcy/tzgg" } },
  { "POST", "/admin/bindings", TZGG, bind_form("/gxcy/tzgg", "你好") },
  { "GET", "/admin/bindings?path=%2Fgxcy%2Fshsw", SHSW },
  { "POST", "/admin/bindings/remove", SHSW, { path = "/gxcy/shsw" } },
  { "POST", "/admin/bindings", SHSW, bind_form("/gxcy/shsw", "社会事务") },
  { "GET", "/admin/bindings?path=%2Fgxcy", ADMIN },
  { "GET", "/admin/users", ADMIN },
  { "POST", "/admin/users", ADMIN, { login = "matrix", name = "矩阵", password = "matrix-password",
                                     unit = "invest", role = "editor" } },
  { "GET", "/admin/users/matrix", ADMIN },
  { "POST", "/admin/users/matrix", ADMIN, { op = "enable" } },
  { "GET", "/admin/audit", ADMIN },
  { "GET", "/admin/audit?action=auth.&actor=user%3Aadmin", ADMIN },
}

local function includes(list, x)
  for _, v in ipairs(list) do if v == x then return true end end
  return false
end

describe("the admin console", function()
  local site
  local as = {}

  setup(function()
    site = start()
    for _, s in ipairs(STAFF) do as[s[1]] = login(site, s[1]) end
  end)

  teardown(function()
    assert.are.equal(0, site:stop())
  end)

  it("lets each role reach exactly what its permissions allow", function()
    for _, who in ipairs(ALL) do
      local b = as[who]
      for _, c in ipairs(CASES) do
        local method, path, allowed, fields = c[1], c[2], c[3], c[4]
        local res = method == "GET" and b:get(path) or b:post(path, fields)
        local want = not includes(allowed, who) and 403 or method == "GET" and 200 or 303
        assert.are.equal(want, res.status, ("%s %s as %s:\n%s"):format(method, path, who, res.body))
        if want == 403 then assert.truthy(plain(res.body, "没有权限")) end
      end
    end
    -- The bindings survived the round trip.
    assert.are.equal("你好", site:request("GET", "/gxcy/tzgg").body)
    assert.are.equal("社会事务", site:request("GET", "/gxcy/shsw").body)
  end)

  it("sends a visitor who is not logged in to the login page and refuses its posts", function()
    local b = browser(site)
    assert.are.equal(200, b:get("/admin/login").status)
    for _, c in ipairs(CASES) do
      local method, path, _, fields = c[1], c[2], c[3], c[4]
      if method == "GET" and path ~= "/admin/login" then
        local res = b:get(path)
        assert.are.equal(303, res.status, path)
        assert.are.equal("/admin/login?next=" .. encode(path), res.headers.location)
      elseif method == "POST" then
        assert.are.equal(403, b:post(path, fields).status, path)
      end
    end
    -- The login goes back where it was asked for.
    local res = b:post("/admin/login", { login = "admin", password = password("admin"),
                                         next = "/admin/users" })
    assert.are.equal(303, res.status)
    assert.are.equal("/admin/users", res.headers.location)
  end)

  it("goes only to local paths after a login", function()
    local b0 = browser(site)
    b0:get("/admin/login")
    local res0 = b0:post("/admin/login", { login = "ld-invest", password = password("ld-invest"),
                                           next = "/gxcy/tzgg/manage" })
    assert.are.equal("/gxcy/tzgg/manage", res0.headers.location, "a plugin's staff page")
    for _, target in ipairs({ "//evil.example/admin/", "https://evil.example/admin/",
                              "/admin//evil.example", "elsewhere", "/\\evil.example" }) do
      local b = browser(site)
      b:get("/admin/login?next=" .. encode(target))
      local res = b:post("/admin/login", { login = "ld-invest", password = password("ld-invest"),
                                           next = target })
      assert.are.equal(303, res.status)
      assert.are.equal("/admin/", res.headers.location, target)
    end
  end)

  it("shows the login form again after a wrong password, without the password", function()
    local b = browser(site)
    b:get("/admin/login")
    local res = b:post("/admin/login", { login = "rv-invest", password = "not-the-password-1" })
    assert.are.equal(401, res.status)
    assert.truthy(plain(res.body, "用户名或密码错误"))
    assert.truthy(plain(res.body, 'role="alert"'))
    assert.truthy(plain(res.body, 'value="rv-invest"'))
    assert.falsy(plain(res.body, "not-the-password-1"))
    assert.is_nil(b.jar.ph_session)
    -- Logged in, the login page says so.
    local page = as["rv-invest"]:get("/admin/login")
    assert.are.equal(200, page.status)
    assert.truthy(plain(page.body, "已登录"))
  end)

  it("serves accessible pages whose navigation follows the permissions", function()
    local res = as.admin:get("/admin/columns")
    assert.are.equal(200, res.status)
    local body = res.body
    for _, s in ipairs({ '<html lang="zh-CN">', 'name="viewport"', "跳到主要内容",
                         '<main id="main"', '<nav aria-label="管理导航">',
                         "<title>栏目 - 网站管理后台</title>", '<th scope="col">',
                         'href="/admin/columns" aria-current="page"', "新建栏目",
                         'href="/admin/units"', 'href="/admin/users"', 'href="/admin/audit"',
                         "/static/admin/admin.css", "最长更新间隔(天)", "通知公告",
                         "/gxcy/shsw", "/admin/bindings?path=%2Fgxcy%2Fshsw" }) do
      assert.truthy(plain(body, s), s)
    end
    assert.falsy(body:find("<script", 1, true))
    -- Every control has a label.
    for _, page in ipairs({ "/admin/columns/new", "/admin/users", "/admin/units",
                            "/admin/bindings?path=%2Fgxcy%2Ftzgg", "/admin/audit" }) do
      local html = as.admin:get(page).body
      for tag in html:gmatch("<input[^>]*>") do
        if not tag:find('type="hidden"', 1, true) then
          local id = tag:match('id="([^"]+)"')
          assert.truthy(id and plain(html, 'for="' .. id .. '"'), page .. ": " .. tag)
        end
      end
      for tag in html:gmatch("<select[^>]*>") do
        local id = tag:match('id="([^"]+)"')
        assert.truthy(id and plain(html, 'for="' .. id .. '"'), page .. ": " .. tag)
      end
    end
    -- An editor of invest sees its own column only, and no admin links.
    body = as["ed-invest"]:get("/admin/columns").body
    assert.truthy(plain(body, "/gxcy/tzgg"))
    assert.falsy(plain(body, "/gxcy/shsw"))
    assert.falsy(plain(body, 'href="/admin/units"'))
    assert.falsy(plain(body, "新建栏目"))
    assert.falsy(plain(body, "/admin/bindings?"))
    -- Its webmaster may bind it.
    body = as["wm-invest"]:get("/admin/columns").body
    assert.truthy(plain(body, "/admin/bindings?path=%2Fgxcy%2Ftzgg"))
    assert.falsy(plain(body, "/admin/columns/edit"))
    -- The dashboard: who I am, my columns.
    body = as["wm-invest"]:get("/admin/").body
    assert.truthy(plain(body, "招商网管"))
    assert.truthy(plain(body, "网站管理员@招商局"))
    assert.truthy(plain(body, "/gxcy/tzgg"))
    assert.falsy(plain(body, "/gxcy/shsw"))
    -- The stylesheet.
    local css = site:request("GET", "/static/admin/admin.css")
    assert.are.equal(200, css.status)
    assert.matches("text/css", css.headers["content-type"])
  end)

  it("escapes what staff typed", function()
    local res = as.admin:post("/admin/units", { code = "xss", name = "<b>粗</b>\"'" })
    assert.are.equal(303, res.status)
    local body = as.admin:get("/admin/units").body
    assert.truthy(plain(body, "&lt;b&gt;粗&lt;/b&gt;&quot;&#39;"))
    assert.falsy(plain(body, "<b>粗</b>"))
  end)

  it("refuses a post without the page's CSRF token and changes nothing", function()
    local b = as.admin
    local other = as["wm-invest"].token
    assert.are.equal(403, b:post("/admin/units", { code = "csrf1", name = "伪造一" }, false).status)
    assert.are.equal(403, b:post("/admin/units", { code = "csrf2", name = "伪造二" },
      ("x"):rep(43)).status)
    assert.are.equal(403, b:post("/admin/units", { code = "csrf3", name = "伪造三" }, other).status)
    assert.are.equal(403, b:post("/admin/bindings", bind_form("/gxcy/tzgg", "被改了"), false).status)
    local body = b:get("/admin/units").body
    assert.falsy(plain(body, "csrf1"))
    assert.falsy(plain(body, "csrf2"))
    assert.falsy(plain(body, "csrf3"))
    assert.are.equal("你好", site:request("GET", "/gxcy/tzgg").body)
    site:wait_log_match("csrf: .*refused")
    -- A login posted from a page left open too long: the form again, the
    -- login kept, never the password, nobody logged in.
    local late = site:browser()
    late:get("/admin/login")
    late.jar = {}
    local res = late:post("/admin/login", { login = "admin", password = "a-secret-typed-once" })
    assert.are.equal(403, res.status)
    assert.truthy(plain(res.body, "页面已过期"), res.body)
    assert.truthy(plain(res.body, 'value="admin"'))
    assert.falsy(plain(res.body, "a-secret-typed-once"))
    assert.are.equal(303, late:get("/admin/").status)
  end)

  it("ends the session at logout: the old cookie goes back to the login page", function()
    local b = login(site, "ed-invest")
    local old = b:cookie()
    local res = b:post("/admin/logout", {})
    assert.are.equal(303, res.status)
    assert.are.equal("/admin/login", res.headers.location)
    assert.is_nil(b.jar.ph_session)
    res = site:request("GET", "/admin/columns", { Cookie = old })
    assert.are.equal(303, res.status)
    assert.are.equal("/admin/login?next=%2Fadmin%2Fcolumns", res.headers.location)
    -- The other sessions of the same account are not touched.
    assert.are.equal(200, as["ed-invest"]:get("/admin/columns").status)
  end)

  it("builds the config form from the plugin's schema", function()
    local body = as["wm-invest"]:get("/admin/bindings?path=%2Fgxcy%2Ftzgg").body
    -- hello: one string of at most 200 characters, with its saved value.
    local greeting = body:match('<input[^>]-name="cfg%.greeting"[^>]*>')
    assert.truthy(greeting, body)
    assert.matches('type="text"', greeting)
    assert.matches('maxlength="200"', greeting)
    assert.matches('value="你好"', greeting)
    assert.matches('aria%-describedby="([^"]+)"', greeting)
    local help = greeting:match('aria%-describedby="([^"]+)"')
    -- hello's schema has no Chinese: the console names the field itself.
    assert.truthy(plain(body, 'id="' .. help .. '">最多 200 个字'))
    assert.matches('<label for="[^"]+">栏目显示的问候语</label>', body)
    assert.truthy(body:find('<input type="checkbox" id="enabled" name="enabled" value="1" checked>',
      1, true))
    -- apikit, chosen to switch to: its defaults, typed controls.
    body = as["wm-invest"]:get("/admin/bindings?path=%2Fgxcy%2Ftzgg&plugin=apikit").body
    local size = body:match('<input[^>]-name="cfg%.page_size"[^>]*>')
    assert.truthy(size, body)
    for _, s in ipairs({ 'type="number"', 'step="1"', 'min="1"', 'max="100"', 'value="10"' }) do
      assert.truthy(plain(size, s), s)
    end
    assert.matches('<textarea[^>]-name="cfg%.tags"', body)
    assert.matches('<input[^>]-name="cfg%.title"[^>]-maxlength="20"', body)
    -- Sorted by name.
    assert.truthy(body:find("cfg.page_size", 1, true) < body:find("cfg.tags", 1, true))
    assert.truthy(body:find("cfg.tags", 1, true) < body:find("cfg.title", 1, true))
  end)

  it("shows the core's config validation error in the form and keeps the binding", function()
    local b = as["wm-invest"]
    local long = ("长"):rep(201)
    local res = b:post("/admin/bindings", bind_form("/gxcy/tzgg", long))
    assert.are.equal(422, res.status)
    local alert = res.body:match('<div class="alert" role="alert">(.-)</div>')
    assert.truthy(alert, res.body)
    assert.truthy(plain(alert, "“栏目显示的问候语”：最多 200 个字"), alert)
    assert.matches('name="cfg%.greeting"[^>]-aria%-invalid="true"', res.body)
    assert.truthy(plain(res.body, 'value="' .. long .. '"'), "the entered value is kept")
    -- Out of range for apikit's page_size: the core's words.
    res = b:post("/admin/bindings", { path = "/gxcy/tzgg", plugin = "apikit", enabled = "1",
      ["cfg.page_size"] = "500", ["cfg.title"] = "标题", ["cfg.tags"] = "a\nb" })
    assert.are.equal(422, res.status)
    assert.truthy(plain(res.body, "“每页条数”：不能大于 100"), res.body)
    assert.matches('name="cfg%.page_size"[^>]-aria%-invalid="true"', res.body)
    assert.truthy(plain(res.body, 'value="500"'))
    -- Not a number at all: the console's own check.
    res = b:post("/admin/bindings", { path = "/gxcy/tzgg", plugin = "apikit", enabled = "1",
      ["cfg.page_size"] = "ten" })
    assert.are.equal(422, res.status)
    assert.truthy(plain(res.body, "“每页条数”须为整数"), res.body)
    assert.matches('name="cfg%.page_size"[^>]-aria%-invalid="true"', res.body)
    -- Nothing changed.
    assert.are.equal("你好", site:request("GET", "/gxcy/tzgg").body)
    local page = b:get("/admin/bindings?path=%2Fgxcy%2Ftzgg").body
    assert.matches('name="cfg%.greeting"[^>]-value="你好"', page)
  end)

  it("refuses a bad column form with the reason", function()
    local b = as.admin
    local res = b:post("/admin/columns", { path = "/gxcy/tzgg", title = "重复", kind = "notice",
                                           unit = "invest", parent = "/gxcy" })
    assert.are.equal(422, res.status)
    assert.truthy(plain(res.body, "已有这个路径的栏目"))
    res = b:post("/admin/columns", { path = "/gxcy/bad", title = "坏的", kind = "notice",
                                     unit = "invest", parent = "/gxcy", position = "abc" })
    assert.are.equal(422, res.status)
    assert.truthy(plain(res.body, "排序位置须为整数"))
    assert.truthy(plain(res.body, 'value="坏的"'), "the entered title is kept")
    res = b:post("/admin/columns", { path = "no-slash", title = "坏的", kind = "notice",
                                     unit = "invest" })
    assert.are.equal(422, res.status)
    assert.truthy(plain(res.body, 'role="alert"'))
    assert.are.equal(404, b:get("/admin/columns/edit?path=%2Fnope").status)
    assert.are.equal(404, b:post("/admin/columns/edit", { path = "/nope", title = "无",
      kind = "static", unit = "center" }).status)
    -- Edit shows the saved values.
    local page = b:get("/admin/columns/edit?path=%2Fgxcy%2Ftzgg").body
    assert.matches('<input type="hidden" name="path" value="/gxcy/tzgg">', page)
    assert.matches('name="max_stale_days" value="14"', page)
    assert.matches('<option value="notice" selected>通知公告</option>', page)
  end)

  it("manages users: add, grant, revoke, disable, enable, a new password", function()
    local b = as.admin
    local res = b:post("/admin/users", { login = "Bad Login", name = "坏",
                                         password = "secret-pass-1",
                                         unit = "invest", role = "editor" })
    assert.are.equal(422, res.status)
    assert.truthy(plain(res.body, 'role="alert"'))
    assert.falsy(plain(res.body, "secret-pass-1"))
    assert.truthy(plain(res.body, 'value="Bad Login"'))
    res = b:post("/admin/users", { login = "zhang", name = "张三", password = "zhang-password",
                                   unit = "social", role = "editor" })
    assert.are.equal(303, res.status)
    assert.are.equal("/admin/users/zhang", res.headers.location)
    assert.are.equal(422, b:post("/admin/users", { login = "zhang", name = "张三",
      password = "zhang-password", unit = "social", role = "editor" }).status)
    local page = b:get("/admin/users/zhang").body
    assert.truthy(plain(page, "编辑@社会事务局"))
    assert.are.equal(303, b:post("/admin/users/zhang", { op = "grant", unit = "social",
                                                         role = "webmaster" }).status)
    assert.truthy(plain(b:get("/admin/users/zhang").body, "网站管理员@社会事务局"))
    local z = login(site, "zhang", "zhang-password")
    assert.are.equal(200, z:get("/admin/bindings?path=%2Fgxcy%2Fshsw").status)
    assert.are.equal(303, b:post("/admin/users/zhang", { op = "revoke", unit = "social",
                                                         role = "webmaster" }).status)
    assert.are.equal(403, z:get("/admin/bindings?path=%2Fgxcy%2Fshsw").status)
    assert.are.equal(303, b:post("/admin/users/zhang", { op = "disable" }).status)
    assert.truthy(plain(b:get("/admin/users").body, "已停用"))
    res = z:get("/admin/columns")
    assert.are.equal(303, res.status, "a disabled account's session ends")
    assert.are.equal(303, b:post("/admin/users/zhang", { op = "enable" }).status)
    assert.are.equal(303, b:post("/admin/users/zhang", { op = "passwd",
                                                         password = "another-password" }).status)
    login(site, "zhang", "another-password")
    res = b:post("/admin/users/zhang", { op = "passwd", password = "short" })
    assert.are.equal(422, res.status)
    assert.falsy(plain(res.body, 'value="short"'))
    assert.are.equal(404, b:get("/admin/users/nobody").status)
    assert.are.equal(404, b:post("/admin/users/nobody", { op = "enable" }).status)
    assert.are.equal(422, b:post("/admin/users/zhang", { op = "explode" }).status)
  end)

  it("puts every change on record and shows it in the audit log", function()
    local b = as.admin
    assert.are.equal(303, b:post("/admin/units", { code = "audit1", name = "审计局" }).status)
    assert.are.equal(303, b:post("/admin/columns", { path = "/gxcy/new", title = "新栏目",
      kind = "news", unit = "audit1", parent = "/gxcy", position = "", max_stale_days = "7" })
      .status)
    assert.are.equal(303, b:post("/admin/bindings", bind_form("/gxcy/new", "新栏目你好")).status)
    assert.are.equal(303, b:post("/admin/users", { login = "auditee", name = "审计对象",
      password = "auditee-password", unit = "audit1", role = "leader" }).status)
    local res = b:get("/admin/audit")
    assert.are.equal(200, res.status)
    -- In words: who (name and login), what, on what, and the values as label: value.
    for _, s in ipairs({ "<td>保存单位</td>", "<td>保存栏目</td>", "<td>绑定插件</td>",
                         "<td>添加用户</td>", "<td>管理员（admin）</td>", "/gxcy/new",
                         "审计对象（auditee）", "<li>名称：审计局</li>",
                         "<li>栏目显示的问候语：新栏目你好</li>", "<li>角色：单位领导</li>" }) do
      assert.truthy(plain(res.body, s), s)
    end
    for _, s in ipairs({ "<td>unit.put</td>", "<td>user:admin</td>", "{&quot;", '{"' }) do
      assert.falsy(plain(res.body, s), s)
    end
    assert.matches("%d%d%d%d%-%d%d%-%d%d %d%d:%d%d:%d%d", res.body)
    -- A filter by action prefix.
    local only = b:get("/admin/audit?action=unit.").body
    assert.truthy(plain(only, "<td>保存单位</td>"))
    assert.falsy(plain(only, "<td>绑定插件</td>"))
    -- The command line sees the same entries.
    local log = assert(site:command("audit"))
    for _, s in ipairs({ "unit.put", "column.put", "binding.put", "user.add", "user:admin" }) do
      assert.truthy(plain(log, s), s)
    end
  end)

  it("pages through the audit log 50 entries at a time", function()
    local b = as.admin
    for i = 1, 55 do
      local res = b:post("/admin/units", { code = "many", name = "第" .. i .. "次" })
      assert.are.equal(303, res.status)
    end
    local body = b:get("/admin/audit?action=unit.").body
    local older = body:match('<a href="(/admin/audit%?[^"]*before=%d+)">更早的记录</a>')
    assert.truthy(older, body)
    older = older:gsub("&amp;", "&")
    assert.truthy(plain(older, "action=unit."))
    local res = b:get(older)
    assert.are.equal(200, res.status)
    assert.truthy(plain(res.body, "<td>保存单位</td>"))
  end)

  it("serves a binding saved in the console at once, and stops it when disabled", function()
    local b = as.admin
    -- Made in the previous test; here too when run alone.
    b:post("/admin/columns", { path = "/gxcy/new", title = "新栏目", kind = "news",
                               unit = "invest", parent = "/gxcy" })
    assert.are.equal(303, b:post("/admin/bindings", bind_form("/gxcy/new", "新栏目你好")).status)
    local res = site:request("GET", "/gxcy/new")
    assert.are.equal(200, res.status)
    assert.are.equal("新栏目你好", res.body)
    local form = bind_form("/gxcy/new", "新栏目你好")
    form.enabled = nil
    assert.are.equal(303, b:post("/admin/bindings", form).status)
    assert.are.equal(404, site:request("GET", "/gxcy/new").status)
    assert.truthy(plain(b:get("/admin/columns").body, "已停用"))
    -- Removed, then bound again.
    assert.are.equal(303, b:post("/admin/bindings/remove", { path = "/gxcy/new" }).status)
    assert.truthy(plain(b:get("/admin/bindings?path=%2Fgxcy%2Fnew").body, "未绑定插件"))
    assert.are.equal(303, b:post("/admin/bindings", bind_form("/gxcy/new", "又来了")).status)
    assert.are.equal("又来了", site:request("GET", "/gxcy/new").body)
  end)
end)

describe("the admin console's login", function()
  it("asks to wait after too many failures, in Chinese", function()
    local site = start({ "--login-max-failures", "2" })
    finally(function() site:stop() end)
    local b = browser(site)
    b:get("/admin/login")
    for _ = 1, 2 do
      assert.are.equal(401, b:post("/admin/login", { login = "admin", password = "wrong-guess" })
        .status)
    end
    local res = b:post("/admin/login", { login = "admin", password = password("admin") })
    assert.are.equal(429, res.status)
    assert.truthy(plain(res.body, "登录失败次数过多，请 15 分钟后再试"), res.body)
  end)
end)
