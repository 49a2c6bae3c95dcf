/* park.files: the files a plugin keeps (attachments), outside the web root,
 * in <files-dir>/<plugin>/<id>, served through the plugin.
 *
 * keep() gives an upload of the current request a second name in the
 * plugin's folder (a hard link; a copy across file systems) under a new
 * random id, and fsyncs the file and the folder before it returns: a kept
 * file survives a crash. The upload's own name goes when the request ends,
 * as for every upload. send() answers the current request with a file
 * (ETag, 304, HEAD, 404) and marks the request answered: the host ignores
 * what the handler returns then, and req and res are finished.
 *
 * The file system work runs on the libuv thread pool while the handler
 * waits, as a password check does (session.c): keep's link, copy and
 * fsyncs, and all of send's open, stat and read. send() answers from the
 * work's end, on the loop and outside the coroutine, and only then resumes
 * it; it is therefore refused where the handler cannot wait (inside
 * db.transaction, in a coroutine of the plugin). keep() runs inline there
 * instead. A client that leaves meanwhile marks the request orphaned
 * (lua/host.c); the work's end frees it, and removes a file kept for it.
 *
 * read() gives the bytes of an upload of the current request, or of a kept
 * file, as a string of the plugin (under its memory cap, up to a bound);
 * put() keeps bytes the plugin made under a new id, fsynced as keep's, also
 * from a job. Both run on the thread pool where the handler can wait.
 *
 * send() reads the file whole into a malloc'd buffer, outside the plugin's
 * memory cap, which http_respond copies into the connection's output: a
 * download costs about twice its size in memory while it is sent. Sending
 * it in pieces needs a stream with a known length from core/http.
 *
 * Ids are FILES__ID_LEN characters of [A-Za-z0-9_-] (132 random bits).
 * Anything else names no file, so an id can neither climb out of the
 * folder nor name another plugin's, and a malformed id never reaches the
 * file system. A kept file is opened beneath the plugin's folder
 * (lua__open_beneath), never through a symbolic link: a link put there in
 * place of a file is no file.
 */
#include "auth/auth.h"
#include "log/log.h"
#include "park/park.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

enum {
    FILES__ID_LEN = 22,
    FILES__NAME_MAX = 1024,    /* bytes of opts.name */
    FILES__TYPE_MAX = 255,     /* bytes of opts.type */
    FILES__RES_HEADERS = 60,   /* headers set through res, sent along */
    FILES__TRIES = 8,          /* new ids tried when one is taken */
    FILES__COND_MAX = 1024,    /* bytes of If-None-Match kept for the check */
    FILES__READ_MAX = 8 << 20, /* read's default bound */
};

static const char files__alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* Types by the download name's extension: documents and media an
 * attachment is likely to be. Nothing a browser would run (HTML, SVG, XML,
 * scripts) is guessed: those are application/octet-stream unless the
 * plugin says otherwise. */
static const struct {
    const char *ext, *type;
} files__types[] = {
    {"pdf", "application/pdf"},
    {"ofd", "application/ofd"},
    {"doc", "application/msword"},
    {"docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"},
    {"xls", "application/vnd.ms-excel"},
    {"xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"},
    {"ppt", "application/vnd.ms-powerpoint"},
    {"pptx", "application/vnd.openxmlformats-officedocument.presentationml.presentation"},
    {"odt", "application/vnd.oasis.opendocument.text"},
    {"ods", "application/vnd.oasis.opendocument.spreadsheet"},
    {"odp", "application/vnd.oasis.opendocument.presentation"},
    {"rtf", "application/rtf"},
    {"txt", "text/plain; charset=utf-8"},
    {"csv", "text/csv; charset=utf-8"},
    {"zip", "application/zip"},
    {"rar", "application/vnd.rar"},
    {"7z", "application/x-7z-compressed"},
    {"gz", "application/gzip"},
    {"png", "image/png"},
    {"jpg", "image/jpeg"},
    {"jpeg", "image/jpeg"},
    {"gif", "image/gif"},
    {"webp", "image/webp"},
    {"bmp", "image/bmp"},
    {"mp3", "audio/mpeg"},
    {"mp4", "video/mp4"},
};

/* The headers of an answer with a file: made from opts on the loop, the
 * validators filled in by the work. */
typedef struct {
    char type[FILES__TYPE_MAX + 1];
    char disposition[sizeof "attachment; filename=\"\"; filename*=UTF-8''" + 4 * FILES__NAME_MAX];
    char etag[64], modified[64];
} files__head;

typedef enum { FILES__KEEP, FILES__SEND, FILES__READ, FILES__PUT } files__kind;

/* One piece of work on the thread pool, or inline; malloc'd, held in
 * r->work.data from the call to its continuation (or to the work's end when
 * the request is orphaned), which frees it. */
