/* The sandbox a plugin's code runs in: its own lua_State with a capped
 * allocator, an allow-listed environment, a require() that finds only the
 * plugin's own modules and the host's libraries, and an instruction budget
 * that pcall cannot swallow. */
#include "log/log.h"
#include "calendar/calendar.h"
#include "lua/internal.h"
#include "park/park.h"

#include <errno.h>
#include <lualib.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

enum {
    SANDBOX__HOOK_EVERY = 1000,
    SANDBOX__BYTES_PER_INSTRUCTION = 64,
    SANDBOX__ELEMENTS_PER_INSTRUCTION = 16, /* table slots moved inside one C call */
    SANDBOX__HOST_SLACK = 1024 * 1024,
    SANDBOX__MAX_SOURCE = 16 * 1024 * 1024, /* a plugin's Lua file */
};

/* Host Lua libraries a plugin may require, found under the lualib dir. */
static const char *const sandbox__host_libs[] = {"park.template", "park.schema", "park.review",
                                                 "park.content",  "park.text",   "park.layout",
                                                 "park.form",     "park.page",   NULL};
/* Host C modules loaded by the host itself before the sandbox closes. */
static const char *const sandbox__c_modules[] = {"cjson", "cjson.safe", NULL};

static const char SANDBOX__LOADED[] = "park.loaded";   /* registry: require cache */
static const char SANDBOX__HOSTENV[] = "park.hostenv"; /* registry: env of host libs */
static const char SANDBOX__LUALIB[] = "park.lualib";   /* registry: lualib dir */

host_plugin *lua_plugin_of(lua_State *L)
{
    void *ud;
    lua_getallocf(L, &ud);
    return ud;
}

/* Every allocation of the plugin's state is counted against its cap. A
 * refusal makes Lua raise "not enough memory" in the code that asked. The
 * host's own work in the state outside any run of plugin code (a
 * traceback after the code stopped at its cap, a config copied in) may go
 * SANDBOX__HOST_SLACK past the cap: a failure there would have no
 * protected call to land in. */
static void *sandbox__alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
    host_plugin *p = ud;
    size_t old = ptr ? osize : 0;
    if (nsize == 0) {
        free(ptr);
        p->mem_used -= old;
        return NULL;
    }
    host_req *r = p->cur;
    if (nsize > old && p->mem_used + (nsize - old) > p->mem_cap + (r ? 0 : SANDBOX__HOST_SLACK)) {
        if (r) {
            r->mem_exceeded = true;
            /* Lua answers a refusal with a full collection and asks again:
             * bill that work too, or a pcall loop of refusals spins in
             * collections for free. */
            r->instructions += p->mem_used / SANDBOX__BYTES_PER_INSTRUCTION;
            if (r->instructions > r->budget) r->budget_exceeded = true;
        }
        return NULL;
    }
    if (nsize > old && r) {
        /* Work done inside C functions (string.rep, table.concat) costs one
         * instruction however large it is: bill the bytes it allocates, one
         * instruction per SANDBOX__BYTES_PER_INSTRUCTION, and refuse to grow
         * past the budget so such a loop cannot outrun it. */
        r->instructions += (nsize - old) / SANDBOX__BYTES_PER_INSTRUCTION;
        if (r->budget_exceeded || r->instructions > r->budget) {
            r->budget_exceeded = true;
            return NULL;
        }
    }
    void *np = realloc(ptr, nsize);
    if (!np) return NULL;
    p->mem_used = p->mem_used - old + nsize;
    return np;
}

/* Called every SANDBOX__HOOK_EVERY instructions in every thread of the
 * state. Past the budget, or once the watchdog says the run has held the
 * loop too long, the request's coroutine yields from inside the hook (no
 * pcall stands between a hook's yield and lua_resume), and the host never
 * resumes it. Where it cannot yield (the main thread while loading, or
 * inside a C call) the hook raises an error on every following
 * instruction, so a pcall that catches it is hit again at once. */
