/* park.db: SQL for plugins with bound parameters only, each plugin inside
 * its own table namespace (enforced by the store's authorizer), prepared
 * statements cached per plugin, and queries billed against the request's
 * instruction budget. */
#include "log/log.h"
#include "park/park.h"
#include "store/store.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

enum {
    DB__CACHE = 64,
    DB__STEP_COST = 1000,
    DB__QUOTE_MAX = 300 /* bytes of SQL quoted in an error */
};

typedef struct db_cached {
    char *sql;
    size_t len;
    sqlite3_stmt *st;
    uint64_t used;
} db_cached;

struct lua_db_cache {
    db_cached e[DB__CACHE];
    size_t n;
    uint64_t clock;
};

void park_db_free(host_plugin *p)
{
    lua_db_cache *c = *lua_plugin_stmts(p);
    if (!c) return;
    for (size_t i = 0; i < c->n; i++) {
        sqlite3_finalize(c->e[i].st);
        free(c->e[i].sql);
    }
    free(c);
    *lua_plugin_stmts(p) = NULL;
}

void park_db_settle(host_plugin *p)
{
    store *s = lua_host_store(lua_plugin_host(p));
    if (!s) return;
    store_set_namespace(s, NULL);
    store_set_progress(s, NULL, NULL);
    /* A statement left mid-step by an error would keep a read transaction
     * open (and WAL checkpoints waiting) until its next use. */
    lua_db_cache *c = *lua_plugin_stmts(p);
    for (size_t i = 0; c && i < c->n; i++)
        if (sqlite3_stmt_busy(c->e[i].st)) sqlite3_reset(c->e[i].st);
}

/* The prepared statement for sql: from the plugin's cache, or prepared now
 * under the plugin's namespace. Raises on a statement the plugin may not
 * run or that does not parse. */
static sqlite3_stmt *db__prepare(lua_State *L, host_plugin *p, const char *sql, size_t len)
{
    lua_db_cache *c = *lua_plugin_stmts(p);
    if (!c && !(c = *lua_plugin_stmts(p) = calloc(1, sizeof *c)))
        luaL_error(L, "not enough memory");
    for (size_t i = 0; i < c->n; i++) {
        if (c->e[i].len == len && memcmp(c->e[i].sql, sql, len) == 0) {
            c->e[i].used = ++c->clock;
            return c->e[i].st;
        }
    }
    store *s = park__store(L, p, "park.db");
    sqlite3 *db = store_db(s);
    sqlite3_stmt *st = NULL;
    const char *tail = NULL;
    store_set_namespace(s, lua_plugin_name(p));
    int rc = sqlite3_prepare_v3(db, sql, (int)len, SQLITE_PREPARE_PERSISTENT, &st, &tail);
    store_set_namespace(s, NULL);
    if (rc != SQLITE_OK || !st) {
        const char *why = store_refusal(s)[0] ? store_refusal(s) : sqlite3_errmsg(db);
        lua_pushstring(L, why); /* keep it: the next call may overwrite the buffer */
        sqlite3_finalize(st);
        lua_pushlstring(L, sql, len > DB__QUOTE_MAX ? DB__QUOTE_MAX : len);
        luaL_error(L, "park.db: %s (in: %s%s)", lua_tostring(L, -2), lua_tostring(L, -1),
                   len > DB__QUOTE_MAX ? " ..." : "");
    }
    while (tail &&
           (*tail == ' ' || *tail == '\n' || *tail == '\t' || *tail == '\r' || *tail == ';'))
        tail++;
    if (tail && *tail) {
        sqlite3_finalize(st);
        char more[41];
        snprintf(more, sizeof more, "%s", tail);
        luaL_error(L, "park.db: one statement per call (found more: %s)", more);
    }
    size_t slot = c->n;
    if (c->n == DB__CACHE) { /* evict the least recently used */
        slot = 0;
        for (size_t i = 1; i < c->n; i++)
            if (c->e[i].used < c->e[slot].used) slot = i;
        sqlite3_finalize(c->e[slot].st);
        free(c->e[slot].sql);
    } else {
        c->n++;
    }
    c->e[slot].sql = malloc(len + 1);
    if (!c->e[slot].sql) {
        sqlite3_finalize(st);
        c->e[slot] = c->e[--c->n];
        luaL_error(L, "not enough memory");
    }
    memcpy(c->e[slot].sql, sql, len);
    c->e[slot].sql[len] = 0;
    c->e[slot].len = len;
    c->e[slot].st = st;
    c->e[slot].used = ++c->clock;
    return st;
}

