/* The `park` module a plugin requires, and the request and response objects
 * its handlers get. docs/plugin-api.md documents every function here. */
#include "auth/auth.h"
#include "form/form.h"
#include "log/log.h"
#include "lua/internal.h"

#include <arpa/inet.h>
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

static const char API__REQ[] = "park.request";
static const char API__RES[] = "park.response";
static const char API__PARK[] = "park.module";   /* registry: the park table */
static const char API__ENGINE[] = "park.engine"; /* registry: template engine */
enum { API__DRAIN_BYTES = 64 * 1024, API__MAX_TEMPLATE = 4 * 1024 * 1024 };

/* Both objects are this userdata; r is NULL once the request ended. The
 * user value of a request is a table caching what was parsed. */
typedef struct {
    host_req *r;
} api_obj;

static host_req *api__check(lua_State *L, int idx, const char *mt)
{
    api_obj *o = luaL_checkudata(L, idx, mt);
    if (!o->r)
        luaL_error(L, "attempt to use a finished %s", mt == API__REQ ? "request" : "response");
    return o->r;
}

void lua__api_push_decoded(lua_State *L, const char *s, size_t n)
{
    luaL_Buffer b;
    char *d = luaL_buffinitsize(L, &b, n ? n : 1);
    size_t dl = 0;
    form_urldecode_to(d, s, n, 0, &dl);
    luaL_pushresultsize(&b, dl);
}

/* ---- the request -------------------------------------------------------- */

/* The client sent something the API cannot parse: the request ends with
 * `status` (400, 413) rather than a 500, and it is not the plugin's fault. */
static int api__refuse(lua_State *L, host_req *r, int status, const char *why)
{
    r->client_status = status;
    return luaL_error(L, "the request was refused with %d: %s", status, why);
}

/* Cache slot `key` of the request's user value (a table made on first
 * use): pushes it, or nil. */
static int api__cached(lua_State *L, int obj, const char *key)
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
static void api__cache(lua_State *L, int obj, const char *key)
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
} api_pairs;

static int api__on_pair(void *ud, const char *n, size_t nl, const char *v, size_t vl)
{
    api_pairs *a = ud;
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
static void api__parse_pairs(lua_State *L, int obj, const char *s, size_t n, const char *key,
                             const char *key_all)
{
    host_req *r = api__check(L, obj, API__REQ);
    lua_newtable(L);
    lua_newtable(L);
    api_pairs a = {L, lua_gettop(L) - 1, lua_gettop(L)};
    const char *why = NULL;
    int rc =
        form_parse_urlencoded(s, n, (size_t)r->host->conf->max_form_fields, api__on_pair, &a, &why);
    if (rc == PH_ELIMIT) api__refuse(L, r, 413, "too many form fields (max-form-fields)");
    if (rc) api__refuse(L, r, 400, why ? why : ph_strerror(rc));
    api__cache(L, obj, key_all);
    lua_pop(L, 1);
    api__cache(L, obj, key);
}

static bool api__content_type_is(const http_request *q, const char *type)
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
} api_parts;

