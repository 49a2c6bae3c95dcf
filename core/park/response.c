/* res: the response object a handler gets (status, headers, cookies,
 * streams and server-sent events), and the values a handler returns:
 * park.html, park.text, park.json, park.redirect. */
#include "log/log.h"
#include "park/park.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

enum { RESPONSE__DRAIN_BYTES = 64 * 1024 };

/* Append a header to r's response, its bytes bounded by
 * max-response-header-bytes. No check of the name or value. */
static void response__append_header(lua_State *L, host_req *r, const char *n, size_t nl,
                                    const char *v, size_t vl)
{
    if (r->nres_headers >= LUA_MAX_RES_HEADERS)
        luaL_error(L, "too many response headers (at most %d)", LUA_MAX_RES_HEADERS);
    if (r->res_headers.len + nl + vl + 2 >
        (size_t)lua_host_conf(r->host)->max_response_header_bytes)
        luaL_error(L, "response headers exceed max-response-header-bytes (%d bytes) with '%s'",
                   (int)lua_host_conf(r->host)->max_response_header_bytes, n);
    if (ph_buf_append(&r->res_headers, n, nl) || ph_buf_append(&r->res_headers, "", 1) ||
        ph_buf_append(&r->res_headers, v, vl) || ph_buf_append(&r->res_headers, "", 1))
        luaL_error(L, "not enough memory");
    r->nres_headers++;
}

static void response__add_header(lua_State *L, host_req *r, const char *n, size_t nl, const char *v,
                                 size_t vl)
{
    const char *why = lua_header_refusal(r->host, n, nl, v, vl);
    if (why) luaL_error(L, "response header '%s': %s", n, why);
    response__append_header(L, r, n, nl, v, vl);
}

static int l_res_status(lua_State *L)
{
    host_req *r = park__check(L, 1, PARK__RES);
    lua_Integer s = luaL_checkinteger(L, 2);
    luaL_argcheck(L, s >= 200 && s <= 599, 2, "status must be from 200 to 599");
    r->status = (int)s;
    lua_settop(L, 1);
    return 1;
}

static int l_res_header(lua_State *L)
{
    host_req *r = park__check(L, 1, PARK__RES);
    size_t nl, vl;
    const char *n = luaL_checklstring(L, 2, &nl);
    const char *v = luaL_checklstring(L, 3, &vl);
    if (r->streaming) return luaL_error(L, "headers cannot change once a stream has started");
    response__add_header(L, r, n, nl, v, vl);
    lua_settop(L, 1);
    return 1;
}

/* res:cookie(name, value, { path=, domain=, max_age=, expires=, http_only=,
 * secure=, same_site= }) */
static int l_res_cookie(lua_State *L)
{
    host_req *r = park__check(L, 1, PARK__RES);
    form_cookie c;
    memset(&c, 0, sizeof c);
    c.name = luaL_checklstring(L, 2, &c.name_len);
    c.value = luaL_checklstring(L, 3, &c.value_len);
    if (lua_secret_cookie(r->host, c.name, c.name_len))
        return luaL_error(L, "plugins may not set the host's cookie '%s'", c.name);
    c.max_age = -1;
    c.http_only = 1;
    c.same_site = FORM_SAMESITE_LAX;
    c.path = "/";
    c.path_len = 1;
    if (!lua_isnoneornil(L, 4)) {
        luaL_checktype(L, 4, LUA_TTABLE);
        if (lua_getfield(L, 4, "path") != LUA_TNIL) c.path = luaL_checklstring(L, -1, &c.path_len);
        if (lua_getfield(L, 4, "domain") != LUA_TNIL)
            c.domain = luaL_checklstring(L, -1, &c.domain_len);
        if (lua_getfield(L, 4, "max_age") != LUA_TNIL) c.max_age = luaL_checkinteger(L, -1);
        if (lua_getfield(L, 4, "expires") != LUA_TNIL) c.expires = (time_t)luaL_checkinteger(L, -1);
        if (lua_getfield(L, 4, "http_only") != LUA_TNIL) c.http_only = lua_toboolean(L, -1);
        if (lua_getfield(L, 4, "secure") != LUA_TNIL) c.secure = lua_toboolean(L, -1);
        if (lua_getfield(L, 4, "same_site") != LUA_TNIL) {
            const char *ss = luaL_checkstring(L, -1);
            c.same_site = !strcasecmp(ss, "strict") ? FORM_SAMESITE_STRICT
                          : !strcasecmp(ss, "none") ? FORM_SAMESITE_NONE
                          : !strcasecmp(ss, "lax")  ? FORM_SAMESITE_LAX
                                                    : (luaL_error(L, "same_site must be "
                                                                      "\"lax\", \"strict\" or "
                                                                      "\"none\""),
                                                      FORM_SAMESITE_LAX);
        }
    }
    park__set_cookie(L, r, &c);
    lua_settop(L, 1);
    return 1;
}

