-- bench/notify's client: how long park.notify takes to wake a waiter on
-- another worker ("across": notify on worker 0, waiter on worker 1) and on
-- the same worker ("within": both on worker 0), through benchkit's
-- GET /wait/:key and POST /notify/:key.
--
--   lua5.4 bench/notify.lua PORT N
--
-- Keep-alive connections are pinned to a worker by opening connections
-- until one is answered by it (the first two hex digits of X-Request-Id
-- are the worker's number; the kernel picks a new connection's worker).
-- For each notification, with its own key: the watcher asks GET /wait/KEY
-- and reads the response head (the handler is waiting by then); t0; the
-- notifier sends POST /notify/KEY; t1 when the watcher's event arrives.
-- The two cases alternate, one notification each, after 20 of each not
-- counted. A watcher not woken within 1 s is a lost notification.
-- Prints one line per case: "CASE n p50_us p99_us max_us lost unexpected"
-- (unexpected: answers from the wrong worker, or a notify that did not
-- wake the expected number of this worker's waiters).
local socket = require("socket")

local port = math.tointeger(tonumber(arg[1] or ""))
local n = math.tointeger(tonumber(arg[2] or ""))
if not port or not n or n < 1 then
  io.stderr:write("usage: lua5.4 bench/notify.lua PORT N\n")
  os.exit(2)
end
local WARMUP, LOST_S = 20, 1

local function connect()
  local c = assert(socket.tcp())
  assert(c:connect("127.0.0.1", port))
  c:setoption("tcp-nodelay", true)
  c:settimeout(5)
  return c
end

-- The status and the headers (names lowercased) of the next response.
local function read_head(c)
  local line, err = c:receive("*l")
  if not line then return nil, err end
  local status = math.tointeger(tonumber(line:match("^HTTP/1%.1 (%d+)")))
  local h = {}
  while true do
    local l, e = c:receive("*l")
    if not l then return nil, e end
    if l == "" then break end
    local k, v = l:match("^([^:]+):%s*(.-)%s*$")
    if k then h[k:lower()] = v end
  end
  return status, h
end

-- One chunk of a chunked body: its data, "" at the end (after the empty
-- trailer), or nil and the error.
local function read_chunk(c)
  local line, err = c:receive("*l")
  if not line then return nil, err end
  local size = tonumber(line:match("^%x+"), 16)
  if not size then return nil, "bad chunk size: " .. line end
  if size == 0 then
    local _, e = c:receive("*l")
    if e then return nil, e end
    return ""
  end
  local data, e = c:receive(size)
  if not data then return nil, e end
  local _, e2 = c:receive("*l")
  if e2 then return nil, e2 end
  return data
end

local function read_body(c, h)
  if h["content-length"] then return c:receive(tonumber(h["content-length"])) end
  if (h["transfer-encoding"] or ""):lower() ~= "chunked" then return "" end
  local parts = {}
  while true do
    local d, err = read_chunk(c)
    if not d then return nil, err end
    if d == "" then return table.concat(parts) end
    parts[#parts + 1] = d
  end
end

local function worker_of(h)
  return tonumber(((h and h["x-request-id"]) or ""):sub(1, 2), 16)
end

-- A keep-alive connection answered by worker k.
local function pinned(k)
  for _ = 1, 500 do
    local c = connect()
    c:send("GET /plaintext HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    local status, h = read_head(c)
    if status == 200 and read_body(c, h) and worker_of(h) == k then return c end
    c:close()
  end
  error("500 connections and none reached worker " .. k)
end

local cases = {
  { name = "across", notifier = 0, watcher = 1, lat = {}, lost = 0, unexpected = 0 },
  { name = "within", notifier = 0, watcher = 0, lat = {}, lost = 0, unexpected = 0 },
}
-- Three keep-alive connections: the notifier's to worker 0 ("n0"), a
-- watcher's to worker 1 ("w1") and another watcher's to worker 0 ("w0").
local conns = {}
local function conn(role, k)
  local slot = role .. k
  conns[slot] = conns[slot] or pinned(k)
  return conns[slot], slot
end
local function drop(slot)
  if conns[slot] then conns[slot]:close() end
  conns[slot] = nil
end

-- One notification of case c with key; records its latency unless warm-up.
local function once(c, key, record)
  local w, wslot = conn("w", c.watcher)
  local nt, nslot = conn("n", c.notifier)
  w:settimeout(5)
  w:send(("GET /wait/%s HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"):format(key))
  local status, h = read_head(w)
  if status ~= 200 or worker_of(h) ~= c.watcher then
    error(("%s: GET /wait/%s answered %s from worker %s"):format(c.name, key,
      tostring(status), tostring(worker_of(h))))
  end
  w:settimeout(LOST_S)
  local t0 = socket.gettime()
  nt:send(("POST /notify/%s HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n\r\n")
    :format(key))
  local event, err = read_chunk(w)
  local t1 = socket.gettime()
  local woken = event and event:find("data: woken", 1, true)
  if woken then
    if record then c.lat[#c.lat + 1] = (t1 - t0) * 1e6 end
    w:settimeout(5)
    assert(read_chunk(w) == "", "the stream did not end after its event")
  else
    if record then c.lost = c.lost + 1 end
    io.stderr:write(("%s %s: not woken within %d s (%s)\n"):format(c.name, key, LOST_S,
      tostring(event or err)))
    drop(wslot)
  end
  -- The notify's answer: how many waiters of the notifier's worker it woke.
  local st, nh = read_head(nt)
  local body = st and read_body(nt, nh)
  local want = c.watcher == c.notifier and "1" or "0"
  if st ~= 200 or worker_of(nh) ~= c.notifier or body ~= want then
    if record then c.unexpected = c.unexpected + 1 end
    io.stderr:write(("%s %s: the notify answered %s from worker %s: %s\n"):format(c.name, key,
      tostring(st), tostring(worker_of(nh)), tostring(body)))
    drop(nslot)
  end
end

for i = 1, WARMUP do
  for _, c in ipairs(cases) do once(c, ("warm-%s-%d"):format(c.name, i), false) end
end
for i = 1, n do
  for _, c in ipairs(cases) do once(c, ("%s-%d"):format(c.name, i), true) end
end

local function pct(sorted, p)
  if #sorted == 0 then return 0 end
  return sorted[math.max(1, math.ceil(p * #sorted))]
end
for _, c in ipairs(cases) do
  table.sort(c.lat)
  print(("%s %d %.0f %.0f %.0f %d %d"):format(c.name, #c.lat, pct(c.lat, 0.5), pct(c.lat, 0.99),
    pct(c.lat, 1), c.lost, c.unexpected))
end
