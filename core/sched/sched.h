/* sched: when jobs are due, and the persisted table of jobs.
 *
 * Provides: 5-field cron expressions (sched_cron_parse, sched_cron_next),
 *           site-local date and time text (sched_time_parse/format), and
 *           the park_jobs table (sql/002_jobs.sql): put, cancel, read,
 *           claim under a lease, finish with retry and backoff.
 * Owns:     nothing; the sched_job arrays it returns belong to the caller
 *           (sched_jobs_free).
 * Uses:     store (SQLite) with no namespace, calendar's civil dates. Knows
 *           nothing of Lua: the Lua bridge (park.sched) and the timer that
 *           runs due jobs live in core/lua/jobs.c.
 *
 * Times are whole seconds since the epoch on the park clock (the caller's
 * `now`). Local time is UTC plus a fixed `offset` in seconds (the site's
 * utc-offset-min setting): China keeps no daylight saving time, so a fixed
 * offset is exact.
 *
 * At least once, with a lease: a worker claims a due job by writing its own
 * name and a lease end into the row in one UPDATE, so of several workers
 * (or nodes sharing the database) exactly one gets it. A worker that dies
 * while running a job leaves the lease to expire; the job then runs again.
 */
#ifndef PH_SCHED_H
#define PH_SCHED_H

#include "store/store.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- cron --------------------------------------------------------------- */

/* Minute, hour, day of month, month, day of week (0 or 7 Sunday): each
 * field a star, a value, a range a-b, a step (a-b/n, a/n, or a star
 * followed by /n), or a list of these; month and weekday names (jan, mon) in any case; and the
 * shorthands
 * @yearly @annually @monthly @weekly @daily @midnight @hourly. As in Vixie
 * cron, when both day fields are restricted a day matches either. */
typedef struct {
    uint64_t minute; /* bit i: minute i */
    uint32_t hour;   /* bit i: hour i */
    uint32_t dom;    /* bit i: day i of the month, 1..31 */
    uint16_t month;  /* bit i: month i, 1..12 */
    uint8_t dow;     /* bit i: weekday i, 0 Sunday .. 6 Saturday */
    bool dom_star, dow_star;
    bool workday; /* day of week `workday`: the park's working days (below) */
} sched_cron;

/* The day-of-week field may instead be the word `workday`: the park's
 * working days (calendar/: Monday to Friday but holidays, and the weekend
 * days worked instead). The expression then matches every day, and the
 * runner skips a run due on a day that is not a working day
 * (sched_workday_skip): the calendar is read when the run is due, so a
 * holiday or a 调休 Saturday recorded after the run was scheduled counts.
 * Parse `expr`. Returns 0, or PH_EINVAL with the field and the reason in
 * why ("field 2 (hour): 24 is out of range 0-23"). */
int sched_cron_parse(const char *expr, sched_cron *out, char *why, size_t whylen);
/* The first minute strictly after `after` that the expression matches, in
 * local time (UTC + offset seconds). Returns 0, or PH_ENOTFOUND when it
 * matches no minute in the next eight years ("0 0 30 2 *"). */
int sched_cron_next(const sched_cron *c, int64_t after, int offset, int64_t *next);

/* ---- local time --------------------------------------------------------- */

enum { SCHED_TIME_MAX = 64 };

/* "2026-12-01", "2026-12-01 09:30", "2026-12-01T09:30:15" in local time, or
 * with "Z" or an offset "+08:00" / "+0800" after the time. Returns 0 or
 * PH_EINVAL. */
int sched_time_parse(const char *s, int offset, int64_t *t);
/* "2026-12-01 09:30:00" in local time, into out (SCHED_TIME_MAX bytes). */
void sched_time_format(int64_t t, int offset, char *out);

/* ---- jobs --------------------------------------------------------------- */

typedef enum { SCHED_AFTER, SCHED_AT, SCHED_EVERY, SCHED_CRON } sched_kind;

/* "after", "at", "every", "cron"; and back (PH_EINVAL for another word). */
const char *sched_kind_name(sched_kind k);
int sched_kind_parse(const char *name, sched_kind *k);

/* A row of park_jobs. Strings are NUL-terminated; in an array from
 * sched_claim or sched_list they are owned by the array. */
typedef struct {
    int64_t id;
    char *plugin, *name, *key, *kind, *spec, *payload;
    char *last_status, *last_error, *lease_owner; /* NULL when never set */
    int64_t next_run;                             /* 0: nothing more to run */
    int64_t last_run, lease_until, attempts, runs;
    int64_t anchor; /* every: runs fall on anchor + k * interval */
    bool declared;
} sched_job;

typedef struct {
    sched_job *v;
    size_t n;
} sched_jobs;

void sched_jobs_free(sched_jobs *js);

