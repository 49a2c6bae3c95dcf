#include "harness.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* ------------------------------------------------------------------ */
/* Registry of servers and temp dirs, for cleanup on failure            */
/* ------------------------------------------------------------------ */

#define MAX_SERVERS  8
#define MAX_TEMPDIRS 8

static server_t *g_servers[MAX_SERVERS];
static int g_nservers;
static char g_tempdirs[MAX_TEMPDIRS][H_PATH_MAX];
static int g_ntempdirs;
static int g_failed;

static void register_server(server_t *s)
{
    for (int i = 0; i < g_nservers; i++)
        if (g_servers[i] == s) return;
    if (g_nservers < MAX_SERVERS) g_servers[g_nservers++] = s;
}

static void unregister_server(server_t *s)
{
    for (int i = 0; i < g_nservers; i++) {
        if (g_servers[i] == s) {
            g_servers[i] = g_servers[--g_nservers];
            return;
        }
    }
}

static int rm_cb(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    remove(path);
    return 0;
}

static void rm_rf(const char *path)
{
    if (path[0]) nftw(path, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
}

static void kill_all_servers(void)
{
    for (int i = 0; i < g_nservers; i++) {
        server_t *s = g_servers[i];
        if (s->pid > 0 && !s->exited) {
            kill(s->pid, SIGKILL);
            waitpid(s->pid, &s->status, 0);
            s->exited = 1;
        }
    }
}

static void atexit_cleanup(void)
{
    kill_all_servers();
    if (!g_failed) {
        for (int i = 0; i < g_ntempdirs; i++)
            rm_rf(g_tempdirs[i]);
    }
}

static void alarm_handler(int sig)
{
    (void)sig;
    static const char msg[] = "FAIL: test exceeded its internal time limit (alarm)\n";
    ssize_t rc = write(2, msg, sizeof msg - 1);
    (void)rc;
    for (int i = 0; i < g_nservers; i++) {
        server_t *s = g_servers[i];
        if (s->pid > 0 && !s->exited) kill(s->pid, SIGKILL);
    }
    _exit(1);
}

void h_runner_init(void)
{
    signal(SIGPIPE, SIG_IGN);
    atexit(atexit_cleanup);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = alarm_handler;
    sigaction(SIGALRM, &sa, NULL);
    /* Keep below the ctest TIMEOUT so servers get killed by us. */
    const char *t = getenv("PARKHOST_TEST_ALARM");
    alarm(t ? (unsigned)atoi(t) : 55);
    setvbuf(stdout, NULL, _IONBF, 0);
    setvbuf(stderr, NULL, _IONBF, 0);
}

void h_runner_finish(void)
{
    /* Any server the test forgot to stop must still stop cleanly. */
    while (g_nservers > 0) {
        server_t *s = g_servers[0];
        if (s->exited) {
            unregister_server(s);
            continue;
        }
        server_stop_ok(__FILE__, __LINE__, s);
    }
}

/* ------------------------------------------------------------------ */
/* Failure reporting                                                    */
/* ------------------------------------------------------------------ */

static void dump_server_logs(void)
{
    for (int i = 0; i < g_nservers; i++) {
        server_t *s = g_servers[i];
        char *log = log_read(s);
        size_t n = strlen(log);
        const char *start = log;
        if (n > 6000) start = log + n - 6000;
        fprintf(stderr,
                "---- server pid %d port %d (%s), dir %s, log tail (%zu "
                "bytes total) ----\n%s\n---- end of log ----\n",
                (int)s->pid, s->port, s->exited ? server_status_str(s) : "running", s->dir, n,
                start);
        free(log);
    }
}

__attribute__((noreturn)) static void fail_common(void)
{
    g_failed = 1;
    if (g_nservers > 0) {
        /* reap any that already died so the status is shown */
        for (int i = 0; i < g_nservers; i++)
            server_exited(g_servers[i]);
        dump_server_logs();
    }
    if (g_ntempdirs > 0)
        fprintf(stderr, "(temp dirs kept for inspection, e.g. %s)\n", g_tempdirs[0]);
    /* _exit: skip LeakSanitizer's report of what the aborted test still held,
     * which would bury the failure message. */
    kill_all_servers();
    _exit(1);
}

void h_fail(const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "FAIL %s:%d: ", file, line);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    fail_common();
}

void h_fail_expr(const char *file, int line, const char *expr, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "FAIL %s:%d: CHECK(%s) failed: ", file, line, expr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    fail_common();
}

const char *h_escape(const void *data, size_t len)
{
    static char ring[4][2048];
    static int idx;
    char *out = ring[idx];
    idx = (idx + 1) % 4;
    const unsigned char *p = data;
    size_t o = 0;
    size_t limit = sizeof ring[0] - 40;
    if (!data) {
        snprintf(out, sizeof ring[0], "(null)");
        return out;
    }
    for (size_t i = 0; i < len; i++) {
        if (o >= limit) {
            o += (size_t)snprintf(out + o, sizeof ring[0] - o, "...(%zu more bytes)", len - i);
            break;
        }
        unsigned char ch = p[i];
        if (ch == '\r') {
            out[o++] = '\\';
            out[o++] = 'r';
        } else if (ch == '\n') {
            out[o++] = '\\';
            out[o++] = 'n';
        } else if (ch == '\\') {
            out[o++] = '\\';
            out[o++] = '\\';
        } else if (ch < 0x20 || ch >= 0x7f) {
            o += (size_t)snprintf(out + o, sizeof ring[0] - o, "\\x%02x", ch);
        } else {
            out[o++] = (char)ch;
        }
    }
    out[o < sizeof ring[0] ? o : sizeof ring[0] - 1] = '\0';
    return out;
}

