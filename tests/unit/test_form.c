/* Unit tests of core/form: exact decoded bytes, exact error codes and
 * reasons, limits at and one past, hostile input. Inputs are copied into
 * buffers of exactly their length so ASan sees any read past the end. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "form/form.h"
#include "unit.h"

/* ------------------------------------------------------------------ */
/* Helpers                                                              */
/* ------------------------------------------------------------------ */

/* A copy of n bytes in a heap block of exactly n bytes (NULL when n is 0). */
static char *dup_exact(const void *p, size_t n)
{
    if (n == 0) return NULL;
    char *d = malloc(n);
    CHECK(d != NULL);
    memcpy(d, p, n);
    return d;
}

static void buf_set(ph_buf *b, const char *s)
{
    b->len = 0;
    CHECK_INT(ph_buf_append(b, s, strlen(s)), ==, 0);
}

/* Records pairs as "[name]=[value]", bytes as given. */
typedef struct {
    ph_buf log;
    int calls;
    int stop_at; /* 1-based call that returns stop_rc; 0: never */
    int stop_rc;
} pairs;

static int pairs_cb(void *ud, const char *name, size_t nl, const char *value, size_t vl)
{
    pairs *r = ud;
    r->calls++;
    CHECK_INT(ph_buf_append(&r->log, "[", 1), ==, 0);
    CHECK_INT(ph_buf_append(&r->log, name, nl), ==, 0);
    CHECK_INT(ph_buf_append(&r->log, "]=[", 3), ==, 0);
    CHECK_INT(ph_buf_append(&r->log, value, vl), ==, 0);
    CHECK_INT(ph_buf_append(&r->log, "]", 1), ==, 0);
    return r->calls == r->stop_at ? r->stop_rc : 0;
}

static void pairs_reset(pairs *r)
{
    r->log.len = 0;
    r->calls = 0;
}

/* form_parse_urlencoded on an exact-size copy of the literal s. */
static int urlenc(pairs *r, const char *s, size_t n, size_t max_pairs, const char **why)
{
    pairs_reset(r);
    char *d = dup_exact(s, n);
    int rc = form_parse_urlencoded(d, n, max_pairs, pairs_cb, r, why);
    free(d);
    return rc;
}
#define URLENC(r, lit, max, why) urlenc((r), (lit), sizeof(lit) - 1, (max), (why))

static int cookies(pairs *r, const char *s, size_t n)
{
    pairs_reset(r);
    char *d = dup_exact(s, n);
    int rc = form_parse_cookies(d, n, pairs_cb, r);
    free(d);
    return rc;
}
#define COOKIES(r, lit) cookies((r), (lit), sizeof(lit) - 1)

/* ------------------------------------------------------------------ */
/* Percent-decoding                                                     */
/* ------------------------------------------------------------------ */

static int decode(ph_buf *b, const char *s, size_t n, unsigned flags)
{
    b->len = 0;
    char *d = dup_exact(s, n);
    int rc = form_urldecode(b, d, n, flags);
    free(d);
    return rc;
}
#define DECODE(b, lit, flags) decode((b), (lit), sizeof(lit) - 1, (flags))

void test_form_urldecode_basic(void)
{
    ph_buf b = {0};
    CHECK_INT(DECODE(&b, "a%20b%2Fc", 0), ==, 0);
    CHECK_MEM(b.data, b.len, "a b/c");
    CHECK_INT(DECODE(&b, "%c3%A9%C3%a9", 0), ==, 0);
    CHECK_MEM(b.data, b.len, "\xc3\xa9\xc3\xa9");
    CHECK_INT(DECODE(&b, "%E6%8A%A5%E5%91%8A.pdf", 0), ==, 0);
    CHECK_MEM(b.data, b.len, "报告.pdf");
    CHECK_INT(DECODE(&b, "plain", 0), ==, 0);
    CHECK_MEM(b.data, b.len, "plain");
    CHECK_INT(DECODE(&b, "%FF%80", 0), ==, 0);
    CHECK_MEM(b.data, b.len, "\xff\x80");

    /* It appends; empty input (even NULL) appends nothing. */
    buf_set(&b, "x=");
    CHECK_INT(form_urldecode(&b, "%41", 3, 0), ==, 0);
    CHECK_MEM(b.data, b.len, "x=A");
    CHECK_INT(form_urldecode(&b, NULL, 0, FORM_URL_NO_NUL), ==, 0);
    CHECK_MEM(b.data, b.len, "x=A");
    CHECK_INT(form_urldecode(&b, NULL, 1, 0), ==, PH_EINVAL);
    CHECK_INT(form_urldecode(NULL, "a", 1, 0), ==, PH_EINVAL);
    ph_buf_free(&b);
}

void test_form_urldecode_plus(void)
{
    ph_buf b = {0};
    CHECK_INT(DECODE(&b, "a+b%2B+%2b", FORM_URL_PLUS), ==, 0);
    CHECK_MEM(b.data, b.len, "a b+ +");
    CHECK_INT(DECODE(&b, "a+b%2B+%2b", 0), ==, 0);
    CHECK_MEM(b.data, b.len, "a+b+++");
    CHECK_INT(DECODE(&b, "+++", FORM_URL_PLUS), ==, 0);
    CHECK_MEM(b.data, b.len, "   ");
    /* A '+' right after a literal '%' is still a plus sign. */
    CHECK_INT(DECODE(&b, "%+41", FORM_URL_PLUS), ==, 0);
    CHECK_MEM(b.data, b.len, "% 41");
    ph_buf_free(&b);
}

void test_form_urldecode_invalid_escapes(void)
{
    static const struct {
        const char *in, *out;
    } cases[] = {
        {"%zz", "%zz"},       {"%", "%"},         {"%4", "%4"},       {"abc%", "abc%"},
        {"abc%4", "abc%4"},   {"%%41", "%A"},     {"%4g1", "%4g1"},   {"%g41", "%g41"},
        {"%%%", "%%%"},       {"100%25", "100%"}, {"%41%", "A%"},     {"%41%4", "A%4"},
        {"%-1%+1", "%-1%+1"}, {"% 41", "% 41"},   {"%%%41", "%%A"},   {"%%2541", "%%41"},
        {"%0x41", "%0x41"},   {"%4%41", "%4A"},   {"%\xff", "%\xff"}, {"", ""},
    };
    ph_buf b = {0};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        CHECK_INT(decode(&b, cases[i].in, strlen(cases[i].in), 0), ==, 0);
        u_check_mem(__FILE__, __LINE__, cases[i].in, b.data, b.len, cases[i].out,
                    strlen(cases[i].out));
    }
    ph_buf_free(&b);
}

void test_form_urldecode_nul(void)
{
    ph_buf b = {0};
    /* Passed through by default, raw or escaped. */
    CHECK_INT(DECODE(&b, "a%00b", 0), ==, 0);
    CHECK_MEM(b.data, b.len, "a\0b");
    CHECK_INT(DECODE(&b, "a\0b", 0), ==, 0);
    CHECK_MEM(b.data, b.len, "a\0b");
    CHECK_INT(DECODE(&b, "%000", 0), ==, 0);
    CHECK_MEM(b.data, b.len,
              "\0"
              "0");

    /* Refused with FORM_URL_NO_NUL, the buffer unchanged. */
    static const struct {
        const char *s;
        size_t n;
    } nul[] = {{"a%00b", 5}, {"a\0b", 3}, {"%%00", 4}, {"%0%00", 5}, {"%00", 3}, {"x+%00", 5}};
    for (size_t i = 0; i < sizeof nul / sizeof nul[0]; i++) {
        buf_set(&b, "keep");
        char *d = dup_exact(nul[i].s, nul[i].n);
        CHECK_INT(form_urldecode(&b, d, nul[i].n, FORM_URL_NO_NUL | FORM_URL_PLUS), ==, PH_EINVAL);
        free(d);
        CHECK_MEM(b.data, b.len, "keep");
    }
    /* Near misses are fine. */
    CHECK_INT(DECODE(&b, "%0", FORM_URL_NO_NUL), ==, 0);
    CHECK_MEM(b.data, b.len, "%0");
    CHECK_INT(DECODE(&b, "%0g0%01", FORM_URL_NO_NUL), ==, 0);
    CHECK_MEM(b.data, b.len, "%0g0\x01");
    ph_buf_free(&b);
}

void test_form_urldecode_to_in_place(void)
{
    char s[] = "a+b%41%zz%";
    size_t n = 12345;
    CHECK_INT(form_urldecode_to(s, s, strlen(s), FORM_URL_PLUS, &n), ==, 0);
    CHECK_MEM(s, n, "a bA%zz%");

    char t[] = "x%00y";
    CHECK_INT(form_urldecode_to(t, t, 5, FORM_URL_NO_NUL, &n), ==, PH_EINVAL);
    CHECK_MEM(t, strlen(t), "x%00y"); /* untouched */

    char dst[8];
    memset(dst, '#', sizeof dst);
    CHECK_INT(form_urldecode_to(dst, "%E5%90%8D", 9, 0, &n), ==, 0);
    CHECK_MEM(dst, n, "名");
    CHECK_INT(dst[3], ==, '#'); /* nothing written past the result */
    CHECK_INT(form_urldecode_to(dst, NULL, 0, 0, &n), ==, 0);
    CHECK_INT(n, ==, 0);
}

/* ------------------------------------------------------------------ */
/* urlencoded                                                           */
/* ------------------------------------------------------------------ */

