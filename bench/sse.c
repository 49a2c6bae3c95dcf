/* sse: N server-sent-event watchers on one libuv loop, and how long a marker
 * takes to reach each of them.
 *
 *   bench_sse PORT PATH N TIMEOUT_MS
 *
 * Opens N connections to 127.0.0.1:PORT, each a GET of PATH with
 * Accept: text/event-stream, decodes the (chunked) body and parses its events.
 * Prints "ready" once every connection has its 200 head. Then, for each line
 * "go MARKER" on stdin, times how long after it each connection takes to get
 * an event whose data contains MARKER, and prints, when all have it or after
 * TIMEOUT_MS,
 *   marker MARKER got K of N p50_ms P p99_ms P max_ms P
 * Exits 0 at the end of stdin. Connections that fail or close are counted on
 * stderr ("failed K").
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <uv.h>

enum { HEAD, SIZE, DATA, DATA_END, IDENTITY, DEAD };
#define MAX_OPENING 128 /* connections opening at once: the server's backlog is 511 */

typedef struct {
    uv_tcp_t tcp;
    uv_connect_t connect;
    uv_write_t write;
    int state;
    size_t left;   /* bytes left in the current chunk */
    char size[32]; /* the chunk-size line so far */
    size_t size_len;
    char *line; /* the head, then the SSE line so far */
    size_t len, cap;
    int data;        /* the event being read has data */
    int match;       /* and MARKER in its data */
    int64_t arrived; /* ns after "go", or -1 */
} conn;

static uv_loop_t *loop;
static conn *conns;
static int n, started, opening, settled, alive, failed, reported, ready;
static long events;
static char request[2048];
static struct sockaddr_in addr;
static uv_timer_t timer;
static uint64_t timeout_ms;
static union {
    uv_pipe_t pipe;
    uv_tty_t tty;
} in;
static char inbuf[1 << 16];
static size_t inlen;
static int in_eof, quitting;
static char *marker; /* while a "go" is measured */
static size_t marker_len;
static uint64_t go_at;
static int pending; /* open connections that have not seen the marker */

static void open_more(void);
static void commands(void);
static void on_in_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf);
static void on_in_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf);

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void report_failed(void)
{
    if (failed != reported) fprintf(stderr, "failed %d\n", reported = failed);
}

static void finish(void)
{
    uv_timer_stop(&timer);
    double *ms = malloc(sizeof(double) * (size_t)n);
    int k = 0;
    for (int i = 0; i < n; i++)
        if (conns[i].arrived >= 0) ms[k++] = (double)conns[i].arrived / 1e6;
    qsort(ms, (size_t)k, sizeof *ms, cmp);
#define PCT(p) (k ? ms[(k * (p) + 99) / 100 - 1] : 0.0)
    printf("marker %s got %d of %d p50_ms %.1f p99_ms %.1f max_ms %.1f\n", marker, k, n, PCT(50),
           PCT(99), PCT(100));
    fflush(stdout);
    report_failed();
    free(ms);
    free(marker);
    marker = NULL;
    commands();
}

static void on_timeout(uv_timer_t *t)
{
    finish();
}

static void check_ready(void)
{
    if (settled != n || ready) return;
    ready = 1;
    printf("ready\n");
    fflush(stdout);
    report_failed();
    int rc = uv_read_start((uv_stream_t *)&in, on_in_alloc, on_in_read);
    if (rc < 0) {
        fprintf(stderr, "bench_sse: stdin: %s\n", uv_strerror(rc));
        in_eof = 1;
        commands();
    }
}

static void fail(conn *c, const char *why)
{
    if (c->state == DEAD || quitting) return;
    if (failed < 5) fprintf(stderr, "bench_sse: connection %d: %s\n", (int)(c - conns), why);
    if (c->state == HEAD) {
        opening--, settled++;
    } else {
        alive--;
        if (marker && c->arrived < 0 && --pending == 0) finish();
    }
    c->state = DEAD;
    failed++;
    if (!uv_is_closing((uv_handle_t *)&c->tcp)) uv_close((uv_handle_t *)&c->tcp, NULL);
    open_more();
    check_ready();
}

static void append(conn *c, const char *p, size_t k)
{
    if (c->len + k + 1 > c->cap) {
        c->cap = (c->len + k + 1) * 2;
        c->line = realloc(c->line, c->cap);
    }
    memcpy(c->line + c->len, p, k);
    c->len += k;
    c->line[c->len] = 0;
}

