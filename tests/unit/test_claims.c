/*
 * test_claims: a property test of the claim protocol (store/write.c,
 * docs/storage.md) against a real store. Threads create, update and delete
 * students at random over a few СНИЛС values and a few foreign documents
 * (sent in look-alike spellings that normalise to one key), all through
 * store_student_write; after every round the new duplicate-key report of
 * verify_all must find no key carried by two active students, and no chain
 * may be broken.
 *
 *   test_claims prepare   create the test database's collections (CTest runs
 *                         this first, so that scripts/lib.sh can index them)
 *   test_claims           the property test
 *
 * Needs MONGODB_URI (scripts/test exports it while FerretDB runs for the
 * unit tests); without it the test is skipped (exit 77). Knobs:
 * KT_CLAIMS_OPS (10000 operations), KT_CLAIMS_THREADS (4), KT_CLAIMS_DB
 * (kt_claims_test; dropped at the end).
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/principal.h"
#include "check.h"
#include "store/mongo/mongo.h"
#include "store/records.h"
#include "store/verify.h"

#define SKIP          77
#define SNILS_VALUES  3
#define DOC_VALUES    3
#define POOL_MAX      4096
#define SEED_STUDENTS 8
#define ROUND_OPS     2000
#define THREADS_MAX   16

static store_t *store;
static const char *db;
static principal_t admin = {.subject = "test_claims", .role = ROLE_ADMIN, .method = AUTH_TOKEN};

/* The students created and not deleted (a write may still meet one deleted
 * meanwhile: a 410). */
static char pool[POOL_MAX][STUDENT_ID_LEN + 1];
static int npool;
static pthread_mutex_t pool_lock = PTHREAD_MUTEX_INITIALIZER;

/* What the operations came to, over all threads. */
static atomic_long n_ok, n_duplicate, n_conflict, n_gone, n_other;

/* A valid СНИЛС for n < SNILS_VALUES (the store does not check: any fixed
 * 11 digits would do, these pass the model's check number too). */
static const char *
snils_for(int n)
{
    static const char *const values[SNILS_VALUES] = {"11223344595", "08765432100", "11122233344"};
    return values[n];
}

/* Spellings of foreign passport k that name one document: case, script of
 * look-alike letters, spaces, hyphens and a zero-width space. */
static void
doc_spelling(int k, unsigned *seed, const char **series, char *number, size_t size)
{
    static const char *const series_forms[] = {"AB", "АВ", "ab", "A B", "А-В", "A\u200bB"};
    static const char *const number_forms[] = {"C12345%d", "С12345%d", "c 12345%d", "C-12345-%d"};

    *series = series_forms[rand_r(seed) % 6];
    snprintf(number, size, number_forms[rand_r(seed) % 4], k);
}

static void
student_doc(bson_t *doc, unsigned *seed)
{
    char number[32];
    const char *series;
    bson_t arr, item;
    int s = (int)(rand_r(seed) % (SNILS_VALUES + 1)); /* SNILS_VALUES: none */

    bson_init(doc);
    BSON_APPEND_UTF8(doc, "last_name", "Проверкина");
    BSON_APPEND_UTF8(doc, "first_name", "Анна");
    BSON_APPEND_UTF8(doc, "birth_date", "2015-03-14");
    if (s < SNILS_VALUES)
        BSON_APPEND_UTF8(doc, "snils", snils_for(s));
    /* Half the time one of the contested documents, else one of its own. */
    int d = (int)(rand_r(seed) % (2 * DOC_VALUES));
    doc_spelling(d < DOC_VALUES ? d : 100000 + (int)(rand_r(seed) % 900000), seed, &series, number,
                 sizeof number);
    BSON_APPEND_ARRAY_BEGIN(doc, "documents", &arr);
    BSON_APPEND_DOCUMENT_BEGIN(&arr, "0", &item);
    BSON_APPEND_UTF8(&item, "type", "PASSPORT_FOREIGN");
    BSON_APPEND_UTF8(&item, "series", series);
    BSON_APPEND_UTF8(&item, "number", number);
    bson_append_document_end(&arr, &item);
    bson_append_array_end(doc, &arr);
    BSON_APPEND_UTF8(doc, "organization", "1027700132195");
}

