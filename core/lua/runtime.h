/* lua/runtime.h: what the runtime of plugins offers the `park` API bindings
 * (core/park). Bindings include this header and park/park.h, never
 * lua/internal.h.
 *
 * Provides: the plugin whose code runs on a lua_State and the request or
 *           job it runs for (host_req, the one struct shared in full, see
 *           below); accessors of a plugin, the host and the generation
 *           served; the request's life (resume, end, sleep on its timer,
 *           stream); billing of C work to the running code's instruction
 *           budget and memory cap; files opened beneath a folder; the
 *           credentials plugins never see and the grammar of header fields;
 *           the park clock; JSON through cjson.
 * Owns:     nothing a binding frees. Every pointer returned here is
 *           borrowed: a plugin's name and folder live as long as the plugin,
 *           the host's config and store as long as the host, a generation's
 *           columns and plugins as long as a request on that generation is
 *           in flight (r->gen holds one reference), lua_host_gen's until the
 *           next reload or rebind.
 * Uses:     Lua 5.4, libuv, http, conf.
 *
 * What a binding may rely on: its C function runs on the loop's thread,
 * inside the gate of lua/host.c (the plugin's budget armed, its context
 * set); lua_req_of(L) is the request or job running now, or NULL when the
 * code runs for neither (a plugin's loading). A binding that waits (park.sleep,
 * park.wait, the thread pool) yields the request's coroutine and resumes it
 * with lua_req_resume; it must undo anything it registered for the request
 * when park_req_close (park/park.h) says the request ended, since a request
 * can end while it waits (the client gone, the host stopping).
 *
 * host_req is defined here in full, not behind accessors: the req and res
 * functions read and write a dozen of its fields on every call, and each
 * waiting API keeps its state in it. Its fields are the runtime's to
 * allocate and free; bindings read them and set those the comments name as
 * theirs. The plugin, the host and the generation stay opaque.
 */
#ifndef PH_LUA_RUNTIME_H
#define PH_LUA_RUNTIME_H

#include "base/base.h"
#include "http/http.h"
#include "lua/host.h"

#include <lauxlib.h>
#include <lua.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>
#include <uv.h>

enum {
    LUA_MAX_RES_HEADERS = 60, /* response headers a plugin may set */
};

/* The host's own cookies: the staff session, the browser id CSRF tokens
 * are bound to, and the device token of a browser that logged in before
 * (park/session.c). Plugins neither read nor set them. */
#define LUA_SESSION_COOKIE "ph_session"
#define LUA_CSRF_COOKIE    "ph_csrf"
#define LUA_DEVICE_COOKIE  "ph_device"

typedef struct host_plugin host_plugin;
typedef struct host_req host_req;
typedef struct host_gen host_gen;
typedef struct lua_db_cache lua_db_cache; /* park.db's, see lua_plugin_stmts */
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
    /* lua_req_wake: the callback to run on the next turn, and the host's
     * list of requests to wake (the runtime's). */
    uv_timer_cb wake_cb;
    host_req *next_wake, *prev_wake;
    bool waking;
    int client_status; /* a 4xx the API chose for a bad request body */
    /* The files spooled from this request's multipart body (park/request.c),
     * each path NUL-terminated: park.files.keep keeps only these. Freed by
     * park_req_close. */
    ph_buf uploads;
    /* The response being shaped through `res`. */
    int status;
    ph_buf res_headers; /* "Name\0Value\0" pairs */
    size_t nres_headers;
    host_req *next_streaming, *prev_streaming;
    /* Waiting in park.wait (park/notify.c): the key (malloc'd; NULL when
     * not waiting), whether park.notify woke it, and its place in the
     * plugin's list (lua_plugin_waiters). */
    char *wait_key;
    bool notified;
    host_req *next_waiter, *prev_waiter;
    /* A form post that failed the CSRF check, answered by the GET route of
     * its path (req.csrf_failed) with 403: the form again, what was typed
     * in req.form, never the post's own handler. */
    bool csrf_refill;
    /* A scheduled job instead of a request (route and http are NULL). */
    bool is_job;
    int64_t job_id, job_started_ms, job_renewed_ms;
    char *job_label; /* "name[key]", for the log */
    host_req *next_job, *prev_job;
};

