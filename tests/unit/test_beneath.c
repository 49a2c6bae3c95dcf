/* Unit tests of core/lua/beneath.c: files opened beneath a folder, never
 * through a symbolic link, by openat2 and by the walk that stands in for it
 * where the kernel has none (each test of open and slurp runs both); and
 * the check that a plugin's folder holds no link leading out of it. Real
 * folders under /tmp, removed at the end. */
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "lua/internal.h"
#include "unit.h"

/* A fixture folder T:
 *   T/secret.txt           "secret"      (outside the root)
 *   T/outside/x.txt        "outside"
 *   T/root/a.txt           "hello"
 *   T/root/empty.txt       ""
 *   T/root/big.txt         100 bytes
 *   T/root/sub/b.txt       "nested"
 *   T/root/sub/deeper/c.txt "deepest"
 *   T/root/fifo            a FIFO
 *   T/rootlink -> root     (the root reached through a link)
 * Links below the root are made by each test. */
typedef struct {
    char dir[64];
    char root[96];
    char buf[512];
} fx;

static const char *fx_path(fx *f, const char *rel)
{
    snprintf(f->buf, sizeof f->buf, "%s/%s", f->dir, rel);
    return f->buf;
}

static void fx_write(fx *f, const char *rel, const char *text)
{
    FILE *fp = fopen(fx_path(f, rel), "w");
    if (!fp) u_fail(__FILE__, __LINE__, "cannot write %s", f->buf);
    fputs(text, fp);
    fclose(fp);
}

static void fx_mkdir(fx *f, const char *rel)
{
    if (mkdir(fx_path(f, rel), 0700) != 0) u_fail(__FILE__, __LINE__, "mkdir %s", f->buf);
}

/* A link at rel (below T) holding `target` as written. */
static void fx_link(fx *f, const char *target, const char *rel)
{
    char to[512]; /* target may be f->buf, from fx_path */
    snprintf(to, sizeof to, "%s", target);
    if (symlink(to, fx_path(f, rel)) != 0)
        u_fail(__FILE__, __LINE__, "symlink %s -> %s: %s", f->buf, to, strerror(errno));
}

static void fx_unlink(fx *f, const char *rel)
{
    if (unlink(fx_path(f, rel)) != 0) u_fail(__FILE__, __LINE__, "unlink %s", f->buf);
}

static void fx_open(fx *f)
{
    snprintf(f->dir, sizeof f->dir, "/tmp/parkhost-beneath-XXXXXX");
    if (!mkdtemp(f->dir)) u_fail(__FILE__, __LINE__, "mkdtemp failed");
    snprintf(f->root, sizeof f->root, "%s/root", f->dir);
    fx_write(f, "secret.txt", "secret");
    fx_mkdir(f, "outside");
    fx_write(f, "outside/x.txt", "outside");
    fx_mkdir(f, "root");
    fx_write(f, "root/a.txt", "hello");
    fx_write(f, "root/empty.txt", "");
    fx_write(f, "root/big.txt",
             "0123456789012345678901234567890123456789012345678901234567890123456789"
             "012345678901234567890123456789");
    fx_mkdir(f, "root/sub");
    fx_write(f, "root/sub/b.txt", "nested");
    fx_mkdir(f, "root/sub/deeper");
    fx_write(f, "root/sub/deeper/c.txt", "deepest");
    if (mkfifo(fx_path(f, "root/fifo"), 0600) != 0) u_fail(__FILE__, __LINE__, "mkfifo");
    fx_link(f, "root", "rootlink");
}

static void fx_close(fx *f)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
    if (system(cmd) != 0) u_fail(__FILE__, __LINE__, "cannot remove %s", f->dir);
    lua__beneath_force_fallback(false);
}

/* Whether the kernel lets us call openat2 (else both runs take the walk,
 * which the tests still pass, but say so). */
static void note_openat2(bool walk)
{
    struct open_how how = {.flags = O_PATH | O_CLOEXEC};
    long fd = syscall(SYS_openat2, AT_FDCWD, ".", &how, sizeof how);
    if (fd >= 0)
        close((int)fd);
    else if (!walk)
        printf("note: openat2 is not available here (%s): the walk stands in\n", strerror(errno));
}

