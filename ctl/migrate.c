/*
 * migrate: copies every set of the registry (store/copy.h) from the store
 * the configuration names to a target store, then rebuilds the target's
 * heads and claims from the copied versions and verifies every chain there.
 * Idempotent: run again after an interruption, it copies what is missing.
 */
#include "ctl/migrate.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "store/copy.h"
#include "store/verify.h"

/* Writes to a target committed together (one transaction on SQLite). */
#define MIGRATE_BATCH 1000

typedef struct {
    store_conn_t *target;
    copy_set_t set;
    bool fill_holes;    /* MongoDB target: its feed readers need every sequence */
    int64_t last_seq;   /* COPY_CHANGES: the last sequence written */
    long read, written; /* this set's documents */
    long in_batch;
    kt_error_t *err;
    bool failed;
} run_t;

static bool
put(run_t *r, const bson_t *doc)
{
    bool inserted = false;

    if ((r->in_batch == 0 && !store_batch_begin(r->target, r->err)) ||
        !store_copy_put(r->target, r->set, doc, &inserted, r->err))
        return false;
    r->written += inserted;
    if (++r->in_batch == MIGRATE_BATCH) {
        r->in_batch = 0;
        return store_batch_end(r->target, true, r->err);
    }
    return true;
}

/* A hole in the source's feed (an entry SQLite never had, or a void one
 * left behind by the MongoDB protocol) becomes a void entry of the MongoDB
 * shape: no version names it, its reservation long expired. */
static bool
fill_hole(run_t *r, int64_t seq)
{
    bson_t doc = BSON_INITIALIZER;
    char id[24];
    bool ok;

    snprintf(id, sizeof id, "%020lld", (long long)seq);
    BSON_APPEND_UTF8(&doc, "_id", id);
    BSON_APPEND_INT64(&doc, "seq", seq);
    BSON_APPEND_UTF8(&doc, "student_id", "");
    BSON_APPEND_INT64(&doc, "version", 0);
    BSON_APPEND_UTF8(&doc, "kind", "void");
    BSON_APPEND_UTF8(&doc, "organization", "");
    BSON_APPEND_UTF8(&doc, "time", "");
    BSON_APPEND_INT64(&doc, "reserved_ms", 0);
    ok = put(r, &doc);
    bson_destroy(&doc);
    return ok;
}

static bool
copy_one(void *ctx, const bson_t *doc)
{
    run_t *r = ctx;

    r->read++;
    if (r->set == COPY_CHANGES && r->fill_holes) {
        int64_t seq = util_get_int(doc, "seq", 0);
        for (int64_t s = r->last_seq + 1; s < seq; s++)
            if (!fill_hole(r, s))
                goto fail;
        r->last_seq = seq > r->last_seq ? seq : r->last_seq;
    }
    if (!put(r, doc))
        goto fail;
    if (r->read % 100000 == 0 && isatty(STDERR_FILENO))
        fprintf(stderr, "\r%s: %ld", copy_set_name(r->set), r->read);
    return true;
fail:
    r->failed = true;
    return false;
}

static bool
copy_set(store_conn_t *source, run_t *r)
{
    bool ok = store_copy_each(source, r->set, copy_one, r, r->err) && !r->failed;

    if (r->in_batch > 0 && !store_batch_end(r->target, ok, r->err))
        ok = false;
    r->in_batch = 0;
    if (ok)
        printf("%-22s %ld read, %ld copied\n", copy_set_name(r->set), r->read, r->written);
    return ok;
}

static bool
copy_all(store_conn_t *source, store_conn_t *target, bool to_mongodb, kt_error_t *err)
{
    for (copy_set_t set = 0; set < COPY__MAX; set++) {
        run_t r = {.target = target, .set = set, .fill_holes = to_mongodb, .err = err};
        if (!copy_set(source, &r))
            return false;
    }
    return store_copy_finish(target, err);
}

/* The target: the configuration with the backend and location the options name.
 * A wrong argument is named on stderr (the caller adds the usage). */
