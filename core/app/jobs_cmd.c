#include "app/app.h"
#include "base/base.h"
#include "sched/sched.h"
#include "store/store.h"

#include <stdio.h>
#include <string.h>

/* "every 300 s", "cron 0 8 * * 1-5", "at 2026-12-01 09:00:00" */
static void jobs__schedule(const sched_job *j, int offset, char *out, size_t n)
{
    sched_kind k = SCHED_AFTER;
    if (sched_kind_parse(j->kind, &k) == 0 && k == SCHED_AT) {
        char t[SCHED_TIME_MAX];
        long long v = 0;
        sscanf(j->spec, "%lld", &v);
        sched_time_format((int64_t)v, offset, t);
        snprintf(out, n, "at %s", t);
    } else if (k == SCHED_CRON) {
        snprintf(out, n, "cron %s", j->spec);
    } else {
        snprintf(out, n, "%s %s s", j->kind, j->spec);
    }
}

static void jobs__time(int64_t t, int offset, char *out)
{
    if (t)
        sched_time_format(t, offset, out);
    else
        snprintf(out, SCHED_TIME_MAX, "-");
}

/* List what is scheduled, when it last ran and how it ended. */
int app_jobs(const ph_conf *c)
{
    store *s = NULL;
    char err[1024];
    if (store_open(&s, c->db, err, sizeof err) ||
        store_migrate(s, "core", c->sql_dir, NULL, NULL, err, sizeof err)) {
        fprintf(stderr, "parkhost jobs: %s\n", err);
        store_close(s);
        return 1;
    }
    sched_jobs js;
    if (sched_list(s, NULL, NULL, NULL, &js)) {
        fprintf(stderr, "parkhost jobs: cannot read the jobs: %s\n", sqlite3_errmsg(store_db(s)));
        store_close(s);
        return 1;
    }
    int offset = (int)c->utc_offset_min * 60;
    if (js.n == 0) printf("no jobs scheduled\n");
    for (size_t i = 0; i < js.n; i++) {
        const sched_job *j = &js.v[i];
        char job[300], when[300], next[SCHED_TIME_MAX], last[SCHED_TIME_MAX];
        snprintf(job, sizeof job, "%s%s%s%s", j->name, j->key[0] ? "[" : "", j->key,
                 j->key[0] ? "]" : "");
        jobs__schedule(j, offset, when, sizeof when);
        jobs__time(j->next_run, offset, next);
        jobs__time(j->last_run, offset, last);
        if (i == 0)
            printf("%-12s %-24s %-28s %-19s  %-19s  %-7s %5s %5s\n", "PLUGIN", "JOB", "SCHEDULE",
                   "NEXT RUN", "LAST RUN", "LAST", "RUNS", "FAILS");
        printf("%-12s %-24s %-28s %-19s  %-19s  %-7s %5lld %5lld%s\n", j->plugin, job, when, next,
               last, j->last_status ? j->last_status : "-", (long long)j->runs,
               (long long)j->attempts, j->lease_owner ? "  running" : "");
        if (j->last_error && j->last_status && strcmp(j->last_status, "ok") != 0) {
            /* The first line of the error: the traceback is in the log. */
            int n = (int)strcspn(j->last_error, "\n");
            printf("%-12s   last error: %.*s\n", "", n > 200 ? 200 : n, j->last_error);
        }
    }
    sched_jobs_free(&js);
    store_close(s);
    return 0;
}
