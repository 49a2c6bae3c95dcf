/* Lua 5.4's pattern functions (string.find, string.match, string.gmatch,
 * string.gsub), written for the host from the reference manual (§6.4.1 and
 * the four functions' entries) so that their work is counted: a pattern
 * that backtracks without end is one instruction to the count hook, and
 * would otherwise hang the worker.
 *
 * They behave as the stock functions do, to the results and the error
 * messages: a malformed item is noticed only when the matcher reaches it,
 * and the matcher nests at most PATTERN__MAX_CALLS calls into itself
 * ("pattern too complex") at the same places, so the C stack stays bounded
 * (about 420 bytes a level). tests/unit/test_pattern.c holds them to that
 * against the stock library.
 *
 * A step is one attempt of one pattern item at one subject position, one
 * byte tested by a repetition, %b or a back-reference, one byte of a plain
 * search, of a skip ahead or of gsub's output; a capture pushed to Lua
 * and a replacement from a table or function count more. Every
 * PATTERN_STEPS_PER_BILL steps are billed through the bill function as
 * steps / PATTERN__STEPS_PER_UNIT instructions; the steps of a call not
 * billed yet carry over to the next call on the same state. Results are
 * built with luaL_Buffer, so all memory comes from the state's allocator.
 *
 * Faster than a plain backtracking matcher, finding and raising the same:
 * a set ([...]) is read once per call and kept (pattern__cache), and gets
 * a table of its bytes when it is tested often; starts where the first
 * item cannot match are skipped (pattern__first_of); and a repetition with
 * many lengths to try skips those where the rest of the pattern would fail
 * at its first byte (pattern__look_ahead).
 */
#include "lua/internal.h"

#include <ctype.h>
#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

enum {
    PATTERN_STEPS_PER_BILL = 1024,
    PATTERN__STEPS_PER_UNIT = 4,
    PATTERN__MAX_CALLS = 200,   /* nested matcher calls, as in stock Lua */
    PATTERN__MAX_CAPTURES = 32, /* LUA_MAXCAPTURES */
    /* A repetition looks at what follows it only when it has at least
     * this many lengths to try; a search skips starts only in a subject at
     * least PATTERN__SKIP_MIN bytes long. */
    PATTERN__LOOKAHEAD_MIN = 6,
    PATTERN__SKIP_MIN = 8,
    /* The sets a call keeps once read: those starting in the first
     * PATTERN__CACHE_SPAN bytes of the pattern, PATTERN__CACHE_SETS of
     * them. Others are read again each time they are met. */
    PATTERN__CACHE_SPAN = 64,
    PATTERN__CACHE_SETS = 8,
    /* A C function may push this many values without asking for room. */
    PATTERN__FREE_SLOTS = 8,
    /* Steps for work that costs more than a byte's test: a capture made a
     * Lua value, a replacement looked up in a table or got from a
     * function (whose own code the hook counts). */
    PATTERN__STEPS_PER_VALUE = 8,
    PATTERN__STEPS_PER_CALL = 32,
};

_Static_assert(PATTERN__CACHE_SPAN <= 64, "pattern__cache.known has a bit per offset");

/* The length of a capture that is still open, and of a position capture. */
#define PATTERN__OPEN     ((ptrdiff_t)-1)
#define PATTERN__POSITION ((ptrdiff_t)-2)

/* The character classes, one bit each. */
enum {
    PATTERN__ALPHA = 1 << 0,
    PATTERN__CNTRL = 1 << 1,
    PATTERN__DIGIT = 1 << 2,
    PATTERN__GRAPH = 1 << 3,
    PATTERN__LOWER = 1 << 4,
    PATTERN__PUNCT = 1 << 5,
    PATTERN__SPACE = 1 << 6,
    PATTERN__UPPER = 1 << 7,
    PATTERN__ALNUM = 1 << 8,
    PATTERN__XDIGIT = 1 << 9,
    PATTERN__NUL = 1 << 10,
    PATTERN__NCLASSES = 11,
    PATTERN__NEGATE = 1 << 15, /* in pattern__ctx.escape: the complement */
};

/* A set of bytes. */
typedef struct {
    uint32_t w[8];
} pattern__bits;

static inline int pattern__has(const pattern__bits *b, int c)
{
    return (b->w[c >> 5] >> (c & 31)) & 1;
}

static inline void pattern__add(pattern__bits *b, int c)
{
    b->w[c >> 5] |= (uint32_t)1 << (c & 31);
}

/* Shared by the four functions of one state (a userdata upvalue). The
 * class tables come from <ctype.h> when the functions are installed, as
 * the stock ones ask <ctype.h> at each test. */
typedef struct {
    lua_pattern_bill_fn bill;
    int64_t left;                             /* steps until the next bill */
    uint16_t kind[256];                       /* the classes each byte is in */
    uint16_t escape[256];                     /* %c: the classes it names (0: c itself) */
    uint8_t is_special[256];                  /* one of ^$*+?.([%-: no plain search */
    pattern__bits members[PATTERN__NCLASSES]; /* the bytes of each class */
} pattern__ctx;

/* A set item of the pattern. A set is tested element by element (its
 * classes at once, then its ranges and complemented classes) until a scan
 * of many bytes asks for a table of its bytes: cheap to make for short
 * subjects, one lookup a byte for long ones. Sets with more elements than
 * a walk holds get their table at once. */
enum { PATTERN__WALK_MAX = 3 };
typedef struct pattern__set pattern__set;
struct pattern__set {
    const char *from, *end; /* its first element (after any '^'); past its ']' */
    bool negated;
    bool table;       /* bits holds its bytes; else walk: */
    uint16_t classes; /* the classes in it (%a ...) */
    uint8_t nranges, nout;
    uint32_t tests;                 /* bytes tested by walking */
    uint16_t lo[PATTERN__WALK_MAX]; /* bytes and ranges: lo to lo + span; 256: none */
    uint8_t span[PATTERN__WALK_MAX];
    uint16_t out[PATTERN__WALK_MAX]; /* complemented classes (%A ...) */
    pattern__bits bits;
};

/* A walked set gets its table for a scan of at least PATTERN__TABLE_SCAN
 * bytes, or at its PATTERN__TABLE_TESTS-th test of a single byte. */
enum { PATTERN__TABLE_SCAN = 24, PATTERN__TABLE_TESTS = 24 };

typedef struct {
    uint64_t known;                    /* by offset: bit set when slot is */
    uint8_t slot[PATTERN__CACHE_SPAN]; /* by offset: the index in sets */
    int nsets;
    pattern__set sets[PATTERN__CACHE_SETS];
} pattern__cache;

typedef struct {
    const char *at;
    ptrdiff_t len; /* or PATTERN__OPEN, PATTERN__POSITION */
} pattern__capture;

