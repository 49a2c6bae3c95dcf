/* park.escape, park.url_encode, park.url_decode: text made safe for HTML
 * and URLs, billed by its size. */
#include "form/form.h"
#include "park/park.h"

#include <assert.h>
#include <string.h>

/* Make room for an output of `out` bytes from an input of `n`: billed by
 * the input's size, and refused at once past the plugin's memory cap, so
 * that neither the loop below nor the buffer's growth is work for free. */
static char *text__room(lua_State *L, luaL_Buffer *b, size_t n, size_t out, const char *what)
{
    lua_bill_check(L, n / 16, what);
    lua_mem_check(L, (double)out, what);
    return luaL_buffinitsize(L, b, out ? out : 1);
}

static int l_park_escape(lua_State *L)
{
    size_t n;
    const char *s = luaL_tolstring(L, 1, &n);
    size_t out = n;
    for (size_t i = 0; i < n; i++) {
        switch (s[i]) {
        case '&': out += 4; break; /* &amp; */
        case '<':
        case '>': out += 3; break;  /* &lt; &gt; */
        case '"': out += 5; break;  /* &quot; */
        case '\'': out += 4; break; /* &#39; */
        }
    }
    luaL_Buffer b;
    char *d = text__room(L, &b, n, out, "park.escape");
    for (size_t i = 0; i < n; i++) {
        const char *e = NULL;
        switch (s[i]) {
        case '&': e = "&amp;"; break;
        case '<': e = "&lt;"; break;
        case '>': e = "&gt;"; break;
        case '"': e = "&quot;"; break;
        case '\'': e = "&#39;"; break;
        default: *d++ = s[i]; continue;
        }
        size_t el = strlen(e);
        memcpy(d, e, el);
        d += el;
    }
    assert(luaL_buffaddr(&b) + out == d);
    luaL_pushresultsize(&b, out);
    return 1;
}

static bool text__url_safe(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_' || c == '.' || c == '~';
}

static int l_park_url_encode(lua_State *L)
{
    size_t n;
    const char *s = luaL_checklstring(L, 1, &n);
    static const char hex[] = "0123456789ABCDEF";
    size_t out = n;
    for (size_t i = 0; i < n; i++)
        if (!text__url_safe((unsigned char)s[i])) out += 2;
    luaL_Buffer b;
    char *d = text__room(L, &b, n, out, "park.url_encode");
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (text__url_safe(c)) {
            *d++ = (char)c;
        } else {
            *d++ = '%';
            *d++ = hex[c >> 4];
            *d++ = hex[c & 15];
        }
    }
    luaL_pushresultsize(&b, out);
    return 1;
}

static int l_park_url_decode(lua_State *L)
{
    size_t n;
    const char *s = luaL_checklstring(L, 1, &n);
    luaL_Buffer b;
    char *d = text__room(L, &b, n, n, "park.url_decode");
    size_t dl = 0;
    form_urldecode_to(d, s, n, lua_toboolean(L, 2) ? FORM_URL_PLUS : 0, &dl);
    luaL_pushresultsize(&b, dl);
    return 1;
}

void park_open_text(lua_State *L)
{
    static const luaL_Reg fns[] = {
        {"escape", l_park_escape},
        {"url_encode", l_park_url_encode},
        {"url_decode", l_park_url_decode},
        {NULL, NULL},
    };
    luaL_setfuncs(L, fns, 0);
}
