/*
 * test_contract: the store contract's test suite — what "correct" means for
 * every backend (docs/storage.md, "The contract tests"). It drives only the
 * public contract (store/store.h, records.h, feed.h, audit.h, packages.h,
 * verify.h, health_keys.h) through store_new, so the same cases judge SQLite
 * and MongoDB:
 *
 *   KT_STORE=sqlite   KT_SQLITE=<file> (default: a fresh temp file, removed
 *                     at the end; a file given is kept)
 *   KT_STORE=mongodb  MONGODB_URI, KT_DB (default kt_contract_test): a
 *                     database of its own, dropped first and at the end (so
 *                     its name must contain "test")
 *
 *   test_contract              the suite
 *   test_contract prepare      MongoDB: drop and create the database's
 *                              collections (so that scripts/lib.sh can index
 *                              them), then `test_contract --prepared` runs
 *                              the suite on it without dropping it first
 *   test_contract crash-child ID VERSION   (its own use: a process that dies
 *                              at the write's fault point)
 *   test_contract write-loop ORG   (its own use: a writer to be killed)
 *
 * Each case prints PASS or FAIL with its name; the exit status is non-zero on
 * any failure. KT_CONTRACT_SCALE (1) multiplies the operation counts. MongoDB
 * without MONGODB_URI is skipped (exit 77).
 */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "auth/principal.h"
#include "check.h"
#include "core/arena.h"
#include "core/buf.h"
#include "core/json.h"
#include "store/audit.h"
#include "store/duplicates.h"
#include "store/feed.h"
#include "store/health_keys.h"
#include "store/mongo/mongo.h"
#include "store/packages.h"
#include "store/records.h"
#include "store/scan.h"
#include "store/store.h"
#include "store/verify.h"

#define SKIP        77
#define WRITERS     16 /* the 16-writer case */
#define RACERS      8  /* concurrent creates and updates of one СНИЛС */
#define FEEDERS     4  /* threads writing the feed case */
#define PAGE        7  /* the pagination case's page */
#define MAX_TRIES   10000
#define BIRTH       "2014-05-05"
#define FAULT_POINT "crash-after-version"

static store_t *store;
static store_options_t opts;
static char sqlite_path[1024];
static bool sqlite_temp; /* made here: removed at the end */
static long scale = 1;
static int tag; /* six digits that make this run's ids its own */
static principal_t admin = {.role = ROLE_ADMIN, .method = AUTH_TOKEN};

/* CHECK_RUN, and a PASS or FAIL line with the case's name on stdout. */
#define CONTRACT_RUN(fn)                                                                           \
    do {                                                                                           \
        int64_t contract_t0_ = feed_now_ms();                                                      \
        CHECK_RUN(fn);                                                                             \
        printf("%s %s (%lld ms)\n", check_failures_in_test ? "FAIL" : "PASS", #fn,                 \
               (long long)(feed_now_ms() - contract_t0_));                                         \
        fflush(stdout);                                                                            \
    } while (0)

/* An operation that must succeed: on failure, the store's message. */
#define CHECK_OK(call, err)                                                                        \
    do {                                                                                           \
        if (!(call)) {                                                                             \
            fprintf(stderr, "%s:%d: %s failed: %d %s %s\n", __FILE__, __LINE__, #call,             \
                    (err).status, kt_code_name((err).code), (err).message);                        \
            check_failures_in_test++;                                                              \
        }                                                                                          \
    } while (0)

/* --- values --- */

/* A СНИЛС with a valid check number: 9 digits made of the run's tag and n. */
static void
make_snils(int n, char out[12])
{
    int sum = 0, check;

    snprintf(out, 12, "%06d%03d", tag, n % 1000);
    for (int i = 0; i < 9; i++)
        sum += (out[i] - '0') * (9 - i);
    check = sum < 100 ? sum : sum % 101;
    check = check == 100 ? 0 : check;
    out[9] = (char)('0' + check / 10);
    out[10] = (char)('0' + check % 10);
    out[11] = '\0';
}

/* An ОГРН with a valid check digit: 12 digits made of the run's tag and n. */
static void
make_ogrn(int n, char out[14])
{
    int rest = 0;

    snprintf(out, 14, "1027%06d%02d", tag, n % 100);
    for (int i = 0; i < 12; i++)
        rest = (rest * 10 + (out[i] - '0')) % 11;
    out[12] = (char)('0' + rest % 10);
    out[13] = '\0';
}

static void
student_doc(bson_t *doc, const char *last, const char *first, const char *snils, const char *org)
{
    bson_init(doc);
    BSON_APPEND_UTF8(doc, "last_name", last);
    BSON_APPEND_UTF8(doc, "first_name", first);
    BSON_APPEND_UTF8(doc, "birth_date", BIRTH);
    if (snils != NULL)
        BSON_APPEND_UTF8(doc, "snils", snils);
    if (org != NULL)
        BSON_APPEND_UTF8(doc, "organization", org);
}

static const char *
bget_str(const bson_t *b, const char *path)
{
    bson_iter_t it, found;

    if (bson_iter_init(&it, b) && bson_iter_find_descendant(&it, path, &found) &&
        BSON_ITER_HOLDS_UTF8(&found))
        return bson_iter_utf8(&found, NULL);
    return NULL;
}

static int64_t
bget_int(const bson_t *b, const char *path, int64_t fallback)
{
    bson_iter_t it, found;

    if (bson_iter_init(&it, b) && bson_iter_find_descendant(&it, path, &found) &&
        (BSON_ITER_HOLDS_INT64(&found) || BSON_ITER_HOLDS_INT32(&found)))
        return bson_iter_as_int64(&found);
    return fallback;
}

static bool
bhas_type(const bson_t *b, const char *path, bson_type_t type)
{
    bson_iter_t it, found;

    return bson_iter_init(&it, b) && bson_iter_find_descendant(&it, path, &found) &&
           bson_iter_type(&found) == type;
}

/* "YYYY-MM-DDTHH:MM:SS.mmmZ" → milliseconds since the epoch; -1 when not that shape. */
static int64_t
time_ms(const char *t)
{
    struct tm tm;
    const char *rest;

    memset(&tm, 0, sizeof tm);
    rest = t != NULL ? strptime(t, "%Y-%m-%dT%H:%M:%S", &tm) : NULL;
    if (rest == NULL || strlen(rest) != 5 || rest[0] != '.' || rest[4] != 'Z')
        return -1;
    for (int i = 1; i < 4; i++)
        if (rest[i] < '0' || rest[i] > '9')
            return -1;
    return (int64_t)timegm(&tm) * 1000 + (rest[1] - '0') * 100 + (rest[2] - '0') * 10 +
           (rest[3] - '0');
}

static void
time_str(int64_t ms, char out[32])
{
    time_t s = (time_t)(ms / 1000);
    struct tm tm;
    size_t n;

    gmtime_r(&s, &tm);
    n = strftime(out, 32, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out + n, 32 - n, ".%03dZ", (int)(ms % 1000));
}

/* Waits until the clock has moved past the current millisecond, so that the
 * next version's time is later than the last one's (as_of tells versions
 * apart by their times). Not a timed assertion: it only orders. */
static void
next_ms(void)
{
    int64_t now = feed_now_ms();
    struct timespec pause = {0, 1000000};

    while (feed_now_ms() <= now + 1)
        nanosleep(&pause, NULL);
}

/* Empties r for the next read into it. */
static void
record_reset(record_t *r)
{
    record_release(r);
    record_init(r);
}

/* --- writing --- */

static bool
put(store_conn_t *conn, write_op_t op, const char *id, int64_t expected, const bson_t *doc,
    write_result_t *out, kt_error_t *err)
{
    write_meta_t meta = {.principal = &admin,
                         .request_id = "test_contract",
                         .reason = op == WRITE_DELETE ? "приказ № 1 от 01.09.2026" : NULL};

    kt_error_clear(err);
    return store_student_write(conn, op, id, expected, doc, &meta, out, err);
}

/* Creates a student; fills id (size 37). */
static bool
create(store_conn_t *conn, const char *last, const char *first, const char *snils, const char *org,
       char *id)
{
    write_result_t out;
    kt_error_t err;
    bson_t doc;
    bool ok;

    student_doc(&doc, last, first, snils, org);
    ok = put(conn, WRITE_CREATE, NULL, 0, &doc, &out, &err);
    bson_destroy(&doc);
    CHECK_OK(ok, err);
    snprintf(id, STUDENT_ID_LEN + 1, "%s", ok ? out.id : "");
    return ok;
}

static int64_t
current_version(store_conn_t *conn, const char *id)
{
    record_t r;
    kt_error_t err;
    int64_t v = -1;

    record_init(&r);
    kt_error_clear(&err);
    if (store_student_get(conn, id, &r, &err))
        v = r.version;
    record_release(&r);
    return v;
}

/* verify_record's verdict for one record: the chain links, each version has
 * its feed entry, the head names no missing version. */
static void
check_chain(store_conn_t *conn, const store_kind_t *kind, const char *id, long want_versions)
{
    char problem[256] = "";
    long versions = 0;
    bool lags = true;
    int64_t bad = -1;
    kt_error_t err;

    kt_error_clear(&err);
    CHECK_OK(verify_record(conn, kind, id, &versions, &lags, &bad, problem, &err), err);
    CHECK_STR(problem, "");
    CHECK_INT(bad, 0);
    CHECK(!lags);
    CHECK_INT(versions, want_versions);
}

/* --- reading the feed --- */

typedef struct {
    feed_entry_t *e;
    size_t n, cap;
} entries_t;

static bool
collect(void *ctx, const feed_entry_t *entry)
{
    entries_t *l = ctx;

    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 256;
        feed_entry_t *grown = realloc(l->e, cap * sizeof *grown);
        if (grown == NULL)
            abort();
        l->e = grown;
        l->cap = cap;
    }
    l->e[l->n++] = *entry;
    return true;
}

static void
entries_free(entries_t *l)
{
    free(l->e);
    memset(l, 0, sizeof *l);
}

/* Reads the feed after since to its end, limit entries a page, into out;
 * *next is where it ended. Every page holds at most limit entries and the
 * cursor never goes back. */
static bool
feed_all(store_conn_t *conn, int64_t since, int limit, const char *org, entries_t *out,
         int64_t *next)
{
    int64_t cur = since;
    kt_error_t err;

    for (long pages = 0; pages < 1000000; pages++) {
        int64_t nx = cur;
        size_t before = out->n;
        kt_error_clear(&err);
        if (!feed_read(conn, cur, limit, org, collect, out, &nx, &err)) {
            fprintf(stderr, "feed_read after %lld: %s\n", (long long)cur, err.message);
            check_failures_in_test++;
            return false;
        }
        CHECK(out->n - before <= (size_t)limit);
        CHECK(nx >= cur);
        if (nx <= cur && out->n == before)
            break;
        cur = nx;
    }
    *next = cur;
    return true;
}

/* The cursor at the feed's end now. */
static int64_t
feed_end(store_conn_t *conn)
{
    entries_t l = {0};
    int64_t next = 0;

    feed_all(conn, 0, 500, NULL, &l, &next);
    entries_free(&l);
    return next;
}

/* ======================================================================
 * Case: create, read, update, delete; versions; as_of; the chain.
 * ====================================================================== */

/* The version record's members every backend writes (store/records.h). */
static void
check_version_record(const record_t *r, const char *id, int64_t n, const char *kind,
                     const char *prev_hash)
{
    char vid[64], hash[65] = "";
    const char *stored = bget_str(&r->record, "hash");

    store_version_id(id, n, vid);
    CHECK_STR(r->id, id);
    CHECK_INT(r->version, n);
    CHECK_STR(bget_str(&r->record, "_id"), vid);
    CHECK_STR(bget_str(&r->record, "student_id"), id);
    CHECK_INT(bget_int(&r->record, "version", -1), n);
    CHECK_STR(bget_str(&r->record, "kind"), kind);
    CHECK_STR(bget_str(&r->record, "state"), strcmp(kind, "delete") == 0 ? "DELETED" : "ACTIVE");
    CHECK(time_ms(bget_str(&r->record, "time")) > 0);
    CHECK(bget_int(&r->record, "seq", 0) > 0);
    CHECK_STR(bget_str(&r->record, "principal.subject"), admin.subject);
    CHECK_STR(bget_str(&r->record, "principal.role"), "admin");
    CHECK_STR(bget_str(&r->record, "source.request_id"), "test_contract");
    CHECK(bhas_type(&r->record, "doc", BSON_TYPE_DOCUMENT));
    CHECK(bhas_type(&r->record, "changes", BSON_TYPE_ARRAY));
    CHECK_STR(bget_str(&r->record, "prev_hash"), prev_hash);
    CHECK(stored != NULL && strlen(stored) == 64);
    CHECK(store_version_hash(&r->record, prev_hash, hash));
    CHECK_STR(hash, stored);
}

/* Reads version n of id into r (emptied first; released by the caller). */
static bool
version_of(store_conn_t *conn, const char *id, int64_t n, record_t *r)
{
    kt_error_t err;

    record_reset(r);
    kt_error_clear(&err);
    return store_student_get_version(conn, id, n, r, &err);
}

static void
expect_error(bool ok, const kt_error_t *err, kt_code_t code, int status)
{
    CHECK(!ok);
    CHECK_INT(err->code, code);
    CHECK_INT(err->status, status);
}

/* as_of before, at, between and after two versions of id with times t1 < t2. */
static void
check_as_of(store_conn_t *conn, const char *id, const char *t1, const char *t2)
{
    struct {
        const char *at;
        int64_t want; /* 0: 404 */
    } cases[5];
    char before[32], between[32];
    int64_t m1 = time_ms(t1), m2 = time_ms(t2);

    CHECK(m1 > 0 && m2 > m1 + 1);
    time_str(m1 - 1, before);
    time_str(m1 + 1, between);
    cases[0].at = before, cases[0].want = 0;
    cases[1].at = t1, cases[1].want = 1;
    cases[2].at = between, cases[2].want = 1;
    cases[3].at = t2, cases[3].want = 2;
    cases[4].at = "9999-12-31T23:59:59.999Z", cases[4].want = 2;
    for (int i = 0; i < 5; i++) {
        record_t r;
        kt_error_t err;
        record_init(&r);
        kt_error_clear(&err);
        bool ok = store_student_as_of(conn, id, cases[i].at, &r, &err);
        if (cases[i].want == 0) {
            expect_error(ok, &err, KT_NOT_FOUND, 404);
        } else {
            CHECK_OK(ok, err);
            CHECK_INT(r.version, cases[i].want);
        }
        record_release(&r);
    }
}

