/* pending: TEMPORARY — the operations not yet written for SQLite; each
 * module's author deletes its functions from here. This file must be gone
 * before KT_STORE defaults to sqlite. */
#include "store/sqlite/sqlite.h"

static bool
pending(store_conn_t *conn, kt_error_t *err, const char *op)
{
    (void)conn;
    kt_error_set(err, KT_DOMAIN_STORE, KT_INTERNAL, 500, "%s: not in the SQLite store yet", op);
    return false;
}

bool
sqlite_record_get(store_conn_t *conn, const store_kind_t *kind, const char *id, record_t *out,
                  kt_error_t *err)
{
    return pending(conn, err, "record_get");
}

bool
sqlite_record_get_version(store_conn_t *conn, const store_kind_t *kind, const char *id, int64_t n,
                          record_t *out, kt_error_t *err)
{
    return pending(conn, err, "record_get_version");
}

bool
sqlite_record_as_of(store_conn_t *conn, const store_kind_t *kind, const char *id, const char *as_of,
                    record_t *out, kt_error_t *err)
{
    return pending(conn, err, "record_as_of");
}

bool
sqlite_record_write(store_conn_t *conn, const store_kind_t *kind, write_op_t op, const char *id,
                    int64_t expected_version, const bson_t *doc, const write_meta_t *meta,
                    write_result_t *out, kt_error_t *err)
{
    return pending(conn, err, "record_write");
}

bool
sqlite_record_find_ids(store_conn_t *conn, const store_kind_t *kind, const bson_t *filter,
                       const char *after, int limit, char (*ids)[40], int *n, kt_error_t *err)
{
    return pending(conn, err, "record_find_ids");
}

bool
sqlite_claim_holder(store_conn_t *conn, const char *key, char *id, kt_error_t *err)
{
    return pending(conn, err, "claim_holder");
}

bool
sqlite_feed_read(store_conn_t *conn, int64_t since, int limit, const char *org, feed_visit_fn visit,
                 void *ctx, int64_t *next, kt_error_t *err)
{
    return pending(conn, err, "feed_read");
}

bool
sqlite_audit_log_read_fields(store_conn_t *conn, const principal_t *who, const char *request_id,
                             const char *what, const char *const *student_ids, size_t n,
                             const char *const *fields, const char *purpose, kt_error_t *err)
{
    return pending(conn, err, "audit_log_read_fields");
}

bool
sqlite_audit_query(store_conn_t *conn, const audit_filter_t *f, const char *cursor, int limit,
                   jw_t *w, kt_error_t *err)
{
    return pending(conn, err, "audit_query");
}

bool
sqlite_audit_changes_each(store_conn_t *conn, const audit_filter_t *f, int64_t before_seq,
                          int limit, util_each_fn fn, void *ctx, kt_error_t *err)
{
    return pending(conn, err, "audit_changes_each");
}

bool
sqlite_scan_latest(store_conn_t *conn, const scan_spec_t *spec, strmap_t **out, kt_error_t *err)
{
    return pending(conn, err, "scan_latest");
}

bool
sqlite_scan_page(store_conn_t *conn, const scan_spec_t *spec, const char *field, const char *value,
                 char cursor[64], int limit, char (*ids)[40], int *n, bool *more, kt_error_t *err)
{
    return pending(conn, err, "scan_page");
}

bool
sqlite_packages_register(store_conn_t *conn, const char *key, const char *packet_id,
                         const char *hash, const principal_t *who, const char *source_system,
                         package_seen_t *seen, bson_t *existing, kt_error_t *err)
{
    return pending(conn, err, "packages_register");
}

bool
sqlite_packages_item_get(store_conn_t *conn, const char *key, int64_t index, bson_t *result,
                         bool *found, kt_error_t *err)
{
    return pending(conn, err, "packages_item_get");
}

bool
sqlite_packages_item_put(store_conn_t *conn, const char *key, int64_t index, const bson_t *result,
                         bool *kept_existing, kt_error_t *err)
{
    return pending(conn, err, "packages_item_put");
}

bool
sqlite_packages_finish(store_conn_t *conn, const char *key, const char *status,
                       const bson_t *totals, const char *receipt, size_t len, size_t page_bytes,
                       kt_error_t *err)
{
    return pending(conn, err, "packages_finish");
}

bool
sqlite_packages_receipt_each(store_conn_t *conn, const bson_t *pkg, packages_piece_fn fn, void *ctx,
                             kt_error_t *err)
{
    return pending(conn, err, "packages_receipt_each");
}

