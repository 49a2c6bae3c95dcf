-- letters_roles: who may act on a letter. A letter is at a unit (the one
-- it was routed to), which is not the unit of the column it came through:
-- a letter to 主任信箱 (the center's column) is answered by 招商局. So the
-- question is "may this user do `action` for unit U", and the answer is
-- the core's own (park.auth.can) on a column of unit U: a role held for a
-- unit counts for each of its columns alike, a role held for the center for
-- every column. Only for a unit without any column is the core's table of
-- roles (docs/plugin-api.md, "Who may do what") read here from the user's
-- roles. A core call `park.auth.can_unit(action, unit)` would make that
-- fallback unnecessary.
local park = require("park")

local roles = {}

-- The core's table, for units without a column: what each role allows.
local ALLOWS = {
  webmaster = { view = true, edit = true, bind = true, report = true },
  editor = { view = true, edit = true },
  reviewer = { view = true, review = true },
  leader = { view = true, sign = true, report = true },
}

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

--- A column of the unit, for park.auth.can, or nil when it has none.
function roles.column_of(unit)
  refresh()
  return first_column[unit]
end

--- Whether `user` (park.auth.user()) may do `action` for `unit`.
function roles.can(user, action, unit)
  if not user or not unit then return false end
  local path = roles.column_of(unit)
  if path then return park.auth.can(action, path) end
  refresh()
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
