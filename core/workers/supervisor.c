/* The supervisor: starts the workers, replaces those that die, relays their
 * signals and answers `parkhost status`. It runs no plugin code and opens no
 * database: a bug there cannot take it down with a worker. */
#include "base/base.h"
#include "log/log.h"
#include "workers/workers.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

extern char **environ;

enum {
    SUP__STABLE_MS = 10000,    /* a worker that lived this long starts again at once */
    SUP__FIRST_DELAY_MS = 100, /* the second death in a row waits this, then doubles */
    SUP__CLOSE_PAST_MS = 1000, /* a slot waiting longer gives back its queued connections */
    SUP__RELOAD_WAIT_MS = 60000,
    SUP__MSG_MAX = 512,
};

typedef enum { SLOT_IDLE, SLOT_STARTING, SLOT_READY, SLOT_STOPPING } slot_state;

typedef struct sup sup;

typedef struct {
    sup *s;
    unsigned index;
    slot_state state;
    int listen_fd; /* kept open by the supervisor for the slot's next worker */
    int bus_fd;    /* the supervisor's end */
    uv_process_t proc;
    bool proc_open;
    uv_poll_t bus;
    bool bus_open;
    uv_timer_t restart;
    uint64_t started_ms; /* uv_now when the current worker started */
    unsigned deaths;     /* deaths in a row, each within SUP__STABLE_MS of its start */
    unsigned restarts;   /* workers started after the first */
    uint64_t next_delay_ms;
    bool hung;        /* killed by sup__on_hang_check */
    uint64_t dropped; /* messages its bus refused */
} sup_slot;

struct sup {
    uv_loop_t loop;
    const ph_conf *conf;
    char **argv;
    char exe[4096];
    char **env; /* environ with PARKHOST_WORKER at [0], rewritten per spawn */
    char worker_env[64];
    workers_page *page;
    int page_fd;
    unsigned n;
    sup_slot slot[WORKERS_MAX];
    struct sockaddr_storage addr;
    socklen_t addrlen;
    int port;
    bool serving; /* every worker was ready once: the site started */
    bool stopping;
    bool done; /* every handle closed: the loop ends */
    int status;
    uv_signal_t sigterm, sigint, sighup;
    uv_prepare_t flush;    /* the log, once per loop turn */
    uv_timer_t hang_timer; /* looks at the workers' beats */
    uv_pipe_t control;
    bool control_open, control_bound;
    char control_path[4096];
    /* A rolling reload: the slot being reloaded, or -1. */
    int reloading;
    bool reload_again;
    uv_timer_t reload_timer;
    uint64_t started_ms;
    uint64_t relayed;
};

static void sup__spawn(sup_slot *sl);

/* ---- sockets ----------------------------------------------------------- */

static int sup__listen_socket(sup *s, char *err, size_t errlen)
{
    int fd = socket(s->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) ||
        setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) ||
        bind(fd, (struct sockaddr *)&s->addr, s->addrlen) || listen(fd, 511)) {
        snprintf(err, errlen, "%s", strerror(errno));
        if (fd >= 0) close(fd);
        return -1;
    }
    if (s->port == 0) { /* port 0: every next socket takes the port the kernel chose */
        struct sockaddr_storage ss;
        socklen_t len = sizeof ss;
        getsockname(fd, (struct sockaddr *)&ss, &len);
        s->port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                                 : ((struct sockaddr_in *)&ss)->sin_port);
        if (s->addr.ss_family == AF_INET6)
            ((struct sockaddr_in6 *)&s->addr)->sin6_port = htons((uint16_t)s->port);
        else
            ((struct sockaddr_in *)&s->addr)->sin_port = htons((uint16_t)s->port);
    }
    return fd;
}

/* ---- the bus ----------------------------------------------------------- */

/* A message to a worker; one its full bus refuses is lost (the worker is
 * behind or stuck), counted, and logged now and then, not per message. */
static void sup__send(sup_slot *sl, const char *msg, size_t len)
{
    if (!sl->bus_open) return;
    if (send(sl->bus_fd, msg, len, MSG_DONTWAIT | MSG_NOSIGNAL) == (ssize_t)len) return;
    uint64_t n = ++sl->dropped;
    if ((n & (n - 1)) == 0) /* the 1st, 2nd, 4th, 8th... */
        log_msg(LOG_WARN, "worker %u's bus refused %llu message(s) so far: %s", sl->index,
                (unsigned long long)n, strerror(errno));
}

