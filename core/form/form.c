/* form: percent-decoding, urlencoded pairs, cookies, Set-Cookie, multipart.
 *
 * Every parser that takes a callback runs twice over its input: once to
 * validate it (limits included) without calling back, once to call back. The
 * input is in memory and bounded by the HTTP layer, so the second pass is
 * cheap, and it buys the guarantee that a caller never sees half a form
 * (CONVENTIONS.md 3: a function that returns an error never calls its
 * callback). */
#include "form/form.h"

#include <assert.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

static const char form__stopped[] = "stopped by the callback";

static int form__fail(const char **why, int err, const char *msg)
{
    if (why) *why = msg;
    return err;
}

static int form__hex(unsigned char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

static unsigned char form__lower(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') ? (unsigned char)(c + 32) : c;
}

/* Case-insensitive (ASCII) comparison of n bytes of s with the literal lit. */
static bool form__ieq(const char *s, size_t n, const char *lit)
{
    size_t ln = strlen(lit);
    if (n != ln) return false;
    for (size_t i = 0; i < n; i++)
        if (form__lower((unsigned char)s[i]) != form__lower((unsigned char)lit[i])) return false;
    return true;
}

static bool form__iprefix(const char *s, size_t n, const char *lit)
{
    size_t ln = strlen(lit);
    return n >= ln && form__ieq(s, ln, lit);
}

/* RFC 7230 tchar (the same set as RFC 2616's token, which RFC 6265 uses). */
static bool form__is_tchar(unsigned char c)
{
    if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) return true;
    return c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static bool form__is_ows(char c)
{
    return c == ' ' || c == '\t';
}

/* ------------------------------------------------------------------ */
/* Percent-decoding                                                     */
/* ------------------------------------------------------------------ */

/* Whether decoding s would produce a NUL byte. Follows form__decode() step by
 * step so that "%%00" and "%0%00" are judged the way they decode. */
static bool form__decodes_nul(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\0') return true;
        if (s[i] == '%' && n - i >= 3) {
            int hi = form__hex((unsigned char)s[i + 1]), lo = form__hex((unsigned char)s[i + 2]);
            if (hi >= 0 && lo >= 0) {
                if (hi == 0 && lo == 0) return true;
                i += 2;
            }
        }
    }
    return false;
}

/* Writes at most n bytes; dst may be s (the write index never passes the
 * read index). */
static size_t form__decode(char *dst, const char *s, size_t n, unsigned flags)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        if (ch == '%' && n - i >= 3) {
            int hi = form__hex((unsigned char)s[i + 1]), lo = form__hex((unsigned char)s[i + 2]);
            if (hi >= 0 && lo >= 0) {
                dst[o++] = (char)(hi << 4 | lo);
                i += 2;
                continue;
            }
        } else if (ch == '+' && (flags & FORM_URL_PLUS)) {
            ch = ' ';
        }
        dst[o++] = ch;
    }
    return o;
}

int form_urldecode_to(char *dst, const char *s, size_t n, unsigned flags, size_t *dlen)
{
    if ((!s || !dst) && n) return PH_EINVAL;
    if ((flags & FORM_URL_NO_NUL) && form__decodes_nul(s, n)) return PH_EINVAL;
    size_t o = n ? form__decode(dst, s, n, flags) : 0;
    if (dlen) *dlen = o;
    return 0;
}

int form_urldecode(ph_buf *out, const char *s, size_t n, unsigned flags)
{
    if (!out || (!s && n)) return PH_EINVAL;
    if ((flags & FORM_URL_NO_NUL) && form__decodes_nul(s, n)) return PH_EINVAL;
    if (n == 0) return 0;
    if (ph_buf_reserve(out, n)) return PH_ENOMEM;
    out->len += form__decode(out->data + out->len, s, n, flags);
    return 0;
}

/* ------------------------------------------------------------------ */
/* urlencoded                                                           */
/* ------------------------------------------------------------------ */

/* Calls fn for each non-empty '&'-separated piece of s; stops at fn's first
 * non-zero return and returns it. */
typedef int (*form__piece_fn)(void *ctx, const char *p, size_t n);