static void
test_record_lifecycle(void)
{
    store_conn_t *conn = store_conn_pop(store, STORE_POOL_REQUEST);
    char org[14], id[STUDENT_ID_LEN + 1], hashes[4][65], times[4][32];
    write_result_t out;
    kt_error_t err;
    bson_t doc;
    record_t r;

    make_ogrn(1, org);
    record_init(&r);
    if (!create(conn, "Жизненная", "Анна", NULL, org, id))
        goto done;
    CHECK_INT(strlen(id), STUDENT_ID_LEN);
    next_ms();
    /* Update 1 → 2 naming version 1; then version 1 is stale: 412 naming 2. */
    student_doc(&doc, "Жизненная", "Мария", NULL, org);
    CHECK_OK(put(conn, WRITE_UPDATE, id, 1, &doc, &out, &err), err);
    CHECK_INT(out.version, 2);
    CHECK(!out.unchanged);
    expect_error(put(conn, WRITE_UPDATE, id, 1, &doc, &out, &err), &err, KT_VERSION_CONFLICT, 412);
    CHECK_STR(err.ref, "2");
    /* The same document again writes nothing: no version 3, no feed entry. */
    int64_t end = feed_end(conn);
    CHECK_OK(put(conn, WRITE_UPDATE, id, 0, &doc, &out, &err), err);
    CHECK(out.unchanged);
    CHECK_INT(out.version, 2);
    CHECK_INT(feed_end(conn), end);
    bson_destroy(&doc);

    /* Every version as written, chained. */
    CHECK_OK(store_student_get(conn, id, &r, &err), err);
    CHECK_INT(r.version, 2);
    CHECK(!r.deleted);
    CHECK_STR(bget_str(&r.doc, "first_name"), "Мария");
    for (int64_t n = 1; n <= 2; n++) {
        CHECK(version_of(conn, id, n, &r));
        check_version_record(&r, id, n, n == 1 ? "create" : "update", n == 1 ? "" : hashes[n - 1]);
        CHECK_STR(bget_str(&r.doc, "first_name"), n == 1 ? "Анна" : "Мария");
        snprintf(hashes[n], sizeof hashes[n], "%s", bget_str(&r.record, "hash") ?: "");
        snprintf(times[n], sizeof times[n], "%s", bget_str(&r.record, "time") ?: "");
    }
    record_reset(&r);
    kt_error_clear(&err);
    expect_error(store_student_get_version(conn, id, 3, &r, &err), &err, KT_NOT_FOUND, 404);
    record_reset(&r);
    kt_error_clear(&err);
    expect_error(store_student_get_version(conn, id, 0, &r, &err), &err, KT_NOT_FOUND, 404);
    check_as_of(conn, id, times[1], times[2]);

    /* Delete: version 3, state DELETED, the document kept; then 410. */
    next_ms();
    CHECK_OK(put(conn, WRITE_DELETE, id, 2, NULL, &out, &err), err);
    CHECK_INT(out.version, 3);
    record_reset(&r);
    kt_error_clear(&err);
    CHECK_OK(store_student_get(conn, id, &r, &err), err);
    CHECK(r.deleted);
    CHECK_INT(r.version, 3);
    CHECK_STR(bget_str(&r.doc, "first_name"), "Мария");
    CHECK(version_of(conn, id, 3, &r));
    check_version_record(&r, id, 3, "delete", hashes[2]);
    CHECK_STR(bget_str(&r.record, "reason"), "приказ № 1 от 01.09.2026");
    student_doc(&doc, "Жизненная", "Ольга", NULL, org);
    expect_error(put(conn, WRITE_UPDATE, id, 0, &doc, &out, &err), &err, KT_GONE, 410);
    expect_error(put(conn, WRITE_DELETE, id, 0, NULL, &out, &err), &err, KT_GONE, 410);
    bson_destroy(&doc);
    record_reset(&r);
    kt_error_clear(&err);
    CHECK_OK(store_student_as_of(conn, id, "9999-12-31T23:59:59.999Z", &r, &err), err);
    CHECK_INT(r.version, 3);
    CHECK(r.deleted);
    check_chain(conn, &store_kind_student, id, 3);

    /* Records that never existed. */
    record_reset(&r);
    kt_error_clear(&err);
    expect_error(store_student_get(conn, "00000000-0000-4000-8000-000000000000", &r, &err), &err,
                 KT_NOT_FOUND, 404);
    record_reset(&r);
    kt_error_clear(&err);
    expect_error(store_student_get(conn, "not-a-uuid", &r, &err), &err, KT_NOT_FOUND, 404);
    record_reset(&r);
    kt_error_clear(&err);
    expect_error(store_student_as_of(conn, "00000000-0000-4000-8000-000000000000",
                                     "9999-12-31T23:59:59.999Z", &r, &err),
                 &err, KT_NOT_FOUND, 404);
done:
    record_release(&r);
    store_conn_push(conn);
}

/* An update flagged identity_change (write_meta_t) is a version of that kind,
 * in the version record (hashed like any other) and in the feed entry; the
 * flag does not rename a create or a delete. */
static void
test_identity_change_kind(void)
{
    store_conn_t *conn = store_conn_pop(store, STORE_POOL_REQUEST);
    write_meta_t meta = {.principal = &admin,
                         .request_id = "test_contract",
                         .reason = "ЗАГС",
                         .identity_change = true};
    char org[14], id[STUDENT_ID_LEN + 1] = "";
    entries_t feed = {0};
    int64_t since = feed_end(conn), next = 0;
    write_result_t out;
    kt_error_t err;
    bson_t doc;
    record_t r;

    make_ogrn(1, org);
    record_init(&r);
    kt_error_clear(&err);
    student_doc(&doc, "Личная", "Анна", NULL, org);
    CHECK_OK(store_student_write(conn, WRITE_CREATE, NULL, 0, &doc, &meta, &out, &err), err);
    snprintf(id, sizeof id, "%s", out.id);
    bson_destroy(&doc);
    student_doc(&doc, "Личная-Новая", "Анна", NULL, org);
    CHECK_OK(store_student_write(conn, WRITE_UPDATE, id, 1, &doc, &meta, &out, &err), err);
    bson_destroy(&doc);
    CHECK_OK(store_student_write(conn, WRITE_DELETE, id, 2, NULL, &meta, &out, &err), err);
    CHECK(version_of(conn, id, 1, &r));
    check_version_record(&r, id, 1, "create", "");
    CHECK(version_of(conn, id, 2, &r));
    CHECK_STR(bget_str(&r.record, "kind"), "identity_change");
    CHECK_STR(bget_str(&r.record, "reason"), "ЗАГС");
    CHECK(version_of(conn, id, 3, &r));
    CHECK_STR(bget_str(&r.record, "kind"), "delete");
    check_chain(conn, &store_kind_student, id, 3);
    feed_all(conn, since, 500, NULL, &feed, &next);
    const char *want[] = {"create", "identity_change", "delete"};
    size_t mine = 0;
    for (size_t i = 0; i < feed.n; i++)
        if (strcmp(feed.e[i].student_id, id) == 0 && mine < 3)
            CHECK_STR(feed.e[i].kind, want[mine++]);
    CHECK_INT(mine, 3);
    entries_free(&feed);
    record_release(&r);
    store_conn_push(conn);
}

/* Organisations: the ОГРН is the id; a second create of it is 409 naming it;
 * no feed, the same chain. */
static void
test_organization_lifecycle(void)
{
    store_conn_t *conn = store_conn_pop(store, STORE_POOL_REQUEST);
    write_meta_t meta = {.principal = &admin, .request_id = "test_contract"};
    char ogrn[14];
    write_result_t out;
    kt_error_t err;
    bson_t doc = BSON_INITIALIZER;
    record_t r;

    make_ogrn(90, ogrn);
    record_init(&r);
    BSON_APPEND_UTF8(&doc, "full_name", "Школа контракта");
    BSON_APPEND_UTF8(&doc, "type", "SCHOOL");
    BSON_APPEND_UTF8(&doc, "status", "ACTIVE");
    kt_error_clear(&err);
    CHECK_OK(store_record_write(conn, &store_kind_organization, WRITE_CREATE, ogrn, 0, &doc, &meta,
                                &out, &err),
             err);
    CHECK_STR(out.id, ogrn);
    CHECK_INT(out.version, 1);
    kt_error_clear(&err);
    expect_error(store_record_write(conn, &store_kind_organization, WRITE_CREATE, ogrn, 0, &doc,
                                    &meta, &out, &err),
                 &err, KT_DUPLICATE_OGRN, 409);
    CHECK_STR(err.ref, ogrn);
    BSON_APPEND_UTF8(&doc, "short_name", "Школа");
    kt_error_clear(&err);
    CHECK_OK(store_record_write(conn, &store_kind_organization, WRITE_UPDATE, ogrn, 1, &doc, &meta,
                                &out, &err),
             err);
    CHECK_INT(out.version, 2);
    kt_error_clear(&err);
    CHECK_OK(store_record_get(conn, &store_kind_organization, ogrn, &r, &err), err);
    CHECK_INT(r.version, 2);
    CHECK_STR(bget_str(&r.doc, "short_name"), "Школа");
    CHECK_STR(bget_str(&r.record, "organization_id"), ogrn);
    CHECK(!bhas_type(&r.record, "seq", BSON_TYPE_INT64)); /* outside the feed */
    check_chain(conn, &store_kind_organization, ogrn, 2);
    bson_destroy(&doc);
    record_release(&r);
    store_conn_push(conn);
}

/* ======================================================================
 * Case: 16 writers update one record, each retrying on 412.
 * ====================================================================== */

typedef struct {
    const char *id;
    const char *org;
    int thread, updates;
    pthread_barrier_t *start;
    long written, conflicts, failures;
} writer_t;

/* One update of w's record that names the version it read, retried on 412. */
static void
write_one(store_conn_t *conn, writer_t *w, int i)
{
    char label[32];
    bson_t doc;

    snprintf(label, sizeof label, "W%02d-%05d", w->thread, i);
    student_doc(&doc, "Многописцева", label, NULL, w->org);
    for (int attempt = 0; attempt < MAX_TRIES; attempt++) {
        write_result_t out;
        kt_error_t err;
        int64_t v = current_version(conn, w->id);
        if (v > 0 && put(conn, WRITE_UPDATE, w->id, v, &doc, &out, &err) && !out.unchanged) {
            w->written++;
            break;
        }
        if (v > 0 && err.code == KT_VERSION_CONFLICT) {
            w->conflicts++;
            continue;
        }
        fprintf(stderr, "writer %d: %s\n", w->thread, v > 0 ? err.message : "read failed");
        w->failures++;
        break;
    }
    bson_destroy(&doc);
}

static void *
writer_run(void *arg)
{
    writer_t *w = arg;
    store_conn_t *conn = store_conn_pop(store, STORE_POOL_BATCH);

    pthread_barrier_wait(w->start);
    for (int i = 0; i < w->updates; i++)
        write_one(conn, w, i);
    store_conn_push(conn);
    return NULL;
}

/* Every version of id is there once, numbered 1..final, each update's label
 * in exactly one of them. */
static void
check_writers_versions(store_conn_t *conn, const char *id, int64_t final, int updates)
{
    bool *seen = calloc((size_t)WRITERS * (size_t)updates, 1);
    record_t r;

    record_init(&r);
    for (int64_t n = 2; seen != NULL && n <= final; n++) {
        const char *label = version_of(conn, id, n, &r) ? bget_str(&r.doc, "first_name") : NULL;
        char *end = NULL;
        long t = label != NULL ? strtol(label + 1, &end, 10) : -1;
        long i = end != NULL && *end == '-' ? strtol(end + 1, &end, 10) : -1;
        bool fits = label != NULL && t >= 0 && t < WRITERS && i >= 0 && i < updates;
        CHECK_INT(r.version, n);
        CHECK(fits && !seen[t * updates + i]);
        if (fits)
            seen[t * updates + i] = true;
    }
    for (int k = 0; seen != NULL && k < WRITERS * updates; k++)
        CHECK(seen[k]);
    CHECK(!version_of(conn, id, final + 1, &r));
    record_release(&r);
    free(seen);
}

/* The feed holds id's versions 1..final once each, in order. */
static void
check_writers_feed(store_conn_t *conn, const char *id, int64_t since, int64_t final)
{
    entries_t l = {0};
    int64_t next = 0, want = 1, last_seq = since;

    feed_all(conn, since, 100, NULL, &l, &next);
    for (size_t k = 0; k < l.n; k++) {
        if (strcmp(l.e[k].student_id, id) != 0)
            continue;
        CHECK_INT(l.e[k].version, want);
        CHECK(l.e[k].seq > last_seq);
        last_seq = l.e[k].seq;
        want++;
    }
    CHECK_INT(want - 1, final);
    entries_free(&l);
}

static void
test_sixteen_writers(void)
{
    store_conn_t *conn = store_conn_pop(store, STORE_POOL_BATCH);
    int updates = (int)(5 * scale);
    writer_t w[WRITERS];
    pthread_t tids[WRITERS];
    pthread_barrier_t start;
    char org[14], id[STUDENT_ID_LEN + 1];
    long written = 0, conflicts = 0, failures = 0;
    int64_t since = feed_end(conn), final;

    make_ogrn(2, org);
    if (!create(conn, "Многописцева", "Начало", NULL, org, id))
        goto done;
    pthread_barrier_init(&start, NULL, WRITERS);
    for (int t = 0; t < WRITERS; t++) {
        w[t] = (writer_t){.id = id, .org = org, .thread = t, .updates = updates, .start = &start};
        pthread_create(&tids[t], NULL, writer_run, &w[t]);
    }
    for (int t = 0; t < WRITERS; t++) {
        pthread_join(tids[t], NULL);
        written += w[t].written;
        conflicts += w[t].conflicts;
        failures += w[t].failures;
    }
    pthread_barrier_destroy(&start);
    final = current_version(conn, id);
    printf("  %d writers x %d updates: %ld written, %ld version conflicts retried, %ld failed\n",
           WRITERS, updates, written, conflicts, failures);
    CHECK_INT(failures, 0);
    CHECK_INT(written, (long)WRITERS * updates);
    CHECK_INT(final, 1 + written);
    check_writers_versions(conn, id, final, updates);
    check_writers_feed(conn, id, since, final);
    check_chain(conn, &store_kind_student, id, final);
done:
    store_conn_push(conn);
}

/* Updaters and a deleter of one record at once: the delete is the last
 * version, every update that succeeded is before it, the others meet 410. */
typedef struct {
    const char *id, *org;
    bool deleter;
    pthread_barrier_t *start;
    long written, gone, failures;
} racer_del_t;

static void *
racer_del_run(void *arg)
{
    racer_del_t *r = arg;
    store_conn_t *conn = store_conn_pop(store, STORE_POOL_BATCH);
    write_result_t out;
    kt_error_t err;
    bson_t doc;
    char label[32];

    pthread_barrier_wait(r->start);
    for (int i = 0; i < 5 * scale && r->gone == 0 && r->failures == 0; i++) {
        snprintf(label, sizeof label, "D-%p-%d", (void *)r, i);
        student_doc(&doc, "Удаляемая", label, NULL, r->org);
        for (int attempt = 0; attempt < MAX_TRIES; attempt++) {
            int64_t v = current_version(conn, r->id);
            bool ok = v > 0 && put(conn, r->deleter ? WRITE_DELETE : WRITE_UPDATE, r->id, v, &doc,
                                   &out, &err);
            if (ok || v <= 0 || err.code != KT_VERSION_CONFLICT) {
                r->written += ok;
                r->gone += v > 0 && !ok && err.code == KT_GONE;
                r->failures += v <= 0 || (!ok && err.code != KT_GONE);
                break;
            }
        }
        bson_destroy(&doc);
        if (r->deleter)
            break;
    }
    store_conn_push(conn);
    return NULL;
}

static void
test_delete_race(void)
{
    store_conn_t *conn = store_conn_pop(store, STORE_POOL_BATCH);
    racer_del_t r[RACERS];
    pthread_t tids[RACERS];
    pthread_barrier_t start;
    char org[14], id[STUDENT_ID_LEN + 1];
    long written = 0, failures = 0;
    record_t last;

    make_ogrn(60, org);
    record_init(&last);
    if (!create(conn, "Удаляемая", "Начало", NULL, org, id))
        goto done;
    pthread_barrier_init(&start, NULL, RACERS);
    for (int i = 0; i < RACERS; i++) {
        r[i] = (racer_del_t){.id = id, .org = org, .deleter = i == RACERS / 2, .start = &start};
        pthread_create(&tids[i], NULL, racer_del_run, &r[i]);
    }
    for (int i = 0; i < RACERS; i++) {
        pthread_join(tids[i], NULL);
        written += r[i].written;
        failures += r[i].failures;
    }
    pthread_barrier_destroy(&start);
    CHECK_INT(failures, 0);
    CHECK_INT(r[RACERS / 2].written, 1); /* the delete, retried on 412, went in */
    kt_error_t err;
    kt_error_clear(&err);
    CHECK_OK(store_student_get(conn, id, &last, &err), err);
    CHECK(last.deleted);
    CHECK_INT(last.version, 1 + written);
    CHECK(version_of(conn, id, last.version, &last));
    CHECK_STR(bget_str(&last.record, "kind"), "delete");
    check_chain(conn, &store_kind_student, id, 1 + written);
done:
    record_release(&last);
    store_conn_push(conn);
}

/* ======================================================================
 * Case: two-record writes (merge and unmerge, store_record_write_pair).
 * ====================================================================== */

static write_meta_t
pair_meta(const char *kind, const char *member, const char *other, const char *state, bool revive)
{
    write_meta_t m = {.principal = &admin,
                      .request_id = "test_contract",
                      .reason = "дубликат",
                      .version_kind = kind,
                      .state = state,
                      .link_member = member,
                      .link_id = other,
                      .revive = revive};
    return m;
}

/* Merges d into s (s takes doc): the duplicate's final version, then the survivor's. */
static bool
pair_merge(store_conn_t *conn, const char *s, int64_t sv, const char *d, int64_t dv,
           const bson_t *doc, write_result_t out[2], kt_error_t *err)
{
    write_meta_t md = pair_meta("merged", "merged_into", s, RECORD_MERGED, false);
    write_meta_t ms = pair_meta("merge", "merged_from", d, NULL, false);
    write_side_t sides[2] = {{WRITE_DELETE, d, dv, NULL, &md}, {WRITE_UPDATE, s, sv, doc, &ms}};

    kt_error_clear(err);
    return store_record_write_pair(conn, &store_kind_student, sides, out, err);
}

