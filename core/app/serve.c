#include "app/app.h"
#include "base/base.h"
#include "http/http.h"
#include "log/log.h"
#include "lua/host.h"
#include "store/store.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <unistd.h>
#include <sys/resource.h>
#include <string.h>
#include <uv.h>

/* Everything one worker owns. Handles close in app__stopped(); the loop
 * then ends and serve frees the rest in reverse order of creation. */
typedef struct {
    uv_loop_t loop;
    const ph_conf *conf;
    store *db;
    lua_host *lua;
    http_server *http;
    uv_signal_t sigterm, sigint, sighup;
    uv_prepare_t flush; /* writes the buffered log once per loop turn */
    int signals;
} worker;

/* Each connection is a descriptor: raise the soft limit to the hard one and
 * say so when max-connections still cannot be reached. */
static void app__raise_fd_limit(const ph_conf *c)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0) return;
    if (rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    if (rl.rlim_cur != RLIM_INFINITY && (rlim_t)c->max_connections + 64 > rl.rlim_cur)
        log_msg(LOG_WARN,
                "max-connections is %lld but the process may open only %llu files: "
                "raise the limit (ulimit -n) or lower max-connections",
                (long long)c->max_connections, (unsigned long long)rl.rlim_cur);
}

/* Once per loop turn, before the loop waits: make the turn's commits
 * durable with one fsync, then let out the answers that waited for it. */
static void app__flush(uv_prepare_t *p)
{
    worker *w = p->data;
    if (w->db && store_dirty(w->db)) {
        char err[256];
        int rc = store_sync(w->db, err, sizeof err);
        if (rc) log_msg(LOG_ERROR, "the last writes may not be durable: %s", err);
        if (w->http) http_server_release(w->http, rc == 0);
    }
    log_flush();
}

/* A transaction committed: hold every answer until it is durable. */
static void app__committed(void *ud)
{
    worker *w = ud;
    if (w->http) http_server_hold(w->http);
}

static void app__stopped(void *arg)
{
    worker *w = arg;
    uv_close((uv_handle_t *)&w->sigterm, NULL);
    uv_close((uv_handle_t *)&w->sigint, NULL);
    uv_close((uv_handle_t *)&w->sighup, NULL);
    uv_close((uv_handle_t *)&w->flush, NULL);
}

static void app__signal(uv_signal_t *sig, int signum)
{
    worker *w = sig->data;
    if (w->signals++ == 0) {
        log_msg(LOG_INFO, "received %s: stopping (in-flight requests get %lld ms)",
                signum == SIGTERM ? "SIGTERM" : "SIGINT", (long long)w->conf->shutdown_timeout_ms);
    } else {
        log_msg(LOG_WARN, "received %s again: closing every connection now",
                signum == SIGTERM ? "SIGTERM" : "SIGINT");
    }
    if (w->signals == 1) lua_host_stop(w->lua); /* streams end with a reconnect hint */
    http_server_stop(w->http, app__stopped, w);
}

static void app__reload(uv_signal_t *sig, int signum)
{
    worker *w = sig->data;
    (void)signum;
    if (w->signals == 0) lua_host_reload(w->lua);
}

/* Write our pid where `parkhost reload` finds it. */
static void app__write_pid(const char *path)
{
    FILE *f = fopen(path, "w");
    if (!f) {
        log_msg(LOG_WARN,
                "cannot write the pid file %s: %s (parkhost reload will not find "
                "this server)",
                path, strerror(errno));
        return;
    }
    fprintf(f, "%ld\n", (long)getpid());
    fclose(f);
}

