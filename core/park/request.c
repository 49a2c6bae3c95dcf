/* req: the request object a handler gets: its fields (parsed on first use
 * and cached in the object's user value), its methods, and the uploads of
 * a multipart body spooled to upload-dir; the client's address behind
 * trusted proxies. docs/plugin-api.md documents every field. */
#include "form/form.h"
#include "log/log.h"
#include "park/park.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

static void request__push_decoded(lua_State *L, const char *s, size_t n)
{
    luaL_Buffer b;
    char *d = luaL_buffinitsize(L, &b, n ? n : 1);
    size_t dl = 0;
    form_urldecode_to(d, s, n, 0, &dl);
    luaL_pushresultsize(&b, dl);
}

/* The client sent something the API cannot parse: the request ends with
 * `status` (400, 413) rather than a 500, and it is not the plugin's fault. */
static int request__refuse(lua_State *L, host_req *r, int status, const char *why)
{
    r->client_status = status;
    return luaL_error(L, "the request was refused with %d: %s", status, why);
}

/* Cache slot `key` of the request's user value (a table made on first
 * use): pushes it, or nil. */
static int request__cached(lua_State *L, int obj, const char *key)
{
    if (lua_getiuservalue(L, obj, 1) != LUA_TTABLE) {
        lua_pop(L, 1);
        lua_pushnil(L);
        return LUA_TNIL;
    }
    int t = lua_getfield(L, -1, key);
    lua_remove(L, -2);
    return t;
}

/* Store the value on top in cache slot `key` (the value stays on top). */
static void request__cache(lua_State *L, int obj, const char *key)
{
    obj = lua_absindex(L, obj);
    if (lua_getiuservalue(L, obj, 1) != LUA_TTABLE) {
        lua_pop(L, 1);
        lua_createtable(L, 0, 4);
        lua_pushvalue(L, -1);
        lua_setiuservalue(L, obj, 1);
    }
    lua_pushvalue(L, -2);
    lua_setfield(L, -2, key);
    lua_pop(L, 1);
}

typedef struct {
    lua_State *L;
    int firsts, alls; /* stack slots of the two tables */
} request_pairs;

static int request__on_pair(void *ud, const char *n, size_t nl, const char *v, size_t vl)
{
    request_pairs *a = ud;
    lua_State *L = a->L;
    lua_pushlstring(L, n, nl);
    if (lua_rawget(L, a->alls) == LUA_TNIL) {
        lua_pop(L, 1);
        lua_createtable(L, 1, 0);
        lua_pushlstring(L, n, nl);
        lua_pushvalue(L, -2);
        lua_rawset(L, a->alls);
        lua_pushlstring(L, n, nl);
        lua_pushlstring(L, v, vl);
        lua_rawset(L, a->firsts);
    }
    lua_pushlstring(L, v, vl);
    lua_rawseti(L, -2, (lua_Integer)lua_rawlen(L, -2) + 1);
    lua_pop(L, 1);
    return 0;
}

/* Parse urlencoded text into cache[key] (first values) and cache[key_all]. */
static void request__parse_pairs(lua_State *L, int obj, const char *s, size_t n, const char *key,
                                 const char *key_all)
{
    host_req *r = park__check(L, obj, PARK__REQ);
    lua_newtable(L);
    lua_newtable(L);
    request_pairs a = {L, lua_gettop(L) - 1, lua_gettop(L)};
    const char *why = NULL;
    int rc = form_parse_urlencoded(s, n, (size_t)lua_host_conf(r->host)->max_form_fields,
                                   request__on_pair, &a, &why);
    if (rc == PH_ELIMIT) request__refuse(L, r, 413, "too many form fields (max-form-fields)");
    if (rc) request__refuse(L, r, 400, why ? why : ph_strerror(rc));
    request__cache(L, obj, key_all);
    lua_pop(L, 1);
    request__cache(L, obj, key);
}

