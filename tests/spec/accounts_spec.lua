-- Staff accounts from the command line (parkhost user): the first
-- administrator, roles held for units, passwords hashed with Argon2id.
local testing = require("park.testing")

describe("parkhost user", function()
  local site

  setup(function()
    site = testing.start_site({ plugins = { "tests/fixtures/plugins" }, bindings = {} })
  end)

  teardown(function()
    assert.are.equal(0, site:stop())
  end)

  local function user(input, ...)
    return site:command({ input = input }, "user", ...)
  end

  it("adds the first administrator for the center, with a hashed password", function()
    local out, ok = user("a long admin password\n", "add", "admin", "--unit", "center",
      "--role", "admin", "--name", "管理员")
    assert.is_true(ok, out)
    assert.matches("parkhost user add admin: done", out)
    local listed = user(nil, "list")
    assert.matches("admin%s+管理员%s+active%s+admin@center", listed)
    -- The database holds an Argon2id hash, never the password.
    local f = assert(io.open(site.db_path, "rb"))
    local bytes = f:read("a")
    f:close()
    local wal = io.open(site.db_path .. "-wal", "rb")
    if wal then bytes = bytes .. wal:read("a") wal:close() end
    assert.truthy(bytes:find("$argon2id$", 1, true))
    assert.falsy(bytes:find("a long admin password", 1, true))
  end)

  it("refuses what it cannot do, saying why, with status 2", function()
    local cases = {
      { "short\n", { "add", "bob", "--unit", "center", "--role", "editor" },
        "the password is too short %(password%-min%-length%)" },
      { "long enough pass\n", { "add", "bob", "--unit", "nosuch", "--role", "editor" },
        "there is no unit with this code" },
      { "long enough pass\n", { "add", "Bob Li", "--unit", "center", "--role", "editor" },
        "a login is 2 to 64 of" },
      { "long enough pass\n", { "add", "bob", "--unit", "center", "--role", "boss" },
        "the role is admin, webmaster, editor, reviewer or leader" },
      { "", { "add", "bob", "--unit", "center", "--role", "editor" },
        "no password on standard input" },
      { nil, { "disable", "nobody" }, "there is no user with this login" },
      { nil, { "add", "bob", "--unit", "center" }, "usage: parkhost user add" },
    }
    for _, c in ipairs(cases) do
      local out, ok = user(c[1], table.unpack(c[2]))
      assert.is_false(ok, out)
      assert.matches(c[3], out)
    end
    assert.falsy(user(nil, "list"):find("bob", 1, true), "nothing was added")
  end)

  it("adds units, and roles for them (admin for the center only)", function()
    local out, ok = site:command("unit", "add", "invest", "招商局")
    assert.is_true(ok, out)
    assert.matches("center%s+园区服务中心%s+%(the center%)\ninvest%s+招商局",
      (site:command("unit", "list")))
    out, ok = site:command("unit", "add", "invest", "again")
    assert.is_false(ok)
    assert.matches("a unit with this code exists", out)
    out, ok = site:command("unit", "add", "Bad Code", "x")
    assert.is_false(ok)
    assert.matches("a unit code is 1 to 32 of", out)
    assert.is_true(select(2, user("the editor password\n", "add", "zhao", "--unit", "invest",
      "--role", "editor")))
    out, ok = user(nil, "grant", "zhao", "--unit", "invest", "--role", "admin")
    assert.is_false(ok)
    assert.matches("the admin role is held for the center only", out)
    assert.matches("zhao%s+active%s+editor@invest", (user(nil, "list")))
    assert.matches("unit%.add%s+unit:invest", (site:command("audit")))
  end)

  it("grants roles, changes a password, disables and enables", function()
    assert.is_true(select(2, user("editor's password\n", "add", "li", "--unit", "center",
      "--role", "editor")))
    assert.is_true(select(2, user(nil, "grant", "li", "--unit", "center", "--role", "reviewer")))
    assert.matches("li%s+active%s+editor@center, reviewer@center", (user(nil, "list")))
    assert.is_true(select(2, user("a brand new password\n", "passwd", "li")))
    assert.is_true(select(2, user(nil, "disable", "li")))
    assert.matches("li%s+disabled", (user(nil, "list")))
    assert.is_true(select(2, user(nil, "enable", "li")))
    assert.matches("li%s+active", (user(nil, "list")))
  end)
end)
