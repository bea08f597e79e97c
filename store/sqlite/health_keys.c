/*
 * health_keys: the wrapped data keys in the SQLite store
 * (store/health_keys.h) — table health_keys(id, time, wraps), wraps the
 * same BSON document as MongoDB's member. A visitor gets the document
 * MongoDB keeps: {_id, time, wraps}.
 */
#include "store/sqlite/sqlite.h"

#include <stdlib.h>
#include <string.h>

#define SQL_INSERT "INSERT INTO health_keys(id, time, wraps) VALUES(?1, ?2, ?3)"
#define SQL_GET    "SELECT wraps FROM health_keys WHERE id = ?1"
/* As MongoDB's replace with upsert: a missing key is made, a present one
 * keeps its time. */
#define SQL_PUT                                                                                    \
    "INSERT INTO health_keys(id, time, wraps) VALUES(?1, ?2, ?3)"                                  \
    " ON CONFLICT(id) DO UPDATE SET wraps = excluded.wraps"
/* In id order after ?1; the KEK filter is applied to each row in C (wraps is
 * a document), so a page reads until it has limit keys or the table ends. */
#define SQL_EACH "SELECT id, time, wraps FROM health_keys WHERE id > ?1 ORDER BY id"

/* The most keys one page of `each` holds in memory (the callers ask for
 * 1 000 at most; a key document is about 200 bytes). */
#define HEALTH_KEYS_PAGE_MAX 10000

static bool
bad_key(kt_error_t *err, const char *dkid)
{
    kt_error_set(err, KT_DOMAIN_STORE, KT_INTERNAL, 500, "data key %s: bad wraps document", dkid);
    return false;
}

bool
sqlite_health_keys_insert(store_conn_t *conn, const char *dkid, const bson_t *wraps,
                          kt_error_t *err)
{
    sqlite3_stmt *st = sqlite_stmt(conn, SQL_INSERT, err);
    char time_s[32];
    int rc;

    if (st == NULL)
        return false;
    util_time_now(time_s);
    sqlite_bind_text(st, 1, dkid);
    sqlite_bind_text(st, 2, time_s);
    sqlite_bind_bson(st, 3, wraps);
    rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc == SQLITE_DONE)
        return true;
    if ((rc & 0xff) == SQLITE_CONSTRAINT) /* 128 random bits met twice: never, but not silently */
        kt_error_set(err, KT_DOMAIN_STORE, KT_INTERNAL, 500, "data key id %s exists", dkid);
    else
        sqlite_error(err, sqlite_db(conn), rc, "health_keys insert");
    return false;
}

bool
sqlite_health_keys_get(store_conn_t *conn, const char *dkid, bson_t *wraps, bool *found,
                       kt_error_t *err)
{
    sqlite3_stmt *st = sqlite_stmt(conn, SQL_GET, err);
    int rc;

    *found = false;
    if (st == NULL)
        return false;
    sqlite_bind_text(st, 1, dkid);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        /* wraps is initialised only when *found, as the contract says. */
        bson_t copy;
        if (!sqlite_column_bson(st, 0, &copy)) {
            bson_destroy(&copy);
            sqlite3_reset(st);
            return bad_key(err, dkid);
        }
        bson_steal(wraps, &copy);
        *found = true;
    } else if (rc != SQLITE_DONE) {
        sqlite_error(err, sqlite_db(conn), rc, "health_keys get");
    }
    sqlite3_reset(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE;
}

bool
sqlite_health_keys_put_wraps(store_conn_t *conn, const char *dkid, const bson_t *wraps,
                             kt_error_t *err)
{
    sqlite3_stmt *st = sqlite_stmt(conn, SQL_PUT, err);
    char time_s[32];
    bool ok;

    if (st == NULL)
        return false;
    util_time_now(time_s);
    sqlite_bind_text(st, 1, dkid);
    sqlite_bind_text(st, 2, time_s);
    sqlite_bind_bson(st, 3, wraps);
    ok = sqlite_step_done(st, conn, "health_keys put", err);
    sqlite3_reset(st);
    return ok;
}

/* Whether the key document of the row is wanted; *doc built when it is
 * (the caller destroys it). */
static bool
row_doc(sqlite3_stmt *st, const char *lacking_kek, bson_t *doc, bool *wanted, kt_error_t *err)
{
    const char *id = (const char *)sqlite3_column_text(st, 0);
    const void *data = sqlite3_column_blob(st, 2);
    int len = sqlite3_column_bytes(st, 2);
    bson_t wraps;
    bson_iter_t it;

    *wanted = false;
    if (data == NULL || len < 5 || !bson_init_static(&wraps, data, (size_t)len))
        return bad_key(err, id != NULL ? id : "?");
    if (lacking_kek != NULL && bson_iter_init_find(&it, &wraps, lacking_kek))
        return true;
    bson_init(doc);
    BSON_APPEND_UTF8(doc, "_id", id);
    BSON_APPEND_UTF8(doc, "time", (const char *)sqlite3_column_text(st, 1));
    BSON_APPEND_DOCUMENT(doc, "wraps", &wraps);
    *wanted = true;
    return true;
}

/* Up to limit wanted documents into docs[*n]; the statement is reset
 * before this returns, so no read is open when the visitor runs. */
static bool
read_page(store_conn_t *conn, const char *lacking_kek, const char *after, int limit, bson_t *docs,
          int *n, kt_error_t *err)
{
    sqlite3_stmt *st = sqlite_stmt(conn, SQL_EACH, err);
    int rc = SQLITE_DONE;
    bool ok = true, wanted = false;

    if (st == NULL)
        return false;
    sqlite_bind_text(st, 1, after != NULL ? after : "");
    while (*n < limit && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (!(ok = row_doc(st, lacking_kek, &docs[*n], &wanted, err)))
            break;
        *n += wanted;
    }
    sqlite3_reset(st);
    if (ok && rc != SQLITE_ROW && rc != SQLITE_DONE) {
        sqlite_error(err, sqlite_db(conn), rc, "health_keys each");
        ok = false;
    }
    return ok;
}

/* The page is read whole before fn sees any of it: the visitor of a
 * rotation writes each key back (put_wraps) on this connection, and a write
 * while this connection's read is open would meet the writes of others
 * since its snapshot (SQLITE_BUSY_SNAPSHOT, at once, whatever the busy
 * timeout). */
bool
sqlite_health_keys_each(store_conn_t *conn, const char *lacking_kek, const char *after, int limit,
                        util_each_fn fn, void *ctx, kt_error_t *err)
{
    bson_t *docs = NULL;
    int n = 0;
    bool ok, go_on = true;

    if (limit < 1 || limit > HEALTH_KEYS_PAGE_MAX) {
        kt_error_set(err, KT_DOMAIN_STORE, KT_INTERNAL, 500,
                     "health_keys each: a page of 1 to %d keys", HEALTH_KEYS_PAGE_MAX);
        return false;
    }
    docs = calloc((size_t)limit, sizeof *docs);
    if (docs == NULL) {
        kt_error_set(err, KT_DOMAIN_STORE, KT_UNAVAILABLE, 503, "out of memory for health keys");
        return false;
    }
    ok = read_page(conn, lacking_kek, after, limit, docs, &n, err);
    for (int i = 0; i < n; i++) {
        go_on = go_on && ok && fn(ctx, &docs[i]);
        bson_destroy(&docs[i]);
    }
    free(docs);
    return ok;
}