void test_form_urlencoded_basic(void)
{
    pairs r = {0};
    const char *why = NULL;
    CHECK_INT(URLENC(&r, "a=1&b=2&a=3", 10, &why), ==, 0);
    CHECK_MEM(r.log.data, r.log.len, "[a]=[1][b]=[2][a]=[3]");
    CHECK_INT(r.calls, ==, 3);
    CHECK(why == NULL); /* untouched on success */

    CHECK_INT(URLENC(&r, "flag", 10, NULL), ==, 0);
    CHECK_MEM(r.log.data, r.log.len, "[flag]=[]");
    CHECK_INT(URLENC(&r, "k=", 10, NULL), ==, 0);
    CHECK_MEM(r.log.data, r.log.len, "[k]=[]");
    /* ';' is not a separator. */
    CHECK_INT(URLENC(&r, "a=1;b=2", 10, NULL), ==, 0);
    CHECK_MEM(r.log.data, r.log.len, "[a]=[1;b=2]");

    CHECK_INT(form_parse_urlencoded("a", 1, 10, NULL, NULL, &why), ==, PH_EINVAL);
    CHECK_INT(form_parse_urlencoded(NULL, 1, 10, pairs_cb, &r, &why), ==, PH_EINVAL);
    ph_buf_free(&r.log);
}

void test_form_urlencoded_empty_pieces(void)
{
    pairs r = {0};
    CHECK_INT(URLENC(&r, "&&a=1&&&b&=x&&", 10, NULL), ==, 0);
    CHECK_MEM(r.log.data, r.log.len, "[a]=[1][b]=[][]=[x]");
    CHECK_INT(URLENC(&r, "", 0, NULL), ==, 0);
    CHECK_INT(r.calls, ==, 0);
    CHECK_INT(URLENC(&r, "&&&", 0, NULL), ==, 0); /* no pairs, so max 0 is fine */
    CHECK_INT(r.calls, ==, 0);
    CHECK_INT(URLENC(&r, "=", 10, NULL), ==, 0);
    CHECK_MEM(r.log.data, r.log.len, "[]=[]");
    CHECK_INT(URLENC(&r, "==&=", 10, NULL), ==, 0);
    CHECK_MEM(r.log.data, r.log.len, "[]=[=][]=[]");
    ph_buf_free(&r.log);
}

void test_form_urlencoded_decoding(void)
{
    pairs r = {0};
    CHECK_INT(URLENC(&r, "na+me=v%26al%3Due&x=a=b&%E5%90%8D=%E5%80%BC&c=%2B+&%3D=%26", 10, NULL),
              ==, 0);
    CHECK_MEM(r.log.data, r.log.len, "[na me]=[v&al=ue][x]=[a=b][名]=[值][c]=[+ ][=]=[&]");
    /* Encoded separators do not split. */
    CHECK_INT(URLENC(&r, "a=%26b%3D2", 10, NULL), ==, 0);
    CHECK_MEM(r.log.data, r.log.len, "[a]=[&b=2]");
    CHECK_INT(r.calls, ==, 1);
    ph_buf_free(&r.log);
}

void test_form_urlencoded_escape_at_end(void)
{
    pairs r = {0};
    CHECK_INT(URLENC(&r, "a=%", 10, NULL), ==, 0);
    CHECK_MEM(r.log.data, r.log.len, "[a]=[%]");
    CHECK_INT(URLENC(&r, "a=%4", 10, NULL), ==, 0);
    CHECK_MEM(r.log.data, r.log.len, "[a]=[%4]");
    CHECK_INT(URLENC(&r, "b%=1", 10, NULL), ==, 0);
    CHECK_MEM(r.log.data, r.log.len, "[b%]=[1]");
    /* An escape is not completed across '&' or '='. */
    CHECK_INT(URLENC(&r, "c=%zz&d%2&e=%4&1", 10, NULL), ==, 0);
    CHECK_MEM(r.log.data, r.log.len, "[c]=[%zz][d%2]=[][e]=[%4][1]=[]");
    CHECK_INT(URLENC(&r, "%=%", 10, NULL), ==, 0);
    CHECK_MEM(r.log.data, r.log.len, "[%]=[%]");
    CHECK_INT(URLENC(&r, "x=%2", 10, NULL), ==, 0);
    CHECK_MEM(r.log.data, r.log.len, "[x]=[%2]");
    ph_buf_free(&r.log);
}

void test_form_urlencoded_limit(void)
{
    pairs r = {0};
    const char *why = NULL;
    CHECK_INT(URLENC(&r, "a=1&b=2&c=3", 3, &why), ==, 0);
    CHECK_INT(r.calls, ==, 3);
    CHECK_INT(URLENC(&r, "a=1&b=2&c=3", 2, &why), ==, PH_ELIMIT);
    CHECK_INT(r.calls, ==, 0);
    CHECK_STR(why, "urlencoded: more pairs than allowed");
    /* Empty pieces do not count. */
    CHECK_INT(URLENC(&r, "a&&b&&c&&", 3, NULL), ==, 0);
    CHECK_INT(r.calls, ==, 3);
    CHECK_INT(URLENC(&r, "a", 0, NULL), ==, PH_ELIMIT);
    CHECK_INT(URLENC(&r, "a", 1, NULL), ==, 0);
    CHECK_INT(URLENC(&r, "a&b&c", SIZE_MAX, NULL), ==, 0);
    CHECK_INT(r.calls, ==, 3);
    ph_buf_free(&r.log);
}

void test_form_urlencoded_huge_count(void)
{
    enum { N = 100000 };
    ph_buf in = {0};
    for (int i = 0; i < N; i++)
        CHECK_INT(ph_buf_append(&in, "k=v&", 4), ==, 0);
    pairs r = {0};
    const char *why = NULL;
    CHECK_INT(urlenc(&r, in.data, in.len, 1000, &why), ==, PH_ELIMIT);
    CHECK_INT(r.calls, ==, 0);
    CHECK_INT(urlenc(&r, in.data, in.len, N - 1, &why), ==, PH_ELIMIT);
    CHECK_INT(r.calls, ==, 0);
    CHECK_INT(urlenc(&r, in.data, in.len, N, &why), ==, 0);
    CHECK_INT(r.calls, ==, N);
    CHECK_INT(r.log.len, ==, (size_t)N * 7); /* "[k]=[v]" */

    /* One huge value: 1 MiB of "%41" decodes to exactly that many 'A's. */
    in.len = 0;
    CHECK_INT(ph_buf_append(&in, "big=", 4), ==, 0);
    for (int i = 0; i < (1 << 20); i++)
        CHECK_INT(ph_buf_append(&in, "%41", 3), ==, 0);
    CHECK_INT(urlenc(&r, in.data, in.len, 1, &why), ==, 0);
    CHECK_INT(r.log.len, ==, 8 + (1 << 20)); /* "[big]=[" A... "]" */
    CHECK_MEM(r.log.data, 7, "[big]=[");
    CHECK_INT(r.log.data[r.log.len - 1], ==, ']');
    for (size_t i = 7; i < r.log.len - 1; i++)
        if (r.log.data[i] != 'A') u_fail(__FILE__, __LINE__, "byte %zu is not 'A'", i);
    ph_buf_free(&in);
    ph_buf_free(&r.log);
}

void test_form_urlencoded_nul(void)
{
    pairs r = {0};
    const char *why = NULL;
    CHECK_INT(URLENC(&r, "a%00=1", 10, &why), ==, PH_EINVAL);
    CHECK_STR(why, "urlencoded: NUL byte in a name");
    CHECK_INT(r.calls, ==, 0);
    /* All or nothing: the good pair before it is not reported either. */
    CHECK_INT(URLENC(&r, "ok=1&a%00=1", 10, &why), ==, PH_EINVAL);
    CHECK_INT(r.calls, ==, 0);
    CHECK_INT(URLENC(&r, "a\0b=1", 10, NULL), ==, PH_EINVAL);
    CHECK_INT(URLENC(&r, "a\0", 10, NULL), ==, PH_EINVAL);
    /* Values keep their NUL bytes. */
    CHECK_INT(URLENC(&r, "a=%00&b=x\0y", 10, NULL), ==, 0);
    CHECK_MEM(r.log.data, r.log.len, "[a]=[\0][b]=[x\0y]");
    /* An escaped '=' after a NUL-free name is value, not name. */
    CHECK_INT(URLENC(&r, "n=%00%3D", 10, NULL), ==, 0);
    CHECK_MEM(r.log.data, r.log.len, "[n]=[\0=]");
    ph_buf_free(&r.log);
}

void test_form_urlencoded_stop(void)
{
    pairs r = {.stop_at = 2, .stop_rc = 42};
    const char *why = NULL;
    CHECK_INT(URLENC(&r, "a=1&b=2&c=3", 10, &why), ==, 42);
    CHECK_INT(r.calls, ==, 2);
    CHECK_MEM(r.log.data, r.log.len, "[a]=[1][b]=[2]");
    CHECK_STR(why, "stopped by the callback");
    r.stop_at = 1;
    r.stop_rc = -100;
    CHECK_INT(URLENC(&r, "a=1&b=2", 10, NULL), ==, -100);
    CHECK_INT(r.calls, ==, 1);
    ph_buf_free(&r.log);
}

/* ------------------------------------------------------------------ */
/* Cookie                                                               */
/* ------------------------------------------------------------------ */

