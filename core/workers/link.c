/* A worker's end of the bus and its view of the shared page. */
#include "base/base.h"
#include "log/log.h"
#include "workers/workers.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

enum {
    LINK__LISTEN_FD = 3,
    LINK__BUS_FD = 4,
    LINK__PAGE_FD = 5,
    LINK__MSG_MAX = 512,
    LINK__PENDING_MAX = 1 << 20, /* bytes of notifications waiting for the turn's end */
};

workers_page *workers__page;
workers_slot *workers__slot;

static struct {
    bool open;
    uv_poll_t poll;
    void (*on_notify)(void *, const char *, const char *);
    void (*on_site)(void *);
    void *ud;
    uint64_t dropped; /* messages a full bus refused */
    unsigned nslots;  /* the supervisor's worker slots: no other slot is ever used */
    ph_buf pending;   /* notifications of this turn: a 2-byte length, then the message */
} link__;

bool workers_is_worker(unsigned *slot, unsigned *nslots, int *listen_fd)
{
    const char *v = getenv("PARKHOST_WORKER");
    unsigned s, n;
    long ppid;
    if (!v || sscanf(v, "%u,%u,%ld", &s, &n, &ppid) != 3 || n == 0 || n > WORKERS_MAX || s >= n)
        return false;
    if (slot) *slot = s;
    if (nslots) *nslots = n;
    if (listen_fd) *listen_fd = LINK__LISTEN_FD;
    return true;
}

/* A signal lost: say so now and then, not per message. */
static void link__lost(const char *why)
{
    uint64_t n = ++link__.dropped;
    if ((n & (n - 1)) == 0) /* the 1st, 2nd, 4th, 8th... */
        log_msg(LOG_WARN, "%llu signal(s) to the other workers lost so far: %s",
                (unsigned long long)n, why);
}

static void link__send(const char *msg, size_t len)
{
    if (!link__.open) return;
    if (send(LINK__BUS_FD, msg, len, MSG_DONTWAIT | MSG_NOSIGNAL) == (ssize_t)len) return;
    link__lost(strerror(errno)); /* a full bus (the supervisor is behind), or no supervisor */
}

static void link__on_readable(uv_poll_t *p, int status, int events)
{
    (void)events;
    char msg[LINK__MSG_MAX + 1];
    for (;;) {
        ssize_t n = status < 0 ? -1 : recv(LINK__BUS_FD, msg, LINK__MSG_MAX, MSG_DONTWAIT);
        if (n < 0 && (errno == EAGAIN || errno == EINTR) && status >= 0) return;
        if (n <= 0) {
            /* The supervisor is gone (it kills its workers when it dies; a
             * graceful stop sends SIGTERM first). */
            log_msg(LOG_WARN, "the supervisor closed the bus");
            uv_poll_stop(p);
            return;
        }
        msg[n] = 0;
        if (msg[0] == 'N' && link__.on_notify) {
            const char *plugin = msg + 1;
            size_t pl = strlen(plugin);
            if ((ssize_t)(pl + 2) <= n) link__.on_notify(link__.ud, plugin, plugin + pl + 1);
        } else if (msg[0] == 'R' && link__.on_site) {
            link__.on_site(link__.ud);
        }
    }
}

int workers_link_open(uv_loop_t *loop,
                      void (*on_notify)(void *ud, const char *plugin, const char *key),
                      void (*on_site)(void *ud), void *ud)
{
    unsigned slot, nslots;
    long ppid = 0;
    const char *v = getenv("PARKHOST_WORKER");
    if (!workers_is_worker(&slot, &nslots, NULL) || sscanf(v, "%*u,%*u,%ld", &ppid) != 1)
        return PH_EINVAL;
    /* Die with the supervisor: a worker left alone would keep the port and
     * the database busy, unsupervised. */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if ((long)getppid() != ppid) return PH_EINVAL; /* it died before prctl */
    void *page =
        mmap(NULL, sizeof(workers_page), PROT_READ | PROT_WRITE, MAP_SHARED, LINK__PAGE_FD, 0);
    if (page == MAP_FAILED) return PH_EINVAL;
    close(LINK__PAGE_FD);
    workers__page = page;
    workers__slot = &workers__page->slot[slot];
    link__.nslots = nslots;
    link__.on_notify = on_notify;
    link__.on_site = on_site;
    link__.ud = ud;
    if (uv_poll_init(loop, &link__.poll, LINK__BUS_FD) < 0) return PH_EINVAL;
    uv_poll_start(&link__.poll, UV_READABLE | UV_DISCONNECT, link__on_readable);
    link__.open = true;
    return 0;
}

void workers_link_ready(void)
{
    link__send("Y", 1);
}

void workers_link_reloaded(void)
{
    link__send("D", 1);
}

void workers_link_close(void)
{
    if (!link__.open) return;
    workers_link_flush();
    ph_buf_free(&link__.pending);
    uv_close((uv_handle_t *)&link__.poll, NULL);
    link__.open = false;
}

void workers_notify(const char *plugin, const char *key)
{
    if (!link__.open) return;
    char msg[LINK__MSG_MAX];
    int n = snprintf(msg, sizeof msg, "N%s%c%s", plugin, 0, key);
    if (n <= 0 || (size_t)n >= sizeof msg) return;
    unsigned char len[2] = {(unsigned char)((n + 1) >> 8), (unsigned char)(n + 1)};
    if (link__.pending.len + 2 + (size_t)n + 1 > LINK__PENDING_MAX ||
        ph_buf_append(&link__.pending, len, 2) ||
        ph_buf_append(&link__.pending, msg, (size_t)n + 1)) {
        link__lost("more than 1 MiB of notifications in one turn"); /* waiters time out */
        return;
    }
}

void workers_items_bump(int64_t db, bool only_if_new)
{
    if (!workers__page) return;
    int64_t seen = atomic_load(&workers__page->items_db);
    while (seen < db && !atomic_compare_exchange_weak(&workers__page->items_db, &seen, db)) {
    }
    if (only_if_new && seen >= db) return; /* accounted for already */
    atomic_fetch_add_explicit(&workers__page->items_version, 1, memory_order_release);
}

void workers_link_flush(void)
{
    size_t at = 0;
    const unsigned char *p = (const unsigned char *)link__.pending.data;
    while (at + 2 <= link__.pending.len) {
        size_t n = (size_t)p[at] << 8 | p[at + 1];
        link__send((const char *)p + at + 2, n);
        at += 2 + n;
    }
    link__.pending.len = 0;
}

uint64_t workers_connections_elsewhere(void)
{
    uint64_t n = 0;
    if (!workers__page) return 0;
    for (unsigned i = 0; i < WORKERS_MAX; i++)
        if (&workers__page->slot[i] != workers__slot)
            n += atomic_load_explicit(&workers__page->slot[i].conns, memory_order_relaxed);
    return n;
}

uint64_t workers_address_conns_elsewhere(size_t i)
{
    uint64_t n = 0;
    if (!workers__page || i >= WORKERS_ADDR_COUNTERS) return 0;
    for (unsigned k = 0; k < link__.nslots; k++)
        if (&workers__page->slot[k] != workers__slot)
            n += atomic_load_explicit(&workers__page->slot[k].addr_conns[i], memory_order_relaxed);
    return n;
}

uint64_t workers_site_changed(uint64_t seen)
{
    if (!workers__page) return seen;
    uint64_t now = atomic_fetch_add(&workers__page->site_version, 1) + 1;
    link__send("R", 1);
    /* Another worker's change between our read and our bump: serve `seen`
     * so that the next request looks again and rebinds with it. */
    return now == seen + 1 ? now : seen;
}
