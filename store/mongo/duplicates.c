/*
 * duplicates: the candidate pairs in MongoDB (store/duplicates.h) —
 * collection dup_pairs, one document per pair as the header shows. A new
 * pair is an insert (its _id, derived from the two students, keeps a pair
 * from being stored twice); a dismissal replaces the document by _id.
 */
#include "store/mongo/mongo.h"

#include <string.h>

#include "store/duplicates.h"

bool
mongo_dup_pair_put(store_conn_t *conn, const bson_t *pair, bool replace, bool *written,
                   kt_error_t *err)
{
    const char *id = util_get_str(pair, "_id");
    insert_result_t r;

    *written = false;
    if (replace) {
        *written = mongo_replace_id(conn, DUP_PAIRS, id != NULL ? id : "", pair, err);
        return *written;
    }
    r = mongo_insert(conn, DUP_PAIRS, pair, err);
    *written = r == INSERT_OK;
    return r != INSERT_FAILED;
}

bool
mongo_dup_pair_get(store_conn_t *conn, const char *id, bson_t *out, bool *found, kt_error_t *err)
{
    bson_t doc;
    bool ok;

    *found = false;
    ok = mongo_find_id(conn, DUP_PAIRS, id, &doc, found, err);
    if (ok && *found)
        bson_steal(out, &doc);
    else
        bson_destroy(&doc);
    return ok;
}

/* {created: {$lt: c}} or {created: c, _id: {$lt: id}}: after the cursor in
 * the lists' order (created, _id descending). */
static void
after_filter(bson_t *filter, const char *created, const char *id)
{
    bson_t or, one, lt;

    BSON_APPEND_ARRAY_BEGIN(filter, "$or", & or);
    BSON_APPEND_DOCUMENT_BEGIN(& or, "0", &one);
    BSON_APPEND_DOCUMENT_BEGIN(&one, "created", &lt);
    BSON_APPEND_UTF8(&lt, "$lt", created);
    bson_append_document_end(&one, &lt);
    bson_append_document_end(& or, &one);
    BSON_APPEND_DOCUMENT_BEGIN(& or, "1", &one);
    BSON_APPEND_UTF8(&one, "created", created);
    BSON_APPEND_DOCUMENT_BEGIN(&one, "_id", &lt);
    BSON_APPEND_UTF8(&lt, "$lt", id != NULL ? id : "");
    bson_append_document_end(&one, &lt);
    bson_append_document_end(& or, &one);
    bson_append_array_end(filter, & or);
}

bool
mongo_dup_pairs_list(store_conn_t *conn, const char *field, const char *value,
                     const char *after_created, const char *after_id, int limit, util_each_fn fn,
                     void *ctx, kt_error_t *err)
{
    bson_t filter = BSON_INITIALIZER, opts = BSON_INITIALIZER, sort;
    bool ok;

    /* The array members hold every organisation and municipality of the
     * pair: equality on an array matches any of its elements. */
    if (field != NULL)
        BSON_APPEND_UTF8(&filter,
                         strcmp(field, "organization") == 0 ? "organizations" : "municipalities",
                         value);
    BSON_APPEND_UTF8(&filter, "state", "open");
    if (after_created != NULL)
        after_filter(&filter, after_created, after_id);
    BSON_APPEND_DOCUMENT_BEGIN(&opts, "sort", &sort);
    BSON_APPEND_INT32(&sort, "created", -1);
    BSON_APPEND_INT32(&sort, "_id", -1);
    bson_append_document_end(&opts, &sort);
    BSON_APPEND_INT64(&opts, "limit", limit);
    ok = mongo_each(conn, DUP_PAIRS, &filter, &opts, fn, ctx, err);
    bson_destroy(&filter);
    bson_destroy(&opts);
    return ok;
}
