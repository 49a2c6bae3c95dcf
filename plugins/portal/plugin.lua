-- portal: the park site's front page, its static pages and the published
-- responsibility table (责任栏目划分明细), all built from the center's
-- column tree. Bound to "/", it serves the home page and /zrlm; bound to
-- any other column, that column's page with the text of its config, a
-- section's page, the site-wide search, or the site-wide feeds and sitemap.
-- Residents' pages are kept per worker until what they show changes
-- (portal_cache).
local park = require("park")
local cache = require("portal_cache")
local feeds = require("portal_feeds")
local sitemap = require("portal_sitemap")
local layout = require("park.layout")

local plugin = {
  name = "portal",
  version = "1.0.0",
  description = "门户页面：首页、栏目导航页、全站检索、订阅源与站点地图、静态页面与责任栏目划分明细",
  config = {
    site_name = { type = "string", default = "高新技术产业开发区", max_length = 60,
                  label = "网站名称", description = "中心的网站设置没有网站名称时，页头和标题用它" },
    body = { type = "string", default = "", max_length = 20000, label = "页面正文",
             description = "空一行另起一段" },
    page = { type = "string", enum = { "page", "search", "section", "feeds" }, default = "page",
             label = "栏目页显示的内容",
             labels = { page = "栏目正文", search = "全站检索",
                        section = "栏目导航（下级栏目及其最新信息）", feeds = "全站订阅源与站点地图" },
             description = "绑定在首页（/）以外的栏目时显示什么" },
    search = { type = "string", default = "/search", max_length = 200,
               label = "首页检索框提交到的地址", description = "留空则首页不显示检索框" },
    headline = { type = "string", default = "", max_length = 200, label = "头条栏目",
                 description = "首页头条：这个栏目（或栏目导航下各栏目）最新的一条，连同摘要放在最前；"
                   .. "填栏目路径，如 /ygzw/zwdt；留空则没有头条" },
    blocks = { type = "string", default = "", max_length = 2000, label = "首页栏目区块",
               description = "首页各区块显示哪些栏目的最新信息：每行一个栏目路径，按此顺序；"
                 .. "留空则每个栏目导航一个区块" },
    cache_seconds = { type = "integer", default = 30, min = 0, max = 3600,
                      label = "页面缓存的最长秒数",
                      description = "有信息发布、撤回或栏目变动时页面立即重做；0 为不缓存" },
    site_url = { type = "string", default = "", max_length = 200,
                 label = "网站地址",
                 description = "订阅源与站点地图中完整链接的前缀，如 https://www.example.gov.cn；"
                   .. "留空则取自请求" },
  },
}

local KIND_NAMES = {
  section = "栏目分组", news = "新闻动态", notice = "通知公告", policy = "政策文件",
  interaction = "互动交流", service = "办事服务", static = "静态页面",
}

