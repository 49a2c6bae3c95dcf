/* Files opened beneath a folder, never through a symbolic link, and the
 * check that a plugin's folder holds no link leading out of it.
 *
 * lua__open_beneath asks the kernel: openat2 with RESOLVE_BENEATH |
 * RESOLVE_NO_SYMLINKS resolves the whole path in one call, so nothing can
 * swap a folder for a link between the check and the open. Where openat2 is
 * missing (ENOSYS: before Linux 5.6; EPERM: a seccomp filter that refuses
 * it) the same rule is kept by a walk: each folder of the path opened with
 * O_PATH | O_DIRECTORY | O_NOFOLLOW relative to the one before, the file
 * itself with O_NOFOLLOW. Both refuse the same paths with the same errors,
 * and the path is checked first in both: plain names only, so neither ever
 * has to decide what ".." means.
 *
 * The root itself is opened as the caller names it, through links if need
 * be: where the operator put a folder is the operator's choice; what lies
 * below it is not.
 *
 * Safe on any thread (park.files opens on the libuv thread pool): the only
 * state is two flags, read and written atomically.
 */
#include "lua/internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

enum {
    BENEATH__MAX_DEPTH = 32,       /* folders below dir that tree_check enters */
    BENEATH__MAX_ENTRIES = 100000, /* entries tree_check looks at */
};

/* Set once openat2 answered ENOSYS: the walk from then on. */
static atomic_bool beneath__no_openat2;
/* Set by the unit tests to exercise the walk on a kernel with openat2. */
static atomic_bool beneath__fallback;

void lua__beneath_force_fallback(bool on)
{
    atomic_store(&beneath__fallback, on);
}

/* 0 when rel is names separated by single slashes; -EXDEV for a path that
 * would leave the root (a leading '/', a ".." name), -EINVAL for an empty
 * path or an empty or "." name, -ENAMETOOLONG past PATH_MAX. */
static int beneath__rel_check(const char *rel)
{
    size_t n = strlen(rel);
    if (n == 0) return -EINVAL;
    if (n >= PATH_MAX) return -ENAMETOOLONG;
    if (rel[0] == '/') return -EXDEV;
    for (const char *seg = rel;;) {
        const char *end = strchrnul(seg, '/');
        size_t len = (size_t)(end - seg);
        if (len == 2 && seg[0] == '.' && seg[1] == '.') return -EXDEV;
        if (len == 0 || (len == 1 && seg[0] == '.')) return -EINVAL;
        if (!*end) return 0;
        seg = end + 1;
    }
}

/* openat(dfd, name, flags | O_NOFOLLOW): the descriptor or -errno. With
 * O_DIRECTORY a link fails with ENOTDIR: -ELOOP then, as from openat2. */
static int beneath__openat(int dfd, const char *name, int flags, mode_t mode)
{
    int fd = openat(dfd, name, flags | O_NOFOLLOW | O_CLOEXEC, mode);
    if (fd >= 0) return fd;
    int e = errno;
    struct stat st;
    if (e == ENOTDIR && fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode))
        e = ELOOP;
    return -e;
}

/* The walk: rel (checked) beneath the folder rootfd, no name a link. */
static int beneath__walk(int rootfd, const char *rel, int flags, unsigned mode)
{
    char buf[PATH_MAX];
    memcpy(buf, rel, strlen(rel) + 1); /* rel_check bounded it */
    int dfd = rootfd;
    char *seg = buf;
    for (char *slash; (slash = strchr(seg, '/'));) {
        *slash = 0;
        int next = beneath__openat(dfd, seg, O_PATH | O_DIRECTORY, 0);
        if (dfd != rootfd) close(dfd);
        if (next < 0) return next;
        dfd = next;
        seg = slash + 1;
    }
    int fd = beneath__openat(dfd, seg, flags, (mode_t)mode);
    if (dfd != rootfd) close(dfd);
    return fd;
}

