#include "calendar/calendar.h"
#include "base/base.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { CALENDAR__MAX_SPAN = 366 * 100 }; /* days one call may walk */

/* Days since 1970-01-01 of a proleptic Gregorian date (the civil-date
 * algorithm: eras of 400 years, years starting in March). */
int64_t calendar_days(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

void calendar_civil(int64_t z, int64_t *y, int *m, int *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

int calendar_parse(const char *s, int64_t *day)
{
    if (!s || strlen(s) != 10 || s[4] != '-' || s[7] != '-') return PH_EINVAL;
    for (int i = 0; i < 10; i++)
        if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9')) return PH_EINVAL;
    int64_t y = atoi(s);
    int m = atoi(s + 5), d = atoi(s + 8);
    if (m < 1 || m > 12 || d < 1 || d > 31) return PH_EINVAL;
    int64_t z = calendar_days(y, m, d);
    int64_t y2;
    int m2, d2;
    calendar_civil(z, &y2, &m2, &d2);
    if (y2 != y || m2 != m || d2 != d) return PH_EINVAL; /* 2026-02-30 */
    *day = z;
    return 0;
}

void calendar_format(int64_t day, char *out)
{
    int64_t y;
    int m, d;
    calendar_civil(day, &y, &m, &d);
    snprintf(out, CALENDAR_DATE_MAX, "%04lld-%02u-%02u", (long long)y, (unsigned char)m,
             (unsigned char)d);
}

/* 0 Sunday .. 6 Saturday; 1970-01-01 was a Thursday. */
int calendar_weekday(int64_t day)
{
    return (int)(((day % 7) + 7 + 4) % 7);
}

/* The park_calendar rows of [from, to], as kinds by day offset: 'h', 'w'
 * or 0. Returns a malloc'd array of to-from+1 bytes, or NULL (PH_EDB). */
static char *calendar__window(store *s, int64_t from, int64_t to)
{
    char *k = calloc((size_t)(to - from + 1), 1);
    if (!k) return NULL;
    char a[CALENDAR_DATE_MAX], b[CALENDAR_DATE_MAX];
    calendar_format(from, a);
    calendar_format(to, b);
    sqlite3 *db = store_db(s);
    sqlite3_stmt *st = NULL;
    store_set_namespace(s, NULL);
    if (sqlite3_prepare_v2(db, "SELECT day, kind FROM park_calendar WHERE day BETWEEN ? AND ?", -1,
                           &st, NULL) != SQLITE_OK) {
        free(k);
        return NULL;
    }
    sqlite3_bind_text(st, 1, a, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, b, -1, SQLITE_STATIC);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t day;
        if (calendar_parse((const char *)sqlite3_column_text(st, 0), &day) == 0 && day >= from &&
            day <= to)
            k[day - from] = ((const char *)sqlite3_column_text(st, 1))[0];
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        free(k);
        return NULL;
    }
    return k;
}

static bool calendar__working(int64_t day, char kind)
{
    if (kind == 'h') return false;
    if (kind == 'w') return true;
    int wd = calendar_weekday(day);
    return wd != 0 && wd != 6;
}

int calendar_is_working(store *s, int64_t day, bool *working)
{
    char *k = calendar__window(s, day, day);
    if (!k) return PH_EDB;
    *working = calendar__working(day, k[0]);
    free(k);
    return 0;
}

int calendar_add_working(store *s, int64_t day, int64_t n, int64_t *out)
{
    int64_t dir = n < 0 ? -1 : 1, left = n < 0 ? -n : n;
    if (left > CALENDAR__MAX_SPAN / 2) return PH_EINVAL;
    int64_t d = day;
    while (left > 0) {
        /* Look at a window ahead at a time: working days are at least 2/7
         * of all days but for long holidays. */
        int64_t span = left * 2 + 40;
        int64_t from = dir > 0 ? d + 1 : d - span, to = dir > 0 ? d + span : d - 1;
        char *k = calendar__window(s, from, to);
        if (!k) return PH_EDB;
        for (int64_t i = 0; i < span && left > 0; i++) {
            d += dir;
            if (calendar__working(d, k[d - from])) left--;
        }
        free(k);
        if (llabs(d - day) > CALENDAR__MAX_SPAN) return PH_EINVAL;
    }
    *out = d;
    return 0;
}

int calendar_working_between(store *s, int64_t a, int64_t b, int64_t *out)
{
    int64_t sign = 1;
    if (b < a) {
        int64_t t = a;
        a = b;
        b = t;
        sign = -1;
    }
    if (b - a > CALENDAR__MAX_SPAN) return PH_EINVAL;
    *out = 0;
    if (a == b) return 0;
    char *k = calendar__window(s, a + 1, b);
    if (!k) return PH_EDB;
    int64_t n = 0;
    for (int64_t d = a + 1; d <= b; d++)
        n += calendar__working(d, k[d - a - 1]);
    free(k);
    *out = sign * n;
    return 0;
}

int calendar_set(store *s, int64_t day, const char *kind, const char *name)
{
    if (kind && strcmp(kind, "holiday") != 0 && strcmp(kind, "workday") != 0) return PH_EINVAL;
    char d[CALENDAR_DATE_MAX];
    calendar_format(day, d);
    sqlite3 *db = store_db(s);
    sqlite3_stmt *st = NULL;
    store_set_namespace(s, NULL);
    const char *sql = kind ? "INSERT INTO park_calendar (day, kind, name) VALUES (?, ?, ?)"
                             " ON CONFLICT (day) DO UPDATE SET kind = excluded.kind,"
                             " name = excluded.name"
                           : "DELETE FROM park_calendar WHERE day = ?";
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) return PH_EDB;
    sqlite3_bind_text(st, 1, d, -1, SQLITE_STATIC);
    if (kind) {
        sqlite3_bind_text(st, 2, kind, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, name ? name : "", -1, SQLITE_STATIC);
    }
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : PH_EDB;
}

