/*
 * test_sqlite_records: the versioned records of the SQLite store
 * (store/sqlite/records.c, verify.c) on a database file of its own in a
 * temporary directory — no server. Reads, the write transaction's checks
 * (410, 412 with the current version, 409 with the holder), claims released
 * on change and delete, find_ids paging over several members, concurrent
 * writers (one СНИЛС, one record with If-Match), a crash before COMMIT,
 * SQLITE_BUSY as 503, verify and repair after tampering with the file.
 */
#include <pthread.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "auth/principal.h"
#include "check.h"
#include "tmp_store.h"
#include "store/backend.h"
#include "store/records.h"
#include "store/util.h"
#include "store/verify.h"

#define THREADS     16
#define PER_THREAD  10
#define SNILS_A     "11223344595"
#define SNILS_B     "08765432100"
#define SNILS_C     "11122233344"
#define ORG_1       "1027700132195"
#define ORG_2       "1027739609391"
#define MEMBERS_MAX 3

static char dir[512], path[600];
static store_t *store;
static principal_t admin = {
    .subject = "test_sqlite_records", .role = ROLE_ADMIN, .method = AUTH_TOKEN};
static const write_meta_t meta = {.principal = &admin, .request_id = "req-1"};

/* A student: last name, СНИЛС (NULL: none), organisation, optional
 * passport number (NULL: none), birth place (to make versions differ). */
static void
student(bson_t *doc, const char *last, const char *snils, const char *org, const char *passport,
        const char *place)
{
    bson_t arr, item;

    bson_init(doc);
    BSON_APPEND_UTF8(doc, "last_name", last);
    BSON_APPEND_UTF8(doc, "first_name", "Anna");
    BSON_APPEND_UTF8(doc, "birth_date", "2015-03-14");
    if (snils != NULL)
        BSON_APPEND_UTF8(doc, "snils", snils);
    if (passport != NULL) {
        BSON_APPEND_ARRAY_BEGIN(doc, "documents", &arr);
        BSON_APPEND_DOCUMENT_BEGIN(&arr, "0", &item);
        BSON_APPEND_UTF8(&item, "type", "PASSPORT_FOREIGN");
        BSON_APPEND_UTF8(&item, "series", "AB");
        BSON_APPEND_UTF8(&item, "number", passport);
        bson_append_document_end(&arr, &item);
        bson_append_array_end(doc, &arr);
    }
    BSON_APPEND_UTF8(doc, "organization", org);
    if (place != NULL)
        BSON_APPEND_UTF8(doc, "birth_place", place);
}

static bool
put(store_conn_t *conn, write_op_t op, const char *id, int64_t expected, const bson_t *doc,
    write_result_t *out, kt_error_t *err)
{
    kt_error_clear(err);
    return store_student_write(conn, op, id, expected, doc, &meta, out, err);
}

/* Creates a student; its id in id (size ≥ 37), "" when refused. */
static void
create(store_conn_t *conn, const char *last, const char *snils, const char *org,
       const char *passport, char *id)
{
    bson_t doc;
    write_result_t out;
    kt_error_t err;

    student(&doc, last, snils, org, passport, NULL);
    bool ok = put(conn, WRITE_CREATE, NULL, 0, &doc, &out, &err);
    CHECK(ok);
    snprintf(id, STUDENT_ID_LEN + 1, "%s", ok ? out.id : "");
    bson_destroy(&doc);
}

/* Raw SQL on the file, beside the store (a hand on the file). */
static void
raw_exec(const char *sql)
{
    sqlite3 *db = NULL;

    CHECK(sqlite3_open(path, &db) == SQLITE_OK);
    sqlite3_busy_timeout(db, 10000);
    CHECK(sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK);
    sqlite3_close(db);
}

static int64_t
raw_count(const char *sql, const char *arg)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    int64_t n = -1;

    CHECK(sqlite3_open(path, &db) == SQLITE_OK);
    CHECK(sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK);
    if (arg != NULL)
        sqlite3_bind_text(st, 1, arg, -1, SQLITE_TRANSIENT);
    if (sqlite3_step(st) == SQLITE_ROW)
        n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return n;
}

