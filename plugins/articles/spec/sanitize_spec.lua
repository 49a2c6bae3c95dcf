package.path = "plugins/articles/?.lua;" .. package.path
-- The article body sanitiser: what editors paste goes in, safe and
-- well-formed HTML comes out.
local sanitize = require("articles_sanitize")

-- The elements the output may contain, and the attributes each may carry.
local ALLOWED = {
  p = {}, br = {}, hr = {}, h2 = {}, h3 = {}, h4 = {}, h5 = {}, h6 = {},
  ul = { start = false }, ol = { start = true }, li = {}, dl = {}, dt = {}, dd = {},
  table = {}, caption = {}, thead = {}, tbody = {}, tfoot = {}, tr = {},
  th = { colspan = true, rowspan = true, scope = true },
  td = { colspan = true, rowspan = true },
  a = { href = true, title = true, rel = true },
  img = { src = true, alt = true, title = true, width = true, height = true },
  strong = {}, b = {}, em = {}, i = {}, u = {}, s = {}, sub = {}, sup = {}, code = {},
  blockquote = {}, pre = {}, figure = {}, figcaption = {},
}
local VOID = { br = true, hr = true, img = true }

-- The few references the sanitiser writes, decoded independently of it.
local function decode(s)
  s = s:gsub("&#[xX](%x+);", function(h) return utf8.char(tonumber(h, 16)) end)
  s = s:gsub("&#(%d+);", function(d) return utf8.char(tonumber(d)) end)
  return (s:gsub("&(%a+);", { quot = '"', lt = "<", gt = ">", nbsp = "\u{A0}", amp = "&" }))
end

