/*
 * sqlite: the embedded implementation of the store contract
 * (store/backend.h) — libsqlite3 in the worker processes, one database file
 * in WAL mode. Private to store/sqlite/.
 *
 * A write is one transaction (BEGIN IMMEDIATE): the version, the head, the
 * claims and the change-feed entry commit together or not at all, so none
 * of the MongoDB protocol's crash states exist here. Uniqueness of a
 * student's СНИЛС and documents is the primary key of `claims`, which holds
 * the keys of active records' current versions only. Every list, search and
 * audit query is a range scan of an index, bounded by its page.
 * Durability: synchronous=FULL — an acknowledged write survives kill -9 and
 * a power cut (docs/storage.md, "SQLite").
 */
#ifndef KT_STORE_SQLITE_H
#define KT_STORE_SQLITE_H

#include <sqlite3.h>

#include "core/arena.h"
#include "model/student.h"
#include "store/backend.h"
#include "store/util.h"

/* One connection per borrowed handle; prepared statements are cached on it. */
typedef struct {
    store_conn_t base; /* first: a store_conn_t * is a sqlite_conn_t * */
    sqlite3 *db;
    int depth; /* transactions open: 1 = BEGIN, more = savepoints inside it */
} sqlite_conn_t;

static inline sqlite3 *
sqlite_db(const store_conn_t *conn)
{
    return ((const sqlite_conn_t *)conn)->db;
}

/* Maps a SQLite result code to ours: busy, full, I/O, read-only → 503
 * STORE_UNAVAILABLE; the rest → 500 INTERNAL (the message goes to logs). */
void sqlite_error(kt_error_t *err, sqlite3 *db, int rc, const char *what);

/* A cached prepared statement of sql on conn (reset, bindings cleared); NULL
 * with err set when it cannot be prepared. Do not finalize it. */
sqlite3_stmt *sqlite_stmt(store_conn_t *conn, const char *sql, kt_error_t *err);

/* BEGIN IMMEDIATE / COMMIT / ROLLBACK. Inside an open transaction (a batch
 * of package items, store_batch_begin) they become SAVEPOINT / RELEASE /
 * ROLLBACK TO: an operation is all or nothing either way, and a batch
 * commits its operations together. */
bool sqlite_begin(store_conn_t *conn, kt_error_t *err);
bool sqlite_commit(store_conn_t *conn, kt_error_t *err);
void sqlite_rollback(store_conn_t *conn);

/* Binds text (NULL binds NULL). */
int sqlite_bind_text(sqlite3_stmt *st, int i, const char *s);

/* Binds a BSON document as a blob (copied by SQLite). */
int sqlite_bind_bson(sqlite3_stmt *st, int i, const bson_t *doc);

/* Column i as a BSON document copied into out (initialised by the call);
 * false when the column is not a valid document. */
bool sqlite_column_bson(sqlite3_stmt *st, int i, bson_t *out);

/* Runs st to its end (or its first row); false with err set on an error. */
bool sqlite_step_done(sqlite3_stmt *st, store_conn_t *conn, const char *what, kt_error_t *err);

/* The schema: every module's CREATE statements, run in order by
 * store_prepare() (store/sqlite/schema.c). NULL-terminated. */
extern const char *const sqlite_schema[];

/* --- records.c's helpers, shared with verify.c --- */

/* A cached statement of fmt, whose one "%s" is table (a kind's versions or
 * heads: a constant of store/kind.h, never input). */
sqlite3_stmt *sqlite_table_stmt(store_conn_t *conn, const char *fmt, const char *table,
                                kt_error_t *err);

/* Version `version` of id from its stored record rec (copied into out,
 * which held a record or was initialised); false when rec has no doc. */
bool sqlite_record_from_blob(const char *id, int64_t version, const bson_t *rec, record_t *out);

/* The latest version of id into out, whatever the id looks like; *found
 * false when it has none. */
bool sqlite_record_latest(store_conn_t *conn, const store_kind_t *kind, const char *id,
                          record_t *out, bool *found, kt_error_t *err);

/* The claim keys of a document under a kind (none for a kind without claims). */
typedef struct {
    const char *keys[STORE_MAX_KEYS]; /* in the arena given to sqlite_keys_of */
    size_t n;
} sqlite_keys_t;

void sqlite_keys_of(arena_t *arena, const store_kind_t *kind, const bson_t *doc, sqlite_keys_t *ks);
bool sqlite_keys_has(const sqlite_keys_t *ks, const char *key);

