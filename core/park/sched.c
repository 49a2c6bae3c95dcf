/* park.sched: jobs a plugin puts into the core's park_jobs table (core/sched)
 * for the job handlers its manifest names (`jobs`). The runtime's
 * lua/jobs.c claims due jobs and runs them as coroutines of their plugin. */
#include "park/park.h"
#include "sched/sched.h"
#include "store/store.h"

#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

enum {
    SCHED__KEY_MAX = 200,
};

static int psched__offset(const lua_host *h)
{
    return (int)lua_host_conf(h)->utc_offset_min * 60;
}

static int psched__db_failed(lua_State *L, store *s)
{
    lua_pushnil(L);
    lua_pushstring(L, sqlite3_errmsg(store_db(s)));
    lua_pushstring(L, (sqlite3_extended_errcode(store_db(s)) & 0xff) == SQLITE_BUSY ? "BUSY"
                                                                                    : "ERROR");
    return 3;
}

static const char *psched__key(lua_State *L, int idx)
{
    size_t n;
    const char *key = luaL_optlstring(L, idx, "", &n);
    luaL_argcheck(L, n <= SCHED__KEY_MAX && strlen(key) == n, idx,
                  "a key is at most 200 bytes, without NUL");
    return key;
}

static const char *psched__name(lua_State *L, host_plugin *p, int idx)
{
    const char *name = luaL_checkstring(L, idx);
    if (!lua_plugin_has_job(p, name))
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
    host_plugin *p = lua_plugin_of(L);
    lua_host *h = lua_plugin_host(p);
    store *s = park__store(L, p, "park.sched");
    int64_t now = lua_now(h);
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
        } else if (sched_time_parse(luaL_checkstring(L, 1), psched__offset(h), &t)) {
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
    if (sched_first_run(kind, spec, now, psched__offset(h), &first, why, sizeof why))
        return luaL_argerror(L, 1, lua_pushstring(L, why));
    const char *name = psched__name(L, p, 2);
    const char *key = psched__key(L, 4);
    size_t plen;
    const char *payload = lua_json_encode(L, 3, "park.sched: the payload", &plen);
    if (plen > (size_t)lua_host_conf(h)->job_payload_bytes)
        return luaL_argerror(L, 3,
                             lua_pushfstring(L,
                                             "the payload is %d bytes as JSON; at most %d "
                                             "(job-payload-bytes)",
                                             (int)plen, (int)lua_host_conf(h)->job_payload_bytes));
    if (sched_put(s, lua_plugin_name(p), name, key, kind, spec, payload, plen, first, false, now))
        return psched__db_failed(L, s);
    lua_jobs_kick(h);
    lua_pushinteger(L, first);
    return 1;
}

/* park.sched.cancel(name, key) -> whether there was such a job */
static int l_sched_cancel(lua_State *L)
{
    host_plugin *p = lua_plugin_of(L);
    store *s = park__store(L, p, "park.sched");
    const char *name = luaL_checkstring(L, 1);
    const char *key = psched__key(L, 2);
    bool found;
    if (sched_cancel(s, lua_plugin_name(p), name, key, &found)) return psched__db_failed(L, s);
    lua_pushboolean(L, found);
    return 1;
}

static void psched__push_job(lua_State *L, const sched_job *j)
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
    lua_json_decode(L, j->payload);
    lua_setfield(L, -2, "payload");
}

static int psched__push_job_protected(lua_State *L)
{
    psched__push_job(L, lua_touserdata(L, 1));
    return 1;
}

static int psched__push_list_protected(lua_State *L)
{
    const sched_jobs *js = lua_touserdata(L, 1);
    lua_createtable(L, (int)js->n, 0);
    for (size_t i = 0; i < js->n; i++) {
        psched__push_job(L, &js->v[i]);
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    return 1;
}

/* park.sched.get(name, key) -> the job as a table, or nil */
static int l_sched_get(lua_State *L)
{
    host_plugin *p = lua_plugin_of(L);
    store *s = park__store(L, p, "park.sched");
    const char *name = luaL_checkstring(L, 1);
    const char *key = psched__key(L, 2);
    sched_jobs js;
    if (sched_list(s, lua_plugin_name(p), name, key, &js)) return psched__db_failed(L, s);
    if (js.n == 0) {
        lua_pushnil(L);
    } else {
        lua_pushcfunction(L, psched__push_job_protected);
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
    host_plugin *p = lua_plugin_of(L);
    store *s = park__store(L, p, "park.sched");
    sched_jobs js;
    if (sched_list(s, lua_plugin_name(p), NULL, NULL, &js)) return psched__db_failed(L, s);
    lua_pushcfunction(L, psched__push_list_protected);
    lua_pushlightuserdata(L, &js);
    int st = lua_pcall(L, 1, 1, 0);
    sched_jobs_free(&js);
    if (st != LUA_OK) return lua_error(L);
    return 1;
}

void park_open_sched(lua_State *L)
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
    lua_setfield(L, -2, "sched");
}