-- Reads the output back strictly: every "<" starts a tag written as
-- <name attr="value" ...> or </name>, text holds no "<" or ">" and every "&"
-- starts a reference, end tags match start tags, and nothing stays open.
-- Returns the tags as { name =, closing =, attrs = { {name, value}, ... } }.
local function read_back(out)
  local tags, open, i = {}, {}, 1
  local function check_text(t)
    assert(not t:find("[<>]"), "unescaped < or > in text: " .. t)
    for amp in t:gmatch("&[^;]*;?") do
      assert(amp:find("^&#?%w+;$"), "bare & in text: " .. amp)
    end
  end
  while true do
    local lt = out:find("<", i, true)
    check_text(out:sub(i, (lt or #out + 1) - 1))
    if not lt then break end
    local slash, name, attrs, after = out:match("^<(/?)([a-z][a-z0-9]*)([^<>]*)>()", lt)
    assert(name, "malformed markup: " .. out:sub(lt, lt + 60))
    local list = {}
    local rest = attrs:gsub(' ([a-z]+)="([^"<>]*)"', function(n, v)
      check_text(v)
      list[#list + 1] = { n, v }
      return ""
    end)
    assert(rest == "", "malformed attributes: " .. attrs)
    if slash == "/" then
      assert(#list == 0, "attributes on an end tag")
      assert(open[#open] == name, "</" .. name .. "> closes <" .. tostring(open[#open]) .. ">")
      open[#open] = nil
    elseif not VOID[name] then
      open[#open + 1] = name
    end
    tags[#tags + 1] = { name = name, closing = slash == "/", attrs = list }
    i = after
  end
  assert(#open == 0, "left open: " .. table.concat(open, ", "))
  return tags
end

-- The checks every output must pass, whatever went in.
local function assert_safe(input)
  local out = sanitize.html(input)
  assert.is_string(out)
  local lower = out:lower()
  for _, bad in ipairs({ "<script", "<iframe", "<object", "<embed", "<svg", "<math",
                         "<style", "<meta", "<base", "<form", "<link", "<body" }) do
    assert(not lower:find(bad, 1, true), bad .. " in " .. out)
  end
  for _, tag in ipairs(read_back(out)) do
    assert(ALLOWED[tag.name], "<" .. tag.name .. "> in " .. out)
    for _, attr in ipairs(tag.attrs) do
      local name, value = attr[1], attr[2]
      assert(ALLOWED[tag.name][name], name .. " on <" .. tag.name .. "> in " .. out)
      assert(not name:find("^on"), "event handler in " .. out)
      if name == "href" or name == "src" then
        local url = decode(value):gsub("[%c%s]", ""):lower()
        for _, scheme in ipairs({ "javascript:", "vbscript:", "data:", "livescript:" }) do
          assert(not url:find(scheme, 1, true), scheme .. " in " .. out)
        end
        assert(url:find("^https?:") or url:find("^mailto:") or not url:find("^[^/?#]*:"),
          "unexpected scheme in " .. out)
      end
    end
  end
  return out
end

-- From the OWASP XSS filter evasion cheat sheet, html5sec.org and a few of
-- our own; each must come out harmless.
local VECTORS = {
  -- script elements in every spelling
  [[<script>alert(1)</script>]],
  [[<SCRIPT SRC=http://xss.rocks/xss.js></SCRIPT>]],
  [[<ScRiPt>alert(1)</sCrIpT>]],
  [[<SCRIPT/XSS SRC="http://xss.rocks/xss.js"></SCRIPT>]],
  [[<SCRIPT/SRC="http://xss.rocks/xss.js"></SCRIPT>]],
  [[<<SCRIPT>alert("XSS");//<</SCRIPT>]],
  [[<SCRIPT SRC=http://xss.rocks/xss.js?< B >]],
  [[<SCRIPT SRC=//xss.rocks/.j>]],
  [[<scr<script>ipt>alert(1)</script>]],
  "<script\n>alert(1)</script\n>",
  [[<script>alert(1)</script]],
  [[<script a=">" SRC="httx://xss.rocks/xss.js"></SCRIPT>]],
  [[<SCRIPT>document.write("<SCRI");</SCRIPT>PT SRC="httx://xss.rocks/xss.js"></SCRIPT>]],
  [[</TITLE><SCRIPT>alert("XSS");</SCRIPT>]],
  "<scr\0ipt>alert(1)</scr\0ipt>",
  -- event handlers
  [[<IMG SRC=x onerror="alert(1)">]],
  [[<img src=x onerror=alert(1)//]],
  [[<img/src=x/onerror=alert(1)>]],
  [[<IMG """><SCRIPT>alert("XSS")</SCRIPT>">]],
  [[<img src="x` `<script>alert(1)</script>"` `>]],
  [[<BODY ONLOAD=alert('XSS')>]],
  [[<BODY onload!#$%&()*~+-_.,:;?@[/|\]^`=alert("XSS")>]],
  [[<p onmouseover="alert(1)" style="color:red">hover</p>]],
  [[<a href="#" onclick="alert(1)">x</a>]],
  [[<details open ontoggle=alert(1)>]],
  [[<video><source onerror="alert(1)"></video>]],
  [[<marquee onstart=alert(1)>x</marquee>]],
  [[<x onclick=alert(1)>click</x>]],
  [[<input onfocus=alert(1) autofocus>]],
  [[<select onfocus=alert(1) autofocus><option>x</select>]],
  [[<textarea onfocus=alert(1) autofocus>]],
  [[<frameset onload=alert(1)>]],
  [[<table background="javascript:alert(1)"><tr><td onclick=alert(1)>x</td></tr></table>]],
  -- javascript:, vbscript:, data: URLs, plain and obfuscated
  [[<a href="javascript:alert(1)">x</a>]],
  [[<a href=JaVaScRiPt:alert(1)>x</a>]],
  [[<IMG SRC=javascript:alert('XSS')>]],
  [[<IMG SRC=`javascript:alert("RSnake says, 'XSS'")`>]],
  [[<a href="javascript&colon;alert(1)">x</a>]],
  [[<a href="javascript&#58;alert(1)">x</a>]],
  [[<a href="jav&#x09;ascript:alert(1)">x</a>]],
  [[<IMG SRC="jav	ascript:alert('XSS');">]],
  [[<IMG SRC="jav&#x0A;ascript:alert('XSS');">]],
  [[<IMG SRC="jav&#x0D;ascript:alert('XSS');">]],
  [[<a href="java&Tab;script:alert(1)">x</a>]],
  [[<a href="java&NewLine;script:alert(1)">x</a>]],
  "<a href=\"java\0script:alert(1)\">x</a>",
  "<a href=\"java\nscript:alert(1)\">x</a>",
  [[<a href="   javascript:alert(1)">x</a>]],
  [[<a href=" &#14; javascript:alert(1)">x</a>]],
  [[<IMG SRC=" &#14;  javascript:alert('XSS');">]],
  "<IMG SRC=&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;"
    .. "&#97;&#108;&#101;&#114;&#116;&#40;&#39;&#88;&#83;&#83;&#39;&#41;>",
  "<IMG SRC=&#0000106&#0000097&#0000118&#0000097&#0000115&#0000099&#0000114&#0000105"
    .. "&#0000112&#0000116&#0000058&#0000097&#0000108&#0000101&#0000114&#0000116&#0000040"
    .. "&#0000039&#0000088&#0000083&#0000083&#0000039&#0000041>",
  "<IMG SRC=&#x6A&#x61&#x76&#x61&#x73&#x63&#x72&#x69&#x70&#x74&#x3A&#x61&#x6C&#x65"
    .. "&#x72&#x74&#x28&#x27&#x58&#x53&#x53&#x27&#x29>",
  [[<a href="javascript://%0aalert(1)">x</a>]],
  [[<a href="vbscript:msgbox(1)">x</a>]],
  [[<a href="VBScript:msgbox(1)">x</a>]],
  [[<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">x</a>]],
  [[<img src="data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+">]],
  [[<a href="&#x64;ata:text/html,<script>alert(1)</script>">x</a>]],
  [[<a href="livescript:alert(1)">x</a>]],
  [[<a href="javascript&#x3A;alert(1)">x</a>]],
  [[<a href='javas&#99;ript:alert(1)'>x</a>]],
  -- elements that run script or load documents
  [[<svg onload=alert(1)>]],
  [[<svg/onload=alert('XSS')>]],
  [[<svg><script>alert(1)</script></svg>]],
  [[<svg><a xlink:href="javascript:alert(1)"><text>x</text></a></svg>]],
  [[<math><maction actiontype="statusline" xlink:href="javascript:alert(1)">x</maction></math>]],
  [[<iframe src="javascript:alert(1)"></iframe>]],
  [[<iframe srcdoc="&lt;script&gt;alert(1)&lt;/script&gt;"></iframe>]],
  [[<iframe src=http://xss.rocks/scriptlet.html <]],
  [[<object data="javascript:alert(1)"></object>]],
  [[<OBJECT TYPE="text/x-scriptlet" DATA="http://xss.rocks/scriptlet.html"></OBJECT>]],
  [[<embed src="data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+">]],
  [[<applet code="x.class"></applet>]],
  [[<style>@import 'http://xss.rocks/xss.css';</style>]],
  [[<STYLE>li {list-style-image: url("javascript:alert('XSS')");}</STYLE><UL><LI>XSS</br>]],
  [[<style><img src="</style><img src=x onerror=alert(1)//">]],
  [[<LINK REL="stylesheet" HREF="javascript:alert('XSS');">]],
  [[<META HTTP-EQUIV="refresh" CONTENT="0;url=javascript:alert('XSS');">]],
  [[<META HTTP-EQUIV="refresh" CONTENT="0;url=data:text/html base64,PHNjcmlwdD4=">]],
  [[<BASE HREF="javascript:alert('XSS');//">]],
  [[<form action="javascript:alert(1)"><input type=submit></form>]],
  [[<form><button formaction=javascript:alert(1)>x</button></form>]],
  [[<isindex type=image src=1 onerror=alert(1)>]],
  [[<isindex action=javascript:alert(1) type=image>]],
  [[<template><script>alert(1)</script></template>]],
  [[<noscript><p title="</noscript><img src=x onerror=alert(1)>">]],
  [[<xml><x:script>alert(1)</x:script></xml>]],
  -- CSS
  [[<DIV STYLE="width: expression(alert('XSS'));">x</DIV>]],
  [[<DIV STYLE="background-image: url(javascript:alert('XSS'))">x</DIV>]],
  [[<IMG STYLE="xss:expr/*XSS*/ession(alert('XSS'))" src="/a.png">]],
  [[<XSS STYLE="behavior: url(xss.htc);">]],
  [[<p style="background:url(&#1;javascript:alert(1))">x</p>]],
  -- comments, CDATA and other markup
  [[<!--<script>alert(1)</script>-->]],
  [[<!-- --!><script>alert(1)</script> -->]],
  [[<!--[if gte IE 4]><SCRIPT>alert('XSS');</SCRIPT><![endif]-->]],
  [=[<![CDATA[<script>alert(1)</script>]]>]=],
  [[<?xml-stylesheet type="text/xsl" href="javascript:alert(1)"?>]],
  [[<!DOCTYPE html><html><head><script>alert(1)</script></head></html>]],
  -- attribute parsing tricks
  [[<a title="a>b" href="javascript:alert(1)">x</a>]],
  [[<a href=javascript:alert(1) title='x'>x</a>]],
  [[<a title="x"href="javascript:alert(1)">x</a>]],
  [[<a href="http://ok/"href="javascript:alert(1)">x</a>]],
  [[<a href="javascript:alert(1)" href="http://ok/">x</a>]],
  [[<img src=x:alert(alt) onerror=eval(src) alt=0>]],
  "<a\nhref\n=\n\"javascript:alert(1)\"\n>x</a\n>",
  "<a href=\"javascript:alert(1)",
  "<img src=\"/a.png\" title=\"x\x01\x02\">",
  "\xFF\xFE<script>alert(1)</script>\xC0\xBC",
}

describe("articles sanitiser: script never survives", function()
  it("covers at least 40 vectors", function()
    assert.is_true(#VECTORS >= 40, #VECTORS .. " vectors")
  end)

  for n, vector in ipairs(VECTORS) do
    local shown = vector:sub(1, 60):gsub("%c", function(c) return ("\\%d"):format(c:byte()) end)
    it(("makes vector %d harmless: %s"):format(n, shown), function()
      assert_safe(vector)
    end)
  end

  it("rejects unsafe URLs but keeps the link text", function()
    local out, removed = sanitize.html([[<p><a href="jav&#x09;ascript:alert(1)">link</a></p>]])
    assert.are.equal("<p>link</p>", out)
    assert.are.same({ "javascript: URL in href" }, removed)
  end)

  it("drops an image without a safe source", function()
    local out, removed = sanitize.html([[<p>a<img src="data:image/png;base64,AAAA">b</p>]])
    assert.are.equal("<p>ab</p>", out)
    assert.are.same({ "data: URL in src" }, removed)
  end)

  it("keeps http, https, mailto and relative URLs", function()
    local out = sanitize.html('<a href="HTTPS://example.com/a">1</a><a href="mailto:x@y.cn">2</a>'
      .. '<a href="/p?a=1&amp;b=2">3</a><a href="page.html">4</a><a href="#top">5</a>'
      .. '<a href="?q=1">6</a><img src="img/a b.png" alt="">')
    assert.are.equal('<p><a href="HTTPS://example.com/a" rel="noopener noreferrer">1</a>'
      .. '<a href="mailto:x@y.cn">2</a><a href="/p?a=1&amp;b=2">3</a>'
      .. '<a href="page.html">4</a><a href="#top">5</a><a href="?q=1">6</a>'
      .. '<img src="img/a%20b.png" alt=""></p>', out)
  end)

  it("does not allow mailto: as an image source", function()
    assert.are.equal("", (sanitize.html('<img src="mailto:x@y.cn">')))
  end)

  it("keeps a value with > inside quotes whole", function()
    assert.are.equal('<p><a href="/x" title="a&gt;b">t</a></p>',
      (sanitize.html([[<a title="a>b" href='/x'>t</a>]])))
  end)

  it("reads <img/src=x/onerror=...> as a browser does: one src, no handler", function()
    assert.are.equal('<p><img src="x/onerror=alert(1)"></p>',
      (sanitize.html("<img/src=x/onerror=alert(1)>")))
  end)

  it("keeps the text after a split script tag as text", function()
    assert.are.equal("<p>ipt&gt;alert(1)</p>",
      (sanitize.html("<scr<script>ipt>alert(1)</script>")))
    assert.are.equal("<p>&lt;</p>", (sanitize.html("<<script>alert(1)</script>")))
  end)

  it("drops everything after an unterminated script or tag", function()
    assert.are.equal("<p>a</p>", (sanitize.html("<p>a<script>alert(1)</script")))
    assert.are.equal("<p>a</p>", (sanitize.html("<p>a<img src=x onerror=alert(1)")))
  end)

  it("lists what it removed, each thing once", function()
    local _, removed = sanitize.html([[<p onclick="a()" style="x">1</p><p onclick="b()">2</p>
      <script>x()</script><script>y()</script><a href="javascript:z()">3</a>]])
    assert.are.same({ "onclick attribute", "style attribute", "<script> element",
                      "javascript: URL in href" }, removed)
  end)
end)

describe("articles sanitiser: a paste from Word or WPS", function()
  local office = table.concat({
    [[<html xmlns:o="urn:schemas-microsoft-com:office:office">]],
    [[<head><meta charset=utf-8><title>通知</title>]],
    [[<style>p.MsoNormal{mso-style-parent:"";}</style></head>]],
    [[<body lang=ZH-CN><div class=WordSection1>]],
    [[<!--[if gte mso 9]><xml><w:WordDocument><w:View>Normal</w:View>]],
    [[</w:WordDocument></xml><![endif]-->]],
    [[<h1 style='mso-outline-level:1'><span lang=ZH-CN style='font-family:宋体'>]],
    [[关于申报的通知</span><o:p></o:p></h1>]],
    [[<p class=MsoNormal style='text-indent:24.0pt'><span lang=ZH-CN>各企业：</span>]],
    [[<b><span lang=EN-US>2024</span></b><o:p>&nbsp;</o:p></p>]],
    [[<table class=MsoTableGrid border=1 cellspacing=0 cellpadding=0 ]],
    [[style='border-collapse:collapse'>]],
    [[<tr style='mso-yfti-irow:0'><td width=284 colspan=2 valign=top style='width:213pt'>]],
    [[<p class=MsoNormal>项目</p></td></tr>]],
    [[<tr><td width=142><p class=MsoNormal>金额</p></td>]],
    [[<td width=142><p class=MsoNormal>100&nbsp;万元</p></td></tr></table>]],
    [[<ul type=disc><li class=MsoNormal style='mso-list:l0 level1 lfo1'>营业执照</li>]],
    [[<li class=MsoNormal>法人身份证</li></ul>]],
    [[<p class=MsoNormal>详见<a href="http://www.example.gov.cn/n?id=1&amp;t=2" target="_blank">]],
    [[<span style='color:blue'>原文</span></a><![if !vml]><img width=200 height=100 ]],
    [[src="/uploads/logo.png" alt="园区标志" v:shapes="_x0000_i1025"><![endif]></p>]],
    [[</div></body></html>]],
  })

  it("keeps headings, paragraphs, the table, the list, the link and the image", function()
    local out = sanitize.html(office)
    assert.are.equal(table.concat({
      "<h2>关于申报的通知</h2>",
      "<p>各企业：<b>2024</b></p>",
      '<table><tr><td colspan="2"><p>项目</p></td></tr>',
      "<tr><td><p>金额</p></td><td><p>100&nbsp;万元</p></td></tr></table>",
      "<ul><li>营业执照</li><li>法人身份证</li></ul>",
      '<p>详见<a href="http://www.example.gov.cn/n?id=1&amp;t=2" rel="noopener noreferrer">',
      '原文</a><img src="/uploads/logo.png" alt="园区标志" width="200" height="100"></p>',
    }), out)
  end)

  it("tells the editor what went", function()
    local _, removed = sanitize.html(office)
    for _, what in ipairs({ "<head> element", "conditional comment", "class attribute",
                            "style attribute", "lang attribute", "<span> tag", "<o:p> element",
                            "border attribute", "target attribute" }) do
      assert.is_truthy(table.concat(removed, "\n"):find(what, 1, true), what)
    end
  end)

  it("cleans a longer document with WPS and Word cruft", function()
    local doc = [[
<!DOCTYPE html PUBLIC "-//W3C//DTD HTML 4.0 Transitional//EN">
<?xml:namespace prefix = o ns = "urn:schemas-microsoft-com:office:office" />
<html xmlns:v="urn:schemas-microsoft-com:vml" xmlns:w="urn:schemas-microsoft-com:office:word">
<head><!--[if gte mso 9]><xml><o:DocumentProperties><o:Author>admin</o:Author>
</o:DocumentProperties></xml><![endif]--><style><!-- /* Font Definitions */
@font-face {font-family:宋体; mso-font-charset:134;} --></style></head>
<body lang=ZH-CN style='tab-interval:21.0pt;text-justify-trim:punctuation'>
<div class=Section1 style='layout-grid:15.6pt'>
<h1 align=center style='text-align:center'><a name="_Toc1"></a><span
style='font-family:黑体;mso-ascii-font-family:"Times New Roman"'>高新区<span
lang=EN-US>2024</span>年工作要点</span></h1>
<p class=MsoNormal style='text-indent:32.0pt;mso-char-indent-count:2.0;line-height:
28.0pt'><span style='font-size:16.0pt;font-family:仿宋_GB2312'>一、<st1:chsdate
Year="2024" Month="3" Day="1" IsLunarDate="False" IsROCDate="False"
w:st="on">三月一日</st1:chsdate>起施行。</span><span
lang=EN-US style='font-size:16.0pt'><o:p></o:p></span></p>
<p class=MsoListParagraph style='margin-left:18.0pt;text-indent:-18.0pt;
mso-list:l0 level1 lfo1'><![if !supportLists]><span
lang=EN-US style='mso-list:Ignore'>1.<span style='font:7.0pt "Times New Roman"'>&nbsp;&nbsp;&nbsp;
</span></span><![endif]><span style='font-family:宋体'>第一项</span></p>
<table class=MsoNormalTable border=1 cellspacing=0 cellpadding=0 width=553
 style='width:415.0pt;border-collapse:collapse;border:none;mso-border-alt:solid windowtext .5pt'>
 <tr style='mso-yfti-irow:0;mso-yfti-firstrow:yes'>
  <td width=100 colspan=3 style='width:75.0pt;border:solid windowtext 1.0pt;padding:0cm 5.4pt'>
  <p class=MsoNormal align=center><b>企业名称</b></p></td>
 </tr>
 <tr><td rowspan=2>甲</td><td>乙</td><td>丙</td></tr>
</table>
<ol style='margin-top:0cm' start=3 type=1><li class=MsoNormal>第三条</li><li>第四条</li></ol>
<p class=MsoNormal><a href="https://www.example.gov.cn/zcwj/1.html"><span
style='color:#0563C1'>政策原文</span></a><!--[if gte vml 1]><v:shape id="_x0000_i1025"
 type="#_x0000_t75" style='width:415pt'><v:imagedata src="file:///C:/Users/a/clip_image001.png"
 o:title=""/></v:shape><![endif]--><![if !vml]><img border=0 width=553 height=300
src="/uploads/2024/chart.png" v:shapes="_x0000_i1025"><![endif]></p>
</div>
</body>
</html>]]
    local out, removed = sanitize.html(doc)
    read_back(out)
    assert.matches('<h2>高新区2024年工作要点</h2>', out, 1, true)
    assert.matches("<p>一、三月一日起施行。</p>", out, 1, true)
    assert.matches("<p>1.&nbsp;&nbsp;&nbsp;\n第一项</p>", out, 1, true)
    assert.matches('<td colspan="3">', out, 1, true)
    assert.matches('<p><b>企业名称</b></p>', out, 1, true)
    assert.matches('<tr><td rowspan="2">甲</td><td>乙</td><td>丙</td></tr>', out, 1, true)
    assert.matches('<ol start="3"><li>第三条</li><li>第四条</li></ol>', out, 1, true)
    assert.matches('<a href="https://www.example.gov.cn/zcwj/1.html" rel="noopener noreferrer">'
      .. '政策原文</a>', out, 1, true)
    assert.matches('<img src="/uploads/2024/chart.png" width="553" height="300">', out, 1, true)
    for _, cruft in ipairs({ "mso", "Mso", "style", "class", "lang", "font", "o:", "w:", "v:",
                             "xml", "Author", "DOCTYPE", "_Toc", "file:", "<span", "<div",
                             "align", "border", "<!", "<?" }) do
      assert.is_falsy(out:find(cruft, 1, true), cruft .. " left in the output")
    end
    assert.is_truthy(table.concat(removed, "\n"):find("<?xml?> declaration", 1, true))
    assert.is_truthy(table.concat(removed, "\n"):find("<!DOCTYPE>", 1, true))
  end)
end)

describe("articles sanitiser: well-formed output", function()
  local function html(s) return (sanitize.html(s)) end

  it("closes what was left open, innermost first", function()
    assert.are.equal("<p><b>bold <i>both</i></b></p>", html("<p><b>bold <i>both"))
    assert.are.equal("<ul><li>a<ol><li>b</li></ol></li></ul>", html("<ul><li>a<ol><li>b"))
    assert.are.equal("<table><tr><td>x</td></tr></table>", html("<table><tr><td>x"))
  end)

  it("drops stray end tags", function()
    assert.are.equal("<p>text</p>", html("</div></p>text</b></table>"))
    assert.are.equal("<p><b><i>x</i></b>y</p>", html("<p><b><i>x</b>y</i></p>"))
  end)

  it("closes paragraphs, items and cells where a browser would", function()
    assert.are.equal("<p>a</p><p>b</p>", html("<p>a<p>b"))
    assert.are.equal("<ul><li>a</li><li>b</li></ul>", html("<ul><li>a<li>b</ul>"))
    assert.are.equal("<table><tr><td>1</td><td>2</td></tr><tr><td>3</td></tr></table>",
      html("<table><tr><td>1<td>2<tr><td>3</table>"))
    assert.are.equal("<p>a</p><ul><li>b</li></ul>", html("<p>a<ul><li>b</ul>"))
  end)

  it("keeps nested tables and lists", function()
    local nested = "<table><tr><td><table><tr><td>in</td></tr></table>out</td></tr></table>"
    assert.are.equal(nested, html(nested))
    local lists = "<ul><li>1<ul><li>1.1<ol><li>a</li></ol></li></ul></li><li>2</li></ul>"
    assert.are.equal(lists, html(lists))
  end)

  it("does not let an end tag inside a cell close what is outside the table", function()
    local inner = "<table><tr><td>2</b>3</td></tr></table>"
    assert.are.equal("<table><tr><td><b>1<table><tr><td>23</td></tr></table>4</b></td></tr>"
      .. "</table>", html("<table><tr><td><b>1" .. inner .. "4</b></td></tr></table>"))
    assert.are.equal("<ul><li><table><tr><td>xy</td></tr></table></li></ul>",
      html("<ul><li><table><tr><td>x</li>y</td></tr></table></li></ul>"))
  end)

  it("writes h1 as h2, the page has its own h1", function()
    assert.are.equal("<h2>标题</h2><h3>小标题</h3>", html("<H1>标题</h1><h3>小标题</H3>"))
  end)

  it("keeps div-separated text apart", function()
    assert.are.equal("<p>a</p><p>b</p>", html("a</div><div>b"))
    assert.are.equal("<p>a</p><p>b</p>", html("<div>a</div><section>b</section>"))
    assert.are.equal("<table><tr><td>a<br>b</td></tr></table>",
      html("<table><tr><td><div>a</div><div>b</div></td></tr></table>"))
    assert.are.equal("<p>abc</p>", html("a<span>b</span>c"))
  end)

  it("keeps an li outside a list as it is", function()
    assert.are.equal("<li>x</li>", html("<li>x</li>"))
  end)

  it("writes void elements without end tags", function()
    assert.are.equal('<p>a<br>b<br></p><hr><p><img src="/a.png"></p>',
      html('a<br/>b</br><hr/><img src="/a.png"/>'))
  end)

  it("re-escapes text and attribute values", function()
    assert.are.equal("<p>AT&amp;T &lt;b&gt; &amp;amp; © &amp;unknown; &quot;q&quot; 1 &lt; 2</p>",
      html("AT&T &lt;b&gt; &amp;amp; &#169; &unknown; \"q\" 1 < 2"))
    assert.are.equal([[<p><a href="/a&quot;b" title="it's">x</a></p>]],
      html([[<a href='/a"b' title=it's>x</a>]]))
    assert.are.equal("<p>&nbsp;</p>", html("<p>&nbsp;</p>"))
  end)

  it("decodes references as a browser does, bad ones to U+FFFD", function()
    assert.are.equal("<p>– — … “” © ©right �� €</p>",
      html("&#150; &mdash; &hellip; &ldquo;&rdquo; &copy &copyright &#0;&#xD800; &#x80;"))
  end)

  it("leaves Chinese text and other UTF-8 untouched", function()
    local text = "<p>高新区管委会：关于2024年度“专精特新”企业申报的通知（第①批）🚀</p>"
    assert.are.equal(text, html(text))
  end)

  it("replaces bytes that are not UTF-8 and drops control characters", function()
    assert.are.equal("<p>a\u{FFFD}b\u{FFFD}\u{FFFD}c</p>", html("a\xFFb\xC0\xAFc\1\0"))
  end)

  it("keeps the paragraphs of plain text: each line holding text is one", function()
    assert.are.equal("<p>第一段。</p>\n<p>第二段。</p>\n<p>第三段。</p>",
      html("第一段。\n\n第二段。\r\n第三段。\n"))
    assert.are.equal("<p>　　缩进的段落。</p>\n<p>AT&amp;T 1 &lt; 2</p>",
      html("  \n　　缩进的段落。  \n \t \nAT&T 1 < 2"))
    -- One tag makes it HTML, where line breaks are spaces, as in a browser.
    assert.are.equal("<p>a\nb <b>c</b></p>", html("a\nb <b>c</b>"))
    -- Plain text once sanitised is HTML: the second pass changes nothing.
    local once = html("一\n二\n\n三")
    assert.are.equal(once, html(once))
    assert.are.equal("一\n\n二\n\n三", sanitize.text(once))
  end)

  it("turns the empty input into the empty output", function()
    assert.are.same({ "", {} }, { sanitize.html("") })
  end)

  it("raises on a non-string", function()
    assert.has_error(function() sanitize.html(nil) end,
      "bad argument #1 to 'html' (string expected, got nil)")
  end)

  it("validates numbers and enumerations in attributes", function()
    local out, removed = sanitize.html('<table><tr><th colspan=2 rowspan=abc scope=ROW>h</th>'
      .. '<td colspan=0 rowspan="1001">x</td></tr></table><ol start="-1"><li>a</li></ol>')
    assert.are.equal('<table><tr><th colspan="2" scope="row">h</th><td>x</td></tr></table>'
      .. "<ol><li>a</li></ol>", out)
    assert.are.same({ "invalid rowspan attribute", "invalid colspan attribute",
                      "invalid start attribute" }, removed)
  end)

  it("is well-formed and stable on random tag soup: sanitising twice changes nothing", function()
    local pieces = { "<p>", "</p>", "<b>", "</b>", "<i>", "<div>", "</div>", "x", "中文", "<br>",
      "<table>", "<tr>", "<td>", "</td>", "</tr>", "</table>", "<ul>", "<li>", "</li>", "</ul>",
      "<a href=/x>", "</a>", "<h1>", "</h2>", "&amp;", "&nbsp;", " ", "\n", "<img src=/a.png>",
      "<ol>", "<span>", "<blockquote>", "<pre>", "</pre>", "<dl><dt>", "<dd>", "<hr>",
      "<caption>", "<th>", "<tbody>", "<a href=javascript:x>", "<script>", "</script>", "<o:p>",
      "</o:p>", "<", ">", "&", '"', "<!--", "-->", "<svg>", "</svg>" }
    math.randomseed(20240501)
    for _ = 1, 3000 do
      local soup = {}
      for k = 1, math.random(1, 30) do soup[k] = pieces[math.random(#pieces)] end
      local once = assert_safe(table.concat(soup))
      assert.are.equal(once, (sanitize.html(once)))
    end
  end)

  it("loads with nothing but the sandbox's libraries and sets no globals", function()
    local env = setmetatable({
      string = string, table = table, math = math, utf8 = utf8,
      type = type, error = error, pairs = pairs, ipairs = ipairs, select = select,
      tonumber = tonumber, tostring = tostring, setmetatable = setmetatable,
    }, {
      __index = function(_, k) error("undefined global " .. tostring(k), 2) end,
      __newindex = function(_, k) error("global set: " .. tostring(k), 2) end,
    })
    local chunk = assert(loadfile("plugins/articles/articles_sanitize.lua", "t", env))
    local m = chunk()
    assert.are.equal("<p>x</p>", (m.html("<div onclick=a()>x</div><script>y</script>")))
    assert.are.equal("x", m.text("<p>x</p>"))
  end)
end)

describe("articles sanitiser: plain text for search and feeds", function()
  it("decodes references", function()
    assert.are.equal("AT&T <b> “引号” © — a b",
      sanitize.text("AT&amp;T &lt;b&gt; &ldquo;引号&rdquo; &copy; &mdash; a&nbsp;b"))
  end)

  it("makes <br> and block ends line breaks, blank lines at most one", function()
    assert.are.equal("第一段\n\n第二段\n第二行\n\nc",
      sanitize.text("<p>第一段</p><p>第二段<br>第二行</p><br><br><br><br><div>c</div>"))
  end)

  it("collapses runs of spaces, and source newlines are spaces", function()
    assert.are.equal("a b c", sanitize.text("  a \n\t  b   <b> c </b>  "))
  end)

  it("keeps <pre> lines", function()
    assert.are.equal("x\n\nline 1\nline 2", sanitize.text("<p>x</p><pre>line 1\nline 2</pre>"))
  end)

  it("leaves out scripts, styles, comments and Office metadata", function()
    assert.are.equal("visible", sanitize.text("<script>var secret = 1</script>"
      .. "<style>p{}</style><!-- note --><xml><o:Author>admin</o:Author></xml>"
      .. "<o:p>x</o:p>visible<title>t</title>"))
  end)

  it("gives nested lists one line per item, and </br> one line break", function()
    assert.are.equal("a\nb\nc\nafter",
      sanitize.text("<ul><li>a<ul><li>b</li></ul></li><li>c</li></ul>after"))
    assert.are.equal("a\nb", sanitize.text("a</br>b"))
  end)

  it("separates table cells and rows", function()
    assert.are.equal("a b\nc d", sanitize.text("<table><tr><td>a</td><td>b</td></tr>"
      .. "<tr><td>c</td><td>d</td></tr></table>"))
  end)

  it("reads its own output back to the same text", function()
    local input = "<h1>题目</h1><p>正文&nbsp;一 <b>加粗</b></p><ul><li>甲</li><li>乙</li></ul>"
    assert.are.equal(sanitize.text(input), sanitize.text((sanitize.html(input))))
    assert.are.equal("题目\n\n正文 一 加粗\n\n甲\n乙", sanitize.text(input))
  end)
end)

describe("articles sanitiser: large input", function()
  local paragraph = '<p class=MsoNormal style="mso-x:1"><span lang=ZH-CN>园区新闻 &amp; 通知</span>'
    .. ' <b>重点</b> <a href="http://www.example.gov.cn/a?b=1&amp;c=2">链接</a>'
    .. '<img src="/a.png" onerror="x()"><o:p></o:p></p>\n'
  local input = paragraph:rep(math.ceil(1024 * 1024 / #paragraph))

  it("sanitises 1 MB in well under a second", function()
    local t0 = os.clock()
    local out = sanitize.html(input)
    local elapsed = os.clock() - t0
    assert.is_true(elapsed < 1, ("took %.2f s"):format(elapsed))
    assert.is_true(#out > 500 * 1024)
  end)

  it("extracts the text of 1 MB in well under a second", function()
    local t0 = os.clock()
    local text = sanitize.text(input)
    local elapsed = os.clock() - t0
    assert.is_true(elapsed < 1, ("took %.2f s"):format(elapsed))
    assert.is_true(#text > 100 * 1024)
  end)

  it("stays linear on hostile shapes", function()
    for _, hostile in ipairs({
      ("<"):rep(1024 * 1024), ("<b>"):rep(349525), ("</p>"):rep(262144),
      ("<!--"):rep(262144), ("&#1"):rep(349525), "<a title=\"" .. (" "):rep(1024 * 1024),
      "<p " .. ("a "):rep(524288) .. ">", ("<li>"):rep(262144),
      "<table><tr><td>" .. ("<b>"):rep(300) .. ("<div>x"):rep(170000),
    }) do
      local t0 = os.clock()
      sanitize.html(hostile)
      local elapsed = os.clock() - t0
      assert.is_true(elapsed < 2, ("took %.2f s on %q"):format(elapsed, hostile:sub(1, 20)))
    end
  end)
end)
