/* store: the worker's connection to the site's SQLite database.
 *
 * Provides: store_open() of one database file in WAL mode; migrations
 *           (numbered SQL files applied once, each in a transaction,
 *           recorded by name); table namespaces enforced by SQLite's
 *           authorizer; a progress hook that can interrupt a query.
 * Owns:     the sqlite3 connection.
 * Uses:     SQLite. Knows nothing of Lua; the Lua bridge (park.db) sits on it.
 *
 * Each worker opens its own connection; nothing here is shared between
 * workers but the file itself.
 *
 * Namespaces: while a namespace "survey" is set, statements prepared (and
 * re-prepared by sqlite3_step after a schema change) may create, read and
 * write only tables, indexes, triggers and views named survey_*, read the
 * core's public views (store_public_views), and use FTS5; ATTACH, PRAGMA,
 * transactions and load_extension are refused. With no namespace set the
 * connection is the core's own and unrestricted.
 */
#ifndef PH_STORE_H
#define PH_STORE_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>

typedef struct store store;

/* Open (creating if missing, with its parent directory) the database at
 * `path`, in WAL mode with synchronous=FULL, so that a committed transaction
 * survives a crash of the process or the machine. Returns 0, or PH_EDB with
 * the reason in err. */
int store_open(store **out, const char *path, char *err, size_t errlen);
void store_close(store *s);
/* The connection, for the Lua bridge. Borrowed; valid until store_close. */
sqlite3 *store_db(store *s);

/* Group commit. Off (the default), every commit is synced to disk before
 * it returns (synchronous=FULL). On, commits are written to the WAL without
 * a sync (synchronous=NORMAL: still atomic and consistent, and safe from a
 * crash of the process) and store_sync() makes all of them durable with one
 * fsync; the caller must not acknowledge a write before that. Returns 0 or
 * PH_EDB. */
int store_set_group_commit(store *s, bool on);
/* fn(ud) runs at every commit of the connection (inside SQLite: it must
 * not use the connection). NULL removes it. */
void store_on_commit(store *s, void (*fn)(void *ud), void *ud);
/* Whether commits wait for store_sync (group commit on and a commit since
 * the last sync). */
bool store_dirty(const store *s);
/* Sync the write-ahead log if anything was committed since the last sync.
 * Returns 0, or PH_EDB with the reason in err: the commits since the last
 * sync may then be lost in a power cut. store_close syncs too. */
int store_sync(store *s, char *err, size_t errlen);

/* Prepare one statement of the core's own (no namespace: the authorizer
 * lets it through). NULL when it does not prepare; sqlite3_errmsg says why.
 * The caller finalizes it. */
sqlite3_stmt *store_prepare(store *s, const char *sql);

/* One change, all or nothing, inside the caller's transaction if there is
 * one: store_savepoint opens the savepoint `name` (an identifier), and
 * store_release(s, name, rc) releases it when rc is 0, else rolls it back.
 * Each returns 0 or, store_release, rc (PH_EDB when the release itself
 * fails). */
int store_savepoint(store *s, const char *name);
int store_release(store *s, const char *name, int rc);

/* Set the namespace ("survey": tables survey_*) for what is prepared or
 * stepped next; NULL for the core. `ns` is borrowed until the next call. */
void store_set_namespace(store *s, const char *ns);
/* Under a namespace, no string or blob may be longer than max_length
 * bytes (SQLITE_LIMIT_LENGTH: "string or blob too big"), and no statement's
 * text longer than max_sql (SQLITE_LIMIT_SQL_LENGTH: preparing one is work
 * that nothing can interrupt); the core's own statements keep SQLite's
 * limits. */
void store_set_namespace_limits(store *s, int max_length, int max_sql);
/* Why the authorizer refused the last statement ("" if it did not). */
const char *store_refusal(const store *s);

/* Called every ~1000 SQLite VM steps while a statement runs; a non-zero
 * return interrupts it (SQLITE_INTERRUPT). fn NULL removes the hook. */
void store_set_progress(store *s, int (*fn)(void *ud), void *ud);

/* Apply, in order of their names, the files NNN_*.sql in `dir` not yet
 * recorded for `owner` ("core" or a plugin's name), each in its own
 * transaction under namespace `ns` (NULL for the core), and record them in
 * park_migrations. A file that fails is rolled back whole; err then names the
 * file, the line of the statement and SQLite's reason. A missing `dir`
 * means no migrations. `applied` (may be NULL) receives how many ran.
 * Returns 0 or PH_EDB. */
int store_migrate(store *s, const char *owner, const char *dir, const char *ns, int *applied,
                  char *err, size_t errlen);

/* Call fn for every recorded migration, in the order applied. */
int store_each_migration(store *s,
                         void (*fn)(void *ud, const char *owner, const char *name,
                                    const char *applied_at),
                         void *ud);

#endif
