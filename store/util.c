/* util: the small store helpers. */
#include "store/util.h"

#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "store/store.h"

insert_result_t
util_insert(mongoc_client_t *client, const char *db, const char *coll, const bson_t *doc,
            kt_error_t *err)
{
    mongoc_collection_t *c = mongoc_client_get_collection(client, db, coll);
    bson_error_t error;
    insert_result_t rc = INSERT_OK;

    if (!mongoc_collection_insert_one(c, doc, NULL, NULL, &error)) {
        if (error.code == 11000) {
            rc = INSERT_DUPLICATE;
        } else {
            store_error(err, &error, coll);
            rc = INSERT_FAILED;
        }
    }
    mongoc_collection_destroy(c);
    return rc;
}

bool
util_find_id(mongoc_client_t *client, const char *db, const char *coll, const char *id, bson_t *out,
             bool *found, kt_error_t *err)
{
    mongoc_collection_t *c = mongoc_client_get_collection(client, db, coll);
    bson_t filter = BSON_INITIALIZER, opts = BSON_INITIALIZER;
    const bson_t *doc;
    bson_error_t error;
    bool ok = true;

    *found = false;
    bson_init(out); /* first, so that the caller destroys out on every path */
    BSON_APPEND_UTF8(&filter, "_id", id);
    BSON_APPEND_INT64(&opts, "limit", 1);
    mongoc_cursor_t *cur = mongoc_collection_find_with_opts(c, &filter, &opts, NULL);
    if (mongoc_cursor_next(cur, &doc)) {
        /* doc belongs to the cursor and dies with it: copy. bson_copy_to
         * initialises out, so the empty one is destroyed first. */
        bson_destroy(out);
        bson_copy_to(doc, out);
        *found = true;
    }
    if (mongoc_cursor_error(cur, &error)) {
        store_error(err, &error, coll);
        ok = false;
    }
    mongoc_cursor_destroy(cur);
    bson_destroy(&filter);
    bson_destroy(&opts);
    mongoc_collection_destroy(c);
    return ok;
}

bool
util_each(mongoc_client_t *client, const char *db, const char *coll, const bson_t *filter,
          const bson_t *opts, util_each_fn fn, void *ctx, kt_error_t *err)
{
    mongoc_collection_t *c = mongoc_client_get_collection(client, db, coll);
    mongoc_cursor_t *cur = mongoc_collection_find_with_opts(c, filter, opts, NULL);
    const bson_t *doc;
    bson_error_t error;
    bool ok = true;

    /* doc belongs to the cursor, valid until the next call: fn copies what
     * it keeps. */
    while (mongoc_cursor_next(cur, &doc) && fn(ctx, doc))
        ;
    if (mongoc_cursor_error(cur, &error)) {
        store_error(err, &error, coll);
        ok = false;
    }
    mongoc_cursor_destroy(cur);
    mongoc_collection_destroy(c);
    return ok;
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

bool
util_replace_id(mongoc_client_t *client, const char *db, const char *coll, const char *id,
                const bson_t *doc, kt_error_t *err)
{
    mongoc_collection_t *c = mongoc_client_get_collection(client, db, coll);
    bson_t filter = BSON_INITIALIZER, opts = BSON_INITIALIZER;
    bson_error_t error;
    bool ok;

    BSON_APPEND_UTF8(&filter, "_id", id);
    BSON_APPEND_BOOL(&opts, "upsert", true);
    ok = mongoc_collection_replace_one(c, &filter, doc, &opts, NULL, &error);
    /* Two upserts of a missing head may race; the loser's head is a hint anyway. */
    if (!ok && error.code == 11000)
        ok = true;
    else if (!ok)
        store_error(err, &error, coll);
    bson_destroy(&filter);
    bson_destroy(&opts);
    mongoc_collection_destroy(c);
    return ok;
}

bool
util_delete_id(mongoc_client_t *client, const char *db, const char *coll, const char *id,
               kt_error_t *err)
{
    mongoc_collection_t *c = mongoc_client_get_collection(client, db, coll);
    bson_t filter = BSON_INITIALIZER;
    bson_error_t error;
    bool ok;

    BSON_APPEND_UTF8(&filter, "_id", id);
    ok = mongoc_collection_delete_one(c, &filter, NULL, NULL, &error);
    if (!ok)
        store_error(err, &error, coll);
    bson_destroy(&filter);
    mongoc_collection_destroy(c);
    return ok;
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