/* The id holding key in claims ("" when none) into holder. */
bool sqlite_claim_read(store_conn_t *conn, const char *key, char *holder, size_t size,
                       kt_error_t *err);

/* Inserts key for id unless some id holds it; *inserted tells which. */
bool sqlite_claim_insert(store_conn_t *conn, const store_kind_t *kind, const char *key,
                         const char *id, bool *inserted, kt_error_t *err);

/* The head document of s, as MongoDB's (_id, version, state, the kind's
 * members, updated_at); initialised here. */
void sqlite_head_doc(const store_kind_t *kind, const record_t *s, bson_t *head);

/* Writes s's head row and its head_keys rows (none when s is deleted). */
bool sqlite_put_head(store_conn_t *conn, const store_kind_t *kind, const record_t *s,
                     kt_error_t *err);

/* --- the operations (the table in store.c) --- */

bool sqlite_record_get(store_conn_t *conn, const store_kind_t *kind, const char *id, record_t *out,
                       kt_error_t *err);
bool sqlite_record_get_version(store_conn_t *conn, const store_kind_t *kind, const char *id,
                               int64_t n, record_t *out, kt_error_t *err);
bool sqlite_record_as_of(store_conn_t *conn, const store_kind_t *kind, const char *id,
                         const char *as_of, record_t *out, kt_error_t *err);
bool sqlite_record_write(store_conn_t *conn, const store_kind_t *kind, write_op_t op,
                         const char *id, int64_t expected_version, const bson_t *doc,
                         const write_meta_t *meta, write_result_t *out, kt_error_t *err);
bool sqlite_record_write_pair(store_conn_t *conn, const store_kind_t *kind,
                              const write_side_t sides[2], write_result_t out[2], kt_error_t *err);
bool sqlite_record_find_ids(store_conn_t *conn, const store_kind_t *kind, const bson_t *filter,
                            const char *after, int limit, char (*ids)[40], int *n, kt_error_t *err);
bool sqlite_claim_holder(store_conn_t *conn, const char *key, char *id, kt_error_t *err);
bool sqlite_feed_epoch_get(store_conn_t *conn, char epoch[FEED_EPOCH_MAX], kt_error_t *err);
bool sqlite_feed_epoch_set(store_conn_t *conn, const char *epoch, kt_error_t *err);
bool sqlite_feed_read(store_conn_t *conn, int64_t since, int limit, const char *org,
                      feed_visit_fn visit, void *ctx, int64_t *next, kt_error_t *err);
bool sqlite_audit_log_read_fields(store_conn_t *conn, const principal_t *who,
                                  const char *request_id, const char *what,
                                  const char *const *student_ids, size_t n,
                                  const char *const *fields, const char *purpose, kt_error_t *err);
bool sqlite_audit_query(store_conn_t *conn, const audit_filter_t *f, const char *cursor, int limit,
                        jw_t *w, kt_error_t *err);
bool sqlite_audit_changes_each(store_conn_t *conn, const audit_filter_t *f, int64_t before_seq,
                               int limit, util_each_fn fn, void *ctx, kt_error_t *err);
bool sqlite_scan_latest(store_conn_t *conn, const scan_spec_t *spec, strmap_t **out,
                        kt_error_t *err);
bool sqlite_scan_page(store_conn_t *conn, const scan_spec_t *spec, const char *field,
                      const char *value, char cursor[64], int limit, char (*ids)[40], int *n,
                      bool *more, kt_error_t *err);
bool sqlite_packages_register(store_conn_t *conn, const char *key, const char *packet_id,
                              const char *hash, const principal_t *who, const char *source_system,
                              package_seen_t *seen, bson_t *existing, kt_error_t *err);
bool sqlite_packages_item_get(store_conn_t *conn, const char *key, int64_t index, bson_t *result,
                              bool *found, kt_error_t *err);
bool sqlite_packages_item_put(store_conn_t *conn, const char *key, int64_t index,
                              const bson_t *result, bool *kept_existing, kt_error_t *err);
bool sqlite_packages_finish(store_conn_t *conn, const char *key, const char *status,
                            const bson_t *totals, const char *receipt, size_t len,
                            size_t page_bytes, kt_error_t *err);
bool sqlite_packages_receipt_each(store_conn_t *conn, const bson_t *pkg, packages_piece_fn fn,
                                  void *ctx, kt_error_t *err);
bool sqlite_packages_items_each(store_conn_t *conn, const char *key, packages_item_fn fn, void *ctx,
                                kt_error_t *err);
