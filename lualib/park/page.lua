-- park.page: keyset paging over a query's order, with the page's place in
-- the URL (?after=<cursor> for the next page, ?before=<cursor> for the
-- previous one), so a page is one indexed range scan however deep it is,
-- and rows added meanwhile neither repeat nor vanish between pages.
--
--   local page = require("park.page")
--   local NEWS = page.new({ order = { "published_at DESC", "id DESC" }, size = 10 })
--   local pg = NEWS:query(req, "SELECT id, title, published_at FROM news_items"
--     .. " WHERE column_path = ?", req.column)
--   -- pg.rows: the page's rows in order; pg.next, pg.prev: hrefs or nil
--   -- template: <%- include("park/pager.html", { pager = pg }) %>
--
-- Or, with the SQL written by hand: P:plan(req) gives the WHERE fragment,
-- its parameters, the ORDER BY and the LIMIT to bind; P:result(req, plan,
-- rows) the page. Cursors are opaque (base64url of the order columns'
-- values with a check sum over them and the order): a cursor that does not
-- decode, was edited, or belongs to another order is ignored (the first
-- page), never an error; its values reach SQL only as bound parameters.
--
-- Pure Lua but P:query (park.db): docs/plugin-api.md ("Paging: park.page") is
-- the reference.
local byte, char, concat, find, format, gsub, match, pack, sub, unpack =
  string.byte, string.char, table.concat, string.find, string.format, string.gsub, string.match,
  string.pack, string.sub, string.unpack
local tointeger = math.tointeger

local page = {}

--- The longest cursor read from a URL; a longer one is ignored.
page.MAX_CURSOR = 2048
page.MAX_SIZE = 1000

---------------------------------------------------------------------------
-- Cursors
---------------------------------------------------------------------------

local B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
local B64_INDEX = {}
for i = 1, 64 do B64_INDEX[byte(B64, i)] = i - 1 end

local function b64_encode(s)
  local out, n = {}, 0
  for i = 1, #s, 3 do
    local a, b, c = byte(s, i, i + 2)
    local v = a * 65536 + (b or 0) * 256 + (c or 0)
    local k = c and 4 or (b and 3 or 2)
    for j = 1, k do
      local shift = 18 - (j - 1) * 6
      local d = (v >> shift) & 63
      n = n + 1
      out[n] = sub(B64, d + 1, d + 1)
    end
  end
  return concat(out)
end