static int api__on_part(void *ud, const form_part *part)
{
    api_parts *a = ud;
    lua_State *L = a->L;
    if (part->filename && part->filename_len == 0) return 0; /* a file input left empty */
    if (!part->filename) {
        return api__on_pair(&(api_pairs){L, a->firsts, a->alls}, part->name, part->name_len,
                            part->data, part->data_len);
    }
    const char *dir = a->r->host->conf->upload_dir;
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
    if (api__cached(L, a->obj, "_spooled") != LUA_TTABLE) {
        lua_pop(L, 1);
        lua_newtable(L);
        api__cache(L, a->obj, "_spooled");
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
static void api__parse_form(lua_State *L, int obj)
{
    host_req *r = api__check(L, obj, API__REQ);
    const http_request *q = r->http;
    if (api__content_type_is(q, "multipart/form-data")) {
        const char *ct = http_request_header(q, "content-type");
        const char *bd;
        size_t bl;
        const char *why = NULL;
        if (form_multipart_boundary(ct, strlen(ct), &bd, &bl, &why))
            api__refuse(L, r, 400, why ? why : "multipart: no boundary");
        lua_newtable(L);
        lua_newtable(L);
        lua_newtable(L);
        int top = lua_gettop(L);
        api_parts a = {L, r, lua_absindex(L, obj), top - 2, top - 1, top};
        size_t maxb = (size_t)r->host->conf->max_body_bytes;
        form_multipart_limits lim = {(size_t)r->host->conf->max_form_fields, 16384, maxb, maxb};
        int rc = form_multipart_parse(q->body ? q->body : "", q->body_len, bd, bl, &lim,
                                      api__on_part, &a, &why);
        if (rc == PH_EIO) luaL_error(L, "cannot store an uploaded file (see the log)");
        if (rc == PH_ELIMIT) api__refuse(L, r, 413, why ? why : "multipart: over a limit");
        if (rc) api__refuse(L, r, 400, why ? why : ph_strerror(rc));
        api__cache(L, obj, "files");
        lua_pop(L, 1);
        api__cache(L, obj, "_form_all");
        lua_pop(L, 1);
        api__cache(L, obj, "form");
        return;
    }
    if (api__content_type_is(q, "application/x-www-form-urlencoded")) {
        api__parse_pairs(L, obj, q->body, q->body_len, "form", "_form_all");
    } else {
        lua_newtable(L);
        api__cache(L, obj, "_form_all");
        lua_pop(L, 1);
        lua_newtable(L);
        api__cache(L, obj, "form");
    }
    lua_newtable(L);
    api__cache(L, obj, "files");
    lua_pop(L, 1);
}

/* ---- credentials ----------------------------------------------------------
 * The staff session, the CSRF cookie, Authorization and whatever the center
 * lists in secret-cookies and secret-headers never reach plugin code: a
 * plugin that could read them could act as any logged-in visitor. Identity
 * is available through park.auth alone. */

static bool api__listed(const conf_list *l, const char *n, size_t nl)
{
    for (size_t i = 0; i < l->n; i++)
        if (strlen(l->v[i]) == nl && !strncasecmp(l->v[i], n, nl)) return true;
    return false;
}

bool lua__secret_cookie(const lua_host *h, const char *n, size_t nl)
{
    static const char *const own[] = {"ph_session", "ph_csrf", NULL};
    for (const char *const *o = own; *o; o++)
        if (strlen(*o) == nl && !strncasecmp(*o, n, nl)) return true;
    return api__listed(&h->conf->secret_cookies, n, nl);
}

bool lua__secret_header(const lua_host *h, const char *n, size_t nl)
{
    static const char *const own[] = {"authorization", "proxy-authorization", NULL};
    for (const char *const *o = own; *o; o++)
        if (strlen(*o) == nl && !strncasecmp(*o, n, nl)) return true;
    return api__listed(&h->conf->secret_headers, n, nl);
}

/* Push a Cookie header's value without the secret cookies (the pairs kept
 * as they came, joined by "; "), or nil when none is left. */
static void api__push_cookie_header(lua_State *L, const lua_host *h, const char *v, size_t vl)
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
        if (te > s && !lua__secret_cookie(h, s, (size_t)(ne - s))) {
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
static void api__push_header(lua_State *L, const host_req *r, const char *name, size_t nl,
                             const char *v, size_t vl)
{
    if (!v || lua__secret_header(r->host, name, nl))
        lua_pushnil(L);
    else if (nl == 6 && !strncasecmp(name, "cookie", 6))
        api__push_cookie_header(L, r->host, v, vl);
    else
        lua_pushlstring(L, v, vl);
}

typedef struct {
    lua_State *L;
    const lua_host *h;
} api_cookies;

static int api__on_cookie(void *ud, const char *n, size_t nl, const char *v, size_t vl)
{
    api_cookies *c = ud;
    lua_State *L = c->L;
    if (lua__secret_cookie(c->h, n, nl)) return 0;
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

static bool api__cidr_match(const char *spec, const char *ip)
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

static bool api__trusted(const ph_conf *c, const char *ip)
{
    for (size_t i = 0; i < c->trusted_proxies.n; i++)
        if (api__cidr_match(c->trusted_proxies.v[i], ip)) return true;
    return false;
}

/* The client's address: the peer, or, behind trusted proxies, the last
 * address of X-Forwarded-For that is not a trusted proxy. */
bool lua__client_ip(const host_req *r, char *ip, size_t iplen)
{
    if (!r->http || http_request_peer(r->http, ip, iplen) != 0) return false;
    const char *xff = http_request_header(r->http, "x-forwarded-for");
    if (xff && api__trusted(r->host->conf, ip)) {
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
            if (!api__trusted(r->host->conf, cand)) break;
            end = comma > xff ? comma - 1 : xff;
        }
    }
    return true;
}

bool lua__via_https(const host_req *r)
{
    char peer[64];
    if (!r->http || http_request_peer(r->http, peer, sizeof peer) != 0) return false;
    const char *proto = http_request_header(r->http, "x-forwarded-proto");
    return proto && !strcasecmp(proto, "https") && api__trusted(r->host->conf, peer);
}

static void api__push_client_ip(lua_State *L, host_req *r)
{
    char ip[64];
    if (lua__client_ip(r, ip, sizeof ip))
        lua_pushstring(L, ip);
    else
        lua_pushnil(L);
}

static int l_req_index(lua_State *L)
{
    host_req *r = api__check(L, 1, API__REQ);
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
        if (!strcmp(k, "config") || !strcmp(k, "cookies")) {
            if (api__cached(L, 1, k) != LUA_TNIL) return 1;
            lua_pop(L, 1);
            if (k[1] == 'o' && k[2] == 'n') {
                lua_rawgeti(L, LUA_REGISTRYINDEX, r->binding->config_ref);
            } else {
                lua_newtable(L);
                api_cookies c = {L, r->host};
                for (size_t i = 0; i < q->nheaders; i++)
                    if (q->headers[i].name_len == 6 &&
                        !strncasecmp(q->headers[i].name, "cookie", 6))
                        form_parse_cookies(q->headers[i].value, q->headers[i].value_len,
                                           api__on_cookie, &c);
            }
            api__cache(L, 1, k);
            return 1;
        }
        if (!strcmp(k, "client_ip")) {
            api__push_client_ip(L, r);
            return 1;
        }
        break;
    case 'f':
        if (!strcmp(k, "form") || !strcmp(k, "files")) {
            if (api__cached(L, 1, k) != LUA_TNIL) return 1;
            lua_pop(L, 1);
            api__parse_form(L, 1);
            lua_pop(L, 1);
            api__cached(L, 1, k);
            return 1;
        }
        break;
    case 'h':
        if (!strcmp(k, "headers")) {
            if (api__cached(L, 1, k) != LUA_TNIL) return 1;
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
                    api__push_header(L, r, q->headers[i].name, q->headers[i].name_len,
                                     q->headers[i].value, q->headers[i].value_len);
                    lua_rawset(L, -3);
                } else {
                    lua_pop(L, 1);
                }
            }
            api__cache(L, 1, k);
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
            if (api__cached(L, 1, k) != LUA_TNIL) return 1;
            lua_pop(L, 1);
            const host_route *rt = r->route;
            lua_createtable(L, 0, (int)rt->nsegs);
            for (size_t i = 0; i < rt->nsegs; i++) {
                if (rt->segs[i][0] != ':' && rt->segs[i][0] != '*') continue;
                lua_pushstring(L, rt->segs[i] + 1);
                lua__api_push_decoded(L, r->pv[i], r->pl[i]);
                lua_rawset(L, -3);
            }
            api__cache(L, 1, k);
            return 1;
        }
        break;
    case 'q':
        if (!strcmp(k, "query")) {
            if (api__cached(L, 1, k) != LUA_TNIL) return 1;
            lua_pop(L, 1);
            api__parse_pairs(L, 1, q->query, q->query_len, "query", "_query_all");
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
    host_req *r = api__check(L, 1, API__REQ);
    size_t nl;
    const char *name = luaL_checklstring(L, 2, &nl);
    const char *v = http_request_header(r->http, name);
    api__push_header(L, r, name, nl, v, v ? strlen(v) : 0);
    return 1;
}

/* req:query_all(name), req:form_all(name): every value of a repeated field. */
static int api__all(lua_State *L, const char *field, const char *all)
{
    api__check(L, 1, API__REQ);
    const char *name = luaL_checkstring(L, 2);
    lua_getfield(L, 1, field); /* parses into the cache */
    lua_pop(L, 1);
    api__cached(L, 1, all);
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
    return api__all(L, "query", "_query_all");
}

static int l_req_form_all(lua_State *L)
{
    return api__all(L, "form", "_form_all");
}

static int api__cjson(lua_State *L)
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
    host_req *r = api__check(L, 1, API__REQ);
    api__cjson(L);
    lua_getfield(L, -1, "decode");
    lua_pushlstring(L, r->http->body ? r->http->body : "", r->http->body_len);
    if (lua_pcall(L, 1, 1, 0) != LUA_OK) {
        lua_pushnil(L);
        lua_pushfstring(L, "the body is not JSON: %s", lua_tostring(L, -2));
        return 2;
    }
    return 1;
}

/* ---- the response ------------------------------------------------------- */

/* RFC 9110 5.1 and 5.5: a name is a token; a value is visible ASCII,
 * obs-text, and spaces and tabs inside it, never at its ends. */
static bool api__token_char(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c && strchr("!#$%&'*+-.^_`|~", c));
}

