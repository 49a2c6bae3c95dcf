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

local function index(req)
  local page = req.column == "/" and "home.html" or "page.html"
  return render(req, page, { paragraphs = paragraphs(req.config.body),
                             title = req.column == "/" and "首页" or nil })
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