static bool request__content_type_is(const http_request *q, const char *type)
{
    const char *ct = http_request_header(q, "content-type");
    size_t n = strlen(type);
    return ct && strncasecmp(ct, type, n) == 0 && (ct[n] == 0 || ct[n] == ';' || ct[n] == ' ');
}

/* Spool one multipart file part to upload-dir; pushes its description. */
typedef struct {
    lua_State *L;
    host_req *r;
    int obj; /* the request object's stack slot */
    int firsts, alls, files;
} request_parts;

static int request__on_part(void *ud, const form_part *part)
{
    request_parts *a = ud;
    lua_State *L = a->L;
    if (part->filename && part->filename_len == 0) return 0; /* a file input left empty */
    if (!part->filename) {
        return request__on_pair(&(request_pairs){L, a->firsts, a->alls}, part->name, part->name_len,
                                part->data, part->data_len);
    }
    const char *dir = lua_host_conf(a->r->host)->upload_dir;
    mkdir(dir, 0750);
    char path[4096];
    snprintf(path, sizeof path, "%s/upload-XXXXXX", dir);
    int fd = mkstemp(path);
    if (fd < 0) {
        log_msg(LOG_ERROR, "cannot spool an upload into %s: %s", dir, strerror(errno));
        return PH_EIO;
    }
    size_t off = 0;
    while (off < part->data_len) {
        ssize_t w = write(fd, part->data + off, part->data_len - off);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) {
            close(fd);
            unlink(path);
            return PH_EIO;
        }
        off += (size_t)w;
    }
    close(fd);
    /* Remember the file so it is removed when the request ends. */
    if (request__cached(L, a->obj, "_spooled") != LUA_TTABLE) {
        lua_pop(L, 1);
        lua_newtable(L);
        request__cache(L, a->obj, "_spooled");
    }
    lua_pushstring(L, path);
    lua_rawseti(L, -2, (lua_Integer)lua_rawlen(L, -2) + 1);
    lua_pop(L, 1);
    /* ... and that it is this request's: park.files.keep checks. */
    if (ph_buf_append(&a->r->uploads, path, strlen(path) + 1)) {
        log_msg(LOG_ERROR, "not enough memory to record the upload %s", path);
        return PH_EIO;
    }

    lua_pushlstring(L, part->name, part->name_len);
    if (lua_rawget(L, a->files) == LUA_TNIL) {
        lua_pop(L, 1);
        lua_newtable(L);
        lua_pushlstring(L, part->name, part->name_len);
        lua_pushvalue(L, -2);
        lua_rawset(L, a->files);
    }
    lua_createtable(L, 0, 4);
    lua_pushlstring(L, part->filename, part->filename_len);
    lua_setfield(L, -2, "filename");
    lua_pushlstring(L, part->content_type, part->content_type_len);
    lua_setfield(L, -2, "content_type");
    lua_pushinteger(L, (lua_Integer)part->data_len);
    lua_setfield(L, -2, "size");
    lua_pushstring(L, path);
    lua_setfield(L, -2, "path");
    lua_rawseti(L, -2, (lua_Integer)lua_rawlen(L, -2) + 1);
    lua_pop(L, 1);
    return 0;
}

