/* park.csrf(): the CSRF token a page puts in its forms. The check of every
 * unsafe request against it is the runtime's (lua/csrf.c), which explains
 * the scheme. */
#include "auth/auth.h"
#include "form/form.h"
#include "park/park.h"

#include <string.h>

/* park.csrf() -> the token for the current request's browser, to put in a
 * form's hidden _csrf field (or an X-CSRF-Token header); sets the browser's
 * cookie when it has none. */
static int l_park_csrf(lua_State *L)
{
    host_req *r = lua_req_of(L);
    if (!r || !r->http) return luaL_error(L, "park.csrf is called while handling a request");
    const char *id = r->csrf_browser[0] ? r->csrf_browser : NULL;
    size_t idlen = id ? strlen(id) : 0;
    if (!id &&
        (!form_cookie_value(http_request_header(r->http, "cookie"), LUA_CSRF_COOKIE, &id, &idlen) ||
         !auth_browser_id_ok(id, idlen)))
        id = NULL;
    if (!id) {
        if (r->streaming) return luaL_error(L, "park.csrf must be called before a stream starts");
        auth_browser_id(r->csrf_browser);
        id = r->csrf_browser;
        idlen = strlen(id);
        form_cookie c = {.name = LUA_CSRF_COOKIE,
                         .name_len = sizeof LUA_CSRF_COOKIE - 1,
                         .value = id,
                         .value_len = idlen,
                         .path = "/",
                         .path_len = 1,
                         .max_age = -1,
                         .http_only = 1,
                         .secure = park__via_https(r),
                         .same_site = FORM_SAMESITE_LAX};
        park__set_cookie(L, r, &c);
    }
    const char *session;
    size_t slen;
    if (!form_cookie_value(http_request_header(r->http, "cookie"), LUA_SESSION_COOKIE, &session,
                           &slen))
        session = NULL;
    char token[AUTH_CSRF_MAX];
    auth_csrf_token(lua_host_csrf_secret(r->host), id, idlen, session, slen, token);
    lua_pushstring(L, token);
    return 1;
}

void park_open_csrf(lua_State *L)
{
    lua_pushcfunction(L, l_park_csrf);
    lua_setfield(L, -2, "csrf");
}