void h_check_str_eq(const char *file, int line, const char *expr, const char *actual,
                    const char *expected)
{
    if (actual == NULL || strcmp(actual, expected) != 0) {
        h_fail(file, line, "%s: expected \"%s\", got %s%s%s", expr,
               h_escape(expected, strlen(expected)), actual ? "\"" : "",
               actual ? h_escape(actual, strlen(actual)) : "NULL", actual ? "\"" : "");
    }
}

void h_check_contains(const char *file, int line, const char *expr, const char *hay,
                      const char *needle, int want)
{
    int has = hay && strstr(hay, needle) != NULL;
    if (has != want) {
        h_fail(file, line, "%s %s \"%s\"; it is: %s%s%s", expr,
               want ? "does not contain" : "unexpectedly contains",
               h_escape(needle, strlen(needle)), hay ? "\"" : "",
               hay ? h_escape(hay, strlen(hay)) : "NULL", hay ? "\"" : "");
    }
}

/* ------------------------------------------------------------------ */
/* Time                                                                 */
/* ------------------------------------------------------------------ */

int64_t h_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void h_sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

/* ------------------------------------------------------------------ */
/* Environment and files                                                */
/* ------------------------------------------------------------------ */

/* $PARKHOST_BIN / $PARKHOST_SRC (set by ctest); a CMake build also compiles
 * in defaults so the test binary can be run by hand. */
const char *h_bin(void)
{
    const char *b = getenv("PARKHOST_BIN");
#ifdef PARKHOST_TEST_DEFAULT_BIN
    if (!b || !*b) b = PARKHOST_TEST_DEFAULT_BIN;
#endif
    if (!b || !*b)
        h_fail(__FILE__, __LINE__, "PARKHOST_BIN is not set (path of the parkhost binary)");
    return b;
}

const char *h_src(void)
{
    const char *b = getenv("PARKHOST_SRC");
#ifdef PARKHOST_TEST_DEFAULT_SRC
    if (!b || !*b) b = PARKHOST_TEST_DEFAULT_SRC;
#endif
    if (!b || !*b) h_fail(__FILE__, __LINE__, "PARKHOST_SRC is not set (project source directory)");
    return b;
}

const char *h_tempdir(void)
{
    if (g_ntempdirs >= MAX_TEMPDIRS) h_fail(__FILE__, __LINE__, "too many temp dirs");
    char *d = g_tempdirs[g_ntempdirs];
    const char *tmp = getenv("TMPDIR");
    snprintf(d, H_PATH_MAX, "%s/parkhost-test-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(d)) h_fail(__FILE__, __LINE__, "mkdtemp(%s): %s", d, strerror(errno));
    g_ntempdirs++;
    return d;
}

void h_write_file(const char *path, const char *content)
{
    FILE *f = fopen(path, "w");
    if (!f) h_fail(__FILE__, __LINE__, "fopen(%s): %s", path, strerror(errno));
    fputs(content, f);
    fclose(f);
}

static char *read_file_all(const char *path, size_t *len_out)
{
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    if (!buf) abort();
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        for (;;) {
            if (len + 1 >= cap) {
                cap *= 2;
                buf = realloc(buf, cap);
                if (!buf) abort();
            }
            ssize_t n = read(fd, buf + len, cap - len - 1);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) break;
            len += (size_t)n;
        }
        close(fd);
    }
    buf[len] = '\0';
    if (len_out) *len_out = len;
    return buf;
}

/* ------------------------------------------------------------------ */
/* Server process                                                       */
/* ------------------------------------------------------------------ */

static void child_exec(const char *const *argv, int out_fd, int err_fd)
{
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    /* Give the server default signal dispositions: in particular SIGPIPE
     * must not be inherited as ignored, so a server that forgets to handle
     * it is caught. */
    signal(SIGPIPE, SIG_DFL);
    signal(SIGALRM, SIG_DFL);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    alarm(0);
    int devnull = open("/dev/null", O_RDONLY);
    if (devnull >= 0) {
        dup2(devnull, 0);
        close(devnull);
    }
    dup2(out_fd, 1);
    dup2(err_fd, 2);
    execv(argv[0], (char *const *)argv);
    fprintf(stderr, "execv(%s) failed: %s\n", argv[0], strerror(errno));
    _exit(127);
}

const char *server_status_str(const server_t *s)
{
    static char buf[64];
    if (!s->exited)
        snprintf(buf, sizeof buf, "still running");
    else if (WIFEXITED(s->status))
        snprintf(buf, sizeof buf, "exit status %d", WEXITSTATUS(s->status));
    else if (WIFSIGNALED(s->status))
        snprintf(buf, sizeof buf, "killed by signal %d (%s)", WTERMSIG(s->status),
                 strsignal(WTERMSIG(s->status)));
    else
        snprintf(buf, sizeof buf, "status 0x%x", s->status);
    return buf;
}

