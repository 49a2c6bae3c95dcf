/* Unit tests of core/auth: password rules, Argon2id hashes, and the
 * accounts tables in a real SQLite file. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auth/auth.h"
#include "base/base.h"
#include "store/store.h"
#include "unit.h"

void test_auth_password_rules(void)
{
    const char *why = NULL;
    CHECK_INT(auth_password_ok("abcdefghij", 10, 10, &why), ==, 0);
    CHECK_INT(auth_password_ok("abcdefghi", 9, 10, &why), ==, PH_EINVAL);
    CHECK_STR(why, "the password is too short (password-min-length)");
    /* Characters, not bytes: ten Chinese characters are ten. */
    const char *zh = "园区服务中心高新创业";
    CHECK_INT(auth_password_ok(zh, strlen(zh), 10, &why), ==, 0);
    CHECK_INT(auth_password_ok(zh, strlen(zh), 11, &why), ==, PH_EINVAL);
    CHECK_INT(auth_password_ok("abc\x01"
                               "defghijk",
                               12, 8, &why),
              ==, PH_EINVAL);
    CHECK_STR(why, "a password may not contain control characters");
    CHECK_INT(auth_password_ok("abcdefgh\xff", 9, 8, &why), ==, PH_EINVAL);
    CHECK_STR(why, "a password must be UTF-8 text");
    CHECK_INT(auth_password_ok("abcdefgh\xe5\x9b", 10, 8, &why), ==, PH_EINVAL); /* cut */
    char big[AUTH_PASSWORD_MAX + 1];
    memset(big, 'a', sizeof big);
    CHECK_INT(auth_password_ok(big, sizeof big, 8, &why), ==, PH_EINVAL);
    CHECK_STR(why, "a password is at most 1024 bytes");
    CHECK_INT(auth_password_ok(big, AUTH_PASSWORD_MAX, 8, &why), ==, 0);
}

void test_auth_hash_verify(void)
{
    CHECK_INT(auth_init(), ==, 0);
    char h1[AUTH_HASH_MAX], h2[AUTH_HASH_MAX];
    CHECK_INT(auth_hash("correct horse", 13, h1), ==, 0);
    CHECK_INT(auth_hash("correct horse", 13, h2), ==, 0);
    CHECK(strncmp(h1, "$argon2id$", 10) == 0);
    CHECK(strcmp(h1, h2) != 0); /* salted */
    CHECK(strstr(h1, "correct") == NULL);
    CHECK(auth_verify(h1, "correct horse", 13));
    CHECK(auth_verify(h2, "correct horse", 13));
    CHECK(!auth_verify(h1, "correct horsE", 13));
    CHECK(!auth_verify(h1, "correct hors", 12));
    CHECK(!auth_verify("not a hash", "correct horse", 13));
}

static void roles_of(void *ud, const char *login, const char *name, bool disabled,
                     const char *roles)
{
    char *out = ud;
    size_t n = strlen(out);
    snprintf(out + n, 512 - n, "%s(%s)%s:%s;", login, name, disabled ? "-" : "+", roles);
}

