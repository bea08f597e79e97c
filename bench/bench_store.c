/*
 * bench_store: the same store operations the API does, issued directly from
 * C with N threads, so that bench/run can print the API's rate beside them.
 *
 *   bench_store seed N            create N students, print their ids
 *   bench_store read SECONDS IDS  threads read random students (store_student_get)
 *   bench_store write SECONDS IDS threads write a new version of random students
 *   bench_store deep N            create one student with N versions, print its id
 *   bench_store raw N             insert N student-shaped documents one by one into a
 *                                 scratch collection (the store's raw insert rate)
 *   bench_store xsd FILE          read, XSD-validate and convert every item of a package
 *   bench_store report-seed N     bulk-insert N one-version students with an education
 *                                 history (200 schools, grades 1–11; every tenth moved
 *                                 school in January) straight into student_versions
 *   bench_store scan 0            a plain scan of student_versions from C: every
 *                                 document read and counted, nothing else
 * Configuration as for the server (MONGODB_URI, KT_DB); BENCH_THREADS (8).
 * Prints "ops=… rate=…/s p50=…ms p99=…ms".
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auth/principal.h"
#include "http/config.h"
#include "store/mongo/mongo.h"
#include "store/records.h"
#include "store/util.h"
#include "model/student.h"
#include "model/validators.h"
#include "model/xmlio.h"

#define MAX_IDS     100000
#define MAX_SAMPLES 2000000

static store_t *store;
static const char *db;
static char (*ids)[40];
static int nids;
static double deadline;
static atomic_long nsamples;
static double *samples;
static principal_t bench_principal = {.subject = "bench", .role = ROLE_ADMIN, .method = AUTH_TOKEN};

static double
now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
snils_for(long n, char out[12])
{
    long nine = (2000000 + n) % 1000000000;
    int s = 0;
    char d[16];
    snprintf(d, sizeof d, "%09ld", nine);
    for (int i = 0; i < 9; i++)
        s += (d[i] - '0') * (9 - i);
    int check = s < 100 ? s : (s == 100 || s == 101) ? 0 : (s % 101 == 100 ? 0 : s % 101);
    snprintf(out, 12, "%.9s%02u", d, (unsigned)check % 100u);
}

static void
student_doc(bson_t *doc, long n, const char *place)
{
    char snils[12], number[8];
    bson_t cit, arr, item, countries;

    snils_for(n, snils);
    snprintf(number, sizeof number, "%06ld", n % 1000000);
    bson_init(doc);
    BSON_APPEND_UTF8(doc, "last_name", "Тестова");
    BSON_APPEND_UTF8(doc, "first_name", "Анна");
    BSON_APPEND_UTF8(doc, "sex", "F");
    BSON_APPEND_UTF8(doc, "birth_date", "2015-03-14");
    BSON_APPEND_UTF8(doc, "birth_place", place);
    BSON_APPEND_UTF8(doc, "snils", snils);
    BSON_APPEND_DOCUMENT_BEGIN(doc, "citizenship", &cit);
    BSON_APPEND_UTF8(&cit, "category", "RF");
    BSON_APPEND_ARRAY_BEGIN(&cit, "countries", &countries);
    BSON_APPEND_UTF8(&countries, "0", "643");
    bson_append_array_end(&cit, &countries);
    bson_append_document_end(doc, &cit);
    BSON_APPEND_ARRAY_BEGIN(doc, "documents", &arr);
    BSON_APPEND_DOCUMENT_BEGIN(&arr, "0", &item);
    BSON_APPEND_UTF8(&item, "type", "BIRTH_CERT_RF");
    BSON_APPEND_UTF8(&item, "series", n % 2 ? "II-АБ" : "III-ВГ");
    BSON_APPEND_UTF8(&item, "number", number);
    bson_append_document_end(&arr, &item);
    bson_append_array_end(doc, &arr);
    BSON_APPEND_ARRAY_BEGIN(doc, "addresses", &arr);
    BSON_APPEND_DOCUMENT_BEGIN(&arr, "0", &item);
    BSON_APPEND_UTF8(&item, "kind", "REGISTRATION");
    BSON_APPEND_UTF8(&item, "text", "г. Казань");
    bson_append_document_end(&arr, &item);
    bson_append_array_end(doc, &arr);
    BSON_APPEND_UTF8(doc, "organization", "1027700132195");
}

static bool
write_one(store_conn_t *conn, write_op_t kind, const char *id, long n, const char *place,
          write_result_t *out)
{
    write_meta_t meta = {.principal = &bench_principal, .request_id = "bench"};
    bson_t doc;
    kt_error_t err;

    kt_error_clear(&err);
    student_doc(&doc, n, place);
    bool ok = store_student_write(conn, kind, id, 0, &doc, &meta, out, &err);
    if (!ok && err.code != KT_VERSION_CONFLICT)
        fprintf(stderr, "write: %s\n", err.message);
    bson_destroy(&doc);
    return ok;
}

static void
record(double seconds)
{
    long i = atomic_fetch_add(&nsamples, 1);
    if (i < MAX_SAMPLES)
        samples[i] = seconds;
}

static void *
reader(void *arg)
{
    store_conn_t *conn = store_conn_pop(store, STORE_POOL_BATCH);
    unsigned seed = (unsigned)(uintptr_t)arg;

    while (now_s() < deadline) {
        record_t s;
        kt_error_t err;
        record_init(&s);
        double t0 = now_s();
        store_student_get(conn, ids[rand_r(&seed) % nids], &s, &err);
        record(now_s() - t0);
        record_release(&s);
    }
    store_conn_push(conn);
    return NULL;
}

static void *
writer(void *arg)
{
    store_conn_t *conn = store_conn_pop(store, STORE_POOL_BATCH);
    unsigned seed = (unsigned)(uintptr_t)arg;
    char place[64];
    long n = 0;

    while (now_s() < deadline) {
        int k = rand_r(&seed) % nids;
        write_result_t out;
        snprintf(place, sizeof place, "c-%lu-%ld", (unsigned long)(uintptr_t)arg, n++);
        double t0 = now_s();
        /* The student's own keys are unchanged; n only varies birth_place. */
        record_t cur;
        kt_error_t err;
        record_init(&cur);
        if (store_student_get(conn, ids[k], &cur, &err)) {
            bson_t doc;
            bson_copy_to(&cur.doc, &doc);
            bson_iter_t it;
            bson_t next = BSON_INITIALIZER;
            bson_iter_init(&it, &doc);
            while (bson_iter_next(&it)) {
                if (strcmp(bson_iter_key(&it), "birth_place") == 0)
                    BSON_APPEND_UTF8(&next, "birth_place", place);
                else
                    bson_append_iter(&next, NULL, 0, &it);
            }
            write_meta_t meta = {.principal = &bench_principal, .request_id = "bench"};
            store_student_write(conn, WRITE_UPDATE, ids[k], 0, &next, &meta, &out, &err);
            bson_destroy(&next);
            bson_destroy(&doc);
        }
        record_release(&cur);
        record(now_s() - t0);
    }
    store_conn_push(conn);
    return NULL;
}

