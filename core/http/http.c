#include "http/http.h"
#include "base/base.h"
#include "log/log.h"

#include <assert.h>
#include <llhttp.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

enum {
    HTTP__READ_BUF = 64 * 1024,
    /* Buffers above this are given back when a connection goes idle. */
    HTTP__KEEP_BUF = 8 * 1024,
    /* Bytes of headers of one request counted per header on top of name and
     * value, so a flood of empty headers still meets max_header_bytes. */
    HTTP__HEADER_OVERHEAD = 4,
    /* Counters of the per-address connection sketch when no workers share
     * one (http_server_share_addresses): two rows of 4096. */
    HTTP__ADDR_COUNTERS = 8192,
};

/* A network not counted by max-connections-per-address (a trusted proxy). */
typedef struct {
    int family; /* AF_INET or AF_INET6 */
    unsigned char net[16];
    int bits;
} http__net;

typedef enum {
    CONN_IDLE,     /* waiting for the first byte of a request */
    CONN_HEAD,     /* receiving the request line and headers */
    CONN_BODY,     /* receiving the body */
    CONN_HANDLING, /* the request is with the handler */
} conn_state;

typedef struct {
    uint32_t name_off, name_len, value_off, value_len;
} conn_hdr_span;

struct http_conn {
    uv_tcp_t tcp; /* the connection's only handle; see the close path in http.h */
    http_server *srv;
    http_conn *prev, *next; /* the server's list of open connections */
    llhttp_t parser;
    conn_state state;
    unsigned nreq;  /* requests answered on this connection */
    unsigned batch; /* requests handled since the last read or write */
    uint64_t deadline;
    uint64_t write_started;
    /* body-min-rate: the body's expected length (UINT64_MAX: chunked), and
     * the loop time and body bytes at the start of the current window. */
    uint64_t body_expect;
    uint64_t rate_since;
    size_t rate_bytes;
    /* max-connections-per-address: the two sketch counters this connection
     * holds (addr_counted), given back when its handle closes. */
    uint32_t addr_idx[2];
    bool addr_counted;
    int err_status;      /* 4xx chosen by a parser callback that stopped parsing */
    const char *err_why; /* and why, for the log */
    bool reading, writing, in_feed, closing, gone, keep_alive, close_after;
    bool held; /* in the server's held list (http_server_hold) */
    http_conn *next_held;
    bool in_value; /* the parser is inside a header value */
    bool have_req; /* `req` describes the message being parsed (its head is complete) */

    /* The request being received: method, target and header bytes in `head`
     * (NUL-separated), header positions in `spans`, the body in `body`. */
    ph_buf head;
    conn_hdr_span *spans;
    size_t nspans, capspans;
    http_header *hdrs;
    size_t caphdrs;
    ph_buf body;
    http_request req;
    uint64_t req_start_ns;

    /* A request that stays with the handler across loop turns. */
    bool streaming, stream_chunked, stream_head_only;
    http_event_fn on_gone, on_drain;
    void *watch_ud;

    ph_buf pending; /* received bytes not parsed yet (reading stopped meanwhile) */
    ph_buf out;     /* responses waiting for the next write */
    ph_buf wbuf;    /* the bytes of the write in flight */
    uv_write_t wreq;
};

struct http_server {
    uv_loop_t *loop;
    uv_tcp_t listener;
    uv_timer_t sweep;      /* checks connection deadlines */
    uv_timer_t stop_timer; /* forces the close after shutdown_timeout_ms */
    http_limits lim;
    http_handler_fn handler;
    void *ud;
    http_error_page_fn error_page; /* the site's error pages, or NULL */
    void *error_ud;
    llhttp_settings_t settings;
    http_conn *conns;
    unsigned nconns;
    _Atomic uint64_t *conns_mine;   /* where nconns is published, or NULL */
    uint64_t (*conns_others)(void); /* connections open in the site's other workers */
    /* Open connections per address (http_server_share_addresses): this
     * server's counters, n of them, the others' sums, the hash key. */
    _Atomic uint32_t *addr_mine;
    _Atomic uint32_t *addr_own; /* addr_mine when no one shares it: ours to free */
    size_t addr_n;
    uint64_t (*addr_others)(size_t i);
    uint64_t addr_key[2];
    http__net *exempt;
    size_t nexempt;
    unsigned open_handles; /* listener, sweep, stop_timer still open */
    bool listening, stopping, timers_closing;
    bool holding;         /* output waits for http_server_release */
    http_conn *held_head; /* connections with output waiting */
    void (*done)(void *);
    void *done_arg;
    uint64_t rid_seed, rid_counter;
    uint8_t rid_worker; /* the first two hex digits of every request id */
    time_t date_sec;
    char date_hdr[48]; /* "Date: ...\r\n" */
    size_t date_len;
    char rbuf[HTTP__READ_BUF]; /* shared by every read of this server's loop */
};

static void conn__close(http_conn *c);
static void conn__flush(http_conn *c);
static void conn__continue(http_conn *c);
static void server__maybe_done(http_server *s);

/* ---- small helpers ------------------------------------------------------ */

const char *http_status_text(int status)
{
    switch (status) {
    case 100: return "Continue";
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 303: return "See Other";
    case 304: return "Not Modified";
    case 307: return "Temporary Redirect";
    case 308: return "Permanent Redirect";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 410: return "Gone";
    case 413: return "Content Too Large";
    case 415: return "Unsupported Media Type";
    case 417: return "Expectation Failed";
    case 422: return "Unprocessable Content";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    }
    return status < 300   ? "OK"
           : status < 400 ? "Redirect"
           : status < 500 ? "Client Error"
                          : "Server Error";
}

/* The Chinese line of the server's own error pages. */
const char *http_status_zh(int status)
{
    switch (status) {
    case 400: return "请求格式有误";
    case 403: return "没有权限访问";
    case 404: return "页面不存在";
    case 405: return "不支持此请求方法";
    case 408: return "请求超时";
    case 410: return "内容已撤下";
    case 413: return "提交的内容过大";
    case 414: return "网址过长";
    case 429: return "访问过于频繁";
    case 431: return "请求头过大";
    case 500: return "服务器内部错误";
    case 502: return "上游服务错误";
    case 503: return "服务暂时不可用";
    case 504: return "上游服务超时";
    }
    return status < 500 ? "请求有误" : "服务器错误";
}

