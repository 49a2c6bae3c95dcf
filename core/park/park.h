/* park: the `park` module a plugin requires (require("park")), one area of
 * the API per file, and the req and res objects its handlers get.
 * docs/plugin-api.md documents every function for plugin authors.
 *
 * Provides: park_open(), which the runtime calls for each plugin state;
 *           the req and res objects of a request, and what the runtime
 *           calls when a request ends or a plugin's code fails or closes.
 * Owns:     the objects' userdata, the files a request's multipart body was
 *           spooled to, park.db's statement cache, the list of requests in
 *           park.wait (both kept in slots of the plugin: lua_plugin_stmts,
 *           lua_plugin_waiters).
 * Uses:     the runtime through lua/runtime.h only (never lua/internal.h);
 *           auth, audit, calendar, form, log, sched, site, store, workers
 *           (park.notify reaches the other workers).
 *
 * Adding an area: a file core/park/<area>.c defining park_open_<area>, and
 * one line in PARK_AREAS below. park_open (park.c) calls every area's open
 * function in this order on the new park table.
 */
#ifndef PH_PARK_H
#define PH_PARK_H

#include "form/form.h"
#include "lua/runtime.h"

#include <lua.h>
#include <stdbool.h>
#include <stdint.h>

/* Every area of the API: X(area) for each, its open function
 * park_open_<area>(L) adding its fields to the park table on top of L's
 * stack (and registering the metatables it needs), the stack left as it
 * was. */
#define PARK_AREAS(X)                                                                              \
    X(request)  /* request.c: req (its fields and methods) */                                      \
    X(response) /* response.c: res; park.html, text, json, redirect */                             \
    X(notify)   /* notify.c: park.wait, park.notify */                                             \
    X(time)     /* time.c: park.now, park.sleep */                                                 \
    X(text)     /* text.c: park.escape, park.url_encode, park.url_decode */                        \
    X(token)    /* token.c: park.token, park.sha256 */                                             \
    X(log)      /* log.c: park.log.info, warn, error */                                            \
    X(template) /* template.c: park.render */                                                      \
    X(db)       /* db.c: park.db */                                                                \
    X(files)    /* files.c: park.files */                                                          \
    X(calendar) /* calendar.c: park.calendar */                                                    \
    X(sched)    /* sched.c: park.sched */                                                          \
    X(csrf)     /* csrf.c: park.csrf */                                                            \
    X(session)  /* session.c: park.auth, park.audit */                                             \
    X(site)     /* site.c: park.site */                                                            \
    X(items)    /* items.c: park.items (the site-wide index) */

#define PARK__DECLARE_OPEN(area) void park_open_##area(lua_State *L);
PARK_AREAS(PARK__DECLARE_OPEN)
#undef PARK__DECLARE_OPEN

/* ---- what the runtime calls (park.c, db.c) ---------------------------- */

/* Register require("park") in the plugin's state: the park table, made by
 * every area of PARK_AREAS, in the require cache. */
void park_open(lua_State *L);
/* Push the request object for r onto co; then the response object. They
 * hold r (borrowed) until park_req_close or park__answered. */
void park_push_req(lua_State *co, host_req *r);
void park_push_res(lua_State *co, host_req *r);
/* The request ends: invalidate the objects, take r off park.wait's list,
 * remove the uploaded files the handler did not keep, free r->uploads. */
void park_req_close(host_req *r);
/* Free a plugin's statement cache (before its state closes). */
void park_db_free(host_plugin *p);
/* After a run of plugin code ended by an error: no namespace or progress
 * hook left on the store, no statement left mid-step. */
void park_db_settle(host_plugin *p);

/* ---- shared between areas (park__: not for the runtime) ----------------- */

/* Both objects are this userdata; r is NULL once the request ended. The
 * user value of a request is a table caching what was parsed. */
typedef struct {
    host_req *r;
} park__obj;
/* The objects' metatable names (park.c). park__check compares the pointer
 * to tell them apart in its message. */
extern const char PARK__REQ[], PARK__RES[];
/* The live request of the object at idx (mt: PARK__REQ or PARK__RES);
 * raises "attempt to use a finished request/response" once it ended. */
host_req *park__check(lua_State *L, int idx, const char *mt);
/* The request was answered from C while its handler still runs
 * (park.files.send): req and res raise "attempt to use a finished ..."
 * from now on, as they do once the request ended; the uploads stay until
 * park_req_close. */
void park__answered(host_req *r);
/* The host's database for `api` ("park.db"), or a Lua error saying this
 * host has none (park.c). */
store *park__store(lua_State *L, host_plugin *p, const char *api);
/* t[k] = v on the table on top of L's stack; nothing when v is NULL. */
void park__setstr(lua_State *L, const char *k, const char *v);
/* Take r off park.wait's list, if it waits there (notify.c). */
void park__unwait(host_req *r);
/* Wake p's waiters of `key` in this worker, on the loop's next turn; how
 * many (notify.c). park.notify calls it, and the runtime for another
 * worker's park.notify. */
int park_notify_local(host_plugin *p, const char *key);
/* Add the Set-Cookie header of c to r (form_set_cookie's checks; raises on
 * a bad cookie or once a stream has started). response.c. */
void park__set_cookie(lua_State *L, host_req *r, const form_cookie *c);
/* The client's address (behind trusted proxies, from X-Forwarded-For)
 * into ip (64 bytes); false when unknown. And whether the client reached
 * the site over HTTPS (X-Forwarded-Proto from a trusted proxy). request.c. */
bool park__client_ip(const host_req *r, char *ip, size_t n);
bool park__via_https(const host_req *r);
/* The logged-in user of r (NULL or a job: none): the id, and the login
 * into login (n bytes); 0 when nobody is logged in. session.c. */
int64_t park__session_user(host_req *r, char *login, size_t n);
/* park.auth.can and can_unit, which park.auth (session.c) holds. site.c. */
int park__auth_can(lua_State *L);
int park__auth_can_unit(lua_State *L);

#endif
