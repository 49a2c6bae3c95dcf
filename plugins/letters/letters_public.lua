-- letters_public: the residents' pages: the form, the receipt (查询码 and
-- 查询密码), the status page with the timeline and the rating, and the
-- published letters with their search.
local park = require("park")
local content = require("park.content")
local config = require("letters_config")
local store = require("letters_store")
local view = require("letters_view")
local notify = require("letters_notify")
local roles = require("letters_roles")
local deadlines = require("letters_deadlines")

local pub = {}

local trim = content.trim

local FILE_TYPES = { pdf = "application/pdf", doc = "application/msword", ofd = "application/ofd",
  docx = "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
  wps = "application/vnd.ms-works", xls = "application/vnd.ms-excel",
  xlsx = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
  jpg = "image/jpeg", jpeg = "image/jpeg", png = "image/png", txt = "text/plain; charset=utf-8" }
pub.FILE_TYPES = FILE_TYPES
local FILE_COUNT = 3
local CODE_TTL, CODE_TRIES = 15 * 60, 5
local LOOKUP_LIMIT = 20 -- failed look-ups of a 查询码 per address and hour

local function is_errata(req)
  return req.config.type == "找错"
end

local function notice(req, status, title, message)
  return view.page(req, "notice.html", { title = title, message = message }, status)
end
pub.notice = notice

-- The page a 找错 report is about: this site's path, or an http(s) URL.
local function page_url(s)
  s = trim(s)
  if s == "" then return "" end
  if #s > 500 or s:find("[%c\"<>\\ ]") then return nil end
  if s:match("^/[^/]") or s == "/" or s:match("^https?://[%w.-]+") then return s end
  return nil
end

---------------------------------------------------------------------------
-- The form
---------------------------------------------------------------------------

local function form_page(req, ctx, status)
  local cfg = req.config
  ctx.title = ctx.title or (is_errata(req) and "我为政府网站找错" or
    ((park.site.column() or {}).title or cfg.type) .. "：写信")
  ctx.cfg = cfg
  ctx.errata = is_errata(req)
  ctx.days = config.days(cfg)
  ctx.v = ctx.v or {}
  ctx.nonce = ctx.nonce or park.token()
  ctx.csrf = park.csrf()
  ctx.file_types = "pdf、doc、docx、wps、ofd、xls、xlsx、jpg、png、txt"
  ctx.file_count = FILE_COUNT
  local by_id = {}
  for _, e in ipairs(ctx.errors or {}) do by_id[e.id] = e.message end
  ctx.err = function(id) return by_id[id] end
  return view.page(req, "write.html", ctx, status)
end

