#include "store/store.h"
#include "base/base.h"

#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

enum { STORE__PROGRESS_EVERY = 1000, STORE__MAX_SQL_FILE = 4 * 1024 * 1024 };

struct store {
    sqlite3 *db;
    const char *ns; /* the namespace in force, or NULL */
    size_t ns_len;
    bool in_ddl;   /* the statement being prepared is an authorized CREATE/DROP/ALTER */
    bool in_alter; /* ... an authorized ALTER TABLE, whose SQLite-made SQL calls printf() */
    char refusal[256];
    int (*progress)(void *);
    void *progress_ud;
    bool group_commit, dirty; /* commits since the last store_sync */
    void (*on_commit)(void *);
    void *on_commit_ud;
    /* SQLITE_LIMIT_LENGTH and SQLITE_LIMIT_SQL_LENGTH under a namespace
     * (0: none), and the connection's own. */
    int ns_max_length, ns_max_sql, max_length, max_sql;
};

static int store__commit_hook(void *ud);

/* Views of the core that every plugin may read (none yet: the center's
 * units and columns come with the site model). */
static const char *const store__public_views[] = {NULL};

static int store__parent_dir(const char *path, char *err, size_t errlen)
{
    const char *slash = strrchr(path, '/');
    if (!slash || slash == path) return 0;
    char dir[4096];
    size_t n = (size_t)(slash - path);
    if (n >= sizeof dir) return 0;
    memcpy(dir, path, n);
    dir[n] = 0;
    if (mkdir(dir, 0750) == 0 || errno == EEXIST) return 0;
    snprintf(err, errlen, "cannot create directory %s for the database: %s", dir, strerror(errno));
    return PH_EDB;
}

/* ---- namespaces --------------------------------------------------------- */

static bool store__owned(const store *s, const char *name)
{
    return name && strncasecmp(name, s->ns, s->ns_len) == 0 && name[s->ns_len] == '_' &&
           name[s->ns_len + 1] != 0;
}

static bool store__internal(const char *name)
{
    return name && (!strcasecmp(name, "sqlite_master") || !strcasecmp(name, "sqlite_schema") ||
                    !strcasecmp(name, "sqlite_sequence") || !strncasecmp(name, "sqlite_stat", 11));
}

static bool store__public(const char *name)
{
    for (const char *const *v = store__public_views; *v; v++)
        if (name && strcasecmp(name, *v) == 0) return true;
    return false;
}

static int store__deny(store *s, const char *fmt, const char *what)
{
    snprintf(s->refusal, sizeof s->refusal, fmt, s->ns, what ? what : "?");
    return SQLITE_DENY;
}

