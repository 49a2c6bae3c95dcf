#include "app/app.h"
#include "base/base.h"
#include "store/store.h"

#include <dirent.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

static void migrate__print(void *ud, const char *owner, const char *name, const char *at)
{
    (void)ud;
    printf("  %-20s %-40s %s\n", owner, name, at);
}

static int migrate__cmp(const struct dirent **a, const struct dirent **b)
{
    return strcmp((*a)->d_name, (*b)->d_name);
}

/* Apply every plugin's pending migrations (as serve does at load) and list
 * what the database has recorded. */
int app_migrate(const ph_conf *c)
{
    store *s = NULL;
    char err[1024];
    if (store_open(&s, c->db, err, sizeof err)) {
        fprintf(stderr, "parkhost migrate: %s\n", err);
        return 1;
    }
    int status = 0, applied = 0;
    if (store_migrate(s, "core", c->sql_dir, NULL, &applied, err, sizeof err)) {
        fprintf(stderr, "parkhost migrate: core: %s\n", err);
        store_close(s);
        return 1;
    }
    if (applied) printf("core: %d migration(s) applied\n", applied);
    for (size_t d = 0; d < c->plugins.n; d++) {
        struct dirent **names;
        int n = scandir(c->plugins.v[d], &names, NULL, migrate__cmp);
        for (int i = 0; i < n; i++) {
            char path[4200];
            struct stat st;
            snprintf(path, sizeof path, "%s/%s/plugin.lua", c->plugins.v[d], names[i]->d_name);
            if (names[i]->d_name[0] != '.' && stat(path, &st) == 0) {
                snprintf(path, sizeof path, "%s/%s/sql", c->plugins.v[d], names[i]->d_name);
                applied = 0;
                if (store_migrate(s, names[i]->d_name, path, names[i]->d_name, &applied, err,
                                  sizeof err)) {
                    fprintf(stderr, "parkhost migrate: plugin %s: %s\n", names[i]->d_name, err);
                    status = 1;
                } else if (applied) {
                    printf("plugin %s: %d migration(s) applied\n", names[i]->d_name, applied);
                }
            }
            free(names[i]);
        }
        if (n >= 0) free(names);
    }
    printf("migrations recorded in %s:\n", c->db);
    store_each_migration(s, migrate__print, NULL);
    store_close(s);
    return status;
}
