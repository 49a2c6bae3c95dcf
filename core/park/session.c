/* park.auth: staff logins and sessions for plugins (the admin console and
 * any unit's staff pages).
 *
 * A login checks the password on the libuv thread pool (Argon2id costs
 * tens of milliseconds by design, which the loop must not spend): the
 * request's coroutine waits, the work's end records the outcome and resumes
 * it. A client that leaves meanwhile only marks the request orphaned
 * (lua/host.c); the work's end frees it. Failed logins are limited per
 * account (login-max-failures within login-window-s: refused before the
 * password is even looked at). An address is never refused: once it failed
 * login-max-failures-address times, each attempt from it first waits
 * (login-delay-ms per further failure, up to login-delay-max-ms) on the
 * request's timer, the loop serving others meanwhile, so that one guesser
 * behind a NAT slows its neighbours' logins instead of locking them out. A
 * browser that logged in as the account before carries a device token
 * (ph_device, signed, login-device-days) and is not slowed. A session is a
 * random token in the cookie ph_session (HttpOnly, SameSite=Lax, Secure
 * behind an HTTPS proxy); the database keeps only its hash. */
#include "audit/audit.h"
#include "auth/auth.h"
#include "form/form.h"
#include "log/log.h"
#include "park/park.h"

#include <stdlib.h>
#include <string.h>

#define SESSION__COOKIE LUA_SESSION_COOKIE
#define SESSION__DEVICE LUA_DEVICE_COOKIE

typedef struct {
    char login[72];
    char address[64];
    char hash[AUTH_HASH_MAX];
    char pw[AUTH_PASSWORD_MAX + 1];
    size_t pwlen;
    int64_t user_id;
    bool disabled, ok;
    /* Set on the loop once checked: how it ended, and the session's token. */
    enum { SESSION__IN, SESSION__DENIED, SESSION__FAILED } outcome;
    char token[AUTH_TOKEN_MAX];
    char device[AUTH_DEVICE_MAX]; /* the browser's new device token, "" for none */
} session__login;

static host_req *session__req(lua_State *L, const char *fn)
{
    host_req *r = lua_req_of(L);
    if (!r || !r->http) luaL_error(L, "park.auth.%s is called while handling a request", fn);
    return r;
}

static auth_limits session__limits(const ph_conf *c)
{
    return (auth_limits){c->login_window_s, c->login_max_failures, c->login_max_failures_address,
                         c->login_delay_ms, c->login_delay_max_ms};
}

/* The session token in the request's cookie, or NULL. */
static const char *session__token(const host_req *r, size_t *len)
{
    const char *v;
    return form_cookie_value(http_request_header(r->http, "cookie"), SESSION__COOKIE, &v, len)
               ? v
               : NULL;
}

static void session__set_cookie(lua_State *L, host_req *r, const char *token, int64_t max_age)
{
    form_cookie c = {.name = SESSION__COOKIE,
                     .name_len = sizeof SESSION__COOKIE - 1,
                     .value = token,
                     .value_len = strlen(token),
                     .path = "/",
                     .path_len = 1,
                     .max_age = max_age,
                     .http_only = 1,
                     .secure = park__via_https(r),
                     .same_site = FORM_SAMESITE_LAX};
    park__set_cookie(L, r, &c);
}

/* The device cookie of a browser that just logged in: for the login page's
 * folder (/admin for /admin/login), so it goes nowhere else. */
