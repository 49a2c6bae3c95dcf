-- guides_manage: the staff pages under <column>/manage: the items of the
-- column by unit, write and edit an item with its forms, submit it (all
-- eight key elements there), review it step by step through the column's
-- chain, withdraw it, compare two versions; import and export (JSON, CSV);
-- the monitor's audit of missing elements and unreadable forms. Who may act
-- on an item is asked for its unit (park.auth.can_unit); every change is in
-- the audit log.
local park = require("park")
local content = require("park.content")
local review = require("park.review")
local fields = require("guides_fields")
local store = require("guides_store")
local view = require("guides_view")
local roles = require("guides_roles")
local forms = require("guides_forms")
local gio = require("guides_io")
local audit = require("guides_audit")

local manage = {}
local trim = content.trim

---------------------------------------------------------------------------
-- Pages and permissions
---------------------------------------------------------------------------

local function render(req, name, ctx, status)
  ctx.staff = true
  ctx.csrf = park.csrf()
  ctx.user = ctx.user or park.auth.user()
  local base = view.base(req)
  -- The same links as the service half's staff pages (guides_rate.staff_page).
  ctx.staff_links = { { href = base .. "/manage", label = "办事指南管理" },
                      { href = base .. "/manage/ratings", label = "评价与整改" },
                      { href = base .. "/manage/cases", label = "办件数据" },
                      { href = base .. "/stats", label = "评价统计" } }
  return view.page(req, name, ctx, status)
end

local function notice(req, status, title, message)
  return render(req, "notice.html", { title = title, message = message }, status)
end

local function staff(req, action)
  return content.staff(req, action, notice)
end

local function item_of(req)
  local id = math.tointeger(tonumber(req.params.id or ""))
  local item = id and store.item(id)
  if item and item.col == req.column then return item end
end

local function missing(req)
  return notice(req, 404, "未找到", "没有这个事项。")
end

-- The staff member and the item of the request's :id, who may edit for the
-- item's unit when `edit`; else nil, nil and a function giving the answer
-- (as content.staff's).
local function staff_item(req, edit)
  local user, answer = staff(req)
  if not user then return nil, nil, answer end
  local item = item_of(req)
  if not item then return nil, nil, content.answer(missing(req)) end
  if edit and not park.auth.can_unit("edit", item.unit) then
    return nil, nil, content.answer(notice(req, 403, "没有权限", "您没有"
      .. roles.unit_name(item.unit) .. "的编辑权限。"))
  end
  return user, item
end

-- Whether `user` may act on `version`'s current step for the item's unit:
-- park.review's rules (nobody reviews their own text, nobody approves two
-- steps of a round) with the permission asked for the item's unit.
local WHO = { review = "审核员", sign = "单位领导", center_review = "园区服务中心的审核人员" }
local function may_act(user, version, item)
  local name, step = review.current(version)
  if not step then return nil, "现在没有等待审核的环节。" end
  if not park.auth.can_unit(step.action, item.unit) then
    return nil, ("当前是“%s”环节，须由%s的%s办理，您的账号没有这一权限。"):format(step.label,
      roles.unit_name(item.unit), WHO[step.action] or "相关人员")
  end
  if user.login == version.created_by then
    return nil, ("不能审核自己撰写的内容，“%s”环节请由其他%s办理。"):format(step.label,
      WHO[step.action] or "人员")
  end
  local approved
  for _, s in ipairs(store.steps(version.id)) do
    if s.decision == "submit" then approved = nil end
    if s.decision == "approve" and s.login == user.login then approved = s.step end
  end
  if approved then
    return nil, ("本轮的“%s”环节已由您通过，“%s”环节请由其他%s办理。"):format(
      review.step_label(approved), step.label, WHO[step.action] or "人员")
  end
  return name, step
end
manage.may_act = may_act

---------------------------------------------------------------------------
-- The edit form
---------------------------------------------------------------------------

local MAX_ROWS = 30

