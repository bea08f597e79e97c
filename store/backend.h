/*
 * backend: what an implementation of the store contract provides — private
 * to store/. The contract (store/store.h and the module headers: records in
 * students.h, feed.h, audit.h, scan.h, packages.h, verify.h, health_keys.h)
 * is the same for every backend; store/contract.c forwards each operation
 * to the backend of the connection it is called with:
 *   store/sqlite/  the embedded default (libsqlite3, one file, transactions);
 *   store/mongo/   MongoDB through libmongoc (tested against FerretDB 1.24).
 * Each operation here has the contract's signature; its documentation is in
 * the module header that declares the public name (records_get here is
 * store_record_get there, and so on).
 */
#ifndef KT_STORE_BACKEND_H
#define KT_STORE_BACKEND_H

#include <bson/bson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "store/audit.h"
#include "store/copy.h"
#include "store/duplicates.h"
#include "store/feed.h"
#include "store/health_keys.h"
#include "store/packages.h"
#include "store/scan.h"
#include "store/store.h"
#include "store/records.h"
#include "store/verify.h"

typedef struct store_ops {
    const char *name; /* "sqlite", "mongodb" */
    store_t *(*open)(const store_options_t *opts, kt_error_t *err);
    void (*close)(store_t *store);
    store_conn_t *(*conn_pop)(store_t *store, store_pool_t pool);
    void (*conn_push)(store_conn_t *conn);
    bool (*check)(store_t *store, store_health_t *out);
    bool (*prepare)(store_conn_t *conn, kt_error_t *err);
    bool (*batch_begin)(store_conn_t *conn, kt_error_t *err);
    bool (*batch_end)(store_conn_t *conn, bool commit, kt_error_t *err);

    /* records (store/records.h) */
    bool (*record_get)(store_conn_t *conn, const store_kind_t *kind, const char *id, record_t *out,
                       kt_error_t *err);
    bool (*record_get_version)(store_conn_t *conn, const store_kind_t *kind, const char *id,
                               int64_t n, record_t *out, kt_error_t *err);
    bool (*record_as_of)(store_conn_t *conn, const store_kind_t *kind, const char *id,
                         const char *as_of, record_t *out, kt_error_t *err);
    bool (*record_write)(store_conn_t *conn, const store_kind_t *kind, write_op_t op,
                         const char *id, int64_t expected_version, const bson_t *doc,
                         const write_meta_t *meta, write_result_t *out, kt_error_t *err);
    bool (*record_write_pair)(store_conn_t *conn, const store_kind_t *kind,
                              const write_side_t sides[2], write_result_t out[2], kt_error_t *err);
    bool (*record_find_ids)(store_conn_t *conn, const store_kind_t *kind, const bson_t *filter,
                            const char *after, int limit, char (*ids)[40], int *n, kt_error_t *err);
    bool (*claim_holder)(store_conn_t *conn, const char *key, char *id, kt_error_t *err);

    /* feed (store/feed.h) */
    bool (*feed_read)(store_conn_t *conn, int64_t since, int limit, const char *org,
                      feed_visit_fn visit, void *ctx, int64_t *next, kt_error_t *err);
    bool (*feed_epoch_get)(store_conn_t *conn, char epoch[FEED_EPOCH_MAX], kt_error_t *err);
    bool (*feed_epoch_set)(store_conn_t *conn, const char *epoch, kt_error_t *err);

    /* access log and audit queries (store/audit.h) */
    bool (*audit_log_read_fields)(store_conn_t *conn, const principal_t *who,
                                  const char *request_id, const char *what,
                                  const char *const *student_ids, size_t n,
                                  const char *const *fields, const char *purpose, kt_error_t *err);
    bool (*audit_query)(store_conn_t *conn, const audit_filter_t *f, const char *cursor, int limit,
                        jw_t *w, kt_error_t *err);
    bool (*audit_changes_each)(store_conn_t *conn, const audit_filter_t *f, int64_t before_seq,
                               int limit, util_each_fn fn, void *ctx, kt_error_t *err);

    /* scans for reports and export (store/scan.h) */
    bool (*scan_latest)(store_conn_t *conn, const scan_spec_t *spec, strmap_t **out,
                        kt_error_t *err);
    bool (*scan_page)(store_conn_t *conn, const scan_spec_t *spec, const char *field,
                      const char *value, char cursor[64], int limit, char (*ids)[40], int *n,
                      bool *more, kt_error_t *err);

    /* packages (store/packages.h) */
    bool (*packages_register)(store_conn_t *conn, const char *key, const char *packet_id,
                              const char *hash, const principal_t *who, const char *source_system,
                              package_seen_t *seen, bson_t *existing, kt_error_t *err);
    bool (*packages_item_get)(store_conn_t *conn, const char *key, int64_t index, bson_t *result,
                              bool *found, kt_error_t *err);
    bool (*packages_item_put)(store_conn_t *conn, const char *key, int64_t index,
                              const bson_t *result, bool *kept_existing, kt_error_t *err);
    bool (*packages_finish)(store_conn_t *conn, const char *key, const char *status,
                            const bson_t *totals, const char *receipt, size_t len,
                            size_t page_bytes, kt_error_t *err);
    bool (*packages_receipt_each)(store_conn_t *conn, const bson_t *pkg, packages_piece_fn fn,
                                  void *ctx, kt_error_t *err);
    bool (*packages_items_each)(store_conn_t *conn, const char *key, packages_item_fn fn, void *ctx,
                                kt_error_t *err);
    bool (*packages_enqueue)(store_conn_t *conn, const char *key, const char *data, size_t len,
                             kt_error_t *err);
    bool (*packages_load)(store_conn_t *conn, const char *key, char **data, size_t *len,
                          kt_error_t *err);
    bool (*packages_progress)(store_conn_t *conn, const char *key, int64_t received, int64_t done,
                              kt_error_t *err);
    bool (*packages_chunks_drop)(store_conn_t *conn, const char *key, kt_error_t *err);
    bool (*packages_waiting)(store_conn_t *conn, char (*keys)[PACKAGES_KEY_MAX], int max, int *n,
                             kt_error_t *err);
    bool (*packages_attempt)(store_conn_t *conn, const char *key, int64_t *attempts, bool *waiting,
                             kt_error_t *err);
    bool (*packages_lease_take)(store_conn_t *conn, const char *key, const char *owner,
                                int64_t ttl_ms, int64_t *epoch, bool *taken, kt_error_t *err);
    bool (*packages_lease_renew)(store_conn_t *conn, const char *key, const char *owner,
                                 int64_t ttl_ms, int64_t *epoch, bool *kept, kt_error_t *err);
    bool (*packages_lease_release)(store_conn_t *conn, const char *key, const char *owner,
                                   int64_t epoch, kt_error_t *err);
    bool (*packages_get)(store_conn_t *conn, const char *key, bson_t *out, kt_error_t *err);
    bool (*packages_find)(store_conn_t *conn, const char *packet_id, const char *org,
                          const char *sender, bson_t *out, int *n, kt_error_t *err);

    /* verify and repair (store/verify.h) */
    bool (*verify_record)(store_conn_t *conn, const store_kind_t *kind, const char *id,
                          long *versions, bool *head_lags, int64_t *bad_version, char *problem,
                          kt_error_t *err);
    bool (*verify_all)(store_conn_t *conn, FILE *out, verify_report_t *r, kt_error_t *err);
    bool (*verify_last_run)(store_conn_t *conn, bson_t *out, bool *found, kt_error_t *err);
    bool (*verify_repair_all)(store_conn_t *conn, FILE *out, verify_report_t *r, kt_error_t *err);
    bool (*verify_count)(store_conn_t *conn, long *records, kt_error_t *err);

    /* health data keys (store/health_keys.h) */
    bool (*health_keys_insert)(store_conn_t *conn, const char *dkid, const bson_t *wraps,
                               kt_error_t *err);
    bool (*health_keys_get)(store_conn_t *conn, const char *dkid, bson_t *wraps, bool *found,
                            kt_error_t *err);
    bool (*health_keys_put_wraps)(store_conn_t *conn, const char *dkid, const bson_t *wraps,
                                  kt_error_t *err);
    bool (*health_keys_each)(store_conn_t *conn, const char *lacking_kek, const char *after,
                             int limit, util_each_fn fn, void *ctx, kt_error_t *err);

    /* probable duplicates' pairs (store/duplicates.h) */
    bool (*dup_pair_put)(store_conn_t *conn, const bson_t *pair, bool replace, bool *written,
                         kt_error_t *err);
    bool (*dup_pair_get)(store_conn_t *conn, const char *id, bson_t *out, bool *found,
                         kt_error_t *err);
    bool (*dup_pairs_list)(store_conn_t *conn, const char *field, const char *value,
                           const char *after_created, const char *after_id, int limit,
                           util_each_fn fn, void *ctx, kt_error_t *err);

    /* copying a registry (store/copy.h) */
    bool (*copy_each)(store_conn_t *conn, copy_set_t set, util_each_fn fn, void *ctx,
                      kt_error_t *err);
    bool (*copy_put)(store_conn_t *conn, copy_set_t set, const bson_t *doc, bool *inserted,
                     kt_error_t *err);
    bool (*copy_finish)(store_conn_t *conn, kt_error_t *err);
} store_ops_t;

