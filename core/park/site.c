/* park.site: the center's site model for plugins, and park.auth.can.
 *
 * Every plugin may read the model (units, the column tree, navigation,
 * bindings, the loaded plugins) and ask what the logged-in user may do.
 * Only the built-in admin console (lua_plugin_core(p)) may change it; each change is
 * checked here against the logged-in user's roles through site_can (the
 * one table of permissions, core/site), then made with its audit entry,
 * then served at once, by every worker (lua_host_site_changed). Passwords are hashed on the libuv
 * thread pool, as logins are checked (session.c). */
#include "audit/audit.h"
#include "auth/auth.h"
#include "calendar/calendar.h"
#include "log/log.h"
#include "park/park.h"
#include "site/site.h"

#include <stdlib.h>
#include <string.h>

static lua_host *site__host(lua_State *L)
{
    return lua_plugin_host(lua_plugin_of(L));
}

static int site__fail(lua_State *L, const char *code, const char *msg)
{
    lua_pushnil(L);
    lua_pushstring(L, msg);
    lua_pushstring(L, code);
    return 3;
}

static int site__fail_rc(lua_State *L, int rc, const char *msg)
{
    return site__fail(L,
                      rc == PH_ENOTFOUND ? "NOTFOUND"
                      : rc == PH_EEXISTS ? "EXISTS"
                      : rc == PH_EINVAL  ? "INVALID"
                                         : "ERROR",
                      msg);
}

/* ---- permissions ------------------------------------------------------ */

/* The column path an action is asked about: the argument, or the
 * request's column. */
static const char *site__path_arg(lua_State *L, int idx)
{
    if (!lua_isnoneornil(L, idx)) return luaL_checkstring(L, idx);
    host_req *r = lua_req_of(L);
    return r && r->binding ? r->binding->column : NULL;
}

/* park.auth.can(action, path) -> whether the logged-in user may. */
int park__auth_can(lua_State *L)
{
    const char *action = luaL_checkstring(L, 1);
    lua_host *h = site__host(L);
    host_req *r = lua_req_of(L);
    char login[128];
    int64_t uid = lua_host_store(h) ? park__session_user(r, login, sizeof login) : 0;
    const char *path = strcmp(action, "admin") == 0 ? NULL : site__path_arg(L, 2);
    lua_pushboolean(L, uid && site_can(lua_host_store(h), uid, action, path));
    return 1;
}

/* park.auth.can_unit(action, unit) -> whether the logged-in user may do
 * `action` for the unit with code `unit`. */
int park__auth_can_unit(lua_State *L)
{
    const char *action = luaL_checkstring(L, 1);
    const char *unit = luaL_optstring(L, 2, NULL);
    lua_host *h = site__host(L);
    host_req *r = lua_req_of(L);
    char login[128];
    int64_t uid = lua_host_store(h) ? park__session_user(r, login, sizeof login) : 0;
    lua_pushboolean(L, uid && site_can_unit(lua_host_store(h), uid, action, unit));
    return 1;
}

/* Who changes the site: the logged-in user of the console's request. Raises
 * for any plugin but the console; false when nobody is logged in. */
typedef struct {
    char actor[160], login[128], address[64];
    site_actor a;
} site__who;

/* Raises unless the caller is the console: before anything else, so that
 * a plugin learns nothing from its arguments' checks. */
static void site__core(lua_State *L, const char *fn)
{
    if (!lua_plugin_core(lua_plugin_of(L)))
        luaL_error(L, "park.site.%s is for the admin console only", fn);
}

static bool site__console(lua_State *L, const char *fn, site__who *w)
{
    host_plugin *p = lua_plugin_of(L);
    site__core(L, fn);
    host_req *r = lua_req_of(L);
    if (!r || !r->http) luaL_error(L, "park.site.%s is called while handling a request", fn);
    memset(w, 0, sizeof *w);
    int64_t uid = park__session_user(r, w->login, sizeof w->login);
    if (!uid) return false;
    snprintf(w->actor, sizeof w->actor, "user:%s", w->login);
    if (!park__client_ip(r, w->address, sizeof w->address)) w->address[0] = 0;
    w->a = (site_actor){w->actor, uid, w->address, lua_now(lua_plugin_host(p))};
    return true;
}

/* The console's caller, allowed `action` on `path`: true, or false with
 * FORBIDDEN pushed (3 values). */
static bool site__allowed(lua_State *L, const char *fn, const char *action, const char *path,
                          site__who *w)
{
    if (site__console(L, fn, w) &&
        site_can(lua_host_store(site__host(L)), w->a.user_id, action, path))
        return true;
    site__fail(L, "FORBIDDEN", "you may not do this");
    return false;
}

static int site__served(lua_State *L)
{
    lua_host_site_changed(site__host(L));
    lua_pushboolean(L, 1);
    return 1;
}

/* ---- reading ---------------------------------------------------------- */

