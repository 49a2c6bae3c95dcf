-- letters_stats: the monthly statistics of every letters column of the
-- site, per unit and for the whole site: received, declined, answered,
-- answered on time, average working days to answer, satisfaction; a unit
-- with fewer letters than the binding's min_rank is shown but not ranked.
-- A table and an accessible SVG chart (role="img" with a title and a
-- description that says every number; the table says them too).
--
-- What counts (README.md, "Statistics"): the letters received in the
-- month (the site's zone), by the unit they are at or were answered by;
-- 已答复 and 按时 as they stand now; 满意度 the share of 满意 and 基本满意
-- among the letters the writers rated (their latest rating).
local park = require("park")
local ptext = require("park.text")
local store = require("letters_store")
local roles = require("letters_roles")

local stats = {}

--- The month "YYYY-MM" (nil: this one) as its first and next month's
-- first second, and the month's label.
function stats.month(s, now)
  local y, m = (s or ""):match("^(%d%d%d%d)%-(%d%d)$")
  y, m = tonumber(y), tonumber(m)
  if not y or m < 1 or m > 12 or y < 2000 or y > 2100 then
    local d = os.date("*t", now or park.now())
    y, m = d.year, d.month
  end
  local from = os.time({ year = y, month = m, day = 1, hour = 0 })
  local ny, nm = m == 12 and y + 1 or y, m == 12 and 1 or m + 1
  local py, pm = m == 1 and y - 1 or y, m == 1 and 12 or m - 1
  return {
    key = ("%04d-%02d"):format(y, m), label = ("%d年%d月"):format(y, m),
    from = from, to = os.time({ year = ny, month = nm, day = 1, hour = 0 }),
    prev = ("%04d-%02d"):format(py, pm), next = ("%04d-%02d"):format(ny, nm),
  }
end

local AGG = [[count(*) AS received,
  sum(state = 'declined') AS declined,
  sum(state = 'answered') AS answered,
  sum(state = 'answered' AND on_time = 1) AS on_time,
  sum(CASE WHEN state = 'answered' THEN answer_days ELSE 0 END) AS days,
  sum(rating IN ('满意', '基本满意')) AS satisfied,
  sum(rating IS NOT NULL) AS rated]]

local function percent(n, d)
  if not d or d == 0 then return nil end
  return math.floor(n * 100 / d + 0.5)
end

-- One row of numbers with its rates.
local function finish(r)
  for _, k in ipairs({ "received", "declined", "answered", "on_time", "days", "satisfied",
                       "rated" }) do
    r[k] = math.tointeger(r[k] or 0) or 0
  end
  local valid = r.received - r.declined
  r.answer_rate = percent(r.answered, valid)
  r.on_time_rate = percent(r.on_time, valid)
  r.satisfaction = percent(r.satisfied, r.rated)
  if r.answered > 0 then
    local tenths = math.floor(r.days * 10 / r.answered + 0.5)
    r.avg_days = tenths % 10 == 0 and tostring(tenths // 10)
      or ("%d.%d"):format(tenths // 10, tenths % 10)
  end
  return r
end

--- The statistics of a month: { month =, units = { rows, ranked first },
-- total = row }, each row { unit, name, received, declined, answered,
-- on_time, avg_days, answer_rate, on_time_rate, satisfaction, rank }.
function stats.compute(month, min_rank)
  local rows = store.check(park.db.query("SELECT unit, " .. AGG .. [[ FROM letters_letters
    WHERE received_at >= ? AND received_at < ? GROUP BY unit]], month.from, month.to))
  local total = finish(store.check(park.db.first("SELECT " .. AGG .. [[ FROM letters_letters
    WHERE received_at >= ? AND received_at < ?]], month.from, month.to)))
  local ranked, unranked = {}, {}
  for _, r in ipairs(rows) do
    finish(r)
    r.name = roles.unit_name(r.unit)
    if r.received >= min_rank then ranked[#ranked + 1] = r else unranked[#unranked + 1] = r end
  end
  -- Ranked by the share answered on time, then satisfaction, then speed.
  table.sort(ranked, function(a, b)
    if (a.on_time_rate or -1) ~= (b.on_time_rate or -1) then
      return (a.on_time_rate or -1) > (b.on_time_rate or -1)
    end
    if (a.satisfaction or -1) ~= (b.satisfaction or -1) then
      return (a.satisfaction or -1) > (b.satisfaction or -1)
    end
    return a.unit < b.unit
  end)
  for i, r in ipairs(ranked) do r.rank = i end
  table.sort(unranked, function(a, b) return a.unit < b.unit end)
  local units = {}
  for _, r in ipairs(ranked) do units[#units + 1] = r end
  for _, r in ipairs(unranked) do units[#units + 1] = r end
  return { month = month, units = units, total = total, min_rank = min_rank }
end

---------------------------------------------------------------------------
-- The chart
---------------------------------------------------------------------------

local WIDTH, LABEL_W, BAR_MAX, BAR_H, GAP = 640, 130, 420, 14, 4
local COLORS = { received = "#0b4f9c", answered = "#2b7a3d", on_time = "#8a5a00",
                 text = "#1a1a1a", muted = "#555555" }
local SERIES = { { "received", "收到" }, { "answered", "已答复" }, { "on_time", "按时答复" } }

local esc = ptext.xml_escape

--- An SVG bar chart of a month's statistics, or nil when no letter came.
function stats.svg(s)
  if s.total.received == 0 then return nil end
  local max = 1
  for _, r in ipairs(s.units) do max = math.max(max, r.received) end
  local out, desc = {}, {}
  local function add(...) for i = 1, select("#", ...) do out[#out + 1] = select(i, ...) end end
  -- The legend.
  local x = LABEL_W
  for _, sr in ipairs(SERIES) do
    add('<rect x="', x, '" y="8" width="12" height="12" fill="', COLORS[sr[1]], '"/>')
    add('<text x="', x + 16, '" y="19" font-size="13" fill="', COLORS.text, '">', sr[2],
      "</text>\n")
    x = x + 100
  end
  local y = 32
  for _, r in ipairs(s.units) do
    add("<g>\n")
    add('<text x="', LABEL_W - 8, '" y="', y + 2 * (BAR_H + GAP), '" font-size="14"',
      ' text-anchor="end" fill="', COLORS.text, '">', esc(r.name), "</text>\n")
    for _, sr in ipairs(SERIES) do
      local v = r[sr[1]]
      local w = math.floor(v * BAR_MAX / max + 0.5)
      add('<rect x="', LABEL_W, '" y="', y, '" width="', w, '" height="', BAR_H, '" fill="',
        COLORS[sr[1]], '"><title>', esc(("%s %s：%d 封"):format(r.name, sr[2], v)),
        "</title></rect>\n")
      add('<text x="', LABEL_W + w + 6, '" y="', y + BAR_H - 2, '" font-size="12" fill="',
        COLORS.text, '">', v, "</text>\n")
      y = y + BAR_H + GAP
    end
    y = y + 10
    add("</g>\n")
    desc[#desc + 1] = ("%s收到 %d 封，已答复 %d 封，按时答复 %d 封"):format(r.name, r.received,
      r.answered, r.on_time)
  end
  local height = y + 8
  local title = s.month.label .. "各单位信件办理情况"
  return table.concat({
    '<svg xmlns="http://www.w3.org/2000/svg" width="', WIDTH, '" height="', height,
    '" viewBox="0 0 ', WIDTH, " ", height, '" role="img" aria-labelledby="stats-title',
    ' stats-desc" font-family="sans-serif">\n',
    '<title id="stats-title">', esc(title), "</title>\n",
    '<desc id="stats-desc">', esc(table.concat(desc, "；") .. "。"), "</desc>\n",
    table.concat(out),
    '<line x1="', LABEL_W, '" y1="28" x2="', LABEL_W, '" y2="', y, '" stroke="', COLORS.muted,
    '" stroke-width="1"/>\n',
    "</svg>\n",
  })
end

return stats