/* Parse the body as a form (urlencoded or multipart) into the cache. */
static void request__parse_form(lua_State *L, int obj)
{
    host_req *r = park__check(L, obj, PARK__REQ);
    const http_request *q = r->http;
    if (request__content_type_is(q, "multipart/form-data")) {
        const char *ct = http_request_header(q, "content-type");
        const char *bd;
        size_t bl;
        const char *why = NULL;
        if (form_multipart_boundary(ct, strlen(ct), &bd, &bl, &why))
            request__refuse(L, r, 400, why ? why : "multipart: no boundary");
        lua_newtable(L);
        lua_newtable(L);
        lua_newtable(L);
        int top = lua_gettop(L);
        request_parts a = {L, r, lua_absindex(L, obj), top - 2, top - 1, top};
        size_t maxb = (size_t)lua_host_conf(r->host)->max_body_bytes;
        form_multipart_limits lim = {(size_t)lua_host_conf(r->host)->max_form_fields, 16384, maxb,
                                     maxb};
        int rc = form_multipart_parse(q->body ? q->body : "", q->body_len, bd, bl, &lim,
                                      request__on_part, &a, &why);
        if (rc == PH_EIO) luaL_error(L, "cannot store an uploaded file (see the log)");
        if (rc == PH_ELIMIT) request__refuse(L, r, 413, why ? why : "multipart: over a limit");
        if (rc) request__refuse(L, r, 400, why ? why : ph_strerror(rc));
        request__cache(L, obj, "files");
        lua_pop(L, 1);
        request__cache(L, obj, "_form_all");
        lua_pop(L, 1);
        request__cache(L, obj, "form");
        return;
    }
    if (request__content_type_is(q, "application/x-www-form-urlencoded")) {
        request__parse_pairs(L, obj, q->body, q->body_len, "form", "_form_all");
    } else {
        lua_newtable(L);
        request__cache(L, obj, "_form_all");
        lua_pop(L, 1);
        lua_newtable(L);
        request__cache(L, obj, "form");
    }
    lua_newtable(L);
    request__cache(L, obj, "files");
    lua_pop(L, 1);
}

/* Push a Cookie header's value without the secret cookies (the pairs kept
 * as they came, joined by "; "), or nil when none is left. */
static void request__push_cookie_header(lua_State *L, const lua_host *h, const char *v, size_t vl)
{
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    size_t kept = 0;
    const char *s = v, *e = v + vl;
    while (s < e) {
        const char *semi = memchr(s, ';', (size_t)(e - s));
        const char *pe = semi ? semi : e;
        while (s < pe && (*s == ' ' || *s == '\t'))
            s++;
        const char *te = pe;
        while (te > s && (te[-1] == ' ' || te[-1] == '\t'))
            te--;
        const char *eq = memchr(s, '=', (size_t)(te - s));
        const char *ne = eq ? eq : te;
        while (ne > s && (ne[-1] == ' ' || ne[-1] == '\t'))
            ne--;
        if (te > s && !lua_secret_cookie(h, s, (size_t)(ne - s))) {
            if (kept++) luaL_addstring(&b, "; ");
            luaL_addlstring(&b, s, (size_t)(te - s));
        }
        s = semi ? semi + 1 : e;
    }
    luaL_pushresult(&b);
    if (!kept) {
        lua_pop(L, 1);
        lua_pushnil(L);
    }
}

/* Push what a plugin may see of the request header `name` (its first
 * value): nil for a secret header, the Cookie header without the secret
 * cookies. */
static void request__push_header(lua_State *L, const host_req *r, const char *name, size_t nl,
                                 const char *v, size_t vl)
{
    if (!v || lua_secret_header(r->host, name, nl))
        lua_pushnil(L);
    else if (nl == 6 && !strncasecmp(name, "cookie", 6))
        request__push_cookie_header(L, r->host, v, vl);
    else
        lua_pushlstring(L, v, vl);
}

typedef struct {
    lua_State *L;
    const lua_host *h;
} request_cookies;

static int request__on_cookie(void *ud, const char *n, size_t nl, const char *v, size_t vl)
{
    request_cookies *c = ud;
    lua_State *L = c->L;
    if (lua_secret_cookie(c->h, n, nl)) return 0;
    lua_pushlstring(L, n, nl);
    if (lua_rawget(L, -2) == LUA_TNIL) { /* the first, most specific, wins */
        lua_pop(L, 1);
        lua_pushlstring(L, n, nl);
        lua_pushlstring(L, v, vl);
        lua_rawset(L, -3);
    } else {
        lua_pop(L, 1);
    }
    return 0;
}