bool
sqlite_packages_items_each(store_conn_t *conn, const char *key, packages_item_fn fn, void *ctx,
                           kt_error_t *err)
{
    return pending(conn, err, "packages_items_each");
}

bool
sqlite_packages_enqueue(store_conn_t *conn, const char *key, const char *data, size_t len,
                        kt_error_t *err)
{
    return pending(conn, err, "packages_enqueue");
}

bool
sqlite_packages_load(store_conn_t *conn, const char *key, char **data, size_t *len, kt_error_t *err)
{
    return pending(conn, err, "packages_load");
}

bool
sqlite_packages_chunks_drop(store_conn_t *conn, const char *key, kt_error_t *err)
{
    return pending(conn, err, "packages_chunks_drop");
}

bool
sqlite_packages_waiting(store_conn_t *conn, char (*keys)[PACKAGES_KEY_MAX], int max, int *n,
                        kt_error_t *err)
{
    return pending(conn, err, "packages_waiting");
}

bool
sqlite_packages_attempt(store_conn_t *conn, const char *key, int64_t *attempts, bool *waiting,
                        kt_error_t *err)
{
    return pending(conn, err, "packages_attempt");
}

bool
sqlite_packages_lease_take(store_conn_t *conn, const char *key, const char *owner, int64_t ttl_ms,
                           int64_t *epoch, bool *taken, kt_error_t *err)
{
    return pending(conn, err, "packages_lease_take");
}

bool
sqlite_packages_lease_renew(store_conn_t *conn, const char *key, const char *owner, int64_t ttl_ms,
                            int64_t *epoch, bool *kept, kt_error_t *err)
{
    return pending(conn, err, "packages_lease_renew");
}

bool
sqlite_packages_lease_release(store_conn_t *conn, const char *key, const char *owner, int64_t epoch,
                              kt_error_t *err)
{
    return pending(conn, err, "packages_lease_release");
}

bool
sqlite_packages_get(store_conn_t *conn, const char *key, bson_t *out, kt_error_t *err)
{
    return pending(conn, err, "packages_get");
}

bool
sqlite_packages_find(store_conn_t *conn, const char *packet_id, const char *org, const char *sender,
                     bson_t *out, int *n, kt_error_t *err)
{
    return pending(conn, err, "packages_find");
}

bool
sqlite_verify_record(store_conn_t *conn, const store_kind_t *kind, const char *id, long *versions,
                     bool *head_lags, int64_t *bad_version, char *problem, kt_error_t *err)
{
    return pending(conn, err, "verify_record");
}

bool
sqlite_verify_all(store_conn_t *conn, FILE *out, verify_report_t *r, kt_error_t *err)
{
    return pending(conn, err, "verify_all");
}

bool
sqlite_verify_last_run(store_conn_t *conn, bson_t *out, bool *found, kt_error_t *err)
{
    return pending(conn, err, "verify_last_run");
}

bool
sqlite_verify_repair_all(store_conn_t *conn, FILE *out, verify_report_t *r, kt_error_t *err)
{
    return pending(conn, err, "verify_repair_all");
}

bool
sqlite_health_keys_insert(store_conn_t *conn, const char *dkid, const bson_t *wraps,
                          kt_error_t *err)
{
    return pending(conn, err, "health_keys_insert");
}

bool
sqlite_health_keys_get(store_conn_t *conn, const char *dkid, bson_t *wraps, bool *found,
                       kt_error_t *err)
{
    return pending(conn, err, "health_keys_get");
}

bool
sqlite_health_keys_put_wraps(store_conn_t *conn, const char *dkid, const bson_t *wraps,
                             kt_error_t *err)
{
    return pending(conn, err, "health_keys_put_wraps");
}

bool
sqlite_health_keys_each(store_conn_t *conn, const char *lacking_kek, const char *after, int limit,
                        util_each_fn fn, void *ctx, kt_error_t *err)
{
    return pending(conn, err, "health_keys_each");
}

bool
sqlite_copy_each_other(store_conn_t *conn, copy_set_t set, util_each_fn fn, void *ctx,
                       kt_error_t *err)
{
    return pending(conn, err, "copy_each");
}

bool
sqlite_copy_put_other(store_conn_t *conn, copy_set_t set, const bson_t *doc, bool *inserted,
                      kt_error_t *err)
{
    return pending(conn, err, "copy_put");
}
