-- portal_feeds: the XML (and JSON) of the site-wide feeds and sitemap, from
-- items of the site-wide index (park.items). Pure functions: the plugin
-- hands them the data and sends the text with feeds.TYPES[kind].
--
--   channel = { title =, link = (the site's page), self = (the feed's own
--               URL), description =, updated = epoch }
--   item    = { url = (absolute), title =, summary =, published = epoch,
--               updated = epoch, author =, category = }
--
-- Every text is cleaned (park.text.xml_clean: bytes that are not UTF-8 and
-- characters XML 1.0 forbids are removed) and escaped, so a stray control
-- character in a title never makes a feed unparseable. The articles plugin
-- has the same formats for its columns (articles_feeds.lua); a plugin
-- requires only its own modules, hence this copy of what the portal needs.
local cjson = require("cjson")
local ptext = require("park.text")

local feeds = {}

feeds.TYPES = {
  rss = "application/rss+xml; charset=utf-8",
  atom = "application/atom+xml; charset=utf-8",
  json = "application/feed+json; charset=utf-8",
  sitemap = "application/xml; charset=utf-8",
}

-- The most URLs one sitemap file may list (sitemaps.org).
feeds.SITEMAP_MAX_URLS = 50000

local XML_DECL = '<?xml version="1.0" encoding="UTF-8"?>\n'
local SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"

local function esc(s)
  return ptext.xml_escape(s == nil and "" or tostring(s))
end
feeds.escape = esc

-- Fixed English names: RFC 822 must not depend on the C locale (%a, %b).
local DAYS = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" }
local MONTHS = { "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov",
  "Dec" }

-- "Sat, 28 Nov 2026 05:57:00 GMT"
function feeds.rfc822(t)
  local d = os.date("!*t", math.floor(t))
  return ("%s, %02d %s %04d %02d:%02d:%02d GMT"):format(DAYS[d.wday], d.day, MONTHS[d.month],
    d.year, d.hour, d.min, d.sec)
end

-- "2026-11-28T05:57:00Z"
function feeds.rfc3339(t)
  return os.date("!%Y-%m-%dT%H:%M:%SZ", math.floor(t))
end

local function newest(channel, items)
  return channel.updated or (items[1] and (items[1].updated or items[1].published)) or os.time()
end

-- RSS 2.0 ----------------------------------------------------------------