static void sup__reload_next(sup *s);

static void sup__on_ready(sup_slot *sl)
{
    sup *s = sl->s;
    if (sl->state == SLOT_STARTING) sl->state = SLOT_READY;
    if (s->serving) {
        if (sl->restarts)
            log_msg(LOG_INFO, "worker %u (pid %d) serves again", sl->index, sl->proc.pid);
        return;
    }
    for (unsigned i = 0; i < s->n; i++)
        if (s->slot[i].state != SLOT_READY) {
            /* Worker 0 applies the migrations alone; the others start once
             * it is ready. */
            if (sl->index == 0)
                for (unsigned j = 1; j < s->n; j++)
                    sup__spawn(&s->slot[j]);
            return;
        }
    s->serving = true;
    const char *h = s->conf->host;
    log_msg(LOG_INFO, "listening on http://%s%s%s:%d with %u worker(s)", strchr(h, ':') ? "[" : "",
            h, strchr(h, ':') ? "]" : "", s->port, s->n);
    log_flush();
}

static void sup__on_bus(uv_poll_t *p, int status, int events)
{
    (void)events;
    sup_slot *sl = p->data;
    sup *s = sl->s;
    char msg[SUP__MSG_MAX];
    for (;;) {
        ssize_t n = status < 0 ? -1 : recv(sl->bus_fd, msg, sizeof msg, MSG_DONTWAIT);
        if (n < 0 && (errno == EAGAIN || errno == EINTR) && status >= 0) return;
        if (n <= 0) { /* the worker is gone; its exit is reported by sup__on_exit */
            uv_poll_stop(p);
            return;
        }
        switch (msg[0]) {
        case 'N':
        case 'R':
            for (unsigned i = 0; i < s->n; i++)
                if (&s->slot[i] != sl) sup__send(&s->slot[i], msg, (size_t)n);
            s->relayed++;
            break;
        case 'Y': sup__on_ready(sl); break;
        case 'D':
            if (s->reloading == (int)sl->index) sup__reload_next(s);
            break;
        default: break;
        }
    }
}

static void sup__bus_closed(uv_handle_t *h)
{
    sup_slot *sl = h->data;
    close(sl->bus_fd);
    sl->bus_fd = -1;
}

static void sup__proc_closed(uv_handle_t *h)
{
    (void)h;
}

/* ---- workers ----------------------------------------------------------- */

static const char *sup__death(int64_t exit_status, int sig, char *buf, size_t n)
{
    if (sig == SIGKILL)
        snprintf(buf, n,
                 "was killed (SIGKILL: by an operator, or by the kernel when memory ran "
                 "out)");
    else if (sig)
        snprintf(buf, n, "died of signal %d (%s)", sig, strsignal(sig));
    else if (exit_status == 70)
        snprintf(buf, n,
                 "was ended by its watchdog (exit status 70: plugin code stuck past "
                 "plugin-kill-ms, see above)");
    else
        snprintf(buf, n, "exited with status %lld", (long long)exit_status);
    return buf;
}

static void sup__maybe_done(sup *s)
{
    if (s->done) return;
    for (unsigned i = 0; i < s->n; i++)
        if (s->slot[i].state != SLOT_IDLE || s->slot[i].proc_open) return;
    /* Every worker is gone: close what the loop still watches. */
    s->done = true;
    uv_close((uv_handle_t *)&s->sigterm, NULL);
    uv_close((uv_handle_t *)&s->sigint, NULL);
    uv_close((uv_handle_t *)&s->sighup, NULL);
    uv_close((uv_handle_t *)&s->reload_timer, NULL);
    uv_close((uv_handle_t *)&s->flush, NULL);
    uv_close((uv_handle_t *)&s->hang_timer, NULL);
    if (s->control_open) uv_close((uv_handle_t *)&s->control, NULL);
    s->control_open = false;
    for (unsigned i = 0; i < s->n; i++)
        uv_close((uv_handle_t *)&s->slot[i].restart, NULL);
}

