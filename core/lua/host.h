/* lua: the Lua side of a worker: plugins loaded into sandboxed Lua states,
 * columns bound to plugins, and the run of a route's handler for a request.
 *
 * Provides: lua_host (the plugins found in the plugin directories, one
 *           lua_State each, and the bindings of columns to them),
 *           lua_host_handle() as the worker's HTTP handler, lua_host_reload().
 * Owns:     the plugins' lua_States, routes, bindings and requests in flight.
 * Uses:     Lua 5.4, libuv (timers), http, conf, log, workers (the site
 *           model's version other workers bump), and park/ (the `park`
 *           API bindings, which see this runtime through lua/runtime.h).
 *           This module is the only one that embeds plugins (app/ runs
 *           trusted Lua of its own).
 *
 * A request under a column's path reaches the plugin bound to the column,
 * with the column's config; the plugin's routes are relative to the column.
 * Each request runs as a coroutine of the plugin's state under a memory cap
 * (per plugin) and an instruction budget (per run between waits). An error
 * becomes a 500 page showing the request id and an ERROR log line with the
 * traceback naming the plugin's file and line; an exceeded budget or cap a
 * 503. docs/plugin-api.md is the reference for plugin authors.
 */
#ifndef PH_LUA_HOST_H
#define PH_LUA_HOST_H

#include "conf/conf.h"
#include "http/http.h"

#include <uv.h>

typedef struct lua_host lua_host;
struct store;
struct lua_State;

/* The site's error pages in its layout (http_server_set_error_page): the
 * page around them is park.layout.chrome() rendered by the console, once
 * per site model; non-zero when there is none (the server's own page). */
int lua_host_error_page(void *ud, const http_request *req, int status, ph_buf *out);
/* The loop's turn is over and its writes are durable: if a plugin
 * published or withdrew an item in it, move the index's version that
 * every worker's page caches compare (park.items.version()). */
void lua_host_flush_items(lua_host *h);
/* Load the admin console (conf->lualib/admin, bound to /admin), every plugin
 * folder (a directory holding plugin.lua) inside each of conf->plugins, and
 * the site's columns and bindings from `db` (borrowed, may be NULL: no
 * columns). A plugin or binding that fails is logged with its file, line
 * and reason and left out; the rest load. Each plugin's migrations (its
 * sql/ folder) are applied to `db` under its namespace before it loads;
 * one that fails keeps the plugin out. `conf` and `db` must outlive the
 * host. Returns 0, PH_EDB when the columns cannot be read (logged), or
 * PH_ENOMEM. */
int lua_host_new(lua_host **out, uv_loop_t *loop, const ph_conf *conf, struct store *db);
/* How many plugins and bindings (the console's included) are live. */
size_t lua_host_nplugins(const lua_host *h);
size_t lua_host_nbindings(const lua_host *h);
/* An http_handler_fn: route `req` to a plugin (404/405 when none) and answer it. */
void lua_host_handle(void *host, http_request *req);
/* Load plugins again from disk, and the columns and bindings from the
 * database. A plugin whose new version fails to load keeps serving its
 * previous version. Requests in flight finish on the version they started
 * on; streams still on an old version of their plugin after
 * conf->reload_grace_ms are ended (server-sent events are told to come back
 * soon). Returns 0, or an error when nothing could be reloaded. */
int lua_host_reload(lua_host *h);
/* Another worker changed the site model (workers/): rebind if this worker
 * has not yet. lua_host_handle checks it before every request too. */
void lua_host_site_check(lua_host *h);
/* Another worker's park.notify(key) in `plugin`: wake this worker's
 * waiters of that key. */
void lua_host_notify(lua_host *h, const char *plugin, const char *key);
/* Check the config at idx of `from` against the schema of the live plugin
 * `plugin`: 0, PH_ENOTFOUND (no such plugin is loaded) or PH_EINVAL, with
 * the reason (naming the field) in why. With `json`, *json gets the
 * config as given, as JSON text (malloc'd), when it passes. */
int lua_host_check_config(lua_host *h, const char *plugin, struct lua_State *from, int idx,
                          char **json, char *why, size_t whylen);
/* Stop: end every request still with a plugin (streams, waits). Then, once
 * the loop has closed the host's handles, lua_host_free(). */
void lua_host_stop(lua_host *h);
void lua_host_free(lua_host *h);
/* Make a fatal signal (SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT) log the
 * plugin and request that were running and a backtrace before the process
 * dies, the handler there before (the default, or a sanitizer's) running
 * after it. For the serving process. */
void lua_host_install_crash_report(void);

#endif
