/* `parkhost site import FILE | export [FILE]`: the site model as a
 * declarative file (lualib/park/sitefile.lua reads and writes its text).
 *
 * Import adds or changes the site's settings, units, columns and bindings,
 * in one transaction,
 * each change through core/site with its audit entry, each config checked
 * against its plugin's schema by the same code as the admin console (the
 * plugins are loaded for that). Nothing is deleted: a column missing from
 * the file stays. Export writes every unit, column and binding; accounts
 * and secrets never leave the database this way. */
#include "app/app.h"
#include "auth/auth.h"
#include "base/base.h"
#include "log/log.h"
#include "lua/host.h"
#include "site/site.h"
#include "store/store.h"

#include <lauxlib.h>
#include <lualib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int site__usage(void)
{
    fprintf(stderr,
            "usage: parkhost site import FILE [settings]\n"
            "       parkhost site seed FILE [settings]     (import into a site without columns)\n"
            "       parkhost site export [FILE] [settings]   (standard output without FILE)\n");
    return 2;
}

/* A trusted Lua state with park.sitefile on top of its stack; NULL and a
 * message when it cannot be made. */
static lua_State *site__lua(const ph_conf *c)
{
    lua_State *L = luaL_newstate();
    if (!L) return NULL;
    luaL_openlibs(L);
    lua_getglobal(L, "package");
    lua_pushfstring(L, "%s/?.lua", c->lualib);
    lua_setfield(L, -2, "path");
    lua_pop(L, 1);
    lua_getglobal(L, "require");
    lua_pushliteral(L, "park.sitefile");
    if (lua_pcall(L, 1, 1, 0) != LUA_OK) {
        fprintf(stderr, "parkhost site: %s\n", lua_tostring(L, -1));
        lua_close(L);
        return NULL;
    }
    return L;
}

static const char *site__str(lua_State *L, int t, const char *k)
{
    lua_getfield(L, t, k);
    const char *v = lua_tostring(L, -1);
    lua_pop(L, 1);
    return v;
}

static int64_t site__int(lua_State *L, int t, const char *k, int64_t none)
{
    lua_getfield(L, t, k);
    int64_t v = lua_isnil(L, -1) ? none : (int64_t)lua_tointeger(L, -1);
    lua_pop(L, 1);
    return v;
}

/* Import the checked site table at index `site` of L. Returns 0, or an
 * error with the reason (naming the entry) in why. */
static int site__import(lua_State *L, int site, store *s, lua_host *h, const site_actor *a,
                        int counts[3], char *why, size_t whylen)
{
    char msg[512];
    const char *w;
    lua_getfield(L, site, "units");
    int units = lua_gettop(L);
    for (lua_Integer i = 1; lua_istable(L, units) && lua_geti(L, units, i) == LUA_TTABLE; i++) {
        const char *code = site__str(L, -1, "code");
        if (site_unit_put(s, a, code, site__str(L, -1, "name"), &w)) {
            snprintf(why, whylen, "units[%lld] (%s): %s", (long long)i, code, w);
            return PH_EINVAL;
        }
        counts[0]++;
        lua_pop(L, 1);
    }
    lua_settop(L, site);
    /* The settings in the site's own key order: an error names the first. */
    lua_getfield(L, site, "settings");
    int settings = lua_gettop(L);
    for (lua_pushnil(L); lua_istable(L, settings) && lua_next(L, settings); lua_pop(L, 1))
        if (!site_setting_label(lua_tostring(L, -2))) {
            snprintf(why, whylen,
                     "settings.%s: 没有这项网站设置（可用：name、domain、id_code、"
                     "organizer、icp、police、address、phone、email、badge_url、errata_url）",
                     lua_tostring(L, -2));
            return PH_EINVAL;
        }
    for (int i = 0; lua_istable(L, settings) && site_setting_keys[i]; i++) {
        const char *value = site__str(L, settings, site_setting_keys[i]);
        if (value && site_setting_put(s, a, site_setting_keys[i], value, &w)) {
            snprintf(why, whylen, "settings.%s: %s", site_setting_keys[i], w);
            return PH_EINVAL;
        }
    }
    lua_settop(L, site);
    lua_getfield(L, site, "columns");
    int cols = lua_gettop(L);
    for (lua_Integer i = 1; lua_istable(L, cols) && lua_geti(L, cols, i) == LUA_TTABLE; i++) {
        int e = lua_gettop(L);
        site_column c = {
            .path = site__str(L, e, "path"),
            .title = site__str(L, e, "title"),
            .kind = site__str(L, e, "kind"),
            .unit = site__str(L, e, "unit"),
            .parent = site__str(L, e, "parent"),
            .position = site__int(L, e, "position", -1),
            .max_stale_days = site__int(L, e, "max_stale_days", 0),
        };
        int rc = site_column_put(s, a, &c, msg, sizeof msg);
        const char *plugin = site__str(L, e, "plugin");
        char *json = NULL;
        if (!rc && plugin) {
            lua_getfield(L, e, "config");
            if (lua_isnil(L, -1)) {
                lua_pop(L, 1);
                lua_newtable(L);
            }
            rc = lua_host_check_config(h, plugin, L, -1, &json, msg, sizeof msg);
            lua_pop(L, 1);
            lua_getfield(L, e, "enabled");
            bool enabled = lua_isnil(L, -1) || lua_toboolean(L, -1);
            lua_pop(L, 1);
            if (!rc && (rc = site_bind(s, a, c.path, plugin, enabled, json, &w)))
                snprintf(msg, sizeof msg, "%s", w);
            if (!rc) counts[2]++;
        } else if (!rc && (rc = site_unbind(s, a, c.path, &w))) {
            snprintf(msg, sizeof msg, "%s", w);
        }
        free(json);
        if (rc) {
            snprintf(why, whylen, "columns[%lld] (%s): %s", (long long)i, c.path ? c.path : "?",
                     msg);
            return rc;
        }
        counts[1]++;
        lua_settop(L, cols);
    }
    lua_settop(L, site);
    return 0;
}

