/* park.token: random tokens. */
#include "auth/auth.h"
#include "park/park.h"

/* park.token(): 22 random characters of [A-Za-z0-9_-] (132 bits, from
 * libsodium): a participant's browser, an invitation, a form's nonce. */
static int l_park_token(lua_State *L)
{
    char t[AUTH_BROWSER_MAX];
    auth_browser_id(t);
    lua_pushstring(L, t);
    return 1;
}

void park_open_token(lua_State *L)
{
    lua_pushcfunction(L, l_park_token);
    lua_setfield(L, -2, "token");
}
