#include "sched/sched.h"
#include "base/base.h"
#include "calendar/calendar.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum {
    SCHED__CRON_YEARS = 8,         /* how far sched_cron_next looks */
    SCHED__CLAIM_CANDIDATES = 256, /* due rows read per claim */
};

/* ---- cron --------------------------------------------------------------- */

typedef struct {
    const char *name;
    int lo, hi;
    const char *const *words; /* names for lo.. (month, weekday), or NULL */
} sched__field;

static const char *const sched__months[] = {"jan", "feb", "mar", "apr", "may", "jun", "jul",
                                            "aug", "sep", "oct", "nov", "dec", NULL};
static const char *const sched__days[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat", NULL};

static const sched__field sched__fields[5] = {
    {"minute", 0, 59, NULL},
    {"hour", 0, 23, NULL},
    {"day of month", 1, 31, NULL},
    {"month", 1, 12, sched__months},
    {"day of week", 0, 7, sched__days},
};

/* A number or a name at *p; advances *p. */
static int sched__value(const sched__field *f, const char **p, int *v)
{
    const char *s = *p;
    if (isdigit((unsigned char)*s)) {
        long n = 0;
        while (isdigit((unsigned char)*s) && n < 1000)
            n = n * 10 + (*s++ - '0');
        *v = (int)n;
        *p = s;
        return 0;
    }
    for (int i = 0; f->words && f->words[i]; i++) {
        if (strncasecmp(s, f->words[i], 3) == 0 && !isalpha((unsigned char)s[3])) {
            *v = f->lo + i;
            *p = s + 3;
            return 0;
        }
    }
    return PH_EINVAL;
}

/* One field (text [s, e)) into bits. */
static int sched__field_parse(const sched__field *f, int idx, const char *s, const char *e,
                              uint64_t *bits, bool *star, char *why, size_t whylen)
{
    *bits = 0;
    *star = *s == '*';
    const char *p = s;
    while (p < e) {
        int lo, hi, step = 1;
        const char *item = p;
        if (*p == '*') {
            lo = f->lo;
            hi = f->hi;
            p++;
        } else {
            if (sched__value(f, &p, &lo)) goto bad;
            hi = lo;
            if (*p == '-') {
                p++;
                if (sched__value(f, &p, &hi)) goto bad;
            }
        }
        if (*p == '/') {
            p++;
            if (sched__value(&(sched__field){"", 0, 0, NULL}, &p, &step) || step < 1) goto bad;
            if (item[0] != '*' && hi == lo) hi = f->hi; /* "5/15": from 5 to the end */
        }
        if (p < e && *p != ',') goto bad;
        if (lo < f->lo || hi > f->hi || lo > hi) {
            snprintf(why, whylen, "field %d (%s): %.*s is out of range %d-%d", idx + 1, f->name,
                     (int)(p - item), item, f->lo, f->hi);
            return PH_EINVAL;
        }
        if (step > f->hi - f->lo + 1) {
            snprintf(why, whylen, "field %d (%s): step %d is larger than the range", idx + 1,
                     f->name, step);
            return PH_EINVAL;
        }
        for (int v = lo; v <= hi; v += step)
            *bits |= 1ULL << v;
        if (p < e) {
            p++;
            if (p == e) goto bad; /* a trailing comma */
        }
        continue;
    bad:
        snprintf(why, whylen, "field %d (%s): cannot read '%.*s'", idx + 1, f->name, (int)(e - s),
                 s);
        return PH_EINVAL;
    }
    return 0;
}

int sched_cron_parse(const char *expr, sched_cron *out, char *why, size_t whylen)
{
    static const struct {
        const char *name, *expr;
    } shorthand[] = {
        {"@yearly", "0 0 1 1 *"}, {"@annually", "0 0 1 1 *"}, {"@monthly", "0 0 1 * *"},
        {"@weekly", "0 0 * * 0"}, {"@daily", "0 0 * * *"},    {"@midnight", "0 0 * * *"},
        {"@hourly", "0 * * * *"},
    };
    memset(out, 0, sizeof *out);
    while (*expr == ' ' || *expr == '\t')
        expr++;
    if (*expr == '@') {
        size_t n = strcspn(expr, " \t");
        for (size_t i = 0; i < sizeof shorthand / sizeof shorthand[0]; i++)
            if (strlen(shorthand[i].name) == n && strncasecmp(expr, shorthand[i].name, n) == 0 &&
                expr[n + strspn(expr + n, " \t")] == 0)
                return sched_cron_parse(shorthand[i].expr, out, why, whylen);
        snprintf(why, whylen, "unknown shorthand '%.*s'", (int)n, expr);
        return PH_EINVAL;
    }
    uint64_t bits[5];
    bool star[5];
    const char *p = expr;
    for (int i = 0; i < 5; i++) {
        while (*p == ' ' || *p == '\t')
            p++;
        const char *e = p + strcspn(p, " \t");
        if (e == p) {
            snprintf(why, whylen,
                     "a cron expression has five fields (minute hour day-of-month month "
                     "day-of-week), this one %d",
                     i);
            return PH_EINVAL;
        }
        if (i == 4 && e - p == 7 && strncasecmp(p, "workday", 7) == 0) {
            bits[i] = 0x7f; /* every day; the runner skips the days off */
            star[i] = true;
            out->workday = true;
            p = e;
            continue;
        }
        int rc = sched__field_parse(&sched__fields[i], i, p, e, &bits[i], &star[i], why, whylen);
        if (rc) return rc;
        p = e;
    }
    while (*p == ' ' || *p == '\t')
        p++;
    if (*p) {
        snprintf(why, whylen,
                 "a cron expression has five fields (minute hour day-of-month month "
                 "day-of-week), this one more: '%s'",
                 p);
        return PH_EINVAL;
    }
    out->minute = bits[0];
    out->hour = (uint32_t)bits[1];
    out->dom = (uint32_t)bits[2];
    out->month = (uint16_t)bits[3];
    out->dow = (uint8_t)((bits[4] | (bits[4] >> 7)) & 0x7f); /* 7 is Sunday too */
    out->dom_star = star[2];
    out->dow_star = star[4];
    return 0;
}

static bool sched__day_matches(const sched_cron *c, int64_t day, int d)
{
    bool dom = (c->dom >> d) & 1, dow = (c->dow >> calendar_weekday(day)) & 1;
    if (c->dom_star || c->dow_star) return dom && dow;
    return dom || dow;
}

static int64_t sched__floor_div(int64_t a, int64_t b)
{
    return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

int sched_cron_next(const sched_cron *c, int64_t after, int offset, int64_t *next)
{
    /* Walk local minutes, skipping whole months, days and hours that
     * cannot match. */
    int64_t t = (sched__floor_div(after + offset, 60) + 1) * 60; /* local seconds */
    int64_t limit = t + (int64_t)SCHED__CRON_YEARS * 366 * 86400;
    while (t < limit) {
        int64_t day = sched__floor_div(t, 86400);
        int64_t y;
        int m, d;
        calendar_civil(day, &y, &m, &d);
        int64_t sec = t - day * 86400;
        int h = (int)(sec / 3600), mi = (int)(sec % 3600 / 60);
        if (!((c->month >> m) & 1)) {
            t = calendar_days(m == 12 ? y + 1 : y, m == 12 ? 1 : m + 1, 1) * 86400;
            continue;
        }
        if (!sched__day_matches(c, day, d)) {
            t = (day + 1) * 86400;
            continue;
        }
        if (!((c->hour >> h) & 1)) {
            t = day * 86400 + (int64_t)(h + 1) * 3600;
            continue;
        }
        if (!((c->minute >> mi) & 1)) {
            t += 60;
            continue;
        }
        *next = t - offset;
        return 0;
    }
    return PH_ENOTFOUND;
}

/* ---- local time --------------------------------------------------------- */

/* n digits at s into *v. */
static bool sched__digits(const char *s, int n, int *v)
{
    *v = 0;
    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)s[i])) return false;
        *v = *v * 10 + (s[i] - '0');
    }
    return true;
}