void test_form_cookies_basic(void)
{
    pairs r = {0};
    CHECK_INT(COOKIES(&r, "a=1; b=2"), ==, 0);
    CHECK_MEM(r.log.data, r.log.len, "[a]=[1][b]=[2]");
    CHECK_INT(COOKIES(&r, " \ta = 1 ;b=2;  a=3 \t"), ==, 0);
    CHECK_MEM(r.log.data, r.log.len, "[a]=[1][b]=[2][a]=[3]");
    CHECK_INT(COOKIES(&r, "sid=abc=def"), ==, 0);
    CHECK_MEM(r.log.data, r.log.len, "[sid]=[abc=def]");
    /* No percent-decoding, no '+' handling. */
    CHECK_INT(COOKIES(&r, "x=%41+b"), ==, 0);
    CHECK_MEM(r.log.data, r.log.len, "[x]=[%41+b]");
    CHECK_INT(COOKIES(&r, "a=; 名=值"), ==, 0);
    CHECK_MEM(r.log.data, r.log.len, "[a]=[][名]=[值]");
    CHECK_INT(COOKIES(&r, "a b=c d"), ==, 0); /* lenient: inner spaces stay */
    CHECK_MEM(r.log.data, r.log.len, "[a b]=[c d]");
    CHECK_INT(form_parse_cookies(NULL, 0, pairs_cb, &r), ==, 0);
    CHECK_INT(form_parse_cookies(NULL, 1, pairs_cb, &r), ==, PH_EINVAL);
    CHECK_INT(form_parse_cookies("a=1", 3, NULL, NULL), ==, PH_EINVAL);
    ph_buf_free(&r.log);
}

void test_form_cookies_quoted(void)
{
    pairs r = {0};
    CHECK_INT(COOKIES(&r, "a=\"x y\"; b=\"\"; c=\"; d=\"abc; e=abc\"; f=\"q\"; g= \"v\" "), ==, 0);
    CHECK_MEM(r.log.data, r.log.len, "[a]=[x y][b]=[][c]=[\"][d]=[\"abc][e]=[abc\"][f]=[q][g]=[v]");
    /* Only one pair of quotes is stripped. */
    CHECK_INT(COOKIES(&r, "h=\"\"x\"\""), ==, 0);
    CHECK_MEM(r.log.data, r.log.len, "[h]=[\"x\"]");
    ph_buf_free(&r.log);
}

void test_form_cookies_malformed(void)
{
    pairs r = {0};
    CHECK_INT(COOKIES(&r, "noequals; =v; ;; a=1; b ; = ; \t"), ==, 0);
    CHECK_MEM(r.log.data, r.log.len, "[a]=[1]");
    CHECK_INT(COOKIES(&r, "a\0b=1; c=2"), ==, 0); /* NUL in a name: skipped */
    CHECK_MEM(r.log.data, r.log.len, "[c]=[2]");
    CHECK_INT(COOKIES(&r, "v=x\0y"), ==, 0); /* NUL in a value: passed */
    CHECK_MEM(r.log.data, r.log.len, "[v]=[x\0y]");
    /* CTLs and other junk in values are passed as they are: opaque bytes. */
    CHECK_INT(COOKIES(&r, "t=\x01\x7f,\\"), ==, 0);
    CHECK_MEM(r.log.data, r.log.len, "[t]=[\x01\x7f,\\]");
    CHECK_INT(COOKIES(&r, ";;;"), ==, 0);
    CHECK_INT(r.calls, ==, 0);
    CHECK_INT(COOKIES(&r, "   "), ==, 0);
    CHECK_INT(r.calls, ==, 0);
    CHECK_INT(COOKIES(&r, "a=1;"), ==, 0);
    CHECK_MEM(r.log.data, r.log.len, "[a]=[1]");
    ph_buf_free(&r.log);
}

void test_form_cookies_stop(void)
{
    pairs r = {.stop_at = 2, .stop_rc = 9};
    CHECK_INT(COOKIES(&r, "a=1; b=2; c=3"), ==, 9);
    CHECK_INT(r.calls, ==, 2);
    CHECK_MEM(r.log.data, r.log.len, "[a]=[1][b]=[2]");
    ph_buf_free(&r.log);
}

/* ------------------------------------------------------------------ */
/* Set-Cookie                                                           */
/* ------------------------------------------------------------------ */

static form_cookie cookie(const char *name, const char *value)
{
    form_cookie c = FORM_COOKIE_INIT;
    c.name = name;
    c.name_len = name ? strlen(name) : 0;
    c.value = value;
    c.value_len = value ? strlen(value) : 0;
    return c;
}

static void path_of(form_cookie *c, const char *p)
{
    c->path = p;
    c->path_len = p ? strlen(p) : 0;
}

static void domain_of(form_cookie *c, const char *d)
{
    c->domain = d;
    c->domain_len = d ? strlen(d) : 0;
}

/* Expects PH_EINVAL with out left as "keep" and *why == reason. */
static void set_cookie_refused(int line, const form_cookie *c, const char *reason)
{
    ph_buf b = {0};
    buf_set(&b, "keep");
    const char *why = NULL;
    int rc = form_set_cookie(&b, c, &why);
    if (rc != PH_EINVAL)
        u_fail(__FILE__, line, "form_set_cookie returned %d, expected PH_EINVAL (output \"%s\")",
               rc, u_escape(b.data, b.len));
    u_check_mem(__FILE__, line, "output", b.data, b.len, "keep", 4);
    if (!why || strcmp(why, reason) != 0)
        u_fail(__FILE__, line, "why is \"%s\", expected \"%s\"", why ? why : "(null)", reason);
    ph_buf_free(&b);
}
#define REFUSED(c, reason) set_cookie_refused(__LINE__, (c), (reason))

static const char *set_cookie_ok(ph_buf *b, const form_cookie *c)
{
    b->len = 0;
    const char *why = NULL;
    int rc = form_set_cookie(b, c, &why);
    if (rc) u_fail(__FILE__, __LINE__, "form_set_cookie: %d (%s)", rc, why ? why : "?");
    CHECK_INT(ph_buf_append(b, "", 1), ==, 0);
    b->len--;
    return b->data;
}

void test_form_set_cookie_minimal(void)
{
    ph_buf b = {0};
    form_cookie c = cookie("sid", "abc");
    CHECK_STR(set_cookie_ok(&b, &c), "sid=abc");
    c = cookie("sid", "");
    CHECK_STR(set_cookie_ok(&b, &c), "sid=");
    c = cookie("sid", NULL);
    CHECK_STR(set_cookie_ok(&b, &c), "sid=");
    /* It appends. */
    buf_set(&b, "Set-Cookie: ");
    c = cookie("a", "b");
    CHECK_INT(form_set_cookie(&b, &c, NULL), ==, 0);
    CHECK_MEM(b.data, b.len, "Set-Cookie: a=b");
    CHECK_INT(form_set_cookie(NULL, &c, NULL), ==, PH_EINVAL);
    CHECK_INT(form_set_cookie(&b, NULL, NULL), ==, PH_EINVAL);
    ph_buf_free(&b);
}

void test_form_set_cookie_full(void)
{
    ph_buf b = {0};
    form_cookie c = cookie("sid", "abc123");
    path_of(&c, "/");
    domain_of(&c, "example.cn");
    c.max_age = 3600;
    c.expires = 784111777;
    c.secure = 1;
    c.http_only = 1;
    c.same_site = FORM_SAMESITE_LAX;
    CHECK_STR(set_cookie_ok(&b, &c), "sid=abc123; Path=/; Domain=example.cn; Max-Age=3600; "
                                     "Expires=Sun, 06 Nov 1994 08:49:37 GMT; Secure; HttpOnly; "
                                     "SameSite=Lax");
    c = cookie("t", "1");
    c.http_only = 1;
    CHECK_STR(set_cookie_ok(&b, &c), "t=1; HttpOnly");
    ph_buf_free(&b);
}

void test_form_set_cookie_expires(void)
{
    static const struct {
        time_t t;
        const char *s;
    } ok[] = {
        {784111777, "a=b; Expires=Sun, 06 Nov 1994 08:49:37 GMT"},
        {-1, "a=b; Expires=Wed, 31 Dec 1969 23:59:59 GMT"},
        {951782400, "a=b; Expires=Tue, 29 Feb 2000 00:00:00 GMT"},
        {(time_t)253402300799LL, "a=b; Expires=Fri, 31 Dec 9999 23:59:59 GMT"},
        {(time_t)-11644473600LL, "a=b; Expires=Mon, 01 Jan 1601 00:00:00 GMT"},
    };
    ph_buf b = {0};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        form_cookie c = cookie("a", "b");
        c.expires = ok[i].t;
        const char *got = set_cookie_ok(&b, &c);
        u_check_mem(__FILE__, __LINE__, "expires", got, strlen(got), ok[i].s, strlen(ok[i].s));
    }
    form_cookie c = cookie("a", "b");
    c.expires = (time_t)253402300800LL; /* year 10000 */
    REFUSED(&c, "set-cookie: expires is outside years 1601..9999");
    c.expires = (time_t)-11644473601LL; /* 1600 */
    REFUSED(&c, "set-cookie: expires is outside years 1601..9999");
    ph_buf_free(&b);
}

void test_form_set_cookie_max_age(void)
{
    ph_buf b = {0};
    form_cookie c = cookie("a", "b");
    c.max_age = 0;
    CHECK_STR(set_cookie_ok(&b, &c), "a=b; Max-Age=0");
    c.max_age = -1;
    CHECK_STR(set_cookie_ok(&b, &c), "a=b");
    c.max_age = INT64_MAX;
    CHECK_STR(set_cookie_ok(&b, &c), "a=b; Max-Age=9223372036854775807");
    c.max_age = -2;
    REFUSED(&c, "set-cookie: max_age is below -1");
    c.max_age = INT64_MIN;
    REFUSED(&c, "set-cookie: max_age is below -1");
    ph_buf_free(&b);
}

