/* Static files of plugins: /static/<plugin>/<path> from the plugin's own
 * static/ folder, with ETag, Last-Modified and Cache-Control, never a byte
 * from outside that folder: the file is opened beneath the plugin's folder
 * (lua__open_beneath), so neither it nor static/ nor a folder between may
 * be a symbolic link. */
#include "log/log.h"
#include "lua/internal.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

enum { STATIC__MAX_BYTES = 16 * 1024 * 1024 };

static const struct {
    const char *ext, *type;
} static__types[] = {
    {"css", "text/css; charset=utf-8"},
    {"js", "text/javascript; charset=utf-8"},
    {"mjs", "text/javascript; charset=utf-8"},
    {"json", "application/json"},
    {"html", "text/html; charset=utf-8"},
    {"htm", "text/html; charset=utf-8"},
    {"txt", "text/plain; charset=utf-8"},
    {"xml", "application/xml"},
    {"svg", "image/svg+xml"},
    {"png", "image/png"},
    {"jpg", "image/jpeg"},
    {"jpeg", "image/jpeg"},
    {"gif", "image/gif"},
    {"webp", "image/webp"},
    {"ico", "image/x-icon"},
    {"woff", "font/woff"},
    {"woff2", "font/woff2"},
    {"pdf", "application/pdf"},
    {"map", "application/json"},
};

static const char *static__type(const char *path)
{
    const char *dot = strrchr(path, '.');
    if (dot && !strchr(dot, '/'))
        for (size_t i = 0; i < sizeof static__types / sizeof static__types[0]; i++)
            if (!strcasecmp(dot + 1, static__types[i].ext)) return static__types[i].type;
    return "application/octet-stream";
}

/* A relative path of plain names: no "..", no empty or hidden segments, no
 * escapes. Percent-escapes are not decoded, so they are refused too. */
static bool static__path_ok(const char *p)
{
    if (!*p) return false;
    const char *seg = p;
    for (const char *c = p;; c++) {
        if (*c == '/' || *c == 0) {
            if (c == seg || *seg == '.') return false;
            if (!*c) return true;
            seg = c + 1;
            continue;
        }
        bool ok = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
                  (*c >= '0' && *c <= '9') || *c == '-' || *c == '_' || *c == '.';
        if (!ok) return false;
    }
}

void lua_http_date(char *buf, size_t n, time_t t)
{
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, n, "%a, %d %b %Y %H:%M:%S GMT", &tm);
}

time_t lua_http_parse_date(const char *s)
{
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    const char *end = strptime(s, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    return end && !*end ? timegm(&tm) : (time_t)-1;
}

/* Serve q if its path is under /static/; returns false when it is not. */
bool lua__static_serve(lua_host *h, http_request *q)
{
    if (strncmp(q->path, "/static/", 8) != 0) return false;
    const char *name = q->path + 8;
    const char *slash = strchr(name, '/');
    if (!slash || slash == name) {
        http_respond_error(q, 404, NULL, 0);
        return true;
    }
    if (strcmp(q->method, "GET") != 0 && strcmp(q->method, "HEAD") != 0) {
        static const http_header allow = {"Allow", 5, "GET, HEAD", 9};
        http_respond_error(q, 405, &allow, 1);
        return true;
    }
    /* /static/park/ is the host's own (the site's stylesheet, lualib/park/
     * static); "park" is no plugin's name. */
    const char *dir = NULL, *owner = "park";
    char host_dir[PATH_MAX];
    if (slash - name == 4 && !memcmp(name, "park", 4)) {
        snprintf(host_dir, sizeof host_dir, "%s/park", h->conf->lualib);
        dir = host_dir;
    }
    for (size_t i = 0; !dir && h->gen && i < h->gen->nplugins; i++) {
        const char *n = h->gen->plugins[i]->name;
        if (strlen(n) == (size_t)(slash - name) && !memcmp(n, name, (size_t)(slash - name))) {
            dir = h->gen->plugins[i]->dir;
            owner = n;
        }
    }
    const char *rel = slash + 1;
    char want[PATH_MAX];
    if (!dir || !static__path_ok(rel) ||
        (size_t)snprintf(want, sizeof want, "static/%s", rel) >= sizeof want) {
        http_respond_error(q, 404, NULL, 0);
        return true;
    }
    /* Opened beneath the plugin's folder, so no name on the way may be a
     * symbolic link: not the file, not static/ itself. O_NONBLOCK: a FIFO
     * must not hold the loop at the open (it is no regular file: 404). */
    int fd = lua__open_beneath(dir, want, O_RDONLY | O_NONBLOCK, 0);
    if (fd == -ELOOP || fd == -EXDEV)
        log_msg(LOG_WARN, "plugin %s: %s/%s leads through a symbolic link: not served rid=%s",
                owner, dir, want, q->id);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        if (fd >= 0) close(fd);
        http_respond_error(q, 404, NULL, 0);
        return true;
    }
    if (st.st_size > STATIC__MAX_BYTES) {
        close(fd);
        log_msg(LOG_WARN, "static file %s/%s is larger than %d bytes: not served", dir, want,
                STATIC__MAX_BYTES);
        http_respond_error(q, 404, NULL, 0);
        return true;
    }
    char etag[64], modified[64], cache[64];
    snprintf(etag, sizeof etag, "\"%llx-%llx\"", (unsigned long long)st.st_size,
             (unsigned long long)st.st_mtim.tv_sec * 1000000000ULL + st.st_mtim.tv_nsec);
    lua_http_date(modified, sizeof modified, st.st_mtim.tv_sec);
    snprintf(cache, sizeof cache, "public, max-age=%lld", (long long)h->conf->static_max_age_s);
    const char *type = static__type(rel);
    http_header hs[] = {
        {"Content-Type", 12, type, strlen(type)},
        {"ETag", 4, etag, strlen(etag)},
        {"Last-Modified", 13, modified, strlen(modified)},
        {"Cache-Control", 13, cache, strlen(cache)},
    };
    const char *inm = http_request_header(q, "if-none-match");
    const char *ims = http_request_header(q, "if-modified-since");
    bool fresh = inm ? (strstr(inm, etag) != NULL || strcmp(inm, "*") == 0)
                     : (ims && lua_http_parse_date(ims) >= st.st_mtim.tv_sec);
    if (fresh) {
        close(fd);
        http_respond(q, 304, hs + 1, 3, NULL, 0);
        return true;
    }
    char *body = malloc((size_t)st.st_size + 1);
    size_t got = 0;
    while (body && got < (size_t)st.st_size) {
        ssize_t n = read(fd, body + got, (size_t)st.st_size - got);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        got += (size_t)n;
    }
    close(fd);
    if (!body || got != (size_t)st.st_size) {
        free(body);
        http_respond_error(q, 500, NULL, 0);
        return true;
    }
    http_respond(q, 200, hs, 4, body, got);
    free(body);
    return true;
}
