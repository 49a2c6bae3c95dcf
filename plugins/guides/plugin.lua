-- guides: service guides (办事指南) of a service column. Each unit keeps its
-- own items (事项) there: an item carries the eight key elements (事项名称,
-- 设定依据, 申请条件, 办理材料, 办理地点, 办理时间, 联系电话, 办理流程) and
-- goes through the column's review chain before residents read it; every
-- version is kept and compared. Residents browse the catalogue by 服务对象,
-- 主题分类, 责任单位 and 最多跑一次 and read each guide in table form, with
-- its forms to download. Staff import and export items (JSON, CSV), and the
-- monitor's audit lists what is missing. The service half (ratings 好差评,
-- follow-ups 整改, statistics, 办件查询: guides_rate, guides_cases,
-- SERVICE.md) shares the folder; its routes come first. README.md has
-- every rule.
local park = require("park")
local config = require("guides_config")
local rate = require("guides_rate")
local cases = require("guides_cases")
local manage = require("guides_manage")
local pub = require("guides_public")
local seed = require("guides_seed")

local plugin = {
  name = "guides",
  version = "1.0.0",
  description = "办事指南：事项八要素、审核发布、版本比较、目录检索、表格下载与导入导出",
  config = config.schema,
}

plugin.routes = {}
local function add(list)
  for _, r in ipairs(list) do plugin.routes[#plugin.routes + 1] = r end
end
-- The service half's literal paths (/stats, /cases, /manage/ratings ...)
-- win over /:id and /manage/:id.
add(rate.routes)
add(cases.routes)
add(manage.routes)
add({
  { "GET", "/", pub.catalogue },
  { "GET", "/files/:file", pub.download },
  { "GET", "/:id", pub.show },
})

plugin.jobs = {
  -- Soon after every start and reload: the demo's items into an empty
  -- column bound with demo = true (guides_seed); idempotent.
  seed = { start = true, run = function() seed.run(park.now()) end },
}

-- The service half's jobs, if it declares any.
for name, job in pairs(rate.jobs or {}) do plugin.jobs[name] = job end
for name, job in pairs(cases.jobs or {}) do plugin.jobs[name] = job end

return plugin
