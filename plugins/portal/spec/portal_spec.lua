local testing = require("park.testing")

local SITE = {
  units = { { code = "invest", name = "招商局" } },
  columns = {
    { path = "/", title = "首页", kind = "static", unit = "center", plugin = "portal",
      config = { site_name = "测试高新区", body = "第一段。\n\n第二段 <b>不是标签</b>。" } },
    { path = "/gxcy", title = "高新创业", kind = "section", unit = "invest", plugin = "portal",
      config = { page = "section", body = "创业服务。" } },
    { path = "/gxcy/tzgg", title = "通知公告", parent = "/gxcy", kind = "notice", unit = "invest",
      max_stale_days = 14 },
    { path = "/gxcy/gywm", title = "关于我们", parent = "/gxcy", kind = "static", unit = "invest",
      plugin = "portal", config = { body = "园区简介。" } },
    { path = "/search", title = "全站检索", kind = "static", unit = "center", plugin = "portal",
      config = { page = "search" } },
  },
}

describe("portal: the front page, static pages and the responsibility table", function()
  local site

  setup(function()
    site = testing.start_site({ plugins = { "plugins" }, site = SITE })
  end)

  teardown(function()
    assert.are.equal(0, site:stop())
  end)

  it("shows the site's name, its text and the sections with their served columns", function()
    local res = site:request("GET", "/")
    assert.are.equal(200, res.status)
    assert.are.equal("text/html; charset=utf-8", res.headers["content-type"])
    local body = res.body
    assert.truthy(body:find('<html lang="zh-CN">', 1, true))
    assert.truthy(body:find("<title>首页 - 测试高新区</title>", 1, true))
    assert.truthy(body:find("<p>第一段。</p>", 1, true))
    assert.truthy(body:find("第二段 &lt;b&gt;不是标签&lt;/b&gt;。", 1, true), "text is escaped")
    assert.truthy(body:find('<h2 id="s1">高新创业</h2>', 1, true))
    assert.truthy(body:find('<form class="search" action="/search"', 1, true))
    assert.truthy(body:find('<a href="/gxcy/gywm">关于我们</a>', 1, true))
    assert.falsy(body:find('href="/gxcy/tzgg"', 1, true), "a column with no plugin is not linked")
  end)

  it("serves a static column's page with its title, text and responsible unit", function()
    local body = site:request("GET", "/gxcy/gywm").body
    assert.truthy(body:find("<h1>关于我们</h1>", 1, true))
    assert.truthy(body:find("<p>园区简介。</p>", 1, true))
    assert.truthy(body:find("责任单位：招商局", 1, true))
    assert.truthy(body:find('<a href="/gxcy/gywm" aria-current="page">关于我们</a>', 1, true))
  end)

  it("publishes which unit answers for each column and how often it must be updated", function()
    local body = site:request("GET", "/zrlm").body
    assert.truthy(body:find("<h1>责任栏目划分明细</h1>", 1, true))
    local row = body:match("<tr>%s*<td>通知公告</td>(.-)</tr>")
    assert.truthy(row, "the unserved column is listed, unlinked")
    assert.truthy(row:find("<td>招商局</td>", 1, true))
    assert.truthy(row:find("至少每 14 天更新", 1, true))
    assert.falsy(body:find("<td>高新创业</td>", 1, true), "sections are not rows")
  end)

  it("uses the site's shared layout and stylesheet", function()
    local body = site:request("GET", "/").body
    assert.truthy(body:find('<link rel="stylesheet" href="/static/park/site.css">', 1, true))
    assert.truthy(body:find('<a class="skip" href="#main">', 1, true))
    local css = site:request("GET", "/static/park/site.css")
    assert.are.equal(200, css.status)
    assert.matches("^text/css", css.headers["content-type"])
    assert.are.equal(404, site:request("GET", "/static/park/../templates/site.html").status)
    assert.are.equal(404, site:request("GET", "/static/park/nothing.css").status)
  end)

  it("gives a section a block on the front page, and a lone page none", function()
    local body = site:request("GET", "/").body
    assert.truthy(body:find("<h2[^>]*>高新创业</h2>"))
    assert.falsy(body:find("<h2[^>]*>全站检索</h2>"))
  end)

  it("draws the site map from the column tree, linked from every page's footer", function()
    local body = site:request("GET", "/wzdt").body
    local map = assert(body:match('<ul class="site%-map">.*</ul>'))
    for _, link in ipairs({ '<a href="/gxcy">高新创业</a>', '<a href="/gxcy/gywm">关于我们</a>',
                            '<a href="/search">全站检索</a>' }) do
      assert.truthy(map:find(link, 1, true), link)
    end
    -- A column without a plugin is no page, and not on the map.
    assert.falsy(map:find("通知公告", 1, true))
    assert.truthy(site:request("GET", "/gxcy").body:find('<a href="/wzdt">网站地图</a>', 1, true))
  end)

  it("answers 404 for paths it does not serve", function()
    assert.are.equal(404, site:request("GET", "/nothing-here").status)
    assert.are.equal(404, site:request("GET", "/gxcy/gywm/zrlm").status)
  end)

  it("serves a section as a page of its columns", function()
    local res = site:request("GET", "/gxcy")
    assert.are.equal(200, res.status)
    assert.truthy(res.body:find("<h1>高新创业</h1>", 1, true))
    assert.truthy(res.body:find("<p>创业服务。</p>", 1, true))
    assert.truthy(res.body:find('<h2 id="c1"><a href="/gxcy/gywm">关于我们</a></h2>', 1, true))
    assert.falsy(res.body:find("/gxcy/tzgg", 1, true), "a column with no plugin is not linked")
    assert.are.equal(404, site:request("GET", "/gxcy/nothing-here").status)
    -- The masthead links the section now that it is a page.
    assert.truthy(site:request("GET", "/").body:find('<a href="/gxcy"', 1, true))
  end)

  it("shows where a page is: breadcrumbs from the front page, not on it", function()
    local body = site:request("GET", "/gxcy/gywm").body
    local crumbs = body:match('<nav class="crumbs" aria%-label="当前位置">(.-)</nav>')
    assert.truthy(crumbs, "breadcrumbs")
    assert.truthy(crumbs:find('<a href="/">首页</a>', 1, true))
    assert.truthy(crumbs:find('<a href="/gxcy">高新创业</a>', 1, true))
    assert.truthy(crumbs:find('<span aria-current="page">关于我们</span>', 1, true))
    assert.falsy(site:request("GET", "/").body:find('class="crumbs"', 1, true))
  end)
end)

