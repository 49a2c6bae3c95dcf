-- park.testing itself: the harness a webmaster's specs stand on fails
-- fast, says why and where, and leaves nothing behind.
local testing = require("park.testing")

local ME = debug.getinfo(1, "S").short_src

local function error_of(fn)
  local ok, err = pcall(fn)
  assert.is_false(ok, "it did not fail")
  return tostring(err)
end

describe("park.testing", function()
  local site

  setup(function()
    site = testing.start_site({ plugins = { "plugins" },
                                bindings = { { column = "/hello", plugin = "hello" } } })
  end)

  teardown(function() site:stop() end)

  it("fails a bad add_user at once with the command's own message, at the spec's line",
    function()
    local t0 = os.time()
    local err = error_of(function() site:add_user("x", "center", "admin", "X", "a-long-pass-1") end)
    assert.is_true(os.time() - t0 < 10)
    assert.truthy(err:find("a login is 2 to 64 of a-z", 1, true), err)
    assert.are.equal(ME, err:match("^([^\n]-):%d+: "), err)
    local err2 = error_of(function() site:add_user("ok-login", "nosuchunit", "admin", "X",
                                                  "a-long-pass-1") end)
    assert.truthy(err2:find("there is no unit with this code", 1, true), err2)
  end)

  it("names the spec's line when a request fails", function()
    local dead = testing.start_site({ plugins = { "plugins" } })
    local b = dead:browser()
    dead:stop()
    local err = error_of(function() b:get("/") end)
    assert.are.equal(ME, err:match("^([^\n]-):%d+: "), err)
    assert.truthy(err:find("connection refused", 1, true), err)
  end)

  it("waits for plain text in the log by default, and for a pattern when asked", function()
    site:request("GET", "/hello/2026-10-09")
    site:wait_log("path=/hello/2026-10-09")
    site:wait_log_match("path=/hello/%d+%-%d+%-%d+")
    local err = error_of(function() site:wait_log("status=2%d%d", 0.2) end)
    assert.truthy(err:find('never contained "status=2%d%d" within 0.2 s', 1, true), err)
    assert.are.equal(ME, err:match("^([^\n]-):%d+: "), err)
  end)

  it("fails a command that hangs within its timeout", function()
    local saved = testing.COMMAND_TIMEOUT_S
    testing.COMMAND_TIMEOUT_S = 1
    finally(function() testing.COMMAND_TIMEOUT_S = saved end)
    local t0 = os.time()
    -- `site import` of a FIFO that nobody writes waits for ever.
    local fifo = testing.tmpdir() .. "/never.lua"
    assert(os.execute("mkfifo " .. fifo))
    local err = error_of(function() site:command("site", "import", fifo) end)
    assert.is_true(os.time() - t0 <= 8, "it took " .. (os.time() - t0) .. " s")
    assert.truthy(err:find("did not finish within 1 s", 1, true), err)
  end)

  it("removes the folders and servers of a run that was killed", function()
    -- A run that died: its owner is a pid that no longer runs.
    local p = io.popen("sh -c 'echo $$'")
    local dead_pid = p:read("l")
    p:close()
    local dir = testing.tmpdir()
    local f = assert(io.open(dir .. "/owner", "w"))
    f:write(dead_pid, "\n")
    f:close()
    -- and a server it left running in that folder
    local orphan = io.popen("tail -f " .. dir .. "/owner >/dev/null 2>&1 & echo $!")
    local opid = orphan:read("l")
    orphan:close()
    assert.truthy(io.open("/proc/" .. opid .. "/stat"), "the orphan did not start")
    f = assert(io.open(dir .. "/parkhost.pid", "w"))
    f:write(opid, "\n")
    f:close()
    local mine = testing.tmpdir()
    testing.sweep()
    assert.is_nil(io.open(dir .. "/owner"), "the dead run's folder is still there")
    assert.truthy(io.open(mine .. "/owner"), "this run's folder was removed")
    testing.eventually(function()
      local st = io.open("/proc/" .. opid .. "/stat")
      local state = st and st:read("a"):match("^%d+ %b() (%a)")
      if st then st:close() end
      return state == nil or state == "Z"
    end, 5, "the orphan server killed")
  end)
end)
