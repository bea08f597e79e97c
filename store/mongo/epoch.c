/*
 * epoch: the feed's epoch (store/feed.h) in the collection "meta", as the
 * document {_id: "feed_epoch", epoch: "<16 hex digits>"}.
 */
#include <string.h>

#include "store/mongo/mongo.h"
#include "store/util.h"

#define META       "meta"
#define META_EPOCH "feed_epoch"

bool
mongo_feed_epoch_get(store_conn_t *conn, char epoch[FEED_EPOCH_MAX], kt_error_t *err)
{
    bson_t doc;
    bool found = false, ok;

    snprintf(epoch, FEED_EPOCH_MAX, "%s", FEED_EPOCH_ORIGINAL);
    ok = mongo_find_id(conn, META, META_EPOCH, &doc, &found, err);
    if (ok && found) {
        const char *e = util_get_str(&doc, "epoch");
        if (e != NULL && e[0] != '\0')
            snprintf(epoch, FEED_EPOCH_MAX, "%s", e);
    }
    bson_destroy(&doc); /* initialised by mongo_find_id on every path */
    return ok;
}

bool
mongo_feed_epoch_set(store_conn_t *conn, const char *epoch, kt_error_t *err)
{
    bson_t doc = BSON_INITIALIZER;
    bool ok;

    BSON_APPEND_UTF8(&doc, "_id", META_EPOCH);
    BSON_APPEND_UTF8(&doc, "epoch", epoch);
    ok = mongo_replace_id(conn, META, META_EPOCH, &doc, err);
    bson_destroy(&doc);
    return ok;
}
