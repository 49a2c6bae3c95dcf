-- admin: the center's console at /admin. Units, the column tree, plugin
-- bindings with their configs, staff accounts and the audit log, as plain
-- server-rendered pages (no JavaScript).
--
-- Who may do what is asked in one place, route() below, and only through
-- park.auth.can; the core checks every change again and writes it to the
-- audit log.
local park = require("park")
local words = require("admin_text")

local plugin = {
  name = "admin",
  version = "1.0.0",
  description = "网站管理后台：单位、栏目、插件绑定、用户与审计日志",
}

local HOME, LOGIN = "/admin/", "/admin/login"

-- Column kinds and roles with their Chinese names (admin_text: the
-- console's words for keys).
local KINDS, ROLES = words.KINDS, words.ROLES
local KIND_NAME, ROLE_NAME = words.KIND_NAME, words.ROLE_NAME

-- The sections of the console; `admin` ones only for the center's administrator.
local SECTIONS = {
  { key = "home", label = "概览", href = HOME },
  { key = "units", label = "单位", href = "/admin/units", admin = true },
  { key = "columns", label = "栏目", href = "/admin/columns" },
  { key = "users", label = "用户", href = "/admin/users", admin = true },
  { key = "settings", label = "网站设置", href = "/admin/settings", admin = true },
  { key = "calendar", label = "工作日历", href = "/admin/calendar", admin = true },
  { key = "audit", label = "审计日志", href = "/admin/audit", admin = true },
}

---------------------------------------------------------------------------
-- Small helpers
---------------------------------------------------------------------------

local function trim(s)
  return (s or ""):match("^%s*(.-)%s*$")
end

-- nil for an empty or blank form value.
local function given(s)
  s = trim(s)
  if s ~= "" then return s end
end

-- A number as people write it: 14, not 14.0 (JSON numbers come back as floats).
local num = words.num

local function text(v)
  if v == nil then return "" end
  if type(v) == "number" then return num(v) end
  return tostring(v)
end

local function integer_of(s)
  s = trim(s)
  return s:match("^[-+]?%d+$") and math.tointeger(tonumber(s)) or nil
end

-- An optional integer field: nil when empty, or nil and "<label>须为整数…".
local function optional_integer(s, label)
  if not given(s) then return nil end
  local n = integer_of(s)
  if not n then return nil, label .. "须为整数，例如 3；也可以不填。" end
  return n
end

-- The value of a reading call of park.site (their only failure is the core's).
local function read(v, msg)
  if v == nil and msg ~= nil then error(msg, 0) end
  return v
end

local function column(path)
  if type(path) ~= "string" or path == "" then return nil end
  return park.site.column(path)
end

local function unit_names()
  local names = {}
  for _, u in ipairs(read(park.site.units())) do names[u.code] = u.name end
  return names
end

-- "编辑@招商局" for each of a user's roles.
local function role_labels(roles, names)
  local out = {}
  for i, r in ipairs(roles or {}) do
    out[i] = { unit = r.unit, role = r.role,
               label = (ROLE_NAME[r.role] or r.role) .. "@" .. (names[r.unit] or r.unit) }
  end
  return out
end

local function user_url(login)
  return "/admin/users/" .. park.url_encode(login)
end

-- A `next` to go to after logging in: a path of this site (a staff page of
-- a plugin, as /gxcy/tzgg/manage), never another site.
local function safe_next(s)
  if type(s) ~= "string" or not s:find("^/") then return nil end
  if s:find("//", 1, true) or s:find("[\\%c]") then return nil end
  return s
end

---------------------------------------------------------------------------
-- Pages
---------------------------------------------------------------------------

-- Renders a page of the console into layout.html with what every page
-- needs: the user, the CSRF token, the navigation for their permissions.
local function render(name, ctx, status)
  local user = park.auth.user()
  local admin = user ~= nil and park.auth.can("admin")
  local nav = {}
  if user then
    for _, s in ipairs(SECTIONS) do
      if admin or not s.admin then
        nav[#nav + 1] = { label = s.label, href = s.href, key = s.key,
                          current = s.key == ctx.section }
      end
    end
  else
    nav[1] = { label = "登录", href = LOGIN, current = name == "login.html" }
  end
  ctx.user, ctx.admin, ctx.nav, ctx.csrf = user, admin, nav, park.csrf()
  return park.html(park.render(name, ctx), status)
end

local function message(status, title, body)
  return render("message.html", { title = title, body = body }, status)
end

-- A 403 that says why (`why`), in the console's layout.
local function forbidden(why)
  return message(403, "没有权限", why or "您的账号没有执行这一操作的权限。如需开通，请联系园区服务中心的"
    .. "中心管理员。")
end

local ADMIN_ONLY = "这一功能只有园区服务中心的中心管理员可以使用。如需办理，请联系中心管理员。"

local function not_found(body)
  return message(404, "未找到", body or "您要找的内容不存在。")
end

-- The answer to a failed change: 403, 404, the form again with the message
-- (`again(msg)`, status 422), or an error (a 500 with the request id).
-- The core's English message is shown in Chinese (admin_text).
local function failed(msg, code, again)
  if code == "FORBIDDEN" then return forbidden() end
  if code == "NOTFOUND" then return not_found() end
  if again and (code == "INVALID" or code == "EXISTS") then
    return again(words.core_message(msg))
  end
  error(msg or "park.site failed", 0)
end

-- A field of the request: the form's for a POST, the query's otherwise.
local function param(req, name)
  local src = req.method == "POST" and req.form or req.query
  return src and src[name]
end

-- The one permission check. `need` is nil (anyone logged in), "admin", or a
-- function of the request giving an action and a column path.
local function route(method, pattern, need, handler)
  return { method, pattern, function(req)
    local user = park.auth.user()
    if not user then
      if method == "GET" then
        return park.redirect(LOGIN .. "?next=" .. park.url_encode(req.target))
      end
      return forbidden("您尚未登录或登录已过期，请先登录管理后台，再重新操作。")
    end
    local allowed, why = true, nil
    if need == "admin" then
      allowed, why = park.auth.can("admin"), ADMIN_ONLY
    elseif need then
      local action, path = need(req)
      allowed = type(path) == "string" and path ~= "" and park.auth.can(action, path)
      local c = column(path)
      why = c and ("只有栏目“%s”的责任单位（%s）的网站管理员和中心管理员可以为它绑定插件。"):format(
        c.title, c.unit_name or c.unit) or "没有指明栏目，或没有这个栏目。"
    end
    if not allowed then return forbidden(why) end
    return handler(req, user)
  end }
end

local function bind_on(req)
  return "bind", param(req, "path")
end

---------------------------------------------------------------------------
-- Login, logout, dashboard
---------------------------------------------------------------------------

local function login_page(req)
  -- A login posted without its page's token (a page left open, a lost
  -- cookie): the form again, the login kept, never the password.
  if req.csrf_failed then
    return render("login.html", { title = "登录", error_title = "页面已过期",
      error = "为了您的安全，请重新输入密码后登录。", login = req.form.login,
      next_path = safe_next(req.form.next) })
  end
  return render("login.html", { title = "登录", already = park.auth.user() ~= nil,
                                next_path = safe_next(req.query.next) })
end

local function login_post(req)
  local f = req.form
  local next_path = safe_next(f.next)
  local user, msg, code = park.auth.login(f.login or "", f.password or "")
  if user then return park.redirect(next_path or HOME) end
  local status, why = 401, "用户名或密码错误"
  if code == "LIMIT" then
    local n = tostring(msg):match("(%d+)")
    status = 429
    why = n and ("登录失败次数过多，请 " .. n .. " 分钟后再试") or "登录失败次数过多，请稍后再试"
  elseif code ~= "DENIED" then
    error(msg or "login failed", 0)
  end
  return render("login.html", { title = "登录", error = why, error_title = "登录失败", login = f.login,
                                next_path = next_path }, status)
end

local function logout()
  park.auth.logout()
  return park.redirect(LOGIN)
end

-- The columns the logged-in user may see, in tree order.
local function visible_columns()
  local out = {}
  local plugins = read(park.site.plugins())
  for _, c in ipairs(read(park.site.columns())) do
    if park.auth.can("view", c.path) then
      local q = park.url_encode(c.path)
      c.kind_name = KIND_NAME[c.kind] or c.kind
      c.plugin_title = c.plugin and words.plugin_name(c.plugin, plugins)
      c.stale = c.max_stale_days and num(c.max_stale_days)
      c.can_bind = park.auth.can("bind", c.path)
      c.edit_href = "/admin/columns/edit?path=" .. q
      c.child_href = "/admin/columns/new?parent=" .. q
      c.bind_href = "/admin/bindings?path=" .. q
      out[#out + 1] = c
    end
  end
  return out
end

local function dashboard(_, user)
  return render("dashboard.html", { section = "home", title = "概览",
                                    roles = role_labels(user.roles, unit_names()),
                                    columns = visible_columns() })
end

---------------------------------------------------------------------------
-- Units
---------------------------------------------------------------------------

local function units_page(entered, err, status)
  return render("units.html", { section = "units", title = "单位", units = read(park.site.units()),
                                entered = entered or {}, error = err }, status)
end

local function unit_put(req)
  local f = req.form
  local ok, msg, code = park.site.unit_put(trim(f.code), trim(f.name))
  if not ok then
    return failed(msg, code, function(m)
      return units_page({ code = f.code, name = f.name }, m, 422)
    end)
  end
  return park.redirect("/admin/units")
end

---------------------------------------------------------------------------
-- Columns
---------------------------------------------------------------------------

local function columns_page()
  return render("columns.html", { section = "columns", title = "栏目",
                                  columns = visible_columns() })
end

-- The new/edit form. `col` holds the values shown (strings).
local function column_form(editing, col, err, status)
  -- A column cannot move below itself: in tree order, the column being
  -- edited is followed by the columns below it (deeper than it).
  local parents, below_depth = {}, nil
  for _, c in ipairs(read(park.site.columns())) do
    if below_depth and c.depth <= below_depth then below_depth = nil end
    if editing and c.path == col.path then below_depth = c.depth end
    if not below_depth then
      parents[#parents + 1] = { path = c.path, label = ("　"):rep(c.depth or 0) .. c.title }
    end
  end
  return render("column_form.html", { section = "columns",
    title = editing and "编辑栏目" or "新建栏目", editing = editing, col = col, error = err,
    kinds = KINDS, units = read(park.site.units()), parents = parents }, status)
end

local function column_new(req)
  local parent = column(req.query.parent)
  return column_form(false, { parent = parent and parent.path, unit = parent and parent.unit })
end

local function column_edit(req)
  local c = column(req.query.path)
  if not c then return not_found("没有这个栏目。") end
  return column_form(true, { path = c.path, title = c.title, kind = c.kind, unit = c.unit,
                             parent = c.parent, position = text(c.position),
                             max_stale_days = text(c.max_stale_days) })
end

local function column_save(editing)
  return function(req)
    local f = req.form
    local col = { path = trim(f.path), title = trim(f.title), kind = f.kind, unit = f.unit,
                  parent = given(f.parent), position = f.position,
                  max_stale_days = f.max_stale_days }
    local function again(msg) return column_form(editing, col, msg, 422) end
    local exists = column(col.path) ~= nil
    if editing and not exists then return not_found("没有这个栏目。") end
    if not editing and exists then return again("已有这个路径的栏目，请换一个路径。") end
    local position, e1 = optional_integer(f.position, "排序位置")
    if e1 then return again(e1) end
    local stale, e2 = optional_integer(f.max_stale_days, "最长更新间隔(天)")
    if e2 then return again(e2) end
    local ok, msg, code = park.site.column_put({ path = col.path, title = col.title,
      kind = col.kind, unit = col.unit, parent = col.parent, position = position,
      max_stale_days = stale })
    if not ok then return failed(msg, code, again) end
    return park.redirect("/admin/columns")
  end
end

---------------------------------------------------------------------------
-- Bindings: the config form is generated from the plugin's schema
---------------------------------------------------------------------------

-- The form's fields and the config it gives back: admin_text (labels for
-- the schema's keys and values).
local config_fields, form_config = words.config_fields, words.form_config

local function find_plugin(name)
  for _, p in ipairs(read(park.site.plugins())) do
    if p.name == name then return p end
  end
end

-- The binding page of a column. `chosen`: the plugin whose config form to
-- show (else the bound one); `post`: a form posted back with its error.
local function bindings_page(path, chosen, post, status)
  local col = column(path)
  if not col then return not_found("没有这个栏目。") end
  local binding = park.site.binding(path)
  local name = given(chosen) or (binding and binding.plugin)
  local p = name and find_plugin(name)
  local same = p and binding and binding.plugin == p.name
  local fields, enabled
  if p then
    fields = config_fields(p.config, same and (binding.config or {}) or nil,
      post and post.form, post and post.field)
  end
  if post then
    enabled = post.form.enabled == "1"
  elseif same then
    enabled = binding.enabled
  else
    enabled = true
  end
  local invalid_id
  for _, fld in ipairs(fields or {}) do
    if fld.invalid then invalid_id = fld.id end
  end
  local plugins = read(park.site.plugins())
  for _, x in ipairs(plugins) do
    x.title, x.about = words.plugin_title(x), words.plugin_description(x)
  end
  if p then p.title, p.about = words.plugin_title(p), words.plugin_description(p) end
  local bound = binding and find_plugin(binding.plugin)
  return render("bindings.html", { section = "columns", title = "绑定插件", col = col,
    binding = binding, bound_title = binding and words.plugin_name(binding.plugin, plugins),
    binding_config = binding and words.config_lines(bound and bound.config, binding.config or {}),
    plugins = plugins, chosen = p, missing = not p and name or nil,
    fields = fields, enabled = enabled, error = post and post.error, invalid_id = invalid_id },
    status)
end

local function bindings_get(req)
  return bindings_page(req.query.path, req.query.plugin)
end

local function bind(req)
  local f = req.form
  local p = find_plugin(f.plugin)
  local function again(msg, field)
    -- The schema names a field as 配置项“name”: the form shows its label.
    field = field or tostring(msg):match("配置项“([%w_]+)”")
    if field and p and p.config and p.config[field] then
      msg = msg:gsub("配置项“" .. field .. "”", "“" .. words.field_label(field, p.config[field])
        .. "”")
    end
    return bindings_page(f.path, f.plugin, p and { form = f, error = msg, field = field }
      or { form = {}, error = msg }, 422)
  end
  if not p then return again("请选择要绑定的插件。") end
  local cfg, msg, field = form_config(p.config, f)
  if not cfg then return again(msg, field) end
  local ok, err, code = park.site.bind(f.path, { plugin = p.name, enabled = f.enabled == "1",
                                                 config = cfg })
  if not ok then return failed(err, code, again) end
  return park.redirect("/admin/columns")
end

local function unbind(req)
  local ok, msg, code = park.site.unbind(req.form.path)
  if not ok then
    return failed(msg, code, function(m)
      return bindings_page(req.form.path, nil, { form = {}, error = m }, 422)
    end)
  end
  return park.redirect("/admin/columns")
end

---------------------------------------------------------------------------
-- Users
---------------------------------------------------------------------------

local function users_page(entered, err, status)
  local users, msg, code = park.site.users()
  if not users then return failed(msg, code) end
  local names = unit_names()
  for _, u in ipairs(users) do
    u.role_labels, u.href = role_labels(u.roles, names), user_url(u.login)
  end
  return render("users.html", { section = "users", title = "用户", users = users,
    units = read(park.site.units()), roles = ROLES, entered = entered or {}, error = err },
    status)
end

local function user_add(req)
  local f = req.form
  local ok, msg, code = park.site.user_add({ login = trim(f.login), name = given(f.name),
    password = f.password or "", unit = f.unit or "", role = f.role or "" })
  if not ok then
    return failed(msg, code, function(m)
      -- The password is never shown again.
      return users_page({ login = f.login, name = f.name, unit = f.unit, role = f.role }, m, 422)
    end)
  end
  return park.redirect(user_url(trim(f.login)))
end

local function find_user(login)
  local users, msg, code = park.site.users()
  if not users then return nil, msg, code end
  for _, u in ipairs(users) do
    if u.login == login then return u end
  end
  return nil, "没有这个用户。", "NOTFOUND"
end

local function user_page(login, err, status)
  local u, msg, code = find_user(login)
  if not u then
    if code == "NOTFOUND" then return not_found(msg) end
    return failed(msg, code)
  end
  u.role_labels, u.href = role_labels(u.roles, unit_names()), user_url(u.login)
  return render("user.html", { section = "users", title = "用户 " .. u.login, u = u,
    units = read(park.site.units()), roles = ROLES, error = err }, status)
end

local OPS = {
  grant = function(login, f) return park.site.grant(login, f.unit or "", f.role or "") end,
  revoke = function(login, f) return park.site.revoke(login, f.unit or "", f.role or "") end,
  disable = function(login) return park.site.disable(login, true) end,
  enable = function(login) return park.site.disable(login, false) end,
  passwd = function(login, f) return park.site.passwd(login, f.password or "") end,
}

local function user_change(req)
  local login, f = req.params.login, req.form
  local u, msg, code = find_user(login)
  if not u then
    if code == "NOTFOUND" then return not_found(msg) end
    return failed(msg, code)
  end
  local function again(m) return user_page(login, m, 422) end
  local op = OPS[f.op or ""]
  if not op then return again("无法识别这项操作，请回到用户页面重新操作。") end
  local ok, err, c = op(login, f)
  -- Revoking a role the user does not hold is a mistake in the form, not a missing page.
  if not ok and c == "NOTFOUND" and f.op == "revoke" then
    return again(words.core_message(err))
  end
  if not ok then return failed(err, c, again) end
  return park.redirect(user_url(login))
end

---------------------------------------------------------------------------
-- The audit log
---------------------------------------------------------------------------


local function audit_page(req)
  local q = req.query
  local filter = { actor = given(q.actor), action = given(q.action),
                   before = integer_of(q.before or ""), limit = 50 }
  local entries, msg, code = park.site.audit(filter)
  local err
  if not entries then
    if code ~= "INVALID" then return failed(msg, code) end
    entries, err = {}, words.core_message(msg)
  end
  -- Who, what and the values before and after, in words (admin_text).
  local users = {}
  for _, u in ipairs(read(park.site.users())) do users[u.login] = u end
  local settings = {}
  if park.site.setting_keys then
    for _, k in ipairs(park.site.setting_keys()) do settings[k.key] = k.label end
  end
  local ctx = { users = users, units = unit_names(), plugins = read(park.site.plugins()),
                settings = settings }
  for _, e in ipairs(entries) do
    e.when = os.date("%Y-%m-%d %H:%M:%S", math.tointeger(e.at) or math.floor(e.at))
    e.who, e.what = words.actor(e.actor, users, ctx.plugins), words.action(e.action, ctx.plugins)
    e.target = words.object(e.object, ctx)
    e.before_lines, e.after_lines = words.changes(e.before, ctx), words.changes(e.after, ctx)
    e.address = given(e.address)
  end
  local actors = { { "", "全部人员" } }
  for _, u in ipairs(read(park.site.users())) do
    actors[#actors + 1] = { "user:" .. u.login, words.actor("user:" .. u.login, users) }
  end
  if filter.actor and not users[(filter.actor:match("^user:(.*)$"))] then
    actors[#actors + 1] = { filter.actor, words.actor(filter.actor, users, ctx.plugins) }
  end
  local actions = words.action_choices(ctx.plugins)
  if filter.action then
    local known = false
    for _, a in ipairs(actions) do known = known or a[1] == filter.action end
    if not known then actions[#actions + 1] = { filter.action, words.action(filter.action,
      ctx.plugins) } end
  end
  local older
  if #entries == 50 then
    local parts = {}
    for _, k in ipairs({ "actor", "action" }) do
      if filter[k] then parts[#parts + 1] = k .. "=" .. park.url_encode(filter[k]) end
    end
    parts[#parts + 1] = "before=" .. num(entries[#entries].id)
    older = "/admin/audit?" .. table.concat(parts, "&")
  end
  return render("audit.html", { section = "audit", title = "审计日志", entries = entries,
    filter = filter, actors = actors, actions = actions, older = older, error = err },
    err and 422 or nil)
end

---------------------------------------------------------------------------
-- The site's settings (the footer and the meta tags of every page)
---------------------------------------------------------------------------

-- What each setting is for, shown under its field.
local SETTING_HELP = {
  name = "显示在每页的页头和标题中，并写入每页的网站名称元数据。",
  domain = "网站的域名本身，不含协议头和路径；写入每页的网站域名元数据。",
  id_code = "全国政府网站信息报送系统分配的 10 位网站标识码，显示在页脚并写入每页元数据。",
  organizer = "页脚的主办单位，空着则显示网站名称。",
  icp = "如：京ICP备12345678号，链接到工业和信息化部备案系统。",
  police = "如：京公网安备 11010202000001号，链接到公安机关备案查询。",
  address = "页脚的联系地址。",
  phone = "页脚的联系电话。",
  email = "页脚的电子邮箱。",
  badge_url = "党政机关网站标识（开办单位核发）的链接；填写后页脚显示标识。",
  errata_url = "“我为政府网站找错”的链接；空着时按网站标识码生成国务院办公厅平台的链接。",
}

local function settings_page(entered, err, status, invalid, saved)
  local values = park.site.settings()
  local fields = {}
  for _, k in ipairs(park.site.setting_keys()) do
    fields[#fields + 1] = { key = k.key, label = k.label, help = SETTING_HELP[k.key],
                            value = entered and entered[k.key] or values[k.key] or "" }
  end
  return render("settings.html", { section = "settings", title = "网站设置", fields = fields,
    error = err, invalid_id = invalid and ("setting-" .. invalid), saved = saved }, status)
end

local function settings_save(req)
  local f = req.form
  local entered = {}
  for _, k in ipairs(park.site.setting_keys()) do entered[k.key] = trim(f[k.key] or "") end
  local ok, msg, code, key = park.site.settings_put(entered)
  if not ok then
    return failed(msg, code, function(m)
      local label = key
      for _, k in ipairs(park.site.setting_keys()) do
        if k.key == key then label = k.label end
      end
      return settings_page(entered, (label or "网站设置") .. "：" .. m, 422, key)
    end)
  end
  return park.redirect("/admin/settings?saved=1")
end

---------------------------------------------------------------------------
-- The working-day calendar: holidays and 调休, for every deadline
---------------------------------------------------------------------------

local KIND_NAMES = { holiday = "放假", workday = "调休上班" }
local WEEKDAYS = { "日", "一", "二", "三", "四", "五", "六" }

local function calendar_page(year, err, status, entered, imported)
  local days, msg, code = park.site.calendar(year)
  if not days then return failed(msg, code) end
  for _, d in ipairs(days) do
    local y, m, dd = d.day:match("^(%d+)-(%d+)-(%d+)$")
    local t = os.time({ year = tonumber(y), month = tonumber(m), day = tonumber(dd), hour = 12 })
    d.weekday = "周" .. WEEKDAYS[tonumber(os.date("%w", t)) + 1]
    d.kind_name = KIND_NAMES[d.kind] or d.kind
  end
  return render("calendar.html", { section = "calendar", title = "工作日历", year = year,
    days = days, error = err, entered = entered or {}, imported = imported }, status)
end

local function calendar_year(req)
  local y = integer_of(param(req, "year") or "")
  if not y or y < 1970 or y > 9999 then y = tonumber(os.date("%Y", park.now())) end
  return math.tointeger(y)
end

local function calendar_set(req)
  local f = req.form
  local year = calendar_year(req)
  local kind = f.kind ~= "" and f.kind or nil
  local ok, msg, code = park.site.calendar_set(trim(f.day or ""), kind, trim(f.name or ""))
  if not ok then
    return failed(msg, code, function(m)
      return calendar_page(year, "日期 " .. (f.day or "") .. "：" .. m, 422, f)
    end)
  end
  local y = (f.day or ""):match("^(%d%d%d%d)") or tostring(year)
  return park.redirect("/admin/calendar?year=" .. y)
end

local function calendar_import(req)
  local year = calendar_year(req)
  local days, msg, code = park.site.calendar_import(req.form.file or "")
  if not days then
    return failed(msg, code, function(m)
      return calendar_page(year, "导入未完成，什么也没有改：" .. m, 422, { file = req.form.file })
    end)
  end
  return calendar_page(year, nil, nil, nil, { days = days, source = msg })
end

---------------------------------------------------------------------------
-- 关怀版: the residents' switch in every page's masthead
---------------------------------------------------------------------------

-- Kept in the cookie `care` for a year; no JavaScript. Back to the page
-- the switch was on (a path of this site only).
local function care(req, res)
  local on = req.query.on == "1"
  res:cookie("care", on and "1" or "0", { max_age = on and 365 * 86400 or 0 })
  return park.redirect(safe_next(req.query.next) or "/")
end

---------------------------------------------------------------------------
-- Routes (relative to /admin)
---------------------------------------------------------------------------

plugin.routes = {
  { "GET", "/login", login_page },
  { "POST", "/login", login_post },
  { "POST", "/logout", logout },
  { "GET", "/care", care },
  route("GET", "/", nil, dashboard),
  route("GET", "/units", "admin", function() return units_page() end),
  route("POST", "/units", "admin", unit_put),
  route("GET", "/columns", nil, columns_page),
  route("POST", "/columns", "admin", column_save(false)),
  route("GET", "/columns/new", "admin", column_new),
  route("GET", "/columns/edit", "admin", column_edit),
  route("POST", "/columns/edit", "admin", column_save(true)),
  route("GET", "/bindings", bind_on, bindings_get),
  route("POST", "/bindings", bind_on, bind),
  route("POST", "/bindings/remove", bind_on, unbind),
  route("GET", "/users", "admin", function() return users_page() end),
  route("POST", "/users", "admin", user_add),
  route("GET", "/users/:login", "admin", function(req) return user_page(req.params.login) end),
  route("POST", "/users/:login", "admin", user_change),
  route("GET", "/audit", "admin", audit_page),
  route("GET", "/settings", "admin", function(req)
    return settings_page(nil, nil, nil, nil, req.query.saved == "1")
  end),
  route("POST", "/settings", "admin", settings_save),
  route("GET", "/calendar", "admin", function(req) return calendar_page(calendar_year(req)) end),
  route("POST", "/calendar", "admin", calendar_set),
  route("POST", "/calendar/import", "admin", calendar_import),
}

return plugin
