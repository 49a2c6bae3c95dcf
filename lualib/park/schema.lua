-- park.schema: a plugin's config schema, checked when the plugin loads, and
-- a column's config, checked against it when the column is bound. A bad
-- config is refused with the field and the reason, never found at request
-- time.
--
--   config = {
--     title     = { type = "string", default = "通知公告", description = "...", max_length = 40 },
--     page_size = { type = "integer", default = 20, min = 1, max = 100, description = "..." },
--     layout    = { type = "string", enum = { "list", "cards" }, default = "list",
--                   description = "..." },
--     chain     = { type = "array", items = "string", enum = { "review", "leader" },
--                   default = {}, description = "..." },     -- enum: for each item
--     extra     = { type = "table", required = true, description = "..." },
--   }
--
-- Optional, for the console's form (it is read by the center's staff, in
-- Chinese): label, the field's name ("每页条数"; else the description is
-- shown), and labels, the enum values' names ({ list = "列表", cards = "卡片" }).
-- The messages of apply name the field as 配置项“name”.
local schema = {}

local TYPES = { string = true, integer = true, number = true, boolean = true,
                array = true, table = true }
local SCALARS = { string = true, integer = true, number = true, boolean = true }
local KEYS = { type = true, default = true, description = true, required = true, min = true,
               max = true, max_length = true, enum = true, items = true, label = true,
               labels = true }

local function type_ok(kind, v)
  if kind == "integer" then return math.type(v) == "integer" end
  if kind == "number" then return type(v) == "number" end
  if kind == "array" then
    if type(v) ~= "table" then return false end
    local n = #v
    for k in pairs(v) do
      if math.type(k) ~= "integer" or k < 1 or k > n then return false end
    end
    return true
  end
  return type(v) == kind
end

-- The kinds of value in the words of a config's reader (the console and
-- the site file are read by the center's staff: their messages are Chinese).
local TYPE_NAMES = { string = "文字", integer = "整数", number = "数字", boolean = "是或否",
                     array = "列表", table = "表", float = "小数", ["nil"] = "空值" }

local function kind_of(v)
  return TYPE_NAMES[math.type(v) or type(v)] or type(v)
end

local function shown(x)
  return math.type(x) == "float" and math.tointeger(x) and tostring(math.tointeger(x))
    or tostring(x)
end

-- A field's value checked: true, or nil and why, naming the field as
-- 配置项“name” (the console shows its label there).
local function check_value(name, f, v)
  local field = ("配置项“%s”"):format(name)
  if not type_ok(f.type, v) then
    return nil, ("%s：应为%s，不能是%s"):format(field, TYPE_NAMES[f.type], kind_of(v))
  end
  if f.enum then
    -- For an array, each item must be one of the values.
    local values = f.type == "array" and v or { v }
    for i, x in ipairs(values) do
      local found = false
      for _, e in ipairs(f.enum) do if e == x then found = true end end
      if not found then
        local list = {}
        for k, e in ipairs(f.enum) do list[k] = tostring(e) end
        return nil, ("%s：%s只能是 %s 之一"):format(field,
          f.type == "array" and ("第 %d 项"):format(i) or "", table.concat(list, "、"))
      end
    end
  end
  if f.min and v < f.min then
    return nil, ("%s：不能小于 %s"):format(field, shown(f.min))
  end
  if f.max and v > f.max then
    return nil, ("%s：不能大于 %s"):format(field, shown(f.max))
  end
  if f.max_length and utf8.len(v) and utf8.len(v) > f.max_length then
    return nil, ("%s：最多 %d 个字"):format(field, f.max_length)
  end
  if f.type == "array" and f.items then
    for i, item in ipairs(v) do
      if not type_ok(f.items, item) then
        return nil, ("%s：第 %d 项应为%s"):format(field, i, TYPE_NAMES[f.items])
      end
    end
  end
  return true
end

--- Check that `s` is a well-formed schema: true, or nil and the reason.
function schema.check(s)
  if type(s) ~= "table" then return nil, "config must be a table of fields" end
  for name, f in pairs(s) do
    if type(name) ~= "string" then return nil, "field names must be strings" end
    if type(f) ~= "table" then return nil, ("field '%s': must be a table"):format(name) end
    for k in pairs(f) do
      if not KEYS[k] then return nil, ("field '%s': unknown key '%s'"):format(name, tostring(k)) end
    end
    if not TYPES[f.type] then
      return nil, ("field '%s': type must be string, integer, number, boolean, array or table")
        :format(name)
    end
    if type(f.description) ~= "string" or f.description == "" then
      return nil, ("field '%s': needs a description"):format(name)
    end
    if f.label ~= nil and (type(f.label) ~= "string" or f.label == "") then
      return nil, ("field '%s': label is a non-empty string"):format(name)
    end
    if f.labels ~= nil and (type(f.labels) ~= "table" or not f.enum) then
      return nil, ("field '%s': labels is a table of names for the enum's values"):format(name)
    end
    if f.items ~= nil and (f.type ~= "array" or not SCALARS[f.items]) then
      return nil, ("field '%s': items is for arrays of string, integer, number or boolean")
        :format(name)
    end
    if f.default == nil and not f.required then
      return nil, ("field '%s': needs a default or required = true"):format(name)
    end
    if f.default ~= nil then
      local ok, err = check_value(name, f, f.default)
      if not ok then return nil, err .. "（默认值）" end
    end
  end
  return true
end

local function copy(v)
  if type(v) ~= "table" then return v end
  local t = {}
  for k, x in pairs(v) do t[k] = copy(x) end
  return t
end

-- A whole float where an integer is expected becomes that integer: configs
-- saved as JSON come back with floats (20.0) for every number.
local function normalize(f, v)
  local function int(x)
    return math.type(x) == "float" and math.tointeger(x) or x
  end
  if f.type == "integer" then return int(v) end
  if f.type == "array" and f.items == "integer" and type(v) == "table" then
    local out = {}
    for k, x in pairs(v) do out[k] = int(x) end
    return out
  end
  return v
end

--- A column's config checked against the schema, with defaults filled in:
-- the new table, or nil and the reason naming the field.
function schema.apply(s, cfg)
  cfg = cfg or {}
  for name in pairs(cfg) do
    if type(name) ~= "string" or not s[name] then
      return nil, ("没有配置项“%s”"):format(tostring(name))
    end
  end
  local out = {}
  for name, f in pairs(s) do
    local v = cfg[name]
    if v == nil then
      if f.required then return nil, ("配置项“%s”：必须填写"):format(name) end
      v = copy(f.default)
    else
      v = normalize(f, v)
      local ok, err = check_value(name, f, v)
      if not ok then return nil, err end
    end
    out[name] = v
  end
  return out
end

return schema
