/* Plugins, bindings, routing and the life of a request's coroutine; the
 * accessors of runtime.h. */
#include "items/items.h"
#include "log/log.h"
#include "lua/internal.h"
#include "park/park.h"
#include "site/site.h"
#include "store/store.h"
#include "workers/workers.h"

#include <dirent.h>
#include <errno.h>
#include <lualib.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

enum {
    HOST__MAX_RESPONSE_HEADERS = 64,
    HOST__LOAD_BUDGET = 100000000, /* instructions for loading a plugin */
    HOST__COPY_DEPTH = 16,
    HOST__POOL_IDLE = 64,  /* idle coroutines kept per plugin */
    HOST__SPARE_REQS = 64, /* finished host_reqs kept for reuse */
};

/* ---- plugins ------------------------------------------------------------ */

static void host__unwake(host_req *r);
static void host__req_quiet(host_req *r);

static void host__route_free(host_route *rt)
{
    for (size_t i = 0; i < rt->nsegs; i++)
        free(rt->segs[i]);
    free(rt->segs);
    free(rt->method);
    free(rt->pattern);
}

static void host__plugin_unref(host_plugin *p)
{
    if (!p || --p->refs > 0) return;
    park_db_free(p);
    if (p->L) lua_close(p->L);
    lua__jobs_free(p);
    free(p->idle);
    free(p->empty);
    for (size_t i = 0; i < p->nroutes; i++)
        host__route_free(&p->routes[i]);
    free(p->routes);
    free(p->name);
    free(p->version);
    free(p->description);
    free(p->dir);
    free(p->file);
    free(p);
}

/* Split a route pattern into segments; NULL on a bad pattern. */
static int host__compile_pattern(host_route *rt, const char *pat, char *why, size_t whylen)
{
    if (pat[0] != '/') {
        snprintf(why, whylen, "pattern '%s' must start with /", pat);
        return PH_EINVAL;
    }
    const char *s = pat + 1;
    while (*s) {
        const char *e = strchr(s, '/');
        size_t n = e ? (size_t)(e - s) : strlen(s);
        if (n == 0) {
            snprintf(why, whylen, "pattern '%s' has an empty segment", pat);
            return PH_EINVAL;
        }
        if ((s[0] == ':' || s[0] == '*') && n == 1) {
            snprintf(why, whylen, "pattern '%s': a parameter needs a name", pat);
            return PH_EINVAL;
        }
        if (s[0] == '*' && e && e[1]) {
            snprintf(why, whylen, "pattern '%s': *%.*s must be the last segment", pat, (int)n - 1,
                     s + 1);
            return PH_EINVAL;
        }
        char **ns = realloc(rt->segs, (rt->nsegs + 1) * sizeof *ns);
        if (!ns) return PH_ENOMEM;
        rt->segs = ns;
        if (!(rt->segs[rt->nsegs] = strndup(s, n))) return PH_ENOMEM;
        rt->nsegs++;
        if (rt->nsegs > HOST_MAX_PARAMS) {
            snprintf(why, whylen, "pattern '%s' has more than %d segments", pat, HOST_MAX_PARAMS);
            return PH_EINVAL;
        }
        s += n;
        if (*s == '/') s++;
    }
    return 0;
}

/* Read manifest.routes (the manifest is on top of L). */
static int host__read_routes(host_plugin *p, char *why, size_t whylen)
{
    lua_State *L = p->L;
    if (lua_getfield(L, -1, "routes") != LUA_TTABLE) {
        snprintf(why, whylen, "manifest field 'routes' must be a table");
        lua_pop(L, 1);
        return PH_EINVAL;
    }
    lua_Integer n = luaL_len(L, -1);
    p->routes = calloc((size_t)n + 1, sizeof *p->routes);
    if (!p->routes) return PH_ENOMEM;
    int rc = 0;
    for (lua_Integer i = 1; i <= n && !rc; i++) {
        lua_geti(L, -1, i);
        if (!lua_istable(L, -1) || lua_geti(L, -1, 1) != LUA_TSTRING ||
            lua_geti(L, -2, 2) != LUA_TSTRING || lua_geti(L, -3, 3) != LUA_TFUNCTION) {
            snprintf(why, whylen, "routes[%lld] must be { METHOD, \"/pattern\", handler }",
                     (long long)i);
            rc = PH_EINVAL;
            break;
        }
        host_route *rt = &p->routes[p->nroutes];
        rt->handler_ref = LUA_NOREF;
        const char *method = lua_tostring(L, -3);
        for (const char *c = method; *c; c++)
            if (!((*c >= 'A' && *c <= 'Z') || *c == '*')) {
                snprintf(why, whylen, "routes[%lld]: method '%s' must be upper case, or *",
                         (long long)i, method);
                rc = PH_EINVAL;
            }
        if (!rc && !(rt->method = strdup(method))) rc = PH_ENOMEM;
        if (!rc && !(rt->pattern = strdup(lua_tostring(L, -2)))) rc = PH_ENOMEM;
        if (!rc) rc = host__compile_pattern(rt, rt->pattern, why, whylen);
        if (!rc) {
            for (size_t k = 0; k < p->nroutes; k++)
                if (!strcmp(p->routes[k].method, rt->method) &&
                    !strcmp(p->routes[k].pattern, rt->pattern)) {
                    snprintf(why, whylen, "routes[%lld]: %s %s is listed twice", (long long)i,
                             rt->method, rt->pattern);
                    rc = PH_EINVAL;
                }
        }
        p->nroutes++; /* counted even when half-built, so it is freed */
        if (rc) break;
        /* How many of (req, res) the handler takes: the objects it does not
         * declare are never made. */
        lua_Debug ar;
        lua_pushvalue(L, -1);
        lua_getinfo(L, ">u", &ar);
        rt->nargs = ar.isvararg || ar.nparams > 2 ? 2 : ar.nparams;
        rt->csrf_exempt = lua_getfield(L, -4, "csrf") == LUA_TBOOLEAN && !lua_toboolean(L, -1);
        lua_pop(L, 1);
        rt->handler_ref = luaL_ref(L, LUA_REGISTRYINDEX);
        lua_pop(L, 3);
    }
    lua_settop(L, 0);
    return rc;
}

static int host__load_main_cf(lua_State *L)
{
    host_plugin *p = lua_touserdata(L, 1);
    int rc = lua__load_beneath(L, p->dir, "plugin.lua");
    if (rc) lua_pushinteger(L, rc);
    return 1;
}

/* Push the plugin's plugin.lua as a function: 0; a negative errno when it
 * cannot be read (nothing pushed); 1 with the syntax error pushed. */
static int host__load_main(host_plugin *p)
{
    lua_State *L = p->L;
    lua_pushcfunction(L, host__load_main_cf);
    lua_pushlightuserdata(L, p);
    if (lua_pcall(L, 1, 1, 0) != LUA_OK) return 1;
    if (lua_isinteger(L, -1)) {
        int rc = (int)lua_tointeger(L, -1);
        lua_pop(L, 1);
        return rc;
    }
    return 0;
}

/* Load one plugin; NULL (and a log line) when it cannot be loaded. */
static host_plugin *host__load_plugin(lua_host *h, const char *dir, const char *folder)
{
    host_plugin *p = calloc(1, sizeof *p);
    if (!p) return NULL;
    p->refs = 1;
    p->host = h;
    p->schema_ref = LUA_NOREF;
    p->mem_cap = (size_t)h->conf->plugin_memory_mb * 1024 * 1024;
    size_t dl = strlen(dir), fl = strlen(folder);
    p->name = strdup(folder);
    p->dir = malloc(dl + fl + 2);
    p->file = malloc(dl + fl + sizeof "/plugin.lua" + 1);
    if (!p->name || !p->dir || !p->file) goto fail;
    snprintf(p->dir, dl + fl + 2, "%s/%s", dir, folder);
    snprintf(p->file, dl + fl + sizeof "/plugin.lua" + 1, "%s/plugin.lua", p->dir);
    char why[512] = "";
    /* A link leading out of the folder would let the plugin serve, render
     * or run what is not its own. */
    if (lua__tree_check(p->dir, why, sizeof why)) {
        log_msg(LOG_ERROR, "plugin %s not loaded: %s", p->name, why);
        goto fail;
    }
    why[0] = 0;
    if (lua__sandbox_open(p, h->conf->lualib)) goto fail;
    lua_State *L = p->L;
    lua_newtable(L);
    p->pool_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    int lrc = host__load_main(p);
    if (lrc) {
        log_msg(LOG_ERROR, "plugin %s not loaded: %s", p->name,
                lrc < 0 ? strerror(-lrc) : lua_tostring(L, -1));
        goto fail;
    }
    lua_rawgeti(L, LUA_REGISTRYINDEX, p->env_ref);
    lua_setupvalue(L, -2, 1);
    if (lua__pcall_budget(p, 0, 1, HOST__LOAD_BUDGET) != LUA_OK) {
        log_msg(LOG_ERROR, "plugin %s not loaded: %s", p->name, lua_tostring(L, -1));
        goto fail;
    }
    if (!lua_istable(L, -1)) {
        snprintf(why, sizeof why, "plugin.lua must return its manifest table, not %s",
                 luaL_typename(L, -1));
    } else if (lua_getfield(L, -1, "name") != LUA_TSTRING ||
               strcmp(lua_tostring(L, -1), p->name) != 0) {
        snprintf(why, sizeof why, "manifest field 'name' must be \"%s\", the folder's name",
                 p->name);
    } else {
        lua_pop(L, 1);
        if (lua_getfield(L, -1, "version") == LUA_TSTRING) p->version = strdup(lua_tostring(L, -1));
        lua_pop(L, 1);
        if (lua_getfield(L, -1, "description") == LUA_TSTRING)
            p->description = strdup(lua_tostring(L, -1));
        lua_pop(L, 1);
        p->csrf_exempt = lua_getfield(L, -1, "csrf") == LUA_TBOOLEAN && !lua_toboolean(L, -1);
        lua_pop(L, 1);
        /* The config schema is checked by park.schema inside the plugin's state. */
        if (lua_getfield(L, -1, "config") != LUA_TNIL) {
            lua_getfield(L, LUA_REGISTRYINDEX, "park.schema");
            lua_getfield(L, -1, "check");
            lua_pushvalue(L, -3);
            if (lua__pcall_budget(p, 1, 2, HOST__LOAD_BUDGET) != LUA_OK) {
                snprintf(why, sizeof why, "config schema: %s", lua_tostring(L, -1));
            } else if (!lua_toboolean(L, -2)) {
                snprintf(why, sizeof why, "config schema: %s", lua_tostring(L, -1));
            }
            lua_pop(L, 3);
            if (!why[0])
                p->schema_ref = luaL_ref(L, LUA_REGISTRYINDEX);
            else
                lua_pop(L, 1);
        } else {
            lua_pop(L, 1);
        }
    }
    if (!why[0]) lua__jobs_read(p, why, sizeof why);
    if (!why[0]) host__read_routes(p, why, sizeof why);
    if (!why[0] && h->db) {
        /* The plugin's tables, in its namespace, before it serves. */
        char sqldir[4200];
        int applied = 0;
        snprintf(sqldir, sizeof sqldir, "%s/sql", p->dir);
        if (store_migrate(h->db, p->name, sqldir, p->name, &applied, why, sizeof why) == 0 &&
            applied)
            log_msg(LOG_INFO, "plugin %s: %d migration(s) applied", p->name, applied);
    }
    if (why[0]) {
        log_msg(LOG_ERROR, "plugin %s not loaded: %s: %s", p->name, p->file, why);
        goto fail;
    }
    lua_settop(L, 0);
    lua__jobs_declare(p);
    lua_gc(L, LUA_GCCOLLECT);
    return p;
fail:
    host__plugin_unref(p);
    return NULL;
}

