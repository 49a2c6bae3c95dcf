/* Test harness for the parkhost HTTP layer.
 *
 * Black-box: every test starts a real `parkhost serve` process (path from
 * $PARKHOST_BIN, plugins from $PARKHOST_SRC), talks to it over loopback TCP
 * with plain blocking POSIX sockets, and stops it with a signal, checking
 * that it exits with status 0.
 */
#ifndef PARKHOST_TESTS_HARNESS_H
#define PARKHOST_TESTS_HARNESS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* ------------------------------------------------------------------ */
/* Failure reporting                                                    */
/* ------------------------------------------------------------------ */

/* Prints "FAIL file:line: message", the tail of every running server's log,
 * kills the servers and exits with status 1. */
void h_fail(const char *file, int line, const char *fmt, ...)
    __attribute__((noreturn, format(printf, 3, 4)));
void h_fail_expr(const char *file, int line, const char *expr, const char *fmt, ...)
    __attribute__((noreturn, format(printf, 4, 5)));

#define CHECK(expr)                                                                                \
    do {                                                                                           \
        if (!(expr)) h_fail(__FILE__, __LINE__, "CHECK(%s) failed", #expr);                        \
    } while (0)

/* CHECKF(expr, fmt, ...): like CHECK with an explanatory message. */
#define CHECKF(expr, ...)                                                                          \
    do {                                                                                           \
        if (!(expr)) h_fail_expr(__FILE__, __LINE__, #expr, __VA_ARGS__);                          \
    } while (0)

#define CHECK_INT(a, op, b)                                                                        \
    do {                                                                                           \
        long long h_a_ = (long long)(a), h_b_ = (long long)(b);                                    \
        if (!(h_a_ op h_b_))                                                                       \
            h_fail(__FILE__, __LINE__, "CHECK(%s %s %s) failed: %lld %s %lld is false", #a, #op,   \
                   #b, h_a_, #op, h_b_);                                                           \
    } while (0)

#define CHECK_STR_EQ(a, b)          h_check_str_eq(__FILE__, __LINE__, #a, (a), (b))
#define CHECK_CONTAINS(hay, needle) h_check_contains(__FILE__, __LINE__, #hay, (hay), (needle), 1)
#define CHECK_NOT_CONTAINS(hay, needle)                                                            \
    h_check_contains(__FILE__, __LINE__, #hay, (hay), (needle), 0)

void h_check_str_eq(const char *file, int line, const char *expr, const char *actual,
                    const char *expected);
void h_check_contains(const char *file, int line, const char *expr, const char *hay,
                      const char *needle, int want);

/* Escapes bytes for printing (\r, \n, \xNN), truncating long input. Returns
 * a static buffer (one of a small ring, so a few can be used at once). */
const char *h_escape(const void *data, size_t len);

/* ------------------------------------------------------------------ */
/* Time                                                                 */
/* ------------------------------------------------------------------ */

int64_t h_now_ms(void);
void h_sleep_ms(int ms);

/* ------------------------------------------------------------------ */
/* Server process                                                       */
/* ------------------------------------------------------------------ */

#define H_PATH_MAX 1024

typedef struct server {
    pid_t pid;
    int port;
    int exited;                /* reaped */
    int status;                /* raw waitpid status once exited */
    char dir[H_PATH_MAX / 2];  /* private temp dir (removed on success) */
    char log_path[H_PATH_MAX]; /* server stderr */
    char out_path[H_PATH_MAX]; /* server stdout */
    char db_path[H_PATH_MAX];
    char pid_path[H_PATH_MAX];
    char upload_path[H_PATH_MAX];
} server_t;

/* Flags for server_start_argv */
#define SRV_NO_HOST_PORT 1 /* do not pass --host/--port (config file test) */

/* Starts `parkhost serve --host 127.0.0.1 --port 0 --plugins ... --db ...`
 * followed by the extra args (NULL-terminated), waits for the
 * "listening on http://127.0.0.1:PORT" line and fills s->port.
 * Fails the test if the server does not come up. */
void server_start(server_t *s, ...) __attribute__((sentinel));
void server_start_argv(server_t *s, int flags, const char *const *extra);

/* Sends sig; returns 1 if the process exited within timeout_ms. */
int server_signal_and_wait(server_t *s, int sig, int timeout_ms);
/* Returns 1 if the process has exited (reaps it). */
int server_exited(server_t *s);
/* Waits up to timeout_ms for exit; returns 1 if exited. */
int server_wait_exit(server_t *s, int timeout_ms);
/* Describes s->status ("exit status 0", "killed by signal 11", ...). */
const char *server_status_str(const server_t *s);

/* SIGTERM, wait (up to 20 s) and CHECK a clean exit with status 0. Removes
 * the temp dir. */
#define SERVER_STOP(s) server_stop_ok(__FILE__, __LINE__, (s))
void server_stop_ok(const char *file, int line, server_t *s);
/* CHECK the already exited server exited with status 0 and clean up. */
#define SERVER_CHECK_EXIT0(s) server_check_exit0(__FILE__, __LINE__, (s))
void server_check_exit0(const char *file, int line, server_t *s);

/* Server log (stderr). log_read returns a malloc'd NUL-terminated copy. */
char *log_read(const server_t *s);
int log_contains(const server_t *s, const char *needle);
/* Polls the log until needle appears; returns 1 if found. */
int log_wait(const server_t *s, const char *needle, int timeout_ms);
/* malloc'd copy of the first log line containing all the given needles
 * (NULL-terminated list), or NULL. */
char *log_find_line(const server_t *s, ...) __attribute__((sentinel));

/* ------------------------------------------------------------------ */
/* Client connections                                                   */
/* ------------------------------------------------------------------ */

typedef struct conn {
    int fd;
    char *buf;
    size_t off, len, cap; /* unread data is buf[off..len) */
    int eof;              /* peer closed (FIN) */
    int reset;            /* connection reset by peer */
} conn_t;

/* Connects to 127.0.0.1:port (5 s connect timeout). NULL + errno on error. */
conn_t *conn_try_open(int port);
#define CONN_OPEN(port) conn_open_at(__FILE__, __LINE__, (port))
conn_t *conn_open_at(const char *file, int line, int port);
/* Closes normally (FIN). */
void conn_close(conn_t *c);
/* Closes with SO_LINGER 0 (RST). */
void conn_abort(conn_t *c);

/* Sends all bytes (MSG_NOSIGNAL). Returns 0, or -1 with errno (EPIPE...). */
int conn_send(conn_t *c, const void *data, size_t len);
int conn_sendstr(conn_t *c, const char *s);
/* printf-style send. Returns 0 or -1. */
int conn_sendf(conn_t *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Sends "METHOD PATH HTTP/1.1", Host: 127.0.0.1, the extra header lines
 * (each ending in CRLF, may be NULL) and, if body is not NULL, a
 * Content-Length header and the body. Returns 0 or -1. */
int conn_send_request(conn_t *c, const char *method, const char *path, const char *extra_headers,
                      const void *body, size_t body_len);

/* Reads more bytes into the buffer, waiting up to timeout_ms.
 * Returns >0 bytes read, 0 on EOF or reset, -1 on timeout. */
long conn_fill(conn_t *c, int timeout_ms);
/* Bytes buffered and not yet consumed. */
size_t conn_pending(const conn_t *c);

/* Waits until the peer closes the connection (EOF or RST) or timeout_ms
 * passes. Discards (but counts) any bytes received meanwhile in *extra.
 * Returns 1 if closed, 0 on timeout. */
int conn_wait_closed(conn_t *c, int timeout_ms, size_t *extra);

/* Reads all data until close (or timeout). Returns malloc'd buffer. */
char *conn_read_all(conn_t *c, int timeout_ms, size_t *len, int *closed);

/* ------------------------------------------------------------------ */
/* Responses                                                            */
/* ------------------------------------------------------------------ */

#define RESP_MAX_HEADERS 64

typedef struct resp_header {
    char *name;
    char *value;
} resp_header_t;

typedef struct resp {
    int status;
    int minor;  /* HTTP/1.x */
    char *head; /* raw head including the final CRLFCRLF, NUL-terminated */
    size_t head_len;
    resp_header_t hdrs[RESP_MAX_HEADERS];
    int nhdrs;
    char *body; /* NUL-terminated for convenience; body_len is exact */
    size_t body_len;
    int body_until_close; /* no Content-Length: body read until close */
} resp_t;

/* Reads one response. head_request: the request was HEAD (no body).
 * Returns 0 on success, -1 on failure (timeout, EOF, parse error) with a
 * description in err (size errsz). */
int conn_read_response(conn_t *c, resp_t *r, int head_request, int timeout_ms, char *err,
                       size_t errsz);
/* Same, failing the test on error. */
#define READ_RESP(c, r)      h_read_resp_at(__FILE__, __LINE__, (c), (r), 0, 10000)
#define READ_RESP_HEAD(c, r) h_read_resp_at(__FILE__, __LINE__, (c), (r), 1, 10000)
void h_read_resp_at(const char *file, int line, conn_t *c, resp_t *r, int head_request,
                    int timeout_ms);
void resp_free(resp_t *r);

/* First header with that name (case-insensitive), or NULL. */
const char *resp_header(const resp_t *r, const char *name);
int resp_header_count(const resp_t *r, const char *name);
/* 1 if the header value, as a comma list, contains token
 * (case-insensitive). */
int resp_header_has_token(const resp_t *r, const char *name, const char *token);

#define CHECK_STATUS(r, code) h_check_status(__FILE__, __LINE__, (r), (code))
void h_check_status(const char *file, int line, const resp_t *r, int code);
#define CHECK_HEADER(r, name, value) h_check_header(__FILE__, __LINE__, (r), (name), (value))
void h_check_header(const char *file, int line, const resp_t *r, const char *name,
                    const char *value);
#define CHECK_BODY(r, data, len) h_check_body(__FILE__, __LINE__, (r), (data), (len))
#define CHECK_BODY_STR(r, str)   h_check_body(__FILE__, __LINE__, (r), (str), strlen(str))
void h_check_body(const char *file, int line, const resp_t *r, const void *data, size_t len);
/* Headers every response must carry: HTTP/1.1 status line, Date (RFC 7231
 * IMF-fixdate), Content-Length matching the body (unless HEAD), a 16
 * lowercase-hex X-Request-Id, no Transfer-Encoding. */
#define CHECK_COMMON(r, head_request) h_check_common(__FILE__, __LINE__, (r), (head_request))
void h_check_common(const char *file, int line, const resp_t *r, int head_request);
/* Checks the response announces close (Connection: close) and that the
 * server then really closes the connection (within 5 s). */
#define CHECK_CLOSES(c, r) h_check_closes(__FILE__, __LINE__, (c), (r))
void h_check_closes(const char *file, int line, conn_t *c, const resp_t *r);

/* ------------------------------------------------------------------ */
/* Convenience requests                                                 */
/* ------------------------------------------------------------------ */

/* New connection, GET path with Connection: close, read the response. */
#define HTTP_GET(port, path, r) h_get_at(__FILE__, __LINE__, (port), (path), (r))
void h_get_at(const char *file, int line, int port, const char *path, resp_t *r);
/* Asserts that the server answers GET /hello with 200 "Hello, World!" on a
 * fresh connection. */
#define CHECK_HELLO(port) h_check_hello(__FILE__, __LINE__, (port))
void h_check_hello(const char *file, int line, int port);
/* Asserts the server process is still running. */
#define CHECK_ALIVE(s) h_check_alive(__FILE__, __LINE__, (s))
void h_check_alive(const char *file, int line, server_t *s);

/* ------------------------------------------------------------------ */
/* Running the CLI to completion                                        */
/* ------------------------------------------------------------------ */

typedef struct cli_result {
    int status; /* raw waitpid status */
    int timed_out;
    char *out; /* stdout, NUL-terminated */
    char *err; /* stderr, NUL-terminated */
} cli_result_t;

/* Runs $PARKHOST_BIN with args (NULL-terminated, not including argv[0]),
 * waits up to timeout_ms (then SIGKILL). */
void cli_run(cli_result_t *res, int timeout_ms, const char *const *args);
void cli_free(cli_result_t *res);

/* Environment */
const char *h_bin(void);
const char *h_src(void);

/* Writes a file (used for config files); fails the test on error. */
void h_write_file(const char *path, const char *content);
/* Makes a private temp dir registered for cleanup; returns its path. */
const char *h_tempdir(void);

/* Runner hooks */
void h_runner_init(void);
void h_runner_finish(void);

#endif
