/* http: an HTTP/1.1 server on one libuv loop, parsing requests with llhttp.
 *
 * Provides: http_server (a listener and its connections, every limit of
 *           http_limits enforced where the bytes arrive), http_request handed
 *           to one handler function, http_respond() to answer it.
 * Owns:     its connections, their buffers and libuv handles, one shared read
 *           buffer per server.
 * Uses:     libuv, llhttp, log. Knows nothing of Lua.
 *
 * A request is handed to the handler once it is complete (head and body). The
 * handler must answer it exactly once with http_respond() or
 * http_respond_error(), now or later from the same loop. Until then the
 * request and every pointer in it stay valid, even if the client goes away
 * (http_request_watch() tells); answering a gone request only logs it and
 * releases it. Pipelined requests on one connection are handed over one at a
 * time, in order, and their responses leave in that order, batched into as
 * few writes as possible.
 *
 * Close path of a connection: conn__close() calls uv_close() on its only
 * handle, the TCP stream; the close callback unlinks it and frees it, unless
 * a request is still with the handler: then it is freed by http_respond().
 */
#ifndef PH_HTTP_H
#define PH_HTTP_H

#include "base/base.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

typedef struct http_server http_server;
typedef struct http_conn http_conn;

typedef struct {
    const char *name; /* as received; NUL-terminated */
    size_t name_len;
    const char *value; /* NUL-terminated, surrounding spaces removed */
    size_t value_len;
} http_header;

typedef struct {
    size_t max_header_bytes;    /* 431 past this */
    size_t max_body_bytes;      /* 413 past this, before reading the body */
    uint64_t header_timeout_ms; /* 408 if the head takes longer */
    uint64_t body_timeout_ms;   /* 408 if the body stalls longer */
    /* 408 for a body slower than body_min_rate bytes/s over a window of
     * body_rate_window_ms (or that does not finish within a window when its
     * rest is smaller); 0: no minimum. Checked by the deadline sweep, never
     * per read. */
    uint64_t body_min_rate;
    uint64_t body_rate_window_ms;
    uint64_t keepalive_timeout_ms; /* idle connections closed after this */
    uint64_t send_timeout_ms;      /* a response not taken by the client in this long: close */
    unsigned max_connections;      /* 503 and close past this (see http_server_share_connections) */
    /* 503 (Retry-After) and close for a connection from an address (an IPv6
     * /64) that has this many open already; 0: no cap. See
     * http_server_share_addresses. Addresses in `cap_exempt` (CIDRs such as
     * "10.0.0.0/8", the trusted proxies: every client behind one comes from
     * its address) are not counted; the strings are read at
     * http_server_new only. */
    unsigned max_conns_per_address;
    const char *const *cap_exempt;
    size_t ncap_exempt;
    /* The access log shows a request's path without its query string (a
     * tracking code or a token in a URL stays out of the log), but for the
     * query parameters named here; the strings must outlive the server. */
    const char *const *log_query;
    size_t nlog_query;
    unsigned pipeline_batch;      /* requests per read before yielding to the loop */
    uint64_t shutdown_timeout_ms; /* grace for in-flight requests on stop */
} http_limits;

typedef struct {
    const char *method; /* "GET", NUL-terminated */
    const char *target; /* raw request target, NUL-terminated */
    size_t target_len;
    const char *path; /* target up to '?', NUL-terminated, not decoded */
    size_t path_len;
    const char *query; /* after '?', NUL-terminated; "" when absent */
    size_t query_len;
    unsigned char version_major, version_minor;
    const http_header *headers;
    size_t nheaders;
    const char *body; /* NULL when empty; not NUL-terminated */
    size_t body_len;
    char id[17];           /* request id: 16 lowercase hex digits, the worker's first */
    int stream_status;     /* set by http_stream_begin */
    uint64_t stream_bytes; /* body bytes written to a stream */
    http_conn *conn;
} http_request;

typedef void (*http_handler_fn)(void *ud, http_request *req);

/* Create a server on `loop`. `limits` is copied. Returns 0, PH_EINVAL or PH_ENOMEM. */
int http_server_new(http_server **out, uv_loop_t *loop, const http_limits *limits,
                    http_handler_fn handler, void *ud);
/* Bind and listen. With port 0 the kernel picks a free port; *bound_port
 * receives the port in use. Returns 0 or a libuv error code (UV_EADDRINUSE...). */
int http_server_listen(http_server *s, const char *host, int port, int *bound_port);
/* Listen on `fd`, a socket already bound and listening (a worker's, made by
 * its supervisor). The server owns it from now on. Returns 0 or a libuv
 * error code. */
int http_server_listen_fd(http_server *s, int fd);
/* max-connections for the whole site: this server publishes its count of
 * open connections in *mine and counts others() more (those of the site's
 * other workers) before it takes one past the limit. */
