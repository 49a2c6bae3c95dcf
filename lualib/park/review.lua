-- park.review: the review chain (先审后上、分级负责) that content plugins
-- share (articles, survey, ...). A column's binding config lists its steps;
-- each step is acted on by the staff whose role allows the step's action
-- on the column (park.auth.can, the core's one table of permissions).
-- Nobody signs off their own text, and nobody approves two steps of one
-- round: every step is another pair of eyes. The plugin keeps the record of
-- steps in its own tables; this module decides who may act.
--
--   local review = require("park.review")
--   -- config: chain = { type = "array", items = "string", enum = review.NAMES, ... }
--   local step_name, step = review.may_act(user, item, column, steps)
--   -- item: { state = "review", chain = { "review", "leader" }, step = 1, created_by = login }
--   -- steps: the item's record, oldest first: { { decision =, login = }, ... },
--   --   where decision "submit" starts a round and "approve" is a step passed
local park = require("park")

local flow = {}

flow.STEPS = {
  review = { label = "单位审核", action = "review" },
  secrecy = { label = "保密审查", action = "review" },
  leader = { label = "领导签发", action = "sign" },
  center = { label = "中心审核", action = "center_review" },
}
flow.NAMES = { "review", "secrecy", "leader", "center" }

flow.DECISION_LABELS = {
  submit = "提交审核", approve = "通过", ["return"] = "退回", publish = "发布",
  withdraw = "撤回", repeal = "废止", open = "开始征集", close = "结束征集",
  extend = "延期", outcome = "发布结果反馈",
}

function flow.step_label(name)
  local s = flow.STEPS[name]
  return s and s.label or name
end

-- The step an item in review waits at: its name and definition.
function flow.current(rev)
  if rev.state ~= "review" then return nil end
  local name = rev.chain[rev.step]
  return name, flow.STEPS[name]
end

-- Whether `user` may act on rev's current step at `column`, or nil and why.
-- `steps` is the revision's record (store.steps).
function flow.may_act(user, rev, column, steps)
  local name, step = flow.current(rev)
  if not step then return nil, "this revision is not waiting for a review" end
  if not park.auth.can(step.action, column) then
    return nil, ("the step %s (%s) is not yours"):format(name, step.label)
  end
  if user.login == rev.created_by then
    return nil, "nobody reviews their own text"
  end
  -- This round only: a revision sent back and submitted again starts over.
  local approved = false
  for _, s in ipairs(steps) do
    if s.decision == "submit" then approved = false end
    if s.decision == "approve" and s.login == user.login then approved = true end
  end
  if approved then return nil, "you approved an earlier step of this revision" end
  return name, step
end

-- Whole working days a review has waited (the day it began not counted).
function flow.waited(since, now)
  local a, b = os.date("%Y-%m-%d", since), os.date("%Y-%m-%d", now)
  local n = park.calendar.working_days_between(a, b)
  return math.max(0, n or 0)
end

return flow
