-- What the hostile-plugin specs share: the bounds they hold the server to,
-- a raw HTTP client that can send an attack on its own connection and
-- probe a well-behaved column while the attack runs, and the server's
-- memory read from /proc.
--
-- The bounds (each can be set from the environment; CMakeLists.txt sets
-- the memory bound for the sanitizer build, where RSS is far larger):
--   PARKHOST_ATTACK_S      an attack is answered within this (5 s)
--   PARKHOST_PROBE_MS      /hello answers within this during and after (100 ms:
--                          four holds, room for the stop's cleanup and a shared
--                          CI machine's scheduling; a plugin the watchdog did
--                          not stop holds the loop for seconds)
--   PARKHOST_RSS_BOUND_MB  the server's resident memory stays under this (200 MiB)
--   PARKHOST_LOG_BOUND_KB  one attack adds at most this to the log (1024 KiB),
--                          and the log entry of its request at most 64 KiB
--   PARKHOST_HOLD_MS       the server's plugin-max-hold-ms (25 ms): an attack
--                          that must fail with its own error (a 500) may run
--                          this long before the watchdog stops it (a 503)
local socket = require("socket")

local H = {}

H.ATTACK_S = tonumber(os.getenv("PARKHOST_ATTACK_S")) or 5
H.PROBE_MS = tonumber(os.getenv("PARKHOST_PROBE_MS")) or 100
H.RSS_BOUND_MB = tonumber(os.getenv("PARKHOST_RSS_BOUND_MB")) or 200
H.LOG_BOUND_KB = tonumber(os.getenv("PARKHOST_LOG_BOUND_KB")) or 1024
H.HOLD_MS = tonumber(os.getenv("PARKHOST_HOLD_MS")) or 25
H.LOG_ENTRY_KB = 64

