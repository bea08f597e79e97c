/*
 * scan: the map of store/scan.h, shared by the backends. A map value is the
 * kept version (int64) followed by the caller's summary; each backend feeds
 * scan_visit() the version records it reads.
 */
#include "store/scan.h"

#include <string.h>

#include "store/backend.h"
#include "store/util.h"

void *
scan_summary(void *map_value)
{
    return (unsigned char *)map_value + sizeof(int64_t);
}

bool
scan_visit(void *ctx, const bson_t *rec)
{
    scan_run_t *run = ctx;
    const scan_spec_t *spec = run->spec;
    const char *state = util_get_str(rec, "state");
    scan_version_t v = {.id = util_get_str(rec, spec->kind->id_member),
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
        kt_error_set(run->err, KT_DOMAIN_STORE, KT_UNAVAILABLE,
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
    v.deleted = state != NULL && strcmp(state, "ACTIVE") != 0; /* DELETED, MERGED */
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

bool
scan_run_start(scan_run_t *run, const scan_spec_t *spec, kt_error_t *err)
{
    memset(run, 0, sizeof *run);
    run->spec = spec;
    run->err = err;
    run->map = strmap_new(sizeof(int64_t) + spec->value_size, spec->max_bytes);
    if (run->map == NULL)
        kt_error_set(err, KT_DOMAIN_STORE, KT_UNAVAILABLE, "out of memory for the report");
    return run->map != NULL;
}

bool
scan_run_end(scan_run_t *run, bool ok, strmap_t **out)
{
    *out = NULL;
    if (!ok || run->failed) {
        scan_free(run->spec, run->map);
        return false;
    }
    *out = run->map;
    return true;
}