/* ---- generations and bindings ------------------------------------------ */

static void host__column_free(host_column *c);

static void host__gen_unref(host_gen *g)
{
    if (!g || --g->refs > 0) return;
    for (size_t i = 0; i < g->nbindings; i++) {
        host_binding *b = &g->bindings[i];
        if (b->plugin->L) luaL_unref(b->plugin->L, LUA_REGISTRYINDEX, b->config_ref);
        host__plugin_unref(b->plugin);
        free(b->column);
    }
    for (size_t i = 0; i < g->nplugins; i++)
        host__plugin_unref(g->plugins[i]);
    for (size_t i = 0; i < g->ncols; i++)
        host__column_free(&g->cols[i]);
    free(g->chrome[0]);
    free(g->chrome[1]);
    for (size_t i = 0; i < 2 * g->nsettings; i++)
        free(g->settings[i]);
    free(g->settings);
    free(g->cols);
    free(g->bindings);
    free(g->plugins);
    free(g->index);
    free(g);
}

static host_plugin *host__gen_find(const host_gen *g, const char *name)
{
    for (size_t i = 0; g && i < g->nplugins; i++)
        if (strcmp(g->plugins[i]->name, name) == 0) return g->plugins[i];
    return NULL;
}

static int host__gen_add(host_gen *g, host_plugin *p)
{
    host_plugin **np = realloc(g->plugins, (g->nplugins + 1) * sizeof *np);
    if (!np) return PH_ENOMEM;
    g->plugins = np;
    g->plugins[g->nplugins++] = p;
    return 0;
}

/* A plugin's tables are named <plugin>_*: two plugins whose names make one
 * namespace a prefix of the other ("survey" and "survey_extra"), and the
 * core's own "park", would share tables. Returns why, or NULL. */
static const char *host__namespace_clash(const host_gen *g, const char *name)
{
    static _Thread_local char why[512];
    size_t n = strlen(name);
    if (strncmp(name, "park", 4) == 0 && (name[4] == 0 || name[4] == '_'))
        return "the names park and park_* are the core's (its tables are park_*)";
    for (size_t i = 0; i < g->nplugins; i++) {
        const char *o = g->plugins[i]->name;
        size_t on = strlen(o);
        if ((on < n && !strncmp(name, o, on) && name[on] == '_') ||
            (n < on && !strncmp(o, name, n) && o[n] == '_')) {
            snprintf(why, sizeof why,
                     "its tables (%.100s_*) and those of plugin %.100s (%.100s_*) would overlap: "
                     "rename one",
                     name, o, o);
            return why;
        }
    }
    return NULL;
}

static int host__dirent_cmp(const struct dirent **a, const struct dirent **b)
{
    return strcmp((*a)->d_name, (*b)->d_name);
}

/* Load the admin console, the built-in plugin lualib/admin, into g (first,
 * so that no plugin can take its name). */
static int host__load_console(lua_host *h, host_gen *g, const host_gen *prev)
{
    host_plugin *p = host__load_plugin(h, h->conf->lualib, "admin");
    if (p) {
        p->generation = g->id;
    } else if ((p = host__gen_find(prev, "admin"))) {
        log_msg(LOG_WARN, "the admin console: keeping the version loaded before");
        p->refs++;
    } else {
        log_msg(LOG_ERROR, "the admin console is not loaded: /admin answers 404");
        return 0;
    }
    p->core = true;
    if (host__gen_add(g, p)) {
        host__plugin_unref(p);
        return PH_ENOMEM;
    }
    return 0;
}

/* Load every plugin into g. With `prev`, a plugin that fails to load keeps
 * its previous version. */
static int host__load_plugins(lua_host *h, host_gen *g, const host_gen *prev)
{
    const conf_list *dirs = &h->conf->plugins;
    for (size_t d = 0; d < dirs->n; d++) {
        struct dirent **names;
        int n = scandir(dirs->v[d], &names, NULL, host__dirent_cmp);
        if (n < 0) {
            log_msg(LOG_WARN, "plugin directory %s cannot be read: %s", dirs->v[d],
                    strerror(errno));
            continue;
        }
        int rc = 0;
        for (int i = 0; i < n; i++) {
            const char *folder = names[i]->d_name;
            char path[4096];
            struct stat st;
            snprintf(path, sizeof path, "%s/%s/plugin.lua", dirs->v[d], folder);
            if (rc || folder[0] == '.' || stat(path, &st) != 0) {
                free(names[i]);
                continue;
            }
            const char *clash = host__namespace_clash(g, folder);
            if (clash) {
                log_msg(LOG_ERROR, "plugin %s in %s not loaded: %s", folder, dirs->v[d], clash);
                free(names[i]);
                continue;
            }
            host_plugin *dup = host__gen_find(g, folder);
            if (dup) {
                log_msg(LOG_ERROR,
                        "plugin %s in %s not loaded: a plugin of that name is "
                        "already loaded from %s",
                        folder, dirs->v[d], dup->dir);
                free(names[i]);
                continue;
            }
            host_plugin *p = host__load_plugin(h, dirs->v[d], folder);
            if (p) {
                p->generation = g->id;
                log_msg(LOG_INFO, "plugin %s %s loaded from %s", p->name,
                        p->version ? p->version : "", p->dir);
            } else if ((p = host__gen_find(prev, folder))) {
                log_msg(LOG_WARN, "plugin %s: keeping the version loaded before", folder);
                p->refs++;
            }
            if (p && host__gen_add(g, p)) {
                host__plugin_unref(p);
                rc = PH_ENOMEM;
            }
            free(names[i]);
        }
        free(names);
        if (rc) return rc;
    }
    /* Plugins that vanished from disk stay out; ones that failed and had no
     * previous version are simply absent. */
    return 0;
}

/* Deep-copy the value at `idx` of `from` onto `to` (tables of strings,
 * numbers, booleans). */
static int host__copy_value(lua_State *from, int idx, lua_State *to, int depth, char *why,
                            size_t whylen)
{
    idx = lua_absindex(from, idx);
    switch (lua_type(from, idx)) {
    case LUA_TNIL: lua_pushnil(to); return 0;
    case LUA_TBOOLEAN: lua_pushboolean(to, lua_toboolean(from, idx)); return 0;
    case LUA_TNUMBER:
        if (lua_isinteger(from, idx))
            lua_pushinteger(to, lua_tointeger(from, idx));
        else
            lua_pushnumber(to, lua_tonumber(from, idx));
        return 0;
    case LUA_TSTRING: {
        size_t n;
        const char *s = lua_tolstring(from, idx, &n);
        lua_pushlstring(to, s, n);
        return 0;
    }
    case LUA_TTABLE:
        if (depth > HOST__COPY_DEPTH) {
            snprintf(why, whylen, "config nests deeper than %d tables", HOST__COPY_DEPTH);
            return PH_EINVAL;
        }
        lua_newtable(to);
        lua_pushnil(from);
        while (lua_next(from, idx)) {
            if (host__copy_value(from, -2, to, depth + 1, why, whylen) ||
                host__copy_value(from, -1, to, depth + 1, why, whylen)) {
                lua_pop(from, 2);
                return PH_EINVAL;
            }
            lua_rawset(to, -3);
            lua_pop(from, 1);
        }
        return 0;
    }
    snprintf(why, whylen, "config may hold strings, numbers, booleans and tables, not %s",
             luaL_typename(from, idx));
    return PH_EINVAL;
}

static int host__bindings_cmp(const void *a, const void *b)
{
    const host_binding *x = a, *y = b;
    return x->column_len < y->column_len ? 1 : x->column_len > y->column_len ? -1 : 0;
}

/* Validate the config for binding column→p with park.schema in p's state;
 * the config (a copy, on top of L) is replaced by the validated one. */