int sched_time_parse(const char *s, int offset, int64_t *t)
{
    if (!s || strlen(s) < 10) return PH_EINVAL;
    char date[11];
    memcpy(date, s, 10);
    date[10] = 0;
    int64_t day;
    if (calendar_parse(date, &day)) return PH_EINVAL;
    const char *p = s + 10;
    int h = 0, mi = 0, sec = 0;
    if (*p == ' ' || *p == 'T') {
        p++;
        if (!sched__digits(p, 2, &h) || p[2] != ':' || !sched__digits(p + 3, 2, &mi))
            return PH_EINVAL;
        p += 5;
        if (*p == ':') {
            if (!sched__digits(p + 1, 2, &sec)) return PH_EINVAL;
            p += 3;
        }
        if (h > 23 || mi > 59 || sec > 59) return PH_EINVAL;
        if (*p == 'Z' && !p[1]) {
            offset = 0;
            p++;
        } else if ((*p == '+' || *p == '-') && p[1]) {
            int oh, om;
            const char *q = p + 1;
            if (!sched__digits(q, 2, &oh)) return PH_EINVAL;
            q += 2;
            if (*q == ':') q++;
            if (!sched__digits(q, 2, &om) || q[2] || oh > 14 || om > 59) return PH_EINVAL;
            offset = (*p == '-' ? -1 : 1) * (oh * 3600 + om * 60);
            p = q + 2;
        }
    }
    if (*p) return PH_EINVAL;
    *t = day * 86400 + h * 3600 + mi * 60 + sec - offset;
    return 0;
}

