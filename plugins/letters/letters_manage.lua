-- letters_manage: the staff pages under <column>/manage: the queue, a
-- letter with its whole timeline, and each step of its handling: 分办 (the
-- dispatcher), 受理, 退回, 不予受理, 转办 (the unit), the reply drafted by
-- an editor and approved through the column's chain (park.review), 延期
-- asked with a reason and approved by a leader, internal notes; and the
-- warnings of the daily job for the units' webmasters and leaders.
--
-- Who may act is asked per unit (park.auth.can_unit): the dispatcher is the
-- column's unit, a letter's handler the unit it is at.
local park = require("park")
local content = require("park.content")
local review = require("park.review")
local store = require("letters_store")
local view = require("letters_view")
local roles = require("letters_roles")
local notify = require("letters_notify")
local deadlines = require("letters_deadlines")

local manage = {}

local trim = content.trim

---------------------------------------------------------------------------
-- Pages and permissions
---------------------------------------------------------------------------

local function render(req, name, ctx, status)
  ctx.staff = true
  ctx.csrf = park.csrf()
  ctx.user = ctx.user or park.auth.user()
  local base = req.column == "/" and "" or req.column
  ctx.staff_links = { { href = base .. "/manage", label = "信件办理" },
                      { href = base .. "/manage/warnings", label = "到期提醒" },
                      { href = base .. "/stats", label = "统计" } }
  ctx.step_label, ctx.decision_label = review.step_label, review.decision_label
  return view.page(req, name, ctx, status)
end

local function notice(req, status, title, message)
  return render(req, "notice.html", { title = title, message = message }, status)
end

local function forbidden(req, why)
  return notice(req, 403, "没有权限", why)
end

-- Any logged-in staff member; what they may do is asked per letter.
local function staff(req)
  return content.staff(req, nil, notice)
end

local function letter_of(req)
  local l = store.get(req.params.id)
  if l and l.column_path == req.column then return l end
end

local function may_dispatch(l) return park.auth.can_unit("edit", l.dispatcher) end
local function may_handle(l) return park.auth.can_unit("edit", l.unit) end
local function may_view(l)
  return park.auth.can_unit("view", l.unit) or park.auth.can_unit("view", l.dispatcher)
end

local function not_yours(l)
  return ("这封信件现由%s办理，您的账号不是该单位的工作人员，不能查看或办理。如需协助，请联系%s。")
    :format(roles.unit_name(l.unit), roles.unit_name(l.dispatcher))
end

-- The letter of the route for a staff member allowed to see it: the user
-- and the letter, or nil and the answer.
local function open_letter(req)
  local user, answer = staff(req)
  if not user then return nil, nil, answer end
  local l = letter_of(req)
  if not l then
    return nil, nil, content.answer(notice(req, 404, "未找到", "本栏目没有这封信件。"))
  end
  if not may_view(l) then
    return nil, nil, content.answer(forbidden(req, not_yours(l)))
  end
  return user, l
end

-- Whether `user` may act on the reply's current review step, or nil and
-- why: park.review's rules (the core's permission of the step, nobody
-- reviews their own text, nobody approves two steps of one round), the
-- permission asked for the letter's unit.
local function may_review(user, l, r, steps)
  local item = { state = r.state, chain = r.chain, step = r.step, created_by = r.created_by }
  local path = roles.column_of(l.unit)
  if path then return review.may_act(user, item, path, steps) end
  local name, step = review.current(item)
  if not step then return nil, "现在没有等待审核的答复。" end
  if not park.auth.can_unit(step.action, l.unit) then
    return nil, ("当前是“%s”环节，您的账号在%s没有这一权限。"):format(step.label,
      roles.unit_name(l.unit))
  end
  if user.login == r.created_by then
    return nil, ("不能审核自己撰写的内容，“%s”环节请由本单位的其他人员办理。"):format(step.label)
  end
  for _, s in ipairs(steps) do
    if s.decision == "approve" and s.login == user.login then
      return nil, "本轮已由您通过一个环节，同一人不能再办理下一个环节。"
    end
  end
  return name, step
end