static void session__set_device(lua_State *L, host_req *r, const char *token, int64_t max_age)
{
    const char *path = r->http->path;
    const char *slash = strrchr(path, '/');
    size_t plen = slash && slash > path ? (size_t)(slash - path) : 1;
    /* A path a cookie cannot carry (a ';' in it): the whole site instead. */
    if (strspn(path, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~/%") <
        plen) {
        path = "/";
        plen = 1;
    }
    form_cookie c = {.name = SESSION__DEVICE,
                     .name_len = sizeof SESSION__DEVICE - 1,
                     .value = token,
                     .value_len = strlen(token),
                     .path = path,
                     .path_len = plen,
                     .max_age = max_age,
                     .http_only = 1,
                     .secure = park__via_https(r),
                     .same_site = FORM_SAMESITE_LAX};
    park__set_cookie(L, r, &c);
}

/* The secret device tokens are signed with, kept in park_secrets like the
 * CSRF one (its own, so neither can stand for the other). */
static bool session__device_secret(store *s, unsigned char key[AUTH_SECRET_BYTES])
{
    return auth_init() == 0 && auth_secret(s, "device", key) == 0;
}

/* Whether the request carries a device token of `login` that is still good. */
static bool session__known_device(const host_req *r, store *s, const char *login)
{
    const ph_conf *c = lua_host_conf(r->host);
    const char *v;
    size_t len;
    unsigned char key[AUTH_SECRET_BYTES];
    if (c->login_device_days <= 0 ||
        !form_cookie_value(http_request_header(r->http, "cookie"), SESSION__DEVICE, &v, &len) ||
        !session__device_secret(s, key))
        return false;
    bool ok = auth_device_ok(key, login, v, len, lua_now(r->host), c->login_device_days * 86400);
    explicit_bzero(key, sizeof key);
    return ok;
}

static void session__push_role(void *ud, const char *unit, const char *role)
{
    lua_State *L = ud;
    lua_createtable(L, 0, 2);
    lua_pushstring(L, unit);
    lua_setfield(L, -2, "unit");
    lua_pushstring(L, role);
    lua_setfield(L, -2, "role");
    lua_rawseti(L, -2, (lua_Integer)lua_rawlen(L, -2) + 1);
}

/* Push { id =, login =, name =, roles = { { unit =, role = }, ... } }, or
 * nil when the user is gone. Returns PH_EDB on a database failure. */
static int session__push_user(lua_State *L, store *s, int64_t id)
{
    char login[256], name[256];
    lua_createtable(L, 0, 4);
    lua_newtable(L);
    int rc = auth_user_get(s, id, login, name, sizeof name, session__push_role, L);
    if (rc) {
        lua_pop(L, 2);
        if (rc == PH_ENOTFOUND) lua_pushnil(L);
        return rc == PH_ENOTFOUND ? 0 : rc;
    }
    lua_setfield(L, -2, "roles");
    lua_pushinteger(L, id);
    lua_setfield(L, -2, "id");
    lua_pushstring(L, login);
    lua_setfield(L, -2, "login");
    lua_pushstring(L, name);
    lua_setfield(L, -2, "name");
    return 0;
}

/* ---- the audit log ------------------------------------------------------ */

/* Record an entry for request r (may be NULL: a job) of plugin p: the actor
 * is the logged-in user when there is one, else the plugin. */
static int session__audit(host_plugin *p, host_req *r, int64_t user_id, const char *login,
                          const char *action, const char *object, const char *before,
                          const char *after)
{
    lua_host *h = lua_plugin_host(p);
    char actor[300], address[64] = "";
    if (login)
        snprintf(actor, sizeof actor, "user:%s", login);
    else
        snprintf(actor, sizeof actor, "plugin:%s", lua_plugin_name(p));
    if (r && r->http && !park__client_ip(r, address, sizeof address)) address[0] = 0;
    audit_entry e = {0, lua_now(h), actor, user_id, address, action, object, before, after};
    return audit_record(lua_host_store(h), &e);
}

int64_t park__session_user(host_req *r, char *login, size_t n)
{
    size_t len;
    const char *token = r && r->http ? session__token(r, &len) : NULL;
    int64_t id;
    char name[256];
    if (!token || auth_session_user(lua_host_store(r->host), token, len, lua_now(r->host), &id) ||
        auth_user_get(lua_host_store(r->host), id, login, name, n < sizeof name ? n : sizeof name,
                      NULL, NULL))
        return 0;
    return id;
}

static bool session__action_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 64) return false;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_' ||
              s[i] == '.'))
            return false;
    return true;
}

/* park.audit(action, object, before, after): record a change the plugin
 * made, by the logged-in user (or the plugin itself), with the values
 * before and after (any JSON-able values, nil for none). The action is
 * prefixed with the plugin's name: "close" from survey is "survey.close". */