static uint64_t http__splitmix64(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

static void http__new_id(http_server *s, char id[17])
{
    static const char hex[] = "0123456789abcdef";
    uint64_t v = http__splitmix64(s->rid_seed + s->rid_counter++);
    v = (v & UINT64_C(0x00ffffffffffffff)) | (uint64_t)s->rid_worker << 56;
    for (int i = 15; i >= 0; i--, v >>= 4)
        id[i] = hex[v & 15];
    id[16] = 0;
}

static void http__refresh_date(http_server *s)
{
    time_t now = time(NULL);
    if (now == s->date_sec) return;
    struct tm tm;
    gmtime_r(&now, &tm);
    s->date_len =
        strftime(s->date_hdr, sizeof s->date_hdr, "Date: %a, %d %b %Y %H:%M:%S GMT\r\n", &tm);
    s->date_sec = now;
}

static bool http__token_eq(const char *a, size_t alen, const char *b)
{
    size_t blen = strlen(b);
    return alen == blen && strncasecmp(a, b, blen) == 0;
}

/* ---- parser callbacks --------------------------------------------------- */

static http_conn *conn__of(llhttp_t *p)
{
    return p->data;
}

/* Append request-head bytes, enforcing max_header_bytes (431). */
static int conn__head_append(http_conn *c, const char *at, size_t n)
{
    size_t used = c->head.len + n + c->nspans * HTTP__HEADER_OVERHEAD;
    if (used > c->srv->lim.max_header_bytes) {
        c->err_status = 431;
        c->err_why = "request head larger than max-header-bytes";
        return HPE_USER;
    }
    if (ph_buf_append(&c->head, at, n)) {
        c->err_status = 503;
        return HPE_USER;
    }
    return 0;
}

static int conn__head_nul(http_conn *c)
{
    return conn__head_append(c, "", 1);
}

static int on_message_begin(llhttp_t *p)
{
    http_conn *c = conn__of(p);
    http_server *s = c->srv;
    c->state = CONN_HEAD;
    c->head.len = 0;
    c->body.len = 0;
    c->nspans = 0;
    c->in_value = false;
    c->err_status = 0;
    c->err_why = NULL;
    c->req_start_ns = uv_hrtime();
    c->have_req = false;
    /* The first request's head time counts from the connection's opening. */
    if (c->nreq > 0) c->deadline = uv_now(s->loop) + s->lim.header_timeout_ms;
    return 0;
}

static int on_url(llhttp_t *p, const char *at, size_t n)
{
    return conn__head_append(conn__of(p), at, n);
}

static int on_url_complete(llhttp_t *p)
{
    return conn__head_nul(conn__of(p));
}

static int conn__push_span(http_conn *c)
{
    if (c->nspans == c->capspans) {
        size_t cap = c->capspans ? c->capspans * 2 : 16;
        conn_hdr_span *ns = realloc(c->spans, cap * sizeof *ns);
        if (!ns) {
            c->err_status = 503;
            return HPE_USER;
        }
        c->spans = ns;
        c->capspans = cap;
    }
    conn_hdr_span *sp = &c->spans[c->nspans++];
    sp->name_off = (uint32_t)c->head.len;
    sp->name_len = 0;
    sp->value_off = 0;
    sp->value_len = 0;
    return 0;
}

static int on_header_field(llhttp_t *p, const char *at, size_t n)
{
    http_conn *c = conn__of(p);
    if (c->nspans == 0 || c->in_value) {
        int rc = conn__push_span(c);
        if (rc) return rc;
        c->in_value = false;
    }
    c->spans[c->nspans - 1].name_len += (uint32_t)n;
    return conn__head_append(c, at, n);
}

static int on_header_field_complete(llhttp_t *p)
{
    http_conn *c = conn__of(p);
    int rc = conn__head_nul(c);
    if (rc) return rc;
    c->in_value = true;
    c->spans[c->nspans - 1].value_off = (uint32_t)c->head.len;
    return 0;
}

static int on_header_value(llhttp_t *p, const char *at, size_t n)
{
    http_conn *c = conn__of(p);
    c->spans[c->nspans - 1].value_len += (uint32_t)n;
    return conn__head_append(c, at, n);
}

static int on_header_value_complete(llhttp_t *p)
{
    http_conn *c = conn__of(p);
    conn_hdr_span *sp = &c->spans[c->nspans - 1];
    /* llhttp leaves trailing whitespace in values. */
    while (sp->value_len > 0 && (c->head.data[sp->value_off + sp->value_len - 1] == ' ' ||
                                 c->head.data[sp->value_off + sp->value_len - 1] == '\t'))
        sp->value_len--;
    c->head.len = sp->value_off + sp->value_len;
    return conn__head_nul(c);
}

static int on_headers_complete(llhttp_t *p)
{
    http_conn *c = conn__of(p);
    http_server *s = c->srv;
    http_request *r = &c->req;

    /* The head is final: turn offsets into pointers. */
    if (c->nspans > c->caphdrs) {
        http_header *nh = realloc(c->hdrs, c->nspans * sizeof *nh);
        if (!nh) {
            c->err_status = 503;
            return -1;
        }
        c->hdrs = nh;
        c->caphdrs = c->nspans;
    }
    for (size_t i = 0; i < c->nspans; i++) {
        c->hdrs[i].name = c->head.data + c->spans[i].name_off;
        c->hdrs[i].name_len = c->spans[i].name_len;
        c->hdrs[i].value = c->head.data + c->spans[i].value_off;
        c->hdrs[i].value_len = c->spans[i].value_len;
    }
    memset(r, 0, sizeof *r);
    c->have_req = true;
    r->conn = c;
    r->headers = c->hdrs;
    r->nheaders = c->nspans;
    r->method = llhttp_method_name((llhttp_method_t)llhttp_get_method(p));
    r->target = c->head.data; /* the URL is the first NUL-terminated piece */
    r->target_len = strlen(r->target);
    r->version_major = llhttp_get_http_major(p);
    r->version_minor = llhttp_get_http_minor(p);
    http__new_id(s, r->id);

    if (r->version_major == 1 && r->version_minor == 1 && !http_request_header(r, "host")) {
        c->err_status = 400;
        c->err_why = "HTTP/1.1 request without a Host header";
        return -1;
    }
    bool has_body = (p->flags & F_CHUNKED) || ((p->flags & F_CONTENT_LENGTH) && p->content_length);
    if ((p->flags & F_CONTENT_LENGTH) && p->content_length > s->lim.max_body_bytes) {
        c->err_status = 413;
        c->err_why = "Content-Length larger than max-body-bytes";
        return -1;
    }
    if (has_body) {
        const char *expect = http_request_header(r, "expect");
        if (expect && r->version_minor >= 1) {
            if (strcasecmp(expect, "100-continue") != 0) {
                c->err_status = 417;
                c->err_why = "unsupported Expect header";
                return -1;
            }
            static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
            if (ph_buf_append(&c->out, cont, sizeof cont - 1)) {
                c->err_status = 503;
                return -1;
            }
            conn__flush(c);
        }
        c->state = CONN_BODY;
        c->deadline = uv_now(s->loop) + s->lim.body_timeout_ms;
        c->body_expect = (p->flags & F_CONTENT_LENGTH) ? p->content_length : UINT64_MAX;
        c->rate_since = uv_now(s->loop);
        c->rate_bytes = 0;
    }
    return 0;
}

static int on_body(llhttp_t *p, const char *at, size_t n)
{
    http_conn *c = conn__of(p);
    if (c->body.len + n > c->srv->lim.max_body_bytes) {
        c->err_status = 413;
        c->err_why = "chunked body larger than max-body-bytes";
        return HPE_USER;
    }
    if (ph_buf_append(&c->body, at, n)) {
        c->err_status = 503;
        return HPE_USER;
    }
    c->deadline = uv_now(c->srv->loop) + c->srv->lim.body_timeout_ms;
    return 0;
}

static int on_message_complete(llhttp_t *p)
{
    http_conn *c = conn__of(p);
    /* No protocol switch (Upgrade, CONNECT) here: answer, then close. */
    c->keep_alive = llhttp_should_keep_alive(p) && !llhttp_get_upgrade(p);
    c->state = CONN_HANDLING;
    c->deadline = 0;
    return HPE_PAUSED; /* hand the request over outside the parser */
}

/* ---- responses ---------------------------------------------------------- */

static bool http__header_ok(const char *p, size_t n)
{
    /* CR, LF and NUL are the three bytes that could split a header. */
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c <= '\r' && (c == '\r' || c == '\n' || c == 0)) return false;
    }
    return true;
}

