/* Malformed requests: 400 and close, and the server keeps serving others. */
#include <stdio.h>
#include <string.h>

#include "harness.h"
#include "tests.h"

#define GET_HELLO "GET /hello HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"

/* Sends req on a fresh connection and expects "400" + close, while another
 * connection, opened before, keeps working. */
static void expect_400(const char *file, int line, const void *req, size_t len)
{
    fprintf(stderr, "# sending: \"%s\"\n", h_escape(req, len));
    server_t s;
    server_start(&s, NULL);

    conn_t *other = conn_open_at(file, line, s.port);
    CHECK(conn_sendstr(other, GET_HELLO) == 0);
    resp_t r;
    h_read_resp_at(file, line, other, &r, 0, 10000);
    h_check_status(file, line, &r, 200);
    resp_free(&r);

    conn_t *c = conn_open_at(file, line, s.port);
    conn_send(c, req, len); /* may fail if the server already closed */
    h_read_resp_at(file, line, c, &r, 0, 10000);
    h_check_status(file, line, &r, 400);
    h_check_common(file, line, &r, 0);
    h_check_closes(file, line, c, &r);
    resp_free(&r);
    conn_close(c);

    /* The connection opened before is still served... */
    CHECK(conn_sendstr(other, GET_HELLO) == 0);
    h_read_resp_at(file, line, other, &r, 0, 10000);
    h_check_status(file, line, &r, 200);
    h_check_body(file, line, &r, "Hello, World!", 13);
    resp_free(&r);
    conn_close(other);
    /* ...and so are new ones. */
    h_check_hello(file, line, s.port);
    h_check_alive(file, line, &s);
    server_stop_ok(file, line, &s);
}

#define EXPECT_400(lit) expect_400(__FILE__, __LINE__, lit, sizeof(lit) - 1)

void test_bad_method(void)
{
    EXPECT_400("G@T / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
}

void test_bad_version(void)
{
    EXPECT_400("GET / HTTP/9.x\r\nHost: 127.0.0.1\r\n\r\n");
}

void test_cl_and_te(void)
{
    EXPECT_400("POST /echo HTTP/1.1\r\nHost: 127.0.0.1\r\n"
               "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n"
               "5\r\nhello\r\n0\r\n\r\n");
}

void test_bad_chunk_size(void)
{
    EXPECT_400("POST /echo HTTP/1.1\r\nHost: 127.0.0.1\r\n"
               "Transfer-Encoding: chunked\r\n\r\nzz\r\n");
}

void test_nul_in_target(void)
{
    EXPECT_400("GET /hel\0lo HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
}

void test_missing_host(void)
{
    EXPECT_400("GET /hello HTTP/1.1\r\n\r\n");
}

void test_http10_without_host(void)
{
    server_t s;
    server_start(&s, NULL);
    conn_t *c = CONN_OPEN(s.port);
    CHECK(conn_sendstr(c, "GET /hello HTTP/1.0\r\n\r\n") == 0);
    resp_t r;
    READ_RESP(c, &r);
    CHECK_STATUS(&r, 200);
    CHECK_COMMON(&r, 0);
    CHECK_BODY_STR(&r, "Hello, World!");
    CHECK_CLOSES(c, &r);
    resp_free(&r);
    conn_close(c);
    SERVER_STOP(&s);
}
