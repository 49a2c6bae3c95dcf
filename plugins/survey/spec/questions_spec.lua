-- survey_questions: parsing staff's text, validating a resident's post and
-- the views for the form. Run from the repository root:
--   build/parkhost test -o TAP plugins/survey/spec/questions_spec.lua
package.path = "plugins/survey/?.lua;" .. package.path
local questions = require("survey_questions")
local cjson = require("cjson")

local MODULE = "plugins/survey/survey_questions.lua"

local EXAMPLE = [[
# a comment line
[single] q1 您对园区政务服务的总体评价？ *
- 非常满意
- 满意
- 一般
- 不满意

[multiple min=1 max=3] q2 您最常办理的事项有哪些？
- 企业注册
- 人才补贴
- 其他

[rating 1-5 低=很不满意 高=非常满意] q3 请为办事效率打分 *

[ranking] q4 请对以下改进方向按重要性排序
- 网上办理
- 窗口服务
- 政策解读

[grid] q5 请评价以下窗口的服务
行:
- 企业服务窗口
- 人才服务窗口
列:
- 满意
- 一般
- 不满意

[text max=500] q6 您的意见和建议
[text max=200 if q1=不满意] q7 请说明不满意的原因 *
]]

local EXPECTED = {
  { id = "q1", type = "single", title = "您对园区政务服务的总体评价？", required = true,
    options = { "非常满意", "满意", "一般", "不满意" } },
  { id = "q2", type = "multiple", title = "您最常办理的事项有哪些？", required = false,
    options = { "企业注册", "人才补贴", "其他" }, min = 1, max = 3 },
  { id = "q3", type = "rating", title = "请为办事效率打分", required = true,
    scale = { from = 1, to = 5, low = "很不满意", high = "非常满意" } },
  { id = "q4", type = "ranking", title = "请对以下改进方向按重要性排序", required = false,
    options = { "网上办理", "窗口服务", "政策解读" } },
  { id = "q5", type = "grid", title = "请评价以下窗口的服务", required = false,
    rows = { "企业服务窗口", "人才服务窗口" }, columns = { "满意", "一般", "不满意" } },
  { id = "q6", type = "text", title = "您的意见和建议", required = false, maxlength = 500 },
  { id = "q7", type = "text", title = "请说明不满意的原因", required = true, maxlength = 200,
    condition = { id = "q1", option = 4 } },
}

local CANONICAL = [[
[single] q1 您对园区政务服务的总体评价？ *
- 非常满意
- 满意
- 一般
- 不满意

[multiple] q2 您最常办理的事项有哪些？
- 企业注册
- 人才补贴
- 其他

[rating 1-5 低=很不满意 高=非常满意] q3 请为办事效率打分 *

[ranking] q4 请对以下改进方向按重要性排序
- 网上办理
- 窗口服务
- 政策解读

[grid] q5 请评价以下窗口的服务
行:
- 企业服务窗口
- 人才服务窗口
列:
- 满意
- 一般
- 不满意

[text] q6 您的意见和建议

[text max=200 if q1=不满意] q7 请说明不满意的原因 *
]]

