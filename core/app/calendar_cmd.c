#include "app/app.h"
#include "base/base.h"
#include "calendar/calendar.h"
#include "store/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int cal__usage(void)
{
    fprintf(stderr, "usage: parkhost calendar set DATE holiday|workday [NAME] [settings]\n"
                    "       parkhost calendar clear DATE [settings]\n"
                    "       parkhost calendar list [YEAR] [settings]\n"
                    "       parkhost calendar add DATE N [settings]   (N working days later)\n");
    return 2;
}

/* The center keeps the calendar: public holidays and the weekend days
 * worked instead (调休), in the site's database. */
int app_calendar(int argc, char **argv)
{
    int npos = 0;
    while (npos < argc && strncmp(argv[npos], "--", 2) != 0)
        npos++;
    if (npos < 1) return cal__usage();
    ph_conf c;
    char err[1024];
    if (conf_load(&c, argc - npos, argv + npos, err, sizeof err)) {
        fprintf(stderr, "parkhost calendar: %s\n", err);
        conf_free(&c);
        return 2;
    }
    store *s = NULL;
    int status = 0;
    if (store_open(&s, c.db, err, sizeof err) ||
        store_migrate(s, "core", c.sql_dir, NULL, NULL, err, sizeof err)) {
        fprintf(stderr, "parkhost calendar: %s\n", err);
        status = 1;
        goto out;
    }
    const char *cmd = argv[0];
    int64_t day;
    if (!strcmp(cmd, "list") && npos <= 2) {
        sqlite3_stmt *st = NULL;
        sqlite3_prepare_v2(store_db(s),
                           "SELECT day, kind, name FROM park_calendar WHERE ?1 IS NULL OR "
                           "substr(day, 1, 4) = ?1 ORDER BY day",
                           -1, &st, NULL);
        if (npos == 2) sqlite3_bind_text(st, 1, argv[1], -1, SQLITE_STATIC);
        while (sqlite3_step(st) == SQLITE_ROW)
            printf("%s  %-8s %s\n", sqlite3_column_text(st, 0), sqlite3_column_text(st, 1),
                   sqlite3_column_text(st, 2));
        sqlite3_finalize(st);
    } else if (npos >= 2 && calendar_parse(argv[1], &day) != 0) {
        fprintf(stderr, "parkhost calendar: '%s' is not a date YYYY-MM-DD\n", argv[1]);
        status = 2;
    } else if (!strcmp(cmd, "set") && (npos == 3 || npos == 4)) {
        if (calendar_set(s, day, argv[2], npos == 4 ? argv[3] : "")) {
            fprintf(stderr, "parkhost calendar: the kind is holiday or workday, not '%s'\n",
                    argv[2]);
            status = 2;
        }
    } else if (!strcmp(cmd, "clear") && npos == 2) {
        status = calendar_set(s, day, NULL, NULL) ? 1 : 0;
    } else if (!strcmp(cmd, "add") && npos == 3) {
        int64_t out;
        char d[CALENDAR_DATE_MAX];
        if (calendar_add_working(s, day, atoll(argv[2]), &out)) {
            fprintf(stderr, "parkhost calendar: cannot count %s working days\n", argv[2]);
            status = 1;
        } else {
            calendar_format(out, d);
            printf("%s\n", d);
        }
    } else {
        status = cal__usage();
    }
out:
    store_close(s);
    conf_free(&c);
    return status;
}
