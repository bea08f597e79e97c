/*
 * copy: the SQLite side of store/copy.h — rows to and from the documents
 * of the MongoDB implementation's shape.
 */
#include <string.h>

#include "store/sqlite/sqlite.h"

static const char *
str_or(const char *s, const char *fallback)
{
    return s != NULL ? s : fallback;
}

/* --- versions: the record blob is the document; the columns come from it */

static const store_kind_t *
versions_kind(copy_set_t set)
{
    if (set == COPY_PROGRESS_VERSIONS)
        return &store_kind_progress;
    return set == COPY_STUDENT_VERSIONS ? &store_kind_student : &store_kind_organization;
}

/* Calls fn with the blob of column 0 of each row of st, as a document. */
static bool
each_blob(store_conn_t *conn, sqlite3_stmt *st, util_each_fn fn, void *ctx, kt_error_t *err)
{
    int rc;

    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        bson_t doc;
        const uint8_t *data = sqlite3_column_blob(st, 0);
        int len = sqlite3_column_bytes(st, 0);
        /* doc borrows the row's bytes until the next step: fn copies what it keeps. */
        if (data == NULL || !bson_init_static(&doc, data, (size_t)len))
            continue;
        if (!fn(ctx, &doc)) {
            sqlite3_reset(st);
            return true;
        }
    }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE)
        sqlite_error(err, sqlite_db(conn), rc, "copy");
    return rc == SQLITE_DONE;
}

static bool
versions_each(store_conn_t *conn, copy_set_t set, util_each_fn fn, void *ctx, kt_error_t *err)
{
    char sql[128];
    sqlite3_stmt *st;

    snprintf(sql, sizeof sql, "SELECT record FROM %s ORDER BY id, version",
             versions_kind(set)->versions);
    st = sqlite_stmt(conn, sql, err);
    return st != NULL && each_blob(conn, st, fn, ctx, err);
}

static bool
versions_put(store_conn_t *conn, copy_set_t set, const bson_t *rec, bool *inserted, kt_error_t *err)
{
    const store_kind_t *kind = versions_kind(set);
    const char *id = util_get_str(rec, kind->id_member), *time = util_get_str(rec, "time");
    int64_t version = util_get_int(rec, "version", 0);
    char sql[256];
    sqlite3_stmt *st;

    if (id == NULL || time == NULL || version < 1) {
        kt_error_set(err, KT_DOMAIN_STORE, KT_INTERNAL, "copy: %s: not a version record",
                     kind->versions);
        return false;
    }
    snprintf(sql, sizeof sql,
             "INSERT OR IGNORE INTO %s (id, version, time, state, seq, subject, organization, "
             "record) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
             kind->versions);
    if ((st = sqlite_stmt(conn, sql, err)) == NULL)
        return false;
    sqlite_bind_text(st, 1, id);
    sqlite3_bind_int64(st, 2, version);
    sqlite_bind_text(st, 3, time);
    sqlite_bind_text(st, 4, str_or(util_get_str(rec, "state"), "ACTIVE"));
    if (kind->feed)
        sqlite3_bind_int64(st, 5, util_get_int(rec, "seq", 0));
    sqlite_bind_text(st, 6, str_or(util_get_str(rec, "principal.subject"), ""));
    sqlite_bind_text(
        st, 7, kind != &store_kind_organization ? util_get_str(rec, "doc.organization") : NULL);
    sqlite_bind_bson(st, 8, rec);
    if (!sqlite_step_done(st, conn, kind->versions, err))
        return false;
    *inserted = sqlite3_changes(sqlite_db(conn)) == 1;
    return true;
}

/* --- the change feed: rows to and from {_id, seq, student_id, ...} ---- */

static bool
changes_each(store_conn_t *conn, util_each_fn fn, void *ctx, kt_error_t *err)
{
    sqlite3_stmt *st = sqlite_stmt(
        conn,
        "SELECT seq, student_id, version, kind, time, org, from_org FROM changes ORDER BY seq",
        err);
    int rc = SQLITE_DONE;
    bool go = true;

    while (st != NULL && go && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        bson_t doc = BSON_INITIALIZER;
        char id[24];
        const char *from = (const char *)sqlite3_column_text(st, 6);
        snprintf(id, sizeof id, "%020lld", (long long)sqlite3_column_int64(st, 0));
        BSON_APPEND_UTF8(&doc, "_id", id);
        BSON_APPEND_INT64(&doc, "seq", sqlite3_column_int64(st, 0));
        BSON_APPEND_UTF8(&doc, "student_id", (const char *)sqlite3_column_text(st, 1));
        BSON_APPEND_INT64(&doc, "version", sqlite3_column_int64(st, 2));
        BSON_APPEND_UTF8(&doc, "kind", (const char *)sqlite3_column_text(st, 3));
        BSON_APPEND_UTF8(&doc, "organization", (const char *)sqlite3_column_text(st, 5));
        if (from != NULL && from[0] != '\0')
            BSON_APPEND_UTF8(&doc, "from_organization", from);
        BSON_APPEND_UTF8(&doc, "time", (const char *)sqlite3_column_text(st, 4));
        BSON_APPEND_INT64(&doc, "reserved_ms", 0); /* decided: its version exists */
        go = fn(ctx, &doc);
        bson_destroy(&doc);
    }
    if (st != NULL)
        sqlite3_reset(st);
    if (st != NULL && go && rc != SQLITE_DONE)
        sqlite_error(err, sqlite_db(conn), rc, "copy changes");
    return st != NULL && (!go || rc == SQLITE_DONE);
}

