#include "auth/auth.h"
#include "base/base.h"

#include <arpa/inet.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

int auth_init(void)
{
    return sodium_init() < 0 ? PH_EIO : 0;
}

int auth_password_ok(const char *pw, size_t len, size_t min_chars, const char **why)
{
    if (len > AUTH_PASSWORD_MAX) {
        *why = "a password is at most 1024 bytes";
        return PH_EINVAL;
    }
    size_t chars = 0;
    for (size_t i = 0; i < len;) {
        unsigned char c = (unsigned char)pw[i];
        size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
        if (n == 0 || i + n > len) goto bad_utf8;
        for (size_t k = 1; k < n; k++)
            if (((unsigned char)pw[i + k] >> 6) != 2) goto bad_utf8;
        if (c < 0x20 || c == 0x7f) {
            *why = "a password may not contain control characters";
            return PH_EINVAL;
        }
        i += n;
        chars++;
    }
    if (chars < min_chars) {
        *why = "the password is too short (password-min-length)";
        return PH_EINVAL;
    }
    return 0;
bad_utf8:
    *why = "a password must be UTF-8 text";
    return PH_EINVAL;
}

int auth_hash(const char *pw, size_t len, char out[AUTH_HASH_MAX])
{
    if (crypto_pwhash_str_alg(out, pw, len, crypto_pwhash_OPSLIMIT_INTERACTIVE,
                              crypto_pwhash_MEMLIMIT_INTERACTIVE,
                              crypto_pwhash_ALG_ARGON2ID13) != 0)
        return PH_ENOMEM;
    return 0;
}

bool auth_verify(const char *hash, const char *pw, size_t len)
{
    return crypto_pwhash_str_verify(hash, pw, len) == 0;
}

bool auth_role_ok(const char *role)
{
    static const char *const roles[] = {"admin", "webmaster", "editor", "reviewer", "leader"};
    for (size_t i = 0; i < sizeof roles / sizeof roles[0]; i++)
        if (role && strcmp(role, roles[i]) == 0) return true;
    return false;
}

