-- The access log: each request's path, never its query string (a 查询码, a
-- token or a resident's search in a URL stays out of the log), but for the
-- parameters the operator lists with log-query.
local testing = require("park.testing")

describe("the access log", function()
  it("shows paths without their query strings by default", function()
    local site = testing.start_site({ plugins = { "plugins" },
                                      bindings = { { column = "/hello", plugin = "hello" } } })
    finally(function() site:stop() end)
    local res = site:request("GET", "/hello?code=SECRET-CODE-42&q=%E9%80%9A%E7%9F%A5")
    local rid = res.headers["x-request-id"]
    local log = site:wait_log("rid=" .. rid)
    assert.truthy(log:find("access method=GET path=/hello status=200 ", 1, true), log)
    assert.falsy(log:find("SECRET-CODE-42", 1, true), "the code is in the log")
    assert.falsy(log:find("%E9%80%9A", 1, true), "the search is in the log")
  end)

  it("shows the parameters listed with log-query, and only those", function()
    local site = testing.start_site({ plugins = { "plugins" },
      bindings = { { column = "/hello", plugin = "hello" } },
      args = { "--log-query", "page", "--log-query", "obj" } })
    finally(function() site:stop() end)
    local res = site:request("GET", "/hello?code=SECRET&page=3&token=x%20y&obj=a%22b")
    local log = site:wait_log("rid=" .. res.headers["x-request-id"])
    assert.truthy(log:find('path=/hello?page=3&obj=a%22b status=200', 1, true), log)
    assert.falsy(log:find("SECRET", 1, true))
    assert.falsy(log:find("token", 1, true))
  end)
end)
