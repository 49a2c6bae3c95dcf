-- survey_questions: the questions of an opinion survey (民意调查征集), in plain
-- Lua 5.4 for the sandbox (string, table, utf8, math; sets no globals).
--
--   local questions = require("survey_questions")
--   questions.parse(text)                  staff's text -> a list of questions, or nil, "第 N 行：…"
--   questions.to_text(qs)                  the list back as text, in canonical form
--   questions.validate(qs, get)            a resident's post -> answers, errors, kept
--   questions.visible(qs, answers, q)      whether q's condition holds for these answers
--   questions.view(qs, answers, errors)    what a template needs to draw the form
--   questions.normalize(qs, decoded)       answers decoded from JSON, with integers again
--
-- The text, one question after another (blank lines and "# comments" are
-- skipped anywhere):
--
--   [single] q1 您对园区政务服务的总体评价？ *
--   - 非常满意
--   - 不满意
--   [multiple min=1 max=3] q2 …          options as for single
--   [rating 1-5 低=很不满意 高=非常满意] q3 …
--   [ranking] q4 …                        options as for single
--   [grid] q5 …                           "行:" (or "rows:") then rows, "列:" ("cols:") then columns
--   [text max=500 lines=5] q6 …
--   [text max=200 if q1=不满意] q7 … *
--
-- "*" (or "＊") ending the header line makes the question required. `if`
-- comes last in the brackets: `if qid=option text` or `if qid=N` (N the
-- option's number; an option's text wins over a number); the option text
-- may hold spaces and "]". Counts of characters are code points, never bytes.
--
-- Every function here takes the questions as parse gives them or as they
-- come back from JSON (numbers as floats with integral values).
local ptext = require("park.text")
local questions = {}

local byte, sub, find, match, format, gsub, lower =
  string.byte, string.sub, string.find, string.match, string.format, string.gsub, string.lower
local concat, sort = table.concat, table.sort
local ulen, uoffset = utf8.len, utf8.offset
local tointeger, mtype = math.tointeger, math.type

local MAX_QUESTIONS = 100
local MAX_TITLE = 300
local MAX_OPTION = 200
local MAX_LABEL = 50
local MAX_ID = 32
local TEXT_DEFAULT, TEXT_MAX = 500, 5000
local MAX_LINES = 30
local MAX_POINTS = 11
local SHORT_TITLE = 20

-- Per type: its Chinese name, how many options (single/multiple/ranking) and
-- which bracket settings it takes.
local TYPES = {
  single = { name = "单选题", options = { 2, 50 } },
  multiple = { name = "多选题", options = { 2, 50 }, params = { min = true, max = true } },
  rating = { name = "评分题", params = { low = true, high = true } },
  ranking = { name = "排序题", options = { 2, 20 } },
  grid = { name = "矩阵题" },
  text = { name = "文字题", params = { max = true, lines = true } },
}
local TYPE_LIST = "single、multiple、rating、ranking、grid、text"
local GRID_ROWS, GRID_COLUMNS = { 1, 30 }, { 2, 10 }

-- Setting names as written -> their canonical key.
local KEYS = { min = "min", max = "max", lines = "lines", low = "low", ["低"] = "low",
               high = "high", ["高"] = "high" }
local NUMERIC = { min = true, max = true, lines = true }

-- "行:" / "列:" lines of a grid (lowercased, either colon).
local SECTIONS = {
  ["行:"] = "rows", ["行："] = "rows", ["rows:"] = "rows", ["rows："] = "rows",
  ["列:"] = "columns", ["列："] = "columns", ["cols:"] = "columns", ["cols："] = "columns",
  ["columns:"] = "columns", ["columns："] = "columns",
}
local SECTION_NAME = { rows = "“行:”", columns = "“列:”" }

---------------------------------------------------------------------------
-- Helpers
---------------------------------------------------------------------------

-- Whitespace at either end: ASCII, U+3000 (ideographic space), U+00A0.
local trim = ptext.trim

-- The integer a value stands for: an integer, a float with an integral
-- value (from JSON), or a string in canonical decimal form ("3", "-2"; not
-- "03", "+3", " 3" or "3.0"). nil for anything else.
local function int(v)
  local t = mtype(v)
  if t == "integer" then return v end
  if t == "float" then return tointeger(v) end
  if type(v) == "string" and #v <= 15 and find(v, "^%-?%d+$") then
    local i = tointeger(tonumber(v))
    if i and tostring(i) == v then return i end
  end
  return nil
end

-- A title cut to its first SHORT_TITLE characters, for messages.
local function short(s)
  local n = ulen(s)
  if not n or n <= SHORT_TITLE then return s end
  return sub(s, 1, uoffset(s, SHORT_TITLE + 1) - 1) .. "…"
end

local function is_choice(t) return t == "single" or t == "multiple" end

---------------------------------------------------------------------------
-- Parsing
---------------------------------------------------------------------------