static bool request__cidr_match(const char *spec, const char *ip)
{
    char net[64];
    const char *slash = strchr(spec, '/');
    size_t n = slash ? (size_t)(slash - spec) : strlen(spec);
    if (n >= sizeof net) return false;
    memcpy(net, spec, n);
    net[n] = 0;
    unsigned char a[16], b[16];
    int fam = strchr(net, ':') ? AF_INET6 : AF_INET;
    if (inet_pton(fam, net, a) != 1 || inet_pton(fam, ip, b) != 1) return false;
    int bits = fam == AF_INET6 ? 128 : 32;
    if (slash) bits = atoi(slash + 1);
    for (int i = 0; bits > 0; i++, bits -= 8) {
        unsigned char mask = bits >= 8 ? 0xff : (unsigned char)(0xff << (8 - bits));
        if ((a[i] & mask) != (b[i] & mask)) return false;
    }
    return true;
}

static bool request__trusted(const ph_conf *c, const char *ip)
{
    for (size_t i = 0; i < c->trusted_proxies.n; i++)
        if (request__cidr_match(c->trusted_proxies.v[i], ip)) return true;
    return false;
}

/* The client's address: the peer, or, behind trusted proxies, the last
 * address of X-Forwarded-For that is not a trusted proxy. */
bool park__client_ip(const host_req *r, char *ip, size_t iplen)
{
    if (!r->http || http_request_peer(r->http, ip, iplen) != 0) return false;
    const char *xff = http_request_header(r->http, "x-forwarded-for");
    if (xff && request__trusted(lua_host_conf(r->host), ip)) {
        const char *end = xff + strlen(xff);
        while (end > xff) {
            const char *comma = end;
            while (comma > xff && comma[-1] != ',')
                comma--;
            const char *s = comma, *e = end;
            while (s < e && (*s == ' ' || *s == '\t'))
                s++;
            while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
                e--;
            char cand[64];
            size_t n = (size_t)(e - s);
            if (n == 0 || n >= sizeof cand) break;
            memcpy(cand, s, n);
            cand[n] = 0;
            unsigned char tmp[16];
            if (inet_pton(strchr(cand, ':') ? AF_INET6 : AF_INET, cand, tmp) != 1) break;
            if (n + 1 > iplen) break;
            memcpy(ip, cand, n + 1);
            if (!request__trusted(lua_host_conf(r->host), cand)) break;
            end = comma > xff ? comma - 1 : xff;
        }
    }
    return true;
}

bool park__via_https(const host_req *r)
{
    char peer[64];
    if (!r->http || http_request_peer(r->http, peer, sizeof peer) != 0) return false;
    const char *proto = http_request_header(r->http, "x-forwarded-proto");
    return proto && !strcasecmp(proto, "https") && request__trusted(lua_host_conf(r->host), peer);
}

static void request__push_client_ip(lua_State *L, host_req *r)
{
    char ip[64];
    if (park__client_ip(r, ip, sizeof ip))
        lua_pushstring(L, ip);
    else
        lua_pushnil(L);
}