static void sup__stop_all(sup *s, int status)
{
    if (!s->stopping) s->status = status;
    s->stopping = true;
    /* New connections are refused once the workers have closed their
     * copies too, rather than queued where no one will take them. */
    for (unsigned i = 0; i < s->n; i++)
        if (s->slot[i].listen_fd >= 0) {
            close(s->slot[i].listen_fd);
            s->slot[i].listen_fd = -1;
        }
    for (unsigned i = 0; i < s->n; i++) {
        sup_slot *sl = &s->slot[i];
        uv_timer_stop(&sl->restart);
        if (sl->state != SLOT_IDLE) {
            sl->state = SLOT_STOPPING;
            uv_process_kill(&sl->proc, SIGTERM);
        }
    }
    sup__maybe_done(s);
}

static void sup__on_restart(uv_timer_t *t)
{
    sup_slot *sl = t->data;
    if (sl->s->stopping) return;
    if (sl->listen_fd < 0) {
        char err[256];
        if ((sl->listen_fd = sup__listen_socket(sl->s, err, sizeof err)) < 0) {
            log_msg(LOG_ERROR, "worker %u: cannot listen again: %s; next try in %llu ms", sl->index,
                    err, (unsigned long long)sl->next_delay_ms);
            uv_timer_start(&sl->restart, sup__on_restart, sl->next_delay_ms, 0);
            return;
        }
    }
    sl->restarts++;
    sup__spawn(sl);
}

static void sup__on_exit(uv_process_t *p, int64_t exit_status, int term_signal)
{
    sup_slot *sl = p->data;
    sup *s = sl->s;
    int pid = p->pid;
    slot_state was = sl->state;
    sl->state = SLOT_IDLE;
    uv_close((uv_handle_t *)p, sup__proc_closed);
    sl->proc_open = false;
    if (sl->bus_open) {
        uv_close((uv_handle_t *)&sl->bus, sup__bus_closed);
        sl->bus_open = false;
    }
    atomic_store(&s->page->slot[sl->index].requests, 0);
    atomic_store(&s->page->slot[sl->index].beat, 0);
    atomic_store(&s->page->slot[sl->index].conns, 0); /* they died with it */
    for (size_t i = 0; i < WORKERS_ADDR_COUNTERS; i++)
        atomic_store_explicit(&s->page->slot[sl->index].addr_conns[i], 0, memory_order_relaxed);
    if (s->reloading == (int)sl->index) sup__reload_next(s);
    char why[160];
    sup__death(exit_status, term_signal, why, sizeof why);
    if (sl->hung) snprintf(why, sizeof why, "was killed for hanging");
    sl->hung = false;
    if (was == SLOT_STOPPING) {
        if (exit_status || term_signal)
            log_msg(LOG_WARN, "worker %u (pid %d) %s while stopping", sl->index, pid, why);
        sup__maybe_done(s);
        return;
    }
    if (!s->serving) {
        /* The site never started: a bad setting, database or plugin would
         * fail again in every new worker. */
        log_msg(LOG_ERROR, "worker %u (pid %d) %s before it served: not started", sl->index, pid,
                why);
        sup__stop_all(s, 1);
        return;
    }
    uint64_t now = uv_now(&s->loop);
    uint64_t lived = now - sl->started_ms;
    if (lived >= SUP__STABLE_MS) sl->deaths = 0;
    sl->deaths++;
    uint64_t delay = 0;
    if (sl->deaths > 1) {
        delay = SUP__FIRST_DELAY_MS;
        for (unsigned i = 2; i < sl->deaths && delay < (uint64_t)s->conf->worker_backoff_max_ms;
             i++)
            delay *= 2;
        if (delay > (uint64_t)s->conf->worker_backoff_max_ms)
            delay = (uint64_t)s->conf->worker_backoff_max_ms;
    }
    sl->next_delay_ms = delay ? delay : SUP__FIRST_DELAY_MS;
    if (!delay) {
        log_msg(LOG_ERROR, "worker %u (pid %d) %s after %llu ms; starting a new one", sl->index,
                pid, why, (unsigned long long)lived);
        /* On the next turn: the process handle is closing until this one
         * ends, and the new worker reuses it. */
        uv_timer_start(&sl->restart, sup__on_restart, 0, 0);
        return;
    }
    log_msg(LOG_ERROR,
            "worker %u (pid %d) %s after %llu ms; it died %u times in a row: the next starts in "
            "%llu ms",
            sl->index, pid, why, (unsigned long long)lived, sl->deaths, (unsigned long long)delay);
    if (delay >= SUP__CLOSE_PAST_MS && sl->listen_fd >= 0) {
        /* Connections queued on this slot would wait that long: give them
         * back (the kernel resets them) and send new ones to the others. */
        close(sl->listen_fd);
        sl->listen_fd = -1;
    }
    uv_timer_start(&sl->restart, sup__on_restart, delay, 0);
}

