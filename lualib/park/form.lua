-- park.form: a form declared once as a list of fields, which checks a posted
-- request into typed values or errors in Chinese, and gives the template
-- everything an accessible form needs (labels, refilled values, the error
-- summary linked to its fields, aria-invalid and aria-describedby, the CSRF
-- token and the idempotency nonce).
--
--   local form = require("park.form")
--   local F = form.new({
--     fields = {
--       { name = "title", label = "标题", type = "text", required = true, max_length = 80 },
--       { name = "age", label = "年龄", type = "integer", min = 18, max = 120 },
--       { name = "kind", label = "类别", type = "select", required = true,
--         choices = { { "advice", "建议" }, { "complaint", "投诉" } } },
--     },
--     nonce = "notices_nonces",          -- or true: the plugin stores the nonce itself
--   })
--   local values, errors = F:check(req)
--   -- values typed; errors nil or { title = "标题：请填写", _list = { ... } }
--   local ctx = { form = F:context(req, values, errors) }
--   -- templates: <%- include("park/form_errors.html", { form = form }) %>
--   --            <%- form.hidden %>   <%- include("park/field.html", { field = f }) %>
--   local outcome, ref = F:once(values, function() ... return id end)  -- "new" | "same"
--
-- docs/plugin-api.md ("Forms: park.form") is the reference. The pure parts
-- (form.new, F:check without a nonce, F:error) need nothing of the host;
-- F:context, the nonce and F:once call require("park") when they run.
local ptext = require("park.text")

local find, format, gsub, lower, match, sub =
  string.find, string.format, string.gsub, string.lower, string.match, string.sub
local concat, sort = table.concat, table.sort
local tointeger = math.tointeger
local ulen = utf8.len

local form = {}

local function host()
  return require("park")
end

---------------------------------------------------------------------------
-- Field declarations
---------------------------------------------------------------------------

local TYPES = {
  text = true, textarea = true, integer = true, number = true, date = true, datetime = true,
  email = true, phone = true, url = true, select = true, radio = true, checkbox = true,
  checkboxes = true, file = true,
}
form.TYPES = TYPES

local KEYS = {
  name = "string", label = "string", type = "string", required = "boolean",
  min_length = "number", max_length = "number", min = "any", max = "any", pattern = "string",
  choices = "any", check = "function", messages = "table", hint = "string", default = "any",
  max_bytes = "number", types = "table", multiple = "boolean", max_files = "number",
  rows = "number", autocomplete = "string", trim = "boolean", inputmode = "string",
}

-- The rules a custom message may be given for (field.messages[rule]).
local RULES = {
  required = true, min_length = true, max_length = true, min = true, max = true, type = true,
  choice = true, pattern = true, check = true, file_type = true, file_size = true,
  file_count = true, file_empty = true, encoding = true,
}

local CHOICE_TYPES = { select = true, radio = true, checkboxes = true }
-- Types whose value is a string typed by hand.
local STRING_TYPES = { text = true, textarea = true, email = true, phone = true, url = true }

local function fail(fname, msg, ...)
  error(format("park.form: field '%s': " .. msg, fname, ...), 3)
end

-- Choices as { { value =, label = } }: from { value, label } pairs,
-- { value =, label = } tables, or plain values (the label is the value).
local function norm_choices(list, fname)
  if type(list) ~= "table" then fail(fname, "choices must be a list") end
  local out, seen = {}, {}
  for i, c in ipairs(list) do
    local v, l
    if type(c) == "table" then
      v, l = c.value, c.label
      if v == nil then v, l = c[1], c[2] end
    else
      v = c
    end
    if type(v) ~= "string" and type(v) ~= "number" then
      fail(fname, "choice %d: the value must be a string or a number", i)
    end
    if l == nil then l = tostring(v) end
    if seen[tostring(v)] then fail(fname, "choice %d: the value '%s' is there twice", i, v) end
    seen[tostring(v)] = true
    out[i] = { value = v, label = tostring(l) }
  end
  return out
end

