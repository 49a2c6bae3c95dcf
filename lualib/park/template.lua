-- park.template: HTML templates with escaping by default, for plugins.
--
-- Syntax (etlua-like):
--   <%= expr %>   the value, HTML-escaped (& < > " ' -> &amp; &lt; &gt; &quot; &#39;);
--                 nil outputs nothing, other values go through tostring
--   <%- expr %>   the value, raw (unescaped): the only way to output HTML as is
--   <% code %>    Lua statements: <% for _, n in ipairs(notices) do %> ... <% end %>
--   <%# text %>   a comment: outputs nothing
--   ... -%>       any tag closed with -%> also eats the newline right after it
--   <%%           a literal "<%"
--
-- Inside a template the fields of the context are variables (<%= title %> is
-- ctx.title), falling back to ipairs, pairs, tostring, tonumber, type, select,
-- next, string, table, math, utf8 and the helpers escape(s), include(name [, ctx])
-- and layout(name). Variables a template assigns stay in that render.
--
--   local template = require("park.template")
--   local render, err = template.compile(source, "templates/list.html")
--   local html = render(ctx)
--   local engine = template.new({ load = function(name) return source, path end })
--   local html = engine:render("list.html", ctx)
--   engine:clear()
--   template.escape(s)
--
-- Templates compile to Lua whose lines match the template's lines, so every
-- syntax or runtime error reads "path/of/template.html:LINE: reason".
-- Pure Lua 5.4: base functions, string, table, math and utf8 only.
local find, sub, gsub, match, format, rep, byte =
  string.find, string.sub, string.gsub, string.match, string.format, string.rep, string.byte
local concat = table.concat
local load, setmetatable, tostring, tonumber, type, error, select, next, ipairs, pairs =
  load, setmetatable, tostring, tonumber, type, error, select, next, ipairs, pairs

local template = {}

--- How deep includes and layouts may nest (a guard against loops).
template.max_depth = 16

---------------------------------------------------------------------------
-- Escaping
---------------------------------------------------------------------------

local ESCAPES = {
  ["&"] = "&amp;", ["<"] = "&lt;", [">"] = "&gt;", ['"'] = "&quot;", ["'"] = "&#39;",
}
local SPECIAL = "[&<>\"']"

--- The HTML-escaped text of a value: nil gives "", numbers and booleans their
-- tostring, strings without any of & < > " ' come back unchanged.
local function escape(v)
  local t = type(v)
  if t ~= "string" then
    if v == nil then return "" end
    v = tostring(v)
    if t == "number" or t == "boolean" then return v end
  end
  -- Five plain searches (memchr-fast) beat one pattern with a set, which
  -- Lua matches byte by byte: most text has nothing to escape.
  if not (find(v, "<", 1, true) or find(v, "&", 1, true) or find(v, ">", 1, true)
          or find(v, '"', 1, true) or find(v, "'", 1, true)) then
    return v
  end
  return (gsub(v, SPECIAL, ESCAPES))
end
template.escape = escape

-- The text of a raw <%- %> value: nil gives "".
local function raw(v)
  if type(v) == "string" then return v end
  if v == nil then return "" end
  return tostring(v)
end

---------------------------------------------------------------------------
-- What a template can see besides its context
---------------------------------------------------------------------------

-- Private copies of the libraries, so a template that assigns string.x or
-- table.x cannot change them for the rest of the plugin.
local function copy(lib, skip)
  if type(lib) ~= "table" then return nil end
  local t = {}
  for k, v in pairs(lib) do
    if k ~= skip then t[k] = v end
  end
  return t
end

local BASE = {
  ipairs = ipairs, pairs = pairs, tostring = tostring, tonumber = tonumber, type = type,
  select = select, next = next,
  string = copy(string, "dump"), table = copy(table), math = copy(math), utf8 = copy(utf8),
  escape = escape,
}

---------------------------------------------------------------------------
-- Compiling a template to Lua
---------------------------------------------------------------------------

-- A Lua string literal on one line: control bytes, quotes and backslashes as
-- decimal escapes, every other byte (UTF-8 included) as is.
local QUOTE = { ['"'] = '\\"', ["\\"] = "\\\\" }
for i = 0, 31 do QUOTE[string.char(i)] = format("\\%03d", i) end
QUOTE["\127"] = "\\127"

local function quote(s)
  return '"' .. gsub(s, '[\0-\31\127"\\]', QUOTE) .. '"'
end

-- Newlines in s[i..j].
local function count_nl(s, i, j)
  local n = 0
  while true do
    local p = find(s, "\n", i, true)
    if not p or p > j then return n end
    n, i = n + 1, p + 1
  end
end

-- Where the "%>" closing a Lua tag starts, skipping Lua strings and comments
-- (so <%= "100%>" %> works). Also returns where a line comment that runs into
-- the "%>" starts, so it can be cut off. nil when the code does not lex (an
-- unfinished string): the caller then takes the first "%>" and lets Lua report.
local function find_close(s, i)
  while true do
    local p = find(s, "[%%\"'%[%-]", i)
    if not p then return nil end
    local c = sub(s, p, p)
    if c == "%" then
      if byte(s, p + 1) == 62 then return p end -- "%>"
      i = p + 1
    elseif c == '"' or c == "'" then
      local stop = c == '"' and '[\\\n"]' or "[\\\n']"
      local q = p + 1
      while true do
        local r = find(s, stop, q)
        if not r then return nil end
        local rc = sub(s, r, r)
        if rc == c then i = r + 1; break end
        if rc == "\n" then return nil end
        q = r + 2 -- a backslash escape
      end
    elseif c == "[" then
      local eq = match(s, "^%[(=*)%[", p)
      if eq then
        local e = find(s, "]" .. eq .. "]", p, true)
        if not e then return nil end
        i = e + #eq + 2
      else
        i = p + 1
      end
    elseif byte(s, p + 1) == 45 then -- "--"
      local eq = match(s, "^%-%-%[(=*)%[", p)
      if eq then
        local e = find(s, "]" .. eq .. "]", p, true)
        if not e then return nil end
        i = e + #eq + 2
      else
        local close, nl = find(s, "%>", p + 2, true), find(s, "\n", p + 2, true)
        if close and (not nl or close < nl) then return close, p end
        if not nl then return nil end
        i = nl + 1
      end
    else
      i = p + 1
    end
  end
end

-- The Lua source of a template. Each piece of template is emitted on the line
-- of generated code that equals its line in the template: text becomes a
-- one-line string literal, code keeps its own newlines, and newlines are
-- padded in before each piece. The chunk receives its per-render environment
-- as a local _ENV.
local function generate(src, name)
  local code, nc = { "local _ENV,_esc,_raw,_concat=...;local _b,_n={},0;" }, 1
  local cur = 1                -- the line of generated code being written
  local line, pos = 1, 1       -- the template's line at pos
  local text, nt, tline = {}, 0, 1
  local after_code = false     -- the last piece emitted was a <% %> statement

  local function emit(s) nc = nc + 1; code[nc] = s end
  local function pad(l)
    if l > cur then emit(rep("\n", l - cur)); cur = l end
  end
  local function add_text(s, l)
    if s ~= "" then
      if nt == 0 then tline = l end
      nt = nt + 1; text[nt] = s
    end
  end
  local function flush()
    if nt > 0 then
      pad(tline)
      emit("_n=_n+1;_b[_n]=" .. quote(concat(text, "", 1, nt)) .. ";")
      nt, after_code = 0, false
    end
  end

  local len = #src
  while pos <= len do
    local s = find(src, "<%", pos, true)
    if not s then
      add_text(sub(src, pos), line)
      line = line + count_nl(src, pos, len)
      break
    end
    add_text(sub(src, pos, s - 1), line)
    line = line + count_nl(src, pos, s - 1)
    local kind = sub(src, s + 2, s + 2)
    if kind == "%" then
      add_text("<%", line)
      pos = s + 3
    else
      local first = s + 3
      if kind ~= "=" and kind ~= "-" and kind ~= "#" then kind, first = "", s + 2 end
      local close, comment
      if kind ~= "#" then close, comment = find_close(src, first) end
      if not close then close = find(src, "%>", first, true) end
      if not close then
        return nil, format("%s:%d: '<%%%s' is not closed with '%%>'", name, line, kind)
      end
      local body = sub(src, first, close - 1)
      local trim = sub(body, -1) == "-"
      if comment then
        body = sub(src, first, comment - 1)
      elseif trim then
        body = sub(body, 1, -2)
      end
      if kind ~= "#" then
        body = gsub(body, "\r", " ")
        flush()
        pad(line)
        if kind == "" then
          if after_code then emit(";") end
          emit(body)
          after_code = true
        else
          if not find(body, "%S") then
            return nil, format("%s:%d: empty '<%%%s %%>': a Lua expression is expected", name, line,
              kind)
          end
          emit((kind == "=" and "_n=_n+1;_b[_n]=_esc(" or "_n=_n+1;_b[_n]=_raw(") .. body .. ");")
          after_code = false
        end
        cur = cur + count_nl(body, 1, #body)
      end
      pos = close + 2
      if trim then
        if sub(src, pos, pos) == "\n" then
          pos = pos + 1
        elseif sub(src, pos, pos + 1) == "\r\n" then
          pos = pos + 2
        end
      end
      line = line + count_nl(src, s, pos - 1)
    end
  end
  flush()
  pad(line)
  -- Starts with _n, like every piece after a statement: Lua's "near '_n'"
  -- then means the end of the user's tag (see syntax_error).
  emit("_n=nil;return _concat(_b)")
  return concat(code, "", 1, nc)
end

-- Lua's syntax error, told in the template's terms: the template's full path,
-- the line of an unclosed block rather than the end of the file.
local function syntax_error(msg, name)
  local l, reason = match(msg, "^.-:(%d+): (.*)$")
  if not l then return name .. ": " .. msg end
  reason = gsub(reason, "near '_n'", "near '%%>'")
  local opener = match(reason, "%(to close '[^']*' at line (%d+)%) near <eof>$")
  if opener then l = opener end
  reason = gsub(reason, "near <eof>$", "at the end of the template")
  return name .. ":" .. l .. ": " .. reason
end

local NO_GLOBALS = setmetatable({}, { __newindex = function() end })

-- The compiled chunk of a template source, or nil and "name:line: reason".
local function compile_chunk(src, name)
  if type(src) ~= "string" then
    return nil, name .. ": template source must be a string, got " .. type(src)
  end
  local code, err = generate(src, name)
  if not code then return nil, err end
  local chunk, lerr = load(code, "@" .. name, "t", NO_GLOBALS)
  if not chunk then return nil, syntax_error(lerr, name) end
  return chunk
end

---------------------------------------------------------------------------
-- Rendering
---------------------------------------------------------------------------

-- The compiled chunk for `name` from an engine's cache, loading and compiling
-- it on first use. On failure: nil, message, and whether the template is
-- missing (true) or did not compile (false).
local function fetch(engine, name)
  local chunk = engine.cache[name]
  if chunk then return chunk end
  local src, path = engine.load(name)
  if src == nil then
    return nil, type(path) == "string" and path or ("template not found: " .. name), true
  end
  local err
  chunk, err = compile_chunk(src, type(path) == "string" and path or name)
  if not chunk then return nil, err, false end
  engine.cache[name] = chunk
  return chunk
end

local function depth_error(trail, name)
  local names, n = { name }, 1
  while trail do
    n = n + 1; names[n] = trail[1]
    trail = trail[2]
  end
  for i = 1, n // 2 do names[i], names[n + 1 - i] = names[n + 1 - i], names[i] end
  return format("include/layout nested deeper than %d (a template including itself?): %s",
    template.max_depth, concat(names, " > "))
end

local render_chunk

-- The template behind include(name) or layout(name); raises at the calling
-- template's line (level 3: the caller of include/layout).
local function child(engine, what, name, depth, trail)
  if type(name) ~= "string" then
    error(format("%s: the template name must be a string, got %s", what, type(name)), 3)
  end
  if not engine then
    error(format('%s("%s"): this template has no loader (use template.new)', what, name), 3)
  end
  if depth >= template.max_depth then error(depth_error(trail, name), 3) end
  local chunk, err, missing = fetch(engine, name)
  if not chunk then error(err, missing and 3 or 0) end
  return chunk
end

-- Render a compiled chunk with `ctx`: a fresh environment whose writes stay
-- in it and whose reads go to ctx, then the base names and the helpers.
function render_chunk(chunk, ctx, engine, depth, trail)
  local layout_chunk, layout_name

  local function include(name, ctx2)
    if ctx2 ~= nil and type(ctx2) ~= "table" then
      error("include: the context must be a table, got " .. type(ctx2), 2)
    end
    local c = child(engine, "include", name, depth, trail)
    return render_chunk(c, ctx2 or ctx, engine, depth + 1, { name, trail })
  end

  local function layout(name)
    if layout_name then
      error(format('layout("%s"): this template already has the layout "%s"', tostring(name),
        layout_name), 2)
    end
    layout_chunk = child(engine, "layout", name, depth, trail)
    layout_name = name
  end

  local env = setmetatable({}, { __index = function(_, k)
    local v = ctx[k]
    if v == nil then
      v = BASE[k]
      if v == nil then
        if k == "include" then return include end
        if k == "layout" then return layout end
      end
    end
    return v
  end })

  local out = chunk(env, escape, raw, concat)
  if layout_chunk then
    return render_chunk(layout_chunk, setmetatable({ content = out }, { __index = ctx }), engine,
      depth + 1, { layout_name, trail })
  end
  return out
end

local function check_ctx(ctx)
  if ctx == nil then return {} end
  if type(ctx) ~= "table" then
    error("render: the context must be a table, got " .. type(ctx), 3)
  end
  return ctx
end

--- Compile a template source. `name` (default "template") names it in error
-- messages. Returns render(ctx) -> html, or nil and "name:line: reason".
-- Such a template has no loader: include and layout need template.new.
function template.compile(source, name)
  name = name or "template"
  local chunk, err = compile_chunk(source, name)
  if not chunk then return nil, err end
  return function(ctx)
    return render_chunk(chunk, check_ctx(ctx), nil, 0, { name })
  end
end

local Engine = {}
Engine.__index = Engine

--- An engine: opts.load(name) returns a template's source and the path to
-- show in error messages, or nil and an error message. Each template is
-- compiled once and kept until clear().
function template.new(opts)
  if type(opts) ~= "table" or type(opts.load) ~= "function" then
    error("template.new: opts.load must be a function", 2)
  end
  return setmetatable({ load = opts.load, cache = {} }, Engine)
end

--- Render the template `name` with `ctx`. Raises "template not found: ..."
-- (at the caller's line), or the template's "path:line: reason".
function Engine:render(name, ctx)
  if type(name) ~= "string" then
    error("render: the template name must be a string, got " .. type(name), 2)
  end
  ctx = check_ctx(ctx)
  local chunk, err, missing = fetch(self, name)
  if not chunk then error(err, missing and 2 or 0) end
  return render_chunk(chunk, ctx, self, 0, { name })
end

--- Forget every compiled template: the next render loads them again.
function Engine:clear()
  self.cache = {}
end

return template