static void sandbox__hook(lua_State *L, lua_Debug *ar)
{
    (void)ar;
    host_plugin *p = lua_plugin_of(L);
    host_req *r = p->cur;
    if (!r) return;
    if (!r->budget_exceeded) {
        if (lua_gethookcount(L) == 1) {
            /* A thread left at full pace by an earlier overrun, or hurried
             * by the watchdog. */
            lua_sethook(L, sandbox__hook, LUA_MASKCOUNT, SANDBOX__HOOK_EVERY);
            r->instructions += 1;
        } else {
            r->instructions += SANDBOX__HOOK_EVERY;
        }
        if (lua__watch_expired()) {
            r->held = true;
        } else if (r->instructions <= r->budget) {
            return;
        }
        r->budget_exceeded = true;
    }
    if (L == r->co && lua_isyieldable(L)) {
        lua_yield(L, 0);
        return;
    }
    lua_sethook(L, sandbox__hook, LUA_MASKCOUNT, 1);
    luaL_error(L, "%s",
               r->held         ? "held the loop past plugin-max-hold-ms"
               : r->over_quota ? "CPU quota exceeded (plugin-cpu-percent)"
                               : "instruction budget exceeded");
}

void lua_mem_check(lua_State *L, double bytes, const char *what)
{
    host_plugin *p = lua_plugin_of(L);
    if (!p->cur) return;
    double room = p->mem_used < p->mem_cap ? (double)(p->mem_cap - p->mem_used) : 0;
    if (bytes <= room) return;
    p->cur->mem_exceeded = true;
    luaL_error(L, "not enough memory (%s past plugin-memory-mb)", what);
}

void lua__sandbox_hook_now(lua_State *co)
{
    lua_sethook(co, sandbox__hook, LUA_MASKCOUNT, 1);
}

bool lua__bill(lua_State *L, uint64_t units)
{
    host_req *r = lua_plugin_of(L)->cur;
    if (!r) return true;
    r->instructions += units;
    /* Long C work asks the watchdog too, as the hook does between
     * instructions. */
    if (!r->budget_exceeded && lua__watch_expired()) r->held = true;
    if (!r->budget_exceeded && !r->held && r->instructions <= r->budget) return true;
    r->budget_exceeded = true;
    /* Whatever catches the caller's error meets the hook at its next
     * instruction. */
    lua_sethook(L, sandbox__hook, LUA_MASKCOUNT, 1);
    return false;
}

bool lua_plugin_bill(host_plugin *p, uint64_t units)
{
    host_req *r = p->cur;
    if (!r) return false;
    r->instructions += units;
    if (r->instructions > r->budget) r->budget_exceeded = true;
    if (lua__watch_expired()) r->budget_exceeded = r->held = true;
    return r->budget_exceeded;
}

void lua_bill_check(lua_State *L, uint64_t units, const char *what)
{
    if (!lua__bill(L, units)) luaL_error(L, "instruction budget exceeded (%s)", what);
}

void lua__sandbox_rehook(lua_State *co)
{
    lua_sethook(co, sandbox__hook, LUA_MASKCOUNT, SANDBOX__HOOK_EVERY);
}

void lua__budget_arm(host_plugin *p, host_req *r, uint64_t budget)
{
    r->instructions = 0;
    r->budget = budget;
    r->budget_exceeded = false;
    p->cur = r;
}

void lua__push_loggable(lua_State *L, const char *msg)
{
    size_t n = strlen(msg);
    if (n <= LUA_MAX_LOGGED_MESSAGE) {
        lua_pushstring(L, msg);
        return;
    }
    lua_pushlstring(L, msg, LUA_MAX_LOGGED_MESSAGE);
    lua_pushfstring(L, "%s ... (%d bytes more)", lua_tostring(L, -1),
                    (int)(n - LUA_MAX_LOGGED_MESSAGE));
    lua_remove(L, -2);
}

static int sandbox__msgh(lua_State *L)
{
    if (lua_type(L, 1) == LUA_TSTRING && lua_rawlen(L, 1) > LUA_MAX_LOGGED_MESSAGE) {
        lua__push_loggable(L, lua_tostring(L, 1));
        lua_replace(L, 1);
    }
    const char *msg = lua_tostring(L, 1);
    if (!msg) {
        if (luaL_callmeta(L, 1, "__tostring") && lua_type(L, -1) == LUA_TSTRING) return 1;
        msg = lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
    }
    luaL_traceback(L, L, msg, 1);
    return 1;
}