static void line(conn *c, const char *s, size_t k)
{
    if (k && s[k - 1] == '\r') k--;
    if (k == 0) { /* the end of an event */
        events += c->data;
        c->data = 0;
        if (c->match && marker && c->arrived < 0) {
            c->arrived = (int64_t)(uv_hrtime() - go_at);
            if (--pending == 0) finish();
        }
        c->match = 0;
    } else if (k >= 5 && !memcmp(s, "data:", 5)) {
        c->data = 1;
        if (marker && memmem(s, k, marker, marker_len)) c->match = 1;
    }
}

static void sse(conn *c, const char *p, size_t k)
{
    while (k) {
        const char *nl = memchr(p, '\n', k);
        if (!nl) return append(c, p, k);
        if (c->len == 0) {
            line(c, p, (size_t)(nl - p));
        } else {
            append(c, p, (size_t)(nl - p));
            line(c, c->line, c->len);
            c->len = 0;
        }
        k -= (size_t)(nl - p) + 1;
        p = nl + 1;
    }
}

static void feed(conn *c, const char *p, const char *end)
{
    if (c->state == HEAD) {
        append(c, p, (size_t)(end - p));
        char *e = strstr(c->line, "\r\n\r\n");
        if (!e) {
            if (c->len > 16384) fail(c, "head too long");
            return;
        }
        int status = 0;
        if (sscanf(c->line, "HTTP/1.%*d %d", &status) != 1 || status != 200) {
            char why[64];
            snprintf(why, sizeof why, "status %d", status);
            return fail(c, why);
        }
        e[2] = 0; /* the head's last line ends at e; the body starts at e + 4 */
        char *te = strcasestr(c->line, "\ntransfer-encoding:"),
             *eol = te ? strchr(te + 1, '\n') : 0;
        if (eol) *eol = 0;
        c->state = te && strcasestr(te, "chunked") ? SIZE : IDENTITY;
        size_t rest = c->len - (size_t)(e + 4 - c->line);
        char body[rest + 1];
        memcpy(body, e + 4, rest);
        c->len = 0;
        opening--, settled++, alive++;
        open_more();
        check_ready();
        p = body, end = body + rest;
        feed(c, p, end);
        return;
    }
    while (p < end && c->state != DEAD) {
        if (c->state == SIZE) {
            char ch = *p++;
            if (ch != '\n') {
                if (c->size_len < sizeof c->size - 1) c->size[c->size_len++] = ch;
                continue;
            }
            c->size[c->size_len] = 0;
            c->size_len = 0;
            c->left = strtoul(c->size, NULL, 16);
            if (c->left == 0) return fail(c, "the stream ended");
            c->state = DATA;
        } else if (c->state == DATA) {
            size_t k = (size_t)(end - p) < c->left ? (size_t)(end - p) : c->left;
            sse(c, p, k);
            p += k;
            if ((c->left -= k) == 0) c->state = DATA_END;
        } else if (c->state == DATA_END) {
            if (*p++ == '\n') c->state = SIZE;
        } else { /* IDENTITY */
            sse(c, p, (size_t)(end - p));
            p = end;
        }
    }
}

static void on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
    static char shared[1 << 16]; /* each read is parsed before the next */
    *buf = uv_buf_init(shared, sizeof shared);
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    conn *c = (conn *)s;
    if (nread < 0)
        return fail(c, nread == UV_EOF ? "closed by the server" : uv_strerror((int)nread));
    feed(c, buf->base, buf->base + nread);
}

static void on_write(uv_write_t *w, int status)
{
    if (status < 0) fail((conn *)w->handle, uv_strerror(status));
}

static void on_connect(uv_connect_t *req, int status)
{
    conn *c = (conn *)req->handle;
    if (c->state == DEAD) return;
    if (status < 0) return fail(c, uv_strerror(status));
    uv_buf_t b = uv_buf_init(request, (unsigned)strlen(request));
    int rc = uv_write(&c->write, (uv_stream_t *)&c->tcp, &b, 1, on_write);
    if (rc == 0) rc = uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
    if (rc < 0) fail(c, uv_strerror(rc));
}

static void open_more(void)
{
    while (started < n && opening < MAX_OPENING && !quitting) {
        conn *c = &conns[started++];
        opening++;
        c->arrived = -1;
        uv_tcp_init(loop, &c->tcp);
        int rc = uv_tcp_connect(&c->connect, &c->tcp, (struct sockaddr *)&addr, on_connect);
        if (rc < 0) fail(c, uv_strerror(rc));
    }
}

