#include "app/app.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* The files of a new plugin: a small notice board that shows what a real
 * plugin uses (a migration, a list paged by park.page in the site's layout, a
 * staff form declared with park.form, a job on the park's working days) and a
 * spec that passes as it is. "@name@" stands for the plugin's name, "@dir@" for
 * the plugin directory (the spec's --plugins). The README's tutorial ("A
 * plugin in five minutes") walks through these files: keep the two in step. */
static const struct {
    const char *path;
    const char *text;
} new__files[] = {
    {"plugin.lua",
     "-- @name@: a notice board (通知公告) for a column of the park's site.\n"
     "-- Residents read the list, newest first, a page at a time, and each notice;\n"
     "-- the column's staff add notices through a form; a job runs at 09:00 on the\n"
     "-- park's working days. docs/plugin-api.md is the reference for every call.\n"
     "local park = require(\"park\")\n"
     "local content = require(\"park.content\") -- content.staff: who may add notices\n"
     "local form = require(\"park.form\")       -- a form declared once, checked with errors in "
     "words\n"
     "local layout = require(\"park.layout\")   -- the site's masthead, navigation and footer\n"
     "local page = require(\"park.page\")       -- a list a page at a time, with ?after= links\n"
     "\n"
     "local db = park.db\n"
     "\n"
     "local plugin = {\n"
     "  name = \"@name@\",\n"
     "  version = \"0.1.0\",\n"
     "  -- Staff read the description, labels and descriptions in the console:\n"
     "  -- in Chinese, as every staff page.\n"
     "  description = \"通知公告：本栏目的通知，由本单位工作人员发布\",\n"
     "  -- Each field of a column's config: checked when the column is bound.\n"
     "  config = {\n"
     "    title = { type = \"string\", default = \"通知公告\", max_length = 40, label = \"标题\",\n"
     "              description = \"栏目页面的大标题\" },\n"
     "    page_size = { type = \"integer\", default = 20, min = 5, max = 100, label = "
     "\"每页条数\",\n"
     "                  description = \"列表每页显示的通知数\" },\n"
     "  },\n"
     "}\n"
     "\n"
     "-- The form that adds a notice: each field says how it is checked, and\n"
     "-- park.form gives the messages (标题：请填写, 标题：最多 80 个字，现有 95 个字).\n"
     "local NOTICE = form.new({\n"
     "  -- A form sent twice (a double click) adds one notice: sql/001's nonce table.\n"
     "  nonce = \"@name@_nonces\",\n"
     "  fields = {\n"
     "    { name = \"title\", label = \"标题\", required = true, max_length = 80 },\n"
     "    { name = \"day\", label = \"发布日期\", type = \"date\", hint = \"不填则为今天\" },\n"
     "    { name = \"body\", label = \"正文\", type = \"textarea\", max_length = 5000, rows = 10 "
     "},\n"
     "  },\n"
     "})\n"
     "\n"
     "-- The list's order: the newest day first, the id breaking ties in a day.\n"
     "local LIST = page.new({ order = { \"day DESC\", \"id DESC\" } })\n"
     "\n"
     "-- The column's path, for links: base(req) .. \"/12\" (the root column's is \"\").\n"
     "local function base(req)\n"
     "  return req.column == \"/\" and \"\" or req.column\n"
     "end\n"
     "\n"
     "-- A page of the plugin, drawn inside the site's layout.\n"
     "local function render(req, template, ctx, status)\n"
     "  ctx.base = base(req)\n"
     "  ctx.styles = { \"/static/@name@/style.css\" }\n"
     "  return park.html(park.render(template, layout.context(req, ctx)), status)\n"
     "end\n"
     "\n"
     "-- A page with a title and one sentence: not found, not allowed.\n"
     "local function message(req, status, title, text)\n"
     "  return render(req, \"message.html\", { title = title, message = text }, status)\n"
     "end\n"
     "\n"
     "local function list(req)\n"
     "  local pg = LIST:sized(req.config.page_size):query(req, \"SELECT id, title, day\"\n"
     "    .. \" FROM @name@_entries WHERE column_path = ?\", req.column)\n"
     "  return render(req, \"index.html\", { title = req.config.title, pager = pg,\n"
     "                                     staff = park.auth.can(\"edit\") })\n"
     "end\n"
     "\n"
     "local function show(req)\n"
     "  local entry = db.first(\"SELECT * FROM @name@_entries\"\n"
     "    .. \" WHERE id = ? AND column_path = ?\", math.tointeger(tonumber(req.params.id)), "
     "req.column)\n"
     "  if not entry then return message(req, 404, \"没有这条通知\", \"通知不存在或已删除。\") "
     "end\n"
     "  return render(req, \"show.html\", { title = entry.title, entry = entry })\n"
     "end\n"
     "\n"
     "-- The form page: empty, or with what was sent and its errors (status 422).\n"
     "local function form_page(req, values, errors)\n"
     "  return render(req, \"new.html\", { title = errors and \"错误：添加通知\" or \"添加通知\",\n"
     "                                   form = NOTICE:context(req, values, errors) },\n"
     "                errors and 422)\n"
     "end\n"
     "\n"
     "-- Adding a notice: staff who may edit this column only. content.staff sends\n"
     "-- others to the login page, or answers a post with message()'s 403 page.\n"
     "local function new(req)\n"
     "  local user, answer = content.staff(req, \"edit\", message)\n"
     "  if not user then return answer() end\n"
     "  return form_page(req)\n"
     "end\n"
     "\n"
     "local function add(req)\n"
     "  local user, answer = content.staff(req, \"edit\", message)\n"
     "  if not user then return answer() end\n"
     "  local values, errors = NOTICE:check(req)\n"
     "  if errors then return form_page(req, values, errors) end\n"
     "  -- Written once per form shown: a second post of it gives the same id.\n"
     "  local _, id = NOTICE:once(values, function()\n"
     "    local _, rowid = assert(db.exec(\"INSERT INTO @name@_entries\"\n"
     "      .. \" (column_path, title, day, body, author, added) VALUES (?, ?, ?, ?, ?, ?)\",\n"
     "      req.column, values.title, values.day or os.date(\"%Y-%m-%d\"), values.body, "
     "user.login,\n"
     "      os.date(\"%Y-%m-%d %H:%M:%S\")))\n"
     "    -- On record: who added which notice, when, from where (parkhost audit).\n"
     "    park.audit(\"add\", \"@name@:\" .. rowid, nil,\n"
     "      { title = values.title })\n"
     "    return rowid\n"
     "  end)\n"
     "  return park.redirect(base(req) .. \"/\" .. id)\n"
     "end\n"
     "\n"
     "-- Routes are relative to the column the plugin is bound to; the first\n"
     "-- that matches wins, so /new comes before /:id.\n"
     "plugin.routes = {\n"
     "  { \"GET\", \"/\", list },\n"
     "  { \"GET\", \"/new\", new },\n"
     "  { \"POST\", \"/new\", add },\n"
     "  { \"GET\", \"/:id\", show },\n"
     "}\n"
     "\n"
     "-- Jobs run on the server's schedule, not for a request.\n"
     "plugin.jobs = {\n"
     "  -- 09:00 on the park's working days (park.calendar: holidays and 调休\n"
     "  -- counted): how many notices came in since the last working day, in the\n"
     "  -- log; and the form's nonces older than 30 days forgotten.\n"
     "  digest = { cron = \"0 9 * * workday\", run = function()\n"
     "    local since = park.calendar.add_working_days(os.date(\"%Y-%m-%d\"), -1)\n"
     "    local row = db.first(\"SELECT count(*) AS n\"\n"
     "      .. \" FROM @name@_entries WHERE added >= ?\", since)\n"
     "    park.log.info((\"digest: %d notices added since %s\"):format(row.n, since))\n"
     "    NOTICE:prune()\n"
     "  end },\n"
     "}\n"
     "\n"
     "return plugin\n"},
    {"sql/001_@name@.sql",
     "-- @name@'s tables. Applied once, when the plugin first loads; never edit it\n"
     "-- after that: put a change in the next file (002_....sql).\n"
     "\n"
     "-- The notices, each in the column it was added to (one plugin may serve\n"
     "-- several columns).\n"
     "CREATE TABLE @name@_entries (\n"
     "  id INTEGER PRIMARY KEY,\n"
     "  column_path TEXT NOT NULL,\n"
     "  title TEXT NOT NULL,\n"
     "  day TEXT NOT NULL,            -- 发布日期, \"2026-10-09\": the list's order\n"
     "  body TEXT NOT NULL DEFAULT '',\n"
     "  author TEXT NOT NULL,         -- the login of the staff member who added it\n"
     "  added TEXT NOT NULL           -- when, \"2026-10-09 15:30:00\" in the site's time\n"
     ");\n"
     "-- The list's order (park.page reads it through this index, however deep the page).\n"
     "CREATE INDEX @name@_entries_list ON @name@_entries (column_path, day DESC, id DESC);\n"
     "\n"
     "-- park.form's nonces (form.new{ nonce = \"@name@_nonces\" }): each form shown\n"
     "-- is written once, however often it is sent.\n"
     "CREATE TABLE @name@_nonces (\n"
     "  nonce TEXT PRIMARY KEY,\n"
     "  ref,                          -- what its first post made: the notice's id\n"
     "  at INTEGER NOT NULL           -- when, for NOTICE:prune()\n"
     ") WITHOUT ROWID;\n"},
    {"templates/index.html", "<% layout(\"park/site.html\") -%>\n"
                             "<h1><%= title %></h1>\n"
                             "<% if staff then %><p><a href=\"<%= base %>/new\">添加通知</a></p>\n"
                             "<% end -%>\n"
                             "<% if #pager.rows == 0 then -%>\n"
                             "<p>暂无通知。</p>\n"
                             "<% else -%>\n"
                             "<ul class=\"notices\">\n"
                             "<% for _, n in ipairs(pager.rows) do -%>\n"
                             "  <li><a href=\"<%= base %>/<%= n.id %>\"><%= n.title %></a> <time "
                             "datetime=\"<%= n.day %>\"><%= n.day %></time></li>\n"
                             "<% end -%>\n"
                             "</ul>\n"
                             "<% end -%>\n"
                             "<%# 上一页 and 下一页 links, when there is more than one page. -%>\n"
                             "<%- include(\"park/pager.html\", { pager = pager }) %>\n"},
    {"templates/show.html", "<% layout(\"park/site.html\") -%>\n"
                            "<article class=\"notice\">\n"
                            "  <h1><%= entry.title %></h1>\n"
                            "  <p class=\"meta\">发布日期：<time datetime=\"<%= entry.day %>\"><%= "
                            "entry.day %></time></p>\n"
                            "  <div class=\"body\"><%= entry.body %></div>\n"
                            "</article>\n"
                            "<p><a href=\"<%= base %>/\">返回列表</a></p>\n"},
    {"templates/new.html",
     "<% layout(\"park/site.html\") -%>\n"
     "<h1>添加通知</h1>\n"
     "<%# The error summary, linked to the fields; nothing when there is none. -%>\n"
     "<%- include(\"park/form_errors.html\", { form = form }) %>\n"
     "<form method=\"post\" action=\"<%= base %>/new\" enctype=\"<%= form.enctype %>\" "
     "class=\"form\" novalidate>\n"
     "<%- form.hidden %>\n"
     "<% for _, f in ipairs(form.fields) do -%>\n"
     "<%- include(\"park/field.html\", { field = f }) -%>\n"
     "<% end -%>\n"
     "  <p><button type=\"submit\">发布</button></p>\n"
     "</form>\n"},
    {"templates/message.html", "<% layout(\"park/site.html\") -%>\n"
                               "<h1><%= title %></h1>\n"
                               "<p><%= message %></p>\n"},
    {"static/style.css", "/* @name@'s own styles, after the site's (/static/park/site.css). */\n"
                         ".notices time { color: #555; margin-left: .5em; }\n"
                         ".notice .meta { color: #555; }\n"
                         ".notice .body { white-space: pre-line; }\n"},
    {"spec/@name@_spec.lua",
     "-- Specs of @name@: each starts a real server on 127.0.0.1\n"
     "-- with a fresh database and the plugin bound to a column (COL), and talks\n"
     "-- to it over HTTP as a browser that keeps its cookies does.\n"
     "-- Run them with: build/parkhost test @dir@/@name@/spec\n"
     "local testing = require(\"park.testing\")\n"
     "\n"
     "local COL = \"/@name@\" -- the column the specs bind the plugin to\n"
     "\n"
     "-- The titles a page of the list shows, in order.\n"
     "local function titles(page)\n"
     "  local out = {}\n"
     "  for t in page:match('<ul class=\"notices\">(.-)</ul>'):gmatch('<a "
     "href=\"[^\"]*\">([^<]*)</a>') do\n"
     "    out[#out + 1] = t\n"
     "  end\n"
     "  return out\n"
     "end\n"
     "\n"
     "describe(\"@name@: the notice board\", function()\n"
     "  local site, staff\n"
     "\n"
     "  setup(function()\n"
     "    site = testing.start_site({\n"
     "      plugins = { \"@dir@\" },\n"
     "      bindings = { { column = COL, plugin = \"@name@\",\n"
     "                     config = { title = \"园区公告\" } } },\n"
     "    })\n"
     "    site:add_user(\"editor\", \"center\", \"editor\", \"编辑\", \"correct horse battery\")\n"
     "    staff = site:browser():login(\"editor\", \"correct horse battery\")\n"
     "  end)\n"
     "\n"
     "  teardown(function()\n"
     "    assert.are.equal(0, site:stop())\n"
     "  end)\n"
     "\n"
     "  it(\"shows the list under the column's title, empty at first\", function()\n"
     "    local res = site:request(\"GET\", COL)\n"
     "    assert.are.equal(200, res.status)\n"
     "    assert.matches(\"<h1>园区公告</h1>\", res.body, 1, true)\n"
     "    assert.matches(\"暂无通知\", res.body, 1, true)\n"
     "  end)\n"
     "\n"
     "  it(\"lets only staff add notices\", function()\n"
     "    local resident = site:browser()\n"
     "    local res = resident:get(COL .. \"/new\")\n"
     "    assert.are.equal(303, res.status) -- to the login page, and back after it\n"
     "    assert.matches(\"^/admin/login\", res.headers.location)\n"
     "  end)\n"
     "\n"
     "  it(\"refuses a notice without a title, with the message at the field\", function()\n"
     "    staff:get(COL .. \"/new\")\n"
     "    local res = staff:post(COL .. \"/new\", { title = \"\", body = \"正文\" })\n"
     "    assert.are.equal(422, res.status)\n"
     "    assert.matches('<p class=\"q-error\" id=\"f-title-error\">标题：请填写</p>', res.body, "
     "1, true)\n"
     "    assert.matches('aria-invalid=\"true\"', res.body, 1, true)\n"
     "    assert.matches(\">正文</textarea>\", res.body, 1, true) -- what was typed is kept\n"
     "  end)\n"
     "\n"
     "  it(\"adds a notice, shows it and lists it\", function()\n"
     "    local form = staff:get(COL .. \"/new\").body\n"
     "    local nonce = form:match('name=\"_nonce\" value=\"([^\"]+)\"')\n"
     "    local fields = { title = \"元旦假期办公安排\", day = \"2026-12-30\", body = "
     "\"1月1日休息。\",\n"
     "                     _nonce = nonce }\n"
     "    local res = staff:post(COL .. \"/new\", fields)\n"
     "    assert.are.equal(303, res.status)\n"
     "    local notice = site:request(\"GET\", res.headers.location)\n"
     "    assert.are.equal(200, notice.status)\n"
     "    assert.matches(\"1月1日休息。\", notice.body, 1, true)\n"
     "    -- The same form sent again (a double click) adds nothing.\n"
     "    assert.are.equal(res.headers.location, staff:post(COL .. \"/new\", "
     "fields).headers.location)\n"
     "    local list = site:request(\"GET\", COL).body\n"
     "    assert.matches(\"元旦假期办公安排</a>\", list, 1, true)\n"
     "    assert.are.equal(404, site:request(\"GET\", COL .. \"/999\").status)\n"
     "  end)\n"
     "\n"
     "  it(\"pages through the list, 20 a page\", function()\n"
     "    -- 25 more through the form (a post without a _nonce counts as a new form).\n"
     "    for i = 1, 25 do\n"
     "      local res = staff:post(COL .. \"/new\", { title = (\"通知%02d\"):format(i), day = "
     "\"2026-11-01\" })\n"
     "      assert.are.equal(303, res.status)\n"
     "    end\n"
     "    local first = site:request(\"GET\", COL).body\n"
     "    assert.are.equal(20, #titles(first))\n"
     "    assert.are.equal(\"元旦假期办公安排\", titles(first)[1]) -- the newest day first\n"
     "    -- The next page's link (park/pager.html) carries where the page starts.\n"
     "    local next_page = first:match('<a href=\"([^\"]+)\" rel=\"next\">下一页</a>')\n"
     "    local second = site:request(\"GET\", (next_page:gsub(\"&amp;\", \"&\"))).body\n"
     "    assert.are.same({ \"通知06\", \"通知05\", \"通知04\", \"通知03\", \"通知02\", \"通知01\" "
     "},\n"
     "                    titles(second))\n"
     "    assert.matches('rel=\"prev\">上一页</a>', second, 1, true)\n"
     "  end)\n"
     "\n"
     "  it(\"declares its working-day job\", function()\n"
     "    local out, ok = site:command(\"jobs\")\n"
     "    assert.is_true(ok, out)\n"
     "    assert.matches(\"digest\", out, 1, true)\n"
     "    assert.matches(\"0 9 * * workday\", out, 1, true)\n"
     "  end)\n"
     "end)\n"
     "\n"
     "describe(\"@name@: the digest job\", function()\n"
     "  -- The park's clock is moved with --clock-offset-s. 2026-09-30 08:59:57 in\n"
     "  -- Beijing is 1790729997 (date -d '2026-09-30 08:59:57 +0800' +%s): a\n"
     "  -- Wednesday, three seconds before the job's time.\n"
     "  local WEDNESDAY = 1790729997\n"
     "  local DAY = 86400\n"
     "\n"
     "  it(\"runs at 09:00 on a working day, not on a holiday\", function()\n"
     "    local site = testing.start_site({\n"
     "      plugins = { \"@dir@\" },\n"
     "      bindings = { { column = COL, plugin = \"@name@\" } },\n"
     "      args = { \"--clock-offset-s\", tostring(WEDNESDAY - os.time()) },\n"
     "    })\n"
     "    finally(function() site:stop() end)\n"
     "    site:wait_log(\"digest: 0 notices added since 2026-09-29\", 10)\n"
     "    -- Thursday 2026-10-01 is 国庆节: the job is not run that day.\n"
     "    assert.is_true(select(2, site:command(\"calendar\", \"set\", \"2026-10-01\", "
     "\"holiday\", \"国庆节\")))\n"
     "    assert.are.equal(0, site:halt())\n"
     "    site:restart({ \"--clock-offset-s\", tostring(WEDNESDAY + DAY - os.time()) })\n"
     "    site:wait_log(\"job digest not run: the day it was due is not a working day\", 10)\n"
     "  end)\n"
     "end)\n"},
};

/* Write `text` with @name@ and @dir@ replaced. */
static int new__write(const char *path, const char *text, const char *name, const char *dir)
{
    FILE *f = fopen(path, "wx");
    if (!f) return -1;
    for (const char *s = text; *s;) {
        if (!strncmp(s, "@name@", 6)) {
            fputs(name, f);
            s += 6;
        } else if (!strncmp(s, "@dir@", 5)) {
            fputs(dir, f);
            s += 5;
        } else {
            fputc(*s++, f);
        }
    }
    return fclose(f);
}

int app_new_plugin(const char *name, const char *dir)
{
    bool ok = name[0] >= 'a' && name[0] <= 'z' && strlen(name) <= 40;
    for (const char *c = name; *c && ok; c++)
        ok = (*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '_';
    if (!ok) {
        fprintf(stderr,
                "parkhost new plugin: '%s' is not a plugin name: use lower-case letters, digits "
                "and _, starting with a letter (at most 40)\n",
                name);
        return 2;
    }
    char root[4096], path[4096 + 300];
    snprintf(root, sizeof root, "%s/%s", dir, name);
    mkdir(dir, 0755); /* the plugin directory itself may be new */
    if (mkdir(root, 0755) != 0) {
        fprintf(stderr, "parkhost new plugin: cannot create %s: %s\n", root,
                errno == EEXIST ? "it exists already" : strerror(errno));
        return 1;
    }
    static const char *const dirs[] = {"templates", "static", "spec", "sql"};
    for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", root, dirs[i]);
        mkdir(path, 0755);
    }
    for (size_t i = 0; i < sizeof new__files / sizeof new__files[0]; i++) {
        char rel[256];
        const char *p = new__files[i].path;
        const char *at = strstr(p, "@name@");
        if (at)
            snprintf(rel, sizeof rel, "%.*s%s%s", (int)(at - p), p, name, at + 6);
        else
            snprintf(rel, sizeof rel, "%s", p);
        snprintf(path, sizeof path, "%s/%s", root, rel);
        if (new__write(path, new__files[i].text, name, dir) != 0) {
            fprintf(stderr, "parkhost new plugin: cannot write %s: %s\n", path, strerror(errno));
            return 1;
        }
        printf("created %s\n", path);
    }
    printf("\nNext:\n"
           "  1. run its spec:   build/parkhost test %s/spec\n"
           "  2. bind it to a column: ./scripts/run, log in to the console (/admin/),\n"
           "     栏目 -> 绑定插件 -> %s (or add plugin = \"%s\" to a column of demo/site.lua)\n"
           "  3. read the README's \"A plugin in five minutes\": what each file does\n",
           root, name, name);
    return 0;
}
