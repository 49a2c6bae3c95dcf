-- The site-wide index (park.items) through a real server: a plugin reports
-- what it publishes on its own columns, the server stamps the publication
-- time once and no argument can set it, search finds Chinese words, and
-- any plugin reads what every plugin published.
local testing = require("park.testing")
local cjson = require("cjson")

local SITE = {
  columns = {
    { path = "/gxcy", title = "高新创业", kind = "section", unit = "center" },
    { path = "/gxcy/tzgg", title = "通知公告", parent = "/gxcy", kind = "notice", unit = "center",
      plugin = "itemkit" },
    { path = "/gxcy/zcwj", title = "政策文件", parent = "/gxcy", kind = "policy", unit = "center",
      plugin = "itemkit" },
    { path = "/hello", title = "Hello", kind = "static", unit = "center", plugin = "hello" },
    { path = "/other", title = "Other", kind = "static", unit = "center", plugin = "sitekit" },
  },
}
local FORM = { ["Content-Type"] = "application/x-www-form-urlencoded" }

local function form(t)
  local parts = {}
  for k, v in pairs(t) do
    parts[#parts + 1] = k .. "=" .. tostring(v):gsub("[^%w%-_%.~]", function(c)
      return ("%%%02X"):format(c:byte())
    end)
  end
  return table.concat(parts, "&")
end