/* One search: the subject, the pattern, the captures and the counters. */
typedef struct {
    lua_State *L;
    pattern__ctx *ctx;
    pattern__cache *cache;
    const uint16_t *kind, *escape;
    const char *src, *src_end; /* the whole subject, whatever the init */
    const char *pat, *pat_end; /* the pattern (after an anchor) */
    int64_t left;              /* steps until the next bill (ctx->left while we run) */
    int calls_left;            /* nested matcher calls still allowed */
    int ncap;
    pattern__capture cap[PATTERN__MAX_CAPTURES];
} pattern__state;

/* What the byte at a match's start must be, when the first item of the
 * pattern says: a byte, in a class (escape[] of its letter), or in a set. */
typedef enum { PATTERN__ANY, PATTERN__BYTE, PATTERN__CLASS, PATTERN__SET } pattern__first_kind;
typedef struct {
    pattern__first_kind kind;
    unsigned char byte;
    unsigned named;
    pattern__set *set; /* in the search's cache */
} pattern__first;

static const char *pattern__match(pattern__state *ms, const char *s, const char *p);

/* ---- The step budget ----------------------------------------------------- */

/* Bill the steps done since `left` was PATTERN_STEPS_PER_BILL; returns
 * the new count of steps until the next bill, or raises. */
__attribute__((noinline, cold)) static int64_t pattern__pay(lua_State *L, pattern__ctx *ctx,
                                                            int64_t left)
{
    int64_t done = PATTERN_STEPS_PER_BILL - left;
    left = PATTERN_STEPS_PER_BILL - done % PATTERN__STEPS_PER_UNIT;
    if (ctx->bill && !ctx->bill(L, (uint64_t)(done / PATTERN__STEPS_PER_UNIT))) {
        ctx->left = left;
        luaL_error(L, "instruction budget exceeded (pattern)");
    }
    return left;
}

static inline void pattern__steps(pattern__state *ms, size_t n)
{
    ms->left -= (int64_t)n;
    if (ms->left <= 0) ms->left = pattern__pay(ms->L, ms->ctx, ms->left);
}

/* Start a search of pattern [p, p + lp) in subject [s, s + ls); cache may
 * hold tables from earlier searches of the same pattern (gmatch), or is
 * emptied when fresh. */
static void pattern__begin(pattern__state *ms, lua_State *L, pattern__ctx *ctx,
                           pattern__cache *cache, bool fresh, const char *s, size_t ls,
                           const char *p, size_t lp)
{
    ms->L = L;
    ms->ctx = ctx;
    ms->cache = cache;
    ms->kind = ctx->kind;
    ms->escape = ctx->escape;
    ms->src = s;
    ms->src_end = s + ls;
    ms->pat = p;
    ms->pat_end = p + lp;
    ms->left = ctx->left;
    ms->ncap = 0;
    ms->calls_left = PATTERN__MAX_CALLS;
    if (fresh) {
        cache->known = 0;
        cache->nsets = 0;
    }
}

/* Hand the steps not billed yet back to the state, before calling Lua or
 * returning. */
static inline void pattern__end(pattern__state *ms)
{
    ms->ctx->left = ms->left;
}

/* ---- Single-character items ---------------------------------------------- */

/* Whether byte c is in the class %cl (cl a letter naming a class, or any
 * other byte standing for itself). */
static inline int pattern__in_class(const pattern__state *ms, int c, int cl)
{
    unsigned named = ms->escape[cl];
    if (!named) return c == cl;
    return ((ms->kind[c] & named) != 0) ^ (named >> 15);
}

/* Add to b the bytes of %cl. */
static void pattern__add_class(const pattern__state *ms, pattern__bits *b, int cl)
{
    unsigned named = ms->escape[cl];
    if (!named) {
        pattern__add(b, cl);
        return;
    }
    const pattern__bits *m = &ms->ctx->members[__builtin_ctz(named & ~(unsigned)PATTERN__NEGATE)];
    uint32_t flip = (named & PATTERN__NEGATE) ? ~(uint32_t)0 : 0;
    for (int i = 0; i < 8; i++)
        b->w[i] |= m->w[i] ^ flip;
}

/* The end of the set opening at p, or NULL with *why set when it does not
 * close. Its first byte (after a '^') belongs to it even when it is ']'. */
static const char *pattern__set_end(const char *p, const char *pend, const char **why)
{
    p++;
    if (p < pend && *p == '^') p++;
    for (;;) {
        if (p == pend) {
            *why = "malformed pattern (missing ']')";
            return NULL;
        }
        if (*p++ == '%' && p < pend) p++; /* "%]" does not close */
        if (p < pend && *p == ']') return p + 1;
    }
}

/* Add to b the bytes of the elements of a set, [q, close): inside, %x is
 * a class or an escaped byte, a-z a range (a '-' first or last is
 * itself). */
static void pattern__set_bytes(const pattern__state *ms, const char *q, const char *close,
                               pattern__bits *b)
{
    while (q < close) {
        if (*q == '%') {
            pattern__add_class(ms, b, (unsigned char)q[1]);
            q += 2;
        } else if (q[1] == '-' && q + 2 < close) {
            for (int c = (unsigned char)q[0]; c <= (unsigned char)q[2]; c++)
                pattern__add(b, c);
            q += 3;
        } else {
            pattern__add(b, (unsigned char)*q);
            q++;
        }
    }
}

/* A walk under construction, kept apart from the set so that the set is
 * written once (byte fields written one by one and read back stall the
 * store buffer). */
typedef struct {
    uint16_t classes;
    int nranges, nout;
    uint16_t lo[PATTERN__WALK_MAX];
    uint8_t span[PATTERN__WALK_MAX];
    uint16_t out[PATTERN__WALK_MAX];
} pattern__walk;

/* Add the range lo-hi (lo <= hi) to w; false when it is full. */
static inline bool pattern__walk_range(pattern__walk *w, int lo, int hi)
{
    if (w->nranges == PATTERN__WALK_MAX) return false;
    w->lo[w->nranges] = (uint16_t)lo;
    w->span[w->nranges++] = (uint8_t)(hi - lo);
    return true;
}

static inline void pattern__walk_set(pattern__set *set, const pattern__walk *w)
{
    set->table = false;
    set->tests = 0;
    set->classes = w->classes;
    set->nranges = (uint8_t)w->nranges;
    set->nout = (uint8_t)w->nout;
    memcpy(set->lo, w->lo, sizeof set->lo);
    memcpy(set->span, w->span, sizeof set->span);
    memcpy(set->out, w->out, sizeof set->out);
}

