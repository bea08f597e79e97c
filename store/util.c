/* util: small helpers shared by the store's modules and backends. */
#include "store/util.h"

#include "store/feed.h"

#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

int64_t
feed_now_ms(void)
{
    struct timeval tv;

    gettimeofday(&tv, NULL);
    return (int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

bool
util_collect_string(void *ctx, const bson_t *doc)
{
    util_strings_t *c = ctx;
    const char *v = util_get_str(doc, c->key);

    if (c->n >= c->max)
        return false;
    if (v != NULL && strlen(v) < c->width)
        memcpy(c->out + (size_t)c->n++ * c->width, v, strlen(v) + 1);
    return c->n < c->max;
}

void
util_time_now(char out[32])
{
    struct timeval tv;
    struct tm tm;

    gettimeofday(&tv, NULL);
    gmtime_r(&tv.tv_sec, &tm);
    size_t n = strftime(out, 32, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out + n, 32 - n, ".%03dZ", (int)(tv.tv_usec / 1000));
}

void
util_uuid(char out[37])
{
    static const char hex[] = "0123456789abcdef";
    unsigned char r[16];
    size_t k = 0;

    if (RAND_bytes(r, sizeof r) != 1)
        abort(); /* no randomness: refuse to mint ids that could collide */
    r[6] = (unsigned char)((r[6] & 0x0f) | 0x40);
    r[8] = (unsigned char)((r[8] & 0x3f) | 0x80);
    for (size_t i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            out[k++] = '-';
        out[k++] = hex[r[i] >> 4];
        out[k++] = hex[r[i] & 15];
    }
    out[k] = '\0';
}

bool
util_is_uuid(const char *s)
{
    for (size_t i = 0; i < 36; i++) {
        char c = s[i];
        bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash ? c != '-' : !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
            return false;
    }
    return s[36] == '\0';
}

const char *
util_get_str(const bson_t *doc, const char *dotted)
{
    bson_iter_t it, child;

    if (!bson_iter_init(&it, doc) || !bson_iter_find_descendant(&it, dotted, &child) ||
        !BSON_ITER_HOLDS_UTF8(&child))
        return NULL;
    return bson_iter_utf8(&child, NULL);
}

int64_t
util_get_int(const bson_t *doc, const char *dotted, int64_t fallback)
{
    bson_iter_t it, child;

    if (!bson_iter_init(&it, doc) || !bson_iter_find_descendant(&it, dotted, &child))
        return fallback;
    if (BSON_ITER_HOLDS_INT64(&child) || BSON_ITER_HOLDS_INT32(&child))
        return bson_iter_as_int64(&child);
    return fallback;
}
