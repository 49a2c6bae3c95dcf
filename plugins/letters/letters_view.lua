-- letters_view: what the letters' pages share: the layout's context, dates,
-- the labels of states and steps, contacts and their masks.
local park = require("park")
local layout = require("park.layout")
local roles = require("letters_roles")

local view = {}

view.STATES = { dispatch = "待分办", assigned = "待受理", accepted = "办理中",
                review = "答复审核中", answered = "已答复", declined = "不予受理" }

-- Why a letter is declined (不予受理).
view.DECLINE = {
  { "scope", "不属于本网站受理范围" },
  { "duplicate", "重复来信，已并入原信件" },
  { "abusive", "内容含有辱骂、攻击等不当言论" },
  { "no_contact", "未留有效联系方式，无法答复" },
}
view.DECLINE_LABEL = {}
for _, d in ipairs(view.DECLINE) do view.DECLINE_LABEL[d[1]] = d[2] end

-- Each step of the timeline, as the writer and the staff read it.
view.ACTIONS = {
  submit = "提交信件", assign = "分办", accept = "受理", ["return"] = "退回分办",
  transfer = "转办", decline = "不予受理", note = "内部备注", draft = "起草答复",
  reply_submit = "答复提交审核", reply_approve = "答复审核通过", reply_return = "答复退回修改",
  answer = "答复", ext_request = "申请延期", extend = "延期", ext_reject = "延期申请未获批准",
  rate = "评价", reopen = "再次办理", risk = "互动回应差风险",
}

view.RATINGS = { "满意", "基本满意", "不满意" }

function view.date(t)
  return t and os.date("%Y-%m-%d", t) or ""
end

function view.datetime(t)
  return t and os.date("%Y-%m-%d %H:%M", t) or ""
end

--- Today in the site's zone, YYYY-MM-DD.
function view.today(now)
  return os.date("%Y-%m-%d", now or park.now())
end

function view.page(req, name, ctx, status)
  local column = park.site.column()
  layout.context(req, ctx)
  ctx.column = column
  ctx.base = req.column == "/" and "" or req.column
  ctx.title = ctx.title or (column and column.title) or ctx.site_name
  ctx.date, ctx.datetime = view.date, view.datetime
  ctx.STATES, ctx.ACTIONS = view.STATES, view.ACTIONS
  ctx.unit_name = roles.unit_name
  ctx.errors = ctx.errors or {}
  ctx.styles = ctx.styles or { "/static/letters/letters.css" }
  return park.html(park.render(name, ctx), status)
end

--- A writer's contact: a mainland mobile number, a fixed line (with its
-- area code) or an e-mail address, normalised; nil when it is none of them.
function view.contact(s)
  s = (s or ""):gsub("　", ""):gsub("%s", "")
  if s:match("^1%d%d%d%d%d%d%d%d%d%d$") then return s end
  local digits = s:gsub("[%-()（）]", "")
  if digits:match("^0%d%d%d%d%d%d%d%d%d%d?%d?$") then return digits end
  if #s <= 200 and s:match("^[%w._%%+-]+@[%w-]+%.[%w.-]*%a%a$") then return s:lower() end
  return nil
end

--- 张三 -> 张**, and "" for no name.
function view.mask_name(s)
  if not s or s == "" then return "" end
  local first = s:match("^[%z\1-\127\194-\244][\128-\191]*")
  return (first or "") .. "**"
end

--- 13812345678 -> 138****5678, wang@example.com -> w***@example.com.
function view.mask_contact(s)
  if not s or s == "" then return "" end
  local user, domain = s:match("^(.-)(@.*)$")
  if user then return user:sub(1, 1) .. "***" .. domain end
  if #s <= 7 then return s:sub(1, 1) .. ("*"):rep(#s - 1) end
  return s:sub(1, 3) .. "****" .. s:sub(-4)
end

--- Paragraphs of a plain text, for a template: a list of lines with text.
function view.paragraphs(s)
  local out = {}
  for p in ((s or "") .. "\n"):gmatch("(.-)\r?\n") do
    if p:find("%S") then out[#out + 1] = p end
  end
  return out
end

--- The first `n` characters of s, with "……" when cut.
function view.excerpt(s, n)
  s = (s or ""):gsub("%s+", " ")
  if (utf8.len(s) or 0) <= n then return s end
  return s:sub(1, (utf8.offset(s, n + 1) or #s + 1) - 1) .. "……"
end

return view
