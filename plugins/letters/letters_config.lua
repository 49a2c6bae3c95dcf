-- letters_config: a binding's config (the schema the console's form is made
-- from, with Chinese labels), its derived values, and a column's config
-- read in a job, where there is no request to carry it.
local park = require("park")
local review = require("park.review")
local pschema = require("park.schema")

local config = {}

config.TYPES = { "主任信箱", "咨询", "建议", "投诉", "找错" }

-- Working days to answer when the binding says 0: 找错 is answered within
-- 3 working days (国办发〔2017〕47号), a 咨询 within 5, the others within 10.
config.DEFAULT_DAYS = { ["主任信箱"] = 10, ["咨询"] = 5, ["建议"] = 10, ["投诉"] = 10,
                        ["找错"] = 3 }

config.schema = {
  type = { type = "string", enum = config.TYPES, default = "主任信箱", label = "信件类型",
           description = "本栏目受理的信件类型：主任信箱、咨询、建议、投诉或找错（找错需填写出错页面的地址）" },
  deadline_days = { type = "integer", default = 0, min = 0, max = 60,
                    label = "答复时限（工作日）",
                    description = "收信后几个工作日内答复；0 为按类型：找错 3 个、咨询 5 个、"
                      .. "其他 10 个工作日" },
  receiver = { type = "string", default = "center", max_length = 32, label = "收信单位",
               description = "填 center 由栏目所属单位分办（主任信箱即园区服务中心）；"
                 .. "填单位代码则直接交该单位办理" },
  publish = { type = "boolean", default = true, label = "允许公开答复",
              description = "写信人同意公开时，答复后在本栏目公开（姓名与联系方式隐去部分）" },
  verify = { type = "string", enum = { "none", "code" }, default = "none",
             labels = { none = "不验证", code = "验证码（发送到手机或邮箱）" },
             label = "联系方式验证",
             description = "提交前是否验证写信人的手机或邮箱" },
  channel = { type = "string", enum = { "log" }, default = "log",
              labels = { log = "写入日志（开发与测试用）" }, label = "通知渠道",
              description = "发送验证码、答复通知与到期提醒的渠道；接入短信或邮件见插件说明" },
  rate_limit = { type = "integer", default = 5, min = 1, max = 1000000000,
                 label = "每小时限信数",
                 description = "同一网络地址每小时最多提交的信件数" },
  min_rank = { type = "integer", default = 5, min = 1, max = 100000,
               label = "参与排名的最少信件数",
               description = "统计中一个单位当月收到的信件少于此数时不参与排名" },
  chain = { type = "array", items = "string", enum = review.NAMES,
            default = { "review", "leader" }, label = "答复审核流程",
            description = "答复公开前依次经过的环节" },
  warn_days = { type = "integer", default = 1, min = 0, max = 10, label = "到期前提醒（工作日）",
                description = "答复期限前几个工作日提醒单位的网站管理员和领导" },
  max_extension = { type = "integer", default = 10, min = 1, max = 60,
                    label = "单次延期上限（工作日）",
                    description = "一次延期最多延长的工作日数，须经单位领导批准" },
  body_max = { type = "integer", default = 3000, min = 100, max = 20000, label = "正文最多字数",
               description = "信件正文最多的字数" },
  file_max_mb = { type = "integer", default = 5, min = 1, max = 100, label = "附件大小上限（MB）",
                  description = "每个附件的最大大小；另受服务器对请求大小的上限约束" },
  page_size = { type = "integer", default = 20, min = 5, max = 100, label = "每页条数",
                description = "公开信件列表每页的条数" },
}

--- Working days a letter of this config has to be answered.
function config.days(cfg)
  if cfg.deadline_days and cfg.deadline_days > 0 then return cfg.deadline_days end
  return config.DEFAULT_DAYS[cfg.type] or 10
end

-- Column path -> { gen =, cfg = }: a job reads each column's saved config
-- (park.site.binding, without the defaults) and fills the defaults in.
local cache = {}

--- The config of a column bound to this plugin, defaults filled in; the
-- defaults alone when it cannot be read (unbound since).
function config.of(column)
  local gen = park.site.generation()
  local e = cache[column]
  if e and e.gen == gen then return e.cfg end
  local b = park.site.binding(column)
  local cfg = b and pschema.apply(config.schema, b.config or {})
    or pschema.apply(config.schema, {})
  cache[column] = { gen = gen, cfg = cfg }
  return cfg
end

return config