static void sup__spawn(sup_slot *sl)
{
    sup *s = sl->s;
    if (s->stopping) return;
    int pair[2];
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair)) {
        log_msg(LOG_ERROR, "worker %u: cannot make its bus: %s", sl->index, strerror(errno));
        goto retry;
    }
    int big = 1 << 20;
    setsockopt(pair[0], SOL_SOCKET, SO_SNDBUF, &big, sizeof big);
    setsockopt(pair[1], SOL_SOCKET, SO_SNDBUF, &big, sizeof big);
    snprintf(s->worker_env, sizeof s->worker_env, "PARKHOST_WORKER=%u,%u,%ld", sl->index, s->n,
             (long)getpid());
    s->env[0] = s->worker_env;
    uv_stdio_container_t io[6] = {
        {.flags = UV_INHERIT_FD, .data.fd = 0},
        {.flags = UV_INHERIT_FD, .data.fd = 1},
        {.flags = UV_INHERIT_FD, .data.fd = 2},
        {.flags = UV_INHERIT_FD, .data.fd = sl->listen_fd},
        {.flags = UV_INHERIT_FD, .data.fd = pair[1]},
        {.flags = UV_INHERIT_FD, .data.fd = s->page_fd},
    };
    uv_process_options_t o = {
        .exit_cb = sup__on_exit,
        .file = s->exe,
        .args = s->argv,
        .env = s->env,
        .stdio_count = 6,
        .stdio = io,
    };
    sl->proc.data = sl;
    int rc = uv_spawn(&s->loop, &sl->proc, &o);
    close(pair[1]);
    if (rc < 0) {
        log_msg(LOG_ERROR, "worker %u: cannot start: %s", sl->index, uv_strerror(rc));
        close(pair[0]);
        uv_close((uv_handle_t *)&sl->proc, NULL);
        goto retry;
    }
    sl->proc_open = true;
    sl->bus_fd = pair[0];
    sl->bus.data = sl;
    if (uv_poll_init(&s->loop, &sl->bus, sl->bus_fd) == 0) {
        sl->bus_open = true;
        uv_poll_start(&sl->bus, UV_READABLE | UV_DISCONNECT, sup__on_bus);
    }
    sl->state = SLOT_STARTING;
    sl->started_ms = uv_now(&s->loop);
    return;
retry:
    if (!s->serving) {
        sup__stop_all(s, 1);
        return;
    }
    sl->next_delay_ms = (uint64_t)s->conf->worker_backoff_max_ms;
    uv_timer_start(&sl->restart, sup__on_restart, sl->next_delay_ms, 0);
}

/* ---- signals: stop and rolling reload ---------------------------------- */

static void sup__on_stop(uv_signal_t *sig, int signum)
{
    sup *s = sig->data;
    if (s->stopping) {
        log_msg(LOG_WARN, "received %s again: the workers close every connection now",
                signum == SIGTERM ? "SIGTERM" : "SIGINT");
        for (unsigned i = 0; i < s->n; i++)
            if (s->slot[i].state != SLOT_IDLE) uv_process_kill(&s->slot[i].proc, SIGTERM);
        return;
    }
    log_msg(LOG_INFO, "received %s: stopping %u worker(s) (in-flight requests get %lld ms)",
            signum == SIGTERM ? "SIGTERM" : "SIGINT", s->n,
            (long long)s->conf->shutdown_timeout_ms);
    sup__stop_all(s, 0);
}

static void sup__on_reload_timeout(uv_timer_t *t)
{
    sup *s = t->data;
    if (s->reloading >= 0)
        log_msg(LOG_WARN, "reload: worker %d did not finish within %d ms; going on", s->reloading,
                SUP__RELOAD_WAIT_MS);
    sup__reload_next(s);
}

/* Reload the workers one after another, each once the previous said it has
 * finished: the others keep serving meanwhile, and a plugin's new
 * migrations are applied by one worker alone. */