/* Headers the core writes itself; a handler may not set them. */
static bool http__reserved_header(const char *n, size_t len)
{
    switch (len) {
    case 10: return http__token_eq(n, len, "connection");
    case 14: return http__token_eq(n, len, "content-length");
    case 17: return http__token_eq(n, len, "transfer-encoding");
    }
    return false;
}

/* Append s[0..len) to out (n of cap used), percent-escaping what could
 * confuse a log reader: spaces, controls, quotes. */
static size_t http__log_escape(char *out, size_t n, size_t cap, const char *s, size_t len)
{
    static const char hex[] = "0123456789ABCDEF";
    for (size_t i = 0; i < len && n + 4 < cap; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch <= 0x20 || ch == 0x7f || ch == '"' || ch == '\\') {
            out[n++] = '%';
            out[n++] = hex[ch >> 4];
            out[n++] = hex[ch & 15];
        } else {
            out[n++] = (char)ch;
        }
    }
    return n;
}

/* The path, and of its query only the parameters the log may show. */
static void http__log_access(http_conn *c, const http_request *r, int status, size_t bytes)
{
    if (!log_enabled(LOG_INFO)) return;
    const http_limits *lim = &c->srv->lim;
    char path[512];
    const char *q = r->target_len ? memchr(r->target, '?', r->target_len) : NULL;
    size_t plen = q ? (size_t)(q - r->target) : r->target_len;
    size_t n = http__log_escape(path, 0, sizeof path, r->target, plen);
    if (q && lim->nlog_query) {
        const char *end = r->target + r->target_len, *p = q + 1;
        bool first = true;
        while (p < end) {
            const char *amp = memchr(p, '&', (size_t)(end - p));
            size_t len = amp ? (size_t)(amp - p) : (size_t)(end - p);
            const char *eq = memchr(p, '=', len);
            size_t nl = eq ? (size_t)(eq - p) : len;
            for (size_t i = 0; i < lim->nlog_query; i++) {
                if (strlen(lim->log_query[i]) != nl || memcmp(lim->log_query[i], p, nl)) continue;
                if (n + 2 < sizeof path) path[n++] = first ? '?' : '&';
                n = http__log_escape(path, n, sizeof path, p, len);
                first = false;
                break;
            }
            p += len + 1;
        }
    }
    path[n] = 0;
    double ms = (double)(uv_hrtime() - c->req_start_ns) / 1e6;
    log_msg(LOG_INFO, "access method=%s path=%s status=%d bytes=%zu ms=%.3f rid=%s%s",
            r->method ? r->method : "-", n ? path : "-", status, bytes, ms, r->id,
            c->gone ? " client=gone" : "");
}

static void conn__free(http_conn *c)
{
    ph_buf_free(&c->head);
    ph_buf_free(&c->body);
    ph_buf_free(&c->pending);
    ph_buf_free(&c->out);
    ph_buf_free(&c->wbuf);
    free(c->spans);
    free(c->hdrs);
    free(c);
}

/* Give large buffers back while the connection waits. */
static void conn__trim(http_conn *c)
{
    if (c->head.cap > HTTP__KEEP_BUF) ph_buf_free(&c->head);
    if (c->body.cap > HTTP__KEEP_BUF) ph_buf_free(&c->body);
    if (!c->writing && c->wbuf.cap > HTTP__KEEP_BUF) ph_buf_free(&c->wbuf);
    if (c->out.len == 0 && c->out.cap > HTTP__KEEP_BUF) ph_buf_free(&c->out);
}

/* Append a status line and headers to `out`, with room reserved for
 * `body_room` more bytes. `content_length` NULL: no Content-Length (a stream). */
static int http__append_head(http_conn *c, const http_request *r, int status, const http_header *hs,
                             size_t nh, const http_header *extra, size_t nextra,
                             const size_t *content_length, size_t body_room)
{
    http_server *s = c->srv;
    bool no_body = status == 204 || status == 304;
    size_t need = 128 + s->date_len + body_room;
    for (size_t i = 0; i < nh; i++)
        need += hs[i].name_len + hs[i].value_len + 4;
    for (size_t i = 0; i < nextra; i++)
        need += extra[i].name_len + extra[i].value_len + 4;
    if (ph_buf_reserve(&c->out, need)) return PH_ENOMEM;

    char *w = c->out.data + c->out.len;
#define PUT(p, n) (memcpy(w, (p), (n)), w += (n))
#define PUTS(lit) PUT(lit, sizeof(lit) - 1)
    if (status == 200) {
        PUTS("HTTP/1.1 200 OK\r\n"); /* the common case, without formatting */
    } else {
        PUTS("HTTP/1.1 ");
        w += ph_utoa((uint64_t)status, w);
        *w++ = ' ';
        const char *txt = http_status_text(status);
        PUT(txt, strlen(txt));
        PUTS("\r\n");
    }
    http__refresh_date(s);
    PUT(s->date_hdr, s->date_len);
    if (!no_body && content_length) {
        PUTS("Content-Length: ");
        w += ph_utoa(*content_length, w);
        PUTS("\r\n");
    }
    PUTS("X-Request-Id: ");
    PUT(r->id, 16);
    PUTS("\r\n");
    for (int pass = 0; pass < 2; pass++) {
        const http_header *list = pass ? extra : hs;
        size_t n = pass ? nextra : nh;
        for (size_t i = 0; i < n; i++) {
            PUT(list[i].name, list[i].name_len);
            PUTS(": ");
            PUT(list[i].value, list[i].value_len);
            PUTS("\r\n");
        }
    }
    bool close = !c->keep_alive || c->close_after || s->stopping || c->gone;
    if (close) {
        PUTS("Connection: close\r\n");
        c->close_after = true;
    } else if (r->version_minor == 0) {
        PUTS("Connection: keep-alive\r\n");
    }
    PUTS("\r\n");
#undef PUTS
#undef PUT
    c->out.len = (size_t)(w - c->out.data);
    assert(c->out.len + body_room <= c->out.cap);
    return 0;
}

