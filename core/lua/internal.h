/* lua/internal.h: what the files of the lua module (the runtime) share;
 * nothing outside core/lua/ includes this. The park API bindings (core/park)
 * see the runtime through lua/runtime.h alone, which this header includes.
 *
 * Ownership in one paragraph: a lua_host owns the current generation (the
 * plugins and bindings loaded from disk last). A generation holds one
 * reference on each of its plugins; every request running on a plugin holds
 * another, and one on the generation it was routed by, so a reload never
 * frees what a request in flight still uses. A plugin's lua_State is closed
 * when its last reference goes. A host_req is freed once its request was
 * answered (or abandoned) and its timer handle, if it had one, is closed.
 */
#ifndef PH_LUA_INTERNAL_H
#define PH_LUA_INTERNAL_H

#include "base/base.h"
#include "http/http.h"
#include "lua/host.h"
#include "lua/runtime.h"

#include <lauxlib.h>
#include <lua.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>
#include <uv.h>

enum {
    HOST_MAX_PARAMS = 16,          /* segments of a route pattern */
    HOST_CPU_SLOTS = 16,           /* slots of the CPU quota's sliding window */
    LUA_MAX_LOGGED_MESSAGE = 4000, /* bytes of a plugin's error message logged */
};

/* A job handler named in the manifest's `jobs`, with its recurring
 * schedule when it declares one. */
typedef struct {
    char *name;
    int ref;         /* the handler, a registry ref in the plugin's state */
    int kind;        /* a sched_kind (every, cron; after for start), or -1: by park.sched only */
    char *spec;      /* the declared schedule, or NULL */
    int payload_ref; /* the declared payload, or LUA_NOREF */
} host_job;

struct host_plugin {
    char *name, *version, *description, *dir, *file;
    lua_State *L;
    size_t mem_used, mem_cap;
    int env_ref;    /* the plugin's _ENV */
    int schema_ref; /* manifest.config, or LUA_NOREF */
    host_route *routes;
    size_t nroutes;
    host_job *jobs;
    size_t njobs;
    bool csrf_exempt; /* manifest csrf = false: none of its routes checks */
    bool core;        /* the built-in admin console: may change the site */
    int refs;
    lua_host *host;
    host_req *cur; /* the request or job whose code runs now */
    uint64_t generation;
    /* Idle request coroutines, reused: slots of the registry table pool_ref
     * that hold an idle thread, and slots left empty. */
    lua_db_cache *stmts; /* park.db's prepared statements (park/db.c) */
    int pool_ref;
    int *idle, *empty;
    host_req *waiters; /* requests in park.wait (park/notify.c) */
    size_t nidle, nempty, cap_idle, cap_empty, pool_size;
    /* Failures in the current window; maintenance mode until a time. */
    unsigned failures;
    uint64_t window_start_ms, maintenance_until_ms;
    /* CPU used over plugin-cpu-window-s, in HOST_CPU_SLOTS slots (host.c),
     * whether it is throttled now, and its overruns of the quota. */
    uint64_t cpu_ns[HOST_CPU_SLOTS];
    uint64_t cpu_slot_start_ms, overrun_start_ms;
    unsigned cpu_slot, overruns;
    bool throttled;
    /* Its log lines: a token bucket of plugin-log-lines a second. */
    double log_tokens;
    uint64_t log_ms;
    unsigned log_dropped;
};

struct host_gen {
    uint64_t id;
    host_column *cols; /* the site's columns in tree order (site_each_column) */
    size_t ncols;
    /* Columns by path, open addressing: index+1 into bindings, 0 empty. */
    uint32_t *index;
    size_t index_cap;
    host_plugin **plugins;
    size_t nplugins;
    host_binding *bindings; /* longest column first */
    size_t nbindings;
    /* The page around error pages (lua_host_error_page), normal and
     * 关怀版: rendered at the first error of this model; cut[i] are the
     * offsets of the title's and the content's markers. */
    char *chrome[2];
    size_t chrome_cut[2][2];
    bool chrome_tried[2];
    char **settings;  /* the site's settings: key, value, key, value, ... */
    size_t nsettings; /* keys */
    int refs;
};