typedef struct {
    files__kind kind;
    int err;          /* 0, or the errno of the step that failed */
    const char *step; /* that step, for the message */
    char dir[PATH_MAX];
    char id[FILES__ID_LEN + 1];
    /* keep */
    char src[PATH_MAX];
    bool kept;
    /* read: the upload's path (src) or a kept id (id), at most max bytes
     * into body; put: the bytes to keep, malloc'd (body, size). keep and
     * put: the plugin's files may add up to quota bytes. */
    size_t max;
    uint64_t quota;
    bool too_big;
    /* send */
    bool head_only;                /* a HEAD request */
    char inm[FILES__COND_MAX + 1]; /* If-None-Match, "" when absent */
    time_t ims;                    /* If-Modified-Since, or -1 */
    files__head head;
    size_t size;
    char *body; /* the file's bytes, malloc'd (send, read, put) */
    int status; /* the answer: 200, 304, 404, or 500 (err says why) */
} files__work;

/* ---- names -------------------------------------------------------------- */

static bool files__id_ok(const char *s, size_t n)
{
    if (n != FILES__ID_LEN) return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_'))
            return false;
    }
    return true;
}

static void files__new_id(char out[FILES__ID_LEN + 1])
{
    unsigned char b[FILES__ID_LEN];
    auth_random(b, sizeof b);
    for (size_t i = 0; i < FILES__ID_LEN; i++)
        out[i] = files__alphabet[b[i] & 63]; /* 256 is a multiple of 64: uniform */
    out[FILES__ID_LEN] = 0;
}

/* The plugin's folder into buf (PATH_MAX bytes); false when it does not fit. */
static bool files__dir(const host_plugin *p, char *buf)
{
    int n = snprintf(buf, PATH_MAX, "%s/%s", lua_host_conf(lua_plugin_host(p))->files_dir,
                     lua_plugin_name(p));
    return n > 0 && n + 1 + FILES__ID_LEN < PATH_MAX;
}

/* dir/id into buf (PATH_MAX bytes); dir came from files__dir, so it fits. */
static void files__join(char *buf, const char *dir, const char *id)
{
    size_t l = strlen(dir);
    memcpy(buf, dir, l);
    buf[l] = '/';
    memcpy(buf + l + 1, id, FILES__ID_LEN + 1);
}

/* The file of a well-formed id into buf (PATH_MAX bytes); false for an id
 * that names no file. */
static bool files__path(const host_plugin *p, const char *id, size_t n, char *buf)
{
    char dir[PATH_MAX];
    if (!files__id_ok(id, n) || !files__dir(p, dir)) return false;
    files__join(buf, dir, id);
    return true;
}

/* ---- the file system (on the thread pool, or inline) ------------------- */

static int files__sync_fd(int fd)
{
    if (fd < 0) return fd;
    int rc = fsync(fd) ? -errno : 0;
    close(fd);
    return rc;
}

static int files__sync_path(const char *path, int flags)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | flags);
    return files__sync_fd(fd < 0 ? -errno : fd);
}

/* Make `dir` and its missing parents (mode 0700), each one made fsynced
 * into its parent, so the path survives a crash. Returns 0 or -errno. */
static int files__mkdirs(const char *dir)
{
    struct stat st;
    if (stat(dir, &st) == 0) return S_ISDIR(st.st_mode) ? 0 : -ENOTDIR;
    char path[PATH_MAX];
    size_t n = strlen(dir);
    if (n == 0 || n >= sizeof path) return -ENAMETOOLONG;
    memcpy(path, dir, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if ((path[i] != '/' && path[i] != 0) || path[i - 1] == '/') continue;
        char saved = path[i];
        path[i] = 0;
        if (mkdir(path, 0700) == 0) {
            char *slash = strrchr(path, '/');
            int rc;
            if (!slash) {
                rc = files__sync_path(".", O_DIRECTORY);
            } else if (slash == path) {
                rc = files__sync_path("/", O_DIRECTORY);
            } else {
                *slash = 0;
                rc = files__sync_path(path, O_DIRECTORY);
                *slash = '/';
            }
            if (rc) return rc;
        } else if (errno != EEXIST) {
            return -errno;
        }
        path[i] = saved;
    }
    if (stat(dir, &st) != 0) return -errno;
    return S_ISDIR(st.st_mode) ? 0 : -ENOTDIR;
}

/* Copy src to the new file id (mode 0600) in dir (whose path with id is
 * dest) and fsync it. Returns 0 or -errno (-EEXIST: id was taken); the new
 * file is gone after a failure. */
