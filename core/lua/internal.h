/* lua/internal.h: what the files of the lua module share; nothing outside
 * core/lua/ includes this.
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
#include "form/form.h"
#include "http/http.h"
#include "lua/host.h"

#include <lauxlib.h>
#include <lua.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>
#include <uv.h>

enum {
    HOST_MAX_PARAMS = 16,          /* segments of a route pattern */
    LUA_MAX_RES_HEADERS = 60,      /* response headers a plugin may set */
    HOST_CPU_SLOTS = 16,           /* slots of the CPU quota's sliding window */
    LUA_MAX_LOGGED_MESSAGE = 4000, /* bytes of a plugin's error message logged */
};

typedef struct host_plugin host_plugin;
typedef struct host_req host_req;
typedef struct host_gen host_gen;
typedef struct lua_db_cache lua_db_cache;
typedef struct store store;

/* A route pattern such as "/items/:id" or "/files/ *rest" (no space), split into segments. */
typedef struct {
    char *method; /* "GET", or "*" for any */
    char *pattern;
    char **segs; /* literal text, or ":name", or "*name" (last only) */
    size_t nsegs;
    int handler_ref;  /* registry ref in the plugin's state */
    bool csrf_exempt; /* csrf = false: unsafe methods need no CSRF token */
    int nargs;        /* 0, 1 or 2: how many of (req, res) the handler declares */
} host_route;

/* A job handler named in the manifest's `jobs`, with its recurring
 * schedule when it declares one. */
typedef struct {
    char *name;
    int ref;         /* the handler, a registry ref in the plugin's state */
    int kind;        /* a sched_kind (every or cron), or -1: scheduled by park.sched only */
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
    lua_db_cache *stmts; /* park.db's prepared statements (db.c) */
    int pool_ref;
    int *idle, *empty;
    host_req *waiters; /* requests in park.wait (api.c) */
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

typedef struct {
    char *column; /* "/tzgg" ("/" for the root) */
    size_t column_len;
    host_plugin *plugin;
    int config_ref; /* the validated config, a table in plugin->L */
} host_binding;

/* A column of the site model, as the generation was built from it. */
typedef struct {
    char *path, *title, *kind, *unit, *unit_name, *parent; /* parent NULL at the top */
    char *plugin, *config;                                 /* its binding, or NULLs */
    int64_t position, max_stale_days;
    int depth;
    bool enabled; /* the binding is enabled */
    bool served;  /* ... and loaded: requests reach its plugin */
} host_column;

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
    int refs;
};

typedef enum { REQ_RUNNING, REQ_SLEEPING, REQ_DRAINING, REQ_DONE } host_req_state;

struct host_req {
    lua_host *host;
    host_gen *gen;
    host_plugin *plugin;
    host_binding *binding;
    host_route *route;
    http_request *http; /* NULL once answered */
    lua_State *co;
    int co_slot;             /* its slot in the plugin's pool table */
    void *req_obj, *res_obj; /* the userdata of req and res, kept alive on co's stack */
    const char *pv[16 + 1];  /* the route's parameters, inside http->path */
    size_t pl[16 + 1];
    const char *subpath;   /* the path below the column, inside http */
    char csrf_browser[32]; /* a browser id park.csrf() set by cookie in this response */
    /* Work on the libuv thread pool (a password check): the request is not
     * freed while it runs; a client that leaves meanwhile marks it
     * orphaned and the work's end frees it. */
    uv_work_t work;
    bool work_pending, orphaned;
    host_req_state state;
    uint64_t instructions, budget;
    bool budget_exceeded, mem_exceeded, streaming, timer_open;
    /* Why budget_exceeded was set, when not by the instruction count: the
     * run held the loop past plugin-max-hold-ms (the watchdog), or the
     * plugin went past its CPU quota (plugin-cpu-percent). */
    bool held, over_quota;
    bool resumed; /* it ran before: this run comes after a wait */
    uv_timer_t timer;
    int client_status; /* a 4xx the API chose for a bad request body */
    /* The files spooled from this request's multipart body (api.c), each
     * path NUL-terminated: park.files.keep keeps only these. Freed by
     * lua__api_close. */
    ph_buf uploads;
    /* The response being shaped through `res`. */
    int status;
    ph_buf res_headers; /* "Name\0Value\0" pairs */
    size_t nres_headers;
    host_req *next_streaming, *prev_streaming;
    /* Waiting in park.wait: the key (malloc'd; NULL when not waiting),
     * whether park.notify woke it, and its place in the plugin's list. */
    char *wait_key;
    bool notified;
    host_req *next_waiter, *prev_waiter;
    /* A scheduled job instead of a request (route and http are NULL). */
    bool is_job;
    int64_t job_id, job_started_ms, job_renewed_ms;
    char *job_label; /* "name[key]", for the log */
    host_req *next_job, *prev_job;
};