describe("portal: the front page's headline and the blocks the center chose", function()
  local site

  setup(function()
    site = testing.start_site({ plugins = { "plugins", "tests/fixtures/plugins" }, site = {
      units = { { code = "invest", name = "招商局" } },
      columns = {
        { path = "/", title = "首页", kind = "static", unit = "center", plugin = "portal",
          config = { headline = "/zwdt", blocks = "/tzgg\n  /nope  \n/zwdt" } },
        { path = "/zwdt", title = "政务动态", kind = "news", unit = "center", plugin = "itemkit" },
        { path = "/tzgg", title = "通知公告", kind = "notice", unit = "invest", plugin = "itemkit" },
        { path = "/gxcy", title = "高新创业", kind = "section", unit = "invest", plugin = "portal",
          config = { page = "section" } },
      },
    } })
  end)

  teardown(function()
    assert.are.equal(0, site:stop())
  end)

  local function publish(col, key, title, summary)
    local body = ("key=%s&title=%s&summary=%s&column=%s&kind=news"):format(key,
      title:gsub("[^%w]", function(c) return ("%%%02X"):format(c:byte()) end),
      summary:gsub("[^%w]", function(c) return ("%%%02X"):format(c:byte()) end),
      col:gsub("/", "%%2F"))
    local res = site:request("POST", col .. "/publish",
      { ["Content-Type"] = "application/x-www-form-urlencoded" }, body)
    assert.are.equal(200, res.status, res.body)
  end

  it("shows the chosen column's newest item first, and the chosen blocks in their order", function()
    publish("/zwdt", "a", "管委会召开工作会议", "会议部署了下一步工作。")
    publish("/zwdt", "b", "园区举办招聘会", "三十家企业参加。")
    publish("/tzgg", "c", "关于申报的通知", "申报截止到月底。")
    local body = site:request("GET", "/").body
    local headline = assert(body:match('<section class="headline".-</section>'), body)
    assert.truthy(headline:find("园区举办招聘会", 1, true))
    assert.truthy(headline:find("三十家企业参加。", 1, true))
    -- The blocks: 通知公告 then 政务动态, the unknown path left out, no section block.
    local first = body:find("<h2[^>]*>通知公告</h2>")
    local second = body:find("<h2[^>]*>政务动态</h2>")
    assert.truthy(first and second and first < second)
    assert.falsy(body:find("<h2[^>]*>高新创业</h2>"))
  end)
end)