void test_auth_accounts(void)
{
    CHECK_INT(auth_init(), ==, 0);
    u_db f;
    u_db_open(&f);
    store *s = f.s;
    const char *why = NULL;
    CHECK_INT(auth_unit_add(s, "invest", "招商局", 0, &why), ==, 0);
    CHECK_INT(auth_unit_add(s, "invest", "again", 0, &why), ==, PH_EEXISTS);
    CHECK_INT(auth_unit_add(s, "Invest", "x", 0, &why), ==, PH_EINVAL);
    CHECK_INT(auth_unit_add(s, "x", "", 0, &why), ==, PH_EINVAL);
    CHECK_STR(why, "a unit name is 1 to 200 bytes");
    char hash[AUTH_HASH_MAX];
    CHECK_INT(auth_hash("the admin's password", 20, hash), ==, 0);
    CHECK_INT(auth_user_add(s, "admin", "管理员", hash, "center", "admin", 1, &why), ==, 0);
    CHECK_INT(auth_user_add(s, "admin", "", hash, "center", "admin", 1, &why), ==, PH_EEXISTS);
    CHECK_INT(auth_user_add(s, "li", "", hash, "invest", "admin", 1, &why), ==, PH_EINVAL);
    CHECK_STR(why, "the admin role is held for the center only");
    CHECK_INT(auth_user_add(s, "li", "", hash, "nosuch", "editor", 1, &why), ==, PH_ENOTFOUND);
    CHECK_INT(auth_user_add(s, "li", "", hash, "invest", "boss", 1, &why), ==, PH_EINVAL);
    CHECK_INT(auth_user_add(s, "Li Wei", "", hash, "invest", "editor", 1, &why), ==, PH_EINVAL);
    /* A refused add leaves nothing behind. */
    CHECK_INT(auth_user_add(s, "li", "李伟", hash, "invest", "editor", 1, &why), ==, 0);
    CHECK_INT(auth_grant(s, "li", "invest", "reviewer", &why), ==, 0);
    CHECK_INT(auth_grant(s, "li", "invest", "reviewer", &why), ==, 0); /* held already */
    CHECK_INT(auth_grant(s, "nobody", "invest", "reviewer", &why), ==, PH_ENOTFOUND);
    char list[512] = "";
    CHECK_INT(auth_each_user(s, roles_of, list), ==, 0);
    CHECK_STR(list, "admin(管理员)+:admin@center;li(李伟)+:editor@invest, reviewer@invest;");
    int64_t id = 0;
    CHECK_INT(auth_check(s, "admin", "the admin's password", 20, &id), ==, 0);
    CHECK_INT(id, >, 0);
    CHECK_INT(auth_check(s, "admin", "the admin's passworD", 20, &id), ==, PH_ENOTFOUND);
    CHECK_INT(auth_check(s, "nobody", "the admin's password", 20, &id), ==, PH_ENOTFOUND);
    CHECK_INT(auth_disable(s, "admin", true), ==, 0);
    CHECK_INT(auth_check(s, "admin", "the admin's password", 20, &id), ==, PH_ENOTFOUND);
    CHECK_INT(auth_disable(s, "admin", false), ==, 0);
    CHECK_INT(auth_disable(s, "nobody", true), ==, PH_ENOTFOUND);
    char other[AUTH_HASH_MAX];
    CHECK_INT(auth_hash("a new password", 14, other), ==, 0);
    CHECK_INT(auth_set_hash(s, "admin", other, 2), ==, 0);
    CHECK_INT(auth_check(s, "admin", "the admin's password", 20, &id), ==, PH_ENOTFOUND);
    CHECK_INT(auth_check(s, "admin", "a new password", 14, &id), ==, 0);
    CHECK_INT(auth_set_hash(s, "nobody", other, 2), ==, PH_ENOTFOUND);
    /* The table refuses anything but an Argon2id hash. */
    CHECK_INT(auth_set_hash(s, "admin", "plain text", 3), ==, PH_EDB);
    u_db_close(&f);
}

