-- articles_sanitize: the allow-list HTML sanitiser for article bodies.
--
-- Editors paste from Word and WPS; the body is cleaned on save. The input is
-- read by a small tokenizer that follows the HTML5 tokenizer closely enough
-- to split it where a browser would (text, start tag with attributes, end
-- tag, comment, doctype), then a stack-based writer re-serialises only what
-- the allow-lists below admit. Nothing from the input is copied through
-- unparsed: every tag is rebuilt and every text and attribute value is
-- decoded and escaped again, so the output is well-formed whatever the input.
--
--   local sanitize = require("articles_sanitize")
--   local html, removed = sanitize.html(input)  -- removed: what was taken out
--   local text = sanitize.text(html_or_input)   -- plain text, for search and feeds
--
-- Choices worth knowing:
--   * Loose text and inline elements at the top level are wrapped in <p>;
--     div-like elements (div, section, article, ...) close that paragraph,
--     and inside a cell, list item or quote they become a <br>, so
--     "a</div><div>b" never runs together as "ab".
--   * An <li>, <dt> or <dd> outside its list is kept as it is (browsers
--     render it); table parts outside a <table> lose their tag.
--   * An element removed with its content (script, form, svg, ...) that is
--     never closed takes the rest of the input with it.
--   * Office smart tags (<st1:chsdate> and the like) wrap visible text, so
--     only the Office namespaces o:, w:, v:, x: and m: are removed with
--     their content; other namespaced tags lose the tag and keep the text.
--   * An unclosed <head> ends at <body>. An <a> without a safe href loses
--     its tag and keeps its text (Word's <a name="_GoBack"> anchors go too).
--   * Plain text (no tag at all) keeps its paragraphs: each line holding
--     text becomes a <p> (blank lines only separate).
--   * Named entities outside the table below stay literal text; no-break
--     spaces are written as &nbsp; so the editor sees them.
--   * The removed list is plain text: escape it where it is shown.
-- Sanitising the output again gives the same output.
--
-- The work is linear in the input: every search moves forward, no pattern
-- backtracks over more than one run, lookups on the stack of open elements
-- go through index stacks (O(1) whatever the depth), and nesting is capped
-- at MAX_DEPTH.
local M = {}

local byte, find, match, sub = string.byte, string.find, string.match, string.sub
local gsub, gmatch, lower, concat = string.gsub, string.gmatch, string.lower, table.concat

local MAX_DEPTH = 200 -- open allowed elements; deeper ones lose their tag
local MAX_REMOVED = 50 -- entries in the removed list, then "and more"

-- Allowed elements, each with the attributes it keeps, in output order.
local ALLOWED = {
  p = {}, br = {}, hr = {},
  h2 = {}, h3 = {}, h4 = {}, h5 = {}, h6 = {}, -- h1 is written as h2
  ul = {}, ol = { "start" }, li = {},
  dl = {}, dt = {}, dd = {},
  table = {}, caption = {}, thead = {}, tbody = {}, tfoot = {}, tr = {},
  th = { "colspan", "rowspan", "scope" },
  td = { "colspan", "rowspan" },
  a = { "href", "title" }, -- plus rel="noopener noreferrer" on absolute http(s) links
  img = { "src", "alt", "title", "width", "height" }, -- dropped without a safe src
  strong = {}, b = {}, em = {}, i = {}, u = {}, s = {}, sub = {}, sup = {}, code = {},
  blockquote = {}, pre = {}, figure = {}, figcaption = {},
}

-- Elements removed together with everything inside them.
local DROP_WITH_CONTENT = {
  script = true, style = true, iframe = true, frame = true, frameset = true,
  object = true, embed = true, applet = true, template = true, noscript = true,
  noembed = true, noframes = true,
  head = true, title = true, meta = true, link = true, base = true,
  form = true, input = true, button = true, select = true, textarea = true,
  option = true, optgroup = true, datalist = true, keygen = true,
  svg = true, math = true, xml = true,
}
-- Office namespaces whose elements go with their content (o:p, w:*, v:*, ...;
-- one letter each).
local DROP_NAMESPACE = { o = true, w = true, v = true, x = true, m = true }

-- Of those, the ones with no end tag (nothing to skip after them) ...
local DROP_VOID = {
  meta = true, link = true, base = true, input = true, embed = true, frame = true,
  keygen = true,
}
-- ... and the ones whose content a browser reads as raw text, up to the
-- matching end tag: the tokenizer jumps over it without looking inside.
local RAW_TEXT = {
  script = true, style = true, iframe = true, noscript = true, noembed = true,
  noframes = true, textarea = true, title = true,
}

-- Unknown elements that separate paragraphs (their tag goes, the break stays).
local PARA_BREAK = {}
for name in ([[div section article aside header footer main nav address center
  details summary fieldset legend hgroup dialog search body html dir menu
  listing plaintext xmp]]):gmatch("%S+") do
  PARA_BREAK[name] = true
end

local VOID = { br = true, hr = true, img = true }
local INLINE = {
  a = true, img = true, br = true, strong = true, b = true, em = true, i = true,
  u = true, s = true, sub = true, sup = true, code = true,
}
local HEADING = { h2 = true, h3 = true, h4 = true, h5 = true, h6 = true }
local TABLE_PART = {
  caption = true, thead = true, tbody = true, tfoot = true, tr = true, th = true, td = true,
}
-- Start tags that close an open <p> first, as in a browser.
local CLOSES_P = {
  p = true, h2 = true, h3 = true, h4 = true, h5 = true, h6 = true, ul = true, ol = true,
  li = true, dl = true, dt = true, dd = true, table = true, blockquote = true,
  pre = true, hr = true, figure = true, figcaption = true,
}

-- Scope, as in a browser: an open element is "in scope" for a tag when no
-- boundary element of the tag's kind was opened after it ("</b>" inside a
-- cell does not close a <b> outside the table; "<li>" inside a nested list
-- does not close the outer item).
local BOUNDARY = {
  general = { td = true, th = true, caption = true, table = true },
  list = { td = true, th = true, caption = true, table = true, ul = true, ol = true },
  dl = { td = true, th = true, caption = true, table = true, dl = true },
  table = { table = true },
  none = {},
}
local BOUNDARY_OF = {} -- BOUNDARY_OF.td = { "general", "list", "dl" }
for kind, names in pairs(BOUNDARY) do
  for name in pairs(names) do
    BOUNDARY_OF[name] = BOUNDARY_OF[name] or {}
    table.insert(BOUNDARY_OF[name], kind)
  end