static void
test_create_read_update_delete(void)
{
    store_conn_t *conn = store_conn_pop(store, STORE_POOL_REQUEST);
    write_result_t out;
    kt_error_t err;
    record_t s;
    bson_t doc;
    char id[STUDENT_ID_LEN + 1], vid[64];

    record_init(&s);
    create(conn, "Ivanova", NULL, ORG_1, NULL, id);
    CHECK(store_student_get(conn, id, &s, &err));
    CHECK_INT(s.version, 1);
    CHECK(!s.deleted);
    CHECK_STR(util_get_str(&s.doc, "last_name"), "Ivanova");
    store_version_id(id, 1, vid);
    CHECK_STR(util_get_str(&s.record, "_id"), vid);
    CHECK_STR(util_get_str(&s.record, "prev_hash"), "");
    CHECK_INT(util_get_int(&s.record, "seq", 0) > 0, 1);
    student(&doc, "Ivanova", NULL, ORG_1, NULL, "Kazan");
    CHECK(put(conn, WRITE_UPDATE, id, 1, &doc, &out, &err));
    CHECK_INT(out.version, 2);
    CHECK(!out.unchanged);
    CHECK(store_student_get_version(conn, id, 1, &s, &err));
    CHECK(util_get_str(&s.doc, "birth_place") == NULL);
    CHECK(store_student_get_version(conn, id, 2, &s, &err));
    CHECK_STR(util_get_str(&s.doc, "birth_place"), "Kazan");
    CHECK(!store_student_get_version(conn, id, 3, &s, &err));
    CHECK_INT(err.status, 404);
    CHECK(put(conn, WRITE_DELETE, id, 2, NULL, &out, &err));
    CHECK_INT(out.version, 3);
    CHECK(store_student_get(conn, id, &s, &err));
    CHECK(s.deleted);
    CHECK_INT(s.version, 3);
    CHECK_STR(util_get_str(&s.doc, "birth_place"), "Kazan"); /* the document, kept */
    CHECK(!put(conn, WRITE_UPDATE, id, 0, &doc, &out, &err));
    CHECK_INT(err.status, 410);
    CHECK_INT(err.code, KT_GONE);
    CHECK(!store_student_get(conn, "00000000-0000-4000-8000-000000000000", &s, &err));
    CHECK_INT(err.status, 404);
    CHECK(!store_student_get(conn, "not-an-id", &s, &err));
    CHECK_INT(err.status, 404);
    bson_destroy(&doc);
    record_release(&s);
    store_conn_push(conn);
}

static void
test_unchanged_update_and_412(void)
{
    store_conn_t *conn = store_conn_pop(store, STORE_POOL_REQUEST);
    write_result_t out;
    kt_error_t err;
    bson_t doc;
    char id[STUDENT_ID_LEN + 1];

    create(conn, "Petrova", NULL, ORG_1, NULL, id);
    student(&doc, "Petrova", NULL, ORG_1, NULL, NULL); /* the same document */
    CHECK(put(conn, WRITE_UPDATE, id, 1, &doc, &out, &err));
    CHECK(out.unchanged);
    CHECK_INT(out.version, 1);
    CHECK_INT(raw_count("SELECT count(*) FROM student_versions WHERE id = ?1", id), 1);
    CHECK_INT(raw_count("SELECT count(*) FROM changes WHERE student_id = ?1", id), 1);
    bson_destroy(&doc);
    student(&doc, "Petrova", NULL, ORG_1, NULL, "Omsk");
    CHECK(!put(conn, WRITE_UPDATE, id, 7, &doc, &out, &err));
    CHECK_INT(err.status, 412);
    CHECK_INT(err.code, KT_VERSION_CONFLICT);
    CHECK_STR(err.ref, "1");
    CHECK_INT(raw_count("SELECT count(*) FROM student_versions WHERE id = ?1", id), 1);
    bson_destroy(&doc);
    store_conn_push(conn);
}

static void
test_as_of(void)
{
    store_conn_t *conn = store_conn_pop(store, STORE_POOL_REQUEST);
    write_result_t out;
    kt_error_t err;
    record_t s;
    bson_t doc;
    char id[STUDENT_ID_LEN + 1], t1[32] = "", t2[32] = "";

    record_init(&s);
    create(conn, "Sidorova", NULL, ORG_1, NULL, id);
    CHECK(store_student_get(conn, id, &s, &err));
    snprintf(t1, sizeof t1, "%s", util_get_str(&s.record, "time"));
    usleep(5000); /* the next version gets a later millisecond stamp */
    student(&doc, "Sidorova", NULL, ORG_1, NULL, "Tomsk");
    CHECK(put(conn, WRITE_UPDATE, id, 0, &doc, &out, &err));
    CHECK(store_student_get(conn, id, &s, &err));
    snprintf(t2, sizeof t2, "%s", util_get_str(&s.record, "time"));
    CHECK(strcmp(t1, t2) < 0);
    CHECK(!store_student_as_of(conn, id, "2000-01-01T00:00:00.000Z", &s, &err));
    CHECK_INT(err.status, 404);
    CHECK(store_student_as_of(conn, id, t1, &s, &err));
    CHECK_INT(s.version, 1);
    CHECK(store_student_as_of(conn, id, t2, &s, &err));
    CHECK_INT(s.version, 2);
    CHECK(store_student_as_of(conn, id, "2999-01-01T00:00:00.000Z", &s, &err));
    CHECK_INT(s.version, 2);
    CHECK_STR(util_get_str(&s.doc, "birth_place"), "Tomsk");
    bson_destroy(&doc);
    record_release(&s);
    store_conn_push(conn);
}

