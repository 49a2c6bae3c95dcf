-- letters: letters from residents and enterprises (主任信箱, 咨询, 建议, 投诉,
-- 找错). A binding takes one type of letter; the column's unit dispatches
-- each letter (分办) to the unit that answers it, or the binding names that
-- unit directly. The unit accepts it (受理), sends it back (退回), declines
-- it (不予受理) or transfers it (转办); its editor drafts the reply, which
-- goes through the column's review chain (park.review). Deadlines are
-- working days (park.calendar), extended only with a leader's approval; a
-- daily job warns before and after the due date and flags letters left 3
-- months unanswered. The writer follows the letter with a 查询码 and a
-- secret and rates the answer; answered letters the writer allowed are
-- published, masked, with monthly statistics. README.md has every rule.
local park = require("park")
local config = require("letters_config")
local pub = require("letters_public")
local manage = require("letters_manage")
local stats = require("letters_stats")
local view = require("letters_view")
local deadlines = require("letters_deadlines")

local plugin = {
  name = "letters",
  version = "1.0.0",
  description = "网上信箱：主任信箱、咨询、建议、投诉与找错，分办、限时答复、公开与统计",
  config = config.schema,
}

local function stats_page(req)
  local s = stats.compute(stats.month(req.query.month), req.config.min_rank)
  return view.page(req, "stats.html", { title = "信件统计：" .. s.month.label, s = s,
    chart = stats.svg(s), user = park.auth.user() })
end

plugin.routes = {}
for _, r in ipairs(manage.routes) do plugin.routes[#plugin.routes + 1] = r end
for _, r in ipairs({
  { "GET", "/", pub.list },
  { "GET", "/write", pub.write_form },
  { "POST", "/write", pub.submit },
  { "POST", "/code", pub.send_code },
  { "GET", "/status", pub.status_form },
  { "POST", "/status", pub.status },
  { "POST", "/rate", pub.rate },
  { "GET", "/stats", stats_page },
  { "GET", "/:id", pub.show },
}) do plugin.routes[#plugin.routes + 1] = r end

plugin.jobs = {
  -- Every morning at 08:00 (the site's time); a run missed while the
  -- server was down runs once when it starts.
  deadlines = { cron = "0 8 * * *", run = function()
    local made = deadlines.run(park.now())
    if made > 0 then park.log.info(("letters: %d warning(s) made"):format(made)) end
  end },
}

return plugin
