/*
 * ingest: applies an XML package item by item through the same write path
 * as the JSON API (model validation, store_student_write), and builds the
 * receipt. Used by POST /api/v1/packages and by `kontingentctl import`.
 *
 * Idempotency (docs/xml-exchange.md): the package is registered under its
 * PacketID with the hash of its bytes; the same bytes again return the
 * stored receipt, other bytes are 409 DUPLICATE_PACKET. Each item's result
 * is stored once after its write; a package processed again skips items
 * with a result, so no item is ever applied twice.
 */
#ifndef KT_SERVICE_INGEST_H
#define KT_SERVICE_INGEST_H

#include <bson/bson.h>
#include <stdbool.h>
#include <stddef.h>

#include "auth/principal.h"
#include "core/error.h"
#include "store/store.h"
#include "model/seal.h"
#include "model/xmlio.h"

/* Called after each item; returning false stops the run (a lost lease). */
typedef bool (*ingest_progress_fn)(void *arg, size_t items_done);

typedef struct {
    store_conn_t *conn;
    const xmlio_schema_t *schema;
    const principal_t *principal;
    ingest_progress_fn progress; /* nullable */
    void *progress_arg;
    size_t queue_above; /* more items than this are queued for the background (0: never) */
    const seal_keyring_t *health_ring; /* health keys (NULL: Health items fail KEY_UNAVAILABLE) */
    size_t receipt_page; /* bytes of one stored receipt page (0: PACKAGES_PAGE_DEFAULT) */
} ingest_ctx_t;

typedef struct {
    long received, created, updated, unchanged, deleted, rejected;
} ingest_totals_t;

/*
 * Processes len bytes of XML. On success *receipt is the receipt XML
 * (malloc'd, the caller frees it), *totals its counts. A package that is not
 * well-formed or whose envelope breaks the XSD fails whole (false, err
 * MALFORMED / XSD / PAYLOAD_TOO_LARGE); so does a PacketID seen with other
 * content (DUPLICATE_PACKET) and a store failure.
 */
/* The PacketID of the package just handled is copied to packet_id when one
 * was read (size INGEST_ID_MAX), "" otherwise. */
#define INGEST_ID_MAX 72

bool ingest_package(const ingest_ctx_t *ctx, const char *data, size_t len, char **receipt,
                    size_t *receipt_len, ingest_totals_t *totals, bool *queued,
                    char packet_id[INGEST_ID_MAX], kt_error_t *err);

/* How far a waiting package has got: its items, and those done. */
typedef struct {
    int64_t received;
    int64_t done;
} ingest_progress_t;

/* The receipt of a package still waiting for (or in) the background: Status
 * INQUEUE, <Progress> (when progress is not NULL), no items. malloc'd; NULL
 * when out of memory. */
char *ingest_inqueue_receipt(const char *packet_id, const ingest_progress_t *progress, size_t *len);

/* Processes a queued package (its bytes from the store; key: its store key,
 * store/packages.h) to its receipt, skipping the items applied by an
 * earlier, interrupted run. */
bool ingest_resume(const ingest_ctx_t *ctx, const char *key, ingest_totals_t *totals,
                   kt_error_t *err);

/* Gives a queued package up after attempts attempts, the last of which
 * ended with last: its receipt is stored with Status FAILED, an Error with
 * last's code (and our own Russian text), and the items applied so far. */
bool ingest_fail(const ingest_ctx_t *ctx, const char *key, int attempts, const kt_error_t *last,
                 ingest_totals_t *totals, kt_error_t *err);

#endif
