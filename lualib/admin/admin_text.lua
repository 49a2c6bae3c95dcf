-- admin_text: the console's words for what the core and the plugins give
-- as keys or in English: the plugins and their config fields (the binding
-- form), the core's refusals, and the audit log's entries. Staff read
-- Chinese only: a key is shown through its label, and an English message
-- of the core becomes the Chinese one that says what to do.
local park = require("park")
local cjson = require("cjson")
local review = require("park.review")

local M = {}

M.KINDS = {
  { "section", "栏目分组" }, { "news", "新闻动态" }, { "notice", "通知公告" },
  { "policy", "政策文件" }, { "interaction", "互动交流" }, { "service", "办事服务" },
  { "static", "静态页面" },
}
M.ROLES = {
  { "webmaster", "网站管理员" }, { "editor", "编辑" }, { "reviewer", "审核员" },
  { "leader", "单位领导" }, { "admin", "中心管理员" },
}
M.KIND_NAME, M.ROLE_NAME = {}, {}
for _, k in ipairs(M.KINDS) do M.KIND_NAME[k[1]] = k[2] end
for _, r in ipairs(M.ROLES) do M.ROLE_NAME[r[1]] = r[2] end

---------------------------------------------------------------------------
-- Small helpers
---------------------------------------------------------------------------

-- A number as people write it: 14, not 14.0 (JSON numbers come back as floats).
function M.num(v)
  if math.type(v) == "float" and v == math.floor(v) and math.abs(v) < 2 ^ 53 then
    return ("%d"):format(v)
  end
  return tostring(v)
end

local function has_cjk(s)
  return type(s) == "string" and s:find("[\228-\233][\128-\191][\128-\191]") ~= nil
end

-- s up to the first of the separators (plain strings), without spaces.
local function cut(s, seps)
  local stop = #s + 1
  for _, sep in ipairs(seps) do
    local i = s:find(sep, 1, true)
    if i and i < stop then stop = i end
  end
  return (s:sub(1, stop - 1):match("^%s*(.-)%s*$"))
end

local function escape_pattern(s)
  return (s:gsub("%p", "%%%0"))
end

---------------------------------------------------------------------------
-- Plugins
---------------------------------------------------------------------------

-- The plugins shipped with the park whose manifests have no Chinese
-- description yet.
local BUNDLED = {
  portal = "门户页面：首页、栏目导航页、静态页面与责任栏目划分明细",
  hello = "问候示例：在栏目上显示一句问候语",
}

--- A plugin's description in Chinese (p: { name =, description = }).
function M.plugin_description(p)
  if has_cjk(p.description) then return p.description end
  return BUNDLED[p.name] or "（此插件没有中文说明）"
end

--- A plugin's short name: its description up to the first "：".
function M.plugin_title(p)
  local d = M.plugin_description(p)
  local t = cut(d, { "：", "，", "（" })
  return t ~= "" and t or d
end

--- The short name of the plugin called `name` among `plugins`
-- (park.site.plugins()); a plugin not loaded is named so.
function M.plugin_name(name, plugins)
  for _, p in ipairs(plugins or {}) do
    if p.name == name then return M.plugin_title(p) end
  end
  return "未加载的插件"
end

---------------------------------------------------------------------------
-- Config fields: labels, values, the form and back
---------------------------------------------------------------------------

