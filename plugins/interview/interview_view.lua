-- interview_view: what the interview's pages share.
local park = require("park")
local layout = require("park.layout")

local view = {}

function view.datetime(t)
  return t and os.date("%Y-%m-%d %H:%M", t) or ""
end

function view.page(req, name, ctx, status)
  local column = park.site.column()
  layout.context(req, ctx)
  ctx.column = column
  ctx.base = req.column == "/" and "" or req.column
  ctx.title = ctx.title or (ctx.it and ctx.it.title) or (column and column.title)
    or ctx.site_name
  ctx.datetime = view.datetime
  return park.html(park.render(name, ctx), status)
end

return view