static int l_park_audit(lua_State *L)
{
    host_plugin *p = lua_plugin_of(L);
    const char *action = luaL_checkstring(L, 1);
    size_t ol;
    const char *object = luaL_optlstring(L, 2, "", &ol);
    luaL_argcheck(L, session__action_ok(action), 1,
                  "an action is 1 to 64 of a-z, 0-9, '_' and '.'");
    luaL_argcheck(L, ol <= 256 && strlen(object) == ol, 2, "an object is at most 256 bytes");
    park__store(L, lua_plugin_of(L), "park.auth"); /* raises when there is no database */
    size_t bl, al;
    const char *before =
        lua_isnoneornil(L, 3) ? NULL : lua_json_encode(L, 3, "park.audit: before", &bl);
    const char *after =
        lua_isnoneornil(L, 4) ? NULL : lua_json_encode(L, 4, "park.audit: after", &al);
    size_t max = (size_t)lua_host_conf(lua_plugin_host(p))->audit_value_bytes;
    if ((before && bl > max) || (after && al > max))
        return luaL_error(
            L, "park.audit: a value is larger than %d bytes as JSON (audit-value-bytes)", (int)max);
    char full[300], login[256];
    snprintf(full, sizeof full, "%s.%s", lua_plugin_name(p), action);
    host_req *r = lua_req_of(L);
    int64_t uid = park__session_user(r, login, sizeof login);
    if (session__audit(p, r, uid, uid ? login : NULL, full, object, before, after)) {
        lua_pushnil(L);
        lua_pushliteral(L, "the audit log cannot be written");
        lua_pushliteral(L, "ERROR");
        return 3;
    }
    lua_pushboolean(L, 1);
    return 1;
}

/* ---- login -------------------------------------------------------------- */

/* On a thread of the pool: the password check, as long for an unknown or
 * disabled login as for a good one. */
static void session__check(uv_work_t *w)
{
    session__login *lw = w->data;
    if (lw->user_id && lw->hash[0]) {
        lw->ok = auth_verify(lw->hash, lw->pw, lw->pwlen) && !lw->disabled;
    } else {
        char ignored[AUTH_HASH_MAX];
        auth_hash(lw->pw, lw->pwlen, ignored);
        lw->ok = false;
    }
    explicit_bzero(lw->pw, sizeof lw->pw);
}

/* Back on the loop: record the outcome, then resume the request; its
 * continuation (session__login_k, inside the coroutine, where an error is
 * the handler's) makes the results. */
static void session__checked(uv_work_t *w, int status)
{
    host_req *r = (host_req *)((char *)w - offsetof(host_req, work));
    session__login *lw = w->data;
    r->work_pending = false;
    if (r->orphaned) { /* the client left: nothing to answer */
        free(lw);
        r->work.data = NULL;
        lua_req_end(r);
        return;
    }
    lua_host *h = r->host;
    int64_t now = lua_now(h);
    auth_limits lim = session__limits(lua_host_conf(h));
    if (status == 0 && lw->ok) {
        auth_login_succeeded(lua_host_store(h), lw->login);
        lw->outcome = auth_session_new(lua_host_store(h), lw->user_id, now,
                                       lua_host_conf(h)->session_ttl_s, lw->address, lw->token)
                          ? SESSION__FAILED
                          : SESSION__IN;
        unsigned char key[AUTH_SECRET_BYTES];
        if (lw->outcome == SESSION__IN && lua_host_conf(h)->login_device_days > 0 &&
            session__device_secret(lua_host_store(h), key)) {
            auth_device_token(key, lw->login, now, lw->device);
            explicit_bzero(key, sizeof key);
        }
        if (lw->outcome == SESSION__IN) {
            log_msg(LOG_INFO, "auth: %s logged in from %s rid=%s", lw->login, lw->address,
                    r->http->id);
            char object[100];
            snprintf(object, sizeof object, "user:%s", lw->login);
            session__audit(r->plugin, r, lw->user_id, lw->login, "auth.login", object, NULL, NULL);
        }
    } else {
        lw->outcome = SESSION__DENIED;
        auth_login_failed(lua_host_store(h), lw->login, lw->address, now, &lim);
        log_msg(LOG_WARN, "auth: failed login as %s from %s rid=%s", lw->login, lw->address,
                r->http->id);
    }
    lua_req_resume(r, 0);
}

