/*
 * packages: what the store keeps of XML packages — one registration per
 * sender and PacketID (idempotency), one result per applied item, and the
 * receipt in pages.
 *
 * A package's key is "<sender tag>/<PacketID>" (packages_key): PacketIDs
 * are each sender's own, so a sender can neither take another's PacketIDs
 * nor be answered with another's receipt.
 *
 *   packages         _id key: the PacketID as sent (packet_id), content hash,
 *                    who sent it, status, totals, attempts, and once
 *                    processed the number of receipt pages.
 *   package_items    _id "<key>:<item, 8 digits>": the item's result.
 *                    Inserted once, after the item's write: a package that is
 *                    processed again (a retry, a worker that died) skips the
 *                    items that have a result, so no item is applied twice.
 *   package_receipts _id "<key>:<page, 6 digits>": the receipt's bytes, in
 *                    pages below the store's 16 MB document limit.
 */
#ifndef KT_STORE_PACKAGES_H
#define KT_STORE_PACKAGES_H

#include <bson/bson.h>
#include <stdbool.h>
#include <stdint.h>

#include "auth/principal.h"
#include "core/error.h"
#include "store/store.h"

/* A package's key: 24 hex digits of sender tag, "/", a PacketID of up to 64. */
#define PACKAGES_KEY_MAX 96

/* The receipt page size when the caller gives none (KT_RECEIPT_PAGE_BYTES). */
#define PACKAGES_PAGE_DEFAULT (4u << 20)

/* The key of packet_id sent by who: the tag is the first 24 hex digits of
 * SHA-256("<auth method>\n<subject>"), so it is short and fixed in shape
 * whatever the subject holds. */
void packages_key(const principal_t *who, const char *packet_id, char key[PACKAGES_KEY_MAX]);

typedef enum {
    PACKAGE_NEW = 0,   /* registered now: process it */
    PACKAGE_SAME,      /* seen before with the same content: *existing holds it */
    PACKAGE_UNFINISHED /* seen before, same content, not finished: process (resume) it */
} package_seen_t;

/* Registers packet_id under key (packages_key of who) with the SHA-256 (hex)
 * of its bytes. Another content under the same key is 409 DUPLICATE_PACKET.
 * existing (initialised by the call) receives the stored registration when
 * there is one. */
bool packages_register(store_conn_t *conn, const char *key, const char *packet_id, const char *hash,
                       const principal_t *who, const char *source_system, package_seen_t *seen,
                       bson_t *existing, kt_error_t *err);

/* The result of item index, if it was applied before (found false otherwise). */
bool packages_item_get(store_conn_t *conn, const char *key, int64_t index, bson_t *result,
                       bool *found, kt_error_t *err);

/* Records the result of item index; a result already there wins (returned in
 * *kept_existing so the caller reports that one). */
bool packages_item_put(store_conn_t *conn, const char *key, int64_t index, const bson_t *result,
                       bool *kept_existing, kt_error_t *err);

/* Stores the receipt (len bytes) in pages of at most page_bytes (0: the
 * default), then the final status and totals. */
bool packages_finish(store_conn_t *conn, const char *key, const char *status, const bson_t *totals,
                     const char *receipt, size_t len, size_t page_bytes, kt_error_t *err);

/* Whether the registration pkg holds a finished receipt. */
bool packages_has_receipt(const bson_t *pkg);

/* Calls fn(ctx, bytes, len) with each piece of the stored receipt of the
 * registration pkg, in order (a registration of before the pages holds it
 * whole); false on a store error, a missing page, or when fn returns false. */
typedef bool (*packages_piece_fn)(void *ctx, const char *bytes, size_t len);

bool packages_receipt_each(store_conn_t *conn, const bson_t *pkg, packages_piece_fn fn, void *ctx,
                           kt_error_t *err);

/* The stored receipt of pkg as one malloc'd, NUL-terminated string. */
bool packages_receipt_load(store_conn_t *conn, const bson_t *pkg, char **receipt, size_t *len,
                           kt_error_t *err);

/* Calls fn(ctx, index, result) for each stored item result of key, in item
 * order (a FAILED receipt lists what was applied). */
typedef bool (*packages_item_fn)(void *ctx, int64_t index, const bson_t *result);

bool packages_items_each(store_conn_t *conn, const char *key, packages_item_fn fn, void *ctx,
                         kt_error_t *err);

/* --- the background queue (docs/xml-exchange.md, "Large packages") ---
 * A queued package's bytes are kept in package_chunks (_id "<key>:<n>",
 * 8 MiB each) until it ends. Whoever processes it holds a lease: package_leases
 * _id "<key>:<epoch>" — taking or renewing a lease is inserting the
 * next epoch, so of two workers exactly one wins, and a worker whose lease
 * was taken over notices at its next renewal. */

/* Stores the bytes and marks the registration INQUEUE. */
bool packages_enqueue(store_conn_t *conn, const char *key, const char *data, size_t len,
                      kt_error_t *err);

/* How far a queued package has got, kept in its registration for the
 * INQUEUE receipt: items_received (the package's items; left as it is when
 * received < 0) and items_done (items whose result is stored). Written in
 * the batch of the items it counts, so it is never ahead of them. */
bool packages_progress(store_conn_t *conn, const char *key, int64_t received, int64_t done,
                       kt_error_t *err);

/* The bytes of a queued package (malloc'd into *data). */
bool packages_load(store_conn_t *conn, const char *key, char **data, size_t *len, kt_error_t *err);

/* Deletes a package's stored bytes (when it ends, done or failed) and sets
 * its chunk count to 0; a chunk already gone is no error. */
bool packages_chunks_drop(store_conn_t *conn, const char *key, kt_error_t *err);

/* Keys of the packages waiting (INQUEUE), up to max, in arrival order
 * (received_at, then key). */
bool packages_waiting(store_conn_t *conn, char (*keys)[PACKAGES_KEY_MAX], int max, int *n,
                      kt_error_t *err);

/* Counts one more attempt at key (under its lease) into *attempts, when the
 * package is still waiting (*waiting; false: it ended meanwhile, nothing to do). */
bool packages_attempt(store_conn_t *conn, const char *key, int64_t *attempts, bool *waiting,
                      kt_error_t *err);

/* Takes the lease when nobody holds an unexpired one (*taken), for ttl_ms. */
bool packages_lease_take(store_conn_t *conn, const char *key, const char *owner, int64_t ttl_ms,
                         int64_t *epoch, bool *taken, kt_error_t *err);

/* Renews the lease held at *epoch; *kept false when another took it over. */
bool packages_lease_renew(store_conn_t *conn, const char *key, const char *owner, int64_t ttl_ms,
                          int64_t *epoch, bool *kept, kt_error_t *err);

/* Lets the lease held at epoch go now (its next epoch, already expired), so
 * the next attempt need not wait for it to expire. */
bool packages_lease_release(store_conn_t *conn, const char *key, const char *owner, int64_t epoch,
                            kt_error_t *err);

/* The registration under key (404 NOT_FOUND when unknown). */
bool packages_get(store_conn_t *conn, const char *key, bson_t *out, kt_error_t *err);

/* The registrations of packet_id (of any sender, or of organisation org, or
 * of the sender whose subject is sender; NULL: any), up to two: *n tells how
 * many were found (2: several), out (initialised) holds the first. */
bool packages_find(store_conn_t *conn, const char *packet_id, const char *org, const char *sender,
                   bson_t *out, int *n, kt_error_t *err);

#endif