void park__set_cookie(lua_State *L, host_req *r, const form_cookie *c)
{
    ph_buf out = {0};
    const char *why = NULL;
    int rc = form_set_cookie(&out, c, &why);
    if (rc) {
        ph_buf_free(&out);
        luaL_error(L, "bad cookie '%s': %s", c->name, why ? why : ph_strerror(rc));
    }
    lua_pushlstring(L, out.data, out.len);
    ph_buf_free(&out);
    if (r->streaming) luaL_error(L, "cookies cannot be set once a stream has started");
    response__append_header(L, r, "Set-Cookie", 10, lua_tostring(L, -1), lua_rawlen(L, -1));
    lua_pop(L, 1);
}

static void response__stream_begin(lua_State *L, host_req *r, int status, const http_header *extra,
                                   size_t nextra)
{
    if (r->streaming) luaL_error(L, "the stream has started already");
    http_header hs[64];
    bool has_type = false;
    size_t nh = lua_res_headers(r, hs, 60, &has_type);
    for (size_t i = 0; i < nextra; i++)
        if (!has_type || strcasecmp(extra[i].name, "content-type") != 0) hs[nh++] = extra[i];
    int rc = http_stream_begin(r->http, status, hs, nh);
    if (rc == PH_ECLOSED) luaL_error(L, "the client has gone away");
    if (rc) luaL_error(L, "cannot start the stream (status %d)", status);
    lua_req_stream(r);
}

static int l_res_stream(lua_State *L)
{
    host_req *r = park__check(L, 1, PARK__RES);
    static const http_header type = {"Content-Type", 12, "text/html; charset=utf-8", 24};
    response__stream_begin(L, r, r->status ? r->status : 200, &type, 1);
    lua_settop(L, 1);
    return 1;
}

static int l_res_sse(lua_State *L)
{
    host_req *r = park__check(L, 1, PARK__RES);
    static const http_header hs[] = {
        {"Content-Type", 12, "text/event-stream; charset=utf-8", 32},
        {"Cache-Control", 13, "no-cache", 8},
        {"X-Accel-Buffering", 17, "no", 2},
    };
    response__stream_begin(L, r, 200, hs, 3);
    lua_settop(L, 1);
    return 1;
}

static int response__write_done(lua_State *L, int status, lua_KContext ctx)
{
    (void)status;
    (void)ctx;
    host_req *r = lua_req_of(L);
    if (!r || !r->http) {
        lua_pushnil(L);
        lua_pushliteral(L, "the client has gone away");
        return 2;
    }
    lua_pushboolean(L, 1);
    return 1;
}

/* Queue bytes; past RESPONSE__DRAIN_BYTES wait (yield) until the client took them. */
static int response__write(lua_State *L, host_req *r, const char *s, size_t n)
{
    if (!r->streaming) return luaL_error(L, "call res:stream() or res:sse() before writing");
    if (r->http &&
        http_stream_buffered(r->http) + n > (size_t)lua_host_conf(r->host)->stream_buffer_bytes) {
        /* The client takes nothing (or the plugin writes where it cannot
         * wait): what it has not taken is bounded, and the stream ends. */
        log_msg(LOG_WARN,
                "plugin %s: %s %s rid=%s: the client does not take the stream: ended past "
                "stream-buffer-bytes (%lld)",
                lua_plugin_name(r->plugin), r->http->method, r->http->path, r->http->id,
                (long long)lua_host_conf(r->host)->stream_buffer_bytes);
        http_stream_end(r->http);
        r->http = NULL;
        lua_pushnil(L);
        lua_pushliteral(L, "the stream was ended: the client did not take it "
                           "(stream-buffer-bytes)");
        return 2;
    }
    if (!r->http || http_stream_write(r->http, s, n) != 0) {
        lua_pushnil(L);
        lua_pushliteral(L, "the client has gone away");
        return 2;
    }
    if (http_stream_buffered(r->http) > RESPONSE__DRAIN_BYTES && L == r->co && lua_isyieldable(L)) {
        r->state = REQ_DRAINING;
        return lua_yieldk(L, 0, 0, response__write_done);
    }
    lua_pushboolean(L, 1);
    return 1;
}