static int files__copy(const char *src, const char *dir, const char *id, const char *dest)
{
    int in = open(src, O_RDONLY | O_CLOEXEC);
    if (in < 0) return -errno;
    int out = lua__open_beneath(dir, id, O_WRONLY | O_CREAT | O_EXCL, 0600);
    if (out < 0) {
        close(in);
        return out;
    }
    char buf[32768];
    int rc = 0;
    for (;;) {
        ssize_t n = read(in, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) rc = -errno;
        if (n <= 0) break;
        for (ssize_t off = 0; off < n && !rc;) {
            ssize_t m = write(out, buf + off, (size_t)(n - off));
            if (m < 0 && errno == EINTR) continue;
            if (m < 0)
                rc = -errno;
            else
                off += m;
        }
        if (rc) break;
    }
    if (!rc && fsync(out)) rc = -errno;
    if (close(out) && !rc) rc = -errno;
    close(in);
    if (rc) unlink(dest);
    return rc;
}

/* Whether `more` bytes fit in the plugin's quota (plugin-files-mb): the
 * sizes of the files in its folder, added up. A scan per keep or put, on
 * the thread pool: a plugin's files are forms and attachments, not many. */
static bool files__fits(const files__work *w, uint64_t more)
{
    DIR *d = opendir(w->dir);
    if (!d) return more <= w->quota;
    uint64_t used = more;
    struct dirent *e;
    struct stat st;
    while ((e = readdir(d)) && used <= w->quota)
        if (e->d_name[0] != '.' && fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
            S_ISREG(st.st_mode))
            used += (uint64_t)st.st_size;
    closedir(d);
    return used <= w->quota;
}

static void files__keep_run(files__work *w)
{
    int rc = files__mkdirs(w->dir);
    struct stat src;
    if (!rc && stat(w->src, &src) != 0) rc = -errno, w->step = "read the upload";
    if (!rc && !files__fits(w, (uint64_t)src.st_size)) {
        w->err = EDQUOT;
        w->step = "keep it within plugin-files-mb";
        return;
    }
    if (rc) {
        if (!w->step) w->step = "make the folder";
        w->err = -rc;
        return;
    }
    char dest[PATH_MAX];
    rc = -EEXIST;
    for (int i = 0; i < FILES__TRIES && rc == -EEXIST; i++) {
        files__new_id(w->id);
        files__join(dest, w->dir, w->id);
        w->step = "link the upload";
        if (link(w->src, dest) == 0) {
            w->step = "sync the file";
            rc = files__sync_fd(lua__open_beneath(w->dir, w->id, O_RDONLY, 0));
            if (rc) unlink(dest);
            continue;
        }
        rc = -errno;
        /* Another file system, or one without hard links: a copy. */
        if (rc == -EXDEV || rc == -EPERM || rc == -ENOTSUP || rc == -EOPNOTSUPP || rc == -EMLINK ||
            rc == -ENOSYS) {
            w->step = "copy the upload";
            rc = files__copy(w->src, w->dir, w->id, dest);
        }
    }
    if (!rc) {
        w->step = "sync the folder";
        rc = files__sync_path(w->dir, O_DIRECTORY);
        if (rc) unlink(dest);
    }
    w->err = -rc;
    w->kept = rc == 0;
}

static void files__send_run(files__work *w)
{
    int fd = lua__open_beneath(w->dir, w->id, O_RDONLY, 0);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        int e = fd < 0 ? -fd : 0;
        if (fd >= 0) close(fd);
        /* Missing (or not a plain file, never made by keep): not found. */
        w->status = e == 0 || e == ENOENT || e == ENOTDIR || e == ELOOP ? 404 : 500;
        w->err = w->status == 500 ? e : 0;
        w->step = "open the file";
        return;
    }
    w->size = (size_t)st.st_size;
    snprintf(w->head.etag, sizeof w->head.etag, "\"%llx-%llx\"", (unsigned long long)st.st_size,
             (unsigned long long)st.st_mtim.tv_sec * 1000000000ULL +
                 (unsigned long long)st.st_mtim.tv_nsec);
    lua_http_date(w->head.modified, sizeof w->head.modified, st.st_mtim.tv_sec);
    bool fresh = w->inm[0] ? (strstr(w->inm, w->head.etag) || !strcmp(w->inm, "*"))
                           : w->ims != (time_t)-1 && w->ims >= st.st_mtim.tv_sec;
    if (fresh || w->head_only) {
        close(fd);
        w->status = fresh ? 304 : 200;
        return;
    }
    w->status = 200;
    w->step = "read the file";
    w->body = malloc(w->size ? w->size : 1);
    size_t got = 0;
    if (!w->body) w->err = ENOMEM;
    while (w->body && got < w->size && !w->err) {
        ssize_t n = read(fd, w->body + got, w->size - got);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0)
            w->err = errno;
        else if (n == 0)
            w->err = EIO; /* it shrank under us */
        else
            got += (size_t)n;
    }
    close(fd);
    if (w->err) {
        free(w->body);
        w->body = NULL;
        w->status = 500;
    }
}