local function sorted_names(schema)
  local names = {}
  for name in pairs(schema or {}) do names[#names + 1] = name end
  table.sort(names)
  return names
end

-- Names of config fields and values that several plugins use, for a
-- schema that gives neither a label nor a Chinese description (the
-- bundled portal and hello have English ones): staff never read the key.
local COMMON_FIELDS = {
  site_name = "网站名称", site_url = "网站地址（用于订阅源与站点地图中的完整链接）",
  body = "页面正文（空一行另起一段）", page = "栏目页显示的内容", scope = "适用范围",
  search = "首页检索框提交到的地址（留空则不显示检索框）", greeting = "栏目显示的问候语",
  cache_seconds = "页面缓存的最长秒数（0 为不缓存）", title = "标题", page_size = "每页条数",
}
local COMMON_VALUES = {
  page = "栏目正文", search = "全站检索", section = "栏目导航（下级栏目及其最新信息）",
  feeds = "全站订阅源与站点地图",
}

-- Each enum value's label: the schema's own (`labels`), the review
-- chain's steps, or what the description says after the value
-- ("warn 提示审核人，block 不能提交"; "column：本栏目的文章").
local function enum_labels(f)
  local out = {}
  for _, v in ipairs(f.enum or {}) do
    local key, label = tostring(v), nil
    if type(f.labels) == "table" and f.labels[v] then
      label = f.labels[v]
    elseif review.STEPS[key] then
      label = review.STEPS[key].label
    elseif type(f.description) == "string" then
      local d = f.description
      for _, sep in ipairs({ " ", "：", ":" }) do
        local at = 1
        while not label do
          local i, j = d:find(key .. sep, at, true)
          if not i then break end
          if i == 1 or not d:sub(i - 1, i - 1):find("[%w_]") then
            local l = cut(d:sub(j + 1), { "，", "；", "。", "）", "（", ",", ";", ")", "(" })
            if has_cjk(l) then label = l end
          end
          at = j + 1
        end
      end
    end
    if type(v) == "boolean" then label = label or (v and "是" or "否") end
    out[key] = label or COMMON_VALUES[key] or key
  end
  return out
end

-- The description without the enum's values written in it for the
-- developer ("review 单位审核" becomes "单位审核").
local function clean(f)
  local d = f.description or ""
  if not has_cjk(d) then return nil end
  for _, v in ipairs(f.enum or {}) do
    local p = escape_pattern(tostring(v))
    d = d:gsub("%f[%w_]" .. p .. "%f[^%w_]%s*：%s*", "")
    d = d:gsub("%f[%w_]" .. p .. "%f[^%w_]%s*:%s*", "")
    d = d:gsub("%f[%w_]" .. p .. "%f[^%w_] +", "")
  end
  return d
end

--- A config field's label: the schema's `label`, else the first part of
-- its description (up to "：", "（" or "；").
function M.field_label(name, f)
  if type(f.label) == "string" and f.label ~= "" then return f.label end
  local d = clean(f)
  -- A description that starts with the values lists them, it names nothing.
  local first = f.enum and f.enum[1] ~= nil and (f.description or ""):match("^[%w_]+")
  if d and d ~= "" and not (first and COMMON_FIELDS[name]) then
    local l = cut(d, { "：", "（", "；", "(", ";" })
    return l ~= "" and l or d
  end
  return COMMON_FIELDS[name] or "未说明的配置项"
end

--- The rest of a field's description, when the label is not all of it.
function M.field_help(name, f)
  local d = clean(f)
  if not d or d == M.field_label(name, f) then return nil end
  return d
end

local TYPE_HINTS = { integer = "整数", number = "数字", string = "文字" }

-- What to type in a field, under it.
local function hint(f, labels)
  local parts = {}
  if f.type == "array" then
    parts[#parts + 1] = f.enum and "每行一项，按先后顺序填写" or "每行一项"
  elseif f.type == "table" then
    parts[#parts + 1] = "JSON 格式"
  elseif (f.type == "integer" or f.type == "number") and (f.min or f.max) then
    if f.min and f.max then
      parts[#parts + 1] = ("%s 到 %s 之间的%s"):format(M.num(f.min), M.num(f.max),
        TYPE_HINTS[f.type])
    elseif f.min then
      parts[#parts + 1] = ("不小于 %s 的%s"):format(M.num(f.min), TYPE_HINTS[f.type])
    else
      parts[#parts + 1] = ("不大于 %s 的%s"):format(M.num(f.max), TYPE_HINTS[f.type])
    end
  end
  if f.max_length then parts[#parts + 1] = ("最多 %d 个字"):format(f.max_length) end
  if f.enum and f.type == "array" then
    local names = {}
    for i, v in ipairs(f.enum) do names[i] = labels[tostring(v)] end
    parts[#parts + 1] = "可选：" .. table.concat(names, "、")
  end
  if f.required then parts[#parts + 1] = "必填" end
  return table.concat(parts, "；")
end

local function text(v)
  if v == nil then return "" end
  if type(v) == "number" then return M.num(v) end
  return tostring(v)
end

-- A config value as the form shows it.
local function shown(f, v, labels)
  if v == nil then return "" end
  if f.type == "array" and type(v) == "table" then
    local lines = {}
    for i, x in ipairs(v) do lines[i] = f.enum and labels[tostring(x)] or text(x) end
    return table.concat(lines, "\n")
  end
  if f.type == "table" and type(v) == "table" then return cjson.encode(v) end
  if f.enum then return text(v) end -- a select: the value, shown by its label
  if f.type == "boolean" then return v and "true" or "false" end
  return text(v)
end

--- One control per schema field, by name. `saved` is the saved config (or
-- nil: the defaults), `entered` a form posted back, `invalid` the field to mark.
function M.config_fields(schema, saved, entered, invalid)
  local fields = {}
  for i, name in ipairs(sorted_names(schema)) do
    local f = schema[name]
    local labels = enum_labels(f)
    local value
    if entered then
      value = entered["cfg." .. name] or ""
    else
      local v = saved and saved[name]
      if v == nil then v = f.default end
      value = shown(f, v, labels)
    end
    local fld = { id = "cfg-" .. i, name = "cfg." .. name, label = M.field_label(name, f),
                  help = M.field_help(name, f), hint = hint(f, labels), required = f.required,
                  invalid = name == invalid or nil, value = value }
    if f.type == "boolean" or (f.enum and f.type ~= "array") then
      fld.control, fld.options = "select", {}
      if value == "" then fld.options[1] = { "", "（请选择）" } end
      if f.type == "boolean" then
        table.insert(fld.options, { "true", "是" })
        table.insert(fld.options, { "false", "否" })
      else
        for _, e in ipairs(f.enum) do
          table.insert(fld.options, { text(e), labels[tostring(e)] })
        end
      end
    elseif f.type == "string" then
      fld.control = (not f.max_length or f.max_length > 200) and "textarea" or "input"
      fld.input_type, fld.maxlength = "text", f.max_length
    elseif f.type == "integer" or f.type == "number" then
      fld.control, fld.input_type = "input", "number"
      fld.step = f.type == "integer" and "1" or "any"
      fld.min, fld.max = f.min and M.num(f.min), f.max and M.num(f.max)
    else
      fld.control = "textarea"
    end
    fields[i] = fld
  end
  return fields
end

local function integer_of(s)
  s = (s or ""):match("^%s*(.-)%s*$")
  return s:match("^[-+]?%d+$") and math.tointeger(tonumber(s)) or nil
end

local SCALAR_ERRORS = { integer = "须为整数", number = "须为数字", boolean = "须选择“是”或“否”" }

-- A scalar typed from its text, or nil.
local function scalar(kind, s)
  if kind == "string" or kind == nil then return s end
  if kind == "integer" then return integer_of(s) end
  s = s:match("^%s*(.-)%s*$")
  if kind == "number" then
    local n = tonumber(s)
    if n and n == n and n ~= math.huge and n ~= -math.huge then return n end
    return nil
  end
  if s == "true" or s == "是" then return true elseif s == "false" or s == "否" then return false end
  return nil
end

-- A field's form text as a config value, or nil and why not.
local function convert(f, raw, labels)
  if f.type == "array" then
    local by_label = {}
    for v, l in pairs(labels) do by_label[l] = v end
    local items = {}
    for line in (raw .. "\n"):gmatch("(.-)\r?\n") do
      line = line:match("^%s*(.-)%s*$")
      if line ~= "" then
        local v
        if f.enum then
          local key = by_label[line] or (labels[line] and line)
          for _, e in ipairs(f.enum) do
            if tostring(e) == key then v = e end
          end
          if v == nil then
            local names = {}
            for i, e in ipairs(f.enum) do names[i] = labels[tostring(e)] end
            return nil, ("第 %d 行“%s”不是可选的一项，请填写：%s"):format(#items + 1, line,
              table.concat(names, "、"))
          end
        else
          v = scalar(f.items, line)
          if v == nil then
            return nil, ("第 %d 行%s"):format(#items + 1, SCALAR_ERRORS[f.items])
          end
        end
        items[#items + 1] = v
      end
    end
    return items
  elseif f.type == "table" then
    local ok, v = pcall(cjson.decode, raw)
    if not ok or type(v) ~= "table" then return nil, "须为 JSON 格式的对象或数组" end
    return v
  end
  if f.enum then
    for _, e in ipairs(f.enum) do
      if text(e) == raw then return e end
    end
    return nil, "请从列表中选择"
  end
  local v = scalar(f.type, raw)
  if v == nil then return nil, SCALAR_ERRORS[f.type] end
  return v
end

--- The config a posted form gives for a schema: the table, or nil, the
-- message and the field. An empty input leaves the field out (its default
-- applies, or the core says it is required); a required string may be "".
function M.form_config(schema, form)
  local cfg = {}
  for _, name in ipairs(sorted_names(schema)) do
    local f, raw = schema[name], form["cfg." .. name]
    local empty = raw == nil or (f.type == "string" and raw == "") or
      (f.type ~= "string" and not raw:find("%S"))
    if not empty or (raw ~= nil and f.type == "string" and f.required) then
      local v, why = convert(f, raw, enum_labels(f))
      if v == nil then return nil, ("“%s”%s"):format(M.field_label(name, f), why), name end
      cfg[name] = v
    end
  end
  return cfg
end

-- A config value in words.
local function value_text(f, v)
  if v == nil then return "（未设置）" end
  local labels = f and enum_labels(f) or {}
  if type(v) == "boolean" then return v and "是" or "否" end
  if type(v) == "table" then
    local items = {}
    for i, x in ipairs(v) do items[i] = labels[tostring(x)] or value_text(nil, x) end
    if #items == 0 and next(v) ~= nil then return cjson.encode(v) end
    if #items == 0 then return "（无）" end
    return table.concat(items, "、")
  end
  if v == "" then return "（空）" end
  return labels[tostring(v)] or text(v)
end

--- A config as lines { label =, text = } by the plugin's schema (fields
-- without a schema entry are shown as such).
function M.config_lines(schema, cfg)
  local lines = {}
  if type(cfg) ~= "table" then return lines end
  local names = {}
  for k in pairs(cfg) do names[#names + 1] = tostring(k) end
  table.sort(names)
  for _, name in ipairs(names) do
    local f = schema and schema[name]
    lines[#lines + 1] = { label = f and M.field_label(name, f) or "已不再使用的配置项",
                          text = value_text(f, cfg[name]) }
  end
  return lines
end

---------------------------------------------------------------------------
-- The core's refusals, in Chinese
---------------------------------------------------------------------------

-- { Lua pattern of the core's message, Chinese (a string with %1... for
-- the captures, or a function of them) }, the first match wins.
local CORE = {
  { "^a unit code is", "单位代码须为 1 到 32 个小写字母、数字、“_”或“-”，例如 invest。" },
  { "^a unit name is", "单位名称不能为空，最长 200 字节（约 66 个汉字），且只能有一行。" },
  { "^a unit with this code exists", "已有使用这个代码的单位，请换一个代码。" },
  { "^path: a column's path is at most", "路径太长：最长 200 字节。" },
  { "^path: /admin and /static", "路径不能是 /admin 或 /static 及其下级，它们属于管理后台和静态文件。" },
  { "^path: ", "路径须以“/”开头、不以“/”结尾，例如 /gxcy/tzgg；不能有空的一级（“//”），"
    .. "也不能包含空格、“?”、“#”、“%”或“\\”。" },
  { "^title: 1 to (%d+) bytes", "标题不能为空，最长 %1 字节，且只能有一行。" },
  { "^kind: ", "请从列表中选择栏目类型。" },
  { "^max_stale_days: 1 to (%d+)", "最长更新间隔须为 1 到 %1 天，或不填。" },
  { "^max_stale_days: must be an integer", "最长更新间隔须为整数天数，或不填。" },
  { "^position: must be an integer", "排序位置须为整数，或不填。" },
  { "^position: 0 to (%d+)", "排序位置须为 0 到 %1 之间的整数，或不填。" },
  { "^parent: a column cannot be its own parent", "上级栏目不能是这个栏目自己，请另选上级栏目。" },
  { "^parent: there is no column (.*)$", "上级栏目 %1 不存在，请从列表中选择。" },
  { "^parent: (.-) is the column itself or below it",
    "上级栏目 %1 是这个栏目自己或它的下级，栏目不能移到自己下面，请另选上级栏目。" },
  { "^parent: the column tree is at most (%d+) levels deep",
    "栏目最多 %1 级，请选择层级更高的上级栏目。" },
  { "^unit: there is no unit", "没有这个单位，请从列表中选择。" },
  { "^there is no unit with this code", "没有这个单位，请从列表中选择。" },
  { "^there is no column at this path", "没有这个栏目。" },
  { "^plugin: no plugin named '(.-)' is loaded", "所选插件未加载，不能绑定，请选择其他插件。" },
  { "^plugin: ", "请选择要绑定的插件。" },
  { "^config: ", "配置的格式有误，请检查后重新保存。" },
  { "^login: ", "登录名须为 2 到 64 个小写字母、数字、“.”、“_”或“-”。" },
  { "^a login is ", "登录名须为 2 到 64 个小写字母、数字、“.”、“_”或“-”。" },
  { "^name: at most", "姓名太长：最长 255 字节。" },
  { "^role: ", "请从列表中选择角色。" },
  { "^the role is ", "请从列表中选择角色。" },
  { "^a password is at most", "密码太长：最长 1024 字节。" },
  { "^a password may not contain control", "密码不能包含换行等控制字符。" },
  { "^the password is too short", "密码太短，请设置至少 10 个字符的密码。" },
  { "^a password must be UTF%-8", "密码含有无法识别的字符，请重新输入。" },
  { "^a user with this login exists", "已有使用这个登录名的用户，请换一个登录名。" },
  { "^the admin role is held for the center only",
    "“中心管理员”角色只能授予园区服务中心的人员，请选择其他角色或单位。" },
  { "^there is no user with this login", "没有这个用户。" },
  { "^the user does not hold this role for this unit",
    "该用户在这个单位没有这个角色，无需撤销。" },
  { "^you cannot take away your own admin role",
    "不能撤销自己的“中心管理员”角色，请由另一位中心管理员办理。" },
  { "^you cannot disable your own account", "不能停用自己的账号，请由另一位中心管理员办理。" },
  { "^no such user, unit or role", "用户、单位或角色不存在，请从列表中选择。" },
  { "^before and limit are integers", "翻页参数有误，请从审计日志首页重新查看。" },
}

--- The core's message in Chinese. A message already in Chinese (the
-- schema's, the console's own) is kept; an unknown English one is logged
-- for the developers and replaced by a general one.
function M.core_message(msg)
  msg = tostring(msg or "")
  if has_cjk(msg) then return msg end
  for _, c in ipairs(CORE) do
    local caps = { msg:match(c[1]) }
    if caps[1] ~= nil then
      return (c[2]:gsub("%%(%d)", function(i) return caps[tonumber(i)] or "" end))
    end
  end
  park.log.warn("admin: a message of the core without a Chinese text: " .. msg)
  return "操作未能完成，请检查填写的内容后重试；如果仍然不行，请联系系统管理员。"
end

---------------------------------------------------------------------------
-- The audit log
---------------------------------------------------------------------------

local ACTIONS = {
  ["auth.login"] = "登录", ["auth.logout"] = "退出登录",
  ["unit.put"] = "保存单位", ["unit.add"] = "添加单位",
  ["column.put"] = "保存栏目", ["binding.put"] = "绑定插件", ["binding.remove"] = "解除绑定",
  ["site.setting"] = "修改网站设置",
  ["calendar.set"] = "修改工作日历", ["calendar.import"] = "导入工作日历",
  ["user.add"] = "添加用户", ["user.passwd"] = "设置密码", ["user.grant"] = "授予角色",
  ["user.revoke"] = "撤销角色", ["user.disable"] = "停用账号", ["user.enable"] = "启用账号",
}

-- What the content plugins record (park.audit, prefixed with the plugin).
local PLUGIN_ACTIONS = {
  create = "新建", save = "修改", submit = "提交审核", approve = "审核通过", ["return"] = "退回修改",
  withdraw = "撤回", repeal = "废止", written_on = "修改成文日期", extend = "延期",
  outcome = "发布结果反馈", invite = "生成邀请码", export = "导出结果", moderate = "处理网友问题",
  start = "开始直播", ["end"] = "结束直播", followup = "书面答复", open = "开始征集",
  close = "结束征集", publish = "发布",
  assign = "分办", accept = "受理", decline = "不予受理", transfer = "转办",
  extend_request = "申请延期", extend_reject = "不批准延期",
}

--- The filter's choices of action (prefixes), for the audit page.
function M.action_choices(plugins)
  local out = {
    { "", "全部操作" }, { "auth.", "登录与退出" }, { "unit.", "单位" }, { "column.", "栏目" },
    { "binding.", "插件绑定" }, { "user.", "用户与角色" }, { "site.", "网站设置" },
  }
  for _, p in ipairs(plugins or {}) do
    out[#out + 1] = { p.name .. ".", M.plugin_title(p) }
  end
  return out
end

--- An action in words: "column.put" is 保存栏目, "articles.approve" 文章栏目：审核通过.
function M.action(action, plugins)
  action = tostring(action or "")
  if ACTIONS[action] then return ACTIONS[action] end
  local plugin, act = action:match("^([%w_]+)%.(.+)$")
  if plugin then
    for _, p in ipairs(plugins or {}) do
      if p.name == plugin then
        return M.plugin_title(p) .. "：" .. (PLUGIN_ACTIONS[act] or "其他操作")
      end
    end
  end
  return "其他操作"
end

-- "张编辑（zhangbian）" for a login, with `users` a table login → user.
local function person(login, users)
  local u = users[login]
  if u and u.name and u.name ~= "" and u.name ~= login then
    return ("%s（%s）"):format(u.name, login)
  end
  return login
end

--- Who acted: a user, the server's command line (with its system
-- account) or a plugin's job.
function M.actor(actor, users, plugins)
  actor = tostring(actor or "")
  local kind, who = actor:match("^(%a+):(.*)$")
  if kind == "user" then return person(who, users) end
  if kind == "cli" then return ("服务器命令行（系统账号 %s）"):format(who) end
  if kind == "plugin" then return "系统自动（" .. M.plugin_name(who, plugins) .. "）" end
  return actor
end

local OBJECTS = { column = "栏目", unit = "单位", setting = "网站设置", day = "工作日历中的" }
-- What the content plugins keep, by the prefix of their audit objects.
local ITEMS = { articles = "文章", survey = "征集", interview = "访谈", letters = "信件" }

--- What was acted on.
function M.object(object, ctx)
  object = tostring(object or "")
  local kind, key = object:match("^([%w_]+):(.*)$")
  if not kind then return object end
  if kind == "user" then return "用户 " .. person(key, ctx.users) end
  if kind == "unit" then
    local name = ctx.units[key]
    return name and ("单位 %s（%s）"):format(name, key) or ("单位 " .. key)
  end
  if kind == "column" then
    local c = park.site.column(key)
    return c and ("栏目“%s”%s"):format(c.title, key) or ("栏目 " .. key)
  end
  if kind == "calendar" then return "工作日历" end
  if kind == "setting" then
    return "网站设置：" .. (ctx.settings[key] or "其他设置项")
  end
  if OBJECTS[kind] then return OBJECTS[kind] .. " " .. key end
  if ITEMS[kind] then return ("编号 %s 的%s"):format(key, ITEMS[kind]) end
  for _, p in ipairs(ctx.plugins) do
    if p.name == kind then return ("%s中编号 %s 的一项"):format(M.plugin_title(p), key) end
  end
  return "其他对象"
end

local KEY_LABELS = {
  path = "路径", title = "标题", kind = "类型", unit = "单位", parent = "上级栏目",
  position = "排序位置", max_stale_days = "最长更新间隔(天)", code = "代码", name = "名称",
  plugin = "插件", enabled = "启用", config = "配置", role = "角色", column = "栏目",
  revision = "版本", chain = "审核流程", warnings = "用词提示（处）", step = "环节",
  published = "已上线", scheduled = "定时发布于", status = "状态", reason = "理由",
  written_on = "成文日期", comment = "意见", closes_at = "结束时间", length = "字数",
  count = "数量", rows = "导出份数", question = "问题编号", decision = "处理结果",
  source = "依据", days = "天数", to_unit = "转至单位",
}
local ORDER = { "code", "name", "path", "title", "kind", "unit", "parent", "position",
                "max_stale_days", "plugin", "enabled", "config", "role", "column", "revision",
                "chain", "step", "decision", "status", "published", "scheduled", "warnings",
                "written_on", "closes_at", "reason", "comment", "question", "count", "rows",
                "length" }
local RANK = {}
for i, k in ipairs(ORDER) do RANK[k] = i end

local STATUS = { live = "已发布", withdrawn = "已撤回", draft = "未发布" }
local DECISIONS = { approve = "通过", reject = "不予采纳", merge = "合并" }

-- A value of an audit entry's before or after, in words.
local function entry_value(key, v, ctx)
  if v == nil or v == cjson.null then return "（无）" end
  if type(v) == "boolean" then return v and "是" or "否" end
  if key == "kind" then
    return M.KIND_NAME[v] or ({ holiday = "放假", workday = "调休上班" })[v] or tostring(v)
  end
  if key == "role" then return M.ROLE_NAME[v] or tostring(v) end
  if key == "unit" and ctx.units[v] then return ("%s（%s）"):format(ctx.units[v], v) end
  if key == "plugin" then return M.plugin_name(v, ctx.plugins) end
  if key == "status" then return STATUS[v] or tostring(v) end
  if key == "decision" then return DECISIONS[v] or tostring(v) end
  if key == "step" then return review.step_label(v) end
  if key == "closes_at" and type(v) == "number" then
    return os.date("%Y-%m-%d %H:%M", math.tointeger(v) or math.floor(v))
  end
  if key == "revision" and type(v) == "number" then return ("第 %s 版"):format(M.num(v)) end
  if key == "chain" and type(v) == "table" then
    local steps = {}
    for i, s in ipairs(v) do steps[i] = review.step_label(s) end
    return #steps > 0 and table.concat(steps, " → ") or "（无）"
  end
  if key == "config" and type(v) == "table" then return "全部为默认值" end
  if type(v) == "table" then return value_text(nil, v) end
  if type(v) == "number" then return M.num(v) end
  if v == "" then return "（空）" end
  return tostring(v)
end

--- An audit entry's before or after (JSON text) as lines { label =, text = }.
function M.changes(json, ctx)
  if json == nil or json == "" then return nil end
  local ok, v = pcall(cjson.decode, json)
  if not ok then return { { label = "内容", text = "（无法读取）" } } end
  if type(v) ~= "table" then
    return { { label = "值", text = entry_value(nil, v, ctx) } }
  end
  local keys = {}
  for k in pairs(v) do keys[#keys + 1] = k end
  table.sort(keys, function(a, b)
    local ra, rb = RANK[a] or 1000, RANK[b] or 1000
    if ra ~= rb then return ra < rb end
    return tostring(a) < tostring(b)
  end)
  local lines = {}
  for _, k in ipairs(keys) do
    if k == "config" and type(v[k]) == "table" and next(v[k]) ~= nil then
      -- A binding's config: a line per field, by the plugin's labels.
      local schema
      for _, p in ipairs(ctx.plugins) do
        if p.name == v.plugin then schema = p.config end
      end
      for _, l in ipairs(M.config_lines(schema, v[k])) do lines[#lines + 1] = l end
    else
      lines[#lines + 1] = { label = KEY_LABELS[k] or "其他", text = entry_value(k, v[k], ctx) }
    end
  end
  return lines
end

return M
