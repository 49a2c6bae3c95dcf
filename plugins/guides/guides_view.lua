-- guides_view: what the guides' pages share: the site's layout context,
-- dates, sizes and the labels of states and steps.
local park = require("park")
local layout = require("park.layout")
local review = require("park.review")
local fields = require("guides_fields")
local roles = require("guides_roles")

local view = {}

view.STATE_LABELS = { draft = "草稿", review = "审核中", returned = "已退回",
                      published = "已发布", superseded = "已被新版本取代" }

function view.date(t) return t and os.date("%Y-%m-%d", t) or "" end
function view.datetime(t) return t and os.date("%Y-%m-%d %H:%M", t) or "" end

-- "1.2 MB", "340 KB"
function view.size(n)
  n = n or 0
  if n >= 1024 * 1024 then return ("%.1f MB"):format(n / 1024 / 1024) end
  if n >= 1024 then return ("%d KB"):format(math.ceil(n / 1024)) end
  return ("%d 字节"):format(n)
end

--- The column's base path for links ("" for the root).
function view.base(req)
  return req.column == "/" and "" or req.column
end

--- Render a page into the site's layout with what every page needs.
function view.page(req, name, ctx, status)
  local column = park.site.column()
  layout.context(req, ctx)
  ctx.column = column
  ctx.base = view.base(req)
  ctx.column_path = req.column
  ctx.title = ctx.title or (column and column.title) or ctx.site_name
  ctx.date, ctx.datetime, ctx.size = view.date, view.datetime, view.size
  ctx.F = fields
  ctx.unit_name = roles.unit_name
  ctx.STATE_LABELS = view.STATE_LABELS
  ctx.step_label, ctx.decision_label = review.step_label, review.decision_label
  ctx.styles = ctx.styles or { "/static/guides/guides.css" }
  return park.html(park.render(name, ctx), status)
end

return view