/* Read a whole file (an upload's path, or a kept id beneath dir) of at
 * most w->max bytes into w->body. */
static void files__read_run(files__work *w)
{
    int fd = w->src[0] ? open(w->src, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
                       : lua__open_beneath(w->dir, w->id, O_RDONLY, 0);
    if (w->src[0] && fd < 0) fd = -errno;
    struct stat st;
    w->step = "open the file";
    if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        w->err = fd < 0 ? -fd : ENOENT;
        if (w->err == ELOOP || w->err == ENOTDIR) w->err = ENOENT;
        if (fd >= 0) close(fd);
        return;
    }
    w->size = (size_t)st.st_size;
    if (w->size > w->max) {
        w->too_big = true;
        close(fd);
        return;
    }
    w->step = "read the file";
    w->body = malloc(w->size ? w->size : 1);
    size_t got = 0;
    if (!w->body) w->err = ENOMEM;
    while (w->body && got < w->size && !w->err) {
        ssize_t n = read(fd, w->body + got, w->size - got);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0)
            w->err = errno;
        else if (n == 0)
            w->err = EIO;
        else
            got += (size_t)n;
    }
    close(fd);
    if (w->err) {
        free(w->body);
        w->body = NULL;
    }
}

/* Write w->body (w->size bytes) to a new id in the plugin's folder, the
 * file and the folder fsynced, as keep does. */
static void files__put_run(files__work *w)
{
    int rc = files__mkdirs(w->dir);
    if (rc < 0) {
        w->err = -rc;
        w->step = "make the folder";
        return;
    }
    if (!files__fits(w, w->size)) {
        w->err = EDQUOT;
        w->step = "keep it within plugin-files-mb";
        return;
    }
    char dest[PATH_MAX];
    int fd = -EEXIST;
    for (int i = 0; i < FILES__TRIES && fd == -EEXIST; i++) {
        files__new_id(w->id);
        files__join(dest, w->dir, w->id);
        fd = lua__open_beneath(w->dir, w->id, O_WRONLY | O_CREAT | O_EXCL, 0600);
    }
    w->step = "make the file";
    if (fd < 0) {
        w->err = -fd;
        return;
    }
    w->step = "write the file";
    for (size_t off = 0; off < w->size && !w->err;) {
        ssize_t m = write(fd, w->body + off, w->size - off);
        if (m < 0 && errno == EINTR) continue;
        if (m < 0)
            w->err = errno;
        else
            off += (size_t)m;
    }
    if (!w->err && fsync(fd)) w->err = errno, w->step = "sync the file";
    if (close(fd) && !w->err) w->err = errno;
    if (!w->err) {
        w->step = "sync the folder";
        rc = files__sync_path(w->dir, O_DIRECTORY);
        if (rc) w->err = -rc;
    }
    if (w->err) unlink(dest);
    w->kept = !w->err;
}

static void files__run(uv_work_t *uw)
{
    files__work *w = uw->data;
    switch (w->kind) {
    case FILES__KEEP: files__keep_run(w); break;
    case FILES__SEND: files__send_run(w); break;
    case FILES__READ: files__read_run(w); break;
    case FILES__PUT: files__put_run(w); break;
    }
}

/* ---- answers ------------------------------------------------------------ */

static bool files__same_name(const http_header *h, const char *name)
{
    return h->name_len == strlen(name) && !strncasecmp(h->name, name, h->name_len);
}

/* Answer r with w's outcome, then mark it answered. Headers set through
 * res go along and replace send's own of the same name. On the loop,
 * outside the coroutine: the answer may start the connection's next
 * pipelined request at once. */
