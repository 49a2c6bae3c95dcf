-- The articles plugin through real HTTP with real sessions: the whole
-- review chain (先审后上、分级负责), the word check, revisions while live,
-- withdrawal and repeal, who may take which step, and what residents see.
local testing = require("park.testing")
local lxp = require("lxp")
local cjson = require("cjson")

local CHAIN = { "review", "secrecy", "leader", "center" }

local SITE = {
  units = {
    { code = "invest", name = "招商局" },
    { code = "social", name = "社会事务局" },
  },
  columns = {
    { path = "/gxcy", title = "高新创业", kind = "section", unit = "invest" },
    { path = "/gxcy/tzgg", title = "通知公告", parent = "/gxcy", kind = "notice", unit = "invest",
      plugin = "articles",
      config = { chain = CHAIN, forbidden_words = { "绝密" }, sensitive_words = { "内部资料" },
                 site_name = "示范高新区" } },
    { path = "/gxcy/zcwj", title = "政策文件", parent = "/gxcy", kind = "policy", unit = "invest",
      plugin = "articles", config = { chain = { "review" } } },
    { path = "/yqsh", title = "园区生活", kind = "section", unit = "social" },
    { path = "/yqsh/tz", title = "社区通知", parent = "/yqsh", kind = "notice", unit = "social",
      plugin = "articles", config = { chain = { "review" } } },
    { path = "/search", title = "全站检索", kind = "static", unit = "center", plugin = "articles",
      config = { scope = "site" } },
  },
}

local STAFF = {
  { "ed", "invest", "editor", "招商编辑" },
  { "rev1", "invest", "reviewer", "招商审核一" },
  { "rev2", "invest", "reviewer", "招商审核二" },
  { "lead", "invest", "leader", "招商领导" },
  { "crev", "center", "reviewer", "中心审核" },
  { "sed", "social", "editor", "社会事务编辑" },
  { "srev", "social", "reviewer", "社会事务审核" },
}

local function pw(login) return login .. "-password" end

local function has(body, s) return body:find(s, 1, true) ~= nil end

