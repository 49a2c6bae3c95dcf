-- guides_fields: what a service guide (办事指南) holds, in one place: its
-- fields with their Chinese names, the fixed lists (事项类型, 服务对象, 主题分类,
-- 网办深度), the normal form of a guide, the check of its values and of
-- the eight key elements (八要素) that must all be there before review, the
-- text the site's search reads, and the field-by-field comparison of two
-- versions. Pure Lua: the store, the forms and the import all use it.
local ptext = require("park.text")

local fields = {}

fields.KINDS = { "行政许可", "行政确认", "行政给付", "行政裁决", "行政奖励", "行政征收",
                 "行政检查", "其他行政权力", "公共服务" }
fields.OBJS = { "个人", "法人" }
-- 主题分类: life events for 个人, enterprise events for 法人 (after the
-- national service platform's lists, shortened to the park's services).
fields.THEMES = {
  ["个人"] = { "生育收养", "户籍办理", "教育科研", "就业创业", "社会保障", "住房保障",
               "婚姻登记", "医疗卫生", "证件办理", "优待抚恤", "离职退休", "其他" },
  ["法人"] = { "设立变更", "准营准办", "人才服务", "科技创新", "税收财务", "知识产权",
               "投资审批", "规划建设", "资质认证", "安全生产", "环保绿化", "其他" },
}
fields.DEPTHS = { "一级", "二级", "三级", "四级" }
fields.DEPTH_NOTES = { "网上提供办事指南", "网上预约、下载表格", "网上申报、预审，到窗口领取结果",
                       "全程网上办理" }
-- From this depth on a guide must give its 在线办理 link.
fields.ONLINE_FROM = 3
fields.MATERIAL_FORMS = { "原件", "复印件", "原件和复印件" }

local function set_of(list)
  local s = {}
  for _, v in ipairs(list) do s[v] = true end
  return s
end
local KIND_SET, OBJ_SET, FORM_SET = set_of(fields.KINDS), set_of(fields.OBJS),
  set_of(fields.MATERIAL_FORMS)
local THEME_SET = {}
for _, obj in ipairs(fields.OBJS) do
  for _, t in ipairs(fields.THEMES[obj]) do THEME_SET[t] = true end
end

--- Whether `t` is a theme of either list.
function fields.is_theme(t) return THEME_SET[t] == true end

-- The fields in the order a guide is read, with the element (八要素) each
-- belongs to: the labels used on the forms, in errors and comparisons.
fields.LABELS = {
  { "name", "事项名称" }, { "kind", "事项类型" }, { "objs", "服务对象" }, { "themes", "主题分类" },
  { "unit", "责任单位" }, { "basis", "设定依据" }, { "conditions", "申请条件" },
  { "materials", "办理材料" }, { "address", "办理地点" }, { "hall", "办事大厅" },
  { "window", "窗口" }, { "hours", "办理时间" }, { "phone_ask", "咨询电话" },
  { "phone_complain", "投诉电话" }, { "steps", "办理流程" }, { "legal_days", "法定时限" },
  { "promise_days", "承诺时限" }, { "runs", "跑动次数" }, { "fee", "收费标准" },
  { "depth", "网办深度" }, { "online_url", "在线办理地址" }, { "faq", "常见问题" },
}
fields.LABEL = {}
for _, l in ipairs(fields.LABELS) do fields.LABEL[l[1]] = l[2] end

local function trim(s)
  if type(s) ~= "string" then s = s == nil and "" or tostring(s) end
  return ptext.trim(s)
end
fields.trim = trim

local function int_or_nil(v)
  if type(v) == "number" then return math.tointeger(v) end
  if type(v) == "string" and v:match("^%s*%d+%s*$") then return math.tointeger(tonumber(v)) end
  return nil
end

local function list_of(v)
  if type(v) == "table" then return v end
  return {}
end

local function bool_of(v)
  if v == true or v == 1 or v == "1" or v == "必要" or v == "是" or v == "true" then return true end
  return false
