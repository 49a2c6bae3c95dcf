/* audit: the record of every change by staff and by the center.
 *
 * Provides: audit_record() (one entry: who, when, from where, what, the
 *           values before and after) and audit_each() (entries, newest
 *           first, filtered), over the append-only park_audit table
 *           (sql/006_audit.sql).
 * Owns:     nothing; statements are prepared per call on the store's
 *           connection, with no namespace.
 * Uses:     store.
 */
#ifndef PH_AUDIT_H
#define PH_AUDIT_H

#include "store/store.h"

#include <stdint.h>

typedef struct {
    int64_t id;                 /* set by audit_each */
    int64_t at;                 /* seconds since the epoch */
    const char *actor;          /* "user:li", "cli:root", "plugin:survey" */
    int64_t user_id;            /* 0: no logged-in user */
    const char *address;        /* "" when none */
    const char *action;         /* "user.add" */
    const char *object;         /* "user:li" */
    const char *before, *after; /* JSON, or NULL */
} audit_entry;

/* Append e. Returns 0 or PH_EDB. */
int audit_record(store *s, const audit_entry *e);

typedef struct {
    int64_t since;      /* 0: from the start */
    const char *actor;  /* NULL: any */
    const char *action; /* a prefix ("user."), NULL: any */
    int64_t limit;      /* at most this many, newest first */
    int64_t before_id;  /* only entries older than this one (the next page); 0: from the newest */
} audit_filter;

/* Call fn for each entry that passes f, newest first; the entry's strings
 * are valid during the call. Returns 0 or PH_EDB. */
int audit_each(store *s, const audit_filter *f, void (*fn)(void *ud, const audit_entry *e),
               void *ud);

#endif
