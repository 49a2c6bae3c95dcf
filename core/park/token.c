/* park.token: random tokens; park.sha256: a digest. */
#include "auth/auth.h"
#include "park/park.h"

#include <sodium.h>

/* park.token(): 22 random characters of [A-Za-z0-9_-] (132 bits, from
 * libsodium): a participant's browser, an invitation, a form's nonce. */
static int l_park_token(lua_State *L)
{
    char t[AUTH_BROWSER_MAX];
    auth_browser_id(t);
    lua_pushstring(L, t);
    return 1;
}

/* park.sha256(s): the SHA-256 of the string s, 64 lower-case hex digits:
 * an API key kept as its digest (a key of 132 random bits needs no slow
 * password hash), a content fingerprint. */
static int l_park_sha256(lua_State *L)
{
    size_t n;
    const char *s = luaL_checklstring(L, 1, &n);
    lua_bill_check(L, n / 16, "park.sha256"); /* work in C, billed by its size */
    unsigned char d[crypto_hash_sha256_BYTES];
    char hex[2 * crypto_hash_sha256_BYTES + 1];
    crypto_hash_sha256(d, (const unsigned char *)s, n);
    sodium_bin2hex(hex, sizeof hex, d, sizeof d);
    lua_pushlstring(L, hex, sizeof hex - 1);
    return 1;
}

void park_open_token(lua_State *L)
{
    lua_pushcfunction(L, l_park_token);
    lua_setfield(L, -2, "token");
    lua_pushcfunction(L, l_park_sha256);
    lua_setfield(L, -2, "sha256");
}
