-- survey: public-opinion surveys and consultations (民意调查征集). Staff of
-- the column's unit define a survey (survey_manage, under <column>/manage);
-- it goes through the column's review chain (park.review), opens and closes
-- by itself (park.sched), takes one answer per participant (a unique key in
-- the database, whatever the mode), keeps its results hidden until it
-- closes, and publishes them with what was done about them.
local park = require("park")
local review = require("park.review")
local store = require("survey_store")
local questions = require("survey_questions")
local results = require("survey_results")
local manage = require("survey_manage")
local view = require("survey_view")

local plugin = {
  name = "survey",
  version = "1.0.0",
  description = "民意征集：问卷与意见征集，每人一份，结束后公布结果与反馈",
  config = {
    chain = { type = "array", items = "string", enum = review.NAMES,
              default = { "review", "leader" },
              description = "征集开始前的审核流程（review 单位审核，secrecy 保密审查，leader 领导签发，"
                .. "center 中心审核）" },
    mode = { type = "string", enum = { "anonymous", "code", "invite" }, default = "anonymous",
             description = "参与方式：anonymous 匿名（每个浏览器一份，并限制每个地址的提交次数），"
               .. "code 验证码（发送到参与者的手机或邮箱），invite 邀请码" },
    address_limit = { type = "integer", default = 30, min = 1, max = 1000000000,
                      description = "匿名方式下，同一网络地址每小时最多提交的份数" },
    results = { type = "string", enum = { "after_close", "staff_anytime", "public_anytime" },
                default = "after_close",
                description = "结果何时可见：after_close 征集结束后（工作人员也不例外），"
                  .. "staff_anytime 工作人员随时可见，public_anytime 公众随时可见" },
    channel = { type = "string", enum = { "log" }, default = "log",
                description = "发送验证码与反馈通知的渠道（log：写入日志，供开发与测试）" },
    site_name = { type = "string", default = "高新技术产业开发区", max_length = 60,
                  description = "网站名称，用于页面标题" },
  },
}

local COOKIE = "ph_survey"
local CODE_TTL = 15 * 60
local CODE_TRIES = 5

local function survey_of(req)
  local id = math.tointeger(tonumber(req.params.id or ""))
  local s = id and store.get(id)
  if s and s.column_path == req.column then return s end
end

local function not_found(req)
  return view.page(req, "notice.html", { title = "未找到", message = "没有这项征集。" }, 404)
end

-- Whether residents may see the results now (staff: see survey_manage).
local function public_results(req, _, phase)
  return phase == "closed" or req.config.results == "public_anytime"
end

local function list(req)
  local now = park.now()
  local groups = { open = {}, upcoming = {}, closed = {} }
  for _, s in ipairs(store.list(req.column)) do
    local phase = store.phase(s, now)
    if groups[phase] then table.insert(groups[phase], s) end
  end
  return view.page(req, "list.html", { groups = groups })
end

-- The participant of this request, by the survey's mode: its key, or nil
-- and what the form must ask for. Anonymous: the browser's token (made and
-- set as a cookie when it has none).
local function participant(req, res, s)
  if s.mode == "invite" then
    local token = req.form and req.form.invite or req.query.invite
    if not token or not token:match("^[%w_-]+$") then return nil, "invite" end
    local row = store.check(park.db.first("SELECT token FROM survey_invites WHERE token = ?"
      .. " AND survey_id = ?", token, s.id))
    if not row then return nil, "invite" end
    return "i:" .. token
  elseif s.mode == "code" then
    return nil, "code"
  end
  local token = req.cookies[COOKIE]
  if not token or not token:match("^[%w_-]+$") or #token ~= 22 then
    token = park.token()
    res:cookie(COOKIE, token, { max_age = 400 * 86400, http_only = true, same_site = "lax" })
  end
  return "b:" .. token
end

