-- park.layout: what the park's page layout (park/templates/site.html) needs
-- besides a plugin's own context, in one call, so that every plugin's
-- pages carry the same masthead, footer, metadata and 关怀版:
--
--   local layout = require("park.layout")
--   ctx = layout.context(req, ctx)   -- then park.render(name, ctx)
--
-- It sets ctx.site (the center's settings, park.site.settings()),
-- ctx.site_name, ctx.nav, ctx.column, ctx.care (the resident chose 关怀版:
-- the cookie `care`), ctx.here (the page, for the switch's way back) and
-- ctx.column_meta (the Column* meta tags of a column page). A plugin may
-- have set any of them before; its values stay.
local park = require("park")

local layout = {}

-- ColumnType by column kind: the words a column's page declares.
local COLUMN_TYPES = { section = "栏目导航", news = "新闻动态", notice = "通知公告",
                       policy = "政策文件", interaction = "互动交流", service = "办事服务",
                       static = "信息页面" }

--- Whether the request asks for 关怀版 (the cookie set by /admin/care).
function layout.care(req)
  return req.cookies ~= nil and req.cookies.care == "1"
end

function layout.context(req, ctx)
  local site = park.site.settings()
  ctx.site = ctx.site or site
  ctx.site_name = site.name or ctx.site_name or (req.config and req.config.site_name)
    or "高新技术产业开发区"
  ctx.nav = ctx.nav or park.site.nav()
  local column = ctx.column or park.site.column()
  ctx.column = column
  if ctx.care == nil then ctx.care = layout.care(req) end
  -- This page, for the switch's way back and for a 找错 report about it.
  local here = park.url_encode(req.target or "/")
  ctx.care_href = ("/admin/care?on=%s&next=%s"):format(ctx.care and "0" or "1", here)
  ctx.errata_here = here
  if column and column.path ~= "/" and ctx.column_meta == nil then
    ctx.column_meta = {
      { "ColumnName", column.title },
      { "ColumnDescription", column.title .. "（" .. (column.unit_name or "") .. "负责）" },
      { "ColumnKeywords", column.title },
      { "ColumnType", COLUMN_TYPES[column.kind] or "信息页面" },
    }
  end
  return ctx
end

--- The page around an error (core/lua: error pages in the layout): the
-- layout rendered once with markers where the title and the content go,
-- for a worker's error pages of this site model. care: 关怀版.
function layout.chrome(care)
  local ctx = layout.context({ target = "/", cookies = {} },
    { title = "\1TITLE\1", content = "\1CONTENT\1", care = care, column = false })
  ctx.column = nil
  return park.render("park/error.html", ctx)
end

return layout
