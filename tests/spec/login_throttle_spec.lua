-- Staff behind one shared address (a NAT, a proxy) while someone guesses
-- passwords from it: the address is slowed, never refused; the account
-- guessed is still locked; a browser that logged in before is not slowed.
-- Issue 25, item 1.
local testing = require("park.testing")
local socket = require("socket")

local PASSWORD = "the staff's password"

local function start(args)
  local site = testing.start_site({
    plugins = { "tests/fixtures/plugins" },
    bindings = { { column = "/desk", plugin = "desk" } },
    args = args,
  })
  site:add_user("admin", "center", "admin", "管理员", PASSWORD)
  site:add_user("wang", "center", "editor", "王", PASSWORD)
  return site
end

-- `n` failed logins from 127.0.0.1, `batch` at a time over as many
-- connections (a guesser does not wait for one answer before the next
-- try), each as another unknown account so that no account's own limit is
-- what stops them. Returns the statuses seen.
local function guess(site, n, batch)
  local seen = {}
  local done = 0
  while done < n do
    local conns = {}
    for i = 1, math.min(batch, n - done) do
      local body = "login=guess" .. (done + i) .. "&password=wrong"
      local c = assert(socket.tcp())
      c:settimeout(30)
      assert(c:connect("127.0.0.1", site.port))
      assert(c:send("POST /desk/login HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
        .. "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: " .. #body
        .. "\r\n\r\n" .. body))
      conns[#conns + 1] = c
    end
    for _, c in ipairs(conns) do
      local line = assert(c:receive("*l"))
      local status = tonumber(line:match("^HTTP/1%.1 (%d+)"))
      seen[status] = (seen[status] or 0) + 1
      c:close()
    end
    done = done + #conns
  end
  return seen
end

-- Log in through the admin console's form, as a member of staff does; the
-- status of the form's answer and how long it took (s).
local function console_login(browser, login, password)
  browser:get("/admin/login")
  local t0 = socket.gettime()
  local res = browser:post("/admin/login", { login = login, password = password })
  return res.status, socket.gettime() - t0, res
end

local function set_cookie(res, name)
  for _, h in ipairs(res.raw_headers) do
    if h[1]:lower() == "set-cookie" and h[2]:sub(1, #name + 1) == name .. "=" then return h[2] end
  end
end

describe("logins from an address under attack", function()
  it("slows the address, lets staff in, and a known browser in at once", function()
    -- Slowed past 40 failures: 1 s more per failure, at most 4 s.
    local site = start({ "--login-max-failures-address", "40", "--login-delay-ms", "1000",
                         "--login-delay-max-ms", "4000" })
    finally(function() site:stop() end)
    local seen = guess(site, 50, 10)
    assert.are.same({ [401] = 50 }, seen) -- refused as wrong, never as too many
    site:wait_log_match("auth: login as guess4%d from 127%.0%.0%.1 waits 1000 ms: 40 failure%(s%)")

    -- A member of staff at the same address, in a new browser: the right
    -- password gets in, after the documented wait (login-delay-max-ms).
    local staff = site:browser()
    local status, took, res = console_login(staff, "wang", PASSWORD)
    assert.are.equal(303, status)
    assert.are.equal(200, staff:get("/admin/").status)
    assert.is_true(took >= 3.5, ("the login took %.2f s; the address should wait 4 s"):format(took))
    assert.is_true(took < 4 + 6, ("the login took %.2f s; want about 4 s"):format(took))
    site:wait_log_match("auth: login as wang from 127%.0%.0%.1 waits 4000 ms: 50 failure%(s%)")

    -- It now holds a device cookie, for the console alone, kept from scripts.
    local device = set_cookie(res, "ph_device")
    assert.is_truthy(device, "no ph_device cookie at login")
    assert.matches("; Path=/admin;", device .. ";")
    assert.matches("; Max%-Age=2592000", device)
    assert.matches("; HttpOnly", device)
    assert.matches("; SameSite=Lax", device)
    assert.falsy(device:find("Secure", 1, true), "not over HTTPS")
    assert.falsy(device:find("wang", 1, true), "the cookie names no login")

    -- The same browser, logged out, logs in again at once: the attack on
    -- its address does not slow it.
    staff:post("/admin/logout", {})
    assert.are.equal(303, (staff:get("/admin/")).status)
    local again_status, again = console_login(staff, "wang", PASSWORD)
    assert.are.equal(303, again_status)
    assert.is_true(again < 2.5, ("a known browser waited %.2f s"):format(again))
    site:wait_log_match("auth: login as wang from 127%.0%.0%.1 not slowed: a known browser")

    -- wang's device cookie is wang's alone: as admin, the same browser waits.
    local other = site:browser()
    other.jar.ph_device = staff.jar.ph_device
    local admin_status, admin_took = console_login(other, "admin", PASSWORD)
    assert.are.equal(303, admin_status)
    assert.is_true(admin_took >= 3.5, ("admin's login took %.2f s"):format(admin_took))
    -- A forged cookie is no cookie.
    local forged = site:browser()
    forged.jar.ph_device = staff.jar.ph_device:gsub("%.(.)", function(c)
      return "." .. (c == "A" and "B" or "A")
    end, 1)
    local _, forged_took = console_login(forged, "wang", PASSWORD)
    assert.is_true(forged_took >= 3.5, ("a forged cookie waited only %.2f s"):format(forged_took))
  end)

  it("forgets a login whose client leaves while it waits", function()
    local site = start({ "--login-max-failures-address", "1", "--login-delay-ms", "3000" })
    finally(function() site:stop() end)
    assert.are.same({ [401] = 1 }, guess(site, 1, 1))
    local body = "login=wang&password=x"
    local c = assert(socket.tcp())
    assert(c:connect("127.0.0.1", site.port))
    assert(c:send("POST /desk/login HTTP/1.1\r\nHost: 127.0.0.1\r\n"
      .. "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: " .. #body
      .. "\r\n\r\n" .. body))
    site:wait_log_match("auth: login as wang from 127%.0%.0%.1 waits 3000 ms")
    c:close()
    site:wait_log("status=499")
    -- Nothing of it was counted, and the site serves on.
    local res = site:request("GET", "/desk/me")
    assert.are.equal(401, res.status)
    assert.is_nil(site:log():find("failed login as wang", 1, true))
  end)

  it("still locks an account that is guessed, whatever the browser", function()
    local site = start()
    finally(function() site:stop() end)
    -- admin logged in from this browser before: it holds a device cookie.
    local known = site:browser()
    assert.are.equal(303, (console_login(known, "admin", PASSWORD)))
    known:post("/admin/logout", {})
    assert.is_truthy(known.jar.ph_device)
    -- Someone guesses admin's password: after login-max-failures (5) the
    -- account is locked, with more attempts and with the right password.
    local guesser = site:browser()
    for _ = 1, 5 do assert.are.equal(401, (console_login(guesser, "admin", "guess"))) end
    for _ = 1, 10 do assert.are.equal(429, (console_login(guesser, "admin", "guess"))) end
    local status, _, res = console_login(guesser, "admin", PASSWORD)
    assert.are.equal(429, status)
    assert.matches("登录失败次数过多", res.body)
    -- The device cookie does not lift the account's lock either.
    assert.are.equal(429, (console_login(known, "admin", PASSWORD)))
    site:wait_log_match("auth: login as admin from 127%.0%.0%.1 refused: too many failures")
    -- The address itself is not refused: another account logs in from it.
    local staff = site:browser()
    local wang_status, took = console_login(staff, "wang", PASSWORD)
    assert.are.equal(303, wang_status)
    assert.is_true(took < 3, ("wang waited %.2f s"):format(took))
  end)
end)