static void files__answer(host_req *r, files__work *w)
{
    host_plugin *p = r->plugin;
    http_request *q = r->http;
    if (w->status == 500)
        log_msg(LOG_ERROR, "plugin %s: park.files.send: cannot %s %s: %s rid=%s",
                lua_plugin_name(p), w->step, w->id, strerror(w->err), q->id);
    if (w->status == 404 || w->status == 500) {
        http_respond_error(q, w->status, NULL, 0);
    } else {
        const files__head *h = &w->head;
        const http_header own[] = {
            {"Content-Type", 12, h->type, strlen(h->type)},
            {"Content-Disposition", 19, h->disposition, strlen(h->disposition)},
            {"X-Content-Type-Options", 22, "nosniff", 7},
            {"ETag", 4, h->etag, strlen(h->etag)},
            {"Last-Modified", 13, h->modified, strlen(h->modified)},
            {"Cache-Control", 13, "private, no-cache", 17},
        };
        enum { NOWN = sizeof own / sizeof own[0] };
        http_header hs[NOWN + FILES__RES_HEADERS];
        bool has_type = false;
        size_t nres = lua_res_headers(r, hs + NOWN, FILES__RES_HEADERS, &has_type);
        size_t nh = 0;
        /* A 304 carries the validators and caching, not the representation's
         * own headers. */
        for (size_t i = w->status == 304 ? 3 : 0; i < NOWN; i++) {
            bool replaced = false;
            for (size_t k = 0; k < nres && !replaced; k++)
                replaced = files__same_name(&hs[NOWN + k], own[i].name);
            if (!replaced) hs[nh++] = own[i];
        }
        memmove(hs + nh, hs + NOWN, nres * sizeof *hs);
        nh += nres;
        /* HEAD: http_respond sends the headers alone, Content-Length the
         * length given, and reads no body. */
        if (http_respond(q, w->status, hs, nh, w->body, w->size)) {
            log_msg(LOG_ERROR, "plugin %s: park.files.send: a bad response header rid=%s",
                    lua_plugin_name(p), q->id);
            http_respond_error(q, 500, NULL, 0);
            w->status = 500;
        }
    }
    free(w->body);
    w->body = NULL;
    r->http = NULL;
    park__answered(r);
}

/* ---- Lua ---------------------------------------------------------------- */

static int files__error(lua_State *L, const char *msg, const char *code)
{
    lua_pushnil(L);
    lua_pushstring(L, msg);
    lua_pushstring(L, code);
    return 3;
}

/* Push keep's or put's results and free w: the new id, or nil, message,
 * code ("LIMIT" past plugin-files-mb, else "ERROR", logged). */
static int files__kept_results(lua_State *L, files__work *w)
{
    host_plugin *p = lua_plugin_of(L);
    const char *fn = w->kind == FILES__PUT ? "put" : "keep";
    char id[FILES__ID_LEN + 1], msg[256];
    bool kept = w->kept, over = w->err == EDQUOT;
    memcpy(id, w->id, sizeof id);
    if (over)
        snprintf(msg, sizeof msg, "the plugin's files would pass plugin-files-mb (%llu MiB)",
                 (unsigned long long)(w->quota >> 20));
    else if (!kept)
        snprintf(msg, sizeof msg, "cannot keep the %s: cannot %s: %s",
                 w->kind == FILES__PUT ? "bytes" : "file", w->step, strerror(w->err));
    if (!kept && !over)
        log_msg(LOG_ERROR, "plugin %s: park.files.%s: %s (files-dir %s)", lua_plugin_name(p), fn,
                msg, lua_host_conf(lua_plugin_host(p))->files_dir);
    free(w->body);
    free(w);
    if (!kept) return files__error(L, msg, over ? "LIMIT" : "ERROR");
    lua_pushstring(L, id);
    return 1;
}

static int files__push_bytes(lua_State *L)
{
    lua_pushlstring(L, lua_touserdata(L, 1), (size_t)lua_tointeger(L, 2));
    return 1;
}

/* Push read's results and free w. */
static int files__read_results(lua_State *L, files__work *w)
{
    char msg[256];
    if (w->too_big) {
        snprintf(msg, sizeof msg, "the file is %zu bytes, more than the %zu asked for", w->size,
                 w->max);
        free(w);
        return files__error(L, msg, "TOOBIG");
    }
    if (w->err) {
        bool missing = w->err == ENOENT;
        snprintf(msg, sizeof msg, "cannot %s: %s", w->step, strerror(w->err));
        free(w);
        if (missing) {
            lua_pushnil(L);
            return 1;
        }
        return files__error(L, msg, "ERROR");
    }
    /* The bytes become the plugin's string, under its memory cap: made in
     * a protected call, so that the buffer is freed when the cap refuses. */
    char *body = w->body;
    size_t size = w->size;
    free(w);
    lua_pushcfunction(L, files__push_bytes);
    lua_pushlightuserdata(L, body);
    lua_pushinteger(L, (lua_Integer)size);
    int rc = lua_pcall(L, 2, 1, 0);
    free(body);
    if (rc != LUA_OK) return lua_error(L);
    return 1;
}

/* The work's end, on the loop: answer (send), then resume the handler,
 * whose continuation makes the results. */
