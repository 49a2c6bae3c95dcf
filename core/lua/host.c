#include "lua/host.h"
#include "base/base.h"
#include "log/log.h"

#include <dirent.h>
#include <errno.h>
#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

enum { HOST__MAX_RESPONSE_HEADERS = 64 };

typedef struct {
    char *name;
    char *dir;  /* the plugin's folder */
    char *file; /* its plugin.lua */
    lua_State *L;
} host_plugin;

typedef struct {
    char *method;
    char *path;
    size_t plugin;   /* index in lua_host.plugins */
    int handler_ref; /* registry ref in plugin->L; released in lua_host_free */
} host_route;

struct lua_host {
    host_plugin *plugins;
    size_t nplugins;
    host_route *routes;
    size_t nroutes;
};

/* ---- loading ------------------------------------------------------------ */

static int host__msgh(lua_State *L)
{
    const char *msg = lua_tostring(L, 1);
    if (!msg) msg = lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
    luaL_traceback(L, L, msg, 1);
    return 1;
}

/* Open the libraries a plugin may use. */
static void host__open_libs(lua_State *L)
{
    static const luaL_Reg libs[] = {
        {LUA_GNAME, luaopen_base},
        {LUA_COLIBNAME, luaopen_coroutine},
        {LUA_TABLIBNAME, luaopen_table},
        {LUA_STRLIBNAME, luaopen_string},
        {LUA_MATHLIBNAME, luaopen_math},
        {LUA_UTF8LIBNAME, luaopen_utf8},
        {NULL, NULL},
    };
    for (const luaL_Reg *l = libs; l->func; l++) {
        luaL_requiref(L, l->name, l->func, 1);
        lua_pop(L, 1);
    }
    /* No file access from plugins. */
    lua_pushnil(L);
    lua_setglobal(L, "dofile");
    lua_pushnil(L);
    lua_setglobal(L, "loadfile");
}

static host_route *host__find(lua_host *h, const char *method, const char *path)
{
    for (size_t i = 0; i < h->nroutes; i++)
        if (strcmp(h->routes[i].path, path) == 0 && strcmp(h->routes[i].method, method) == 0)
            return &h->routes[i];
    return NULL;
}

/* Read manifest.routes (the table on top of p->L) into h->routes. Returns 0,
 * or PH_EINVAL with a reason in `why`. */
static int host__add_routes(lua_host *h, size_t pi, char *why, size_t whylen)
{
    lua_State *L = h->plugins[pi].L;
    if (lua_getfield(L, -1, "routes") != LUA_TTABLE) {
        snprintf(why, whylen, "manifest field 'routes' must be a table");
        return PH_EINVAL;
    }
    size_t first = h->nroutes;
    lua_Integer n = luaL_len(L, -1);
    for (lua_Integer i = 1; i <= n; i++) {
        lua_geti(L, -1, i);
        if (!lua_istable(L, -1) || lua_geti(L, -1, 1) != LUA_TSTRING ||
            lua_geti(L, -2, 2) != LUA_TSTRING || lua_geti(L, -3, 3) != LUA_TFUNCTION) {
            snprintf(why, whylen, "routes[%lld] must be { METHOD, \"/path\", function }",
                     (long long)i);
            goto fail;
        }
        const char *method = lua_tostring(L, -3), *path = lua_tostring(L, -2);
        if (path[0] != '/') {
            snprintf(why, whylen, "routes[%lld]: path '%s' must start with /", (long long)i, path);
            goto fail;
        }
        host_route *dup = host__find(h, method, path);
        if (dup) {
            snprintf(why, whylen, "routes[%lld]: %s %s is already served by plugin '%s'",
                     (long long)i, method, path, h->plugins[dup->plugin].name);
            goto fail;
        }
        host_route *nr = realloc(h->routes, (h->nroutes + 1) * sizeof *nr);
        if (!nr) goto fail;
        h->routes = nr;
        host_route *r = &h->routes[h->nroutes];
        r->method = strdup(method);
        r->path = strdup(path);
        r->plugin = pi;
        if (!r->method || !r->path) {
            free(r->method);
            free(r->path);
            goto fail;
        }
        r->handler_ref = luaL_ref(L, LUA_REGISTRYINDEX); /* pops the function */
        h->nroutes++;
        lua_pop(L, 3); /* path, method, route */
    }
    lua_pop(L, 1);
    return 0;
fail:
    /* Undo this plugin's routes; its state is about to be closed. */
    for (size_t i = first; i < h->nroutes; i++) {
        free(h->routes[i].method);
        free(h->routes[i].path);
    }
    h->nroutes = first;
    if (!why[0]) snprintf(why, whylen, "out of memory");
    return PH_EINVAL;
}