/* The holder of a СНИЛС's claim is want (defined with the СНИЛС cases below). */
static void check_holder(store_conn_t *conn, const char *snils, const char *want);

static void
test_pair_merge_and_unmerge(void)
{
    store_conn_t *conn = store_conn_pop(store, STORE_POOL_BATCH);
    char org[14], sa[12], sb[12], s[STUDENT_ID_LEN + 1], d[STUDENT_ID_LEN + 1];
    write_result_t out[2], one;
    kt_error_t err;
    bson_t doc, back, other;
    record_t r;

    make_ogrn(70, org);
    make_snils(700, sa);
    make_snils(701, sb);
    record_init(&r);
    student_doc(&doc, "Слияние", "Выжившая", sb, org); /* the survivor takes d's СНИЛС */
    student_doc(&back, "Слияние", "Выжившая", sa, org);
    student_doc(&other, "Слияние", "Другая", sb, org);
    if (!create(conn, "Слияние", "Выжившая", sa, org, s) ||
        !create(conn, "Слияние", "Дубликат", sb, org, d))
        goto done;

    /* A stale version of either side writes neither. */
    CHECK(!pair_merge(conn, s, 1, d, 2, &doc, out, &err));
    CHECK_INT(err.code, KT_VERSION_CONFLICT);
    CHECK_INT(current_version(conn, d), 1);
    CHECK(!pair_merge(conn, s, 2, d, 1, &doc, out, &err));
    CHECK_INT(err.code, KT_VERSION_CONFLICT);
    CHECK_INT(current_version(conn, d), 1);

    CHECK_OK(pair_merge(conn, s, 1, d, 1, &doc, out, &err), err);
    CHECK_INT(out[0].version, 2);
    CHECK_INT(out[1].version, 2);
    CHECK_OK(store_student_get(conn, d, &r, &err), err);
    CHECK(r.deleted && record_is_merged(&r));
    CHECK_STR(record_state(&r), RECORD_MERGED);
    CHECK_STR(bget_str(&r.record, "kind"), "merged");
    CHECK_STR(bget_str(&r.record, "merged_into"), s);
    CHECK_STR(bget_str(&r.doc, "snils"), sb); /* the duplicate's document, as it was */
    record_reset(&r);
    CHECK_OK(store_student_get(conn, s, &r, &err), err);
    CHECK_STR(bget_str(&r.record, "kind"), "merge");
    CHECK_STR(bget_str(&r.record, "merged_from"), d);
    check_holder(conn, sb, s);
    /* The duplicate's СНИЛС is the survivor's now; the survivor's old one is free. */
    CHECK(!put(conn, WRITE_CREATE, NULL, 0, &other, &one, &err));
    CHECK_INT(err.code, KT_DUPLICATE_SNILS);
    CHECK_STR(err.ref, s);
    /* A merged record takes no ordinary write. */
    CHECK(!put(conn, WRITE_UPDATE, d, 0, &other, &one, &err));
    CHECK_INT(err.code, KT_GONE);

    /* Unmerge: the survivor gives the СНИЛС back, the duplicate revives with it. */
    record_reset(&r);
    CHECK_OK(store_student_get(conn, d, &r, &err), err);
    write_meta_t ms = pair_meta("unmerge", "unmerged", d, NULL, false);
    write_meta_t md = pair_meta("unmerged", "unmerged_from", s, NULL, true);
    write_side_t sides[2] = {{WRITE_UPDATE, s, 2, &back, &ms}, {WRITE_UPDATE, d, 2, &r.doc, &md}};
    kt_error_clear(&err);
    CHECK_OK(store_record_write_pair(conn, &store_kind_student, sides, out, &err), err);
    CHECK_INT(out[0].version, 3);
    CHECK_INT(out[1].version, 3);
    record_reset(&r);
    CHECK_OK(store_student_get(conn, d, &r, &err), err);
    CHECK(!r.deleted);
    CHECK_STR(bget_str(&r.record, "kind"), "unmerged");
    CHECK_STR(bget_str(&r.record, "state"), "ACTIVE");
    check_holder(conn, sb, d);
    check_holder(conn, sa, s);
    CHECK(!put(conn, WRITE_CREATE, NULL, 0, &other, &one, &err));
    CHECK_INT(err.code, KT_DUPLICATE_SNILS);
    CHECK_STR(err.ref, d);
    check_chain(conn, &store_kind_student, s, 3);
    check_chain(conn, &store_kind_student, d, 3);
done:
    bson_destroy(&doc);
    bson_destroy(&back);
    bson_destroy(&other);
    record_release(&r);
    store_conn_push(conn);
}

/* Several merges of one pair at once, and updates of the duplicate beside
 * one merge: the duplicate's version N+1 decides. */
typedef struct {
    const char *s, *d, *org;
    bool merger;
    pthread_barrier_t *start;
    long written, gone, failures;
} racer_pair_t;

static void
pair_race_one(store_conn_t *conn, racer_pair_t *r, const bson_t *doc, int i)
{
    write_result_t out[2];
    kt_error_t err;
    bson_t upd;
    char label[32];

    snprintf(label, sizeof label, "P-%p-%d", (void *)r, i);
    student_doc(&upd, "Слияние", label, NULL, r->org);
    for (int attempt = 0; attempt < MAX_TRIES; attempt++) {
        int64_t sv = current_version(conn, r->s), dv = current_version(conn, r->d);
        bool ok = r->merger ? pair_merge(conn, r->s, sv, r->d, dv, doc, out, &err)
                            : put(conn, WRITE_UPDATE, r->d, dv, &upd, &out[0], &err);
        if (ok || err.code != KT_VERSION_CONFLICT) {
            r->written += ok;
            r->gone += !ok && err.code == KT_GONE;
            r->failures += !ok && err.code != KT_GONE;
            break;
        }
    }
    bson_destroy(&upd);
}

static void *
racer_pair_run(void *arg)
{
    racer_pair_t *r = arg;
    store_conn_t *conn = store_conn_pop(store, STORE_POOL_BATCH);
    bson_t doc;

    student_doc(&doc, "Слияние", "Итог", NULL, r->org);
    pthread_barrier_wait(r->start);
    for (int i = 0; i < (r->merger ? 1 : 5 * scale) && r->gone == 0 && r->failures == 0; i++)
        pair_race_one(conn, r, &doc, i);
    bson_destroy(&doc);
    store_conn_push(conn);
    return NULL;
}

/* mergers threads merge, the others update the duplicate. */
static void
pair_race(int mergers)
{
    store_conn_t *conn = store_conn_pop(store, STORE_POOL_BATCH);
    racer_pair_t r[RACERS];
    pthread_t tids[RACERS];
    pthread_barrier_t start;
    char org[14], s[STUDENT_ID_LEN + 1], d[STUDENT_ID_LEN + 1];
    long merges = 0, updates = 0, failures = 0;
    record_t last;
    kt_error_t err;

    make_ogrn(71, org);
    record_init(&last);
    if (!create(conn, "Слияние", "Гонка", NULL, org, s) ||
        !create(conn, "Слияние", "Гонка2", NULL, org, d))
        goto done;
    pthread_barrier_init(&start, NULL, RACERS);
    for (int i = 0; i < RACERS; i++) {
        r[i] = (racer_pair_t){.s = s, .d = d, .org = org, .merger = i < mergers, .start = &start};
        pthread_create(&tids[i], NULL, racer_pair_run, &r[i]);
    }
    for (int i = 0; i < RACERS; i++) {
        pthread_join(tids[i], NULL);
        merges += r[i].merger ? r[i].written : 0;
        updates += r[i].merger ? 0 : r[i].written;
        failures += r[i].failures;
    }
    pthread_barrier_destroy(&start);
    CHECK_INT(failures, 0);
    CHECK_INT(merges, 1); /* the others met the merged duplicate: 410 */
    kt_error_clear(&err);
    CHECK_OK(store_student_get(conn, d, &last, &err), err);
    CHECK(record_is_merged(&last));
    CHECK_INT(last.version, 2 + updates);
    check_chain(conn, &store_kind_student, d, 2 + updates);
    check_chain(conn, &store_kind_student, s, 2);
done:
    record_release(&last);
    store_conn_push(conn);
}

static void
test_pair_concurrent_merges(void)
{
    pair_race(RACERS);
}

static void
test_pair_merge_against_updates(void)
{
    pair_race(1);
}

/* ======================================================================
 * Case: one СНИЛС, several writers at once.
 * ====================================================================== */

typedef struct {
    const char *snils, *org; /* snils NULL: one passport in racer i's spelling */
    const char *id;          /* an update's student; NULL: a create */
    int i;
    pthread_barrier_t *start;
    bool ok;
    write_result_t out;
    kt_error_t err;
} racer_t;

/* A foreign passport, spelled the i-th way: look-alike letters of both
 * scripts, case, spaces, hyphens, a zero-width space — one document. */
static void
append_passport(bson_t *doc, int i)
{
    static const char *const series[] = {"AB", "АВ", "ab", "A B", "А-В", "A\u200bB"};
    static const char *const numbers[] = {"C12345%06d", "С12345%06d", "c 12345%06d",
                                          "C-12345-%06d"};
    char number[40];
    bson_t arr, item;

    snprintf(number, sizeof number, numbers[i % 4], tag);
    BSON_APPEND_ARRAY_BEGIN(doc, "documents", &arr);
    BSON_APPEND_DOCUMENT_BEGIN(&arr, "0", &item);
    BSON_APPEND_UTF8(&item, "type", "PASSPORT_FOREIGN");
    BSON_APPEND_UTF8(&item, "series", series[i % 6]);
    BSON_APPEND_UTF8(&item, "number", number);
    bson_append_document_end(&arr, &item);
    bson_append_array_end(doc, &arr);
}

static void *
racer_run(void *arg)
{
    racer_t *r = arg;
    store_conn_t *conn = store_conn_pop(store, STORE_POOL_REQUEST);
    bson_t doc;

    student_doc(&doc, "Гонкина", "Вера", r->snils, r->org);
    if (r->snils == NULL)
        append_passport(&doc, r->i);
    pthread_barrier_wait(r->start);
    r->ok =
        put(conn, r->id != NULL ? WRITE_UPDATE : WRITE_CREATE, r->id, 0, &doc, &r->out, &r->err);
    bson_destroy(&doc);
    store_conn_push(conn);
    return NULL;
}

/* Runs RACERS writers of snils (NULL: of one passport) at once (creates,
 * or updates of ids); returns the winners' count and the (last) winner's id
 * in winner. The losers must be 409 DUPLICATE_SNILS (DUPLICATE_DOCUMENT)
 * naming the winner. */
static int
race(const char *snils, const char *org, char (*ids)[STUDENT_ID_LEN + 1], char *winner)
{
    kt_code_t want = snils != NULL ? KT_DUPLICATE_SNILS : KT_DUPLICATE_DOCUMENT;
    racer_t r[RACERS];
    pthread_t tids[RACERS];
    pthread_barrier_t start;
    int wins = 0;

    winner[0] = '\0';
    pthread_barrier_init(&start, NULL, RACERS);
    for (int i = 0; i < RACERS; i++) {
        r[i] = (racer_t){
            .snils = snils, .org = org, .id = ids ? ids[i] : NULL, .i = i, .start = &start};
        pthread_create(&tids[i], NULL, racer_run, &r[i]);
    }
    for (int i = 0; i < RACERS; i++) {
        pthread_join(tids[i], NULL);
        if (r[i].ok) {
            wins++;
            snprintf(winner, STUDENT_ID_LEN + 1, "%s", r[i].out.id);
        }
    }
    for (int i = 0; i < RACERS; i++) {
        if (r[i].ok)
            continue;
        if (r[i].err.code != want)
            fprintf(stderr, "racer %d: %d %s\n", i, r[i].err.status, r[i].err.message);
        CHECK_INT(r[i].err.code, want);
        CHECK_INT(r[i].err.status, 409);
        if (wins == 1)
            CHECK_STR(r[i].err.ref, winner);
    }
    pthread_barrier_destroy(&start);
    return wins;
}

static void
check_holder(store_conn_t *conn, const char *snils, const char *want)
{
    char key[32], holder[40] = "?";
    kt_error_t err;

    snprintf(key, sizeof key, "snils:%s", snils);
    kt_error_clear(&err);
    CHECK_OK(store_claim_holder(conn, key, holder, &err), err);
    CHECK_STR(holder, want);
}

static void
check_holder_either(store_conn_t *conn, const char *snils, const char *a, const char *b)
{
    char key[32], holder[40] = "?";
    kt_error_t err;

    snprintf(key, sizeof key, "snils:%s", snils);
    kt_error_clear(&err);
    CHECK_OK(store_claim_holder(conn, key, holder, &err), err);
    CHECK(strcmp(holder, a) == 0 || strcmp(holder, b) == 0);
}

/* How many of ids carry snils in their current, active version. */
static int
carriers(store_conn_t *conn, char (*ids)[STUDENT_ID_LEN + 1], int n, const char *snils)
{
    int count = 0;

    for (int i = 0; i < n; i++) {
        record_t r;
        kt_error_t err;
        record_init(&r);
        kt_error_clear(&err);
        CHECK_OK(store_student_get(conn, ids[i], &r, &err), err);
        const char *s = bget_str(&r.doc, "snils");
        count += !r.deleted && s != NULL && strcmp(s, snils) == 0;
        record_release(&r);
    }
    return count;
}

static void
test_same_snils_creates(void)
{
    store_conn_t *conn = store_conn_pop(store, STORE_POOL_REQUEST);
    char org[14], snils[12], winner[STUDENT_ID_LEN + 1], again[STUDENT_ID_LEN + 1];
    write_result_t out;
    kt_error_t err;

    make_ogrn(3, org);
    make_snils(999, snils); /* claimed by nobody */
    check_holder(conn, snils, "");
    for (int round = 0; round < 3 * scale; round++) {
        make_snils(100 + round, snils);
        int wins = race(snils, org, NULL, winner);
        CHECK_INT(wins, 1);
        if (wins != 1)
            continue;
        check_holder(conn, snils, winner);
        /* Its own СНИЛС does not stand in the way of its updates. */
        bson_t doc;
        student_doc(&doc, "Гонкина", "Вера-Мария", snils, org);
        CHECK_OK(put(conn, WRITE_UPDATE, winner, 1, &doc, &out, &err), err);
        CHECK_INT(out.version, 2);
        bson_destroy(&doc);
        /* Deleted, its СНИЛС is free again: a new student takes it. Until
         * then the holder is none (SQLite) or the deleted student, whose
         * current version no longer carries it (MongoDB's latest claim). */
        CHECK_OK(put(conn, WRITE_DELETE, winner, 0, NULL, &out, &err), err);
        check_holder_either(conn, snils, "", winner);
        if (create(conn, "Наследникова", "Ира", snils, org, again))
            check_holder(conn, snils, again);
    }
    store_conn_push(conn);
}

static void
test_same_snils_updates(void)
{
    store_conn_t *conn = store_conn_pop(store, STORE_POOL_REQUEST);
    char ids[RACERS][STUDENT_ID_LEN + 1], org[14], snils[12], winner[STUDENT_ID_LEN + 1];
    char other[STUDENT_ID_LEN + 1];
    write_result_t out;
    kt_error_t err;
    bson_t doc;

    make_ogrn(4, org);
    for (int round = 0; round < 3 * scale; round++) {
        make_snils(200 + round, snils);
        for (int i = 0; i < RACERS; i++)
            create(conn, "Гонкина", "Вера", NULL, org, ids[i]);
        int wins = race(snils, org, ids, winner);
        printf("  round %d: %d of %d updates took the СНИЛС\n", round, wins, RACERS);
        CHECK(wins <= 1);
        CHECK_INT(carriers(conn, ids, RACERS, snils), wins);
        if (wins != 1)
            continue;
        check_holder(conn, snils, winner);
        /* The winner lets the СНИЛС go by an update: another student takes it. */
        student_doc(&doc, "Гонкина", "Вера", NULL, org);
        CHECK_OK(put(conn, WRITE_UPDATE, winner, 0, &doc, &out, &err), err);
        bson_destroy(&doc);
        if (create(conn, "Наследникова", "Ира", snils, org, other))
            check_holder(conn, snils, other);
    }
    store_conn_push(conn);
}

