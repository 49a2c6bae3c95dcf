-- park.sched as plugins use it: jobs that fire on time, survive restarts
-- and crashes, run once when missed, retry with backoff, and run once even
-- with two servers on one database. The clock is moved by restarting the
-- server with --clock-offset-s, as a week passing would.
local testing = require("park.testing")
local cjson = require("cjson")

local FORM = { ["Content-Type"] = "application/x-www-form-urlencoded" }
local DAY = 86400

local function form(t)
  local parts = {}
  for k, v in pairs(t) do
    parts[#parts + 1] = k .. "=" .. tostring(v):gsub("[^%w%-%.: ]", function(c)
      return string.format("%%%02X", c:byte())
    end):gsub(" ", "+")
  end
  return table.concat(parts, "&")
end

-- Seconds as a flag's value (JSON numbers decode as floats).
local function secs(n)
  return string.format("%d", n)
end

local function start(args)
  local all = { "--jobs-poll-ms", "100" }
  for _, a in ipairs(args or {}) do all[#all + 1] = a end
  return testing.start_site({
    plugins = { "tests/fixtures/plugins" },
    bindings = { { column = "/chores", plugin = "chores" } },
    args = all,
  })
end

local function schedule(site, kind, t)
  local res = site:request("POST", "/chores/schedule/" .. kind, FORM, form(t))
  assert.are.equal(200, res.status, res.body)
  return cjson.decode(res.body).first
end

local function runs(site, job)
  local out = {}
  for _, r in ipairs(cjson.decode(site:request("GET", "/chores/runs").body)) do
    if not job or r.job == job then out[#out + 1] = r end
  end
  return out
end

local function job(site, name, key)
  return cjson.decode(site:request("GET", "/chores/job?name=" .. name .. "&key="
    .. (key or "")).body)
end

local function now(site)
  return cjson.decode(site:request("GET", "/chores/now").body).now
end

describe("park.sched", function()
  it("runs a job after N seconds, with its payload, once", function()
    local site = start()
    finally(function() site:stop() end)
    local t0 = now(site)
    local first = schedule(site, "after", { spec = 1, name = "note", text = "你好" })
    assert.is_true(first >= t0 + 1 and first <= t0 + 2)
    local got = testing.eventually(function() return runs(site, "note")[1] end, 5, "the run")
    assert.are.equal("你好", got.note)
    assert.are.equal(1, got.attempt)
    assert.is_true(got.ran_at >= first)
    site:wait_log_match("plugin chores: job note done in %d+ ms; nothing more scheduled")
    local j = job(site, "note")
    assert.are.equal("ok", j.last_status)
    assert.are.equal(1, j.runs)
    assert.is_nil(j.next_run)
    require("socket").sleep(0.5)
    assert.are.equal(1, #runs(site, "note"), "a one-shot job runs once")
  end)

  it("runs the jobs of one handler apart by key, and cancels one", function()
    local site = start()
    finally(function() site:stop() end)
    schedule(site, "after", { spec = 1, name = "note", key = "a", text = "A" })
    schedule(site, "after", { spec = 1, name = "note", key = "b", text = "B" })
    schedule(site, "after", { spec = 1, name = "note", key = "c", text = "C" })
    local res = site:request("POST", "/chores/cancel", FORM, form({ name = "note", key = "b" }))
    assert.is_true(cjson.decode(res.body).found)
    testing.eventually(function() return #runs(site, "note") >= 2 end, 5, "two runs")
    require("socket").sleep(0.3)
    local notes = {}
    for _, r in ipairs(runs(site, "note")) do notes[#notes + 1] = r.key .. "=" .. r.note end
    table.sort(notes)
    assert.are.same({ "a=A", "c=C" }, notes)
  end)

  it("fires a job set for next week next week, across a restart", function()
    local site = start()
    finally(function() site:stop() end)
    local t0 = now(site)
    local due = schedule(site, "at", { spec = "2026-12-05 09:00", name = "note", text = "week" })
    if due <= t0 then -- the machine's clock is past the date: use one a week ahead
      due = schedule(site, "at", { spec = secs(t0 + 7 * DAY), name = "note", text = "week" })
    end
    assert.are.equal(0, site:halt())
    -- A day before: nothing runs.
    site:restart({ "--clock-offset-s", secs(due - t0 - DAY) })
    require("socket").sleep(0.5)
    assert.are.same({}, runs(site, "note"))
    assert.are.equal(0, site:halt())
    -- An hour after (the server was down at the time): it runs at start, once.
    site:restart({ "--clock-offset-s", secs(due - t0 + 3600) })
    local got = testing.eventually(function() return runs(site, "note")[1] end, 5, "the run")
    assert.are.equal("week", got.note)
    assert.are.equal(due, got.due)
    require("socket").sleep(0.3)
    assert.are.equal(1, #runs(site, "note"))
  end)

  it("takes dates in the site's time zone, or with an explicit offset", function()
    local site = start()
    finally(function() site:stop() end)
    local a = schedule(site, "at", { spec = "2030-01-01 08:00", name = "note", key = "a" })
    local b = schedule(site, "at", { spec = "2030-01-01T00:00:00Z", name = "note", key = "b" })
    local c = schedule(site, "at", { spec = "2030-01-01 09:00:00+09:00", name = "note",
                                     key = "c" })
    assert.are.equal(1893456000, b)
    assert.are.equal(b, a) -- 08:00 in China is midnight UTC
    assert.are.equal(b, c)
  end)

  it("runs a recurring job missed while the server was down once, at start", function()
    local site = start()
    finally(function() site:stop() end)
    local hourly = job(site, "hourly")
    assert.is_true(hourly.declared)
    assert.are.equal("every", hourly.kind)
    local t0 = now(site)
    assert.are.equal(0, site:halt())
    -- Five hours later: five runs were missed; one runs.
    site:restart({ "--clock-offset-s", tostring(5 * 3600 + 60) })
    testing.eventually(function() return runs(site, "hourly")[1] end, 5, "the missed run")
    require("socket").sleep(0.5)
    local got = runs(site, "hourly")
    assert.are.equal(1, #got)
    assert.are.equal("declared", got[1].note)
    -- The next run keeps the job's phase and lies ahead.
    local after = job(site, "hourly")
    assert.is_true(after.next_run > t0 + 5 * 3600 + 60)
    assert.are.equal(0, (after.next_run - hourly.next_run) % 3600)
    -- A restart does not postpone a declared schedule.
    assert.are.equal(0, site:halt())
    site:restart({ "--clock-offset-s", tostring(5 * 3600 + 60) })
    assert.are.equal(after.next_run, job(site, "hourly").next_run)
  end)

  it("runs a start job soon after every start and reload, once each time", function()
    local site = start()
    finally(function() site:stop() end)
    testing.eventually(function() return runs(site, "boot")[1] end, 5, "the run at start")
    local b = job(site, "boot")
    assert.is_true(b.declared)
    assert.are.equal("after", b.kind)
    require("socket").sleep(0.5)
    assert.are.equal(1, #runs(site, "boot"))
    assert.are.equal("started", runs(site, "boot")[1].note)
    site:reload()
    testing.eventually(function() return #runs(site, "boot") == 2 end, 5, "the run at reload")
    assert.are.equal(0, site:halt())
    site:restart()
    testing.eventually(function() return #runs(site, "boot") == 3 end, 5, "the run at restart")
    require("socket").sleep(0.5)
    assert.are.equal(3, #runs(site, "boot"))
  end)

  it("runs a workday job on working days only: a holiday and a 调休 Saturday, across restarts",
    function()
    -- Seconds since the epoch of a local time in the site's zone (UTC+8).
    local function local_time(y, m, d, h, mi, sec)
      y = m <= 2 and y - 1 or y
      local era = y // 400
      local yoe = y - era * 400
      local doy = (153 * (m + (m > 2 and -3 or 9)) + 2) // 5 + d - 1
      local days = era * 146097 + yoe * 365 + yoe // 4 - yoe // 100 + doy - 719468
      return days * DAY + h * 3600 + mi * 60 + sec - 8 * 3600
    end
    -- Restart the server at 08:59:58 of a day; returns that day's 09:00.
    local site
    local function morning_of(y, m, d)
      local t = local_time(y, m, d, 8, 59, 58)
      if site then assert.are.equal(0, site:halt()) end
      if not site then
        site = start({ "--clock-offset-s", secs(t - os.time()) })
        local out, ok = site:command("calendar", "import", "demo/calendar-2026.txt")
        assert.is_true(ok, out)
      else
        site:restart({ "--clock-offset-s", secs(t - os.time()) })
      end
      return t + 2
    end
    finally(function() if site then site:stop() end end)
    local function runs_on(t) -- the runs due at t
      local n = 0
      for _, r in ipairs(runs(site, "workday")) do if r.due == t then n = n + 1 end end
      return n
    end
    -- Wednesday 2026-09-30, a working day: it runs.
    local wed = morning_of(2026, 9, 30)
    testing.eventually(function() return runs_on(wed) == 1 end, 5, "the run on 09-30")
    -- Thursday 2026-10-01, 国庆节: not run, said in the log.
    local thu = morning_of(2026, 10, 1)
    site:wait_log_match("job workday not run: the day it was due is not a working day; next run "
      .. "2026%-10%-02 09:00:00")
    assert.are.equal(0, runs_on(thu))
    -- Down through the holiday, up again on Thursday 2026-10-08 at 10:00: the
    -- run missed that morning runs once, for that working day.
    assert.are.equal(0, site:halt())
    local oct8 = local_time(2026, 10, 8, 9, 0, 0)
    site:restart({ "--clock-offset-s", secs(oct8 + 3600 - os.time()) })
    testing.eventually(function() return runs_on(oct8) == 1 end, 5, "the missed run of 10-08")
    -- Saturday 2026-10-10, 国庆节调休上班: Friday's run, missed while the
    -- server was down, runs once at start; then Saturday's runs.
    local sat = morning_of(2026, 10, 10)
    testing.eventually(function() return runs_on(sat) == 1 end, 5, "the run on 调休 10-10")
    -- Sunday 2026-10-11: not run; Monday 2026-10-12: runs.
    morning_of(2026, 10, 11)
    site:wait_log_match("next run 2026%-10%-12 09:00:00")
    local mon = morning_of(2026, 10, 12)
    testing.eventually(function() return runs_on(mon) == 1 end, 5, "the run on 10-12")
    local dues = {}
    for _, r in ipairs(runs(site, "workday")) do dues[#dues + 1] = r.due end
    table.sort(dues)
    assert.are.same({ wed, oct8, oct8 + DAY, sat, mon }, dues)
  end)

  it("runs a cron job at its minute in the site's time", function()
    local site = start()
    finally(function() site:stop() end)
    local morning = job(site, "morning")
    local t = os.date("!*t", morning.next_run + 8 * 3600) -- China time
    assert.are.equal(8, t.hour)
    assert.are.equal(0, t.min)
    assert.is_true(t.wday >= 2 and t.wday <= 6, "Monday to Friday")
    local t0 = now(site)
    assert.are.equal(0, site:halt())
    site:restart({ "--clock-offset-s", secs(morning.next_run - t0 + 30) })
    local got = testing.eventually(function() return runs(site, "morning")[1] end, 5, "the run")
    assert.are.equal(morning.next_run, got.due)
  end)

  it("retries a failing job with backoff, then gives up and says so", function()
    local site = start({ "--job-retries", "2", "--job-retry-base-s", "1" })
    finally(function() site:stop() end)
    schedule(site, "after", { spec = 0, name = "flaky", key = "always", fail = 99 })
    schedule(site, "after", { spec = 0, name = "flaky", key = "once", fail = 1 })
    local log = site:wait_log_match("job flaky%[always%] failed 3 times in a row, not retried", 10)
    assert.matches("job flaky%[always%] failed after %d+ ms, retried at", log)
    assert.matches("plugin%.lua:%d+: flaky failure 1", log)
    local always, once = {}, {}
    for _, r in ipairs(runs(site, "flaky")) do
      local list = r.key == "always" and always or once
      list[#list + 1] = r
    end
    assert.are.equal(3, #always)
    assert.is_true(always[2].ran_at - always[1].ran_at >= 1)
    assert.is_true(always[3].ran_at - always[2].ran_at >= 2, "the wait doubles")
    assert.are.equal(2, #once, "a job that recovers stops being retried")
    local j = job(site, "flaky", "always")
    assert.are.equal("failed", j.last_status)
    assert.matches("flaky failure 3", j.last_error)
    assert.is_nil(j.next_run)
    assert.are.equal("ok", job(site, "flaky", "once").last_status)
    local listed = site:command("jobs")
    assert.matches("chores%s+flaky%[always%].-failed", listed)
    assert.matches("last error: .-flaky failure 3", listed)
  end)

  it("stops a job over its budget and logs where it was", function()
    local site = start({ "--plugin-instructions", "100000", "--job-retries", "0" })
    finally(function() site:stop() end)
    schedule(site, "after", { spec = 0, name = "spin" })
    local log = site:wait_log_match("job spin was stopped 1 times in a row: it is stopped for good")
    assert.matches("instruction budget exceeded", log)
    assert.matches("chores/plugin%.lua:%d+", log)
    -- The site still answers.
    assert.are.equal(200, site:request("GET", "/chores/now").status)
  end)

  it("lets a job schedule the next one itself", function()
    local site = start()
    finally(function() site:stop() end)
    schedule(site, "after", { spec = 0, name = "chain", again = 1 })
    local got = testing.eventually(function() return runs(site, "note")[1] end, 5,
      "the chained run")
    assert.are.equal("chained", got.key)
  end)

  it("runs a job again when the server died while running it (at least once)", function()
    local site = start({ "--job-lease-s", "2" })
    finally(function() site:stop() end)
    schedule(site, "after", { spec = 0, name = "slow", ms = 60000 })
    testing.eventually(function() return runs(site, "slow")[1] end, 5, "the first start")
    site:kill()
    site:restart({ "--job-lease-s", "2" })
    -- Leased to the dead process until its lease ends, then run again.
    testing.eventually(function() return #runs(site, "slow") == 2 end, 6, "the second start")
    assert.are.equal(1, runs(site, "slow")[2].attempt, "a lost run is not a failed one")
  end)

  it("gives a waiting job back on a graceful stop, to run again at start", function()
    local site = start()
    finally(function() site:stop() end)
    schedule(site, "after", { spec = 0, name = "slow", ms = 60000 })
    testing.eventually(function() return runs(site, "slow")[1] end, 5, "the first start")
    assert.are.equal(0, site:halt())
    assert.matches("job slow stopped while it waited; it will run again", site:log())
    site:restart()
    -- Without the release, the default lease (300 s) would hold it.
    testing.eventually(function() return #runs(site, "slow") == 2 end, 5, "the run after restart")
  end)

  it("runs each due job once with two servers on one database", function()
    local one, two = start(), nil
    -- busted keeps one finally per test: it stops both.
    finally(function()
      if two then two:stop() end
      one:stop()
    end)
    two = testing.start_site({
      plugins = { "tests/fixtures/plugins" },
      bindings = { { column = "/chores", plugin = "chores" } },
      args = { "--jobs-poll-ms", "10", "--db", one.db_path },
    })
    for i = 1, 40 do
      schedule(i % 2 == 0 and one or two, "after", { spec = 1, name = "note", key = "k" .. i })
    end
    testing.eventually(function() return #runs(one, "note") >= 40 end, 10, "40 runs")
    require("socket").sleep(1)
    local seen = {}
    for _, r in ipairs(runs(one, "note")) do
      assert.is_nil(seen[r.key], "ran twice: " .. r.key)
      seen[r.key] = true
    end
    local by_one = select(2, one:log():gsub("job note%[k%d+%] done", ""))
    local by_two = select(2, two:log():gsub("job note%[k%d+%] done", ""))
    assert.are.equal(40, by_one + by_two)
  end)

  it("keeps the lease of a job that waits longer than a lease, so no one runs it twice",
    function()
    local one, two = start({ "--job-lease-s", "1" }), nil
    finally(function()
      if two then two:stop() end
      one:stop()
    end)
    two = testing.start_site({
      plugins = { "tests/fixtures/plugins" },
      bindings = { { column = "/chores", plugin = "chores" } },
      args = { "--jobs-poll-ms", "50", "--job-lease-s", "1", "--db", one.db_path },
    })
    schedule(one, "after", { spec = 0, name = "slow", ms = 3500 })
    testing.eventually(function()
      local r = runs(one, "slow")
      return r[#r] and r[#r].note == "end"
    end, 8, "the end of the slow job")
    require("socket").sleep(0.3)
    local notes = {}
    for _, r in ipairs(runs(one, "slow")) do notes[#notes + 1] = r.note end
    assert.are.same({ "start", "end" }, notes)
  end)

  it("schedules inside a transaction: the job commits or rolls back with it", function()
    local site = start()
    finally(function() site:stop() end)
    local res = site:request("POST", "/chores/in-transaction", FORM, form({ key = "kept" }))
    assert.is_true(cjson.decode(res.body).committed)
    res = site:request("POST", "/chores/in-transaction", FORM, form({ key = "gone", raise = 1 }))
    assert.is_false(cjson.decode(res.body).committed)
    assert.are.equal("after", job(site, "note", "kept").kind)
    assert.is_true(job(site, "note", "gone").none)
  end)

  it("refuses misuse with a clear error", function()
    local site = start()
    finally(function() site:stop() end)
    local out = cjson.decode(site:request("GET", "/chores/misuse").body)
    assert.matches("no job handler 'nosuch': name it in the manifest's jobs table", out.unknown)
    assert.matches("field 1 %(minute%): 61 is out of range 0%-59", out.cron)
    assert.matches("'next tuesday' is not a time", out.time)
    assert.matches("cannot be stored as JSON", out.payload)
    assert.matches("at most 65536 %(job%-payload%-bytes%)", out.big)
    assert.matches("every 1 to", out.negative)
  end)

  it("keeps park.now and os.time on the park clock", function()
    local site = start({ "--clock-offset-s", tostring(400 * DAY) })
    finally(function() site:stop() end)
    local t = cjson.decode(site:request("GET", "/chores/now").body)
    assert.is_true(math.abs(t.now - (os.time() + 400 * DAY)) <= 2)
    assert.is_true(math.abs(t.os_time - t.now) <= 1)
    assert.are.equal(os.date("!%Y", os.time() + 400 * DAY), t.year)
  end)

  it("gives os.date and os.time in the site's zone (utc-offset-min), whatever TZ says", function()
    local site
    finally(function() if site then site:stop() end end)
    for _, zone in ipairs({ { "480", "1970-01-01 08:00", 8, 0 },
                            { "-300", "1969-12-31 19:00", 19, 13 * 3600 } }) do
      site = start({ "--utc-offset-min", zone[1] })
      local t = cjson.decode(site:request("GET", "/chores/now").body)
      site:stop()
      site = nil
      assert.are.equal(zone[2], t.local_epoch)
      assert.are.equal("00:00", t.utc_epoch)
      assert.are.equal(zone[3], t.local_hour)
      assert.are.equal(zone[4], t.eight_am)
      -- Month 13 of 2026 is January 2027, at midnight in the site's zone.
      assert.are.equal(1798761600 - tonumber(zone[1]) * 60, t.carried)
    end
  end)
end)
