-- guides: 办件查询 (the service half, SERVICE.md): cases imported by the
-- provincial platform with a unit's key (JSON or CSV) or uploaded in the
-- console, all or nothing, and looked up by residents with the case number
-- and the applicant's name, the name masked, a limited number of times.
package.path = "plugins/guides/spec/?.lua;" .. package.path
local support = require("service_support")
local cjson = require("cjson")

local has = support.has
local C = support.COLUMN

local LIMIT = 5

describe("guides: case status lookup (办件查询)", function()
  local site, b, key, other_key
  setup(function()
    site, b = support.start({ case_lookups_per_hour = LIMIT })
  end)
  teardown(function() if site then assert.are.equal(0, site:stop()) end end)

  local function post(path, body, ctype, k)
    local headers = { ["Content-Type"] = ctype }
    if k then headers["X-Guides-Key"] = k end
    local res = site:request("POST", path, headers, body)
    return res, (res.headers["content-type"] or ""):find("json", 1, true) and cjson.decode(res.body)
  end

  it("lets only a unit's webmaster make keys, shown once and kept as a hash", function()
    local refused = b.ied:get(C .. "/manage/keys")
    assert.are.equal(403, refused.status)
    assert.truthy(has(refused.body, "网站管理员"))
    b.iwm:get(C .. "/manage/keys")
    local res = b.iwm:post(C .. "/manage/keys", { unit = "invest", label = "省政务服务平台推送" })
    assert.are.equal(200, res.status, res.body)
    key = res.body:match('id="key%-value">([^<]+)<')
    assert.truthy(key, res.body)
    b.twm:get(C .. "/manage/keys")
    other_key = b.twm:post(C .. "/manage/keys", { unit = "talent", label = "推送" })
      .body:match('id="key%-value">([^<]+)<')
    assert.truthy(other_key)
    -- The database keeps the hash only; the list shows the key's start.
    assert.are.equal("0", support.sql(site, "SELECT count(*) FROM guides_keys WHERE hash = '"
      .. key .. "' OR hint = '" .. key .. "'"))
    local p = io.popen("printf %s '" .. key .. "' | sha256sum")
    local digest = p:read("a"):match("^(%x+)")
    p:close()
    assert.are.equal(digest,
      support.sql(site, "SELECT hash FROM guides_keys WHERE unit = 'invest'"))
    local list = b.iwm:get(C .. "/manage/keys").body
    assert.falsy(has(list, key))
    assert.truthy(has(list, key:sub(1, 7)))
    -- A webmaster may not make a key for another unit.
    assert.are.equal(422, b.iwm:post(C .. "/manage/keys", { unit = "talent", label = "x" }).status)
    assert.truthy(has(site:command("audit"), "guides.key.create"))
  end)

  it("imports JSON records with a good key, and updates them by case number", function()
    local records = {
      { case_no = "ZS2026001", item_name = "企业投资项目备案", applicant = "张三明",
        status = "办理中", received_on = "2026-11-02" },
      { case_no = "ZS2026002", item_name = "企业投资项目备案", applicant = "某某科技有限公司",
        status = "受理", received_on = "2026-11-03" },
    }
    local res, body = post(C .. "/api/cases", cjson.encode(records), "application/json", key)
    assert.are.equal(200, res.status, res.body)
    assert.are.equal(2, body.imported)
    records[1].status, records[1].finished_on, records[1].result = "办结", "2026-11-10", "准予备案"
    res, body = post(C .. "/api/cases", cjson.encode({ records[1] }), "application/json", key)
    assert.are.equal(1, body.imported, res.body)
    assert.are.same({ "办结", "2026-11-10", "invest" }, support.rows(site,
      "SELECT status, finished_on, unit FROM guides_cases WHERE case_no = 'ZS2026001'")[1])
    assert.are.equal("2", support.sql(site, "SELECT count(*) FROM guides_cases"))
  end)

  it("imports CSV with its header row, Chinese names and quoted fields", function()
    local csv = "\239\187\191办件编号,事项名称,申请人,办理状态,受理日期,办结日期,办理结果\r\n"
      .. 'ZS2026003,"外商投资企业设立备案",李四,不予受理,2026-11-04,2026-11-05,"材料不全,请补充"\r\n'
      .. "ZS2026004,企业投资项目备案,王五,补正,2026-11-06,,\r\n"
    local res, body = post(C .. "/api/cases", csv, "text/csv; charset=utf-8", key)
    assert.are.equal(200, res.status, res.body)
    assert.are.equal(2, body.imported)
    assert.are.equal("材料不全,请补充", support.sql(site,
      "SELECT result FROM guides_cases WHERE case_no = 'ZS2026003'"))
  end)

  it("refuses a missing or bad key (401), and another unit's cases", function()
    local one = cjson.encode({ { case_no = "X1", item_name = "事项", applicant = "赵六",
      status = "受理", received_on = "2026-11-01" } })
    local res, body = post(C .. "/api/cases", one, "application/json", nil)
    assert.are.equal(401, res.status)
    assert.truthy(has(body.error, "X-Guides-Key"))
    res = post(C .. "/api/cases", one, "application/json", key .. "x")
    assert.are.equal(401, res.status)
    -- The talent office's key cannot import cases for the investment bureau ...
    res, body = post(C .. "/api/cases", cjson.encode({ { case_no = "X1", item_name = "事项",
      applicant = "赵六", status = "受理", received_on = "2026-11-01", unit = "invest" } }),
      "application/json", other_key)
    assert.are.equal(400, res.status)
    assert.truthy(has(body.errors[1].message, "第 1 条：unit"), res.body)
    -- ... nor overwrite one of its cases.
    res, body = post(C .. "/api/cases", cjson.encode({ { case_no = "ZS2026001",
      item_name = "事项", applicant = "赵六", status = "受理", received_on = "2026-11-01" } }),
      "application/json", other_key)
    assert.are.equal(400, res.status)
    assert.truthy(has(body.errors[1].message, "已由招商局导入"), res.body)
    assert.are.equal("张三明", support.sql(site,
      "SELECT applicant FROM guides_cases WHERE case_no = 'ZS2026001'"))
    -- A revoked key is refused.
    local id = support.sql(site, "SELECT id FROM guides_keys WHERE unit = 'talent'")
    b.twm:get(C .. "/manage/keys")
    assert.are.equal(303, b.twm:post(C .. "/manage/keys/" .. id .. "/revoke", {}).status)
    assert.are.equal(401, post(C .. "/api/cases", one, "application/json", other_key).status)
  end)

  it("names a bad record and imports nothing", function()
    local records = {
      { case_no = "ZS2026010", item_name = "企业投资项目备案", applicant = "钱七",
        status = "受理", received_on = "2026-11-07" },
      { case_no = "ZS2026011", item_name = "企业投资项目备案", applicant = "孙八",
        status = "已完成", received_on = "2026-11-31" },
    }
    local res, body = post(C .. "/api/cases", cjson.encode(records), "application/json", key)
    assert.are.equal(400, res.status)
    assert.are.equal(0, body.imported)
    local text = res.body
    assert.truthy(has(text, "第 2 条：status"), text)
    assert.truthy(has(text, "第 2 条：received_on"), text)
    assert.are.equal("0", support.sql(site,
      "SELECT count(*) FROM guides_cases WHERE case_no = 'ZS2026010'"))
    local csv = "case_no,item_name,applicant,status,received_on\n"
      .. "ZS2026012,企业投资项目备案,周九,受理,2026-11-07\n"
      .. "ZS2026013,企业投资项目备案,,受理,2026-11-07\n"
    res, body = post(C .. "/api/cases", csv, "text/csv", key)
    assert.are.equal(400, res.status)
    assert.truthy(has(body.errors[1].message, "第 3 行：applicant（申请人）：不能为空"), res.body)
    assert.are.equal("0", support.sql(site,
      "SELECT count(*) FROM guides_cases WHERE case_no = 'ZS2026012'"))
    assert.are.equal(415, post(C .. "/api/cases", "x", "text/plain", key).status)
  end)

  it("takes the same file uploaded in the console by a unit's staff", function()
    local page = b.ied:get(C .. "/manage/cases")
    assert.are.equal(200, page.status, page.body)
    local csv = "case_no,item_name,applicant,status,received_on\n"
      .. "ZS2026020,企业投资项目备案,吴十,办理中,2026-11-08\n"
    local res = b.ied:post(C .. "/manage/cases", { unit = "invest" }, nil,
      { file = { { filename = "cases.csv", content_type = "text/csv", data = csv } } })
    assert.are.equal(200, res.status, res.body)
    assert.truthy(has(res.body, "已导入 1 条办件"), res.body)
    assert.truthy(has(res.body, "吴*"))
    -- A bad file: the error named, nothing imported.
    b.ied:get(C .. "/manage/cases")
    res = b.ied:post(C .. "/manage/cases", { unit = "invest" }, nil,
      { file = { { filename = "cases.json", content_type = "application/json",
                   data = '[{"case_no":"ZS2026021","item_name":"事项","applicant":"郑",'
                     .. '"status":"办结","received_on":"2026-11-08"}]' } } })
    assert.are.equal(422, res.status)
    assert.truthy(has(res.body, "第 1 条：办结日期：状态为办结时必须填写"), res.body)
    -- Not for another unit's staff.
    b.ted:get(C .. "/manage/cases")
    res = b.ted:post(C .. "/manage/cases", { unit = "invest" }, nil,
      { file = { { filename = "cases.csv", content_type = "text/csv", data = csv } } })
    assert.are.equal(403, res.status)
    assert.truthy(has(site:command("audit"), "guides.cases.upload"))
  end)

  it("shows a case when the number and the name both match, the name masked", function()
    local r = site:browser()
    local form = r:get(C .. "/cases")
    assert.are.equal(200, form.status)
    assert.truthy(has(form.body, 'name="_csrf"'))
    local res = r:post(C .. "/cases", { case_no = "ZS2026001", applicant = "张三明" })
    assert.are.equal(200, res.status, res.body)
    assert.truthy(has(res.body, '<strong class="state" id="case-status">办结</strong>'), res.body)
    assert.truthy(has(res.body, '<dd id="case-applicant">张*明</dd>'))
    assert.falsy(has(res.body, "张三明"))
    assert.truthy(has(res.body, "准予备案"))
    -- A wrong name and a wrong number get the same answer.
    local wrong_name = r:post(C .. "/cases", { case_no = "ZS2026001", applicant = "张三" })
    local wrong_no = r:post(C .. "/cases", { case_no = "ZS2099999", applicant = "张三明" })
    assert.are.equal(404, wrong_name.status)
    assert.are.equal(404, wrong_no.status)
    assert.truthy(has(wrong_name.body, "未找到匹配的办件"))
    assert.are.equal(wrong_name.body:match('<div class="alert".-</div>'),
      wrong_no.body:match('<div class="alert".-</div>'))
    assert.falsy(has(wrong_name.body, "办结"))
    -- A field left empty is said at the field, linked from the summary; the other stays.
    local empty = r:post(C .. "/cases", { case_no = "ZS2026001", applicant = " " })
    assert.are.equal(422, empty.status)
    assert.truthy(has(empty.body, '<a href="#f-applicant">申请人姓名或单位名称：请填写</a>'), empty.body)
    assert.truthy(has(empty.body, 'aria-invalid="true" aria-describedby="f-applicant-error"'))
    assert.truthy(has(empty.body, 'name="case_no" value="ZS2026001"'))
  end)

  it("answers 429 with Retry-After past the lookups allowed per hour", function()
    -- The previous test made 4 lookups from this address.
    local r = site:browser()
    r:get(C .. "/cases")
    local res = r:post(C .. "/cases", { case_no = "ZS2026002", applicant = "某某科技有限公司" })
    assert.are.equal(200, res.status, res.body)
    assert.truthy(has(res.body, "某******司"))
    res = r:post(C .. "/cases", { case_no = "ZS2026002", applicant = "某某科技有限公司" })
    assert.are.equal(429, res.status)
    assert.truthy(has(res.body, "查询过于频繁"))
    local wait = tonumber(res.headers["retry-after"])
    assert.truthy(wait and wait > 0 and wait <= 3600)
    assert.are.equal(tostring(LIMIT + 1), support.sql(site,
      "SELECT count FROM guides_rates WHERE kind = 'lookup'"))
  end)
end)
