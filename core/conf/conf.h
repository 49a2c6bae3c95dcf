/* conf: the settings of a parkhost instance, from defaults, a config file and flags.
 *
 * Provides: ph_conf (every setting, each with a name, a default, a range and a
 *           help line, listed once in CONF_SETTINGS), conf_load() and conf_help().
 * Owns:     the strings inside a ph_conf, freed by conf_free().
 * Uses:     libc only.
 *
 * Precedence: built-in default < config file (--config FILE) < flags. Every
 * setting is both a flag (--max-body-bytes 4096) and a config key
 * (max-body-bytes = 4096).
 */
#ifndef PH_CONF_H
#define PH_CONF_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifndef PARKHOST_LUALIB_DIR
#define PARKHOST_LUALIB_DIR "lualib"
#endif
#ifndef PARKHOST_SQL_DIR
#define PARKHOST_SQL_DIR "sql"
#endif

typedef struct {
    char **v;
    size_t n;
} conf_list;

/* XX(type, field, name, default, min, max, help). INT limits are inclusive. */
#define CONF_SETTINGS(XX)                                                                          \
    XX(STR, host, "host", "127.0.0.1", 0, 0, "address to listen on")                               \
    XX(INT, port, "port", "8080", 0, 65535, "TCP port to listen on; 0 picks a free one")           \
    XX(LIST, plugins, "plugins", "plugins", 0, 0,                                                  \
       "directory of plugin folders; repeat the flag for more directories")                        \
    XX(STR, lualib, "lualib", PARKHOST_LUALIB_DIR, 0, 0, "where the host's Lua libraries are")     \
    XX(STR, sql_dir, "sql-dir", PARKHOST_SQL_DIR, 0, 0, "the core's migrations (NNN_*.sql)")       \
    XX(INT, plugin_memory_mb, "plugin-memory-mb", "64", 1, 65536,                                  \
       "memory cap of each plugin's Lua state, in MiB")                                            \
    XX(INT, plugin_instructions, "plugin-instructions", "50000000", 10000, 100000000000,           \
       "Lua instructions a request may run between two waits; past it: 503")                       \
    XX(INT, plugin_failures, "plugin-failures", "20", 1, 1000000,                                  \
       "a plugin that fails this often within plugin-failure-window-s goes into maintenance")      \
    XX(INT, plugin_failure_window_s, "plugin-failure-window-s", "60", 1, 86400,                    \
       "the window in which plugin failures are counted")                                          \
    XX(INT, plugin_maintenance_s, "plugin-maintenance-s", "60", 1, 86400,                          \
       "how long a failing plugin's columns show the maintenance page")                            \
    XX(INT, plugin_max_hold_ms, "plugin-max-hold-ms", "1000", 5, 3600000,                          \
       "a plugin's code that holds the loop this long without waiting is stopped: 503")            \
    XX(INT, plugin_kill_ms, "plugin-kill-ms", "10000", 100, 3600000,                               \
       "a plugin stuck this long inside one C call ends the worker (logged; a supervisor "         \
       "replaces it) and its plugin goes into maintenance")                                        \
    XX(INT, plugin_cpu_percent, "plugin-cpu-percent", "50", 1, 100,                                \
       "CPU a plugin may use in the background (jobs, requests after their first wait), in "       \
       "percent of one core over plugin-cpu-window-s; past it: throttled (503), then maintenance") \
    XX(INT, plugin_cpu_window_s, "plugin-cpu-window-s", "10", 1, 3600,                             \
       "the sliding window of plugin-cpu-percent")                                                 \
    XX(LIST, secret_cookies, "secret-cookies", "", 0, 0,                                           \
       "a cookie plugins never see nor set, besides the host's own; repeat for more")              \
    XX(LIST, secret_headers, "secret-headers", "", 0, 0,                                           \
       "a request header plugins never see, besides Authorization and Proxy-Authorization; "       \
       "repeat for more")                                                                          \
    XX(INT, max_response_header_bytes, "max-response-header-bytes", "32768", 256, 1048576,         \
       "response headers a plugin may set, in bytes; past it: 500")                                \
    XX(INT, stream_buffer_bytes, "stream-buffer-bytes", "1048576", 65536, 1073741824,              \
       "bytes of a stream the client has not taken yet; writes wait past 64 KiB, and past this "   \
       "the stream is ended")                                                                      \
    XX(INT, plugin_db_value_bytes, "plugin-db-value-bytes", "16777216", 1024, 1073741824,          \
       "largest string or blob a plugin's SQL may make or read")                                   \
    XX(INT, plugin_sql_bytes, "plugin-sql-bytes", "65536", 1024, 1000000000,                       \
       "longest SQL statement a plugin may prepare, in bytes")                                     \
    XX(INT, plugin_log_lines, "plugin-log-lines", "100", 1, 1000000,                               \
       "log lines (print, park.log) a plugin may write per second, in bursts of as many; the "     \
       "rest are dropped and counted")                                                             \
    XX(INT, max_form_fields, "max-form-fields", "1000", 1, 1000000,                                \
       "fields in one form or query string; past it: 413")                                         \
    XX(STR, upload_dir, "upload-dir", "var/uploads", 0, 0,                                         \
       "where uploaded files wait while their request runs")                                       \
    XX(STR, files_dir, "files-dir", "var/files", 0, 0,                                             \
       "where plugins keep files (park.files), one folder per plugin")                             \
    XX(INT, plugin_files_mb, "plugin-files-mb", "1024", 1, 16777216,                               \
       "what one plugin's kept files may add up to; a keep or put past it: nil, LIMIT")            \
    XX(LIST, log_query, "log-query", "", 0, 0,                                                     \
       "a query parameter the access log may show (the log shows paths without their query "       \
       "string: codes and tokens in URLs stay out); repeat for more")                              \
    XX(LIST, trusted_proxies, "trusted-proxies", "", 0, 0,                                         \
       "a proxy address (or CIDR) whose X-Forwarded-For is believed; repeat for more")             \
    XX(INT, static_max_age_s, "static-max-age-s", "3600", 0, 31536000,                             \
       "Cache-Control max-age of plugins' static files")                                           \
    XX(INT, reload_grace_ms, "reload-grace-ms", "5000", 0, 3600000,                                \
       "after a reload, streams still on the old version are ended after this")                    \
    XX(INT, clock_offset_s, "clock-offset-s", "0", -315360000, 315360000,                          \
       "moves the park clock (jobs, park.now, os.time) by this many seconds; for tests and "       \
       "rehearsals, 0 in production")                                                              \
    XX(INT, utc_offset_min, "utc-offset-min", "480", -720, 840,                                    \
       "the site's local time in minutes east of UTC (480: China); cron and dates use it")         \
    XX(INT, jobs_poll_ms, "jobs-poll-ms", "1000", 10, 3600000,                                     \
       "longest wait between two looks for due jobs (how late jobs set elsewhere are seen)")       \
    XX(INT, jobs_concurrency, "jobs-concurrency", "8", 1, 10000, "jobs one worker runs at once")   \
    XX(INT, job_lease_s, "job-lease-s", "300", 1, 86400,                                           \
       "a job whose worker stops extending its lease for this long is run again elsewhere")        \
    XX(INT, job_retries, "job-retries", "5", 0, 1000,                                              \
       "a failing job is retried this many times before it is marked failed")                      \
    XX(INT, job_retry_base_s, "job-retry-base-s", "30", 1, 86400,                                  \
       "wait before the first retry of a failed job; each next retry waits twice as long")         \
    XX(INT, job_retry_max_s, "job-retry-max-s", "3600", 1, 604800,                                 \
       "the longest wait between two retries of a failed job")                                     \
    XX(INT, job_payload_bytes, "job-payload-bytes", "65536", 16, 16777216,                         \
       "largest payload of a scheduled job, as JSON")                                              \
    XX(INT, audit_value_bytes, "audit-value-bytes", "65536", 16, 16777216,                         \
       "largest before or after value of one audit entry, as JSON")                                \
    XX(INT, password_min_length, "password-min-length", "10", 8, 1024,                             \
       "the fewest characters a staff password may have")                                          \
    XX(INT, session_ttl_s, "session-ttl-s", "28800", 60, 2592000,                                  \
       "a staff session ends this long after its login")                                           \
    XX(INT, login_window_s, "login-window-s", "900", 1, 86400,                                     \
       "failed logins are counted over this window")                                               \
    XX(INT, login_max_failures, "login-max-failures", "5", 1, 1000,                                \
       "failed logins of one account within the window before its logins wait")                    \
    XX(INT, login_max_failures_address, "login-max-failures-address", "20", 1, 100000,             \
       "failed logins from one address within the window (any accounts) after which its login "    \
       "attempts are slowed by login-delay-ms per further failure; never refused for it")          \
    XX(INT, login_delay_ms, "login-delay-ms", "1000", 0, 600000,                                   \
       "the wait added to a login attempt per failure of its address past "                        \
       "login-max-failures-address; 0: none")                                                      \
    XX(INT, login_delay_max_ms, "login-delay-max-ms", "10000", 0, 600000,                          \
       "the longest wait of one login attempt from an address under attack")                       \
    XX(INT, login_device_days, "login-device-days", "30", 0, 3650,                                 \
       "a browser that logged in as an account is known for this many days (a signed cookie): "    \
       "its logins as that account are not slowed by its address; 0: no such cookie")              \
    XX(STR, pid_file, "pid-file", "var/parkhost.pid", 0, 0,                                        \
       "where serve writes its supervisor's process id (for parkhost reload)")                     \
    XX(INT, workers, "workers", "0", 0, 64,                                                        \
       "worker processes serving the site, each on its own core; 0: one per core")                 \
    XX(STR, control_socket, "control-socket", "", 0, 0,                                            \
       "the supervisor's local socket, where parkhost status asks how the workers are; empty: "    \
       "the pid file's path with .sock for .pid")                                                  \
    XX(INT, worker_backoff_max_ms, "worker-backoff-max-ms", "30000", 100, 3600000,                 \
       "a worker that keeps dying is started again after a wait that doubles up to this")          \
    XX(INT, worker_hang_ms, "worker-hang-ms", "30000", 1000, 3600000,                              \
       "a worker whose loop has not turned for this long is killed and replaced")                  \
    XX(INT, site_poll_ms, "site-poll-ms", "1000", 10, 3600000,                                     \
       "how often each worker looks for a change of the columns or bindings that no signal told "  \
       "it of (one made by a command such as parkhost site import)")                               \
    XX(STR, db, "db", "var/parkhost.db", 0, 0, "SQLite database file (created if missing)")        \
    XX(INT, group_commit, "group-commit", "1", 0, 1,                                               \
       "1: one fsync for all the commits of a loop turn, before any answer leaves; 0: one fsync "  \
       "per commit")                                                                               \
    XX(STR, log_level, "log-level", "info", 0, 0,                                                  \
       "debug, info (with the access log), warn or error")                                         \
    XX(INT, max_header_bytes, "max-header-bytes", "16384", 256, 1048576,                           \
       "request line and headers larger than this get 431")                                        \
    XX(INT, max_body_bytes, "max-body-bytes", "1048576", 0, 1073741824,                            \
       "request bodies larger than this get 413, before the body is read")                         \
    XX(INT, header_timeout_ms, "header-timeout-ms", "10000", 10, 3600000,                          \
       "time allowed to receive a request's head, else 408 and close")                             \
    XX(INT, body_timeout_ms, "body-timeout-ms", "30000", 10, 3600000,                              \
       "longest silence while receiving a body, else 408 and close")                               \
    XX(INT, body_min_rate, "body-min-rate", "500", 0, 1073741824,                                  \
       "bytes per second a body must arrive at, measured over body-rate-window-s (or the rest "    \
       "of the body within the window), else 408 and close; 0: no minimum")                        \
    XX(INT, body_rate_window_s, "body-rate-window-s", "10", 1, 3600,                               \
       "the window over which body-min-rate is measured")                                          \
    XX(INT, send_timeout_ms, "send-timeout-ms", "60000", 10, 3600000,                              \
       "a client that takes no response bytes for this long is disconnected")                      \
    XX(INT, keepalive_timeout_ms, "keepalive-timeout-ms", "5000", 10, 3600000,                     \
       "idle keep-alive connections are closed after this")                                        \
    XX(INT, max_connections, "max-connections", "1024", 1, 1000000,                                \
       "open connections, counted over every worker, past which a new one gets 503 and is closed") \
    XX(INT, max_connections_per_address, "max-connections-per-address", "128", 0, 1000000,         \
       "open connections from one client address (an IPv6 /64), counted over every worker, past "  \
       "which a new one from it gets 503 with Retry-After and is closed; trusted proxies are "     \
       "exempt; 0: no cap")                                                                        \
    XX(INT, pipeline_batch, "pipeline-batch", "32", 1, 4096,                                       \
       "pipelined requests handled per read before the loop is given back")                        \
    XX(INT, shutdown_timeout_ms, "shutdown-timeout-ms", "10000", 0, 3600000,                       \
       "on SIGTERM/SIGINT, in-flight requests get this long to finish")

#define CONF__TYPE_STR  char *
#define CONF__TYPE_INT  int64_t
#define CONF__TYPE_LIST conf_list

typedef struct {
#define CONF__FIELD(type, field, name, def, min, max, help) CONF__TYPE_##type field;
    CONF_SETTINGS(CONF__FIELD)
#undef CONF__FIELD
    char *config_path; /* --config FILE, or NULL */
} ph_conf;

/* Fill `c` from defaults, the config file named by --config (if any) and the
 * flags in argv[0..argc). On failure returns PH_EINVAL (or PH_ENOMEM) and
 * writes a message naming the flag, or the file and line, into err. `c` must
 * be released with conf_free() either way. */
int conf_load(ph_conf *c, int argc, char **argv, char *err, size_t errlen);
void conf_free(ph_conf *c);
/* Print every setting with its default and help line. */
void conf_help(FILE *out);

#endif