static int
cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static int
run_load(void *(*fn)(void *), double seconds)
{
    int threads = getenv("BENCH_THREADS")
                      ? (int)strtol(getenv("BENCH_THREADS"), NULL, 10) /* lint: allow (bench) */
                      : 8;
    pthread_t tids[64];
    double t0 = now_s();

    deadline = t0 + seconds;
    for (int i = 0; i < threads && i < 64; i++)
        pthread_create(&tids[i], NULL, fn, (void *)(uintptr_t)(i + 1));
    for (int i = 0; i < threads && i < 64; i++)
        pthread_join(tids[i], NULL);
    double elapsed = now_s() - t0;
    long n = atomic_load(&nsamples);
    if (n > MAX_SAMPLES)
        n = MAX_SAMPLES;
    qsort(samples, (size_t)n, sizeof *samples, cmp_double);
    printf("ops=%ld rate=%.1f/s p50=%.2fms p99=%.2fms\n", n, (double)n / elapsed,
           n ? samples[n / 2] * 1e3 : 0, n ? samples[(long)(n * 0.99)] * 1e3 : 0);
    return 0;
}

static int
load_ids(const char *path)
{
    FILE *f = fopen(path, "r");
    char line[64];

    if (f == NULL)
        return -1;
    ids = calloc(MAX_IDS, sizeof *ids);
    while (nids < MAX_IDS && fgets(line, sizeof line, f))
        if (strlen(line) >= 36) {
            memcpy(ids[nids], line, 36);
            ids[nids++][36] = '\0';
        }
    fclose(f);
    return nids > 0 ? 0 : -1;
}