/* The bytes of the file open at fd (closed), compared with want. */
#define CHECK_FD_TEXT(fd, want)                                                                    \
    do {                                                                                           \
        int fd_ = (fd);                                                                            \
        if (fd_ < 0) u_fail(__FILE__, __LINE__, "open failed: %s", strerror(-fd_));                \
        char got_[256];                                                                            \
        ssize_t n_ = read(fd_, got_, sizeof got_);                                                 \
        close(fd_);                                                                                \
        CHECK_INT(n_, >=, 0);                                                                      \
        CHECK_MEM(got_, (size_t)n_, want);                                                         \
    } while (0)

static void check_open(bool walk)
{
    note_openat2(walk);
    lua__beneath_force_fallback(walk);
    fx f;
    fx_open(&f);
    const char *root = f.root;

    /* A file, a nested file, and the same through a root that is a link. */
    CHECK_FD_TEXT(lua__open_beneath(root, "a.txt", O_RDONLY, 0), "hello");
    CHECK_FD_TEXT(lua__open_beneath(root, "sub/b.txt", O_RDONLY, 0), "nested");
    CHECK_FD_TEXT(lua__open_beneath(root, "sub/deeper/c.txt", O_RDONLY, 0), "deepest");
    char rootlink[128];
    snprintf(rootlink, sizeof rootlink, "%s/rootlink", f.dir);
    CHECK_FD_TEXT(lua__open_beneath(rootlink, "sub/b.txt", O_RDONLY, 0), "nested");

    /* The file itself a link, inside and outside. */
    fx_link(&f, "a.txt", "root/in_link");
    fx_link(&f, fx_path(&f, "secret.txt"), "root/out_link");
    fx_link(&f, "../../secret.txt", "root/sub/up_link");
    CHECK_INT(lua__open_beneath(root, "in_link", O_RDONLY, 0), ==, -ELOOP);
    CHECK_INT(lua__open_beneath(root, "out_link", O_RDONLY, 0), ==, -ELOOP);
    CHECK_INT(lua__open_beneath(root, "sub/up_link", O_RDONLY, 0), ==, -ELOOP);
    /* Not even written or made through one. */
    CHECK_INT(lua__open_beneath(root, "out_link", O_WRONLY | O_TRUNC, 0), ==, -ELOOP);
    CHECK_INT(lua__open_beneath(root, "out_link", O_WRONLY | O_CREAT, 0600), ==, -ELOOP);
    CHECK_INT(lua__open_beneath(root, "out_link", O_WRONLY | O_CREAT | O_EXCL, 0600), ==, -EEXIST);

    /* A folder on the way a link, inside and outside; the static/ case. */
    fx_link(&f, "sub", "root/dir_in");
    fx_link(&f, fx_path(&f, "outside"), "root/dir_out");
    fx_link(&f, "/etc", "root/etc");
    CHECK_INT(lua__open_beneath(root, "dir_in/b.txt", O_RDONLY, 0), ==, -ELOOP);
    CHECK_INT(lua__open_beneath(root, "dir_out/x.txt", O_RDONLY, 0), ==, -ELOOP);
    CHECK_INT(lua__open_beneath(root, "etc/passwd", O_RDONLY, 0), ==, -ELOOP);
    CHECK_INT(lua__open_beneath(root, "dir_in/deeper/c.txt", O_RDONLY, 0), ==, -ELOOP);

    /* "..", an absolute path, names that are not plain. */
    CHECK_INT(lua__open_beneath(root, "../secret.txt", O_RDONLY, 0), ==, -EXDEV);
    CHECK_INT(lua__open_beneath(root, "sub/../a.txt", O_RDONLY, 0), ==, -EXDEV);
    CHECK_INT(lua__open_beneath(root, "sub/deeper/../../../secret.txt", O_RDONLY, 0), ==, -EXDEV);
    CHECK_INT(lua__open_beneath(root, "..", O_RDONLY, 0), ==, -EXDEV);
    CHECK_INT(lua__open_beneath(root, "/etc/passwd", O_RDONLY, 0), ==, -EXDEV);
    char abs[256];
    snprintf(abs, sizeof abs, "%s/a.txt", root);
    CHECK_INT(lua__open_beneath(root, abs, O_RDONLY, 0), ==, -EXDEV);
    CHECK_INT(lua__open_beneath(root, "", O_RDONLY, 0), ==, -EINVAL);
    CHECK_INT(lua__open_beneath(root, "./a.txt", O_RDONLY, 0), ==, -EINVAL);
    CHECK_INT(lua__open_beneath(root, "sub//b.txt", O_RDONLY, 0), ==, -EINVAL);
    CHECK_INT(lua__open_beneath(root, "sub/", O_RDONLY, 0), ==, -EINVAL);

    /* What is not there. */
    CHECK_INT(lua__open_beneath(root, "missing.txt", O_RDONLY, 0), ==, -ENOENT);
    CHECK_INT(lua__open_beneath(root, "nosub/b.txt", O_RDONLY, 0), ==, -ENOENT);
    CHECK_INT(lua__open_beneath(root, "a.txt/b.txt", O_RDONLY, 0), ==, -ENOTDIR);
    CHECK_INT(lua__open_beneath(fx_path(&f, "nowhere"), "a.txt", O_RDONLY, 0), ==, -ENOENT);
    CHECK_INT(lua__open_beneath(fx_path(&f, "secret.txt"), "a.txt", O_RDONLY, 0), ==, -ENOTDIR);

    /* A new file: made with its mode, once. */
    int fd = lua__open_beneath(root, "sub/new.txt", O_WRONLY | O_CREAT | O_EXCL, 0600);
    CHECK_INT(fd, >=, 0);
    CHECK_INT(write(fd, "made", 4), ==, 4);
    close(fd);
    struct stat st;
    CHECK_INT(stat(fx_path(&f, "root/sub/new.txt"), &st), ==, 0);
    CHECK_INT(st.st_mode & 0777, ==, 0600);
    CHECK_INT(lua__open_beneath(root, "sub/new.txt", O_WRONLY | O_CREAT | O_EXCL, 0600), ==,
              -EEXIST);
    CHECK_FD_TEXT(lua__open_beneath(root, "sub/new.txt", O_RDONLY, 0), "made");
    /* O_PATH and a folder. */
    fd = lua__open_beneath(root, "sub/deeper", O_PATH | O_DIRECTORY, 0);
    CHECK_INT(fd, >=, 0);
    CHECK_INT(fstat(fd, &st), ==, 0);
    CHECK(S_ISDIR(st.st_mode));
    close(fd);
    CHECK_INT(lua__open_beneath(root, "dir_in", O_PATH | O_DIRECTORY, 0), ==, -ELOOP);
    /* The descriptor does not leak into a child. */
    fd = lua__open_beneath(root, "a.txt", O_RDONLY, 0);
    CHECK_INT(fd, >=, 0);
    CHECK(fcntl(fd, F_GETFD) & FD_CLOEXEC);
    close(fd);

    /* Nothing outside was touched. */
    CHECK_FD_TEXT(open(fx_path(&f, "secret.txt"), O_RDONLY), "secret");
    fx_close(&f);
}