static int l_req_index(lua_State *L)
{
    host_req *r = park__check(L, 1, PARK__REQ);
    const http_request *q = r->http;
    const char *k = luaL_checkstring(L, 2);
    /* Methods first: they live in the metatable's `methods` upvalue. */
    lua_pushvalue(L, 2);
    if (lua_rawget(L, lua_upvalueindex(1)) != LUA_TNIL) return 1;
    lua_pop(L, 1);
    if (!q) return luaL_error(L, "attempt to use a finished request");
    switch (k[0]) {
    case 'b':
        if (!strcmp(k, "body")) {
            lua_pushlstring(L, q->body ? q->body : "", q->body_len);
            return 1;
        }
        break;
    case 'c':
        if (!strcmp(k, "column")) {
            lua_pushstring(L, r->binding->column);
            return 1;
        }
        if (!strcmp(k, "csrf_failed")) {
            lua_pushboolean(L, r->csrf_refill);
            return 1;
        }
        if (!strcmp(k, "config") || !strcmp(k, "cookies")) {
            if (request__cached(L, 1, k) != LUA_TNIL) return 1;
            lua_pop(L, 1);
            if (k[1] == 'o' && k[2] == 'n') {
                lua_rawgeti(L, LUA_REGISTRYINDEX, r->binding->config_ref);
            } else {
                lua_newtable(L);
                request_cookies c = {L, r->host};
                for (size_t i = 0; i < q->nheaders; i++)
                    if (q->headers[i].name_len == 6 &&
                        !strncasecmp(q->headers[i].name, "cookie", 6))
                        form_parse_cookies(q->headers[i].value, q->headers[i].value_len,
                                           request__on_cookie, &c);
            }
            request__cache(L, 1, k);
            return 1;
        }
        if (!strcmp(k, "client_ip")) {
            request__push_client_ip(L, r);
            return 1;
        }
        break;
    case 'f':
        if (!strcmp(k, "form") || !strcmp(k, "files")) {
            if (request__cached(L, 1, k) != LUA_TNIL) return 1;
            lua_pop(L, 1);
            request__parse_form(L, 1);
            lua_pop(L, 1);
            request__cached(L, 1, k);
            return 1;
        }
        break;
    case 'h':
        if (!strcmp(k, "headers")) {
            if (request__cached(L, 1, k) != LUA_TNIL) return 1;
            lua_pop(L, 1);
            lua_createtable(L, 0, (int)q->nheaders);
            for (size_t i = 0; i < q->nheaders; i++) {
                luaL_Buffer b;
                char *d = luaL_buffinitsize(L, &b, q->headers[i].name_len + 1);
                for (size_t j = 0; j < q->headers[i].name_len; j++) {
                    char ch = q->headers[i].name[j];
                    d[j] = (char)(ch >= 'A' && ch <= 'Z' ? ch + 32 : ch);
                }
                luaL_pushresultsize(&b, q->headers[i].name_len);
                if (lua_rawget(L, -2) == LUA_TNIL) {
                    lua_pop(L, 1);
                    lua_pushlstring(L, d, q->headers[i].name_len);
                    request__push_header(L, r, q->headers[i].name, q->headers[i].name_len,
                                         q->headers[i].value, q->headers[i].value_len);
                    lua_rawset(L, -3);
                } else {
                    lua_pop(L, 1);
                }
            }
            request__cache(L, 1, k);
            return 1;
        }
        break;
    case 'i':
        if (!strcmp(k, "id")) {
            lua_pushstring(L, q->id);
            return 1;
        }
        break;
    case 'm':
        if (!strcmp(k, "method")) {
            lua_pushstring(L, q->method);
            return 1;
        }
        break;
    case 'p':
        if (!strcmp(k, "path")) {
            lua_pushlstring(L, q->path, q->path_len);
            return 1;
        }
        if (!strcmp(k, "params")) {
            if (request__cached(L, 1, k) != LUA_TNIL) return 1;
            lua_pop(L, 1);
            const host_route *rt = r->route;
            lua_createtable(L, 0, (int)rt->nsegs);
            for (size_t i = 0; i < rt->nsegs; i++) {
                if (rt->segs[i][0] != ':' && rt->segs[i][0] != '*') continue;
                lua_pushstring(L, rt->segs[i] + 1);
                request__push_decoded(L, r->pv[i], r->pl[i]);
                lua_rawset(L, -3);
            }
            request__cache(L, 1, k);
            return 1;
        }
        break;
    case 'q':
        if (!strcmp(k, "query")) {
            if (request__cached(L, 1, k) != LUA_TNIL) return 1;
            lua_pop(L, 1);
            request__parse_pairs(L, 1, q->query, q->query_len, "query", "_query_all");
            return 1;
        }
        if (!strcmp(k, "query_string")) {
            lua_pushlstring(L, q->query, q->query_len);
            return 1;
        }
        break;
    case 's':
        if (!strcmp(k, "subpath")) {
            lua_pushstring(L, r->subpath);
            return 1;
        }
        break;
    case 't':
        if (!strcmp(k, "target")) {
            lua_pushlstring(L, q->target, q->target_len);
            return 1;
        }
        break;
    }
    return luaL_error(L, "request has no field '%s' (see docs/plugin-api.md)", k);
}