void test_form_set_cookie_bad_name(void)
{
    static const char *bad[] = {"a b",   "a=b",   "a;b",  "a\"b", "a,b", "a\tb",
                                "a\x01", "a\x7f", "名",   "(a)",  "a/b", "a:b",
                                "a@b",   "a[b]",  "a{b}", "a?b",  "a\\", "a\r\n"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        form_cookie c = cookie(bad[i], "v");
        REFUSED(&c, "set-cookie: the name is not a token");
    }
    form_cookie c = cookie("", "v");
    REFUSED(&c, "set-cookie: the name is empty");
    c = cookie(NULL, "v");
    REFUSED(&c, "set-cookie: the name is empty");
    c = cookie("a", "v");
    c.name = "a\0b";
    c.name_len = 3;
    REFUSED(&c, "set-cookie: the name is not a token");

    ph_buf b = {0};
    c = cookie("!#$%&'*+-.^_`|~09azAZ", "v");
    CHECK_STR(set_cookie_ok(&b, &c), "!#$%&'*+-.^_`|~09azAZ=v");
    ph_buf_free(&b);
}

void test_form_set_cookie_bad_value(void)
{
    static const char *bad[] = {" ",    "a b", "\t",   "\"x\"", ",",
                                ";",    "\\",  "\x01", "\x1f",  "\x7f",
                                "\x80", "值",  "a\r",  "\n",    "x\r\nSet-Cookie: admin=1"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        form_cookie c = cookie("a", bad[i]);
        REFUSED(&c, "set-cookie: the value holds a byte that is not a cookie-octet");
    }
    form_cookie c = cookie("a", "v");
    c.value = "x\0; Domain=evil.example";
    c.value_len = 23;
    REFUSED(&c, "set-cookie: the value holds a byte that is not a cookie-octet");
    c.value = NULL;
    c.value_len = 1;
    REFUSED(&c, "set-cookie: the value is NULL");

    /* Every cookie-octet is accepted, as is. */
    char all[128], expect[140];
    size_t n = 0;
    for (int ch = 0x21; ch <= 0x7e; ch++)
        if (ch != '"' && ch != ',' && ch != ';' && ch != '\\') all[n++] = (char)ch;
    all[n] = '\0';
    CHECK_INT(n, ==, 90);
    snprintf(expect, sizeof expect, "v=%s", all);
    ph_buf b = {0};
    c = cookie("v", all);
    const char *got = set_cookie_ok(&b, &c);
    u_check_mem(__FILE__, __LINE__, "all octets", got, strlen(got), expect, strlen(expect));
    ph_buf_free(&b);
}

void test_form_set_cookie_bad_path_domain(void)
{
    static const char *bad[] = {";", "/a;b", "/\r\nX-Injected: 1", "", "/\x7f", "/路径", "/\x1f"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        form_cookie c = cookie("a", "b");
        path_of(&c, bad[i]);
        REFUSED(&c, "set-cookie: the path is empty or holds ';' or a CTL");
        c = cookie("a", "b");
        domain_of(&c, bad[i]);
        REFUSED(&c, "set-cookie: the domain is empty or holds ';' or a CTL");
    }
    form_cookie c = cookie("a", "b");
    c.path = "/a\0b";
    c.path_len = 4;
    REFUSED(&c, "set-cookie: the path is empty or holds ';' or a CTL");

    ph_buf b = {0};
    c = cookie("a", "b");
    path_of(&c, "/notices/2026,x");
    domain_of(&c, ".park.gov.cn");
    CHECK_STR(set_cookie_ok(&b, &c), "a=b; Path=/notices/2026,x; Domain=.park.gov.cn");
    ph_buf_free(&b);
}

void test_form_set_cookie_same_site(void)
{
    ph_buf b = {0};
    form_cookie c = cookie("a", "b");
    c.same_site = FORM_SAMESITE_UNSET;
    CHECK_STR(set_cookie_ok(&b, &c), "a=b");
    c.same_site = FORM_SAMESITE_LAX;
    CHECK_STR(set_cookie_ok(&b, &c), "a=b; SameSite=Lax");
    c.same_site = FORM_SAMESITE_STRICT;
    CHECK_STR(set_cookie_ok(&b, &c), "a=b; SameSite=Strict");
    c.same_site = FORM_SAMESITE_NONE;
    REFUSED(&c, "set-cookie: SameSite=None requires Secure");
    c.secure = 1;
    CHECK_STR(set_cookie_ok(&b, &c), "a=b; Secure; SameSite=None");
    c.same_site = (form_same_site)42;
    REFUSED(&c, "set-cookie: unknown same_site");
    ph_buf_free(&b);
}

void test_form_set_cookie_prefixes(void)
{
    ph_buf b = {0};
    form_cookie c = cookie("__Secure-id", "1");
    REFUSED(&c, "set-cookie: a __Secure- cookie requires Secure");
    c.secure = 1;
    CHECK_STR(set_cookie_ok(&b, &c), "__Secure-id=1; Secure");

    static const char host_why[] =
        "set-cookie: a __Host- cookie requires Secure, Path=/ and no Domain";
    c = cookie("__Host-id", "1");
    c.secure = 1;
    path_of(&c, "/");
    CHECK_STR(set_cookie_ok(&b, &c), "__Host-id=1; Path=/; Secure");
    c.secure = 0;
    REFUSED(&c, host_why);
    c.secure = 1;
    path_of(&c, "/a");
    REFUSED(&c, host_why);
    path_of(&c, NULL);
    REFUSED(&c, host_why);
    path_of(&c, "/");
    domain_of(&c, "park.gov.cn");
    REFUSED(&c, host_why);
    c = cookie("__host-id", "1"); /* prefixes match without case */
    REFUSED(&c, host_why);
    c = cookie("__Hostile", "1"); /* not the prefix */
    CHECK_STR(set_cookie_ok(&b, &c), "__Hostile=1");
    ph_buf_free(&b);
}

/* ------------------------------------------------------------------ */
/* multipart: boundary                                                  */
/* ------------------------------------------------------------------ */

static int boundary_of(const char *ct, const char **b, size_t *blen, const char **why)
{
    return form_multipart_boundary(ct, strlen(ct), b, blen, why);
}

void test_form_boundary_basic(void)
{
    const char *b = NULL, *why = NULL;
    size_t n = 0;
    const char *ct = "multipart/form-data; boundary=----WebKitFormBoundary7MA4YWxkTrZu0gW";
    CHECK_INT(boundary_of(ct, &b, &n, &why), ==, 0);
    CHECK_MEM(b, n, "----WebKitFormBoundary7MA4YWxkTrZu0gW");
    CHECK(b == ct + 30); /* zero copy */
    CHECK(why == NULL);

    CHECK_INT(boundary_of("multipart/form-data; "
                          "boundary=---------------------------9051914041544843365972754266",
                          &b, &n, NULL),
              ==, 0);
    CHECK_MEM(b, n, "---------------------------9051914041544843365972754266");
    CHECK_INT(boundary_of("  multipart/form-data ; boundary=abc ; ", &b, &n, NULL), ==, 0);
    CHECK_MEM(b, n, "abc");
    CHECK_INT(boundary_of("multipart/form-data;boundary=x;charset=utf-8", &b, &n, NULL), ==, 0);
    CHECK_MEM(b, n, "x");
    CHECK_INT(boundary_of("multipart/form-data; boundary=a'()+_,-./:=?Z9", &b, &n, NULL), ==, 0);
    CHECK_MEM(b, n, "a'()+_,-./:=?Z9");
}

void test_form_boundary_quoted(void)
{
    const char *b = NULL;
    size_t n = 0;
    CHECK_INT(boundary_of("Multipart/Form-Data; charset=utf-8; BOUNDARY=\"a b:c\"", &b, &n, NULL),
              ==, 0);
    CHECK_MEM(b, n, "a b:c");
    CHECK_INT(boundary_of("multipart/form-data;boundary=\"x\";charset=utf-8", &b, &n, NULL), ==, 0);
    CHECK_MEM(b, n, "x");
    /* A "boundary=" inside another parameter's quoted value is not it. */
    CHECK_INT(
        boundary_of("multipart/form-data; name=\"a;boundary=evil\"; boundary=real", &b, &n, NULL),
        ==, 0);
    CHECK_MEM(b, n, "real");
    CHECK_INT(
        boundary_of("multipart/form-data; x=\"q\\\"; boundary=evil\"; boundary=real", &b, &n, NULL),
        ==, 0);
    CHECK_MEM(b, n, "real");
}

void test_form_boundary_length(void)
{
    char ct[200], seventy[72];
    memset(seventy, 'b', 70);
    seventy[70] = '\0';
    const char *b = NULL, *why = NULL;
    size_t n = 0;
    snprintf(ct, sizeof ct, "multipart/form-data; boundary=%s", seventy);
    CHECK_INT(boundary_of(ct, &b, &n, NULL), ==, 0);
    CHECK_INT(n, ==, 70);
    snprintf(ct, sizeof ct, "multipart/form-data; boundary=\"%s\"", seventy);
    CHECK_INT(boundary_of(ct, &b, &n, NULL), ==, 0);
    CHECK_INT(n, ==, 70);
    snprintf(ct, sizeof ct, "multipart/form-data; boundary=%sb", seventy);
    CHECK_INT(boundary_of(ct, &b, &n, &why), ==, PH_EINVAL);
    CHECK_STR(why, "multipart: the boundary is not 1..70 RFC 2046 characters");
    CHECK_INT(boundary_of("multipart/form-data; boundary=1", &b, &n, NULL), ==, 0);
    CHECK_MEM(b, n, "1");
}

