/* CSRF protection for every plugin, checked in one place: a request with
 * an unsafe method (POST, PUT, PATCH, DELETE, ...) reaches its handler only
 * when it carries the token of its browser, in the header X-CSRF-Token or
 * the form field _csrf. The browser's id is in the cookie ph_csrf
 * (HttpOnly, SameSite=Lax), set by park.csrf() when a page first asks for
 * a token; the token is an HMAC of that id under the site's secret, so a
 * page of another site can neither read nor forge it. Once the browser is
 * logged in, its session cookie is part of the HMAC too. A route or a plugin
 * that serves machine clients without cookies opts out with csrf = false. */
#include "auth/auth.h"
#include "form/form.h"
#include "log/log.h"
#include "lua/internal.h"

#include <string.h>
#include <strings.h>

#define CSRF__COOKIE  LUA_CSRF_COOKIE
#define CSRF__FIELD   "_csrf"
#define CSRF__SESSION LUA_SESSION_COOKIE /* a logged-in browser's token is bound to it */

void lua__csrf_init(lua_host *h)
{
    if (auth_init() == 0 && h->db && auth_secret(h->db, "csrf", h->csrf_secret) == 0) return;
    /* No database to keep it (a host that serves nothing, or a failure):
     * tokens last as long as this process. */
    if (h->db) log_msg(LOG_WARN, "csrf: no stored secret; form tokens end with this process");
    auth_random(h->csrf_secret, sizeof h->csrf_secret);
}

typedef struct {
    const char *name;
    size_t name_len;
    const char *value; /* the first value of `name`, or NULL */
    size_t value_len;
    char decoded[AUTH_CSRF_MAX + 8];
} csrf__find;

/* Form pairs arrive decoded by form_parse_urlencoded; keep a copy, the
 * buffer is scratch. */
static int csrf__on_pair(void *ud, const char *n, size_t nl, const char *v, size_t vl)
{
    csrf__find *f = ud;
    if (nl != f->name_len || memcmp(n, f->name, nl) != 0) return 0;
    if (vl >= sizeof f->decoded) vl = sizeof f->decoded - 1;
    memcpy(f->decoded, v, vl);
    f->decoded[vl] = 0;
    f->value = f->decoded;
    f->value_len = vl;
    return 1;
}

static int csrf__on_part(void *ud, const form_part *part)
{
    csrf__find *f = ud;
    if (part->filename || part->name_len != f->name_len ||
        memcmp(part->name, f->name, part->name_len) != 0)
        return 0;
    size_t vl = part->data_len < sizeof f->decoded ? part->data_len : sizeof f->decoded - 1;
    memcpy(f->decoded, part->data, vl);
    f->decoded[vl] = 0;
    f->value = f->decoded;
    f->value_len = vl;
    return 1;
}

static bool csrf__type_is(const char *ct, const char *type)
{
    size_t n = strlen(type);
    return ct && strncasecmp(ct, type, n) == 0 && (ct[n] == 0 || ct[n] == ';' || ct[n] == ' ');
}

bool lua__csrf_ok(lua_host *h, const http_request *q, const char **why)
{
    const char *id;
    size_t idlen;
    if (!form_cookie_value(http_request_header(q, "cookie"), CSRF__COOKIE, &id, &idlen)) {
        *why = "no " CSRF__COOKIE " cookie (the form did not come from a page of this site)";
        return false;
    }
    csrf__find token = {CSRF__FIELD, sizeof CSRF__FIELD - 1, NULL, 0, ""};
    const char *th = http_request_header(q, "x-csrf-token");
    const char *ct = http_request_header(q, "content-type");
    const char *body = q->body ? q->body : "";
    if (th) {
        token.value = th;
        token.value_len = strlen(th);
    } else if (csrf__type_is(ct, "application/x-www-form-urlencoded")) {
        const char *ignored;
        form_parse_urlencoded(body, q->body_len, (size_t)h->conf->max_form_fields, csrf__on_pair,
                              &token, &ignored);
    } else if (csrf__type_is(ct, "multipart/form-data")) {
        const char *b, *ignored;
        size_t bl, max = (size_t)h->conf->max_body_bytes;
        form_multipart_limits lim = {(size_t)h->conf->max_form_fields, 16384, max, max};
        if (form_multipart_boundary(ct, strlen(ct), &b, &bl, &ignored) == 0)
            form_multipart_parse(body, q->body_len, b, bl, &lim, csrf__on_part, &token, &ignored);
    }
    if (!token.value) {
        *why = "no CSRF token (form field " CSRF__FIELD " or header X-CSRF-Token)";
        return false;
    }
    const char *session;
    size_t slen;
    if (!form_cookie_value(http_request_header(q, "cookie"), CSRF__SESSION, &session, &slen))
        session = NULL;
    if (!auth_csrf_ok(h->csrf_secret, id, idlen, session, slen, token.value, token.value_len)) {
        *why = "the CSRF token does not match this browser's";
        return false;
    }
    return true;
}