static void
test_duplicates_name_the_holder(void)
{
    store_conn_t *conn = store_conn_pop(store, STORE_POOL_REQUEST);
    write_result_t out;
    kt_error_t err;
    bson_t doc;
    char a[STUDENT_ID_LEN + 1], b[STUDENT_ID_LEN + 1], holder[STUDENT_ID_LEN + 1];

    create(conn, "Holder", SNILS_A, ORG_1, "C111111", a);
    student(&doc, "Other", SNILS_A, ORG_1, NULL, NULL);
    CHECK(!put(conn, WRITE_CREATE, NULL, 0, &doc, &out, &err));
    CHECK_INT(err.status, 409);
    CHECK_INT(err.code, KT_DUPLICATE_SNILS);
    CHECK_STR(err.ref, a);
    bson_destroy(&doc);
    student(&doc, "Other", NULL, ORG_1, "c 111111", NULL); /* the same passport, spelt otherwise */
    CHECK(!put(conn, WRITE_CREATE, NULL, 0, &doc, &out, &err));
    CHECK_INT(err.code, KT_DUPLICATE_DOCUMENT);
    CHECK_STR(err.ref, a);
    bson_destroy(&doc);
    /* An update that adds a held key is refused too, and writes nothing. */
    create(conn, "Other", SNILS_B, ORG_1, NULL, b);
    student(&doc, "Other", SNILS_A, ORG_1, NULL, NULL);
    CHECK(!put(conn, WRITE_UPDATE, b, 1, &doc, &out, &err));
    CHECK_INT(err.code, KT_DUPLICATE_SNILS);
    CHECK_STR(err.ref, a);
    CHECK(store_claim_holder(conn, "snils:" SNILS_B, holder, &err));
    CHECK_STR(holder, b); /* the refused write kept b's own key */
    CHECK(store_claim_holder(conn, "snils:" SNILS_A, holder, &err));
    CHECK_STR(holder, a);
    CHECK(store_claim_holder(conn, "snils:" SNILS_C, holder, &err));
    CHECK_STR(holder, "");
    bson_destroy(&doc);
    /* Both go, so that later tests may use the keys. */
    CHECK(put(conn, WRITE_DELETE, a, 0, NULL, &out, &err));
    CHECK(put(conn, WRITE_DELETE, b, 0, NULL, &out, &err));
    store_conn_push(conn);
}

static void
test_keys_released_on_change_and_delete(void)
{
    store_conn_t *conn = store_conn_pop(store, STORE_POOL_REQUEST);
    write_result_t out;
    kt_error_t err;
    bson_t doc;
    char a[STUDENT_ID_LEN + 1], b[STUDENT_ID_LEN + 1], c[STUDENT_ID_LEN + 1];
    char holder[STUDENT_ID_LEN + 1];

    create(conn, "Changer", SNILS_A, ORG_1, "D222222", a);
    student(&doc, "Changer", SNILS_B, ORG_1, NULL, NULL); /* СНИЛС changed, passport dropped */
    CHECK(put(conn, WRITE_UPDATE, a, 1, &doc, &out, &err));
    bson_destroy(&doc);
    create(conn, "Taker", SNILS_A, ORG_1, "D222222", b);
    CHECK(b[0] != '\0');
    CHECK(store_claim_holder(conn, "snils:" SNILS_A, holder, &err));
    CHECK_STR(holder, b);
    CHECK(put(conn, WRITE_DELETE, b, 0, NULL, &out, &err));
    CHECK(store_claim_holder(conn, "snils:" SNILS_A, holder, &err));
    CHECK_STR(holder, "");
    create(conn, "Next", SNILS_A, ORG_1, "D222222", c);
    CHECK(c[0] != '\0');
    CHECK_INT(raw_count("SELECT count(*) FROM claims WHERE id = ?1", b), 0);
    CHECK_INT(raw_count("SELECT count(*) FROM claims WHERE id = ?1", c), 2);
    CHECK(put(conn, WRITE_DELETE, a, 0, NULL, &out, &err));
    CHECK(put(conn, WRITE_DELETE, c, 0, NULL, &out, &err));
    store_conn_push(conn);
}

/* All ids of find_ids(filter) in pages of `page`, into all. */
static int
find_all(store_conn_t *conn, const store_kind_t *kind, const bson_t *filter, int page,
         char (*all)[40], int max)
{
    char ids[8][40];
    char after[40] = "";
    int n = 0, total = 0;
    kt_error_t err;

    do {
        kt_error_clear(&err);
        bool ok =
            store_record_find_ids(conn, kind, filter, after[0] ? after : NULL, page, ids, &n, &err);
        CHECK(ok);
        if (!ok)
            fprintf(stderr, "find_ids: %s\n", err.message);
        for (int i = 0; i < n && total < max; i++)
            memcpy(all[total++], ids[i], sizeof ids[i]);
        if (n > 0)
            memcpy(after, ids[n - 1], sizeof after);
    } while (n == page);
    return total;
}

