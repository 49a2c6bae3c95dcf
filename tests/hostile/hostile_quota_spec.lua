-- luacheck: std +busted, read globals PARKHOST_BIN
-- Busy loops made of waits: `while true do park.sleep(0) end` never runs
-- out of its instruction budget (each turn waits), so only the plugin's CPU
-- quota (plugin-cpu-percent of one core over plugin-cpu-window-s) stops
-- it: the running request gets 503 "CPU quota exceeded", new requests 503
-- with Retry-After; a plugin that keeps at it goes into maintenance. Meanwhile every
-- other column keeps answering within PROBE_MS. A job that burns CPU is
-- stopped the same way, marked failed, and not run again, not even after
-- a restart. A small site of its own, with a small quota: 20 % over 2 s.
local testing = require("park.testing")
local socket = require("socket")
local H = dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "helper.lua")

local SETTINGS = {
  "--plugin-instructions", "2000000", "--plugin-memory-mb", "16", "--plugin-max-hold-ms", "25",
  "--plugin-cpu-percent", "20", "--plugin-cpu-window-s", "2", "--jobs-poll-ms", "100",
  -- A job retried after a failure would run again within a second: the
  -- spec would see it.
  "--job-retry-base-s", "1",
  -- A job the host stops is retried job-retries times before it stops for
  -- good: none here, so its first stop is its last.
  "--job-retries", "0",
}
-- The quota needs 20 % of 2 s (0.4 s of CPU) to run out: a loop burning a
-- core does so in well under a second; this bounds it with room to spare.
local QUOTA_S = 6

