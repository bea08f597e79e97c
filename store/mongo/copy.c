/* copy: the MongoDB side of store/copy.h — a set is its collection. */
#include "store/mongo/mongo.h"

#include <stdio.h>

#define COPY_BATCH 1000

bool
mongo_copy_each(store_conn_t *conn, copy_set_t set, util_each_fn fn, void *ctx, kt_error_t *err)
{
    bson_t filter = BSON_INITIALIZER, opts = BSON_INITIALIZER, sort;
    bool ok;

    BSON_APPEND_DOCUMENT_BEGIN(&opts, "sort", &sort);
    BSON_APPEND_INT32(&sort, "_id", 1);
    bson_append_document_end(&opts, &sort);
    BSON_APPEND_INT32(&opts, "batchSize", COPY_BATCH);
    ok = mongo_each(conn, copy_set_name(set), &filter, &opts, fn, ctx, err);
    bson_destroy(&filter);
    bson_destroy(&opts);
    return ok;
}

bool
mongo_copy_put(store_conn_t *conn, copy_set_t set, const bson_t *doc, bool *inserted,
               kt_error_t *err)
{
    insert_result_t rc = mongo_insert(conn, copy_set_name(set), doc, err);

    *inserted = rc == INSERT_OK;
    return rc != INSERT_FAILED;
}

/* The feed's hint: the highest sequence copied, so that the next writer
 * probes from there (store/mongo/feed.c) rather than from 1. */
static bool
highest_seq(void *ctx, const bson_t *doc)
{
    *(int64_t *)ctx = util_get_int(doc, "seq", 0);
    return false;
}

bool
mongo_copy_finish(store_conn_t *conn, kt_error_t *err)
{
    bson_t filter = BSON_INITIALIZER, opts = BSON_INITIALIZER, sort, hint = BSON_INITIALIZER;
    int64_t seq = 0;
    bool ok;

    BSON_APPEND_DOCUMENT_BEGIN(&opts, "sort", &sort);
    BSON_APPEND_INT32(&sort, "_id", -1);
    bson_append_document_end(&opts, &sort);
    BSON_APPEND_INT64(&opts, "limit", 1);
    ok = mongo_each(conn, "changes", &filter, &opts, highest_seq, &seq, err);
    if (ok && seq > 0) {
        BSON_APPEND_UTF8(&hint, "_id", "changes");
        BSON_APPEND_INT64(&hint, "value", seq);
        ok = mongo_replace_id(conn, "counters", "changes", &hint, err);
    }
    bson_destroy(&filter);
    bson_destroy(&opts);
    bson_destroy(&hint);
    return ok;
}
