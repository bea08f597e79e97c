/*
 * duplicates: the candidate pairs in the SQLite store (store/duplicates.h)
 * — table dup_pairs (id, created, state, doc: the pair document as MongoDB
 * keeps it) and dup_pair_keys, one row per list an open pair belongs to
 * (all, its organisations, its municipalities), whose primary key
 * (field, value, created, id) reads a page newest first without a sort.
 */
#include "store/sqlite/sqlite.h"

#include <string.h>

#include "store/duplicates.h"

#define SQL_INSERT                                                                                 \
    "INSERT INTO dup_pairs(id, created, state, doc) VALUES(?1, ?2, ?3, ?4)"                        \
    " ON CONFLICT(id) DO NOTHING"
#define SQL_REPLACE                                                                                \
    "INSERT INTO dup_pairs(id, created, state, doc) VALUES(?1, ?2, ?3, ?4)"                        \
    " ON CONFLICT(id) DO UPDATE SET state = excluded.state, doc = excluded.doc"
#define SQL_KEYS_CLEAR "DELETE FROM dup_pair_keys WHERE id = ?1"
#define SQL_KEY_PUT                                                                                \
    "INSERT OR IGNORE INTO dup_pair_keys(field, value, created, id) VALUES(?1, ?2, ?3, ?4)"
#define SQL_GET "SELECT doc FROM dup_pairs WHERE id = ?1"
/* ?3, ?4: the cursor; "~" sorts after every time, so no cursor is ("~", ""). */
#define SQL_LIST                                                                                   \
    "SELECT p.doc FROM dup_pair_keys k JOIN dup_pairs p ON p.id = k.id"                            \
    " WHERE k.field = ?1 AND k.value = ?2 AND (k.created, k.id) < (?3, ?4)"                        \
    " ORDER BY k.created DESC, k.id DESC LIMIT ?5"

static bool
key_put(store_conn_t *conn, const char *field, const char *value, const char *created,
        const char *id, kt_error_t *err)
{
    sqlite3_stmt *st = sqlite_stmt(conn, SQL_KEY_PUT, err);
    bool ok;

    if (st == NULL)
        return false;
    sqlite_bind_text(st, 1, field);
    sqlite_bind_text(st, 2, value);
    sqlite_bind_text(st, 3, created);
    sqlite_bind_text(st, 4, id);
    ok = sqlite_step_done(st, conn, "write a duplicate pair's list key", err);
    sqlite3_reset(st);
    return ok;
}

/* The keys of each string in the array member `array` of pair under field. */
static bool
array_keys(store_conn_t *conn, const bson_t *pair, const char *array, const char *field,
           const char *created, const char *id, kt_error_t *err)
{
    bson_iter_t it, child;
    bool ok = true;

    if (!bson_iter_init_find(&it, pair, array) || !BSON_ITER_HOLDS_ARRAY(&it) ||
        !bson_iter_recurse(&it, &child))
        return true;
    while (ok && bson_iter_next(&child))
        if (BSON_ITER_HOLDS_UTF8(&child) && bson_iter_utf8(&child, NULL)[0] != '\0')
            ok = key_put(conn, field, bson_iter_utf8(&child, NULL), created, id, err);
    return ok;
}

/* The pair's list rows: none unless it is open. */
static bool
put_keys(store_conn_t *conn, const bson_t *pair, const char *id, kt_error_t *err)
{
    sqlite3_stmt *st = sqlite_stmt(conn, SQL_KEYS_CLEAR, err);
    const char *created = util_get_str(pair, "created");
    const char *state = util_get_str(pair, "state");
    bool ok;

    if (st == NULL)
        return false;
    sqlite_bind_text(st, 1, id);
    ok = sqlite_step_done(st, conn, "clear a duplicate pair's list keys", err);
    sqlite3_reset(st);
    if (!ok || state == NULL || strcmp(state, "open") != 0)
        return ok;
    created = created != NULL ? created : "";
    return key_put(conn, "all", "", created, id, err) &&
           array_keys(conn, pair, "organizations", "organization", created, id, err) &&
           array_keys(conn, pair, "municipalities", "municipality", created, id, err);
}