static int
raw_inserts(store_conn_t *conn, long n)
{
    mongoc_collection_t *c = mongo_collection(conn, "bench_raw");
    double t0 = now_s();
    bson_error_t error;

    mongoc_collection_drop(c, NULL);
    for (long i = 0; i < n; i++) {
        bson_t doc, full = BSON_INITIALIZER;
        char id[37];
        util_uuid(id);
        student_doc(&doc, i, "raw");
        BSON_APPEND_UTF8(&full, "_id", id);
        BSON_APPEND_DOCUMENT(&full, "doc", &doc);
        if (!mongoc_collection_insert_one(c, &full, NULL, NULL, &error))
            fprintf(stderr, "insert: %s\n", error.message);
        bson_destroy(&doc);
        bson_destroy(&full);
    }
    double elapsed = now_s() - t0;
    printf("docs=%ld seconds=%.2f rate=%.1f/s\n", n, elapsed, (double)n / elapsed);
    mongoc_collection_drop(c, NULL);
    mongoc_collection_destroy(c);
    return 0;
}

/* The reader's whole pass as a POST makes it: XSD per item, conversion, the model. */
static int
xsd_pass(const char *xsd, const char *path)
{
    kt_error_t err;
    xmlio_header_t h;
    xmlio_item_t item;
    char today[11];
    long items = 0, valid = 0;
    double t0 = now_s();

    kt_error_clear(&err);
    date_today(today);
    xmlio_schema_t *schema = xmlio_schema_load(xsd, &err);
    xmlio_reader_t *r = schema ? xmlio_reader_new_file(schema, path, &err) : NULL;
    arena_t *arena = arena_new(0);
    bool ok = r != NULL && xmlio_reader_header(r, &h, &err);
    while (ok && xmlio_reader_next(r, arena, &item, &err)) {
        bson_t doc = BSON_INITIALIZER;
        kt_error_t e;
        items++;
        if (item.student != NULL && student_from_json(arena, item.student, today, &doc, &e))
            valid++;
        bson_destroy(&doc);
        arena_reset(arena);
    }
    printf("items=%ld valid=%ld seconds=%.2f\n", items, valid, now_s() - t0);
    arena_free(arena);
    xmlio_reader_free(r);
    xmlio_schema_free(schema);
    return err.code == KT_OK ? 0 : 1;
}

/* One student of the report population: enrolled in grade g at school s on
 * 2025-09-01; every tenth moved to the next school on 2026-01-15/20. */