static int session__login_k(lua_State *L, int status, lua_KContext ctx)
{
    (void)status;
    (void)ctx;
    host_req *r = lua_req_of(L);
    session__login *lw = r->work.data;
    r->work.data = NULL;
    int outcome = lw->outcome;
    int64_t id = lw->user_id;
    char token[AUTH_TOKEN_MAX], device[AUTH_DEVICE_MAX];
    memcpy(token, lw->token, sizeof token);
    memcpy(device, lw->device, sizeof device);
    free(lw); /* before anything that may raise */
    if (outcome == SESSION__IN) {
        store *s = park__store(L, lua_plugin_of(L), "park.auth");
        if (session__push_user(L, s, id) == 0 && !lua_isnil(L, -1)) {
            const ph_conf *c = lua_host_conf(r->host);
            session__set_cookie(L, r, token, c->session_ttl_s);
            if (device[0]) session__set_device(L, r, device, c->login_device_days * 86400);
            return 1;
        }
        auth_session_end(s, token, strlen(token));
    }
    lua_pushnil(L);
    if (outcome == SESSION__DENIED) {
        lua_pushliteral(L, "wrong login or password");
        lua_pushliteral(L, "DENIED");
    } else {
        lua_pushliteral(L, "the session cannot be stored");
        lua_pushliteral(L, "ERROR");
    }
    return 3;
}

/* The login itself, once any wait for the address is over: the account's
 * limit, then the password on the pool. login and password are at 1 and 2. */
static int session__login_go(lua_State *L)
{
    size_t ll, pl;
    const char *login = lua_tolstring(L, 1, &ll);
    const char *pw = lua_tolstring(L, 2, &pl);
    host_req *r = lua_req_of(L);
    store *s = park__store(L, lua_plugin_of(L), "park.auth");
    lua_host *h = r->host;
    session__login *lw = calloc(1, sizeof *lw);
    if (!lw) return luaL_error(L, "not enough memory");
    snprintf(lw->login, sizeof lw->login, "%.*s", ll < 64 ? (int)ll : 64, login);
    if (!park__client_ip(r, lw->address, sizeof lw->address)) lw->address[0] = 0;
    int64_t wait;
    auth_limits lim = session__limits(lua_host_conf(h));
    int rc = auth_login_allowed(s, lw->login, lua_now(h), &lim, &wait);
    if (rc == PH_ELIMIT) {
        log_msg(LOG_WARN, "auth: login as %s from %s refused: too many failures rid=%s", lw->login,
                lw->address, r->http->id);
        free(lw);
        lua_pushnil(L);
        lua_pushfstring(L, "too many failed logins: try again in %d minute(s)",
                        (int)((wait + 59) / 60));
        lua_pushliteral(L, "LIMIT");
        return 3;
    }
    if (rc || auth_login_lookup(s, lw->login, lw->hash, &lw->user_id, &lw->disabled)) {
        free(lw);
        lua_pushnil(L);
        lua_pushliteral(L, "the accounts cannot be read");
        lua_pushliteral(L, "ERROR");
        return 3;
    }
    if (ll > 64) lw->user_id = 0; /* no such login: checked all the same */
    lw->pwlen = pl > AUTH_PASSWORD_MAX ? AUTH_PASSWORD_MAX : pl;
    memcpy(lw->pw, pw, lw->pwlen);
    r->work.data = lw;
    if (uv_queue_work(lua_host_loop(h), &r->work, session__check, session__checked) != 0) {
        explicit_bzero(lw->pw, sizeof lw->pw);
        free(lw);
        lua_pushnil(L);
        lua_pushliteral(L, "the password cannot be checked now");
        lua_pushliteral(L, "BUSY");
        return 3;
    }
    r->work_pending = true;
    r->state = REQ_SLEEPING;
    return lua_yieldk(L, 0, 0, session__login_k);
}

static void session__on_delay(uv_timer_t *t)
{
    host_req *r = t->data;
    if (r->state == REQ_SLEEPING) lua_req_resume(r, 0);
}

