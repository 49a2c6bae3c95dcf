#include "audit/audit.h"
#include "base/base.h"

static void audit__text(sqlite3_stmt *st, int i, const char *v)
{
    if (v)
        sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, i);
}

int audit_record(store *s, const audit_entry *e)
{
    sqlite3_stmt *st = store_prepare(s, "INSERT INTO park_audit (at, actor, user_id, address,"
                                        " action, object, before, after)"
                                        " VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
    if (!st) return PH_EDB;
    sqlite3_bind_int64(st, 1, e->at);
    sqlite3_bind_text(st, 2, e->actor, -1, SQLITE_STATIC);
    if (e->user_id)
        sqlite3_bind_int64(st, 3, e->user_id);
    else
        sqlite3_bind_null(st, 3);
    sqlite3_bind_text(st, 4, e->address ? e->address : "", -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, e->action, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 6, e->object ? e->object : "", -1, SQLITE_STATIC);
    audit__text(st, 7, e->before);
    audit__text(st, 8, e->after);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : PH_EDB;
}

int audit_each(store *s, const audit_filter *f, void (*fn)(void *, const audit_entry *), void *ud)
{
    sqlite3_stmt *st = store_prepare(
        s, "SELECT id, at, actor, coalesce(user_id, 0), address, action, object, before, after"
           " FROM park_audit WHERE at >= ?1 AND (?2 IS NULL OR actor = ?2)"
           " AND (?3 IS NULL OR substr(action, 1, length(?3)) = ?3)"
           " AND (?5 = 0 OR id < ?5) ORDER BY id DESC LIMIT ?4");
    if (!st) return PH_EDB;
    sqlite3_bind_int64(st, 1, f->since);
    audit__text(st, 2, f->actor);
    audit__text(st, 3, f->action);
    sqlite3_bind_int64(st, 4, f->limit > 0 ? f->limit : -1);
    sqlite3_bind_int64(st, 5, f->before_id);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        audit_entry e = {
            .id = sqlite3_column_int64(st, 0),
            .at = sqlite3_column_int64(st, 1),
            .actor = (const char *)sqlite3_column_text(st, 2),
            .user_id = sqlite3_column_int64(st, 3),
            .address = (const char *)sqlite3_column_text(st, 4),
            .action = (const char *)sqlite3_column_text(st, 5),
            .object = (const char *)sqlite3_column_text(st, 6),
            .before = (const char *)sqlite3_column_text(st, 7),
            .after = (const char *)sqlite3_column_text(st, 8),
        };
        fn(ud, &e);
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : PH_EDB;
}