local function read(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("a")
  f:close()
  return s
end

local function parse(text)
  local qs, err = questions.parse(text)
  assert(qs, err)
  return qs
end

local function parse_error(text)
  local qs, err = questions.parse(text)
  assert.is_nil(qs)
  assert.is_string(err)
  return err
end

-- A get(name) over a table of fields: a string is one value, a list several.
local function form(fields)
  return function(name)
    local v = fields[name]
    if v == nil then return {} end
    if type(v) == "table" then return v end
    return { v }
  end
end

local function messages(errors)
  local out = {}
  for i, e in ipairs(errors) do out[i] = e.id .. " " .. e.message end
  return out
end

local function options(n, prefix)
  local out = {}
  for i = 1, n do out[i] = "- " .. (prefix or "选项") .. i end
  return table.concat(out, "\n")
end

-- Everything the example's form needs for a valid post (q7 hidden).
local VALID = {
  q1 = "2", q2 = { "3", "1" }, q3 = "4", ["q4.1"] = "2", ["q4.2"] = "3", ["q4.3"] = "1",
  ["q5.1"] = "1", ["q5.2"] = "3", q6 = "  希望延长窗口办理时间。\r\n谢谢！  ",
}

local function with(fields, changes)
  local t = {}
  for k, v in pairs(fields) do t[k] = v end
  for k, v in pairs(changes) do
    if v == false then t[k] = nil else t[k] = v end
  end
  return t
end

describe("survey_questions", function()
  describe("parse", function()
    it("parses the example to the question tables", function()
      assert.are.same(EXPECTED, parse(EXAMPLE))
    end)

    it("accepts CRLF, a BOM, full-width spaces, rows:/cols:, comments anywhere", function()
      local text = "\u{FEFF}  # 说明\r\n[grid]\u{3000}q5\u{3000}请评价以下窗口的服务 ＊\r\n"
        .. "Rows:\r\n  -企业服务窗口\r\n# 注释\r\n- 人才服务窗口\u{3000}\r\n\r\ncols：\r\n- 满意\r\n"
        .. "- 一般\r\n- 不满意\r\n"
      local qs = parse(text)
      assert.are.same({ { id = "q5", type = "grid", title = "请评价以下窗口的服务",
                          required = true, rows = { "企业服务窗口", "人才服务窗口" },
                          columns = { "满意", "一般", "不满意" } } }, qs)
      -- Columns may come first.
      qs = parse("[grid] g 评价\n列:\n- 好\n- 差\n行:\n- 甲\n")
      assert.are.same({ "甲" }, qs[1].rows)
      assert.are.same({ "好", "差" }, qs[1].columns)
    end)

    it("reads settings: defaults, min/max, scales, labels, lines", function()
      local qs = parse(table.concat({
        "[multiple] m1 多选", options(4),
        "[multiple min=2] m2 多选", options(4),
        "[multiple max=2] m3 多选", options(4),
        "[rating] r1 打分",
        "[rating 0-10 low=不可能 high=极有可能] r2 推荐",
        "[rating -3-3] r3 倾向",
        "[rating 1～4 高=好] r4 评分",
        "[text] t1 文字",
        "[text max=5000 lines=8] t2 文字",
      }, "\n"))
      assert.are.same({ 1, 4 }, { qs[1].min, qs[1].max })
      assert.are.same({ 2, 4 }, { qs[2].min, qs[2].max })
      assert.are.same({ 1, 2 }, { qs[3].min, qs[3].max })
      assert.are.same({ from = 1, to = 5 }, qs[4].scale)
      assert.are.same({ from = 0, to = 10, low = "不可能", high = "极有可能" }, qs[5].scale)
      assert.are.same({ from = -3, to = 3 }, qs[6].scale)
      assert.are.same({ from = 1, to = 4, high = "好" }, qs[7].scale)
      assert.are.same({ 500 }, { qs[8].maxlength, qs[8].lines })
      assert.are.same({ 5000, 8 }, { qs[9].maxlength, qs[9].lines })
      for _, q in ipairs(qs) do assert.are.equal("integer", math.type(q.min or 1)) end
    end)

    it("reads conditions by option text or number, on single and multiple questions", function()
      local qs = parse(table.concat({
        "[single] a 单选", "- 是", "- 否 ]", "- 2",
        "[multiple] b 多选", "- 企业 注册", "- 其他",
        "[text if a=2] c 文字",       -- the option "2" (the third), not the second option
        "[text if a=1] d 文字",       -- no option "1": the first option
        "[text if b=企业 注册] e 文字", -- spaces inside an option
        "[text if a=否 ] ] f 文字",    -- "]" inside an option
        "[single if b = 其他 ] g 单选 *", "- 甲", "- 乙",
        "[text if g=乙] h 文字",       -- a chain
      }, "\n"))
      assert.are.same({ id = "a", option = 3 }, qs[3].condition)
      assert.are.same({ id = "a", option = 1 }, qs[4].condition)
      assert.are.same({ id = "b", option = 1 }, qs[5].condition)
      assert.are.same({ id = "a", option = 2 }, qs[6].condition)
      assert.are.equal("f", qs[6].id)
      assert.are.same({ id = "b", option = 2 }, qs[7].condition)
      assert.is_true(qs[7].required)
      assert.are.same({ id = "g", option = 2 }, qs[8].condition)
    end)

    it("accepts the limits exactly: 300-character titles, 200-character options, 100 questions",
      function()
        local long_title, long_option = ("题"):rep(300), ("项"):rep(200)
        local qs = parse("[single] q1 " .. long_title .. "\n- " .. long_option .. "\n- 否\n")
        assert.are.equal(long_title, qs[1].title)
        assert.are.equal(long_option, qs[1].options[1])
        local many = {}
        for i = 1, 100 do many[i] = ("[text] t%d 第%d题"):format(i, i) end
        assert.are.equal(100, #parse(table.concat(many, "\n")))
        assert.are.equal(50, #parse("[single] s 单选\n" .. options(50))[1].options)
        assert.are.equal(20, #parse("[ranking] s 排序\n" .. options(20))[1].options)
        local grid = parse("[grid] g 矩阵\n行:\n" .. options(30, "行") .. "\n列:\n" .. options(10, "列"))
        assert.are.same({ 30, 10 }, { #grid[1].rows, #grid[1].columns })
        local id = "a" .. ("b"):rep(31)
        assert.are.equal(id, parse("[text] " .. id .. " 文字")[1].id)
      end)

    local ERRORS = {
      { "unknown type", "[single] q1 甲\n- a\n- b\n[singel] q2 乙\n- a\n- b",
        "第 4 行：未知的题型 [singel]（可用的题型：single、multiple、rating、ranking、grid、text）" },
      { "no type", "[] q1 甲", "第 1 行：缺少题型，例如 [single]" },
      { "no ]", "[single q1 甲", "第 1 行：缺少“]”" },
      { "bad id: upper case", "[text] Q1 甲",
        "第 1 行：编号“Q1”不合规：须以小写英文字母开头，只用小写字母、数字和下划线，最多 32 个字符" },
      { "bad id: digit first", "\n\n[text] 1q 甲", "第 3 行：编号“1q”不合规" },
      { "bad id: too long", "[text] a" .. ("b"):rep(32) .. " 甲", "第 1 行：编号“ab" },
      { "bad id: title glued to it", "[text] q1甲", "第 1 行：编号“q1甲”不合规" },
      { "no id", "[text]", "第 1 行：缺少编号和标题" },
      { "no title", "[text] q1 *", "第 1 行：缺少标题" },
      { "two stars", "[text] q1 甲 **", "第 1 行：标题末尾只能有一个 *（表示必答）" },
      { "duplicate id", "[text] q1 甲\n\n[text] q1 乙", "第 3 行：编号 q1 重复：第 1 行已经用过" },
      { "duplicate option", "[single] q1 甲\n- 满意\n- 一般\n# x\n\n\n- 满意",
        "第 7 行：选项重复“满意”" },
      { "duplicate option after trimming", "[single] q1 甲\n- 满意\n-   满意\u{3000}",
        "第 3 行：选项重复“满意”" },
      { "duplicate row", "[grid] g 甲\n行:\n- a\n- a", "第 4 行：行重复“a”" },
      { "duplicate column", "[grid] g 甲\n行:\n- a\n列:\n- x\n- x", "第 6 行：列重复“x”" },
      { "too few options", "[single] q1 甲\n- 是\n[text] q2 乙", "第 1 行：选项太少：至少要 2 个，现有 1 个" },
      { "no options at the end", "[text] q0 甲\n[multiple] q1 甲",
        "第 2 行：选项太少：至少要 2 个，现有 0 个" },
      { "ranking with one option", "[ranking] r 甲\n- a", "第 1 行：选项太少：至少要 2 个，现有 1 个" },
      { "too many options", "[single] q1 甲\n" .. options(51), "第 52 行：选项太多：最多 50 个" },
      { "too many ranking options", "[ranking] q1 甲\n" .. options(21), "第 22 行：选项太多：最多 20 个" },
      { "empty option", "[single] q1 甲\n- a\n-  ", "第 3 行：选项不能是空的" },
      { "option too long", "[single] q1 甲\n- a\n- " .. ("长"):rep(201),
        "第 3 行：选项太长：201 字，最多 200 字" },
      { "option before any question", "# x\n- a", "第 2 行：选项前面缺少题目" },
      { "option on a text question", "[text] q1 甲\n- a", "第 2 行：文字题没有选项" },
      { "option on a rating question", "[rating] q1 甲\n- a", "第 2 行：评分题没有选项" },
      { "min=0", "[multiple min=0] q1 甲\n- a\n- b", "第 1 行：min 至少为 1" },
      { "min > max", "[multiple min=3 max=2] q1 甲\n" .. options(4), "第 1 行：min=3 大于 max=2" },
      { "max > options", "[multiple max=4] q1 甲\n" .. options(3), "第 1 行：max=4 超过了选项数 3" },
      { "min > options", "[multiple min=4] q1 甲\n" .. options(3), "第 1 行：min=4 超过了选项数 3" },
      { "max not a number", "[multiple max=three] q1 甲\n" .. options(3),
        "第 1 行：“max=three”不对：max 须是正整数" },
      { "max twice", "[multiple max=2 max=3] q1 甲\n" .. options(3), "第 1 行：重复的设置 max" },
      { "min on single", "[single min=1] q1 甲\n" .. options(3), "第 1 行：单选题不能设置 min" },
      { "unknown setting", "[single foo] q1 甲\n" .. options(3), "第 1 行：看不懂的设置“foo”" },
      { "scale backwards", "[rating 5-1] q1 甲",
        "第 1 行：评分范围“5-1”不对：须是 A-B 形式的整数，A 小于 B，共 2 到 11 档" },
      { "scale of one point", "[rating 3-3] q1 甲", "第 1 行：评分范围“3-3”不对" },
      { "scale too long", "[rating 0-11] q1 甲", "第 1 行：评分范围“0-11”不对" },
      { "scale on a single", "[single 1-5] q1 甲\n" .. options(3), "第 1 行：单选题不能设置“1-5”" },
      { "scale twice", "[rating 1-5 1-4] q1 甲", "第 1 行：重复的设置“1-4”" },
      { "empty end label", "[rating 1-5 低=] q1 甲", "第 1 行：“低=”后面缺少文字" },
      { "end label too long", "[rating 1-5 高=" .. ("好"):rep(51) .. "] q1 甲",
        "第 1 行：“高=”的文字太长：51 字，最多 50 字" },
      { "text max too big", "[text max=5001] q1 甲", "第 1 行：max 须在 1 到 5000 之间" },
      { "text max=0", "[text max=0] q1 甲", "第 1 行：max 须在 1 到 5000 之间" },
      { "text lines=0", "[text lines=0] q1 甲", "第 1 行：lines 须在 1 到 30 之间" },
      { "grid without rows", "[grid] g 甲\n列:\n- x\n- y\n[text] t 乙",
        "第 1 行：矩阵题缺少行：在“行:”下面列出至少 1 行" },
      { "grid without columns", "[grid] g 甲\n行:\n- a",
        "第 1 行：矩阵题至少要 2 列（在“列:”下面列出），现有 0 列" },
      { "grid with one column", "[grid] g 甲\n行:\n- a\n列:\n- x",
        "第 1 行：矩阵题至少要 2 列（在“列:”下面列出），现有 1 列" },
      { "grid item before 行:", "[grid] g 甲\n- a", "第 2 行：矩阵题的行和列须写在“行:”或“列:”下面" },
      { "行: twice", "[grid] g 甲\n行:\n- a\n列:\n- x\n- y\n行:", "第 7 行：重复的“行:”" },
      { "too many rows", "[grid] g 甲\n行:\n" .. options(31), "第 33 行：行太多：最多 30 行" },
      { "too many columns", "[grid] g 甲\n行:\n- a\n列:\n" .. options(11), "第 15 行：列太多：最多 10 列" },
      { "行: on a single", "[single] q1 甲\n行:", "第 2 行：只有矩阵题（grid）才有“行:”和“列:”" },
      { "condition on a later question",
        "[single] q1 甲\n- a\n- b\n[text if q9=a] q2 乙\n[single] q9 丙\n- a\n- b",
        "第 4 行：条件引用的题目 q9 不在本题之前" },
      { "condition on no question", "[single] q1 甲\n- a\n- b\n[text if q9=a] q2 乙",
        "第 4 行：条件引用的题目 q9 不存在" },
      { "condition on itself", "[single if q1=a] q1 甲\n- a\n- b", "第 1 行：条件不能引用本题" },
      { "condition on a rating", "[rating] r 甲\n[text if r=1] t 乙",
        "第 2 行：条件引用的第 1 题（r）不是单选题或多选题" },
      { "condition on a ranking", "[ranking] r 甲\n- a\n- b\n[text if r=a] t 乙",
        "第 4 行：条件引用的第 1 题（r）不是单选题或多选题" },
      { "condition on an unknown option", "[single] q1 甲\n- 满意\n- 不满意\n[text if q1=很满意] t 乙",
        "第 4 行：条件中的选项“很满意”不在第 1 题（q1）的选项里" },
      { "condition on an option number out of range", "[single] q1 甲\n- a\n- b\n[text if q1=3] t 乙",
        "第 4 行：条件中的选项“3”不在第 1 题（q1）的选项里" },
      { "condition without =", "[single] q1 甲\n- a\n- b\n[text if q1] t 乙",
        "第 4 行：条件须写成“if 编号=选项”" },
      { "title too long", "[text] q1 " .. ("题"):rep(301), "第 1 行：标题太长：301 字，最多 300 字" },
      { "a line that is none of these", "[text] q1 甲\n1. 选项", "第 2 行：看不懂这一行" },
      { "bad UTF-8", "[text] q1 甲\n[text] q2 \xff\xfe", "第 2 行：含有无效的字符（不是 UTF-8 文字）" },
      { "a control character", "[text] q1 甲\x1b", "第 1 行：含有控制字符" },
      { "no question at all", "# 只有注释\n\n", "还没有题目" },
    }
    for _, case in ipairs(ERRORS) do
      it("reports " .. case[1] .. " with its line", function()
        local err = parse_error(case[2])
        assert.are.equal(case[3], err:sub(1, #case[3]))
      end)
    end

    it("reports too many questions on the 101st", function()
      local many = {}
      for i = 1, 101 do many[i] = ("[text] t%d 第%d题"):format(i, i) end
      assert.are.equal("第 101 行：题目太多：最多 100 题", parse_error(table.concat(many, "\n")))
    end)

    it("reports the first problem by line", function()
      assert.are.equal("第 3 行：选项重复“a”", parse_error("[single] q1 甲\n- a\n- a\n[singel] q2 乙"))
      assert.are.equal("第 1 行：选项太少：至少要 2 个，现有 1 个",
        parse_error("[single] q1 甲\n- a\n[singel] q2 乙"))
    end)

    it("is not text", function()
      assert.are.same({ nil, "问卷的题目须是文字" }, { questions.parse(nil) })
    end)

    it("parses in linear time", function()
      -- 100 questions of 50 options of 200 characters, and a 2 MB comment.
      local lines = { "#" .. (" "):rep(2000000) }
      for i = 1, 100 do
        lines[#lines + 1] = ("[multiple max=3 if q1=%s01] q%d %s"):format(("选"):rep(198), i,
          ("题"):rep(300))
        for k = 1, 50 do lines[#lines + 1] = ("- %s%02d"):format(("选"):rep(198), k) end
      end
      lines[2] = "[multiple max=3] q1 " .. ("题"):rep(300)
      local text = table.concat(lines, "\n")
      local t0 = os.clock()
      local qs = parse(text)
      local dt = os.clock() - t0
      assert.are.equal(100, #qs)
      assert.is_true(dt < 1, ("took %.3f s"):format(dt))
      -- A header line of 1 MB of spaces and "x=" settings.
      t0 = os.clock()
      parse_error("[text " .. (" "):rep(1000000) .. ("a=b "):rep(100000))
      parse_error("[text" .. (" "):rep(1000000))
      assert.is_true(os.clock() - t0 < 1)
    end)
  end)

  describe("to_text", function()
    it("writes the canonical form", function()
      local qs = parse(EXAMPLE)
      assert.are.equal(CANONICAL, questions.to_text(qs))
      assert.are.same(qs, parse(questions.to_text(qs)))
    end)

    it("round-trips every kind of setting and condition", function()
      local text = table.concat({
        "[single] a 单选 *", "- 是", "- 否 ]", "- 2", "- 3",
        "[multiple min=2 max=3] b 多选", "- 企业 注册", "- 其他", "- 1", "- x",
        "[multiple min=2] b2 多选", options(3),
        "[rating -3-3 低=反对] r 打分 *",
        "[rating 0-10] r2 推荐",
        "[ranking if a=3] k 排序", options(3),
        "[grid if b=企业 注册] g 矩阵 *", "列:", "- 好", "- 差", "rows:", "- 行 1",
        "[text lines=3 max=300 if a=2] t 文字",
        "[text if a=否 ]] t2 文字 #不是注释",
        "[single if b=1] s 单选", "- *", "- # 井号",
      }, "\n")
      local qs = parse(text)
      local out = questions.to_text(qs)
      assert.are.same(qs, parse(out))
      assert.are.equal(out, questions.to_text(parse(out)))
      assert.is_truthy(out:find("[multiple min=2 max=3] b 多选\n", 1, true))
      assert.is_truthy(out:find("[rating -3-3 低=反对] r 打分 *\n", 1, true))
      assert.is_truthy(out:find("[text max=300 lines=3 if a=2] t 文字\n", 1, true))
      assert.is_truthy(out:find("[text if a=否 ]] t2 文字 #不是注释\n", 1, true))
      assert.is_truthy(out:find("[grid if b=企业 注册] g 矩阵 *\n行:\n- 行 1\n列:\n- 好\n- 差\n",
        1, true))
      assert.are.same({ id = "b", option = 3 }, qs[#qs].condition)
    end)

    it("writes questions decoded from JSON (floats) as their integers", function()
      local qs = parse(EXAMPLE)
      local decoded = cjson.decode(cjson.encode(qs))
      assert.are.equal("float", math.type(decoded[7].condition.option))
      assert.are.equal(CANONICAL, questions.to_text(decoded))
      assert.are.same(qs, parse(questions.to_text(decoded)))
    end)
  end)

  describe("validate", function()
    local qs = parse(EXAMPLE)

    it("gives the answers of a valid post", function()
      local answers, errors, kept = questions.validate(qs, form(VALID))
      assert.are.same({}, errors)
      assert.are.same({
        q1 = 2, q2 = { 1, 3 }, q3 = 4, q4 = { 3, 1, 2 }, q5 = { 1, 3 },
        q6 = "希望延长窗口办理时间。\n谢谢！",
      }, answers)
      for _, k in ipairs({ "q1", "q3" }) do assert.are.equal("integer", math.type(answers[k])) end
      assert.are.same({ q1 = 2, q2 = { 1, 3 }, q3 = 4, q4 = { ranks = { 2, 3, 1 } }, q5 = { 1, 3 },
                        q6 = "  希望延长窗口办理时间。\n谢谢！  " }, kept)
    end)

    it("asks for the required questions of an empty post, in words", function()
      local answers, errors = questions.validate(qs, form({}))
      assert.are.same({}, answers)
      assert.are.same({
        { id = "q1", message = "第 1 题“您对园区政务服务的总体评价？”：请选择一项" },
        { id = "q3", message = "第 3 题“请为办事效率打分”：请选择一个分数" },
      }, errors)
    end)

    it("shortens long titles in messages", function()
      local q = parse("[text] t " .. ("长"):rep(30) .. " *")
      local _, errors = questions.validate(q, form({}))
      assert.are.equal("第 1 题“" .. ("长"):rep(20) .. "…”：请填写", errors[1].message)
    end)

    local function check(fields)
      local answers, errors, kept = questions.validate(qs, form(with(VALID, fields)))
      return answers, messages(errors), kept
    end

    describe("single", function()
      it("refuses forged values", function()
        for _, v in ipairs({ "99", "0", "5", "-1", "abc", "01", "1.0", " 2", "2 " }) do
          local answers, errors, kept = check({ q1 = v })
          assert.are.same({ "q1 第 1 题“您对园区政务服务的总体评价？”：所选的选项不存在，请重新选择" },
            errors, v)
          assert.is_nil(answers.q1)
          assert.is_nil(kept.q1)
        end
        local _, errors = check({ q1 = { "1", "2" } })
        assert.are.same({ "q1 第 1 题“您对园区政务服务的总体评价？”：只能选择一项" }, errors)
      end)

      it("takes an empty value as none", function()
        local _, errors = check({ q1 = "" })
        assert.are.same({ "q1 第 1 题“您对园区政务服务的总体评价？”：请选择一项" }, errors)
      end)
    end)

    describe("multiple", function()
      local mq = parse("[multiple min=2 max=3] m 办理事项\n" .. options(5)
        .. "\n[multiple] n 其他事项 *\n" .. options(3))

      local function post(m, n)
        local answers, errors = questions.validate(mq, form({ m = m, n = n or "1" }))
        return answers, messages(errors)
      end

      it("gives the sorted option numbers", function()
        local answers, errors = post({ "5", "2", "3" }, { "3", "1", "2" })
        assert.are.same({}, errors)
        assert.are.same({ m = { 2, 3, 5 }, n = { 1, 2, 3 } }, answers)
      end)

      it("enforces min and max, and skips a question not required and not answered", function()
        assert.are.same({ "m 第 1 题“办理事项”：至少选 2 项，现在选了 1 项" }, select(2, post({ "4" })))
        assert.are.same({ "m 第 1 题“办理事项”：最多选 3 项，现在选了 4 项" },
          select(2, post({ "1", "2", "3", "4" })))
        local answers, errors = post({})
        assert.are.same({}, errors)
        assert.are.same({ n = { 1 } }, answers)
      end)

      it("asks for a required one", function()
        assert.are.same({ "n 第 2 题“其他事项”：请至少选择一项" }, select(2, post({}, {})))
        local r = parse("[multiple min=2] r 事项 *\n" .. options(3))
        local _, errors = questions.validate(r, form({}))
        assert.are.same({ "r 第 1 题“事项”：请至少选择 2 项" }, messages(errors))
      end)

      it("refuses forged and repeated values", function()
        assert.are.same({ "m 第 1 题“办理事项”：所选的选项不存在，请重新选择" },
          select(2, post({ "1", "99" })))
        assert.are.same({ "m 第 1 题“办理事项”：所选的选项不存在，请重新选择" },
          select(2, post({ "1", "0", "2" })))
        assert.are.same({ "m 第 1 题“办理事项”：同一选项只能选一次" }, select(2, post({ "1", "1" })))
      end)
    end)

    describe("rating", function()
      it("takes the scale's bounds and refuses what lies outside", function()
        assert.are.equal(1, (check({ q3 = "1" })).q3)
        assert.are.equal(5, (check({ q3 = "5" })).q3)
        for _, v in ipairs({ "0", "6", "3.5", "-1", "x", "05" }) do
          local answers, errors = check({ q3 = v })
          assert.are.same({ "q3 第 3 题“请为办事效率打分”：评分须在 1 到 5 之间" }, errors, v)
          assert.is_nil(answers.q3)
        end
        assert.are.same({ "q3 第 3 题“请为办事效率打分”：只能选择一个分数" },
          select(2, check({ q3 = { "3", "4" } })))
        assert.are.same({ "q3 第 3 题“请为办事效率打分”：请选择一个分数" }, select(2, check({ q3 = "" })))
      end)

      it("takes negative and zero points", function()
        local r = parse("[rating -3-3] r 倾向\n[rating 0-10] s 推荐")
        local answers, errors = questions.validate(r, form({ r = "-3", s = "0" }))
        assert.are.same({}, errors)
        assert.are.same({ r = -3, s = 0 }, answers)
        errors = select(2, questions.validate(r, form({ r = "-4", s = "11" })))
        assert.are.same({ "r 第 1 题“倾向”：评分须在 -3 到 3 之间",
                          "s 第 2 题“推荐”：评分须在 0 到 10 之间" }, messages(errors))
      end)
    end)

    describe("ranking", function()
      local rq = parse("[ranking] r 排序 *\n" .. options(3) .. "\n[ranking] s 排序二\n" .. options(2))

      local function post(fields)
        local answers, errors, kept = questions.validate(rq, form(fields))
        return answers, messages(errors), kept
      end

      it("gives the option numbers in rank order", function()
        local answers, errors = post({ ["r.1"] = "3", ["r.2"] = "1", ["r.3"] = "2" })
        assert.are.same({}, errors)
        assert.are.same({ r = { 2, 3, 1 } }, answers)
      end)

      it("refuses ranks out of range, repeated ranks and partial orders", function()
        for _, v in ipairs({ "0", "4", "x", "-1" }) do
          local answers, errors, kept = post({ ["r.1"] = v, ["r.2"] = "1", ["r.3"] = "2" })
          assert.are.same({ "r 第 1 题“排序”：名次须在 1 到 3 之间，每项一个" }, errors, v)
          assert.is_nil(answers.r)
          assert.are.same({ ranks = { 0, 1, 2 } }, kept.r)
        end
        local _, errors, kept = post({ ["r.1"] = "1", ["r.2"] = "1", ["r.3"] = "2" })
        assert.are.same({ "r 第 1 题“排序”：每个名次只能用一次" }, errors)
        assert.are.same({ ranks = { 1, 1, 2 } }, kept.r)
        _, errors, kept = post({ ["r.1"] = "2", ["r.3"] = "" })
        assert.are.same({ "r 第 1 题“排序”：请为每一项选择名次，还有 2 项没有名次" }, errors)
        assert.are.same({ ranks = { 2, 0, 0 } }, kept.r)
        _, errors = post({ ["r.1"] = { "1", "2" }, ["r.2"] = "3", ["r.3"] = "2" })
        assert.are.same({ "r 第 1 题“排序”：名次须在 1 到 3 之间，每项一个" }, errors)
        -- A question not required: nothing or a full order.
        _, errors = post({ ["r.1"] = "1", ["r.2"] = "2", ["r.3"] = "3", ["s.2"] = "1" })
        assert.are.same({ "s 第 2 题“排序二”：请为每一项选择名次，还有 1 项没有名次" }, errors)
      end)

      it("asks for a required one, and skips one not required", function()
        local answers, errors = post({})
        assert.are.same({ "r 第 1 题“排序”：请为每一项选择名次" }, errors)
        assert.are.same({}, answers)
      end)
    end)

    describe("grid", function()
      it("gives one column per row, 0 for rows left out when not required", function()
        assert.are.same({ 1, 3 }, (check({})).q5)
        local answers, errors = check({ ["q5.1"] = false })
        assert.are.same({}, errors)
        assert.are.same({ 0, 3 }, answers.q5)
        answers = check({ ["q5.1"] = false, ["q5.2"] = "" })
        assert.is_nil(answers.q5)
      end)

      it("refuses forged columns", function()
        for _, v in ipairs({ "7", "0", "4", "二" }) do
          local answers, errors, kept = check({ ["q5.2"] = v })
          assert.are.same({ "q5 第 5 题“请评价以下窗口的服务”：“人才服务窗口”一行的选择无效，请重新选择" },
            errors, v)
          assert.is_nil(answers.q5)
          assert.are.same({ 1, 0 }, kept.q5)
        end
      end)

      it("asks for every row of a required one, naming them", function()
        local g = parse("[grid] g 评价 *\n行:\n" .. options(5, "窗口") .. "\n列:\n- 好\n- 差")
        local answers, errors, kept = questions.validate(g, form({ ["g.2"] = "2" }))
        assert.are.same({}, answers)
        assert.are.same({ "g 第 1 题“评价”：请为每一行选择一项，还没有选择：“窗口1”、“窗口3”、“窗口4” 等 4 行" },
          messages(errors))
        assert.are.same({ 0, 2, 0, 0, 0 }, kept.g)
        errors = select(2, questions.validate(g, form({ ["g.1"] = "1", ["g.2"] = "2",
                                                          ["g.5"] = "1" })))
        assert.are.same({ "g 第 1 题“评价”：请为每一行选择一项，还没有选择：“窗口3”、“窗口4”" },
          messages(errors))
        answers, errors = questions.validate(g, form({ ["g.1"] = "1", ["g.2"] = "2", ["g.3"] = "2",
                                                       ["g.4"] = "1", ["g.5"] = "1" }))
        assert.are.same({}, errors)
        assert.are.same({ g = { 1, 2, 2, 1, 1 } }, answers)
      end)
    end)

    describe("text", function()
      it("counts characters, not bytes", function()
        local long = ("字"):rep(500)
        local answers, errors = check({ q6 = long })
        assert.are.same({}, errors)
        assert.are.equal(long, answers.q6)
        local too_long = long .. "多"
        local kept
        answers, errors, kept = check({ q6 = too_long })
        assert.are.same({ "q6 第 6 题“您的意见和建议”：不能超过 500 字，现在有 501 字" }, errors)
        assert.is_nil(answers.q6)
        assert.are.equal(too_long, kept.q6)
        -- Emoji are one character each; spaces at the ends do not count.
        answers, errors = check({ q6 = "\u{3000} " .. ("😀"):rep(500) .. " \n" })
        assert.are.same({}, errors)
        assert.are.equal(("😀"):rep(500), answers.q6)
        -- A CRLF counts as one character, as the browser's maxlength counts it.
        local lines = ("一\r\n"):rep(249) .. "二"
        answers, errors = check({ q6 = lines })
        assert.are.same({}, errors)
        assert.are.equal(("一\n"):rep(249) .. "二", answers.q6)
      end)

      it("leaves an empty text out, and asks for a required one", function()
        local answers = check({ q6 = " \u{3000}\r\n " })
        assert.is_nil(answers.q6)
        local t = parse("[text] t 意见 *")
        local _, errors = questions.validate(t, form({ t = "   " }))
        assert.are.same({ "t 第 1 题“意见”：请填写" }, messages(errors))
      end)

      it("refuses bad UTF-8, control characters and repeated fields", function()
        local _, errors, kept = check({ q6 = "意见\xff" })
        assert.are.same({ "q6 第 6 题“您的意见和建议”：含有无效的字符，请重新填写" }, errors)
        assert.is_nil(kept.q6)
        _, errors, kept = check({ q6 = "意\0见\27" })
        assert.are.same({ "q6 第 6 题“您的意见和建议”：含有不能显示的控制字符，请删除后再提交" }, errors)
        assert.are.equal("意见", kept.q6)
        _, errors = check({ q6 = { "一", "二" } })
        assert.are.same({ "q6 第 6 题“您的意见和建议”：只能填写一段文字" }, errors)
      end)
    end)

    describe("conditions", function()
      it("ignores a hidden question, even when it is posted", function()
        for _, v in ipairs({ "", ("太长"):rep(200), { "a", "b" }, "\xff" }) do
          local answers, errors, kept = check({ q1 = "3", q7 = v })
          assert.are.same({}, errors)
          assert.is_nil(answers.q7)
          assert.are.equal(3, answers.q1)
          if v == "" then assert.is_nil(kept.q7) end
        end
        -- Nor when q1 is not answered or wrong.
        local answers, errors = check({ q1 = false, q7 = ("太长"):rep(200) })
        assert.are.same({ "q1 第 1 题“您对园区政务服务的总体评价？”：请选择一项" }, errors)
        assert.is_nil(answers.q7)
        errors = select(2, check({ q1 = "99" }))
        assert.are.same(1, #errors)
      end)

      it("checks a shown question, as required", function()
        local answers, errors = check({ q1 = "4" })
        assert.are.same({ "q7 第 7 题“请说明不满意的原因”：请填写" }, errors)
        assert.is_nil(answers.q7)
        answers, errors = check({ q1 = "4", q7 = ("长"):rep(201) })
        assert.is_nil(answers.q7)
        assert.are.same({ "q7 第 7 题“请说明不满意的原因”：不能超过 200 字，现在有 201 字" }, errors)
        answers, errors = check({ q1 = "4", q7 = " 排队太久 " })
        assert.are.same({}, errors)
        assert.are.equal("排队太久", answers.q7)
        assert.are.equal(4, answers.q1)
      end)

      it("checks it when another question has an error", function()
        local _, errors = check({ q1 = "4", q3 = "9" })
        assert.are.same({ "q3 第 3 题“请为办事效率打分”：评分须在 1 到 5 之间",
                          "q7 第 7 题“请说明不满意的原因”：请填写" }, errors)
      end)

      it("follows multiple questions and chains", function()
        local c = parse(table.concat({
          "[multiple] m 事项", "- 注册", "- 补贴", "- 其他",
          "[single if m=其他] s 其他事项是否办结 *", "- 是", "- 否",
          "[text if s=否] t 为什么 *",
        }, "\n"))
        local function post(fields)
          local answers, errors = questions.validate(c, form(fields))
          return answers, messages(errors)
        end
        local answers, errors = post({ m = { "1" }, s = "9", t = "x" })
        assert.are.same({}, errors)
        assert.are.same({ m = { 1 } }, answers)
        errors = select(2, post({ m = { "1", "3" } }))
        assert.are.same({ "s 第 2 题“其他事项是否办结”：请选择一项" }, errors)
        errors = select(2, post({ m = { "3" }, s = "2" }))
        assert.are.same({ "t 第 3 题“为什么”：请填写" }, errors)
        answers, errors = post({ m = { "3" }, s = "2", t = "没空" })
        assert.are.same({}, errors)
        assert.are.same({ m = { 3 }, s = 2, t = "没空" }, answers)
        -- s hidden: t hidden too, whatever s says.
        answers, errors = post({ m = { "1" }, s = "2" })
        assert.are.same({}, errors)
        assert.are.same({ m = { 1 } }, answers)
      end)
    end)

    it("keeps what can refill the form after an error", function()
      local answers, errors, kept = questions.validate(qs, form({
        q1 = "4", q2 = { "1", "2", "99" }, q3 = "7", ["q4.1"] = "1", ["q4.2"] = "1",
        ["q5.1"] = "2", ["q5.2"] = "8", q6 = ("字"):rep(501), q7 = "",
      }))
      assert.are.same({ q1 = 4 }, answers)
      assert.are.same({ "q2", "q3", "q4", "q5", "q6", "q7" },
        (function()
          local ids = {}
          for i, e in ipairs(errors) do ids[i] = e.id end
          return ids
        end)())
      assert.are.same({ q1 = 4, q2 = { 1, 2 }, q4 = { ranks = { 1, 1, 0 } }, q5 = { 2, 0 },
                        q6 = ("字"):rep(501) }, kept)
    end)

    it("reads values given as numbers, floats too", function()
      local answers, errors = questions.validate(qs, form(with(VALID, {
        q1 = 2.0, q2 = { 1, 3.0 }, q3 = 4.0, ["q4.1"] = 2.0, ["q5.1"] = 1.0,
      })))
      assert.are.same({}, errors)
      assert.are.same({ 1, 3 }, answers.q2)
      assert.are.equal("integer", math.type(answers.q1))
      errors = select(2, questions.validate(qs, form(with(VALID, { q1 = 2.5 }))))
      assert.are.equal(1, #errors)
    end)
  end)

  describe("visible", function()
    local qs = parse(EXAMPLE)
    it("says whether the condition holds", function()
      assert.is_true(questions.visible(qs, nil, qs[1]))
      assert.is_false(questions.visible(qs, nil, qs[7]))
      assert.is_false(questions.visible(qs, { q1 = 3 }, qs[7]))
      assert.is_true(questions.visible(qs, { q1 = 4 }, qs[7]))
      assert.is_true(questions.visible(qs, { q1 = 4.0 }, "q7"))
    end)

    it("follows chains and multiple answers", function()
      local c = parse("[multiple] m 事项\n- a\n- b\n[single if m=b] s 是否\n- 是\n- 否\n"
        .. "[text if s=否] t 为什么")
      assert.is_true(questions.visible(c, { m = { 1, 2 } }, c[2]))
      assert.is_false(questions.visible(c, { m = { 1 } }, c[2]))
      assert.is_true(questions.visible(c, { m = { 2 }, s = 2 }, c[3]))
      -- s's answer counts only while s is visible.
      assert.is_false(questions.visible(c, { m = { 1 }, s = 2 }, c[3]))
    end)
  end)

  describe("view", function()
    local qs = parse(EXAMPLE)

    it("draws an empty form", function()
      local v = questions.view(qs)
      assert.are.equal(7, #v)
      assert.are.same({
        n = 1, id = "q1", type = "single", title = "您对园区政务服务的总体评价？", required = true,
        fieldset = true, legend = "您对园区政务服务的总体评价？", error_id = "q1-error",
        options = {
          { n = 1, label = "非常满意", name = "q1", value = "1", id = "q1-o1", checked = false },
          { n = 2, label = "满意", name = "q1", value = "2", id = "q1-o2", checked = false },
          { n = 3, label = "一般", name = "q1", value = "3", id = "q1-o3", checked = false },
          { n = 4, label = "不满意", name = "q1", value = "4", id = "q1-o4", checked = false },
        },
      }, v[1])
      assert.are.same({ "（可多选）", "（1 表示很不满意，5 表示非常满意）",
                        "（1 表示最重要，每个名次只用一次）", "（每行选择一项）", "（不超过 500 字）",
                        "（不超过 200 字）" },
        { v[2].hint, v[3].hint, v[4].hint, v[5].hint, v[6].hint, v[7].hint })
      assert.are.same({ "q2-hint", "q2-hint" }, { v[2].hint_id, v[2].describedby })
      assert.are.same({
        n = 7, id = "q7", type = "text", title = "请说明不满意的原因", required = true,
        fieldset = false, error_id = "q7-error", hint = "（不超过 200 字）", hint_id = "q7-hint",
        condition_text = "（仅当第 1 题选择“不满意”时回答）", condition_id = "q7-cond",
        describedby = "q7-cond q7-hint",
        name = "q7", value = "", maxlength = 200, lines = 5,
      }, v[7])
      -- Rating: one option per point, the end labels on the ends.
      assert.are.same({ from = 1, to = 5, low = "很不满意", high = "非常满意" }, v[3].scale)
      assert.are.same({ n = 1, label = "1", name = "q3", value = "1", id = "q3-o1",
                        checked = false, note = "很不满意" }, v[3].options[1])
      assert.are.same({ n = 5, label = "5", name = "q3", value = "5", id = "q3-o5",
                        checked = false, note = "非常满意" }, v[3].options[5])
      assert.is_nil(v[3].options[3].note)
      assert.are.same({ n = 2, label = "窗口服务", name = "q4.2", id = "q4-o2", ranks = { 1, 2, 3 } },
        v[4].options[2])
      assert.are.same({ "满意", "一般", "不满意" }, v[5].columns)
      assert.are.same({ n = 2, label = "人才服务窗口", name = "q5.2", id = "q5-r2", cells = {
        { n = 1, label = "满意", value = "1", id = "q5-r2-c1", checked = false },
        { n = 2, label = "一般", value = "2", id = "q5-r2-c2", checked = false },
        { n = 3, label = "不满意", value = "3", id = "q5-r2-c3", checked = false },
      } }, v[5].rows[2])
    end)

    it("refills the form after an error, with the messages", function()
      local _, errors, kept = questions.validate(qs, form({
        q1 = "4", q2 = { "3", "1" }, q3 = "9", ["q4.1"] = "2", ["q4.3"] = "2",
        ["q5.2"] = "3", q6 = "好", q7 = "  原因\r\n第二行",
      }))
      local v = questions.view(qs, kept, errors)
      local function checked(list)
        local out = {}
        for _, o in ipairs(list) do out[#out + 1] = o.checked end
        return out
      end
      assert.are.same({ false, false, false, true }, checked(v[1].options))
      assert.are.same({ true, false, true }, checked(v[2].options))
      assert.are.same({ false, false, false, false, false }, checked(v[3].options))
      assert.are.equal("第 3 题“请为办事效率打分”：评分须在 1 到 5 之间", v[3].error)
      assert.are.equal("q3-error", v[3].error_id)
      assert.are.equal("q3-hint q3-error", v[3].describedby)
      local o = v[4].options
      assert.are.same({ 2, false, 2 }, { o[1].rank, o[2].rank or false, o[3].rank })
      assert.are.equal("第 4 题“请对以下改进方向按重要性排序”：每个名次只能用一次", v[4].error)
      assert.are.same({ false, false, false }, checked(v[5].rows[1].cells))
      assert.are.same({ false, false, true }, checked(v[5].rows[2].cells))
      assert.is_nil(v[5].error)
      assert.are.equal("好", v[6].value)
      assert.are.equal("  原因\n第二行", v[7].value)
      assert.is_nil(v[7].error)
      assert.is_nil(v[1].error)
      assert.is_nil(v[1].describedby)
    end)

    it("shows answers as validate or normalize gives them", function()
      local answers = questions.validate(qs, form(VALID))
      local v = questions.view(qs, cjson.decode(cjson.encode(answers)))
      assert.is_true(v[1].options[2].checked)
      assert.is_true(v[2].options[3].checked)
      assert.is_true(v[3].options[4].checked)
      assert.are.equal("4", v[3].options[4].value)
      local o = v[4].options
      assert.are.same({ 2, 3, 1 }, { o[1].rank, o[2].rank, o[3].rank })
      for _, x in ipairs(o) do assert.are.equal("integer", math.type(x.rank)) end
      assert.is_true(v[5].rows[1].cells[1].checked)
      assert.is_true(v[5].rows[2].cells[3].checked)
      assert.are.equal("希望延长窗口办理时间。\n谢谢！", v[6].value)
    end)

    it("gives hints for every multiple and rating setting", function()
      local h = questions.view(parse(table.concat({
        "[multiple max=2] a 甲", options(4), "[multiple min=2] b 乙", options(4),
        "[multiple min=2 max=2] c 丙", options(4), "[multiple min=2 max=3] d 丁", options(4),
        "[rating 0-10] e 戊", "[rating 1-4 高=好] f 己", "[single] g 庚", options(2),
        "[text max=80] h 辛", "[text lines=2] i 壬",
      }, "\n")))
      assert.are.same({ "（最多选 2 项）", "（至少选 2 项）", "（请选 2 项）", "（选 2 至 3 项）",
                        "（0 到 10 分）", "（4 表示好）" },
        { h[1].hint, h[2].hint, h[3].hint, h[4].hint, h[5].hint, h[6].hint })
      assert.is_nil(h[7].hint)
      assert.is_nil(h[7].describedby)
      assert.are.same({ 1, 2 }, { h[8].lines, h[9].lines })
      assert.are.equal("e-o11", h[5].options[11].id)
      assert.are.equal("10", h[5].options[11].value)
    end)

    it("takes questions decoded from JSON", function()
      local decoded = cjson.decode(cjson.encode(qs))
      local answers = questions.validate(qs, form(VALID))
      assert.are.same(questions.view(qs, answers), questions.view(decoded, answers))
      local a2, e2, k2 = questions.validate(decoded, form(with(VALID, { q1 = "4" })))
      local a1, e1, k1 = questions.validate(qs, form(with(VALID, { q1 = "4" })))
      assert.are.same({ a1, e1, k1 }, { a2, e2, k2 })
      assert.are.equal("integer", math.type(questions.view(decoded)[7].maxlength))
      assert.is_true(questions.visible(decoded, { q1 = 4 }, decoded[7]))
    end)
  end)

  describe("normalize", function()
    local qs = parse(EXAMPLE)

    it("gives integers again after a JSON round trip", function()
      local answers = questions.validate(qs, form(with(VALID, { q1 = "4", q7 = "排队太久" })))
      local decoded = cjson.decode(cjson.encode(answers))
      assert.are.equal("float", math.type(decoded.q1))
      local back = questions.normalize(qs, decoded)
      assert.are.same(answers, back)
      local function ints(v)
        if type(v) == "table" then
          for _, x in ipairs(v) do assert.are.equal("integer", math.type(x)) end
        elseif type(v) == "number" then
          assert.are.equal("integer", math.type(v))
        end
      end
      for _, v in pairs(back) do ints(v) end
    end)

    it("leaves out what does not fit the questions", function()
      assert.are.same({}, questions.normalize(qs, nil))
      assert.are.same({ q1 = 1, q6 = "ok" }, questions.normalize(qs, {
        q1 = 1.0, q2 = { 1, 1 }, q3 = 2.5, q4 = { 1, 2 }, q5 = { 1, 4 }, q6 = "ok", q7 = 3,
        q9 = 1,
      }))
      assert.are.same({ q2 = { 1, 3 }, q3 = 5, q4 = { 3, 1, 2 }, q5 = { 0, 2 } },
        questions.normalize(qs, { q1 = 5.0, q2 = { 3.0, 1.0 }, q3 = 5.0, q4 = { 3.0, 1.0, 2.0 },
                                  q5 = { 0.0, 2.0 }, q6 = cjson.null }))
      assert.are.same({}, questions.normalize(qs, { q2 = {}, q4 = { 1, 1, 2 }, q5 = { 1 } }))
    end)
  end)

  it("runs with only what the sandbox gives and sets no globals", function()
    local env = { string = string, table = table, math = math, utf8 = utf8, ipairs = ipairs,
                  pairs = pairs, type = type, tostring = tostring, tonumber = tonumber,
                  select = select, error = error, assert = assert, pcall = pcall,
                  setmetatable = setmetatable, next = next,
                  -- the host's park.text is the one module it needs
                  require = function(name)
                    assert(name == "park.text", "the sandbox has no module " .. tostring(name))
                    return require("park.text")
                  end }
    setmetatable(env, {
      __index = function(_, k) error("undefined global " .. tostring(k), 2) end,
      __newindex = function(_, k) error("global set: " .. tostring(k), 2) end,
    })
    local mod = assert(load(read(MODULE), "=survey_questions", "t", env))()
    local qs = assert(mod.parse(EXAMPLE))
    assert.are.equal(CANONICAL, mod.to_text(qs))
    local answers, errors, kept = mod.validate(qs, form(VALID))
    assert.are.same({}, errors)
    assert.are.equal(7, #mod.view(qs, kept, errors))
    assert.are.same(answers, mod.normalize(qs, cjson.decode(cjson.encode(answers))))
    assert.is_false(mod.visible(qs, answers, qs[7]))
    assert.is_nil(mod.parse("[singel] q1 x"))
  end)
end)
