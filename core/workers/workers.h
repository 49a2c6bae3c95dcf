/* workers: a supervising process and N worker processes sharing the port.
 *
 * Provides: workers_supervise(), the supervisor of `parkhost serve`;
 *           workers_status(), what `parkhost status` prints; and, inside
 *           each worker, its link to the supervisor: the cross-worker signals
 *           (park.notify's keys, the site model's version) and the counters
 *           the supervisor reports.
 * Owns:     in the supervisor, each worker slot's listening socket, its end
 *           of the slot's bus and the shared page; in a worker, its end of the
 *           bus and its mapping of the page (process-wide: one link per
 *           worker process).
 * Uses:     libuv, log, conf.
 *
 * The supervisor binds one listening socket per worker slot with
 * SO_REUSEPORT, so the kernel spreads new connections evenly over the
 * workers, and keeps every socket open itself: when a worker dies, the
 * connections the kernel queued on its socket wait there for the worker
 * that replaces it instead of being reset. Workers are this same binary,
 * started again (exec) with PARKHOST_WORKER in the environment and three
 * descriptors: 3 the slot's listening socket, 4 the slot's bus, 5 the shared
 * page.
 *
 * The bus is a SOCK_SEQPACKET pair per worker: one message per send, never
 * split or merged. A worker sends the supervisor "N plugin\0key"
 * (park.notify), "R" (the site model changed), "Y" (ready), "D" (reload
 * done); the supervisor relays N and R to every other worker. A message is
 * never waited for: a full bus drops it and counts it (a waiter then wakes
 * at its own timeout, as it would without the notification).
 *
 * The shared page holds the site model's version, bumped by the worker that
 * changed the model: every worker compares it before each request (one
 * load), so a change made in the console is served by every worker on the
 * next request even if its R message is still on its way. Each slot's
 * counters (requests) live there too, each on its own cache line, and its
 * heartbeat: a worker beats every WORKERS_BEAT_MS, and one whose beat is
 * older than worker-hang-ms (its loop is stuck outside plugin code, where
 * the plugins' watchdog does not look) is killed and replaced.
 */
#ifndef PH_WORKERS_H
#define PH_WORKERS_H

#include "conf/conf.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

enum {
    WORKERS_MAX = 64,
    WORKERS_BEAT_MS = 250,
    /* Counters of each worker's open connections per address (the sketch of
     * http_server_share_addresses): two rows of 4096. */
    WORKERS_ADDR_COUNTERS = 8192,
};

/* Run `parkhost serve`: start conf->workers workers (0: one per core),
 * replace those that die, relay their signals, stop them on SIGTERM, reload
 * them one after another on SIGHUP. argv is the command line of `parkhost
 * serve` (argv[0] the binary), given again to each worker. Returns the exit
 * status: 0 after a graceful stop, 1 when the site could not start. */
int workers_supervise(const ph_conf *conf, int argc, char **argv);

/* `parkhost status`: ask the supervisor at conf->control_socket how its
 * workers are and print it. Returns the exit status. */
int workers_status(const ph_conf *conf);

/* ---- inside a worker ---------------------------------------------------- */

typedef struct {
    _Alignas(64) _Atomic uint64_t requests;
    _Atomic uint64_t beat;  /* the worker's loop time (ms, monotonic) at its last beat */
    _Atomic uint64_t conns; /* its open connections (max-connections is the site's) */
    /* its open connections per address (max-connections-per-address) */
    _Alignas(64) _Atomic uint32_t addr_conns[WORKERS_ADDR_COUNTERS];
} workers_slot;

typedef struct {
    _Alignas(64) _Atomic uint64_t site_version;
    _Alignas(64) _Atomic uint64_t items_version; /* park.items.version() */
    _Atomic int64_t items_db;                    /* park_items_version it accounts for */
    uint64_t addr_key[2]; /* the hash key of addr_conns, set by the supervisor before any worker */
    workers_slot slot[WORKERS_MAX];
} workers_page;

/* The page of this worker's site and its slot, or NULL outside a
 * supervised worker (parkhost test, a command). */
extern workers_page *workers__page;
extern workers_slot *workers__slot;

/* Whether this process is a worker started by a supervisor: then
 * *slot and *nslots say which of how many, and *listen_fd is its socket. */
bool workers_is_worker(unsigned *slot, unsigned *nslots, int *listen_fd);

/* Join the supervisor: watch the bus on `loop`. on_notify(ud, plugin, key)
 * runs for every park.notify of another worker, on_site(ud) when another
 * worker changed the site model. Returns 0, or PH_EINVAL when this is not
 * a worker or its descriptors are not what the supervisor gives. */
int workers_link_open(uv_loop_t *loop,
                      void (*on_notify)(void *ud, const char *plugin, const char *key),
                      void (*on_site)(void *ud), void *ud);
/* Tell the supervisor this worker serves (after its first listen) or has
 * finished a reload. */
void workers_link_ready(void);
void workers_link_reloaded(void);
/* Stop watching the bus (the worker is stopping). */
void workers_link_close(void);

/* park.notify(key) of `plugin`: wake the waiters of every other worker,
 * once workers_link_flush sends it at the end of the loop's turn: the
 * notifier's transaction has committed by then, and its writes are
 * durable, so that a woken waiter reads what it was woken for. */
void workers_notify(const char *plugin, const char *key);
void workers_link_flush(void);

/* The site model's version: what every worker compares before a request. */
static inline uint64_t workers_site_version(void)
{
    return workers__page ? atomic_load_explicit(&workers__page->site_version, memory_order_acquire)
                         : 0;
}
/* This worker changed the site model and has rebound: tell the others.
 * `seen` is the version read before the rebind; returns the version this
 * worker now serves (which makes it look again if another worker changed
 * the model meanwhile). */
uint64_t workers_site_changed(uint64_t seen);

/* The site index's version (park.items.version()), one read of shared
 * memory: it grows when a worker's publication or withdrawal is durable
 * (lua_host_flush_items at the end of its turn) and when a worker's poll
 * sees the index changed by anyone else (a command). */
static inline uint64_t workers_items_version(void)
{
    return workers__page ? atomic_load_explicit(&workers__page->items_version, memory_order_acquire)
                         : 0;
}
/* The index changed and is durable, up to the database's
 * park_items_version `db`: bump the version, unless `only_if_new` and the
 * workers have accounted for `db` already (a worker's own change, seen
 * again by another's poll). */
void workers_items_bump(int64_t db, bool only_if_new);

/* The worker's loop turned at `now_ms` (uv_now): it is not hung. */
static inline void workers_beat(uint64_t now_ms)
{
    if (workers__slot) atomic_store_explicit(&workers__slot->beat, now_ms, memory_order_relaxed);
}

/* Connections open in the other workers (for http_server_share_connections). */
uint64_t workers_connections_elsewhere(void);

/* Counter i of the connections per address open in the other workers, and
 * the key the site's workers hash addresses with (for
 * http_server_share_addresses). */
uint64_t workers_address_conns_elsewhere(size_t i);
static inline const uint64_t *workers_address_key(void)
{
    return workers__page ? workers__page->addr_key : NULL;
}

/* One more request answered by this worker (for parkhost status). */
static inline void workers_count_request(void)
{
    if (workers__slot) atomic_fetch_add_explicit(&workers__slot->requests, 1, memory_order_relaxed);
}

#endif
