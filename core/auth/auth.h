/* auth: staff accounts: who they are, their passwords and their roles.
 *
 * Provides: Argon2id password hashes (libsodium's crypto_pwhash_str with its
 *           interactive limits), password rules, and the accounts tables of
 *           sql/003_accounts.sql: add a user with a role for a unit, grant
 *           more roles, change a password, disable, list, check a login;
 *           sessions, login limits (per account; per address, a delay),
 *           CSRF tokens and device tokens (a browser that logged in before).
 * Owns:     nothing; statements are prepared per call (accounts change
 *           rarely) on the store's connection, with no namespace.
 * Uses:     libsodium, store.
 *
 * Hashing costs about 64 MiB and tens of milliseconds of CPU by design: the
 * command line calls it directly; a server must call it off its loop.
 */
#ifndef PH_AUTH_H
#define PH_AUTH_H

#include "store/store.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum {
    AUTH_HASH_MAX = 128,      /* crypto_pwhash_STRBYTES, NUL included */
    AUTH_PASSWORD_MAX = 1024, /* bytes */
};

/* Initialise libsodium (idempotent). Returns 0 or PH_EIO. */
int auth_init(void);

/* Whether `pw` (len bytes) may be a password: valid UTF-8 without control
 * characters, at least min_chars characters, at most AUTH_PASSWORD_MAX
 * bytes. Returns 0, or PH_EINVAL with the reason in *why (static text). */
int auth_password_ok(const char *pw, size_t len, size_t min_chars, const char **why);
/* The Argon2id hash of pw into out. Returns 0 or PH_ENOMEM. */
int auth_hash(const char *pw, size_t len, char out[AUTH_HASH_MAX]);
/* Whether pw matches hash. */
bool auth_verify(const char *hash, const char *pw, size_t len);

/* "admin", "webmaster", "editor", "reviewer", "leader". */
bool auth_role_ok(const char *role);

/* Whether `code` may be a unit's code: 1 to 32 of a-z 0-9 _ -. */
bool auth_unit_code_ok(const char *code);
/* Add unit `code` (1 to 32 of a-z 0-9 _ -) named `name` (1 to 200 bytes of
 * UTF-8). Returns 0, PH_EEXISTS, PH_EINVAL or PH_EDB; *why says which. */
int auth_unit_add(store *s, const char *code, const char *name, int64_t now, const char **why);
/* Call fn for each unit, by code: its code, name and whether it is the
 * center. Returns 0 or PH_EDB. */
int auth_each_unit(store *s, void (*fn)(void *ud, const char *code, const char *name, bool center),
                   void *ud);

/* Add user `login` (2 to 64 of a-z 0-9 . _ -) with display name `name`,
 * password hash `hash` and `role` for the unit whose code is `unit`. The
 * admin role is held for the center only. Returns 0, or PH_EEXISTS (the
 * login is taken), PH_ENOTFOUND (no such unit), PH_EINVAL (a bad login or
 * role), PH_EDB; *why says which in words. */
int auth_user_add(store *s, const char *login, const char *name, const char *hash, const char *unit,
                  const char *role, int64_t now, const char **why);
/* Give `login` one more role for a unit. Same errors as auth_user_add;
 * granting a role already held is not an error. */
int auth_grant(store *s, const char *login, const char *unit, const char *role, const char **why);
/* Take one role of `login` for a unit away. Returns 0, PH_ENOTFOUND (no
 * such role held) or PH_EDB; *why says which. */
int auth_revoke(store *s, const char *login, const char *unit, const char *role, const char **why);
/* Set the password hash of `login` and end its sessions. Returns 0,
 * PH_ENOTFOUND or PH_EDB. */
int auth_set_hash(store *s, const char *login, const char *hash, int64_t now);
/* Disable (or enable again) `login`. Returns 0, PH_ENOTFOUND or PH_EDB. */
int auth_disable(store *s, const char *login, bool disabled);

/* Call fn for each user, ordered by login; roles is "editor@invest,
 * reviewer@social" (role@unit, by unit then role). Returns 0 or PH_EDB. */
int auth_each_user(store *s,
                   void (*fn)(void *ud, const char *login, const char *name, bool disabled,
                              const char *roles),
                   void *ud);

/* Check a login's password: *user_id is set when `login` exists, is not
 * disabled and `pw` matches. Takes as long for an unknown login as for a
 * known one. Returns 0 or PH_ENOTFOUND (no such enabled login, or a wrong
 * password: the caller must not say which), or PH_EDB. */
int auth_check(store *s, const char *login, const char *pw, size_t len, int64_t *user_id);

/* ---- sessions and login limits ---------------------------------------- */

enum { AUTH_TOKEN_MAX = 48 }; /* a session token: 43 base64url characters and a NUL */

/* The password hash and state of `login` for a login attempt: *hash gets
 * the hash ("" when there is no such user), *user_id its id (0 when none)
 * and *disabled. Returns 0 or PH_EDB. */
int auth_login_lookup(store *s, const char *login, char hash[AUTH_HASH_MAX], int64_t *user_id,
                      bool *disabled);
/* Open a session for user_id until now + ttl_s from `address`; out gets the
 * token for the cookie. Returns 0 or PH_EDB. */
int auth_session_new(store *s, int64_t user_id, int64_t now, int64_t ttl_s, const char *address,
                     char out[AUTH_TOKEN_MAX]);