static int store__authorize(void *ud, int action, const char *a, const char *b, const char *db,
                            const char *trigger)
{
    store *s = ud;
    (void)trigger;
    if (!s->ns) return SQLITE_OK;
    if (db && strcmp(db, "main") != 0)
        return store__deny(s, "plugin %s may use only the main database, not '%s'", db);
    switch (action) {
    case SQLITE_SELECT:
    case SQLITE_RECURSIVE: return SQLITE_OK;
    case SQLITE_READ:
        if (store__owned(s, a) || store__public(a)) return SQLITE_OK;
        /* A table that is named but none of whose columns is read
         * (SELECT count(*) FROM t) comes with an empty column and no
         * database, as does a common table expression so read. Every
         * table of the database has a '_' in its name (park_*, sqlite_*,
         * <plugin>_*): a name without one can only be a CTE. */
        if (b && !b[0] && !db) {
            if (!strchr(a ? a : "_", '_')) return SQLITE_OK;
            return store__deny(s,
                               "plugin %s may not read table %s (a common table expression "
                               "read without its columns needs a name without '_' or with "
                               "the plugin's prefix)",
                               a);
        }
        if (!db) return SQLITE_OK;
        /* SQLite's own code for an authorized DDL statement reads the schema. */
        if (s->in_ddl && store__internal(a)) return SQLITE_OK;
        /* A virtual table (FTS5) connecting in a new connection reads the
         * schema table's rowids: harmless, and without it a plugin's FTS5
         * table fails after every restart. Its names and SQL stay closed. */
        if (b && !strcasecmp(b, "rowid") && a &&
            (!strcasecmp(a, "sqlite_master") || !strcasecmp(a, "sqlite_schema")))
            return SQLITE_OK;
        return store__deny(s, "plugin %s may not read table %s", a);
    case SQLITE_INSERT:
    case SQLITE_UPDATE:
    case SQLITE_DELETE:
        if (store__owned(s, a)) return SQLITE_OK;
        /* The schema's own bookkeeping, written by an already authorized
         * CREATE, DROP, AUTOINCREMENT or ANALYZE (SQLite itself refuses
         * direct writes to the schema table). */
        if (store__internal(a)) return SQLITE_OK;
        return store__deny(s, "plugin %s may not write table %s", a);
    case SQLITE_CREATE_TABLE:
    case SQLITE_DROP_TABLE:
    case SQLITE_CREATE_VIEW:
    case SQLITE_DROP_VIEW:
        if (store__owned(s, a)) return s->in_ddl = true, SQLITE_OK;
        return store__deny(s, "plugin %s may create and drop only its own tables, not %s", a);
    case SQLITE_CREATE_INDEX:
    case SQLITE_DROP_INDEX:
    case SQLITE_CREATE_TRIGGER:
    case SQLITE_DROP_TRIGGER:
        /* UNIQUE and PRIMARY KEY constraints make sqlite_autoindex_* indexes. */
        if ((store__owned(s, a) || (a && !strncasecmp(a, "sqlite_autoindex_", 17))) &&
            store__owned(s, b))
            return s->in_ddl = true, SQLITE_OK;
        return store__deny(s, "plugin %s may index and trigger only its own tables, not %s", b);
    case SQLITE_ALTER_TABLE:
    case SQLITE_ANALYZE:
    case SQLITE_REINDEX:
        if (store__owned(s, action == SQLITE_ALTER_TABLE ? b : a)) {
            s->in_alter = action == SQLITE_ALTER_TABLE;
            return s->in_ddl = true, SQLITE_OK;
        }
        return store__deny(s, "plugin %s may alter only its own tables, not %s",
                           action == SQLITE_ALTER_TABLE ? b : a);
    case SQLITE_CREATE_VTABLE:
    case SQLITE_DROP_VTABLE:
        if (store__owned(s, a) && b && strcasecmp(b, "fts5") == 0)
            return s->in_ddl = true, SQLITE_OK;
        return store__deny(s, "plugin %s may create only FTS5 tables of its own, not %s", a);
    case SQLITE_FUNCTION:
        if (b && strcasecmp(b, "load_extension") == 0)
            return store__deny(s, "plugin %s may not call %s", b);
        /* printf('%.*c', 400000000, 'x') works for seconds inside one call,
         * where no progress handler or watchdog can stop it, before the
         * length limit refuses its result. Plugins format in Lua. */
        if (b && (!strcasecmp(b, "printf") || !strcasecmp(b, "format")) && !s->in_alter)
            return store__deny(s, "plugin %s may not call %s() (format in Lua: string.format)", b);
        return SQLITE_OK;
    case SQLITE_PRAGMA:
        /* FTS5 reads this one for itself; reading it changes nothing. */
        if (a && !strcasecmp(a, "data_version") && !b) return SQLITE_OK;
        return store__deny(s, "plugin %s may not run PRAGMA %s", a);
    case SQLITE_ATTACH:
    case SQLITE_DETACH: return store__deny(s, "plugin %s may not attach databases (%s)", a);
    case SQLITE_TRANSACTION:
    case SQLITE_SAVEPOINT:
        return store__deny(s,
                           "plugin %s may not control transactions in SQL (%s); use "
                           "park.db.transaction",
                           a);
    }
    return store__deny(s, "plugin %s may not run this statement (%s)", a);
}

