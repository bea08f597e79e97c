/*
 * contract: the store's operations, forwarded to the backend of the
 * connection (store/backend.h), and the conveniences built on them.
 */
#include <openssl/rand.h>
#include <stdio.h>
#include <string.h>

#include "store/backend.h"
#include "store/util.h"
#include "core/observe.h"

/* Every operation of the contract is reported to /metrics (core/observe.h). */
static bool
counted(bool ok, const kt_error_t *err)
{
    return kt_observed(KT_OBSERVE_STORE_OP, ok, err);
}

/* An access-log entry that was not written is a store operation that failed
 * and, above that, a read that was refused: counted apart. */
static bool
logged(bool ok, const kt_error_t *err)
{
    if (!ok)
        kt_observed(KT_OBSERVE_ACCESS_LOG_FAILED, ok, err);
    return counted(ok, err);
}

store_t *
store_new(const store_options_t *opts, kt_error_t *err)
{
    const store_ops_t *ops = opts->backend == STORE_MONGODB ? &store_mongo_ops : &store_sqlite_ops;

    return ops->open(opts, err);
}

void
store_free(store_t *store)
{
    if (store != NULL)
        store->ops->close(store);
}

const char *
store_backend_name(const store_t *store)
{
    return store->ops->name;
}

store_conn_t *
store_conn_pop(store_t *store, store_pool_t pool)
{
    return store->ops->conn_pop(store, pool);
}

void
store_conn_push(store_conn_t *conn)
{
    if (conn != NULL)
        conn->store->ops->conn_push(conn);
}

bool
store_batch_begin(store_conn_t *conn, kt_error_t *err)
{
    return counted(conn->store->ops->batch_begin(conn, err), err);
}

bool
store_batch_end(store_conn_t *conn, bool commit, kt_error_t *err)
{
    return counted(conn->store->ops->batch_end(conn, commit, err), err);
}

bool
store_check(store_t *store, store_health_t *out)
{
    return store->ops->check(store, out);
}

bool
store_prepare(store_conn_t *conn, kt_error_t *err)
{
    return counted(conn->store->ops->prepare(conn, err), err);
}

bool
store_record_get(store_conn_t *conn, const store_kind_t *kind, const char *id, record_t *out,
                 kt_error_t *err)
{
    return counted(conn->store->ops->record_get(conn, kind, id, out, err), err);
}

bool
store_record_get_version(store_conn_t *conn, const store_kind_t *kind, const char *id, int64_t n,
                         record_t *out, kt_error_t *err)
{
    return counted(conn->store->ops->record_get_version(conn, kind, id, n, out, err), err);
}

bool
store_record_as_of(store_conn_t *conn, const store_kind_t *kind, const char *id, const char *as_of,
                   record_t *out, kt_error_t *err)
{
    return counted(conn->store->ops->record_as_of(conn, kind, id, as_of, out, err), err);
}

bool
store_record_write(store_conn_t *conn, const store_kind_t *kind, write_op_t op, const char *id,
                   int64_t expected_version, const bson_t *doc, const write_meta_t *meta,
                   write_result_t *out, kt_error_t *err)
{
    return counted(
        conn->store->ops->record_write(conn, kind, op, id, expected_version, doc, meta, out, err),
        err);
}

bool
store_record_write_pair(store_conn_t *conn, const store_kind_t *kind, const write_side_t sides[2],
                        write_result_t out[2], kt_error_t *err)
{
    return conn->store->ops->record_write_pair(conn, kind, sides, out, err);
}

bool
store_record_find_ids(store_conn_t *conn, const store_kind_t *kind, const bson_t *filter,
                      const char *after, int limit, char (*ids)[40], int *n, kt_error_t *err)
{
    return counted(conn->store->ops->record_find_ids(conn, kind, filter, after, limit, ids, n, err),
                   err);
}

bool
store_claim_holder(store_conn_t *conn, const char *key, char *id, kt_error_t *err)
{
    return counted(conn->store->ops->claim_holder(conn, key, id, err), err);
}

bool
feed_read(store_conn_t *conn, int64_t since, int limit, const char *org, feed_visit_fn visit,
          void *ctx, int64_t *next, kt_error_t *err)
{
    return counted(conn->store->ops->feed_read(conn, since, limit, org, visit, ctx, next, err),
                   err);
}

