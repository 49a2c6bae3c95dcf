-- The survey plugin through real HTTP: a survey reviewed before it opens,
-- one answer per participant in each mode (concurrent and repeated posts
-- included), results hidden until the close, opening and closing by the
-- scheduler across a restart, extension, the outcome, and the CSV.
local testing = require("park.testing")
local socket = require("socket")

local QUESTIONS = [[
[single] q1 您对园区政务服务的总体评价？ *
- 非常满意
- 满意
- 一般
- 不满意

[multiple min=1 max=2] q2 您最常办理的事项有哪些？ *
- 企业注册
- 人才补贴
- 其他

[rating 1-5] q3 请为办事效率打分 *

[text max=50 if q1=不满意] q4 请说明不满意的原因 *

[text max=200] q5 其他意见和建议
]]

local function site_table(config)
  local cfg = { chain = { "review" } }
  for k, v in pairs(config or {}) do cfg[k] = v end
  return {
    units = { { code = "social", name = "社会事务局" }, { code = "invest", name = "招商局" } },
    columns = { { path = "/myzj", title = "民意征集", kind = "interaction", unit = "social",
                  plugin = "survey", config = cfg } },
  }
end

local function has(body, s) return body:find(s, 1, true) ~= nil end

local function date(t) return os.date("%Y-%m-%d %H:%M", t) end

-- A site with staff logged in and one survey opened (in the past, closing
-- in two days, unless `times` says otherwise). Returns the site, the staff
-- browsers and the survey's path.
local function open_survey(config, times)
  local site = testing.start_site({ plugins = { "plugins" }, site = site_table(config) })
  local b = {}
  for _, s in ipairs({ { "ed", "editor" }, { "rv", "reviewer" }, { "ld", "leader" } }) do
    site:add_user(s[1], "social", s[2], s[1], s[1] .. "-password")
    b[s[1]] = site:browser():login(s[1], s[1] .. "-password")
  end
  site:add_user("other", "invest", "editor", "other", "other-password")
  b.other = site:browser():login("other", "other-password")
  local now = os.time()
  b.ed:get("/myzj/manage/new")
  local res = b.ed:post("/myzj/manage/new", { title = "园区政务服务满意度调查",
    purpose = "了解企业和群众对政务服务的评价", questions = QUESTIONS,
    opens_at = date((times and times.opens) or now - 3600),
    closes_at = date((times and times.closes) or now + 2 * 86400) })
  assert(res.status == 303, res.body)
  local path = res.headers.location:gsub("/manage/", "/")
  local manage = res.headers.location
  b.ed:get(manage)
  assert(b.ed:post(manage .. "/submit", {}).status == 303)
  b.rv:get(manage)
  assert(b.rv:post(manage .. "/decide", { decision = "approve" }).status == 303)
  return site, b, path, manage
end

-- A resident: a browser that answers the survey at `path`.
local function answer(site, path, fields, resident)
  resident = resident or site:browser()
  local page = resident:get(path)
  assert(page.status == 200, page.body)
  local nonce = page.body:match('name="nonce" value="([^"]+)"')
  local all = { nonce = nonce }
  for k, v in pairs(fields) do all[k] = v end
  return resident:post(path, all), resident, nonce
end

local GOOD = { q1 = "2", q2 = "1", q3 = "4", q5 = "窗口服务很好" }

