-- The portal's page cache (portal_cache) through real HTTP, with two
-- workers and a browser pinned to each: a kept front page or section page
-- shows a publication and a withdrawal at once in every worker, a kept page
-- is served again until the index or the site moves or cache_seconds pass,
-- staff see their own page with its bar, and 关怀版 is kept apart.
local testing = require("park.testing")

local SITE = {
  columns = {
    { path = "/", title = "首页", kind = "static", unit = "center", plugin = "portal",
      config = { site_name = "测试高新区" } },
    { path = "/gxcy", title = "高新创业", kind = "section", unit = "center", plugin = "portal",
      config = { page = "section" } },
    { path = "/gxcy/zcwj", title = "政策文件", parent = "/gxcy", kind = "policy", unit = "center",
      plugin = "articles", config = { chain = { "review" } } },
    { path = "/search", title = "全站检索", kind = "static", unit = "center", plugin = "portal",
      config = { page = "search" } },
    { path = "/ss1", title = "全站检索", kind = "static", unit = "center", plugin = "portal",
      config = { page = "search", cache_seconds = 1 } },
  },
}

local function enc(s)
  return (s:gsub("[^%w]", function(c) return ("%%%02X"):format(c:byte()) end))
end

local function has(body, s) return body:find(s, 1, true) ~= nil end

describe("portal: the page cache", function()
  local site, ed, rv, ld

  setup(function()
    site = testing.start_site({ plugins = { "plugins" }, site = SITE, workers = 2 })
    site:add_user("ed", "center", "editor", "编辑", "ed-password")
    site:add_user("rv", "center", "reviewer", "审核", "rv-password")
    site:add_user("ld", "center", "leader", "领导", "ld-password")
    ed = site:browser():login("ed", "ed-password")
    rv = site:browser():login("rv", "rv-password")
    ld = site:browser():login("ld", "ld-password")
  end)

  teardown(function()
    assert.are.equal(0, site:stop())
  end)

  -- An article written, submitted and approved (a one-step chain): public.
  local function publish(title)
    ed:get("/gxcy/zcwj/manage/new")
    local res = ed:post("/gxcy/zcwj/manage/new", { title = title, body = "<p>正文。</p>" })
    assert.are.equal(303, res.status, res.body)
    local manage = res.headers.location
    ed:get(manage)
    assert.are.equal(303, ed:post(manage .. "/submit", {}).status)
    rv:get(manage)
    assert.are.equal(303, rv:post(manage .. "/decide", { decision = "approve" }).status)
    return manage
  end

  local function popular(body)
    return body:match('<h2 id="popular">.-</section>')
  end

  it("serves a kept page until the index moves, and no longer than cache_seconds", function()
    publish("园区人才公寓管理办法")
    local b = site:browser({ worker = 0 })
    assert.falsy(popular(b:get("/search").body))
    assert.falsy(popular(b:get("/ss1").body))
    -- The worker's first search that finds something is written at once:
    -- a fresh empty search page would suggest it.
    local found = b:get("/search?q=" .. enc("人才公寓"))
    assert.truthy(has(found.body, "共找到 1 条信息"), found.body)
    assert.falsy(popular(b:get("/search").body), "the kept page, not made again")
    testing.eventually(function() return popular(b:get("/ss1").body) end, 5,
      "the page made again after its cache_seconds")
    assert.falsy(popular(b:get("/search").body), "still kept: the index has not moved")
    -- A publication moves the index's version: made again at once.
    publish("园区停车管理规定")
    local body = b:get("/search").body
    assert.truthy(has(popular(body) or "", "人才公寓"))
    assert.truthy(has(body, "园区停车管理规定"))
    -- A search with its query is never kept: it shows what is there now.
    assert.truthy(has(b:get("/search?q=" .. enc("停车")).body, "共找到 1 条信息"))
  end)

  it("shows a publication and a withdrawal at once on kept pages of every worker", function()
    local title = "关于高新技术企业认定的通知"
    local w = { site:browser({ worker = 0 }), site:browser({ worker = 1 }) }
    for _, b in ipairs(w) do
      for _, path in ipairs({ "/", "/gxcy" }) do
        local res = b:get(path)
        assert.are.equal(200, res.status)
        assert.falsy(has(res.body, title))
        assert.are.equal(res.body, b:get(path).body)
      end
    end
    local manage = publish(title)
    for i, b in ipairs(w) do
      local home = b:get("/").body
      local latest = home:match('<section class="section latest".-</section>') or ""
      assert.truthy(has(latest, title), "worker " .. (i - 1) .. ": the front page's newest")
      assert.truthy(has(b:get("/gxcy").body, title), "worker " .. (i - 1) .. ": the section")
    end
    ld:get(manage)
    assert.are.equal(303, ld:post(manage .. "/withdraw", { reason = "内容有误" }).status)
    for i, b in ipairs(w) do
      assert.falsy(has(b:get("/").body, title), "worker " .. (i - 1) .. ": withdrawn")
      assert.falsy(has(b:get("/gxcy").body, title), "worker " .. (i - 1) .. ": withdrawn")
    end
  end)

  it("gives staff their own page with their bar, and keeps it from residents", function()
    for n = 0, 1 do
      local resident = site:browser({ worker = n })
      assert.falsy(has(resident:get("/").body, "staff-bar"))
      local staff = site:browser({ worker = n }):login("ed", "ed-password")
      for _, path in ipairs({ "/", "/gxcy", "/search", "/zrlm" }) do
        local body = staff:get(path).body
        assert.truthy(has(body, '<p class="staff-bar">编辑'), path .. ": the staff bar")
        assert.truthy(has(body, '<a href="/admin/">管理后台</a>'))
      end
      for _, path in ipairs({ "/", "/gxcy", "/search", "/zrlm" }) do
        assert.falsy(has(resident:get(path).body, "staff-bar"), path .. ": not the staff's page")
      end
    end
  end)

  it("keeps 关怀版 apart, and a page with a query string out", function()
    for n = 0, 1 do
      local plain, care = site:browser({ worker = n }), site:browser({ worker = n })
      care.jar.care = "1"
      for _, path in ipairs({ "/", "/gxcy" }) do
        assert.falsy(has(plain:get(path).body, '<body class="care">'), path)
        assert.truthy(has(care:get(path).body, '<body class="care">'), path .. ": 关怀版")
        assert.falsy(has(plain:get(path).body, '<body class="care">'), path .. ": kept apart")
        assert.truthy(has(care:get(path).body, '<body class="care">'), path .. ": kept apart")
      end
      -- The switch to 关怀版 leads back to the page as asked: its own page.
      assert.truthy(has(plain:get("/?from=zzqq").body, "zzqq"))
      assert.falsy(has(plain:get("/").body, "zzqq"), "not kept for /")
    end
  end)
end)
