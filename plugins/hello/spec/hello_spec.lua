-- The hello plugin, seen by a client over real HTTP.
local testing = require("park.testing")

describe("hello: a page served by a Lua plugin", function()
  local site

  setup(function()
    site = testing.start_site({
      plugins = { "plugins" },
      bindings = {
        { column = "/hello", plugin = "hello" },
        { column = "/hi", plugin = "hello", config = { greeting = "你好，园区！" } },
      },
    })
  end)

  teardown(function()
    assert.are.equal(0, site:stop())
  end)

  it("answers GET /hello with the greeting as plain text", function()
    local res = site:request("GET", "/hello")
    assert.are.equal(200, res.status)
    assert.are.equal("Hello, World!", res.body)
    assert.are.equal("text/plain; charset=utf-8", res.headers["content-type"])
    assert.matches("^%x+$", res.headers["x-request-id"])
  end)

  it("serves each column it is bound to with that column's config", function()
    assert.are.equal("Hello, World!", site:request("GET", "/hello").body)
    assert.are.equal("你好，园区！", site:request("GET", "/hi").body)
    assert.are.equal(404, site:request("GET", "/hello/more").status)
  end)

  it("answers HEAD /hello with the headers alone", function()
    local res = site:request("HEAD", "/hello")
    assert.are.equal(200, res.status)
    assert.are.equal("13", res.headers["content-length"])
  end)

  it("logs one access line per request with its request id", function()
    local res = site:request("GET", "/hello")
    local id = res.headers["x-request-id"]
    site:wait_log_match("access method=GET path=/hello status=200 bytes=13 ms=[%d.]+ rid=" .. id)
  end)
end)