bool lua__header_name_ok(const char *s, size_t n)
{
    if (n == 0) return false;
    for (size_t i = 0; i < n; i++)
        if (!api__token_char((unsigned char)s[i])) return false;
    return true;
}

bool lua__header_value_ok(const char *s, size_t n)
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

const char *lua__header_refusal(const lua_host *h, const char *n, size_t nl, const char *v,
                                size_t vl)
{
    if (!lua__header_name_ok(n, nl))
        return "bad response header name (RFC 9110: a token of letters, digits and "
               "!#$%&'*+-.^_`|~)";
    if (!lua__header_value_ok(v, vl))
        return "bad response header value (RFC 9110: no control characters, no DEL, no "
               "space or tab at either end)";
    if (nl == 10 && !strncasecmp(n, "set-cookie", 10)) {
        size_t k = 0;
        while (k < vl && v[k] != '=' && v[k] != ';')
            k++;
        while (k > 0 && (v[k - 1] == ' ' || v[k - 1] == '\t'))
            k--;
        if (lua__secret_cookie(h, v, k)) return "plugins may not set the host's cookies";
    }
    return NULL;
}

/* Append a header to r's response, its bytes bounded by
 * max-response-header-bytes. No check of the name or value. */
static void api__append_header(lua_State *L, host_req *r, const char *n, size_t nl, const char *v,
                               size_t vl)
{
    if (r->nres_headers >= LUA_MAX_RES_HEADERS)
        luaL_error(L, "too many response headers (at most %d)", LUA_MAX_RES_HEADERS);
    if (r->res_headers.len + nl + vl + 2 > (size_t)r->host->conf->max_response_header_bytes)
        luaL_error(L, "response headers exceed max-response-header-bytes (%d bytes) with '%s'",
                   (int)r->host->conf->max_response_header_bytes, n);
    if (ph_buf_append(&r->res_headers, n, nl) || ph_buf_append(&r->res_headers, "", 1) ||
        ph_buf_append(&r->res_headers, v, vl) || ph_buf_append(&r->res_headers, "", 1))
        luaL_error(L, "not enough memory");
    r->nres_headers++;
}

