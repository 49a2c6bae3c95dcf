-- Faults with several workers, under real load (wrk, 64 connections): a
-- worker killed with SIGKILL costs only the requests in flight on it and is
-- replaced within a second; a crash loop backs off; a rolling reload loses
-- no request.
local testing = require("park.testing")
local socket = require("socket")

local SITE = { columns = { { path = "/hello", title = "Hello", kind = "static", unit = "center",
                             plugin = "hello" } } }

local function read_file(path)
  local f = io.open(path)
  if not f then return nil end
  local s = f:read("a")
  f:close()
  return s
end

-- Start wrk against the site in the background; returns a function that
-- waits for it and returns its counts.
local function wrk(site, seconds)
  local out = site.dir .. "/wrk.out"
  assert(os.execute(("wrk -t1 -c64 -d%ds http://127.0.0.1:%d/hello >%s 2>&1 &")
    :format(seconds, site.port, out)))
  return function()
    local text = testing.eventually(function()
      local t = read_file(out) or ""
      return t:find("Transfer/sec") and t
    end, seconds + 15, "wrk's report")
    local r = { text = text, connect = 0, read = 0, write = 0, timeout = 0, non2xx = 0 }
    r.requests = tonumber(text:match("(%d+) requests in"))
    local c, rd, w, t = text:match("Socket errors: connect (%d+), read (%d+), write (%d+), "
      .. "timeout (%d+)")
    if c then r.connect, r.read, r.write, r.timeout = tonumber(c), tonumber(rd), tonumber(w),
      tonumber(t) end
    r.non2xx = tonumber(text:match("Non%-2xx or 3xx responses: (%d+)")) or 0
    return r
  end
end

-- The established TCP connections to `port` that process `pid` holds.
local function connections_of(pid, port)
  local inodes = {}
  local ls = io.popen("ls -l /proc/" .. pid .. "/fd 2>/dev/null")
  for inode in ls:read("a"):gmatch("socket:%[(%d+)%]") do inodes[inode] = true end
  ls:close()
  local n = 0
  for _, file in ipairs({ "/proc/net/tcp", "/proc/net/tcp6" }) do
    for line in (read_file(file) or ""):gmatch("[^\n]+") do
      local lport, st, inode = line:match("^%s*%d+: %x+:(%x+) %x+:%x+ (%x%x) .- %d+ +%d+ (%d+)")
      if lport and tonumber(lport, 16) == port and st == "01" and inodes[inode] then
        n = n + 1
      end
    end
  end
  return n
end

-- The pid of worker `slot`'s current process.
local function pid_of(site, slot)
  for _, p in ipairs(site:worker_pids()) do
    if (read_file("/proc/" .. p .. "/environ") or ""):find("PARKHOST_WORKER=" .. slot .. ",", 1,
      true) then
      return p
    end
  end
end

local function new_pid(site, old)
  for _, p in ipairs(site:worker_pids()) do
    local seen = false
    for _, q in ipairs(old) do seen = seen or p == q end
    if not seen then return p end
  end
end