int lua__pcall_budget(host_plugin *p, int nargs, int nres, uint64_t budget)
{
    lua_State *L = p->L;
    host_req load = {0};
    host_req *saved = p->cur;
    lua__budget_arm(p, &load, budget);
    int base = lua_gettop(L) - nargs;
    lua_pushcfunction(L, sandbox__msgh);
    lua_insert(L, base);
    /* Code run from inside another run (a config checked by the console)
     * stays under that run's watch. */
    bool watched = !lua__watch_active();
    if (watched) lua__watch_begin(p, &load, L);
    int st = lua_pcall(L, nargs, nres, base);
    if (watched) lua__watch_end();
    lua_remove(L, base);
    /* Put the hook back to its normal pace after a budget overrun. */
    lua_sethook(L, sandbox__hook, LUA_MASKCOUNT, SANDBOX__HOOK_EVERY);
    if (st != LUA_OK && (load.budget_exceeded || load.mem_exceeded)) {
        lua_pushfstring(L, "%s (%s)", lua_tostring(L, -1),
                        load.held              ? "held the loop past plugin-max-hold-ms"
                        : load.budget_exceeded ? "instruction budget exceeded"
                                               : "memory limit exceeded");
        lua_remove(L, -2);
    }
    p->cur = saved;
    return st;
}

/* ---- the environment ---------------------------------------------------- */

static int sandbox__strict_index(lua_State *L)
{
    return luaL_error(L, "undefined global '%s'", lua_tostring(L, 2) ? lua_tostring(L, 2) : "?");
}

void lua_join_args(lua_State *L, char sep)
{
    int n = lua_gettop(L);
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    for (int i = 1; i <= n; i++) {
        if (i > 1) luaL_addchar(&b, sep);
        luaL_tolstring(L, i, NULL);
        luaL_addvalue(&b);
    }
    luaL_pushresult(&b);
}

bool lua_log_allowed(host_plugin *p, unsigned *dropped)
{
    uint64_t now = uv_now(p->host->loop);
    double rate = (double)p->host->conf->plugin_log_lines;
    p->log_tokens += (double)(now - p->log_ms) * rate / 1000.0;
    if (p->log_tokens > rate) p->log_tokens = rate;
    p->log_ms = now;
    if (p->log_tokens < 1) {
        p->log_dropped++;
        return false;
    }
    p->log_tokens -= 1;
    *dropped = p->log_dropped;
    p->log_dropped = 0;
    return true;
}

/* print() writes to the log, marked with the plugin's name. */
static int sandbox__print(lua_State *L)
{
    host_plugin *p = lua_plugin_of(L);
    unsigned dropped;
    if (!lua_log_allowed(p, &dropped)) return 0;
    lua_join_args(L, '\t');
    if (dropped)
        log_msg(LOG_WARN, "plugin %s: %u log lines dropped (plugin-log-lines)", p->name, dropped);
    log_msg(LOG_INFO, "plugin %s: print: %.2000s", p->name, lua_tostring(L, -1));
    return 0;
}

/* load() in text mode only; chunks see the caller's environment by default. */
static int sandbox__load(lua_State *L)
{
    host_plugin *p = lua_plugin_of(L);
    bool has_env = !lua_isnone(L, 4);
    size_t len;
    const char *s = lua_tolstring(L, 1, &len);
    const char *name = luaL_optstring(L, 2, s ? s : "=(load)");
    if (!lua_isnoneornil(L, 3) && strcmp(luaL_checkstring(L, 3), "t") != 0)
        return luaL_error(L, "load: plugins may load text chunks only (mode \"t\")");
    if (!s) return luaL_argerror(L, 1, "plugins may load strings only");
    lua_bill_check(L, len / 16, "load"); /* the parser's work */
    int st = luaL_loadbufferx(L, s, len, name, "t");
    if (st != LUA_OK) {
        lua_pushnil(L);
        lua_insert(L, -2);
        return 2;
    }
    if (has_env) {
        lua_pushvalue(L, 4);
    } else {
        lua_rawgeti(L, LUA_REGISTRYINDEX, p->env_ref);
    }
    if (!lua_setupvalue(L, -2, 1)) lua_pop(L, 1);
    return 1;
}

/* setmetatable() without finalizers: a __gc could run at any later
 * collection, outside any request and its budget. */
