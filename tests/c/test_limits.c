/* Limits and timeouts: header/body size, header/body/keep-alive timeouts,
 * max connections, many connections. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "harness.h"
#include "tests.h"

#define GET_HELLO "GET /hello HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"

/* Slack for timing checks: sanitizer builds on a busy 2-core machine. */
#define LATE_MS 1000

static void send_padded_get(conn_t *c, size_t pad)
{
    char *p = malloc(pad + 1);
    CHECK(p != NULL);
    memset(p, 'a', pad);
    p[pad] = '\0';
    /* may fail if the server answers and closes early: ignore */
    conn_sendf(c, "GET /hello HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Pad: %s\r\n\r\n", p);
    free(p);
}

static int readable(conn_t *c)
{
    if (conn_pending(c) || c->eof) return 1;
    struct pollfd p = {c->fd, POLLIN, 0};
    return poll(&p, 1, 0) == 1;
}

void test_header_too_large(void)
{
    server_t s;
    server_start(&s, "--max-header-bytes", "1024", NULL);
    resp_t r;

    /* Well under the limit: served. */
    conn_t *c = CONN_OPEN(s.port);
    send_padded_get(c, 500);
    READ_RESP(c, &r);
    CHECK_STATUS(&r, 200);
    CHECK_BODY_STR(&r, "Hello, World!");
    resp_free(&r);
    conn_close(c);

    /* Over the limit in one write: 431 and close. */
    c = CONN_OPEN(s.port);
    send_padded_get(c, 2000);
    READ_RESP(c, &r);
    CHECK_STATUS(&r, 431);
    CHECK_COMMON(&r, 0);
    CHECK_CLOSES(c, &r);
    resp_free(&r);
    conn_close(c);

    /* Over the limit in many small headers sent in separate writes. */
    c = CONN_OPEN(s.port);
    CHECK(conn_sendstr(c, "GET /hello HTTP/1.1\r\nHost: 127.0.0.1\r\n") == 0);
    for (int i = 0; i < 60 && !readable(c); i++) {
        conn_sendf(c, "X-Header-%02d: %040d\r\n", i, i);
        h_sleep_ms(10);
    }
    READ_RESP(c, &r);
    CHECK_STATUS(&r, 431);
    CHECK_COMMON(&r, 0);
    CHECK_CLOSES(c, &r);
    resp_free(&r);
    conn_close(c);

    CHECK_HELLO(s.port);
    SERVER_STOP(&s);
}

void test_header_too_large_default(void)
{
    server_t s;
    server_start(&s, NULL);
    resp_t r;
    conn_t *c = CONN_OPEN(s.port);
    send_padded_get(c, 8000);
    READ_RESP(c, &r);
    CHECK_STATUS(&r, 200);
    resp_free(&r);
    conn_close(c);

    c = CONN_OPEN(s.port);
    send_padded_get(c, 20000);
    READ_RESP(c, &r);
    CHECK_STATUS(&r, 431);
    CHECK_COMMON(&r, 0);
    CHECK_CLOSES(c, &r);
    resp_free(&r);
    conn_close(c);
    CHECK_HELLO(s.port);
    SERVER_STOP(&s);
}

void test_body_too_large(void)
{
    server_t s;
    server_start(&s, "--max-body-bytes", "1000", NULL);
    resp_t r;
    char body[1000];
    memset(body, 'b', sizeof body);

    /* Exactly the limit: accepted. */
    conn_t *c = CONN_OPEN(s.port);
    CHECK(conn_send_request(c, "POST", "/echo", NULL, body, sizeof body) == 0);
    READ_RESP(c, &r);
    CHECK_STATUS(&r, 200);
    CHECK_BODY(&r, body, sizeof body);
    resp_free(&r);
    conn_close(c);

    /* One byte over: 413 before any body byte is sent. */
    const char *lens[] = {"1001", "5000000"};
    for (int i = 0; i < 2; i++) {
        c = CONN_OPEN(s.port);
        CHECK(conn_sendf(c,
                         "POST /echo HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                         "Content-Length: %s\r\n\r\n",
                         lens[i]) == 0);
        char err[4096];
        int rc = conn_read_response(c, &r, 0, 5000, err, sizeof err);
        CHECKF(rc == 0,
               "no response to Content-Length: %s (limit 1000) before the "
               "body was sent: %s",
               lens[i], err);
        CHECK_STATUS(&r, 413);
        CHECK_COMMON(&r, 0);
        CHECK_CLOSES(c, &r);
        resp_free(&r);
        conn_close(c);
    }
    CHECK_HELLO(s.port);
    SERVER_STOP(&s);
}