static int http__append_response(http_conn *c, const http_request *r, int status,
                                 const http_header *hs, size_t nh, const http_header *extra,
                                 size_t nextra, const char *body, size_t blen)
{
    bool head_only = r->method && strcmp(r->method, "HEAD") == 0;
    bool with_body = !head_only && status != 204 && status != 304;
    if (http__append_head(c, r, status, hs, nh, extra, nextra, &blen, with_body ? blen : 0))
        return PH_ENOMEM;
    if (with_body && blen) {
        memcpy(c->out.data + c->out.len, body, blen);
        c->out.len += blen;
    }
    return 0;
}

/* Common tail of every answer to a handed-over request. */
static void conn__answered(http_conn *c)
{
    http_server *s = c->srv;
    c->state = CONN_IDLE;
    c->streaming = false;
    c->on_gone = c->on_drain = NULL;
    c->watch_ud = NULL;
    c->nreq++;
    c->deadline = uv_now(s->loop) + s->lim.keepalive_timeout_ms;
    llhttp_resume(&c->parser);
    if (!c->in_feed) conn__continue(c);
}

static int http__respond(http_request *r, int status, const http_header *hs, size_t nh,
                         const http_header *extra, size_t nextra, const char *body, size_t blen)
{
    http_conn *c = r->conn;
    assert(c->state == CONN_HANDLING);
    if (c->gone) {
        http__log_access(c, r, status, blen);
        conn__free(c);
        return 0;
    }
    if (http__append_response(c, r, status, hs, nh, extra, nextra, body, blen)) {
        log_msg(LOG_ERROR, "out of memory building a %zu-byte response rid=%s", blen, r->id);
        c->close_after = true;
    }
    http__log_access(c, r, status, blen);
    conn__answered(c);
    return 0;
}

int http_respond(http_request *r, int status, const http_header *hs, size_t nh, const char *body,
                 size_t blen)
{
    if (status < 200 || status > 599) return PH_EINVAL;
    for (size_t i = 0; i < nh; i++) {
        if (hs[i].name_len == 0 || !http__header_ok(hs[i].name, hs[i].name_len) ||
            !http__header_ok(hs[i].value, hs[i].value_len))
            return PH_EINVAL;
        /* The core owns framing: these are always its own. */
        if (http__reserved_header(hs[i].name, hs[i].name_len)) return PH_EINVAL;
    }
    return http__respond(r, status, hs, nh, NULL, 0, body, blen);
}

static size_t http__error_page(char *buf, size_t cap, int status, const char *id)
{
    int n = snprintf(buf, cap,
                     "<!DOCTYPE html>\n<html lang=\"zh-CN\"><head><meta charset=\"utf-8\">"
                     "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
                     "<title>%d %s</title></head>\n<body><main><h1>%d %s</h1>"
                     "<p>请求编号：<code>%s</code></p><p><a href=\"/\">返回首页</a></p>"
                     "</main></body></html>\n",
                     status, http_status_zh(status), status, http_status_zh(status), id);
    return n < 0 ? 0 : (size_t)n < cap ? (size_t)n : cap - 1;
}

static const http_header http__html_type = {"Content-Type", 12, "text/html; charset=utf-8", 24};

void http_server_set_error_page(http_server *s, http_error_page_fn fn, void *ud)
{
    s->error_page = fn;
    s->error_ud = ud;
}

void http_respond_error(http_request *r, int status, const http_header *extra, size_t nextra)
{
    http_server *s = r->conn->srv;
    if (s->error_page) {
        ph_buf b = {0};
        if (s->error_page(s->error_ud, r, status, &b) == 0) {
            http__respond(r, status, &http__html_type, 1, extra, nextra, b.data, b.len);
            ph_buf_free(&b);
            return;
        }
        ph_buf_free(&b);
    }
    char page[1024];
    size_t n = http__error_page(page, sizeof page, status, r->id);
    http__respond(r, status, &http__html_type, 1, extra, nextra, page, n);
}

int http_stream_begin(http_request *r, int status, const http_header *hs, size_t nh)
{
    http_conn *c = r->conn;
    assert(c->state == CONN_HANDLING && !c->streaming);
    if (status < 200 || status > 599 || status == 204 || status == 304) return PH_EINVAL;
    for (size_t i = 0; i < nh; i++)
        if (hs[i].name_len == 0 || !http__header_ok(hs[i].name, hs[i].name_len) ||
            !http__header_ok(hs[i].value, hs[i].value_len) ||
            http__reserved_header(hs[i].name, hs[i].name_len))
            return PH_EINVAL;
    if (c->gone || c->closing) return PH_ECLOSED;
    c->streaming = true;
    c->stream_head_only = strcmp(r->method, "HEAD") == 0;
    c->stream_chunked = r->version_minor >= 1 && !c->stream_head_only;
    http_header framing = {"Transfer-Encoding", 17, "chunked", 7};
    if (!c->stream_chunked) c->keep_alive = false; /* the close ends the body */
    if (http__append_head(c, r, status, hs, nh, c->stream_chunked ? &framing : NULL,
                          c->stream_chunked ? 1 : 0, NULL, 0)) {
        conn__close(c);
        return PH_ENOMEM;
    }
    r->stream_status = status;
    conn__flush(c);
    return 0;
}

int http_stream_write(http_request *r, const char *data, size_t len)
{
    http_conn *c = r->conn;
    assert(c->streaming);
    if (c->gone || c->closing) return PH_ECLOSED;
    if (len == 0 || c->stream_head_only) return 0;
    r->stream_bytes += len;
    char size[24];
    size_t sn = 0;
    if (c->stream_chunked) {
        static const char hex[] = "0123456789abcdef";
        char tmp[16];
        size_t n = 0, v = len;
        while (v) {
            tmp[n++] = hex[v & 15];
            v >>= 4;
        }
        while (n)
            size[sn++] = tmp[--n];
        size[sn++] = '\r';
        size[sn++] = '\n';
    }
    if (ph_buf_reserve(&c->out, sn + len + 2)) {
        conn__close(c);
        return PH_ENOMEM;
    }
    ph_buf_append(&c->out, size, sn);
    ph_buf_append(&c->out, data, len);
    if (c->stream_chunked) ph_buf_append(&c->out, "\r\n", 2);
    conn__flush(c);
    return 0;
}

size_t http_stream_buffered(const http_request *r)
{
    const http_conn *c = r->conn;
    return c->out.len + (c->writing ? c->wbuf.len : 0);
}

void http_stream_end(http_request *r)
{
    http_conn *c = r->conn;
    assert(c->state == CONN_HANDLING && c->streaming);
    http__log_access(c, r, r->stream_status, r->stream_bytes);
    if (c->gone) {
        conn__free(c);
        return;
    }
    if (c->stream_chunked && !c->closing) ph_buf_append(&c->out, "0\r\n\r\n", 5);
    if (!c->keep_alive || c->srv->stopping) c->close_after = true;
    conn__answered(c);
    conn__flush(c);
}

