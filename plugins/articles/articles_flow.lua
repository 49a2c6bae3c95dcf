-- articles_flow: the review chain of park.review, with the states of an
-- article's revisions.
local review = require("park.review")

return setmetatable({
  STATE_LABELS = {
    draft = "草稿", review = "审核中", returned = "已退回", published = "已发布",
    superseded = "已被新版本取代",
  },
}, { __index = review })
