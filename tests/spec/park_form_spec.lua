-- park.form: a declared form checked into typed values or errors in words,
-- shown again accessibly, with the CSRF token and the idempotency nonce;
-- through real HTTP against tests/fixtures/plugins/formkit, then the pure
-- parts on their own.
local testing = require("park.testing")
local cjson = require("cjson")
local form = require("park.form")

local FORM = "application/x-www-form-urlencoded"

local function url_encode(s)
  return (tostring(s):gsub("[^%w%-_%.~]", function(c) return ("%%%02X"):format(c:byte()) end))
end

-- The smallest good entry: the required fields.
local function good(extra)
  local t = { title = "园区通知", kind = "advice", agree = "1" }
  for k, v in pairs(extra or {}) do
    -- false leaves a field out (but _csrf = false and _nonce = false: see submit)
    if v == false and k:sub(1, 1) ~= "_" then t[k] = nil else t[k] = v end
  end
  return t
end

local function plain(s)
  return (s:gsub("[%^%$%(%)%%%.%[%]%*%+%-%?]", "%%%0"))
end

describe("park.form: a declared form, through real HTTP", function()
  local site

  setup(function()
    site = testing.start_site({
      plugins = { "tests/fixtures/plugins" },
      bindings = { { column = "/fk", plugin = "formkit" } },
    })
  end)

  teardown(function()
    assert.are.equal(0, site:stop())
  end)

  local function count()
    return cjson.decode(site:request("GET", "/fk/count").body).n
  end

  -- A browser that has the form's page: its token and the page's nonce.
  local function visit()
    local b = site:browser()
    local res = b:get("/fk")
    assert.are.equal(200, res.status)
    b.nonce = res.body:match('name="_nonce" value="([^"]+)"')
    return b, res
  end

  -- Post fields (a list value repeats the field) with the browser's token
  -- and nonce; `files` makes it multipart.
  local function submit(b, fields, files)
    fields._csrf = fields._csrf == nil and b.token or fields._csrf or nil
    fields._nonce = fields._nonce == nil and b.nonce or fields._nonce or nil
    if files then
      local csrf = fields._csrf
      fields._csrf = nil
      return b:post("/fk/", fields, csrf or false, files)
    end
    local keys = {}
    for k in pairs(fields) do keys[#keys + 1] = k end
    table.sort(keys)
    local parts = {}
    for _, k in ipairs(keys) do
      local v = fields[k]
      for _, one in ipairs(type(v) == "table" and v or { v }) do
        parts[#parts + 1] = url_encode(k) .. "=" .. url_encode(one)
      end
    end
    return b:request("POST", "/fk/", FORM, table.concat(parts, "&"))
  end

  it("shows the empty form: labels tied to inputs, the CSRF token, a nonce", function()
    local _, res = visit()
    local body = res.body
    assert.matches('<label for="f-title">标题</label>', body, 1, true)
    assert.matches('<input type="text" id="f-title" name="title" value="" required>', body, 1,
      true)
    assert.matches('<label for="f-age">年龄（选填）</label>', body, 1, true)
    assert.matches('id="f-age" name="age" value="" inputmode="numeric"', body, 1, true)
    -- A code typed as text keeps its leading zeros and still asks for digits.
    assert.matches('id="f-otp" name="otp" value="" inputmode="numeric" '
      .. 'autocomplete="one-time-code"', body, 1, true)
    assert.matches('<input type="date" id="f-born"', body, 1, true)
    assert.matches('<input type="datetime-local" id="f-meet_at"', body, 1, true)
    assert.matches('<input type="email" id="f-email" name="email" value="" autocomplete="email">',
      body, 1, true)
    assert.matches('<input type="tel" id="f-phone"', body, 1, true)
    assert.matches('<input type="url" id="f-site"', body, 1, true)
    assert.matches('<select id="f-kind" name="kind" required>', body, 1, true)
    assert.matches('<option value="advice">建议</option>', body, 1, true)
    -- Radios and checkboxes: a fieldset with its legend, each input labelled.
    assert.matches('<fieldset class="field choices" id="f%-color">%s*<legend>颜色（选填）</legend>',
      body)
    assert.matches('<input type="radio" id="f-color-1" name="color" value="red"> '
      .. '<label for="f-color-1">红</label>', body, 1, true)
    assert.matches('<input type="checkbox" id="f-topics-3" name="topics" value="3"> '
      .. '<label for="f-topics-3">环境</label>', body, 1, true)
    -- The hint is read with its field.
    assert.matches('<p class="hint" id="f-body-hint">最多 20 个字</p>', body, 1, true)
    assert.matches('<textarea id="f-body" name="body" rows="4" aria-describedby="f-body-hint">'
      .. '</textarea>', body, 1, true)
    assert.matches('<input type="file" id="f-doc" name="doc" accept=".pdf,.txt">', body, 1, true)
    assert.matches('enctype="multipart/form-data"', body, 1, true)
    assert.matches('<input type="hidden" name="_csrf" value="[%w_%-]+">', body)
    assert.matches('<input type="hidden" name="_nonce" value="[%w_%-]+">', body)
    -- No summary before anything is posted.
    assert.is_nil(body:find("需要修改", 1, true))
    assert.is_nil(body:find("aria-invalid", 1, true))
  end)

  it("shows what was typed again, and stores nothing, when the CSRF cookie was lost", function()
    local b = visit()
    local before = count()
    b.jar = {} -- the cookie is gone
    local res = submit(b, good({ title = "东门<加装>雨棚" }))
    assert.are.equal(403, res.status)
    assert.truthy(res.body:find('id="form-expired"', 1, true), res.body)
    assert.truthy(res.body:find('value="东门&lt;加装&gt;雨棚"', 1, true), res.body)
    assert.falsy(res.body:find('aria-invalid="true"', 1, true), "a field marked in error")
    assert.are.equal(before, count())
    -- Sent again from that page, with its fresh token, it is stored.
    local nonce = res.body:match('name="_nonce" value="([^"]+)"')
    assert.are.equal(b.nonce, nonce, "the page's nonce is kept")
    res = submit(b, good({ title = "东门<加装>雨棚" }))
    assert.are.equal(before + 1, count(), res.body)
  end)

  it("gives every field type's value typed, in characters, not bytes", function()
    local b = visit()
    local res = submit(b, good({
      title = "一二三四五六七八九十", -- 10 characters, 30 bytes: max_length = 10 holds
      body = "第一行\r\n第二行", age = " ４２ ", amount = "3.5", born = "2026/1/5",
      meet_at = "2026-03-01 09:30", email = "Wang.Li@Example.COM", phone = "0571 8888 6666",
      site = "https://www.example.gov.cn/a?b=1", kind = "complaint", color = "blue",
      topics = { "3", "1" }, code = "GX2026", nick = "小王",
    }))
    assert.are.equal(200, res.status, res.body)
    local out = cjson.decode(res.body)
    assert.are.equal("new", out.outcome)
    local v, t = out.values, out.types
    assert.are.equal("一二三四五六七八九十", v.title)
    assert.are.equal("第一行\n第二行", v.body)
    assert.are.equal(42, v.age)
    assert.are.equal("integer", t.age)
    assert.are.equal(3.5, v.amount)
    assert.are.equal("float", t.amount)
    assert.are.equal("2026-01-05", v.born)
    assert.are.equal("integer", t.meet_at)
    assert.are.equal("Wang.Li@example.com", v.email)
    assert.are.equal("0571-88886666", v.phone)
    assert.are.equal("https://www.example.gov.cn/a?b=1", v.site)
    assert.are.equal("complaint", v.kind)
    assert.are.equal("blue", v.color)
    assert.are.equal(true, v.agree)
    assert.are.equal("boolean", t.agree)
    assert.are.same({ 1, 3 }, v.topics) -- the choices' own values, in the choices' order
    assert.are.equal("GX2026", v.code)
    -- Read back into the form (F:context with the row's typed values).
    local edit = b:get("/fk/edit/" .. out.id).body
    assert.matches('id="f-meet_at" name="meet_at" value="2026-03-01T09:30"', edit, 1, true)
    assert.matches('id="f-age" name="age" value="42"', edit, 1, true)
    assert.matches('<option value="complaint" selected>投诉</option>', edit, 1, true)
    assert.matches('id="f-topics-1" name="topics" value="1" checked', edit, 1, true)
    assert.matches('id="f-topics-2" name="topics" value="2">', edit, 1, true)
    assert.matches('id="f-topics-3" name="topics" value="3" checked', edit, 1, true)
    -- Optional fields left empty: "" for text, nil for the others, false, {}.
    res = submit(visit(), good())
    v = cjson.decode(res.body).values
    assert.are.equal("", v.email)
    assert.is_nil(v.age)
    assert.is_nil(v.born)
    assert.is_nil(v.color)
    assert.are.same({}, v.topics)
  end)

  -- One bad value of each field, its message in Chinese, where its link goes.
  local BAD = {
    { "title", "", "标题：请填写" },
    { "title", "园", "标题：至少 2 个字，现有 1 个字" },
    { "title", "一二三四五六七八九十一", "标题：最多 10 个字，现有 11 个字" },
    { "body", ("字"):rep(21), "内容：最多 20 个字，现有 21 个字" },
    { "age", "abc", "年龄：应为整数" },
    { "age", "4.5", "年龄：应为整数" },
    { "age", "17", "年龄：不能小于 18" },
    { "age", "121", "年龄：不能大于 120" },
    { "amount", "三元", "金额：应为数字" },
    { "amount", "-1", "金额：不能小于 0" },
    { "born", "2026-02-30", "出生日期：不是有效的日期" },
    { "born", "明天", "出生日期：格式应为 2026-01-31" },
    { "born", "2027-01-01", "出生日期：不能晚于 2026-12-31" },
    { "meet_at", "2026-03-01 25:00", "约见时间：不是有效的日期和时间" },
    { "meet_at", "下周一", "约见时间：格式应为 2026-01-31 09:30" },
    { "email", "wang@", "邮箱：格式不正确" },
    { "phone", "12345", "电话：应为 11 位手机号码或带区号的固定电话" },
    { "phone", "1381234567", "电话：应为 11 位手机号码或带区号的固定电话" },
    { "site", "javascript:alert(1)", "网址：应为以 http:// 或 https:// 开头的网址" },
    { "kind", "", "类别：请选择" },
    { "kind", "other", "类别：请从列表中选择" },
    { "color", "green", "颜色：请从列表中选择", "f-color-1" },
    { "agree", false, "我已阅读并同意办理须知：请勾选同意后再提交" },
    { "topics", { "1", "2", "3" }, "关注领域：最多选择 2 项", "f-topics-1" },
    { "topics", { "9" }, "关注领域：请从列表中选择", "f-topics-1" },
    { "code", "gx2026", "项目编号：应为两个大写字母加四位数字，如 GX2026" },
    { "code", "XGX2026", "项目编号：应为两个大写字母加四位数字，如 GX2026" },
    { "code", "GX20261", "项目编号：应为两个大写字母加四位数字，如 GX2026" },
    { "nick", "我是管理员", "昵称：不能使用“管理员”" },
  }

  it("refuses each bad value with its message at the field and in the summary", function()
    local before = count()
    for _, case in ipairs(BAD) do
      local name, value, message, href = case[1], case[2], case[3], case[4] or ("f-" .. case[1])
      local what = name .. " = " .. cjson.encode(value)
      local res = submit(visit(), good({ [name] = value }))
      local body = res.body
      assert.are.equal(422, res.status, what)
      -- In the summary, a link to the field.
      assert.matches('<div class="alert" role="alert" id="form%-errors">%s*<h2>提交的内容有 1 处需要修改'
        .. '</h2>', body)
      assert.matches('<li><a href="#' .. href .. '">' .. message .. "</a></li>", body, 1, true)
      -- At the field, with the id the input points at.
      assert.matches('<p class="q-error" id="f-' .. name .. '-error">' .. message .. "</p>", body,
        1, true)
      if name == "color" or name == "topics" then
        assert.matches('<fieldset class="field choices" id="f-' .. name .. '" aria-invalid="true"'
          .. ' aria-describedby="f-' .. name .. '-error">', body, 1, true)
      else
        assert.matches('id="f%-' .. plain(name) .. '" name="' .. plain(name)
          .. '"[^>]* aria%-invalid="true" aria%-describedby="[^"]*f%-' .. plain(name)
          .. '%-error"', body)
      end
      -- What was typed is shown again (text typed by hand, as typed).
      if type(value) == "string" and value ~= "" and name ~= "kind" and name ~= "color" then
        if name == "body" then
          assert.matches(">" .. value .. "</textarea>", body, 1, true)
        else
          assert.matches('name="' .. name .. '" value="' .. value .. '"', body, 1, true)
        end
      end
    end
    assert.are.equal(before, count())
  end)

  it("lists every error in the form's order and keeps the good values, typed", function()
    local b = visit()
    local res = submit(b, good({
      title = "", age = "abc", phone = "0571 8888 6666", born = "2026/1/5", kind = "complaint",
      color = "blue", topics = { "2" }, agree = false, body = "<b>粗</b>\r\n第二行",
      email = 'x"><script>alert(1)</script>',
    }))
    assert.are.equal(422, res.status)
    local body = res.body
    assert.matches("<h2>提交的内容有 4 处需要修改</h2>", body, 1, true)
    local order = {}
    for href in body:match('id="form%-errors">(.-)</div>'):gmatch('href="#([^"]+)"') do
      order[#order + 1] = href
    end
    assert.are.same({ "f-title", "f-age", "f-email", "f-agree" }, order)
    -- Good values, as checked: normalised.
    assert.matches('name="phone" value="0571-88886666"', body, 1, true)
    assert.matches('name="born" value="2026-01-05"', body, 1, true)
    assert.matches('<option value="complaint" selected>', body, 1, true)
    assert.matches('id="f-color-2" name="color" value="blue" checked', body, 1, true)
    assert.matches('id="f-topics-2" name="topics" value="2" checked', body, 1, true)
    assert.matches('<textarea id="f-body" name="body" rows="4" aria-describedby="f-body-hint">'
      .. "&lt;b&gt;粗&lt;/b&gt;\n第二行</textarea>", body, 1, true)
    -- A bad value shown again, escaped.
    assert.matches('name="email" value="x&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"', body,
      1, true)
    assert.is_nil(body:find("<script>alert", 1, true))
    -- The same nonce comes back, for the corrected post.
    assert.matches('name="_nonce" value="' .. b.nonce .. '"', body, 1, true)
  end)

  it("checks uploads: their type, their size, and says when one must be chosen again", function()
    local function up(name, data)
      return { doc = { { filename = name, content_type = "application/octet-stream",
                         data = data } } }
    end
    local res = submit(visit(), good(), up("说明.txt", "园区"))
    assert.are.equal(200, res.status, res.body)
    assert.are.same({ filename = "说明.txt", size = 6 }, cjson.decode(res.body).values.doc)
    res = submit(visit(), good(), up("run.exe", "MZ"))
    assert.are.equal(422, res.status)
    assert.matches("附件：“run.exe”的类型不允许，可上传 pdf、txt 文件", res.body, 1, true)
    assert.matches('id="f-doc" name="doc" accept=".pdf,.txt" aria-invalid="true" '
      .. 'aria-describedby="f-doc-error"', res.body, 1, true)
    res = submit(visit(), good(), up("big.pdf", ("x"):rep(101)))
    assert.are.equal(422, res.status)
    assert.matches("附件：“big.pdf”超过 100 字节", res.body, 1, true)
    res = submit(visit(), good(), up("empty.pdf", ""))
    assert.are.equal(422, res.status)
    assert.matches("附件：“empty.pdf”是空文件", res.body, 1, true)
    -- A good file with another field in error: the browser will not send it again.
    res = submit(visit(), good({ title = "" }), up("ok.pdf", "%PDF"))
    assert.are.equal(422, res.status)
    assert.matches("<h2>提交的内容有 2 处需要修改</h2>", res.body, 1, true)
    assert.matches("附件：请重新选择文件", res.body, 1, true)
  end)

  it("stores one entry per nonce: a second post answers the first's, across a restart", function()
    local before = count()
    local b = visit()
    local first = cjson.decode(submit(b, good()).body)
    assert.are.equal("new", first.outcome)
    local again = cjson.decode(submit(b, good()).body)
    assert.are.equal("same", again.outcome)
    assert.are.equal(first.id, again.id)
    assert.are.equal(before + 1, count())
    -- The server restarts (the nonce is in the database, not a worker's memory).
    assert.are.equal(0, site:halt())
    site:restart()
    local after = cjson.decode(submit(b, good()).body)
    assert.are.equal("same", after.outcome)
    assert.are.equal(first.id, after.id)
    assert.are.equal(before + 1, count())
    -- A new page, a new nonce: a new entry.
    local b2 = visit()
    assert.are_not.equal(b.nonce, b2.nonce)
    local other = cjson.decode(submit(b2, good()).body)
    assert.are.equal("new", other.outcome)
    assert.are_not.equal(first.id, other.id)
    -- A post without a nonce (an old page) is one entry of its own.
    local bare = cjson.decode(submit(visit(), good({ _nonce = false })).body)
    assert.are.equal("new", bare.outcome)
    assert.are.equal(before + 3, count())
    -- F:seen tells a used nonce (and what it made) before anything else is checked.
    assert.are.same({ used = true, ref = first.id },
      cjson.decode(site:request("GET", "/fk/seen?nonce=" .. b.nonce).body))
    assert.are.same({ used = false },
      cjson.decode(site:request("GET", "/fk/seen?nonce=neverPostedNonce12345").body))
    -- F:prune forgets old nonces (here: all, claimed less than 10 s in the future).
    local pruned = site:request("POST", "/fk/prune",
      { ["Content-Type"] = "application/x-www-form-urlencoded" }, "age=-10")
    assert.are.equal(count(), cjson.decode(pruned.body).removed) -- one nonce per entry
    assert.are.same({ used = false },
      cjson.decode(site:request("GET", "/fk/seen?nonce=" .. b.nonce).body))
  end)

  it("stores one entry when the same nonce reaches two workers", function()
    local s2 = testing.start_site({
      plugins = { "tests/fixtures/plugins" }, workers = 2,
      bindings = { { column = "/fk", plugin = "formkit" } },
    })
    local function pinned(n)
      local b = s2:browser({ worker = n })
      b:get("/fk")
      return b
    end
    local b0, b1 = pinned(0), pinned(1)
    local nonce = "sameNonceForTwoWorkers"
    local function post(b)
      local body = "_csrf=" .. url_encode(b.token) .. "&_nonce=" .. nonce
        .. "&title=%E5%9B%AD%E5%8C%BA&kind=advice&agree=1"
      return cjson.decode(b:request("POST", "/fk/", FORM, body).body)
    end
    local r0, r1 = post(b0), post(b1)
    assert.are.same({ "new", "same" }, { r0.outcome, r1.outcome })
    assert.are.equal(r0.id, r1.id)
    assert.are.equal(1, cjson.decode(s2:request("GET", "/fk/count").body).n)
    assert.are.equal(0, s2:stop())
  end)

  it("refuses a post without the page's CSRF token, before the form is read", function()
    local before = count()
    local b = visit()
    local res = submit(b, good({ _csrf = false }))
    assert.are.equal(403, res.status)
    -- Another browser's token is no better.
    local other = visit()
    res = submit(b, good({ _csrf = other.token }))
    assert.are.equal(403, res.status)
    assert.are.equal(before, count())
    assert.matches("csrf: .* refused", site:log())
  end)
end)

describe("park.form: the pure parts", function()
  -- A request as F:check reads it: the form's fields and their repeats.
  local function req(fields)
    return { method = "POST", form = fields,
             form_all = function(_, name)
               local v = fields[name]
               if type(v) == "table" then return v end
               return v and { v } or {}
             end }
  end

  it("refuses a declaration with a mistake, naming the field", function()
    local function bad(fields, pattern)
      local ok, err = pcall(form.new, { fields = fields })
      assert.is_false(ok)
      assert.matches(pattern, err)
    end
    bad({ { name = "t", label = "标题", max_lenght = 5 } }, "field 't': unknown key 'max_lenght'")
    bad({ { name = "t", label = "标题", type = "texte" } }, "unknown type 'texte'")
    bad({ { name = "t" } }, "field 't': a label is required")
    bad({ { name = "_csrf", label = "x" } }, "fields%[1%]: the name must be")
    bad({ { name = "k", label = "类别", type = "select" } }, "a select needs choices")
    bad({ { name = "a", label = "甲" }, { name = "a", label = "乙" } }, "two fields named 'a'")
    bad({ { name = "n", label = "数", type = "integer", pattern = "%d+" } },
      "a pattern is for text%-like fields")
    bad({ { name = "t", label = "标题", messages = { requierd = "x" } } },
      "messages: unknown rule 'requierd'")
  end)

  it("counts lengths in characters and anchors patterns", function()
    local F = form.new({ fields = {
      { name = "t", label = "标题", max_length = 3 },
      { name = "p", label = "邮编", pattern = "%d%d%d%d%d%d" },
    } })
    local v, e = F:check(req({ t = "高新区", p = "310000" }))
    local _
    assert.is_nil(e)
    assert.are.equal("高新区", v.t)
    _, e = F:check(req({ t = "高新区a", p = "3100001" }))
    assert.are.equal("标题：最多 3 个字，现有 4 个字", e.t)
    assert.are.equal("邮编：格式不正确", e.p)
    assert.are.same({ "t", "p" }, { e._list[1].name, e._list[2].name })
    assert.are.equal("#f-p", e._list[2].href)
    -- Bytes that are not UTF-8, or control characters: refused, not counted.
    _, e = F:check(req({ t = "\xff\xfe\1", p = "" }))
    assert.are.equal("标题：含有无法识别的字符", e.t)
  end)

  it("runs custom checks with every typed value, and the form's own check", function()
    local F = form.new({
      fields = {
        { name = "from", label = "开始日期", type = "date", required = true },
        { name = "to", label = "结束日期", type = "date", required = true,
          check = function(to, values)
            if values.from and to < values.from then return "不能早于开始日期" end
          end },
      },
      check = function(values)
        if values.from == "2026-10-01" then return { from = "国庆节不办理", "请另选日期" } end
      end,
    })
    local _, e = F:check(req({ from = "2026-05-02", to = "2026-05-01" }))
    assert.are.equal("结束日期：不能早于开始日期", e.to)
    _, e = F:check(req({ from = "2026-10-01", to = "2026-10-02" }))
    assert.are.equal("开始日期：国庆节不办理", e.from)
    -- An error of the whole form: in the summary, without a link.
    assert.are.equal("请另选日期", e._list[1].message)
    assert.is_nil(e._list[1].href)
    -- A plugin's own error after the check (a database lookup, say).
    local v
    v, e = F:check(req({ from = "2026-05-01", to = "2026-05-02" }))
    assert.is_nil(e)
    e = F:error(e, "to", "当天已约满")
    assert.are.equal("结束日期：当天已约满", e.to)
    assert.are.equal("2026-05-02", v.to)
  end)

  it("reads Chinese phone numbers, e-mail addresses, dates and URLs", function()
    local phone = form.parse_phone
    assert.are.equal("13812345678", phone("138 1234 5678"))
    assert.are.equal("13812345678", phone("+86 138-1234-5678"))
    assert.are.equal("13812345678", phone("１３８１２３４５６７８"))
    assert.are.equal("010-62345678", phone("01062345678"))
    assert.are.equal("021-62345678", phone("021 6234 5678"))
    assert.is_nil(phone("021-12345678")) -- a local number never starts with 0 or 1
    assert.are.equal("0571-88886666", phone("(0571)88886666"))
    assert.are.equal("0571-8888666-123", phone("0571-8888666-123"))
    assert.are.equal("400-123-4567", phone("4001234567"))
    assert.is_nil(phone("12812345678"))
    assert.is_nil(phone("0571-1234"))
    assert.is_nil(phone("05711234567890"))
    assert.are.equal("a.b@example.com", form.parse_email("a.b@Example.com"))
    assert.is_nil(form.parse_email("a..b@example.com"))
    assert.is_nil(form.parse_email("ab@example"))
    assert.are.equal("2024-02-29", form.parse_date("2024-2-29"))
    assert.is_nil(form.parse_date("2026-02-29"))
    assert.is_nil(form.parse_url("http://"))
    assert.is_nil(form.parse_url('https://a.cn/"onmouseover='))
    assert.are.equal("HTTPS://a.cn", form.parse_url("HTTPS://a.cn"))
  end)
end)