int server_exited(server_t *s)
{
    if (s->exited) return 1;
    if (s->pid <= 0) return 1;
    int st;
    pid_t r = waitpid(s->pid, &st, WNOHANG);
    if (r == s->pid) {
        s->exited = 1;
        s->status = st;
        return 1;
    }
    return 0;
}

int server_wait_exit(server_t *s, int timeout_ms)
{
    int64_t deadline = h_now_ms() + timeout_ms;
    for (;;) {
        if (server_exited(s)) return 1;
        if (h_now_ms() >= deadline) return 0;
        h_sleep_ms(5);
    }
}

int server_signal_and_wait(server_t *s, int sig, int timeout_ms)
{
    if (!server_exited(s)) kill(s->pid, sig);
    return server_wait_exit(s, timeout_ms);
}

static int parse_port(const char *log, int *port)
{
    static const char needle[] = "listening on http://127.0.0.1:";
    const char *p = strstr(log, needle);
    if (!p) return 0;
    p += sizeof needle - 1;
    if (!isdigit((unsigned char)*p)) return 0;
    long v = 0;
    while (isdigit((unsigned char)*p)) {
        v = v * 10 + (*p - '0');
        p++;
    }
    if (*p == '\0') /* line maybe not complete yet */
        return 0;
    if (v <= 0 || v > 65535) return 0;
    *port = (int)v;
    return 1;
}