void sched_time_format(int64_t t, int offset, char *out)
{
    int64_t local = t + offset;
    int64_t day = sched__floor_div(local, 86400);
    int64_t sec = local - day * 86400;
    char d[CALENDAR_DATE_MAX];
    calendar_format(day, d);
    snprintf(out, SCHED_TIME_MAX, "%s %02u:%02u:%02u", d, (unsigned char)(sec / 3600),
             (unsigned char)(sec % 3600 / 60), (unsigned char)(sec % 60));
}

/* ---- jobs --------------------------------------------------------------- */

static const char *const sched__kinds[] = {"after", "at", "every", "cron"};

const char *sched_kind_name(sched_kind k)
{
    return sched__kinds[k];
}

int sched_kind_parse(const char *name, sched_kind *k)
{
    for (int i = 0; i < 4; i++)
        if (name && strcmp(name, sched__kinds[i]) == 0) return *k = (sched_kind)i, 0;
    return PH_EINVAL;
}

static bool sched__seconds(const char *spec, int64_t *v)
{
    char *end;
    long long n = strtoll(spec, &end, 10);
    if (end == spec || *end || n < 0) return false;
    *v = n;
    return true;
}

int sched_first_run(sched_kind kind, const char *spec, int64_t now, int offset, int64_t *first,
                    char *why, size_t whylen)
{
    int64_t v;
    switch (kind) {
    case SCHED_AFTER:
    case SCHED_AT:
        if (!sched__seconds(spec, &v)) break;
        *first = kind == SCHED_AFTER ? now + v : v;
        return 0;
    case SCHED_EVERY:
        if (!sched__seconds(spec, &v) || v < 1) break;
        *first = now + v;
        return 0;
    case SCHED_CRON: {
        sched_cron c;
        if (sched_cron_parse(spec, &c, why, whylen)) return PH_EINVAL;
        if (sched_cron_next(&c, now, offset, first)) {
            snprintf(why, whylen, "'%s' matches no time in the next %d years", spec,
                     SCHED__CRON_YEARS);
            return PH_EINVAL;
        }
        return 0;
    }
    }
    snprintf(why, whylen, "bad %s spec '%s'", sched_kind_name(kind), spec);
    return PH_EINVAL;
}

/* A job's identity as parameters 1, 2 and 3 (NULL binds NULL). */
static void sched__bind_job(sqlite3_stmt *st, const char *plugin, const char *name, const char *key)
{
    sqlite3_bind_text(st, 1, plugin, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, key, -1, SQLITE_STATIC);
}

static int sched__done(sqlite3_stmt *st, int rc)
{
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : PH_EDB;
}

