/* audit: access-log entries and their queries. */
#include "store/mongo/mongo.h"

#include <stdio.h>
#include <string.h>

#include "model/codec.h"
#include "store/feed.h"
#include "store/store.h"
#include "store/util.h"

#define ACCESS_LOG "access_log"

/* "<13-digit ms>-<uuid>": unique, and sorts by time. */
static void
entry_id(char out[64])
{
    char uuid[37];

    util_uuid(uuid);
    snprintf(out, 64, "%013lld-%s", (long long)feed_now_ms(), uuid);
}

bool
mongo_audit_log_read_fields(store_conn_t *conn, const principal_t *who, const char *request_id,
                            const char *what, const char *const *student_ids, size_t n,
                            const char *const *fields, const char *purpose, kt_error_t *err)
{
    char id[64], time[32], key[24];
    bson_t doc = BSON_INITIALIZER, principal, ids;

    entry_id(id);
    util_time_now(time);
    BSON_APPEND_UTF8(&doc, "_id", id);
    BSON_APPEND_UTF8(&doc, "time", time);
    BSON_APPEND_DOCUMENT_BEGIN(&doc, "principal", &principal);
    BSON_APPEND_UTF8(&principal, "subject", who->subject);
    BSON_APPEND_UTF8(&principal, "role", principal_role_name(who->role));
    if (who->org[0])
        BSON_APPEND_UTF8(&principal, "organization", who->org);
    else
        BSON_APPEND_NULL(&principal, "organization");
    bson_append_document_end(&doc, &principal);
    BSON_APPEND_UTF8(&doc, "subject", who->subject); /* top level: the query key */
    BSON_APPEND_ARRAY_BEGIN(&doc, "students", &ids);
    for (size_t i = 0; i < n; i++) {
        snprintf(key, sizeof key, "%zu", i);
        bson_append_utf8(&ids, key, -1, student_ids[i], -1);
    }
    bson_append_array_end(&doc, &ids);
    BSON_APPEND_UTF8(&doc, "what", what);
    BSON_APPEND_UTF8(&doc, "request_id", request_id);
    if (fields != NULL) {
        bson_t list;
        BSON_APPEND_ARRAY_BEGIN(&doc, "fields", &list);
        for (size_t i = 0; fields[i] != NULL; i++) {
            snprintf(key, sizeof key, "%zu", i);
            bson_append_utf8(&list, key, -1, fields[i], -1);
        }
        bson_append_array_end(&doc, &list);
        if (purpose != NULL)
            BSON_APPEND_UTF8(&doc, "purpose", purpose);
        else
            BSON_APPEND_NULL(&doc, "purpose");
    }
    bool ok = mongo_insert(conn, ACCESS_LOG, &doc, err) == INSERT_OK;
    bson_destroy(&doc);
    return ok;
}

static void
write_entry(jw_t *w, const bson_t *doc)
{
    static const char *const skip[] = {"subject", NULL};
    bson_iter_t it;

    jw_object_begin(w);
    if (bson_iter_init(&it, doc)) {
        while (bson_iter_next(&it)) {
            const char *key = bson_iter_key(&it);
            if (strcmp(key, skip[0]) == 0)
                continue;
            jw_key(w, strcmp(key, "_id") == 0 ? "id" : key);
            codec_value_to_json(w, &it);
        }
    }
    jw_object_end(w);
}

/* {key: {$gte: from, $lte: to}} when either bound is given. */
static void
append_period(bson_t *filter, const char *key, const char *from, const char *to)
{
    bson_t range;

    if (from == NULL && to == NULL)
        return;
    BSON_APPEND_DOCUMENT_BEGIN(filter, key, &range);
    if (from != NULL)
        BSON_APPEND_UTF8(&range, "$gte", from);
    if (to != NULL)
        BSON_APPEND_UTF8(&range, "$lte", to);
    bson_append_document_end(filter, &range);
}

/* {sort: {key: -1}, limit: limit + 1}. */
static void
newest_first(bson_t *opts, const char *key, int limit)
{
    bson_t sort;

    BSON_APPEND_DOCUMENT_BEGIN(opts, "sort", &sort);
    BSON_APPEND_INT32(&sort, key, -1);
    bson_append_document_end(opts, &sort);
    BSON_APPEND_INT64(opts, "limit", limit + 1);
}

bool
mongo_audit_query(store_conn_t *conn, const audit_filter_t *f, const char *cursor, int limit,
                  jw_t *w, kt_error_t *err)
{
    mongoc_collection_t *c = mongo_collection(conn, ACCESS_LOG);
    bson_t filter = BSON_INITIALIZER, opts = BSON_INITIALIZER, range;
    const bson_t *doc;
    bson_error_t error;
    char last[64] = "";
    int n = 0;
    bool ok = true;

    if (f->student != NULL)
        BSON_APPEND_UTF8(&filter, "students", f->student);
    if (f->subject != NULL)
        BSON_APPEND_UTF8(&filter, "subject", f->subject);
    append_period(&filter, "time", f->from, f->to);
    if (cursor != NULL) {
        BSON_APPEND_DOCUMENT_BEGIN(&filter, "_id", &range);
        BSON_APPEND_UTF8(&range, "$lt", cursor);
        bson_append_document_end(&filter, &range);
    }
    newest_first(&opts, "_id", limit);
    mongoc_cursor_t *cur = mongoc_collection_find_with_opts(c, &filter, &opts, NULL);
    jw_object_begin(w);
    jw_key(w, "items");
    jw_array_begin(w);
    while (n < limit && mongoc_cursor_next(cur, &doc)) {
        write_entry(w, doc);
        /* A copy: doc is the cursor's, gone at the next call (the probe for
         * `more` below makes one). */
        snprintf(last, sizeof last, "%s", util_get_str(doc, "_id") ? util_get_str(doc, "_id") : "");
        n++;
    }
    bool more = n == limit && mongoc_cursor_more(cur) && mongoc_cursor_next(cur, &doc);
    if (mongoc_cursor_error(cur, &error)) {
        mongo_error(err, &error, ACCESS_LOG);
        ok = false;
    }
    jw_array_end(w);
    jw_key(w, "next_cursor");
    jw_string(w, more ? last : NULL);
    jw_object_end(w);
    mongoc_cursor_destroy(cur);
    mongoc_collection_destroy(c);
    bson_destroy(&filter);
    bson_destroy(&opts);
    return ok;
}

bool
mongo_audit_changes_each(store_conn_t *conn, const audit_filter_t *f, int64_t before_seq, int limit,
                         util_each_fn fn, void *ctx, kt_error_t *err)
{
    bson_t filter = BSON_INITIALIZER, opts = BSON_INITIALIZER, range;
    bool ok;

    BSON_APPEND_UTF8(&filter, "principal.subject", f->subject);
    append_period(&filter, "time", f->from, f->to);
    if (before_seq > 0) {
        BSON_APPEND_DOCUMENT_BEGIN(&filter, "seq", &range);
        BSON_APPEND_INT64(&range, "$lt", before_seq);
        bson_append_document_end(&filter, &range);
    }
    newest_first(&opts, "seq", limit);
    ok = mongo_each(conn, "student_versions", &filter, &opts, fn, ctx, err);
    bson_destroy(&filter);
    bson_destroy(&opts);
    return ok;
}
