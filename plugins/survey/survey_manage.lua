-- survey_manage: the staff pages under <column>/manage: define a survey,
-- send it through the review chain (park.review), schedule its opening and
-- closing, extend it with a reason, invite participants, read the results
-- (hidden until it closes unless the column says otherwise), export them
-- as CSV, and publish the outcome (征集结果反馈).
local park = require("park")
local content = require("park.content")
local review = require("park.review")
local form = require("park.form")
local store = require("survey_store")
local questions = require("survey_questions")
local results = require("survey_results")
local view = require("survey_view")

local manage = {}

local STATE_LABELS = { draft = "草稿", review = "审核中", returned = "已退回",
                       scheduled = "待开始", open = "征集中", closed = "已结束" }
local MODE_LABELS = { anonymous = "匿名（每个浏览器一份）", code = "验证码（手机或邮箱）",
                      invite = "邀请码" }

local OTHER_STEPS = { schedule = "系统自动", extend = "延期", outcome = "结果反馈" }
local function step_label(name)
  return OTHER_STEPS[name] or review.step_label(name)
end

local function render(req, name, ctx, status)
  ctx.staff = true
  ctx.staff_links = { { href = (req.column == "/" and "" or req.column) .. "/manage",
                        label = "征集管理" } }
  ctx.csrf = park.csrf()
  ctx.user = ctx.user or park.auth.user()
  ctx.STATE_LABELS, ctx.MODE_LABELS = STATE_LABELS, MODE_LABELS
  ctx.step_label, ctx.decision_label = step_label, review.decision_label
  return view.page(req, name, ctx, status)
end

local function notice(req, status, title, message)
  return render(req, "notice.html", { title = title, message = message }, status)
end

local function staff(req, action)
  return content.staff(req, action, notice)
end

local function survey_of(req)
  local id = math.tointeger(tonumber(req.params.id or ""))
  local s = id and store.get(id)
  if s and s.column_path == req.column then return s end
end

local trim = content.trim

-- A required time of the form (content.time), "<label>不能为空" when empty.
local function parse_time(s, label, errors)
  local n = #errors
  local t = content.time(s, label, errors)
  if not t and #errors == n then errors[#errors + 1] = label .. "不能为空" end
  return t
end

local FILE_TYPES = { pdf = "application/pdf", doc = "application/msword", ofd = "application/ofd",
  docx = "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
  wps = "application/vnd.ms-works", xls = "application/vnd.ms-excel",
  xlsx = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
  jpg = "image/jpeg", jpeg = "image/jpeg", png = "image/png" }

local function check_questions(v)
  local parsed, err = questions.parse(v)
  if not parsed then return err end
  if #parsed == 0 then return "至少需要一道题" end
end