void http_request_watch(http_request *r, http_event_fn on_gone, http_event_fn on_drain, void *ud)
{
    http_conn *c = r->conn;
    c->on_gone = on_gone;
    c->on_drain = on_drain;
    c->watch_ud = ud;
}

void http_request_abandon(http_request *r)
{
    http_conn *c = r->conn;
    assert(c->state == CONN_HANDLING);
    http__log_access(c, r, 499, r->stream_bytes);
    if (c->gone) {
        conn__free(c);
        return;
    }
    c->close_after = true;
    conn__answered(c);
    conn__close(c);
}

int http_request_peer(const http_request *r, char *buf, size_t len)
{
    struct sockaddr_storage ss;
    int sl = sizeof ss;
    int rc = uv_tcp_getpeername(&r->conn->tcp, (struct sockaddr *)&ss, &sl);
    if (rc < 0) return rc;
    if (ss.ss_family == AF_INET6) return uv_ip6_name((struct sockaddr_in6 *)&ss, buf, len);
    return uv_ip4_name((struct sockaddr_in *)&ss, buf, len);
}

const char *http_request_header(const http_request *r, const char *name)
{
    size_t n = strlen(name);
    for (size_t i = 0; i < r->nheaders; i++)
        if (r->headers[i].name_len == n && strncasecmp(r->headers[i].name, name, n) == 0)
            return r->headers[i].value;
    return NULL;
}

/* ---- connection life ---------------------------------------------------- */

/* Answer a request the parser refused, then close. */
static void conn__fail(http_conn *c, int status, const char *why)
{
    http_request *r = &c->req;
    if (!c->have_req) {
        /* Refused before its head was complete: describe what we know. */
        memset(r, 0, sizeof *r);
        r->conn = c;
        r->target = "";
        http__new_id(c->srv, r->id);
    }
    log_msg(LOG_WARN, "refused request with %d: %s rid=%s", status, why, r->id);
    c->state = CONN_HANDLING;
    c->close_after = true;
    bool in_feed = c->in_feed;
    c->in_feed = true; /* no parsing after this */
    http_respond_error(r, status, NULL, 0);
    c->in_feed = in_feed;
    c->pending.len = 0;
    conn__flush(c);
}

static void conn__dispatch(http_conn *c)
{
    http_request *r = &c->req;
    /* Copy the path and the query, each NUL-terminated, after the headers in
     * the head buffer so that r->target stays whole. */
    const char *q = memchr(r->target, '?', r->target_len);
    size_t plen = q ? (size_t)(q - r->target) : r->target_len;
    size_t qlen = q ? r->target_len - plen - 1 : 0;
    size_t at = c->head.len;
    if (ph_buf_reserve(&c->head, plen + qlen + 2)) {
        conn__fail(c, 503, "out of memory");
        return;
    }
    char *base = c->head.data; /* may have moved: rebase every pointer */
    for (size_t i = 0; i < c->nspans; i++) {
        c->hdrs[i].name = base + c->spans[i].name_off;
        c->hdrs[i].value = base + c->spans[i].value_off;
    }
    r->target = base;
    char *path = base + at, *query = path + plen + 1;
    memcpy(path, r->target, plen);
    path[plen] = 0;
    if (qlen) memcpy(query, base + plen + 1, qlen);
    query[qlen] = 0;
    c->head.len += plen + qlen + 2;
    r->path = path;
    r->path_len = plen;
    r->query = query;
    r->query_len = qlen;
    r->body = c->body.len ? c->body.data : NULL;
    r->body_len = c->body.len;
    c->srv->handler(c->srv->ud, r);
}

/* Parse as much of data[0..len) as can be handled now. Returns the number of
 * bytes consumed; the rest must be kept and fed again later. */
static size_t conn__feed(http_conn *c, const char *data, size_t len)
{
    size_t off = 0;
    c->in_feed = true;
    while (off < len && !c->closing && !c->close_after && c->state != CONN_HANDLING) {
        if (c->batch >= c->srv->lim.pipeline_batch) break;
        llhttp_errno_t e = llhttp_execute(&c->parser, data + off, len - off);
        if (e == HPE_OK) {
            off = len;
        } else if (e == HPE_PAUSED) {
            off = (size_t)(llhttp_get_error_pos(&c->parser) - data);
            c->batch++;
            conn__dispatch(c);
        } else if (e == HPE_PAUSED_UPGRADE) {
            /* No protocol switching here: the request was answered, stop. */
            off = len;
            c->close_after = true;
        } else {
            off = len;
            conn__fail(c, c->err_status ? c->err_status : 400,
                       c->err_why ? c->err_why : llhttp_get_error_reason(&c->parser));
        }
    }
    c->in_feed = false;
    return off;
}

static void on_write(uv_write_t *wr, int status)
{
    http_conn *c = wr->data;
    c->writing = false;
    c->wbuf.len = 0;
    if (c->closing) return; /* cancelled by uv_close; the close callback frees */
    if (status < 0) {
        log_msg(LOG_DEBUG, "write failed: %s", uv_strerror(status));
        conn__close(c);
        return;
    }
    c->batch = 0;
    if (c->out.len) {
        conn__flush(c);
        return;
    }
    if (c->state == CONN_HANDLING) {
        if (c->on_drain) c->on_drain(c->watch_ud, &c->req);
        return;
    }
    conn__continue(c);
}

/* Start a write of everything in `out`, unless one is in flight. */
static void conn__flush(http_conn *c)
{
    if (c->closing || c->writing || c->held) return;
    if (c->out.len == 0) {
        if (c->close_after && c->state != CONN_HANDLING) conn__close(c);
        return;
    }
    if (c->srv->holding) { /* until the writes behind this output are durable */
        c->held = true;
        c->next_held = c->srv->held_head;
        c->srv->held_head = c;
        return;
    }
    ph_buf tmp = c->wbuf;
    c->wbuf = c->out;
    c->out = tmp;
    c->out.len = 0;
    uv_buf_t b = uv_buf_init(c->wbuf.data, (unsigned)c->wbuf.len);
    c->wreq.data = c;
    int rc = uv_write(&c->wreq, (uv_stream_t *)&c->tcp, &b, 1, on_write);
    if (rc < 0) {
        log_msg(LOG_DEBUG, "write failed: %s", uv_strerror(rc));
        conn__close(c);
        return;
    }
    c->writing = true;
    c->write_started = uv_now(c->srv->loop);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    http_conn *c = h->data;
    buf->base = c->srv->rbuf;
    buf->len = sizeof c->srv->rbuf;
}

static void conn__read_stop(http_conn *c)
{
    if (c->reading) uv_read_stop((uv_stream_t *)&c->tcp);
    c->reading = false;
}

static void on_read(uv_stream_t *st, ssize_t nread, const uv_buf_t *buf);

