-- interview_manage: the staff pages under <column>/manage. Define an
-- interview (guests with photos), send it through the review chain
-- (park.review) to be announced — warned when that is less than
-- announce_days before the start — moderate residents' questions, run the
-- live session (start, entries, answers, end), and answer in writing what
-- was not answered live, by the working-day due date.
local park = require("park")
local content = require("park.content")
local review = require("park.review")
local form = require("park.form")
local store = require("interview_store")
local view = require("interview_view")

local manage = {}

local STATE_LABELS = { draft = "草稿", review = "审核中", returned = "已退回",
                       announced = "已预告", live = "直播中", ended = "已结束" }
local OTHER_STEPS = { editor = "编辑", live = "直播", announce = "预告" }
local function step_label(name)
  return OTHER_STEPS[name] or review.step_label(name)
end

local function render(req, name, ctx, status)
  ctx.staff = true
  ctx.staff_links = { { href = (req.column == "/" and "" or req.column) .. "/manage",
                        label = "访谈管理" } }
  ctx.csrf = park.csrf()
  ctx.user = ctx.user or park.auth.user()
  ctx.STATE_LABELS, ctx.step_label = STATE_LABELS, step_label
  ctx.decision_label = review.decision_label
  return view.page(req, name, ctx, status)
end

local function notice(req, status, title, message)
  return render(req, "notice.html", { title = title, message = message }, status)
end

local function staff(req, action)
  return content.staff(req, action, notice)
end

local function interview_of(req)
  local id = math.tointeger(tonumber(req.params.id or ""))
  local it = id and store.get(id)
  if it and it.column_path == req.column then return it end
end

local trim = content.trim

local PHOTO_TYPES = { jpg = "image/jpeg", jpeg = "image/jpeg", png = "image/png" }