static int
cmp_ids(const void *a, const void *b)
{
    return strcmp(a, b);
}

static void
test_find_ids_pages_over_several_members(void)
{
    store_conn_t *conn = store_conn_pop(store, STORE_POOL_REQUEST);
    char want[8][40], got[16][40], gone[STUDENT_ID_LEN + 1], other[STUDENT_ID_LEN + 1];
    bson_t filter = BSON_INITIALIZER;
    write_result_t out;
    kt_error_t err;
    int n;

    for (int i = 0; i < 5; i++)
        create(conn, "Pager", NULL, "1111111111111", NULL, want[i]);
    create(conn, "Pager", NULL, "2222222222222", NULL, other);    /* another school */
    create(conn, "Pagerova", NULL, "1111111111111", NULL, other); /* another name */
    create(conn, "Pager", NULL, "1111111111111", NULL, gone);
    CHECK(put(conn, WRITE_DELETE, gone, 0, NULL, &out, &err)); /* not active: not listed */
    qsort(want, 5, sizeof want[0], cmp_ids);
    BSON_APPEND_UTF8(&filter, "organization", "1111111111111");
    BSON_APPEND_UTF8(&filter, "name_key", "Pager|Anna|2015-03-14");
    n = find_all(conn, &store_kind_student, &filter, 2, got, 16);
    CHECK_INT(n, 5);
    for (int i = 0; i < n && i < 5; i++)
        CHECK_STR(got[i], want[i]);
    bson_destroy(&filter);
    bson_init(&filter);
    BSON_APPEND_UTF8(&filter, "organization", "1111111111111");
    CHECK_INT(find_all(conn, &store_kind_student, &filter, 3, got, 16), 6);
    BSON_APPEND_UTF8(&filter, "name_key", "Nobody||");
    CHECK_INT(find_all(conn, &store_kind_student, &filter, 3, got, 16), 0);
    bson_destroy(&filter);
    bson_init(&filter);
    BSON_APPEND_INT32(&filter, "organization", 5); /* not a string: a clear 400 */
    kt_error_clear(&err);
    CHECK(!store_record_find_ids(conn, &store_kind_student, &filter, NULL, 3, got, &n, &err));
    CHECK_INT(err.status, 500); /* a caller's bug: handlers never ask */
    bson_destroy(&filter);
    store_conn_push(conn);
}

/* A valid ОГРН from 12 digits: the check digit is their value mod 11 mod 10. */
static void
ogrn(const char *base12, char out[14])
{
    long long v = 0;

    for (int i = 0; i < 12; i++)
        v = v * 10 + (base12[i] - '0');
    snprintf(out, 14, "%s%lld", base12, v % 11 % 10);
}

static void
organization(bson_t *doc, const char *oktmo, const char *type)
{
    bson_init(doc);
    BSON_APPEND_UTF8(doc, "name", "School");
    BSON_APPEND_UTF8(doc, "oktmo", oktmo);
    BSON_APPEND_UTF8(doc, "type", type);
    BSON_APPEND_UTF8(doc, "status", "ACTIVE");
}

static void
test_organizations_named_ids_and_filters(void)
{
    store_conn_t *conn = store_conn_pop(store, STORE_POOL_REQUEST);
    const char *bases[] = {"102770000001", "102770000002", "102770000003", "102770000004"};
    char ids[4][14], got[8][40];
    bson_t doc, filter = BSON_INITIALIZER;
    write_result_t out;
    kt_error_t err;

    for (int i = 0; i < 4; i++) {
        ogrn(bases[i], ids[i]);
        organization(&doc, i < 3 ? "45000000" : "46000000", i < 2 ? "SCHOOL" : "COLLEGE");
        kt_error_clear(&err);
        CHECK(store_record_write(conn, &store_kind_organization, WRITE_CREATE, ids[i], 0, &doc,
                                 &meta, &out, &err));
        CHECK_STR(out.id, ids[i]);
        bson_destroy(&doc);
    }
    organization(&doc, "45000000", "SCHOOL");
    kt_error_clear(&err);
    CHECK(!store_record_write(conn, &store_kind_organization, WRITE_CREATE, ids[0], 0, &doc, &meta,
                              &out, &err));
    CHECK_INT(err.code, KT_DUPLICATE_OGRN);
    CHECK_STR(err.ref, ids[0]);
    bson_destroy(&doc);
    BSON_APPEND_UTF8(&filter, "oktmo", "45000000");
    BSON_APPEND_UTF8(&filter, "type", "COLLEGE");
    BSON_APPEND_UTF8(&filter, "status", "ACTIVE");
    CHECK_INT(find_all(conn, &store_kind_organization, &filter, 2, got, 8), 1);
    CHECK_STR(got[0], ids[2]);
    bson_destroy(&filter);
    bson_init(&filter); /* no member: every active organisation */
    CHECK_INT(find_all(conn, &store_kind_organization, &filter, 3, got, 8), 4);
    bson_destroy(&filter);
    CHECK_INT(raw_count("SELECT count(*) FROM changes WHERE student_id = ?1", ids[0]), 0);
    store_conn_push(conn);
}