describe("survey", function()
  it("is reviewed before it opens, takes one answer per participant and counts each once",
    function()
    local site, b, path, manage = open_survey()
    finally(function() site:stop() end)
    -- Another unit's editor sees nothing of it.
    assert.are.equal(403, b.other:get("/myzj/manage").status)
    -- Missing and wrong answers: said in words, the answers kept.
    local res, resident, nonce = answer(site, path, { q2 = "9", q5 = "保留的意见" })
    assert.are.equal(422, res.status)
    assert.truthy(has(res.body, "第 1 题"), res.body:match('<div class="alert".-</div>'))
    assert.truthy(has(res.body, "保留的意见"), "the text is kept")
    assert.truthy(has(res.body, 'role="alert"'))
    -- A resident whose cookies were lost meanwhile: the form again, what
    -- was chosen and typed kept, nothing counted.
    local late = site:browser()
    local page = late:get(path)
    late.jar = {}
    local lost = late:post(path, { nonce = page.body:match('name="nonce" value="([^"]+)"'),
      q1 = "2", q2 = "1", q3 = "4", q5 = "丢了饼干也不丢的意见" })
    assert.are.equal(403, lost.status)
    assert.truthy(has(lost.body, 'id="expired"'), lost.body)
    assert.truthy(has(lost.body, "丢了饼干也不丢的意见"), "the text is kept")
    assert.falsy(has(b.ed:get(manage).body, "<dd>1</dd>"), "nothing was counted")
    -- A conditional question: required only when its condition holds.
    res = resident:post(path, { nonce = nonce, q1 = "4", q2 = "1", q3 = "2" })
    assert.are.equal(422, res.status, "q4 is required when q1 is 不满意")
    res = resident:post(path, { nonce = nonce, q1 = "2", q2 = "1", q3 = "4", q5 = "窗口服务很好" })
    assert.are.equal(200, res.status, res.body)
    assert.truthy(has(res.body, "提交成功"))
    local receipt = res.body:match('class="receipt">(%d+)<')
    assert.truthy(receipt, "a receipt number")
    -- The same form again (a double click, a retry): the same thank-you.
    res = resident:post(path, { nonce = nonce, q1 = "2", q2 = "1", q3 = "4" })
    assert.are.equal(200, res.status)
    assert.are.equal(receipt, res.body:match('class="receipt">(%d+)<'), "the same receipt")
    -- A new form from the same browser: already answered.
    res = answer(site, path, GOOD, resident)
    assert.are.equal(409, res.status)
    assert.truthy(has(res.body, "每人只能提交一次"))
    assert.truthy(has(resident:get(path).body, "您已经提交过回答"))
    -- Two other residents.
    assert.are.equal(200, answer(site, path, GOOD).status)
    assert.are.equal(200, answer(site, path, { q1 = "4", q2 = "2", q3 = "1",
                                               q4 = "办事排队时间太长" }).status)
    assert.truthy(has(b.ed:get(manage).body, "<dd>3</dd>"), "three answers")
    -- Results stay hidden until the close, from staff too.
    assert.are.equal(403, b.ld:get(manage .. "/results").status)
    assert.are.equal(403, b.ld:get(manage .. "/results.csv").status)
    assert.falsy(has(site:request("GET", path).body, "征集结果"))
  end)

  it("counts two concurrent submissions of one participant once", function()
    local site, b, path, manage = open_survey()
    finally(function() site:stop() end)
    local resident = site:browser()
    local page = resident:get(path).body
    local nonce = page:match('name="nonce" value="([^"]+)"')
    local body = ("_csrf=%s&nonce=%s&q1=1&q2=1&q3=5"):format(resident.token, nonce)
    local conns = {}
    for i = 1, 2 do
      local c = assert(socket.tcp())
      c:settimeout(10)
      assert(c:connect("127.0.0.1", site.port))
      conns[i] = c
    end
    local request = ("POST %s HTTP/1.1\r\nHost: t\r\nCookie: %s\r\nContent-Type: "
      .. "application/x-www-form-urlencoded\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s")
      :format(path, resident:cookie(), #body, body)
    for _, c in ipairs(conns) do assert(c:send(request)) end
    local statuses = {}
    for i, c in ipairs(conns) do
      statuses[i] = tonumber(c:receive("*l"):match("^HTTP/1.1 (%d+)"))
      c:close()
    end
    assert.are.same({ 200, 200 }, statuses, "the same form: the same answer, twice acknowledged")
    assert.truthy(has(b.ed:get(manage).body, "<dd>1</dd>"), "counted once")
  end)

  it("closes by itself, across a restart, then shows results, the CSV and the outcome", function()
    local now = os.time()
    local site, _, path, manage = open_survey(nil, { opens = now - 3600, closes = now + 86400 })
    finally(function() site:stop() end)
    assert.are.equal(200, answer(site, path, GOOD).status)
    assert.are.equal(200, answer(site, path, { q1 = "1", q2 = "2", q3 = "5",
                                               q5 = "建议, 增加\"夜间\"窗口" }).status)
    -- A resident who opened the form before the close posts it after.
    local late = site:browser()
    local nonce = late:get(path).body:match('name="nonce" value="([^"]+)"')
    -- Two days later the close job, missed while the server was down, runs.
    site:halt()
    site:restart({ "--clock-offset-s", tostring(2 * 86400) })
    testing.eventually(function()
      return has(site:request("GET", path).body, "征集结果")
    end, 10, "the results after the close")
    local page = site:request("GET", path).body
    assert.truthy(has(page, "<svg"), "a chart")
    assert.truthy(has(page, 'role="img"'))
    assert.truthy(has(page, "共收到 <strong>2</strong> 份回答"))
    assert.falsy(has(page, "建议, 增加"), "free texts are for staff")
    -- Answers are refused now.
    local refused = late:post(path, { nonce = nonce, q1 = "1", q2 = "1", q3 = "1" })
    assert.are.equal(409, refused.status)
    assert.truthy(has(refused.body, "不接受回答"))
    -- Staff see the texts and export the CSV, with a BOM for spreadsheets.
    local ld = site:browser():login("ld", "ld-password")
    local results = ld:get(manage .. "/results")
    assert.are.equal(200, results.status)
    assert.truthy(has(results.body, "建议, 增加&quot;夜间&quot;窗口"))
    local csv = ld:get(manage .. "/results.csv")
    assert.are.equal(200, csv.status)
    assert.matches("^text/csv", csv.headers["content-type"])
    assert.are.equal("\239\187\191", csv.body:sub(1, 3))
    assert.truthy(has(csv.body, "您对园区政务服务的总体评价"))
    assert.truthy(has(csv.body, '"建议, 增加""夜间""窗口"'), csv.body)
    local lines = select(2, csv.body:gsub("\r\n", ""))
    assert.are.equal(3, lines, "a header and two rows")
    -- The outcome, published, with the participants who left a contact told.
    ld:get(manage)
    assert.are.equal(303, ld:post(manage .. "/outcome", { outcome = "已采纳：增设夜间窗口。",
                                                           notify = "1" }).status)
    assert.truthy(has(site:request("GET", path).body, "已采纳：增设夜间窗口。"))
    -- An extension, with its reason on record, opens it again.
    ld:get(manage)
    local res = ld:post(manage .. "/extend", { closes_at = date(os.time() + 5 * 86400),
                                               reason = "应企业要求延长" })
    assert.are.equal(303, res.status, res.body)
    assert.truthy(has(ld:get(manage).body, "应企业要求延长"))
    assert.are.equal(200, answer(site, path, GOOD).status)
  end)

  it("identifies participants by a code sent to their contact", function()
    local site, _, path = open_survey({ mode = "code" })
    finally(function() site:stop() end)
    local r = site:browser()
    r:get(path)
    assert.are.equal(200, r:post(path .. "/code", { contact = "13800138000" }).status)
    site:wait_log_match("to 13800138000: [^\n]-验证码是 %d%d%d%d%d%d")
    local code = site:log():match("to 13800138000: [^\n]-验证码是 (%d%d%d%d%d%d)")
    assert.truthy(code)
    local page = r:get(path).body
    local nonce = page:match('name="nonce" value="([^"]+)"')
    local fields = { nonce = nonce, contact = "13800138000", code = "000000", q1 = "1", q2 = "1",
                     q3 = "3" }
    if code == "000000" then fields.code = "111111" end
    assert.are.equal(422, r:post(path, fields).status, "a wrong code")
    fields.code = code
    assert.are.equal(200, r:post(path, fields).status)
    -- The same contact from another browser, with a new code: once only.
    local r2 = site:browser()
    r2:get(path)
    local res = r2:post(path .. "/code", { contact = "13800138000" })
    assert.are.equal(429, res.status, "one code a minute")
  end)

  it("takes invited participants only, each invitation once", function()
    local site, b, path, manage = open_survey({ mode = "invite" })
    finally(function() site:stop() end)
    b.ed:get(manage)
    assert.are.equal(303, b.ed:post(manage .. "/invite", { count = "2" }).status)
    local tokens = {}
    for t in b.ed:get(manage).body:gmatch("%?invite=([%w_-]+)") do tokens[#tokens + 1] = t end
    assert.are.equal(2, #tokens)
    assert.truthy(has(site:request("GET", path).body, "仅限受邀者参与"))
    local r = site:browser()
    assert.are.equal(200, answer(site, path .. "?invite=" .. tokens[1],
      { invite = tokens[1], q1 = "1", q2 = "1", q3 = "2" }, r).status)
    -- The invitation used: its page says so, and a second post is refused.
    assert.truthy(has(site:request("GET", path .. "?invite=" .. tokens[1]).body,
      "您已经提交过回答"))
    local res = r:post(path, { invite = tokens[1], nonce = "another-nonce", q1 = "1", q2 = "1",
                               q3 = "2" })
    assert.are.equal(409, res.status)
    local forged = site:browser()
    forged:get(path .. "?invite=forged-token-123")
    assert.are.equal(422, forged:post(path, { invite = "forged-token-123", q1 = "1", q2 = "1",
                                              q3 = "2" }).status)
  end)

  it("publishes the draft under consultation with its attachments", function()
    local site, b, path, manage = open_survey()
    finally(function() site:stop() end)
    local edit = manage:gsub("/manage/(%d+)$", "/manage/new")
    b.ed:get(edit)
    -- Mistakes are shown at their fields, with what was typed.
    local bad = b.ed:post(edit, { title = "人才政策修订征求意见", draft = "草稿照留",
      questions = "[single] q1 没有选项", opens_at = date(os.time() + 86400),
      closes_at = date(os.time()) })
    assert.are.equal(422, bad.status)
    assert.truthy(has(bad.body, "提交的内容有 2 处需要修改"))
    assert.truthy(has(bad.body, '<li><a href="#f-closes_at">结束时间：须晚于开始时间</a></li>'))
    assert.truthy(has(bad.body, '<p class="q-error" id="f-questions-error">问题：'), bad.body)
    assert.matches('<textarea id="f%-questions" name="questions" rows="20" required'
      .. ' aria%-invalid="true" aria%-describedby="f%-questions%-hint f%-questions%-error">',
      bad.body)
    assert.truthy(has(bad.body, ">草稿照留</textarea>"))
    local res = b.ed:post(edit, { title = "人才政策修订征求意见", questions = QUESTIONS,
      draft = "第一条 目的。\n第二条 适用范围。", opens_at = date(os.time() - 60),
      closes_at = date(os.time() + 86400) }, nil,
      { attachments = { { filename = "征求意见稿.pdf", data = "%PDF-1.4 draft" } } })
    assert.are.equal(303, res.status, res.body)
    local m2 = res.headers.location
    b.ed:get(m2)
    b.ed:post(m2 .. "/submit", {})
    b.rv:get(m2)
    assert.are.equal(303, b.rv:post(m2 .. "/decide", { decision = "approve" }).status)
    local page = site:request("GET", (m2:gsub("/manage/", "/"))).body
    assert.truthy(has(page, "第二条 适用范围。"))
    local href = page:match('href="([^"]+/files/[^"]+)"')
    assert.truthy(href, "the attachment is listed")
    local file = site:request("GET", href)
    assert.are.equal(200, file.status)
    assert.are.equal("%PDF-1.4 draft", file.body)
    assert.truthy(path)
  end)

  it("limits anonymous answers per address, and shows staff the results when allowed",
    function()
    local site, b, path, manage = open_survey({ address_limit = 2, results = "staff_anytime" })
    finally(function() site:stop() end)
    assert.are.equal(200, answer(site, path, GOOD).status)
    assert.are.equal(200, answer(site, path, GOOD).status)
    local res = answer(site, path, GOOD)
    assert.are.equal(429, res.status)
    assert.are.equal("3600", res.headers["retry-after"])
    assert.are.equal(200, b.ld:get(manage .. "/results").status, "staff, while open")
    assert.falsy(has(site:request("GET", path).body, "征集结果"), "not the public")
  end)
end)