static void site__push_column(lua_State *L, const host_column *c)
{
    lua_createtable(L, 0, 12);
    park__setstr(L, "path", c->path);
    park__setstr(L, "title", c->title);
    park__setstr(L, "kind", c->kind);
    park__setstr(L, "unit", c->unit);
    park__setstr(L, "unit_name", c->unit_name);
    park__setstr(L, "parent", c->parent);
    park__setstr(L, "plugin", c->plugin);
    lua_pushinteger(L, c->position);
    lua_setfield(L, -2, "position");
    lua_pushinteger(L, c->depth);
    lua_setfield(L, -2, "depth");
    if (c->max_stale_days) {
        lua_pushinteger(L, c->max_stale_days);
        lua_setfield(L, -2, "max_stale_days");
    }
    lua_pushboolean(L, c->plugin && c->enabled);
    lua_setfield(L, -2, "enabled");
    lua_pushboolean(L, c->served);
    lua_setfield(L, -2, "served");
}

/* park.site.generation(): a number that changes whenever the served site
 * model changes (a change in the console, a reload), for plugins' caches of
 * pages that show the navigation. */
static int l_site_generation(lua_State *L)
{
    const host_gen *g = lua_host_gen(site__host(L));
    lua_pushinteger(L, g ? (lua_Integer)lua_gen_id(g) : 0);
    return 1;
}

/* park.site.settings(): the site's settings, key -> value (the keys that
 * have one), as the served generation read them. */
static int l_site_settings(lua_State *L)
{
    const host_gen *g = lua_host_gen(site__host(L));
    size_t n = 0;
    char *const *kv = g ? lua_gen_settings(g, &n) : NULL;
    lua_createtable(L, 0, (int)n);
    for (size_t i = 0; i < n; i++)
        park__setstr(L, kv[2 * i], kv[2 * i + 1]);
    return 1;
}

/* park.site.setting_keys(): { { key =, label = }, ... } in the console's
 * order. */
static int l_site_setting_keys(lua_State *L)
{
    lua_newtable(L);
    for (int i = 0; site_setting_keys[i]; i++) {
        lua_createtable(L, 0, 2);
        park__setstr(L, "key", site_setting_keys[i]);
        park__setstr(L, "label", site_setting_label(site_setting_keys[i]));
        lua_rawseti(L, -2, i + 1);
    }
    return 1;
}

/* park.site.units() */
static int l_site_units(lua_State *L)
{
    lua_host *h = site__host(L);
    lua_newtable(L);
    if (!lua_host_store(h)) return 1;
    sqlite3_stmt *st =
        store_prepare(lua_host_store(h),
                      "SELECT code, name, is_center FROM park_units ORDER BY is_center DESC, code");
    if (!st) return site__fail(L, "ERROR", "the units cannot be read");
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        lua_createtable(L, 0, 3);
        park__setstr(L, "code", (const char *)sqlite3_column_text(st, 0));
        park__setstr(L, "name", (const char *)sqlite3_column_text(st, 1));
        lua_pushboolean(L, sqlite3_column_int(st, 2));
        lua_setfield(L, -2, "center");
        lua_rawseti(L, -2, (lua_Integer)lua_rawlen(L, -2) + 1);
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) return site__fail(L, "ERROR", "the units cannot be read");
    return 1;
}