static void files__done(uv_work_t *uw, int status)
{
    host_req *r = (host_req *)((char *)uw - offsetof(host_req, work));
    files__work *w = uw->data;
    r->work_pending = false;
    if (status != 0 && !w->err) { /* never ran */
        w->err = ECANCELED;
        w->status = 500;
    }
    if (r->orphaned) { /* the client left: nothing to answer, nothing to keep */
        if ((w->kind == FILES__KEEP || w->kind == FILES__PUT) && w->kept) {
            char path[PATH_MAX];
            files__join(path, w->dir, w->id);
            unlink(path);
        }
        free(w->body);
        free(w);
        r->work.data = NULL;
        lua_req_end(r);
        return;
    }
    if (w->kind == FILES__SEND) files__answer(r, w);
    lua_req_resume(r, 0);
}

static int files__k(lua_State *L, int status, lua_KContext ctx)
{
    (void)status;
    (void)ctx;
    host_req *r = lua_req_of(L);
    files__work *w = r->work.data;
    r->work.data = NULL;
    if (w->kind == FILES__KEEP || w->kind == FILES__PUT) return files__kept_results(L, w);
    if (w->kind == FILES__READ) return files__read_results(L, w);
    int answered = w->status;
    free(w);
    lua_pushinteger(L, answered);
    return 1;
}

/* Queue w on the thread pool and wait; false (w untouched) when it cannot
 * be queued. */
static bool files__queue(host_req *r, files__work *w)
{
    r->work.data = w;
    if (uv_queue_work(lua_host_loop(r->host), &r->work, files__run, files__done) != 0) {
        r->work.data = NULL;
        return false;
    }
    r->work_pending = true;
    r->state = REQ_SLEEPING;
    return true;
}

static bool files__is_upload(const host_req *r, const char *path, size_t n)
{
    for (size_t off = 0; off < r->uploads.len;) {
        const char *u = r->uploads.data + off;
        size_t ul = strlen(u);
        if (ul == n && !memcmp(u, path, n)) return true;
        off += ul + 1;
    }
    return false;
}

/* park.files.keep(upload) -> id, or nil, message, code ("INVALID": not an
 * upload of this request; "ERROR": the file system failed). */
static int l_files_keep(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    host_plugin *p = lua_plugin_of(L);
    host_req *r = lua_req_of(L);
    if (!r || r->is_job)
        return luaL_error(L, "park.files.keep keeps an upload of the current request: call it "
                             "while handling one");
    size_t n = 0;
    const char *path = lua_getfield(L, 1, "path") == LUA_TSTRING ? lua_tolstring(L, -1, &n) : NULL;
    if (!path || n >= PATH_MAX || !files__is_upload(r, path, n))
        return files__error(L, "not an upload of this request (an entry of req.files)", "INVALID");
    files__work *w = calloc(1, sizeof *w);
    if (!w) return luaL_error(L, "not enough memory");
    w->kind = FILES__KEEP;
    w->quota = (uint64_t)lua_host_conf(lua_plugin_host(p))->plugin_files_mb << 20;
    memcpy(w->src, path, n + 1);
    if (!files__dir(p, w->dir)) {
        free(w);
        return files__error(L, "cannot keep the file: the path of files-dir is too long", "ERROR");
    }
    if (L == r->co && lua_isyieldable(L) && files__queue(r, w))
        return lua_yieldk(L, 0, 0, files__k);
    files__keep_run(w); /* where the handler cannot wait */
    return files__kept_results(L, w);
}

/* opts.name and opts.type (the stack index `opts`, a table or nil) into
 * head: Content-Type and Content-Disposition. Raises on a bad option. */