/* Whether c is in a set without a table. */
static inline int pattern__set_walk(const pattern__state *ms, const pattern__set *set, int c)
{
    int in = (unsigned)(c - set->lo[0]) <= set->span[0];
    if (set->nranges > 1) {
        in |= (unsigned)(c - set->lo[1]) <= set->span[1];
        in |= (unsigned)(c - set->lo[2]) <= set->span[2];
    }
    if (set->classes) in |= (ms->kind[c] & set->classes) != 0;
    for (int i = 0; i < set->nout; i++)
        in |= !(ms->kind[c] & set->out[i]);
    return in ^ set->negated;
}

static void pattern__set_table(const pattern__state *ms, pattern__set *set);

/* Whether c is in set; a set tested often gets its table. */
static inline int pattern__set_has(const pattern__state *ms, pattern__set *set, int c)
{
    if (set->table) return pattern__has(&set->bits, c);
    if (++set->tests == PATTERN__TABLE_TESTS) pattern__set_table(ms, set);
    return pattern__set_walk(ms, set, c);
}

/* Give set its table. */
static void pattern__set_table(const pattern__state *ms, pattern__set *set)
{
    memset(&set->bits, 0, sizeof set->bits);
    pattern__set_bytes(ms, set->from, set->end - 1, &set->bits);
    if (set->negated)
        for (int i = 0; i < 8; i++)
            set->bits.w[i] = ~set->bits.w[i];
    set->table = true;
}

/* Add to b the bytes of set. */
static void pattern__set_add(const pattern__state *ms, const pattern__set *set, pattern__bits *b)
{
    if (set->table) {
        for (int i = 0; i < 8; i++)
            b->w[i] |= set->bits.w[i];
        return;
    }
    pattern__bits in = {{0}};
    pattern__set_bytes(ms, set->from, set->end - 1, &in);
    uint32_t flip = set->negated ? ~(uint32_t)0 : 0;
    for (int i = 0; i < 8; i++)
        b->w[i] |= in.w[i] ^ flip;
}

/* Fill in set, which opens at p and ends at set->end (as pattern__set_end
 * found it): the elements are read up to the ']' by their own rules, by
 * which a range may end in '%' and the byte after it, skipped when looking
 * for the end, is then an element (or, just before the end, the ']' is an
 * escaped byte). */
static void pattern__set_make(const pattern__state *ms, pattern__set *set, const char *p)
{
    const char *q = p + 1, *close = set->end - 1;
    set->negated = *q == '^';
    q += set->negated;
    set->from = q;
    pattern__walk w = {.lo = {256, 256, 256}}; /* 256: no range */
    bool walk = true;
    while (q < close && walk) {
        int lo, hi;
        if (*q == '%') {
            unsigned named = ms->escape[(unsigned char)q[1]];
            if (named & PATTERN__NEGATE) {
                if (w.nout == PATTERN__WALK_MAX) {
                    walk = false;
                    break;
                }
                w.out[w.nout++] = (uint16_t)(named & ~(unsigned)PATTERN__NEGATE);
                q += 2;
                continue;
            }
            if (named) {
                w.classes |= (uint16_t)named;
                q += 2;
                continue;
            }
            lo = hi = (unsigned char)q[1];
            q += 2;
        } else if (q[1] == '-' && q + 2 < close) {
            lo = (unsigned char)q[0];
            hi = (unsigned char)q[2];
            q += 3;
        } else {
            lo = hi = (unsigned char)*q;
            q++;
        }
        if (lo <= hi) walk = pattern__walk_range(&w, lo, hi); /* else empty */
    }
    pattern__walk_set(set, &w);
    if (!walk) pattern__set_table(ms, set); /* too many to walk */
}

/* Make set, opening at p, in one pass, which finds its end and reads its
 * elements at once: possible when it does not start with ']' and has no
 * range ending in '%' (see pattern__set_make), the common case. False when
 * it is not so, or does not close. */
static bool pattern__set_parse(const pattern__state *ms, pattern__set *set, const char *p)
{
    const char *q = p + 1, *pend = ms->pat_end;
    bool negated = q < pend && *q == '^';
    q += negated;
    const char *from = q;
    pattern__walk w = {.lo = {256, 256, 256}}; /* 256: no range */
    bool walk = true;
    if (q == pend || *q == ']') return false;
    for (;;) {
        if (q == pend) return false;
        int lo = (unsigned char)*q, hi = lo;
        if (lo == ']') break; /* not the first byte: the end */
        if (lo == '%') {
            if (pend - q < 2) return false;
            unsigned named = ms->escape[(unsigned char)q[1]];
            q += 2;
            if (named & PATTERN__NEGATE) {
                if (w.nout == PATTERN__WALK_MAX)
                    walk = false;
                else
                    w.out[w.nout++] = (uint16_t)(named & ~(unsigned)PATTERN__NEGATE);
                continue;
            }
            if (named) {
                w.classes |= (uint16_t)named;
                continue;
            }
            lo = hi = (unsigned char)q[-1];
        } else if (pend - q > 2 && q[1] == '-' && q[2] != ']') {
            if (q[2] == '%') return false;
            hi = (unsigned char)q[2];
            q += 3;
            if (lo > hi) continue; /* an empty range */
        } else {
            q++;
        }
        if (walk) walk = pattern__walk_range(&w, lo, hi);
    }
    set->negated = negated;
    set->from = from;
    set->end = q + 1;
    pattern__walk_set(set, &w);
    if (!walk) pattern__set_table(ms, set); /* too many to walk */
    return true;
}

/* The set opening at p: from the cache, or made (kept in the cache when it
 * has room, else in *spare). NULL with *why set when it does not close. */
__attribute__((noinline)) static pattern__set *
pattern__set_find(pattern__state *ms, const char *p, pattern__set *spare, const char **why)
{
    size_t off = (size_t)(p - ms->pat);
    pattern__cache *c = ms->cache;
    if (off < PATTERN__CACHE_SPAN && (c->known >> off & 1)) return &c->sets[c->slot[off]];
    pattern__set *set = spare;
    bool keep = off < PATTERN__CACHE_SPAN && c->nsets < PATTERN__CACHE_SETS;
    if (keep) set = &c->sets[c->nsets];
    if (!pattern__set_parse(ms, set, p)) {
        const char *end = pattern__set_end(p, ms->pat_end, why);
        if (!end) {
            pattern__steps(ms, (size_t)(ms->pat_end - p));
            return NULL;
        }
        set->end = end;
        pattern__set_make(ms, set, p);
    }
    if (keep) {
        c->slot[off] = (uint8_t)c->nsets++;
        c->known |= (uint64_t)1 << off;
    }
    pattern__steps(ms, (size_t)(set->end - p));
    return set;
}