static bool
target_config(const config_t *cfg, int argc, char **argv, config_t *out)
{
    *out = *cfg;
    for (int i = 0; i < argc; i += 2) {
        char *dst = strcmp(argv[i], "--to") == 0            ? out->store
                    : strcmp(argv[i], "--sqlite") == 0      ? out->sqlite_path
                    : strcmp(argv[i], "--mongodb-uri") == 0 ? out->mongodb_uri
                    : strcmp(argv[i], "--db") == 0          ? out->db_name
                                                            : NULL;
        size_t size = dst == out->store     ? sizeof out->store
                      : dst == out->db_name ? sizeof out->db_name
                                            : CONFIG_PATH_MAX;
        if (dst == NULL) {
            fprintf(stderr, "kontingentctl migrate: unknown argument \"%s\"\n", argv[i]);
            return false;
        }
        if (i + 1 >= argc || strlen(argv[i + 1]) >= size) {
            fprintf(stderr, "kontingentctl migrate: %s needs a value (at most %zu bytes)\n",
                    argv[i], size - 1);
            return false;
        }
        memcpy(dst, argv[i + 1], strlen(argv[i + 1]) + 1);
    }
    if (strcmp(out->store, "sqlite") != 0 && strcmp(out->store, "mongodb") != 0) {
        fprintf(stderr, "kontingentctl migrate: --to must be sqlite or mongodb, not \"%s\"\n",
                out->store);
        return false;
    }
    if (argc == 0) {
        fprintf(stderr, "kontingentctl migrate: --to is required\n");
        return false;
    }
    return true;
}

static bool
same_store(const config_t *a, const config_t *b)
{
    if (strcmp(a->store, b->store) != 0)
        return false;
    if (strcmp(a->store, "sqlite") == 0)
        return strcmp(a->sqlite_path, b->sqlite_path) == 0;
    return strcmp(a->mongodb_uri, b->mongodb_uri) == 0 && strcmp(a->db_name, b->db_name) == 0;
}

/* Heads and claims from the copied versions, then every chain. */
static bool
rebuild_and_verify(store_conn_t *target, bool *clean, kt_error_t *err)
{
    verify_report_t r;

    if (!verify_repair_all(target, stdout, &r, err))
        return false;
    printf("rebuilt %ld students and %ld organizations; %ld claims\n", r.students, r.organizations,
           r.claims_restored);
    if (!verify_all(target, stdout, &r, err))
        return false;
    printf("%s: %ld students, %ld versions, %ld broken, %ld duplicate keys; %ld organizations\n",
           r.broken || r.duplicates ? "BROKEN" : "OK", r.students, r.versions, r.broken,
           r.duplicates, r.organizations);
    *clean = r.broken == 0 && r.duplicates == 0;
    return true;
}

int
migrate_command(const config_t *cfg, int argc, char **argv)
{
    config_t tcfg;
    kt_error_t err;
    store_t *source = NULL, *target = NULL;
    store_conn_t *s = NULL, *t = NULL;
    bool ok = false, clean = false;

    kt_error_clear(&err);
    if (!target_config(cfg, argc, argv, &tcfg))
        return 2;
    if (same_store(cfg, &tcfg)) {
        fprintf(stderr, "kontingentctl migrate: the target is the source\n");
        return 1;
    }
    if ((source = config_store_new(cfg, &err)) == NULL ||
        (target = config_store_new(&tcfg, &err)) == NULL)
        goto done;
    s = store_conn_pop(source, STORE_POOL_BATCH);
    t = store_conn_pop(target, STORE_POOL_BATCH);
    printf("migrating from %s to %s\n", store_backend_name(source), store_backend_name(target));
    ok = store_prepare(t, &err) && copy_all(s, t, strcmp(tcfg.store, "mongodb") == 0, &err) &&
         rebuild_and_verify(t, &clean, &err);
done:
    if (!ok)
        fprintf(stderr, "kontingentctl migrate: %s\n", err.message);
    store_conn_push(s);
    store_conn_push(t);
    store_free(source);
    store_free(target);
    return ok && clean ? 0 : 1;
}