local function bad(ln, msg, ...)
  if select("#", ...) > 0 then msg = format(msg, ...) end
  return nil, format("第 %d 行：%s", ln, msg)
end

-- The id that a header line names (what follows its "]"), or nil.
local function header_id(s)
  local close = find(s, "]", 1, true)
  if not close then return nil end
  local at = find(s, "%S", close + 1)
  local tok = at and match(s, "^%S+", at)
  if not tok then return nil end
  local cut = find(tok, "\u{3000}", 1, true)
  return cut and sub(tok, 1, cut - 1) or tok
end

-- Whether a question with this id starts on a line from byte `from` on.
local function defined_later(text, from, id)
  local n = #text
  while from <= n do
    local j = find(text, "\n", from, true) or n + 1
    local s = trim(sub(text, from, j - 1))
    if byte(s, 1) == 91 and header_id(s) == id then return true end
    from = j + 1
  end
  return false
end

-- The option of question `ref` that the text at byte `vp` of `s` names, up
-- to the "]" that closes the header: returns its number and the byte after
-- that "]". The longest option text followed by "]" wins; then a number.
-- Without a match: nil, the byte after the first "]" and the text before it.
local function condition_option(s, vp, ref)
  local best, best_end
  if ref and ref.options then
    for k, o in ipairs(ref.options) do
      if (not best or #o > #ref.options[best]) and sub(s, vp, vp + #o - 1) == o then
        local _, close = find(s, "^%s*%]", vp + #o)
        if close then best, best_end = k, close + 1 end
      end
    end
  end
  if best then return best, best_end end
  local close = find(s, "]", vp, true)
  if not close then return nil, nil end
  local value = trim(sub(s, vp, close - 1))
  local k = int(value)
  if ref and ref.options and k and k >= 1 and k <= #ref.options then return k, close + 1 end
  return nil, close + 1, value
end

-- One header line `s` (trimmed, starting with "["): the question, or nil
-- and the message. `ctx` has qs, byid, lines (id -> line), text, next (the
-- byte where the following line starts).
local function parse_header(s, ln, ctx)
  local pos, typ, params, cond = 2, nil, {}, nil
  local close
  if not find(s, "]", 1, true) then return bad(ln, "缺少“]”") end
  while true do
    pos = find(s, "%S", pos)
    if not pos then return bad(ln, "缺少“]”") end
    if byte(s, pos) == 93 then
      close = pos + 1
      break
    end
    local tok = match(s, "^[^%s%]]+", pos)
    if not typ then
      if not TYPES[tok] then return bad(ln, "未知的题型 [%s]（可用的题型：%s）", tok, TYPE_LIST) end
      typ = tok
    elseif tok == "if" and (byte(s, pos + 2) or 32) <= 32 then
      local p = find(s, "%S", pos + 2) or #s + 1
      local refid = match(s, "^[^%s=%]]+", p)
      if refid then p = find(s, "%S", p + #refid) or #s + 1 end
      if not refid or byte(s, p) ~= 61 then
        return bad(ln, "条件须写成“if 编号=选项”，例如 if q1=不满意")
      end
      p = find(s, "%S", p + 1) or #s + 1
      local j = ctx.byid[refid]
      local ref = j and ctx.qs[j]
      local option, after, value = condition_option(s, p, ref)
      if not after then return bad(ln, "缺少“]”") end
      cond = { id = refid, index = j, option = option, value = value }
      close = after
      break
    else
      local scale_a, scale_b = match(gsub(tok, "～", "~"), "^(%-?%d+)[%-~](%-?%d+)$")
      local key, val = match(tok, "^([^=]+)=(.*)$")
      local canon = key and KEYS[key]
      if scale_a then
        if typ ~= "rating" then return bad(ln, "%s不能设置“%s”", TYPES[typ].name, tok) end
        if params.scale then return bad(ln, "重复的设置“%s”", tok) end
        local a, b = tonumber(scale_a), tonumber(scale_b)
        if #scale_a > 6 or #scale_b > 6 or a >= b or b - a + 1 > MAX_POINTS then
          return bad(ln, "评分范围“%s”不对：须是 A-B 形式的整数，A 小于 B，共 2 到 %d 档",
            tok, MAX_POINTS)
        end
        params.scale = { from = tointeger(a), to = tointeger(b) }
      elseif canon then
        if not (TYPES[typ].params or {})[canon] then
          return bad(ln, "%s不能设置 %s", TYPES[typ].name, key)
        end
        if params[canon] ~= nil then return bad(ln, "重复的设置 %s", key) end
        if NUMERIC[canon] then
          if not find(val, "^%d+$") or #val > 6 then
            return bad(ln, "“%s”不对：%s 须是正整数", tok, key)
          end
          params[canon] = tointeger(tonumber(val))
        else
          val = trim(val)
          if val == "" then return bad(ln, "“%s=”后面缺少文字", key) end
          local n = ulen(val)
          if n > MAX_LABEL then
            return bad(ln, "“%s=”的文字太长：%d 字，最多 %d 字", key, n, MAX_LABEL)
          end
          params[canon] = val
        end
      else
        return bad(ln, "看不懂的设置“%s”", tok)
      end
    end
    pos = pos + #tok
  end
  if not typ then return bad(ln, "缺少题型，例如 [single]") end

  -- The id and the title.
  local rest = trim(sub(s, close))
  local idtok = match(rest, "^%S+")
  if not idtok then return bad(ln, "缺少编号和标题，例如 [single] q1 您对服务是否满意？") end
  local cut = find(idtok, "\u{3000}", 1, true)
  if cut then idtok = sub(idtok, 1, cut - 1) end
  local id = idtok
  if #id > MAX_ID or not find(id, "^[a-z][a-z0-9_]*$") then
    return bad(ln, "编号“%s”不合规：须以小写英文字母开头，只用小写字母、数字和下划线，最多 %d 个字符",
      id, MAX_ID)
  end
  if ctx.byid[id] then return bad(ln, "编号 %s 重复：第 %d 行已经用过", id, ctx.lines[id]) end
  if #ctx.qs >= MAX_QUESTIONS then return bad(ln, "题目太多：最多 %d 题", MAX_QUESTIONS) end
  local title, required = trim(sub(rest, #id + 1)), false
  if sub(title, -1) == "*" or sub(title, -3) == "＊" then
    title = trim(sub(title, 1, sub(title, -1) == "*" and -2 or -4))
    required = true
    if sub(title, -1) == "*" or sub(title, -3) == "＊" then
      return bad(ln, "标题末尾只能有一个 *（表示必答）")
    end
  end
  if title == "" then return bad(ln, "缺少标题") end
  local tn = ulen(title)
  if tn > MAX_TITLE then return bad(ln, "标题太长：%d 字，最多 %d 字", tn, MAX_TITLE) end

  local q = { id = id, type = typ, title = title, required = required }
  if typ == "single" or typ == "ranking" then
    q.options = {}
  elseif typ == "multiple" then
    q.options = {}
    local mn, mx = params.min, params.max
    if mn and mn < 1 then return bad(ln, "min 至少为 1") end
    if mx and mx < 1 then return bad(ln, "max 至少为 1") end
    if mn and mx and mn > mx then return bad(ln, "min=%d 大于 max=%d", mn, mx) end
    q.min, q.max = mn or 1, mx -- max: the number of options unless set (see finish)
  elseif typ == "rating" then
    local sc = params.scale or { from = 1, to = 5 }
    q.scale = { from = sc.from, to = sc.to, low = params.low, high = params.high }
  elseif typ == "grid" then
    q.rows, q.columns = {}, {}
  else
    local mx = params.max or TEXT_DEFAULT
    if mx < 1 or mx > TEXT_MAX then return bad(ln, "max 须在 1 到 %d 之间", TEXT_MAX) end
    local lines = params.lines
    if lines and (lines < 1 or lines > MAX_LINES) then
      return bad(ln, "lines 须在 1 到 %d 之间", MAX_LINES)
    end
    q.maxlength, q.lines = mx, lines
  end

  if cond then
    if cond.id == id then return bad(ln, "条件不能引用本题") end
    if not cond.index then
      if defined_later(ctx.text, ctx.next, cond.id) then
        return bad(ln, "条件引用的题目 %s 不在本题之前", cond.id)
      end
      return bad(ln, "条件引用的题目 %s 不存在", cond.id)
    end
    local ref = ctx.qs[cond.index]
    if not is_choice(ref.type) then
      return bad(ln, "条件引用的第 %d 题（%s）不是单选题或多选题", cond.index, cond.id)
    end
    if not cond.option then
      return bad(ln, "条件中的选项“%s”不在第 %d 题（%s）的选项里", cond.value or "", cond.index,
        cond.id)
    end
    q.condition = { id = cond.id, option = cond.option }
  end
  return q
end

-- The checks once a question's lines are all read (errors on its header line).
local function finish(cur)
  if not cur then return true end
  local q, ln = cur.q, cur.line
  local limits = TYPES[q.type].options
  if limits and #q.options < limits[1] then
    return bad(ln, "选项太少：至少要 %d 个，现有 %d 个", limits[1], #q.options)
  end
  if q.type == "multiple" then
    local n = #q.options
    if q.min > n then return bad(ln, "min=%d 超过了选项数 %d", q.min, n) end
    if q.max and q.max > n then return bad(ln, "max=%d 超过了选项数 %d", q.max, n) end
    q.max = q.max or n
  elseif q.type == "grid" then
    if #q.rows < GRID_ROWS[1] then
      return bad(ln, "矩阵题缺少行：在“行:”下面列出至少 %d 行", GRID_ROWS[1])
    end
    if #q.columns < GRID_COLUMNS[1] then
      return bad(ln, "矩阵题至少要 %d 列（在“列:”下面列出），现有 %d 列", GRID_COLUMNS[1],
        #q.columns)
    end
  end
  return true
end

-- One "- text" line of the current question.
local function add_option(cur, s, ln)
  local q = cur.q
  local list, limits, what, unit
  if q.type == "grid" then
    if not cur.section then return bad(ln, "矩阵题的行和列须写在“行:”或“列:”下面") end
    if cur.section == "rows" then
      list, limits, what, unit = q.rows, GRID_ROWS, "行", "行"
    else
      list, limits, what, unit = q.columns, GRID_COLUMNS, "列", "列"
    end
  elseif q.options then
    list, limits, what, unit = q.options, TYPES[q.type].options, "选项", "个"
  else
    return bad(ln, "%s没有选项", TYPES[q.type].name)
  end
  local o = trim(sub(s, 2))
  if o == "" then return bad(ln, "%s不能是空的", what) end
  local n = ulen(o)
  if n > MAX_OPTION then return bad(ln, "%s太长：%d 字，最多 %d 字", what, n, MAX_OPTION) end
  local seen = cur.seen[list]
  if seen[o] then return bad(ln, "%s重复“%s”", what, o) end
  if #list >= limits[2] then return bad(ln, "%s太多：最多 %d %s", what, limits[2], unit) end
  seen[o] = true
  list[#list + 1] = o
  return true
end

--- Parse staff's text. Returns the list of questions, or nil and a message
-- in Chinese naming the line: "第 7 行：选项重复“满意”". The first problem
-- (by line) is reported. Text without any question is an error too.
function questions.parse(text)
  if type(text) ~= "string" then return nil, "问卷的题目须是文字" end
  local qs, byid, lines = {}, {}, {}
  local ctx = { qs = qs, byid = byid, lines = lines, text = text }
  local cur -- { q =, line =, section = nil | "rows" | "columns", seen = { [list] = set } }
  local n, i, ln = #text, 1, 0
  if sub(text, 1, 3) == "\u{FEFF}" then i = 4 end
  while true do
    local j = find(text, "\n", i, true) or n + 1
    ln = ln + 1
    local line = sub(text, i, j - 1)
    ctx.next = j + 1
    if byte(line, -1) == 13 then line = sub(line, 1, -2) end
    if not ulen(line) then return bad(ln, "含有无效的字符（不是 UTF-8 文字）") end
    if find(line, "[\0-\8\11-\31\127]") then return bad(ln, "含有控制字符") end
    local s = trim(line)
    local c = byte(s, 1)
    if c == nil or c == 35 then -- luacheck: ignore 542
      -- a blank line or a "# comment"
    elseif c == 91 then -- "[": a question
      local ok, err = finish(cur)
      if not ok then return nil, err end
      local q
      q, err = parse_header(s, ln, ctx)
      if not q then return nil, err end
      qs[#qs + 1] = q
      byid[q.id], lines[q.id] = #qs, ln
      cur = { q = q, line = ln, seen = {} }
      for _, list in ipairs({ q.options or false, q.rows or false, q.columns or false }) do
        if list then cur.seen[list] = {} end
      end
    elseif c == 45 then -- "-": an option
      if not cur then return bad(ln, "选项前面缺少题目（题目以“[题型] 编号 标题”开头）") end
      local ok, err = add_option(cur, s, ln)
      if not ok then return nil, err end
    elseif SECTIONS[lower(s)] then
      local section = SECTIONS[lower(s)]
      if not cur or cur.q.type ~= "grid" then return bad(ln, "只有矩阵题（grid）才有“行:”和“列:”") end
      if cur.q[section][1] or cur.section == section then
        return bad(ln, "重复的%s", SECTION_NAME[section])
      end
      cur.section = section
    else
      return bad(ln, "看不懂这一行：题目以“[题型] 编号 标题”开头，选项以“- ”开头，注释以“#”开头")
    end
    if j > n then break end
    i = j + 1
  end
  local ok, err = finish(cur)
  if not ok then return nil, err end
  if #qs == 0 then return nil, "还没有题目：每道题以“[题型] 编号 标题”开头，例如 [single] q1 您对服务是否满意？" end
  return qs
end

---------------------------------------------------------------------------
-- Questions as given (from parse or from JSON)
---------------------------------------------------------------------------

-- The questions with their numbers as integers: a list of
-- { q = the question, i =, id =, type =, title =, required =, options =,
--   min =, max =, from =, to =, low =, high =, rows =, columns =,
--   maxlength =, lines =, cond_id =, cond_opt = }, and .byid (id -> i).
local function prepare(qs)
  if type(qs) ~= "table" then
    error("survey_questions: the questions must be a list, as parse gives them", 3)
  end
  local P, byid = {}, {}
  for i, q in ipairs(qs) do
    local t = type(q) == "table" and q.type
    if not TYPES[t] then
      error(format("survey_questions: question %d has no known type", i), 3)
    end
    local p = { q = q, i = i, id = q.id, type = t, title = q.title, required = q.required == true }
    if TYPES[t].options then
      p.options = q.options
      if t == "multiple" then
        p.min, p.max = int(q.min) or 1, int(q.max) or #q.options
      end
    elseif t == "rating" then
      local sc = type(q.scale) == "table" and q.scale or {}
      p.from, p.to = int(sc.from) or 1, int(sc.to) or 5
      p.low = type(sc.low) == "string" and sc.low or nil
      p.high = type(sc.high) == "string" and sc.high or nil
    elseif t == "grid" then
      p.rows, p.columns = q.rows, q.columns
    else
      p.maxlength, p.lines = int(q.maxlength) or TEXT_DEFAULT, int(q.lines)
    end
    local c = q.condition
    if type(c) == "table" then p.cond_id, p.cond_opt = c.id, int(c.option) end
    P[i], byid[q.id] = p, i
  end
  P.byid = byid
  return P
end

--- The questions as text, in canonical form: one blank line between
-- questions, settings only where they differ from the defaults (a rating's
-- scale always), conditions by option text. parse(to_text(qs)) deep-equals
-- qs for questions from parse.
function questions.to_text(qs)
  local P = prepare(qs)
  local out = {}
  for i, p in ipairs(P) do
    if i > 1 then out[#out + 1] = "" end
    local h = { "[", p.type }
    if p.type == "multiple" then
      if p.min ~= 1 then h[#h + 1] = " min=" .. p.min end
      if p.max ~= #p.options then h[#h + 1] = " max=" .. p.max end
    elseif p.type == "rating" then
      h[#h + 1] = " " .. p.from .. "-" .. p.to
      if p.low then h[#h + 1] = " 低=" .. p.low end
      if p.high then h[#h + 1] = " 高=" .. p.high end
    elseif p.type == "text" then
      if p.maxlength ~= TEXT_DEFAULT then h[#h + 1] = " max=" .. p.maxlength end
      if p.lines then h[#h + 1] = " lines=" .. p.lines end
    end
    if p.cond_id then
      local ref = P[P.byid[p.cond_id] or 0]
      local label = ref and ref.options and ref.options[p.cond_opt]
      h[#h + 1] = " if " .. p.cond_id .. "=" .. (label or tostring(p.cond_opt))
    end
    h[#h + 1] = "] " .. p.id .. " " .. p.title .. (p.required and " *" or "")
    out[#out + 1] = concat(h)
    local function list(l)
      for _, o in ipairs(l) do out[#out + 1] = "- " .. o end
    end
    if p.options then list(p.options) end
    if p.type == "grid" then
      out[#out + 1] = "行:"
      list(p.rows)
      out[#out + 1] = "列:"
      list(p.columns)
    end
  end
  return concat(out, "\n") .. "\n"
end

-- Whether answer `a` of choice question `ref` includes option `opt`.
local function includes(ref, a, opt)
  if ref.type == "single" then return opt ~= nil and int(a) == opt end
  if type(a) ~= "table" then return false end
  for _, x in ipairs(a) do
    if int(x) == opt then return true end
  end
  return false
end

-- Whether question i is shown, given shown[] of the questions before it and
-- the values (answers or kept) so far.
local function shown_at(P, i, values, shown)
  local p = P[i]
  if not p.cond_id then return true end
  local j = P.byid[p.cond_id]
  if not j or j >= i or not shown[j] or not is_choice(P[j].type) then return false end
  return includes(P[j], values[p.cond_id], p.cond_opt)
end

--- Whether q's condition holds for these answers: true without a condition;
-- else the question it names is itself visible and its answer includes the
-- option. `q` is one of the questions (or its id); answers may be nil, or
-- the `kept` of validate.
function questions.visible(qs, answers, q)
  local P = prepare(qs)
  local want = type(q) == "table" and q.id or q
  local k = P.byid[want]
  if not k then return false end
  answers = type(answers) == "table" and answers or {}
  local shown = {}
  for i = 1, k do shown[i] = shown_at(P, i, answers, shown) end
  return shown[k]
end

---------------------------------------------------------------------------
-- Validation
---------------------------------------------------------------------------

-- The values posted for a field, as a list; `drop_empty` leaves out "" (a
-- select's "请选择" entry).
local function posted(get, name, drop_empty)
  local v = get(name)
  if v == nil then return {} end
  if type(v) ~= "table" then v = { v } end
  if not drop_empty then return v end
  local out = {}
  for _, x in ipairs(v) do
    if x ~= "" then out[#out + 1] = x end
  end
  return out
end

-- Per type: check(p, get) -> answer or nil (not answered), the value to keep
-- for refilling the form (or nil), and the message or nil.
local CHECK = {}

function CHECK.single(p, get)
  local vals = posted(get, p.id, true)
  if #vals == 0 then return nil, nil, p.required and "请选择一项" or nil end
  local k = int(vals[1])
  if k and (k < 1 or k > #p.options) then k = nil end
  if #vals > 1 then return nil, nil, "只能选择一项" end
  if not k then return nil, nil, "所选的选项不存在，请重新选择" end
  return k, k
end

function CHECK.multiple(p, get)
  local vals = posted(get, p.id, true)
  local n, list, set, invalid, dup = #p.options, {}, {}, false, false
  for _, v in ipairs(vals) do
    local k = int(v)
    if not k or k < 1 or k > n then
      invalid = true
    elseif set[k] then
      dup = true
    else
      set[k] = true
      list[#list + 1] = k
    end
  end
  sort(list)
  local keep = list[1] and list or nil
  if invalid then return nil, keep, "所选的选项不存在，请重新选择" end
  if dup then return nil, keep, "同一选项只能选一次" end
  local c = #list
  if c == 0 then
    if not p.required then return nil end
    return nil, nil, p.min > 1 and format("请至少选择 %d 项", p.min) or "请至少选择一项"
  end
  if c < p.min then return nil, keep, format("至少选 %d 项，现在选了 %d 项", p.min, c) end
  if c > p.max then return nil, keep, format("最多选 %d 项，现在选了 %d 项", p.max, c) end
  return list, keep
end

function CHECK.rating(p, get)
  local vals = posted(get, p.id, true)
  if #vals == 0 then return nil, nil, p.required and "请选择一个分数" or nil end
  if #vals > 1 then return nil, nil, "只能选择一个分数" end
  local k = int(vals[1])
  if not k or k < p.from or k > p.to then
    return nil, nil, format("评分须在 %d 到 %d 之间", p.from, p.to)
  end
  return k, k
end

function CHECK.ranking(p, get)
  local n = #p.options
  local ranks, used, given, invalid, dup = {}, {}, 0, false, false
  for k = 1, n do
    local vals = posted(get, p.id .. "." .. k, true)
    local r = nil
    if #vals > 1 then
      invalid = true
    elseif #vals == 1 then
      r = int(vals[1])
      if not r or r < 1 or r > n then
        invalid, r = true, nil
      else
        given = given + 1
        if used[r] then dup = true end
        used[r] = k
      end
    end
    ranks[k] = r or 0
  end
  local keep = given > 0 and { ranks = ranks } or nil
  if invalid then return nil, keep, format("名次须在 1 到 %d 之间，每项一个", n) end
  if dup then return nil, keep, "每个名次只能用一次" end
  if given == 0 then
    if not p.required then return nil end
    return nil, nil, "请为每一项选择名次"
  end
  if given < n then
    return nil, keep, format("请为每一项选择名次，还有 %d 项没有名次", n - given)
  end
  local order = {}
  for r = 1, n do order[r] = used[r] end
  return order, keep
end

-- At most three labels, then "等 N 行".
local function some(labels)
  if #labels <= 3 then return concat(labels, "、") end
  return concat(labels, "、", 1, 3) .. format(" 等 %d 行", #labels)
end

function CHECK.grid(p, get)
  local nc = #p.columns
  local cells, missing, invalid, given = {}, {}, nil, 0
  for r, label in ipairs(p.rows) do
    local vals = posted(get, p.id .. "." .. r, true)
    local c = nil
    if #vals > 1 then
      invalid = invalid or label
    elseif #vals == 1 then
      c = int(vals[1])
      if not c or c < 1 or c > nc then
        invalid, c = invalid or label, nil
      else
        given = given + 1
      end
    end
    if not c and #vals == 0 then missing[#missing + 1] = "“" .. label .. "”" end
    cells[r] = c or 0
  end
  local keep = given > 0 and cells or nil
  if invalid then return nil, keep, format("“%s”一行的选择无效，请重新选择", invalid) end
  if given == 0 and not p.required then return nil end
  if p.required and #missing > 0 then
    return nil, keep, "请为每一行选择一项，还没有选择：" .. some(missing)
  end
  return cells, keep
end

function CHECK.text(p, get)
  local vals = posted(get, p.id, false)
  if #vals > 1 then return nil, nil, "只能填写一段文字" end
  local v = vals[1]
  if v == nil then v = "" end
  if mtype(v) then v = tostring(int(v) or v) end
  if type(v) ~= "string" then return nil, nil, "填写的内容无效" end
  if find(v, "\r", 1, true) then v = gsub(gsub(v, "\r\n", "\n"), "\r", "\n") end
  if not ulen(v) then return nil, nil, "含有无效的字符，请重新填写" end
  if find(v, "[\0-\8\11-\31\127]") then
    return nil, (gsub(v, "[\0-\8\11-\31\127]", "")), "含有不能显示的控制字符，请删除后再提交"
  end
  local t = trim(v)
  local keep = v ~= "" and v or nil
  if t == "" then return nil, nil, p.required and "请填写" or nil end
  local n = ulen(t)
  if n > p.maxlength then
    return nil, keep, format("不能超过 %d 字，现在有 %d 字", p.maxlength, n)
  end
  return t, keep
end

local function message(p, msg)
  return format("第 %d 题“%s”：%s", p.i, short(p.title), msg)
end

--- Check a resident's post. get(name) gives the list of values posted for a
-- form field ({} when absent): function(name) return req:form_all(name) end.
-- Fields: single, multiple, rating, text: the id; ranking: "<id>.<option
-- number>" holding a rank; grid: "<id>.<row number>" holding a column
-- number. An empty value of a choice field (a select's "请选择") is none.
-- Returns answers, errors, kept:
--   answers: { [id] = value } of the visible questions answered without error
--   errors: { { id =, message = "第 N 题“标题”：…" } } in question order
--   kept: { [id] = value } of every question (visible or not) with what can
--     refill the form: values that name a real option, a grid's row choices
--     (0 none), a text as posted (newlines as "\n"), and for a ranking
--     { ranks = { [option] = rank or 0 } }; view accepts it.
-- Visibility is decided on kept values, so a question shown by an option
-- of an earlier question that has another error is still checked.
function questions.validate(qs, get)
  local P = prepare(qs)
  local answers, errors, kept, shown = {}, {}, {}, {}
  for i, p in ipairs(P) do
    shown[i] = shown_at(P, i, kept, shown)
    local value, keep, msg = CHECK[p.type](p, get)
    kept[p.id] = keep
    if shown[i] then
      if msg then
        errors[#errors + 1] = { id = p.id, message = message(p, msg) }
      elseif value ~= nil then
        answers[p.id] = value
      end
    end
  end
  return answers, errors, kept
end

--- Answers decoded from JSON (lua-cjson: numbers as floats), with integers
-- again. What does not fit the questions (an unknown id, a value of the
-- wrong kind or out of range, a ranking that is not a full order) is left
-- out.
function questions.normalize(qs, decoded)
  local P = prepare(qs)
  local out = {}
  if type(decoded) ~= "table" then return out end
  local function ints(a, lo, hi)
    if type(a) ~= "table" then return nil end
    local l = {}
    for k, x in ipairs(a) do
      local v = int(x)
      if not v or v < lo or v > hi then return nil end
      l[k] = v
    end
    return l
  end
  for _, p in ipairs(P) do
    local a, v = decoded[p.id], nil
    if p.type == "single" then
      v = int(a)
      if v and (v < 1 or v > #p.options) then v = nil end
    elseif p.type == "rating" then
      v = int(a)
      if v and (v < p.from or v > p.to) then v = nil end
    elseif p.type == "multiple" then
      v = ints(a, 1, #p.options)
      if v then
        sort(v)
        for k = 2, #v do
          if v[k] == v[k - 1] then v = nil break end
        end
      end
      if v and not v[1] then v = nil end
    elseif p.type == "ranking" then
      v = ints(a, 1, #p.options)
      if v and #v == #p.options then
        local seen = {}
        for _, o in ipairs(v) do
          if seen[o] then v = nil break end
          seen[o] = true
        end
      else
        v = nil
      end
    elseif p.type == "grid" then
      v = ints(a, 0, #p.columns)
      if v and #v ~= #p.rows then v = nil end
    elseif type(a) == "string" then
      v = a
    end
    out[p.id] = v
  end
  return out
end

---------------------------------------------------------------------------
-- The form
---------------------------------------------------------------------------

local function hint(p)
  local t = p.type
  if t == "multiple" then
    local n, mn, mx = #p.options, p.min, p.max
    if mn == mx then return format("（请选 %d 项）", mn) end
    if mn <= 1 and mx >= n then return "（可多选）" end
    if mn <= 1 then return format("（最多选 %d 项）", mx) end
    if mx >= n then return format("（至少选 %d 项）", mn) end
    return format("（选 %d 至 %d 项）", mn, mx)
  elseif t == "rating" then
    local parts = {}
    if p.low then parts[#parts + 1] = format("%d 表示%s", p.from, p.low) end
    if p.high then parts[#parts + 1] = format("%d 表示%s", p.to, p.high) end
    if #parts == 0 then return format("（%d 到 %d 分）", p.from, p.to) end
    return "（" .. concat(parts, "，") .. "）"
  elseif t == "ranking" then
    return "（1 表示最重要，每个名次只用一次）"
  elseif t == "grid" then
    return "（每行选择一项）"
  elseif t == "text" then
    return format("（不超过 %d 字）", p.maxlength)
  end
  return nil
end

--- What a template needs to draw the form, without JavaScript: every
-- question is drawn (a conditional one says when to answer it). answers:
-- nil (an empty form), answers from validate or normalize, or the kept of
-- validate (a form refilled after an error). errors: validate's, or nil.
-- A list, per question:
--   n (its number), id, type, title, required,
--   hint ("（最多选 3 项）", "（1 表示最重要，每个名次只用一次）", ... or nil), hint_id ("q2-hint"),
--   condition_text ("（仅当第 1 题选择“不满意”时回答）" or nil), condition_id ("q7-cond"),
--   error (the message or nil), error_id ("q1-error", always),
--   describedby (condition_id, hint_id and, with an error, error_id; or nil),
--   fieldset (true but for text), legend (= title, with a fieldset), and by type:
--   single, multiple: options = { { n, label, name = id, value = "2", id = "q1-o2", checked } }
--   rating: the same with one option per point (label and value the number,
--     id by position: "q3-o1" is the first point; note = the end label on
--     the first and last), and scale = { from, to, low, high }
--   ranking: options = { { n, label, name = "q4.2", id = "q4-o2", rank = the
--     chosen rank or nil, ranks = { 1 .. n } } }
--   grid: columns = { "column label", ... }, rows = { { n, label, name = "q5.1",
--     id = "q5-r1", cells = { { n, label = the column, value = "2",
--     id = "q5-r1-c2", checked } } } }
--   text: name = id, value ("" when none), maxlength, lines (as set; else 1
--     up to 100 characters, 5 above)
function questions.view(qs, answers, errors)
  local P = prepare(qs)
  answers = type(answers) == "table" and answers or {}
  local errmap = {}
  for _, e in ipairs(type(errors) == "table" and errors or {}) do
    if e.id ~= nil and errmap[e.id] == nil then errmap[e.id] = e.message end
  end
  local out = {}
  for i, p in ipairs(P) do
    local id, a = p.id, answers[p.id]
    local v = {
      n = i, id = id, type = p.type, title = p.title, required = p.required,
      hint = hint(p), error = errmap[id], error_id = id .. "-error",
      fieldset = p.type ~= "text",
    }
    if v.fieldset then v.legend = p.title end
    if v.hint then v.hint_id = id .. "-hint" end
    if p.cond_id then
      local j = P.byid[p.cond_id]
      local ref = j and P[j]
      local label = ref and ref.options and ref.options[p.cond_opt]
      if label then
        v.condition_text = format("（仅当第 %d 题选择“%s”时回答）", j, label)
        v.condition_id = id .. "-cond"
      end
    end
    local described = {}
    if v.condition_id then described[#described + 1] = v.condition_id end
    if v.hint_id then described[#described + 1] = v.hint_id end
    if v.error then described[#described + 1] = v.error_id end
    if described[1] then v.describedby = concat(described, " ") end

    local t = p.type
    if t == "single" or t == "multiple" then
      local set = {}
      if t == "single" then
        local k = int(a)
        if k then set[k] = true end
      elseif type(a) == "table" then
        for _, x in ipairs(a) do
          local k = int(x)
          if k then set[k] = true end
        end
      end
      v.options = {}
      for k, label in ipairs(p.options) do
        v.options[k] = { n = k, label = label, name = id, value = tostring(k),
                         id = id .. "-o" .. k, checked = set[k] == true }
      end
    elseif t == "rating" then
      local chosen = int(a)
      v.scale = { from = p.from, to = p.to, low = p.low, high = p.high }
      v.options = {}
      for val = p.from, p.to do
        local k = val - p.from + 1
        v.options[k] = { n = k, label = tostring(val), name = id, value = tostring(val),
                         id = id .. "-o" .. k, checked = chosen == val }
      end
      v.options[1].note = p.low
      v.options[#v.options].note = p.high
    elseif t == "ranking" then
      local n, rank = #p.options, {}
      if type(a) == "table" then
        if type(a.ranks) == "table" then
          for k = 1, n do
            local r = int(a.ranks[k])
            if r and r >= 1 and r <= n then rank[k] = r end
          end
        else
          for r, x in ipairs(a) do
            local k = int(x)
            if k and r <= n then rank[k] = r end
          end
        end
      end
      local ranks = {}
      for r = 1, n do ranks[r] = r end
      v.options = {}
      for k, label in ipairs(p.options) do
        v.options[k] = { n = k, label = label, name = id .. "." .. k, id = id .. "-o" .. k,
                         rank = rank[k], ranks = ranks }
      end
    elseif t == "grid" then
      local cells = type(a) == "table" and a or {}
      v.columns = {}
      for c, label in ipairs(p.columns) do v.columns[c] = label end
      v.rows = {}
      for r, label in ipairs(p.rows) do
        local rid, chosen = id .. "-r" .. r, int(cells[r])
        local row = { n = r, label = label, name = id .. "." .. r, id = rid, cells = {} }
        for c, col in ipairs(p.columns) do
          row.cells[c] = { n = c, label = col, value = tostring(c), id = rid .. "-c" .. c,
                           checked = chosen == c }
        end
        v.rows[r] = row
      end
    else
      v.name, v.value = id, type(a) == "string" and a or ""
      v.maxlength = p.maxlength
      v.lines = p.lines or (p.maxlength <= 100 and 1 or 5)
    end
    out[i] = v
  end
  return out
end

return questions