/* park.site.columns() */
static int l_site_columns(lua_State *L)
{
    const host_gen *g = lua_host_gen(site__host(L));
    size_t ncols = 0;
    const host_column *cols = g ? lua_gen_columns(g, &ncols) : NULL;
    lua_createtable(L, (int)ncols, 0);
    for (size_t i = 0; i < ncols; i++) {
        site__push_column(L, &cols[i]);
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    return 1;
}

/* park.site.column([path]) */
static int l_site_column(lua_State *L)
{
    const char *path = site__path_arg(L, 1);
    const host_column *c = path ? lua_column_find(lua_host_gen(site__host(L)), path) : NULL;
    if (c)
        site__push_column(L, c);
    else
        lua_pushnil(L);
    return 1;
}

/* park.site.binding(path) -> { plugin, enabled, config } or nil. A config
 * may hold what only its plugin should know (a channel's key): the console
 * and the plugin bound there read it, no other plugin. */
static int l_site_binding(lua_State *L)
{
    const char *path = luaL_checkstring(L, 1);
    const host_column *c = lua_column_find(lua_host_gen(site__host(L)), path);
    host_plugin *p = lua_plugin_of(L);
    if (!c || !c->plugin || (!lua_plugin_core(p) && strcmp(c->plugin, lua_plugin_name(p)) != 0)) {
        lua_pushnil(L);
        return 1;
    }
    lua_createtable(L, 0, 3);
    park__setstr(L, "plugin", c->plugin);
    lua_pushboolean(L, c->enabled);
    lua_setfield(L, -2, "enabled");
    lua_getfield(L, LUA_REGISTRYINDEX, "park.loaded");
    if (lua_getfield(L, -1, "cjson") != LUA_TTABLE)
        return luaL_error(L, "park.site.binding needs lua-cjson (apt-get install lua-cjson)");
    lua_getfield(L, -1, "decode");
    lua_pushstring(L, c->config ? c->config : "{}");
    if (lua_pcall(L, 1, 1, 0) != LUA_OK || !lua_istable(L, -1)) {
        lua_pop(L, 1);
        lua_newtable(L);
    }
    lua_setfield(L, -4, "config");
    lua_pop(L, 2);
    return 1;
}

/* park.site.nav(): the served part of the tree, nested. A column is in it
 * when it is served or has a served column below; in tree order a
 * column's parent is the nearest column before it one level up. */
static int l_site_nav(lua_State *L)
{
    const host_gen *g = lua_host_gen(site__host(L));
    size_t n = 0;
    const host_column *cols = g ? lua_gen_columns(g, &n) : NULL;
    lua_newtable(L);
    if (!n) return 1;
    int top = lua_gettop(L);
    size_t *parent = malloc(n * sizeof *parent);
    bool *keep = calloc(n, sizeof *keep), *current = calloc(n, sizeof *current);
    if (!parent || !keep || !current) {
        free(parent);
        free(keep);
        free(current);
        return luaL_error(L, "not enough memory");
    }
    size_t last[SITE_DEPTH_MAX + 1];
    for (size_t i = 0; i < n; i++) {
        int d = cols[i].depth;
        parent[i] = d > 0 && d <= SITE_DEPTH_MAX ? last[d - 1] : SIZE_MAX;
        if (d <= SITE_DEPTH_MAX) last[d] = i;
    }
    for (size_t i = n; i-- > 0;)
        if ((keep[i] = keep[i] || cols[i].served) && parent[i] != SIZE_MAX) keep[parent[i]] = true;
    host_req *r = lua_req_of(L);
    const char *here = r && r->binding ? r->binding->column : NULL;
    for (size_t i = 0; here && i < n; i++)
        if (strcmp(cols[i].path, here) == 0)
            for (size_t k = i; k != SIZE_MAX; k = parent[k])
                current[k] = true;
    /* The stack holds the children list of each open level. */
    int depth = -1;
    for (size_t i = 0; i < n; i++) {
        const host_column *c = &cols[i];
        if (!keep[i] || c->depth > SITE_DEPTH_MAX) continue;
        while (depth >= c->depth) { /* close deeper levels */
            lua_pop(L, 1);
            depth--;
        }
        if (!lua_checkstack(L, 6)) break;
        lua_createtable(L, 0, 5);
        park__setstr(L, "path", c->path);
        park__setstr(L, "title", c->title);
        park__setstr(L, "kind", c->kind);
        lua_pushboolean(L, current[i]);
        lua_setfield(L, -2, "current");
        lua_pushboolean(L, c->served);
        lua_setfield(L, -2, "served");
        lua_newtable(L);
        lua_pushvalue(L, -1);
        lua_setfield(L, -3, "children");
        /* [.. list entry children]: append entry to list, keep children. */
        lua_insert(L, -2);
        lua_rawseti(L, -3, (lua_Integer)lua_rawlen(L, -3) + 1);
        depth = c->depth;
    }
    lua_settop(L, top);
    free(parent);
    free(keep);
    free(current);
    return 1;
}

static int site__by_name(const void *a, const void *b)
{
    return strcmp(lua_plugin_name(*(host_plugin *const *)a),
                  lua_plugin_name(*(host_plugin *const *)b));
}

/* park.site.plugins(): by name */
static int l_site_plugins(lua_State *L)
{
    const host_gen *g = lua_host_gen(site__host(L));
    size_t n = 0;
    host_plugin *const *plugins = g ? lua_gen_plugins(g, &n) : NULL;
    host_plugin **v = malloc((n + 1) * sizeof *v);
    if (!v) return luaL_error(L, "not enough memory");
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (!lua_plugin_core(plugins[i])) v[k++] = plugins[i];
    qsort(v, k, sizeof *v, site__by_name);
    lua_createtable(L, (int)k, 0);
    for (size_t i = 0; i < k; i++) {
        lua_createtable(L, 0, 4);
        park__setstr(L, "name", lua_plugin_name(v[i]));
        park__setstr(L, "version", lua_plugin_version(v[i]));
        park__setstr(L, "description", lua_plugin_description(v[i]));
        lua_push_schema(v[i], L);
        lua_setfield(L, -2, "config");
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    free(v);
    return 1;
}

/* ---- changes: the console only ------------------------------------------- */

/* park.site.unit_put(code, name) */
static int l_site_unit_put(lua_State *L)
{
    site__core(L, "unit_put");
    const char *code = luaL_checkstring(L, 1), *name = luaL_checkstring(L, 2), *why;
    site__who w;
    if (!site__allowed(L, "unit_put", "admin", NULL, &w)) return 3;
    int rc = site_unit_put(lua_host_store(site__host(L)), &w.a, code, name, &why);
    return rc ? site__fail_rc(L, rc, why) : site__served(L);
}

/* park.site.settings_put{ key = value, ... }: the settings given ("" removes
 * one), all or none, then served once; the center's administrator only.
 * On a bad value: nil, the reason, "INVALID" and the key. */
static int l_site_settings_put(lua_State *L)
{
    site__core(L, "settings_put");
    luaL_checktype(L, 1, LUA_TTABLE);
    site__who w;
    if (!site__allowed(L, "settings_put", "admin", NULL, &w)) return 3;
    for (lua_pushnil(L); lua_next(L, 1); lua_pop(L, 1))
        if (lua_type(L, -2) != LUA_TSTRING || lua_type(L, -1) != LUA_TSTRING ||
            !site_setting_label(lua_tostring(L, -2))) {
            lua_pushnil(L);
            lua_pushliteral(L, "没有这项网站设置，或者它的值不是文字");
            lua_pushliteral(L, "INVALID");
            lua_pushvalue(L, -5); /* the key */
            return 4;
        }
    store *db = lua_host_store(site__host(L));
    if (store_savepoint(db, "settings")) return site__fail(L, "ERROR", "数据库无法写入");
    int rc = 0;
    const char *why = NULL, *key = NULL;
    for (int i = 0; !rc && site_setting_keys[i]; i++) {
        lua_getfield(L, 1, site_setting_keys[i]);
        if (lua_isstring(L, -1)) {
            key = site_setting_keys[i];
            rc = site_setting_put(db, &w.a, key, lua_tostring(L, -1), &why);
        }
        lua_pop(L, 1);
    }
    if ((rc = store_release(db, "settings", rc))) {
        if (rc != PH_EINVAL) return site__fail(L, "ERROR", "数据库无法写入");
        site__fail_rc(L, rc, why);
        lua_pushstring(L, key);
        return 4;
    }
    return site__served(L);
}

/* ---- the calendar (holidays and 调休), kept in the console ------------- */

/* The audit entry of a calendar change; JSON strings made by SQLite. */
static int site__audit_calendar(store *db, const site__who *w, const char *action,
                                const char *object, const char *after_sql, const char *a1,
                                const char *a2, int64_t n)
{
    sqlite3_stmt *st = store_prepare(db, after_sql);
    if (!st) return PH_EDB;
    sqlite3_bind_text(st, 1, a1, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, a2, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, n);
    int rc = PH_EDB;
    if (sqlite3_step(st) == SQLITE_ROW) {
        audit_entry e = {0,
                         w->a.now,
                         w->a.actor,
                         w->a.user_id,
                         w->a.address,
                         action,
                         object,
                         NULL,
                         (const char *)sqlite3_column_text(st, 0)};
        rc = audit_record(db, &e);
    }
    sqlite3_finalize(st);
    return rc;
}

/* park.site.calendar(year) -> { { day =, kind =, name = }, ... } */
static int l_site_calendar(lua_State *L)
{
    site__core(L, "calendar");
    lua_Integer year = luaL_checkinteger(L, 1);
    luaL_argcheck(L, year >= 1970 && year <= 9999, 1, "a year");
    char y[8];
    snprintf(y, sizeof y, "%04d", (int)year);
    sqlite3_stmt *st =
        store_prepare(lua_host_store(site__host(L)),
                      "SELECT day, kind, name FROM park_calendar WHERE substr(day, 1, 4) = ?"
                      " ORDER BY day");
    if (!st) return site__fail(L, "ERROR", "日历无法读取");
    sqlite3_bind_text(st, 1, y, -1, SQLITE_STATIC);
    lua_newtable(L);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        lua_createtable(L, 0, 3);
        park__setstr(L, "day", (const char *)sqlite3_column_text(st, 0));
        park__setstr(L, "kind", (const char *)sqlite3_column_text(st, 1));
        park__setstr(L, "name", (const char *)sqlite3_column_text(st, 2));
        lua_rawseti(L, -2, (lua_Integer)lua_rawlen(L, -2) + 1);
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 1 : site__fail(L, "ERROR", "日历无法读取");
}

/* park.site.calendar_set(date, kind, name): kind "holiday", "workday" or
 * nil (back to an ordinary day); the center's administrator only. */
static int l_site_calendar_set(lua_State *L)
{
    site__core(L, "calendar_set");
    const char *date = luaL_checkstring(L, 1), *kind = luaL_optstring(L, 2, NULL);
    const char *name = luaL_optstring(L, 3, "");
    site__who w;
    if (!site__allowed(L, "calendar_set", "admin", NULL, &w)) return 3;
    int64_t day;
    if (calendar_parse(date, &day))
        return site__fail(L, "INVALID", "日期应为“年-月-日”格式的真实日期，如 2026-10-01");
    if (kind && strcmp(kind, "holiday") && strcmp(kind, "workday"))
        return site__fail(L, "INVALID", "类型应为放假或调休上班");
    if (strlen(name) > 100) return site__fail(L, "INVALID", "名称最多 100 字节");
    store *db = lua_host_store(site__host(L));
    if (store_savepoint(db, "calendar_set")) return site__fail(L, "ERROR", "数据库无法写入");
    char object[64];
    snprintf(object, sizeof object, "day:%s", date);
    int rc = calendar_set(db, day, kind, name);
    if (!rc)
        rc = site__audit_calendar(db, &w, "calendar.set", object,
                                  "SELECT CASE WHEN ?1 IS NULL THEN NULL"
                                  " ELSE json_object('kind', ?1, 'name', ?2) END",
                                  kind, name, 0);
    if (store_release(db, "calendar_set", rc)) return site__fail(L, "ERROR", "数据库无法写入");
    lua_pushboolean(L, 1);
    return 1;
}

/* park.site.calendar_import(text) -> days, source; or nil, message (the
 * line in Chinese), "INVALID". All the file's days or none. */
static int l_site_calendar_import(lua_State *L)
{
    site__core(L, "calendar_import");
    size_t len;
    const char *text = luaL_checklstring(L, 1, &len);
    luaL_argcheck(L, len <= (size_t)1 << 20, 1, "at most 1 MiB");
    site__who w;
    if (!site__allowed(L, "calendar_import", "admin", NULL, &w)) return 3;
    store *db = lua_host_store(site__host(L));
    if (store_savepoint(db, "calendar_file")) return site__fail(L, "ERROR", "数据库无法写入");
    int days;
    char *source = NULL, err[512];
    int rc = calendar_import(db, text, len, &days, &source, err, sizeof err);
    if (!rc)
        rc = site__audit_calendar(db, &w, "calendar.import", "calendar:file",
                                  "SELECT json_object('source', ?1, 'days', ?3)", source, NULL,
                                  days);
    if ((rc = store_release(db, "calendar_file", rc))) {
        free(source);
        return rc == PH_EINVAL ? site__fail(L, "INVALID", err)
                               : site__fail(L, "ERROR", "数据库无法写入");
    }
    lua_pushinteger(L, days);
    lua_pushstring(L, source);
    free(source);
    return 2;
}

static const char *site__field_str(lua_State *L, int t, const char *k)
{
    lua_getfield(L, t, k);
    const char *v = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : NULL;
    lua_pop(L, 1); /* the string stays alive in the table */
    return v;
}

/* An optional integer field: *out, or false when it is neither nil nor an
 * integer. */
static bool site__field_int(lua_State *L, int t, const char *k, int64_t *out)
{
    lua_getfield(L, t, k);
    bool ok = true;
    if (!lua_isnil(L, -1)) {
        int isint;
        lua_Integer v = lua_tointegerx(L, -1, &isint);
        if (isint && lua_type(L, -1) == LUA_TNUMBER)
            *out = v;
        else
            ok = false;
    }
    lua_pop(L, 1);
    return ok;
}

/* park.site.column_put{ path, title, kind, unit, parent, position, max_stale_days } */
static int l_site_column_put(lua_State *L)
{
    site__core(L, "column_put");
    luaL_checktype(L, 1, LUA_TTABLE);
    site__who w;
    if (!site__allowed(L, "column_put", "admin", NULL, &w)) return 3;
    site_column c = {.position = -1};
    c.path = site__field_str(L, 1, "path");
    c.title = site__field_str(L, 1, "title");
    c.kind = site__field_str(L, 1, "kind");
    c.unit = site__field_str(L, 1, "unit");
    c.parent = site__field_str(L, 1, "parent");
    if (!site__field_int(L, 1, "position", &c.position))
        return site__fail(L, "INVALID", "position: must be an integer");
    if (!site__field_int(L, 1, "max_stale_days", &c.max_stale_days))
        return site__fail(L, "INVALID", "max_stale_days: must be an integer");
    char why[512];
    int rc = site_column_put(lua_host_store(site__host(L)), &w.a, &c, why, sizeof why);
    return rc ? site__fail_rc(L, rc, why) : site__served(L);
}

/* park.site.bind(path, { plugin =, enabled =, config = }) */
static int l_site_bind(lua_State *L)
{
    site__core(L, "bind");
    const char *path = luaL_checkstring(L, 1);
    luaL_checktype(L, 2, LUA_TTABLE);
    site__who w;
    if (!site__allowed(L, "bind", "bind", path, &w)) return 3;
    lua_host *h = site__host(L);
    const char *plugin = site__field_str(L, 2, "plugin");
    lua_getfield(L, 2, "enabled");
    bool enabled = lua_isnil(L, -1) || lua_toboolean(L, -1);
    lua_pop(L, 1);
    if (!plugin) return site__fail(L, "INVALID", "plugin: the name of a plugin");
    lua_getfield(L, 2, "config");
    if (lua_isnil(L, -1)) {
        lua_pop(L, 1);
        lua_newtable(L);
    }
    int cfg = lua_gettop(L);
    if (!lua_istable(L, cfg)) return site__fail(L, "INVALID", "config: must be a table");
    char why[512];
    /* Stored as given: the plugin's defaults fill the rest when served. */
    char *json = NULL;
    if (lua_host_check_config(h, plugin, L, cfg, &json, why, sizeof why))
        return site__fail(L, "INVALID", why);
    const char *msg;
    int rc = site_bind(lua_host_store(h), &w.a, path, plugin, enabled, json, &msg);
    free(json);
    return rc ? site__fail_rc(L, rc, msg) : site__served(L);
}

/* park.site.unbind(path) */
static int l_site_unbind(lua_State *L)
{
    site__core(L, "unbind");
    const char *path = luaL_checkstring(L, 1), *why;
    site__who w;
    if (!site__allowed(L, "unbind", "bind", path, &w)) return 3;
    int rc = site_unbind(lua_host_store(site__host(L)), &w.a, path, &why);
    return rc ? site__fail_rc(L, rc, why) : site__served(L);
}

/* ---- users -------------------------------------------------------------- */

static void site__push_user(void *ud, const char *login, const char *name, bool disabled,
                            const char *roles)
{
    lua_State *L = ud;
    lua_createtable(L, 0, 4);
    park__setstr(L, "login", login);
    park__setstr(L, "name", name);
    lua_pushboolean(L, disabled);
    lua_setfield(L, -2, "disabled");
    /* roles is "editor@invest, reviewer@social" */
    lua_newtable(L);
    for (const char *s = roles; s && *s;) {
        const char *end = strstr(s, ", "), *at = strchr(s, '@');
        size_t n = end ? (size_t)(end - s) : strlen(s);
        if (at && at < s + n) {
            lua_createtable(L, 0, 2);
            lua_pushlstring(L, s, (size_t)(at - s));
            lua_setfield(L, -2, "role");
            lua_pushlstring(L, at + 1, (size_t)(s + n - at - 1));
            lua_setfield(L, -2, "unit");
            lua_rawseti(L, -2, (lua_Integer)lua_rawlen(L, -2) + 1);
        }
        s = end ? end + 2 : s + n;
    }
    lua_setfield(L, -2, "roles");
    lua_rawseti(L, -2, (lua_Integer)lua_rawlen(L, -2) + 1);
}

/* park.site.users() */
static int l_site_users(lua_State *L)
{
    site__core(L, "users");
    site__who w;
    if (!site__allowed(L, "users", "admin", NULL, &w)) return 3;
    lua_newtable(L);
    if (auth_each_user(lua_host_store(site__host(L)), site__push_user, L))
        return site__fail(L, "ERROR", "the accounts cannot be read");
    return 1;
}

static int site__user_audit(lua_State *L, const site__who *w, const char *action, const char *login,
                            const char *unit, const char *role)
{
    char object[100], after[200];
    snprintf(object, sizeof object, "user:%s", login);
    if (unit) snprintf(after, sizeof after, "{\"unit\":\"%s\",\"role\":\"%s\"}", unit, role);
    audit_entry e = {0,      w->a.now, w->actor, w->a.user_id,       w->address,
                     action, object,   NULL,     unit ? after : NULL};
    if (audit_record(lua_host_store(site__host(L)), &e))
        log_msg(LOG_ERROR, "%s %s: made, but not recorded in the audit log", action, login);
    lua_pushboolean(L, 1);
    return 1;
}

/* A unit code or role is checked by auth before it is used; these keep
 * the audit entry's JSON well-formed whatever they hold. */
static bool site__word_ok(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > 64) return false;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_' ||
              s[i] == '-' || s[i] == '.'))
            return false;
    return true;
}

