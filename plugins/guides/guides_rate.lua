-- guides_rate: 好差评, the service half of the guides plugin (SERVICE.md).
-- A resident rates a published item 1 to 5 stars with an optional comment,
-- once per browser (the survey's participant mechanism: a token cookie and a
-- unique key in the database). A rating of 1 or 2 opens a follow-up (整改)
-- for the item's unit, due in working days (park.calendar); the unit's
-- answer is published next to the rating. Comments are public only once
-- staff approved them; the stars count at once. The statistics page and the
-- monitor's query (M.overdue_followups) read the same tables.
--
-- Who may act is asked per unit, park.auth.can_unit: an item's unit is not
-- the unit of the column it is listed in (the center's 办事指南 lists every
-- unit's items). guides_cases uses the same helpers (M.page, M.staff_page,
-- M.bump).
local park = require("park")
local layout = require("park.layout")
local content = require("park.content")
local form = require("park.form")
local roles = require("guides_roles")

local M = {}

local db = park.db
local check = content.check
local trim = content.trim

M.COOKIE = "ph_guides"
M.COMMENT_MAX = 500          -- characters of a comment
M.ANSWER_MAX = 2000          -- characters of a unit's answer
M.RATINGS_PER_HOUR = 30      -- ratings from one network address in an hour window
M.PUBLIC_LIST = 20           -- ratings listed on an item page

-- The five values, as the form labels them.
M.LABELS = { "非常不满意", "不满意", "基本满意", "满意", "非常满意" }

---------------------------------------------------------------------------
-- What the service pages share (guides_cases too)
---------------------------------------------------------------------------

function M.base(req)
  return req.column == "/" and "" or req.column
end

function M.date(t) return t and os.date("%Y-%m-%d", t) or "" end
function M.datetime(t) return t and os.date("%Y-%m-%d %H:%M", t) or "" end

--- Today in the site's zone, YYYY-MM-DD.
function M.today(now)
  return os.date("%Y-%m-%d", now or park.now())
end

--- A unit's name, or its code when it has none.
M.unit_name = roles.unit_name

--- A resident's page in the site's layout.
function M.page(req, name, ctx, status)
  layout.context(req, ctx)
  ctx.base = M.base(req)
  ctx.page = true
  ctx.title = ctx.title or (ctx.column and ctx.column.title) or ctx.site_name
  ctx.date, ctx.datetime = M.date, M.datetime
  ctx.unit_name = M.unit_name
  return park.html(park.render(name, ctx), status)
end

--- A staff page: the same layout with the staff's links.
function M.staff_page(req, name, ctx, status)
  local base = M.base(req)
  ctx.user = ctx.user or park.auth.user()
  ctx.csrf = ctx.csrf or park.csrf()
  ctx.staff_links = {
    { href = base .. "/manage", label = "办事指南管理" },
    { href = base .. "/manage/ratings", label = "评价与整改" },
    { href = base .. "/manage/cases", label = "办件数据" },
    { href = base .. "/manage/keys", label = "接口密钥" },
    { href = base .. "/stats", label = "评价统计" },
  }
  return M.page(req, name, ctx, status)
end

