-- letters_public: the residents' pages: the form, the receipt (查询码 and
-- 查询密码), the status page with the timeline and the rating, and the
-- published letters with their search.
local park = require("park")
local content = require("park.content")
local form = require("park.form")
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

local EXTS = { "pdf", "doc", "docx", "wps", "ofd", "xls", "xlsx", "jpg", "jpeg", "png", "txt" }

-- The letter form of a binding's config (its type, verify, publish and
-- limits), declared once per such config.
local forms = {}
local function letter_form(cfg)
  local key = table.concat({ cfg.type, cfg.verify, tostring(cfg.publish), cfg.body_max,
    cfg.file_max_mb }, "|")
  if forms[key] then return forms[key] end
  local errata, optional = cfg.type == "找错", cfg.type == "找错" and cfg.verify ~= "code"
  local fields = {
    { name = "name", label = "姓名", required = not errata, max_length = 30, autocomplete = "name" },
    { name = "contact", label = "手机号码或电子邮箱", required = not optional, autocomplete = "tel",
      messages = { required = "请填写，以便答复您" },
      hint = (optional and "留下后可收到答复通知。" or "") .. "用于答复和通知您；公开时只显示部分字符，如 138****5678。",
      check = function(v) if not view.contact(v) then return "应为 11 位手机号码、带区号的固定电话或电子邮箱" end end },
  }
  if cfg.verify == "code" then
    fields[#fields + 1] = { name = "code", label = "验证码", required = true,
      autocomplete = "one-time-code", messages = { required = "请填写发送到您手机或邮箱的验证码" } }
  end
  if errata then
    fields[#fields + 1] = { name = "url", label = "出错页面的地址", required = true,
      hint = "从页面底部的“我为政府网站找错”进入时已自动填写。",
      check = function(v) if not page_url(v) then return "应以 / 或 http:// 、https:// 开头" end end }
  end
  for _, f in ipairs({
    { name = "title", label = "标题", required = true, max_length = 60 },
    { name = "body", label = errata and "错误说明" or "信件内容", type = "textarea", rows = 10,
      required = true, min_length = 5, max_length = cfg.body_max,
      hint = ("最多 %d 字"):format(cfg.body_max), messages = { min_length = "至少 5 个字，请把事情说清楚",
        required = errata and "请说明页面上的错误" or nil } },
    { name = "attachments", label = "附件", type = "file", multiple = true, max_files = FILE_COUNT,
      types = EXTS, max_bytes = cfg.file_max_mb * 1024 * 1024,
      hint = ("最多 %d 个，每个不超过 %d MB；可上传 %s 文件。"):format(FILE_COUNT, cfg.file_max_mb,
        table.concat(EXTS, "、")) },
    cfg.publish and { name = "publish", label = "是否同意公开", type = "radio", required = true,
      choices = { { "1", "同意公开：答复后在本栏目公开，姓名和联系方式只显示部分字符" },
                  { "0", "不公开：只有您凭查询码和查询密码可以查看" } } } or nil,
  }) do fields[#fields + 1] = f end
  forms[key] = form.new({ nonce = true, fields = fields })
  return forms[key]
end

local function form_page(req, f, status, ctx)
  ctx = ctx or {}
  ctx.title = is_errata(req) and "我为政府网站找错" or
    ((park.site.column() or {}).title or req.config.type) .. "：写信"
  ctx.errata, ctx.days, ctx.form = is_errata(req), config.days(req.config), f
  return view.page(req, "write.html", ctx, status)
end

--- The form to write a letter. Also what a post answers when it failed the
-- CSRF check (a lost cookie, a page left open too long: req.csrf_failed):
-- park.form shows what was typed and says to send it once more.
function pub.write_form(req)
  local F = letter_form(req.config)
  if req.csrf_failed then return form_page(req, F:context(req)) end
  return form_page(req, F:context(req, { publish = "1",
    url = is_errata(req) and page_url(req.query.url) or "" }))
end

-- Check a verification code for the contact: true, or nil and why.
local function code_ok(req, contact, code, now)
  local row = store.check(park.db.first("SELECT code, expires_at, attempts FROM letters_codes"
    .. " WHERE column_path = ? AND contact = ?", req.column, contact))
  if not row or row.expires_at < now then return nil, "验证码已过期或尚未获取，请重新获取" end
  if row.attempts >= CODE_TRIES then return nil, "验证码错误次数过多，请重新获取" end
  if row.code ~= code:gsub("%s", "") then
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
  local F = letter_form(cfg)
  local v, errors = F:check(req)
  -- A form posted again (a double click, a retry): its letter's receipt.
  local same = store.check(park.db.first("SELECT * FROM letters_letters WHERE nonce = ?", v._nonce))
  if same and same.column_path == req.column then return receipt(req, same, true) end
  -- Another column's form's nonce: this is a letter of its own.
  if same then v._nonce = park.token() end
  -- The honeypot: a field people do not see, which robots fill in.
  if trim(req.form.homepage) ~= "" then
    park.log.warn(("letters: a form with the hidden field filled in from %s refused")
      :format(req.client_ip or ""))
    return notice(req, 422, "提交未成功", "信件未能提交，请刷新页面后重新填写。")
  end
  local contact, verified = view.contact(v.contact) or "", nil
  if cfg.verify == "code" and not errors then
    local why
    verified, why = code_ok(req, contact, v.code, now)
    if not verified then errors = F:error(errors, "code", why) end
  end
  if errors then return form_page(req, F:context(req, v, errors), 422) end
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
  for _, up in ipairs(v.attachments) do
    local id, err = park.files.keep(up)
    if not id then error("letters: an attachment cannot be kept: " .. tostring(err), 0) end
    local ext = (up.filename:match("%.(%w+)$") or ""):lower()
    files[#files + 1] = { id = id, name = up.filename, size = up.size, type = FILE_TYPES[ext] }
  end
  local outcome = store.submit({ column_path = req.column, type = cfg.type, nonce = v._nonce,
    name = v.name, contact = contact, verified = verified, title = v.title, body = v.body,
    page_url = v.url and page_url(v.url) or "", files = files, wants_public = v.publish == "1",
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
  local contact = view.contact(req.form.contact)
  -- What was typed, shown again around the code.
  local function again(message, status, sent)
    local F = letter_form(cfg)
    return form_page(req, F:context(req, req.form, message and F:error(nil, "contact", message)),
      status, { code_sent = sent and contact })
  end
  if not contact then return again("请先填写正确的号码或邮箱，再获取验证码", 422) end
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

-- The writer's rating of an answer; 不满意 needs a reason.
local RATE = form.new({ id_prefix = "rate-", fields = {
  { name = "rating", label = "对这次答复的评价", type = "radio", required = true,
    choices = view.RATINGS },
  { name = "reason", label = "原因", type = "textarea", rows = 3, max_length = 500,
    hint = "选择不满意时必填" },
  { name = "again", label = "不满意，申请再次办理（只能申请一次）", type = "checkbox" },
}, check = function(v)
  if v.rating == "不满意" and v.reason == "" then return { reason = "选择不满意时，请写明原因" } end
  if v.again and v.rating ~= "不满意" then return { again = "只有不满意时可以申请再次办理" } end
end })

local function status_page(req, l, ctx, status)
  ctx = ctx or {}
  ctx.title = "办理进度"
  ctx.l = l
  ctx.csrf = park.csrf()
  if l then
    ctx.rate = ctx.rate or RATE:context(req)
    ctx.events = store.events(l.id, true)
    ctx.replies = store.approved_replies(l.id)
    ctx.ratings = store.ratings(l.id)
    ctx.rated = store.rating(l.id, l.round) ~= nil
    ctx.may_again = l.round == 1
    ctx.DECLINE_LABEL = view.DECLINE_LABEL
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
  local v, errors = RATE:check(req)
  if v.again and l.round ~= 1 then errors = RATE:error(errors, "again", "只能申请一次") end
  if errors then
    ctx.rate = RATE:context(req, v, errors)
    return status_page(req, l, ctx, 422)
  end
  local rating, reason, again = v.rating, v.reason, v.again
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
    ctx.pager = store.public_page(req)
    ctx.rows = with_replies(ctx.pager.rows)
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
