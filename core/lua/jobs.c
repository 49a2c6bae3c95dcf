/* The running of due jobs, and the park clock.
 *
 * A plugin names its job handlers in its manifest (`jobs`), optionally each
 * with a recurring schedule; park.sched (park/sched.c) puts jobs for those
 * handlers into the core's park_jobs table (core/sched). A timer of the worker claims due
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

int64_t lua_now(const lua_host *h)
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
                 "\"m h dom mon dow\" | start = true }",
                 name);
        if (lua_istable(L, -1)) lua_pop(L, 1);
        return PH_EINVAL;
    }
    j->ref = luaL_ref(L, LUA_REGISTRYINDEX);
    int ts = lua_getfield(L, -1, "start");
    bool start = lua_toboolean(L, -1);
    lua_pop(L, 1);
    int te = lua_getfield(L, -1, "every"), tc = lua_getfield(L, -2, "cron");
    char spec[256] = "";
    if ((te != LUA_TNIL) + (tc != LUA_TNIL) + (ts != LUA_TNIL) > 1) {
        snprintf(why, whylen, "jobs.%s: give one of every, cron and start", name);
    } else if (ts != LUA_TNIL) {
        /* A run soon after every start and reload: an `after` job of 0 s,
         * put again (due now) each time the manifest is declared. */
        if (ts != LUA_TBOOLEAN || !start)
            snprintf(why, whylen, "jobs.%s.start must be true", name);
        else
            snprintf(spec, sizeof spec, "0"), j->kind = SCHED_AFTER;
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

static host_job *jobs__find(const host_plugin *p, const char *name)
{
    for (size_t i = 0; i < p->njobs; i++)
        if (strcmp(p->jobs[i].name, name) == 0) return &p->jobs[i];
    return NULL;
}

bool lua_plugin_has_job(const host_plugin *p, const char *name)
{
    return jobs__find(p, name) != NULL;
}

const char *lua_json_encode(lua_State *L, int idx, const char *what, size_t *len)
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

void lua_json_decode(lua_State *L, const char *s)
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
    int64_t now = lua_now(h);
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

void lua_jobs_kick(lua_host *h)
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
    if (sched_finish(h->db, id, h->owner, lua_now(h), error ? err : NULL, &pol, &out, &when)) {
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
    lua_json_decode(L, j->payload);
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
static void jobs__start(lua_host *h, sched_job *j)
{
    char label[JOBS__NAME_MAX + JOBS__KEY_MAX + 8];
    jobs__label(label, sizeof label, j->name, j->key);
    bool skip;
    int64_t next;
    if (sched_workday_skip(h->db, j, h->owner, lua_now(h), jobs__offset(h), &skip, &next) == 0 &&
        skip) {
        char t[SCHED_TIME_MAX] = "-";
        if (next) sched_time_format(next, jobs__offset(h), t);
        log_msg(LOG_INFO,
                "plugin %s: job %s not run: the day it was due is not a working day; "
                "next run %s",
                j->plugin, label, t);
        return;
    }
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
        lua_req_end(r);
        return;
    }
    lua_rawgeti(co, LUA_REGISTRYINDEX, hj->ref);
    lua_insert(co, -3);
    lua_req_resume(r, 2);
}

void lua__job_ended(host_req *r, const char *error, bool stopped)
{
    lua_host *h = r->host;
    if (!h->db) return;
    jobs__finish(h, r->job_id, r->plugin->name, r->job_label ? r->job_label : "?", error,
                 r->job_started_ms, stopped);
    if (h->jobs_open && !h->jobs_stopping) lua_jobs_kick(h); /* a slot is free */
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
    int64_t now = lua_now(h);
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
        lua_req_end(r);
    }
}
