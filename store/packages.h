/*
 * packages: what the store keeps of XML packages — one registration per
 * PacketID (idempotency), and one result per applied item.
 *
 *   packages       _id PacketID: content hash, who sent it, status, totals,
 *                  and the final receipt (XML text) once processed.
 *   package_items  _id "<PacketID>:<item, 8 digits>": the item's result.
 *                  Inserted once, after the item's write: a package that is
 *                  processed again (a retry, a worker that died) skips the
 *                  items that have a result, so no item is applied twice.
 */
#ifndef KT_STORE_PACKAGES_H
#define KT_STORE_PACKAGES_H

#include <bson/bson.h>
#include <mongoc/mongoc.h>
#include <stdbool.h>
#include <stdint.h>

#include "auth/principal.h"
#include "core/error.h"

typedef enum {
    PACKAGE_NEW = 0,   /* registered now: process it */
    PACKAGE_SAME,      /* seen before with the same content: *existing holds it */
    PACKAGE_UNFINISHED /* seen before, same content, not finished: process (resume) it */
} package_seen_t;

/* Registers PacketID with the SHA-256 (hex) of its bytes. Another content under
 * the same PacketID is 409 DUPLICATE_PACKET. existing (initialised by the call)
 * receives the stored registration when there is one. */
bool packages_register(mongoc_client_t *client, const char *db, const char *packet_id,
                       const char *hash, const principal_t *who, const char *source_system,
                       package_seen_t *seen, bson_t *existing, kt_error_t *err);

/* The result of item index, if it was applied before (found false otherwise). */
bool packages_item_get(mongoc_client_t *client, const char *db, const char *packet_id,
                       int64_t index, bson_t *result, bool *found, kt_error_t *err);

/* Records the result of item index; a result already there wins (returned in
 * *kept_existing so the caller reports that one). */
bool packages_item_put(mongoc_client_t *client, const char *db, const char *packet_id,
                       int64_t index, const bson_t *result, bool *kept_existing, kt_error_t *err);

/* Stores the final status, totals and receipt. */
bool packages_finish(mongoc_client_t *client, const char *db, const char *packet_id,
                     const char *status, const bson_t *totals, const char *receipt,
                     kt_error_t *err);

/* --- the background queue (docs/xml-exchange.md, "Large packages") ---
 * A queued package's bytes are kept in package_chunks (_id "<PacketID>:<n>",
 * 8 MiB each). Whoever processes it holds a lease: package_leases
 * _id "<PacketID>:<epoch>" — taking or renewing a lease is inserting the
 * next epoch, so of two workers exactly one wins, and a worker whose lease
 * was taken over notices at its next renewal. */

/* Stores the bytes and marks the registration INQUEUE. */
bool packages_enqueue(mongoc_client_t *client, const char *db, const char *packet_id,
                      const char *data, size_t len, kt_error_t *err);

/* The bytes of a queued package (malloc'd into *data). */
bool packages_load(mongoc_client_t *client, const char *db, const char *packet_id, char **data,
                   size_t *len, kt_error_t *err);

/* PacketIDs waiting (INQUEUE), up to max. */
bool packages_waiting(mongoc_client_t *client, const char *db, char (*ids)[72], int max, int *n,
                      kt_error_t *err);

/* Takes the lease when nobody holds an unexpired one (*taken), for ttl_ms. */
bool packages_lease_take(mongoc_client_t *client, const char *db, const char *packet_id,
                         const char *owner, int64_t ttl_ms, int64_t *epoch, bool *taken,
                         kt_error_t *err);

/* Renews the lease held at *epoch; *kept false when another took it over. */
bool packages_lease_renew(mongoc_client_t *client, const char *db, const char *packet_id,
                          const char *owner, int64_t ttl_ms, int64_t *epoch, bool *kept,
                          kt_error_t *err);

/* The registration of PacketID (404 NOT_FOUND when unknown). */
bool packages_get(mongoc_client_t *client, const char *db, const char *packet_id, bson_t *out,
                  kt_error_t *err);

#endif
