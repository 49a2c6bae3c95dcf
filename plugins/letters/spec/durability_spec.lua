-- No letter is ever lost (issue #17): writers post letters concurrently
-- while the server is killed with SIGKILL, three times over. After each
-- restart every letter whose receipt a writer received is found on its
-- status page with its 查询码 and 查询密码; every post left without an
-- answer is posted again, the same form (the same nonce), and gets one
-- receipt: the letter stored before the kill, or a new one; and the
-- column holds exactly one letter per form posted, none twice.
--
-- The writers are WRITERS raw HTTP clients (luasocket) on connections of
-- their own, each with one post in flight at a time, driven together by
-- socket.select. Each form has its own nonce and title.
package.path = "plugins/letters/spec/?.lua;" .. package.path
local support = require("support")
local testing = require("park.testing")
local socket = require("socket")

local has = support.has

local COLUMN = "/zrxx"
local WRITERS = 8
local ROUNDS = 3         -- kills
local PER_ROUND = 60     -- letters acknowledged in a round before its kill

local function url_encode(s)
  return (tostring(s):gsub("[^%w%-_%.~]", function(c) return ("%%%02X"):format(c:byte()) end))
end

local function form_body(fields)
  local keys, parts = {}, {}
  for k in pairs(fields) do keys[#keys + 1] = k end
  table.sort(keys)
  for _, k in ipairs(keys) do parts[#parts + 1] = url_encode(k) .. "=" .. url_encode(fields[k]) end
  return table.concat(parts, "&")
end

-- A resident's browser's CSRF cookie and token (one for every writer:
-- letters are told apart by their nonces).
local function credentials(site)
  local resident = site:browser()
  assert(resident:get(COLUMN .. "/write").status == 200)
  return resident:cookie(), resident.token
end

-- The form of letter `key` (its nonce and its title).
local function letter_form(key, token)
  return { _csrf = token, _nonce = key, name = "压力测试" .. key:sub(-4), contact = "13812345678",
           title = "信件 " .. key, body = "这是耐久性测试的第 " .. key .. " 封信件，请查收。",
           publish = "1" }
end

-- Send the POST of `form` on a new connection; the socket, in non-blocking
-- mode once the request is sent. `cut`: send only that many bytes of the
-- body, a post whose writer is cut off.
local function send_post(site, cookie, form, cut)
  local body = form_body(form)
  local c = assert(socket.tcp())
  c:settimeout(5)
  assert(c:connect("127.0.0.1", site.port))
  assert(c:send(("POST %s/write HTTP/1.1\r\nHost: t\r\nCookie: %s\r\nContent-Type: "
    .. "application/x-www-form-urlencoded\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s")
    :format(COLUMN, cookie, #body, cut and body:sub(1, cut) or body)))
  c:settimeout(0)
  return c
end

-- The 查询码 and 查询密码 in what was received of an answer, if any.
local function receipt_of(text)
  return text:match('id="query%-code">(%d+)<'), text:match('id="query%-secret">(%w+)<')
end

-- Drive the writers until `target` letters are acknowledged, then post once
-- more on every writer and kill the server while those posts are in flight
-- (after `linger` seconds: some are committed and not yet answered).
-- `state`: { acked = { key -> { code, secret } }, sent = { key, ... },
-- unanswered = { key, ... } }; `round` names the keys.
local function write_and_kill(site, state, round, target, linger)
  local cookie, token = credentials(site)
  local writers, n, acked = {}, 0, 0
  local function post(w)
    n = n + 1
    w.key = ("r%dw%03dn%010d"):format(round, w.id, n) -- a nonce: 16 characters at least
    w.buf = {}
    state.sent[#state.sent + 1] = w.key
    w.sock = send_post(site, cookie, letter_form(w.key, token))
  end
  -- Read what has arrived; true when the answer is complete (closed).
  local function pump(w)
    while true do
      local data, err, partial = w.sock:receive(8192)
      local got = data or partial
      if got and #got > 0 then w.buf[#w.buf + 1] = got end
      if err == "closed" then return true end
      if err then return false end
    end
  end
  local function finish(w, final)
    w.sock:close()
    local text = table.concat(w.buf)
    local code, secret = receipt_of(text)
    if code and secret then
      state.acked[w.key] = { code = code, secret = secret }
      acked = acked + 1
    else
      -- Only a kill may leave a writer without its receipt.
      assert(final, ("letter %s: no receipt in the answer:\n%s"):format(w.key, text:sub(1, 2000)))
      state.unanswered[#state.unanswered + 1] = w.key
    end
  end
  for i = 1, WRITERS do
    writers[i] = { id = i }
    post(writers[i])
  end
  local deadline = socket.gettime() + 60
  while acked < target do
    assert(socket.gettime() < deadline, "the writers are stuck: " .. acked .. " acknowledged")
    local socks, by = {}, {}
    for _, w in ipairs(writers) do
      socks[#socks + 1] = w.sock
      by[w.sock] = w
    end
    local ready = socket.select(socks, nil, 1)
    for _, s in ipairs(ready) do
      local w = by[s]
      if pump(w) then
        finish(w, false)
        post(w)
      end
    end
  end
  -- Every writer has a post in flight, and two more are cut off halfway
  -- (never answered, whatever the timing); the kill comes before or after
  -- some of the others are committed.
  for i = 1, 2 do
    local w = { id = "h" .. i }
    writers[#writers + 1] = w
    n = n + 1
    w.key, w.buf = ("r%dh%dn%d"):format(round, i, n), {}
    state.sent[#state.sent + 1] = w.key
    w.sock = send_post(site, cookie, letter_form(w.key, token), 40)
  end
  socket.sleep(linger)
  site:kill()
  for _, w in ipairs(writers) do
    -- What the server sent before it died is a receipt received.
    w.sock:settimeout(1)
    local data, _, partial = w.sock:receive("*a")
    w.buf[#w.buf + 1] = data or partial or ""
    finish(w, true)
  end
end

-- The status page of a letter, with its code and secret, after a restart.
local function status(site, code, secret)
  return support.status(site, COLUMN, code, secret)
end

describe("letters durability", function()
  it("loses no acknowledged letter and stores none twice across SIGKILLs and retries", function()
    local site = testing.start_site({ plugins = { "plugins" }, site = {
      units = support.UNITS,
      columns = { { path = COLUMN, title = "主任信箱", kind = "interaction", unit = "center",
                    plugin = "letters",
                    config = { type = "主任信箱", rate_limit = 1000000000 } } } } })
    finally(function() site:stop() end)
    site:add_user("cd", "center", "editor", "中心分办员", "cd-password")
    local state = { acked = {}, sent = {}, unanswered = {} }
    local retried_same, retried_new = 0, 0
    for round = 1, ROUNDS do
      -- The kill lands at various points of the last posts' lives.
      write_and_kill(site, state, round, PER_ROUND, ({ 0, 0.002, 0.01 })[round])
      site:restart()
      -- Every receipt received so far: its letter is there, on its status page.
      for key, r in pairs(state.acked) do
        local page = status(site, r.code, r.secret)
        assert.are.equal(200, page.status, "letter " .. key .. " with a receipt is lost")
        assert.truthy(has(page.body, "信件 " .. key), "letter " .. key .. " on its status page")
      end
      -- The posts left without an answer are posted again, the same forms:
      -- one receipt each, of the letter stored before the kill or a new one.
      local cookie, token = credentials(site)
      for _, key in ipairs(state.unanswered) do
        local c = send_post(site, cookie, letter_form(key, token))
        c:settimeout(10)
        local text = assert(c:receive("*a"))
        c:close()
        local code, secret = receipt_of(text)
        assert.truthy(code and secret, "the retried letter " .. key .. " gets a receipt")
        if has(text, "已经提交过") then retried_same = retried_same + 1
        else retried_new = retried_new + 1 end
        state.acked[key] = { code = code, secret = secret }
      end
      state.unanswered = {}
    end
    -- Each form posted was acknowledged, at last, with a receipt of its own.
    local sent, codes = #state.sent, {}
    for _, key in ipairs(state.sent) do
      local r = assert(state.acked[key], "letter " .. key .. " never acknowledged")
      assert.is_nil(codes[r.code], "two forms got the receipt " .. r.code)
      codes[r.code] = key
    end
    -- An acknowledged form posted again: the same receipt, no new letter.
    local cookie, token = credentials(site)
    for i = 1, 5 do
      local key = state.sent[i * 7]
      local c = send_post(site, cookie, letter_form(key, token))
      c:settimeout(10)
      local text = assert(c:receive("*a"))
      c:close()
      assert.are.equal(state.acked[key].code, (receipt_of(text)))
      assert.truthy(has(text, "已经提交过"))
    end
    -- The column holds exactly one letter per form: the staff's queue
    -- counts them (待分办, up to 500) ...
    assert.truthy(sent <= 500, "the queue shows every letter")
    local staff = site:browser():login("cd", "cd-password")
    local queue = staff:get(COLUMN .. "/manage").body
    local stored = tonumber(queue:match("待分办（(%d+)）"))
    assert.are.equal(sent, stored, "one letter per form")
    -- ... and the database, read directly when the sqlite3 command is there.
    if io.popen("command -v sqlite3"):read("a") ~= "" then
      assert.are.equal(tostring(sent), support.sql(site, "SELECT count(*) FROM letters_letters"))
      assert.are.equal("0", support.sql(site, "SELECT count(*) FROM (SELECT title FROM"
        .. " letters_letters GROUP BY title HAVING count(*) > 1)"), "no letter twice")
      assert.are.equal(tostring(sent), support.sql(site,
        "SELECT count(DISTINCT query_code) FROM letters_letters"))
      for code, key in pairs(codes) do
        assert.are.equal("信件 " .. key, support.sql(site,
          "SELECT title FROM letters_letters WHERE query_code = '" .. code .. "'"))
      end
    end
    -- The posts cut off at least were posted again, and stored then.
    assert.truthy(retried_new >= 2 * ROUNDS, "the posts cut off by the kills")
    io.stderr:write(("letters durability: %d letters posted, %d acknowledged before the kills,"
      .. " %d posted again (%d stored before the kill, %d new), %d stored, none twice\n")
      :format(sent, sent - retried_same - retried_new, retried_same + retried_new, retried_same,
        retried_new, stored))
    assert.are.equal(0, site:halt())
  end)
end)
