-- The guides plugin through real HTTP with real sessions: an item cannot go
-- to review while one of the eight key elements is missing (named at its
-- field); it goes through the column's review chain, by the staff of its
-- own unit; every version is kept and two are compared field by field; the
-- public page shows the guide in table form; the catalogue's filters each
-- change what is listed; a withdrawn item leaves the page and the site's
-- search; the demo's items are loaded once into an empty demo column.
package.path = "plugins/guides/spec/?.lua;" .. package.path
local support = require("support")
local testing = require("park.testing")

local C = support.COLUMN
local has = support.has

describe("guides: the eight key elements", function()
  local site, b
  setup(function() site, b = support.start() end)
  teardown(function() site:stop() end)

  it("keeps a draft with elements missing, and names each one at its field on submission",
  function()
    local id = support.create(b.sed, support.guide("social", { address = "", steps = "",
      phone_complain = "", m_name_1 = "", m_copies_1 = "", m_form_1 = "" }))
    local res = b.sed:post(C .. "/manage/" .. id .. "/submit", {})
    assert.equal(422, res.status)
    -- Each message sits at its field, the field marked invalid and described by it.
    assert.truthy(res.body:find(
      'id="e%-address"><span class="q%-error">办理地点：请填写地址</span>'))
    assert.truthy(res.body:find('id="f%-address"[^>]*aria%-invalid="true"'))
    assert.truthy(has(res.body, "办理流程：请至少填写一个步骤"))
    assert.truthy(has(res.body, "联系电话：请填写投诉电话"))
    assert.truthy(has(res.body, "办理材料：请至少填写一项材料"))
    assert.truthy(has(res.body, '<a href="#f-address">办理地点：请填写地址</a>'))
    assert.equal("draft", support.sql(site,
      "SELECT state FROM guides_versions WHERE item_id = " .. id))
  end)

  it("refuses 承诺时限 longer than 法定时限 and an online link that is not https", function()
    local res = support.post_guide(b.sed, nil, support.guide("social", { legal_days = "5",
      promise_days = "8", online_url = "http://example.com/x" }))
    assert.equal(422, res.status)
    assert.truthy(has(res.body, "承诺时限：不能超过法定时限（5 个工作日）"))
    assert.truthy(has(res.body, "在线办理地址：应为以 https:// 开头的网址"))
  end)

  it("asks for the online link from 网办深度 三级 on", function()
    local res = support.post_guide(b.sed, nil, support.guide("social", { depth = "3",
      online_url = "", action = "submit" }))
    assert.equal(422, res.status)
    assert.truthy(has(res.body, "在线办理地址：网办深度为三级或四级时请填写在线办理的网址"))
  end)
end)