static void host__plugin_free(host_plugin *p)
{
    if (p->L) lua_close(p->L);
    free(p->name);
    free(p->dir);
    free(p->file);
}

/* Load the plugin in folder `dir`; on failure log why and leave it out. */
static int host__load(lua_host *h, const char *dir, const char *folder)
{
    host_plugin p = {0};
    size_t dl = strlen(dir), fl = strlen(folder);
    p.dir = malloc(dl + fl + 2);
    p.file = malloc(dl + fl + sizeof "/plugin.lua" + 1);
    p.name = strdup(folder);
    if (!p.dir || !p.file || !p.name) goto nomem;
    snprintf(p.dir, dl + fl + 2, "%s/%s", dir, folder);
    snprintf(p.file, dl + fl + sizeof "/plugin.lua" + 1, "%s/plugin.lua", p.dir);
    struct stat st;
    if (stat(p.file, &st) != 0) { /* not a plugin folder */
        host__plugin_free(&p);
        return 0;
    }
    if (!(p.L = luaL_newstate())) goto nomem;
    lua_State *L = p.L;
    host__open_libs(L);
    lua_pushcfunction(L, host__msgh);
    char why[512] = "";
    if (luaL_loadfilex(L, p.file, "t") != LUA_OK || lua_pcall(L, 0, 1, -2) != LUA_OK) {
        log_msg(LOG_ERROR, "plugin %s not loaded: %s", p.name, lua_tostring(L, -1));
        host__plugin_free(&p);
        return 0;
    }
    if (!lua_istable(L, -1)) {
        snprintf(why, sizeof why, "plugin.lua must return its manifest table, not %s",
                 luaL_typename(L, -1));
    } else if (lua_getfield(L, -1, "name") != LUA_TSTRING ||
               strcmp(lua_tostring(L, -1), p.name) != 0) {
        snprintf(why, sizeof why, "manifest field 'name' must be \"%s\", the folder's name",
                 p.name);
    }
    if (!why[0]) {
        lua_pop(L, 1);
        for (size_t i = 0; i < h->nplugins; i++)
            if (strcmp(h->plugins[i].name, p.name) == 0)
                snprintf(why, sizeof why, "a plugin named '%s' is already loaded from %s", p.name,
                         h->plugins[i].dir);
    }
    if (!why[0]) {
        host_plugin *np = realloc(h->plugins, (h->nplugins + 1) * sizeof *np);
        if (!np) goto nomem;
        h->plugins = np;
        h->plugins[h->nplugins] = p;
        host__add_routes(h, h->nplugins, why, sizeof why);
    }
    if (why[0]) {
        log_msg(LOG_ERROR, "plugin %s not loaded: %s: %s", p.name, p.file, why);
        host__plugin_free(&p);
        return 0;
    }
    lua_settop(L, 0);
    lua_gc(L, LUA_GCCOLLECT);
    h->nplugins++;
    log_msg(LOG_INFO, "plugin %s loaded from %s", p.name, p.dir);
    return 0;
nomem:
    host__plugin_free(&p);
    return PH_ENOMEM;
}

static int host__cmp(const struct dirent **a, const struct dirent **b)
{
    return strcmp((*a)->d_name, (*b)->d_name);
}