static void files__opts(lua_State *L, int opts, files__head *head)
{
    size_t nl = 0, tl = 0;
    const char *name = NULL, *type = NULL;
    bool inl = false;
    if (lua_istable(L, opts)) {
        if (lua_getfield(L, opts, "name") != LUA_TNIL) {
            if (lua_type(L, -1) != LUA_TSTRING)
                luaL_argerror(L, opts, "opts.name must be a string");
            name = lua_tolstring(L, -1, &nl);
        }
        if (lua_getfield(L, opts, "type") != LUA_TNIL) {
            if (lua_type(L, -1) != LUA_TSTRING)
                luaL_argerror(L, opts, "opts.type must be a string");
            type = lua_tolstring(L, -1, &tl);
        }
        lua_getfield(L, opts, "inline");
        inl = lua_toboolean(L, -1);
        /* The strings stay on the stack while they are used. */
    }
    if (nl > FILES__NAME_MAX) luaL_argerror(L, opts, "opts.name is longer than 1024 bytes");
    if (type) {
        bool ok = tl > 0 && tl <= FILES__TYPE_MAX;
        for (size_t i = 0; i < tl && ok; i++)
            ok = (unsigned char)type[i] >= 0x20 && type[i] != 0x7f;
        if (!ok)
            luaL_argerror(L, opts,
                          "opts.type must be a Content-Type of 1 to 255 bytes without control "
                          "characters");
        memcpy(head->type, type, tl + 1);
    } else {
        const char *t = "application/octet-stream";
        const char *dot = name ? strrchr(name, '.') : NULL;
        if (dot && !strchr(dot, '/'))
            for (size_t i = 0; i < sizeof files__types / sizeof files__types[0]; i++)
                if (!strcasecmp(dot + 1, files__types[i].ext)) t = files__types[i].type;
        snprintf(head->type, sizeof head->type, "%s", t);
    }
    /* RFC 6266: a plain quoted name for old clients (non-ASCII characters
     * become '_'), then the UTF-8 name percent-encoded (RFC 8187). */
    char *d = head->disposition;
    d += sprintf(d, "%s", inl ? "inline" : "attachment");
    if (!name) return;
    d += sprintf(d, "; filename=\"");
    for (size_t i = 0; i < nl; i++) {
        unsigned char c = (unsigned char)name[i];
        if (c >= 0x80 && c < 0xc0) continue; /* inside a character already replaced */
        *d++ = c >= 0x20 && c < 0x7f && c != '"' && c != '\\' && c != '%' ? (char)c : '_';
    }
    d += sprintf(d, "\"; filename*=UTF-8''");
    static const char hex[] = "0123456789ABCDEF";
    for (size_t i = 0; i < nl; i++) {
        unsigned char c = (unsigned char)name[i];
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
            (c && strchr("!#$&+-.^_`|~", c))) {
            *d++ = (char)c;
        } else {
            *d++ = '%';
            *d++ = hex[c >> 4];
            *d++ = hex[c & 15];
        }
    }
    *d = 0;
}

/* park.files.send(id, opts) -> the status it answered with (200, 304, 404,
 * 500). The request is answered when it returns. */
static int l_files_send(lua_State *L)
{
    size_t n;
    const char *id = luaL_checklstring(L, 1, &n);
    if (!lua_isnoneornil(L, 2)) luaL_checktype(L, 2, LUA_TTABLE);
    host_plugin *p = lua_plugin_of(L);
    host_req *r = lua_req_of(L);
    if (!r || r->is_job)
        return luaL_error(L, "park.files.send answers a request: call it while handling one");
    if (!r->http) return luaL_error(L, "park.files.send: the request has been answered already");
    if (r->streaming) return luaL_error(L, "park.files.send: the response is a stream already");
    if (L != r->co || !lua_isyieldable(L))
        return luaL_error(L, "park.files.send must be called from the handler itself, not from "
                             "a coroutine of the plugin or inside park.db.transaction");
    files__head head;
    files__opts(L, 2, &head); /* may raise: before anything is allocated */
    files__work *w = calloc(1, sizeof *w);
    if (!w) return luaL_error(L, "not enough memory");
    w->kind = FILES__SEND;
    w->head = head;
    const http_request *q = r->http;
    w->head_only = strcmp(q->method, "HEAD") == 0;
    w->ims = (time_t)-1;
    if (!strcmp(q->method, "GET") || w->head_only) {
        const char *inm = http_request_header(q, "if-none-match");
        const char *ims = http_request_header(q, "if-modified-since");
        if (inm) snprintf(w->inm, sizeof w->inm, "%s", inm);
        if (ims) w->ims = lua_http_parse_date(ims);
    }
    char path[PATH_MAX];
    if (files__path(p, id, n, path)) {
        memcpy(w->id, id, n + 1);
        files__dir(p, w->dir);
        if (files__queue(r, w)) return lua_yieldk(L, 0, 0, files__k);
        w->status = 500;
        w->err = EAGAIN;
        w->step = "queue the work for";
    } else {
        w->status = 404; /* names no file: the file system is not asked */
    }
    files__answer(r, w);
    int answered = w->status;
    free(w);
    lua_pushinteger(L, answered);
    return 1;
}

/* park.files.read(file, max) -> the bytes, or nil (no such file), or nil,
 * message, code ("TOOBIG": larger than max; "INVALID": not an upload of
 * this request nor a kept id; "ERROR"). file: an entry of req.files, or a
 * kept id. max: bytes, default FILES__READ_MAX. */
