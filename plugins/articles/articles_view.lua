-- articles_view: what the residents' pages share: the layout's context
-- (site name, navigation from the column tree, feeds), dates, and search.
local park = require("park")
local text = require("articles_text")

local view = {}

function view.column_title(path)
  local c = park.site.column(path)
  return c and c.title or path
end

-- Dates in the site's zone by arithmetic: a page of twenty articles formats
-- forty dates, and os.date costs a C call and a buffer each.
local offset -- seconds east of UTC: os.time reads date tables in the site's zone
local function civil(t)
  offset = offset or -os.time({ year = 1970, month = 1, day = 1, hour = 0 })
  local s = t + offset
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
  ctx.site_name = req.config.site_name
  ctx.nav = park.site.nav()
  ctx.column = column
  ctx.column_path = req.column
  ctx.title = ctx.title or (column and column.title) or ctx.site_name
  ctx.date, ctx.datetime, ctx.size = view.date, view.datetime, view.size
  ctx.now = park.now()
  ctx.meta = ctx.meta or {}
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

return view