static inline pattern__set *pattern__set_at(pattern__state *ms, const char *p, pattern__set *spare)
{
    size_t off = (size_t)(p - ms->pat);
    pattern__cache *c = ms->cache;
    if (off < PATTERN__CACHE_SPAN && (c->known >> off & 1)) return &c->sets[c->slot[off]];
    const char *why = NULL;
    pattern__set *set = pattern__set_find(ms, p, spare, &why);
    if (!set) luaL_error(ms->L, "%s", why);
    return set;
}

/* The end of the item at p, which is not a set. */
static inline const char *pattern__item_end(pattern__state *ms, const char *p)
{
    if (*p != '%') return p + 1;
    if (p + 1 == ms->pat_end) luaL_error(ms->L, "malformed pattern (ends with '%%')");
    return p + 2;
}

/* Whether the item at p (set: its table, when it is a set) matches c. */
static inline int pattern__single(const pattern__state *ms, int c, const char *p, pattern__set *set)
{
    switch (*p) {
    case '.': return 1;
    case '%': return pattern__in_class(ms, c, (unsigned char)p[1]);
    case '[': return pattern__set_has(ms, set, c);
    default: return (unsigned char)*p == c;
    }
}

/* How many bytes from s on the item at p matches in a row. */
static size_t pattern__span(const pattern__state *ms, const char *s, const char *p,
                            pattern__set *set)
{
    const char *t = s, *end = ms->src_end;
    switch (*p) {
    case '.': return (size_t)(end - s);
    case '%': {
        int cl = (unsigned char)p[1];
        unsigned named = ms->escape[cl];
        if (!named) {
            while (t < end && (unsigned char)*t == cl)
                t++;
        } else if (named & PATTERN__NEGATE) {
            while (t < end && !(ms->kind[(unsigned char)*t] & named))
                t++;
        } else {
            while (t < end && (ms->kind[(unsigned char)*t] & named))
                t++;
        }
        break;
    }
    case '[':
        if (!set->table && end - s >= PATTERN__TABLE_SCAN) {
            while (t < end && t - s < PATTERN__TABLE_SCAN &&
                   pattern__set_walk(ms, set, (unsigned char)*t))
                t++;
            if (t - s == PATTERN__TABLE_SCAN) pattern__set_table(ms, set);
        }
        if (set->table) {
            while (t < end && pattern__has(&set->bits, (unsigned char)*t))
                t++;
        } else {
            while (t < end && pattern__set_walk(ms, set, (unsigned char)*t))
                t++;
        }
        break;
    default:
        while (t < end && *t == *p)
            t++;
    }
    return (size_t)(t - s);
}

/* The end of the single-character item at p, with its set in *set when
 * it is one (made in *spare when the cache has no room); NULL when it is a
 * set that does not close. A '%' there is not the pattern's last byte. */
static const char *pattern__item_quiet(pattern__state *ms, const char *p, pattern__set **set,
                                       pattern__set *spare)
{
    *set = NULL;
    if (*p == '%') return p + 2;
    if (*p != '[') return p + 1;
    const char *why;
    *set = pattern__set_find(ms, p, spare, &why);
    return *set ? (*set)->end : NULL;
}

/* Add to b the bytes the item at p (not '.'; set: its set) matches. */
static void pattern__add_item(const pattern__state *ms, pattern__bits *b, const char *p,
                              const pattern__set *set)
{
    switch (*p) {
    case '%': pattern__add_class(ms, b, (unsigned char)p[1]); return;
    case '[': pattern__set_add(ms, set, b); return;
    default: pattern__add(b, (unsigned char)*p); return;
    }
}

/* ---- Looking ahead ------------------------------------------------------- */

/* What the first item of pattern p (unanchored) asks of the byte a match
 * starts with, when it is a single-character item that must match once at
 * least: at a start where it does not, the matcher would fail at once,
 * raising nothing, so such starts can be skipped. */
static void pattern__first_of(pattern__state *ms, const char *p, pattern__first *f)
{
    const char *pend = ms->pat_end;
    f->kind = PATTERN__ANY;
    if (p == pend) return;
    switch (*p) {
    case '(':
    case ')':
    case '$':
    case '.': return;
    case '%':
        if (p + 1 == pend || p[1] == 'b' || p[1] == 'f' || (p[1] >= '0' && p[1] <= '9')) return;
        break;
    default: break;
    }
    pattern__set spare, *set;
    const char *ep = pattern__item_quiet(ms, p, &set, &spare);
    if (!ep) return;
    if (ep < pend && (*ep == '*' || *ep == '?' || *ep == '-')) return;
    if (set) {
        f->set = set;
        if (set != &spare) f->kind = PATTERN__SET; /* kept in the cache */
    } else if (*p == '%' && ms->escape[(unsigned char)p[1]]) {
        f->kind = PATTERN__CLASS;
        f->named = ms->escape[(unsigned char)p[1]];
    } else {
        f->kind = PATTERN__BYTE;
        f->byte = (unsigned char)p[*p == '%'];
    }
}

static const char *pattern__next_start(pattern__state *ms, pattern__first *f, const char *s);

/* The first start at or after s where f allows a match, or NULL: s itself
 * without a call, often. */
static inline const char *pattern__start(pattern__state *ms, pattern__first *f, const char *s)
{
    if (s < ms->src_end) {
        int c = (unsigned char)*s;
        switch (f->kind) {
        case PATTERN__ANY: return s;
        case PATTERN__BYTE:
            if (c == f->byte) return s;
            break;
        case PATTERN__CLASS:
            if (((ms->kind[c] & f->named) != 0) ^ (f->named >> 15)) return s;
            break;
        case PATTERN__SET:
            if (f->set->table ? pattern__has(&f->set->bits, c) : pattern__set_walk(ms, f->set, c))
                return s;
            break;
        }
    } else if (f->kind == PATTERN__ANY) {
        return s;
    }
    return pattern__next_start(ms, f, s);
}

/* The first start at or after s where f allows a match, or NULL. */
static const char *pattern__next_start(pattern__state *ms, pattern__first *f, const char *s)
{
    const char *end = ms->src_end, *t = s;
    switch (f->kind) {
    case PATTERN__BYTE: t = memchr(s, f->byte, (size_t)(end - s)); break;
    case PATTERN__CLASS: {
        unsigned named = f->named & ~(unsigned)PATTERN__NEGATE;
        unsigned want = (f->named & PATTERN__NEGATE) ? 0 : named;
        while (t < end && (ms->kind[(unsigned char)*t] & named) != want)
            t++;
        break;
    }
    case PATTERN__SET:
        if (!f->set->table && end - s >= PATTERN__TABLE_SCAN) {
            while (t < end && t - s < PATTERN__TABLE_SCAN &&
                   !pattern__set_walk(ms, f->set, (unsigned char)*t))
                t++;
            if (t - s == PATTERN__TABLE_SCAN) pattern__set_table(ms, f->set);
        }
        if (f->set->table) {
            while (t < end && !pattern__has(&f->set->bits, (unsigned char)*t))
                t++;
        } else {
            while (t < end && !pattern__set_walk(ms, f->set, (unsigned char)*t))
                t++;
        }
        break;
    case PATTERN__ANY: return s;
    }
    if (t == end) t = NULL;
    pattern__steps(ms, (size_t)((t ? t : end) - s));
    return t;
}