void lua__api_add_header(lua_State *L, host_req *r, const char *n, size_t nl, const char *v,
                         size_t vl)
{
    const char *why = lua__header_refusal(r->host, n, nl, v, vl);
    if (why) luaL_error(L, "response header '%s': %s", n, why);
    api__append_header(L, r, n, nl, v, vl);
}

static int l_res_status(lua_State *L)
{
    host_req *r = api__check(L, 1, API__RES);
    lua_Integer s = luaL_checkinteger(L, 2);
    luaL_argcheck(L, s >= 200 && s <= 599, 2, "status must be from 200 to 599");
    r->status = (int)s;
    lua_settop(L, 1);
    return 1;
}

static int l_res_header(lua_State *L)
{
    host_req *r = api__check(L, 1, API__RES);
    size_t nl, vl;
    const char *n = luaL_checklstring(L, 2, &nl);
    const char *v = luaL_checklstring(L, 3, &vl);
    if (r->streaming) return luaL_error(L, "headers cannot change once a stream has started");
    lua__api_add_header(L, r, n, nl, v, vl);
    lua_settop(L, 1);
    return 1;
}

/* res:cookie(name, value, { path=, domain=, max_age=, expires=, http_only=,
 * secure=, same_site= }) */
static int l_res_cookie(lua_State *L)
{
    host_req *r = api__check(L, 1, API__RES);
    form_cookie c;
    memset(&c, 0, sizeof c);
    c.name = luaL_checklstring(L, 2, &c.name_len);
    c.value = luaL_checklstring(L, 3, &c.value_len);
    if (lua__secret_cookie(r->host, c.name, c.name_len))
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
    lua__api_set_cookie(L, r, &c);
    lua_settop(L, 1);
    return 1;
}

void lua__api_set_cookie(lua_State *L, host_req *r, const form_cookie *c)
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
    api__append_header(L, r, "Set-Cookie", 10, lua_tostring(L, -1), lua_rawlen(L, -1));
    lua_pop(L, 1);
}

