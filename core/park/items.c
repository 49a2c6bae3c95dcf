/* park.items: what a plugin reports it has published, in the site-wide
 * index (core/items), and what any plugin may read of it: the newest items
 * and site-wide search. docs/plugin-api.md documents it for authors.
 *
 * A plugin publishes only on a column bound to it, under its own name; the
 * publication time is the server's and no argument can set it. */
#include "items/items.h"
#include "park/park.h"
#include "workers/workers.h"

#include <string.h>

static const char *const items__attrs[] = {"doc_no", "index_no", "written_on",
                                           "topic",  "validity", NULL};

/* t[name] as a string of at most max bytes, or NULL when absent. */
static const char *items__field(lua_State *L, int t, const char *name, size_t max, bool required)
{
    lua_getfield(L, t, name);
    if (lua_isnil(L, -1)) {
        lua_pop(L, 1);
        if (required) luaL_error(L, "park.items.publish: %s is required", name);
        return NULL;
    }
    if (lua_type(L, -1) != LUA_TSTRING)
        luaL_error(L, "park.items.publish: %s must be a string", name);
    size_t n;
    const char *s = lua_tolstring(L, -1, &n);
    if (n > max) luaL_error(L, "park.items.publish: %s is longer than %d bytes", name, (int)max);
    lua_pop(L, 1); /* the table at t keeps the string alive */
    return s;
}

/* attrs as JSON, each a known name with a short string (written_on a
 * date), pushed and returned; "{}" without attrs. */
static const char *items__attrs_json(lua_State *L, int t)
{
    lua_getfield(L, t, "attrs");
    if (lua_isnil(L, -1)) {
        lua_pop(L, 1);
        lua_pushliteral(L, "{}");
        return lua_tostring(L, -1);
    }
    int a = lua_gettop(L);
    if (!lua_istable(L, a)) luaL_error(L, "park.items.publish: attrs must be a table");
    lua_pushnil(L);
    while (lua_next(L, a)) {
        bool known = false;
        if (lua_type(L, -2) == LUA_TSTRING)
            for (int i = 0; items__attrs[i]; i++)
                known = known || !strcmp(lua_tostring(L, -2), items__attrs[i]);
        if (!known)
            luaL_error(L, "park.items.publish: attrs may hold doc_no, index_no, written_on, "
                          "topic and validity only");
        size_t n;
        if (lua_type(L, -1) != LUA_TSTRING || (lua_tolstring(L, -1, &n), n > 200))
            luaL_error(L, "park.items.publish: attrs.%s must be a string of at most 200 bytes",
                       lua_tostring(L, -2));
        if (!strcmp(lua_tostring(L, -2), "written_on")) {
            const char *d = lua_tostring(L, -1);
            int y, m, dd;
            char end;
            if (strlen(d) != 10 || sscanf(d, "%4d-%2d-%2d%c", &y, &m, &dd, &end) != 3 || m < 1 ||
                m > 12 || dd < 1 || dd > 31)
                luaL_error(L, "park.items.publish: attrs.written_on (成文日期) is a date "
                              "YYYY-MM-DD");
        }
        lua_pop(L, 1);
    }
    return lua_json_encode(L, a, "attrs", NULL);
}

/* park.items.publish{ key =, title =, url =, kind =, column =, summary =,
 * text =, attrs = } -> { published_at =, updated_at =, first = } */
static int l_items_publish(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_settop(L, 1);
    static const char *const stamped[] = {"published_at", "updated_at", "published", NULL};
    for (int i = 0; stamped[i]; i++) {
        lua_getfield(L, 1, stamped[i]);
        if (!lua_isnil(L, -1))
            return luaL_error(L,
                              "park.items.publish: %s is stamped by the server and cannot be "
                              "given; a date the editor typed is attrs.written_on (成文日期)",
                              stamped[i]);
        lua_pop(L, 1);
    }
    host_plugin *p = lua_plugin_of(L);
    host_req *r = lua_req_of(L);
    items_item it = {
        .plugin = lua_plugin_name(p),
        .key = items__field(L, 1, "key", ITEMS_KEY_MAX, true),
        .title = items__field(L, 1, "title", ITEMS_TITLE_MAX, true),
        .url = items__field(L, 1, "url", 2048, true),
        .kind = items__field(L, 1, "kind", 32, true),
        .column = items__field(L, 1, "column", 1024, false),
        .summary = items__field(L, 1, "summary", 4096, false),
        .text = items__field(L, 1, "text", ITEMS_TEXT_MAX, false),
    };
    it.attrs = items__attrs_json(L, 1);
    if (!it.column) {
        if (!r || !r->binding)
            return luaL_error(L, "park.items.publish: column is required outside a request "
                                 "(a job)");
        it.column = r->binding->column;
    }
    /* Only on a column bound to this plugin. */
    const host_column *c = lua_column_find(lua_host_gen(lua_plugin_host(p)), it.column);
    if (!c || !c->plugin || strcmp(c->plugin, it.plugin) != 0)
        return luaL_error(L, "park.items.publish: column %s is not served by plugin %s", it.column,
                          it.plugin);
    lua_plugin_bill(p, (strlen(it.title) + (it.text ? strlen(it.text) : 0)) / 16);
    int64_t pub, upd;
    bool first;
    char err[256] = "";
    int rc = items_publish(park__store(L, lua_plugin_of(L), "park.items"), &it,
                           lua_now(lua_plugin_host(p)), &pub, &upd, &first, err, sizeof err);
    if (rc == PH_EINVAL) return luaL_error(L, "park.items.publish: %s", err);
    if (rc == PH_ENOTFOUND) return luaL_error(L, "park.items.publish: no column %s", it.column);
    if (rc) return luaL_error(L, "park.items.publish: the index cannot be written (%s)", err);
    lua_host_items_changed(lua_plugin_host(p));
    lua_createtable(L, 0, 3);
    lua_pushinteger(L, pub);
    lua_setfield(L, -2, "published_at");
    lua_pushinteger(L, upd);
    lua_setfield(L, -2, "updated_at");
    lua_pushboolean(L, first);
    lua_setfield(L, -2, "first");
    return 1;
}