/* An entry is kept only when its version is there with its sequence: the
 * MongoDB protocol's void reservations stay behind. */
static bool
changes_put(store_conn_t *conn, const bson_t *e, bool *inserted, kt_error_t *err)
{
    sqlite3_stmt *st = sqlite_stmt(
        conn, "SELECT 1 FROM student_versions WHERE id = ? AND version = ? AND seq = ?", err);
    int64_t seq = util_get_int(e, "seq", 0);
    bool valid;

    *inserted = false;
    if (st == NULL)
        return false;
    sqlite_bind_text(st, 1, util_get_str(e, "student_id"));
    sqlite3_bind_int64(st, 2, util_get_int(e, "version", 0));
    sqlite3_bind_int64(st, 3, seq);
    valid = sqlite3_step(st) == SQLITE_ROW;
    sqlite3_reset(st);
    if (!valid)
        return true;
    st = sqlite_stmt(conn,
                     "INSERT OR IGNORE INTO changes (seq, student_id, version, kind, time, org, "
                     "from_org) VALUES (?, ?, ?, ?, ?, ?, ?)",
                     err);
    if (st == NULL)
        return false;
    sqlite3_bind_int64(st, 1, seq);
    sqlite_bind_text(st, 2, util_get_str(e, "student_id"));
    sqlite3_bind_int64(st, 3, util_get_int(e, "version", 0));
    sqlite_bind_text(st, 4, str_or(util_get_str(e, "kind"), "update"));
    sqlite_bind_text(st, 5, str_or(util_get_str(e, "time"), ""));
    sqlite_bind_text(st, 6, str_or(util_get_str(e, "organization"), ""));
    sqlite_bind_text(st, 7, str_or(util_get_str(e, "from_organization"), ""));
    if (!sqlite_step_done(st, conn, "copy changes", err))
        return false;
    *inserted = sqlite3_changes(sqlite_db(conn)) == 1;
    return true;
}

/* --- the access log: the entry blob is the document ----------------- */

static bool
access_each(store_conn_t *conn, util_each_fn fn, void *ctx, kt_error_t *err)
{
    sqlite3_stmt *st = sqlite_stmt(conn, "SELECT entry FROM access_log ORDER BY id", err);

    return st != NULL && each_blob(conn, st, fn, ctx, err);
}

static bool
access_put(store_conn_t *conn, const bson_t *e, bool *inserted, kt_error_t *err)
{
    const char *id = util_get_str(e, "_id"), *time = util_get_str(e, "time");
    sqlite3_stmt *st;
    bson_iter_t it, students;

    if (id == NULL || time == NULL) {
        kt_error_set(err, KT_DOMAIN_STORE, KT_INTERNAL, "copy: not an access-log entry");
        return false;
    }
    st = sqlite_stmt(conn,
                     "INSERT OR IGNORE INTO access_log (id, time, subject, entry) "
                     "VALUES (?, ?, ?, ?)",
                     err);
    if (st == NULL)
        return false;
    sqlite_bind_text(st, 1, id);
    sqlite_bind_text(st, 2, time);
    sqlite_bind_text(st, 3, str_or(util_get_str(e, "subject"), ""));
    sqlite_bind_bson(st, 4, e);
    if (!sqlite_step_done(st, conn, "copy access_log", err))
        return false;
    *inserted = sqlite3_changes(sqlite_db(conn)) == 1;
    if (!*inserted || !bson_iter_init_find(&it, e, "students") || !BSON_ITER_HOLDS_ARRAY(&it) ||
        !bson_iter_recurse(&it, &students))
        return true;
    while (bson_iter_next(&students)) {
        if (!BSON_ITER_HOLDS_UTF8(&students))
            continue;
        st = sqlite_stmt(
            conn, "INSERT OR IGNORE INTO access_log_students (student_id, id) VALUES (?, ?)", err);
        if (st == NULL)
            return false;
        sqlite_bind_text(st, 1, bson_iter_utf8(&students, NULL));
        sqlite_bind_text(st, 2, id);
        if (!sqlite_step_done(st, conn, "copy access_log", err))
            return false;
    }
    return true;
}

/* --- wrapped health keys: {_id, time, wraps} --------------------------- */

