/*
 * bench_sqlite_scan: the report scan of the SQLite store (store/sqlite/scan.c)
 * over a large population, from C, without HTTP (run on demand; not a test).
 *
 *   bench_sqlite_scan seed FILE N    add N students to FILE: version records
 *                                    built by store_build_record (hash chain,
 *                                    changes), heads; an education history as
 *                                    bench_store's report-seed (200 schools,
 *                                    grades 1–11); every tenth gets a second
 *                                    version a month later (moved school)
 *   bench_sqlite_scan scan FILE UNTIL  store_scan_latest with the contingent
 *                                    report's summary (report_facts), UNTIL a
 *                                    stored-form time or "-" for none
 *   bench_sqlite_scan bare FILE UNTIL  the same scan keeping nothing: the
 *                                    store's share
 *   bench_sqlite_scan plain FILE     the reference: every row of
 *                                    student_versions read, nothing computed
 *
 * BENCH_MMAP=<bytes> sets PRAGMA mmap_size on the scan's connection first
 * (what memory-mapped reads would gain; libsqlite3 caps it, at 2 GiB here).
 * Prints "records=… seconds=… cpu=…" (wall clock and user + system CPU; on a
 * shared machine the CPU time is the steadier), and the peak RSS for a scan.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "model/report.h"
#include "store/sqlite/sqlite.h"

#define SEED_BATCH 20000

static principal_t bench_principal = {
    .subject = "bench", .role = ROLE_REGION, .method = AUTH_TOKEN};

static double
now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
episode(bson_t *edu, const char *key, int n, const char *org, int grade, const char *on, bool ended,
        const char *event)
{
    bson_t ep, events, ev;

    BSON_APPEND_DOCUMENT_BEGIN(edu, key, &ep);
    BSON_APPEND_INT64(&ep, "episode", n);
    BSON_APPEND_UTF8(&ep, "organization", org);
    BSON_APPEND_UTF8(&ep, "level", grade <= 4 ? "NOO" : grade <= 9 ? "OOO" : "SOO");
    BSON_APPEND_UTF8(&ep, "form", "FULL_TIME");
    BSON_APPEND_INT64(&ep, "grade", grade);
    BSON_APPEND_UTF8(&ep, "enrolled_on", on);
    BSON_APPEND_UTF8(&ep, "status", ended ? "ENDED" : "ACTIVE");
    if (ended) {
        BSON_APPEND_UTF8(&ep, "ended_on", "2026-01-15");
        BSON_APPEND_UTF8(&ep, "end_reason", "TRANSFER_OUT");
    }
    BSON_APPEND_ARRAY_BEGIN(&ep, "events", &events);
    BSON_APPEND_DOCUMENT_BEGIN(&events, "0", &ev);
    BSON_APPEND_UTF8(&ev, "type", event);
    BSON_APPEND_UTF8(&ev, "date", on);
    BSON_APPEND_INT64(&ev, "grade", grade);
    bson_append_document_end(&events, &ev);
    bson_append_array_end(&ep, &events);
    bson_append_document_end(edu, &ep);
}

/* Student i's document; moved: the second version, at the next school. */
static void
student_doc(bson_t *doc, long i, bool moved)
{
    char org[14], org2[14], birth[16], number[8];
    int grade = (int)(i % 11) + 1;
    bson_t sub, arr, item;

    snprintf(org, sizeof org, "10277%08ld", i % 200);
    snprintf(org2, sizeof org2, "10277%08ld", (i + 1) % 200);
    snprintf(birth, sizeof birth, "%04d-%02d-%02d", 2025 - 7 - grade + 1, (int)(i % 12) + 1,
             (int)(i % 28) + 1);
    snprintf(number, sizeof number, "%06ld", i % 1000000);
    bson_init(doc);
    BSON_APPEND_UTF8(doc, "last_name", "Иванова");
    BSON_APPEND_UTF8(doc, "first_name", "Анна");
    BSON_APPEND_UTF8(doc, "middle_name", "Сергеевна");
    BSON_APPEND_UTF8(doc, "sex", i % 2 ? "F" : "M");
    BSON_APPEND_UTF8(doc, "birth_date", birth);
    BSON_APPEND_UTF8(doc, "birth_place", "г. Казань");
    BSON_APPEND_DOCUMENT_BEGIN(doc, "citizenship", &sub);
    BSON_APPEND_UTF8(&sub, "category", "RF");
    bson_append_document_end(doc, &sub);
    BSON_APPEND_ARRAY_BEGIN(doc, "documents", &arr);
    BSON_APPEND_DOCUMENT_BEGIN(&arr, "0", &item);
    BSON_APPEND_UTF8(&item, "type", "BIRTH_CERT_RF");
    BSON_APPEND_UTF8(&item, "series", "II-АБ");
    BSON_APPEND_UTF8(&item, "number", number);
    bson_append_document_end(&arr, &item);
    bson_append_array_end(doc, &arr);
    BSON_APPEND_ARRAY_BEGIN(doc, "addresses", &arr);
    BSON_APPEND_DOCUMENT_BEGIN(&arr, "0", &item);
    BSON_APPEND_UTF8(&item, "kind", "REGISTRATION");
    BSON_APPEND_UTF8(&item, "text", "г. Казань, ул. Баумана, д. 1, кв. 1");
    bson_append_document_end(&arr, &item);
    bson_append_array_end(doc, &arr);
    BSON_APPEND_UTF8(doc, "organization", moved ? org2 : org);
    BSON_APPEND_ARRAY_BEGIN(doc, "education", &arr);
    episode(&arr, "0", 1, org, grade, "2025-09-01", moved, "ENROLL");
    if (moved)
        episode(&arr, "1", 2, org2, grade, "2026-01-20", false, "TRANSFER_IN");
    bson_append_array_end(doc, &arr);
}