static void api__stream_begin(lua_State *L, host_req *r, int status, const http_header *extra,
                              size_t nextra)
{
    if (r->streaming) luaL_error(L, "the stream has started already");
    http_header hs[64];
    bool has_type = false;
    size_t nh = lua__res_headers(r, hs, 60, &has_type);
    for (size_t i = 0; i < nextra; i++)
        if (!has_type || strcasecmp(extra[i].name, "content-type") != 0) hs[nh++] = extra[i];
    int rc = http_stream_begin(r->http, status, hs, nh);
    if (rc == PH_ECLOSED) luaL_error(L, "the client has gone away");
    if (rc) luaL_error(L, "cannot start the stream (status %d)", status);
    r->streaming = true;
    r->next_streaming = r->host->streams;
    if (r->host->streams) r->host->streams->prev_streaming = r;
    r->host->streams = r;
}

static int l_res_stream(lua_State *L)
{
    host_req *r = api__check(L, 1, API__RES);
    static const http_header type = {"Content-Type", 12, "text/html; charset=utf-8", 24};
    api__stream_begin(L, r, r->status ? r->status : 200, &type, 1);
    lua_settop(L, 1);
    return 1;
}

static int l_res_sse(lua_State *L)
{
    host_req *r = api__check(L, 1, API__RES);
    static const http_header hs[] = {
        {"Content-Type", 12, "text/event-stream; charset=utf-8", 32},
        {"Cache-Control", 13, "no-cache", 8},
        {"X-Accel-Buffering", 17, "no", 2},
    };
    api__stream_begin(L, r, 200, hs, 3);
    lua_settop(L, 1);
    return 1;
}

static int api__write_done(lua_State *L, int status, lua_KContext ctx)
{
    (void)status;
    (void)ctx;
    host_req *r = lua__req_of(L);
    if (!r || !r->http) {
        lua_pushnil(L);
        lua_pushliteral(L, "the client has gone away");
        return 2;
    }
    lua_pushboolean(L, 1);
    return 1;
}