int lua_host_new(lua_host **out, const conf_list *dirs)
{
    lua_host *h = calloc(1, sizeof *h);
    if (!h) return PH_ENOMEM;
    int rc = 0;
    for (size_t d = 0; d < dirs->n && !rc; d++) {
        struct dirent **names;
        int n = scandir(dirs->v[d], &names, NULL, host__cmp);
        if (n < 0) {
            log_msg(LOG_WARN, "plugin directory %s cannot be read: %s", dirs->v[d],
                    strerror(errno));
            continue;
        }
        for (int i = 0; i < n; i++) {
            if (!rc && names[i]->d_name[0] != '.') rc = host__load(h, dirs->v[d], names[i]->d_name);
            free(names[i]);
        }
        free(names);
    }
    if (rc) {
        lua_host_free(h);
        return rc;
    }
    *out = h;
    return 0;
}

size_t lua_host_nplugins(const lua_host *h)
{
    return h->nplugins;
}

void lua_host_free(lua_host *h)
{
    if (!h) return;
    for (size_t i = 0; i < h->nroutes; i++) {
        luaL_unref(h->plugins[h->routes[i].plugin].L, LUA_REGISTRYINDEX, h->routes[i].handler_ref);
        free(h->routes[i].method);
        free(h->routes[i].path);
    }
    for (size_t i = 0; i < h->nplugins; i++)
        host__plugin_free(&h->plugins[i]);
    free(h->routes);
    free(h->plugins);
    free(h);
}

/* ---- handling ----------------------------------------------------------- */

static void host__push_request(lua_State *co, const http_request *req)
{
    lua_createtable(co, 0, 8);
    lua_pushstring(co, req->method);
    lua_setfield(co, -2, "method");
    lua_pushlstring(co, req->path, req->path_len);
    lua_setfield(co, -2, "path");
    lua_pushlstring(co, req->query, req->query_len);
    lua_setfield(co, -2, "query");
    lua_pushlstring(co, req->target, req->target_len);
    lua_setfield(co, -2, "target");
    lua_pushlstring(co, req->body ? req->body : "", req->body_len);
    lua_setfield(co, -2, "body");
    lua_pushstring(co, req->id);
    lua_setfield(co, -2, "id");
    /* Header names lowercased; a repeated header keeps its first value. */
    lua_createtable(co, 0, (int)req->nheaders);
    for (size_t i = 0; i < req->nheaders; i++) {
        const http_header *hd = &req->headers[i];
        char name[256];
        size_t n = hd->name_len < sizeof name ? hd->name_len : sizeof name;
        for (size_t j = 0; j < n; j++)
            name[j] =
                (char)((hd->name[j] >= 'A' && hd->name[j] <= 'Z') ? hd->name[j] + 32 : hd->name[j]);
        lua_pushlstring(co, name, n);
        if (lua_rawget(co, -2) == LUA_TNIL) {
            lua_pop(co, 1);
            lua_pushlstring(co, name, n);
            lua_pushlstring(co, hd->value, hd->value_len);
            lua_rawset(co, -3);
        } else {
            lua_pop(co, 1);
        }
    }
    lua_setfield(co, -2, "headers");
}

/* Turn a handler's results (on co's stack from index `base`, `nres` of them)
 * into a response. Returns NULL on success or a message on a bad return. */
