/*
 * mongo: the MongoDB implementation of the store contract (store/backend.h),
 * through libmongoc — for a region that outgrows one machine; tested against
 * FerretDB 1.24.2. Private to store/mongo/.
 *
 * Only what both FerretDB 1.24 and MongoDB support is used: no
 * multi-document transactions, no change streams, no atomic update
 * operators for correctness. Writes follow the insert-as-lock protocol of
 * write.c (docs/storage.md, "The MongoDB write protocol").
 */
#ifndef KT_STORE_MONGO_H
#define KT_STORE_MONGO_H

#include <mongoc/mongoc.h>

#include "store/backend.h"
#include "store/util.h"

/* A pooled libmongoc client and the database it works in. */
typedef struct {
    store_conn_t base; /* first: a store_conn_t * is a mongo_conn_t * */
    mongoc_client_t *client;
    const char *db;
} mongo_conn_t;

static inline mongoc_client_t *
mongo_client(const store_conn_t *conn)
{
    return ((const mongo_conn_t *)conn)->client;
}

static inline const char *
mongo_db(const store_conn_t *conn)
{
    return ((const mongo_conn_t *)conn)->db;
}

static inline mongoc_collection_t *
mongo_collection(const store_conn_t *conn, const char *name)
{
    return mongoc_client_get_collection(mongo_client(conn), mongo_db(conn), name);
}

static inline mongoc_database_t *
mongo_database(const store_conn_t *conn)
{
    return mongoc_client_get_database(mongo_client(conn), mongo_db(conn));
}

/* --- errors (store.c) --- */

/* True for a libmongoc error that means "the store cannot serve this now,
 * retry": no connection, a round trip that timed out, a full disk, a
 * read-only or failing file system, a node that is not primary. */
bool mongo_error_unavailable(const bson_error_t *error);

/* Maps a libmongoc error to ours: unavailable → 503 STORE_UNAVAILABLE, the
 * rest → 500 INTERNAL (domain STORE; the message goes to logs only). */
void mongo_error(kt_error_t *err, const bson_error_t *error, const char *what);

/* --- single-document operations (util.c) --- */

typedef enum { INSERT_OK = 0, INSERT_DUPLICATE, INSERT_FAILED } insert_result_t;

/* Inserts doc; a duplicate _id is INSERT_DUPLICATE (not an error in err). */
insert_result_t mongo_insert(store_conn_t *conn, const char *coll, const bson_t *doc,
                             kt_error_t *err);

/* Finds {_id: id}; *found tells whether it exists; out (initialised by the
 * call) receives a copy when found. */
bool mongo_find_id(store_conn_t *conn, const char *coll, const char *id, bson_t *out, bool *found,
                   kt_error_t *err);

/* Calls fn(ctx, doc) for each document matching filter (opts: sort,
 * projection, limit…) until fn returns false; a cursor error fails it. */
bool mongo_each(store_conn_t *conn, const char *coll, const bson_t *filter, const bson_t *opts,
                util_each_fn fn, void *ctx, kt_error_t *err);

/* The same, read with prefs (NULL: the URI's): the report scans read from a
 * secondary when there is one (mongo_scan_prefs()). */
bool mongo_each_prefs(store_conn_t *conn, const char *coll, const bson_t *filter,
                      const bson_t *opts, const mongoc_read_prefs_t *prefs, util_each_fn fn,
                      void *ctx, kt_error_t *err);

/* Replaces (or inserts) the document with _id id. */
bool mongo_replace_id(store_conn_t *conn, const char *coll, const char *id, const bson_t *doc,
                      kt_error_t *err);

/* Deletes {_id: id}; a missing document is not an error. */
bool mongo_delete_id(store_conn_t *conn, const char *coll, const char *id, kt_error_t *err);

/* --- the protocol's own steps --- */

/* The change-feed reservation (feed.c): after this long an entry whose
 * version never appeared is void; a writer whose reservation is older than
 * half of it reserves again. */
#define FEED_LEASE_MS 60000

typedef struct {
    int64_t seq;
    int64_t reserved_ms; /* wall clock, for the lease */
} feed_ticket_t;

/* Reserves the next sequence for (student, version, kind); org is the
 * student's organisation at that version (for per-school feeds), from_org
 * (NULL or "" when the same) its organisation at the version before. */
