-- guides_io: import and export of items as JSON and as a flat CSV (one row
-- per item; README.md documents both). Parsing gives the items in the
-- normal form (guides_fields) with their row numbers; the caller checks
-- every row and imports all of them or none.
local cjson = require("cjson")
local fields = require("guides_fields")

local io_ = {}

io_.FORMAT = "parkhost-guides/1"

-- The CSV's columns: header, field.
io_.COLUMNS = {
  { "事项名称", "name" }, { "事项类型", "kind" }, { "服务对象", "objs" }, { "主题分类", "themes" },
  { "责任单位", "unit" }, { "设定依据", "basis" }, { "申请条件", "conditions" },
  { "办理材料", "materials" }, { "地址", "address" }, { "办事大厅", "hall" }, { "窗口", "window" },
  { "办理时间", "hours" }, { "咨询电话", "phone_ask" }, { "投诉电话", "phone_complain" },
  { "办理流程", "steps" }, { "法定时限", "legal_days" }, { "承诺时限", "promise_days" },
  { "跑动次数", "runs" }, { "收费标准", "fee" }, { "网办深度", "depth" },
  { "在线办理地址", "online_url" }, { "常见问题", "faq" },
}

---------------------------------------------------------------------------
-- Lists inside one CSV cell: entries joined by ";", an entry's parts by
-- "|"; a literal ; | or \ is written \; \| \\.
---------------------------------------------------------------------------

local function esc(s)
  return (tostring(s or ""):gsub("[\\;|]", "\\%0"))
end

local function join(entries)
  local out = {}
  for i, parts in ipairs(entries) do
    local p = {}
    for j, v in ipairs(parts) do p[j] = esc(v) end
    -- trailing empty parts are left out
    while #p > 1 and p[#p] == "" do p[#p] = nil end
    out[i] = table.concat(p, "|")
  end
  return table.concat(out, ";")
end

