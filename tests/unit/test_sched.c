/* Unit tests of core/sched: cron expressions against known calendars, local
 * time text, and the park_jobs table in a real SQLite file: put, claim
 * under a lease, finish with retry and backoff, release, prune. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/base.h"
#include "sched/sched.h"
#include "store/store.h"
#include "unit.h"

enum { CST = 8 * 3600 }; /* China Standard Time, seconds east of UTC */

/* Seconds since the epoch of a local (CST) time text; fails the test on a
 * bad one. */
static int64_t at(const char *s)
{
    int64_t t;
    if (sched_time_parse(s, CST, &t)) u_fail(__FILE__, __LINE__, "bad time in test: %s", s);
    return t;
}

static const char *fmt(int64_t t)
{
    static char ring[4][SCHED_TIME_MAX];
    static unsigned n;
    char *out = ring[n++ % 4];
    sched_time_format(t, CST, out);
    return out;
}

/* The next match of expr after local time `after`, as local text. */
static const char *next_of(const char *expr, const char *after)
{
    sched_cron c;
    char why[200];
    if (sched_cron_parse(expr, &c, why, sizeof why))
        u_fail(__FILE__, __LINE__, "'%s' does not parse: %s", expr, why);
    int64_t n;
    if (sched_cron_next(&c, at(after), CST, &n)) return "none";
    return fmt(n);
}

static const char *parse_error(const char *expr)
{
    static char why[200];
    sched_cron c;
    why[0] = 0;
    if (sched_cron_parse(expr, &c, why, sizeof why) == 0) return "parsed";
    return why;
}

