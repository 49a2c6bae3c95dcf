-- 政务公开 and the article page's tools, through real HTTP with real
-- sessions: 字号 and 打印 without JavaScript, 上一篇/下一篇, a policy
-- document's attributes, its 索引号 (per unit and year, never given twice),
-- the 信息公开目录 and its filters, and a plain-text body's paragraphs.
local testing = require("park.testing")
local cjson = require("cjson")

local SITE = {
  units = {
    { code = "invest", name = "招商局" },
    { code = "social", name = "社会事务局" },
  },
  columns = {
    { path = "/zcwj", title = "政策文件", kind = "policy", unit = "invest", plugin = "articles",
      config = { chain = { "review" } } },
    { path = "/gfxwj", title = "规范性文件", kind = "policy", unit = "invest",
      plugin = "articles", config = { chain = { "review" } } },
    { path = "/kjzc", title = "科技政策", kind = "policy", unit = "invest", plugin = "articles",
      config = { chain = { "review" }, page_size = 5 } },
    { path = "/sqzc", title = "社区政策", kind = "policy", unit = "social", plugin = "articles",
      config = { chain = { "review" } } },
    { path = "/xwdt", title = "园区动态", kind = "news", unit = "invest", plugin = "articles",
      config = { chain = { "review" } } },
    { path = "/gk", title = "政府信息公开", kind = "static", unit = "center",
      plugin = "articles", config = { scope = "site" } },
    { path = "/items", title = "索引", kind = "static", unit = "center", plugin = "itemkit" },
  },
}

local STAFF = {
  { "ed", "invest", "editor", "招商编辑" },
  { "rev1", "invest", "reviewer", "招商审核" },
  { "lead", "invest", "leader", "招商领导" },
  { "sed", "social", "editor", "社会事务编辑" },
  { "srev", "social", "reviewer", "社会事务审核" },
}

local function pw(login) return login .. "-password" end

local function has(body, s) return body:find(s, 1, true) ~= nil end

-- The value of a fact (<dt>label</dt><dd>value</dd>) on an article page.
local function fact(page, label)
  local v = page:match("<dt>" .. label .. "</dt><dd[^>]*>(.-)</dd>")
  return v and (v:gsub("<[^>]+>", ""))
end

-- Publish in a one-step chain as `who` (editor) and `reviewer`, with the
-- form's fields; returns the item's id.
local function publisher(b)
  return function(column, fields, who, reviewer)
    who, reviewer = who or "ed", reviewer or "rev1"
    b[who]:get(column .. "/manage/new")
    local res = b[who]:post(column .. "/manage/new", fields)
    assert.are.equal(303, res.status, res.body)
    local manage = res.headers.location
    local id = tonumber(manage:match("(%d+)$"))
    b[who]:get(manage)
    assert.are.equal(303, b[who]:post(manage .. "/submit", {}).status)
    b[reviewer]:get(manage)
    assert.are.equal(303, b[reviewer]:post(manage .. "/decide", { decision = "approve" }).status)
    return id
  end
end