-- The letter's fields from the form: the fields, the errors ({ id =,
-- message = }, in the form's order) and the values to show again.
local function read_form(req)
  local form, cfg = req.form, req.config
  local f, errors, v = {}, {}, {}
  local function bad(id, message) errors[#errors + 1] = { id = id, message = message } end
  local function text(name, max)
    local s = trim(form[name])
    v[name] = s
    if not utf8.len(s) then return nil, "含有无法识别的字符" end
    if utf8.len(s) > max then return nil, ("最多 %d 个字，现有 %d 个字"):format(max, utf8.len(s)) end
    return s
  end
  local why
  f.name, why = text("name", 30)
  if why then bad("f-name", "姓名" .. why)
  elseif f.name == "" and not is_errata(req) then bad("f-name", "请填写姓名") end
  v.contact = trim(form.contact)
  f.contact = view.contact(v.contact)
  if v.contact == "" then
    if not is_errata(req) or cfg.verify == "code" then
      bad("f-contact", "请填写手机号码或电子邮箱，以便答复您")
    end
    f.contact = ""
  elseif not f.contact then
    bad("f-contact", "联系方式应为 11 位手机号码、带区号的固定电话或电子邮箱")
  end
  if cfg.verify == "code" then
    v.code = trim(form.code)
    if v.code == "" then bad("f-code", "请填写发送到您手机或邮箱的验证码") end
  end
  if is_errata(req) then
    v.url = trim(form.url)
    f.page_url = page_url(v.url)
    if v.url == "" then bad("f-url", "请填写出错页面的地址")
    elseif not f.page_url then bad("f-url", "出错页面的地址应以 / 或 http:// 、https:// 开头") end
  end
  f.page_url = f.page_url or ""
  f.title, why = text("title", 60)
  if why then bad("f-title", "标题" .. why) elseif f.title == "" then bad("f-title", "请填写标题") end
  f.body, why = text("body", cfg.body_max)
  if why then bad("f-body", "正文" .. why)
  elseif f.body == "" then bad("f-body", is_errata(req) and "请说明页面上的错误" or "请填写信件内容")
  elseif utf8.len(f.body) < 5 then bad("f-body", "正文至少 5 个字，请把事情说清楚") end
  -- Attachments: of an allowed type and size, at most FILE_COUNT.
  local ups = {}
  for _, up in ipairs(req.files and req.files.attachments or {}) do
    if not (up.filename == "" and up.size == 0) then ups[#ups + 1] = up end
  end
  if #ups > FILE_COUNT then bad("f-files", ("附件最多 %d 个"):format(FILE_COUNT)) end
  for _, up in ipairs(ups) do
    local ext = (up.filename:match("%.(%w+)$") or ""):lower()
    if not FILE_TYPES[ext] then
      bad("f-files", ("附件“%s”的类型不允许，请上传 pdf、doc、docx、wps、ofd、xls、xlsx、jpg、png 或 txt 文件")
        :format(up.filename))
    elseif up.size > cfg.file_max_mb * 1024 * 1024 then
      bad("f-files", ("附件“%s”超过 %d MB"):format(up.filename, cfg.file_max_mb))
    elseif up.size == 0 then
      bad("f-files", ("附件“%s”是空文件"):format(up.filename))
    end
  end
  f.uploads = ups
  if cfg.publish then
    v.publish = form.publish
    if form.publish ~= "1" and form.publish ~= "0" then
      bad("f-publish", "请选择是否同意公开")
    end
    f.wants_public = form.publish == "1"
  else
    f.wants_public = false
  end
  if #errors > 0 and #ups > 0 then
    bad("f-files", "附件未能保留，请重新选择")
  end
  return f, errors, v
end

--- The form to write a letter. Also what a post answers when it failed the
-- CSRF check (a lost cookie, a page left open too long: req.csrf_failed):
-- the form again with what was typed and a word to send it once more.
function pub.write_form(req)
  if req.csrf_failed then
    local _, _, v = read_form(req)
    local nonce = req.form.nonce
    if type(nonce) ~= "string" or not nonce:match("^[%w_-]+$") or #nonce > 64 then nonce = nil end
    return form_page(req, { v = v, nonce = nonce, expired = true })
  end
  local v = {}
  if is_errata(req) then v.url = page_url(req.query.url) or "" end
  v.publish = "1"
  return form_page(req, { v = v })
end

-- Check a verification code for the contact: true, or nil and why.
local function code_ok(req, contact, now)
  local row = store.check(park.db.first("SELECT code, expires_at, attempts FROM letters_codes"
    .. " WHERE column_path = ? AND contact = ?", req.column, contact))
  if not row or row.expires_at < now then return nil, "验证码已过期或尚未获取，请重新获取" end
  if row.attempts >= CODE_TRIES then return nil, "验证码错误次数过多，请重新获取" end
  if row.code ~= (req.form.code or ""):gsub("%s", "") then
    store.check(park.db.exec("UPDATE letters_codes SET attempts = attempts + 1"
      .. " WHERE column_path = ? AND contact = ?", req.column, contact))
    return nil, "验证码不正确"
  end
  return true
end

local function receipt(req, l, again)
  return view.page(req, "receipt.html", { title = "信件已提交", l = l, again = again,
    csrf = park.csrf() })
end

local function limited(req, res)
  res:header("Retry-After", "3600")
  return notice(req, 429, "提交过于频繁", "来自您所在网络的信件已达到每小时的上限，请一小时后再提交。"
    .. "如有紧急事项，请拨打页面底部的联系电话。")
end

-- The form posted: validated, then stored in one transaction (the answer
-- leaves only once it is durable), the same receipt for the same form.
function pub.submit(req, res)
  local cfg, now = req.config, park.now()
  local nonce = req.form.nonce or ""
  if not nonce:match("^[%w_-]+$") or #nonce > 64 then nonce = nil end
  -- A form posted again (a double click, a retry): its letter's receipt.
  if nonce then
    local same = store.check(park.db.first("SELECT * FROM letters_letters WHERE nonce = ?", nonce))
    if same and same.column_path == req.column then return receipt(req, same, true) end
    -- Another column's form's nonce: this is a letter of its own.
    if same then nonce = nil end
  end
  -- The honeypot: a field people do not see, which robots fill in.
  if trim(req.form.homepage) ~= "" then
    park.log.warn(("letters: a form with the hidden field filled in from %s refused")
      :format(req.client_ip or ""))
    return notice(req, 422, "提交未成功", "信件未能提交，请刷新页面后重新填写。")
  end
  local f, errors, v = read_form(req)
  if cfg.verify == "code" and f.contact and f.contact ~= "" and #errors == 0 then
    local ok, why = code_ok(req, f.contact, now)
    if not ok then errors[#errors + 1] = { id = "f-code", message = why } end
    f.verified = ok
  end
  if #errors > 0 then
    return form_page(req, { v = v, errors = errors, nonce = nonce }, 422)
  end
  nonce = nonce or park.token()
  if store.count("letter " .. req.column, req.client_ip or "", now) >= cfg.rate_limit then
    return limited(req, res)
  end
  -- Who receives it: the column's unit dispatches (分办), or the unit the
  -- binding names gets it directly.
  local column = park.site.column()
  local dispatcher = column and column.unit or roles.center()
  local state, unit = "dispatch", dispatcher
  if cfg.receiver ~= "center" then
    if roles.exists(cfg.receiver) then
      state, unit = "assigned", cfg.receiver
    else
      park.log.warn(("letters: %s: receiver %s is no unit; the letter goes to the dispatcher")
        :format(req.column, cfg.receiver))
    end
  end
  local files = {}
  for _, up in ipairs(f.uploads) do
    local id, err = park.files.keep(up)
    if not id then error("letters: an attachment cannot be kept: " .. tostring(err), 0) end
    local ext = (up.filename:match("%.(%w+)$") or ""):lower()
    files[#files + 1] = { id = id, name = up.filename, size = up.size, type = FILE_TYPES[ext] }
  end
  local outcome = store.submit({ column_path = req.column, type = cfg.type, nonce = nonce,
    name = f.name, contact = f.contact, verified = f.verified, title = f.title, body = f.body,
    page_url = f.page_url, files = files, wants_public = f.wants_public,
    address = req.client_ip or "", rate_key = "letter " .. req.column, state = state,
    unit = unit, dispatcher = dispatcher,
    due = deadlines.due(now, config.days(cfg)) }, cfg.rate_limit, now)
  if outcome[1] ~= "new" then
    for _, file in ipairs(files) do park.files.remove(file.id) end
  end
  if outcome[1] == "rate" then return limited(req, res) end
  local l = outcome[2]
  if outcome[1] == "new" and l.contact ~= "" then
    notify.send(cfg.channel, l.contact, ("您的信件“%s”已收到，查询码 %s，我们将在 %s 前答复。")
      :format(view.excerpt(l.title, 20), l.query_code, l.due))
  end
  if outcome[1] == "new" then
    park.log.info(("letters: letter %d received at %s for %s"):format(l.id, req.column, l.unit))
  end
  return receipt(req, l, outcome[1] == "same")
end

-- A verification code sent to the contact (verify = "code").
function pub.send_code(req)
  local cfg, now = req.config, park.now()
  if cfg.verify ~= "code" then return notice(req, 404, "未找到", "本栏目不需要验证码。") end
  local _, _, v = read_form(req) -- what was typed, shown again around the code
  local contact = view.contact(req.form.contact)
  local function again(message, status, sent)
    return form_page(req, { v = v, nonce = req.form.nonce, code_sent = sent,
      errors = message and { { id = "f-contact", message = message } } or {} }, status)
  end
  if not contact then return again("请填写有效的手机号码或电子邮箱", 422) end
  local last = store.check(park.db.first("SELECT sent_at FROM letters_codes WHERE"
    .. " column_path = ? AND contact = ?", req.column, contact))
  if last and now - last.sent_at < 60 then return again("验证码已发送，一分钟后可重新获取", 429, true) end
  if store.bump("code", req.client_ip or "", now) > cfg.rate_limit * 3 then
    return again("获取验证码过于频繁，请一小时后再试", 429)
  end
  local t, digits = park.token(), {}
  for i = 1, 6 do digits[i] = tostring(t:byte(i) % 10) end
  local code = table.concat(digits)
  store.check(park.db.exec([[INSERT INTO letters_codes (column_path, contact, code, expires_at,
    attempts, sent_at) VALUES (?, ?, ?, ?, 0, ?) ON CONFLICT (column_path, contact) DO UPDATE
    SET code = excluded.code, expires_at = excluded.expires_at, attempts = 0,
    sent_at = excluded.sent_at]], req.column, contact, code, now + CODE_TTL, now))
  notify.send(cfg.channel, contact, ("您在网上写信的验证码是 %s，%d 分钟内有效。")
    :format(code, CODE_TTL // 60))
  return again(nil, 200, true)
end

---------------------------------------------------------------------------
-- The writer's status page and rating
---------------------------------------------------------------------------

local function status_page(req, l, ctx, status)
  ctx = ctx or {}
  ctx.title = "办理进度"
  ctx.l = l
  ctx.csrf = park.csrf()
  if l then
    ctx.events = store.events(l.id, true)
    ctx.replies = store.approved_replies(l.id)
    ctx.ratings = store.ratings(l.id)
    ctx.rated = store.rating(l.id, l.round) ~= nil
    ctx.may_again = l.round == 1
    ctx.DECLINE_LABEL = view.DECLINE_LABEL
    ctx.RATINGS = view.RATINGS
    ctx.paragraphs = view.paragraphs
    if l.merged_into then
      local o = store.get(l.merged_into)
      ctx.merged = o and { query_code = o.query_code, title = o.title }
    end
  end
  return view.page(req, "status.html", ctx, status)
end

function pub.status_form(req)
  return status_page(req, nil, {})
end

-- The letter of the posted 查询码 and 查询密码, or nil and a function
-- giving the answer (a response is several values).
local function by_code(req, res)
  local now = park.now()
  local address = req.client_ip or ""
  if store.count("lookup", address, now) >= LOOKUP_LIMIT then
    res:header("Retry-After", "3600")
    return nil, content.answer(status_page(req, nil, { error = "查询失败次数过多，请一小时后再试。" },
      429))
  end
  local l = store.by_code(req.form.code, req.form.secret)
  if not l or l.column_path ~= req.column then
    store.bump("lookup", address, now)
    return nil, content.answer(status_page(req, nil, {
      error = "查询码或查询密码不正确，请核对后重新输入。", code = req.form.code }, 404))
  end
  return l
end

function pub.status(req, res)
  local l, answer = by_code(req, res)
  if not l then return answer() end
  return status_page(req, l, { code = l.query_code, secret = l.secret })
end

-- The writer rates the answer: 满意, 基本满意 or 不满意 (with a reason);
-- 不满意 may ask once for 再次办理, which sends the letter back to the unit.
function pub.rate(req, res)
  local l, answer = by_code(req, res)
  if not l then return answer() end
  local ctx = { code = l.query_code, secret = l.secret }
  if l.state ~= "answered" or store.rating(l.id, l.round) then
    ctx.error = "这封信目前不能评价：答复后可评价一次。"
    return status_page(req, l, ctx, 409)
  end
  local rating, reason = req.form.rating, trim(req.form.reason)
  local again = req.form.again == "1"
  local ok = false
  for _, r in ipairs(view.RATINGS) do if r == rating then ok = true end end
  if not ok then ctx.rate_error = "请选择满意、基本满意或不满意"
  elseif rating == "不满意" and reason == "" then ctx.rate_error = "选择不满意时，请写明原因"
  elseif (utf8.len(reason) or 1000) > 500 then ctx.rate_error = "原因最多 500 字"
  elseif again and (rating ~= "不满意" or l.round ~= 1) then
    ctx.rate_error = "只有不满意时可以申请再次办理，且只能申请一次"
  end
  if ctx.rate_error then
    ctx.rate_values = { rating = rating, reason = reason, again = again }
    return status_page(req, l, ctx, 422)
  end
  local now = park.now()
  local cfg = req.config
  park.db.transaction(function()
    store.check(park.db.exec("INSERT INTO letters_ratings (letter_id, round, rating, reason,"
      .. " again, at) VALUES (?, ?, ?, ?, ?, ?)", l.id, l.round, rating, reason, again and 1 or 0,
      now))
    store.event(l.id, nil, { action = "rate", unit = l.unit, note = rating
      .. (reason ~= "" and ("：" .. reason) or ""), public = true, note_public = true }, now)
    if again then
      local due = deadlines.due(now, config.days(cfg))
      store.set(l.id, { rating = rating, state = "accepted", round = 2, round_at = now,
        due = due, base_due = due, extended = 0 }, now)
      store.event(l.id, nil, { action = "reopen", unit = l.unit, to_unit = l.unit,
        note = ("写信人申请再次办理，答复期限 %s"):format(due), public = true,
        note_public = true }, now)
    else
      store.set(l.id, { rating = rating }, now)
    end
  end)
  if again then
    park.log.info(("letters: letter %d rated 不满意, handled again by %s"):format(l.id, l.unit))
    notify.send(cfg.channel, "unit:" .. l.unit, ("信件“%s”（编号 %d）的写信人不满意并申请再次办理，"
      .. "请重新答复。"):format(view.excerpt(l.title, 30), l.id))
  end
  ctx.rated_now = true
  return status_page(req, store.get(l.id), ctx)
end

---------------------------------------------------------------------------
-- The published letters
---------------------------------------------------------------------------

local function with_replies(rows)
  for _, r in ipairs(rows) do
    local last = store.check(park.db.first("SELECT body, approved_at, unit FROM letters_replies"
      .. " WHERE letter_id = ? AND state = 'approved' ORDER BY id DESC LIMIT 1", r.id))
    r.reply = last and view.excerpt(last.body, 80) or ""
    r.reply_at = last and last.approved_at
    r.reply_unit = last and last.unit or r.unit
  end
  return rows
end

local function page_cursor(s)
  local at, id = (s or ""):match("^(%d+)%.(%d+)$")
  return math.tointeger(tonumber(at)), math.tointeger(tonumber(id))
end

function pub.list(req)
  if is_errata(req) and req.query.url then return pub.write_form(req) end
  local q = trim(req.query.q)
  local ctx = { q = q, days = config.days(req.config), cfg = req.config }
  if q ~= "" then
    local items, why = park.items.search(q, { column = req.column, kind = "letter", limit = 100 })
    local ids = {}
    for _, it in ipairs(items or {}) do
      local id = math.tointeger(tonumber(it.key))
      if id then ids[#ids + 1] = id end
    end
    ctx.rows = with_replies(store.public_by_ids(req.column, ids))
    ctx.searched, ctx.search_error = true, not items and why or nil
  else
    local n = req.config.page_size
    local at, id = page_cursor(req.query.before)
    local rows = store.public_page(req.column, at, id, n)
    local more = #rows > n
    if more then rows[#rows] = nil end
    local last = rows[#rows]
    ctx.rows = with_replies(rows)
    ctx.first_page = at == nil
    ctx.next_url = more and ("%s?before=%d.%d"):format(req.column == "/" and "" or req.column,
      last.published_at, last.id) or nil
  end
  ctx.mask_name = view.mask_name
  return view.page(req, "list.html", ctx)
end

function pub.show(req)
  local l = store.get(req.params.id)
  if not l or l.column_path ~= req.column or l.published ~= 1 then
    return notice(req, 404, "未找到", "没有这封公开的信件。未公开的信件，写信人可凭查询码和查询密码查看办理进度。")
  end
  return view.page(req, "letter.html", { title = l.title, l = l,
    replies = store.approved_replies(l.id), events = store.events(l.id, true),
    mask_name = view.mask_name, mask_contact = view.mask_contact,
    paragraphs = view.paragraphs, DECLINE_LABEL = view.DECLINE_LABEL })
end

return pub