static bool
keys_each(store_conn_t *conn, util_each_fn fn, void *ctx, kt_error_t *err)
{
    sqlite3_stmt *st =
        sqlite_stmt(conn, "SELECT id, time, wraps FROM health_keys ORDER BY id", err);
    int rc = SQLITE_DONE;
    bool go = true;

    while (st != NULL && go && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        bson_t doc = BSON_INITIALIZER, wraps;
        BSON_APPEND_UTF8(&doc, "_id", (const char *)sqlite3_column_text(st, 0));
        BSON_APPEND_UTF8(&doc, "time", (const char *)sqlite3_column_text(st, 1));
        if (sqlite_column_bson(st, 2, &wraps))
            BSON_APPEND_DOCUMENT(&doc, "wraps", &wraps);
        bson_destroy(&wraps);
        go = fn(ctx, &doc);
        bson_destroy(&doc);
    }
    if (st != NULL)
        sqlite3_reset(st);
    if (st != NULL && go && rc != SQLITE_DONE)
        sqlite_error(err, sqlite_db(conn), rc, "copy health_keys");
    return st != NULL && (!go || rc == SQLITE_DONE);
}

static bool
keys_put(store_conn_t *conn, const bson_t *k, bool *inserted, kt_error_t *err)
{
    bson_iter_t it;
    uint32_t len = 0;
    const uint8_t *data = NULL;
    bson_t wraps;
    sqlite3_stmt *st;

    if (util_get_str(k, "_id") == NULL || !bson_iter_init_find(&it, k, "wraps") ||
        !BSON_ITER_HOLDS_DOCUMENT(&it)) {
        kt_error_set(err, KT_DOMAIN_STORE, KT_INTERNAL, "copy: not a wrapped health key");
        return false;
    }
    bson_iter_document(&it, &len, &data);
    /* wraps borrows k's bytes: bound as a copy below, so nothing outlives k. */
    if (!bson_init_static(&wraps, data, len) ||
        (st = sqlite_stmt(conn,
                          "INSERT OR IGNORE INTO health_keys (id, time, wraps) VALUES (?, ?, ?)",
                          err)) == NULL)
        return false;
    sqlite_bind_text(st, 1, util_get_str(k, "_id"));
    sqlite_bind_text(st, 2, str_or(util_get_str(k, "time"), ""));
    sqlite_bind_bson(st, 3, &wraps);
    if (!sqlite_step_done(st, conn, "copy health_keys", err))
        return false;
    *inserted = sqlite3_changes(sqlite_db(conn)) == 1;
    return true;
}

bool
sqlite_copy_each(store_conn_t *conn, copy_set_t set, util_each_fn fn, void *ctx, kt_error_t *err)
{
    switch (set) {
    case COPY_STUDENT_VERSIONS:
    case COPY_ORGANIZATION_VERSIONS:
    case COPY_PROGRESS_VERSIONS:
        return versions_each(conn, set, fn, ctx, err);
    case COPY_CHANGES:
        return changes_each(conn, fn, ctx, err);
    case COPY_PACKAGES:
    case COPY_PACKAGE_ITEMS:
    case COPY_PACKAGE_RECEIPTS:
    case COPY_PACKAGE_CHUNKS:
        return sqlite_packages_copy_each(conn, set, fn, ctx, err);
    case COPY_ACCESS_LOG:
        return access_each(conn, fn, ctx, err);
    case COPY_HEALTH_KEYS:
        return keys_each(conn, fn, ctx, err);
    case COPY_DUP_PAIRS:
        return sqlite_dup_pairs_copy_each(conn, fn, ctx, err);
    default:
        kt_error_set(err, KT_DOMAIN_INTERNAL, KT_INTERNAL, "copy: no such set");
        return false;
    }
}

bool
sqlite_copy_put(store_conn_t *conn, copy_set_t set, const bson_t *doc, bool *inserted,
                kt_error_t *err)
{
    switch (set) {
    case COPY_STUDENT_VERSIONS:
    case COPY_ORGANIZATION_VERSIONS:
    case COPY_PROGRESS_VERSIONS:
        return versions_put(conn, set, doc, inserted, err);
    case COPY_CHANGES:
        return changes_put(conn, doc, inserted, err);
    case COPY_PACKAGES:
    case COPY_PACKAGE_ITEMS:
    case COPY_PACKAGE_RECEIPTS:
    case COPY_PACKAGE_CHUNKS:
        return sqlite_packages_copy_put(conn, set, doc, inserted, err);
    case COPY_ACCESS_LOG:
        return access_put(conn, doc, inserted, err);
    case COPY_HEALTH_KEYS:
        return keys_put(conn, doc, inserted, err);
    case COPY_DUP_PAIRS: /* a pair there already is kept, as copying wants */
        return sqlite_dup_pair_put(conn, doc, false, inserted, err);
    default:
        kt_error_set(err, KT_DOMAIN_INTERNAL, KT_INTERNAL, "copy: no such set");
        return false;
    }
}

/* Nothing beyond the rows: sequences are the rows' own. */
bool
sqlite_copy_finish(store_conn_t *conn, kt_error_t *err)
{
    return true;
}