struct lua_host {
    uv_loop_t *loop;
    store *db; /* the worker's database, or NULL */
    const ph_conf *conf;
    host_gen *gen;
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
};

/* sandbox.c */
/* Create plugin->L: allocator capped at plugin->mem_cap, allowed libraries,
 * the plugin's environment (env_ref), require() limited to the plugin's own
 * modules and the host's libraries, and the instruction-count hook. Returns
 * 0 or PH_ENOMEM. */
int lua__sandbox_open(host_plugin *p, const char *lualib_dir);
/* The plugin whose state L (any thread of it) belongs to. */
host_plugin *lua__plugin_of(lua_State *L);
/* Load the Lua text file `rel` beneath `root` (never through a symbolic
 * link) as the chunk "@root/rel": 0 and the function pushed, or -errno and
 * nothing pushed; raises on a syntax error. */
int lua__load_beneath(lua_State *L, const char *root, const char *rel);
/* Push msg, cut to LUA_MAX_LOGGED_MESSAGE bytes with a note of how much
 * more there was: what a log line quotes of a plugin's message. */
void lua__push_loggable(lua_State *L, const char *msg);
/* Whether plugin p may write one more log line now (plugin-log-lines a
 * second, in bursts of as many). A refused line is counted; *dropped says
 * how many were refused before an allowed one. */
bool lua__log_allowed(host_plugin *p, unsigned *dropped);
/* Push the arguments on L's stack as strings (tostring) joined by sep. */
void lua__join_args(lua_State *L, char sep);
/* Bill `units` instructions for work done inside a C function (a pattern
 * match, string.rep) to the code running now on L's plugin, if any. True
 * while within the budget; false once over it, after which the budget hook
 * stops that code at its next instruction, so a pcall that catches the
 * caller's error cannot carry on. lua__bill_check raises "instruction
 * budget exceeded (<what>)" instead of returning false. */
bool lua__bill(lua_State *L, uint64_t units);
void lua__bill_check(lua_State *L, uint64_t units, const char *what);
/* Raise "not enough memory (<what> past plugin-memory-mb)", as the
 * allocator's refusal would, when the running code's plugin has no room
 * for `bytes` more: for C work that knows its size before it starts. */
void lua__mem_check(lua_State *L, double bytes, const char *what);
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

/* beneath.c: files opened beneath a folder, never through a symbolic link.
 * lua__open_beneath opens `rel` (a relative path; no "..", no leading /)
 * beneath the directory `root` with openat2(RESOLVE_BENEATH |
 * RESOLVE_NO_SYMLINKS), or an equivalent walk where openat2 is missing.
 * Returns a file descriptor, or -errno (-ELOOP for a link, -EXDEV for a
 * path leaving root, -ENOENT). lua__slurp_beneath reads a regular file of
 * at most `max` bytes so opened into *data (malloc'd, NUL-terminated) and
 * *len; 0 or -errno (-EFBIG when larger). lua__tree_check walks the folder
 * `dir` and fails (PH_EINVAL, why naming the link and its target) on the
 * first symbolic link whose target leaves dir. */
int lua__open_beneath(const char *root, const char *rel, int flags, unsigned mode);
int lua__slurp_beneath(const char *root, const char *rel, size_t max, char **data, size_t *len);
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

/* api.c */
/* Register require("park") in the plugin's state. */
void lua__api_open(lua_State *L);
/* Push the request object for r onto co; then the response object. */
void lua__api_push_req(lua_State *co, host_req *r);
void lua__api_push_res(lua_State *co, host_req *r);
/* Invalidate the objects when the request ends. */
void lua__api_close(host_req *r);
/* The request was answered from C while its handler still runs
 * (park.files.send): req and res raise "attempt to use a finished ..."
 * from now on, as they do once the request ended; the uploads stay until
 * lua__api_close. */
void lua__api_answered(host_req *r);
/* Credentials plugins never see nor set: the host's cookies (ph_session,
 * ph_csrf) and secret-cookies; Authorization, Proxy-Authorization and
 * secret-headers. Names compare without regard to case. */
bool lua__secret_cookie(const lua_host *h, const char *n, size_t nl);
bool lua__secret_header(const lua_host *h, const char *n, size_t nl);
/* RFC 9110's grammar of a field name (a token) and a field value. */
bool lua__header_name_ok(const char *s, size_t n);
bool lua__header_value_ok(const char *s, size_t n);
/* Why a plugin may not send this response header (a bad name or value, a
 * Set-Cookie of a host cookie), or NULL. */
const char *lua__header_refusal(const lua_host *h, const char *n, size_t nl, const char *v,
                                size_t vl);
/* Add a response header to r (raises on a bad name or value, a host
 * cookie, too many headers or past max-response-header-bytes). */
