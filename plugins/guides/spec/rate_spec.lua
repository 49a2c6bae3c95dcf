-- guides: 好差评 on an item page (the service half, SERVICE.md): one rating
-- per visitor, a bad rating opens a follow-up due in working days, the
-- unit answers it in public, comments are shown only once approved, and
-- the statistics page adds it all up.
package.path = "plugins/guides/spec/?.lua;" .. package.path
local support = require("service_support")

local has = support.has
local C = support.COLUMN

describe("guides: ratings of a service (好差评)", function()
  local site, b, item, other
  setup(function()
    -- The item page kept in its cache: the rating block is still made per request.
    site, b = support.start({ followup_days = 3, page_cache = true })
    item = support.item(site, "企业投资项目备案", "invest")
    other = support.item(site, "人才公寓申请", "talent")
  end)
  teardown(function() if site then assert.are.equal(0, site:stop()) end end)

  it("shows the rating form on the item page, with the five labels", function()
    local res = site:browser():get(C .. "/" .. item)
    assert.are.equal(200, res.status)
    -- The core half's item page, in the site's layout, with the block in it.
    assert.truthy(has(res.body, "跳到主要内容"))
    assert.truthy(has(res.body, "企业投资项目备案"))
    assert.truthy(has(res.body, 'id="rating"'), res.body)
    for _, label in ipairs({ "非常不满意", "不满意", "基本满意", "满意", "非常满意" }) do
      assert.truthy(has(res.body, label), label)
    end
    assert.truthy(has(res.body, 'action="' .. C .. '/rate/' .. item .. '"'))
    assert.truthy(has(res.body, 'name="_csrf"'))
    assert.truthy(has(res.body, '<legend>您对“企业投资项目备案”这项服务的评价</legend>'))
    assert.truthy(has(res.body, '<label for="rating-stars-1">非常满意（5 星）</label>'))
    assert.truthy(has(res.body, '<label for="rating-comment">评价内容（选填）</label>'))
    assert.truthy(has(res.body, "暂无评价"))
  end)

  it("takes one rating per visitor: a second is refused and stores nothing", function()
    local res, browser = support.rate(site, item, 5, "")
    assert.are.equal(303, res.status, res.body)
    assert.matches(C .. "/" .. item .. "%?rated=1", res.headers.location)
    local page = browser:get(res.headers.location:gsub("#.*", ""))
    assert.truthy(has(page.body, "感谢您的评价"), page.body)
    assert.truthy(has(page.body, "您已评价这项服务：非常满意"))
    local again = browser:post(C .. "/rate/" .. item, { stars = "1", comment = "再来一次" })
    assert.are.equal(409, again.status)
    assert.truthy(has(again.body, "您已经评价过这项服务"))
    assert.are.equal("1", support.sql(site, "SELECT count(*) FROM guides_ratings WHERE item_id = "
      .. item))
    assert.are.equal("0", support.sql(site, "SELECT count(*) FROM guides_followups"))
    -- Another browser is another visitor.
    local second = support.rate(site, item, 4, "")
    assert.are.equal(303, second.status)
    assert.are.equal("2", support.sql(site, "SELECT count(*) FROM guides_ratings WHERE item_id = "
      .. item))
    -- A rating that is no value of the scale is refused.
    local bad = support.rate(site, item, 9, "")
    assert.are.equal(422, bad.status)
    assert.truthy(has(bad.body, "这项服务的评价：请从列表中选择"), bad.body)
    bad = support.rate(site, item, "", "")
    assert.are.equal(422, bad.status)
    assert.truthy(has(bad.body, "这项服务的评价：请选择"), bad.body)
    bad = support.rate(site, item, 5, ("长"):rep(501))
    assert.are.equal(422, bad.status)
    assert.truthy(has(bad.body, "评价内容：最多 500 个字，现有 501 个字"), bad.body)
    assert.truthy(has(site:browser():get(C .. "/" .. item).body, "平均评分 <strong>4.5</strong>"))
  end)

  it("opens a follow-up for a 1-2 star rating, due in working days, across a holiday",
    function()
      local today = support.today()
      -- The next working day becomes a holiday: the deadline moves by one.
      local next_day = support.add_days(site, today, 1)
      local before = support.add_days(site, today, 3)
      local _, ok = site:command("calendar", "set", next_day, "holiday", "测试假日")
      assert.truthy(ok)
      local due = support.add_days(site, today, 3)
      assert.are_not.equal(before, due)
      local res = support.rate(site, other, 1, "材料要求不清楚，跑了三次")
      assert.are.equal(303, res.status, res.body)
      assert.matches("rated=2", res.headers.location)
      local row = support.rows(site, "SELECT f.unit, f.due, f.opened_on FROM guides_followups f"
        .. " WHERE f.item_id = " .. other)[1]
      assert.are.same({ "talent", due, today }, row)
      -- In the talent office's queue, not in the investment bureau's.
      local q = b.ted:get(C .. "/manage/ratings")
      assert.are.equal(200, q.status, q.body)
      assert.truthy(has(q.body, "人才公寓申请"))
      assert.truthy(has(q.body, "整改期限：" .. due))
      assert.falsy(has(q.body, "已超期"))
      assert.falsy(has(b.ied:get(C .. "/manage/ratings").body, "人才公寓申请"))
      -- The center sees every unit's.
      assert.truthy(has(b.cwm:get(C .. "/manage/ratings").body, "人才公寓申请"))
      site:command("calendar", "clear", next_day)
    end)

  it("publishes the unit's answer next to the rating, on the item page", function()
    local fid = support.sql(site, "SELECT id FROM guides_followups WHERE item_id = " .. other)
    -- Another unit's staff may not answer it.
    b.ied:get(C .. "/manage/ratings")
    local refused = b.ied:post(C .. "/manage/followups/" .. fid .. "/answer",
      { answer = "不是我们的事项" })
    assert.are.equal(403, refused.status)
    b.ted:get(C .. "/manage/ratings")
    local res = b.ted:post(C .. "/manage/followups/" .. fid .. "/answer",
      { answer = "已在指南中补充材料样表，并开通网上预审。" })
    assert.are.equal(303, res.status, res.body)
    local page = site:browser():get(C .. "/" .. other)
    assert.truthy(has(page.body, "已在指南中补充材料样表，并开通网上预审。"), page.body)
    assert.truthy(has(page.body, "人才办整改情况"))
    -- The comment is still waiting for moderation: not shown.
    assert.falsy(has(page.body, "材料要求不清楚"))
    assert.truthy(has(site:command("audit"), "guides.followup.answer"))
  end)

  it("shows a comment only once staff approved it; the stars count at once", function()
    support.rate(site, item, 3, "窗口人员态度好，但排队时间长")
    local page = site:browser():get(C .. "/" .. item)
    assert.falsy(has(page.body, "窗口人员态度好"))
    assert.truthy(has(page.body, "共 <strong>3</strong> 人评价"), page.body)
    local rid = support.sql(site, "SELECT id FROM guides_ratings WHERE comment LIKE '窗口%'")
    local q = b.ied:get(C .. "/manage/ratings")
    assert.truthy(has(q.body, "窗口人员态度好"))
    -- The talent office may not moderate the investment bureau's item.
    b.ted:get(C .. "/manage/ratings")
    assert.are.equal(403, b.ted:post(C .. "/manage/ratings/" .. rid .. "/moderate",
      { decision = "approve" }).status)
    local res = b.ied:post(C .. "/manage/ratings/" .. rid .. "/moderate", { decision = "approve" })
    assert.are.equal(303, res.status, res.body)
    assert.truthy(has(site:browser():get(C .. "/" .. item).body, "窗口人员态度好"))
    -- Hidden again: gone from the page.
    b.ied:get(C .. "/manage/ratings")
    b.ied:post(C .. "/manage/ratings/" .. rid .. "/moderate", { decision = "hide" })
    assert.falsy(has(site:browser():get(C .. "/" .. item).body, "窗口人员态度好"))
    assert.truthy(has(site:command("audit"), "guides.rating.hide"))
  end)

  it("marks an overdue follow-up 已超期 in the queue", function()
    local res = support.rate(site, item, 2, "")
    assert.are.equal(303, res.status)
    support.exec(site, "UPDATE guides_followups SET due = '2020-01-02', opened_on = '2019-12-30'"
      .. " WHERE item_id = " .. item .. " AND answered_at IS NULL")
    local q = b.ied:get(C .. "/manage/ratings")
    assert.truthy(has(q.body, "已超期"), q.body)
    assert.truthy(has(q.body, "整改期限：2020-01-02"))
  end)

  it("adds it up on the public statistics page, per unit and per item", function()
    local res = site:browser():get(C .. "/stats")
    assert.are.equal(200, res.status)
    local body = res.body
    assert.truthy(has(body, "<caption>按责任单位统计</caption>"))
    assert.truthy(has(body, '<th scope="col">平均评分</th>'))
    -- 企业投资项目备案 (invest): 5, 4, 3, 2 -> 4 ratings, 3.5, 25%, one follow-up overdue.
    local inv = body:match('<tr data%-unit="invest">(.-)</tr>')
    assert.truthy(inv, body)
    assert.truthy(has(inv, '<td class="count">4</td>'), inv)
    assert.truthy(has(inv, '<td class="average">3.5</td>'), inv)
    assert.truthy(has(inv, '<td class="bad">25.0%</td>'), inv)
    assert.truthy(has(inv, '<td class="overdue">1</td>'), inv)
    -- 人才公寓申请 (talent): one 1-star rating, answered on time.
    local tal = body:match('<tr data%-item="' .. other .. '">(.-)</tr>')
    assert.truthy(has(tal, '<td class="count">1</td>'), tal)
    assert.truthy(has(tal, '<td class="bad">100.0%</td>'), tal)
    assert.truthy(has(tal, '<td class="on-time">1</td>'), tal)
    local total = body:match('<tr data%-unit="%*">(.-)</tr>')
    assert.truthy(has(total, '<td class="count">5</td>'), total)
    assert.truthy(has(body, 'id="stats-updated" datetime="' .. support.today() .. '"'), body)
  end)

  it("gives the monitor the items with follow-ups overdue (SERVICE.md's query)", function()
    local rows = support.rows(site, ([[SELECT i.id, i.col, i.name, f.unit, count(*) AS overdue,
        min(f.due) AS oldest_due
      FROM guides_followups f JOIN guides_items i ON i.id = f.item_id
      WHERE f.answered_at IS NULL AND f.due < '%s' GROUP BY i.id ORDER BY oldest_due]])
      :format(support.today()))
    assert.are.same({ { tostring(item), C, "企业投资项目备案", "invest", "1", "2020-01-02" } }, rows)
  end)
end)