typedef struct {
    pthread_barrier_t *start;
    int index;
    bool ok;
    kt_error_t err;
    char id[STUDENT_ID_LEN + 1];
    int written;
    const char *target;
} worker_t;

static void *
create_same_snils(void *arg)
{
    worker_t *w = arg;
    store_conn_t *conn = store_conn_pop(store, STORE_POOL_BATCH);
    write_result_t out;
    bson_t doc;

    student(&doc, "Racer", SNILS_C, ORG_2, NULL, NULL);
    pthread_barrier_wait(w->start);
    w->ok = put(conn, WRITE_CREATE, NULL, 0, &doc, &out, &w->err);
    snprintf(w->id, sizeof w->id, "%s", out.id);
    bson_destroy(&doc);
    store_conn_push(conn);
    return NULL;
}

static void
test_concurrent_creates_of_one_snils(void)
{
    pthread_barrier_t start;
    pthread_t tids[THREADS];
    worker_t w[THREADS];
    int won = -1, wins = 0;

    pthread_barrier_init(&start, NULL, THREADS);
    for (int i = 0; i < THREADS; i++) {
        w[i] = (worker_t){.start = &start, .index = i};
        pthread_create(&tids[i], NULL, create_same_snils, &w[i]);
    }
    for (int i = 0; i < THREADS; i++)
        pthread_join(tids[i], NULL);
    pthread_barrier_destroy(&start);
    for (int i = 0; i < THREADS; i++)
        if (w[i].ok) {
            wins++;
            won = i;
        }
    CHECK_INT(wins, 1);
    for (int i = 0; won >= 0 && i < THREADS; i++) {
        if (i == won)
            continue;
        CHECK_INT(w[i].err.code, KT_DUPLICATE_SNILS);
        CHECK_STR(w[i].err.ref, w[won].id);
    }
    CHECK_INT(raw_count("SELECT count(*) FROM student_versions WHERE record IS NOT NULL AND id IN"
                        " (SELECT id FROM claims WHERE key = ?1)",
                        "snils:" SNILS_C),
              1);
}

/* Updates target PER_THREAD times with If-Match, re-reading on 412. */
static void *
update_with_if_match(void *arg)
{
    worker_t *w = arg;
    store_conn_t *conn = store_conn_pop(store, STORE_POOL_BATCH);
    char place[32];
    record_t s;

    record_init(&s);
    pthread_barrier_wait(w->start);
    for (int i = 0; w->written < PER_THREAD && i < 100000; i++) {
        write_result_t out;
        bson_t doc;
        if (!store_student_get(conn, w->target, &s, &w->err))
            break;
        snprintf(place, sizeof place, "t%d-%d", w->index, w->written);
        student(&doc, "Contended", NULL, ORG_2, NULL, place);
        bool ok = put(conn, WRITE_UPDATE, w->target, s.version, &doc, &out, &w->err);
        bson_destroy(&doc);
        if (ok)
            w->written++;
        else if (w->err.code != KT_VERSION_CONFLICT)
            break;
    }
    record_release(&s);
    store_conn_push(conn);
    return NULL;
}

static void
test_concurrent_if_match_loses_no_version(void)
{
    store_conn_t *conn = store_conn_pop(store, STORE_POOL_REQUEST);
    pthread_barrier_t start;
    pthread_t tids[THREADS];
    worker_t w[THREADS];
    char id[STUDENT_ID_LEN + 1], problem[256];
    long versions = 0;
    bool lags = true;
    int64_t bad = -1, total = 1;
    kt_error_t err;
    record_t s;

    record_init(&s);
    create(conn, "Contended", NULL, ORG_2, NULL, id);
    pthread_barrier_init(&start, NULL, THREADS);
    for (int i = 0; i < THREADS; i++) {
        w[i] = (worker_t){.start = &start, .index = i, .target = id};
        pthread_create(&tids[i], NULL, update_with_if_match, &w[i]);
    }
    for (int i = 0; i < THREADS; i++)
        pthread_join(tids[i], NULL);
    pthread_barrier_destroy(&start);
    for (int i = 0; i < THREADS; i++) {
        CHECK_INT(w[i].written, PER_THREAD);
        total += w[i].written;
    }
    CHECK(store_student_get(conn, id, &s, &err));
    CHECK_INT(s.version, total);
    CHECK_INT(raw_count("SELECT count(DISTINCT version) FROM student_versions WHERE id = ?1", id),
              total);
    CHECK_INT(raw_count("SELECT max(version) FROM student_versions WHERE id = ?1", id), total);
    CHECK_INT(raw_count("SELECT count(*) FROM changes WHERE student_id = ?1", id), total);
    kt_error_clear(&err);
    CHECK(verify_student(conn, id, &versions, &lags, &bad, problem, &err));
    CHECK_INT(versions, total);
    CHECK_STR(problem, "");
    CHECK(!lags);
    record_release(&s);
    store_conn_push(conn);
}

