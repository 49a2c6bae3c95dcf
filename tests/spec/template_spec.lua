-- park.template: what a webmaster writes in a template and what the page shows.
local template = require("park.template")

local DIR = "tests/spec/templates/"

-- A loader over tests/spec/templates/ (the spec runs outside the sandbox, so
-- io.open is fine here). `calls`, when given, counts the loads per name.
local function file_loader(calls)
  return function(name)
    if calls then calls[name] = (calls[name] or 0) + 1 end
    local f = io.open(DIR .. name, "rb")
    if not f then return nil, "template not found: " .. name end
    local src = f:read("a")
    f:close()
    return src, DIR .. name
  end
end

local function engine(calls)
  return template.new({ load = file_loader(calls) })
end

-- Render an inline template.
local function render(src, ctx)
  local fn = assert(template.compile(src, "inline.html"))
  return fn(ctx)
end

-- The message of the error raised by fn(...).
local function error_of(fn, ...)
  local ok, err = pcall(fn, ...)
  assert.is_false(ok, "expected an error")
  return tostring(err)
end

local function has(needle, haystack)
  assert(haystack:find(needle, 1, true),
    ("expected to find %q in:\n%s"):format(needle, haystack))
end

describe("park.template: <%= %> escapes what it outputs", function()
  it("escapes & < > \" and ' as HTML entities", function()
    assert.are.equal("&amp; &lt; &gt; &quot; &#39;", render("<%= s %>", { s = "& < > \" '" }))
  end)

  it("turns a script in a resident's message into harmless text", function()
    assert.are.equal("<p>&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;</p>",
      render("<p><%= msg %></p>", { msg = "<script>alert('x')</script>" }))
  end)

  it("outputs nothing for nil, and numbers and booleans as text", function()
    assert.are.equal("[][42][3.5][true][false]",
      render("[<%= missing %>][<%= 42 %>][<%= 3.5 %>][<%= yes %>][<%= no %>]",
        { yes = true, no = false }))
  end)

  it("outputs other values through tostring, escaped", function()
    local v = setmetatable({}, { __tostring = function() return "<obj>" end })
    assert.are.equal("&lt;obj&gt;", render("<%= v %>", { v = v }))
  end)

  it("exports escape, which returns plain text unchanged", function()
    local s = "园区服务中心元旦假期办公安排"
    assert.are.equal(s, template.escape(s))
    assert.are.equal("a&amp;b", template.escape("a&b"))
    assert.are.equal("", template.escape(nil))
    assert.are.equal("7", template.escape(7))
  end)

  it("offers escape() inside templates too", function()
    assert.are.equal("&lt;b&gt;", render("<%- escape(s) %>", { s = "<b>" }))
  end)
end)

describe("park.template: <%- %> outputs raw HTML", function()
  it("outputs the value unescaped", function()
    assert.are.equal("<div><b>粗体</b></div>",
      render("<div><%- html %></div>", { html = "<b>粗体</b>" }))
  end)

  it("outputs nothing for nil and numbers as text", function()
    assert.are.equal("[][5]", render("[<%- nothing %>][<%- 5 %>]", {}))
  end)
end)

describe("park.template: Lua code in templates", function()
  it("repeats a block for each item of a loop", function()
    local src = "<ul><% for i, n in ipairs(items) do %><li><%= i %>. <%= n %></li><% end %></ul>"
    local out = render(src, { items = { "通知", "公告" } })
    assert.are.equal("<ul><li>1. 通知</li><li>2. 公告</li></ul>", out)
  end)

  it("shows a block only when its condition holds", function()
    local src = "<% if urgent then %>紧急<% elseif old then %>旧<% else %>普通<% end %>"
    assert.are.equal("紧急", render(src, { urgent = true }))
    assert.are.equal("旧", render(src, { old = true }))
    assert.are.equal("普通", render(src, {}))
  end)

  it("shows nothing for <%# comments %>", function()
    assert.are.equal("ab", render("a<%# a note for the next webmaster: <b> %>b", {}))
  end)

  it("lets a Lua comment end a code tag without hiding what follows", function()
    assert.are.equal("1|2", render("<% local x = 1 -- the first %><%= x %>|<%= 2 -- two %>", {}))
  end)

  it("does not end a tag at a %> inside a Lua string", function()
    assert.are.equal("增长 100%&gt;", render('增长 <%= "100%>" %>', {}))
  end)

  it("removes the newline after a tag closed with -%>", function()
    local src = "<ul>\n<% for _, n in ipairs(items) do -%>\n<li><%= n %></li>\n<% end -%>\n</ul>\n"
    assert.are.equal("<ul>\n<li>a</li>\n<li>b</li>\n</ul>\n", render(src, { items = { "a", "b" } }))
  end)

  it("keeps the newline after a tag closed with %>", function()
    assert.are.equal("\nx\n", render("<% if true then %>\nx\n<% end %>", {}))
  end)

  it("trims the newline of a Windows line end too", function()
    assert.are.equal("a\r\nb", render("<% local v = 1 -%>\r\na\r\n<%# note -%>\r\nb", {}))
  end)

  it("outputs a literal <% for <%%", function()
    assert.are.equal("write <% here %>", render("write <%% here %>", {}))
  end)
end)