/* park.site.grant(login, unit, role), park.site.revoke(login, unit, role) */
static int site__role(lua_State *L, bool grant)
{
    site__core(L, grant ? "grant" : "revoke");
    const char *login = luaL_checkstring(L, 1), *unit = luaL_checkstring(L, 2);
    const char *role = luaL_checkstring(L, 3), *why = "no such user, unit or role";
    site__who w;
    if (!site__allowed(L, grant ? "grant" : "revoke", "admin", NULL, &w)) return 3;
    if (!site__word_ok(login) || !site__word_ok(unit) || !auth_role_ok(role))
        return site__fail(L, "INVALID", "the role is admin, webmaster, editor, reviewer or leader");
    if (!grant && strcmp(login, w.login) == 0 && strcmp(role, "admin") == 0)
        return site__fail(L, "INVALID", "you cannot take away your own admin role");
    store *s = lua_host_store(site__host(L));
    int rc =
        grant ? auth_grant(s, login, unit, role, &why) : auth_revoke(s, login, unit, role, &why);
    if (rc) return site__fail_rc(L, rc, why);
    return site__user_audit(L, &w, grant ? "user.grant" : "user.revoke", login, unit, role);
}

static int l_site_grant(lua_State *L)
{
    return site__role(L, true);
}

static int l_site_revoke(lua_State *L)
{
    return site__role(L, false);
}

