-- articles_text: word checks, FTS5 search tokens and queries, snippets and
-- revision diffs. Run from the repository root:
--   build/parkhost test -o TAP plugins/articles/spec/text_spec.lua
package.path = "plugins/articles/?.lua;" .. package.path
local text = require("articles_text")
local testing = require("park.testing")
local cjson = require("cjson")

local MODULE = "plugins/articles/articles_text.lua"

local function read(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("a")
  f:close()
  return s
end

local function write(path, s)
  local f = assert(io.open(path, "wb"))
  f:write(s)
  f:close()
end

local function chars(s) return utf8.len(s) end

-- Characters i..j of s.
local function usub(s, i, j)
  local b = utf8.offset(s, i)
  local e = utf8.offset(s, j + 1) or #s + 1
  return s:sub(b, e - 1)
end

local function join(segs)
  local out = {}
  for i, seg in ipairs(segs) do out[i] = seg.text end
  return table.concat(out)
end

local function hits(segs)
  local out = {}
  for _, seg in ipairs(segs) do
    if seg.hit then out[#out + 1] = seg.text end
  end
  return out
end

local function summary(findings)
  local out = {}
  for i, f in ipairs(findings) do
    out[i] = ("%s:%s@%d:%s"):format(f.field, f.kind, f.pos, f.word)
  end
  return out
end

local NOTICE = "关于开展2024年度高新技术企业认定工作的通知。各有关单位：根据《高新技术企业认定管理"
  .. "办法》（国科发火〔2016〕32号），现将有关事项通知如下。请登录申报系统填报，截止日期为5月31日。"

describe("articles_text", function()
  describe("check: word checks before review", function()
    local rules = {
      forbidden = { "最高级", "国家级" },
      sensitive = { "内部资料" },
      corrections = { "其它=其他", "帐号=账号", "登陆=登录" },
    }

    it("reports forbidden and sensitive words and corrections, by field then position", function()
      local findings = text.check({
        { name = "title", label = "标题", text = "关于国家级高新区其它事项的通知" },
        { name = "body", label = "正文", text = "请登陆系统，使用单位帐号填报。本文为内部资料。" },
      }, rules)
      assert.are.same({
        "title:forbidden@3:国家级", "title:correction@9:其它",
        "body:correction@2:登陆", "body:correction@11:帐号", "body:sensitive@19:内部资料",
      }, summary(findings))
      local f = findings[2]
      assert.are.same({ kind = "correction", word = "其它", suggestion = "其他", field = "title",
                        label = "标题", pos = 9, len = 2, found = "其它", before = "关于国家级高新区",
                        after = "事项的通知" }, f)
      assert.is_nil(findings[1].suggestion)
      assert.are.equal("正文", findings[3].label)
    end)

    it("counts positions in characters, emoji and Latin included", function()
      local s = "📢😀通知：WeChat公众号“高新园区”其它"
      local findings = text.check({ { name = "body", text = s } },
        { forbidden = { "公众号" }, corrections = { "其它=其他" } })
      assert.are.same({ "body:forbidden@12:公众号", "body:correction@21:其它" }, summary(findings))
      for _, f in ipairs(findings) do
        assert.are.equal(f.found, usub(s, f.pos, f.pos + f.len - 1))
      end
    end)

    it("gives up to 12 characters of context on each side", function()
      local s = "一二三四五六七八九十甲乙丙丁禁词子丑寅卯辰巳午未申酉戌亥天干"
      local f = text.check({ { name = "b", text = s } }, { forbidden = { "禁词" } })[1]
      assert.are.equal(15, f.pos)
      assert.are.equal("三四五六七八九十甲乙丙丁", f.before)
      assert.are.equal("子丑寅卯辰巳午未申酉戌亥", f.after)
      f = text.check({ { name = "b", text = "禁词在开头" } }, { forbidden = { "禁词" } })[1]
      assert.are.same({ 1, "", "在开头" }, { f.pos, f.before, f.after })
    end)

    it("matches Latin letters in any case, full-width forms too", function()
      local findings = text.check({ { name = "b", text = "加入qq群或ＱＱ群，关注WECHAT" } },
        { forbidden = { "QQ群" }, sensitive = { "WeChat" } })
      assert.are.same({ "b:forbidden@3:QQ群", "b:forbidden@7:QQ群", "b:sensitive@13:WeChat" },
        summary(findings))
      assert.are.same({ "qq群", "ＱＱ群", "WECHAT" },
        { findings[1].found, findings[2].found, findings[3].found })
      assert.are.equal("关注", findings[3].before:sub(-6))
    end)

    it("reports overlapping occurrences of different words, each", function()
      local findings = text.check({ { name = "b", text = "高新技术企业认定" } },
        { forbidden = { "技术企业" }, sensitive = { "高新技术", "企业认定" } })
      assert.are.same({ "b:sensitive@1:高新技术", "b:forbidden@3:技术企业", "b:sensitive@5:企业认定" },
        summary(findings))
    end)

    it("reports each occurrence of a word once, however often it is listed", function()
      local findings = text.check({ { name = "b", text = "内部资料，内部资料" } },
        { forbidden = { "内部资料", "内部资料 " }, sensitive = { "内部资料" },
          corrections = { "内部资料=公开资料" } })
      assert.are.same({ "b:forbidden@1:内部资料", "b:forbidden@6:内部资料" }, summary(findings))
      -- Overlapping occurrences of one word are two occurrences.
      assert.are.same({ "b:sensitive@1:哈哈", "b:sensitive@2:哈哈" },
        summary(text.check({ { name = "b", text = "哈哈哈" } }, { sensitive = { "哈哈" } })))
    end)

    it("does not correct where the right form is already there", function()
      local findings = text.check({ { name = "b", text = "请登录后登陆系统；截止日期为5月31日，截止日前提交" } },
        { corrections = { "登陆=登录", "截止日=截止日期" } })
      assert.are.same({ "b:correction@5:登陆", "b:correction@21:截止日" }, summary(findings))
      -- A right form that lies inside the wrong one does not hide it.
      assert.are.same({ "b:correction@3:的的" },
        summary(text.check({ { name = "b", text = "园区的的发展" } }, { corrections = { "的的=的" } })))
    end)

    it("skips empty and blank rules and corrections without =", function()
      local findings = text.check({ { name = "b", text = "通知 公告　其它" } }, {
        forbidden = { "", "   ", "\u{3000}", 42 },
        sensitive = { " 公告\u{3000}" },
        corrections = { "其它", "=其他", "其它=", "其它 = 其他 " },
      })
      assert.are.same({ "b:sensitive@4:公告", "b:correction@7:其它" }, summary(findings))
      assert.are.equal("其他", findings[2].suggestion)
      assert.are.same({}, text.check({ { name = "b", text = "通知" } }, {}))
      assert.are.same({}, text.check({ { name = "b", text = "通知" } }))
      assert.are.same({}, text.check({}, { forbidden = { "通知" } }))
      assert.are.same({}, text.check({ { name = "b", text = "" }, { name = "c" } },
        { forbidden = { "通知" } }))
    end)

    it("reads bad UTF-8 without raising", function()
      local findings = text.check({ { name = "b", text = "通\xff知\xe4其它" } },
        { corrections = { "其它=其他" } })
      assert.are.same({ "b:correction@5:其它" }, summary(findings))
    end)

    it("checks 200 rules in time linear in the length (50,000 characters at once as ten "
      .. "pieces)", function()
      local function text_of(want)
        local parts, n = {}, 0
        while n < want do
          parts[#parts + 1] = NOTICE
          n = n + chars(NOTICE)
        end
        local s = table.concat(parts)
        return s:sub(1, utf8.offset(s, want + 1) - 1)
      end
      local big = { forbidden = {}, sensitive = {}, corrections = {} }
      local words = { "高新技术", "认定", "通知", "申报系统", "截止日期", "登录" }
      local kinds = { "forbidden", "sensitive" }
      for i = 1, 200 do
        local w = words[i % #words + 1] .. (i > #words and tostring(i) or "")
        if i % 3 == 0 then
          big.corrections[#big.corrections + 1] = w .. "=" .. w .. "正"
        else
          local list = big[kinds[i % 3]]
          list[#list + 1] = w
        end
      end
      -- CPU time against itself, as the tokenizer's spec does: a cost that
      -- grows faster than the text shows as ten times more, on any machine.
      local function cost(s)
        collectgarbage() -- the garbage of earlier specs is not this run's cost
        local t0 = os.clock()
        local findings = text.check({ { name = "body", label = "正文", text = s } }, big)
        return os.clock() - t0, findings
      end
      local s = text_of(50000)
      assert.are.equal(50000, chars(s))
      local whole, findings = cost(s)
      assert.is_true(#findings > 1000)
      for i = 2, #findings do assert.is_true(findings[i].pos >= findings[i - 1].pos) end
      local piece, pieces = text_of(5000), 0
      for _ = 1, 10 do pieces = pieces + cost(piece) end
      assert.is_true(whole < 3 * pieces + 0.01,
        ("50,000 characters took %.3f s, ten times 5,000 %.3f s"):format(whole, pieces))
    end)
  end)

  describe("mark: a field's text with its findings marked", function()
    it("cuts the text into segments that cover it, findings marked", function()
      local s = "😀其它单位请登陆系统，登录后填写帐号。"
      local findings = text.check({ { name = "b", text = s } },
        { corrections = { "其它=其他", "登陆=登录", "帐号=账号" } })
      local segs = text.mark(s, findings)
      assert.are.equal(s, join(segs))
      assert.are.same({ "其它", "登陆", "帐号" }, hits(segs))
      assert.are.equal(7, #segs)
      assert.are.equal(findings[2], segs[4].hit)
      assert.are.same({ "😀", "单位请", "系统，登录后填写", "。" },
        { segs[1].text, segs[3].text, segs[5].text, segs[7].text })
    end)

    it("gives an overlap to the finding that starts first", function()
      local s = "高新技术企业"
      local findings = text.check({ { name = "b", text = s } },
        { forbidden = { "技术企业" }, sensitive = { "高新技术" } })
      local segs = text.mark(s, findings)
      assert.are.equal(s, join(segs))
      assert.are.same({ "高新技术", "企业" }, hits(segs))
      assert.are.equal("sensitive", segs[1].hit.kind)
      assert.are.equal("forbidden", segs[2].hit.kind)
    end)

    it("handles empty text, no findings and findings made by hand", function()
      assert.are.same({}, text.mark("", {}))
      assert.are.same({ { text = "通知公告" } }, text.mark("通知公告", {}))
      assert.are.same({ { text = "通知" }, { text = "公告", hit = { pos = 3, word = "公告" } } },
        text.mark("通知公告", { { pos = 3, word = "公告" }, { pos = 9, word = "无" } }))
    end)
  end)

  describe("tokens: FTS5 tokens without a segmenter", function()
    it("gives each CJK run its bigrams, then its last character", function()
      assert.are.equal("高新 新技 技术 术", text.tokens("高新技术"))
      assert.are.equal("认定 定", text.tokens("认定"))
      assert.are.equal("假", text.tokens("假"))
      assert.are.equal("高新 新 技术 术 通知 知", text.tokens("高新，技术。《通知》"))
    end)

    it("lowercases Latin words and digits, full-width ones as ASCII", function()
      assert.are.equal("关于 于 api 接口 口 v2 0 的通 通知 知", text.tokens("关于API接口v2.0的通知"))
      assert.are.equal("api2024 open platform", text.tokens("ＡＰＩ２０２４ Open-Platform"))
      assert.are.equal("café straße", text.tokens("Café, Straße!"))
    end)

    it("separates on emoji, punctuation and symbols; keeps kana, Hangul, 〇", function()
      assert.are.equal("园区 区 活动 动", text.tokens("园区😀活动🎉"))
      assert.are.equal("カタ タカ カナ ナ 한국 국어 어", text.tokens("カタカナ・한국어"))
      assert.are.equal("二〇 〇二 二四 四年 年", text.tokens("二〇二四年"))
      assert.are.equal("", text.tokens(""))
      assert.are.equal("", text.tokens(nil))
      assert.are.equal("", text.tokens("，。！？、……——😀 \n"))
    end)

    it("tokenizes in time linear in the length (50,000 characters at once as ten pieces)",
      function()
      -- CPU time against itself, not against a clock: a busy or
      -- instrumented machine slows both sides alike; a quadratic cost makes
      -- one text ten times longer cost a hundred times more, not ten.
      local function cost(n)
        local s = NOTICE:rep(n // chars(NOTICE) + 1)
        collectgarbage() -- the garbage of earlier specs is not this run's cost
        local t0 = os.clock()
        local tokens = text.tokens(s)
        assert.is_true(#tokens > #s)
        return os.clock() - t0
      end
      local pieces = 0
      for _ = 1, 10 do pieces = pieces + cost(5000) end
      local whole = cost(50000)
      assert.is_true(whole < 3 * pieces + 0.01,
        ("50,000 characters took %.3f s, ten times 5,000 %.3f s"):format(whole, pieces))
    end)
  end)

  describe("match: a user's query as FTS5 MATCH", function()
    it("makes each term a quoted phrase of its tokens, terms ANDed", function()
      assert.are.equal('"高新 新技 技术"', text.match("高新技术"))
      assert.are.equal('"认定"', text.match("认定"))
      assert.are.equal('"高新 新技 技术" AND "认定"', text.match("  高新技术　认定 "))
      assert.are.equal('"api" AND "接口"', text.match("API 接口"))
      assert.are.equal('"api 接口"', text.match("API接口"))
      assert.are.equal('"接口 口 api"', text.match("接口API"))
      assert.are.equal('"认定"', text.match("认定 认定"))
    end)

    it("makes a term that ends in one CJK character a prefix", function()
      assert.are.equal('"假"*', text.match("假"))
      assert.are.equal('"a 股"*', text.match("A股"))
      assert.are.equal('"第 3 号"*', text.match("第3号"))
    end)

    it("has nothing to match for punctuation, symbols or nothing", function()
      for _, q in ipairs({ "", "   ", "，。！？", "《》“”", "😀🎉", "*", "^", '"', "()", "-" }) do
        assert.is_nil(text.match(q), q)
      end
      assert.is_nil(text.match(nil))
    end)

    it("never lets FTS5 syntax through", function()
      local hostile = { '"', 'NEAR(', "a OR b", "body:x", "*", "-x", "^", '"高新" OR "认定"',
        "NOT 认定", "高新 NEAR/2 认定", "{body}: x", "a + b", "认定\" OR \"", "x*", "\0认定" }
      for _, q in ipairs(hostile) do
        local m = text.match(q)
        if m then
          for phrase in (m .. " AND "):gmatch("(.-) AND ") do
            -- One quoted phrase, maybe a prefix, of a-z, 0-9, spaces and CJK.
            local inner = phrase:match('^"([^"]*)"%*?$')
            assert.is_truthy(inner, phrase)
            assert.matches("^[a-z0-9 ]*$", (inner:gsub("[\128-\255]", "")), phrase)
          end
        end
      end
      assert.are.equal('"a" AND "or" AND "b"', text.match("a OR b"))
      assert.are.equal('"body x"', text.match("body:x"))
      assert.are.equal('"near"', text.match("NEAR("))
      assert.are.equal('"x"', text.match("-x"))
    end)
  end)

  -- The real thing: a plugin in a real parkhost site stores text.tokens in
  -- an FTS5 table (tokenize = 'unicode61') and queries it with text.match.
  -- The plugin is written to a temporary folder for this spec, with a copy
  -- of articles_text.lua beside it (a plugin requires only its own
  -- modules), so the module is also loaded in the real sandbox.
  describe("against a real FTS5 table in a parkhost site", function()
    local site, dir

    local PLUGIN = [[
local park = require("park")
local text = require("articles_text")
local db = park.db

local function perf_check()
  local unit = "关于开展2024年度高新技术企业认定工作的通知。请登录申报系统填报，截止日期为5月31日。"
  local s = unit:rep(50000 // utf8.len(unit) + 1)
  s = s:sub(1, utf8.offset(s, 50001) - 1)
  local rules = { forbidden = {}, sensitive = {}, corrections = {} }
  for i = 1, 200 do
    local w = ({ "高新技术", "认定", "通知", "申报系统", "登录" })[i % 5 + 1] .. (i > 5 and i or "")
    rules.forbidden[#rules.forbidden + 1] = w
  end
  local t0 = os.clock()
  local findings = text.check({ { name = "body", text = s } }, rules)
  return park.json({ chars = utf8.len(s), findings = #findings, seconds = os.clock() - t0 })
end

local function perf_diff()
  local a, b = {}, {}
  for i = 1, 2000 do
    a[i] = "第" .. i .. "条　关于高新技术企业认定工作的通知，各有关单位请按要求填报。"
    b[i] = i % 10 == 0 and a[i]:gsub("填报", "如实填报") or a[i]
  end
  local t0 = os.clock()
  local d = text.diff(table.concat(a, "\n"), table.concat(b, "\n"))
  local words = 0
  for _, e in ipairs(d) do if e.words then words = words + 1 end end
  local t1 = os.clock()
  for i = 1, 2000 do b[i] = "完全改写的第" .. i .. "段" end
  local d2 = text.diff(table.concat(a, "\n"), table.concat(b, "\n"))
  return park.json({ entries = #d, words = words, seconds = t1 - t0, rewritten = #d2,
                     seconds_rewritten = os.clock() - t1 })
end

return {
  name = "tokenkit",
  version = "1",
  description = "articles_text against FTS5, for plugins/articles/spec/text_spec.lua",
  csrf = false,
  routes = {
    { "POST", "/add", function(req)
      local _, id = db.exec("INSERT INTO tokenkit_fts (rowid, body) VALUES (?, ?)",
        tonumber(req.form.id), text.tokens(req.form.body))
      return park.json({ id = id }, 201)
    end },
    { "GET", "/q", function(req)
      local m = text.match(req.query.q or "")
      if not m then return park.json({ ok = true, match = false, ids = {} }) end
      local ok, rows, err = pcall(db.query,
        "SELECT rowid AS id FROM tokenkit_fts WHERE tokenkit_fts MATCH ? ORDER BY rowid", m)
      if not ok or not rows then
        return park.json({ ok = false, match = m, error = tostring(ok and err or rows) })
      end
      local ids = {}
      for i, r in ipairs(rows) do ids[i] = r.id end
      return park.json({ ok = true, match = m, ids = ids })
    end },
    { "GET", "/perf/check", perf_check },
    { "GET", "/perf/diff", perf_diff },
  },
}
]]

    local ARTICLES = {
      "关于开展2024年度高新技术企业认定工作的通知",
      "关于公布第一批科技型中小企业名单的公告",
      "园区元旦假期安排：1月1日放假一天",
      "开放平台API接口文档更新说明",
      "2023年度认定结果公示",
      "高新区管委会关于人才公寓申请的公告",
      "春节放假。",
      "Plan A or plan B 说明",
      "A级景区名单",
      "the body x factor",
      "X光机采购公告",
      "高新技术产业开发区简介",
    }

    local function url_encode(s)
      return (s:gsub("[^%w%-_%.~]", function(c) return ("%%%02X"):format(c:byte()) end))
    end

    setup(function()
      dir = os.tmpname()
      os.remove(dir)
      assert(os.execute("mkdir -p '" .. dir .. "/tokenkit/sql'"))
      write(dir .. "/tokenkit/plugin.lua", PLUGIN)
      write(dir .. "/tokenkit/sql/001_fts.sql",
        "CREATE VIRTUAL TABLE tokenkit_fts USING fts5(body, tokenize = 'unicode61');\n")
      write(dir .. "/tokenkit/articles_text.lua", read(MODULE))
      site = testing.start_site({ plugins = { dir },
                                  bindings = { { column = "/tk", plugin = "tokenkit" } } })
      for id, body in ipairs(ARTICLES) do
        local res = site:request("POST", "/tk/add",
          { ["Content-Type"] = "application/x-www-form-urlencoded" },
          "id=" .. id .. "&body=" .. url_encode(body))
        assert.are.equal(201, res.status, res.body)
      end
    end)

    teardown(function()
      if site then assert.are.equal(0, site:stop()) end
      if dir then os.execute("rm -rf '" .. dir .. "'") end
    end)

    local function search(q)
      local res = site:request("GET", "/tk/q?q=" .. url_encode(q))
      assert.are.equal(200, res.status, res.body)
      local body = cjson.decode(res.body)
      assert.is_true(body.ok, q .. ": " .. tostring(body.error) .. " for " .. tostring(body.match))
      return body.ids, body.match
    end

    it("finds 2- and 4-character Chinese terms in the right articles", function()
      assert.are.same({ 1, 12 }, search("高新技术"))
      assert.are.same({ 1, 5 }, search("认定"))
      assert.are.same({ 1, 2 }, search("企业"))
      assert.are.same({ 2, 6, 11 }, search("公告"))
      assert.are.same({ 1 }, search("技术企业认定"))
      assert.are.same({ 6 }, search("高新 公告"))
      assert.are.same({}, search("技术公告"))
    end)

    it("finds a one-character term, at the end of a run too", function()
      local ids, m = search("假")
      assert.are.equal('"假"*', m)
      assert.are.same({ 3, 7 }, ids)
      assert.are.same({ 3, 7 }, search("放假"))
      assert.are.same({ 11 }, search("光"))
    end)

    it("finds mixed Latin and Chinese, in any case and width", function()
      assert.are.same({ 4 }, search("API 接口"))
      assert.are.same({ 4 }, search("api接口"))
      assert.are.same({ 4 }, search("ＡＰＩ"))
      assert.are.same({ 4 }, search("平台API接口"))
      assert.are.same({}, search("接口API"))
      assert.are.same({ 1 }, search("2024 认定"))
      assert.are.same({ 9 }, search("A级"))
    end)

    it("has no query for punctuation only", function()
      local ids, m = search("，。！？")
      assert.are.same({}, ids)
      assert.is_false(m)
    end)

    it("never errors on hostile queries, nor matches more than their literal words", function()
      local cases = {
        { '"', {} }, { "NEAR(", {} }, { "a OR b", { 8 } }, { "body:x", { 10 } },
        { "*", {} }, { "-x", { 10, 11 } }, { "^", {} }, { '"高新" OR "认定"', {} },
        { "NOT 认定", {} }, { "认定 -高新", { 1 } }, { "高新 NEAR/2 认定", {} },
        { "{body}: x", { 10 } }, { "x*", { 10, 11 } }, { "认定\" OR \"公告", {} },
        { "AND", {} }, { "body : x OR 1", {} },
      }
      for _, c in ipairs(cases) do
        assert.are.same(c[2], (search(c[1])), c[1])
      end
    end)

    -- Inside the budgets: the answer is a 200, not the 503 of a run stopped
    -- by plugin-instructions or plugin-max-hold-ms (the clock is the
    -- sandbox's to watch, not the spec's).
    it("checks 200 rules against 50,000 characters inside the sandbox's budgets", function()
      local res = site:request("GET", "/tk/perf/check")
      assert.are.equal(200, res.status, res.body)
      local r = cjson.decode(res.body)
      assert.are.equal(50000, r.chars)
      assert.is_true(r.findings > 1000)
    end)

    it("compares 2,000 paragraphs inside the sandbox's budgets", function()
      local res = site:request("GET", "/tk/perf/diff")
      assert.are.equal(200, res.status, res.body)
      local r = cjson.decode(res.body)
      assert.are.equal(2200, r.entries)
      assert.are.equal(400, r.words)
      assert.are.equal(4000, r.rewritten)
    end)
  end)

  describe("snippet: text around the first hit", function()
    local long = ("园区简介。"):rep(20) .. "关于开展高新技术企业认定工作的通知，高新技术企业应于5月31日前申报。"
      .. ("联系电话。"):rep(20)

    local function width_of(segs)
      local n = 0
      for _, seg in ipairs(segs) do n = n + chars(seg.text) end
      return n
    end

    it("shows width characters around the first hit, every hit marked", function()
      local segs = text.snippet(long, "高新技术 认定", 40)
      assert.are.equal(40, width_of(segs))
      local s = join(segs)
      assert.are.equal("…", usub(s, 1, 1))
      assert.are.equal("…", usub(s, 40, 40))
      assert.truthy(s:find("关于开展高新技术企业认定工作的通知，高新技术企业", 1, true))
      assert.are.same({ "高新技术", "认定", "高新技术" }, hits(segs))
      assert.are.equal(80, width_of(text.snippet(long, "认定")))
    end)

    it("shows the start when nothing matches, the whole of a short text", function()
      local segs = text.snippet(long, "不存在", 20)
      assert.are.same({ { text = ("园区简介。"):rep(3) .. "园区简介…" } }, segs)
      assert.are.same({ { text = "关于" }, { text = "认定", hit = true }, { text = "结果的公示" } },
        text.snippet("关于认定结果的公示", "认定"))
      assert.are.same({ { text = "关于认定结果的公示" } }, text.snippet("关于认定结果的公示", nil))
      assert.are.same({}, text.snippet("", "认定"))
      assert.are.same({}, text.snippet(" \n ", "认定"))
    end)

    it("cuts only the end it must, and matches like the search does", function()
      local s = ("园区简介。"):rep(20) .. "详见API接口文档"
      local segs = text.snippet(s, "api", 30)
      assert.are.equal(30, width_of(segs))
      assert.are.equal("…", usub(join(segs), 1, 1))
      assert.are.same({ "API" }, hits(segs))
      assert.are.equal("接口文档", segs[#segs].text)
      segs = text.snippet("第一行\n\n  第二行\t通知 ", "ＡＰＩ 通知")
      assert.are.same({ { text = "第一行 第二行 " }, { text = "通知", hit = true } }, segs)
    end)
  end)

  describe("diff: comparing revisions", function()
    local function side(d, keep)
      local out = {}
      for _, e in ipairs(d) do
        if e.op == "same" or e.op == keep then out[#out + 1] = e.text end
      end
      return out
    end

    local function lines(s)
      local out = {}
      for line in s:gmatch("[^\n]+") do out[#out + 1] = line end
      return out
    end

    it("compares paragraph by paragraph, changed pairs down to characters", function()
      local a = "关于开展2024年度高新技术企业认定工作的通知\n各有关单位：\n"
        .. "申报截止时间为5月31日。\n联系人：张三"
      local b = "关于开展2024年度高新技术企业认定工作的通知\n各有关单位：\n"
        .. "申报截止时间为6月30日。\n咨询电话：0571-88888888\n联系人：张三"
      local d = text.diff(a, b)
      assert.are.same({ "same", "same", "del", "add", "add", "same" },
        { d[1].op, d[2].op, d[3].op, d[4].op, d[5].op, d[6].op })
      assert.are.same({ { op = "same", text = "申报截止时间为" }, { op = "del", text = "5" },
                        { op = "same", text = "月" }, { op = "del", text = "31" },
                        { op = "same", text = "日。" } }, d[3].words)
      assert.are.same({ { op = "same", text = "申报截止时间为" }, { op = "add", text = "6" },
                        { op = "same", text = "月" }, { op = "add", text = "30" },
                        { op = "same", text = "日。" } }, d[4].words)
      assert.is_nil(d[5].words)
      assert.is_nil(d[1].words)
      assert.are.same(lines(a), side(d, "del"))
      assert.are.same(lines(b), side(d, "add"))
    end)

    it("compares Latin text word by word", function()
      local d = text.diff("Open Platform API v1 文档", "Open Platform API v2 文档")
      assert.are.same({ { op = "same", text = "Open Platform API " }, { op = "del", text = "v1" },
                        { op = "same", text = " 文档" } }, d[1].words)
      assert.are.same({ { op = "same", text = "Open Platform API " }, { op = "add", text = "v2" },
                        { op = "same", text = " 文档" } }, d[2].words)
    end)

    it("splits on every newline, trims lines and drops blank ones", function()
      local d = text.diff("\u{3000}\u{3000}第一段\r\n\r\n第二段\n", "第一段\n第二段\n\n第三段")
      assert.are.same({ { op = "same", text = "第一段" }, { op = "same", text = "第二段" },
                        { op = "add", text = "第三段" } }, d)
      assert.are.same({}, text.diff("", ""))
      assert.are.same({ { op = "del", text = "通知" } }, text.diff("通知", nil))
      assert.are.same({ { op = "add", text = "通知" }, { op = "add", text = "公告" } },
        text.diff("", "通知\n公告"))
    end)

    it("skips the inner diff of paragraphs over 2,000 characters", function()
      local long = ("高新技术企业"):rep(400)
      local d = text.diff(long .. "甲", long .. "乙")
      assert.are.same({ "del", "add" }, { d[1].op, d[2].op })
      assert.is_nil(d[1].words)
      assert.is_nil(d[2].words)
      d = text.diff(("认定"):rep(900) .. "甲", ("认定"):rep(900) .. "乙")
      assert.are.same({ "same", "del" }, { d[1].words[1].op, d[1].words[2].op })
      assert.are.equal(2, #d[1].words)
    end)

    it("finds a longest common subsequence (checked against plain DP)", function()
      math.randomseed(20240531)
      local words = { "通知", "公告", "认定", "名单", "公示", "申报" }
      local cases = {}
      -- A carry that crosses a whole 64-bit word of the LCS rows.
      local crafted = { "甲" }
      for k = 2, 128 do crafted[k] = "丙" end
      crafted[129] = "乙"
      cases[1] = { { "乙", "甲" }, crafted }
      for t = 2, 300 do
        local a, b = {}, {}
        for i = 1, math.random(0, t % 2 == 0 and 150 or 40) do a[i] = words[math.random(#words)] end
        for i = 1, math.random(0, t % 2 == 0 and 150 or 300) do
          -- Half the cases mostly of lines only b has: long runs without a match.
          b[i] = (t % 2 == 1 and math.random() < 0.9) and "补充" .. i or words[math.random(#words)]
        end
        cases[t] = { a, b }
      end
      for _, case in ipairs(cases) do
        local a, b = case[1], case[2]
        local n, m = #a, #b
        local prev = {}
        for k = 0, m do prev[k] = 0 end
        for i = 1, n do
          local row = { [0] = 0 }
          for k = 1, m do
            row[k] = a[i] == b[k] and prev[k - 1] + 1 or math.max(prev[k], row[k - 1])
          end
          prev = row
        end
        local d = text.diff(table.concat(a, "\n"), table.concat(b, "\n"))
        local same = 0
        for _, e in ipairs(d) do
          if e.op == "same" then same = same + 1 end
        end
        assert.are.equal(prev[m], same)
        assert.are.same(a, side(d, "del"))
        assert.are.same(b, side(d, "add"))
      end
    end)

    it("compares 2,000 paragraphs well within a second", function()
      local a, b = {}, {}
      for i = 1, 2000 do
        a[i] = "第" .. i .. "条　" .. NOTICE
        if i % 10 == 0 then
          b[#b + 1] = a[i]:gsub("5月31日", "6月30日")
        elseif i % 97 ~= 0 then
          b[#b + 1] = a[i]
        end
        if i % 101 == 0 then b[#b + 1] = "新增：第" .. i .. "条的补充说明" end
      end
      local t0 = os.clock()
      local d = text.diff(table.concat(a, "\n"), table.concat(b, "\n"))
      local dt = os.clock() - t0
      assert.is_true(dt < 0.5, ("took %.3f s"):format(dt))
      assert.are.same(a, side(d, "del"))
      assert.are.same(b, side(d, "add"))
      local words = 0
      for _, e in ipairs(d) do
        if e.words then words = words + 1 end
      end
      assert.is_true(words >= 390)
      -- Everything rewritten: bounded too.
      local c = {}
      for i = 1, 2000 do c[i] = "完全改写的第" .. i .. "段：" .. usub(NOTICE, 1, 20 + i % 7) end
      t0 = os.clock()
      d = text.diff(table.concat(a, "\n"), table.concat(c, "\n"))
      dt = os.clock() - t0
      assert.is_true(dt < 1, ("took %.3f s"):format(dt))
      assert.are.same(c, side(d, "add"))
    end)
  end)

  it("runs with only what the sandbox gives and sets no globals", function()
    local env = { string = string, table = table, math = math, utf8 = utf8, ipairs = ipairs,
                  pairs = pairs, type = type, tostring = tostring, tonumber = tonumber,
                  select = select, error = error, assert = assert, pcall = pcall,
                  setmetatable = setmetatable, next = next,
                  -- the host's park.text is the one module it needs
                  require = function(name)
                    assert(name == "park.text", "the sandbox has no module " .. tostring(name))
                    return require("park.text")
                  end }
    setmetatable(env, {
      __index = function(_, k) error("undefined global " .. tostring(k), 2) end,
      __newindex = function(_, k) error("global set: " .. tostring(k), 2) end,
    })
    local mod = assert(load(read(MODULE), "=articles_text", "t", env))()
    assert.are.equal(1, #mod.check({ { name = "b", text = "其它" } }, { corrections = { "其它=其他" } }))
    assert.are.equal("高新 新技 技术 术", mod.tokens("高新技术"))
    assert.are.equal('"假"*', mod.match("假"))
    assert.are.equal(2, #mod.snippet("关于认定", "认定"))
    assert.are.equal(2, #mod.mark("关于认定", { { pos = 3, word = "认定" } }))
    assert.are.equal(3, #mod.diff("甲\n乙", "甲\n丙"))
  end)
end)