static int form__each_piece(const char *s, size_t n, char sep, form__piece_fn fn, void *ctx)
{
    size_t i = 0;
    while (i < n) {
        const char *hit = memchr(s + i, sep, n - i);
        size_t j = hit ? (size_t)(hit - s) : n;
        if (j > i) {
            int rc = fn(ctx, s + i, j - i);
            if (rc) return rc;
        }
        i = j + 1;
    }
    return 0;
}

typedef struct {
    size_t max_pairs;
    size_t count;
    size_t longest;
    const char **why;
    char *scratch; /* second pass: room for the longest piece plus two NULs */
    form_pair_cb cb;
    void *ud;
} form__urlenc;

static size_t form__name_len(const char *p, size_t n)
{
    const char *eq = memchr(p, '=', n);
    return eq ? (size_t)(eq - p) : n;
}

static int form__urlenc_check(void *ctx, const char *p, size_t n)
{
    form__urlenc *u = ctx;
    if (++u->count > u->max_pairs)
        return form__fail(u->why, PH_ELIMIT, "urlencoded: more pairs than allowed");
    if (form__decodes_nul(p, form__name_len(p, n)))
        return form__fail(u->why, PH_EINVAL, "urlencoded: NUL byte in a name");
    if (n > u->longest) u->longest = n;
    return 0;
}

static int form__urlenc_emit(void *ctx, const char *p, size_t n)
{
    form__urlenc *u = ctx;
    size_t nl = form__name_len(p, n);
    char *name = u->scratch;
    size_t dn = form__decode(name, p, nl, FORM_URL_PLUS);
    name[dn] = '\0';
    char *value = name + dn + 1;
    size_t dv = 0;
    if (nl < n) dv = form__decode(value, p + nl + 1, n - nl - 1, FORM_URL_PLUS);
    value[dv] = '\0';
    int rc = u->cb(u->ud, name, dn, value, dv);
    if (rc && u->why) *u->why = form__stopped;
    return rc;
}

int form_parse_urlencoded(const char *s, size_t n, size_t max_pairs, form_pair_cb cb, void *ud,
                          const char **why)
{
    if (!cb || (!s && n)) return form__fail(why, PH_EINVAL, "urlencoded: bad arguments");
    if (n == 0) return 0;
    form__urlenc u = {.max_pairs = max_pairs, .why = why, .cb = cb, .ud = ud};
    int rc = form__each_piece(s, n, '&', form__urlenc_check, &u);
    if (rc) return rc;
    if (u.count == 0) return 0;
    ph_buf scratch = {0};
    if (ph_buf_reserve(&scratch, u.longest + 2))
        return form__fail(why, PH_ENOMEM, "urlencoded: out of memory");
    u.scratch = scratch.data;
    rc = form__each_piece(s, n, '&', form__urlenc_emit, &u);
    ph_buf_free(&scratch);
    return rc;
}

/* ------------------------------------------------------------------ */
/* Cookie                                                               */
/* ------------------------------------------------------------------ */

typedef struct {
    form_pair_cb cb;
    void *ud;
} form__cookies;

static void form__trim(const char **p, size_t *n)
{
    while (*n && form__is_ows(**p)) {
        (*p)++;
        (*n)--;
    }
    while (*n && form__is_ows((*p)[*n - 1]))
        (*n)--;
}

static int form__cookie_piece(void *ctx, const char *p, size_t n)
{
    form__cookies *k = ctx;
    const char *eq = memchr(p, '=', n);
    if (!eq) return 0;
    const char *name = p, *value = eq + 1;
    size_t nl = (size_t)(eq - p), vl = n - nl - 1;
    form__trim(&name, &nl);
    form__trim(&value, &vl);
    if (nl == 0 || memchr(name, '\0', nl)) return 0;
    if (vl >= 2 && value[0] == '"' && value[vl - 1] == '"') {
        value++;
        vl -= 2;
    }
    return k->cb(k->ud, name, nl, value, vl);
}

