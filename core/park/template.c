/* park.render: the plugin's templates (lualib/park/template.lua), loaded
 * from its templates/ folder or the host's. */
#include "park/park.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static const char TEMPLATE__ENGINE[] = "park.engine"; /* registry: template engine */
enum { TEMPLATE__MAX = 4 * 1024 * 1024 };

static int template__pushl(lua_State *L)
{
    lua_pushlstring(L, lua_touserdata(L, 1), (size_t)lua_tointeger(L, 2));
    return 1;
}

/* The template loader: a file of the plugin's templates/ folder, or, for
 * a name under "park/", of the host's (lualib/park/templates: the site's
 * layout, shared by every plugin's pages). */
static int l_park_read_template(lua_State *L)
{
    host_plugin *p = lua_plugin_of(L);
    size_t nlen;
    const char *name = luaL_checklstring(L, 1, &nlen);
    bool ok =
        name[0] && name[0] != '/' && !strstr(name, "..") && strlen(name) == nlen && nlen <= 255;
    for (const char *c = name; *c && ok; c++)
        ok = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
             *c == '_' || *c == '-' || *c == '.' || *c == '/';
    if (!ok) {
        lua_pushnil(L);
        lua_pushfstring(L, "bad template name '%s'", name);
        return 2;
    }
    bool host = strncmp(name, "park/", 5) == 0;
    const char *root = host ? lua_host_conf(lua_plugin_host(p))->lualib : lua_plugin_dir(p);
    lua_pushfstring(L, host ? "park/templates/%s" : "templates/%s", host ? name + 5 : name);
    const char *rel = lua_tostring(L, -1);
    char *data;
    size_t len;
    int rc = lua__slurp_beneath(root, rel, TEMPLATE__MAX, &data, &len);
    if (rc) {
        lua_pushnil(L);
        lua_pushfstring(L, "template %s: %s/%s",
                        rc == -ELOOP   ? "leads through a symbolic link"
                        : rc == -EFBIG ? "is larger than 4 MiB"
                                       : "not found",
                        root, rel);
        return 2;
    }
    /* Pushed in a protected call: a memory error must not leak data. */
    lua_pushcfunction(L, template__pushl);
    lua_pushlightuserdata(L, data);
    lua_pushinteger(L, (lua_Integer)len);
    int st = lua_pcall(L, 2, 1, 0);
    free(data);
    if (st != LUA_OK) return lua_error(L);
    lua_pushfstring(L, "%s/%s", root, rel); /* the display path */
    return 2;
}

/* park.render(name, ctx): the plugin's templates/name rendered with ctx. */
static int l_park_render(lua_State *L)
{
    luaL_checkstring(L, 1);
    lua_settop(L, 2);
    if (lua_getfield(L, LUA_REGISTRYINDEX, TEMPLATE__ENGINE) == LUA_TNIL) {
        lua_pop(L, 1);
        lua_rawgeti(L, LUA_REGISTRYINDEX, lua_plugin_env_ref(lua_plugin_of(L)));
        lua_getfield(L, -1, "require");
        lua_pushliteral(L, "park.template");
        lua_call(L, 1, 1);
        lua_getfield(L, -1, "new");
        lua_createtable(L, 0, 1);
        lua_pushcfunction(L, l_park_read_template);
        lua_setfield(L, -2, "load");
        lua_call(L, 1, 1);
        lua_pushvalue(L, -1);
        lua_setfield(L, LUA_REGISTRYINDEX, TEMPLATE__ENGINE);
    }
    lua_getfield(L, -1, "render");
    lua_insert(L, -2);
    lua_pushvalue(L, 1);
    lua_pushvalue(L, 2);
    lua_call(L, 3, 1);
    return 1;
}

void park_open_template(lua_State *L)
{
    lua_pushcfunction(L, l_park_render);
    lua_setfield(L, -2, "render");
}
