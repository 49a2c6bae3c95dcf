/* bench/items_seed DB N: N published items in the site-wide index of DB
 * (park_items and its search tokens), made by items_publish as publishing
 * makes them, in one transaction: titles and texts from the same small
 * vocabulary of park notices as bench/articles_seed.lua, in the column
 * /gxcy/tzgg, one a minute. For bench/articles. */
#include "items/items.h"
#include "store/store.h"

#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: items_seed DB N\n");
        return 2;
    }
    static const char *const topics[] = {
        "高新技术企业认定", "人才公寓申请",     "科技创新券发放", "园区道路施工",
        "元旦假期安排",     "安全生产检查",     "招商引资项目",   "知识产权保护",
        "创业孵化基地入驻", "企业研发费用补贴", "消防演练",       "供水管网检修",
        "人才引进补贴",     "专利申报培训",     "节能改造项目",   "职工技能大赛"};
    static const char *const kinds[] = {"通知", "公告", "公示", "通报", "说明"};
    long n = atol(argv[2]);
    store *s;
    char err[512];
    if (store_open(&s, argv[1], err, sizeof err)) {
        fprintf(stderr, "items_seed: %s\n", err);
        return 1;
    }
    sqlite3_exec(store_db(s), "BEGIN", NULL, NULL, NULL);
    for (long i = 1; i <= n; i++) {
        char key[32], title[256], url[64], text[512];
        const char *topic = topics[i % 16], *kind = kinds[i % 5];
        snprintf(key, sizeof key, "%ld", i);
        snprintf(title, sizeof title, "关于%s的%s（第%ld号）", topic, kind, i);
        snprintf(url, sizeof url, "/gxcy/tzgg/%ld", i);
        snprintf(text, sizeof text,
                 "各有关单位：根据园区工作安排，现将%s有关事项%s如下。请各单位高度重视，"
                 "认真组织实施。特此%s。",
                 topic, kind, kind);
        items_item it = {.plugin = "articles",
                         .key = key,
                         .column = "/gxcy/tzgg",
                         .kind = "notice",
                         .title = title,
                         .url = url,
                         .text = text};
        int64_t pub, upd;
        bool first;
        if (items_publish(s, &it, 1700000000 + i * 60, &pub, &upd, &first, err, sizeof err)) {
            fprintf(stderr, "items_seed: item %ld: %s\n", i, err);
            return 1;
        }
    }
    sqlite3_exec(store_db(s), "COMMIT", NULL, NULL, NULL);
    store_close(s);
    return 0;
}