static int l_res_write(lua_State *L)
{
    host_req *r = park__check(L, 1, PARK__RES);
    size_t n;
    const char *s = luaL_checklstring(L, 2, &n);
    return response__write(L, r, s, n);
}

/* A server-sent event: { event =, id =, retry =, data = } */
static int l_res_event(lua_State *L)
{
    host_req *r = park__check(L, 1, PARK__RES);
    if (lua_type(L, 2) == LUA_TSTRING) {
        lua_createtable(L, 0, 1);
        lua_pushvalue(L, 2);
        lua_setfield(L, -2, "data");
        lua_replace(L, 2);
    }
    luaL_checktype(L, 2, LUA_TTABLE);
    lua_settop(L, 2);
    /* Every piece as a string in slots 3 (id), 4 (event), 5 (data) first:
     * nothing may be pushed while the buffer below is being filled. */
    static const char *const fields[] = {"id", "event", "data", NULL};
    for (int i = 0; fields[i]; i++) {
        if (lua_getfield(L, 2, fields[i]) == LUA_TNIL) continue;
        luaL_tolstring(L, -1, NULL);
        lua_replace(L, -2);
        size_t n;
        const char *v = lua_tolstring(L, -1, &n);
        if (i < 2 && (strpbrk(v, "\r\n") || memchr(v, 0, n)))
            return luaL_error(L, "event %s must be one line", fields[i]);
    }
    char retry[32] = "";
    if (lua_getfield(L, 2, "retry") != LUA_TNIL)
        snprintf(retry, sizeof retry, "retry: %lld\n", (long long)luaL_checkinteger(L, -1));
    lua_pop(L, 1);
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    for (int i = 0; i < 2; i++) {
        size_t n;
        const char *v = lua_tolstring(L, 3 + i, &n);
        if (!v) continue;
        luaL_addstring(&b, fields[i]);
        luaL_addstring(&b, ": ");
        luaL_addlstring(&b, v, n);
        luaL_addchar(&b, '\n');
    }
    luaL_addstring(&b, retry);
    size_t n;
    const char *d = lua_tolstring(L, 5, &n);
    /* One data: line per line of the text, lines ending in CRLF, LF or a
     * lone CR (all three end a line for the browser's parser, so a CR left
     * in would let the data start a field of its own). */
    for (const char *s = d, *e = d + n; d;) {
        const char *nl = s;
        while (nl < e && *nl != '\n' && *nl != '\r')
            nl++;
        luaL_addstring(&b, "data: ");
        luaL_addlstring(&b, s, (size_t)(nl - s));
        luaL_addchar(&b, '\n');
        if (nl == e) break;
        s = nl + (nl[0] == '\r' && nl + 1 < e && nl[1] == '\n' ? 2 : 1);
    }
    luaL_addchar(&b, '\n');
    luaL_pushresult(&b);
    const char *ev = lua_tolstring(L, -1, &n);
    return response__write(L, r, ev, n);
}

/* A comment line (": text"), e.g. a heartbeat that keeps proxies from
 * closing an idle event stream. */
static int l_res_comment(lua_State *L)
{
    host_req *r = park__check(L, 1, PARK__RES);
    size_t n;
    const char *t = luaL_optlstring(L, 2, "", &n);
    if (strpbrk(t, "\r\n")) return luaL_error(L, "a comment must be one line");
    lua_pushfstring(L, ": %s\n\n", t);
    const char *s = lua_tolstring(L, -1, &n);
    return response__write(L, r, s, n);
}

static const luaL_Reg response__methods[] = {
    {"status", l_res_status}, {"header", l_res_header},   {"cookie", l_res_cookie},
    {"stream", l_res_stream}, {"sse", l_res_sse},         {"write", l_res_write},
    {"event", l_res_event},   {"comment", l_res_comment}, {NULL, NULL},
};

