-- What a resident and the staff see when a plugin fails or a page is missing.
local testing = require("park.testing")

describe("a failing plugin handler", function()
  local site

  setup(function()
    site = testing.start_site({ plugins = { "plugins", "tests/fixtures/plugins" },
                                site = "tests/fixtures/site.lua" })
  end)

  teardown(function()
    assert.are.equal(0, site:stop())
  end)

  it("gives a 500 page with the request id and nothing internal", function()
    local res = site:request("GET", "/error")
    local id = res.headers["x-request-id"]
    assert.are.equal(500, res.status)
    assert.matches("^%x+$", id)
    assert.truthy(res.body:find(id, 1, true))
    assert.matches("服务器内部错误", res.body)
    assert.falsy(res.body:find("plugin.lua", 1, true))
    assert.falsy(res.body:find("boom", 1, true))
    assert.falsy(res.body:find("traceback", 1, true))
  end)

  it("logs the request id with the plugin's file, line and traceback", function()
    local id = site:request("GET", "/error").headers["x-request-id"]
    local log = site:wait_log_match("ERROR plugin testkit: GET /error failed rid=" .. id
      .. " %(route GET /error%): [^\n]*tests/fixtures/plugins/testkit/plugin%.lua:%d+: boom")
    assert.matches("stack traceback:", log)
  end)

  it("refuses a redirect without a Location: a 500 and the plugin's line, never a blank page",
    function()
      local res = site:request("GET", "/cut-redirect")
      assert.are.equal(500, res.status)
      assert.is_nil(res.headers.location)
      assert.matches("服务器内部错误", res.body)
      site:wait_log_match("ERROR plugin testkit: GET /cut%-redirect failed rid="
        .. res.headers["x-request-id"] .. " [^\n]*a redirect %(3xx%) needs a Location header")
    end)

  it("does not disturb the next request", function()
    site:request("GET", "/error")
    local res = site:request("GET", "/hello")
    assert.are.equal(200, res.status)
    assert.are.equal("Hello, World!", res.body)
  end)

  it("leaves 404 for a path no plugin serves", function()
    local res = site:request("GET", "/no-such-page")
    assert.are.equal(404, res.status)
    assert.matches("页面不存在", res.body)
  end)
end)