local function declare(f, i, prefix)
  if type(f) ~= "table" then error(format("park.form: fields[%d] must be a table", i), 3) end
  local fname = f.name
  if type(fname) ~= "string" or not match(fname, "^%a[%w_%-]*$") or #fname > 64 then
    error(format("park.form: fields[%d]: the name must be 1 to 64 of a-z A-Z 0-9 _ -, "
      .. "starting with a letter", i), 3)
  end
  for k, v in pairs(f) do
    local want = KEYS[k]
    if not want then fail(fname, "unknown key '%s'", tostring(k)) end
    if want ~= "any" and type(v) ~= want then fail(fname, "'%s' must be a %s", k, want) end
  end
  if type(f.label) ~= "string" or f.label == "" then fail(fname, "a label is required") end
  local t = f.type or "text"
  if not TYPES[t] then fail(fname, "unknown type '%s'", tostring(t)) end
  local d = {}
  for k, v in pairs(f) do d[k] = v end
  d.type, d.id = t, prefix .. fname
  if CHOICE_TYPES[t] then
    if f.choices == nil then fail(fname, "a %s needs choices", t) end
    if type(f.choices) ~= "function" then d.choices = norm_choices(f.choices, fname) end
  elseif f.choices ~= nil then
    fail(fname, "choices are for select, radio and checkboxes, not %s", t)
  end
  for rule in pairs(f.messages or {}) do
    if not RULES[rule] then fail(fname, "messages: unknown rule '%s'", tostring(rule)) end
  end
  if f.pattern then
    -- Anchored at both ends: the whole value must match.
    local p = f.pattern
    if sub(p, 1, 1) ~= "^" then p = "^" .. p end
    local tail = match(p, "(%%*)%$$")
    if not (tail and #tail % 2 == 0) then p = p .. "$" end
    d.anchored = p
    if not STRING_TYPES[t] then fail(fname, "a pattern is for text-like fields, not %s", t) end
  end
  if t == "file" then
    if f.types then
      local set = {}
      for _, e in ipairs(f.types) do set[lower(tostring(e)):gsub("^%.", "")] = true end
      d.type_set = set
    end
    d.max_files = f.multiple and (f.max_files or 10) or 1
  end
  return d
end

--- A form from its declaration: `fields` (a list, in the order shown),
-- `nonce` (true, or the name of the plugin's nonce table), `id_prefix`
-- (default "f-": the ids of the fields' elements). Raises on a mistake in
-- the declaration (an unknown key or type, a missing label).
function form.new(spec)
  if type(spec) ~= "table" or type(spec.fields) ~= "table" then
    error("park.form.new: a table with a list of fields is expected", 2)
  end
  local prefix = spec.id_prefix or "f-"
  if type(prefix) ~= "string" or not match(prefix, "^[%a][%w_%-]*$") then
    error("park.form.new: id_prefix must start with a letter (a-z A-Z 0-9 _ -)", 2)
  end
  local nonce = spec.nonce
  if nonce ~= nil and nonce ~= false and nonce ~= true
     and not (type(nonce) == "string" and match(nonce, "^%a[%w_]*$")) then
    error("park.form.new: nonce must be true or the name of the plugin's nonce table", 2)
  end
  if spec.check ~= nil and type(spec.check) ~= "function" then
    error("park.form.new: check must be a function(values, errors)", 2)
  end
  local F = setmetatable({ fields = {}, by_name = {}, nonce = nonce or false,
                           check_all = spec.check,
                           nonce_table = type(nonce) == "string" and nonce or nil,
                           multipart = false }, form.Form)
  for i, f in ipairs(spec.fields) do
    local d = declare(f, i, prefix)
    if F.by_name[d.name] then error(format("park.form.new: two fields named '%s'", d.name), 2) end
    d.index = i
    F.fields[i], F.by_name[d.name] = d, d
    if d.type == "file" then F.multipart = true end
  end
  return F
end

local Form = {}
Form.__index = Form
form.Form = Form

---------------------------------------------------------------------------
-- Checking
---------------------------------------------------------------------------

--- The name of the hidden field that carries the nonce.
form.NONCE_FIELD = "_nonce"

-- A nonce as park.token() makes them (or a plugin's own of the same alphabet).
local function good_nonce(s)
  return type(s) == "string" and #s >= 16 and #s <= 64 and match(s, "^[%w_%-]+$") ~= nil
end
form.good_nonce = good_nonce

-- Full-width digits, signs and separators (typed with a Chinese IME) as ASCII.
local WIDE = { ["０"] = "0", ["１"] = "1", ["２"] = "2", ["３"] = "3", ["４"] = "4",
               ["５"] = "5", ["６"] = "6", ["７"] = "7", ["８"] = "8", ["９"] = "9",
               ["－"] = "-", ["＋"] = "+", ["．"] = ".", ["（"] = "(", ["）"] = ")",
               ["　"] = " " }
local function narrow(s)
  if not find(s, "[\xE3\xEF]") then return s end
  return (gsub(s, "\xEF\xBC[\x88-\x99]", WIDE):gsub("\xE3\x80\x80", " "))
end

local function days_in(y, m)
  if m == 2 then
    return ((y % 4 == 0 and y % 100 ~= 0) or y % 400 == 0) and 29 or 28
  end
  return (m == 4 or m == 6 or m == 9 or m == 11) and 30 or 31
end

-- "2026-1-5", "2026/01/05" -> "2026-01-05"; nil, why.
local function parse_date(s)
  local y, m, d = match(s, "^(%d%d%d%d)[%-/](%d%d?)[%-/](%d%d?)$")
  if not y then return nil, "format" end
  y, m, d = tointeger(tonumber(y)), tointeger(tonumber(m)), tointeger(tonumber(d))
  if m < 1 or m > 12 or d < 1 or d > days_in(y, m) or y < 1900 then return nil, "date" end
  return format("%04d-%02d-%02d", y, m, d)
end
form.parse_date = parse_date

-- "2026-12-01 09:30" or "2026-12-01T09:30[:ss]" -> seconds (the site's
-- zone); nil, why.
local function parse_datetime(s)
  local ds, hh, mm, ss = match(s, "^(%d%d%d%d[%-/]%d%d?[%-/]%d%d?)[ T](%d%d?):(%d%d):?(%d?%d?)$")
  if not ds then return nil, "format" end
  local date, why = parse_date(ds)
  if not date then return nil, why end
  hh, mm, ss = tointeger(tonumber(hh)), tointeger(tonumber(mm)), tointeger(tonumber(ss)) or 0
  if hh > 23 or mm > 59 or ss > 59 then return nil, "date" end
  local y, m, d = match(date, "^(%d+)%-(%d+)%-(%d+)$")
  return os.time({ year = tonumber(y), month = tonumber(m), day = tonumber(d), hour = hh,
                   min = mm, sec = ss })
end
form.parse_datetime = parse_datetime

-- A min/max bound of a datetime field (a time, or a string typed like one).
local function time_bound(v)
  if type(v) == "number" then return v end
  if type(v) == "string" then
    return parse_datetime(v) or (parse_date(v) and parse_datetime(parse_date(v) .. " 00:00"))
  end
end

-- A Chinese mobile number (11 digits, 1[3-9]..., optionally +86) or a
-- landline with its area code (0xx or 0xxx, 7 or 8 digits, an extension),
-- or a 400/800 service number; normalised, or nil.
local function parse_phone(s)
  s = gsub(narrow(s), "%s", "")
  local bare = gsub(s, "%-", "")
  local m = match(bare, "^%+?86(1[3-9]%d%d%d%d%d%d%d%d%d)$") or match(bare, "^(1[3-9]%d+)$")
  if m and #m == 11 then return m end
  m = gsub(s, "^%+?86%-?", "")
  -- (0571)88886666 -> 0571-88886666
  local area, rest = match(m, "^%((0%d%d%d?)%)%-?(.*)$")
  if not area then area, rest = match(m, "^(0%d%d%d?)%-(.*)$") end
  if not area then
    local digits = match(m, "^(0%d+)$") or match(m, "^(0%d+)%-%d+$")
    if digits then
      local n = (match(digits, "^0[12]") and 3 or 4)
      area, rest = sub(m, 1, n), sub(m, n + 1)
    end
  end
  if area then
    local num, ext = match(rest, "^([2-9]%d%d%d%d%d%d%d?)$"), nil
    if not num then num, ext = match(rest, "^([2-9]%d%d%d%d%d%d%d?)%-(%d%d?%d?%d?%d?%d?)$") end
    if num and (#area == 3 and match(area, "^0[12]") or #area == 4) then
      return area .. "-" .. num .. (ext and ("-" .. ext) or "")
    end
    return nil
  end
  local a, b, c = match(m, "^([48]00)%-?(%d%d%d)%-?(%d%d%d%d)$")
  if a then return a .. "-" .. b .. "-" .. c end
  return nil
end
form.parse_phone = parse_phone

local function parse_email(s)
  if #s > 254 then return nil end
  local user, domain = match(s, "^([%w.!#$%%&'*+/=?^_`{|}~-]+)@([%w.-]+)$")
  if not user or #user > 64 or find(user, "..", 1, true) or sub(user, 1, 1) == "."
     or sub(user, -1) == "." then
    return nil
  end
  if not match(domain, "^[%w-]+%.[%w.-]*%a%a$") or find(domain, "..", 1, true)
     or find(domain, "%.%-") or find(domain, "%-%.") then
    return nil
  end
  return user .. "@" .. lower(domain)
end
form.parse_email = parse_email

local function parse_url(s)
  if #s > 2000 or find(s, "[%c%s\"'<>\\`]") then return nil end
  local scheme, hostpart = match(s, "^([hH][tT][tT][pP][sS]?)://([^/?#]+)")
  if not scheme or not match(hostpart, "^[%w.:%-%[%]@]+$") or not find(hostpart, "%w") then
    return nil
  end
  return s
end
form.parse_url = parse_url

local INTEGER_MAX_DIGITS = 15

local function parse_integer(s)
  s = gsub(narrow(s), "[,，]", "")
  if not match(s, "^[+-]?%d+$") or #gsub(s, "^[+-]?0*", "") > INTEGER_MAX_DIGITS then
    return nil
  end
  return tointeger(tonumber((gsub(s, "^%+", ""))))
end

local function parse_number(s)
  s = gsub(narrow(s), "[,，]", "")
  if not (match(s, "^[+-]?%d+%.?%d*$") or match(s, "^[+-]?%.%d+$")) or #s > 40 then return nil end
  local n = tonumber((gsub(s, "^%+", "")))
  if not n or n ~= n or n == math.huge or n == -math.huge then return nil end
  return n
end

-- Bytes as people read them: 5 MB, 200 KB.
local function bytes_text(n)
  if n >= 1024 * 1024 and n % (1024 * 1024) == 0 then return format("%d MB", n // (1024 * 1024)) end
  if n >= 1024 * 1024 then return format("%.1f MB", n / (1024 * 1024)) end
  if n >= 1024 and n % 1024 == 0 then return format("%d KB", n // 1024) end
  if n >= 1024 then return format("%.1f KB", n / 1024) end
  return format("%d 字节", n)
end
form.bytes_text = bytes_text

local function num_text(v)
  if tointeger(v) then return format("%d", tointeger(v)) end
  if type(v) == "number" then return (gsub(format("%.6f", v), "%.?0+$", "")) end
  return tostring(v)
end

local function choices_of(f, req)
  if type(f.choices) == "function" then return norm_choices(f.choices(req), f.name) end
  return f.choices
end

-- The message of a failed rule: the field's own, or the default (formatted).
local function msg(f, rule, default, ...)
  local own = f.messages and f.messages[rule]
  if own then return own end
  if select("#", ...) > 0 then return format(default, ...) end
  return default
end

local REQUIRED = { select = "请选择", radio = "请选择", checkboxes = "请选择",
                   checkbox = "请勾选", file = "请选择文件" }

local CONTROL = "[%z\1-\8\11\12\14-\31\127]"

-- Length and content rules of a string a person typed; the message or nil.
local function check_string(f, s)
  local n = ulen(s)
  if not n or find(s, CONTROL) then return msg(f, "encoding", "含有无法识别的字符") end
  if f.min_length and n < f.min_length then
    return msg(f, "min_length", "至少 %d 个字，现有 %d 个字", f.min_length, n)
  end
  if f.max_length and n > f.max_length then
    return msg(f, "max_length", "最多 %d 个字，现有 %d 个字", f.max_length, n)
  end
  if f.pattern and not match(s, f.anchored) then
    return msg(f, "pattern", "格式不正确")
  end
end

-- One field from the request: its typed value and its message (or nil).
local function check_field(f, req, posted)
  local t = f.type
  if t == "file" then
    local ups = {}
    for _, up in ipairs(req.files and req.files[f.name] or {}) do
      if not (up.filename == "" and up.size == 0) then ups[#ups + 1] = up end
    end
    if #ups == 0 then
      if f.required then return nil, msg(f, "required", REQUIRED.file) end
      return f.multiple and {} or nil
    end
    if #ups > f.max_files then
      return nil, msg(f, "file_count", "最多 %d 个文件", f.max_files)
    end
    for _, up in ipairs(ups) do
      local ext = lower(match(up.filename or "", "%.([%w]+)$") or "")
      if f.type_set and not f.type_set[ext] then
        local list = {}
        for _, e in ipairs(f.types) do list[#list + 1] = tostring(e) end
        return nil, msg(f, "file_type", "“%s”的类型不允许，可上传 %s 文件", up.filename,
          concat(list, "、"))
      end
      if up.size == 0 then return nil, msg(f, "file_empty", "“%s”是空文件", up.filename) end
      if f.max_bytes and up.size > f.max_bytes then
        return nil, msg(f, "file_size", "“%s”超过 %s", up.filename, bytes_text(f.max_bytes))
      end
    end
    if f.multiple then return ups end
    return ups[1]
  end
  if t == "checkboxes" then
    local list = req.form_all and req:form_all(f.name) or {}
    local choices = choices_of(f, req)
    local want = {}
    for _, s in ipairs(list) do
      if s ~= "" then want[s] = true end
    end
    local out, n = {}, 0
    for _, c in ipairs(choices) do
      if want[tostring(c.value)] then
        out[#out + 1] = c.value
        want[tostring(c.value)] = nil
        n = n + 1
      end
    end
    if next(want) then return out, msg(f, "choice", "请从列表中选择") end
    if n == 0 and f.required then return out, msg(f, "required", REQUIRED.checkboxes) end
    if f.min and n > 0 and n < f.min then return out, msg(f, "min", "至少选择 %d 项", f.min) end
    if f.max and n > f.max then return out, msg(f, "max", "最多选择 %d 项", f.max) end
    return out
  end
  if t == "checkbox" then
    local on = posted ~= nil and posted ~= "" and posted ~= "0"
    if f.required and not on then return false, msg(f, "required", REQUIRED.checkbox) end
    return on
  end
  local s = posted or ""
  if type(s) ~= "string" then s = tostring(s) end
  if t == "textarea" then s = gsub(s, "\r\n?", "\n") end
  if f.trim ~= false then s = ptext.trim(s) end
  if s == "" then
    if f.required then return nil, msg(f, "required", REQUIRED[t] or "请填写") end
    return STRING_TYPES[t] and "" or nil
  end
  if STRING_TYPES[t] then
    local why = check_string(f, s)
    if why then return nil, why end
    local v = s
    if t == "email" then
      v = parse_email(s)
      if not v then return nil, msg(f, "type", "格式不正确") end
    elseif t == "phone" then
      v = parse_phone(s)
      if not v then return nil, msg(f, "type", "应为 11 位手机号码或带区号的固定电话") end
    elseif t == "url" then
      v = parse_url(s)
      if not v then return nil, msg(f, "type", "应为以 http:// 或 https:// 开头的网址") end
    end
    return v
  end
  if t == "integer" or t == "number" then
    local v = (t == "integer" and parse_integer or parse_number)(s)
    if not v then return nil, msg(f, "type", t == "integer" and "应为整数" or "应为数字") end
    if f.min and v < f.min then return nil, msg(f, "min", "不能小于 %s", num_text(f.min)) end
    if f.max and v > f.max then return nil, msg(f, "max", "不能大于 %s", num_text(f.max)) end
    return v
  end
  if t == "date" then
    local v, why = parse_date(narrow(s))
    if not v then
      return nil, msg(f, "type", why == "date" and "不是有效的日期" or "格式应为 2026-01-31")
    end
    if f.min and v < f.min then return nil, msg(f, "min", "不能早于 %s", f.min) end
    if f.max and v > f.max then return nil, msg(f, "max", "不能晚于 %s", f.max) end
    return v
  end
  if t == "datetime" then
    local v, why = parse_datetime(narrow(s))
    if not v then
      return nil, msg(f, "type", why == "date" and "不是有效的日期和时间"
        or "格式应为 2026-01-31 09:30")
    end
    local lo, hi = time_bound(f.min), time_bound(f.max)
    if lo and v < lo then
      return nil, msg(f, "min", "不能早于 %s", os.date("%Y-%m-%d %H:%M", lo))
    end
    if hi and v > hi then
      return nil, msg(f, "max", "不能晚于 %s", os.date("%Y-%m-%d %H:%M", hi))
    end
    return v
  end
  -- select, radio: one of the choices, with the choice's own value.
  for _, c in ipairs(choices_of(f, req)) do
    if tostring(c.value) == s then return c.value end
  end
  return nil, msg(f, "choice", "请从列表中选择")
end

-- "标题：请填写": the label before a message, unless the message has it.
local function labelled(f, message)
  local head = f.label .. "："
  if sub(message, 1, #head) == head then return message end
  return head .. message
end

local function order_list(F, errors)
  local list = errors._list
  for i, e in ipairs(list) do e.seq = e.seq or i end
  sort(list, function(a, b)
    local ia = a.name and F.by_name[a.name] and F.by_name[a.name].index or 0
    local ib = b.name and F.by_name[b.name] and F.by_name[b.name].index or 0
    if ia ~= ib then return ia < ib end
    return a.seq < b.seq
  end)
end

-- The element a link of the error summary moves to: the field's input, or
-- the first input of a group of radios or checkboxes.
local function focus_id(f)
  if f.type == "radio" or f.type == "checkboxes" then return f.id .. "-1" end
  return f.id
end

--- Add an error to `errors` (a table from F:check, or nil for a new one)
-- and return it: `name` a field's name (its message is prefixed with the
-- label and shown at the field), or nil for an error of the whole form.
function Form:error(errors, name, message)
  if type(message) ~= "string" then error("park.form: error: the message must be a string", 2) end
  errors = errors or { _list = {} }
  errors._list = errors._list or {}
  local f = name and self.by_name[name]
  if name and not f then error(format("park.form: error: no field named '%s'", name), 2) end
  if f then
    if errors[name] then return errors end -- one message per field: the first
    message = labelled(f, message)
    errors[name] = message
  end
  errors._list[#errors._list + 1] = { name = name, id = f and f.id, message = message,
                                      href = f and ("#" .. focus_id(f)) or nil }
  order_list(self, errors)
  return errors
end

--- Check a request against the form: `values` (every field's typed value;
-- `values._nonce` the nonce posted, or a new one) and `errors` (nil when
-- there is none, else field name -> "标签：原因" and `_list`, in the form's
-- order: { { name =, id =, message =, href = "#f-name" }, ... }).
function Form:check(req)
  local posted = req.form or {}
  local values, errors = {}, nil
  local good = {}
  for _, f in ipairs(self.fields) do
    local v, why = check_field(f, req, posted[f.name])
    values[f.name] = v
    if why then
      errors = self:error(errors, f.name, why)
    else
      good[f.name] = true
    end
  end
  -- Custom checks run once every field is typed, so one may look at others;
  -- not on an empty field (required = true says whether one may be empty).
  for _, f in ipairs(self.fields) do
    local v = values[f.name]
    if f.check and good[f.name] and v ~= nil and v ~= ""
       and not (type(v) == "table" and #v == 0 and f.type ~= "file") then
      local why = f.check(v, values)
      if why ~= nil then
        if type(why) ~= "string" then
          error(format("park.form: field '%s': check must return nil or a message", f.name), 2)
        end
        errors = self:error(errors, f.name, why)
      end
    end
  end
  -- The form's own check: rules between fields ("结束日期" after "开始日期").
  if self.check_all then
    local more = self.check_all(values, errors)
    if more ~= nil then
      if type(more) ~= "table" then
        error("park.form: the form's check must return nil or { name = message }", 2)
      end
      local names = {}
      for k in pairs(more) do names[#names + 1] = k end
      sort(names, function(a, b) return tostring(a) < tostring(b) end)
      for _, k in ipairs(names) do
        errors = self:error(errors, type(k) == "string" and k or nil, more[k])
      end
    end
  end
  if errors then
    -- A browser never sends files again: say so at each file field that had one.
    for _, f in ipairs(self.fields) do
      if f.type == "file" and not errors[f.name] and values[f.name] ~= nil
         and (not f.multiple or #values[f.name] > 0) then
        errors = self:error(errors, f.name, "请重新选择文件（提交未成功时，已选的文件不会保留）")
      end
    end
  end
  if self.nonce then
    local n = posted[form.NONCE_FIELD]
    values._nonce = good_nonce(n) and n or host().token()
  end
  return values, errors
end

---------------------------------------------------------------------------
-- The template's context
---------------------------------------------------------------------------

-- A typed value as the text of an input.
local function shown(f, v)
  if v == nil then return "" end
  local t = f.type
  if t == "datetime" and type(v) == "number" then return os.date("%Y-%m-%dT%H:%M", v) end
  if t == "date" and type(v) == "number" then return os.date("%Y-%m-%d", v) end
  if type(v) == "number" then return num_text(v) end
  if type(v) == "table" then return "" end
  return tostring(v)
end

local INPUT_TYPES = { text = "text", integer = "text", number = "text", date = "date",
                      datetime = "datetime-local", email = "email", phone = "tel", url = "url" }
local INPUT_MODES = { integer = "numeric", number = "decimal" }
local AUTOCOMPLETE = { email = "email", phone = "tel", url = "url" }

local function truthy(v)
  return v == true or v == 1 or v == "1" or v == "on"
end

local function field_context(f, req, values, errors)
  local err = errors and errors[f.name]
  local from_post = errors ~= nil and req and req.method == "POST"
  local posted = from_post and (req.form or {}) or nil
  local v
  if values ~= nil then v = values[f.name] end
  if v == nil and values == nil then v = f.default end
  local c = {
    name = f.name, id = f.id, label = f.label, type = f.type, required = f.required == true,
    hint = f.hint, error = err, invalid = err ~= nil, rows = f.rows,
    input_type = INPUT_TYPES[f.type], inputmode = f.inputmode or INPUT_MODES[f.type],
    autocomplete = f.autocomplete or AUTOCOMPLETE[f.type], multiple = f.multiple == true,
  }
  c.hint_id = f.hint and (f.id .. "-hint") or nil
  c.error_id = err and (f.id .. "-error") or nil
  local ids = {}
  if c.hint_id then ids[#ids + 1] = c.hint_id end
  if c.error_id then ids[#ids + 1] = c.error_id end
  c.describedby = #ids > 0 and concat(ids, " ") or nil
  local t = f.type
  if t == "file" then
    if f.types then
      local acc = {}
      for _, e in ipairs(f.types) do acc[#acc + 1] = "." .. gsub(lower(tostring(e)), "^%.", "") end
      c.accept = concat(acc, ",")
    end
    return c
  end
  if t == "checkbox" then
    if posted then c.checked = truthy(posted[f.name]) else c.checked = truthy(v) end
    return c
  end
  if CHOICE_TYPES[t] then
    local picked = {}
    if posted then
      if t == "checkboxes" then
        for _, s in ipairs(req:form_all(f.name)) do picked[s] = true end
      elseif posted[f.name] then
        picked[posted[f.name]] = true
      end
    elseif t == "checkboxes" then
      for _, x in ipairs(type(v) == "table" and v or {}) do picked[tostring(x)] = true end
    elseif v ~= nil then
      picked[tostring(v)] = true
    end
    c.choices = {}
    for i, ch in ipairs(choices_of(f, req)) do
      local sv = tostring(ch.value)
      c.choices[i] = { value = sv, label = ch.label, id = f.id .. "-" .. i,
                       selected = picked[sv] == true }
    end
    c.value = posted and (posted[f.name] or "") or shown(f, v)
    return c
  end
  -- A field in error shows what was typed; a good one its value as checked
  -- (a phone number normalised, a date with its zeros). A post refused for
  -- its CSRF token was not checked: every field shows what was typed.
  if posted and (err or req.csrf_failed) then
    c.value = posted[f.name] or ""
  else
    c.value = shown(f, v)
  end
  return c
end

--- The template's context of the form: { fields = { ... } (in order),
-- field = { name = ... }, errors = { { name, id, message, href } },
-- error_count, expired (the post was refused for its CSRF token: what was
-- typed is shown again), csrf, nonce, nonce_field, hidden (the HTML of the
-- hidden inputs), enctype, multipart }. `values`: what to show (typed, as F:check
-- gives them or a row read back; nil: the fields' defaults); `errors` as
-- F:check gives them (then fields in error show what was posted).
function Form:context(req, values, errors)
  local park = host()
  -- The host answers a form post refused for its CSRF token (a lost cookie,
  -- a page left open too long) with the form's GET route: show what was
  -- typed, and say to send it once more.
  local expired = req and req.csrf_failed and values == nil and errors == nil
  if expired then errors = { _list = {} } end
  local ctx = { fields = {}, field = {}, errors = errors and errors._list or {},
                multipart = self.multipart,
                enctype = self.multipart and "multipart/form-data"
                  or "application/x-www-form-urlencoded" }
  ctx.error_count = #ctx.errors
  ctx.expired = expired or nil
  for i, f in ipairs(self.fields) do
    local c = field_context(f, req, values, errors)
    ctx.fields[i], ctx.field[f.name] = c, c
  end
  ctx.csrf = park.csrf()
  local hidden = { '<input type="hidden" name="_csrf" value="' .. park.escape(ctx.csrf) .. '">' }
  if self.nonce then
    local n = values and values._nonce
    if not good_nonce(n) then
      n = req and req.form and req.form[form.NONCE_FIELD]
      if not good_nonce(n) then n = park.token() end
    end
    ctx.nonce, ctx.nonce_field = n, form.NONCE_FIELD
    hidden[2] = '<input type="hidden" name="' .. form.NONCE_FIELD .. '" value="'
      .. park.escape(n) .. '">'
  end
  ctx.hidden = concat(hidden, "\n")
  return ctx
end

---------------------------------------------------------------------------
-- The nonce: one submission per form shown
---------------------------------------------------------------------------

local function nonce_table(F, what)
  local t = F.nonce_table
  if not t then
    error(format("park.form: %s needs form.new{ nonce = \"<plugin>_nonces\" } (the plugin's "
      .. "nonce table)", what), 3)
  end
  return t
end

local function db_check(ok, message, code)
  if ok == nil and message then error(format("park.form: %s (%s)", message, tostring(code)), 0) end
  return ok
end

--- Whether the nonce of `values` (F:check's) was claimed already: true
-- and the reference the first submission left, or false.
function Form:seen(values)
  local t = nonce_table(self, "seen")
  local n = values._nonce
  if not good_nonce(n) then return false end
  local row = db_check(host().db.first("SELECT ref, nonce FROM " .. t .. " WHERE nonce = ?", n))
  if not row then return false end
  return true, row.ref
end

--- Claim the nonce of `values`, inside the caller's park.db.transaction:
-- true when this submission is the first (go on and write), or false and
-- the reference the first one left (F:settle) when it was claimed before.
function Form:claim(values)
  local t = nonce_table(self, "claim")
  local n = values._nonce
  if not good_nonce(n) then error("park.form: claim: values._nonce is not a nonce", 2) end
  local park = host()
  local changed = db_check(park.db.exec("INSERT INTO " .. t .. " (nonce, at) VALUES (?, ?)"
    .. " ON CONFLICT (nonce) DO NOTHING", n, park.now()))
  if changed == 1 then return true end
  local row = db_check(park.db.first("SELECT ref FROM " .. t .. " WHERE nonce = ?", n))
  return false, row and row.ref
end

--- Record what the claimed nonce's submission made (an id, a code: nil, a
-- boolean, a number or a string), for a later F:claim, F:seen or F:once.
function Form:settle(values, ref)
  local t = nonce_table(self, "settle")
  db_check(host().db.exec("UPDATE " .. t .. " SET ref = ? WHERE nonce = ?", ref, values._nonce))
end

--- Run `fn(...)` once per nonce, in one park.db.transaction with the
-- claim: "new" and what fn returned (recorded as the reference), or
-- "same" and the reference of the first submission (fn not run). If fn
-- raises, nothing is written and the nonce stays free.
function Form:once(values, fn, ...)
  nonce_table(self, "once")
  if not good_nonce(values._nonce) then
    error("park.form: once: values._nonce is not a nonce", 2)
  end
  local F = self
  return host().db.transaction(function(...)
    local first, ref = F:claim(values)
    if not first then return "same", ref end
    ref = fn(...)
    F:settle(values, ref)
    return "new", ref
  end, ...)
end

--- Forget nonces older than `max_age_s` (default 30 days): call it from a
-- daily job. Returns how many were removed.
function Form:prune(max_age_s)
  local t = nonce_table(self, "prune")
  local park = host()
  return db_check(park.db.exec("DELETE FROM " .. t .. " WHERE at < ?",
    park.now() - (max_age_s or 30 * 86400)))
end

return form
