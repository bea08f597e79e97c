/*
 * test_sqlite_duplicates: the SQLite side of the probable duplicates' pairs
 * that the contract suite does not reach — a pair's list rows follow its
 * state (an open pair is in the lists of its schools and municipalities, a
 * dismissed one in none), and `kontingentctl migrate` copies the pairs
 * (store/copy.h, COPY_DUP_PAIRS) once, keeping what the target holds.
 */
#include <bson/bson.h>
#include <string.h>

#include "store/copy.h"
#include "store/duplicates.h"
#include "store/util.h"
#include "tests/unit/check.h"
#include "tests/unit/tmp_store.h"

static void
pair_doc(bson_t *doc, const char *id, const char *state)
{
    bson_t arr;

    bson_init(doc);
    BSON_APPEND_UTF8(doc, "_id", id);
    BSON_APPEND_UTF8(doc, "a", "a");
    BSON_APPEND_UTF8(doc, "b", "b");
    BSON_APPEND_UTF8(doc, "created", "2026-09-01T10:00:00.000Z");
    BSON_APPEND_UTF8(doc, "state", state);
    BSON_APPEND_ARRAY_BEGIN(doc, "organizations", &arr);
    BSON_APPEND_UTF8(&arr, "0", "1027700132195");
    bson_append_array_end(doc, &arr);
    BSON_APPEND_ARRAY_BEGIN(doc, "municipalities", &arr);
    BSON_APPEND_UTF8(&arr, "0", "92701000");
    bson_append_array_end(doc, &arr);
}

static bool
count_one(void *ctx, const bson_t *doc)
{
    (void)doc;
    (*(int *)ctx)++;
    return true;
}

static int
listed(store_conn_t *conn, const char *field, const char *value)
{
    kt_error_t err;
    int n = 0;

    kt_error_clear(&err);
    CHECK(store_dup_pairs_list(conn, field, value, NULL, NULL, 100, count_one, &n, &err));
    return n;
}

static int
list_rows(store_conn_t *conn)
{
    return listed(conn, NULL, NULL) + listed(conn, "organization", "1027700132195") +
           listed(conn, "municipality", "92701000");
}

typedef struct {
    store_conn_t *to;
    int n, inserted;
    bool ok;
} copier_t;

static bool
copy_one(void *ctx, const bson_t *doc)
{
    copier_t *c = ctx;
    bool inserted = false;
    kt_error_t err;

    kt_error_clear(&err);
    c->ok = c->ok && store_copy_put(c->to, COPY_DUP_PAIRS, doc, &inserted, &err);
    c->n++;
    c->inserted += inserted;
    return c->ok;
}

static void
test_lists_follow_the_state_and_migrate_copies(void)
{
    char dir[512], path[600], dir2[512], path2[600];
    store_t *store = tmp_store_open("dup", dir, path);
    store_t *other = tmp_store_open("dup-copy", dir2, path2);
    store_conn_t *conn, *to;
    bool written = false;
    kt_error_t err;
    bson_t doc;

    CHECK(store != NULL && other != NULL);
    if (store == NULL || other == NULL)
        return;
    kt_error_clear(&err);
    conn = store_conn_pop(store, STORE_POOL_BATCH);
    to = store_conn_pop(other, STORE_POOL_BATCH);
    pair_doc(&doc, "11111111-1111-4111-8111-111111111111", "open");
    CHECK(store_dup_pair_put(conn, &doc, false, &written, &err) && written);
    bson_destroy(&doc);
    pair_doc(&doc, "22222222-2222-4222-8222-222222222222", "open");
    CHECK(store_dup_pair_put(conn, &doc, false, &written, &err) && written);
    bson_destroy(&doc);
    CHECK_INT(list_rows(conn), 6);
    pair_doc(&doc, "22222222-2222-4222-8222-222222222222", "dismissed");
    CHECK(store_dup_pair_put(conn, &doc, true, &written, &err) && written);
    bson_destroy(&doc);
    CHECK_INT(list_rows(conn), 3); /* the dismissed pair is in no list */
    for (int round = 0; round < 2; round++) {
        copier_t c = {.to = to, .ok = true};
        CHECK(store_copy_each(conn, COPY_DUP_PAIRS, copy_one, &c, &err));
        CHECK(c.ok);
        CHECK_INT(c.n, 2);
        CHECK_INT(c.inserted, round == 0 ? 2 : 0);
    }
    CHECK_INT(list_rows(to), 3); /* the copy lists what the source lists */
    CHECK_STR(copy_set_name(COPY_DUP_PAIRS), "dup_pairs");
    store_conn_push(conn);
    store_conn_push(to);
    store_free(store);
    store_free(other);
    tmp_store_remove(dir);
    tmp_store_remove(dir2);
}

int
main(void)
{
    CHECK_RUN(test_lists_follow_the_state_and_migrate_copies);
    CHECK_MAIN_END();
}