/* What a repetition may know of the rest of the pattern, at r, before it
 * calls the matcher for it: the bytes the rest can start with (`first`);
 * at the end of the subject, whether it can match (`at_end`). Elsewhere
 * the call would fail, raising nothing, at a byte not in `first`: the
 * items before the one that must match are well formed, there is a
 * capture for each ')' to close, room for each '(', and at least `calls`
 * nested calls left; every item but the last is one that is skipped when
 * it does not match. Returns false when the rest gives no such guarantee
 * (it can match the empty string, starts with a back-reference, a
 * frontier or '.', or has a malformed item). */
typedef struct {
    pattern__bits first;
    int calls;
    int at_end;
} pattern__ahead;

static int pattern__look_ahead(pattern__state *ms, const char *r, pattern__ahead *a)
{
    const char *pend = ms->pat_end;
    int open = 0, ncap = ms->ncap;
    for (int i = 0; i < ms->ncap; i++)
        if (ms->cap[i].len == PATTERN__OPEN) open++;
    a->calls = 1;
    a->at_end = 0;
    memset(&a->first, 0, sizeof a->first);
    while (r < pend) {
        pattern__steps(ms, 1);
        switch (*r) {
        case '(':
            if (ncap >= PATTERN__MAX_CAPTURES) return 0;
            ncap++;
            a->calls++;
            if (r + 1 < pend && r[1] == ')') {
                r += 2;
            } else {
                open++;
                r++;
            }
            continue;
        case ')':
            if (!open) return 0;
            open--;
            a->calls++;
            r++;
            continue;
        case '$':
            if (r + 1 == pend) {
                a->at_end = 1;
                return 1;
            }
            break;
        case '.': return 0;
        case '%':
            if (r + 1 == pend) return 0;
            if (r[1] == 'f' || (r[1] >= '0' && r[1] <= '9')) return 0;
            if (r[1] == 'b') {
                if (pend - (r + 2) < 2) return 0;
                pattern__add(&a->first, (unsigned char)r[2]);
                return 1;
            }
            break;
        default: break;
        }
        pattern__set spare, *set;
        const char *ep = pattern__item_quiet(ms, r, &set, &spare);
        if (!ep) return 0;
        pattern__add_item(ms, &a->first, r, set);
        if (ep < pend && (*ep == '*' || *ep == '?' || *ep == '-')) {
            r = ep + 1;
            continue;
        }
        return 1;
    }
    return 0; /* the rest can match the empty string */
}

/* Whether the attempt of the rest at s, per a, would surely fail. */
static inline int pattern__cannot(const pattern__state *ms, const pattern__ahead *a, const char *s)
{
    if (s == ms->src_end) return !a->at_end;
    return !pattern__has(&a->first, (unsigned char)*s);
}

/* ---- The matcher --------------------------------------------------------- */

/* Item [p, ep) repeated as often as it matches from s on, then as many
 * times less as needed for the rest at ep + 1 to match. */
static const char *pattern__greedy(pattern__state *ms, const char *s, const char *p, const char *ep,
                                   pattern__set *set)
{
    size_t n = pattern__span(ms, s, p, set);
    pattern__steps(ms, n);
    const char *t = s + n;
    pattern__ahead a;
    if (n >= PATTERN__LOOKAHEAD_MIN && pattern__look_ahead(ms, ep + 1, &a) &&
        ms->calls_left >= a.calls) {
        for (;; t--) {
            if (!pattern__cannot(ms, &a, t)) {
                const char *res = pattern__match(ms, t, ep + 1);
                if (res) return res;
            }
            if (t == s) return NULL;
        }
    }
    for (;; t--) {
        const char *res = pattern__match(ms, t, ep + 1);
        if (res) return res;
        if (t == s) return NULL;
    }
}

/* Item [p, ep) repeated as few times as lets the rest at ep + 1 match. */
static const char *pattern__lazy(pattern__state *ms, const char *s, const char *p, const char *ep,
                                 pattern__set *set)
{
    const char *end = ms->src_end;
    for (int tries = 0;; tries++) {
        const char *res = pattern__match(ms, s, ep + 1);
        if (res) return res;
        if (s == end || !pattern__single(ms, (unsigned char)*s, p, set)) return NULL;
        s++;
        if (tries == PATTERN__LOOKAHEAD_MIN) break;
    }
    /* Many tries: skip those the rest would refuse at once. */
    pattern__ahead a;
    if (!pattern__look_ahead(ms, ep + 1, &a) || ms->calls_left < a.calls) {
        for (;;) {
            const char *res = pattern__match(ms, s, ep + 1);
            if (res) return res;
            if (s == end || !pattern__single(ms, (unsigned char)*s, p, set)) return NULL;
            s++;
        }
    }
    for (;;) {
        const char *from = s;
        while (s < end && !pattern__has(&a.first, (unsigned char)*s) &&
               pattern__single(ms, (unsigned char)*s, p, set))
            s++;
        pattern__steps(ms, (size_t)(s - from));
        if (!pattern__cannot(ms, &a, s)) {
            const char *res = pattern__match(ms, s, ep + 1);
            if (res) return res;
        }
        if (s == end || !pattern__single(ms, (unsigned char)*s, p, set)) return NULL;
        s++;
    }
}

static const char *pattern__open_capture(pattern__state *ms, const char *s, const char *p,
                                         ptrdiff_t len)
{
    if (ms->ncap >= PATTERN__MAX_CAPTURES) luaL_error(ms->L, "too many captures");
    int i = ms->ncap++;
    ms->cap[i].at = s;
    ms->cap[i].len = len;
    const char *res = pattern__match(ms, s, p);
    if (!res) ms->ncap = i;
    return res;
}

static const char *pattern__close_capture(pattern__state *ms, const char *s, const char *p)
{
    int i = ms->ncap - 1;
    while (i >= 0 && ms->cap[i].len != PATTERN__OPEN)
        i--;
    if (i < 0) luaL_error(ms->L, "invalid pattern capture");
    ms->cap[i].len = s - ms->cap[i].at;
    const char *res = pattern__match(ms, s, p);
    if (!res) ms->cap[i].len = PATTERN__OPEN;
    return res;
}

