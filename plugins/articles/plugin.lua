-- articles: the responsibility columns' articles (通知公告, 政策文件, 政务动态
-- ...). Editors of the column's unit write; each step of the column's review
-- chain signs off; residents read the published text, search it and follow
-- it in feeds. Staff pages are under <column>/manage (articles_manage).
local park = require("park")
local store = require("articles_store")
local feeds = require("articles_feeds")
local manage = require("articles_manage")
local view = require("articles_view")
local cache = require("articles_cache")
local policy = require("articles_policy")

local plugin = {
  name = "articles",
  version = "1.0.0",
  description = "文章栏目：先审后上、分级负责的信息发布，检索与订阅",
  config = {
    chain = { type = "array", items = "string", enum = { "review", "secrecy", "leader", "center" },
              default = { "review", "secrecy", "leader" },
              description = "审核流程，依次经过的环节：review 单位审核，secrecy 保密审查，"
                .. "leader 领导签发，center 中心审核" },
    review_days = { type = "integer", default = 2, min = 1, max = 30,
                    description = "每个审核环节的办理时限（工作日），超过即标记逾期" },
    page_size = { type = "integer", default = 20, min = 5, max = 100,
                  description = "栏目页每页的文章数" },
    forbidden_words = { type = "array", items = "string", default = {},
                        description = "禁用词：出现在标题、摘要或正文中即不能提交" },
    sensitive_words = { type = "array", items = "string", default = {},
                        description = "敏感词：提示审核人，或按下一项阻止提交" },
    sensitive_action = { type = "string", enum = { "warn", "block" }, default = "warn",
                         description = "出现敏感词时：warn 提示审核人，block 不能提交" },
    corrections = { type = "array", items = "string",
                    default = { "其它=其他", "帐号=账号", "登陆=登录", "截止至=截至",
                                "按装=安装", "既使=即使" },
                    description = "常见错误写法=正确写法，出现时提示审核人" },
    file_types = { type = "array", items = "string",
                   default = { "pdf", "doc", "docx", "wps", "xls", "xlsx", "et", "ppt", "pptx",
                               "ofd", "txt", "zip", "rar", "jpg", "jpeg", "png", "gif" },
                   description = "允许上传的附件类型（扩展名）" },
    file_max_mb = { type = "integer", default = 20, min = 1, max = 500,
                    description = "单个附件的最大大小（MB）；另受服务器对请求大小的上限约束" },
    scope = { type = "string", enum = { "column", "site" }, default = "column",
              description = "column：本栏目的文章；site：全站文章的检索、订阅与站点地图" },
    site_name = { type = "string", default = "高新技术产业开发区", max_length = 60,
                  description = "网站名称，用于页面标题与元数据" },
    page_cache = { type = "boolean", default = true,
                   description = "缓存面向公众的页面（发布、撤回、废止或栏目变化时自动失效）" },
    site_url = { type = "string", default = "", max_length = 200,
                 description = "网站地址（如 https://www.example.gov.cn），用于订阅源与站点地图；"
                   .. "留空则按请求的地址" },
  },
}

local function site_wide(req)
  return req.config.scope == "site"
end

-- The site's address for absolute links in feeds and the sitemap.
local function base_url(req)
  local url = req.config.site_url
  if url ~= "" then return (url:gsub("/+$", "")) end
  local proto = req:header("x-forwarded-proto") == "https" and "https" or "http"
  return proto .. "://" .. (req:header("host") or "localhost")
end

local function page_cursor(s)
  local at, id = (s or ""):match("^(%-?%d+)%.(%d+)$")
  return math.tointeger(tonumber(at)), math.tointeger(tonumber(id))
end

