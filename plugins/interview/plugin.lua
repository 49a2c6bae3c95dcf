-- interview: online interviews (在线访谈). Announced after the column's
-- review chain; residents' questions collected and moderated before they
-- show; the live text broadcast to every watcher with server-sent events
-- (and a page that refreshes without JavaScript); archived as one page;
-- questions not answered live answered in writing within working days,
-- flagged when overdue. Staff pages: interview_manage, under <column>/manage.
local park = require("park")
local review = require("park.review")
local form = require("park.form")
local store = require("interview_store")
local manage = require("interview_manage")
local view = require("interview_view")

local plugin = {
  name = "interview",
  version = "1.0.0",
  description = "在线访谈：预告、征集问题、直播、存档与后续答复",
  config = {
    chain = { type = "array", items = "string", enum = review.NAMES,
              default = { "review", "leader" },
              description = "访谈预告发布前的审核流程" },
    announce_days = { type = "integer", default = 3, min = 0, max = 60,
                      description = "预告至少提前的天数；不足时提醒工作人员" },
    followup_days = { type = "integer", default = 5, min = 1, max = 60,
                      description = "直播中未答复的问题须在结束后几个工作日内书面答复" },
    question_max = { type = "integer", default = 500, min = 20, max = 5000,
                     description = "网友提问的最多字数" },
    ask_limit = { type = "integer", default = 10, min = 1, max = 1000000000,
                  description = "同一网络地址每小时最多提问次数" },
    forbidden_words = { type = "array", items = "string", default = {},
                        description = "提问中不允许出现的词语" },
    site_name = { type = "string", default = "高新技术产业开发区", max_length = 60,
                  description = "网站名称，用于页面标题" },
  },
}

local function interview_of(req)
  local id = math.tointeger(tonumber(req.params.id or ""))
  local it = id and store.get(id)
  if it and it.column_path == req.column and store.public(it) then return it end
end

local function not_found(req)
  return view.page(req, "notice.html", { title = "未找到", message = "没有这场访谈。" }, 404)
end

-- The list is the same for everyone (no form on it): kept a second per
-- worker and query, so a crowd arriving at a live interview costs little.
local list_cache, cached = {}, 0

