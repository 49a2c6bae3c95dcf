/* Unit tests of core/items: search tokens for Chinese and other text, the
 * MATCH expression of a query, the publication time stamped once whatever
 * the caller does, and listing and search over a real SQLite file. */
#include <stdio.h>
#include <string.h>

#include "base/base.h"
#include "items/items.h"
#include "site/site.h"
#include "store/store.h"
#include "unit.h"

static const char *tokens(const char *text)
{
    static ph_buf b;
    b.len = 0;
    if (items_tokens(text, strlen(text), &b) || ph_buf_append(&b, "", 1))
        u_fail(__FILE__, __LINE__, "out of memory");
    return b.data;
}

void test_items_tokens(void)
{
    CHECK_STR(tokens("通知公告"), "通知 知公 公告");
    CHECK_STR(tokens("关于2024年度高新技术企业认定的通知"),
              "关于 2024 年度 度高 高新 新技 技术 术企 企业 业认 认定 定的 的通 通知");
    CHECK_STR(tokens("Plan A or plan-B，园区API接口"), "plan a or plan b 园区 api 接口");
    CHECK_STR(tokens("春。"), "春");
    CHECK_STR(tokens("《政策》、“解读”！"), "政策 解读");
    CHECK_STR(tokens(""), "");
    CHECK_STR(tokens("\xff\xfe通\xe4知"), "通 知"); /* bad UTF-8 is a separator */
}

static const char *match(const char *q)
{
    static ph_buf b;
    int rc = items_match(q, &b);
    return rc == PH_EINVAL ? "(nothing)" : rc ? "(error)" : b.data;
}

void test_items_match(void)
{
    CHECK_STR(match("通知"), "\"通知\"");
    CHECK_STR(match("认定 通知"), "\"认定\" AND \"通知\"");
    CHECK_STR(match("2024年"), "\"2024\"* AND \"年\"*");
    CHECK_STR(match("高新技术"), "\"高新 新技 技术\"");
    CHECK_STR(match("\"OR 1=1 --"), "\"or\"* AND \"1\"* AND \"1\"*");
    CHECK_STR(match("，。！"), "(nothing)");
    CHECK_STR(match(""), "(nothing)");
}

static void column(store *s, const char *path)
{
    static const site_actor actor = {"cli:test", 0, "", 1000};
    char why[256];
    site_column c = {.path = path, .title = path, .kind = "notice", .unit = "center"};
    if (site_column_put(s, &actor, &c, why, sizeof why)) u_fail(__FILE__, __LINE__, "%s", why);
}

static int64_t publish(store *s, const char *key, const char *col, const char *title,
                       const char *text, int64_t now, bool *first)
{
    items_item it = {.plugin = "articles",
                     .key = key,
                     .column = col,
                     .kind = "notice",
                     .title = title,
                     .url = "/x",
                     .text = text};
    int64_t pub, upd;
    bool f;
    char err[256];
    int rc = items_publish(s, &it, now, &pub, &upd, &f, err, sizeof err);
    if (rc) u_fail(__FILE__, __LINE__, "publish %s: %d %s", key, rc, err);
    if (first) *first = f;
    return pub;
}

