-- Working days by the park's calendar, across the Spring Festival and the
-- National Day weeks with their worked weekends (调休). The holidays below
-- are test data set by the spec, in the shape of a real year's schedule.
local testing = require("park.testing")

describe("park.calendar", function()
  local site

  local function get(path) return site:request("GET", "/deadline" .. path) end
  local function add(date, n) return get(("/add?date=%s&n=%d"):format(date, n)).body end
  local function is(date) return get("/is?date=" .. date).body == "true" end
  local function between(a, b) return tonumber(get(("/between?a=%s&b=%s"):format(a, b)).body) end

  setup(function()
    site = testing.start_site({
      plugins = { "tests/fixtures/plugins" },
      bindings = { { column = "/deadline", plugin = "deadline" } },
    })
    local days = {
      { "2026-02-14", "workday", "春节调休" }, { "2026-02-16", "holiday", "春节" },
      { "2026-02-17", "holiday", "春节" }, { "2026-02-18", "holiday", "春节" },
      { "2026-02-19", "holiday", "春节" }, { "2026-02-20", "holiday", "春节" },
      { "2026-02-23", "holiday", "春节" }, { "2026-02-28", "workday", "春节调休" },
      { "2026-09-27", "workday", "国庆调休" }, { "2026-10-01", "holiday", "国庆节" },
      { "2026-10-02", "holiday", "国庆节" }, { "2026-10-05", "holiday", "国庆节" },
      { "2026-10-06", "holiday", "国庆节" }, { "2026-10-07", "holiday", "国庆节" },
      { "2026-10-10", "workday", "国庆调休" },
    }
    for _, d in ipairs(days) do
      local out, ok = site:command("calendar", "set", d[1], d[2], d[3])
      assert(ok, out)
    end
  end)

  teardown(function()
    assert.are.equal(0, site:stop())
  end)

  it("knows weekdays, weekends, holidays and worked weekends", function()
    assert.is_true(is("2026-02-13"))  -- a Friday
    assert.is_false(is("2026-02-15")) -- a Sunday
    assert.is_false(is("2026-02-16")) -- 春节
    assert.is_true(is("2026-02-14"))  -- a Saturday worked instead
  end)

  it("adds working days across the Spring Festival", function()
    assert.are.equal("2026-02-14", add("2026-02-13", 1))
    assert.are.equal("2026-02-24", add("2026-02-14", 1))
    assert.are.equal("2026-02-26", add("2026-02-12", 5))
    assert.are.equal("2026-02-14", add("2026-02-24", -1))
    assert.are.equal("2026-02-12", add("2026-02-12", 0))
  end)

  it("adds working days across the National Day week", function()
    assert.are.equal("2026-10-08", add("2026-09-30", 1))
    assert.are.equal("2026-09-27", add("2026-09-25", 1))
    -- A letter received on 29 September, due in five working days.
    assert.are.equal("2026-10-12", add("2026-09-29", 5))
  end)

  it("counts the working days between two dates", function()
    assert.are.equal(6, between("2026-02-13", "2026-02-28"))
    assert.are.equal(-6, between("2026-02-28", "2026-02-13"))
    assert.are.equal(3, between("2026-09-30", "2026-10-10"))
    assert.are.equal(0, between("2026-10-01", "2026-10-01"))
    -- All of 2026 and 1 January 2027: 262 weekdays, less the 11 weekday
    -- holidays above, plus the 4 worked weekend days.
    assert.are.equal(255, between("2025-12-31", "2027-01-01"))
  end)

  it("sees the center's edits at once", function()
    assert.are.equal("2026-10-10", add("2026-10-09", 1))
    local out, ok = site:command("calendar", "clear", "2026-10-10")
    assert(ok, out)
    assert.are.equal("2026-10-12", add("2026-10-09", 1))
    local listed = site:command("calendar", "list", "2026")
    assert.matches("2026%-10%-01  holiday  国庆节", listed)
    assert.falsy(listed:find("2026-10-10", 1, true))
  end)

  it("refuses a date that does not exist, naming it", function()
    local res = get("/add?date=2026-02-30&n=1")
    assert.are.equal(500, res.status)
    site:wait_log_match("rid=" .. res.headers["x-request-id"]
      .. "[^\n]*'2026%-02%-30' is not a date")
    local out, ok = site:command("calendar", "set", "2026-02-30", "holiday", "x")
    assert.is_false(ok)
    assert.matches("is not a date", out)
  end)
end)