int sched_put(store *s, const char *plugin, const char *name, const char *key, sched_kind kind,
              const char *spec, const char *payload, size_t payload_len, int64_t first,
              bool declared, int64_t now)
{
    sqlite3_stmt *st = store_prepare(
        s, "INSERT INTO park_jobs (plugin, name, key, kind, spec, payload, next_run, anchor,"
           " declared, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7, ?8, ?9)"
           " ON CONFLICT (plugin, name, key) DO UPDATE SET"
           "  payload = excluded.payload, declared = excluded.declared,"
           "  next_run = CASE WHEN park_jobs.stopped"
           "   AND park_jobs.kind = excluded.kind AND park_jobs.spec = excluded.spec THEN NULL"
           "   WHEN park_jobs.kind IN ('every', 'cron')"
           "   AND park_jobs.kind = excluded.kind AND park_jobs.spec = excluded.spec"
           "   AND park_jobs.next_run IS NOT NULL THEN park_jobs.next_run"
           "   ELSE excluded.next_run END,"
           "  anchor = CASE WHEN park_jobs.kind IN ('every', 'cron')"
           "   AND park_jobs.kind = excluded.kind AND park_jobs.spec = excluded.spec"
           "   AND park_jobs.next_run IS NOT NULL THEN park_jobs.anchor"
           "   ELSE excluded.anchor END,"
           "  lease_owner = CASE WHEN park_jobs.kind IN ('every', 'cron')"
           "   AND park_jobs.kind = excluded.kind AND park_jobs.spec = excluded.spec"
           "   THEN park_jobs.lease_owner END,"
           "  lease_until = CASE WHEN park_jobs.kind IN ('every', 'cron')"
           "   AND park_jobs.kind = excluded.kind AND park_jobs.spec = excluded.spec"
           "   THEN park_jobs.lease_until END,"
           "  attempts = CASE WHEN park_jobs.kind = excluded.kind"
           "   AND park_jobs.spec = excluded.spec THEN park_jobs.attempts ELSE 0 END,"
           "  stopped = park_jobs.stopped AND park_jobs.kind = excluded.kind"
           "   AND park_jobs.spec = excluded.spec,"
           "  kind = excluded.kind, spec = excluded.spec");
    if (!st) return PH_EDB;
    sched__bind_job(st, plugin, name, key);
    sqlite3_bind_text(st, 4, sched_kind_name(kind), -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, spec, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 6, payload, (int)payload_len, SQLITE_STATIC);
    sqlite3_bind_int64(st, 7, first);
    sqlite3_bind_int(st, 8, declared);
    sqlite3_bind_int64(st, 9, now);
    return sched__done(st, sqlite3_step(st));
}

int sched_cancel(store *s, const char *plugin, const char *name, const char *key, bool *found)
{
    sqlite3_stmt *st =
        store_prepare(s, "DELETE FROM park_jobs WHERE plugin = ? AND name = ? AND key = ?");
    if (!st) return PH_EDB;
    sched__bind_job(st, plugin, name, key);
    int rc = sqlite3_step(st);
    *found = sqlite3_changes(store_db(s)) > 0;
    return sched__done(st, rc);
}

int sched_prune_declared(store *s, const char *plugin, const char *const *names, size_t n)
{
    sched_jobs js = {0};
    int rc = sched_list(s, plugin, NULL, NULL, &js);
    for (size_t i = 0; !rc && i < js.n; i++) {
        if (!js.v[i].declared) continue;
        bool keep = false;
        for (size_t k = 0; k < n && !keep; k++)
            keep = strcmp(js.v[i].name, names[k]) == 0 && js.v[i].key[0] == 0;
        bool found;
        if (!keep) rc = sched_cancel(s, plugin, js.v[i].name, js.v[i].key, &found);
    }
    sched_jobs_free(&js);
    return rc;
}

void sched_jobs_free(sched_jobs *js)
{
    for (size_t i = 0; i < js->n; i++) {
        sched_job *j = &js->v[i];
        char *strs[] = {j->plugin,  j->name,        j->key,        j->kind,       j->spec,
                        j->payload, j->last_status, j->last_error, j->lease_owner};
        for (size_t k = 0; k < sizeof strs / sizeof strs[0]; k++)
            free(strs[k]);
    }
    free(js->v);
    js->v = NULL;
    js->n = 0;
}

#define SCHED__COLUMNS                                                                             \
    "id, plugin, name, key, kind, spec, payload, next_run, last_run, last_status, last_error,"     \
    " attempts, runs, lease_owner, lease_until, declared, anchor"