/* Queue bytes; past API__DRAIN_BYTES wait (yield) until the client took them. */
static int api__write(lua_State *L, host_req *r, const char *s, size_t n)
{
    if (!r->streaming) return luaL_error(L, "call res:stream() or res:sse() before writing");
    if (r->http && http_stream_buffered(r->http) + n > (size_t)r->host->conf->stream_buffer_bytes) {
        /* The client takes nothing (or the plugin writes where it cannot
         * wait): what it has not taken is bounded, and the stream ends. */
        log_msg(LOG_WARN,
                "plugin %s: %s %s rid=%s: the client does not take the stream: ended past "
                "stream-buffer-bytes (%lld)",
                r->plugin->name, r->http->method, r->http->path, r->http->id,
                (long long)r->host->conf->stream_buffer_bytes);
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
    if (http_stream_buffered(r->http) > API__DRAIN_BYTES && L == r->co && lua_isyieldable(L)) {
        r->state = REQ_DRAINING;
        return lua_yieldk(L, 0, 0, api__write_done);
    }
    lua_pushboolean(L, 1);
    return 1;
}

static int l_res_write(lua_State *L)
{
    host_req *r = api__check(L, 1, API__RES);
    size_t n;
    const char *s = luaL_checklstring(L, 2, &n);
    return api__write(L, r, s, n);
}

/* A server-sent event: { event =, id =, retry =, data = } */
static int l_res_event(lua_State *L)
{
    host_req *r = api__check(L, 1, API__RES);
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
    return api__write(L, r, ev, n);
}

/* A comment line (": text"), e.g. a heartbeat that keeps proxies from
 * closing an idle event stream. */
static int l_res_comment(lua_State *L)
{
    host_req *r = api__check(L, 1, API__RES);
    size_t n;
    const char *t = luaL_optlstring(L, 2, "", &n);
    if (strpbrk(t, "\r\n")) return luaL_error(L, "a comment must be one line");
    lua_pushfstring(L, ": %s\n\n", t);
    const char *s = lua_tolstring(L, -1, &n);
    return api__write(L, r, s, n);
}

/* ---- park.* ------------------------------------------------------------- */

static void api__on_sleep(uv_timer_t *t)
{
    host_req *r = t->data;
    if (r->state == REQ_SLEEPING) lua__req_resume(r, 0);
}

/* Put r to sleep until `cb` runs, at least 1 ms from now: libuv (before
 * 1.45) runs a timer started at 0 from a timer's callback in the same pass,
 * so a loop of park.sleep(0) or of notifications would never let the loop
 * poll for I/O again. */
static void api__wait(host_req *r, uv_timer_cb cb, uint64_t ms)
{
    if (!r->timer_open) {
        uv_timer_init(r->host->loop, &r->timer);
        r->timer.data = r;
        r->timer_open = true;
    }
    uv_timer_start(&r->timer, cb, ms ? ms : 1, 0);
    r->state = REQ_SLEEPING;
}

static int l_park_sleep(lua_State *L)
{
    lua_Integer ms = luaL_checkinteger(L, 1);
    luaL_argcheck(L, ms >= 0 && ms <= 24LL * 3600 * 1000, 1, "from 0 to 86400000 ms");
    host_req *r = lua__req_of(L);
    if (!r || L != r->co || !lua_isyieldable(L))
        return luaL_error(L, "park.sleep must be called from the handler itself, not from a "
                             "coroutine of the plugin or a callback of a C function");
    api__wait(r, api__on_sleep, (uint64_t)ms);
    return lua_yield(L, 0);
}

/* ---- park.wait / park.notify ----------------------------------------------
 * A request waits on a key until another request (or job) of the same plugin
 * notifies it, or its time runs out: a live page's watchers wake when there
 * is news instead of polling. A notification wakes the waiters on the next
 * turn of the loop, never inside the notifier's own code. */

static void api__unwait(host_req *r)
{
    if (!r->wait_key) return;
    host_plugin *p = r->plugin;
    if (r->prev_waiter)
        r->prev_waiter->next_waiter = r->next_waiter;
    else
        p->waiters = r->next_waiter;
    if (r->next_waiter) r->next_waiter->prev_waiter = r->prev_waiter;
    r->next_waiter = r->prev_waiter = NULL;
    free(r->wait_key);
    r->wait_key = NULL;
}

static void api__on_wait(uv_timer_t *t)
{
    host_req *r = t->data;
    if (r->state != REQ_SLEEPING) return;
    bool notified = r->notified;
    api__unwait(r);
    lua_pushboolean(r->co, notified);
    lua__req_resume(r, 1);
}

/* park.wait(key, ms) -> true when notified, false when the time ran out */
static int l_park_wait(lua_State *L)
{
    size_t kl;
    const char *key = luaL_checklstring(L, 1, &kl);
    lua_Integer ms = luaL_checkinteger(L, 2);
    luaL_argcheck(L, kl >= 1 && kl <= 128, 1, "a key is 1 to 128 bytes");
    luaL_argcheck(L, ms >= 0 && ms <= 24LL * 3600 * 1000, 2, "from 0 to 86400000 ms");
    host_req *r = lua__req_of(L);
    if (!r || L != r->co || !lua_isyieldable(L))
        return luaL_error(L, "park.wait must be called from the handler itself");
    if (!(r->wait_key = malloc(kl + 1))) return luaL_error(L, "not enough memory");
    memcpy(r->wait_key, key, kl + 1);
    host_plugin *p = r->plugin;
    r->notified = false;
    r->prev_waiter = NULL;
    r->next_waiter = p->waiters;
    if (p->waiters) p->waiters->prev_waiter = r;
    p->waiters = r;
    api__wait(r, api__on_wait, (uint64_t)ms);
    return lua_yield(L, 0);
}

/* park.notify(key) -> how many waiters it wakes (on the loop's next turn) */
static int l_park_notify(lua_State *L)
{
    const char *key = luaL_checkstring(L, 1);
    lua_Integer n = 0;
    for (host_req *r = lua__plugin_of(L)->waiters; r; r = r->next_waiter) {
        if (r->notified || strcmp(r->wait_key, key) != 0) continue;
        r->notified = true;
        api__wait(r, api__on_wait, 0); /* the next turn */
        n++;
    }
    lua_pushinteger(L, n);
    return 1;
}

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
static bool api__redirect_ok(const char *u, size_t n)
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
    if (!lua__header_value_ok(url, n) || n == 0)
        return luaL_error(L, "bad redirect target (a URL of one line)");
    if (!api__redirect_ok(url, n))
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

/* Make room for an output of `out` bytes from an input of `n`: billed by
 * the input's size, and refused at once past the plugin's memory cap, so
 * that neither the loop below nor the buffer's growth is work for free. */
static char *api__room(lua_State *L, luaL_Buffer *b, size_t n, size_t out, const char *what)
{
    lua__bill_check(L, n / 16, what);
    lua__mem_check(L, (double)out, what);
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
    char *d = api__room(L, &b, n, out, "park.escape");
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

static bool api__url_safe(unsigned char c)
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
        if (!api__url_safe((unsigned char)s[i])) out += 2;
    luaL_Buffer b;
    char *d = api__room(L, &b, n, out, "park.url_encode");
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (api__url_safe(c)) {
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
    char *d = api__room(L, &b, n, n, "park.url_decode");
    size_t dl = 0;
    form_urldecode_to(d, s, n, lua_toboolean(L, 2) ? FORM_URL_PLUS : 0, &dl);
    luaL_pushresultsize(&b, dl);
    return 1;
}

static int api__log(lua_State *L, log_level lvl)
{
    host_plugin *p = lua__plugin_of(L);
    host_req *r = p->cur;
    unsigned dropped;
    if (!lua__log_allowed(p, &dropped)) return 0;
    lua__join_args(L, ' ');
    if (dropped)
        log_msg(LOG_WARN, "plugin %s: %u log lines dropped (plugin-log-lines)", p->name, dropped);
    log_msg(lvl, "plugin %s: %.4000s%s%s", p->name, lua_tostring(L, -1),
            r && r->http ? " rid=" : "", r && r->http ? r->http->id : "");
    return 0;
}

static int l_park_log_info(lua_State *L)
{
    return api__log(L, LOG_INFO);
}

static int l_park_log_warn(lua_State *L)
{
    return api__log(L, LOG_WARN);
}

static int l_park_log_error(lua_State *L)
{
    return api__log(L, LOG_ERROR);
}

static int api__pushl(lua_State *L)
{
    lua_pushlstring(L, lua_touserdata(L, 1), (size_t)lua_tointeger(L, 2));
    return 1;
}

/* The template loader: a file of the plugin's templates/ folder, or, for
 * a name under "park/", of the host's (lualib/park/templates: the site's
 * layout, shared by every plugin's pages). */
static int l_park_read_template(lua_State *L)
{
    host_plugin *p = lua__plugin_of(L);
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
    const char *root = host ? p->host->conf->lualib : p->dir;
    lua_pushfstring(L, host ? "park/templates/%s" : "templates/%s", host ? name + 5 : name);
    const char *rel = lua_tostring(L, -1);
    char *data;
    size_t len;
    int rc = lua__slurp_beneath(root, rel, API__MAX_TEMPLATE, &data, &len);
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
    lua_pushcfunction(L, api__pushl);
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
    if (lua_getfield(L, LUA_REGISTRYINDEX, API__ENGINE) == LUA_TNIL) {
        lua_pop(L, 1);
        lua_rawgeti(L, LUA_REGISTRYINDEX, lua__plugin_of(L)->env_ref);
        lua_getfield(L, -1, "require");
        lua_pushliteral(L, "park.template");
        lua_call(L, 1, 1);
        lua_getfield(L, -1, "new");
        lua_createtable(L, 0, 1);
        lua_pushcfunction(L, l_park_read_template);
        lua_setfield(L, -2, "load");
        lua_call(L, 1, 1);
        lua_pushvalue(L, -1);
        lua_setfield(L, LUA_REGISTRYINDEX, API__ENGINE);
    }
    lua_getfield(L, -1, "render");
    lua_insert(L, -2);
    lua_pushvalue(L, 1);
    lua_pushvalue(L, 2);
    lua_call(L, 3, 1);
    return 1;
}

/* ---- objects and the module -------------------------------------------- */

void lua__api_push_req(lua_State *co, host_req *r)
{
    api_obj *o = lua_newuserdatauv(co, sizeof *o, 1);
    o->r = r;
    luaL_setmetatable(co, API__REQ);
    r->req_obj = o;
}

void lua__api_push_res(lua_State *co, host_req *r)
{
    api_obj *o = lua_newuserdatauv(co, sizeof *o, 0);
    o->r = r;
    luaL_setmetatable(co, API__RES);
    r->res_obj = o;
}

/* The objects are still alive here: they sit at the bottom of co's stack
 * until the coroutine is reset. */
void lua__api_close(host_req *r)
{
    api__unwait(r);
    ph_buf_free(&r->uploads);
    if (r->res_obj) ((api_obj *)r->res_obj)->r = NULL;
    if (!r->req_obj) return;
    ((api_obj *)r->req_obj)->r = NULL;
    lua_State *L = r->co;
    /* Remove uploaded files the handler did not move away. */
    if (L && lua_checkstack(L, 4) && lua_touserdata(L, 1) == r->req_obj &&
        lua_getiuservalue(L, 1, 1) == LUA_TTABLE) {
        if (lua_getfield(L, -1, "_spooled") == LUA_TTABLE) {
            lua_Integer n = (lua_Integer)lua_rawlen(L, -1);
            for (lua_Integer i = 1; i <= n; i++) {
                lua_rawgeti(L, -1, i);
                unlink(lua_tostring(L, -1));
                lua_pop(L, 1);
            }
        }
        lua_pop(L, 1);
    }
    lua_pop(L, 1);
}

void lua__api_answered(host_req *r)
{
    if (r->req_obj) ((api_obj *)r->req_obj)->r = NULL;
    if (r->res_obj) ((api_obj *)r->res_obj)->r = NULL;
}

static const luaL_Reg api__req_methods[] = {
    {"header", l_req_header},
    {"query_all", l_req_query_all},
    {"form_all", l_req_form_all},
    {"json", l_req_json},
    {NULL, NULL},
};

static const luaL_Reg api__res_methods[] = {
    {"status", l_res_status}, {"header", l_res_header},   {"cookie", l_res_cookie},
    {"stream", l_res_stream}, {"sse", l_res_sse},         {"write", l_res_write},
    {"event", l_res_event},   {"comment", l_res_comment}, {NULL, NULL},
};

/* park.token(): 22 random characters of [A-Za-z0-9_-] (132 bits, from
 * libsodium): a participant's browser, an invitation, a form's nonce. */
static int l_park_token(lua_State *L)
{
    char t[AUTH_BROWSER_MAX];
    auth_browser_id(t);
    lua_pushstring(L, t);
    return 1;
}

static const luaL_Reg api__park[] = {
    {"sleep", l_park_sleep},           {"wait", l_park_wait},
    {"notify", l_park_notify},         {"token", l_park_token},
    {"redirect", l_park_redirect},     {"escape", l_park_escape},
    {"url_encode", l_park_url_encode}, {"url_decode", l_park_url_decode},
    {"render", l_park_render},         {NULL, NULL},
};

static int api__tostring_req(lua_State *L)
{
    api_obj *o = luaL_checkudata(L, 1, API__REQ);
    if (o->r && o->r->http)
        lua_pushfstring(L, "request %s %s", o->r->http->method, o->r->http->path);
    else
        lua_pushliteral(L, "request (finished)");
    return 1;
}

void lua__api_open(lua_State *L)
{
    luaL_newmetatable(L, API__REQ);
    lua_newtable(L);
    luaL_setfuncs(L, api__req_methods, 0);
    lua_pushcclosure(L, l_req_index, 1);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, l_req_newindex);
    lua_setfield(L, -2, "__newindex");
    lua_pushcfunction(L, api__tostring_req);
    lua_setfield(L, -2, "__tostring");
    lua_pushliteral(L, "request");
    lua_setfield(L, -2, "__metatable");
    lua_pop(L, 1);

    luaL_newmetatable(L, API__RES);
    lua_newtable(L);
    luaL_setfuncs(L, api__res_methods, 0);
    lua_setfield(L, -2, "__index");
    lua_pushliteral(L, "response");
    lua_setfield(L, -2, "__metatable");
    lua_pop(L, 1);

    lua_newtable(L);
    luaL_setfuncs(L, api__park, 0);
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
    lua_createtable(L, 0, 3);
    lua_pushcfunction(L, l_park_log_info);
    lua_setfield(L, -2, "info");
    lua_pushcfunction(L, l_park_log_warn);
    lua_setfield(L, -2, "warn");
    lua_pushcfunction(L, l_park_log_error);
    lua_setfield(L, -2, "error");
    lua_setfield(L, -2, "log");
    lua__db_open(L);
    lua_setfield(L, -2, "db");
    lua__calendar_open(L);
    lua_setfield(L, -2, "calendar");
    lua__sched_open(L);
    lua_setfield(L, -2, "sched");
    lua__files_open(L);
    lua_setfield(L, -2, "files");
    lua_pushcfunction(L, lua__l_park_now);
    lua_setfield(L, -2, "now");
    lua_pushcfunction(L, lua__l_park_csrf);
    lua_setfield(L, -2, "csrf");
    lua__auth_open(L);
    lua_setfield(L, -2, "auth");
    lua__site_open(L);
    lua_setfield(L, -2, "site");
    lua_pushcfunction(L, lua__l_park_audit);
    lua_setfield(L, -2, "audit");
    lua_pushvalue(L, -1);
    lua_setfield(L, LUA_REGISTRYINDEX, API__PARK);
    /* require("park") finds it in the require cache. */
    lua_getfield(L, LUA_REGISTRYINDEX, "park.loaded");
    lua_pushvalue(L, -2);
    lua_setfield(L, -2, "park");
    lua_pop(L, 2);
}