void test_beneath_open(void)
{
    check_open(false);
}

void test_beneath_open_walk(void)
{
    check_open(true);
}

static void check_slurp(bool walk)
{
    lua__beneath_force_fallback(walk);
    fx f;
    fx_open(&f);
    const char *root = f.root;
    char *data = (char *)"untouched";
    size_t len = 99;

    CHECK_INT(lua__slurp_beneath(root, "sub/b.txt", 1024, &data, &len), ==, 0);
    CHECK_MEM(data, len, "nested");
    CHECK_INT(data[len], ==, 0);
    free(data);
    CHECK_INT(lua__slurp_beneath(root, "empty.txt", 1024, &data, &len), ==, 0);
    CHECK_INT(len, ==, 0);
    CHECK_STR(data, "");
    free(data);

    /* The size limit: exactly max bytes pass, one more do not. */
    CHECK_INT(lua__slurp_beneath(root, "big.txt", 100, &data, &len), ==, 0);
    CHECK_INT(len, ==, 100);
    free(data);
    CHECK_INT(lua__slurp_beneath(root, "big.txt", 99, &data, &len), ==, -EFBIG);
    CHECK(data == NULL);
    CHECK_INT(len, ==, 0);

    /* Only regular files: a folder, and a FIFO (no writer: without
     * O_NONBLOCK the open would wait here for ever). */
    CHECK_INT(lua__slurp_beneath(root, "sub", 1024, &data, &len), ==, -EISDIR);
    CHECK(data == NULL);
    CHECK_INT(lua__slurp_beneath(root, "fifo", 1024, &data, &len), ==, -EINVAL);
    CHECK(data == NULL);

    /* Never through a link, never out of the root. */
    fx_link(&f, fx_path(&f, "secret.txt"), "root/out_link");
    fx_link(&f, "a.txt", "root/in_link");
    fx_link(&f, fx_path(&f, "outside"), "root/dir_out");
    CHECK_INT(lua__slurp_beneath(root, "out_link", 1024, &data, &len), ==, -ELOOP);
    CHECK_INT(lua__slurp_beneath(root, "in_link", 1024, &data, &len), ==, -ELOOP);
    CHECK_INT(lua__slurp_beneath(root, "dir_out/x.txt", 1024, &data, &len), ==, -ELOOP);
    CHECK_INT(lua__slurp_beneath(root, "../secret.txt", 1024, &data, &len), ==, -EXDEV);
    CHECK_INT(lua__slurp_beneath(root, "/etc/passwd", 1024, &data, &len), ==, -EXDEV);
    CHECK_INT(lua__slurp_beneath(root, "missing", 1024, &data, &len), ==, -ENOENT);
    CHECK(data == NULL);
    fx_close(&f);
}