int lua__open_beneath(const char *root, const char *rel, int flags, unsigned mode)
{
    int rc = beneath__rel_check(rel);
    if (rc) return rc;
    int rootfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (rootfd < 0) return -errno;
    int fd = -ENOSYS;
    if (!atomic_load_explicit(&beneath__no_openat2, memory_order_relaxed) &&
        !atomic_load_explicit(&beneath__fallback, memory_order_relaxed)) {
        struct open_how how;
        memset(&how, 0, sizeof how);
        how.flags = (uint64_t)(unsigned)(flags | O_CLOEXEC);
        /* openat2 refuses a mode without O_CREAT or O_TMPFILE. */
        how.mode = (flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE ? mode : 0;
        how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
        long r = syscall(SYS_openat2, rootfd, rel, &how, sizeof how);
        fd = r < 0 ? -errno : (int)r;
        if (fd == -ENOSYS) atomic_store_explicit(&beneath__no_openat2, true, memory_order_relaxed);
    }
    if (fd == -ENOSYS || fd == -EPERM) fd = beneath__walk(rootfd, rel, flags, mode);
    close(rootfd);
    return fd;
}

int lua__slurp_beneath(const char *root, const char *rel, size_t max, char **data, size_t *len)
{
    *data = NULL;
    *len = 0;
    /* O_NONBLOCK: a FIFO must not stop the caller at the open; it is
     * refused below, as everything but a regular file is. */
    int fd = lua__open_beneath(root, rel, O_RDONLY | O_NONBLOCK, 0);
    if (fd < 0) return fd;
    struct stat st;
    int rc = 0;
    if (fstat(fd, &st) != 0)
        rc = -errno;
    else if (!S_ISREG(st.st_mode))
        rc = S_ISDIR(st.st_mode) ? -EISDIR : -EINVAL;
    else if ((uintmax_t)st.st_size > max)
        rc = -EFBIG;
    size_t size = rc ? 0 : (size_t)st.st_size;
    char *buf = rc ? NULL : malloc(size + 1);
    if (!rc && !buf) rc = -ENOMEM;
    size_t got = 0;
    while (!rc && got < size) {
        ssize_t n = read(fd, buf + got, size - got);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0)
            rc = -errno;
        else if (n == 0)
            rc = -EIO; /* it shrank under us */
        else
            got += (size_t)n;
    }
    close(fd);
    if (rc) {
        free(buf);
        return rc;
    }
    buf[got] = 0;
    *data = buf;
    *len = got;
    return 0;
}

/* ---- tree_check --------------------------------------------------------- */

typedef struct {
    char real[PATH_MAX]; /* realpath of dir */
    size_t real_len;
    char path[PATH_MAX]; /* dir, then the entry being looked at */
    size_t dir_len;      /* strlen(dir) in path */
    size_t entries;
    char *why;
    size_t whylen;
} beneath__tree;

/* The entry's path relative to dir, for messages. */
static const char *beneath__rel(const beneath__tree *t)
{
    return t->path + t->dir_len + 1;
}

/* The link at t->path: PH_EINVAL with why when it leads out of t->real,
 * to nowhere, or to a folder that holds it. */
static int beneath__link(beneath__tree *t)
{
    char real[PATH_MAX];
    if (!realpath(t->path, real)) {
        int e = errno;
        char to[PATH_MAX];
        ssize_t n = readlink(t->path, to, sizeof to - 1);
        to[n < 0 ? 0 : n] = 0;
        snprintf(t->why, t->whylen, "%s -> %s: a symbolic link that leads nowhere (%s)",
                 beneath__rel(t), to, strerror(e));
        return PH_EINVAL;
    }
    const char *in = real + t->real_len; /* its target relative to dir, once inside */
    bool inside = !strncmp(real, t->real, t->real_len) &&
                  (*in == 0 || *in == '/' || (t->real_len == 1 && t->real[0] == '/'));
    if (!inside) {
        snprintf(t->why, t->whylen, "%s -> %s: a symbolic link leading out of the plugin's folder",
                 beneath__rel(t), real);
        return PH_EINVAL;
    }
    /* Inside, but a loop when the target is the link's own folder or one
     * holding it: whatever follows links (a copy, an archive) would walk
     * it forever. The folders walked are no links, so the link's folder
     * relative to dir is its path's, and the target's is `in`. */
    if (*in == '/') in++;
    const char *rel = beneath__rel(t), *slash = strrchr(rel, '/');
    size_t folder_len = slash ? (size_t)(slash - rel) : 0, in_len = strlen(in);
    struct stat st;
    if (in_len <= folder_len && !strncmp(rel, in, in_len) &&
        (in_len == 0 || in_len == folder_len || rel[in_len] == '/') && stat(real, &st) == 0 &&
        S_ISDIR(st.st_mode)) {
        snprintf(t->why, t->whylen,
                 "%s -> %s: a symbolic link to a folder that holds it (a loop in the plugin's "
                 "folder)",
                 rel, real);
        return PH_EINVAL;
    }
    return 0;
}

