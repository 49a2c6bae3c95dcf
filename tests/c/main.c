/* Tiny test runner, one test per process (model: libuv test/runner.c).
 *
 *   test_http NAME                 run one test; exit 0 on success
 *   test_http --list               print the test names, one per line
 *   test_http --check-list N1 ...  exit 0 iff the given names are exactly
 *                                  the compiled-in list (CMake sync check)
 */
#include <stdio.h>
#include <string.h>

#include "harness.h"
#include "tests.h"

typedef struct test_entry {
    const char *name;
    void (*fn)(void);
} test_entry_t;

#define HTTP_TEST_ENTRY(name) {#name, test_##name},
static const test_entry_t g_tests[] = {HTTP_TEST_LIST(HTTP_TEST_ENTRY)};
#undef HTTP_TEST_ENTRY

#define NTESTS ((int)(sizeof g_tests / sizeof g_tests[0]))

static int usage(const char *argv0)
{
    fprintf(stderr, "usage: %s NAME | --list | --check-list NAMES...\n", argv0);
    return 2;
}

static int check_list(int argc, char **argv)
{
    int ok = 1;
    for (int i = 0; i < argc; i++) {
        int found = 0;
        for (int t = 0; t < NTESTS; t++)
            if (strcmp(argv[i], g_tests[t].name) == 0) found = 1;
        if (!found) {
            fprintf(stderr, "listed in CMake but not compiled in: %s\n", argv[i]);
            ok = 0;
        }
    }
    for (int t = 0; t < NTESTS; t++) {
        int found = 0;
        for (int i = 0; i < argc; i++)
            if (strcmp(argv[i], g_tests[t].name) == 0) found = 1;
        if (!found) {
            fprintf(stderr, "compiled in but not registered in CMake: %s\n", g_tests[t].name);
            ok = 0;
        }
    }
    if (ok) printf("%d tests, list in sync\n", NTESTS);
    return ok ? 0 : 1;
}

int main(int argc, char **argv)
{
    if (argc < 2) return usage(argv[0]);
    if (strcmp(argv[1], "--list") == 0) {
        for (int t = 0; t < NTESTS; t++)
            printf("%s\n", g_tests[t].name);
        return 0;
    }
    if (strcmp(argv[1], "--check-list") == 0) return check_list(argc - 2, argv + 2);
    for (int t = 0; t < NTESTS; t++) {
        if (strcmp(argv[1], g_tests[t].name) == 0) {
            h_runner_init();
            fprintf(stderr, "# test %s\n", g_tests[t].name);
            int64_t start = h_now_ms();
            g_tests[t].fn();
            h_runner_finish();
            printf("PASS %s (%lld ms)\n", g_tests[t].name, (long long)(h_now_ms() - start));
            return 0;
        }
    }
    fprintf(stderr, "unknown test: %s\n", argv[1]);
    return usage(argv[0]);
}