-- "a|b;c" -> { { "a", "b" }, { "c" } }
local function split(s)
  local entries, parts, cur = {}, {}, {}
  local i, n = 1, #s
  local function part() parts[#parts + 1] = fields.trim(table.concat(cur)); cur = {} end
  local function entry()
    part()
    if #parts > 1 or parts[1] ~= "" then entries[#entries + 1] = parts end
    parts = {}
  end
  while i <= n do
    local c = s:sub(i, i)
    if c == "\\" and i < n then
      cur[#cur + 1] = s:sub(i + 1, i + 1)
      i = i + 2
    else
      if c == ";" then entry() elseif c == "|" then part() else cur[#cur + 1] = c end
      i = i + 1
    end
  end
  entry()
  return entries
end
io_.split, io_.join = split, join

---------------------------------------------------------------------------
-- CSV (RFC 4180): fields quoted when they hold , " CR or LF.
---------------------------------------------------------------------------

local function csv_field(s)
  s = tostring(s or "")
  if s:find('[,"\r\n]') then return '"' .. s:gsub('"', '""') .. '"' end
  return s
end

--- Rows of a CSV text: a list of lists of fields, each with its line number.
function io_.csv_rows(text)
  text = text:gsub("^\239\187\191", "") -- a BOM (Excel's UTF-8)
  local rows, row, field = {}, {}, {}
  local i, n, line, row_line = 1, #text, 1, 1
  local quoted = false
  while i <= n do
    local c = text:sub(i, i)
    if quoted then
      if c == '"' then
        if text:sub(i + 1, i + 1) == '"' then field[#field + 1] = '"'; i = i + 1
        else quoted = false end
      else
        if c == "\n" then line = line + 1 end
        field[#field + 1] = c
      end
    elseif c == '"' then
      quoted = true
    elseif c == "," then
      row[#row + 1] = table.concat(field); field = {}
    elseif c == "\r" or c == "\n" then
      if c == "\r" and text:sub(i + 1, i + 1) == "\n" then i = i + 1 end
      row[#row + 1] = table.concat(field); field = {}
      row.line = row_line
      rows[#rows + 1] = row
      row = {}
      line = line + 1
      row_line = line
    else
      field[#field + 1] = c
    end
    i = i + 1
  end
  if #field > 0 or #row > 0 then
    row[#row + 1] = table.concat(field)
    row.line = row_line
    rows[#rows + 1] = row
  end
  return rows
end

local REQUIRED_LABEL = { ["必要"] = true, ["非必要"] = false, ["是"] = true, ["否"] = false }

--- The items of a CSV text: { { line =, g = normal guide, errors = } } or
-- nil and why (a header that does not fit).
function io_.from_csv(text)
  local rows = io_.csv_rows(text)
  if #rows == 0 then return nil, "文件是空的" end
  local header = rows[1]
  local at = {}
  for i, h in ipairs(header) do at[fields.trim(h)] = i end
  for _, c in ipairs(io_.COLUMNS) do
    if not at[c[1]] then return nil, "第 1 行（标题行）：缺少“" .. c[1] .. "”列" end
  end
  local out = {}
  for r = 2, #rows do
    local row = rows[r]
    local blank = true
    for _, v in ipairs(row) do if fields.trim(v) ~= "" then blank = false end end
    if not blank then
      local d, errors = {}, {}
      for _, c in ipairs(io_.COLUMNS) do d[c[2]] = row[at[c[1]]] or "" end
      local objs, themes, steps, basis, materials, faq = {}, {}, {}, {}, {}, {}
      for _, e in ipairs(split(d.objs)) do objs[#objs + 1] = e[1] end
      for _, e in ipairs(split(d.themes)) do themes[#themes + 1] = e[1] end
      for _, e in ipairs(split(d.steps)) do steps[#steps + 1] = table.concat(e, "|") end
      for _, e in ipairs(split(d.basis)) do basis[#basis + 1] = { title = e[1], url = e[2] } end
      for i, e in ipairs(split(d.materials)) do
        local req = REQUIRED_LABEL[e[4] or "必要"]
        if req == nil then
          errors[#errors + 1] = ("办理材料第 %d 项：必要性只能是“必要”或“非必要”"):format(i)
        end
        materials[#materials + 1] = { name = e[1], copies = e[2], form = e[3],
                                      required = req ~= false, note = e[5] }
      end
      for _, e in ipairs(split(d.faq)) do faq[#faq + 1] = { q = e[1], a = e[2] } end
      d.objs, d.themes, d.steps, d.basis, d.materials, d.faq = objs, themes, steps, basis,
        materials, faq
      out[#out + 1] = { line = row.line, g = fields.normal(d), errors = errors }
    end
  end
  return out
end

--- The CSV text of guides (a list of kept guides).
function io_.to_csv(guides)
  local lines = {}
  local h = {}
  for i, c in ipairs(io_.COLUMNS) do h[i] = c[1] end
  lines[1] = table.concat(h, ",")
  for _, g in ipairs(guides) do
    local v = {}
    local b, m, q, s, o, t = {}, {}, {}, {}, {}, {}
    for i, x in ipairs(g.basis) do b[i] = { x.title, x.url } end
    for i, x in ipairs(g.materials) do
      m[i] = { x.name, x.copies, x.form, x.required and "必要" or "非必要", x.note }
    end
    for i, x in ipairs(g.faq) do q[i] = { x.q, x.a } end
    for i, x in ipairs(g.steps) do s[i] = { x } end
    for i, x in ipairs(g.objs) do o[i] = { x } end
    for i, x in ipairs(g.themes) do t[i] = { x } end
    local lists = { basis = join(b), materials = join(m), faq = join(q), steps = join(s),
                    objs = join(o), themes = join(t),
                    depth = g.depth and fields.DEPTHS[g.depth] or "" }
    for i, c in ipairs(io_.COLUMNS) do
      local x = lists[c[2]]
      if x == nil then x = g[c[2]] end
      v[i] = csv_field(x == nil and "" or x)
    end
    lines[#lines + 1] = table.concat(v, ",")
  end
  return table.concat(lines, "\r\n") .. "\r\n"
end

---------------------------------------------------------------------------
-- JSON: { "format": "parkhost-guides/1", "items": [ guide, ... ] } or a
-- bare list of guides.
---------------------------------------------------------------------------

function io_.from_json(text)
  local ok, doc = pcall(cjson.decode, text)
  if not ok or type(doc) ~= "table" then return nil, "不是有效的 JSON 文件" end
  local list = doc.items or doc
  if type(list) ~= "table" or (next(list) ~= nil and list[1] == nil) then
    return nil, "JSON 文件应为事项的数组，或带有 items 数组的对象"
  end
  local out = {}
  for i, d in ipairs(list) do
    if type(d) ~= "table" then
      out[#out + 1] = { line = i, g = fields.normal({}), errors = { "不是一个事项对象" } }
    else
      -- Files are not carried by an export: an imported material has none.
      for _, m in ipairs(type(d.materials) == "table" and d.materials or {}) do
        if type(m) == "table" then m.blank, m.sample = nil, nil end
      end
      if type(d.depth) == "number" then d.depth = math.tointeger(d.depth) end
      out[#out + 1] = { line = i, g = fields.normal(d), errors = {} }
    end
  end
  return out
end

--- The export document of `items` ({ { id =, published =, g = } }).
function io_.to_json(column, items, now)
  local list = {}
  for i, it in ipairs(items) do
    local g = fields.kept(it.g)
    local e = { id = it.id, published = it.published == 1 }
    for _, l in ipairs(fields.LABELS) do e[l[1]] = g[l[1]] end
    e.materials = {}
    for j, m in ipairs(g.materials) do
      e.materials[j] = { name = m.name, copies = m.copies, form = m.form, required = m.required,
                         note = m.note ~= "" and m.note or nil,
                         blank_name = m.blank_name, sample_name = m.sample_name }
    end
    list[i] = e
  end
  local doc = { format = io_.FORMAT, column = column, exported_at = os.date("%Y-%m-%d %H:%M", now),
                items = list }
  -- Empty lists stay lists.
  return (cjson.encode(doc):gsub('":{}', '":[]'))
end

return io_