local function b64_decode(s)
  if #s % 4 == 1 or find(s, "[^%w%-_]") then return nil end
  local out, n = {}, 0
  for i = 1, #s, 4 do
    local v, k = 0, 0
    for j = i, math.min(i + 3, #s) do
      v = v * 64 + B64_INDEX[byte(s, j)]
      k = k + 1
    end
    v = v << (6 * (4 - k))
    local bytes = k - 1
    for j = 1, bytes do
      n = n + 1
      out[n] = char((v >> (16 - (j - 1) * 8)) & 255)
    end
  end
  return concat(out)
end

-- FNV-1a, 32 bits: a check sum that an edited cursor fails (not a secret:
-- a cursor only chooses where a page of the same query starts).
local function fnv(s)
  local h = 2166136261
  for i = 1, #s do
    h = ((h ~ byte(s, i)) * 16777619) & 0xffffffff
  end
  return h
end

--- The cursor of a list of values (integers, numbers, strings) for an
-- order whose signature is `sig`.
function page.encode(values, sig)
  local parts = {}
  for i, v in ipairs(values) do
    local t = math.type(v)
    if t == "integer" then
      parts[i] = "i" .. format("%d", v) .. ";"
    elseif t == "float" then
      parts[i] = "n" .. format("%.17g", v) .. ";"
    elseif type(v) == "string" then
      parts[i] = "s" .. #v .. ":" .. v
    else
      error("park.page: an order column's value must be a number or a string, not " .. type(v), 2)
    end
  end
  local payload = concat(parts)
  return b64_encode(payload .. pack(">I4", fnv((sig or "") .. "\0" .. payload)))
end

--- The values of a cursor made by page.encode for `sig` with `count`
-- values, or nil when it is anything else.
function page.decode(cursor, sig, count)
  if type(cursor) ~= "string" or cursor == "" or #cursor > page.MAX_CURSOR then return nil end
  local raw = b64_decode(cursor)
  if not raw or #raw < 5 then return nil end
  local payload, sum = sub(raw, 1, -5), unpack(">I4", raw, #raw - 3)
  if fnv((sig or "") .. "\0" .. payload) ~= sum then return nil end
  local values, pos = {}, 1
  while pos <= #payload do
    local tag = sub(payload, pos, pos)
    if tag == "i" or tag == "n" then
      local text, after = match(payload, "^([^;]*);()", pos + 1)
      if not text then return nil end
      local v
      if tag == "i" then
        v = match(text, "^%-?%d+$") and tointeger(tonumber(text))
      else
        v = tonumber(text)
        if v and (v ~= v or v == math.huge or v == -math.huge) then v = nil end
        v = v and v + 0.0
      end
      if not v then return nil end
      values[#values + 1] = v
      pos = after
    elseif tag == "s" then
      local len, start = match(payload, "^(%d+):()", pos + 1)
      len = len and tointeger(tonumber(len))
      if not len or start + len - 1 > #payload then return nil end
      values[#values + 1] = sub(payload, start, start + len - 1)
      pos = start + len
    else
      return nil
    end
  end
  if #values ~= count then return nil end
  return values
end

---------------------------------------------------------------------------
-- URLs
---------------------------------------------------------------------------

local function url_encode(s)
  return (gsub(s, "[^%w%-%._~]", function(c) return format("%%%02X", byte(c)) end))
end

local function url_decode(s)
  s = gsub(s, "+", " ")
  return (gsub(s, "%%(%x%x)", function(h) return char(tonumber(h, 16)) end))
end

-- The query string's pairs but those named in `drop`, decoded, in order.
local function other_params(qs, drop)
  local out = {}
  for part in gsub(qs or "", "#.*$", ""):gmatch("[^&]+") do
    local k, v = match(part, "^([^=]*)=?(.*)$")
    k = url_decode(k)
    if k ~= "" and not drop[k] then
      out[#out + 1] = url_encode(k) .. "=" .. url_encode(url_decode(v))
    end
  end
  return out
end

-- The request's path with its other parameters and `name=cursor` (none
-- when name is nil).
local function href(req, params, name, cursor)
  local q = {}
  for i, p in ipairs(params) do q[i] = p end
  if name then q[#q + 1] = url_encode(name) .. "=" .. url_encode(cursor) end
  local path = req.path or "/"
  if #q == 0 then return path end
  return path .. "?" .. concat(q, "&")
end

---------------------------------------------------------------------------
-- The pager
---------------------------------------------------------------------------

local Pager = {}
Pager.__index = Pager
page.Pager = Pager

--- A pager from its order: `order` (a list of "column [ASC|DESC]", the
-- last one unique, such as the id, so that ties are broken), `size` (rows
-- per page, default 20), `after` and `before` (the query parameters'
-- names, default "after" and "before"). Raises on a mistake.
function page.new(spec)
  if type(spec) ~= "table" or type(spec.order) ~= "table" or #spec.order == 0 then
    error("park.page.new: { order = { \"column DESC\", \"id DESC\" } } is expected", 2)
  end
  local cols, sig = {}, {}
  for i, o in ipairs(spec.order) do
    if type(o) ~= "string" then error(format("park.page.new: order[%d] must be a string", i), 2) end
    local col, dir = match(o, "^%s*([%a_][%w_]*%.?[%w_]*)%s*(%a*)%s*$")
    dir = dir and dir:upper()
    if not col or sub(col, -1) == "." or (dir ~= "" and dir ~= "ASC" and dir ~= "DESC") then
      error(format("park.page.new: order[%d] '%s' is not \"column\", \"column ASC\" or "
        .. "\"column DESC\"", i, o), 2)
    end
    if dir == "" then dir = "ASC" end
    cols[i] = { col = col, key = match(col, "([%w_]+)$"), desc = dir == "DESC" }
    sig[i] = col .. " " .. dir
  end
  local size = spec.size or 20
  if not tointeger(size) or size < 1 or size > page.MAX_SIZE then
    error(format("park.page.new: size must be an integer from 1 to %d", page.MAX_SIZE), 2)
  end
  local after, before = spec.after or "after", spec.before or "before"
  if type(after) ~= "string" or type(before) ~= "string" or after == before
     or not match(after, "^[%w_%-]+$") or not match(before, "^[%w_%-]+$") then
    error("park.page.new: after and before must be two names of a-z A-Z 0-9 _ -", 2)
  end
  local same = true
  for _, c in ipairs(cols) do if c.desc ~= cols[1].desc then same = false end end
  return setmetatable({ cols = cols, sig = concat(sig, ","), size = tointeger(size),
                        after = after, before = before, same_dir = same }, Pager)
end

-- The ORDER BY of a direction (backward: every column the other way).
-- `plain`: the columns by their plain names (outside the plugin's query).
local function order_by(P, backward, plain)
  local out = {}
  for i, c in ipairs(P.cols) do
    out[i] = (plain and c.key or c.col) .. ((c.desc ~= backward) and " DESC" or " ASC")
  end
  return concat(out, ", ")
end

-- The WHERE fragment for rows strictly past `values` in a direction, with
-- its parameters.
local function keyset(P, values, backward, plain)
  local cols, params = P.cols, {}
  local function name(c) return plain and c.key or c.col end
  if P.same_dir then
    local names, marks = {}, {}
    for i, c in ipairs(cols) do
      names[i], marks[i], params[i] = name(c), "?", values[i]
    end
    local op = (cols[1].desc ~= backward) and "<" or ">"
    if #cols == 1 then return names[1] .. " " .. op .. " ?", params end
    return "(" .. concat(names, ", ") .. ") " .. op .. " (" .. concat(marks, ", ") .. ")", params
  end
  local ors = {}
  for i, c in ipairs(cols) do
    local ands = {}
    for j = 1, i - 1 do
      ands[#ands + 1] = name(cols[j]) .. " = ?"
      params[#params + 1] = values[j]
    end
    ands[#ands + 1] = name(c) .. ((c.desc ~= backward) and " < ?" or " > ?")
    params[#params + 1] = values[i]
    ors[i] = "(" .. concat(ands, " AND ") .. ")"
  end
  return "(" .. concat(ors, " OR ") .. ")", params
end

--- What to query for the request's page: { where = SQL fragment ("1"
-- on the first page), params = { values to bind for it, in order },
-- order_by = "published_at DESC, id DESC" (reversed for a previous page),
-- limit = size + 1 (bind it: one row more tells whether there is more),
-- backward = true for ?before=, cursor = whether a cursor was used }.
-- `size` (optional) overrides the pager's for this request.
local function make_plan(P, q, size, plain)
  local n = #P.cols
  local values, backward = page.decode(q[P.after], P.sig, n), false
  if not values then
    values = page.decode(q[P.before], P.sig, n)
    backward = values ~= nil
  end
  local plan = { size = size, limit = size + 1, backward = backward, cursor = values ~= nil,
                 order_by = order_by(P, backward, plain), where = "1", params = {} }
  if values then plan.where, plan.params = keyset(P, values, backward, plain) end
  return plan
end

local function check_size(P, size)
  if size == nil then return P.size end
  local n = tointeger(size)
  if not n or n < 1 or n > page.MAX_SIZE then
    error(format("park.page: size must be an integer from 1 to %d", page.MAX_SIZE), 3)
  end
  return n
end

function Pager:plan(req, size)
  return make_plan(self, req.query or {}, check_size(self, size))
end

-- The cursor of a row: its order columns' values.
local function row_cursor(P, row, i)
  local values = {}
  for j, c in ipairs(P.cols) do
    local v = row[c.key]
    if v == nil then
      error(format("park.page: row %d has no value for the order column '%s' (select it; "
        .. "order columns must not be NULL)", i, c.key), 3)
    end
    values[j] = v
  end
  return page.encode(values, P.sig)
end

--- The page from the rows fetched with `plan` (up to plan.limit, in the
-- plan's order): { rows = the page's rows in the list's order, next =
-- href or nil, prev = href or nil, first = href of the first page,
-- is_first = true when no page comes before it, size }. The hrefs keep
-- the request's path and its other query parameters.
function Pager:result(req, plan, rows)
  local size = plan.size
  local more = #rows > size
  local out = {}
  for i = 1, math.min(#rows, size) do out[i] = rows[i] end
  if plan.backward then
    local n = #out
    for i = 1, n // 2 do out[i], out[n + 1 - i] = out[n + 1 - i], out[i] end
  end
  local params = other_params(req.query_string, { [self.after] = true, [self.before] = true })
  local pg = { rows = out, size = size, first = href(req, params) }
  local n = #out
  if plan.backward then
    pg.is_first = not more
    if more then pg.prev = href(req, params, self.before, row_cursor(self, out[1], 1)) end
    if n > 0 then pg.next = href(req, params, self.after, row_cursor(self, out[n], n)) end
  else
    pg.is_first = not plan.cursor
    if plan.cursor then
      pg.prev = n > 0 and href(req, params, self.before, row_cursor(self, out[1], 1)) or pg.first
    end
    if more then pg.next = href(req, params, self.after, row_cursor(self, out[n], n)) end
  end
  return pg
end

--- The same pager with another page size (a column's config, say):
-- NEWS:sized(req.config.page_size):query(req, sql, ...).
function Pager:sized(size)
  local copy = {}
  for k, v in pairs(self) do copy[k] = v end
  copy.size = check_size(self, size)
  return setmetatable(copy, Pager)
end

--- The request's page of `sql` (a SELECT without ORDER BY or LIMIT, whose
-- rows have the order columns by their plain names) with its parameters
-- `...` (bound with `?`). Paging back to the start gives the first page
-- itself. Raises on a database failure.
function Pager:query(req, sql, ...)
  if type(sql) ~= "string" then error("park.page: query: the SQL must be a string", 2) end
  local base = table.pack(...)
  local db = require("park").db
  local function run(plan)
    local args, n = {}, base.n
    for i = 1, n do args[i] = base[i] end
    for _, v in ipairs(plan.params) do n = n + 1; args[n] = v end
    n = n + 1
    args[n] = plan.limit
    local rows, err, code = db.query("SELECT * FROM (" .. sql .. ") WHERE " .. plan.where
      .. " ORDER BY " .. plan.order_by .. " LIMIT ?", table.unpack(args, 1, n))
    if not rows then error(format("park.page: %s (%s)", tostring(err), tostring(code)), 3) end
    return rows
  end
  local plan = make_plan(self, req.query or {}, self.size, true)
  local rows = run(plan)
  if plan.backward and #rows <= plan.size then
    -- Back at the start: the first page as it is now, without a cursor.
    plan = make_plan(self, {}, self.size, true)
    rows = run(plan)
  end
  return self:result(req, plan, rows)
end

return page