/* park.site.disable(login, disabled) */
static int l_site_disable(lua_State *L)
{
    site__core(L, "disable");
    const char *login = luaL_checkstring(L, 1);
    bool disabled = lua_toboolean(L, 2);
    site__who w;
    if (!site__allowed(L, "disable", "admin", NULL, &w)) return 3;
    if (disabled && strcmp(login, w.login) == 0)
        return site__fail(L, "INVALID", "you cannot disable your own account");
    int rc = auth_disable(lua_host_store(site__host(L)), login, disabled);
    if (rc) return site__fail_rc(L, rc, "there is no user with this login");
    return site__user_audit(L, &w, disabled ? "user.disable" : "user.enable", login, NULL, NULL);
}

/* A password hashed on the thread pool, for user_add and passwd. */
typedef struct {
    char pw[AUTH_PASSWORD_MAX + 1];
    size_t pwlen;
    char hash[AUTH_HASH_MAX];
    bool ok, add;
    char login[72], name[256], unit[72], role[16];
    site__who who;
} site__hashing;

static void site__hash(uv_work_t *w)
{
    site__hashing *x = w->data;
    x->ok = auth_hash(x->pw, x->pwlen, x->hash) == 0;
    explicit_bzero(x->pw, sizeof x->pw);
}

static void site__hashed(uv_work_t *w, int status)
{
    host_req *r = (host_req *)((char *)w - offsetof(host_req, work));
    site__hashing *x = w->data;
    r->work_pending = false;
    if (status) x->ok = false;
    if (r->orphaned) {
        explicit_bzero(x, sizeof *x);
        free(x);
        r->work.data = NULL;
        lua_req_end(r);
        return;
    }
    lua_req_resume(r, 0);
}