/* park.items.withdraw(key) -> whether it was in the index */
static int l_items_withdraw(lua_State *L)
{
    const char *key = luaL_checkstring(L, 1);
    bool found;
    if (items_withdraw(park__store(L, lua_plugin_of(L), "park.items"),
                       lua_plugin_name(lua_plugin_of(L)), key, &found))
        return luaL_error(L, "park.items.withdraw: the index cannot be written");
    if (found) lua_host_items_changed(lua_plugin_host(lua_plugin_of(L)));
    lua_pushboolean(L, found);
    return 1;
}

static void items__push_row(void *ud, const items_row *r)
{
    lua_State *L = ud;
    lua_createtable(L, 0, 14);
    park__setstr(L, "plugin", r->plugin);
    park__setstr(L, "key", r->key);
    park__setstr(L, "column", r->column);
    park__setstr(L, "column_title", r->column_title);
    park__setstr(L, "unit", r->unit);
    park__setstr(L, "unit_name", r->unit_name);
    park__setstr(L, "kind", r->kind);
    park__setstr(L, "title", r->title);
    park__setstr(L, "url", r->url);
    park__setstr(L, "summary", r->summary);
    lua_json_decode(L, r->attrs);
    lua_setfield(L, -2, "attrs");
    lua_pushinteger(L, r->published_at);
    lua_setfield(L, -2, "published_at");
    lua_pushinteger(L, r->updated_at);
    lua_setfield(L, -2, "updated_at");
    lua_pushinteger(L, r->id);
    lua_setfield(L, -2, "id");
    lua_rawseti(L, -2, (lua_Integer)lua_rawlen(L, -2) + 1);
}

/* The filter in the options table at idx (may be absent). */
static items_filter items__filter(lua_State *L, int idx)
{
    items_filter f = {.limit = 10};
    if (lua_isnoneornil(L, idx)) return f;
    luaL_checktype(L, idx, LUA_TTABLE);
    const char **strs[] = {&f.column, &f.kind, &f.unit};
    const char *names[] = {"column", "kind", "unit"};
    for (int i = 0; i < 3; i++) {
        lua_getfield(L, idx, names[i]);
        if (!lua_isnil(L, -1) && lua_type(L, -1) != LUA_TSTRING)
            luaL_error(L, "park.items: %s must be a string", names[i]);
        *strs[i] = lua_tostring(L, -1); /* NULL when nil; kept on the stack */
    }
    lua_getfield(L, idx, "since");
    f.since = luaL_optinteger(L, -1, 0);
    lua_getfield(L, idx, "until");
    f.until = luaL_optinteger(L, -1, 0);
    lua_getfield(L, idx, "before");
    f.before_id = luaL_optinteger(L, -1, 0);
    lua_getfield(L, idx, "limit");
    lua_Integer limit = luaL_optinteger(L, -1, 10);
    if (limit < 1 || limit > 100) luaL_error(L, "park.items: limit is 1 to 100");
    f.limit = (int)limit;
    return f; /* the strings stay on the stack until the call returns */
}

/* park.items.latest{ column =, kind =, unit =, since =, until =, before =,
 * limit = } -> the newest items, newest first */
static int l_items_latest(lua_State *L)
{
    items_filter f = items__filter(L, 1);
    lua_newtable(L);
    if (items_list(park__store(L, lua_plugin_of(L), "park.items"), &f, items__push_row, L))
        return luaL_error(L, "park.items.latest: the index cannot be read");
    return 1;
}

/* park.items.search(q, { column =, kind =, unit =, since =, until =,
 * limit = }) -> the best matches first; nil and a reason for a query with
 * nothing to search for */
static int l_items_search(lua_State *L)
{
    size_t n;
    const char *q = luaL_checklstring(L, 1, &n);
    luaL_argcheck(L, n <= 200, 1, "a query is at most 200 bytes");
    items_filter f = items__filter(L, 2);
    f.query = q;
    f.before_id = 0;
    lua_newtable(L);
    int rc = items_list(park__store(L, lua_plugin_of(L), "park.items"), &f, items__push_row, L);
    if (rc == PH_EINVAL) {
        lua_pushnil(L);
        lua_pushliteral(L, "请输入要查找的字词");
        return 2;
    }
    if (rc) return luaL_error(L, "park.items.search: the index cannot be read");
    return 1;
}

/* park.items.version() -> an integer that grows with every change of the
 * index, from any worker or command: the stamp of a page built from it */
static int l_items_version(lua_State *L)
{
    if (workers__page) {
        lua_pushinteger(L, (lua_Integer)workers_items_version());
        return 1;
    }
    int64_t v; /* outside a supervised worker: the database's count */
    if (items_version(park__store(L, lua_plugin_of(L), "park.items"), &v))
        return luaL_error(L, "park.items.version: the index cannot be read");
    lua_pushinteger(L, v);
    return 1;
}

void park_open_items(lua_State *L)
{
    static const luaL_Reg fns[] = {{"publish", l_items_publish}, {"withdraw", l_items_withdraw},
                                   {"latest", l_items_latest},   {"search", l_items_search},
                                   {"version", l_items_version}, {NULL, NULL}};
    luaL_newlib(L, fns);
    lua_setfield(L, -2, "items");
}
