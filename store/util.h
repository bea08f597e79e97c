/*
 * util: small helpers shared by the store modules — collections by name,
 * _id lookups and inserts that tell "duplicate key" apart from failure,
 * time stamps and ids.
 */
#ifndef KT_STORE_UTIL_H
#define KT_STORE_UTIL_H

#include <bson/bson.h>
#include <mongoc/mongoc.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/error.h"

typedef enum { INSERT_OK = 0, INSERT_DUPLICATE, INSERT_FAILED } insert_result_t;

/* Inserts doc; a duplicate _id is INSERT_DUPLICATE (not an error in err). */
insert_result_t util_insert(mongoc_client_t *client, const char *db, const char *coll,
                            const bson_t *doc, kt_error_t *err);

/* Finds {_id: id}; *found tells whether it exists; out (initialised by the
 * call) receives a copy when found. */
bool util_find_id(mongoc_client_t *client, const char *db, const char *coll, const char *id,
                  bson_t *out, bool *found, kt_error_t *err);

/* Calls fn(ctx, doc) for each document matching filter (opts: sort,
 * projection, limit…) until fn returns false; a cursor error fails it. */
typedef bool (*util_each_fn)(void *ctx, const bson_t *doc);

bool util_each(mongoc_client_t *client, const char *db, const char *coll, const bson_t *filter,
               const bson_t *opts, util_each_fn fn, void *ctx, kt_error_t *err);

/* A util_each_fn that copies the string member key of each document into
 * out[n * width] (strings that do not fit are skipped) until max are taken. */
typedef struct {
    const char *key;
    char *out;
    size_t width;
    int max;
    int n;
} util_strings_t;

bool util_collect_string(void *ctx, const bson_t *doc);

/* Replaces (or inserts) the document with _id id. */
bool util_replace_id(mongoc_client_t *client, const char *db, const char *coll, const char *id,
                     const bson_t *doc, kt_error_t *err);

/* Deletes {_id: id}; a missing document is not an error. */
bool util_delete_id(mongoc_client_t *client, const char *db, const char *coll, const char *id,
                    kt_error_t *err);

/* RFC 3339 UTC with milliseconds, "2026-11-29T04:31:17.123Z" (out ≥ 25). */
void util_time_now(char out[32]);

/* A random (version 4) UUID, lowercase (out ≥ 37). */
void util_uuid(char out[37]);

/* True when s is a lowercase 8-4-4-4-12 UUID. */
bool util_is_uuid(const char *s);

/* String member of doc, or NULL; int64 member (int32 accepted), or fallback. */
const char *util_get_str(const bson_t *doc, const char *dotted);
int64_t util_get_int(const bson_t *doc, const char *dotted, int64_t fallback);

#endif