/* park.html/text/json return status, body, content type: the third value
 * may be a Content-Type string instead of a table of headers, which spares a
 * table per response. The type is the function's upvalue. */
static int l_park_typed(lua_State *L)
{
    luaL_checkstring(L, 1);
    lua_Integer status = luaL_optinteger(L, 2, 200);
    lua_pushinteger(L, status);
    lua_pushvalue(L, 1);
    lua_pushvalue(L, lua_upvalueindex(1));
    return 3;
}

static int l_park_json(lua_State *L)
{
    luaL_checkany(L, 1);
    lua_Integer status = luaL_optinteger(L, 2, 200);
    lua_pushinteger(L, status);
    lua_pushvalue(L, lua_upvalueindex(2)); /* cjson.encode, or nil */
    if (lua_isnil(L, -1)) return luaL_error(L, "JSON needs lua-cjson (apt-get install lua-cjson)");
    lua_pushvalue(L, 1);
    lua_call(L, 1, 1);
    lua_pushvalue(L, lua_upvalueindex(1));
    return 3;
}

/* http: and https: URLs, and relative ones: a path, never "//host" (a
 * scheme-relative URL leaves the site) nor a backslash (which browsers read
 * as a slash). */
static bool response__redirect_ok(const char *u, size_t n)
{
    if (memchr(u, '\\', n)) return false;
    if (n >= 7 && !strncasecmp(u, "http://", 7)) return n > 7;
    if (n >= 8 && !strncasecmp(u, "https://", 8)) return n > 8;
    if (n >= 2 && u[0] == '/' && u[1] == '/') return false;
    /* A relative reference: no scheme before the first / ? or #. */
    for (size_t i = 0; i < n; i++) {
        if (u[i] == '/' || u[i] == '?' || u[i] == '#') break;
        if (u[i] == ':') return false;
    }
    return true;
}

static int l_park_redirect(lua_State *L)
{
    size_t n;
    const char *url = luaL_checklstring(L, 1, &n);
    lua_Integer status = luaL_optinteger(L, 2, 303);
    luaL_argcheck(L,
                  status == 301 || status == 302 || status == 303 || status == 307 || status == 308,
                  2, "a redirect status (301, 302, 303, 307, 308)");
    if (!lua_header_value_ok(url, n) || n == 0)
        return luaL_error(L, "bad redirect target (a URL of one line)");
    if (!response__redirect_ok(url, n))
        return luaL_error(L,
                          "bad redirect target '%s': only http, https and relative URLs "
                          "(\"/path\", \"page?x=1\")",
                          url);
    lua_pushinteger(L, status);
    lua_pushliteral(L, "");
    lua_createtable(L, 0, 1);
    lua_pushvalue(L, 1);
    lua_setfield(L, -2, "Location");
    return 3;
}

void park_open_response(lua_State *L)
{
    luaL_newmetatable(L, PARK__RES);
    lua_newtable(L);
    luaL_setfuncs(L, response__methods, 0);
    lua_setfield(L, -2, "__index");
    lua_pushliteral(L, "response");
    lua_setfield(L, -2, "__metatable");
    lua_pop(L, 1);

    static const struct {
        const char *name, *type;
    } typed[] = {{"html", "text/html; charset=utf-8"}, {"text", "text/plain; charset=utf-8"}};
    for (size_t i = 0; i < 2; i++) {
        lua_pushstring(L, typed[i].type);
        lua_pushcclosure(L, l_park_typed, 1);
        lua_setfield(L, -2, typed[i].name);
    }
    lua_pushliteral(L, "application/json; charset=utf-8");
    lua_getfield(L, LUA_REGISTRYINDEX, "park.loaded");
    if (lua_getfield(L, -1, "cjson") == LUA_TTABLE)
        lua_getfield(L, -1, "encode");
    else
        lua_pushnil(L);
    lua_replace(L, -3);
    lua_pop(L, 1);
    lua_pushcclosure(L, l_park_json, 2);
    lua_setfield(L, -2, "json");
    lua_pushcfunction(L, l_park_redirect);
    lua_setfield(L, -2, "redirect");
}
