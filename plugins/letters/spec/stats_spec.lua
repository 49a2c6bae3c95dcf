-- The monthly statistics match the letters in the database (read directly
-- with sqlite3): per unit and site-wide, received, declined, answered, on
-- time, satisfaction; a unit under min_rank is not ranked; the chart is an
-- accessible SVG.
package.path = "plugins/letters/spec/?.lua;" .. package.path
local support = require("support")

local has, act = support.has, support.act

local COLUMNS = {
  { path = "/zrxx", title = "主任信箱", config = { type = "主任信箱", chain = {}, min_rank = 3,
                                               rate_limit = 100 } },
  { path = "/zx", title = "咨询", unit = "social", config = { type = "咨询", chain = {},
                                                           receiver = "social" } },
}

describe("letters' statistics", function()
  local site, b
  setup(function() site, b = support.start(COLUMNS) end)
  teardown(function() assert.are.equal(0, site:stop()) end)

  it("match the letters in the database, rank only units with enough letters", function()
    local function letter(column, title)
      local res, code, secret = support.write(site, column, { name = "统计", contact = "13500000000",
        title = title, body = "统计测试信件：" .. title })
      assert.are.equal(200, res.status, res.body:match('<div class="alert".-</div>'))
      return support.id_of(site, code), code, secret
    end
    local function answer(column, id, unit, text)
      local m = column .. "/manage/" .. id
      if column == "/zrxx" then act(b.cd, m .. "/assign", { unit = unit }) end
      local who = unit == "invest" and b.ied or unit == "social" and b.sed or b.cd
      if unit ~= "center" then act(who, m .. "/accept") end
      act(who, m .. "/reply", { body = text, op = "submit" })
    end
    local function rate(column, code, secret, rating)
      local _, r = support.status(site, column, code, secret)
      local res = r:post(column .. "/rate", { code = code, secret = secret, rating = rating,
        reason = "统计测试" })
      assert.are.equal(200, res.status)
    end
    -- 招商局: four letters, three answered (two rated), one still open.
    for i = 1, 4 do
      local id, code, secret = letter("/zrxx", "招商局信件" .. i)
      if i <= 3 then answer("/zrxx", id, "invest", "已办理。") end
      if i == 1 then rate("/zrxx", code, secret, "满意") end
      if i == 2 then rate("/zrxx", code, secret, "不满意") end
      if i == 4 then act(b.cd, "/zrxx/manage/" .. id .. "/assign", { unit = "invest" }) end
    end
    -- 社会事务局 (its own 咨询 column): two letters, one answered.
    local id = letter("/zx", "社会事务局信件1")
    answer("/zx", id, "social", "已答复。")
    letter("/zx", "社会事务局信件2")
    -- The center: one answered itself, one declined.
    id = letter("/zrxx", "中心信件1")
    answer("/zrxx", id, "center", "由中心直接答复。")
    id = letter("/zrxx", "中心信件2")
    act(b.cd, "/zrxx/manage/" .. id .. "/decline", { reason = "scope", note = "不属于受理范围" })

    -- This month in the park's zone, as the page counts it.
    local month = support.today():sub(1, 7)
    local page = site:request("GET", "/zrxx/stats?month=" .. month)
    assert.are.equal(200, page.status)
    local body = page.body
    local shown = {}
    for unit, row in body:gmatch('<tr data%-unit="([^"]+)">(.-)</tr>') do
      shown[unit] = {
        received = row:match('class="received">(%d+)<'),
        declined = row:match('class="declined">(%d+)<'),
        answered = row:match('class="answered">(%d+)<'),
        on_time = row:match('class="on%-time">(%d+)<'),
        rank = row:match("^<td>(%d+)</td>"),
      }
    end
    local y, m = month:match("^(%d+)%-(%d+)$")
    -- The month's first second in UTC+8, and the next month's.
    local function start(yy, mm)
      return os.time({ year = yy, month = mm, day = 1, hour = 0 }) - 8 * 3600
        + (os.time() - os.time(os.date("!*t")))
    end
    y, m = tonumber(y), tonumber(m)
    local from, to = start(y, m), start(m == 12 and y + 1 or y, m == 12 and 1 or m + 1)
    local rows = support.rows(site, ("SELECT unit, count(*), sum(state = 'declined'),"
      .. " sum(state = 'answered'), sum(state = 'answered' AND on_time = 1) FROM letters_letters"
      .. " WHERE received_at >= %d AND received_at < %d GROUP BY unit"):format(from, to))
    assert.are.equal(3, #rows)
    local total = { 0, 0, 0, 0 }
    for _, r in ipairs(rows) do
      local s = shown[r[1]]
      assert.truthy(s, "unit " .. r[1] .. " shown")
      assert.are.same({ r[2], r[3], r[4], r[5] }, { s.received, s.declined, s.answered, s.on_time },
        r[1])
      for i = 1, 4 do total[i] = total[i] + tonumber(r[i + 1]) end
    end
    local all = shown["*"]
    assert.are.same({ tostring(total[1]), tostring(total[2]), tostring(total[3]),
                      tostring(total[4]) },
      { all.received, all.declined, all.answered, all.on_time })
    assert.are.equal("8", all.received)
    -- min_rank = 3: 招商局 (4 letters) ranked; the center (2) and 社会事务局 (2) not.
    assert.are.equal("1", shown.invest.rank)
    assert.falsy(shown.social.rank)
    assert.falsy(shown.center.rank)
    assert.truthy(has(body, "样本不足，不排名"))
    -- 满意度 of 招商局: one 满意 of two rated.
    assert.truthy(body:find('data%-unit="invest">.-50%%（2 人评价）'))
    -- The chart: an image with a title and a description of its numbers.
    local svg = body:match("<svg.-</svg>")
    assert.truthy(svg)
    assert.truthy(has(svg, 'role="img"'))
    assert.truthy(has(svg, "<title id=\"stats-title\">"))
    assert.truthy(has(svg, "招商局收到 4 封，已答复 3 封，按时答复 3 封"))
    -- Another month: nothing.
    assert.truthy(has(site:request("GET", "/zrxx/stats?month=2001-01").body, "本月暂无信件"))
  end)
end)
