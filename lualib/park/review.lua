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

-- The steps a plugin records besides the chain's: who wrote, what the
-- system did on its own, and what came after the review.
flow.OTHER_STEPS = {
  editor = "编辑", publish = "发布", withdraw = "撤回", repeal = "废止", schedule = "系统自动",
  extend = "延期", outcome = "结果反馈", live = "直播", announce = "预告",
}

-- Who acts on a step, by the step's action, for the staff told to ask them.
local WHO = { review = "审核员", sign = "单位领导", center_review = "园区服务中心的审核人员" }

-- A step's name for the staff: never the key ("其他环节" for one unknown).
function flow.step_label(name)
  local s = flow.STEPS[name]
  return s and s.label or flow.OTHER_STEPS[name] or "其他环节"
end

-- A decision's name for the staff: never the key.
function flow.decision_label(decision)
  return flow.DECISION_LABELS[decision] or "其他操作"
end

-- The step an item in review waits at: its name and definition.
function flow.current(rev)
  if rev.state ~= "review" then return nil end
  local name = rev.chain[rev.step]
  return name, flow.STEPS[name]
end

-- Whether `user` may act on rev's current step at `column`, or nil and why
-- (in Chinese, for the staff member refused: what is wrong and who can act).
-- `steps` is the revision's record (store.steps).
function flow.may_act(user, rev, column, steps)
  local name, step = flow.current(rev)
  if not step then
    return nil, "现在没有等待审核的环节：只有已提交审核、尚未审完的内容才能通过或退回。"
  end
  if not park.auth.can(step.action, column) then
    return nil, ("当前是“%s”环节，须由本栏目的%s办理，您的账号没有这一权限。"):format(
      step.label, WHO[step.action] or "相关人员")
  end
  if user.login == rev.created_by then
    return nil, ("不能审核自己撰写的内容，“%s”环节请由本单位的其他%s办理。"):format(step.label,
      WHO[step.action] or "人员")
  end
  -- This round only: a revision sent back and submitted again starts over.
  local approved
  for _, s in ipairs(steps) do
    if s.decision == "submit" then approved = nil end
    if s.decision == "approve" and s.login == user.login then approved = s.step or "" end
  end
  if approved then
    return nil, ("本轮的“%s”环节已由您通过，同一人不能再办理“%s”环节，请由其他%s办理。"):format(
      flow.step_label(approved), step.label, WHO[step.action] or "人员")
  end
  return name, step
end

-- Whole working days a review has waited (the day it began not counted).
function flow.waited(since, now)
  local a, b = os.date("%Y-%m-%d", since), os.date("%Y-%m-%d", now)
  local n = park.calendar.working_days_between(a, b)
  return math.max(0, n or 0)
end

return flow
