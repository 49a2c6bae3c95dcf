-- letters_deadlines: answering deadlines in working days (park.calendar),
-- and the daily job that warns before a letter falls due, when it is
-- overdue, and when it has waited 3 months unanswered (互动回应差).
--
-- The rules (README.md, "Deadlines"):
-- - A round's clock starts on the day the letter is received (or the day
--   the writer asks for 再次办理) and runs N working days (the binding's
--   deadline_days), the day itself not counted.
-- - 分办, 退回 and 转办 do not stop or restart it: the writer was promised
--   an answer within N working days of writing, whoever answers.
-- - An approved 延期 moves the due date by its working days; while it is
--   in force (until the new due date) no warning is sent.
local park = require("park")
local config = require("letters_config")
local store = require("letters_store")
local notify = require("letters_notify")
local roles = require("letters_roles")
local view = require("letters_view")

local deadlines = {}

local OPEN = { dispatch = true, assigned = true, accepted = true, review = true }
deadlines.OPEN = OPEN

local function calendar(v, msg)
  if v == nil then error("letters: the calendar cannot be read: " .. tostring(msg), 0) end
  return v
end

--- The due date of a round starting at `now`: `days` working days later.
function deadlines.due(now, days)
  return calendar(park.calendar.add_working_days(view.today(now), days))
end

--- `days` working days after the date `date`.
function deadlines.add(date, days)
  return calendar(park.calendar.add_working_days(date, days))
end

--- Working days from the date `a` to `b` (0 when b is not after a).
function deadlines.between(a, b)
  return math.max(0, calendar(park.calendar.working_days_between(a, b)))
end

--- How a letter stands against its deadline on `today`: "overdue",
-- "extended" (an extension in force: no warning), "soon" (within
-- `warn_days` working days), or nil.
function deadlines.status(l, today, warn_days)
  if not OPEN[l.state] then return nil end
  if today > l.due then return "overdue" end
  if (l.extended or 0) > 0 then return "extended" end
  local left = park.calendar.working_days_between(today, l.due)
  if left and left <= (warn_days or 1) then return "soon" end
  return nil
end

--- The same time `n` months later (the day clipped to the month's end).
function deadlines.months_later(t, n)
  local d = os.date("*t", t)
  local month = d.month + n
  local year = d.year + (month - 1) // 12
  month = (month - 1) % 12 + 1
  local last = os.date("*t", os.time({ year = year + (month == 12 and 1 or 0),
    month = month % 12 + 1, day = 1, hour = 12 }) - 86400).day
  return os.time({ year = year, month = month, day = math.min(d.day, last), hour = d.hour,
                   min = d.min, sec = d.sec })
end

local KIND_WORDS = { soon = "即将到期", overdue = "已逾期" }

--- The daily job: a warning for each open letter due soon or overdue
-- (once per letter, kind and due date), the 互动回应差 flag for each
-- letter waiting 3 months. Returns the warnings made, for the log.
function deadlines.run(now)
  local today = view.today(now)
  local made = 0
  local rows = store.check(park.db.query([[SELECT id, column_path, title, query_code, unit, state,
    due, extended, round_at, received_at, risk FROM letters_letters
    WHERE state IN ('dispatch', 'assigned', 'accepted', 'review') ORDER BY id]]))
  for i, l in ipairs(rows) do
    if i % 200 == 0 then park.sleep(0) end
    local cfg = config.of(l.column_path)
    local st = deadlines.status(l, today, cfg.warn_days)
    if (st == "soon" or st == "overdue") and store.warn(l, l.unit, st, l.due, now) then
      made = made + 1
      park.log.warn(("letters warning %s: letter %d (%s) at %s due %s"):format(st, l.id,
        l.column_path, l.unit, l.due))
      notify.send(cfg.channel, "unit:" .. l.unit, ("信件“%s”（编号 %d）%s，答复期限 %s，请及时办理。")
        :format(view.excerpt(l.title, 30), l.id, KIND_WORDS[st], l.due))
    end
    if l.risk == 0 and now >= deadlines.months_later(l.round_at, 3) then
      local center = roles.center()
      park.db.transaction(function()
        store.set(l.id, { risk = 1 }, now)
        store.event(l.id, nil, { action = "risk", unit = center,
          note = ("自 %s 起 3 个月未答复"):format(view.date(l.round_at)) }, now)
        store.warn(l, center, "risk", l.due, now)
      end)
      made = made + 1
      park.log.warn(("letters risk 互动回应差: letter %d (%s) at %s received %s unanswered"
        .. " after 3 months"):format(l.id, l.column_path, l.unit, view.date(l.round_at)))
      notify.send(cfg.channel, "unit:" .. center, ("互动回应差风险：信件“%s”（编号 %d）自 %s 起"
        .. "已 3 个月未答复，现由%s办理。"):format(view.excerpt(l.title, 30), l.id,
        view.date(l.round_at), roles.unit_name(l.unit)))
    end
  end
  return made
end

return deadlines
