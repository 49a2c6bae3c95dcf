/* The `park` module a plugin requires, assembled from every area of
 * PARK_AREAS (park.h), and the life of the request and response objects its
 * handlers get. docs/plugin-api.md documents every function. */
#include "park/park.h"

#include <unistd.h>

const char PARK__REQ[] = "park.request";
const char PARK__RES[] = "park.response";
static const char PARK__MODULE[] = "park.module"; /* registry: the park table */

host_req *park__check(lua_State *L, int idx, const char *mt)
{
    park__obj *o = luaL_checkudata(L, idx, mt);
    if (!o->r)
        luaL_error(L, "attempt to use a finished %s", mt == PARK__REQ ? "request" : "response");
    return o->r;
}

void park_push_req(lua_State *co, host_req *r)
{
    park__obj *o = lua_newuserdatauv(co, sizeof *o, 1);
    o->r = r;
    luaL_setmetatable(co, PARK__REQ);
    r->req_obj = o;
}

void park_push_res(lua_State *co, host_req *r)
{
    park__obj *o = lua_newuserdatauv(co, sizeof *o, 0);
    o->r = r;
    luaL_setmetatable(co, PARK__RES);
    r->res_obj = o;
}

/* The objects are still alive here: they sit at the bottom of co's stack
 * until the coroutine is reset. */
void park_req_close(host_req *r)
{
    park__unwait(r);
    ph_buf_free(&r->uploads);
    if (r->res_obj) ((park__obj *)r->res_obj)->r = NULL;
    if (!r->req_obj) return;
    ((park__obj *)r->req_obj)->r = NULL;
    lua_State *L = r->co;
    /* Remove uploaded files the handler did not move away. */
    if (L && lua_checkstack(L, 4) && lua_touserdata(L, 1) == r->req_obj &&
        lua_getiuservalue(L, 1, 1) == LUA_TTABLE) {
        if (lua_getfield(L, -1, "_spooled") == LUA_TTABLE) {
            lua_Integer n = (lua_Integer)lua_rawlen(L, -1);
            for (lua_Integer i = 1; i <= n; i++) {
                lua_rawgeti(L, -1, i);
                unlink(lua_tostring(L, -1));
                lua_pop(L, 1);
            }
        }
        lua_pop(L, 1);
    }
    lua_pop(L, 1);
}

void park__answered(host_req *r)
{
    if (r->req_obj) ((park__obj *)r->req_obj)->r = NULL;
    if (r->res_obj) ((park__obj *)r->res_obj)->r = NULL;
}

void park_open(lua_State *L)
{
    lua_newtable(L);
#define PARK__OPEN(area) park_open_##area(L);
    PARK_AREAS(PARK__OPEN)
#undef PARK__OPEN
    lua_pushvalue(L, -1);
    lua_setfield(L, LUA_REGISTRYINDEX, PARK__MODULE);
    /* require("park") finds it in the require cache. */
    lua_getfield(L, LUA_REGISTRYINDEX, "park.loaded");
    lua_pushvalue(L, -2);
    lua_setfield(L, -2, "park");
    lua_pop(L, 2);
}

store *park__store(lua_State *L, host_plugin *p, const char *api)
{
    store *s = lua_host_store(lua_plugin_host(p));
    if (!s) luaL_error(L, "%s: this host has no database", api);
    return s;
}

void park__setstr(lua_State *L, const char *k, const char *v)
{
    if (!v) return;
    lua_pushstring(L, v);
    lua_setfield(L, -2, k);
}
