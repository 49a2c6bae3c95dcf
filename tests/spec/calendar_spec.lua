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
    site:wait_log("rid=" .. res.headers["x-request-id"] .. "[^\n]*'2026%-02%-30' is not a date")
    local out, ok = site:command("calendar", "set", "2026-02-30", "holiday", "x")
    assert.is_false(ok)
    assert.matches("is not a date", out)
  end)
end)