bool mongo_feed_reserve(store_conn_t *conn, const char *student_id, int64_t version,
                        const char *kind, const char *org, const char *from_org, const char *time,
                        feed_ticket_t *ticket, kt_error_t *err);

/* Loads version n into out; *found false when it does not exist. */
bool mongo_load_version(store_conn_t *conn, const store_kind_t *kind, const char *id, int64_t n,
                        record_t *out, bool *found, kt_error_t *err);

/* Moves the head of s's record to s (a hint: readers roll forward). */
bool mongo_move_head(store_conn_t *conn, const store_kind_t *kind, const record_t *s,
                     kt_error_t *err);

/* Repair: makes sure an active record holds a claim on each key of its
 * current version s. *restored counts the claims inserted, *contested the
 * keys another record's claim binds. */
bool mongo_claims_restore(store_conn_t *conn, const store_kind_t *kind, const record_t *s,
                          long *restored, long *contested, kt_error_t *err);

/* --- the operations (the table in store.c) --- */

bool mongo_prepare(store_conn_t *conn, kt_error_t *err);
bool mongo_record_get(store_conn_t *conn, const store_kind_t *kind, const char *id, record_t *out,
                      kt_error_t *err);
bool mongo_record_get_version(store_conn_t *conn, const store_kind_t *kind, const char *id,
                              int64_t n, record_t *out, kt_error_t *err);
bool mongo_record_as_of(store_conn_t *conn, const store_kind_t *kind, const char *id,
                        const char *as_of, record_t *out, kt_error_t *err);
bool mongo_record_write(store_conn_t *conn, const store_kind_t *kind, write_op_t op, const char *id,
                        int64_t expected_version, const bson_t *doc, const write_meta_t *meta,
                        write_result_t *out, kt_error_t *err);
bool mongo_record_write_pair(store_conn_t *conn, const store_kind_t *kind,
                             const write_side_t sides[2], write_result_t out[2], kt_error_t *err);
bool mongo_record_find_ids(store_conn_t *conn, const store_kind_t *kind, const bson_t *filter,
                           const char *after, int limit, char (*ids)[40], int *n, kt_error_t *err);
bool mongo_claim_holder(store_conn_t *conn, const char *key, char *id, kt_error_t *err);
bool mongo_feed_epoch_get(store_conn_t *conn, char epoch[FEED_EPOCH_MAX], kt_error_t *err);
bool mongo_feed_epoch_set(store_conn_t *conn, const char *epoch, kt_error_t *err);
bool mongo_feed_read(store_conn_t *conn, int64_t since, int limit, const char *org,
                     feed_visit_fn visit, void *ctx, int64_t *next, kt_error_t *err);
bool mongo_audit_log_read_fields(store_conn_t *conn, const principal_t *who, const char *request_id,
                                 const char *what, const char *const *student_ids, size_t n,
                                 const char *const *fields, const char *purpose, kt_error_t *err);
bool mongo_audit_query(store_conn_t *conn, const audit_filter_t *f, const char *cursor, int limit,
                       jw_t *w, kt_error_t *err);
bool mongo_audit_changes_each(store_conn_t *conn, const audit_filter_t *f, int64_t before_seq,
                              int limit, util_each_fn fn, void *ctx, kt_error_t *err);
bool mongo_scan_latest(store_conn_t *conn, const scan_spec_t *spec, strmap_t **out,
                       kt_error_t *err);
bool mongo_scan_page(store_conn_t *conn, const scan_spec_t *spec, const char *field,
                     const char *value, char cursor[64], int limit, char (*ids)[40], int *n,
                     bool *more, kt_error_t *err);
bool mongo_packages_register(store_conn_t *conn, const char *key, const char *packet_id,
                             const char *hash, const principal_t *who, const char *source_system,
                             package_seen_t *seen, bson_t *existing, kt_error_t *err);
bool mongo_packages_item_get(store_conn_t *conn, const char *key, int64_t index, bson_t *result,
                             bool *found, kt_error_t *err);
bool mongo_packages_item_put(store_conn_t *conn, const char *key, int64_t index,
                             const bson_t *result, bool *kept_existing, kt_error_t *err);
