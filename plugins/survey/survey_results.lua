-- The results of a closed opinion survey: counts and percentages per
-- question (results.tally), a bar chart of one question as accessible SVG
-- (results.svg) and every answer set as a CSV file for the staff
-- (results.csv).
--
-- Pure functions that use only what the plugin sandbox gives (string,
-- table, math, utf8, os.date) and set no globals.
--
--   results.tally(qs, answer_sets) -> { total, questions = { qv, ... } }
--   results.svg(qv)                -> an SVG string, or nil for a text question
--   results.csv(qs, rows)          -> CSV text (BOM, CRLF); rows are
--                                     { submitted_at =, mode =, answers = }
--
-- Questions (from survey_questions):
--   { id, type, title, required, options = { "…" } (single, multiple,
--     ranking), min, max (multiple), scale = { from, to, low, high } (rating),
--     rows = { "…" }, columns = { "…" } (grid), maxlength (text),
--     condition = { id, option } or nil }
-- An answer set: { [qid] = value }; single: an option number; multiple: a
-- list of option numbers; rating: an integer; ranking: option numbers in
-- rank order; grid: a column number per row (0: row not answered); text: a
-- string. A question not answered is absent. Numbers may be floats with
-- integral values (lua-cjson). A question's id may be a number while the
-- answer set's keys are strings (JSON object keys), and the other way round.
--
-- An answer that does not fit its question (an option number out of range,
-- a ranking naming an option twice, a rating off the scale, a fraction) is
-- not counted: the question's `ignored` says how many there were. An empty
-- list (multiple, ranking), a grid with no row answered and a text that is
-- empty or only white space count as not answered.

local ptext = require("park.text")
local results = {}

-- Numbers ----------------------------------------------------------------

-- v as an integer when it is a number with an integral value, else nil.
local function int(v)
  if type(v) ~= "number" then
    return nil
  end
  return math.tointeger(v)
end