void test_items_publish_stamps_once(void)
{
    u_db f;
    u_db_open(&f);
    column(f.s, "/tzgg");
    bool first;
    int64_t v0, v1, v2;
    CHECK_INT(items_version(f.s, &v0), ==, 0);
    CHECK_INT(publish(f.s, "1", "/tzgg", "第一版", "", 5000, &first), ==, 5000);
    CHECK_INT(items_version(f.s, &v1), ==, 0);
    CHECK_INT(v1, >, v0); /* a page built from the index is stale now */
    CHECK(first);
    /* Published again later (a revision), or again with an earlier clock:
     * the publication time stays the first. */
    CHECK_INT(publish(f.s, "1", "/tzgg", "第二版", "", 9000, &first), ==, 5000);
    CHECK(!first);
    CHECK_INT(publish(f.s, "1", "/tzgg", "第三版", "", 100, &first), ==, 5000);
    sqlite3_stmt *st = store_prepare(f.s, "SELECT title, updated_at FROM park_items");
    CHECK(sqlite3_step(st) == SQLITE_ROW);
    CHECK_STR((const char *)sqlite3_column_text(st, 0), "第三版");
    CHECK_INT(sqlite3_column_int64(st, 1), ==, 5000); /* never before the publication */
    sqlite3_finalize(st);
    /* Not even by hand: the database refuses a changed publication time. */
    CHECK(sqlite3_exec(store_db(f.s), "UPDATE park_items SET published_at = 1", NULL, NULL, NULL) ==
          SQLITE_CONSTRAINT);
    st = store_prepare(f.s, "SELECT published_at FROM park_items");
    CHECK(sqlite3_step(st) == SQLITE_ROW);
    CHECK_INT(sqlite3_column_int64(st, 0), ==, 5000);
    sqlite3_finalize(st);
    /* Bad values and an unknown column are refused, nothing written. */
    items_item bad = {.plugin = "articles",
                      .key = "2",
                      .column = "/nope",
                      .kind = "notice",
                      .title = "t",
                      .url = "/x"};
    int64_t pub, upd;
    char err[256];
    CHECK_INT(items_publish(f.s, &bad, 1, &pub, &upd, &first, err, sizeof err), ==, PH_ENOTFOUND);
    bad.column = "/tzgg";
    bad.url = "//evil.example/";
    CHECK_INT(items_publish(f.s, &bad, 1, &pub, &upd, &first, err, sizeof err), ==, PH_EINVAL);
    bad.url = "/x";
    bad.kind = "rumour";
    CHECK_INT(items_publish(f.s, &bad, 1, &pub, &upd, &first, err, sizeof err), ==, PH_EINVAL);
    bool found;
    CHECK_INT(items_version(f.s, &v1), ==, 0);
    CHECK_INT(items_withdraw(f.s, "articles", "1", &found), ==, 0);
    CHECK(found);
    CHECK_INT(items_version(f.s, &v2), ==, 0);
    CHECK_INT(v2, >, v1);
    CHECK_INT(items_withdraw(f.s, "articles", "1", &found), ==, 0);
    CHECK(!found);
    CHECK_INT(items_version(f.s, &v1), ==, 0);
    CHECK_INT(v1, ==, v2); /* nothing withdrawn, nothing changed */
    st = store_prepare(f.s, "SELECT (SELECT count(*) FROM park_items),"
                            " (SELECT count(*) FROM park_items_fts)");
    CHECK(sqlite3_step(st) == SQLITE_ROW);
    CHECK_INT(sqlite3_column_int(st, 0) + sqlite3_column_int(st, 1), ==, 0);
    sqlite3_finalize(st);
    u_db_close(&f);
}

static void collect(void *ud, const items_row *r)
{
    ph_buf *b = ud;
    if (b->len) ph_buf_append(b, ",", 1);
    ph_buf_append(b, r->key, strlen(r->key));
}

static const char *list(store *s, items_filter flt)
{
    static ph_buf b;
    b.len = 0;
    int rc = items_list(s, &flt, collect, &b);
    ph_buf_append(&b, "", 1);
    return rc ? "(error)" : b.data;
}

void test_items_list_and_search(void)
{
    u_db f;
    u_db_open(&f);
    column(f.s, "/gxcy");
    column(f.s, "/gxcy/tzgg");
    column(f.s, "/gxcyx");
    publish(f.s, "a", "/gxcy/tzgg", "关于高新技术企业认定的通知", "请各企业按时申报。", 100, NULL);
    publish(f.s, "b", "/gxcy", "园区春节放假安排", "放假通知：除夕至初六。", 200, NULL);
    publish(f.s, "c", "/gxcyx", "人才公寓申请指南", "公寓申请材料。", 300, NULL);
    /* The newest first; a section holds its columns, not a look-alike path. */
    CHECK_STR(list(f.s, (items_filter){.limit = 10}), "c,b,a");
    CHECK_STR(list(f.s, (items_filter){.column = "/gxcy", .limit = 10}), "b,a");
    CHECK_STR(list(f.s, (items_filter){.since = 150, .until = 300, .limit = 10}), "b");
    CHECK_STR(list(f.s, (items_filter){.before_id = 3, .limit = 1}), "b");
    /* Search: a word anywhere in the title or text, the newest first. */
    CHECK_STR(list(f.s, (items_filter){.query = "通知", .limit = 10}), "b,a");
    CHECK_STR(list(f.s, (items_filter){.query = "高新技术", .limit = 10}), "a");
    CHECK_STR(list(f.s, (items_filter){.query = "公寓", .limit = 10}), "c");
    CHECK_STR(list(f.s, (items_filter){.query = "公寓", .column = "/gxcy", .limit = 10}), "");
    CHECK_STR(list(f.s, (items_filter){.query = "不存在的词", .limit = 10}), "");
    items_filter none = {.query = "？！", .limit = 10};
    CHECK_INT(items_list(f.s, &none, collect, &(ph_buf){0}), ==, PH_EINVAL);
    u_db_close(&f);
}