/* In the coroutine again: store the hash. */
static int site__hashed_k(lua_State *L, int status, lua_KContext ctx)
{
    (void)status;
    (void)ctx;
    host_req *r = lua_req_of(L);
    site__hashing x = *(site__hashing *)r->work.data;
    explicit_bzero(r->work.data, sizeof x);
    free(r->work.data);
    r->work.data = NULL;
    store *s = lua_host_store(site__host(L));
    const char *why = "there is no user with this login";
    int rc;
    if (!x.ok)
        rc = PH_ENOMEM, why = "not enough memory to hash the password";
    else if (x.add)
        rc = auth_user_add(s, x.login, x.name, x.hash, x.unit, x.role, x.who.a.now, &why);
    else
        rc = auth_set_hash(s, x.login, x.hash, x.who.a.now);
    explicit_bzero(x.hash, sizeof x.hash);
    if (rc) return site__fail_rc(L, rc, why);
    return site__user_audit(L, &x.who, x.add ? "user.add" : "user.passwd", x.login,
                            x.add ? x.unit : NULL, x.role);
}

static int site__with_hash(lua_State *L, site__hashing *x, const char *pw, size_t pl)
{
    host_req *r = lua_req_of(L);
    lua_host *h = site__host(L);
    const char *why;
    if (auth_password_ok(pw, pl, (size_t)lua_host_conf(h)->password_min_length, &why)) {
        free(x);
        return site__fail(L, "INVALID", why);
    }
    if (L != r->co || !lua_isyieldable(L)) {
        free(x);
        return luaL_error(L, "park.site: a password is set from the handler itself");
    }
    memcpy(x->pw, pw, pl);
    x->pwlen = pl;
    r->work.data = x;
    if (uv_queue_work(lua_host_loop(h), &r->work, site__hash, site__hashed) != 0) {
        explicit_bzero(x, sizeof *x);
        free(x);
        return site__fail(L, "ERROR", "the password cannot be hashed now");
    }
    r->work_pending = true;
    r->state = REQ_SLEEPING;
    return lua_yieldk(L, 0, 0, site__hashed_k);
}

