-- survey_view: what the survey's pages share: the layout's context, dates,
-- contacts, and the channel that sends codes and feedback.
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
  ctx.title = ctx.title or (ctx.s and ctx.s.title) or (column and column.title) or ctx.site_name
  ctx.datetime = view.datetime
  ctx.errors = ctx.errors or {}
  return park.html(park.render(name, ctx), status)
end

-- A participant's contact: a mainland mobile number or an e-mail address,
-- normalised; nil when it is neither.
function view.contact(s)
  s = (s or ""):gsub("%s", "")
  if s:match("^1%d%d%d%d%d%d%d%d%d%d$") then return s end
  if #s <= 200 and s:match("^[%w._%%+-]+@[%w.-]+%.%a%a+$") then return s:lower() end
  return nil
end

-- Send a message to a contact through the column's channel. "log" writes it
-- to the log (development and tests); a real SMS or mail gateway is one more
-- channel here.
function view.send(channel, contact, message)
  if channel == "log" then
    park.log.info(("survey channel log: to %s: %s"):format(contact, message))
    return true
  end
  return nil, "unknown channel " .. tostring(channel)
end

return view