struct lua_host {
    uv_loop_t *loop;
    store *db; /* the worker's database, or NULL */
    const ph_conf *conf;
    host_gen *gen;
    /* park_items_version as the last site poll read it (-1: not yet): a
     * change no worker's flush told of (a command's) bumps the shared
     * items version. */
    int64_t items_db_seen;
    bool items_changed; /* this turn published or withdrew an item */
    uint64_t next_gen_id;
    host_req *streams; /* requests streaming now, for reload */
    uv_timer_t grace_timer;
    bool grace_open;
    host_req *spare[64]; /* finished requests kept for reuse */
    size_t nspare;
    /* Scheduled jobs (jobs.c): the timer that claims due ones, the jobs
     * running now, and this worker's name in their leases. */
    uv_timer_t jobs_timer;
    bool jobs_open, jobs_stopping;
    host_req *jobs;
    size_t jobs_running;
    char owner[160];
    unsigned char csrf_secret[32]; /* signs CSRF tokens (park_secrets 'csrf') */
    /* The site model's version (workers_site_version) this worker's
     * generation was built from: another worker's change shows as a
     * difference, seen before the next request. */
    uint64_t site_seen;
    /* park_site_version as the generation's bindings were read, and the
     * timer that looks at it (the fallback for a lost signal, and how a
     * command's change reaches the running site). */
    int64_t db_site;
    uv_timer_t site_timer;
    /* lua_req_wake: requests to wake on the next turn, those being woken
     * now, and the idle handle that runs them (it keeps the loop from
     * sleeping while the list is not empty). */
    host_req *wakes, *waking_now;
    uv_idle_t wake_idle;
    bool wake_open;
};

/* sandbox.c (also lua_plugin_of, lua_bill_check, lua_mem_check,
 * lua_log_allowed, lua_join_args, lua_plugin_bill: runtime.h) */
/* Create plugin->L: allocator capped at plugin->mem_cap, allowed libraries,
 * the plugin's environment (env_ref), require() limited to the plugin's own
 * modules and the host's libraries, require("park") (park_open), and the
 * instruction-count hook. Returns 0 or PH_ENOMEM. */
int lua__sandbox_open(host_plugin *p, const char *lualib_dir);
/* Load the Lua text file `rel` beneath `root` (never through a symbolic
 * link) as the chunk "@root/rel": 0 and the function pushed, or -errno and
 * nothing pushed; raises on a syntax error. */
int lua__load_beneath(lua_State *L, const char *root, const char *rel);
/* Push msg, cut to LUA_MAX_LOGGED_MESSAGE bytes with a note of how much
 * more there was: what a log line quotes of a plugin's message. */
void lua__push_loggable(lua_State *L, const char *msg);
/* Bill `units` instructions for work done inside a C function (a pattern
 * match, string.rep) to the code running now on L's plugin, if any. True
 * while within the budget; false once over it, after which the budget hook
 * stops that code at its next instruction, so a pcall that catches the
 * caller's error cannot carry on. lua_bill_check raises "instruction
 * budget exceeded (<what>)" instead of returning false. */
bool lua__bill(lua_State *L, uint64_t units);
/* Make the budget hook of co run at its next instruction (async-signal
 * safe, as lua_sethook is). */
void lua__sandbox_hook_now(lua_State *co);
/* Put the budget hook of thread co back to its normal pace. */
void lua__sandbox_rehook(lua_State *co);
/* Arm the budget for code about to run for `r` on plugin p. */
void lua__budget_arm(host_plugin *p, host_req *r, uint64_t budget);
/* Run the chunk or function on top of L's stack in plugin p's environment
 * under `budget` instructions with a traceback handler. Returns the
 * lua_pcall status; on failure the message (with traceback) is on top. */
int lua__pcall_budget(host_plugin *p, int nargs, int nres, uint64_t budget);

/* pattern.c: Lua 5.4's string.find, string.match, string.gmatch and
 * string.gsub, written for the host with a step budget: every
 * PATTERN_STEPS_PER_BILL matcher steps are billed through bill(L, units),
 * and a false return raises "instruction budget exceeded (pattern)".
 * Replaces those four fields of the table at idx. */
typedef bool (*lua_pattern_bill_fn)(lua_State *L, uint64_t units);
void lua__pattern_open(lua_State *L, int idx, lua_pattern_bill_fn bill);

