-- CSRF, checked by the host for every plugin: a POST (or any unsafe
-- method) runs only with the token of the browser that sent it.
local testing = require("park.testing")
local cjson = require("cjson")

local FORM = "application/x-www-form-urlencoded"

describe("CSRF protection", function()
  local site

  setup(function()
    site = testing.start_site({
      plugins = { "tests/fixtures/plugins" },
      bindings = { { column = "/forms", plugin = "forms" } },
    })
  end)

  teardown(function()
    assert.are.equal(0, site:stop())
  end)

  local function count()
    return cjson.decode(site:request("GET", "/forms/count").body).n
  end

  -- A browser's visit to the form: its cookie and the page's token.
  local function visit(cookie)
    local res = site:request("GET", "/forms/", cookie and { Cookie = cookie } or nil)
    assert.are.equal(200, res.status)
    local set = res.headers["set-cookie"]
    local id = set and set:match("^ph_csrf=([%w_%-]+)")
    local token = res.body:match('name="_csrf" value="([^"]+)"')
    return id, token, set
  end

  local function post(cookie, body, headers)
    local h = { ["Content-Type"] = FORM }
    if cookie then h.Cookie = "ph_csrf=" .. cookie end
    for k, v in pairs(headers or {}) do h[k] = v end
    return site:request("POST", "/forms/sign", h, body)
  end

  it("gives a browser its cookie and a token for its forms", function()
    local id, token, set = visit()
    assert.truthy(id, "a ph_csrf cookie")
    assert.matches("HttpOnly", set)
    assert.matches("SameSite=Lax", set)
    assert.matches("Path=/", set)
    assert.are.equal(43, #token)
    -- The same browser comes back: the same token, no new cookie.
    local id2, token2 = visit("ph_csrf=" .. id)
    assert.is_nil(id2)
    assert.are.equal(token, token2)
    -- Asked twice in one request: one cookie, one token.
    local res = site:request("GET", "/forms/twice")
    local t = cjson.decode(res.body)
    assert.are.equal(t[1], t[2])
    assert.is_nil(res.headers["set-cookie"]:find(",", 1, true))
  end)

  it("runs a post that carries its browser's token", function()
    local id, token = visit()
    local before = count()
    local res = post(id, "who=%E5%BC%A0%E4%B8%89&_csrf=" .. token)
    assert.are.equal(200, res.status)
    assert.are.equal(before + 1, count())
    -- The header works as well as the field (for scripts of the page).
    res = post(id, "who=li", { ["X-CSRF-Token"] = token })
    assert.are.equal(200, res.status)
    assert.are.equal(before + 2, count())
  end)

  it("takes the token from a multipart form too", function()
    local id, token = visit()
    local before = count()
    local b = "XyZ"
    local body = "--" .. b .. '\r\nContent-Disposition: form-data; name="_csrf"\r\n\r\n' .. token
      .. "\r\n--" .. b .. '\r\nContent-Disposition: form-data; name="who"\r\n\r\nwang\r\n--'
      .. b .. "--\r\n"
    local res = site:request("POST", "/forms/sign", {
      ["Content-Type"] = "multipart/form-data; boundary=" .. b,
      Cookie = "ph_csrf=" .. id }, body)
    assert.are.equal(200, res.status)
    assert.are.equal(before + 1, count())
  end)

  it("refuses with 403, running nothing, what lacks the right token", function()
    local id, token = visit()
    local other = visit()
    local before = count()
    local cases = {
      { nil, "who=x&_csrf=" .. token, "no ph_csrf cookie" },
      { id, "who=x", "no CSRF token" },
      { other, "who=x&_csrf=" .. token, "does not match this browser's" },
      { id, "who=x&_csrf=" .. token:sub(1, -2) .. (token:sub(-1) == "A" and "B" or "A"),
        "does not match" },
      { "not-an-id", "who=x&_csrf=" .. token, "does not match" },
    }
    for _, c in ipairs(cases) do
      local res = post(c[1], c[2])
      assert.are.equal(403, res.status)
      assert.matches("请求编号", res.body)
      site:wait_log_match("csrf: POST /forms/sign refused rid=%x+: [^\n]-"
        .. c[3]:gsub("%p", "%%%0"))
    end
    -- DELETE is checked like POST.
    assert.are.equal(403, site:request("DELETE", "/forms/sign", { Cookie = "ph_csrf=" .. id })
      .status)
    assert.are.equal(before, count(), "nothing was written")
  end)

  it("answers a form post without its token with the form page again, what was typed kept",
    function()
    local _, token = visit()
    local before = count()
    local form = { ["Content-Type"] = "application/x-www-form-urlencoded" }
    -- The cookie is gone (lost, expired): the post's handler does not run;
    -- the GET route of the same path answers, with req.csrf_failed, in 403.
    local res = site:request("POST", "/forms/petition", form,
      "who=%E5%BC%A0%E4%B8%89%3Cb%3E&_csrf=" .. token)
    assert.are.equal(403, res.status)
    assert.truthy(res.body:find('<p id="again">', 1, true), res.body)
    assert.truthy(res.body:find('value="张三&lt;b&gt;"', 1, true), res.body)
    local fresh = res.body:match('name="_csrf" value="([^"]+)"')
    assert.truthy(fresh)
    assert.truthy(res.headers["set-cookie"]:find("ph_csrf=", 1, true), "no new cookie")
    site:wait_log_match("csrf: POST /forms/petition refused rid=%x+: [^\n]*; the form is shown "
      .. "again with what was typed")
    assert.are.equal(before, count(), "nothing was written")
    -- Not a form (JSON), or no GET route at that path: the plain 403.
    res = site:request("POST", "/forms/petition", { ["Content-Type"] = "application/json" },
      '{"who":"x"}')
    assert.are.equal(403, res.status)
    assert.falsy(res.body:find('id="again"', 1, true))
    assert.are.equal(403, site:request("POST", "/forms/sign", form, "who=x").status)
    assert.are.equal(before, count(), "nothing was written")
  end)

  it("binds the token of a logged-in browser to its session", function()
    local id = visit()
    local cookies = "ph_csrf=" .. id .. "; ph_session=session-one"
    local _, token = visit(cookies)
    local function try(c)
      return site:request("POST", "/forms/sign", { ["Content-Type"] = FORM, Cookie = c },
        "who=staff&_csrf=" .. token).status
    end
    assert.are.equal(403, try("ph_csrf=" .. id))
    assert.are.equal(403, try("ph_csrf=" .. id .. "; ph_session=session-two"))
    assert.are.equal(200, try(cookies))
  end)

  it("lets a route that opts out (csrf = false) take posts without a token", function()
    local res = site:request("POST", "/forms/hook", { ["Content-Type"] = FORM }, "a=1")
    assert.are.equal(200, res.status)
    assert.are.equal("hooked", res.body)
  end)

  it("keeps tokens valid across a restart (the secret is in the database)", function()
    local id, token = visit()
    site:kill()
    site:restart()
    assert.are.equal(200, post(id, "who=after&_csrf=" .. token).status)
  end)
end)
