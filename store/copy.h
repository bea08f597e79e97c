/*
 * copy: moving a registry between the two implementations of the store
 * (kontingentctl migrate; docs/storage.md, "Moving between them").
 *
 * A registry is copied set by set, each document in one shape whatever the
 * backend — the MongoDB implementation's documents (docs/storage.md,
 * "Collections"): a version record as hashed, a feed entry, an access-log
 * entry, a package registration, an item result, a receipt page, a wrapped
 * health key. Versions are copied as stored, so the hash chains are the
 * source's; heads and claims are not copied but rebuilt in the target from
 * the versions (verify_repair_all). Copying is idempotent: a document whose
 * key the target holds already is left as it is, so an interrupted copy is
 * resumed by running it again.
 */
#ifndef KT_STORE_COPY_H
#define KT_STORE_COPY_H

#include <bson/bson.h>
#include <stdbool.h>

#include "core/error.h"
#include "store/store.h"
#include "store/util.h"

typedef enum {
    COPY_STUDENT_VERSIONS = 0,
    COPY_ORGANIZATION_VERSIONS,
    COPY_CHANGES, /* after the versions: an entry is kept only with its version */
    COPY_ACCESS_LOG,
    COPY_HEALTH_KEYS,
    COPY_PACKAGES,
    COPY_PACKAGE_ITEMS,
    COPY_PACKAGE_RECEIPTS,
    COPY_PACKAGE_CHUNKS,    /* the bytes of packages still queued */
    COPY_DUP_PAIRS,         /* pairs of probable duplicates (store/duplicates.h) */
    COPY_PROGRESS_VERSIONS, /* current progress (store/progress.h) */
    COPY__MAX
} copy_set_t;

/* The set's name: its MongoDB collection ("student_versions", ...). */
const char *copy_set_name(copy_set_t set);

/* Calls fn with every document of set, in key order, until fn returns false. */
bool store_copy_each(store_conn_t *conn, copy_set_t set, util_each_fn fn, void *ctx,
                     kt_error_t *err);

/* Inserts one document of set; one whose key is there already is kept
 * (*inserted false). A feed entry whose version is not in the target (a
 * void reservation of the MongoDB protocol) is skipped the same way. */
bool store_copy_put(store_conn_t *conn, copy_set_t set, const bson_t *doc, bool *inserted,
                    kt_error_t *err);

/* After the last set: what the target needs beyond the documents for its
 * writers to go on (MongoDB: the feed's sequence hint). */
bool store_copy_finish(store_conn_t *conn, kt_error_t *err);

#endif
