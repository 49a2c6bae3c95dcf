/* Unit tests of core modules: plain C, in process, one test per process.
 *
 * Each test is a `void test_NAME(void)` listed once in UNIT_TEST_LIST below.
 * tests/unit/CMakeLists.txt reads that list to register one ctest entry per
 * test (unit.NAME), so the list here is the only one to edit. A failed check
 * prints "FAIL file:line: ..." and exits 1; ASan and UBSan abort on their own.
 */
#ifndef PARKHOST_TESTS_UNIT_H
#define PARKHOST_TESTS_UNIT_H

#include <stddef.h>

/* One X(name) per line: CMake matches "X(name)" to register the tests; the
 * label is the name up to its first '_' ("form"). */
#define UNIT_TEST_LIST(X)                                                                          \
    /* test_form.c: percent-decoding */                                                            \
    X(form_urldecode_basic)                                                                        \
    X(form_urldecode_plus)                                                                         \
    X(form_urldecode_invalid_escapes)                                                              \
    X(form_urldecode_nul)                                                                          \
    X(form_urldecode_to_in_place)                                                                  \
    /* test_form.c: urlencoded */                                                                  \
    X(form_urlencoded_basic)                                                                       \
    X(form_urlencoded_empty_pieces)                                                                \
    X(form_urlencoded_decoding)                                                                    \
    X(form_urlencoded_escape_at_end)                                                               \
    X(form_urlencoded_limit)                                                                       \
    X(form_urlencoded_huge_count)                                                                  \
    X(form_urlencoded_nul)                                                                         \
    X(form_urlencoded_stop)                                                                        \
    /* test_form.c: Cookie */                                                                      \
    X(form_cookies_basic)                                                                          \
    X(form_cookies_quoted)                                                                         \
    X(form_cookies_malformed)                                                                      \
    X(form_cookies_stop)                                                                           \
    /* test_form.c: Set-Cookie */                                                                  \
    X(form_set_cookie_minimal)                                                                     \
    X(form_set_cookie_full)                                                                        \
    X(form_set_cookie_expires)                                                                     \
    X(form_set_cookie_max_age)                                                                     \
    X(form_set_cookie_bad_name)                                                                    \
    X(form_set_cookie_bad_value)                                                                   \
    X(form_set_cookie_bad_path_domain)                                                             \
    X(form_set_cookie_same_site)                                                                   \
    X(form_set_cookie_prefixes)                                                                    \
    /* test_form.c: multipart boundary */                                                          \
    X(form_boundary_basic)                                                                         \
    X(form_boundary_quoted)                                                                        \
    X(form_boundary_length)                                                                        \
    X(form_boundary_invalid)                                                                       \
    /* test_form.c: multipart body */                                                              \
    X(form_multipart_basic)                                                                        \
    X(form_multipart_preamble_epilogue)                                                            \
    X(form_multipart_chinese)                                                                      \
    X(form_multipart_filename_ext)                                                                 \
    X(form_multipart_quoted_escapes)                                                               \
    X(form_multipart_boundary_in_data)                                                             \
    X(form_multipart_crlf_in_data)                                                                 \
    X(form_multipart_empty_parts)                                                                  \
    X(form_multipart_content_type)                                                                 \
    X(form_multipart_malformed)                                                                    \
    X(form_multipart_truncated)                                                                    \
    X(form_multipart_all_or_nothing)                                                               \
    X(form_multipart_stop)                                                                         \
    X(form_multipart_limit_parts)                                                                  \
    X(form_multipart_limit_header_bytes)                                                           \
    X(form_multipart_limit_field_bytes)                                                            \
    X(form_multipart_limit_file_bytes)                                                             \
    X(form_multipart_limits_zero)                                                                  \
    /* test_sched.c: time and cron */                                                              \
    X(sched_time_parse)                                                                            \
    X(sched_cron_fields)                                                                           \
    X(sched_cron_weekdays)                                                                         \
    X(sched_cron_errors)                                                                           \
    X(sched_cron_workday)                                                                          \
    /* test_sched.c: the park_jobs table */                                                        \
    X(sched_claim_lease)                                                                           \
    X(sched_claim_runnable)                                                                        \
    X(sched_finish_retry)                                                                          \
    X(sched_finish_recurring)                                                                      \
    X(sched_finish_stopped)                                                                        \
    X(sched_finish_lost)                                                                           \
    X(sched_cancel_prune)                                                                          \
    /* test_watch.c */                                                                             \
    X(watch_kill)                                                                                  \
    X(watch_hold)                                                                                  \
    /* test_store.c */                                                                             \
    X(store_group_commit)                                                                          \
    /* test_auth.c */                                                                              \
    X(auth_password_rules)                                                                         \
    X(auth_hash_verify)                                                                            \
    X(auth_accounts)                                                                               \
    X(auth_csrf)                                                                                   \
    X(auth_secret)                                                                                 \
    X(auth_sessions)                                                                               \
    X(auth_login_limits)                                                                           \
    X(auth_login_delay)                                                                            \
    X(auth_device)                                                                                 \
    /* test_audit.c */                                                                             \
    X(audit_record_list)                                                                           \
    /* test_site.c */                                                                              \
    X(site_permissions)                                                                            \
    X(site_columns)                                                                                \
    /* test_beneath.c */                                                                           \
    X(beneath_open)                                                                                \
    X(beneath_open_walk)                                                                           \
    X(beneath_slurp)                                                                               \
    X(beneath_slurp_walk)                                                                          \
    X(beneath_tree_check)                                                                          \
    /* test_pattern.c */                                                                           \
    X(pattern_differential)                                                                        \
    X(pattern_edge_cases)                                                                          \
    X(pattern_budget)                                                                              \
    X(pattern_billing)                                                                             \
    /* test_items.c */                                                                             \
    X(items_tokens)                                                                                \
    X(items_match)                                                                                 \
    X(items_publish_stamps_once)                                                                   \
    X(items_list_and_search)