describe("guides: review, versions and the public page", function()
  local site, b
  setup(function()
    site, b = support.start({ chain = { "review", "leader" } }, {
      { path = "/search", title = "全站检索", kind = "static", unit = "center", plugin = "portal",
        config = { page = "search" } } })
  end)
  teardown(function() site:stop() end)

  it("goes through the unit's chain, keeps every version and compares two", function()
    local id = support.create(b.sed, support.guide("social"))
    support.act(b.sed, id, "submit")
    -- Nobody reviews their own text; another unit's reviewer may not.
    b.sed:get(C .. "/manage/" .. id)
    assert.equal(403, b.sed:post(C .. "/manage/" .. id .. "/decide",
      { decision = "approve" }).status)
    b.irv:get(C .. "/manage/" .. id)
    local refused = b.irv:post(C .. "/manage/" .. id .. "/decide", { decision = "approve" })
    assert.equal(403, refused.status)
    assert.truthy(has(refused.body, "社会事务局的审核员"))
    assert.equal(404, site:browser():get(C .. "/" .. id).status)
    support.act(b.srv, id, "decide", { decision = "approve" })
    assert.equal(404, site:browser():get(C .. "/" .. id).status)
    support.act(b.sld, id, "decide", { decision = "approve" })
    local page = site:browser():get(C .. "/" .. id)
    assert.equal(200, page.status)
    assert.truthy(has(page.body, "夫妻一方户籍在园区。"))
    -- A second version: written while the first stays public.
    local res = support.post_guide(b.sed, id, support.guide("social", { promise_days = "3",
      conditions = "夫妻双方或一方户籍在园区。" }))
    assert.equal(303, res.status)
    assert.truthy(has(site:browser():get(C .. "/" .. id).body, "夫妻一方户籍在园区。"))
    support.act(b.sed, id, "submit")
    support.act(b.srv, id, "decide", { decision = "return", comment = "请补充常见问题" })
    support.act(b.sed, id, "submit")
    support.act(b.srv, id, "decide", { decision = "approve" })
    support.act(b.sld, id, "decide", { decision = "approve" })
    page = site:browser():get(C .. "/" .. id)
    assert.truthy(has(page.body, "夫妻双方或一方户籍在园区。"))
    assert.truthy(has(page.body, "承诺时限 <strong>3</strong> 个工作日"))
    assert.equal("published,superseded", support.sql(site,
      "SELECT group_concat(state) FROM (SELECT state FROM guides_versions WHERE item_id = " .. id
      .. " ORDER BY number DESC)"))
    local staff = b.sed:get(C .. "/manage/" .. id)
    assert.truthy(has(staff.body, "请补充常见问题"))
    local cmp = b.srv:get(C .. "/manage/" .. id .. "/compare?a=1&b=2")
    assert.equal(200, cmp.status)
    assert.truthy(has(cmp.body, '<th scope="row">申请条件</th><td class="diff-old"><del>'
      .. '夫妻一方户籍在园区。</del></td><td class="diff-new"><ins>夫妻双方或一方户籍在园区。</ins></td>'))
    assert.truthy(has(cmp.body, '<th scope="row">承诺时限</th>'))
    assert.falsy(has(cmp.body, '<th scope="row">事项名称</th>'))
  end)

  it("lets a unit's editor write items of their own unit only; the center edits all", function()
    local id = support.create(b.ied, support.guide("invest", { name = "企业投资项目备案",
      objs = "法人", themes = "投资审批" }))
    assert.equal("invest", support.sql(site, "SELECT unit FROM guides_items WHERE id = " .. id))
    -- 社会事务局's editor may not change 招商局's item, nor write one for it.
    assert.equal(403, b.sed:get(C .. "/manage/" .. id .. "/edit").status)
    local res = support.post_guide(b.sed, nil, support.guide("invest"))
    assert.equal(422, res.status)
    assert.truthy(has(res.body, "责任单位：您没有“招商局”的编辑权限"))
    assert.equal(200, b.cwm:get(C .. "/manage/" .. id .. "/edit").status)
    -- 招商局's own reviewer reviews it, not 社会事务局's.
    support.act(b.ied, id, "submit")
    b.srv:get(C .. "/manage/" .. id)
    assert.equal(403, b.srv:post(C .. "/manage/" .. id .. "/decide",
      { decision = "approve" }).status)
    support.act(b.irv, id, "decide", { decision = "approve" })
    support.act(b.ild, id, "decide", { decision = "approve" })
    assert.equal(200, site:browser():get(C .. "/" .. id).status)
  end)

  it("shows the guide in table form with the time limits at the top, and a print view", function()
    local id = support.sql(site, "SELECT id FROM guides_items WHERE name = '生育登记'")
    local page = site:browser():get(C .. "/" .. id)
    for _, th in ipairs({ "事项名称", "设定依据", "申请条件", "办理材料", "办理地点", "办理时间",
                          "联系电话", "办理流程" }) do
      assert.truthy(has(page.body, '<th scope="row">' .. th .. "</th>"), th)
    end
    local top = page.body:match('<div class="guide%-key".-</div>')
    assert.truthy(has(top, "零跑动"))
    assert.truthy(has(top, "法定时限 <strong>5</strong> 个工作日"))
    assert.truthy(has(top, 'href="https://zwfw.example.gov.cn/demo/sydj"'))
    assert.truthy(page.body:find("更新日期：<time datetime=\"%d%d%d%d%-%d%d%-%d%d\">"))
    assert.truthy(has(page.body, '<a href="https://www.example.gov.cn/law" rel="external">'
      .. "《中华人民共和国人口与计划生育法》</a>"))
    assert.truthy(has(page.body, '<html lang="zh-CN"'))
    local print_view = site:browser():get(C .. "/" .. id .. "?print=1")
    assert.equal(200, print_view.status)
    assert.truthy(has(print_view.body, '<th scope="row">办理流程</th>'))
    assert.falsy(has(print_view.body, 'class="nav'))
  end)

  it("reports published items to the site's search and withdraws them", function()
    local id = support.sql(site, "SELECT id FROM guides_items WHERE name = '生育登记'")
    local found = site:browser():get("/search?q=" .. "%E7%94%9F%E8%82%B2%E7%99%BB%E8%AE%B0"
      .. "&kind=guide")
    assert.truthy(has(found.body, C .. "/" .. id))
    support.act(b.sld, id, "withdraw", { reason = "事项已取消" })
    assert.equal(404, site:browser():get(C .. "/" .. id).status)
    found = site:browser():get("/search?q=%E7%94%9F%E8%82%B2%E7%99%BB%E8%AE%B0&kind=guide")
    assert.falsy(has(found.body, C .. "/" .. id .. '"'))
  end)
end)

