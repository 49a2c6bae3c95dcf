/* park.log.info, park.log.warn, park.log.error: a plugin's log lines,
 * limited to plugin-log-lines a second. */
#include "log/log.h"
#include "park/park.h"

static int plog__emit(lua_State *L, log_level lvl)
{
    host_plugin *p = lua_plugin_of(L);
    host_req *r = lua_plugin_current(p);
    unsigned dropped;
    if (!lua_log_allowed(p, &dropped)) return 0;
    lua_join_args(L, ' ');
    if (dropped)
        log_msg(LOG_WARN, "plugin %s: %u log lines dropped (plugin-log-lines)", lua_plugin_name(p),
                dropped);
    log_msg(lvl, "plugin %s: %.4000s%s%s", lua_plugin_name(p), lua_tostring(L, -1),
            r && r->http ? " rid=" : "", r && r->http ? r->http->id : "");
    return 0;
}

static int l_park_log_info(lua_State *L)
{
    return plog__emit(L, LOG_INFO);
}

static int l_park_log_warn(lua_State *L)
{
    return plog__emit(L, LOG_WARN);
}

static int l_park_log_error(lua_State *L)
{
    return plog__emit(L, LOG_ERROR);
}

void park_open_log(lua_State *L)
{
    lua_createtable(L, 0, 3);
    lua_pushcfunction(L, l_park_log_info);
    lua_setfield(L, -2, "info");
    lua_pushcfunction(L, l_park_log_warn);
    lua_setfield(L, -2, "warn");
    lua_pushcfunction(L, l_park_log_error);
    lua_setfield(L, -2, "error");
    lua_setfield(L, -2, "log");
}