#define UNIT_TEST_DECLARE(name) void test_##name(void);
UNIT_TEST_LIST(UNIT_TEST_DECLARE)
#undef UNIT_TEST_DECLARE

/* Prints "FAIL file:line: message" and exits with status 1. */
void u_fail(const char *file, int line, const char *fmt, ...)
    __attribute__((noreturn, format(printf, 3, 4)));

/* Escapes bytes for a failure message (\r, \n, \0, \xNN). Returns one of a
 * small ring of static buffers, so two can appear in one message. */
const char *u_escape(const void *data, size_t len);

void u_check_mem(const char *file, int line, const char *expr, const void *actual, size_t alen,
                 const void *expected, size_t elen);

/* A real SQLite database in a new directory under /tmp, with the core's
 * migrations applied; u_db_close removes the directory. */
struct store;
typedef struct {
    char dir[64];
    char path[96];
    struct store *s;
} u_db;
void u_db_open(u_db *f);
void u_db_close(u_db *f);

#define CHECK(expr)                                                                                \
    do {                                                                                           \
        if (!(expr)) u_fail(__FILE__, __LINE__, "CHECK(%s) failed", #expr);                        \
    } while (0)

#define CHECK_INT(a, op, b)                                                                        \
    do {                                                                                           \
        long long u_a_ = (long long)(a), u_b_ = (long long)(b);                                    \
        if (!(u_a_ op u_b_))                                                                       \
            u_fail(__FILE__, __LINE__, "CHECK(%s %s %s) failed: %lld %s %lld is false", #a, #op,   \
                   #b, u_a_, #op, u_b_);                                                           \
    } while (0)

/* The bytes [p, p + n) equal the string literal lit, embedded NULs included. */
#define CHECK_MEM(p, n, lit) u_check_mem(__FILE__, __LINE__, #p, (p), (n), (lit), sizeof(lit) - 1)

/* A NUL-terminated string equals lit. */
#define CHECK_STR(s, lit)                                                                          \
    do {                                                                                           \
        const char *u_s_ = (s);                                                                    \
        if (!u_s_) u_fail(__FILE__, __LINE__, "%s is NULL, expected \"%s\"", #s, lit);             \
        u_check_mem(__FILE__, __LINE__, #s, u_s_, strlen(u_s_), (lit), sizeof(lit) - 1);           \
    } while (0)

#endif
