#include "app/app.h"
#include "audit/audit.h"
#include "auth/auth.h"
#include "base/base.h"
#include "store/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pwd.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

static int user__usage(void)
{
    fprintf(stderr,
            "usage: parkhost user add LOGIN --unit CODE --role ROLE [--name NAME] [settings]\n"
            "       parkhost user grant LOGIN --unit CODE --role ROLE [settings]\n"
            "       parkhost user passwd LOGIN [settings]\n"
            "       parkhost user disable|enable LOGIN [settings]\n"
            "       parkhost user list [settings]\n"
            "ROLE: admin (center only), webmaster, editor, reviewer, leader.\n"
            "The password is read from the terminal (twice, not shown), or as one line\n"
            "from standard input when that is not a terminal.\n");
    return 2;
}

/* One line from f without its line end; false at EOF or when too long. */
static bool user__line(FILE *f, char *buf, size_t n)
{
    if (!fgets(buf, (int)n, f)) return false;
    size_t len = strlen(buf);
    if (len && buf[len - 1] != '\n' && !feof(f)) return false;
    while (len && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
        buf[--len] = 0;
    return true;
}

/* Read a new password: prompted twice on the terminal, or one line of
 * stdin. Returns 0 or a message. */
static const char *user__read_password(const char *login, char *pw, size_t n)
{
    if (!isatty(STDIN_FILENO)) {
        if (!user__line(stdin, pw, n)) return "no password on standard input";
        return NULL;
    }
    char again[AUTH_PASSWORD_MAX + 2];
    struct termios old, quiet;
    tcgetattr(STDIN_FILENO, &old);
    quiet = old;
    quiet.c_lflag &= ~(tcflag_t)ECHO;
    tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
    fprintf(stderr, "password for %s: ", login);
    bool ok = user__line(stdin, pw, n);
    fprintf(stderr, "\nthe same again: ");
    ok = ok && user__line(stdin, again, sizeof again);
    fprintf(stderr, "\n");
    tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
    if (!ok) return "no password given";
    bool same = strcmp(pw, again) == 0;
    explicit_bzero(again, sizeof again);
    return same ? NULL : "the two passwords differ";
}

void app_cli_actor(char *out, size_t n)
{
    const char *who = getenv("SUDO_USER");
    struct passwd *pw = who ? NULL : getpwuid(getuid());
    snprintf(out, n, "cli:%s", who ? who : pw ? pw->pw_name : "?");
}

/* Record what the command changed. */
static void user__audit(store *s, const char *cmd, const char *login, const char *unit,
                        const char *role, int64_t now)
{
    char actor[128], action[32], object[100], after[128];
    app_cli_actor(actor, sizeof actor);
    snprintf(action, sizeof action, "user.%s", cmd);
    snprintf(object, sizeof object, "user:%s", login);
    /* Unit codes and roles are checked ASCII words: safe in JSON as they are. */
    if (unit) snprintf(after, sizeof after, "{\"unit\":\"%s\",\"role\":\"%s\"}", unit, role);
    audit_entry e = {0, now, actor, 0, "", action, object, NULL, unit ? after : NULL};
    if (audit_record(s, &e))
        fprintf(stderr, "parkhost user: the change was made but not recorded in the audit log\n");
}

static void unit__print(void *ud, const char *code, const char *name, bool center)
{
    (void)ud;
    printf("%-16s %s%s\n", code, name, center ? "  (the center)" : "");
}

/* `parkhost unit add CODE NAME | list`: the units that answer for columns. */
int app_unit(int argc, char **argv)
{
    int npos = 0;
    while (npos < argc && strncmp(argv[npos], "--", 2) != 0)
        npos++;
    bool add = npos == 3 && !strcmp(argv[0], "add"), list = npos == 1 && !strcmp(argv[0], "list");
    if (!add && !list) {
        fprintf(stderr, "usage: parkhost unit add CODE NAME [settings]\n"
                        "       parkhost unit list [settings]\n");
        return 2;
    }
    ph_conf c;
    char err[1024];
    if (conf_load(&c, argc - npos, argv + npos, err, sizeof err)) {
        fprintf(stderr, "parkhost unit: %s\n", err);
        conf_free(&c);
        return 2;
    }
    store *s = NULL;
    int status = 0;
    const char *why = NULL;
    if (store_open(&s, c.db, err, sizeof err) ||
        store_migrate(s, "core", c.sql_dir, NULL, NULL, err, sizeof err)) {
        fprintf(stderr, "parkhost unit: %s\n", err);
        status = 1;
    } else if (list) {
        status = auth_each_unit(s, unit__print, NULL) ? 1 : 0;
    } else {
        int64_t now = (int64_t)time(NULL);
        int rc = auth_unit_add(s, argv[1], argv[2], now, &why);
        status = rc == PH_EDB ? 1 : rc ? 2 : 0;
        if (rc) {
            fprintf(stderr, "parkhost unit add %s: %s\n", argv[1], why);
        } else {
            char actor[128], object[64];
            app_cli_actor(actor, sizeof actor);
            snprintf(object, sizeof object, "unit:%s", argv[1]);
            audit_entry e = {0, now, actor, 0, "", "unit.add", object, NULL, NULL};
            audit_record(s, &e);
            printf("parkhost unit add %s: done\n", argv[1]);
        }
    }
    store_close(s);
    conf_free(&c);
    return status;
}

static void user__print(void *ud, const char *login, const char *name, bool disabled,
                        const char *roles)
{
    (void)ud;
    printf("%-20s %-16s %-9s %s\n", login, name, disabled ? "disabled" : "active", roles);
}

/* `parkhost user ...`: staff accounts, for the first administrator and for
 * repairs; the admin console manages them otherwise. */
int app_user(int argc, char **argv)
{
    if (argc < 1) return user__usage();
    const char *cmd = argv[0], *login = NULL, *unit = NULL, *role = NULL, *name = "";
    int i = 1;
    if (strcmp(cmd, "list") != 0) {
        if (argc < 2 || strncmp(argv[1], "--", 2) == 0) return user__usage();
        login = argv[1];
        i = 2;
    }
    /* Our options first; the rest are settings (--db ...). */
    int rest = i;
    char **settings = calloc((size_t)argc + 1, sizeof *settings);
    if (!settings) return 1;
    int nset = 0;
    for (; rest < argc; rest++) {
        const char **opt = !strcmp(argv[rest], "--unit")   ? &unit
                           : !strcmp(argv[rest], "--role") ? &role
                           : !strcmp(argv[rest], "--name") ? &name
                                                           : NULL;
        if (opt && rest + 1 < argc) {
            *opt = argv[++rest];
        } else if (opt) {
            free(settings);
            return user__usage();
        } else {
            settings[nset++] = argv[rest];
        }
    }
    bool needs_role = !strcmp(cmd, "add") || !strcmp(cmd, "grant");
    if ((needs_role && (!unit || !role)) || (!needs_role && (unit || role))) {
        free(settings);
        return user__usage();
    }
    ph_conf c;
    char err[1024];
    if (conf_load(&c, nset, settings, err, sizeof err)) {
        fprintf(stderr, "parkhost user: %s\n", err);
        conf_free(&c);
        free(settings);
        return 2;
    }
    free(settings);
    store *s = NULL;
    int status = 0;
    const char *why = NULL;
    char pw[AUTH_PASSWORD_MAX + 2], hash[AUTH_HASH_MAX];
    int64_t now = (int64_t)time(NULL);
    if (auth_init() || store_open(&s, c.db, err, sizeof err) ||
        store_migrate(s, "core", c.sql_dir, NULL, NULL, err, sizeof err)) {
        fprintf(stderr, "parkhost user: %s\n", s ? err : "cannot start libsodium");
        status = 1;
    } else if (!strcmp(cmd, "list")) {
        status = auth_each_user(s, user__print, NULL) ? 1 : 0;
    } else if (!strcmp(cmd, "grant")) {
        int rc = auth_grant(s, login, unit, role, &why);
        status = rc == PH_EDB ? 1 : rc ? 2 : 0;
    } else if (!strcmp(cmd, "disable") || !strcmp(cmd, "enable")) {
        int rc = auth_disable(s, login, cmd[0] == 'd');
        if (rc == PH_ENOTFOUND) why = "there is no user with this login";
        status = rc == PH_EDB ? 1 : rc ? 2 : 0;
    } else if (!strcmp(cmd, "add") || !strcmp(cmd, "passwd")) {
        why = user__read_password(login, pw, sizeof pw);
        size_t len = why ? 0 : strlen(pw);
        if (!why && auth_password_ok(pw, len, (size_t)c.password_min_length, &why) == 0) {
            if (auth_hash(pw, len, hash)) {
                why = "not enough memory to hash the password";
            } else if (cmd[0] == 'a') {
                int rc = auth_user_add(s, login, name, hash, unit, role, now, &why);
                status = rc == PH_EDB ? 1 : rc ? 2 : 0;
                if (!rc) why = NULL;
            } else {
                int rc = auth_set_hash(s, login, hash, now);
                if (rc == PH_ENOTFOUND) why = "there is no user with this login";
                status = rc == PH_EDB ? 1 : rc ? 2 : 0;
            }
        }
        if (why && !status) status = 2;
        explicit_bzero(pw, sizeof pw);
    } else {
        status = user__usage();
    }
    if (why && status) fprintf(stderr, "parkhost user %s %s: %s\n", cmd, login ? login : "", why);
    if (!status && strcmp(cmd, "list") != 0) {
        user__audit(s, cmd, login, unit, role, now);
        printf("parkhost user %s %s: done\n", cmd, login);
    }
    store_close(s);
    conf_free(&c);
    return status;
}
