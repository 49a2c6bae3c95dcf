-- articles_text: the articles plugin's text tools, in plain Lua 5.4 for the
-- sandbox (string, table, utf8, math; sets no globals).
--
--   local text = require("articles_text")
--   text.check(fields, rules)   word checks before review (敏感词、禁用词、常见错误)
--   text.mark(s, findings)      the text of one field cut into segments, findings marked
--   text.tokens(s)              search tokens for an FTS5 table (tokenize = 'unicode61')
--   text.match(q)               a user's query as an FTS5 MATCH expression, or nil
--   text.snippet(s, q, width)   a piece of text around the first hit, hits marked
--   text.diff(a, b)             two revisions compared paragraph by paragraph
--
-- Positions and widths are counted in characters (UTF-8 code points), never
-- bytes. Text that is not valid UTF-8 is read with each bad byte taken as
-- U+FFFD, so nothing here raises on it.
--
-- Case: Latin letters A-Z match a-z, and the full-width digits and letters
-- (０-９, Ａ-Ｚ, ａ-ｚ) match their ASCII forms. Other scripts are compared as
-- they are.
local ptext = require("park.text")
local text = {}

local char, find, sub, gsub = string.char, string.find, string.sub, string.gsub
local concat, sort = table.concat, table.sort
local ulen, uoffset, uchar, ucodes = utf8.len, utf8.offset, utf8.char, utf8.codes
local ult = math.ult

---------------------------------------------------------------------------
-- Characters
---------------------------------------------------------------------------