static int l_files_read(lua_State *L)
{
    host_plugin *p = lua_plugin_of(L);
    host_req *r = lua_req_of(L);
    lua_Integer max = luaL_optinteger(L, 2, FILES__READ_MAX);
    luaL_argcheck(L, max >= 0, 2, "a number of bytes, 0 or more");
    files__work *w = calloc(1, sizeof *w);
    if (!w) return luaL_error(L, "not enough memory");
    w->kind = FILES__READ;
    w->max = (size_t)max;
    if (lua_type(L, 1) == LUA_TTABLE) {
        size_t n = 0;
        const char *path =
            lua_getfield(L, 1, "path") == LUA_TSTRING ? lua_tolstring(L, -1, &n) : NULL;
        if (!r || !path || n >= PATH_MAX || !files__is_upload(r, path, n)) {
            free(w);
            return files__error(L, "not an upload of this request (an entry of req.files)",
                                "INVALID");
        }
        memcpy(w->src, path, n + 1);
        lua_pop(L, 1);
    } else {
        size_t n;
        const char *id = luaL_checklstring(L, 1, &n);
        if (!files__id_ok(id, n) || !files__dir(p, w->dir)) {
            free(w);
            lua_pushnil(L);
            return 1;
        }
        memcpy(w->id, id, n + 1);
    }
    if (r && L == r->co && lua_isyieldable(L) && files__queue(r, w))
        return lua_yieldk(L, 0, 0, files__k);
    files__read_run(w);
    return files__read_results(L, w);
}

/* park.files.put(bytes) -> id, or nil, message, "ERROR" */
static int l_files_put(lua_State *L)
{
    size_t n;
    const char *data = luaL_checklstring(L, 1, &n);
    host_plugin *p = lua_plugin_of(L);
    host_req *r = lua_req_of(L);
    files__work *w = calloc(1, sizeof *w);
    if (!w) return luaL_error(L, "not enough memory");
    w->kind = FILES__PUT;
    w->quota = (uint64_t)lua_host_conf(lua_plugin_host(p))->plugin_files_mb << 20;
    w->size = n;
    w->body = malloc(n ? n : 1);
    if (!w->body || !files__dir(p, w->dir)) {
        bool nomem = !w->body;
        free(w->body);
        free(w);
        if (nomem) return luaL_error(L, "not enough memory");
        return files__error(L, "cannot keep the bytes: the path of files-dir is too long", "ERROR");
    }
    memcpy(w->body, data, n);
    if (r && L == r->co && lua_isyieldable(L) && files__queue(r, w))
        return lua_yieldk(L, 0, 0, files__k);
    files__put_run(w);
    return files__kept_results(L, w);
}

/* park.files.info(id) -> { size =, modified = }, or nil */
static int l_files_info(lua_State *L)
{
    size_t n;
    const char *id = luaL_checklstring(L, 1, &n);
    host_plugin *p = lua_plugin_of(L);
    char path[PATH_MAX], dir[PATH_MAX];
    struct stat st;
    if (!files__path(p, id, n, path)) {
        lua_pushnil(L);
        return 1;
    }
    files__dir(p, dir);
    /* O_PATH: the details without reading the file. */
    int fd = lua__open_beneath(dir, id, O_PATH, 0);
    int e = fd < 0 ? -fd : fstat(fd, &st) == 0 ? 0 : errno;
    if (fd >= 0) close(fd);
    if (e == ELOOP) e = ENOENT; /* a link: no kept file */
    if (e && e != ENOENT && e != ENOTDIR) {
        lua_pushfstring(L, "cannot read the file's details: %s", strerror(e));
        return files__error(L, lua_tostring(L, -1), "ERROR");
    }
    if (e || !S_ISREG(st.st_mode)) {
        lua_pushnil(L);
        return 1;
    }
    lua_createtable(L, 0, 2);
    lua_pushinteger(L, (lua_Integer)st.st_size);
    lua_setfield(L, -2, "size");
    lua_pushinteger(L, (lua_Integer)st.st_mtim.tv_sec);
    lua_setfield(L, -2, "modified");
    return 1;
}

/* park.files.remove(id) -> true (also when there was no such file), or
 * nil, message, "ERROR" */
static int l_files_remove(lua_State *L)
{
    size_t n;
    const char *id = luaL_checklstring(L, 1, &n);
    host_plugin *p = lua_plugin_of(L);
    char path[PATH_MAX];
    if (files__path(p, id, n, path)) {
        if (unlink(path) == 0) {
            /* The removal made durable; should this fail, the file may
             * come back after a crash, which is no error to report. */
            path[strlen(path) - FILES__ID_LEN - 1] = 0;
            files__sync_path(path, O_DIRECTORY);
        } else if (errno != ENOENT && errno != ENOTDIR) {
            lua_pushfstring(L, "cannot remove the file: %s", strerror(errno));
            return files__error(L, lua_tostring(L, -1), "ERROR");
        }
    }
    lua_pushboolean(L, 1);
    return 1;
}

void park_open_files(lua_State *L)
{
    static const luaL_Reg fns[] = {
        {"keep", l_files_keep}, {"send", l_files_send}, {"read", l_files_read},
        {"put", l_files_put},   {"info", l_files_info}, {"remove", l_files_remove},
        {NULL, NULL},
    };
    lua_newtable(L);
    luaL_setfuncs(L, fns, 0);
    lua_setfield(L, -2, "files");
}