static int host__validate_config(host_plugin *p, char *why, size_t whylen)
{
    lua_State *L = p->L;
    if (p->schema_ref == LUA_NOREF) {
        lua_pop(L, 1);
        lua_newtable(L); /* a plugin without a schema gets an empty config */
        return 0;
    }
    int cfg = lua_gettop(L);
    lua_getfield(L, LUA_REGISTRYINDEX, "park.schema");
    lua_getfield(L, -1, "apply");
    lua_rawgeti(L, LUA_REGISTRYINDEX, p->schema_ref);
    lua_pushvalue(L, cfg);
    int st = lua__pcall_budget(p, 2, 2, HOST__LOAD_BUDGET);
    if (st != LUA_OK || lua_isnil(L, -2)) {
        snprintf(why, whylen, "%s", lua_tostring(L, -1));
        lua_settop(L, cfg - 1);
        return PH_EINVAL;
    }
    lua_pop(L, 1);
    lua_replace(L, cfg);
    lua_settop(L, cfg);
    return 0;
}

/* Push the table of JSON text `json` onto p's state; PH_EINVAL (the reason
 * in why) when it is not a JSON object. */
static int host__push_json(host_plugin *p, const char *json, char *why, size_t whylen)
{
    lua_State *L = p->L;
    lua_getfield(L, LUA_REGISTRYINDEX, "park.loaded");
    if (lua_getfield(L, -1, "cjson") != LUA_TTABLE) {
        lua_pop(L, 2);
        snprintf(why, whylen, "configs need lua-cjson (apt-get install lua-cjson)");
        return PH_EINVAL;
    }
    lua_getfield(L, -1, "decode");
    lua_pushstring(L, json ? json : "{}");
    int st = lua__pcall_budget(p, 1, 1, HOST__LOAD_BUDGET);
    lua_replace(L, -3);
    lua_pop(L, 1);
    if (st != LUA_OK || !lua_istable(L, -1)) {
        snprintf(why, whylen, "config is not a JSON object: %s",
                 st != LUA_OK ? lua_tostring(L, -1) : luaL_typename(L, -1));
        lua_pop(L, 1);
        return PH_EINVAL;
    }
    return 0;
}

int lua_push_schema(host_plugin *p, lua_State *to)
{
    char why[128];
    if (p->schema_ref == LUA_NOREF) {
        lua_newtable(to);
        return 0;
    }
    lua_rawgeti(p->L, LUA_REGISTRYINDEX, p->schema_ref);
    int rc = host__copy_value(p->L, -1, to, 0, why, sizeof why);
    lua_pop(p->L, 1);
    if (rc) lua_newtable(to);
    return rc;
}

/* The JSON text of the table on top of p's state (left there), malloc'd;
 * NULL with the reason in why. An empty table is the object "{}". */
static char *host__to_json(host_plugin *p, char *why, size_t whylen)
{
    lua_State *L = p->L;
    lua_pushnil(L);
    if (!lua_next(L, -2)) return strdup("{}");
    lua_pop(L, 2);
    lua_getfield(L, LUA_REGISTRYINDEX, "park.loaded");
    if (lua_getfield(L, -1, "cjson") != LUA_TTABLE) {
        lua_pop(L, 2);
        snprintf(why, whylen, "configs need lua-cjson (apt-get install lua-cjson)");
        return NULL;
    }
    lua_getfield(L, -1, "encode");
    lua_pushvalue(L, -4);
    char *out = NULL;
    if (lua__pcall_budget(p, 1, 1, HOST__LOAD_BUDGET) != LUA_OK)
        snprintf(why, whylen, "config cannot be stored as JSON: %s", lua_tostring(L, -1));
    else if (!(out = strdup(lua_tostring(L, -1))))
        snprintf(why, whylen, "not enough memory");
    lua_pop(L, 3);
    return out;
}

int lua_host_check_config(lua_host *h, const char *plugin, lua_State *from, int idx, char **json,
                          char *why, size_t whylen)
{
    host_plugin *p = h->gen ? host__gen_find(h->gen, plugin) : NULL;
    if (!p || p->core) {
        snprintf(why, whylen, "plugin: no plugin named '%s' is loaded", plugin);
        return PH_ENOTFOUND;
    }
    lua_State *L = p->L;
    int top = lua_gettop(L);
    int rc = PH_EINVAL;
    if (lua_checkstack(L, 8) && host__copy_value(from, idx, L, 0, why, whylen) == 0) {
        if (!json || (*json = host__to_json(p, why, whylen)))
            rc = host__validate_config(p, why, whylen);
        if (rc && json) {
            free(*json);
            *json = NULL;
        }
    }
    lua_settop(L, top);
    return rc;
}

static void host__column_free(host_column *c)
{
    free(c->path);
    free(c->title);
    free(c->kind);
    free(c->unit);
    free(c->unit_name);
    free(c->parent);
    free(c->plugin);
    free(c->config);
}

static char *host__dup(const char *s)
{
    return s ? strdup(s) : NULL;
}

typedef struct {
    host_gen *g;
    size_t cap;
    bool nomem;
} host__cols;

static void host__on_column(void *ud, const site_column *c)
{
    host__cols *x = ud;
    host_gen *g = x->g;
    if (x->nomem) return;
    if (g->ncols == x->cap) {
        size_t cap = x->cap ? x->cap * 2 : 32;
        host_column *n = realloc(g->cols, cap * sizeof *n);
        if (!n) {
            x->nomem = true;
            return;
        }
        g->cols = n;
        x->cap = cap;
    }
    host_column *o = &g->cols[g->ncols];
    *o = (host_column){host__dup(c->path),
                       host__dup(c->title),
                       host__dup(c->kind),
                       host__dup(c->unit),
                       host__dup(c->unit_name),
                       host__dup(c->parent),
                       host__dup(c->plugin),
                       host__dup(c->config),
                       c->position,
                       c->max_stale_days,
                       c->depth,
                       c->enabled,
                       false};
    if (!o->path || !o->title || !o->kind || !o->unit || !o->unit_name ||
        (c->parent && !o->parent) || (c->plugin && !o->plugin) || (c->config && !o->config)) {
        host__column_free(o);
        x->nomem = true;
        return;
    }
    g->ncols++;
}

static int host__bind(host_gen *g, const char *column, host_plugin *p)
{
    host_binding *b = &g->bindings[g->nbindings];
    b->column = strdup(column);
    if (!b->column) {
        lua_pop(p->L, 1); /* the config */
        return PH_ENOMEM;
    }
    b->column_len = strcmp(column, "/") == 0 ? 0 : strlen(column);
    b->plugin = p;
    b->config_ref = luaL_ref(p->L, LUA_REGISTRYINDEX);
    p->refs++;
    g->nbindings++;
    return 0;
}

/* Read the site's columns and bindings from the database into g, and bind
 * the console to /admin. A binding that cannot be served (its plugin is not
 * loaded, its config no longer fits the plugin's schema) is logged and
 * left out: its column answers 404 until it is fixed. */
/* park_site_version's version (sql/009), or the last one read when it
 * cannot be read. */