static int sandbox__setmetatable(lua_State *L)
{
    if (lua_istable(L, 2) && lua_getfield(L, 2, "__gc") != LUA_TNIL)
        return luaL_error(L, "setmetatable: __gc metamethods are not available to plugins");
    lua_settop(L, 2);
    luaL_checktype(L, 1, LUA_TTABLE);
    luaL_argexpected(L, lua_isnoneornil(L, 2) || lua_istable(L, 2), 2, "nil or table");
    if (luaL_getmetafield(L, 1, "__metatable") != LUA_TNIL)
        return luaL_error(L, "cannot change a protected metatable");
    lua_setmetatable(L, 1);
    return 1;
}

static int sandbox__collectgarbage(lua_State *L)
{
    const char *opt = luaL_optstring(L, 1, "count");
    if (strcmp(opt, "count") != 0)
        return luaL_error(L, "collectgarbage: plugins may only ask for \"count\"");
    lua_pushnumber(L, (lua_Number)lua_plugin_of(L)->mem_used / 1024.0);
    return 1;
}

/* Copy the named fields of the table at `src` into a new table. */
static void sandbox__copy(lua_State *L, int src, const char *const *names)
{
    lua_newtable(L);
    for (const char *const *n = names; *n; n++) {
        lua_getfield(L, src, *n);
        lua_setfield(L, -2, *n);
    }
}

/* Copy every field of the library table at `src`, except `skip` (or NULL). */
static void sandbox__copy_lib(lua_State *L, int src, const char *skip)
{
    src = lua_absindex(L, src);
    lua_newtable(L);
    lua_pushnil(L);
    while (lua_next(L, src)) {
        if (skip && lua_type(L, -2) == LUA_TSTRING && strcmp(lua_tostring(L, -2), skip) == 0) {
            lua_pop(L, 1);
            continue;
        }
        lua_pushvalue(L, -2);
        lua_insert(L, -2);
        lua_rawset(L, -4);
    }
}

static int sandbox__require(lua_State *L);

/* The site's offset from UTC in seconds (utc-offset-min). */
static int64_t sandbox__offset(lua_State *L)
{
    return (int64_t)lua_plugin_of(L)->host->conf->utc_offset_min * 60;
}

static int64_t sandbox__field(lua_State *L, const char *k, int64_t dflt)
{
    int t = lua_getfield(L, 1, k), isnum;
    lua_Integer v = lua_tointegerx(L, -1, &isnum);
    lua_pop(L, 1);
    if (t == LUA_TNIL) {
        if (dflt < 0) luaL_error(L, "field '%s' missing in date table", k);
        return dflt;
    }
    if (!isnum || v < -10000000 || v > 10000000)
        luaL_error(L, "field '%s' is not an integer in range", k);
    return (int64_t)v;
}

/* os.time(): the park clock (clock-offset-s applied); os.time(t): the time
 * of date table t in the site's zone (utc-offset-min), whatever the
 * server's TZ. Out-of-range fields carry over, as in Lua (month 13 is
 * January of the next year). */
static int sandbox__os_time(lua_State *L)
{
    if (lua_isnoneornil(L, 1)) {
        lua_pushinteger(L, lua_now(lua_plugin_of(L)->host));
        return 1;
    }
    luaL_checktype(L, 1, LUA_TTABLE);
    int64_t y = sandbox__field(L, "year", -1), m = sandbox__field(L, "month", -1) - 1;
    int64_t d = sandbox__field(L, "day", -1), hh = sandbox__field(L, "hour", 12);
    int64_t mm = sandbox__field(L, "min", 0), ss = sandbox__field(L, "sec", 0);
    y += m >= 0 ? m / 12 : (m - 11) / 12;
    m = ((m % 12) + 12) % 12;
    int64_t days = calendar_days(y, (int)m + 1, 1) + d - 1;
    lua_pushinteger(L, days * 86400 + hh * 3600 + mm * 60 + ss - sandbox__offset(L));
    return 1;
}

/* os.date(fmt, t): in the site's zone (utc-offset-min), whatever the
 * server's TZ; "!fmt" is UTC, as in Lua. t defaults to the park clock. */
static int sandbox__os_date(lua_State *L)
{
    size_t fl;
    const char *fmt = luaL_optlstring(L, 1, "%c", &fl);
    lua_bill_check(L, fl * 32, "os.date"); /* a conversion is a strftime call */
    int64_t t =
        lua_isnoneornil(L, 2) ? lua_now(lua_plugin_of(L)->host) : (int64_t)luaL_checkinteger(L, 2);
    lua_settop(L, 0);
    lua_pushvalue(L, lua_upvalueindex(1));
    if (fmt[0] == '!') {
        lua_pushstring(L, fmt);
    } else {
        lua_pushfstring(L, "!%s", fmt);
        t += sandbox__offset(L);
    }
    lua_pushinteger(L, (lua_Integer)t);
    lua_call(L, 2, 1);
    return 1;
}

