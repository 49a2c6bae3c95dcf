-- guides_config: a binding's config (the schema the console's form is made
-- from), and a column's config read in a job, where no request carries it.
-- followup_days and case_lookups_per_hour are read by the service half
-- (guides_rate, guides_cases; SERVICE.md).
local park = require("park")
local review = require("park.review")
local pschema = require("park.schema")

local config = {}

config.schema = {
  chain = { type = "array", items = "string", enum = review.NAMES, default = { "review" },
            label = "审核流程",
            description = "事项公开前依次经过的环节：review 单位审核，secrecy 保密审查，"
              .. "leader 领导签发，center 中心审核" },
  page_size = { type = "integer", default = 20, min = 5, max = 100, label = "每页条数",
                description = "事项目录每页的事项数" },
  file_max_mb = { type = "integer", default = 10, min = 1, max = 100,
                  label = "表格文件大小上限（MB）",
                  description = "空表、样表每个文件的最大大小；另受服务器对请求大小的上限约束" },
  page_cache = { type = "boolean", default = true, label = "缓存公开页面",
                 description = "缓存面向公众的目录与事项页面（发布、撤回或栏目变化时自动失效）" },
  search_path = { type = "string", default = "/search", max_length = 200, label = "全站搜索地址",
                  description = "全站搜索栏目的路径（portal 插件 page = \"search\"）；"
                    .. "目录的搜索框在那里只查本栏目的办事指南" },
  demo = { type = "boolean", default = false, label = "载入演示事项",
           description = "栏目还没有任何事项时，启动后载入插件自带的演示事项（仅用于演示站点）" },
  followup_days = { type = "integer", default = 5, min = 1, max = 60,
                    label = "差评整改时限（工作日）",
                    description = "收到一星、二星评价后，责任单位整改答复的工作日数" },
  case_lookups_per_hour = { type = "integer", default = 10, min = 1, max = 1000,
                            label = "每小时办件查询次数",
                            description = "同一网络地址每小时最多查询办件的次数" },
}

-- Column path -> { gen =, cfg = }.
local cache = {}

--- The config of a column bound to this plugin, defaults filled in; the
-- defaults alone when it cannot be read.
function config.of(column)
  local gen = park.site.generation()
  local e = cache[column]
  if e and e.gen == gen then return e.cfg end
  local b = park.site.binding(column)
  local cfg = pschema.apply(config.schema, b and b.config or {})
  cache[column] = { gen = gen, cfg = cfg }
  return cfg
end

return config