void test_auth_csrf(void)
{
    CHECK_INT(auth_init(), ==, 0);
    unsigned char k1[AUTH_SECRET_BYTES], k2[AUTH_SECRET_BYTES];
    auth_random(k1, sizeof k1);
    auth_random(k2, sizeof k2);
    char a[AUTH_BROWSER_MAX], b[AUTH_BROWSER_MAX];
    auth_browser_id(a);
    auth_browser_id(b);
    CHECK_INT(strlen(a), ==, 22);
    CHECK(auth_browser_id_ok(a, strlen(a)));
    CHECK(strcmp(a, b) != 0);
    CHECK(!auth_browser_id_ok("short", 5));
    CHECK(!auth_browser_id_ok("aaaaaaaaaaaaaaaaaaaaa=", 22));
    char ta[AUTH_CSRF_MAX], ta2[AUTH_CSRF_MAX], tb[AUTH_CSRF_MAX], tk[AUTH_CSRF_MAX];
    auth_csrf_token(k1, a, 22, NULL, 0, ta);
    auth_csrf_token(k1, a, 22, NULL, 0, ta2);
    auth_csrf_token(k1, b, 22, NULL, 0, tb);
    auth_csrf_token(k2, a, 22, NULL, 0, tk);
    CHECK_INT(strlen(ta), ==, 43);
    CHECK(strcmp(ta, ta2) == 0); /* the same browser, the same token */
    CHECK(strcmp(ta, tb) != 0);
    CHECK(strcmp(ta, tk) != 0);
    CHECK(auth_csrf_ok(k1, a, 22, NULL, 0, ta, strlen(ta)));
    CHECK(!auth_csrf_ok(k1, b, 22, NULL, 0, ta, strlen(ta)));
    CHECK(!auth_csrf_ok(k2, a, 22, NULL, 0, ta, strlen(ta)));
    CHECK(!auth_csrf_ok(k1, a, 22, NULL, 0, ta, strlen(ta) - 1));
    CHECK(!auth_csrf_ok(k1, a, 22, NULL, 0, "", 0));
    /* Logged in: the session is part of the token. */
    char ts[AUTH_CSRF_MAX];
    auth_csrf_token(k1, a, 22, "session-one", 11, ts);
    CHECK(strcmp(ts, ta) != 0);
    CHECK(auth_csrf_ok(k1, a, 22, "session-one", 11, ts, strlen(ts)));
    CHECK(!auth_csrf_ok(k1, a, 22, "session-two", 11, ts, strlen(ts)));
    CHECK(!auth_csrf_ok(k1, a, 22, NULL, 0, ts, strlen(ts)));
    CHECK(!auth_csrf_ok(k1, a, 22, "session-one", 11, ta, strlen(ta)));
}

void test_auth_secret(void)
{
    CHECK_INT(auth_init(), ==, 0);
    u_db f;
    u_db_open(&f);
    store *s = f.s;
    unsigned char one[AUTH_SECRET_BYTES], two[AUTH_SECRET_BYTES], other[AUTH_SECRET_BYTES];
    CHECK_INT(auth_secret(s, "csrf", one), ==, 0);
    CHECK_INT(auth_secret(s, "csrf", two), ==, 0);
    CHECK(memcmp(one, two, sizeof one) == 0);
    CHECK_INT(auth_secret(s, "other", other), ==, 0);
    CHECK(memcmp(one, other, sizeof one) != 0);
    store_close(s);
    char err[256];
    CHECK_INT(store_open(&f.s, f.path, err, sizeof err), ==, 0);
    CHECK_INT(auth_secret(f.s, "csrf", two), ==, 0);
    CHECK(memcmp(one, two, sizeof one) == 0); /* kept across opens */
    u_db_close(&f);
}

static void no_role(void *ud, const char *unit, const char *role)
{
    (void)ud;
    (void)unit;
    (void)role;
}