/* ---- plugins -------------------------------------------------------------
 * The plugin whose state L (any thread of it) belongs to; never NULL for a
 * state the host made. The rest read one field of p. */
host_plugin *lua_plugin_of(lua_State *L);
const char *lua_plugin_name(const host_plugin *p);
/* The manifest's version and description (either may be NULL). */
const char *lua_plugin_version(const host_plugin *p);
const char *lua_plugin_description(const host_plugin *p);
/* The plugin's folder (its plugin.lua, templates/, static/). */
const char *lua_plugin_dir(const host_plugin *p);
lua_host *lua_plugin_host(const host_plugin *p);
/* A plugin published or withdrew an item in this turn (lua_host_flush_items). */
void lua_host_items_changed(lua_host *h);
/* Whether p is the built-in admin console, which may change the site. */
bool lua_plugin_core(const host_plugin *p);
/* The request or job whose code runs now on p, or NULL. */
host_req *lua_plugin_current(const host_plugin *p);
/* The registry reference of the plugin's _ENV in its state. */
int lua_plugin_env_ref(const host_plugin *p);
/* Whether p's manifest names a job handler `name` (its `jobs` table). */
bool lua_plugin_has_job(const host_plugin *p, const char *name);
/* Slots the runtime keeps in each plugin for bindings, which own what they
 * hold: park.db's statement cache (freed by park_db_free before the state
 * closes), and the head of the list of requests in park.wait (each one
 * taken off by park_req_close before it ends). NULL until set. */
lua_db_cache **lua_plugin_stmts(host_plugin *p);
host_req **lua_plugin_waiters(host_plugin *p);
/* Bill `units` instructions to the code running now on p (nothing when
 * none runs), from a callback without a lua_State (SQLite's progress
 * hook). True once that code is past its budget or has held the loop past
 * plugin-max-hold-ms: the caller interrupts its work, and the budget hook
 * stops the code at its next instruction. */
bool lua_plugin_bill(host_plugin *p, uint64_t units);
/* Push a copy of p's config schema onto `to` (an empty table when none). */
int lua_push_schema(host_plugin *p, lua_State *to);

/* ---- the host and the generation it serves ------------------------------ */
const ph_conf *lua_host_conf(const lua_host *h);
/* The worker's database, or NULL (a host without one). */
store *lua_host_store(const lua_host *h);
uv_loop_t *lua_host_loop(const lua_host *h);
/* The site's CSRF secret, 32 bytes (lua/csrf.c). */
const unsigned char *lua_host_csrf_secret(const lua_host *h);
/* The generation served now, or NULL before the first. */
const host_gen *lua_host_gen(const lua_host *h);
/* Serve the site model as the database has it now: a new generation with
 * the same plugins and the columns and bindings read again. Streams go on.
 * Returns 0, or an error (logged) after which the site serves as before. */
int lua_host_rebind(lua_host *h);
/* This worker changed the site model (the console): rebind now, and tell
 * every other worker to, before its next request (workers/). */
int lua_host_site_changed(lua_host *h);
/* Run due jobs on the loop's next turn (after park.sched put one). */
void lua_jobs_kick(lua_host *h);
uint64_t lua_gen_id(const host_gen *g);
/* The generation's columns in tree order (site_each_column), and its
 * plugins; *n gets how many. */
const host_column *lua_gen_columns(const host_gen *g, size_t *n);
host_plugin *const *lua_gen_plugins(const host_gen *g, size_t *n);
/* The generation's site settings (site_each_setting) as key, value pairs:
 * *n gets how many keys. */
char *const *lua_gen_settings(const host_gen *g, size_t *n);
/* The column at `path` in generation g (NULL: none), or NULL. */
const host_column *lua_column_find(const host_gen *g, const char *path);

/* ---- the request's life --------------------------------------------------
 * The request or job whose code runs on L now, or NULL. */
host_req *lua_req_of(lua_State *L);
/* Run r's coroutine again with the nargs values on top of r->co. */
void lua_req_resume(host_req *r, int nargs);
/* Free r (a request answered, or one a pool work found orphaned). */
void lua_req_end(host_req *r);
/* Put r to sleep until `cb` runs on r's timer (t->data is r), at least
 * 1 ms from now. The caller then yields r->co. */