void test_form_boundary_invalid(void)
{
    static const struct {
        const char *ct, *why;
    } bad[] = {
        {"", "multipart: the media type is not multipart/form-data"},
        {"text/plain; boundary=x", "multipart: the media type is not multipart/form-data"},
        {"multipart/mixed; boundary=x", "multipart: the media type is not multipart/form-data"},
        /* Same length as the right media type, so only the comparison catches them. */
        {"multipart/form-date; boundary=a", "multipart: the media type is not multipart/form-data"},
        {"multipart/mixed    ; boundary=a", "multipart: the media type is not multipart/form-data"},
        {"multipart/form-dataX; boundary=a",
         "multipart: the media type is not multipart/form-data"},
        {"multipart/form-data", "multipart: no boundary parameter"},
        {"multipart/form-data;", "multipart: no boundary parameter"},
        {"multipart/form-data; charset=utf-8", "multipart: no boundary parameter"},
        {"multipart/form-data; boundary=",
         "multipart: the boundary is not 1..70 RFC 2046 characters"},
        {"multipart/form-data; boundary=\"\"",
         "multipart: the boundary is not 1..70 RFC 2046 characters"},
        {"multipart/form-data; boundary=\"abc ", "multipart: malformed Content-Type parameter"},
        {"multipart/form-data; boundary=\"abc", "multipart: malformed Content-Type parameter"},
        {"multipart/form-data; boundary=a; boundary=b", "multipart: boundary given twice"},
        {"multipart/form-data; boundary=a; BOUNDARY=a", "multipart: boundary given twice"},
        {"multipart/form-data; boundary=\"abc \"",
         "multipart: the boundary is not 1..70 RFC 2046 characters"},
        {"multipart/form-data; boundary=a@b",
         "multipart: the boundary is not 1..70 RFC 2046 characters"},
        {"multipart/form-data; boundary=\"a\\\"b\"",
         "multipart: the boundary is not 1..70 RFC 2046 characters"},
        {"multipart/form-data; boundary=a\x01",
         "multipart: the boundary is not 1..70 RFC 2046 characters"},
        {"multipart/form-data; boundary", "multipart: malformed Content-Type parameter"},
        {"multipart/form-data; boundary=a b", "multipart: malformed Content-Type parameter"},
        {"multipart/form-data; boundary=a\"b\"", "multipart: malformed Content-Type parameter"},
        {"multipart/form-data; =x; boundary=y", "multipart: malformed Content-Type parameter"},
        {"multipart/form-data boundary=x", "multipart: malformed Content-Type parameter"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *b = "unset", *why = NULL;
        size_t n = 99;
        int rc = boundary_of(bad[i].ct, &b, &n, &why);
        if (rc != PH_EINVAL)
            u_fail(__FILE__, __LINE__, "\"%s\": rc %d, expected PH_EINVAL",
                   u_escape(bad[i].ct, strlen(bad[i].ct)), rc);
        if (!why || strcmp(why, bad[i].why) != 0)
            u_fail(__FILE__, __LINE__, "\"%s\": why \"%s\", expected \"%s\"", bad[i].ct,
                   why ? why : "(null)", bad[i].why);
        CHECK(strcmp(b, "unset") == 0 && n == 99); /* outputs untouched */
    }
    const char *b;
    size_t n;
    CHECK_INT(form_multipart_boundary(NULL, 0, &b, &n, NULL), ==, PH_EINVAL);
    CHECK_INT(form_multipart_boundary("multipart/form-data; boundary=a", 31, NULL, &n, NULL), ==,
              PH_EINVAL);
}

/* ------------------------------------------------------------------ */
/* multipart: bodies                                                    */
/* ------------------------------------------------------------------ */

#define BND      "XyZzy"
#define DASH     "--" BND
#define CD(name) "Content-Disposition: form-data; name=\"" name "\"\r\n"
#define CLOSE    "\r\n--" BND "--"

static const form_multipart_limits no_limits = {SIZE_MAX, SIZE_MAX, SIZE_MAX, SIZE_MAX};

/* Records parts as "#index [name] [filename] [content type] [data]\n", with
 * "-" for a NULL filename, and checks the contract on every part. */
typedef struct {
    ph_buf log;
    int calls;
    int stop_at;
    int stop_rc;
    const char *body;
    size_t len;
} parts;

static void log_bytes(ph_buf *b, const char *p, size_t n)
{
    CHECK_INT(ph_buf_append(b, "[", 1), ==, 0);
    CHECK_INT(ph_buf_append(b, p, n), ==, 0);
    CHECK_INT(ph_buf_append(b, "]", 1), ==, 0);
}

static int parts_cb(void *ud, const form_part *p)
{
    parts *r = ud;
    CHECK_INT(p->index, ==, r->calls);
    r->calls++;
    /* Zero copy: data points into the body. */
    CHECK(p->data >= r->body && p->data + p->data_len <= r->body + r->len);
    /* Names are NUL-terminated with no NUL inside. */
    CHECK(p->name != NULL && p->name[p->name_len] == '\0');
    CHECK(strlen(p->name) == p->name_len);
    if (p->filename) CHECK(p->filename[p->filename_len] == '\0');
    if (p->filename) CHECK(strlen(p->filename) == p->filename_len);
    CHECK(p->content_type != NULL && p->content_type_len > 0);

    char idx[24];
    snprintf(idx, sizeof idx, "#%zu ", p->index);
    CHECK_INT(ph_buf_append(&r->log, idx, strlen(idx)), ==, 0);
    log_bytes(&r->log, p->name, p->name_len);
    CHECK_INT(ph_buf_append(&r->log, " ", 1), ==, 0);
    if (p->filename)
        log_bytes(&r->log, p->filename, p->filename_len);
    else
        CHECK_INT(ph_buf_append(&r->log, "-", 1), ==, 0);
    CHECK_INT(ph_buf_append(&r->log, " ", 1), ==, 0);
    log_bytes(&r->log, p->content_type, p->content_type_len);
    CHECK_INT(ph_buf_append(&r->log, " ", 1), ==, 0);
    log_bytes(&r->log, p->data, p->data_len);
    CHECK_INT(ph_buf_append(&r->log, "\n", 1), ==, 0);
    return r->calls == r->stop_at ? r->stop_rc : 0;
}

/* Parses an exact-size copy of body with boundary BND. */
static int mp(parts *r, const char *body, size_t len, const form_multipart_limits *lim,
              const char **why)
{
    r->log.len = 0;
    r->calls = 0;
    char *d = dup_exact(body, len);
    r->body = d;
    r->len = len;
    int rc = form_multipart_parse(d, len, BND, strlen(BND), lim, parts_cb, r, why);
    free(d);
    return rc;
}
#define MP(r, lit, lim, why) mp((r), (lit), sizeof(lit) - 1, (lim), (why))

void test_form_multipart_basic(void)
{
    static const char body[] =
        DASH "\r\n" CD("title") "\r\n"
                                "Hello\r\n" DASH "\r\n"
                                "Content-Disposition: form-data; name=\"file\"; "
                                "filename=\"a.txt\"\r\n"
                                "Content-Type: text/plain\r\n"
                                "\r\n"
                                "line1\r\nline2\r\n"
                                "\r\n" DASH "\r\n"
                                "content-disposition: FORM-DATA; NAME=note\r\n"
                                "\r\n"
                                "x" CLOSE "\r\n";
    parts r = {0};
    const char *why = NULL;
    CHECK_INT(MP(&r, body, &no_limits, &why), ==, 0);
    CHECK(why == NULL);
    CHECK_MEM(r.log.data, r.log.len,
              "#0 [title] - [text/plain] [Hello]\n"
              "#1 [file] [a.txt] [text/plain] [line1\r\nline2\r\n]\n"
              "#2 [note] - [text/plain] [x]\n");
    ph_buf_free(&r.log);
}

void test_form_multipart_preamble_epilogue(void)
{
    parts r = {0};
    CHECK_INT(MP(&r,
                 "This is the preamble.\r\nIt mentions --" BND " but not at a line start.\r\n" DASH
                 "\r\n" CD("a") "\r\n1" CLOSE "\r\nepilogue\r\n" DASH "\r\ngarbage " DASH "--",
                 &no_limits, NULL),
              ==, 0);
    CHECK_MEM(r.log.data, r.log.len, "#0 [a] - [text/plain] [1]\n");
    /* A delimiter not at a line start is preamble: here the first real one
     * is the closing one, so the form is empty. */
    CHECK_INT(MP(&r, "\n--" BND "\r\n" CD("a") "\r\n1" CLOSE, &no_limits, NULL), ==, 0);
    CHECK_INT(r.calls, ==, 0);
    /* A preamble of just CRLF; transport padding after the delimiters; no
     * CRLF after the close delimiter. */
    CHECK_INT(MP(&r, "\r\n" DASH " \t\r\n" CD("a") "\r\n1\r\n" DASH "\t\r\n" CD("b") "\r\n2" CLOSE,
                 &no_limits, NULL),
              ==, 0);
    CHECK_MEM(r.log.data, r.log.len,
              "#0 [a] - [text/plain] [1]\n"
              "#1 [b] - [text/plain] [2]\n");
    ph_buf_free(&r.log);
}

void test_form_multipart_chinese(void)
{
    parts r = {0};
    CHECK_INT(
        MP(&r,
           DASH "\r\n" CD(
               "标题") "\r\n园区通知\r\n" DASH "\r\n"
                       "Content-Disposition: form-data; name=\"附件\"; filename=\"报告.pdf\"\r\n"
                       "Content-Type: application/pdf\r\n\r\n"
                       "%PDF\x00\xff\r\n" CLOSE "\r\n",
           &no_limits, NULL),
        ==, 0);
    CHECK_MEM(r.log.data, r.log.len,
              "#0 [标题] - [text/plain] [园区通知]\n"
              "#1 [附件] [报告.pdf] [application/pdf] [%PDF\x00\xff\r\n]\n");
    ph_buf_free(&r.log);
}

void test_form_multipart_filename_ext(void)
{
    parts r = {0};
    const char *why = NULL;
    CHECK_INT(MP(&r,
                 DASH "\r\n"
                      "Content-Disposition: form-data; name=\"f\"; filename=\"report.pdf\"; "
                      "filename*=UTF-8''%E6%8A%A5%E5%91%8A.pdf\r\n\r\n"
                      "1\r\n" DASH "\r\n"
                      "Content-Disposition: form-data; filename*=utf-8'zh-CN'a%20b+c.txt; "
                      "name=g\r\n\r\n"
                      "2\r\n" DASH "\r\n"
                      "Content-Disposition: form-data; FILENAME*=UTF-8''; name=h\r\n\r\n"
                      "3" CLOSE,
                 &no_limits, NULL),
              ==, 0);
    CHECK_MEM(r.log.data, r.log.len,
              "#0 [f] [报告.pdf] [application/octet-stream] [1]\n"
              "#1 [g] [a b+c.txt] [application/octet-stream] [2]\n"
              "#2 [h] [] [application/octet-stream] [3]\n");

    CHECK_INT(MP(&r,
                 DASH "\r\nContent-Disposition: form-data; name=f; filename*=ISO-8859-1''a.txt"
                      "\r\n\r\n1" CLOSE,
                 &no_limits, &why),
              ==, PH_EINVAL);
    CHECK_STR(why, "multipart: filename* is not in UTF-8");
    CHECK_INT(MP(&r,
                 DASH "\r\nContent-Disposition: form-data; name=f; filename*=UTF-8''a%00b"
                      "\r\n\r\n1" CLOSE,
                 &no_limits, &why),
              ==, PH_EINVAL);
    CHECK_STR(why, "multipart: NUL byte in a filename");
    CHECK_INT(MP(&r,
                 DASH "\r\nContent-Disposition: form-data; name=f; filename*=UTF-8a.txt"
                      "\r\n\r\n1" CLOSE,
                 &no_limits, &why),
              ==, PH_EINVAL);
    CHECK_STR(why, "multipart: malformed filename*");
    CHECK_INT(MP(&r,
                 DASH "\r\nContent-Disposition: form-data; name=f; filename*=UTF-8'a.txt"
                      "\r\n\r\n1" CLOSE,
                 &no_limits, &why),
              ==, PH_EINVAL);
    CHECK_STR(why, "multipart: malformed filename*");
    CHECK_INT(r.calls, ==, 0);
    ph_buf_free(&r.log);
}

void test_form_multipart_quoted_escapes(void)
{
    parts r = {0};
    CHECK_INT(MP(&r,
                 DASH "\r\n" CD("a\\\"b") "\r\n1\r\n" DASH "\r\n" CD(
                     "x\\\\y") "\r\n2\r\n" DASH "\r\n"
                               "Content-Disposition: form-data; name=\"say \\\"hi\\\"; ok\"; "
                               "filename=\"C:\\dir\\a.txt\"\r\n\r\n3\r\n" DASH "\r\n"
                               "Content-Disposition: form-data; name=\"a%00b\"; "
                               "filename=\"semi;colon \\\\ \\n.txt\"\r\n\r\n4" CLOSE,
                 &no_limits, NULL),
              ==, 0);
    CHECK_MEM(r.log.data, r.log.len,
              "#0 [a\"b] - [text/plain] [1]\n"
              "#1 [x\\y] - [text/plain] [2]\n"
              "#2 [say \"hi\"; ok] [C:\\dir\\a.txt] [application/octet-stream] [3]\n"
              "#3 [a%00b] [semi;colon \\ \\n.txt] [application/octet-stream] [4]\n");
    ph_buf_free(&r.log);
}

void test_form_multipart_boundary_in_data(void)
{
    /* Everything here looks like the boundary but is not CRLF "--" BND at
     * the start of a line: it is data and must not split the part. */
    parts r = {0};
    CHECK_INT(MP(&r,
                 DASH "\r\n" CD("f") "\r\n"
                                     "x--" BND "\r\n" BND "--\r\n\n--" BND "\r\n-" BND
                                     "\r\n--XyZz\r\n"
                                     "\r--" BND "\r\n-- " BND "\r\n" CLOSE,
                 &no_limits, NULL),
              ==, 0);
    CHECK_MEM(r.log.data, r.log.len,
              "#0 [f] - [text/plain] [x--" BND "\r\n" BND "--\r\n\n--" BND "\r\n-" BND
              "\r\n--XyZz\r\n\r--" BND "\r\n-- " BND "\r\n]\n");
    CHECK_INT(r.calls, ==, 1);
    ph_buf_free(&r.log);
}

void test_form_multipart_crlf_in_data(void)
{
    parts r = {0};
    CHECK_INT(MP(&r, DASH "\r\n" CD("a") "\r\n\r\n" CLOSE /* data: CRLF */
                 ,
                 &no_limits, NULL),
              ==, 0);
    CHECK_MEM(r.log.data, r.log.len, "#0 [a] - [text/plain] [\r\n]\n");
    CHECK_INT(MP(&r, DASH "\r\n" CD("a") "\r\n\r\n\r\n" CLOSE, &no_limits, NULL), ==, 0);
    CHECK_MEM(r.log.data, r.log.len, "#0 [a] - [text/plain] [\r\n\r\n]\n");
    CHECK_INT(MP(&r, DASH "\r\n" CD("a") "\r\nabc\r" CLOSE, &no_limits, NULL), ==, 0);
    CHECK_MEM(r.log.data, r.log.len, "#0 [a] - [text/plain] [abc\r]\n");
    CHECK_INT(MP(&r, DASH "\r\n" CD("a") "\r\n\nabc\n" CLOSE, &no_limits, NULL), ==, 0);
    CHECK_MEM(r.log.data, r.log.len, "#0 [a] - [text/plain] [\nabc\n]\n");
    ph_buf_free(&r.log);
}

void test_form_multipart_empty_parts(void)
{
    parts r = {0};
    /* The proper empty part: blank line, then CRLF "--" BND. */
    CHECK_INT(MP(&r, DASH "\r\n" CD("a") "\r\n" CLOSE, &no_limits, NULL), ==, 0);
    CHECK_MEM(r.log.data, r.log.len, "#0 [a] - [text/plain] []\n");
    /* "--" BND right after the blank line (Go's reader accepts it too). */
    CHECK_INT(
        MP(&r, DASH "\r\n" CD("a") "\r\n" DASH "\r\n" CD("b") "\r\n" DASH "--", &no_limits, NULL),
        ==, 0);
    CHECK_MEM(r.log.data, r.log.len, "#0 [a] - [text/plain] []\n#1 [b] - [text/plain] []\n");
    /* A file input with no file chosen. */
    CHECK_INT(MP(&r,
                 DASH "\r\nContent-Disposition: form-data; name=\"up\"; filename=\"\"\r\n"
                      "Content-Type: application/octet-stream\r\n\r\n" CLOSE,
                 &no_limits, NULL),
              ==, 0);
    CHECK_MEM(r.log.data, r.log.len, "#0 [up] [] [application/octet-stream] []\n");
    /* No parts at all. */
    CHECK_INT(MP(&r, DASH "--", &no_limits, NULL), ==, 0);
    CHECK_INT(r.calls, ==, 0);
    CHECK_INT(MP(&r, DASH "--\r\n", &no_limits, NULL), ==, 0);
    CHECK_INT(MP(&r, "preamble\r\n" DASH "--\r\n", &no_limits, NULL), ==, 0);
    CHECK_INT(r.calls, ==, 0);
    /* An empty name is a name. */
    CHECK_INT(MP(&r, DASH "\r\n" CD("") "\r\nv" CLOSE, &no_limits, NULL), ==, 0);
    CHECK_MEM(r.log.data, r.log.len, "#0 [] - [text/plain] [v]\n");
    ph_buf_free(&r.log);
}

void test_form_multipart_content_type(void)
{
    parts r = {0};
    CHECK_INT(MP(&r,
                 DASH "\r\n"
                      "Content-Type:   image/png  \r\n"
                      "Content-Disposition: form-data; name=\"p\"; filename=\"p.png\"\r\n"
                      "Content-Transfer-Encoding: binary\r\n"
                      "X-Other: ignored\r\n\r\n"
                      "\x89PNG" CLOSE,
                 &no_limits, NULL),
              ==, 0);
    CHECK_MEM(r.log.data, r.log.len, "#0 [p] [p.png] [image/png] [\x89PNG]\n");
    CHECK_INT(MP(&r,
                 DASH "\r\n" CD("t") "CONTENT-TYPE: text/plain; charset=UTF-8\r\n\r\n"
                                     "x\r\n" DASH "\r\n" CD("e") "Content-Type:\r\n\r\ny" CLOSE,
                 &no_limits, NULL),
              ==, 0);
    CHECK_MEM(r.log.data, r.log.len,
              "#0 [t] - [text/plain; charset=UTF-8] [x]\n"
              "#1 [e] - [text/plain] [y]\n");
    ph_buf_free(&r.log);
}

void test_form_multipart_malformed(void)
{
    static const struct {
        const char *body, *why;
    } bad[] = {
        {"", "multipart: no first boundary"},
        {"no boundary here", "multipart: no first boundary"},
        {"--XyZz\r\n", "multipart: no first boundary"},
        {DASH "X\r\n" CD("a") "\r\n1" CLOSE, "multipart: boundary line not ended by CRLF"},
        {DASH, "multipart: body truncated after a boundary"},
        {DASH "  ", "multipart: body truncated after a boundary"},
        {DASH "\r", "multipart: boundary line not ended by CRLF"},
        {DASH "\r\n" CD("a") "\r\ndata", "multipart: no closing boundary"},
        {DASH "\r\n" CD("a") "\r\ndata\r\n" DASH, "multipart: body truncated after a boundary"},
        {DASH "\r\n" CD("a") "\r\ndata\r\n" DASH "-", "multipart: boundary line not ended by CRLF"},
        {DASH "\r\n" CD("a") "\r\ndata\r\n" DASH "junk\r\n",
         "multipart: boundary line not ended by CRLF"},
        {DASH "\r\n" CD("a") "\r\n--" BND "X" CLOSE, "multipart: boundary line not ended by CRLF"},
        {DASH "\r\nContent-Type: text/plain\r\n\r\nx" CLOSE,
         "multipart: part has no Content-Disposition"},
        {DASH "\r\n\r\nx" CLOSE, "multipart: part has no Content-Disposition"},
        {DASH "\r\nContent-Disposition: attachment; name=\"a\"\r\n\r\nx" CLOSE,
         "multipart: Content-Disposition is not form-data"},
        {DASH "\r\nContent-Disposition: form-datax; name=\"a\"\r\n\r\nx" CLOSE,
         "multipart: Content-Disposition is not form-data"},
        {DASH "\r\nContent-Disposition:\r\n\r\nx" CLOSE,
         "multipart: Content-Disposition is not form-data"},
        {DASH "\r\nContent-Disposition: form-data; filename=\"a\"\r\n\r\nx" CLOSE,
         "multipart: Content-Disposition without name"},
        {DASH "\r\nContent-Disposition: form-data\r\n\r\nx" CLOSE,
         "multipart: Content-Disposition without name"},
        {DASH "\r\nContent-Disposition form-data; name=a\r\n\r\nx" CLOSE,
         "multipart: malformed header line"},
        {DASH "\r\nContent-Disposition : form-data; name=a\r\n\r\nx" CLOSE,
         "multipart: malformed header line"},
        {DASH "\r\n: x\r\n" CD("a") "\r\nx" CLOSE, "multipart: malformed header line"},
        {DASH "\r\nContent-Disposition: form-data; name=\"a\rb\"\r\n\r\nx" CLOSE,
         "multipart: malformed header line"},
        {DASH "\r\nContent-Disposition: form-data; name=\"a\nb\"\r\n\r\nx" CLOSE,
         "multipart: malformed header line"},
        {DASH "\r\nContent-Disposition: form-data;\r\n name=\"a\"\r\n\r\nx" CLOSE,
         "multipart: folded header line"},
        {DASH "\r\n" CD("a") CD("b") "\r\nx" CLOSE, "multipart: Content-Disposition given twice"},
        {DASH "\r\nContent-Disposition: form-data; name=a; name=b\r\n\r\nx" CLOSE,
         "multipart: name given twice"},
        {DASH "\r\nContent-Disposition: form-data; name=a; filename=x; FileName=y\r\n\r\nx" CLOSE,
         "multipart: filename given twice"},
        {DASH "\r\nContent-Disposition: form-data; name=a; filename*=UTF-8''x; "
              "filename*=UTF-8''y\r\n\r\nx" CLOSE,
         "multipart: filename* given twice"},
        {DASH "\r\n" CD("a") "Content-Type: a/b\r\ncontent-type: c/d\r\n\r\nx" CLOSE,
         "multipart: Content-Type given twice"},
        {DASH "\r\nContent-Disposition: form-data; name=\"abc\r\n\r\nx" CLOSE,
         "multipart: malformed Content-Disposition parameter"},
        {DASH "\r\nContent-Disposition: form-data; name=\"abc\\\"\r\n\r\nx" CLOSE,
         "multipart: malformed Content-Disposition parameter"},
        {DASH "\r\nContent-Disposition: form-data; name\r\n\r\nx" CLOSE,
         "multipart: malformed Content-Disposition parameter"},
        {DASH "\r\nContent-Disposition: form-data name=a\r\n\r\nx" CLOSE,
         "multipart: malformed Content-Disposition parameter"},
        {DASH "\r\nContent-Disposition: form-data; name=a\"b\"\r\n\r\nx" CLOSE,
         "multipart: malformed Content-Disposition parameter"},
        {DASH "\r\n" CD("a"), "multipart: body truncated in part headers"},
        {DASH "\r\nContent-Disp", "multipart: body truncated in part headers"},
        {DASH "\r\n\r", "multipart: body truncated in part headers"},
        {DASH "\r\n" CD("a") "\r\n" DASH "\r\n" CD("b") "\r\n1" CLOSE "\r\n" DASH,
         NULL}, /* fine: the epilogue is ignored */
        {DASH "\nContent-Disposition: form-data; name=\"a\"\n\nx\n--" BND "--\n",
         "multipart: boundary line not ended by CRLF"},
    };
    parts r = {0};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *why = NULL;
        int rc = mp(&r, bad[i].body, strlen(bad[i].body), &no_limits, &why);
        int want = bad[i].why ? PH_EINVAL : 0;
        if (rc != want)
            u_fail(__FILE__, __LINE__, "case %zu \"%s\": rc %d (%s), expected %d", i,
                   u_escape(bad[i].body, strlen(bad[i].body)), rc, why ? why : "-", want);
        if (!bad[i].why) continue;
        if (!why || strcmp(why, bad[i].why) != 0)
            u_fail(__FILE__, __LINE__, "case %zu: why \"%s\", expected \"%s\"", i,
                   why ? why : "(null)", bad[i].why);
        CHECK_INT(r.calls, ==, 0);
    }

    /* Raw NUL bytes in a header line (strlen cannot carry them). */
    const char *why = NULL;
    CHECK_INT(MP(&r, DASH "\r\nContent-Disposition: form-data; name=\"a\0b\"\r\n\r\nx" CLOSE,
                 &no_limits, &why),
              ==, PH_EINVAL);
    CHECK_STR(why, "multipart: malformed header line");

    /* Bad arguments. */
    static const char ok[] = DASH "--";
    CHECK_INT(form_multipart_parse(ok, 7, BND, 0, &no_limits, parts_cb, &r, &why), ==, PH_EINVAL);
    CHECK_STR(why, "multipart: the boundary is not 1..70 RFC 2046 characters");
    char b71[71];
    memset(b71, 'b', sizeof b71);
    CHECK_INT(form_multipart_parse(ok, 7, b71, 71, &no_limits, parts_cb, &r, NULL), ==, PH_EINVAL);
    CHECK_INT(form_multipart_parse(ok, 7, "a@b", 3, &no_limits, parts_cb, &r, NULL), ==, PH_EINVAL);
    CHECK_INT(form_multipart_parse(ok, 7, BND, 5, NULL, parts_cb, &r, NULL), ==, PH_EINVAL);
    CHECK_INT(form_multipart_parse(ok, 7, BND, 5, &no_limits, NULL, NULL, NULL), ==, PH_EINVAL);
    CHECK_INT(form_multipart_parse(NULL, 7, BND, 5, &no_limits, parts_cb, &r, NULL), ==, PH_EINVAL);
    ph_buf_free(&r.log);
}

