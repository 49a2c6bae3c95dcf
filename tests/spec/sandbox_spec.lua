-- Hostile plugins are contained: each gets the right status and log line,
-- and a well-behaved plugin on another column keeps answering.
local testing = require("park.testing")
local socket = require("socket")

describe("the plugin sandbox", function()
  local site

  setup(function()
    site = testing.start_site({
      plugins = { "plugins", "tests/fixtures/hostile" },
      site = "tests/fixtures/hostile_site.lua",
      args = { "--plugin-instructions", "2000000", "--plugin-memory-mb", "32",
               "--plugin-failures", "1000" },
    })
  end)

  teardown(function()
    assert.are.equal(0, site:stop())
  end)

  -- The request's status, and the log line of its request id.
  local function attack(path)
    local res = site:request("GET", path)
    local id = res.headers["x-request-id"]
    local log = site:wait_log_match("rid=" .. id .. "[^\n]*\n")
    local line = log:match("[^\n]*plugin [%w_]+: GET " .. path:gsub("?.*", ""):gsub("%p", "%%%0")
      .. " [^\n]*rid=" .. id .. "[^\n]*")
    return res, line or "", log
  end

  describe("stops code that runs too long with 503", function()
    for _, name in ipairs({ "loop", "pcall_loop", "sort_loop" }) do
      it(name, function()
        local res, line = attack("/h/" .. name)
        assert.are.equal(503, res.status)
        assert.matches("plugin " .. name .. ": GET /h/" .. name .. " stopped", line)
        assert.matches("instruction budget exceeded", line)
        assert.matches("route GET /", line, 1, true)
        assert.matches(res.headers["x-request-id"], res.body, 1, true)
      end)
    end
  end)

  describe("stops memory bombs with 503", function()
    for _, name in ipairs({ "memory_rep", "memory_table" }) do
      it(name, function()
        local res, line = attack("/h/" .. name)
        assert.are.equal(503, res.status)
        assert.matches("memory limit exceeded", line)
      end)
    end
    it("memory_pcall (caught and retried until the budget or the hold time ends it)", function()
      local res, line = attack("/h/memory_pcall")
      assert.are.equal(503, res.status)
      -- Each refusal costs a full collection: slow builds (the sanitizers)
      -- may reach plugin-max-hold-ms before the budget.
      assert.truthy(line:find("exceeded", 1, true) or line:find("held the loop", 1, true), line)
    end)
    it("and the plugin's state is usable again afterwards", function()
      attack("/h/memory_table")
      local res = attack("/h/memory_table")
      assert.are.equal(503, res.status) -- still refused, not crashed
    end)
  end)

  it("stops unbounded recursion, naming the plugin's file and line", function()
    -- Lua's stack limit, the memory cap or the budget, whichever comes first.
    local res, line, log = attack("/h/recursion")
    if res.status == 500 then
      assert.matches("stack overflow", line)
    else
      assert.are.equal(503, res.status)
      assert.matches("exceeded", line)
    end
    assert.matches("tests/fixtures/hostile/recursion/plugin%.lua:%d+", log)
  end)

  describe("gives plugins no way out of their sandbox", function()
    local cases = {
      escape_io = "undefined global 'io'",
      escape_debug = "undefined global 'debug'",
      escape_dump = "field 'dump'",
      escape_bytecode = "text chunks only",
      escape_cmodule = "module 'lfs' not found",
    }
    for name, why in pairs(cases) do
      it(name, function()
        local res, line = attack("/h/" .. name)
        assert.are.equal(500, res.status)
        assert.matches("tests/fixtures/hostile/" .. name .. "/plugin%.lua:%d+", line)
        assert.truthy(line:find(why, 1, true), line)
        assert.falsy(res.body:find("root:", 1, true))
      end)
    end

    it("escape_os runs no command", function()
      local file = os.tmpname()
      os.remove(file)
      local res, line = attack("/h/escape_os?file=" .. file)
      assert.are.equal(500, res.status)
      assert.matches("field 'execute'", line)
      assert.is_nil(io.open(file))
    end)

    it("a global written by one plugin is not seen by another", function()
      assert.are.equal("written", site:request("GET", "/h/global_writer").body)
      assert.are.equal("nil", site:request("GET", "/h/global_reader").body)
    end)

    it("tampering with the string library changes neither string methods nor other plugins",
      function()
        assert.are.equal("ABC", site:request("GET", "/h/string_tamper/lib").body)
        local res, line = attack("/h/string_tamper/meta")
        assert.are.equal(500, res.status)
        assert.matches("attempt to index a string value", line)
        assert.are.equal("Hello, World!", site:request("GET", "/hello").body)
      end)
  end)

  it("names the template file and line of an error in a template", function()
    local res, line = attack("/h/template_error")
    assert.are.equal(500, res.status)
    assert.matches("tests/fixtures/hostile/template_error/templates/broken%.html:3", line)
  end)

  it("keeps answering a well-behaved plugin while hostile ones run", function()
    -- Every hostile request is sent first on its own connection, then the
    -- good ones; all are read afterwards. Each good one must succeed.
    local function open(path)
      local c = assert(socket.tcp())
      c:settimeout(30)
      assert(c:connect("127.0.0.1", site.port))
      assert(c:send("GET " .. path .. " HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"))
      return c
    end
    local conns = {}
    for round = 1, 3 do
      for _, name in ipairs({ "loop", "pcall_loop", "memory_table", "recursion", "escape_io" }) do
        conns[#conns + 1] = { open("/h/" .. name), hostile = true }
      end
      for _ = 1, 5 do conns[#conns + 1] = { open("/hello"), round = round } end
    end
    local good = 0
    for _, c in ipairs(conns) do
      local all = c[1]:receive("*a")
      c[1]:close()
      local status = tonumber(all:match("^HTTP/1%.1 (%d+)"))
      if c.hostile then
        assert.truthy(status == 500 or status == 503, all:sub(1, 80))
      else
        assert.are.equal(200, status)
        assert.matches("Hello, World!$", all)
        good = good + 1
      end
    end
    assert.are.equal(15, good)
  end)
end)

describe("a crash of the worker", function()
  it("is logged with the plugin and request that were running and a backtrace, and the "
    .. "worker replaced", function()
    local site = testing.start_site({
      plugins = { "plugins", "tests/fixtures/hostile" },
      site = "tests/fixtures/hostile_site.lua",
      args = { "--plugin-instructions", "100000000000", "--plugin-max-hold-ms", "600000",
               "--plugin-kill-ms", "600000" },
    })
    -- A request that keeps its plugin's code running, then a real SIGSEGV.
    local c = assert(socket.tcp())
    c:settimeout(10)
    assert(c:connect("127.0.0.1", site.port))
    assert(c:send("GET /h/loop HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"))
    socket.sleep(0.3) -- the loop runs now (its budget and hold are out of reach)
    finally(function() site:stop() end)
    local worker = site:worker_pids()[1]
    os.execute("kill -SEGV " .. worker)
    -- (Under AddressSanitizer the worker ends with the sanitizer's exit
    -- status once the report is written.)
    local log = site:wait_log_match("worker 0 %(pid " .. worker .. "%) [^\n]*; starting a new one")
    c:close()
    assert.matches("ERROR fatal signal 11 %([^)]*%) while plugin loop rid=%x+; backtrace:", log)
    assert.matches("parkhost", log:match("backtrace:\n(.*)$") or "")
    -- A new worker serves the site.
    testing.eventually(function() return site:request("GET", "/hello").status == 200 end, 5,
      "a new worker")
  end)
end)