bool sqlite_packages_enqueue(store_conn_t *conn, const char *key, const char *data, size_t len,
                             kt_error_t *err);
bool sqlite_packages_progress(store_conn_t *conn, const char *key, int64_t received, int64_t done,
                              kt_error_t *err);
bool sqlite_packages_load(store_conn_t *conn, const char *key, char **data, size_t *len,
                          kt_error_t *err);
bool sqlite_packages_chunks_drop(store_conn_t *conn, const char *key, kt_error_t *err);
bool sqlite_packages_waiting(store_conn_t *conn, char (*keys)[PACKAGES_KEY_MAX], int max, int *n,
                             kt_error_t *err);
bool sqlite_packages_attempt(store_conn_t *conn, const char *key, int64_t *attempts, bool *waiting,
                             kt_error_t *err);
bool sqlite_packages_lease_take(store_conn_t *conn, const char *key, const char *owner,
                                int64_t ttl_ms, int64_t *epoch, bool *taken, kt_error_t *err);
bool sqlite_packages_lease_renew(store_conn_t *conn, const char *key, const char *owner,
                                 int64_t ttl_ms, int64_t *epoch, bool *kept, kt_error_t *err);
bool sqlite_packages_lease_release(store_conn_t *conn, const char *key, const char *owner,
                                   int64_t epoch, kt_error_t *err);
bool sqlite_packages_get(store_conn_t *conn, const char *key, bson_t *out, kt_error_t *err);
bool sqlite_packages_find(store_conn_t *conn, const char *packet_id, const char *org,
                          const char *sender, bson_t *out, int *n, kt_error_t *err);
/* copy (store/copy.h) of the package sets (COPY_PACKAGES ... COPY_PACKAGE_CHUNKS),
 * in MongoDB's documents: store/sqlite/packages.c. */
bool sqlite_packages_copy_each(store_conn_t *conn, copy_set_t set, util_each_fn fn, void *ctx,
                               kt_error_t *err);
bool sqlite_packages_copy_put(store_conn_t *conn, copy_set_t set, const bson_t *doc, bool *inserted,
                              kt_error_t *err);
bool sqlite_verify_record(store_conn_t *conn, const store_kind_t *kind, const char *id,
                          long *versions, bool *head_lags, int64_t *bad_version, char *problem,
                          kt_error_t *err);
bool sqlite_verify_all(store_conn_t *conn, FILE *out, verify_report_t *r, kt_error_t *err);
bool sqlite_verify_last_run(store_conn_t *conn, bson_t *out, bool *found, kt_error_t *err);
bool sqlite_verify_repair_all(store_conn_t *conn, FILE *out, verify_report_t *r, kt_error_t *err);
bool sqlite_verify_count(store_conn_t *conn, long *records, kt_error_t *err);
bool sqlite_health_keys_insert(store_conn_t *conn, const char *dkid, const bson_t *wraps,
                               kt_error_t *err);
bool sqlite_health_keys_get(store_conn_t *conn, const char *dkid, bson_t *wraps, bool *found,
                            kt_error_t *err);
bool sqlite_health_keys_put_wraps(store_conn_t *conn, const char *dkid, const bson_t *wraps,
                                  kt_error_t *err);
bool sqlite_health_keys_each(store_conn_t *conn, const char *lacking_kek, const char *after,
                             int limit, util_each_fn fn, void *ctx, kt_error_t *err);

/* copy (store/copy.h): copy.c, and packages.c for the package sets. */
bool sqlite_dup_pair_put(store_conn_t *conn, const bson_t *pair, bool replace, bool *written,
                         kt_error_t *err);
/* Every pair document in id order (kontingentctl migrate: store/copy.h). */
bool sqlite_dup_pairs_copy_each(store_conn_t *conn, util_each_fn fn, void *ctx, kt_error_t *err);
bool sqlite_dup_pair_get(store_conn_t *conn, const char *id, bson_t *out, bool *found,
                         kt_error_t *err);
bool sqlite_dup_pairs_list(store_conn_t *conn, const char *field, const char *value,
                           const char *after_created, const char *after_id, int limit,
                           util_each_fn fn, void *ctx, kt_error_t *err);
bool sqlite_copy_each(store_conn_t *conn, copy_set_t set, util_each_fn fn, void *ctx,
                      kt_error_t *err);
bool sqlite_copy_put(store_conn_t *conn, copy_set_t set, const bson_t *doc, bool *inserted,
                     kt_error_t *err);
bool sqlite_copy_finish(store_conn_t *conn, kt_error_t *err);

#endif
