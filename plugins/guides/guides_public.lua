-- guides_public: the residents' pages. The catalogue at the column's root
-- (by 服务对象, 主题分类, 责任单位 and 最多跑一次: plain links that combine in
-- the query string, with the count and numbered pages), an item's guide in
-- table form (/<column>/<id>, ?print=1 for paper), and the forms to
-- download (/<column>/files/<id>). Pages are kept by guides_cache.
local park = require("park")
local fields = require("guides_fields")
local store = require("guides_store")
local view = require("guides_view")
local roles = require("guides_roles")
local forms = require("guides_forms")
local cache = require("guides_cache")
local rate = require("guides_rate")

local pub = {}

local OBJ_BITS = { ["个人"] = 1, ["法人"] = 2 }

-- The catalogue's filters from the query string; unknown values are dropped.
local function filters(req)
  local q = req.query
  local f = {}
  if OBJ_BITS[q.obj or ""] then f.obj = q.obj end
  if fields.is_theme(q.theme or "") then f.theme = q.theme end
  if (q.unit or "") ~= "" and roles.codes()[q.unit] then f.unit = q.unit end
  if q.once == "1" then f.once = true end
  f.page = math.max(1, math.tointeger(tonumber((q.page or ""):match("^%d+$") or "")) or 1)
  return f
end