static char *sched__text(sqlite3_stmt *st, int i, bool *oom)
{
    if (sqlite3_column_type(st, i) == SQLITE_NULL) return NULL;
    const char *v = (const char *)sqlite3_column_text(st, i);
    char *d = strdup(v ? v : "");
    if (!d) *oom = true;
    return d;
}

/* Append the row (SCHED__COLUMNS) to js. */
static int sched__row(sqlite3_stmt *st, sched_jobs *js)
{
    sched_job *nv = realloc(js->v, (js->n + 1) * sizeof *nv);
    if (!nv) return PH_ENOMEM;
    js->v = nv;
    sched_job *j = &js->v[js->n++];
    memset(j, 0, sizeof *j);
    bool oom = false;
    j->id = sqlite3_column_int64(st, 0);
    j->plugin = sched__text(st, 1, &oom);
    j->name = sched__text(st, 2, &oom);
    j->key = sched__text(st, 3, &oom);
    j->kind = sched__text(st, 4, &oom);
    j->spec = sched__text(st, 5, &oom);
    j->payload = sched__text(st, 6, &oom);
    j->next_run = sqlite3_column_int64(st, 7);
    j->last_run = sqlite3_column_int64(st, 8);
    j->last_status = sched__text(st, 9, &oom);
    j->last_error = sched__text(st, 10, &oom);
    j->attempts = sqlite3_column_int64(st, 11);
    j->runs = sqlite3_column_int64(st, 12);
    j->lease_owner = sched__text(st, 13, &oom);
    j->lease_until = sqlite3_column_int64(st, 14);
    j->declared = sqlite3_column_int(st, 15) != 0;
    j->anchor = sqlite3_column_int64(st, 16);
    return oom ? PH_ENOMEM : 0;
}

int sched_list(store *s, const char *plugin, const char *name, const char *key, sched_jobs *out)
{
    memset(out, 0, sizeof *out);
    sqlite3_stmt *st = store_prepare(s, "SELECT " SCHED__COLUMNS " FROM park_jobs"
                                        " WHERE (?1 IS NULL OR plugin = ?1)"
                                        " AND (?2 IS NULL OR name = ?2)"
                                        " AND (?3 IS NULL OR key = ?3)"
                                        " ORDER BY plugin, name, key");
    if (!st) return PH_EDB;
    sched__bind_job(st, plugin, name, key);
    int rc, err = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW && !err)
        err = sched__row(st, out);
    sqlite3_finalize(st);
    if (!err && rc != SQLITE_DONE) err = PH_EDB;
    if (err) sched_jobs_free(out);
    return err;
}

int sched_claim(store *s, int64_t now, const char *owner, int64_t lease_s, size_t max,
                bool (*runnable)(void *, const char *), void *ud, sched_jobs *out)
{
    memset(out, 0, sizeof *out);
    if (max == 0) return 0;
    /* The candidates first, then each claimed by its own UPDATE that
     * re-checks it is still free: another worker may take one in between. */
    sqlite3_stmt *st = store_prepare(s, "SELECT id, plugin FROM park_jobs WHERE next_run <= ?1"
                                        " AND (lease_until IS NULL OR lease_until <= ?1)"
                                        " ORDER BY next_run LIMIT ?2");
    if (!st) return PH_EDB;
    sqlite3_bind_int64(st, 1, now);
    sqlite3_bind_int(st, 2, SCHED__CLAIM_CANDIDATES);
    int64_t ids[SCHED__CLAIM_CANDIDATES];
    size_t nids = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW && nids < max)
        if (!runnable || runnable(ud, (const char *)sqlite3_column_text(st, 1)))
            ids[nids++] = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE && rc != SQLITE_ROW) return PH_EDB;
    if (!nids) return 0;
    st = store_prepare(s, "UPDATE park_jobs SET lease_owner = ?1, lease_until = ?2 + ?3"
                          " WHERE id = ?4 AND next_run <= ?2"
                          " AND (lease_until IS NULL OR lease_until <= ?2)"
                          " RETURNING " SCHED__COLUMNS);
    if (!st) return PH_EDB;
    /* One transaction (one fsync) for the batch. */
    sqlite3 *db = store_db(s);
    bool tx = sqlite3_get_autocommit(db) &&
              sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) == SQLITE_OK;
    int err = 0;
    for (size_t i = 0; i < nids && !err; i++) {
        sqlite3_bind_text(st, 1, owner, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, now);
        sqlite3_bind_int64(st, 3, lease_s);
        sqlite3_bind_int64(st, 4, ids[i]);
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
            err = sched__row(st, out);
            rc = sqlite3_step(st);
        }
        if (rc != SQLITE_DONE) err = err ? err : PH_EDB;
        sqlite3_reset(st);
    }
    sqlite3_finalize(st);
    if (tx && sqlite3_exec(db, err ? "ROLLBACK" : "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
        err = PH_EDB;
    }
    if (err) sched_jobs_free(out);
    return err;
}