void http_server_share_connections(http_server *s, _Atomic uint64_t *mine,
                                   uint64_t (*others)(void));
/* max-connections-per-address for the whole site. Open connections are
 * counted per address in a count-min sketch: n counters (n a power of two,
 * at least 2) in two rows of n/2, an address adding one to a counter of
 * each row chosen by a hash under `key`, and its count taken as the smaller
 * of its two counters summed over the site's workers (never less than the
 * truth; more only when another address shares both counters). This server
 * keeps its own counts in mine[0..n) (shared memory the others read;
 * zeroed by whoever replaces a dead worker) and adds others(i), the sum of
 * counter i in the other workers. `key` must be the same in every worker.
 * Without this call the server counts its own connections alone. Call it
 * before listening. Returns 0 or PH_EINVAL (n is not a power of two). */
int http_server_share_addresses(http_server *s, _Atomic uint32_t *mine, size_t n,
                                uint64_t (*others)(size_t i), const uint64_t key[2]);
/* Request ids of this server begin with `worker` (0-255) as two hex digits,
 * so that a log line or an X-Request-Id names the worker that answered. */
void http_server_set_worker(http_server *s, unsigned worker);
/* The site's own error pages: fn appends the whole HTML page for `status`
 * (its request id in req->id) to out and returns 0, or returns non-zero and
 * the server answers with its short built-in page. */
typedef int (*http_error_page_fn)(void *ud, const http_request *req, int status, ph_buf *out);
void http_server_set_error_page(http_server *s, http_error_page_fn fn, void *ud);
/* The Chinese name of a status, for an error page's title ("页面不存在"). */
const char *http_status_zh(int status);
/* Graceful stop: stop accepting, close idle connections, let in-flight
 * requests finish (their responses say Connection: close) and force-close
 * what remains after limits.shutdown_timeout_ms. `done` runs once, when every
 * handle of the server is closed. Calling it again forces the close now. */
void http_server_stop(http_server *s, void (*done)(void *arg), void *arg);
/* Group commit: after http_server_hold() no response bytes leave the
 * process (they queue per connection) until http_server_release(). The
 * worker holds when a database transaction commits and releases once the
 * commit is durable (one fsync for all of a loop turn's commits); with
 * send false, the connections whose output waited are closed unanswered
 * instead, since their answers might tell of writes that were lost. */
void http_server_hold(http_server *s);
void http_server_release(http_server *s, bool send);
/* Free a stopped server (after `done` ran). */
void http_server_free(http_server *s);

/* Answer `req`. `headers` (name/value pairs) and `body` are copied. HEAD
 * requests get the headers alone. Returns 0, or PH_EINVAL (a header name or
 * value with CR, LF or NUL, or a status outside 200..599) without answering,
 * so the caller can answer with an error instead. */
int http_respond(http_request *req, int status, const http_header *headers, size_t nheaders,
                 const char *body, size_t body_len);
/* Answer with the server's own HTML error page for `status`, which shows the
 * request id. `extra` headers (e.g. Allow) may be NULL. */
void http_respond_error(http_request *req, int status, const http_header *extra, size_t nextra);
/* ---- streaming: a response written over time, answered when it ends ----
 *
 * http_stream_begin() sends the status line and headers (chunked framing on
 * HTTP/1.1; on HTTP/1.0 the body ends when the connection closes). Each
 * http_stream_write() queues one piece and starts writing it. The request
 * stays with the handler until http_stream_end(), which answers it. */
int http_stream_begin(http_request *req, int status, const http_header *headers, size_t nheaders);
/* Queue `len` bytes. Returns 0, or PH_ECLOSED when the client is gone. */
int http_stream_write(http_request *req, const char *data, size_t len);
/* Bytes queued on the connection that the kernel has not taken yet. */
size_t http_stream_buffered(const http_request *req);
/* Finish the stream: the request is answered (and freed if the client is gone). */
void http_stream_end(http_request *req);

/* Callbacks for a request that stays with its handler across loop turns.
 * `on_gone` runs once when the client goes away; the handler must then stop
 * its pending work and answer or abandon the request (it is freed then).
 * `on_drain` runs when everything written so far has been taken by the
 * kernel. Either may be NULL. */
typedef void (*http_event_fn)(void *ud, http_request *req);
void http_request_watch(http_request *req, http_event_fn on_gone, http_event_fn on_drain, void *ud);
/* Give up a request whose client is gone: log it (status 499) and free it. */
void http_request_abandon(http_request *req);

/* The client's address as text ("127.0.0.1", "::1") into buf; 0 or a libuv
 * error code. */
int http_request_peer(const http_request *req, char *buf, size_t len);

/* Value of the first header named `name` (any case), or NULL. */
const char *http_request_header(const http_request *req, const char *name);
/* The reason phrase of a status code ("Not Found"). */
const char *http_status_text(int status);

#endif