void test_body_too_large_expect(void)
{
    server_t s;
    server_start(&s, "--max-body-bytes", "1000", NULL);
    conn_t *c = CONN_OPEN(s.port);
    CHECK(conn_sendstr(c, "POST /echo HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                          "Expect: 100-continue\r\n"
                          "Content-Length: 2000\r\n\r\n") == 0);
    resp_t r;
    char err[4096];
    int rc = conn_read_response(c, &r, 0, 5000, err, sizeof err);
    CHECKF(rc == 0, "no response to an oversized 100-continue request: %s", err);
    CHECK_STATUS(&r, 413); /* not 100 */
    CHECK_COMMON(&r, 0);
    CHECK_CLOSES(c, &r);
    resp_free(&r);
    conn_close(c);

    /* Within the limit, 100-continue still works. */
    c = CONN_OPEN(s.port);
    CHECK(conn_sendstr(c, "POST /echo HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                          "Expect: 100-continue\r\n"
                          "Content-Length: 3\r\n\r\n") == 0);
    READ_RESP(c, &r);
    CHECK_STATUS(&r, 100);
    resp_free(&r);
    CHECK(conn_sendstr(c, "abc") == 0);
    READ_RESP(c, &r);
    CHECK_STATUS(&r, 200);
    CHECK_BODY_STR(&r, "abc");
    resp_free(&r);
    conn_close(c);
    SERVER_STOP(&s);
}