static void sup__reload_next(sup *s)
{
    int from = s->reloading + 1;
    uv_timer_stop(&s->reload_timer);
    s->reloading = -1;
    if (s->stopping) return;
    for (unsigned i = (unsigned)from; i < s->n; i++) {
        sup_slot *sl = &s->slot[i];
        if (sl->state != SLOT_READY) continue; /* a new worker loads the new code anyway */
        s->reloading = (int)i;
        uv_process_kill(&sl->proc, SIGHUP);
        uv_timer_start(&s->reload_timer, sup__on_reload_timeout, SUP__RELOAD_WAIT_MS, 0);
        return;
    }
    log_msg(LOG_INFO, "reload: every worker has reloaded");
    if (s->reload_again) {
        s->reload_again = false;
        log_msg(LOG_INFO, "reload: asked again meanwhile: once more");
        sup__reload_next(s);
    }
}

static void sup__on_hup(uv_signal_t *sig, int signum)
{
    (void)signum;
    sup *s = sig->data;
    if (s->stopping) return;
    if (s->reloading >= 0) {
        s->reload_again = true;
        return;
    }
    log_msg(LOG_INFO, "received SIGHUP: reloading %u worker(s) one after another", s->n);
    sup__reload_next(s);
}

/* ---- parkhost status --------------------------------------------------- */

/* The control socket's path: control-socket, or the pid file's with .sock
 * for .pid (so that servers with their own pid files never share one). */
static const char *sup__control_path(const ph_conf *c, char *buf, size_t n)
{
    if (c->control_socket[0]) return c->control_socket;
    size_t len = strlen(c->pid_file);
    if (len > 4 && !strcmp(c->pid_file + len - 4, ".pid")) len -= 4;
    snprintf(buf, n, "%.*s.sock", (int)len, c->pid_file);
    return buf;
}

static long sup__rss_kib(int pid)
{
    char path[64], buf[256];
    snprintf(path, sizeof path, "/proc/%d/statm", pid);
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    long pages = -1, rss = -1;
    if (fgets(buf, sizeof buf, f) && sscanf(buf, "%ld %ld", &pages, &rss) == 2)
        rss = rss * (sysconf(_SC_PAGESIZE) / 1024);
    fclose(f);
    return rss;
}

static void sup__written(uv_write_t *w, int status)
{
    (void)status;
    uv_close((uv_handle_t *)w->handle, (uv_close_cb)free);
    free(w->data);
    free(w);
}

static void sup__on_control(uv_stream_t *server, int status)
{
    sup *s = server->data;
    if (status < 0) return;
    uv_pipe_t *c = malloc(sizeof *c);
    if (!c) return;
    uv_pipe_init(&s->loop, c, 0);
    if (uv_accept(server, (uv_stream_t *)c) < 0) {
        uv_close((uv_handle_t *)c, (uv_close_cb)free);
        return;
    }
    ph_buf b = {0};
    char line[256];
    uint64_t now = uv_now(&s->loop);
    int n =
        snprintf(line, sizeof line,
                 "supervisor pid %ld, up %llu s, port %d, %u worker(s), %llu signal(s) "
                 "relayed%s\n%-6s %-8s %-9s %10s %12s %7s %9s %8s\n",
                 (long)getpid(), (unsigned long long)((now - s->started_ms) / 1000), s->port, s->n,
                 (unsigned long long)s->relayed, s->stopping ? ", stopping" : "", "worker", "pid",
                 "state", "uptime_s", "requests", "conns", "rss_mib", "restarts");
    ph_buf_append(&b, line, (size_t)n);
    static const char *const states[] = {"down", "starting", "ready", "stopping"};
    for (unsigned i = 0; i < s->n; i++) {
        sup_slot *sl = &s->slot[i];
        bool up = sl->state != SLOT_IDLE;
        long rss = up ? sup__rss_kib(sl->proc.pid) : -1;
        n = snprintf(line, sizeof line, "%-6u %-8d %-9s %10llu %12llu %7llu %9.1f %8u\n", i,
                     up ? sl->proc.pid : 0, states[sl->state],
                     up ? (unsigned long long)((now - sl->started_ms) / 1000) : 0ULL,
                     (unsigned long long)atomic_load(&s->page->slot[i].requests),
                     (unsigned long long)atomic_load(&s->page->slot[i].conns),
                     rss < 0 ? 0.0 : (double)rss / 1024.0, sl->restarts);
        ph_buf_append(&b, line, (size_t)n);
    }
    uv_write_t *w = malloc(sizeof *w);
    if (!w || !b.data) {
        free(w);
        ph_buf_free(&b);
        uv_close((uv_handle_t *)c, (uv_close_cb)free);
        return;
    }
    w->data = b.data;
    uv_buf_t buf = uv_buf_init(b.data, (unsigned)b.len);
    if (uv_write(w, (uv_stream_t *)c, &buf, 1, sup__written) < 0) {
        free(w);
        ph_buf_free(&b);
        uv_close((uv_handle_t *)c, (uv_close_cb)free);
    }
}