static void
pool_add(const char *id)
{
    pthread_mutex_lock(&pool_lock);
    if (npool < POOL_MAX)
        snprintf(pool[npool++], sizeof pool[0], "%s", id);
    pthread_mutex_unlock(&pool_lock);
}

static void
pool_remove(const char *id)
{
    pthread_mutex_lock(&pool_lock);
    for (int i = 0; npool > SEED_STUDENTS && i < npool; i++) /* keep some to update */
        if (strcmp(pool[i], id) == 0) {
            memcpy(pool[i], pool[--npool], sizeof pool[0]);
            break;
        }
    pthread_mutex_unlock(&pool_lock);
}

static void
pool_pick(unsigned *seed, char *id)
{
    pthread_mutex_lock(&pool_lock);
    snprintf(id, STUDENT_ID_LEN + 1, "%s", pool[rand_r(seed) % (unsigned)npool]);
    pthread_mutex_unlock(&pool_lock);
}

static void
tally(bool ok, const kt_error_t *err)
{
    if (ok)
        n_ok++;
    else if (err->code == KT_DUPLICATE_SNILS || err->code == KT_DUPLICATE_DOCUMENT)
        n_duplicate++;
    else if (err->code == KT_VERSION_CONFLICT)
        n_conflict++;
    else if (err->code == KT_GONE)
        n_gone++;
    else {
        n_other++;
        fprintf(stderr, "unexpected: %s\n", err->message);
    }
}

/* One random operation: a create (1 in 4), a delete (1 in 20), else an update. */
static void
one_op(store_conn_t *conn, unsigned *seed)
{
    write_meta_t meta = {.principal = &admin, .request_id = "test_claims"};
    unsigned dice = rand_r(seed) % 20;
    write_op_t kind = dice < 5 ? WRITE_CREATE : dice == 5 ? WRITE_DELETE : WRITE_UPDATE;
    char id[STUDENT_ID_LEN + 1] = "";
    write_result_t out;
    kt_error_t err;
    bson_t doc;

    kt_error_clear(&err);
    student_doc(&doc, seed);
    if (kind != WRITE_CREATE)
        pool_pick(seed, id);
    bool ok = store_student_write(conn, kind, kind == WRITE_CREATE ? NULL : id, 0, &doc, &meta,
                                  &out, &err);
    if (ok && kind == WRITE_CREATE)
        pool_add(out.id);
    if (ok && kind == WRITE_DELETE)
        pool_remove(id);
    tally(ok, &err);
    bson_destroy(&doc);
}

typedef struct {
    unsigned seed;
    long ops;
} worker_t;

static void *
worker(void *arg)
{
    worker_t *w = arg;
    store_conn_t *conn = store_conn_pop(store, STORE_POOL_BATCH);

    for (long i = 0; i < w->ops; i++)
        one_op(conn, &w->seed);
    store_conn_push(conn);
    return NULL;
}

static long
env_long(const char *name, long fallback)
{
    const char *v = getenv(name);
    char *end = NULL;
    long n = v != NULL ? strtol(v, &end, 10) : 0;

    return n > 0 && end != NULL && *end == '\0' ? n : fallback;
}

/* Students without keys that the first updates work on. */
static void
seed_students(store_conn_t *conn)
{
    write_meta_t meta = {.principal = &admin, .request_id = "test_claims"};

    for (int i = 0; i < SEED_STUDENTS; i++) {
        bson_t doc = BSON_INITIALIZER;
        write_result_t out;
        kt_error_t err;
        kt_error_clear(&err);
        BSON_APPEND_UTF8(&doc, "last_name", "Проверкина");
        BSON_APPEND_UTF8(&doc, "organization", "1027700132195");
        bool ok = store_student_write(conn, WRITE_CREATE, NULL, 0, &doc, &meta, &out, &err);
        CHECK(ok);
        if (ok)
            pool_add(out.id);
        bson_destroy(&doc);
    }
}