describe("guides: the catalogue", function()
  local site, b
  setup(function()
    site, b = support.start({ chain = { "review" } })
    local function pub(editor, reviewer, changes) support.publish(b, editor, reviewer,
      support.guide(changes.unit, changes)) end
    pub("sed", "srv", { unit = "social", name = "生育登记", objs = "个人", themes = "生育收养",
                        runs = "0" })
    pub("sed", "srv", { unit = "social", name = "公共租赁住房资格申请", objs = "个人",
                        themes = "住房保障", runs = "2", depth = "2", online_url = "" })
    pub("ied", "irv", { unit = "invest", name = "建设工程规划许可证核发", objs = "法人",
                        themes = "规划建设", runs = "2", depth = "2", online_url = "" })
    pub("ied", "irv", { unit = "invest", name = "高新技术企业认定申报受理", objs = "法人",
                        themes = "科技创新", runs = "1" })
  end)
  teardown(function() site:stop() end)

  local function names(path)
    local page = site:browser():get(path)
    assert.equal(200, page.status)
    local out = {}
    for n in page.body:gmatch('<h2 class="guides%-item%-name"><a href="[^"]+">([^<]+)</a>') do
      out[#out + 1] = n
    end
    table.sort(out)
    return table.concat(out, ","), page.body:match("共 <strong>(%d+)</strong> 个事项")
  end

  it("lists every published item with their count", function()
    local list, n = names(C)
    assert.equal("4", n)
    assert.equal("公共租赁住房资格申请,建设工程规划许可证核发,生育登记,高新技术企业认定申报受理", list)
  end)

  it("filters by 服务对象, theme, unit and 最多跑一次, each a plain link, combined", function()
    assert.equal("公共租赁住房资格申请,生育登记", (names(C .. "?obj=%E4%B8%AA%E4%BA%BA")))
    assert.equal("建设工程规划许可证核发", (names(C .. "?theme=%E8%A7%84%E5%88%92%E5%BB%BA%E8%AE%BE")))
    assert.equal("建设工程规划许可证核发,高新技术企业认定申报受理", (names(C .. "?unit=invest")))
    assert.equal("生育登记,高新技术企业认定申报受理", (names(C .. "?once=1")))
    local list, n = names(C .. "?unit=invest&once=1")
    assert.equal("高新技术企业认定申报受理", list)
    assert.equal("1", n)
    -- The page links each filter, keeping the others.
    local page = site:browser():get(C .. "?unit=invest")
    assert.truthy(has(page.body, 'href="' .. C .. '?unit=invest&amp;once=1"'))
    assert.truthy(has(page.body, 'action="/search"'))
  end)

  it("pages the results", function()
    local page = site:browser():get(C .. "?page=2")
    assert.equal(200, page.status)
    assert.truthy(has(page.body, "没有符合条件的事项。") or has(page.body, "guides-item-name"))
  end)
end)

describe("guides: the demo's items", function()
  it("loads the bundled items into an empty demo column once, published", function()
    -- The demo's forms are kept files (park.files.put): in a folder of our own.
    local files_dir = testing.tmpdir()
    local site = support.start({ demo = true, page_cache = true }, nil,
      { args = { "--files-dir", files_dir } })
    testing.eventually(function()
      return support.sql(site, "SELECT count(*) FROM guides_items WHERE published = 1") == "11"
    end, 10, "the demo items loaded")
    local page = site:browser():get(C)
    assert.truthy(has(page.body, "共 <strong>11</strong> 个事项"))
    assert.truthy(has(page.body, "招商局（4）"))
    assert.truthy(has(page.body, "人才办（3）"))
    -- The kept item page carries each browser's own CSRF token in its rating form.
    local id = support.sql(site, "SELECT id FROM guides_items WHERE name = '生育登记'")
    local tokens = {}
    for i = 1, 3 do
      local res = site:browser():get(C .. "/" .. id)
      assert.equal(200, res.status)
      assert.truthy(has(res.body, "好差评"))
      tokens[i] = res.body:match('name="_csrf" value="([^"]+)"')
      assert.truthy(tokens[i])
    end
    assert.are_not.equal(tokens[1], tokens[2])
    assert.are_not.equal(tokens[2], tokens[3])
    -- A form of the demo downloads as a PDF.
    local fid = support.sql(site, "SELECT min(id) FROM guides_files")
    local pdf = site:browser():get(C .. "/files/" .. fid)
    assert.equal(200, pdf.status)
    assert.equal("application/pdf", pdf.headers["content-type"])
    assert.equal("%PDF-", pdf.body:sub(1, 5))
    assert.truthy(pdf.body:find("%%%%EOF\n$"))
    local kept = support.sql(site, "SELECT file_id FROM guides_files WHERE id = " .. fid)
    local f = assert(io.open(files_dir .. "/guides/" .. kept, "rb"), "the form is a kept file")
    assert.equal(pdf.body, f:read("a"))
    f:close()
    -- A restart and a reload run the seed again: nothing more is loaded.
    site:reload()
    site:halt()
    site:restart()
    -- The seed runs soon after the start: give it time, then count.
    require("socket").sleep(1.5)
    assert.equal("11", support.sql(site, "SELECT count(*) FROM guides_items"))
    assert.equal(1, select(2, site:log():gsub("demo item%(s%) loaded", "")))
    site:stop()
    os.execute("rm -rf '" .. files_dir .. "'")
  end)
end)
