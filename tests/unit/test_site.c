/* Unit tests of core/site: the permission table for every role, held for
 * the center or for a unit, on the unit's own and another unit's columns;
 * the column tree (checks, order, moves) and bindings, each change with its
 * audit entry. A real SQLite file. */
#include <stdio.h>
#include <string.h>

#include "audit/audit.h"
#include "auth/auth.h"
#include "base/base.h"
#include "site/site.h"
#include "store/store.h"
#include "unit.h"

static const site_actor actor = {"cli:test", 0, "", 1000};

static void put_column(store *s, const char *path, const char *parent, const char *unit,
                       int64_t position)
{
    char why[256];
    site_column c = {.path = path,
                     .title = path,
                     .kind = parent ? "notice" : "section",
                     .unit = unit,
                     .parent = parent,
                     .position = position};
    if (site_column_put(s, &actor, &c, why, sizeof why) != 0)
        u_fail(__FILE__, __LINE__, "column %s: %s", path, why);
}

/* A user with one role; returns its id. */
static int64_t add_user(store *s, const char *login, const char *unit, const char *role)
{
    const char *why;
    if (auth_user_add(s, login, login, "$argon2id$v=19$m=1,t=1,p=1$x$y", unit, role, 1000, &why))
        u_fail(__FILE__, __LINE__, "user %s: %s", login, why);
    char hash[AUTH_HASH_MAX];
    int64_t id;
    bool disabled;
    CHECK_INT(auth_login_lookup(s, login, hash, &id, &disabled), ==, 0);
    return id;
}

void test_site_permissions(void)
{
    u_db f;
    u_db_open(&f);
    const char *why;
    CHECK_INT(site_unit_put(f.s, &actor, "invest", "招商局", &why), ==, 0);
    CHECK_INT(site_unit_put(f.s, &actor, "social", "社会事务局", &why), ==, 0);
    put_column(f.s, "/gxcy", NULL, "center", -1);
    put_column(f.s, "/gxcy/tzgg", "/gxcy", "invest", -1);
    put_column(f.s, "/gxcy/shsw", "/gxcy", "social", -1);
    struct {
        const char *login, *unit, *role;
        int64_t id;
    } users[] = {
        {"admin", "center", "admin", 0}, {"web", "invest", "webmaster", 0},
        {"ed", "invest", "editor", 0},   {"rev", "invest", "reviewer", 0},
        {"lead", "invest", "leader", 0}, {"crev", "center", "reviewer", 0},
        {"gone", "invest", "editor", 0},
    };
    for (size_t i = 0; i < sizeof users / sizeof users[0]; i++)
        users[i].id = add_user(f.s, users[i].login, users[i].unit, users[i].role);
    CHECK_INT(auth_disable(f.s, "gone", true), ==, 0);
    /* Each user's answers for view edit review sign bind report admin, on
     * its unit's column /gxcy/tzgg and on the other unit's /gxcy/shsw. */
    static const char *const actions[] = {"view", "edit",   "review",        "sign",
                                          "bind", "report", "center_review", "admin"};
    static const char *const want[][2] = {
        {"11111111", "11111111"}, /* admin@center: everything, everywhere */
        {"11001100", "00000000"}, /* webmaster@invest */
        {"11000000", "00000000"}, /* editor@invest */
        {"10100000", "00000000"}, /* reviewer@invest: not the center's review */
        {"10010100", "00000000"}, /* leader@invest */
        {"10100010", "10100010"}, /* reviewer@center: reviews every column, as the center */
        {"00000000", "00000000"}, /* a disabled editor: nothing */
    };
    static const char *const paths[] = {"/gxcy/tzgg", "/gxcy/shsw"};
    /* The same answers for the columns' units (a service item of invest in
     * a column of another unit, say). */
    static const char *const units[] = {"invest", "social"};
    for (size_t u = 0; u < sizeof users / sizeof users[0]; u++)
        for (size_t p = 0; p < 2; p++)
            for (size_t a = 0; a < 8; a++) {
                bool got = site_can(f.s, users[u].id, actions[a], paths[p]);
                bool by_unit = site_can_unit(f.s, users[u].id, actions[a], units[p]);
                if (got != (want[u][p][a] == '1') || by_unit != got)
                    u_fail(__FILE__, __LINE__, "%s@%s %s on %s: got %s, for its unit %s",
                           users[u].role, users[u].unit, actions[a], paths[p], got ? "yes" : "no",
                           by_unit ? "yes" : "no");
            }
    /* A unit without a column yet: its staff's roles count all the same. */
    CHECK_INT(site_unit_put(f.s, &actor, "talent", "人才办", &why), ==, 0);
    int64_t ted = add_user(f.s, "ted", "talent", "editor");
    CHECK(site_can_unit(f.s, ted, "edit", "talent"));
    CHECK(!site_can_unit(f.s, ted, "edit", "invest"));
    CHECK(site_can_unit(f.s, users[0].id, "edit", "talent"));
    CHECK(!site_can_unit(f.s, users[0].id, "edit", "nosuchunit"));
    CHECK(!site_can_unit(f.s, users[1].id, "edit", NULL));
    /* The section belongs to the center: a unit's staff may not act on it. */
    CHECK(!site_can(f.s, users[1].id, "bind", "/gxcy"));
    CHECK(site_can(f.s, users[0].id, "bind", "/gxcy"));
    /* No such column, no user, no such action. */
    CHECK(!site_can(f.s, users[0].id, "view", "/nowhere"));
    CHECK(!site_can(f.s, 0, "view", "/gxcy/tzgg"));
    CHECK(!site_can(f.s, users[0].id, "delete", "/gxcy/tzgg"));
    u_db_close(&f);
}