describe("park.template: variables", function()
  it("reads the fields of the context as variables", function()
    assert.are.equal("<h1>通知公告</h1>", render("<h1><%= title %></h1>", { title = "通知公告" }))
  end)

  it("offers string, table, math, utf8 and the iterators", function()
    local src = "<%= string.upper(a) %> <%= table.concat(t, ',') %> <%= math.max(1, 9) %> "
      .. "<%= utf8.len(cn) %> <%= tostring(tonumber('12') + 1) %> <%= type(t) %> "
      .. "<%= select('#', 1, 2) %> <%= next({}) %>"
    assert.are.equal("ABC 1,2 9 4 13 table 2 ",
      render(src, { a = "abc", t = { 1, 2 }, cn = "高新园区" }))
  end)

  it("keeps variables a template assigns out of the context and the globals", function()
    local ctx = { title = "原标题" }
    local fn = assert(template.compile("<% title = 'changed'; leaked = 1 %><%= title %>", "t.html"))
    assert.are.equal("changed", fn(ctx))
    assert.are.equal("原标题", ctx.title)
    assert.is_nil(rawget(ctx, "leaked"))
    assert.is_nil(rawget(_G, "leaked"))
    assert.is_nil(rawget(_G, "title"))
  end)

  it("starts every render afresh", function()
    local fn = assert(template.compile("<%= seen %><% seen = 'yes' %>", "t.html"))
    assert.are.equal("", fn({}))
    assert.are.equal("", fn({}))
  end)

  it("cannot change the string library for the rest of the plugin", function()
    local upper = string.upper
    render("<% string.upper = nil %>", {})
    assert.are.equal(upper, string.upper)
  end)
end)

describe("park.template: a template cannot reach the system", function()
  it("sees no io, os, require, load, debug or _G", function()
    assert.are.equal("nil nil nil nil nil nil nil",
      render("<%= tostring(io) %> <%= tostring(os) %> <%= tostring(require) %> "
        .. "<%= tostring(load) %> <%= tostring(debug) %> <%= tostring(_G) %> "
        .. "<%= tostring(getmetatable) %>", {}))
  end)

  it("raises instead of running a command", function()
    local marker = os.tmpname()
    os.remove(marker)
    local fn = assert(template.compile(
      '<% os.execute("touch ' .. marker .. '") %><% io.open("' .. marker .. '", "w") %>',
      "evil.html"))
    has("evil.html:1: attempt to index a nil value (global 'os')", error_of(fn, {}))
    assert.is_nil(io.open(marker, "r"))
  end)

  it("cannot load a module", function()
    local fn = assert(template.compile('<% local m = require("io") %>', "evil.html"))
    has("evil.html:1: attempt to call a nil value (global 'require')", error_of(fn, {}))
  end)
end)

