/* The watchdog of a worker's plugin code, and the report of a fatal signal.
 *
 * Every run of plugin code (a request's or job's turn between two waits, a
 * plugin's loading) is bracketed by lua__watch_begin and lua__watch_end on
 * the loop's thread. A thread of its own looks at the run every few
 * milliseconds:
 *
 *   - past plugin-max-hold-ms it marks the run expired. The budget hook,
 *     which runs every SANDBOX__HOOK_EVERY instructions in every thread of
 *     the plugin's state, sees the mark and stops the run as it stops one
 *     over its instruction budget (pcall cannot catch it). It also sends
 *     the loop's thread WATCH__SIGNAL, whose handler sets the hook of the
 *     run's coroutine to fire at the very next instruction, as lua.c does
 *     for Ctrl-C: an instruction that is slow on its own (comparing two long
 *     strings) does not make the run wait for a thousand more.
 *   - past plugin-kill-ms the run is stuck inside one C call that no hook
 *     can interrupt. Nothing in this process can end it safely, so the
 *     thread logs the plugin and request and ends the process: a supervisor
 *     (or the service manager) starts a fresh worker. The other workers
 *     keep serving meanwhile.
 *
 * The state below is the process's: one lua_host runs per worker process.
 * What the watchdog thread reads while the loop's thread writes is atomic;
 * the plugin and request pointers are read only to name them in the last
 * log line before the process ends, while the loop's thread is stuck.
 */
#include "log/log.h"
#include "lua/internal.h"

#include <errno.h>
#include <execinfo.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define WATCH__SIGNAL SIGURG /* ignored by default; libuv does not use it */

static struct {
    pthread_t loop_thread, thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool running, stop;
    uint64_t hold_ns, kill_ns;
    _Atomic uint64_t begun_ns; /* when the current run began; 0: no run */
    _Atomic uint64_t seq;      /* counts runs */
    _Atomic uint64_t expired;  /* the seq of a run past plugin-max-hold-ms */
    _Atomic(lua_State *) co;   /* the current run's coroutine */
    _Atomic(host_plugin *) plugin;
    _Atomic(host_req *) req;
} watch = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};

static uint64_t watch__now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Write a line to the log's file descriptor without stdio or malloc (the
 * loop's thread may hold the log's lock, or the heap's). */
static void watch__say(const char *s)
{
    size_t n = strlen(s);
    while (n) {
        ssize_t w = write(STDERR_FILENO, s, n);
        if (w <= 0) return;
        s += w;
        n -= (size_t)w;
    }
}

/* Who runs now, as "plugin NAME rid=ID" (or "no plugin code"), for the last
 * lines of a worker. Reads what the stuck or crashed thread left. */
static void watch__who(char *buf, size_t n)
{
    host_plugin *p = atomic_load(&watch.plugin);
    host_req *r = atomic_load(&watch.req);
    if (!p) {
        snprintf(buf, n, "no plugin code was running");
        return;
    }
    const char *id = r && !r->is_job && r->http ? r->http->id : "-";
    const char *job = r && r->is_job && r->job_label ? r->job_label : NULL;
    snprintf(buf, n, "plugin %s%s%s rid=%s", p->name ? p->name : "?", job ? " job " : "",
             job ? job : "", id);
}

static void watch__on_signal(int sig)
{
    (void)sig;
    int saved = errno;
    lua_State *co = atomic_load(&watch.co);
    if (co && atomic_load(&watch.expired) == atomic_load(&watch.seq)) lua__sandbox_hook_now(co);
    errno = saved;
}

static void *watch__main(void *arg)
{
    (void)arg;
    uint64_t tick = watch.hold_ns / 4;
    if (tick > 10000000u) tick = 10000000u;
    if (tick < 1000000u) tick = 1000000u;
    pthread_mutex_lock(&watch.mu);
    while (!watch.stop) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        uint64_t ns = (uint64_t)until.tv_nsec + tick;
        until.tv_sec += (time_t)(ns / 1000000000u);
        until.tv_nsec = (long)(ns % 1000000000u);
        pthread_cond_timedwait(&watch.cv, &watch.mu, &until);
        uint64_t begun = atomic_load(&watch.begun_ns), seq = atomic_load(&watch.seq);
        if (!begun || watch.stop) continue;
        uint64_t held = watch__now_ns() - begun;
        if (held > watch.hold_ns) {
            /* Again at every tick while it lasts: the first signal may have
             * found it inside a C call. */
            atomic_store(&watch.expired, seq);
            pthread_kill(watch.loop_thread, WATCH__SIGNAL);
        }
        if (held > watch.kill_ns && atomic_load(&watch.begun_ns) == begun) {
            char who[256], line[512];
            watch__who(who, sizeof who);
            snprintf(line, sizeof line,
                     "ERROR %s has held the worker for %llu ms inside one C call, past "
                     "plugin-kill-ms: the worker ends now, to be replaced\n",
                     who, (unsigned long long)(held / 1000000u));
            watch__say(line);
            _exit(70); /* EX_SOFTWARE: no atexit handler may touch the stuck state */
        }
    }
    pthread_mutex_unlock(&watch.mu);
    return NULL;
}