--- A notice for staff (content.staff's deny): title and message.
function M.deny(req, status, title, message)
  return M.staff_page(req, "followups.html", { title = title, message = message }, status)
end

---------------------------------------------------------------------------
-- Counters per address and hour, in the database (all workers see them)
---------------------------------------------------------------------------

--- Count one more request of `kind` from `address` in this hour window;
-- the count so far and the seconds until the window ends.
function M.bump(kind, address, now)
  local hour = now // 3600
  local row = check(db.first([[INSERT INTO guides_rates (kind, address, hour, count)
    VALUES (?, ?, ?, 1) ON CONFLICT (kind, address, hour) DO UPDATE SET count = count + 1
    RETURNING count]], kind, address or "", hour))
  if row.count == 1 then
    check(db.exec("DELETE FROM guides_rates WHERE kind = ? AND address = ? AND hour < ?",
      kind, address or "", hour))
  end
  return row.count, (hour + 1) * 3600 - now
end

---------------------------------------------------------------------------
-- Ratings: the item page's block and the form's route
---------------------------------------------------------------------------

local function published_item(req, id)
  id = math.tointeger(tonumber(id or ""))
  if not id then return nil end
  return check(db.first("SELECT id, col, unit, name FROM guides_items WHERE id = ? AND col = ?"
    .. " AND published = 1", id, req.column))
end

-- This browser's participant key, or nil when it has no token yet; with
-- `res`, a token is made and set when there is none.
--- What the item pages show of the ratings changed (a rating, a moderation,
-- an answer): their cached pages are made again (guides_cache.stamp).
function M.touched()
  check(db.exec("INSERT INTO guides_meta (key, value) VALUES ('ratings', 1)"
    .. " ON CONFLICT (key) DO UPDATE SET value = value + 1"))
  require("guides_cache").forget()
end

--- Whether this browser rated the item already: its stars, or nil.
function M.mine(req, item_id)
  local token = req.cookies and req.cookies[M.COOKIE]
  if not (token and #token == 22 and token:match("^[%w_-]+$")) then return nil end
  local row = check(db.first("SELECT stars FROM guides_ratings WHERE item_id = ?"
    .. " AND participant = ?", item_id, "b:" .. token))
  return row and row.stars
end

local function participant(req, res)
  local token = req.cookies and req.cookies[M.COOKIE]
  if token and #token == 22 and token:match("^[%w_-]+$") then return "b:" .. token end
  if not res then return nil end
  token = park.token()
  res:cookie(M.COOKIE, token, { max_age = 400 * 86400, http_only = true, same_site = "lax" })
  return "b:" .. token
end

local function average(sum, n)
  if not n or n == 0 then return nil end
  return ("%.1f"):format(sum / n)
end

--- The rating summary of an item: { count =, average = "4.3" or nil, bad = n }.
function M.summary(item_id)
  local row = check(db.first("SELECT count(*) AS n, total(stars) AS s,"
    .. " count(CASE WHEN stars <= 2 THEN 1 END) AS bad FROM guides_ratings WHERE item_id = ?",
    item_id))
  return { count = row.n, average = average(row.s, row.n), bad = row.bad }
end

--- The published ratings of an item, newest first: those with an approved
-- comment or an answered follow-up; a comment shows only once approved.
function M.public_ratings(item_id, limit)
  local rows = check(db.query([[SELECT r.id, r.stars, r.comment, r.moderation, r.created_at,
      f.answer, f.answered_at, f.unit
    FROM guides_ratings r LEFT JOIN guides_followups f ON f.rating_id = r.id
    WHERE r.item_id = ? AND (r.moderation = 'approved' OR f.answered_at IS NOT NULL)
    ORDER BY r.id DESC LIMIT ?]], item_id, limit or M.PUBLIC_LIST))
  for _, r in ipairs(rows) do
    if r.moderation ~= "approved" then r.comment = nil end
    if not r.answered_at then r.answer = nil end
    r.label = M.LABELS[r.stars]
  end
  return rows
end

-- The rating form of the item named `name`, the values best first. Its CSRF
-- field is the template's own (a kept page has a marker there: guides_public).
local STARS = {}
for i = 5, 1, -1 do STARS[#STARS + 1] = { i, ("%s（%d 星）"):format(M.LABELS[i], i) } end
local function rate_form(name)
  return form.new({ id_prefix = "rating-", fields = {
    { name = "stars", label = ("您对“%s”这项服务的评价"):format(name), type = "radio",
      required = true, choices = STARS },
    { name = "comment", label = "评价内容", type = "textarea", rows = 3, max_length = M.COMMENT_MAX,
      hint = ("最多 %d 字。评价内容经工作人员审核后公开；评分即时计入。选择“非常不满意”或“不满意”的，"
        .. "由责任单位在规定时限内整改并公布整改情况。"):format(M.COMMENT_MAX) },
  } })
end

local NOTICES = {
  ["1"] = "感谢您的评价！您的评分已计入；如填写了评价内容，将在审核后公开。",
  ["2"] = "感谢您的评价！我们已转交责任单位整改，整改情况将在此公布。",
}

--- The table the item page renders with templates/rate.html (as `rating`):
-- the summary, the published ratings with the unit's answers, and the form
-- (or a word that this browser has rated already). nil for an item that is
-- not public.
function M.item_block(req, item)
  if not item or not item.id then return nil end
  local base = M.base(req)
  local who = participant(req)
  local mine = who and check(db.first("SELECT stars FROM guides_ratings WHERE item_id = ?"
    .. " AND participant = ?", item.id, who))
  local s = M.summary(item.id)
  return {
    item = item, count = s.count, average = s.average, bad = s.bad,
    list = M.public_ratings(item.id),
    action = base .. "/rate/" .. item.id, stats = base .. "/stats",
    mine = mine and mine.stars, mine_label = mine and M.LABELS[mine.stars],
    notice = NOTICES[req.query and req.query.rated or ""],
    form = not mine and rate_form(item.name):context(req) or nil,
    unit_name = M.unit_name(item.unit),
    date = M.date,
  }
end

local function refusal(req, item, status, title, message)
  return M.page(req, "rate.html", { title = title, message = message,
    back = item and (M.base(req) .. "/" .. item.id .. "#rating"), item_name = item and item.name },
    status)
end

--- POST /rate/:id: one rating per browser and item.
local function rate(req, res)
  local item = published_item(req, req.params.id)
  if not item then return refusal(req, nil, 404, "未找到", "没有这项公开的办事指南。") end
  local v, errors = rate_form(item.name):check(req)
  if errors then return refusal(req, item, 422, "评价未提交", errors._list[1].message) end
  local stars, comment = v.stars, v.comment
  local now = park.now()
  local who = participant(req, res)
  local dup = "您已经评价过这项服务，每位访客对每个事项只能评价一次，本次提交未被记录。谢谢！"
  if check(db.first("SELECT 1 AS x FROM guides_ratings WHERE item_id = ? AND participant = ?",
      item.id, who)) then
    return refusal(req, item, 409, "您已评价", dup)
  end
  local count, wait = M.bump("rate", req.client_ip, now)
  if count > M.RATINGS_PER_HOUR then
    res:header("Retry-After", tostring(wait))
    return refusal(req, item, 429, "提交过于频繁", "来自您所在网络的评价过多，请稍后再试。")
  end
  local today = M.today(now)
  local due
  if stars <= 2 then
    due = park.calendar.add_working_days(today, req.config.followup_days or 5)
    if not due then error("guides: the calendar could not be read") end
  end
  local inserted = db.transaction(function()
    local changed, id, code = db.exec([[INSERT INTO guides_ratings (item_id, participant, stars,
        comment, moderation, address, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)
        ON CONFLICT (item_id, participant) DO NOTHING]], item.id, who, stars, comment,
      comment ~= "" and "pending" or "none", req.client_ip or "", now)
    if changed == nil then check(nil, id, code) end
    if changed == 0 then return false end
    if due then
      check(db.exec([[INSERT INTO guides_followups (rating_id, item_id, unit, opened_on, due,
        created_at) VALUES (?, ?, ?, ?, ?, ?)]], id, item.id, item.unit, today, due, now))
    end
    M.touched()
    return true
  end)
  if not inserted then return refusal(req, item, 409, "您已评价", dup) end
  return park.redirect(("%s/%d?rated=%s#rating"):format(M.base(req), item.id, due and "2" or "1"))
end

---------------------------------------------------------------------------
-- The staff's queue: follow-ups and comments waiting
---------------------------------------------------------------------------

local function staff(req)
  return content.staff(req, nil, M.deny)
end

-- A memo of park.auth.can_unit for one request.
local function may_for()
  local memo = {}
  return function(unit)
    if memo[unit] == nil then memo[unit] = park.auth.can_unit("edit", unit) end
    return memo[unit]
  end
end

local function queue(req)
  local user, answer = staff(req)
  if not user then return answer() end
  local may = may_for()
  local today = M.today()
  local open, moderation, answered = {}, {}, {}
  for _, f in ipairs(check(db.query([[SELECT f.id, f.due, f.opened_on, f.unit, r.stars,
      r.comment, r.moderation, r.created_at, i.id AS item_id, i.name, i.unit AS item_unit
    FROM guides_followups f JOIN guides_ratings r ON r.id = f.rating_id
      JOIN guides_items i ON i.id = f.item_id
    WHERE i.col = ? AND f.answered_at IS NULL ORDER BY f.due, f.id]], req.column))) do
    if may(f.item_unit) then
      f.overdue = f.due < today
      if f.overdue then f.late_days = park.calendar.working_days_between(f.due, today) end
      f.label = M.LABELS[f.stars]
      open[#open + 1] = f
    end
  end
  for _, r in ipairs(check(db.query([[SELECT r.id, r.stars, r.comment, r.created_at,
      i.id AS item_id, i.name, i.unit FROM guides_ratings r JOIN guides_items i ON i.id = r.item_id
    WHERE i.col = ? AND r.moderation = 'pending' ORDER BY r.id]], req.column))) do
    if may(r.unit) then
      r.label = M.LABELS[r.stars]
      moderation[#moderation + 1] = r
    end
  end
  for _, f in ipairs(check(db.query([[SELECT f.id, f.due, f.answer, f.answered_at, f.answered_on,
      f.answered_by, r.stars, i.id AS item_id, i.name, i.unit
    FROM guides_followups f JOIN guides_ratings r ON r.id = f.rating_id
      JOIN guides_items i ON i.id = f.item_id
    WHERE i.col = ? AND f.answered_at IS NOT NULL ORDER BY f.answered_at DESC LIMIT 100]],
    req.column))) do
    if may(f.unit) and #answered < 20 then
      f.on_time = f.answered_on <= f.due
      answered[#answered + 1] = f
    end
  end
  local done = { answer = "整改情况已发布。", approve = "评价内容已公开。",
                 hide = "评价内容已隐藏，不会公开。" }
  return M.staff_page(req, "followups.html", { title = "评价与整改", user = user, open = open,
    moderation = moderation, answered = answered, today = today, labels = M.LABELS,
    done = done[req.query.done or ""], error = req.query.error and "请填写整改情况。" or nil,
    answer_max = M.ANSWER_MAX })
end

local function back(req, what)
  return park.redirect(M.base(req) .. "/manage/ratings?" .. what)
end

local function not_found(req)
  return M.deny(req, 404, "未找到", "本栏目没有这条评价。")
end

local function not_yours(req, unit)
  return M.deny(req, 403, "没有权限", ("这项事项由%s负责，您的账号不能办理它的评价与整改。"
    .. "如需开通，请联系本单位的网站管理员或园区服务中心。"):format(M.unit_name(unit)))
end

-- POST /manage/ratings/:id/moderate: approve or hide a comment.
local function moderate(req)
  local user, answer = staff(req)
  if not user then return answer() end
  local r = check(db.first([[SELECT r.id, r.moderation, r.item_id, i.unit FROM guides_ratings r
    JOIN guides_items i ON i.id = r.item_id WHERE r.id = ? AND i.col = ?]],
    math.tointeger(tonumber(req.params.id or "")) or -1, req.column))
  if not r or r.moderation == "none" then return not_found(req) end
  if not park.auth.can_unit("edit", r.unit) then return not_yours(req, r.unit) end
  local decision = req.form.decision
  if decision ~= "approve" and decision ~= "hide" then
    return M.deny(req, 422, "请选择操作", "请选择“公开”或“不公开”。")
  end
  local state = decision == "approve" and "approved" or "hidden"
  if state ~= r.moderation then
    check(db.exec("UPDATE guides_ratings SET moderation = ?, moderated_by = ?, moderated_at = ?"
      .. " WHERE id = ?", state, user.login, park.now(), r.id))
    M.touched()
    park.audit("rating." .. decision, "guides_rating:" .. r.id, { moderation = r.moderation },
      { moderation = state, item = r.item_id })
  end
  return back(req, "done=" .. decision)
end

-- POST /manage/followups/:id/answer: the unit's 整改情况, published at once.
local function answer_followup(req)
  local user, answer = staff(req)
  if not user then return answer() end
  local f = check(db.first([[SELECT f.id, f.item_id, f.answer, f.answered_at, f.due, i.unit
    FROM guides_followups f JOIN guides_items i ON i.id = f.item_id WHERE f.id = ? AND i.col = ?]],
    math.tointeger(tonumber(req.params.id or "")) or -1, req.column))
  if not f then return M.deny(req, 404, "未找到", "本栏目没有这项整改。") end
  if not park.auth.can_unit("edit", f.unit) then return not_yours(req, f.unit) end
  local text = trim(req.form.answer)
  local len = utf8.len(text)
  if text == "" or not len then return back(req, "error=1") end
  if len > M.ANSWER_MAX then
    return M.deny(req, 422, "整改情况过长", ("整改情况最多 %d 个字，您填写了 %d 个字。")
      :format(M.ANSWER_MAX, len))
  end
  local now = park.now()
  check(db.exec("UPDATE guides_followups SET answer = ?, answered_by = ?, answered_at = ?,"
    .. " answered_on = coalesce(answered_on, ?) WHERE id = ?", text, user.login, now,
    M.today(now), f.id))
  M.touched()
  park.audit("followup.answer", "guides_followup:" .. f.id,
    f.answered_at and { answer = f.answer } or nil, { answer = text, item = f.item_id })
  return back(req, "done=answer")
end

---------------------------------------------------------------------------
-- Statistics (public) and the monitor's query
---------------------------------------------------------------------------

-- Views are not counted here: the core counts them (issue 21).
function M.stats(col, now)
  local today = M.today(now)
  local items, by_id = {}, {}
  for _, r in ipairs(check(db.query([[SELECT i.id, i.name, i.unit, i.published,
      count(r.id) AS n, total(r.stars) AS s, count(CASE WHEN r.stars <= 2 THEN 1 END) AS bad
    FROM guides_items i LEFT JOIN guides_ratings r ON r.item_id = i.id
    WHERE i.col = ? GROUP BY i.id ORDER BY i.name, i.id]], col))) do
    r.f, r.answered, r.on_time, r.overdue = 0, 0, 0, 0
    by_id[r.id] = r
    items[#items + 1] = r
  end
  for _, f in ipairs(check(db.query([[SELECT f.item_id, count(*) AS n,
      count(f.answered_at) AS answered,
      count(CASE WHEN f.answered_on <= f.due THEN 1 END) AS on_time,
      count(CASE WHEN f.answered_at IS NULL AND f.due < ? THEN 1 END) AS overdue
    FROM guides_followups f JOIN guides_items i ON i.id = f.item_id WHERE i.col = ?
    GROUP BY f.item_id]], today, col))) do
    local r = by_id[f.item_id]
    if r then r.f, r.answered, r.on_time, r.overdue = f.n, f.answered, f.on_time, f.overdue end
  end
  local units, by_unit = {}, {}
  local total = { name = "合计", n = 0, s = 0, bad = 0, f = 0, answered = 0, on_time = 0,
                  overdue = 0 }
  local shown = {}
  for _, r in ipairs(items) do
    local u = by_unit[r.unit]
    if not u then
      u = { unit = r.unit, name = M.unit_name(r.unit), n = 0, s = 0, bad = 0, f = 0, answered = 0,
            on_time = 0, overdue = 0 }
      by_unit[r.unit] = u
      units[#units + 1] = u
    end
    for _, acc in ipairs({ u, total }) do
      for _, k in ipairs({ "n", "s", "bad", "f", "answered", "on_time", "overdue" }) do
        acc[k] = acc[k] + r[k]
      end
    end
    if r.published == 1 then shown[#shown + 1] = r end
  end
  table.sort(units, function(a, b) return a.unit < b.unit end)
  for _, r in ipairs(shown) do r.unit_name = M.unit_name(r.unit) end
  local function finish(r)
    r.average = average(r.s, r.n)
    r.bad_share = r.n > 0 and ("%.1f%%"):format(r.bad * 100 / r.n) or nil
  end
  for _, r in ipairs(shown) do finish(r) end
  for _, r in ipairs(units) do finish(r) end
  finish(total)
  return { items = shown, units = units, total = total, updated = M.updated(col) }
end

--- When the statistics of a column last changed: the latest rating or
-- follow-up answer (seconds since the epoch), or nil.
function M.updated(col)
  local row = check(db.first([[SELECT max(coalesce((SELECT max(r.created_at) FROM guides_ratings r
      JOIN guides_items i ON i.id = r.item_id WHERE i.col = :c), 0),
    coalesce((SELECT max(f.answered_at) FROM guides_followups f
      JOIN guides_items i ON i.id = f.item_id WHERE i.col = :c), 0)) AS t]], { c = col }))
  if row and row.t and row.t > 0 then return row.t end
  return nil
end

local function stats_page(req)
  local s = M.stats(req.column)
  return M.page(req, "stats.html", { title = "办事服务好差评统计", s = s,
    user = park.auth.user() })
end

--- For the monitor: the follow-ups past their due date and not answered,
-- the oldest first: { { id =, item_id =, name =, col =, unit =, unit_name =,
-- opened_on =, due =, late_days = working days past due }, ... }.
function M.overdue_followups(now)
  local today = M.today(now)
  local rows = check(db.query([[SELECT f.id, f.item_id, f.unit, f.opened_on, f.due, i.name, i.col
    FROM guides_followups f JOIN guides_items i ON i.id = f.item_id
    WHERE f.answered_at IS NULL AND f.due < ? ORDER BY f.due, f.id]], today))
  for _, r in ipairs(rows) do
    r.late_days = park.calendar.working_days_between(r.due, today)
    r.unit_name = M.unit_name(r.unit)
  end
  return rows
end

M.routes = {
  { "POST", "/rate/:id", rate },
  { "GET", "/stats", stats_page },
  { "GET", "/manage/ratings", queue },
  { "POST", "/manage/ratings/:id/moderate", moderate },
  { "POST", "/manage/followups/:id/answer", answer_followup },
}

return M
