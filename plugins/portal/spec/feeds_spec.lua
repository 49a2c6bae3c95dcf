-- The site-wide feeds and sitemap (a portal binding with page = "feeds"),
-- from the index of every plugin's published items (park.items): an
-- article, a survey and an interview, with absolute links; well-formed XML
-- (lua-expat); a withdrawal leaves them at once; a month that may hold more
-- than 50,000 items is listed by days.
local testing = require("park.testing")
local cjson = require("cjson")
local lxp = require("lxp")

local BASE = "https://www.example.gov.cn"

local SITE = {
  columns = {
    { path = "/", title = "首页", kind = "static", unit = "center", plugin = "portal",
      config = { site_name = "测试高新区" } },
    { path = "/gxcy", title = "高新创业", kind = "section", unit = "center", plugin = "portal",
      config = { page = "section" } },
    { path = "/gxcy/zcwj", title = "政策文件", parent = "/gxcy", kind = "policy", unit = "center",
      plugin = "articles", config = { chain = { "review" } } },
    { path = "/myzj", title = "民意征集", kind = "interaction", unit = "center", plugin = "survey",
      config = { chain = { "review" } } },
    { path = "/zxft", title = "在线访谈", kind = "interaction", unit = "center",
      plugin = "interview", config = { chain = { "review" } } },
    { path = "/feeds", title = "信息订阅", kind = "static", unit = "center", plugin = "portal",
      config = { page = "feeds", site_url = BASE .. "/", site_name = "测试高新区" } },
    { path = "/dy", title = "信息订阅", kind = "static", unit = "center", plugin = "portal",
      config = { page = "feeds" } },
  },
}

local function has(body, s) return body:find(s, 1, true) ~= nil end

-- Dates in the site's zone (utc-offset-min: 480 by default), whatever the
-- spec's TZ: the month it is now, and the time of a midnight.
local ZONE = 480 * 60
local function this_month() return os.date("!%Y-%m", os.time() + ZONE) end
local function midnight(y, m, d)
  local t = os.time({ year = y, month = m, day = d, hour = 0 })
  return t + os.time(os.date("*t", t)) - os.time(os.date("!*t", t)) - ZONE
end

