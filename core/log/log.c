#include "log/log.h"
#include "base/base.h"

#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

/* Written once by log_init before workers start, then only read. */
static log_level log__threshold = LOG_INFO;
static char log__stdio_buf[64 * 1024];

/* Per-thread cache of "YYYY-MM-DDTHH:MM:SS" for the current second. */
static _Thread_local time_t log__cached_sec = -1;
static _Thread_local char log__cached_stamp[32];

static const char *const log__names[] = {"DEBUG", "INFO", "WARN", "ERROR"};

/* "w1 " in a worker of several, "" otherwise: which process wrote a line. */
static char log__tag[16];

void log_set_tag(const char *tag)
{
    snprintf(log__tag, sizeof log__tag, "%s%s", tag, *tag ? " " : "");
}

void log_init(log_level threshold)
{
    log__threshold = threshold;
    setvbuf(stderr, log__stdio_buf, _IOFBF, sizeof log__stdio_buf);
}

int log_level_parse(const char *s, log_level *out)
{
    for (int i = 0; i < 4; i++) {
        if (strcasecmp(s, log__names[i]) == 0) {
            *out = (log_level)i;
            return 0;
        }
    }
    return PH_EINVAL;
}

int log_enabled(log_level lvl)
{
    return lvl >= log__threshold;
}

void log_vmsg(log_level lvl, const char *fmt, va_list ap)
{
    if (lvl < log__threshold) return;
    struct timeval tv;
    gettimeofday(&tv, NULL);
    if (tv.tv_sec != log__cached_sec) {
        struct tm tm;
        gmtime_r(&tv.tv_sec, &tm);
        strftime(log__cached_stamp, sizeof log__cached_stamp, "%Y-%m-%dT%H:%M:%S", &tm);
        log__cached_sec = tv.tv_sec;
    }
    flockfile(stderr);
    fprintf(stderr, "%s.%03dZ %s%-5s ", log__cached_stamp, (int)(tv.tv_usec / 1000), log__tag,
            log__names[lvl]);
    vfprintf(stderr, fmt, ap);
    putc_unlocked('\n', stderr);
    if (lvl >= LOG_WARN) fflush(stderr);
    funlockfile(stderr);
}

void log_msg(log_level lvl, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_vmsg(lvl, fmt, ap);
    va_end(ap);
}

void log_flush(void)
{
    fflush(stderr);
}
