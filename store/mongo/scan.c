/*
 * scan: see store/scan.h. A map value is the kept version (int64) followed
 * by the caller's summary.
 */
#include "store/mongo/mongo.h"

#include <string.h>

#include "store/util.h"

#define SCAN_BATCH 1000

/* Report scans may read from a secondary (a replica set's spare capacity):
 * a report counts what the versions say up to its bound, and a secondary
 * lags the primary by seconds (docs/storage.md, "MongoDB"). On a single
 * server or FerretDB this is the primary. */
static mongoc_read_prefs_t *
scan_prefs(void)
{
    return mongoc_read_prefs_new(MONGOC_READ_SECONDARY_PREFERRED);
}

bool
mongo_scan_latest(store_conn_t *conn, const scan_spec_t *spec, strmap_t **out, kt_error_t *err)
{
    bson_t filter, opts, proj, cond;
    scan_run_t run;
    bool ok;

    *out = NULL;
    if (!scan_run_start(&run, spec, err))
        return false;
    bson_init(&filter);
    if (spec->until != NULL) {
        BSON_APPEND_DOCUMENT_BEGIN(&filter, "time", &cond);
        BSON_APPEND_UTF8(&cond, "$lte", spec->until);
        bson_append_document_end(&filter, &cond);
    }
    bson_init(&opts);
    BSON_APPEND_INT32(&opts, "batchSize", SCAN_BATCH);
    BSON_APPEND_DOCUMENT_BEGIN(&opts, "projection", &proj);
    BSON_APPEND_INT32(&proj, spec->kind->id_member, 1);
    BSON_APPEND_INT32(&proj, "version", 1);
    BSON_APPEND_INT32(&proj, "state", 1);
    BSON_APPEND_INT32(&proj, "time", 1);
    BSON_APPEND_INT32(&proj, "doc", 1);
    bson_append_document_end(&opts, &proj);
    mongoc_read_prefs_t *prefs = scan_prefs();
    ok = mongo_each_prefs(conn, spec->kind->versions, &filter, &opts, prefs, scan_visit, &run, err);
    mongoc_read_prefs_destroy(prefs);
    bson_destroy(&filter);
    bson_destroy(&opts);
    return scan_run_end(&run, ok, out);
}

typedef struct {
    const char *id_member;
    char *cursor;
    char (*ids)[40];
    int n, read;
} page_run_t;

static bool
page_visit(void *ctx, const bson_t *rec)
{
    page_run_t *p = ctx;
    const char *vid = util_get_str(rec, "_id"), *id = util_get_str(rec, p->id_member);

    p->read++;
    if (vid != NULL && strlen(vid) < 64)
        memcpy(p->cursor, vid, strlen(vid) + 1);
    if (id == NULL || strlen(id) >= 40 || (p->n > 0 && strcmp(p->ids[p->n - 1], id) == 0))
        return true;
    memcpy(p->ids[p->n++], id, strlen(id) + 1);
    return true;
}

bool
mongo_scan_page(store_conn_t *conn, const scan_spec_t *spec, const char *field, const char *value,
                char cursor[64], int limit, char (*ids)[40], int *n, bool *more, kt_error_t *err)
{
    bson_t filter = BSON_INITIALIZER, opts = BSON_INITIALIZER, child;
    page_run_t run = {.id_member = spec->kind->id_member, .cursor = cursor, .ids = ids};
    bool ok;

    BSON_APPEND_UTF8(&filter, field, value);
    if (spec->until != NULL) {
        BSON_APPEND_DOCUMENT_BEGIN(&filter, "time", &child);
        BSON_APPEND_UTF8(&child, "$lte", spec->until);
        bson_append_document_end(&filter, &child);
    }
    if (cursor[0] != '\0') {
        BSON_APPEND_DOCUMENT_BEGIN(&filter, "_id", &child);
        BSON_APPEND_UTF8(&child, "$gt", cursor);
        bson_append_document_end(&filter, &child);
    }
    BSON_APPEND_DOCUMENT_BEGIN(&opts, "sort", &child);
    BSON_APPEND_INT32(&child, "_id", 1);
    bson_append_document_end(&opts, &child);
    BSON_APPEND_DOCUMENT_BEGIN(&opts, "projection", &child);
    BSON_APPEND_INT32(&child, "_id", 1);
    BSON_APPEND_INT32(&child, spec->kind->id_member, 1);
    bson_append_document_end(&opts, &child);
    BSON_APPEND_INT64(&opts, "limit", limit);
    ok = mongo_each(conn, spec->kind->versions, &filter, &opts, page_visit, &run, err);
    bson_destroy(&filter);
    bson_destroy(&opts);
    *n = run.n;
    *more = ok && run.read == limit;
    return ok;
}
