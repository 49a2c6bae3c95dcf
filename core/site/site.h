/* site: the center's site model: the column tree, the unit that answers
 * for each column, bindings (a plugin enabled on a column with its config),
 * and who may do what on a column.
 *
 * Provides: site_can() — every permission of the site, in one table —
 *           changes to units, columns and bindings, each in one savepoint
 *           with its audit entry (values before and after, as JSON), and
 *           reads of the whole model in tree order (sql/007_site.sql).
 * Owns:     nothing; statements are prepared per call (the model changes
 *           rarely and is read once per reload) on the store's connection.
 * Uses:     store, audit, auth (unit codes).
 *
 * A binding's config is JSON that the caller validated against the
 * plugin's schema (the lua module knows plugins; this one does not).
 */
#ifndef PH_SITE_H
#define PH_SITE_H

#include "store/store.h"

#include <stdbool.h>
#include <stdint.h>

enum {
    SITE_PATH_MAX = 200,  /* bytes of a column's path */
    SITE_TITLE_MAX = 100, /* bytes of a column's title */
    SITE_DEPTH_MAX = 8,   /* levels of the column tree */
};

/* Who makes a change, for the audit log. */
typedef struct {
    const char *actor;   /* "user:li", "cli:root" */
    int64_t user_id;     /* 0: no logged-in user */
    const char *address; /* "" when none */
    int64_t now;
} site_actor;

/* A column as written (site_column_put) and as read (site_each_column). */
typedef struct {
    const char *path, *title, *kind;
    const char *unit;       /* the responsible unit's code */
    const char *unit_name;  /* read only */
    const char *parent;     /* the parent's path; NULL at the top */
    int64_t position;       /* among its siblings; -1 when writing: after them */
    int64_t max_stale_days; /* 0: no limit */
    int depth;              /* read only: 0 at the top */
    /* Read only: its binding, NULL plugin when none. */
    const char *plugin, *config;
    bool enabled;
} site_column;

/* Whether `path` may be a column's path: "/" or "/a/b" (no trailing '/',
 * no empty segment, no '?', '#', '%', '\\', space or control character),
 * at most SITE_PATH_MAX bytes, and not the console's (/admin) or the static
 * files' (/static). *why says why not. */
bool site_path_ok(const char *path, const char **why);
/* Whether `kind` is a column kind: section, news, notice, policy,
 * interaction, service or static. */
bool site_kind_ok(const char *kind);

/* Whether the user may do `action` on the column at `path`: "view",
 * "edit", "review", "sign", "bind", "report", "center_review" (the center's
 * own review: its reviewers, held for the center); or "admin" (path
 * ignored), the center's administrator. A role held for the center counts
 * for every column; a role held for another unit for that unit's columns. A disabled
 * user, an unknown action or column, or a database failure: false. */
bool site_can(store *s, int64_t user_id, const char *action, const char *path);
/* The same for the unit with code `unit` (its columns, and what belongs to
 * it in a column of another unit: a service item, a letter it answers): a
 * role held for the center counts for every unit. An unknown unit: false. */
bool site_can_unit(store *s, int64_t user_id, const char *action, const char *unit);

/* Add unit `code` or rename it. Returns 0, PH_EINVAL or PH_EDB; *why. */
int site_unit_put(store *s, const site_actor *a, const char *code, const char *name,
                  const char **why);
/* Add the column at c->path or change it (title, kind, unit, parent,
 * position, max_stale_days). Returns 0, PH_EINVAL (a bad field, an unknown
 * unit or parent, a parent below the column itself, a tree too deep),
 * or PH_EDB; the reason in why (whylen bytes). */
int site_column_put(store *s, const site_actor *a, const site_column *c, char *why, size_t whylen);
/* Bind `plugin` to the column at `path` with `config` (JSON, validated by
 * the caller), enabled or not; replaces its binding. Returns 0,
 * PH_ENOTFOUND (no such column), PH_EINVAL or PH_EDB; *why. */
int site_bind(store *s, const site_actor *a, const char *path, const char *plugin, bool enabled,
              const char *config, const char **why);
/* Remove the column's binding (none is not an error). Returns 0,
 * PH_ENOTFOUND (no such column) or PH_EDB; *why. */
int site_unbind(store *s, const site_actor *a, const char *path, const char **why);

/* The site's settings (sql/012): what the center sets once for every page.
 * site_setting_keys lists the keys, NULL-terminated; site_setting_label
 * gives a key's Chinese name (NULL for an unknown key). */
extern const char *const site_setting_keys[];
const char *site_setting_label(const char *key);
/* Set `key` to `value` ("" removes it). Returns 0, PH_EINVAL (an unknown
 * key or a value that is not one: the reason, in Chinese, in *why) or
 * PH_EDB. Audited as "site.setting". */
int site_setting_put(store *s, const site_actor *a, const char *key, const char *value,
                     const char **why);
/* Call fn for every setting that has a value, in key order. Returns 0 or
 * PH_EDB. */
int site_each_setting(store *s, void (*fn)(void *ud, const char *key, const char *value), void *ud);

/* Call fn for every column in tree order: depth first, siblings by
 * position, then path. The column's strings are valid during the call.
 * Returns 0 or PH_EDB. */
int site_each_column(store *s, void (*fn)(void *ud, const site_column *c), void *ud);

#endif