#ifdef KT_FAULT_INJECTION
/* The worker dies right before COMMIT: nothing of the write is there. */
static void
test_crash_before_commit_leaves_nothing(void)
{
    store_conn_t *conn = store_conn_pop(store, STORE_POOL_REQUEST);
    char id[STUDENT_ID_LEN + 1];
    int64_t feed_before;
    kt_error_t err;
    record_t s;
    int status = 0;
    pid_t pid;

    record_init(&s);
    create(conn, "Crasher", SNILS_B, ORG_1, NULL, id);
    feed_before = raw_count("SELECT count(*) FROM changes", NULL);
    fflush(NULL);
    if ((pid = fork()) == 0) { /* a store of its own: connections do not cross fork */
        store_t *child = store_new(&(store_options_t){.sqlite_path = path}, &err);
        store_conn_t *c = store_conn_pop(child, STORE_POOL_REQUEST);
        write_meta_t m = meta;
        write_result_t out;
        bson_t doc;
        m.fault = "crash-after-version";
        student(&doc, "Crasher", SNILS_A, ORG_1, NULL, "never");
        store_student_write(c, WRITE_UPDATE, id, 1, &doc, &m, &out, &err);
        _exit(3); /* not reached in a fault-injection build */
    }
    CHECK(waitpid(pid, &status, 0) == pid);
    CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    CHECK(store_student_get(conn, id, &s, &err));
    CHECK_INT(s.version, 1);
    CHECK_INT(raw_count("SELECT version FROM students WHERE id = ?1", id), 1);
    CHECK_INT(raw_count("SELECT count(*) FROM changes", NULL), feed_before);
    CHECK_INT(raw_count("SELECT count(*) FROM claims WHERE key = ?1", "snils:" SNILS_A), 0);
    CHECK_INT(raw_count("SELECT count(*) FROM claims WHERE id = ?1", id), 1);
    write_result_t out;
    CHECK(put(conn, WRITE_DELETE, id, 0, NULL, &out, &err)); /* the lock is free again */
    record_release(&s);
    store_conn_push(conn);
}
#endif

/* A writer holds the write lock past the health pool's wait: 503. */
static void
test_busy_is_503(void)
{
    store_conn_t *conn = store_conn_pop(store, STORE_POOL_HEALTH);
    sqlite3 *db = NULL;
    write_result_t out;
    kt_error_t err;
    bson_t doc;

    CHECK(sqlite3_open(path, &db) == SQLITE_OK);
    CHECK(sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) == SQLITE_OK);
    student(&doc, "Blocked", NULL, ORG_1, NULL, NULL);
    CHECK(!put(conn, WRITE_CREATE, NULL, 0, &doc, &out, &err));
    CHECK_INT(err.status, 503);
    CHECK_INT(err.code, KT_STORE_UNAVAILABLE);
    sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    sqlite3_close(db);
    bson_destroy(&doc);
    store_conn_push(conn);
}

/* verify_all into a string (freed by the caller). */
static char *
run_verify(store_conn_t *conn, verify_report_t *r, bool repair)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    kt_error_t err;

    kt_error_clear(&err);
    CHECK(repair ? verify_repair_all(conn, f, r, &err) : verify_all(conn, f, r, &err));
    fclose(f);
    return text;
}

/* Replaces the first `from` in version n's blob by `to` (as long). */
static void
tamper_version(const char *id, int n, const char *from, const char *to)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;

    CHECK(sqlite3_open(path, &db) == SQLITE_OK);
    sqlite3_busy_timeout(db, 10000);
    CHECK(sqlite3_prepare_v2(db,
                             "SELECT record FROM student_versions WHERE id = ?1 AND version = ?2",
                             -1, &st, NULL) == SQLITE_OK);
    sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int(st, 2, n);
    CHECK(sqlite3_step(st) == SQLITE_ROW);
    size_t len = (size_t)sqlite3_column_bytes(st, 0);
    char *blob = malloc(len);
    memcpy(blob, sqlite3_column_blob(st, 0), len);
    sqlite3_finalize(st);
    char *at = memmem(blob, len, from, strlen(from));
    CHECK(at != NULL);
    if (at != NULL)
        memcpy(at, to, strlen(to));
    CHECK(sqlite3_prepare_v2(
              db, "UPDATE student_versions SET record = ?3 WHERE id = ?1 AND version = ?2", -1, &st,
              NULL) == SQLITE_OK);
    sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int(st, 2, n);
    sqlite3_bind_blob(st, 3, blob, (int)len, SQLITE_TRANSIENT);
    CHECK(sqlite3_step(st) == SQLITE_DONE);
    sqlite3_finalize(st);
    sqlite3_close(db);
    free(blob);
}