/* %bxy at s: the end of the balanced run, or NULL. */
static const char *pattern__balance(pattern__state *ms, const char *s, const char *xy)
{
    if (ms->pat_end - xy < 2) luaL_error(ms->L, "malformed pattern (missing arguments to '%%b')");
    const char *end = ms->src_end;
    if (s == end || *s != xy[0]) return NULL;
    const char *t = s + 1;
    size_t depth = 1;
    for (; t < end; t++) {
        if (*t == xy[1]) {
            if (--depth == 0) break;
        } else if (*t == xy[0]) {
            depth++;
        }
    }
    pattern__steps(ms, (size_t)(t - s));
    return t < end ? t + 1 : NULL;
}

/* %f[set] at s: whether the byte before s (NUL at the subject's start) is
 * out of the set and the one at s (NUL at its end) in it. Sets *p past it. */
static int pattern__frontier(pattern__state *ms, const char *s, const char **p)
{
    const char *open = *p + 2;
    if (open == ms->pat_end || *open != '[')
        luaL_error(ms->L, "missing '[' after '%%f' in pattern");
    pattern__set spare;
    pattern__set *set = pattern__set_at(ms, open, &spare);
    int before = s == ms->src ? 0 : (unsigned char)s[-1];
    int here = s < ms->src_end ? (unsigned char)*s : 0;
    *p = set->end;
    return !pattern__set_has(ms, set, before) && pattern__set_has(ms, set, here);
}

/* The matcher: the end of a match of [p, pat_end) starting at s, or NULL.
 * It calls itself for each repetition and capture, so it counts those
 * calls against PATTERN__MAX_CALLS; items that need no way back continue
 * in the loop. The call and each item it tries are a step. */
static const char *pattern__match(pattern__state *ms, const char *s, const char *p)
{
    if (ms->calls_left-- == 0) luaL_error(ms->L, "pattern too complex");
    const char *pend = ms->pat_end;
    size_t items = 1; /* this call and its items, billed on the way out */
    while (p != pend) {
        items++;
        switch (*p) {
        case '(':
            if (p + 1 < pend && p[1] == ')')
                s = pattern__open_capture(ms, s, p + 2, PATTERN__POSITION);
            else
                s = pattern__open_capture(ms, s, p + 1, PATTERN__OPEN);
            goto done;
        case ')': s = pattern__close_capture(ms, s, p + 1); goto done;
        case '$':
            if (p + 1 != pend) break; /* a '$' before the end is itself */
            if (s != ms->src_end) s = NULL;
            goto done;
        case '%':
            if (p + 1 == pend) break; /* pattern__item_end raises */
            if (p[1] == 'b') {
                s = pattern__balance(ms, s, p + 2);
                if (!s) goto done;
                p += 4;
                continue;
            }
            if (p[1] == 'f') {
                if (!pattern__frontier(ms, s, &p)) {
                    s = NULL;
                    goto done;
                }
                continue;
            }
            if (p[1] >= '0' && p[1] <= '9') {
                int i = p[1] - '1';
                if (i < 0 || i >= ms->ncap || ms->cap[i].len == PATTERN__OPEN)
                    luaL_error(ms->L, "invalid capture index %%%d", i + 1);
                ptrdiff_t len = ms->cap[i].len;
                if (len < 0 || ms->src_end - s < len) {
                    s = NULL;
                    goto done;
                }
                pattern__steps(ms, (size_t)len);
                if (memcmp(ms->cap[i].at, s, (size_t)len)) {
                    s = NULL;
                    goto done;
                }
                s += len;
                p += 2;
                continue;
            }
            break;
        default: break;
        }
        /* A single-character item, maybe followed by a repetition. */
        pattern__set spare;
        pattern__set *set = NULL;
        const char *ep;
        if (*p == '[') {
            set = pattern__set_at(ms, p, &spare);
            ep = set->end;
        } else {
            ep = pattern__item_end(ms, p);
        }
        int rep = ep < pend ? *ep : 0;
        if (s < ms->src_end && pattern__single(ms, (unsigned char)*s, p, set)) {
            switch (rep) {
            case '?': {
                const char *res = pattern__match(ms, s + 1, ep + 1);
                if (res) {
                    s = res;
                    goto done;
                }
                p = ep + 1;
                continue;
            }
            case '+': s = pattern__greedy(ms, s + 1, p, ep, set); goto done;
            case '*': s = pattern__greedy(ms, s, p, ep, set); goto done;
            case '-': s = pattern__lazy(ms, s, p, ep, set); goto done;
            default:
                s++;
                p = ep;
                continue;
            }
        }
        if (rep == '*' || rep == '?' || rep == '-') {
            p = ep + 1; /* zero times */
            continue;
        }
        s = NULL;
        goto done;
    }
done:
    pattern__steps(ms, items);
    ms->calls_left++;
    return s;
}

/* A fresh attempt at a new start. */
static inline const char *pattern__try(pattern__state *ms, const char *s, const char *p)
{
    pattern__steps(ms, PATTERN__STEPS_PER_VALUE / 2); /* even for the empty pattern */
    ms->ncap = 0;
    ms->calls_left = PATTERN__MAX_CALLS;
    return pattern__match(ms, s, p);
}

/* ---- Captures to Lua ----------------------------------------------------- */

/* Push capture i of the match [s, e); capture 0 is the whole match when
 * the pattern has none. */
static void pattern__push_capture(pattern__state *ms, int i, const char *s, const char *e)
{
    if (i >= ms->ncap) {
        if (i != 0) luaL_error(ms->L, "invalid capture index %%%d", i + 1);
        lua_pushlstring(ms->L, s, (size_t)(e - s));
        return;
    }
    ptrdiff_t len = ms->cap[i].len;
    if (len == PATTERN__OPEN) luaL_error(ms->L, "unfinished capture");
    if (len == PATTERN__POSITION)
        lua_pushinteger(ms->L, (lua_Integer)(ms->cap[i].at - ms->src) + 1);
    else
        lua_pushlstring(ms->L, ms->cap[i].at, (size_t)len);
}

/* Push every capture (the whole match when there is none and s is not
 * NULL); returns how many. */
static int pattern__push_captures(pattern__state *ms, const char *s, const char *e)
{
    int n = (ms->ncap == 0 && s) ? 1 : ms->ncap;
    pattern__steps(ms, (size_t)n * PATTERN__STEPS_PER_VALUE);
    if (n > PATTERN__FREE_SLOTS) luaL_checkstack(ms->L, n, "too many captures");
    for (int i = 0; i < n; i++)
        pattern__push_capture(ms, i, s, e);
    return n;
}

/* ---- The Lua functions --------------------------------------------------- */

/* The start offset that argument `arg` (default 1, negative from the end)
 * asks for; may be past the end. */
