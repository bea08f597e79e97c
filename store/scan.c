/*
 * scan: see store/scan.h. A map value is the kept version (int64) followed
 * by the caller's summary.
 */
#include "store/scan.h"

#include <string.h>

#include "store/util.h"

#define SCAN_BATCH 1000

typedef struct {
    const scan_spec_t *spec;
    strmap_t *map;
    kt_error_t *err;
    bool failed;
} scan_run_t;

void *
scan_summary(void *map_value)
{
    return (unsigned char *)map_value + sizeof(int64_t);
}

static bool
scan_visit(void *ctx, const bson_t *rec)
{
    scan_run_t *run = ctx;
    const scan_spec_t *spec = run->spec;
    const char *state = util_get_str(rec, "state");
    scan_version_t v = {.id = util_get_str(rec, spec->id_member),
                        .version = util_get_int(rec, "version", 0),
                        .time = util_get_str(rec, "time")};
    bson_iter_t it;
    bson_t doc;
    uint32_t len;
    const uint8_t *data;
    bool created;
    unsigned char *value;
    int64_t kept;

    if (v.id == NULL || v.version <= 0 || v.time == NULL)
        return true; /* not a version record: verify reports those */
    if (spec->until != NULL && strcmp(v.time, spec->until) > 0)
        return true;
    value = strmap_put(run->map, v.id, &created);
    if (value == NULL) {
        kt_error_set(run->err, KT_DOMAIN_STORE, KT_UNAVAILABLE, 503,
                     "the report needs more memory than its bound (%zu bytes)", spec->max_bytes);
        run->failed = true;
        return false;
    }
    memcpy(&kept, value, sizeof kept);
    if (!created && kept >= v.version)
        return true;
    if (!created && spec->drop != NULL)
        spec->drop(spec->ctx, scan_summary(value));
    memset(value, 0, sizeof kept + spec->value_size);
    memcpy(value, &v.version, sizeof v.version);
    v.deleted = state != NULL && strcmp(state, "DELETED") == 0;
    /* doc is an empty document or a static view into rec, which the cursor
     * owns: neither needs destroying, and keep() copies what it keeps into
     * its summary, because rec is gone after this call. */
    bson_init(&doc);
    if (bson_iter_init_find(&it, rec, "doc") && BSON_ITER_HOLDS_DOCUMENT(&it)) {
        bson_iter_document(&it, &len, &data);
        bson_init_static(&doc, data, len);
    }
    v.doc = &doc;
    if (!spec->keep(spec->ctx, &v, scan_summary(value), run->err)) {
        run->failed = true;
        return false;
    }
    return true;
}

bool
store_scan_latest(mongoc_client_t *client, const char *db, const scan_spec_t *spec, strmap_t **out,
                  kt_error_t *err)
{
    bson_t filter, opts, proj, cond;
    scan_run_t run = {.spec = spec, .err = err};
    bool ok;

    *out = NULL;
    run.map = strmap_new(sizeof(int64_t) + spec->value_size, spec->max_bytes);
    if (run.map == NULL) {
        kt_error_set(err, KT_DOMAIN_STORE, KT_UNAVAILABLE, 503, "out of memory for the report");
        return false;
    }
    bson_init(&filter);
    if (spec->filter != NULL)
        bson_concat(&filter, spec->filter);
    if (spec->until != NULL) {
        BSON_APPEND_DOCUMENT_BEGIN(&filter, "time", &cond);
        BSON_APPEND_UTF8(&cond, "$lte", spec->until);
        bson_append_document_end(&filter, &cond);
    }
    bson_init(&opts);
    BSON_APPEND_INT32(&opts, "batchSize", SCAN_BATCH);
    BSON_APPEND_DOCUMENT_BEGIN(&opts, "projection", &proj);
    BSON_APPEND_INT32(&proj, spec->id_member, 1);
    BSON_APPEND_INT32(&proj, "version", 1);
    BSON_APPEND_INT32(&proj, "state", 1);
    BSON_APPEND_INT32(&proj, "time", 1);
    BSON_APPEND_INT32(&proj, "doc", 1);
    bson_append_document_end(&opts, &proj);
    ok = util_each(client, db, spec->collection, &filter, &opts, scan_visit, &run, err);
    bson_destroy(&filter);
    bson_destroy(&opts);
    if (!ok || run.failed) {
        scan_free(spec, run.map);
        return false;
    }
    *out = run.map;
    return true;
}

void
scan_free(const scan_spec_t *spec, strmap_t *map)
{
    size_t pos = 0;
    const char *key;
    void *value;

    if (map == NULL)
        return;
    while (spec->drop != NULL && strmap_next(map, &pos, &key, &value))
        spec->drop(spec->ctx, scan_summary(value));
    strmap_free(map);
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
store_scan_page(mongoc_client_t *client, const char *db, const scan_spec_t *spec, const char *field,
                const char *value, char cursor[64], int limit, char (*ids)[40], int *n, bool *more,
                kt_error_t *err)
{
    bson_t filter = BSON_INITIALIZER, opts = BSON_INITIALIZER, child;
    page_run_t run = {.id_member = spec->id_member, .cursor = cursor, .ids = ids};
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
    BSON_APPEND_INT32(&child, spec->id_member, 1);
    bson_append_document_end(&opts, &child);
    BSON_APPEND_INT64(&opts, "limit", limit);
    ok = util_each(client, db, spec->collection, &filter, &opts, page_visit, &run, err);
    bson_destroy(&filter);
    bson_destroy(&opts);
    *n = run.n;
    *more = ok && run.read == limit;
    return ok;
}
