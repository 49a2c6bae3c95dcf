-- Clients that hold connections without using them: a body trickled below
-- body-min-rate is cut off with 408, and one address cannot hold more than
-- max-connections-per-address while everyone else is served. Issue 25,
-- item 3. Real sockets, a byte at a time.
local testing = require("park.testing")
local socket = require("socket")

local function start(args, workers)
  return testing.start_site({
    plugins = { "tests/fixtures/plugins" },
    bindings = { { column = "/desk", plugin = "desk" } },
    args = args,
    workers = workers,
  })
end

-- A connection to the site from `from` (127.0.0.1 unless given).
local function connect(site, from)
  local c = assert(socket.tcp())
  c:settimeout(10)
  if from then assert(c:bind(from, 0)) end
  assert(c:connect("127.0.0.1", site.port))
  return c
end

-- Read one response's status line and headers; nil when the connection
-- closed first.
local function read_head(c)
  local line = c:receive("*l")
  if not line then return nil end
  local res = { status = tonumber(line:match("^HTTP/1%.1 (%d+)")), headers = {} }
  repeat
    line = assert(c:receive("*l"))
    local k, v = line:match("^([^:]+):%s*(.*)$")
    if k then res.headers[k:lower()] = v end
  until line == ""
  local len = tonumber(res.headers["content-length"] or "0")
  if len > 0 then res.body = assert(c:receive(len)) end
  return res
end

-- A keep-alive request on c; its response.
local function get(c, path)
  assert(c:send("GET " .. path .. " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"))
  return read_head(c)
end

-- Whether the server has closed c (reads what is left until then).
local function closed(c, timeout)
  c:settimeout(timeout or 5)
  local _, err = c:receive("*a")
  return err == nil or err == "closed"
end

describe("a body trickled below body-min-rate", function()
  it("is cut off with 408 and the connection closed", function()
    local site = start({ "--body-min-rate", "100", "--body-rate-window-s", "1" })
    finally(function() site:stop() end)
    local c = connect(site)
    assert(c:send("POST /desk/change HTTP/1.1\r\nHost: 127.0.0.1\r\n"
      .. "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\n"))
    -- One byte every 200 ms: 5 bytes/s, well under 100, and never silent
    -- for long (body-timeout-ms is 30 s).
    local t0 = socket.gettime()
    c:settimeout(0.2)
    local sent, answer = 0, nil
    while socket.gettime() - t0 < 8 do
      local line, err = c:receive("*l")
      if line then
        answer = line
        break
      end
      if err == "closed" then break end
      if not c:send("a") then break end
      sent = sent + 1
    end
    local took = socket.gettime() - t0
    assert.is_truthy(answer, ("no answer after %.1f s and %d bytes"):format(took, sent))
    assert.matches("^HTTP/1%.1 408", answer)
    assert.is_true(took >= 0.8 and took < 6,
      ("cut off after %.2f s; want about 1-2 s"):format(took))
    assert.is_true(closed(c), "the connection stays open after the 408")
    c:close()
    site:wait_log("refused request with 408: body slower than body-min-rate")
    -- The site serves the next client as before.
    assert.are.equal(401, site:request("GET", "/desk/me").status)
  end)

  it("lets a slow but steady body through", function()
    local site = start({ "--body-min-rate", "100", "--body-rate-window-s", "1" })
    finally(function() site:stop() end)
    local body = "state=" .. ("x"):rep(994)
    local c = connect(site)
    assert(c:send("POST /desk/change HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
      .. "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\n"))
    -- 200 bytes every 500 ms: 400 bytes/s, for 2.5 s.
    for i = 0, 4 do
      socket.sleep(0.5)
      assert(c:send(body:sub(i * 200 + 1, i * 200 + 200)))
    end
    local res = read_head(c)
    assert.are.equal(200, res.status)
    c:close()
  end)
end)

describe("max-connections-per-address", function()
  it("holds for one address while another is served, over every worker", function()
    local site = start({ "--max-connections-per-address", "4", "--keepalive-timeout-ms", "60000" },
      2)
    finally(function() site:stop() end)
    -- 127.0.0.1 opens four connections and keeps them, whichever worker
    -- each reached.
    local held = {}
    for i = 1, 4 do
      held[i] = connect(site)
      assert.are.equal(401, get(held[i], "/desk/me").status)
    end
    -- Its fifth is refused: 503, Retry-After, closed.
    local fifth = connect(site)
    local res = get(fifth, "/desk/me")
    assert.are.equal(503, res and res.status)
    assert.are.equal("60", res.headers["retry-after"])
    assert.are.equal("close", res.headers.connection)
    assert.is_true(closed(fifth))
    fifth:close()
    site:wait_log("refused connection from 127.0.0.1: 4 open from there, "
      .. "max-connections-per-address is 4")
    -- Another address is served meanwhile, on several connections.
    local others = {}
    for i = 1, 3 do
      others[i] = connect(site, "127.0.0.2")
      assert.are.equal(401, get(others[i], "/desk/me").status)
    end
    -- The four held connections still work.
    for _, c in ipairs(held) do assert.are.equal(401, get(c, "/desk/me").status) end
    -- One closes: 127.0.0.1 gets a connection again.
    held[1]:close()
    local again = testing.eventually(function()
      local c = connect(site)
      local r = get(c, "/desk/me")
      if r and r.status == 401 then return c end
      c:close()
    end, 5, "a new connection once one of the four closed")
    again:close()
    for i = 2, 4 do held[i]:close() end
    for _, c in ipairs(others) do c:close() end
  end)
end)
