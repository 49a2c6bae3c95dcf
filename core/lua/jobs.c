/* park.sched and the running of due jobs.
 *
 * A plugin names its job handlers in its manifest (`jobs`), optionally each
 * with a recurring schedule; park.sched puts jobs for those handlers into
 * the core's park_jobs table (core/sched). A timer of the worker claims due
 * jobs under a lease and runs each as a coroutine of its plugin, like a
 * request: same sandbox, same instruction budget between waits, park.sleep
 * allowed. How a run ended is written back by sched_finish, which also
 * decides the retry.
 *
 * The timer (lua_host.jobs_timer) is opened in lua__jobs_init, closed in
 * lua__jobs_stop with no close callback: the lua_host that embeds it is
 * freed only after the loop has ended.
 */
#include "log/log.h"
#include "lua/internal.h"
#include "sched/sched.h"
#include "store/store.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum {
    JOBS__NAME_MAX = 64,
    JOBS__KEY_MAX = 200,
    JOBS__ERROR_MAX = 2000, /* bytes of a failure kept in park_jobs.last_error */
};

static int jobs__offset(const lua_host *h)
{
    return (int)h->conf->utc_offset_min * 60;
}

int64_t lua__now_ms(const lua_host *h)
{
    uv_timeval64_t tv;
    uv_gettimeofday(&tv);
    return (int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000 + h->conf->clock_offset_s * 1000;
}

int64_t lua__now(const lua_host *h)
{
    return lua__now_ms(h) / 1000;
}

/* ---- the manifest's jobs ------------------------------------------------ */

void lua__jobs_free(host_plugin *p)
{
    for (size_t i = 0; i < p->njobs; i++) {
        free(p->jobs[i].name);
        free(p->jobs[i].spec);
    }
    free(p->jobs);
    p->jobs = NULL;
    p->njobs = 0;
}

static bool jobs__name_ok(const char *s, size_t n)
{
    if (n == 0 || n > JOBS__NAME_MAX) return false;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
            return false;
    return true;
}

/* One entry of manifest.jobs: key at -2, value at -1. */
static int jobs__read_one(host_plugin *p, host_job *j, char *why, size_t whylen)
{
    lua_State *L = p->L;
    size_t nl;
    const char *name = lua_type(L, -2) == LUA_TSTRING ? lua_tolstring(L, -2, &nl) : NULL;
    if (!name || !jobs__name_ok(name, nl)) {
        snprintf(why, whylen,
                 "jobs: a job's name is 1 to %d lower-case letters, digits or _ (got %s)",
                 JOBS__NAME_MAX, name ? name : luaL_typename(L, -2));
        return PH_EINVAL;
    }
    if (!(j->name = strdup(name))) return PH_ENOMEM;
    j->kind = -1;
    j->ref = LUA_NOREF;
    j->payload_ref = LUA_NOREF;
    if (lua_isfunction(L, -1)) {
        lua_pushvalue(L, -1);
        j->ref = luaL_ref(L, LUA_REGISTRYINDEX);
        return 0;
    }
    if (!lua_istable(L, -1) || lua_getfield(L, -1, "run") != LUA_TFUNCTION) {
        snprintf(why, whylen,
                 "jobs.%s must be a function, or { run = function, every = seconds | cron = "
                 "\"m h dom mon dow\" }",
                 name);
        if (lua_istable(L, -1)) lua_pop(L, 1);
        return PH_EINVAL;
    }
    j->ref = luaL_ref(L, LUA_REGISTRYINDEX);
    int te = lua_getfield(L, -1, "every"), tc = lua_getfield(L, -2, "cron");
    char spec[256] = "";
    if (te != LUA_TNIL && tc != LUA_TNIL) {
        snprintf(why, whylen, "jobs.%s: give every or cron, not both", name);
    } else if (te != LUA_TNIL) {
        if (!lua_isinteger(L, -2) || lua_tointeger(L, -2) < 1)
            snprintf(why, whylen, "jobs.%s.every must be a whole number of seconds, 1 or more",
                     name);
        else
            snprintf(spec, sizeof spec, "%lld", (long long)lua_tointeger(L, -2)),
                j->kind = SCHED_EVERY;
    } else if (tc != LUA_TNIL) {
        sched_cron c;
        char cwhy[200];
        if (tc != LUA_TSTRING)
            snprintf(why, whylen, "jobs.%s.cron must be a string", name);
        else if (sched_cron_parse(lua_tostring(L, -1), &c, cwhy, sizeof cwhy))
            snprintf(why, whylen, "jobs.%s.cron: %s", name, cwhy);
        else
            snprintf(spec, sizeof spec, "%s", lua_tostring(L, -1)), j->kind = SCHED_CRON;
    }
    lua_pop(L, 2);
    if (why[0]) return PH_EINVAL;
    if (j->kind >= 0) {
        if (!(j->spec = strdup(spec))) return PH_ENOMEM;
        lua_getfield(L, -1, "payload");
        j->payload_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    }
    return 0;
}

int lua__jobs_read(host_plugin *p, char *why, size_t whylen)
{
    lua_State *L = p->L;
    int t = lua_getfield(L, -1, "jobs");
    if (t == LUA_TNIL) {
        lua_pop(L, 1);
        return 0;
    }
    if (t != LUA_TTABLE) {
        snprintf(why, whylen, "manifest field 'jobs' must be a table of job handlers");
        lua_pop(L, 1);
        return PH_EINVAL;
    }
    int rc = 0;
    lua_pushnil(L);
    while (!rc && lua_next(L, -2)) {
        host_job *nj = realloc(p->jobs, (p->njobs + 1) * sizeof *nj);
        if (!nj) {
            rc = PH_ENOMEM;
            lua_pop(L, 2);
            break;
        }
        p->jobs = nj;
        host_job *j = &p->jobs[p->njobs++];
        memset(j, 0, sizeof *j);
        rc = jobs__read_one(p, j, why, whylen);
        lua_pop(L, rc ? 2 : 1);
    }
    lua_pop(L, 1);
    return rc;
}

static host_job *jobs__find(host_plugin *p, const char *name)
{
    for (size_t i = 0; i < p->njobs; i++)
        if (strcmp(p->jobs[i].name, name) == 0) return &p->jobs[i];
    return NULL;
}

const char *lua__json_encode(lua_State *L, int idx, const char *what, size_t *len)
{
    idx = lua_absindex(L, idx);
    if (lua_isnoneornil(L, idx)) {
        lua_pushliteral(L, "null");
    } else {
        lua_getfield(L, LUA_REGISTRYINDEX, "park.loaded");
        if (lua_getfield(L, -1, "cjson") != LUA_TTABLE)
            luaL_error(L, "%s needs lua-cjson (apt-get install lua-cjson)", what);
        lua_getfield(L, -1, "encode");
        lua_pushvalue(L, idx);
        if (lua_pcall(L, 1, 1, 0) != LUA_OK)
            luaL_error(L, "%s cannot be stored as JSON: %s", what, lua_tostring(L, -1));
        lua_replace(L, -3);
        lua_pop(L, 1);
    }
    return lua_tolstring(L, -1, len);
}

/* Push the value of JSON text s (nil for "null"); raises on bad JSON. */
static void jobs__decode(lua_State *L, const char *s)
{
    if (!s || strcmp(s, "null") == 0) {
        lua_pushnil(L);
        return;
    }
    lua_getfield(L, LUA_REGISTRYINDEX, "park.loaded");
    if (lua_getfield(L, -1, "cjson") != LUA_TTABLE)
        luaL_error(L, "park.sched: payloads need lua-cjson (apt-get install lua-cjson)");
    lua_getfield(L, -1, "decode");
    lua_pushstring(L, s);
    lua_call(L, 1, 1);
    lua_replace(L, -3);
    lua_pop(L, 1);
}

void lua__jobs_declare(host_plugin *p)
{
    lua_host *h = p->host;
    if (!h->db) return;
    const char **names = calloc(p->njobs + 1, sizeof *names);
    if (!names) return;
    size_t n = 0;
    int64_t now = lua__now(h);
    lua_State *L = p->L;
    for (size_t i = 0; i < p->njobs; i++) {
        host_job *j = &p->jobs[i];
        if (j->kind < 0) continue;
        names[n++] = j->name;
        char why[256] = "";
        int64_t first;
        size_t plen;
        lua_rawgeti(L, LUA_REGISTRYINDEX, j->payload_ref);
        const char *payload = NULL;
        /* cjson.encode can raise (a function in the payload): protected. */
        lua_getfield(L, LUA_REGISTRYINDEX, "park.loaded");
        lua_getfield(L, -1, "cjson");
        if (lua_isnil(L, -3)) {
            lua_pushliteral(L, "null");
        } else if (!lua_istable(L, -1)) {
            lua_pushnil(L);
        } else {
            lua_getfield(L, -1, "encode");
            lua_pushvalue(L, -4);
            if (lua_pcall(L, 1, 1, 0) != LUA_OK) {
                log_msg(LOG_ERROR, "plugin %s: jobs.%s.payload cannot be stored as JSON: %s",
                        p->name, j->name, lua_tostring(L, -1));
                lua_pop(L, 1);
                lua_pushnil(L);
            }
        }
        payload = lua_tolstring(L, -1, &plen);
        if (!payload) {
            lua_pop(L, 4);
            continue;
        }
        if (sched_first_run((sched_kind)j->kind, j->spec, now, jobs__offset(h), &first, why,
                            sizeof why) ||
            sched_put(h->db, p->name, j->name, "", (sched_kind)j->kind, j->spec, payload, plen,
                      first, true, now))
            log_msg(LOG_ERROR, "plugin %s: cannot schedule jobs.%s: %s", p->name, j->name,
                    why[0] ? why : sqlite3_errmsg(store_db(h->db)));
        lua_pop(L, 4);
    }
    if (sched_prune_declared(h->db, p->name, names, n))
        log_msg(LOG_ERROR, "plugin %s: cannot remove the schedules no longer declared: %s", p->name,
                sqlite3_errmsg(store_db(h->db)));
    free(names);
}

/* ---- the timer ---------------------------------------------------------- */

static void jobs__tick(uv_timer_t *t);

static void jobs__kick(lua_host *h)
{
    /* 1 ms, not 0: a timer started at 0 from a timer's callback would run
     * in the same pass (libuv before 1.45), and a chain of jobs would keep
     * the loop from polling for I/O. */
    if (h->jobs_open && !h->jobs_stopping) uv_timer_start(&h->jobs_timer, jobs__tick, 1, 0);
}

static bool jobs__runnable(void *ud, const char *plugin)
{
    host_plugin *p = plugin ? lua__plugin_find(ud, plugin) : NULL;
    return p && !(p->throttled && lua__over_quota(p)); /* past its CPU quota: later */
}

static void jobs__finish(lua_host *h, int64_t id, const char *plugin, const char *label,
                         const char *error, int64_t started_ms, bool stopped)
{
    sched_policy pol = {h->conf->job_retries, h->conf->job_retry_base_s, h->conf->job_retry_max_s,
                        jobs__offset(h), stopped && error};
    sched_outcome out;
    int64_t when;
    char err[JOBS__ERROR_MAX + 1];
    if (error) snprintf(err, sizeof err, "%s", error);
    if (sched_finish(h->db, id, h->owner, lua__now(h), error ? err : NULL, &pol, &out, &when)) {
        log_msg(LOG_ERROR,
                "plugin %s: job %s ended but its outcome cannot be recorded (%s); it will run "
                "again when its lease ends",
                plugin, label, sqlite3_errmsg(store_db(h->db)));
        return;
    }
    char next[SCHED_TIME_MAX + 16] = "nothing more scheduled";
    if (when) {
        char t[SCHED_TIME_MAX];
        sched_time_format(when, jobs__offset(h), t);
        snprintf(next, sizeof next, "next run %s", t);
    }
    long long ms = (long long)(lua__now_ms(h) - started_ms);
    switch (out) {
    case SCHED_DONE:
        log_msg(LOG_INFO, "plugin %s: job %s done in %lld ms; %s", plugin, label, ms, next);
        break;
    case SCHED_RETRY:
        log_msg(LOG_ERROR, "plugin %s: job %s failed after %lld ms, retried at %s: %s", plugin,
                label, ms, next + 9, error);
        break;
    case SCHED_GAVE_UP:
        if (pol.stopped) {
            log_msg(LOG_ERROR,
                    "plugin %s: job %s was stopped %lld times in a row: it is stopped for good "
                    "and not run again (after a restart either) until its schedule in the "
                    "manifest changes: %s",
                    plugin, label, (long long)h->conf->job_retries + 1, error);
            break;
        }
        log_msg(LOG_ERROR,
                "plugin %s: job %s failed %lld times in a row, not retried (job-retries); %s: "
                "%s",
                plugin, label, (long long)h->conf->job_retries + 1, next, error);
        break;
    case SCHED_LOST:
        log_msg(LOG_WARN,
                "plugin %s: job %s ended (%s) after it was rescheduled or its lease ran out",
                plugin, label, error ? "failed" : "ok");
        break;
    }
}

static void jobs__label(char *out, size_t n, const char *name, const char *key)
{
    snprintf(out, n, "%s%s%s%s", name, key[0] ? "[" : "", key, key[0] ? "]" : "");
}

/* Push the payload and a table of the job's facts (lightuserdata sched_job). */
static int jobs__push_args(lua_State *L)
{
    const sched_job *j = lua_touserdata(L, 1);
    jobs__decode(L, j->payload);
    lua_createtable(L, 0, 5);
    lua_pushstring(L, j->name);
    lua_setfield(L, -2, "name");
    lua_pushstring(L, j->key);
    lua_setfield(L, -2, "key");
    lua_pushinteger(L, j->attempts + 1);
    lua_setfield(L, -2, "attempt");
    lua_pushinteger(L, j->next_run);
    lua_setfield(L, -2, "due");
    lua_pushstring(L, j->kind);
    lua_setfield(L, -2, "kind");
    return 2;
}

/* Start a claimed job as a coroutine of its plugin. */
static void jobs__start(lua_host *h, const sched_job *j)
{
    char label[JOBS__NAME_MAX + JOBS__KEY_MAX + 8];
    jobs__label(label, sizeof label, j->name, j->key);
    host_plugin *p = lua__plugin_find(h, j->plugin);
    host_job *hj = p ? jobs__find(p, j->name) : NULL;
    if (!hj) {
        char why[256];
        snprintf(why, sizeof why, "plugin %s has no job handler '%s' (in its manifest's jobs)",
                 j->plugin, j->name);
        log_msg(LOG_ERROR, "plugin %s: job %s: %s", j->plugin, label, why);
        jobs__finish(h, j->id, j->plugin, label, why, lua__now_ms(h), false);
        return;
    }
    host_req *r = lua__req_new(h, p);
    if (!r) {
        log_msg(LOG_WARN, "plugin %s: job %s: no memory to start it; it will be tried again",
                p->name, label);
        sched_release(h->db, j->id, h->owner);
        return;
    }
    r->is_job = true;
    r->job_id = j->id;
    r->job_label = strdup(label);
    r->job_started_ms = r->job_renewed_ms = lua__now_ms(h);
    r->next_job = h->jobs;
    if (h->jobs) h->jobs->prev_job = r;
    h->jobs = r;
    h->jobs_running++;
    lua_State *co = r->co;
    /* The payload and the job's facts, decoded under the job's budget. */
    lua_pushcfunction(co, jobs__push_args);
    lua_pushlightuserdata(co, (void *)j);
    if (lua_pcall(co, 1, 2, 0) != LUA_OK) {
        char why[512];
        snprintf(why, sizeof why, "its payload cannot be read: %s", lua_tostring(co, -1));
        log_msg(LOG_ERROR, "plugin %s: job %s: %s", p->name, label, why);
        jobs__finish(h, j->id, p->name, label, why, r->job_started_ms, false);
        p->cur = NULL; /* armed by lua__req_new for a run that never starts */
        lua__req_end(r);
        return;
    }
    lua_rawgeti(co, LUA_REGISTRYINDEX, hj->ref);
    lua_insert(co, -3);
    lua__req_resume(r, 2);
}

void lua__job_ended(host_req *r, const char *error, bool stopped)
{
    lua_host *h = r->host;
    if (!h->db) return;
    jobs__finish(h, r->job_id, r->plugin->name, r->job_label ? r->job_label : "?", error,
                 r->job_started_ms, stopped);
    if (h->jobs_open && !h->jobs_stopping) jobs__kick(h); /* a slot is free */
}

void lua__job_unlink(host_req *r)
{
    lua_host *h = r->host;
    if (r->prev_job)
        r->prev_job->next_job = r->next_job;
    else
        h->jobs = r->next_job;
    if (r->next_job) r->next_job->prev_job = r->prev_job;
    h->jobs_running--;
    free(r->job_label);
    r->job_label = NULL;
}

/* Extend the leases of the jobs running here once a third of a lease has
 * passed, so a job that waits long is not claimed again elsewhere. */
static void jobs__renew(lua_host *h)
{
    int64_t now_ms = lua__now_ms(h), lease_ms = h->conf->job_lease_s * 1000;
    for (host_req *r = h->jobs; r; r = r->next_job) {
        if (now_ms - r->job_renewed_ms < lease_ms / 3) continue;
        bool ours = true;
        /* Leases are whole seconds: round up, never shorten one. */
        int64_t until = (now_ms + 999) / 1000 + h->conf->job_lease_s;
        if (sched_renew(h->db, r->job_id, h->owner, until, &ours)) {
            log_msg(LOG_WARN, "plugin %s: job %s: cannot extend its lease: %s", r->plugin->name,
                    r->job_label ? r->job_label : "?", sqlite3_errmsg(store_db(h->db)));
            continue;
        }
        r->job_renewed_ms = now_ms;
        if (!ours)
            log_msg(LOG_WARN,
                    "plugin %s: job %s: its lease was taken over (rescheduled, or it expired "
                    "before it could be extended); it may run twice",
                    r->plugin->name, r->job_label ? r->job_label : "?");
    }
}

static void jobs__tick(uv_timer_t *t)
{
    lua_host *h = t->data;
    if (h->jobs_stopping || !h->db) return;
    jobs__renew(h);
    int64_t now = lua__now(h);
    size_t room = (size_t)h->conf->jobs_concurrency > h->jobs_running
                      ? (size_t)h->conf->jobs_concurrency - h->jobs_running
                      : 0;
    sched_jobs js = {0};
    if (room &&
        /* now is rounded down: a second more keeps the lease job-lease-s long. */
        sched_claim(h->db, now, h->owner, h->conf->job_lease_s + 1, room, jobs__runnable, h, &js)) {
        log_msg(LOG_ERROR, "jobs: cannot claim due jobs: %s", sqlite3_errmsg(store_db(h->db)));
    }
    for (size_t i = 0; i < js.n && !h->jobs_stopping; i++)
        jobs__start(h, &js.v[i]);
    sched_jobs_free(&js);
    if (h->jobs_stopping) return;
    /* Sleep until the next job is due, but look again at least every
     * jobs-poll-ms: another worker or node may have scheduled one. */
    uint64_t wait = (uint64_t)h->conf->jobs_poll_ms;
    if (h->jobs && (uint64_t)h->conf->job_lease_s * 1000 / 3 < wait)
        wait = (uint64_t)h->conf->job_lease_s * 1000 / 3; /* in time to renew */
    int64_t due;
    if (h->jobs_running < (size_t)h->conf->jobs_concurrency &&
        sched_next_due(h->db, jobs__runnable, h, &due) == 0) {
        int64_t ms = due * 1000 - lua__now_ms(h);
        if (ms < 0) ms = 0;
        if ((uint64_t)ms < wait) wait = (uint64_t)ms;
    }
    uv_timer_start(&h->jobs_timer, jobs__tick, wait, 0);
}

void lua__jobs_init(lua_host *h)
{
    char host[64] = "?";
    gethostname(host, sizeof host - 1);
    host[sizeof host - 1] = 0;
    snprintf(h->owner, sizeof h->owner, "%s:%ld:%lld", host, (long)getpid(),
             (long long)lua__now_ms(h));
    uv_timer_init(h->loop, &h->jobs_timer);
    h->jobs_timer.data = h;
    h->jobs_open = true;
    /* Jobs missed while the server was down run on the first turn. */
    uv_timer_start(&h->jobs_timer, jobs__tick, 0, 0);
}

void lua__jobs_stop(lua_host *h)
{
    h->jobs_stopping = true;
    if (h->jobs_open) {
        uv_close((uv_handle_t *)&h->jobs_timer, NULL);
        h->jobs_open = false;
    }
    /* Jobs waiting (park.sleep) are given back: due again at once for
     * whoever runs next, instead of after their lease. */
    host_req *next;
    for (host_req *r = h->jobs; r; r = next) {
        next = r->next_job;
        if (r->state == REQ_RUNNING) continue;
        log_msg(LOG_INFO, "plugin %s: job %s stopped while it waited; it will run again",
                r->plugin->name, r->job_label ? r->job_label : "?");
        if (h->db) sched_release(h->db, r->job_id, h->owner);
        lua__req_end(r);
    }
}

/* ---- park.sched --------------------------------------------------------- */

static store *jobs__store(lua_State *L, host_plugin *p)
{
    if (!p->host->db) luaL_error(L, "park.sched: this host has no database");
    return p->host->db;
}

static int jobs__db_failed(lua_State *L, store *s)
{
    lua_pushnil(L);
    lua_pushstring(L, sqlite3_errmsg(store_db(s)));
    lua_pushstring(L, (sqlite3_extended_errcode(store_db(s)) & 0xff) == SQLITE_BUSY ? "BUSY"
                                                                                    : "ERROR");
    return 3;
}

static const char *jobs__key(lua_State *L, int idx)
{
    size_t n;
    const char *key = luaL_optlstring(L, idx, "", &n);
    luaL_argcheck(L, n <= JOBS__KEY_MAX && strlen(key) == n, idx,
                  "a key is at most 200 bytes, without NUL");
    return key;
}

static const char *jobs__name(lua_State *L, host_plugin *p, int idx)
{
    const char *name = luaL_checkstring(L, idx);
    if (!jobs__find(p, name))
        luaL_argerror(L, idx,
                      lua_pushfstring(L,
                                      "no job handler '%s': name it in the manifest's jobs "
                                      "table",
                                      name));
    return name;
}

/* park.sched.after(seconds, name, payload, key), .at(time, ...),
 * .every(seconds, ...), .cron(expression, ...): the kind is the upvalue.
 * Returns the time of the first run (seconds since the epoch). */
static int l_sched_put(lua_State *L)
{
    sched_kind kind = (sched_kind)lua_tointeger(L, lua_upvalueindex(1));
    host_plugin *p = lua__plugin_of(L);
    lua_host *h = p->host;
    store *s = jobs__store(L, p);
    int64_t now = lua__now(h);
    char spec[256];
    if (kind == SCHED_AFTER || kind == SCHED_EVERY) {
        lua_Number secs = luaL_checknumber(L, 1);
        luaL_argcheck(L, secs >= (kind == SCHED_EVERY ? 1 : 0) && secs <= 315360000, 1,
                      kind == SCHED_EVERY ? "every 1 to 315360000 seconds"
                                          : "after 0 to 315360000 seconds");
        snprintf(spec, sizeof spec, "%lld", (long long)ceil(secs));
    } else if (kind == SCHED_AT) {
        int64_t t;
        if (lua_type(L, 1) == LUA_TNUMBER) {
            t = (int64_t)ceil(lua_tonumber(L, 1));
        } else if (sched_time_parse(luaL_checkstring(L, 1), jobs__offset(h), &t)) {
            return luaL_argerror(
                L, 1,
                lua_pushfstring(L,
                                "'%s' is not a time: \"2026-12-01 09:30\" (site time), with "
                                "optional :ss and Z or +08:00, or seconds since the epoch",
                                lua_tostring(L, 1)));
        }
        snprintf(spec, sizeof spec, "%lld", (long long)t);
    } else {
        size_t n;
        const char *e = luaL_checklstring(L, 1, &n);
        luaL_argcheck(L, n < sizeof spec, 1, "a cron expression is shorter than that");
        snprintf(spec, sizeof spec, "%s", e);
    }
    char why[256] = "";
    int64_t first;
    if (sched_first_run(kind, spec, now, jobs__offset(h), &first, why, sizeof why))
        return luaL_argerror(L, 1, lua_pushstring(L, why));
    const char *name = jobs__name(L, p, 2);
    const char *key = jobs__key(L, 4);
    size_t plen;
    const char *payload = lua__json_encode(L, 3, "park.sched: the payload", &plen);
    if (plen > (size_t)h->conf->job_payload_bytes)
        return luaL_argerror(L, 3,
                             lua_pushfstring(L,
                                             "the payload is %d bytes as JSON; at most %d "
                                             "(job-payload-bytes)",
                                             (int)plen, (int)h->conf->job_payload_bytes));
    if (sched_put(s, p->name, name, key, kind, spec, payload, plen, first, false, now))
        return jobs__db_failed(L, s);
    jobs__kick(h);
    lua_pushinteger(L, first);
    return 1;
}

/* park.sched.cancel(name, key) -> whether there was such a job */
static int l_sched_cancel(lua_State *L)
{
    host_plugin *p = lua__plugin_of(L);
    store *s = jobs__store(L, p);
    const char *name = luaL_checkstring(L, 1);
    const char *key = jobs__key(L, 2);
    bool found;
    if (sched_cancel(s, p->name, name, key, &found)) return jobs__db_failed(L, s);
    lua_pushboolean(L, found);
    return 1;
}

static void jobs__push_job(lua_State *L, const sched_job *j)
{
    lua_createtable(L, 0, 12);
    static const struct {
        const char *field;
        size_t off;
    } strs[] = {
        {"name", offsetof(sched_job, name)},
        {"key", offsetof(sched_job, key)},
        {"kind", offsetof(sched_job, kind)},
        {"spec", offsetof(sched_job, spec)},
        {"last_status", offsetof(sched_job, last_status)},
        {"last_error", offsetof(sched_job, last_error)},
    };
    for (size_t i = 0; i < sizeof strs / sizeof strs[0]; i++) {
        const char *v = *(char *const *)((const char *)j + strs[i].off);
        if (!v) continue;
        lua_pushstring(L, v);
        lua_setfield(L, -2, strs[i].field);
    }
    if (j->next_run) lua_pushinteger(L, j->next_run), lua_setfield(L, -2, "next_run");
    if (j->last_run) lua_pushinteger(L, j->last_run), lua_setfield(L, -2, "last_run");
    lua_pushinteger(L, j->runs);
    lua_setfield(L, -2, "runs");
    lua_pushinteger(L, j->attempts);
    lua_setfield(L, -2, "failures");
    lua_pushboolean(L, j->lease_owner != NULL);
    lua_setfield(L, -2, "running");
    lua_pushboolean(L, j->declared);
    lua_setfield(L, -2, "declared");
    jobs__decode(L, j->payload);
    lua_setfield(L, -2, "payload");
}

static int jobs__push_job_protected(lua_State *L)
{
    jobs__push_job(L, lua_touserdata(L, 1));
    return 1;
}

static int jobs__push_list_protected(lua_State *L)
{
    const sched_jobs *js = lua_touserdata(L, 1);
    lua_createtable(L, (int)js->n, 0);
    for (size_t i = 0; i < js->n; i++) {
        jobs__push_job(L, &js->v[i]);
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    return 1;
}

/* park.sched.get(name, key) -> the job as a table, or nil */
static int l_sched_get(lua_State *L)
{
    host_plugin *p = lua__plugin_of(L);
    store *s = jobs__store(L, p);
    const char *name = luaL_checkstring(L, 1);
    const char *key = jobs__key(L, 2);
    sched_jobs js;
    if (sched_list(s, p->name, name, key, &js)) return jobs__db_failed(L, s);
    if (js.n == 0) {
        lua_pushnil(L);
    } else {
        lua_pushcfunction(L, jobs__push_job_protected);
        lua_pushlightuserdata(L, &js.v[0]);
        if (lua_pcall(L, 1, 1, 0) != LUA_OK) {
            sched_jobs_free(&js);
            return lua_error(L);
        }
    }
    sched_jobs_free(&js);
    return 1;
}

/* park.sched.list() -> every job of the plugin */
static int l_sched_list(lua_State *L)
{
    host_plugin *p = lua__plugin_of(L);
    store *s = jobs__store(L, p);
    sched_jobs js;
    if (sched_list(s, p->name, NULL, NULL, &js)) return jobs__db_failed(L, s);
    lua_pushcfunction(L, jobs__push_list_protected);
    lua_pushlightuserdata(L, &js);
    int st = lua_pcall(L, 1, 1, 0);
    sched_jobs_free(&js);
    if (st != LUA_OK) return lua_error(L);
    return 1;
}

/* park.now(): seconds since the epoch on the park clock. */
int lua__l_park_now(lua_State *L)
{
    lua_pushinteger(L, lua__now(lua__plugin_of(L)->host));
    return 1;
}

void lua__sched_open(lua_State *L)
{
    static const luaL_Reg fns[] = {
        {"cancel", l_sched_cancel},
        {"get", l_sched_get},
        {"list", l_sched_list},
        {NULL, NULL},
    };
    lua_newtable(L);
    luaL_setfuncs(L, fns, 0);
    static const char *const kinds[] = {"after", "at", "every", "cron"};
    for (int k = 0; k < 4; k++) {
        lua_pushinteger(L, k);
        lua_pushcclosure(L, l_sched_put, 1);
        lua_setfield(L, -2, kinds[k]);
    }
}
