-- Plugins that cannot load are reported with file, line and reason, and the
-- rest of the site starts normally.
local testing = require("park.testing")

describe("loading plugins", function()
  local site, log

  setup(function()
    site = testing.start_site({
      plugins = { "plugins", "tests/fixtures/broken" },
      bindings = {
        { column = "/hello", plugin = "hello" },
        { column = "/s", plugin = "syntax_error" },
        { column = "/hello2", plugin = "hello", config = { greting = "typo" } },
      },
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
  end)

  it("refuses bindings to a plugin that is not loaded or with an unknown config field", function()
    assert.matches("%(column /s%) not loaded: no plugin named 'syntax_error' is loaded", log)
    assert.matches("%(column /hello2%) not loaded: unknown config field 'greting'", log)
    assert.are.equal(404, site:request("GET", "/s").status)
    assert.are.equal(404, site:request("GET", "/hello2").status)
  end)

  it("starts the rest of the site normally", function()
    local res = site:request("GET", "/hello")
    assert.are.equal(200, res.status)
    assert.are.equal("Hello, World!", res.body)
  end)
end)

describe("a bindings file that cannot be read", function()
  it("stops the start with the file, the line and the reason", function()
    local dir = os.tmpname()
    os.remove(dir)
    os.execute("mkdir -p " .. dir)
    local f = assert(io.open(dir .. "/bindings.lua", "w"))
    f:write("return {\n  { column = '/a', plugin = 'hello' \n")
    f:close()
    local cmd = ("%q serve --port 0 --plugins plugins --bindings %s/bindings.lua --db %s/db "
      .. "--pid-file %s/pid 2>%s/log"):format(PARKHOST_BIN, dir, dir, dir, dir)
    local ok, _, code = os.execute(cmd)
    local log = assert(io.open(dir .. "/log")):read("a")
    os.execute("rm -rf " .. dir)
    assert.falsy(ok)
    assert.are.equal(1, code)
    assert.matches("bindings not loaded: [^\n]*/bindings%.lua:3: '}' expected", log)
    assert.matches("not started: fix the bindings file", log)
  end)
end)