/* The user of a session token that exists, has not expired and whose user
 * is not disabled. Returns 0, PH_ENOTFOUND or PH_EDB. */
int auth_session_user(store *s, const char *token, size_t len, int64_t now, int64_t *user_id);
/* End the session of a token (no error when there is none). */
int auth_session_end(store *s, const char *token, size_t len);
/* The user's login and name (copied into out buffers of n bytes) and its
 * roles, through fn(ud, unit_code, role) unless fn is NULL. Returns 0, PH_ENOTFOUND or PH_EDB. */
int auth_user_get(store *s, int64_t user_id, char *login, char *name, size_t n,
                  void (*fn)(void *ud, const char *unit, const char *role), void *ud);

/* Login limits (see README, "Configuration reference"). An account that
 * failed max_login times within the window is refused until the oldest of
 * those failures leaves it, whatever the password. An address is never
 * refused: past max_address failures within the window (any accounts),
 * each further failure adds delay_ms to the wait of every login attempt
 * from it, up to delay_max_ms, so that guessing from a shared address (a
 * NAT, a proxy) is slowed while its staff still get in. A browser with a
 * device token of the account (auth_device_ok) is not slowed. */
typedef struct {
    int64_t window_s;     /* failures older than this are forgotten */
    int64_t max_login;    /* failures of one login within the window */
    int64_t max_address;  /* failures from one address within the window before the delay */
    int64_t delay_ms;     /* added per failure past max_address */
    int64_t delay_max_ms; /* the longest delay */
} auth_limits;

/* Whether a login attempt as `login` may be checked now: PH_ELIMIT when it
 * failed too often within the window (*retry_after: seconds until the oldest
 * counted failure leaves it), else 0; or PH_EDB. */
int auth_login_allowed(store *s, const char *login, int64_t now, const auth_limits *lim,
                       int64_t *retry_after);
/* How long (ms) a login attempt from `address` waits before it is checked:
 * 0 until the address failed max_address times within the window, then
 * delay_ms per failure past that, at most delay_max_ms. *failures gets the
 * address's count. Returns 0 or PH_EDB. */
int auth_login_delay(store *s, const char *address, int64_t now, const auth_limits *lim,
                     int64_t *delay_ms, int64_t *failures);
/* Record a failed attempt (and forget those older than the window), or a
 * success (which forgets the login's failures). Returns 0 or PH_EDB. */
int auth_login_failed(store *s, const char *login, const char *address, int64_t now,
                      const auth_limits *lim);
int auth_login_succeeded(store *s, const char *login);

/* The key failures of an address are counted under, into out (n bytes, at
 * least 64): an IPv4 address as is (also when written as ::ffff:a.b.c.d),
 * an IPv6 address as its /64 ("2001:db8:1:2::/64": one host usually holds a
 * whole /64), anything else as is. */
void auth_address_key(const char *address, char *out, size_t n);

/* ---- secrets and CSRF tokens ------------------------------------------ */

enum {
    AUTH_SECRET_BYTES = 32,
    AUTH_BROWSER_MAX = 32, /* a browser id: 22 base64url characters and a NUL */
    AUTH_CSRF_MAX = 48,    /* a token: 43 base64url characters and a NUL */
};

/* The site's secret `name` from park_secrets, made (random, 32 bytes) and
 * stored the first time. Returns 0 or PH_EDB. */
int auth_secret(store *s, const char *name, unsigned char out[AUTH_SECRET_BYTES]);

/* n random bytes (libsodium's randombytes). */
void auth_random(void *buf, size_t n);
/* A new random browser id (the value of the CSRF cookie). */
void auth_browser_id(char out[AUTH_BROWSER_MAX]);
/* Whether s (n bytes) has the form of a browser id. */
bool auth_browser_id_ok(const char *s, size_t n);
/* The CSRF token of a browser: HMAC-SHA256 of its id, and of its session
 * token when it is logged in (session NULL otherwise), under the secret, in
 * base64url. A form carries it; the cookies carry the id and the session.
 * Bound to the session, a staff member's token cannot be paired by anyone
 * who does not hold the session, even one who can set cookies for the
 * site's domain. */
void auth_csrf_token(const unsigned char secret[AUTH_SECRET_BYTES], const char *browser,
                     size_t blen, const char *session, size_t slen, char out[AUTH_CSRF_MAX]);
/* Whether `token` is that token (compared in constant time). */
bool auth_csrf_ok(const unsigned char secret[AUTH_SECRET_BYTES], const char *browser, size_t blen,
                  const char *session, size_t slen, const char *token, size_t tlen);

/* ---- device tokens ----------------------------------------------------- */

enum { AUTH_DEVICE_MAX = 72 }; /* "<issued>.<43 base64url characters>" and a NUL */

/* The device token of a browser that logged in as `login` at `issued` (park
 * clock, seconds): the time, a dot and HMAC-SHA256 of "device:<issued>:<login>"
 * under the secret, in base64url. It names no login and no browser: it only
 * proves that this browser gave the login's right password then. */
void auth_device_token(const unsigned char secret[AUTH_SECRET_BYTES], const char *login,
                       int64_t issued, char out[AUTH_DEVICE_MAX]);
/* Whether `token` (tlen bytes) is a device token of `login` issued less than
 * max_age_s ago (and not in the future); compared in constant time. */
bool auth_device_ok(const unsigned char secret[AUTH_SECRET_BYTES], const char *login,
                    const char *token, size_t tlen, int64_t now, int64_t max_age_s);

#endif