/* Every store starts with its backend's table; a connection knows its store
 * (and so its table) and the pool it goes back to. */
struct store {
    const store_ops_t *ops;
};

struct store_conn {
    store_t *store;
    store_pool_t pool;
};

extern const store_ops_t store_sqlite_ops;
extern const store_ops_t store_mongo_ops;

/* --- shared by the backends (store/record.c) --- */

/* The arguments of a version record. */
typedef struct {
    const store_kind_t *kind;
    const char *id;
    int64_t version;
    int64_t seq; /* the change-feed sequence (kinds in the feed) */
    write_op_t op;
    bool deleted;
    const char *time;
    const bson_t *doc;
    const bson_t *prev_doc; /* NULL on create */
    const char *prev_hash;
    bool named_id;            /* a create whose id the client gave */
    bool identity_change;     /* write_meta_t.identity_change of an update */
    const char *version_kind; /* write_meta_t.version_kind (merge, unmerge) */
    const char *state;        /* write_meta_t.state, NULL: by deleted */
} record_args_t;

/* The version's kind: store_kind_name(a->op), or "identity_change" for an
 * update that changes who the record is. The version record and the feed
 * entry carry the same. */
const char *store_record_kind(const record_args_t *a);

/* Builds version a->version into rec, initialised here on every path: the
 * caller destroys (or steals) it even when this fails. */
