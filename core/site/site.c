#include "site/site.h"
#include "audit/audit.h"
#include "auth/auth.h"
#include "base/base.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- permissions: the one table --------------------------------------- */

/* Which roles allow an action on a column. The center's administrator may
 * do everything; "admin" is for it alone. */
static const struct {
    const char *action;
    const char *const roles[3];
} site__perms[] = {
    {"view", {"webmaster", "editor", "reviewer"}}, /* and leader, below */
    {"edit", {"webmaster", "editor", NULL}},
    {"review", {"reviewer", NULL, NULL}},
    {"sign", {"leader", NULL, NULL}},
    {"bind", {"webmaster", NULL, NULL}},
    {"report", {"webmaster", "leader", NULL}},
    /* The center's own review step (a review chain's last): its reviewers. */
    {"center_review", {"reviewer", NULL, NULL}},
    {"admin", {NULL, NULL, NULL}},
};

static bool site__allows(const char *action, const char *role)
{
    if (strcmp(role, "admin") == 0) return true;
    if (strcmp(action, "view") == 0 && strcmp(role, "leader") == 0) return true;
    for (size_t i = 0; i < sizeof site__perms / sizeof site__perms[0]; i++) {
        if (strcmp(site__perms[i].action, action) != 0) continue;
        for (size_t k = 0; k < 3 && site__perms[i].roles[k]; k++)
            if (strcmp(site__perms[i].roles[k], role) == 0) return true;
    }
    return false;
}

static bool site__action_known(const char *action)
{
    for (size_t i = 0; i < sizeof site__perms / sizeof site__perms[0]; i++)
        if (strcmp(site__perms[i].action, action) == 0) return true;
    return false;
}

bool site_can_unit(store *s, int64_t user_id, const char *action, const char *unit)
{
    if (!user_id || !action || !site__action_known(action)) return false;
    bool admin = strcmp(action, "admin") == 0;
    if (!admin && !unit) return false;
    /* The user's roles for the center, and for the unit. */
    sqlite3_stmt *st = store_prepare(
        s, "SELECT r.role, u.is_center FROM park_roles r JOIN park_units u ON u.id = r.unit_id"
           " JOIN park_users p ON p.id = r.user_id AND p.disabled = 0"
           " WHERE r.user_id = ?1 AND (?3 OR EXISTS (SELECT 1 FROM park_units WHERE code = ?2))"
           " AND (u.is_center = 1 OR u.code = ?2)");
    if (!st) return false;
    sqlite3_bind_int64(st, 1, user_id);
    sqlite3_bind_text(st, 2, unit ? unit : "", -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 3, admin);
    bool ok = false;
    bool center_only = strcmp(action, "center_review") == 0;
    while (!ok && sqlite3_step(st) == SQLITE_ROW) {
        const char *role = (const char *)sqlite3_column_text(st, 0);
        if (admin || (center_only && !sqlite3_column_int(st, 1)))
            ok = strcmp(role, "admin") == 0;
        else
            ok = site__allows(action, role);
    }
    sqlite3_finalize(st);
    return ok;
}

bool site_can(store *s, int64_t user_id, const char *action, const char *path)
{
    if (action && strcmp(action, "admin") == 0) return site_can_unit(s, user_id, action, NULL);
    if (!user_id || !path) return false;
    /* The column's unit answers for it. */
    sqlite3_stmt *st = store_prepare(s, "SELECT u.code FROM park_columns c"
                                        " JOIN park_units u ON u.id = c.unit_id WHERE c.path = ?");
    if (!st) return false;
    sqlite3_bind_text(st, 1, path, -1, SQLITE_STATIC);
    bool ok = sqlite3_step(st) == SQLITE_ROW &&
              site_can_unit(s, user_id, action, (const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    return ok;
}

/* ---- checks --------------------------------------------------------------- */

bool site_path_ok(const char *path, const char **why)
{
    size_t n = path ? strlen(path) : 0;
    *why = "a column's path is like /gxcy/tzgg: a leading '/', no trailing '/', no empty "
           "segment, no space, '?', '#', '%' or '\\'";
    if (n == 0 || path[0] != '/') return false;
    if (n == 1) return true;
    if (n > SITE_PATH_MAX) return *why = "a column's path is at most 200 bytes", false;
    if (path[n - 1] == '/') return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)path[i];
        if (c <= ' ' || c == 0x7f || c == '?' || c == '#' || c == '%' || c == '\\' ||
            (c == '/' && path[i + 1] == '/'))
            return false;
    }
    static const char *const reserved[] = {"/admin", "/static"};
    for (size_t i = 0; i < 2; i++) {
        size_t rl = strlen(reserved[i]);
        if (strncmp(path, reserved[i], rl) == 0 && (path[rl] == 0 || path[rl] == '/')) {
            *why = "/admin and /static belong to the core (the console and static files)";
            return false;
        }
    }
    return true;
}