static int64_t host__db_site_version(lua_host *h)
{
    if (!h->db) return 0;
    sqlite3_stmt *st = store_prepare(h->db, "SELECT version FROM park_site_version");
    int64_t v = h->db_site;
    if (st && sqlite3_step(st) == SQLITE_ROW) v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

static void host__on_setting(void *ud, const char *key, const char *value)
{
    host__cols *x = ud;
    host_gen *g = x->g;
    char **more = realloc(g->settings, (2 * g->nsettings + 2) * sizeof *more);
    char *k = strdup(key), *v = strdup(value);
    if (!more || !k || !v) {
        if (more) g->settings = more;
        free(k);
        free(v);
        x->nomem = true;
        return;
    }
    g->settings = more;
    g->settings[2 * g->nsettings] = k;
    g->settings[2 * g->nsettings + 1] = v;
    g->nsettings++;
}

static int host__load_bindings(lua_host *h, host_gen *g)
{
    host__cols x = {g, 0, false};
    h->db_site = host__db_site_version(h); /* before the read: a change after it shows again */
    if (h->db && site_each_column(h->db, host__on_column, &x)) {
        log_msg(LOG_ERROR, "the site's columns cannot be read: %s",
                sqlite3_errmsg(store_db(h->db)));
        return PH_EDB;
    }
    if (!x.nomem && h->db && site_each_setting(h->db, host__on_setting, &x)) {
        log_msg(LOG_ERROR, "the site's settings cannot be read: %s",
                sqlite3_errmsg(store_db(h->db)));
        return PH_EDB;
    }
    if (x.nomem) return PH_ENOMEM;
    g->bindings = calloc(g->ncols + 1, sizeof *g->bindings);
    if (!g->bindings) return PH_ENOMEM;
    host_plugin *console = host__gen_find(g, "admin");
    if (console && console->core) {
        lua_newtable(console->L);
        if (host__bind(g, "/admin", console)) return PH_ENOMEM;
    }
    for (size_t i = 0; i < g->ncols; i++) {
        host_column *c = &g->cols[i];
        if (!c->plugin || !c->enabled) continue;
        char why[512] = "";
        host_plugin *p = host__gen_find(g, c->plugin);
        if (!p || p->core) {
            snprintf(why, sizeof why, "no plugin named '%s' is loaded", c->plugin);
        } else if (host__push_json(p, c->config, why, sizeof why) == 0 &&
                   host__validate_config(p, why, sizeof why) == 0) {
            if (host__bind(g, c->path, p)) return PH_ENOMEM;
            c->served = true;
            log_msg(LOG_DEBUG, "column %s is served by plugin %s", c->path, p->name);
        }
        if (why[0])
            log_msg(LOG_ERROR, "column %s is not served: %s (fix its binding in /admin)", c->path,
                    why);
    }
    qsort(g->bindings, g->nbindings, sizeof *g->bindings, host__bindings_cmp);
    return 0;
}

const host_column *lua_column_find(const host_gen *g, const char *path)
{
    for (size_t i = 0; g && i < g->ncols; i++)
        if (strcmp(g->cols[i].path, path) == 0) return &g->cols[i];
    return NULL;
}

static uint32_t host__hash(const char *s, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 16777619u;
    return h;
}

/* Index the columns by path for host__find_binding. */
static int host__gen_index(host_gen *g)
{
    size_t cap = 16;
    while (cap < g->nbindings * 2)
        cap *= 2;
    g->index = calloc(cap, sizeof *g->index);
    if (!g->index) return PH_ENOMEM;
    g->index_cap = cap;
    for (size_t i = 0; i < g->nbindings; i++) {
        size_t slot = host__hash(g->bindings[i].column, g->bindings[i].column_len) & (cap - 1);
        while (g->index[slot])
            slot = (slot + 1) & (cap - 1);
        g->index[slot] = (uint32_t)i + 1;
    }
    return 0;
}

/* The column of a path: the longest column that is the path itself or a
 * prefix of it ending before a '/'; the root column catches the rest. */
static host_binding *host__find_binding(const host_gen *g, const char *path, size_t len)
{
    if (!g || !g->index_cap) return NULL;
    size_t mask = g->index_cap - 1;
    for (;;) {
        size_t slot = host__hash(path, len) & mask;
        for (uint32_t i; (i = g->index[slot]); slot = (slot + 1) & mask) {
            host_binding *b = &g->bindings[i - 1];
            if (b->column_len == len && memcmp(b->column, path, len) == 0) return b;
        }
        if (len == 0) return NULL;
        while (len > 0 && path[--len] != '/') {
        }
    }
}

static int host__gen_build(lua_host *h, const host_gen *prev, host_gen **out)
{
    host_gen *g = calloc(1, sizeof *g);
    if (!g) return PH_ENOMEM;
    g->refs = 1;
    g->id = ++h->next_gen_id;
    int rc = host__load_console(h, g, prev);
    if (!rc) rc = host__load_plugins(h, g, prev);
    if (!rc) rc = host__load_bindings(h, g);
    if (!rc) rc = host__gen_index(g);
    if (rc) {
        host__gen_unref(g);
        return rc;
    }
    *out = g;
    return 0;
}

/* Every site-poll-ms: a change of the site model that no signal told this
 * worker of (a command's, or a lost signal) is served now. */
void lua_host_items_changed(lua_host *h)
{
    h->items_changed = true;
}

void lua_host_flush_items(lua_host *h)
{
    if (!h || !h->items_changed) return;
    h->items_changed = false;
    int64_t v = 0;
    if (h->db && items_version(h->db, &v) == 0) h->items_db_seen = v;
    workers_items_bump(v, false);
}

static void host__on_site_poll(uv_timer_t *t)
{
    lua_host *h = t->data;
    int64_t iv;
    if (h->db && items_version(h->db, &iv) == 0 && iv != h->items_db_seen) {
        workers_items_bump(iv, true); /* a command's change; a worker's counted already */
        h->items_db_seen = iv;
    }
    int64_t v = host__db_site_version(h);
    if (v == h->db_site) return;
    log_msg(LOG_INFO, "site: the columns or bindings changed in the database; serving them");
    lua_host_rebind(h);
}

int lua_host_new(lua_host **out, uv_loop_t *loop, const ph_conf *conf, struct store *db)
{
    lua_host *h = calloc(1, sizeof *h);
    if (!h) return PH_ENOMEM;
    h->loop = loop;
    h->db = db;
    if (db)
        store_set_namespace_limits(db, (int)conf->plugin_db_value_bytes,
                                   (int)conf->plugin_sql_bytes);
    h->conf = conf;
    h->site_seen = workers_site_version();
    if (!db || items_version(db, &h->items_db_seen)) h->items_db_seen = -1;
    int rc = host__gen_build(h, NULL, &h->gen);
    if (rc) {
        free(h);
        return rc;
    }
    uv_timer_init(loop, &h->grace_timer);
    h->grace_timer.data = h;
    h->grace_open = true;
    uv_idle_init(loop, &h->wake_idle);
    h->wake_idle.data = h;
    h->wake_open = true;
    uv_timer_init(loop, &h->site_timer);
    h->site_timer.data = h;
    uv_timer_start(&h->site_timer, host__on_site_poll, (uint64_t)conf->site_poll_ms,
                   (uint64_t)conf->site_poll_ms);
    uv_unref((uv_handle_t *)&h->site_timer);
    lua__csrf_init(h);
    lua__jobs_init(h);
    lua__watch_start(conf);
    *out = h;
    return 0;
}

host_plugin *lua__plugin_find(lua_host *h, const char *name)
{
    return h->gen ? host__gen_find(h->gen, name) : NULL;
}

size_t lua_host_nplugins(const lua_host *h)
{
    return h->gen ? h->gen->nplugins : 0;
}

size_t lua_host_nbindings(const lua_host *h)
{
    return h->gen ? h->gen->nbindings : 0;
}

/* ---- what runtime.h shows of a plugin, the host and a generation -------- */

const char *lua_plugin_name(const host_plugin *p)
{
    return p->name;
}

const char *lua_plugin_version(const host_plugin *p)
{
    return p->version;
}

const char *lua_plugin_description(const host_plugin *p)
{
    return p->description;
}

const char *lua_plugin_dir(const host_plugin *p)
{
    return p->dir;
}

lua_host *lua_plugin_host(const host_plugin *p)
{
    return p->host;
}

bool lua_plugin_core(const host_plugin *p)
{
    return p->core;
}

host_req *lua_plugin_current(const host_plugin *p)
{
    return p->cur;
}

int lua_plugin_env_ref(const host_plugin *p)
{
    return p->env_ref;
}

lua_db_cache **lua_plugin_stmts(host_plugin *p)
{
    return &p->stmts;
}

host_req **lua_plugin_waiters(host_plugin *p)
{
    return &p->waiters;
}

const ph_conf *lua_host_conf(const lua_host *h)
{
    return h->conf;
}

store *lua_host_store(const lua_host *h)
{
    return h->db;
}

uv_loop_t *lua_host_loop(const lua_host *h)
{
    return h->loop;
}

const unsigned char *lua_host_csrf_secret(const lua_host *h)
{
    return h->csrf_secret;
}

const host_gen *lua_host_gen(const lua_host *h)
{
    return h->gen;
}

uint64_t lua_gen_id(const host_gen *g)
{
    return g->id;
}

const host_column *lua_gen_columns(const host_gen *g, size_t *n)
{
    *n = g->ncols;
    return g->cols;
}

/* ---- error pages in the site's layout ----------------------------------- */

/* What an error page says below its title, by status. */
static const char *host__error_text(int status)
{
    switch (status) {
    case 400: return "请求的格式不正确，请检查网址或重新提交。";
    case 403: return "您没有访问此页面或执行此操作的权限。工作人员请确认已用有相应权限的账号登录。";
    case 404: return "您访问的页面不存在，可能已被删除、改名或网址有误。";
    case 405: return "此页面不支持这种访问方式。";
    case 408: return "请求等待时间过长，连接已断开，请重试。";
    case 410: return "该内容已经撤下，不再提供。";
    case 413: return "提交的内容超过了网站允许的大小。";
    case 414: return "网址过长，请检查后重试。";
    case 429: return "访问过于频繁，请稍等片刻再试。";
    case 431: return "请求头过大，请清除本站的 Cookie 后重试。";
    case 500: return "页面暂时无法显示，网站已记录此问题，请稍后再试。";
    case 503: return "系统正在维护或暂时繁忙，请稍后再试。";
    }
    return status < 500 ? "请求无法完成，请检查后重试。" : "服务暂时出现问题，请稍后再试。";
}

/* Whether the request's Cookie header has care=1 (关怀版). */
static bool host__wants_care(const http_request *r)
{
    const char *c = http_request_header(r, "Cookie");
    for (const char *p = c; p && (p = strstr(p, "care=1")); p += 6)
        if ((p == c || p[-1] == ' ' || p[-1] == ';') && (p[6] == '\0' || p[6] == ';')) return true;
    return false;
}

/* Render the chrome of g (care or not) with the console's park.layout. */
static void host__render_chrome(lua_host *h, host_gen *g, int care)
{
    g->chrome_tried[care] = true;
    host_plugin *p = host__gen_find(g, "admin");
    if (!p || !p->L) return;
    lua_State *L = p->L;
    int top = lua_gettop(L);
    lua_State *T = lua_newthread(L);
    host_req *cur = p->cur;
    p->cur = NULL; /* no request's column marks the navigation */
    bool ok = luaL_loadstring(T, "return require('park.layout').chrome(...)") == LUA_OK;
    if (ok) {
        lua_rawgeti(T, LUA_REGISTRYINDEX, p->env_ref);
        lua_setupvalue(T, -2, 1); /* the console's _ENV */
        lua_pushboolean(T, care);
        ok = lua_pcall(T, 1, 1, 0) == LUA_OK && lua_type(T, -1) == LUA_TSTRING;
    }
    p->cur = cur;
    size_t n = 0;
    const char *html = ok ? lua_tolstring(T, -1, &n) : NULL;
    const char *t = html ? strstr(html, "\1TITLE\1") : NULL;
    const char *c = t ? strstr(t + 7, "\1CONTENT\1") : NULL;
    if (c && (g->chrome[care] = malloc(n + 1))) {
        memcpy(g->chrome[care], html, n + 1);
        g->chrome_cut[care][0] = (size_t)(t - html);
        g->chrome_cut[care][1] = (size_t)(c - html);
    } else {
        log_msg(LOG_ERROR, "the error pages cannot use the site's layout: %s",
                ok ? "park.layout.chrome() gave no markers" : lua_tostring(T, -1));
    }
    lua_settop(L, top);
    (void)h;
}

int lua_host_error_page(void *ud, const http_request *r, int status, ph_buf *out)
{
    lua_host *h = ud;
    host_gen *g = h->gen;
    if (!g) return -1;
    int care = host__wants_care(r) ? 1 : 0;
    if (!g->chrome_tried[care]) host__render_chrome(h, g, care);
    const char *ch = g->chrome[care];
    if (!ch) return -1;
    size_t t = g->chrome_cut[care][0], c = g->chrome_cut[care][1];
    char title[96], body[1024];
    snprintf(title, sizeof title, "%d %s", status, http_status_zh(status));
    int n = snprintf(body, sizeof body,
                     "<div class=\"error-page\">\n<h1>%s</h1>\n<p>%s</p>\n"
                     "<p class=\"rid\">请求编号：<code>%s</code>（向网站反映问题时请提供）</p>\n"
                     "<p><a href=\"/\">返回首页</a></p>\n</div>\n",
                     http_status_zh(status), host__error_text(status), r->id);
    if (n < 0 || (size_t)n >= sizeof body) return -1;
    size_t len = strlen(ch);
    if (ph_buf_append(out, ch, t) || ph_buf_append(out, title, strlen(title)) ||
        ph_buf_append(out, ch + t + 7, c - (t + 7)) || ph_buf_append(out, body, (size_t)n) ||
        ph_buf_append(out, ch + c + 9, len - (c + 9)))
        return -1;
    return 0;
}

char *const *lua_gen_settings(const host_gen *g, size_t *n)
{
    *n = g->nsettings;
    return g->settings;
}

host_plugin *const *lua_gen_plugins(const host_gen *g, size_t *n)
{
    *n = g->nplugins;
    return g->plugins;
}

/* ---- requests ----------------------------------------------------------- */

static void host__on_timer_closed(uv_handle_t *t)
{
    free(t->data);
}

/* A coroutine for a request: an idle one from the plugin's pool, or a new
 * one. It stays referenced by the pool table while the request runs.
 * Returns false when the state is out of memory. */
static bool host__co_acquire(host_plugin *p, host_req *r)
{
    lua_State *L = p->L;
    if (!lua_checkstack(L, 4)) return false;
    lua_rawgeti(L, LUA_REGISTRYINDEX, p->pool_ref);
    if (p->nidle) {
        r->co_slot = p->idle[--p->nidle];
        lua_rawgeti(L, -1, r->co_slot);
        r->co = lua_tothread(L, -1);
        lua_pop(L, 2);
        return true;
    }
    if (p->nempty == 0 && p->pool_size == (size_t)INT32_MAX) {
        lua_pop(L, 1);
        return false;
    }
    int slot = p->nempty ? p->empty[--p->nempty] : (int)++p->pool_size;
    r->co = lua_newthread(L);
    if (!r->co) {
        lua_pop(L, 1);
        return false;
    }
    lua_rawseti(L, -2, slot);
    lua_pop(L, 1);
    r->co_slot = slot;
    return true;
}

/* Give the request's coroutine back: reset it (its to-be-closed variables
 * run under the request's budget) and keep it for reuse, up to
 * HOST__POOL_IDLE idle ones. */
static void host__co_release(host_plugin *p, host_req *r)
{
    /* A coroutine that returned is reusable as it is; one that failed, was
     * stopped or is still suspended must be reset (closing its pending
     * to-be-closed variables), which also shrinks its stack. */
    if (lua_status(r->co) != LUA_OK) {
        host_req *saved = p->cur;
        p->cur = r;
        lua_resetthread(r->co);
        p->cur = saved == r ? NULL : saved;
    }
    lua_settop(r->co, 0);
    if (r->budget_exceeded) lua__sandbox_rehook(r->co);
    int **list = p->nidle < HOST__POOL_IDLE ? &p->idle : &p->empty;
    size_t *n = list == &p->idle ? &p->nidle : &p->nempty;
    size_t *cap = list == &p->idle ? &p->cap_idle : &p->cap_empty;
    if (*n == *cap) {
        size_t nc = *cap ? *cap * 2 : 16;
        int *nl = realloc(*list, nc * sizeof *nl);
        if (!nl) return; /* the slot is lost; the thread stays referenced */
        *list = nl;
        *cap = nc;
    }
    (*list)[(*n)++] = r->co_slot;
    if (list == &p->empty) { /* too many idle: let this one go */
        lua_rawgeti(p->L, LUA_REGISTRYINDEX, p->pool_ref);
        lua_pushnil(p->L);
        lua_rawseti(p->L, -2, r->co_slot);
        lua_pop(p->L, 1);
    }
    r->co = NULL;
}

/* Release everything a finished request holds. Its HTTP request must have
 * been answered or abandoned already. */
static void host__req_free(host_req *r)
{
    host_plugin *p = r->plugin;
    if (r->streaming) {
        if (r->prev_streaming)
            r->prev_streaming->next_streaming = r->next_streaming;
        else
            r->host->streams = r->next_streaming;
        if (r->next_streaming) r->next_streaming->prev_streaming = r->prev_streaming;
    }
    if (r->is_job) lua__job_unlink(r);
    host__unwake(r);
    park_req_close(r);
    if (r->co) host__co_release(p, r);
    ph_buf_free(&r->res_headers);
    host__plugin_unref(p);
    host__gen_unref(r->gen);
    if (r->timer_open) {
        uv_close((uv_handle_t *)&r->timer, host__on_timer_closed);
    } else if (r->host->nspare < HOST__SPARE_REQS) {
        r->host->spare[r->host->nspare++] = r; /* reused by the next request */
    } else {
        free(r);
    }
}

/* Count a failure; past plugin-failures in the window, maintenance. */
static void host__failed(host_req *r)
{
    host_plugin *p = r->plugin;
    lua_host *h = r->host;
    uint64_t now = uv_now(h->loop);
    uint64_t window = (uint64_t)h->conf->plugin_failure_window_s * 1000;
    if (now - p->window_start_ms > window) {
        p->window_start_ms = now;
        p->failures = 0;
    }
    if (++p->failures >= (unsigned)h->conf->plugin_failures && p->maintenance_until_ms <= now) {
        p->maintenance_until_ms = now + (uint64_t)h->conf->plugin_maintenance_s * 1000;
        p->failures = 0;
        log_msg(LOG_ERROR,
                "plugin %s failed %lld times within %lld s: its columns show the maintenance "
                "page for %lld s",
                p->name, (long long)h->conf->plugin_failures,
                (long long)h->conf->plugin_failure_window_s,
                (long long)h->conf->plugin_maintenance_s);
    }
}

/* Answer with an error page unless the request was already answered. */
static void host__fail(host_req *r, int status)
{
    host__failed(r);
    if (!r->http) return;
    if (r->streaming) {
        http_stream_end(r->http); /* the status line is gone already */
    } else {
        http_respond_error(r->http, status, NULL, 0);
    }
    r->http = NULL;
}

static void host__log_failure(host_req *r, const char *what, const char *detail)
{
    const http_request *q = r->http;
    log_msg(LOG_ERROR, "plugin %s: %s %s %s rid=%s (route %s %s): %s", r->plugin->name,
            q ? q->method : "-", q ? q->path : "-", what, q ? q->id : "-", r->route->method,
            r->route->pattern, detail);
}

size_t lua_res_headers(const host_req *r, http_header *hs, size_t max, bool *has_type)
{
    size_t nh = 0;
    for (size_t i = 0, off = 0; i < r->nres_headers && nh < max; i++) {
        hs[nh].name = r->res_headers.data + off;
        hs[nh].name_len = strlen(hs[nh].name);
        off += hs[nh].name_len + 1;
        hs[nh].value = r->res_headers.data + off;
        hs[nh].value_len = strlen(hs[nh].value);
        off += hs[nh].value_len + 1;
        if (hs[nh].name_len == 12 && !strncasecmp(hs[nh].name, "content-type", 12))
            *has_type = true;
        nh++;
    }
    return nh;
}

/* The Content-Types park.html, park.text and park.json return: checked
 * once here, not byte by byte on every response (bench/sandbox: half the
 * sandbox's cost on a small page). */
static bool host__known_type(const char *v, size_t n)
{
    static const char *const known[] = {"text/html; charset=utf-8", "text/plain; charset=utf-8",
                                        "application/json; charset=utf-8", NULL};
    for (const char *const *k = known; *k; k++)
        if (strlen(*k) == n && memcmp(*k, v, n) == 0) return true;
    return false;
}

/* Turn a handler's results into a response. NULL, or what was wrong. */
static const char *host__respond(host_req *r, int base, int nres)
{
    lua_State *co = r->co;
    static const http_header html = {"Content-Type", 12, "text/html; charset=utf-8", 24};
    if (r->streaming) return NULL;
    int status = r->status ? r->status : 200;
    size_t blen = 0;
    const char *body = "";
    int hidx = 0, ctype = 0;
    if (nres >= 1 && lua_type(co, base) == LUA_TSTRING) {
        body = lua_tolstring(co, base, &blen);
    } else if (nres >= 1 && lua_isinteger(co, base)) {
        lua_Integer st = lua_tointeger(co, base);
        if (st < 100 || st > 599) return "a status must be from 100 to 599";
        status = (int)st;
        if (nres >= 2 && !lua_isnil(co, base + 1)) {
            if (lua_type(co, base + 1) != LUA_TSTRING) return "the response body must be a string";
            body = lua_tolstring(co, base + 1, &blen);
        }
        if (nres >= 3 && lua_type(co, base + 2) == LUA_TSTRING) {
            ctype = base + 2; /* a Content-Type alone */
        } else if (nres >= 3 && !lua_isnil(co, base + 2)) {
            if (!lua_istable(co, base + 2))
                return "response headers must be a table (or a Content-Type string)";
            hidx = base + 2;
        }
    } else if (nres >= 1 && !lua_isnil(co, base)) {
        return "a handler returns a body string, or status, body, headers";
    }
    http_header hs[HOST__MAX_RESPONSE_HEADERS];
    bool has_type = false;
    /* Headers set through res first, then the returned table. */
    size_t nh = lua_res_headers(r, hs, HOST__MAX_RESPONSE_HEADERS, &has_type);
    size_t hbytes = r->res_headers.len;
    if (hidx) {
        lua_pushnil(co);
        while (lua_next(co, hidx)) {
            if (lua_type(co, -2) != LUA_TSTRING) {
                lua_pop(co, 2);
                return "response header names must be strings";
            }
            int vt = lua_type(co, -1);
            int count = vt == LUA_TTABLE ? (int)luaL_len(co, -1) : 1;
            for (int k = 1; k <= count; k++) {
                if (vt == LUA_TTABLE) lua_geti(co, -1, k);
                if (lua_type(co, -1) != LUA_TSTRING && lua_type(co, -1) != LUA_TNUMBER) {
                    lua_pop(co, vt == LUA_TTABLE ? 3 : 2);
                    return "response header values must be strings (or lists of strings)";
                }
                if (nh == HOST__MAX_RESPONSE_HEADERS) {
                    lua_pop(co, vt == LUA_TTABLE ? 3 : 2);
                    return "too many response headers";
                }
                /* The strings stay referenced by the table until we return. */
                lua_tostring(co, -1); /* numbers become strings in place */
                hs[nh].name = lua_tolstring(co, -2 - (vt == LUA_TTABLE), &hs[nh].name_len);
                hs[nh].value = lua_tolstring(co, -1, &hs[nh].value_len);
                const char *why = lua_header_refusal(r->host, hs[nh].name, hs[nh].name_len,
                                                     hs[nh].value, hs[nh].value_len);
                hbytes += hs[nh].name_len + hs[nh].value_len + 2;
                if (!why && hbytes > (size_t)r->host->conf->max_response_header_bytes)
                    why = "response headers exceed max-response-header-bytes";
                if (why) {
                    /* The message stays on co's stack until the request ends. */
                    why = lua_pushfstring(co, "response header '%s': %s", hs[nh].name, why);
                    lua_insert(co, base);
                    lua_pop(co, vt == LUA_TTABLE ? 3 : 2);
                    return why;
                }
                if (hs[nh].name_len == 12 && !strncasecmp(hs[nh].name, "content-type", 12))
                    has_type = true;
                nh++;
                if (vt == LUA_TTABLE) lua_pop(co, 1);
            }
            lua_pop(co, 1);
        }
    }
    if (ctype && !host__known_type(lua_tostring(co, ctype), lua_rawlen(co, ctype)) &&
        !lua_header_value_ok(lua_tostring(co, ctype), lua_rawlen(co, ctype)))
        return "bad Content-Type (RFC 9110: no control characters)";
    if (ctype && nh < HOST__MAX_RESPONSE_HEADERS && !has_type) {
        hs[nh].name = "Content-Type";
        hs[nh].name_len = 12;
        hs[nh].value = lua_tolstring(co, ctype, &hs[nh].value_len);
        nh++;
        has_type = true;
    }
    if (!has_type && nh < HOST__MAX_RESPONSE_HEADERS) hs[nh++] = html;
    /* A redirect with nowhere to go leaves the browser on a blank page:
     * the plugin's mistake, said with its file and line like any other. */
    if (status >= 300 && status <= 399 && status != 304) {
        bool located = false;
        for (size_t i = 0; i < nh && !located; i++)
            located = hs[i].name_len == 8 && !strncasecmp(hs[i].name, "location", 8);
        if (!located)
            return "a redirect (3xx) needs a Location header: return park.redirect(url), "
                   "all of its values";
    }
    /* The form shown again after a CSRF failure is still a refusal; a GET
     * route that has no page there (a redirect, an error) gives the plain
     * refusal. */
    if (r->csrf_refill && status >= 300) {
        http_respond_error(r->http, 403, NULL, 0);
        r->http = NULL;
        return NULL;
    }
    if (r->csrf_refill) status = 403;
    if (http_respond(r->http, status, hs, nh, body, blen))
        return "a bad status or header (status 200-599; no CR, LF or NUL in headers; "
               "Content-Length, Transfer-Encoding and Connection are the server's)";
    r->http = NULL;
    return NULL;
}

host_req *lua__req_new(lua_host *h, host_plugin *p)
{
    host_req *r = h->nspare ? h->spare[--h->nspare] : malloc(sizeof *r);
    if (!r) return NULL;
    memset(r, 0, sizeof *r);
    r->host = h;
    r->gen = h->gen;
    h->gen->refs++;
    r->plugin = p;
    p->refs++;
    /* The objects made next are allocated on the request's account. */
    lua__budget_arm(p, r, (uint64_t)h->conf->plugin_instructions);
    if (!host__co_acquire(p, r) || !lua_checkstack(r->co, 8)) {
        p->cur = NULL;
        host__req_free(r);
        return NULL;
    }
    return r;
}

void lua_req_end(host_req *r)
{
    host__req_quiet(r);
    r->state = REQ_DONE;
    host__req_free(r);
}

/* The message of the error object on top of co: a string (or number), or
 * its type. No __tostring is called: that would run the plugin's code
 * outside any budget. */
static const char *host__error_message(lua_State *co)
{
    if (lua_type(co, -1) == LUA_TSTRING) return lua_tostring(co, -1);
    if (lua_type(co, -1) == LUA_TNUMBER) return lua_pushfstring(co, "%s", lua_tostring(co, -1));
    return lua_pushfstring(co, "(error object is a %s value)", luaL_typename(co, -1));
}

static int host__traceback_cf(lua_State *L)
{
    luaL_traceback(L, lua_tothread(L, 1), lua_tostring(L, 2), 0);
    return 1;
}

/* Push onto p->L the traceback of r's coroutine under `msg`, made in a
 * protected call (the state may be at its memory cap): at worst the
 * message alone. */
static const char *host__traceback(host_req *r, const char *msg)
{
    lua_State *L = r->plugin->L;
    lua_pushcfunction(L, host__traceback_cf);
    lua_rawgeti(L, LUA_REGISTRYINDEX, r->plugin->pool_ref);
    lua_rawgeti(L, -1, r->co_slot);
    lua_remove(L, -2);
    lua__push_loggable(L, msg);
    if (lua_pcall(L, 2, 1, 0) != LUA_OK) {
        lua_pop(L, 1);
        lua_pushstring(L, msg);
    }
    return lua_tostring(L, -1);
}

/* Why a run was stopped from outside its code, pushed onto p->L's stack
 * (host__traceback copies it). */
static const char *host__stop_reason(const host_req *r)
{
    lua_State *L = r->plugin->L;
    const char *who = r->is_job ? "the job" : "the handler";
    if (r->mem_exceeded && r->budget_exceeded && !r->held && !r->over_quota)
        return lua_pushliteral(L, "memory limit exceeded (plugin-memory-mb), then the "
                                  "instruction budget (plugin-instructions) retrying");
    if (r->over_quota)
        return lua_pushliteral(L, "CPU quota exceeded (plugin-cpu-percent): the plugin used "
                                  "more CPU than its share over plugin-cpu-window-s");
    if (r->held)
        return lua_pushfstring(L,
                               "held the loop past plugin-max-hold-ms: %s ran too long "
                               "without waiting",
                               who);
    if (r->budget_exceeded)
        return lua_pushfstring(L,
                               "instruction budget exceeded (plugin-instructions): %s ran "
                               "too long without waiting",
                               who);
    return lua_pushliteral(L, "memory limit exceeded (plugin-memory-mb)");
}

/* A job's coroutine stopped for good: record how, then free it. */
static void host__job_ended(host_req *r, int st)
{
    host_plugin *p = r->plugin;
    lua_State *co = r->co;
    bool failed = st != LUA_OK && st != LUA_YIELD;
    if (r->budget_exceeded || (r->mem_exceeded && failed)) {
        host__traceback(r, host__stop_reason(r));
        lua_remove(p->L, -2);
    } else if (st == LUA_YIELD) {
        lua_pushliteral(p->L, "coroutine.yield() in a job: only park's waiting functions may wait");
    } else if (failed) {
        host__traceback(r, host__error_message(co));
    } else {
        lua_pushnil(p->L);
    }
    lua__job_ended(r, lua_tostring(p->L, -1), r->budget_exceeded);
    lua_pop(p->L, 1);
    lua_req_end(r);
}

/* ---- the CPU quota -------------------------------------------------------
 * Each plugin's CPU time in the background (its jobs, and its requests'
 * runs after their first wait) is summed over a sliding window of
 * plugin-cpu-window-s, kept as HOST_CPU_SLOTS slots. Past
 * plugin-cpu-percent of one core over the window the plugin is throttled:
 * its runs in progress are stopped (503, or a failed job), new requests get
 * 503 with Retry-After and its jobs wait, until the window has room again.
 * A second overrun within plugin-failure-window-s puts it into
 * maintenance. */

static uint64_t host__cpu_slot_ms(const lua_host *h)
{
    uint64_t ms = (uint64_t)h->conf->plugin_cpu_window_s * 1000 / HOST_CPU_SLOTS;
    return ms ? ms : 1;
}

/* Age the slots to `now`; returns the CPU used in the window, in ns. */
static uint64_t host__cpu_used(host_plugin *p, uint64_t now)
{
    uint64_t slot_ms = host__cpu_slot_ms(p->host);
    if (now - p->cpu_slot_start_ms >= slot_ms * HOST_CPU_SLOTS) {
        memset(p->cpu_ns, 0, sizeof p->cpu_ns);
        p->cpu_slot_start_ms = now;
    }
    while (now - p->cpu_slot_start_ms >= slot_ms) {
        p->cpu_slot = (p->cpu_slot + 1) % HOST_CPU_SLOTS;
        p->cpu_ns[p->cpu_slot] = 0;
        p->cpu_slot_start_ms += slot_ms;
    }
    uint64_t sum = 0;
    for (int i = 0; i < HOST_CPU_SLOTS; i++)
        sum += p->cpu_ns[i];
    return sum;
}

static uint64_t host__cpu_limit_ns(const lua_host *h)
{
    return (uint64_t)h->conf->plugin_cpu_window_s * 10000000u *
           (uint64_t)h->conf->plugin_cpu_percent;
}

bool lua__over_quota(host_plugin *p)
{
    return host__cpu_used(p, uv_now(p->host->loop)) > host__cpu_limit_ns(p->host);
}

/* Bill a run of `ns` to p; true when the plugin is now past its quota. */
static bool host__cpu_bill(host_plugin *p, uint64_t ns)
{
    lua_host *h = p->host;
    uint64_t now = uv_now(h->loop);
    uint64_t used = host__cpu_used(p, now);
    p->cpu_ns[p->cpu_slot] += ns;
    used += ns;
    bool over = used > host__cpu_limit_ns(h);
    if (over && !p->throttled) {
        p->throttled = true;
        uint64_t window = (uint64_t)h->conf->plugin_failure_window_s * 1000;
        if (now - p->overrun_start_ms > window) {
            p->overrun_start_ms = now;
            p->overruns = 0;
        }
        if (++p->overruns >= 2) {
            p->overruns = 0;
            p->maintenance_until_ms = now + (uint64_t)h->conf->plugin_maintenance_s * 1000;
            log_msg(LOG_ERROR,
                    "plugin %s went past its CPU quota twice within %lld s: its columns show "
                    "the maintenance page for %lld s",
                    p->name, (long long)h->conf->plugin_failure_window_s,
                    (long long)h->conf->plugin_maintenance_s);
        } else {
            log_msg(LOG_WARN,
                    "plugin %s used %llu ms of CPU in the last %lld s, past plugin-cpu-percent "
                    "(%lld%%): throttled",
                    p->name, (unsigned long long)(used / 1000000),
                    (long long)h->conf->plugin_cpu_window_s,
                    (long long)h->conf->plugin_cpu_percent);
        }
    } else if (!over && p->throttled) {
        p->throttled = false;
    }
    return over;
}

static void host__on_gone(void *ud, http_request *q);
static void host__on_drain(void *ud, http_request *q);

/* Resume (or start) the request's coroutine with `nargs` values on co's
 * stack, then act on how it stopped. */
void lua_req_resume(host_req *r, int nargs)
{
    host_plugin *p = r->plugin;
    lua_State *co = r->co;
    r->state = REQ_RUNNING;
    lua__budget_arm(p, r, (uint64_t)r->host->conf->plugin_instructions);
    int nres = 0;
    lua__watch_begin(p, r, co);
    int st = lua_resume(co, p->L, nargs, &nres);
    uint64_t ns = lua__watch_end();
    p->cur = NULL;
    if (st != LUA_OK && st != LUA_YIELD) park_db_settle(p);
    /* The quota is for work in the background (jobs, and requests that
     * waited: streams, polls, loops of short waits). A page made in one run
     * is bounded by the budget and the hold time instead, so a column is
     * never throttled for being busy. */
    bool background = r->is_job || r->resumed;
    r->resumed = true;
    if (background && host__cpu_bill(p, ns) && st == LUA_YIELD && !r->budget_exceeded) {
        /* A run that waits while its plugin is past its quota ends here: a
         * loop of short waits is what the quota is for. */
        r->budget_exceeded = r->over_quota = true;
    }
    if (st == LUA_YIELD && !r->budget_exceeded &&
        (r->state == REQ_SLEEPING || r->state == REQ_DRAINING)) {
        lua_pop(co, nres);
        return; /* a wait: a timer, the client or a drain resumes it */
    }
    if (r->is_job) {
        host__job_ended(r, st);
        return;
    }
    if (r->budget_exceeded || (r->mem_exceeded && st != LUA_OK && st != LUA_YIELD)) {
        /* Where it was stopped helps the author find the loop or the hoard. */
        host__log_failure(r, "stopped", host__traceback(r, host__stop_reason(r)));
        lua_pop(p->L, 2);
        host__fail(r, 503);
    } else if (r->client_status && st != LUA_OK && st != LUA_YIELD) {
        log_msg(LOG_WARN, "plugin %s: %s %s rid=%s: %s", p->name, r->http ? r->http->method : "-",
                r->http ? r->http->path : "-", r->http ? r->http->id : "-",
                host__error_message(co));
        if (r->http && !r->streaming)
            http_respond_error(r->http, r->client_status, NULL, 0);
        else if (r->http)
            http_stream_end(r->http);
        r->http = NULL;
    } else if (st == LUA_OK) {
        /* nres counts the whole stack: req and res sit below the results. */
        int nobj = r->route->nargs;
        const char *bad = r->http ? host__respond(r, nobj + 1, lua_gettop(co) - nobj) : NULL;
        if (bad) {
            host__log_failure(r, "failed", bad);
            host__fail(r, 500);
        } else if (r->streaming && r->http) {
            http_stream_end(r->http);
            r->http = NULL;
        }
    } else {
        const char *msg;
        if (st == LUA_YIELD) {
            msg = "coroutine.yield() in a handler: only park's waiting functions may wait";
        } else {
            msg = host__error_message(co);
        }
        host__log_failure(r, "failed", host__traceback(r, msg));
        lua_pop(p->L, 1);
        host__fail(r, 500);
    }
    r->state = REQ_DONE;
    host__req_free(r);
}

/* Put r to sleep until `cb` runs, at least 1 ms from now: libuv (before
 * 1.45) runs a timer started at 0 from a timer's callback in the same pass,
 * so a loop of park.sleep(0) or of notifications would never let the loop
 * poll for I/O again. */
void lua_req_sleep(host_req *r, uv_timer_cb cb, uint64_t ms)
{
    if (!r->timer_open) {
        uv_timer_init(r->host->loop, &r->timer);
        r->timer.data = r;
        r->timer_open = true;
    }
    uv_timer_start(&r->timer, cb, ms ? ms : 1, 0);
    r->state = REQ_SLEEPING;
}

/* Take r off the wake list it is on (h->wakes or h->waking_now). */
static void host__unwake(host_req *r)
{
    if (!r->waking) return;
    lua_host *h = r->host;
    if (r->prev_wake)
        r->prev_wake->next_wake = r->next_wake;
    else if (h->wakes == r)
        h->wakes = r->next_wake;
    else
        h->waking_now = r->next_wake;
    if (r->next_wake) r->next_wake->prev_wake = r->prev_wake;
    r->next_wake = r->prev_wake = NULL;
    r->waking = false;
}

/* Nothing of r's waiting may fire any more: its timer and its wake. */
static void host__req_quiet(host_req *r)
{
    if (r->timer_open) uv_timer_stop(&r->timer);
    host__unwake(r);
}

static void host__on_wake(uv_idle_t *idle)
{
    lua_host *h = idle->data;
    h->waking_now = h->wakes; /* wakes asked from here on wait a turn */
    h->wakes = NULL;
    uv_idle_stop(idle);
    host_req *r;
    while ((r = h->waking_now)) {
        host__unwake(r);
        r->wake_cb(&r->timer);
    }
}

void lua_req_wake(host_req *r, uv_timer_cb cb)
{
    lua_host *h = r->host;
    if (!h->wake_open) { /* stopping: the idle handle is closed */
        lua_req_sleep(r, cb, 0);
        return;
    }
    if (!r->timer_open) {
        uv_timer_init(h->loop, &r->timer);
        r->timer.data = r;
        r->timer_open = true;
    }
    uv_timer_stop(&r->timer);
    host__unwake(r);
    r->wake_cb = cb;
    r->next_wake = h->wakes;
    if (h->wakes) h->wakes->prev_wake = r;
    h->wakes = r;
    r->waking = true;
    r->state = REQ_SLEEPING;
    uv_idle_start(&h->wake_idle, host__on_wake);
}

void lua_req_stream(host_req *r)
{
    r->streaming = true;
    r->next_streaming = r->host->streams;
    if (r->host->streams) r->host->streams->prev_streaming = r;
    r->host->streams = r;
}

host_req *lua_req_of(lua_State *L)
{
    host_plugin *p = lua_plugin_of(L);
    return p->cur;
}

static void host__on_gone(void *ud, http_request *q)
{
    host_req *r = ud;
    (void)q;
    host__req_quiet(r);
    if (r->http) http_request_abandon(r->http);
    r->http = NULL;
    if (r->work_pending) { /* a thread still works for it: freed at the work's end */
        r->orphaned = true;
        return;
    }
    r->state = REQ_DONE;
    host__req_free(r);
}

static void host__on_drain(void *ud, http_request *q)
{
    host_req *r = ud;
    (void)q;
    if (r->state == REQ_DRAINING) lua_req_resume(r, 0);
}

/* Match `path` (relative to the column) against a route; fills params. */
static bool host__match(const host_route *rt, const char *path, const char **pv, size_t *pl)
{
    const char *s = path[0] == '/' ? path + 1 : path;
    size_t i = 0;
    for (; i < rt->nsegs; i++) {
        const char *seg = rt->segs[i];
        if (seg[0] == '*') {
            pv[i] = s;
            pl[i] = strlen(s);
            return true;
        }
        const char *e = strchr(s, '/');
        size_t n = e ? (size_t)(e - s) : strlen(s);
        if (n == 0 && !(i + 1 == rt->nsegs && !*s)) return false;
        if (seg[0] == ':') {
            if (n == 0) return false;
            pv[i] = s;
            pl[i] = n;
        } else if (strlen(seg) != n || memcmp(seg, s, n) != 0) {
            return false;
        }
        s += n;
        if (*s == '/')
            s++;
        else if (i + 1 < rt->nsegs)
            return rt->segs[i + 1][0] == '*' && i + 2 == rt->nsegs &&
                   (pv[i + 1] = s, pl[i + 1] = 0, true);
    }
    return *s == 0;
}

static void host__maintenance(http_request *q, uint64_t seconds)
{
    char secs[24];
    snprintf(secs, sizeof secs, "%llu", (unsigned long long)seconds);
    http_header h = {"Retry-After", 11, secs, strlen(secs)};
    http_respond_error(q, 503, &h, 1);
}

void lua_host_handle(void *host, http_request *q)
{
    lua_host *h = host;
    if (workers_site_version() != h->site_seen) lua_host_site_check(h);
    if (q->path[1] == 's' && lua__static_serve(h, q)) return;
    host_gen *g = h->gen;
    /* A path with a trailing slash looks for its column without it. */
    size_t plen = q->path_len;
    if (plen > 1 && q->path[plen - 1] == '/') plen--;
    host_binding *b = host__find_binding(g, q->path, plen);
    if (!b) {
        http_respond_error(q, 404, NULL, 0);
        return;
    }
    host_plugin *p = b->plugin;
    uint64_t now = uv_now(h->loop);
    if (p->maintenance_until_ms > now) {
        host__maintenance(q, (p->maintenance_until_ms - now + 999) / 1000);
        return;
    }
    if (p->throttled && lua__over_quota(p)) {
        host__maintenance(q, (host__cpu_slot_ms(h) + 999) / 1000);
        return;
    }
    const char *sub = q->path + b->column_len;
    if (!*sub) sub = "/";
    const char *pv[HOST_MAX_PARAMS + 1];
    size_t pl[HOST_MAX_PARAMS + 1];
    host_route *rt = NULL;
    bool path_known = false;
    const char *method = q->method;
    for (int pass = 0; pass < 2 && !rt; pass++) {
        for (size_t i = 0; i < p->nroutes; i++) {
            host_route *c = &p->routes[i];
            if (!host__match(c, sub, pv, pl)) continue;
            path_known = true;
            if (strcmp(c->method, method) == 0 || strcmp(c->method, "*") == 0) {
                rt = c;
                break;
            }
        }
        if (strcmp(q->method, "HEAD") != 0) break;
        method = "GET"; /* HEAD falls back to GET routes */
    }
    if (!rt) {
        if (!path_known) {
            http_respond_error(q, 404, NULL, 0);
            return;
        }
        char allow[256];
        size_t n = 0;
        for (size_t i = 0; i < p->nroutes; i++) {
            if (!host__match(&p->routes[i], sub, pv, pl)) continue;
            size_t ml = strlen(p->routes[i].method);
            if (n + ml + 8 >= sizeof allow) break;
            n += (size_t)snprintf(allow + n, sizeof allow - n, "%s%s%s", n ? ", " : "",
                                  p->routes[i].method,
                                  strcmp(p->routes[i].method, "GET") == 0 ? ", HEAD" : "");
        }
        http_header a = {"Allow", 5, allow, n};
        http_respond_error(q, 405, &a, 1);
        return;
    }
    /* CSRF, for every plugin in one place: an unsafe method runs nothing
     * without its browser's token. A form posted without it (a lost cookie,
     * a page left open past a login) is answered by the GET route of its
     * path with what was typed, so that a resident's text is not lost. */
    const char *m = q->method, *why;
    bool refill = false;
    if (strcmp(m, "GET") && strcmp(m, "HEAD") && strcmp(m, "OPTIONS") && strcmp(m, "TRACE") &&
        !rt->csrf_exempt && !p->csrf_exempt && !lua__csrf_ok(h, q, &why)) {
        host_route *form = NULL;
        const char *ct = http_request_header(q, "content-type");
        if (strcmp(m, "POST") == 0 && ct &&
            (!strncasecmp(ct, "application/x-www-form-urlencoded", 33) ||
             !strncasecmp(ct, "multipart/form-data", 19)))
            for (size_t i = 0; i < p->nroutes && !form; i++)
                if (strcmp(p->routes[i].method, "GET") == 0 &&
                    host__match(&p->routes[i], sub, pv, pl))
                    form = &p->routes[i];
        log_msg(LOG_WARN, "csrf: %s %s refused rid=%s: %s%s", q->method, q->path, q->id, why,
                form ? "; the form is shown again with what was typed" : "");
        if (!form) {
            http_respond_error(q, 403, NULL, 0);
            return;
        }
        rt = form; /* pv/pl hold its match now */
        refill = true;
    }
    host_req *r = lua__req_new(h, p);
    if (!r) {
        http_respond_error(q, 503, NULL, 0);
        return;
    }
    /* The route loop stopped on the chosen route: pv/pl hold its match. */
    memcpy(r->pv, pv, sizeof r->pv);
    memcpy(r->pl, pl, sizeof r->pl);
    r->binding = b;
    r->route = rt;
    r->csrf_refill = refill;
    r->http = q;
    r->subpath = sub;
    http_request_watch(q, host__on_gone, host__on_drain, r);
    lua_State *co = r->co;
    /* co's stack: req and res (those the handler declares), kept there for
     * the whole request, then the handler and its arguments. */
    if (rt->nargs >= 1) park_push_req(co, r);
    if (rt->nargs >= 2) park_push_res(co, r);
    lua_rawgeti(co, LUA_REGISTRYINDEX, rt->handler_ref);
    for (int i = 1; i <= rt->nargs; i++)
        lua_pushvalue(co, i);
    lua_req_resume(r, rt->nargs);
}

/* ---- reload and stop ---------------------------------------------------- */

static void host__end_stream(host_req *r, bool reconnect)
{
    host__req_quiet(r);
    if (r->http) {
        if (reconnect) {
            static const char hint[] = "retry: 1000\n\n";
            http_stream_write(r->http, hint, sizeof hint - 1);
        }
        http_stream_end(r->http);
        r->http = NULL;
    }
    r->state = REQ_DONE;
    host__req_free(r);
}

static void host__on_grace(uv_timer_t *t)
{
    lua_host *h = t->data;
    host_req *next;
    for (host_req *r = h->streams; r; r = next) {
        next = r->next_streaming;
        /* A stream whose plugin was reloaded; a change of bindings alone
         * keeps the same plugins, and their streams. */
        if (host__gen_find(h->gen, r->plugin->name) != r->plugin && r->state != REQ_RUNNING) {
            log_msg(LOG_INFO,
                    "plugin %s: ending a stream on the version before the reload "
                    "rid=%s",
                    r->plugin->name, r->http ? r->http->id : "-");
            host__end_stream(r, true);
        }
    }
}

int lua_host_reload(lua_host *h)
{
    log_msg(LOG_INFO, "reloading plugins and bindings");
    uint64_t seen = workers_site_version();
    host_gen *g = NULL;
    if (host__gen_build(h, h->gen, &g)) {
        log_msg(LOG_ERROR, "reload failed: the site keeps serving what it served before");
        return PH_EINVAL;
    }
    host_gen *old = h->gen;
    h->gen = g;
    h->site_seen = seen;
    host__gen_unref(old);
    log_msg(LOG_INFO, "reloaded: %zu plugin(s), %zu column(s)", g->nplugins, g->nbindings);
    if (h->streams && h->grace_open)
        uv_timer_start(&h->grace_timer, host__on_grace, (uint64_t)h->conf->reload_grace_ms, 0);
    return 0;
}

int lua_host_rebind(lua_host *h)
{
    host_gen *g = calloc(1, sizeof *g);
    if (!g) return PH_ENOMEM;
    g->refs = 1;
    g->id = ++h->next_gen_id;
    int rc = 0;
    for (size_t i = 0; !rc && h->gen && i < h->gen->nplugins; i++) {
        rc = host__gen_add(g, h->gen->plugins[i]);
        if (!rc) h->gen->plugins[i]->refs++;
    }
    if (!rc) rc = host__load_bindings(h, g);
    if (!rc) rc = host__gen_index(g);
    if (rc) {
        log_msg(LOG_ERROR, "the site's new columns cannot be served: %s", ph_strerror(rc));
        host__gen_unref(g);
        return rc;
    }
    host_gen *old = h->gen;
    h->gen = g;
    host__gen_unref(old);
    log_msg(LOG_INFO, "site: %zu column(s), %zu served", g->ncols, g->nbindings - 1);
    return 0;
}

int lua_host_site_changed(lua_host *h)
{
    uint64_t seen = workers_site_version();
    int rc = lua_host_rebind(h);
    h->site_seen = workers_site_changed(seen);
    return rc;
}

void lua_host_site_check(lua_host *h)
{
    uint64_t v = workers_site_version();
    if (v == h->site_seen) return;
    h->site_seen = v; /* before the read: a change committed after it shows again */
    lua_host_rebind(h);
}

void lua_host_notify(lua_host *h, const char *plugin, const char *key)
{
    host_plugin *p = lua__plugin_find(h, plugin);
    if (p) park_notify_local(p, key);
}

void lua_host_stop(lua_host *h)
{
    lua__jobs_stop(h);
    host_req *next;
    for (host_req *r = h->streams; r; r = next) {
        next = r->next_streaming;
        if (r->state != REQ_RUNNING) host__end_stream(r, true);
    }
    if (h->grace_open) {
        uv_close((uv_handle_t *)&h->grace_timer, NULL);
        uv_close((uv_handle_t *)&h->site_timer, NULL);
        uv_close((uv_handle_t *)&h->wake_idle, NULL);
        h->wake_open = false;
        h->grace_open = false;
    }
}

void lua_host_install_crash_report(void)
{
    lua__crash_report_install();
}

void lua_host_free(lua_host *h)
{
    if (!h) return;
    lua__watch_stop();
    while (h->nspare)
        free(h->spare[--h->nspare]);
    host__gen_unref(h->gen);
    free(h);
}
