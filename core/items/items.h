/* items: the site-wide index of published items (sql/010_items.sql).
 *
 * Provides: items_publish() and items_withdraw(), through which every
 *           content plugin reports what it makes public (park.items);
 *           items_list() for the newest items of a column, a section, a
 *           kind or a unit, and for site-wide search; the tokens search
 *           uses (items_tokens, items_match).
 * Owns:     nothing; statements are prepared per call on the store's
 *           connection (the worker's, whose other workers see each commit).
 * Uses:     store (SQLite, FTS5), with no namespace: this is core code.
 *
 * published_at is the server's clock at an item's first publication and is
 * never written again: no caller can give it. A later publication of the
 * same (plugin, key) moves updated_at only.
 *
 * Search tokens: a run of Chinese characters becomes its overlapping pairs
 * (通知公告: 通知 知公 公告), so that any two-character word of it is found
 * without a dictionary; any other run of letters and digits is one word,
 * lowercased (ASCII). A query is made the same way, each run a phrase that
 * must occur; a lone Chinese character matches as a prefix.
 */
#ifndef PH_ITEMS_H
#define PH_ITEMS_H

#include "base/base.h"
#include "store/store.h"

#include <stdbool.h>
#include <stdint.h>

enum { ITEMS_KEY_MAX = 200, ITEMS_TITLE_MAX = 500, ITEMS_TEXT_MAX = 1 << 20 };

/* The kinds an item may have: what the front page and search group by. */
extern const char *const items_kinds[];

typedef struct {
    const char *plugin, *key;
    const char *column; /* the column's path: the item lives there */
    const char *kind;   /* one of items_kinds */
    const char *title, *url, *summary;
    const char *text;  /* what search reads besides the title; may be NULL */
    const char *attrs; /* a JSON object of strings ("{}" for none) */
} items_item;

/* Put `it` in the index (or update it): published_at is `now` the first
 * time, kept afterwards. *published_at, *updated_at and *first (a new item)
 * say what happened. Returns 0; PH_ENOTFOUND when the column does not
 * exist; PH_EINVAL with the reason in err for a value out of bounds; PH_EDB.
 * The row and its search tokens change together (a savepoint, inside the
 * caller's transaction if there is one). */
int items_publish(store *s, const items_item *it, int64_t now, int64_t *published_at,
                  int64_t *updated_at, bool *first, char *err, size_t errlen);
/* The index's version (sql/011): it grows with every change of any item.
 * Returns 0 or PH_EDB. */
int items_version(store *s, int64_t *version);
/* Take (plugin, key) out of the index; *found says whether it was there.
 * Returns 0 or PH_EDB. */
int items_withdraw(store *s, const char *plugin, const char *key, bool *found);

typedef struct {
    int64_t id;
    const char *plugin, *key, *column, *column_title, *unit, *unit_name, *kind;
    const char *title, *url, *summary, *attrs;
    int64_t published_at, updated_at;
} items_row;

typedef struct {
    const char *column;   /* a path: its items and those of the columns below it; NULL: all */
    const char *kind;     /* NULL: any */
    const char *unit;     /* a unit's code; NULL: any */
    const char *query;    /* search words (items_match); NULL: the newest first */
    int64_t since, until; /* published_at in [since, until); 0: unbounded */
    int limit;            /* 1 to 1000 */
    int64_t before_id;    /* keyset paging of the newest first: ids below (0: from the top) */
} items_filter;

/* Call fn for each item the filter selects, the newest first. Returns 0,
 * PH_EINVAL (a query with nothing to search for), or PH_EDB. */
int items_list(store *s, const items_filter *f, void (*fn)(void *ud, const items_row *r), void *ud);

/* Append the search tokens of text[0..len) to out, separated by spaces.
 * Returns 0 or PH_ENOMEM. */
int items_tokens(const char *text, size_t len, ph_buf *out);
/* The FTS5 MATCH expression of a user's query, NUL-terminated in out.
 * Returns 0, PH_EINVAL when the query holds nothing to search for, or
 * PH_ENOMEM. */
int items_match(const char *query, ph_buf *out);

#endif