static void db__bind_one(lua_State *L, sqlite3_stmt *st, int i, int idx)
{
    switch (lua_type(L, idx)) {
    case LUA_TNIL: sqlite3_bind_null(st, i); break;
    case LUA_TBOOLEAN: sqlite3_bind_int(st, i, lua_toboolean(L, idx)); break;
    case LUA_TNUMBER:
        if (lua_isinteger(L, idx))
            sqlite3_bind_int64(st, i, lua_tointeger(L, idx));
        else
            sqlite3_bind_double(st, i, lua_tonumber(L, idx));
        break;
    case LUA_TSTRING: {
        size_t n;
        const char *v = lua_tolstring(L, idx, &n);
        sqlite3_bind_text(st, i, v, (int)n, SQLITE_TRANSIENT);
        break;
    }
    default:
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
        luaL_error(L,
                   "park.db: parameter %d is a %s; parameters are nil, booleans, numbers or "
                   "strings",
                   i, luaL_typename(L, idx));
    }
}

/* Bind the arguments from stack index `first`: one table for :named
 * parameters, or as many values as the statement has ? parameters. */
static void db__bind(lua_State *L, sqlite3_stmt *st, int first)
{
    int want = sqlite3_bind_parameter_count(st);
    int given = lua_gettop(L) - first + 1;
    if (given == 1 && lua_istable(L, first) && want > 0 && sqlite3_bind_parameter_name(st, 1)) {
        for (int i = 1; i <= want; i++) {
            const char *name = sqlite3_bind_parameter_name(st, i);
            if (!name) luaL_error(L, "park.db: use either ? or :named parameters, not both");
            lua_getfield(L, first, name + 1);
            db__bind_one(L, st, i, -1);
            lua_pop(L, 1);
        }
        return;
    }
    if (given != want)
        luaL_error(L, "park.db: the statement has %d parameter(s) but %d value(s) were given", want,
                   given);
    for (int i = 1; i <= want; i++)
        db__bind_one(L, st, i, first + i - 1);
}

/* Bill SQLite's work to the request's budget; interrupt past it. */
static int db__progress(void *ud)
{
    return lua_plugin_bill(ud, DB__STEP_COST);
}

static const char *db__code(int rc)
{
    switch (rc & 0xff) {
    case SQLITE_CONSTRAINT: return "CONSTRAINT";
    case SQLITE_BUSY:
    case SQLITE_LOCKED: return "BUSY";
    case SQLITE_FULL: return "FULL";
    case SQLITE_IOERR: return "IOERR";
    case SQLITE_READONLY: return "READONLY";
    case SQLITE_MISMATCH: return "MISMATCH";
    }
    return "ERROR";
}

static void db__push_row(lua_State *L, sqlite3_stmt *st)
{
    int n = sqlite3_column_count(st);
    lua_createtable(L, 0, n);
    for (int i = 0; i < n; i++) {
        switch (sqlite3_column_type(st, i)) {
        case SQLITE_NULL: continue;
        case SQLITE_INTEGER: lua_pushinteger(L, sqlite3_column_int64(st, i)); break;
        case SQLITE_FLOAT: lua_pushnumber(L, sqlite3_column_double(st, i)); break;
        default:
            lua_pushlstring(L, (const char *)sqlite3_column_blob(st, i),
                            (size_t)sqlite3_column_bytes(st, i));
        }
        lua_setfield(L, -2, sqlite3_column_name(st, i));
    }
}

typedef enum { DB_ALL, DB_FIRST, DB_EXEC } db_mode;

/* Run the statement: rows (all or the first) or changes and the last id.
 * A failure of the world returns nil, message, code. */