static const char full_body[] =
    "preamble\r\n" DASH "\r\n" CD("title") "\r\n"
                                           "Hello\r\n" DASH "\r\n"
                                           "Content-Disposition: form-data; name=\"file\"; "
                                           "filename=\"a.txt\"\r\n"
                                           "Content-Type: text/plain\r\n"
                                           "\r\n"
                                           "line1\r\n" BND "--\r\nline2\r\n" CLOSE "\r\nepilogue";

void test_form_multipart_truncated(void)
{
    /* Every prefix that stops before the close delimiter is refused, and
     * never calls back; from the close delimiter on, every prefix parses. */
    size_t len = sizeof full_body - 1;
    size_t close_end = (size_t)(strstr(full_body, DASH "--") - full_body) + strlen(DASH "--");
    parts r = {0};
    for (size_t k = 0; k <= len; k++) {
        const char *why = NULL;
        int rc = mp(&r, full_body, k, &no_limits, &why);
        int want = k < close_end ? PH_EINVAL : 0;
        if (rc != want)
            u_fail(__FILE__, __LINE__, "prefix of %zu bytes: rc %d (%s), expected %d", k, rc,
                   why ? why : "-", want);
        CHECK_INT(r.calls, ==, want == 0 ? 2 : 0);
    }

    /* Random single-byte mutations: any result but a crash, an overread or a
     * callback before an error. */
    uint32_t seed = 12345;
    char *copy = malloc(len);
    CHECK(copy != NULL);
    for (int iter = 0; iter < 20000; iter++) {
        memcpy(copy, full_body, len);
        for (int m = 0; m < 3; m++) {
            seed = seed * 1103515245u + 12345u;
            size_t at = (seed >> 8) % len;
            seed = seed * 1103515245u + 12345u;
            static const char pick[] = "\r\n-\";:=\\ \0xX";
            copy[at] = pick[(seed >> 8) % (sizeof pick - 1)];
        }
        const char *why = NULL;
        int rc = mp(&r, copy, len, &no_limits, &why);
        if (rc != 0 && rc != PH_EINVAL) u_fail(__FILE__, __LINE__, "mutation %d: rc %d", iter, rc);
        if (rc != 0) CHECK_INT(r.calls, ==, 0);
        if (rc != 0) CHECK(why != NULL);
    }
    free(copy);
    ph_buf_free(&r.log);
}