bool
feed_epoch_get(store_conn_t *conn, char epoch[FEED_EPOCH_MAX], kt_error_t *err)
{
    return counted(conn->store->ops->feed_epoch_get(conn, epoch, err), err);
}

bool
feed_epoch_renew(store_conn_t *conn, char epoch[FEED_EPOCH_MAX], kt_error_t *err)
{
    unsigned char bytes[8];

    if (RAND_bytes(bytes, sizeof bytes) != 1) {
        kt_error_set(err, KT_DOMAIN_INTERNAL, KT_INTERNAL, "no random bytes for the feed epoch");
        return false;
    }
    for (size_t i = 0; i < sizeof bytes; i++)
        snprintf(epoch + 2 * i, 3, "%02x", bytes[i]);
    return counted(conn->store->ops->feed_epoch_set(conn, epoch, err), err);
}

bool
audit_log_read_fields(store_conn_t *conn, const principal_t *who, const char *request_id,
                      const char *what, const char *const *student_ids, size_t n,
                      const char *const *fields, const char *purpose, kt_error_t *err)
{
    return logged(conn->store->ops->audit_log_read_fields(conn, who, request_id, what, student_ids,
                                                          n, fields, purpose, err),
                  err);
}

bool
audit_query(store_conn_t *conn, const audit_filter_t *f, const char *cursor, int limit, jw_t *w,
            kt_error_t *err)
{
    return counted(conn->store->ops->audit_query(conn, f, cursor, limit, w, err), err);
}

bool
audit_changes_each(store_conn_t *conn, const audit_filter_t *f, int64_t before_seq, int limit,
                   util_each_fn fn, void *ctx, kt_error_t *err)
{
    return counted(conn->store->ops->audit_changes_each(conn, f, before_seq, limit, fn, ctx, err),
                   err);
}

bool
store_scan_latest(store_conn_t *conn, const scan_spec_t *spec, strmap_t **out, kt_error_t *err)
{
    return counted(conn->store->ops->scan_latest(conn, spec, out, err), err);
}

bool
store_scan_page(store_conn_t *conn, const scan_spec_t *spec, const char *field, const char *value,
                char cursor[64], int limit, char (*ids)[40], int *n, bool *more, kt_error_t *err)
{
    return counted(
        conn->store->ops->scan_page(conn, spec, field, value, cursor, limit, ids, n, more, err),
        err);
}

bool
packages_register(store_conn_t *conn, const char *key, const char *packet_id, const char *hash,
                  const principal_t *who, const char *source_system, package_seen_t *seen,
                  bson_t *existing, kt_error_t *err)
{
    return counted(conn->store->ops->packages_register(conn, key, packet_id, hash, who,
                                                       source_system, seen, existing, err),
                   err);
}

bool
packages_item_get(store_conn_t *conn, const char *key, int64_t index, bson_t *result, bool *found,
                  kt_error_t *err)
{
    return counted(conn->store->ops->packages_item_get(conn, key, index, result, found, err), err);
}

bool
packages_item_put(store_conn_t *conn, const char *key, int64_t index, const bson_t *result,
                  bool *kept_existing, kt_error_t *err)
{
    return counted(
        conn->store->ops->packages_item_put(conn, key, index, result, kept_existing, err), err);
}

bool
packages_finish(store_conn_t *conn, const char *key, const char *status, const bson_t *totals,
                const char *receipt, size_t len, size_t page_bytes, kt_error_t *err)
{
    return counted(
        conn->store->ops->packages_finish(conn, key, status, totals, receipt, len, page_bytes, err),
        err);
}

bool
packages_receipt_each(store_conn_t *conn, const bson_t *pkg, packages_piece_fn fn, void *ctx,
                      kt_error_t *err)
{
    return counted(conn->store->ops->packages_receipt_each(conn, pkg, fn, ctx, err), err);
}

bool
packages_items_each(store_conn_t *conn, const char *key, packages_item_fn fn, void *ctx,
                    kt_error_t *err)
{
    return counted(conn->store->ops->packages_items_each(conn, key, fn, ctx, err), err);
}

bool
packages_enqueue(store_conn_t *conn, const char *key, const char *data, size_t len, kt_error_t *err)
{
    return counted(conn->store->ops->packages_enqueue(conn, key, data, len, err), err);
}

