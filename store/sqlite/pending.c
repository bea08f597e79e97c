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
