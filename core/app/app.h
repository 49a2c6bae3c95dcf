/* app: the subcommands of the parkhost binary, each a function main() calls.
 *
 * Provides: app_serve() (a worker: its loop, HTTP server, plugins, database
 *           and signals) and app_test() (busted specs inside the host).
 * Owns:     the worker struct, which holds all mutable state of a worker.
 * Uses:     conf, log, http, lua, store.
 */
#ifndef PH_APP_H
#define PH_APP_H

#include "conf/conf.h"

/* Serve the site as one worker of a supervisor (workers/), until it sends
 * SIGTERM. Returns the process exit status: 0 after a graceful stop, 1 when
 * the worker could not start. */
int app_serve(const ph_conf *conf);

/* Apply the plugins' pending migrations to conf->db and list them all. */
int app_migrate(const ph_conf *conf);

/* `parkhost jobs`: list the scheduled jobs, their next and last runs and
 * how the last one ended. Returns the exit status. */
int app_jobs(const ph_conf *conf);

/* `parkhost user ...`: staff accounts (add, grant, passwd, disable, enable,
 * list). Returns the exit status. */
int app_user(int argc, char **argv);

/* `parkhost unit add CODE NAME | list`: the park's units. Returns the exit
 * status. */
int app_unit(int argc, char **argv);

/* `parkhost site import FILE | export [FILE]`: the site model as a
 * declarative file. Returns the exit status. */
int app_site(int argc, char **argv);

/* The audit log's actor for a command: "cli:" and the operating-system
 * user who ran it (the one behind sudo when there is one). */
void app_cli_actor(char *out, size_t n);

/* `parkhost audit [filters]`: the audit log, newest first. Returns the
 * exit status. */
int app_audit(int argc, char **argv);

/* `parkhost calendar ...`: keep the working-day calendar. Returns the exit
 * status. */
int app_calendar(int argc, char **argv);

/* Ask the server whose pid is in conf->pid_file to reload (SIGHUP to its
 * supervisor, which reloads the workers one after another). */
int app_reload(const ph_conf *conf);

/* Create the folder of a new plugin NAME inside `dir`: a manifest with one
 * route and a config field, a template, a stylesheet and a passing spec.
 * Returns the exit status. */
int app_new_plugin(const char *name, const char *dir);

/* Run busted with argv[0..argc) as its arguments (spec paths and busted
 * flags) in a Lua state of the host. Returns the exit status. */
int app_test(int argc, char **argv);

#endif
