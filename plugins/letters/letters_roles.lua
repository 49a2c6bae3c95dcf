-- letters_roles: the site's units as the letters' pages name them. A letter
-- is at a unit (the one it was routed to), which is not the unit of the
-- column it came through: a letter to 主任信箱 (the center's column) is
-- answered by 招商局. Who may act on it is the core's answer for that unit,
-- park.auth.can_unit(action, unit): a role held for the center counts for
-- every unit. column_of gives a unit's column for park.review, which asks
-- its rules of a column.
local park = require("park")

local roles = {}

local gen, first_column, center_code, names

local function refresh()
  local g = park.site.generation()
  if g == gen then return end
  first_column, names = {}, {}
  for _, c in ipairs(park.site.columns()) do
    if c.unit and not first_column[c.unit] then first_column[c.unit] = c.path end
  end
  center_code = "center"
  for _, u in ipairs(park.site.units()) do
    names[u.code] = u.name
    if u.center then center_code = u.code end
  end
  gen = g
end

--- The center's unit code.
function roles.center()
  refresh()
  return center_code
end

--- A unit's name, or its code when it has none (a unit removed since).
function roles.unit_name(code)
  refresh()
  return names[code] or code or ""
end

--- Whether a unit of this code exists.
function roles.exists(code)
  refresh()
  return names[code] ~= nil
end

--- The units, the center first: { { code =, name = }, ... }.
function roles.units()
  local out = {}
  for _, u in ipairs(park.site.units()) do out[#out + 1] = { code = u.code, name = u.name } end
  return out
end

--- A column of the unit, for park.review, or nil when it has none.
function roles.column_of(unit)
  refresh()
  return first_column[unit]
end

--- The units whose letters `user` sees: a set of codes, or true for all (a
-- role held for the center).
function roles.seen_units(user)
  refresh()
  local set = {}
  for _, r in ipairs(user and user.roles or {}) do
    if r.unit == center_code or r.role == "admin" then return true end
    set[r.unit] = true
  end
  return set
end

return roles