void test_beneath_slurp(void)
{
    check_slurp(false);
}

void test_beneath_slurp_walk(void)
{
    check_slurp(true);
}

/* tree_check of root answers rc, and its why holds each of the strings
 * (NULL-terminated). */
static void check_tree(int line, const char *dir, int rc, ...)
{
    char why[1024] = "";
    int got = lua__tree_check(dir, why, sizeof why);
    if (got != rc) u_fail(__FILE__, line, "tree_check is %d (%s), expected %d", got, why, rc);
    va_list ap;
    va_start(ap, rc);
    for (const char *s; (s = va_arg(ap, const char *));)
        if (!strstr(why, s)) u_fail(__FILE__, line, "why \"%s\" does not say \"%s\"", why, s);
    va_end(ap);
}

void test_beneath_tree_check(void)
{
    fx f;
    fx_open(&f);
    char root[128], rootlink[128], real_dir[512], want[600];
    snprintf(root, sizeof root, "%s", f.root);
    snprintf(rootlink, sizeof rootlink, "%s/rootlink", f.dir);
    if (!realpath(f.dir, real_dir)) u_fail(__FILE__, __LINE__, "realpath %s", f.dir);

    /* A clean tree (the FIFO is no link), by its path and through a link. */
    check_tree(__LINE__, root, 0, NULL);
    check_tree(__LINE__, rootlink, 0, NULL);

    /* Links that stay inside: to a file, to a folder beside them, a chain,
     * an absolute target inside. */
    fx_link(&f, "a.txt", "root/in_link");
    fx_link(&f, "../a.txt", "root/sub/up_file");
    fx_link(&f, "sub/deeper", "root/dir_in");
    fx_link(&f, "in_link", "root/chain_in");
    fx_link(&f, fx_path(&f, "root/sub/b.txt"), "root/abs_in");
    check_tree(__LINE__, root, 0, NULL);
    check_tree(__LINE__, rootlink, 0, NULL);
    char slash[140];
    snprintf(slash, sizeof slash, "%s/", root);
    check_tree(__LINE__, slash, 0, NULL);

    /* A link leading out, named by its path below the folder and its target. */
    fx_link(&f, fx_path(&f, "secret.txt"), "root/sub/deeper/evil");
    snprintf(want, sizeof want, "sub/deeper/evil -> %s/secret.txt", real_dir);
    check_tree(__LINE__, root, PH_EINVAL, want, "leading out of the plugin's folder", NULL);
    check_tree(__LINE__, rootlink, PH_EINVAL, want, NULL);
    fx_unlink(&f, "root/sub/deeper/evil");

    /* The static/ case: a folder that is a link out. */
    fx_link(&f, fx_path(&f, "outside"), "root/static");
    snprintf(want, sizeof want, "static -> %s/outside: a symbolic link leading out", real_dir);
    check_tree(__LINE__, root, PH_EINVAL, want, NULL);
    fx_unlink(&f, "root/static");
    fx_link(&f, "/etc", "root/static");
    check_tree(__LINE__, root, PH_EINVAL, "static -> /etc", "leading out", NULL);
    fx_unlink(&f, "root/static");

    /* A relative link out, and a chain whose last link leads out. */
    fx_link(&f, "../../secret.txt", "root/sub/rel_out");
    check_tree(__LINE__, root, PH_EINVAL, "sub/rel_out -> ", "leading out", NULL);
    fx_unlink(&f, "root/sub/rel_out");
    fx_link(&f, fx_path(&f, "secret.txt"), "outside/hop");
    fx_link(&f, fx_path(&f, "outside/hop"), "root/sub/chain_out");
    snprintf(want, sizeof want, "sub/chain_out -> %s/secret.txt", real_dir);
    check_tree(__LINE__, root, PH_EINVAL, want, NULL);
    fx_unlink(&f, "root/sub/chain_out");

    /* A dangling link, and a loop of links: they lead nowhere. */
    fx_link(&f, "nothing-here", "root/sub/ghost");
    check_tree(__LINE__, root, PH_EINVAL, "sub/ghost -> nothing-here", "leads nowhere", NULL);
    fx_unlink(&f, "root/sub/ghost");
    fx_link(&f, "loop2", "root/loop1");
    fx_link(&f, "loop1", "root/loop2");
    check_tree(__LINE__, root, PH_EINVAL, "leads nowhere", NULL);
    fx_unlink(&f, "root/loop1");
    fx_unlink(&f, "root/loop2");

    /* A link to a parent folder: out of the folder, or a loop inside it. */
    fx_link(&f, "..", "root/up");
    snprintf(want, sizeof want, "up -> %s: a symbolic link leading out", real_dir);
    check_tree(__LINE__, root, PH_EINVAL, want, NULL);
    fx_unlink(&f, "root/up");
    fx_link(&f, "..", "root/sub/deeper/up");
    check_tree(__LINE__, root, PH_EINVAL, "sub/deeper/up -> ",
               "/root/sub: ", "a folder that holds it", NULL);
    fx_unlink(&f, "root/sub/deeper/up");
    fx_link(&f, "../..", "root/sub/deeper/top");
    check_tree(__LINE__, root, PH_EINVAL, "sub/deeper/top -> ", "a folder that holds it", NULL);
    fx_unlink(&f, "root/sub/deeper/top");
    fx_link(&f, ".", "root/sub/self");
    check_tree(__LINE__, root, PH_EINVAL, "sub/self -> ", "a folder that holds it", NULL);
    fx_unlink(&f, "root/sub/self");
    check_tree(__LINE__, root, 0, NULL);

    /* Bounded depth; a folder that is not there. */
    char deep[512] = "root";
    for (int i = 0; i < 34; i++) {
        strcat(deep, "/d");
        fx_mkdir(&f, deep);
    }
    check_tree(__LINE__, root, PH_ELIMIT, "nested more than 32 deep", NULL);
    check_tree(__LINE__, fx_path(&f, "nowhere"), PH_EIO, NULL);
    fx_close(&f);
}