bool
packages_progress(store_conn_t *conn, const char *key, int64_t received, int64_t done,
                  kt_error_t *err)
{
    return counted(conn->store->ops->packages_progress(conn, key, received, done, err), err);
}

bool
packages_load(store_conn_t *conn, const char *key, char **data, size_t *len, kt_error_t *err)
{
    return counted(conn->store->ops->packages_load(conn, key, data, len, err), err);
}

bool
packages_chunks_drop(store_conn_t *conn, const char *key, kt_error_t *err)
{
    return counted(conn->store->ops->packages_chunks_drop(conn, key, err), err);
}

bool
packages_waiting(store_conn_t *conn, char (*keys)[PACKAGES_KEY_MAX], int max, int *n,
                 kt_error_t *err)
{
    return counted(conn->store->ops->packages_waiting(conn, keys, max, n, err), err);
}

bool
packages_attempt(store_conn_t *conn, const char *key, int64_t *attempts, bool *waiting,
                 kt_error_t *err)
{
    return counted(conn->store->ops->packages_attempt(conn, key, attempts, waiting, err), err);
}

bool
packages_lease_take(store_conn_t *conn, const char *key, const char *owner, int64_t ttl_ms,
                    int64_t *epoch, bool *taken, kt_error_t *err)
{
    return counted(
        conn->store->ops->packages_lease_take(conn, key, owner, ttl_ms, epoch, taken, err), err);
}

bool
packages_lease_renew(store_conn_t *conn, const char *key, const char *owner, int64_t ttl_ms,
                     int64_t *epoch, bool *kept, kt_error_t *err)
{
    return counted(
        conn->store->ops->packages_lease_renew(conn, key, owner, ttl_ms, epoch, kept, err), err);
}

bool
packages_lease_release(store_conn_t *conn, const char *key, const char *owner, int64_t epoch,
                       kt_error_t *err)
{
    return counted(conn->store->ops->packages_lease_release(conn, key, owner, epoch, err), err);
}

bool
packages_get(store_conn_t *conn, const char *key, bson_t *out, kt_error_t *err)
{
    return counted(conn->store->ops->packages_get(conn, key, out, err), err);
}

bool
packages_find(store_conn_t *conn, const char *packet_id, const char *org, const char *sender,
              bson_t *out, int *n, kt_error_t *err)
{
    return counted(conn->store->ops->packages_find(conn, packet_id, org, sender, out, n, err), err);
}

bool
verify_record(store_conn_t *conn, const store_kind_t *kind, const char *id, long *versions,
              bool *head_lags, int64_t *bad_version, char *problem, kt_error_t *err)
{
    return counted(conn->store->ops->verify_record(conn, kind, id, versions, head_lags, bad_version,
                                                   problem, err),
                   err);
}

bool
verify_all(store_conn_t *conn, FILE *out, verify_report_t *r, kt_error_t *err)
{
    return counted(conn->store->ops->verify_all(conn, out, r, err), err);
}

bool
verify_last_run(store_conn_t *conn, bson_t *out, bool *found, kt_error_t *err)
{
    return counted(conn->store->ops->verify_last_run(conn, out, found, err), err);
}

bool
verify_repair_all(store_conn_t *conn, FILE *out, verify_report_t *r, kt_error_t *err)
{
    return counted(conn->store->ops->verify_repair_all(conn, out, r, err), err);
}

bool
verify_count(store_conn_t *conn, long *records, kt_error_t *err)
{
    return conn->store->ops->verify_count(conn, records, err);
}

bool
health_keys_insert(store_conn_t *conn, const char *dkid, const bson_t *wraps, kt_error_t *err)
{
    return counted(conn->store->ops->health_keys_insert(conn, dkid, wraps, err), err);
}

bool
health_keys_get(store_conn_t *conn, const char *dkid, bson_t *wraps, bool *found, kt_error_t *err)
{
    return counted(conn->store->ops->health_keys_get(conn, dkid, wraps, found, err), err);
}

bool
health_keys_put_wraps(store_conn_t *conn, const char *dkid, const bson_t *wraps, kt_error_t *err)
{
    return counted(conn->store->ops->health_keys_put_wraps(conn, dkid, wraps, err), err);
}

bool
health_keys_each(store_conn_t *conn, const char *lacking_kek, const char *after, int limit,
                 util_each_fn fn, void *ctx, kt_error_t *err)
{
    return counted(
        conn->store->ops->health_keys_each(conn, lacking_kek, after, limit, fn, ctx, err), err);
}