/* One passport in 8 spellings, created at once: exactly one student holds
 * it, the others are 409 naming it; then its holder keeps it through an
 * update, and after it is deleted a new student takes it. */
static void
test_same_document(void)
{
    store_conn_t *conn = store_conn_pop(store, STORE_POOL_REQUEST);
    char org[14], winner[STUDENT_ID_LEN + 1];
    write_result_t out;
    kt_error_t err;
    bson_t doc;

    make_ogrn(5, org);
    CHECK_INT(race(NULL, org, NULL, winner), 1);
    if (winner[0] == '\0')
        goto done;
    student_doc(&doc, "Гонкина", "Вера-Мария", NULL, org);
    append_passport(&doc, 3);
    CHECK_OK(put(conn, WRITE_UPDATE, winner, 1, &doc, &out, &err), err);
    bson_destroy(&doc);
    CHECK_OK(put(conn, WRITE_DELETE, winner, 2, NULL, &out, &err), err);
    student_doc(&doc, "Наследникова", "Ира", NULL, org);
    append_passport(&doc, 5);
    CHECK_OK(put(conn, WRITE_CREATE, NULL, 0, &doc, &out, &err), err);
    bson_destroy(&doc);
done:
    store_conn_push(conn);
}

/* ======================================================================
 * Case: the change feed.
 * ====================================================================== */

typedef struct {
    int thread, students;
    const char *home, *away; /* organisations */
    pthread_barrier_t *start;
    long versions, failures;
} feeder_t;

/* Each student: created at home, renamed, moved away; every third deleted. */
static void *
feeder_run(void *arg)
{
    feeder_t *f = arg;
    store_conn_t *conn = store_conn_pop(store, STORE_POOL_BATCH);
    char first[32], id[STUDENT_ID_LEN + 1];
    write_result_t out;
    kt_error_t err;

    pthread_barrier_wait(f->start);
    for (int i = 0; i < f->students; i++) {
        bson_t doc;
        bool ok = true;
        snprintf(first, sizeof first, "F%d-%d", f->thread, i);
        student_doc(&doc, "Лентина", first, NULL, f->home);
        ok = put(conn, WRITE_CREATE, NULL, 0, &doc, &out, &err);
        snprintf(id, sizeof id, "%s", out.id);
        bson_destroy(&doc);
        student_doc(&doc, "Лентина-Новая", first, NULL, f->home);
        ok = ok && put(conn, WRITE_UPDATE, id, 1, &doc, &out, &err);
        bson_destroy(&doc);
        student_doc(&doc, "Лентина-Новая", first, NULL, f->away);
        ok = ok && put(conn, WRITE_UPDATE, id, 2, &doc, &out, &err);
        bson_destroy(&doc);
        if (ok && i % 3 == 0)
            ok = put(conn, WRITE_DELETE, id, 3, NULL, &out, &err);
        f->versions += ok ? (i % 3 == 0 ? 4 : 3) : 0;
        if (!ok) {
            fprintf(stderr, "feeder %d: %s\n", f->thread, err.message);
            f->failures++;
        }
    }
    store_conn_push(conn);
    return NULL;
}

/* An entry agrees with the version it names: its sequence, kind, time and
 * organisation, and the organisation the version before had (from_org). */
static void
check_entry(store_conn_t *conn, const feed_entry_t *e)
{
    record_t r, prev;
    const char *org, *before = NULL;

    record_init(&r);
    record_init(&prev);
    CHECK(version_of(conn, e->student_id, e->version, &r));
    CHECK_INT(bget_int(&r.record, "seq", -1), e->seq);
    CHECK_STR(bget_str(&r.record, "kind"), e->kind);
    CHECK_STR(bget_str(&r.record, "time"), e->time);
    org = bget_str(&r.doc, "organization");
    CHECK_STR(e->org, org ? org : "");
    if (e->version > 1 && version_of(conn, e->student_id, e->version - 1, &prev))
        before = bget_str(&prev.doc, "organization");
    if (before != NULL && org != NULL && strcmp(before, org) != 0)
        CHECK_STR(e->from_org, before);
    else
        CHECK_STR(e->from_org, "");
    CHECK(!e->left);
    record_release(&r);
    record_release(&prev);
}

/* What org's reader must see of all: its entries, and those of students
 * who left it, marked left. */
static void
check_org_view(store_conn_t *conn, const entries_t *all, int64_t since, const char *org)
{
    entries_t mine = {0};
    int64_t next = 0;
    size_t k = 0;

    feed_all(conn, since, 4, org, &mine, &next);
    for (size_t i = 0; i < all->n; i++) {
        const feed_entry_t *e = &all->e[i];
        bool own = strcmp(e->org, org) == 0, left = strcmp(e->from_org, org) == 0;
        if (!own && !left)
            continue;
        CHECK(k < mine.n);
        if (k >= mine.n)
            break;
        CHECK_INT(mine.e[k].seq, e->seq);
        CHECK_INT(mine.e[k].left, !own);
        k++;
    }
    CHECK_INT(k, mine.n);
    entries_free(&mine);
}

/* The whole feed from since=0: every student in it has each of its versions
 * once, in order, up to its current one; sequences ascend. On SQLite the
 * sequence has no holes at all (one transaction numbers each entry). */
static void
check_feed_from_zero(store_conn_t *conn)
{
    entries_t all = {0};
    int64_t next = 0, holes = 0;

    feed_all(conn, 0, 100, NULL, &all, &next);
    for (size_t i = 0; i < all.n; i++) {
        const feed_entry_t *e = &all.e[i];
        int64_t prev_seq = i > 0 ? all.e[i - 1].seq : 0;
        CHECK(e->seq > prev_seq);
        holes += e->seq - prev_seq - 1;
        if (e->version != 1)
            continue;
        /* The student's first entry: its versions follow in order. */
        int64_t want = 1, current = current_version(conn, e->student_id);
        for (size_t j = i; j < all.n; j++)
            if (strcmp(all.e[j].student_id, e->student_id) == 0)
                CHECK_INT(all.e[j].version, want++);
        CHECK_INT(want - 1, current);
    }
    printf("  feed from 0: %zu entries up to %lld, %lld numbers void (lost races)\n", all.n,
           (long long)next, (long long)holes);
    /* The cursor ends at the last entry, or past it over void numbers. */
    CHECK(next >= (all.n > 0 ? all.e[all.n - 1].seq : 0));
    if (strcmp(store_backend_name(store), "sqlite") == 0)
        CHECK_INT(holes, 0);
    entries_free(&all);
}

/* A school with no entries reads none, and its cursor still reaches the
 * end: the other schools' entries advance it. */
static void
check_quiet_org(store_conn_t *conn, int64_t since, int64_t end)
{
    char quiet[14];
    entries_t none = {0};
    int64_t next = 0;

    make_ogrn(99, quiet);
    feed_all(conn, since, 5, quiet, &none, &next);
    CHECK_INT(none.n, 0);
    CHECK_INT(next, end);
    entries_free(&none);
}

/* FEEDERS threads write students between home and away at once; the
 * versions they wrote. */
static long
run_feeders(const char *home, const char *away)
{
    feeder_t f[FEEDERS];
    pthread_t tids[FEEDERS];
    pthread_barrier_t start;
    long versions = 0, failures = 0;

    pthread_barrier_init(&start, NULL, FEEDERS);
    for (int t = 0; t < FEEDERS; t++) {
        f[t] = (feeder_t){.thread = t,
                          .students = (int)(4 * scale),
                          .home = t % 2 ? away : home,
                          .away = t % 2 ? home : away,
                          .start = &start};
        pthread_create(&tids[t], NULL, feeder_run, &f[t]);
    }
    for (int t = 0; t < FEEDERS; t++) {
        pthread_join(tids[t], NULL);
        versions += f[t].versions;
        failures += f[t].failures;
    }
    pthread_barrier_destroy(&start);
    CHECK_INT(failures, 0);
    return versions;
}

/* The feed's epoch: the original one until renewed, then a new random one
 * each time, kept by the store. */
static void
test_feed_epoch(void)
{
    store_conn_t *conn = store_conn_pop(store, STORE_POOL_BATCH);
    char first[FEED_EPOCH_MAX], second[FEED_EPOCH_MAX], read[FEED_EPOCH_MAX];
    kt_error_t err;

    kt_error_clear(&err);
    CHECK_OK(feed_epoch_get(conn, read, &err), err);
    CHECK(strcmp(read, FEED_EPOCH_ORIGINAL) == 0 || strlen(read) == 16);
    CHECK_OK(feed_epoch_renew(conn, first, &err), err);
    CHECK_INT(strlen(first), 16);
    CHECK(strspn(first, "0123456789abcdef") == 16);
    CHECK_OK(feed_epoch_get(conn, read, &err), err);
    CHECK_STR(read, first);
    CHECK_OK(feed_epoch_renew(conn, second, &err), err);
    CHECK(strcmp(first, second) != 0);
    CHECK_OK(feed_epoch_get(conn, read, &err), err);
    CHECK_STR(read, second);
    store_conn_push(conn);
}

static void
test_feed(void)
{
    store_conn_t *conn = store_conn_pop(store, STORE_POOL_BATCH);
    char home[14], away[14];
    entries_t all = {0}, paged = {0};
    int64_t since = feed_end(conn), next = 0, next_paged = 0;
    long versions;

    make_ogrn(6, home);
    make_ogrn(7, away);
    versions = run_feeders(home, away);
    /* One page and pages of 5 read the same entries: one per version written. */
    feed_all(conn, since, 1000, NULL, &all, &next);
    feed_all(conn, since, 5, NULL, &paged, &next_paged);
    CHECK_INT(all.n, versions);
    CHECK_INT(paged.n, all.n);
    CHECK_INT(next_paged, next);
    for (size_t i = 0; i < all.n && i < paged.n; i++) {
        CHECK_INT(paged.e[i].seq, all.e[i].seq);
        CHECK(i == 0 || all.e[i].seq > all.e[i - 1].seq);
        check_entry(conn, &all.e[i]);
    }
    check_org_view(conn, &all, since, home);
    check_org_view(conn, &all, since, away);
    check_quiet_org(conn, since, next);
    check_feed_from_zero(conn);
    entries_free(&all);
    entries_free(&paged);
    store_conn_push(conn);
}

/* A reader that follows the feed while it is written. */
typedef struct {
    atomic_bool writers_done;
    int64_t cursor;
    entries_t seen;
    long pages;
} tail_t;

static void *
tail_run(void *arg)
{
    tail_t *t = arg;
    store_conn_t *conn = store_conn_pop(store, STORE_POOL_REQUEST);
    struct timespec pause = {0, 2000000};
    kt_error_t err;

    while (!atomic_load(&t->writers_done)) {
        int64_t next = t->cursor;
        size_t before = t->seen.n;
        kt_error_clear(&err);
        if (!feed_read(conn, t->cursor, 7, NULL, collect, &t->seen, &next, &err)) {
            fprintf(stderr, "tail: %s\n", err.message);
            break;
        }
        t->cursor = next;
        t->pages++;
        if (t->seen.n == before)
            nanosleep(&pause, NULL); /* caught up: let the writers write */
    }
    store_conn_push(conn);
    return NULL;
}

/* A reader following the feed while four threads write it sees what a
 * reader after them sees: every entry once, in order, none lost. */
static void
test_feed_tailing(void)
{
    store_conn_t *conn = store_conn_pop(store, STORE_POOL_BATCH);
    char home[14], away[14];
    tail_t t = {.writers_done = false};
    entries_t after = {0};
    pthread_t tid;
    int64_t since = feed_end(conn), next = 0, end = 0;
    long versions;

    make_ogrn(40, home);
    make_ogrn(41, away);
    t.cursor = since;
    pthread_create(&tid, NULL, tail_run, &t);
    versions = run_feeders(home, away);
    atomic_store(&t.writers_done, true);
    pthread_join(tid, NULL);
    feed_all(conn, t.cursor, 7, NULL, &t.seen, &end); /* what came after its last page */
    feed_all(conn, since, 1000, NULL, &after, &next);
    printf("  the reader followed in %ld pages; %zu entries\n", t.pages, t.seen.n);
    CHECK_INT(after.n, versions);
    CHECK_INT(t.seen.n, after.n);
    CHECK_INT(end, next);
    for (size_t i = 0; i < t.seen.n && i < after.n; i++) {
        bool same = t.seen.e[i].seq == after.e[i].seq &&
                    t.seen.e[i].version == after.e[i].version &&
                    strcmp(t.seen.e[i].student_id, after.e[i].student_id) == 0;
        CHECK(same);
        if (!same) { /* the first difference tells; the rest would repeat it */
            fprintf(stderr, "entry %zu: the follower saw seq %lld, the feed has seq %lld\n", i,
                    (long long)t.seen.e[i].seq, (long long)after.e[i].seq);
            break;
        }
    }
    entries_free(&t.seen);
    entries_free(&after);
    store_conn_push(conn);
}

/* ======================================================================
 * Case: pagination of heads.
 * ====================================================================== */

static int
cmp_ids(const void *a, const void *b)
{
    return strcmp(a, b);
}

/* Pages through field = value (students) in pages of PAGE: ascending, no
 * repeats, every page full but the last; the ids equal want (sorted, n). */
static void
check_pages(store_conn_t *conn, const store_kind_t *kind, const bson_t *filter,
            char (*want)[STUDENT_ID_LEN + 1], int n)
{
    char ids[PAGE][40], last[40] = "";
    int got = 0, pages = 0, count = PAGE;
    kt_error_t err;

    while (count == PAGE && pages++ <= n / PAGE + 1) {
        kt_error_clear(&err);
        count = -1;
        CHECK_OK(store_record_find_ids(conn, kind, filter, last[0] ? last : NULL, PAGE, ids, &count,
                                       &err),
                 err);
        CHECK(count >= 0 && count <= PAGE);
        for (int i = 0; i < count; i++) {
            CHECK(strcmp(ids[i], last) > 0);
            CHECK(got < n && strcmp(ids[i], want[got]) == 0);
            snprintf(last, sizeof last, "%s", ids[i]);
            got++;
        }
    }
    CHECK_INT(got, n);
}

/* The same through store_student_find_ids. */
static void
check_student_pages(store_conn_t *conn, const char *field, const char *value,
                    char (*want)[STUDENT_ID_LEN + 1], int n)
{
    char ids[PAGE][40], last[40] = "";
    int got = 0, count = PAGE;
    kt_error_t err;

    for (int pages = 0; count == PAGE && pages <= n / PAGE + 1; pages++) {
        kt_error_clear(&err);
        count = -1;
        CHECK_OK(store_student_find_ids(conn, field, value, last[0] ? last : NULL, PAGE, ids,
                                        &count, &err),
                 err);
        CHECK(count >= 0 && count <= PAGE);
        for (int i = 0; i < count; i++) {
            CHECK(got < n && strcmp(ids[i], want[got]) == 0);
            snprintf(last, sizeof last, "%s", ids[i]);
            got++;
        }
    }
    CHECK_INT(got, n);
}

typedef char student_id_t[STUDENT_ID_LEN + 1];

/* a (na ids) and b (nb) sorted together, then paged through field = value. */
static void
check_student_list(store_conn_t *conn, const char *field, const char *value, const student_id_t *a,
                   int na, const student_id_t *b, int nb)
{
    student_id_t *all = calloc((size_t)(na + nb) + 1, sizeof *all);

    if (all == NULL)
        abort();
    memcpy(all, a, (size_t)na * sizeof *all);
    memcpy(all + na, b, (size_t)nb * sizeof *all);
    qsort(all, (size_t)(na + nb), sizeof *all, cmp_ids);
    check_student_pages(conn, field, value, all, na + nb);
    free(all);
}

/* After an id past every id: an empty page, no error. */
static void
check_past_the_end(store_conn_t *conn, const char *org)
{
    char ids[PAGE][40];
    int count = -1;
    kt_error_t err;

    kt_error_clear(&err);
    CHECK_OK(store_student_find_ids(conn, "organization", org, "~", PAGE, ids, &count, &err), err);
    CHECK_INT(count, 0);
}

/*
 * n students of one name in one school (the class), and around them: 5 of
 * another name in that school, 5 of that name in another school, 5 of that
 * name in that school deleted.
 */