static void
test_verify_clean_then_tampered(void)
{
    store_conn_t *conn = store_conn_pop(store, STORE_POOL_BATCH);
    char id[STUDENT_ID_LEN + 1], line[128];
    verify_report_t r;
    write_result_t out;
    kt_error_t err;
    bson_t doc, last;
    bool found = false;
    char *text;

    create(conn, "Tamperova", NULL, ORG_1, NULL, id);
    student(&doc, "Tamperova", NULL, ORG_1, NULL, "Perm");
    CHECK(put(conn, WRITE_UPDATE, id, 0, &doc, &out, &err));
    bson_destroy(&doc);
    text = run_verify(conn, &r, false);
    CHECK_INT(r.broken, 0);
    CHECK_INT(r.incomplete, 0);
    CHECK_INT(r.duplicates, 0);
    CHECK(r.students > 0 && r.organizations == 4);
    CHECK_STR(text, "");
    free(text);
    tamper_version(id, 2, "Perm", "Penm");
    text = run_verify(conn, &r, false);
    CHECK_INT(r.broken, 1);
    snprintf(line, sizeof line, "BROKEN student %s at version 2: ", id);
    CHECK(strstr(text, line) != NULL);
    free(text);
    CHECK(verify_last_run(conn, &last, &found, &err));
    CHECK(found);
    CHECK_INT(util_get_int(&last, "broken", 0), 1);
    CHECK_STR(util_get_str(&last, "broken_students.0"), id);
    bson_destroy(&last);
    tamper_version(id, 2, "Penm", "Perm"); /* put back */
    text = run_verify(conn, &r, false);
    CHECK_INT(r.broken, 0);
    free(text);
    store_conn_push(conn);
}

/* A head and a claim lost by a hand on the file: INCOMPLETE, and repair
 * rebuilds them from the versions. */
static void
test_repair_rebuilds_heads_and_claims(void)
{
    store_conn_t *conn = store_conn_pop(store, STORE_POOL_BATCH);
    char id[STUDENT_ID_LEN + 1], sql[256], line[128];
    verify_report_t r;
    char *text;

    create(conn, "Repairova", SNILS_A, ORG_1, NULL, id);
    snprintf(sql, sizeof sql,
             "DELETE FROM students WHERE id = '%s'; DELETE FROM head_keys WHERE id = '%s';"
             " DELETE FROM claims WHERE id = '%s';",
             id, id, id);
    raw_exec(sql);
    text = run_verify(conn, &r, false);
    CHECK_INT(r.incomplete, 1);
    CHECK_INT(r.broken, 0);
    snprintf(line, sizeof line, "INCOMPLETE student %s:", id);
    CHECK(strstr(text, line) != NULL);
    free(text);
    text = run_verify(conn, &r, true);
    CHECK_INT(r.repaired, 1);
    CHECK_INT(r.claims_restored, 1);
    snprintf(line, sizeof line, "REPAIRED student %s: head 0 → 1", id);
    CHECK(strstr(text, line) != NULL);
    free(text);
    text = run_verify(conn, &r, false);
    CHECK_INT(r.incomplete, 0);
    CHECK_INT(r.broken, 0);
    free(text);
    /* organization, snils, name_key and the three blocking keys */
    CHECK_INT(raw_count("SELECT count(*) FROM head_keys WHERE id = ?1", id), 6);
    CHECK_INT(raw_count("SELECT count(*) FROM claims WHERE id = ?1", id), 1);
    text = run_verify(conn, &r, true); /* nothing left to do */
    CHECK_INT(r.repaired, 0);
    CHECK_INT(r.claims_restored, 0);
    free(text);
    /* A head written before the blocking keys existed (docs/duplicates.md,
     * "Existing registries"): verify calls it incomplete, repair adds them. */
    snprintf(sql, sizeof sql, "DELETE FROM head_keys WHERE id = '%s' AND field LIKE 'dup_%%';", id);
    raw_exec(sql);
    text = run_verify(conn, &r, false);
    CHECK_INT(r.incomplete, 1);
    free(text);
    text = run_verify(conn, &r, true);
    CHECK_INT(r.repaired, 1);
    free(text);
    CHECK_INT(raw_count("SELECT count(*) FROM head_keys WHERE id = ?1 AND field LIKE 'dup_%'", id),
              3);
    store_conn_push(conn);
}