describe("park.template: partials with include", function()
  it("renders a partial with its own context", function()
    local e = engine()
    has("<p>欢迎, 张工!</p>", e:render("welcome.html", { visitor = "李经理" }))
  end)

  it("renders a partial with the current context when none is given", function()
    local e = engine()
    assert.are.equal("<p>欢迎, 李经理!</p>\n<p>欢迎, 张工!</p>\n",
      e:render("welcome.html", { visitor = "李经理" }))
  end)

  it("escapes inside the partial and is output raw by the caller", function()
    local e = engine()
    has("<p>欢迎, &lt;i&gt;!</p>", e:render("greeting.html", { visitor = "<i>" }))
    has("<p>欢迎, &lt;i&gt;!</p>", e:render("welcome.html", { visitor = "<i>" }))
  end)

  it("needs an engine: a compiled template has no loader", function()
    local fn = assert(template.compile('<%- include("x.html") %>', "alone.html"))
    has("alone.html:1: include(\"x.html\"): this template has no loader", error_of(fn, {}))
  end)
end)

describe("park.template: layouts", function()
  local ctx = {
    title = "通知公告 - 高新区",
    column = "通知公告",
    notices = {
      { id = 1, title = "关于2026年度高新技术企业认定工作的通知" },
      { id = 2, title = "园区服务中心元旦假期办公安排 <更新>" },
    },
  }

  it("puts the page into its layout, and that layout into its own", function()
    local html = engine():render("notices.html", ctx)
    assert.are.equal(table.concat({
      "<!DOCTYPE html>",
      '<html lang="zh-CN">',
      '<head><meta charset="utf-8"><title>通知公告 - 高新区</title></head>',
      "<body>",
      '<section class="column">',
      "<h2>通知公告</h2>",
      '<ul class="notices">',
      '<li><a href="/notices/1">关于2026年度高新技术企业认定工作的通知</a></li>',
      '<li><a href="/notices/2">园区服务中心元旦假期办公安排 &lt;更新&gt;</a></li>',
      "</ul>",
      "</section>",
      "</body>",
      "</html>",
      "",
    }, "\n"), html)
  end)

  it("gives the layout the page as `content` next to the page's context", function()
    local e = template.new({ load = function(name)
      if name == "page" then return '<% layout("frame") %>body of <%= who %>', "page" end
      if name == "frame" then return "<main><%= who %>: <%- content %></main>", "frame" end
    end })
    assert.are.equal("<main>园区: body of 园区</main>", e:render("page", { who = "园区" }))
  end)

  it("refuses a second layout in the same template", function()
    local e = template.new({ load = function(name)
      return name == "p" and '<% layout("f") %>\n<% layout("f") %>' or "<%- content %>", name
    end })
    has('p:2: layout("f"): this template already has the layout "f"', error_of(e.render, e, "p"))
  end)
end)

describe("park.template: loops of includes and layouts", function()
  it("stops a template that includes itself, naming the chain", function()
    local err = error_of(engine().render, engine(), "loop_a.html")
    has(DIR .. "loop_a.html:1: include/layout nested deeper than 16", err)
    has("loop_a.html > loop_b.html > loop_a.html", err)
  end)

  it("stops a layout that uses itself", function()
    local e = engine()
    has(DIR .. "layout_loop.html:1: include/layout nested deeper than 16",
      error_of(e.render, e, "layout_loop.html"))
  end)

  it("allows 16 levels of includes", function()
    local e = template.new({ load = function(name)
      local n = tonumber(name)
      if n == 16 then return "16", name end
      return n .. "<%- include('" .. (n + 1) .. "') %>", name
    end })
    assert.are.equal("012345678910111213141516", e:render("0"))
    local deeper = template.new({ load = function(name)
      return name .. "<%- include('" .. (tonumber(name) + 1) .. "') %>", name
    end })
    has("16:1: include/layout nested deeper than 16", error_of(deeper.render, deeper, "0"))
  end)
end)