/* Push a new environment table built from the real globals. */
static void sandbox__new_env(lua_State *L)
{
    static const char *const base[] = {"assert",       "error",    "ipairs",   "next",   "pairs",
                                       "pcall",        "rawequal", "rawget",   "rawlen", "rawset",
                                       "select",       "tonumber", "tostring", "type",   "xpcall",
                                       "getmetatable", "_VERSION", NULL};
    static const char *const os_ok[] = {"time", "date", "clock", "difftime", NULL};
    lua_pushglobaltable(L);
    int g = lua_gettop(L);
    sandbox__copy(L, g, base);
    int env = lua_gettop(L);
    static const char *const libs[] = {"table", "math", "utf8", "coroutine", NULL};
    for (const char *const *l = libs; *l; l++) {
        lua_getfield(L, g, *l);
        sandbox__copy_lib(L, -1, NULL);
        lua_setfield(L, env, *l);
        lua_pop(L, 1);
    }
    lua_getfield(L, g, "string");
    sandbox__copy_lib(L, -1, "dump");
    lua_setfield(L, env, "string");
    lua_pop(L, 1);
    lua_getfield(L, g, "os");
    sandbox__copy(L, lua_gettop(L), os_ok);
    /* os.time() and os.date() read the park clock, as the jobs do, in the
     * site's zone. */
    lua_pushcfunction(L, sandbox__os_time);
    lua_setfield(L, -2, "time");
    lua_getfield(L, -2, "date");
    lua_pushcclosure(L, sandbox__os_date, 1);
    lua_setfield(L, -2, "date");
    lua_setfield(L, env, "os");
    lua_pop(L, 1);
    static const luaL_Reg fns[] = {
        {"print", sandbox__print},
        {"load", sandbox__load},
        {"setmetatable", sandbox__setmetatable},
        {"collectgarbage", sandbox__collectgarbage},
        {"require", sandbox__require},
        {NULL, NULL},
    };
    lua_pushvalue(L, env);
    luaL_setfuncs(L, fns, 0);
    lua_pop(L, 1);
    lua_pushvalue(L, env);
    lua_setfield(L, env, "_G");
    /* Reading an undefined global is an error; the metatable is hidden. */
    lua_createtable(L, 0, 2);
    lua_pushcfunction(L, sandbox__strict_index);
    lua_setfield(L, -2, "__index");
    lua_pushboolean(L, 0);
    lua_setfield(L, -2, "__metatable");
    lua_setmetatable(L, env);
    lua_remove(L, g);
}

/* ---- require ------------------------------------------------------------ */

static bool sandbox__in(const char *const *list, const char *name)
{
    for (; *list; list++)
        if (strcmp(*list, name) == 0) return true;
    return false;
}

/* Load the Lua text file `rel` beneath `root` (never through a symbolic
 * link) as the chunk "@root/rel". Returns 0 and pushes the function, or
 * -errno (nothing pushed) when the file cannot be read; raises on a syntax
 * error. */
int lua__load_beneath(lua_State *L, const char *root, const char *rel)
{
    char *data;
    size_t len;
    lua_pushfstring(L, "@%s/%s", root, rel); /* first: nothing can raise past the read */
    int rc = lua__slurp_beneath(root, rel, SANDBOX__MAX_SOURCE, &data, &len);
    if (rc) {
        lua_pop(L, 1);
        return rc;
    }
    int st = luaL_loadbufferx(L, data, len, lua_tostring(L, -1), "t");
    free(data);
    lua_remove(L, -2);
    if (st != LUA_OK) lua_error(L);
    return 0;
}

/* Call the loaded chunk on top with the environment at env_idx. */
static int sandbox__run_chunk(lua_State *L, const char *name, int env_idx)
{
    env_idx = lua_absindex(L, env_idx);
    lua_pushvalue(L, env_idx);
    lua_setupvalue(L, -2, 1);
    lua_pushstring(L, name);
    lua_call(L, 1, 1);
    return 1;
}