---------------------------------------------------------------------------
-- The queue
---------------------------------------------------------------------------

local GROUPS = {
  { key = "dispatch", label = "待分办", states = { "dispatch" } },
  { key = "assigned", label = "待受理", states = { "assigned" } },
  { key = "accepted", label = "办理中", states = { "accepted" } },
  { key = "review", label = "答复审核中", states = { "review" } },
  { key = "done", label = "已办结（最近 50 封）", states = { "answered", "declined" }, limit = 50 },
}

local MARKS = { overdue = "已逾期", soon = "即将到期", extended = "延期中" }

function manage.queue(req)
  local user, answer = staff(req)
  if not user then return answer() end
  local units = roles.seen_units(user)
  local today, cfg = view.today(), req.config
  local groups = {}
  for i, g in ipairs(GROUPS) do
    local rows = store.staff_list(req.column, units, g.states, g.limit)
    for _, r in ipairs(rows) do
      r.mark = MARKS[deadlines.status(r, today, cfg.warn_days) or ""]
      r.late = r.mark == "已逾期"
    end
    groups[i] = { key = g.key, label = g.label, rows = rows }
  end
  return render(req, "manage.html", { title = "信件办理", groups = groups,
    everything = units == true })
end

-- The units whose warnings the logged-in user reads: those they may `report` for.
local function warned_units()
  local set, any = {}, false
  for _, u in ipairs(roles.units()) do
    if park.auth.can_unit("report", u.code) then
      set[u.code], any = true, true
    end
  end
  return any and set or nil
end

local KINDS = { soon = "即将到期", overdue = "已逾期", risk = "互动回应差风险（3 个月未答复）" }

function manage.warnings(req)
  local user, answer = staff(req)
  if not user then return answer() end
  local units = warned_units()
  if not units then
    return forbidden(req, "到期提醒发给各单位的网站管理员和单位领导，您的账号没有查看统计与提醒的权限。")
  end
  local rows = store.warnings(req.column, units, 500)
  local today = view.today()
  for _, r in ipairs(rows) do
    r.kind_label = KINDS[r.kind]
    r.current = deadlines.status({ state = r.state, due = r.letter_due, extended = r.extended },
      today, req.config.warn_days)
  end
  return render(req, "warnings.html", { title = "到期提醒", rows = rows, MARKS = MARKS })
end

---------------------------------------------------------------------------
-- A letter
---------------------------------------------------------------------------

local function show(req, ctx, status)
  local user, l, answer = open_letter(req)
  if not user then return answer() end
  ctx = ctx or {}
  local today = view.today()
  ctx.l, ctx.user = l, user
  ctx.title = "信件：" .. l.title
  ctx.events = store.events(l.id, false)
  ctx.replies = store.replies(l.id)
  for _, r in ipairs(ctx.replies) do r.steps = store.steps(r.id) end
  ctx.extensions = store.extensions(l.id)
  ctx.ratings = store.ratings(l.id)
  ctx.pending = store.pending_extension(l.id)
  ctx.open_reply = store.open_reply(l.id, l.round)
  ctx.mark = MARKS[deadlines.status(l, today, req.config.warn_days) or ""]
  ctx.paragraphs = view.paragraphs
  ctx.DECLINE, ctx.DECLINE_LABEL = view.DECLINE, view.DECLINE_LABEL
  ctx.units = roles.units()
  ctx.max_extension = req.config.max_extension
  ctx.cfg_chain = req.config.chain
  ctx.writer_acts = { submit = true, rate = true, reopen = true }
  -- What was typed in the form of `step`, after a refused post (step_again).
  local kept = ctx.kept
  ctx.typed = function(step, field, default)
    if kept and kept.step == step then return kept.form[field] or "" end
    return default or ""
  end
  local handle = may_handle(l)
  ctx.can = {
    dispatch = l.state == "dispatch" and may_dispatch(l),
    accept = l.state == "assigned" and handle,
    back = (l.state == "assigned" or l.state == "accepted") and handle
      and l.unit ~= l.dispatcher,
    decline = (l.state == "dispatch" and may_dispatch(l))
      or ((l.state == "assigned" or l.state == "accepted") and handle),
    transfer = (l.state == "assigned" or l.state == "accepted") and handle,
    reply = l.state == "accepted" and handle,
    extend = (l.state == "assigned" or l.state == "accepted" or l.state == "review") and handle
      and ctx.pending == nil,
    sign = ctx.pending ~= nil and park.auth.can_unit("sign", l.unit)
      and ctx.pending.requested_by ~= user.login,
    note = handle or may_dispatch(l),
  }
  if l.state == "review" and ctx.open_reply and ctx.open_reply.state == "review" then
    local steps = store.steps(ctx.open_reply.id)
    ctx.review_step = review.current(ctx.open_reply)
    ctx.can.decide = may_review(user, l, ctx.open_reply, steps) ~= nil
  end
  if l.merged_into then ctx.merged = store.get(l.merged_into) end
  return render(req, "item.html", ctx, status)