describe("park.template: errors name the template's file and line", function()
  it("reports a missing template", function()
    local e = engine()
    has("template not found: nowhere.html", error_of(e.render, e, "nowhere.html"))
  end)

  it("reports a missing template at the line that includes it", function()
    local e = engine()
    has(DIR .. "with_missing_partial.html:2: template not found: no_such_partial.html",
      error_of(e.render, e, "with_missing_partial.html"))
  end)

  it("reports a missing layout at the line that declares it", function()
    local e = engine()
    has(DIR .. "with_missing_layout.html:1: template not found: no_such_layout.html",
      error_of(e.render, e, "with_missing_layout.html"))
  end)

  it("reports an `if` without `end` at the line of the `if`", function()
    local src = "<h1><%= title %></h1>\n<ul>\n<% if show then %>\n<li>政策文件</li>\n</ul>\n"
    local fn, err = template.compile(src, "templates/list.html")
    assert.is_nil(fn)
    has("templates/list.html:3: 'end' expected (to close 'if' at line 3)", err)
    local e = engine()
    has(DIR .. "unclosed_if.html:3: 'end' expected", error_of(e.render, e, "unclosed_if.html"))
  end)

  it("reports a syntax error inside a partial with the partial's file", function()
    local e = engine()
    has(DIR .. "unclosed_if.html:3:", error_of(e.render, e, "syntax_partial.html"))
  end)

  it("reports a missing `then` at the tag that lacks it", function()
    local _, err = template.compile("a\nb\n<% if x %>\nc\n<% end %>", "t.html")
    assert.are.equal("t.html:3: 'then' expected near '%>'", err)
  end)

  it("reports an unclosed tag and an empty expression", function()
    local _, err = template.compile("a\n<%= title", "t.html")
    assert.are.equal("t.html:2: '<%=' is not closed with '%>'", err)
    _, err = template.compile("a\n\n<%= %>", "t.html")
    has("t.html:3: empty '<%= %>'", err)
  end)

  it("reports a runtime error at the template's line, after a multi-line code block", function()
    local e = engine()
    has(DIR .. "nil_field.html:7: attempt to index a nil value (global 'nil_value')",
      error_of(e.render, e, "nil_field.html", { title = "t", items = {} }))
  end)

  it("reports a runtime error in a partial with the partial's file and line", function()
    local e = engine()
    local err = error_of(e.render, e, "broken_list.html", { items = { { title = "x" } } })
    has(DIR .. "broken_item.html:2: attempt to index a nil value (field 'publisher')", err)
    assert.is_nil(err:find("broken_list.html", 1, true))
  end)

  it("reports an error raised by a function of the context at the calling line", function()
    local fn = assert(template.compile("ok\n\n<% check(notices) %>", "t.html"))
    local function check(list) if not list then error("no notices", 2) end end
    assert.are.equal("t.html:3: no notices", error_of(fn, { check = check }))
  end)

  it("keeps lines right after multi-line tags and a Lua string with %>", function()
    local src = "<%= '%>' %>\n<%\n local a = 1\n local b = 2\n-%>\n<%= a +\n b %>\n\n<%= bad.x %>"
    local fn = assert(template.compile(src, "t.html"))
    has("t.html:9: attempt to index a nil value (global 'bad')", error_of(fn, {}))
  end)
end)

describe("park.template: the engine's cache", function()
  it("loads and compiles each template once across renders", function()
    local calls = {}
    local e = engine(calls)
    local ctx = { title = "t", column = "c",
                  notices = { { id = 1, title = "a" }, { id = 2, title = "b" } } }
    local first = e:render("notices.html", ctx)
    assert.are.equal(first, e:render("notices.html", ctx))
    e:render("notices.html", ctx)
    assert.are.same({ ["notices.html"] = 1, ["notice_item.html"] = 1, ["column.html"] = 1,
                      ["site.html"] = 1 }, calls)
  end)

  it("loads again after clear()", function()
    local calls, version = {}, "v1"
    local e = template.new({ load = function(name)
      calls[name] = (calls[name] or 0) + 1
      return "<%= '" .. version .. "' %>", name
    end })
    assert.are.equal("v1", e:render("page.html"))
    version = "v2"
    assert.are.equal("v1", e:render("page.html"))
    e:clear()
    assert.are.equal("v2", e:render("page.html"))
    assert.are.equal(2, calls["page.html"])
  end)

  it("does not cache a template that was missing", function()
    local present = false
    local e = template.new({ load = function(name)
      if present then return "here", name end
      return nil, "template not found: " .. name
    end })
    has("template not found: late.html", error_of(e.render, e, "late.html"))
    present = true
    assert.are.equal("here", e:render("late.html"))
  end)
end)

describe("park.template: Chinese text", function()
  it("passes through unchanged in text, values and partials", function()
    local text = "高新区政务公开: 通知公告、政策文件、民意征集、在线访谈、主任信箱。"
    assert.are.equal(text .. "|" .. text .. "|" .. text,
      render(text .. "|<%= t %>|<%- t %>", { t = text }))
  end)
end)
