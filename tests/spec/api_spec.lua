-- The park API as a plugin author uses it, through real HTTP requests.
local testing = require("park.testing")
local cjson = require("cjson")
local socket = require("socket")

local function decode(res)
  assert.are.equal("application/json; charset=utf-8", res.headers["content-type"])
  return cjson.decode(res.body)
end

describe("the park API", function()
  local site

  setup(function()
    site = testing.start_site({
      plugins = { "plugins", "tests/fixtures/plugins" },
      bindings = {
        { column = "/apikit", plugin = "apikit", config = { title = "自定义", tags = { "a" } } },
        { column = "/hello", plugin = "hello" },
      },
    })
  end)

  teardown(function()
    assert.are.equal(0, site:stop())
  end)

  describe("routes", function()
    it("match patterns relative to the column, with decoded parameters", function()
      local res = site:request("GET", "/apikit/params/%E9%80%9A%E7%9F%A5/2026/11/a.pdf")
      assert.are.same({ id = "通知", rest = "2026/11/a.pdf" }, decode(res))
    end)

    it("give the request's method, path, column and subpath", function()
      local info = decode(site:request("GET", "/apikit/info?a=1"))
      assert.are.equal("GET", info.method)
      assert.are.equal("/apikit/info", info.path)
      assert.are.equal("/apikit", info.column)
      assert.are.equal("/info", info.subpath)
      assert.are.equal("a=1", info.query_string)
      assert.are.equal("/apikit/info?a=1", info.target)
      assert.matches("^%x+$", info.id)
    end)

    it("answer 404 for a path the plugin has no route for, and 405 with Allow", function()
      assert.are.equal(404, site:request("GET", "/apikit/nothing-here").status)
      local res = site:request("DELETE", "/apikit/info")
      assert.are.equal(405, res.status)
      assert.are.equal("GET, HEAD", res.headers["allow"])
    end)

    it("answer HEAD through the GET route", function()
      local res = site:request("HEAD", "/apikit/info")
      assert.are.equal(200, res.status)
      assert.truthy(tonumber(res.headers["content-length"]) > 0)
    end)
  end)

  describe("park.wait and park.notify", function()
    local function start_wait(query)
      local c = assert(socket.tcp())
      c:settimeout(10)
      assert(c:connect("127.0.0.1", site.port))
      assert(c:send("GET /apikit/wait?" .. query
        .. " HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"))
      return c
    end
    local function body_of(c)
      local data = c:receive("*a")
      c:close()
      return cjson.decode(data:match("\r\n\r\n(.*)$"))
    end
    local function notify(key)
      return decode(site:request("POST", "/apikit/notify?key=" .. key)).woken
    end

    it("wakes every waiter on the key, and only them", function()
      local a, b = start_wait("key=news"), start_wait("key=news")
      local other = start_wait("key=else&ms=300")
      socket.sleep(0.2) -- the three are waiting
      assert.are.equal(2, notify("news"))
      assert.is_true(body_of(a).notified)
      assert.is_true(body_of(b).notified)
      assert.is_false(body_of(other).notified, "its time ran out")
      assert.are.equal(0, notify("news"), "nobody waits any more")
    end)

    it("forgets a waiter whose client has left", function()
      local c = start_wait("key=gone&ms=10000")
      socket.sleep(0.2)
      c:close()
      testing.eventually(function() return notify("gone") == 0 end, 5, "the waiter gone")
      assert.are.equal(200, site:request("GET", "/apikit/info").status)
    end)
  end)

  describe("config", function()
    it("reaches the handler validated, with defaults filled in", function()
      assert.are.same({ title = "自定义", page_size = 10, tags = { "a" } },
        decode(site:request("GET", "/apikit/config")))
    end)
  end)

  describe("the request", function()
    it("parses the query string, repeated keys included", function()
      local q = decode(site:request("GET", "/apikit/query?a=1&tag=x&tag=y&a=2&empty&sp=a+b%20c"))
      assert.are.same({ a = "1", tag = "x", empty = "", sp = "a b c" }, q.first)
      assert.are.same({ "x", "y" }, q.tags)
      assert.are.same({}, q.none)
    end)

    it("reads headers in any case", function()
      local h = decode(site:request("GET", "/apikit/headers", { ["x-TEST"] = "值" }))
      assert.are.equal("值", h.one)
      assert.are.equal("值", h.table)
      assert.are.equal(cjson.null, h.missing)
    end)

    it("reads cookies, the first of a repeated name winning", function()
      local c = decode(site:request("GET", "/apikit/cookies",
        { Cookie = 'sid=abc; theme="dark"; sid=other' }))
      assert.are.same({ sid = "abc", theme = "dark" }, c)
    end)

    it("parses urlencoded forms", function()
      local f = decode(site:request("POST", "/apikit/form",
        { ["Content-Type"] = "application/x-www-form-urlencoded" },
        "name=%E5%BC%A0%E4%B8%89&tag=a&tag=b&note=hello+world"))
      assert.are.same({ name = "张三", tag = "a", note = "hello world" }, f.form)
      assert.are.same({ "a", "b" }, f.tags)
    end)

    it("parses multipart forms and spools files to disk for the request only", function()
      local b = "----parkhost7f3a"
      local body = table.concat({
        "--" .. b, 'Content-Disposition: form-data; name="title"', "", "园区通知",
        "--" .. b, 'Content-Disposition: form-data; name="doc"; filename="报告.pdf"',
        "Content-Type: application/pdf", "", "%PDF-1.4 fake",
        "--" .. b .. "--", "" }, "\r\n")
      local f = decode(site:request("POST", "/apikit/form",
        { ["Content-Type"] = "multipart/form-data; boundary=" .. b }, body))
      assert.are.equal("园区通知", f.form.title)
      local doc = f.files.doc[1]
      assert.are.equal("报告.pdf", doc.filename)
      assert.are.equal("application/pdf", doc.content_type)
      assert.are.equal(#"%PDF-1.4 fake", doc.size)
      assert.is_nil(io.open(doc.path), "the spooled file outlived its request")
    end)

    it("answers 400 to a malformed form and 413 to one with too many fields", function()
      local bad = site:request("POST", "/apikit/form",
        { ["Content-Type"] = "multipart/form-data; boundary=xyz" }, "no boundary here")
      assert.are.equal(400, bad.status)
      site:wait_log_match("WARN  plugin apikit: POST /apikit/form rid="
        .. bad.headers["x-request-id"]
        .. ": [^\n]*refused with 400")
      local many = {}
      for i = 1, 1001 do many[i] = "f" .. i .. "=1" end
      local big = site:request("POST", "/apikit/form",
        { ["Content-Type"] = "application/x-www-form-urlencoded" }, table.concat(many, "&"))
      assert.are.equal(413, big.status)
    end)

    it("decodes JSON bodies, and says why when it cannot", function()
      local ok = decode(site:request("POST", "/apikit/json", {}, '{"votes":[1,2],"name":"李"}'))
      assert.are.same({ votes = { 1, 2 }, name = "李" }, ok.got)
      local bad = site:request("POST", "/apikit/json", {}, "{not json")
      assert.are.equal(400, bad.status)
      assert.matches("not JSON", cjson.decode(bad.body).error)
    end)

    it("gives the client's address", function()
      assert.are.equal("127.0.0.1", site:request("GET", "/apikit/client").body)
      -- Not behind a trusted proxy: X-Forwarded-For is ignored.
      assert.are.equal("127.0.0.1", site:request("GET", "/apikit/client",
        { ["X-Forwarded-For"] = "203.0.113.9" }).body)
    end)
  end)

  describe("the response", function()
    it("carries status and headers set through res", function()
      local res = site:request("GET", "/apikit/status")
      assert.are.equal(201, res.status)
      assert.are.equal("created", res.body)
      assert.are.equal("1, 2", res.headers["x-one"])
    end)

    it("redirects with 303 and a Location", function()
      local res = site:request("GET", "/apikit/redirect")
      assert.are.equal(303, res.status)
      assert.are.equal("/apikit/info?from=redirect", res.headers["location"])
    end)

    it("sets cookies with safe defaults and the options given", function()
      local res = site:request("GET", "/apikit/cookie")
      local cookies = {}
      for _, h in ipairs(res.raw_headers) do
        if h[1]:lower() == "set-cookie" then cookies[#cookies + 1] = h[2] end
      end
      assert.are.equal(2, #cookies)
      assert.matches("^sid=abc123;", cookies[1])
      assert.matches("Max%-Age=3600", cookies[1])
      assert.matches("HttpOnly", cookies[1])
      assert.matches("Secure", cookies[1])
      assert.matches("SameSite=Lax", cookies[1])
      assert.matches("^lang=zh%-CN;", cookies[2])
      assert.falsy(cookies[2]:find("HttpOnly", 1, true))
      assert.matches("SameSite=Strict", cookies[2])
    end)

    it("refuses a bad cookie or header with a 500 that names the problem in the log", function()
      local res = site:request("GET", "/apikit/bad-cookie")
      assert.are.equal(500, res.status)
      site:wait_log_match("rid=" .. res.headers["x-request-id"] .. "[^\n]*bad cookie 'sid'")
      res = site:request("GET", "/apikit/bad-header")
      assert.are.equal(500, res.status)
      assert.is_nil(res.headers["injected"])
      site:wait_log_match("rid=" .. res.headers["x-request-id"]
        .. "[^\n]*response header 'X%-Bad': bad response header value")
    end)

    it("escapes HTML and percent-encodes, byte for byte", function()
      local s = "<a href=\"x\">Tom & Jerry's 通知</a>~-_."
      local res = site:request("GET", "/apikit/text?s=" .. s:gsub("[^%w]", function(c)
        return ("%%%02X"):format(c:byte())
      end))
      assert.are.equal(200, res.status, res.body)
      local got = require("cjson").decode(res.body)
      assert.are.equal("&lt;a href=&quot;x&quot;&gt;Tom &amp; Jerry&#39;s 通知&lt;/a&gt;~-_.",
        got.escaped)
      assert.are.equal("%3Ca%20href%3D%22x%22%3ETom%20%26%20Jerry%27s%20%E9%80%9A%E7%9F%A5"
        .. "%3C%2Fa%3E~-_.", got.encoded)
      assert.are.equal(s, got.decoded)
      assert.are.equal("a b c", got.plus)
    end)

    it("lets print and park.log write to the server's log, marked with the plugin", function()
      local id = site:request("GET", "/apikit/log").headers["x-request-id"]
      site:wait_log_match("INFO  plugin apikit: print: printed\t1\tnil\n")
      site:wait_log_match("WARN  plugin apikit: warned 2 true rid=" .. id)
    end)

    it("renders templates with layouts and partials, escaped by default", function()
      local res = site:request("GET", "/apikit/render")
      assert.are.equal(200, res.status)
      assert.matches("<title>&lt;通知公告&gt;</title>", res.body, 1, true)
      assert.matches("<li>一</li>", res.body, 1, true)
      assert.matches("<li>&lt;b&gt;二&lt;/b&gt;</li>", res.body, 1, true)
    end)
  end)

  describe("waiting", function()
    it("park.sleep waits without blocking other requests", function()
      local t0 = socket.gettime()
      local slow = assert(socket.tcp())
      slow:settimeout(10)
      assert(slow:connect("127.0.0.1", site.port))
      assert(slow:send("GET /apikit/sleep?ms=300 HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"))
      local hello = site:request("GET", "/hello")
      local hello_done = socket.gettime()
      assert.are.equal(200, hello.status)
      local answer = slow:receive("*a")
      slow:close()
      assert.matches("^HTTP/1.1 200 OK", answer)
      assert.matches("slept 300$", answer)
      assert.truthy(hello_done - t0 < 0.25, "hello waited for the sleeping request")
      assert.truthy(socket.gettime() - t0 >= 0.29)
    end)

    it("park.sleep refuses to wait from a coroutine of the plugin", function()
      local res = site:request("GET", "/apikit/sleep-in-coroutine")
      assert.are.equal(500, res.status)
      site:wait_log_match("rid=" .. res.headers["x-request-id"]
        .. "[^\n]*park.sleep must be called from the handler itself")
    end)

    it("streams a chunked body over time", function()
      local res = site:request("GET", "/apikit/stream")
      assert.are.equal(200, res.status)
      assert.are.equal("chunked", res.headers["transfer-encoding"])
      assert.are.equal("<p>one</p><p>two</p>", res.body)
    end)

    it("sends server-sent events", function()
      local s = site:stream("/apikit/sse")
      assert.are.equal("text/event-stream; charset=utf-8", s.headers["content-type"])
      assert.are.equal("no-cache", s.headers["cache-control"])
      local parts = {}
      repeat
        local data = assert(s:read())
        parts[#parts + 1] = data
      until data == ""
      s:close()
      local text = table.concat(parts)
      assert.matches("id: 1\nevent: tick\ndata: 第1条\ndata: line two\n\n", text, 1, true)
      assert.matches("id: 3\nevent: tick\ndata: 第3条\ndata: line two\n\n", text, 1, true)
    end)

    it("ends a handler's waits when its client goes away", function()
      local s = site:stream("/apikit/forever")
      local id = s.headers["x-request-id"]
      assert.matches("data: hello", assert(s:read()))
      s:close()
      site:wait_log_match("access method=GET path=/apikit/forever status=499 [^\n]*rid=" .. id)
      assert.are.equal(200, site:request("GET", "/hello").status)
    end)
  end)
end)

describe("the park API behind a trusted proxy", function()
  it("takes the client's address from X-Forwarded-For", function()
    local site = testing.start_site({
      plugins = { "tests/fixtures/plugins" },
      bindings = { { column = "/apikit", plugin = "apikit" } },
      args = { "--trusted-proxies", "127.0.0.0/8" },
    })
    finally(function() site:stop() end)
    local ip = site:request("GET", "/apikit/client",
      { ["X-Forwarded-For"] = "203.0.113.9, 127.0.0.2" }).body
    local spoofed = site:request("GET", "/apikit/client",
      { ["X-Forwarded-For"] = "not-an-ip, 198.51.100.7" }).body
    assert.are.equal(0, site:stop())
    assert.are.equal("203.0.113.9", ip)
    assert.are.equal("198.51.100.7", spoofed)
  end)
end)

describe("static files of a plugin", function()
  local site, secret

  setup(function()
    site = testing.start_site({
      plugins = { "tests/fixtures/plugins" },
      bindings = { { column = "/apikit", plugin = "apikit" } },
      args = { "--static-max-age-s", "600" },
    })
    secret = os.tmpname()
    local f = assert(io.open(secret, "w"))
    f:write("secret\n")
    f:close()
  end)

  teardown(function()
    os.remove(secret)
    assert.are.equal(0, site:stop())
  end)

  it("are served under /static/<plugin>/ with their type and caching headers", function()
    local res = site:request("GET", "/static/apikit/site.css")
    assert.are.equal(200, res.status)
    assert.are.equal("body { font-family: sans-serif; }\n", res.body)
    assert.are.equal("text/css; charset=utf-8", res.headers["content-type"])
    assert.are.equal("public, max-age=600", res.headers["cache-control"])
    assert.matches('^"%x+%-%x+"$', res.headers["etag"])
    assert.matches("GMT$", res.headers["last-modified"])
    assert.are.equal("image/svg+xml", site:request("GET", "/static/apikit/img/logo.svg")
      .headers["content-type"])
  end)

  it("answer 304 to a client that has the same version", function()
    local first = site:request("GET", "/static/apikit/site.css")
    local again = site:request("GET", "/static/apikit/site.css",
      { ["If-None-Match"] = first.headers["etag"] })
    assert.are.equal(304, again.status)
    assert.are.equal("", again.body)
    local since = site:request("GET", "/static/apikit/site.css",
      { ["If-Modified-Since"] = first.headers["last-modified"] })
    assert.are.equal(304, since.status)
  end)

  it("never serve a file outside the plugin's static folder", function()
    for _, path in ipairs({
      "/static/apikit/../plugin.lua", "/static/apikit/%2e%2e/plugin.lua",
      "/static/apikit/img/../../plugin.lua", "/static/apikit/.hidden", "/static/apikit/",
      "/static/apikit//etc/passwd", "/static/nosuchplugin/site.css",
      "/static/apikit/" .. ("x"):rep(10) .. "/../../../../../../etc/passwd",
    }) do
      local res = site:request("GET", path)
      assert.are.equal(404, res.status, path)
      assert.falsy(res.body:find("root:", 1, true))
    end
  end)

  it("do not follow a symbolic link out of the folder", function()
    local link = "tests/fixtures/plugins/apikit/static/escape.txt"
    os.remove(link)
    assert(os.execute("ln -s " .. secret .. " " .. link))
    local res = site:request("GET", "/static/apikit/escape.txt")
    os.remove(link)
    assert.are.equal(404, res.status)
    assert.falsy(res.body:find("secret", 1, true))
  end)
end)