/* beneath.c: files opened beneath a folder, never through a symbolic link
 * (lua__open_beneath and lua__slurp_beneath: runtime.h), with
 * openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS), or an equivalent walk
 * where openat2 is missing. lua__tree_check walks the folder `dir` and
 * fails (PH_EINVAL, why naming the link and its target) on the first
 * symbolic link whose target leaves dir. */
int lua__tree_check(const char *dir, char *why, size_t whylen);
/* For the unit tests: open_beneath takes the walk even where openat2 works. */
void lua__beneath_force_fallback(bool on);

/* watch.c: the watchdog thread (plugin-max-hold-ms, plugin-kill-ms) and
 * the report of a fatal signal. lua__watch_begin/_end bracket every run of
 * plugin code on the loop's thread; _end returns the run's time in ns.
 * lua__watch_expired says whether the current run is past
 * plugin-max-hold-ms (the budget hook asks). lua__crash_report_install
 * makes SIGSEGV, SIGBUS, SIGFPE, SIGILL and SIGABRT log the plugin and
 * request running and a backtrace before the process dies. */
int lua__watch_start(const ph_conf *c);
void lua__watch_stop(void);
void lua__watch_begin(host_plugin *p, host_req *r, lua_State *co);
uint64_t lua__watch_end(void);
bool lua__watch_active(void);
bool lua__watch_expired(void);
void lua__crash_report_install(void);

/* headers.c: lua_secret_cookie, lua_secret_header, lua_header_value_ok,
 * lua_header_refusal (runtime.h). */

/* static.c: answer q from a plugin's static/ folder when its path is
 * under /static/; false (nothing done) otherwise. Also lua_http_date and
 * lua_http_parse_date (runtime.h). */
bool lua__static_serve(lua_host *h, http_request *q);

/* csrf.c: the CSRF check of every unsafe request (park.csrf(), which gives
 * a page its token, is park/csrf.c). */
/* Load (or make) the site's CSRF secret. */
void lua__csrf_init(lua_host *h);
/* Whether an unsafe request carries its browser's CSRF token (header
 * X-CSRF-Token or form field _csrf); *why says what is missing. */
bool lua__csrf_ok(lua_host *h, const http_request *q, const char **why);

/* jobs.c: the running of due jobs (park.sched, which puts them, is
 * park/sched.c). Also lua_now, lua_jobs_kick, lua_plugin_has_job,
 * lua_json_encode and lua_json_decode (runtime.h). */
/* Milliseconds since the epoch on the park clock (clock-offset-s applied). */
int64_t lua__now_ms(const lua_host *h);
/* Read manifest.jobs (the manifest on top of p->L's stack, left there).
 * Returns 0, or PH_EINVAL with the reason in why, or PH_ENOMEM. */
int lua__jobs_read(host_plugin *p, char *why, size_t whylen);
/* Write the plugin's declared schedules to park_jobs and remove those it
 * no longer declares. Failures are logged. */
void lua__jobs_declare(host_plugin *p);
void lua__jobs_free(host_plugin *p);
/* Open the jobs timer and run due jobs from the first loop turn; stop it
 * and give back the jobs that wait (their leases released). */
void lua__jobs_init(lua_host *h);
void lua__jobs_stop(lua_host *h);
/* A job's coroutine ended: error NULL or why it failed; `stopped` when the
 * host stopped it (budget, hold, quota, memory): such failures are not
 * forgiven by the job's regular schedule, and past job-retries the job is
 * stopped for good (not run again, after a restart either). */
void lua__job_ended(host_req *r, const char *error, bool stopped);
/* Take a finished job off the host's list (from lua_req_end). */
void lua__job_unlink(host_req *r);

/* host.c (also the accessors of runtime.h, lua_req_of, lua_req_resume,
 * lua_req_end, lua_req_sleep, lua_req_stream, lua_res_headers,
 * lua_host_rebind, lua_push_schema, lua_column_find) */
/* Whether plugin p is past its CPU quota now (plugin-cpu-percent). */
bool lua__over_quota(host_plugin *p);
/* The live plugin named `name`, or NULL. */
host_plugin *lua__plugin_find(lua_host *h, const char *name);
/* A request context for plugin p on the current generation, its budget
 * armed and a coroutine acquired; NULL when out of memory. Ended with
 * lua_req_end (or by lua_req_resume when it finishes). */
host_req *lua__req_new(lua_host *h, host_plugin *p);

#endif