-- The document parsed by lua-expat (raises when it is not well-formed):
-- its root element's name, and the text of every element by name.
local function parse(xml)
  local root, texts, stack, text = nil, {}, {}, {}
  local p = lxp.new({
    StartElement = function(_, name)
      root = root or name
      stack[#stack + 1] = name
      text = {}
    end,
    CharacterData = function(_, s) text[#text + 1] = s end,
    EndElement = function(_, name)
      texts[name] = texts[name] or {}
      table.insert(texts[name], table.concat(text))
      stack[#stack] = nil
      text = {}
    end,
  })
  local ok, err, line = p:parse(xml)
  assert(ok, ("not well-formed: %s at line %s"):format(tostring(err), tostring(line)))
  ok, err, line = p:parse()
  assert(ok, ("not well-formed: %s at line %s"):format(tostring(err), tostring(line)))
  p:close()
  return root, texts
end

describe("portal: the site-wide feeds and sitemap", function()
  local site, ed, rv, ld
  local article, survey, interview

  local function approve(manage)
    ed:get(manage)
    assert.are.equal(303, ed:post(manage .. "/submit", {}).status)
    rv:get(manage)
    assert.are.equal(303, rv:post(manage .. "/decide", { decision = "approve" }).status)
  end

  setup(function()
    site = testing.start_site({ plugins = { "plugins" }, site = SITE })
    site:add_user("ed", "center", "editor", "编辑", "ed-password")
    site:add_user("rv", "center", "reviewer", "审核", "rv-password")
    site:add_user("ld", "center", "leader", "领导", "ld-password")
    ed = site:browser():login("ed", "ed-password")
    rv = site:browser():login("rv", "rv-password")
    ld = site:browser():login("ld", "ld-password")
    local date = function(t) return os.date("%Y-%m-%d %H:%M", t) end
    ed:get("/gxcy/zcwj/manage/new")
    local res = ed:post("/gxcy/zcwj/manage/new", { title = "优化营商环境若干措施 & <附件>",
      summary = "措施摘要", body = "<p>措施如下。</p>" })
    assert.are.equal(303, res.status, res.body)
    article = res.headers.location
    approve(article)
    ed:get("/myzj/manage/new")
    res = ed:post("/myzj/manage/new", { title = "营商环境满意度调查", purpose = "了解评价",
      questions = "[single] q1 您满意吗？ *\n- 满意\n- 不满意",
      opens_at = date(os.time() - 3600), closes_at = date(os.time() + 2 * 86400) })
    assert.are.equal(303, res.status, res.body)
    survey = res.headers.location
    approve(survey)
    ed:get("/zxft/manage/new")
    res = ed:post("/zxft/manage/new", { title = "局长谈园区发展", topic = "营商环境",
      unit_name = "招商局", guests = "张主任|招商局局长", host = "王主持",
      starts_at = date(os.time() + 7 * 86400), minutes = "60", intro = "欢迎提问。" })
    assert.are.equal(303, res.status, res.body)
    interview = res.headers.location
    approve(interview)
  end)

  teardown(function()
    assert.are.equal(0, site:stop())
  end)

  local function get(path, headers)
    local res = site:request("GET", path, headers)
    assert.are.equal(200, res.status, path .. ": " .. res.body)
    return res
  end

  -- Every URL the sitemap index lists, and the sitemaps' names.
  local function sitemap_urls(prefix)
    local res = get(prefix .. "/sitemap.xml")
    assert.are.equal("application/xml; charset=utf-8", res.headers["content-type"])
    local root, texts = parse(res.body)
    assert.are.equal("sitemapindex", root)
    local urls, files = {}, {}
    for _, loc in ipairs(texts.loc) do
      local path = assert(loc:match("^" .. BASE:gsub("%p", "%%%0") .. "(/.*)$"), loc)
      files[#files + 1] = path
      local r, t = parse(get(path).body)
      assert.are.equal("urlset", r)
      for _, u in ipairs(t.loc or {}) do urls[u] = true end
    end
    return urls, files
  end

  it("lists every published item of every plugin in the sitemap, with the columns", function()
    local urls, files = sitemap_urls("/feeds")
    assert.are.same({ "/feeds/sitemap/columns.xml",
                      "/feeds/sitemap/" .. this_month() .. ".xml" }, files)
    local function public(manage) return BASE .. manage:gsub("/manage/", "/") end
    assert.truthy(urls[public(article)], "the article " .. public(article))
    assert.truthy(urls[public(survey)], "the survey " .. public(survey))
    assert.truthy(urls[public(interview)], "the interview " .. public(interview))
    for _, path in ipairs({ "/", "/gxcy", "/gxcy/zcwj", "/myzj", "/zxft", "/feeds" }) do
      assert.truthy(urls[BASE .. path], path)
    end
    assert.are.equal(404, site:request("GET", "/feeds/sitemap/2026-13.xml").status)
    assert.are.equal(404, site:request("GET", "/feeds/sitemap/2026-02-30.xml").status)
    assert.are.equal(404, site:request("GET", "/feeds/sitemap/x.xml").status)
    assert.are.equal(404, site:request("GET", "/sitemap.xml").status, "only on a feeds column")
    assert.are.equal(404, site:request("GET", "/gxcy/feed.xml").status)
  end)

  it("serves the newest items of the whole site as RSS 2.0, Atom and JSON Feed", function()
    local res = get("/feeds/feed.xml")
    assert.are.equal("application/rss+xml; charset=utf-8", res.headers["content-type"])
    local root, t = parse(res.body)
    assert.are.equal("rss", root)
    assert.are.equal("测试高新区", t.title[1])
    for _, title in ipairs({ "优化营商环境若干措施 & <附件>", "营商环境满意度调查", "局长谈园区发展" }) do
      local found = false
      for _, x in ipairs(t.title) do found = found or x == title end
      assert.truthy(found, title)
    end
    for _, link in ipairs(t.link) do assert.matches("^" .. BASE:gsub("%p", "%%%0") .. "/", link) end
    assert.matches("^%a%a%a, %d%d %a%a%a %d%d%d%d %d%d:%d%d:%d%d GMT$", t.pubDate[1])
    root, t = parse(get("/feeds/atom.xml").body)
    assert.are.equal("feed", root)
    assert.are.equal(3, #t.entry)
    local json = cjson.decode(get("/feeds/feed.json").body)
    assert.are.equal("https://jsonfeed.org/version/1.1", json.version)
    assert.are.equal(3, #json.items)
    -- The column's own page says where to subscribe, and the head links them.
    local page = get("/feeds").body
    assert.truthy(has(page, '<link rel="alternate" type="application/rss+xml" title="RSS" '
      .. 'href="/feeds/feed.xml">'))
    assert.truthy(has(page, '<a href="/feeds/sitemap.xml">'))
  end)

  it("takes a withdrawn item out at once", function()
    local url = BASE .. article:gsub("/manage/", "/")
    assert.truthy(has(get("/feeds/feed.xml").body, url))
    ld:get(article)
    assert.are.equal(303, ld:post(article .. "/withdraw", { reason = "内容有误" }).status)
    assert.falsy(has(get("/feeds/feed.xml").body, url))
    assert.falsy(sitemap_urls("/feeds")[url])
  end)

  it("makes absolute links from the request without a site_url, kept apart by host", function()
    local a = get("/dy/feed.xml", { Host = "a.example.cn" }).body
    local b = get("/dy/feed.xml", { Host = "b.example.cn", ["X-Forwarded-Proto"] = "https" }).body
    assert.truthy(has(a, "<link>http://a.example.cn/myzj/"))
    assert.falsy(has(a, "b.example.cn"))
    assert.truthy(has(b, "<link>https://b.example.cn/myzj/"), "not a.example.cn's kept copy")
  end)

  it("lists a month that may hold more than 50,000 items by days", function()
    local sqlite3 = io.popen("command -v sqlite3"):read("a")
    if sqlite3 == "" then
      pending("needs the sqlite3 command to add 50,001 items at once")
      return
    end
    -- 25,001 items on 10 March 2025 and 25,000 on the 11th (straight into
    -- the index: only park_items matters to the sitemap), 3 in February.
    local t10, t11 = midnight(2025, 3, 10), midnight(2025, 3, 11)
    local feb = midnight(2025, 2, 3)
    local sql = ([[
.timeout 10000
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 50004)
INSERT INTO park_items (plugin, key, column_id, kind, title, url, published_at, updated_at)
SELECT 'bulk', 'k' || i, (SELECT id FROM park_columns WHERE path = '/gxcy/zcwj'), 'notice',
  'T' || i, '/gxcy/zcwj/b' || i, t, t
FROM (SELECT i, CASE WHEN i <= 3 THEN %d + i WHEN i <= 25004 THEN %d + i ELSE %d + i END AS t
      FROM n);
]]):format(feb, t10, t11)
    local f = assert(io.popen("sqlite3 '" .. site.db_path .. "'", "w"))
    f:write(sql)
    assert(f:close())
    -- Written behind the server's back (as a command would): the workers
    -- see the index move at their next poll (site-poll-ms), not at once.
    local names
    testing.eventually(function()
      local _, files = sitemap_urls("/feeds")
      names = {}
      for i, path in ipairs(files) do names[i] = path:match("/sitemap/(.*)%.xml$") end
      return #names == 5
    end, 5, "the sitemap to see the items written by sqlite3")
    assert.are.same({ "columns", this_month(), "2025-03-11", "2025-03-10", "2025-02" }, names)
    local body = get("/feeds/sitemap/2025-03-10.xml").body
    local _, count = body:gsub("<url>", "")
    assert.are.equal(25001, count)
    local _, t = parse(get("/feeds/sitemap/2025-02.xml").body)
    assert.are.equal(3, #t.loc)
  end)
end)
