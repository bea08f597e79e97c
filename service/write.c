/* write: the one read-modify-write-retry loop (service/write.h). */
#include "service/write.h"

#include <string.h>

/* One attempt: read, compose, write. */
static bool
update_once(store_conn_t *conn, const service_update_t *u, record_t *cur, bson_t *doc,
            write_result_t *out, kt_error_t *err)
{
    bool ok;

    bson_reinit(doc);
    record_release(cur);
    record_init(cur);
    ok = u->load != NULL ? u->load(u->ctx, u->id, cur, err)
                         : store_record_get(conn, u->kind, u->id, cur, err);
    if (ok && cur->deleted) {
        kt_error_set(err, KT_DOMAIN_INPUT, KT_GONE,
                     strcmp(u->kind->name, "organization") == 0 ? "the organization was deleted"
                                                                : "the student was deleted");
        ok = false;
    }
    return ok && u->compose(u->ctx, cur, doc, err) &&
           store_record_write(conn, u->kind, WRITE_UPDATE, cur->id,
                              u->expected ? u->expected : cur->version, doc, u->meta, out, err);
}

bool
service_update(store_conn_t *conn, const service_update_t *u, record_t *cur, bson_t *doc,
               write_result_t *out, kt_error_t *err)
{
    for (int attempt = 0; attempt < SERVICE_WRITE_RETRIES; attempt++) {
        kt_error_clear(err);
        if (update_once(conn, u, cur, doc, out, err))
            return true;
        /* With If-Match the client decides; otherwise another writer won
         * version N+1 between our read and write: read again. */
        if (u->expected != 0 || err->code != KT_VERSION_CONFLICT)
            return false;
    }
    return false;
}
