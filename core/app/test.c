#include "app/app.h"
#include "log/log.h"

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#ifndef PARKHOST_LUALIB_DIR
#define PARKHOST_LUALIB_DIR "lualib"
#endif

/* busted runs in a full Lua state (specs are trusted code: they start sites,
 * make temporary files, speak HTTP). The host's own Lua libraries come first
 * on package.path; PARKHOST_LUALIB overrides where they are. */
int app_test(int argc, char **argv)
{
    lua_State *L = luaL_newstate();
    if (!L) {
        fprintf(stderr, "parkhost test: out of memory\n");
        return 1;
    }
    luaL_openlibs(L);

    const char *lib = getenv("PARKHOST_LUALIB");
    if (!lib) lib = PARKHOST_LUALIB_DIR;
    lua_getglobal(L, "package");
    lua_pushfstring(L, "%s/?.lua;%s/?/init.lua;", lib, lib);
    lua_getfield(L, -2, "path");
    lua_concat(L, 2);
    lua_setfield(L, -2, "path");
    lua_pop(L, 1);

    char self[4096];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n > 0) {
        self[n] = 0;
        lua_pushstring(L, self);
        lua_setglobal(L, "PARKHOST_BIN");
    }

    lua_createtable(L, argc, 1);
    lua_pushstring(L, "parkhost test");
    lua_rawseti(L, -2, 0);
    for (int i = 0; i < argc; i++) {
        lua_pushstring(L, argv[i]);
        lua_rawseti(L, -2, i + 1);
    }
    lua_setglobal(L, "arg");

    static const char boot[] = "local ok, runner = pcall(require, 'busted.runner')\n"
                               "if not ok then\n"
                               "  io.stderr:write('parkhost test: busted is not installed: '"
                               "    .. 'apt-get install lua-busted\\n')\n"
                               "  os.exit(1)\n"
                               "end\n"
                               "runner({ standalone = false })\n";
    int status = 0;
    if (luaL_loadbuffer(L, boot, sizeof boot - 1, "=parkhost test") != LUA_OK ||
        lua_pcall(L, 0, 0, 0) != LUA_OK) {
        fprintf(stderr, "parkhost test: %s\n", lua_tostring(L, -1));
        status = 1;
    }
    lua_close(L);
    return status;
}