bool store_build_record(bson_t *rec, const record_args_t *a, const write_meta_t *meta);

/* Whether two documents are equal in canonical form. */
bool store_same_document(const bson_t *a, const bson_t *b);

/* 409 DUPLICATE_SNILS or DUPLICATE_DOCUMENT (by the key's prefix) naming
 * the holder in err->ref. */
void store_duplicate_key(kt_error_t *err, const char *key, const char *holder);

/* verify: version n of record id (v) names its record and number, links to
 * prev_hash and matches its own hash; else false with the first broken link
 * in problem (size ≥ 256). */
bool store_check_link(const store_kind_t *kind, const record_t *v, const char *id, int64_t n,
                      const char *prev_hash, char *problem);

/* verify: counts a record and its versions under its kind in r. */
void store_verify_count(const store_kind_t *kind, verify_report_t *r, long versions);

/* verify's name for a claim key's kind ("SNILS", "document"): the value
 * itself is personal data and never printed. */
const char *store_key_kind(const char *key);

/* The summary of a verify run as kept for the auditors' console ("last";
 * verify_last_run): out initialised here. */
void store_verify_summary(const verify_report_t *r, bson_t *out);

/* Test builds (KT_FAULT_INJECTION) only: dies (SIGKILL) when meta->fault
 * names this point, as a crash there would; otherwise nothing. */
void store_fault_point(const write_meta_t *meta, const char *name);

/* 409 kind->duplicate_id naming id. */
void store_duplicate_id(kt_error_t *err, const store_kind_t *kind, const char *id);

/* A scan in progress (store/scan.c): backends feed scan_visit() each
 * version record at or before spec->until they read. */
typedef struct {
    const scan_spec_t *spec;
    strmap_t *map;
    kt_error_t *err;
    bool failed;
} scan_run_t;

bool scan_run_start(scan_run_t *run, const scan_spec_t *spec, kt_error_t *err);

/* A util_each_fn over version records: keeps the latest of each record. */
bool scan_visit(void *ctx, const bson_t *rec);

/* Ends the run: the map in *out when ok and nothing failed, else freed. */
bool scan_run_end(scan_run_t *run, bool ok, strmap_t **out);

/* The claim keys of doc under kind (none for a kind without claims), up to max. */
#define STORE_MAX_KEYS (STUDENT_DOCUMENTS_MAX + 1)

#endif