/* One line of a calendar file, NUL-terminated and trimmed, into its parts;
 * returns NULL or why it is not one. */
static const char *cal__line(char *line, int64_t *from, int64_t *to, const char **kind,
                             const char **name)
{
    char *sp = strchr(line, ' ');
    if (!sp) return "应为“日期 holiday|workday 名称”";
    *sp = 0;
    char *range = strstr(line, "..");
    if (range) *range = 0;
    if (calendar_parse(line, from)) return "日期应为“年-月-日”格式的真实日期，如 2026-10-01";
    if (range && calendar_parse(range + 2, to))
        return "区间的结束日期应为“年-月-日”格式，如 2026-10-07";
    if (!range) *to = *from;
    if (*to < *from || *to - *from > 60) return "区间应从早到晚，且不超过 60 天";
    char *k = sp + 1;
    while (*k == ' ')
        k++;
    char *end = strchr(k, ' ');
    *name = "";
    if (end) {
        *end = 0;
        *name = end + 1;
        while (**name == ' ')
            (*name)++;
    }
    if (strcmp(k, "holiday") && strcmp(k, "workday"))
        return "类型应为 holiday（放假）或 workday（调休上班）";
    *kind = k;
    if (strlen(*name) > 100) return "名称最多 100 字节";
    return NULL;
}

int calendar_import(store *s, const char *text, size_t len, int *ndays, char **source, char *err,
                    size_t errlen)
{
    *ndays = 0;
    if (source) *source = NULL;
    if (store_savepoint(s, "calendar")) return PH_EDB;
    int rc = 0, lineno = 0;
    char *src = NULL;
    for (size_t at = 0; at < len && !rc;) {
        size_t n = 0;
        while (at + n < len && text[at + n] != '\n')
            n++;
        lineno++;
        char line[512];
        const char *why = NULL;
        if (n >= sizeof line) {
            why = "这一行太长";
        } else {
            memcpy(line, text + at, n);
            line[n] = 0;
            char *b = line, *e = line + n;
            while (*b == ' ' || *b == '\t')
                b++;
            while (e > b && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
                *--e = 0;
            for (char *p = b; *p; p++)
                if (*p == '\t') *p = ' ';
            if (*b == 0 || *b == '#') {
                /* blank or a comment */
            } else if (!strncmp(b, "source:", 7)) {
                const char *v = b + 7;
                while (*v == ' ')
                    v++;
                free(src);
                src = *v ? strdup(v) : NULL;
                if (*v && !src) rc = PH_ENOMEM;
                if (!*v) why = "source: 后应写明依据的通知";
            } else {
                int64_t from, to;
                const char *kind, *name;
                why = cal__line(b, &from, &to, &kind, &name);
                for (int64_t d = from; !why && !rc && d <= to; d++) {
                    if (*ndays >= CALENDAR_IMPORT_MAX_DAYS)
                        why = "一个文件最多 3660 天";
                    else if ((rc = calendar_set(s, d, kind, name)) == 0)
                        (*ndays)++;
                }
            }
        }
        if (why) {
            snprintf(err, errlen, "第 %d 行：%s", lineno, why);
            rc = PH_EINVAL;
        }
        at += n + 1;
    }
    if (!rc && !src) {
        snprintf(err, errlen, "缺少 source: 行（写明依据的通知，如国务院办公厅的放假安排）");
        rc = PH_EINVAL;
    }
    if ((rc = store_release(s, "calendar", rc))) {
        free(src);
        *ndays = 0;
        return rc;
    }
    if (source)
        *source = src;
    else
        free(src);
    return 0;
}
