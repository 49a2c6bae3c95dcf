#include "base/base.h"

#include <stdlib.h>
#include <string.h>

const char *ph_strerror(int err)
{
    switch (err) {
    case 0: return "success";
#define PH__ERR_CASE(name, code, msg)                                                              \
    case code: return msg;
        PH_ERRNO_MAP(PH__ERR_CASE)
#undef PH__ERR_CASE
    }
    return "unknown error";
}

int ph_buf_reserve(ph_buf *b, size_t extra)
{
    if (b->cap - b->len >= extra) return 0;
    if (extra > SIZE_MAX / 2 - b->len) return PH_ENOMEM;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + extra)
        cap *= 2;
    char *p = realloc(b->data, cap);
    if (!p) return PH_ENOMEM;
    b->data = p;
    b->cap = cap;
    return 0;
}

int ph_buf_append(ph_buf *b, const void *p, size_t n)
{
    if (n == 0) return 0;
    if (ph_buf_reserve(b, n)) return PH_ENOMEM;
    memcpy(b->data + b->len, p, n);
    b->len += n;
    return 0;
}

void ph_buf_consume(ph_buf *b, size_t n)
{
    if (n >= b->len) {
        b->len = 0;
        return;
    }
    memmove(b->data, b->data + n, b->len - n);
    b->len -= n;
}

void ph_buf_free(ph_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

size_t ph_utoa(uint64_t v, char *out)
{
    char tmp[20];
    size_t n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    for (size_t i = 0; i < n; i++)
        out[i] = tmp[n - 1 - i];
    return n;
}
