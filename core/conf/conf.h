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
    XX(STR, db, "db", "var/parkhost.db", 0, 0, "SQLite database file (created if missing)")        \
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
    XX(INT, send_timeout_ms, "send-timeout-ms", "60000", 10, 3600000,                              \
       "a client that takes no response bytes for this long is disconnected")                      \
    XX(INT, keepalive_timeout_ms, "keepalive-timeout-ms", "5000", 10, 3600000,                     \
       "idle keep-alive connections are closed after this")                                        \
    XX(INT, max_connections, "max-connections", "1024", 1, 1000000,                                \
       "open connections past this get 503 and are closed")                                        \
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