static int session__delay_k(lua_State *L, int status, lua_KContext ctx)
{
    (void)status;
    (void)ctx;
    return session__login_go(L);
}

/* park.auth.login(login, password) -> the user, or nil, message, code
 * ("DENIED": wrong login or password; "LIMIT": too many failures of the
 * account, wait). From an address that failed often, it first waits; the
 * wait is the same whatever the password, so it tells nothing. Nothing is
 * held across the wait but the coroutine's own stack: a client that leaves
 * meanwhile ends the request like any park.sleep. */
static int l_auth_login(lua_State *L)
{
    size_t ll;
    const char *login = luaL_checklstring(L, 1, &ll);
    luaL_checkstring(L, 2);
    lua_settop(L, 2);
    host_req *r = session__req(L, "login");
    store *s = park__store(L, lua_plugin_of(L), "park.auth");
    if (L != r->co || !lua_isyieldable(L))
        return luaL_error(L, "park.auth.login must be called from the handler itself");
    lua_host *h = r->host;
    char who[72], address[64];
    snprintf(who, sizeof who, "%.*s", ll < 64 ? (int)ll : 64, login);
    if (!park__client_ip(r, address, sizeof address)) address[0] = 0;
    auth_limits lim = session__limits(lua_host_conf(h));
    int64_t delay = 0, failures = 0;
    if (auth_login_delay(s, address, lua_now(h), &lim, &delay, &failures)) {
        lua_pushnil(L);
        lua_pushliteral(L, "the accounts cannot be read");
        lua_pushliteral(L, "ERROR");
        return 3;
    }
    if (delay > 0 && session__known_device(r, s, who)) {
        log_msg(LOG_INFO, "auth: login as %s from %s not slowed: a known browser rid=%s", who,
                address, r->http->id);
        delay = 0;
    }
    if (delay == 0) return session__login_go(L);
    log_msg(LOG_WARN, "auth: login as %s from %s waits %lld ms: %lld failure(s) from there rid=%s",
            who, address, (long long)delay, (long long)failures, r->http->id);
    lua_req_sleep(r, session__on_delay, (uint64_t)delay);
    return lua_yieldk(L, 0, 0, session__delay_k);
}

/* park.auth.user() -> the logged-in user of this request, or nil */
static int l_auth_user(lua_State *L)
{
    host_req *r = session__req(L, "user");
    store *s = park__store(L, lua_plugin_of(L), "park.auth");
    size_t len;
    const char *token = session__token(r, &len);
    int64_t id;
    if (!token || auth_session_user(s, token, len, lua_now(r->host), &id)) {
        lua_pushnil(L);
        return 1;
    }
    if (session__push_user(L, s, id)) {
        lua_pushnil(L);
        lua_pushliteral(L, "the accounts cannot be read");
        lua_pushliteral(L, "ERROR");
        return 3;
    }
    return 1;
}

/* park.auth.logout(): ends this request's session and clears its cookie. */
static int l_auth_logout(lua_State *L)
{
    host_req *r = session__req(L, "logout");
    store *s = park__store(L, lua_plugin_of(L), "park.auth");
    size_t len;
    const char *token = session__token(r, &len);
    if (token) {
        char login[256];
        int64_t uid = park__session_user(r, login, sizeof login);
        if (uid) {
            char object[300];
            snprintf(object, sizeof object, "user:%s", login);
            session__audit(lua_plugin_of(L), r, uid, login, "auth.logout", object, NULL, NULL);
        }
        auth_session_end(s, token, len);
    }
    session__set_cookie(L, r, "", 0);
    return 0;
}

void park_open_session(lua_State *L)
{
    static const luaL_Reg fns[] = {
        {"login", l_auth_login},           {"user", l_auth_user},
        {"logout", l_auth_logout},         {"can", park__auth_can},
        {"can_unit", park__auth_can_unit}, {NULL, NULL},
    };
    lua_newtable(L);
    luaL_setfuncs(L, fns, 0);
    lua_setfield(L, -2, "auth");
    lua_pushcfunction(L, l_park_audit);
    lua_setfield(L, -2, "audit");
}
