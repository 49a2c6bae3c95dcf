-- articles_policy: what 政务公开 asks of a policy column's documents: the
-- attributes an editor fills in (文号, 主题分类, 有效性), the validity shown
-- to residents, and the 索引号 scheme (articles_store assigns the numbers).
local policy = {}

-- 主题分类: the top level of the State Council's subject classification of
-- government information (国务院政策文件库), in its order.
policy.TOPICS = {
  "国务院组织机构", "综合政务", "国民经济管理、国有资产监管", "财政、金融、审计",
  "国土资源、能源", "农业、林业、水利", "工业、交通", "商贸、海关、旅游",
  "市场监管、安全生产监管", "城乡建设、环境保护", "科技、教育", "文化、广电、新闻出版",
  "卫生、体育", "人口与计划生育、妇女儿童工作", "劳动、人事、监察", "公安、安全、司法",
  "民政、扶贫、救灾", "民族、宗教", "对外事务", "港澳台侨工作", "国防", "其他",
}
local TOPIC = {}
for _, t in ipairs(policy.TOPICS) do TOPIC[t] = true end

-- 有效性 an editor may choose (through review, like every change). 已废止
-- is a leader's repeal (articles_manage), 已失效 the document's expiry.
policy.VALIDITIES = { "有效", "已修改", "部分失效", "失效" }

policy.DOC_NO_MAX = 60 -- characters: three bytes each, within park.items' 200-byte attrs

function policy.is_topic(t) return TOPIC[t] == true end

-- Whether the column at path is a policy column (its 信息公开目录, its
-- documents' 索引号 and attributes).
function policy.column(col)
  return col ~= nil and col.kind == "policy"
end

-- The 有效性 residents see: a repeal and an expiry first, then the
-- editor's choice, else 有效.
function policy.validity(item, rev, now)
  if item.repealed_at then return "已废止" end
  if item.expires_at and item.expires_at <= now then return "已失效" end
  if rev.validity and rev.validity ~= "" then return rev.validity end
  return "有效"
end

-- 索引号: `<unit code>-<year>-<serial>`, the serial five digits (more past
-- 99999), e.g. invest-2026-00001.
function policy.index_no(unit, year, serial)
  return ("%s-%04d-%05d"):format(unit, year, serial)
end

return policy