static void
test_pagination(void)
{
    store_conn_t *conn = store_conn_pop(store, STORE_POOL_BATCH);
    int n = (int)(50 * scale), have = 0;
    student_id_t *class = calloc((size_t)n, sizeof *class), other_name[5], other_school[5];
    char org[14], noise[14], last[64], name_key[128], gone[STUDENT_ID_LEN + 1];
    write_result_t out;
    kt_error_t err;
    bson_t filter = BSON_INITIALIZER, doc;

    make_ogrn(8, org);
    make_ogrn(9, noise);
    snprintf(last, sizeof last, "Страничкина%06d", tag);
    snprintf(name_key, sizeof name_key, "%s|Ольга|%s", last, BIRTH);
    for (int i = 0; class != NULL && i < n; i++)
        have += create(conn, last, "Ольга", NULL, org, class[i]);
    for (int i = 0; i < 5; i++) {
        have += create(conn, "Шумова", "Ольга", NULL, org, other_name[i]);
        have += create(conn, last, "Ольга", NULL, noise, other_school[i]);
        create(conn, last, "Ольга", NULL, org, gone);
        CHECK_OK(put(conn, WRITE_DELETE, gone, 0, NULL, &out, &err), err);
    }
    if (class == NULL || have != n + 10)
        goto done;
    /* By name: the class and the other school's namesakes. */
    check_student_list(conn, "name_key", name_key, class, n, other_school, 5);
    /* By name and school, through the general form: the class alone. */
    qsort(class, (size_t)n, sizeof *class, cmp_ids);
    BSON_APPEND_UTF8(&filter, "name_key", name_key);
    BSON_APPEND_UTF8(&filter, "organization", org);
    check_pages(conn, &store_kind_student, &filter, class, n);
    /* One of the class moves to the other school: by school, the rest of
     * the class and the other name. */
    student_doc(&doc, last, "Ольга", NULL, noise);
    CHECK_OK(put(conn, WRITE_UPDATE, class[0], 0, &doc, &out, &err), err);
    bson_destroy(&doc);
    check_student_list(conn, "organization", org, class + 1, n - 1, other_name, 5);
    check_past_the_end(conn, org);
done:
    bson_destroy(&filter);
    free(class);
    store_conn_push(conn);
}

/* A student whose representatives carry the given СНИЛС (NULL ends the list). */
static void
student_with_parents(bson_t *doc, const char *last, const char *org, const char *const *snils)
{
    bson_t reps, rep;
    char idx[16];

    student_doc(doc, last, "Пётр", NULL, org);
    BSON_APPEND_ARRAY_BEGIN(doc, "representatives", &reps);
    for (int i = 0; snils[i] != NULL; i++) {
        snprintf(idx, sizeof idx, "%d", i);
        BSON_APPEND_DOCUMENT_BEGIN(&reps, idx, &rep);
        BSON_APPEND_UTF8(&rep, "kind", i % 2 ? "FATHER" : "MOTHER");
        if (snils[i][0] != '\0')
            BSON_APPEND_UTF8(&rep, "snils", snils[i]);
        bson_append_document_end(&reps, &rep);
    }
    bson_append_array_end(doc, &reps);
}

static int
find_by_parent(store_conn_t *conn, const char *snils, char (*ids)[40])
{
    int n = -1;
    kt_error_t err;

    kt_error_clear(&err);
    CHECK_OK(store_student_find_ids(conn, "representative_snils", snils, NULL, PAGE, ids, &n, &err),
             err);
    return n;
}

/* The representatives' СНИЛС, a multi-valued head key (issue 15): a parent's
 * children by index, whatever the number of representatives; a change of
 * representatives or a delete takes the key away; verify agrees. */
static void
test_representative_keys(void)
{
    store_conn_t *conn = store_conn_pop(store, STORE_POOL_BATCH);
    char mother[12], father[12], other[12], org[14], a[STUDENT_ID_LEN + 1], b[STUDENT_ID_LEN + 1];
    char ids[PAGE][40];
    const char *both[] = {mother, father, mother, "", NULL}, *one[] = {mother, NULL};
    const char *none[] = {other, NULL};
    write_result_t out;
    kt_error_t err;
    bson_t doc;

    snprintf(mother, sizeof mother, "7%05d0001", tag % 100000);
    snprintf(father, sizeof father, "7%05d0002", tag % 100000);
    snprintf(other, sizeof other, "7%05d0003", tag % 100000);
    make_ogrn(30, org);
    student_with_parents(&doc, "Родителев", org, both);
    CHECK_OK(put(conn, WRITE_CREATE, NULL, 0, &doc, &out, &err), err);
    snprintf(a, sizeof a, "%s", out.id);
    bson_destroy(&doc);
    student_with_parents(&doc, "Родителева", org, one);
    CHECK_OK(put(conn, WRITE_CREATE, NULL, 0, &doc, &out, &err), err);
    snprintf(b, sizeof b, "%s", out.id);
    bson_destroy(&doc);
    CHECK_INT(find_by_parent(conn, mother, ids), 2);
    CHECK_INT(find_by_parent(conn, father, ids), 1);
    CHECK_STR(ids[0], a);
    CHECK_INT(find_by_parent(conn, other, ids), 0);
    check_chain(conn, &store_kind_student, a, 1);
    /* The father is replaced by another representative: his key goes. */
    student_with_parents(&doc, "Родителев", org, none);
    CHECK_OK(put(conn, WRITE_UPDATE, a, 1, &doc, &out, &err), err);
    bson_destroy(&doc);
    CHECK_INT(find_by_parent(conn, father, ids), 0);
    CHECK_INT(find_by_parent(conn, other, ids), 1);
    CHECK_INT(find_by_parent(conn, mother, ids), 1);
    CHECK_STR(ids[0], b);
    check_chain(conn, &store_kind_student, a, 2);
    /* A deleted student is nobody's child in the index. */
    CHECK_OK(put(conn, WRITE_DELETE, b, 0, NULL, &out, &err), err);
    CHECK_INT(find_by_parent(conn, mother, ids), 0);
    store_conn_push(conn);
}

/* Organisations by their head's members (oktmo, type). */
static void
test_organization_pages(void)
{
    store_conn_t *conn = store_conn_pop(store, STORE_POOL_BATCH);
    write_meta_t meta = {.principal = &admin, .request_id = "test_contract"};
    int n = 10;
    char ogrns[10][STUDENT_ID_LEN + 1], oktmo[16];
    bson_t filter = BSON_INITIALIZER;

    snprintf(oktmo, sizeof oktmo, "45%06d000", tag);
    for (int i = 0; i < n; i++) {
        bson_t doc = BSON_INITIALIZER;
        write_result_t out;
        kt_error_t err;
        make_ogrn(10 + i, ogrns[i]);
        BSON_APPEND_UTF8(&doc, "full_name", "Школа страниц");
        BSON_APPEND_UTF8(&doc, "oktmo", oktmo);
        BSON_APPEND_UTF8(&doc, "type", "SCHOOL");
        BSON_APPEND_UTF8(&doc, "status", "ACTIVE");
        kt_error_clear(&err);
        CHECK_OK(store_record_write(conn, &store_kind_organization, WRITE_CREATE, ogrns[i], 0, &doc,
                                    &meta, &out, &err),
                 err);
        bson_destroy(&doc);
    }
    qsort(ogrns, (size_t)n, sizeof *ogrns, cmp_ids);
    BSON_APPEND_UTF8(&filter, "oktmo", oktmo);
    BSON_APPEND_UTF8(&filter, "type", "SCHOOL");
    check_pages(conn, &store_kind_organization, &filter, ogrns, n);
    bson_destroy(&filter);
    store_conn_push(conn);
}

/* ======================================================================
 * Case: scans as of a time (reports, export).
 * ====================================================================== */

typedef struct {
    int64_t version;
    bool deleted;
} kept_t;

static bool
keep_version(void *ctx, const scan_version_t *v, void *value, kt_error_t *err)
{
    kept_t *k = value;

    k->version = v->version;
    k->deleted = v->deleted;
    return v->doc != NULL;
}

/* scan_latest until `until`: each of ids (n) at want[i] (0: absent), deleted
 * as flagged. */
static void
check_scan_latest(store_conn_t *conn, const char *until, char (*ids)[STUDENT_ID_LEN + 1],
                  const int64_t *want, const bool *deleted, int n)
{
    scan_spec_t spec = {.kind = &store_kind_student,
                        .until = until,
                        .value_size = sizeof(kept_t),
                        .keep = keep_version};
    strmap_t *map = NULL;
    kt_error_t err;

    kt_error_clear(&err);
    CHECK_OK(store_scan_latest(conn, &spec, &map, &err), err);
    for (int i = 0; map != NULL && i < n; i++) {
        void *value = strmap_get(map, ids[i]);
        const kept_t *k = value != NULL ? scan_summary(value) : NULL;
        CHECK_INT(k != NULL ? k->version : 0, want[i]);
        if (k != NULL)
            CHECK_INT(k->deleted, deleted[i]);
    }
    if (map != NULL)
        scan_free(&spec, map);
}

/* scan_page over field = value until `until`, pages of 2 versions: the
 * entities seen (repeats across pages skipped) are ids[i] where want[i]. */
static void
check_scan_page(store_conn_t *conn, const char *until, const char *org,
                char (*ids)[STUDENT_ID_LEN + 1], const bool *want, int n)
{
    scan_spec_t spec = {.kind = &store_kind_student, .until = until};
    char cursor[64] = "", page[2][40], last[40] = "";
    bool more = true, seen[8] = {false};
    int got = 0;
    kt_error_t err;

    for (int pages = 0; more && pages < 1000; pages++) {
        kt_error_clear(&err);
        CHECK_OK(store_scan_page(conn, &spec, "doc.organization", org, cursor, 2, page, &got, &more,
                                 &err),
                 err);
        for (int j = 0; j < got; j++) {
            for (int i = 0; i < n; i++)
                if (strcmp(page[j], ids[i]) == 0 && strcmp(page[j], last) != 0) {
                    CHECK(want[i] && !seen[i]);
                    seen[i] = true;
                }
            snprintf(last, sizeof last, "%s", page[j]);
        }
        if (err.code != KT_OK)
            break;
    }
    for (int i = 0; i < n; i++)
        CHECK_INT(seen[i], want[i]);
}

/* Three students of one school: written, then (after `between`) the first
 * renamed, the second moved to another school, the third deleted. */
static void
test_scan_as_of(void)
{
    store_conn_t *conn = store_conn_pop(store, STORE_POOL_BATCH);
    char org[14], other[14], ids[3][STUDENT_ID_LEN + 1], between[32];
    const int64_t at_first[3] = {1, 1, 1}, now[3] = {2, 2, 2};
    const bool live[3] = {false, false, false}, gone[3] = {false, false, true};
    const bool all[3] = {true, true, true}, moved[3] = {false, true, false};
    const bool none[3] = {false, false, false};
    write_result_t out;
    kt_error_t err;
    bson_t doc;

    make_ogrn(50, org);
    make_ogrn(51, other);
    for (int i = 0; i < 3; i++)
        if (!create(conn, "Сканова", "Юля", NULL, org, ids[i]))
            goto done;
    next_ms();
    time_str(feed_now_ms(), between);
    next_ms();
    student_doc(&doc, "Сканова", "Юлия", NULL, org);
    CHECK_OK(put(conn, WRITE_UPDATE, ids[0], 1, &doc, &out, &err), err);
    bson_destroy(&doc);
    student_doc(&doc, "Сканова", "Юля", NULL, other);
    CHECK_OK(put(conn, WRITE_UPDATE, ids[1], 1, &doc, &out, &err), err);
    bson_destroy(&doc);
    CHECK_OK(put(conn, WRITE_DELETE, ids[2], 1, NULL, &out, &err), err);
    check_scan_latest(conn, between, ids, at_first, live, 3);
    check_scan_latest(conn, NULL, ids, now, gone, 3);
    check_scan_latest(conn, "2000-01-01T00:00:00.000Z", ids, (const int64_t[3]){0, 0, 0}, live, 3);
    check_scan_page(conn, NULL, org, ids, all, 3);
    check_scan_page(conn, between, other, ids, none, 3);
    check_scan_page(conn, NULL, other, ids, moved, 3);
done:
    store_conn_push(conn);
}

/* ======================================================================
 * Case: the access log.
 * ====================================================================== */

typedef struct {
    int items;
    char request_ids[64][32];
    int nreq;
    bool ordered, shaped;
    char cursor[128];
} audit_page_t;

/* One item of audit_query's answer: the members every backend writes. */
static bool
audit_item_shaped(const json_value_t *item, const char *subject)
{
    const json_value_t *p = json_get(item, "principal");
    const json_value_t *s = p != NULL ? json_get(p, "subject") : NULL;
    const json_value_t *students = json_get(item, "students");

    return json_get(item, "id") != NULL && json_get(item, "id")->type == JSON_STRING &&
           time_ms(json_get(item, "time") ? json_get(item, "time")->str : NULL) > 0 && s != NULL &&
           s->type == JSON_STRING && strcmp(s->str, subject) == 0 && students != NULL &&
           students->type == JSON_ARRAY && json_get(item, "what") != NULL &&
           json_get(item, "request_id") != NULL && json_get(item, "subject") == NULL;
}

/* Reads one page of the access log into pg; false on a store error. */
static bool
audit_page(store_conn_t *conn, const audit_filter_t *f, const char *cursor, int limit,
           const char *subject, audit_page_t *pg)
{
    arena_t *arena = arena_new(0);
    json_value_t *root = NULL;
    buf_t b;
    jw_t w;
    kt_error_t err;
    bool ok;

    memset(pg, 0, sizeof *pg);
    buf_init(&b, 0);
    jw_init(&w, &b);
    kt_error_clear(&err);
    CHECK_OK(ok = audit_query(conn, f, cursor, limit, &w, &err), err);
    ok = ok && json_parse(arena, b.data, b.len, &(json_limits_t){0}, &root, &err);
    const json_value_t *items = ok ? json_get(root, "items") : NULL;
    const json_value_t *next = ok ? json_get(root, "next_cursor") : NULL;
    ok = items != NULL && items->type == JSON_ARRAY && next != NULL;
    pg->ordered = pg->shaped = ok;
    const char *prev_time = NULL;
    for (const json_value_t *it = ok ? items->child : NULL; it != NULL; it = it->next) {
        const json_value_t *t = json_get(it, "time"), *rq = json_get(it, "request_id");
        pg->shaped = pg->shaped && audit_item_shaped(it, subject);
        pg->ordered = pg->ordered && t != NULL && (!prev_time || strcmp(t->str, prev_time) <= 0);
        prev_time = t != NULL ? t->str : prev_time;
        if (rq != NULL && rq->type == JSON_STRING && pg->nreq < 64)
            snprintf(pg->request_ids[pg->nreq++], sizeof pg->request_ids[0], "%s", rq->str);
        pg->items++;
    }
    if (ok && next->type == JSON_STRING)
        snprintf(pg->cursor, sizeof pg->cursor, "%s", next->str);
    ok = ok && (next->type == JSON_STRING || next->type == JSON_NULL);
    buf_release(&b);
    arena_free(arena);
    return ok;
}

/* Pages through f with pages of limit; every request id in want (n) once. */
static void
check_audit_pages(store_conn_t *conn, const audit_filter_t *f, int limit, const char *subject,
                  const char *const *want, int n)
{
    char cursor[128] = "";
    int got = 0, pages = 0;
    bool *seen = calloc((size_t)n + 1, 1);
    audit_page_t pg;

    do {
        if (!audit_page(conn, f, cursor[0] ? cursor : NULL, limit, subject, &pg))
            break;
        CHECK(pg.items <= limit);
        CHECK(pg.shaped);
        CHECK(pg.ordered);
        CHECK(pg.cursor[0] == '\0' || pg.items == limit);
        for (int i = 0; i < pg.nreq; i++) {
            int k = 0;
            while (k < n && strcmp(want[k], pg.request_ids[i]) != 0)
                k++;
            CHECK(k < n && !seen[k]);
            if (k < n)
                seen[k] = true;
        }
        got += pg.items;
        snprintf(cursor, sizeof cursor, "%s", pg.cursor);
    } while (cursor[0] != '\0' && ++pages <= n);
    CHECK_INT(got, n);
    free(seen);
}

