-- park.sitefile: the declarative site file of `parkhost site import|export`:
-- units, the column tree, who answers for each column, and bindings (no
-- accounts, no secrets). The file is Lua data:
--
--   return {
--     settings = { name = "示范高新区", id_code = "1100000001" },  -- the footer's, see README
--     units = { { code = "invest", name = "招商局" } },
--     columns = {                        -- parents before their children
--       { path = "/gxcy", title = "高新创业", kind = "section", unit = "center" },
--       { path = "/gxcy/tzgg", title = "通知公告", parent = "/gxcy", kind = "notice",
--         unit = "invest", max_stale_days = 14,
--         plugin = "articles", enabled = true, config = { page_size = 20 } },
--     },
--   }
--
-- Siblings keep the order of the file unless they give a position.
-- Runs in the command line's own Lua state (trusted), never in a plugin.
local sitefile = {}

local UNIT_KEYS = { code = true, name = true }
local COLUMN_KEYS = { path = true, title = true, kind = true, unit = true, parent = true,
                      position = true, max_stale_days = true, plugin = true, enabled = true,
                      config = true }

--- Run the site file at `path` (text only; the basic functions and the
-- string, table, math and utf8 libraries; at most 10^7 instructions): its
-- table, or nil and the error with the file's line.
function sitefile.load(path)
  local f, err = io.open(path, "rb")
  if not f then return nil, err end
  local text = f:read("a")
  f:close()
  -- Data, but it may compute it (a loop of columns) with these.
  local env = { ipairs = ipairs, pairs = pairs, next = next, select = select, type = type,
                tostring = tostring, tonumber = tonumber, string = string, table = table,
                math = math, utf8 = utf8 }
  local chunk, cerr = load(text, "@" .. path, "t", env)
  if not chunk then return nil, cerr end
  local co = coroutine.create(chunk)
  debug.sethook(co, function() error("the site file runs too long", 2) end, "", 10000000)
  local ok, site = coroutine.resume(co)
  if not ok then return nil, site end
  if type(site) ~= "table" then
    return nil, path .. ": must return a table { units = ..., columns = ... }"
  end
  return site
end

local function where(list, i, entry)
  local id = type(entry) == "table" and (entry.path or entry.code)
  return ("%s[%d]%s"):format(list, i, id and (" (" .. tostring(id) .. ")") or "")
end

--- Check the shape of a site table: true, or nil and the first problem,
-- naming the entry ("columns[3] (/gxcy/tzgg): unknown field 'titel'").
function sitefile.check(site)
  for k in pairs(site) do
    if k ~= "units" and k ~= "columns" and k ~= "settings" then
      return nil, ("unknown field '%s' (a site file has settings, units and columns)")
        :format(tostring(k))
    end
  end
  if site.settings ~= nil then
    if type(site.settings) ~= "table" then return nil, "settings: must be a table" end
    for k, v in pairs(site.settings) do
      if type(k) ~= "string" or type(v) ~= "string" then
        return nil, ("settings.%s: must be a string"):format(tostring(k))
      end
    end
  end
  local lists = { units = UNIT_KEYS, columns = COLUMN_KEYS }
  for _, list in ipairs({ "units", "columns" }) do
    local entries = site[list] or {}
    if type(entries) ~= "table" then return nil, list .. ": must be a list" end
    for i, e in ipairs(entries) do
      if type(e) ~= "table" then return nil, where(list, i, e) .. ": must be a table" end
      for k, v in pairs(e) do
        if not lists[list][k] then
          return nil, ("%s: unknown field '%s'"):format(where(list, i, e), tostring(k))
        end
        local want = (k == "position" or k == "max_stale_days") and "number"
          or k == "enabled" and "boolean" or k == "config" and "table" or "string"
        if type(v) ~= want then
          return nil, ("%s: %s must be a %s"):format(where(list, i, e), k, want)
        end
      end
      local needed = list == "units" and { "code", "name" } or { "path", "title", "kind", "unit" }
      for _, k in ipairs(needed) do
        if e[k] == nil then return nil, ("%s: %s is required"):format(where(list, i, e), k) end
      end
      if e.config and not e.plugin then
        return nil, where(list, i, e) .. ": a config needs a plugin"
      end
    end
  end
  -- Siblings without a position keep the file's order.
  local next_position = {}
  for _, c in ipairs(site.columns or {}) do
    local parent = c.parent or ""
    c.position = c.position or next_position[parent] or 0
    next_position[parent] = math.max(next_position[parent] or 0, c.position + 1)
  end
  return true
end

-- Lua source for a value: strings quoted, keys sorted, nested tables indented.
local function literal(v, indent)
  local t = type(v)
  if t == "string" then return (("%q"):format(v):gsub("\\\n", "\\n")) end
  if t == "number" then
    if math.type(v) == "float" and v == math.floor(v) and v > -2^53 and v < 2^53 then
      return ("%d"):format(v) -- JSON gives floats for whole numbers
    end
    return tostring(v)
  end
  if t ~= "table" then return tostring(v) end
  if next(v) == nil then return "{}" end
  local n, keys = #v, {}
  for k in pairs(v) do
    if not (math.type(k) == "integer" and k >= 1 and k <= n) then keys[#keys + 1] = k end
  end
  table.sort(keys, function(a, b) return tostring(a) < tostring(b) end)
  local parts = {}
  for i = 1, n do parts[#parts + 1] = literal(v[i], indent .. "  ") end
  for _, k in ipairs(keys) do
    local key = type(k) == "string" and k:match("^[%a_][%w_]*$") and k
      or ("[" .. literal(k, "") .. "]")
    parts[#parts + 1] = key .. " = " .. literal(v[k], indent .. "  ")
  end
  local one = "{ " .. table.concat(parts, ", ") .. " }"
  if #one + #indent <= 96 and not one:find("\n", 1, true) then return one end
  return "{\n" .. indent .. "  " .. table.concat(parts, ",\n" .. indent .. "  ") .. ",\n"
    .. indent .. "}"
end

local COLUMN_ORDER = { "path", "title", "parent", "kind", "unit", "max_stale_days", "plugin",
                       "enabled", "config" }

--- The text of a site file for units and columns (tables as sitefile.load
-- returns them; columns in tree order).
function sitefile.render(site)
  local out = { "-- The park's site: settings, units, columns and bindings"
                .. " (parkhost site export).\n",
                "return {\n" }
  if site.settings and next(site.settings) then
    out[#out + 1] = "  settings = " .. literal(site.settings, "  ") .. ",\n"
  end
  out[#out + 1] = "  units = {\n"
  for _, u in ipairs(site.units) do
    out[#out + 1] = ("    { code = %s, name = %s },\n"):format(literal(u.code), literal(u.name))
  end
  out[#out + 1] = "  },\n  columns = {\n"
  for _, c in ipairs(site.columns) do
    local parts = {}
    for _, k in ipairs(COLUMN_ORDER) do
      if c[k] ~= nil then parts[#parts + 1] = k .. " = " .. literal(c[k], "      ") end
    end
    out[#out + 1] = "    {\n      " .. table.concat(parts, ",\n      ") .. ",\n    },\n"
  end
  out[#out + 1] = "  },\n}\n"
  return table.concat(out)
end

return sitefile