void lua_req_sleep(host_req *r, uv_timer_cb cb, uint64_t ms);
/* Run cb(&r->timer) on the loop's next turn instead of its sleep's timer:
 * sooner than a timer can (libuv's timers count whole milliseconds), and
 * never inside the caller's own code. Wakes asked during a wake run on the
 * turn after, so two requests waking each other cannot hold the loop. */
void lua_req_wake(host_req *r, uv_timer_cb cb);
/* r's response is a stream from now on: a reload lets it finish on its
 * version (or ends it after reload-grace-ms). */
void lua_req_stream(host_req *r);
/* The headers set through `res`, as http_headers pointing into r (at most
 * max); *has_type is set when one is Content-Type. */
size_t lua_res_headers(const host_req *r, http_header *hs, size_t max, bool *has_type);

/* ---- budget, memory and the log ------------------------------------------
 * Bill `units` instructions for work done inside a C function to the code
 * running now on L's plugin; raises "instruction budget exceeded (<what>)"
 * once it is over its budget. */
void lua_bill_check(lua_State *L, uint64_t units, const char *what);
/* Raise "not enough memory (<what> past plugin-memory-mb)", as the
 * allocator's refusal would, when the running code's plugin has no room
 * for `bytes` more: for C work that knows its size before it starts. */
void lua_mem_check(lua_State *L, double bytes, const char *what);
/* Whether plugin p may write one more log line now (plugin-log-lines a
 * second, in bursts of as many). A refused line is counted; *dropped says
 * how many were refused before an allowed one. */
bool lua_log_allowed(host_plugin *p, unsigned *dropped);
/* Push the arguments on L's stack as strings (tostring) joined by sep. */
void lua_join_args(lua_State *L, char sep);

/* ---- HTTP ----------------------------------------------------------------
 * Credentials plugins never see nor set: the host's cookies (ph_session,
 * ph_csrf) and secret-cookies; Authorization, Proxy-Authorization and
 * secret-headers. Names compare without regard to case. */
bool lua_secret_cookie(const lua_host *h, const char *n, size_t nl);
bool lua_secret_header(const lua_host *h, const char *n, size_t nl);
/* RFC 9110's grammar of a field value. */
bool lua_header_value_ok(const char *s, size_t n);
/* Why a plugin may not send this response header (a bad name or value, a
 * Set-Cookie of a host cookie), or NULL. */
const char *lua_header_refusal(const lua_host *h, const char *n, size_t nl, const char *v,
                               size_t vl);
/* Dates of HTTP headers (IMF-fixdate, GMT); the time of one, or
 * (time_t)-1. */
void lua_http_date(char *buf, size_t n, time_t t);
time_t lua_http_parse_date(const char *s);

/* ---- files beneath a folder (lua/beneath.c) ------------------------------
 * lua__open_beneath opens `rel` (a relative path; no "..", no leading /)
 * beneath the directory `root`, never through a symbolic link: a file
 * descriptor, or -errno (-ELOOP for a link, -EXDEV for a path leaving
 * root, -ENOENT). lua__slurp_beneath reads a regular file of at most `max`
 * bytes so opened into *data (malloc'd, NUL-terminated: the caller frees
 * it) and *len; 0 or -errno (-EFBIG when larger). Safe on any thread. They
 * keep their lua__ names, which tests/unit/test_beneath.c calls them by. */
int lua__open_beneath(const char *root, const char *rel, int flags, unsigned mode);
int lua__slurp_beneath(const char *root, const char *rel, size_t max, char **data, size_t *len);

/* ---- the park clock and JSON ---------------------------------------------
 * Seconds since the epoch on the park clock (clock-offset-s applied). */
int64_t lua_now(const lua_host *h);
/* Push the JSON text of the value at idx (nil: "null") and return it;
 * raises "<what> cannot be stored as JSON: ..." on a value cjson refuses. */
const char *lua_json_encode(lua_State *L, int idx, const char *what, size_t *len);
/* Push the value of JSON text s (nil for NULL or "null"); raises on bad
 * JSON or without cjson. */
void lua_json_decode(lua_State *L, const char *s);

#endif