static int store__savepoint_sql(store *s, const char *verb, const char *name)
{
    char sql[96];
    int n = snprintf(sql, sizeof sql, "%s %s", verb, name);
    if (n < 0 || (size_t)n >= sizeof sql) return PH_EINVAL;
    return sqlite3_exec(s->db, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : PH_EDB;
}

int store_savepoint(store *s, const char *name)
{
    return store__savepoint_sql(s, "SAVEPOINT", name);
}

int store_release(store *s, const char *name, int rc)
{
    if (!rc && store__savepoint_sql(s, "RELEASE", name) == 0) return 0;
    store__savepoint_sql(s, "ROLLBACK TO", name);
    store__savepoint_sql(s, "RELEASE", name);
    return rc ? rc : PH_EDB;
}

void store_set_namespace(store *s, const char *ns)
{
    if (s->ns_max_length && !ns != !s->ns) {
        sqlite3_limit(s->db, SQLITE_LIMIT_LENGTH, ns ? s->ns_max_length : s->max_length);
        sqlite3_limit(s->db, SQLITE_LIMIT_SQL_LENGTH, ns ? s->ns_max_sql : s->max_sql);
    }
    s->ns = ns;
    s->ns_len = ns ? strlen(ns) : 0;
    s->in_ddl = s->in_alter = false;
    if (ns) s->refusal[0] = 0; /* a refusal stays readable after the reset to NULL */
}

sqlite3_stmt *store_prepare(store *s, const char *sql)
{
    sqlite3_stmt *st = NULL;
    store_set_namespace(s, NULL);
    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK) {
        sqlite3_finalize(st);
        return NULL;
    }
    return st;
}

void store_set_namespace_limits(store *s, int max_length, int max_sql)
{
    if (!s->max_length) {
        s->max_length = sqlite3_limit(s->db, SQLITE_LIMIT_LENGTH, -1);
        s->max_sql = sqlite3_limit(s->db, SQLITE_LIMIT_SQL_LENGTH, -1);
    }
    s->ns_max_length = max_length;
    s->ns_max_sql = max_sql;
    if (s->ns) {
        sqlite3_limit(s->db, SQLITE_LIMIT_LENGTH, max_length);
        sqlite3_limit(s->db, SQLITE_LIMIT_SQL_LENGTH, max_sql);
    }
}

const char *store_refusal(const store *s)
{
    return s->refusal;
}

static int store__on_progress(void *ud)
{
    store *s = ud;
    return s->progress ? s->progress(s->progress_ud) : 0;
}

void store_set_progress(store *s, int (*fn)(void *), void *ud)
{
    s->progress = fn;
    s->progress_ud = ud;
}

/* ---- open --------------------------------------------------------------- */

static int store__exec(store *s, const char *sql, char *err, size_t errlen)
{
    store_set_namespace(s, NULL); /* the core's own statements */
    char *msg = NULL;
    if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) == SQLITE_OK) return 0;
    snprintf(err, errlen, "%s", msg ? msg : sqlite3_errmsg(s->db));
    sqlite3_free(msg);
    return PH_EDB;
}

int store_open(store **out, const char *path, char *err, size_t errlen)
{
    int rc = store__parent_dir(path, err, errlen);
    if (rc) return rc;
    store *s = calloc(1, sizeof *s);
    if (!s) return PH_ENOMEM;
    if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
        SQLITE_OK) {
        snprintf(err, errlen, "cannot open database %s: %s", path,
                 s->db ? sqlite3_errmsg(s->db) : "out of memory");
        store_close(s);
        return PH_EDB;
    }
    sqlite3_busy_timeout(s->db, 5000);
    char why[512];
    if (store__exec(s,
                    "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;"
                    "CREATE TABLE IF NOT EXISTS park_migrations ("
                    " owner TEXT NOT NULL, name TEXT NOT NULL, applied_at TEXT NOT NULL,"
                    " PRIMARY KEY (owner, name))",
                    why, sizeof why)) {
        snprintf(err, errlen, "cannot set up database %s: %s", path, why);
        store_close(s);
        return PH_EDB;
    }
    sqlite3_set_authorizer(s->db, store__authorize, s);
    sqlite3_commit_hook(s->db, store__commit_hook, s);
    sqlite3_progress_handler(s->db, STORE__PROGRESS_EVERY, store__on_progress, s);
    *out = s;
    return 0;
}