-- `s` as a string of valid UTF-8: nil is "", other values tostring'd, and
-- every byte that does not start a valid sequence becomes U+FFFD.
local function valid(s)
  if type(s) ~= "string" then
    if s == nil then return "" end
    s = tostring(s)
  end
  if ulen(s) then return s end
  local out, i = {}, 1
  while true do
    local n, bad = ulen(s, i)
    if n then
      out[#out + 1] = sub(s, i)
      return concat(out)
    end
    out[#out + 1] = sub(s, i, bad - 1)
    out[#out + 1] = "\u{FFFD}"
    i = bad + 1
  end
end

-- The folded form that matching compares: A-Z as a-z and full-width
-- digits/letters as ASCII. Folding never changes the number of characters,
-- so a character position in the folded text is the same in the original.
local LOWER = {}
for c = 65, 90 do LOWER[char(c)] = char(c + 32) end
local FULL = {} -- full-width character (3 bytes) -> ASCII
local FULL_CP = {} -- its code point -> ASCII
for c = 0xFF10, 0xFF19 do FULL[uchar(c)] = char(c - 0xFF10 + 48) end
for c = 0xFF21, 0xFF3A do FULL[uchar(c)] = char(c - 0xFF21 + 97) end
for c = 0xFF41, 0xFF5A do FULL[uchar(c)] = char(c - 0xFF41 + 97) end
for c = 0xFF10, 0xFF5A do FULL_CP[c] = FULL[uchar(c)] end

local function fold(s)
  s = gsub(s, "[A-Z]", LOWER)
  if find(s, "\xEF[\xBC\xBD]") then s = gsub(s, "\xEF[\xBC\xBD][\x80-\xBF]", FULL) end
  return s
end

-- Whitespace at either end: ASCII, U+3000 (ideographic space), U+00A0.
local trim = ptext.trim

-- Letters of Han, Hiragana, Katakana and Hangul (with 々 〆 〇 and the
-- Hangzhou numerals, but no CJK punctuation or symbols).
local function is_cjk(c)
  if c < 0x4E00 then
    if c < 0x3400 then
      if c < 0x3005 then return c >= 0x1100 and c <= 0x11FF end
      return c <= 0x3007 or (c >= 0x3021 and c <= 0x3029) or (c >= 0x3038 and c <= 0x303C)
        or (c >= 0x3041 and c <= 0x3096) or (c >= 0x309D and c <= 0x309F)
        or (c >= 0x30A1 and c <= 0x30FA) or (c >= 0x30FC and c <= 0x30FF)
        or (c >= 0x3131 and c <= 0x318E) or (c >= 0x31F0 and c <= 0x31FF)
    end
    return c <= 0x4DBF
  end
  if c <= 0x9FFF then return true end
  if c < 0xF900 then
    return (c >= 0xA960 and c <= 0xA97F) or (c >= 0xAC00 and c <= 0xD7A3)
      or (c >= 0xD7B0 and c <= 0xD7FF)
  end
  if c <= 0xFAFF then return true end
  if c < 0x10000 then return (c >= 0xFF66 and c <= 0xFF9F) or (c >= 0xFFA1 and c <= 0xFFDC) end
  return (c >= 0x1B000 and c <= 0x1B16F) or (c >= 0x20000 and c <= 0x323AF)
end

-- Letters that make words with ASCII letters and digits: Latin-1 and Latin
-- Extended letters, Greek, Cyrillic.
local function is_letter(c)
  return (c >= 0xC0 and c <= 0x24F and c ~= 0xD7 and c ~= 0xF7) or c == 0x386
    or (c >= 0x388 and c <= 0x3CE) or (c >= 0x400 and c <= 0x481) or (c >= 0x48A and c <= 0x52F)
    or (c >= 0x1E00 and c <= 0x1EFF)
end

local CJK, WORD = 1, 2

-- The searchable runs of `s` (valid UTF-8): a list of runs, each a list of
-- characters with .kind CJK or WORD; word characters are folded (a-z, 0-9).
-- Everything else separates runs.
local function runs(s)
  local out, cur = {}, nil
  for _, c in ucodes(s) do
    local kind, ch
    if c < 128 then
      if c >= 65 and c <= 90 then
        kind, ch = WORD, char(c + 32)
      elseif (c >= 97 and c <= 122) or (c >= 48 and c <= 57) then
        kind, ch = WORD, char(c)
      end
    elseif is_cjk(c) then
      kind, ch = CJK, uchar(c)
    elseif FULL_CP[c] then
      kind, ch = WORD, FULL_CP[c]
    elseif is_letter(c) then
      kind, ch = WORD, uchar(c)
    end
    if not kind then
      cur = nil
    elseif cur and cur.kind == kind then
      cur[#cur + 1] = ch
    else
      cur = { kind = kind, ch }
      out[#out + 1] = cur
    end
  end
  return out
end

-- Move along `s` by characters: at(p) is the byte where character p starts
-- (#s + 1 just past the end). Cheap when p only grows.
local function cursor(s)
  local cp, cb = 1, 1
  return function(p)
    if p < cp then cp, cb = 1, 1 end
    cb = uoffset(s, p - cp + 1, cb) or #s + 1
    cp = p
    return cb
  end
end

---------------------------------------------------------------------------
-- 1. Word checks
---------------------------------------------------------------------------

-- The rules as one list, each word once (by its folded form; the first
-- list that names it wins: forbidden, then sensitive, then corrections).
local function compile(rules)
  rules = rules or {}
  local list, seen = {}, {}
  local function add(kind, word, suggestion)
    word = trim(valid(word))
    if word == "" then return end
    local key = fold(word)
    if seen[key] then return end
    seen[key] = true
    local r = { kind = kind, word = word, key = key, len = ulen(word), rank = #list + 1 }
    if suggestion then
      r.suggestion = suggestion
      r.right = fold(suggestion)
    end
    list[#list + 1] = r
  end
  for _, kind in ipairs({ "forbidden", "sensitive" }) do
    for _, w in ipairs(rules[kind] or {}) do
      if type(w) == "string" then add(kind, w) end
    end
  end
  for _, rule in ipairs(rules.corrections or {}) do
    local wrong, right = nil, nil
    if type(rule) == "string" then wrong, right = rule:match("^(.-)=(.*)$") end
    if wrong then
      right = trim(valid(right))
      if right ~= "" then add("correction", wrong, right) end
    end
  end
  return list
end

-- The byte ranges of `key` in `f`, every occurrence (overlapping ones too).
local function occurrences(f, key)
  local starts, init = {}, 1
  while true do
    local b = find(f, key, init, true)
    if not b then return starts end
    starts[#starts + 1] = b
    init = b + 1
  end
end

-- The occurrences of a correction's wrong form that no occurrence of its
-- right form overlaps (a right form lying wholly inside the wrong one, as
-- "的" in "的的=的", does not count).
local function uncorrected(f, r, starts)
  local rights = occurrences(f, r.right)
  if #rights == 0 then return starts end
  local kept, j = {}, 1
  local wl, rl = #r.key, #r.right
  for _, b in ipairs(starts) do
    local e = b + wl - 1
    while rights[j] and rights[j] + rl - 1 < b do j = j + 1 end
    local covered, k = false, j
    while rights[k] and rights[k] <= e do
      local rb = rights[k]
      if not (rb >= b and rb + rl - 1 <= e) then
        covered = true
        break
      end
      k = k + 1
    end
    if not covered then kept[#kept + 1] = b end
  end
  return kept
end

local CONTEXT = 12

--- Check the fields' text against the rules. fields: a list of { name =,
-- label =, text = }; rules: { forbidden = { word, ... }, sensitive = { ... },
-- corrections = { "wrong=right", ... } }. Returns a list of findings in
-- field order, then position order (then forbidden, sensitive, correction,
-- then rule order at one position):
--   { kind = "forbidden" | "sensitive" | "correction", word = the rule's word,
--     suggestion = (corrections only), field =, label =,
--     pos = character index in the field's text (1-based), len = characters,
--     found = the text as written there, before = up to 12 characters
--     before it, after = up to 12 characters after it }
function text.check(fields, rules)
  local list = compile(rules)
  local findings = {}
  for _, field in ipairs(fields or {}) do
    local s = valid(field.text)
    local f = fold(s)
    -- Each hit as one integer, byte * R + rank, so that a plain sort orders
    -- them by position, then rule.
    local hits, R = {}, #list + 1
    for _, r in ipairs(list) do
      if find(f, r.key, 1, true) then
        local starts = occurrences(f, r.key)
        if r.right then starts = uncorrected(f, r, starts) end
        for _, b in ipairs(starts) do hits[#hits + 1] = b * R + r.rank end
      end
    end
    sort(hits)
    local at = cursor(s)
    local same = #f == #s -- nothing was folded across byte lengths
    local pos, last = 1, 1
    for _, h in ipairs(hits) do
      local b, r = h // R, list[h % R]
      if b > last then pos = pos + ulen(f, last, b - 1) end
      last = b
      local sb = same and b or at(pos)
      local se = same and b + #r.key or uoffset(s, r.len + 1, sb)
      local bb = uoffset(s, -CONTEXT, sb) or 1
      local ae = uoffset(s, CONTEXT + 1, se) or #s + 1
      findings[#findings + 1] = {
        kind = r.kind, word = r.word, suggestion = r.suggestion,
        field = field.name, label = field.label, pos = pos, len = r.len,
        found = sub(s, sb, se - 1), before = sub(s, bb, sb - 1), after = sub(s, se, ae - 1),
      }
    end
  end
  return findings
end

--- The text `s` of one field cut into segments { text =, hit = finding or
-- nil } that cover it in order, each finding of that field (from
-- text.check) marked. Where findings overlap, the one that starts first
-- (the first in the list at one position) keeps the overlap; the rest of a
-- later one is still marked with it.
function text.mark(s, findings)
  s = valid(s)
  local n = ulen(s)
  local list = {}
  for i, f in ipairs(findings or {}) do
    if math.type(f.pos) == "integer" and f.pos >= 1 then list[#list + 1] = { f, i } end
  end
  sort(list, function(x, y)
    if x[1].pos ~= y[1].pos then return x[1].pos < y[1].pos end
    return x[2] < y[2]
  end)
  local segs, at, cur = {}, cursor(s), 1
  local function emit(a, z, hit)
    segs[#segs + 1] = { text = sub(s, at(a), at(z + 1) - 1), hit = hit }
  end
  for _, item in ipairs(list) do
    local f = item[1]
    local len = f.len or ulen(valid(f.word))
    local a, z = f.pos, math.min(f.pos + len - 1, n)
    if a <= n and z >= cur then
      if a < cur then a = cur end
      if a > cur then emit(cur, a - 1) end
      emit(a, z, f)
      cur = z + 1
    end
  end
  if cur <= n then emit(cur, n) end
  return segs
end

---------------------------------------------------------------------------
-- 2. Search
---------------------------------------------------------------------------

-- A CJK run's tokens: its overlapping bigrams, then its last character
-- alone ("高新技术" -> 高新 新技 技术 术; "假" -> 假). The last character
-- stands alone so that a one-character query finds a character that ends a
-- run (the 假 of "春节放假。"), which no bigram starts.
local function cjk_tokens(run, out, with_last)
  for i = 1, #run - 1 do out[#out + 1] = run[i] .. run[i + 1] end
  if with_last then out[#out + 1] = run[#run] end
end

--- The search tokens of `s`, separated by spaces, for an FTS5 column with
-- tokenize = 'unicode61': each run of CJK letters gives its overlapping
-- bigrams and then its last character; each run of Latin letters and digits
-- gives one lowercased word (full-width forms as ASCII); everything else
-- separates. "" when there is none.
function text.tokens(s)
  local out = {}
  for _, r in ipairs(runs(valid(s))) do
    if r.kind == WORD then
      out[#out + 1] = concat(r)
    else
      cjk_tokens(r, out, true)
    end
  end
  return concat(out, " ")
end

-- Query terms: split on ASCII whitespace, U+3000 and U+00A0.
local function terms(q)
  q = gsub(gsub(valid(q), "\u{3000}", " "), "\u{A0}", " ")
  local out = {}
  for t in q:gmatch("[^ \t\n\r\f\v]+") do out[#out + 1] = t end
  return out
end

--- The FTS5 MATCH expression for a user's query, or nil when it has no
-- searchable term. Each whitespace-separated term becomes one quoted phrase
-- of the tokens text.tokens gives its text, and the phrases are ANDed:
-- "高新技术" -> "高新 新技 技术"; "API接口" -> "api 接口"; a term ending in a
-- single CJK character ends in a prefix: "假" -> "假"*, which finds the
-- bigrams that start with it and the character alone. Phrases hold only
-- letters, digits and spaces, so nothing a user types is FTS5 syntax.
function text.match(q)
  local phrases, seen = {}, {}
  for _, term in ipairs(terms(q)) do
    local rs = runs(term)
    if #rs > 0 then
      local toks, prefix = {}, false
      for i, r in ipairs(rs) do
        if r.kind == WORD then
          toks[#toks + 1] = concat(r)
        elseif i < #rs then
          -- The text's run ends here too, so its last character is a token.
          cjk_tokens(r, toks, true)
        elseif #r == 1 then
          toks[#toks + 1] = r[1]
          prefix = true
        else
          -- The text's run may go on: its bigrams only.
          cjk_tokens(r, toks, false)
        end
      end
      local p = '"' .. concat(toks, " ") .. '"' .. (prefix and "*" or "")
      if not seen[p] then
        seen[p] = true
        phrases[#phrases + 1] = p
      end
    end
  end
  if #phrases == 0 then return nil end
  return concat(phrases, " AND ")
end

--- A piece of the plain text `s` around the first occurrence of any term of
-- the query `q`, as segments { text =, hit = true or nil }: `width`
-- characters in all (default 80), "…" included where the text is cut. Runs
-- of whitespace count as one space. Every occurrence of a term's letters
-- (its CJK runs and words, matched as text.check matches) inside the piece
-- is marked. When nothing matches: the first `width` characters.
function text.snippet(s, q, width)
  width = math.tointeger(width) or 80
  if width < 1 then width = 1 end
  s = trim(gsub(valid(s), "[ \t\n\r\f\v]+", " "))
  if s == "" then return {} end
  local f, n = fold(s), ulen(s)
  local needles, seen = {}, {}
  for _, term in ipairs(terms(q)) do
    for _, r in ipairs(runs(term)) do
      local w = concat(r)
      if not seen[w] then
        seen[w] = true
        needles[#needles + 1] = w
      end
    end
  end
  local first, first_len
  for _, w in ipairs(needles) do
    local b = find(f, w, 1, true)
    if b and (not first or b < first or (b == first and #w > first_len)) then
      first, first_len = b, #w
    end
  end
  local start, stop
  if n <= width then
    start, stop = 1, n
  else
    local s0 = 1
    if first then
      local p0 = ulen(f, 1, first - 1) + 1
      local len = ulen(f, first, first + first_len - 1)
      s0 = math.max(1, p0 - math.max(0, width - len) // 3)
    end
    if s0 <= 1 then
      start, stop = 1, width - 1
    elseif s0 + width - 2 >= n then
      start, stop = n - width + 2, n
    else
      start, stop = s0, s0 + width - 3
    end
    if stop < start then stop = start end
  end
  -- Hits inside the piece, as flags by character (1 = start).
  local fat = cursor(f)
  local fb1, fb2 = fat(start), fat(stop + 1) - 1
  local hit = {}
  for _, w in ipairs(needles) do
    local init = math.max(1, fb1 - #w + 1)
    while true do
      local b, e = find(f, w, init, true)
      if not b or b > fb2 then break end
      local cb, ce = math.max(b, fb1), math.min(e, fb2)
      local i0 = ulen(f, fb1, cb - 1)
      for i = i0 + 1, i0 + ulen(f, cb, ce) do hit[i] = true end
      init = b + 1
    end
  end
  local sat = cursor(s)
  local segs = {}
  local function add(t, h)
    local last = segs[#segs]
    if last and last.hit == h then
      last.text = last.text .. t
    else
      segs[#segs + 1] = { text = t, hit = h }
    end
  end
  if start > 1 then add("…", nil) end
  local i = start
  while i <= stop do
    local h = hit[i - start + 1]
    local j = i
    while j < stop and hit[j - start + 2] == h do j = j + 1 end
    add(sub(s, sat(i), sat(j + 1) - 1), h)
    i = j + 1
  end
  if stop < n then add("…", nil) end
  return segs
end

---------------------------------------------------------------------------
-- 3. Revisions
---------------------------------------------------------------------------

local function popcount(x)
  x = x - ((x >> 1) & 0x5555555555555555)
  x = (x & 0x3333333333333333) + ((x >> 2) & 0x3333333333333333)
  x = (x + (x >> 4)) & 0x0F0F0F0F0F0F0F0F
  return (x * 0x0101010101010101) >> 56
end

-- Zero bits among the first k bits of the row stored at rows[base + 1 ..].
local function zeros(rows, base, k)
  local z, full = 0, k // 64
  for w = 1, full do z = z + 64 - popcount(rows[base + w]) end
  local rem = k % 64
  if rem > 0 then z = z + rem - popcount(rows[base + full + 1] & ((1 << rem) - 1)) end
  return z
end

-- A longest common subsequence of the lists A and B (values compared with
-- ==), as an edit script: parallel lists ops ("=", "-", "+"), ia, ib (the
-- indexes in A and B; 0 where none) in order. Common ends are taken off
-- first; the middle is solved with the bit-parallel LCS of Allison-Dix and
-- Hyyrö (rows of 64-bit words; row i's bit k-1 is 0 where L[i][k] =
-- L[i][k-1] + 1), so n*m/64 word steps, and walked back from the end.
-- With `budget` ({ units left }): nil when those word steps exceed it, else
-- they are taken from it.
local function align(A, B, budget)
  local n, m = #A, #B
  local ops, ia, ib = {}, {}, {}
  local function push(op, i, k)
    ops[#ops + 1], ia[#ia + 1], ib[#ib + 1] = op, i, k
  end
  local pre = 0
  while pre < n and pre < m and A[pre + 1] == B[pre + 1] do pre = pre + 1 end
  local suf = 0
  while suf < n - pre and suf < m - pre and A[n - suf] == B[m - suf] do suf = suf + 1 end
  local n1, m1 = n - pre - suf, m - pre - suf
  if budget then
    local cost = n1 * ((m1 + 63) // 64)
    if cost > budget[1] then return nil end
    budget[1] = budget[1] - cost
  end
  for i = 1, pre do push("=", i, i) end
  if n1 == 0 or m1 == 0 then
    for i = 1, n1 do push("-", pre + i, 0) end
    for k = 1, m1 do push("+", 0, pre + k) end
  else
    local W = (m1 + 63) // 64
    local masks = {}
    for k = 1, m1 do
      local sym = B[pre + k]
      local mk = masks[sym]
      if not mk then
        mk = {}
        for w = 1, W do mk[w] = 0 end
        masks[sym] = mk
      end
      local w = (k - 1) // 64 + 1
      mk[w] = mk[w] | (1 << ((k - 1) % 64))
    end
    local rows, V = {}, {}
    for w = 1, W do
      V[w], rows[w] = -1, -1
    end
    for i = 1, n1 do
      local mk = masks[A[pre + i]]
      local base = i * W
      if mk then
        local carry = 0
        for w = 1, W do
          local v, mw = V[w], mk[w]
          local t = v + (v & mw)
          local c = ult(t, v)
          local x = t + carry
          if carry == 1 and x == 0 then c = true end
          carry = c and 1 or 0
          x = x | (v & ~mw)
          V[w], rows[base + w] = x, x
        end
      else
        for w = 1, W do rows[base + w] = V[w] end
      end
    end
    -- Walk back from (n1, m1): cur = L[i][k], up = L[i-1][k].
    local rops, ri, rk = {}, {}, {}
    local i, k = n1, m1
    local cur = zeros(rows, i * W, k)
    local up = zeros(rows, (i - 1) * W, k)
    while i > 0 and k > 0 do
      local w, sh = (k - 1) // 64 + 1, (k - 1) % 64
      if (rows[i * W + w] >> sh) & 1 == 1 then -- L[i][k] == L[i][k-1]: B[k] added
        rops[#rops + 1], ri[#ri + 1], rk[#rk + 1] = "+", 0, k
        up = up - (1 - ((rows[(i - 1) * W + w] >> sh) & 1))
        k = k - 1
      elseif up == cur then -- L[i][k] == L[i-1][k]: A[i] deleted
        rops[#rops + 1], ri[#ri + 1], rk[#rk + 1] = "-", i, 0
        i = i - 1
        cur = up
        up = i > 0 and zeros(rows, (i - 1) * W, k) or 0
      else -- A[i] == B[k], on the common subsequence
        rops[#rops + 1], ri[#ri + 1], rk[#rk + 1] = "=", i, k
        i, k = i - 1, k - 1
        cur = cur - 1
        up = i > 0 and zeros(rows, (i - 1) * W, k) or 0
      end
    end
    while i > 0 do
      rops[#rops + 1], ri[#ri + 1], rk[#rk + 1] = "-", i, 0
      i = i - 1
    end
    while k > 0 do
      rops[#rops + 1], ri[#ri + 1], rk[#rk + 1] = "+", 0, k
      k = k - 1
    end
    for j = #rops, 1, -1 do
      push(rops[j], ri[j] > 0 and ri[j] + pre or 0, rk[j] > 0 and rk[j] + pre or 0)
    end
  end
  for j = 1, suf do push("=", n - suf + j, m - suf + j) end
  return ops, ia, ib
end

-- Paragraphs: the lines of `s` (split on "\n"; "\r" dropped) without the
-- whitespace at their ends (U+3000 indents included); blank lines are none.
local function paragraphs(s)
  s = valid(s)
  if find(s, "\r", 1, true) then s = gsub(s, "\r", "") end
  local out, i = {}, 1
  while i <= #s do
    local j = find(s, "\n", i, true) or #s + 1
    if j > i then
      local line = trim(sub(s, i, j - 1))
      if line ~= "" then out[#out + 1] = line end
    end
    i = j + 1
  end
  return out
end

-- The tokens an inner diff compares: each CJK character, punctuation mark
-- or symbol alone; runs of Latin letters and digits (words); runs of spaces.
local function inner_tokens(p)
  local toks, cls, from = {}, nil, 1
  local prev_b
  for b, c in ucodes(p) do
    local k
    if c < 128 then
      if (c >= 48 and c <= 57) or (c >= 65 and c <= 90) or (c >= 97 and c <= 122) then
        k = WORD
      elseif c == 32 or c == 9 then
        k = 0
      end
    elseif is_letter(c) or FULL_CP[c] then
      k = WORD
    end
    if prev_b and not (k and k == cls) then
      toks[#toks + 1] = sub(p, from, b - 1)
      from = b
    end
    prev_b, cls = b, k
  end
  if prev_b then toks[#toks + 1] = sub(p, from) end
  return toks
end

local INNER_MAX_CHARS = 2000
-- The inner diffs of one call may cost this much in all: a pair of n and m
-- characters costs n + m (its tokens), then n' * ceil(m' / 64) for the LCS
-- of its n' and m' tokens between their common ends. Enough for hundreds of
-- edited paragraphs; keeps a revision that rewrote everything well within
-- a request's instruction budget.
local INNER_BUDGET = 150000

-- The inner diff of a changed pair: the old paragraph's pieces (same/del)
-- and the new one's (same/add); nil when either is too long or the budget
-- (budget[1]: units left, see INNER_BUDGET) does not cover it.
local function inner(old, new, budget)
  local n, m = ulen(old), ulen(new)
  if n > INNER_MAX_CHARS or m > INNER_MAX_CHARS then return nil end
  if n + m > budget[1] then return nil end
  budget[1] = budget[1] - (n + m)
  local A, B = inner_tokens(old), inner_tokens(new)
  local ops, ia, ib = align(A, B, budget)
  if not ops then return nil end
  local olds, news = {}, {}
  local function add(list, op, t)
    local last = list[#list]
    if not last or last.op ~= op then
      last = { op = op }
      list[#list + 1] = last
    end
    last[#last + 1] = t
  end
  for j, op in ipairs(ops) do
    if op == "=" then
      add(olds, "same", A[ia[j]])
      add(news, "same", B[ib[j]])
    elseif op == "-" then
      add(olds, "del", A[ia[j]])
    else
      add(news, "add", B[ib[j]])
    end
  end
  for _, list in ipairs({ olds, news }) do
    for k, piece in ipairs(list) do list[k] = { op = piece.op, text = concat(piece) } end
  end
  return olds, news
end

--- Compare two plain texts paragraph by paragraph. A paragraph is a line:
-- the texts are split on every newline, each line trimmed (U+3000 indents
-- too) and blank lines dropped. Returns a list of { op = "same" | "del" |
-- "add", text = paragraph } along a longest common subsequence: the "same"
-- and "del" entries give a's paragraphs in order, the "same" and "add"
-- entries b's. Where a stretch of changes removes and adds paragraphs they
-- are paired in order (del, add, del, add, ...; the unpaired rest after),
-- and each paired entry has `words`: its paragraph cut into { op =, text = }
-- pieces, "same"/"del" for the old one and "same"/"add" for the new one,
-- from an LCS over characters (CJK, punctuation) and words (Latin, digits).
-- Paragraphs over 2,000 characters get no `words`, nor pairs past a budget
-- of inner work (INNER_BUDGET: a few hundred ordinary paragraphs, or a few
-- paragraphs of 2,000 characters, per call).
function text.diff(a, b)
  local A, B = paragraphs(a), paragraphs(b)
  local ops, ia, ib = align(A, B)
  local out = {}
  local budget = { INNER_BUDGET }
  local j, n = 1, #ops
  while j <= n do
    if ops[j] == "=" then
      out[#out + 1] = { op = "same", text = B[ib[j]] }
      j = j + 1
    else
      local dels, adds = {}, {}
      while j <= n and ops[j] ~= "=" do
        if ops[j] == "-" then dels[#dels + 1] = A[ia[j]] else adds[#adds + 1] = B[ib[j]] end
        j = j + 1
      end
      for k, old in ipairs(dels) do
        local new = adds[k]
        local ow, nw
        if new then ow, nw = inner(old, new, budget) end
        out[#out + 1] = { op = "del", text = old, words = ow }
        if new then out[#out + 1] = { op = "add", text = new, words = nw } end
      end
      for k = #dels + 1, #adds do out[#out + 1] = { op = "add", text = adds[k] } end
    end
  end
  return out
end

return text
