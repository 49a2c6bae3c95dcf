-- articles_view: what the residents' pages share: the layout's context
-- (site name, navigation from the column tree, feeds), dates, and search.
local park = require("park")
local layout = require("park.layout")
local text = require("articles_text")
local policy = require("articles_policy")

local view = {}

function view.column_title(path)
  local c = park.site.column(path)
  return c and c.title or path
end

-- Dates in the site's zone by arithmetic: a page of twenty articles formats
-- forty dates, and os.date costs a C call and a buffer each.
local offset -- seconds east of UTC: os.time reads date tables in the site's zone
function view.utc_offset()
  offset = offset or -os.time({ year = 1970, month = 1, day = 1, hour = 0 })
  return offset
end

local function civil(t)
  local s = t + view.utc_offset()
  local z = s // 86400 + 719468
  local era = z // 146097
  local doe = z - era * 146097
  local yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
  local doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
  local mp = (5 * doy + 2) // 153
  local m = mp < 10 and mp + 3 or mp - 9
  return yoe + era * 400 + (m <= 2 and 1 or 0), m, doy - (153 * mp + 2) // 5 + 1, s % 86400
end

function view.date(t)
  if not t then return "" end
  local y, m, d = civil(t)
  return ("%04d-%02d-%02d"):format(y, m, d)
end