void server_start_argv(server_t *s, int flags, const char *const *extra)
{
    memset(s, 0, sizeof *s);
    const char *bin = h_bin();
    const char *src = h_src();
    snprintf(s->dir, sizeof s->dir, "%s", h_tempdir());
    snprintf(s->log_path, sizeof s->log_path, "%s/stderr.log", s->dir);
    snprintf(s->out_path, sizeof s->out_path, "%s/stdout.log", s->dir);
    snprintf(s->db_path, sizeof s->db_path, "%s/parkhost.db", s->dir);
    snprintf(s->pid_path, sizeof s->pid_path, "%s/parkhost.pid", s->dir);
    snprintf(s->upload_path, sizeof s->upload_path, "%s/uploads", s->dir);

    static char plug1[H_PATH_MAX], plug2[H_PATH_MAX], site[H_PATH_MAX];
    snprintf(plug1, sizeof plug1, "%s/plugins", src);
    snprintf(plug2, sizeof plug2, "%s/tests/fixtures/plugins", src);
    snprintf(site, sizeof site, "%s/tests/fixtures/site.lua", src);

    /* The test site's columns, as an administrator would import them. */
    cli_result_t imp;
    const char *import[] = {"site",      "import", site,   "--plugins", plug1,
                            "--plugins", plug2,    "--db", s->db_path,  NULL};
    cli_run(&imp, 20000, import);
    if (imp.timed_out || !WIFEXITED(imp.status) || WEXITSTATUS(imp.status) != 0)
        h_fail(__FILE__, __LINE__, "parkhost site import %s failed: %s", site, imp.err);
    cli_free(&imp);

    const char *argv[96];
    int n = 0;
    argv[n++] = bin;
    argv[n++] = "serve";
    if (!(flags & SRV_NO_HOST_PORT)) {
        argv[n++] = "--host";
        argv[n++] = "127.0.0.1";
        argv[n++] = "--port";
        argv[n++] = "0";
    }
    argv[n++] = "--plugins";
    argv[n++] = plug1;
    argv[n++] = "--plugins";
    argv[n++] = plug2;
    argv[n++] = "--db";
    argv[n++] = s->db_path;
    argv[n++] = "--pid-file";
    argv[n++] = s->pid_path;
    argv[n++] = "--upload-dir";
    argv[n++] = s->upload_path;
    argv[n++] = "--workers"; /* one process's state per test; flags in `extra` override */
    argv[n++] = "1";
    for (int i = 0; extra && extra[i] && n < 94; i++)
        argv[n++] = extra[i];
    argv[n] = NULL;

    char cmdline[4096];
    size_t o = 0;
    for (int i = 0; i < n && o < sizeof cmdline - 2; i++)
        o += (size_t)snprintf(cmdline + o, sizeof cmdline - o, "%s%s", i ? " " : "", argv[i]);
    fprintf(stderr, "# starting: %s\n", cmdline);

    int out_fd = open(s->out_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    int err_fd = open(s->log_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (out_fd < 0 || err_fd < 0)
        h_fail(__FILE__, __LINE__, "cannot create log files in %s: %s", s->dir, strerror(errno));

    pid_t pid = fork();
    if (pid < 0) h_fail(__FILE__, __LINE__, "fork: %s", strerror(errno));
    if (pid == 0) child_exec(argv, out_fd, err_fd);
    close(out_fd);
    close(err_fd);
    s->pid = pid;
    register_server(s);

    /* Wait for the listening line. Generous: sanitizer builds start slowly. */
    int64_t deadline = h_now_ms() + 20000;
    for (;;) {
        char *log = log_read(s);
        int ok = parse_port(log, &s->port);
        free(log);
        if (ok) break;
        if (server_exited(s))
            h_fail(__FILE__, __LINE__, "server exited before listening (%s); command: %s",
                   server_status_str(s), cmdline);
        if (h_now_ms() > deadline)
            h_fail(__FILE__, __LINE__,
                   "server did not print 'listening on "
                   "http://127.0.0.1:PORT' within 20 s; command: %s",
                   cmdline);
        h_sleep_ms(10);
    }
    fprintf(stderr, "# server pid %d listening on port %d\n", (int)s->pid, s->port);
}

void server_start(server_t *s, ...)
{
    const char *extra[64];
    int n = 0;
    va_list ap;
    va_start(ap, s);
    const char *a;
    while ((a = va_arg(ap, const char *)) != NULL && n < 63)
        extra[n++] = a;
    va_end(ap);
    extra[n] = NULL;
    server_start_argv(s, 0, extra);
}

static void remove_tempdir_of(server_t *s)
{
    if (g_failed) return;
    for (int i = 0; i < g_ntempdirs; i++) {
        if (strcmp(g_tempdirs[i], s->dir) == 0) {
            rm_rf(g_tempdirs[i]);
            memmove(&g_tempdirs[i], &g_tempdirs[i + 1],
                    (size_t)(g_ntempdirs - i - 1) * sizeof g_tempdirs[0]);
            g_ntempdirs--;
            break;
        }
    }
}

void server_check_exit0(const char *file, int line, server_t *s)
{
    if (!server_exited(s)) h_fail(file, line, "server pid %d has not exited", (int)s->pid);
    if (!WIFEXITED(s->status) || WEXITSTATUS(s->status) != 0)
        h_fail(file, line,
               "server pid %d did not exit cleanly: %s (expected exit "
               "status 0)",
               (int)s->pid, server_status_str(s));
    unregister_server(s);
    remove_tempdir_of(s);
}

void server_stop_ok(const char *file, int line, server_t *s)
{
    if (server_exited(s))
        h_fail(file, line, "server pid %d died before being stopped: %s", (int)s->pid,
               server_status_str(s));
    kill(s->pid, SIGTERM);
    if (!server_wait_exit(s, 20000)) {
        kill(s->pid, SIGKILL);
        server_wait_exit(s, 5000);
        h_fail(file, line, "server pid %d did not exit within 20 s of SIGTERM (killed)",
               (int)s->pid);
    }
    server_check_exit0(file, line, s);
}

char *log_read(const server_t *s)
{
    size_t len;
    char *b = read_file_all(s->log_path, &len);
    for (size_t i = 0; i < len; i++)
        if (b[i] == '\0') b[i] = '?';
    return b;
}

int log_contains(const server_t *s, const char *needle)
{
    char *log = log_read(s);
    int r = strstr(log, needle) != NULL;
    free(log);
    return r;
}

int log_wait(const server_t *s, const char *needle, int timeout_ms)
{
    int64_t deadline = h_now_ms() + timeout_ms;
    for (;;) {
        if (log_contains(s, needle)) return 1;
        if (h_now_ms() >= deadline) return 0;
        h_sleep_ms(10);
    }
}

char *log_find_line(const server_t *s, ...)
{
    const char *needles[16];
    int n = 0;
    va_list ap;
    va_start(ap, s);
    const char *a;
    while ((a = va_arg(ap, const char *)) != NULL && n < 16)
        needles[n++] = a;
    va_end(ap);

    char *log = log_read(s);
    char *result = NULL;
    char *line = log;
    while (line && *line) {
        char *nl = strchr(line, '\n');
        if (nl) *nl = '\0';
        int all = 1;
        for (int i = 0; i < n; i++)
            if (!strstr(line, needles[i])) {
                all = 0;
                break;
            }
        if (all) {
            result = strdup(line);
            break;
        }
        line = nl ? nl + 1 : NULL;
    }
    free(log);
    return result;
}

/* ------------------------------------------------------------------ */
/* Connections                                                          */
/* ------------------------------------------------------------------ */

conn_t *conn_try_open(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) return NULL;
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int rc = connect(fd, (struct sockaddr *)&sa, sizeof sa);
    if (rc != 0 && errno == EINPROGRESS) {
        struct pollfd p = {fd, POLLOUT, 0};
        rc = poll(&p, 1, 5000);
        if (rc == 1) {
            int err = 0;
            socklen_t l = sizeof err;
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &l);
            if (err) {
                errno = err;
                rc = -1;
            } else {
                rc = 0;
            }
        } else {
            errno = ETIMEDOUT;
            rc = -1;
        }
    }
    if (rc != 0) {
        int e = errno;
        close(fd);
        errno = e;
        return NULL;
    }
    int fl = fcntl(fd, F_GETFL);
    fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    struct timeval tv = {10, 0};
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    conn_t *c = calloc(1, sizeof *c);
    if (!c) abort();
    c->fd = fd;
    return c;
}

conn_t *conn_open_at(const char *file, int line, int port)
{
    conn_t *c = conn_try_open(port);
    if (!c) h_fail(file, line, "connect to 127.0.0.1:%d failed: %s", port, strerror(errno));
    return c;
}

