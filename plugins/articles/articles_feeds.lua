-- Feeds of a column's articles for the new-media channels (融媒体) and the
-- site's sitemap: RSS 2.0, Atom 1.0, JSON Feed 1.1 and sitemap.xml.
--
-- Pure functions: the plugin hands them the data and sends the string with
-- feeds.TYPES[kind] as its Content-Type. They use only what the plugin
-- sandbox gives (string, table, utf8, math, os.date, cjson) and set no
-- globals.
--
--   channel = { title =, link = (the HTML page), self = (the feed's own URL),
--               description =, language = "zh-CN", updated = epoch, id =,
--               author = (optional: the feed's author, default the title) }
--   item    = { id =, url =, title =, summary = (plain text),
--               content_html = (sanitised HTML) or nil, published = epoch,
--               updated = epoch, author =, category = }
--
-- Every text goes through feeds.clean: bytes that are not UTF-8 and
-- characters XML 1.0 forbids (C0 controls but tab, LF and CR; U+FFFE,
-- U+FFFF; surrogates) are removed, so a stray control character in a title
-- never makes a feed unparseable.

local cjson = require("cjson")
local ptext = require("park.text")

local feeds = {}

feeds.TYPES = {
  rss = "application/rss+xml; charset=utf-8",
  atom = "application/atom+xml; charset=utf-8",
  json = "application/feed+json; charset=utf-8",
  sitemap = "application/xml; charset=utf-8",
}

-- The most URLs one sitemap file may list, and its largest size (uncompressed).
feeds.SITEMAP_MAX_URLS = 50000
feeds.SITEMAP_MAX_BYTES = 50 * 1024 * 1024

local XML_DECL = '<?xml version="1.0" encoding="UTF-8"?>\n'

-- Text -------------------------------------------------------------------

-- s as text XML 1.0 accepts (nil gives ""; numbers are turned into text).
function feeds.clean(s)
  if s == nil then
    return ""
  end
  if type(s) == "number" then
    s = tostring(s)
  elseif type(s) ~= "string" then
    error("feeds: expected a string, got " .. type(s), 3)
  end
  return ptext.xml_clean(s)
end

local clean = feeds.clean

-- s cleaned and escaped, for XML text or an attribute value.
function feeds.escape(s)
  return ptext.xml_escape(clean(s))
end

local esc = feeds.escape

-- s cleaned, as one or more CDATA sections: every "]]>" is split across two.
local function cdata(s)
  return "<![CDATA[" .. clean(s):gsub("%]%]>", "]]]]><![CDATA[>") .. "]]>"
end

-- Dates ------------------------------------------------------------------

-- Fixed English names: RFC 822 must not depend on the C locale (%a, %b).
local DAYS = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" }
local MONTHS = { "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov",
  "Dec" }

local function epoch(t, what)
  if type(t) ~= "number" or t ~= t or t == math.huge or t == -math.huge then
    error("feeds: " .. what .. " must be a time in seconds since the epoch, got "
      .. tostring(t), 4)
  end
  return math.floor(t)
end

-- RFC 822 (as RFC 1123 has it) in GMT: "Sat, 28 Nov 2026 05:57:00 GMT".
function feeds.rfc822(t)
  local d = os.date("!*t", epoch(t, "a date"))
  return string.format("%s, %02d %s %04d %02d:%02d:%02d GMT", DAYS[d.wday], d.day,
    MONTHS[d.month], d.year, d.hour, d.min, d.sec)
end

-- RFC 3339 in UTC: "2026-11-28T05:57:00Z".
function feeds.rfc3339(t)
  local d = os.date("!*t", epoch(t, "a date"))
  return string.format("%04d-%02d-%02dT%02d:%02d:%02dZ", d.year, d.month, d.day, d.hour,
    d.min, d.sec)
end

-- Checks -----------------------------------------------------------------

local function need_string(v, what)
  if type(v) ~= "string" or v == "" then
    error("feeds: " .. what .. " is required (a non-empty string)", 4)
  end
  return v
end

local function check_channel(channel)
  if type(channel) ~= "table" then
    error("feeds: the channel must be a table", 3)
  end
  need_string(channel.title, "channel.title")
  need_string(channel.link, "channel.link")
  need_string(channel.self, "channel.self")
end

local function check_items(items)
  if items == nil then
    return {}
  end
  if type(items) ~= "table" then
    error("feeds: items must be a list", 3)
  end
  for i, item in ipairs(items) do
    if type(item) ~= "table" then
      error("feeds: items[" .. i .. "] must be a table", 3)
    end
    if item.id == nil and item.url == nil then
      error("feeds: items[" .. i .. "] needs an id or a url", 3)
    end
  end
  return items
end

local function item_id(item)
  return item.id or item.url
end

local function item_url(item)
  return item.url or item.id
end

-- When the item was last changed, and when it was first published.
local function item_updated(item)
  return item.updated or item.published
end

local function item_published(item)
  return item.published or item.updated
end

-- The channel's last change: channel.updated, else the newest item's.
local function channel_updated(channel, items)
  if channel.updated then
    return channel.updated
  end
  local newest
  for _, item in ipairs(items) do
    local t = item_updated(item)
    if t and (not newest or t > newest) then
      newest = t
    end
  end
  return newest or os.time()
end

-- Builds a document from pieces, one line each.
local function buffer()
  local parts, n = {}, 0
  local function add(...)
    for i = 1, select("#", ...) do
      n = n + 1
      parts[n] = select(i, ...)
    end
  end
  local function text()
    return table.concat(parts)
  end
  return add, text
end

-- <name>escaped text</name>, or nothing when the value is nil.
local function element(add, indent, name, value)
  if value ~= nil then
    add(indent, "<", name, ">", esc(value), "</", name, ">\n")
  end
end

-- RSS 2.0 ----------------------------------------------------------------

function feeds.rss(channel, items)
  check_channel(channel)
  items = check_items(items)
  local add, text = buffer()
  add(XML_DECL)
  add('<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom"',
    ' xmlns:content="http://purl.org/rss/1.0/modules/content/"',
    ' xmlns:dc="http://purl.org/dc/elements/1.1/">\n')
  add("<channel>\n")
  element(add, "  ", "title", channel.title)
  element(add, "  ", "link", channel.link)
  element(add, "  ", "description", channel.description or channel.title)
  add('  <atom:link href="', esc(channel.self), '" rel="self" type="application/rss+xml"/>\n')
  element(add, "  ", "language", channel.language)
  add("  <lastBuildDate>", feeds.rfc822(channel_updated(channel, items)), "</lastBuildDate>\n")
  for _, item in ipairs(items) do
    add("  <item>\n")
    element(add, "    ", "title", item.title)
    element(add, "    ", "link", item_url(item))
    local id = item_id(item)
    -- A guid is a permalink only when it is a URL a browser can open.
    local permalink = type(id) == "string" and id:find("^[hH][tT][tT][pP][sS]?://") ~= nil
    add('    <guid isPermaLink="', permalink and "true" or "false", '">', esc(id), "</guid>\n")
    local published = item_published(item)
    if published then
      add("    <pubDate>", feeds.rfc822(published), "</pubDate>\n")
    end
    element(add, "    ", "description", item.summary)
    if item.content_html then
      add("    <content:encoded>", cdata(item.content_html), "</content:encoded>\n")
    end
    element(add, "    ", "category", item.category)
    element(add, "    ", "dc:creator", item.author)
    add("  </item>\n")
  end
  add("</channel>\n</rss>\n")
  return text()
end

-- Atom 1.0 ---------------------------------------------------------------

function feeds.atom(channel, items)
  check_channel(channel)
  items = check_items(items)
  local updated = channel_updated(channel, items)
  local add, text = buffer()
  add(XML_DECL)
  add('<feed xmlns="http://www.w3.org/2005/Atom"')
  if channel.language then
    add(' xml:lang="', esc(channel.language), '"')
  end
  add(">\n")
  element(add, "  ", "id", channel.id or channel.self)
  element(add, "  ", "title", channel.title)
  element(add, "  ", "subtitle", channel.description)
  add("  <updated>", feeds.rfc3339(updated), "</updated>\n")
  add('  <link rel="self" type="application/atom+xml" href="', esc(channel.self), '"/>\n')
  add('  <link rel="alternate" type="text/html" href="', esc(channel.link), '"/>\n')
  -- A feed names an author unless every entry does; entries that name their
  -- own take precedence.
  add("  <author><name>", esc(channel.author or channel.title), "</name></author>\n")
  for _, item in ipairs(items) do
    add("  <entry>\n")
    element(add, "    ", "id", item_id(item))
    add("    <title>", esc(item.title), "</title>\n")
    add("    <updated>", feeds.rfc3339(item_updated(item) or updated), "</updated>\n")
    local published = item_published(item)
    if published then
      add("    <published>", feeds.rfc3339(published), "</published>\n")
    end
    add('    <link rel="alternate" type="text/html" href="', esc(item_url(item)), '"/>\n')
    element(add, "    ", "summary", item.summary)
    if item.content_html then
      add('    <content type="html">', esc(item.content_html), "</content>\n")
    end
    if item.author then
      add("    <author><name>", esc(item.author), "</name></author>\n")
    end
    if item.category then
      add('    <category term="', esc(item.category), '"/>\n')
    end
    add("  </entry>\n")
  end
  add("</feed>\n")
  return text()
end

-- JSON Feed 1.1 ----------------------------------------------------------

-- An object with its members in the given order: { {key, value}, ... },
-- nil values left out. (cjson would order them at random, and encodes an
-- empty table as {} where JSON Feed needs [] for items.)
local function object(members)
  local out = {}
  for _, kv in ipairs(members) do
    if kv[2] ~= nil then
      out[#out + 1] = cjson.encode(kv[1]) .. ":" .. kv[2]
    end
  end
  return "{" .. table.concat(out, ",") .. "}"
end

local function str(v)
  if v == nil then
    return nil
  end
  return cjson.encode(clean(v))
end

local function date(t)
  if t == nil then
    return nil
  end
  return cjson.encode(feeds.rfc3339(t))
end

function feeds.json(channel, items)
  check_channel(channel)
  items = check_items(items)
  local encoded = {}
  for i, item in ipairs(items) do
    local content_text
    if item.content_html == nil then
      -- Every item needs content_html or content_text.
      content_text = str(item.summary or item.title or "")
    end
    encoded[i] = object({
      { "id", str(item_id(item)) },
      { "url", str(item_url(item)) },
      { "title", str(item.title) },
      { "summary", str(item.summary) },
      { "content_html", str(item.content_html) },
      { "content_text", content_text },
      { "date_published", date(item_published(item)) },
      { "date_modified", date(item_updated(item)) },
      { "authors", item.author and "[" .. object({ { "name", str(item.author) } }) .. "]" },
      { "tags", item.category and "[" .. str(item.category) .. "]" },
    })
  end
  return object({
    { "version", str("https://jsonfeed.org/version/1.1") },
    { "title", str(channel.title) },
    { "home_page_url", str(channel.link) },
    { "feed_url", str(channel.self) },
    { "description", str(channel.description) },
    { "language", str(channel.language) },
    { "authors", channel.author and "[" .. object({ { "name", str(channel.author) } }) .. "]" },
    { "items", "[" .. table.concat(encoded, ",") .. "]" },
  }) .. "\n"
end

-- Sitemap ----------------------------------------------------------------

-- urls = { { loc = "https://...", lastmod = epoch or nil }, ... }, at most
-- feeds.SITEMAP_MAX_URLS of them: past that it raises (paginate into several
-- sitemaps under a sitemap index).
function feeds.sitemap(urls)
  if type(urls) ~= "table" then
    error("feeds: sitemap urls must be a list", 2)
  end
  local count = #urls
  if count > feeds.SITEMAP_MAX_URLS then
    error(string.format("feeds: a sitemap lists at most %d urls, got %d: paginate",
      feeds.SITEMAP_MAX_URLS, count), 2)
  end
  local add, text = buffer()
  add(XML_DECL)
  add('<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n')
  for i = 1, count do
    local u = urls[i]
    if type(u) ~= "table" or type(u.loc) ~= "string" or u.loc == "" then
      error("feeds: sitemap urls[" .. i .. "] needs a loc (a URL)", 2)
    end
    add("  <url><loc>", esc(u.loc), "</loc>")
    if u.lastmod then
      add("<lastmod>", feeds.rfc3339(u.lastmod), "</lastmod>")
    end
    add("</url>\n")
  end
  add("</urlset>\n")
  local xml = text()
  if #xml > feeds.SITEMAP_MAX_BYTES then
    error(string.format("feeds: a sitemap is at most %d bytes, this one is %d: paginate",
      feeds.SITEMAP_MAX_BYTES, #xml), 2)
  end
  return xml
end

return feeds