/* Runs the next "go" line when none is being measured; quits at the end. */
static void commands(void)
{
    while (!marker) {
        char *nl = memchr(inbuf, '\n', inlen);
        if (!nl) {
            if (in_eof) quitting = 1, uv_stop(loop);
            if (inlen == sizeof inbuf) inlen = 0; /* a line too long: dropped */
            return;
        }
        *nl = 0;
        if (nl > inbuf && nl[-1] == '\r') nl[-1] = 0;
        if (!strncmp(inbuf, "go ", 3) && inbuf[3]) {
            marker = strdup(inbuf + 3);
            marker_len = strlen(marker);
        } else if (inbuf[0]) {
            fprintf(stderr, "bench_sse: not a command: %s\n", inbuf);
        }
        inlen -= (size_t)(nl + 1 - inbuf);
        memmove(inbuf, nl + 1, inlen);
        if (!marker) continue;
        go_at = uv_hrtime();
        pending = alive;
        for (int i = 0; i < n; i++)
            conns[i].arrived = -1, conns[i].match = 0;
        if (pending == 0) return finish();
        uv_timer_start(&timer, on_timeout, timeout_ms, 0);
    }
}

static void on_in_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
    if (inlen == sizeof inbuf) inlen = 0;
    *buf = uv_buf_init(inbuf + inlen, (unsigned)(sizeof inbuf - inlen));
}

static void on_in_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    if (nread < 0) {
        in_eof = 1;
        uv_read_stop(s);
        if (inlen && inbuf[inlen - 1] != '\n' && inlen < sizeof inbuf) inbuf[inlen++] = '\n';
    } else {
        inlen += (size_t)nread;
    }
    commands();
}

int main(int argc, char **argv)
{
    if (argc != 5 || (n = atoi(argv[3])) <= 0) {
        fprintf(stderr, "usage: bench_sse PORT PATH N TIMEOUT_MS\n");
        return 2;
    }
    timeout_ms = strtoull(argv[4], NULL, 10);
    snprintf(request, sizeof request,
             "GET %s HTTP/1.1\r\nHost: 127.0.0.1:%s\r\nAccept: text/event-stream\r\n"
             "Cache-Control: no-cache\r\n\r\n",
             argv[2], argv[1]);
    struct rlimit rl;
    rlim_t want = (rlim_t)n + 64;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < want) {
        if (rl.rlim_max < want) rl.rlim_max = want; /* only root may raise it */
        rl.rlim_cur = want;
        if (setrlimit(RLIMIT_NOFILE, &rl) != 0) {
            getrlimit(RLIMIT_NOFILE, &rl);
            rl.rlim_cur = rl.rlim_max;
            setrlimit(RLIMIT_NOFILE, &rl);
            fprintf(stderr, "bench_sse: only %lu files may be open\n", (unsigned long)rl.rlim_max);
        }
    }
    loop = uv_default_loop();
    uv_ip4_addr("127.0.0.1", atoi(argv[1]), &addr);
    uv_timer_init(loop, &timer);
    int rc = uv_guess_handle(0) == UV_TTY ? uv_tty_init(loop, &in.tty, 0, 1)
                                          : uv_pipe_init(loop, &in.pipe, 0);
    if (rc == 0 && uv_guess_handle(0) != UV_TTY) rc = uv_pipe_open(&in.pipe, 0);
    if (rc < 0) {
        fprintf(stderr, "bench_sse: stdin must be a pipe or a terminal: %s\n", uv_strerror(rc));
        return 2;
    }
    /* stdin is read once every connection is ready (check_ready) */
    conns = calloc((size_t)n, sizeof *conns);
    open_more();
    uv_run(loop, UV_RUN_DEFAULT);

    for (int i = 0; i < n; i++) {
        uv_handle_t *h = (uv_handle_t *)&conns[i].tcp;
        if (i < started && !uv_is_closing(h)) uv_close(h, NULL);
        free(conns[i].line);
    }
    uv_close((uv_handle_t *)&timer, NULL);
    uv_close((uv_handle_t *)&in, NULL);
    uv_run(loop, UV_RUN_DEFAULT);
    uv_loop_close(loop);
    fprintf(stderr, "bench_sse: %ld events, failed %d\n", events, failed);
    free(conns);
    return 0;
}