void test_form_multipart_all_or_nothing(void)
{
    parts r = {0};
    const char *why = NULL;
    CHECK_INT(
        MP(&r, DASH "\r\n" CD("ok") "\r\n1\r\n" DASH "\r\nbroken\r\n\r\n2" CLOSE, &no_limits, &why),
        ==, PH_EINVAL);
    CHECK_INT(r.calls, ==, 0);
    CHECK_STR(why, "multipart: malformed header line");

    form_multipart_limits lim = no_limits;
    lim.max_field_bytes = 1;
    CHECK_INT(
        MP(&r, DASH "\r\n" CD("ok") "\r\n1\r\n" DASH "\r\n" CD("big") "\r\n22" CLOSE, &lim, &why),
        ==, PH_ELIMIT);
    CHECK_INT(r.calls, ==, 0);
    CHECK_STR(why, "multipart: field larger than max_field_bytes");
    ph_buf_free(&r.log);
}

void test_form_multipart_stop(void)
{
    parts r = {.stop_at = 2, .stop_rc = 5};
    const char *why = NULL;
    CHECK_INT(MP(&r,
                 DASH "\r\n" CD("a") "\r\n1\r\n" DASH "\r\n" CD("b") "\r\n2\r\n" DASH
                                                                     "\r\n" CD("c") "\r\n3" CLOSE,
                 &no_limits, &why),
              ==, 5);
    CHECK_INT(r.calls, ==, 2);
    CHECK_STR(why, "stopped by the callback");
    CHECK_MEM(r.log.data, r.log.len, "#0 [a] - [text/plain] [1]\n#1 [b] - [text/plain] [2]\n");
    ph_buf_free(&r.log);
}

