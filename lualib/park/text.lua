-- park.text: text helpers any plugin may use, in pure Lua (no host calls,
-- so a plugin's own modules can use them in plain specs too): trimming
-- that knows Chinese spaces, and text that XML 1.0 accepts.
--
--   local ptext = require("park.text")
--   ptext.trim("\u{3000}标题 ")      --> "标题"
--   ptext.xml_escape("A & B\1")      --> "A &amp; B"
local byte, sub = string.byte, string.sub

local text = {}

--- s without white space at either end: ASCII, U+3000 (the ideographic
-- space) and U+00A0.
function text.trim(s)
  local i, j = 1, #s
  while i <= j do
    local c = byte(s, i)
    if c == 32 or (c >= 9 and c <= 13) then
      i = i + 1
    elseif c == 0xE3 and sub(s, i, i + 2) == "\u{3000}" then
      i = i + 3
    elseif c == 0xC2 and byte(s, i + 1) == 0xA0 then
      i = i + 2
    else
      break
    end
  end
  while j >= i do
    local c = byte(s, j)
    if c == 32 or (c >= 9 and c <= 13) then
      j = j - 1
    elseif c == 0x80 and j - 2 >= i and sub(s, j - 2, j) == "\u{3000}" then
      j = j - 3
    elseif c == 0xA0 and j - 1 >= i and byte(s, j - 1) == 0xC2 then
      j = j - 2
    else
      break
    end
  end
  return sub(s, i, j)
end

-- One character that UTF-8 allows and XML 1.0 does not: C0 controls other
-- than tab, LF and CR (U+FFFE and U+FFFF are checked apart).
local FORBIDDEN = "[\0-\8\11\12\14-\31]"

-- The byte length of a UTF-8 sequence by its lead byte (0: not a lead byte).
local function seq_len(b)
  if b < 0x80 then
    return 1
  elseif b >= 0xC2 and b <= 0xDF then
    return 2
  elseif b >= 0xE0 and b <= 0xEF then
    return 3
  elseif b >= 0xF0 and b <= 0xF4 then
    return 4
  end
  return 0
end

--- The string s as text XML 1.0 accepts: bytes that are not UTF-8,
-- forbidden controls, U+FFFE and U+FFFF removed.
function text.xml_clean(s)
  -- Fast path, all in C: valid UTF-8, no forbidden control, no U+FFFE/FFFF.
  if utf8.len(s) and not s:find(FORBIDDEN) and not s:find("\239\191[\190\191]") then
    return s
  end
  -- utf8.len (strict in Lua 5.4) refuses overlong forms, surrogates and
  -- code points past U+10FFFF, one character at a time.
  local out, n, i, len = {}, 0, 1, #s
  while i <= len do
    local k = seq_len(s:byte(i))
    local ch = k > 0 and s:sub(i, i + k - 1) or nil
    if ch and #ch == k and (k == 1 or (ch:find("^.[\128-\191]+$") and utf8.len(ch) == 1)) then
      if not ch:find(FORBIDDEN) and ch ~= "\239\191\190" and ch ~= "\239\191\191" then
        n = n + 1
        out[n] = ch
      end
      i = i + k
    else
      i = i + 1 -- a byte that starts no character: dropped
    end
  end
  return table.concat(out)
end

local ESCAPES = { ["&"] = "&amp;", ["<"] = "&lt;", [">"] = "&gt;", ['"'] = "&quot;",
  ["'"] = "&apos;" }

--- The string s cleaned and escaped, for XML text or an attribute value.
function text.xml_escape(s)
  return (text.xml_clean(s):gsub("[&<>\"']", ESCAPES))
end

return text
