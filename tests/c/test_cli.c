/* Command line and config file handling. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "harness.h"
#include "tests.h"

static int exit_code(const cli_result_t *res)
{
    return WIFEXITED(res->status) ? WEXITSTATUS(res->status) : -1;
}

/* stderr names line `line` of file `path`: "path:N" or "path" and "line N".
 */
static int names_file_line(const char *err, const char *path, int line)
{
    char a[H_PATH_MAX + 32], b[32];
    snprintf(a, sizeof a, "%s:%d", path, line);
    snprintf(b, sizeof b, "line %d", line);
    return strstr(err, a) || (strstr(err, path) && strstr(err, b));
}

void test_cli_help(void)
{
    cli_result_t res;
    const char *args[] = {"--help", NULL};
    cli_run(&res, 10000, args);
    CHECK(!res.timed_out);
    CHECKF(exit_code(&res) == 0, "--help exited with %d", exit_code(&res));
    CHECK_CONTAINS(res.out, "serve");
    const char *names[] = {"--host",
                           "--port",
                           "--plugins",
                           "--db",
                           "--config",
                           "--max-header-bytes",
                           "--max-body-bytes",
                           "--header-timeout-ms",
                           "--body-timeout-ms",
                           "--keepalive-timeout-ms",
                           "--max-connections",
                           "--shutdown-timeout-ms",
                           "--log-level"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        CHECK_CONTAINS(res.out, names[i]);
    cli_free(&res);
}

void test_cli_unknown_flag(void)
{
    /* As the last argument, and followed by a would-be value. */
    const char *forms[][4] = {{"serve", "--no-such-flag", NULL, NULL},
                              {"serve", "--no-such-flag", "1", NULL}};
    for (int i = 0; i < 2; i++) {
        cli_result_t res;
        cli_run(&res, 10000, forms[i]);
        CHECK(!res.timed_out);
        CHECKF(exit_code(&res) == 2, "form %d: exit %d, want 2 (%s)", i, exit_code(&res),
               WIFSIGNALED(res.status) ? "killed by a signal" : "exited");
        CHECK_CONTAINS(res.err, "--no-such-flag");
        cli_free(&res);
    }
}

void test_cli_bad_value(void)
{
    char plug1[H_PATH_MAX], plug2[H_PATH_MAX], db[H_PATH_MAX];
    snprintf(plug1, sizeof plug1, "%s/plugins", h_src());
    snprintf(plug2, sizeof plug2, "%s/tests/fixtures/plugins", h_src());
    snprintf(db, sizeof db, "%s/x.db", h_tempdir());
    const char *bad[][2] = {
        {"--max-header-bytes", "abc"}, {"--port", "70000"}, {"--log-level", "chatty"}};
    for (int i = 0; i < 3; i++) {
        cli_result_t res;
        const char *args[] = {"serve",     "--host",  "127.0.0.1", "--port", "0",
                              "--plugins", plug1,     "--plugins", plug2,    "--db",
                              db,          bad[i][0], bad[i][1],   NULL};
        cli_run(&res, 10000, args);
        CHECKF(!res.timed_out, "server started despite %s %s", bad[i][0], bad[i][1]);
        CHECKF(WIFEXITED(res.status) && exit_code(&res) != 0, "%s %s: want a non-zero exit status",
               bad[i][0], bad[i][1]);
        CHECKF(strlen(res.err) > 0, "%s %s: no message on stderr", bad[i][0], bad[i][1]);
        cli_free(&res);
    }
}

void test_cli_missing_config(void)
{
    cli_result_t res;
    const char *path = "/nonexistent/parkhost-test.conf";
    const char *args[] = {"serve", "--config", path, NULL};
    cli_run(&res, 10000, args);
    CHECK(!res.timed_out);
    CHECKF(WIFEXITED(res.status) && exit_code(&res) != 0,
           "--config %s: want a non-zero exit status", path);
    CHECK_CONTAINS(res.err, path);
    cli_free(&res);
}

void test_config_file(void)
{
    char path[H_PATH_MAX];
    snprintf(path, sizeof path, "%s/parkhost.conf", h_tempdir());
    h_write_file(path, "# parkhost test configuration\n"
                       "\n"
                       "port = 0\n"
                       "   # indented comment\n"
                       "max-header-bytes = 1024\n"
                       "\n"
                       "max-body-bytes = 100\n"
                       "keepalive-timeout-ms = 5000\n"
                       "log-level = info\n");
    server_t s;
    const char *extra[] = {"--host", "127.0.0.1", "--config", path, NULL};
    server_start_argv(&s, SRV_NO_HOST_PORT, extra);
    CHECK_HELLO(s.port);

    /* max-header-bytes from the file */
    char pad[2001];
    memset(pad, 'a', 2000);
    pad[2000] = '\0';
    conn_t *c = CONN_OPEN(s.port);
    conn_sendf(c, "GET /hello HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Pad: %s\r\n\r\n", pad);
    resp_t r;
    READ_RESP(c, &r);
    CHECK_STATUS(&r, 431);
    resp_free(&r);
    conn_close(c);

    /* max-body-bytes from the file */
    c = CONN_OPEN(s.port);
    CHECK(conn_sendstr(c, "POST /echo HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                          "Content-Length: 101\r\n\r\n") == 0);
    READ_RESP(c, &r);
    CHECK_STATUS(&r, 413);
    resp_free(&r);
    conn_close(c);

    c = CONN_OPEN(s.port);
    CHECK(conn_send_request(c, "POST", "/echo", NULL, "0123456789", 10) == 0);
    READ_RESP(c, &r);
    CHECK_STATUS(&r, 200);
    CHECK_BODY_STR(&r, "0123456789");
    resp_free(&r);
    conn_close(c);
    SERVER_STOP(&s);
}

static void check_bad_config(const char *content, int bad_line)
{
    char path[H_PATH_MAX], db[H_PATH_MAX], plug1[H_PATH_MAX], plug2[H_PATH_MAX];
    const char *dir = h_tempdir();
    snprintf(path, sizeof path, "%s/bad.conf", dir);
    snprintf(db, sizeof db, "%s/x.db", dir);
    snprintf(plug1, sizeof plug1, "%s/plugins", h_src());
    snprintf(plug2, sizeof plug2, "%s/tests/fixtures/plugins", h_src());
    h_write_file(path, content);
    cli_result_t res;
    const char *args[] = {"serve", "--host", "127.0.0.1", "--plugins", plug1, "--plugins",
                          plug2,   "--db",   db,          "--config",  path,  NULL};
    cli_run(&res, 10000, args);
    CHECKF(!res.timed_out, "server started despite a bad config: %s",
           h_escape(content, strlen(content)));
    CHECKF(WIFEXITED(res.status) && exit_code(&res) != 0,
           "bad config: want a non-zero exit status, got %d", exit_code(&res));
    CHECKF(names_file_line(res.err, path, bad_line), "stderr should name %s and line %d: %s", path,
           bad_line, h_escape(res.err, strlen(res.err)));
    cli_free(&res);
}

void test_config_unknown_key(void)
{
    check_bad_config("# comment\n"
                     "port = 0\n"
                     "no-such-key = 1\n"
                     "max-header-bytes = 4096\n",
                     3);
}

void test_config_bad_value(void)
{
    check_bad_config("port = 0\n"
                     "max-header-bytes = lots\n",
                     2);
}

void test_log_level_debug(void)
{
    server_t s;
    server_start(&s, "--log-level", "debug", NULL);
    resp_t r;
    HTTP_GET(s.port, "/hello", &r);
    CHECK_STATUS(&r, 200);
    char needle[64];
    snprintf(needle, sizeof needle, "rid=%s", resp_header(&r, "X-Request-Id"));
    resp_free(&r);
    CHECKF(log_wait(&s, needle, 3000), "no access log line with %s", needle);
    SERVER_STOP(&s);
}