static bool
put_pair(store_conn_t *conn, const bson_t *pair, bool replace, bool *written, kt_error_t *err)
{
    sqlite3_stmt *st = sqlite_stmt(conn, replace ? SQL_REPLACE : SQL_INSERT, err);
    const char *id = util_get_str(pair, "_id");
    const char *created = util_get_str(pair, "created");
    const char *state = util_get_str(pair, "state");
    bool ok;

    if (st == NULL)
        return false;
    sqlite_bind_text(st, 1, id != NULL ? id : "");
    sqlite_bind_text(st, 2, created != NULL ? created : "");
    sqlite_bind_text(st, 3, state != NULL ? state : "");
    sqlite_bind_bson(st, 4, pair);
    ok = sqlite_step_done(st, conn, "write a duplicate pair", err);
    sqlite3_reset(st);
    *written = ok && sqlite3_changes(sqlite_db(conn)) > 0;
    return ok && (!*written || put_keys(conn, pair, id != NULL ? id : "", err));
}

bool
sqlite_dup_pair_put(store_conn_t *conn, const bson_t *pair, bool replace, bool *written,
                    kt_error_t *err)
{
    *written = false;
    if (!sqlite_begin(conn, err))
        return false;
    if (!put_pair(conn, pair, replace, written, err)) {
        sqlite_rollback(conn);
        *written = false;
        return false;
    }
    return sqlite_commit(conn, err);
}

bool
sqlite_dup_pair_get(store_conn_t *conn, const char *id, bson_t *out, bool *found, kt_error_t *err)
{
    sqlite3_stmt *st = sqlite_stmt(conn, SQL_GET, err);
    int rc;

    *found = false;
    if (st == NULL)
        return false;
    sqlite_bind_text(st, 1, id);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        bson_t copy;
        bool good = sqlite_column_bson(st, 0, &copy);
        if (good)
            bson_steal(out, &copy); /* out initialised only when *found */
        else
            bson_destroy(&copy);
        *found = good;
        if (!good)
            kt_error_set(err, KT_DOMAIN_STORE, KT_INTERNAL, "duplicate pair %s: bad document", id);
        sqlite3_reset(st);
        return good;
    }
    if (rc != SQLITE_DONE)
        sqlite_error(err, sqlite_db(conn), rc, "read a duplicate pair");
    sqlite3_reset(st);
    return rc == SQLITE_DONE;
}

bool
sqlite_dup_pairs_list(store_conn_t *conn, const char *field, const char *value,
                      const char *after_created, const char *after_id, int limit, util_each_fn fn,
                      void *ctx, kt_error_t *err)
{
    sqlite3_stmt *st = sqlite_stmt(conn, SQL_LIST, err);
    bool more = true;
    int rc = SQLITE_DONE;

    if (st == NULL)
        return false;
    sqlite_bind_text(st, 1, field != NULL ? field : "all");
    sqlite_bind_text(st, 2, field != NULL ? value : "");
    sqlite_bind_text(st, 3, after_created != NULL ? after_created : "~");
    sqlite_bind_text(st, 4, after_created != NULL && after_id != NULL ? after_id : "");
    sqlite3_bind_int(st, 5, limit);
    while (more && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        bson_t doc;
        if (!sqlite_column_bson(st, 0, &doc)) {
            bson_destroy(&doc);
            sqlite3_reset(st);
            kt_error_set(err, KT_DOMAIN_STORE, KT_INTERNAL, "a duplicate pair: bad document");
            return false;
        }
        more = fn(ctx, &doc);
        bson_destroy(&doc);
    }
    if (more && rc != SQLITE_DONE) {
        sqlite_error(err, sqlite_db(conn), rc, "list duplicate pairs");
        sqlite3_reset(st);
        return false;
    }
    sqlite3_reset(st);
    return true;
}

bool
sqlite_dup_pairs_copy_each(store_conn_t *conn, util_each_fn fn, void *ctx, kt_error_t *err)
{
    sqlite3_stmt *st = sqlite_stmt(conn, "SELECT doc FROM dup_pairs ORDER BY id", err);
    bool go = true;
    int rc = SQLITE_DONE;

    while (st != NULL && go && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        bson_t doc;
        if (sqlite_column_bson(st, 0, &doc))
            go = fn(ctx, &doc);
        bson_destroy(&doc);
    }
    if (st != NULL)
        sqlite3_reset(st);
    if (st != NULL && go && rc != SQLITE_DONE)
        sqlite_error(err, sqlite_db(conn), rc, "copy dup_pairs");
    return st != NULL && (!go || rc == SQLITE_DONE);
}