static int sandbox__require(lua_State *L)
{
    host_plugin *p = lua_plugin_of(L);
    size_t nlen;
    const char *name = luaL_checklstring(L, 1, &nlen);
    if (strlen(name) != nlen) return luaL_error(L, "module name with a NUL byte");
    lua_settop(L, 1);
    lua_getfield(L, LUA_REGISTRYINDEX, SANDBOX__LOADED);
    if (lua_getfield(L, 2, name) != LUA_TNIL) {
        if (lua_type(L, -1) == LUA_TLIGHTUSERDATA)
            return luaL_error(L, "module '%s' requires itself (a require loop)", name);
        return 1;
    }
    lua_pop(L, 1);
    bool host_lib = sandbox__in(sandbox__host_libs, name);
    for (const char *c = name; *c; c++) {
        bool ok = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
                  (*c >= '0' && *c <= '9') || *c == '_' ||
                  (*c == '.' && c != name && c[1] != '.' && c[1]);
        if (!ok) return luaL_error(L, "module '%s' not found: bad module name", name);
    }
    if (!host_lib && strncmp(name, "park.", 5) == 0)
        return luaL_error(L, "module '%s' not found: the host has no such library", name);
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    for (const char *c = name; *c; c++)
        luaL_addchar(&b, *c == '.' ? '/' : *c);
    luaL_addstring(&b, ".lua");
    luaL_pushresult(&b);
    const char *rel = lua_tostring(L, -1);
    if (host_lib) lua_getfield(L, LUA_REGISTRYINDEX, SANDBOX__LUALIB);
    const char *root = host_lib ? lua_tostring(L, -1) : p->dir;
    int rc = lua__load_beneath(L, root, rel);
    if (rc)
        return luaL_error(L,
                          "module '%s' not found: no file %s/%s%s (a plugin may require its own "
                          "modules, park, park.template, park.schema, park.review, park.content, "
                          "park.text, park.layout, park.form, park.page and cjson)",
                          name, root, rel,
                          rc == -ELOOP ? ", or it leads through a symbolic link" : "");
    lua_pushlightuserdata(L, (void *)SANDBOX__LOADED); /* "loading" marker */
    lua_setfield(L, 2, name);
    if (host_lib)
        lua_getfield(L, LUA_REGISTRYINDEX, SANDBOX__HOSTENV);
    else
        lua_rawgeti(L, LUA_REGISTRYINDEX, p->env_ref);
    lua_insert(L, -2);
    sandbox__run_chunk(L, name, -2);
    lua_remove(L, -2); /* the environment */
    if (lua_isnil(L, -1)) {
        lua_pop(L, 1);
        lua_pushboolean(L, 1);
    }
    lua_pushvalue(L, -1);
    lua_setfield(L, 2, name);
    return 1;
}

/* ---- opening a state ---------------------------------------------------- */

/* ---- C work billed by its size -------------------------------------------
 * A library function costs one instruction to the count hook however much
 * it does inside C. Those whose work is not bounded by what they allocate
 * (which the allocator bills) are wrapped: the wrapper bills the work the
 * arguments ask for, then calls the real function. The pattern functions
 * count their steps themselves (pattern.c). */

static double sandbox__num(lua_State *L, int i, double dflt)
{
    return lua_isnoneornil(L, i) ? dflt : lua_tonumber(L, i);
}

static double sandbox__len(lua_State *L, int i)
{
    return lua_type(L, i) == LUA_TSTRING || lua_type(L, i) == LUA_TTABLE ? (double)lua_rawlen(L, i)
                                                                         : 0;
}

/* How many elements from i to j (both numbers, i default 1, j default the
 * raw length of the table at t). */
static double sandbox__span(lua_State *L, int t, int i, int j)
{
    double a = sandbox__num(L, i, 1), b = sandbox__num(L, j, sandbox__len(L, t));
    return b >= a ? b - a + 1 : 0;
}

