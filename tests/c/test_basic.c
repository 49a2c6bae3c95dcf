/* Basic HTTP behaviour: routes, headers, keep-alive, HEAD, pipelining,
 * request bodies, 100-continue, 404/405, Lua errors, access log. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "tests.h"

#define GET_HELLO "GET /hello HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"

static void check_hello_resp(const resp_t *r)
{
    CHECK_STATUS(r, 200);
    CHECK_COMMON(r, 0);
    CHECK_HEADER(r, "Content-Type", "text/plain; charset=utf-8");
    CHECK_HEADER(r, "Content-Length", "13");
    CHECK_BODY_STR(r, "Hello, World!");
}

/* Nothing more must arrive on c within ms (no stray body bytes). */
static void check_quiet(conn_t *c, int ms)
{
    long n = conn_pending(c) ? 1 : conn_fill(c, ms);
    CHECKF(n < 0, "unexpected data or close after the response: %s",
           c->eof ? "connection closed" : h_escape(c->buf + c->off, conn_pending(c)));
}

void test_hello_get(void)
{
    server_t s;
    server_start(&s, NULL);
    conn_t *c = CONN_OPEN(s.port);
    CHECK(conn_sendstr(c, GET_HELLO) == 0);
    resp_t r;
    READ_RESP(c, &r);
    check_hello_resp(&r);
    /* HTTP/1.1 default: keep-alive, so no Connection: close. */
    CHECK(!resp_header_has_token(&r, "Connection", "close"));
    resp_free(&r);
    conn_close(c);
    SERVER_STOP(&s);
}

void test_request_id_unique(void)
{
    server_t s;
    server_start(&s, NULL);
    char ids[40][17];
    int n = 0;
    for (int k = 0; k < 2; k++) {
        conn_t *c = CONN_OPEN(s.port);
        for (int i = 0; i < 10; i++) {
            CHECK(conn_sendstr(c, GET_HELLO) == 0);
            resp_t r;
            READ_RESP(c, &r);
            check_hello_resp(&r);
            snprintf(ids[n++], sizeof ids[0], "%s", resp_header(&r, "X-Request-Id"));
            resp_free(&r);
        }
        conn_close(c);
    }
    for (int i = 0; i < 10; i++) {
        resp_t r;
        HTTP_GET(s.port, "/hello", &r);
        check_hello_resp(&r);
        snprintf(ids[n++], sizeof ids[0], "%s", resp_header(&r, "X-Request-Id"));
        resp_free(&r);
    }
    for (int i = 0; i < n; i++)
        for (int j = i + 1; j < n; j++)
            CHECKF(strcmp(ids[i], ids[j]) != 0, "request %d and %d share X-Request-Id %s", i, j,
                   ids[i]);
    SERVER_STOP(&s);
}

void test_head_hello(void)
{
    server_t s;
    server_start(&s, NULL);
    conn_t *c = CONN_OPEN(s.port);
    CHECK(conn_sendstr(c, "HEAD /hello HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n") == 0);
    resp_t r;
    READ_RESP_HEAD(c, &r);
    CHECK_STATUS(&r, 200);
    CHECK_COMMON(&r, 1);
    CHECK_HEADER(&r, "Content-Length", "13");
    CHECK_HEADER(&r, "Content-Type", "text/plain; charset=utf-8");
    resp_free(&r);
    /* No body may follow a HEAD response. */
    check_quiet(c, 300);
    /* The connection is still in sync. */
    CHECK(conn_sendstr(c, GET_HELLO) == 0);
    READ_RESP(c, &r);
    check_hello_resp(&r);
    resp_free(&r);
    conn_close(c);
    SERVER_STOP(&s);
}

void test_head_big(void)
{
    server_t s;
    server_start(&s, NULL);
    conn_t *c = CONN_OPEN(s.port);
    CHECK(conn_sendstr(c, "HEAD /big?size=12345 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n") == 0);
    resp_t r;
    READ_RESP_HEAD(c, &r);
    CHECK_STATUS(&r, 200);
    CHECK_COMMON(&r, 1);
    CHECK_HEADER(&r, "Content-Length", "12345");
    resp_free(&r);
    check_quiet(c, 300);
    /* Same headers as GET. */
    CHECK(conn_sendstr(c, "GET /big?size=12345 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n") == 0);
    READ_RESP(c, &r);
    CHECK_STATUS(&r, 200);
    CHECK_COMMON(&r, 0);
    CHECK_INT(r.body_len, ==, 12345);
    resp_free(&r);
    conn_close(c);
    SERVER_STOP(&s);
}