-- Upcoming, live and past interviews; the past ones by unit and year.
local function list_page(req)
  local unit, year = req.query.unit, math.tointeger(tonumber(req.query.year or ""))
  local groups, units, years = { live = {}, announced = {}, ended = {} }, {}, {}
  for _, it in ipairs(store.list(req.column)) do
    units[it.unit_name] = true
    local y = tonumber(os.date("%Y", it.starts_at))
    years[y] = true
    if it.state ~= "ended" or ((not unit or unit == "" or unit == it.unit_name)
        and (not year or year == y)) then
      table.insert(groups[it.state], it)
    end
  end
  local unit_list, year_list = {}, {}
  for u in pairs(units) do if u ~= "" then unit_list[#unit_list + 1] = u end end
  for y in pairs(years) do year_list[#year_list + 1] = y end
  table.sort(unit_list)
  table.sort(year_list, function(a, b) return a > b end)
  return view.page(req, "list.html", { groups = groups, units = unit_list, years = year_list,
    unit = unit or "", year = year })
end

local function list(req)
  local key, now = req.column .. " " .. req.target, park.now()
  local e = list_cache[key]
  if e and e.at == now then return 200, e.body, e.ctype end
  local status, body, ctype = list_page(req)
  if status == 200 and #req.target <= 512 then
    if not e then
      if cached >= 100 then list_cache, cached = {}, 0 end -- bounded: start again
      cached = cached + 1
    end
    list_cache[key] = { at = now, body = body, ctype = ctype }
  end
  return status, body, ctype
end

-- A resident's question: its length and the words it may not have are the
-- column's.
local function ask_form(req)
  local cfg = req.config
  return form.new({ id_prefix = "q-", fields = {
    { name = "name", label = "称呼", max_length = 30, hint = "不填则显示为“网友”" },
    { name = "contact", label = "联系方式", max_length = 100, hint = "不公开" },
    { name = "body", label = "问题", type = "textarea", rows = 4, required = true,
      max_length = cfg.question_max, hint = ("最多 %d 字"):format(cfg.question_max),
      check = function(v)
        for _, w in ipairs(cfg.forbidden_words) do
          if w ~= "" and v:lower():find(w:lower(), 1, true) then
            return "含有不允许的词语，请修改后再提交"
          end
        end
      end },
  } })
end

local function show(req, ctx, status)
  local it = interview_of(req)
  if not it then return not_found(req) end
  ctx = ctx or {}
  ctx.it = it
  ctx.events = store.events(it.id, 0)
  ctx.followups = it.state == "ended" and store.followups(it.id) or {}
  if it.state == "announced" or it.state == "live" then
    ctx.ask = ctx.ask or ask_form(req):context(req)
  end
  if it.state == "live" then ctx.refresh = 15 end
  return view.page(req, "interview.html", ctx, status)
end

local function show_page(req)
  return show(req)
end

-- A resident's question: checked, limited per address, kept for moderation.
local function ask(req)
  local it = interview_of(req)
  if not it then return not_found(req) end
  if it.state ~= "announced" and it.state ~= "live" then
    return show(req, { ask_error = "这场访谈已结束，不再征集问题。" }, 409)
  end
  local F = ask_form(req)
  local v, errors = F:check(req)
  if errors then return show(req, { ask = F:context(req, v, errors) }, 422) end
  if store.rate(req.client_ip, park.now()) > req.config.ask_limit then
    return show(req, { ask_error = "提问过于频繁，请一小时后再试。", ask = F:context(req, v) }, 429)
  end
  store.ask(it.id, (v.name:gsub("%s", "")), v.contact, v.body, req.client_ip, park.now())
  return show(req, { asked_ok = true })
end

-- The question form's page: the host shows it with what was typed when a
-- question's post was refused for its CSRF token (req.csrf_failed).
local function ask_page(req)
  if req.csrf_failed then return show(req) end
  return park.redirect((req.path:gsub("/ask$", "")))
end

-- Server-sent events: every public event since Last-Event-ID, then, while
-- the interview is live, each new one as it is posted. A watcher waits
-- (park.wait) until a post on any worker notifies it, and looks at the
-- database every 3 s anyway (a notification can be lost); the host stops it
-- when the client leaves.
local function events(req, res)
  local it = interview_of(req)
  if not it then return not_found(req) end
  local last = math.tointeger(tonumber(req:header("last-event-id") or req.query.after or "")) or 0
  res:sse()
  -- From this worker's ring when woken by a post, else the database.
  local function send_new(woken)
    local batch = woken and store.since(it.id, last) or store.events(it.id, last)
    for _, e in ipairs(batch) do
      if not res:event({ id = e.id, event = e.kind, data = e.data or store.event_json(e) }) then
        return false
      end
      last = e.id
    end
    return true
  end
  local quiet, woken = 0, false
  while send_new(woken) and it.state == "live" do
    woken = park.wait(store.key(it.id), 3000)
    if woken then
      quiet = 0
    else
      quiet = quiet + 1
      -- Every 15 s of quiet: a comment keeps proxies from closing the
      -- stream, and a look at the state ends it when the interview ended.
      if quiet % 5 == 0 then
        if not res:comment("ping") then return end
        it = store.get(it.id)
      end
    end
  end
end

plugin.routes = {}
for _, r in ipairs(manage.routes) do plugin.routes[#plugin.routes + 1] = r end
for _, r in ipairs({
  { "GET", "/", list },
  { "GET", "/:id", show_page },
  { "GET", "/:id/events", events },
  { "GET", "/:id/ask", ask_page },
  { "POST", "/:id/ask", ask },
  { "GET", "/:id/photos/:file", manage.photo },
}) do plugin.routes[#plugin.routes + 1] = r end

-- Written answers overdue: flagged once, logged, shown to the unit and the
-- center on the staff pages.
plugin.jobs = {
  overdue = { cron = "0 * * * *", run = function()
    for _, q in ipairs(store.flag_overdue(park.now())) do
      park.log.warn(("interview followup overdue: interview %d question %d due %s"):format(
        q.interview_id, q.id, q.due))
    end
  end },
}

return plugin
