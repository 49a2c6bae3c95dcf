-- guides_roles: the site's units as the guides' pages name and list them.
-- An item belongs to a unit (责任单位), which need not be the unit of the
-- guides' column: the 办事指南 column of 社会事务局 lists the items of 招商局
-- and 人才办 too. Who may act on an item is the core's answer for the
-- item's unit, park.auth.can_unit(action, unit) (a role held for the center
-- counts for every unit); this module only lists the units it is asked for.
local park = require("park")

local roles = {}

local gen, center_code, names, unit_list

local function refresh()
  local g = park.site.generation()
  if g == gen then return end
  names, unit_list = {}, {}
  center_code = "center"
  for _, u in ipairs(park.site.units()) do
    names[u.code] = u.name
    unit_list[#unit_list + 1] = { code = u.code, name = u.name, center = u.center }
    if u.center then center_code = u.code end
  end
  gen = g
end

function roles.center()
  refresh()
  return center_code
end

--- A unit's name, or its code when it has none.
function roles.unit_name(code)
  refresh()
  return names[code] or code or ""
end

--- The set of unit codes.
function roles.codes()
  refresh()
  return names
end

--- The units, the center first: { { code =, name =, center = }, ... }.
function roles.units()
  refresh()
  return unit_list
end

--- The units for which the logged-in user may do `action` (the items they
-- may edit, for "edit"): a list of { code =, name =, center = }.
function roles.allowed(action)
  local out = {}
  for _, u in ipairs(roles.units()) do
    if park.auth.can_unit(action, u.code) then out[#out + 1] = u end
  end
  return out
end

return roles
