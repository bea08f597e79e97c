/*
 * bench_store: the same store operations the API does, issued directly from
 * C with N threads, so that the bench/ scripts can print the API's rate
 * beside them. Every command works on both backends through the store
 * contract (store/store.h); the two "raw" references are per backend and
 * say so.
 *
 *   bench_store seed N            create N students, print their ids
 *   bench_store read SECONDS IDS  threads read random students (store_student_get)
 *   bench_store write SECONDS IDS threads write a new version of random students
 *   bench_store deep N            create one student with N versions, print its id
 *   bench_store raw N             the backend's raw insert rate: N student-shaped
 *                                 documents into a scratch table/collection, in batches
 *                                 of 1000 — SQLite: one prepared INSERT per document, one
 *                                 transaction per batch (synchronous=FULL, as the store);
 *                                 MongoDB: one bulk insert per batch
 *   bench_store xsd FILE          read, XSD-validate and convert every item of a package
 *   bench_store report-seed N     create N one-version students with an education
 *                                 history (200 schools, grades 1–11; every tenth moved
 *                                 school in January) through store_student_write
 *   bench_store scan 0            a plain read of every version record from C, the
 *                                 reference for the reports — SQLite: SELECT of the
 *                                 record blobs; MongoDB: a find over student_versions
 *   bench_store scale-seed FROM TO  students FROM … TO-1 of bench/scale's population
 *                                 through store_record_write: ten versions each (one of
 *                                 them a move to another school for every tenth), a
 *                                 school (organisation) per 500 students, an access-log
 *                                 entry each; prints their ids, the rate on stderr
 *
 * Seeding (seed, deep, report-seed, scale-seed) goes through the store's own
 * write path, in store batches of SEED_BATCH writes (store_batch_begin: one
 * SQLite transaction each, as package items are applied; nothing on MongoDB).
 * Configuration as for the server (KT_STORE, KT_SQLITE, MONGODB_URI, KT_DB);
 * BENCH_THREADS (8). The loads print "ops=… rate=…/s p50=…ms p99=…ms".
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auth/principal.h"
#include "http/config.h"
#include "store/audit.h"
#include "store/mongo/mongo.h"
#include "store/organizations.h"
#include "store/records.h"
#include "store/sqlite/sqlite.h"
#include "store/util.h"
#include "model/student.h"
#include "model/calendar.h"
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
static atomic_long nerrors; /* failed operations of a load (the first is printed) */
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
        if (!store_student_get(conn, ids[rand_r(&seed) % nids], &s, &err) &&
            atomic_fetch_add(&nerrors, 1) == 0)
            fprintf(stderr, "read: %s\n", err.message);
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
        bool ok;
        record_init(&cur);
        kt_error_clear(&err);
        ok = store_student_get(conn, ids[k], &cur, &err);
        if (ok) {
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
            ok = store_student_write(conn, WRITE_UPDATE, ids[k], 0, &next, &meta, &out, &err) ||
                 err.code == KT_VERSION_CONFLICT; /* a lost race, as the API retries */
            bson_destroy(&next);
            bson_destroy(&doc);
        }
        if (!ok && atomic_fetch_add(&nerrors, 1) == 0)
            fprintf(stderr, "write: %s\n", err.message);
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
    printf("ops=%ld rate=%.1f/s p50=%.3fms p99=%.3fms\n", n, (double)n / elapsed,
           n ? samples[n / 2] * 1e3 : 0, n ? samples[(long)(n * 0.99)] * 1e3 : 0);
    if (atomic_load(&nerrors) > 0)
        fprintf(stderr, "%ld of %ld operations failed\n", atomic_load(&nerrors), n);
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

static bool
is_sqlite(void)
{
    return strcmp(store_backend_name(store), "sqlite") == 0;
}

#define RAW_BATCH 1000

/* Seeds commit every SEED_BATCH writes in one store batch (store_batch_begin:
 * one SQLite transaction, as package items are applied; nothing on MongoDB). */
#define SEED_BATCH 1000

static bool
seed_begin(store_conn_t *conn)
{
    kt_error_t err;

    kt_error_clear(&err);
    if (store_batch_begin(conn, &err))
        return true;
    fprintf(stderr, "batch: %s\n", err.message);
    return false;
}