local function query_string(f, changes)
  local args = {}
  for _, k in ipairs({ "obj", "theme", "unit", "once", "page" }) do
    local v = changes[k]
    if v == nil then v = f[k] end
    if k == "page" and v == 1 then v = false end
    if v == true then v = "1" end
    if v then args[#args + 1] = k .. "=" .. park.url_encode(tostring(v)) end
  end
  return #args > 0 and ("?" .. table.concat(args, "&")) or ""
end

local function catalogue(req)
  local f = filters(req)
  local n = req.config.page_size
  -- Facet counts, each under the other filters, over the groups of items.
  local function matches(r, but)
    if but ~= "obj" and f.obj and (r.obj & OBJ_BITS[f.obj]) == 0 then return false end
    if but ~= "unit" and f.unit and r.unit ~= f.unit then return false end
    if but ~= "theme" and f.theme and not r.themes:find("|" .. f.theme .. "|", 1, true) then
      return false
    end
    if but ~= "once" and f.once and r.once == 0 then return false end
    return true
  end
  local obj_n, theme_n, unit_n, once_n, total = { ["个人"] = 0, ["法人"] = 0 }, {}, {}, 0, 0
  for _, r in ipairs(store.facets(req.column)) do
    if matches(r, "obj") then
      for o, bit in pairs(OBJ_BITS) do
        if r.obj & bit ~= 0 then obj_n[o] = obj_n[o] + r.n end
      end
    end
    if matches(r, "theme") then
      for t in r.themes:gmatch("[^|]+") do theme_n[t] = (theme_n[t] or 0) + r.n end
    end
    if matches(r, "unit") then unit_n[r.unit] = (unit_n[r.unit] or 0) + r.n end
    if matches(r, "once") and r.once == 1 then once_n = once_n + r.n end
    if matches(r) then total = total + r.n end
  end
  -- The page itself (its count is the groups' that match every filter).
  local rows = store.catalogue(req.column, { obj = OBJ_BITS[f.obj], unit = f.unit,
    theme = f.theme, once = f.once }, (f.page - 1) * n, n)
  local items = {}
  for i, r in ipairs(rows) do
    local g = { kind = r.kind, objs = store.decode(r.objs, {}), promise_days = r.promise_days }
    items[i] = { id = r.id, name = r.name, unit = r.unit, g = g, runs = fields.runs_label(r.runs),
                 updated_at = r.updated_at }
  end
  local themes = {}
  for _, obj in ipairs(f.obj and { f.obj } or fields.OBJS) do
    for _, t in ipairs(fields.THEMES[obj]) do
      if (theme_n[t] or f.theme == t) and not themes[t] then
        themes[#themes + 1] = { value = t, n = theme_n[t] or 0 }
        themes[t] = true
      end
    end
  end
  local units = {}
  for _, u in ipairs(roles.units()) do
    if unit_n[u.code] or f.unit == u.code then
      units[#units + 1] = { code = u.code, name = u.name, n = unit_n[u.code] or 0 }
    end
  end
  local base = view.base(req)
  local pages = math.max(1, (total + n - 1) // n)
  return view.page(req, "catalogue.html", {
    f = f, items = items, total = total, obj_n = obj_n, themes = themes, units = units,
    once_n = once_n, page = f.page, pages = pages, search_path = req.config.search_path,
    filtered = f.obj or f.theme or f.unit or f.once,
    link = function(changes)
      if changes.page == nil then changes.page = false end
      return (base == "" and "/" or base) .. query_string(f, changes)
    end,
  })
end
pub.catalogue = cache.wrap(catalogue)

-- The public item of :id at this column, or nil.
local function public_item(req)
  local id = math.tointeger(tonumber(req.params.id or ""))
  local item = id and store.item(id)
  if item and item.col == req.column and item.published == 1 then return item end
end

local function not_found(req)
  return view.page(req, "notice.html", { title = "未找到",
    message = "没有这个事项，或者它已经停止公开。请从办事指南目录查找。" }, 404)
end

-- The forms the item's materials link to, by id.
local function files_of(g)
  local out = {}
  for _, m in ipairs(g.materials) do
    for _, fid in ipairs({ m.blank, m.sample }) do
      if fid and not out[fid] then out[fid] = store.file(fid) end
    end
  end
  return out
end

-- Where the rating form's CSRF token goes in a kept item page: no byte of
-- it is escaped by a template, and no page says it otherwise.
local TOKEN = "guides-csrf-token-e2b1c7"

-- The item page's context.
local function item_context(req, item, print_view)
  local version = store.live(item)
  local g = version.data
  return {
    title = g.name, item = item, g = g, files = files_of(g), updated = item.updated_at,
    runs = fields.runs_label(g.runs), print_view = print_view,
    online = g.depth and g.depth >= 2 and g.online_url ~= "" and g.online_url or nil,
    url = view.base(req) .. "/" .. item.id,
    meta = { { "description", ("%s：办理材料、办理地点、办理时间、办理流程与时限"):format(g.name) } },
  }
end

-- The item page with its rating block; `csrf`: this browser's token, or the
-- marker of a page to keep.
local function item_page(req, item, ctx, csrf)
  ctx.rating = rate.item_block(req, { id = item.id, col = item.col, unit = item.unit,
                                      name = item.name })
  ctx.csrf = ctx.rating and csrf or nil
  return view.page(req, "item.html", ctx)
end

local function show(req)
  local print_view = req.query.print == "1"
  local cached = req.config.page_cache and #req.target <= 512
  local key, now, stamp
  if cached then
    key, now, stamp = cache.key(req), park.now(), cache.stamp()
    local e = cache.get(key, stamp, now)
    -- A browser that rated the item sees its own rating instead of the
    -- form: made for it.
    if e and e.parts and not rate.mine(req, e.item_id) then
      return park.html(e.parts[1] .. park.csrf() .. e.parts[2])
    elseif e and not e.parts then
      return 200, e.body, e.ctype
    end
  end
  local item = public_item(req)
  if not item then return not_found(req) end
  local ctx = item_context(req, item, print_view)
  if print_view then
    local status, body, ctype = view.page(req, "print.html", ctx)
    if cached then cache.put(key, stamp, now, { body = body, ctype = ctype }) end
    return status, body, ctype
  end
  if not cached or rate.mine(req, item.id) then return item_page(req, item, ctx, park.csrf()) end
  local status, body, ctype = item_page(req, item, ctx, TOKEN)
  local s, e = body:find(TOKEN, 1, true)
  if not s then -- no form on the page (no rating block)
    cache.put(key, stamp, now, { body = body, ctype = ctype })
    return status, body, ctype
  end
  local parts = { body:sub(1, s - 1), body:sub(e + 1) }
  cache.put(key, stamp, now, { parts = parts, item_id = item.id })
  return park.html(parts[1] .. park.csrf() .. parts[2], status)
end
pub.show = show

--- A form (空表 or 样表): for anyone when a public version lists it, else
-- for the staff of the item's unit.
function pub.download(req)
  local id = math.tointeger(tonumber(req.params.file or ""))
  local f = id and store.file(id)
  local item = f and store.item(f.item_id)
  if not item or item.col ~= req.column then return not_found(req) end
  local public = false
  if item.published == 1 then
    local g = store.live(item).data
    for _, m in ipairs(g.materials) do
      if m.blank == id or m.sample == id then public = true end
    end
  end
  if not public and not park.auth.can_unit("view", item.unit) then
    return not_found(req)
  end
  return forms.send(f)
end

return pub