local function form_page(req, s, ctx, status)
  ctx.s = s
  ctx.questions = ctx.questions or questions.view(s.parsed, nil, {})
  ctx.nonce = ctx.nonce or park.token()
  ctx.csrf = park.csrf()
  ctx.invite = ctx.invite or req.query.invite
  ctx.contact = ctx.contact or req.query.contact
  return view.page(req, "survey.html", ctx, status)
end

local function show(req, res)
  local s = survey_of(req)
  if not s or s.state == "draft" or s.state == "review" or s.state == "returned" then
    return not_found(req)
  end
  local now = park.now()
  local phase = store.phase(s, now)
  local ctx = { s = s, phase = phase }
  if phase == "closed" or public_results(req, s, phase) then
    if public_results(req, s, phase) then
      local rows = store.answers(s.id)
      local sets = {}
      for i, r in ipairs(rows) do
        sets[i] = questions.normalize(s.parsed, store.decode(r.answers, {}))
      end
      ctx.tally = results.tally(s.parsed, sets)
      ctx.svg = results.svg
    end
  end
  if phase == "open" then
    local who = participant(req, res, s)
    if who and store.answered(s, who) then ctx.answered = true end
    -- An answer refused for its CSRF token (a lost cookie, a page left open
    -- too long): the form again with what was chosen and typed.
    if req.csrf_failed then
      local _, _, kept = questions.validate(s.parsed, function(name)
        return req:form_all(name)
      end)
      local nonce = req.form.nonce
      if type(nonce) ~= "string" or not nonce:match("^[%w_-]+$") or #nonce > 64 then
        nonce = nil
      end
      ctx.questions, ctx.nonce, ctx.expired = questions.view(s.parsed, kept, {}), nonce, true
      ctx.contact, ctx.invite = req.form.contact, req.form.invite
    end
    return form_page(req, s, ctx)
  end
  return view.page(req, "survey.html", ctx)
end

-- Check a code sent to the participant's contact; the participant key.
local function by_code(req, s, now)
  local contact = view.contact(req.form.contact)
  local code = (req.form.code or ""):gsub("%s", "")
  if not contact then return nil, "请填写有效的手机号码或电子邮箱" end
  local row = store.check(park.db.first("SELECT code, expires_at, attempts FROM survey_codes"
    .. " WHERE survey_id = ? AND contact = ?", s.id, contact))
  if not row or row.expires_at < now then return nil, "验证码已过期或尚未获取，请重新获取" end
  if row.attempts >= CODE_TRIES then return nil, "验证码错误次数过多，请重新获取" end
  if row.code ~= code then
    store.check(park.db.exec("UPDATE survey_codes SET attempts = attempts + 1"
      .. " WHERE survey_id = ? AND contact = ?", s.id, contact))
    return nil, "验证码不正确"
  end
  return "c:" .. contact, contact
end