end
-- The kind of scope in which an end tag looks for its element.
local END_SCOPE = {
  td = "table", th = "table", tr = "table", thead = "table", tbody = "table",
  tfoot = "table", caption = "table", table = "none", li = "list",
}
-- Name lists for the open-element lookups.
local P, A, LI, DTDD = { "p" }, { "a" }, { "li" }, { "dt", "dd" }
local HEADINGS = { "h2", "h3", "h4", "h5", "h6" }
local SECTIONS, TR = { "thead", "tbody", "tfoot" }, { "tr" }
local SELF = {} -- SELF.b = { "b" }
for name in pairs(ALLOWED) do SELF[name] = { name } end

local KEEPS = {} -- KEEPS.a = { href = true, title = true }
for name, attrs in pairs(ALLOWED) do
  KEEPS[name] = {}
  for _, attr in ipairs(attrs) do KEEPS[name][attr] = true end
end
local URL_ATTR = { href = true, src = true }
local SCOPE_VALUES = { row = true, col = true, rowgroup = true, colgroup = true }

-- Named character references decoded (with ";"; the starred ones also
-- without, as browsers do for these legacy names).
local NAMED = {
  amp = "&", lt = "<", gt = ">", quot = '"', apos = "'", nbsp = "\u{A0}",
  AMP = "&", LT = "<", GT = ">", QUOT = '"', COPY = "©", REG = "®",
  copy = "©", reg = "®", trade = "™", mdash = "—", ndash = "–", hellip = "…",
  ldquo = "“", rdquo = "”", lsquo = "‘", rsquo = "’", bdquo = "„", sbquo = "‚",
  laquo = "«", raquo = "»", lsaquo = "‹", rsaquo = "›", middot = "·", bull = "•",
  times = "×", divide = "÷", deg = "°", plusmn = "±", micro = "µ", para = "¶",
  sect = "§", cent = "¢", pound = "£", yen = "¥", euro = "€", curren = "¤",
  iexcl = "¡", iquest = "¿", shy = "\u{AD}", ordf = "ª", ordm = "º", ["not"] = "¬",
  sup1 = "¹", sup2 = "²", sup3 = "³", frac14 = "¼", frac12 = "½", frac34 = "¾",
  acute = "´", uml = "¨", macr = "¯", cedil = "¸", brvbar = "¦",
  ensp = "\u{2002}", emsp = "\u{2003}", thinsp = "\u{2009}", zwnj = "\u{200C}",
  zwj = "\u{200D}", lrm = "\u{200E}", rlm = "\u{200F}",
  dagger = "†", Dagger = "‡", permil = "‰", prime = "′", Prime = "″",
  larr = "←", rarr = "→", uarr = "↑", darr = "↓", harr = "↔", minus = "−",
  le = "≤", ge = "≥", ne = "≠", asymp = "≈", infin = "∞", radic = "√",
  alpha = "α", beta = "β", gamma = "γ", delta = "δ", mu = "μ", pi = "π",
  sigma = "σ", omega = "ω", Omega = "Ω",
  agrave = "à", aacute = "á", eacute = "é", egrave = "è", ecirc = "ê",
  iacute = "í", oacute = "ó", ograve = "ò", uacute = "ú", ugrave = "ù",
  uuml = "ü", ouml = "ö", auml = "ä", szlig = "ß", ccedil = "ç", ntilde = "ñ",
  -- the punctuation names that obfuscated URLs use
  Tab = "\t", NewLine = "\n", colon = ":", semi = ";", comma = ",", period = ".",
  sol = "/", bsol = "\\", lpar = "(", rpar = ")", excl = "!", quest = "?",
  num = "#", dollar = "$", percnt = "%", plus = "+", equals = "=", lowbar = "_",
  grave = "`", commat = "@", lsqb = "[", rsqb = "]", lcub = "{", rcub = "}",
  verbar = "|", ast = "*", Hat = "^",
}
local LEGACY = {} -- names a browser decodes even without ";"
for name in ([[amp lt gt quot nbsp AMP LT GT QUOT COPY REG copy reg laquo raquo
  middot times divide deg plusmn micro para sect cent pound yen curren iexcl
  iquest shy ordf ordm not sup1 sup2 sup3 frac14 frac12 frac34 acute uml macr
  cedil brvbar agrave aacute eacute egrave ecirc iacute oacute ograve uacute
  ugrave uuml ouml auml szlig ccedil ntilde]]):gmatch("%S+") do
  LEGACY[name] = true