end

function manage.show(req)
  return show(req)
end

-- The steps whose forms post to /manage/:id/<step>.
local STEPS = { assign = true, accept = true, ["return"] = true, decline = true,
                transfer = true, note = true, reply = true, decide = true, extend = true,
                extension = true }

--- GET /manage/:id/<step>: what the host answers a step's form with when
-- its post was refused for its CSRF token (a page left open past a login,
-- a lost cookie): the letter again, the text typed in that form kept (a
-- drafted reply may be long), and a word to send it once more. Anyone else
-- who opens the address goes to the letter.
function manage.step_again(req)
  local step = req.params.step
  if not req.csrf_failed or not STEPS[step] then
    return park.redirect((req.column == "/" and "" or req.column) .. "/manage/"
      .. park.url_encode(req.params.id))
  end
  return show(req, { kept = { step = step, form = req.form },
    error = "页面已过期，操作尚未执行。您填写的内容已保留在下面，请核对后再提交一次。" })
end

-- The letter page again with an error (the form's reason), status 422/409.
local function again(req, status, message)
  return show(req, { error = message }, status)
end

-- A change to the letter: `fn(l)` runs in one transaction on the letter
-- as it is now, and must find it in the state it was shown in (another
-- staff member may have acted meanwhile): true, or false when it did not.
local function change(l, fn)
  return park.db.transaction(function()
    local cur = store.get(l.id)
    if not cur or cur.state ~= l.state or cur.unit ~= l.unit or cur.round ~= l.round then
      return false
    end
    fn(cur)
    return true
  end)
end

local function stale(req)
  return again(req, 409, "这封信件刚刚已由他人办理，请查看最新情况后再操作。")
end

-- Back to the letter's page after a step.
local function back(req, l)
  return park.redirect((req.column == "/" and "" or req.column) .. "/manage/" .. l.id)
end

local function unit_choice(code, label)
  if not code or code == "" then return nil, "请选择" .. label end
  if not roles.exists(code) then return nil, "没有这个单位，请从列表中选择" end
  return code
end

-- 分办: the dispatcher sends the letter to a unit, with a note; to its own
-- unit it answers the letter itself (受理 at once).
function manage.assign(req)
  local user, l, answer = open_letter(req)
  if not user then return answer() end
  if l.state ~= "dispatch" or not may_dispatch(l) then
    return forbidden(req, ("只有%s的工作人员可以分办待分办的信件。"):format(roles.unit_name(l.dispatcher)))
  end
  local unit, why = unit_choice(req.form.unit, "承办单位")
  if not unit then return again(req, 422, why) end
  local note, now = trim(req.form.note), park.now()
  if not change(l, function(cur)
    store.event(cur.id, user, { action = "assign", unit = cur.dispatcher, to_unit = unit,
      note = note, public = true }, now)
    if unit == cur.dispatcher then
      store.set(cur.id, { state = "accepted", unit = unit, accepted_at = cur.accepted_at or now },
        now)
      store.event(cur.id, user, { action = "accept", unit = unit, public = true }, now)
    else
      store.set(cur.id, { state = "assigned", unit = unit }, now)
    end
  end) then return stale(req) end
  park.audit("assign", "letters:" .. l.id, { unit = l.unit }, { unit = unit, comment = note })
  if unit ~= l.dispatcher then
    notify.send(req.config.channel, "unit:" .. unit, ("新的信件待受理：“%s”（编号 %d），答复期限 %s。")
      :format(view.excerpt(l.title, 30), l.id, l.due))
  end
  return back(req, l)
end

-- 受理: the unit takes the letter on.
function manage.accept(req)
  local user, l, answer = open_letter(req)
  if not user then return answer() end
  if l.state ~= "assigned" or not may_handle(l) then
    return forbidden(req, ("只有%s的编辑或网站管理员可以受理这封信件。"):format(roles.unit_name(l.unit)))
  end
  local now = park.now()
  if not change(l, function(cur)
    store.set(cur.id, { state = "accepted", accepted_at = cur.accepted_at or now }, now)
    store.event(cur.id, user, { action = "accept", unit = cur.unit, public = true }, now)
  end) then return stale(req) end
  park.audit("accept", "letters:" .. l.id, nil, { unit = l.unit })
  return back(req, l)
end

-- 退回: back to the dispatcher, with a reason.
function manage.send_back(req)
  local user, l, answer = open_letter(req)
  if not user then return answer() end
  if (l.state ~= "assigned" and l.state ~= "accepted") or not may_handle(l)
      or l.unit == l.dispatcher then
    return forbidden(req, "只有承办单位的编辑或网站管理员可以把交办的信件退回分办。")
  end
  local reason, now = trim(req.form.reason), park.now()
  if reason == "" then return again(req, 422, "退回时请写明理由，例如不属于本单位职责。") end
  if store.open_reply(l.id, l.round) and store.open_reply(l.id, l.round).state == "review" then
    return again(req, 409, "答复正在审核中，不能退回。")
  end
  if not change(l, function(cur)
    store.set(cur.id, { state = "dispatch", unit = cur.dispatcher }, now)
    store.event(cur.id, user, { action = "return", unit = cur.unit, to_unit = cur.dispatcher,
      note = reason, public = true }, now)
  end) then return stale(req) end
  park.audit("return", "letters:" .. l.id, { unit = l.unit }, { unit = l.dispatcher,
    reason = reason })
  notify.send(req.config.channel, "unit:" .. l.dispatcher, ("信件“%s”（编号 %d）被%s退回，请重新分办：%s")
    :format(view.excerpt(l.title, 30), l.id, roles.unit_name(l.unit), reason))
  return back(req, l)
end

-- 不予受理: out of scope, a duplicate (merged into the original), abusive,
-- or no way to answer; the reason is shown to the writer.
function manage.decline(req)
  local user, l, answer = open_letter(req)
  if not user then return answer() end
  local allowed = (l.state == "dispatch" and may_dispatch(l))
    or ((l.state == "assigned" or l.state == "accepted") and may_handle(l))
  if not allowed then
    return forbidden(req, "只有分办单位（待分办时）或承办单位的编辑、网站管理员可以作不予受理处理。")
  end
  local kind, note, now = req.form.reason, trim(req.form.note), park.now()
  if not view.DECLINE_LABEL[kind] then return again(req, 422, "请选择不予受理的理由。") end
  local original
  if kind == "duplicate" then
    local key = trim(req.form.original)
    local o = key:match("^%d+$") and (store.check(park.db.first("SELECT id FROM letters_letters"
      .. " WHERE query_code = ?", key)) or (#key < 10 and store.get(key)))
    o = o and store.get(o.id)
    if not o or o.id == l.id or o.state == "declined" or o.column_path ~= l.column_path then
      return again(req, 422, "重复来信须填写原信件的编号或查询码（本栏目中未作不予受理的信件）。")
    end
    original = o.id
  end
  if not change(l, function(cur)
    store.set(cur.id, { state = "declined", declined_reason = kind, merged_into = original }, now)
    store.event(cur.id, user, { action = "decline", unit = cur.unit,
      note = view.DECLINE_LABEL[kind] .. (note ~= "" and ("：" .. note) or ""), public = true,
      note_public = true }, now)
    if original then
      store.event(original, user, { action = "note", unit = cur.unit,
        note = ("重复来信（编号 %d）已并入本信件"):format(cur.id) }, now)
    end
  end) then return stale(req) end
  park.audit("decline", "letters:" .. l.id, nil, { reason = view.DECLINE_LABEL[kind],
    comment = note })
  if l.contact ~= "" then
    notify.send(req.config.channel, l.contact, ("您的信件“%s”（查询码 %s）不予受理：%s。")
      :format(view.excerpt(l.title, 20), l.query_code, view.DECLINE_LABEL[kind]))
  end
  return back(req, l)
end

-- 转办: to another unit. The due date does not move (letters_deadlines).
function manage.transfer(req)
  local user, l, answer = open_letter(req)
  if not user then return answer() end
  if (l.state ~= "assigned" and l.state ~= "accepted") or not may_handle(l) then
    return forbidden(req, ("只有%s的编辑或网站管理员可以转办这封信件。"):format(roles.unit_name(l.unit)))
  end
  local unit, why = unit_choice(req.form.unit, "转办单位")
  if not unit then return again(req, 422, why) end
  if unit == l.unit then return again(req, 422, "请选择其他单位：信件已在本单位。") end
  local note, now = trim(req.form.note), park.now()
  if not change(l, function(cur)
    store.set(cur.id, { state = "assigned", unit = unit }, now)
    store.event(cur.id, user, { action = "transfer", unit = cur.unit, to_unit = unit, note = note,
      public = true }, now)
  end) then return stale(req) end
  park.audit("transfer", "letters:" .. l.id, { unit = l.unit }, { unit = unit, comment = note })
  notify.send(req.config.channel, "unit:" .. unit, ("%s转来信件“%s”（编号 %d），答复期限 %s。")
    :format(roles.unit_name(l.unit), view.excerpt(l.title, 30), l.id, l.due))
  return back(req, l)
end

-- An internal note: never shown to the writer or the public.
function manage.note(req)
  local user, l, answer = open_letter(req)
  if not user then return answer() end
  if not (may_handle(l) or may_dispatch(l)) then return forbidden(req, not_yours(l)) end
  local note = trim(req.form.note)
  if note == "" then return again(req, 422, "请填写备注内容。") end
  if (utf8.len(note) or 2001) > 2000 then return again(req, 422, "备注最多 2000 字。") end
  store.event(l.id, user, { action = "note", unit = l.unit, note = note }, park.now())
  return park.redirect((req.column == "/" and "" or req.column) .. "/manage/" .. l.id)
end

---------------------------------------------------------------------------
-- The reply and its review
---------------------------------------------------------------------------

-- The answer approved: the letter answered (on time or not), published
-- when the column and the writer allow it, and in the site's index.
local function answered(req, l, r, user, now)
  local today = view.today(now)
  local days = deadlines.between(view.date(l.round_at), today)
  local public = req.config.publish and l.wants_public == 1
  store.set_reply(r.id, { state = "approved", approved_at = now, step = 0 }, now)
  store.set(l.id, { state = "answered", answered_at = now, answer_days = days,
    on_time = today <= l.due and 1 or 0, published = public and 1 or 0,
    published_at = public and (l.published_at or now) or l.published_at }, now)
  store.event(l.id, user, { action = "answer", unit = l.unit, public = true }, now)
  if public then
    local base = l.column_path == "/" and "" or l.column_path
    park.items.publish({ key = tostring(l.id), column = l.column_path, kind = "letter",
      title = l.title, url = base .. "/" .. l.id,
      summary = view.excerpt(r.body, 120),
      text = l.body .. "\n" .. r.body,
      attrs = { topic = l.type, written_on = view.date(l.received_at) } })
  end
end

function manage.reply(req)
  local user, l, answer = open_letter(req)
  if not user then return answer() end
  if l.state ~= "accepted" or not may_handle(l) then
    return forbidden(req, ("只有%s的编辑或网站管理员可以起草答复，且须在受理之后。"):format(
      roles.unit_name(l.unit)))
  end
  local body, now = trim(req.form.body), park.now()
  if body == "" then return again(req, 422, "请填写答复内容。") end
  if (utf8.len(body) or 20001) > 20000 then return again(req, 422, "答复最多 20000 字。") end
  local submit = req.form.op == "submit"
  local chain = req.config.chain
  if not change(l, function(cur)
    local r = store.open_reply(cur.id, cur.round)
    local id = store.save_reply(cur, r, body, user, now)
    store.event(cur.id, user, { action = "draft", unit = cur.unit }, now)
    if submit then
      store.record_step(id, "editor", "submit", user, now)
      store.event(cur.id, user, { action = "reply_submit", unit = cur.unit }, now)
      if #chain == 0 then
        answered(req, cur, store.check(park.db.first("SELECT * FROM letters_replies WHERE id = ?",
          id)), user, now)
      else
        store.set_reply(id, { state = "review", chain = chain, step = 1 }, now)
        store.set(cur.id, { state = "review" }, now)
      end
    end
  end) then return stale(req) end
  park.audit(submit and "submit" or "save", "letters:" .. l.id, nil,
    { length = utf8.len(body), chain = submit and chain or nil })
  return back(req, l)
end

function manage.decide(req)
  local user, l, answer = open_letter(req)
  if not user then return answer() end
  local r = store.open_reply(l.id, l.round)
  if l.state ~= "review" or not r or r.state ~= "review" then
    return again(req, 409, "现在没有等待审核的答复。")
  end
  local step_name, why = may_review(user, l, r, store.steps(r.id))
  if not step_name then return forbidden(req, why) end
  local decision, comment, now = req.form.decision, trim(req.form.comment), park.now()
  if decision == "return" then
    if comment == "" then return again(req, 422, "退回修改时请写明理由。") end
    if not change(l, function(cur)
      store.record_step(r.id, step_name, "return", user, now, comment)
      store.set_reply(r.id, { state = "returned", step = 0 }, now)
      store.set(cur.id, { state = "accepted" }, now)
      store.event(cur.id, user, { action = "reply_return", unit = cur.unit, note = comment }, now)
    end) then return stale(req) end
  elseif decision == "approve" then
    if not change(l, function(cur)
      store.record_step(r.id, step_name, "approve", user, now, comment)
      store.event(cur.id, user, { action = "reply_approve", unit = cur.unit,
        note = review.step_label(step_name) .. (comment ~= "" and ("：" .. comment) or "") }, now)
      if r.step >= #r.chain then
        answered(req, cur, r, user, now)
      else
        store.set_reply(r.id, { step = r.step + 1 }, now)
      end
    end) then return stale(req) end
  else
    return again(req, 422, "请选择“通过”或“退回修改”。")
  end
  park.audit(decision, "letters:" .. l.id, nil, { step = step_name, comment = comment })
  local fresh = store.get(l.id)
  if fresh.state == "answered" then
    park.log.info(("letters: letter %d answered by %s"):format(l.id, l.unit))
    if l.contact ~= "" then
      notify.send(req.config.channel, l.contact, ("您的信件“%s”（查询码 %s）已答复，请凭查询码和查询密码查看并评价。")
        :format(view.excerpt(l.title, 20), l.query_code))
    end
  end
  return back(req, l)
end

---------------------------------------------------------------------------
-- Extensions
---------------------------------------------------------------------------

function manage.extend(req)
  local user, l, answer = open_letter(req)
  if not user then return answer() end
  if not (l.state == "assigned" or l.state == "accepted" or l.state == "review")
      or not may_handle(l) then
    return forbidden(req, ("只有%s的编辑或网站管理员可以申请延期。"):format(roles.unit_name(l.unit)))
  end
  if store.pending_extension(l.id) then return again(req, 409, "已有一项延期申请等待批准。") end
  local days = math.tointeger(tonumber(trim(req.form.days)))
  local reason, now = trim(req.form.reason), park.now()
  local max = req.config.max_extension
  if not days or days < 1 or days > max then
    return again(req, 422, ("延期的工作日数应为 1 到 %d 之间的整数。"):format(max))
  end
  if reason == "" then return again(req, 422, "请写明延期理由。") end
  store.check(park.db.transaction(function()
    store.check(park.db.exec([[INSERT INTO letters_extensions (letter_id, round, days, reason,
      requested_by, requested_name, requested_at, state) VALUES (?, ?, ?, ?, ?, ?, ?, 'pending')]],
      l.id, l.round, days, reason, user.login, user.name or "", now))
    store.event(l.id, user, { action = "ext_request", unit = l.unit,
      note = ("申请延期 %d 个工作日：%s"):format(days, reason) }, now)
    return true
  end))
  park.audit("extend_request", "letters:" .. l.id, nil, { days = days, reason = reason })
  return park.redirect((req.column == "/" and "" or req.column) .. "/manage/" .. l.id)
end

-- A leader of the unit approves (the due date moves; no warning until
-- then) or rejects the extension asked for.
function manage.extension(req)
  local user, l, answer = open_letter(req)
  if not user then return answer() end
  local e = store.pending_extension(l.id)
  if not e then return again(req, 409, "没有等待批准的延期申请。") end
  if not park.auth.can_unit("sign", l.unit) then
    return forbidden(req, ("延期须由%s的单位领导批准，您的账号没有这一权限。"):format(
      roles.unit_name(l.unit)))
  end
  if e.requested_by == user.login then
    return forbidden(req, "不能批准自己提出的延期申请，请由本单位的其他领导批准。")
  end
  local decision, now = req.form.decision, park.now()
  if decision ~= "approve" and decision ~= "reject" then
    return again(req, 422, "请选择“批准”或“不批准”。")
  end
  local new_due
  if not change(l, function(cur)
    if decision == "approve" then
      new_due = deadlines.add(cur.due, e.days)
      store.check(park.db.exec("UPDATE letters_extensions SET state = 'approved', decided_by = ?,"
        .. " decided_at = ?, old_due = ?, new_due = ? WHERE id = ?", user.login, now, cur.due,
        new_due, e.id))
      store.set(cur.id, { due = new_due, extended = (cur.extended or 0) + e.days }, now)
      store.event(cur.id, user, { action = "extend", unit = cur.unit,
        note = ("答复期限由 %s 延至 %s：%s"):format(cur.due, new_due, e.reason), public = true,
        note_public = true }, now)
    else
      store.check(park.db.exec("UPDATE letters_extensions SET state = 'rejected', decided_by = ?,"
        .. " decided_at = ? WHERE id = ?", user.login, now, e.id))
      store.event(cur.id, user, { action = "ext_reject", unit = cur.unit,
        note = trim(req.form.comment) }, now)
    end
  end) then return stale(req) end
  park.audit(decision == "approve" and "extend" or "extend_reject", "letters:" .. l.id,
    { days = e.days }, { reason = e.reason })
  return back(req, l)
end

-- An attachment of a letter, for the staff who may see it.
function manage.file(req)
  local user, l, answer = open_letter(req)
  if not user then return answer() end
  for _, f in ipairs(l.files) do
    if f.id == req.params.file then
      return park.files.send(f.id, { name = f.name, type = f.type })
    end
  end
  return notice(req, 404, "未找到", "这封信件没有这个附件。")
end

manage.routes = {
  { "GET", "/manage", manage.queue },
  { "GET", "/manage/warnings", manage.warnings },
  { "GET", "/manage/:id", manage.show },
  { "GET", "/manage/:id/files/:file", manage.file },
  { "GET", "/manage/:id/:step", manage.step_again },
  { "POST", "/manage/:id/assign", manage.assign },
  { "POST", "/manage/:id/accept", manage.accept },
  { "POST", "/manage/:id/return", manage.send_back },
  { "POST", "/manage/:id/decline", manage.decline },
  { "POST", "/manage/:id/transfer", manage.transfer },
  { "POST", "/manage/:id/note", manage.note },
  { "POST", "/manage/:id/reply", manage.reply },
  { "POST", "/manage/:id/decide", manage.decide },
  { "POST", "/manage/:id/extend", manage.extend },
  { "POST", "/manage/:id/extension", manage.extension },
}

return manage