void test_sched_time_parse(void)
{
    int64_t t;
    CHECK_INT(sched_time_parse("1970-01-01 08:00", CST, &t), ==, 0);
    CHECK_INT(t, ==, 0);
    CHECK_INT(sched_time_parse("2030-01-01T00:00:00Z", CST, &t), ==, 0);
    CHECK_INT(t, ==, 1893456000);
    CHECK_INT(sched_time_parse("2030-01-01 09:00:00+09:00", CST, &t), ==, 0);
    CHECK_INT(t, ==, 1893456000);
    CHECK_INT(sched_time_parse("2029-12-31 19:00-0500", CST, &t), ==, 0);
    CHECK_INT(t, ==, 1893456000);
    CHECK_INT(sched_time_parse("2030-01-01", CST, &t), ==, 0); /* local midnight */
    CHECK_INT(t, ==, 1893456000 - CST);
    const char *bad[] = {"",
                         "2030-01-01 24:00",
                         "2030-02-30 10:00",
                         "2030-01-01 10",
                         "2030-01-01 10:00:60",
                         "2030-01-01 10:00 ",
                         "2030-01-01 10:00+8",
                         "2030-01-01 10:00+15:00",
                         "2030-01-01 10:00Zx",
                         "next tuesday"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (sched_time_parse(bad[i], CST, &t) != PH_EINVAL)
            u_fail(__FILE__, __LINE__, "'%s' was accepted", bad[i]);
    CHECK_STR(fmt(1893456000), "2030-01-01 08:00:00");
    CHECK_STR(fmt(-1), "1970-01-01 07:59:59");
}

void test_sched_cron_fields(void)
{
    CHECK_STR(next_of("* * * * *", "2026-11-28 10:15:30"), "2026-11-28 10:16:00");
    CHECK_STR(next_of("* * * * *", "2026-11-28 10:15"), "2026-11-28 10:16:00");
    CHECK_STR(next_of("0 8 * * *", "2026-11-28 08:00"), "2026-11-29 08:00:00");
    CHECK_STR(next_of("0 8 * * *", "2026-11-28 07:59:59"), "2026-11-28 08:00:00");
    CHECK_STR(next_of("*/15 * * * *", "2026-11-28 10:31"), "2026-11-28 10:45:00");
    CHECK_STR(next_of("5/20 * * * *", "2026-11-28 10:46"), "2026-11-28 11:05:00");
    CHECK_STR(next_of("10-20/5 9 * * *", "2026-11-28 09:16"), "2026-11-28 09:20:00");
    CHECK_STR(next_of("0 9,12,18 * * *", "2026-11-28 12:00"), "2026-11-28 18:00:00");
    CHECK_STR(next_of("0 0 1 * *", "2026-11-28 00:00"), "2026-12-01 00:00:00");
    CHECK_STR(next_of("0 0 1 jan *", "2026-11-28 00:00"), "2027-01-01 00:00:00");
    CHECK_STR(next_of("30 23 31 * *", "2026-11-01 00:00"), "2026-12-31 23:30:00");
    CHECK_STR(next_of("0 0 29 2 *", "2026-03-01 00:00"), "2028-02-29 00:00:00");
    CHECK_STR(next_of("@hourly", "2026-11-28 10:15"), "2026-11-28 11:00:00");
    CHECK_STR(next_of("@daily", "2026-11-28 10:15"), "2026-11-29 00:00:00");
    CHECK_STR(next_of("@weekly", "2026-11-28 10:15"), "2026-11-29 00:00:00"); /* a Sunday */
    CHECK_STR(next_of("@monthly", "2026-12-15 10:15"), "2027-01-01 00:00:00");
    CHECK_STR(next_of("@yearly", "2026-12-15 10:15"), "2027-01-01 00:00:00");
    CHECK_STR(next_of("0 0 30 2 *", "2026-11-28 00:00"), "none");
}

void test_sched_cron_weekdays(void)
{
    /* 2026-11-28 is a Saturday. */
    CHECK_STR(next_of("0 8 * * 1-5", "2026-11-28 09:00"), "2026-11-30 08:00:00");
    CHECK_STR(next_of("0 8 * * mon-fri", "2026-11-28 09:00"), "2026-11-30 08:00:00");
    CHECK_STR(next_of("0 8 * * 0", "2026-11-28 09:00"), "2026-11-29 08:00:00");
    CHECK_STR(next_of("0 8 * * 7", "2026-11-28 09:00"), "2026-11-29 08:00:00");
    CHECK_STR(next_of("0 8 * * SAT", "2026-11-28 07:00"), "2026-11-28 08:00:00");
    CHECK_STR(next_of("0 8 * * 5-7", "2026-11-28 09:00"), "2026-11-29 08:00:00");
    /* Both day fields restricted: either matches (Vixie cron). */
    CHECK_STR(next_of("0 0 1 * 1", "2026-11-28 09:00"), "2026-11-30 00:00:00");
    CHECK_STR(next_of("0 0 1 * 1", "2026-11-30 09:00"), "2026-12-01 00:00:00");
    /* One restricted, the other a star with a step: both must match. */
    CHECK_STR(next_of("0 0 */2 * 1", "2026-11-28 09:00"), "2026-12-07 00:00:00");
}

void test_sched_cron_workday(void)
{
    /* `workday` matches every day; the runner asks the calendar when due. */
    sched_cron c;
    char why[200];
    CHECK_INT(sched_cron_parse("0 9 * * workday", &c, why, sizeof why), ==, 0);
    CHECK(c.workday);
    CHECK_INT(sched_cron_parse("0 9 * * WorkDay", &c, why, sizeof why), ==, 0);
    CHECK(c.workday);
    CHECK_INT(sched_cron_parse("0 9 * * 1-5", &c, why, sizeof why), ==, 0);
    CHECK(!c.workday);
    CHECK_STR(next_of("0 9 * * workday", "2026-11-28 09:00"), "2026-11-29 09:00:00");
    CHECK_STR(parse_error("0 9 * * workdays"), "field 5 (day of week): cannot read 'workdays'");
    CHECK_STR(parse_error("0 9 * workday *"), "field 4 (month): cannot read 'workday'");
}

void test_sched_cron_errors(void)
{
    CHECK_STR(parse_error("61 * * * *"), "field 1 (minute): 61 is out of range 0-59");
    CHECK_STR(parse_error("0 24 * * *"), "field 2 (hour): 24 is out of range 0-23");
    CHECK_STR(parse_error("0 0 0 * *"), "field 3 (day of month): 0 is out of range 1-31");
    CHECK_STR(parse_error("0 0 * 13 *"), "field 4 (month): 13 is out of range 1-12");
    CHECK_STR(parse_error("0 0 * * 8"), "field 5 (day of week): 8 is out of range 0-7");
    CHECK_STR(parse_error("0 0 * * 5-2"), "field 5 (day of week): 5-2 is out of range 0-7");
    CHECK_STR(parse_error("*/0 * * * *"), "field 1 (minute): cannot read '*/0'");
    CHECK_STR(parse_error("*/61 * * * *"), "field 1 (minute): step 61 is larger than the range");
    CHECK_STR(parse_error("1, * * * *"), "field 1 (minute): cannot read '1,'");
    CHECK_STR(parse_error("a * * * *"), "field 1 (minute): cannot read 'a'");
    CHECK_STR(parse_error("0 0 * foo *"), "field 4 (month): cannot read 'foo'");
    CHECK_STR(parse_error("* * * *"),
              "a cron expression has five fields (minute hour day-of-month month day-of-week), "
              "this one 4");
    CHECK_STR(parse_error("* * * * * *"),
              "a cron expression has five fields (minute hour day-of-month month day-of-week), "
              "this one more: '*'");
    CHECK_STR(parse_error("@often"), "unknown shorthand '@often'");
    CHECK_STR(parse_error(""), "a cron expression has five fields (minute hour day-of-month "
                               "month day-of-week), this one 0");
}

/* ---- the table ---------------------------------------------------------- */

static void put(store *s, const char *name, const char *key, sched_kind k, const char *spec,
                int64_t now)
{
    int64_t first;
    char why[200];
    if (sched_first_run(k, spec, now, CST, &first, why, sizeof why))
        u_fail(__FILE__, __LINE__, "%s", why);
    CHECK_INT(sched_put(s, "p", name, key, k, spec, "{\"n\":1}", 7, first, false, now), ==, 0);
}

static sched_job one(store *s, const char *name, const char *key, sched_jobs *keep)
{
    CHECK_INT(sched_list(s, "p", name, key, keep), ==, 0);
    CHECK_INT(keep->n, ==, 1);
    return keep->v[0];
}

void test_sched_claim_lease(void)
{
    u_db f;
    u_db_open(&f);
    int64_t t = 1800000000;
    put(f.s, "a", "", SCHED_AFTER, "10", t);
    put(f.s, "b", "", SCHED_AFTER, "20", t);
    sched_jobs js;
    CHECK_INT(sched_claim(f.s, t + 5, "w1", 60, 8, NULL, NULL, &js), ==, 0);
    CHECK_INT(js.n, ==, 0); /* nothing due yet */
    int64_t due;
    CHECK_INT(sched_next_due(f.s, NULL, NULL, &due), ==, 0);
    CHECK_INT(due, ==, t + 10);
    CHECK_INT(sched_claim(f.s, t + 10, "w1", 60, 8, NULL, NULL, &js), ==, 0);
    CHECK_INT(js.n, ==, 1);
    CHECK_STR(js.v[0].name, "a");
    CHECK_STR(js.v[0].payload, "{\"n\":1}");
    CHECK_STR(js.v[0].lease_owner, "w1");
    CHECK_INT(js.v[0].lease_until, ==, t + 70);
    sched_jobs_free(&js);
    /* The runner extends its lease; no one else can. */
    bool ours;
    CHECK_INT(sched_renew(f.s, 1, "w1", t + 75, &ours), ==, 0);
    CHECK(ours);
    CHECK_INT(sched_renew(f.s, 1, "w2", t + 500, &ours), ==, 0);
    CHECK(!ours);
    CHECK_INT(sched_renew(f.s, 1, "w1", t + 70, &ours), ==, 0); /* back to the first lease */
    /* Leased: another worker does not get it, even when both are due. */
    CHECK_INT(sched_claim(f.s, t + 30, "w2", 60, 8, NULL, NULL, &js), ==, 0);
    CHECK_INT(js.n, ==, 1);
    CHECK_STR(js.v[0].name, "b");
    sched_jobs_free(&js);
    /* The lease ends: someone else may run it (at least once). */
    CHECK_INT(sched_next_due(f.s, NULL, NULL, &due), ==, 0);
    CHECK_INT(due, ==, t + 70);
    CHECK_INT(sched_claim(f.s, t + 70, "w2", 60, 8, NULL, NULL, &js), ==, 0);
    CHECK_INT(js.n, ==, 1); /* a; b is leased to w2 until t + 90 */
    CHECK_STR(js.v[0].name, "a");
    CHECK_STR(js.v[0].lease_owner, "w2");
    sched_jobs_free(&js);
    u_db_close(&f);
}

static bool only_q(void *ud, const char *plugin)
{
    (void)ud;
    return strcmp(plugin, "q") == 0;
}

void test_sched_claim_runnable(void)
{
    u_db f;
    u_db_open(&f);
    int64_t t = 1800000000;
    put(f.s, "a", "", SCHED_AFTER, "0", t);
    CHECK_INT(sched_put(f.s, "q", "a", "", SCHED_AFTER, "5", "null", 4, t + 5, false, t), ==, 0);
    sched_jobs js;
    CHECK_INT(sched_claim(f.s, t + 10, "w", 60, 8, only_q, NULL, &js), ==, 0);
    CHECK_INT(js.n, ==, 1);
    CHECK_STR(js.v[0].plugin, "q");
    sched_jobs_free(&js);
    /* The next due ignores plugins that are not loaded here. */
    int64_t due;
    CHECK_INT(sched_next_due(f.s, only_q, NULL, &due), ==, 0);
    CHECK_INT(due, ==, t + 70); /* q's own lease */
    CHECK_INT(sched_claim(f.s, t + 10, "w", 60, 1, NULL, NULL, &js), ==, 0);
    CHECK_INT(js.n, ==, 1); /* max 1 */
    sched_jobs_free(&js);
    u_db_close(&f);
}

void test_sched_finish_retry(void)
{
    u_db f;
    u_db_open(&f);
    int64_t t = 1800000000;
    sched_policy pol = {2, 30, 3600, CST, false};
    put(f.s, "a", "k", SCHED_AT, "1800000100", t);
    sched_jobs js, keep;
    sched_outcome out;
    int64_t when;
    int64_t now = t + 100;
    int64_t waits[] = {30, 60};
    for (int attempt = 0; attempt < 3; attempt++) {
        CHECK_INT(sched_claim(f.s, now, "w", 60, 8, NULL, NULL, &js), ==, 0);
        CHECK_INT(js.n, ==, 1);
        CHECK_INT(js.v[0].attempts, ==, attempt);
        int64_t id = js.v[0].id;
        sched_jobs_free(&js);
        CHECK_INT(sched_finish(f.s, id, "w", now, "boom", &pol, &out, &when), ==, 0);
        if (attempt < 2) {
            CHECK_INT(out, ==, SCHED_RETRY);
            CHECK_INT(when, ==, now + waits[attempt]);
            now = when;
        } else {
            CHECK_INT(out, ==, SCHED_GAVE_UP);
            CHECK_INT(when, ==, 0);
        }
    }
    sched_job j = one(f.s, "a", "k", &keep);
    CHECK_STR(j.last_status, "failed");
    CHECK_STR(j.last_error, "boom");
    CHECK_INT(j.next_run, ==, 0);
    CHECK_INT(j.runs, ==, 3);
    CHECK(j.lease_owner == NULL);
    sched_jobs_free(&keep);
    u_db_close(&f);
}

void test_sched_finish_recurring(void)
{
    u_db f;
    u_db_open(&f);
    int64_t t = 1800000000;
    sched_policy pol = {5, 30, 3600, CST, false};
    put(f.s, "e", "", SCHED_EVERY, "3600", t);
    sched_jobs js, keep;
    sched_outcome out;
    int64_t when;
    /* Down for five and a half hours: one run, the phase kept. */
    CHECK_INT(sched_claim(f.s, t + 5 * 3600 + 1800, "w", 60, 8, NULL, NULL, &js), ==, 0);
    CHECK_INT(js.n, ==, 1);
    int64_t id = js.v[0].id;
    sched_jobs_free(&js);
    CHECK_INT(sched_finish(f.s, id, "w", t + 5 * 3600 + 1800, NULL, &pol, &out, &when), ==, 0);
    CHECK_INT(out, ==, SCHED_DONE);
    CHECK_INT(when, ==, t + 6 * 3600);
    /* A failure retries sooner than the next regular run... */
    CHECK_INT(sched_claim(f.s, t + 6 * 3600, "w", 60, 8, NULL, NULL, &js), ==, 0);
    sched_jobs_free(&js);
    CHECK_INT(sched_finish(f.s, id, "w", t + 6 * 3600, "x", &pol, &out, &when), ==, 0);
    CHECK_INT(out, ==, SCHED_RETRY);
    CHECK_INT(when, ==, t + 6 * 3600 + 30);
    /* ... but never later than it. */
    pol.retry_base_s = 7200;
    CHECK_INT(sched_claim(f.s, t + 6 * 3600 + 30, "w", 60, 8, NULL, NULL, &js), ==, 0);
    sched_jobs_free(&js);
    CHECK_INT(sched_finish(f.s, id, "w", t + 6 * 3600 + 30, "x", &pol, &out, &when), ==, 0);
    CHECK_INT(when, ==, t + 7 * 3600);
    sched_job j = one(f.s, "e", "", &keep);
    CHECK_INT(j.attempts, ==, 0);
    sched_jobs_free(&keep);
    /* Put again with the same spec: the next run stays. */
    put(f.s, "e", "", SCHED_EVERY, "3600", t + 6 * 3600 + 40);
    j = one(f.s, "e", "", &keep);
    CHECK_INT(j.next_run, ==, t + 7 * 3600);
    sched_jobs_free(&keep);
    /* With another spec it starts over. */
    put(f.s, "e", "", SCHED_EVERY, "60", t + 6 * 3600 + 40);
    j = one(f.s, "e", "", &keep);
    CHECK_INT(j.next_run, ==, t + 6 * 3600 + 100);
    sched_jobs_free(&keep);
    u_db_close(&f);
}

/* A recurring job the host keeps stopping (its budget, its CPU quota): the
 * regular schedule forgives nothing, and past the retries it stops for good,
 * also when the plugin declares it again at the next start. */
void test_sched_finish_stopped(void)
{
    u_db f;
    u_db_open(&f);
    int64_t t = 1800000000;
    sched_policy pol = {1, 30, 3600, CST, true};
    put(f.s, "e", "", SCHED_EVERY, "1", t);
    sched_jobs js, keep;
    sched_outcome out;
    int64_t when, now = t + 1;
    for (int attempt = 0; attempt < 2; attempt++) {
        CHECK_INT(sched_claim(f.s, now, "w", 60, 8, NULL, NULL, &js), ==, 0);
        CHECK_INT(js.n, ==, 1);
        int64_t id = js.v[0].id;
        sched_jobs_free(&js);
        CHECK_INT(sched_finish(f.s, id, "w", now, "stopped", &pol, &out, &when), ==, 0);
        CHECK_INT(out, ==, attempt == 0 ? SCHED_RETRY : SCHED_GAVE_UP);
        CHECK_INT(when, ==, attempt == 0 ? now + 30 : 0); /* not the regular 1 s */
        now += 30;
    }
    sched_job j = one(f.s, "e", "", &keep);
    CHECK_STR(j.last_status, "failed");
    CHECK_INT(j.next_run, ==, 0);
    sched_jobs_free(&keep);
    /* Declared again with the same schedule (a restart): still stopped. */
    put(f.s, "e", "", SCHED_EVERY, "1", now);
    j = one(f.s, "e", "", &keep);
    CHECK_INT(j.next_run, ==, 0);
    sched_jobs_free(&keep);
    CHECK_INT(sched_claim(f.s, now + 3600, "w", 60, 8, NULL, NULL, &js), ==, 0);
    CHECK_INT(js.n, ==, 0);
    sched_jobs_free(&js);
    /* A new schedule starts it again. */
    put(f.s, "e", "", SCHED_EVERY, "60", now);
    j = one(f.s, "e", "", &keep);
    CHECK_INT(j.next_run, ==, now + 60);
    sched_jobs_free(&keep);
    u_db_close(&f);
}

void test_sched_finish_lost(void)
{
    u_db f;
    u_db_open(&f);
    int64_t t = 1800000000;
    sched_policy pol = {5, 30, 3600, CST, false};
    put(f.s, "a", "", SCHED_AFTER, "0", t);
    sched_jobs js, keep;
    CHECK_INT(sched_claim(f.s, t, "w", 60, 8, NULL, NULL, &js), ==, 0);
    int64_t id = js.v[0].id;
    sched_jobs_free(&js);
    /* Rescheduled while it runs (the job set itself again). */
    put(f.s, "a", "", SCHED_AFTER, "500", t + 1);
    sched_outcome out;
    int64_t when;
    CHECK_INT(sched_finish(f.s, id, "w", t + 2, NULL, &pol, &out, &when), ==, 0);
    CHECK_INT(out, ==, SCHED_LOST);
    sched_job j = one(f.s, "a", "", &keep);
    CHECK_INT(j.next_run, ==, t + 501);
    CHECK_STR(j.last_status, "ok");
    sched_jobs_free(&keep);
    /* Released unrun: due again at once for anyone. */
    CHECK_INT(sched_claim(f.s, t + 501, "w", 60, 8, NULL, NULL, &js), ==, 0);
    sched_jobs_free(&js);
    CHECK_INT(sched_release(f.s, id, "other"), ==, 0); /* not its lease: nothing */
    CHECK_INT(sched_claim(f.s, t + 502, "v", 60, 8, NULL, NULL, &js), ==, 0);
    CHECK_INT(js.n, ==, 0);
    CHECK_INT(sched_release(f.s, id, "w"), ==, 0);
    CHECK_INT(sched_claim(f.s, t + 502, "v", 60, 8, NULL, NULL, &js), ==, 0);
    CHECK_INT(js.n, ==, 1);
    sched_jobs_free(&js);
    u_db_close(&f);
}

void test_sched_cancel_prune(void)
{
    u_db f;
    u_db_open(&f);
    int64_t t = 1800000000;
    CHECK_INT(sched_put(f.s, "p", "keep", "", SCHED_EVERY, "60", "null", 4, t + 60, true, t), ==,
              0);
    CHECK_INT(sched_put(f.s, "p", "gone", "", SCHED_EVERY, "60", "null", 4, t + 60, true, t), ==,
              0);
    put(f.s, "gone", "k", SCHED_AFTER, "5", t); /* not declared: kept */
    const char *names[] = {"keep"};
    CHECK_INT(sched_prune_declared(f.s, "p", names, 1), ==, 0);
    sched_jobs js;
    CHECK_INT(sched_list(f.s, "p", NULL, NULL, &js), ==, 0);
    CHECK_INT(js.n, ==, 2);
    CHECK_STR(js.v[0].name, "gone");
    CHECK_STR(js.v[0].key, "k");
    CHECK_STR(js.v[1].name, "keep");
    sched_jobs_free(&js);
    bool found;
    CHECK_INT(sched_cancel(f.s, "p", "gone", "k", &found), ==, 0);
    CHECK(found);
    CHECK_INT(sched_cancel(f.s, "p", "gone", "k", &found), ==, 0);
    CHECK(!found);
    u_db_close(&f);
}