/* Look at the entries of the folder t->path (len bytes, `depth` below
 * dir); t->path is as it was on return. */
static int beneath__walk_tree(beneath__tree *t, size_t len, int depth)
{
    if (depth > BENEATH__MAX_DEPTH) {
        snprintf(t->why, t->whylen, "%s: folders nested more than %d deep", beneath__rel(t),
                 BENEATH__MAX_DEPTH);
        return PH_ELIMIT;
    }
    DIR *d = opendir(t->path);
    if (!d) {
        snprintf(t->why, t->whylen, "%s: cannot read the folder: %s",
                 depth ? beneath__rel(t) : t->path, strerror(errno));
        return PH_EIO;
    }
    int rc = 0;
    for (struct dirent *de; !rc && (errno = 0, de = readdir(d));) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..")) continue;
        if (++t->entries > BENEATH__MAX_ENTRIES) {
            t->path[len] = 0;
            snprintf(t->why, t->whylen, "more than %d files and folders (stopped in %s)",
                     BENEATH__MAX_ENTRIES, depth ? beneath__rel(t) : t->path);
            rc = PH_ELIMIT;
            break;
        }
        size_t nl = strlen(de->d_name);
        if (len + 1 + nl >= sizeof t->path) {
            t->path[len] = 0;
            snprintf(t->why, t->whylen, "%s/%s: a path too long", depth ? beneath__rel(t) : ".",
                     de->d_name);
            rc = PH_ELIMIT;
            break;
        }
        t->path[len] = '/';
        memcpy(t->path + len + 1, de->d_name, nl + 1);
        struct stat st;
        if (lstat(t->path, &st) != 0) {
            if (errno == ENOENT) continue; /* gone meanwhile */
            snprintf(t->why, t->whylen, "%s: %s", beneath__rel(t), strerror(errno));
            rc = PH_EIO;
        } else if (S_ISLNK(st.st_mode)) {
            rc = beneath__link(t);
        } else if (S_ISDIR(st.st_mode)) {
            rc = beneath__walk_tree(t, len + 1 + nl, depth + 1);
        }
    }
    if (!rc && errno) {
        t->path[len] = 0;
        snprintf(t->why, t->whylen, "%s: cannot read the folder: %s",
                 depth ? beneath__rel(t) : t->path, strerror(errno));
        rc = PH_EIO;
    }
    closedir(d);
    t->path[len] = 0;
    return rc;
}

int lua__tree_check(const char *dir, char *why, size_t whylen)
{
    beneath__tree *t = calloc(1, sizeof *t);
    if (!t) {
        snprintf(why, whylen, "out of memory");
        return PH_ENOMEM;
    }
    t->why = why;
    t->whylen = whylen;
    int rc = 0;
    size_t n = strlen(dir);
    while (n > 1 && dir[n - 1] == '/')
        n--; /* "plugins/x/" names what "plugins/x" does */
    if (n + 1 >= sizeof t->path) {
        snprintf(why, whylen, "%s: a path too long", dir);
        rc = PH_ELIMIT;
    } else if (!realpath(dir, t->real)) {
        snprintf(why, whylen, "%s: %s", dir, strerror(errno));
        rc = PH_EIO;
    } else {
        memcpy(t->path, dir, n);
        t->path[n] = 0;
        t->dir_len = n;
        t->real_len = strlen(t->real);
        rc = beneath__walk_tree(t, n, 0);
    }
    free(t);
    return rc;
}
