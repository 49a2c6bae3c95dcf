#include "store/store.h"
#include "base/base.h"

#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

struct store {
    sqlite3 *db;
};

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
    char *msg = NULL;
    if (sqlite3_exec(s->db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;", NULL, NULL,
                     &msg) != SQLITE_OK) {
        snprintf(err, errlen, "cannot set up database %s: %s", path, msg ? msg : "?");
        sqlite3_free(msg);
        store_close(s);
        return PH_EDB;
    }
    *out = s;
    return 0;
}

void store_close(store *s)
{
    if (!s) return;
    sqlite3_close(s->db);
    free(s);
}
