/* log: leveled log lines on stderr, batched per loop turn.
 *
 * Provides: log_msg() for "TIME [TAG] LEVEL message" lines, log_flush().
 * Owns:     the stderr stdio buffer (made fully buffered by log_init) and a
 *           per-thread cache of the formatted second.
 * Uses:     libc stdio.
 *
 * Lines at INFO and DEBUG (the access log) are buffered and reach stderr when
 * the worker calls log_flush() once per loop turn, so a burst of pipelined
 * requests costs one write(2), not one per line. WARN and ERROR lines are
 * flushed at once.
 */
#ifndef PH_LOG_H
#define PH_LOG_H

#include <stdarg.h>

typedef enum { LOG_DEBUG = 0, LOG_INFO = 1, LOG_WARN = 2, LOG_ERROR = 3 } log_level;

/* Set the threshold. Call once at start, before any worker thread runs; the
 * level is read-only afterwards. */
void log_init(log_level threshold);
/* Begin every line with `tag` ("w1", "super"; "" for none), so that the
 * lines of the supervisor and its workers in one log tell who wrote them. */
void log_set_tag(const char *tag);
/* Parse "debug", "info", "warn" or "error". Returns 0 or PH_EINVAL. */
int log_level_parse(const char *s, log_level *out);
/* Whether a line at `lvl` would be written (to skip building costly lines). */
int log_enabled(log_level lvl);
/* Write one line. The message must not end with a newline. */
void log_msg(log_level lvl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void log_vmsg(log_level lvl, const char *fmt, va_list ap);
/* Push buffered lines to stderr. */
void log_flush(void);

#endif