function view.datetime(t)
  if not t then return "" end
  local y, m, d, s = civil(t)
  return ("%04d-%02d-%02d %02d:%02d"):format(y, m, d, s // 3600, s % 3600 // 60)
end

-- "1.2 MB", "340 KB"
function view.size(n)
  n = n or 0
  if n >= 1024 * 1024 then return ("%.1f MB"):format(n / 1024 / 1024) end
  if n >= 1024 then return ("%d KB"):format(math.ceil(n / 1024)) end
  return ("%d B"):format(n)
end

-- Render a residents' page into layout.html with what every page needs.
function view.page(req, name, ctx, status)
  local column = park.site.column()
  layout.context(req, ctx)
  ctx.column = column
  ctx.column_path = req.column
  ctx.title = ctx.title or (column and column.title) or ctx.site_name
  ctx.date, ctx.datetime, ctx.size = view.date, view.datetime, view.size
  ctx.now = park.now()
  ctx.meta = ctx.meta or {}
  ctx.styles = ctx.styles or { "/static/articles/articles.css" }
  ctx.policy = policy
  ctx.feed_base = req.column == "/" and "" or req.column
  if not ctx.staff then
    local base, t = ctx.feed_base, ctx.title
    ctx.feeds = {
      { type = "application/rss+xml", title = t .. "（RSS）", href = base .. "/feed.xml" },
      { type = "application/atom+xml", title = t .. "（Atom）", href = base .. "/atom.xml" },
      { type = "application/feed+json", title = t .. "（JSON Feed）", href = base .. "/feed.json" },
    }
  end
  return park.html(park.render(name, ctx), status)
end

local function date_arg(s)
  local y, m, d = (s or ""):match("^(%d%d%d%d)%-(%d%d)%-(%d%d)$")
  if not y then return nil end
  return os.time({ year = tonumber(y), month = tonumber(m), day = tonumber(d), hour = 0 })
end

-- Search live articles: of this column, or of the whole site (a site-wide
-- binding, or a column filter), with dates and keyset pages by id.
function view.search(req, store)
  local q = req.query.q or ""
  local site_wide = req.config.scope == "site"
  local column = req.column
  if site_wide then
    column = req.query.column
    if column == "" then column = nil end
  end
  local from, to = date_arg(req.query.from), date_arg(req.query.to)
  if to then to = to + 86400 end
  local before = math.tointeger(tonumber(req.query.before or ""))
  local match = text.match(q)
  local rows, next_url = {}, nil
  local n = req.config.page_size
  if match then
    rows = store.search(match, column, from, to, before, n)
    local more = #rows > n
    if more then rows[#rows] = nil end
    for _, r in ipairs(rows) do
      r.segments = text.snippet(r.summary .. " " .. r.body_text, q, 120)
      r.title_segments = text.snippet(r.title, q, 200)
      r.column_title = view.column_title(r.column_path)
    end
    if more then
      local args = {}
      for _, k in ipairs({ "q", "column", "from", "to" }) do
        local v = req.query[k]
        if v and v ~= "" then args[#args + 1] = k .. "=" .. park.url_encode(v) end
      end
      args[#args + 1] = "before=" .. rows[#rows].id
      next_url = (req.column == "/" and "" or req.column) .. "/search?" .. table.concat(args, "&")
    end
  end
  local columns = {}
  if site_wide then
    for _, c in ipairs(park.site.columns()) do
      if c.plugin == "articles" and c.served and c.path ~= req.column then
        columns[#columns + 1] = c
      end
    end
  end
  return view.page(req, "search.html", {
    title = "检索", q = q, rows = rows, searched = match ~= nil, next_url = next_url,
    site_wide = site_wide, columns = columns, query = req.query,
  })
end

-- The article's font size (字号): ?fs=l 大 or ?fs=s 小; anything else is
-- the default 中. A query parameter, not a cookie, so that each size is a
-- page of its own in the page cache (articles_cache keys by the target).
view.FONT_SIZES = { { key = "l", label = "大" }, { key = "m", label = "中" },
                    { key = "s", label = "小" } }
function view.font_size(req)
  local fs = req.query.fs
  if fs == "l" or fs == "s" then return fs end
  return "m"
end

-- The query string of a catalogue page: the filters of q with changes
-- (false: without it).
local function catalog_query(q, changes)
  local args = {}
  for _, k in ipairs({ "topic", "year", "unit", "before" }) do
    local v = changes[k]
    if v == nil then v = q[k] end
    if v and v ~= "" then args[#args + 1] = k .. "=" .. park.url_encode(tostring(v)) end
  end
  return #args > 0 and ("?" .. table.concat(args, "&")) or ""
end

local function cursor(s)
  local at, id = (s or ""):match("^(%-?%d+)%.(%d+)$")
  return math.tointeger(tonumber(at)), math.tointeger(tonumber(id))
end

-- 信息公开目录: a policy column's published documents with 索引号, 文号,
-- 标题, 成文日期 and 发布日期, by 主题分类, year and unit (GET links), in
-- keyset pages. A site-wide binding lists every numbered document.
function view.catalog(req, store)
  local site_wide = req.config.scope == "site"
  local col = park.site.column()
  if not site_wide and not policy.column(col) then
    return view.page(req, "notice.html", { title = "未找到",
      message = "本栏目不是政策文件栏目，没有信息公开目录。" }, 404)
  end
  local q = {
    topic = policy.is_topic(req.query.topic) and req.query.topic or nil,
    year = math.tointeger(tonumber((req.query.year or ""):match("^%d%d%d%d$") or "")),
    unit = (req.query.unit or "") ~= "" and req.query.unit or nil,
  }
  local column = not site_wide and req.column or nil
  local f = { topic = q.topic, unit = q.unit, column_unit = not site_wide and col.unit or nil }
  if q.year then
    f.from = os.time({ year = q.year, month = 1, day = 1, hour = 0 })
    f.to = os.time({ year = q.year + 1, month = 1, day = 1, hour = 0 })
  end
  local n = req.config.page_size
  local at, id = cursor(req.query.before)
  local rows = store.catalog(column, f, at, id, n)
  local more = #rows > n
  if more then rows[#rows] = nil end
  -- Each facet counts under the other filters.
  local function but(k)
    local g = {}
    for key, v in pairs(f) do g[key] = v end
    if k == "year" then g.from, g.to = nil, nil else g[k] = nil end
    return g
  end
  local topics = store.catalog_topics(column, but("topic"))
  local years = store.catalog_years(column, but("year"), view.utc_offset())
  local units = store.catalog_units(column, but("unit"))
  local total, count = 0, {}
  for _, t in ipairs(topics) do
    count[t.value] = t.n
    if not q.topic or t.value == q.topic then total = total + t.n end
  end
  -- Topics in the State Council's order, those with documents (and the one chosen).
  local topic_list = {}
  for _, t in ipairs(policy.TOPICS) do
    if count[t] or t == q.topic then
      topic_list[#topic_list + 1] = { value = t, n = count[t] or 0 }
    end
  end
  local unit_names = {}
  for _, u in ipairs(park.site.units()) do unit_names[u.code] = u.name end
  for _, u in ipairs(units) do u.name = unit_names[u.value] or u.value end
  local now = park.now()
  for _, r in ipairs(rows) do
    r.validity = policy.validity(r, {}, now)
    r.unit_name = unit_names[r.unit] or r.unit
  end
  local base = req.column == "/" and "" or req.column
  local last = rows[#rows]
  return view.page(req, "catalog.html", {
    title = "信息公开目录", rows = rows, q = q, total = total, topics = topic_list,
    years = years, units = units, site_wide = site_wide, first_page = at == nil,
    show_units = #units > 1 or q.unit ~= nil, base = base,
    -- A link to the catalogue with the current filters but those changed.
    link = function(changes)
      if changes.before == nil then changes.before = false end
      return base .. "/catalog" .. catalog_query(q, changes)
    end,
    next_url = more and (base .. "/catalog" .. catalog_query(q,
      { before = ("%d.%d"):format(last.pub_at, last.id) })) or nil,
  })
end

return view