static int db__run(lua_State *L, db_mode mode)
{
    host_plugin *p = lua_plugin_of(L);
    size_t len;
    const char *sql = luaL_checklstring(L, 1, &len);
    store *s = park__store(L, p, "park.db");
    sqlite3_stmt *st = db__prepare(L, p, sql, len);
    if (sqlite3_stmt_busy(st)) sqlite3_reset(st); /* left mid-step by a caught error */
    db__bind(L, st, 2);
    store_set_progress(s, db__progress, p);
    store_set_namespace(s, lua_plugin_name(p)); /* a re-prepare during step is checked too */
    int rc, nrows = 0;
    bool row = false;
    if (mode == DB_ALL) lua_newtable(L);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (mode == DB_EXEC) continue;
        db__push_row(L, st);
        if (mode == DB_FIRST) {
            row = true;
            rc = SQLITE_DONE;
            break;
        }
        lua_rawseti(L, -2, ++nrows);
    }
    store_set_namespace(s, NULL);
    store_set_progress(s, NULL, NULL);
    sqlite3 *db = store_db(s);
    if (rc != SQLITE_DONE) {
        int code = sqlite3_extended_errcode(db);
        if (row || mode == DB_ALL) lua_pop(L, 1);
        lua_pushstring(L, store_refusal(s)[0] ? store_refusal(s) : sqlite3_errmsg(db));
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
        if (rc == SQLITE_INTERRUPT)
            return luaL_error(L, "park.db: query interrupted: instruction budget exceeded");
        if (store_refusal(s)[0] || code == SQLITE_AUTH)
            return luaL_error(L, "park.db: %s", lua_tostring(L, -1));
        lua_pushnil(L);
        lua_insert(L, -2);
        lua_pushstring(L, db__code(code));
        return 3;
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    if (mode == DB_EXEC) {
        lua_pushinteger(L, sqlite3_changes64(db));
        lua_pushinteger(L, sqlite3_last_insert_rowid(db));
        return 2;
    }
    if (mode == DB_FIRST && !row) lua_pushnil(L);
    return 1;
}

static int l_db_query(lua_State *L)
{
    return db__run(L, DB_ALL);
}

static int l_db_exec(lua_State *L)
{
    return db__run(L, DB_EXEC);
}

static int l_db_first(lua_State *L)
{
    return db__run(L, DB_FIRST);
}

/* park.db.transaction(fn, ...): fn runs inside BEGIN IMMEDIATE ... COMMIT;
 * if it raises, everything it wrote is rolled back and the error goes on.
 * Waiting (park.sleep) inside is refused: the transaction must not span
 * other requests' work on this connection. */
static int l_db_transaction(lua_State *L)
{
    host_plugin *p = lua_plugin_of(L);
    luaL_checktype(L, 1, LUA_TFUNCTION);
    store *s = park__store(L, p, "park.db");
    sqlite3 *db = store_db(s);
    if (!sqlite3_get_autocommit(db))
        return luaL_error(L, "park.db.transaction: transactions do not nest");
    if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) {
        lua_pushnil(L);
        lua_pushstring(L, sqlite3_errmsg(db));
        lua_pushstring(L, db__code(sqlite3_extended_errcode(db)));
        return 3;
    }
    int st = lua_pcall(L, lua_gettop(L) - 1, LUA_MULTRET, 0); /* fn and its arguments */
    if (st != LUA_OK) {
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
        return lua_error(L);
    }
    if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
        lua_pushstring(L, sqlite3_errmsg(db));
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
        lua_pushnil(L);
        lua_insert(L, -2);
        lua_pushstring(L, db__code(sqlite3_extended_errcode(db)));
        return 3;
    }
    return lua_gettop(L);
}

void park_open_db(lua_State *L)
{
    static const luaL_Reg fns[] = {
        {"query", l_db_query}, {"first", l_db_first},
        {"exec", l_db_exec},   {"transaction", l_db_transaction},
        {NULL, NULL},
    };
    lua_newtable(L);
    luaL_setfuncs(L, fns, 0);
    lua_setfield(L, -2, "db");
}
