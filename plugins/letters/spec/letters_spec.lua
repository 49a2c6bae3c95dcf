-- The letters plugin through real HTTP with real sessions: the whole life
-- of a letter (submitted, routed, accepted, transferred, extended,
-- answered through review, published, rated 不满意, handled again), the
-- refusals (another unit's staff, an editor approving their own reply, a
-- stranger guessing ids and codes), masking, the form's checks, the same
-- receipt for the same form, the honeypot, the rate limit, the contact
-- verified by a code, and 找错 from the footer.
package.path = "plugins/letters/spec/?.lua;" .. package.path
local support = require("support")
local socket = require("socket")

local has, act = support.has, support.act

local COLUMNS = {
  { path = "/zrxx", title = "主任信箱",
    config = { type = "主任信箱", deadline_days = 5, rate_limit = 100,
               chain = { "review", "leader" } } },
  { path = "/zc", title = "我为政府网站找错", config = { type = "找错", publish = false,
                                                  chain = { "review" } } },
  { path = "/ts", title = "投诉", unit = "social",
    config = { type = "投诉", receiver = "invest", verify = "code", rate_limit = 2,
               chain = {} } },
  { path = "/jy", title = "建议",
    config = { type = "建议", chain = {}, page_size = 5, rate_limit = 100 } },
}

local PDF = { attachments = { { filename = "现场照片.pdf", content_type = "application/pdf",
                                data = ("%PDF-1.4\n"):rep(50) } } }