function feeds.rss(channel, items)
  local out = { XML_DECL, '<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom"'
    .. ' xmlns:dc="http://purl.org/dc/elements/1.1/">\n<channel>\n',
    "  <title>", esc(channel.title), "</title>\n",
    "  <link>", esc(channel.link), "</link>\n",
    "  <description>", esc(channel.description or channel.title), "</description>\n",
    '  <atom:link href="', esc(channel.self), '" rel="self" type="application/rss+xml"/>\n',
    "  <language>zh-CN</language>\n",
    "  <lastBuildDate>", feeds.rfc822(newest(channel, items)), "</lastBuildDate>\n" }
  for _, it in ipairs(items) do
    out[#out + 1] = table.concat({ "  <item>\n",
      "    <title>", esc(it.title), "</title>\n",
      "    <link>", esc(it.url), "</link>\n",
      '    <guid isPermaLink="true">', esc(it.url), "</guid>\n",
      "    <pubDate>", feeds.rfc822(it.published), "</pubDate>\n",
      it.summary and it.summary ~= "" and "    <description>" .. esc(it.summary)
        .. "</description>\n" or "",
      it.category and "    <category>" .. esc(it.category) .. "</category>\n" or "",
      it.author and "    <dc:creator>" .. esc(it.author) .. "</dc:creator>\n" or "",
      "  </item>\n" })
  end
  out[#out + 1] = "</channel>\n</rss>\n"
  return table.concat(out)
end

-- Atom 1.0 ---------------------------------------------------------------

function feeds.atom(channel, items)
  local out = { XML_DECL, '<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="zh-CN">\n',
    "  <id>", esc(channel.self), "</id>\n",
    "  <title>", esc(channel.title), "</title>\n",
    "  <updated>", feeds.rfc3339(newest(channel, items)), "</updated>\n",
    '  <link rel="self" type="application/atom+xml" href="', esc(channel.self), '"/>\n',
    '  <link rel="alternate" type="text/html" href="', esc(channel.link), '"/>\n',
    "  <author><name>", esc(channel.title), "</name></author>\n" }
  for _, it in ipairs(items) do
    out[#out + 1] = table.concat({ "  <entry>\n",
      "    <id>", esc(it.url), "</id>\n",
      "    <title>", esc(it.title), "</title>\n",
      "    <updated>", feeds.rfc3339(it.updated or it.published), "</updated>\n",
      "    <published>", feeds.rfc3339(it.published), "</published>\n",
      '    <link rel="alternate" type="text/html" href="', esc(it.url), '"/>\n',
      it.summary and it.summary ~= "" and "    <summary>" .. esc(it.summary) .. "</summary>\n"
        or "",
      it.author and "    <author><name>" .. esc(it.author) .. "</name></author>\n" or "",
      it.category and '    <category term="' .. esc(it.category) .. '"/>\n' or "",
      "  </entry>\n" })
  end
  out[#out + 1] = "</feed>\n"
  return table.concat(out)
end

-- JSON Feed 1.1 ----------------------------------------------------------

local function jstr(s)
  return cjson.encode(ptext.xml_clean(tostring(s)))
end

-- Members in order, nil values left out (cjson would order them at random
-- and encode an empty list as {}).
local function object(members)
  local out = {}
  for _, kv in ipairs(members) do
    if kv[2] ~= nil then out[#out + 1] = cjson.encode(kv[1]) .. ":" .. kv[2] end
  end
  return "{" .. table.concat(out, ",") .. "}"
end

function feeds.json(channel, items)
  local encoded = {}
  for i, it in ipairs(items) do
    encoded[i] = object({
      { "id", jstr(it.url) }, { "url", jstr(it.url) }, { "title", jstr(it.title) },
      { "summary", it.summary and it.summary ~= "" and jstr(it.summary) or nil },
      { "content_text", jstr(it.summary and it.summary ~= "" and it.summary or it.title) },
      { "date_published", jstr(feeds.rfc3339(it.published)) },
      { "date_modified", jstr(feeds.rfc3339(it.updated or it.published)) },
      { "authors", it.author and "[" .. object({ { "name", jstr(it.author) } }) .. "]" },
      { "tags", it.category and "[" .. jstr(it.category) .. "]" },
    })
  end
  return object({
    { "version", jstr("https://jsonfeed.org/version/1.1") },
    { "title", jstr(channel.title) }, { "home_page_url", jstr(channel.link) },
    { "feed_url", jstr(channel.self) },
    { "description", jstr(channel.description or channel.title) },
    { "language", jstr("zh-CN") },
    { "items", "[" .. table.concat(encoded, ",") .. "]" },
  }) .. "\n"
end

-- Sitemaps ---------------------------------------------------------------

-- One <url> line of a sitemap: an absolute URL and its last change.
function feeds.url_line(loc, lastmod)
  return "  <url><loc>" .. esc(loc) .. "</loc>"
    .. (lastmod and "<lastmod>" .. feeds.rfc3339(lastmod) .. "</lastmod>" or "") .. "</url>\n"
end

-- A sitemap of lines made by url_line (at most SITEMAP_MAX_URLS).
function feeds.urlset(lines)
  assert(#lines <= feeds.SITEMAP_MAX_URLS, "a sitemap lists at most 50,000 URLs")
  return XML_DECL .. '<urlset xmlns="' .. SITEMAP_NS .. '">\n' .. table.concat(lines)
    .. "</urlset>\n"
end

-- A sitemap index: the absolute URLs of the sitemaps.
function feeds.sitemap_index(locs)
  local out = { XML_DECL, '<sitemapindex xmlns="', SITEMAP_NS, '">\n' }
  for _, loc in ipairs(locs) do
    out[#out + 1] = "  <sitemap><loc>" .. esc(loc) .. "</loc></sitemap>\n"
  end
  out[#out + 1] = "</sitemapindex>\n"
  return table.concat(out)
end

return feeds