static bool auth__login_ok(const char *login)
{
    size_t n = strlen(login);
    if (n < 2 || n > 64) return false;
    for (size_t i = 0; i < n; i++) {
        char c = login[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
            return false;
    }
    return true;
}

/* The id of unit `code` and whether it is the center; 0 when none. */
static int64_t auth__unit(store *s, const char *code, bool *center)
{
    sqlite3_stmt *st = store_prepare(s, "SELECT id, is_center FROM park_units WHERE code = ?");
    int64_t id = 0;
    if (!st) return -1;
    sqlite3_bind_text(st, 1, code, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        id = sqlite3_column_int64(st, 0);
        *center = sqlite3_column_int(st, 1) != 0;
    } else if (rc != SQLITE_DONE) {
        id = -1;
    }
    sqlite3_finalize(st);
    return id;
}

static int64_t auth__user(store *s, const char *login)
{
    sqlite3_stmt *st = store_prepare(s, "SELECT id FROM park_users WHERE login = ?");
    if (!st) return -1;
    sqlite3_bind_text(st, 1, login, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    int64_t id = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : rc == SQLITE_DONE ? 0 : -1;
    sqlite3_finalize(st);
    return id;
}

/* Insert the role; checks the unit and the role first. */
static int auth__role(store *s, int64_t user, const char *unit, const char *role, const char **why)
{
    if (!auth_role_ok(role)) {
        *why = "the role is admin, webmaster, editor, reviewer or leader";
        return PH_EINVAL;
    }
    bool center = false;
    int64_t unit_id = auth__unit(s, unit, &center);
    if (unit_id < 0) return *why = "the database cannot be read", PH_EDB;
    if (unit_id == 0) return *why = "there is no unit with this code", PH_ENOTFOUND;
    if (!center && strcmp(role, "admin") == 0) {
        *why = "the admin role is held for the center only";
        return PH_EINVAL;
    }
    sqlite3_stmt *st = store_prepare(
        s, "INSERT OR IGNORE INTO park_roles (user_id, unit_id, role) VALUES (?, ?, ?)");
    if (!st) return *why = "the database cannot be written", PH_EDB;
    sqlite3_bind_int64(st, 1, user);
    sqlite3_bind_int64(st, 2, unit_id);
    sqlite3_bind_text(st, 3, role, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) return *why = "the database cannot be written", PH_EDB;
    return 0;
}

bool auth_unit_code_ok(const char *code)
{
    size_t cl = code ? strlen(code) : 0;
    bool ok = cl >= 1 && cl <= 32;
    for (size_t i = 0; ok && i < cl; i++)
        ok = (code[i] >= 'a' && code[i] <= 'z') || (code[i] >= '0' && code[i] <= '9') ||
             code[i] == '_' || code[i] == '-';
    return ok;
}

int auth_unit_add(store *s, const char *code, const char *name, int64_t now, const char **why)
{
    size_t nl = strlen(name);
    if (!auth_unit_code_ok(code))
        return *why = "a unit code is 1 to 32 of a-z, 0-9, '_' and '-'", PH_EINVAL;
    if (nl < 1 || nl > 200) return *why = "a unit name is 1 to 200 bytes", PH_EINVAL;
    bool center;
    int64_t have = auth__unit(s, code, &center);
    if (have < 0) return *why = "the database cannot be read", PH_EDB;
    if (have > 0) return *why = "a unit with this code exists", PH_EEXISTS;
    sqlite3_stmt *st =
        store_prepare(s, "INSERT INTO park_units (code, name, created_at) VALUES (?, ?, ?)");
    if (!st) return *why = "the database cannot be written", PH_EDB;
    sqlite3_bind_text(st, 1, code, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, now);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) return *why = "the database cannot be written", PH_EDB;
    return 0;
}

int auth_each_unit(store *s, void (*fn)(void *, const char *, const char *, bool), void *ud)
{
    sqlite3_stmt *st =
        store_prepare(s, "SELECT code, name, is_center FROM park_units ORDER BY code");
    if (!st) return PH_EDB;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        fn(ud, (const char *)sqlite3_column_text(st, 0), (const char *)sqlite3_column_text(st, 1),
           sqlite3_column_int(st, 2) != 0);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : PH_EDB;
}

int auth_user_add(store *s, const char *login, const char *name, const char *hash, const char *unit,
                  const char *role, int64_t now, const char **why)
{
    if (!auth__login_ok(login)) {
        *why = "a login is 2 to 64 of a-z, 0-9, '.', '_' and '-'";
        return PH_EINVAL;
    }
    sqlite3 *db = store_db(s);
    if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
        return *why = "the database is busy", PH_EDB;
    int rc = 0;
    int64_t have = auth__user(s, login);
    if (have < 0) {
        rc = PH_EDB, *why = "the database cannot be read";
    } else if (have > 0) {
        rc = PH_EEXISTS, *why = "a user with this login exists";
    } else {
        sqlite3_stmt *st =
            store_prepare(s, "INSERT INTO park_users (login, name, password_hash, created_at,"
                             " password_changed_at) VALUES (?, ?, ?, ?, ?)");
        if (!st) return sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL), PH_EDB;
        sqlite3_bind_text(st, 1, login, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, name ? name : "", -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, hash, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 4, now);
        sqlite3_bind_int64(st, 5, now);
        if (sqlite3_step(st) != SQLITE_DONE) rc = PH_EDB, *why = "the database cannot be written";
        sqlite3_finalize(st);
        if (!rc) rc = auth__role(s, sqlite3_last_insert_rowid(db), unit, role, why);
    }
    if (!rc && sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK) return 0;
    sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    return rc ? rc : PH_EDB;
}

int auth_grant(store *s, const char *login, const char *unit, const char *role, const char **why)
{
    int64_t user = auth__user(s, login);
    if (user < 0) return *why = "the database cannot be read", PH_EDB;
    if (user == 0) return *why = "there is no user with this login", PH_ENOTFOUND;
    return auth__role(s, user, unit, role, why);
}

/* Run an UPDATE of one user by login (parameter 1); PH_ENOTFOUND if none. */
static int auth__update(sqlite3_stmt *st, store *s, const char *login)
{
    if (!st) return PH_EDB;
    sqlite3_bind_text(st, 1, login, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) return PH_EDB;
    return sqlite3_changes(store_db(s)) ? 0 : PH_ENOTFOUND;
}