-- The body's paragraphs (escaped by the template, as all text is).
local function paragraphs(text)
  local out = {}
  for p in (text .. "\n\n"):gmatch("(.-)\n%s*\n") do
    p = p:gsub("^%s+", ""):gsub("%s+$", "")
    if p ~= "" then out[#out + 1] = p end
  end
  return out
end

local function render(req, name, ctx)
  layout.context(req, ctx)
  ctx.column = park.site.column()
  ctx.title = ctx.title or ctx.column.title
  -- Staff see their bar (and are never served a kept page: portal_cache).
  ctx.user = park.auth.user()
  if ctx.user then ctx.staff_links = ctx.staff_links or {} end
  return park.render(name, ctx)
end

local KIND_LABELS = { news = "新闻", notice = "通知", policy = "政策", letter = "回复",
                      guide = "办事", survey = "征集", interview = "访谈", page = "页面",
                      other = "信息" }

-- The front page: the newest items of the whole site (park.items), each
-- section's newest, and what residents can take part in now.
local function home_context(req)
  local ctx = { paragraphs = paragraphs(req.config.body), title = "首页",
                search = req.config.search ~= "" and req.config.search or nil,
                latest = park.items.latest({ limit = 10 }), sections = {},
                kind_label = KIND_LABELS,
                day = function(t) return os.date("%Y-%m-%d", t) end }
  -- The headline: the newest item of the chosen column or section.
  if req.config.headline ~= "" then
    ctx.headline = park.items.latest({ column = req.config.headline, limit = 1 })[1]
  end
  -- The blocks the center chose (column paths, one a line), else one per
  -- section (a top-level column with columns below it; a lone top-level
  -- page such as 全站检索 is in the menu, not a block).
  local chosen = {}
  for line in req.config.blocks:gmatch("[^\r\n]+") do
    local path = line:match("^%s*(.-)%s*$")
    if path ~= "" then chosen[#chosen + 1] = path end
  end
  if #chosen > 0 then
    for _, path in ipairs(chosen) do
      local c = park.site.column(path)
      if c and c.served then
        ctx.sections[#ctx.sections + 1] = {
          nav = { path = c.path, title = c.title, served = true, children = {} },
          items = park.items.latest({ column = c.path, limit = 5 }) }
      end
    end
  else
    for _, s in ipairs(park.site.nav()) do
      if s.path ~= "/" and (#s.children > 0 or s.kind == "section") then
        ctx.sections[#ctx.sections + 1] = { nav = s,
          items = park.items.latest({ column = s.path, limit = 5 }) }
      end
    end
  end
  local taking_part = {}
  for _, kind in ipairs({ "survey", "interview" }) do
    for _, it in ipairs(park.items.latest({ kind = kind, limit = 3 })) do
      taking_part[#taking_part + 1] = it
    end
  end
  ctx.taking_part = taking_part
  return ctx
end

-- ASCII letters lowered, every other byte kept (string.lower follows the
-- C library's locale, which may touch bytes of UTF-8 characters).
local function ascii_lower(s)
  return (s:gsub("[A-Z]", function(c) return string.char(c:byte() + 32) end))
end

-- The words of a query: split at spaces and punctuation, ASCII and
-- Chinese (a byte class cannot hold a multi-byte character, so Chinese
-- punctuation is replaced first, each as a whole).
local PUNCT = { "，", "。", "、", "；", "：", "？", "！", "“", "”", "‘", "’", "（", "）", "《",
                "》", "　" }
local function query_words(q)
  for _, p in ipairs(PUNCT) do q = q:gsub(p, " ") end
  local words = {}
  for w in q:gmatch("[^%s%p]+") do words[#words + 1] = ascii_lower(w) end
  return words
end

-- The title or summary `s` cut into segments, those matching a word of
-- the query marked (ASCII letters compared without case).
local function highlight(s, words)
  local lower, marks = ascii_lower(s), {}
  for _, w in ipairs(words) do
    local at = 1
    while true do
      local b, e = lower:find(w, at, true)
      if not b then break end
      for i = b, e do marks[i] = true end
      at = e + 1
    end
  end
  local segs, i = {}, 1
  while i <= #s do
    local hit, j = marks[i] or false, i
    while j < #s and (marks[j + 1] or false) == hit do j = j + 1 end
    segs[#segs + 1] = { text = s:sub(i, j), hit = hit }
    i = j + 1
  end
  return segs
end

-- Queries counted in this worker's memory and written to portal_queries
-- at most once a minute (by the search that finds the last write a minute
-- old): a search stays a read. A worker's last minute is lost if it stops.
local counted, ncounted, flushed_at = {}, 0, 0

local function count_query(q, now)
  if not counted[q] and ncounted >= 1000 then return end
  if not counted[q] then ncounted = ncounted + 1 end
  counted[q] = (counted[q] or 0) + 1
  if now - flushed_at < 60 then return end
  local batch = counted
  counted, ncounted, flushed_at = {}, 0, now
  park.db.transaction(function()
    for text, n in pairs(batch) do
      park.db.exec("INSERT INTO portal_queries (q, count, last_at) VALUES (?, ?, ?)"
        .. " ON CONFLICT (q) DO UPDATE SET count = count + excluded.count,"
        .. " last_at = excluded.last_at", text, n, now)
    end
  end)
end

local function day_of(s)
  local y, m, d = (s or ""):match("^(%d%d%d%d)%-(%d%d)%-(%d%d)$")
  return y and os.time({ year = tonumber(y), month = tonumber(m), day = tonumber(d), hour = 0 })
end

-- The site-wide search over every plugin's published items (park.items):
-- results grouped by kind, the query's words marked, filters by kind,
-- column and date, and the most frequent queries as suggestions.
local function search(req)
  local q = (req.query.q or ""):gsub("^%s+", ""):gsub("%s+$", ""):sub(1, 200)
  local kind = req.query.kind
  if kind and not KIND_LABELS[kind] then kind = nil end
  local ctx = { title = "全站检索", q = q, kind = kind, kind_label = KIND_LABELS,
                from = req.query.from or "", to = req.query.to or "",
                day = function(t) return os.date("%Y-%m-%d", t) end, results = {},
                groups = {}, base = req.column, url_encode = park.url_encode }
  if q ~= "" then
    local words = query_words(q)
    local to = day_of(ctx.to)
    local opts = { column = req.query.column, since = day_of(ctx.from) or 0,
                   ["until"] = to and to + 86400 or 0, limit = 100 }
    local found, why = park.items.search(q, opts)
    ctx.why = why
    local counts = {}
    for _, it in ipairs(found or {}) do
      counts[it.kind] = (counts[it.kind] or 0) + 1
      if (not kind or it.kind == kind) and #ctx.results < 30 then
        it.title_segs = highlight(it.title, words)
        it.summary_segs = highlight(it.summary, words)
        ctx.results[#ctx.results + 1] = it
      end
    end
    for _, k in ipairs({ "news", "notice", "policy", "letter", "guide", "survey", "interview",
                         "page", "other" }) do
      if counts[k] then ctx.groups[#ctx.groups + 1] = { kind = k, count = counts[k] } end
    end
    ctx.total = #(found or {})
    -- Counted only when it found something: the suggestions shown to every
    -- resident are words of the site's own content, never arbitrary input.
    if found and #found > 0 then count_query(ascii_lower(q), park.now()) end
  end
  if q == "" or #ctx.results == 0 then
    ctx.popular = park.db.query("SELECT q FROM portal_queries"
      .. " ORDER BY count DESC, last_at DESC LIMIT 8")
    ctx.latest = park.items.latest({ limit = 5 })
  end
  return render(req, "search.html", ctx)
end

-- A section's page: its text, then each of its columns with its newest
-- items (park.items), so that /gxcy is a page, not a 404.
local function section(req)
  local here
  local function find(list)
    for _, n in ipairs(list) do
      if n.path == req.column then here = n end
      if not here then find(n.children) end
    end
  end
  find(park.site.nav())
  local blocks = {}
  for _, c in ipairs(here and here.children or {}) do
    blocks[#blocks + 1] = { column = c, items = park.items.latest({ column = c.path, limit = 5 }) }
  end
  return render(req, "section.html", { paragraphs = paragraphs(req.config.body), blocks = blocks,
    day = function(t) return os.date("%Y-%m-%d", t) end })
end

-- The site's address for the absolute links of the feeds and sitemap.
local function base_url(req)
  local url = req.config.site_url
  if url ~= "" then return (url:gsub("/+$", "")) end
  local proto = req:header("x-forwarded-proto") == "https" and "https" or "http"
  return proto .. "://" .. (req:header("host") or "localhost")
end

local function feed_links(req)
  return { { type = "application/rss+xml", title = "RSS", href = req.column .. "/feed.xml" },
           { type = "application/atom+xml", title = "Atom", href = req.column .. "/atom.xml" },
           { type = "application/feed+json", title = "JSON Feed",
             href = req.column .. "/feed.json" } }
end

-- The feeds column's own page: what can be followed, and where.
local function feeds_page(req)
  return render(req, "feeds.html", { paragraphs = paragraphs(req.config.body),
    base = req.column, feeds = feed_links(req) })
end

local function make_index(req)
  if req.column == "/" then return render(req, "home.html", home_context(req)) end
  if req.config.page == "search" then return search(req) end
  if req.config.page == "section" then return section(req) end
  if req.config.page == "feeds" then return feeds_page(req) end
  return render(req, "page.html", { paragraphs = paragraphs(req.config.body) })
end

-- Kept per worker (portal_cache) but a search with a query: the empty
-- search page is one page, searches are a long tail.
local function index(req)
  if req.column ~= "/" and req.config.page == "search" and (req.query.q or "") ~= "" then
    return search(req)
  end
  return cache.serve(req, make_index)
end

-- The site-wide feeds: the newest items of every plugin, with absolute
-- links (the site_url, else the request's host).
local function feed(kind)
  return function(req)
    if req.config.page ~= "feeds" then return park.html("", 404) end
    local base = base_url(req)
    return cache.serve(req, function()
      local items = {}
      for i, it in ipairs(park.items.latest({ limit = 50 })) do
        items[i] = { url = base .. it.url, title = it.title, summary = it.summary,
                     published = it.published_at, updated = it.updated_at,
                     author = it.unit_name, category = it.column_title }
      end
      local site = park.site.settings and park.site.settings() or {}
      local title = site.name or req.config.site_name
      local channel = { title = title, link = base .. "/", self = base .. req.path,
                        description = title .. "最新信息",
                        updated = items[1] and items[1].published or park.now() }
      return 200, feeds[kind](channel, items), feeds.TYPES[kind]
    end, base)
  end
end

-- The sitemap index: the site's columns, then a sitemap per month of
-- publication (portal_sitemap).
local function sitemap_index(req)
  if req.config.page ~= "feeds" then return park.html("", 404) end
  local base = base_url(req)
  return cache.serve(req, function()
    local locs = { base .. req.column .. "/sitemap/columns.xml" }
    for _, name in ipairs(sitemap.files()) do
      locs[#locs + 1] = base .. req.column .. "/sitemap/" .. name .. ".xml"
    end
    return 200, feeds.sitemap_index(locs), feeds.TYPES.sitemap
  end, base)
end

-- One sitemap: the front page and the served columns (columns.xml), or the
-- items published in a month or a day (2026-11.xml, 2026-11-05.xml).
local function sitemap_file(req)
  if req.config.page ~= "feeds" then return park.html("", 404) end
  local name = req.params.file:match("^(.+)%.xml$") or ""
  local since, until_ = sitemap.window(name)
  if name ~= "columns" and not since then return park.html("", 404) end
  local base = base_url(req)
  return cache.serve(req, function()
    local lines = {}
    if name == "columns" then
      lines[1] = feeds.url_line(base .. "/")
      for _, c in ipairs(park.site.columns()) do
        if c.served and c.path ~= "/" then lines[#lines + 1] = feeds.url_line(base .. c.path) end
      end
    else
      local _, more = sitemap.walk(since, until_, function(it)
        lines[#lines + 1] = feeds.url_line(base .. it.url, it.updated_at)
      end)
      if more then
        park.log.warn("sitemap " .. name .. " lists its newest " .. sitemap.MAX .. " items only")
      end
    end
    return 200, feeds.urlset(lines), feeds.TYPES.sitemap
  end, base)
end

-- The published table of which unit answers for which column.
local function responsibility(req)
  if req.column ~= "/" then return park.html("", 404) end
  local rows = {}
  for _, c in ipairs(park.site.columns()) do
    if c.kind ~= "section" then
      c.kind_name = KIND_NAMES[c.kind] or c.kind
      rows[#rows + 1] = c
    end
  end
  return render(req, "zrlm.html", { rows = rows, title = "责任栏目划分明细" })
end

-- 网站地图: every served column, in the tree's order and nesting.
local function site_map(req)
  if req.column ~= "/" then return park.html("", 404) end
  return render(req, "wzdt.html", { title = "网站地图", tree = park.site.nav() })
end

plugin.routes = {
  { "GET", "/", index },
  { "GET", "/zrlm", function(req) return cache.serve(req, responsibility) end },
  { "GET", "/wzdt", function(req) return cache.serve(req, site_map) end },
  { "GET", "/feed.xml", feed("rss") },
  { "GET", "/atom.xml", feed("atom") },
  { "GET", "/feed.json", feed("json") },
  { "GET", "/sitemap.xml", sitemap_index },
  { "GET", "/sitemap/:file", sitemap_file },
}

return plugin