int app_serve(const ph_conf *c)
{
    worker w;
    memset(&w, 0, sizeof w);
    w.conf = c;
    signal(SIGPIPE, SIG_IGN);
    app__raise_fd_limit(c);
    if (uv_loop_init(&w.loop)) {
        log_msg(LOG_ERROR, "cannot start the event loop");
        return 1;
    }
    int status = 1;
    char err[512] = "";
    if (store_open(&w.db, c->db, err, sizeof err)) {
        log_msg(LOG_ERROR, "%s", err);
        goto out;
    }
    if (store_set_group_commit(w.db, c->group_commit != 0)) {
        log_msg(LOG_ERROR, "cannot set the database's sync mode");
        goto out;
    }
    int applied = 0;
    if (store_migrate(w.db, "core", c->sql_dir, NULL, &applied, err, sizeof err)) {
        log_msg(LOG_ERROR, "the core's database schema cannot be set up: %s", err);
        goto out;
    }
    if (applied) log_msg(LOG_INFO, "core: %d migration(s) applied", applied);
    lua_host_install_crash_report();
    int hrc = lua_host_new(&w.lua, &w.loop, c, w.db);
    if (hrc) {
        log_msg(LOG_ERROR, "%s",
                hrc == PH_EDB ? "not started: the site's columns cannot be read (see above)"
                              : "out of memory loading plugins");
        goto out;
    }
    http_limits lim = {
        .max_header_bytes = (size_t)c->max_header_bytes,
        .max_body_bytes = (size_t)c->max_body_bytes,
        .header_timeout_ms = (uint64_t)c->header_timeout_ms,
        .body_timeout_ms = (uint64_t)c->body_timeout_ms,
        .keepalive_timeout_ms = (uint64_t)c->keepalive_timeout_ms,
        .send_timeout_ms = (uint64_t)c->send_timeout_ms,
        .max_connections = (unsigned)c->max_connections,
        .pipeline_batch = (unsigned)c->pipeline_batch,
        .shutdown_timeout_ms = (uint64_t)c->shutdown_timeout_ms,
    };
    if (http_server_new(&w.http, &w.loop, &lim, lua_host_handle, w.lua)) {
        log_msg(LOG_ERROR, "cannot create the HTTP server");
        goto out;
    }
    if (c->group_commit) store_on_commit(w.db, app__committed, &w);
    uv_prepare_init(&w.loop, &w.flush);
    w.flush.data = &w;
    uv_prepare_start(&w.flush, app__flush);
    uv_signal_init(&w.loop, &w.sigterm);
    uv_signal_init(&w.loop, &w.sigint);
    uv_signal_init(&w.loop, &w.sighup);
    w.sigterm.data = w.sigint.data = w.sighup.data = &w;

    int port = 0;
    int rc = http_server_listen(w.http, c->host, (int)c->port, &port);
    if (rc < 0) {
        log_msg(LOG_ERROR, "cannot listen on %s:%lld: %s", c->host, (long long)c->port,
                uv_strerror(rc));
        lua_host_stop(w.lua);
        http_server_stop(w.http, app__stopped, &w);
        uv_run(&w.loop, UV_RUN_DEFAULT);
        goto out;
    }
    uv_signal_start(&w.sigterm, app__signal, SIGTERM);
    uv_signal_start(&w.sigint, app__signal, SIGINT);
    uv_signal_start(&w.sighup, app__reload, SIGHUP);
    app__write_pid(c->pid_file);
    log_msg(LOG_INFO, "parkhost %s: %zu plugin(s), %zu column(s), database %s", PARKHOST_VERSION,
            lua_host_nplugins(w.lua), lua_host_nbindings(w.lua), c->db);
    log_msg(LOG_INFO, "listening on http://%s%s%s:%d", strchr(c->host, ':') ? "[" : "", c->host,
            strchr(c->host, ':') ? "]" : "", port);
    log_flush();
    uv_run(&w.loop, UV_RUN_DEFAULT);
    log_msg(LOG_INFO, "stopped");
    unlink(c->pid_file);
    status = 0;
out:
    if (w.db) store_on_commit(w.db, NULL, NULL);
    if (w.http) {
        http_server_free(w.http);
        w.http = NULL;
    }
    lua_host_free(w.lua);
    store_close(w.db);
    if (uv_loop_close(&w.loop) != 0) {
        log_msg(LOG_ERROR, "event loop closed with handles still open");
        status = 1;
    }
    log_flush();
    return status;
}

int app_reload(const ph_conf *c)
{
    FILE *f = fopen(c->pid_file, "r");
    long pid = 0;
    if (!f || fscanf(f, "%ld", &pid) != 1 || pid <= 1) {
        fprintf(stderr, "parkhost reload: no running server found in %s%s%s\n", c->pid_file,
                f ? "" : ": ", f ? "" : strerror(errno));
        if (f) fclose(f);
        return 1;
    }
    fclose(f);
    if (kill((pid_t)pid, SIGHUP) != 0) {
        fprintf(stderr, "parkhost reload: cannot signal process %ld: %s\n", pid, strerror(errno));
        return 1;
    }
    printf("parkhost reload: asked process %ld to reload; its log says how it went\n", pid);
    return 0;
}
