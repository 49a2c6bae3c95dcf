-- Writes SQL for N published articles in one column (argument 1, default
-- 100000) to standard output, for bench/articles: titles and bodies from
-- a small vocabulary of park notices, search tokens from the plugin's own
-- articles_text.tokens so that the index is what publishing would write.
-- Run with lua5.4 from the repository's root.
package.path = "plugins/articles/?.lua;lualib/?.lua;" .. package.path
local text = require("articles_text")

local n = math.tointeger(tonumber(arg[1] or "100000"))
local topics = { "高新技术企业认定", "人才公寓申请", "科技创新券发放", "园区道路施工",
                 "元旦假期安排", "安全生产检查", "招商引资项目", "知识产权保护",
                 "创业孵化基地入驻", "企业研发费用补贴", "消防演练", "供水管网检修",
                 "人才引进补贴", "专利申报培训", "节能改造项目", "职工技能大赛" }
local kinds = { "通知", "公告", "公示", "通报", "说明" }
local parts = { "各有关单位：", "根据园区工作安排，", "现将有关事项通知如下。",
                "请各单位高度重视，认真组织实施。", "联系电话：0000-12345678。",
                "特此通知。", "申报材料请于截止日期前报送园区服务中心。" }

local function q(s) return "'" .. s:gsub("'", "''") .. "'" end

local base = 1700000000
io.write("BEGIN;\n")
local batch_items, batch_revs, batch_search = {}, {}, {}
local function flush()
  if #batch_items == 0 then return end
  io.write("INSERT INTO articles_items (id, column_path, status, live_rev, pub_at, created_by,"
    .. " created_at) VALUES ", table.concat(batch_items, ","), ";\n")
  io.write("INSERT INTO articles_revisions (id, item_id, number, title, summary, body, body_text,"
    .. " source, state, created_by, created_at, updated_at) VALUES ", table.concat(batch_revs, ","),
    ";\n")
  io.write("INSERT INTO articles_search (rowid, tokens) VALUES ", table.concat(batch_search, ","),
    ";\n")
  batch_items, batch_revs, batch_search = {}, {}, {}
end
for i = 1, n do
  local topic = topics[i % #topics + 1]
  local title = ("关于%s的%s（第%d号）"):format(topic, kinds[i % #kinds + 1], i)
  local body_parts = {}
  for k = 1, 4 do body_parts[k] = parts[(i + k * 3) % #parts + 1] end
  local plain = table.concat(body_parts)
  local body = "<p>" .. table.concat(body_parts, "</p><p>") .. "</p>"
  local t = base + i * 600
  batch_items[#batch_items + 1] = ("(%d,'/gxcy/tzgg','live',%d,%d,'bench',%d)"):format(i, i, t, t)
  batch_revs[#batch_revs + 1] = ("(%d,%d,1,%s,%s,%s,%s,'园区服务中心','published','bench',%d,%d)")
    :format(i, i, q(title), q(topic), q(body), q(plain), t, t)
  batch_search[#batch_search + 1] = ("(%d,%s)"):format(i, q(text.tokens(title .. "\n" .. topic
    .. "\n" .. plain)))
  if #batch_items == 500 then flush() end
end
flush()
io.write("COMMIT;\n")
