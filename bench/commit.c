/* commit: what batching the fsyncs saves, in the storage layer alone.
 * Inserts N rows into a real SQLite file opened as the server opens it
 * (store_open: WAL), three ways, and prints one line per way: microseconds
 * of wall time and of CPU time per write.
 *
 *   per-write   one transaction and one fsync per write (synchronous=FULL):
 *               the server with --group-commit 0
 *   group-G     G writes per transaction, one fsync
 *   normal      one transaction per write, no fsync (synchronous=NORMAL):
 *               the server with group commit, which adds one fsync per
 *               loop turn for all of the turn's commits
 *
 *   commit DIR N G
 */
#include "store/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

static double now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static double cpu_us(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e6 +
           (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
}

static int run(const char *dir, const char *name, int n, int group, const char *pragma)
{
    char path[512], err[512];
    snprintf(path, sizeof path, "%s/commit-%s.db", dir, name);
    store *s;
    if (store_open(&s, path, err, sizeof err)) {
        fprintf(stderr, "commit: %s\n", err);
        return 1;
    }
    sqlite3 *db = store_db(s);
    sqlite3_exec(db, pragma, NULL, NULL, NULL);
    sqlite3_exec(db, "CREATE TABLE t (id INTEGER PRIMARY KEY, note TEXT NOT NULL)", NULL, NULL,
                 NULL);
    sqlite3_stmt *st;
    sqlite3_prepare_v2(db, "INSERT INTO t (note) VALUES (?)", -1, &st, NULL);
    double w0 = now_us(), c0 = cpu_us();
    for (int i = 0; i < n; i += group) {
        if (group > 1) sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
        for (int k = 0; k < group && i + k < n; k++) {
            sqlite3_bind_text(st, 1, "一条留言 a note of some length, as a resident writes it", -1,
                              SQLITE_STATIC);
            if (sqlite3_step(st) != SQLITE_DONE) {
                fprintf(stderr, "commit: %s\n", sqlite3_errmsg(db));
                return 1;
            }
            sqlite3_reset(st);
        }
        if (group > 1 && sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) return 1;
    }
    double wall = (now_us() - w0) / n, cpu = (cpu_us() - c0) / n;
    sqlite3_finalize(st);
    store_close(s);
    printf("%s %.1f %.1f\n", name, wall, cpu);
    unlink(path);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: commit DIR N G\n");
        return 2;
    }
    int n = atoi(argv[2]), g = atoi(argv[3]);
    char group[32];
    snprintf(group, sizeof group, "group-%d", g);
    return run(argv[1], "per-write", n, 1, "") || run(argv[1], group, n, g, "") ||
           run(argv[1], "normal", n, 1, "PRAGMA synchronous=NORMAL");
}
