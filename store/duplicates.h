/*
 * duplicates: the candidate pairs of probable duplicates (issue 16;
 * docs/duplicates.md). A create whose best candidate scores at or above the
 * threshold stores a pair; region operators list the open ones and dismiss
 * those that are two children. The scores and the search are the service's
 * (service/duplicates.h); the store keeps the pair documents and lists them.
 *
 * A pair document, the same on both backends:
 *   {_id: <pair id, a uuid derived from the two student ids>,
 *    a: <the new student's id>, b: <the existing one's>, score, agree: [...],
 *    created: <RFC 3339>, state: "open" | "dismissed",
 *    organizations: [<a's ОГРН>, <b's>], municipalities: [<ОКТМО 8>, ...],
 *    source: {request_id | package_id, item}, principal: <subject>,
 *    dismissed?: {subject, role, time, reason}}
 * Open pairs are listed newest first (created, then _id, descending), all of
 * them or those naming one organisation or municipality; a dismissed pair
 * leaves the lists and is kept.
 *
 * SQLite: table dup_pairs (id, created, state, doc) and, for an open pair,
 * rows of dup_pair_keys (field, value, created, id) — ("all", ""),
 * ("organization", ОГРН), ("municipality", ОКТМО) — whose primary key is the
 * lists' order. MongoDB: collection dup_pairs with indexes on
 * (organizations, state, created, _id), (municipalities, …), (state, …).
 */
#ifndef KT_STORE_DUPLICATES_H
#define KT_STORE_DUPLICATES_H

#include <bson/bson.h>
#include <stdbool.h>

#include "core/error.h"
#include "store/store.h"
#include "store/util.h"

#define DUP_PAIRS "dup_pairs"

/* Stores pair (a document as above). replace false: inserts it, and a pair
 * with its _id already there is kept as it is (*written false: the same two
 * students were paired before); replace true: replaces the stored one (a
 * dismissal). */
bool store_dup_pair_put(store_conn_t *conn, const bson_t *pair, bool replace, bool *written,
                        kt_error_t *err);

/* The pair with id into out (initialised by the call when *found). */
bool store_dup_pair_get(store_conn_t *conn, const char *id, bson_t *out, bool *found,
                        kt_error_t *err);

/* Calls fn with each open pair, newest first, up to limit, after the pair
 * (after_created, after_id) in that order (after_created NULL: from the
 * newest): all open pairs (field NULL), or those whose "organization" or
 * "municipality" (field) is value. */
bool store_dup_pairs_list(store_conn_t *conn, const char *field, const char *value,
                          const char *after_created, const char *after_id, int limit,
                          util_each_fn fn, void *ctx, kt_error_t *err);

#endif