void test_auth_sessions(void)
{
    CHECK_INT(auth_init(), ==, 0);
    u_db f;
    u_db_open(&f);
    char hash[AUTH_HASH_MAX];
    const char *why;
    CHECK_INT(auth_hash("a password here", 15, hash), ==, 0);
    CHECK_INT(auth_user_add(f.s, "wang", "王", hash, "center", "editor", 0, &why), ==, 0);
    int64_t uid;
    bool disabled;
    char got[AUTH_HASH_MAX];
    CHECK_INT(auth_login_lookup(f.s, "wang", got, &uid, &disabled), ==, 0);
    CHECK(strncmp(got, "$argon2id$", 10) == 0);
    CHECK(uid > 0 && !disabled);
    CHECK_INT(auth_login_lookup(f.s, "nobody", got, &uid, &disabled), ==, 0);
    CHECK_INT(uid, ==, 0);
    CHECK_STR(got, "");
    CHECK_INT(auth_login_lookup(f.s, "wang", got, &uid, &disabled), ==, 0);
    char t1[AUTH_TOKEN_MAX], t2[AUTH_TOKEN_MAX];
    CHECK_INT(auth_session_new(f.s, uid, 1000, 60, "10.0.0.1", t1), ==, 0);
    CHECK_INT(auth_session_new(f.s, uid, 1000, 60, "10.0.0.1", t2), ==, 0);
    CHECK_INT(strlen(t1), ==, 43);
    CHECK(strcmp(t1, t2) != 0);
    int64_t who = 0;
    CHECK_INT(auth_session_user(f.s, t1, 43, 1059, &who), ==, 0);
    CHECK_INT(who, ==, uid);
    CHECK_INT(auth_session_user(f.s, t1, 43, 1060, &who), ==, PH_ENOTFOUND); /* expired */
    CHECK_INT(auth_session_user(f.s, t1, 42, 1000, &who), ==, PH_ENOTFOUND);
    /* The database keeps only the token's hash. */
    sqlite3_stmt *st;
    CHECK_INT(sqlite3_prepare_v2(store_db(f.s), "SELECT count(*) FROM park_sessions WHERE id = ?",
                                 -1, &st, NULL),
              ==, SQLITE_OK);
    sqlite3_bind_text(st, 1, t1, -1, SQLITE_STATIC);
    CHECK_INT(sqlite3_step(st), ==, SQLITE_ROW);
    CHECK_INT(sqlite3_column_int(st, 0), ==, 0);
    sqlite3_finalize(st);
    CHECK_INT(auth_disable(f.s, "wang", true), ==, 0);
    CHECK_INT(auth_session_user(f.s, t2, 43, 1000, &who), ==, PH_ENOTFOUND);
    CHECK_INT(auth_disable(f.s, "wang", false), ==, 0);
    CHECK_INT(auth_session_end(f.s, t2, 43), ==, 0);
    CHECK_INT(auth_session_user(f.s, t2, 43, 1000, &who), ==, PH_ENOTFOUND);
    char login[64], name[64];
    CHECK_INT(auth_user_get(f.s, uid, login, name, sizeof login, no_role, NULL), ==, 0);
    CHECK_STR(login, "wang");
    CHECK_STR(name, "王");
    CHECK_INT(auth_user_get(f.s, uid + 100, login, name, sizeof login, no_role, NULL), ==,
              PH_ENOTFOUND);
    u_db_close(&f);
}

void test_auth_login_limits(void)
{
    u_db f;
    u_db_open(&f);
    auth_limits lim = {900, 3, 5, 1000, 4000};
    int64_t wait = 0;
    for (int i = 0; i < 3; i++) {
        CHECK_INT(auth_login_allowed(f.s, "wang", 1000 + i, &lim, &wait), ==, 0);
        CHECK_INT(auth_login_failed(f.s, "wang", "10.0.0.1", 1000 + i, &lim), ==, 0);
    }
    CHECK_INT(auth_login_allowed(f.s, "wang", 1010, &lim, &wait), ==, PH_ELIMIT);
    CHECK_INT(wait, ==, 1000 + 900 - 1010);
    CHECK_INT(auth_login_allowed(f.s, "li", 1010, &lim, &wait), ==, 0);
    CHECK_INT(auth_login_allowed(f.s, "wang", 1901, &lim, &wait), ==, 0); /* aged */
    /* A success forgets that account's failures, from every address. */
    CHECK_INT(auth_login_succeeded(f.s, "wang"), ==, 0);
    CHECK_INT(auth_login_allowed(f.s, "wang", 1014, &lim, &wait), ==, 0);
    u_db_close(&f);
}

/* An address is slowed, never refused: no wait below max_address failures,
 * then delay_ms more per failure, up to delay_max_ms; another address is
 * not slowed, and failures age out of the window. */