static void
test_access_log(void)
{
    store_conn_t *conn = store_conn_pop(store, STORE_POOL_REQUEST);
    principal_t p1 = {.role = ROLE_AUDITOR, .method = AUTH_TOKEN};
    principal_t p2 = {.role = ROLE_SCHOOL, .method = AUTH_TOKEN, .org = "1027700132195"};
    static const char *const health[] = {"health", NULL};
    char a[STUDENT_ID_LEN + 1] = "11111111-1111-4111-8111-", b[STUDENT_ID_LEN + 1];
    char rq[20][32];
    const char *of_a[20], *of_p2[20], *of_p1_b[20];
    int na = 0, np2 = 0, np1b = 0;
    kt_error_t err;
    audit_page_t pg;

    snprintf(a + 24, 13, "%06d000000", tag);
    snprintf(b, sizeof b, "22222222-2222-4222-8222-%06d000000", tag);
    snprintf(p1.subject, sizeof p1.subject, "contract-auditor-%06d", tag);
    snprintf(p2.subject, sizeof p2.subject, "contract-school-%06d", tag);
    for (int i = 0; i < 16; i++) {
        const char *both[2] = {a, b};
        bool by_p2 = i >= 12, pair = i % 4 == 1 && !by_p2, sealed = i % 5 == 2 && !by_p2;
        snprintf(rq[i], sizeof rq[i], "rq-%06d-%02d", tag, i);
        kt_error_clear(&err);
        if (sealed)
            CHECK_OK(audit_log_read_fields(conn, &p1, rq[i], "student", both, 1, health, "лечение",
                                           &err),
                     err);
        else
            CHECK_OK(audit_log_read(conn, by_p2 ? &p2 : &p1, rq[i], pair ? "search" : "student",
                                    by_p2 ? both + 1 : both, pair && !by_p2 ? 2 : 1, &err),
                     err);
        if (!by_p2)
            of_a[na++] = rq[i];
        else
            of_p2[np2++] = rq[i];
        if (pair)
            of_p1_b[np1b++] = rq[i];
    }
    check_audit_pages(conn, &(audit_filter_t){.student = a}, 4, p1.subject, of_a, na);
    check_audit_pages(conn, &(audit_filter_t){.subject = p2.subject}, 3, p2.subject, of_p2, np2);
    check_audit_pages(conn, &(audit_filter_t){.student = b, .subject = p1.subject}, 2, p1.subject,
                      of_p1_b, np1b);
    /* Periods that hold none of them. */
    CHECK(audit_page(conn, &(audit_filter_t){.student = a, .from = "2999-01-01T00:00:00.000Z"},
                     NULL, 10, p1.subject, &pg));
    CHECK_INT(pg.items, 0);
    CHECK_STR(pg.cursor, "");
    CHECK(audit_page(conn, &(audit_filter_t){.student = a, .to = "2000-01-01T00:00:00.000Z"}, NULL,
                     10, p1.subject, &pg));
    CHECK_INT(pg.items, 0);
    store_conn_push(conn);
}

typedef struct {
    int n;
    int64_t seqs[32];
    bool own;
} changes_t;

static bool
collect_change(void *ctx, const bson_t *doc)
{
    changes_t *c = ctx;

    if (c->n < 32)
        c->seqs[c->n++] = bget_int(doc, "seq", -1);
    return true;
}

/* audit_changes_each: a principal's versions, newest first by sequence, in
 * pages below a sequence, limit + 1 at most. */
static void
test_changes_by_subject(void)
{
    store_conn_t *conn = store_conn_pop(store, STORE_POOL_REQUEST);
    principal_t saved = admin;
    char org[14], id[STUDENT_ID_LEN + 1], first[16];
    int64_t before = 0, last = INT64_MAX;
    int total = 0;

    snprintf(admin.subject, sizeof admin.subject, "contract-writer-%06d", tag);
    make_ogrn(20, org);
    if (create(conn, "Авторова", "Вера", NULL, org, id))
        for (int i = 0; i < 5; i++) {
            write_result_t out;
            kt_error_t err;
            bson_t doc;
            snprintf(first, sizeof first, "Вера%d", i);
            student_doc(&doc, "Авторова", first, NULL, org);
            CHECK_OK(put(conn, WRITE_UPDATE, id, 0, &doc, &out, &err), err);
            bson_destroy(&doc);
        }
    for (int pages = 0; pages < 10; pages++) {
        changes_t c = {0};
        kt_error_t err;
        kt_error_clear(&err);
        CHECK_OK(audit_changes_each(conn, &(audit_filter_t){.subject = admin.subject}, before, 4,
                                    collect_change, &c, &err),
                 err);
        CHECK(c.n <= 5);
        for (int i = 0; i < c.n && i < 4; i++) {
            CHECK(c.seqs[i] > 0 && c.seqs[i] < last);
            last = c.seqs[i];
            total++;
        }
        if (c.n <= 4)
            break;
        before = last;
    }
    CHECK_INT(total, 6);
    admin = saved;
    store_conn_push(conn);
}

/* ======================================================================
 * Case: packages.
 * ====================================================================== */

typedef struct {
    int64_t index[16];
    int n;
} items_t;

static bool
collect_item(void *ctx, int64_t index, const bson_t *result)
{
    items_t *t = ctx;

    if (t->n < 16)
        t->index[t->n++] = index;
    return bget_str(result, "status") != NULL;
}

static bool
gather_piece(void *ctx, const char *bytes, size_t len)
{
    return buf_append(ctx, bytes, len);
}

static void
check_register(store_conn_t *conn, const char *key, const char *packet, const char *hash,
               const principal_t *who, package_seen_t want)
{
    package_seen_t seen = PACKAGE_NEW;
    bson_t existing = BSON_INITIALIZER; /* the call initialises it: this is for a failed one */
    kt_error_t err;

    kt_error_clear(&err);
    CHECK_OK(packages_register(conn, key, packet, hash, who, "contract", &seen, &existing, &err),
             err);
    CHECK_INT(seen, want);
    if (want != PACKAGE_NEW) {
        CHECK_STR(bget_str(&existing, "packet_id"), packet);
        CHECK_STR(bget_str(&existing, "hash"), hash);
        CHECK_STR(bget_str(&existing, "source_system"), "contract");
        CHECK_STR(bget_str(&existing, "principal.subject"), who->subject);
        CHECK(time_ms(bget_str(&existing, "received_at")) > 0);
    }
    bson_destroy(&existing);
}

static void
check_items(store_conn_t *conn, const char *key)
{
    bson_t result = BSON_INITIALIZER, first = BSON_INITIALIZER, second = BSON_INITIALIZER;
    bool found = true, kept = true;
    items_t t = {0};
    kt_error_t err;

    BSON_APPEND_UTF8(&first, "status", "OK");
    BSON_APPEND_UTF8(&second, "status", "ERROR");
    kt_error_clear(&err);
    CHECK_OK(packages_item_get(conn, key, 2, &result, &found, &err), err);
    CHECK(!found);
    bson_destroy(&result);
    bson_init(&result); /* the call initialises it: this is for a failed one */
    CHECK_OK(packages_item_put(conn, key, 2, &first, &kept, &err), err);
    CHECK(!kept);
    CHECK_OK(packages_item_put(conn, key, 2, &second, &kept, &err), err);
    CHECK(kept); /* the first result stays */
    CHECK_OK(packages_item_get(conn, key, 2, &result, &found, &err), err);
    CHECK(found);
    CHECK_STR(bget_str(&result, "status"), "OK");
    CHECK_OK(packages_item_put(conn, key, 10, &second, &kept, &err), err);
    CHECK_OK(packages_item_put(conn, key, 1, &first, &kept, &err), err);
    CHECK_OK(packages_items_each(conn, key, collect_item, &t, &err), err);
    CHECK_INT(t.n, 3);
    CHECK(t.n == 3 && t.index[0] == 1 && t.index[1] == 2 && t.index[2] == 10);
    bson_destroy(&result);
    bson_destroy(&first);
    bson_destroy(&second);
}

/* Finishes key with a receipt of 10 000 bytes in pages of 4096, reads it back. */
static void
check_receipt(store_conn_t *conn, const char *key)
{
    size_t len = 10000, got_len = 0;
    char *receipt = malloc(len + 1), *loaded = NULL;
    bson_t totals = BSON_INITIALIZER, pkg;
    buf_t b;
    kt_error_t err;

    buf_init(&b, 0);
    for (size_t i = 0; receipt != NULL && i < len; i++)
        receipt[i] = (char)('a' + i % 26);
    BSON_APPEND_INT64(&totals, "items", 3);
    bson_init(&pkg);
    kt_error_clear(&err);
    CHECK_OK(packages_finish(conn, key, "DONE", &totals, receipt, len, 4096, &err), err);
    CHECK_OK(packages_get(conn, key, &pkg, &err), err);
    CHECK_STR(bget_str(&pkg, "status"), "DONE");
    CHECK(packages_has_receipt(&pkg));
    CHECK_INT(bget_int(&pkg, "receipt_pages", -1), 3);
    CHECK_INT(bget_int(&pkg, "receipt_bytes", -1), (int64_t)len);
    CHECK_INT(bget_int(&pkg, "totals.items", -1), 3);
    CHECK_OK(packages_receipt_each(conn, &pkg, gather_piece, &b, &err), err);
    CHECK(b.len == len && memcmp(b.data, receipt, len) == 0);
    CHECK_OK(packages_receipt_load(conn, &pkg, &loaded, &got_len, &err), err);
    CHECK(got_len == len && loaded != NULL && memcmp(loaded, receipt, len) == 0);
    bson_destroy(&pkg);
    bson_destroy(&totals);
    buf_release(&b);
    free(loaded);
    free(receipt);
}

/* Two senders' workers at once: registering one package, then recording one
 * item's result. */
typedef struct {
    const char *key, *packet;
    const principal_t *who;
    int n;
    pthread_barrier_t *start;
    package_seen_t seen;
    bool ok, kept;
    kt_error_t err;
} twin_t;

static void *
twin_run(void *arg)
{
    twin_t *t = arg;
    store_conn_t *conn = store_conn_pop(store, STORE_POOL_BATCH);
    bson_t existing = BSON_INITIALIZER, result = BSON_INITIALIZER;

    BSON_APPEND_INT32(&result, "worker", t->n);
    kt_error_clear(&t->err);
    pthread_barrier_wait(t->start);
    t->ok = packages_register(conn, t->key, t->packet, "hz", t->who, "contract", &t->seen,
                              &existing, &t->err);
    bson_destroy(&existing);
    pthread_barrier_wait(t->start);
    t->ok = t->ok && packages_item_put(conn, t->key, 7, &result, &t->kept, &t->err);
    bson_destroy(&result);
    store_conn_push(conn);
    return NULL;
}

/* Of two registrations at once exactly one is new; of two results of one
 * item exactly one is kept, and it is the one read back. */
static void
check_twins(store_conn_t *conn, const principal_t *who)
{
    char key[PACKAGES_KEY_MAX], packet[64];
    twin_t t[2];
    pthread_t tids[2];
    pthread_barrier_t start;
    bson_t result = BSON_INITIALIZER;
    bool found = false;
    kt_error_t err;

    snprintf(packet, sizeof packet, "PKT-%06d-twin", tag);
    packages_key(who, packet, key);
    pthread_barrier_init(&start, NULL, 2);
    for (int i = 0; i < 2; i++) {
        t[i] = (twin_t){.key = key, .packet = packet, .who = who, .n = i, .start = &start};
        pthread_create(&tids[i], NULL, twin_run, &t[i]);
    }
    for (int i = 0; i < 2; i++)
        pthread_join(tids[i], NULL);
    pthread_barrier_destroy(&start);
    CHECK_OK(t[0].ok, t[0].err);
    CHECK_OK(t[1].ok, t[1].err);
    CHECK_INT((t[0].seen == PACKAGE_NEW) + (t[1].seen == PACKAGE_NEW), 1);
    CHECK(t[0].seen == PACKAGE_NEW || t[0].seen == PACKAGE_UNFINISHED);
    CHECK(t[1].seen == PACKAGE_NEW || t[1].seen == PACKAGE_UNFINISHED);
    CHECK_INT(t[0].kept + t[1].kept, 1);
    kt_error_clear(&err);
    CHECK_OK(packages_item_get(conn, key, 7, &result, &found, &err), err);
    CHECK(found);
    CHECK_INT(bget_int(&result, "worker", -1), t[0].kept ? 1 : 0);
    bson_destroy(&result);
}

static void
test_packages(void)
{
    store_conn_t *conn = store_conn_pop(store, STORE_POOL_BATCH);
    principal_t who = {.role = ROLE_REGION, .method = AUTH_CERT, .org = "1027700132195"};
    char key[PACKAGES_KEY_MAX], packet[64];
    package_seen_t seen;
    /* The calls initialise these; a failed call may not have. */
    bson_t existing = BSON_INITIALIZER, found = BSON_INITIALIZER;
    kt_error_t err;
    int n = -1;

    snprintf(who.subject, sizeof who.subject, "CN=contract-sender-%06d", tag);
    snprintf(packet, sizeof packet, "PKT-%06d-1", tag);
    packages_key(&who, packet, key);
    check_register(conn, key, packet, "h1", &who, PACKAGE_NEW);
    check_register(conn, key, packet, "h1", &who, PACKAGE_UNFINISHED);
    kt_error_clear(&err);
    expect_error(
        packages_register(conn, key, packet, "h2", &who, "contract", &seen, &existing, &err), &err,
        KT_DUPLICATE_PACKET, 409);
    bson_destroy(&existing);
    check_items(conn, key);
    check_receipt(conn, key);
    check_register(conn, key, packet, "h1", &who, PACKAGE_SAME);
    for (int round = 0; round < 3 * scale; round++) {
        who.subject[0] = (char)('A' + round); /* another sender each round */
        check_twins(conn, &who);
    }
    snprintf(who.subject, sizeof who.subject, "CN=contract-sender-%06d", tag);
    /* Found by its PacketID, of this sender, not of another. */
    kt_error_clear(&err);
    bson_init(&found);
    CHECK_OK(packages_find(conn, packet, NULL, who.subject, &found, &n, &err), err);
    CHECK_INT(n, 1);
    CHECK_STR(bget_str(&found, "packet_id"), packet);
    bson_destroy(&found);
    bson_init(&found);
    CHECK_OK(packages_find(conn, packet, NULL, "CN=nobody", &found, &n, &err), err);
    CHECK_INT(n, 0);
    bson_destroy(&found);
    bson_init(&found);
    kt_error_clear(&err);
    expect_error(packages_get(conn, "no/such-package", &found, &err), &err, KT_NOT_FOUND, 404);
    bson_destroy(&found);
    store_conn_push(conn);
}

typedef struct {
    const char *key, *owner;
    pthread_barrier_t *start;
    bool taken;
    int64_t epoch;
    kt_error_t err;
    bool ok;
} leaser_t;

static void *
leaser_run(void *arg)
{
    leaser_t *l = arg;
    store_conn_t *conn = store_conn_pop(store, STORE_POOL_BATCH);

    kt_error_clear(&l->err);
    pthread_barrier_wait(l->start);
    l->ok = packages_lease_take(conn, l->key, l->owner, 60000, &l->epoch, &l->taken, &l->err);
    store_conn_push(conn);
    return NULL;
}

/* Two workers take one package's lease at once: exactly one holds it. */
static int
lease_race(const char *key, leaser_t l[2])
{
    pthread_t tids[2];
    pthread_barrier_t start;

    pthread_barrier_init(&start, NULL, 2);
    for (int i = 0; i < 2; i++) {
        l[i] = (leaser_t){.key = key, .owner = i ? "worker-b" : "worker-a", .start = &start};
        pthread_create(&tids[i], NULL, leaser_run, &l[i]);
    }
    for (int i = 0; i < 2; i++)
        pthread_join(tids[i], NULL);
    pthread_barrier_destroy(&start);
    CHECK_OK(l[0].ok, l[0].err);
    CHECK_OK(l[1].ok, l[1].err);
    CHECK_INT(l[0].taken + l[1].taken, 1);
    return l[0].taken ? 0 : 1;
}

/* The holder renews; the other cannot take it; released, the other takes it
 * and the first one's renewal fails. */