static const char *host__respond(lua_State *co, int base, int nres, http_request *req)
{
    static const http_header html = {"Content-Type", 12, "text/html; charset=utf-8", 24};
    if (nres >= 1 && lua_type(co, base) == LUA_TSTRING) {
        size_t len;
        const char *body = lua_tolstring(co, base, &len);
        return http_respond(req, 200, &html, 1, body, len) ? "bad response" : NULL;
    }
    if (nres < 1 || !lua_isinteger(co, base))
        return "handler must return a body string, or status, body, headers";
    lua_Integer status = lua_tointeger(co, base);
    size_t blen = 0;
    const char *body = "";
    if (nres >= 2 && !lua_isnil(co, base + 1)) {
        if (lua_type(co, base + 1) != LUA_TSTRING) return "response body must be a string";
        body = lua_tolstring(co, base + 1, &blen);
    }
    http_header hs[HOST__MAX_RESPONSE_HEADERS];
    size_t nh = 0;
    bool has_type = false;
    if (nres >= 3 && !lua_isnil(co, base + 2)) {
        if (!lua_istable(co, base + 2)) return "response headers must be a table";
        lua_pushnil(co);
        while (lua_next(co, base + 2)) {
            if (lua_type(co, -2) != LUA_TSTRING || lua_type(co, -1) != LUA_TSTRING) {
                lua_pop(co, 2);
                return "response headers must map names to strings";
            }
            if (nh == HOST__MAX_RESPONSE_HEADERS) {
                lua_pop(co, 2);
                return "too many response headers";
            }
            /* Both strings stay referenced by the table until we return. */
            hs[nh].name = lua_tolstring(co, -2, &hs[nh].name_len);
            hs[nh].value = lua_tolstring(co, -1, &hs[nh].value_len);
            if (hs[nh].name_len == 12 && strncasecmp(hs[nh].name, "content-type", 12) == 0)
                has_type = true;
            nh++;
            lua_pop(co, 1);
        }
    }
    if (!has_type && nh < HOST__MAX_RESPONSE_HEADERS) hs[nh++] = html;
    if (http_respond(req, (int)status, hs, nh, body, blen))
        return "bad status or header (status 200-599; no CR/LF; Content-Length, "
               "Transfer-Encoding and Connection are the server's)";
    return NULL;
}

static void host__run(lua_host *h, host_route *rt, http_request *req)
{
    host_plugin *p = &h->plugins[rt->plugin];
    lua_State *L = p->L;
    lua_State *co = lua_newthread(L);
    int co_ref = luaL_ref(L, LUA_REGISTRYINDEX); /* keeps co alive; unref below */
    lua_rawgeti(co, LUA_REGISTRYINDEX, rt->handler_ref);
    host__push_request(co, req);
    int nres = 0;
    int st = lua_resume(co, L, 1, &nres);
    if (st == LUA_OK) {
        const char *bad = host__respond(co, lua_gettop(co) - nres + 1, nres, req);
        if (bad) {
            log_msg(LOG_ERROR, "plugin %s: %s %s: %s (%s) rid=%s", p->name, req->method, req->path,
                    bad, p->file, req->id);
            http_respond_error(req, 500, NULL, 0);
        }
    } else {
        const char *msg;
        if (st == LUA_YIELD) {
            msg = "handler yielded outside a waiting API";
        } else {
            msg = lua_tostring(co, -1);
            if (!msg)
                msg = lua_pushfstring(co, "(error object is a %s value)", luaL_typename(co, -1));
        }
        luaL_traceback(L, co, msg, 0);
        log_msg(LOG_ERROR, "plugin %s: %s %s failed rid=%s: %s", p->name, req->method, req->path,
                req->id, lua_tostring(L, -1));
        lua_pop(L, 1);
        http_respond_error(req, 500, NULL, 0);
    }
    lua_resetthread(co);
    luaL_unref(L, LUA_REGISTRYINDEX, co_ref);
}

void lua_host_handle(void *host, http_request *req)
{
    lua_host *h = host;
    host_route *rt = host__find(h, req->method, req->path);
    if (!rt && strcmp(req->method, "HEAD") == 0) rt = host__find(h, "GET", req->path);
    if (rt) {
        host__run(h, rt, req);
        return;
    }
    /* The path may exist for other methods: 405 with Allow, else 404. */
    char allow[256];
    size_t n = 0;
    for (size_t i = 0; i < h->nroutes; i++) {
        if (strcmp(h->routes[i].path, req->path) != 0) continue;
        size_t ml = strlen(h->routes[i].method);
        if (n + ml + 8 >= sizeof allow) break;
        if (n) {
            memcpy(allow + n, ", ", 2);
            n += 2;
        }
        memcpy(allow + n, h->routes[i].method, ml);
        n += ml;
        if (strcmp(h->routes[i].method, "GET") == 0) {
            memcpy(allow + n, ", HEAD", 6);
            n += 6;
        }
    }
    if (n) {
        http_header a = {"Allow", 5, allow, n};
        http_respond_error(req, 405, &a, 1);
    } else {
        http_respond_error(req, 404, NULL, 0);
    }
}