describe("articles", function()
  local site, b = nil, {}

  setup(function()
    site = testing.start_site({ plugins = { "plugins" }, site = SITE })
    for _, s in ipairs(STAFF) do
      site:add_user(s[1], s[2], s[3], s[4], pw(s[1]))
      b[s[1]] = site:browser():login(s[1], pw(s[1]))
    end
  end)

  teardown(function()
    assert.are.equal(0, site:stop())
  end)

  -- Write an article as `who` in `column`; returns its id.
  local function write(who, column, fields)
    b[who]:get(column .. "/manage/new")
    local res = b[who]:post(column .. "/manage/new", fields)
    assert.are.equal(303, res.status, res.body)
    return tonumber(res.headers.location:match("/manage/(%d+)$"))
  end

  local function submit(who, column, id)
    b[who]:get(("%s/manage/%d"):format(column, id))
    return b[who]:post(("%s/manage/%d/submit"):format(column, id), {})
  end

  local function decide(who, column, id, decision, comment)
    b[who]:get(("%s/manage/%d"):format(column, id))
    return b[who]:post(("%s/manage/%d/decide"):format(column, id),
      { decision = decision, comment = comment or "" })
  end

  -- Take a submitted article through a one-step chain.
  local function publish_simple(column, title, body, extra)
    local who, reviewer = "ed", "rev1"
    if column == "/yqsh/tz" then who, reviewer = "sed", "srev" end
    local fields = { title = title, body = body }
    for k, v in pairs(extra or {}) do fields[k] = v end
    local id = write(who, column, fields)
    assert.are.equal(303, submit(who, column, id).status)
    assert.are.equal(303, decide(reviewer, column, id, "approve").status)
    return id
  end

  it("takes an article through the whole chain before residents see it", function()
    local col = "/gxcy/tzgg"
    local id = write("ed", col, { title = "关于2026年度高新技术企业认定工作的通知",
      summary = "认定工作安排", body = "<p>各有关企业：现将认定工作通知如下，绝密。</p>",
      source = "招商局", author_unit = "示范高新区招商局" })
    -- A forbidden word blocks the submission, and the page shows where.
    local res = submit("ed", col, id)
    assert.are.equal(422, res.status)
    assert.truthy(has(res.body, "<mark"), "the word is marked")
    assert.truthy(has(res.body, "绝密"))
    assert.are.equal(404, site:request("GET", col .. "/" .. id).status)
    -- Fixed; a common wording mistake only warns the reviewers.
    b.ed:get(("%s/manage/%d/edit"):format(col, id))
    res = b.ed:post(("%s/manage/%d/edit"):format(col, id), { title = "关于2026年度高新技术企业认定"
      .. "工作的通知", summary = "认定工作安排", body = "<p>各有关企业：现将认定工作及其它事项通知如下。</p>",
      source = "招商局", author_unit = "示范高新区招商局" })
    assert.are.equal(303, res.status, res.body)
    assert.are.equal(303, submit("ed", col, id).status)
    local page = b.rev1:get(("%s/manage/%d"):format(col, id)).body
    assert.truthy(has(page, "其它"), "the warning is shown to the reviewer")
    assert.truthy(has(page, "其他"), "with the right form")
    -- Nobody signs off their own text; the leader's step is not the first.
    assert.are.equal(403, decide("ed", col, id, "approve").status)
    assert.are.equal(403, decide("lead", col, id, "approve").status)
    -- Another unit's staff can neither see nor act.
    assert.are.equal(403, b.sed:get(col .. "/manage").status)
    assert.are.equal(403, decide("srev", col, id, "approve").status)
    -- Step 1, then the same reviewer cannot take step 2 (保密审查).
    assert.are.equal(303, decide("rev1", col, id, "approve", "同意").status)
    assert.are.equal(403, decide("rev1", col, id, "approve").status)
    -- Sent back with a reason, which the editor sees.
    res = decide("rev2", col, id, "return", "")
    assert.are.equal(422, res.status, "a return needs a reason")
    assert.are.equal(303, decide("rev2", col, id, "return", "请补充申报截止日期").status)
    page = b.ed:get(col .. "/manage/queue").body
    assert.truthy(has(page, "关于2026年度高新技术企业认定工作的通知"), "in the editor's queue")
    assert.truthy(has(b.ed:get(("%s/manage/%d"):format(col, id)).body, "请补充申报截止日期"))
    -- Resubmitted: every step again, each by its own people.
    assert.are.equal(303, submit("ed", col, id).status)
    assert.truthy(has(b.rev1:get(col .. "/manage/queue").body, "单位审核"))
    for _, who in ipairs({ "rev1", "rev2", "lead" }) do
      assert.are.equal(303, decide(who, col, id, "approve").status, who)
      assert.are.equal(404, site:request("GET", col .. "/" .. id).status, "not yet public")
    end
    assert.are.equal(303, decide("crev", col, id, "approve", "同意发布").status)
    -- Published: the column lists it, its page has the government metadata.
    res = site:request("GET", col .. "/" .. id)
    assert.are.equal(200, res.status)
    assert.truthy(has(res.body, '<meta name="ArticleTitle" content="关于2026年度高新技术企业认定工作的通知">'))
    assert.truthy(has(res.body, '<meta name="ColumnName" content="通知公告">'))
    assert.truthy(has(res.body, '<meta name="ContentSource" content="招商局">'))
    assert.truthy(has(res.body, '<meta name="SiteName" content="示范高新区">'))
    assert.truthy(has(res.body, '<meta name="PubDate" content="'))
    assert.truthy(has(site:request("GET", col).body, ("%s/%d"):format(col, id)))
    -- Every step is on record, and in the audit log.
    page = b.crev:get(("%s/manage/%d"):format(col, id)).body
    for _, s in ipairs({ "单位审核", "保密审查", "领导签发", "中心审核", "请补充申报截止日期" }) do
      assert.truthy(has(page, s), s)
    end
    local audit = site:command("audit", "--action", "articles.")
    assert.truthy(audit:find("articles.approve", 1, true))
    assert.truthy(audit:find("user:crev", 1, true))
  end)

  it("stamps 发布时间 itself: a typed date is 成文日期, and changing it takes a review", function()
    local col = "/gxcy/zcwj"
    -- A date in the future: refused, with why.
    b.ed:get(col .. "/manage/new")
    local res = b.ed:post(col .. "/manage/new", { title = "未来的文件", body = "<p>x</p>",
      pub_date = os.date("!%Y-%m-%d", os.time() + 30 * 86400 + 8 * 3600) })
    assert.are.equal(422, res.status)
    assert.truthy(has(res.body, '<a href="#f-pub_date">成文日期：不能晚于今天'), "in the summary")
    assert.truthy(has(res.body, '<p class="q-error" id="f-pub_date-error">成文日期：不能晚于今天'),
      "and at the field")
    -- A date in the past: the document's 成文日期, never its 发布时间.
    local before = os.time()
    local id = publish_simple(col, "二〇二五年的旧文件", "<p>旧文。</p>",
      { pub_date = "2025-01-01" })
    local page = site:request("GET", col .. "/" .. id).body
    local shown = page:match("<dt>发布时间</dt><dd><time datetime=\"([%d-]+)\"")
    -- Today in the site's zone (UTC+8), whatever the test machine's.
    assert.are.equal(os.date("!%Y-%m-%d", before + 8 * 3600), shown,
      "published today, by the server")
    assert.truthy(page:find("<dt>成文日期</dt><dd><time datetime=\"2025-01-01\"", 1, true))
    local list = site:request("GET", col).body
    assert.falsy(list:find("2025-01-01", 1, true), "the list shows the publication date")
    -- Another 成文日期 on the live article: a revision, reviewed, on record.
    b.ed:get(("%s/manage/%d/edit"):format(col, id))
    res = b.ed:post(("%s/manage/%d/edit"):format(col, id),
      { title = "二〇二五年的旧文件", body = "<p>旧文。</p>", pub_date = "2025-06-01" })
    assert.are.equal(303, res.status)
    assert.truthy(site:request("GET", col .. "/" .. id).body:find("2025-01-01", 1, true),
      "unchanged until approved")
    assert.are.equal(303, submit("ed", col, id).status)
    assert.are.equal(303, decide("rev1", col, id, "approve").status)
    page = site:request("GET", col .. "/" .. id).body
    assert.truthy(page:find("<dt>成文日期</dt><dd><time datetime=\"2025-06-01\"", 1, true))
    assert.are.equal(shown, page:match("<dt>发布时间</dt><dd><time datetime=\"([%d-]+)\""),
      "the publication time stays")
    local audit = site:command("audit", "--action", "articles.written_on")
    assert.truthy(audit:find("2025-01-01", 1, true) and audit:find("2025-06-01", 1, true), audit)
  end)

  it("shows each error at its field, keeps what was typed, and survives a lost token", function()
    local col = "/gxcy/tzgg"
    b.ed:get(col .. "/manage/new")
    local res = b.ed:post(col .. "/manage/new", { title = "", summary = "摘要照留",
      body = "<p>正文\11照留</p>", related = "999999", expires_at = "2026年" })
    assert.are.equal(422, res.status)
    local body = res.body
    assert.truthy(has(body, "<h1>错误：撰写文章</h1>"))
    assert.truthy(has(body, "提交的内容有 3 处需要修改"))
    for name, message in pairs({ title = "标题：请填写",
                                 expires_at = "有效期至：格式应为 2026-01-31",
                                 related = "相关文章：编号 999999 的文章不存在或未发布" }) do
      assert.truthy(has(body, ('<li><a href="#f-%s">%s</a></li>'):format(name, message)), message)
      assert.truthy(has(body, ('<p class="q-error" id="f-%s-error">%s</p>'):format(name, message)))
      assert.matches(('id="f%%-%s" name="%s"[^>]- aria%%-invalid="true"'
        .. ' aria%%-describedby="[^"]*f%%-%s%%-error"'):format(name, name, name), body)
    end
    assert.truthy(has(body, ">摘要照留</textarea>"), "the rest as typed")
    assert.truthy(has(body, "正文照留"), "a control character pasted into the body is dropped")
    -- A post whose token was lost: the form again, with what was typed.
    res = b.ed:post(col .. "/manage/new", { title = "令牌丢失时写的通知", body = "<p>长文</p>" },
      "stale-token")
    assert.are.equal(403, res.status)
    assert.truthy(has(res.body, "页面已过期，内容尚未提交"))
    assert.truthy(has(res.body, 'value="令牌丢失时写的通知"'))
    local id = write("ed", col, { title = "保存过的通知", body = "<p>原文</p>" })
    res = b.ed:post(("%s/manage/%d/edit"):format(col, id), { title = "改过的标题",
      body = "<p>改过的正文</p>" }, "stale-token")
    assert.are.equal(403, res.status)
    assert.truthy(has(res.body, 'value="改过的标题"'), "what was typed, not the saved text")
    assert.truthy(has(res.body, "改过的正文"))
  end)

  it("publishes at the time asked for once approved, not before, across a restart", function()
    local s2 = testing.start_site({ plugins = { "plugins" }, site = {
      units = { { code = "invest", name = "招商局" } },
      columns = { { path = "/t", title = "通知", kind = "notice", unit = "invest",
                    plugin = "articles", config = { chain = { "review" } } } } } })
    finally(function() s2:stop() end)
    s2:add_user("ed2", "invest", "editor", "编辑", "e-password-1")
    s2:add_user("rv2", "invest", "reviewer", "审核", "r-password-1")
    local e = s2:browser():login("ed2", "e-password-1")
    local r = s2:browser():login("rv2", "r-password-1")
    -- The site's time is UTC+8 (utc-offset-min 480): two minutes from now.
    local function site_time(t) return os.date("!%Y-%m-%d %H:%M", t + 8 * 3600) end
    local at = site_time(os.time() + 120)
    e:get("/t/manage/new")
    local res = e:post("/t/manage/new", { title = "定时发布的通知", body = "<p>到点发布。</p>",
      publish_at = site_time(os.time() - 60) })
    assert.are.equal(422, res.status, "a time already past is refused")
    res = e:post("/t/manage/new", { title = "定时发布的通知", body = "<p>到点发布。</p>",
      publish_at = at })
    assert.are.equal(303, res.status, res.body)
    local manage = res.headers.location
    local id = manage:match("(%d+)$")
    e:get(manage)
    assert.are.equal(303, e:post(manage .. "/submit", {}).status)
    r:get(manage)
    assert.are.equal(303, r:post(manage .. "/decide", { decision = "approve" }).status)
    -- Approved, and waiting for its time: not public, in no reviewer's queue.
    assert.are.equal(404, s2:request("GET", "/t/" .. id).status)
    assert.truthy(r:get(manage).body:find("将于 " .. at .. " 定时发布", 1, true))
    assert.falsy(r:get(manage).body:find('value="approve"', 1, true), "nothing left to decide")
    -- The server is down when the time comes; three minutes later it is up.
    s2:halt()
    s2:restart({ "--clock-offset-s", "180" })
    local page = testing.eventually(function()
      local p = s2:request("GET", "/t/" .. id)
      return p.status == 200 and p.body
    end, 10, "the article published by its job")
    local shown = page:match("<dt>发布时间</dt><dd><time[^>]*>([^<]+)</time>")
    assert.is_true(shown >= at, ("published at %s, asked for %s"):format(shown, at))
  end)

  it("keeps the published text live while a revision goes through the chain", function()
    local col = "/gxcy/zcwj"
    local id = publish_simple(col, "园区人才引进办法", "<p>第一条 适用范围。</p>")
    b.ed:get(("%s/manage/%d/edit"):format(col, id))
    local res = b.ed:post(("%s/manage/%d/edit"):format(col, id),
      { title = "园区人才引进办法（修订）", body = "<p>第一条 适用范围。</p><p>第二条 新增条款。</p>" })
    assert.are.equal(303, res.status)
    assert.truthy(has(site:request("GET", col .. "/" .. id).body, "园区人才引进办法"))
    assert.falsy(has(site:request("GET", col .. "/" .. id).body, "新增条款"), "still the old text")
    assert.are.equal(303, submit("ed", col, id).status)
    assert.falsy(has(site:request("GET", col .. "/" .. id).body, "新增条款"))
    assert.are.equal(303, decide("rev1", col, id, "approve").status)
    local page = site:request("GET", col .. "/" .. id).body
    assert.truthy(has(page, "新增条款"), "the revision replaced the live text")
    assert.truthy(has(page, "（修订）"))
    -- Both revisions are kept and can be compared.
    local diff = b.rev1:get(("%s/manage/%d/compare?a=1&b=2"):format(col, id))
    assert.are.equal(200, diff.status)
    assert.truthy(has(diff.body, "<ins>"), diff.body)
    assert.truthy(has(diff.body, "新增条款"))
  end)

  it("withdraws with a reason and marks a repealed policy, both on record", function()
    local col = "/gxcy/zcwj"
    local gone = publish_simple(col, "临时停车管理通知", "<p>停车安排。</p>")
    local repealed = publish_simple(col, "旧版企业扶持办法", "<p>扶持条款。</p>")
    assert.are.equal(403, b.ed:post(("%s/manage/%d/withdraw"):format(col, gone),
      { reason = "过期" }).status, "an editor does not withdraw")
    b.lead:get(("%s/manage/%d"):format(col, gone))
    assert.are.equal(422, b.lead:post(("%s/manage/%d/withdraw"):format(col, gone),
      { reason = "" }).status)
    assert.are.equal(303, b.lead:post(("%s/manage/%d/withdraw"):format(col, gone),
      { reason = "信息有误" }).status)
    assert.are.equal(410, site:request("GET", col .. "/" .. gone).status)
    assert.falsy(has(site:request("GET", col).body, "临时停车管理通知"))
    assert.truthy(has(b.lead:get(("%s/manage/%d"):format(col, gone)).body, "信息有误"))
    assert.are.equal(303, b.lead:post(("%s/manage/%d/repeal"):format(col, repealed),
      { reason = "已被新办法替代" }).status)
    local page = site:request("GET", col .. "/" .. repealed)
    assert.are.equal(200, page.status)
    assert.truthy(has(page.body, "废止"))
    assert.truthy(has(page.body, "已被新办法替代"))
    assert.truthy(site:command("audit", "--action", "articles.withdraw"):find("user:lead", 1, true))
  end)

  it("sanitises the body when it is saved", function()
    local col = "/yqsh/tz"
    local id = publish_simple(col, "社区活动通知", '<h1>活动</h1><p onclick="alert(1)">时间：周六'
      .. '<script>alert(2)</script><a href="javascript:alert(3)">报名</a></p>'
      .. '<table><tr><td colspan="2">地点</td></tr></table>')
    local page = site:request("GET", col .. "/" .. id).body
    local body = page:match('<div class="body">(.-)</div>')
    assert.truthy(body)
    assert.falsy(body:lower():find("<script", 1, true))
    assert.falsy(body:lower():find("onclick", 1, true))
    assert.falsy(body:lower():find("javascript:", 1, true))
    assert.truthy(has(body, "<h2>活动</h2>"))
    assert.truthy(has(body, '<td colspan="2">地点</td>'))
  end)

  it("pages a column newest first by keyset, and finds two- and four-character terms", function()
    local col = "/yqsh/tz"
    local titles = { "园区元旦假期安排", "高新技术企业培训通知", "认定结果公示", "食堂开放时间调整",
                     "高新技术产品展览", "假期值班安排" }
    for i, t in ipairs(titles) do
      publish_simple(col, t, "<p>" .. t .. "的具体内容。</p>",
        { pub_date = ("2026-10-%02d"):format(i) })
    end
    local function search(path)
      local res = site:request("GET", path)
      assert.are.equal(200, res.status)
      local found = {}
      for t in res.body:gmatch('<h2><a href="[^"]+">(.-)</a></h2>') do
        found[#found + 1] = (t:gsub("</?mark>", ""))
      end
      return found, res.body
    end
    local found, body = search("/search/search?q=%E9%AB%98%E6%96%B0%E6%8A%80%E6%9C%AF") -- 高新技术
    table.sort(found)
    assert.are.same({ "关于2026年度高新技术企业认定工作的通知", "高新技术产品展览",
                      "高新技术企业培训通知" }, found)
    assert.truthy(has(body, "<mark>高新技术</mark>"))
    found = search("/search/search?q=" .. "%E5%81%87%E6%9C%9F") -- 假期
    table.sort(found)
    assert.are.same({ "假期值班安排", "园区元旦假期安排" }, found)
    found = search(col .. "/search?q=" .. "%E5%85%AC%E7%A4%BA") -- 公示, in the column
    assert.are.same({ "认定结果公示" }, found)
    assert.are.same({}, (search("/search/search?q=%22%20OR%20NEAR(")))
    -- Filters: a column of the site-wide search, and publication dates.
    found = search("/search/search?q=%E9%AB%98%E6%96%B0%E6%8A%80%E6%9C%AF&column=%2Fgxcy%2Ftzgg")
    assert.are.same({ "关于2026年度高新技术企业认定工作的通知" }, found)
    -- (The publication time is the server's: today, whatever 成文日期 was typed.)
    local q = "/search/search?q=%E9%AB%98%E6%96%B0%E6%8A%80%E6%9C%AF"
    -- Days in the site's zone (UTC+8), whatever the test machine's.
    found = search(q .. "&from=" .. os.date("!%Y-%m-%d", os.time() - 86400 + 8 * 3600))
    assert.are.equal(3, #found)
    found = search(q .. "&from=" .. os.date("!%Y-%m-%d", os.time() + 86400 + 8 * 3600))
    assert.are.same({}, found)
    found = search(q .. "&to=2026-10-03")
    assert.are.same({}, found, "the typed 成文日期 is not the publication time")
    -- Newest first, and the next page starts where the first ended.
    local first = site:request("GET", col).body
    local a = first:find("假期值班安排", 1, true)
    local c = first:find("园区元旦假期安排", 1, true)
    assert.truthy(a and c and a < c, "newest first")
  end)

  it("marks an expired policy on its page and leaves it out of the feeds", function()
    local col = "/gxcy/zcwj"
    local id = publish_simple(col, "二〇二五年临时补贴办法", "<p>补贴条款。</p>",
      { pub_date = "2025-01-01", expires_at = "2025-12-31" })
    local page = site:request("GET", col .. "/" .. id).body
    assert.truthy(has(page, "已于 2025-12-31 失效"), page:match("<article>.-</article>"))
    assert.truthy(has(site:request("GET", col).body, "已失效"))
    assert.falsy(has(site:request("GET", col .. "/feed.xml").body, "二〇二五年临时补贴办法"))
    assert.falsy(has(site:request("GET", "/search/sitemap.xml").body, col .. "/" .. id .. "<"))
  end)

  it("keeps attachments of the allowed types and sizes and serves them on the article", function()
    local col = "/yqsh/tz"
    b.sed:get(col .. "/manage/new")
    local pdf = "%PDF-1.4\n\0binary\255 content\n"
    local res = b.sed:post(col .. "/manage/new", { title = "年度申报指南", body = "<p>见附件。</p>" },
      nil, { attachments = { { filename = "申报指南.pdf", content_type = "application/pdf",
                               data = pdf },
                             { filename = "evil.exe", data = "MZ" } } })
    assert.are.equal(422, res.status, "an .exe is refused")
    assert.truthy(has(res.body, "evil.exe"))
    res = b.sed:post(col .. "/manage/new", { title = "年度申报指南", body = "<p>见附件。</p>" },
      nil, { attachments = { { filename = "申报指南.pdf", content_type = "application/pdf",
                               data = pdf } } })
    assert.are.equal(303, res.status, res.body)
    local id = tonumber(res.headers.location:match("(%d+)$"))
    assert.are.equal(303, submit("sed", col, id).status)
    assert.are.equal(303, decide("srev", col, id, "approve").status)
    local page = site:request("GET", col .. "/" .. id).body
    local href = page:match('href="(' .. col .. '/%d+/files/[^"]+)"')
    assert.truthy(href, "the attachment is listed")
    assert.truthy(has(page, "申报指南.pdf"))
    assert.truthy(has(page, "PDF"), "with its type")
    local file = site:request("GET", href)
    assert.are.equal(200, file.status)
    assert.are.equal(pdf, file.body)
    assert.are.equal("application/pdf", file.headers["content-type"])
    assert.truthy(file.headers["content-disposition"]:find("filename*=UTF-8''", 1, true))
    assert.are.equal(404,
      site:request("GET", col .. "/" .. id .. "/files/nosuchfile123456789012").status)
  end)

  it("pages by keyset and serves a change at once despite its page cache", function()
    local s2 = testing.start_site({ plugins = { "plugins" }, site = {
      units = { { code = "invest", name = "招商局" } },
      columns = { { path = "/t", title = "通知", kind = "notice", unit = "invest",
                    plugin = "articles", config = { chain = { "review" }, page_size = 5 } } } } })
    finally(function() s2:stop() end)
    s2:add_user("ed2", "invest", "editor", "编辑", "e-password-1")
    s2:add_user("rv2", "invest", "reviewer", "审核", "r-password-1")
    local e = s2:browser():login("ed2", "e-password-1")
    local r = s2:browser():login("rv2", "r-password-1")
    local function publish(title, day)
      e:get("/t/manage/new")
      local res = e:post("/t/manage/new", { title = title, body = "<p>" .. title .. "</p>",
                                           pub_date = ("2026-09-%02d"):format(day) })
      local path = res.headers.location
      e:get(path)
      assert.are.equal(303, e:post(path .. "/submit", {}).status)
      r:get(path)
      assert.are.equal(303, r:post(path .. "/decide", { decision = "approve" }).status)
    end
    for day = 1, 12 do publish(("第%02d号通知"):format(day), day) end
    local function titles(body)
      local out = {}
      for t in body:gmatch('<a href="/t/%d+">(.-)</a>') do out[#out + 1] = t end
      return out
    end
    local first = s2:request("GET", "/t").body
    assert.are.same({ "第12号通知", "第11号通知", "第10号通知", "第09号通知", "第08号通知" },
      titles(first))
    local next_url = first:match('href="([^"]+)" rel="next"'):gsub("&amp;", "&")
    local second = s2:request("GET", next_url).body
    assert.are.same({ "第07号通知", "第06号通知", "第05号通知", "第04号通知", "第03号通知" },
      titles(second))
    local third = s2:request("GET", second:match('href="([^"]+)" rel="next"')).body
    assert.are.same({ "第02号通知", "第01号通知" }, titles(third))
    assert.falsy(third:find('rel="next"', 1, true), "the last page has no next")
    -- The first page is cached; a new article is on it at once all the same.
    publish("第13号通知", 13)
    assert.are.equal("第13号通知", titles(s2:request("GET", "/t").body)[1])
  end)

  it("flags a review that waited longer than the column allows, in working days", function()
    local s2 = testing.start_site({ plugins = { "plugins" }, site = {
      units = { { code = "invest", name = "招商局" } },
      columns = { { path = "/t", title = "通知", kind = "notice", unit = "invest",
                    plugin = "articles", config = { chain = { "review" }, review_days = 2 } } } } })
    finally(function() s2:stop() end)
    s2:add_user("ed2", "invest", "editor", "编辑", "e-password-1")
    s2:add_user("rv2", "invest", "reviewer", "审核", "r-password-1")
    local e = s2:browser():login("ed2", "e-password-1")
    e:get("/t/manage/new")
    local path = e:post("/t/manage/new", { title = "待审的通知", body = "<p>内容</p>" }).headers.location
    e:get(path)
    assert.are.equal(303, e:post(path .. "/submit", {}).status)
    local r = s2:browser():login("rv2", "r-password-1")
    local queue = r:get("/t/manage/queue").body
    assert.truthy(has(queue, "待审的通知"))
    assert.falsy(has(queue, "逾期"))
    -- Ten days later (at least six working days): flagged by the job and in the queue.
    s2:halt()
    s2:restart({ "--clock-offset-s", tostring(10 * 86400) })
    s2:wait_log_match("review overdue: /t/%d+ revision 1 %(待审的通知%) waits at 单位审核")
    r = s2:browser():login("rv2", "r-password-1")
    queue = r:get("/t/manage/queue").body
    assert.truthy(has(queue, "逾期"), queue)
  end)

  it("publishes RSS, Atom and JSON feeds and a sitemap that parse", function()
    local function parse(xml)
      local root, stack = nil, {}
      local p = lxp.new({
        StartElement = function(_, name, attrs)
          local el = { name = name, attrs = attrs, text = "", kids = {} }
          if #stack > 0 then table.insert(stack[#stack].kids, el) else root = el end
          stack[#stack + 1] = el
        end,
        EndElement = function() stack[#stack] = nil end,
        CharacterData = function(_, s)
          if #stack > 0 then stack[#stack].text = stack[#stack].text .. s end
        end,
      })
      assert(p:parse(xml))
      assert(p:parse())
      p:close()
      return root
    end
    local res = site:request("GET", "/gxcy/tzgg/feed.xml")
    assert.are.equal(200, res.status)
    assert.matches("application/rss%+xml", res.headers["content-type"])
    local rss = parse(res.body)
    assert.are.equal("rss", rss.name)
    local titles = {}
    for _, el in ipairs(rss.kids[1].kids) do
      if el.name == "item" then
        for _, k in ipairs(el.kids) do
          if k.name == "title" then titles[#titles + 1] = k.text end
        end
      end
    end
    assert.are.same({ "关于2026年度高新技术企业认定工作的通知" }, titles)
    assert.are.equal(200, site:request("GET", "/gxcy/zcwj/atom.xml").status)
    local atom = parse(site:request("GET", "/gxcy/zcwj/atom.xml").body)
    assert.matches("feed$", atom.name)
    local json = cjson.decode(site:request("GET", "/search/feed.json").body)
    assert.are.equal("https://jsonfeed.org/version/1.1", json.version)
    local withdrawn = false
    for _, it in ipairs(json.items) do
      if it.title == "临时停车管理通知" then withdrawn = true end
    end
    assert.is_false(withdrawn, "a withdrawn article is in no feed")
    local sitemap = parse(site:request("GET", "/search/sitemap.xml").body)
    assert.matches("urlset$", sitemap.name)
    assert.truthy(#sitemap.kids >= 8)
  end)
end)