/* ---- durability -------------------------------------------------------- */

static int store__commit_hook(void *ud)
{
    store *s = ud;
    s->dirty = true;
    if (s->on_commit) s->on_commit(s->on_commit_ud);
    return 0; /* let it commit */
}

int store_set_group_commit(store *s, bool on)
{
    char err[256];
    if (store__exec(s, on ? "PRAGMA synchronous=NORMAL" : "PRAGMA synchronous=FULL", err,
                    sizeof err))
        return PH_EDB;
    s->group_commit = on;
    return 0;
}

void store_on_commit(store *s, void (*fn)(void *ud), void *ud)
{
    s->on_commit = fn;
    s->on_commit_ud = ud;
}

bool store_dirty(const store *s)
{
    return s->group_commit && s->dirty;
}

int store_sync(store *s, char *err, size_t errlen)
{
    if (!s->group_commit || !s->dirty) return 0;
    s->dirty = false;
    /* The write-ahead log holds every commit since the last checkpoint;
     * syncing it makes them all durable (a checkpoint syncs by itself). */
    sqlite3_file *wal = NULL;
    int rc = sqlite3_file_control(s->db, "main", SQLITE_FCNTL_JOURNAL_POINTER, &wal);
    if (rc != SQLITE_OK) {
        snprintf(err, errlen, "cannot reach the write-ahead log: %s", sqlite3_errstr(rc));
        return PH_EDB;
    }
    if (!wal || !wal->pMethods) return 0; /* not open: nothing written through it */
    rc = wal->pMethods->xSync(wal, SQLITE_SYNC_NORMAL);
    if (rc != SQLITE_OK) {
        snprintf(err, errlen, "fsync of the write-ahead log failed: %s", sqlite3_errstr(rc));
        return PH_EDB;
    }
    return 0;
}

void store_close(store *s)
{
    if (!s) return;
    char err[256];
    if (store_sync(s, err, sizeof err)) fprintf(stderr, "parkhost: %s\n", err);
    sqlite3_close(s->db); /* statements must be finalized by their owners first */
    free(s);
}

sqlite3 *store_db(store *s)
{
    return s->db;
}

/* ---- migrations --------------------------------------------------------- */

static int store__name_cmp(const struct dirent **a, const struct dirent **b)
{
    return strcmp((*a)->d_name, (*b)->d_name);
}

static bool store__is_migration(const char *n)
{
    size_t len = strlen(n);
    return len > 8 && n[0] >= '0' && n[0] <= '9' && n[1] >= '0' && n[1] <= '9' && n[2] >= '0' &&
           n[2] <= '9' && n[3] == '_' && strcmp(n + len - 4, ".sql") == 0;
}

static bool store__applied(store *s, const char *owner, const char *name)
{
    sqlite3_stmt *st = NULL;
    bool found = false;
    if (sqlite3_prepare_v2(s->db, "SELECT 1 FROM park_migrations WHERE owner = ? AND name = ?", -1,
                           &st, NULL) == SQLITE_OK) {
        sqlite3_bind_text(st, 1, owner, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
        found = sqlite3_step(st) == SQLITE_ROW;
    }
    sqlite3_finalize(st);
    return found;
}

static char *store__read(const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return NULL;
    }
    char *buf = malloc(STORE__MAX_SQL_FILE + 1);
    size_t n = buf ? fread(buf, 1, STORE__MAX_SQL_FILE + 1, f) : 0;
    fclose(f);
    if (!buf || n > STORE__MAX_SQL_FILE) {
        snprintf(err, errlen, "%s: %s", path, buf ? "larger than 4 MiB" : "out of memory");
        free(buf);
        return NULL;
    }
    buf[n] = 0;
    return buf;
}