end

-- &#128; to &#159; mean the Windows-1252 characters (Word writes &#150;).
local WIN1252 = {
  [0x80] = 0x20AC, [0x82] = 0x201A, [0x83] = 0x0192, [0x84] = 0x201E, [0x85] = 0x2026,
  [0x86] = 0x2020, [0x87] = 0x2021, [0x88] = 0x02C6, [0x89] = 0x2030, [0x8A] = 0x0160,
  [0x8B] = 0x2039, [0x8C] = 0x0152, [0x8E] = 0x017D, [0x91] = 0x2018, [0x92] = 0x2019,
  [0x93] = 0x201C, [0x94] = 0x201D, [0x95] = 0x2022, [0x96] = 0x2013, [0x97] = 0x2014,
  [0x98] = 0x02DC, [0x99] = 0x2122, [0x9A] = 0x0161, [0x9B] = 0x203A, [0x9C] = 0x0153,
  [0x9E] = 0x017E, [0x9F] = 0x0178,
}

local REPLACEMENT = "\u{FFFD}"

-- ---------------------------------------------------------------------------
-- Character references

-- The character for a numeric reference. Invalid code points (0, surrogates,
-- beyond U+10FFFF) become U+FFFD; so do control characters, except in URLs,
-- where they are kept so that the URL check strips them as a browser would.
local function code_point(cp, keep_controls)
  if cp == 0 or cp > 0x10FFFF or (cp >= 0xD800 and cp <= 0xDFFF) then return REPLACEMENT end
  if cp >= 0x80 and cp <= 0x9F then
    local w = WIN1252[cp]
    return w and utf8.char(w) or REPLACEMENT
  end
  if (cp < 32 or cp == 127) and not keep_controls
     and cp ~= 9 and cp ~= 10 and cp ~= 13 then
    return REPLACEMENT
  end
  return utf8.char(cp)
end