static bool
step(sqlite3 *db, sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);

    sqlite3_reset(st);
    if (rc != SQLITE_DONE)
        fprintf(stderr, "insert: %s\n", sqlite3_errmsg(db));
    return rc == SQLITE_DONE;
}

/* One version and the head at it, as record_write leaves them. */
static bool
put(sqlite3 *db, sqlite3_stmt *ver, sqlite3_stmt *head, const char *id, int64_t n, int64_t seq,
    const char *time_s, const bson_t *doc, const bson_t *prev, const char *prev_hash, char hash[65])
{
    write_meta_t meta = {.principal = &bench_principal, .request_id = "bench"};
    record_args_t a = {.kind = &store_kind_student,
                       .id = id,
                       .version = n,
                       .seq = seq,
                       .op = n == 1 ? WRITE_CREATE : WRITE_UPDATE,
                       .time = time_s,
                       .doc = doc,
                       .prev_doc = prev,
                       .prev_hash = prev_hash};
    bson_t rec, h = BSON_INITIALIZER;
    bool ok = store_build_record(&rec, &a, &meta);

    snprintf(hash, 65, "%s", ok ? util_get_str(&rec, "hash") : "");
    sqlite_bind_text(ver, 1, id);
    sqlite3_bind_int64(ver, 2, n);
    sqlite_bind_text(ver, 3, time_s);
    sqlite_bind_text(ver, 4, "ACTIVE");
    sqlite3_bind_int64(ver, 5, seq);
    sqlite_bind_text(ver, 6, bench_principal.subject);
    sqlite_bind_text(ver, 7, util_get_str(doc, "organization"));
    sqlite_bind_bson(ver, 8, &rec);
    ok = ok && step(db, ver);
    BSON_APPEND_UTF8(&h, "_id", id);
    BSON_APPEND_INT64(&h, "version", n);
    BSON_APPEND_UTF8(&h, "state", "ACTIVE");
    store_kind_student.head_keys(doc, &h);
    BSON_APPEND_UTF8(&h, "updated_at", time_s);
    sqlite_bind_text(head, 1, id);
    sqlite3_bind_int64(head, 2, n);
    sqlite_bind_text(head, 3, "ACTIVE");
    sqlite_bind_text(head, 4, time_s);
    sqlite_bind_bson(head, 5, &h);
    ok = ok && step(db, head);
    bson_destroy(&rec);
    bson_destroy(&h);
    return ok;
}

static bool
seed_one(sqlite3 *db, sqlite3_stmt *ver, sqlite3_stmt *head, long i, int64_t *seq)
{
    char id[37], hash[65];
    bson_t v1, v2;
    bool ok;

    util_uuid(id);
    student_doc(&v1, i, false);
    ok = put(db, ver, head, id, 1, ++*seq, "2025-09-01T08:00:00.000Z", &v1, NULL, "", hash);
    if (ok && i % 10 == 0) {
        student_doc(&v2, i, true);
        ok = put(db, ver, head, id, 2, ++*seq, "2026-01-20T08:00:00.000Z", &v2, &v1, hash, hash);
        bson_destroy(&v2);
    }
    bson_destroy(&v1);
    return ok;
}