static void sup__open_control(sup *s)
{
    const char *path = sup__control_path(s->conf, s->control_path, sizeof s->control_path);
    unlink(path); /* a socket left by a server that was killed */
    int rc = uv_pipe_init(&s->loop, &s->control, 0);
    if (rc == 0) {
        s->control.data = s;
        s->control_open = true;
        if ((rc = uv_pipe_bind(&s->control, path)) == 0) {
            s->control_bound = true;
            rc = uv_listen((uv_stream_t *)&s->control, 16, sup__on_control);
        }
    }
    if (rc < 0)
        log_msg(LOG_WARN,
                "cannot open the control socket %s: %s (parkhost status will not find this "
                "server)",
                path, uv_strerror(rc));
}

int workers_status(const ph_conf *c)
{
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    char buf[4096];
    const char *path = sup__control_path(c, buf, sizeof buf);
    if (strlen(path) >= sizeof a.sun_path) {
        fprintf(stderr,
                "parkhost status: the control-socket path is too long (%zu bytes, at most "
                "%zu)\n",
                strlen(path), sizeof a.sun_path - 1);
        if (fd >= 0) close(fd);
        return 1;
    }
    strcpy(a.sun_path, path);
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        fprintf(stderr, "parkhost status: no running server answers at %s: %s\n", path,
                strerror(errno));
        if (fd >= 0) close(fd);
        return 1;
    }
    ssize_t n;
    while ((n = read(fd, buf, sizeof buf)) > 0)
        fwrite(buf, 1, (size_t)n, stdout);
    close(fd);
    return 0;
}

/* ---- the supervisor ---------------------------------------------------- */

static int sup__pid_file(const char *path)
{
    FILE *f = fopen(path, "w");
    if (!f) {
        log_msg(LOG_WARN,
                "cannot write the pid file %s: %s (parkhost reload will not find this "
                "server)",
                path, strerror(errno));
        return -1;
    }
    fprintf(f, "%ld\n", (long)getpid());
    fclose(f);
    return 0;
}

/* A ready worker whose beat is older than worker-hang-ms is stuck where no
 * watchdog of its own looks (a C library, a lock): kill it, and its exit
 * starts a new one. */
static void sup__on_hang_check(uv_timer_t *t)
{
    sup *s = t->data;
    uint64_t now = uv_now(&s->loop);
    for (unsigned i = 0; i < s->n && !s->stopping; i++) {
        sup_slot *sl = &s->slot[i];
        uint64_t beat = atomic_load(&s->page->slot[i].beat);
        if (sl->state != SLOT_READY || beat == 0 || beat >= now ||
            now - beat < (uint64_t)s->conf->worker_hang_ms)
            continue;
        log_msg(LOG_ERROR,
                "worker %u (pid %d) has not turned its loop for %llu ms "
                "(worker-hang-ms): killing it",
                i, sl->proc.pid, (unsigned long long)(now - beat));
        sl->state = SLOT_STARTING; /* not killed twice; its exit replaces it */
        sl->hung = true;
        uv_process_kill(&sl->proc, SIGKILL);
    }
}

static void sup__flush(uv_prepare_t *p)
{
    (void)p;
    log_flush();
}

