package.path = "plugins/articles/?.lua;" .. package.path

-- articles_feeds: RSS, Atom, JSON Feed and sitemap. Every XML document is
-- parsed back with expat (lua-expat) into a small DOM and checked there.
local feeds = require("articles_feeds")
local cjson = require("cjson")
local lxp = require("lxp")

local ATOM = "http://www.w3.org/2005/Atom"
local CONTENT = "http://purl.org/rss/1.0/modules/content/"
local DC = "http://purl.org/dc/elements/1.1/"
local SITEMAP = "http://www.sitemaps.org/schemas/sitemap/0.9"
local XMLNS = "http://www.w3.org/XML/1998/namespace"
local DECL = '<?xml version="1.0" encoding="UTF-8"?>'

-- A DOM ------------------------------------------------------------------

-- Parses xml with expat, namespaces resolved: a name is "uri|local" (or just
-- "local" outside any namespace). Returns the root { name, attr, children,
-- text } or fails the test with expat's reason.
local function parse(xml)
  local root
  local stack = {}
  local parser = lxp.new({
    StartElement = function(_, name, attrs)
      local node = { name = name, attr = {}, children = {}, chunks = {} }
      for k, v in pairs(attrs) do
        if type(k) == "string" then
          node.attr[k] = v
        end
      end
      local parent = stack[#stack]
      if parent then
        parent.children[#parent.children + 1] = node
      else
        root = node
      end
      stack[#stack + 1] = node
    end,
    EndElement = function()
      local node = table.remove(stack)
      node.text = table.concat(node.chunks)
      node.chunks = nil
    end,
    CharacterData = function(_, data)
      local node = stack[#stack]
      node.chunks[#node.chunks + 1] = data
    end,
  }, "|")
  local ok, err, line, col = parser:parse(xml)
  if ok then
    ok, err, line, col = parser:parse()
  end
  parser:close()
  assert(ok, string.format("not well-formed XML: %s at line %s, column %s", tostring(err),
    tostring(line), tostring(col)))
  return root
end

-- The children of node named name, in order.
local function all(node, name)
  local out = {}
  for _, child in ipairs(node.children) do
    if child.name == name then
      out[#out + 1] = child
    end
  end
  return out
end

-- The one child of node named name (fails when there is none or several).
local function one(node, name)
  local found = all(node, name)
  assert(#found == 1, string.format("%s: %d <%s> children, expected 1", node.name, #found,
    name))
  return found[1]
end

local function text(node, name)
  return one(node, name).text
end

-- Dates, parsed back without os.time (whose result depends on TZ) ----------

local DAYS = { Sun = 0, Mon = 1, Tue = 2, Wed = 3, Thu = 4, Fri = 5, Sat = 6 }
local MONTHS = { Jan = 1, Feb = 2, Mar = 3, Apr = 4, May = 5, Jun = 6, Jul = 7, Aug = 8,
  Sep = 9, Oct = 10, Nov = 11, Dec = 12 }

-- Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
local function days_from_civil(y, m, d)
  y = m <= 2 and y - 1 or y
  local era = (y >= 0 and y or y - 399) // 400
  local yoe = y - era * 400
  local doy = (153 * (m + (m > 2 and -3 or 9)) + 2) // 5 + d - 1
  local doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
  return era * 146097 + doe - 719468
end

local function epoch_of(y, m, d, hh, mm, ss)
  return days_from_civil(y, m, d) * 86400 + hh * 3600 + mm * 60 + ss
end

-- "Sat, 28 Nov 2026 05:57:00 GMT" -> epoch; checks the day name too.
local function parse_rfc822(s)
  local wd, d, mon, y, hh, mm, ss =
    s:match("^(%a%a%a), (%d%d) (%a%a%a) (%d%d%d%d) (%d%d):(%d%d):(%d%d) GMT$")
  assert(wd, "not an RFC 822 date in GMT: " .. tostring(s))
  assert(MONTHS[mon], "unknown month name in " .. s)
  local days = days_from_civil(tonumber(y), MONTHS[mon], tonumber(d))
  assert.are.equal((days + 4) % 7, DAYS[wd], "wrong day name in " .. s) -- 1970-01-01: Thu
  return epoch_of(tonumber(y), MONTHS[mon], tonumber(d), tonumber(hh), tonumber(mm),
    tonumber(ss))
end

-- "2026-11-28T05:57:00Z" -> epoch.
local function parse_rfc3339(s)
  local y, m, d, hh, mm, ss = s:match("^(%d%d%d%d)%-(%d%d)%-(%d%d)T(%d%d):(%d%d):(%d%d)Z$")
  assert(y, "not an RFC 3339 UTC date: " .. tostring(s))
  return epoch_of(tonumber(y), tonumber(m), tonumber(d), tonumber(hh), tonumber(mm),
    tonumber(ss))
end

-- Fixtures ---------------------------------------------------------------

local T_CHANNEL = 1795845420 -- 2026-11-28T05:57:00Z, a Saturday
local T1_PUB, T1_UPD = 1795771815, 1795845420 -- 2026-11-27T09:30:15Z, ...28T05:57:00Z
local T2 = 1795136523 -- 2026-11-20T01:02:03Z
local T3 = 1835481599 -- 2028-02-29T23:59:59Z, a leap day

local BASE = "https://www.example.gov.cn/gxcy/tzgg"

local function channel()
  return {
    title = "通知公告 - 示范高新区",
    link = BASE,
    self = BASE .. "/feed.xml",
    description = "示范高新区管委会发布的通知公告",
    language = "zh-CN",
    updated = T_CHANNEL,
    id = BASE .. "/feed.xml",
  }
end

local NASTY_TITLE = "R&D <中心> \"开放日\" '预约'\1 报名"
local NASTY_TITLE_CLEAN = "R&D <中心> \"开放日\" '预约' 报名"
local CDATA_HTML = '<p>代码示例：<code>a[b[0]]>1</code> 与 "]]>" & <b>结束</b></p>'

local function items()
  return {
    {
      id = BASE .. "/42",
      url = BASE .. "/42",
      title = "关于开展2026年度高新技术企业认定工作的通知",
      summary = "各有关企业：请于12月15日前提交申报材料。",
      content_html = "<p>申报截止：<strong>12月15日</strong>。</p>",
      published = T1_PUB,
      updated = T1_UPD,
      author = "招商局",
      category = "通知公告",
    },
    {
      id = BASE .. "/41",
      url = BASE .. "/41?from=feed&lang=zh",
      title = NASTY_TITLE,
      summary = "a < b && c > d \"quoted\" 'single'",
      content_html = CDATA_HTML,
      published = T2,
      updated = T2,
      author = "科技创新局 & 人才办",
      category = "活动 <预告>",
    },
    {
      id = BASE .. "/40",
      url = BASE .. "/40",
      title = "园区闰日公告",
      summary = "只有摘要，没有正文、作者和分类。",
      published = T3,
    },
  }
end

-- Text and dates ---------------------------------------------------------

describe("articles_feeds text and dates", function()
  it("names the content types", function()
    assert.are.same({
      rss = "application/rss+xml; charset=utf-8",
      atom = "application/atom+xml; charset=utf-8",
      json = "application/feed+json; charset=utf-8",
      sitemap = "application/xml; charset=utf-8",
    }, feeds.TYPES)
  end)

  it("removes what XML 1.0 forbids and keeps tab, LF, CR and Chinese", function()
    assert.are.equal("abc\tA\nB\rC", feeds.clean("a\1b\0c\tA\nB\rC\31"))
    assert.are.equal("示范高新区", feeds.clean("示范高新区"))
    assert.are.equal("ab", feeds.clean("a\237\160\128b"))   -- U+D800, a lone surrogate
    assert.are.equal("ab", feeds.clean("a\237\191\191b"))   -- U+DFFF
    assert.are.equal("ab", feeds.clean("a\239\191\190b"))   -- U+FFFE
    assert.are.equal("ab", feeds.clean("a\239\191\191b"))   -- U+FFFF
    assert.are.equal("中文", feeds.clean("中\128文\255"))    -- stray bytes
    assert.are.equal("/", feeds.clean("\192\175/"))         -- an overlong "/"
    assert.are.equal("中", feeds.clean("\228\184中"))        -- a truncated sequence
    assert.are.equal("\127\194\128\239\191\189", feeds.clean("\127\194\128\239\191\189"))
    assert.are.equal("\240\159\152\128", feeds.clean("\240\159\152\128")) -- U+1F600
    assert.are.equal("", feeds.clean(nil))
  end)

  it("escapes & < > \" ' for text and attributes", function()
    assert.are.equal("&amp;&lt;&gt;&quot;&apos;中", feeds.escape("&<>\"'\2中"))
  end)

  it("writes RFC 822 dates in GMT with English names, whatever the locale", function()
    assert.are.equal("Thu, 01 Jan 1970 00:00:00 GMT", feeds.rfc822(0))
    assert.are.equal("Sat, 28 Nov 2026 05:57:00 GMT", feeds.rfc822(T_CHANNEL))
    assert.are.equal("Tue, 29 Feb 2028 23:59:59 GMT", feeds.rfc822(T3))
    assert.are.equal("Sat, 28 Nov 2026 05:57:00 GMT", feeds.rfc822(T_CHANNEL + 0.75))
    -- Under a locale with other day and month names, when the machine has one.
    local old = os.setlocale(nil, "time")
    for _, name in ipairs({ "de_DE.UTF-8", "fr_FR.UTF-8", "zh_CN.UTF-8" }) do
      if os.setlocale(name, "time") then
        local ok, got = pcall(feeds.rfc822, T_CHANNEL)
        os.setlocale(old, "time")
        assert.is_true(ok, got)
        assert.are.equal("Sat, 28 Nov 2026 05:57:00 GMT", got)
      end
    end
    os.setlocale(old, "time")
  end)

  it("writes RFC 3339 dates in UTC", function()
    assert.are.equal("1970-01-01T00:00:00Z", feeds.rfc3339(0))
    assert.are.equal("2026-11-28T05:57:00Z", feeds.rfc3339(T_CHANNEL))
    assert.are.equal("2028-02-29T23:59:59Z", feeds.rfc3339(T3))
    for _, t in ipairs({ 0, T1_PUB, T2, T3, 951782400 }) do -- 951782400: 2000-02-29
      assert.are.equal(t, parse_rfc3339(feeds.rfc3339(t)))
      assert.are.equal(t, parse_rfc822(feeds.rfc822(t)))
    end
  end)

  it("refuses a channel without title, link or self, and a date that is no number", function()
    for _, field in ipairs({ "title", "link", "self" }) do
      local c = channel()
      c[field] = nil
      assert.has_error(function() feeds.rss(c, {}) end,
        "feeds: channel." .. field .. " is required (a non-empty string)")
    end
    assert.has_error(function() feeds.atom(channel(), { { title = "no id" } }) end)
    assert.has_error(function() feeds.rss(channel(), { { id = "x", published = "today" } }) end)
  end)
end)

-- RSS 2.0 ----------------------------------------------------------------

describe("articles_feeds.rss", function()
  local xml, rss, ch, its

  setup(function()
    xml = feeds.rss(channel(), items())
    rss = parse(xml)
    ch = one(rss, "channel")
    its = all(ch, "item")
  end)

  it("is an RSS 2.0 document that starts with the XML declaration", function()
    assert.are.equal(DECL, xml:sub(1, #DECL))
    assert.are.equal("rss", rss.name)
    assert.are.equal("2.0", rss.attr.version)
  end)

  it("describes the channel, with its atom:link rel=self", function()
    assert.are.equal("通知公告 - 示范高新区", text(ch, "title"))
    assert.are.equal(BASE, text(ch, "link"))
    assert.are.equal("示范高新区管委会发布的通知公告", text(ch, "description"))
    assert.are.equal("zh-CN", text(ch, "language"))
    assert.are.equal(T_CHANNEL, parse_rfc822(text(ch, "lastBuildDate")))
    local self = one(ch, ATOM .. "|link")
    assert.are.equal("self", self.attr.rel)
    assert.are.equal(BASE .. "/feed.xml", self.attr.href)
    assert.are.equal("application/rss+xml", self.attr.type)
  end)

  it("lists the items in the order given, each with a permalink guid", function()
    assert.are.equal(3, #its)
    for i, id in ipairs({ "/42", "/41", "/40" }) do
      local guid = one(its[i], "guid")
      assert.are.equal(BASE .. id, guid.text)
      assert.are.equal("true", guid.attr.isPermaLink)
    end
    assert.are.equal(BASE .. "/41?from=feed&lang=zh", text(its[2], "link"))
  end)

  it("dates each item with an RFC 822 pubDate in GMT", function()
    local pub = text(its[1], "pubDate")
    assert.are.equal("Fri, 27 Nov 2026 09:30:15 GMT", pub)
    assert.are.equal(T1_PUB, parse_rfc822(pub))
    assert.are.equal(T2, parse_rfc822(text(its[2], "pubDate")))
    assert.are.equal(T3, parse_rfc822(text(its[3], "pubDate")))
  end)

  it("keeps Chinese text exactly", function()
    assert.are.equal("关于开展2026年度高新技术企业认定工作的通知", text(its[1], "title"))
    assert.are.equal("各有关企业：请于12月15日前提交申报材料。", text(its[1], "description"))
    assert.are.equal("通知公告", text(its[1], "category"))
    assert.are.equal("招商局", text(its[1], DC .. "|creator"))
    assert.are.equal("<p>申报截止：<strong>12月15日</strong>。</p>",
      text(its[1], CONTENT .. "|encoded"))
  end)

  it("escapes & < > \" ' and drops a control character", function()
    assert.are.equal(NASTY_TITLE_CLEAN, text(its[2], "title"))
    assert.are.equal("a < b && c > d \"quoted\" 'single'", text(its[2], "description"))
    assert.are.equal("活动 <预告>", text(its[2], "category"))
    assert.are.equal("科技创新局 & 人才办", text(its[2], DC .. "|creator"))
    assert.is_nil(xml:find("\1", 1, true))
  end)

  it("puts HTML holding ]]> in content:encoded and still parses", function()
    assert.truthy(xml:find("]]]]><![CDATA[>", 1, true))
    assert.are.equal(CDATA_HTML, text(its[2], CONTENT .. "|encoded"))
  end)

  it("leaves out what an item does not have", function()
    assert.are.equal(0, #all(its[3], CONTENT .. "|encoded"))
    assert.are.equal(0, #all(its[3], DC .. "|creator"))
    assert.are.equal(0, #all(its[3], "category"))
    assert.are.equal("园区闰日公告", text(its[3], "title"))
  end)

  it("marks a guid that is no URL as not a permalink", function()
    local doc = parse(feeds.rss(channel(), { { id = "tag:example.gov.cn,2026:42",
      url = BASE .. "/42", title = "x" } }))
    local guid = one(all(one(doc, "channel"), "item")[1], "guid")
    assert.are.equal("false", guid.attr.isPermaLink)
    assert.are.equal("tag:example.gov.cn,2026:42", guid.text)
  end)

  it("survives surrogates, U+FFFE and stray bytes in every field", function()
    local bad = "坏\237\160\128字\239\191\191符\255\0"
    local c = channel()
    c.title, c.description = bad, bad
    local doc = parse(feeds.rss(c, { { id = BASE .. "/1", title = bad, summary = bad,
      content_html = bad .. "]]>", author = bad, category = bad, published = 0 } }))
    local dch = one(doc, "channel")
    assert.are.equal("坏字符", text(dch, "title"))
    local item = one(dch, "item")
    assert.are.equal("坏字符", text(item, "title"))
    assert.are.equal("坏字符]]>", text(item, CONTENT .. "|encoded"))
  end)
end)

-- Atom 1.0 ---------------------------------------------------------------

describe("articles_feeds.atom", function()
  local xml, feed, entries

  setup(function()
    xml = feeds.atom(channel(), items())
    feed = parse(xml)
    entries = all(feed, ATOM .. "|entry")
  end)

  local function a(node, name)
    return text(node, ATOM .. "|" .. name)
  end

  it("is an Atom feed in the Atom namespace", function()
    assert.are.equal(DECL, xml:sub(1, #DECL))
    assert.are.equal(ATOM .. "|feed", feed.name)
    assert.are.equal("zh-CN", feed.attr[XMLNS .. "|lang"])
    for _, child in ipairs(feed.children) do
      assert.are.equal(ATOM, child.name:match("^(.*)|"))
    end
  end)

  it("gives the feed its id, title, updated and self and alternate links", function()
    assert.are.equal(BASE .. "/feed.xml", a(feed, "id"))
    assert.are.equal("通知公告 - 示范高新区", a(feed, "title"))
    assert.are.equal("示范高新区管委会发布的通知公告", a(feed, "subtitle"))
    assert.are.equal("2026-11-28T05:57:00Z", a(feed, "updated"))
    assert.are.equal(T_CHANNEL, parse_rfc3339(a(feed, "updated")))
    local rels = {}
    for _, link in ipairs(all(feed, ATOM .. "|link")) do
      rels[link.attr.rel] = link
    end
    assert.are.equal(BASE .. "/feed.xml", rels.self.attr.href)
    assert.are.equal("application/atom+xml", rels.self.attr.type)
    assert.are.equal(BASE, rels.alternate.attr.href)
    assert.are.equal("text/html", rels.alternate.attr.type)
    assert.are.equal("通知公告 - 示范高新区", a(one(feed, ATOM .. "|author"), "name"))
  end)

  it("has one entry per item, in order, with ids, dates and links", function()
    assert.are.equal(3, #entries)
    for i, id in ipairs({ "/42", "/41", "/40" }) do
      assert.are.equal(BASE .. id, a(entries[i], "id"))
    end
    assert.are.equal(T1_UPD, parse_rfc3339(a(entries[1], "updated")))
    assert.are.equal(T1_PUB, parse_rfc3339(a(entries[1], "published")))
    assert.are.equal("2026-11-27T09:30:15Z", a(entries[1], "published"))
    -- Without updated, an entry's updated is its published date.
    assert.are.equal(T3, parse_rfc3339(a(entries[3], "updated")))
    local link = one(entries[2], ATOM .. "|link")
    assert.are.equal("alternate", link.attr.rel)
    assert.are.equal(BASE .. "/41?from=feed&lang=zh", link.attr.href)
  end)

  it("carries title, summary, HTML content, author and category", function()
    local e = entries[1]
    assert.are.equal("关于开展2026年度高新技术企业认定工作的通知", a(e, "title"))
    assert.are.equal("各有关企业：请于12月15日前提交申报材料。", a(e, "summary"))
    local content = one(e, ATOM .. "|content")
    assert.are.equal("html", content.attr.type)
    assert.are.equal("<p>申报截止：<strong>12月15日</strong>。</p>", content.text)
    assert.are.equal("招商局", a(one(e, ATOM .. "|author"), "name"))
    assert.are.equal("通知公告", one(e, ATOM .. "|category").attr.term)
  end)

  it("escapes special characters and drops a control character", function()
    local e = entries[2]
    assert.are.equal(NASTY_TITLE_CLEAN, a(e, "title"))
    assert.are.equal(CDATA_HTML, a(e, "content"))
    assert.are.equal("活动 <预告>", one(e, ATOM .. "|category").attr.term)
    assert.are.equal("科技创新局 & 人才办", a(one(e, ATOM .. "|author"), "name"))
  end)

  it("leaves out content, author and category an item does not have", function()
    local e = entries[3]
    assert.are.equal(0, #all(e, ATOM .. "|content"))
    assert.are.equal(0, #all(e, ATOM .. "|author"))
    assert.are.equal(0, #all(e, ATOM .. "|category"))
  end)
end)

-- JSON Feed 1.1 ----------------------------------------------------------

describe("articles_feeds.json", function()
  local raw, doc

  setup(function()
    raw = feeds.json(channel(), items())
    doc = cjson.decode(raw)
  end)

  it("is a JSON Feed 1.1 that names itself first", function()
    assert.truthy(raw:find('^{"version":'))
    assert.are.equal("https://jsonfeed.org/version/1.1", doc.version)
    assert.are.equal("通知公告 - 示范高新区", doc.title)
    assert.are.equal(BASE, doc.home_page_url)
    assert.are.equal(BASE .. "/feed.xml", doc.feed_url)
    assert.are.equal("示范高新区管委会发布的通知公告", doc.description)
    assert.are.equal("zh-CN", doc.language)
  end)

  it("lists the items in order with ids, text and RFC 3339 dates", function()
    assert.are.equal(3, #doc.items)
    local it1 = doc.items[1]
    assert.are.equal(BASE .. "/42", it1.id)
    assert.are.equal(BASE .. "/42", it1.url)
    assert.are.equal("关于开展2026年度高新技术企业认定工作的通知", it1.title)
    assert.are.equal("各有关企业：请于12月15日前提交申报材料。", it1.summary)
    assert.are.equal("<p>申报截止：<strong>12月15日</strong>。</p>", it1.content_html)
    assert.are.equal("2026-11-27T09:30:15Z", it1.date_published)
    assert.are.equal(T1_UPD, parse_rfc3339(it1.date_modified))
    assert.are.same({ { name = "招商局" } }, it1.authors)
    assert.are.same({ "通知公告" }, it1.tags)
    assert.are.equal(BASE .. "/41", doc.items[2].id)
    assert.are.equal(NASTY_TITLE_CLEAN, doc.items[2].title)
    assert.are.equal(CDATA_HTML, doc.items[2].content_html)
  end)

  it("gives an item without HTML its summary as content_text", function()
    local it3 = doc.items[3]
    assert.are.equal(BASE .. "/40", it3.id)
    assert.is_nil(it3.content_html)
    assert.are.equal("只有摘要，没有正文、作者和分类。", it3.content_text)
    assert.are.equal(T3, parse_rfc3339(it3.date_published))
    assert.are.equal(T3, parse_rfc3339(it3.date_modified))
    assert.is_nil(it3.authors)
    assert.is_nil(it3.tags)
  end)
end)

-- Empty feeds ------------------------------------------------------------

describe("articles_feeds with no items", function()
  it("gives valid RSS, Atom and JSON feeds", function()
    local rss = parse(feeds.rss(channel(), {}))
    local ch = one(rss, "channel")
    assert.are.equal("通知公告 - 示范高新区", text(ch, "title"))
    assert.are.equal(0, #all(ch, "item"))

    local atom = parse(feeds.atom(channel(), {}))
    assert.are.equal(ATOM .. "|feed", atom.name)
    assert.are.equal(0, #all(atom, ATOM .. "|entry"))
    assert.are.equal("2026-11-28T05:57:00Z", text(atom, ATOM .. "|updated"))

    local raw = feeds.json(channel(), {})
    assert.truthy(raw:find('"items":[]', 1, true))
    local doc = cjson.decode(raw)
    assert.are.equal("https://jsonfeed.org/version/1.1", doc.version)
    assert.are.same({}, doc.items)
  end)

  it("dates a channel without updated by its newest item", function()
    local c = channel()
    c.updated = nil
    local atom = parse(feeds.atom(c, items()))
    assert.are.equal(T3, parse_rfc3339(text(atom, ATOM .. "|updated")))
  end)
end)

-- Sitemap ----------------------------------------------------------------

describe("articles_feeds.sitemap", function()
  it("lists each URL with its lastmod in the sitemap namespace", function()
    local xml = feeds.sitemap({
      { loc = BASE .. "/42", lastmod = T1_UPD },
      { loc = BASE .. "?page=2&size=20", lastmod = T3 },
      { loc = "https://www.example.gov.cn/%E9%80%9A%E7%9F%A5" },
    })
    assert.are.equal(DECL, xml:sub(1, #DECL))
    local set = parse(xml)
    assert.are.equal(SITEMAP .. "|urlset", set.name)
    local urls = all(set, SITEMAP .. "|url")
    assert.are.equal(3, #urls)
    assert.are.equal(BASE .. "/42", text(urls[1], SITEMAP .. "|loc"))
    assert.are.equal(BASE .. "?page=2&size=20", text(urls[2], SITEMAP .. "|loc"))
    assert.are.equal("https://www.example.gov.cn/%E9%80%9A%E7%9F%A5",
      text(urls[3], SITEMAP .. "|loc"))
    assert.are.equal("2026-11-28T05:57:00Z", text(urls[1], SITEMAP .. "|lastmod"))
    assert.are.equal(T3, parse_rfc3339(text(urls[2], SITEMAP .. "|lastmod")))
    assert.are.equal(0, #all(urls[3], SITEMAP .. "|lastmod"))
  end)

  it("gives a valid empty urlset", function()
    local set = parse(feeds.sitemap({}))
    assert.are.equal(SITEMAP .. "|urlset", set.name)
    assert.are.equal(0, #set.children)
  end)

  it("takes 50,000 URLs and refuses 50,001", function()
    local urls = {}
    for i = 1, 50000 do
      urls[i] = { loc = BASE .. "/" .. i, lastmod = T2 }
    end
    local set = parse(feeds.sitemap(urls))
    local got = all(set, SITEMAP .. "|url")
    assert.are.equal(50000, #got)
    assert.are.equal(BASE .. "/50000", text(got[50000], SITEMAP .. "|loc"))
    urls[50001] = { loc = BASE .. "/50001" }
    local ok, err = pcall(feeds.sitemap, urls)
    assert.is_false(ok)
    assert.matches("at most 50000 urls, got 50001", err)
  end)

  it("refuses an entry without a loc", function()
    assert.has_error(function() feeds.sitemap({ { lastmod = T2 } }) end)
  end)
end)

-- The sandbox ------------------------------------------------------------

-- Loads the module as the plugin sandbox would: only the globals it gives,
-- reading an undefined global raises, setting one is caught, and require
-- finds only cjson and the host's park.text.
describe("articles_feeds in a sandbox-like environment", function()
  it("needs nothing the sandbox lacks, sets no globals and gives the same output", function()
    local env = {}
    for _, name in ipairs({ "assert", "error", "ipairs", "next", "pairs", "pcall", "xpcall",
      "rawequal", "rawget", "rawlen", "rawset", "select", "tonumber", "tostring", "type",
      "getmetatable", "setmetatable", "print", "string", "table", "math", "utf8",
      "coroutine" }) do
      env[name] = _G[name]
    end
    env.os = { time = os.time, date = os.date, clock = os.clock, difftime = os.difftime }
    env.require = function(name)
      if name == "park.text" then return require("park.text") end
      assert(name == "cjson", "the sandbox has no module " .. tostring(name))
      return cjson
    end
    local set = {}
    setmetatable(env, {
      __index = function(_, k) error("undefined global " .. tostring(k), 2) end,
      __newindex = function(_, k) set[#set + 1] = k end,
    })
    local f = assert(io.open("plugins/articles/articles_feeds.lua"))
    local src = f:read("a")
    f:close()
    local boxed = assert(load(src, "@articles_feeds.lua", "t", env))()
    assert.are.same({}, set)
    assert.are.equal(feeds.rss(channel(), items()), boxed.rss(channel(), items()))
    assert.are.equal(feeds.atom(channel(), items()), boxed.atom(channel(), items()))
    assert.are.equal(feeds.json(channel(), items()), boxed.json(channel(), items()))
    local urls = { { loc = BASE, lastmod = T2 } }
    assert.are.equal(feeds.sitemap(urls), boxed.sitemap(urls))
    assert.are.same({}, set)
  end)
end)
