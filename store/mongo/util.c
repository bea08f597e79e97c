/* util: single-document operations on MongoDB. */
#include "store/mongo/mongo.h"

#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "store/store.h"

insert_result_t
mongo_insert(store_conn_t *conn, const char *coll, const bson_t *doc, kt_error_t *err)
{
    mongoc_collection_t *c = mongo_collection(conn, coll);
    bson_error_t error;
    insert_result_t rc = INSERT_OK;

    if (!mongoc_collection_insert_one(c, doc, NULL, NULL, &error)) {
        if (error.code == 11000) {
            rc = INSERT_DUPLICATE;
        } else {
            mongo_error(err, &error, coll);
            rc = INSERT_FAILED;
        }
    }
    mongoc_collection_destroy(c);
    return rc;
}

bool
mongo_find_id(store_conn_t *conn, const char *coll, const char *id, bson_t *out, bool *found,
              kt_error_t *err)
{
    mongoc_collection_t *c = mongo_collection(conn, coll);
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
        mongo_error(err, &error, coll);
        ok = false;
    }
    mongoc_cursor_destroy(cur);
    bson_destroy(&filter);
    bson_destroy(&opts);
    mongoc_collection_destroy(c);
    return ok;
}

bool
mongo_each(store_conn_t *conn, const char *coll, const bson_t *filter, const bson_t *opts,
           util_each_fn fn, void *ctx, kt_error_t *err)
{
    return mongo_each_prefs(conn, coll, filter, opts, NULL, fn, ctx, err);
}

bool
mongo_each_prefs(store_conn_t *conn, const char *coll, const bson_t *filter, const bson_t *opts,
                 const mongoc_read_prefs_t *prefs, util_each_fn fn, void *ctx, kt_error_t *err)
{
    mongoc_collection_t *c = mongo_collection(conn, coll);
    mongoc_cursor_t *cur = mongoc_collection_find_with_opts(c, filter, opts, prefs);
    const bson_t *doc;
    bson_error_t error;
    bool ok = true;

    /* doc belongs to the cursor, valid until the next call: fn copies what
     * it keeps. */
    while (mongoc_cursor_next(cur, &doc) && fn(ctx, doc))
        ;
    if (mongoc_cursor_error(cur, &error)) {
        mongo_error(err, &error, coll);
        ok = false;
    }
    mongoc_cursor_destroy(cur);
    mongoc_collection_destroy(c);
    return ok;
}

bool
mongo_replace_id(store_conn_t *conn, const char *coll, const char *id, const bson_t *doc,
                 kt_error_t *err)
{
    mongoc_collection_t *c = mongo_collection(conn, coll);
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
        mongo_error(err, &error, coll);
    bson_destroy(&filter);
    bson_destroy(&opts);
    mongoc_collection_destroy(c);
    return ok;
}

bool
mongo_delete_id(store_conn_t *conn, const char *coll, const char *id, kt_error_t *err)
{
    mongoc_collection_t *c = mongo_collection(conn, coll);
    bson_t filter = BSON_INITIALIZER;
    bson_error_t error;
    bool ok;

    BSON_APPEND_UTF8(&filter, "_id", id);
    ok = mongoc_collection_delete_one(c, &filter, NULL, NULL, &error);
    if (!ok)
        mongo_error(err, &error, coll);
    bson_destroy(&filter);
    mongoc_collection_destroy(c);
    return ok;
}
