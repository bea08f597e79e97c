/*
 * gunzip: a gzip request body inflated into one buffer with a hard cap
 * (see http/gunzip.h).
 *
 * The first buffer is the size the gzip trailer claims (ISIZE, the inflated
 * length modulo 2^32) when that is within the limit, so an honest sender
 * costs one allocation of the right size; otherwise a small one. From there
 * the buffer doubles as the data needs it, never past max + 1 bytes: the
 * trailer is only a hint (zlib checks it at the end), and a false one can
 * neither stop the growth nor push it past the limit. A buffer that is full
 * at max + 1 means the data inflates past the limit: 413, without inflating
 * the rest. Pages of a large buffer are touched only as data arrives.
 */
#include "http/gunzip.h"

#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <zlib.h>

#define GUNZIP_FIRST   (64u << 10) /* the first buffer when the trailer's claim is not used */
#define GUNZIP_MIN_LEN 18          /* a gzip member's header and trailer */

/* The size the trailer claims, or 0 when there is no trailer. */
static size_t
gunzip_claimed(const char *in, size_t len)
{
    const unsigned char *t = (const unsigned char *)in + len - 4;

    if (len < GUNZIP_MIN_LEN)
        return 0;
    return (size_t)t[0] | (size_t)t[1] << 8 | (size_t)t[2] << 16 | (size_t)t[3] << 24;
}

static size_t
gunzip_first_size(const char *in, size_t len, size_t cap_max)
{
    size_t claimed = gunzip_claimed(in, len);
    size_t first = claimed > 0 && claimed < cap_max ? claimed + 1 : GUNZIP_FIRST;

    return first < cap_max ? first : cap_max;
}

/* Doubles *buf up to cap_max bytes; false when out of memory. */
static bool
gunzip_grow(char **buf, size_t *cap, size_t cap_max)
{
    size_t next = *cap > cap_max / 2 ? cap_max : *cap * 2;
    char *grown = realloc(*buf, next);

    if (grown == NULL)
        return false;
    *buf = grown;
    *cap = next;
    return true;
}

static bool
gunzip_fail(kt_error_t *err, kt_code_t code, size_t max)
{
    if (code == KT_PAYLOAD_TOO_LARGE)
        kt_error_set(err, KT_DOMAIN_INPUT, code, 413,
                     "the gzip body inflates to more than the limit of %zu bytes", max);
    else if (code == KT_MALFORMED)
        kt_error_set(err, KT_DOMAIN_INPUT, code, 400,
                     "the gzip body is corrupt, truncated, or has bytes after its end");
    else
        kt_error_set(err, KT_DOMAIN_INTERNAL, KT_INTERNAL, 500, "out of memory inflating gzip");
    return false;
}

/* Runs inflate over the whole input into *buf: KT_OK at the end of the one
 * member with nothing after it, else the code of the failure. */
static kt_code_t
gunzip_run(z_stream *z, char **buf, size_t *cap, size_t cap_max, size_t *len)
{
    for (;;) {
        int rc;
        if (*len == *cap) {
            if (*cap == cap_max)
                return KT_PAYLOAD_TOO_LARGE;
            if (!gunzip_grow(buf, cap, cap_max))
                return KT_INTERNAL;
        }
        z->next_out = (Bytef *)*buf + *len;
        z->avail_out = (uInt)(*cap - *len < UINT_MAX ? *cap - *len : UINT_MAX);
        rc = inflate(z, Z_NO_FLUSH);
        *len = (size_t)((char *)z->next_out - *buf);
        if (rc == Z_STREAM_END)
            return z->avail_in == 0 ? KT_OK : KT_MALFORMED; /* refused, not ignored */
        if (rc == Z_MEM_ERROR)
            return KT_INTERNAL;
        if (rc != Z_OK && !(rc == Z_BUF_ERROR && z->avail_out == 0))
            return KT_MALFORMED; /* corrupt, or truncated (no progress with room left) */
    }
}

bool
gunzip_inflate(const char *in, size_t in_len, size_t max, char **out, size_t *out_len,
               kt_error_t *err)
{
    size_t cap_max = max + 1, cap, len = 0;
    z_stream z = {0};
    kt_code_t code;
    char *buf;

    *out = NULL;
    *out_len = 0;
    if (in_len > UINT_MAX || max >= SIZE_MAX)
        return gunzip_fail(err, KT_PAYLOAD_TOO_LARGE, max);
    cap = gunzip_first_size(in, in_len, cap_max);
    buf = malloc(cap);
    if (buf == NULL || inflateInit2(&z, 16 + MAX_WBITS) != Z_OK) {
        free(buf);
        return gunzip_fail(err, KT_INTERNAL, max);
    }
    z.next_in = (Bytef *)in;
    z.avail_in = (uInt)in_len;
    code = gunzip_run(&z, &buf, &cap, cap_max, &len);
    inflateEnd(&z);
    if (code == KT_OK && len > max) /* it ended in the last byte of a full buffer */
        code = KT_PAYLOAD_TOO_LARGE;
    /* Room for the NUL: len ≤ max < cap_max, so one more byte stays in bounds. */
    if (code == KT_OK && len == cap && !gunzip_grow(&buf, &cap, cap_max))
        code = KT_INTERNAL;
    if (code != KT_OK) {
        free(buf);
        return gunzip_fail(err, code, max);
    }
    buf[len] = '\0';
    *out = buf;
    *out_len = len;
    return true;
}
