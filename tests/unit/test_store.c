/* Unit tests of core/store's group commit: commits mark the store dirty and
 * call the hook, store_sync makes them durable and clears the mark, and the
 * sync mode is what the setting says. A real SQLite file in /tmp. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/base.h"
#include "store/store.h"
#include "unit.h"

static int commits;

static void on_commit(void *ud)
{
    CHECK(ud == &commits);
    commits++;
}

static int synchronous(store *s)
{
    sqlite3_stmt *st;
    CHECK_INT(sqlite3_prepare_v2(store_db(s), "PRAGMA synchronous", -1, &st, NULL), ==, SQLITE_OK);
    CHECK_INT(sqlite3_step(st), ==, SQLITE_ROW);
    int v = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return v;
}

static void run(store *s, const char *sql)
{
    char *msg = NULL;
    if (sqlite3_exec(store_db(s), sql, NULL, NULL, &msg) != SQLITE_OK)
        u_fail(__FILE__, __LINE__, "%s: %s", sql, msg);
}

void test_store_group_commit(void)
{
    char dir[] = "/tmp/parkhost-unit-XXXXXX", path[64], err[256];
    CHECK(mkdtemp(dir) != NULL);
    snprintf(path, sizeof path, "%s/site.db", dir);
    store *s;
    CHECK_INT(store_open(&s, path, err, sizeof err), ==, 0);
    CHECK_INT(synchronous(s), ==, 2); /* FULL until asked */
    store_on_commit(s, on_commit, &commits);
    run(s, "CREATE TABLE t (v INTEGER)");
    CHECK_INT(commits, ==, 1);
    CHECK(!store_dirty(s)); /* synced by SQLite itself */
    CHECK_INT(store_set_group_commit(s, true), ==, 0);
    CHECK_INT(synchronous(s), ==, 1); /* NORMAL: the sync is ours */
    run(s, "INSERT INTO t VALUES (1)");
    run(s, "BEGIN; INSERT INTO t VALUES (2); INSERT INTO t VALUES (3); COMMIT");
    CHECK_INT(commits, ==, 3);
    CHECK(store_dirty(s));
    CHECK_INT(store_sync(s, err, sizeof err), ==, 0);
    CHECK(!store_dirty(s));
    CHECK_INT(store_sync(s, err, sizeof err), ==, 0); /* nothing to do */
    run(s, "SELECT count(*) FROM t");                 /* a read commits nothing */
    CHECK(!store_dirty(s));
    run(s, "BEGIN; INSERT INTO t VALUES (4); ROLLBACK");
    CHECK(!store_dirty(s));
    CHECK_INT(commits, ==, 3);
    run(s, "INSERT INTO t VALUES (5)");
    store_on_commit(s, NULL, NULL);
    store_close(s); /* syncs what is left */
    CHECK_INT(store_open(&s, path, err, sizeof err), ==, 0);
    sqlite3_stmt *st;
    CHECK_INT(sqlite3_prepare_v2(store_db(s), "SELECT sum(v) FROM t", -1, &st, NULL), ==,
              SQLITE_OK);
    CHECK_INT(sqlite3_step(st), ==, SQLITE_ROW);
    CHECK_INT(sqlite3_column_int(st, 0), ==, 1 + 2 + 3 + 5);
    sqlite3_finalize(st);
    store_close(s);
    char cmd[96];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    CHECK_INT(system(cmd), ==, 0);
}
