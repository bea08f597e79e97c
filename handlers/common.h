/*
 * common: what several handlers need from a request — a store client for
 * the request's length, list limits, If-Match, the reason of a write, the
 * JSON body, and the role checks shared by resources.
 */
#ifndef KT_HANDLERS_COMMON_H
#define KT_HANDLERS_COMMON_H

#include <mongoc/mongoc.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/json.h"
#include "http/router.h"

#define LIST_LIMIT_DEFAULT 50
#define LIST_LIMIT_MAX     500
#define REASON_MAX         500 /* characters */

/* A pooled client, given back to the pool when the request's arena resets. */
store_conn_t *handler_conn(const app_t *app, request_t *req);

/* ?limit= in 1..LIST_LIMIT_MAX (default LIST_LIMIT_DEFAULT); 400 otherwise. */
bool handler_limit(const request_t *req, int *out, kt_error_t *err);

/* If-Match: "N" (or "N.<epoch>" after a restore: docs/api.md, "Versions")
 * → N; absent → 0; anything else 400; a tag of another feed epoch 412
 * FEED_EPOCH_CHANGED. */
bool handler_if_match(const app_t *app, const request_t *req, int64_t *out, kt_error_t *err);

/* ?reason= or X-Reason (percent-encoded UTF-8); NULL when absent. */
bool handler_reason(request_t *req, const char **out, kt_error_t *err);

/* The body as a JSON tree within the limits of a student document. */
bool handler_json_body(request_t *req, json_value_t **out, kt_error_t *err);

/* Sets ETag: "N", or "N.<epoch>" after a restore (none when the epoch
 * cannot be read). */
void handler_etag(const app_t *app, request_t *req, response_t *res, int64_t version);

/* A positive decimal integer (no sign, no leading junk); false otherwise. */
bool handler_parse_int(const char *s, int64_t *out);

/* ?as_of= as an RFC 3339 UTC time, normalised to the stored form
 * "YYYY-MM-DDTHH:MM:SS.mmmZ"; NULL when absent; 400 FORMAT when malformed. */
bool handler_as_of(const request_t *req, const char **out, kt_error_t *err);

/* The query parameter name as an RFC 3339 UTC time, normalised like as_of. */
bool handler_time(const request_t *req, const char *name, const char **out, kt_error_t *err);

/* ?from= and ?to= (each optional, normalised like as_of; from ≤ to): the
 * period [from, to] of the audit queries. */
bool handler_period(const request_t *req, const char **from, const char **to, kt_error_t *err);

/* ?purpose= or X-Purpose (percent-encoded UTF-8, ≤ HEALTH_PURPOSE_MAX
 * characters): required (400 REQUIRED, pointer /purpose) on reads of
 * student data by a principal that may see health. NULL for others. */
bool handler_purpose(request_t *req, const char **out, kt_error_t *err);

#endif