void test_keepalive_http11(void)
{
    server_t s;
    server_start(&s, NULL);
    conn_t *c = CONN_OPEN(s.port);
    for (int i = 0; i < 5; i++) {
        CHECK(conn_sendstr(c, GET_HELLO) == 0);
        resp_t r;
        READ_RESP(c, &r);
        check_hello_resp(&r);
        CHECK(!resp_header_has_token(&r, "Connection", "close"));
        resp_free(&r);
        CHECK(!c->eof);
    }
    conn_close(c);
    SERVER_STOP(&s);
}

void test_http10_closes(void)
{
    server_t s;
    server_start(&s, NULL);
    conn_t *c = CONN_OPEN(s.port);
    CHECK(conn_sendstr(c, "GET /hello HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n") == 0);
    resp_t r;
    READ_RESP(c, &r);
    check_hello_resp(&r);
    CHECK_CLOSES(c, &r);
    resp_free(&r);
    conn_close(c);
    SERVER_STOP(&s);
}

void test_http10_keepalive(void)
{
    server_t s;
    server_start(&s, NULL);
    conn_t *c = CONN_OPEN(s.port);
    for (int i = 0; i < 2; i++) {
        CHECK(conn_sendstr(c, "GET /hello HTTP/1.0\r\nHost: "
                              "127.0.0.1\r\nConnection: keep-alive\r\n\r\n") == 0);
        resp_t r;
        READ_RESP(c, &r);
        check_hello_resp(&r);
        CHECKF(resp_header_has_token(&r, "Connection", "keep-alive"),
               "HTTP/1.0 keep-alive response lacks Connection: keep-alive: "
               "%s",
               h_escape(r.head, r.head_len));
        resp_free(&r);
    }
    /* Without keep-alive, HTTP/1.0 closes. */
    CHECK(conn_sendstr(c, "GET /hello HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n") == 0);
    resp_t r;
    READ_RESP(c, &r);
    check_hello_resp(&r);
    CHECK_CLOSES(c, &r);
    resp_free(&r);
    conn_close(c);
    SERVER_STOP(&s);
}

void test_connection_close_request(void)
{
    server_t s;
    server_start(&s, NULL);
    conn_t *c = CONN_OPEN(s.port);
    /* First a keep-alive request, then one asking to close. */
    CHECK(conn_sendstr(c, GET_HELLO) == 0);
    resp_t r;
    READ_RESP(c, &r);
    check_hello_resp(&r);
    resp_free(&r);
    CHECK(conn_sendstr(c, "GET /hello HTTP/1.1\r\nHost: "
                          "127.0.0.1\r\nConnection: close\r\n\r\n") == 0);
    READ_RESP(c, &r);
    check_hello_resp(&r);
    CHECK_CLOSES(c, &r);
    resp_free(&r);
    conn_close(c);
    SERVER_STOP(&s);
}

