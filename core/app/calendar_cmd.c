#include "app/app.h"
#include "base/base.h"
#include "calendar/calendar.h"
#include "store/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int cal__usage(void)
{
    fprintf(stderr,
            "usage: parkhost calendar set DATE holiday|workday [NAME] [settings]\n"
            "       parkhost calendar clear DATE [settings]\n"
            "       parkhost calendar list [YEAR] [settings]\n"
            "       parkhost calendar add DATE N [settings]   (N working days later)\n"
            "       parkhost calendar import FILE [settings]   (README: the calendar file)\n");
    return 2;
}

/* Import a calendar file: all its days or none. */
static int cal__import(store *s, const char *file)
{
    FILE *f = fopen(file, "rb");
    if (!f) {
        fprintf(stderr, "parkhost calendar import: cannot read %s\n", file);
        return 1;
    }
    char *text = NULL;
    size_t len = 0, cap = 0, n;
    char buf[4096];
    while ((n = fread(buf, 1, sizeof buf, f)) > 0) {
        if (len + n > (size_t)1 << 20) break;
        if (len + n > cap) {
            char *more = realloc(text, cap = 2 * (len + n));
            if (!more) break;
            text = more;
        }
        memcpy(text + len, buf, n);
        len += n;
    }
    bool whole = feof(f) && !ferror(f);
    fclose(f);
    if (!whole) {
        fprintf(stderr, "parkhost calendar import: %s is unreadable or larger than 1 MiB\n", file);
        free(text);
        return 1;
    }
    int days;
    char *source, err[512];
    int rc = calendar_import(s, text ? text : "", len, &days, &source, err, sizeof err);
    free(text);
    if (rc) {
        fprintf(stderr, "parkhost calendar import: %s: %s; nothing was imported\n", file,
                rc == PH_EINVAL ? err : "the database cannot be written");
        return rc == PH_EINVAL ? 2 : 1;
    }
    printf("parkhost calendar import: %d day(s) from %s (%s)\n", days, file, source);
    free(source);
    return 0;
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
    } else if (!strcmp(cmd, "import") && npos == 2) {
        status = cal__import(s, argv[1]);
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
