#include "app/app.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* The files of a new plugin; "@name@" stands for the plugin's name. */
static const struct {
    const char *path;
    const char *text;
} new__files[] = {
    {"plugin.lua",
     "-- @name@: describe here what the plugin serves and for which unit.\n"
     "local park = require(\"park\")\n"
     "\n"
     "local plugin = {\n"
     "  name = \"@name@\",\n"
     "  version = \"0.1.0\",\n"
     "  description = \"A new column of the park's site\",\n"
     "  -- Each field of a column's config: checked when the column is bound.\n"
     "  config = {\n"
     "    title = { type = \"string\", default = \"新栏目\", max_length = 40,\n"
     "              description = \"the column's title, shown as the page heading\" },\n"
     "  },\n"
     "}\n"
     "\n"
     "local function index(req)\n"
     "  return park.render(\"index.html\", { title = req.config.title })\n"
     "end\n"
     "\n"
     "-- Routes are relative to the column the plugin is bound to.\n"
     "plugin.routes = {\n"
     "  { \"GET\", \"/\", index },\n"
     "}\n"
     "\n"
     "return plugin\n"},
    {"templates/index.html",
     "<!DOCTYPE html>\n"
     "<html lang=\"zh-CN\">\n"
     "<head>\n"
     "<meta charset=\"utf-8\">\n"
     "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
     "<title><%= title %></title>\n"
     "<link rel=\"stylesheet\" href=\"/static/@name@/style.css\">\n"
     "</head>\n"
     "<body>\n"
     "<main>\n"
     "<h1><%= title %></h1>\n"
     "<p>本栏目正在建设中。</p>\n"
     "</main>\n"
     "</body>\n"
     "</html>\n"},
    {"static/style.css",
     "body { font-family: sans-serif; margin: 1rem auto; max-width: 48rem; }\n"},
    {"spec/@name@_spec.lua", "local testing = require(\"park.testing\")\n"
                             "\n"
                             "describe(\"@name@: the column's page\", function()\n"
                             "  local site\n"
                             "\n"
                             "  setup(function()\n"
                             "    site = testing.start_site({\n"
                             "      plugins = { \"@dir@\" },\n"
                             "      bindings = { { column = \"/@name@\", plugin = \"@name@\", "
                             "config = { title = \"测试栏目\" } } },\n"
                             "    })\n"
                             "  end)\n"
                             "\n"
                             "  teardown(function()\n"
                             "    assert.are.equal(0, site:stop())\n"
                             "  end)\n"
                             "\n"
                             "  it(\"shows the column's title as its heading\", function()\n"
                             "    local res = site:request(\"GET\", \"/@name@\")\n"
                             "    assert.are.equal(200, res.status)\n"
                             "    assert.matches(\"<h1>测试栏目</h1>\", res.body, 1, true)\n"
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
           "  2. bind it to a column: ./scripts/run, log in to http://127.0.0.1:8080/admin/,\n"
           "     栏目 -> 绑定插件 -> %s (or add plugin = \"%s\" to a column of demo/site.lua)\n",
           root, name, name);
    return 0;
}