describe("park.items", function()
  local site
  setup(function()
    site = testing.start_site({ plugins = { "plugins", "tests/fixtures/plugins" }, site = SITE })
  end)
  teardown(function()
    assert.are.equal(0, site:stop())
  end)

  local function post(path, t)
    local res = site:request("POST", path, FORM, form(t))
    return res.status, res.status == 200 and cjson.decode(res.body) or res.body
  end
  local function get(path)
    local res = site:request("GET", path)
    assert.are.equal(200, res.status, res.body)
    return cjson.decode(res.body)
  end

  it("stamps the publication time once, and no argument can set it", function()
    local status, r = post("/gxcy/tzgg/publish", { key = "n1", title = "关于高新技术企业认定的通知",
      text = "请各企业按时申报。", written_on = "2025-01-01", doc_no = "高新发〔2026〕1号" })
    assert.are.equal(200, status, r)
    assert.is_true(r.first)
    assert.is_true(math.abs(r.published_at - os.time()) < 5, "the server's clock")
    local first = r.published_at
    -- A backdated or future date through the call itself: refused.
    for _, when in ipairs({ "1735689600", "1811808000" }) do
      status = post("/gxcy/tzgg/publish", { key = "n1", title = "改", published_at = when })
      assert.are.equal(500, status)
    end
    assert.matches("published_at is stamped by the server", site:log())
    -- Published again (a revision): the same publication time.
    os.execute("sleep 1.1")
    status, r = post("/gxcy/tzgg/publish", { key = "n1",
                                             title = "关于高新技术企业认定的通知（修订）" })
    assert.are.equal(200, status)
    assert.is_false(r.first)
    assert.are.equal(first, r.published_at)
    assert.is_true(r.updated_at > first)
    -- What the editor typed is an attribute, shown as such.
    local latest = get("/gxcy/tzgg/latest?column=/gxcy/tzgg")
    assert.are.equal(1, #latest)
    assert.are.equal("n1", latest[1].key)
    assert.are.equal(first, latest[1].published_at)
    assert.are.same({}, latest[1].attrs, "the revision carried no attrs")
  end)

  it("takes items only on the plugin's own columns, with a site URL", function()
    assert.are.equal(500, (post("/gxcy/tzgg/publish", { key = "x", title = "t",
                                                          column = "/hello" })))
    assert.are.equal(500, (post("/gxcy/tzgg/publish", { key = "x", title = "t",
                                                          column = "/nope" })))
    assert.are.equal(500, (post("/gxcy/tzgg/publish", { key = "x", title = "t",
                                                          url = "//evil.example/x" })))
    assert.are.equal(500, (post("/gxcy/tzgg/publish", { key = "x", title = "t", kind = "rumour" })))
    assert.matches("column /hello is not served by plugin itemkit", site:log())
    assert.are.equal(200, (post("/gxcy/tzgg/publish", { key = "p1", title = "园区人才政策",
      column = "/gxcy/zcwj", kind = "policy", text = "人才公寓申请办法。" })))
  end)

  it("lists the newest first and finds Chinese words across columns", function()
    post("/gxcy/tzgg/publish", { key = "n2", title = "春节放假安排", text = "除夕至初六放假。" })
    local latest = get("/other/items/latest?column=/gxcy")
    local keys = {}
    for i, it in ipairs(latest) do keys[i] = it.key end
    assert.are.same({ "n2", "p1", "n1" }, keys)
    assert.are.equal("通知公告", latest[1].column_title)
    assert.are.equal("center", latest[1].unit)
    local function found(q, kind)
      local r = get("/other/items/search?q=" .. form({ q = q }):sub(3)
        .. (kind and "&kind=" .. kind or ""))
      local out = {}
      for i, it in ipairs(r.found or {}) do out[i] = it.key end
      return out, r.why
    end
    assert.are.same({ "n1" }, (found("高新技术")))
    assert.are.same({ "p1" }, (found("公寓")))
    assert.are.same({ "n2" }, (found("放假")))
    assert.are.same({ "p1" }, (found("人才", "policy")))
    assert.are.same({}, (found("不存在")))
    local none, why = found("？？")
    assert.are.same({}, none)
    assert.are.equal("请输入要查找的字词", why)
  end)

  it("lets a plugin withdraw only its own items", function()
    local status, r = post("/other/items/withdraw", { key = "n2" })
    assert.are.equal(200, status)
    assert.is_false(r.found, "sitekit has no item n2")
    local _; _, r = post("/gxcy/tzgg/withdraw", { key = "n2" })
    assert.is_true(r.found)
    assert.are.same({}, get("/other/items/search?q=" .. form({ q = "放假" }):sub(3)).found)
  end)

  it("needs the column in a job, and a job's item is stamped when it runs", function()
    local before = os.time()
    assert.are.equal(200, (post("/gxcy/tzgg/later", { key = "j1", title = "定时发布的通知",
                                                      column = "/gxcy/tzgg" })))
    local item = testing.eventually(function()
      for _, it in ipairs(get("/gxcy/tzgg/latest?column=/gxcy/tzgg")) do
        if it.key == "j1" then return it end
      end
    end, 10, "the job's item")
    assert.is_true(item.published_at >= before + 1, "stamped when the job ran, not before")
  end)
end)

describe("park.items from the articles plugin", function()
  local site, ed, rv, ld
  setup(function()
    site = testing.start_site({ plugins = { "plugins", "tests/fixtures/plugins" }, site = {
      columns = {
        { path = "/", title = "首页", kind = "static", unit = "center", plugin = "portal",
          config = { site_name = "测试高新区" } },
        { path = "/search", title = "全站检索", kind = "static", unit = "center",
          plugin = "portal", config = { page = "search" } },
        { path = "/zcwj", title = "政策文件", kind = "policy", unit = "center", plugin = "articles",
          config = { chain = { "review" } } },
        { path = "/other", title = "Other", kind = "static", unit = "center", plugin = "sitekit" },
        { path = "/myzj", title = "民意征集", kind = "interaction", unit = "center",
          plugin = "survey", config = { chain = { "review" } } },
        { path = "/zxft", title = "在线访谈", kind = "interaction", unit = "center",
          plugin = "interview", config = { chain = { "review" } } },
      } } })
    site:add_user("ed", "center", "editor", "编辑", "ed-password")
    site:add_user("rv", "center", "reviewer", "审核", "rv-password")
    ed = site:browser():login("ed", "ed-password")
    rv = site:browser():login("rv", "rv-password")
    site:add_user("ld", "center", "leader", "领导", "ld-password")
    ld = site:browser():login("ld", "ld-password")
  end)
  teardown(function()
    assert.are.equal(0, site:stop())
  end)

  local function search(q)
    local res = site:request("GET", "/other/items/search?q=" .. q:gsub("[^%w]", function(c)
      return ("%%%02X"):format(c:byte())
    end))
    return cjson.decode(res.body).found
  end

  it("indexes an article when it goes public, stamped then, and drops it when withdrawn",
    function()
    ed:get("/zcwj/manage/new")
    local res = ed:post("/zcwj/manage/new", { title = "园区人才公寓管理办法",
      body = "<p>人才公寓的申请条件。</p>", pub_date = "2025-01-01" })
    assert.are.equal(303, res.status, res.body)
    local manage = res.headers.location
    local id = manage:match("(%d+)$")
    ed:get(manage)
    assert.are.equal(303, ed:post(manage .. "/submit", {}).status)
    assert.are.same({}, search("人才公寓"), "not before review")
    local before = os.time()
    rv:get(manage)
    assert.are.equal(303, rv:post(manage .. "/decide", { decision = "approve" }).status)
    local found = search("人才公寓")
    assert.are.equal(1, #found)
    assert.are.equal(id, found[1].key)
    assert.are.equal("articles", found[1].plugin)
    assert.are.equal("policy", found[1].kind)
    assert.are.equal("/zcwj/" .. id, found[1].url)
    assert.is_true(found[1].published_at >= before, "the server's time, not the typed 2025-01-01")
    assert.are.equal("2025-01-01", found[1].attrs.written_on, "the typed date is 成文日期")
    assert.are.same(found, search("申请条件"), "the body is searched too")
    -- Repealed (废止): still listed, marked; withdrawn: out of the index.
    ld:get(manage)
    assert.are.equal(303, ld:post(manage .. "/repeal", { reason = "已被新办法替代" }).status)
    found = search("人才公寓")
    assert.are.equal("已废止", found[1].attrs.validity)
    assert.are.equal(found[1].published_at, search("申请条件")[1].published_at)
    ld:get(manage)
    assert.are.equal(303, ld:post(manage .. "/withdraw", { reason = "内容有误" }).status)
    assert.are.same({}, search("人才公寓"))
  end)

  -- Submit the item at `manage` and approve it (a one-step chain).
  local function approve(manage)
    ed:get(manage)
    assert.are.equal(303, ed:post(manage .. "/submit", {}).status)
    rv:get(manage)
    assert.are.equal(303, rv:post(manage .. "/decide", { decision = "approve" }).status)
  end

  it("finds an article, a survey and an interview for one query, each of its kind", function()
    local date = function(t) return os.date("%Y-%m-%d %H:%M", t) end
    ed:get("/zcwj/manage/new")
    local res = ed:post("/zcwj/manage/new", { title = "优化营商环境若干措施",
      body = "<p>措施如下。</p>" })
    approve(res.headers.location)
    ed:get("/myzj/manage/new")
    res = ed:post("/myzj/manage/new", { title = "营商环境满意度调查", purpose = "了解评价",
      questions = "[single] q1 您满意吗？ *\n- 满意\n- 不满意",
      opens_at = date(os.time() - 3600), closes_at = date(os.time() + 2 * 86400) })
    assert.are.equal(303, res.status, res.body)
    approve(res.headers.location)
    ed:get("/zxft/manage/new")
    res = ed:post("/zxft/manage/new", { title = "局长谈园区发展", topic = "营商环境",
      unit_name = "招商局", guests = "张主任|招商局局长", host = "王主持",
      starts_at = date(os.time() + 7 * 86400), minutes = "60", intro = "欢迎提问。" })
    assert.are.equal(303, res.status, res.body)
    approve(res.headers.location)
    local kinds = {}
    for _, it in ipairs(search("营商环境")) do kinds[#kinds + 1] = it.kind end
    table.sort(kinds)
    assert.are.same({ "interview", "policy", "survey" }, kinds)
    -- The front page shows the newest of all three, and invites to take part.
    local home = site:request("GET", "/").body
    local latest = home:match('<section class="section latest".-</section>') or ""
    for _, title in ipairs({ "优化营商环境若干措施", "营商环境满意度调查", "局长谈园区发展" }) do
      assert.truthy(latest:find(title, 1, true), title .. " among the newest")
    end
    local take_part = home:match('<h2 id="take%-part">.-</section>') or ""
    assert.truthy(take_part:find("营商环境满意度调查", 1, true))
    assert.truthy(take_part:find("局长谈园区发展", 1, true))
    -- The site-wide search page: every kind, counted, the words marked.
    local function page(query)
      local got = site:request("GET", "/search?" .. query)
      assert.are.equal(200, got.status, got.body)
      return got.body
    end
    local q = "q=%E8%90%A5%E5%95%86%E7%8E%AF%E5%A2%83" -- 营商环境
    local body = page(q)
    assert.truthy(body:find("共找到 3 条信息", 1, true))
    for _, g in ipairs({ "政策（1）", "征集（1）", "访谈（1）" }) do
      assert.truthy(body:find(g, 1, true), g)
    end
    assert.truthy(body:find("优化<mark>营商环境</mark>若干措施", 1, true))
    assert.truthy(body:find("<mark>营商环境</mark>满意度调查", 1, true))
    -- Every character whole: 局 shares a byte with 。 and 、, yet 局长 is
    -- marked as one word.
    body = page("q=%E5%B1%80%E9%95%BF%E3%80%82") -- 局长。
    assert.truthy(body:find("<mark>局长</mark>谈园区发展", 1, true))
    body = page(q .. "&kind=survey")
    assert.truthy(body:find("营商环境</mark>满意度调查", 1, true))
    assert.falsy(body:find("若干措施", 1, true), "one kind only")
    -- Nothing found: said so, with what others search for and the newest.
    body = page("q=%E4%B8%8D%E5%AD%98%E5%9C%A8%E7%9A%84%E5%86%85%E5%AE%B9") -- 不存在的内容
    assert.truthy(body:find("没有找到相关信息", 1, true))
    assert.truthy(body:match('<h2 id="popular">.-营商环境'), "searched before, and found: suggested")
    assert.truthy(body:find('<h2 id="newest">', 1, true))
    body = page("q=%3Cscript%3E%EF%BC%9F") -- <script>？
    assert.falsy(body:find("<script>", 1, true), "the query is escaped")
    assert.truthy(page("q=%EF%BC%9F%EF%BC%81"):find("请输入要查找的字词", 1, true))
  end)
end)