describe("the calendar file and the console's 工作日历", function()
  local site, admin

  setup(function()
    site = testing.start_site({
      plugins = { "tests/fixtures/plugins" },
      bindings = { { column = "/deadline", plugin = "deadline" } },
    })
    site:add_user("root", "center", "admin", "管理员", "correct horse battery")
    admin = site:browser():login("root", "correct horse battery")
  end)

  teardown(function()
    assert.are.equal(0, site:stop())
  end)

  local function add(date, n)
    return site:request("GET", ("/deadline/add?date=%s&n=%d"):format(date, n)).body
  end
  local function listed(year)
    local out = site:command("calendar", "list", year)
    local n = 0
    for _ in out:gmatch("\n") do n = n + 1 end
    return n
  end

  it("imports the demo park's 2026 file from the State Council's notice", function()
    local out, ok = site:command("calendar", "import", "demo/calendar-2026.txt")
    assert.is_true(ok, out)
    assert.truthy(out:find("39 day(s)", 1, true), out)
    assert.truthy(out:find("国务院办公厅关于2026年部分节假日安排的通知", 1, true), out)
    -- Five working days after 30 September: 8, 9, 10 (a worked Saturday), 12, 13 October.
    assert.are.equal("2026-10-13", add("2026-09-30", 5))
    -- Across the Spring Festival: 13 February, then the worked Saturday the 14th,
    -- then nothing until the 24th.
    assert.are.equal("2026-02-24", add("2026-02-12", 3))
    -- Importing it again changes nothing.
    local again
    out, again = site:command("calendar", "import", "demo/calendar-2026.txt")
    assert.is_true(again, out)
    assert.are.equal(39, listed("2026"))
  end)

  it("imports nothing from a file with one bad line, and names the line", function()
    local path = site.dir .. "/bad.txt"
    local f = assert(io.open(path, "w"))
    f:write("source: 测试\n2027-01-01 holiday 元旦\n2027-02-30 holiday 不存在的日子\n")
    f:close()
    local out, ok = site:command("calendar", "import", path)
    assert.is_false(ok)
    assert.truthy(out:find("第 3 行", 1, true), out)
    assert.truthy(out:find("nothing was imported", 1, true), out)
    assert.are.equal(0, listed("2027"))
  end)

  it("lets the center keep the calendar in the console: a day, a file, audited", function()
    local page = admin:get("/admin/calendar?year=2026")
    assert.are.equal(200, page.status)
    assert.truthy(page.body:find("国庆节", 1, true))
    -- 8 October becomes a holiday: the deadline moves a day, at once.
    assert.are.equal(303, admin:post("/admin/calendar",
      { day = "2026-10-08", kind = "holiday", name = "测试假日" }).status)
    assert.are.equal("2026-10-14", add("2026-09-30", 5))
    -- And back to an ordinary day.
    assert.are.equal(303, admin:post("/admin/calendar", { day = "2026-10-08", kind = "" }).status)
    assert.are.equal("2026-10-13", add("2026-09-30", 5))
    -- A file pasted in: all its days; a bad one: none, with the line.
    local res = admin:post("/admin/calendar/import",
      { file = "source: 测试通知\n2027-01-01..2027-01-03 holiday 元旦\n" })
    assert.are.equal(200, res.status)
    assert.truthy(res.body:find("已导入 3 天", 1, true), res.body)
    res = admin:post("/admin/calendar/import", { file = "2027-05-01 holiday 劳动节\n" })
    assert.are.equal(422, res.status)
    assert.truthy(res.body:find("缺少 source: 行", 1, true))
    assert.are.equal(3, listed("2027"))
    local audit = admin:get("/admin/audit").body
    assert.truthy(audit:find("修改工作日历", 1, true))
    assert.truthy(audit:find("导入工作日历", 1, true))
  end)
end)
