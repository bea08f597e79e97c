/*
 * scan: the report and export scans of the SQLite store (store/scan.h).
 *
 * scan_latest reads one version per record, never the others: for each
 * head, the highest version with time ≤ until, found by walking that
 * record's versions downwards in <versions>_latest (id, version, time) —
 * one step when the record has not changed since until, the common case —
 * then the records of those versions in the table's order. The records go
 * to scan_visit() (store/backend.h) as views of their blobs, so the map and
 * the summaries are the same as MongoDB's.
 *
 * scan_page is a range of the (organization, id, version) index, in the
 * order of MongoDB's version _ids, with the same cursor ("<id>:<10-digit
 * version>").
 */
#include "store/sqlite/sqlite.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Above every stored-form time: no bound. */
#define TIME_TOP "~"

/* ?1: until ("~" for none). First the rowids of the versions wanted, one
 * per head: for each head in id order, the highest version with time ≤
 * until, walking <versions>_latest (id, version, time) downwards — the
 * index alone, no row is read. Then the records in rowid order, which is
 * the order of the table's pages, so that the file is read forwards
 * rather than one random page per record (3.4 s instead of 6 s of CPU
 * for 1 M students, docs/storage.md). */
#define SQL_LATEST                                                                                 \
    "WITH t(rid) AS MATERIALIZED ("                                                                \
    " SELECT (SELECT v.rowid FROM %s v INDEXED BY %s_latest WHERE v.id = h.id AND v.time <= ?1"    \
    " ORDER BY v.version DESC LIMIT 1) AS rid FROM %s h ORDER BY 1)"                               \
    " SELECT v.record FROM t CROSS JOIN %s v ON v.rowid = t.rid"

/* ?1 organization, ?2 ?3 the cursor's (id, version), ?4 until, ?5 rows. */
#define SQL_PAGE                                                                                   \
    "SELECT id, version FROM %s WHERE organization = ?1 AND (id, version) > (?2, ?3)"              \
    " AND time <= ?4 ORDER BY id, version LIMIT ?5"

/* Feeds scan_visit each row's record (column 0; NULL rows: nothing at or
 * before until). */
static bool
visit_rows(store_conn_t *conn, sqlite3_stmt *st, scan_run_t *run, kt_error_t *err)
{
    int rc;

    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const void *data = sqlite3_column_blob(st, 0);
        int len = sqlite3_column_bytes(st, 0);
        bson_t view;
        if (data == NULL)
            continue;
        /* A view of the row's blob: scan_visit copies what it keeps. */
        if (len < 5 || !bson_init_static(&view, data, (size_t)len)) {
            kt_error_set(err, KT_DOMAIN_STORE, KT_INTERNAL, 500, "%s: a bad version record",
                         run->spec->kind->versions);
            return false;
        }
        if (!scan_visit(run, &view))
            return true; /* run->failed says why */
    }
    if (rc != SQLITE_DONE) {
        sqlite_error(err, sqlite_db(conn), rc, "scan");
        return false;
    }
    return true;
}

bool
sqlite_scan_latest(store_conn_t *conn, const scan_spec_t *spec, strmap_t **out, kt_error_t *err)
{
    const store_kind_t *kind = spec->kind;
    char sql[512];
    sqlite3_stmt *st;
    scan_run_t run;
    bool ok;

    *out = NULL;
    snprintf(sql, sizeof sql, SQL_LATEST, kind->versions, kind->versions, kind->heads,
             kind->versions);
    if (!scan_run_start(&run, spec, err))
        return false;
    st = sqlite_stmt(conn, sql, err);
    if (st != NULL)
        sqlite_bind_text(st, 1, spec->until != NULL ? spec->until : TIME_TOP);
    ok = st != NULL && visit_rows(conn, st, &run, err);
    if (st != NULL)
        sqlite3_reset(st);
    return scan_run_end(&run, ok, out);
}

/* The cursor "<id>:<version>" into its parts; "" is the start. */
static bool
parse_cursor(const char *cursor, char id[64], int64_t *version)
{
    const char *colon = strrchr(cursor, ':');
    char *end = NULL;

    id[0] = '\0';
    *version = 0;
    if (cursor[0] == '\0')
        return true;
    if (colon == NULL || colon == cursor || (size_t)(colon - cursor) >= 64 || colon[1] == '\0')
        return false;
    memcpy(id, cursor, (size_t)(colon - cursor));
    id[colon - cursor] = '\0';
    *version = strtoll(colon + 1, &end, 10);
    return *end == '\0' && *version >= 0;
}

/* One row into the page: the cursor moves to it, its id is kept once. */
static void
page_row(sqlite3_stmt *st, char cursor[64], char (*ids)[40], int *n)
{
    const char *id = (const char *)sqlite3_column_text(st, 0);
    int64_t version = sqlite3_column_int64(st, 1);

    if (id == NULL)
        return;
    store_version_id(id, version, cursor);
    if (strlen(id) >= 40 || (*n > 0 && strcmp(ids[*n - 1], id) == 0))
        return;
    memcpy(ids[(*n)++], id, strlen(id) + 1);
}

bool
sqlite_scan_page(store_conn_t *conn, const scan_spec_t *spec, const char *field, const char *value,
                 char cursor[64], int limit, char (*ids)[40], int *n, bool *more, kt_error_t *err)
{
    char sql[512], after[64];
    int64_t after_version = 0;
    sqlite3_stmt *st;
    int rc, read = 0;

    *n = 0;
    *more = false;
    /* Only the organisation is a column of the versions (schema.c). */
    if (strcmp(field, "doc.organization") != 0 || limit < 1) {
        kt_error_set(err, KT_DOMAIN_STORE, KT_INTERNAL, 500,
                     "scan_page: by doc.organization only, a page of at least 1 (%s)", field);
        return false;
    }
    if (!parse_cursor(cursor, after, &after_version)) {
        kt_error_set(err, KT_DOMAIN_STORE, KT_INTERNAL, 500, "scan_page: bad cursor");
        return false;
    }
    snprintf(sql, sizeof sql, SQL_PAGE, spec->kind->versions);
    if ((st = sqlite_stmt(conn, sql, err)) == NULL)
        return false;
    sqlite_bind_text(st, 1, value);
    sqlite_bind_text(st, 2, after);
    sqlite3_bind_int64(st, 3, after_version);
    sqlite_bind_text(st, 4, spec->until != NULL ? spec->until : TIME_TOP);
    sqlite3_bind_int(st, 5, limit);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        page_row(st, cursor, ids, n);
        read++;
    }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) {
        sqlite_error(err, sqlite_db(conn), rc, "scan_page");
        return false;
    }
    *more = read == limit;
    return true;
}
