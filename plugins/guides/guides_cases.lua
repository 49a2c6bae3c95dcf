-- guides_cases: 办件查询, the service half of the guides plugin (SERVICE.md).
-- Cases (办件) come from the provincial service platform: its client posts
-- them to the import endpoint with a unit's API key, or a unit's staff
-- upload the same JSON or CSV in the console. A resident looks a case up
-- by its number and the applicant's name, both of which must match, at
-- most `case_lookups_per_hour` times an hour per address (a counter row in
-- the database, so that the limit holds across workers), and sees its
-- status with the name masked.
--
-- API keys: a unit's webmaster (`bind` for the unit) makes and revokes
-- them; only the SHA-256 of a key is kept (park.sha256: a key is 132
-- random bits from park.token(), so a fast hash is enough, nothing to
-- stretch). The key travels in the header
-- X-Guides-Key: the host never lets a plugin read `Authorization`
-- (docs/plugin-api.md, "What a plugin never sees").
local park = require("park")
local cjson = require("cjson")
local content = require("park.content")
local form = require("park.form")
local rate = require("guides_rate")
local roles = require("guides_roles")
local forms = require("guides_forms")

local M = {}

local db = park.db
local check = content.check
local trim = content.trim

M.KEY_HEADER = "x-guides-key"
M.MAX_RECORDS = 5000
M.MAX_ERRORS = 50

M.STATUSES = { "受理", "办理中", "补正", "办结", "不予受理", "撤回" }
local STATUS = {}
for _, s in ipairs(M.STATUSES) do STATUS[s] = true end
-- Statuses that end a case: they need the date it ended.
local FINAL = { ["办结"] = true, ["不予受理"] = true }

-- The record's fields: name, Chinese label (also accepted as a CSV
-- header), required, most characters.
M.FIELDS = {
  { "case_no", "办件编号", true, 64 },
  { "item_name", "事项名称", true, 200 },
  { "applicant", "申请人", true, 100 },
  { "status", "办理状态", true, 10 },
  { "received_on", "受理日期", true, 10 },
  { "finished_on", "办结日期", false, 10 },
  { "result", "办理结果", false, 500 },
  { "unit", "办理单位", false, 64 },
}
local FIELD, LABEL = {}, {}
for _, f in ipairs(M.FIELDS) do
  FIELD[f[1]] = f
  FIELD[f[2]] = f
  LABEL[f[1]] = f[2]
end

---------------------------------------------------------------------------
-- Records: parsing (JSON, CSV) and validation
---------------------------------------------------------------------------

local function valid_date(s)
  local y, m, d = s:match("^(%d%d%d%d)%-(%d%d)%-(%d%d)$")
  if not y then return false end
  y, m, d = tonumber(y), tonumber(m), tonumber(d)
  if m < 1 or m > 12 or d < 1 then return false end
  local days = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 }
  if m == 2 and (y % 4 == 0 and (y % 100 ~= 0 or y % 400 == 0)) then return d <= 29 end
  return d <= days[m]
end

