/* calendar: working days by the park's calendar (holidays and 调休).
 *
 * Provides: dates as day numbers, working-day arithmetic over the
 *           park_calendar table (sql/001_calendar.sql), and its edits.
 * Owns:     nothing; statements are prepared per call on the store's
 *           connection, so edits by another process are seen at once.
 * Uses:     store (SQLite), with no namespace: this is core code.
 *
 * A day is a working day when it is Monday to Friday and not a 'holiday'
 * row, or when it is a 'workday' row (a weekend day worked instead).
 */
#ifndef PH_CALENDAR_H
#define PH_CALENDAR_H

#include "store/store.h"

#include <stdbool.h>
#include <stdint.h>

/* Days since 1970-01-01 of "YYYY-MM-DD"; returns 0 or PH_EINVAL for text
 * that is not a real date. */
int calendar_parse(const char *s, int64_t *day);
/* "YYYY-MM-DD" of a day number into out, CALENDAR_DATE_MAX bytes (room for
 * years beyond four digits, which arithmetic on a far date may reach). */
enum { CALENDAR_DATE_MAX = 48 };
void calendar_format(int64_t day, char *out);
/* The day number of year y, month m (1-12), day d (1-31), proleptic
 * Gregorian; no checks (2026-02-30 is 2026-03-02). And back. */
int64_t calendar_days(int64_t y, int m, int d);
void calendar_civil(int64_t day, int64_t *y, int *m, int *d);
/* 0 Sunday .. 6 Saturday. */
int calendar_weekday(int64_t day);

/* Whether `day` is a working day. Returns 0 or PH_EDB. */
int calendar_is_working(store *s, int64_t day, bool *working);
/* The date n working days after `day` (n >= 0; the day itself does not
 * count, so 0 gives `day`), or before it for n < 0. Returns 0 or PH_EDB. */
int calendar_add_working(store *s, int64_t day, int64_t n, int64_t *out);
/* The working days in (a, b]: after a, up to and including b; negative when
 * b is before a. Returns 0 or PH_EDB. */
int calendar_working_between(store *s, int64_t a, int64_t b, int64_t *out);

/* Record `day` as a 'holiday' or 'workday' with a name, replacing what was
 * recorded for it; kind NULL removes the day's row. Returns 0, PH_EINVAL or
 * PH_EDB. */
int calendar_set(store *s, int64_t day, const char *kind, const char *name);

/* Import a calendar file (README, "The calendar"): lines of
 *   source: <the notice it copies, e.g. 国务院办公厅关于2026年部分节假日安排的通知>
 *   YYYY-MM-DD[..YYYY-MM-DD] holiday|workday [name]
 * with blank lines and '#' comments. The source line is required. Every
 * day is set or, on the first bad line, none (a savepoint): err names the
 * line in Chinese. *ndays counts the days set, *source (may be NULL) gets
 * the source, malloc'd. Returns 0, PH_EINVAL or PH_EDB. */
enum { CALENDAR_IMPORT_MAX_DAYS = 3660 };
int calendar_import(store *s, const char *text, size_t len, int *ndays, char **source, char *err,
                    size_t errlen);

#endif
