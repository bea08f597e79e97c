/*
 * test_gunzip: gzip bodies inflate with a cap; the buffer never grows past
 * the limit whatever the body's size or its trailer's claim; too much data
 * is 413, a corrupt stream or bytes after the gzip member are 400.
 */
#include <malloc.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "http/gunzip.h"
#include "tests/unit/check.h"

/* data as one gzip member, into a malloc'd buffer of *len bytes. */
static char *
gzip_of(const char *data, size_t n, size_t *len)
{
    z_stream z = {0};
    size_t cap = n + n / 100 + 1024;
    char *out = malloc(cap);

    *len = 0;
    if (out == NULL || deflateInit2(&z, 9, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY))
        return out;
    z.next_in = (Bytef *)data;
    z.avail_in = (uInt)n;
    z.next_out = (Bytef *)out;
    z.avail_out = (uInt)cap;
    deflate(&z, Z_FINISH);
    *len = cap - z.avail_out;
    deflateEnd(&z);
    return out;
}

/* n bytes that do not compress (a fixed xorshift sequence). */
static char *
noise(size_t n)
{
    char *out = malloc(n);
    uint32_t x = 2463534242u;

    for (size_t i = 0; out != NULL && i < n; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        out[i] = (char)(x & 0xff);
    }
    return out;
}

static void
check_fails(const char *in, size_t len, size_t max, kt_code_t code, int status)
{
    char *out = (char *)1;
    size_t out_len = 1;
    kt_error_t err;

    CHECK(!gunzip_inflate(in, len, max, &out, &out_len, &err));
    CHECK(out == NULL);
    CHECK_INT(out_len, 0);
    CHECK_INT(err.code, code);
    CHECK_INT(err.status, status);
}

static void
test_round_trip(void)
{
    static const char text[] = "<Packet xmlns=\"urn:kontingent:exchange:1\">Привет</Packet>";
    size_t len, out_len = 0;
    char *gz = gzip_of(text, sizeof text - 1, &len), *out = NULL;
    kt_error_t err;

    CHECK(gunzip_inflate(gz, len, 1024, &out, &out_len, &err));
    CHECK_INT(out_len, sizeof text - 1);
    CHECK(out != NULL && memcmp(out, text, sizeof text - 1) == 0 && out[out_len] == '\0');
    free(out);
    /* Exactly at the limit is allowed; one byte less is not. */
    CHECK(gunzip_inflate(gz, len, sizeof text - 1, &out, &out_len, &err));
    free(out);
    check_fails(gz, len, sizeof text - 2, KT_PAYLOAD_TOO_LARGE, 413);
    free(gz);
}

/* The buffer is sized by the limit, not by the body: 64 KiB of noise
 * deflates to about 64 KiB, and with a limit of 80 KiB the buffer stays
 * within it (it was four times the body: 256 KiB). */
static void
test_buffer_within_limit(void)
{
    size_t n = 64 << 10, max = 80 << 10, len, out_len = 0;
    char *data = noise(n), *gz = gzip_of(data, n, &len), *out = NULL;
    kt_error_t err;

    CHECK(len > n / 2);
    CHECK(gunzip_inflate(gz, len, max, &out, &out_len, &err));
    CHECK_INT(out_len, n);
    CHECK(out != NULL && memcmp(out, data, n) == 0);
    if (out != NULL && malloc_usable_size(out) > max + 1 + 4096) {
        fprintf(stderr, "buffer of %zu bytes for a limit of %zu\n", malloc_usable_size(out), max);
        check_failures_in_test++;
    }
    free(out);
    free(gz);
    free(data);
}

/* A trailer that claims a small size does not stop the buffer growing to
 * the data, nor one that claims a huge size make it larger than the limit. */
static void
test_trailer_is_only_a_hint(void)
{
    size_t n = 300 << 10, len, out_len = 0;
    char *data = noise(n), *gz = gzip_of(data, n, &len), *out = NULL;
    kt_error_t err;

    CHECK(gunzip_inflate(gz, len, n, &out, &out_len, &err));
    CHECK_INT(out_len, n);
    free(out);
    memcpy(gz + len - 4, "\x10\x00\x00\x00", 4); /* claims 16 bytes: the length check fails */
    check_fails(gz, len, n, KT_MALFORMED, 400);
    memcpy(gz + len - 4, "\xff\xff\xff\xff", 4); /* claims 4 GiB */
    check_fails(gz, len, n, KT_MALFORMED, 400);
    free(gz);
    free(data);
}

/* A bomb: 64 MiB of zeros in about 64 KiB. */
static void
test_bomb_is_413(void)
{
    size_t n = 64 << 20, len;
    char *zeros = calloc(1, n), *gz = gzip_of(zeros, n, &len);

    free(zeros);
    CHECK(len < n / 100);
    check_fails(gz, len, 1 << 20, KT_PAYLOAD_TOO_LARGE, 413);
    free(gz);
}

/* Bytes after the first member are refused, not ignored: a second member,
 * or anything else. */
static void
test_trailing_data_is_400(void)
{
    static const char one[] = "<Packet/>", two[] = "<Other/>";
    size_t l1, l2;
    char *g1 = gzip_of(one, sizeof one - 1, &l1), *g2 = gzip_of(two, sizeof two - 1, &l2);
    char *both = malloc(l1 + l2);

    memcpy(both, g1, l1);
    memcpy(both + l1, g2, l2);
    check_fails(both, l1 + l2, 1024, KT_MALFORMED, 400);
    memcpy(both + l1, "junk", 4);
    check_fails(both, l1 + 4, 1024, KT_MALFORMED, 400);
    check_fails(both, l1 + 1, 1024, KT_MALFORMED, 400);
    free(both);
    free(g1);
    free(g2);
}

static void
test_corrupt_is_400(void)
{
    static const char text[] = "<Packet/>";
    size_t len;
    char *gz = gzip_of(text, sizeof text - 1, &len);

    check_fails("", 0, 1024, KT_MALFORMED, 400);
    check_fails("not gzip at all", 15, 1024, KT_MALFORMED, 400);
    check_fails(gz, len - 3, 1024, KT_MALFORMED, 400); /* truncated */
    gz[len / 2] ^= 0x55;
    check_fails(gz, len, 1024, KT_MALFORMED, 400);
    free(gz);
}

int
main(void)
{
    CHECK_RUN(test_round_trip);
    CHECK_RUN(test_buffer_within_limit);
    CHECK_RUN(test_trailer_is_only_a_hint);
    CHECK_RUN(test_bomb_is_413);
    CHECK_RUN(test_trailing_data_is_400);
    CHECK_RUN(test_corrupt_is_400);
    CHECK_MAIN_END();
}