void conn_close(conn_t *c)
{
    if (!c) return;
    if (c->fd >= 0) close(c->fd);
    free(c->buf);
    free(c);
}

void conn_abort(conn_t *c)
{
    if (!c) return;
    struct linger lg = {1, 0};
    setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    conn_close(c);
}

int conn_send(conn_t *c, const void *data, size_t len)
{
    const char *p = data;
    while (len > 0) {
        ssize_t n = send(c->fd, p, len, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

int conn_sendstr(conn_t *c, const char *s)
{
    return conn_send(c, s, strlen(s));
}

int conn_sendf(conn_t *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = NULL;
    int n = vasprintf(&s, fmt, ap);
    va_end(ap);
    if (n < 0) abort();
    int rc = conn_send(c, s, (size_t)n);
    free(s);
    return rc;
}

int conn_send_request(conn_t *c, const char *method, const char *path, const char *extra_headers,
                      const void *body, size_t body_len)
{
    char *head = NULL;
    int n;
    if (body)
        n = asprintf(&head,
                     "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\n%sContent-Length: "
                     "%zu\r\n\r\n",
                     method, path, extra_headers ? extra_headers : "", body_len);
    else
        n = asprintf(&head, "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\n%s\r\n", method, path,
                     extra_headers ? extra_headers : "");
    if (n < 0) abort();
    size_t total = (size_t)n + (body ? body_len : 0);
    char *msg = malloc(total + 1);
    if (!msg) abort();
    memcpy(msg, head, (size_t)n);
    if (body && body_len) memcpy(msg + n, body, body_len);
    free(head);
    int rc = conn_send(c, msg, total);
    free(msg);
    return rc;
}

size_t conn_pending(const conn_t *c)
{
    return c->len - c->off;
}

long conn_fill(conn_t *c, int timeout_ms)
{
    if (c->eof) return 0;
    if (c->off > 0 && c->off == c->len) {
        c->off = c->len = 0;
    }
    if (c->cap - c->len < 65536) {
        if (c->off > 0 && c->off >= c->len / 2) {
            memmove(c->buf, c->buf + c->off, c->len - c->off);
            c->len -= c->off;
            c->off = 0;
        }
        if (c->cap - c->len < 65536) {
            size_t ncap = c->cap ? c->cap * 2 : 131072;
            while (ncap - c->len < 65536)
                ncap *= 2;
            c->buf = realloc(c->buf, ncap + 1);
            if (!c->buf) abort();
            c->cap = ncap;
        }
    }
    int64_t deadline = h_now_ms() + timeout_ms;
    for (;;) {
        int64_t left = deadline - h_now_ms();
        if (left < 0) left = 0;
        struct pollfd p = {c->fd, POLLIN, 0};
        int pr = poll(&p, 1, (int)left);
        if (pr < 0 && errno == EINTR) continue;
        if (pr == 0) return -1;
        ssize_t n = recv(c->fd, c->buf + c->len, c->cap - c->len, 0);
        if (n < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                if (h_now_ms() >= deadline) return -1;
                continue;
            }
            c->eof = 1;
            c->reset = 1;
            return 0;
        }
        if (n == 0) {
            c->eof = 1;
            return 0;
        }
        c->len += (size_t)n;
        c->buf[c->len] = '\0';
        return n;
    }
}

int conn_wait_closed(conn_t *c, int timeout_ms, size_t *extra)
{
    int64_t deadline = h_now_ms() + timeout_ms;
    size_t got = conn_pending(c);
    c->off = c->len = 0;
    for (;;) {
        int64_t left = deadline - h_now_ms();
        if (c->eof) {
            if (extra) *extra = got;
            return 1;
        }
        if (left <= 0) {
            if (extra) *extra = got;
            return 0;
        }
        long n = conn_fill(c, (int)left);
        if (n > 0) {
            got += (size_t)n;
            c->off = c->len = 0;
        }
    }
}

char *conn_read_all(conn_t *c, int timeout_ms, size_t *len, int *closed)
{
    int64_t deadline = h_now_ms() + timeout_ms;
    while (!c->eof) {
        int64_t left = deadline - h_now_ms();
        if (left <= 0) break;
        if (conn_fill(c, (int)left) < 0) break;
    }
    size_t n = conn_pending(c);
    char *out = malloc(n + 1);
    if (!out) abort();
    if (n) memcpy(out, c->buf + c->off, n);
    out[n] = '\0';
    c->off = c->len = 0;
    if (len) *len = n;
    if (closed) *closed = c->eof;
    return out;
}

/* ------------------------------------------------------------------ */
/* Responses                                                            */
/* ------------------------------------------------------------------ */

void resp_free(resp_t *r)
{
    free(r->head);
    free(r->body);
    for (int i = 0; i < r->nhdrs; i++) {
        free(r->hdrs[i].name);
        free(r->hdrs[i].value);
    }
    memset(r, 0, sizeof *r);
}

static char *strndup_trim(const char *p, size_t n)
{
    while (n > 0 && (*p == ' ' || *p == '\t')) {
        p++;
        n--;
    }
    while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
        n--;
    char *s = malloc(n + 1);
    if (!s) abort();
    memcpy(s, p, n);
    s[n] = '\0';
    return s;
}

static const char *find_head_end(const char *buf, size_t len)
{
    if (len < 4) return NULL;
    for (size_t i = 0; i + 3 < len; i++)
        if (buf[i] == '\r' && buf[i + 1] == '\n' && buf[i + 2] == '\r' && buf[i + 3] == '\n')
            return buf + i;
    return NULL;
}

#define SET_ERR(...)                                                                               \
    do {                                                                                           \
        if (err) snprintf(err, errsz, __VA_ARGS__);                                                \
    } while (0)

/* Ensures at least `need` unread bytes are buffered. */
static int need_bytes(conn_t *c, size_t need, int64_t deadline)
{
    while (conn_pending(c) < need) {
        int64_t left = deadline - h_now_ms();
        if (left <= 0) return -1;
        long n = conn_fill(c, (int)left);
        if (n < 0) return -1;
        if (n == 0) return -2;
    }
    return 0;
}

static int parse_head(resp_t *r, char *err, size_t errsz)
{
    char *p = r->head;
    char *eol = strstr(p, "\r\n");
    if (!eol) {
        SET_ERR("no status line");
        return -1;
    }
    int major = 0, minor = 0, status = 0, consumed = 0;
    if (sscanf(p, "HTTP/%d.%d %3d%n", &major, &minor, &status, &consumed) < 3 || major != 1 ||
        status < 100 || status > 999 || (p[consumed] != ' ' && p + consumed != eol)) {
        SET_ERR("bad status line: \"%s\"", h_escape(p, (size_t)(eol - p)));
        return -1;
    }
    r->status = status;
    r->minor = minor;
    p = eol + 2;
    while (*p && !(p[0] == '\r' && p[1] == '\n')) {
        eol = strstr(p, "\r\n");
        if (!eol) {
            SET_ERR("header line without CRLF");
            return -1;
        }
        char *colon = memchr(p, ':', (size_t)(eol - p));
        if (!colon || colon == p) {
            SET_ERR("bad header line: \"%s\"", h_escape(p, (size_t)(eol - p)));
            return -1;
        }
        if (r->nhdrs >= RESP_MAX_HEADERS) {
            SET_ERR("too many headers");
            return -1;
        }
        r->hdrs[r->nhdrs].name = strndup_trim(p, (size_t)(colon - p));
        r->hdrs[r->nhdrs].value = strndup_trim(colon + 1, (size_t)(eol - colon - 1));
        r->nhdrs++;
        p = eol + 2;
    }
    return 0;
}

int conn_read_response(conn_t *c, resp_t *r, int head_request, int timeout_ms, char *err,
                       size_t errsz)
{
    memset(r, 0, sizeof *r);
    int64_t deadline = h_now_ms() + timeout_ms;
    const char *end;
    for (;;) {
        end = find_head_end(c->buf ? c->buf + c->off : NULL, conn_pending(c));
        if (end) break;
        int64_t left = deadline - h_now_ms();
        long n = left > 0 ? conn_fill(c, (int)left) : -1;
        if (n < 0) {
            SET_ERR("timeout after %d ms waiting for response head; "
                    "received so far: \"%s\"",
                    timeout_ms, h_escape(c->buf ? c->buf + c->off : "", conn_pending(c)));
            return -1;
        }
        if (n == 0) {
            SET_ERR("connection %s before a complete response head; "
                    "received: \"%s\"",
                    c->reset ? "reset" : "closed",
                    h_escape(c->buf ? c->buf + c->off : "", conn_pending(c)));
            return -1;
        }
    }
    size_t head_len = (size_t)(end - (c->buf + c->off)) + 4;
    r->head = malloc(head_len + 1);
    if (!r->head) abort();
    memcpy(r->head, c->buf + c->off, head_len);
    r->head[head_len] = '\0';
    r->head_len = head_len;
    c->off += head_len;
    if (parse_head(r, err, errsz) != 0) return -1;

    int no_body = head_request || (r->status >= 100 && r->status < 200) || r->status == 204 ||
                  r->status == 304;
    if (no_body) {
        r->body = calloc(1, 1);
        return 0;
    }
    const char *cl = resp_header(r, "Content-Length");
    const char *te = resp_header(r, "Transfer-Encoding");
    if (cl) {
        char *endp;
        errno = 0;
        unsigned long long v = strtoull(cl, &endp, 10);
        if (errno || *endp || endp == cl) {
            SET_ERR("bad Content-Length \"%s\"", cl);
            return -1;
        }
        int rc = need_bytes(c, (size_t)v, deadline);
        if (rc != 0) {
            SET_ERR("%s while reading body: wanted %llu bytes, have %zu",
                    rc == -1 ? "timeout" : "connection closed", v, conn_pending(c));
            return -1;
        }
        r->body = malloc((size_t)v + 1);
        if (!r->body) abort();
        memcpy(r->body, c->buf + c->off, (size_t)v);
        r->body[v] = '\0';
        r->body_len = (size_t)v;
        c->off += (size_t)v;
        return 0;
    }
    if (te && strcasestr(te, "chunked")) {
        /* Minimal chunked decoder (the contract says the server never
         * sends chunked, h_check_common flags it; decode anyway so the
         * stream stays in sync). */
        size_t cap = 4096, blen = 0;
        char *body = malloc(cap);
        for (;;) {
            const char *nl;
            for (;;) {
                nl = memmem(c->buf + c->off, conn_pending(c), "\r\n", 2);
                if (nl) break;
                if (need_bytes(c, conn_pending(c) + 1, deadline) != 0) {
                    free(body);
                    SET_ERR("eof/timeout in chunk size");
                    return -1;
                }
            }
            unsigned long sz = strtoul(c->buf + c->off, NULL, 16);
            c->off = (size_t)(nl + 2 - c->buf);
            if (need_bytes(c, sz + 2, deadline) != 0) {
                free(body);
                SET_ERR("eof/timeout in chunk data");
                return -1;
            }
            if (sz == 0) {
                /* skip (empty) trailer */
                c->off += 2;
                break;
            }
            while (blen + sz + 1 > cap) {
                cap *= 2;
            }
            body = realloc(body, cap);
            memcpy(body + blen, c->buf + c->off, sz);
            blen += sz;
            c->off += sz + 2;
        }
        body[blen] = '\0';
        r->body = body;
        r->body_len = blen;
        return 0;
    }
    /* No framing: read until close. */
    r->body_until_close = 1;
    while (!c->eof) {
        int64_t left = deadline - h_now_ms();
        if (left <= 0 || conn_fill(c, (int)left) < 0) {
            SET_ERR("response without Content-Length; timeout waiting for "
                    "close");
            return -1;
        }
    }
    size_t n = conn_pending(c);
    r->body = malloc(n + 1);
    memcpy(r->body, c->buf + c->off, n);
    r->body[n] = '\0';
    r->body_len = n;
    c->off += n;
    return 0;
}

void h_read_resp_at(const char *file, int line, conn_t *c, resp_t *r, int head_request,
                    int timeout_ms)
{
    char err[4096];
    if (conn_read_response(c, r, head_request, timeout_ms, err, sizeof err) != 0)
        h_fail(file, line, "reading response failed: %s", err);
}

const char *resp_header(const resp_t *r, const char *name)
{
    for (int i = 0; i < r->nhdrs; i++)
        if (strcasecmp(r->hdrs[i].name, name) == 0) return r->hdrs[i].value;
    return NULL;
}

int resp_header_count(const resp_t *r, const char *name)
{
    int n = 0;
    for (int i = 0; i < r->nhdrs; i++)
        if (strcasecmp(r->hdrs[i].name, name) == 0) n++;
    return n;
}

int resp_header_has_token(const resp_t *r, const char *name, const char *token)
{
    size_t tl = strlen(token);
    for (int i = 0; i < r->nhdrs; i++) {
        if (strcasecmp(r->hdrs[i].name, name) != 0) continue;
        const char *p = r->hdrs[i].value;
        while (*p) {
            while (*p == ' ' || *p == '\t' || *p == ',')
                p++;
            const char *start = p;
            while (*p && *p != ',')
                p++;
            const char *e = p;
            while (e > start && (e[-1] == ' ' || e[-1] == '\t'))
                e--;
            if ((size_t)(e - start) == tl && strncasecmp(start, token, tl) == 0) return 1;
        }
    }
    return 0;
}

void h_check_status(const char *file, int line, const resp_t *r, int code)
{
    if (r->status != code)
        h_fail(file, line,
               "expected status %d, got %d; response head: \"%s\"; body: "
               "\"%s\"",
               code, r->status, h_escape(r->head, r->head_len),
               h_escape(r->body, r->body_len > 600 ? 600 : r->body_len));
}

void h_check_header(const char *file, int line, const resp_t *r, const char *name,
                    const char *value)
{
    const char *v = resp_header(r, name);
    if (!v || strcmp(v, value) != 0)
        h_fail(file, line,
               "expected header \"%s: %s\", got %s%s%s; response head: "
               "\"%s\"",
               name, value, v ? "\"" : "", v ? v : "none", v ? "\"" : "",
               h_escape(r->head, r->head_len));
}

void h_check_body(const char *file, int line, const resp_t *r, const void *data, size_t len)
{
    if (r->body_len != len || memcmp(r->body, data, len) != 0)
        h_fail(file, line,
               "body mismatch: expected %zu bytes \"%s\", got %zu bytes "
               "\"%s\"",
               len, h_escape(data, len > 300 ? 300 : len), r->body_len,
               h_escape(r->body, r->body_len > 300 ? 300 : r->body_len));
}

static int valid_imf_date(const char *v)
{
    /* e.g. "Sun, 06 Nov 1994 08:49:37 GMT" */
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    if (strlen(v) != 29) return 0;
    const char *end = strptime(v, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    return end && *end == '\0';
}

void h_check_common(const char *file, int line, const resp_t *r, int head_request)
{
    const char *h = h_escape(r->head, r->head_len);
    if (strncmp(r->head, "HTTP/1.1 ", 9) != 0)
        h_fail(file, line, "status line is not HTTP/1.1: \"%s\"", h);
    const char *date = resp_header(r, "Date");
    if (!date || !valid_imf_date(date))
        h_fail(file, line, "missing or malformed Date header: \"%s\"", h);
    if (resp_header_count(r, "Date") != 1)
        h_fail(file, line, "Date header not exactly once: \"%s\"", h);
    if (resp_header(r, "Transfer-Encoding"))
        h_fail(file, line, "unexpected Transfer-Encoding: \"%s\"", h);
    const char *cl = resp_header(r, "Content-Length");
    if (!cl) h_fail(file, line, "missing Content-Length: \"%s\"", h);
    if (resp_header_count(r, "Content-Length") != 1)
        h_fail(file, line, "Content-Length not exactly once: \"%s\"", h);
    if (!head_request) {
        char buf[32];
        snprintf(buf, sizeof buf, "%zu", r->body_len);
        if (strcmp(buf, cl) != 0)
            h_fail(file, line, "Content-Length %s does not match body length %zu", cl, r->body_len);
    }
    const char *rid = resp_header(r, "X-Request-Id");
    int ok = rid && strlen(rid) == 16;
    for (int i = 0; ok && i < 16; i++)
        if (!((rid[i] >= '0' && rid[i] <= '9') || (rid[i] >= 'a' && rid[i] <= 'f'))) ok = 0;
    if (!ok)
        h_fail(file, line,
               "missing or malformed X-Request-Id (want 16 lowercase hex "
               "chars): \"%s\"",
               h);
}

void h_check_closes(const char *file, int line, conn_t *c, const resp_t *r)
{
    if (!resp_header_has_token(r, "Connection", "close"))
        h_fail(file, line, "response lacks \"Connection: close\"; response head: \"%s\"",
               h_escape(r->head, r->head_len));
    size_t extra = 0;
    if (!conn_wait_closed(c, 5000, &extra))
        h_fail(file, line,
               "server did not close the connection within 5 s after a "
               "Connection: close response");
    if (extra)
        h_fail(file, line,
               "server sent %zu unexpected bytes after the response before "
               "closing",
               extra);
}

/* ------------------------------------------------------------------ */
/* Convenience                                                          */
/* ------------------------------------------------------------------ */

void h_get_at(const char *file, int line, int port, const char *path, resp_t *r)
{
    conn_t *c = conn_open_at(file, line, port);
    if (conn_sendf(c,
                   "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: "
                   "close\r\n\r\n",
                   path) != 0)
        h_fail(file, line, "send failed: %s", strerror(errno));
    h_read_resp_at(file, line, c, r, 0, 15000);
    conn_close(c);
}

void h_check_hello(const char *file, int line, int port)
{
    resp_t r;
    h_get_at(file, line, port, "/hello", &r);
    h_check_status(file, line, &r, 200);
    h_check_body(file, line, &r, "Hello, World!", 13);
    h_check_common(file, line, &r, 0);
    resp_free(&r);
}

void h_check_alive(const char *file, int line, server_t *s)
{
    if (server_exited(s)) h_fail(file, line, "server process died: %s", server_status_str(s));
}

/* ------------------------------------------------------------------ */
/* CLI                                                                  */
/* ------------------------------------------------------------------ */

void cli_run(cli_result_t *res, int timeout_ms, const char *const *args)
{
    memset(res, 0, sizeof *res);
    const char *dir = h_tempdir();
    char outp[H_PATH_MAX], errp[H_PATH_MAX];
    snprintf(outp, sizeof outp, "%s/cli.out", dir);
    snprintf(errp, sizeof errp, "%s/cli.err", dir);
    const char *argv[64];
    int n = 0;
    argv[n++] = h_bin();
    for (int i = 0; args[i] && n < 63; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    int out_fd = open(outp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    int err_fd = open(errp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (out_fd < 0 || err_fd < 0)
        h_fail(__FILE__, __LINE__, "cannot create %s: %s", outp, strerror(errno));
    pid_t pid = fork();
    if (pid < 0) h_fail(__FILE__, __LINE__, "fork: %s", strerror(errno));
    if (pid == 0) child_exec(argv, out_fd, err_fd);
    close(out_fd);
    close(err_fd);
    int64_t deadline = h_now_ms() + timeout_ms;
    for (;;) {
        pid_t r = waitpid(pid, &res->status, WNOHANG);
        if (r == pid) break;
        if (h_now_ms() > deadline) {
            kill(pid, SIGKILL);
            waitpid(pid, &res->status, 0);
            res->timed_out = 1;
            break;
        }
        h_sleep_ms(5);
    }
    res->out = read_file_all(outp, NULL);
    res->err = read_file_all(errp, NULL);
    int code = WIFEXITED(res->status) ? WEXITSTATUS(res->status) : WTERMSIG(res->status);
    size_t ol = strlen(res->out), el = strlen(res->err);
    fprintf(stderr, "# cli %s %d%s\n# cli stdout: %s\n# cli stderr: %s\n",
            WIFEXITED(res->status) ? "exit status" : "killed by signal", code,
            res->timed_out ? " (timed out)" : "", h_escape(res->out, ol > 800 ? 800 : ol),
            h_escape(res->err, el > 800 ? 800 : el));
}

void cli_free(cli_result_t *res)
{
    free(res->out);
    free(res->err);
    memset(res, 0, sizeof *res);
}
