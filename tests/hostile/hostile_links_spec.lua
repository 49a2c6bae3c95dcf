-- luacheck: std +busted, read globals PARKHOST_BIN
-- Files never through a link: a plugin whose folder holds a symbolic link
-- leading out of it (static/ to the database's folder or to /etc, a
-- template to /etc/passwd or to the database, a module or sql/ to another
-- folder) is refused at load, its column answers 404, and no byte of what
-- the link points at reaches anyone. Git cannot hold such links portably:
-- the spec copies the link_* fixtures into a temporary plugins folder,
-- starts the site (its columns are bound while the plugins are still
-- harmless), stops it, makes the links, and starts it again.
-- The same bounds as hostile_spec.lua: each attack answered within
-- ATTACK_S, /hello within PROBE_MS during and after it, memory under
-- RSS_BOUND_MB.
local testing = require("park.testing")
local H = dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "helper.lua")

local FIXTURES = "tests/fixtures/hostile"
local SECRET_MODULE = "secret-module-bytes-31337"

local function sh(cmd)
  assert(os.execute(cmd), cmd)
end

-- Each plugin: how its link is made (from its folder `dir`, the site `site`
-- and the folder `outside`), the paths to attack, and the bytes that must
-- never be served.
local LINKS = {
  { name = "link_static_db", paths = { "/h/link_static_db", "/static/link_static_db/site.db" },
    link = function(_, site) return "rm -r static && ln -s " .. H.sh_quote(site.dir)
      .. " static" end },
  { name = "link_static_etc", paths = { "/h/link_static_etc", "/static/link_static_etc/passwd",
                                        "/static/link_static_etc/hostname" },
    link = function() return "rm -r static && ln -s /etc static" end },
  { name = "link_static_file", paths = { "/h/link_static_file",
                                         "/static/link_static_file/style.css" },
    link = function() return "ln -sf /etc/passwd static/style.css" end },
  { name = "link_template_passwd", paths = { "/h/link_template_passwd" },
    link = function() return "ln -sf /etc/passwd templates/page.html" end },
  { name = "link_template_db", paths = { "/h/link_template_db" },
    link = function(_, site) return "ln -sf " .. H.sh_quote(site.db_path)
      .. " templates/page.html" end },
  { name = "link_module", paths = { "/h/link_module" },
    link = function(_, _, outside) return "ln -sf " .. H.sh_quote(outside .. "/secret.lua")
      .. " leak.lua" end },
  { name = "link_sql", paths = { "/h/link_sql" },
    link = function(_, _, outside) return "rm -r sql && ln -s " .. H.sh_quote(outside .. "/sql")
      .. " sql" end },
}

local NEVER = { "root:x:0:0", "SQLite format 3", SECRET_MODULE, "link_sql_stolen" }

describe("hostile plugins with symbolic links out of their folder", function()
  local site, tmp, pid

  setup(function()
    tmp = os.tmpname()
    os.remove(tmp)
    sh("mkdir -p " .. H.sh_quote(tmp .. "/plugins") .. " " .. H.sh_quote(tmp .. "/outside/sql"))
    local f = assert(io.open(tmp .. "/outside/secret.lua", "w"))
    f:write('return "' .. SECRET_MODULE .. '"\n')
    f:close()
    f = assert(io.open(tmp .. "/outside/sql/002_stolen.sql", "w"))
    f:write("CREATE TABLE link_sql_stolen (id INTEGER PRIMARY KEY);\n")
    f:close()
    local bindings = { { column = "/hello", plugin = "hello" } }
    for _, l in ipairs(LINKS) do
      sh("cp -r " .. H.sh_quote(FIXTURES .. "/" .. l.name) .. " " .. H.sh_quote(tmp .. "/plugins/"))
      bindings[#bindings + 1] = { column = "/h/" .. l.name, plugin = l.name }
    end
    local args = H.supported(PARKHOST_BIN, { "--plugin-instructions", "2000000",
                                             "--plugin-memory-mb", "16",
                                             "--plugin-max-hold-ms", "25" })
    site = testing.start_site({ plugins = { "plugins", tmp .. "/plugins" }, bindings = bindings,
                                args = args })
    assert.are.equal(0, site:halt())
    for _, l in ipairs(LINKS) do
      local dir = tmp .. "/plugins/" .. l.name
      sh("cd " .. H.sh_quote(dir) .. " && " .. l.link(dir, site, tmp .. "/outside"))
    end
    site:restart()
    pid = site.pid
  end)

  teardown(function()
    if site then site:stop() end
    if tmp then os.execute("rm -rf " .. H.sh_quote(tmp)) end
  end)

  for _, l in ipairs(LINKS) do
    it(l.name, function()
      local problems = {}
      for _, path in ipairs(l.paths) do
        local r = H.run(site, {}, "GET", path)
        for _, p in ipairs(r.problems) do problems[#problems + 1] = path .. ": " .. p end
        local res = r.res
        if res then
          if res.status ~= 404 then
            problems[#problems + 1] = path .. ": status " .. tostring(res.status) .. ", not 404: "
              .. res.body:sub(1, 100)
          end
          for _, s in ipairs(NEVER) do
            if res.body:find(s, 1, true) then problems[#problems + 1] = path .. " served " .. s end
          end
        end
      end
      local log = site:log()
      local line = log:match("[^\n]*plugin " .. l.name .. " not loaded[^\n]*")
      if os.getenv("PARKHOST_HOSTILE_VERBOSE") then io.stderr:write(tostring(line), "\n") end
      if not line then
        problems[#problems + 1] = "the log does not say the plugin was not loaded"
      elseif not line:find("symbolic link leading out of the plugin's folder", 1, true) then
        problems[#problems + 1] = "the log does not name the link: " .. line
      end
      for _, s in ipairs(NEVER) do
        if log:find(s, 1, true) then problems[#problems + 1] = "the log holds " .. s end
      end
      assert(#problems == 0, "\n  " .. table.concat(problems, "\n  "))
    end)
  end

  it("the server was never restarted", function()
    assert.is_true(H.alive(site.pid))
    assert.are.equal(pid, site.pid)
  end)
end)
