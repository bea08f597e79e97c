/*
 * feedepoch: the change feed's epoch, for kontingentctl.
 *
 *   epoch         prints the store's epoch ("0": the original one)
 *   epoch renew   gives the store a new random epoch — the step that follows
 *                 every restore of a backup (docs/operations.md, "Backup"):
 *                 sync clients' cursors and ETags of before then answer
 *                 410/412 FEED_EPOCH_CHANGED and they resynchronise, instead
 *                 of missing the changes that re-use the restored sequences
 *                 and versions — and tells the service (SIGHUP), whose fresh
 *                 workers read it.
 */
#include "ctl/feedepoch.h"

#include <stdio.h>
#include <string.h>

#include "ctl/keys.h"
#include "store/feed.h"

int
feedepoch_command(const config_t *cfg, int argc, char **argv)
{
    bool renew = argc == 1 && strcmp(argv[0], "renew") == 0;
    char epoch[FEED_EPOCH_MAX];
    kt_error_t err;
    store_t *store;
    store_conn_t *conn;
    bool ok;

    if (argc > 1 || (argc == 1 && !renew))
        return 2;
    kt_error_clear(&err);
    store = config_store_new(cfg, &err);
    if (store == NULL) {
        fprintf(stderr, "kontingentctl epoch: %s\n", err.message);
        return 1;
    }
    conn = store_conn_pop(store, STORE_POOL_BATCH);
    /* prepare first: a restored store may predate the table that holds it */
    ok = store_prepare(conn, &err) &&
         (renew ? feed_epoch_renew(conn, epoch, &err) : feed_epoch_get(conn, epoch, &err));
    store_conn_push(conn);
    store_free(store);
    if (!ok) {
        fprintf(stderr, "kontingentctl epoch: %s\n", err.message);
        return 1;
    }
    printf("%s\n", epoch);
    if (renew)
        keys_tell_workers(cfg);
    return 0;
}