int auth_set_hash(store *s, const char *login, const char *hash, int64_t now)
{
    sqlite3_stmt *st = store_prepare(s, "UPDATE park_users SET password_hash = ?2,"
                                        " password_changed_at = ?3 WHERE login = ?1");
    if (st) {
        sqlite3_bind_text(st, 2, hash, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 3, now);
    }
    int rc = auth__update(st, s, login);
    if (rc) return rc;
    /* Whoever knew the old password is logged out. */
    st = store_prepare(s, "DELETE FROM park_sessions WHERE user_id ="
                          " (SELECT id FROM park_users WHERE login = ?1)");
    if (!st) return PH_EDB;
    sqlite3_bind_text(st, 1, login, -1, SQLITE_STATIC);
    rc = sqlite3_step(st) == SQLITE_DONE ? 0 : PH_EDB;
    sqlite3_finalize(st);
    return rc;
}

int auth_revoke(store *s, const char *login, const char *unit, const char *role, const char **why)
{
    sqlite3_stmt *st = store_prepare(
        s, "DELETE FROM park_roles WHERE user_id = (SELECT id FROM park_users WHERE login = ?1)"
           " AND unit_id = (SELECT id FROM park_units WHERE code = ?2) AND role = ?3");
    if (!st) return *why = "the database cannot be written", PH_EDB;
    sqlite3_bind_text(st, 1, login, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, unit, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, role, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) return *why = "the database cannot be written", PH_EDB;
    if (sqlite3_changes(store_db(s)) == 0)
        return *why = "the user does not hold this role for this unit", PH_ENOTFOUND;
    return 0;
}

int auth_disable(store *s, const char *login, bool disabled)
{
    sqlite3_stmt *st = store_prepare(s, "UPDATE park_users SET disabled = ?2 WHERE login = ?1");
    if (st) sqlite3_bind_int(st, 2, disabled);
    return auth__update(st, s, login);
}

int auth_each_user(store *s, void (*fn)(void *, const char *, const char *, bool, const char *),
                   void *ud)
{
    sqlite3_stmt *st = store_prepare(
        s, "SELECT u.login, u.name, u.disabled,"
           " coalesce((SELECT group_concat(x, ', ') FROM (SELECT r.role || '@' || n.code AS x"
           "  FROM park_roles r JOIN park_units n ON n.id = r.unit_id WHERE r.user_id = u.id"
           "  ORDER BY n.code, r.role)), '')"
           " FROM park_users u ORDER BY u.login");
    if (!st) return PH_EDB;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        fn(ud, (const char *)sqlite3_column_text(st, 0), (const char *)sqlite3_column_text(st, 1),
           sqlite3_column_int(st, 2) != 0, (const char *)sqlite3_column_text(st, 3));
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : PH_EDB;
}

int auth_check(store *s, const char *login, const char *pw, size_t len, int64_t *user_id)
{
    sqlite3_stmt *st =
        store_prepare(s, "SELECT id, password_hash, disabled FROM park_users WHERE login = ?");
    if (!st) return PH_EDB;
    sqlite3_bind_text(st, 1, login, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        sqlite3_finalize(st);
        return PH_EDB;
    }
    char hash[AUTH_HASH_MAX] = "";
    if (rc == SQLITE_ROW) snprintf(hash, sizeof hash, "%s", sqlite3_column_text(st, 1));
    int64_t id = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    bool disabled = rc == SQLITE_ROW && sqlite3_column_int(st, 2) != 0;
    sqlite3_finalize(st);
    /* An unknown login costs a hash too, so the time says nothing. */
    bool match = id ? auth_verify(hash, pw, len) : (auth_hash(pw, len, hash), false);
    if (!id || disabled || !match) return PH_ENOTFOUND;
    *user_id = id;
    return 0;
}

/* ---- secrets and CSRF tokens ------------------------------------------ */