/* park.site.user_add{ login, name, password, unit, role } */
static int l_site_user_add(lua_State *L)
{
    site__core(L, "user_add");
    luaL_checktype(L, 1, LUA_TTABLE);
    site__hashing *x = calloc(1, sizeof *x);
    if (!x) return luaL_error(L, "not enough memory");
    if (!site__allowed(L, "user_add", "admin", NULL, &x->who)) return free(x), 3;
    const char *login = site__field_str(L, 1, "login"), *name = site__field_str(L, 1, "name");
    const char *unit = site__field_str(L, 1, "unit"), *role = site__field_str(L, 1, "role");
    size_t pl = 0;
    lua_getfield(L, 1, "password");
    const char *pw = lua_type(L, -1) == LUA_TSTRING ? lua_tolstring(L, -1, &pl) : "";
    lua_pop(L, 1);
    const char *bad = !login || strlen(login) >= sizeof x->login
                          ? "login: 2 to 64 of a-z, 0-9, '.', '_' and '-'"
                      : name && strlen(name) >= sizeof x->name ? "name: at most 255 bytes"
                      : !site__word_ok(unit) ? "unit: there is no unit with this code"
                      : !auth_role_ok(role)  ? "role: admin, webmaster, editor, reviewer or leader"
                      : pl > AUTH_PASSWORD_MAX ? "a password is at most 1024 bytes"
                                               : NULL;
    if (bad) {
        free(x);
        return site__fail(L, "INVALID", bad);
    }
    x->add = true;
    snprintf(x->login, sizeof x->login, "%s", login);
    snprintf(x->name, sizeof x->name, "%s", name ? name : "");
    snprintf(x->unit, sizeof x->unit, "%s", unit);
    snprintf(x->role, sizeof x->role, "%s", role);
    return site__with_hash(L, x, pw, pl);
}

