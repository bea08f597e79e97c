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

#include "store/backend.h"
#include "store/util.h"

/* One connection per borrowed handle; prepared statements are cached on it. */
typedef struct {
    store_conn_t base; /* first: a store_conn_t * is a sqlite_conn_t * */
    sqlite3 *db;
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

/* BEGIN IMMEDIATE / COMMIT / ROLLBACK. */
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

#endif