static int auth__read_secret(store *s, const char *name, unsigned char *out)
{
    sqlite3_stmt *st = store_prepare(s, "SELECT value FROM park_secrets WHERE name = ?");
    if (!st) return PH_EDB;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    int found = rc == SQLITE_ROW && sqlite3_column_bytes(st, 0) == AUTH_SECRET_BYTES;
    if (found) memcpy(out, sqlite3_column_blob(st, 0), AUTH_SECRET_BYTES);
    sqlite3_finalize(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? found : PH_EDB;
}

int auth_secret(store *s, const char *name, unsigned char out[AUTH_SECRET_BYTES])
{
    int found = auth__read_secret(s, name, out);
    if (found) return found < 0 ? found : 0;
    unsigned char fresh[AUTH_SECRET_BYTES];
    randombytes_buf(fresh, sizeof fresh);
    /* Another worker may store one first: keep whichever is there. */
    sqlite3_stmt *st =
        store_prepare(s, "INSERT OR IGNORE INTO park_secrets (name, value) VALUES (?, ?)");
    if (!st) return PH_EDB;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_blob(st, 2, fresh, sizeof fresh, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    sodium_memzero(fresh, sizeof fresh);
    if (rc != SQLITE_DONE) return PH_EDB;
    return auth__read_secret(s, name, out) == 1 ? 0 : PH_EDB;
}

void auth_random(void *buf, size_t n)
{
    randombytes_buf(buf, n);
}

void auth_browser_id(char out[AUTH_BROWSER_MAX])
{
    unsigned char id[16];
    randombytes_buf(id, sizeof id);
    sodium_bin2base64(out, AUTH_BROWSER_MAX, id, sizeof id,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

bool auth_browser_id_ok(const char *s, size_t n)
{
    if (n != 22) return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_'))
            return false;
    }
    return true;
}

void auth_csrf_token(const unsigned char secret[AUTH_SECRET_BYTES], const char *browser,
                     size_t blen, const char *session, size_t slen, char out[AUTH_CSRF_MAX])
{
    unsigned char mac[crypto_auth_hmacsha256_BYTES];
    crypto_auth_hmacsha256_state st;
    crypto_auth_hmacsha256_init(&st, secret, AUTH_SECRET_BYTES);
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)"csrf:", 5);
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)browser, blen);
    if (session) {
        crypto_auth_hmacsha256_update(&st, (const unsigned char *)":", 1);
        crypto_auth_hmacsha256_update(&st, (const unsigned char *)session, slen);
    }
    crypto_auth_hmacsha256_final(&st, mac);
    sodium_bin2base64(out, AUTH_CSRF_MAX, mac, sizeof mac,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

bool auth_csrf_ok(const unsigned char secret[AUTH_SECRET_BYTES], const char *browser, size_t blen,
                  const char *session, size_t slen, const char *token, size_t tlen)
{
    if (!auth_browser_id_ok(browser, blen)) return false;
    char want[AUTH_CSRF_MAX];
    auth_csrf_token(secret, browser, blen, session, slen, want);
    size_t wl = strlen(want);
    return tlen == wl && sodium_memcmp(want, token, wl) == 0;
}

/* ---- sessions and login limits ---------------------------------------- */

int auth_login_lookup(store *s, const char *login, char hash[AUTH_HASH_MAX], int64_t *user_id,
                      bool *disabled)
{
    hash[0] = 0;
    *user_id = 0;
    *disabled = false;
    sqlite3_stmt *st =
        store_prepare(s, "SELECT id, password_hash, disabled FROM park_users WHERE login = ?");
    if (!st) return PH_EDB;
    sqlite3_bind_text(st, 1, login, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *user_id = sqlite3_column_int64(st, 0);
        snprintf(hash, AUTH_HASH_MAX, "%s", sqlite3_column_text(st, 1));
        *disabled = sqlite3_column_int(st, 2) != 0;
    }
    sqlite3_finalize(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : PH_EDB;
}

/* The key a session is stored under: BLAKE2b-256 of its token. */
static void auth__session_id(const char *token, size_t len, unsigned char id[32])
{
    crypto_generichash(id, 32, (const unsigned char *)token, len, NULL, 0);
}

int auth_session_new(store *s, int64_t user_id, int64_t now, int64_t ttl_s, const char *address,
                     char out[AUTH_TOKEN_MAX])
{
    unsigned char raw[32], id[32];
    randombytes_buf(raw, sizeof raw);
    sodium_bin2base64(out, AUTH_TOKEN_MAX, raw, sizeof raw,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    sodium_memzero(raw, sizeof raw);
    auth__session_id(out, strlen(out), id);
    sqlite3_stmt *st = store_prepare(s, "INSERT INTO park_sessions (id, user_id, created_at,"
                                        " expires_at, address) VALUES (?, ?, ?, ?, ?)");
    if (!st) return PH_EDB;
    sqlite3_bind_blob(st, 1, id, sizeof id, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, user_id);
    sqlite3_bind_int64(st, 3, now);
    sqlite3_bind_int64(st, 4, now + ttl_s);
    sqlite3_bind_text(st, 5, address ? address : "", -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : PH_EDB;
}

int auth_session_user(store *s, const char *token, size_t len, int64_t now, int64_t *user_id)
{
    if (len != 43) return PH_ENOTFOUND;
    unsigned char id[32];
    auth__session_id(token, len, id);
    sqlite3_stmt *st = store_prepare(s, "SELECT s.user_id FROM park_sessions s JOIN park_users u"
                                        " ON u.id = s.user_id WHERE s.id = ? AND s.expires_at > ?"
                                        " AND u.disabled = 0");
    if (!st) return PH_EDB;
    sqlite3_bind_blob(st, 1, id, sizeof id, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, now);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) *user_id = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? PH_ENOTFOUND : PH_EDB;
}

int auth_session_end(store *s, const char *token, size_t len)
{
    unsigned char id[32];
    auth__session_id(token, len, id);
    sqlite3_stmt *st = store_prepare(s, "DELETE FROM park_sessions WHERE id = ?");
    if (!st) return PH_EDB;
    sqlite3_bind_blob(st, 1, id, sizeof id, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : PH_EDB;
}

int auth_user_get(store *s, int64_t user_id, char *login, char *name, size_t n,
                  void (*fn)(void *, const char *, const char *), void *ud)
{
    sqlite3_stmt *st = store_prepare(s, "SELECT login, name FROM park_users WHERE id = ?");
    if (!st) return PH_EDB;
    sqlite3_bind_int64(st, 1, user_id);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        snprintf(login, n, "%s", sqlite3_column_text(st, 0));
        snprintf(name, n, "%s", sqlite3_column_text(st, 1));
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW) return rc == SQLITE_DONE ? PH_ENOTFOUND : PH_EDB;
    if (!fn) return 0;
    st = store_prepare(s, "SELECT n.code, r.role FROM park_roles r JOIN park_units n"
                          " ON n.id = r.unit_id WHERE r.user_id = ? ORDER BY n.code, r.role");
    if (!st) return PH_EDB;
    sqlite3_bind_int64(st, 1, user_id);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        fn(ud, (const char *)sqlite3_column_text(st, 0), (const char *)sqlite3_column_text(st, 1));
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : PH_EDB;
}

/* Failures of `col` = value since `since`, and the oldest of them. */
static int auth__failures(store *s, const char *sql, const char *value, int64_t since,
                          int64_t *count, int64_t *oldest)
{
    sqlite3_stmt *st = store_prepare(s, sql);
    if (!st) return PH_EDB;
    sqlite3_bind_text(st, 1, value, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, since);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *count = sqlite3_column_int64(st, 0);
        *oldest = sqlite3_column_int64(st, 1);
    }
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? 0 : PH_EDB;
}

int auth_login_allowed(store *s, const char *login, int64_t now, const auth_limits *lim,
                       int64_t *retry_after)
{
    int64_t n = 0, oldest = 0;
    if (auth__failures(s,
                       "SELECT count(*), min(at) FROM park_login_failures WHERE login = ? AND"
                       " at > ?",
                       login, now - lim->window_s, &n, &oldest))
        return PH_EDB;
    if (n < lim->max_login) return 0;
    *retry_after = oldest + lim->window_s - now;
    if (*retry_after < 1) *retry_after = 1;
    return PH_ELIMIT;
}

void auth_address_key(const char *address, char *out, size_t n)
{
    unsigned char a[16];
    char text[INET6_ADDRSTRLEN];
    if (address && strchr(address, ':') && inet_pton(AF_INET6, address, a) == 1) {
        static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
        if (memcmp(a, mapped, sizeof mapped) == 0) {
            if (inet_ntop(AF_INET, a + 12, text, sizeof text)) {
                snprintf(out, n, "%s", text);
                return;
            }
        } else {
            memset(a + 8, 0, 8);
            if (inet_ntop(AF_INET6, a, text, sizeof text)) {
                snprintf(out, n, "%s/64", text);
                return;
            }
        }
    }
    snprintf(out, n, "%s", address ? address : "");
}

int auth_login_delay(store *s, const char *address, int64_t now, const auth_limits *lim,
                     int64_t *delay_ms, int64_t *failures)
{
    char key[80];
    int64_t n = 0, oldest = 0;
    auth_address_key(address, key, sizeof key);
    if (auth__failures(s,
                       "SELECT count(*), min(at) FROM park_login_failures WHERE address = ? AND"
                       " at > ?",
                       key, now - lim->window_s, &n, &oldest))
        return PH_EDB;
    *failures = n;
    int64_t past = n - lim->max_address + 1; /* the failure that reaches the limit counts */
    *delay_ms = 0;
    if (past > 0 && lim->delay_ms > 0)
        *delay_ms =
            past > lim->delay_max_ms / lim->delay_ms ? lim->delay_max_ms : past * lim->delay_ms;
    if (*delay_ms > lim->delay_max_ms) *delay_ms = lim->delay_max_ms;
    return 0;
}

int auth_login_failed(store *s, const char *login, const char *address, int64_t now,
                      const auth_limits *lim)
{
    sqlite3_stmt *st = store_prepare(s, "DELETE FROM park_login_failures WHERE at <= ?");
    if (!st) return PH_EDB;
    sqlite3_bind_int64(st, 1, now - lim->window_s);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) return PH_EDB;
    char key[80];
    auth_address_key(address, key, sizeof key);
    st = store_prepare(s, "INSERT INTO park_login_failures (login, address, at) VALUES (?, ?, ?)");
    if (!st) return PH_EDB;
    sqlite3_bind_text(st, 1, login, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, now);
    rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : PH_EDB;
}

int auth_login_succeeded(store *s, const char *login)
{
    sqlite3_stmt *st = store_prepare(s, "DELETE FROM park_login_failures WHERE login = ?");
    if (!st) return PH_EDB;
    sqlite3_bind_text(st, 1, login, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : PH_EDB;
}

/* ---- device tokens ------------------------------------------------------ */

static void auth__device_mac(const unsigned char secret[AUTH_SECRET_BYTES], const char *login,
                             const char *issued, size_t ilen,
                             unsigned char mac[crypto_auth_hmacsha256_BYTES])
{
    crypto_auth_hmacsha256_state st;
    crypto_auth_hmacsha256_init(&st, secret, AUTH_SECRET_BYTES);
    /* The time first: digits up to the ':', so no login can pose as a time. */
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)"device:", 7);
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)issued, ilen);
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)":", 1);
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)login, strlen(login));
    crypto_auth_hmacsha256_final(&st, mac);
}

