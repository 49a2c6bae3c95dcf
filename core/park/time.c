/* park.now and park.sleep: the park clock, and waiting for time. */
#include "park/park.h"

static void time__on_sleep(uv_timer_t *t)
{
    host_req *r = t->data;
    if (r->state == REQ_SLEEPING) lua_req_resume(r, 0);
}

static int l_park_sleep(lua_State *L)
{
    lua_Integer ms = luaL_checkinteger(L, 1);
    luaL_argcheck(L, ms >= 0 && ms <= 24LL * 3600 * 1000, 1, "from 0 to 86400000 ms");
    host_req *r = lua_req_of(L);
    if (!r || L != r->co || !lua_isyieldable(L))
        return luaL_error(L, "park.sleep must be called from the handler itself, not from a "
                             "coroutine of the plugin or a callback of a C function");
    lua_req_sleep(r, time__on_sleep, (uint64_t)ms);
    return lua_yield(L, 0);
}

/* park.now(): seconds since the epoch on the park clock. */
static int l_park_now(lua_State *L)
{
    lua_pushinteger(L, lua_now(lua_plugin_host(lua_plugin_of(L))));
    return 1;
}

void park_open_time(lua_State *L)
{
    lua_pushcfunction(L, l_park_now);
    lua_setfield(L, -2, "now");
    lua_pushcfunction(L, l_park_sleep);
    lua_setfield(L, -2, "sleep");
}
