-- park.db as plugins use it: migrations, namespaces enforced by SQLite,
-- bound parameters, transactions, budgets, and durability across a crash.
local testing = require("park.testing")
local cjson = require("cjson")
local socket = require("socket")

local function form(t)
  local parts = {}
  for k, v in pairs(t) do parts[#parts + 1] = k .. "=" .. tostring(v) end
  return table.concat(parts, "&")
end

local FORM = { ["Content-Type"] = "application/x-www-form-urlencoded" }

describe("park.db", function()
  local site

  setup(function()
    site = testing.start_site({
      plugins = { "tests/fixtures/plugins" },
      bindings = { { column = "/ledger", plugin = "ledger" },
                   { column = "/other", plugin = "other" } },
      args = { "--plugin-instructions", "5000000" },
    })
  end)

  teardown(function()
    assert.are.equal(0, site:stop())
  end)

  it("applies each plugin's migrations once, in order, at load", function()
    site:wait_log_match("plugin ledger: 3 migration%(s%) applied")
    site:wait_log_match("plugin other: 1 migration%(s%) applied")
    assert.are.equal(0, cjson.decode(site:request("GET", "/ledger/count").body).n)
  end)

  it("writes with bound parameters and reads rows back as tables", function()
    local res = site:request("POST", "/ledger/add", FORM,
      form({ note = "it's; DROP TABLE x", amount = 7 }))
    assert.are.equal(201, res.status)
    local id = cjson.decode(res.body).id
    local row = cjson.decode(site:request("GET", "/ledger/entry/" .. id).body)
    assert.are.same({ id = id, note = "it's; DROP TABLE x", amount = 7 }, row)
    assert.are.equal(404, site:request("GET", "/ledger/entry/999999").status)
  end)

  it("returns a constraint violation as nil, message, code", function()
    site:request("POST", "/ledger/add", FORM, form({ note = "twice" }))
    local res = site:request("POST", "/ledger/add", FORM, form({ note = "twice" }))
    assert.are.equal(409, res.status)
    local body = cjson.decode(res.body)
    assert.are.equal("CONSTRAINT", body.code)
    assert.matches("UNIQUE constraint failed: ledger_entries.note", body.error)
  end)

  it("rolls a transaction back when its function raises", function()
    local before = cjson.decode(site:request("GET", "/ledger/count").body).n
    assert.are.equal(200, site:request("POST", "/ledger/transfer", FORM,
      form({ note = "t1", amount = 50 })).status)
    assert.are.equal(before + 2, cjson.decode(site:request("GET", "/ledger/count").body).n)
    local res = site:request("POST", "/ledger/transfer", FORM, form({ note = "t2", amount = 500 }))
    assert.are.equal(422, res.status)
    assert.matches("over the limit", res.body)
    assert.are.equal(before + 2, cjson.decode(site:request("GET", "/ledger/count").body).n)
  end)

  it("searches Chinese text with FTS5, short queries included", function()
    for _, note in ipairs({ "关于高新技术企业认定的通知", "园区元旦假期安排", "认定结果公示" }) do
      assert.are.equal(201, site:request("POST", "/ledger/add", FORM, form({ note = note })).status)
    end
    local function search(q)
      local notes = {}
      for _, r in ipairs(cjson.decode(site:request("GET", "/ledger/search?q=" .. q).body)) do
        notes[#notes + 1] = r.note
      end
      table.sort(notes)
      return notes
    end
    assert.are.same({ "关于高新技术企业认定的通知" }, search("高新技术"))
    assert.are.same({ "关于高新技术企业认定的通知", "认定结果公示" }, search("认定"))
    assert.are.same({ "园区元旦假期安排" }, search("假"))
    assert.are.same({}, search("没有这个"))
  end)

  it("searches an FTS5 table after a restart, in a new connection", function()
    local s = testing.start_site({ plugins = { "tests/fixtures/plugins" },
                                   bindings = { { column = "/ledger", plugin = "ledger" } } })
    finally(function() s:stop() end)
    assert.are.equal(201, s:request("POST", "/ledger/add", FORM, form({ note = "高新技术企业" })).status)
    s:halt()
    s:restart()
    local res = s:request("GET", "/ledger/search?q=" .. "%E9%AB%98%E6%96%B0%E6%8A%80%E6%9C%AF")
    assert.are.equal(200, res.status, s:log())
    assert.are.equal("高新技术企业", cjson.decode(res.body)[1].note)
  end)

  it("stops a runaway query with the request's budget", function()
    local res = site:request("GET", "/ledger/slow")
    assert.are.equal(503, res.status)
    site:wait_log_match("rid=" .. res.headers["x-request-id"]
      .. "[^\n]*instruction budget exceeded")
    assert.are.equal(200, site:request("GET", "/ledger/count").status)
  end)

  describe("keeps each plugin inside its own tables", function()
    local refused = {
      ["SELECT secret FROM other_items"] = "may not read table other_items",
      ["DELETE FROM other_items"] = "may not write table other_items",
      ["INSERT INTO other_items (secret) VALUES ('x')"] = "may not write table other_items",
      ["CREATE TABLE stolen (x)"] = "may create and drop only its own tables, not stolen",
      ["DROP TABLE other_items"] = "may create and drop only its own tables, not other_items",
      ["CREATE INDEX ledger_x ON other_items (secret)"] = "not other_items",
      ["SELECT name FROM sqlite_master"] = "may not read table sqlite_master",
      ["WITH x AS (SELECT secret FROM other_items) SELECT * FROM x"] =
        "may not read table other_items",
      ["SELECT * FROM ledger_entries JOIN other_items"] = "may not read table other_items",
      ["SELECT * FROM park_migrations"] = "may not read table park_migrations",
      ["ATTACH DATABASE '/tmp/x.db' AS x"] = "may not attach",
      ["PRAGMA journal_mode=DELETE"] = "may not run PRAGMA journal_mode",
      ["PRAGMA writable_schema=1"] = "may not run PRAGMA",
      ["SELECT load_extension('/tmp/evil.so')"] = "may not call load_extension",
      ["BEGIN"] = "may not control transactions",
      ["COMMIT"] = "may not control transactions",
      -- A table named but none of its columns read.
      ["SELECT count(*) FROM park_users"] = "may not read table park_users",
      ["SELECT 1 FROM park_sessions LIMIT 1"] = "may not read table park_sessions",
      ["SELECT (SELECT count(*) FROM other_items)"] = "may not read table other_items",
      ["SELECT count(*) FROM (SELECT secret FROM other_items)"] = "may not read table other_items",
      ["SELECT count(*) FROM sqlite_master"] = "may not read table sqlite_master",
      ["WITH leak_x AS (SELECT 1) SELECT count(*) FROM leak_x"] = "may not read table leak_x",
      -- Work inside one SQLite call that nothing can interrupt.
      ["SELECT printf('%.*c', 400000000, 'x')"] = "may not call printf()",
      ["SELECT format('%d', 1)"] = "may not call format()",
    }
    for sql, why in pairs(refused) do
      it(sql, function()
        local res = site:request("POST", "/ledger/sql", {}, sql)
        assert.are.equal(403, res.status)
        assert.truthy(cjson.decode(res.body).error:find(why, 1, true), res.body)
      end)
    end

    it("while a common table expression without '_' reads as a table", function()
      local res = site:request("POST", "/ledger/sql", {},
        "WITH x AS (SELECT 1 UNION ALL SELECT 2) SELECT count(*) AS n FROM x")
      assert.are.equal(200, res.status, res.body)
      assert.are.equal(2, cjson.decode(res.body).rows[1].n)
    end)

    it("and no string it makes may be longer than plugin-db-value-bytes", function()
      local res = site:request("POST", "/ledger/sql", {}, "SELECT zeroblob(500000000) AS z")
      assert.are.equal(403, res.status, res.body)
      assert.matches("too big", cjson.decode(res.body).error)
    end)

    it("while its own tables are its to use", function()
      local res = site:request("POST", "/ledger/sql", {},
        "SELECT count(*) AS n FROM ledger_entries WHERE amount >= 0")
      assert.are.equal(200, res.status)
      assert.are.same({ { n = 0 + cjson.decode(res.body).rows[1].n } }, cjson.decode(res.body).rows)
      assert.are.equal("the other plugin's data",
        cjson.decode(site:request("GET", "/other").body)[1].secret)
    end)

    it("and refuses two statements in one call", function()
      local res = site:request("POST", "/ledger/sql", {},
        "SELECT 1; DELETE FROM other_items")
      assert.are.equal(403, res.status)
      assert.matches("one statement per call", res.body)
      assert.are.equal(1, #cjson.decode(site:request("GET", "/other").body))
    end)
  end)
end)

describe("a migration that fails", function()
  it("leaves the database as it was and keeps its plugin out, naming file and line", function()
    local site = testing.start_site({
      plugins = { "plugins", "tests/fixtures/broken" },
      bindings = { { column = "/hello", plugin = "hello" }, { column = "/b", plugin = "badmig" } },
    })
    finally(function() site:stop() end)
    local log = site:log()
    local hello = site:request("GET", "/hello").status
    assert.are.equal(0, site:stop())
    assert.matches("plugin badmig not loaded: [^\n]*tests/fixtures/broken/badmig/sql/"
      .. "002_bad%.sql:5: plugin badmig may create and drop only its own tables, not stolen", log)
    assert.are.equal(200, hello)
  end)
end)

describe("parkhost migrate", function()
  it("applies and lists migrations; a failed file is rolled back and fails the same way again",
    function()
      local dir = os.tmpname()
      os.remove(dir)
      os.execute("mkdir -p " .. dir)
      finally(function() os.execute("rm -rf " .. dir) end)
      local function migrate()
        local p = io.popen(("%q migrate --plugins tests/fixtures/plugins --plugins "
          .. "tests/fixtures/broken --db %s/m.db 2>&1; echo \"exit $?\""):format(PARKHOST_BIN, dir))
        local out = p:read("a")
        p:close()
        return out
      end
      local first, second = migrate(), migrate()
      for _, out in ipairs({ first, second }) do
        -- Had 002's first statement (CREATE TABLE badmig_b) been kept, the
        -- second run would fail on "table badmig_b already exists" instead.
        assert.matches("plugin badmig: tests/fixtures/broken/badmig/sql/002_bad%.sql:5: plugin "
          .. "badmig may create and drop only its own tables, not stolen", out)
        assert.matches("exit 1", out)
        assert.matches("badmig%s+001_ok%.sql", out)
        assert.falsy(out:find("002_bad.sql  ", 1, true))
      end
      assert.matches("plugin ledger: 3 migration%(s%) applied", first)
      assert.falsy(second:find("plugin ledger: 3 migration", 1, true))
      assert.matches("ledger%s+002_index%.sql", second)
    end)
end)

describe("an acknowledged write", function()
  -- group-commit 1: one fsync per loop turn, answers held until it; 0: one
  -- fsync per commit.
  for _, mode in ipairs({ "1", "0" }) do
  it("survives a crash of the process (SIGKILL) in the middle of writes, group-commit "
      .. mode, function()
    local site = testing.start_site({
      plugins = { "tests/fixtures/plugins" },
      bindings = { { column = "/ledger", plugin = "ledger" } },
      args = { "--group-commit", mode },
    })
    finally(function() site:stop() end)
    local acked = {}
    for i = 1, 60 do
      local res = site:request("POST", "/ledger/add", FORM, form({ note = "n" .. i }))
      assert.are.equal(201, res.status)
      acked[#acked + 1] = "n" .. i
    end
    -- A burst still being written when the process dies.
    local conns = {}
    for c = 1, 4 do
      local s = assert(socket.tcp())
      assert(s:connect("127.0.0.1", site.port))
      local burst = {}
      for k = 1, 25 do
        local body = "note=burst" .. c .. "-" .. k
        burst[k] = "POST /ledger/add HTTP/1.1\r\nHost: t\r\nContent-Type: "
          .. "application/x-www-form-urlencoded\r\nContent-Length: " .. #body .. "\r\n\r\n" .. body
      end
      assert(s:send(table.concat(burst)))
      conns[c] = s
    end
    -- Read the answers that arrive before the kill: those are acknowledged.
    local first = conns[1]
    first:settimeout(5)
    for _ = 1, 10 do
      local status = first:receive("*l")
      local len
      repeat
        local line = assert(first:receive("*l"))
        len = len or tonumber(line:match("^Content%-Length: (%d+)"))
      until line == ""
      local body = first:receive(len)
      if status:match("^HTTP/1.1 201") then acked[#acked + 1] = cjson.decode(body).id end
    end
    site:kill()
    for _, s in ipairs(conns) do s:close() end
    site:restart()
    local notes = cjson.decode(site:request("GET", "/ledger/notes").body)
    local count = cjson.decode(site:request("GET", "/ledger/count").body).n
    assert.are.equal(0, site:stop())
    local have = {}
    for _, n in ipairs(notes) do have[n] = true end
    for i = 1, 60 do assert.truthy(have["n" .. i], "lost acknowledged n" .. i) end
    assert.truthy(count >= 70, "the ten acknowledged burst writes are there")
  end)
  end
end)
