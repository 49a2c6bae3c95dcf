/* form: what browsers send, parsed in plain C: percent-decoding, urlencoded
 * bodies and query strings, the Cookie header, Set-Cookie values, multipart.
 *
 * Provides: form_urldecode*(), form_parse_urlencoded(), form_parse_cookies(),
 *           form_set_cookie(), form_multipart_boundary(), form_multipart_parse().
 * Owns:     nothing beyond one call: results point into the caller's input or
 *           into scratch memory freed before the function returns.
 * Uses:     base (ph_buf, PH_E* codes), libc. Knows nothing of Lua or libuv.
 *
 * Errors. Every function returns 0 or a negative PH_E* code: PH_EINVAL for
 * malformed input (from a parser: the client's fault, answer 400; from
 * form_set_cookie(): the caller's cookie is wrong, a plugin author's bug),
 * PH_ELIMIT when input is well formed but exceeds a limit the caller passed
 * (answer 413), PH_ENOMEM. NULL where the contract wants a pointer is also
 * PH_EINVAL, never a crash. The
 * functions whose input can be wrong in more than one way also take
 * `const char **why`: on failure, when `why` is not NULL, it receives a static
 * English sentence fragment ("multipart: part has no Content-Disposition")
 * that never quotes the input, so it is safe to log and to show. On success
 * `*why` is left untouched.
 *
 * Callbacks. A parser that takes a callback validates its whole input, limits
 * included, before the first call: when it returns an error it has not called
 * the callback at all, so a caller never sees half a form. A callback returns
 * 0 to go on or non-zero to stop; the parser then returns that value as-is
 * (and sets `*why` to "stopped by the callback"), so a callback should return
 * a value that cannot be mistaken for the parser's own errors, or remember why
 * it stopped in its `ud`.
 *
 * NUL bytes. Values may contain NUL (raw or from %00) and are passed through:
 * the caller is Lua, whose strings hold any byte. Names may not: a NUL in a
 * field name, a multipart name or a filename refuses the whole input with
 * PH_EINVAL, because names end up as table keys, in logs, and (filenames) near
 * file-system calls, where a NUL truncates silently.
 */
#ifndef PH_FORM_H
#define PH_FORM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "base/base.h"

/* ------------------------------------------------------------------ */
/* Percent-decoding                                                     */
/* ------------------------------------------------------------------ */

/* Flags of form_urldecode() and form_urldecode_to(). */
enum {
    /* '+' decodes to a space, as in form bodies and query strings (not paths).
     * "%2B" still decodes to '+'. */
    FORM_URL_PLUS = 1 << 0,
    /* Refuse output that would contain a NUL byte (from "%00" or a raw NUL in
     * the input) with PH_EINVAL. Without it NUL bytes are decoded like any
     * other. */
    FORM_URL_NO_NUL = 1 << 1,
};

/* Percent-decode the n bytes at s and append the result to out. "%XX" with two
 * hex digits (either case) becomes that byte; a '%' not followed by two hex
 * digits ("%zz", "%4", a trailing '%') is kept literally and decoding goes on
 * with the byte after it. The result is never longer than n bytes and is not
 * NUL-terminated. Returns 0, PH_EINVAL (FORM_URL_NO_NUL and a NUL in the
 * output) or PH_ENOMEM; on error out is unchanged. */
int form_urldecode(ph_buf *out, const char *s, size_t n, unsigned flags);

/* The same into a caller buffer dst of at least n bytes; dst may be s itself
 * (decoding in place) but must not otherwise overlap it. Stores the decoded
 * length in *dlen. Returns 0 or PH_EINVAL (FORM_URL_NO_NUL and a NUL in the
 * output, checked before anything is written: dst is untouched then). */
int form_urldecode_to(char *dst, const char *s, size_t n, unsigned flags, size_t *dlen);

/* ------------------------------------------------------------------ */
/* Name/value pairs: urlencoded forms, query strings, cookies           */
/* ------------------------------------------------------------------ */

/* Called once per pair, in input order. The pointers are borrowed and valid
 * only during the call; they are not NUL-terminated in general: use the
 * lengths. Return 0 to go on, non-zero to stop. */
typedef int (*form_pair_cb)(void *ud, const char *name, size_t name_len, const char *value,
                            size_t value_len);