/* verify_all's duplicate-key report and chains over what the round left. */
static void
check_store(store_conn_t *conn, long done)
{
    verify_report_t r;
    kt_error_t err;

    kt_error_clear(&err);
    bool ok = verify_all(conn, stderr, &r, &err);
    CHECK(ok);
    CHECK_INT(r.duplicates, 0);
    CHECK_INT(r.broken, 0);
    if (r.duplicates != 0)
        fprintf(stderr, "after %ld operations: %ld duplicate keys\n", done, r.duplicates);
}

static void
test_concurrent_writes_keep_keys_unique(void)
{
    long total = env_long("KT_CLAIMS_OPS", 10000);
    int threads = (int)env_long("KT_CLAIMS_THREADS", 4);
    store_conn_t *conn = store_conn_pop(store, STORE_POOL_BATCH);
    pthread_t tids[THREADS_MAX];
    worker_t w[THREADS_MAX];
    long done = 0;

    if (threads > THREADS_MAX)
        threads = THREADS_MAX;
    seed_students(conn);
    for (int round = 0; done < total; round++) {
        long per = (ROUND_OPS + threads - 1) / threads;
        for (int i = 0; i < threads; i++) {
            w[i] = (worker_t){.seed = (unsigned)(round * THREADS_MAX + i + 1), .ops = per};
            pthread_create(&tids[i], NULL, worker, &w[i]);
        }
        for (int i = 0; i < threads; i++)
            pthread_join(tids[i], NULL);
        done += per * threads;
        check_store(conn, done);
    }
    store_conn_push(conn);
    printf("%ld operations: %ld written, %ld duplicate, %ld version conflict, %ld gone, %ld "
           "other\n",
           done, (long)n_ok, (long)n_duplicate, (long)n_conflict, (long)n_gone, (long)n_other);
    CHECK(done >= total);
    CHECK_INT(n_other, 0);
    /* The random writes did contend for the keys, and some of them won. */
    CHECK(n_duplicate > 0);
    CHECK(n_ok > SEED_STUDENTS);
}

static bool
drop_database(void)
{
    store_conn_t *conn = store_conn_pop(store, STORE_POOL_BATCH);
    mongoc_database_t *d = mongo_database(conn);
    bson_error_t error;
    bool ok = mongoc_database_drop(d, &error) || error.code == 26; /* 26: no such namespace */

    mongoc_database_destroy(d);
    store_conn_push(conn);
    return ok;
}

int
main(int argc, char **argv)
{
    const char *uri = getenv("MONGODB_URI");
    store_conn_t *conn;
    kt_error_t err;
    bool ok;

    db = getenv("KT_CLAIMS_DB") ? getenv("KT_CLAIMS_DB") : "kt_claims_test";
    if (uri == NULL || uri[0] == '\0') {
        fprintf(stderr, "test_claims: MONGODB_URI is not set: skipped (it needs a store)\n");
        return SKIP;
    }
    mongoc_init();
    kt_error_clear(&err);
    if ((store = store_new(
             &(store_options_t){.backend = STORE_MONGODB, .mongodb_uri = uri, .db_name = db},
             &err)) == NULL) {
        fprintf(stderr, "test_claims: %s\n", err.message);
        return 1;
    }
    if (argc == 2 && strcmp(argv[1], "prepare") == 0) {
        conn = store_conn_pop(store, STORE_POOL_BATCH);
        ok = drop_database() && store_prepare(conn, &err);
        store_conn_push(conn);
        if (!ok)
            fprintf(stderr, "test_claims prepare: %s\n", err.message);
        store_free(store);
        return ok ? 0 : 1;
    }
    CHECK_RUN(test_concurrent_writes_keep_keys_unique);
    drop_database();
    store_free(store);
    mongoc_cleanup();
    CHECK_MAIN_END();
}