/* Run every statement of `sql` under namespace ns. */
static int store__run_file(store *s, const char *path, const char *sql, const char *ns, char *err,
                           size_t errlen)
{
    const char *p = sql;
    while (*p) {
        sqlite3_stmt *st = NULL;
        const char *tail = NULL;
        store_set_namespace(s, ns);
        int rc = sqlite3_prepare_v2(s->db, p, -1, &st, &tail);
        if (rc == SQLITE_OK && st) {
            while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
            }
            if (rc == SQLITE_DONE) rc = SQLITE_OK;
        }
        if (rc != SQLITE_OK) {
            int line = 1;
            const char *start = p;
            while (*start == ' ' || *start == '\n' || *start == '\t' || *start == '\r')
                start++;
            for (const char *c = sql; c < start; c++)
                line += *c == '\n';
            const char *why = store_refusal(s)[0] ? store_refusal(s) : sqlite3_errmsg(s->db);
            snprintf(err, errlen, "%s:%d: %s (in: %.80s%s)", path, line, why, start,
                     strlen(start) > 80 ? "..." : "");
            for (char *c = err; *c; c++)
                if (*c == '\n' || *c == '\r') *c = ' ';
            sqlite3_finalize(st);
            store_set_namespace(s, NULL);
            return PH_EDB;
        }
        sqlite3_finalize(st);
        if (!tail || tail == p) break;
        p = tail;
    }
    store_set_namespace(s, NULL);
    return 0;
}

int store_migrate(store *s, const char *owner, const char *dir, const char *ns, int *applied,
                  char *err, size_t errlen)
{
    if (applied) *applied = 0;
    struct dirent **names;
    int n = scandir(dir, &names, NULL, store__name_cmp);
    if (n < 0)
        return errno == ENOENT ? 0
                               : (snprintf(err, errlen, "%s: %s", dir, strerror(errno)), PH_EDB);
    int rc = 0;
    for (int i = 0; i < n; i++) {
        const char *name = names[i]->d_name;
        if (!rc && store__is_migration(name) && !store__applied(s, owner, name)) {
            char path[4096];
            snprintf(path, sizeof path, "%s/%s", dir, name);
            char *sql = store__read(path, err, errlen);
            if (!sql) {
                rc = PH_EDB;
            } else if ((rc = store__exec(s, "BEGIN IMMEDIATE", err, errlen)) == 0) {
                rc = store__run_file(s, path, sql, ns, err, errlen);
                if (!rc) {
                    sqlite3_stmt *st = NULL;
                    if (sqlite3_prepare_v2(s->db,
                                           "INSERT INTO park_migrations (owner, name, applied_at)"
                                           " VALUES (?, ?, strftime('%Y-%m-%dT%H:%M:%SZ','now'))",
                                           -1, &st, NULL) != SQLITE_OK ||
                        (sqlite3_bind_text(st, 1, owner, -1, SQLITE_STATIC),
                         sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC),
                         sqlite3_step(st) != SQLITE_DONE)) {
                        snprintf(err, errlen, "%s: cannot record it: %s", path,
                                 sqlite3_errmsg(s->db));
                        rc = PH_EDB;
                    }
                    sqlite3_finalize(st);
                }
                if (!rc) rc = store__exec(s, "COMMIT", err, errlen);
                if (rc) {
                    char ignored[64];
                    store__exec(s, "ROLLBACK", ignored, sizeof ignored);
                } else if (applied) {
                    (*applied)++;
                }
            }
            free(sql);
        }
        free(names[i]);
    }
    free(names);
    return rc;
}

int store_each_migration(store *s, void (*fn)(void *, const char *, const char *, const char *),
                         void *ud)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(s->db,
                           "SELECT owner, name, applied_at FROM park_migrations"
                           " ORDER BY applied_at, owner, name",
                           -1, &st, NULL) != SQLITE_OK)
        return PH_EDB;
    while (sqlite3_step(st) == SQLITE_ROW)
        fn(ud, (const char *)sqlite3_column_text(st, 0), (const char *)sqlite3_column_text(st, 1),
           (const char *)sqlite3_column_text(st, 2));
    sqlite3_finalize(st);
    return 0;
}
