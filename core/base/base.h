/* base: error codes and a growable byte buffer shared by every core module.
 *
 * Provides: the PH_ERRNO_MAP error codes (0 is success, failures are negative),
 *           ph_strerror(), and ph_buf, a heap byte buffer that grows on demand.
 * Owns:     nothing global; a ph_buf owns its bytes until ph_buf_free().
 * Uses:     libc only.
 */
#ifndef PH_BASE_H
#define PH_BASE_H

#include <stddef.h>
#include <stdint.h>

/* Every core function that can fail returns int: 0 on success or one of
 * these negative codes. The list lives here once. */
#define PH_ERRNO_MAP(XX)                                                                           \
    XX(NOMEM, -1, "out of memory")                                                                 \
    XX(INVAL, -2, "invalid argument")                                                              \
    XX(IO, -3, "input/output error")                                                               \
    XX(NOTFOUND, -4, "not found")                                                                  \
    XX(LIMIT, -5, "limit exceeded")                                                                \
    XX(EXISTS, -6, "already exists")                                                               \
    XX(LUA, -7, "Lua error")                                                                       \
    XX(DB, -8, "database error")                                                                   \
    XX(CLOSED, -9, "closed")

enum {
#define PH__ERR_ENUM(name, code, msg) PH_E##name = code,
    PH_ERRNO_MAP(PH__ERR_ENUM)
#undef PH__ERR_ENUM
};

/* A static string describing err; "unknown error" for a code not in the map. */
const char *ph_strerror(int err);

/* A growable byte buffer. `data` may be NULL while `cap` is 0. The bytes are
 * not NUL-terminated unless the caller appends a NUL. */
typedef struct {
    char *data;
    size_t len;
    size_t cap;
} ph_buf;

/* Make room for `extra` more bytes. Returns 0 or PH_ENOMEM (buffer unchanged). */
int ph_buf_reserve(ph_buf *b, size_t extra);
/* Append `n` bytes. Returns 0 or PH_ENOMEM (buffer unchanged). */
int ph_buf_append(ph_buf *b, const void *p, size_t n);
/* Drop the first `n` bytes, keeping the rest. */
void ph_buf_consume(ph_buf *b, size_t n);
/* Release the memory; the buffer is empty and reusable afterwards. */
void ph_buf_free(ph_buf *b);

/* Write the decimal form of v to out (at least 20 bytes); returns its length.
 * Used on the hot path instead of snprintf. */
size_t ph_utoa(uint64_t v, char *out);

#endif