-- The survey's form; `s`, the survey edited, has attachments to remove.
local function survey_form(s)
  local removable = {}
  for i, f in ipairs(s and s.files or {}) do removable[i] = { f.id, f.name } end
  local fields = {
    { name = "title", label = "标题", required = true, max_length = 200 },
    { name = "purpose", label = "征集目的", type = "textarea", rows = 3 },
    { name = "draft", label = "征求意见稿", type = "textarea", rows = 8, hint = "每段一行",
      check = function(v) if #v > 200 * 1024 then return "最多 200 KB" end end },
    { name = "attachments", label = "上传征求意见稿的附件", type = "file", multiple = true,
      max_files = math.huge, max_bytes = 20 * 1024 * 1024,
      types = { "pdf", "doc", "docx", "wps", "ofd", "xls", "xlsx", "jpg", "jpeg", "png" } },
    { name = "opens_at", label = "开始时间", type = "datetime", required = true },
    { name = "closes_at", label = "结束时间", type = "datetime", required = true },
    { name = "questions", label = "问题", type = "textarea", rows = 20, required = true,
      check = check_questions, hint = "每道题以 [题型] 编号 题目 开头，末尾加 * 表示必答；"
        .. "选项以“- ”开头。题型：single 单选，multiple 多选（min= max=），rating 1-5 评分，"
        .. "ranking 排序，grid 矩阵（行: 与 列:），text 文字（max=）。条件题：在题型后写 if q1=选项。" },
  }
  if #removable > 0 then
    table.insert(fields, 4, { name = "remove_file", label = "征求意见稿的附件（勾选以删除）",
                              type = "checkboxes", choices = removable })
  end
  return form.new({ fields = fields, check = function(v)
    if v.opens_at and v.closes_at and v.closes_at <= v.opens_at then
      return { closes_at = "须晚于开始时间" }
    end
  end })
end

-- The survey's fields from the form (or its values and errors): the
-- attachments kept, less those ticked, plus the uploads.
local function read_form(req, F, kept)
  -- Text pasted from office documents may carry control characters.
  if req.form.draft then req.form.draft = req.form.draft:gsub("[%z\1-\8\11\12\14-\31\127]", "") end
  local f, errors = F:check(req)
  if errors then return f, errors end
  f.mode, f.parsed = req.config.mode, questions.parse(f.questions)
  local drop, files = {}, {}
  for _, id in ipairs(f.remove_file or {}) do drop[id] = true end
  for _, file in ipairs(kept or {}) do
    if not drop[file.id] then files[#files + 1] = file end
  end
  for _, up in ipairs(f.attachments) do
    local id, err = park.files.keep(up)
    if not id then error("an attachment cannot be kept: " .. tostring(err), 0) end
    files[#files + 1] = { id = id, name = up.filename, size = up.size,
                          type = FILE_TYPES[up.filename:match("%.(%w+)$"):lower()] }
  end
  f.files = files
  return f
end

local function edit_page(req, s, F, values, errors, status)
  return render(req, "edit.html", { title = (errors and "错误：" or "")
      .. (s and "修改征集" or "新建征集"), s = s, form = F:context(req, values, errors),
    mode = req.config.mode }, status)
end

local function list(req)
  local user, answer = staff(req, "view")
  if not user then return answer() end
  local rows = store.staff_list(req.column)
  for _, r in ipairs(rows) do r.chain = store.decode(r.chain, {}) end
  return render(req, "manage.html", { title = "征集管理", rows = rows,
    can_edit = park.auth.can("edit", req.column) })
end

local function new_form(req)
  local user, answer = staff(req, "edit")
  if not user then return answer() end
  return edit_page(req, nil, survey_form())
end

local function create(req)
  local user, answer = staff(req, "edit")
  if not user then return answer() end
  local F = survey_form()
  local f, errors = read_form(req, F)
  if errors then return edit_page(req, nil, F, f, errors, 422) end
  local id = store.create(req.column, user.login, park.now(), f)
  park.audit("create", "survey:" .. id, nil, { column = req.column, title = f.title })
  return park.redirect(req.column .. "/manage/" .. id)
end

local function editable(s)
  return s.state == "draft" or s.state == "returned"
end

local function edit_form(req)
  local user, answer = staff(req, "edit")
  if not user then return answer() end
  local s = survey_of(req)
  if not s then return notice(req, 404, "未找到", "没有这项征集。") end
  if not editable(s) then return notice(req, 409, "不能修改", "审核中或已排期的征集不能修改。") end
  -- After a post refused for its CSRF token, what was typed (F:context).
  return edit_page(req, s, survey_form(s), not req.csrf_failed and { title = s.title,
    purpose = s.purpose, draft = s.draft, questions = s.questions, opens_at = s.opens_at,
    closes_at = s.closes_at } or nil)
end

local function save(req)
  local user, answer = staff(req, "edit")
  if not user then return answer() end
  local s = survey_of(req)
  if not s then return notice(req, 404, "未找到", "没有这项征集。") end
  if not editable(s) then return notice(req, 409, "不能修改", "审核中或已排期的征集不能修改。") end
  local F = survey_form(s)
  local f, errors = read_form(req, F, s.files)
  if errors then return edit_page(req, s, F, f, errors, 422) end
  store.update(s.id, park.now(), f)
  park.audit("save", "survey:" .. s.id, nil, { title = f.title })
  return park.redirect(req.column .. "/manage/" .. s.id)
end

-- Who may see the results now: after the close, or per the column.
local function results_visible(req, s)
  return store.phase(s, park.now()) == "closed" or req.config.results ~= "after_close"
end

local function show(req, ctx, status)
  local user, answer = staff(req, "view")
  if not user then return answer() end
  local s = ctx and ctx.s or survey_of(req)
  if not s then return notice(req, 404, "未找到", "没有这项征集。") end
  ctx = ctx or {}
  local steps = store.steps(s.id)
  ctx.s, ctx.steps, ctx.user = s, steps, user
  ctx.phase = store.phase(s, park.now())
  ctx.current = review.current(s)
  ctx.may_decide = review.may_act(user, s, req.column, steps) ~= nil
  ctx.can_edit = park.auth.can("edit", req.column) and editable(s)
  ctx.can_manage = park.auth.can("edit", req.column) or park.auth.can("sign", req.column)
  ctx.count = store.count(s.id)
  ctx.results_visible = results_visible(req, s)
  ctx.questions = questions.view(s.parsed, nil, {})
  ctx.title = s.title
  if s.mode == "invite" then
    ctx.invites = store.check(park.db.query("SELECT token FROM survey_invites WHERE survey_id = ?"
      .. " ORDER BY created_at, token LIMIT 1000", s.id))
  end
  return render(req, "item.html", ctx, status)
end

local function show_page(req)
  return show(req)
end

local function submit(req)
  local user, answer = staff(req, "edit")
  if not user then return answer() end
  local s = survey_of(req)
  if not s then return notice(req, 404, "未找到", "没有这项征集。") end
  if not editable(s) then
    return show(req, { s = s, error = "只有草稿或退回的征集可以提交审核。" }, 409)
  end
  local now = park.now()
  store.set(s.id, { state = "review", chain = req.config.chain, step = 1, waiting_since = now },
    now)
  store.record(s.id, "editor", "submit", user, now)
  park.audit("submit", "survey:" .. s.id, nil, { chain = req.config.chain })
  return park.redirect(req.column .. "/manage/" .. s.id)
end

-- Schedule the opening and the closing (at the survey's times; a time in
-- the past runs at once).
local function schedule(s)
  park.sched.at(math.max(s.opens_at, park.now()), "open", { id = s.id }, tostring(s.id))
  park.sched.at(s.closes_at, "close", { id = s.id }, tostring(s.id))
end

local function decide(req)
  local user, answer = staff(req, "view")
  if not user then return answer() end
  local s = survey_of(req)
  if not s then return notice(req, 404, "未找到", "没有这项征集。") end
  local step_name, why = review.may_act(user, s, req.column, store.steps(s.id))
  if not step_name then return notice(req, 403, "没有权限", why) end
  local decision, comment, now = req.form.decision, trim(req.form.comment), park.now()
  if decision == "return" then
    if comment == "" then return show(req, { s = s, error = "退回时请写明理由。" }, 422) end
    park.db.transaction(function()
      store.record(s.id, step_name, "return", user, now, comment)
      store.set(s.id, { state = "returned", step = 0 }, now)
    end)
  elseif decision == "approve" then
    park.db.transaction(function()
      store.record(s.id, step_name, "approve", user, now, comment)
      if s.step >= #s.chain then
        store.set(s.id, { state = "scheduled", step = 0 }, now)
        store.index(s)
        schedule(s)
      else
        store.set(s.id, { step = s.step + 1, waiting_since = now }, now)
      end
    end)
  else
    return show(req, { s = s, error = "请选择“通过”或“退回修改”。" }, 422)
  end
  park.audit(decision, "survey:" .. s.id, nil, { step = step_name, comment = comment })
  return park.redirect(req.column .. "/manage/" .. s.id)
end

-- Extend a survey (延期), with the reason on record.
local function extend(req)
  local user, answer = staff(req, "sign")
  if not user then return answer() end
  local s = survey_of(req)
  if not s then return notice(req, 404, "未找到", "没有这项征集。") end
  local errors = {}
  local closes_at = parse_time(req.form.closes_at, "新的结束时间", errors)
  local reason, now = trim(req.form.reason), park.now()
  if reason == "" then errors[#errors + 1] = "请写明延期理由" end
  if closes_at and closes_at <= math.max(now, s.closes_at) then
    errors[#errors + 1] = "新的结束时间须晚于原结束时间和现在"
  end
  if s.state ~= "scheduled" and s.state ~= "open" and s.state ~= "closed" then
    errors[#errors + 1] = "只有已排期、征集中或已结束的征集可以延期"
  end
  if #errors > 0 then return show(req, { s = s, error = table.concat(errors, "；") }, 422) end
  park.db.transaction(function()
    store.record(s.id, "extend", "extend", user, now, ("延至 %s：%s"):format(
      view.datetime(closes_at), reason))
    local state = s.state == "closed" and now >= s.opens_at and "open" or s.state
    store.set(s.id, { closes_at = closes_at, state = state }, now)
    park.sched.at(closes_at, "close", { id = s.id }, tostring(s.id))
  end)
  park.audit("extend", "survey:" .. s.id, { closes_at = s.closes_at },
    { closes_at = closes_at, reason = reason })
  return park.redirect(req.column .. "/manage/" .. s.id)
end

-- Publish the outcome; participants who left a contact are told.
local function outcome(req)
  local user, answer = staff(req, "sign")
  if not user then return answer() end
  local s = survey_of(req)
  if not s then return notice(req, 404, "未找到", "没有这项征集。") end
  local text, now = trim(req.form.outcome), park.now()
  if store.phase(s, now) ~= "closed" then
    return show(req, { s = s, error = "征集结束后才能发布结果反馈。" }, 409)
  end
  if text == "" then return show(req, { s = s, error = "请填写结果反馈。" }, 422) end
  park.db.transaction(function()
    store.set(s.id, { outcome = text, outcome_at = now }, now)
    store.record(s.id, "outcome", "outcome", user, now)
  end)
  park.audit("outcome", "survey:" .. s.id, nil, { length = utf8.len(text) })
  local told = 0
  if req.form.notify == "1" then
    for _, r in ipairs(store.answers(s.id)) do
      if r.contact ~= "" and view.send(req.config.channel, r.contact,
          ("您参与的“%s”已公布结果反馈：%s%s/%d"):format(s.title, req:header("host") or "",
            req.column, s.id)) then
        told = told + 1
      end
    end
  end
  park.log.info(("survey %d: outcome published, %d participant(s) told"):format(s.id, told))
  return park.redirect(req.column .. "/manage/" .. s.id)
end

-- Invitations (mode "invite"): n new tokens, listed on the survey's page.
local function invite(req)
  local user, answer = staff(req, "edit")
  if not user then return answer() end
  local s = survey_of(req)
  if not s or s.mode ~= "invite" then return notice(req, 404, "未找到", "没有这项征集。") end
  local n = math.tointeger(tonumber(req.form.count or "")) or 0
  if n < 1 or n > 1000 then return show(req, { s = s, error = "邀请数量应在 1 到 1000 之间。" }, 422) end
  local now = park.now()
  park.db.transaction(function()
    for _ = 1, n do
      store.check(park.db.exec("INSERT INTO survey_invites (token, survey_id, created_at)"
        .. " VALUES (?, ?, ?)", park.token(), s.id, now))
    end
  end)
  park.audit("invite", "survey:" .. s.id, nil, { count = n })
  return park.redirect(req.column .. "/manage/" .. s.id)
end

local function tallied(s)
  local sets, rows = {}, {}
  for i, r in ipairs(store.answers(s.id)) do
    sets[i] = questions.normalize(s.parsed, store.decode(r.answers, {}))
    rows[i] = { submitted_at = r.submitted_at, mode = r.mode, answers = sets[i] }
  end
  return results.tally(s.parsed, sets), rows
end

local function results_page(req)
  local user, answer = staff(req, "view")
  if not user then return answer() end
  local s = survey_of(req)
  if not s then return notice(req, 404, "未找到", "没有这项征集。") end
  if not results_visible(req, s) then
    return notice(req, 403, "结果尚未公开", "征集结束前，结果对所有人保密。")
  end
  local tally = tallied(s)
  return render(req, "results.html", { title = "结果：" .. s.title, s = s, tally = tally,
    svg = results.svg, show_texts = true })
end

local function csv(req, res)
  local user, answer = staff(req, "view")
  if not user then return answer() end
  local s = survey_of(req)
  if not s then return notice(req, 404, "未找到", "没有这项征集。") end
  if not results_visible(req, s) then
    return notice(req, 403, "结果尚未公开", "征集结束前，结果对所有人保密。")
  end
  local _, rows = tallied(s)
  local body = results.csv(s.parsed, rows)
  park.audit("export", "survey:" .. s.id, nil, { rows = #rows })
  res:header("Content-Disposition", ('attachment; filename="survey-%d.csv"'):format(s.id))
  return 200, body, "text/csv; charset=utf-8"
end

manage.routes = {
  { "GET", "/manage", list },
  { "GET", "/manage/new", new_form },
  { "POST", "/manage/new", create },
  { "GET", "/manage/:id", show_page },
  { "GET", "/manage/:id/edit", edit_form },
  { "POST", "/manage/:id/edit", save },
  { "POST", "/manage/:id/submit", submit },
  { "POST", "/manage/:id/decide", decide },
  { "POST", "/manage/:id/extend", extend },
  { "POST", "/manage/:id/outcome", outcome },
  { "POST", "/manage/:id/invite", invite },
  { "GET", "/manage/:id/results", results_page },
  { "GET", "/manage/:id/results.csv", csv },
}

return manage