/* Parse application/x-www-form-urlencoded data (a POST body or a query string
 * without its '?') as browsers produce it (WHATWG URL, "urlencoded parser"):
 * pieces separated by '&' (not ';'); empty pieces ("a=1&&b=2", a leading or
 * trailing '&') are skipped; the name runs to the first '=' and the value is
 * the rest, '=' included; a piece without '=' has an empty value; "=x" has an
 * empty name. Names and values are decoded with FORM_URL_PLUS. Repeated names
 * are reported each time, in order: the caller decides between first, last
 * and all.
 *
 * max_pairs is the caller's setting: more non-empty pieces than that returns
 * PH_ELIMIT (exactly max_pairs is fine; 0 allows only empty input; SIZE_MAX
 * means no limit). A NUL in a decoded name returns PH_EINVAL. Either way cb is
 * not called. Returns 0, PH_ELIMIT, PH_EINVAL, PH_ENOMEM (scratch of n bytes
 * for the decoded strings), or cb's non-zero return. s may be NULL when n is
 * 0. */
int form_parse_urlencoded(const char *s, size_t n, size_t max_pairs, form_pair_cb cb, void *ud,
                          const char **why);

/* Parse the value of a Cookie request header ("a=1; b=2") leniently, as
 * RFC 6265 section 5 user agents do: split on ';'; trim spaces and tabs around
 * each piece, name and value; the name runs to the first '='; a value wrapped
 * in double quotes loses them; no percent-decoding (cookie values are opaque;
 * decode them yourself if your site encoded them). Pieces without '=', with an
 * empty name, or with a NUL in the name are skipped. Repeated names are all
 * reported, in header order; browsers send the most specific path first, so
 * "first wins" is the usual choice. name and value point into header (zero
 * copy) and are not NUL-terminated. Returns 0, or cb's non-zero return; header
 * may be NULL when n is 0 (PH_EINVAL otherwise). */
int form_parse_cookies(const char *header, size_t n, form_pair_cb cb, void *ud);
/* The value of the first cookie named `name` in a Cookie header (NULL: no
 * header), parsed as form_parse_cookies does: true and *v, *vl pointing into
 * header, or false. */
bool form_cookie_value(const char *header, const char *name, const char **v, size_t *vl);

/* ------------------------------------------------------------------ */
/* Set-Cookie                                                           */
/* ------------------------------------------------------------------ */

typedef enum {
    FORM_SAMESITE_UNSET = 0, /* no SameSite attribute: the browser's default */
    FORM_SAMESITE_NONE,      /* requires secure */
    FORM_SAMESITE_LAX,
    FORM_SAMESITE_STRICT,
} form_same_site;

/* One cookie to set. Strings are borrowed, with explicit lengths (so a NUL
 * in the middle is seen and refused, never silently truncated). Start from
 * FORM_COOKIE_INIT: a zeroed struct means "Max-Age=0", which deletes the
 * cookie. */
typedef struct {
    const char *name; /* an RFC 6265 token: visible ASCII minus separators */
    size_t name_len;
    const char *value; /* cookie-octets: visible ASCII minus '"' ',' ';' '\'; may be empty */
    size_t value_len;
    const char *path; /* NULL for none; printable ASCII without ';' */
    size_t path_len;
    const char *domain; /* NULL for none; printable ASCII without ';' */
    size_t domain_len;
    int64_t max_age; /* seconds; -1 for none, 0 deletes the cookie */
    time_t expires;  /* 0 for none; written as an IMF-fixdate (years 1601..9999) */
    int http_only;   /* non-zero: HttpOnly */
    int secure;      /* non-zero: Secure */
    form_same_site same_site;
} form_cookie;

#define FORM_COOKIE_INIT                                                                           \
    {                                                                                              \
        .max_age = -1                                                                              \
    }

/* Append the value of a Set-Cookie header for c to out, without the
 * "Set-Cookie: " prefix and without CRLF:
 *   name=value; Path=/; Domain=example.cn; Max-Age=3600;
 *   Expires=Sun, 06 Nov 1994 08:49:37 GMT; Secure; HttpOnly; SameSite=Lax
 * (attributes in that order, each only when set). Validates everything
 * first; returns PH_EINVAL, with out unchanged, when the name is empty or not
 * a token, the value holds a byte that is not a cookie-octet (CTLs, space,
 * '"', ',', ';', '\', non-ASCII: encode such values before, e.g. by percent-
 * encoding), path or domain is empty or holds ';', a CTL or non-ASCII,
 * max_age is below -1, expires is outside years 1601..9999, same_site is not
 * one of the enum, SameSite=None comes without secure, or the name has the
 * prefix "__Secure-" without secure, or "__Host-" without secure, with a
 * domain, or with a path other than "/" (browsers drop such cookies silently;
 * we prefer an error the plugin author sees). Returns 0, PH_EINVAL or
 * PH_ENOMEM. */
int form_set_cookie(ph_buf *out, const form_cookie *c, const char **why);

/* ------------------------------------------------------------------ */
/* multipart/form-data (RFC 7578 on RFC 2046)                           */
/* ------------------------------------------------------------------ */

