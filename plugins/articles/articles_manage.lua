-- articles_manage: the staff pages under <column>/manage: write, submit,
-- review step by step, publish, revise while live, compare revisions,
-- withdraw, repeal; and the queue of what waits for me. Every check of who
-- may do what asks park.auth.can (the core's one table); every decision is
-- recorded with its step (articles_steps) and in the audit log.
local park = require("park")
local content = require("park.content")
local store = require("articles_store")
local flow = require("articles_flow")
local text = require("articles_text")
local sanitize = require("articles_sanitize")
local view = require("articles_view")
local policy = require("articles_policy")
local form = require("park.form")
local page = require("park.page")

local manage = {}

local TYPES = {
  pdf = "application/pdf", doc = "application/msword",
  docx = "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
  wps = "application/vnd.ms-works", xls = "application/vnd.ms-excel",
  xlsx = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
  et = "application/vnd.ms-excel", ppt = "application/vnd.ms-powerpoint",
  pptx = "application/vnd.openxmlformats-officedocument.presentationml.presentation",
  ofd = "application/ofd", txt = "text/plain; charset=utf-8", zip = "application/zip",
  rar = "application/vnd.rar", jpg = "image/jpeg", jpeg = "image/jpeg", png = "image/png",
  gif = "image/gif",
}

---------------------------------------------------------------------------
-- Pages and permissions
---------------------------------------------------------------------------

local function render(req, name, ctx, status)
  ctx.staff = true
  ctx.csrf = park.csrf()
  ctx.user = ctx.user or park.auth.user()
  ctx.base = req.column == "/" and "" or req.column
  ctx.staff_links = { { href = ctx.base .. "/manage", label = "文章管理" },
                      { href = ctx.base .. "/manage/queue", label = "待办" } }
  ctx.step_label = flow.step_label
  ctx.STATE_LABELS, ctx.DECISION_LABELS = flow.STATE_LABELS, flow.DECISION_LABELS
  ctx.decision_label = flow.decision_label
  return view.page(req, name, ctx, status)
end

local function notice(req, status, title, message)
  return render(req, "notice.html", { title = title, message = message }, status)
end

local function forbidden(req, why)
  return notice(req, 403, "没有权限", why or "您没有权限执行此操作。")
end

-- The logged-in user allowed `action` on the request's column, or nil and
-- a function giving the answer (`return answer()`); a site-wide binding has
-- no articles to manage.
local function staff(req, action)
  if req.config.scope == "site" then
    return nil, content.answer(forbidden(req, "这个栏目是全站文章的检索与订阅，不发布文章。"
      .. "请到各文章栏目的管理页面撰写和管理文章。"))
  end
  return content.staff(req, action, notice)
end

-- The item of the route's :id at this column, or nil.
local function item_of(req)
  local id = math.tointeger(tonumber(req.params.id or ""))
  local item = id and store.item(id)
  if item and item.column_path == req.column then return item end
end

---------------------------------------------------------------------------
-- The edit form
---------------------------------------------------------------------------

local trim = content.trim
local BODY_MAX = 512 * 1024

-- Related articles: ids of live ones, separated by spaces.
local function check_related(v)
  local bad = {}
  for id in v:gmatch("%d+") do
    local item = store.item(math.tointeger(tonumber(id)))
    if not item or item.status ~= "live" then bad[#bad + 1] = id end
  end
  if #bad > 0 then return ("编号 %s 的文章不存在或未发布"):format(table.concat(bad, "、")) end
end

-- The edit form, made per request: the column's file types and size, a
-- policy column's attributes (文号, 主题分类, 有效性) and the attachments
-- kept (`files`, ticked to remove) differ.
local function article_form(req, files)
  local now = park.now()
  local fields = {
    { name = "title", label = "标题", required = true, max_length = 200 },
    { name = "summary", label = "摘要", type = "textarea", rows = 2, max_length = 500 },
    { name = "body", label = "正文", type = "textarea", rows = 16, hint = "可粘贴从办公文档或网页"
        .. "复制的带格式文字：标题、列表、表格、链接和图片会保留，脚本与样式会去除。",
      check = function(v) if #v > BODY_MAX then return "最多 512 KB" end end },
    { name = "source", label = "来源", max_length = 100 },
    { name = "author_unit", label = "发布机构", max_length = 100,
      default = (park.site.column() or {}).unit_name },
    -- 成文日期: when the document was written; the publication time is the
    -- server's, stamped at the last approval.
    { name = "pub_date", label = "成文日期", type = "date", max = os.date("%Y-%m-%d", now),
      hint = "文件的成文日期，可不填。发布时间由系统在审核通过、上线时记录，不能填写。",
      messages = { max = "不能晚于今天（发布时间由系统在审核通过、上线时记录）" } },
    -- 定时发布: a later time to go public at, once approved (not before).
    { name = "publish_at", label = "定时发布", type = "datetime", hint = "可不填：审核通过后立即"
        .. "发布。填写以后的时间，则审核通过后到该时间才发布，不会提前。",
      check = function(v) if v <= now then return "须晚于现在（留空则审核通过后立即发布）" end end },
    { name = "expires_at", label = "有效期至", type = "date" },
  }
  if policy.column(park.site.column()) then
    fields[#fields + 1] = { name = "doc_no", label = "文号", max_length = policy.DOC_NO_MAX,
                            hint = "如：高新发〔2026〕3号" }
    fields[#fields + 1] = { name = "topic", label = "主题分类", type = "select",
                            choices = policy.TOPICS }
    fields[#fields + 1] = { name = "validity", label = "有效性", type = "select",
      choices = policy.VALIDITIES, default = "有效", hint = "索引号由系统在首次发布时生成。"
        .. "废止由单位领导在文章页办理；过了有效期自动显示为已失效。" }
  end
  fields[#fields + 1] = { name = "related", label = "相关文章", check = check_related,
    hint = "已发布文章的编号，以空格分隔，如政策文件与其解读互相关联。" }
  if files and #files > 0 then
    local choices = {}
    for i, f in ipairs(files) do
      choices[i] = { f.id, ("%s（%s）"):format(f.name, view.size(f.size)) }
    end
    fields[#fields + 1] = { name = "remove_file", label = "已有附件（勾选以删除）",
                            type = "checkboxes", choices = choices }
  end
  fields[#fields + 1] = { name = "attachments", label = "上传附件", type = "file", multiple = true,
    max_files = math.huge, types = req.config.file_types,
    max_bytes = req.config.file_max_mb * 1024 * 1024 }
  return form.new({ fields = fields })
end

-- The article's fields from the post: the table for the store, or the
-- form's values and errors; and what the sanitiser removed from the body.
local function read_form(req, F, keep_files)
  -- The body is HTML pasted from office documents: the sanitiser cleans
  -- what park.form would refuse (control characters).
  if req.form.body then req.form.body = req.form.body:gsub("[%z\1-\8\11\12\14-\31\127]", "") end
  local f, errors = F:check(req)
  local removed
  if f.body then f.body, removed = sanitize.html(f.body) end
  if errors then return f, errors, removed end
  -- The dates checked ("2026-12-01") as the times of their midnights.
  f.pub_date, f.expires_at = content.time(f.pub_date), content.time(f.expires_at)
  local related = {}
  for id in f.related:gmatch("%d+") do related[#related + 1] = math.tointeger(tonumber(id)) end
  f.related = related
  -- Attachments: the ones kept, less those ticked, plus the uploads.
  local drop, files = {}, {}
  for _, id in ipairs(f.remove_file or {}) do drop[id] = true end
  for _, file in ipairs(keep_files or {}) do
    if not drop[file.id] then files[#files + 1] = file end
  end
  for _, up in ipairs(f.attachments) do
    local id, err = park.files.keep(up)
    if not id then error("an attachment cannot be kept: " .. tostring(err), 0) end
    files[#files + 1] = { id = id, name = up.filename, size = up.size,
      type = TYPES[(up.filename:match("%.([%w]+)$") or ""):lower()] or "application/octet-stream" }
  end
  f.files = files
  return f, nil, removed
end

-- A revision as the form's values.
local function form_values(rev)
  local related = {}
  for i, id in ipairs(rev.related or {}) do related[i] = tostring(math.tointeger(id) or id) end
  return { title = rev.title, summary = rev.summary, body = rev.body, source = rev.source,
           author_unit = rev.author_unit, pub_date = rev.pub_date and view.date(rev.pub_date),
           publish_at = rev.publish_at, expires_at = rev.expires_at and view.date(rev.expires_at),
           related = table.concat(related, " "), doc_no = rev.doc_no, topic = rev.topic,
           validity = (rev.validity or "") ~= "" and rev.validity or "有效" }
end

local function edit_page(req, F, item, values, errors, removed, status)
  return render(req, "edit.html", { title = (errors and "错误：" or "")
      .. (item and "修改文章" or "撰写文章"), form = F:context(req, values, errors),
    item = item, removed = removed }, status)
end

---------------------------------------------------------------------------
-- Handlers
---------------------------------------------------------------------------

-- The column's items for its editors, newest first, 50 a page.
local ITEMS = page.new({ order = { "id DESC" }, size = 50 })

local function list(req)
  local user, answer = staff(req, "view")
  if not user then return answer() end
  local pager = store.manage_page(req, ITEMS)
  for _, r in ipairs(pager.rows) do
    r.chain = store.decode(r.chain, {})
    r.waiting_at = r.state == "review" and r.chain[r.step] or nil
  end
  return render(req, "manage.html", { title = "文章管理", user = user, rows = pager.rows,
    pager = pager, can_edit = park.auth.can("edit", req.column) })
end

local function new_form(req)
  local user, answer = staff(req, "edit")
  if not user then return answer() end
  return edit_page(req, article_form(req))
end

local function create(req)
  local user, answer = staff(req, "edit")
  if not user then return answer() end
  local F = article_form(req)
  local f, errors, removed = read_form(req, F)
  if errors then return edit_page(req, F, nil, f, errors, removed, 422) end
  local id = store.create(req.column, user.login, park.now(), f)
  park.audit("create", "articles:" .. id, nil, { column = req.column, title = f.title })
  return park.redirect(req.column .. "/manage/" .. id)
end

local function edit_form(req)
  local user, answer = staff(req, "edit")
  if not user then return answer() end
  local item = item_of(req)
  if not item then return notice(req, 404, "未找到", "没有这篇文章。") end
  local rev = store.latest(item.id)
  if rev.state == "review" then
    return notice(req, 409, "审核中", "这一版本正在审核，退回后才能修改。")
  end
  -- After a post refused for its CSRF token, what was typed (F:context).
  return edit_page(req, article_form(req, rev.files), item,
    not req.csrf_failed and form_values(rev) or nil)
end

local function save(req)
  local user, answer = staff(req, "edit")
  if not user then return answer() end
  local item = item_of(req)
  if not item then return notice(req, 404, "未找到", "没有这篇文章。") end
  local latest = store.latest(item.id)
  if latest.state == "review" then
    return notice(req, 409, "审核中", "这一版本正在审核，退回后才能修改。")
  end
  local F = article_form(req, latest.files)
  local f, errors, removed = read_form(req, F, latest.files)
  if errors then return edit_page(req, F, item, f, errors, removed, 422) end
  local rev_id = store.save(item.id, user.login, park.now(), f)
  park.audit("save", "articles:" .. item.id, { revision = latest.id }, { revision = rev_id })
  return park.redirect(req.column .. "/manage/" .. item.id)
end

-- The fields the word check reads, with their text.
local function check_fields(rev)
  return {
    { name = "title", label = "标题", text = rev.title },
    { name = "summary", label = "摘要", text = rev.summary },
    { name = "body", label = "正文", text = rev.body_text },
  }
end

local function rules(cfg)
  return { forbidden = cfg.forbidden_words, sensitive = cfg.sensitive_words,
           corrections = cfg.corrections }
end

-- The fields with their findings marked, for the reviewer's eyes.
local function marked(rev, findings)
  local out = {}
  for _, fld in ipairs(check_fields(rev)) do
    local mine = {}
    for _, x in ipairs(findings) do
      if x.field == fld.name then mine[#mine + 1] = x end
    end
    if #mine > 0 then
      out[#out + 1] = { label = fld.label, segments = text.mark(fld.text, mine) }
    end
  end
  return out
end

local function item_page(req, item, ctx, status)
  local rev = ctx.rev or store.latest(item.id)
  local user = park.auth.user()
  local steps = store.steps(rev.id)
  local step_name = flow.may_act(user, rev, req.column, steps)
  local live = item.live_rev and item.live_rev ~= rev.id and store.revision(item.live_rev) or nil
  ctx.item, ctx.rev, ctx.live, ctx.user = item, rev, live, user
  ctx.steps, ctx.history, ctx.revisions = steps, store.history(item.id), store.revisions(item.id)
  ctx.findings = ctx.findings or rev.findings
  -- Findings kept as JSON come back with floats (7.0): a position is a count.
  for _, x in ipairs(ctx.findings or {}) do
    for k, v in pairs(x) do
      if math.type(v) == "float" and math.tointeger(v) then x[k] = math.tointeger(v) end
    end
  end
  ctx.marked = marked(rev, ctx.findings)
  ctx.current = flow.current(rev)
  ctx.may_decide = step_name ~= nil
  ctx.can_edit = park.auth.can("edit", req.column) and rev.state ~= "review"
  ctx.can_submit = ctx.can_edit and (rev.state == "draft" or rev.state == "returned")
  ctx.can_sign = park.auth.can("sign", req.column) and item.status == "live"
  ctx.related = store.titles(rev.related)
  ctx.title = rev.title
  if rev.state == "review" then ctx.waited = flow.waited(rev.waiting_since, park.now()) end
  return render(req, "item.html", ctx, status)
end

local function show(req)
  local user, answer = staff(req, "view")
  if not user then return answer() end
  local item = item_of(req)
  if not item then return notice(req, 404, "未找到", "没有这篇文章。") end
  return item_page(req, item, {})
end

local function submit(req)
  local user, answer = staff(req, "edit")
  if not user then return answer() end
  local item = item_of(req)
  if not item then return notice(req, 404, "未找到", "没有这篇文章。") end
  local rev = store.latest(item.id)
  if rev.state ~= "draft" and rev.state ~= "returned" then
    return item_page(req, item, { error = "只有草稿或退回的版本可以提交审核。" }, 409)
  end
  local findings = text.check(check_fields(rev), rules(req.config))
  local blocking, warnings = {}, {}
  for _, x in ipairs(findings) do
    local block = x.kind == "forbidden"
      or (x.kind == "sensitive" and req.config.sensitive_action == "block")
    if block then blocking[#blocking + 1] = x else warnings[#warnings + 1] = x end
  end
  if #blocking > 0 then
    return item_page(req, item, { findings = blocking,
      error = "有不能发布的词语，请修改后再提交（下方已标出位置）。" }, 422)
  end
  store.submit(rev, req.config.chain, warnings, user, park.now())
  park.audit("submit", "articles:" .. item.id, nil, { revision = rev.number,
    chain = req.config.chain, warnings = #warnings })
  return park.redirect(req.column .. "/manage/" .. item.id)
end

local function decide(req)
  local user, answer = staff(req, "view")
  if not user then return answer() end
  local item = item_of(req)
  if not item then return notice(req, 404, "未找到", "没有这篇文章。") end
  local rev = store.latest(item.id)
  local step_name, why = flow.may_act(user, rev, req.column, store.steps(rev.id))
  if not step_name then return forbidden(req, why) end
  local decision, comment = req.form.decision, trim(req.form.comment)
  local now = park.now()
  if decision == "approve" then
    local published = store.approve(rev, step_name, user, now, comment)
    park.audit("approve", "articles:" .. item.id, nil, { revision = rev.number,
      step = step_name, published = published == "published",
      scheduled = published == "scheduled" and os.date("%Y-%m-%d %H:%M", rev.publish_at) or nil })
  elseif decision == "return" then
    if comment == "" then
      return item_page(req, item, { error = "退回时请写明理由。" }, 422)
    end
    store.send_back(rev, step_name, user, now, comment)
    park.audit("return", "articles:" .. item.id, nil, { revision = rev.number,
      step = step_name, reason = comment })
  else
    return item_page(req, item, { error = "请选择“通过”或“退回修改”。" }, 422)
  end
  return park.redirect(req.column .. "/manage/" .. item.id)
end

-- Withdraw (撤回) or repeal (废止) a live article; a reason is required.
local function take_down(kind)
  return function(req)
    local user, answer = staff(req, "sign")
    if not user then return answer() end
    local item = item_of(req)
    if not item then return notice(req, 404, "未找到", "没有这篇文章。") end
    if item.status ~= "live" then
      return item_page(req, item, { error = "只有已发布的文章可以撤回或废止。" }, 409)
    end
    local reason = trim(req.form.reason)
    if reason == "" then
      return item_page(req, item, { error = "请写明理由。" }, 422)
    end
    store[kind](item, user, park.now(), reason)
    park.audit(kind, "articles:" .. item.id, { status = item.status }, { reason = reason })
    return park.redirect(req.column .. "/manage/" .. item.id)
  end
end

local function compare(req)
  local user, answer = staff(req, "view")
  if not user then return answer() end
  local item = item_of(req)
  if not item then return notice(req, 404, "未找到", "没有这篇文章。") end
  local function rev_of(n)
    for _, r in ipairs(store.revisions(item.id)) do
      if r.number == math.tointeger(tonumber(n or "")) then return store.revision(r.id) end
    end
  end
  local a, b = rev_of(req.query.a), rev_of(req.query.b)
  if not a or not b then return notice(req, 404, "未找到", "请选择要比较的两个版本。") end
  return render(req, "compare.html", { title = "版本比较", item = item, a = a, b = b,
    title_changed = a.title ~= b.title, summary_changed = a.summary ~= b.summary,
    diff = text.diff(a.body_text, b.body_text) })
end

-- Any revision's attachment, for staff.
local function file(req)
  local user, answer = staff(req, "view")
  if not user then return answer() end
  local item = item_of(req)
  if not item then return park.html("", 404) end
  for _, r in ipairs(store.revisions(item.id)) do
    for _, f in ipairs(store.revision(r.id).files) do
      if f.id == req.params.file then
        return park.files.send(f.id, { name = f.name, type = f.type })
      end
    end
  end
  return park.html("", 404)
end

-- The review_days of a column's binding (the plugin reads its own).
local function review_days(column)
  local b = park.site.binding(column)
  local d = b and b.config and b.config.review_days
  return math.tointeger(d) or 2
end

-- What waits for me: the reviews I may act on now, my texts sent back,
-- and for the center every overdue review.
local function queue(req)
  local user, answer = staff(req)
  if not user then return answer() end
  local now = park.now()
  local mine, overdue = {}, {}
  local center = park.auth.can("admin")
  for _, r in ipairs(store.waiting()) do
    r.chain = store.decode(r.chain, {})
    r.step_name = r.chain[r.step]
    r.waited = flow.waited(r.waiting_since, now)
    r.limit = review_days(r.column_path)
    r.late = r.waited > r.limit
    r.column_title = view.column_title(r.column_path)
    local rev = { state = "review", chain = r.chain, step = r.step, created_by = r.created_by }
    if flow.may_act(user, rev, r.column_path, store.steps(r.id)) then
      mine[#mine + 1] = r
    elseif r.late and (center or park.auth.can("report", r.column_path)) then
      overdue[#overdue + 1] = r
    end
  end
  local returned = store.returned(user.login)
  for _, r in ipairs(returned) do r.column_title = view.column_title(r.column_path) end
  return render(req, "queue.html", { title = "待办", mine = mine, overdue = overdue,
    returned = returned })
end

-- For the overdue job: flag reviews that waited past their column's limit.
function manage.flag_overdue()
  local now = park.now()
  local flagged = store.flag_overdue(now, function(r)
    return flow.waited(r.waiting_since, now) > review_days(r.column_path)
  end)
  for _, r in ipairs(flagged) do
    r.chain_step = flow.step_label(store.decode(r.chain, {})[r.step])
  end
  return flagged
end

manage.routes = {
  { "GET", "/manage", list },
  { "GET", "/manage/queue", queue },
  { "GET", "/manage/new", new_form },
  { "POST", "/manage/new", create },
  { "GET", "/manage/:id", show },
  { "GET", "/manage/:id/edit", edit_form },
  { "POST", "/manage/:id/edit", save },
  { "POST", "/manage/:id/submit", submit },
  { "POST", "/manage/:id/decide", decide },
  { "POST", "/manage/:id/withdraw", take_down("withdraw") },
  { "POST", "/manage/:id/repeal", take_down("repeal") },
  { "GET", "/manage/:id/compare", compare },
  { "GET", "/manage/:id/files/:file", file },
}

return manage
