/* Client disconnects at awkward moments; graceful shutdown on signals. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "harness.h"
#include "tests.h"

#define GET_HELLO "GET /hello HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"

static void drop(conn_t *c, int i)
{
    if (i % 2)
        conn_abort(c); /* RST */
    else
        conn_close(c); /* FIN */
}

void test_disconnect_mid_header(void)
{
    server_t s;
    server_start(&s, NULL);
    for (int i = 0; i < 20; i++) {
        conn_t *c = CONN_OPEN(s.port);
        CHECK(conn_sendstr(c, "GET /hello HTTP/1.1\r\nHo") == 0);
        if (i % 4 >= 2) h_sleep_ms(20); /* let the server read it first */
        drop(c, i);
    }
    h_sleep_ms(100);
    CHECK_ALIVE(&s);
    CHECK_HELLO(s.port);
    SERVER_STOP(&s);
}

void test_disconnect_mid_body(void)
{
    server_t s;
    server_start(&s, NULL);
    char half[500];
    memset(half, 'h', sizeof half);
    for (int i = 0; i < 20; i++) {
        conn_t *c = CONN_OPEN(s.port);
        if (i < 10) {
            CHECK(conn_sendstr(c, "POST /echo HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                                  "Content-Length: 1000\r\n\r\n") == 0);
            CHECK(conn_send(c, half, sizeof half) == 0);
        } else {
            CHECK(conn_sendstr(c, "POST /echo HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                                  "Transfer-Encoding: chunked\r\n\r\n"
                                  "3e8\r\n") == 0);
            CHECK(conn_send(c, half, sizeof half) == 0);
        }
        if (i % 4 >= 2) h_sleep_ms(20);
        drop(c, i);
    }
    h_sleep_ms(100);
    CHECK_ALIVE(&s);
    CHECK_HELLO(s.port);
    /* Echo still works after all those abandoned bodies. */
    conn_t *c = CONN_OPEN(s.port);
    CHECK(conn_send_request(c, "POST", "/echo", NULL, half, sizeof half) == 0);
    resp_t r;
    READ_RESP(c, &r);
    CHECK_STATUS(&r, 200);
    CHECK_BODY(&r, half, sizeof half);
    resp_free(&r);
    conn_close(c);
    SERVER_STOP(&s);
}

void test_disconnect_mid_response(void)
{
    server_t s;
    server_start(&s, NULL);
    for (int i = 0; i < 6; i++) {
        conn_t *c = CONN_OPEN(s.port);
        CHECK(conn_sendstr(c, "GET /big?size=16777216 HTTP/1.1\r\n"
                              "Host: 127.0.0.1\r\n\r\n") == 0);
        size_t want = 65536 * (size_t)(i + 1);
        while (conn_pending(c) < want) {
            long n = conn_fill(c, 10000);
            CHECKF(n > 0, "reading /big: %s", n == 0 ? "connection closed" : "timeout");
        }
        CHECK(strncmp(c->buf + c->off, "HTTP/1.1 200", 12) == 0);
        drop(c, i);
    }
    /* A pipelined pair whose client vanishes after the first response
     * started. */
    conn_t *c = CONN_OPEN(s.port);
    CHECK(conn_sendstr(c, "GET /big?size=16777216 HTTP/1.1\r\n"
                          "Host: 127.0.0.1\r\n\r\n" GET_HELLO) == 0);
    CHECK(conn_fill(c, 10000) > 0);
    conn_abort(c);

    h_sleep_ms(200);
    CHECK_ALIVE(&s);
    CHECK_HELLO(s.port);
    /* A full big response still works. */
    c = CONN_OPEN(s.port);
    CHECK(conn_sendstr(c, "GET /big?size=1048576 HTTP/1.1\r\n"
                          "Host: 127.0.0.1\r\n\r\n") == 0);
    resp_t r;
    READ_RESP(c, &r);
    CHECK_STATUS(&r, 200);
    CHECK_INT(r.body_len, ==, 1048576);
    resp_free(&r);
    conn_close(c);
    SERVER_STOP(&s);
}

/* After shutdown began, a new connection must not be served: either it is
 * refused, or it gets no 200 response. */
static void check_not_accepting(int port)
{
    conn_t *c = conn_try_open(port);
    if (!c) {
        fprintf(stderr, "# new connection during shutdown: %s\n", strerror(errno));
        return;
    }
    conn_sendstr(c, GET_HELLO);
    resp_t r;
    char err[4096];
    int rc = conn_read_response(c, &r, 0, 500, err, sizeof err);
    if (rc == 0) {
        CHECKF(r.status != 200, "a connection opened after SIGTERM was served: %s",
               h_escape(r.head, r.head_len));
        resp_free(&r);
    }
    conn_close(c);
}

/* The shutdown timeout in these two tests is far above their bounds, so
 * that a server which waited for an idle connection is told apart from a
 * shared machine that stalled a few seconds. */
#define LONG_SHUTDOWN "--shutdown-timeout-ms", "60000"
#define PROMPT_MS     15000

void test_sigterm_inflight_request(void)
{
    server_t s;
    server_start(&s, LONG_SHUTDOWN, NULL);
    resp_t r;

    /* An idle keep-alive connection... */
    conn_t *idle = CONN_OPEN(s.port);
    CHECK(conn_sendstr(idle, GET_HELLO) == 0);
    READ_RESP(idle, &r);
    CHECK_STATUS(&r, 200);
    resp_free(&r);

    /* ...and a request in flight: half of its body sent. */
    conn_t *c = CONN_OPEN(s.port);
    CHECK(conn_sendstr(c, "POST /echo HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                          "Content-Length: 10\r\n\r\n01234") == 0);
    h_sleep_ms(300);
    CHECK(kill(s.pid, SIGTERM) == 0);
    int64_t t0 = h_now_ms();

    /* The idle connection is closed promptly. */
    size_t extra = 0;
    CHECKF(conn_wait_closed(idle, PROMPT_MS, &extra), "%s",
           "idle keep-alive connection not closed within 15 s of SIGTERM (shutdown timeout "
           "60 s, so it waited for the in-flight request)");
    conn_close(idle);
    /* The server is still there for the in-flight request. */
    CHECKF(!server_exited(&s),
           "server exited (%s) %lld ms after SIGTERM with a request in "
           "flight",
           server_status_str(&s), (long long)(h_now_ms() - t0));
    check_not_accepting(s.port);

    /* Finish the request: it completes. */
    CHECK(conn_sendstr(c, "56789") == 0);
    READ_RESP(c, &r);
    CHECK_STATUS(&r, 200);
    CHECK_COMMON(&r, 0);
    CHECK_BODY_STR(&r, "0123456789");
    resp_free(&r);
    conn_wait_closed(c, 3000, NULL);
    conn_close(c);

    CHECKF(server_wait_exit(&s, PROMPT_MS), "%s",
           "server did not exit within 15 s after its last request (shutdown timeout 60 s)");
    SERVER_CHECK_EXIT0(&s);
}

void test_sigterm_idle_keepalive(void)
{
    server_t s;
    server_start(&s, LONG_SHUTDOWN, NULL);
    conn_t *c = CONN_OPEN(s.port);
    CHECK(conn_sendstr(c, GET_HELLO) == 0);
    resp_t r;
    READ_RESP(c, &r);
    CHECK_STATUS(&r, 200);
    resp_free(&r);
    int64_t t0 = h_now_ms();
    CHECK(kill(s.pid, SIGTERM) == 0);
    int exited = server_wait_exit(&s, PROMPT_MS);
    int64_t elapsed = h_now_ms() - t0;
    CHECKF(exited,
           "server with only an idle keep-alive connection did not exit "
           "within 15 s of SIGTERM (shutdown timeout is 60 s, so it waited "
           "for the idle connection)%s",
           "");
    fprintf(stderr, "# exited %lld ms after SIGTERM\n", (long long)elapsed);
    SERVER_CHECK_EXIT0(&s);
    size_t extra = 0;
    CHECK(conn_wait_closed(c, 2000, &extra));
    CHECK_INT(extra, ==, 0);
    conn_close(c);
}

void test_sigterm_shutdown_timeout(void)
{
    server_t s;
    server_start(&s, "--shutdown-timeout-ms", "1000", NULL);
    /* A request that never completes. */
    conn_t *c = CONN_OPEN(s.port);
    CHECK(conn_sendstr(c, "POST /echo HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                          "Content-Length: 10\r\n\r\n012") == 0);
    h_sleep_ms(300);
    int64_t t0 = h_now_ms();
    CHECK(kill(s.pid, SIGTERM) == 0);
    /* The upper bound leaves a shared machine room to stall: a request
     * that never completes would hold a server without a timeout forever. */
    int exited = server_wait_exit(&s, 12000);
    int64_t elapsed = h_now_ms() - t0;
    CHECKF(exited,
           "server did not exit within 12 s of SIGTERM with "
           "--shutdown-timeout-ms 1000 (elapsed %lld ms)",
           (long long)elapsed);
    fprintf(stderr, "# exited %lld ms after SIGTERM\n", (long long)elapsed);
    CHECKF(elapsed >= 800,
           "server exited after %lld ms, before the shutdown timeout, "
           "abandoning an in-flight request",
           (long long)elapsed);
    CHECKF(elapsed <= 1000 + 10000,
           "server exited %lld ms after SIGTERM; shutdown timeout is 1000 ms", (long long)elapsed);
    SERVER_CHECK_EXIT0(&s);
    CHECK(conn_wait_closed(c, 2000, NULL));
    conn_close(c);
}

void test_sigint_exits_0(void)
{
    server_t s;
    server_start(&s, NULL);
    CHECK_HELLO(s.port);
    CHECK(kill(s.pid, SIGINT) == 0);
    CHECKF(server_wait_exit(&s, PROMPT_MS), "%s", "server did not exit within 15 s of SIGINT");
    SERVER_CHECK_EXIT0(&s);
}
