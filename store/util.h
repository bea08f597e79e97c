/*
 * util: small helpers shared by the store's modules and backends — members
 * of documents, time stamps and ids.
 */
#ifndef KT_STORE_UTIL_H
#define KT_STORE_UTIL_H

#include <bson/bson.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/error.h"
#include "store/store.h"

/* A visitor of documents: false stops the visit. */
typedef bool (*util_each_fn)(void *ctx, const bson_t *doc);

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