static double sandbox__cost(lua_State *L, int which)
{
    const double B = SANDBOX__BYTES_PER_INSTRUCTION, E = SANDBOX__ELEMENTS_PER_INSTRUCTION;
    switch (which) {
    case 0: { /* string.rep(s, n, sep): n turns, even of "" (the bytes are
               * the allocator's to bill, and to refuse past the cap) */
        double n = sandbox__num(L, 2, 0);
        if (n > 0) lua_mem_check(L, n * (sandbox__len(L, 1) + sandbox__len(L, 3)), "string.rep");
        return n > 0 ? n / (E * 4) : 0;
    }
    case 1: /* table.move(a1, f, e, t): e - f + 1 slots */ return sandbox__span(L, 1, 2, 3) / E;
    case 2: /* table.concat(t, sep, i, j) */ return sandbox__span(L, 1, 3, 4) / E;
    case 3: /* table.insert(t, pos, v): the slots after pos move */
        return lua_gettop(L) >= 3 ? (sandbox__len(L, 1) - sandbox__num(L, 2, 0)) / E : 0;
    case 4: /* table.remove(t, pos) */
        return lua_gettop(L) >= 2 ? (sandbox__len(L, 1) - sandbox__num(L, 2, 0)) / E : 0;
    case 5: /* table.unpack(t, i, j) */ return sandbox__span(L, 1, 2, 3) / E;
    case 6: { /* table.sort(t): n log n comparisons */
        double n = sandbox__len(L, 1), lg = 1;
        for (double m = n; m > 1; m /= 2)
            lg++;
        return n * lg / 4;
    }
    case 7: /* utf8.len, utf8.codepoint, utf8.offset, string.pack, string.unpack,
             * string.packsize: the bytes of the string or format walked */
        return sandbox__len(L, 1) / B;
    case 8: /* tonumber(s), string.byte(s, i, j), string.char(...) */
        return sandbox__len(L, 1) / B + lua_gettop(L) / E;
    }
    return 0;
}

static const struct {
    const char *lib, *name;
    int cost;
} sandbox__billed_fns[] = {
    {"string", "rep", 0},    {"table", "move", 1},      {"table", "concat", 2},
    {"table", "insert", 3},  {"table", "remove", 4},    {"table", "unpack", 5},
    {"table", "sort", 6},    {"utf8", "len", 7},        {"utf8", "codepoint", 7},
    {"utf8", "offset", 7},   {"utf8", "char", 8},       {NULL, "tonumber", 8},
    {"string", "byte", 8},   {"string", "char", 8},     {"string", "pack", 7},
    {"string", "unpack", 7}, {"string", "packsize", 7}, {NULL, NULL, 0},
};

/* upvalues: the real function, the index of its row above */
static int sandbox__billed(lua_State *L)
{
    int k = (int)lua_tointeger(L, lua_upvalueindex(2));
    double units = sandbox__cost(L, sandbox__billed_fns[k].cost);
    if (!(units < 1e15)) units = 1e15; /* NaN and huge alike */
    if (units >= 1) lua_bill_check(L, (uint64_t)units, sandbox__billed_fns[k].name);
    int n = lua_gettop(L);
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, n, LUA_MULTRET);
    return lua_gettop(L);
}

static void sandbox__bill_libs(lua_State *L)
{
    for (int k = 0; sandbox__billed_fns[k].name; k++) {
        if (sandbox__billed_fns[k].lib)
            lua_getglobal(L, sandbox__billed_fns[k].lib);
        else
            lua_pushglobaltable(L);
        lua_getfield(L, -1, sandbox__billed_fns[k].name);
        lua_pushinteger(L, k);
        lua_pushcclosure(L, sandbox__billed, 2);
        lua_setfield(L, -2, sandbox__billed_fns[k].name);
        lua_pop(L, 1);
    }
    lua_getglobal(L, "string");
    lua__pattern_open(L, lua_gettop(L), lua__bill);
    lua_pop(L, 1);
}

/* An error outside any protected call: a bug of the host, never a plugin's
 * doing. Say so in the log; Lua aborts when this returns, and the crash
 * report names the plugin and request. */
static int sandbox__panic(lua_State *L)
{
    const char *msg = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : "?";
    log_msg(LOG_ERROR, "plugin %s: Lua panic (an error outside any protected call): %s",
            lua_plugin_of(L)->name, msg);
    log_flush();
    return 0;
}

/* Replace the lua-cjson module on top of the stack with a table of a fresh
 * instance's encode, decode and null alone: its functions read their
 * settings from the instance they were made with, so without the setters
 * (decode_max_depth, encode_max_depth, ...) a plugin cannot raise the
 * depth limits that bound cjson's C recursion (1000 levels). */