static void
check_lease_handover(store_conn_t *conn, const char *key, leaser_t l[2], int holder)
{
    int64_t epoch = l[holder].epoch, stale, other_epoch = 0;
    bool kept = false, taken = true;
    kt_error_t err;

    kt_error_clear(&err);
    CHECK_OK(packages_lease_renew(conn, key, l[holder].owner, 60000, &epoch, &kept, &err), err);
    CHECK(kept);
    CHECK_OK(packages_lease_take(conn, key, l[!holder].owner, 60000, &other_epoch, &taken, &err),
             err);
    CHECK(!taken);
    CHECK_OK(packages_lease_release(conn, key, l[holder].owner, epoch, &err), err);
    CHECK_OK(packages_lease_take(conn, key, l[!holder].owner, 60000, &other_epoch, &taken, &err),
             err);
    CHECK(taken);
    stale = epoch;
    CHECK_OK(packages_lease_renew(conn, key, l[holder].owner, 60000, &stale, &kept, &err), err);
    CHECK(!kept);
}

/* The INQUEUE receipt's progress: received set once, done moving on alone,
 * the rest of the registration kept. */
static void
check_progress(store_conn_t *conn, const char *key)
{
    bson_t pkg = BSON_INITIALIZER;
    kt_error_t err;

    kt_error_clear(&err);
    CHECK_OK(packages_progress(conn, key, 600, 0, &err), err);
    CHECK_OK(packages_progress(conn, key, -1, 128, &err), err);
    bson_destroy(&pkg);
    CHECK_OK(packages_get(conn, key, &pkg, &err), err);
    CHECK_INT(util_get_int(&pkg, "items_received", -1), 600);
    CHECK_INT(util_get_int(&pkg, "items_done", -1), 128);
    CHECK_STR(util_get_str(&pkg, "status"), "INQUEUE");
    bson_destroy(&pkg);
    CHECK(!packages_progress(conn, "no-such-key", 1, 0, &err));
    CHECK_INT(err.code, KT_NOT_FOUND);
}

static void
check_queue(store_conn_t *conn, const char *key, const char *data, size_t len)
{
    char(*keys)[PACKAGES_KEY_MAX] = calloc(64, sizeof *keys);
    char *loaded = NULL;
    size_t loaded_len = 0;
    int64_t attempts = 0;
    bool waiting = false, listed = false;
    int n = 0;
    kt_error_t err;

    kt_error_clear(&err);
    CHECK_OK(packages_enqueue(conn, key, data, len, &err), err);
    CHECK_OK(packages_waiting(conn, keys, 64, &n, &err), err);
    for (int i = 0; keys != NULL && i < n; i++)
        listed = listed || strcmp(keys[i], key) == 0;
    CHECK(listed);
    CHECK_OK(packages_load(conn, key, &loaded, &loaded_len, &err), err);
    CHECK(loaded_len == len && loaded != NULL && memcmp(loaded, data, len) == 0);
    CHECK_OK(packages_attempt(conn, key, &attempts, &waiting, &err), err);
    CHECK(waiting);
    CHECK_INT(attempts, 1);
    check_progress(conn, key);
    free(loaded);
    free(keys);
}

/* The end of a queued package: bytes dropped, finished, out of the queue. */
static void
check_dequeue(store_conn_t *conn, const char *key)
{
    char(*keys)[PACKAGES_KEY_MAX] = calloc(64, sizeof *keys);
    bson_t totals = BSON_INITIALIZER;
    int64_t attempts = 0;
    bool waiting = true;
    int n = 0;
    kt_error_t err;

    kt_error_clear(&err);
    CHECK_OK(packages_chunks_drop(conn, key, &err), err);
    CHECK_OK(packages_finish(conn, key, "DONE", &totals, "<receipt/>", 10, 0, &err), err);
    CHECK_OK(packages_waiting(conn, keys, 64, &n, &err), err);
    for (int i = 0; keys != NULL && i < n; i++)
        CHECK(strcmp(keys[i], key) != 0);
    CHECK_OK(packages_attempt(conn, key, &attempts, &waiting, &err), err);
    CHECK(!waiting);
    bson_destroy(&totals);
    free(keys);
}

static void
enqueue_quietly(store_conn_t *conn, const char *key, const char *data)
{
    kt_error_t err;

    kt_error_clear(&err);
    CHECK_OK(packages_enqueue(conn, key, data, 100, &err), err);
}

/* The registration's (received_at, key): the queue's order. */
static int
cmp_arrival(const char *a_time, const char *a_key, const char *b_time, const char *b_key)
{
    int c = strcmp(a_time, b_time);

    return c != 0 ? c : strcmp(a_key, b_key);
}

/* packages_waiting lists the queued packages 1..rounds-1 of who (round 0
 * ended) in arrival order: received_at, then key. */
static void
check_waiting_order(store_conn_t *conn, const principal_t *who, int rounds)
{
    char(*keys)[PACKAGES_KEY_MAX] = calloc(512, sizeof *keys);
    char prev_time[32] = "", prev_key[PACKAGES_KEY_MAX] = "", packet[64], mine[PACKAGES_KEY_MAX];
    int n = 0, found = 0;
    kt_error_t err;

    kt_error_clear(&err);
    CHECK_OK(keys != NULL && packages_waiting(conn, keys, 512, &n, &err), err);
    for (int i = 0; keys != NULL && i < n; i++) {
        bson_t pkg = BSON_INITIALIZER;
        bool ours = false;
        for (int r = 1; r < rounds && !ours; r++) {
            snprintf(packet, sizeof packet, "PKT-%06d-Q%d", tag, r);
            packages_key(who, packet, mine);
            ours = strcmp(mine, keys[i]) == 0;
        }
        CHECK_OK(packages_get(conn, keys[i], &pkg, &err), err);
        const char *t = bget_str(&pkg, "received_at");
        CHECK_STR(bget_str(&pkg, "status"), "INQUEUE");
        CHECK(t != NULL && cmp_arrival(prev_time, prev_key, t, keys[i]) < 0);
        snprintf(prev_time, sizeof prev_time, "%s", t ? t : "");
        snprintf(prev_key, sizeof prev_key, "%s", keys[i]);
        found += ours;
        bson_destroy(&pkg);
    }
    CHECK_INT(found, rounds - 1);
    free(keys);
}

static void
test_package_queue(void)
{
    store_conn_t *conn = store_conn_pop(store, STORE_POOL_BATCH);
    principal_t who = {.role = ROLE_REGION, .method = AUTH_CERT, .org = "1027700132195"};
    char key[PACKAGES_KEY_MAX], packet[64], data[3000];
    leaser_t l[2];

    snprintf(who.subject, sizeof who.subject, "CN=contract-queue-%06d", tag);
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (char)('A' + i % 23);
    for (int round = 0; round < 5 * scale; round++) {
        snprintf(packet, sizeof packet, "PKT-%06d-Q%d", tag, round);
        packages_key(&who, packet, key);
        check_register(conn, key, packet, "hq", &who, PACKAGE_NEW);
        if (round == 0)
            check_queue(conn, key, data, sizeof data);
        int holder = lease_race(key, l);
        if (round == 0)
            check_lease_handover(conn, key, l, holder);
        if (round == 0)
            check_dequeue(conn, key);
        else
            enqueue_quietly(conn, key, data);
    }
    check_waiting_order(conn, &who, (int)(5 * scale));
    store_conn_push(conn);
}

/* ======================================================================
 * Case: health keys.
 * ====================================================================== */

typedef struct {
    const char *want;
    bool seen;
} key_seen_t;

static bool
see_key(void *ctx, const bson_t *doc)
{
    key_seen_t *k = ctx;

    k->seen = k->seen || (bget_str(doc, "_id") && strcmp(bget_str(doc, "_id"), k->want) == 0);
    return true;
}

static bool
key_listed(store_conn_t *conn, const char *dkid, const char *lacking)
{
    key_seen_t k = {dkid, false};
    char after[40];
    kt_error_t err;

    /* From just below dkid: the page holds it if it qualifies. */
    snprintf(after, sizeof after, "%.31s", dkid);
    kt_error_clear(&err);
    CHECK_OK(health_keys_each(conn, lacking, after, 10, see_key, &k, &err), err);
    return k.seen;
}

static void
test_health_keys(void)
{
    store_conn_t *conn = store_conn_pop(store, STORE_POOL_REQUEST);
    char dkid[33];
    bson_t wraps = BSON_INITIALIZER, got, k;
    bool found = false;
    kt_error_t err;

    snprintf(dkid, sizeof dkid, "c0ffee%06d%020d", tag, 0);
    BSON_APPEND_DOCUMENT_BEGIN(&wraps, "kek-1", &k);
    BSON_APPEND_UTF8(&k, "nonce", "n1");
    BSON_APPEND_UTF8(&k, "ct", "c1");
    BSON_APPEND_UTF8(&k, "tag", "t1");
    bson_append_document_end(&wraps, &k);
    kt_error_clear(&err);
    CHECK_OK(health_keys_insert(conn, dkid, &wraps, &err), err);
    CHECK_OK(health_keys_get(conn, dkid, &got, &found, &err), err);
    CHECK(found);
    if (found) {
        CHECK_STR(bget_str(&got, "kek-1.ct"), "c1");
        bson_destroy(&got);
    }
    CHECK(key_listed(conn, dkid, "kek-2"));
    BSON_APPEND_DOCUMENT_BEGIN(&wraps, "kek-2", &k);
    BSON_APPEND_UTF8(&k, "ct", "c2");
    bson_append_document_end(&wraps, &k);
    CHECK_OK(health_keys_put_wraps(conn, dkid, &wraps, &err), err);
    CHECK(!key_listed(conn, dkid, "kek-2"));
    CHECK(key_listed(conn, dkid, NULL));
    CHECK_OK(health_keys_get(conn, "00000000000000000000000000000000", &got, &found, &err), err);
    CHECK(!found);
    if (found)
        bson_destroy(&got);
    bson_destroy(&wraps);
    store_conn_push(conn);
}

/* ======================================================================
 * Case: probable duplicates' pairs — stored once, listed open and newest
 * first (all, by organisation, by municipality) in pages, dismissed.
 * ====================================================================== */

static void
pair_doc(bson_t *doc, int n, const char *created, const char *org_a, const char *org_b,
         const char *state)
{
    char id[40], mun[16];
    bson_t arr;

    snprintf(id, sizeof id, "d0d0d0d0-%04d-4000-8000-%012d", n, tag);
    snprintf(mun, sizeof mun, "9%06d%d", tag, n % 2); /* two municipalities */
    bson_init(doc);
    BSON_APPEND_UTF8(doc, "_id", id);
    BSON_APPEND_UTF8(doc, "a", "a");
    BSON_APPEND_UTF8(doc, "b", "b");
    BSON_APPEND_INT32(doc, "score", 80 + n);
    BSON_APPEND_UTF8(doc, "created", created);
    BSON_APPEND_UTF8(doc, "state", state);
    BSON_APPEND_ARRAY_BEGIN(doc, "organizations", &arr);
    BSON_APPEND_UTF8(&arr, "0", org_a);
    BSON_APPEND_UTF8(&arr, "1", org_b);
    bson_append_array_end(doc, &arr);
    BSON_APPEND_ARRAY_BEGIN(doc, "municipalities", &arr);
    BSON_APPEND_UTF8(&arr, "0", mun);
    bson_append_array_end(doc, &arr);
}

typedef struct {
    char ids[8][40];
    char created[8][32];
    int n;
} pair_page_t;

static bool
pair_visit(void *ctx, const bson_t *doc)
{
    pair_page_t *p = ctx;

    if (p->n < 8) {
        snprintf(p->ids[p->n], sizeof p->ids[0], "%s", bget_str(doc, "_id"));
        snprintf(p->created[p->n], sizeof p->created[0], "%s", bget_str(doc, "created"));
        p->n++;
    }
    return true;
}

static void
list_pairs(store_conn_t *conn, const char *field, const char *value, const pair_page_t *after,
           int limit, pair_page_t *page)
{
    kt_error_t err;
    const char *ac = after != NULL ? after->created[after->n - 1] : NULL;
    const char *ai = after != NULL ? after->ids[after->n - 1] : NULL;

    memset(page, 0, sizeof *page);
    kt_error_clear(&err);
    CHECK_OK(store_dup_pairs_list(conn, field, value, ac, ai, limit, pair_visit, page, &err), err);
}

static void
test_dup_pairs(void)
{
    store_conn_t *conn = store_conn_pop(store, STORE_POOL_REQUEST);
    static const char *const times[] = {"2026-09-01T10:00:00.000Z", "2026-09-01T10:00:00.000Z",
                                        "2026-09-02T10:00:00.000Z", "2026-09-03T10:00:00.000Z"};
    char org[14], other[14], mun[16];
    pair_page_t first, second;
    bson_t doc, got;
    bool written = false, found = false;
    kt_error_t err;

    kt_error_clear(&err);
    make_ogrn(40, org);
    make_ogrn(41, other);
    for (int i = 0; i < 4; i++) { /* pairs 0..3; pair 3 names the other school only */
        pair_doc(&doc, i, times[i], i == 3 ? other : org, other, "open");
        CHECK_OK(store_dup_pair_put(conn, &doc, false, &written, &err), err);
        CHECK(written);
        bson_destroy(&doc);
    }
    pair_doc(&doc, 0, times[3], org, other, "open"); /* the same pair again: kept as it was */
    CHECK_OK(store_dup_pair_put(conn, &doc, false, &written, &err), err);
    CHECK(!written);
    CHECK_OK(store_dup_pair_get(conn, bget_str(&doc, "_id"), &got, &found, &err), err);
    CHECK(found);
    if (found) {
        CHECK_STR(bget_str(&got, "created"), times[0]);
        CHECK_INT(util_get_int(&got, "score", 0), 80);
        bson_destroy(&got);
    }
    bson_destroy(&doc);
    /* By school, newest first, in pages of two: 2, then 1 and 0 (equal
     * times: the greater id first). */
    list_pairs(conn, "organization", org, NULL, 2, &first);
    CHECK_INT(first.n, 2);
    list_pairs(conn, "organization", org, &first, 2, &second);
    CHECK_INT(second.n, 1);
    if (first.n == 2 && second.n == 1) {
        CHECK(strstr(first.ids[0], "-0002-") != NULL);
        CHECK(strstr(first.ids[1], "-0001-") != NULL);
        CHECK(strstr(second.ids[0], "-0000-") != NULL);
    }
    list_pairs(conn, "organization", other, NULL, 8, &first); /* every pair names it */
    CHECK_INT(first.n, 4);
    snprintf(mun, sizeof mun, "9%06d1", tag);
    list_pairs(conn, "municipality", mun, NULL, 8, &first); /* pairs 1 and 3 */
    CHECK_INT(first.n, 2);
    /* Dismissed: out of every list, kept. */
    pair_doc(&doc, 2, times[2], org, other, "dismissed");
    CHECK_OK(store_dup_pair_put(conn, &doc, true, &written, &err), err);
    CHECK(written);
    list_pairs(conn, "organization", org, NULL, 8, &first);
    CHECK_INT(first.n, 2);
    list_pairs(conn, NULL, NULL, NULL, 8, &first);
    CHECK_INT(first.n, 3);
    CHECK_OK(store_dup_pair_get(conn, bget_str(&doc, "_id"), &got, &found, &err), err);
    CHECK(found);
    if (found) {
        CHECK_STR(bget_str(&got, "state"), "dismissed");
        bson_destroy(&got);
    }
    bson_destroy(&doc);
    CHECK_OK(store_dup_pair_get(conn, "no-such-pair", &got, &found, &err), err);
    CHECK(!found);
    store_conn_push(conn);
}

/* ======================================================================
 * Case: a writer killed right after its version is in (crash state 4).
 * ====================================================================== */

/* The child: one update of id at the fault point. Exit 0 when the write
 * returned (a build or backend without the point), 3 when it failed. */
static int
crash_child(const char *id, const char *version)
{
    store_conn_t *conn = store_conn_pop(store, STORE_POOL_REQUEST);
    write_meta_t meta = {.principal = &admin, .request_id = "crash", .fault = FAULT_POINT};
    write_result_t out;
    kt_error_t err;
    bson_t doc;
    char *end;
    int64_t expected = strtoll(version, &end, 10);
    bool ok;

    student_doc(&doc, "Упавшая", version, NULL, NULL);
    kt_error_clear(&err);
    ok = *end == '\0' &&
         store_student_write(conn, WRITE_UPDATE, id, expected, &doc, &meta, &out, &err);
    bson_destroy(&doc);
    store_conn_push(conn);
    if (!ok)
        fprintf(stderr, "crash-child: %s\n", err.message);
    return ok ? 0 : 3;
}

