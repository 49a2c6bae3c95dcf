/* store: the worker's connection to the site's SQLite database.
 *
 * Provides: store_open() / store_close() of one database file in WAL mode.
 * Owns:     the sqlite3 connection.
 * Uses:     SQLite.
 *
 * Each worker opens its own connection; nothing here is shared between
 * workers but the file itself.
 */
#ifndef PH_STORE_H
#define PH_STORE_H

#include <stddef.h>

typedef struct store store;

/* Open (creating if missing, with its parent directory) the database at
 * `path`, in WAL mode with synchronous=FULL, so that a committed transaction
 * survives a crash of the process or the machine. Returns 0, or PH_EDB with
 * the reason in err. */
int store_open(store **out, const char *path, char *err, size_t errlen);
void store_close(store *s);

#endif