static int site__import_cmd(const ph_conf *c, const char *file, store *s)
{
    lua_State *L = site__lua(c);
    if (!L) return 1;
    int status = 0;
    lua_getfield(L, -1, "load");
    lua_pushstring(L, file);
    lua_call(L, 1, 2);
    if (lua_isnil(L, -2)) {
        fprintf(stderr, "parkhost site import: %s\n", lua_tostring(L, -1));
        lua_close(L);
        return 2;
    }
    lua_pop(L, 1);
    int site = lua_gettop(L);
    lua_getfield(L, site - 1, "check");
    lua_pushvalue(L, site);
    lua_call(L, 1, 2);
    if (lua_isnil(L, -2)) {
        fprintf(stderr, "parkhost site import %s: %s\n", file, lua_tostring(L, -1));
        lua_close(L);
        return 2;
    }
    lua_settop(L, site);
    /* The plugins, to check each config against its schema (without the
     * database: their migrations and schedules are the server's to apply). */
    uv_loop_t loop;
    lua_host *h = NULL;
    uv_loop_init(&loop);
    if (lua_host_new(&h, &loop, c, NULL)) {
        fprintf(stderr, "parkhost site import: the plugins cannot be loaded\n");
        status = 1;
    } else {
        char actor[128], why[1024];
        app_cli_actor(actor, sizeof actor);
        site_actor a = {actor, 0, "", (int64_t)time(NULL)};
        int counts[3] = {0, 0, 0};
        sqlite3 *db = store_db(s);
        int rc = sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) == SQLITE_OK
                     ? site__import(L, site, s, h, &a, counts, why, sizeof why)
                     : (snprintf(why, sizeof why, "%s", sqlite3_errmsg(db)), PH_EDB);
        if (!rc && sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
            snprintf(why, sizeof why, "%s", sqlite3_errmsg(db));
            rc = PH_EDB;
        }
        log_flush();
        if (rc) {
            sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
            fprintf(stderr, "parkhost site import %s: %s; nothing was imported\n", file, why);
            status = rc == PH_EDB ? 1 : 2;
        } else {
            printf("parkhost site import %s: %d unit(s), %d column(s), %d binding(s)\n"
                   "a running server serves them within site-poll-ms (%lld ms)\n",
                   file, counts[0], counts[1], counts[2], (long long)c->site_poll_ms);
        }
        lua_host_stop(h);
    }
    uv_run(&loop, UV_RUN_DEFAULT);
    lua_host_free(h);
    uv_loop_close(&loop);
    lua_close(L);
    return status;
}

static void site__column_row(void *ud, const site_column *c)
{
    lua_State *L = ud;
    lua_createtable(L, 0, 10);
    const char *str[][2] = {{"path", c->path}, {"title", c->title},   {"kind", c->kind},
                            {"unit", c->unit}, {"parent", c->parent}, {"plugin", c->plugin}};
    for (size_t i = 0; i < sizeof str / sizeof str[0]; i++) {
        if (!str[i][1]) continue;
        lua_pushstring(L, str[i][1]);
        lua_setfield(L, -2, str[i][0]);
    }
    if (c->max_stale_days) {
        lua_pushinteger(L, c->max_stale_days);
        lua_setfield(L, -2, "max_stale_days");
    }
    if (c->plugin) {
        lua_pushboolean(L, c->enabled);
        lua_setfield(L, -2, "enabled");
        /* The config as saved, JSON, decoded by cjson; none when empty. */
        lua_getglobal(L, "require");
        lua_pushliteral(L, "cjson");
        if (lua_pcall(L, 1, 1, 0) == LUA_OK) {
            lua_getfield(L, -1, "decode");
            lua_pushstring(L, c->config ? c->config : "{}");
            if (lua_pcall(L, 1, 1, 0) == LUA_OK && lua_istable(L, -1)) {
                lua_pushnil(L);
                if (lua_next(L, -2)) {
                    lua_pop(L, 2);
                    lua_setfield(L, -3, "config");
                } else {
                    lua_pop(L, 1);
                }
            } else {
                lua_pop(L, 1);
            }
        }
        lua_pop(L, 1);
    }
    lua_rawseti(L, -2, (lua_Integer)lua_rawlen(L, -2) + 1);
}