/* Runs the child on id at version v; true when it died at the fault point. */
static bool
run_crash_child(const char *id, int64_t v)
{
    char version[24];
    int status = 0;
    pid_t pid;

    snprintf(version, sizeof version, "%lld", (long long)v);
    fflush(NULL);
    pid = fork();
    if (pid == 0) {
        execl("/proc/self/exe", "test_contract", "crash-child", id, version, (char *)NULL);
        _exit(127);
    }
    CHECK(pid > 0 && waitpid(pid, &status, 0) == pid);
    bool killed = WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
    CHECK(killed || (WIFEXITED(status) && WEXITSTATUS(status) == 0));
    return killed;
}

/* After a writer of id died (or completed) at version `before`: the chain is
 * whole and holds before or before + 1 versions — a write is all or nothing
 * as readers see it — and a reader sees the latest of them. Returns it. */
static int64_t
check_after_crash(store_conn_t *conn, const char *id, int64_t before, bool killed)
{
    char problem[256] = "";
    long versions = 0;
    bool lags = false;
    int64_t bad = 0;
    kt_error_t err;

    kt_error_clear(&err);
    CHECK_OK(verify_record(conn, &store_kind_student, id, &versions, &lags, &bad, problem, &err),
             err);
    CHECK_STR(problem, "");
    CHECK(versions == before || versions == before + 1);
    /* Completed, or (MongoDB) crash state 4: the version is in. SQLite dies
     * before its COMMIT: nothing is. */
    if (!killed || opts.backend == STORE_MONGODB)
        CHECK_INT(versions, before + 1);
    CHECK_INT(current_version(conn, id), versions);
    return versions;
}

static void
test_crash_after_version(void)
{
    store_conn_t *conn = store_conn_pop(store, STORE_POOL_BATCH);
    char org[14], id[STUDENT_ID_LEN + 1];
    int64_t since = feed_end(conn), v = 1, next = 0, want = 1;
    entries_t l = {0};
    kt_error_t err;
    verify_report_t rep;
    int kills = 0;

    make_ogrn(30, org);
    if (!create(conn, "Упавшая", "До", NULL, org, id))
        goto done;
    for (int round = 0; round < 2; round++) {
        bool killed = run_crash_child(id, v);
        kills += killed;
        v = check_after_crash(conn, id, v, killed);
    }
    printf("  %d of 2 writers died at " FAULT_POINT "; the student is at version %lld\n", kills,
           (long long)v);
    /* Repair completes whatever is left (heads that lag); nothing is broken. */
    memset(&rep, 0, sizeof rep);
    kt_error_clear(&err);
    CHECK_OK(verify_repair_all(conn, stderr, &rep, &err), err);
    CHECK_INT(rep.broken, 0);
    check_chain(conn, &store_kind_student, id, v);
    /* The feed names each version that is in, once, in order. */
    feed_all(conn, since, 50, NULL, &l, &next);
    for (size_t i = 0; i < l.n; i++)
        if (strcmp(l.e[i].student_id, id) == 0)
            CHECK_INT(l.e[i].version, want++);
    CHECK_INT(want - 1, v);
    entries_free(&l);
done:
    store_conn_push(conn);
}

/* ======================================================================
 * Case: a writer killed at a moment of nobody's choosing.
 * ====================================================================== */

/* The child: writes students of org with СНИЛС (claims) — create, rename,
 * a new СНИЛС, every third deleted — until it is killed; "ready" on stdout
 * after its first create. */
static int
write_loop(const char *org)
{
    store_conn_t *conn = store_conn_pop(store, STORE_POOL_REQUEST);
    char id[STUDENT_ID_LEN + 1], snils[12];
    write_result_t out;
    kt_error_t err;
    bson_t doc;

    for (int i = 0; i < 1000000; i++) { /* killed long before */
        make_snils(2 * i % 1000, snils);
        bool created = create(conn, "Прерванная", "Оля", snils, org, id);
        if (i == 0) {
            printf("ready\n");
            fflush(stdout);
        }
        if (!created)
            continue;
        make_snils((2 * i + 1) % 1000, snils);
        student_doc(&doc, "Прерванная", "Ольга", snils, org);
        if (!put(conn, WRITE_UPDATE, id, 1, &doc, &out, &err))
            fprintf(stderr, "write-loop: %s\n", err.message);
        bson_destroy(&doc);
        if (i % 3 == 0 && !put(conn, WRITE_DELETE, id, 2, NULL, &out, &err))
            fprintf(stderr, "write-loop: %s\n", err.message);
    }
    store_conn_push(conn);
    return 0;
}

/* Starts the child on org, kills it delay_ms after its first write. */
static bool
kill_writer(const char *org, int delay_ms)
{
    struct timespec pause = {delay_ms / 1000, (long)(delay_ms % 1000) * 1000000};
    char ready[8] = "";
    int fds[2], status = 0;
    pid_t pid;

    if (pipe(fds) != 0)
        return false;
    fflush(NULL);
    pid = fork();
    if (pid == 0) {
        dup2(fds[1], STDOUT_FILENO);
        close(fds[0]);
        close(fds[1]);
        execl("/proc/self/exe", "test_contract", "write-loop", org, (char *)NULL);
        _exit(127);
    }
    close(fds[1]);
    bool started = pid > 0 && read(fds[0], ready, 6) == 6 && strncmp(ready, "ready\n", 6) == 0;
    close(fds[0]);
    if (started)
        nanosleep(&pause, NULL);
    if (pid > 0) {
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
    }
    CHECK(started);
    return started;
}

/* Every student of org reads whole after the kill (and repair). */
static void
check_org_students(store_conn_t *conn, const char *org)
{
    char ids[PAGE][40], last[40] = "";
    int count = PAGE, students = 0;
    kt_error_t err;

    while (count == PAGE) {
        kt_error_clear(&err);
        count = 0;
        CHECK_OK(store_student_find_ids(conn, "organization", org, last[0] ? last : NULL, PAGE, ids,
                                        &count, &err),
                 err);
        for (int i = 0; i < count; i++) {
            check_chain(conn, &store_kind_student, ids[i], current_version(conn, ids[i]));
            snprintf(last, sizeof last, "%s", ids[i]);
            students++;
        }
    }
    CHECK(students > 0);
}

static void
test_killed_writer(void)
{
    store_conn_t *conn = store_conn_pop(store, STORE_POOL_BATCH);
    static const int delays[] = {3, 40, 170};
    char org[14];
    int64_t since = feed_end(conn), next = 0;
    entries_t l = {0};
    verify_report_t r;
    kt_error_t err;

    make_ogrn(70, org);
    for (int round = 0; round < 3; round++)
        if (!kill_writer(org, delays[round]))
            goto done;
    memset(&r, 0, sizeof r);
    kt_error_clear(&err);
    CHECK_OK(verify_repair_all(conn, stderr, &r, &err), err);
    CHECK_INT(r.broken, 0);
    printf("  3 writers killed; repair completed %ld heads\n", r.repaired);
    memset(&r, 0, sizeof r);
    CHECK_OK(verify_all(conn, stderr, &r, &err), err);
    CHECK_INT(r.broken, 0);
    CHECK_INT(r.incomplete, 0);
    CHECK_INT(r.duplicates, 0);
    check_org_students(conn, org);
    /* The feed: each entry names its version (MongoDB: a reservation the
     * killed writer left stops readers for FEED_LEASE_MS — the page ends
     * there, nothing is lost). */
    feed_all(conn, since, 20, NULL, &l, &next);
    for (size_t i = 0; i < l.n; i++) {
        CHECK(i == 0 || l.e[i].seq > l.e[i - 1].seq);
        check_entry(conn, &l.e[i]);
    }
    entries_free(&l);
done:
    store_conn_push(conn);
}

/* ======================================================================
 * Case: verify over everything the cases wrote.
 * ====================================================================== */

static void
test_verify_all(void)
{
    store_conn_t *conn = store_conn_pop(store, STORE_POOL_BATCH);
    verify_report_t r;
    bson_t last;
    bool found = false;
    long records = -1;
    kt_error_t err;

    memset(&r, 0, sizeof r);
    kt_error_clear(&err);
    CHECK_OK(verify_all(conn, stderr, &r, &err), err);
    printf("  verify: %ld students, %ld versions, %ld organisations, %ld broken, %ld incomplete, "
           "%ld duplicate keys\n",
           r.students, r.versions, r.organizations, r.broken, r.incomplete, r.duplicates);
    CHECK(r.students > 50);
    CHECK(r.versions > r.students);
    CHECK(r.organizations >= 11);
    CHECK_INT(r.broken, 0);
    CHECK_INT(r.incomplete, 0);
    CHECK_INT(r.duplicates, 0);
    /* Nothing lags: the heads counted are the records verify visited. */
    CHECK_OK(verify_count(conn, &records, &err), err);
    CHECK_INT(records, r.students + r.organizations);
    CHECK_OK(verify_last_run(conn, &last, &found, &err), err);
    CHECK(found);
    if (found) {
        CHECK_INT(bget_int(&last, "students", -1), r.students);
        CHECK(bhas_type(&last, "ok", BSON_TYPE_BOOL));
        bson_destroy(&last);
    }
    memset(&r, 0, sizeof r);
    CHECK_OK(verify_repair_all(conn, stderr, &r, &err), err);
    CHECK_INT(r.repaired, 0);
    CHECK_INT(r.broken, 0);
    store_conn_push(conn);
}

/* ======================================================================
 * The store under test.
 * ====================================================================== */

static bool
drop_database(void)
{
    store_conn_t *conn = store_conn_pop(store, STORE_POOL_BATCH);
    mongoc_database_t *d = mongo_database(conn);
    bson_error_t error;
    bool ok = mongoc_database_drop(d, &error) || error.code == 26; /* 26: no such namespace */

    if (!ok)
        fprintf(stderr, "test_contract: cannot drop %s: %s\n", opts.db_name, error.message);
    mongoc_database_destroy(d);
    store_conn_push(conn);
    return ok;
}

/* The options from the environment; false (with a message) when unusable,
 * *skip when the backend is not configured. */
static bool
options_from_env(bool child, bool *skip)
{
    const char *backend = getenv("KT_STORE"), *path = getenv("KT_SQLITE");

    *skip = false;
    if (backend != NULL && strcmp(backend, "mongodb") == 0) {
        opts.backend = STORE_MONGODB;
        opts.mongodb_uri = getenv("MONGODB_URI");
        opts.db_name = getenv("KT_DB") && getenv("KT_DB")[0] ? getenv("KT_DB") : "kt_contract_test";
        *skip = opts.mongodb_uri == NULL || opts.mongodb_uri[0] == '\0';
        /* It drops the database: never one that is not for tests. */
        if (!*skip && strstr(opts.db_name, "test") == NULL) {
            fprintf(stderr,
                    "test_contract: KT_DB=%s: the suite drops its database, so its name "
                    "must contain \"test\"\n",
                    opts.db_name);
            return false;
        }
        return !*skip;
    }
    if (backend != NULL && backend[0] != '\0' && strcmp(backend, "sqlite") != 0) {
        fprintf(stderr, "test_contract: KT_STORE is sqlite or mongodb, not %s\n", backend);
        return false;
    }
    opts.backend = STORE_SQLITE;
    if (path != NULL && path[0] != '\0') {
        snprintf(sqlite_path, sizeof sqlite_path, "%s", path);
    } else if (!child) {
        const char *tmp = getenv("TMPDIR") && getenv("TMPDIR")[0] ? getenv("TMPDIR") : "/tmp";
        snprintf(sqlite_path, sizeof sqlite_path, "%s/kt-contract-XXXXXX", tmp);
        int fd = mkstemp(sqlite_path);
        if (fd < 0) {
            perror("test_contract: mkstemp");
            return false;
        }
        close(fd);
        sqlite_temp = true;
        setenv("KT_SQLITE", sqlite_path, 1); /* for the crash child */
    }
    opts.sqlite_path = sqlite_path;
    return true;
}

static void
remove_sqlite(void)
{
    char side[1100];

    if (!sqlite_temp)
        return;
    unlink(sqlite_path);
    snprintf(side, sizeof side, "%s-wal", sqlite_path);
    unlink(side);
    snprintf(side, sizeof side, "%s-shm", sqlite_path);
    unlink(side);
}

/* Opens the store; for the suite (prepare), a fresh one: MongoDB's database
 * dropped first (drop: unless prepared already), the collections or tables
 * created. The crash child only opens it. */
static bool
open_store(bool drop, bool prepare)
{
    store_conn_t *conn;
    kt_error_t err;
    bool ok;

    kt_error_clear(&err);
    if ((store = store_new(&opts, &err)) == NULL) {
        fprintf(stderr, "test_contract: %s\n", err.message);
        return false;
    }
    if (drop && opts.backend == STORE_MONGODB && !drop_database())
        return false;
    if (!prepare)
        return true;
    conn = store_conn_pop(store, STORE_POOL_BATCH);
    ok = store_prepare(conn, &err);
    store_conn_push(conn);
    if (!ok)
        fprintf(stderr, "test_contract: prepare: %s\n", err.message);
    return ok;
}

static void
run_cases(void)
{
    CONTRACT_RUN(test_record_lifecycle);
    CONTRACT_RUN(test_organization_lifecycle);
    CONTRACT_RUN(test_identity_change_kind);
    CONTRACT_RUN(test_sixteen_writers);
    CONTRACT_RUN(test_delete_race);
    CONTRACT_RUN(test_pair_merge_and_unmerge);
    CONTRACT_RUN(test_pair_concurrent_merges);
    CONTRACT_RUN(test_pair_merge_against_updates);
    CONTRACT_RUN(test_same_snils_creates);
    CONTRACT_RUN(test_same_snils_updates);
    CONTRACT_RUN(test_same_document);
    CONTRACT_RUN(test_feed);
    CONTRACT_RUN(test_feed_epoch);
    CONTRACT_RUN(test_feed_tailing);
    CONTRACT_RUN(test_pagination);
    CONTRACT_RUN(test_organization_pages);
    CONTRACT_RUN(test_representative_keys);
    CONTRACT_RUN(test_scan_as_of);
    CONTRACT_RUN(test_access_log);
    CONTRACT_RUN(test_changes_by_subject);
    CONTRACT_RUN(test_health_keys);
    CONTRACT_RUN(test_dup_pairs);
    CONTRACT_RUN(test_crash_after_version);
    CONTRACT_RUN(test_killed_writer);
    CONTRACT_RUN(test_verify_all);
    CONTRACT_RUN(test_packages);
    CONTRACT_RUN(test_package_queue);
}

int
main(int argc, char **argv)
{
    const char *mode = argc >= 2 ? argv[1] : "";
    bool crash = strcmp(mode, "crash-child") == 0 && argc == 4;
    bool loop = strcmp(mode, "write-loop") == 0 && argc == 3;
    bool child = crash || loop, skip = false, ok;
    char *end = NULL;
    const char *s = getenv("KT_CONTRACT_SCALE");
    long n = s != NULL ? strtol(s, &end, 10) : 0;

    scale = n > 0 && end != NULL && *end == '\0' ? n : 1;
    tag = (int)((feed_now_ms() ^ (int64_t)getpid() * 7919) % 1000000);
    snprintf(admin.subject, sizeof admin.subject, "contract-%06d", tag);
    if (!options_from_env(child, &skip)) {
        if (skip)
            fprintf(stderr, "test_contract: KT_STORE=mongodb without MONGODB_URI: skipped\n");
        return skip ? SKIP : 1;
    }
    mongoc_init();
    if (child) {
        ok = open_store(false, false);
        int rc = !ok ? 1 : crash ? crash_child(argv[2], argv[3]) : write_loop(argv[2]);
        store_free(store);
        mongoc_cleanup();
        return rc;
    }
    printf("test_contract: store %s (%s), scale %ld\n",
           opts.backend == STORE_MONGODB ? "mongodb" : "sqlite",
           opts.backend == STORE_MONGODB ? opts.db_name : sqlite_path, scale);
    /* Prepared: the store is as `prepare` left it (with the scripts' FerretDB
     * indexes, which a second createIndexes may trip over). */
    bool prepared = strcmp(mode, "--prepared") == 0;
    ok = open_store(!prepared, !prepared);
    if (ok && strcmp(mode, "prepare") == 0) {
        store_free(store);
        return 0;
    }
    if (ok)
        run_cases();
    else
        check_failed++;
    if (store != NULL && opts.backend == STORE_MONGODB)
        drop_database();
    store_free(store);
    remove_sqlite();
    mongoc_cleanup();
    CHECK_MAIN_END();
}