-- The column's list, newest first, by keyset pages.
local function list(req)
  if site_wide(req) then return view.search(req, store) end
  local n = req.config.page_size
  local at, id = page_cursor(req.query.before)
  local rows = store.page(req.column, at, id, n)
  local more = #rows > n
  if more then rows[#rows] = nil end
  local last = rows[#rows]
  return view.page(req, "list.html", {
    rows = rows, first_page = at == nil,
    next_url = more and ("%s?before=%d.%d"):format(req.column, last.pub_at, last.id) or nil,
  })
end

local function article(req)
  if site_wide(req) then return park.html("", 404) end
  local id = math.tointeger(tonumber(req.params.id))
  local item = id and store.item(id)
  if not item or item.column_path ~= req.column or item.status == "draft" then
    return view.page(req, "notice.html", { title = "未找到", message = "没有这篇文章。" }, 404)
  end
  if item.status == "withdrawn" then
    return view.page(req, "notice.html", { title = "已撤回", message = "该信息已撤回。" }, 410)
  end
  local rev = store.revision(item.live_rev)
  local col = park.site.column()
  local column = view.column_title(req.column)
  -- The standard metadata of a government site's article page.
  local meta = { { "ColumnName", column }, { "ArticleTitle", rev.title },
                 { "PubDate", view.datetime(item.pub_at) }, { "ContentSource", rev.source },
                 { "Author", rev.author_unit }, { "Description", rev.summary },
                 { "Url", base_url(req) .. req.column .. "/" .. item.id } }
  -- The tools work without JavaScript: 字号 and 打印 are links to pages of
  -- their own (?fs=, ?print=1), each cached as such.
  local fs, print_view = view.font_size(req), req.query.print == "1"
  local before, after = store.neighbours(req.column, item.pub_at, item.id)
  local url = (req.column == "/" and "" or req.column) .. "/" .. item.id
  local index_no, now = store.index_no(item.id), park.now()
  return view.page(req, print_view and "print.html" or "article.html", {
    item = item, rev = rev, related = store.titles(rev.related), title = rev.title, meta = meta,
    expired = item.expires_at and item.expires_at <= now,
    is_policy = policy.column(col) or index_no ~= nil, index_no = index_no,
    validity = policy.validity(item, rev, now),
    fs = fs, font_sizes = view.FONT_SIZES, url = url,
    size_query = fs ~= "m" and ("?fs=" .. fs) or "",
    prev_item = before, next_item = after, print_view = print_view,
  })
end

local function catalog(req)
  return view.catalog(req, store)
end

-- An attachment of a live article.
local function attachment(req)
  local item = store.item(math.tointeger(tonumber(req.params.id)) or 0)
  if not item or item.status ~= "live" or item.column_path ~= req.column then
    return park.html("", 404)
  end
  for _, f in ipairs(store.revision(item.live_rev).files) do
    if f.id == req.params.file then
      return park.files.send(f.id, { name = f.name, type = f.type })
    end
  end
  return park.html("", 404)
end

local function search(req)
  return view.search(req, store)
end

-- Feeds of the column, or of the whole site for a site-wide binding.
local function feed(kind)
  return function(req)
    local column = not site_wide(req) and req.column or nil
    local base = base_url(req)
    local rows = store.recent(column, park.now(), 50)
    local items = {}
    for i, r in ipairs(rows) do
      local url = base .. r.column_path .. "/" .. r.id
      items[i] = { id = url, url = url, title = r.title, summary = r.summary,
                   content_html = r.body, published = r.pub_at, updated = r.updated_at,
                   author = r.author_unit ~= "" and r.author_unit or nil,
                   category = view.column_title(r.column_path) }
    end
    local title = (column and view.column_title(column) .. " - " or "") .. req.config.site_name
    local channel = { title = title, link = base .. req.column,
                      self = base .. req.path, id = base .. req.path,
                      description = title, language = "zh-CN",
                      updated = rows[1] and rows[1].pub_at or park.now() }
    return 200, feeds[kind](channel, items), feeds.TYPES[kind]
  end
end

local function sitemap(req)
  local base = base_url(req)
  local urls = {}
  for _, r in ipairs(store.recent(not site_wide(req) and req.column or nil, park.now(), 50000)) do
    urls[#urls + 1] = { loc = base .. r.column_path .. "/" .. r.id, lastmod = r.updated_at }
  end
  return 200, feeds.sitemap(urls), feeds.TYPES.sitemap
end

-- The staff pages first: "/manage" must not be taken for an article's id.
plugin.routes = {}
for _, r in ipairs(manage.routes) do plugin.routes[#plugin.routes + 1] = r end
for _, r in ipairs({
  { "GET", "/", cache.wrap(list) },
  { "GET", "/search", cache.wrap(search) },
  { "GET", "/feed.xml", cache.wrap(feed("rss")) },
  { "GET", "/atom.xml", cache.wrap(feed("atom")) },
  { "GET", "/feed.json", cache.wrap(feed("json")) },
  { "GET", "/sitemap.xml", cache.wrap(sitemap) },
  { "GET", "/catalog", cache.wrap(catalog) },
  { "GET", "/:id", cache.wrap(article) },
  { "GET", "/:id/files/:file", attachment },
}) do plugin.routes[#plugin.routes + 1] = r end

-- Flag reviews that waited longer than their column allows, once each.
plugin.jobs = {
  -- A revision approved before the time asked for goes public at it.
  publish = function(payload)
    store.publish_scheduled(math.tointeger(payload.rev), park.now())
  end,
  -- A live article's expiry: the site's index hears that it is 已失效.
  expire = function(payload)
    store.expire(math.tointeger(payload.item), park.now())
  end,
  overdue = { cron = "0 * * * *", run = function()
    local flagged = manage.flag_overdue()
    for _, r in ipairs(flagged) do
      park.log.warn(("review overdue: %s/%d revision %d (%s) waits at %s since %s"):format(
        r.column_path, r.item_id, r.number, r.title, r.chain_step,
        os.date("%Y-%m-%d %H:%M", r.waiting_since)))
    end
  end },
}


return plugin