void test_chunked_body_too_large(void)
{
    server_t s;
    server_start(&s, "--max-body-bytes", "1000", NULL);
    resp_t r;
    char chunk[400];
    memset(chunk, 'c', sizeof chunk);

    /* 2 x 400 = 800: accepted. */
    conn_t *c = CONN_OPEN(s.port);
    CHECK(conn_sendstr(c, "POST /echo HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                          "Transfer-Encoding: chunked\r\n\r\n") == 0);
    for (int i = 0; i < 2; i++) {
        CHECK(conn_sendstr(c, "190\r\n") == 0);
        CHECK(conn_send(c, chunk, sizeof chunk) == 0);
        CHECK(conn_sendstr(c, "\r\n") == 0);
    }
    CHECK(conn_sendstr(c, "0\r\n\r\n") == 0);
    READ_RESP(c, &r);
    CHECK_STATUS(&r, 200);
    CHECK_INT(r.body_len, ==, 800);
    resp_free(&r);
    conn_close(c);

    /* 3 x 400 = 1200 > 1000: 413 and close, without the final chunk. */
    c = CONN_OPEN(s.port);
    CHECK(conn_sendstr(c, "POST /echo HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                          "Transfer-Encoding: chunked\r\n\r\n") == 0);
    for (int i = 0; i < 3 && !readable(c); i++) {
        conn_sendstr(c, "190\r\n");
        conn_send(c, chunk, sizeof chunk);
        conn_sendstr(c, "\r\n");
        h_sleep_ms(20);
    }
    char err[4096];
    int rc = conn_read_response(c, &r, 0, 5000, err, sizeof err);
    CHECKF(rc == 0, "no response to a chunked body over the limit: %s", err);
    CHECK_STATUS(&r, 413);
    CHECK_COMMON(&r, 0);
    CHECK_CLOSES(c, &r);
    resp_free(&r);
    conn_close(c);
    CHECK_HELLO(s.port);
    SERVER_STOP(&s);
}

/* Reads a 408 on c and checks the server closes afterwards. Returns ms
 * from t0 to the arrival of the response. */
static int64_t expect_408(conn_t *c, int64_t t0, int max_wait_ms)
{
    resp_t r;
    char err[4096];
    int rc = conn_read_response(c, &r, 0, max_wait_ms, err, sizeof err);
    int64_t elapsed = h_now_ms() - t0;
    CHECKF(rc == 0, "expected a 408 response (after %lld ms): %s", (long long)elapsed, err);
    CHECK_STATUS(&r, 408);
    CHECK_COMMON(&r, 0);
    CHECK_CLOSES(c, &r);
    resp_free(&r);
    return elapsed;
}

void test_header_timeout_slowloris(void)
{
    server_t s;
    server_start(&s, "--header-timeout-ms", "1000", NULL);
    conn_t *c = CONN_OPEN(s.port);
    int64_t t0 = h_now_ms();
    CHECK(conn_sendstr(c, "GET /hello HTTP/1.1\r\nHost: 127.0.0.1\r\n") == 0);
    /* One header byte every 250 ms: never completes the head. */
    const char *slow = "X-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    int sent = 0;
    while (!readable(c) && h_now_ms() - t0 < 1000 + LATE_MS + 1000 && slow[sent]) {
        if (conn_send(c, slow + sent, 1) != 0) break;
        sent++;
        struct pollfd p = {c->fd, POLLIN, 0};
        poll(&p, 1, 250);
    }
    int64_t elapsed = expect_408(c, t0, 3000);
    fprintf(stderr, "# 408 after %lld ms, %d slow bytes sent\n", (long long)elapsed, sent);
    CHECKF(elapsed >= 900 && elapsed <= 1000 + LATE_MS,
           "slowloris connection answered after %lld ms; want about 1000 ms", (long long)elapsed);
    conn_close(c);
    CHECK_HELLO(s.port);
    SERVER_STOP(&s);
}

void test_header_timeout_idle_connection(void)
{
    server_t s;
    server_start(&s, "--header-timeout-ms", "1000", NULL);
    conn_t *c = CONN_OPEN(s.port);
    int64_t t0 = h_now_ms();
    int64_t elapsed = expect_408(c, t0, 1000 + LATE_MS + 2000);
    CHECKF(elapsed >= 900 && elapsed <= 1000 + LATE_MS,
           "silent connection answered after %lld ms; want about 1000 ms", (long long)elapsed);
    conn_close(c);
    CHECK_HELLO(s.port);
    SERVER_STOP(&s);
}

void test_body_timeout(void)
{
    server_t s;
    server_start(&s, "--body-timeout-ms", "1000", NULL);
    conn_t *c = CONN_OPEN(s.port);
    CHECK(conn_sendstr(c, "POST /echo HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                          "Content-Length: 100\r\n\r\n0123456789") == 0);
    int64_t t0 = h_now_ms();
    int64_t elapsed = expect_408(c, t0, 1000 + LATE_MS + 2000);
    CHECKF(elapsed >= 900 && elapsed <= 1000 + LATE_MS,
           "stalled body answered after %lld ms; want about 1000 ms", (long long)elapsed);
    conn_close(c);
    CHECK_HELLO(s.port);
    SERVER_STOP(&s);
}

void test_body_timeout_reset_by_progress(void)
{
    server_t s;
    server_start(&s, "--body-timeout-ms", "1000", NULL);
    conn_t *c = CONN_OPEN(s.port);
    CHECK(conn_sendstr(c, "POST /echo HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                          "Content-Length: 8\r\n\r\n") == 0);
    const char *body = "abcdefgh";
    /* One byte every 400 ms: 3.2 s in total, but never 1 s without bytes. */
    for (int i = 0; i < 8; i++) {
        h_sleep_ms(400);
        if (readable(c)) {
            resp_t r;
            char err[4096];
            if (conn_read_response(c, &r, 0, 1000, err, sizeof err) == 0)
                h_fail(__FILE__, __LINE__,
                       "server answered after %d of 8 slowly sent body "
                       "bytes: %s",
                       i, h_escape(r.head, r.head_len));
            h_fail(__FILE__, __LINE__, "server closed after %d of 8 slowly sent body bytes: %s", i,
                   err);
        }
        CHECK(conn_send(c, body + i, 1) == 0);
    }
    resp_t r;
    READ_RESP(c, &r);
    CHECK_STATUS(&r, 200);
    CHECK_BODY_STR(&r, body);
    resp_free(&r);
    conn_close(c);
    SERVER_STOP(&s);
}

void test_keepalive_timeout(void)
{
    server_t s;
    server_start(&s, "--keepalive-timeout-ms", "500", NULL);
    resp_t r;

    /* Requests 300 ms apart are inside the keep-alive window. */
    conn_t *c = CONN_OPEN(s.port);
    for (int i = 0; i < 3; i++) {
        if (i) h_sleep_ms(300);
        CHECK(conn_sendstr(c, GET_HELLO) == 0);
        READ_RESP(c, &r);
        CHECK_STATUS(&r, 200);
        CHECK(!resp_header_has_token(&r, "Connection", "close"));
        resp_free(&r);
    }
    /* Then idle: closed after ~500 ms, with no response. */
    int64_t t0 = h_now_ms();
    size_t extra = 0;
    int closed = conn_wait_closed(c, 500 + LATE_MS + 2000, &extra);
    int64_t elapsed = h_now_ms() - t0;
    fprintf(stderr, "# idle connection closed after %lld ms\n", (long long)elapsed);
    CHECKF(closed, "idle keep-alive connection still open after %lld ms", (long long)elapsed);
    CHECKF(extra == 0,
           "server sent %zu bytes before closing the idle connection "
           "(want a silent close)",
           extra);
    CHECKF(elapsed >= 400 && elapsed <= 500 + LATE_MS,
           "idle keep-alive connection closed after %lld ms; want ~500 ms", (long long)elapsed);
    conn_close(c);
    CHECK_HELLO(s.port);
    SERVER_STOP(&s);
}

void test_max_connections(void)
{
    server_t s;
    server_start(&s, "--max-connections", "4", NULL);
    resp_t r;
    conn_t *cs[4];
    for (int i = 0; i < 4; i++) {
        cs[i] = CONN_OPEN(s.port);
        CHECK(conn_sendstr(cs[i], GET_HELLO) == 0);
        READ_RESP(cs[i], &r);
        CHECK_STATUS(&r, 200);
        resp_free(&r);
    }
    /* The fifth: 503 and close. */
    conn_t *c5 = CONN_OPEN(s.port);
    conn_sendstr(c5, GET_HELLO); /* may fail if already closed */
    char err[4096];
    int rc = conn_read_response(c5, &r, 0, 5000, err, sizeof err);
    CHECKF(rc == 0, "5th connection with --max-connections 4: %s", err);
    CHECK_STATUS(&r, 503);
    CHECK_COMMON(&r, 0);
    CHECK_CLOSES(c5, &r);
    resp_free(&r);
    conn_close(c5);

    /* The four keep working. */
    for (int i = 0; i < 4; i++) {
        CHECK(conn_sendstr(cs[i], GET_HELLO) == 0);
        READ_RESP(cs[i], &r);
        CHECK_STATUS(&r, 200);
        resp_free(&r);
    }

    /* Close one: a new connection is served (allow the server a moment to
     * notice the close). */
    conn_close(cs[0]);
    cs[0] = NULL;
    int64_t deadline = h_now_ms() + 3000;
    int last_status = 0;
    for (;;) {
        conn_t *c = CONN_OPEN(s.port);
        conn_sendstr(c, GET_HELLO);
        rc = conn_read_response(c, &r, 0, 5000, err, sizeof err);
        CHECKF(rc == 0, "new connection after closing one: %s", err);
        last_status = r.status;
        if (r.status == 200) {
            CHECK_BODY_STR(&r, "Hello, World!");
            resp_free(&r);
            cs[0] = c;
            break;
        }
        CHECK_STATUS(&r, 503);
        resp_free(&r);
        conn_close(c);
        CHECKF(h_now_ms() < deadline, "still %d 3 s after closing one of 4 connections",
               last_status);
        h_sleep_ms(50);
    }
    /* Now at the limit again: the next one is refused. */
    c5 = CONN_OPEN(s.port);
    conn_sendstr(c5, GET_HELLO);
    rc = conn_read_response(c5, &r, 0, 5000, err, sizeof err);
    CHECKF(rc == 0, "5th connection again: %s", err);
    CHECK_STATUS(&r, 503);
    resp_free(&r);
    conn_close(c5);
    for (int i = 0; i < 4; i++)
        conn_close(cs[i]);
    CHECK_ALIVE(&s);
    SERVER_STOP(&s);
}

static void raise_nofile(rlim_t want)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0) return;
    if (rl.rlim_cur >= want) return;
    rl.rlim_cur = rl.rlim_max < want ? rl.rlim_max : want;
    setrlimit(RLIMIT_NOFILE, &rl);
}

void test_thousand_connections(void)
{
    /* Batches of 200 open at once: needs ~220 fds here and in the server
     * (which inherits the limit). */
    raise_nofile(1024);
    server_t s;
    /* Every client here is 127.0.0.1: lift the cap of one address. */
    server_start(&s, "--max-connections", "300", "--max-connections-per-address", "0", NULL);
    enum { TOTAL = 1000, BATCH = 200 };
    conn_t *cs[BATCH];
    int opened = 0;
    while (opened < TOTAL) {
        for (int i = 0; i < BATCH; i++) {
            conn_t *c = NULL;
            for (int attempt = 0; attempt < 5 && !c; attempt++) {
                c = conn_try_open(s.port);
                if (!c) h_sleep_ms(100);
            }
            CHECKF(c != NULL, "connection %d of %d failed: %s", opened + i, TOTAL, strerror(errno));
            cs[i] = c;
            switch ((opened + i) % 5) {
            case 0: /* nothing sent */ break;
            case 1: /* half a request line */ conn_sendstr(c, "GET /hel"); break;
            case 2: /* a full request, response never read */ conn_sendstr(c, GET_HELLO); break;
            case 3: /* half a body */
                conn_sendstr(c, "POST /echo HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                                "Content-Length: 100\r\n\r\nabc");
                break;
            default: /* garbage */ conn_sendstr(c, "\x01\x02\x03 junk\r\n\r\n"); break;
            }
        }
        for (int i = 0; i < BATCH; i++) {
            if (i % 2)
                conn_abort(cs[i]);
            else
                conn_close(cs[i]);
        }
        opened += BATCH;
        CHECK_ALIVE(&s);
    }
    fprintf(stderr, "# opened and dropped %d connections\n", opened);
    CHECK_ALIVE(&s);

    /* The server may still be working through the last closes (and so still
     * count them against --max-connections): a 503 is retried for a while. */
    int64_t deadline = h_now_ms() + 5000;
    for (;;) {
        resp_t r;
        HTTP_GET(s.port, "/hello", &r);
        int st = r.status;
        if (st == 200) CHECK_BODY_STR(&r, "Hello, World!");
        resp_free(&r);
        if (st == 200) break;
        CHECKF(st == 503, "GET /hello after the churn got %d", st);
        CHECKF(h_now_ms() < deadline, "%s",
               "still 503 5 s after 1000 connections were dropped: connection slots leaked?");
        h_sleep_ms(50);
    }

    /* The server's connection count came back down: 250 simultaneous
     * connections (limit 300) are all served. A transient 503 (closes not yet
     * processed) is retried; a lasting one means leaked connection slots. */
    enum { AFTER = 250 };
    int n503 = 0;
    for (int attempt = 0; attempt < 6; attempt++) {
        conn_t *after[AFTER];
        n503 = 0;
        for (int i = 0; i < AFTER; i++) {
            after[i] = CONN_OPEN(s.port);
            CHECK(conn_sendstr(after[i], GET_HELLO) == 0);
        }
        for (int i = 0; i < AFTER; i++) {
            resp_t r;
            char err[4096];
            int rc = conn_read_response(after[i], &r, 0, 10000, err, sizeof err);
            CHECKF(rc == 0, "connection %d of %d after the churn: %s", i, AFTER, err);
            CHECKF(r.status == 200 || r.status == 503, "connection %d of %d after the churn got %d",
                   i, AFTER, r.status);
            if (r.status == 503) n503++;
            resp_free(&r);
            conn_close(after[i]);
        }
        if (n503 == 0) break;
        fprintf(stderr, "# attempt %d: %d of %d simultaneous connections got 503\n", attempt + 1,
                n503, AFTER);
        h_sleep_ms(500);
    }
    CHECKF(n503 == 0,
           "%d of %d simultaneous connections (limit 300) still got 503 after 1000 dropped "
           "connections and 6 tries: connection slots leaked?",
           n503, AFTER);
    CHECK_ALIVE(&s);
    SERVER_STOP(&s);
}
