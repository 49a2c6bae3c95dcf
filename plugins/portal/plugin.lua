-- portal: the park site's front page, its static pages and the published
-- responsibility table (责任栏目划分明细), all built from the center's
-- column tree. Bound to "/", it serves the home page and /zrlm; bound to
-- any other column, that column's page with the text of its config.
local park = require("park")

local plugin = {
  name = "portal",
  version = "1.0.0",
  description = "The front page, static pages and the responsibility table, from the column tree",
  config = {
    site_name = { type = "string", default = "高新技术产业开发区", max_length = 60,
                  description = "the site's name, in every page's header and title" },
    body = { type = "string", default = "", max_length = 20000,
             description = "the page's text; a blank line starts a new paragraph" },
    search = { type = "string", default = "/search/search", max_length = 200,
               description = "where the front page's search box sends its query (q); empty: "
                 .. "no search box" },
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
  ctx.site_name = req.config.site_name
  ctx.nav = park.site.nav()
  ctx.column = park.site.column()
  ctx.title = ctx.title or ctx.column.title
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
  for _, s in ipairs(park.site.nav()) do
    if s.path ~= "/" then
      ctx.sections[#ctx.sections + 1] = { nav = s,
        items = park.items.latest({ column = s.path, limit = 5 }) }
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

local function index(req)
  if req.column == "/" then return render(req, "home.html", home_context(req)) end
  return render(req, "page.html", { paragraphs = paragraphs(req.config.body) })
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

plugin.routes = {
  { "GET", "/", index },
  { "GET", "/zrlm", responsibility },
}

return plugin
