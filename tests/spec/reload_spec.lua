-- Hot reload and the failing-plugin breaker, seen from outside.
local testing = require("park.testing")
local socket = require("socket")

-- A plugin folder written by the spec, so it can change between reloads.
local function write_plugin(dir, version, broken)
  os.execute("mkdir -p " .. dir .. "/ver")
  local f = assert(io.open(dir .. "/ver/plugin.lua", "w"))
  f:write(([[
local park = require("park")
local plugin = { name = "ver", version = "%s", description = "says its version" }
plugin.routes = {
  { "GET", "/", function() return park.text("%s") end },
  { "GET", "/slow", function() park.sleep(300) return park.text("%s-slow") end },
  { "GET", "/events", function(_req, res)
    res:sse()
    res:event({ data = "%s" })
    while true do park.sleep(50) res:comment("ping") end
  end },
}
return plugin
%s]]):format(version, version, version, version, broken and "this is not Lua (" or ""))
  f:close()
end

describe("hot reload", function()
  local site, dir

  setup(function()
    dir = os.tmpname()
    os.remove(dir)
    write_plugin(dir, "v1")
    site = testing.start_site({ plugins = { dir },
                                bindings = { { column = "/ver", plugin = "ver" } },
                                args = { "--reload-grace-ms", "200" } })
  end)

  teardown(function()
    assert.are.equal(0, site:stop())
    os.execute("rm -rf " .. dir)
  end)

  local reloads = 0
  local function reload()
    reloads = reloads + 1
    site:reload()
    local n = 0
    site:wait_log(function(log)
      n = 0
      for line in log:gmatch("[^\n]+") do
        if line:find(" reloaded: ", 1, true) or line:find(" reload failed: ", 1, true) then
          n = n + 1
        end
      end
      return n >= reloads
    end)
  end

  it("serves the new version of a plugin after a reload", function()
    assert.are.equal("v1", site:request("GET", "/ver").body)
    write_plugin(dir, "v2")
    reload()
    assert.are.equal("v2", site:request("GET", "/ver").body)
  end)

  it("keeps the old version serving when the new one fails to load, and says why", function()
    write_plugin(dir, "v3", true)
    reload()
    site:wait_log_match("plugin ver not loaded: [^\n]*/ver/plugin%.lua:%d+:")
    site:wait_log_match("plugin ver: keeping the version loaded before")
    assert.are.equal("v2", site:request("GET", "/ver").body)
  end)

  it("serves columns imported while it runs once it reloads", function()
    local f = assert(io.open(dir .. "/more.lua", "w"))
    f:write('return { columns = { { path = "/ver2", title = "第二版", kind = "static", '
      .. 'unit = "center", plugin = "ver" } } }')
    f:close()
    write_plugin(dir, "v4")
    local out, ok = site:command("site", "import", dir .. "/more.lua")
    assert.is_true(ok, out)
    assert.matches("1 column%(s%), 1 binding%(s%)", out)
    assert.are.equal(404, site:request("GET", "/ver2").status)
    reload()
    assert.are.equal("v4", site:request("GET", "/ver2").body)
    assert.are.equal("v4", site:request("GET", "/ver").body)
  end)

  it("finishes a request in flight on the version it started on", function()
    local c = assert(socket.tcp())
    c:settimeout(10)
    assert(c:connect("127.0.0.1", site.port))
    assert(c:send("GET /ver/slow HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"))
    socket.sleep(0.05)
    write_plugin(dir, "v5")
    reload()
    assert.are.equal("v5", site:request("GET", "/ver").body)
    local answer = c:receive("*a")
    c:close()
    assert.matches("^HTTP/1.1 200", answer)
    assert.matches("v4%-slow$", answer)
  end)

  it("ends a stream on the old version after the grace period, asking it to come back",
    function()
      local s = site:stream("/ver/events")
      assert.matches("data: v5", assert(s:read()))
      write_plugin(dir, "v6")
      reload()
      local seen, t0 = {}, socket.gettime()
      repeat
        local data = s:read(5)
        seen[#seen + 1] = data or ""
      until data == "" or data == nil or socket.gettime() - t0 > 5
      s:close()
      local text = table.concat(seen)
      assert.matches("retry: 1000", text, 1, true)
      assert.truthy(socket.gettime() - t0 < 3, "the old stream was not ended")
      local again = site:stream("/ver/events")
      assert.matches("data: v6", assert(again:read()))
      again:close()
    end)

  it("fails no request while it reloads ten times under load", function()
    local conns = {}
    for i = 1, 8 do
      local c = assert(socket.tcp())
      c:settimeout(10)
      assert(c:connect("127.0.0.1", site.port))
      conns[i] = c
    end
    local ok, total = 0, 0
    local function round()
      for _, c in ipairs(conns) do
        assert(c:send("GET /ver HTTP/1.1\r\nHost: t\r\n\r\n"))
      end
      for _, c in ipairs(conns) do
        local status = assert(c:receive("*l"))
        local len
        repeat
          local line = assert(c:receive("*l"))
          len = len or tonumber(line:match("^Content%-Length: (%d+)"))
        until line == ""
        assert(c:receive(len))
        total = total + 1
        if status:match("^HTTP/1.1 200") then ok = ok + 1 end
      end
    end
    for i = 1, 10 do
      write_plugin(dir, "w" .. i)
      site:reload()
      for _ = 1, 25 do round() end
    end
    for _, c in ipairs(conns) do c:close() end
    assert.are.equal(2000, total)
    assert.are.equal(total, ok)
  end)
end)

describe("a plugin that keeps failing", function()
  it("is put into maintenance for its columns, then tried again", function()
    local site = testing.start_site({
      plugins = { "plugins", "tests/fixtures/plugins" },
      site = "tests/fixtures/site.lua",
      args = { "--plugin-failures", "3", "--plugin-failure-window-s", "60",
               "--plugin-maintenance-s", "1" },
    })
    finally(function() site:stop() end)
    local statuses = {}
    for i = 1, 4 do statuses[i] = site:request("GET", "/error").status end
    local maint = site:request("GET", "/big?size=3")
    local hello = site:request("GET", "/hello")
    socket.sleep(1.1)
    local after = site:request("GET", "/big?size=3")
    local log = site:log()
    assert.are.equal(0, site:stop())
    assert.are.same({ 500, 500, 500, 503 }, statuses)
    assert.are.equal(503, maint.status)
    assert.truthy(tonumber(maint.headers["retry-after"]) >= 1)
    assert.are.equal(200, hello.status)
    assert.are.equal("xxx", after.body)
    assert.matches("plugin testkit failed 3 times within 60 s: its columns show the "
      .. "maintenance page for 1 s", log)
  end)
end)