bool site_kind_ok(const char *kind)
{
    static const char *const kinds[] = {"section",     "news",    "notice", "policy",
                                        "interaction", "service", "static"};
    for (size_t i = 0; kind && i < sizeof kinds / sizeof kinds[0]; i++)
        if (strcmp(kind, kinds[i]) == 0) return true;
    return false;
}

static bool site__text_ok(const char *s, size_t max)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > max) return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < ' ' || s[i] == 0x7f) return false;
    return true;
}

/* ---- changes: one savepoint each, with the audit entry ------------------ */

static int site__begin(store *s)
{
    return store_savepoint(s, "site");
}

/* Release the savepoint when rc is 0, else roll it back; returns rc. */
static int site__end(store *s, int rc)
{
    return store_release(s, "site", rc);
}

/* The first column of one row of `sql` with ?1 bound to `key`, malloc'd
 * (NULL when no row or NULL). *rc gets PH_EDB on a failure. */
static char *site__one(store *s, const char *sql, const char *key, int *rc)
{
    sqlite3_stmt *st = store_prepare(s, sql);
    if (!st) return *rc = PH_EDB, NULL;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    char *out = NULL;
    int r = sqlite3_step(st);
    if (r == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
        out = strdup((const char *)sqlite3_column_text(st, 0));
    else if (r != SQLITE_ROW && r != SQLITE_DONE)
        *rc = PH_EDB;
    sqlite3_finalize(st);
    return out;
}

/* Record a change; a put that changed nothing (the same values before and
 * after, as an import run twice) is no change. */
static int site__audit(store *s, const site_actor *a, const char *action, const char *kind,
                       const char *key, const char *before, const char *after)
{
    if (before && after && strcmp(before, after) == 0) return 0;
    char object[SITE_PATH_MAX + 16];
    snprintf(object, sizeof object, "%s:%s", kind, key);
    audit_entry e = {0, a->now, a->actor, a->user_id, a->address, action, object, before, after};
    return audit_record(s, &e);
}

#define SITE__UNIT_JSON                                                                            \
    "SELECT json_object('code', code, 'name', name) FROM park_units WHERE code = ?1"

int site_unit_put(store *s, const site_actor *a, const char *code, const char *name,
                  const char **why)
{
    if (!auth_unit_code_ok(code))
        return *why = "a unit code is 1 to 32 of a-z, 0-9, '_' and '-'", PH_EINVAL;
    if (!site__text_ok(name, 200))
        return *why = "a unit name is 1 to 200 bytes, without control characters", PH_EINVAL;
    *why = "the database cannot be written";
    if (site__begin(s)) return PH_EDB;
    int rc = 0;
    char *before = site__one(s, SITE__UNIT_JSON, code, &rc);
    sqlite3_stmt *st = rc ? NULL
                          : store_prepare(s, "INSERT INTO park_units (code, name, created_at)"
                                             " VALUES (?1, ?2, ?3)"
                                             " ON CONFLICT (code) DO UPDATE SET name = ?2");
    if (st) {
        sqlite3_bind_text(st, 1, code, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 3, a->now);
        if (sqlite3_step(st) != SQLITE_DONE) rc = PH_EDB;
        sqlite3_finalize(st);
    } else {
        rc = PH_EDB;
    }
    char *after = rc ? NULL : site__one(s, SITE__UNIT_JSON, code, &rc);
    if (!rc) rc = site__audit(s, a, "unit.put", "unit", code, before, after);
    free(before);
    free(after);
    return site__end(s, rc);
}

/* ---- settings ------------------------------------------------------------ */

const char *const site_setting_keys[] = {
    "name",    "domain", "id_code", "organizer", "icp",        "police",
    "address", "phone",  "email",   "badge_url", "errata_url", NULL,
};
static const char *const site__setting_labels[] = {
    "网站名称",
    "网站域名",
    "网站标识码",
    "主办单位",
    "ICP备案号",
    "公安机关备案号",
    "联系地址",
    "联系电话",
    "电子邮箱",
    "党政机关网站标识链接",
    "“我为政府网站找错”链接",
};

static int site__setting_index(const char *key)
{
    for (int i = 0; key && site_setting_keys[i]; i++)
        if (strcmp(key, site_setting_keys[i]) == 0) return i;
    return -1;
}

const char *site_setting_label(const char *key)
{
    int i = site__setting_index(key);
    return i < 0 ? NULL : site__setting_labels[i];
}

/* Whether s is a host name: dot-separated labels of a-z, 0-9 and '-'. */
static bool site__domain_ok(const char *s)
{
    size_t n = strlen(s), label = 0;
    if (n > 253) return false;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        if (ch == '.') {
            if (label == 0) return false;
            label = 0;
        } else if ((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-' ||
                   (ch >= 'A' && ch <= 'Z')) {
            if (++label > 63) return false;
        } else {
            return false;
        }
    }
    return label > 0;
}

static bool site__url_ok(const char *s)
{
    if (strncmp(s, "https://", 8) && strncmp(s, "http://", 7)) return false;
    for (const char *p = s; *p; p++)
        if ((unsigned char)*p <= ' ' || *p == '"' || *p == '<' || *p == '>' || *p == '\\' ||
            *p == 0x7f)
            return false;
    return true;
}

/* Why `value` is not one for `key`, or NULL. */
static const char *site__setting_check(const char *key, const char *value)
{
    if (!value[0]) return NULL;
    if (!site__text_ok(value, 300)) return "最多 300 字节，不能有换行等控制字符";
    if (!strcmp(key, "domain") && !site__domain_ok(value))
        return "网站域名应为域名本身，不含协议头（如 https://）和路径";
    if (!strcmp(key, "id_code")) {
        size_t n = strlen(value);
        bool ok = n == 10;
        for (size_t i = 0; ok && i < n; i++)
            ok = (value[i] >= '0' && value[i] <= '9') || (value[i] >= 'A' && value[i] <= 'Z');
        if (!ok) return "网站标识码是 10 位数字（或大写字母），见全国政府网站信息报送系统";
    }
    if (!strcmp(key, "badge_url") && !site__url_ok(value))
        return "链接应以 https:// 或 http:// 开头，且不含空格和引号";
    /* 找错: the national platform's page, or this site's own 找错 column. */
    if (!strcmp(key, "errata_url") && !site__url_ok(value) &&
        !site_path_ok(value, &(const char *){0}))
        return "链接应以 https:// 或 http:// 开头，或是本站栏目的路径（如 /ygzw/zc）";
    if (!strcmp(key, "email") && (!strchr(value, '@') || strchr(value, ' ')))
        return "电子邮箱格式不对";
    return NULL;
}

int site_setting_put(store *s, const site_actor *a, const char *key, const char *value,
                     const char **why)
{
    if (site__setting_index(key) < 0) return *why = "没有这项网站设置", PH_EINVAL;
    if (!value) value = "";
    if ((*why = site__setting_check(key, value))) return PH_EINVAL;
    *why = "数据库无法写入";
    if (site__begin(s)) return PH_EDB;
    int rc = 0;
    static const char one[] = "SELECT value FROM park_settings WHERE key = ?1";
    char *before = site__one(s, one, key, &rc);
    sqlite3_stmt *st =
        rc         ? NULL
        : value[0] ? store_prepare(s, "INSERT INTO park_settings (key, value) VALUES (?1, ?2)"
                                      " ON CONFLICT (key) DO UPDATE SET value = ?2"
                                      " WHERE value IS NOT ?2")
                   : store_prepare(s, "DELETE FROM park_settings WHERE key = ?1");
    if (st) {
        sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
        if (value[0]) sqlite3_bind_text(st, 2, value, -1, SQLITE_STATIC);
        if (sqlite3_step(st) != SQLITE_DONE) rc = PH_EDB;
        sqlite3_finalize(st);
    } else {
        rc = PH_EDB;
    }
    char *after = rc ? NULL : site__one(s, one, key, &rc);
    if (!rc && (before || after)) {
        /* The audit log keeps JSON: a string value, or null. */
        sqlite3_stmt *j = store_prepare(s, "SELECT json_quote(?1), json_quote(?2)");
        if (!j) {
            rc = PH_EDB;
        } else {
            sqlite3_bind_text(j, 1, before, -1, SQLITE_STATIC);
            sqlite3_bind_text(j, 2, after, -1, SQLITE_STATIC);
            if (sqlite3_step(j) == SQLITE_ROW) {
                const char *b = (const char *)sqlite3_column_text(j, 0);
                const char *af = (const char *)sqlite3_column_text(j, 1);
                rc = site__audit(s, a, "site.setting", "setting", key, b, af);
            } else {
                rc = PH_EDB;
            }
            sqlite3_finalize(j);
        }
    }
    free(before);
    free(after);
    return site__end(s, rc);
}

int site_each_setting(store *s, void (*fn)(void *ud, const char *key, const char *value), void *ud)
{
    sqlite3_stmt *st = store_prepare(s, "SELECT key, value FROM park_settings ORDER BY key");
    if (!st) return PH_EDB;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        fn(ud, (const char *)sqlite3_column_text(st, 0), (const char *)sqlite3_column_text(st, 1));
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : PH_EDB;
}

#define SITE__COLUMN_JSON                                                                          \
    "SELECT json_object('path', c.path, 'title', c.title, 'kind', c.kind, 'unit', u.code,"         \
    " 'parent', p.path, 'position', c.position, 'max_stale_days', c.max_stale_days)"               \
    " FROM park_columns c JOIN park_units u ON u.id = c.unit_id"                                   \
    " LEFT JOIN park_columns p ON p.id = c.parent_id WHERE c.path = ?1"

/* An integer from one row of sql with ?1 = key: 0 when none, -1 on failure. */
static int64_t site__id(store *s, const char *sql, const char *key)
{
    sqlite3_stmt *st = store_prepare(s, sql);
    if (!st) return -1;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    int r = sqlite3_step(st);
    int64_t id = r == SQLITE_ROW ? sqlite3_column_int64(st, 0) : r == SQLITE_DONE ? 0 : -1;
    sqlite3_finalize(st);
    return id;
}

/* Check the parent: it exists, is not the column or below it, and the
 * tree stays within SITE_DEPTH_MAX levels. Returns 0 or PH_EINVAL/PH_EDB. */
static int site__parent_ok(store *s, const char *path, const char *parent, int64_t *parent_id,
                           char *why, size_t whylen)
{
    *parent_id = 0;
    if (!parent) return 0;
    int64_t pid = site__id(s, "SELECT id FROM park_columns WHERE path = ?1", parent);
    if (pid < 0) return PH_EDB;
    if (pid == 0) {
        snprintf(why, whylen, "parent: there is no column %.200s", parent);
        return PH_EINVAL;
    }
    /* Walk up from the parent: the column itself must not be on the way. */
    sqlite3_stmt *st =
        store_prepare(s, "WITH RECURSIVE up(id, path, parent_id, n) AS ("
                         " SELECT id, path, parent_id, 1 FROM park_columns WHERE id = ?1"
                         " UNION ALL SELECT c.id, c.path, c.parent_id, up.n + 1 FROM park_columns c"
                         " JOIN up ON c.id = up.parent_id WHERE up.n < 64)"
                         " SELECT max(n), sum(path = ?2) FROM up");
    if (!st) return PH_EDB;
    sqlite3_bind_int64(st, 1, pid);
    sqlite3_bind_text(st, 2, path, -1, SQLITE_STATIC);
    int rc = 0;
    if (sqlite3_step(st) != SQLITE_ROW) {
        rc = PH_EDB;
    } else if (sqlite3_column_int(st, 1) > 0) {
        snprintf(why, whylen, "parent: %.200s is the column itself or below it", parent);
        rc = PH_EINVAL;
    } else if (sqlite3_column_int(st, 0) >= SITE_DEPTH_MAX) {
        snprintf(why, whylen, "parent: the column tree is at most %d levels deep", SITE_DEPTH_MAX);
        rc = PH_EINVAL;
    }
    sqlite3_finalize(st);
    *parent_id = pid;
    return rc;
}

int site_column_put(store *s, const site_actor *a, const site_column *c, char *why, size_t whylen)
{
    const char *w;
    if (!site_path_ok(c->path, &w)) return snprintf(why, whylen, "path: %s", w), PH_EINVAL;
    if (!site__text_ok(c->title, SITE_TITLE_MAX))
        return snprintf(why, whylen, "title: 1 to %d bytes, on one line", SITE_TITLE_MAX),
               PH_EINVAL;
    if (!site_kind_ok(c->kind))
        return snprintf(why, whylen,
                        "kind: section, news, notice, policy, interaction, "
                        "service or static"),
               PH_EINVAL;
    if (c->max_stale_days < 0 || c->max_stale_days > 3660)
        return snprintf(why, whylen, "max_stale_days: 1 to 3660 days, or none"), PH_EINVAL;
    if (c->position < -1 || c->position > 1000000)
        return snprintf(why, whylen, "position: 0 to 1000000"), PH_EINVAL;
    if (c->parent && strcmp(c->parent, c->path) == 0)
        return snprintf(why, whylen, "parent: a column cannot be its own parent"), PH_EINVAL;
    snprintf(why, whylen, "the database cannot be written");
    if (site__begin(s)) return PH_EDB;
    int rc = 0;
    int64_t unit_id =
        site__id(s, "SELECT id FROM park_units WHERE code = ?1", c->unit ? c->unit : "");
    int64_t parent_id = 0;
    if (unit_id < 0) {
        rc = PH_EDB;
    } else if (unit_id == 0) {
        snprintf(why, whylen, "unit: there is no unit %.64s", c->unit ? c->unit : "");
        rc = PH_EINVAL;
    } else {
        rc = site__parent_ok(s, c->path, c->parent, &parent_id, why, whylen);
    }
    char *before = rc ? NULL : site__one(s, SITE__COLUMN_JSON, c->path, &rc);
    sqlite3_stmt *st =
        rc ? NULL
           : store_prepare(
                 s, "INSERT INTO park_columns (path, title, parent_id, position, kind, unit_id,"
                    " max_stale_days, created_at, updated_at)"
                    " VALUES (?1, ?2, nullif(?3, 0), CASE WHEN ?4 >= 0 THEN ?4 ELSE"
                    " (SELECT coalesce(max(position) + 1, 0) FROM park_columns"
                    "  WHERE parent_id IS nullif(?3, 0) AND path <> ?1) END,"
                    " ?5, ?6, nullif(?7, 0), ?8, ?8)"
                    " ON CONFLICT (path) DO UPDATE SET title = excluded.title,"
                    " parent_id = excluded.parent_id, kind = excluded.kind,"
                    " unit_id = excluded.unit_id, max_stale_days = excluded.max_stale_days,"
                    " updated_at = excluded.updated_at, position = CASE WHEN ?4 >= 0 THEN ?4"
                    " WHEN parent_id IS excluded.parent_id THEN position"
                    " ELSE excluded.position END");
    if (st) {
        sqlite3_bind_text(st, 1, c->path, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, c->title, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 3, parent_id);
        sqlite3_bind_int64(st, 4, c->position);
        sqlite3_bind_text(st, 5, c->kind, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 6, unit_id);
        sqlite3_bind_int64(st, 7, c->max_stale_days);
        sqlite3_bind_int64(st, 8, a->now);
        if (sqlite3_step(st) != SQLITE_DONE) rc = PH_EDB;
        sqlite3_finalize(st);
    } else if (!rc) {
        rc = PH_EDB;
    }
    char *after = rc ? NULL : site__one(s, SITE__COLUMN_JSON, c->path, &rc);
    if (!rc) rc = site__audit(s, a, "column.put", "column", c->path, before, after);
    free(before);
    free(after);
    return site__end(s, rc);
}

#define SITE__BINDING_JSON                                                                         \
    "SELECT json_object('plugin', b.plugin, 'enabled', json(CASE b.enabled WHEN 1 THEN 'true'"     \
    " ELSE 'false' END), 'config', json(b.config)) FROM park_bindings b"                           \
    " JOIN park_columns c ON c.id = b.column_id WHERE c.path = ?1"

static bool site__plugin_name_ok(const char *p)
{
    size_t n = p ? strlen(p) : 0;
    if (n == 0 || n > 64) return false;
    for (size_t i = 0; i < n; i++)
        if (!((p[i] >= 'a' && p[i] <= 'z') || (p[i] >= '0' && p[i] <= '9') || p[i] == '_'))
            return false;
    return true;
}

/* Replace (plugin set) or remove (plugin NULL) the binding of `path`. */
static int site__binding(store *s, const site_actor *a, const char *path, const char *plugin,
                         bool enabled, const char *config, const char **why)
{
    *why = "the database cannot be written";
    if (site__begin(s)) return PH_EDB;
    int rc = 0;
    int64_t cid = site__id(s, "SELECT id FROM park_columns WHERE path = ?1", path);
    if (cid <= 0) {
        if (cid == 0) *why = "there is no column at this path";
        return site__end(s, cid == 0 ? PH_ENOTFOUND : PH_EDB);
    }
    char *before = site__one(s, SITE__BINDING_JSON, path, &rc);
    sqlite3_stmt *st =
        rc       ? NULL
        : plugin ? store_prepare(s, "INSERT INTO park_bindings (column_id, plugin, enabled,"
                                    " config, updated_at) VALUES (?1, ?2, ?3, json(?4), ?5)"
                                    " ON CONFLICT (column_id) DO UPDATE SET plugin = ?2,"
                                    " enabled = ?3, config = json(?4), updated_at = ?5")
                 : store_prepare(s, "DELETE FROM park_bindings WHERE column_id = ?1");
    if (st) {
        sqlite3_bind_int64(st, 1, cid);
        if (plugin) {
            sqlite3_bind_text(st, 2, plugin, -1, SQLITE_STATIC);
            sqlite3_bind_int(st, 3, enabled);
            sqlite3_bind_text(st, 4, config ? config : "{}", -1, SQLITE_STATIC);
            sqlite3_bind_int64(st, 5, a->now);
        }
        int r = sqlite3_step(st);
        if (r != SQLITE_DONE) {
            rc = r == SQLITE_ERROR ? PH_EINVAL : PH_EDB;
            if (rc == PH_EINVAL) *why = "config: not valid JSON";
        }
        sqlite3_finalize(st);
    } else if (!rc) {
        rc = PH_EDB;
    }
    char *after = rc ? NULL : site__one(s, SITE__BINDING_JSON, path, &rc);
    if (!rc && (before || after))
        rc = site__audit(s, a, plugin ? "binding.put" : "binding.remove", "column", path, before,
                         after);
    free(before);
    free(after);
    return site__end(s, rc);
}

int site_bind(store *s, const site_actor *a, const char *path, const char *plugin, bool enabled,
              const char *config, const char **why)
{
    if (!site__plugin_name_ok(plugin))
        return *why = "plugin: the name of a plugin (a-z, 0-9, '_')", PH_EINVAL;
    return site__binding(s, a, path, plugin, enabled, config, why);
}

int site_unbind(store *s, const site_actor *a, const char *path, const char **why)
{
    return site__binding(s, a, path, NULL, false, NULL, why);
}

/* ---- reading ---------------------------------------------------------- */

int site_each_column(store *s, void (*fn)(void *ud, const site_column *c), void *ud)
{
    /* The sort key extends the parent's, so children follow their parent;
     * char(1) ends a path so that /a sorts before /ab. */
    sqlite3_stmt *st = store_prepare(
        s, "WITH RECURSIVE t(id, depth, k) AS ("
           " SELECT id, 0, printf('%010d', position) || path || char(1) FROM park_columns"
           "  WHERE parent_id IS NULL"
           " UNION ALL SELECT c.id, t.depth + 1, t.k || printf('%010d', c.position) || c.path"
           "  || char(1) FROM park_columns c JOIN t ON c.parent_id = t.id WHERE t.depth < 64)"
           " SELECT c.path, c.title, c.kind, u.code, u.name, p.path, c.position,"
           " coalesce(c.max_stale_days, 0), t.depth, b.plugin, b.config, coalesce(b.enabled, 0)"
           " FROM t JOIN park_columns c ON c.id = t.id JOIN park_units u ON u.id = c.unit_id"
           " LEFT JOIN park_columns p ON p.id = c.parent_id"
           " LEFT JOIN park_bindings b ON b.column_id = c.id ORDER BY t.k");
    if (!st) return PH_EDB;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        site_column c = {
            .path = (const char *)sqlite3_column_text(st, 0),
            .title = (const char *)sqlite3_column_text(st, 1),
            .kind = (const char *)sqlite3_column_text(st, 2),
            .unit = (const char *)sqlite3_column_text(st, 3),
            .unit_name = (const char *)sqlite3_column_text(st, 4),
            .parent = (const char *)sqlite3_column_text(st, 5),
            .position = sqlite3_column_int64(st, 6),
            .max_stale_days = sqlite3_column_int64(st, 7),
            .depth = sqlite3_column_int(st, 8),
            .plugin = (const char *)sqlite3_column_text(st, 9),
            .config = (const char *)sqlite3_column_text(st, 10),
            .enabled = sqlite3_column_int(st, 11) != 0,
        };
        fn(ud, &c);
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : PH_EDB;
}
