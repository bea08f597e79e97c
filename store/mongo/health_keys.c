/* health_keys: the wrapped data keys (see store/health_keys.h). */
#include "store/mongo/mongo.h"

#include <stdio.h>
#include <string.h>

bool
mongo_health_keys_insert(store_conn_t *conn, const char *dkid, const bson_t *wraps, kt_error_t *err)
{
    bson_t doc = BSON_INITIALIZER;
    char time[32];
    insert_result_t r;

    util_time_now(time);
    BSON_APPEND_UTF8(&doc, "_id", dkid);
    BSON_APPEND_UTF8(&doc, "time", time);
    BSON_APPEND_DOCUMENT(&doc, "wraps", wraps);
    r = mongo_insert(conn, HEALTH_KEYS, &doc, err);
    bson_destroy(&doc);
    if (r == INSERT_DUPLICATE) /* 128 random bits met twice: never, but not silently */
        kt_error_set(err, KT_DOMAIN_STORE, KT_INTERNAL, "data key id %s exists", dkid);
    return r == INSERT_OK;
}

/* Copies the "wraps" sub-document of doc into wraps, which is initialised
 * only when this returns true (the view borrows doc's bytes; wraps gets its
 * own, so doc can be destroyed). */
static bool
wraps_of(const bson_t *doc, bson_t *wraps)
{
    bson_iter_t it;
    const uint8_t *data;
    uint32_t len;
    bson_t view;

    if (!bson_iter_init_find(&it, doc, "wraps") || !BSON_ITER_HOLDS_DOCUMENT(&it))
        return false;
    bson_iter_document(&it, &len, &data);
    if (!bson_init_static(&view, data, len))
        return false;
    bson_copy_to(&view, wraps);
    return true;
}

bool
mongo_health_keys_get(store_conn_t *conn, const char *dkid, bson_t *wraps, bool *found,
                      kt_error_t *err)
{
    bson_t doc;

    *found = false;
    if (!mongo_find_id(conn, HEALTH_KEYS, dkid, &doc, found, err))
        return false;
    if (*found) {
        *found = wraps_of(&doc, wraps); /* *found now says whether wraps needs destroying */
        bson_destroy(&doc);
    }
    return true;
}

bool
mongo_health_keys_put_wraps(store_conn_t *conn, const char *dkid, const bson_t *wraps,
                            kt_error_t *err)
{
    bson_t old, doc = BSON_INITIALIZER;
    bool found = false, ok;
    char time[32];
    const char *t;

    if (!mongo_find_id(conn, HEALTH_KEYS, dkid, &old, &found, err))
        return false;
    util_time_now(time);
    t = found ? util_get_str(&old, "time") : NULL;
    BSON_APPEND_UTF8(&doc, "_id", dkid);
    BSON_APPEND_UTF8(&doc, "time", t != NULL ? t : time);
    BSON_APPEND_DOCUMENT(&doc, "wraps", wraps);
    ok = mongo_replace_id(conn, HEALTH_KEYS, dkid, &doc, err);
    bson_destroy(&doc);
    if (found)
        bson_destroy(&old);
    return ok;
}

bool
mongo_health_keys_each(store_conn_t *conn, const char *lacking_kek, const char *after, int limit,
                       util_each_fn fn, void *ctx, kt_error_t *err)
{
    bson_t filter = BSON_INITIALIZER, opts = BSON_INITIALIZER, sub, sort;
    char path[64];
    bool ok;

    if (lacking_kek != NULL) {
        snprintf(path, sizeof path, "wraps.%s", lacking_kek);
        BSON_APPEND_DOCUMENT_BEGIN(&filter, path, &sub);
        BSON_APPEND_BOOL(&sub, "$exists", false);
        bson_append_document_end(&filter, &sub);
    }
    if (after != NULL) {
        BSON_APPEND_DOCUMENT_BEGIN(&filter, "_id", &sub);
        BSON_APPEND_UTF8(&sub, "$gt", after);
        bson_append_document_end(&filter, &sub);
    }
    BSON_APPEND_DOCUMENT_BEGIN(&opts, "sort", &sort);
    BSON_APPEND_INT32(&sort, "_id", 1);
    bson_append_document_end(&opts, &sort);
    BSON_APPEND_INT64(&opts, "limit", limit);
    ok = mongo_each(conn, HEALTH_KEYS, &filter, &opts, fn, ctx, err);
    bson_destroy(&filter);
    bson_destroy(&opts);
    return ok;
}
