-- Import and export of items: a good JSON file and a good CSV file arrive
-- as drafts of the importer's unit; a file with one bad row is refused,
-- the row named, and nothing is imported; what is exported imports again
-- to the same items (JSON and CSV).
package.path = "plugins/guides/spec/?.lua;" .. package.path
local support = require("support")
local cjson = require("cjson")

local C = support.COLUMN
local has = support.has

local HEADER = "事项名称,事项类型,服务对象,主题分类,责任单位,设定依据,申请条件,办理材料,地址,办事大厅,"
  .. "窗口,办理时间,咨询电话,投诉电话,办理流程,法定时限,承诺时限,跑动次数,收费标准,网办深度,"
  .. "在线办理地址,常见问题"

local function row(name, address)
  return table.concat({ name, "公共服务", "个人", "社会保障;就业创业", "",
    "《中华人民共和国社会保险法》|https://www.example.gov.cn/law", '"年满 16 周岁, 园区户籍"',
    "申请表|1|原件|必要;身份证|1|复印件|非必要", address, "政务服务中心", "13 号窗口",
    "工作日 9:00—17:00", "0512-66880213", "0512-12345", "提交申请;窗口核验;办结", "5", "1", "1",
    "不收费", "二级", "", "需要本人到场吗？|需要。" }, ",")
end

local function upload(browser, name, data)
  browser:get(C .. "/manage/import")
  return browser:post(C .. "/manage/import", {}, nil, {
    file = { { filename = name, content_type = "application/octet-stream", data = data } } })
end

local function count(site)
  return tonumber(support.sql(site, "SELECT count(*) FROM guides_items WHERE col = '" .. C .. "'"))
end

describe("guides: import and export", function()
  local site, b
  setup(function()
    site, b = support.start({}, {
      { path = "/bszn2", title = "办事指南（副本）", kind = "service", unit = "social",
        plugin = "guides", config = { page_cache = false } } })
  end)
  teardown(function() site:stop() end)

  it("imports a good CSV file as drafts of the importer's unit", function()
    local res = upload(b.sed, "items.csv", "\239\187\191" .. HEADER .. "\r\n"
      .. row("城乡居民养老保险参保登记", "创新大道 88 号") .. "\r\n"
      .. row("失业登记", "创新大道 88 号") .. "\r\n")
    assert.equal(200, res.status)
    assert.truthy(has(res.body, "已导入 <strong>2</strong> 个事项"))
    assert.equal(2, count(site))
    assert.equal("social,draft", support.sql(site, "SELECT i.unit || ',' || v.state FROM"
      .. " guides_items i JOIN guides_versions v ON v.item_id = i.id WHERE i.name = '失业登记'"))
    local id = support.sql(site, "SELECT id FROM guides_items WHERE name = '失业登记'")
    local page = b.sed:get(C .. "/manage/" .. id)
    assert.truthy(has(page.body, "年满 16 周岁, 园区户籍"))
    assert.truthy(has(page.body, "身份证"))
    assert.truthy(has(page.body, "非必要"))
    assert.truthy(has(page.body, '<a href="https://www.example.gov.cn/law" rel="external">'))
  end)

  it("refuses a CSV file with a bad row, naming the row, and imports nothing", function()
    local before = count(site)
    local res = upload(b.sed, "bad.csv", HEADER .. "\n" .. row("甲事项", "创新大道 88 号") .. "\n"
      .. row("乙事项", "") .. "\n")
    assert.equal(422, res.status)
    assert.truthy(has(res.body, "第 3 行：办理地点：请填写地址"))
    assert.truthy(has(res.body, "没有导入任何事项"))
    assert.equal(before, count(site))
  end)

  it("imports a good JSON file, and refuses a bad one naming the item", function()
    local items = { {
      name = "人才公寓申请", kind = "公共服务", objs = { "个人" }, themes = { "住房保障" },
      basis = { { title = "《人才公寓管理办法》" } }, conditions = "园区全职工作。",
      materials = { { name = "申请表", copies = 1, form = "原件", required = true } },
      address = "创新大道 88 号", hours = "工作日", phone_ask = "0512-66880319",
      phone_complain = "0512-12345", steps = { "申请", "审核" }, legal_days = 15,
      promise_days = 10, runs = 1, fee = "不收费", depth = 2 } }
    local before = count(site)
    local res = upload(b.sed, "items.json", cjson.encode({ items = items }))
    assert.equal(200, res.status)
    assert.equal(before + 1, count(site))
    items[2] = { name = "缺材料的事项" }
    res = upload(b.sed, "bad.json", cjson.encode(items))
    assert.equal(422, res.status)
    assert.truthy(has(res.body, "第 2 项：办理材料：请至少填写一项材料"))
    assert.equal(before + 1, count(site))
    -- Another unit's items only by their own editors.
    items[2] = nil
    items[1].unit = "invest"
    res = upload(b.sed, "other.json", cjson.encode(items))
    assert.equal(422, res.status)
    assert.truthy(has(res.body, "第 1 项：责任单位：您没有“招商局”的编辑权限"))
  end)

  it("exports JSON and CSV that import again to the same items", function()
    local json = b.sed:get(C .. "/manage/export.json")
    assert.equal(200, json.status)
    assert.truthy(has(json.headers["content-type"], "application/json"))
    local doc = cjson.decode(json.body)
    assert.equal("parkhost-guides/1", doc.format)
    assert.equal(3, #doc.items)
    local csv = b.sed:get(C .. "/manage/export.csv")
    assert.truthy(has(csv.headers["content-type"], "text/csv"))
    assert.truthy(has(csv.headers["content-disposition"], "filename*=UTF-8''"))
    -- Into the second column, then out again: the same.
    local function other_upload(name, data)
      b.sed:get("/bszn2/manage/import")
      return b.sed:post("/bszn2/manage/import", {}, nil, {
        file = { { filename = name, content_type = "text/plain", data = data } } })
    end
    assert.equal(200, other_upload("export.json", json.body).status)
    local again = cjson.decode(b.sed:get("/bszn2/manage/export.json").body)
    local function strip(d)
      for _, it in ipairs(d.items) do it.id = nil end
      return d.items
    end
    assert.same(strip(doc), strip(again))
    assert.equal(200, other_upload("export.csv", csv.body).status)
    local csv2 = b.sed:get("/bszn2/manage/export.csv").body
    -- The second column now holds each item twice, in the same order.
    local lines1, lines2 = {}, {}
    for l in csv.body:gmatch("[^\r\n]+") do lines1[#lines1 + 1] = l end
    for l in csv2:gmatch("[^\r\n]+") do lines2[#lines2 + 1] = l end
    assert.equal(#lines1 * 2 - 1, #lines2)
    for i = 2, #lines1 do assert.equal(lines1[i], lines2[i + #lines1 - 1]) end
  end)
end)