local function read_file(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local s = f:read("a")
  f:close()
  return s
end
H.read_file = read_file

function H.sh_quote(s)
  return "'" .. tostring(s):gsub("'", "'\\''") .. "'"
end

-- ---- the server's processes and memory --------------------------------

--- The pid and every descendant's (a supervisor's workers, if any).
function H.tree(pid)
  local out, queue = {}, { pid }
  while #queue > 0 do
    local p = table.remove(queue, 1)
    out[#out + 1] = p
    local tasks = io.popen("ls /proc/" .. p .. "/task 2>/dev/null")
    for tid in tasks:lines() do
      for child in (read_file("/proc/" .. p .. "/task/" .. tid .. "/children") or "")
          :gmatch("%d+") do
        queue[#queue + 1] = tonumber(child)
      end
    end
    tasks:close()
  end
  table.sort(out)
  return out
end

function H.alive(pid)
  local stat = read_file("/proc/" .. pid .. "/stat")
  return stat ~= nil and not stat:match("^%d+ %b() [ZX]")
end

local function status_kb(pid, field)
  local s = read_file("/proc/" .. pid .. "/status") or ""
  return tonumber(s:match(field .. ":%s*(%d+) kB")) or 0
end

--- Resident memory of the server's processes, in MiB.
function H.rss_mb(pid)
  local kb = 0
  for _, p in ipairs(H.tree(pid)) do kb = kb + status_kb(p, "VmRSS") end
  return kb / 1024
end

--- The peak resident memory since the last reset_peak, in MiB (the sum
-- of each process's peak).
function H.peak_mb(pid)
  local kb = 0
  for _, p in ipairs(H.tree(pid)) do kb = kb + status_kb(p, "VmHWM") end
  return kb / 1024
end

--- Reset the peak (Linux: "5" to /proc/PID/clear_refs), so that peak_mb
-- tells what one attack made the server take at its worst.
function H.reset_peak(pid)
  for _, p in ipairs(H.tree(pid)) do
    local f = io.open("/proc/" .. p .. "/clear_refs", "w")
    if f then
      f:write("5")
      f:close()
    end
  end
end

-- ---- raw HTTP --------------------------------------------------------

function H.connect(port, rcvbuf)
  local c = assert(socket.tcp())
  if rcvbuf then c:setoption("recv-buffer-size", rcvbuf) end
  c:settimeout(5)
  assert(c:connect("127.0.0.1", port))
  return c
end

function H.request_text(method, path, headers, body)
  local lines = { method .. " " .. path .. " HTTP/1.1", "Host: 127.0.0.1" }
  local close = true
  for k, v in pairs(headers or {}) do
    if k:lower() == "connection" then close = false end
    lines[#lines + 1] = k .. ": " .. v
  end
  if close then lines[#lines + 1] = "Connection: close" end
  if body then lines[#lines + 1] = "Content-Length: " .. #body end
  return table.concat(lines, "\r\n") .. "\r\n\r\n" .. (body or "")
end

-- receive with a deadline (socket.gettime() seconds).
local function receive(c, pattern, deadline)
  local left = deadline - socket.gettime()
  if left <= 0 then return nil, "timeout" end
  c:settimeout(left)
  return c:receive(pattern)
end

--- Read one response from c before `deadline`: { status, headers (names
-- lowercased, repeats joined with ", "), raw_headers, body, ended }.
-- `ended`: the body was complete (Content-Length, the last chunk, or the
-- close). At most max_body bytes of the body are kept (the rest is read
-- and dropped); nil and the reason on a timeout or a close before the head.
function H.read_response(c, deadline, max_body)
  max_body = max_body or 64 * 1024 * 1024
  local line, err = receive(c, "*l", deadline)
  if not line then return nil, "no status line: " .. tostring(err) end
  local res = { status = tonumber(line:match("^HTTP/1%.%d (%d%d%d)")), headers = {},
                raw_headers = {}, body = "", received = 0 }
  while true do
    line, err = receive(c, "*l", deadline)
    if not line then return nil, "head cut short: " .. tostring(err) end
    if line == "" then break end
    local k, v = line:match("^([^:]+):%s*(.*)$")
    if k then
      res.raw_headers[#res.raw_headers + 1] = { k, v }
      local lk = k:lower()
      res.headers[lk] = res.headers[lk] and res.headers[lk] .. ", " .. v or v
    end
  end
  local parts, kept = {}, 0
  local function keep(data)
    res.received = res.received + #data
    if kept < max_body then
      parts[#parts + 1] = data:sub(1, max_body - kept)
      kept = kept + #parts[#parts]
    end
  end
  local te = (res.headers["transfer-encoding"] or ""):lower()
  local len = tonumber(res.headers["content-length"])
  if res.status == 204 or res.status == 304 then
    res.ended = true
  elseif te == "chunked" then
    while true do
      line, err = receive(c, "*l", deadline)
      if not line then res.error = "chunk size: " .. tostring(err) break end
      local size = tonumber(line:match("^%x+"), 16)
      if not size then res.error = "bad chunk size line" break end
      if size == 0 then
        res.ended = true
        break
      end
      while size > 0 do
        local data, e2, partial = receive(c, math.min(size, 1024 * 1024), deadline)
        data = data or partial
        if not data or #data == 0 then res.error = "chunk: " .. tostring(e2) break end
        keep(data)
        size = size - #data
      end
      if res.error then break end
      receive(c, "*l", deadline)
    end
  elseif len then
    while len > 0 do
      local data, e2, partial = receive(c, math.min(len, 1024 * 1024), deadline)
      data = data or partial
      if not data or #data == 0 then res.error = "body: " .. tostring(e2) break end
      keep(data)
      len = len - #data
    end
    res.ended = len == 0
  else
    while true do
      local data, e2, partial = receive(c, 65536, deadline)
      if data then keep(data)
      elseif partial and #partial > 0 then keep(partial) end
      if not data then
        res.ended = e2 == "closed"
        if e2 ~= "closed" then res.error = "body: " .. tostring(e2) end
        break
      end
    end
  end
  res.body = table.concat(parts)
  return res
end

--- One request on a new connection, answered before `timeout` seconds
-- (default 5); returns the response and the seconds it took, or nil, err.
function H.request(port, method, path, headers, body, timeout)
  local ok, c = pcall(H.connect, port)
  if not ok then return nil, "connect: " .. tostring(c) end
  local t0 = socket.gettime()
  c:settimeout(timeout or 5)
  local sent, err = c:send(H.request_text(method, path, headers, body))
  if not sent then
    c:close()
    return nil, "send: " .. tostring(err)
  end
  local res, why = H.read_response(c, t0 + (timeout or 5))
  c:close()
  if not res then return nil, why end
  return res, socket.gettime() - t0
end

--- GET /hello; returns its time in ms, or nil and why (not 200 in time).
function H.probe(port, timeout)
  local res, t = H.request(port, "GET", "/hello", nil, nil, timeout or 2)
  if not res then return nil, t end
  if res.status ~= 200 or res.body ~= "Hello, World!" then
    return nil, "status " .. tostring(res.status) .. ": " .. res.body:sub(1, 100)
  end
  return t * 1000
end

--- Percentile p (0..1) of a list of numbers.
function H.percentile(list, p)
  local s = {}
  for i, v in ipairs(list) do s[i] = v end
  table.sort(s)
  return s[math.max(1, math.ceil(#s * p))]
end

--- /hello's p99 over n sequential requests, in ms.
function H.p99(port, n)
  local ts = {}
  for i = 1, n or 200 do
    local ms, why = H.probe(port)
    assert(ms, why)
    ts[i] = ms
  end
  return H.percentile(ts, 0.99), ts
end

-- ---- one attack ------------------------------------------------------

--- Send one attack on its own connection (method, path, headers, body),
-- probe /hello on another connection while it runs and after it, and read
-- the server's memory: returns { res, seconds, during_ms, after_ms,
-- peak_mb, rss_mb, log_growth, problems = { ... } }. entry.stall: seconds
-- the client waits before it reads (a client that does not read);
-- entry.rcvbuf: its receive buffer.
function H.run(site, entry, method, path, headers, body)
  local port, pid = site.port, site.pid
  local r = { problems = {} }
  local function problem(s) r.problems[#r.problems + 1] = s end
  local log_before = #site:log()
  H.reset_peak(pid)
  local probe = H.connect(port)
  local c = H.connect(port, entry.rcvbuf)
  local t0 = socket.gettime()
  assert(c:send(H.request_text(method, path, headers, body)))
  socket.sleep(0.002) -- the server has started on the attack
  local p0 = socket.gettime()
  probe:send(H.request_text("GET", "/hello"))
  local pres, perr = H.read_response(probe, p0 + 2)
  probe:close()
  r.during_ms = (socket.gettime() - p0) * 1000
  if not pres or pres.status ~= 200 then
    problem("/hello during the attack: " .. tostring(pres and pres.status or perr))
  elseif r.during_ms > H.PROBE_MS then
    problem(("/hello took %.1f ms during the attack (bound %d ms)"):format(r.during_ms,
                                                                         H.PROBE_MS))
  end
  if entry.stall then socket.sleep(entry.stall) end -- a client that does not read (yet)
  local res, err = H.read_response(c, t0 + H.ATTACK_S)
  c:close()
  r.seconds = socket.gettime() - t0
  r.res = res
  if not res then
    problem(("no answer within %d s: %s"):format(H.ATTACK_S, err))
  elseif not res.ended and not entry.stall then
    problem(("answer not complete within %d s: %s"):format(H.ATTACK_S, tostring(res.error)))
  end
  -- After it.
  local after, aerr = H.probe(port, 2)
  r.after_ms = after
  if not after then
    problem("/hello after the attack: " .. tostring(aerr))
  elseif after > H.PROBE_MS then
    problem(("/hello took %.1f ms after the attack (bound %d ms)"):format(after, H.PROBE_MS))
  end
  r.peak_mb, r.rss_mb = H.peak_mb(pid), H.rss_mb(pid)
  if r.peak_mb > H.RSS_BOUND_MB then
    problem(("the server's memory peaked at %.0f MiB (bound %d MiB)"):format(r.peak_mb,
                                                                         H.RSS_BOUND_MB))
  end
  if r.rss_mb > H.RSS_BOUND_MB then
    problem(("the server kept %.0f MiB after the attack (bound %d MiB)"):format(r.rss_mb,
                                                                             H.RSS_BOUND_MB))
  end
  r.log_growth = #site:log() - log_before
  if r.log_growth > H.LOG_BOUND_KB * 1024 then
    problem(("the attack wrote %d KiB to the log (bound %d KiB)"):format(r.log_growth // 1024,
                                                                      H.LOG_BOUND_KB))
  end
  return r
end

-- ---- the log ----------------------------------------------------------

--- The log entry (its line and the traceback lines after it) of plugin
-- `name` for request `rid`, or nil: the host's line saying the request
-- failed or was stopped when there is one, else the plugin's own line.
function H.log_entry(log, name, rid)
  local plain = "rid=" .. rid
  local from, first = 1, nil
  while true do
    local s, e = log:find(plain, from, true)
    if not s then return first end
    local ls = s
    while ls > 1 and log:sub(ls - 1, ls - 1) ~= "\n" do ls = ls - 1 end
    local line_end = log:find("\n", e, true) or #log + 1
    local line = log:sub(ls, line_end - 1)
    if line:find("plugin " .. name .. ":", 1, true) then
      -- The traceback lines follow, up to the next timestamped line.
      local next_entry = log:find("\n%d%d%d%d%-%d%d%-%d%dT", line_end) or #log + 1
      local entry = log:sub(ls, next_entry - 1)
      if line:find(" failed " .. plain, 1, true) or line:find(" stopped " .. plain, 1, true) then
        return entry
      end
      first = first or entry
    end
    from = e + 1
  end
end

--- The server's settings this binary knows (the flags `parkhost help`
-- lists), as a set.
function H.known_flags(bin)
  local p = io.popen(H.sh_quote(bin) .. " help 2>&1")
  local out = p:read("a")
  p:close()
  local known = {}
  for flag in out:gmatch("%-%-([%w%-]+)") do known[flag] = true end
  return known
end

--- args without the flags (and their values) the binary does not know;
-- the second result lists those left out.
function H.supported(bin, args)
  local known = H.known_flags(bin)
  local out, missing = {}, {}
  local i = 1
  while i <= #args do
    local flag = args[i]:match("^%-%-(.+)$")
    local has_value = args[i + 1] ~= nil and not args[i + 1]:match("^%-%-")
    if flag and not known[flag] then
      missing[#missing + 1] = args[i]
    else
      out[#out + 1] = args[i]
      if has_value then out[#out + 1] = args[i + 1] end
    end
    i = i + (has_value and 2 or 1)
  end
  return out, missing
end

return H
