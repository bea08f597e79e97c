/*
 * epoch: the feed's epoch (store/feed.h) in the meta table, under
 * "feed_epoch", as the document {epoch: "<16 hex digits>"}.
 */
#include <string.h>

#include "store/sqlite/sqlite.h"
#include "store/util.h"

#define META_EPOCH "feed_epoch"

bool
sqlite_feed_epoch_get(store_conn_t *conn, char epoch[FEED_EPOCH_MAX], kt_error_t *err)
{
    sqlite3_stmt *st = sqlite_stmt(conn, "SELECT doc FROM meta WHERE key = ?1", err);
    bson_t doc;
    int rc;

    snprintf(epoch, FEED_EPOCH_MAX, "%s", FEED_EPOCH_ORIGINAL);
    if (st == NULL)
        return false;
    sqlite_bind_text(st, 1, META_EPOCH);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        const char *e = sqlite_column_bson(st, 0, &doc) ? util_get_str(&doc, "epoch") : NULL;
        if (e != NULL && e[0] != '\0')
            snprintf(epoch, FEED_EPOCH_MAX, "%s", e);
        bson_destroy(&doc); /* initialised by sqlite_column_bson on every path */
    }
    sqlite3_reset(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        sqlite_error(err, sqlite_db(conn), rc, "read the feed epoch");
    return rc == SQLITE_ROW || rc == SQLITE_DONE;
}

bool
sqlite_feed_epoch_set(store_conn_t *conn, const char *epoch, kt_error_t *err)
{
    sqlite3_stmt *st = sqlite_stmt(conn,
                                   "INSERT INTO meta(key, doc) VALUES(?1, ?2)"
                                   " ON CONFLICT(key) DO UPDATE SET doc = excluded.doc",
                                   err);
    bson_t doc = BSON_INITIALIZER;
    bool ok = false;

    if (st != NULL) {
        BSON_APPEND_UTF8(&doc, "epoch", epoch);
        sqlite_bind_text(st, 1, META_EPOCH);
        sqlite_bind_bson(st, 2, &doc);
        ok = sqlite_step_done(st, conn, "write the feed epoch", err);
        sqlite3_reset(st);
    }
    bson_destroy(&doc);
    return ok;
}
