-- Writes SQL for one open ten-question survey at /myzj (bench/survey), with
-- its questions parsed by the plugin's own survey_questions. Run with lua5.4
-- from the repository's root: lua5.4 bench/survey_seed.lua NOW
package.path = "plugins/survey/?.lua;lualib/?.lua;" .. package.path
local questions = require("survey_questions")
local cjson = require("cjson")

local TEXT = [[
[single] q1 您对园区政务服务的总体评价？ *
- 非常满意
- 满意
- 一般
- 不满意
[multiple min=1 max=3] q2 您最常办理的事项有哪些？ *
- 企业注册
- 人才补贴
- 项目申报
- 其他
[rating 1-5] q3 请为办事效率打分 *
[rating 1-5] q4 请为服务态度打分 *
[single] q5 您通过什么渠道了解园区政策？ *
- 网站
- 公众号
- 窗口
[ranking] q6 请对以下改进方向排序 *
- 网上办理
- 窗口服务
- 政策解读
[grid] q7 请评价以下窗口的服务 *
行:
- 企业服务窗口
- 人才服务窗口
列:
- 满意
- 一般
- 不满意
[single] q8 您是否愿意参加后续座谈？
- 愿意
- 不愿意
[text max=200] q9 您的意见和建议
[text max=100 if q1=不满意] q10 请说明不满意的原因 *
]]

local now = math.tointeger(tonumber(arg[1]))
local qs = assert(questions.parse(TEXT))
assert(#qs == 10)
local function q(s) return "'" .. s:gsub("'", "''") .. "'" end
io.write(([[INSERT INTO survey_surveys (id, column_path, title, questions, parsed, opens_at,
  closes_at, mode, state, created_by, created_at, updated_at) VALUES (1, '/myzj',
  '园区政务服务满意度调查', %s, %s, %d, %d, 'anonymous', 'open', 'bench', %d, %d);
]]):format(q(TEXT), q(cjson.encode(qs)), now - 3600, now + 86400, now, now))