-- a * 100 / b rounded half up to one decimal, as a number (0 when b is 0).
local function percent(a, b)
  if b == 0 then
    return 0.0
  end
  return ((a * 2000 + b) // (2 * b)) / 10
end

-- sum / count rounded half up to two decimals, as a number (nil when count
-- is 0). sum is an integer.
local function average(sum, count)
  if count == 0 then
    return nil
  end
  return ((sum * 200 + count) // (2 * count)) / 100
end

-- Text -------------------------------------------------------------------

-- s as text XML 1.0 accepts: bytes that are not UTF-8, forbidden controls,
-- U+FFFE and U+FFFF removed. nil gives "", a number its text.
local function clean(s)
  if s == nil then
    return ""
  end
  return ptext.xml_clean(tostring(s))
end

-- s cleaned and escaped for XML text or an attribute value.
local function esc(s)
  return ptext.xml_escape(clean(s))
end

-- s cleaned and cut to at most max characters: a longer text keeps its
-- first max - 1 characters and ends with "…".
local function truncate(s, max)
  s = clean(s)
  if utf8.len(s) <= max then
    return s
  end
  return s:sub(1, utf8.offset(s, max) - 1) .. "…"
end

results.clean = clean
results.escape = esc
results.truncate = truncate

-- Questions --------------------------------------------------------------

local TYPES = { single = true, multiple = true, rating = true, ranking = true, grid = true,
  text = true }

local function bad(n, why)
  error(string.format("survey_results: question %d: %s", n, why), 4)
end

-- A list of labels (strings or numbers) as strings.
local function labels(n, list, what)
  if type(list) ~= "table" or #list == 0 then
    bad(n, what .. " must be a non-empty list")
  end
  local out = {}
  for i, v in ipairs(list) do
    if type(v) ~= "string" and type(v) ~= "number" then
      bad(n, string.format("%s[%d] must be a string", what, i))
    end
    out[i] = tostring(int(v) or v)
  end
  return out
end

-- The questions checked and normalised:
-- { n, id, type, title, options, from, to, low, high, rows, columns }.
local function prepare(qs)
  if type(qs) ~= "table" then
    error("survey_results: the questions must be a list", 3)
  end
  local out = {}
  for n, q in ipairs(qs) do
    if type(q) ~= "table" then
      bad(n, "must be a table")
    end
    if not TYPES[q.type] then
      bad(n, "unknown type " .. tostring(q.type))
    end
    if q.id == nil then
      bad(n, "has no id")
    end
    local p = { n = n, id = q.id, type = q.type, title = tostring(q.title or "") }
    if q.type == "single" or q.type == "multiple" or q.type == "ranking" then
      p.options = labels(n, q.options, "options")
    elseif q.type == "rating" then
      local scale = q.scale
      local from = type(scale) == "table" and int(scale.from)
      local to = type(scale) == "table" and int(scale.to)
      if not from or not to or from > to or to - from > 100 then
        bad(n, "a rating needs scale.from <= scale.to, integers at most 100 apart")
      end
      p.from, p.to = from, to
      p.low = scale.low ~= nil and tostring(scale.low) or nil
      p.high = scale.high ~= nil and tostring(scale.high) or nil
    elseif q.type == "grid" then
      p.rows = labels(n, q.rows, "rows")
      p.columns = labels(n, q.columns, "columns")
    end
    out[n] = p
  end
  return out
end

-- Answers ----------------------------------------------------------------

-- The value of question id in an answer set: keys from JSON are strings, so
-- a numeric id is also looked up as its text and a numeric text as a
-- number. JSON null (a userdata) is no answer.
local function lookup(set, id)
  local v = set[id]
  if v == nil then
    if type(id) == "number" then
      v = set[tostring(int(id) or id)]
    elseif type(id) == "string" and id:find("^%-?%d+$") then
      v = set[math.tointeger(tonumber(id))]
    end
  end
  if type(v) == "userdata" then
    return nil
  end
  return v
end

local ABSENT, INVALID = "absent", "invalid"

-- A list's items 1..#v, or nil when v is no list.
local function list(v)
  if type(v) ~= "table" then
    return nil
  end
  local n = #v
  for k in pairs(v) do
    if int(k) == nil or k < 1 or k > n then
      return nil
    end
  end
  return v, n
end

-- Each reader takes a prepared question and a value that is not nil and
-- returns the answer normalised, or nil and ABSENT or INVALID.
local read = {}

function read.single(q, v)
  local k = int(v)
  if k and k >= 1 and k <= #q.options then
    return k
  end
  return nil, INVALID
end

-- multiple: the set of chosen option numbers, { [k] = true }, and how many.
function read.multiple(q, v)
  local items, n = list(v)
  if not items then
    return nil, INVALID
  end
  local chosen, count = {}, 0
  for i = 1, n do
    local k = int(items[i])
    if not k or k < 1 or k > #q.options then
      return nil, INVALID
    end
    if not chosen[k] then
      chosen[k] = true
      count = count + 1
    end
  end
  if count == 0 then
    return nil, ABSENT
  end
  return chosen
end

function read.rating(q, v)
  local k = int(v)
  if k and k >= q.from and k <= q.to then
    return k
  end
  return nil, INVALID
end

-- ranking: the rank of each ranked option, { [option] = rank }, and the
-- number of options ranked.
function read.ranking(q, v)
  local items, n = list(v)
  if not items or n > #q.options then
    return nil, INVALID
  end
  if n == 0 then
    return nil, ABSENT
  end
  local rank = {}
  for i = 1, n do
    local k = int(items[i])
    if not k or k < 1 or k > #q.options or rank[k] then
      return nil, INVALID
    end
    rank[k] = i
  end
  return rank, n
end

-- grid: the column chosen in each row, { [row] = column } (0: none).
function read.grid(q, v)
  local items, n = list(v)
  if not items or n > #q.rows then
    return nil, INVALID
  end
  local cells, any = {}, false
  for r = 1, #q.rows do
    local c = r <= n and int(items[r]) or 0
    if not c or c < 0 or c > #q.columns then
      return nil, INVALID
    end
    cells[r] = c
    any = any or c > 0
  end
  if not any then
    return nil, ABSENT
  end
  return cells
end

function read.text(_, v)
  if type(v) == "number" then
    v = tostring(int(v) or v)
  elseif type(v) ~= "string" then
    return nil, INVALID
  end
  if not v:find("%S") then
    return nil, ABSENT
  end
  return v
end

-- The answer of set to question q: the normalised value, or nil and why.
local function answer(q, set)
  local v = lookup(set, q.id)
  if v == nil then
    return nil, ABSENT
  end
  return read[q.type](q, v)
end

-- Tally ------------------------------------------------------------------

local function option_counts(labels_, counts, answered)
  local out = {}
  for k, label in ipairs(labels_) do
    out[k] = { n = k, label = label, count = counts[k] or 0,
      percent = percent(counts[k] or 0, answered) }
  end
  return out
end

local tally_of = {}

function tally_of.single(q, values, qv)
  local counts = {}
  for _, k in ipairs(values) do
    counts[k] = (counts[k] or 0) + 1
  end
  qv.options = option_counts(q.options, counts, qv.answered)
end

function tally_of.multiple(q, values, qv)
  local counts = {}
  for _, chosen in ipairs(values) do
    for k in pairs(chosen) do
      counts[k] = (counts[k] or 0) + 1
    end
  end
  qv.options = option_counts(q.options, counts, qv.answered)
end

function tally_of.rating(q, values, qv)
  local counts, sum = {}, 0
  for _, v in ipairs(values) do
    counts[v] = (counts[v] or 0) + 1
    sum = sum + v
  end
  qv.options = {}
  for v = q.from, q.to do
    qv.options[#qv.options + 1] = { n = v, label = tostring(v), count = counts[v] or 0,
      percent = percent(counts[v] or 0, qv.answered) }
  end
  qv.average = average(sum, qv.answered)
  qv.from, qv.to, qv.low, qv.high = q.from, q.to, q.low, q.high
end

-- An option left out of a partial ranking shares the places left: with
-- five options and two ranked, each of the other three counts as rank 4
-- (the mean of 3, 4 and 5). Sums are kept doubled to stay integers.
function tally_of.ranking(q, values, qv, extra)
  local m = #q.options
  local sum2, first = {}, {}
  for k = 1, m do
    sum2[k], first[k] = 0, 0
  end
  for i, rank in ipairs(values) do
    local ranked = extra[i]
    local rest2 = ranked + 1 + m -- twice the mean of ranked+1 .. m
    for k = 1, m do
      local r = rank[k]
      sum2[k] = sum2[k] + (r and 2 * r or rest2)
      if r == 1 then
        first[k] = first[k] + 1
      end
    end
  end
  local options = {}
  for k, label in ipairs(q.options) do
    options[k] = { n = k, label = label, first = first[k],
      percent_first = percent(first[k], qv.answered), sum2 = sum2[k] }
  end
  -- Order by the exact mean (sum2 / answered is the same for every option's
  -- denominator), then by option number.
  table.sort(options, function(a, b)
    if a.sum2 ~= b.sum2 then
      return a.sum2 < b.sum2
    end
    return a.n < b.n
  end)
  for _, o in ipairs(options) do
    o.average_rank = qv.answered > 0 and average(o.sum2, 2 * qv.answered) or nil
    o.sum2 = nil
  end
  qv.options = options
end

function tally_of.grid(q, values, qv)
  qv.rows = {}
  for r, label in ipairs(q.rows) do
    local counts, answered = {}, 0
    for _, cells in ipairs(values) do
      local c = cells[r]
      if c > 0 then
        counts[c] = (counts[c] or 0) + 1
        answered = answered + 1
      end
    end
    qv.rows[r] = { n = r, label = label, answered = answered,
      cells = option_counts(q.columns, counts, answered) }
  end
end

function tally_of.text(_, values, qv)
  local texts = {}
  for i, v in ipairs(values) do
    texts[i] = v
  end
  qv.texts = texts
end

-- t = { total, questions = { { n, id, type, title, answered, ignored, ... } } }
function results.tally(qs, answer_sets)
  local prepared = prepare(qs)
  if type(answer_sets) ~= "table" then
    error("survey_results: the answer sets must be a list", 2)
  end
  for i, set in ipairs(answer_sets) do
    if type(set) ~= "table" then
      error("survey_results: answer set " .. i .. " must be a table", 2)
    end
  end
  local t = { total = #answer_sets, questions = {} }
  for _, q in ipairs(prepared) do
    local values, extra, ignored = {}, {}, 0
    for _, set in ipairs(answer_sets) do
      -- On success the second value is what the reader adds (a ranking's
      -- length), else why there is no answer.
      local v, second = answer(q, set)
      if v ~= nil then
        values[#values + 1] = v
        extra[#values] = second
      elseif second == INVALID then
        ignored = ignored + 1
      end
    end
    local qv = { n = q.n, id = q.id, type = q.type, title = q.title, answered = #values,
      ignored = ignored }
    tally_of[q.type](q, values, qv, extra)
    t.questions[#t.questions + 1] = qv
  end
  return t
end

-- SVG --------------------------------------------------------------------

results.FONT = "PingFang SC, Noto Sans CJK SC, Microsoft YaHei, sans-serif"
-- Contrast against white: bars 6.70:1, text 14.7:1, muted text and axis 7.56:1.
results.COLORS = { bar = "#1d4ed8", text = "#1f2937", muted = "#4b5563" }
results.WIDTH = 640
-- The most characters of a bar's label, and of a grid row's heading.
results.LABEL_CHARS = 12
results.HEADING_CHARS = 40

local PAD = 12
local LABEL_X = 196 -- labels end here
local BAR_X = 204 -- bars start here
local BAR_MAX = 300 -- the width of a bar at 100%
local PITCH = 28 -- from one bar to the next
local BAR_H = 18

local function fmt_percent(p)
  return string.format("%.1f%%", p)
end

local function fmt_average(a)
  return string.format("%.2f", a)
end

-- "45 人，占 37.5%"
local function people(count, p)
  return string.format("%d 人，占 %s", count, fmt_percent(p))
end

-- The id attributes of a chart: "survey-q-" and the question's id, with
-- every byte outside [A-Za-z0-9_-] written as "." and two hex digits.
local function chart_id(qv)
  local id = tostring(qv.id ~= nil and qv.id or qv.n)
  return "survey-q-" .. id:gsub("[^%w_%-]", function(c)
    return string.format(".%02x", c:byte())
  end)
end

-- The bars of a tallied question: { { label, title, value, percent } } in
-- groups { { heading = or nil, bars = { … } } }, and the description.
local bars_of = {}

local function simple_bars(qv, label_of)
  local bars, parts = {}, {}
  for i, o in ipairs(qv.options) do
    local label = label_of and label_of(o) or o.label
    bars[i] = { label = label, title = label .. "：" .. people(o.count, o.percent),
      value = string.format("%d 人（%s）", o.count, fmt_percent(o.percent)),
      percent = o.percent }
    parts[i] = label .. " " .. people(o.count, o.percent)
  end
  return { { bars = bars } }, parts
end

function bars_of.single(qv)
  local groups, parts = simple_bars(qv)
  return groups, string.format("共 %d 人作答。", qv.answered) .. table.concat(parts, "；")
end

function bars_of.multiple(qv)
  local groups, parts = simple_bars(qv)
  return groups, string.format("共 %d 人作答，可多选。", qv.answered)
    .. table.concat(parts, "；")
end

function bars_of.rating(qv)
  -- The ends of the scale carry their words: "1（很不满意）".
  local function label_of(o)
    if o.n == qv.from and qv.low and qv.low ~= "" then
      return o.label .. "（" .. qv.low .. "）"
    elseif o.n == qv.to and qv.high and qv.high ~= "" then
      return o.label .. "（" .. qv.high .. "）"
    end
    return o.label
  end
  local groups, parts = simple_bars(qv, label_of)
  local head = string.format("共 %d 人作答", qv.answered)
  if qv.average then
    head = head .. "，平均 " .. fmt_average(qv.average)
  end
  return groups, head .. "。" .. table.concat(parts, "；")
end

function bars_of.ranking(qv)
  local bars, parts = {}, {}
  for i, o in ipairs(qv.options) do
    local rank = o.average_rank and ("平均第 " .. fmt_average(o.average_rank) .. " 位，") or ""
    local firsts = string.format("%d 人排第一，占 %s", o.first, fmt_percent(o.percent_first))
    bars[i] = { label = o.label, title = o.label .. "：" .. rank .. firsts,
      value = string.format("%d 人（%s）", o.first, fmt_percent(o.percent_first)),
      percent = o.percent_first }
    parts[i] = o.label .. " " .. rank .. firsts
  end
  return { { bars = bars } }, string.format("共 %d 人作答，按平均排名排列，条形为排第一的比例。",
    qv.answered) .. table.concat(parts, "；")
end

function bars_of.grid(qv)
  local groups, parts = {}, {}
  for r, row in ipairs(qv.rows) do
    local bars, cells = {}, {}
    for c, cell in ipairs(row.cells) do
      bars[c] = { label = cell.label,
        title = row.label .. " - " .. cell.label .. "：" .. people(cell.count, cell.percent),
        value = string.format("%d 人（%s）", cell.count, fmt_percent(cell.percent)),
        percent = cell.percent }
      cells[c] = cell.label .. " " .. people(cell.count, cell.percent)
    end
    groups[r] = { heading = truncate(row.label, results.HEADING_CHARS)
      .. string.format("（%d 人作答）", row.answered), bars = bars }
    parts[r] = string.format("%s（%d 人作答）：", row.label, row.answered)
      .. table.concat(cells, "；")
  end
  return groups, string.format("共 %d 人作答。", qv.answered) .. table.concat(parts, "。")
end

-- An SVG bar chart of one tallied question, or nil for a text question.
function results.svg(qv)
  if type(qv) ~= "table" then
    error("survey_results: svg needs a tallied question", 2)
  end
  if qv.type == "text" then
    return nil
  end
  local make = bars_of[qv.type]
  if not make then
    error("survey_results: svg: unknown type " .. tostring(qv.type), 2)
  end
  local groups, desc = make(qv)
  desc = desc:sub(-3) == "。" and desc or desc .. "。"
  local id = chart_id(qv)
  local C = results.COLORS
  local body, n = {}, 0
  local function add(...)
    for i = 1, select("#", ...) do
      n = n + 1
      body[n] = select(i, ...)
    end
  end
  -- The visible summary line.
  local summary = string.format("共 %d 人作答", qv.answered or 0)
  if qv.type == "rating" and qv.average then
    summary = summary .. "，平均 " .. fmt_average(qv.average)
  elseif qv.type == "ranking" then
    summary = summary .. "，按平均排名排列，条形为排第一的比例"
  elseif qv.type == "multiple" then
    summary = summary .. "，可多选"
  end
  add('<text x="', PAD, '" y="20" font-size="13" fill="', C.muted, '">', esc(summary),
    "</text>\n")
  local y = 32
  for _, group in ipairs(groups) do
    add("<g>\n")
    if group.heading then
      y = y + 4
      add('<text x="', PAD, '" y="', y + 14, '" font-size="14" font-weight="bold" fill="',
        C.text, '">', esc(group.heading), "</text>\n")
      y = y + 22
    end
    local top = y
    for _, bar in ipairs(group.bars) do
      local p = math.max(0, math.min(100, bar.percent or 0))
      local w = math.floor(p * BAR_MAX / 100 + 0.5)
      local ry = y + (PITCH - BAR_H) // 2
      add('<text x="', LABEL_X, '" y="', ry + 14, '" font-size="14" text-anchor="end" fill="',
        C.text, '">', esc(truncate(bar.label, results.LABEL_CHARS)), "</text>\n")
      add('<rect x="', BAR_X, '" y="', ry, '" width="', w, '" height="', BAR_H, '" fill="',
        C.bar, '"><title>', esc(bar.title), "</title></rect>\n")
      add('<text x="', BAR_X + w + 6, '" y="', ry + 14, '" font-size="13" fill="', C.text,
        '">', esc(bar.value), "</text>\n")
      y = y + PITCH
    end
    add('<line x1="', BAR_X, '" y1="', top, '" x2="', BAR_X, '" y2="', y, '" stroke="',
      C.muted, '" stroke-width="1"/>\n')
    add("</g>\n")
  end
  local height = y + PAD
  return table.concat({
    '<svg xmlns="http://www.w3.org/2000/svg" width="', results.WIDTH, '" height="', height,
    '" viewBox="0 0 ', results.WIDTH, " ", height, '" role="img" aria-labelledby="', id,
    "-title ", id, '-desc" font-family="', results.FONT, '">\n',
    '<title id="', id, '-title">', esc(qv.title), "</title>\n",
    '<desc id="', id, '-desc">', esc(desc), "</desc>\n",
    table.concat(body),
    "</svg>\n",
  })
end

-- CSV --------------------------------------------------------------------

results.BOM = "\239\187\191"
-- How each way of taking part is written in the CSV ("参与方式").
results.MODES = { anonymous = "匿名", code = "参与码", invite = "邀请" }

-- A cell as RFC 4180 has it. A text a spreadsheet could take for a formula
-- (= + - @ tab CR first) gets a leading "'", except a plain number such as
-- "-3", which a spreadsheet reads as that number.
local function cell(v)
  if v == nil then
    return ""
  end
  local s = type(v) == "number" and tostring(int(v) or v) or tostring(v)
  if s:find("^[=+%-@\t\r]") and not s:find("^%-%d+$") and not s:find("^%-%d+%.%d+$") then
    s = "'" .. s
  end
  if s:find('[,"\r\n]') then
    s = '"' .. s:gsub('"', '""') .. '"'
  end
  return s
end

results.csv_cell = cell

-- The columns of one question: { header, value(answer) → text or nil }.
local function columns_of(q)
  local head = string.format("%d. %s", q.n, q.title)
  local out = {}
  if q.type == "single" then
    out[1] = { head, function(k) return q.options[k] end }
  elseif q.type == "multiple" then
    out[1] = { head, function(chosen)
      local texts = {}
      for k, label in ipairs(q.options) do
        if chosen[k] then
          texts[#texts + 1] = label
        end
      end
      return table.concat(texts, "；")
    end }
  elseif q.type == "rating" or q.type == "text" then
    out[1] = { head, function(v) return v end }
  elseif q.type == "ranking" then
    for k, label in ipairs(q.options) do
      out[k] = { head .. " - " .. label, function(rank) return rank[k] end }
    end
  elseif q.type == "grid" then
    for r, label in ipairs(q.rows) do
      out[r] = { head .. " - " .. label, function(cells)
        local c = cells[r]
        return c > 0 and q.columns[c] or nil
      end }
    end
  end
  return out
end

-- rows: { { submitted_at = epoch, mode =, answers = set } } → the CSV text.
function results.csv(qs, rows)
  local prepared = prepare(qs)
  if type(rows) ~= "table" then
    error("survey_results: the rows must be a list", 2)
  end
  local header = { "序号", "提交时间", "参与方式" }
  local cols = {}
  for _, q in ipairs(prepared) do
    for _, col in ipairs(columns_of(q)) do
      cols[#cols + 1] = { q = q, value = col[2] }
      header[#header + 1] = col[1]
    end
  end
  local lines = {}
  local function line(cells)
    for i = 1, #header do
      cells[i] = cell(cells[i])
    end
    lines[#lines + 1] = table.concat(cells, ",", 1, #header)
  end
  line(header)
  for i, row in ipairs(rows) do
    if type(row) ~= "table" then
      error("survey_results: row " .. i .. " must be a table", 2)
    end
    local when = int(row.submitted_at) or (type(row.submitted_at) == "number"
      and math.floor(row.submitted_at)) or nil
    local cells = { i, when and os.date("%Y-%m-%d %H:%M:%S", when) or nil,
      row.mode ~= nil and (results.MODES[row.mode] or tostring(row.mode)) or nil }
    local set = type(row.answers) == "table" and row.answers or {}
    local last_q, v
    for c, col in ipairs(cols) do
      if col.q ~= last_q then
        last_q = col.q
        v = answer(col.q, set)
      end
      cells[3 + c] = v ~= nil and col.value(v) or nil
    end
    line(cells)
  end
  return results.BOM .. table.concat(lines, "\r\n") .. "\r\n"
end

return results