/* park.site.passwd(login, password) */
static int l_site_passwd(lua_State *L)
{
    site__core(L, "passwd");
    const char *login = luaL_checkstring(L, 1);
    size_t pl;
    const char *pw = luaL_checklstring(L, 2, &pl);
    site__hashing *x = calloc(1, sizeof *x);
    if (!x) return luaL_error(L, "not enough memory");
    if (!site__allowed(L, "passwd", "admin", NULL, &x->who)) return free(x), 3;
    if (strlen(login) >= sizeof x->login || pl > AUTH_PASSWORD_MAX) {
        free(x);
        return site__fail(L, pl > AUTH_PASSWORD_MAX ? "INVALID" : "NOTFOUND",
                          pl > AUTH_PASSWORD_MAX ? "a password is at most 1024 bytes"
                                                 : "there is no user with this login");
    }
    snprintf(x->login, sizeof x->login, "%s", login);
    return site__with_hash(L, x, pw, pl);
}

/* ---- the audit log ---------------------------------------------------- */

static void site__push_entry(void *ud, const audit_entry *e)
{
    lua_State *L = ud;
    lua_createtable(L, 0, 8);
    lua_pushinteger(L, e->id);
    lua_setfield(L, -2, "id");
    lua_pushinteger(L, e->at);
    lua_setfield(L, -2, "at");
    park__setstr(L, "actor", e->actor);
    park__setstr(L, "address", e->address);
    park__setstr(L, "action", e->action);
    park__setstr(L, "object", e->object);
    park__setstr(L, "before", e->before);
    park__setstr(L, "after", e->after);
    lua_rawseti(L, -2, (lua_Integer)lua_rawlen(L, -2) + 1);
}

/* park.site.audit{ actor =, action =, before =, limit = } */
static int l_site_audit(lua_State *L)
{
    site__core(L, "audit");
    site__who w;
    if (!site__allowed(L, "audit", "admin", NULL, &w)) return 3;
    audit_filter f = {0, NULL, NULL, 50, 0};
    if (lua_istable(L, 1)) {
        f.actor = site__field_str(L, 1, "actor");
        f.action = site__field_str(L, 1, "action");
        if (f.actor && !*f.actor) f.actor = NULL;
        if (f.action && !*f.action) f.action = NULL;
        if (!site__field_int(L, 1, "before", &f.before_id) ||
            !site__field_int(L, 1, "limit", &f.limit))
            return site__fail(L, "INVALID", "before and limit are integers");
        if (f.limit < 1 || f.limit > 1000) f.limit = 50;
    }
    lua_newtable(L);
    if (audit_each(lua_host_store(site__host(L)), &f, site__push_entry, L))
        return site__fail(L, "ERROR", "the audit log cannot be read");
    return 1;
}

void park_open_site(lua_State *L)
{
    static const luaL_Reg fns[] = {
        {"units", l_site_units},
        {"columns", l_site_columns},
        {"column", l_site_column},
        {"binding", l_site_binding},
        {"nav", l_site_nav},
        {"plugins", l_site_plugins},
        {"generation", l_site_generation},
        {"settings", l_site_settings},
        {"setting_keys", l_site_setting_keys},
        {"settings_put", l_site_settings_put},
        {"calendar", l_site_calendar},
        {"calendar_set", l_site_calendar_set},
        {"calendar_import", l_site_calendar_import},
        {"unit_put", l_site_unit_put},
        {"column_put", l_site_column_put},
        {"bind", l_site_bind},
        {"unbind", l_site_unbind},
        {"users", l_site_users},
        {"user_add", l_site_user_add},
        {"passwd", l_site_passwd},
        {"grant", l_site_grant},
        {"revoke", l_site_revoke},
        {"disable", l_site_disable},
        {"audit", l_site_audit},
        {NULL, NULL},
    };
    lua_newtable(L);
    luaL_setfuncs(L, fns, 0);
    lua_setfield(L, -2, "site");
}