/* Find the boundary parameter of a Content-Type header value whose media type
 * is multipart/form-data (type and parameter names compared without case):
 *   multipart/form-data; boundary=----WebKitFormBoundaryX1
 *   multipart/form-data; charset=utf-8; boundary="a b:c"
 * On success *b points into content_type (zero copy, not NUL-terminated) and
 * *blen is 1..70. Returns PH_EINVAL when the media type is another one, the
 * boundary is missing, given twice, empty, longer than 70 bytes, holds a byte
 * outside RFC 2046's bchars or ends with a space, or a parameter is
 * malformed (an unterminated quote, a name without '='). */
int form_multipart_boundary(const char *content_type, size_t n, const char **b, size_t *blen,
                            const char **why);

/* Limits for form_multipart_parse(), each checked exactly: a value equal to
 * the limit passes, one more returns PH_ELIMIT. 0 allows none, SIZE_MAX means
 * no limit; a zeroed struct therefore accepts only an empty form. */
typedef struct {
    size_t max_parts;        /* parts in the body */
    size_t max_header_bytes; /* per part: its header lines with their CRLFs, not
                                counting the empty line that ends them */
    size_t max_field_bytes;  /* data bytes of a part without a filename */
    size_t max_file_bytes;   /* data bytes of a part with a filename */
} form_multipart_limits;

/* One part, handed to form_part_cb. Valid only during the call: copy what
 * you keep (or keep the body alive and the data pointer with it). */
typedef struct {
    size_t index; /* 0 for the first part */
    /* The Content-Disposition name, quoted-string escapes resolved; in scratch
     * memory, NUL-terminated, no NUL inside. May be empty. */
    const char *name;
    size_t name_len;
    /* NULL when the part is a plain field. Otherwise the client's file name:
     * filename*=UTF-8''... percent-decoded when present (it wins), else
     * filename="..." with escapes resolved. NUL-terminated, no NUL inside,
     * bytes as sent (usually UTF-8, not validated). Untrusted: it may hold
     * "/", "\" or "..": never use it as a path. "" when a browser posts a file
     * input with no file chosen. */
    const char *filename;
    size_t filename_len;
    /* The part's Content-Type value, trimmed, pointing into body (not
     * NUL-terminated), or a static default: "text/plain" for a field,
     * "application/octet-stream" for a file. */
    const char *content_type;
    size_t content_type_len;
    /* The part's bytes, pointing into body (zero copy). */
    const char *data;
    size_t data_len;
} form_part;

/* Called once per part, in body order. Return 0 to go on, non-zero to stop. */
typedef int (*form_part_cb)(void *ud, const form_part *part);

/* Parse a complete multipart/form-data body held in memory (the HTTP layer has
 * bounded it by max-body-bytes). boundary is what form_multipart_boundary()
 * found. Follows RFC 2046: the preamble before the first "--boundary" line
 * and the epilogue after the closing "--boundary--" are ignored; a delimiter
 * is CRLF "--" boundary at the start of a line, followed by optional spaces
 * and tabs and CRLF (or by "--" for the closing one); the CRLF before a
 * delimiter belongs to it, not to the data. Bytes that look like the boundary
 * but are not preceded by CRLF "--" are data. A delimiter followed by
 * anything else ("--boundaryX") is refused rather than guessed at, because
 * parsers that guess differently are how filters get bypassed.
 *
 * Each part needs a header "Content-Disposition: form-data; name=..." (the
 * value a quoted-string or a token); filename="...", filename*=UTF-8''...
 * and Content-Type are optional; other headers are ignored. Header names are
 * compared without case. Quoted-strings resolve a backslash only before a
 * separator ('\"' is '"', '\\' is '\'); any other backslash stays, so
 * filename="C:\dir\a.txt" keeps its backslashes (as Go's mime package does).
 * A part with two Content-Disposition or Content-Type headers, or two name or
 * filename parameters, is refused: ambiguity again.
 *
 * Returns 0 (also for a form with no parts: "--boundary--"), or, without
 * calling cb: PH_EINVAL for malformed input (no first boundary, a delimiter
 * line not ended by CRLF, a truncated body without "--boundary--", a header
 * line without ':' or folded, a part without "form-data" or without name, a
 * NUL in a name or filename, filename* not in UTF-8, a boundary not 1..70
 * bytes), PH_ELIMIT when a limit of lim is exceeded, PH_ENOMEM; or cb's
 * non-zero return. */
int form_multipart_parse(const char *body, size_t len, const char *boundary, size_t blen,
                         const form_multipart_limits *lim, form_part_cb cb, void *ud,
                         const char **why);

#endif
