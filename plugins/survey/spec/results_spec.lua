package.path = "plugins/survey/?.lua;" .. package.path

-- survey_results: the tally of every question type, the SVG bar charts
-- (parsed back with expat) and the CSV export (parsed back with a small
-- RFC 4180 reader). Questions are built here by hand.
local results = require("survey_results")
local lxp = require("lxp")

local SVG = "http://www.w3.org/2000/svg"
local BOM = "\239\187\191"

-- Helpers ----------------------------------------------------------------

-- n copies of value in a list, followed by the items of more lists.
local function rep(value, n, into)
  into = into or {}
  for _ = 1, n do
    into[#into + 1] = value
  end
  return into
end

-- The answer sets { [id] = v } for a list of values of one question.
local function sets_of(id, values)
  local out = {}
  for i, v in ipairs(values) do
    out[i] = { [id] = v }
  end
  return out
end

-- The one tallied question of a one-question survey.
local function tally1(q, values)
  local t = results.tally({ q }, sets_of(q.id, values))
  return t.questions[1], t
end

local function single(options, extra)
  local q = { id = "q1", type = "single", title = "您对园区服务是否满意？", required = true,
    options = options or { "非常满意", "满意", "一般", "不满意" } }
  for k, v in pairs(extra or {}) do
    q[k] = v
  end
  return q
end

local function counts(options)
  local out = {}
  for i, o in ipairs(options) do
    out[i] = o.count
  end
  return out
end

local function percents(options)
  local out = {}
  for i, o in ipairs(options) do
    out[i] = o.percent
  end
  return out
end

-- An XML DOM -------------------------------------------------------------

-- Parses xml with expat, namespaces resolved ("uri|local"). Returns the root
-- { name, attr, children, text } or fails with expat's reason.
local function parse(xml)
  local root
  local stack = {}
  local parser = lxp.new({
    StartElement = function(_, name, attrs)
      local node = { name = name, attr = {}, children = {}, chunks = {} }
      for k, v in pairs(attrs) do
        if type(k) == "string" then
          node.attr[k] = v
        end
      end
      local parent = stack[#stack]
      if parent then
        parent.children[#parent.children + 1] = node
      else
        root = node
      end
      stack[#stack + 1] = node
    end,
    EndElement = function()
      local node = table.remove(stack)
      node.text = table.concat(node.chunks)
      node.chunks = nil
    end,
    CharacterData = function(_, data)
      local node = stack[#stack]
      node.chunks[#node.chunks + 1] = data
    end,
  }, "|")
  local ok, err, line, col = parser:parse(xml)
  if ok then
    ok, err, line, col = parser:parse()
  end
  parser:close()
  assert(ok, string.format("not well-formed XML: %s at line %s, column %s", tostring(err),
    tostring(line), tostring(col)))
  return root
end

-- Every element below node (node included) named name, in document order.
local function find_all(node, name, out)
  out = out or {}
  if node.name == name then
    out[#out + 1] = node
  end
  for _, child in ipairs(node.children) do
    find_all(child, name, out)
  end
  return out
end

local function children(node, name)
  local out = {}
  for _, child in ipairs(node.children) do
    if child.name == name then
      out[#out + 1] = child
    end
  end
  return out
end

local function texts_of(node)
  local out = {}
  for i, t in ipairs(find_all(node, SVG .. "|text")) do
    out[i] = t.text
  end
  return out
end

local function rects_of(node)
  return find_all(node, SVG .. "|rect")
end

local function rect_titles(node)
  local out = {}
  for i, r in ipairs(rects_of(node)) do
    local t = children(r, SVG .. "|title")
    assert.are.equal(1, #t)
    out[i] = t[1].text
  end
  return out
end

local function contains(list, value)
  for _, v in ipairs(list) do
    if v == value then
      return true
    end
  end
  return false
end

-- WCAG 2 contrast ratio of "#rrggbb" against white.
local function contrast(hex)
  local function channel(h)
    local c = tonumber(h, 16) / 255
    return c <= 0.04045 and c / 12.92 or ((c + 0.055) / 1.055) ^ 2.4
  end
  local r, g, b = hex:match("^#(%x%x)(%x%x)(%x%x)$")
  assert(r, "not a #rrggbb colour: " .. tostring(hex))
  local l = 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)
  return 1.05 / (l + 0.05)
end

-- An RFC 4180 reader ------------------------------------------------------

-- Reads CSV text (no BOM) strictly: records end with CRLF, the last one
-- too; a quoted field may hold commas, CR, LF and doubled quotes; a quote
-- inside an unquoted field, a bare CR or LF outside quotes and text after a
-- closing quote are errors. Returns a list of records, each a list of
-- fields.
local function read_csv(s)
  local records, record = {}, {}
  local i, n = 1, #s
  while i <= n do
    local field
    if s:sub(i, i) == '"' then
      local parts = {}
      i = i + 1
      while true do
        local q = s:find('"', i, true)
        assert(q, "unterminated quoted field")
        parts[#parts + 1] = s:sub(i, q - 1)
        if s:sub(q + 1, q + 1) == '"' then
          parts[#parts + 1] = '"'
          i = q + 2
        else
          i = q + 1
          break
        end
      end
      field = table.concat(parts)
    else
      local j = s:find("[,\r\n\"]", i) or n + 1
      field = s:sub(i, j - 1)
      assert(s:sub(j, j) ~= '"', "a quote inside an unquoted field at byte " .. j)
      i = j
    end
    record[#record + 1] = field
    local sep = s:sub(i, i)
    if sep == "," then
      i = i + 1
      assert(i <= n, "a comma at the end of the text")
    elseif s:sub(i, i + 1) == "\r\n" then
      records[#records + 1] = record
      record = {}
      i = i + 2
    else
      error(string.format("expected , or CRLF at byte %d, got %q", i, s:sub(i, i + 1)))
    end
  end
  assert(#record == 0, "the last record does not end with CRLF")
  return records
end

-- The CSV's records, after checking and removing its BOM.
local function csv_records(csv)
  assert.are.equal(BOM, csv:sub(1, 3))
  return read_csv(csv:sub(4))
end

-- Tally ------------------------------------------------------------------

describe("survey_results.tally", function()
  it("gives the total and one entry per question, in order, numbered", function()
    local qs = {
      single(),
      { id = "channels", type = "multiple", title = "渠道", options = { "网站", "微信" } },
      { id = "advice", type = "text", title = "建议" },
    }
    local t = results.tally(qs, { { q1 = 1 }, { q1 = 2, advice = "好" }, {} })
    assert.are.equal(3, t.total)
    assert.are.equal(3, #t.questions)
    for i, qv in ipairs(t.questions) do
      assert.are.equal(i, qv.n)
      assert.are.equal(qs[i].id, qv.id)
      assert.are.equal(qs[i].type, qv.type)
      assert.are.equal(qs[i].title, qv.title)
    end
    assert.are.same({ 2, 0, 1 }, { t.questions[1].answered, t.questions[2].answered,
      t.questions[3].answered })
  end)

  it("counts a single choice with percentages of those who answered, one decimal", function()
    local values = rep(1, 3, rep(2, 3, rep(3, 2)))
    local qv = tally1(single(), values)
    assert.are.equal(8, qv.answered)
    assert.are.same({ 3, 3, 2, 0 }, counts(qv.options))
    assert.are.same({ 37.5, 37.5, 25.0, 0.0 }, percents(qv.options))
    assert.are.same({ n = 1, label = "非常满意", count = 3, percent = 37.5 }, qv.options[1])
    assert.are.equal("number", type(qv.options[1].percent))
  end)

  it("rounds percentages half up to one decimal", function()
    local qv = tally1(single({ "是", "否" }), { 1, 2, 2 })
    assert.are.same({ 33.3, 66.7 }, percents(qv.options))
    -- 1/8 = 12.5 exactly, 1/16 = 6.25 -> 6.3, 1/6 = 16.666... -> 16.7
    qv = tally1(single({ "是", "否" }), rep(2, 15, { 1 }))
    assert.are.same({ 6.3, 93.8 }, percents(qv.options))
    qv = tally1(single({ "是", "否" }), rep(2, 5, { 1 }))
    assert.are.same({ 16.7, 83.3 }, percents(qv.options))
    qv = tally1(single({ "是", "否" }), rep(2, 7, { 1 }))
    assert.are.same({ 12.5, 87.5 }, percents(qv.options))
  end)

  it("accepts floats with integral values, as lua-cjson gives them", function()
    local qv = tally1(single(), { 1.0, 2.0, 2, 4.0 })
    assert.are.same({ 1, 2, 0, 1 }, counts(qv.options))
    assert.are.equal(0, qv.ignored)
  end)

  it("leaves out optional questions not answered and questions hidden by a condition", function()
    local qs = {
      single(),
      { id = "why", type = "text", title = "不满意的原因", required = false,
        condition = { id = "q1", option = 4 } },
      { id = "extra", type = "single", title = "是否愿意参加回访", required = false,
        options = { "愿意", "不愿意" } },
    }
    local sets = {
      { q1 = 1, extra = 1 },
      { q1 = 4, why = "停车难" },
      { q1 = 4, why = "办事慢", extra = 2 },
      { q1 = 2 },
    }
    local t = results.tally(qs, sets)
    assert.are.equal(4, t.total)
    assert.are.equal(4, t.questions[1].answered)
    assert.are.equal(2, t.questions[2].answered)
    assert.are.same({ "停车难", "办事慢" }, t.questions[2].texts)
    local extra = t.questions[3]
    assert.are.equal(2, extra.answered)
    assert.are.same({ 1, 1 }, counts(extra.options))
    assert.are.same({ 50.0, 50.0 }, percents(extra.options))
  end)

  it("ignores answers that do not fit the question and counts them", function()
    local qv = tally1(single(), { 1, 5, 0, 1.5, "2", { 1 }, 2 })
    assert.are.equal(2, qv.answered)
    assert.are.equal(5, qv.ignored)
    assert.are.same({ 1, 1, 0, 0 }, counts(qv.options))
  end)

  it("treats JSON null as no answer", function()
    local null = io.stdout -- any userdata stands for cjson.null
    local qv = tally1(single(), { 1, null })
    assert.are.equal(1, qv.answered)
    assert.are.equal(0, qv.ignored)
  end)

  it("finds answers under string keys when the question ids are numbers", function()
    local q = single(nil, { id = 7 })
    local t = results.tally({ q }, { { ["7"] = 1 }, { [7] = 2 }, { ["7"] = 2.0 } })
    assert.are.same({ 1, 2, 0, 0 }, counts(t.questions[1].options))
    q = single(nil, { id = "8" })
    t = results.tally({ q }, { { [8] = 3 } })
    assert.are.same({ 0, 0, 1, 0 }, counts(t.questions[1].options))
  end)

  it("counts a multiple choice once per participant; percentages may add up past 100", function()
    local q = { id = "ch", type = "multiple", title = "您通过哪些渠道了解园区？",
      options = { "网站", "微信公众号", "电话", "其他" }, min = 1, max = 3 }
    local qv = tally1(q, { { 1, 2 }, { 2.0, 3.0 }, { 2 }, { 1, 1, 2 }, {} })
    assert.are.equal(4, qv.answered) -- the empty list chose nothing
    assert.are.same({ 2, 4, 1, 0 }, counts(qv.options))
    assert.are.same({ 50.0, 100.0, 25.0, 0.0 }, percents(qv.options))
    assert.are.equal("微信公众号", qv.options[2].label)
    qv = tally1(q, { { 1, 9 }, { 1 }, 1 })
    assert.are.equal(1, qv.answered)
    assert.are.equal(2, qv.ignored)
  end)

  it("counts a rating per scale point, with the average to two decimals", function()
    local q = { id = "r", type = "rating", title = "总体评分",
      scale = { from = 1, to = 5, low = "很不满意", high = "非常满意" } }
    local qv = tally1(q, { 5, 4, 4.0, 5, 3, 9, 0 })
    assert.are.equal(5, qv.answered)
    assert.are.equal(2, qv.ignored)
    assert.are.equal(5, #qv.options)
    assert.are.same({ n = 4, label = "4", count = 2, percent = 40.0 }, qv.options[4])
    assert.are.same({ 0, 0, 1, 2, 2 }, counts(qv.options))
    assert.are.equal(4.2, qv.average)
    qv = tally1(q, { 5, 4, 4 })
    assert.are.equal(4.33, qv.average)
    qv = tally1(q, { 1, 2, 2 })
    assert.are.equal(1.67, qv.average)
  end)

  it("handles a 0-10 scale, a scale below zero and a scale given as floats", function()
    local q = { id = "nps", type = "rating", title = "推荐意愿", scale = { from = 0, to = 10 } }
    local qv = tally1(q, { 0, 10, 10 })
    assert.are.equal(11, #qv.options)
    assert.are.same({ n = 0, label = "0", count = 1, percent = 33.3 }, qv.options[1])
    assert.are.equal(6.67, qv.average)
    q = { id = "d", type = "rating", title = "变化", scale = { from = -2.0, to = 2.0 } }
    qv = tally1(q, { -2, -1.0, -1 })
    assert.are.same({ "-2", "-1", "0", "1", "2" }, (function()
      local out = {}
      for i, o in ipairs(qv.options) do
        out[i] = o.label
      end
      return out
    end)())
    assert.are.equal(-1.33, qv.average)
  end)

  it("gives no average when nobody rated", function()
    local q = { id = "r", type = "rating", title = "评分", scale = { from = 1, to = 3 } }
    local qv = tally1(q, {})
    assert.are.equal(0, qv.answered)
    assert.is_nil(qv.average)
    assert.are.same({ 0.0, 0.0, 0.0 }, percents(qv.options))
  end)

  it("orders a ranking by average rank, best first, with firsts and their share", function()
    local q = { id = "rk", type = "ranking", title = "最需要改进的方面",
      options = { "交通", "餐饮", "停车", "绿化" } }
    local qv = tally1(q, {
      { 3, 1, 2, 4 },
      { 3, 2, 1, 4 },
      { 1, 3, 2, 4 },
      { 3.0, 1.0, 4.0, 2.0 },
    })
    assert.are.equal(4, qv.answered)
    local order, avgs, firsts, pf = {}, {}, {}, {}
    for i, o in ipairs(qv.options) do
      order[i], avgs[i], firsts[i], pf[i] = o.label, o.average_rank, o.first, o.percent_first
    end
    -- 交通 2,3,1,2 = 2.0; 餐饮 3,2,3,4 = 3.0; 停车 1,1,2,1 = 1.25; 绿化 4,4,4,3 = 3.75
    assert.are.same({ "停车", "交通", "餐饮", "绿化" }, order)
    assert.are.same({ 1.25, 2.0, 3.0, 3.75 }, avgs)
    assert.are.same({ 3, 1, 0, 0 }, firsts)
    assert.are.same({ 75.0, 25.0, 0.0, 0.0 }, pf)
    assert.are.equal(3, qv.options[1].n)
  end)

  it("breaks ranking ties by option order", function()
    local q = { id = "rk", type = "ranking", title = "排序", options = { "甲", "乙", "丙" } }
    local qv = tally1(q, { { 3, 2, 1 }, { 2, 3, 1 } })
    -- 甲 3,3; 乙 2,1 = 1.5; 丙 1,2 = 1.5: a tie kept in option order.
    assert.are.same({ 2, 3, 1 }, { qv.options[1].n, qv.options[2].n, qv.options[3].n })
    assert.are.same({ 1.5, 1.5, 3.0 }, { qv.options[1].average_rank,
      qv.options[2].average_rank, qv.options[3].average_rank })
    qv = tally1(q, {})
    assert.are.same({ 1, 2, 3 }, { qv.options[1].n, qv.options[2].n, qv.options[3].n })
    assert.is_nil(qv.options[1].average_rank)
    assert.are.equal(0.0, qv.options[1].percent_first)
  end)

  it("lets the options left out of a partial ranking share the places left", function()
    local q = { id = "rk", type = "ranking", title = "排序",
      options = { "甲", "乙", "丙", "丁", "戊" } }
    local qv = tally1(q, { { 2, 1 } })
    local by = {}
    for _, o in ipairs(qv.options) do
      by[o.label] = o.average_rank
    end
    assert.are.same({ ["甲"] = 2.0, ["乙"] = 1.0, ["丙"] = 4.0, ["丁"] = 4.0, ["戊"] = 4.0 }, by)
  end)

  it("ignores a ranking that names an option twice or one that does not exist", function()
    local q = { id = "rk", type = "ranking", title = "排序", options = { "甲", "乙" } }
    local qv = tally1(q, { { 1, 1 }, { 1, 3 }, { 1, 2, 1 }, { 2, 1 }, {} })
    assert.are.equal(1, qv.answered)
    assert.are.equal(3, qv.ignored)
  end)

  it("counts a grid per row, percentages of those who answered the row", function()
    local q = { id = "g", type = "grid", title = "各项服务评价",
      rows = { "政务服务", "物业管理", "安保" }, columns = { "满意", "一般", "不满意" } }
    local qv = tally1(q, {
      { 1, 1, 2 },
      { 1, 3, 0 },
      { 2.0, 0, 0 },
      { 0, 0, 0 }, -- no row: not answered
      { 1 },       -- a shorter list: the other rows not answered
      { 1, 4, 1 }, -- column 4 does not exist
    })
    assert.are.equal(4, qv.answered)
    assert.are.equal(1, qv.ignored)
    assert.are.equal(3, #qv.rows)
    local r1, r2, r3 = qv.rows[1], qv.rows[2], qv.rows[3]
    assert.are.same({ n = 1, label = "政务服务", answered = 4 }, { n = r1.n, label = r1.label,
      answered = r1.answered })
    assert.are.same({ 3, 1, 0 }, counts(r1.cells))
    assert.are.same({ 75.0, 25.0, 0.0 }, percents(r1.cells))
    assert.are.same({ n = 2, label = "一般", count = 1, percent = 25.0 }, r1.cells[2])
    assert.are.equal(2, r2.answered)
    assert.are.same({ 1, 0, 1 }, counts(r2.cells))
    assert.are.same({ 50.0, 0.0, 50.0 }, percents(r2.cells))
    assert.are.equal(1, r3.answered)
    assert.are.same({ 0.0, 100.0, 0.0 }, percents(r3.cells))
  end)

  it("keeps text answers in answer order, without empty ones", function()
    local q = { id = "t", type = "text", title = "意见建议", maxlength = 500 }
    local qv = tally1(q, { "希望增加班车", "", "  \n", "食堂<很好>&\"便宜\"", 12 })
    assert.are.equal(3, qv.answered)
    assert.are.same({ "希望增加班车", "食堂<很好>&\"便宜\"", "12" }, qv.texts)
    assert.is_nil(qv.options)
  end)

  it("gives zeros, not errors, when there are no answer sets", function()
    local t = results.tally({ single() }, {})
    assert.are.equal(0, t.total)
    assert.are.equal(0, t.questions[1].answered)
    assert.are.same({ 0.0, 0.0, 0.0, 0.0 }, percents(t.questions[1].options))
  end)

  it("refuses questions it cannot read", function()
    assert.has_error(function()
      results.tally({ { id = "x", type = "slider", title = "?" } }, {})
    end, "survey_results: question 1: unknown type slider")
    assert.has_error(function()
      results.tally({ single(), { id = "s", type = "single", title = "?", options = {} } }, {})
    end, "survey_results: question 2: options must be a non-empty list")
    assert.has_error(function()
      results.tally({ { id = "r", type = "rating", title = "?", scale = { from = 5, to = 1 } } },
        {})
    end)
    assert.has_error(function() results.tally({ single() }, { 1 }) end)
  end)
end)

-- SVG --------------------------------------------------------------------

-- The tallied questions of a survey with one question of each type.
local function sample()
  local qs = {
    single(),
    { id = "ch", type = "multiple", title = "了解渠道", options = { "网站", "微信", "电话" } },
    { id = "r", type = "rating", title = "总体评分",
      scale = { from = 1, to = 5, low = "很不满意", high = "非常满意" } },
    { id = "rk", type = "ranking", title = "改进重点", options = { "交通", "餐饮", "停车" } },
    { id = "g", type = "grid", title = "服务评价", rows = { "政务", "物业" },
      columns = { "满意", "一般", "不满意" } },
    { id = "t", type = "text", title = "建议" },
  }
  local sets = {}
  for i = 1, 8 do
    sets[i] = { q1 = (i <= 3) and 1 or (i <= 6) and 2 or 3, ch = { 1, (i % 2) + 2 },
      r = (i % 5) + 1, rk = (i <= 5) and { 3, 1, 2 } or { 1, 3, 2 },
      g = { (i % 3) + 1, (i <= 4) and 1 or 0 }, t = "第 " .. i .. " 条" }
  end
  return results.tally(qs, sets)
end

describe("survey_results.svg", function()
  it("draws every type but text as a well-formed SVG image with a title and a desc", function()
    local t = sample()
    for _, qv in ipairs(t.questions) do
      local svg = results.svg(qv)
      if qv.type == "text" then
        assert.is_nil(svg)
      else
        local root = parse(svg)
        assert.are.equal(SVG .. "|svg", root.name)
        assert.are.equal("img", root.attr.role)
        assert.are.equal("640", root.attr.width)
        local h = tonumber(root.attr.height)
        assert.are.equal("0 0 640 " .. h, root.attr.viewBox)
        local title = children(root, SVG .. "|title")
        local desc = children(root, SVG .. "|desc")
        assert.are.equal(1, #title)
        assert.are.equal(1, #desc)
        assert.are.equal(qv.title, title[1].text)
        local ids = {}
        for id in root.attr["aria-labelledby"]:gmatch("%S+") do
          ids[#ids + 1] = id
        end
        assert.are.same({ title[1].attr.id, desc[1].attr.id }, ids)
        assert.truthy(title[1].attr.id:find("^[%a_][%w_.%-]*$"))
        assert.truthy(desc[1].text:find("^共 %d+ 人作答"))
        assert.truthy(desc[1].text:find("。$"))
      end
    end
  end)

  it("describes a single choice's numbers in a Chinese sentence", function()
    local qv = tally1(single(), rep(1, 3, rep(2, 3, rep(3, 2))))
    local root = parse(results.svg(qv))
    assert.are.equal("共 8 人作答。非常满意 3 人，占 37.5%；满意 3 人，占 37.5%；"
      .. "一般 2 人，占 25.0%；不满意 0 人，占 0.0%。", children(root, SVG .. "|desc")[1].text)
  end)

  it("draws one rect per option, each with its own title, count and percent", function()
    local qv = tally1(single(), rep(1, 3, rep(2, 3, rep(3, 2))))
    local root = parse(results.svg(qv))
    local rects = rects_of(root)
    assert.are.equal(4, #rects)
    assert.are.same({ "非常满意：3 人，占 37.5%", "满意：3 人，占 37.5%", "一般：2 人，占 25.0%",
      "不满意：0 人，占 0.0%" }, rect_titles(root))
    -- Bars are proportional to the percentage, 100% being 300 pixels, rounded.
    assert.are.same({ 113, 113, 75, 0 }, { tonumber(rects[1].attr.width),
      tonumber(rects[2].attr.width), tonumber(rects[3].attr.width),
      tonumber(rects[4].attr.width) })
    local x = rects[1].attr.x
    for _, r in ipairs(rects) do
      assert.are.equal(x, r.attr.x)
    end
    local texts = texts_of(root)
    for _, s in ipairs({ "非常满意", "满意", "一般", "不满意", "3 人（37.5%）", "2 人（25.0%）",
      "0 人（0.0%）" }) do
      assert.is_true(contains(texts, s), s)
    end
  end)

  it("grows taller with more bars, staying 640 wide", function()
    local two = parse(results.svg(tally1(single({ "是", "否" }), { 1 })))
    local six = parse(results.svg(tally1(single({ "1", "2", "3", "4", "5", "6" }), { 1 })))
    assert.is_true(tonumber(six.attr.height) > tonumber(two.attr.height))
    assert.are.equal(two.attr.width, six.attr.width)
    for _, r in ipairs(rects_of(six)) do
      assert.is_true(tonumber(r.attr.x) + tonumber(r.attr.width) <= 640)
      assert.is_true(tonumber(r.attr.y) + tonumber(r.attr.height) <= tonumber(six.attr.height))
    end
  end)

  it("labels a rating's bars by scale point, the ends with their words", function()
    local qv = sample().questions[3]
    local root = parse(results.svg(qv))
    assert.are.equal(5, #rects_of(root))
    local texts = texts_of(root)
    assert.is_true(contains(texts, "1（很不满意）"))
    assert.is_true(contains(texts, "3"))
    assert.is_true(contains(texts, "5（非常满意）"))
    local desc = children(root, SVG .. "|desc")[1].text
    assert.truthy(desc:find("平均 " .. string.format("%.2f", qv.average), 1, true))
  end)

  it("draws a ranking's share of firsts, in the order of the average rank", function()
    local qv = sample().questions[4]
    local root = parse(results.svg(qv))
    local titles = rect_titles(root)
    assert.are.equal(3, #titles)
    for i, o in ipairs(qv.options) do
      assert.are.equal(1, titles[i]:find(o.label, 1, true))
      assert.truthy(titles[i]:find(string.format("平均第 %.2f 位", o.average_rank), 1, true))
      assert.truthy(titles[i]:find(string.format("%d 人排第一，占 %.1f%%", o.first,
        o.percent_first), 1, true))
    end
    -- 停车 is first for 5 of 8, 交通 for 3 of 8.
    assert.are.same({ "停车", "交通", "餐饮" }, { qv.options[1].label, qv.options[2].label,
      qv.options[3].label })
    local rects = rects_of(root)
    assert.are.equal(math.floor(62.5 * 3 + 0.5), tonumber(rects[1].attr.width))
  end)

  it("draws a grid as one group per row, one bar per column", function()
    local qv = sample().questions[5]
    local root = parse(results.svg(qv))
    local groups = children(root, SVG .. "|g")
    assert.are.equal(2, #groups)
    for r, g in ipairs(groups) do
      local rects = rects_of(g)
      assert.are.equal(3, #rects)
      local row = qv.rows[r]
      assert.is_true(contains(texts_of(g), string.format("%s（%d 人作答）", row.label,
        row.answered)))
      for c, cell in ipairs(row.cells) do
        assert.are.equal(string.format("%s - %s：%d 人，占 %.1f%%", row.label, cell.label,
          cell.count, cell.percent), rect_titles(g)[c])
      end
    end
    assert.are.equal(6, #rects_of(root))
  end)

  it("escapes < > & \" ' in labels and titles and reads them back exactly", function()
    local label = [[<"甲&乙">']]
    local q = single({ label, "否" }, { title = [[A & B <"园区">]] })
    local svg = results.svg(tally1(q, { 1 }))
    assert.is_nil(svg:find('<"', 1, true))
    assert.truthy(svg:find("&lt;&quot;甲&amp;乙&quot;&gt;&apos;", 1, true))
    local root = parse(svg)
    assert.are.equal([[A & B <"园区">]], children(root, SVG .. "|title")[1].text)
    assert.is_true(contains(texts_of(root), label))
    assert.are.equal(label .. "：1 人，占 100.0%", rect_titles(root)[1])
    assert.truthy(children(root, SVG .. "|desc")[1].text:find(label, 1, true))
  end)

  it("truncates long labels by characters with …, keeping the full text in the title", function()
    local long = "园区企业服务中心一站式窗口办事效率与服务态度" -- 22 characters
    local mixed = "ab😀cdefghijklmnop" -- 4-byte characters count as one
    local q = single({ long, mixed, "十二个字十二个字十二个字" })
    local root = parse(results.svg(tally1(q, { 1, 2 })))
    local texts = texts_of(root)
    local cut = "园区企业服务中心一站式…"
    assert.are.equal(12, utf8.len(cut))
    assert.is_true(contains(texts, cut))
    assert.is_true(contains(texts, "ab😀cdefghij…"))
    assert.is_true(contains(texts, "十二个字十二个字十二个字")) -- exactly 12: kept
    for _, s in ipairs(texts) do
      assert.truthy(utf8.len(s), "invalid UTF-8 in " .. s)
    end
    assert.are.equal(long .. "：1 人，占 50.0%", rect_titles(root)[1])
    assert.are.equal("园区企业…", results.truncate(long, 5))
  end)

  it("drops characters XML forbids and bytes that are not UTF-8", function()
    local q = single({ "控制\1字符\127", "坏\255字节" })
    local root = parse(results.svg(tally1(q, { 1 })))
    local texts = texts_of(root)
    assert.is_true(contains(texts, "控制字符\127"))
    assert.is_true(contains(texts, "坏字节"))
  end)

  it("makes a valid id from any question id", function()
    local q = single(nil, { id = "满意度 q&1" })
    local root = parse(results.svg(tally1(q, { 1 })))
    local id = children(root, SVG .. "|title")[1].attr.id
    assert.truthy(id:find("^[%a_][%w_.%-]*$"), id)
    assert.are_not.equal(id, children(root, SVG .. "|desc")[1].attr.id)
  end)

  it("holds no script, no external reference and only drawing elements", function()
    local allowed = { svg = true, title = true, desc = true, g = true, text = true, rect = true,
      line = true }
    for _, qv in ipairs(sample().questions) do
      local svg = results.svg(qv)
      if svg then
        assert.is_nil(svg:lower():find("script", 1, true))
        assert.is_nil(svg:find("href", 1, true))
        assert.is_nil(svg:find("url(", 1, true))
        assert.is_nil(svg:find("xlink", 1, true))
        assert.is_nil(svg:find("<?", 1, true))
        assert.is_nil(svg:find("<!", 1, true))
        local function walk(node)
          local name = node.name:match("^" .. SVG:gsub("%p", "%%%0") .. "|(.*)$")
          assert.is_true(allowed[name] == true, "element " .. node.name)
          for k in pairs(node.attr) do
            assert.is_nil(k:lower():find("^on"), "event handler " .. k)
          end
          for _, child in ipairs(node.children) do
            walk(child)
          end
        end
        walk(parse(svg))
      end
    end
  end)

  it("uses the Chinese font stack and colours with AA contrast against white", function()
    for _, qv in ipairs(sample().questions) do
      local svg = results.svg(qv)
      if svg then
        local root = parse(svg)
        assert.are.equal("PingFang SC, Noto Sans CJK SC, Microsoft YaHei, sans-serif",
          root.attr["font-family"])
        local function walk(node)
          for _, k in ipairs({ "fill", "stroke" }) do
            if node.attr[k] and node.attr[k] ~= "none" then
              assert.is_true(contrast(node.attr[k]) >= 4.5, node.attr[k])
            end
          end
          for _, child in ipairs(node.children) do
            walk(child)
          end
        end
        walk(root)
      end
    end
  end)
end)

-- CSV --------------------------------------------------------------------

local CSV_QS = {
  single(),
  { id = "ch", type = "multiple", title = "了解渠道", options = { "网站", "微信", "电话" } },
  { id = "r", type = "rating", title = "评分", scale = { from = -2, to = 2 } },
  { id = "rk", type = "ranking", title = "改进重点", options = { "交通", "餐饮", "停车" } },
  { id = "g", type = "grid", title = "服务评价", rows = { "政务", "物业" },
    columns = { "满意", "一般", "不满意" } },
  { id = "t", type = "text", title = "建议" },
}

local T1, T2 = 1790000000, 1790003661

local function csv_rows()
  return {
    { submitted_at = T1, mode = "anonymous", answers = {
      q1 = 1, ch = { 3, 1 }, r = 2, rk = { 3, 1, 2 }, g = { 1, 3 },
      t = "希望增加班车，早晚各一班" } },
    { submitted_at = T2 + 0.0, mode = "code", answers = {
      q1 = 4.0, ch = { 2.0 }, r = -1.0, rk = { 2 }, g = { 0, 2 },
      t = 'He said "ok"\r\nline 2\nline 3' } },
    { submitted_at = T2, mode = "invite", answers = {} },
  }
end

local HEADER = { "序号", "提交时间", "参与方式", "1. 您对园区服务是否满意？", "2. 了解渠道",
  "3. 评分", "4. 改进重点 - 交通", "4. 改进重点 - 餐饮", "4. 改进重点 - 停车",
  "5. 服务评价 - 政务", "5. 服务评价 - 物业", "6. 建议" }

describe("survey_results.csv", function()
  it("starts with the UTF-8 BOM and ends every record with CRLF", function()
    local csv = results.csv(CSV_QS, csv_rows())
    assert.are.equal(BOM, csv:sub(1, 3))
    assert.are.equal("\r\n", csv:sub(-2))
    assert.is_nil(csv:find(BOM, 4, true))
    -- Outside quoted fields every LF follows a CR.
    local outside = csv:gsub('"[^"]*"', "")
    assert.is_nil(outside:find("[^\r]\n"))
    assert.is_nil(outside:find("\r[^\n]"))
  end)

  it("writes the header row: number, time, mode, then the questions' columns", function()
    local records = csv_records(results.csv(CSV_QS, csv_rows()))
    assert.are.same(HEADER, records[1])
    assert.are.equal(4, #records)
  end)

  it("parses back to the same cells, answers expanded as specified", function()
    local records = csv_records(results.csv(CSV_QS, csv_rows()))
    assert.are.same({ "1", os.date("%Y-%m-%d %H:%M:%S", T1), "匿名", "非常满意", "网站；电话",
      "2", "2", "3", "1", "满意", "不满意", "希望增加班车，早晚各一班" }, records[2])
    assert.are.same({ "2", os.date("%Y-%m-%d %H:%M:%S", T2), "参与码", "不满意", "微信",
      "-1", "", "1", "", "", "一般", 'He said "ok"\r\nline 2\nline 3' }, records[3])
    assert.are.same({ "3", os.date("%Y-%m-%d %H:%M:%S", T2), "邀请", "", "", "", "", "", "",
      "", "", "" }, records[4])
    for _, record in ipairs(records) do
      assert.are.equal(#HEADER, #record)
    end
  end)

  it("quotes fields with commas, quotes, CR or LF, doubling quotes, and only those", function()
    local csv = results.csv(CSV_QS, csv_rows())
    assert.is_nil(csv:find(',"希望增加班车，早晚各一班"', 1, true))
    assert.truthy(csv:find(',希望增加班车，早晚各一班\r\n', 1, true)) -- a full-width comma
    assert.truthy(csv:find(',"He said ""ok""\r\nline 2\nline 3"\r\n', 1, true))
    local q = { id = "t", type = "text", title = "a,b" }
    csv = results.csv({ q }, { { submitted_at = T1, mode = "code",
      answers = { t = 'x,y' } }, { submitted_at = T1, mode = "code", answers = { t = "x\ry" } },
      { submitted_at = T1, mode = "code", answers = { t = 'say "hi"' } } })
    assert.truthy(csv:find(',"1. a,b"\r\n', 1, true))
    assert.truthy(csv:find(',"x,y"\r\n', 1, true))
    assert.truthy(csv:find(',"x\ry"\r\n', 1, true))
    assert.truthy(csv:find(',"say ""hi"""\r\n', 1, true))
    local records = csv_records(csv)
    assert.are.same({ "x,y", "x\ry", 'say "hi"' }, { records[2][4], records[3][4],
      records[4][4] })
  end)

  it("prefixes cells a spreadsheet could read as formulas with a quote", function()
    local q = { id = "t", type = "text", title = "=HYPERLINK(\"http://x\")" }
    local evil = { "=1+1", "+1", "-1+2", "@SUM(A1)", "\tx", "\rx", "=cmd|' /C calc'!A0",
      "-", "safe = ok" }
    local rows = {}
    for i, s in ipairs(evil) do
      rows[i] = { submitted_at = T1, mode = "code", answers = { t = s } }
    end
    local records = csv_records(results.csv({ q }, rows))
    -- A header starts with the question's number, so it is never a formula.
    assert.are.equal("1. =HYPERLINK(\"http://x\")", records[1][4])
    for i, s in ipairs(evil) do
      local want = s:find("^[=+%-@\t\r]") and "'" .. s or s
      assert.are.equal(want, records[i + 1][4])
    end
    -- A label starting with = is guarded too, and a negative rating stays a number.
    local qs = { single({ "=危险", "@x" }), CSV_QS[3] }
    records = csv_records(results.csv(qs, { { submitted_at = T1, mode = "code",
      answers = { q1 = 1, r = -2 } }, { submitted_at = T1, mode = "code",
      answers = { q1 = 2 } } }))
    assert.are.same({ "'=危险", "-2" }, { records[2][4], records[2][5] })
    assert.are.equal("'@x", records[3][4])
    assert.are.equal("-1", results.csv_cell("-1"))
    assert.are.equal("-1.5", results.csv_cell(-1.5))
    assert.are.equal("'-1e3", results.csv_cell("-1e3"))
  end)

  it("keeps Chinese text byte for byte", function()
    local text = "园区管委会：请尽快解决停车难问题！——张三（企业代表）"
    local q = { id = "t", type = "text", title = "意见建议（选填）" }
    local csv = results.csv({ q }, { { submitted_at = T1, mode = "invite",
      answers = { t = text } } })
    assert.truthy(csv:find(text, 1, true))
    local records = csv_records(csv)
    assert.are.equal("1. 意见建议（选填）", records[1][4])
    assert.are.equal(text, records[2][4])
    assert.are.equal("邀请", records[2][3])
  end)

  it("writes only the header when there are no rows", function()
    local csv = results.csv(CSV_QS, {})
    assert.are.same({ HEADER }, csv_records(csv))
  end)
end)

-- The sandbox -----------------------------------------------------------

-- The module loaded again in an environment like the plugin sandbox: only
-- the functions the sandbox gives, reading an undefined global raises,
-- setting one is caught, and require finds only the host's park.text.
describe("survey_results in a sandbox-like environment", function()
  it("needs nothing the sandbox lacks, sets no globals and gives the same output", function()
    local env = {}
    for _, name in ipairs({ "assert", "error", "ipairs", "next", "pairs", "pcall", "xpcall",
      "rawequal", "rawget", "rawlen", "rawset", "select", "tonumber", "tostring", "type",
      "getmetatable", "setmetatable", "print", "string", "table", "math", "utf8",
      "coroutine" }) do
      env[name] = _G[name]
    end
    env.os = { time = os.time, date = os.date, clock = os.clock, difftime = os.difftime }
    env.require = function(name)
      if name == "park.text" then return require("park.text") end
      error("the sandbox has no module " .. tostring(name))
    end
    local set = {}
    setmetatable(env, {
      __index = function(_, k) error("undefined global " .. tostring(k), 2) end,
      __newindex = function(_, k) set[#set + 1] = k end,
    })
    local f = assert(io.open("plugins/survey/survey_results.lua"))
    local src = f:read("a")
    f:close()
    local boxed = assert(load(src, "@survey_results.lua", "t", env))()
    assert.are.same({}, set)
    local t = sample()
    local qs = CSV_QS
    local bt = boxed.tally(qs, { { q1 = 1, rk = { 2, 1, 3 } }, { q1 = 2.0, g = { 1, 2 } } })
    assert.are.same(results.tally(qs, { { q1 = 1, rk = { 2, 1, 3 } },
      { q1 = 2.0, g = { 1, 2 } } }), bt)
    for _, qv in ipairs(t.questions) do
      assert.are.equal(results.svg(qv), boxed.svg(qv))
    end
    assert.are.equal(results.csv(CSV_QS, csv_rows()), boxed.csv(CSV_QS, csv_rows()))
    assert.are.same({}, set)
  end)
end)