static void conn__read_start(http_conn *c)
{
    if (c->reading || c->closing) return;
    if (uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read) == 0) c->reading = true;
}

static void on_read(uv_stream_t *st, ssize_t nread, const uv_buf_t *buf)
{
    http_conn *c = st->data;
    if (nread == 0) return;
    if (nread < 0) {
        conn__read_stop(c);
        if (nread != UV_EOF) log_msg(LOG_DEBUG, "read failed: %s", uv_strerror((int)nread));
        /* Answers already made still leave before the close. A request still
         * with its handler (waiting, streaming) has lost its client: the
         * close tells the handler through on_gone. */
        if (nread == UV_EOF && c->state != CONN_HANDLING && (c->writing || c->out.len)) {
            c->close_after = true;
            c->pending.len = 0;
            return;
        }
        conn__close(c);
        return;
    }
    c->batch = 0;
    size_t used = conn__feed(c, buf->base, (size_t)nread);
    /* While a request is with its handler we keep reading, to notice a
     * client that leaves; what it sends meanwhile waits in `pending`. */
    if (used < (size_t)nread && !c->closing && !c->close_after) {
        if (ph_buf_append(&c->pending, buf->base + used, (size_t)nread - used)) {
            conn__close(c);
            return;
        }
        conn__read_stop(c);
    }
    conn__flush(c);
}

/* Go on after an answer or a finished write: parse kept bytes, else read. */
static void conn__continue(http_conn *c)
{
    if (c->closing || c->writing || c->state == CONN_HANDLING) return;
    if (c->pending.len && !c->close_after) {
        size_t used = conn__feed(c, c->pending.data, c->pending.len);
        if (!c->closing) ph_buf_consume(&c->pending, used);
    }
    if (c->closing) return;
    conn__flush(c);
    if (c->closing) return;
    if (!c->pending.len && !c->close_after && c->state != CONN_HANDLING) {
        if (c->state == CONN_IDLE && !c->writing) conn__trim(c);
        conn__read_start(c);
    }
}

static void on_conn_closed(uv_handle_t *h)
{
    http_conn *c = h->data;
    http_server *s = c->srv;
    if (c->prev)
        c->prev->next = c->next;
    else
        s->conns = c->next;
    if (c->next) c->next->prev = c->prev;
    s->nconns--;
    if (s->conns_mine) atomic_store_explicit(s->conns_mine, s->nconns, memory_order_relaxed);
    if (c->addr_counted) {
        atomic_fetch_sub_explicit(&s->addr_mine[c->addr_idx[0]], 1, memory_order_relaxed);
        atomic_fetch_sub_explicit(&s->addr_mine[c->addr_idx[1]], 1, memory_order_relaxed);
        c->addr_counted = false;
    }
    if (c->state == CONN_HANDLING) {
        c->gone = true;                                   /* freed by the answer */
        if (c->on_gone) c->on_gone(c->watch_ud, &c->req); /* may free c */
    } else {
        conn__free(c);
    }
    server__maybe_done(s);
}

static void conn__unhold(http_conn *c)
{
    if (!c->held) return;
    for (http_conn **p = &c->srv->held_head; *p; p = &(*p)->next_held) {
        if (*p == c) {
            *p = c->next_held;
            break;
        }
    }
    c->held = false;
}

static void conn__close(http_conn *c)
{
    if (c->closing) return;
    conn__unhold(c);
    c->closing = true;
    c->reading = false;
    uv_close((uv_handle_t *)&c->tcp, on_conn_closed);
}

/* Answer a connection we will not serve with 503 (extra headers, e.g.
 * Retry-After), then close it. */
static void conn__refuse(http_conn *c, const http_header *extra, size_t nextra)
{
    c->req.conn = c;
    c->req.target = "";
    c->state = CONN_HANDLING;
    c->in_feed = true;
    c->close_after = true;
    http_respond_error(&c->req, 503, extra, nextra);
    c->in_feed = false;
    conn__flush(c);
}

/* The peer's address as the cap counts it, into a[16]: IPv4 (also when
 * mapped into IPv6) in its first 4 bytes, IPv6 by its /64 (one host holds a
 * whole /64). Returns AF_INET, AF_INET6, or 0 when unknown. */
static int http__peer_key(const struct sockaddr_storage *ss, unsigned char a[16])
{
    memset(a, 0, 16);
    if (ss->ss_family == AF_INET) {
        memcpy(a, &((const struct sockaddr_in *)ss)->sin_addr, 4);
        return AF_INET;
    }
    if (ss->ss_family != AF_INET6) return 0;
    const unsigned char *b = ((const struct sockaddr_in6 *)ss)->sin6_addr.s6_addr;
    static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (memcmp(b, mapped, 12) == 0) {
        memcpy(a, b + 12, 4);
        return AF_INET;
    }
    memcpy(a, b, 8);
    return AF_INET6;
}

static bool http__exempt(const http_server *s, int family, const unsigned char *a,
                         const struct sockaddr_storage *ss)
{
    const unsigned char *full =
        family == AF_INET6 ? ((const struct sockaddr_in6 *)ss)->sin6_addr.s6_addr : a;
    for (size_t i = 0; i < s->nexempt; i++) {
        const http__net *n = &s->exempt[i];
        if (n->family != family) continue;
        int bits = n->bits;
        bool match = true;
        for (int k = 0; bits > 0 && match; k++, bits -= 8) {
            unsigned char mask = bits >= 8 ? 0xff : (unsigned char)(0xff << (8 - bits));
            match = (full[k] & mask) == (n->net[k] & mask);
        }
        if (match) return true;
    }
    return false;
}

/* Count c against max-connections-per-address; whether its address is past
 * the cap now. */
static bool conn__count_address(http_conn *c, char *who, size_t wlen, uint64_t *open)
{
    http_server *s = c->srv;
    struct sockaddr_storage ss;
    int sl = sizeof ss;
    unsigned char a[16];
    int family;
    if (uv_tcp_getpeername(&c->tcp, (struct sockaddr *)&ss, &sl) < 0 ||
        !(family = http__peer_key(&ss, a)) || http__exempt(s, family, a, &ss))
        return false;
    uint64_t w0, w1;
    memcpy(&w0, a, 8);
    memcpy(&w1, a + 8, 8);
    uint64_t h = http__splitmix64(s->addr_key[0] ^ w0);
    h = http__splitmix64(h ^ w1 ^ s->addr_key[1] ^ (uint64_t)family);
    size_t half = s->addr_n / 2;
    c->addr_idx[0] = (uint32_t)(h & (half - 1));
    c->addr_idx[1] = (uint32_t)(half + ((h >> 32) & (half - 1)));
    c->addr_counted = true;
    uint64_t n[2];
    for (int r = 0; r < 2; r++) {
        n[r] =
            atomic_fetch_add_explicit(&s->addr_mine[c->addr_idx[r]], 1, memory_order_relaxed) + 1;
        if (s->addr_others) n[r] += s->addr_others(c->addr_idx[r]);
    }
    *open = n[0] < n[1] ? n[0] : n[1];
    if (*open <= s->lim.max_conns_per_address) return false;
    if (family == AF_INET)
        uv_inet_ntop(AF_INET, a, who, wlen);
    else if (uv_inet_ntop(AF_INET6, a, who, wlen) == 0 && strlen(who) + 4 < wlen)
        strcat(who, "/64");
    return true;
}

