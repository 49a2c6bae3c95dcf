/* bare: the ceiling. A libuv + llhttp server that answers every request with
 * fixed bytes and no Lua, batching the answers to pipelined requests into
 * one write, as parkhost does. Only for bench/run; not part of parkhost.
 *
 *   bare PORT
 */
#include <llhttp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <uv.h>

typedef struct {
    uv_tcp_t tcp;
    llhttp_t parser;
    char path[64];
    size_t path_len;
    char *out;
    size_t out_len, out_cap;
    int writing;
} conn;

static llhttp_settings_t settings;
static char date_hdr[64];
static time_t date_sec;
static char rbuf[65536];

static void refresh_date(void)
{
    time_t now = time(NULL);
    if (now == date_sec) return;
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(date_hdr, sizeof date_hdr, "Date: %a, %d %b %Y %H:%M:%S GMT\r\n", &tm);
    date_sec = now;
}

static void append(conn *c, const char *s, size_t n)
{
    if (c->out_len + n > c->out_cap) {
        c->out_cap = (c->out_len + n) * 2;
        c->out = realloc(c->out, c->out_cap);
        if (!c->out) abort();
    }
    memcpy(c->out + c->out_len, s, n);
    c->out_len += n;
}

static int on_url(llhttp_t *p, const char *at, size_t n)
{
    conn *c = p->data;
    if (c->path_len + n < sizeof c->path) {
        memcpy(c->path + c->path_len, at, n);
        c->path_len += n;
    }
    return 0;
}

static int on_message_complete(llhttp_t *p)
{
    conn *c = p->data;
    static const char plain[] = "Hello, World!";
    static const char json[] = "{\"message\":\"Hello, World!\"}";
    int is_json = c->path_len == 5 && !memcmp(c->path, "/json", 5);
    const char *body = is_json ? json : plain;
    size_t blen = is_json ? sizeof json - 1 : sizeof plain - 1;
    refresh_date();
    char head[256];
    int n = snprintf(head, sizeof head,
                     "HTTP/1.1 200 OK\r\n%sContent-Length: %zu\r\nContent-Type: %s\r\n\r\n",
                     date_hdr, blen, is_json ? "application/json" : "text/plain");
    append(c, head, (size_t)n);
    append(c, body, blen);
    c->path_len = 0;
    return 0;
}

static void on_close(uv_handle_t *h)
{
    conn *c = h->data;
    free(c->out);
    free(c);
}

static void on_write(uv_write_t *w, int status)
{
    conn *c = w->data;
    free(w);
    c->writing = 0;
    if (status < 0 && !uv_is_closing((uv_handle_t *)&c->tcp))
        uv_close((uv_handle_t *)&c->tcp, on_close);
}

static void flush(conn *c)
{
    if (!c->out_len) return;
    uv_write_t *w = malloc(sizeof *w + c->out_len);
    if (!w) abort();
    char *copy = (char *)(w + 1);
    memcpy(copy, c->out, c->out_len);
    uv_buf_t b = uv_buf_init(copy, (unsigned)c->out_len);
    w->data = c;
    c->out_len = 0;
    c->writing = 1;
    uv_write(w, (uv_stream_t *)&c->tcp, &b, 1, on_write);
}

static void on_alloc(uv_handle_t *h, size_t s, uv_buf_t *b)
{
    b->base = rbuf;
    b->len = sizeof rbuf;
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
    conn *c = s->data;
    if (n < 0) {
        if (!uv_is_closing((uv_handle_t *)s)) uv_close((uv_handle_t *)s, on_close);
        return;
    }
    if (llhttp_execute(&c->parser, b->base, (size_t)n) != HPE_OK) {
        uv_close((uv_handle_t *)s, on_close);
        return;
    }
    flush(c);
}

static void on_conn(uv_stream_t *server, int status)
{
    if (status < 0) return;
    conn *c = calloc(1, sizeof *c);
    uv_tcp_init(server->loop, &c->tcp);
    c->tcp.data = c;
    if (uv_accept(server, (uv_stream_t *)&c->tcp) != 0) {
        uv_close((uv_handle_t *)&c->tcp, on_close);
        return;
    }
    uv_tcp_nodelay(&c->tcp, 1);
    llhttp_init(&c->parser, HTTP_REQUEST, &settings);
    c->parser.data = c;
    uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
}

static void on_signal(uv_signal_t *s, int sig)
{
    uv_stop(s->loop);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: bare PORT\n");
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    llhttp_settings_init(&settings);
    settings.on_url = on_url;
    settings.on_message_complete = on_message_complete;
    uv_loop_t *loop = uv_default_loop();
    uv_tcp_t server;
    uv_tcp_init(loop, &server);
    struct sockaddr_in addr;
    uv_ip4_addr("127.0.0.1", atoi(argv[1]), &addr);
    if (uv_tcp_bind(&server, (struct sockaddr *)&addr, 0) ||
        uv_listen((uv_stream_t *)&server, 511, on_conn)) {
        fprintf(stderr, "bare: cannot listen on %s\n", argv[1]);
        return 1;
    }
    uv_signal_t sig;
    uv_signal_init(loop, &sig);
    uv_signal_start(&sig, on_signal, SIGTERM);
    fprintf(stderr, "bare listening on %s\n", argv[1]);
    uv_run(loop, UV_RUN_DEFAULT);
    return 0;
}
