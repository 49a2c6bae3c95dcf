-- Deadlines in working days: a due date across a holiday, the daily job's
-- warnings (before the due date, overdue) after a restart days later, no
-- warning while an extension is in force, and the 互动回应差 flag on a
-- letter left unanswered for 3 months.
package.path = "plugins/letters/spec/?.lua;" .. package.path
local support = require("support")

local has, act = support.has, support.act

local COLUMNS = {
  { path = "/zrxx", title = "主任信箱", config = { type = "主任信箱", deadline_days = 5,
    max_extension = 30, chain = { "review" }, rate_limit = 100 } },
  { path = "/jy", title = "建议", config = { type = "建议", deadline_days = 12, warn_days = 10 } },
  { path = "/zc", title = "我为政府网站找错", config = { type = "找错" } },
}

-- Whole days from the date a to the date b (YYYY-MM-DD).
local function days_between(a, b)
  local function t(d)
    local y, m, dd = d:match("^(%d+)%-(%d+)%-(%d+)$")
    return os.time({ year = tonumber(y), month = tonumber(m), day = tonumber(dd), hour = 12 })
  end
  return math.floor((t(b) - t(a)) / 86400 + 0.5)
end

describe("letters' deadlines", function()
  local site, b
  setup(function() site, b = support.start(COLUMNS) end)
  teardown(function() assert.are.equal(0, site:stop()) end)

  it("counts working days across a holiday, warns after a restart days later,"
    .. " not during an extension, and flags 3 months unanswered", function()
    local today = support.today()
    -- A week of holidays from tomorrow (as a 国庆 week would be).
    for i = 1, 7 do
      local _, ok = site:command("calendar", "set", support.today(i), "holiday", "测试假期")
      assert.truthy(ok)
    end
    local res, _, _, due = support.write(site, "/zc", { url = "/zrxx", title = "错别字",
      body = "首页第三段有错别字。" })
    assert.are.equal(200, res.status, res.body:match('<div class="alert".-</div>'))
    assert.are.equal(support.add_days(site, today, 3), due)
    assert.truthy(due > support.today(7), "3 working days after the holidays: " .. due)
    assert.truthy(days_between(today, due) >= 10, due)

    -- A: at 招商局, accepted. B: the same, with 30 working days' extension
    -- approved. C: left at the dispatcher. D: a 建议 due in 12 working days.
    local letters = {}
    for _, name in ipairs({ "A", "B", "C" }) do
      local _, code = support.write(site, "/zrxx", { name = "写信人" .. name,
        contact = "1380000000" .. #letters, title = "期限测试信件" .. name,
        body = "这是期限测试的信件" .. name .. "。" })
      letters[name] = support.id_of(site, code)
    end
    local _, dcode, _, ddue = support.write(site, "/jy", { name = "写信人D", contact = "13800001111",
      title = "期限测试信件D", body = "这是期限测试的建议信件。" })
    letters.D = support.id_of(site, dcode)
    for _, name in ipairs({ "A", "B" }) do
      local m = "/zrxx/manage/" .. letters[name]
      act(b.cd, m .. "/assign", { unit = "invest" })
      act(b.ied, m .. "/accept")
    end
    local mb = "/zrxx/manage/" .. letters.B
    act(b.ied, mb .. "/extend", { days = "30", reason = "需要多个部门会商" })
    -- The leader's approval: the due date moves by 30 working days.
    local due_a = b.ied:get("/zrxx/manage/" .. letters.A).body:match('id="due">([%d-]+)<')
    assert.are.equal(support.add_days(site, today, 5), due_a)
    act(b.ild, mb .. "/extension", { decision = "approve", comment = "同意" })
    local due_b = b.ied:get(mb).body:match('id="due">([%d-]+)<')
    assert.are.equal(support.add_days(site, due_a, 30), due_b)

    -- The day after A's due date: A and C overdue, D soon, B quiet.
    local later = days_between(today, due_a) + 1
    assert.truthy(support.today(later) < ddue and support.today(later) < due_b)
    site:halt()
    site:restart({ "--clock-offset-s", tostring(later * 86400) })
    local log = site:wait_log_match("letters: %d+ warning%(s%) made", 10)
    assert.truthy(log, "the job ran at the start")
    for _, name in ipairs({ "A", "C" }) do
      assert.truthy(log:find("letters warning overdue: letter " .. letters[name] .. " "), name)
    end
    assert.truthy(log:find("letters warning soon: letter " .. letters.D .. " "), "D")
    assert.falsy(log:find("letters warning %a+: letter " .. letters.B .. " "),
      "no warning during the extension")
    assert.truthy(log:find("letters channel log: to unit:invest: 信件“期限测试信件A”", 1, true))
    -- On the console queue of the unit's webmaster and leaders.
    support.relogin(site, b)
    local page = b.iwm:get("/zrxx/manage/warnings").body
    assert.truthy(has(page, "期限测试信件A"))
    assert.truthy(has(page, "已逾期"))
    assert.falsy(has(page, "期限测试信件B"))
    assert.falsy(has(page, "期限测试信件C"), "the center's, not 招商局's")
    assert.truthy(has(b.cwm:get("/zrxx/manage/warnings").body, "期限测试信件C"))
    assert.truthy(has(b.ild:get("/zrxx/manage/warnings").body, "期限测试信件A"))
    assert.are.equal(403, b.ied:get("/zrxx/manage/warnings").status)
    assert.truthy(has(b.ied:get("/zrxx/manage").body, "已逾期"))
    -- Once per letter and due date: a second run adds nothing.
    assert.are.equal("1", support.sql(site, "SELECT count(*) FROM letters_warnings WHERE"
      .. " letter_id = " .. letters.A .. " AND kind = 'overdue'"))

    -- 100 days later: everything unanswered is overdue, and flagged.
    site:halt()
    site:restart({ "--clock-offset-s", tostring(100 * 86400) })
    log = site:wait_log_match("互动回应差: letter " .. letters.D .. " ", 10)
    assert.truthy(log, "the 3-month flag")
    for _, name in ipairs({ "A", "B", "C", "D" }) do
      assert.truthy(log:find("letters risk 互动回应差: letter " .. letters[name] .. " ", 1, true),
        name)
    end
    assert.truthy(log:find("letters warning overdue: letter " .. letters.B .. " "),
      "B overdue after its extension")
    support.relogin(site, b)
    assert.truthy(has(b.ied:get("/zrxx/manage/" .. letters.A).body, "互动回应差风险"))
    page = b.cwm:get("/zrxx/manage/warnings").body
    assert.truthy(has(page, "互动回应差风险"))
    assert.are.equal("1", support.sql(site, "SELECT risk FROM letters_letters WHERE id = "
      .. letters.A))
  end)
end)
