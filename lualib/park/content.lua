-- park.content: what the content plugins (articles, survey, interview, ...)
-- all need around their staff pages and their tables, in one place.
--
--   local content = require("park.content")
--   local user, answer = content.staff(req, "edit", deny)  -- else a redirect or deny's page
--   local v = content.check(park.db.first(...))             -- raises on a database failure
--   local t = content.decode(row.json, {})                  -- JSON text to a table, or the default
--   content.set("survey_surveys", id, { state = "open" }, now)
--   local t = content.time(form.opens_at, "开始时间", errors)
--   -- "2026-12-01" or "2026-12-01 09:30" in the site's zone
local park = require("park")
local cjson = require("cjson")
local ptext = require("park.text")

local content = {}

--- A park.db result: its first value, or an error with the message. A
-- caller that needs a second value (an inserted id) checks on its own.
function content.check(ok, msg, code)
  if ok == nil and msg then error(("%s (%s)"):format(msg, tostring(code)), 0) end
  return ok
end

--- The table of JSON text s, or `default` when it is not one.
function content.decode(s, default)
  local ok, v = pcall(cjson.decode, s or "")
  if ok and type(v) == "table" then return v end
  return default
end

--- s without white space at either end, Chinese spaces included ("" for nil).
function content.trim(s)
  return ptext.trim(s or "")
end

--- A time typed in a form, "2026-12-01" or "2026-12-01 09:30" (also with a
-- T), in the site's zone; nil for an empty field. A bad one adds
-- "<label>：..." to errors and gives nil.
function content.time(s, label, errors)
  s = content.trim(s)
  if s == "" then return nil end
  local y, m, d, rest = s:match("^(%d%d%d%d)%-(%d%d?)%-(%d%d?)(.*)$")
  local hh, mm = (rest or ""):match("^[ T](%d%d?):(%d%d)$")
  if not y or (rest ~= "" and not hh) then
    errors[#errors + 1] = label .. "：日期格式应为 2026-12-01 或 2026-12-01 09:30"
    return nil
  end
  return os.time({ year = tonumber(y), month = tonumber(m), day = tonumber(d),
                   hour = tonumber(hh) or 0, min = tonumber(mm) or 0 })
end

--- The logged-in user, allowed `action` on the request's column (nil: any
-- staff); otherwise nil and the answer: to the console's login and back for
-- a GET, else `deny(req, 403, title, message)` (the plugin's page).
function content.staff(req, action, deny)
  local user = park.auth.user()
  if not user then
    if req.method == "GET" then
      return nil, park.redirect("/admin/login?next=" .. park.url_encode(req.target))
    end
    return nil, deny(req, 403, "没有权限", "请先登录。")
  end
  if action and not park.auth.can(action, req.column) then
    return nil, deny(req, 403, "没有权限", "您没有权限执行此操作。")
  end
  return user
end

--- Set some columns of the row `id` of `tbl` (the plugin's own table; names
-- are the caller's, never input), with updated_at = now. A "chain" value is
-- stored as JSON.
function content.set(tbl, id, fields, now)
  local names = {}
  for k in pairs(fields) do names[#names + 1] = k end
  table.sort(names)
  local sets, args = {}, {}
  for i, k in ipairs(names) do
    sets[i] = k .. " = ?"
    args[i] = k == "chain" and cjson.encode(fields[k]) or fields[k]
  end
  args[#args + 1] = now
  args[#args + 1] = id
  content.check(park.db.exec("UPDATE " .. tbl .. " SET " .. table.concat(sets, ", ")
    .. ", updated_at = ? WHERE id = ?", table.unpack(args)))
end

return content
