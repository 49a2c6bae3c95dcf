#include "app/app.h"
#include "audit/audit.h"
#include "base/base.h"
#include "sched/sched.h"
#include "store/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int audit__usage(void)
{
    fprintf(stderr, "usage: parkhost audit [--since TIME] [--actor ACTOR] [--action PREFIX]\n"
                    "                      [--limit N] [settings]\n"
                    "TIME: \"2026-11-28\" or \"2026-11-28 09:00\" in the site's time.\n");
    return 2;
}

static void audit__print(void *ud, const audit_entry *e)
{
    int offset = *(const int *)ud;
    char t[SCHED_TIME_MAX];
    sched_time_format(e->at, offset, t);
    printf("%s  %-16s %-15s %-20s %s", t, e->actor, e->address[0] ? e->address : "-", e->action,
           e->object);
    if (e->before) printf("  before %s", e->before);
    if (e->after) printf("  after %s", e->after);
    printf("\n");
}

/* `parkhost audit`: the audit log, newest first. */
int app_audit(int argc, char **argv)
{
    audit_filter f = {0, NULL, NULL, 100, 0};
    char **settings = calloc((size_t)argc + 1, sizeof *settings);
    if (!settings) return 1;
    int nset = 0;
    const char *since = NULL, *limit = NULL;
    for (int i = 0; i < argc; i++) {
        const char **opt = !strcmp(argv[i], "--since")    ? &since
                           : !strcmp(argv[i], "--actor")  ? &f.actor
                           : !strcmp(argv[i], "--action") ? &f.action
                           : !strcmp(argv[i], "--limit")  ? &limit
                                                          : NULL;
        if (opt && i + 1 < argc) {
            *opt = argv[++i];
        } else if (opt || strncmp(argv[i], "--", 2) != 0) {
            free(settings);
            return audit__usage();
        } else {
            settings[nset++] = argv[i];
            if (i + 1 < argc && strncmp(argv[i + 1], "--", 2) != 0) settings[nset++] = argv[++i];
        }
    }
    ph_conf c;
    char err[1024];
    int rc = conf_load(&c, nset, settings, err, sizeof err);
    free(settings);
    if (rc) {
        fprintf(stderr, "parkhost audit: %s\n", err);
        conf_free(&c);
        return 2;
    }
    int offset = (int)c.utc_offset_min * 60, status = 0;
    if (since && sched_time_parse(since, offset, &f.since)) {
        fprintf(stderr, "parkhost audit: '%s' is not a time (2026-11-28 or 2026-11-28 09:00)\n",
                since);
        conf_free(&c);
        return 2;
    }
    if (limit && (f.limit = atoll(limit)) < 1) {
        fprintf(stderr, "parkhost audit: --limit takes a number of entries, 1 or more\n");
        conf_free(&c);
        return 2;
    }
    store *s = NULL;
    if (store_open(&s, c.db, err, sizeof err) ||
        store_migrate(s, "core", c.sql_dir, NULL, NULL, err, sizeof err)) {
        fprintf(stderr, "parkhost audit: %s\n", err);
        status = 1;
    } else if (audit_each(s, &f, audit__print, &offset)) {
        fprintf(stderr, "parkhost audit: cannot read the audit log\n");
        status = 1;
    }
    store_close(s);
    conf_free(&c);
    return status;
}
