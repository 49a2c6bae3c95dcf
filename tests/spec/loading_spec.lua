-- Plugins that cannot load are reported with file, line and reason, and the
-- rest of the site starts normally.
local testing = require("park.testing")

describe("loading plugins", function()
  local site, log

  setup(function()
    site = testing.start_site({
      plugins = { "plugins", "tests/fixtures/broken" },
      bindings = { { column = "/hello", plugin = "hello" } },
    })
    log = site:log()
  end)

  teardown(function()
    assert.are.equal(0, site:stop())
  end)

  it("reports a syntax error with its file and line", function()
    assert.matches("ERROR plugin syntax_error not loaded: tests/fixtures/broken/syntax_error/"
      .. "plugin%.lua:6: '}' expected %(to close '{' at line 3%)", log)
  end)

  it("reports an error raised while the manifest is built", function()
    assert.matches("ERROR plugin load_error not loaded: tests/fixtures/broken/load_error/"
      .. "plugin%.lua:5: attempt to index a nil value", log)
  end)

  it("reports a bad manifest, a bad schema and a bad route with the reason", function()
    assert.matches("plugin bad_manifest not loaded: [^\n]*manifest field 'routes' must be a table",
      log)
    assert.matches("plugin bad_schema not loaded: [^\n]*config schema: field 'size': needs a "
      .. "description", log)
    assert.matches("plugin bad_route not loaded: [^\n]*pattern '/a//b' has an empty segment", log)
    assert.matches("plugin bad_job not loaded: [^\n]*jobs%.warm: give one of every, cron and "
      .. "start", log)
  end)

  it("starts the rest of the site normally", function()
    local res = site:request("GET", "/hello")
    assert.are.equal(200, res.status)
    assert.are.equal("Hello, World!", res.body)
  end)
end)