describe("hostile plugins that busy-wait, under the CPU quota", function()
  local site, pid, missing

  setup(function()
    local args
    args, missing = H.supported(PARKHOST_BIN, SETTINGS)
    site = testing.start_site({
      plugins = { "plugins", "tests/fixtures/hostile" },
      bindings = { { column = "/hello", plugin = "hello" },
                   { column = "/h/cpu_sleep0", plugin = "cpu_sleep0" },
                   { column = "/h/cpu_wait0", plugin = "cpu_wait0" },
                   { column = "/h/cpu_job", plugin = "cpu_job" } },
      args = args,
    })
    pid = site.pid
  end)

  teardown(function()
    if site then site:stop() end
  end)

  -- Probe /hello every 20 ms until `done()` (or `seconds` pass); the
  -- problems: a probe over PROBE_MS, a failed probe.
  local function probe_while(done, seconds, problems)
    local deadline = socket.gettime() + seconds
    local worst = 0
    repeat
      local ms, why = H.probe(site.port, 2)
      if not ms then
        problems[#problems + 1] = "/hello failed while the plugin ran: " .. tostring(why)
        break
      end
      worst = math.max(worst, ms)
      socket.sleep(0.02)
    until done() or socket.gettime() > deadline
    if worst > H.PROBE_MS then
      problems[#problems + 1] = ("/hello took %.1f ms while the plugin ran (bound %d ms)")
        :format(worst, H.PROBE_MS)
    end
    return worst
  end

  local function busy_loop(name)
    local problems = {}
    local c = H.connect(site.port)
    local t0 = socket.gettime()
    assert(c:send(H.request_text("GET", "/h/" .. name)))
    -- Other columns answer while it spins.
    probe_while(function()
      local readable = socket.select({ c }, nil, 0)
      return #readable > 0
    end, QUOTA_S, problems)
    local res, err = H.read_response(c, t0 + QUOTA_S)
    c:close()
    local took = socket.gettime() - t0
    if not res then
      problems[#problems + 1] = ("not stopped within %d s: %s"):format(QUOTA_S, err)
    else
      if res.status ~= 503 then
        problems[#problems + 1] = "status " .. tostring(res.status) .. ", not 503"
      end
      local rid = res.headers["x-request-id"] or "?"
      local entry = H.log_entry(site:log(), name, rid)
      if not entry or not entry:find("stopped", 1, true)
          or not entry:find("CPU quota exceeded", 1, true) then
        problems[#problems + 1] = "the log does not say the CPU quota stopped it: "
          .. tostring(entry and entry:sub(1, 300))
      end
    end
    -- Now it is throttled (503 with Retry-After), then in maintenance.
    local again = H.request(site.port, "GET", "/h/" .. name, nil, nil, 2)
    if not again or again.status ~= 503 or not again.headers["retry-after"] then
      problems[#problems + 1] = "a new request was not refused with 503 and Retry-After: "
        .. tostring(again and again.status)
    end
    -- It keeps at it as soon as it may: maintenance, for its columns alone.
    local pattern = "plugin " .. name .. "[^\n]*maintenance"
    for _ = 1, 3 do
      if site:log():find(pattern) then break end
      socket.sleep(tonumber(again and again.headers["retry-after"]) or 1)
      again = H.request(site.port, "GET", "/h/" .. name, nil, nil, QUOTA_S)
      probe_while(function() return true end, 0, problems)
    end
    if not pcall(site.wait_log_match, site, pattern, 2) then
      problems[#problems + 1] = "no `plugin " .. name .. " ... maintenance` line"
    else
      again = H.request(site.port, "GET", "/h/" .. name, nil, nil, 2)
      if not again or again.status ~= 503 or not again.headers["retry-after"] then
        problems[#problems + 1] = "in maintenance, not answered 503 with Retry-After: "
          .. tostring(again and again.status)
      end
    end
    if H.rss_mb(pid) > H.RSS_BOUND_MB then
      problems[#problems + 1] = ("the server holds %.0f MiB"):format(H.rss_mb(pid))
    end
    assert(#problems == 0, ("(stopped after %.2f s)\n  "):format(took)
      .. table.concat(problems, "\n  "))
  end

  it("the server knows the CPU quota's settings", function()
    assert.are.same({}, missing)
  end)

  it("cpu_sleep0", function()
    busy_loop("cpu_sleep0")
  end)

  it("cpu_wait0", function()
    busy_loop("cpu_wait0")
  end)

  it("cpu_job: stopped by the quota, marked failed, never run again", function()
    local problems = {}
    local res = assert(H.request(site.port, "GET", "/h/cpu_job"))
    assert.are.equal(200, res.status, res.body)
    site:wait_log_match("plugin cpu_job: cpu_job burn started", 5)
    local stopped
    probe_while(function()
      stopped = site:log():match("[^\n]*plugin cpu_job[^\n]*CPU quota exceeded[^\n]*")
      return stopped
    end, QUOTA_S + 2, problems)
    if not stopped then problems[#problems + 1] = "the job was not stopped by the CPU quota" end
    local line = site:command("jobs"):match("[^\n]*burn[^\n]*")
    if not line or not line:find("failed", 1, true) then
      problems[#problems + 1] = "`parkhost jobs` does not show it failed: " .. tostring(line)
    end
    -- Not again: neither on its schedule (nor as a retry) nor after a restart.
    local function runs()
      local n = 0
      for _ in site:log():gmatch("cpu_job burn started") do n = n + 1 end
      return n
    end
    local before = runs()
    socket.sleep(2.5)
    if runs() ~= before then problems[#problems + 1] = "the job ran again on its schedule" end
    before = runs()
    assert.are.equal(0, site:halt())
    site:restart()
    socket.sleep(2.5)
    if runs() ~= before then problems[#problems + 1] = "the job ran again after the restart" end
    line = site:command("jobs"):match("[^\n]*burn[^\n]*")
    if not line or not line:find("failed", 1, true) then
      problems[#problems + 1] = "after the restart `parkhost jobs` shows: " .. tostring(line)
    end
    assert(#problems == 0, "\n  " .. table.concat(problems, "\n  "))
  end)
end)