static void on_connection(uv_stream_t *ls, int status)
{
    http_server *s = ls->data;
    if (status < 0) {
        log_msg(LOG_WARN, "accept failed: %s", uv_strerror(status));
        return;
    }
    http_conn *c = calloc(1, sizeof *c);
    if (!c) {
        log_msg(LOG_ERROR, "out of memory accepting a connection");
        return;
    }
    c->srv = s;
    uv_tcp_init(s->loop, &c->tcp);
    c->tcp.data = c;
    c->next = s->conns;
    if (s->conns) s->conns->prev = c;
    s->conns = c;
    s->nconns++;
    if (s->conns_mine) atomic_store_explicit(s->conns_mine, s->nconns, memory_order_relaxed);
    if (uv_accept(ls, (uv_stream_t *)&c->tcp) < 0) {
        conn__close(c);
        return;
    }
    uv_tcp_nodelay(&c->tcp, 1);
    llhttp_init(&c->parser, HTTP_REQUEST, &s->settings);
    c->parser.data = c;
    c->keep_alive = true;
    c->state = CONN_IDLE;
    c->deadline = uv_now(s->loop) + s->lim.header_timeout_ms;
    uint64_t open = s->nconns + (s->conns_others ? s->conns_others() : 0);
    if (open > s->lim.max_connections || s->stopping) {
        /* Over the limit: a 503 and close, the client is told why. */
        http__new_id(s, c->req.id);
        log_msg(LOG_WARN, "refused connection: %llu open, max-connections is %u rid=%s",
                (unsigned long long)open - 1, s->lim.max_connections, c->req.id);
        conn__refuse(c, NULL, 0);
        return;
    }
    char who[INET6_ADDRSTRLEN + 4] = "";
    if (s->lim.max_conns_per_address && conn__count_address(c, who, sizeof who, &open)) {
        /* One address holds its share: it waits, everyone else is served.
         * Its idle connections close within keepalive-timeout-ms. */
        char after[24];
        uint64_t secs = (s->lim.keepalive_timeout_ms + 999) / 1000;
        int an = snprintf(after, sizeof after, "%llu", (unsigned long long)(secs ? secs : 1));
        http_header retry = {"Retry-After", 11, after, (size_t)an};
        http__new_id(s, c->req.id);
        log_msg(LOG_WARN,
                "refused connection from %s: %llu open from there, max-connections-per-address "
                "is %u rid=%s",
                who, (unsigned long long)open - 1, s->lim.max_conns_per_address, c->req.id);
        conn__refuse(c, &retry, 1);
        return;
    }
    conn__read_start(c);
}

/* ---- deadlines, stop ---------------------------------------------------- */

/* body-min-rate, checked once a window has passed: the body must have
 * grown by body_min_rate bytes per second since the window began, or by all
 * that was left of it. A window passes without a check while we are not
 * reading (the client is not the one waiting then). */
static bool conn__too_slow(http_conn *c, uint64_t now)
{
    http_server *s = c->srv;
    if (!c->reading) {
        c->rate_since = now;
        c->rate_bytes = c->body.len;
        return false;
    }
    uint64_t elapsed = now - c->rate_since;
    if (elapsed < s->lim.body_rate_window_ms) return false;
    uint64_t need = s->lim.body_min_rate * elapsed / 1000;
    if (c->body_expect != UINT64_MAX && c->body_expect - c->rate_bytes < need)
        need = c->body_expect - c->rate_bytes;
    if (c->body.len - c->rate_bytes < need) return true;
    c->rate_since = now;
    c->rate_bytes = c->body.len;
    return false;
}

static void on_sweep(uv_timer_t *t)
{
    http_server *s = t->data;
    uint64_t now = uv_now(s->loop);
    http_conn *next;
    for (http_conn *c = s->conns; c; c = next) {
        next = c->next;
        if (c->closing) continue;
        if (c->writing) {
            if (now - c->write_started > s->lim.send_timeout_ms) {
                log_msg(LOG_INFO, "closing a connection whose client stopped reading");
                conn__close(c);
            }
            continue;
        }
        if (c->state == CONN_BODY && s->lim.body_min_rate && conn__too_slow(c, now)) {
            conn__read_stop(c);
            conn__fail(c, 408, "body slower than body-min-rate");
            continue;
        }
        if (!c->deadline || now < c->deadline || c->state == CONN_HANDLING) continue;
        if (c->state == CONN_IDLE && c->nreq > 0) {
            conn__close(c); /* keep-alive idle time is over */
        } else {
            conn__read_stop(c);
            conn__fail(c, 408, c->state == CONN_BODY ? "body timeout" : "header timeout");
        }
    }
}

static void on_server_handle_closed(uv_handle_t *h)
{
    http_server *s = h->data;
    s->open_handles--;
    server__maybe_done(s);
}

static void server__maybe_done(http_server *s)
{
    if (!s->stopping || s->nconns > 0) return;
    if (!s->timers_closing) {
        /* Every connection is gone: close our own timers, then report. */
        s->timers_closing = true;
        uv_close((uv_handle_t *)&s->sweep, on_server_handle_closed);
        uv_close((uv_handle_t *)&s->stop_timer, on_server_handle_closed);
        return;
    }
    if (s->open_handles == 0 && s->done) {
        void (*done)(void *) = s->done;
        s->done = NULL;
        done(s->done_arg);
    }
}

static void on_stop_timeout(uv_timer_t *t)
{
    http_server *s = t->data;
    if (s->nconns) log_msg(LOG_WARN, "shutdown: force-closing %u connection(s)", s->nconns);
    for (http_conn *c = s->conns; c; c = c->next)
        conn__close(c);
}

/* "10.0.0.0/8", "192.0.2.1", "2001:db8::/32" into n. Returns 0 or PH_EINVAL. */
static int http__parse_net(const char *spec, http__net *n)
{
    char text[INET6_ADDRSTRLEN];
    const char *slash = strchr(spec, '/');
    size_t len = slash ? (size_t)(slash - spec) : strlen(spec);
    if (len == 0 || len >= sizeof text) return PH_EINVAL;
    memcpy(text, spec, len);
    text[len] = 0;
    memset(n, 0, sizeof *n);
    n->family = strchr(text, ':') ? AF_INET6 : AF_INET;
    if (uv_inet_pton(n->family, text, n->net) != 0) return PH_EINVAL;
    int max = n->family == AF_INET6 ? 128 : 32;
    n->bits = max;
    if (slash) {
        char *end;
        long b = strtol(slash + 1, &end, 10);
        if (end == slash + 1 || *end || b < 0 || b > max) return PH_EINVAL;
        n->bits = (int)b;
    }
    return 0;
}

