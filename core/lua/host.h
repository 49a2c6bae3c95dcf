/* lua: the Lua side of a worker: plugins loaded into their own Lua states,
 * their routes, and the call of a route's handler for an HTTP request.
 *
 * Provides: lua_host (every plugin found in the plugin directories, one
 *           lua_State each), lua_host_handle() as the worker's HTTP handler.
 * Owns:     the plugins' lua_States and the route table.
 * Uses:     Lua 5.4, http (requests and responses), log. This module is the
 *           only one that includes lua.h.
 *
 * A plugin is a folder with a plugin.lua that returns its manifest:
 *   return { name = "hello", version = "1.0.0",
 *            routes = { { "GET", "/hello", function(req) ... end } } }
 * A handler gets the request as a table and returns either a string (a 200
 * HTML page) or status, body, headers. Each call runs as a coroutine of the
 * plugin's state. An error raised by a handler becomes a 500 page showing the
 * request id, and an ERROR log line with the id and the traceback, which
 * names the plugin's file and line.
 */
#ifndef PH_LUA_HOST_H
#define PH_LUA_HOST_H

#include "conf/conf.h"
#include "http/http.h"

typedef struct lua_host lua_host;

/* Load every plugin folder (a directory holding plugin.lua) inside each of
 * `dirs`. A plugin that fails to load is logged with its file, line and
 * reason and left out; the others load. Returns 0, or PH_ENOMEM. A missing
 * directory is logged and skipped. */
int lua_host_new(lua_host **out, const conf_list *dirs);
/* How many plugins loaded. */
size_t lua_host_nplugins(const lua_host *h);
/* An http_handler_fn: route `req` to a plugin (404/405 when none) and answer it. */
void lua_host_handle(void *host, http_request *req);
/* Close every plugin state. No request may be in a handler. */
void lua_host_free(lua_host *h);

#endif