static int
seed(store_conn_t *conn, long n)
{
    sqlite3 *db = sqlite_db(conn);
    sqlite3_stmt *ver = NULL, *head = NULL;
    int64_t seq = 0;
    double t0 = now_s();
    bool ok = true;

    sqlite3_prepare_v2(db,
                       "INSERT INTO student_versions(id, version, time, state, seq, subject,"
                       " organization, record) VALUES(?, ?, ?, ?, ?, ?, ?, ?)",
                       -1, &ver, NULL);
    sqlite3_prepare_v2(db,
                       "INSERT OR REPLACE INTO students(id, version, state, updated_at, head)"
                       " VALUES(?, ?, ?, ?, ?)",
                       -1, &head, NULL);
    sqlite3_exec(db, "PRAGMA synchronous=OFF", NULL, NULL, NULL); /* a bench's seed only */
    for (long i = 0; ok && i < n; i++) {
        if (i % SEED_BATCH == 0)
            sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
        ok = seed_one(db, ver, head, i, &seq);
        if ((i + 1) % SEED_BATCH == 0 || i + 1 == n)
            ok = sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK && ok;
    }
    sqlite3_finalize(ver);
    sqlite3_finalize(head);
    printf("students=%ld seconds=%.2f\n", n, now_s() - t0);
    return ok ? 0 : 1;
}

static bool
keep_facts(void *ctx, const scan_version_t *v, void *value, kt_error_t *err)
{
    (void)ctx;
    (void)err;
    report_facts(v->doc, v->deleted, "2026-09-20", value);
    return true;
}

static bool
keep_nothing(void *ctx, const scan_version_t *v, void *value, kt_error_t *err)
{
    (void)ctx;
    (void)v;
    (void)value;
    (void)err;
    return true;
}

/* User + system CPU seconds of the process so far. */
static double
cpu_s(void)
{
    struct rusage ru;

    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static long
peak_rss_kb(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kb = 0;

    while (f != NULL && fgets(line, sizeof line, f) != NULL)
        if (strncmp(line, "VmHWM:", 6) == 0)
            kb = strtol(line + 6, NULL, 10); /* lint: allow (bench) */
    if (f != NULL)
        fclose(f);
    return kb;
}

static int
scan(store_conn_t *conn, const char *until, bool bare)
{
    scan_spec_t spec = {.kind = &store_kind_student,
                        .until = strcmp(until, "-") == 0 ? NULL : until,
                        .value_size = sizeof(report_facts_t),
                        .max_bytes = (size_t)1 << 30,
                        .keep = bare ? keep_nothing : keep_facts};
    strmap_t *map = NULL;
    kt_error_t err;
    double t0 = now_s(), c0 = cpu_s();
    bool ok;

    kt_error_clear(&err);
    if (getenv("BENCH_MMAP") != NULL) {
        char pragma[64];
        snprintf(pragma, sizeof pragma, "PRAGMA mmap_size=%s", getenv("BENCH_MMAP"));
        sqlite3_exec(sqlite_db(conn), pragma, NULL, NULL, NULL);
    }
    ok = store_scan_latest(conn, &spec, &map, &err);
    printf("records=%zu seconds=%.3f cpu=%.3f peak_rss_mb=%ld%s%s\n", map ? strmap_count(map) : 0,
           now_s() - t0, cpu_s() - c0, peak_rss_kb() / 1024,
           ok ? "" : " error=", ok ? "" : err.message);
    scan_free(&spec, map);
    return ok ? 0 : 1;
}

static int
plain(store_conn_t *conn)
{
    sqlite3_stmt *st = NULL;
    double t0 = now_s(), c0 = cpu_s();
    long n = 0, bytes = 0;

    sqlite3_prepare_v2(sqlite_db(conn), "SELECT record FROM student_versions", -1, &st, NULL);
    while (sqlite3_step(st) == SQLITE_ROW) {
        bytes += sqlite3_column_bytes(st, 0);
        n++;
    }
    sqlite3_finalize(st);
    printf("records=%ld mb=%ld seconds=%.3f cpu=%.3f\n", n, bytes >> 20, now_s() - t0,
           cpu_s() - c0);
    return 0;
}

int
main(int argc, char **argv)
{
    store_options_t opts = {.backend = STORE_SQLITE};
    kt_error_t err;
    store_t *store;
    store_conn_t *conn;
    int rc = 2;

    if (argc < 3) {
        fprintf(stderr,
                "usage: bench_sqlite_scan seed FILE N | scan|bare FILE UNTIL | plain FILE\n");
        return 2;
    }
    opts.sqlite_path = argv[2];
    kt_error_clear(&err);
    if ((store = store_new(&opts, &err)) == NULL) {
        fprintf(stderr, "%s\n", err.message);
        return 1;
    }
    conn = store_conn_pop(store, STORE_POOL_BATCH);
    if (!store_prepare(conn, &err))
        fprintf(stderr, "%s\n", err.message);
    else if (strcmp(argv[1], "seed") == 0 && argc == 4)
        rc = seed(conn, strtol(argv[3], NULL, 10)); /* lint: allow (bench) */
    else if ((strcmp(argv[1], "scan") == 0 || strcmp(argv[1], "bare") == 0) && argc == 4)
        rc = scan(conn, argv[3], strcmp(argv[1], "bare") == 0);
    else if (strcmp(argv[1], "plain") == 0)
        rc = plain(conn);
    store_conn_push(conn);
    store_free(store);
    return rc;
}