int form_parse_cookies(const char *header, size_t n, form_pair_cb cb, void *ud)
{
    if (!cb || (!header && n)) return PH_EINVAL;
    if (n == 0) return 0;
    form__cookies k = {cb, ud};
    return form__each_piece(header, n, ';', form__cookie_piece, &k);
}

/* ------------------------------------------------------------------ */
/* Set-Cookie                                                           */
/* ------------------------------------------------------------------ */

/* RFC 6265 cookie-octet: %x21 / %x23-2B / %x2D-3A / %x3C-5B / %x5D-7E. */
static bool form__is_cookie_octet(unsigned char c)
{
    return c >= 0x21 && c <= 0x7e && c != '"' && c != ',' && c != ';' && c != '\\';
}

/* Path and Domain attribute values: CHAR except CTLs and ';'. */
static bool form__attr_ok(const char *s, size_t n)
{
    if (n == 0) return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c >= 0x7f || c == ';') return false;
    }
    return true;
}

/* "Sun, 06 Nov 1994 08:49:37 GMT" into out (at least 30 bytes). */
static int form__imf_fixdate(time_t t, char *out, size_t outlen)
{
    static const char days[7][4] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char months[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                       "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    struct tm tm;
    if (!gmtime_r(&t, &tm)) return PH_EINVAL;
    if (tm.tm_year < 1601 - 1900 || tm.tm_year > 9999 - 1900) return PH_EINVAL;
    int w =
        snprintf(out, outlen, "%s, %02d %s %04d %02d:%02d:%02d GMT", days[tm.tm_wday], tm.tm_mday,
                 months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
    assert(w == 29);
    return w == 29 ? 0 : PH_EINVAL;
}

static int form__cookie_check(const form_cookie *c, const char **why)
{
    if (!c->name || c->name_len == 0)
        return form__fail(why, PH_EINVAL, "set-cookie: the name is empty");
    for (size_t i = 0; i < c->name_len; i++)
        if (!form__is_tchar((unsigned char)c->name[i]))
            return form__fail(why, PH_EINVAL, "set-cookie: the name is not a token");
    if (!c->value && c->value_len)
        return form__fail(why, PH_EINVAL, "set-cookie: the value is NULL");
    for (size_t i = 0; i < c->value_len; i++)
        if (!form__is_cookie_octet((unsigned char)c->value[i]))
            return form__fail(why, PH_EINVAL,
                              "set-cookie: the value holds a byte that is not a cookie-octet");
    if (c->path && !form__attr_ok(c->path, c->path_len))
        return form__fail(why, PH_EINVAL, "set-cookie: the path is empty or holds ';' or a CTL");
    if (c->domain && !form__attr_ok(c->domain, c->domain_len))
        return form__fail(why, PH_EINVAL, "set-cookie: the domain is empty or holds ';' or a CTL");
    if (c->max_age < -1) return form__fail(why, PH_EINVAL, "set-cookie: max_age is below -1");
    switch (c->same_site) {
    case FORM_SAMESITE_UNSET:
    case FORM_SAMESITE_LAX:
    case FORM_SAMESITE_STRICT: break;
    case FORM_SAMESITE_NONE:
        if (!c->secure)
            return form__fail(why, PH_EINVAL, "set-cookie: SameSite=None requires Secure");
        break;
    default: return form__fail(why, PH_EINVAL, "set-cookie: unknown same_site");
    }
    if (form__iprefix(c->name, c->name_len, "__Secure-") && !c->secure)
        return form__fail(why, PH_EINVAL, "set-cookie: a __Secure- cookie requires Secure");
    if (form__iprefix(c->name, c->name_len, "__Host-") &&
        (!c->secure || c->domain || !c->path || c->path_len != 1 || c->path[0] != '/'))
        return form__fail(why, PH_EINVAL,
                          "set-cookie: a __Host- cookie requires Secure, Path=/ and no Domain");
    return 0;
}

int form_set_cookie(ph_buf *out, const form_cookie *c, const char **why)
{
    if (!out || !c) return form__fail(why, PH_EINVAL, "set-cookie: bad arguments");
    int rc = form__cookie_check(c, why);
    if (rc) return rc;
    char date[32];
    if (c->expires && form__imf_fixdate(c->expires, date, sizeof date))
        return form__fail(why, PH_EINVAL, "set-cookie: expires is outside years 1601..9999");

    size_t start = out->len;
#define FORM__PUT(p, n)                                                                            \
    do {                                                                                           \
        if (ph_buf_append(out, (p), (n))) goto nomem;                                              \
    } while (0)
#define FORM__PUTS(lit) FORM__PUT(lit, sizeof(lit) - 1)
    FORM__PUT(c->name, c->name_len);
    FORM__PUTS("=");
    FORM__PUT(c->value, c->value_len);
    if (c->path) {
        FORM__PUTS("; Path=");
        FORM__PUT(c->path, c->path_len);
    }
    if (c->domain) {
        FORM__PUTS("; Domain=");
        FORM__PUT(c->domain, c->domain_len);
    }
    if (c->max_age >= 0) {
        char num[24];
        FORM__PUTS("; Max-Age=");
        FORM__PUT(num, ph_utoa((uint64_t)c->max_age, num));
    }
    if (c->expires) {
        FORM__PUTS("; Expires=");
        FORM__PUT(date, strlen(date));
    }
    if (c->secure) FORM__PUTS("; Secure");
    if (c->http_only) FORM__PUTS("; HttpOnly");
    switch (c->same_site) {
    case FORM_SAMESITE_NONE: FORM__PUTS("; SameSite=None"); break;
    case FORM_SAMESITE_LAX: FORM__PUTS("; SameSite=Lax"); break;
    case FORM_SAMESITE_STRICT: FORM__PUTS("; SameSite=Strict"); break;
    default: break;
    }
#undef FORM__PUTS
#undef FORM__PUT
    return 0;
nomem:
    out->len = start;
    return form__fail(why, PH_ENOMEM, "set-cookie: out of memory");
}

/* ------------------------------------------------------------------ */
/* Header parameters (Content-Type, Content-Disposition)                */
/* ------------------------------------------------------------------ */

typedef struct {
    const char *name;
    size_t name_len;
    const char *value; /* raw: inside the quotes, escapes unresolved, when quoted */
    size_t value_len;
    bool quoted;
} form__param;

/* Reads the next "; name=value" of s from *i. Returns 1 with *p filled, 0 at
 * the end, PH_EINVAL on a malformed parameter. Empty parameters (";;") and a
 * trailing ';' are tolerated, as browsers and servers do. */
static int form__param_next(const char *s, size_t n, size_t *i, form__param *p)
{
    size_t k = *i;
    for (;;) {
        while (k < n && form__is_ows(s[k]))
            k++;
        if (k == n) {
            *i = k;
            return 0;
        }
        if (s[k] != ';') return PH_EINVAL;
        k++;
        while (k < n && form__is_ows(s[k]))
            k++;
        if (k < n && s[k] != ';') break;
    }
    if (k == n) {
        *i = k;
        return 0;
    }
    size_t ns = k;
    while (k < n && form__is_tchar((unsigned char)s[k]))
        k++;
    if (k == ns || k == n || s[k] != '=') return PH_EINVAL;
    p->name = s + ns;
    p->name_len = k - ns;
    k++;
    if (k < n && s[k] == '"') {
        size_t vs = ++k;
        while (k < n && s[k] != '"') {
            if (s[k] == '\\') k++;
            k++;
        }
        if (k >= n) return PH_EINVAL;
        p->value = s + vs;
        p->value_len = k - vs;
        p->quoted = true;
        k++;
    } else {
        size_t vs = k;
        while (k < n && s[k] != ';' && !form__is_ows(s[k]) && s[k] != '"')
            k++;
        if (k < n && s[k] == '"') return PH_EINVAL;
        p->value = s + vs;
        p->value_len = k - vs;
        p->quoted = false;
    }
    *i = k;
    return 1;
}

/* RFC 2045 tspecials: the characters a backslash may escape in a quoted
 * parameter value. Any other backslash is kept: browsers do not escape
 * backslashes in file names (model: Go mime.consumeValue). */
static bool form__is_tspecial(char c)
{
    return c != 0 && strchr("()<>@,;:\\\"/[]?=", c) != NULL;
}

/* Appends the unescaped value of p to out, then a NUL. */
static int form__param_value(ph_buf *out, const form__param *p)
{
    if (ph_buf_reserve(out, p->value_len + 1)) return PH_ENOMEM;
    for (size_t k = 0; k < p->value_len; k++) {
        const char *c = p->value + k;
        if (p->quoted && *c == '\\' && k + 1 < p->value_len && form__is_tspecial(c[1])) {
            c++;
            k++;
        }
        out->data[out->len++] = *c;
    }
    out->data[out->len++] = '\0';
    return 0;
}

/* ------------------------------------------------------------------ */
/* multipart/form-data                                                  */
/* ------------------------------------------------------------------ */

/* RFC 2046 bchars. */
static bool form__is_bchar(unsigned char c)
{
    if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) return true;
    return c != 0 && strchr("'()+_,-./:=? ", c) != NULL;
}

static bool form__boundary_ok(const char *b, size_t n)
{
    if (!b || n < 1 || n > 70 || b[n - 1] == ' ') return false;
    for (size_t i = 0; i < n; i++)
        if (!form__is_bchar((unsigned char)b[i])) return false;
    return true;
}

int form_multipart_boundary(const char *content_type, size_t n, const char **b, size_t *blen,
                            const char **why)
{
    static const char media[] = "multipart/form-data";
    if (!b || !blen || (!content_type && n))
        return form__fail(why, PH_EINVAL, "multipart: bad arguments");
    const char *s = content_type;
    size_t i = 0;
    while (i < n && form__is_ows(s[i]))
        i++;
    if (n - i < sizeof media - 1 || !form__ieq(s + i, sizeof media - 1, media))
        return form__fail(why, PH_EINVAL, "multipart: the media type is not multipart/form-data");
    i += sizeof media - 1;
    if (i < n && s[i] != ';' && !form__is_ows(s[i]))
        return form__fail(why, PH_EINVAL, "multipart: the media type is not multipart/form-data");

    const char *found = NULL;
    size_t found_len = 0;
    form__param p;
    int rc;
    while ((rc = form__param_next(s, n, &i, &p)) == 1) {
        if (!form__ieq(p.name, p.name_len, "boundary")) continue;
        if (found) return form__fail(why, PH_EINVAL, "multipart: boundary given twice");
        found = p.value;
        found_len = p.value_len;
    }
    if (rc < 0) return form__fail(why, PH_EINVAL, "multipart: malformed Content-Type parameter");
    if (!found) return form__fail(why, PH_EINVAL, "multipart: no boundary parameter");
    if (!form__boundary_ok(found, found_len))
        return form__fail(why, PH_EINVAL,
                          "multipart: the boundary is not 1..70 RFC 2046 characters");
    *b = found;
    *blen = found_len;
    return 0;
}

typedef struct {
    const char *body;
    size_t len;
    char delim[2 + 2 + 70]; /* CRLF "--" boundary */
    size_t dlen;
    const form_multipart_limits *lim;
    const char **why;
    ph_buf scratch; /* name NUL filename NUL of the current part */
} form__mp;

static bool form__has_nul(const char *p, size_t n)
{
    return n && memchr(p, '\0', n) != NULL;
}

static bool form__at(const form__mp *m, size_t pos, const char *s, size_t n)
{
    return m->len - pos >= n && memcmp(m->body + pos, s, n) == 0;
}

/* The part being read: offsets into scratch (each string followed by a NUL
 * there), pointers into body. */
typedef struct {
    bool has_cd, has_ct, has_name, has_filename, has_filename_ext;
    size_t name_off, name_len;
    size_t fn_off, fn_len; /* filename="..." */
    size_t fx_off, fx_len; /* filename*=UTF-8''... decoded */
    const char *ct;
    size_t ct_len;
} form__mp_part;

static int form__mp_disposition(form__mp *m, form__mp_part *pt, const char *v, size_t n)
{
    static const char fd[] = "form-data";
    if (n < sizeof fd - 1 || !form__ieq(v, sizeof fd - 1, fd) ||
        (n > sizeof fd - 1 && v[sizeof fd - 1] != ';' && !form__is_ows(v[sizeof fd - 1])))
        return form__fail(m->why, PH_EINVAL, "multipart: Content-Disposition is not form-data");
    size_t i = sizeof fd - 1;
    form__param p;
    int rc;
    while ((rc = form__param_next(v, n, &i, &p)) == 1) {
        ph_buf *sc = &m->scratch;
        if (form__ieq(p.name, p.name_len, "name")) {
            if (pt->has_name) return form__fail(m->why, PH_EINVAL, "multipart: name given twice");
            pt->has_name = true;
            pt->name_off = sc->len;
            if (form__param_value(sc, &p)) goto nomem;
            pt->name_len = sc->len - pt->name_off - 1;
        } else if (form__ieq(p.name, p.name_len, "filename")) {
            if (pt->has_filename)
                return form__fail(m->why, PH_EINVAL, "multipart: filename given twice");
            pt->has_filename = true;
            pt->fn_off = sc->len;
            if (form__param_value(sc, &p)) goto nomem;
            pt->fn_len = sc->len - pt->fn_off - 1;
        } else if (form__ieq(p.name, p.name_len, "filename*")) {
            /* RFC 8187 ext-value: charset "'" [ language ] "'" value-chars */
            if (pt->has_filename_ext)
                return form__fail(m->why, PH_EINVAL, "multipart: filename* given twice");
            pt->has_filename_ext = true;
            const char *q1 = memchr(p.value, '\'', p.value_len);
            const char *q2 =
                q1 ? memchr(q1 + 1, '\'', p.value_len - (size_t)(q1 + 1 - p.value)) : NULL;
            if (!q2) return form__fail(m->why, PH_EINVAL, "multipart: malformed filename*");
            if (!form__ieq(p.value, (size_t)(q1 - p.value), "UTF-8"))
                return form__fail(m->why, PH_EINVAL, "multipart: filename* is not in UTF-8");
            const char *enc = q2 + 1;
            size_t enc_len = p.value_len - (size_t)(enc - p.value);
            pt->fx_off = sc->len;
            rc = form_urldecode(sc, enc, enc_len, FORM_URL_NO_NUL);
            if (rc == PH_EINVAL)
                return form__fail(m->why, PH_EINVAL, "multipart: NUL byte in a filename");
            if (rc || ph_buf_append(sc, "", 1)) goto nomem;
            pt->fx_len = sc->len - pt->fx_off - 1;
        }
    }
    if (rc < 0)
        return form__fail(m->why, PH_EINVAL, "multipart: malformed Content-Disposition parameter");
    if (!pt->has_name)
        return form__fail(m->why, PH_EINVAL, "multipart: Content-Disposition without name");
    if (form__has_nul(m->scratch.data + pt->name_off, pt->name_len))
        return form__fail(m->why, PH_EINVAL, "multipart: NUL byte in a name");
    if (pt->has_filename && form__has_nul(m->scratch.data + pt->fn_off, pt->fn_len))
        return form__fail(m->why, PH_EINVAL, "multipart: NUL byte in a filename");
    return 0;
nomem:
    return form__fail(m->why, PH_ENOMEM, "multipart: out of memory");
}

/* Parses the header block h[0..n), each line ended by CRLF. Every line is
 * checked before Content-Disposition is interpreted, so a broken block is
 * reported as such. */
static int form__mp_headers(form__mp *m, form__mp_part *pt, const char *h, size_t n)
{
    const char *cd = NULL;
    size_t cd_len = 0;
    size_t i = 0;
    while (i < n) {
        const char *crlf = memmem(h + i, n - i, "\r\n", 2);
        assert(crlf); /* the block ends with CRLF */
        size_t e = (size_t)(crlf - h);
        const char *line = h + i;
        size_t ll = e - i;
        i = e + 2;
        if (ll == 0) return form__fail(m->why, PH_EINVAL, "multipart: malformed header line");
        if (form__is_ows(line[0]))
            return form__fail(m->why, PH_EINVAL, "multipart: folded header line");
        const char *colon = memchr(line, ':', ll);
        if (!colon || colon == line)
            return form__fail(m->why, PH_EINVAL, "multipart: malformed header line");
        size_t nl = (size_t)(colon - line);
        for (size_t k = 0; k < nl; k++)
            if (!form__is_tchar((unsigned char)line[k]))
                return form__fail(m->why, PH_EINVAL, "multipart: malformed header line");
        const char *v = colon + 1;
        size_t vl = ll - nl - 1;
        for (size_t k = 0; k < vl; k++)
            if (v[k] == '\0' || v[k] == '\r' || v[k] == '\n')
                return form__fail(m->why, PH_EINVAL, "multipart: malformed header line");
        form__trim(&v, &vl);
        if (form__ieq(line, nl, "Content-Disposition")) {
            if (pt->has_cd)
                return form__fail(m->why, PH_EINVAL, "multipart: Content-Disposition given twice");
            pt->has_cd = true;
            cd = v;
            cd_len = vl;
        } else if (form__ieq(line, nl, "Content-Type")) {
            if (pt->has_ct)
                return form__fail(m->why, PH_EINVAL, "multipart: Content-Type given twice");
            pt->has_ct = true;
            pt->ct = v;
            pt->ct_len = vl;
        }
    }
    if (!pt->has_cd)
        return form__fail(m->why, PH_EINVAL, "multipart: part has no Content-Disposition");
    return form__mp_disposition(m, pt, cd, cd_len);
}

/* One pass over the body; cb NULL validates only. */
static int form__mp_run(form__mp *m, form_part_cb cb, void *ud)
{
    const form_multipart_limits *lim = m->lim;
    const char *dash_b = m->delim + 2; /* "--" boundary */
    size_t dash_blen = m->dlen - 2;
    size_t pos;

    /* The first delimiter may start the body or follow a preamble's CRLF. */
    if (form__at(m, 0, dash_b, dash_blen)) {
        pos = dash_blen;
    } else {
        const char *f = m->len ? memmem(m->body, m->len, m->delim, m->dlen) : NULL;
        if (!f) return form__fail(m->why, PH_EINVAL, "multipart: no first boundary");
        pos = (size_t)(f - m->body) + m->dlen;
    }

    for (size_t index = 0;; index++) {
        /* Just after "--boundary": "--" closes, else LWSP* CRLF opens a part. */
        if (form__at(m, pos, "--", 2)) return 0; /* the epilogue is ignored */
        while (pos < m->len && form__is_ows(m->body[pos]))
            pos++;
        if (!form__at(m, pos, "\r\n", 2))
            return form__fail(m->why, PH_EINVAL,
                              pos == m->len ? "multipart: body truncated after a boundary"
                                            : "multipart: boundary line not ended by CRLF");
        pos += 2;
        if (index >= lim->max_parts)
            return form__fail(m->why, PH_ELIMIT, "multipart: more parts than max_parts");

        /* The header block: lines ended by CRLF, then an empty line. A
         * CRLF CRLF that ends within max_header_bytes + 2 bytes is the only one
         * that can be in bounds, so the search never runs further. */
        size_t hlen, data;
        if (form__at(m, pos, "\r\n", 2)) {
            hlen = 0;
            data = pos + 2;
        } else {
            size_t rest = m->len - pos;
            size_t window = rest;
            if (rest > 2 && lim->max_header_bytes < rest - 2) window = lim->max_header_bytes + 2;
            const char *e = window >= 4 ? memmem(m->body + pos, window, "\r\n\r\n", 4) : NULL;
            if (!e) {
                if (window < rest)
                    return form__fail(m->why, PH_ELIMIT,
                                      "multipart: part headers larger than max_header_bytes");
                return form__fail(m->why, PH_EINVAL, "multipart: body truncated in part headers");
            }
            hlen = (size_t)(e - (m->body + pos)) + 2;
            data = pos + hlen + 2;
        }
        if (hlen > lim->max_header_bytes)
            return form__fail(m->why, PH_ELIMIT,
                              "multipart: part headers larger than max_header_bytes");

        form__mp_part pt = {0};
        m->scratch.len = 0;
        int rc = form__mp_headers(m, &pt, m->body + pos, hlen);
        if (rc) return rc;

        /* The data runs to the next CRLF "--" boundary. Like Go's reader, an
         * empty part may also end with "--boundary" right after its blank
         * line, the CRLF before it having served as that line. */
        size_t end;
        if (form__at(m, data, dash_b, dash_blen)) {
            end = data;
            pos = data + dash_blen;
        } else {
            const char *f = memmem(m->body + data, m->len - data, m->delim, m->dlen);
            if (!f) return form__fail(m->why, PH_EINVAL, "multipart: no closing boundary");
            end = (size_t)(f - m->body);
            pos = end + m->dlen;
        }
        bool is_file = pt.has_filename || pt.has_filename_ext;
        size_t dlen = end - data;
        if (is_file && dlen > lim->max_file_bytes)
            return form__fail(m->why, PH_ELIMIT, "multipart: file larger than max_file_bytes");
        if (!is_file && dlen > lim->max_field_bytes)
            return form__fail(m->why, PH_ELIMIT, "multipart: field larger than max_field_bytes");
        if (!cb) continue;

        /* scratch holds at least the name's NUL, and stops moving now. */
        const char *sc = m->scratch.data;
        form_part part = {
            .index = index,
            .name = sc + pt.name_off,
            .name_len = pt.name_len,
            .data = m->body + data,
            .data_len = dlen,
        };
        if (pt.has_filename_ext) {
            part.filename = sc + pt.fx_off; /* filename* wins */
            part.filename_len = pt.fx_len;
        } else if (pt.has_filename) {
            part.filename = sc + pt.fn_off;
            part.filename_len = pt.fn_len;
        }
        if (pt.has_ct && pt.ct_len) {
            part.content_type = pt.ct;
            part.content_type_len = pt.ct_len;
        } else if (is_file) {
            part.content_type = "application/octet-stream";
            part.content_type_len = sizeof "application/octet-stream" - 1;
        } else {
            part.content_type = "text/plain";
            part.content_type_len = sizeof "text/plain" - 1;
        }
        rc = cb(ud, &part);
        if (rc) {
            if (m->why) *m->why = form__stopped;
            return rc;
        }
    }
}

int form_multipart_parse(const char *body, size_t len, const char *boundary, size_t blen,
                         const form_multipart_limits *lim, form_part_cb cb, void *ud,
                         const char **why)
{
    if (!cb || !lim || (!body && len))
        return form__fail(why, PH_EINVAL, "multipart: bad arguments");
    if (!form__boundary_ok(boundary, blen))
        return form__fail(why, PH_EINVAL,
                          "multipart: the boundary is not 1..70 RFC 2046 characters");
    form__mp m = {.body = body, .len = len, .lim = lim, .why = why};
    memcpy(m.delim, "\r\n--", 4);
    memcpy(m.delim + 4, boundary, blen);
    m.dlen = 4 + blen;
    /* The first pass grows scratch to the most any part needs; the second
     * reuses it without reallocating, so once it has called back it cannot
     * fail. */
    int rc = form__mp_run(&m, NULL, NULL);
    if (rc == 0) rc = form__mp_run(&m, cb, ud);
    ph_buf_free(&m.scratch);
    return rc;
}

typedef struct {
    const char *name, *v;
    size_t name_len, vl;
} form__one_cookie;

static int form__on_cookie(void *ud, const char *n, size_t nl, const char *v, size_t vl)
{
    form__one_cookie *c = ud;
    if (nl != c->name_len || memcmp(n, c->name, nl) != 0) return 0;
    c->v = v;
    c->vl = vl;
    return 1; /* the first one wins */
}

bool form_cookie_value(const char *header, const char *name, const char **v, size_t *vl)
{
    form__one_cookie c = {name, NULL, strlen(name), 0};
    if (header) form_parse_cookies(header, strlen(header), form__on_cookie, &c);
    *v = c.v;
    *vl = c.vl;
    return c.v != NULL;
}
