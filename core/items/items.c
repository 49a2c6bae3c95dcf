#include "items/items.h"

#include <stdio.h>
#include <string.h>

const char *const items_kinds[] = {"news",   "notice",    "policy", "letter", "guide",
                                   "survey", "interview", "page",   "other",  NULL};

/* ---- tokens ------------------------------------------------------------- */

/* The code point at s[*i] (advancing *i), or -1 for a byte that starts no
 * valid sequence (skipped as a separator). */
static long items__next(const unsigned char *s, size_t len, size_t *i)
{
    unsigned char c = s[*i];
    if (c < 0x80) {
        (*i)++;
        return c;
    }
    int n = (c & 0xe0) == 0xc0 ? 1 : (c & 0xf0) == 0xe0 ? 2 : (c & 0xf8) == 0xf0 ? 3 : -1;
    if (n < 0 || *i + (size_t)n >= len) {
        (*i)++;
        return -1;
    }
    long cp = c & (0x3f >> n);
    for (int k = 1; k <= n; k++) {
        unsigned char d = s[*i + (size_t)k];
        if ((d & 0xc0) != 0x80) {
            (*i)++;
            return -1;
        }
        cp = cp << 6 | (d & 0x3f);
    }
    *i += (size_t)n + 1;
    return cp;
}

static bool items__cjk(long cp)
{
    return (cp >= 0x3400 && cp <= 0x9fff) || (cp >= 0xf900 && cp <= 0xfaff) ||
           (cp >= 0x20000 && cp <= 0x2fa1f) || (cp >= 0x3040 && cp <= 0x30ff);
}

/* Letters and digits that are not Chinese: ASCII ones, and any code point
 * past Latin-1's punctuation that is not a known separator (full-width
 * punctuation and spaces are separators). */
