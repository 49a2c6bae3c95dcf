-- guides_roles: who may act on an item. An item belongs to a unit (责任单位),
-- which need not be the unit of the guides' column: the 办事指南 column of
-- 社会事务局 lists the items of 招商局 and 人才办 too. So the question is
-- "may this user do `action` for unit U", answered by the core
-- (park.auth.can) on a column of unit U: a role held for a unit counts for
-- each of its columns alike, a role held for the center for every column.
-- For a unit without any column the core's table of roles (docs/plugin-api.md,
-- "Who may do what") is read here from the user's roles (the same fallback
-- as letters_roles).
local park = require("park")

local roles = {}

local ALLOWS = {
  webmaster = { view = true, edit = true, bind = true, report = true },
  editor = { view = true, edit = true },
  reviewer = { view = true, review = true },
  leader = { view = true, sign = true, report = true },
}

local gen, first_column, center_code, names, unit_list

local function refresh()
  local g = park.site.generation()
  if g == gen then return end
  first_column, names, unit_list = {}, {}, {}
  for _, c in ipairs(park.site.columns()) do
    if c.unit and not first_column[c.unit] then first_column[c.unit] = c.path end
  end
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

--- Whether `user` (park.auth.user()) may do `action` for `unit`.
function roles.can(user, action, unit)
  if not user or not unit then return false end
  refresh()
  local path = first_column[unit]
  if path then return park.auth.can(action, path) end
  for _, r in ipairs(user.roles or {}) do
    if r.role == "admin" then return true end
    if r.unit == unit or r.unit == center_code then
      if action == "center_review" then
        if r.role == "reviewer" and r.unit == center_code then return true end
      elseif ALLOWS[r.role] and ALLOWS[r.role][action] then
        return true
      end
    end
  end
  return false
end

--- The units whose items `user` may edit: a list of { code =, name = }.
function roles.editable(user)
  local out = {}
  for _, u in ipairs(roles.units()) do
    if roles.can(user, "edit", u.code) then out[#out + 1] = u end
  end
  return out
end
return roles