static void collect_path(void *ud, const site_column *c)
{
    char *out = ud;
    size_t n = strlen(out);
    snprintf(out + n, 512 - n, "%d%s%s ", c->depth, c->path, c->plugin ? "*" : "");
}

static void collect_audit(void *ud, const audit_entry *e)
{
    char *out = ud;
    size_t n = strlen(out);
    snprintf(out + n, 2048 - n, "%s %s %s -> %s\n", e->action, e->object,
             e->before ? e->before : "-", e->after ? e->after : "-");
}

void test_site_columns(void)
{
    u_db f;
    u_db_open(&f);
    char why[256];
    const char *w;
    CHECK_INT(site_unit_put(f.s, &actor, "invest", "招商局", &w), ==, 0);
    /* Checks, each with its reason. */
    static const struct {
        const char *path, *parent, *unit, *kind, *reason;
    } bad[] = {
        {"gxcy", NULL, "center", "section", "path: "},
        {"/gxcy/", NULL, "center", "section", "path: "},
        {"/a//b", NULL, "center", "section", "path: "},
        {"/admin/x", NULL, "center", "section", "/admin and /static"},
        {"/static", NULL, "center", "section", "/admin and /static"},
        {"/a b", NULL, "center", "section", "path: "},
        {"/gxcy", NULL, "nobody", "section", "unit: there is no unit nobody"},
        {"/gxcy", "/none", "center", "section", "parent: there is no column /none"},
        {"/gxcy", NULL, "center", "blog", "kind: "},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        site_column c = {.path = bad[i].path,
                         .title = "标题",
                         .kind = bad[i].kind,
                         .unit = bad[i].unit,
                         .parent = bad[i].parent,
                         .position = -1};
        CHECK_INT(site_column_put(f.s, &actor, &c, why, sizeof why), ==, PH_EINVAL);
        if (!strstr(why, bad[i].reason))
            u_fail(__FILE__, __LINE__, "%s: '%s' does not say '%s'", bad[i].path, why,
                   bad[i].reason);
    }
    /* The tree: siblings by position, children after their parent. */
    put_column(f.s, "/gxcy", NULL, "center", -1);
    put_column(f.s, "/yqsh", NULL, "center", -1);
    put_column(f.s, "/gxcy/tzgg", "/gxcy", "invest", -1);
    put_column(f.s, "/gxcy/zcwj", "/gxcy", "invest", -1);
    put_column(f.s, "/gxcy/aa", "/gxcy", "invest", 0); /* ties with tzgg: by path */
    char out[512] = "";
    CHECK_INT(site_each_column(f.s, collect_path, out), ==, 0);
    CHECK_STR(out, "0/gxcy 1/gxcy/aa 1/gxcy/tzgg 1/gxcy/zcwj 0/yqsh ");
    /* A move: the path stays, the tree changes. A column cannot go below
     * itself. */
    put_column(f.s, "/gxcy/zcwj", "/yqsh", "invest", -1);
    site_column loop = {.path = "/gxcy",
                        .title = "x",
                        .kind = "section",
                        .unit = "center",
                        .parent = "/gxcy/tzgg",
                        .position = -1};
    CHECK_INT(site_column_put(f.s, &actor, &loop, why, sizeof why), ==, PH_EINVAL);
    CHECK(strstr(why, "is the column itself or below it") != NULL);
    /* Bindings: to a column that exists, with JSON config. */
    CHECK_INT(site_bind(f.s, &actor, "/gxcy/tzgg", "articles", true, "{\"page_size\":20}", &w), ==,
              0);
    CHECK_INT(site_bind(f.s, &actor, "/nowhere", "articles", true, "{}", &w), ==, PH_ENOTFOUND);
    CHECK_INT(site_bind(f.s, &actor, "/gxcy", "articles", true, "{oops", &w), ==, PH_EINVAL);
    CHECK_INT(site_bind(f.s, &actor, "/gxcy", "Bad Name", true, "{}", &w), ==, PH_EINVAL);
    out[0] = 0;
    CHECK_INT(site_each_column(f.s, collect_path, out), ==, 0);
    CHECK_STR(out, "0/gxcy 1/gxcy/aa 1/gxcy/tzgg* 0/yqsh 1/gxcy/zcwj ");
    CHECK_INT(site_unbind(f.s, &actor, "/gxcy/tzgg", &w), ==, 0);
    CHECK_INT(site_unbind(f.s, &actor, "/gxcy/tzgg", &w), ==, 0); /* none: no error, no entry */
    /* Every change is on record, with the values before and after. */
    char log[2048] = "";
    audit_filter all = {0, NULL, NULL, 4, 0};
    CHECK_INT(audit_each(f.s, &all, collect_audit, log), ==, 0);
    CHECK_STR(log, "binding.remove column:/gxcy/tzgg "
                   "{\"plugin\":\"articles\",\"enabled\":true,\"config\":{\"page_size\":20}} -> -\n"
                   "binding.put column:/gxcy/tzgg - -> "
                   "{\"plugin\":\"articles\",\"enabled\":true,\"config\":{\"page_size\":20}}\n"
                   "column.put column:/gxcy/zcwj "
                   "{\"path\":\"/gxcy/zcwj\",\"title\":\"/gxcy/zcwj\",\"kind\":\"notice\","
                   "\"unit\":\"invest\",\"parent\":\"/gxcy\",\"position\":1,"
                   "\"max_stale_days\":null} -> "
                   "{\"path\":\"/gxcy/zcwj\",\"title\":\"/gxcy/zcwj\",\"kind\":\"notice\","
                   "\"unit\":\"invest\",\"parent\":\"/yqsh\",\"position\":0,"
                   "\"max_stale_days\":null}\n"
                   "column.put column:/gxcy/aa - -> "
                   "{\"path\":\"/gxcy/aa\",\"title\":\"/gxcy/aa\",\"kind\":\"notice\","
                   "\"unit\":\"invest\",\"parent\":\"/gxcy\",\"position\":0,"
                   "\"max_stale_days\":null}\n");
    /* A rename of a unit is a change too. */
    CHECK_INT(site_unit_put(f.s, &actor, "invest", "投资促进局", &w), ==, 0);
    log[0] = 0;
    audit_filter one = {0, NULL, "unit.", 1, 0};
    CHECK_INT(audit_each(f.s, &one, collect_audit, log), ==, 0);
    CHECK_STR(log, "unit.put unit:invest {\"code\":\"invest\",\"name\":\"招商局\"} -> "
                   "{\"code\":\"invest\",\"name\":\"投资促进局\"}\n");
    u_db_close(&f);
}
