/*
 * healthdata: the health block at the model/handler boundary
 * (docs/health.md). The store only ever holds "health_sealed"; every write
 * path seals the plaintext "health" member before the store sees it, and
 * every read path opens it (for a principal that may see health) or removes
 * it (for everyone else) before any representation — JSON, XML, history,
 * versions, search, export — is built. Used by students, history, search,
 * export, ingest and kontingentctl's key commands.
 */
#ifndef KT_SERVICE_HEALTHDATA_H
#define KT_SERVICE_HEALTHDATA_H

#include <bson/bson.h>
#include <bson/bson.h>
#include <stdbool.h>

#include "auth/principal.h"
#include "core/error.h"
#include "store/store.h"
#include "core/json.h"
#include "core/arena.h"
#include "model/seal.h"
#include "store/records.h"

#define HEALTH_SEALED      "health_sealed"
#define HEALTH_MEMBER      "health"
#define HEALTH_PURPOSE_MAX 200 /* characters of a stated purpose */

typedef struct {
    const seal_keyring_t *ring; /* NULL or empty: KEY_UNAVAILABLE whenever a key is needed */
    store_conn_t *conn;
    const principal_t *who;
} healthdata_t;

/* A body (JSON object) with a "health" member from a principal that may not
 * see health: 403 FORBIDDEN, with the field error /health added in arena
 * (nullable: none). Called before the body is validated, so the answer does
 * not depend on its content. */
bool healthdata_check_body(const principal_t *who, const json_value_t *body, arena_t *arena,
                           kt_error_t *err);

/*
 * The document to store (stored: an initialised, empty bson_t): doc (a
 * validated student, maybe with "health") with "health" replaced by
 * "health_sealed", last. cur is the current version's stored document
 * (NULL for a create). When doc's health equals cur's, cur's sealed block is
 * reused as it is (no new nonce, so an unchanged write stays unchanged).
 * When doc has no health and h->who may not see health, cur's sealed block
 * is kept: a principal cannot be asked to send back what it cannot see.
 */
bool healthdata_seal(const healthdata_t *h, const bson_t *cur, const bson_t *doc, bson_t *stored,
                     kt_error_t *err);

/* Turns a stored document into what h->who may see, in place: the sealed
 * block opened into "health", or removed. *disclosed (nullable) tells
 * whether health is now in doc. */
bool healthdata_view(const healthdata_t *h, bson_t *doc, bool *disclosed, kt_error_t *err);

/* Whether a stored document holds a sealed block. */
bool healthdata_has_sealed(const bson_t *doc);

/*
 * The changes of version s that h->who may see (changes: an initialised,
 * empty bson_t, array-shaped): the stored entries without those under
 * /health_sealed; for a principal that may see health, followed by the
 * health block's own field-level changes, opened from prev (the stored
 * document of version s-1, NULL for none) and s.
 */
bool healthdata_changes(const healthdata_t *h, const record_t *s, const bson_t *prev,
                        bson_t *changes, bool *disclosed, kt_error_t *err);

/* The stored changes of a version record without those under
 * /health_sealed (changes: an initialised, empty bson_t, array-shaped). */
void healthdata_strip_changes(const bson_t *record, bson_t *changes);

/* Whether the stored changes of a version touch the sealed block. */
bool healthdata_changes_touch(const bson_t *record);

/* Key rotation: one pass adding a wrap under the current KEK to every data
 * key lacking one; *done counts them. Idempotent and resumable. */
bool healthdata_rewrap_pass(const healthdata_t *h, long *done, kt_error_t *err);

/* Counts of data keys: total, and per KEK id of the ring how many hold a
 * wrap under it (per[i] for ring->keys[i]); *unknown those with no wrap
 * under any KEK of the ring. */
bool healthdata_key_counts(const healthdata_t *h, long *total, long per[SEAL_KEYS_MAX],
                           long *unknown, kt_error_t *err);

#endif