void test_auth_login_delay(void)
{
    u_db f;
    u_db_open(&f);
    auth_limits lim = {900, 3, 5, 1000, 3500};
    int64_t delay = -1, n = -1;
    const int64_t want[] = {0, 0, 0, 0, 0, 1000, 2000, 3000, 3500};
    for (int i = 0; i < 9; i++) {
        CHECK_INT(auth_login_delay(f.s, "10.0.0.1", 1000, &lim, &delay, &n), ==, 0);
        CHECK_INT(n, ==, i);
        CHECK_INT(delay, ==, want[i]);
        char login[16];
        snprintf(login, sizeof login, "user%d", i); /* a different account each time */
        CHECK_INT(auth_login_failed(f.s, login, "10.0.0.1", 1000, &lim), ==, 0);
    }
    CHECK_INT(auth_login_delay(f.s, "10.0.0.2", 1000, &lim, &delay, &n), ==, 0);
    CHECK_INT(delay, ==, 0);
    CHECK_INT(auth_login_delay(f.s, "10.0.0.1", 1901, &lim, &delay, &n), ==, 0);
    CHECK_INT(delay, ==, 0);
    /* An IPv6 host is counted by its /64, written either way; a mapped IPv4
     * address as the IPv4 address. */
    CHECK_INT(auth_login_failed(f.s, "a", "2001:db8:1:2::5", 2000, &lim), ==, 0);
    CHECK_INT(auth_login_failed(f.s, "b", "2001:db8:1:2:ffff::9", 2000, &lim), ==, 0);
    CHECK_INT(auth_login_delay(f.s, "2001:0db8:0001:0002::77", 2000, &lim, &delay, &n), ==, 0);
    CHECK_INT(n, ==, 2);
    CHECK_INT(auth_login_delay(f.s, "2001:db8:1:3::5", 2000, &lim, &delay, &n), ==, 0);
    CHECK_INT(n, ==, 0);
    CHECK_INT(auth_login_failed(f.s, "c", "::ffff:192.0.2.7", 2000, &lim), ==, 0);
    CHECK_INT(auth_login_delay(f.s, "192.0.2.7", 2000, &lim, &delay, &n), ==, 0);
    CHECK_INT(n, ==, 1);
    char key[80];
    auth_address_key("2001:db8:1:2:3:4:5:6", key, sizeof key);
    CHECK_STR(key, "2001:db8:1:2::/64");
    /* No delay at all with delay_ms 0. */
    lim.delay_ms = 0;
    CHECK_INT(auth_login_delay(f.s, "10.0.0.1", 1000, &lim, &delay, &n), ==, 0);
    CHECK_INT(delay, ==, 0);
    u_db_close(&f);
}

/* A device token proves one login at one time; it names neither, cannot be
 * moved to another login, and ends after its age. */
void test_auth_device(void)
{
    CHECK_INT(auth_init(), ==, 0);
    unsigned char key[AUTH_SECRET_BYTES], other[AUTH_SECRET_BYTES];
    memset(key, 7, sizeof key);
    memset(other, 8, sizeof other);
    char t[AUTH_DEVICE_MAX];
    auth_device_token(key, "wang", 1700000000, t);
    CHECK(strncmp(t, "1700000000.", 11) == 0);
    CHECK_INT(strlen(t), ==, 11 + 43);
    CHECK(strstr(t, "wang") == NULL);
    const int64_t day = 86400;
    CHECK(auth_device_ok(key, "wang", t, strlen(t), 1700000000 + 29 * day, 30 * day));
    CHECK(!auth_device_ok(key, "wang", t, strlen(t), 1700000000 + 30 * day, 30 * day));
    CHECK(!auth_device_ok(key, "wang", t, strlen(t), 1700000000 - 1, 30 * day));
    CHECK(!auth_device_ok(key, "li", t, strlen(t), 1700000000, 30 * day));
    CHECK(!auth_device_ok(other, "wang", t, strlen(t), 1700000000, 30 * day));
    CHECK(!auth_device_ok(key, "wang", t, strlen(t) - 1, 1700000000, 30 * day));
    CHECK(!auth_device_ok(key, "wang", t, strlen(t), 1700000000, 0));
    /* Another time with the same MAC is refused; so is a padded time. */
    char moved[AUTH_DEVICE_MAX + 1];
    snprintf(moved, sizeof moved, "1700000001%s", t + 10);
    CHECK(!auth_device_ok(key, "wang", moved, strlen(moved), 1700000005, 30 * day));
    snprintf(moved, sizeof moved, "0%s", t);
    CHECK(!auth_device_ok(key, "wang", moved, strlen(moved), 1700000005, 30 * day));
    CHECK(!auth_device_ok(key, "wang", "", 0, 1700000005, 30 * day));
    CHECK(!auth_device_ok(key, "wang", ".abc", 4, 1700000005, 30 * day));
}
