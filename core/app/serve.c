#include "app/app.h"
#include "base/base.h"
#include "http/http.h"
#include "log/log.h"
#include "lua/host.h"
#include "store/store.h"
#include "workers/workers.h"

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
    uv_signal_t sigterm, sighup;
    uv_prepare_t flush; /* writes the buffered log once per loop turn */
    uv_timer_t beat;    /* tells the supervisor the loop turns */
    int signals;
    unsigned slot; /* which of the supervisor's workers this is */
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
 * durable with one fsync, then let out the answers that waited for it and
 * the park.notify signals for the other workers. */
static void app__flush(uv_prepare_t *p)
{
    worker *w = p->data;
    if (w->db && store_dirty(w->db)) {
        char err[256];
        int rc = store_sync(w->db, err, sizeof err);
        if (rc) log_msg(LOG_ERROR, "the last writes may not be durable: %s", err);
        /* Pages built from the index are stale from now on, in every worker:
         * before the answers go, so that a client told "published" finds the
         * item on the next page it asks any worker for. */
        if (!rc) lua_host_flush_items(w->lua);
        if (w->http) http_server_release(w->http, rc == 0);
    }
    lua_host_flush_items(w->lua); /* a change made without a commit to wait for */
    workers_link_flush();         /* notifications after the writes they tell of */
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
    uv_close((uv_handle_t *)&w->sighup, NULL);
    uv_close((uv_handle_t *)&w->beat, NULL);
    workers_link_close();
    uv_close((uv_handle_t *)&w->flush, NULL);
}

/* SIGTERM comes from the supervisor: once to stop gracefully, again to
 * close every connection now. */
static void app__signal(uv_signal_t *sig, int signum)
{
    worker *w = sig->data;
    (void)signum;
    if (w->signals++ == 0) {
        log_msg(LOG_INFO, "stopping (in-flight requests get %lld ms)",
                (long long)w->conf->shutdown_timeout_ms);
        lua_host_stop(w->lua); /* streams end with a reconnect hint */
    } else {
        log_msg(LOG_WARN, "asked again: closing every connection now");
    }
    http_server_stop(w->http, app__stopped, w);
}

/* SIGHUP comes from the supervisor, one worker after another; the next
 * worker reloads once this one says it has. */
static void app__reload(uv_signal_t *sig, int signum)
{
    worker *w = sig->data;
    (void)signum;
    if (w->signals == 0) lua_host_reload(w->lua);
    workers_link_reloaded();
}

static void app__beat(uv_timer_t *t)
{
    workers_beat(uv_now(t->loop));
}

static void app__handle(void *ud, http_request *req)
{
    workers_count_request();
    lua_host_handle(ud, req);
}

/* park.notify in another worker: wake this worker's waiters of the key. */
static void app__on_notify(void *ud, const char *plugin, const char *key)
{
    worker *w = ud;
    if (w->lua) lua_host_notify(w->lua, plugin, key);
}

/* Another worker changed the site model: serve it now, before any
 * request asks (streams of columns no longer served end). */
static void app__on_site(void *ud)
{
    worker *w = ud;
    if (w->lua) lua_host_site_check(w->lua);
}

int app_serve(const ph_conf *c)
{
    worker w;
    memset(&w, 0, sizeof w);
    w.conf = c;
    unsigned nslots = 0;
    int listen_fd = -1;
    if (!workers_is_worker(&w.slot, &nslots, &listen_fd)) {
        log_msg(LOG_ERROR, "a worker is started by its supervisor (parkhost serve), not alone");
        return 1;
    }
    char tag[16];
    snprintf(tag, sizeof tag, "w%u", w.slot);
    log_set_tag(tag);
    /* Out of the terminal's process group: Ctrl-C reaches the supervisor,
     * which stops the workers once, gracefully. */
    setpgid(0, 0);
    signal(SIGPIPE, SIG_IGN);
    signal(SIGINT, SIG_IGN);
    app__raise_fd_limit(c);
    if (uv_loop_init(&w.loop)) {
        log_msg(LOG_ERROR, "cannot start the event loop");
        return 1;
    }
    if (workers_link_open(&w.loop, app__on_notify, app__on_site, &w)) {
        log_msg(LOG_ERROR, "not started: the supervisor's descriptors are missing");
        uv_loop_close(&w.loop);
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
        .body_min_rate = (uint64_t)c->body_min_rate,
        .body_rate_window_ms = (uint64_t)c->body_rate_window_s * 1000,
        .keepalive_timeout_ms = (uint64_t)c->keepalive_timeout_ms,
        .send_timeout_ms = (uint64_t)c->send_timeout_ms,
        .max_connections = (unsigned)c->max_connections,
        .max_conns_per_address = (unsigned)c->max_connections_per_address,
        .cap_exempt = (const char *const *)c->trusted_proxies.v,
        .ncap_exempt = c->trusted_proxies.n,
        .log_query = (const char *const *)c->log_query.v,
        .nlog_query = c->log_query.n,
        .pipeline_batch = (unsigned)c->pipeline_batch,
        .shutdown_timeout_ms = (uint64_t)c->shutdown_timeout_ms,
    };
    if (http_server_new(&w.http, &w.loop, &lim, app__handle, w.lua)) {
        log_msg(LOG_ERROR, "cannot create the HTTP server");
        goto out;
    }
    if (c->group_commit) store_on_commit(w.db, app__committed, &w);
    uv_prepare_init(&w.loop, &w.flush);
    w.flush.data = &w;
    uv_prepare_start(&w.flush, app__flush);
    uv_signal_init(&w.loop, &w.sigterm);
    uv_signal_init(&w.loop, &w.sighup);
    uv_timer_init(&w.loop, &w.beat);
    uv_timer_start(&w.beat, app__beat, 0, WORKERS_BEAT_MS);
    uv_unref((uv_handle_t *)&w.beat);
    w.sigterm.data = w.sighup.data = &w;
    http_server_set_worker(w.http, w.slot);
    http_server_set_error_page(w.http, lua_host_error_page, w.lua);
    if (workers__slot) {
        http_server_share_connections(w.http, &workers__slot->conns, workers_connections_elsewhere);
        http_server_share_addresses(w.http, workers__slot->addr_conns, WORKERS_ADDR_COUNTERS,
                                    workers_address_conns_elsewhere, workers_address_key());
    }
    int rc = http_server_listen_fd(w.http, listen_fd);
    if (rc < 0) {
        log_msg(LOG_ERROR, "cannot listen on the supervisor's socket: %s", uv_strerror(rc));
        lua_host_stop(w.lua);
        http_server_stop(w.http, app__stopped, &w);
        uv_run(&w.loop, UV_RUN_DEFAULT);
        goto out;
    }
    uv_signal_start(&w.sigterm, app__signal, SIGTERM);
    uv_signal_start(&w.sighup, app__reload, SIGHUP);
    log_msg(LOG_INFO, "parkhost %s, worker %u of %u: %zu plugin(s), %zu column(s), database %s",
            PARKHOST_VERSION, w.slot, nslots, lua_host_nplugins(w.lua), lua_host_nbindings(w.lua),
            c->db);
    log_flush();
    workers_link_ready();
    uv_run(&w.loop, UV_RUN_DEFAULT);
    log_msg(LOG_INFO, "stopped");
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
