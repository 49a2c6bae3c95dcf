/* Runner for the unit tests (model: libuv test/runner.c): one test per
 * process, so a crash or a sanitizer report names exactly one test.
 *
 *   test_unit NAME     run one test; exit 0 on success, 1 on failure
 *   test_unit --list   print the test names, one per line
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store.h"
#include "unit.h"

typedef struct {
    const char *name;
    void (*fn)(void);
} unit_entry;

#define UNIT_ENTRY(name) {#name, test_##name},
static const unit_entry unit_tests[] = {UNIT_TEST_LIST(UNIT_ENTRY)};
#undef UNIT_ENTRY

#define UNIT_NTESTS (sizeof unit_tests / sizeof unit_tests[0])

static const char *unit_current = "?";

void u_fail(const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    fflush(stdout);
    fprintf(stderr, "FAIL %s: %s:%d: ", unit_current, file, line);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(1);
}

const char *u_escape(const void *data, size_t len)
{
    static char ring[4][1024];
    static unsigned next;
    char *out = ring[next++ % 4];
    const unsigned char *p = data;
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        if (o + 8 >= sizeof ring[0]) {
            memcpy(out + o, "...", 4);
            return out;
        }
        unsigned char c = p[i];
        if (c == '\r')
            o += (size_t)sprintf(out + o, "\\r");
        else if (c == '\n')
            o += (size_t)sprintf(out + o, "\\n");
        else if (c == '\\')
            o += (size_t)sprintf(out + o, "\\\\");
        else if (c < 0x20 || c >= 0x7f)
            o += (size_t)sprintf(out + o, "\\x%02x", c);
        else
            out[o++] = (char)c;
    }
    out[o] = '\0';
    return out;
}

void u_check_mem(const char *file, int line, const char *expr, const void *actual, size_t alen,
                 const void *expected, size_t elen)
{
    if (!actual && alen) u_fail(file, line, "%s is NULL with length %zu", expr, alen);
    if (alen == elen && (elen == 0 || memcmp(actual, expected, elen) == 0)) return;
    u_fail(file, line, "%s is \"%s\" (%zu bytes), expected \"%s\" (%zu bytes)", expr,
           actual ? u_escape(actual, alen) : "(null)", alen, u_escape(expected, elen), elen);
}

void u_db_open(u_db *f)
{
    snprintf(f->dir, sizeof f->dir, "/tmp/parkhost-unit-XXXXXX");
    if (!mkdtemp(f->dir)) u_fail(__FILE__, __LINE__, "mkdtemp failed");
    snprintf(f->path, sizeof f->path, "%s/site.db", f->dir);
    char err[512];
    if (store_open(&f->s, f->path, err, sizeof err)) u_fail(__FILE__, __LINE__, "%s", err);
    if (store_migrate(f->s, "core", PARKHOST_SQL_DIR, NULL, NULL, err, sizeof err))
        u_fail(__FILE__, __LINE__, "%s", err);
}

void u_db_close(u_db *f)
{
    store_close(f->s);
    f->s = NULL;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", f->dir);
    if (system(cmd) != 0) u_fail(__FILE__, __LINE__, "cannot remove %s", f->dir);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s NAME | --list\n", argv[0]);
        return 2;
    }
    if (strcmp(argv[1], "--list") == 0) {
        for (size_t t = 0; t < UNIT_NTESTS; t++)
            printf("%s\n", unit_tests[t].name);
        return 0;
    }
    for (size_t t = 0; t < UNIT_NTESTS; t++) {
        if (strcmp(argv[1], unit_tests[t].name) == 0) {
            unit_current = unit_tests[t].name;
            unit_tests[t].fn();
            printf("PASS %s\n", unit_current);
            return 0;
        }
    }
    fprintf(stderr, "unknown test: %s (try --list)\n", argv[1]);
    return 2;
}
