-- The page around every plugin's content: the center's settings in the
-- footer and the meta tags, the 关怀版 switch, and error pages in the
-- site's layout, in Chinese, with the request id.
local testing = require("park.testing")

local SITE = {
  settings = { name = "测试高新区", domain = "www.test-park.gov.cn", id_code = "1234567890",
               organizer = "测试高新区管委会", icp = "京ICP备12345678号",
               police = "京公网安备 11010202000001号", phone = "010-12345678" },
  units = { { code = "invest", name = "招商局" } },
  columns = {
    { path = "/", title = "首页", kind = "static", unit = "center", plugin = "portal",
      config = { body = "欢迎。" } },
    { path = "/gxcy", title = "高新创业", kind = "section", unit = "invest", plugin = "portal",
      config = { page = "section" } },
    { path = "/gxcy/tzgg", title = "通知公告", parent = "/gxcy", kind = "notice",
      unit = "invest", plugin = "articles", config = { chain = { "review" } } },
    { path = "/kit", title = "测试", kind = "static", unit = "center", plugin = "testkit" },
  },
}

local function meta(body, name)
  return body:match('<meta name="' .. name .. '" content="([^"]*)">')
end

describe("the site's layout", function()
  local site, admin, staff

  setup(function()
    site = testing.start_site({ plugins = { "plugins", "tests/fixtures/plugins" }, site = SITE,
                                args = { "--plugin-failures", "5" } })
    site:add_user("root", "center", "admin", "管理员", "correct horse battery")
    site:add_user("li", "invest", "editor", "李编辑", "correct horse battery")
    admin = site:browser():login("root", "correct horse battery")
    staff = site:browser():login("li", "correct horse battery")
  end)

  teardown(function()
    assert.are.equal(0, site:stop())
  end)

  it("carries the center's settings on every plugin's page: meta tags and the footer", function()
    for _, path in ipairs({ "/", "/gxcy", "/gxcy/tzgg" }) do
      local body = site:request("GET", path).body
      assert.are.equal("测试高新区", meta(body, "SiteName"), path)
      assert.are.equal("www.test-park.gov.cn", meta(body, "SiteDomain"), path)
      assert.are.equal("1234567890", meta(body, "SiteIDCode"), path)
      local footer = assert(body:match('<footer.-</footer>'), path)
      assert.truthy(footer:find("主办单位：测试高新区管委会", 1, true), path)
      assert.truthy(footer:find("网站标识码：1234567890", 1, true), path)
      assert.truthy(footer:find('<a href="https://beian.miit.gov.cn/">京ICP备12345678号</a>', 1,
        true), path)
      assert.truthy(footer:find("code=11010202000001", 1, true), path)
      assert.truthy(footer:find("我为政府网站找错", 1, true), path)
      assert.truthy(footer:find("sitecode=1234567890", 1, true), path)
      assert.truthy(footer:find("网站地图", 1, true), path)
    end
    -- A column's page names its column; the front page is no column page.
    local body = site:request("GET", "/gxcy/tzgg").body
    assert.are.equal("通知公告", meta(body, "ColumnName"))
    assert.are.equal("通知公告", meta(body, "ColumnType"))
    assert.truthy(meta(body, "ColumnDescription"):find("招商局", 1, true))
    assert.is_nil(meta(site:request("GET", "/").body, "ColumnName"))
  end)

  it("lets the center change the settings in the console, checked, audited, served at once",
    function()
      local page = admin:get("/admin/settings")
      assert.are.equal(200, page.status)
      assert.truthy(page.body:find('value="1234567890"', 1, true))
      -- A bad 网站标识码 is refused with the reason; nothing is saved.
      local res = admin:post("/admin/settings", { name = "新名称", id_code = "12ab" })
      assert.are.equal(422, res.status)
      assert.truthy(res.body:find("网站标识码：", 1, true))
      assert.truthy(res.body:find('aria-invalid="true"', 1, true))
      assert.are.equal("测试高新区", meta(site:request("GET", "/").body, "SiteName"))
      -- A good change shows on the next page, and the audit log has it.
      res = admin:post("/admin/settings", { name = "测试高新区", id_code = "1234567890",
        domain = "www.test-park.gov.cn", organizer = "测试高新区管委会",
        icp = "京ICP备12345678号", police = "京公网安备 11010202000001号", phone = "010-87654321",
        badge_url = "https://bszs.conac.cn/sitename?method=show&id=1" })
      assert.are.equal(303, res.status)
      local body = site:request("GET", "/gxcy").body
      assert.truthy(body:find("联系电话：010-87654321", 1, true))
      assert.truthy(body:find('alt="党政机关网站标识"', 1, true))
      assert.truthy(admin:get("/admin/audit?action=site.setting").body:find("010-87654321", 1,
        true))
      -- A unit's staff cannot: a 403 page that says why, in the layout.
      res = staff:post("/admin/settings", { phone = "1" })
      assert.are.equal(403, res.status)
      assert.truthy(res.body:find("没有权限", 1, true))
    end)

  it("keeps the settings in the site file: export writes them, import refuses an unknown one",
    function()
      local out, ok = site:command("site", "export")
      assert.is_true(ok, out)
      assert.truthy(out:find('id_code = "1234567890"', 1, true), out)
      local f = assert(io.open(site.dir .. "/bad.lua", "w"))
      f:write('return { settings = { nmae = "x" } }')
      f:close()
      out, ok = site:command("site", "import", site.dir .. "/bad.lua")
      assert.is_false(ok)
      assert.truthy(out:find("settings.nmae: 没有这项网站设置", 1, true), out)
    end)

  it("switches to 关怀版 without JavaScript and back, on the same page", function()
    local b = site:browser()
    local body = b:get("/gxcy").body
    assert.falsy(body:find('<body class="care">', 1, true))
    local href = assert(body:match('<p class="mode%-switch"><a href="([^"]+)">关怀版</a>'))
    href = href:gsub("&amp;", "&")
    local res = b:get(href)
    assert.are.equal(303, res.status)
    assert.are.equal("/gxcy", res.headers.location)
    assert.are.equal("1", b.jar.care)
    body = b:get("/gxcy").body
    assert.truthy(body:find('<body class="care">', 1, true))
    assert.truthy(body:find(">退出关怀版</a>", 1, true))
    -- An article list from the page cache is kept apart from the normal one.
    assert.truthy(b:get("/gxcy/tzgg").body:find('<body class="care">', 1, true))
    assert.falsy(site:request("GET", "/gxcy/tzgg").body:find('<body class="care">', 1, true))
    -- Back to the normal site; a way back off the site goes home instead.
    res = b:get("/admin/care?on=0&next=%2F%2Fevil.example%2F")
    assert.are.equal("/", res.headers.location)
    assert.is_nil(b.jar.care)
    assert.falsy(b:get("/gxcy").body:find('<body class="care">', 1, true))
  end)

  it("renders every error in the site's layout, in Chinese, with the request id", function()
    local cases = {
      { "GET", "/no-such-page", nil, nil, 404, "页面不存在" },
      { "DELETE", "/gxcy/tzgg", nil, nil, 405, "不支持此请求方法" },
      { "GET", "/kit/error", nil, nil, 500, "服务器内部错误" },
      { "POST", "/admin/units", { ["Content-Type"] = "application/x-www-form-urlencoded" },
        "code=a&name=b", 403, "没有权限访问" }, -- no CSRF token
    }
    for _, c in ipairs(cases) do
      local res = site:request(c[1], c[2], c[3], c[4])
      local what = c[1] .. " " .. c[2]
      assert.are.equal(c[5], res.status, what)
      local id = res.headers["x-request-id"]
      assert.truthy(res.body:find("<code>" .. id .. "</code>", 1, true), what)
      assert.truthy(res.body:find("<title>" .. c[5] .. " " .. c[6] .. " - 测试高新区</title>", 1,
        true), what .. "\n" .. res.body)
      assert.truthy(res.body:find('<nav aria-label="网站导航">', 1, true), what)
      assert.truthy(res.body:find("网站标识码：1234567890", 1, true), what)
      assert.truthy(res.body:find('<a href="/">返回首页</a>', 1, true), what)
      assert.falsy(res.body:find("Not Found", 1, true), what)
    end
    -- In 关怀版 too.
    local res = site:request("GET", "/no-such-page", { Cookie = "x=1; care=1" })
    assert.truthy(res.body:find('<body class="care">', 1, true))
  end)

  it("serves a change of the layout's settings to the error pages as well", function()
    admin:get("/admin/settings")
    assert.are.equal(303, admin:post("/admin/settings", { name = "改名高新区",
      id_code = "1234567890" }).status)
    testing.eventually(function()
      return site:request("GET", "/no-such-page").body:find("改名高新区", 1, true)
    end, 5, "the new name on the 404 page")
  end)

  it("shows a failing plugin's maintenance page (503) in the layout, its columns alone", function()
    -- Last of this file: the testkit column stays in maintenance for a minute.
    local res
    for _ = 1, 6 do res = site:request("GET", "/kit/error") end
    assert.are.equal(503, res.status)
    assert.truthy(res.body:find("<title>503 服务暂时不可用 - ", 1, true), res.body)
    assert.truthy(res.body:find("<code>" .. res.headers["x-request-id"] .. "</code>", 1, true))
    assert.truthy(res.body:find('<nav aria-label="网站导航">', 1, true))
    assert.are.equal(200, site:request("GET", "/gxcy").status)
  end)

  it("sends 找错 to the site's own column with the page it is about, when the center says so",
    function()
      admin:get("/admin/settings")
      local res = admin:post("/admin/settings", { name = "测试高新区", errata_url = "kit" })
      assert.are.equal(422, res.status) -- neither a link nor a path
      assert.are.equal(303, admin:post("/admin/settings", { name = "测试高新区",
        errata_url = "/kit" }).status)
      local body = site:request("GET", "/gxcy?a=1").body
      assert.truthy(body:find('<a href="/kit?url=%2Fgxcy%3Fa%3D1">我为政府网站找错</a>', 1, true),
        body:match("<footer.-</footer>"))
    end)
end)
