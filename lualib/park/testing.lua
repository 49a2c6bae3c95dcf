-- park.testing: start a real parkhost site from a busted spec and talk to it
-- over real HTTP on 127.0.0.1. Specs run under `parkhost test`.
--
--   local testing = require("park.testing")
--   local site = testing.start_site({
--     plugins = { "plugins" },
--     bindings = { { column = "/hello", plugin = "hello", config = { greeting = "Hi" } } },
--     -- or site = { units = { ... }, columns = { ... } } (a site file's table)
--   })
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

-- Lua source for a value made of tables, strings, numbers and booleans.
local function serialize(v, indent)
  indent = indent or ""
  local t = type(v)
  if t == "string" then return ("%q"):format(v) end
  if t == "number" or t == "boolean" then return tostring(v) end
  if t ~= "table" then error("bindings may hold tables, strings, numbers and booleans") end
  local keys = {}
  for k in pairs(v) do keys[#keys + 1] = k end
  table.sort(keys, function(a, b) return tostring(a) < tostring(b) end)
  local out = { "{\n" }
  for _, k in ipairs(keys) do
    local key = type(k) == "string" and ("[%q]"):format(k) or ("[%s]"):format(tostring(k))
    out[#out + 1] = indent .. "  " .. key .. " = " .. serialize(v[k], indent .. "  ") .. ",\n"
  end
  out[#out + 1] = indent .. "}"
  return table.concat(out)
end

local Site = {}

-- ---- temporary folders ---------------------------------------------------

local TMP_PREFIX = (os.getenv("TMPDIR") or "/tmp") .. "/parkhost-test."

-- This process's pid (the `parkhost test` run).
local function self_pid()
  local f = io.open("/proc/self/stat")
  local pid = f and tonumber(f:read("a"):match("^(%d+)"))
  if f then f:close() end
  return pid
end

-- Whether process `pid` runs (a zombie, dead but not yet reaped, does not).
local function alive(pid)
  local f = pid and io.open("/proc/" .. math.tointeger(pid) .. "/stat")
  if not f then return false end
  local state = f:read("a"):match("^%d+ %b() (%a)")
  f:close()
  return state ~= nil and state ~= "Z"
end

--- Folders left by runs that were killed (their owner is gone): their
-- servers are killed and the folders removed. The first testing.tmpdir()
-- of a run does it.
function testing.sweep()
  local p = io.popen("ls -d " .. sh_quote(TMP_PREFIX) .. "* 2>/dev/null")
  for dir in p:lines() do
    local owner = tonumber(read_file(dir .. "/owner") or "")
    if owner and not alive(owner) then
      local server = tonumber(read_file(dir .. "/parkhost.pid") or "")
      local cmdline = server and read_file("/proc/" .. math.tointeger(server) .. "/cmdline") or ""
      if cmdline:find(dir, 1, true) then os.execute("kill -KILL " .. math.tointeger(server)) end
      os.execute("rm -rf " .. sh_quote(dir))
    end
  end
  p:close()
end

--- A new empty folder for a spec's files, named after the run: removed by
-- site:stop() when it holds a site, and in any case by the next run of
-- `parkhost test` once this one has ended (killed runs included).
local swept, made = false, {}
function testing.tmpdir()
  if not swept then
    swept = true
    testing.sweep()
  end
  local p = assert(io.popen("mktemp -d " .. sh_quote(TMP_PREFIX .. "XXXXXXXX")))
  local dir = p:read("l")
  p:close()
  assert(dir and dir ~= "", "mktemp -d failed")
  local f = assert(io.open(dir .. "/owner", "w"))
  f:write(tostring(self_pid()), "\n")
  f:close()
  made[#made + 1] = dir
  return dir
end

-- Sites still running, killed when busted exits: a spec that fails before
-- it stops its site must not leave the run waiting for the server (the
-- Lua state's closing waits for every process it started).
local running = {}
local busted_ok, busted = pcall(require, "busted")
if busted_ok and type(busted) == "table" and busted.subscribe then
  busted.subscribe({ "exit" }, function()
    for site in pairs(running) do
      if site.proc then
        os.execute("kill -KILL " .. site.pid .. " 2>/dev/null")
        site.proc:close()
        site.proc = nil
      end
    end
    running = {}
    for _, dir in ipairs(made) do os.execute("rm -rf " .. sh_quote(dir)) end
    made = {}
  end)
end
Site.__index = Site

-- A site table for bindings = { { column =, plugin =, config = } }: one
-- column each, owned by the center.
local function site_of_bindings(bindings)
  local columns = {}
  for _, b in ipairs(bindings) do
    columns[#columns + 1] = { path = b.column, title = b.title or b.column, kind = "static",
                              unit = "center", plugin = b.plugin, config = b.config,
                              enabled = b.enabled }
  end
  return { columns = columns }
end

--- Start `parkhost serve` on a free loopback port with a fresh database in a
-- temporary directory. opts.plugins: list of plugin directories;
-- opts.site: a site table ({ units =, columns = }, as `parkhost site
-- import` reads) or the path of a site file, imported before the start;
-- opts.bindings: a shorthand, a list of { column =, plugin =, config = }
-- (columns of the center); opts.args: extra flags ({ "--max-body-bytes",
-- "100" }); opts.workers: how many workers serve (1 unless given, so that
-- a spec sees one process's state). Waits until every worker listens.
function testing.start_site(opts)
  opts = opts or {}
  local bin = opts.bin or os.getenv("PARKHOST_BIN_UNDER_TEST") or PARKHOST_BIN
  assert(bin, "no parkhost binary: run specs with `parkhost test`")
  local dir = testing.tmpdir()
  local log = dir .. "/parkhost.log"
  local site_file = opts.site
  if site_file == nil and opts.bindings then site_file = site_of_bindings(opts.bindings) end
  if type(site_file) == "table" then
    local f = assert(io.open(dir .. "/site.lua", "w"))
    f:write("return ", serialize(site_file), "\n")
    f:close()
    site_file = dir .. "/site.lua"
  end
  local plugins = {}
  for _, p in ipairs(opts.plugins or { "plugins" }) do
    plugins[#plugins + 1] = "--plugins"
    plugins[#plugins + 1] = sh_quote(p)
  end
  local cmd = { sh_quote(bin), "serve", "--host", "127.0.0.1", "--port", "0",
                "--db", sh_quote(dir .. "/site.db"),
                "--pid-file", sh_quote(dir .. "/parkhost.pid"),
                "--upload-dir", sh_quote(dir .. "/uploads"),
                "--files-dir", sh_quote(dir .. "/files"), table.concat(plugins, " "),
                "--workers", tostring(math.tointeger(opts.workers or 1)) }
  for _, a in ipairs(opts.args or {}) do cmd[#cmd + 1] = sh_quote(a) end
  local site = setmetatable({ dir = dir, log_path = log, cmd = table.concat(cmd, " "),
                              db_path = dir .. "/site.db", bin = bin,
                              plugin_flags = table.concat(plugins, " ") }, Site)
  if site_file then
    local out, ok = site:command("site", "import", site_file)
    if not ok then
      os.execute("rm -rf " .. sh_quote(dir))
      error("the site file cannot be imported:\n" .. out, 2)
    end
  end
  site:launch()
  return site
end

-- Start the server process (the shell prints its pid, then becomes
-- parkhost: exec keeps the pid) and wait until it listens.
function Site:launch()
  self.proc = assert(io.popen("echo $$; exec " .. self.cmd .. " 2>>"
    .. sh_quote(self.log_path) .. " </dev/null", "r"))
  self.pid = assert(tonumber(self.proc:read("l")), "could not start parkhost")
  running[self] = true
  local seen = #read_file(self.log_path)
  local deadline = socket.gettime() + 10
  while socket.gettime() < deadline do
    local port = read_file(self.log_path):sub(seen + 1)
      :match("listening on http://127%.0%.0%.1:(%d+)")
    if port then
      self.port = tonumber(port)
      return
    end
    socket.sleep(0.02)
  end
  local log = read_file(self.log_path)
  self:stop()
  error("parkhost did not start within 10 s; its log:\n" .. log)
end

--- How long a `parkhost` command of the harness may run, and how long the
-- server may take to stop after SIGTERM, before the spec fails.
testing.COMMAND_TIMEOUT_S = tonumber(os.getenv("PARKHOST_TEST_COMMAND_S")) or 60
testing.STOP_TIMEOUT_S = tonumber(os.getenv("PARKHOST_TEST_STOP_S")) or 15

--- Run `parkhost ARGS...` against the site's database (e.g. "calendar",
-- "set", ...); returns its output and whether it exited 0. A first
-- argument { input = "..." } is given to the command as its standard input.
function Site:command(...)
  local args, input = {}, nil
  for _, a in ipairs({ ... }) do
    if type(a) == "table" then input = a.input else args[#args + 1] = sh_quote(a) end
  end
  local stdin = "</dev/null"
  if input then
    stdin = self.dir .. "/stdin"
    local f = assert(io.open(stdin, "w"))
    f:write(input)
    f:close()
    stdin = "<" .. sh_quote(stdin)
  end
  local p = assert(io.popen("timeout -k 5 " .. testing.COMMAND_TIMEOUT_S .. " "
    .. sh_quote(self.bin) .. " " .. table.concat(args, " ") .. " --db "
    .. sh_quote(self.db_path) .. " " .. self.plugin_flags .. " " .. stdin .. " 2>&1"))
  local out = p:read("a")
  local ok, _, code = p:close()
  if code == 124 or code == 137 then
    error(("parkhost %s did not finish within %d s; its output:\n%s"):format(
      table.concat(args, " "), testing.COMMAND_TIMEOUT_S, out))
  end
  return out, ok == true
end

--- The pids of the server's workers (the supervisor's children), sorted.
function Site:worker_pids()
  local pids = {}
  local tasks = io.popen("ls /proc/" .. self.pid .. "/task 2>/dev/null")
  for tid in tasks:lines() do
    local f = io.open("/proc/" .. self.pid .. "/task/" .. tid .. "/children")
    for child in (f and f:read("a") or ""):gmatch("%d+") do pids[#pids + 1] = tonumber(child) end
    if f then f:close() end
  end
  tasks:close()
  table.sort(pids)
  return pids
end

--- Kill the server with SIGKILL, as a crash would, keeping its database
-- (its workers die with their supervisor).
function Site:kill()
  os.execute("kill -KILL " .. self.pid)
  self.proc:close()
  self.proc = nil
  running[self] = nil
end

--- Start the server again on the same database and settings (after kill()
-- or halt(); a server still running is halted first); `args` (optional) are
-- more flags, which override the first ones: { "--clock-offset-s", "604800" }
-- restarts it a week later.
function Site:restart(args)
  if self.proc then self:halt() end -- still running: stopped first, as an operator would
  local cmd = self.cmd
  for _, a in ipairs(args or {}) do cmd = cmd .. " " .. sh_quote(a) end
  local saved = self.cmd
  self.cmd = cmd
  local ok, err = pcall(self.launch, self)
  self.cmd = saved
  if not ok then error(err, 0) end
end

--- Stop the server with SIGTERM as an operator would, keeping its
-- database for restart(); returns the exit status (0 is clean).
function Site:halt()
  if not self.proc then return self.status end
  os.execute("kill -TERM " .. self.pid .. " 2>/dev/null")
  -- Closing the pipe waits for the process: wait here first, with a bound.
  local deadline = socket.gettime() + testing.STOP_TIMEOUT_S
  while alive(self.pid) and socket.gettime() < deadline do socket.sleep(0.01) end
  if alive(self.pid) then
    os.execute("kill -KILL " .. self.pid .. " 2>/dev/null")
    self.proc:close()
    self.proc = nil
    running[self] = nil
    error(("parkhost (pid %d) did not stop within %d s of SIGTERM (killed); its log ends:\n%s")
      :format(self.pid, testing.STOP_TIMEOUT_S, self:log():sub(-2000)))
  end
  local _, _, code = self.proc:close()
  self.proc = nil
  running[self] = nil
  self.status = code
  return code
end

--- The server's log (stderr) so far.
function Site:log()
  return read_file(self.log_path)
end

local function wait_log(self, what, plain, timeout)
  local deadline = socket.gettime() + (timeout or 5)
  repeat
    local log = self:log()
    if type(what) == "function" and what(log) or type(what) == "string"
        and log:find(what, 1, plain) then
      return log
    end
    socket.sleep(0.01)
  until socket.gettime() > deadline
  error(("the log never %s %s within %s s; the log:\n%s"):format(
    plain and "contained" or "matched", type(what) == "string" and ("%q"):format(what)
    or "the condition", timeout or 5, self:log()))
end

--- Wait until the log contains `text` (plain text: "2026-10-09" is a date,
-- not a pattern), or until the function `text(log)` returns true; 5 s by
-- default. Returns the log, or raises with the log when it never does.
function Site:wait_log(text, timeout)
  return wait_log(self, text, true, timeout)
end

--- The same with a Lua pattern: site:wait_log_match("rid=%x+ .- done").
function Site:wait_log_match(pattern, timeout)
  return wait_log(self, pattern, false, timeout)
end

local function read_head(c)
  local status_line, err = c:receive("*l")
  if not status_line then return nil, err end
  local res = { status = tonumber(status_line:match("^HTTP/1%.%d (%d%d%d)")), headers = {},
                raw_headers = {} }
  while true do
    local line = assert(c:receive("*l"))
    if line == "" then break end
    local k, v = line:match("^([^:]+):%s*(.*)$")
    res.raw_headers[#res.raw_headers + 1] = { k, v }
    local lk = k:lower()
    if res.headers[lk] then
      res.headers[lk] = res.headers[lk] .. ", " .. v -- repeated headers joined, as RFC 9110
    else
      res.headers[lk] = v
    end
  end
  return res
end

-- Read one chunk of a chunked body: its data, "" at the end, or nil, err.
local function read_chunk(c)
  local line, err = c:receive("*l")
  if not line then return nil, err end
  local size = tonumber(line:match("^%x+"), 16)
  if not size then return nil, "bad chunk size line: " .. line end
  if size == 0 then
    repeat line = assert(c:receive("*l")) until line == ""
    return ""
  end
  local data = assert(c:receive(size))
  assert(c:receive("*l"))
  return data
end

local function connect(port)
  local c = assert(socket.tcp())
  c:settimeout(10)
  assert(c:connect("127.0.0.1", port))
  return c
end

local function request_text(method, path, headers, body, keep_alive)
  local lines = { method .. " " .. path .. " HTTP/1.1" }
  local has = {}
  for k in pairs(headers or {}) do has[k:lower()] = true end
  if not has.host then lines[#lines + 1] = "Host: 127.0.0.1" end
  if not keep_alive then lines[#lines + 1] = "Connection: close" end
  for k, v in pairs(headers or {}) do lines[#lines + 1] = k .. ": " .. v end
  if body then lines[#lines + 1] = "Content-Length: " .. #body end
  return table.concat(lines, "\r\n") .. "\r\n\r\n" .. (body or "")
end

-- The body of the response whose head is `res`, read from c.
local function read_body(c, method, res)
  local bodiless = method == "HEAD" or res.status == 204 or res.status == 304
  if bodiless then
    res.body = ""
  elseif (res.headers["transfer-encoding"] or ""):lower() == "chunked" then
    local parts = {}
    repeat
      local data = assert(read_chunk(c))
      parts[#parts + 1] = data
    until data == ""
    res.body = table.concat(parts)
  else
    local len = tonumber(res.headers["content-length"])
    res.body = len and len > 0 and assert(c:receive(len)) or ""
  end
  return res
end

--- The worker (0, 1, ...) that answered `res`: the first two hex digits of
-- its X-Request-Id.
function testing.worker_of(res)
  local rid = res.headers and res.headers["x-request-id"] or ""
  return tonumber(rid:sub(1, 2), 16)
end

--- One HTTP/1.1 request on a new connection; returns { status, headers, body }
-- with header names lowercased (repeated headers joined with ", ";
-- raw_headers keeps them apart). `headers` and `body` are optional.
function Site:request(method, path, headers, body)
  local c = connect(self.port)
  assert(c:send(request_text(method, path, headers, body)))
  local res = read_body(c, method, assert(read_head(c)))
  c:close()
  return res
end

--- A keep-alive connection (a luasocket TCP object) served by worker `n`:
-- the kernel spreads new connections over the workers, so connections are
-- opened until one reaches it. Raises after 500 tries.
function Site:connect_worker(n)
  for _ = 1, 500 do
    local c = connect(self.port)
    assert(c:send(request_text("HEAD", "/", nil, nil, true)))
    local res = read_head(c)
    if res and testing.worker_of(res) == n then return c end
    c:close()
  end
  error("no connection reached worker " .. tostring(n))
end

--- Start a request and read only its head, for responses that stream:
-- returns a stream with .status, .headers, .worker (which worker serves
-- it), :read() (the next chunk of the body, "" at its end, nil and an error
-- on a timeout or a close) and :close(). `worker` (optional): the worker
-- that must serve it.
function Site:stream(path, headers, worker)
  local c = worker and self:connect_worker(worker) or connect(self.port)
  assert(c:send(request_text("GET", path, headers)))
  local res = assert(read_head(c))
  res.worker = testing.worker_of(res)
  local chunked = (res.headers["transfer-encoding"] or ""):lower() == "chunked"
  function res.read(_, timeout)
    c:settimeout(timeout or 10)
    if chunked then return read_chunk(c) end
    local data, err, partial = c:receive(4096)
    if data then return data end
    if partial and #partial > 0 then return partial end
    return err == "closed" and "" or nil, err
  end
  function res.close() c:close() end
  return res
end

--- Reload plugins and bindings (SIGHUP), as `parkhost reload` does.
function Site:reload()
  os.execute("kill -HUP " .. self.pid)
end

--- Stop the site with SIGTERM and wait; returns the exit status (0 is clean).
function Site:stop()
  local code = self:halt()
  os.execute("rm -rf " .. sh_quote(self.dir))
  return code
end

--- Call fn until it returns a true value, every 20 ms for up to `timeout`
-- seconds (5 by default); returns that value, or raises with `what`.
--- Add a staff account: `parkhost user add` with the password on its
-- standard input. Raises when the command fails.
function Site:add_user(login, unit, role, name, password)
  local out, ok = self:command({ input = password .. "\n" }, "user", "add", login, "--unit", unit,
    "--role", role, "--name", name or login)
  if not ok then error(("site:add_user(%q) failed: %s"):format(login, out)) end
end

local function url_encode(s)
  return (tostring(s):gsub("[^%w%-_%.~]", function(c) return ("%%%02X"):format(c:byte()) end))
end

-- A browser: keeps its cookies and the last CSRF token a page gave it.
local Browser = {}
Browser.__index = Browser

--- A new browser for this site, without cookies. `opts.worker`
-- (optional): every request goes to that worker, over one keep-alive
-- connection (opened again, to the same worker, when the server closes it).
function Site:browser(opts)
  return setmetatable({ site = self, jar = {}, worker = opts and opts.worker }, Browser)
end

-- One request over the browser's connection to its worker.
function Browser:pinned(method, path, headers, body)
  for _ = 1, 2 do
    self.conn = self.conn or self.site:connect_worker(self.worker)
    local c = self.conn
    local ok = c:send(request_text(method, path, headers, body, true))
    local res = ok and read_head(c)
    if res then
      read_body(c, method, res)
      if (res.headers.connection or ""):lower() == "close" then
        c:close()
        self.conn = nil
      end
      return res
    end
    c:close() -- closed while idle: once more on a new connection
    self.conn = nil
  end
  error("worker " .. self.worker .. " did not answer " .. method .. " " .. path)
end

function Browser:cookie()
  local names = {}
  for k in pairs(self.jar) do names[#names + 1] = k end
  if #names == 0 then return nil end
  table.sort(names)
  for i, k in ipairs(names) do names[i] = k .. "=" .. self.jar[k] end
  return table.concat(names, "; ")
end

--- One request with the browser's cookies; remembers the cookies it sets and
-- the `_csrf` token of the page it returns.
function Browser:request(method, path, content_type, body)
  local headers = { Cookie = self:cookie(), ["Content-Type"] = content_type }
  local res
  if self.worker then
    res = self:pinned(method, path, headers, body)
  else
    res = self.site:request(method, path, headers, body)
  end
  for _, h in ipairs(res.raw_headers) do
    if h[1]:lower() == "set-cookie" then
      local name, value = h[2]:match("^([^=]+)=([^;]*)")
      if value == "" or h[2]:find("Max%-Age=0", 1) then self.jar[name] = nil
      else self.jar[name] = value end
    end
  end
  self.token = res.body:match('name="_csrf" value="([^"]+)"') or self.token
  return res
end

function Browser:get(path)
  return self:request("GET", path)
end

--- POST a form. `token`: nil for the browser's own, false for none, or a
-- string. `files` (optional) makes it multipart: { field = { { filename =,
-- content_type =, data = }, ... } }.
function Browser:post(path, fields, token, files)
  fields = fields or {}
  local keys = {}
  for k in pairs(fields) do keys[#keys + 1] = k end
  table.sort(keys)
  if token ~= false then
    keys[#keys + 1] = "_csrf"
    fields = setmetatable({ _csrf = token or self.token or "" }, { __index = fields })
  end
  if not files then
    local parts = {}
    for _, k in ipairs(keys) do
      parts[#parts + 1] = url_encode(k) .. "=" .. url_encode(fields[k])
    end
    return self:request("POST", path, "application/x-www-form-urlencoded", table.concat(parts, "&"))
  end
  local b = "----parkhost-testing-boundary"
  local out = {}
  for _, k in ipairs(keys) do
    out[#out + 1] = ('--%s\r\nContent-Disposition: form-data; name="%s"\r\n\r\n%s\r\n')
      :format(b, k, tostring(fields[k]))
  end
  local names = {}
  for k in pairs(files) do names[#names + 1] = k end
  table.sort(names)
  for _, k in ipairs(names) do
    for _, f in ipairs(files[k]) do
      out[#out + 1] = ('--%s\r\nContent-Disposition: form-data; name="%s"; filename="%s"\r\n'
        .. "Content-Type: %s\r\n\r\n%s\r\n"):format(b, k, f.filename,
        f.content_type or "application/octet-stream", f.data)
    end
  end
  out[#out + 1] = "--" .. b .. "--\r\n"
  return self:request("POST", path, "multipart/form-data; boundary=" .. b, table.concat(out))
end

--- Log in through the admin console's form; raises unless it worked. The
-- CSRF token changes at login: the browser fetches a page for a new one.
function Browser:login(login, password)
  self:get("/admin/login")
  local res = self:post("/admin/login", { login = login, password = password })
  assert(res.status == 303, "login as " .. login .. " failed: " .. res.status .. " " .. res.body)
  assert(self:get("/admin/").status == 200)
  return self
end

-- Errors of the harness name the spec's line that called it, not a line
-- of this file: every public function re-raises at its caller's level.
local HERE = debug.getinfo(1, "S").short_src
local function at_caller(fn)
  return function(...)
    local r = table.pack(pcall(fn, ...))
    if r[1] then return table.unpack(r, 2, r.n) end
    local msg = r[2]
    if type(msg) ~= "string" then error(msg, 0) end
    local src = msg:match("^([^\n]-):%d+: ")
    if src and src ~= HERE and not src:find("park/testing%.lua$") then error(msg, 0) end
    if src then msg = msg:gsub("^[^\n]-:%d+: ", "", 1) end
    error(msg, 2)
  end
end

function testing.eventually(fn, timeout, what)
  local deadline = socket.gettime() + (timeout or 5)
  repeat
    local v = fn()
    if v then return v end
    socket.sleep(0.02)
  until socket.gettime() > deadline
  error("never happened within " .. (timeout or 5) .. " s: " .. (what or "condition"), 2)
end

for _, t in ipairs({ Site, Browser }) do
  for name, fn in pairs(t) do
    if type(fn) == "function" and name ~= "__index" then t[name] = at_caller(fn) end
  end
end
testing.start_site = at_caller(testing.start_site)

return testing