static bool
seed_end(store_conn_t *conn, bool ok)
{
    kt_error_t err;

    kt_error_clear(&err);
    if (store_batch_end(conn, ok, &err))
        return ok;
    fprintf(stderr, "batch: %s\n", err.message);
    return false;
}

/* After each write: every SEED_BATCH, commit the batch and begin the next. */
static bool
seed_step(store_conn_t *conn, long done, bool ok)
{
    if (!ok || done % SEED_BATCH != 0)
        return ok;
    return seed_end(conn, true) && seed_begin(conn);
}

/* SQLite's raw insert: a prepared INSERT, one transaction per batch. */
static bool
raw_sqlite(store_conn_t *conn, long n)
{
    sqlite3 *h = sqlite_db(conn);
    sqlite3_stmt *st = NULL;
    bool ok = sqlite3_exec(h,
                           "DROP TABLE IF EXISTS bench_raw;"
                           "CREATE TABLE bench_raw (id TEXT PRIMARY KEY, doc BLOB NOT NULL)",
                           NULL, NULL, NULL) == SQLITE_OK &&
              sqlite3_prepare_v2(h, "INSERT INTO bench_raw (id, doc) VALUES (?, ?)", -1, &st,
                                 NULL) == SQLITE_OK;

    for (long i = 0; ok && i < n; i += RAW_BATCH) {
        ok = sqlite3_exec(h, "BEGIN IMMEDIATE", NULL, NULL, NULL) == SQLITE_OK;
        for (long k = i; ok && k < n && k < i + RAW_BATCH; k++) {
            bson_t doc;
            char id[37];
            util_uuid(id);
            student_doc(&doc, k, "raw");
            sqlite3_reset(st);
            sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
            sqlite3_bind_blob(st, 2, bson_get_data(&doc), (int)doc.len, SQLITE_TRANSIENT);
            ok = sqlite3_step(st) == SQLITE_DONE;
            bson_destroy(&doc);
        }
        ok = sqlite3_exec(h, ok ? "COMMIT" : "ROLLBACK", NULL, NULL, NULL) == SQLITE_OK && ok;
    }
    if (!ok)
        fprintf(stderr, "raw insert: %s\n", sqlite3_errmsg(h));
    sqlite3_finalize(st);
    sqlite3_exec(h, "DROP TABLE IF EXISTS bench_raw", NULL, NULL, NULL);
    return ok;
}

/* MongoDB's raw insert: one bulk insert per batch. */
static bool
raw_mongo(store_conn_t *conn, long n)
{
    mongoc_collection_t *c = mongo_collection(conn, "bench_raw");
    bson_error_t error;
    bool ok = true;

    mongoc_collection_drop(c, NULL);
    for (long i = 0; ok && i < n; i += RAW_BATCH) {
        mongoc_bulk_operation_t *bulk = mongoc_collection_create_bulk_operation_with_opts(c, NULL);
        for (long k = i; k < n && k < i + RAW_BATCH; k++) {
            bson_t doc, full = BSON_INITIALIZER;
            char id[37];
            util_uuid(id);
            student_doc(&doc, k, "raw");
            BSON_APPEND_UTF8(&full, "_id", id);
            BSON_APPEND_DOCUMENT(&full, "doc", &doc);
            mongoc_bulk_operation_insert(bulk, &full);
            bson_destroy(&doc);
            bson_destroy(&full);
        }
        ok = mongoc_bulk_operation_execute(bulk, NULL, &error) != 0;
        if (!ok)
            fprintf(stderr, "bulk insert: %s\n", error.message);
        mongoc_bulk_operation_destroy(bulk);
    }
    mongoc_collection_drop(c, NULL);
    mongoc_collection_destroy(c);
    return ok;
}