int workers_supervise(const ph_conf *c, int argc, char **argv)
{
    static sup s; /* one per process; large, so not on the stack */
    (void)argc;
    memset(&s, 0, sizeof s);
    s.conf = c;
    s.argv = argv;
    s.reloading = -1;
    s.page_fd = -1;
    s.n = c->workers ? (unsigned)c->workers : uv_available_parallelism();
    if (s.n > WORKERS_MAX) s.n = WORKERS_MAX;
    if (s.n < 1) s.n = 1;
    for (unsigned i = 0; i < s.n; i++) {
        s.slot[i].s = &s;
        s.slot[i].index = i;
        s.slot[i].bus_fd = s.slot[i].listen_fd = -1;
    }
    log_set_tag("super");
    signal(SIGPIPE, SIG_IGN);
    size_t exelen = sizeof s.exe;
    if (uv_exepath(s.exe, &exelen) < 0) {
        log_msg(LOG_ERROR, "cannot find the parkhost binary to start workers from");
        return 1;
    }
    /* The environment of the workers: ours, with PARKHOST_WORKER first. */
    size_t nenv = 0;
    while (environ[nenv])
        nenv++;
    if (!(s.env = calloc(nenv + 2, sizeof *s.env))) return 1;
    size_t k = 1;
    for (size_t i = 0; i < nenv; i++)
        if (strncmp(environ[i], "PARKHOST_WORKER=", 16) != 0) s.env[k++] = environ[i];

    int status = 1;
    char err[256];
    if (uv_ip4_addr(c->host, (int)c->port, (struct sockaddr_in *)&s.addr) == 0) {
        s.addrlen = sizeof(struct sockaddr_in);
    } else if (uv_ip6_addr(c->host, (int)c->port, (struct sockaddr_in6 *)&s.addr) == 0) {
        s.addrlen = sizeof(struct sockaddr_in6);
    } else {
        log_msg(LOG_ERROR, "cannot listen on %s: not an IPv4 or IPv6 address", c->host);
        goto out;
    }
    s.port = (int)c->port;
    s.page_fd = memfd_create("parkhost-workers", MFD_CLOEXEC);
    if (s.page_fd < 0 || ftruncate(s.page_fd, sizeof(workers_page)) ||
        (s.page = mmap(NULL, sizeof(workers_page), PROT_READ | PROT_WRITE, MAP_SHARED, s.page_fd,
                       0)) == MAP_FAILED) {
        s.page = NULL;
        log_msg(LOG_ERROR, "cannot share a page with the workers: %s", strerror(errno));
        goto out;
    }
    /* One key for every worker's per-address counters, unknown outside. */
    if (uv_random(NULL, NULL, s.page->addr_key, sizeof s.page->addr_key, 0, NULL) < 0) {
        s.page->addr_key[0] = uv_hrtime();
        s.page->addr_key[1] = (uint64_t)getpid();
    }
    for (unsigned i = 0; i < s.n; i++) {
        if ((s.slot[i].listen_fd = sup__listen_socket(&s, err, sizeof err)) < 0) {
            log_msg(LOG_ERROR, "cannot listen on %s:%lld: %s", c->host, (long long)c->port, err);
            goto out;
        }
    }
    if (uv_loop_init(&s.loop)) goto out;
    s.started_ms = uv_now(&s.loop);
    uv_signal_init(&s.loop, &s.sigterm);
    uv_signal_init(&s.loop, &s.sigint);
    uv_signal_init(&s.loop, &s.sighup);
    uv_timer_init(&s.loop, &s.reload_timer);
    uv_timer_init(&s.loop, &s.hang_timer);
    s.hang_timer.data = &s;
    uv_timer_start(&s.hang_timer, sup__on_hang_check, 1000, 1000);
    uv_prepare_init(&s.loop, &s.flush);
    uv_prepare_start(&s.flush, sup__flush);
    s.sigterm.data = s.sigint.data = s.sighup.data = s.reload_timer.data = &s;
    uv_signal_start(&s.sigterm, sup__on_stop, SIGTERM);
    uv_signal_start(&s.sigint, sup__on_stop, SIGINT);
    uv_signal_start(&s.sighup, sup__on_hup, SIGHUP);
    for (unsigned i = 0; i < s.n; i++) {
        uv_timer_init(&s.loop, &s.slot[i].restart);
        s.slot[i].restart.data = &s.slot[i];
    }
    sup__open_control(&s);
    sup__pid_file(c->pid_file);
    sup__spawn(&s.slot[0]);
    uv_run(&s.loop, UV_RUN_DEFAULT);
    status = s.status;
    log_msg(LOG_INFO, "stopped");
    unlink(c->pid_file);
    if (s.control_bound) unlink(s.control_path);
    if (uv_loop_close(&s.loop) != 0) log_msg(LOG_ERROR, "supervisor loop closed with handles open");
out:
    for (unsigned i = 0; i < s.n; i++)
        if (s.slot[i].listen_fd >= 0) close(s.slot[i].listen_fd);
    if (s.page) munmap(s.page, sizeof(workers_page));
    if (s.page_fd >= 0) close(s.page_fd);
    free(s.env);
    log_flush();
    return status;
}
