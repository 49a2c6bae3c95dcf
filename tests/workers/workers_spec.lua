-- Several workers serve one site as one: with 2 and with 4 workers, a
-- notification, a binding made in the console, a publication, a due job
-- and a survey's one-answer rule each hold across every worker. A request
-- is sent to a chosen worker over a connection the kernel gave to it (the
-- worker's number opens every X-Request-Id).
local testing = require("park.testing")
local socket = require("socket")
local cjson = require("cjson")

local SITE = {
  units = { { code = "invest", name = "招商局" } },
  columns = {
    { path = "/zxft", title = "在线访谈", kind = "interaction", unit = "invest",
      plugin = "interview", config = { chain = { "review" } } },
    { path = "/tzgg", title = "通知公告", kind = "notice", unit = "invest", plugin = "articles",
      config = { chain = { "review" } } },
    { path = "/myzj", title = "民意征集", kind = "interaction", unit = "invest", plugin = "survey",
      config = { chain = { "review" } } },
    { path = "/chores", title = "Chores", kind = "static", unit = "center", plugin = "chores" },
  },
}
local STAFF = { { "ed", "editor" }, { "rv", "reviewer" } }
local function has(body, s) return body:find(s, 1, true) ~= nil end

for _, n in ipairs({ 2, 4 }) do
  describe(("with %d workers"):format(n), function()
    local site, admin, b = nil, nil, {}

    setup(function()
      site = testing.start_site({ plugins = { "plugins", "tests/fixtures/plugins" }, site = SITE,
                                  workers = n })
      site:add_user("admin", "center", "admin", "Admin", "admin-password")
      admin = site:browser():login("admin", "admin-password")
      for _, s in ipairs(STAFF) do
        site:add_user(s[1], "invest", s[2], s[1], s[1] .. "-password")
        b[s[1]] = site:browser():login(s[1], s[1] .. "-password")
      end
    end)

    teardown(function()
      assert.are.equal(0, site:stop())
    end)

    -- Submit the item at `manage` as the editor and approve it as the
    -- reviewer (a one-step chain).
    local function approve(manage)
      b.ed:get(manage)
      assert.are.equal(303, b.ed:post(manage .. "/submit", {}).status)
      b.rv:get(manage)
      assert.are.equal(303, b.rv:post(manage .. "/decide", { decision = "approve" }).status)
    end

    it("runs them all, as `parkhost status` shows", function()
      assert.are.equal(n, #site:worker_pids())
      local out, ok = site:command("status", "--pid-file", site.dir .. "/parkhost.pid")
      assert.is_true(ok, out)
      for i = 0, n - 1 do
        assert.matches("\n" .. i .. "%s+%d+%s+ready%s+%d+%s+%d+%s+%d+%s+[%d.]+%s+0\n", out)
      end
    end)

    -- A relayed signal arrives in about a millisecond (bench/notify measures
    -- it); 250 ms leaves room for a shared CI machine's scheduling and still
    -- fails a watcher that was not woken.
    it("wakes the interview's watchers on every worker within 250 ms of a post", function()
      b.ed:get("/zxft/manage/new")
      local res = b.ed:post("/zxft/manage/new", { title = "多进程访谈", topic = "营商环境",
        unit_name = "招商局", guests = "张主任|招商局局长", host = "王主持",
        starts_at = os.date("%Y-%m-%d %H:%M", os.time() + 86400 * 7), minutes = "90",
        intro = "欢迎提问。" })
      assert.are.equal(303, res.status, res.body)
      local manage = res.headers.location
      local path = manage:gsub("/manage", "")
      approve(manage)
      b.ed:get(manage)
      assert.are.equal(303, b.ed:post(manage .. "/live", { op = "start" }).status)
      local streams = {}
      for w = 0, n - 1 do
        streams[w] = site:stream(path .. "/events", nil, w)
        assert.are.equal(200, streams[w].status)
        assert.are.equal(w, streams[w].worker)
      end
      socket.sleep(0.2) -- every watcher waits now
      for round = 1, 3 do
        local text = ("第%d条：一个工作日即可办结。"):format(round)
        b.ed:get(manage)
        assert.are.equal(303, b.ed:post(manage .. "/entry", { speaker = "张主任", body = text })
          .status)
        local posted = socket.gettime()
        for w = 0, n - 1 do
          local got = ""
          while not has(got, text) do
            local chunk = streams[w]:read(1)
            if not chunk then break end
            got = got .. chunk
          end
          local late = socket.gettime() - posted
          assert.truthy(has(got, text), "worker " .. w .. " never got entry " .. round)
          assert.is_true(late < 0.25, ("worker %d got entry %d %.0f ms after the post")
            :format(w, round, late * 1000))
        end
      end
      for w = 0, n - 1 do streams[w]:close() end
    end)

    it("serves a binding made in the console on every worker at the next request", function()
      local path = "/hello" .. n
      admin:get("/admin/columns/new")
      assert.are.equal(303, admin:post("/admin/columns", { path = path, title = "问候",
        kind = "static", unit = "center", parent = "" }).status)
      local pinned = {}
      for w = 0, n - 1 do
        pinned[w] = site:browser({ worker = w })
        assert.are.equal(404, pinned[w]:get(path).status, "not bound yet")
      end
      for round = 1, 2 do
        local greeting = ("第%d次问候"):format(round)
        admin:get("/admin/bindings?path=" .. path)
        local res = admin:post("/admin/bindings", { path = path, plugin = "hello",
          enabled = "1", ["cfg.greeting"] = greeting })
        assert.are.equal(303, res.status, res.body)
        for w = 0, n - 1 do
          local r = pinned[w]:get(path)
          assert.are.equal(w, testing.worker_of(r))
          assert.are.equal(200, r.status, "worker " .. w)
          assert.are.equal(greeting, r.body, "worker " .. w)
        end
      end
    end)

    it("serves a column imported by a command while it runs, on every worker", function()
      local file = site.dir .. "/more.lua"
      local f = assert(io.open(file, "w"))
      f:write(('return { columns = { { path = "/cmd%d", title = "命令", kind = "static", '
        .. 'unit = "center", plugin = "hello", config = { greeting = "命令导入" } } } }'):format(n))
      f:close()
      local out, ok = site:command("site", "import", file)
      assert.is_true(ok, out)
      for w = 0, n - 1 do
        local pinned = site:browser({ worker = w })
        testing.eventually(function() return pinned:get("/cmd" .. n).body == "命令导入" end, 3,
          "worker " .. w .. " serves the imported column")
      end
    end)

    it("shows a publication on every worker's cached list at once", function()
      local pinned = {}
      for w = 0, n - 1 do
        pinned[w] = site:browser({ worker = w })
        assert.are.equal(200, pinned[w]:get("/tzgg/").status) -- now in its page cache
      end
      for round = 1, 2 do
        local title = ("第%d号通知：%d个进程"):format(round, n)
        b.ed:get("/tzgg/manage/new")
        local res = b.ed:post("/tzgg/manage/new", { title = title, body = "<p>正文。</p>" })
        assert.are.equal(303, res.status, res.body)
        local manage = res.headers.location
        b.ed:get(manage)
        assert.are.equal(303, b.ed:post(manage .. "/submit", {}).status)
        for w = 0, n - 1 do
          assert.falsy(has(pinned[w]:get("/tzgg/").body, title), "not before review")
        end
        b.rv:get(manage)
        assert.are.equal(303, b.rv:post(manage .. "/decide", { decision = "approve" }).status)
        for w = 0, n - 1 do
          local r = pinned[w]:get("/tzgg/")
          assert.are.equal(w, testing.worker_of(r))
          assert.truthy(has(r.body, title), "worker " .. w .. " still shows its old page")
        end
      end
    end)

    it("runs each due job once", function()
      for i = 1, 20 do
        local w = site:browser({ worker = i % n })
        local res = w:request("POST", "/chores/schedule/after",
          "application/x-www-form-urlencoded", ("spec=1&name=note&key=k%d&text=once"):format(i))
        assert.are.equal(200, res.status, res.body)
      end
      testing.eventually(function()
        return #cjson.decode(site:request("GET", "/chores/runs").body) >= 20
      end, 10, "twenty runs")
      socket.sleep(1.5) -- every worker has polled for due jobs again meanwhile
      local runs = cjson.decode(site:request("GET", "/chores/runs").body)
      local seen = {}
      for _, r in ipairs(runs) do
        if r.job == "note" then
          assert.is_nil(seen[r.key], "job " .. r.key .. " ran twice")
          seen[r.key] = true
        end
      end
      for i = 1, 20 do assert.truthy(seen["k" .. i], "job k" .. i .. " never ran") end
      -- The declared hourly job: one, however many workers declared it.
      local hourly = 0
      for _, j in ipairs(cjson.decode(site:request("GET", "/chores/jobs").body)) do
        if j.name == "hourly" then hourly = hourly + 1 end
      end
      assert.are.equal(1, hourly)
    end)

    it("counts one participant's two answers sent to two workers at once as one", function()
      b.ed:get("/myzj/manage/new")
      local res = b.ed:post("/myzj/manage/new", { title = "多进程问卷" .. n,
        purpose = "了解评价", questions = "[single] q1 您满意吗？ *\n- 满意\n- 不满意",
        opens_at = os.date("%Y-%m-%d %H:%M", os.time() - 3600),
        closes_at = os.date("%Y-%m-%d %H:%M", os.time() + 2 * 86400) })
      assert.are.equal(303, res.status, res.body)
      local manage = res.headers.location
      local path = manage:gsub("/manage/", "/")
      approve(manage)
      -- One resident opens the form twice (two nonces: not a retry of one
      -- form) and sends both at once, each to its own worker.
      local resident = site:browser()
      assert.are.equal(200, resident:get(path).status)
      local conns, bodies = {}, {}
      for w = 0, 1 do
        local page = resident:get(path).body
        local nonce = page:match('name="nonce" value="([^"]+)"')
        bodies[w] = ("_csrf=%s&nonce=%s&q1=1"):format(resident.token, nonce)
        conns[w] = site:connect_worker(w)
      end
      for w = 0, 1 do
        assert(conns[w]:send(("POST %s HTTP/1.1\r\nHost: t\r\nCookie: %s\r\nContent-Type: "
          .. "application/x-www-form-urlencoded\r\nContent-Length: %d\r\nConnection: close"
          .. "\r\n\r\n%s"):format(path, resident:cookie(), #bodies[w], bodies[w])))
      end
      local statuses = {}
      for w = 0, 1 do
        statuses[#statuses + 1] = tonumber(conns[w]:receive("*l"):match(" (%d%d%d)"))
        conns[w]:close()
      end
      table.sort(statuses)
      assert.are.same({ 200, 409 }, statuses, "one answer taken, the other refused")
      assert.truthy(has(b.ed:get(manage).body, "<dd>1</dd>"), "counted once")
    end)
  end)
end