/* The first run of a job of this kind and spec scheduled at `now`:
 * after: spec is seconds from now; at: spec is the time in seconds; every:
 * spec is the interval in seconds; cron: spec is the expression. Returns 0,
 * or PH_EINVAL with the reason in why. */
int sched_first_run(sched_kind kind, const char *spec, int64_t now, int offset, int64_t *first,
                    char *why, size_t whylen);

/* Schedule job (plugin, name, key), replacing what was scheduled under that
 * identity. A recurring job (every, cron) put again with the same kind and
 * spec keeps its next run and its lease, so declaring it at every start does
 * not postpone it; anything else starts over at `first`. `declared` marks a
 * schedule from a plugin's manifest. Returns 0 or PH_EDB. */
int sched_put(store *s, const char *plugin, const char *name, const char *key, sched_kind kind,
              const char *spec, const char *payload, size_t payload_len, int64_t first,
              bool declared, int64_t now);
/* Remove the job; *found says whether there was one. Returns 0 or PH_EDB. */
int sched_cancel(store *s, const char *plugin, const char *name, const char *key, bool *found);
/* Remove the plugin's declared schedules whose names are not among
 * names[0..n). Returns 0 or PH_EDB. */
int sched_prune_declared(store *s, const char *plugin, const char *const *names, size_t n);

/* The jobs of `plugin` (NULL: all), optionally only `name` and `key` (NULL:
 * any), ordered by plugin, name and key. Returns 0, PH_ENOMEM or PH_EDB. */
int sched_list(store *s, const char *plugin, const char *name, const char *key, sched_jobs *out);

/* Claim up to `max` jobs due at `now` whose plugin `runnable` accepts (NULL:
 * all), leasing each to `owner` until now + lease_s. Jobs leased by someone
 * else and not yet expired are left alone. Returns 0, PH_ENOMEM or PH_EDB;
 * *out gets the claimed rows. */
int sched_claim(store *s, int64_t now, const char *owner, int64_t lease_s, size_t max,
                bool (*runnable)(void *ud, const char *plugin), void *ud, sched_jobs *out);
/* When the next job of a runnable plugin becomes due (its next run, or
 * when its lease ends if later). Returns 0, PH_ENOTFOUND when nothing is
 * scheduled, or PH_EDB. */
int sched_next_due(store *s, bool (*runnable)(void *ud, const char *plugin), void *ud,
                   int64_t *due);

typedef struct {
    int64_t retries;      /* failed attempts retried before giving up */
    int64_t retry_base_s; /* the first retry waits this; each next one twice as long */
    int64_t retry_max_s;  /* ... but never longer than this */
    int offset;           /* the site's offset from UTC, for cron */
    bool stopped;         /* the run was stopped by the host (its budget, its CPU
                             quota): the regular schedule forgives nothing, and
                             past `retries` the job stops for good (failed, no
                             next run, park_jobs.stopped set, and kept so by
                             sched_put until its kind or spec changes) */
} sched_policy;

typedef enum {
    SCHED_DONE,    /* it ran; a recurring job is scheduled again */
    SCHED_RETRY,   /* it failed and will be retried */
    SCHED_GAVE_UP, /* it failed `retries` + 1 times in a row */
    SCHED_LOST,    /* the lease was no longer ours (it expired and was
                      claimed again, or the job was rescheduled or cancelled
                      while running): only the outcome is recorded */
} sched_outcome;

/* Record the end of a run of job `id` that `owner` claimed: error NULL for
 * success or the reason it failed. Sets when it runs next (nothing more for
 * a one-shot job that succeeded or gave up). *when receives the next run (0
 * for none). Returns 0 or PH_EDB. */
int sched_finish(store *s, int64_t id, const char *owner, int64_t now, const char *error,
                 const sched_policy *pol, sched_outcome *outcome, int64_t *when);
/* Extend the lease of a job `owner` is running to `until`; *ours says
 * whether the job is still leased to it. Returns 0 or PH_EDB. */
int sched_renew(store *s, int64_t id, const char *owner, int64_t until, bool *ours);
/* Give a claimed job back unrun (the worker is stopping): it is due again
 * at once for whoever claims it. Returns 0 or PH_EDB. */
int sched_release(store *s, int64_t id, const char *owner);
/* A `workday` cron job claimed by `owner`: when the day it was due is not
 * a working day, nor that of any time it missed since (up to `now`), *skip
 * is set and the job moves to its next time (*next) without a run being
 * recorded. When it was, or a missed time fell on a working day, the job
 * runs (for that working day: j->next_run becomes that time). Any other
 * job leaves *skip false. Returns 0 or PH_EDB. */
int sched_workday_skip(store *s, sched_job *j, const char *owner, int64_t now, int offset,
                       bool *skip, int64_t *next);

#endif
