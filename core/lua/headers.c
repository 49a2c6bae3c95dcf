/* What a plugin may see and send of HTTP headers: the credentials it never
 * sees (the host's cookies, Authorization, secret-cookies, secret-headers)
 * and RFC 9110's grammar of the response headers it sets, by res:header or
 * in a handler's returned table (host.c) alike. */
#include "lua/internal.h"

#include <string.h>
#include <strings.h>

/* ---- credentials ----------------------------------------------------------
 * The staff session, the CSRF cookie, Authorization and whatever the center
 * lists in secret-cookies and secret-headers never reach plugin code: a
 * plugin that could read them could act as any logged-in visitor. Identity
 * is available through park.auth alone. */

static bool headers__listed(const conf_list *l, const char *n, size_t nl)
{
    for (size_t i = 0; i < l->n; i++)
        if (strlen(l->v[i]) == nl && !strncasecmp(l->v[i], n, nl)) return true;
    return false;
}

bool lua_secret_cookie(const lua_host *h, const char *n, size_t nl)
{
    static const char *const own[] = {LUA_SESSION_COOKIE, LUA_CSRF_COOKIE, LUA_DEVICE_COOKIE, NULL};
    for (const char *const *o = own; *o; o++)
        if (strlen(*o) == nl && !strncasecmp(*o, n, nl)) return true;
    return headers__listed(&h->conf->secret_cookies, n, nl);
}

bool lua_secret_header(const lua_host *h, const char *n, size_t nl)
{
    static const char *const own[] = {"authorization", "proxy-authorization", NULL};
    for (const char *const *o = own; *o; o++)
        if (strlen(*o) == nl && !strncasecmp(*o, n, nl)) return true;
    return headers__listed(&h->conf->secret_headers, n, nl);
}

/* RFC 9110 5.1 and 5.5: a name is a token; a value is visible ASCII,
 * obs-text, and spaces and tabs inside it, never at its ends. */
static bool headers__token_char(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c && strchr("!#$%&'*+-.^_`|~", c));
}

static bool headers__name_ok(const char *s, size_t n)
{
    if (n == 0) return false;
    for (size_t i = 0; i < n; i++)
        if (!headers__token_char((unsigned char)s[i])) return false;
    return true;
}

bool lua_header_value_ok(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == ' ' || c == '\t') {
            if (i == 0 || i + 1 == n) return false;
        } else if (c < 0x21 || c == 0x7f) {
            return false;
        }
    }
    return true;
}

const char *lua_header_refusal(const lua_host *h, const char *n, size_t nl, const char *v,
                               size_t vl)
{
    if (!headers__name_ok(n, nl))
        return "bad response header name (RFC 9110: a token of letters, digits and "
               "!#$%&'*+-.^_`|~)";
    if (!lua_header_value_ok(v, vl))
        return "bad response header value (RFC 9110: no control characters, no DEL, no "
               "space or tab at either end)";
    if (nl == 10 && !strncasecmp(n, "set-cookie", 10)) {
        size_t k = 0;
        while (k < vl && v[k] != '=' && v[k] != ';')
            k++;
        while (k > 0 && (v[k - 1] == ' ' || v[k - 1] == '\t'))
            k--;
        if (lua_secret_cookie(h, v, k)) return "plugins may not set the host's cookies";
    }
    return NULL;
}