static void
report_student(bson_t *rec, long i, const char *id)
{
    char org[14], org2[14], vid[64], birth[32];
    int grade = (int)(i % 11) + 1;
    bool moved = i % 10 == 0;
    bson_t doc, edu, ep, events, ev;

    snprintf(org, sizeof org, "10277%08ld", i % 200);
    snprintf(org2, sizeof org2, "10277%08ld", (i + 1) % 200);
    snprintf(birth, sizeof birth, "%04d-%02d-%02d", 2025 - 7 - grade + 1, (int)(i % 12) + 1,
             (int)(i % 28) + 1);
    snprintf(vid, sizeof vid, "%s:%010d", id, 1);
    bson_init(rec);
    BSON_APPEND_UTF8(rec, "_id", vid);
    BSON_APPEND_UTF8(rec, "student_id", id);
    BSON_APPEND_INT64(rec, "version", 1);
    BSON_APPEND_UTF8(rec, "state", "ACTIVE");
    BSON_APPEND_UTF8(rec, "time", "2026-02-01T00:00:00.000Z");
    BSON_APPEND_DOCUMENT_BEGIN(rec, "doc", &doc);
    BSON_APPEND_UTF8(&doc, "last_name", "Иванова");
    BSON_APPEND_UTF8(&doc, "first_name", "Анна");
    BSON_APPEND_UTF8(&doc, "sex", i % 2 ? "F" : "M");
    BSON_APPEND_UTF8(&doc, "birth_date", birth);
    BSON_APPEND_UTF8(&doc, "organization", moved ? org2 : org);
    BSON_APPEND_ARRAY_BEGIN(&doc, "education", &edu);
    BSON_APPEND_DOCUMENT_BEGIN(&edu, "0", &ep);
    BSON_APPEND_INT64(&ep, "episode", 1);
    BSON_APPEND_UTF8(&ep, "organization", org);
    BSON_APPEND_UTF8(&ep, "level", grade <= 4 ? "NOO" : grade <= 9 ? "OOO" : "SOO");
    BSON_APPEND_UTF8(&ep, "form", "FULL_TIME");
    BSON_APPEND_INT64(&ep, "grade", grade);
    BSON_APPEND_UTF8(&ep, "enrolled_on", "2025-09-01");
    BSON_APPEND_UTF8(&ep, "status", moved ? "ENDED" : "ACTIVE");
    if (moved) {
        BSON_APPEND_UTF8(&ep, "ended_on", "2026-01-15");
        BSON_APPEND_UTF8(&ep, "end_reason", "TRANSFER_OUT");
    }
    BSON_APPEND_ARRAY_BEGIN(&ep, "events", &events);
    BSON_APPEND_DOCUMENT_BEGIN(&events, "0", &ev);
    BSON_APPEND_UTF8(&ev, "type", "ENROLL");
    BSON_APPEND_UTF8(&ev, "date", "2025-09-01");
    BSON_APPEND_INT64(&ev, "grade", grade);
    bson_append_document_end(&events, &ev);
    bson_append_array_end(&ep, &events);
    bson_append_document_end(&edu, &ep);
    if (moved) {
        BSON_APPEND_DOCUMENT_BEGIN(&edu, "1", &ep);
        BSON_APPEND_INT64(&ep, "episode", 2);
        BSON_APPEND_UTF8(&ep, "organization", org2);
        BSON_APPEND_UTF8(&ep, "level", grade <= 4 ? "NOO" : grade <= 9 ? "OOO" : "SOO");
        BSON_APPEND_UTF8(&ep, "form", "FULL_TIME");
        BSON_APPEND_INT64(&ep, "grade", grade);
        BSON_APPEND_UTF8(&ep, "enrolled_on", "2026-01-20");
        BSON_APPEND_UTF8(&ep, "status", "ACTIVE");
        BSON_APPEND_ARRAY_BEGIN(&ep, "events", &events);
        BSON_APPEND_DOCUMENT_BEGIN(&events, "0", &ev);
        BSON_APPEND_UTF8(&ev, "type", "TRANSFER_IN");
        BSON_APPEND_UTF8(&ev, "date", "2026-01-20");
        BSON_APPEND_INT64(&ev, "grade", grade);
        bson_append_document_end(&events, &ev);
        bson_append_array_end(&ep, &events);
        bson_append_document_end(&edu, &ep);
    }
    bson_append_array_end(&doc, &edu);
    bson_append_document_end(rec, &doc);
}

