/* Unit tests of core/audit: entries recorded and listed newest first with
 * filters, and the table refusing to be changed. A real SQLite file. */
#include <stdio.h>
#include <string.h>

#include "audit/audit.h"
#include "base/base.h"
#include "store/store.h"
#include "unit.h"

static void collect(void *ud, const audit_entry *e)
{
    char *out = ud;
    size_t n = strlen(out);
    snprintf(out + n, 1024 - n, "%lld %s %s %s %s %s|", (long long)e->at, e->actor, e->action,
             e->object, e->before ? e->before : "-", e->after ? e->after : "-");
}

void test_audit_record_list(void)
{
    u_db f;
    u_db_open(&f);
    audit_entry a = {
        0, 100, "cli:root", 0, "", "user.add", "user:li", NULL, "{\"role\":\"editor\"}"};
    audit_entry b = {0,
                     200,
                     "user:li",
                     1,
                     "10.0.0.1",
                     "survey.close",
                     "survey:42",
                     "{\"open\":true}",
                     "{\"open\":false}"};
    audit_entry c = {0, 300, "user:li", 1, "10.0.0.1", "auth.logout", "user:li", NULL, NULL};
    CHECK_INT(audit_record(f.s, &a), ==, 0);
    CHECK_INT(audit_record(f.s, &b), ==, 0);
    CHECK_INT(audit_record(f.s, &c), ==, 0);
    char out[1024] = "";
    audit_filter all = {0, NULL, NULL, 0, 0};
    CHECK_INT(audit_each(f.s, &all, collect, out), ==, 0);
    CHECK_STR(out, "300 user:li auth.logout user:li - -|"
                   "200 user:li survey.close survey:42 {\"open\":true} {\"open\":false}|"
                   "100 cli:root user.add user:li - {\"role\":\"editor\"}|");
    out[0] = 0;
    audit_filter by = {150, "user:li", "survey.", 0, 0};
    CHECK_INT(audit_each(f.s, &by, collect, out), ==, 0);
    CHECK_STR(out, "200 user:li survey.close survey:42 {\"open\":true} {\"open\":false}|");
    out[0] = 0;
    audit_filter one = {0, NULL, NULL, 1, 0};
    CHECK_INT(audit_each(f.s, &one, collect, out), ==, 0);
    CHECK_STR(out, "300 user:li auth.logout user:li - -|");
    /* The next page: entries older than the last one shown (id 3). */
    out[0] = 0;
    audit_filter next = {0, NULL, NULL, 1, 3};
    CHECK_INT(audit_each(f.s, &next, collect, out), ==, 0);
    CHECK_STR(out, "200 user:li survey.close survey:42 {\"open\":true} {\"open\":false}|");
    /* Append-only: no update, no delete, whoever asks. */
    char *msg = NULL;
    CHECK_INT(sqlite3_exec(store_db(f.s), "UPDATE park_audit SET actor = 'x'", NULL, NULL, &msg),
              !=, SQLITE_OK);
    CHECK(msg && strstr(msg, "append-only"));
    sqlite3_free(msg);
    msg = NULL;
    CHECK_INT(sqlite3_exec(store_db(f.s), "DELETE FROM park_audit", NULL, NULL, &msg), !=,
              SQLITE_OK);
    CHECK(msg && strstr(msg, "append-only"));
    sqlite3_free(msg);
    u_db_close(&f);
}