void auth_device_token(const unsigned char secret[AUTH_SECRET_BYTES], const char *login,
                       int64_t issued, char out[AUTH_DEVICE_MAX])
{
    unsigned char mac[crypto_auth_hmacsha256_BYTES];
    int n = snprintf(out, AUTH_DEVICE_MAX, "%" PRId64, issued);
    auth__device_mac(secret, login, out, (size_t)n, mac);
    out[n++] = '.';
    sodium_bin2base64(out + n, AUTH_DEVICE_MAX - (size_t)n, mac, sizeof mac,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

bool auth_device_ok(const unsigned char secret[AUTH_SECRET_BYTES], const char *login,
                    const char *token, size_t tlen, int64_t now, int64_t max_age_s)
{
    const char *dot = token ? memchr(token, '.', tlen) : NULL;
    size_t ilen = dot ? (size_t)(dot - token) : 0;
    if (ilen == 0 || ilen > 18 || max_age_s <= 0) return false;
    int64_t issued = 0;
    for (size_t i = 0; i < ilen; i++) {
        if (token[i] < '0' || token[i] > '9') return false;
        issued = issued * 10 + (token[i] - '0');
    }
    if (issued > now || now - issued >= max_age_s) return false;
    char want[AUTH_DEVICE_MAX];
    auth_device_token(secret, login, issued, want);
    size_t wl = strlen(want);
    return tlen == wl && sodium_memcmp(want, token, wl) == 0;
}