static int l_req_newindex(lua_State *L)
{
    return luaL_error(L, "request fields are read-only");
}

static int l_req_header(lua_State *L)
{
    host_req *r = park__check(L, 1, PARK__REQ);
    size_t nl;
    const char *name = luaL_checklstring(L, 2, &nl);
    const char *v = http_request_header(r->http, name);
    request__push_header(L, r, name, nl, v, v ? strlen(v) : 0);
    return 1;
}

/* req:query_all(name), req:form_all(name): every value of a repeated field. */
static int request__all(lua_State *L, const char *field, const char *all)
{
    park__check(L, 1, PARK__REQ);
    const char *name = luaL_checkstring(L, 2);
    lua_getfield(L, 1, field); /* parses into the cache */
    lua_pop(L, 1);
    request__cached(L, 1, all);
    if (lua_getfield(L, -1, name) == LUA_TNIL) {
        lua_pop(L, 1);
        lua_newtable(L);
        return 1;
    }
    /* A copy, so the plugin cannot change the cache. */
    lua_Integer n = (lua_Integer)lua_rawlen(L, -1);
    lua_createtable(L, (int)n, 0);
    for (lua_Integer i = 1; i <= n; i++) {
        lua_rawgeti(L, -2, i);
        lua_rawseti(L, -2, i);
    }
    return 1;
}

static int l_req_query_all(lua_State *L)
{
    return request__all(L, "query", "_query_all");
}

static int l_req_form_all(lua_State *L)
{
    return request__all(L, "form", "_form_all");
}

static int request__cjson(lua_State *L)
{
    lua_getfield(L, LUA_REGISTRYINDEX, "park.loaded");
    if (lua_getfield(L, -1, "cjson") != LUA_TTABLE)
        return luaL_error(L, "JSON needs lua-cjson (apt-get install lua-cjson)");
    lua_remove(L, -2);
    return 1;
}

/* req:json(): the body decoded, or nil and why. */
static int l_req_json(lua_State *L)
{
    host_req *r = park__check(L, 1, PARK__REQ);
    request__cjson(L);
    lua_getfield(L, -1, "decode");
    lua_pushlstring(L, r->http->body ? r->http->body : "", r->http->body_len);
    if (lua_pcall(L, 1, 1, 0) != LUA_OK) {
        lua_pushnil(L);
        lua_pushfstring(L, "the body is not JSON: %s", lua_tostring(L, -2));
        return 2;
    }
    return 1;
}

static const luaL_Reg request__methods[] = {
    {"header", l_req_header},
    {"query_all", l_req_query_all},
    {"form_all", l_req_form_all},
    {"json", l_req_json},
    {NULL, NULL},
};

static int request__tostring(lua_State *L)
{
    park__obj *o = luaL_checkudata(L, 1, PARK__REQ);
    if (o->r && o->r->http)
        lua_pushfstring(L, "request %s %s", o->r->http->method, o->r->http->path);
    else
        lua_pushliteral(L, "request (finished)");
    return 1;
}

void park_open_request(lua_State *L)
{
    luaL_newmetatable(L, PARK__REQ);
    lua_newtable(L);
    luaL_setfuncs(L, request__methods, 0);
    lua_pushcclosure(L, l_req_index, 1);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, l_req_newindex);
    lua_setfield(L, -2, "__newindex");
    lua_pushcfunction(L, request__tostring);
    lua_setfield(L, -2, "__tostring");
    lua_pushliteral(L, "request");
    lua_setfield(L, -2, "__metatable");
    lua_pop(L, 1);
}