static size_t pattern__init(lua_State *L, int arg, size_t len)
{
    lua_Integer i = luaL_optinteger(L, arg, 1);
    if (i > 0) return (size_t)i - 1;
    if (i == 0 || i < -(lua_Integer)len) return 0;
    return (size_t)((lua_Integer)len + i);
}

static int pattern__has_specials(const pattern__ctx *ctx, const char *p, size_t lp)
{
    for (size_t i = 0; i < lp; i++)
        if (ctx->is_special[(unsigned char)p[i]]) return 1;
    return 0;
}

/* find with plain true, or a pattern without special characters. memmem
 * is linear: billed by the bytes it passes. */
static int pattern__find_plain(lua_State *L, pattern__ctx *ctx, const char *s, size_t ls,
                               size_t init, const char *p, size_t lp)
{
    const char *at = lp == 1 ? memchr(s + init, *p, ls - init) : memmem(s + init, ls - init, p, lp);
    ctx->left -= (int64_t)((at ? (size_t)(at - (s + init)) : ls - init) + lp);
    if (ctx->left <= 0) ctx->left = pattern__pay(L, ctx, ctx->left);
    if (!at) {
        luaL_pushfail(L);
        return 1;
    }
    lua_pushinteger(L, (lua_Integer)(at - s) + 1);
    lua_pushinteger(L, (lua_Integer)(at - s) + (lua_Integer)lp);
    return 2;
}

static int pattern__find(lua_State *L, int find)
{
    size_t ls, lp;
    const char *s = luaL_checklstring(L, 1, &ls);
    const char *p = luaL_checklstring(L, 2, &lp);
    size_t init = pattern__init(L, 3, ls);
    pattern__ctx *ctx = lua_touserdata(L, lua_upvalueindex(1));
    if (init > ls) {
        luaL_pushfail(L);
        return 1;
    }
    if (find && (lua_toboolean(L, 4) || !pattern__has_specials(ctx, p, lp)))
        return pattern__find_plain(L, ctx, s, ls, init, p, lp);
    pattern__state ms;
    pattern__cache cache;
    int anchor = lp > 0 && *p == '^';
    if (anchor) {
        p++;
        lp--;
    }
    pattern__begin(&ms, L, ctx, &cache, true, s, ls, p, lp);
    if (find) pattern__steps(&ms, lp); /* pattern__has_specials */
    pattern__first first = {.kind = PATTERN__ANY};
    if (!anchor && ls - init >= PATTERN__SKIP_MIN) pattern__first_of(&ms, p, &first);
    const char *at = s + init;
    for (;;) {
        if (!(at = pattern__start(&ms, &first, at))) break;
        const char *e = pattern__try(&ms, at, p);
        if (e) {
            pattern__end(&ms);
            if (find) {
                lua_pushinteger(L, (lua_Integer)(at - s) + 1);
                lua_pushinteger(L, (lua_Integer)(e - s));
                return pattern__push_captures(&ms, NULL, NULL) + 2;
            }
            return pattern__push_captures(&ms, at, e);
        }
        if (anchor || at == ms.src_end) break;
        at++;
    }
    pattern__end(&ms);
    luaL_pushfail(L);
    return 1;
}

static int l_pattern_find(lua_State *L)
{
    return pattern__find(L, 1);
}

static int l_pattern_match(lua_State *L)
{
    return pattern__find(L, 0);
}

/* gmatch's iterator state, a userdata upvalue of the iterator after the
 * subject and the pattern (upvalues that keep the strings, and so these
 * pointers, alive); the fourth is the shared pattern__ctx. */
typedef struct {
    pattern__ctx *ctx;
    const char *s, *p;
    size_t ls, lp;
    const char *next; /* where the next search starts */
    const char *last; /* the end of the last match, or NULL */
    pattern__first first;
    pattern__cache cache; /* kept from one call to the next */
} pattern__gmatch;

static int l_pattern_gmatch_next(lua_State *L)
{
    pattern__gmatch *g = lua_touserdata(L, lua_upvalueindex(3));
    pattern__state ms;
    pattern__begin(&ms, L, g->ctx, &g->cache, false, g->s, g->ls, g->p, g->lp);
    for (const char *at = g->next; at <= ms.src_end; at++) {
        if (!(at = pattern__start(&ms, &g->first, at))) break;
        const char *e = pattern__try(&ms, at, g->p);
        if (e && e != g->last) {
            g->next = g->last = e;
            pattern__end(&ms);
            return pattern__push_captures(&ms, at, e);
        }
    }
    pattern__end(&ms);
    return 0;
}

static int l_pattern_gmatch(lua_State *L)
{
    size_t ls, lp;
    const char *s = luaL_checklstring(L, 1, &ls);
    const char *p = luaL_checklstring(L, 2, &lp);
    size_t init = pattern__init(L, 3, ls);
    if (init > ls) init = ls + 1;
    lua_settop(L, 2);
    pattern__gmatch *g = lua_newuserdatauv(L, sizeof *g, 0);
    g->ctx = lua_touserdata(L, lua_upvalueindex(1));
    g->s = s;
    g->p = p;
    g->ls = ls;
    g->lp = lp;
    g->next = s + init;
    g->last = NULL;
    /* In gmatch a leading '^' is no anchor: the pattern is used whole. */
    pattern__state ms;
    pattern__begin(&ms, L, g->ctx, &g->cache, true, s, ls, p, lp);
    g->first.kind = PATTERN__ANY;
    if (init <= ls && ls - init >= PATTERN__SKIP_MIN) pattern__first_of(&ms, p, &g->first);
    lua_pushvalue(L, lua_upvalueindex(1)); /* keeps g->ctx alive */
    lua_pushcclosure(L, l_pattern_gmatch_next, 4);
    return 1;
}

/* Append capture i of the match [s, e) for %i in a replacement string. */
static void pattern__add_capture(pattern__state *ms, luaL_Buffer *b, int i, const char *s,
                                 const char *e)
{
    if (i >= ms->ncap || ms->cap[i].len == PATTERN__POSITION) {
        pattern__push_capture(ms, i, s, e);
        luaL_addvalue(b);
        return;
    }
    if (ms->cap[i].len == PATTERN__OPEN) luaL_error(ms->L, "unfinished capture");
    luaL_addlstring(b, ms->cap[i].at, (size_t)ms->cap[i].len);
}

/* Append the replacement string r for the match [s, e): %0 is the match,
 * %1 to %9 the captures, %% a '%'. */