int sched_next_due(store *s, bool (*runnable)(void *, const char *), void *ud, int64_t *due)
{
    sqlite3_stmt *st = store_prepare(
        s, "SELECT plugin, min(CASE WHEN lease_until > next_run THEN lease_until"
           " ELSE next_run END) FROM park_jobs WHERE next_run IS NOT NULL GROUP BY plugin");
    if (!st) return PH_EDB;
    int rc, found = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (runnable && !runnable(ud, (const char *)sqlite3_column_text(st, 0))) continue;
        int64_t t = sqlite3_column_int64(st, 1);
        if (!found || t < *due) *due = t;
        found = 1;
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) return PH_EDB;
    return found ? 0 : PH_ENOTFOUND;
}

/* When a run that ended at `now` is followed: the next regular time of a
 * recurring job, or 0. */
static int64_t sched__regular_next(const sched_job *j, int64_t now, int offset)
{
    sched_kind k;
    if (sched_kind_parse(j->kind, &k)) return 0;
    if (k == SCHED_EVERY) {
        int64_t every;
        if (!sched__seconds(j->spec, &every) || every < 1) return 0;
        /* Keep the phase (retries do not move it); a run missed while
         * down is not run twice. */
        int64_t a = j->anchor ? j->anchor : j->next_run ? j->next_run : now;
        if (a > now) return a;
        return a + ((now - a) / every + 1) * every;
    }
    if (k == SCHED_CRON) {
        sched_cron c;
        char why[128];
        int64_t next;
        if (sched_cron_parse(j->spec, &c, why, sizeof why) ||
            sched_cron_next(&c, now, offset, &next))
            return 0;
        return next;
    }
    return 0;
}