static int
raw_inserts(store_conn_t *conn, long n)
{
    double t0 = now_s();
    bool ok = is_sqlite() ? raw_sqlite(conn, n) : raw_mongo(conn, n);
    double elapsed = now_s() - t0;

    printf("backend=%s batch=%d docs=%ld seconds=%.2f rate=%.1f/s\n", store_backend_name(store),
           RAW_BATCH, n, elapsed, (double)n / elapsed);
    return ok ? 0 : 1;
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

/* An education episode (events: one, of type ev on date on). */
static void
append_episode(bson_t *edu, const char *key, int n, const char *org, int grade, const char *on,
               const char *ev_type, const char *ended_on)
{
    bson_t ep, events, ev;

    BSON_APPEND_DOCUMENT_BEGIN(edu, key, &ep);
    BSON_APPEND_INT64(&ep, "episode", n);
    BSON_APPEND_UTF8(&ep, "organization", org);
    BSON_APPEND_UTF8(&ep, "level", grade <= 4 ? "NOO" : grade <= 9 ? "OOO" : "SOO");
    BSON_APPEND_UTF8(&ep, "form", "FULL_TIME");
    BSON_APPEND_INT64(&ep, "grade", grade);
    BSON_APPEND_UTF8(&ep, "enrolled_on", on);
    BSON_APPEND_UTF8(&ep, "status", ended_on ? "ENDED" : "ACTIVE");
    if (ended_on) {
        BSON_APPEND_UTF8(&ep, "ended_on", ended_on);
        BSON_APPEND_UTF8(&ep, "end_reason", "TRANSFER_OUT");
    }
    BSON_APPEND_ARRAY_BEGIN(&ep, "events", &events);
    BSON_APPEND_DOCUMENT_BEGIN(&events, "0", &ev);
    BSON_APPEND_UTF8(&ev, "type", ev_type);
    BSON_APPEND_UTF8(&ev, "date", on);
    BSON_APPEND_INT64(&ev, "grade", grade);
    bson_append_document_end(&events, &ev);
    bson_append_array_end(&ep, &events);
    bson_append_document_end(edu, &ep);
}

/* Education at org since 2025-09-01; moved: to org2 on 2026-01-20. */
static void
append_education(bson_t *doc, const char *org, const char *org2, int grade, bool moved)
{
    bson_t edu;

    BSON_APPEND_ARRAY_BEGIN(doc, "education", &edu);
    append_episode(&edu, "0", 1, org, grade, "2025-09-01", "ENROLL", moved ? "2026-01-15" : NULL);
    if (moved)
        append_episode(&edu, "1", 2, org2, grade, "2026-01-20", "TRANSFER_IN", NULL);
    bson_append_array_end(doc, &edu);
}

/* One student of the report population: enrolled in grade g at school s on
 * 2025-09-01; every tenth moved to the next school on 2026-01-15/20. */
static void
report_doc(bson_t *doc, long i)
{
    char org[14], org2[14], birth[32];
    int grade = (int)(i % 11) + 1;
    bool moved = i % 10 == 0;

    snprintf(org, sizeof org, "10277%08ld", i % 200);
    snprintf(org2, sizeof org2, "10277%08ld", (i + 1) % 200);
    snprintf(birth, sizeof birth, "%04d-%02d-%02d", 2025 - 7 - grade + 1, (int)(i % 12) + 1,
             (int)(i % 28) + 1);
    bson_init(doc);
    BSON_APPEND_UTF8(doc, "last_name", "Иванова");
    BSON_APPEND_UTF8(doc, "first_name", "Анна");
    BSON_APPEND_UTF8(doc, "sex", i % 2 ? "F" : "M");
    BSON_APPEND_UTF8(doc, "birth_date", birth);
    BSON_APPEND_UTF8(doc, "organization", moved ? org2 : org);
    append_education(doc, org, org2, grade, moved);
}

static int
report_seed(store_conn_t *conn, long n)
{
    write_meta_t meta = {.principal = &bench_principal, .request_id = "bench-report"};
    double t0 = now_s();
    long done = 0;

    bool ok;

    ok = seed_begin(conn);
    for (long i = 0; ok && i < n; i++) {
        bson_t doc;
        write_result_t out;
        kt_error_t err;
        kt_error_clear(&err);
        report_doc(&doc, i);
        ok = store_student_write(conn, WRITE_CREATE, NULL, 0, &doc, &meta, &out, &err);
        if (!ok)
            fprintf(stderr, "write: %s\n", err.message);
        bson_destroy(&doc);
        ok = seed_step(conn, ++done, ok);
    }
    ok = seed_end(conn, ok);
    printf("docs=%ld seconds=%.2f\n", ok ? done : 0, now_s() - t0);
    return ok ? 0 : 1;
}

static bool
count_doc(void *ctx, const bson_t *doc)
{
    (void)doc;
    (*(long *)ctx)++;
    return true;
}

/* SQLite's plain scan: every record blob read as a document. */
static bool
scan_sqlite(store_conn_t *conn, long *n)
{
    sqlite3 *h = sqlite_db(conn);
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(h, "SELECT record FROM student_versions", -1, &st, NULL);

    while (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        bson_t rec;
        if (bson_init_static(&rec, sqlite3_column_blob(st, 0),
                             (size_t)sqlite3_column_bytes(st, 0)) &&
            bson_count_keys(&rec) > 0)
            (*n)++;
        rc = SQLITE_OK;
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        fprintf(stderr, "scan: %s\n", sqlite3_errmsg(h));
    return rc == SQLITE_DONE;
}

/* The reference for the reports: every version read, nothing computed. */
static int
plain_scan(store_conn_t *conn)
{
    bson_t filter = BSON_INITIALIZER, opts = BSON_INITIALIZER;
    kt_error_t err;
    long n = 0;
    double t0 = now_s();
    bool ok;

    kt_error_clear(&err);
    if (is_sqlite()) {
        ok = scan_sqlite(conn, &n);
    } else {
        BSON_APPEND_INT32(&opts, "batchSize", 1000);
        ok = mongo_each(conn, "student_versions", &filter, &opts, count_doc, &n, &err);
    }
    printf("backend=%s docs=%ld seconds=%.3f\n", store_backend_name(store), n, now_s() - t0);
    bson_destroy(&opts);
    return ok ? 0 : 1;
}

/* --- bench/scale's population --- */

#define SCALE_SCHOOL   500 /* students per school */
#define SCALE_VERSIONS 10  /* versions per student */
#define SCALE_BLOCK    1000

static const char *const roots[] = {
    "Иван",  "Петр",    "Сидор", "Кузнец",  "Смирн",  "Попов",  "Волк",   "Лебед",
    "Козл",  "Новик",   "Мороз", "Соколь",  "Павл",   "Семен",  "Голуб",  "Виноград",
    "Богд",  "Воробь",  "Федор", "Михайл",  "Беляк",  "Тарас",  "Белоус", "Комар",
    "Орл",   "Киселёв", "Макар", "Андре",   "Ковал",  "Ильин",  "Гусев",  "Титов",
    "Кузьм", "Кудряв",  "Баран", "Куликов", "Алексе", "Степан", "Яковл",  "Сорок",
};
static const char *const endings[] = {"ова", "ина", "ская", "ева", "ых", "ко", "ук", "ян", "ец",
                                      "ич",  "ай",  "ер",   "ан",  "ин", "ов", "ев", "ая", "ий",
                                      "ой",  "ун",  "ал",   "ис",  "от", "ым", "ель"};
static const char *const first_names[] = {
    "Анна",  "Мария",  "Елена", "Ольга", "Дарья", "Алиса", "Софья", "Полина", "Вера", "Нина",
    "Артём", "Максим", "Иван",  "Лев",   "Марк",  "Егор",  "Глеб",  "Фёдор",  "Ян",   "Тимур",
};
#define NROOTS   (sizeof roots / sizeof roots[0])
#define NENDINGS (sizeof endings / sizeof endings[0])
#define NFIRST   (sizeof first_names / sizeof first_names[0])

/* The ОГРН of school s: 12 digits and the check digit. */
static void
school_ogrn(long s, char out[32])
{
    long long twelve = 102770000000LL + s;
    snprintf(out, 32, "%lld%lld", twelve, twelve % 11 % 10);
}

/* Where student i moves at version 5 (every tenth does). */
static long
scale_target(long s)
{
    return s > 0 ? s - 1 : s + 1;
}

/* Student i's name and birth date (what bench/scale searches by). */
static void
scale_name(long i, char last[64], const char **first, char birth[16])
{
    int grade = (int)(i % 11) + 1;
    snprintf(last, 64, "%s%s", roots[(i / 7) % NROOTS], endings[(i / (7 * NROOTS)) % NENDINGS]);
    *first = first_names[(i / 3) % NFIRST];
    snprintf(birth, 16, "%04d-%02d-%02d", 2025 - 7 - grade + 1, (int)(i % 12) + 1,
             (int)(i / 12 % 28) + 1);
}

/* Student i as of version v: every version changes the registration
 * address; from version 5 on, every tenth student is at another school. */
static void
scale_doc(bson_t *doc, long i, int v)
{
    char snils[12], number[8], last[64], birth[16], org[32], org2[32], addr[96];
    const char *first;
    long s = i / SCALE_SCHOOL;
    bool moved = i % 10 == 0 && v >= 5;
    static const char *const series[] = {"II-АБ", "III-ВГ", "IV-ДЕ", "V-ЖЗ"};
    bson_t cit, arr, item, countries;

    snils_for(i, snils);
    snprintf(number, sizeof number, "%06ld", i % 1000000);
    scale_name(i, last, &first, birth);
    school_ogrn(s, org);
    school_ogrn(scale_target(s), org2);
    snprintf(addr, sizeof addr, "г. Казань, ул. Баумана, д. %d, кв. %ld", v, i % 200 + 1);
    bson_init(doc);
    BSON_APPEND_UTF8(doc, "last_name", last);
    BSON_APPEND_UTF8(doc, "first_name", first);
    BSON_APPEND_UTF8(doc, "sex", i % 2 ? "F" : "M");
    BSON_APPEND_UTF8(doc, "birth_date", birth);
    BSON_APPEND_UTF8(doc, "birth_place", "г. Казань");
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
    BSON_APPEND_UTF8(&item, "series", series[(i / 1000000) % 4]);
    BSON_APPEND_UTF8(&item, "number", number);
    bson_append_document_end(&arr, &item);
    bson_append_array_end(doc, &arr);
    BSON_APPEND_ARRAY_BEGIN(doc, "addresses", &arr);
    BSON_APPEND_DOCUMENT_BEGIN(&arr, "0", &item);
    BSON_APPEND_UTF8(&item, "kind", "REGISTRATION");
    BSON_APPEND_UTF8(&item, "text", addr);
    bson_append_document_end(&arr, &item);
    bson_append_array_end(doc, &arr);
    BSON_APPEND_UTF8(doc, "organization", moved ? org2 : org);
    append_education(doc, org, org2, (int)(i % 11) + 1, moved);
}

static void
org_doc(bson_t *doc, long s)
{
    char ogrn[32], name[96], oktmo[16];
    bson_t arr, item, lic;

    school_ogrn(s, ogrn);
    snprintf(name, sizeof name, "МБОУ «Школа № %ld»", s + 1);
    snprintf(oktmo, sizeof oktmo, "927%02ld000", s % 40);
    bson_init(doc);
    BSON_APPEND_UTF8(doc, "ogrn", ogrn);
    BSON_APPEND_UTF8(doc, "inn", "1654001117");
    BSON_APPEND_UTF8(doc, "kpp", "165501001");
    BSON_APPEND_UTF8(doc, "full_name", name);
    BSON_APPEND_UTF8(doc, "short_name", name);
    BSON_APPEND_UTF8(doc, "type", "SCHOOL");
    BSON_APPEND_UTF8(doc, "oktmo", oktmo);
    BSON_APPEND_ARRAY_BEGIN(doc, "addresses", &arr);
    BSON_APPEND_DOCUMENT_BEGIN(&arr, "0", &item);
    BSON_APPEND_UTF8(&item, "kind", "LEGAL");
    BSON_APPEND_UTF8(&item, "text", "Республика Татарстан, г. Казань");
    bson_append_document_end(&arr, &item);
    bson_append_array_end(doc, &arr);
    BSON_APPEND_DOCUMENT_BEGIN(doc, "license", &lic);
    BSON_APPEND_UTF8(&lic, "number", "Л035-01234-16/00123456");
    BSON_APPEND_UTF8(&lic, "issued_on", "2016-08-01");
    bson_append_document_end(doc, &lic);
    BSON_APPEND_UTF8(doc, "status", "ACTIVE");
}

/* Schools first … last, unless they exist (a later seed grows the population). */
static bool
scale_schools(store_conn_t *conn, long first, long last)
{
    write_meta_t meta = {.principal = &bench_principal, .request_id = "bench-scale"};
    bool ok = true;

    for (long s = first; ok && s <= last; s++) {
        char ogrn[32];
        bson_t doc;
        write_result_t out;
        kt_error_t err;
        kt_error_clear(&err);
        school_ogrn(s, ogrn);
        org_doc(&doc, s);
        ok = store_record_write(conn, &store_kind_organization, WRITE_CREATE, ogrn, 0, &doc, &meta,
                                &out, &err) ||
             err.status == 409;
        if (!ok)
            fprintf(stderr, "school %s: %s\n", ogrn, err.message);
        bson_destroy(&doc);
    }
    return ok;
}

/* Version v of students first … first+n-1 (ids of the block), by writers
 * writer-00 … writer-49. */
static bool
scale_version(store_conn_t *conn, long first, long n, int v, char (*bids)[40])
{
    bool ok = true;

    for (long k = 0; ok && k < n; k++) {
        long i = first + k;
        principal_t who = {.role = ROLE_REGION, .method = AUTH_TOKEN};
        write_meta_t meta = {.principal = &who, .request_id = "bench-scale"};
        write_result_t out;
        kt_error_t err;
        bson_t doc;
        snprintf(who.subject, sizeof who.subject, "writer-%02ld", i % 50);
        kt_error_clear(&err);
        scale_doc(&doc, i, v);
        ok = store_student_write(conn, v == 1 ? WRITE_CREATE : WRITE_UPDATE,
                                 v == 1 ? NULL : bids[k], 0, &doc, &meta, &out, &err);
        if (ok && v == 1)
            memcpy(bids[k], out.id, sizeof out.id);
        if (!ok)
            fprintf(stderr, "student %ld v%d: %s\n", i, v, err.message);
        bson_destroy(&doc);
    }
    return ok;
}

/* One access-log entry per student, read by reader-00 … reader-99. */
static bool
scale_reads(store_conn_t *conn, long first, long n, char (*bids)[40])
{
    bool ok = true;

    for (long k = 0; ok && k < n; k++) {
        principal_t who = {.role = ROLE_SCHOOL, .method = AUTH_TOKEN};
        const char *one[1] = {bids[k]};
        kt_error_t err;
        snprintf(who.subject, sizeof who.subject, "reader-%02ld", (first + k) % 100);
        kt_error_clear(&err);
        ok = audit_log_read(conn, &who, "bench-scale", "student", one, 1, &err);
        if (!ok)
            fprintf(stderr, "access log: %s\n", err.message);
    }
    return ok;
}

/* Students from … to-1 in blocks of SCALE_BLOCK: each block's versions are
 * written round by round, so that a student's versions spread over time
 * and the feed as a region's would; a block is one store batch (one SQLite
 * transaction of its 11 000 writes). */
static int
scale_seed(store_conn_t *conn, long from, long to)
{
    static char bids[SCALE_BLOCK][40];
    double t0 = now_s();
    long versions = 0;
    bool ok;

    ok = from < to && scale_schools(conn, from / SCALE_SCHOOL, (to - 1) / SCALE_SCHOOL + 1);
    for (long b = from; ok && b < to; b += SCALE_BLOCK) {
        long n = to - b < SCALE_BLOCK ? to - b : SCALE_BLOCK;
        ok = seed_begin(conn);
        for (int v = 1; ok && v <= SCALE_VERSIONS; v++)
            ok = scale_version(conn, b, n, v, bids);
        ok = seed_end(conn, ok && scale_reads(conn, b, n, bids));
        for (long k = 0; ok && k < n; k++)
            printf("%s\n", bids[k]);
        versions += ok ? n * SCALE_VERSIONS : 0;
        if (ok && (b - from) % 50000 == 0 && b > from)
            fprintf(stderr, "seed: %ld students, %.0f versions/s\n", b - from,
                    (double)versions / (now_s() - t0));
    }
    double elapsed = now_s() - t0;
    fprintf(stderr, "backend=%s students=%ld versions=%ld seconds=%.1f rate=%.1f/s\n",
            store_backend_name(store), to - from, versions, elapsed, (double)versions / elapsed);
    return ok ? 0 : 1;
}

static long
number_arg(const char *s)
{
    char *end = NULL;
    long n = strtol(s, &end, 10);
    return end != s && *end == '\0' && n >= 0 ? n : -1;
}

static int
usage(void)
{
    fprintf(stderr, "usage: bench_store seed N | read SECONDS IDS | write SECONDS IDS | deep N |\n"
                    "       raw N | xsd FILE | report-seed N | scan 0 | scale-seed FROM TO\n");
    return 2;
}

static int
deep(store_conn_t *conn, long n)
{
    long key = (long)time(NULL) % 100000 * 1000 + 999;
    char place[32], id[40];
    write_result_t out;

    bool ok;

    if (!write_one(conn, WRITE_CREATE, NULL, key, "v1", &out))
        return 1;
    memcpy(id, out.id, sizeof out.id);
    ok = seed_begin(conn);
    for (long i = 2; ok && i <= n; i++) {
        snprintf(place, sizeof place, "v%ld", i);
        write_one(conn, WRITE_UPDATE, id, key, place, &out);
        ok = seed_step(conn, i, true);
    }
    printf("%s\n", id);
    return seed_end(conn, ok) ? 0 : 1;
}

static int
seed(store_conn_t *conn, long n)
{
    long base = (long)time(NULL) % 100000 * 1000;
    write_result_t out;

    bool ok;

    ok = seed_begin(conn);
    for (long i = 0; ok && i < n; i++) {
        if (write_one(conn, WRITE_CREATE, NULL, base + i, "seed", &out))
            printf("%s\n", out.id);
        ok = seed_step(conn, i + 1, true);
    }
    return seed_end(conn, ok) ? 0 : 1;
}

static int
command(store_conn_t *conn, int argc, char **argv)
{
    const char *cmd = argv[1];
    long n = number_arg(argv[2]);
    kt_error_t err;

    kt_error_clear(&err);
    if (n < 0)
        return usage();
    /* The server prepared the store at its start; SQLite's tables are made
     * here too, for a bench_store run on a file of its own. */
    if (is_sqlite() && !store_prepare(conn, &err)) {
        fprintf(stderr, "store: %s\n", err.message);
        return 1;
    }
    if (strcmp(cmd, "seed") == 0)
        return seed(conn, n);
    if (strcmp(cmd, "report-seed") == 0)
        return report_seed(conn, n);
    if (strcmp(cmd, "scan") == 0)
        return plain_scan(conn);
    if (strcmp(cmd, "raw") == 0)
        return raw_inserts(conn, n);
    if (strcmp(cmd, "deep") == 0)
        return deep(conn, n);
    if (strcmp(cmd, "scale-seed") == 0 && argc == 4 && number_arg(argv[3]) > n)
        return scale_seed(conn, n, number_arg(argv[3]));
    return usage();
}

int
main(int argc, char **argv)
{
    config_t cfg;
    kt_error_t err;
    int rc;

    kt_error_clear(&err);
    if (argc < 3 || !config_load(&cfg, &err))
        return usage();
    if (strcmp(argv[1], "xsd") == 0)
        return xsd_pass(cfg.xsd_path, argv[2]);
    store = config_store_new(&cfg, &err);
    if (store == NULL) {
        fprintf(stderr, "store: %s\n", err.message);
        return 1;
    }
    db = cfg.db_name;
    samples = calloc(MAX_SAMPLES, sizeof *samples);
    if ((strcmp(argv[1], "read") == 0 || strcmp(argv[1], "write") == 0) && argc == 4 &&
        number_arg(argv[2]) > 0 && load_ids(argv[3]) == 0) {
        rc = run_load(strcmp(argv[1], "read") == 0 ? reader : writer, (double)number_arg(argv[2]));
    } else {
        store_conn_t *conn = store_conn_pop(store, STORE_POOL_BATCH);
        rc = command(conn, argc, argv);
        store_conn_push(conn);
    }
    store_free(store);
    return rc;
}