describe("articles: 政务公开 and the article's tools", function()
  local site, b = nil, {}
  local publish

  setup(function()
    site = testing.start_site({ plugins = { "plugins", "tests/fixtures/plugins" }, site = SITE })
    for _, s in ipairs(STAFF) do
      site:add_user(s[1], s[2], s[3], s[4], pw(s[1]))
      b[s[1]] = site:browser():login(s[1], pw(s[1]))
    end
    publish = publisher(b)
  end)

  teardown(function()
    assert.are.equal(0, site:stop())
  end)

  local function get(path)
    local res = site:request("GET", path)
    assert.are.equal(200, res.status, path)
    return res.body
  end

  -- The site's index (park.items) entry of an article, through itemkit.
  local function indexed(column, id)
    local res = site:request("GET", "/items/latest?limit=100&column=" .. column)
    assert.are.equal(200, res.status)
    for _, it in ipairs(cjson.decode(res.body)) do
      if it.key == tostring(id) then return it end
    end
  end

  it("numbers policy documents per unit and year, never giving a number twice", function()
    local a = publish("/zcwj", { title = "园区企业扶持办法", body = "<p>扶持条款。</p>" })
    local page = get("/zcwj/" .. a)
    local year = fact(page, "索引号"):match("^invest%-(%d%d%d%d)%-00001$")
    assert.truthy(year, fact(page, "索引号"))
    local function no(column, id) return fact(get(column .. "/" .. id), "索引号") end
    -- The unit's serial runs across its policy columns; another unit has its own.
    local g = publish("/gfxwj", { title = "规范性文件管理规定", body = "<p>规定。</p>" })
    assert.are.equal("invest-" .. year .. "-00002", no("/gfxwj", g))
    local s = publish("/sqzc", { title = "社区养老服务补贴办法", body = "<p>补贴。</p>" },
      "sed", "srev")
    assert.are.equal("social-" .. year .. "-00001", no("/sqzc", s))
    -- Withdrawn, 00002 is gone from the site, and never given again.
    b.lead:get("/gfxwj/manage/" .. g)
    assert.are.equal(303, b.lead:post("/gfxwj/manage/" .. g .. "/withdraw",
      { reason = "内容有误" }).status)
    assert.are.equal(410, site:request("GET", "/gfxwj/" .. g).status)
    local d = publish("/zcwj", { title = "园区人才公寓管理办法", body = "<p>管理。</p>" })
    assert.are.equal("invest-" .. year .. "-00003", no("/zcwj", d))
    -- A revision of a live document keeps its number.
    b.ed:get("/zcwj/manage/" .. a .. "/edit")
    assert.are.equal(303, b.ed:post("/zcwj/manage/" .. a .. "/edit",
      { title = "园区企业扶持办法（修订）", body = "<p>扶持条款，修订。</p>" }).status)
    b.ed:get("/zcwj/manage/" .. a)
    assert.are.equal(303, b.ed:post("/zcwj/manage/" .. a .. "/submit", {}).status)
    b.rev1:get("/zcwj/manage/" .. a)
    assert.are.equal(303, b.rev1:post("/zcwj/manage/" .. a .. "/decide",
      { decision = "approve" }).status)
    page = get("/zcwj/" .. a)
    assert.truthy(has(page, "（修订）"))
    assert.are.equal("invest-" .. year .. "-00001", fact(page, "索引号"))
    -- The site's index hears the number.
    assert.are.equal("invest-" .. year .. "-00003", indexed("/zcwj", d).attrs.index_no)
    assert.are.equal("social-" .. year .. "-00001", indexed("/sqzc", s).attrs.index_no)
    -- A news column's article has none.
    local n = publish("/xwdt", { title = "园区举办招聘会", body = "<p>招聘会。</p>" })
    page = get("/xwdt/" .. n)
    assert.falsy(has(page, "索引号"))
    assert.is_nil((indexed("/xwdt", n).attrs or {}).index_no)
  end)

  it("shows a policy document's 文号, 主题分类, 成文日期 and 有效性, and marks a repeal", function()
    -- The editor's form of a policy column has the fields; wrong values are refused.
    local form = b.ed:get("/zcwj/manage/new").body
    assert.truthy(has(form, '<label for="f-doc_no">文号（选填）</label>'))
    assert.truthy(has(form, '<select id="f-topic" name="topic">'))
    assert.truthy(has(form, '<option value="科技、教育">科技、教育</option>'))
    assert.truthy(has(form, '<option value="有效" selected>有效</option>'), "有效 unless changed")
    assert.falsy(has(b.ed:get("/xwdt/manage/new").body, 'name="doc_no"'),
      "not in a news column's form")
    local res = b.ed:post("/zcwj/manage/new", { title = "x", body = "<p>x</p>", topic = "天文" })
    assert.are.equal(422, res.status)
    assert.truthy(has(res.body, '<a href="#f-topic">主题分类：请从列表中选择</a>'))
    assert.truthy(has(res.body, '<select id="f-topic" name="topic" aria-invalid="true"'
      .. ' aria-describedby="f-topic-error">'), "marked at the field")
    local id = publish("/zcwj", { title = "关于支持科技企业研发投入的若干措施",
      body = "<p>第一条 研发投入补助。</p>", doc_no = "高新发〔2026〕3号",
      topic = "科技、教育", validity = "有效", pub_date = "2026-03-01",
      author_unit = "高新区管委会" })
    local page = get("/zcwj/" .. id)
    assert.truthy(has(page, '<dl class="facts policy-facts">'))
    assert.are.equal("高新发〔2026〕3号", fact(page, "文号"))
    assert.are.equal("科技、教育", fact(page, "主题分类"))
    assert.are.equal("2026-03-01", fact(page, "成文日期"))
    assert.are.equal("有效", fact(page, "有效性"))
    assert.are.equal("高新区管委会", fact(page, "发布机构"))
    assert.truthy(fact(page, "索引号"):match("^invest%-%d%d%d%d%-%d%d%d%d%d$"))
    -- The attributes are at the top: before the text.
    assert.truthy(page:find("<dt>索引号</dt>", 1, true) < page:find('<div class="body">', 1, true))
    local attrs = indexed("/zcwj", id).attrs
    assert.are.same({ index_no = fact(page, "索引号"), doc_no = "高新发〔2026〕3号",
                      topic = "科技、教育", validity = "有效", written_on = "2026-03-01" }, attrs)
    -- The editor's form shows them again.
    form = b.ed:get("/zcwj/manage/" .. id .. "/edit").body
    assert.truthy(has(form, 'value="高新发〔2026〕3号"'))
    assert.truthy(has(form, '<option value="科技、教育" selected>科技、教育</option>'))
    -- Repealed: marked as before, and 已废止 in the facts and the index.
    b.lead:get("/zcwj/manage/" .. id)
    assert.are.equal(303, b.lead:post("/zcwj/manage/" .. id .. "/repeal",
      { reason = "已被新措施替代" }).status)
    page = get("/zcwj/" .. id)
    assert.truthy(has(page, '<p class="status" role="note">本文件已于'))
    assert.are.equal("已废止", fact(page, "有效性"))
    assert.are.equal("已废止", indexed("/zcwj", id).attrs.validity)
    assert.are.equal("高新发〔2026〕3号", indexed("/zcwj", id).attrs.doc_no)
    -- An expired one: 已失效.
    local old = publish("/zcwj", { title = "二〇二五年度临时补贴办法", body = "<p>补贴。</p>",
      expires_at = "2026-01-01", pub_date = "2025-01-01" })
    page = get("/zcwj/" .. old)
    assert.are.equal("已失效", fact(page, "有效性"))
    assert.truthy(has(page, "失效。</p>"))
  end)

  it("sets the font size and prints without JavaScript, each page cached as such", function()
    local id = publish("/xwdt", { title = "园区图书馆开放时间调整", summary = "开放时间",
      body = "<p>图书馆自下周起延长开放时间。</p>" })
    local url = "/xwdt/" .. id
    local page = get(url)
    assert.truthy(has(page, '<article class="article fs-m">'))
    assert.truthy(has(page, ('<a href="%s?fs=l"><span class="sr">字号</span>大</a>'):format(url)))
    assert.truthy(has(page, ('<a href="%s" aria-current="true"><span class="sr">字号</span>中</a>')
      :format(url)))
    assert.truthy(has(page, ('<a href="%s?fs=s">'):format(url)))
    assert.truthy(has(page, ('<a href="%s?print=1" rel="nofollow">打印</a>'):format(url)))
    assert.truthy(has(page, '<link rel="stylesheet" href="/static/articles/articles.css">'))
    -- 大: the page of its own, the size kept on the way to print.
    local large = get(url .. "?fs=l")
    assert.truthy(has(large, '<article class="article fs-l">'))
    assert.truthy(has(large, ('<a href="%s?fs=l" aria-current="true">'):format(url)))
    assert.truthy(has(large, ('%s?print=1&amp;fs=l'):format(url)))
    assert.truthy(has(get(url .. "?fs=s"), '<article class="article fs-s">'))
    assert.truthy(has(get(url .. "?fs=%3Cx%3E"), '<article class="article fs-m">'))
    -- Each size is cached as such: the default page is still the default.
    assert.truthy(has(get(url), '<article class="article fs-m">'))
    assert.truthy(has(get(url .. "?fs=l"), '<article class="article fs-l">'))
    -- The print view: the article alone, no masthead, navigation or footer.
    local print_view = get(url .. "?print=1")
    assert.truthy(has(print_view, '<html lang="zh-CN">'))
    assert.truthy(has(print_view, "<h1>园区图书馆开放时间调整</h1>"))
    assert.truthy(has(print_view, "图书馆自下周起延长开放时间。"))
    assert.truthy(has(print_view, '<meta name="robots" content="noindex">'))
    assert.truthy(has(print_view, ('<a href="%s">返回正文页</a>'):format(url)))
    for _, absent in ipairs({ 'class="masthead"', "<nav", 'class="footer"', "打印</a>" }) do
      assert.falsy(has(print_view, absent), absent)
    end
    -- The normal page prints cleanly too: its stylesheet hides the rest on paper.
    local css = site:request("GET", "/static/articles/articles.css")
    assert.are.equal(200, css.status)
    local print_rules = css.body:match("@media print {(.-)\n}")
    assert.truthy(print_rules)
    for _, hidden in ipairs({ ".masthead", ".crumbs", ".footer", ".article-tools",
                              ".prev-next" }) do
      assert.truthy(has(print_rules, hidden), hidden)
    end
  end)

  it("links 上一篇 and 下一篇 in the column by publication order, none at the ends", function()
    local ids = {}
    for i, t in ipairs({ "园区春季运动会", "园区夏季音乐节", "园区秋季招聘会" }) do
      ids[i] = publish("/xwdt", { title = t, body = "<p>" .. t .. "。</p>" })
    end
    -- (Earlier articles of the column come before these.)
    local first, mid, last = get("/xwdt/" .. ids[1]), get("/xwdt/" .. ids[2]),
      get("/xwdt/" .. ids[3])
    local function link(page, rel)
      local href, title = page:match('<a href="([^"]+)" rel="' .. rel .. '">(.-)</a>')
      return href, title
    end
    assert.are.equal("/xwdt/" .. ids[1], (link(mid, "prev")))
    assert.are.equal("/xwdt/" .. ids[3], (link(mid, "next")))
    assert.are.equal("园区夏季音乐节", select(2, link(first, "next")))
    assert.are.equal("/xwdt/" .. ids[2], (link(last, "prev")))
    assert.is_nil(link(last, "next"), "the newest has no 下一篇")
    assert.falsy(has(last, "下一篇："))
    -- The oldest of the column has no 上一篇.
    local list = get("/xwdt")
    local oldest
    for id in list:gmatch('<a href="/xwdt/(%d+)">') do oldest = id end
    assert.falsy(has(get("/xwdt/" .. oldest), "上一篇："))
    -- Withdrawn, the middle one leaves the chain at once (the cache knows).
    b.lead:get("/xwdt/manage/" .. ids[2])
    assert.are.equal(303, b.lead:post("/xwdt/manage/" .. ids[2] .. "/withdraw",
      { reason = "活动取消" }).status)
    assert.are.equal("/xwdt/" .. ids[3], (link(get("/xwdt/" .. ids[1]), "next")))
    -- The size chosen goes along.
    assert.are.equal("/xwdt/" .. ids[1] .. "?fs=l", (link(get("/xwdt/" .. ids[3] .. "?fs=l"),
      "prev")))
  end)

  it("keeps a catalogue of the column's documents by topic, year and unit, in pages", function()
    local topics = { "科技、教育", "科技、教育", "财政、金融、审计", "科技、教育", "工业、交通",
                     "科技、教育" }
    for i, t in ipairs(topics) do
      publish("/kjzc", { title = ("科技政策第%d号"):format(i), body = "<p>条款。</p>",
        topic = t, doc_no = ("高新科〔2026〕%d号"):format(i), pub_date = "2026-02-0" .. i })
    end
    -- The column page links to it.
    assert.truthy(has(get("/kjzc"), '<a href="/kjzc/catalog">信息公开目录</a>'))
    local page = get("/kjzc/catalog")
    assert.truthy(has(page, "<h1>科技政策 · 信息公开目录</h1>"))
    assert.truthy(has(page, '<th scope="col">索引号</th><th scope="col">文号</th>'
      .. '<th scope="col">标题</th><th scope="col">成文日期</th><th scope="col">发布日期</th>'))
    assert.truthy(has(page, "共 6 件"))
    -- Newest first, five to a page; the sixth (the oldest) on the next.
    local function titles(body)
      local out = {}
      for t in body:gmatch('<td><a href="/kjzc/%d+">(.-)</a>') do out[#out + 1] = t end
      return out
    end
    assert.are.same({ "科技政策第6号", "科技政策第5号", "科技政策第4号", "科技政策第3号",
                      "科技政策第2号" }, titles(page))
    local next_url = page:match('<a href="([^"]+)" rel="next">下一页</a>')
    assert.truthy(next_url)
    local second = get((next_url:gsub("&amp;", "&")))
    assert.are.same({ "科技政策第1号" }, titles(second))
    assert.truthy(has(second, "高新科〔2026〕1号"))
    assert.truthy(has(second, '<time datetime="2026-02-01">2026-02-01</time>'))
    assert.truthy(second:find("invest%-%d%d%d%d%-%d%d%d%d%d"))
    -- By topic: a link per topic with its count; following it filters.
    local href = page:match('<a href="([^"]+)">科技、教育</a> <span class="count">（4）</span>')
    assert.truthy(href, "the topic's link")
    local by_topic = get((href:gsub("&amp;", "&")))
    assert.are.same({ "科技政策第6号", "科技政策第4号", "科技政策第2号", "科技政策第1号" },
      titles(by_topic))
    assert.truthy(has(by_topic, '<a href="' .. href .. '" aria-current="true">科技、教育</a>'))
    assert.truthy(has(by_topic, "共 4 件"))
    -- By year: this year's link holds them all; another year none.
    local year_href, year = page:match('<a href="([^"]+)">(%d%d%d%d) 年</a>')
    assert.truthy(year_href)
    assert.are.equal(5, #titles(get((year_href:gsub("&amp;", "&")))))
    local combined = get("/kjzc/catalog?topic=" .. "%E5%B7%A5%E4%B8%9A%E3%80%81%E4%BA%A4%E9%80%9A"
      .. "&year=" .. year)
    assert.are.same({ "科技政策第5号" }, titles(combined))
    assert.truthy(has(get("/kjzc/catalog?year=" .. (tonumber(year) - 1)), "没有符合条件的文件"))
    -- One unit: no unit filter. A column that is not a policy column has no catalogue.
    assert.falsy(has(page, "发布单位</h2>"))
    assert.are.equal(404, site:request("GET", "/xwdt/catalog").status)
    -- The site-wide catalogue spans the units, and filters by them.
    local all = get("/gk/catalog")
    assert.truthy(has(all, "发布单位</h2>"))
    assert.truthy(has(all, "社区养老服务补贴办法") and has(all, "科技政策第6号"))
    local social = get("/gk/catalog?unit=social")
    assert.truthy(has(social, "社区养老服务补贴办法"))
    assert.falsy(has(social, "科技政策第6号"))
    assert.truthy(has(social, '<a href="/gk/catalog?unit=social" aria-current="true">社会事务局</a>'))
  end)

  it("keeps the paragraphs of a body pasted as plain text", function()
    local body = "各入园企业：\n\n为做好园区安全生产工作，现将有关事项通知如下。\n"
      .. "一、落实安全生产责任。\r\n二、开展隐患排查。\n\n\n　　三、加强应急演练。\n"
    local id = publish("/xwdt", { title = "关于做好安全生产工作的通知", body = body })
    local page = get("/xwdt/" .. id)
    local shown = page:match('<div class="body">%s*(.-)%s*</div>')
    assert.are.equal("<p>各入园企业：</p>\n<p>为做好园区安全生产工作，现将有关事项通知如下。</p>\n"
      .. "<p>一、落实安全生产责任。</p>\n<p>二、开展隐患排查。</p>\n<p>　　三、加强应急演练。</p>",
      shown)
    -- The editor sees the paragraphs as HTML in the form; saving again changes nothing.
    local form = b.ed:get("/xwdt/manage/" .. id .. "/edit").body
    assert.truthy(has(form, "&lt;p&gt;各入园企业：&lt;/p&gt;"))
  end)
end)

describe("articles: 索引号 by year, across the turn of the year", function()
  it("starts each unit's serial again in a new year, and the catalogue filters by year", function()
    local site = testing.start_site({ plugins = { "plugins", "tests/fixtures/plugins" }, site = {
      units = { { code = "invest", name = "招商局" } },
      columns = {
        { path = "/zcwj", title = "政策文件", kind = "policy", unit = "invest",
          plugin = "articles", config = { chain = { "review" } } },
        { path = "/items", title = "索引", kind = "static", unit = "center", plugin = "itemkit" },
      } } })
    finally(function() site:stop() end)
    site:add_user("ed", "invest", "editor", "编辑", pw("ed"))
    site:add_user("rev1", "invest", "reviewer", "审核", pw("rev1"))
    local function login()
      return publisher({ ed = site:browser():login("ed", pw("ed")),
                         rev1 = site:browser():login("rev1", pw("rev1")) })
    end
    local function no(id)
      return fact(site:request("GET", "/zcwj/" .. id).body, "索引号")
    end
    local publish = login()
    local a = publish("/zcwj", { title = "去年的办法甲", body = "<p>甲。</p>" })
    local b = publish("/zcwj", { title = "去年的办法乙", body = "<p>乙。</p>",
      expires_at = os.date("%Y-%m-%d", os.time() + 30 * 86400) })
    local year = tonumber(no(a):match("^invest%-(%d+)%-00001$"))
    assert.truthy(year, no(a))
    assert.are.equal(("invest-%d-00002"):format(year), no(b))
    -- A year and more later.
    site:halt()
    site:restart({ "--clock-offset-s", tostring(400 * 86400) })
    publish = login()
    local c = publish("/zcwj", { title = "今年的办法丙", body = "<p>丙。</p>" })
    local now_year = tonumber(no(c):match("^invest%-(%d+)%-00001$"))
    assert.truthy(now_year and now_year > year, no(c))
    assert.are.equal(("invest-%d-00001"):format(year), no(a), "kept")
    -- The expiry of 乙 passed meanwhile: the site's index hears 已失效.
    testing.eventually(function()
      local res = site:request("GET", "/items/latest?column=/zcwj&limit=10")
      for _, it in ipairs(cjson.decode(res.body)) do
        if it.key == tostring(b) then return it.attrs.validity == "已失效" end
      end
    end, 10, "the expiry told to the index")
    -- The catalogue, by year.
    local function titles(path)
      local out = {}
      for t in site:request("GET", path).body:gmatch('<td><a href="/zcwj/%d+">(.-)</a>') do
        out[#out + 1] = t
      end
      return out
    end
    assert.are.same({ "今年的办法丙", "去年的办法乙", "去年的办法甲" }, titles("/zcwj/catalog"))
    assert.are.same({ "去年的办法乙", "去年的办法甲" }, titles("/zcwj/catalog?year=" .. year))
    assert.are.same({ "今年的办法丙" }, titles("/zcwj/catalog?year=" .. now_year))
    local page = site:request("GET", "/zcwj/catalog").body
    assert.truthy(page:find(('<a href="/zcwj/catalog%%?year=%d">%d 年</a>'):format(year, year)))
    assert.truthy(page:find('<span class="mark">已失效</span>', 1, true))
  end)
end)