describe("several workers under load", function()
  local site

  setup(function()
    site = testing.start_site({ site = SITE, workers = 2 })
  end)

  teardown(function()
    assert.are.equal(0, site:stop())
  end)

  it("lose only the requests in flight on a killed worker, which is replaced within 1 s",
    function()
    local old = site:worker_pids()
    assert.are.equal(2, #old)
    local done = wrk(site, 4)
    socket.sleep(1.5)
    local victim = pid_of(site, 0)
    local in_flight = connections_of(victim, site.port)
    assert.is_true(in_flight > 0, "wrk has connections on the victim")
    local t0 = socket.gettime()
    os.execute("kill -KILL " .. victim)
    -- A new worker 0 serves within 1 s (a connection the kernel queues on
    -- worker 0's socket is answered once it does), the other kept answering.
    local c = site:connect_worker(0)
    local ready = socket.gettime() - t0
    c:close()
    local replaced = new_pid(site, old)
    assert.truthy(replaced, "a new worker")
    local r = done()
    assert.matches("worker 0 %(pid " .. victim .. "%) was killed", site:log())
    assert.is_true(ready < 1, ("the new worker (pid %d) served after %.0f ms")
      :format(replaced, ready * 1000))
    assert.is_true(r.requests > 1000, r.text)
    assert.are.equal(0, r.non2xx, r.text)
    assert.are.equal(0, r.connect + r.timeout, r.text)
    assert.is_true(r.read + r.write <= in_flight, ("%d requests failed, %d were in flight on "
      .. "the killed worker:\n%s"):format(r.read + r.write, in_flight, r.text))
    print(("\n# SIGKILL under load: %d requests, %d failed, %d in flight on the killed worker, "
      .. "a new worker served %.0f ms after the kill"):format(r.requests, r.read + r.write,
      in_flight, ready * 1000))
  end)

  it("reload one worker after another under load without losing a request", function()
    local before = #site:log()
    local done = wrk(site, 4)
    for _ = 1, 3 do
      socket.sleep(0.8)
      local out, ok = site:command("reload", "--pid-file", site.dir .. "/parkhost.pid")
      assert.is_true(ok, out)
    end
    local r = done()
    assert.is_true(r.requests > 1000, r.text)
    assert.are.equal(0, r.non2xx, r.text)
    assert.are.equal(0, r.connect + r.read + r.write + r.timeout, r.text)
    local log = site:log():sub(before + 1)
    assert.matches("reload: every worker has reloaded", log)
    local _, reloads = log:gsub("w%d INFO  reloaded", "")
    assert.is_true(reloads >= 2, log)
  end)

  it("back off when a worker keeps dying, while the others serve", function()
    local pinned = site:browser({ worker = 0 }) -- worker 1 never died before
    local delays = {}
    for death = 1, 4 do
      local old = site:worker_pids()
      local log_before = #site:log()
      site:connect_worker(1):close() -- it serves
      local victim = assert(pid_of(site, 1))
      os.execute("kill -KILL " .. victim)
      local line = testing.eventually(function()
        return site:log():sub(log_before + 1):match("worker 1 %(pid " .. victim
          .. "%) was killed[^\n]*")
      end, 5, "the death logged")
      delays[death] = tonumber(line:match("the next starts in (%d+) ms")) or 0
      assert.are.equal(200, pinned:get("/hello").status, "worker 0 serves meanwhile")
      testing.eventually(function() return new_pid(site, old) end, 5, "a new worker")
    end
    assert.are.same({ 0, 100, 200, 400 }, delays)
  end)

  it("replace a worker whose loop no longer turns", function()
    local hung = testing.start_site({ site = SITE, workers = 2,
                                      args = { "--worker-hang-ms", "1000" } })
    finally(function() hung:stop() end)
    local victim = assert(pid_of(hung, 1))
    os.execute("kill -STOP " .. victim) -- stuck: alive, but its loop never turns
    local log = hung:wait_log_match("worker 1 %(pid " .. victim .. "%) was killed for hanging", 5)
    assert.matches("worker 1 %(pid " .. victim .. "%) has not turned its loop for %d+ ms", log)
    hung:connect_worker(1):close() -- a new worker 1 serves
    assert.are.equal(200, hung:request("GET", "/hello").status)
  end)

  it("refuse a connection past max-connections counted over every worker", function()
    local capped = testing.start_site({ site = SITE, workers = 2,
                                        args = { "--max-connections", "4" } })
    finally(function() capped:stop() end)
    -- Four open connections, one at least on each worker: two under the
    -- cap of either worker alone, four for the site.
    local open = { capped:connect_worker(0), capped:connect_worker(1) }
    for _ = 1, 2 do
      local c = assert(socket.tcp())
      c:settimeout(5)
      assert(c:connect("127.0.0.1", capped.port))
      assert(c:send("HEAD /hello HTTP/1.1\r\nHost: t\r\n\r\n"))
      assert.matches(" 200 ", c:receive("*l"))
      open[#open + 1] = c
    end
    assert.are.equal(503, capped:request("GET", "/hello").status)
    open[1]:close()
    testing.eventually(function() return capped:request("GET", "/hello").status == 200 end, 2,
      "a connection taken again once one closed")
    for i = 2, #open do open[i]:close() end
    assert.matches("refused connection: 4 open, max%-connections is 4", capped:log())
  end)
end)
