-- park.testing: start a real parkhost site from a busted spec and talk to it
-- over real HTTP on 127.0.0.1. Specs run under `parkhost test`.
--
--   local testing = require("park.testing")
--   local site = testing.start_site({ plugins = { "plugins" } })
--   local res = site:request("GET", "/hello")   -- { status, headers, body }
--   site:stop()                                 -- SIGTERM; returns the exit code
local socket = require("socket")

local testing = {}

local function sh_quote(s)
  return "'" .. tostring(s):gsub("'", "'\\''") .. "'"
end

local function read_file(path)
  local f = io.open(path, "rb")
  if not f then return "" end
  local s = f:read("a")
  f:close()
  return s
end

local Site = {}
Site.__index = Site

--- Start `parkhost serve` on a free loopback port with a fresh database in a
-- temporary directory. opts.plugins: list of plugin directories; opts.args:
-- extra flags ({ "--max-body-bytes", "100" }). Waits until it listens.
function testing.start_site(opts)
  opts = opts or {}
  local bin = opts.bin or os.getenv("PARKHOST_BIN_UNDER_TEST") or PARKHOST_BIN
  assert(bin, "no parkhost binary: run specs with `parkhost test`")
  local dir = os.tmpname()
  os.remove(dir)
  assert(os.execute("mkdir -p " .. sh_quote(dir)))
  local log = dir .. "/parkhost.log"
  local cmd = { sh_quote(bin), "serve", "--host", "127.0.0.1", "--port", "0",
                "--db", sh_quote(dir .. "/site.db") }
  for _, p in ipairs(opts.plugins or { "plugins" }) do
    cmd[#cmd + 1] = "--plugins"
    cmd[#cmd + 1] = sh_quote(p)
  end
  for _, a in ipairs(opts.args or {}) do cmd[#cmd + 1] = sh_quote(a) end
  -- The shell prints its pid, then becomes parkhost (exec keeps the pid).
  local proc = assert(io.popen("echo $$; exec " .. table.concat(cmd, " ") .. " 2>"
    .. sh_quote(log) .. " </dev/null", "r"))
  local pid = assert(tonumber(proc:read("l")), "could not start parkhost")
  local site = setmetatable({ pid = pid, proc = proc, dir = dir, log_path = log }, Site)
  local deadline = socket.gettime() + 10
  while socket.gettime() < deadline do
    local port = read_file(log):match("listening on http://127%.0%.0%.1:(%d+)")
    if port then
      site.port = tonumber(port)
      return site
    end
    socket.sleep(0.02)
  end
  site:stop()
  error("parkhost did not start within 10 s; its log:\n" .. read_file(log))
end

--- The server's log (stderr) so far.
function Site:log()
  return read_file(self.log_path)
end

--- Wait until the log matches the Lua pattern `pattern` (default 5 s);
-- returns the log, or raises with the log when it never matches.
function Site:wait_log(pattern, timeout)
  local deadline = socket.gettime() + (timeout or 5)
  repeat
    local log = self:log()
    if log:find(pattern) then return log end
    socket.sleep(0.01)
  until socket.gettime() > deadline
  error("log never matched " .. pattern .. ":\n" .. self:log())
end

--- One HTTP/1.1 request on a new connection; returns { status, headers, body }
-- with header names lowercased. `headers` and `body` are optional.
function Site:request(method, path, headers, body)
  local c = assert(socket.tcp())
  c:settimeout(10)
  assert(c:connect("127.0.0.1", self.port))
  local lines = { method .. " " .. path .. " HTTP/1.1", "Host: 127.0.0.1",
                  "Connection: close" }
  for k, v in pairs(headers or {}) do lines[#lines + 1] = k .. ": " .. v end
  if body then lines[#lines + 1] = "Content-Length: " .. #body end
  assert(c:send(table.concat(lines, "\r\n") .. "\r\n\r\n" .. (body or "")))
  local status_line = assert(c:receive("*l"))
  local res = { status = tonumber(status_line:match("^HTTP/1%.%d (%d%d%d)")), headers = {} }
  while true do
    local line = assert(c:receive("*l"))
    if line == "" then break end
    local k, v = line:match("^([^:]+):%s*(.*)$")
    res.headers[k:lower()] = v
  end
  local len = tonumber(res.headers["content-length"])
  local bodiless = method == "HEAD" or res.status == 204 or res.status == 304
  res.body = not bodiless and len and len > 0 and assert(c:receive(len)) or ""
  c:close()
  return res
end

--- Stop the site with SIGTERM and wait; returns the exit status (0 is clean).
function Site:stop()
  if not self.proc then return self.status end
  os.execute("kill -TERM " .. self.pid .. " 2>/dev/null")
  local _, _, code = self.proc:close()
  self.proc = nil
  self.status = code
  os.execute("rm -rf " .. sh_quote(self.dir))
  return code
end

return testing