-- Guests: lines "姓名|职务", as { { name =, post = } }.
local function parse_guests(text)
  local guests = {}
  for line in (text .. "\n"):gmatch("(.-)\n") do
    local name, post = line:match("^%s*([^|]-)%s*|%s*(.-)%s*$")
    name = name or trim(line)
    if name ~= "" then guests[#guests + 1] = { name = name, post = post or "" } end
  end
  return guests
end

local INTERVIEW = form.new({ fields = {
  { name = "title", label = "标题", required = true, max_length = 200 },
  { name = "topic", label = "主题" },
  { name = "unit_name", label = "单位" },
  { name = "guests", label = "嘉宾", type = "textarea", rows = 4, required = true,
    hint = "每行一位：姓名|职务",
    check = function(v)
      if #parse_guests(v) == 0 then return "请填写至少一位嘉宾（每行：姓名|职务）" end
    end },
  { name = "photos", label = "嘉宾照片", type = "file", multiple = true, max_files = math.huge,
    types = { "jpg", "jpeg", "png" }, max_bytes = 5 * 1024 * 1024,
    hint = "按嘉宾顺序上传，jpg 或 png，每张不超过 5 MB" },
  { name = "host", label = "主持人" },
  { name = "starts_at", label = "开始时间", type = "datetime", required = true },
  { name = "minutes", label = "预计时长（分钟）", type = "integer", required = true, min = 10,
    max = 600, default = 90 },
  { name = "intro", label = "访谈简介", type = "textarea", rows = 6 },
} })

-- The interview's fields from the form (or its values and errors): the
-- photos are the uploads in the guests' order; a guest keeps the photo of
-- an old guest of the same name.
local function read_form(req, old_guests)
  local f, errors = INTERVIEW:check(req)
  if errors then return f, errors end
  local photos = {}
  for _, g in ipairs(old_guests or {}) do photos[g.name] = g end
  f.guests = parse_guests(f.guests)
  for i, g in ipairs(f.guests) do
    local up, old = f.photos[i], photos[g.name] or {}
    g.photo, g.photo_type = old.photo, old.photo_type
    if up then
      g.photo = park.files.keep(up)
      g.photo_type = PHOTO_TYPES[up.filename:match("%.(%w+)$"):lower()]
    end
  end
  return f
end

local function edit_page(req, it, values, errors, status)
  return render(req, "edit.html", { title = (errors and "错误：" or "")
      .. (it and "修改访谈" or "新建访谈"), it = it,
    form = INTERVIEW:context(req, values, errors) }, status)
end

local function guests_text(guests)
  local lines = {}
  for i, g in ipairs(guests) do lines[i] = g.name .. "|" .. g.post end
  return table.concat(lines, "\n")
end

local function list(req)
  local user, answer = staff(req, "view")
  if not user then return answer() end
  local rows = store.staff_list(req.column)
  for _, r in ipairs(rows) do r.chain = store.decode(r.chain, {}) end
  return render(req, "manage.html", { title = "访谈管理", rows = rows,
    can_edit = park.auth.can("edit", req.column) })
end

local function new_form(req)
  local user, answer = staff(req, "edit")
  if not user then return answer() end
  return edit_page(req)
end

local function create(req)
  local user, answer = staff(req, "edit")
  if not user then return answer() end
  local f, errors = read_form(req)
  if errors then return edit_page(req, nil, f, errors, 422) end
  local id = store.create(req.column, user.login, park.now(), f)
  park.audit("create", "interview:" .. id, nil, { title = f.title })
  return park.redirect(req.column .. "/manage/" .. id)
end

local function edit_form(req)
  local user, answer = staff(req, "edit")
  if not user then return answer() end
  local it = interview_of(req)
  if not it then return notice(req, 404, "未找到", "没有这场访谈。") end
  -- After a post refused for its CSRF token, what was typed (F:context).
  return edit_page(req, it, not req.csrf_failed and { title = it.title, topic = it.topic,
    intro = it.intro, unit_name = it.unit_name, host = it.host, guests = guests_text(it.guests),
    starts_at = it.starts_at, minutes = it.minutes } or nil)
end

local function save(req)
  local user, answer = staff(req, "edit")
  if not user then return answer() end
  local it = interview_of(req)
  if not it then return notice(req, 404, "未找到", "没有这场访谈。") end
  if it.state ~= "draft" and it.state ~= "returned" then
    return notice(req, 409, "不能修改", "审核中或已预告的访谈不能修改。")
  end
  local f, errors = read_form(req, it.guests)
  if errors then return edit_page(req, it, f, errors, 422) end
  store.update(it.id, park.now(), f)
  return park.redirect(req.column .. "/manage/" .. it.id)
end

local function show(req, ctx, status)
  local user, answer = staff(req, "view")
  if not user then return answer() end
  local it = (ctx and ctx.it) or interview_of(req)
  if not it then return notice(req, 404, "未找到", "没有这场访谈。") end
  ctx = ctx or {}
  local steps = store.steps(it.id)
  ctx.it, ctx.steps, ctx.user = it, steps, user
  ctx.current = review.current(it)
  ctx.may_decide = review.may_act(user, it, req.column, steps) ~= nil
  ctx.can_edit = park.auth.can("edit", req.column)
  ctx.can_moderate = park.auth.can("review", req.column)
  ctx.questions = store.questions(it.id)
  ctx.events = store.events(it.id, 0)
  ctx.title = it.title
  ctx.today = os.date("%Y-%m-%d", park.now())
  -- Announced late: the staff are warned on the page (and it is on record).
  if it.announced_at and it.starts_at - it.announced_at < req.config.announce_days * 86400 then
    ctx.late_announcement = true
  end
  return render(req, "item.html", ctx, status)
end

local function show_page(req)
  return show(req)
end

local function submit(req)
  local user, answer = staff(req, "edit")
  if not user then return answer() end
  local it = interview_of(req)
  if not it then return notice(req, 404, "未找到", "没有这场访谈。") end
  if it.state ~= "draft" and it.state ~= "returned" then
    return show(req, { it = it, error = "只有草稿或退回的访谈可以提交审核。" }, 409)
  end
  local now = park.now()
  store.set(it.id, { state = "review", chain = req.config.chain, step = 1,
                     waiting_since = now }, now)
  store.record(it.id, "editor", "submit", user, now)
  return park.redirect(req.column .. "/manage/" .. it.id)
end

local function decide(req)
  local user, answer = staff(req, "view")
  if not user then return answer() end
  local it = interview_of(req)
  if not it then return notice(req, 404, "未找到", "没有这场访谈。") end
  local step_name, why = review.may_act(user, it, req.column, store.steps(it.id))
  if not step_name then return notice(req, 403, "没有权限", why) end
  local decision, comment, now = req.form.decision, trim(req.form.comment), park.now()
  if decision == "return" and comment == "" then
    return show(req, { it = it, error = "退回时请写明理由。" }, 422)
  end
  if decision ~= "approve" and decision ~= "return" then
    return show(req, { it = it, error = "请选择“通过”或“退回修改”。" }, 422)
  end
  park.db.transaction(function()
    store.record(it.id, step_name, decision, user, now, comment)
    if decision == "return" then
      store.set(it.id, { state = "returned", step = 0 }, now)
    elseif it.step >= #it.chain then
      store.set(it.id, { state = "announced", step = 0, announced_at = now }, now)
      store.index(it)
      local late = it.starts_at - now < req.config.announce_days * 86400
      store.record(it.id, "announce", "publish", user, now, late
        and ("距开始不足 %d 天预告"):format(req.config.announce_days) or "")
    else
      store.set(it.id, { step = it.step + 1, waiting_since = now }, now)
    end
  end)
  park.audit(decision, "interview:" .. it.id, nil, { step = step_name })
  return park.redirect(req.column .. "/manage/" .. it.id)
end

-- Moderate a question: approve, reject (reason, for staff only), merge.
local function moderate(req)
  local user, answer = staff(req, "review")
  if not user then return answer() end
  local it = interview_of(req)
  local q = it and store.question(math.tointeger(tonumber(req.form.question or "")) or 0)
  if not q or q.interview_id ~= it.id then return notice(req, 404, "未找到", "没有这个问题。") end
  local decision, now = req.form.decision, park.now()
  if q.status ~= "pending" then
    return show(req, { it = it, error = "这个问题已经处理过了。" }, 409)
  end
  if decision == "reject" then
    local reason = trim(req.form.reason)
    if reason == "" then return show(req, { it = it, error = "请写明不予采纳的理由。" }, 422) end
    store.moderate(q, "reject", user, now, reason)
  elseif decision == "merge" then
    local into = store.question(math.tointeger(tonumber(req.form.into or "")) or 0)
    if not into or into.interview_id ~= it.id or into.id == q.id then
      return show(req, { it = it, error = "请填写要合并到的问题编号。" }, 422)
    end
    store.moderate(q, "merge", user, now, "", into.id)
  elseif decision == "approve" then
    store.moderate(q, "approve", user, now)
  else
    return show(req, { it = it, error = "请选择“通过”“不予采纳”或“合并”。" }, 422)
  end
  park.audit("moderate", "interview:" .. it.id, nil, { question = q.id, decision = decision })
  return park.redirect(req.column .. "/manage/" .. it.id)
end

-- The live session: start it, post entries and answers, end it.
local function live(req)
  local user, answer = staff(req, "edit")
  if not user then return answer() end
  local it = interview_of(req)
  if not it then return notice(req, 404, "未找到", "没有这场访谈。") end
  local op, now = req.form.op, park.now()
  if op == "start" and it.state == "announced" then
    store.set(it.id, { state = "live" }, now)
    store.record(it.id, "live", "open", user, now)
  elseif op == "end" and it.state == "live" then
    local due = park.calendar.add_working_days(os.date("%Y-%m-%d", now),
      req.config.followup_days)
    store.finish(it.id, due, now)
    store.record(it.id, "live", "close", user, now,
      "未在直播中答复的问题须于 " .. due .. " 前书面答复")
  elseif op == "start" then
    return show(req, { it = it, error = ("只有审核通过、已发布预告的访谈才能开始直播；"
      .. "这场访谈现在是“%s”。"):format(STATE_LABELS[it.state] or "未知状态") }, 409)
  elseif op == "end" then
    return show(req, { it = it, error = ("只有直播中的访谈才能结束直播；这场访谈现在是“%s”。")
      :format(STATE_LABELS[it.state] or "未知状态") }, 409)
  else
    return show(req, { it = it, error = "无法识别这项操作，请回到访谈页面重新操作。" }, 422)
  end
  park.audit(op, "interview:" .. it.id)
  return park.redirect(req.column .. "/manage/" .. it.id)
end

local function entry(req)
  local user, answer = staff(req, "edit")
  if not user then return answer() end
  local it = interview_of(req)
  if not it then return notice(req, 404, "未找到", "没有这场访谈。") end
  if it.state ~= "live" then return show(req, { it = it, error = "访谈不在直播中。" }, 409) end
  local body, speaker = trim(req.form.body), trim(req.form.speaker)
  local up = req.files and req.files.image and req.files.image[1]
  if up and up.filename == "" and up.size == 0 then up = nil end
  if (body == "" and not up) or speaker == "" then
    return show(req, { it = it, error = "请填写发言人和内容（或图片）。" }, 422)
  end
  local image, image_type
  if up then
    image_type = PHOTO_TYPES[(up.filename:match("%.(%w+)$") or ""):lower()]
    if not image_type or up.size > 5 * 1024 * 1024 then
      return show(req, { it = it, error = "图片须为 jpg 或 png，且不超过 5 MB。" }, 422)
    end
    image = park.files.keep(up)
  end
  local qid = math.tointeger(tonumber(req.form.question or ""))
  if qid then
    local q = store.question(qid)
    if not q or q.interview_id ~= it.id or q.status ~= "approved" then
      return show(req, { it = it, error = "只能答复已通过审核的问题。" }, 422)
    end
  end
  store.post(it.id, speaker, body, qid, user, park.now(), image, image_type)
  return park.redirect(req.column .. "/manage/" .. it.id)
end

-- A written answer after the interview, published under the transcript.
local function followup(req)
  local user, answer = staff(req, "edit")
  if not user then return answer() end
  local it = interview_of(req)
  local q = it and store.question(math.tointeger(tonumber(req.form.question or "")) or 0)
  if not q or q.interview_id ~= it.id or not q.due then
    return notice(req, 404, "未找到", "没有这个待答复的问题。")
  end
  local text = trim(req.form.answer)
  if text == "" then return show(req, { it = it, error = "请填写答复。" }, 422) end
  store.answer(q.id, text, user, park.now())
  park.audit("followup", "interview:" .. it.id, nil, { question = q.id })
  return park.redirect(req.column .. "/manage/" .. it.id)
end

-- A guest's photo or an entry's image, on a public interview's pages.
function manage.photo(req)
  local id = math.tointeger(tonumber(req.params.id or ""))
  local it = id and store.get(id)
  if not it or it.column_path ~= req.column or not store.public(it) then
    return park.html("", 404)
  end
  for _, g in ipairs(it.guests) do
    if g.photo and g.photo == req.params.file then
      return park.files.send(g.photo, { name = g.name .. ".jpg", type = g.photo_type,
                                        inline = true })
    end
  end
  local e = store.image(it.id, req.params.file)
  if e then
    return park.files.send(e.image, { name = "image", type = e.image_type, inline = true })
  end
  return park.html("", 404)
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
  { "POST", "/manage/:id/moderate", moderate },
  { "POST", "/manage/:id/live", live },
  { "POST", "/manage/:id/entry", entry },
  { "POST", "/manage/:id/followup", followup },
}

return manage