end

--- The normal form of a guide from any table (a form, JSON, a CSV row):
-- strings trimmed, lists of the right shape, numbers as integers or nil
-- where they are not numbers (the check says so).
function fields.normal(d)
  d = type(d) == "table" and d or {}
  local g = {}
  for _, k in ipairs({ "name", "kind", "unit", "conditions", "address", "hall", "window",
                       "hours", "phone_ask", "phone_complain", "fee", "online_url" }) do
    g[k] = trim(d[k])
  end
  g.bad_numbers = {}
  for _, k in ipairs({ "legal_days", "promise_days", "runs", "depth" }) do
    local raw = d[k]
    g[k] = int_or_nil(raw)
    if g[k] == nil and trim(raw) ~= "" then g.bad_numbers[k] = true end
  end
  if type(d.depth) == "string" then
    for i, name in ipairs(fields.DEPTHS) do
      if trim(d.depth) == name then g.depth, g.bad_numbers.depth = i, nil end
    end
  end
  g.objs, g.themes = {}, {}
  for _, o in ipairs(list_of(d.objs)) do g.objs[#g.objs + 1] = trim(o) end
  for _, t in ipairs(list_of(d.themes)) do g.themes[#g.themes + 1] = trim(t) end
  g.basis = {}
  for _, b in ipairs(list_of(d.basis)) do
    if type(b) == "string" then b = { title = b } end
    if type(b) == "table" then
      local item = { title = trim(b.title), url = trim(b.url) }
      if item.title ~= "" or item.url ~= "" then g.basis[#g.basis + 1] = item end
    end
  end
  g.materials = {}
  for _, m in ipairs(list_of(d.materials)) do
    if type(m) == "table" then
      local item = { name = trim(m.name), copies = int_or_nil(m.copies), form = trim(m.form),
                     required = bool_of(m.required), note = trim(m.note),
                     blank = int_or_nil(m.blank), sample = int_or_nil(m.sample),
                     bad_copies = m.copies ~= nil and trim(m.copies) ~= "" and
                       int_or_nil(m.copies) == nil or nil }
      if item.name ~= "" or item.copies or item.blank or item.sample or m.pending then
        g.materials[#g.materials + 1] = item
      end
    end
  end
  g.steps = {}
  for _, s in ipairs(list_of(d.steps)) do
    s = trim(s)
    if s ~= "" then g.steps[#g.steps + 1] = s end
  end
  g.faq = {}
  for _, f in ipairs(list_of(d.faq)) do
    if type(f) == "table" then
      local item = { q = trim(f.q), a = trim(f.a) }
      if item.q ~= "" or item.a ~= "" then g.faq[#g.faq + 1] = item end
    end
  end
  return g
end

local function len(s) return utf8.len(s) or #s end

-- A telephone number: digits, - ( ) + and spaces, （ ） and 转 (extension).
local function phone_ok(s)
  s = s:gsub("（", ""):gsub("）", ""):gsub("转", "")
  return s:match("^[%d%-%s()+]+$") ~= nil and s:find("%d%d%d%d%d") ~= nil
end

--- The problems of a guide, each { field =, message = } with the message
-- in Chinese naming the element ("办理地点：请填写地址"). `full`: also every
-- element that is missing (before review); without it only values that
-- are wrong (a draft may be saved unfinished). `units`: the set of unit codes.
function fields.check(g, full, units)
  local errs = {}
  local bad = g.bad_numbers or {}
  local function add(field, msg) errs[#errs + 1] = { field = field, message = msg } end
  local function missing(field, msg) if full then add(field, msg) end end
  -- 1. 事项名称
  if g.name == "" then add("name", "事项名称：请填写事项名称")
  elseif len(g.name) > 100 then add("name", "事项名称：最多 100 字") end
  if g.kind == "" then missing("kind", "事项类型：请选择事项类型")
  elseif not KIND_SET[g.kind] then add("kind", "事项类型：“" .. g.kind .. "”不是可选的类型") end
  if #g.objs == 0 then missing("objs", "服务对象：请选择个人或法人") end
  for _, o in ipairs(g.objs) do
    if not OBJ_SET[o] then add("objs", "服务对象：只能是个人或法人，不能是“" .. o .. "”") end
  end
  for _, t in ipairs(g.themes) do
    if not THEME_SET[t] then add("themes", "主题分类：“" .. t .. "”不是可选的主题") end
  end
  if g.unit == "" then add("unit", "责任单位：请选择责任单位")
  elseif units and not units[g.unit] then add("unit", "责任单位：没有代码为“" .. g.unit .. "”的单位") end
  -- 2. 设定依据
  if #g.basis == 0 then missing("basis", "设定依据：请至少填写一项设定依据") end
  for i, b in ipairs(g.basis) do
    if b.title == "" then add("basis", ("设定依据第 %d 项：请填写依据名称"):format(i)) end
    if b.url ~= "" and not b.url:match("^https?://[%w%.%-]+[%w%-]") then
      add("basis", ("设定依据第 %d 项：链接应以 http:// 或 https:// 开头"):format(i))
    end
  end
  -- 3. 申请条件
  if g.conditions == "" then missing("conditions", "申请条件：请填写申请条件") end
  -- 4. 办理材料
  if #g.materials == 0 then missing("materials", "办理材料：请至少填写一项材料") end
  for i, m in ipairs(g.materials) do
    local p = ("办理材料第 %d 项："):format(i)
    if m.name == "" then add("materials", p .. "请填写材料名称") end
    if m.bad_copies or (m.copies and (m.copies < 1 or m.copies > 99)) then
      add("materials", p .. "份数应为 1 到 99 的整数")
    elseif not m.copies then missing("materials", p .. "请填写份数") end
    if m.form == "" then missing("materials", p .. "请选择原件或复印件")
    elseif not FORM_SET[m.form] then add("materials", p .. "只能是原件、复印件或原件和复印件") end
  end
  -- 5. 办理地点
  if g.address == "" then missing("address", "办理地点：请填写地址") end
  -- 6. 办理时间
  if g.hours == "" then missing("hours", "办理时间：请填写办理时间") end
  -- 7. 联系电话
  if g.phone_ask == "" then missing("phone_ask", "联系电话：请填写咨询电话")
  elseif not phone_ok(g.phone_ask) then add("phone_ask", "联系电话：咨询电话只能有数字、-、括号和“转”") end
  if g.phone_complain == "" then missing("phone_complain", "联系电话：请填写投诉电话")
  elseif not phone_ok(g.phone_complain) then
    add("phone_complain", "联系电话：投诉电话只能有数字、-、括号和“转”")
  end
  -- 8. 办理流程
  if #g.steps == 0 then missing("steps", "办理流程：请至少填写一个步骤") end
  -- The time limits, in working days: 承诺 ≤ 法定.
  for _, k in ipairs({ "legal_days", "promise_days" }) do
    local v = g[k]
    if bad[k] or (v and (v < 0 or v > 999)) then
      add(k, fields.LABEL[k] .. "：请填写 0 到 999 的工作日数")
    elseif v == nil then missing(k, fields.LABEL[k] .. "：请填写工作日数（即办填 0）") end
  end
  if g.legal_days and g.promise_days and g.promise_days > g.legal_days then
    add("promise_days", ("承诺时限：不能超过法定时限（%d 个工作日）"):format(g.legal_days))
  end
  if bad.runs or (g.runs and (g.runs < 0 or g.runs > 9)) then
    add("runs", "跑动次数：请填写 0 到 9 的次数")
  elseif g.runs == nil then missing("runs", "跑动次数：请填写到现场的次数（零跑动填 0）") end
  if g.fee == "" then missing("fee", "收费标准：请填写收费标准（不收费请填“不收费”）") end
  if bad.depth or (g.depth and (g.depth < 1 or g.depth > 4)) then
    add("depth", "网办深度：请选择一级到四级")
  elseif g.depth == nil then missing("depth", "网办深度：请选择网办深度") end
  if g.online_url ~= "" and not g.online_url:match("^https://[%w%-]+%.[%w%.%-]+") then
    add("online_url", "在线办理地址：应为以 https:// 开头的网址")
  elseif g.online_url == "" and g.depth and g.depth >= fields.ONLINE_FROM then
    missing("online_url", "在线办理地址：网办深度为三级或四级时请填写在线办理的网址")
  end
  for i, f in ipairs(g.faq) do
    if f.q == "" or f.a == "" then
      add("faq", ("常见问题第 %d 项：请同时填写问题和解答"):format(i))
    end
  end
  return errs
end

--- The guide as kept (JSON in guides_versions.data): the normal form
-- without the check's scratch fields.
function fields.kept(g)
  local out = {}
  for k, v in pairs(g) do
    if k ~= "bad_numbers" then out[k] = v end
  end
  for _, m in ipairs(out.materials or {}) do m.bad_copies = nil end
  return out
end

--- A kept guide read back from JSON (numbers decoded as floats become integers).
function fields.from_json(d)
  local g = fields.normal(d)
  g.bad_numbers = nil
  for _, m in ipairs(g.materials) do m.bad_copies = nil end
  return g
end

--- 服务对象 as the bits of guides_items.obj: 1 个人, 2 法人.
function fields.obj_bits(g)
  local bits = 0
  for _, o in ipairs(g.objs or {}) do
    if o == "个人" then bits = bits | 1 elseif o == "法人" then bits = bits | 2 end
  end
  return bits
end

--- 最多跑一次 / 零跑动 / nothing.
function fields.runs_label(runs)
  if runs == 0 then return "零跑动" end
  if runs == 1 then return "最多跑一次" end
  return nil
end

--- What the site's search reads besides the name.
function fields.search_text(g)
  local parts = { g.kind, table.concat(g.objs or {}, " "), table.concat(g.themes or {}, " "),
                  g.conditions }
  for _, m in ipairs(g.materials or {}) do parts[#parts + 1] = m.name end
  for _, b in ipairs(g.basis or {}) do parts[#parts + 1] = b.title end
  for _, s in ipairs(g.steps or {}) do parts[#parts + 1] = s end
  parts[#parts + 1] = g.address
  for _, f in ipairs(g.faq or {}) do parts[#parts + 1] = f.q end
  return table.concat(parts, "\n")
end

-- A field's value as one text, for the comparison of versions.
local function shown(g, k)
  local v = g[k]
  if k == "materials" then
    local out = {}
    for i, m in ipairs(v or {}) do
      out[i] = ("%d. %s，%s份，%s，%s%s%s"):format(i, m.name, m.copies or "?", m.form,
        m.required and "必要" or "非必要", m.blank and "，有空表" or "",
        m.sample and "，有样表" or "")
    end
    return table.concat(out, "\n")
  elseif k == "basis" then
    local out = {}
    for i, b in ipairs(v or {}) do out[i] = b.title .. (b.url ~= "" and (" " .. b.url) or "") end
    return table.concat(out, "\n")
  elseif k == "faq" then
    local out = {}
    for i, f in ipairs(v or {}) do out[i] = "问：" .. f.q .. "\n答：" .. f.a end
    return table.concat(out, "\n")
  elseif k == "depth" then
    return v and fields.DEPTHS[v] or ""
  elseif type(v) == "table" then
    return table.concat(v, k == "steps" and "\n" or "、")
  end
  return v == nil and "" or tostring(v)
end
fields.shown = shown

--- The fields that differ between two guides: { { label =, a =, b = } }.
function fields.diff(a, b)
  local out = {}
  for _, l in ipairs(fields.LABELS) do
    local x, y = shown(a, l[1]), shown(b, l[1])
    if x ~= y then out[#out + 1] = { field = l[1], label = l[2], a = x, b = y } end
  end
  return out
end

return fields
