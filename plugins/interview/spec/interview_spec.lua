-- The life of an online interview through real HTTP: announced after
-- review (warned when late), questions asked and moderated, the live
-- session received by an SSE client (approved questions and entries
-- arrive, rejected questions never do), the archive, and the written
-- follow-up due in working days, flagged when overdue.
local testing = require("park.testing")
local socket = require("socket")

local SITE = {
  units = { { code = "invest", name = "招商局" } },
  columns = { { path = "/zxft", title = "在线访谈", kind = "interaction", unit = "invest",
                plugin = "interview",
                config = { chain = { "review" }, forbidden_words = { "违禁词" }, ask_limit = 50 } } },
}

local function has(body, s) return body:find(s, 1, true) ~= nil end
local function date(t) return os.date("%Y-%m-%d %H:%M", t) end

describe("interview", function()
  local site, b

  setup(function()
    site = testing.start_site({ plugins = { "plugins" }, site = SITE })
    b = {}
    for _, s in ipairs({ { "ed", "editor" }, { "rv", "reviewer" }, { "ld", "leader" } }) do
      site:add_user(s[1], "invest", s[2], s[1], s[1] .. "-password")
      b[s[1]] = site:browser():login(s[1], s[1] .. "-password")
    end
  end)

  teardown(function()
    assert.are.equal(0, site:stop())
  end)

  -- An interview written, submitted and approved; its staff path.
  local function announce(starts_at, title)
    b.ed:get("/zxft/manage/new")
    local res = b.ed:post("/zxft/manage/new", { title = title, topic = "优化营商环境",
      unit_name = "招商局", guests = "张主任|招商局局长\n李处长|企业服务处处长", host = "王主持",
      starts_at = date(starts_at), minutes = "90", intro = "欢迎网友提问。" })
    assert.are.equal(303, res.status, res.body)
    local manage = res.headers.location
    b.ed:get(manage)
    assert.are.equal(303, b.ed:post(manage .. "/submit", {}).status)
    assert.are.equal(404, site:request("GET", (manage:gsub("/manage", ""))).status,
      "not public before review")
    b.rv:get(manage)
    assert.are.equal(303, b.rv:post(manage .. "/decide", { decision = "approve" }).status)
    return manage, (manage:gsub("/manage", ""))
  end

  local function ask(path, fields)
    local r = site:browser()
    r:get(path)
    return r:post(path .. "/ask", fields)
  end

  local function question_ids(manage)
    local ids = {}
    for id, body in b.rv:get(manage).body:gmatch("<tr[^>]*><td>(%d+)</td><td>.-：([^<]*)") do
      ids[body] = tonumber(id)
    end
    return ids
  end

  it("shows the staff form's errors at their fields and keeps what was typed", function()
    assert.truthy(has(b.ed:get("/zxft/manage/new").body, 'name="minutes" value="90"'))
    local res = b.ed:post("/zxft/manage/new", { title = "营商环境访谈", guests = "|",
      starts_at = "明天上午", minutes = "5", intro = "简介照留" })
    assert.are.equal(422, res.status)
    assert.truthy(has(res.body, "提交的内容有 3 处需要修改"))
    for name, message in pairs({ guests = "嘉宾：请填写至少一位嘉宾（每行：姓名|职务）",
                                 starts_at = "开始时间：格式应为 2026-01-31 09:30",
                                 minutes = "预计时长（分钟）：不能小于 10" }) do
      assert.truthy(has(res.body, ('<li><a href="#f-%s">%s</a></li>'):format(name, message)))
      assert.truthy(has(res.body, ('<p class="q-error" id="f-%s-error">%s</p>'):format(name,
        message)))
    end
    assert.truthy(has(res.body, 'value="营商环境访谈"') and has(res.body, ">简介照留</textarea>"))
  end)

  it("warns when announced less than three days ahead, and not otherwise", function()
    local manage = announce(os.time() + 86400, "明天的访谈")
    assert.truthy(has(b.ed:get(manage).body, "距开始不足规定天数"))
    local manage2 = announce(os.time() + 10 * 86400, "下旬的访谈")
    assert.falsy(has(b.ed:get(manage2).body, "距开始不足规定天数"))
  end)

  it("collects questions, moderates them, broadcasts the live session and archives it",
    function()
    local manage, path = announce(os.time() + 5 * 86400, "招商局局长谈营商环境")
    local page = site:request("GET", path).body
    assert.truthy(has(page, "张主任"))
    assert.truthy(has(page, "我要提问"))
    -- Asking: checked, then kept for moderation, not shown yet.
    local function refused(fields, message)
      local res = ask(path, fields)
      assert.are.equal(422, res.status)
      assert.truthy(has(res.body, '<li><a href="#q-body">' .. message .. "</a></li>"), message)
      assert.truthy(has(res.body, '<p class="q-error" id="q-body-error">' .. message .. "</p>"))
      assert.matches('<textarea id="q%-body" name="body" rows="4" required aria%-invalid="true"'
        .. ' aria%-describedby="q%-body%-hint q%-body%-error">', res.body)
      return res
    end
    refused({ body = "" }, "问题：请填写")
    local res = refused({ name = "企业乙", body = "这里有违禁词" },
      "问题：含有不允许的词语，请修改后再提交")
    assert.truthy(has(res.body, 'value="企业乙"') and has(res.body, ">这里有违禁词</textarea>"),
      "what was typed is kept")
    refused({ body = ("长"):rep(501) }, "问题：最多 500 个字，现有 501 个字")
    -- A question whose token was lost: the page again, with what was typed.
    local r = site:browser()
    r:get(path)
    res = r:post(path .. "/ask", { body = "令牌丢失时的问题" }, "stale-token")
    assert.are.equal(403, res.status)
    assert.truthy(has(res.body, "页面已过期，内容尚未提交"))
    assert.truthy(has(res.body, ">令牌丢失时的问题</textarea>"))
    assert.are.equal(200, ask(path, { name = "企业甲", body = "开办企业需要几天？" }).status)
    assert.are.equal(200, ask(path, { body = "开办企业要多久？" }).status)
    assert.are.equal(200, ask(path, { body = "广告：代办执照" }).status)
    assert.are.equal(200, ask(path, { body = "人才公寓如何申请？" }).status)
    assert.falsy(has(site:request("GET", path).body, "开办企业需要几天"), "pending: not shown")
    -- Moderation: only reviewers; approve, merge a duplicate, reject with a reason.
    local ids = question_ids(manage)
    b.ed:get(manage)
    assert.are.equal(403, b.ed:post(manage .. "/moderate", { question = ids["开办企业需要几天？"],
                                                            decision = "approve" }).status)
    b.rv:get(manage)
    assert.are.equal(303, b.rv:post(manage .. "/moderate", { question = ids["开办企业需要几天？"],
                                                            decision = "approve" }).status)
    assert.are.equal(303, b.rv:post(manage .. "/moderate", { question = ids["开办企业要多久？"],
      decision = "merge", into = ids["开办企业需要几天？"] }).status)
    assert.are.equal(422, b.rv:post(manage .. "/moderate", { question = ids["广告：代办执照"],
                                                            decision = "reject" }).status)
    assert.are.equal(303, b.rv:post(manage .. "/moderate", { question = ids["广告：代办执照"],
      decision = "reject", reason = "与访谈无关的广告" }).status)
    page = site:request("GET", path).body
    assert.truthy(has(page, "开办企业需要几天？"))
    assert.falsy(has(page, "广告"), "a rejected question never shows")
    assert.falsy(has(page, "与访谈无关的广告"), "nor its reason")
    -- Live: a watcher connected with server-sent events receives entries
    -- and approved questions as they come, never a rejected one.
    b.ed:get(manage)
    assert.are.equal(303, b.ed:post(manage .. "/live", { op = "start" }).status)
    local stream = site:stream(path .. "/events")
    assert.are.equal(200, stream.status)
    assert.matches("^text/event%-stream", stream.headers["content-type"])
    local got = ""
    local function wait_for(text, seconds)
      local deadline = os.time() + (seconds or 3)
      while not got:find(text, 1, true) and os.time() <= deadline do
        got = got .. (stream:read(1) or "")
      end
      return got:find(text, 1, true) ~= nil
    end
    assert.truthy(wait_for("开办企业需要几天？"), "the approved question, from before")
    local t0 = socket.gettime()
    b.ed:get(manage)
    assert.are.equal(303, b.ed:post(manage .. "/entry", { speaker = "张主任",
      body = "目前开办企业一个工作日即可办结。", question = ids["开办企业需要几天？"] }).status)
    assert.truthy(wait_for("一个工作日即可办结"), "the answer arrives")
    assert.is_true(socket.gettime() - t0 < 1.5, "within a second or so")
    b.rv:get(manage)
    assert.are.equal(303, b.rv:post(manage .. "/moderate", { question = ids["人才公寓如何申请？"],
      decision = "reject", reason = "已有专题" }).status)
    b.ed:get(manage)
    b.ed:post(manage .. "/entry", { speaker = "王主持", body = "感谢各位网友的参与。" }, nil,
      { image = { { filename = "现场.png", content_type = "image/png", data = "\137PNG fake" } } })
    assert.truthy(wait_for("感谢各位网友的参与"))
    local image = got:match('"image":"([%w_-]+)"')
    assert.truthy(image, "the entry's image travels with it")
    local img = site:request("GET", path .. "/photos/" .. image)
    assert.are.equal(200, img.status)
    assert.are.equal("\137PNG fake", img.body)
    assert.are.equal("image/png", img.headers["content-type"])
    assert.falsy(got:find("人才公寓", 1, true), "a rejected question never arrives")
    assert.truthy(got:find("event: entry", 1, true))
    assert.truthy(got:find("id: ", 1, true))
    stream:close()
    -- The live page without JavaScript refreshes itself; an aria-live region.
    page = site:request("GET", path).body
    assert.truthy(has(page, '<noscript><meta http-equiv="refresh" content="15"></noscript>'))
    assert.truthy(has(page, 'aria-live="polite"'))
    -- The end: the archive, and the question left over due in working days.
    b.ed:get(manage)
    assert.are.equal(303, b.ed:post(manage .. "/live", { op = "end" }).status)
    page = site:request("GET", path).body
    assert.truthy(has(page, "文字实录"))
    assert.truthy(has(page, "目前开办企业一个工作日即可办结。"))
    assert.falsy(has(page, "我要提问"), "questions are closed")
    assert.truthy(has(b.ed:get(manage).body, "前书面答复"))
  end)

  it("sets the written follow-up due in working days and flags it when overdue", function()
    local manage, path = announce(os.time() + 4 * 86400, "人才办主任谈人才政策")
    assert.are.equal(200, ask(path, { body = "博士后补贴何时发放？" }).status)
    assert.are.equal(200, ask(path, { body = "人才绿卡怎么办理？" }).status)
    local ids = question_ids(manage)
    b.rv:get(manage)
    for _, q in ipairs({ "博士后补贴何时发放？", "人才绿卡怎么办理？" }) do
      assert.are.equal(303, b.rv:post(manage .. "/moderate",
        { question = ids[q], decision = "approve" }).status)
    end
    b.ed:get(manage)
    b.ed:post(manage .. "/live", { op = "start" })
    b.ed:get(manage)
    b.ed:post(manage .. "/live", { op = "end" })
    -- Five working days from today, by the park's calendar.
    local due = b.ed:get(manage).body:match("须于 (%d%d%d%d%-%d%d%-%d%d) 前书面答复")
    assert.truthy(due)
    -- Today in the park's zone (UTC+8), whatever the test machine's.
    local out = site:command("calendar", "add", os.date("!%Y-%m-%d", os.time() + 8 * 3600), "5")
    assert.truthy(out:find(due, 1, true), out)
    -- One answered in writing: published under the transcript.
    b.ed:get(manage)
    assert.are.equal(303, b.ed:post(manage .. "/followup", { question = ids["博士后补贴何时发放？"],
      answer = "每季度首月发放。" }).status)
    assert.truthy(has(site:request("GET", path).body, "每季度首月发放。"))
    -- Three weeks later the other is overdue: flagged by the job and on the staff page.
    site:halt()
    site:restart({ "--clock-offset-s", tostring(21 * 86400) })
    site:wait_log_match("interview followup overdue: interview %d+ question " .. ids["人才绿卡怎么办理？"])
    for _, s in ipairs({ "ed", "rv", "ld" }) do
      b[s] = site:browser():login(s, s .. "-password")
    end
    assert.truthy(has(b.ld:get(manage).body, "<strong>逾期</strong>"))
  end)

  it("lists past interviews by unit and year", function()
    local page = site:request("GET", "/zxft?unit=" .. "%E6%8B%9B%E5%95%86%E5%B1%80").body
    assert.truthy(has(page, "往期访谈"))
    assert.truthy(has(page, "招商局局长谈营商环境"))
    page = site:request("GET", "/zxft?year=1999").body
    assert.falsy(has(page, "招商局局长谈营商环境"))
  end)
end)