int http_server_new(http_server **out, uv_loop_t *loop, const http_limits *lim,
                    http_handler_fn handler, void *ud)
{
    if (!lim->pipeline_batch || !lim->max_connections || !handler ||
        (lim->body_min_rate && !lim->body_rate_window_ms))
        return PH_EINVAL;
    http_server *s = calloc(1, sizeof *s);
    if (!s) return PH_ENOMEM;
    s->addr_own = calloc(HTTP__ADDR_COUNTERS, sizeof *s->addr_own);
    s->exempt = calloc(lim->ncap_exempt ? lim->ncap_exempt : 1, sizeof *s->exempt);
    if (!s->addr_own || !s->exempt) {
        free(s->addr_own);
        free(s->exempt);
        free(s);
        return PH_ENOMEM;
    }
    s->addr_mine = s->addr_own;
    s->addr_n = HTTP__ADDR_COUNTERS;
    if (uv_random(NULL, NULL, s->addr_key, sizeof s->addr_key, 0, NULL) < 0) {
        s->addr_key[0] = uv_hrtime();
        s->addr_key[1] = (uint64_t)(uintptr_t)s;
    }
    for (size_t i = 0; i < lim->ncap_exempt; i++) {
        if (http__parse_net(lim->cap_exempt[i], &s->exempt[s->nexempt]) == 0)
            s->nexempt++;
        else
            log_msg(LOG_WARN, "max-connections-per-address: '%s' is not an address or CIDR",
                    lim->cap_exempt[i]);
    }
    s->loop = loop;
    s->lim = *lim;
    s->handler = handler;
    s->ud = ud;
    llhttp_settings_init(&s->settings);
    s->settings.on_message_begin = on_message_begin;
    s->settings.on_url = on_url;
    s->settings.on_url_complete = on_url_complete;
    s->settings.on_header_field = on_header_field;
    s->settings.on_header_field_complete = on_header_field_complete;
    s->settings.on_header_value = on_header_value;
    s->settings.on_header_value_complete = on_header_value_complete;
    s->settings.on_headers_complete = on_headers_complete;
    s->settings.on_body = on_body;
    s->settings.on_message_complete = on_message_complete;
    if (uv_random(NULL, NULL, &s->rid_seed, sizeof s->rid_seed, 0, NULL) < 0)
        s->rid_seed = uv_hrtime();
    s->date_sec = (time_t)-1;
    http__refresh_date(s);
    uv_tcp_init(loop, &s->listener);
    uv_timer_init(loop, &s->sweep);
    uv_timer_init(loop, &s->stop_timer);
    s->listener.data = s->sweep.data = s->stop_timer.data = s;
    s->open_handles = 3;
    /* Deadlines are checked by one timer per server, not one per connection:
     * a request only stores a number. */
    uint64_t tick = lim->header_timeout_ms;
    if (lim->body_timeout_ms < tick) tick = lim->body_timeout_ms;
    if (lim->keepalive_timeout_ms < tick) tick = lim->keepalive_timeout_ms;
    if (lim->body_min_rate && lim->body_rate_window_ms < tick) tick = lim->body_rate_window_ms;
    tick /= 4;
    if (tick < 10) tick = 10;
    if (tick > 1000) tick = 1000;
    uv_timer_start(&s->sweep, on_sweep, tick, tick);
    *out = s;
    return 0;
}

void http_server_share_connections(http_server *s, _Atomic uint64_t *mine, uint64_t (*others)(void))
{
    s->conns_mine = mine;
    s->conns_others = others;
}

int http_server_share_addresses(http_server *s, _Atomic uint32_t *mine, size_t n,
                                uint64_t (*others)(size_t i), const uint64_t key[2])
{
    if (n < 2 || (n & (n - 1)) || !mine || !key) return PH_EINVAL;
    assert(s->nconns == 0);
    free(s->addr_own);
    s->addr_own = NULL;
    s->addr_mine = mine;
    s->addr_n = n;
    s->addr_others = others;
    s->addr_key[0] = key[0];
    s->addr_key[1] = key[1];
    return 0;
}

void http_server_set_worker(http_server *s, unsigned worker)
{
    s->rid_worker = (uint8_t)worker;
}

int http_server_listen_fd(http_server *s, int fd)
{
    int rc = uv_tcp_open(&s->listener, (uv_os_sock_t)fd);
    if (rc < 0) return rc;
    if ((rc = uv_listen((uv_stream_t *)&s->listener, 511, on_connection)) < 0) return rc;
    s->listening = true;
    return 0;
}

int http_server_listen(http_server *s, const char *host, int port, int *bound_port)
{
    struct sockaddr_storage ss;
    int rc = uv_ip4_addr(host, port, (struct sockaddr_in *)&ss);
    if (rc < 0) rc = uv_ip6_addr(host, port, (struct sockaddr_in6 *)&ss);
    if (rc < 0) return rc;
    if ((rc = uv_tcp_bind(&s->listener, (struct sockaddr *)&ss, 0)) < 0) return rc;
    if ((rc = uv_listen((uv_stream_t *)&s->listener, 511, on_connection)) < 0) return rc;
    int len = sizeof ss;
    if ((rc = uv_tcp_getsockname(&s->listener, (struct sockaddr *)&ss, &len)) < 0) return rc;
    *bound_port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                                 : ((struct sockaddr_in *)&ss)->sin_port);
    s->listening = true;
    return 0;
}

void http_server_stop(http_server *s, void (*done)(void *), void *arg)
{
    if (s->stopping) {
        on_stop_timeout(&s->stop_timer); /* asked twice: close everything now */
        return;
    }
    s->stopping = true;
    s->done = done;
    s->done_arg = arg;
    uv_close((uv_handle_t *)&s->listener, on_server_handle_closed);
    http_conn *next;
    for (http_conn *c = s->conns; c; c = next) {
        next = c->next;
        if (c->state == CONN_IDLE && !c->writing && !c->out.len && !c->pending.len)
            conn__close(c);
        else
            c->keep_alive = false;
    }
    uv_timer_start(&s->stop_timer, on_stop_timeout, s->lim.shutdown_timeout_ms, 0);
    server__maybe_done(s);
}

void http_server_hold(http_server *s)
{
    s->holding = true;
}

void http_server_release(http_server *s, bool send)
{
    s->holding = false;
    http_conn *c;
    while ((c = s->held_head)) {
        s->held_head = c->next_held;
        c->held = false;
        if (send) {
            conn__flush(c);
        } else {
            log_msg(LOG_ERROR, "closing a connection unanswered: its response may tell of "
                               "writes that are not durable");
            conn__close(c);
        }
    }
}

void http_server_free(http_server *s)
{
    assert(s->nconns == 0 && s->open_handles == 0);
    free(s->addr_own);
    free(s->exempt);
    free(s);
}