bool
store_student_get(store_conn_t *conn, const char *id, record_t *out, kt_error_t *err)
{
    return store_record_get(conn, &store_kind_student, id, out, err);
}

bool
store_student_get_version(store_conn_t *conn, const char *id, int64_t n, record_t *out,
                          kt_error_t *err)
{
    return store_record_get_version(conn, &store_kind_student, id, n, out, err);
}

bool
store_student_as_of(store_conn_t *conn, const char *id, const char *as_of, record_t *out,
                    kt_error_t *err)
{
    return store_record_as_of(conn, &store_kind_student, id, as_of, out, err);
}

bool
store_student_find_ids(store_conn_t *conn, const char *field, const char *value, const char *after,
                       int limit, char (*ids)[40], int *n, kt_error_t *err)
{
    bson_t filter = BSON_INITIALIZER;
    bool ok;

    BSON_APPEND_UTF8(&filter, field, value);
    ok = store_record_find_ids(conn, &store_kind_student, &filter, after, limit, ids, n, err);
    bson_destroy(&filter);
    return ok;
}

bool
store_student_write(store_conn_t *conn, write_op_t kind, const char *id, int64_t expected_version,
                    const bson_t *doc, const write_meta_t *meta, write_result_t *out,
                    kt_error_t *err)
{
    return store_record_write(conn, &store_kind_student, kind, kind == WRITE_CREATE ? NULL : id,
                              expected_version, doc, meta, out, err);
}

bool
verify_student(store_conn_t *conn, const char *id, long *versions, bool *head_lags,
               int64_t *bad_version, char *problem, kt_error_t *err)
{
    return verify_record(conn, &store_kind_student, id, versions, head_lags, bad_version, problem,
                         err);
}

bool
audit_log_read(store_conn_t *conn, const principal_t *who, const char *request_id, const char *what,
               const char *const *student_ids, size_t n, kt_error_t *err)
{
    return audit_log_read_fields(conn, who, request_id, what, student_ids, n, NULL, NULL, err);
}

const char *
copy_set_name(copy_set_t set)
{
    static const char *const names[COPY__MAX] = {
        [COPY_STUDENT_VERSIONS] = "student_versions",
        [COPY_ORGANIZATION_VERSIONS] = "organization_versions",
        [COPY_CHANGES] = "changes",
        [COPY_ACCESS_LOG] = "access_log",
        [COPY_HEALTH_KEYS] = "health_keys",
        [COPY_PACKAGES] = "packages",
        [COPY_PACKAGE_ITEMS] = "package_items",
        [COPY_PACKAGE_RECEIPTS] = "package_receipts",
        [COPY_PACKAGE_CHUNKS] = "package_chunks",
        [COPY_DUP_PAIRS] = "dup_pairs",
        [COPY_PROGRESS_VERSIONS] = "progress_versions",
    };

    return set < COPY__MAX ? names[set] : "?";
}

bool
store_copy_each(store_conn_t *conn, copy_set_t set, util_each_fn fn, void *ctx, kt_error_t *err)
{
    return counted(conn->store->ops->copy_each(conn, set, fn, ctx, err), err);
}

bool
store_copy_put(store_conn_t *conn, copy_set_t set, const bson_t *doc, bool *inserted,
               kt_error_t *err)
{
    return counted(conn->store->ops->copy_put(conn, set, doc, inserted, err), err);
}

bool
store_copy_finish(store_conn_t *conn, kt_error_t *err)
{
    return counted(conn->store->ops->copy_finish(conn, err), err);
}

bool
store_dup_pair_put(store_conn_t *conn, const bson_t *pair, bool replace, bool *written,
                   kt_error_t *err)
{
    return conn->store->ops->dup_pair_put(conn, pair, replace, written, err);
}

bool
store_dup_pair_get(store_conn_t *conn, const char *id, bson_t *out, bool *found, kt_error_t *err)
{
    return conn->store->ops->dup_pair_get(conn, id, out, found, err);
}

bool
store_dup_pairs_list(store_conn_t *conn, const char *field, const char *value,
                     const char *after_created, const char *after_id, int limit, util_each_fn fn,
                     void *ctx, kt_error_t *err)
{
    return conn->store->ops->dup_pairs_list(conn, field, value, after_created, after_id, limit, fn,
                                            ctx, err);
}