static void pattern__add_string(pattern__state *ms, luaL_Buffer *b, const char *s, const char *e,
                                const char *r, size_t rl)
{
    const char *rend = r + rl;
    size_t before = luaL_bufflen(b);
    for (;;) {
        const char *pc = memchr(r, '%', (size_t)(rend - r));
        if (!pc) break;
        luaL_addlstring(b, r, (size_t)(pc - r));
        int c = pc + 1 < rend ? (unsigned char)pc[1] : 0;
        if (c == '%')
            luaL_addchar(b, '%');
        else if (c == '0')
            luaL_addlstring(b, s, (size_t)(e - s));
        else if (c >= '1' && c <= '9')
            pattern__add_capture(ms, b, c - '1', s, e);
        else
            luaL_error(ms->L, "invalid use of '%%' in replacement string");
        r = pc + 2;
    }
    luaL_addlstring(b, r, (size_t)(rend - r));
    pattern__steps(ms, rl + (luaL_bufflen(b) - before));
}

/* Append the value that the table or function at 3 gives for the match
 * [s, e); false and nil keep the match. Returns whether it changed. */
static int pattern__add_value(pattern__state *ms, luaL_Buffer *b, const char *s, const char *e,
                              int tr)
{
    lua_State *L = ms->L;
    pattern__steps(ms, PATTERN__STEPS_PER_CALL);
    /* The steps go back to the state around the Lua code, which may run
     * pattern functions too. */
    if (tr == LUA_TFUNCTION) {
        lua_pushvalue(L, 3);
        int n = pattern__push_captures(ms, s, e);
        pattern__end(ms);
        lua_call(L, n, 1);
    } else {
        pattern__push_capture(ms, 0, s, e);
        pattern__end(ms);
        lua_gettable(L, 3);
    }
    ms->left = ms->ctx->left;
    if (!lua_toboolean(L, -1)) {
        lua_pop(L, 1);
        luaL_addlstring(b, s, (size_t)(e - s));
        pattern__steps(ms, (size_t)(e - s));
        return 0;
    }
    if (!lua_isstring(L, -1))
        luaL_error(L, "invalid replacement value (a %s)", luaL_typename(L, -1));
    size_t before = luaL_bufflen(b);
    luaL_addvalue(b);
    pattern__steps(ms, luaL_bufflen(b) - before);
    return 1;
}

static int l_pattern_gsub(lua_State *L)
{
    size_t ls, lp, rl = 0;
    const char *src = luaL_checklstring(L, 1, &ls);
    const char *p = luaL_checklstring(L, 2, &lp);
    int tr = lua_type(L, 3);
    lua_Integer max = luaL_optinteger(L, 4, (lua_Integer)ls + 1);
    luaL_argexpected(
        L, tr == LUA_TNUMBER || tr == LUA_TSTRING || tr == LUA_TFUNCTION || tr == LUA_TTABLE, 3,
        "string/function/table");
    pattern__ctx *ctx = lua_touserdata(L, lua_upvalueindex(1));
    const char *r = NULL;
    if (tr == LUA_TNUMBER || tr == LUA_TSTRING) r = lua_tolstring(L, 3, &rl);
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    int anchor = lp > 0 && *p == '^';
    if (anchor) {
        p++;
        lp--;
    }
    pattern__state ms;
    pattern__cache cache;
    pattern__begin(&ms, L, ctx, &cache, true, src, ls, p, lp);
    pattern__first first = {.kind = PATTERN__ANY};
    if (!anchor && ls >= PATTERN__SKIP_MIN) pattern__first_of(&ms, p, &first);
    const char *last = NULL;
    lua_Integer n = 0;
    int changed = 0;
    while (n < max) {
        if (first.kind != PATTERN__ANY) {
            const char *at = pattern__start(&ms, &first, src);
            if (!at) break;
            luaL_addlstring(&b, src, (size_t)(at - src));
            src = at;
        }
        const char *e = pattern__try(&ms, src, p);
        if (e && e != last) {
            n++;
            if (r) {
                pattern__add_string(&ms, &b, src, e, r, rl);
                changed = 1;
            } else {
                changed |= pattern__add_value(&ms, &b, src, e, tr);
            }
            src = last = e;
        } else if (src < ms.src_end) {
            luaL_addchar(&b, *src++);
        } else {
            break;
        }
        if (anchor) break;
    }
    if (!changed) {
        pattern__end(&ms);
        lua_pushvalue(L, 1);
    } else {
        size_t tail = (size_t)(ms.src_end - src);
        luaL_addlstring(&b, src, tail);
        pattern__steps(&ms, tail);
        pattern__end(&ms);
        luaL_pushresult(&b);
    }
    lua_pushinteger(L, n);
    return 2;
}

/* ---- Installing them ----------------------------------------------------- */

static void pattern__ctx_init(pattern__ctx *ctx, lua_pattern_bill_fn bill)
{
    static const char letters[PATTERN__NCLASSES + 1] = "acdglpsuwxz"; /* bit order */
    memset(ctx, 0, sizeof *ctx);
    ctx->bill = bill;
    ctx->left = PATTERN_STEPS_PER_BILL;
    for (int c = 0; c < 256; c++) {
        int k = (isalpha(c) ? PATTERN__ALPHA : 0) | (iscntrl(c) ? PATTERN__CNTRL : 0) |
                (isdigit(c) ? PATTERN__DIGIT : 0) | (isgraph(c) ? PATTERN__GRAPH : 0) |
                (islower(c) ? PATTERN__LOWER : 0) | (ispunct(c) ? PATTERN__PUNCT : 0) |
                (isspace(c) ? PATTERN__SPACE : 0) | (isupper(c) ? PATTERN__UPPER : 0) |
                (isalnum(c) ? PATTERN__ALNUM : 0) | (isxdigit(c) ? PATTERN__XDIGIT : 0) |
                (c == 0 ? PATTERN__NUL : 0);
        ctx->kind[c] = (uint16_t)k;
        for (int i = 0; i < PATTERN__NCLASSES; i++) {
            if (k & (1 << i)) pattern__add(&ctx->members[i], c);
            if (tolower(c) == letters[i])
                ctx->escape[c] = (uint16_t)((1 << i) | (isupper(c) ? PATTERN__NEGATE : 0));
        }
        ctx->is_special[c] = c && strchr("^$*+?.([%-", c) != NULL;
    }
}

void lua__pattern_open(lua_State *L, int idx, lua_pattern_bill_fn bill)
{
    static const luaL_Reg fns[] = {{"find", l_pattern_find},
                                   {"match", l_pattern_match},
                                   {"gmatch", l_pattern_gmatch},
                                   {"gsub", l_pattern_gsub},
                                   {NULL, NULL}};
    idx = lua_absindex(L, idx);
    pattern__ctx *ctx = lua_newuserdatauv(L, sizeof *ctx, 0);
    pattern__ctx_init(ctx, bill);
    for (const luaL_Reg *f = fns; f->name; f++) {
        lua_pushvalue(L, -1);
        lua_pushcclosure(L, f->func, 1);
        lua_setfield(L, idx, f->name);
    }
    lua_pop(L, 1);
}