describe("letters", function()
  local site, b
  setup(function()
    site, b = support.start(COLUMNS, { settings = { errata_url = "/zc" } })
  end)
  teardown(function() assert.are.equal(0, site:stop()) end)

  it("keeps what a resident typed when the page's CSRF cookie was lost, and stores nothing",
    function()
    local resident = site:browser()
    local page = resident:get("/zrxx/write")
    local nonce = page.body:match('name="_nonce" value="([^"]+)"')
    local before = support.sql(site, "SELECT count(*) FROM letters_letters")
    local body = ("园区东门外的公交站没有遮雨棚，雨天候车很不方便，建议加装。"):rep(20)
    resident.jar = {} -- the browser lost its cookies meanwhile
    local fields = { name = "周八", contact = "13900001111", title = "东门公交站加装遮雨棚",
                     body = body, publish = "1", _nonce = nonce }
    local res = resident:post("/zrxx/write", fields)
    assert.are.equal(403, res.status)
    assert.truthy(has(res.body, "页面已过期，内容尚未提交"), res.body)
    assert.truthy(has(res.body, body), "the letter's text is not on the page")
    assert.truthy(has(res.body, "东门公交站加装遮雨棚"))
    assert.are.equal(before, support.sql(site, "SELECT count(*) FROM letters_letters"))
    -- Sent once more from that page (its fresh token and cookie), it is written.
    res = resident:post("/zrxx/write", fields)
    assert.are.equal(200, res.status, res.body)
    assert.truthy(res.body:match('id="query%-code">(%d+)<'))
    assert.are.equal(tostring(tonumber(before) + 1),
      support.sql(site, "SELECT count(*) FROM letters_letters"))
  end)

  it("lives its whole life: routed, transferred, extended, answered through review,"
    .. " published, rated 不满意 and handled again", function()
    local res, code, secret, due = support.write(site, "/zrxx", { name = "张三丰",
      contact = "138 1234 5678", title = "创新大道路灯不亮", publish = "1",
      body = "创新大道与科技路交叉口的路灯已经一周不亮，夜间出行不便，请尽快维修。" }, PDF)
    assert.are.equal(200, res.status, res.body)
    assert.truthy(code and secret, res.body)
    -- Five working days from today, by the park's calendar.
    assert.are.equal(support.add_days(site, support.today(), 5), due)
    local id = support.id_of(site, code)
    local manage = "/zrxx/manage/" .. id
    -- Not public before it is answered; the writer sees it with the code.
    assert.are.equal(404, site:request("GET", "/zrxx/" .. id).status)
    local page = support.status(site, "/zrxx", code, secret)
    assert.are.equal(200, page.status)
    assert.truthy(has(page.body, "待分办"))

    -- 分办: the center's dispatcher sends it to 社会事务局 with a note.
    assert.truthy(has(b.cd:get("/zrxx/manage").body, "创新大道路灯不亮"))
    assert.truthy(has(b.cd:get(manage).body, "现场照片.pdf"))
    local file = b.cd:get(manage).body:match('href="(/zrxx/manage/%d+/files/[%w_-]+)"')
    assert.are.equal(200, b.cd:get(file).status)
    assert.are.equal(404, site:request("GET", (file:gsub("/manage", ""))).status)
    act(b.cd, manage .. "/assign", { unit = "social", note = "请社会事务局核实（内部分办意见）" })
    -- 社会事务局 accepts, then finds it is 招商局's and transfers it.
    assert.truthy(has(b.sed:get("/zrxx/manage").body, "创新大道路灯不亮"))
    act(b.sed, manage .. "/accept")
    act(b.sed, manage .. "/transfer", { unit = "invest", note = "道路照明属招商局职责（内部转办说明）" })
    -- The clock keeps running: a transfer does not move the due date.
    assert.are.equal(due, b.ied:get(manage).body:match('id="due">([%d-]+)<'))
    -- Another unit's staff: no longer theirs, neither to see nor to act on.
    local refused = b.sed:get(manage)
    assert.are.equal(403, refused.status)
    assert.truthy(has(refused.body, "招商局"), refused.body)
    b.sed:get("/zrxx/manage")
    assert.are.equal(403, b.sed:post(manage .. "/accept", {}).status)
    assert.are.equal(403, b.sed:post(manage .. "/reply", { body = "越权答复", op = "submit" }).status)
    assert.falsy(has(b.sed:get("/zrxx/manage").body, "创新大道路灯不亮"))
    -- 招商局 accepts and asks for an extension; its leader approves it.
    act(b.ied, manage .. "/accept")
    b.ied:get(manage)
    assert.are.equal(422, b.ied:post(manage .. "/extend", { days = "3", reason = "" }).status)
    act(b.ied, manage .. "/extend", { days = "3", reason = "需现场勘查线路" })
    b.ied:get(manage)
    assert.are.equal(403, b.ied:post(manage .. "/extension", { decision = "approve" }).status)
    act(b.ild, manage .. "/extension", { decision = "approve" })
    local new_due = support.add_days(site, due, 3)
    assert.are.equal(new_due, b.ied:get(manage).body:match('id="due">([%d-]+)<'))
    -- The reply, drafted by the editor, through 单位审核 and 领导签发.
    -- A long draft posted from a page left open past the session's token
    -- (the cookie lost): the letter again with the draft in the form, and
    -- nothing saved.
    local draft = ("经现场勘查，线路老化。"):rep(300)
    local ied_jar = b.ied.jar
    b.ied:get(manage)
    b.ied.jar = { ph_session = ied_jar.ph_session }
    local lost = b.ied:post(manage .. "/reply", { body = draft, op = "save" })
    assert.are.equal(403, lost.status)
    assert.truthy(has(lost.body, "页面已过期，操作尚未执行"), lost.body)
    assert.truthy(has(lost.body, draft), "the draft is not on the page")
    assert.falsy(has(b.ied:get(manage).body, draft), "the draft was saved")
    assert.are.equal(303, b.ied:get(manage .. "/reply").status, "a plain GET goes to the letter")
    act(b.ied, manage .. "/reply", { body = "经现场勘查，线路老化已更换，路灯已恢复照明。", op = "submit" })
    -- An editor who is a reviewer as well cannot approve their own reply.
    local _, granted = site:command("user", "grant", "ied", "--unit", "invest", "--role",
      "reviewer")
    assert.truthy(granted)
    b.ied:get(manage)
    res = b.ied:post(manage .. "/decide", { decision = "approve" })
    assert.are.equal(403, res.status)
    assert.truthy(has(res.body, "不能审核自己撰写的内容"), res.body)
    -- A leader cannot take the reviewer's step; another unit's reviewer neither.
    b.ild:get(manage)
    assert.are.equal(403, b.ild:post(manage .. "/decide", { decision = "approve" }).status)
    act(b.irv, manage .. "/decide", { decision = "approve", comment = "同意" })
    b.irv:get(manage)
    assert.are.equal(403, b.irv:post(manage .. "/decide", { decision = "approve" }).status)
    act(b.ild, manage .. "/decide", { decision = "approve" })

    -- Published, masked, with 受理日期, 答复日期, 答复部门 and 答复内容.
    local list = site:request("GET", "/zrxx").body
    assert.truthy(has(list, "创新大道路灯不亮"))
    assert.truthy(has(list, "张**"))
    assert.falsy(has(list, "张三丰"))
    local pub = site:request("GET", "/zrxx/" .. id)
    assert.are.equal(200, pub.status)
    for _, s in ipairs({ "张**", "138****5678", "受理日期", "答复日期", "答复部门", "招商局",
                         "线路老化已更换", support.today() }) do
      assert.truthy(has(pub.body, s), s)
    end
    for _, s in ipairs({ "张三丰", "13812345678", "内部分办意见", "内部转办说明", "现场照片" }) do
      assert.falsy(has(pub.body, s), s)
    end
    assert.truthy(has(pub.body, "需现场勘查线路"), "the extension's reason is public")
    -- In the site's index, as a letter.
    assert.are.equal("letter|/zrxx/" .. id, support.sql(site, "SELECT kind || '|' || url FROM"
      .. " park_items WHERE plugin = 'letters' AND key = '" .. id .. "'"))
    assert.truthy(has(site:request("GET", "/zrxx?q=" .. "%E8%B7%AF%E7%81%AF").body, "创新大道路灯不亮"))

    -- The writer is not satisfied and asks for it to be handled again.
    page = support.status(site, "/zrxx", code, secret)
    assert.truthy(has(page.body, "<legend>对这次答复的评价</legend>"))
    assert.falsy(has(page.body, "内部分办意见"))
    local writer = select(2, support.status(site, "/zrxx", code, secret))
    res = writer:post("/zrxx/rate", { code = code, secret = secret, rating = "不满意" })
    assert.are.equal(422, res.status, "不满意 needs a reason")
    assert.truthy(has(res.body, '<a href="#rate-reason">原因：选择不满意时，请写明原因</a>'), res.body)
    assert.truthy(has(res.body,
      'aria-invalid="true" aria-describedby="rate-reason-hint rate-reason-error"'))
    assert.truthy(has(res.body, 'id="rate-rating-3" name="rating" value="不满意" checked'), "kept")
    res = writer:post("/zrxx/rate", { code = code, secret = secret, rating = "不满意",
      reason = "另一侧的路灯仍不亮", again = "1" })
    assert.are.equal(200, res.status, res.body)
    assert.truthy(has(res.body, "再次办理"))
    assert.are.equal("accepted|2|invest", support.sql(site, "SELECT state || '|' || round || '|'"
      .. " || unit FROM letters_letters WHERE id = " .. id))
    res = writer:post("/zrxx/rate", { code = code, secret = secret, rating = "满意" })
    assert.are.equal(409, res.status, "rated once per answer")
    -- Back at 招商局: a new due date, answered again through the chain.
    local round2 = b.ied:get(manage).body
    assert.truthy(has(round2, "再次办理"))
    assert.are.equal(support.add_days(site, support.today(), 5), round2:match('id="due">([%d-]+)<'))
    act(b.ied, manage .. "/reply", { body = "已安排更换另一侧路灯，现已全部恢复。", op = "submit" })
    act(b.irv, manage .. "/decide", { decision = "approve" })
    act(b.ild, manage .. "/decide", { decision = "approve" })
    writer:get("/zrxx/status")
    res = writer:post("/zrxx/rate", { code = code, secret = secret, rating = "满意" })
    assert.are.equal(200, res.status)
    pub = site:request("GET", "/zrxx/" .. id).body
    assert.truthy(has(pub, "第 2 次答复"))
    assert.truthy(has(pub, "现已全部恢复"))
    -- Every step on the staff's timeline, internal notes marked as such.
    local staff = b.cd:get(manage).body
    for _, s in ipairs({ "分办", "受理", "转办", "申请延期", "延期", "答复审核通过", "评价", "再次办理",
                         "内部分办意见", "（内部）" }) do
      assert.truthy(has(staff, s), s)
    end
    assert.are.equal("满意", support.sql(site, "SELECT rating FROM letters_letters WHERE id = "
      .. id))
  end)

  it("keeps a 不公开 letter from anyone without its code and secret", function()
    local _, code, secret = support.write(site, "/zrxx", { name = "李四", contact = "li@example.com",
      title = "关于人才公寓租金的咨询", body = "请问人才公寓的租金标准是多少？", publish = "0" })
    local id = support.id_of(site, code)
    local manage = "/zrxx/manage/" .. id
    act(b.cd, manage .. "/assign", { unit = "center" }) -- answered by the center itself
    act(b.cd, manage .. "/reply", { body = "租金标准见人才公寓管理办法。", op = "submit" })
    act(b.crv, manage .. "/decide", { decision = "approve" })
    -- The center's leader signs; make one for this letter.
    site:add_user("cld", "center", "leader", "中心领导", "cld-password")
    b.cld = site:browser():login("cld", "cld-password")
    act(b.cld, manage .. "/decide", { decision = "approve" })
    assert.are.equal("answered|0", support.sql(site, "SELECT state || '|' || published FROM"
      .. " letters_letters WHERE id = " .. id))
    -- Guessing ids: only published letters answer, the rest is 404 alike.
    for guess = 1, id + 3 do
      local res = site:request("GET", "/zrxx/" .. guess)
      assert.falsy(has(res.body, "人才公寓"), "letter " .. guess)
      if guess == id then assert.are.equal(404, res.status) end
    end
    assert.falsy(has(site:request("GET", "/zrxx").body, "人才公寓"))
    assert.falsy(has(site:request("GET", "/zrxx?q=%E4%BA%BA%E6%89%8D%E5%85%AC%E5%AF%93").body,
      "关于人才公寓"))
    assert.are.equal("0", support.sql(site, "SELECT count(*) FROM park_items WHERE plugin ="
      .. " 'letters' AND key = '" .. id .. "'"))
    -- Guessing codes and secrets: the same answer whether the code exists.
    local r = site:browser()
    r:get("/zrxx/status")
    local wrong = r:post("/zrxx/status", { code = code, secret = "AAAAAAAAAA" })
    assert.are.equal(404, wrong.status)
    assert.falsy(has(wrong.body, "人才公寓"))
    local none = r:post("/zrxx/status", { code = "1234567890", secret = secret })
    assert.are.equal(404, none.status)
    local function main(body) return (body:match("<main.-</main>"):gsub('value="[^"]*"', "")) end
    assert.are.equal(main(wrong.body), main(none.body))
    -- Another column does not show it either, code and secret right.
    r:get("/zc/status")
    assert.are.equal(404, r:post("/zc/status", { code = code, secret = secret }).status)
    -- The staff see it, of course.
    assert.truthy(has(b.cd:get(manage).body, "关于人才公寓租金的咨询"))
  end)

  it("checks the form in words, keeps what was typed, and gives one receipt per form", function()
    local resident = site:browser()
    local page = resident:get("/zrxx/write").body
    local nonce = page:match('name="_nonce" value="([^"]+)"')
    local res = resident:post("/zrxx/write", { _nonce = nonce, name = "", contact = "12345",
      title = "保留的标题", body = "短", publish = "" }, nil,
      { attachments = { { filename = "病毒.exe", content_type = "application/octet-stream",
                          data = "MZ" } } })
    assert.are.equal(422, res.status)
    local alert = res.body:match('<div class="alert" role="alert" id="form%-errors">.-</div>')
    assert.truthy(alert, res.body)
    for _, s in ipairs({ 'href="#f-name">姓名：请填写', 'href="#f-contact">手机号码或电子邮箱：应为 11 位手机号码',
                         'href="#f-body">信件内容：至少 5 个字', 'href="#f-attachments">附件：“病毒.exe”的类型不允许',
                         'href="#f-publish-1">是否同意公开：请选择' }) do
      assert.truthy(has(alert, s), s)
    end
    -- Each error at its field too, read with it.
    assert.truthy(has(res.body, '<p class="q-error" id="f-body-error">信件内容：至少 5 个字'))
    assert.truthy(has(res.body, 'value="保留的标题"'), "the title is kept")
    assert.truthy(has(res.body, 'value="12345"'), "the contact is kept")
    assert.truthy(has(res.body, 'aria-invalid="true" aria-describedby="f-name-error"'))
    assert.truthy(has(res.body, 'value="' .. nonce .. '"'), "the same form")
    -- Fixed: stored once, and the same form posted again gets the same receipt.
    local fields = { _nonce = nonce, name = "王五", contact = "13900001111", title = "保留的标题",
                     body = "园区班车能否增加晚班？", publish = "1" }
    res = resident:post("/zrxx/write", fields)
    assert.are.equal(200, res.status, res.body)
    local code = res.body:match('id="query%-code">(%d+)<')
    res = resident:post("/zrxx/write", fields)
    assert.are.equal(200, res.status)
    assert.are.equal(code, res.body:match('id="query%-code">(%d+)<'))
    assert.truthy(has(res.body, "已经提交过"))
    assert.are.equal("1", support.sql(site, "SELECT count(*) FROM letters_letters WHERE nonce = '"
      .. nonce .. "'"))
    -- Two posts of one form at once: one letter, both acknowledged with it.
    page = resident:get("/zrxx/write").body
    nonce = page:match('name="_nonce" value="([^"]+)"')
    local body = ("_csrf=%s&_nonce=%s&name=%%E8%%B5%%B5&contact=13900002222"
      .. "&title=%%E7%%8F%%AD%%E8%%BD%%A6"
      .. "&body=%%E7%%8F%%AD%%E8%%BD%%A6%%E5%%A4%%AA%%E5%%B0%%91%%E4%%BA%%86&publish=0")
      :format(resident.token, nonce)
    local request = ("POST /zrxx/write HTTP/1.1\r\nHost: t\r\nCookie: %s\r\nContent-Type: "
      .. "application/x-www-form-urlencoded\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s")
      :format(resident:cookie(), #body, body)
    local conns = {}
    for i = 1, 2 do
      conns[i] = assert(socket.tcp())
      conns[i]:settimeout(10)
      assert(conns[i]:connect("127.0.0.1", site.port))
    end
    for _, c in ipairs(conns) do assert(c:send(request)) end
    local codes = {}
    for i, c in ipairs(conns) do
      local text = c:receive("*a")
      c:close()
      assert.truthy(text:match("^HTTP/1.1 200"), text:sub(1, 200))
      codes[i] = text:match('id="query%-code">(%d+)<')
    end
    assert.are.equal(codes[1], codes[2])
    assert.are.equal("1", support.sql(site, "SELECT count(*) FROM letters_letters WHERE nonce = '"
      .. nonce .. "'"))
    -- The honeypot: a robot's form is refused and nothing is stored.
    local before = support.sql(site, "SELECT count(*) FROM letters_letters")
    page = resident:get("/zrxx/write").body
    res = resident:post("/zrxx/write", { _nonce = page:match('name="_nonce" value="([^"]+)"'),
      name = "机器人", contact = "13900003333", title = "广告", body = "这是一条广告信息。",
      publish = "1", homepage = "http://spam.example" })
    assert.are.equal(422, res.status)
    assert.are.equal(before, support.sql(site, "SELECT count(*) FROM letters_letters"))
  end)

  it("verifies the contact by a code, sends the letter to its unit directly,"
    .. " and limits letters per address", function()
    local r = site:browser()
    local page = r:get("/ts/write").body
    local nonce = page:match('name="_nonce" value="([^"]+)"')
    local fields = { _nonce = nonce, name = "赵六", contact = "13700001234", title = "噪音扰民",
                     body = "夜间施工噪音很大，影响休息。", publish = "1", code = "000000" }
    local res = r:post("/ts/write", fields)
    assert.are.equal(422, res.status)
    assert.truthy(has(res.body, "验证码已过期或尚未获取"), res.body:match('<div class="alert".-</div>'))
    res = r:post("/ts/code", fields)
    assert.are.equal(200, res.status, res.body)
    assert.truthy(has(res.body, 'value="噪音扰民"'), "what was typed stays")
    local log = site:wait_log_match("to 13700001234: 您在网上写信的验证码是 %d+")
    fields.code = log:match("to 13700001234: 您在网上写信的验证码是 (%d+)")
    res = r:post("/ts/write", fields)
    assert.are.equal(200, res.status, res.body:match('<div class="alert".-</div>'))
    local id = support.id_of(site, res.body:match('id="query%-code">(%d+)<'))
    -- receiver = invest: at 招商局 at once, waiting for 受理; no chain.
    assert.are.equal("assigned|invest|social|1", support.sql(site, "SELECT state || '|' || unit"
      .. " || '|' || dispatcher || '|' || verified FROM letters_letters WHERE id = " .. id))
    act(b.ied, "/ts/manage/" .. id .. "/accept")
    act(b.ied, "/ts/manage/" .. id .. "/reply", { body = "已责令施工单位夜间停工。", op = "submit" })
    assert.are.equal("answered", support.sql(site, "SELECT state FROM letters_letters WHERE id = "
      .. id))
    -- 退回 goes to the column's unit (社会事务局), which dispatches.
    local _, code2 = support.write(site, "/ts", { name = "钱七", contact = "13700001234",
      title = "占道经营", body = "路口占道经营严重。", code = fields.code })
    assert.truthy(code2)
    local id2 = support.id_of(site, code2)
    act(b.ied, "/ts/manage/" .. id2 .. "/return", { reason = "属城管职责，请重新分办" })
    assert.are.equal("dispatch|social", support.sql(site, "SELECT state || '|' || unit FROM"
      .. " letters_letters WHERE id = " .. id2))
    act(b.sed, "/ts/manage/" .. id2 .. "/decline", { reason = "duplicate", original = tostring(id),
                                                     note = "与前信同一事项" })
    assert.are.equal("declined|" .. id, support.sql(site, "SELECT state || '|' || merged_into"
      .. " FROM letters_letters WHERE id = " .. id2))
    -- rate_limit = 2: the third letter of the hour from this address waits.
    res = support.write(site, "/ts", { name = "孙八", contact = "13700001234", title = "第三封",
      body = "这是本小时的第三封信。", code = fields.code })
    assert.are.equal(429, res.status)
    assert.truthy(has(res.body, "一小时后"))
  end)

  it("opens the 找错 form from the footer with the page the resident was on", function()
    local page = site:request("GET", "/zrxx").body
    local link = page:match('href="(/zc%?url=[^"]+)"')
    assert.are.equal("/zc?url=%2Fzrxx", link)
    local r = site:browser()
    local form = r:get(link).body
    assert.truthy(has(form, "我为政府网站找错"))
    assert.truthy(has(form, 'name="url" value="/zrxx"'), "the page reported, filled in")
    assert.falsy(has(form, "是否同意公开"), "找错 is not published here")
    local res = r:post("/zc/write", { _nonce = form:match('name="_nonce" value="([^"]+)"'),
      url = "/zrxx", title = "栏目说明有错别字", body = "“主任信箱”页面第二段的“答付”应为“答复”。" })
    assert.are.equal(200, res.status, res.body:match('<div class="alert".-</div>'))
    -- Name and contact optional; answered within 3 working days.
    assert.are.equal(support.add_days(site, support.today(), 3),
      res.body:match('id="due">([%d-]+)<'))
    local id = support.id_of(site, res.body:match('id="query%-code">(%d+)<'))
    assert.are.equal("/zrxx|找错", support.sql(site, "SELECT page_url || '|' || type FROM"
      .. " letters_letters WHERE id = " .. id))
  end)
  it("pages the published letters, newest first", function()
    for i = 1, 6 do
      local _, code = support.write(site, "/jy", { name = "吴" .. i, contact = "13600002222",
        title = "第" .. i .. "条建议", body = "这是分页测试的第 " .. i .. " 条建议。" })
      local m = "/jy/manage/" .. support.id_of(site, code)
      act(b.cd, m .. "/assign", { unit = "center" })
      act(b.cd, m .. "/reply", { body = "感谢建议。", op = "submit" })
    end
    local first = site:request("GET", "/jy").body
    for i = 2, 6 do assert.truthy(has(first, "第" .. i .. "条建议"), i) end
    assert.falsy(has(first, "第1条建议"))
    assert.falsy(has(first, 'rel="prev"'))
    local next_url = first:match('<a href="([^"]+)" rel="next">下一页</a>'):gsub("&amp;", "&")
    local second = site:request("GET", next_url).body
    assert.truthy(has(second, "第1条建议"))
    assert.falsy(has(second, "第6条建议"))
    assert.falsy(has(second, 'rel="next"'))
    local prev_url = second:match('<a href="([^"]+)" rel="prev">上一页</a>'):gsub("&amp;", "&")
    assert.truthy(has(site:request("GET", prev_url).body, "第6条建议"))
  end)
  -- Last: it leaves this address unable to look letters up for an hour.
  it("makes an address that keeps guessing wait", function()
    local _, code, secret = support.write(site, "/zrxx", { name = "周九", contact = "13600001111",
      title = "猜测测试", body = "这封信用于查询次数的测试。", publish = "0" })
    local r = site:browser()
    r:get("/zrxx/status")
    assert.are.equal(200, r:post("/zrxx/status", { code = code, secret = secret:lower() }).status)
    for _ = 1, 20 do r:post("/zrxx/status", { code = "1111111111", secret = "X" }) end
    local limited = r:post("/zrxx/status", { code = code, secret = secret })
    assert.are.equal(429, limited.status)
    assert.falsy(has(limited.body, "猜测测试"))
  end)
end)