void test_pipelining_50(void)
{
    server_t s;
    server_start(&s, NULL);
    enum { N = 50 };
    size_t cap = 65536, len = 0;
    char *all = malloc(cap);
    CHECK(all != NULL);
    for (int i = 0; i < N; i++) {
        int last = i == N - 1;
        const char *conn_hdr = last ? "Connection: close\r\n" : "";
        int n;
        switch (i % 3) {
        case 0:
            n = snprintf(all + len, cap - len, "GET /hello HTTP/1.1\r\nHost: 127.0.0.1\r\n%s\r\n",
                         conn_hdr);
            break;
        case 1: {
            char body[32];
            int bl = snprintf(body, sizeof body, "pipelined-body-%02d", i);
            n = snprintf(all + len, cap - len,
                         "POST /echo HTTP/1.1\r\nHost: 127.0.0.1\r\n%s"
                         "Content-Length: %d\r\n\r\n%s",
                         conn_hdr, bl, body);
            break;
        }
        default:
            n = snprintf(all + len, cap - len,
                         "HEAD /big?size=%d HTTP/1.1\r\nHost: "
                         "127.0.0.1\r\n%s\r\n",
                         i * 7, conn_hdr);
            break;
        }
        CHECK(n > 0 && (size_t)n < cap - len);
        len += (size_t)n;
    }
    conn_t *c = CONN_OPEN(s.port);
    CHECK(conn_send(c, all, len) == 0); /* one write */
    free(all);
    char ids[N][17];
    for (int i = 0; i < N; i++) {
        resp_t r;
        int head = i % 3 == 2;
        char err[4096];
        int rc = conn_read_response(c, &r, head, 10000, err, sizeof err);
        CHECKF(rc == 0, "pipelined response %d of %d: %s", i + 1, N, err);
        CHECK_STATUS(&r, 200);
        CHECK_COMMON(&r, head);
        snprintf(ids[i], sizeof ids[i], "%s", resp_header(&r, "X-Request-Id"));
        switch (i % 3) {
        case 0: CHECK_BODY_STR(&r, "Hello, World!"); break;
        case 1: {
            char body[32];
            snprintf(body, sizeof body, "pipelined-body-%02d", i);
            CHECKF(r.body_len == strlen(body) && memcmp(r.body, body, r.body_len) == 0,
                   "response %d out of order: expected body %s, got %s", i, body,
                   h_escape(r.body, r.body_len));
            break;
        }
        default: {
            char cl[16];
            snprintf(cl, sizeof cl, "%d", i * 7);
            CHECK_HEADER(&r, "Content-Length", cl);
            break;
        }
        }
        if (i == N - 1) CHECK_CLOSES(c, &r);
        resp_free(&r);
    }
    for (int i = 0; i < N; i++)
        for (int j = i + 1; j < N; j++)
            CHECKF(strcmp(ids[i], ids[j]) != 0,
                   "pipelined responses %d and %d share X-Request-Id %s", i, j, ids[i]);
    conn_close(c);
    SERVER_STOP(&s);
}

static void check_echo(const resp_t *r, const void *body, size_t len)
{
    CHECK_STATUS(r, 200);
    CHECK_COMMON(r, 0);
    CHECK_HEADER(r, "Content-Type", "application/octet-stream");
    char n[32];
    snprintf(n, sizeof n, "%zu", len);
    CHECK_HEADER(r, "X-Body-Length", n);
    CHECK_BODY(r, body, len);
}

