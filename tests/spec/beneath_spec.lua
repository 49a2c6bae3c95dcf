-- Static files never leave a plugin's folder through a symbolic link: not
-- when the static folder itself is a link (to the site's database folder,
-- to /etc), not when a file or a folder in it is one. Plugins made at run
-- time in a temporary plugins folder, a real server, real requests.
local testing = require("park.testing")

local function q(s)
  return "'" .. tostring(s):gsub("'", "'\\''") .. "'"
end

local function sh(cmd)
  assert(os.execute(cmd), cmd)
end

local function write(path, text)
  local f = assert(io.open(path, "wb"))
  f:write(text)
  f:close()
end

local function read(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local s = f:read("a")
  f:close()
  return s
end

-- A tiny plugin `name` in dir, with static/ok.css.
local function make_plugin(dir, name)
  sh("mkdir -p " .. q(dir .. "/" .. name .. "/static"))
  write(dir .. "/" .. name .. "/plugin.lua", ([[
-- %s: a tiny plugin with one static file, made by beneath_spec.
return {
  name = %q,
  version = "1.0.0",
  description = "One static file",
  routes = { { "GET", "/", function() return "ok" end } },
}
]]):format(name, name))
  write(dir .. "/" .. name .. "/static/ok.css", "body { color: black; }\n")
end

describe("static files: never through a symbolic link", function()
  local site, plugins, secret_path
  local SECRET = "beneath-secret-" .. tostring(os.time()) .. "-" .. tostring(math.random(1e9))

  -- GET path answers 404 and none of the secret bytes.
  local function refused(path, ...)
    local res = site:request("GET", path)
    assert.are.equal(404, res.status, path)
    for _, bytes in ipairs({ SECRET, "root:", "SQLite format 3", ... }) do
      assert.falsy(res.body:find(bytes, 1, true), path .. " gave away " .. bytes)
    end
    return res
  end

  setup(function()
    plugins = os.tmpname()
    os.remove(plugins)
    sh("mkdir -p " .. q(plugins))
    secret_path = plugins .. ".secret"
    write(secret_path, SECRET .. "\n")
    -- Links already there when the site starts. The host may refuse to
    -- load such a plugin at all; either way nothing of them is served.
    make_plugin(plugins, "etclink")
    sh("rm -rf " .. q(plugins .. "/etclink/static") .. " && ln -s /etc "
       .. q(plugins .. "/etclink/static"))
    make_plugin(plugins, "filelink")
    sh("ln -s /etc/passwd " .. q(plugins .. "/filelink/static/passwd"))
    sh("ln -s " .. q(secret_path) .. " " .. q(plugins .. "/filelink/static/secret.txt"))
    make_plugin(plugins, "outside")
    sh("mkdir -p " .. q(plugins .. ".var") .. " && cp " .. q(secret_path) .. " "
       .. q(plugins .. ".var/parkhost.db"))
    sh("rm -rf " .. q(plugins .. "/outside/static") .. " && ln -s " .. q(plugins .. ".var")
       .. " " .. q(plugins .. "/outside/static"))
    -- A clean plugin whose folder the tests change while the site runs:
    -- links made after loading, which only the serving itself can refuse.
    make_plugin(plugins, "glass")
    site = testing.start_site({ plugins = { plugins } })
  end)

  teardown(function()
    assert.are.equal(0, site:stop())
    sh("rm -rf " .. q(plugins) .. " " .. q(plugins .. ".var") .. " " .. q(secret_path))
  end)

  it("serves a plain file of a plugin and of the host as before", function()
    local res = site:request("GET", "/static/glass/ok.css")
    assert.are.equal(200, res.status)
    assert.are.equal("body { color: black; }\n", res.body)
    assert.are.equal("text/css; charset=utf-8", res.headers["content-type"])
    assert.are.equal(304, site:request("GET", "/static/glass/ok.css",
      { ["If-None-Match"] = res.headers["etag"] }).status)
    assert.are.equal(200, site:request("GET", "/static/park/site.css").status)
  end)

  it("serves nothing of a plugin whose static folder is a link out, made before the start",
     function()
    refused("/static/etclink/passwd")
    refused("/static/etclink/hostname")
    refused("/static/outside/parkhost.db")
  end)

  it("serves no file that is a link out, made before the start", function()
    refused("/static/filelink/passwd")
    refused("/static/filelink/secret.txt")
  end)

  describe("links made while the site runs", function()
    local static

    before_each(function()
      static = plugins .. "/glass/static"
    end)

    -- Put a link to `target` in place of glass's static folder for fn.
    local function static_as_link(target, fn)
      sh("mv " .. q(static) .. " " .. q(static .. ".real") .. " && ln -s " .. q(target) .. " "
         .. q(static))
      local ok, err = pcall(fn)
      sh("rm " .. q(static) .. " && mv " .. q(static .. ".real") .. " " .. q(static))
      assert(ok, err)
    end

    it("serve nothing of the site's database through a static folder linked to it", function()
      local header = read(site.db_path)
      assert.truthy(header and header:find("SQLite format 3", 1, true), "no database to steal")
      local db = site.db_path:match("([^/]+)$")
      static_as_link(site.dir, function()
        refused("/static/glass/" .. db)
        refused("/static/glass/" .. db .. "-wal")
        refused("/static/glass/" .. db .. "-shm")
        refused("/static/glass/parkhost.log")
      end)
      assert.are.equal(200, site:request("GET", "/static/glass/ok.css").status)
    end)

    it("serve nothing of /etc through a static folder linked to it", function()
      static_as_link("/etc", function()
        refused("/static/glass/passwd")
        refused("/static/glass/hostname")
      end)
    end)

    it("serve no file that is a link, out of the folder or inside it", function()
      sh("ln -s /etc/passwd " .. q(static .. "/passwd"))
      sh("ln -s " .. q(secret_path) .. " " .. q(static .. "/secret.txt"))
      sh("ln -s ok.css " .. q(static .. "/alias.css"))
      local ok, err = pcall(function()
        refused("/static/glass/passwd")
        refused("/static/glass/secret.txt")
        refused("/static/glass/alias.css")
      end)
      sh("rm " .. q(static .. "/passwd") .. " " .. q(static .. "/secret.txt") .. " "
         .. q(static .. "/alias.css"))
      assert(ok, err)
    end)

    it("serve nothing through a folder in static that is a link", function()
      sh("ln -s /etc " .. q(static .. "/etc"))
      sh("mkdir -p " .. q(plugins .. ".var/css") .. " && cp " .. q(secret_path) .. " "
         .. q(plugins .. ".var/css/secret.css"))
      sh("ln -s " .. q(plugins .. ".var/css") .. " " .. q(static .. "/css"))
      local ok, err = pcall(function()
        refused("/static/glass/etc/passwd")
        refused("/static/glass/css/secret.css")
      end)
      sh("rm " .. q(static .. "/etc") .. " " .. q(static .. "/css"))
      assert(ok, err)
    end)

    it("log each refused link with the plugin and the path", function()
      sh("ln -s /etc/passwd " .. q(static .. "/logged.txt"))
      refused("/static/glass/logged.txt")
      sh("rm " .. q(static .. "/logged.txt"))
      site:wait_log_match("WARN +plugin glass: [^\n]*/glass/static/logged%.txt leads through a "
        .. "symbolic link")
    end)
  end)
end)