/* A body of n fields "f" with data "v". */
static void many_parts(ph_buf *b, size_t n)
{
    b->len = 0;
    for (size_t i = 0; i < n; i++)
        CHECK_INT(ph_buf_append(b, DASH "\r\n" CD("f") "\r\nv\r\n",
                                sizeof(DASH "\r\n" CD("f") "\r\nv\r\n") - 1),
                  ==, 0);
    CHECK_INT(ph_buf_append(b, DASH "--", sizeof(DASH "--") - 1), ==, 0);
}

void test_form_multipart_limit_parts(void)
{
    ph_buf body = {0};
    parts r = {0};
    const char *why = NULL;
    form_multipart_limits lim = no_limits;
    many_parts(&body, 3);
    lim.max_parts = 3;
    CHECK_INT(mp(&r, body.data, body.len, &lim, &why), ==, 0);
    CHECK_INT(r.calls, ==, 3);
    lim.max_parts = 2;
    CHECK_INT(mp(&r, body.data, body.len, &lim, &why), ==, PH_ELIMIT);
    CHECK_STR(why, "multipart: more parts than max_parts");
    CHECK_INT(r.calls, ==, 0);

    many_parts(&body, 10000);
    lim.max_parts = 100;
    CHECK_INT(mp(&r, body.data, body.len, &lim, NULL), ==, PH_ELIMIT);
    CHECK_INT(r.calls, ==, 0);
    lim.max_parts = 9999;
    CHECK_INT(mp(&r, body.data, body.len, &lim, NULL), ==, PH_ELIMIT);
    lim.max_parts = 10000;
    CHECK_INT(mp(&r, body.data, body.len, &lim, NULL), ==, 0);
    CHECK_INT(r.calls, ==, 10000);
    ph_buf_free(&body);
    ph_buf_free(&r.log);
}

void test_form_multipart_limit_header_bytes(void)
{
    static const char hdr[] = "Content-Disposition: form-data; name=\"a\"; filename=\"x\"\r\n"
                              "Content-Type: text/csv\r\n";
    static const char body[] = DASH "\r\nContent-Disposition: form-data; name=\"a\"; "
                                    "filename=\"x\"\r\nContent-Type: text/csv\r\n\r\n1,2" CLOSE;
    parts r = {0};
    const char *why = NULL;
    form_multipart_limits lim = no_limits;
    lim.max_header_bytes = sizeof hdr - 1;
    CHECK_INT(MP(&r, body, &lim, &why), ==, 0);
    CHECK_MEM(r.log.data, r.log.len, "#0 [a] [x] [text/csv] [1,2]\n");
    lim.max_header_bytes = sizeof hdr - 2;
    CHECK_INT(MP(&r, body, &lim, &why), ==, PH_ELIMIT);
    CHECK_STR(why, "multipart: part headers larger than max_header_bytes");
    CHECK_INT(r.calls, ==, 0);

    /* An endless header block is a limit, not a scan of the whole body. */
    ph_buf big = {0};
    CHECK_INT(ph_buf_append(&big, DASH "\r\nX-Junk: ", sizeof(DASH "\r\nX-Junk: ") - 1), ==, 0);
    for (int i = 0; i < 100000; i++)
        CHECK_INT(ph_buf_append(&big, "a", 1), ==, 0);
    lim.max_header_bytes = 1000;
    CHECK_INT(mp(&r, big.data, big.len, &lim, &why), ==, PH_ELIMIT);
    CHECK_STR(why, "multipart: part headers larger than max_header_bytes");
    lim.max_header_bytes = 1000000;
    CHECK_INT(mp(&r, big.data, big.len, &lim, &why), ==, PH_EINVAL);
    CHECK_STR(why, "multipart: body truncated in part headers");
    /* A header-less part counts 0 bytes. */
    lim.max_header_bytes = 0;
    CHECK_INT(MP(&r, DASH "\r\n\r\nx" CLOSE, &lim, &why), ==, PH_EINVAL);
    CHECK_STR(why, "multipart: part has no Content-Disposition");
    ph_buf_free(&big);
    ph_buf_free(&r.log);
}

void test_form_multipart_limit_field_bytes(void)
{
    static const char body[] = DASH "\r\n" CD("a") "\r\n12345" CLOSE;
    parts r = {0};
    const char *why = NULL;
    form_multipart_limits lim = no_limits;
    lim.max_file_bytes = 0; /* not a file: does not apply */
    lim.max_field_bytes = 5;
    CHECK_INT(MP(&r, body, &lim, &why), ==, 0);
    CHECK_MEM(r.log.data, r.log.len, "#0 [a] - [text/plain] [12345]\n");
    lim.max_field_bytes = 4;
    CHECK_INT(MP(&r, body, &lim, &why), ==, PH_ELIMIT);
    CHECK_STR(why, "multipart: field larger than max_field_bytes");
    CHECK_INT(r.calls, ==, 0);
    ph_buf_free(&r.log);
}

void test_form_multipart_limit_file_bytes(void)
{
    static const char body[] = DASH "\r\nContent-Disposition: form-data; name=\"f\"; "
                                    "filename=\"f.bin\"\r\n\r\n12345" CLOSE;
    static const char body_ext[] = DASH "\r\nContent-Disposition: form-data; name=\"f\"; "
                                        "filename*=UTF-8''f.bin\r\n\r\n12345" CLOSE;
    parts r = {0};
    const char *why = NULL;
    form_multipart_limits lim = no_limits;
    lim.max_field_bytes = 0; /* a file: does not apply */
    lim.max_file_bytes = 5;
    CHECK_INT(MP(&r, body, &lim, &why), ==, 0);
    CHECK_MEM(r.log.data, r.log.len, "#0 [f] [f.bin] [application/octet-stream] [12345]\n");
    CHECK_INT(MP(&r, body_ext, &lim, &why), ==, 0);
    lim.max_file_bytes = 4;
    CHECK_INT(MP(&r, body, &lim, &why), ==, PH_ELIMIT);
    CHECK_STR(why, "multipart: file larger than max_file_bytes");
    CHECK_INT(MP(&r, body_ext, &lim, &why), ==, PH_ELIMIT);
    CHECK_INT(r.calls, ==, 0);
    ph_buf_free(&r.log);
}

void test_form_multipart_limits_zero(void)
{
    form_multipart_limits zero = {0};
    parts r = {0};
    const char *why = NULL;
    CHECK_INT(MP(&r, DASH "--\r\n", &zero, &why), ==, 0);
    CHECK_INT(MP(&r, DASH "\r\n" CD("a") "\r\n" CLOSE, &zero, &why), ==, PH_ELIMIT);
    CHECK_STR(why, "multipart: more parts than max_parts");
    zero.max_parts = 1;
    CHECK_INT(MP(&r, DASH "\r\n" CD("a") "\r\n" CLOSE, &zero, &why), ==, PH_ELIMIT);
    CHECK_STR(why, "multipart: part headers larger than max_header_bytes");
    ph_buf_free(&r.log);
}