--- 张三明 -> 张*明, 张三 -> 张*, 张 -> *.
function M.mask(name)
  local chars = {}
  for _, c in utf8.codes(name or "") do chars[#chars + 1] = utf8.char(c) end
  local n = #chars
  if n <= 1 then return "*" end
  if n == 2 then return chars[1] .. "*" end
  return chars[1] .. ("*"):rep(n - 2) .. chars[n]
end

-- A name or number as typed: without white space anywhere.
local function squeeze(s)
  return (trim(s):gsub("%s", ""):gsub("　", ""))
end

--- Check one record (a table of field name -> value) for `unit`; `where`
-- names it ("第 3 条"). Appends errors ({ record =, field =, message = })
-- and returns the clean record, or nil.
local function clean(rec, n, where, unit, errors)
  local out, bad = {}, false
  local function err(field, msg)
    bad = true
    if #errors < M.MAX_ERRORS then
      errors[#errors + 1] = { record = n, field = field,
        message = ("%s：%s（%s）：%s"):format(where, field, LABEL[field] or field, msg),
        staff = ("%s：%s：%s"):format(where, LABEL[field] or field, msg) }
    end
  end
  if type(rec) ~= "table" then
    errors[#errors + 1] = { record = n, message = where .. "：应为一个对象（字段名与值）" }
    return nil
  end
  for k in pairs(rec) do
    if type(k) ~= "string" or not FIELD[k] then err(tostring(k), "不是已知的字段") end
  end
  for _, f in ipairs(M.FIELDS) do
    local name, _, required, max = f[1], f[2], f[3], f[4]
    local v = rec[name]
    if v == nil then v = rec[f[2]] end
    if v == cjson.null then v = nil end
    if type(v) == "number" and math.tointeger(v) then v = tostring(math.tointeger(v)) end
    if v ~= nil and type(v) ~= "string" then
      err(name, "应为文字")
    else
      v = trim(v)
      local len = utf8.len(v)
      if not len then
        err(name, "含有无法识别的字符（应为 UTF-8 编码）")
      elseif v == "" then
        if required then err(name, "不能为空") end
      elseif len > max then
        err(name, ("最多 %d 个字，实为 %d 个字"):format(max, len))
      elseif v:find("%c") and name ~= "result" then
        err(name, "不能含有换行或控制字符")
      else
        out[name] = v
      end
    end
  end
  if out.case_no and out.case_no:find("%s") then err("case_no", "不能含有空格") end
  if out.applicant then out.applicant = squeeze(out.applicant) end
  if out.status and not STATUS[out.status] then
    err("status", "应为 " .. table.concat(M.STATUSES, "、") .. " 之一")
  end
  local bad_date = false
  for _, d in ipairs({ "received_on", "finished_on" }) do
    if out[d] and not valid_date(out[d]) then
      err(d, "应为日期，如 2026-12-01")
      out[d], bad_date = nil, true
    end
  end
  if out.status and FINAL[out.status] and not out.finished_on and not bad_date then
    err("finished_on", "状态为" .. out.status .. "时必须填写")
  end
  if out.finished_on and out.received_on and out.finished_on < out.received_on then
    err("finished_on", "不能早于受理日期")
  end
  if out.unit and out.unit ~= unit then
    err("unit", ("与密钥或所选单位（%s）不符，只能导入本单位的办件"):format(unit))
  end
  if bad then return nil end
  out.unit = unit
  out.result = out.result or ""
  out.where = where
  return out
end

--- The rows of a CSV text (RFC 4180: quotes, doubled quotes, CRLF or LF; a
-- UTF-8 byte order mark is dropped): { { line =, fields = { ... } }, ... },
-- or nil and why.
function M.csv(s)
  if s:sub(1, 3) == "\239\187\191" then s = s:sub(4) end
  local rows, i, n, line = {}, 1, #s, 1
  while i <= n do
    local row, first = {}, line
    while true do
      local field
      if s:sub(i, i) == '"' then
        local buf, j = {}, i + 1
        while true do
          local q = s:find('"', j, true)
          if not q then return nil, ("第 %d 行：引号没有闭合"):format(first) end
          buf[#buf + 1] = s:sub(j, q - 1)
          if s:sub(q + 1, q + 1) == '"' then
            buf[#buf + 1] = '"'
            j = q + 2
          else
            i = q + 1
            break
          end
        end
        field = table.concat(buf)
        for _ in field:gmatch("\n") do line = line + 1 end
        local c = s:sub(i, i)
        if c ~= "," and c ~= "\r" and c ~= "\n" and c ~= "" then
          return nil, ("第 %d 行：引号之后应为逗号或换行"):format(line)
        end
      else
        local j = s:find("[,\r\n]", i) or n + 1
        field = s:sub(i, j - 1)
        i = j
      end
      row[#row + 1] = field
      local c = s:sub(i, i)
      if c == "," then
        i = i + 1
      else
        if c == "\r" then i = i + 1 end
        if s:sub(i, i) == "\n" then i = i + 1 end
        line = line + 1
        break
      end
    end
    if not (#row == 1 and trim(row[1]) == "") then
      rows[#rows + 1] = { line = first, fields = row }
    end
    if #rows > M.MAX_RECORDS + 1 then break end
  end
  return rows
end

local function too_many(n)
  return { { message = ("一次最多导入 %d 条办件，这次有 %d 条以上，请分批导入"):format(M.MAX_RECORDS, n) } }
end

--- Clean records from a CSV text: the list, or nil and the errors.
local function from_csv(text, unit)
  local rows, why = M.csv(text)
  if not rows then return nil, { { message = why } } end
  if #rows == 0 then return nil, { { message = "文件是空的：第 1 行应为表头" } } end
  local header, cols, errors = rows[1], {}, {}
  for k, h in ipairs(header.fields) do
    local f = FIELD[trim(h)]
    if not f then
      errors[#errors + 1] = { record = header.line, field = trim(h),
        message = ("第 %d 行（表头）：第 %d 列“%s”不是已知的字段"):format(header.line, k, trim(h)) }
    elseif cols[f[1]] then
      errors[#errors + 1] = { record = header.line, field = f[1],
        message = ("第 %d 行（表头）：字段 %s 重复"):format(header.line, f[1]),
        staff = ("第 %d 行（表头）：字段“%s”重复"):format(header.line, f[2]) }
    else
      cols[f[1]] = k
    end
  end
  for _, f in ipairs(M.FIELDS) do
    if f[3] and not cols[f[1]] and #errors == 0 then
      errors[#errors + 1] = { record = header.line, field = f[1],
        message = ("第 %d 行（表头）：缺少必需的字段 %s（%s）"):format(header.line, f[1], f[2]),
        staff = ("第 %d 行（表头）：缺少必需的字段“%s”"):format(header.line, f[2]) }
    end
  end
  if #errors > 0 then return nil, errors end
  if #rows - 1 > M.MAX_RECORDS then return nil, too_many(#rows - 1) end
  local out = {}
  for r = 2, #rows do
    local row = rows[r]
    local where = ("第 %d 行"):format(row.line)
    if #row.fields ~= #header.fields then
      errors[#errors + 1] = { record = row.line, message = ("%s：应有 %d 列，实有 %d 列")
        :format(where, #header.fields, #row.fields) }
    else
      local rec = {}
      for name, k in pairs(cols) do
        if trim(row.fields[k]) ~= "" then rec[name] = row.fields[k] end
      end
      out[#out + 1] = clean(rec, row.line, where, unit, errors)
    end
  end
  if #errors > 0 then return nil, errors end
  return out
end

--- Clean records from a JSON text (an array of objects).
local function from_json(text, unit)
  local ok, list = pcall(cjson.decode, text)
  if not ok or type(list) ~= "table" or (next(list) ~= nil and list[1] == nil) then
    return nil, { { message = "内容不是有效的 JSON 数组（应为 [ {…}, {…} ]）" } }
  end
  if #list > M.MAX_RECORDS then return nil, too_many(#list) end
  local out, errors = {}, {}
  for n, rec in ipairs(list) do
    out[#out + 1] = clean(rec, n, ("第 %d 条"):format(n), unit, errors)
  end
  if #errors > 0 then return nil, errors end
  return out
end

--- Import the records of `text` (format "json" or "csv") for `unit`, all or
-- none: the number imported, or nil and the errors.
function M.import(text, format, unit, source, now)
  local records, errors
  if format == "csv" then records, errors = from_csv(text, unit)
  else records, errors = from_json(text, unit) end
  if not records then return nil, errors end
  if #records == 0 then return nil, { { message = "没有可导入的办件" } } end
  errors = {}
  local seen = {}
  for n, r in ipairs(records) do
    local where = r.where
    if seen[r.case_no] then
      errors[#errors + 1] = { record = n, field = "case_no",
        message = ("%s：case_no（办件编号）：%s 与%s重复"):format(where, r.case_no,
          seen[r.case_no]),
        staff = ("%s：办件编号 %s 与%s重复"):format(where, r.case_no, seen[r.case_no]) }
    else
      seen[r.case_no] = where
      local cur = check(db.first("SELECT unit FROM guides_cases WHERE case_no = ?", r.case_no))
      if cur and cur.unit ~= unit then
        local why = ("%s 已由%s导入，只能更新本单位的办件"):format(r.case_no,
          roles.unit_name(cur.unit))
        errors[#errors + 1] = { record = n, field = "case_no",
          message = where .. "：case_no（办件编号）：" .. why, staff = where .. "：办件编号 " .. why }
      end
    end
    if #errors >= M.MAX_ERRORS then break end
  end
  if #errors > 0 then return nil, errors end
  local ok, res = pcall(db.transaction, function()
    for _, r in ipairs(records) do
      local changed = check(db.exec([[INSERT INTO guides_cases (case_no, unit, item_name, applicant,
          status, received_on, finished_on, result, source, created_at, updated_at)
        VALUES (:case_no, :unit, :item_name, :applicant, :status, :received_on, :finished_on,
          :result, :source, :now, :now)
        ON CONFLICT (case_no) DO UPDATE SET item_name = excluded.item_name,
          applicant = excluded.applicant, status = excluded.status,
          received_on = excluded.received_on, finished_on = excluded.finished_on,
          result = excluded.result, source = excluded.source, updated_at = excluded.updated_at
        WHERE guides_cases.unit = excluded.unit]], {
        case_no = r.case_no, unit = unit, item_name = r.item_name, applicant = r.applicant,
        status = r.status, received_on = r.received_on, finished_on = r.finished_on,
        result = r.result, source = source, now = now }))
      if changed ~= 1 then error("办件编号 " .. r.case_no .. " 已属于其他单位", 0) end
    end
    return #records
  end)
  if not ok then return nil, { { message = "导入失败，未导入任何办件：" .. tostring(res) } } end
  return res
end

---------------------------------------------------------------------------
-- The import endpoint (machine client, CSRF off)
---------------------------------------------------------------------------

local function api_error(status, message, errors, headers)
  for _, e in ipairs(errors or {}) do e.staff = nil end
  local body = cjson.encode({ imported = 0, error = message, errors = errors or cjson.null })
  headers = headers or {}
  headers["Content-Type"] = "application/json"
  return status, body, headers
end

local function content_type(req)
  return ((req:header("content-type") or ""):match("^%s*([^;%s]+)") or ""):lower()
end

-- POST /api/cases
local function api(req)
  local key = req:header(M.KEY_HEADER) or ""
  key = trim(key)
  local k = key ~= "" and #key <= 100 and check(db.first("SELECT id, unit FROM guides_keys"
    .. " WHERE hash = ? AND revoked_at IS NULL", park.sha256(key)))
  if not k then
    return api_error(401, "缺少或无效的接口密钥：请在请求头 X-Guides-Key 中提供本单位有效的密钥")
  end
  local ct = content_type(req)
  local format = (ct == "text/csv" and "csv") or (ct == "application/json" and "json")
  if not format then
    return api_error(415, "内容类型应为 application/json 或 text/csv")
  end
  local now = park.now()
  local n, errors = M.import(req.body or "", format, k.unit, "key:" .. k.id, now)
  if not n then return api_error(400, "未导入任何办件，请改正以下错误后重新提交", errors) end
  check(db.exec("UPDATE guides_keys SET last_used_at = ? WHERE id = ?", now, k.id))
  park.audit("cases.import", "guides_cases:" .. k.unit, nil,
    { imported = n, source = "key:" .. k.id })
  return park.json({ imported = n })
end

---------------------------------------------------------------------------
-- The console: upload, the latest cases, API keys
---------------------------------------------------------------------------

local function staff(req)
  return content.staff(req, nil, rate.deny)
end

local function recent(units)
  if #units == 0 then return {} end
  local marks, args = {}, {}
  for i, u in ipairs(units) do
    marks[i] = "?"
    args[i] = u.code
  end
  local rows = check(db.query("SELECT case_no, unit, item_name, applicant, status, received_on,"
    .. " finished_on, updated_at FROM guides_cases WHERE unit IN (" .. table.concat(marks, ", ")
    .. ") ORDER BY updated_at DESC, id DESC LIMIT 30", table.unpack(args)))
  for _, r in ipairs(rows) do r.masked = M.mask(r.applicant) end
  return rows
end

local function console(req, ctx, status)
  ctx.units = ctx.units or roles.allowed("edit")
  ctx.title = "办件数据"
  ctx.cases = recent(ctx.units)
  ctx.fields, ctx.statuses = M.FIELDS, M.STATUSES
  return rate.staff_page(req, "case_import.html", ctx, status)
end

local function no_unit(req)
  return rate.deny(req, 403, "没有权限", "您的账号不是任何单位的编辑或网站管理员，不能导入办件。"
    .. "如需开通，请联系本单位的网站管理员或园区服务中心。")
end

-- GET /manage/cases
local function cases_page(req)
  local user, answer = staff(req)
  if not user then return answer() end
  local units = roles.allowed("edit")
  if #units == 0 then return no_unit(req) end
  return console(req, { user = user, units = units })
end

-- POST /manage/cases: a JSON or CSV file for one of the user's units.
local function upload(req)
  local user, answer = staff(req)
  if not user then return answer() end
  local units = roles.allowed("edit")
  if #units == 0 then return no_unit(req) end
  local unit = req.form.unit or (units[1] and units[1].code)
  local allowed = false
  for _, u in ipairs(units) do allowed = allowed or u.code == unit end
  if not allowed then return no_unit(req) end
  local up = req.files and req.files.file and req.files.file[1]
  local data, too_big
  if up then data, too_big = forms.read(up) end
  if not data or data == "" then
    return console(req, { user = user, units = units, unit = unit,
      errors = { { message = too_big or "请选择要导入的 JSON 或 CSV 文件" } } }, 422)
  end
  local filename = up.filename
  local format = filename:lower():match("%.(%a+)$")
  if format ~= "csv" and format ~= "json" then
    format = data:match("^[\239\187\191%s]*[%[{]") and "json" or "csv"
  end
  local n, errors = M.import(data, format, unit, "upload:" .. user.login, park.now())
  if not n then
    return console(req, { user = user, units = units, unit = unit, errors = errors }, 422)
  end
  park.audit("cases.upload", "guides_cases:" .. unit, nil,
    { imported = n, file = filename })
  return console(req, { user = user, units = units, unit = unit,
    done = ("已导入 %d 条办件（%s）。"):format(n, roles.unit_name(unit)) })
end

local function keys_page(req, ctx, status)
  local marks, args = {}, {}
  for i, u in ipairs(ctx.units) do
    marks[i] = "?"
    args[i] = u.code
  end
  ctx.keys = check(db.query("SELECT id, unit, label, hint, created_by, created_at, last_used_at,"
    .. " revoked_by, revoked_at FROM guides_keys WHERE unit IN (" .. table.concat(marks, ", ")
    .. ") ORDER BY revoked_at IS NOT NULL, id DESC", table.unpack(args)))
  ctx.title = "接口密钥"
  ctx.endpoint = rate.base(req) .. "/api/cases"
  return rate.staff_page(req, "keys.html", ctx, status)
end

local function key_staff(req)
  local user, answer = staff(req)
  if not user then return nil, nil, answer end
  local units = roles.allowed("bind")
  if #units == 0 then
    return nil, nil, content.answer(rate.deny(req, 403, "没有权限", "接口密钥由本单位的网站管理员"
      .. "创建和停用，您的账号没有这项权限。如需开通，请联系本单位的网站管理员或园区服务中心。"))
  end
  return user, units
end

local function owns(units, code)
  for _, u in ipairs(units) do if u.code == code then return true end end
  return false
end

-- GET /manage/keys
local function keys(req)
  local user, units, answer = key_staff(req)
  if not user then return answer() end
  return keys_page(req, { user = user, units = units,
    done = req.query.done == "revoke" and "密钥已停用，使用它的导入将被拒绝。" or nil })
end

-- POST /manage/keys: a new key, shown this once.
local function key_create(req)
  local user, units, answer = key_staff(req)
  if not user then return answer() end
  local unit = req.form.unit or units[1].code
  if not owns(units, unit) then
    return keys_page(req, { user = user, units = units, error = "请选择您有权管理的单位" }, 422)
  end
  local label = trim(req.form.label)
  local len = utf8.len(label)
  if label == "" or not len or len > 40 then
    return keys_page(req, { user = user, units = units, error = "请填写用途说明（最多 40 个字）" },
      422)
  end
  local key = "gk_" .. park.token()
  local now = park.now()
  local _, id = check(db.exec("INSERT INTO guides_keys (unit, label, hint, hash, created_by,"
    .. " created_at) VALUES (?, ?, ?, ?, ?, ?)", unit, label, key:sub(1, 7), park.sha256(key),
    user.login, now))
  park.audit("key.create", "guides_key:" .. tostring(id), nil,
    { unit = unit, label = label, hint = key:sub(1, 7) })
  return keys_page(req, { user = user, units = units, new_key = key, new_unit = unit })
end

-- POST /manage/keys/:id/revoke
local function key_revoke(req)
  local user, units, answer = key_staff(req)
  if not user then return answer() end
  local k = check(db.first("SELECT id, unit, label, revoked_at FROM guides_keys WHERE id = ?",
    math.tointeger(tonumber(req.params.id or "")) or -1))
  if not k or not owns(units, k.unit) then
    return rate.deny(req, 404, "未找到", "没有这个密钥，或它不属于您管理的单位。")
  end
  if not k.revoked_at then
    check(db.exec("UPDATE guides_keys SET revoked_at = ?, revoked_by = ? WHERE id = ?",
      park.now(), user.login, k.id))
    park.audit("key.revoke", "guides_key:" .. k.id, { unit = k.unit, label = k.label }, nil)
  end
  return park.redirect(rate.base(req) .. "/manage/keys?done=revoke")
end

---------------------------------------------------------------------------
-- The resident's lookup
---------------------------------------------------------------------------

local LOOKUP = form.new({ fields = {
  { name = "case_no", label = "办件编号", required = true, max_length = 64, autocomplete = "off" },
  { name = "applicant", label = "申请人姓名或单位名称", required = true, max_length = 100,
    autocomplete = "name" },
} })

local function lookup_page(req, ctx, status, values, errors)
  ctx.title, ctx.form = "办件查询", LOOKUP:context(req, values, errors)
  return rate.page(req, "cases.html", ctx, status)
end

-- GET /cases (also a lookup refused for its CSRF token: what was typed, again)
local function lookup_form(req)
  return lookup_page(req, {})
end

-- POST /cases: both the number and the name must match.
local function lookup(req, res)
  local now = park.now()
  local count, wait = rate.bump("lookup", req.client_ip, now)
  local limit = req.config.case_lookups_per_hour or 10
  if count > limit then
    res:header("Retry-After", tostring(wait))
    return lookup_page(req, { limited = true, wait_minutes = (wait + 59) // 60,
      error = ("查询过于频繁：同一网络每小时最多查询 %d 次，请 %d 分钟后再试。")
        :format(limit, (wait + 59) // 60) }, 429)
  end
  local v, errors = LOOKUP:check(req)
  if errors then return lookup_page(req, {}, 422, v, errors) end
  local case_no, name = squeeze(v.case_no), squeeze(v.applicant)
  local c = check(db.first("SELECT case_no, unit, item_name, applicant, status, received_on,"
    .. " finished_on, result, updated_at FROM guides_cases WHERE case_no = ?", case_no))
  if not c or c.applicant ~= name then
    return lookup_page(req, { error = "未找到匹配的办件，请核对办件编号和申请人姓名后重试。" }, 404,
      { case_no = case_no })
  end
  c.masked = M.mask(c.applicant)
  c.applicant = nil
  return rate.page(req, "case.html", { title = "办件查询结果", c = c,
    final = FINAL[c.status] or c.status == "撤回" })
end

M.routes = {
  { "POST", "/api/cases", api, csrf = false },
  { "GET", "/cases", lookup_form },
  { "POST", "/cases", lookup },
  { "GET", "/manage/cases", cases_page },
  { "POST", "/manage/cases", upload },
  { "GET", "/manage/keys", keys },
  { "POST", "/manage/keys", key_create },
  { "POST", "/manage/keys/:id/revoke", key_revoke },
}

return M