int sched_finish(store *s, int64_t id, const char *owner, int64_t now, const char *error,
                 const sched_policy *pol, sched_outcome *outcome, int64_t *when)
{
    *when = 0;
    *outcome = SCHED_LOST;
    sqlite3 *db = store_db(s);
    store_set_namespace(s, NULL);
    if (!sqlite3_get_autocommit(db) ||
        sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
        return PH_EDB;
    sqlite3_stmt *st = store_prepare(s, "SELECT " SCHED__COLUMNS " FROM park_jobs WHERE id = ?");
    sched_jobs js = {0};
    int rc = st ? 0 : PH_EDB;
    if (!rc) {
        sqlite3_bind_int64(st, 1, id);
        int step = sqlite3_step(st);
        if (step == SQLITE_ROW)
            rc = sched__row(st, &js);
        else if (step != SQLITE_DONE)
            rc = PH_EDB;
        sqlite3_finalize(st);
    }
    if (!rc && js.n == 1) {
        sched_job *j = &js.v[0];
        bool ours = j->lease_owner && strcmp(j->lease_owner, owner) == 0;
        int64_t next = 0, attempts = 0;
        const char *status = error ? "error" : "ok";
        if (!ours) {
            /* Only the outcome: the row belongs to a newer schedule. */
        } else if (!error) {
            next = sched__regular_next(j, now, pol->offset);
            *outcome = SCHED_DONE;
        } else if (j->attempts < pol->retries) {
            attempts = j->attempts + 1;
            int64_t wait = pol->retry_base_s;
            for (int64_t k = 0; k < j->attempts && wait < pol->retry_max_s; k++)
                wait *= 2;
            if (wait > pol->retry_max_s) wait = pol->retry_max_s;
            next = now + wait;
            int64_t regular = sched__regular_next(j, now, pol->offset);
            if (regular && regular < next && !pol->stopped) next = regular, attempts = 0;
            *outcome = SCHED_RETRY;
        } else if (pol->stopped) {
            status = "failed";
            attempts = j->attempts + 1;
            next = 0;
            *outcome = SCHED_GAVE_UP;
        } else {
            status = "failed";
            next = sched__regular_next(j, now, pol->offset);
            *outcome = SCHED_GAVE_UP;
        }
        st = store_prepare(
            s, ours ? "UPDATE park_jobs SET last_run = ?2, last_status = ?3, last_error = ?4,"
                      " runs = runs + 1, next_run = ?5, attempts = ?6, lease_owner = NULL,"
                      " lease_until = NULL, stopped = ?7 WHERE id = ?1"
                    : "UPDATE park_jobs SET last_run = ?2, last_status = ?3, last_error = ?4,"
                      " runs = runs + 1 WHERE id = ?1");
        if (!st) {
            rc = PH_EDB;
        } else {
            sqlite3_bind_int64(st, 1, id);
            sqlite3_bind_int64(st, 2, now);
            sqlite3_bind_text(st, 3, status, -1, SQLITE_STATIC);
            sqlite3_bind_text(st, 4, error, -1, SQLITE_STATIC);
            if (ours) {
                if (next)
                    sqlite3_bind_int64(st, 5, next);
                else
                    sqlite3_bind_null(st, 5);
                sqlite3_bind_int64(st, 6, attempts);
                sqlite3_bind_int(st, 7, *outcome == SCHED_GAVE_UP && pol->stopped);
            }
            rc = sched__done(st, sqlite3_step(st));
        }
        *when = next;
    }
    sched_jobs_free(&js);
    if (!rc && sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK) return 0;
    sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    return PH_EDB;
}

int sched_renew(store *s, int64_t id, const char *owner, int64_t until, bool *ours)
{
    sqlite3_stmt *st = store_prepare(s, "UPDATE park_jobs SET lease_until = ?3"
                                        " WHERE id = ?1 AND lease_owner = ?2");
    if (!st) return PH_EDB;
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_text(st, 2, owner, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, until);
    int rc = sqlite3_step(st);
    *ours = sqlite3_changes(store_db(s)) > 0;
    return sched__done(st, rc);
}

int sched_workday_skip(store *s, sched_job *j, const char *owner, int64_t now, int offset,
                       bool *skip, int64_t *next)
{
    *skip = false;
    *next = 0;
    sched_kind k;
    sched_cron c;
    char why[128];
    if (sched_kind_parse(j->kind, &k) || k != SCHED_CRON ||
        sched_cron_parse(j->spec, &c, why, sizeof why) || !c.workday)
        return 0;
    /* From the time it was due (not the time it is claimed: a run missed
     * over a holiday is claimed later) through the times missed since:
     * one of them on a working day is a missed run, which runs once. */
    int64_t t = j->next_run ? j->next_run : now;
    for (int i = 0; i < 1000; i++) {
        bool working;
        if (calendar_is_working(s, sched__floor_div(t + offset, 86400), &working)) return PH_EDB;
        if (working) {
            j->next_run = t; /* the run is for the working day */
            return 0;
        }
        if (sched_cron_next(&c, t, offset, &t)) {
            t = 0;
            break;
        }
        if (t > now) break;
    }
    *skip = true;
    *next = t > now ? t : sched__regular_next(j, now, offset);
    sqlite3_stmt *st = store_prepare(s, "UPDATE park_jobs SET next_run = ?, lease_owner = NULL,"
                                        " lease_until = NULL WHERE id = ? AND lease_owner = ?");
    if (!st) return PH_EDB;
    if (*next) sqlite3_bind_int64(st, 1, *next);
    sqlite3_bind_int64(st, 2, j->id);
    sqlite3_bind_text(st, 3, owner, -1, SQLITE_STATIC);
    return sched__done(st, sqlite3_step(st));
}

int sched_release(store *s, int64_t id, const char *owner)
{
    sqlite3_stmt *st = store_prepare(s, "UPDATE park_jobs SET lease_owner = NULL,"
                                        " lease_until = NULL WHERE id = ? AND lease_owner = ?");
    if (!st) return PH_EDB;
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_text(st, 2, owner, -1, SQLITE_STATIC);
    return sched__done(st, sqlite3_step(st));
}