int lua__watch_start(const ph_conf *c)
{
    if (watch.running) return 0;
    watch.loop_thread = pthread_self();
    watch.hold_ns = (uint64_t)c->plugin_max_hold_ms * 1000000u;
    watch.kill_ns = (uint64_t)c->plugin_kill_ms * 1000000u;
    if (watch.kill_ns < watch.hold_ns) watch.kill_ns = watch.hold_ns;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = watch__on_signal;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    if (sigaction(WATCH__SIGNAL, &sa, NULL) != 0) return PH_EINVAL;
    watch.stop = false;
    /* The thread must not take the signal meant for the loop's thread. */
    sigset_t block, old;
    sigemptyset(&block);
    sigaddset(&block, WATCH__SIGNAL);
    pthread_sigmask(SIG_BLOCK, &block, &old);
    int rc = pthread_create(&watch.thread, NULL, watch__main, NULL);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0) {
        log_msg(LOG_ERROR, "cannot start the plugin watchdog: %s", strerror(rc));
        return PH_ENOMEM;
    }
    watch.running = true;
    return 0;
}

void lua__watch_stop(void)
{
    if (!watch.running) return;
    pthread_mutex_lock(&watch.mu);
    watch.stop = true;
    pthread_cond_signal(&watch.cv);
    pthread_mutex_unlock(&watch.mu);
    pthread_join(watch.thread, NULL);
    watch.running = false;
}

void lua__watch_begin(host_plugin *p, host_req *r, lua_State *co)
{
    atomic_store(&watch.plugin, p);
    atomic_store(&watch.req, r);
    atomic_store(&watch.co, co);
    atomic_fetch_add(&watch.seq, 1);
    atomic_store(&watch.begun_ns, watch__now_ns());
}

uint64_t lua__watch_end(void)
{
    uint64_t begun = atomic_exchange(&watch.begun_ns, 0);
    atomic_store(&watch.co, NULL);
    atomic_store(&watch.req, NULL);
    atomic_store(&watch.plugin, NULL);
    return begun ? watch__now_ns() - begun : 0;
}

bool lua__watch_active(void)
{
    return atomic_load(&watch.begun_ns) != 0;
}

bool lua__watch_expired(void)
{
    uint64_t e = atomic_load_explicit(&watch.expired, memory_order_relaxed);
    return e && e == atomic_load_explicit(&watch.seq, memory_order_relaxed) &&
           atomic_load_explicit(&watch.begun_ns, memory_order_relaxed);
}

/* ---- a fatal signal ------------------------------------------------------ */

static void watch__on_fatal(int sig, siginfo_t *si, void *uc);

static const int watch__fatal[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT};
static struct sigaction watch__previous[sizeof watch__fatal / sizeof *watch__fatal];

static void watch__on_fatal(int sig, siginfo_t *si, void *uc)
{
    static volatile sig_atomic_t once;
    size_t k = 0;
    while (k < sizeof watch__fatal / sizeof *watch__fatal && watch__fatal[k] != sig)
        k++;
    if (!once) {
        once = 1;
        /* What the log still holds, unless the crash came while writing it. */
        if (ftrylockfile(stderr) == 0) {
            fflush(stderr);
            funlockfile(stderr);
        }
        char who[256], line[512];
        watch__who(who, sizeof who);
        snprintf(line, sizeof line, "ERROR fatal signal %d (%s) while %s; backtrace:\n", sig,
                 strsignal(sig), who);
        watch__say(line);
        void *frames[64];
        int n = backtrace(frames, 64);
        backtrace_symbols_fd(frames, n, STDERR_FILENO);
    }
    /* Let the handler that was there before (the default, or a sanitizer's)
     * have the signal. */
    if (k < sizeof watch__fatal / sizeof *watch__fatal) {
        struct sigaction *prev = &watch__previous[k];
        if ((prev->sa_flags & SA_SIGINFO) && prev->sa_sigaction) {
            prev->sa_sigaction(sig, si, uc);
            return;
        }
        if (prev->sa_handler != SIG_DFL && prev->sa_handler != SIG_IGN && prev->sa_handler) {
            prev->sa_handler(sig);
            return;
        }
    }
    signal(sig, SIG_DFL);
    raise(sig);
}

void lua__crash_report_install(void)
{
    /* backtrace() loads libgcc on first use: do it now, not in the handler. */
    void *frame;
    backtrace(&frame, 1);
    /* A stack of its own, so a C stack overflow is reported too. */
    static char altstack[64 * 1024];
    stack_t ss = {.ss_sp = altstack, .ss_size = sizeof altstack};
    sigaltstack(&ss, NULL);
    for (size_t k = 0; k < sizeof watch__fatal / sizeof *watch__fatal; k++) {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_sigaction = watch__on_fatal;
        sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
        sigemptyset(&sa.sa_mask);
        sigaction(watch__fatal[k], &sa, &watch__previous[k]);
    }
}
