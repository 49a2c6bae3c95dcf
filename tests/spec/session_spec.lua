-- Staff logins and sessions through park.auth: Argon2id checked off the
-- loop, a session cookie, rate limits per account and address, logout,
-- disabled accounts and expiry.
local testing = require("park.testing")
local cjson = require("cjson")
local socket = require("socket")

local FORM = { ["Content-Type"] = "application/x-www-form-urlencoded" }

local function start(args)
  local site = testing.start_site({
    plugins = { "tests/fixtures/plugins" },
    bindings = { { column = "/desk", plugin = "desk" } },
    args = args,
  })
  assert(site:command({ input = "the admin's password\n" }, "user", "add", "admin", "--unit",
    "center", "--role", "admin", "--name", "管理员"))
  return site
end

local function login(site, who, pw)
  local res = site:request("POST", "/desk/login", FORM, "login=" .. who .. "&password=" .. pw)
  local cookie = res.headers["set-cookie"]
  return res.status, cjson.decode(res.body), cookie and cookie:match("^ph_session=([^;]*)"),
    cookie
end

local function me(site, token)
  local res = site:request("GET", "/desk/me", token and { Cookie = "ph_session=" .. token } or nil)
  return res.status, cjson.decode(res.body)
end

describe("park.auth", function()
  it("logs in with the right password and knows the user by the cookie", function()
    local site = start()
    finally(function() site:stop() end)
    local status, user, token, cookie = login(site, "admin", "the+admin%27s+password")
    assert.are.equal(200, status)
    assert.are.equal("admin", user.login)
    assert.are.equal("管理员", user.name)
    assert.are.same({ { unit = "center", role = "admin" } }, user.roles)
    assert.are.equal(43, #token)
    assert.matches("HttpOnly", cookie)
    assert.matches("SameSite=Lax", cookie)
    assert.matches("Max%-Age=28800", cookie)
    assert.falsy(cookie:find("Secure", 1, true), "not over HTTPS")
    local s2, who = me(site, token)
    assert.are.equal(200, s2)
    assert.are.equal("admin", who.login)
    assert.are.equal(401, (me(site)))
    assert.are.equal(401, (me(site, token:sub(1, -2) .. (token:sub(-1) == "x" and "y" or "x"))))
    site:wait_log_match("auth: admin logged in from 127%.0%.0%.1")
  end)

  it("says the same for a wrong password and an unknown login", function()
    local site = start()
    finally(function() site:stop() end)
    local s1, b1 = login(site, "admin", "wrong+password")
    local s2, b2 = login(site, "nobody", "the+admin%27s+password")
    assert.are.equal(401, s1)
    assert.are.equal(401, s2)
    assert.are.same(b1, b2)
    assert.are.equal("wrong login or password", b1.error)
    assert.are.equal("DENIED", b1.code)
    site:wait_log_match("auth: failed login as nobody from 127%.0%.0%.1")
  end)

  it("ends the session at logout", function()
    local site = start()
    finally(function() site:stop() end)
    local _, _, token = login(site, "admin", "the+admin%27s+password")
    local res = site:request("POST", "/desk/logout", { Cookie = "ph_session=" .. token })
    assert.are.equal(200, res.status)
    assert.matches("^ph_session=; Path=/; Max%-Age=0", res.headers["set-cookie"])
    assert.are.equal(401, (me(site, token)))
  end)

  it("makes an account wait after too many failures, right password or not", function()
    local site = start({ "--login-max-failures", "3" })
    finally(function() site:stop() end)
    for _ = 1, 3 do assert.are.equal(401, (login(site, "admin", "guess"))) end
    local status, body = login(site, "admin", "the+admin%27s+password")
    assert.are.equal(401, status)
    assert.are.equal("LIMIT", body.code)
    assert.matches("too many failed logins: try again in 15 minute%(s%)", body.error)
    site:wait_log_match("auth: login as admin from 127%.0%.0%.1 refused: too many failures")
    -- After the window it may try again.
    assert.are.equal(0, site:halt())
    site:restart({ "--clock-offset-s", "901" })
    assert.are.equal(200, (login(site, "admin", "the+admin%27s+password")))
  end)

  it("slows, never refuses, an address with failures across accounts", function()
    local site = start({ "--login-max-failures-address", "4", "--login-delay-ms", "300" })
    finally(function() site:stop() end)
    for i = 1, 4 do login(site, "user" .. i, "guess") end
    local t0 = socket.gettime()
    local status, body = login(site, "admin", "the+admin%27s+password")
    assert.are.equal(200, status)
    assert.are.equal("admin", body.login)
    assert.is_true(socket.gettime() - t0 >= 0.25, "the address's fifth attempt waits")
    site:wait_log_match("auth: login as admin from 127%.0%.0%.1 waits 300 ms: 4 failure%(s%)")
  end)

  it("refuses a disabled account and ends its sessions", function()
    local site = start()
    finally(function() site:stop() end)
    local _, _, token = login(site, "admin", "the+admin%27s+password")
    assert(site:command("user", "disable", "admin"))
    assert.are.equal(401, (me(site, token)))
    assert.are.equal(401, (login(site, "admin", "the+admin%27s+password")))
    assert(site:command("user", "enable", "admin"))
    assert.are.equal(200, (login(site, "admin", "the+admin%27s+password")))
  end)

  it("ends a session after session-ttl-s", function()
    local site = start({ "--session-ttl-s", "3600" })
    finally(function() site:stop() end)
    local _, _, token = login(site, "admin", "the+admin%27s+password")
    assert.are.equal(0, site:halt())
    site:restart({ "--clock-offset-s", "3500" })
    assert.are.equal(200, (me(site, token)))
    assert.are.equal(0, site:halt())
    site:restart({ "--clock-offset-s", "3601" })
    assert.are.equal(401, (me(site, token)))
  end)

  it("writes logins, logouts and plugins' changes to the audit log", function()
    local site = start()
    finally(function() site:stop() end)
    -- Before any login, a change is the plugin's own.
    assert.are.equal(200, site:request("POST", "/desk/change", FORM, "state=a").status)
    local _, _, token = login(site, "admin", "the+admin%27s+password")
    local as_admin = { ["Content-Type"] = FORM["Content-Type"], Cookie = "ph_session=" .. token }
    assert.are.equal(200, site:request("POST", "/desk/change", as_admin, "state=%E6%96%B0").status)
    local bad = site:request("POST", "/desk/change", as_admin, "action=Bad%20Name")
    assert.are.equal(400, bad.status)
    assert.matches("an action is 1 to 64 of", bad.body)
    site:request("POST", "/desk/logout", { Cookie = "ph_session=" .. token })
    local log = site:command("audit")
    local lines = {}
    for line in log:gmatch("[^\n]+") do lines[#lines + 1] = line end
    -- Newest first.
    assert.matches("user:admin%s+127%.0%.0%.1%s+auth%.logout%s+user:admin", lines[1])
    assert.matches('user:admin%s+127%.0%.0%.1%s+desk%.note%s+desk:1  before {"state":"old"}'
      .. '  after {"state":"新"}', lines[2])
    assert.matches("user:admin%s+127%.0%.0%.1%s+auth%.login%s+user:admin", lines[3])
    assert.matches('plugin:desk%s+127%.0%.0%.1%s+desk%.note%s+desk:1', lines[4])
    assert.matches("cli:%S+%s+%-%s+user%.add%s+user:admin", lines[5])
    -- Filters.
    local only = site:command("audit", "--actor", "plugin:desk")
    assert.are.equal(1, select(2, only:gsub("\n", "")))
    local logins = site:command("audit", "--action", "auth.")
    assert.are.equal(2, select(2, logins:gsub("\n", "")))
  end)

  it("copes with a client that leaves while its password is checked", function()
    local site = start()
    finally(function() site:stop() end)
    for _ = 1, 5 do
      local c = assert(socket.tcp())
      assert(c:connect("127.0.0.1", site.port))
      local body = "login=admin&password=the+admin%27s+password"
      assert(c:send("POST /desk/login HTTP/1.1\r\nHost: t\r\nContent-Type: "
        .. "application/x-www-form-urlencoded\r\nContent-Length: " .. #body .. "\r\n\r\n" .. body))
      c:close()
    end
    site:wait_log(function(log) return select(2, log:gsub("status=499", "")) >= 5 end)
    assert.are.equal(200, (login(site, "admin", "the+admin%27s+password")))
  end)
end)
