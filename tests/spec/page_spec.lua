-- park.page: keyset paging with the place in the URL; through real HTTP
-- against tests/fixtures/plugins/formkit (45 news items, published in pairs
-- so that the order's first column ties), then the pure parts.
local testing = require("park.testing")
local cjson = require("cjson")
local page = require("park.page")

describe("park.page: keyset paging, through real HTTP", function()
  local site

  setup(function()
    site = testing.start_site({
      plugins = { "tests/fixtures/plugins" },
      bindings = { { column = "/fk", plugin = "formkit" } },
    })
    local res = site:request("POST", "/fk/news/seed",
      { ["Content-Type"] = "application/x-www-form-urlencoded" }, "n=45")
    assert.are.equal(45, cjson.decode(res.body).n)
  end)

  teardown(function()
    assert.are.equal(0, site:stop())
  end)

  local function unescape(s)
    return s and (s:gsub("&amp;", "&"))
  end

  -- A page: its status, the ids listed, its links.
  local function get(path)
    local res = site:request("GET", path)
    local ids = {}
    for id in res.body:gmatch('data%-id="(%d+)"') do ids[#ids + 1] = tonumber(id) end
    return {
      status = res.status, ids = ids, body = res.body,
      next = unescape(res.body:match('<a href="([^"]*)" rel="next">下一页</a>')),
      prev = unescape(res.body:match('<a href="([^"]*)" rel="prev">上一页</a>')),
      first = unescape(res.body:match('<a href="([^"]*)">第一页</a>')),
    }
  end

  local function range(from, to)
    local t = {}
    for i = from, to, from <= to and 1 or -1 do t[#t + 1] = i end
    return t
  end

  it("pages through 45 rows ten at a time, forwards and back", function()
    local p = get("/fk/news")
    assert.are.equal(200, p.status)
    assert.are.same(range(45, 36), p.ids)
    assert.is_nil(p.prev)
    assert.matches('<nav class="pages" aria-label="分页">', p.body, 1, true)
    local pages = { p }
    while p.next do
      assert.matches("^/fk/news%?after=[%w_%-]+$", p.next)
      p = get(p.next)
      assert.are.equal(200, p.status)
      pages[#pages + 1] = p
      assert.truthy(#pages <= 5, "more pages than rows")
    end
    assert.are.equal(5, #pages)
    assert.are.same(range(35, 26), pages[2].ids) -- 36 and 35 share their time: ids break it
    assert.are.same(range(25, 16), pages[3].ids)
    assert.are.same(range(15, 6), pages[4].ids)
    assert.are.same(range(5, 1), pages[5].ids)
    assert.are.equal("/fk/news", pages[5].first)
    -- And back, page by page, to the first page itself.
    for i = 4, 1, -1 do
      assert.matches("^/fk/news%?before=[%w_%-]+$", p.prev)
      p = get(p.prev)
      assert.are.equal(200, p.status)
      assert.are.same(pages[i].ids, p.ids)
    end
    assert.is_nil(p.prev, "the first page has no previous page")
    assert.are.equal(pages[1].next, p.next)
  end)

  it("keeps rows of the same time in the id's order across pages", function()
    -- Newest first, but the oldest id first among rows of one time: the
    -- two directions need the expanded keyset (a OR b AND c), not (a, b) < (?, ?).
    local want = {}
    for i = 45, 1, -1 do want[#want + 1] = i end
    table.sort(want, function(a, b)
      local ta, tb = (a + 1) // 2, (b + 1) // 2
      if ta ~= tb then return ta > tb end
      return a < b
    end)
    local seen, p = {}, get("/fk/news?order=mixed")
    while true do
      for _, id in ipairs(p.ids) do seen[#seen + 1] = id end
      if not p.next then break end
      assert.matches("order=mixed", p.next, 1, true)
      p = get(p.next)
    end
    assert.are.same(want, seen)
    -- Back from the last page.
    local back = {}
    while p.prev do
      p = get(p.prev)
      table.insert(back, 1, p.ids)
    end
    assert.are.same({ 45, 43, 44, 41, 42, 39, 40, 37, 38, 35 }, back[1])
  end)

  it("answers a cursor that is garbage, edited or of another order with page one", function()
    local first = get("/fk/news")
    local cursor = first.next:match("after=(.*)$")
    local edited = cursor:sub(1, 3) .. (cursor:sub(4, 4) == "A" and "B" or "A") .. cursor:sub(5)
    local mixed = get("/fk/news?order=mixed").next:match("after=(.*)$")
    for _, q in ipairs({ "after=garbage", "after=" .. edited, "before=" .. edited,
                         "after=" .. cursor:sub(1, -3), "after=" .. ("A"):rep(5000),
                         "after=%00%27%22%3B--", "after=" .. mixed, "before=",
                         "after=aTE7", "after[]=1" }) do
      local p = get("/fk/news?" .. q)
      assert.are.equal(200, p.status, q)
      assert.are.same(range(45, 36), p.ids, q)
    end
    assert.is_nil(site:log():find("ERROR plugin formkit", 1, true))
  end)

  it("keeps the other query parameters, URL-encoded, in its links", function()
    -- cat=通知 lists every third row (15 rows): two pages.
    local p = get("/fk/news?cat=%E9%80%9A%E7%9F%A5&x=a+b&after=stale")
    assert.are.same({ 45, 42, 39, 36, 33, 30, 27, 24, 21, 18 }, p.ids)
    assert.matches("^/fk/news%?cat=%%E9%%80%%9A%%E7%%9F%%A5&x=a%%20b&after=[%w_%-]+$", p.next)
    p = get(p.next)
    assert.are.same({ 15, 12, 9, 6, 3 }, p.ids)
    assert.is_nil(p.next)
    assert.matches("^/fk/news%?cat=%%E9%%80%%9A%%E7%%9F%%A5&x=a%%20b&before=[%w_%-]+$", p.prev)
    p = get(p.prev)
    assert.are.same({ 45, 42, 39, 36, 33, 30, 27, 24, 21, 18 }, p.ids)
    assert.is_nil(p.prev)
  end)

  it("pages SQL written by hand with plan and result (seven rows a page)", function()
    local seen, p, n = {}, get("/fk/news/by-hand"), 0
    while true do
      n = n + 1
      for _, id in ipairs(p.ids) do seen[#seen + 1] = id end
      if not p.next then break end
      p = get(p.next)
    end
    assert.are.equal(7, n)
    assert.are.same(range(45, 1), seen)
    p = get(p.prev)
    assert.are.same(range(10, 4), p.ids)
  end)

  it("shows no pager when everything fits on one page", function()
    local seed = { ["Content-Type"] = "application/x-www-form-urlencoded" }
    site:request("POST", "/fk/news/seed", seed, "n=4")
    local p = get("/fk/news")
    assert.are.same({ 4, 3, 2, 1 }, p.ids)
    assert.is_nil(p.body:find('aria-label="分页"', 1, true))
    site:request("POST", "/fk/news/seed", seed, "n=45")
  end)
end)

describe("park.page: the pure parts", function()
  it("encodes cursors opaquely and refuses any other text", function()
    local sig = "published_at DESC,id DESC"
    local values = { 1767225618, "标题 \0;:s3:x", -7, 0.1 }
    local c = page.encode(values, sig)
    assert.matches("^[%w_%-]+$", c)
    assert.are.same(values, page.decode(c, sig, 4))
    assert.is_nil(page.decode(c, sig, 3))                       -- another number of columns
    assert.is_nil(page.decode(c, "published_at ASC,id ASC", 4)) -- another order
    assert.is_nil(page.decode(c:sub(2), sig, 4))
    assert.is_nil(page.decode(c .. "A", sig, 4))
    assert.is_nil(page.decode("", sig, 4))
    assert.is_nil(page.decode(nil, sig, 4))
    assert.is_nil(page.decode("!!!!", sig, 4))
  end)

  it("plans a bound keyset: row values for one direction, an OR chain for two", function()
    local P = page.new({ order = { "published_at DESC", "id DESC" }, size = 10 })
    local first = P:plan({ query = {} })
    assert.are.same({ where = "1", params = {}, order_by = "published_at DESC, id DESC",
                      limit = 11, size = 10, backward = false, cursor = false }, first)
    local c = page.encode({ 100, 7 }, P.sig)
    local plan = P:plan({ query = { after = c } })
    assert.are.equal("(published_at, id) < (?, ?)", plan.where)
    assert.are.same({ 100, 7 }, plan.params)
    plan = P:plan({ query = { before = c } })
    assert.are.equal("(published_at, id) > (?, ?)", plan.where)
    assert.are.equal("published_at ASC, id ASC", plan.order_by)
    assert.is_true(plan.backward)
    local M = page.new({ order = { "n.published_at DESC", "n.id" } })
    plan = M:plan({ query = { after = page.encode({ 100, 7 }, M.sig) } }, 5)
    assert.are.equal("((n.published_at < ?) OR (n.published_at = ? AND n.id > ?))", plan.where)
    assert.are.same({ 100, 100, 7 }, plan.params)
    assert.are.equal(6, plan.limit)
  end)

  it("refuses a bad order, size or parameter name", function()
    local function bad(spec, pattern)
      local ok, err = pcall(page.new, spec)
      assert.is_false(ok)
      assert.matches(pattern, err)
    end
    bad({ order = {} }, "order =")
    bad({ order = { "id; DROP TABLE x" } }, "is not \"column\"")
    bad({ order = { "id SIDEWAYS" } }, "is not \"column\"")
    bad({ order = { "id" }, size = 0 }, "size must be")
    bad({ order = { "id" }, after = "p", before = "p" }, "two names")
  end)
end)