local function numeric(body, base, keep_controls)
  local digits = match(body, base == 16 and "^[xX](%x*)" or "^(%d*)")
  if digits == "" then return nil end
  local rest = sub(body, #digits + (base == 16 and 2 or 1))
  local value = gsub(digits, "^0+", "")
  local cp = #value > 8 and 0x110000 or (tonumber(value, base) or 0)
  return code_point(cp, keep_controls), rest
end

-- Decodes the character references in s. mode is "text", "attr" (a
-- legacy name followed by "=" or a letter stays literal, as in a browser) or
-- "url" (an attribute that keeps control characters for the URL check).
local function decode(s, mode)
  if not find(s, "&", 1, true) then return s end
  local keep_controls = mode == "url"
  return (gsub(s, "&(#?)(%w+)(;?)()", function(hash, body, semi, after)
    if hash == "#" then
      local ch, rest = numeric(body, find(body, "^[xX]") and 16 or 10, keep_controls)
      if not ch then return nil end
      if rest == "" then return ch end
      return ch .. rest .. semi
    end
    if semi == ";" and NAMED[body] then return NAMED[body] end
    for len = math.min(#body, 6), 2, -1 do
      local name = sub(body, 1, len)
      if LEGACY[name] then
        local rest = sub(body, len + 1)
        if mode ~= "text" and (rest ~= "" or (semi == "" and byte(s, after) == 61)) then
          return nil
        end
        return NAMED[name] .. rest .. semi
      end
    end
    return nil
  end))
end

local ESCAPES = { ["&"] = "&amp;", ["<"] = "&lt;", [">"] = "&gt;", ['"'] = "&quot;" }

local function escape(s)
  return (gsub(s, '[&<>"]', ESCAPES))
end

-- Text keeps no-break spaces visible to the editor as &nbsp;.
local function escape_text(s)
  s = gsub(s, '[&<>"]', ESCAPES)
  if find(s, "\u{A0}", 1, true) then s = gsub(s, "\u{A0}", "&nbsp;") end
  return s
end

-- ---------------------------------------------------------------------------
-- Input

-- Valid UTF-8 with Unix newlines and no control characters but tab and
-- newline; each invalid byte becomes U+FFFD.
local function normalise(input, fname)
  if type(input) ~= "string" then
    error(("bad argument #1 to '%s' (string expected, got %s)"):format(fname, type(input)), 3)
  end
  local s = input
  if not utf8.len(s) then
    local parts, i, n = {}, 1, #s
    while i <= n do
      local ok, bad = utf8.len(s, i)
      if ok then
        parts[#parts + 1] = sub(s, i)
        break
      end
      parts[#parts + 1] = sub(s, i, bad - 1)
      parts[#parts + 1] = REPLACEMENT
      i = bad + 1
    end
    s = concat(parts)
  end
  s = gsub(s, "\r\n?", "\n")
  s = gsub(s, "\f", " ")
  s = gsub(s, "[%z\1-\8\11\14-\31\127]", "")
  return s
end

-- ---------------------------------------------------------------------------
-- Tokenizer

local function is_letter(c)
  return c and ((c >= 65 and c <= 90) or (c >= 97 and c <= 122))
end

local NONE = setmetatable({}, { __newindex = function() error("NONE is read-only") end })

-- Reads the attributes of a tag from s[j], up to and past its ">". Returns
-- the index after ">", whether the tag ended with "/>", the attribute names
-- (first seen first) and their raw values (the first of duplicates wins);
-- or nil when the input ends inside the tag.
local function read_attributes(s, j)
  local order, values = NONE, NONE
  while true do
    local _, e = find(s, "^[ \t\n/]*", j)
    local slash = e >= j and byte(s, e) == 47
    j = e + 1
    local c = byte(s, j)
    if not c then return nil end
    if c == 62 then return j + 1, slash, order, values end
    local name = match(s, "^.[^ \t\n/>=]*", j) -- a name may start with "="
    _, e = find(s, "^[ \t\n]*", j + #name)
    j = e + 1
    local value = ""
    if byte(s, j) == 61 then -- "="
      _, e = find(s, "^[ \t\n]*", j + 1)
      j = e + 1
      local q = byte(s, j)
      if q == 34 or q == 39 then
        local close = find(s, q == 34 and '"' or "'", j + 1, true)
        if not close then return nil end
        value = sub(s, j + 1, close - 1)
        j = close + 1
      elseif q and q ~= 62 then
        value = match(s, "^[^ \t\n>]*", j)
        j = j + #value
      end
    end
    name = lower(name)
    if order == NONE then order, values = {}, {} end
    if values[name] == nil then
      values[name] = value
      order[#order + 1] = name
    end
  end
end

-- Case-insensitive patterns for the end tags that close raw text.
local RAW_END = {}
for name in pairs(RAW_TEXT) do
  RAW_END[name] = "</" .. gsub(name, "%a", function(c)
    return "[" .. c .. c:upper() .. "]"
  end) .. "[ \t\n/>]"
end

-- Splits s into tokens and calls emit(kind, ...) for each:
--   "text", raw        text, character references not yet decoded
--   "start", name, order, values, self_closing
--   "end", name
--   "markup", what     a comment, doctype, CDATA section or the like (dropped)
-- A tag cut off by the end of the input is dropped, as browsers do.
local function tokenize(s, emit)
  local i, n = 1, #s
  while i <= n do
    -- a "<" that starts no tag ("a < b", "<<", "< p>") stays in the text
    local lt = find(s, "<[%a/!?]", i)
    if not lt then
      emit("text", sub(s, i))
      return
    end
    if lt > i then emit("text", sub(s, i, lt - 1)) end
    i = lt
    local c = byte(s, i + 1)
    if is_letter(c) then
      local name = match(s, "^[^ \t\n/>]*", i + 1)
      local after, self_closing, order, values = read_attributes(s, i + 1 + #name)
      if not after then return end
      name = lower(name)
      emit("start", name, order, values, self_closing)
      i = after
      if RAW_END[name] then i = find(s, RAW_END[name], i) or n + 1 end
    elseif c == 47 then -- "</"
      local c2 = byte(s, i + 2)
      if is_letter(c2) then
        local name = match(s, "^[^ \t\n/>]*", i + 2)
        local after = read_attributes(s, i + 2 + #name)
        if not after then return end
        emit("end", lower(name))
        i = after
      elseif c2 == 62 then -- "</>" means nothing
        i = i + 3
      elseif not c2 then
        emit("text", "</")
        return
      else
        local gt = find(s, ">", i + 2, true)
        emit("markup", "malformed end tag")
        i = gt and gt + 1 or n + 1
      end
    elseif c == 33 then -- "<!"
      if sub(s, i + 2, i + 3) == "--" then
        local from = i + 4
        local e -- the comment's last character
        if byte(s, from) == 62 then -- "<!-->"
          e = from
        elseif sub(s, from, from + 1) == "->" then -- "<!--->"
          e = from + 1
        else
          e = select(2, find(s, "%-%-!?>", from))
        end
        local conditional = lower(sub(s, from, from + 2)) == "[if"
        emit("markup", conditional and "conditional comment" or "comment")
        i = e and e + 1 or n + 1
      elseif sub(s, i + 2, i + 8) == "[CDATA[" then
        local _, e = find(s, "]]>", i + 9, true)
        emit("markup", "CDATA section")
        i = e and e + 1 or n + 1
      else -- <!DOCTYPE>, Word's <![if !supportLists]> and other bogus comments
        local gt = find(s, ">", i + 2, true)
        local head = lower(sub(s, i + 2, i + 4))
        emit("markup", head == "doc" and "<!DOCTYPE>"
          or (head == "[if" or head == "[en") and "conditional comment"
          or "<!...> declaration")
        i = gt and gt + 1 or n + 1
      end
    else -- "<?xml ...?>", "<?xml:namespace ...>"
      local gt = find(s, ">", i + 2, true)
      emit("markup", lower(sub(s, i + 2, i + 4)) == "xml" and "<?xml?> declaration"
        or "processing instruction")
      i = gt and gt + 1 or n + 1
    end
  end
end

-- ---------------------------------------------------------------------------
-- Removal with content, shared by html() and text()

local function drops_with_content(name)
  return DROP_WITH_CONTENT[name] or (byte(name, 2) == 58 and DROP_NAMESPACE[sub(name, 1, 1)])
end

-- A short, printable name for the removed list.
local function shown(name)
  if #name <= 40 and find(name, "^[%a_][%w_:.-]*$") then return name end
  return nil
end

-- Calls sink.start(state, name, order, values), sink.finish(state, name) and
-- sink.text(state, raw) for everything outside the elements removed with
-- their content; state.note(what) hears of each removed element and markup.
local function walk(s, sink, state)
  local note = state.note
  local skipping, depth = nil, 0
  tokenize(s, function(kind, name, order, values, self_closing)
    if skipping then
      if kind == "start" and name == skipping and not self_closing then
        depth = depth + 1
      elseif kind == "end" and name == skipping then
        depth = depth - 1
        if depth == 0 then skipping = nil end
      elseif kind == "start" and name == "body" and skipping == "head" then
        skipping = nil -- <body> ends an unclosed <head>
      end
      if skipping or kind ~= "start" then return end
    end
    if kind == "start" then
      if drops_with_content(name) then
        note("<" .. (shown(name) or "malformed") .. "> element")
        if not DROP_VOID[name] and (RAW_TEXT[name] or not self_closing) then
          skipping, depth = name, 1
        end
        return
      end
      sink.start(state, name, order, values)
    elseif kind == "end" then
      if not drops_with_content(name) then sink.finish(state, name) end
    elseif kind == "text" then
      sink.text(state, name)
    else
      note(name)
    end
  end)
end

-- ---------------------------------------------------------------------------
-- Attributes

-- s without the characters of chars (a pattern class body) at either end;
-- no "^%s*(.-)%s*$", which is quadratic on a long run of inner spaces.
local function trim(s, chars)
  local first = find(s, "[^" .. chars .. "]")
  if not first then return "" end
  return match(s, "^.*[^" .. chars .. "]", first)
end

-- "  JaVa&#x09;script:..." -> nil, "javascript: URL in href". Entities
-- decoded, control characters, tabs and newlines removed anywhere, spaces
-- trimmed at the ends and written as %20 inside; then the scheme, if any,
-- must be allowed. A relative URL has no ":" before its first "/", "?" or "#".
local function check_url(raw, attr)
  local url = decode(raw, "url")
  url = gsub(url, "[%z\1-\31\127]", "")
  url = trim(url, " ")
  url = gsub(url, " ", "%%20")
  local colon = find(url, ":", 1, true)
  if colon then
    local delim = find(url, "[/?#]")
    if not delim or colon < delim then
      local scheme = lower(sub(url, 1, colon - 1))
      if scheme == "http" or scheme == "https" or (scheme == "mailto" and attr == "href") then
        return url
      end
      if #scheme <= 20 and find(scheme, "^%a[%w+.-]*$") then
        return nil, scheme .. ": URL in " .. attr
      end
      return nil, "unsafe URL in " .. attr
    end
  end
  return url
end

local function check_number(min, max)
  return function(raw, attr)
    local digits = match(raw, "^[ \t\n]*(%d+)[ \t\n]*$")
    local value = digits and #digits <= 9 and tonumber(digits)
    if value and value >= min and value <= max then return tostring(value) end
    return nil, "invalid " .. attr .. " attribute"
  end
end

local CHECKS = {
  href = check_url, src = check_url,
  title = function(raw) return decode(raw, "attr") end,
  alt = function(raw) return decode(raw, "attr") end,
  width = check_number(0, 99999), height = check_number(0, 99999),
  colspan = check_number(1, 1000), rowspan = check_number(1, 1000),
  start = check_number(0, 999999999),
  scope = function(raw, attr)
    local v = lower(trim(decode(raw, "attr"), " \t\n"))
    if SCOPE_VALUES[v] then return v end
    return nil, "invalid " .. attr .. " attribute"
  end,
}

-- The attributes of an allowed element as written (" href=\"...\""), or nil
-- when the element must go: an <img> without a safe src, an <a> without a
-- safe href (Word's <a name=_GoBack> anchors).
local function attributes(w, name, order, values)
  local rule = ALLOWED[name]
  if #rule == 0 and order == NONE then return "" end
  local keeps = KEEPS[name]
  for k = 1, #order do
    local attr = order[k]
    if not keeps[attr] then
      if sub(attr, 1, 5) == "data-" then
        w.note("data-* attribute")
      else
        w.note((shown(attr) or "malformed") .. " attribute")
      end
    end
  end
  local parts, url = {}, nil
  for k = 1, #rule do
    local attr = rule[k]
    local raw = values[attr]
    if raw then
      local value, why = CHECKS[attr](raw, attr)
      if value then
        parts[#parts + 1] = " " .. attr .. '="' .. escape(value) .. '"'
        if URL_ATTR[attr] then url = value end
      else
        w.note(why)
      end
    end
  end
  if name == "img" and not url then
    if not values.src then w.note("<img> without src") end
    return nil
  end
  if name == "a" then
    if not url then return nil end
    local scheme = lower(match(url, "^(%a+):") or "")
    if scheme == "http" or scheme == "https" or sub(url, 1, 2) == "//" then
      parts[#parts + 1] = ' rel="noopener noreferrer"'
    end
  end
  return concat(parts)
end

-- ---------------------------------------------------------------------------
-- The writer: a stack of open allowed elements; per element name the stack
-- positions where it is open (w.open.p = { 3, 7 }), and per scope kind the
-- positions of the open boundaries (w.bound.general = { 2, 5 }). So "is
-- there an open <p> in scope" costs a few table reads whatever the depth.

local function new_writer(note)
  local bound = {}
  for kind in pairs(BOUNDARY) do bound[kind] = {} end
  return {
    out = {}, n = 0, stack = {}, depth = 0, open = {}, bound = bound,
    inline = false, pending_br = false, note = note,
  }
end

local function emit(w, str)
  local n = w.n + 1
  w.out[n] = str
  w.n = n
end

local function push(w, name, html)
  emit(w, html)
  local d = w.depth + 1
  w.depth = d
  w.stack[d] = name
  local at = w.open[name]
  if not at then
    at = {}
    w.open[name] = at
  end
  at[#at + 1] = d
  local kinds = BOUNDARY_OF[name]
  if kinds then
    for k = 1, #kinds do
      local b = w.bound[kinds[k]]
      b[#b + 1] = d
    end
  end
end

-- Closes the open elements from the top of the stack down to position k.
local function pop_to(w, k)
  local stack, open = w.stack, w.open
  for d = w.depth, k, -1 do
    local name = stack[d]
    emit(w, "</" .. name .. ">")
    local at = open[name]
    at[#at] = nil
    local kinds = BOUNDARY_OF[name]
    if kinds then
      for j = 1, #kinds do
        local b = w.bound[kinds[j]]
        b[#b] = nil
      end
    end
    stack[d] = nil
    w.depth = d - 1
  end
end

-- The highest stack position of any of names, or 0.
local function nearest(w, names)
  local best = 0
  local open = w.open
  for k = 1, #names do
    local at = open[names[k]]
    local top = at and at[#at]
    if top and top > best then best = top end
  end
  return best
end

-- The position of the highest of names open in scope of the kind, or nil.
local function in_scope(w, names, kind)
  local k = nearest(w, names)
  if k == 0 then return nil end
  local b = w.bound[kind]
  if k > (b[#b] or 0) then return k end
  return nil
end

local function close_in_scope(w, names, kind)
  local k = in_scope(w, names, kind)
  if k then pop_to(w, k) end
end

-- The position of the innermost open table, or 0.
local function table_at(w)
  local b = w.bound.table
  return b[#b] or 0
end

-- Block edges clear the pending line break; inline content at the top level
-- opens a paragraph, elsewhere it first writes the break a div left pending.
local function block_edge(w)
  w.inline, w.pending_br = false, false
end

local function before_inline(w)
  if w.depth == 0 then
    push(w, "p", "<p>")
    w.pending_br = false
  elseif w.pending_br then
    emit(w, "<br>")
    w.pending_br = false
  end
  w.inline = true
end

-- Where a div-like tag was: close the paragraph, or in a cell, list item or
-- quote remember to start a new line before any more text.
local function paragraph_break(w)
  local k = in_scope(w, P, "general")
  if k then
    pop_to(w, k)
    block_edge(w)
  elseif w.inline then
    w.pending_br = true
  end
end

-- Before a table part opens: close what is open inside its table, down to
-- the row for a cell, down to the section for a row.
local function close_table_parts(w, name)
  local floor = table_at(w)
  if name == "tr" or name == "td" or name == "th" then
    floor = math.max(floor, nearest(w, SECTIONS))
  end
  if name == "td" or name == "th" then
    floor = math.max(floor, nearest(w, TR))
  end
  pop_to(w, floor + 1)
end

local function start_tag(w, name, order, values)
  if name == "h1" then name = "h2" end
  if not ALLOWED[name] then
    w.note("<" .. (shown(name) or "malformed") .. "> tag")
    for _, attr in ipairs(order) do
      w.note((sub(attr, 1, 5) == "data-" and "data-*" or shown(attr) or "malformed")
        .. " attribute")
    end
    if PARA_BREAK[name] then paragraph_break(w) end
    return
  end
  if TABLE_PART[name] and table_at(w) == 0 then
    w.note("<" .. name .. "> outside a table")
    return
  end
  if w.depth >= MAX_DEPTH and not VOID[name] then
    w.note("elements nested too deeply")
    return
  end
  local attrs = attributes(w, name, order, values)
  if not attrs then return end

  if CLOSES_P[name] then close_in_scope(w, P, "general") end
  if name == "li" then
    close_in_scope(w, LI, "list")
  elseif name == "dt" or name == "dd" then
    close_in_scope(w, DTDD, "dl")
  elseif HEADING[name] and HEADING[w.stack[w.depth]] then
    pop_to(w, w.depth)
  elseif name == "a" then
    close_in_scope(w, A, "general")
  elseif TABLE_PART[name] then
    close_table_parts(w, name)
  end

  local html = "<" .. name .. attrs .. ">"
  if name == "br" then
    if w.depth == 0 then push(w, "p", "<p>") end
    emit(w, html)
    w.inline, w.pending_br = false, false
  elseif VOID[name] then -- img, hr
    if INLINE[name] then before_inline(w) else block_edge(w) end
    emit(w, html)
  else
    if INLINE[name] then before_inline(w) else block_edge(w) end
    push(w, name, html)
  end
end

local function end_tag(w, name)
  if name == "br" then -- </br> is a <br> to browsers
    start_tag(w, "br", NONE, NONE)
    return
  end
  local k
  if name == "h1" or HEADING[name] then
    k = in_scope(w, HEADINGS, "general")
  elseif ALLOWED[name] and not VOID[name] then
    k = in_scope(w, SELF[name], END_SCOPE[name] or "general")
  elseif PARA_BREAK[name] then
    paragraph_break(w)
  end
  if k then -- else a stray end tag, dropped
    pop_to(w, k)
    if not INLINE[name] then block_edge(w) end
  end
end

local function write_text(w, raw)
  local s = decode(raw, "text")
  if find(s, "[^ \t\n]") then before_inline(w) end
  emit(w, escape_text(s))
end

local HTML_SINK = { start = start_tag, finish = end_tag, text = write_text }

-- A function that adds what to list once, up to MAX_REMOVED entries.
local function noter(list)
  local seen, full = {}, false
  return function(what)
    if seen[what] or full then return end
    seen[what] = true
    if #list < MAX_REMOVED then
      list[#list + 1] = what
    else
      list[#list + 1] = "and more"
      full = true
    end
  end
end

--- Sanitises input against the allow-lists. Returns the safe HTML and the
--- list of what was removed (short English phrases, first seen first, each
--- once), for the editor to see. Raises when input is not a string.
function M.html(input)
  local s = normalise(input, "html")
  -- Plain text (not one tag in it: a paste from a text editor, a chat or a
  -- .txt file): each line holding text is a paragraph, as the editor saw
  -- it. Browsers would run such lines together into one. With no "<" that
  -- starts a tag in the text, the <p> written around each line cannot be
  -- read any other way; the lines then take the same road as HTML.
  if not find(s, "<[%a/!?]") and find(s, "\n", 1, true) then
    local paragraphs = {}
    for line in gmatch(s, "[^\n]+") do
      if find(line, "[^ \t]") then
        paragraphs[#paragraphs + 1] = "<p>" .. trim(line, " \t") .. "</p>"
      end
    end
    s = concat(paragraphs, "\n")
  end
  local removed = {}
  local w = new_writer(noter(removed))
  walk(s, HTML_SINK, w)
  pop_to(w, 1)
  return trim(concat(w.out), " \t\n"), removed
end

-- In plain text, blocks are paragraphs: a blank line before and after.
-- Lists and tables start and end on a line of their own; their items and
-- rows start a new line; <br> is a line break; cells are separated by a
-- space. Edges that meet give the larger break, not the sum: a list item
-- in a list in a cell is still one line.
local TEXT_LINE = {
  li = true, dt = true, dd = true, tr = true, caption = true, figcaption = true,
}
local TEXT_LIST = { ul = true, ol = true, dl = true, table = true }
local TEXT_PARAGRAPH = { h1 = true }
for name in pairs(ALLOWED) do
  if not (INLINE[name] or TABLE_PART[name] or TEXT_LINE[name] or TEXT_LIST[name]) then
    TEXT_PARAGRAPH[name] = true
  end
end
for name in pairs(PARA_BREAK) do TEXT_PARAGRAPH[name] = true end

-- The plain text's sink. state.buf collects the pieces; state.breaks is the
-- number of newlines due before the next text; state.pre counts the open
-- <pre> elements, whose spaces and newlines stay.
local function text_edge(state, name, starts)
  local due = state.breaks
  if name == "br" then
    state.breaks = due + 1
  elseif TEXT_PARAGRAPH[name] then
    state.breaks = math.max(due, 2)
  elseif TEXT_LIST[name] or (starts and TEXT_LINE[name]) then
    state.breaks = math.max(due, 1)
  elseif (name == "td" or name == "th") and starts and due == 0 then
    state.buf[#state.buf + 1] = " "
  end
end

local TEXT_SINK = {
  start = function(state, name)
    text_edge(state, name, true)
    if name == "pre" then state.pre = state.pre + 1 end
  end,
  finish = function(state, name)
    text_edge(state, name, false) -- </br> counts as a <br>, as in browsers
    if name == "pre" and state.pre > 0 then state.pre = state.pre - 1 end
  end,
  text = function(state, raw)
    local t = decode(raw, "text")
    if state.pre == 0 then t = gsub(t, "[ \t\n]+", " ") end
    if t == "" or (t == " " and state.breaks > 0) then return end
    local buf = state.buf
    if state.breaks > 0 then
      if #buf > 0 then buf[#buf + 1] = state.breaks > 1 and "\n\n" or "\n" end
      state.breaks = 0
    end
    buf[#buf + 1] = t
  end,
}

--- The plain text of HTML (raw or sanitised), for search, summaries and
--- feeds: tags removed; paragraphs and other blocks separated by one blank
--- line; <br>, list items and table rows on lines of their own; table cells
--- separated by a space; character references decoded; runs of spaces
--- (and no-break and ideographic spaces) collapsed to one; never more than
--- one blank line; no space at either end. What html() removes with its
--- content (scripts, styles, ...) is not there. The result is text, not
--- HTML: escape it where it goes into a page.
function M.text(input)
  local s = normalise(input, "text")
  local state = { buf = {}, breaks = 0, pre = 0, note = function() end }
  walk(s, TEXT_SINK, state)
  local out = concat(state.buf)
  out = gsub(out, "\u{A0}", " ")
  out = gsub(out, "\u{3000}", " ") -- the ideographic space that indents Chinese paragraphs
  out = gsub(out, "[ \t]+", " ")
  out = gsub(out, " ?\n ?", "\n")
  out = gsub(out, "\n\n\n+", "\n\n")
  return trim(out, " \n")
end

return M
