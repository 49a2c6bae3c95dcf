#include "conf/conf.h"
#include "base/base.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

enum { CONF__STR, CONF__INT, CONF__LIST };

typedef struct {
    int type;
    size_t offset;
    const char *name;
    const char *def;
    int64_t min, max;
    const char *help;
} conf__def;

static const conf__def conf__defs[] = {
#define CONF__DEF(type, field, name, def, min, max, help)                                          \
    {CONF__##type, offsetof(ph_conf, field), name, def, min, max, help},
    CONF_SETTINGS(CONF__DEF)
#undef CONF__DEF
};
#define CONF__N (sizeof conf__defs / sizeof conf__defs[0])

static void conf__errf(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void conf__errf(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

static const conf__def *conf__find(const char *name, size_t len)
{
    for (size_t i = 0; i < CONF__N; i++)
        if (strlen(conf__defs[i].name) == len && memcmp(conf__defs[i].name, name, len) == 0)
            return &conf__defs[i];
    return NULL;
}

static void conf__list_clear(conf_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
    l->v = NULL;
    l->n = 0;
}

/* Set one setting from text. `replace_list` clears a list before adding (the
 * first occurrence at a new precedence level replaces lower levels). */
static int conf__set(ph_conf *c, const conf__def *d, const char *val, int replace_list, char *err,
                     size_t errlen)
{
    void *slot = (char *)c + d->offset;
    switch (d->type) {
    case CONF__STR: {
        char *s = strdup(val);
        if (!s) return PH_ENOMEM;
        free(*(char **)slot);
        *(char **)slot = s;
        return 0;
    }
    case CONF__INT: {
        char *end;
        errno = 0;
        long long v = strtoll(val, &end, 10);
        if (errno || end == val || *end || v < d->min || v > d->max) {
            conf__errf(err, errlen, "%s must be a whole number from %lld to %lld, not '%s'",
                       d->name, (long long)d->min, (long long)d->max, val);
            return PH_EINVAL;
        }
        *(int64_t *)slot = v;
        return 0;
    }
    case CONF__LIST: {
        conf_list *l = slot;
        if (replace_list) conf__list_clear(l);
        if (!*val) return 0; /* "" empties the list */
        char **nv = realloc(l->v, (l->n + 1) * sizeof *nv);
        if (!nv) return PH_ENOMEM;
        l->v = nv;
        if (!(l->v[l->n] = strdup(val))) return PH_ENOMEM;
        l->n++;
        return 0;
    }
    }
    return PH_EINVAL;
}

static char *conf__trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    char *e = s + strlen(s);
    while (e > s && isspace((unsigned char)e[-1]))
        *--e = 0;
    return s;
}

static int conf__load_file(ph_conf *c, const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        conf__errf(err, errlen, "cannot read config file %s: %s", path, strerror(errno));
        return PH_EINVAL;
    }
    char line[4096];
    int lineno = 0, rc = 0;
    unsigned char seen[CONF__N] = {0};
    while (fgets(line, sizeof line, f)) {
        lineno++;
        size_t ll = strlen(line);
        if (ll == sizeof line - 1 && line[ll - 1] != '\n') {
            conf__errf(err, errlen, "%s:%d: line too long", path, lineno);
            rc = PH_EINVAL;
            break;
        }
        char *hash = strchr(line, '#');
        if (hash) *hash = 0;
        char *s = conf__trim(line);
        if (!*s) continue;
        char *eq = strchr(s, '=');
        if (!eq) {
            conf__errf(err, errlen, "%s:%d: expected 'key = value', got '%s'", path, lineno, s);
            rc = PH_EINVAL;
            break;
        }
        *eq = 0;
        char *key = conf__trim(s), *val = conf__trim(eq + 1);
        const conf__def *d = conf__find(key, strlen(key));
        if (!d) {
            conf__errf(err, errlen, "%s:%d: unknown setting '%s' (see parkhost --help)", path,
                       lineno, key);
            rc = PH_EINVAL;
            break;
        }
        char sub[512];
        sub[0] = 0;
        rc = conf__set(c, d, val, !seen[d - conf__defs], sub, sizeof sub);
        seen[d - conf__defs] = 1;
        if (rc) {
            conf__errf(err, errlen, "%s:%d: %s", path, lineno, sub[0] ? sub : ph_strerror(rc));
            break;
        }
    }
    if (!rc && ferror(f)) {
        conf__errf(err, errlen, "cannot read config file %s: %s", path, strerror(errno));
        rc = PH_EINVAL;
    }
    fclose(f);
    return rc;
}

/* Split "--name=value" or "--name value"; returns the def or NULL. */
static int conf__flag(int argc, char **argv, int *i, const char **name, size_t *nlen,
                      const char **val, char *err, size_t errlen)
{
    const char *a = argv[*i];
    if (strncmp(a, "--", 2) != 0) {
        conf__errf(err, errlen, "unexpected argument '%s' (see parkhost --help)", a);
        return PH_EINVAL;
    }
    *name = a + 2;
    const char *eq = strchr(*name, '=');
    if (eq) {
        *nlen = (size_t)(eq - *name);
        *val = eq + 1;
        return 0;
    }
    *nlen = strlen(*name);
    if (*i + 1 >= argc) {
        conf__errf(err, errlen, "flag %s needs a value", a);
        return PH_EINVAL;
    }
    *val = argv[++*i];
    return 0;
}

int conf_load(ph_conf *c, int argc, char **argv, char *err, size_t errlen)
{
    int rc;
    memset(c, 0, sizeof *c);
    err[0] = 0;
    for (size_t i = 0; i < CONF__N; i++)
        if ((rc = conf__set(c, &conf__defs[i], conf__defs[i].def, 1, err, errlen))) return rc;

    /* Pass 1: find --config and check every flag's name. */
    for (int i = 0; i < argc; i++) {
        const char *name, *val;
        size_t nlen;
        if ((rc = conf__flag(argc, argv, &i, &name, &nlen, &val, err, errlen))) return rc;
        if (nlen == 6 && memcmp(name, "config", 6) == 0) {
            free(c->config_path);
            if (!(c->config_path = strdup(val))) return PH_ENOMEM;
        } else if (!conf__find(name, nlen)) {
            conf__errf(err, errlen, "unknown flag --%.*s (see parkhost --help)", (int)nlen, name);
            return PH_EINVAL;
        }
    }
    if (c->config_path && (rc = conf__load_file(c, c->config_path, err, errlen))) return rc;

    /* Pass 2: flags override the file. */
    unsigned char seen[CONF__N] = {0};
    for (int i = 0; i < argc; i++) {
        const char *name, *val;
        size_t nlen;
        if ((rc = conf__flag(argc, argv, &i, &name, &nlen, &val, err, errlen))) return rc;
        const conf__def *d = conf__find(name, nlen);
        if (!d) continue; /* --config */
        rc = conf__set(c, d, val, !seen[d - conf__defs], err, errlen);
        seen[d - conf__defs] = 1;
        if (rc) return rc;
    }
    return 0;
}

void conf_free(ph_conf *c)
{
    for (size_t i = 0; i < CONF__N; i++) {
        void *slot = (char *)c + conf__defs[i].offset;
        if (conf__defs[i].type == CONF__STR) free(*(char **)slot);
        if (conf__defs[i].type == CONF__LIST) conf__list_clear(slot);
    }
    free(c->config_path);
    memset(c, 0, sizeof *c);
}

void conf_help(FILE *out)
{
    fprintf(out, "  --%-24s %s\n", "config FILE",
            "read settings from FILE ('key = value' lines, # comments)");
    for (size_t i = 0; i < CONF__N; i++) {
        const conf__def *d = &conf__defs[i];
        char flag[64];
        snprintf(flag, sizeof flag, "%s %s", d->name, d->type == CONF__INT ? "N" : "VALUE");
        fprintf(out, "  --%-24s %s (default: %s)\n", flag, d->help, d->def);
    }
}