-- The answer: validated, then one per participant, committed before the
-- thank-you page is sent.
local function answer(req, res)
  local s = survey_of(req)
  if not s then return not_found(req) end
  local now = park.now()
  if store.phase(s, now) ~= "open" then
    return view.page(req, "notice.html", { title = "征集已结束",
      message = "这项征集目前不接受回答。" }, 409)
  end
  local answers, errors, kept = questions.validate(s.parsed, function(name)
    return req:form_all(name)
  end)
  local nonce = req.form.nonce or ""
  if not nonce:match("^[%w_-]+$") or #nonce > 64 then nonce = park.token() end
  local who, contact, why
  if s.mode == "code" then
    who, contact = by_code(req, s, now)
    if not who then why = contact end
  else
    who, why = participant(req, res, s)
    if not who then why = "请使用收到的邀请链接参与" end
    contact = view.contact(req.form.contact)
  end
  if why then errors[#errors + 1] = { id = "participant", message = why } end
  if #errors > 0 then
    return form_page(req, s, { phase = "open", errors = errors, nonce = nonce,
      questions = questions.view(s.parsed, kept, errors), contact = req.form.contact,
      invite = req.form.invite }, 422)
  end
  if s.mode == "anonymous" and not store.answered(s, who) then
    if store.rate(req.client_ip, now) > req.config.address_limit then
      res:header("Retry-After", "3600")
      return view.page(req, "notice.html", { title = "提交过于频繁",
        message = "来自您所在网络的提交过多，请一小时后再试。" }, 429)
    end
  end
  local outcome, receipt = store.answer(s, who, nonce, s.mode, answers, contact,
    req.client_ip, now)
  if outcome == "other" then
    return view.page(req, "notice.html", { title = "您已参与",
      message = "您已经提交过这项征集的回答，每人只能提交一次。谢谢！" }, 409)
  end
  return view.page(req, "thanks.html", { s = s, receipt = receipt })
end

-- Send a code to the participant's contact (mode "code").
local function send_code(req)
  local s = survey_of(req)
  if not s or s.mode ~= "code" then return not_found(req) end
  local now = park.now()
  if store.phase(s, now) ~= "open" then return not_found(req) end
  local contact = view.contact(req.form.contact)
  if not contact then
    return form_page(req, s, { phase = "open", contact = req.form.contact,
      errors = { { id = "participant", message = "请填写有效的手机号码或电子邮箱" } } }, 422)
  end
  local last = store.check(park.db.first("SELECT sent_at FROM survey_codes WHERE survey_id = ?"
    .. " AND contact = ?", s.id, contact))
  if last and now - last.sent_at < 60 then
    return form_page(req, s, { phase = "open", contact = contact, code_sent = true,
      errors = { { id = "participant", message = "验证码已发送，一分钟后可重新获取" } } }, 429)
  end
  local t, digits = park.token(), {}
  for i = 1, 6 do digits[i] = tostring(t:byte(i) % 10) end
  local code = table.concat(digits)
  store.check(park.db.exec([[INSERT INTO survey_codes (survey_id, contact, code, expires_at,
    attempts, sent_at) VALUES (?, ?, ?, ?, 0, ?) ON CONFLICT (survey_id, contact) DO UPDATE
    SET code = excluded.code, expires_at = excluded.expires_at, attempts = 0,
    sent_at = excluded.sent_at]], s.id, contact, code, now + CODE_TTL, now))
  view.send(req.config.channel, contact, ("您参与“%s”的验证码是 %s，%d 分钟内有效。")
    :format(s.title, code, CODE_TTL // 60))
  return form_page(req, s, { phase = "open", contact = contact, code_sent = true })
end

-- An attachment of the draft of a survey residents can see.
local function attachment(req)
  local s = survey_of(req)
  if not s or store.phase(s, park.now()) == "unpublished" then return park.html("", 404) end
  for _, f in ipairs(s.files) do
    if f.id == req.params.file then
      return park.files.send(f.id, { name = f.name, type = f.type })
    end
  end
  return park.html("", 404)
end

plugin.routes = {}
for _, r in ipairs(manage.routes) do plugin.routes[#plugin.routes + 1] = r end
for _, r in ipairs({
  { "GET", "/", list },
  { "GET", "/:id", show },
  { "POST", "/:id", answer },
  { "POST", "/:id/code", send_code },
  { "GET", "/:id/files/:file", attachment },
}) do plugin.routes[#plugin.routes + 1] = r end

-- A survey opens and closes by itself at its times (scheduled when it is
-- approved; the key is the survey's id, so a new time replaces the old).
plugin.jobs = {
  open = function(payload)
    local s = store.get(math.tointeger(payload.id))
    if s and s.state == "scheduled" then
      store.set(s.id, { state = "open" }, park.now())
      store.record(s.id, "schedule", "open", { login = "scheduler" }, park.now())
    end
  end,
  close = function(payload)
    local s = store.get(math.tointeger(payload.id))
    if s and (s.state == "open" or s.state == "scheduled") and park.now() >= s.closes_at then
      store.set(s.id, { state = "closed" }, park.now())
      store.record(s.id, "schedule", "close", { login = "scheduler" }, park.now(),
        ("共收到 %d 份回答"):format(store.count(s.id)))
    end
  end,
}

return plugin