void test_echo_post_content_length(void)
{
    server_t s;
    server_start(&s, NULL);
    conn_t *c = CONN_OPEN(s.port);
    /* Every byte value, including NUL, CR and LF. */
    unsigned char small[1024];
    for (size_t i = 0; i < sizeof small; i++)
        small[i] = (unsigned char)(i * 7 + 3);
    CHECK(conn_send_request(c, "POST", "/echo", "Content-Type: application/octet-stream\r\n", small,
                            sizeof small) == 0);
    resp_t r;
    READ_RESP(c, &r);
    check_echo(&r, small, sizeof small);
    resp_free(&r);

    /* A larger body that needs many reads. */
    size_t big_len = 300000;
    unsigned char *big = malloc(big_len);
    CHECK(big != NULL);
    for (size_t i = 0; i < big_len; i++)
        big[i] = (unsigned char)((i * 31) ^ (i >> 8));
    CHECK(conn_send_request(c, "POST", "/echo", NULL, big, big_len) == 0);
    READ_RESP(c, &r);
    check_echo(&r, big, big_len);
    resp_free(&r);
    free(big);

    /* Body split over several writes, with pauses. */
    CHECK(conn_sendstr(c, "POST /echo HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                          "Content-Length: 12\r\n\r\nsplit") == 0);
    h_sleep_ms(100);
    CHECK(conn_sendstr(c, " bo") == 0);
    h_sleep_ms(100);
    CHECK(conn_sendstr(c, "dy!!") == 0);
    READ_RESP(c, &r);
    check_echo(&r, "split body!!", 12);
    resp_free(&r);
    conn_close(c);
    SERVER_STOP(&s);
}

void test_echo_put(void)
{
    server_t s;
    server_start(&s, NULL);
    conn_t *c = CONN_OPEN(s.port);
    CHECK(conn_send_request(c, "PUT", "/echo", NULL, "put body\r\n", 10) == 0);
    resp_t r;
    READ_RESP(c, &r);
    check_echo(&r, "put body\r\n", 10);
    resp_free(&r);
    conn_close(c);
    SERVER_STOP(&s);
}

void test_echo_empty_body(void)
{
    server_t s;
    server_start(&s, NULL);
    conn_t *c = CONN_OPEN(s.port);
    CHECK(conn_send_request(c, "POST", "/echo", NULL, "", 0) == 0);
    resp_t r;
    READ_RESP(c, &r);
    check_echo(&r, "", 0);
    resp_free(&r);
    /* No Content-Length and no Transfer-Encoding: no body. */
    CHECK(conn_sendstr(c, "POST /echo HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n") == 0);
    READ_RESP(c, &r);
    check_echo(&r, "", 0);
    resp_free(&r);
    conn_close(c);
    SERVER_STOP(&s);
}

void test_echo_chunked(void)
{
    server_t s;
    server_start(&s, NULL);
    conn_t *c = CONN_OPEN(s.port);
    CHECK(conn_sendstr(c, "POST /echo HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                          "Transfer-Encoding: chunked\r\n\r\n") == 0);
    CHECK(conn_sendstr(c, "5\r\nhello\r\n") == 0);
    h_sleep_ms(50);
    CHECK(conn_sendstr(c, "1\r\n,\r\n7\r\n wor") == 0);
    h_sleep_ms(50);
    CHECK(conn_sendstr(c, "ld!\r\nA\r\n0123456789\r\n0\r\n\r\n") == 0);
    resp_t r;
    READ_RESP(c, &r);
    check_echo(&r, "hello, world!0123456789", 23);
    resp_free(&r);

    /* Many chunks, binary data, in a single write. */
    size_t total = 0, cap = 300000, len = 0;
    char *msg = malloc(cap);
    unsigned char *expect = malloc(100 * 1000);
    CHECK(msg && expect);
    len += (size_t)snprintf(msg, cap,
                            "POST /echo HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                            "Transfer-Encoding: chunked\r\n\r\n");
    for (int k = 0; k < 100; k++) {
        size_t sz = 1 + (size_t)(k * 37) % 999;
        len += (size_t)snprintf(msg + len, cap - len, "%zx\r\n", sz);
        for (size_t i = 0; i < sz; i++) {
            unsigned char b = (unsigned char)(k + i * 13);
            msg[len++] = (char)b;
            expect[total++] = b;
        }
        msg[len++] = '\r';
        msg[len++] = '\n';
    }
    len += (size_t)snprintf(msg + len, cap - len, "0\r\n\r\n");
    CHECK(conn_send(c, msg, len) == 0);
    READ_RESP(c, &r);
    check_echo(&r, expect, total);
    resp_free(&r);
    free(msg);
    free(expect);
    conn_close(c);
    SERVER_STOP(&s);
}

void test_expect_continue(void)
{
    server_t s;
    server_start(&s, NULL);
    conn_t *c = CONN_OPEN(s.port);
    CHECK(conn_sendstr(c, "POST /echo HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                          "Expect: 100-continue\r\n"
                          "Content-Length: 11\r\n\r\n") == 0);
    resp_t r;
    char err[4096];
    int rc = conn_read_response(c, &r, 0, 5000, err, sizeof err);
    CHECKF(rc == 0, "no interim response to Expect: 100-continue: %s", err);
    CHECK_STATUS(&r, 100);
    CHECK_STR_EQ(r.head, "HTTP/1.1 100 Continue\r\n\r\n");
    resp_free(&r);
    CHECK(conn_sendstr(c, "hello world") == 0);
    READ_RESP(c, &r);
    check_echo(&r, "hello world", 11);
    resp_free(&r);
    /* The connection is still usable. */
    CHECK(conn_sendstr(c, GET_HELLO) == 0);
    READ_RESP(c, &r);
    check_hello_resp(&r);
    resp_free(&r);
    conn_close(c);
    SERVER_STOP(&s);
}

void test_not_found(void)
{
    server_t s;
    server_start(&s, NULL);
    const char *paths[] = {"/no/such/path", "/hellox", "/"};
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        resp_t r;
        HTTP_GET(s.port, paths[i], &r);
        CHECK_STATUS(&r, 404);
        CHECK_COMMON(&r, 0);
        const char *ct = resp_header(&r, "Content-Type");
        CHECKF(ct && strncmp(ct, "text/html", 9) == 0, "404 Content-Type is %s, want text/html",
               ct ? ct : "none");
        CHECK(r.body_len > 0);
        resp_free(&r);
    }
    SERVER_STOP(&s);
}

static void request_close(int port, const char *method, const char *path, resp_t *r)
{
    conn_t *c = CONN_OPEN(port);
    const char *body = NULL;
    if (strcmp(method, "POST") == 0 || strcmp(method, "PUT") == 0) body = "";
    CHECK(conn_send_request(c, method, path, "Connection: close\r\n", body, 0) == 0);
    READ_RESP(c, r);
    conn_close(c);
}

void test_method_not_allowed(void)
{
    server_t s;
    server_start(&s, NULL);
    resp_t r;
    const char *hello_methods[] = {"DELETE", "POST", "PUT"};
    for (int i = 0; i < 3; i++) {
        request_close(s.port, hello_methods[i], "/hello", &r);
        CHECK_STATUS(&r, 405);
        CHECK_COMMON(&r, 0);
        CHECKF(resp_header_has_token(&r, "Allow", "GET"),
               "405 for %s /hello: Allow header should list GET: %s", hello_methods[i],
               h_escape(r.head, r.head_len));
        resp_free(&r);
    }
    request_close(s.port, "GET", "/echo", &r);
    CHECK_STATUS(&r, 405);
    CHECK_COMMON(&r, 0);
    CHECKF(resp_header_has_token(&r, "Allow", "POST") && resp_header_has_token(&r, "Allow", "PUT"),
           "405 for GET /echo: Allow header should list POST and PUT: %s",
           h_escape(r.head, r.head_len));
    resp_free(&r);
    SERVER_STOP(&s);
}

void test_lua_error_500(void)
{
    server_t s;
    server_start(&s, NULL);
    conn_t *c = CONN_OPEN(s.port);
    CHECK(conn_sendstr(c, "GET /error HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n") == 0);
    resp_t r;
    READ_RESP(c, &r);
    CHECK_STATUS(&r, 500);
    CHECK_COMMON(&r, 0);
    CHECK_HEADER(&r, "Content-Type", "text/html; charset=utf-8");
    char rid[17];
    snprintf(rid, sizeof rid, "%s", resp_header(&r, "X-Request-Id"));
    CHECK_CONTAINS(r.body, rid);
    CHECK_NOT_CONTAINS(r.body, "plugin.lua");
    CHECK_NOT_CONTAINS(r.body, "stack traceback");
    CHECK_NOT_CONTAINS(r.body, "boom");
    int closes = resp_header_has_token(&r, "Connection", "close");
    resp_free(&r);

    /* The log has the details: request id, file:line and the traceback. */
    CHECKF(log_wait(&s, "stack traceback", 3000), "%s", "no 'stack traceback' in the server log");
    char *log = log_read(&s);
    char *line = NULL;
    const char *at = NULL;
    for (const char *p = log; (p = strstr(p, rid)) != NULL; p++) {
        const char *ls = p;
        while (ls > log && ls[-1] != '\n')
            ls--;
        const char *le = strchr(p, '\n');
        if (!le) le = p + strlen(p);
        const char *f = "tests/fixtures/plugins/testkit/plugin.lua:";
        const char *q = strstr(ls, f);
        if (q && q < le && isdigit((unsigned char)q[strlen(f)])) {
            line = strndup(ls, (size_t)(le - ls));
            at = ls;
            break;
        }
    }
    CHECKF(line != NULL,
           "no log line with request id %s and "
           "tests/fixtures/plugins/testkit/plugin.lua:<line>",
           rid);
    /* The traceback belongs to that log record: it is on the same line
     * or follows it. */
    const char *tb = strstr(at, "stack traceback");
    CHECKF(tb != NULL && tb - at < 8192, "no stack traceback with/after the error line: %s", line);
    free(line);
    free(log);

    /* The server goes on serving: on the same connection if it was kept. */
    if (!closes) {
        CHECK(conn_sendstr(c, GET_HELLO) == 0);
        READ_RESP(c, &r);
        check_hello_resp(&r);
        resp_free(&r);
    }
    conn_close(c);
    CHECK_HELLO(s.port);
    SERVER_STOP(&s);
}

static void check_access_line(server_t *s, const char *rid, const char *expect)
{
    char needle[64];
    snprintf(needle, sizeof needle, "rid=%s", rid);
    CHECKF(log_wait(s, needle, 3000), "no log line with %s", needle);
    char *line = log_find_line(s, " access ", needle, NULL);
    CHECKF(line != NULL, "no access log line with ' access ' and %s", needle);
    CHECK_CONTAINS(line, expect);
    const char *ms = strstr(line, "ms=");
    CHECKF(ms && isdigit((unsigned char)ms[3]), "no ms=<duration> in: %s", line);
    /* exactly one access line per request */
    char *log = log_read(s);
    int count = 0;
    for (char *p = log; (p = strstr(p, needle)) != NULL; p++) {
        char *ls = p;
        while (ls > log && ls[-1] != '\n')
            ls--;
        char *le = strchr(p, '\n');
        if (le) *le = '\0';
        if (strstr(ls, " access ")) count++;
        if (le) {
            *le = '\n';
            p = le;
        }
    }
    CHECKF(count == 1, "%d access log lines for %s", count, needle);
    free(log);
    free(line);
}

void test_access_log(void)
{
    server_t s;
    server_start(&s, NULL);
    resp_t r;
    HTTP_GET(s.port, "/hello", &r);
    CHECK_STATUS(&r, 200);
    char rid[17];
    snprintf(rid, sizeof rid, "%s", resp_header(&r, "X-Request-Id"));
    resp_free(&r);
    check_access_line(&s, rid, "method=GET path=/hello status=200 bytes=13");

    HTTP_GET(s.port, "/no/such/path", &r);
    CHECK_STATUS(&r, 404);
    snprintf(rid, sizeof rid, "%s", resp_header(&r, "X-Request-Id"));
    resp_free(&r);
    check_access_line(&s, rid, "method=GET path=/no/such/path status=404");

    conn_t *c = CONN_OPEN(s.port);
    CHECK(conn_send_request(c, "POST", "/echo", NULL, "12345", 5) == 0);
    READ_RESP(c, &r);
    CHECK_STATUS(&r, 200);
    snprintf(rid, sizeof rid, "%s", resp_header(&r, "X-Request-Id"));
    resp_free(&r);
    conn_close(c);
    check_access_line(&s, rid, "method=POST path=/echo status=200 bytes=5");
    SERVER_STOP(&s);
}

static void check_x_body(const resp_t *r, size_t n)
{
    CHECK_STATUS(r, 200);
    CHECK_COMMON(r, 0);
    CHECK_INT(r->body_len, ==, n);
    for (size_t i = 0; i < n; i++)
        if (r->body[i] != 'x')
            h_fail(__FILE__, __LINE__, "byte %zu of /big body is 0x%02x, not 'x'", i,
                   (unsigned char)r->body[i]);
}

void test_big_body(void)
{
    server_t s;
    server_start(&s, NULL);
    conn_t *c = CONN_OPEN(s.port);
    size_t sizes[] = {0, 1, 100000, 1048576};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        char path[64];
        snprintf(path, sizeof path, "/big?size=%zu", sizes[i]);
        CHECK(conn_send_request(c, "GET", path, NULL, NULL, 0) == 0);
        resp_t r;
        READ_RESP(c, &r);
        check_x_body(&r, sizes[i]);
        resp_free(&r);
    }
    CHECK(conn_sendstr(c, GET_HELLO) == 0);
    resp_t r;
    READ_RESP(c, &r);
    check_hello_resp(&r);
    resp_free(&r);
    conn_close(c);
    SERVER_STOP(&s);
}

void test_big_body_16mib(void)
{
    server_t s;
    server_start(&s, NULL);
    conn_t *c = CONN_OPEN(s.port);
    CHECK(conn_send_request(c, "GET", "/big?size=16777216", NULL, NULL, 0) == 0);
    resp_t r;
    h_read_resp_at(__FILE__, __LINE__, c, &r, 0, 30000);
    check_x_body(&r, 16777216);
    resp_free(&r);
    CHECK(conn_sendstr(c, GET_HELLO) == 0);
    READ_RESP(c, &r);
    check_hello_resp(&r);
    resp_free(&r);
    conn_close(c);
    SERVER_STOP(&s);
}