local function lines(s)
  local out = {}
  for l in ((s or "") .. "\n"):gmatch("(.-)\r?\n") do
    l = trim(l)
    if l ~= "" then out[#out + 1] = l end
  end
  return out
end

-- The guide from the posted form, and the uploads to keep (not kept yet).
local function read_form(req, item, errs)
  local form = req.form
  local d = { name = form.name, kind = form.kind, unit = form.unit, conditions = form.conditions,
              address = form.address, hall = form.hall, window = form.window, hours = form.hours,
              phone_ask = form.phone_ask, phone_complain = form.phone_complain, fee = form.fee,
              online_url = form.online_url, legal_days = form.legal_days,
              promise_days = form.promise_days, runs = form.runs, depth = form.depth,
              objs = req:form_all("objs"), themes = req:form_all("themes") }
  d.basis = {}
  for _, l in ipairs(lines(form.basis)) do
    local title, url = l:match("^(.-)%s+(https?://%S+)$")
    d.basis[#d.basis + 1] = title and { title = title, url = url } or { title = l }
  end
  d.steps = {}
  for _, l in ipairs(lines(form.steps)) do
    d.steps[#d.steps + 1] = l:gsub("^%d+[%.、．）)]%s*", "")
  end
  d.faq = {}
  for i = 1, MAX_ROWS do
    if form["faq_q_" .. i] == nil then break end
    d.faq[#d.faq + 1] = { q = form["faq_q_" .. i], a = form["faq_a_" .. i] }
  end
  -- Materials, each with its forms: kept ones (the item's own) unless
  -- removed, or a new upload, checked now and kept once the form is valid.
  local uploads = {}
  d.materials = {}
  local max_mb = req.config.file_max_mb
  for i = 1, MAX_ROWS do
    if form["m_name_" .. i] == nil then break end
    local m = { name = form["m_name_" .. i], copies = form["m_copies_" .. i],
                form = form["m_form_" .. i], required = form["m_required_" .. i] ~= "0",
                note = form["m_note_" .. i] }
    local mine = {}
    for _, kind in ipairs({ "blank", "sample" }) do
      local keep = math.tointeger(tonumber(form["m_" .. kind .. "_keep_" .. i] or ""))
      local f = keep and store.file(keep)
      if f and item and f.item_id == item.id and form["m_" .. kind .. "_drop_" .. i] ~= "1" then
        m[kind] = keep
      end
      local up, why = forms.check_upload(req, "m_" .. kind .. "_" .. i, max_mb)
      if up == false then
        errs[#errs + 1] = { field = "materials", message = ("办理材料第 %d 项的%s：%s"):format(
          #d.materials + 1, kind == "blank" and "空表" or "样表", why) }
      elseif up then
        mine[#mine + 1] = { up = up, kind = kind }
      end
    end
    if trim(m.name) ~= "" or trim(m.copies) ~= "" or m.blank or m.sample or #mine > 0 then
      m.pending = #mine > 0 or nil
      d.materials[#d.materials + 1] = m
      for _, u in ipairs(mine) do
        u.index = #d.materials
        uploads[#uploads + 1] = u
      end
    end
  end
  local g = fields.normal(d)
  return g, uploads
end

-- Keep the checked uploads and link them into g's materials.
local function keep_uploads(g, uploads, item_id, login, now)
  for _, u in ipairs(uploads) do
    local id, err = park.files.keep(u.up.up)
    if not id then error("a form cannot be kept: " .. tostring(err), 0) end
    local fid = store.add_file(item_id, id, u.up.name, u.up.ext, u.up.up.size, login, now)
    local m = g.materials[u.index]
    if m then m[u.kind] = fid end
  end
end

local function form_values(g)
  local basis = {}
  for i, b in ipairs(g.basis) do basis[i] = b.title .. (b.url ~= "" and (" " .. b.url) or "") end
  local steps = {}
  for i, s in ipairs(g.steps) do steps[i] = s end
  local v = setmetatable({ basis_text = table.concat(basis, "\n"),
                           steps_text = table.concat(steps, "\n") }, { __index = g })
  v.obj_set, v.theme_set = {}, {}
  for _, o in ipairs(g.objs) do v.obj_set[o] = true end
  for _, t in ipairs(g.themes) do v.theme_set[t] = true end
  return v
end

local function edit_page(req, g, item, errs, status, intro)
  local by = {}
  for _, e in ipairs(errs or {}) do
    by[e.field] = by[e.field] or {}
    table.insert(by[e.field], e.message)
  end
  local mats = {}
  for i, m in ipairs(g.materials) do mats[i] = m end
  for _ = 1, 2 do mats[#mats + 1] = { name = "", form = "", required = true } end
  local faq = {}
  for i, f in ipairs(g.faq) do faq[i] = f end
  for _ = 1, 2 do faq[#faq + 1] = { q = "", a = "" } end
  local files = {}
  for _, m in ipairs(g.materials) do
    for _, fid in ipairs({ m.blank, m.sample }) do files[fid] = store.file(fid) end
  end
  return render(req, "edit.html", { title = item and ("修改事项：" .. item.name) or "新增事项",
    v = form_values(g), item = item, errs = errs or {}, by = by, mats = mats, faq = faq,
    files = files, units = roles.allowed("edit"), intro = intro }, status)
end

local function new_guide()
  local units = roles.allowed("edit")
  local col = park.site.column()
  local unit = col and col.unit
  if not park.auth.can_unit("edit", unit) then unit = units[1] and units[1].code or "" end
  return fields.normal({ unit = unit, fee = "不收费", materials = {} })
end

---------------------------------------------------------------------------
-- Handlers
---------------------------------------------------------------------------

local function list(req)
  local user, answer = staff(req)
  if not user then return answer() end
  local rows = store.manage_list(req.column)
  local groups, by_unit = {}, {}
  for _, r in ipairs(rows) do
    r.chain = store.decode(r.chain, {})
    r.waiting_at = r.state == "review" and r.chain[r.step] or nil
    r.can_edit = park.auth.can_unit("edit", r.unit)
    if not by_unit[r.unit] then
      by_unit[r.unit] = { code = r.unit, name = roles.unit_name(r.unit), rows = {} }
      groups[#groups + 1] = by_unit[r.unit]
    end
    table.insert(by_unit[r.unit].rows, r)
  end
  return render(req, "manage.html", { title = "办事指南管理", groups = groups, total = #rows,
    can_edit = #roles.allowed("edit") > 0 })
end

local function new_form(req)
  local user, answer = staff(req)
  if not user then return answer() end
  if #roles.allowed("edit") == 0 then
    return notice(req, 403, "没有权限", "您没有任何单位的编辑权限，不能新增事项。")
  end
  return edit_page(req, new_guide())
end

-- Save the posted form as item's draft (nil: a new item); then submit it
-- when the editor asked to. Returns the answer.
local function save_form(req, user, item)
  local errs = {}
  local g, uploads = read_form(req, item, errs)
  local units = roles.codes()
  for _, e in ipairs(fields.check(g, false, units)) do errs[#errs + 1] = e end
  if g.unit ~= "" and units[g.unit] and not park.auth.can_unit("edit", g.unit) then
    errs[#errs + 1] = { field = "unit", message = "责任单位：您没有“" .. roles.unit_name(g.unit)
      .. "”的编辑权限" }
  end
  local submit = req.form.action == "submit"
  if submit and #errs == 0 then
    errs = fields.check(g, true, units)
  end
  if #errs > 0 then
    local intro = submit and "以下要素缺失或有误，不能提交审核：" or "未能保存，请修改以下问题："
    if #uploads > 0 then intro = intro .. "（本次选择的文件未保存，改正后请重新选择。）" end
    return edit_page(req, g, item, errs, 422, intro)
  end
  local now = park.now()
  local id = item and item.id
  if not id then
    id = store.create(req.column, g, user.login, now)
    park.audit("create", "guides:" .. id, nil, { column = req.column, unit = g.unit,
      name = g.name })
    item = store.item(id)
  end
  if #uploads > 0 then keep_uploads(g, uploads, id, user.login, now) end
  local vid = store.save(item, g, user.login, now)
  park.audit("save", "guides:" .. id, nil, { version = vid, name = g.name })
  if submit then
    store.submit(store.latest(id), req.config.chain, user.login, now)
    park.audit("submit", "guides:" .. id, nil, { chain = req.config.chain })
  end
  return park.redirect(view.base(req) .. "/manage/" .. id)
end

local function create(req)
  local user, answer = staff(req)
  if not user then return answer() end
  if #roles.allowed("edit") == 0 then
    return notice(req, 403, "没有权限", "您没有任何单位的编辑权限，不能新增事项。")
  end
  return save_form(req, user, nil)
end

local function in_review(req)
  return notice(req, 409, "审核中", "这一版本正在审核，审核完成或退回后才能修改。")
end

local function edit_form(req)
  local _, item, answer = staff_item(req, true)
  if not item then return answer() end
  local v = store.latest(item.id)
  if v.state == "review" then return in_review(req) end
  return edit_page(req, v.data, item)
end

local function save(req)
  local user, item, answer = staff_item(req, true)
  if not item then return answer() end
  if store.latest(item.id).state == "review" then return in_review(req) end
  return save_form(req, user, item)
end

local function item_page(req, item, ctx, status)
  local user = park.auth.user()
  local v = ctx.version or store.latest(item.id)
  ctx.item, ctx.version, ctx.g = item, v, v.data
  ctx.steps, ctx.history, ctx.versions = store.steps(v.id), store.history(item.id),
    store.versions(item.id)
  ctx.current = review.current(v)
  ctx.may_decide = may_act(user, v, item) ~= nil
  ctx.can_edit = park.auth.can_unit("edit", item.unit) and v.state ~= "review"
  ctx.can_submit = ctx.can_edit and (v.state == "draft" or v.state == "returned")
  ctx.can_withdraw = item.published == 1 and (park.auth.can_unit("sign", item.unit)
    or park.auth.can_unit("edit", item.unit))
  ctx.problems = fields.check(v.data, true, roles.codes())
  ctx.files = {}
  for _, m in ipairs(v.data.materials) do
    for _, fid in ipairs({ m.blank, m.sample }) do ctx.files[fid] = store.file(fid) end
  end
  ctx.title = "事项：" .. v.data.name
  return render(req, "staff_item.html", ctx, status)
end

local function show(req)
  local _, item, answer = staff_item(req)
  if not item then return answer() end
  return item_page(req, item, {})
end

local function submit(req)
  local user, item, answer = staff_item(req, true)
  if not item then return answer() end
  local v = store.latest(item.id)
  if v.state ~= "draft" and v.state ~= "returned" then
    return item_page(req, item, { error = "只有草稿或退回的版本可以提交审核。" }, 409)
  end
  local errs = fields.check(v.data, true, roles.codes())
  if #errs > 0 then
    return edit_page(req, v.data, item, errs, 422, "以下要素缺失或有误，不能提交审核：")
  end
  store.submit(v, req.config.chain, user.login, park.now())
  park.audit("submit", "guides:" .. item.id, nil, { version = v.number, chain = req.config.chain })
  return park.redirect(view.base(req) .. "/manage/" .. item.id)
end

local function decide(req)
  local user, item, answer = staff_item(req)
  if not item then return answer() end
  local v = store.latest(item.id)
  local step_name, why = may_act(user, v, item)
  if not step_name then return notice(req, 403, "没有权限", why) end
  local decision, comment = req.form.decision, trim(req.form.comment)
  local now = park.now()
  if decision == "approve" then
    local published = store.approve(v, step_name, user.login, now, comment)
    park.audit("approve", "guides:" .. item.id, nil, { version = v.number, step = step_name,
      published = published })
  elseif decision == "return" then
    if comment == "" then return item_page(req, item, { error = "退回时请写明理由。" }, 422) end
    store.send_back(v, step_name, user.login, now, comment)
    park.audit("return", "guides:" .. item.id, nil, { version = v.number, step = step_name,
      reason = comment })
  else
    return item_page(req, item, { error = "请选择“通过”或“退回修改”。" }, 422)
  end
  return park.redirect(view.base(req) .. "/manage/" .. item.id)
end

local function withdraw(req)
  local user, item, answer = staff_item(req)
  if not item then return answer() end
  if not (park.auth.can_unit("sign", item.unit) or park.auth.can_unit("edit", item.unit)) then
    return notice(req, 403, "没有权限", "只有责任单位的编辑或领导可以撤回事项。")
  end
  if item.published ~= 1 then
    return item_page(req, item, { error = "只有已公开的事项可以撤回。" }, 409)
  end
  local reason = trim(req.form.reason)
  if reason == "" then return item_page(req, item, { error = "撤回时请写明理由。" }, 422) end
  store.withdraw(item, user.login, park.now(), reason)
  park.audit("withdraw", "guides:" .. item.id, { published = true }, { reason = reason })
  return park.redirect(view.base(req) .. "/manage/" .. item.id)
end

local function compare(req)
  local _, item, answer = staff_item(req)
  if not item then return answer() end
  local a = store.version_number(item.id, math.tointeger(tonumber(req.query.a or "")))
  local b = store.version_number(item.id, math.tointeger(tonumber(req.query.b or "")))
  if not a or not b then return notice(req, 404, "未找到", "请选择要比较的两个版本。") end
  return render(req, "compare.html", { title = "版本比较：" .. item.name, item = item, a = a,
    b = b, diff = fields.diff(a.data, b.data) })
end

---------------------------------------------------------------------------
-- Import and export
---------------------------------------------------------------------------

local function import_form(req)
  local user, answer = staff(req)
  if not user then return answer() end
  return render(req, "import.html", { title = "导入事项", errs = {} })
end

-- The importer's own unit: the first unit they may edit that is not the
-- center's, else the column's.
local function own_unit(user, col)
  for _, r in ipairs(user.roles or {}) do
    if (r.role == "editor" or r.role == "webmaster") and r.unit ~= roles.center() then
      return r.unit
    end
  end
  return col and col.unit or roles.center()
end

local function import(req)
  local user, answer = staff(req)
  if not user then return answer() end
  local function fail(errs, status)
    return render(req, "import.html", { title = "导入事项", errs = errs }, status or 422)
  end
  local up = req.files and req.files.file and req.files.file[1]
  if not up or up.size == 0 then return fail({ "请选择要导入的 JSON 或 CSV 文件。" }) end
  local text, too_big = forms.read(up)
  if not text then return fail({ too_big }) end
  local ext = forms.extension(up.filename)
  if not utf8.len(text) then return fail({ "文件不是 UTF-8 编码的文本（从表格软件另存为“CSV UTF-8”）。" }) end
  local rows, why
  local json = ext == "json" or (ext ~= "csv" and text:match("^%s*[%[{]"))
  if json then rows, why = gio.from_json(text) else rows, why = gio.from_csv(text) end
  if not rows then return fail({ why }) end
  if #rows == 0 then return fail({ "文件中没有事项。" }) end
  if #rows > 5000 then return fail({ "一次最多导入 5000 个事项。" }) end
  local units = roles.codes()
  local default_unit = own_unit(user, park.site.column())
  local errs = {}
  for _, r in ipairs(rows) do
    local where = json and ("第 %d 项："):format(r.line) or ("第 %d 行："):format(r.line)
    if r.g.unit == "" then r.g.unit = default_unit end
    for _, e in ipairs(r.errors) do errs[#errs + 1] = where .. e end
    for _, e in ipairs(fields.check(r.g, true, units)) do errs[#errs + 1] = where .. e.message end
    if units[r.g.unit] and not park.auth.can_unit("edit", r.g.unit) then
      errs[#errs + 1] = where .. "责任单位：您没有“" .. roles.unit_name(r.g.unit) .. "”的编辑权限"
    end
    if #errs >= 50 then break end
  end
  if #errs > 0 then return fail(errs) end
  local now = park.now()
  local ids = content.check(store.transaction(function()
    local out = {}
    for _, r in ipairs(rows) do out[#out + 1] = store.create(req.column, r.g, user.login, now) end
    return out
  end))
  park.audit("import", "guides:" .. req.column, nil, { count = #ids, file = up.filename,
    first = ids[1], last = ids[#ids] })
  return render(req, "import.html", { title = "导入事项", errs = {}, imported = #ids })
end

-- The column's items for export: each item's newest version (drafts too).
local function export_items(req)
  local out = {}
  for _, r in ipairs(store.manage_list(req.column)) do
    local v = store.latest(r.id)
    local g = v.data
    for _, m in ipairs(g.materials) do
      local b, s = store.file(m.blank), store.file(m.sample)
      m.blank_name, m.sample_name = b and b.name, s and s.name
    end
    out[#out + 1] = { id = r.id, published = r.published, g = g }
  end
  return out
end

local function export_json(req)
  local user, answer = staff(req)
  if not user then return answer() end
  local body = gio.to_json(req.column, export_items(req), park.now())
  return 200, body, { ["Content-Type"] = "application/json; charset=utf-8",
    ["Content-Disposition"] = forms.disposition("办事指南.json") }
end

local function export_csv(req)
  local user, answer = staff(req)
  if not user then return answer() end
  local guides = {}
  for i, it in ipairs(export_items(req)) do guides[i] = it.g end
  return 200, "\239\187\191" .. gio.to_csv(guides), { ["Content-Type"] = "text/csv; charset=utf-8",
    ["Content-Disposition"] = forms.disposition("办事指南.csv") }
end

---------------------------------------------------------------------------
-- The monitor's audit
---------------------------------------------------------------------------

local function audit_page(req)
  local user, answer = staff(req)
  if not user then return answer() end
  local report = audit.run(req.column)
  if req.query.format == "json" then return park.json(report) end
  return render(req, "audit.html", { title = "事项检查", report = report })
end

manage.routes = {
  { "GET", "/manage", list },
  { "GET", "/manage/new", new_form },
  { "POST", "/manage/new", create },
  { "GET", "/manage/import", import_form },
  { "POST", "/manage/import", import },
  { "GET", "/manage/export.json", export_json },
  { "GET", "/manage/export.csv", export_csv },
  { "GET", "/manage/audit", audit_page },
  { "GET", "/manage/:id", show },
  { "GET", "/manage/:id/edit", edit_form },
  { "POST", "/manage/:id/edit", save },
  { "POST", "/manage/:id/submit", submit },
  { "POST", "/manage/:id/decide", decide },
  { "POST", "/manage/:id/withdraw", withdraw },
  { "GET", "/manage/:id/compare", compare },
}

return manage