/* Appends, by hand and with a valid chain and feed entry, a version of b
 * carrying a's СНИЛС: what a bad migration could leave. verify reports the
 * duplicate from the versions; repair leaves the key to a (contested). */
static void
test_verify_finds_duplicates_in_the_versions(void)
{
    store_conn_t *conn = store_conn_pop(store, STORE_POOL_BATCH);
    char a[STUDENT_ID_LEN + 1], b[STUDENT_ID_LEN + 1], time[32], line[160];
    verify_report_t r;
    kt_error_t err;
    record_t cur;
    bson_t doc, rec;
    char *text;

    record_init(&cur);
    create(conn, "First", SNILS_C "0", ORG_1, NULL, a);
    create(conn, "Second", NULL, ORG_1, NULL, b);
    CHECK(store_student_get(conn, b, &cur, &err));
    int64_t seq = raw_count("SELECT max(seq) + 1 FROM changes", NULL);
    util_time_now(time);
    student(&doc, "Second", SNILS_C "0", ORG_1, NULL, NULL);
    record_args_t args = {.kind = &store_kind_student,
                          .id = b,
                          .version = 2,
                          .seq = seq,
                          .op = WRITE_UPDATE,
                          .time = time,
                          .doc = &doc,
                          .prev_doc = &cur.doc,
                          .prev_hash = util_get_str(&cur.record, "hash")};
    CHECK(store_build_record(&rec, &args, &meta));
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    CHECK(sqlite3_open(path, &db) == SQLITE_OK);
    CHECK(sqlite3_prepare_v2(db,
                             "INSERT INTO student_versions(id, version, time, state, seq, subject,"
                             " organization, record) VALUES(?1, 2, ?2, 'ACTIVE', ?3, 'hand', ?4,"
                             " ?5)",
                             -1, &st, NULL) == SQLITE_OK);
    sqlite3_bind_text(st, 1, b, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, time, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 3, seq);
    sqlite3_bind_text(st, 4, ORG_1, -1, SQLITE_STATIC);
    sqlite3_bind_blob(st, 5, bson_get_data(&rec), (int)rec.len, SQLITE_TRANSIENT);
    CHECK(sqlite3_step(st) == SQLITE_DONE);
    sqlite3_finalize(st);
    CHECK(sqlite3_prepare_v2(db,
                             "INSERT INTO changes(seq, student_id, version, kind, time, org)"
                             " VALUES(?1, ?2, 2, 'update', ?3, ?4)",
                             -1, &st, NULL) == SQLITE_OK);
    sqlite3_bind_int64(st, 1, seq);
    sqlite3_bind_text(st, 2, b, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 3, time, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 4, ORG_1, -1, SQLITE_STATIC);
    CHECK(sqlite3_step(st) == SQLITE_DONE);
    sqlite3_finalize(st);
    sqlite3_close(db);
    text = run_verify(conn, &r, false);
    CHECK_INT(r.duplicates, 1);
    CHECK_INT(r.broken, 0);
    CHECK_INT(r.incomplete, 1); /* b's head names version 1 */
    /* Named in the order of the walk: by id. */
    bool ab = strcmp(a, b) < 0;
    snprintf(line, sizeof line, "DUPLICATE SNILS carried by the active students %s and %s",
             ab ? a : b, ab ? b : a);
    CHECK(strstr(text, line) != NULL);
    free(text);
    text = run_verify(conn, &r, true);
    CHECK_INT(r.repaired, 1);
    CHECK_INT(r.claims_contested, 1);
    free(text);
    bson_destroy(&rec);
    bson_destroy(&doc);
    record_release(&cur);
    store_conn_push(conn);
}

int
main(void)
{
    if ((store = tmp_store_open("sqlite-records", dir, path)) == NULL)
        return 1;
    CHECK_RUN(test_create_read_update_delete);
    CHECK_RUN(test_unchanged_update_and_412);
    CHECK_RUN(test_as_of);
    CHECK_RUN(test_duplicates_name_the_holder);
    CHECK_RUN(test_keys_released_on_change_and_delete);
    CHECK_RUN(test_find_ids_pages_over_several_members);
    CHECK_RUN(test_organizations_named_ids_and_filters);
    CHECK_RUN(test_concurrent_creates_of_one_snils);
    CHECK_RUN(test_concurrent_if_match_loses_no_version);
#ifdef KT_FAULT_INJECTION
    CHECK_RUN(test_crash_before_commit_leaves_nothing);
#endif
    CHECK_RUN(test_busy_is_503);
    CHECK_RUN(test_verify_clean_then_tampered);
    CHECK_RUN(test_repair_rebuilds_heads_and_claims);
    CHECK_RUN(test_verify_finds_duplicates_in_the_versions);
    store_free(store);
    tmp_store_remove(dir);
    CHECK_MAIN_END();
}