static void sandbox__fixed_cjson(lua_State *L)
{
    static const char *const keep[] = {"encode", "decode", "null", "_NAME", "_VERSION", NULL};
    lua_getfield(L, -1, "new");
    lua_call(L, 0, 1);
    sandbox__copy(L, lua_gettop(L), keep);
    lua_replace(L, -3);
    lua_pop(L, 1);
}

static int sandbox__open(lua_State *L)
{
    host_plugin *p = lua_touserdata(L, 1);
    const char *lualib = lua_tostring(L, 2);
    static const luaL_Reg libs[] = {
        {LUA_GNAME, luaopen_base},
        {LUA_LOADLIBNAME, luaopen_package},
        {LUA_COLIBNAME, luaopen_coroutine},
        {LUA_TABLIBNAME, luaopen_table},
        {LUA_STRLIBNAME, luaopen_string},
        {LUA_MATHLIBNAME, luaopen_math},
        {LUA_UTF8LIBNAME, luaopen_utf8},
        {LUA_OSLIBNAME, luaopen_os},
        {NULL, NULL},
    };
    for (const luaL_Reg *l = libs; l->func; l++) {
        luaL_requiref(L, l->name, l->func, 1);
        lua_pop(L, 1);
    }
    /* The require cache, seeded with the host's C modules, loaded here by
     * the host (trusted) through the standard loader. */
    lua_newtable(L);
    int loaded = lua_gettop(L);
    for (const char *const *m = sandbox__c_modules; *m; m++) {
        lua_getglobal(L, "require");
        lua_pushstring(L, *m);
        if (lua_pcall(L, 1, 1, 0) == LUA_OK) {
            sandbox__fixed_cjson(L);
            lua_setfield(L, loaded, *m);
        } else {
            lua_pop(L, 1); /* not installed: require() will say not found */
        }
    }
    lua_setfield(L, LUA_REGISTRYINDEX, SANDBOX__LOADED);
    sandbox__bill_libs(L);
    lua_pushstring(L, lualib);
    lua_setfield(L, LUA_REGISTRYINDEX, SANDBOX__LUALIB);

    /* Strings keep their real library as methods; the table is hidden, and
     * has no dump (a function's bytecode is not for plugins to see). */
    lua_getglobal(L, "string");
    lua_pushnil(L);
    lua_setfield(L, -2, "dump");
    lua_pop(L, 1);
    lua_pushliteral(L, "");
    lua_getmetatable(L, -1);
    lua_pushliteral(L, "string");
    lua_setfield(L, -2, "__metatable");
    lua_pop(L, 2);

    park_open(L); /* require("park") */

    sandbox__new_env(L);
    lua_setfield(L, LUA_REGISTRYINDEX, SANDBOX__HOSTENV);
    sandbox__new_env(L);
    p->env_ref = luaL_ref(L, LUA_REGISTRYINDEX);

    /* The config schema checker, used by the host at load and bind time. */
    lua_pushcfunction(L, sandbox__require);
    lua_pushliteral(L, "park.schema");
    lua_call(L, 1, 1);
    lua_setfield(L, LUA_REGISTRYINDEX, "park.schema");

    /* Close the doors the host used: no package, no loaders, no os. */
    lua_pushglobaltable(L);
    static const char *const gone[] = {"package",  "os",   "require",        "dofile",
                                       "loadfile", "load", "collectgarbage", NULL};
    for (const char *const *n = gone; *n; n++) {
        lua_pushnil(L);
        lua_setfield(L, -2, *n);
    }
    lua_pop(L, 1);
    return 0;
}

int lua__sandbox_open(host_plugin *p, const char *lualib_dir)
{
    p->mem_used = 0;
    lua_State *L = lua_newstate(sandbox__alloc, p);
    if (!L) return PH_ENOMEM;
    p->L = L;
    lua_atpanic(L, sandbox__panic);
    lua_pushcfunction(L, sandbox__open);
    lua_pushlightuserdata(L, p);
    lua_pushstring(L, lualib_dir);
    if (lua_pcall(L, 2, 0, 0) != LUA_OK) {
        log_msg(LOG_ERROR, "plugin %s: cannot set up its Lua state: %s", p->name,
                lua_tostring(L, -1));
        lua_close(L);
        p->L = NULL;
        return PH_ENOMEM;
    }
    lua_sethook(L, sandbox__hook, LUA_MASKCOUNT, SANDBOX__HOOK_EVERY);
    return 0;
}