static void site__unit_row(void *ud, const char *code, const char *name, bool center)
{
    lua_State *L = ud;
    if (center) return; /* every database has it */
    lua_createtable(L, 0, 2);
    lua_pushstring(L, code);
    lua_setfield(L, -2, "code");
    lua_pushstring(L, name);
    lua_setfield(L, -2, "name");
    lua_rawseti(L, -2, (lua_Integer)lua_rawlen(L, -2) + 1);
}

static void site__setting_row(void *ud, const char *key, const char *value)
{
    lua_State *L = ud;
    lua_pushstring(L, value);
    lua_setfield(L, -2, key);
}

static int site__export_cmd(const ph_conf *c, const char *file, store *s)
{
    lua_State *L = site__lua(c);
    if (!L) return 1;
    int mod = lua_gettop(L);
    lua_getfield(L, mod, "render");
    lua_createtable(L, 0, 2);
    lua_newtable(L);
    int rc = auth_each_unit(s, site__unit_row, L);
    lua_setfield(L, -2, "units");
    lua_newtable(L);
    if (!rc) rc = site_each_column(s, site__column_row, L);
    lua_setfield(L, -2, "columns");
    lua_newtable(L);
    if (!rc) rc = site_each_setting(s, site__setting_row, L);
    lua_setfield(L, -2, "settings");
    if (rc) {
        fprintf(stderr, "parkhost site export: the site cannot be read: %s\n",
                sqlite3_errmsg(store_db(s)));
        lua_close(L);
        return 1;
    }
    if (lua_pcall(L, 1, 1, 0) != LUA_OK) {
        fprintf(stderr, "parkhost site export: %s\n", lua_tostring(L, -1));
        lua_close(L);
        return 1;
    }
    size_t n;
    const char *text = lua_tolstring(L, -1, &n);
    FILE *out = file ? fopen(file, "w") : stdout;
    int status = 0;
    if (!out || fwrite(text, 1, n, out) != n || (file && fclose(out) != 0)) {
        fprintf(stderr, "parkhost site export: cannot write %s\n", file ? file : "the output");
        status = 1;
    } else if (file) {
        printf("parkhost site export: %s written\n", file);
    }
    lua_close(L);
    return status;
}

static void site__count(void *ud, const site_column *c)
{
    (void)c;
    (*(int *)ud)++;
}

static bool site__has_columns(store *s)
{
    int n = 0;
    return site_each_column(s, site__count, &n) != 0 || n > 0;
}

int app_site(int argc, char **argv)
{
    int npos = 0;
    while (npos < argc && strncmp(argv[npos], "--", 2) != 0)
        npos++;
    bool seed = npos == 2 && !strcmp(argv[0], "seed");
    bool import = seed || (npos == 2 && !strcmp(argv[0], "import"));
    bool export = (npos == 1 || npos == 2) && !strcmp(argv[0], "export");
    if (!import && !export) return site__usage();
    ph_conf c;
    char err[1024];
    if (conf_load(&c, argc - npos, argv + npos, err, sizeof err)) {
        fprintf(stderr, "parkhost site: %s\n", err);
        conf_free(&c);
        return 2;
    }
    log_init(LOG_WARN); /* the plugins' load lines are noise here; problems are not */
    store *s = NULL;
    int status;
    if (store_open(&s, c.db, err, sizeof err) ||
        store_migrate(s, "core", c.sql_dir, NULL, NULL, err, sizeof err)) {
        fprintf(stderr, "parkhost site: %s\n", err);
        status = 1;
    } else if (seed && site__has_columns(s)) {
        printf("parkhost site seed: the site has its columns already; %s was not imported\n",
               argv[1]);
        status = 0;
    } else {
        status = import ? site__import_cmd(&c, argv[1], s)
                        : site__export_cmd(&c, npos == 2 ? argv[1] : NULL, s);
    }
    log_flush();
    store_close(s);
    conf_free(&c);
    return status;
}