static bool items__word(long cp)
{
    if (cp < 0x80)
        return (cp >= '0' && cp <= '9') || (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z');
    if (cp >= 0x2000 && cp <= 0x2bff) return false; /* punctuation, symbols, arrows */
    if (cp >= 0x3000 && cp <= 0x303f) return false; /* CJK punctuation: 、。《》 */
    if (cp >= 0xfe30 && cp <= 0xfe4f) return false;
    if (cp >= 0xff00 && cp <= 0xff0f) return false; /* full-width ！＂＃ ... */
    if (cp >= 0xff1a && cp <= 0xff20) return false;
    if (cp >= 0xff3b && cp <= 0xff40) return false;
    if (cp >= 0xff5b && cp <= 0xff65) return false;
    if (cp >= 0x1f000) return false; /* emoji */
    return cp >= 0xc0;
}

/* One run of text: Chinese characters (cjk) or a word, as byte offsets. */
typedef struct {
    const char *text;
    size_t len, at;
} items__scan;

/* The next run: *cjk says which kind, [*b, *e) its bytes, *nchars its
 * characters. false at the end. */
static bool items__run(items__scan *sc, bool *cjk, size_t *b, size_t *e, size_t *nchars)
{
    const unsigned char *s = (const unsigned char *)sc->text;
    while (sc->at < sc->len) {
        size_t start = sc->at;
        long cp = items__next(s, sc->len, &sc->at);
        bool c = cp >= 0 && items__cjk(cp);
        if (!c && !(cp >= 0 && items__word(cp))) continue;
        *cjk = c;
        *b = start;
        *nchars = 1;
        size_t end = sc->at;
        while (sc->at < sc->len) {
            size_t j = sc->at;
            long q = items__next(s, sc->len, &j);
            if (q < 0 || items__cjk(q) != c || (!c && !items__word(q))) break;
            sc->at = end = j;
            (*nchars)++;
        }
        *e = end;
        return true;
    }
    return false;
}

/* The byte length of the character at s[i]. */
static size_t items__charlen(const unsigned char *s)
{
    return s[0] < 0x80 ? 1 : (s[0] & 0xe0) == 0xc0 ? 2 : (s[0] & 0xf0) == 0xe0 ? 3 : 4;
}

static int items__word_lower(ph_buf *out, const char *p, size_t n)
{
    size_t at = out->len;
    if (ph_buf_append(out, p, n)) return PH_ENOMEM;
    for (size_t i = at; i < out->len; i++)
        if (out->data[i] >= 'A' && out->data[i] <= 'Z') out->data[i] = (char)(out->data[i] + 32);
    return 0;
}

/* The tokens of one run, spaces between: a word lowercased, a lone Chinese
 * character itself, longer Chinese runs their overlapping pairs. */
static int items__run_tokens(ph_buf *out, const char *text, size_t b, size_t e, bool cjk,
                             size_t nchars)
{
    if (!cjk || nchars == 1) return items__word_lower(out, text + b, e - b);
    const unsigned char *s = (const unsigned char *)text;
    for (size_t i = b; i < e;) {
        size_t l1 = items__charlen(s + i);
        if (i + l1 >= e) break;
        size_t l2 = items__charlen(s + i + l1);
        if (i > b && ph_buf_append(out, " ", 1)) return PH_ENOMEM;
        if (ph_buf_append(out, text + i, l1 + l2)) return PH_ENOMEM;
        i += l1;
    }
    return 0;
}

int items_tokens(const char *text, size_t len, ph_buf *out)
{
    items__scan sc = {text, len, 0};
    bool cjk;
    size_t b, e, n;
    bool first = true;
    while (items__run(&sc, &cjk, &b, &e, &n)) {
        if (!first && ph_buf_append(out, " ", 1)) return PH_ENOMEM;
        first = false;
        if (items__run_tokens(out, text, b, e, cjk, n)) return PH_ENOMEM;
    }
    return 0;
}

int items_match(const char *query, ph_buf *out)
{
    items__scan sc = {query, strlen(query), 0};
    bool cjk;
    size_t b, e, n;
    int runs = 0;
    out->len = 0;
    while (items__run(&sc, &cjk, &b, &e, &n) && runs < 16) {
        /* Each run a phrase that must occur ("通知 知公 公告"); a lone
         * character or a word also as the start of a longer token. */
        if (runs++ && ph_buf_append(out, " AND ", 5)) return PH_ENOMEM;
        if (ph_buf_append(out, "\"", 1) || items__run_tokens(out, query, b, e, cjk, n) ||
            ph_buf_append(out, "\"", 1))
            return PH_ENOMEM;
        if ((!cjk || n == 1) && ph_buf_append(out, "*", 1)) return PH_ENOMEM;
    }
    if (ph_buf_append(out, "", 1)) return PH_ENOMEM;
    return runs ? 0 : PH_EINVAL;
}

/* ---- publishing --------------------------------------------------------- */

static int items__exec(store *s, const char *sql)
{
    return sqlite3_exec(store_db(s), sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : PH_EDB;
}

static bool items__kind_ok(const char *k)
{
    for (int i = 0; items_kinds[i]; i++)
        if (!strcmp(items_kinds[i], k)) return true;
    return false;
}

int items_publish(store *s, const items_item *it, int64_t now, int64_t *published_at,
                  int64_t *updated_at, bool *first, char *err, size_t errlen)
{
    size_t kl = strlen(it->key), tl = strlen(it->title), ul = strlen(it->url);
    const char *why = NULL;
    if (kl < 1 || kl > ITEMS_KEY_MAX)
        why = "key: 1 to 200 bytes";
    else if (tl < 1 || tl > ITEMS_TITLE_MAX)
        why = "title: 1 to 500 bytes";
    else if (!items__kind_ok(it->kind))
        why = "kind: news, notice, policy, letter, guide, survey, interview, page or other";
    else if (ul < 1 || it->url[0] != '/' || it->url[1] == '/' || strchr(it->url, '\\'))
        why = "url: a path of this site, beginning with one /";
    else if (it->text && strlen(it->text) > ITEMS_TEXT_MAX)
        why = "text: at most 1 MiB";
    if (why) {
        snprintf(err, errlen, "%s", why);
        return PH_EINVAL;
    }
    sqlite3_stmt *col = store_prepare(s, "SELECT id FROM park_columns WHERE path = ?");
    if (!col) return PH_EDB;
    sqlite3_bind_text(col, 1, it->column, -1, SQLITE_STATIC);
    int rc = sqlite3_step(col);
    int64_t column_id = rc == SQLITE_ROW ? sqlite3_column_int64(col, 0) : 0;
    sqlite3_finalize(col);
    if (rc != SQLITE_ROW) return rc == SQLITE_DONE ? PH_ENOTFOUND : PH_EDB;

    if (items__exec(s, "SAVEPOINT park_items")) return PH_EDB;
    int status = PH_EDB;
    ph_buf tok = {0};
    sqlite3_stmt *st = store_prepare(
        s, "INSERT INTO park_items (plugin, key, column_id, kind, title, url, summary, attrs,"
           " published_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9)"
           " ON CONFLICT (plugin, key) DO UPDATE SET column_id = excluded.column_id,"
           " kind = excluded.kind, title = excluded.title, url = excluded.url,"
           " summary = excluded.summary, attrs = excluded.attrs,"
           " updated_at = max(excluded.updated_at, park_items.published_at)"
           " RETURNING id, published_at, updated_at");
    if (!st) goto out;
    sqlite3_bind_text(st, 1, it->plugin, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, it->key, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, column_id);
    sqlite3_bind_text(st, 4, it->kind, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, it->title, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 6, it->url, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 7, it->summary ? it->summary : "", -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 8, it->attrs ? it->attrs : "{}", -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 9, now);
    if (sqlite3_step(st) != SQLITE_ROW) {
        snprintf(err, errlen, "%s", sqlite3_errmsg(store_db(s)));
        sqlite3_finalize(st);
        goto out;
    }
    int64_t id = sqlite3_column_int64(st, 0);
    *published_at = sqlite3_column_int64(st, 1);
    *updated_at = sqlite3_column_int64(st, 2);
    *first = *published_at == now && *updated_at == now;
    sqlite3_finalize(st);
    if (items_tokens(it->title, tl, &tok) || ph_buf_append(&tok, "", 1)) {
        status = PH_ENOMEM;
        goto out;
    }
    size_t title_end = tok.len;
    if ((it->text && items_tokens(it->text, strlen(it->text), &tok)) ||
        (it->summary &&
         (ph_buf_append(&tok, " ", 1) || items_tokens(it->summary, strlen(it->summary), &tok))) ||
        ph_buf_append(&tok, "", 1)) {
        status = PH_ENOMEM;
        goto out;
    }
    sqlite3_stmt *del = store_prepare(s, "DELETE FROM park_items_fts WHERE rowid = ?");
    sqlite3_stmt *ins =
        store_prepare(s, "INSERT INTO park_items_fts (rowid, title, body) VALUES (?, ?, ?)");
    bool ok = del && ins;
    if (ok) {
        sqlite3_bind_int64(del, 1, id);
        sqlite3_bind_int64(ins, 1, id);
        sqlite3_bind_text(ins, 2, tok.data, -1, SQLITE_STATIC);
        sqlite3_bind_text(ins, 3, tok.data + title_end, -1, SQLITE_STATIC);
        ok = sqlite3_step(del) == SQLITE_DONE && sqlite3_step(ins) == SQLITE_DONE;
    }
    sqlite3_finalize(del);
    sqlite3_finalize(ins);
    if (ok) status = 0;
out:
    ph_buf_free(&tok);
    if (status) {
        items__exec(s, "ROLLBACK TO park_items");
        items__exec(s, "RELEASE park_items");
        return status;
    }
    return items__exec(s, "RELEASE park_items");
}

int items_version(store *s, int64_t *version)
{
    sqlite3_stmt *st = store_prepare(s, "SELECT version FROM park_items_version");
    if (!st) return PH_EDB;
    int rc = sqlite3_step(st);
    *version = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? 0 : PH_EDB;
}

int items_withdraw(store *s, const char *plugin, const char *key, bool *found)
{
    *found = false;
    sqlite3_stmt *st =
        store_prepare(s, "DELETE FROM park_items WHERE plugin = ? AND key = ? RETURNING id");
    if (!st) return PH_EDB;
    sqlite3_bind_text(st, 1, plugin, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    int64_t id = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    while (rc == SQLITE_ROW)
        rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) return PH_EDB;
    if (!id) return 0;
    *found = true;
    st = store_prepare(s, "DELETE FROM park_items_fts WHERE rowid = ?");
    if (!st) return PH_EDB;
    sqlite3_bind_int64(st, 1, id);
    rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : PH_EDB;
}

/* ---- reading ------------------------------------------------------------ */

#define ITEMS__COLUMNS                                                                             \
    "SELECT i.id, i.plugin, i.key, c.path, c.title, u.code, u.name, i.kind, i.title, i.url,"       \
    " i.summary, i.attrs, i.published_at, i.updated_at"
/* The items walk first (CROSS JOIN keeps them the outer loop): the newest
 * come from park_items_recent, or park_items_column for one column, and the
 * walk stops at the limit instead of sorting every item of the site. */
#define ITEMS__FROM                                                                                \
    " FROM park_items i CROSS JOIN park_columns c ON c.id = i.column_id"                           \
    " CROSS JOIN park_units u ON u.id = c.unit_id"
#define ITEMS__WHERE                                                                               \
    " (?1 IS NULL OR i.column_id IN (SELECT value FROM json_each(?1)))"                            \
    " AND (?2 IS NULL OR i.kind = ?2) AND (?3 IS NULL OR u.code = ?3)"                             \
    " AND (?4 = 0 OR i.published_at >= ?4) AND (?5 = 0 OR i.published_at < ?5)"

enum { ITEMS__COLUMNS_MAX = 256 };

/* Search: the newest matches first, in the order FTS5 hands them out
 * (rowid descending: the index stops at the limit). Ranking every match by
 * bm25 cost a sort of all of them: 5 to 9 ms a query over 10,000 items. */
static const char items__search_sql[] = ITEMS__COLUMNS
    " FROM park_items_fts x CROSS JOIN park_items i ON i.id = x.rowid"
    " CROSS JOIN park_columns c ON c.id = i.column_id"
    " CROSS JOIN park_units u ON u.id = c.unit_id"
    " WHERE park_items_fts MATCH ?6 AND" ITEMS__WHERE " ORDER BY x.rowid DESC LIMIT ?7";

/* The ids of the column at `path` and of every column below it (at most
 * ITEMS__COLUMNS_MAX) into ids, *n of them; -1 in *n for no filter ("/" or
 * NULL: the whole site). Returns 0 or PH_EDB. */
static int items__columns(store *s, const char *path, int64_t *ids, int *n)
{
    *n = -1;
    if (!path || !strcmp(path, "/")) return 0;
    sqlite3_stmt *st = store_prepare(s, "SELECT id FROM park_columns WHERE path = ?1"
                                        " OR substr(path, 1, length(?1) + 1) = ?1 || '/'");
    if (!st) return PH_EDB;
    sqlite3_bind_text(st, 1, path, -1, SQLITE_STATIC);
    int rc;
    *n = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW && *n < ITEMS__COLUMNS_MAX)
        ids[(*n)++] = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : PH_EDB;
}

/* The newest-first statement. Only the filters given are in it (an "?2 IS
 * NULL OR" would keep SQLite from the indexes), and a column filter is one
 * walk of park_items_column per column, each stopping at the limit, merged:
 * the cost follows the limit, not the number of items the site holds. */
static int items__newest_sql(const items_filter *f, int ncols, ph_buf *sql)
{
    char conds[512];
    snprintf(conds, sizeof conds, "%s%s%s%s%s", f->kind ? " AND i.kind = ?2" : "",
             f->unit ? " AND u.code = ?3" : "", f->since ? " AND i.published_at >= ?4" : "",
             f->until ? " AND i.published_at < ?5" : "",
             f->before_id ? " AND (i.published_at, i.id) <"
                            " (SELECT published_at, id FROM park_items WHERE id = ?6)"
                          : "");
    char part[2048];
    int rc = 0;
    if (ncols < 0) {
        snprintf(part, sizeof part,
                 ITEMS__COLUMNS ITEMS__FROM " WHERE 1%s ORDER BY i.published_at DESC, i.id DESC"
                                            " LIMIT ?7",
                 conds);
        return ph_buf_append(sql, part, strlen(part) + 1);
    }
    rc = ph_buf_append(sql, "SELECT * FROM (", 15);
    for (int k = 0; !rc && k < ncols; k++) {
        snprintf(part, sizeof part,
                 "%sSELECT * FROM (" ITEMS__COLUMNS ITEMS__FROM
                 " WHERE i.column_id = ?%d%s ORDER BY i.published_at DESC, i.id DESC LIMIT ?7)",
                 k ? " UNION ALL " : "", 8 + k, conds);
        rc = ph_buf_append(sql, part, strlen(part));
    }
    static const char tail[] = ") ORDER BY 13 DESC, 1 DESC LIMIT ?7";
    return rc ? rc : ph_buf_append(sql, tail, sizeof tail);
}

int items_list(store *s, const items_filter *f, void (*fn)(void *ud, const items_row *r), void *ud)
{
    ph_buf match = {0};
    if (f->query) {
        int rc = items_match(f->query, &match);
        if (rc) {
            ph_buf_free(&match);
            return rc;
        }
    }
    int64_t ids[ITEMS__COLUMNS_MAX];
    int ncols;
    ph_buf sql = {0}, cols = {0};
    int rc = items__columns(s, f->column, ids, &ncols);
    if (!rc && ncols == 0) { /* a column that does not exist holds nothing */
        ph_buf_free(&match);
        return 0;
    }
    if (!rc && f->query) {
        /* The search ranks every match anyway: the columns as one JSON list. */
        char num[24];
        rc = ph_buf_append(&cols, "[", 1);
        for (int k = 0; !rc && k < ncols; k++) {
            int len = snprintf(num, sizeof num, "%s%lld", k ? "," : "", (long long)ids[k]);
            rc = ph_buf_append(&cols, num, (size_t)len);
        }
        if (!rc) rc = ph_buf_append(&cols, "]", 2);
        if (!rc) rc = ph_buf_append(&sql, items__search_sql, sizeof items__search_sql);
    } else if (!rc) {
        rc = items__newest_sql(f, ncols, &sql);
    }
    sqlite3_stmt *st = rc ? NULL : store_prepare(s, sql.data);
    ph_buf_free(&sql);
    if (!st) {
        ph_buf_free(&match);
        ph_buf_free(&cols);
        return rc ? rc : PH_EDB;
    }
    if (f->query && ncols > 0) sqlite3_bind_text(st, 1, cols.data, -1, SQLITE_STATIC);
    if (f->query && ncols < 0) sqlite3_bind_null(st, 1);
    for (int k = 0; !f->query && k < ncols; k++)
        sqlite3_bind_int64(st, 8 + k, ids[k]);
    sqlite3_bind_text(st, 2, f->kind, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, f->unit, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, f->since);
    sqlite3_bind_int64(st, 5, f->until);
    if (f->query)
        sqlite3_bind_text(st, 6, match.data, -1, SQLITE_STATIC);
    else
        sqlite3_bind_int64(st, 6, f->before_id);
    sqlite3_bind_int(st, 7, f->limit < 1 ? 1 : f->limit > 1000 ? 1000 : f->limit);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        items_row r = {
            .id = sqlite3_column_int64(st, 0),
            .plugin = (const char *)sqlite3_column_text(st, 1),
            .key = (const char *)sqlite3_column_text(st, 2),
            .column = (const char *)sqlite3_column_text(st, 3),
            .column_title = (const char *)sqlite3_column_text(st, 4),
            .unit = (const char *)sqlite3_column_text(st, 5),
            .unit_name = (const char *)sqlite3_column_text(st, 6),
            .kind = (const char *)sqlite3_column_text(st, 7),
            .title = (const char *)sqlite3_column_text(st, 8),
            .url = (const char *)sqlite3_column_text(st, 9),
            .summary = (const char *)sqlite3_column_text(st, 10),
            .attrs = (const char *)sqlite3_column_text(st, 11),
            .published_at = sqlite3_column_int64(st, 12),
            .updated_at = sqlite3_column_int64(st, 13),
        };
        fn(ud, &r);
    }
    sqlite3_finalize(st);
    ph_buf_free(&match);
    ph_buf_free(&cols);
    return rc == SQLITE_DONE ? 0 : PH_EDB;
}