bool mongo_packages_finish(store_conn_t *conn, const char *key, const char *status,
                           const bson_t *totals, const char *receipt, size_t len, size_t page_bytes,
                           kt_error_t *err);
bool mongo_packages_receipt_each(store_conn_t *conn, const bson_t *pkg, packages_piece_fn fn,
                                 void *ctx, kt_error_t *err);
bool mongo_packages_items_each(store_conn_t *conn, const char *key, packages_item_fn fn, void *ctx,
                               kt_error_t *err);
bool mongo_packages_enqueue(store_conn_t *conn, const char *key, const char *data, size_t len,
                            kt_error_t *err);
bool mongo_packages_progress(store_conn_t *conn, const char *key, int64_t received, int64_t done,
                             kt_error_t *err);
bool mongo_packages_load(store_conn_t *conn, const char *key, char **data, size_t *len,
                         kt_error_t *err);
bool mongo_packages_chunks_drop(store_conn_t *conn, const char *key, kt_error_t *err);
bool mongo_packages_waiting(store_conn_t *conn, char (*keys)[PACKAGES_KEY_MAX], int max, int *n,
                            kt_error_t *err);
bool mongo_packages_attempt(store_conn_t *conn, const char *key, int64_t *attempts, bool *waiting,
                            kt_error_t *err);
bool mongo_packages_lease_take(store_conn_t *conn, const char *key, const char *owner,
                               int64_t ttl_ms, int64_t *epoch, bool *taken, kt_error_t *err);
bool mongo_packages_lease_renew(store_conn_t *conn, const char *key, const char *owner,
                                int64_t ttl_ms, int64_t *epoch, bool *kept, kt_error_t *err);
bool mongo_packages_lease_release(store_conn_t *conn, const char *key, const char *owner,
                                  int64_t epoch, kt_error_t *err);
bool mongo_packages_get(store_conn_t *conn, const char *key, bson_t *out, kt_error_t *err);
bool mongo_packages_find(store_conn_t *conn, const char *packet_id, const char *org,
                         const char *sender, bson_t *out, int *n, kt_error_t *err);
bool mongo_verify_record(store_conn_t *conn, const store_kind_t *kind, const char *id,
                         long *versions, bool *head_lags, int64_t *bad_version, char *problem,
                         kt_error_t *err);
bool mongo_verify_all(store_conn_t *conn, FILE *out, verify_report_t *r, kt_error_t *err);
bool mongo_verify_last_run(store_conn_t *conn, bson_t *out, bool *found, kt_error_t *err);
bool mongo_verify_repair_all(store_conn_t *conn, FILE *out, verify_report_t *r, kt_error_t *err);
bool mongo_verify_count(store_conn_t *conn, long *records, kt_error_t *err);
bool mongo_health_keys_insert(store_conn_t *conn, const char *dkid, const bson_t *wraps,
                              kt_error_t *err);
bool mongo_health_keys_get(store_conn_t *conn, const char *dkid, bson_t *wraps, bool *found,
                           kt_error_t *err);
bool mongo_health_keys_put_wraps(store_conn_t *conn, const char *dkid, const bson_t *wraps,
                                 kt_error_t *err);
bool mongo_health_keys_each(store_conn_t *conn, const char *lacking_kek, const char *after,
                            int limit, util_each_fn fn, void *ctx, kt_error_t *err);
bool mongo_dup_pair_put(store_conn_t *conn, const bson_t *pair, bool replace, bool *written,
                        kt_error_t *err);
bool mongo_dup_pair_get(store_conn_t *conn, const char *id, bson_t *out, bool *found,
                        kt_error_t *err);
bool mongo_dup_pairs_list(store_conn_t *conn, const char *field, const char *value,
                          const char *after_created, const char *after_id, int limit,
                          util_each_fn fn, void *ctx, kt_error_t *err);
bool mongo_copy_each(store_conn_t *conn, copy_set_t set, util_each_fn fn, void *ctx,
                     kt_error_t *err);
bool mongo_copy_put(store_conn_t *conn, copy_set_t set, const bson_t *doc, bool *inserted,
                    kt_error_t *err);
bool mongo_copy_finish(store_conn_t *conn, kt_error_t *err);

#endif