static int
report_seed(store_conn_t *conn, long n)
{
    mongoc_collection_t *c = mongo_collection(conn, "student_versions");
    double t0 = now_s();
    bson_error_t error;
    int rc = 0;

    for (long i = 0; i < n && rc == 0; i += 1000) {
        mongoc_bulk_operation_t *bulk = mongoc_collection_create_bulk_operation_with_opts(c, NULL);
        for (long k = i; k < n && k < i + 1000; k++) {
            bson_t rec;
            char id[37];
            util_uuid(id);
            report_student(&rec, k, id);
            mongoc_bulk_operation_insert(bulk, &rec);
            bson_destroy(&rec);
        }
        if (!mongoc_bulk_operation_execute(bulk, NULL, &error)) {
            fprintf(stderr, "bulk insert: %s\n", error.message);
            rc = 1;
        }
        mongoc_bulk_operation_destroy(bulk);
    }
    printf("docs=%ld seconds=%.2f\n", n, now_s() - t0);
    mongoc_collection_destroy(c);
    return rc;
}

static bool
count_doc(void *ctx, const bson_t *doc)
{
    (void)doc;
    (*(long *)ctx)++;
    return true;
}

/* The reference for the report: every version read, nothing computed. */
static int
plain_scan(store_conn_t *conn)
{
    bson_t filter = BSON_INITIALIZER, opts = BSON_INITIALIZER;
    kt_error_t err;
    long n = 0;
    double t0 = now_s();

    kt_error_clear(&err);
    BSON_APPEND_INT32(&opts, "batchSize", 1000);
    bool ok = mongo_each(conn, "student_versions", &filter, &opts, count_doc, &n, &err);
    printf("docs=%ld seconds=%.3f\n", n, now_s() - t0);
    bson_destroy(&opts);
    return ok ? 0 : 1;
}

int
main(int argc, char **argv)
{
    config_t cfg;
    kt_error_t err;

    kt_error_clear(&err);
    if (argc < 3 || !config_load(&cfg, &err)) {
        fprintf(stderr,
                "usage: bench_store seed N | read SECONDS IDS | write SECONDS IDS | deep N\n");
        return 2;
    }
    if (strcmp(argv[1], "xsd") == 0)
        return xsd_pass(cfg.xsd_path, argv[2]);
    store = config_store_new(&cfg, &err);
    db = cfg.db_name;
    samples = calloc(MAX_SAMPLES, sizeof *samples);
    long n = strtol(argv[2], NULL, 10); /* lint: allow (bench) */
    store_conn_t *conn = store_conn_pop(store, STORE_POOL_BATCH);
    write_result_t out;
    if (strcmp(argv[1], "seed") == 0) {
        long base = (long)time(NULL) % 100000 * 1000;
        for (long i = 0; i < n; i++)
            if (write_one(conn, WRITE_CREATE, NULL, base + i, "seed", &out))
                printf("%s\n", out.id);
    } else if (strcmp(argv[1], "report-seed") == 0) {
        return report_seed(conn, n);
    } else if (strcmp(argv[1], "scan") == 0) {
        return plain_scan(conn);
    } else if (strcmp(argv[1], "raw") == 0) {
        raw_inserts(conn, n);
    } else if (strcmp(argv[1], "deep") == 0) {
        long key = (long)time(NULL) % 100000 * 1000 + 999;
        char place[32];
        write_one(conn, WRITE_CREATE, NULL, key, "v1", &out);
        char id[40];
        memcpy(id, out.id, sizeof out.id);
        for (long i = 2; i <= n; i++) {
            snprintf(place, sizeof place, "v%ld", i);
            write_one(conn, WRITE_UPDATE, id, key, place, &out);
        }
        printf("%s\n", id);
    } else if (argc == 4 && load_ids(argv[3]) == 0) {
        store_conn_push(conn);
        conn = NULL;
        run_load(strcmp(argv[1], "read") == 0 ? reader : writer, (double)n);
    } else {
        return 2;
    }
    store_conn_push(conn);
    store_free(store);
    return 0;
}
