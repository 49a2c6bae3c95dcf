-- park.content: what the content plugins (articles, survey, interview, ...)
-- all need around their staff pages and their tables, in one place.
--
--   local content = require("park.content")
--   local user, answer = content.staff(req, "edit", deny)
--   if not user then return answer() end                   -- a redirect or deny's page
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

-- What each action allows, in the words of a refusal.
local ACTIONS = {
  view = "查看内容", edit = "撰写或修改内容", review = "审核内容",
  sign = "签发、延期、撤回或废止内容", center_review = "进行中心审核", report = "查看统计",
}

-- A function giving back the values given: a response is several values
-- (status, body, headers), which one variable cannot hold.
local function answer(...)
  local r = table.pack(...)
  return function() return table.unpack(r, 1, r.n) end
end

--- The logged-in user, allowed `action` on the request's column (nil: any
-- staff); otherwise nil and a function giving the answer (the handler does
-- `return answer()`): to the console's login and back for a GET, else
-- `deny(req, 403, title, message)`, the plugin's page saying why.
function content.staff(req, action, deny)
  local user = park.auth.user()
  if not user then
    if req.method == "GET" then
      return nil, answer(park.redirect("/admin/login?next=" .. park.url_encode(req.target)))
    end
    return nil, answer(deny(req, 403, "没有权限",
      "您尚未登录或登录已过期，请先登录管理后台，再重新操作。"))
  end
  if action and not park.auth.can(action, req.column) then
    local c = park.site.column(req.column)
    local where = c and ("栏目“%s”"):format(c.title) or "本栏目"
    local owner = c and c.unit_name and ("该栏目由%s负责，"):format(c.unit_name) or ""
    return nil, answer(deny(req, 403, "没有权限", ("您的账号没有在%s%s的权限。%s如需开通，"
      .. "请联系本单位的网站管理员或园区服务中心。"):format(where, ACTIONS[action] or "办理此事",
      owner)))
  end
  return user
end

--- The answer of a refusal made before content.staff (a handler's own
-- check, as content.staff gives it): `return nil, content.answer(deny(...))`.
content.answer = answer

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
