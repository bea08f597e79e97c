/*
 * health_keys: the wrapped data keys of sealed health blocks
 * (model/seal.h; docs/health.md, "Keys").
 *
 * Collection health_keys, _id = the data key's id (32 hex digits, random):
 *   {_id, time, wraps: {<KEK id>: {nonce, ct, tag}, ...}}
 * A write inserts a new document before the version that names it (so a
 * version never names a key that is not there; a failed write leaves an
 * unused key behind, which nothing reads). Only key rotation updates a
 * document — adding the wrap under the new KEK, read and replaced by _id —
 * so no write path ever races with it. The store never sees a KEK or an
 * unwrapped data key.
 */
#ifndef KT_STORE_HEALTH_KEYS_H
#define KT_STORE_HEALTH_KEYS_H

#include <bson/bson.h>
#include <stdbool.h>

#include "core/error.h"
#include "store/store.h"
#include "store/util.h"

#define HEALTH_KEYS "health_keys"

/* Inserts {_id: dkid, time, wraps}. */
bool health_keys_insert(store_conn_t *conn, const char *dkid, const bson_t *wraps, kt_error_t *err);

/* The wraps of dkid into wraps (initialised by the call when *found). */
bool health_keys_get(store_conn_t *conn, const char *dkid, bson_t *wraps, bool *found,
                     kt_error_t *err);

/* Replaces the wraps of dkid (keeping its time). */
bool health_keys_put_wraps(store_conn_t *conn, const char *dkid, const bson_t *wraps,
                           kt_error_t *err);

/* Calls fn with each key document (ascending _id, after `after` when not
 * NULL) that has no wrap under kek (NULL: every document), up to limit. */
bool health_keys_each(store_conn_t *conn, const char *lacking_kek, const char *after, int limit,
                      util_each_fn fn, void *ctx, kt_error_t *err);

#endif
