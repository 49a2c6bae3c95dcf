/* park.wait and park.notify.
 *
 * A request waits on a key until another request (or job) of the same plugin
 * notifies it, or its time runs out: a live page's watchers wake when there
 * is news instead of polling. A notification wakes the waiters on the next
 * turn of the loop, never inside the notifier's own code, and goes to every
 * other worker through the supervisor (workers/), whose waiters of the key
 * wake as soon as it arrives.
 *
 * The waiters of a plugin are a list through host_req (wait_key, notified,
 * next_waiter, prev_waiter) whose head the runtime keeps in the plugin
 * (lua_plugin_waiters); a request leaves it when woken, or by park__unwait
 * from park_req_close when it ends while it waits. */
#include "park/park.h"
#include "workers/workers.h"

#include <stdlib.h>
#include <string.h>

void park__unwait(host_req *r)
{
    if (!r->wait_key) return;
    host_req **waiters = lua_plugin_waiters(r->plugin);
    if (r->prev_waiter)
        r->prev_waiter->next_waiter = r->next_waiter;
    else
        *waiters = r->next_waiter;
    if (r->next_waiter) r->next_waiter->prev_waiter = r->prev_waiter;
    r->next_waiter = r->prev_waiter = NULL;
    free(r->wait_key);
    r->wait_key = NULL;
}

static void notify__on_wait(uv_timer_t *t)
{
    host_req *r = t->data;
    if (r->state != REQ_SLEEPING) return;
    bool notified = r->notified;
    park__unwait(r);
    lua_pushboolean(r->co, notified);
    lua_req_resume(r, 1);
}

/* park.wait(key, ms) -> true when notified, false when the time ran out */
static int l_park_wait(lua_State *L)
{
    size_t kl;
    const char *key = luaL_checklstring(L, 1, &kl);
    lua_Integer ms = luaL_checkinteger(L, 2);
    luaL_argcheck(L, kl >= 1 && kl <= 128, 1, "a key is 1 to 128 bytes");
    luaL_argcheck(L, ms >= 0 && ms <= 24LL * 3600 * 1000, 2, "from 0 to 86400000 ms");
    host_req *r = lua_req_of(L);
    if (!r || L != r->co || !lua_isyieldable(L))
        return luaL_error(L, "park.wait must be called from the handler itself");
    if (!(r->wait_key = malloc(kl + 1))) return luaL_error(L, "not enough memory");
    memcpy(r->wait_key, key, kl + 1);
    host_req **waiters = lua_plugin_waiters(r->plugin);
    r->notified = false;
    r->prev_waiter = NULL;
    r->next_waiter = *waiters;
    if (*waiters) (*waiters)->prev_waiter = r;
    *waiters = r;
    lua_req_sleep(r, notify__on_wait, (uint64_t)ms);
    return lua_yield(L, 0);
}

int park_notify_local(host_plugin *p, const char *key)
{
    int n = 0;
    for (host_req *r = *lua_plugin_waiters(p); r; r = r->next_waiter) {
        if (r->notified || strcmp(r->wait_key, key) != 0) continue;
        r->notified = true;
        lua_req_wake(r, notify__on_wait); /* the next turn */
        n++;
    }
    return n;
}

/* park.notify(key) -> how many waiters of this worker it wakes (on the
 * loop's next turn); those of the other workers wake too. */
static int l_park_notify(lua_State *L)
{
    size_t kl;
    const char *key = luaL_checklstring(L, 1, &kl);
    host_plugin *p = lua_plugin_of(L);
    lua_pushinteger(L, park_notify_local(p, key));
    if (kl >= 1 && kl <= 128) workers_notify(lua_plugin_name(p), key); /* a waiter's key is */
    return 1;
}

void park_open_notify(lua_State *L)
{
    lua_pushcfunction(L, l_park_wait);
    lua_setfield(L, -2, "wait");
    lua_pushcfunction(L, l_park_notify);
    lua_setfield(L, -2, "notify");
}