void lua__api_add_header(lua_State *L, host_req *r, const char *n, size_t nl, const char *v,
                         size_t vl);
/* Add the Set-Cookie header of c to r (form_set_cookie's checks; raises on
 * a bad cookie or once a stream has started). */
void lua__api_set_cookie(lua_State *L, host_req *r, const form_cookie *c);
/* The client's address (behind trusted proxies, from X-Forwarded-For)
 * into ip (64 bytes); false when unknown. And whether the client reached
 * the site over HTTPS (X-Forwarded-Proto from a trusted proxy). */
bool lua__client_ip(const host_req *r, char *ip, size_t n);
bool lua__via_https(const host_req *r);
/* Push the percent-decoded form of s (a path parameter). */
void lua__api_push_decoded(lua_State *L, const char *s, size_t n);

/* static.c: answer q from a plugin's static/ folder when its path is
 * under /static/; false (nothing done) otherwise. */
bool lua__static_serve(lua_host *h, http_request *q);

/* db.c: push the park.db table; free a plugin's statement cache (before
 * its state closes). */
void lua__db_open(lua_State *L);
void lua__db_cache_free(host_plugin *p);
/* After a run of plugin code ended by an error: no namespace or progress
 * hook left on the store, no statement left mid-step. */
void lua__db_settle(host_plugin *p);

/* files.c: push the park.files table (a plugin's kept files, in
 * <files-dir>/<plugin>/). */
void lua__files_open(lua_State *L);

/* cal.c: push the park.calendar table. */
void lua__calendar_open(lua_State *L);

/* csrf.c */
/* Load (or make) the site's CSRF secret. */
void lua__csrf_init(lua_host *h);
/* Whether an unsafe request carries its browser's CSRF token (header
 * X-CSRF-Token or form field _csrf); *why says what is missing. */
bool lua__csrf_ok(lua_host *h, const http_request *q, const char **why);
/* park.csrf() */
int lua__l_park_csrf(lua_State *L);

/* session.c: push the park.auth table; park.audit. */
void lua__auth_open(lua_State *L);
int lua__l_park_audit(lua_State *L);
/* The logged-in user of r (NULL or a job: none): the id, and the login
 * into login (n bytes); 0 when nobody is logged in. */
int64_t lua__session_user(host_req *r, char *login, size_t n);

/* site.c: push the park.site table; park.auth.can. */
void lua__site_open(lua_State *L);
int lua__l_auth_can(lua_State *L);

/* jobs.c */
/* Milliseconds since the epoch on the park clock (clock-offset-s applied). */
int64_t lua__now_ms(const lua_host *h);
/* The same in whole seconds. */
int64_t lua__now(const lua_host *h);
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
/* Take a finished job off the host's list (from lua__req_end). */
void lua__job_unlink(host_req *r);
/* Push the JSON text of the value at idx (nil: "null") and return it;
 * raises "<what> cannot be stored as JSON: ..." on a value cjson refuses. */
const char *lua__json_encode(lua_State *L, int idx, const char *what, size_t *len);
/* Push the park.sched table. */
void lua__sched_open(lua_State *L);
/* park.now() */
int lua__l_park_now(lua_State *L);

/* static.c: dates of HTTP headers (IMF-fixdate, GMT). */
void lua__http_date(char *buf, size_t n, time_t t);
/* The time of an HTTP date, or (time_t)-1. */
time_t lua__http_parse_date(const char *s);

/* host.c */
/* Whether plugin p is past its CPU quota now (plugin-cpu-percent). */
bool lua__over_quota(host_plugin *p);
/* The live plugin named `name`, or NULL. */
host_plugin *lua__plugin_find(lua_host *h, const char *name);
/* A request context for plugin p on the current generation, its budget
 * armed and a coroutine acquired; NULL when out of memory. Ended with
 * lua__req_end (or by lua__req_resume when it finishes). */
host_req *lua__req_new(lua_host *h, host_plugin *p);
void lua__req_end(host_req *r);
host_req *lua__req_of(lua_State *L);
/* The headers set through `res`, as http_headers pointing into r (at most
 * max); *has_type is set when one is Content-Type. */
size_t lua__res_headers(const host_req *r, http_header *hs, size_t max, bool *has_type);
void lua__req_resume(host_req *r, int nargs);
/* Serve the site model as the database has it now: a new generation with
 * the same plugins and the columns and bindings read again. Streams go on.
 * Returns 0, or an error (logged) after which the site serves as before. */
int lua__host_rebind(lua_host *h);
/* Push a copy of p's config schema onto `to` (an empty table when none). */
int lua__push_schema(host_plugin *p, lua_State *to);
/* The column at `path` in generation g, or NULL. */
const host_column *lua__column_find(const host_gen *g, const char *path);

#endif
