/*
 * test_sqlite_packages: the package operations of the SQLite store
 * (store/packages.h) on a database file of its own under $TMPDIR — no
 * server: registration and its idempotency, item results, receipts in
 * pages, the queue's bytes, waiting order, attempts and leases, get and find.
 * The documents are checked member for member against what the MongoDB
 * implementation stores (store/mongo/packages.c).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/copy.h"
#include "store/packages.h"
#include "store/store.h"
#include "store/util.h"
#include "tests/unit/check.h"
#include "tests/unit/tmp_store.h"

static store_t *store;
static store_conn_t *conn;
static char dir[512]; /* the test's temporary directory: its databases */

static const principal_t region = {
    .subject = "CN=region-07", .role = ROLE_REGION, .org = "", .method = AUTH_CERT};
static const principal_t school = {.subject = "school-1027700132195",
                                   .role = ROLE_SCHOOL,
                                   .org = "1027700132195",
                                   .method = AUTH_TOKEN,
                                   .scopes = SCOPE_HEALTH};

static const char hash_a[] = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
static const char hash_b[] = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";

/* Registers packet_id of who with hash: the outcome, NEW on success. */
static bool
reg(const principal_t *who, const char *packet_id, const char *hash, char key[PACKAGES_KEY_MAX],
    package_seen_t *seen, bson_t *existing, kt_error_t *err)
{
    kt_error_clear(err);
    packages_key(who, packet_id, key);
    return packages_register(conn, key, packet_id, hash, who, "TEST-01", seen, existing, err);
}

/* The top-level member names of doc, comma-separated. */
static void
members(const bson_t *doc, char *out, size_t size)
{
    bson_iter_t it;
    size_t used = 0;

    out[0] = '\0';
    if (bson_iter_init(&it, doc))
        while (bson_iter_next(&it) && used < size)
            used += (size_t)snprintf(out + used, size - used, "%s%s", used ? "," : "",
                                     bson_iter_key(&it));
}

static bool
finish(const char *key, const char *status, const char *receipt, size_t len, size_t page)
{
    bson_t totals = BSON_INITIALIZER;
    kt_error_t err;
    bool ok;

    kt_error_clear(&err);
    BSON_APPEND_INT64(&totals, "received", 3);
    BSON_APPEND_INT64(&totals, "rejected", 1);
    ok = packages_finish(conn, key, status, &totals, receipt, len, page, &err);
    if (!ok)
        fprintf(stderr, "finish: %s\n", err.message);
    bson_destroy(&totals);
    return ok;
}

static void
test_register(void)
{
    char key[PACKAGES_KEY_MAX], names[512];
    package_seen_t seen = PACKAGE_SAME;
    bson_t existing;
    kt_error_t err;

    CHECK(reg(&school, "reg-1", hash_a, key, &seen, &existing, &err));
    CHECK_INT(seen, PACKAGE_NEW);
    CHECK_INT(existing.len, 5); /* empty, initialised */
    bson_destroy(&existing);

    /* The same content again, not finished: resume it, with the registration. */
    CHECK(reg(&school, "reg-1", hash_a, key, &seen, &existing, &err));
    CHECK_INT(seen, PACKAGE_UNFINISHED);
    members(&existing, names, sizeof names);
    CHECK_STR(names, "_id,packet_id,hash,status,received_at,source_system,principal");
    CHECK_STR(util_get_str(&existing, "_id"), key);
    CHECK_STR(util_get_str(&existing, "packet_id"), "reg-1");
    CHECK_STR(util_get_str(&existing, "hash"), hash_a);
    CHECK_STR(util_get_str(&existing, "status"), "PROCESSING");
    CHECK_STR(util_get_str(&existing, "source_system"), "TEST-01");
    CHECK_INT(strlen(util_get_str(&existing, "received_at")), 24);
    CHECK_STR(util_get_str(&existing, "principal.subject"), school.subject);
    CHECK_STR(util_get_str(&existing, "principal.role"), "school");
    CHECK_STR(util_get_str(&existing, "principal.organization"), "1027700132195");
    CHECK_STR(util_get_str(&existing, "principal.auth"), "token");
    CHECK_STR(util_get_str(&existing, "principal.scope"), "health");
    bson_destroy(&existing);

    /* Other content under the same PacketID of the same sender. */
    CHECK(!reg(&school, "reg-1", hash_b, key, &seen, &existing, &err));
    CHECK_INT(err.code, KT_DUPLICATE_PACKET);
    CHECK_INT(err.status, 409);
    bson_destroy(&existing);

    /* Another sender's PacketID is its own. */
    CHECK(reg(&region, "reg-1", hash_b, key, &seen, &existing, &err));
    CHECK_INT(seen, PACKAGE_NEW);
    bson_destroy(&existing);

    /* Finished: the same content again is answered with the stored receipt. */
    packages_key(&school, "reg-1", key);
    CHECK(finish(key, "PROCESSED", "<Receipt/>", 10, 0));
    CHECK(reg(&school, "reg-1", hash_a, key, &seen, &existing, &err));
    CHECK_INT(seen, PACKAGE_SAME);
    CHECK(packages_has_receipt(&existing));
    CHECK_STR(util_get_str(&existing, "status"), "PROCESSED");
    bson_destroy(&existing);
}

static void
put(const char *key, int64_t index, const char *outcome, bool *kept)
{
    bson_t r = BSON_INITIALIZER;
    kt_error_t err;

    kt_error_clear(&err);
    BSON_APPEND_UTF8(&r, "_id", "ignored");
    BSON_APPEND_UTF8(&r, "result", outcome);
    BSON_APPEND_INT64(&r, "version", index + 1);
    CHECK(packages_item_put(conn, key, index, &r, kept, &err));
    bson_destroy(&r);
}

typedef struct {
    int64_t index[8];
    char outcome[8][16];
    int n;
} seen_items_t;

static bool
collect_item(void *ctx, int64_t index, const bson_t *result)
{
    seen_items_t *s = ctx;

    if (s->n == 8)
        return false;
    s->index[s->n] = index;
    snprintf(s->outcome[s->n++], 16, "%s", util_get_str(result, "result"));
    return true;
}

static void
test_items(void)
{
    char key[PACKAGES_KEY_MAX], other[PACKAGES_KEY_MAX], id[128];
    package_seen_t seen;
    bson_t existing, got;
    kt_error_t err;
    bool kept = true, found = true;
    seen_items_t s = {0};

    CHECK(reg(&region, "items-1", hash_a, key, &seen, &existing, &err));
    bson_destroy(&existing);
    CHECK(reg(&region, "items-10", hash_a, other, &seen, &existing, &err));
    bson_destroy(&existing);
    put(key, 2, "CREATED", &kept);
    CHECK(!kept);
    put(key, 0, "UPDATED", &kept);
    CHECK(!kept);
    put(key, 10, "REJECTED", &kept);
    put(other, 1, "CREATED", &kept); /* another package: not in key's items */
    /* An item applied twice: the first result wins and is reported. */
    put(key, 2, "REJECTED", &kept);
    CHECK(kept);

    kt_error_clear(&err);
    CHECK(packages_item_get(conn, key, 2, &got, &found, &err));
    CHECK(found);
    snprintf(id, sizeof id, "%s:00000002", key);
    CHECK_STR(util_get_str(&got, "_id"), id); /* MongoDB's item document */
    CHECK_STR(util_get_str(&got, "result"), "CREATED");
    CHECK_INT(util_get_int(&got, "version", 0), 3);
    bson_destroy(&got);
    CHECK(packages_item_get(conn, key, 1, &got, &found, &err));
    CHECK(!found);
    CHECK_INT(got.len, 5);
    bson_destroy(&got);

    CHECK(packages_items_each(conn, key, collect_item, &s, &err));
    CHECK_INT(s.n, 3);
    CHECK_INT(s.index[0], 0);
    CHECK_INT(s.index[1], 2);
    CHECK_INT(s.index[2], 10);
    CHECK_STR(s.outcome[0], "UPDATED");
    CHECK_STR(s.outcome[1], "CREATED");
    CHECK_STR(s.outcome[2], "REJECTED");
}

typedef struct {
    char data[16384];
    size_t len, largest;
    int pieces;
} pieces_t;

static bool
collect_piece(void *ctx, const char *bytes, size_t len)
{
    pieces_t *p = ctx;

    if (p->len + len > sizeof p->data)
        return false;
    memcpy(p->data + p->len, bytes, len);
    p->len += len;
    p->largest = len > p->largest ? len : p->largest;
    p->pieces++;
    return true;
}

static bool
refuse_piece(void *ctx, const char *bytes, size_t len)
{
    (void)ctx, (void)bytes, (void)len;
    return false;
}

static void
test_receipt_pages(void)
{
    char key[PACKAGES_KEY_MAX], receipt[10000], *loaded = NULL, names[512];
    package_seen_t seen;
    bson_t pkg, whole = BSON_INITIALIZER;
    kt_error_t err;
    pieces_t p = {0};
    size_t len = 0;

    for (size_t i = 0; i < sizeof receipt; i++)
        receipt[i] = (char)('a' + i % 26);
    CHECK(reg(&region, "receipt-1", hash_a, key, &seen, &pkg, &err));
    bson_destroy(&pkg);
    CHECK(finish(key, "PARTIAL", receipt, sizeof receipt, 4096));
    CHECK(packages_get(conn, key, &pkg, &err));
    members(&pkg, names, sizeof names);
    CHECK_STR(names, "_id,packet_id,hash,received_at,source_system,principal,status,totals,"
                     "receipt_pages,receipt_bytes,finished_at");
    CHECK_STR(util_get_str(&pkg, "status"), "PARTIAL");
    CHECK_INT(util_get_int(&pkg, "totals.received", 0), 3);
    CHECK_INT(util_get_int(&pkg, "receipt_pages", 0), 3);
    CHECK_INT(util_get_int(&pkg, "receipt_bytes", 0), sizeof receipt);
    CHECK(packages_receipt_each(conn, &pkg, collect_piece, &p, &err));
    CHECK_INT(p.pieces, 3);
    CHECK(p.largest <= 4096);
    CHECK_INT(p.len, sizeof receipt);
    CHECK(memcmp(p.data, receipt, sizeof receipt) == 0);
    CHECK(packages_receipt_load(conn, &pkg, &loaded, &len, &err));
    CHECK_INT(len, sizeof receipt);
    CHECK(loaded != NULL && memcmp(loaded, receipt, len) == 0 && loaded[len] == '\0');
    free(loaded);
    /* A callback that stops the walk leaves err to the caller. */
    kt_error_clear(&err);
    CHECK(!packages_receipt_each(conn, &pkg, refuse_piece, NULL, &err));
    CHECK_INT(err.code, KT_OK);
    bson_destroy(&pkg);

    /* Finished again (a retry) with a shorter receipt: no page of the first stays. */
    CHECK(finish(key, "PROCESSED", "<Receipt/>", 10, 4096));
    CHECK(packages_get(conn, key, &pkg, &err));
    CHECK_INT(util_get_int(&pkg, "receipt_pages", 0), 1);
    memset(&p, 0, sizeof p);
    CHECK(packages_receipt_each(conn, &pkg, collect_piece, &p, &err));
    CHECK_INT(p.len, 10);
    CHECK(memcmp(p.data, "<Receipt/>", 10) == 0);
    bson_destroy(&pkg);

    /* A registration that holds its receipt whole. */
    BSON_APPEND_UTF8(&whole, "_id", "legacy");
    BSON_APPEND_UTF8(&whole, "receipt", "<Old/>");
    memset(&p, 0, sizeof p);
    CHECK(packages_has_receipt(&whole));
    CHECK(packages_receipt_each(conn, &whole, collect_piece, &p, &err));
    CHECK_INT(p.pieces, 1);
    CHECK(p.len == 6 && memcmp(p.data, "<Old/>", 6) == 0);
    bson_destroy(&whole);

    /* A page that is gone is an error, not a shorter receipt. */
    bson_init(&whole);
    BSON_APPEND_UTF8(&whole, "_id", key);
    BSON_APPEND_INT64(&whole, "receipt_pages", 2);
    memset(&p, 0, sizeof p);
    kt_error_clear(&err);
    CHECK(!packages_receipt_each(conn, &whole, collect_piece, &p, &err));
    CHECK_INT(err.status, 500);
    bson_destroy(&whole);
}

static void
test_queue_bytes(void)
{
    size_t size = (8u << 20) * 2 + 12345, len = 0;
    char key[PACKAGES_KEY_MAX], *data = malloc(size), *loaded = NULL;
    package_seen_t seen;
    bson_t pkg;
    kt_error_t err;

    CHECK(data != NULL);
    if (data == NULL)
        return;
    for (size_t i = 0; i < size; i++)
        data[i] = (char)(i * 7 + i / 8191);
    CHECK(reg(&region, "queue-1", hash_a, key, &seen, &pkg, &err));
    bson_destroy(&pkg);
    CHECK(packages_enqueue(conn, key, data, size, &err));
    CHECK(packages_get(conn, key, &pkg, &err));
    CHECK_STR(util_get_str(&pkg, "status"), "INQUEUE");
    CHECK_INT(util_get_int(&pkg, "chunks", 0), 3);
    bson_destroy(&pkg);
    CHECK(packages_load(conn, key, &loaded, &len, &err));
    CHECK_INT(len, size);
    CHECK(loaded != NULL && memcmp(loaded, data, size) == 0 && loaded[len] == '\0');
    free(loaded);

    CHECK(packages_chunks_drop(conn, key, &err));
    CHECK(packages_get(conn, key, &pkg, &err));
    CHECK_INT(util_get_int(&pkg, "chunks", -1), 0);
    bson_destroy(&pkg);
    kt_error_clear(&err);
    CHECK(!packages_load(conn, key, &loaded, &len, &err));
    CHECK(loaded == NULL);
    CHECK_INT(err.status, 500);
    kt_error_clear(&err);
    CHECK(packages_chunks_drop(conn, key, &err)); /* gone already: no error */
    free(data);
}

/* Waits until the clock's millisecond moves, so that the next registration
 * arrives strictly later (received_at has milliseconds). */
static void
next_millisecond(void)
{
    char first[32], now[32];

    util_time_now(first);
    do
        util_time_now(now);
    while (strcmp(now, first) == 0);
}

static void
test_waiting_order(void)
{
    /* Arrival order is the opposite of the keys' order. */
    const char *ids[] = {"wait-c", "wait-b", "wait-a"};
    char key[3][PACKAGES_KEY_MAX], keys[4][PACKAGES_KEY_MAX], idle[PACKAGES_KEY_MAX];
    package_seen_t seen;
    bson_t pkg;
    kt_error_t err;
    int n = -1;

    for (int i = 0; i < 3; i++) {
        next_millisecond();
        CHECK(reg(&region, ids[i], hash_a, key[i], &seen, &pkg, &err));
        bson_destroy(&pkg);
        CHECK(packages_enqueue(conn, key[i], "<Packet/>", 9, &err));
    }
    CHECK(reg(&region, "wait-idle", hash_a, idle, &seen, &pkg, &err)); /* not queued */
    bson_destroy(&pkg);
    /* Packages queued by the queue test are waiting too: ours are the last. */
    char all[64][PACKAGES_KEY_MAX];
    CHECK(packages_waiting(conn, all, 64, &n, &err));
    CHECK(n >= 3);
    for (int i = 0; n >= 3 && i < 3; i++)
        CHECK_STR(all[n - 3 + i], key[i]);
    for (int i = 0; i < n; i++)
        CHECK(strcmp(all[i], idle) != 0);

    /* Bounded by max; an ended package leaves the list. */
    CHECK(packages_waiting(conn, keys, 1, &n, &err));
    CHECK_INT(n, 1);
    CHECK(finish(key[1], "PROCESSED", "<R/>", 4, 0));
    CHECK(packages_waiting(conn, all, 64, &n, &err));
    CHECK(n >= 2);
    CHECK_STR(all[n - 2], key[0]);
    CHECK_STR(all[n - 1], key[2]);
    CHECK(packages_waiting(conn, keys, 0, &n, &err));
    CHECK_INT(n, 0);
}

static void
test_attempts(void)
{
    char key[PACKAGES_KEY_MAX];
    package_seen_t seen;
    bson_t pkg;
    kt_error_t err;
    int64_t attempts = 0;
    bool waiting = false;

    CHECK(reg(&region, "attempt-1", hash_a, key, &seen, &pkg, &err));
    bson_destroy(&pkg);
    /* Not queued (processed in the request): nothing to count. */
    CHECK(packages_attempt(conn, key, &attempts, &waiting, &err));
    CHECK(!waiting);
    CHECK(packages_enqueue(conn, key, "<Packet/>", 9, &err));
    CHECK(packages_attempt(conn, key, &attempts, &waiting, &err));
    CHECK(waiting);
    CHECK_INT(attempts, 1);
    CHECK(packages_attempt(conn, key, &attempts, &waiting, &err));
    CHECK_INT(attempts, 2);
    CHECK(packages_get(conn, key, &pkg, &err));
    CHECK_INT(util_get_int(&pkg, "attempts", 0), 2);
    CHECK_STR(util_get_str(&pkg, "status"), "INQUEUE");
    bson_destroy(&pkg);
    /* Ended meanwhile: not waiting, and the count stays. */
    CHECK(finish(key, "FAILED", "<R/>", 4, 0));
    CHECK(packages_attempt(conn, key, &attempts, &waiting, &err));
    CHECK(!waiting);
    CHECK(packages_get(conn, key, &pkg, &err));
    CHECK_INT(util_get_int(&pkg, "attempts", 0), 2);
    bson_destroy(&pkg);
}

typedef struct {
    pthread_barrier_t *start;
    const char *key;
    char owner[32];
    bool ok, taken;
    int64_t epoch;
} taker_t;

/* Takes the lease on a connection of its own, as another worker would. */
static void *
take(void *arg)
{
    taker_t *t = arg;
    store_conn_t *c = store_conn_pop(store, STORE_POOL_BATCH);
    kt_error_t err;

    kt_error_clear(&err);
    pthread_barrier_wait(t->start);
    t->ok = packages_lease_take(c, t->key, t->owner, 60000, &t->epoch, &t->taken, &err);
    if (!t->ok)
        fprintf(stderr, "lease_take: %s\n", err.message);
    store_conn_push(c);
    return NULL;
}

static void
test_lease_race(void)
{
    for (int round = 0; round < 20; round++) {
        char key[64];
        pthread_barrier_t start;
        pthread_t th[2];
        taker_t t[2];

        snprintf(key, sizeof key, "race/%d", round);
        pthread_barrier_init(&start, NULL, 2);
        for (int i = 0; i < 2; i++) {
            t[i] = (taker_t){.start = &start, .key = key};
            snprintf(t[i].owner, sizeof t[i].owner, "worker-%d", i);
            pthread_create(&th[i], NULL, take, &t[i]);
        }
        for (int i = 0; i < 2; i++)
            pthread_join(th[i], NULL);
        pthread_barrier_destroy(&start);
        CHECK(t[0].ok && t[1].ok);
        CHECK_INT(t[0].taken + t[1].taken, 1);
        CHECK_INT(t[t[0].taken ? 0 : 1].epoch, 1);
    }
}

static void
test_lease_takeover(void)
{
    const char *key = "lease/1";
    int64_t a = 0, b = 0, c = 0, stale;
    bool taken = false, kept = true;
    kt_error_t err;

    kt_error_clear(&err);
    CHECK(packages_lease_take(conn, key, "worker-a", 60000, &a, &taken, &err));
    CHECK(taken);
    CHECK_INT(a, 1);
    /* Held and unexpired: nobody else takes it. */
    CHECK(packages_lease_take(conn, key, "worker-b", 60000, &b, &taken, &err));
    CHECK(!taken);
    /* The holder renews: the epoch moves on. */
    CHECK(packages_lease_renew(conn, key, "worker-a", 60000, &a, &kept, &err));
    CHECK(kept);
    CHECK_INT(a, 2);
    /* Expired (a ttl of -1 ms has passed already): b takes it over. */
    CHECK(packages_lease_renew(conn, key, "worker-a", -1, &a, &kept, &err));
    CHECK(kept);
    CHECK(packages_lease_take(conn, key, "worker-b", 60000, &b, &taken, &err));
    CHECK(taken);
    CHECK_INT(b, a + 1);
    /* a notices at its next renewal, and its epoch stays. */
    stale = a;
    CHECK(packages_lease_renew(conn, key, "worker-a", 60000, &a, &kept, &err));
    CHECK(!kept);
    CHECK_INT(a, stale);
    /* a's release leaves b's lease alone. */
    CHECK(packages_lease_release(conn, key, "worker-a", a, &err));
    CHECK(packages_lease_take(conn, key, "worker-c", 60000, &c, &taken, &err));
    CHECK(!taken);
    /* b lets go: the next take need not wait for the expiry. */
    CHECK(packages_lease_release(conn, key, "worker-b", b, &err));
    CHECK(packages_lease_take(conn, key, "worker-c", 60000, &c, &taken, &err));
    CHECK(taken);
    CHECK_INT(c, b + 2);
    /* b cannot renew what it released. */
    CHECK(packages_lease_renew(conn, key, "worker-b", 60000, &b, &kept, &err));
    CHECK(!kept);
}

/* Inside a batch (store_batch_begin) each operation is a savepoint: it
 * neither commits nor ends the batch, and the batch's end decides. */
static void
test_in_batch(void)
{
    char key[PACKAGES_KEY_MAX];
    package_seen_t seen;
    bson_t pkg, got;
    kt_error_t err;
    int64_t attempts = 0, epoch = 0;
    bool waiting = false, kept = true, found = true, taken = false;

    CHECK(reg(&region, "batch-1", hash_a, key, &seen, &pkg, &err));
    bson_destroy(&pkg);
    CHECK(packages_enqueue(conn, key, "<Packet/>", 9, &err));
    CHECK(packages_lease_take(conn, key, "worker-a", 60000, &epoch, &taken, &err));
    for (int commit = 0; commit < 2; commit++) {
        CHECK(store_batch_begin(conn, &err));
        CHECK(packages_attempt(conn, key, &attempts, &waiting, &err));
        put(key, commit, "CREATED", &kept);
        CHECK(packages_lease_renew(conn, key, "worker-a", 60000, &epoch, &kept, &err));
        CHECK(kept);
        /* Still inside the batch: a later failure undoes all of it. */
        CHECK(packages_item_get(conn, key, commit, &got, &found, &err));
        CHECK(found);
        bson_destroy(&got);
        CHECK(store_batch_end(conn, commit == 1, &err));
        CHECK(packages_item_get(conn, key, commit, &got, &found, &err));
        CHECK(found == (commit == 1));
        bson_destroy(&got);
        CHECK(packages_get(conn, key, &pkg, &err));
        CHECK_INT(util_get_int(&pkg, "attempts", 0), commit == 1 ? 1 : 0);
        bson_destroy(&pkg);
        if (commit == 0)
            epoch--; /* the undone renewal's epoch is not the lease's */
    }
    CHECK(packages_lease_renew(conn, key, "worker-a", 60000, &epoch, &kept, &err));
    CHECK(kept);
}

static void
test_get_and_find(void)
{
    char key[PACKAGES_KEY_MAX];
    package_seen_t seen;
    bson_t pkg;
    kt_error_t err;
    int n = -1;

    kt_error_clear(&err);
    CHECK(!packages_get(conn, "nobody/none", &pkg, &err));
    CHECK_INT(err.code, KT_NOT_FOUND);
    CHECK_INT(err.status, 404);
    bson_destroy(&pkg);

    CHECK(reg(&region, "find-1", hash_a, key, &seen, &pkg, &err));
    bson_destroy(&pkg);
    CHECK(reg(&school, "find-1", hash_b, key, &seen, &pkg, &err));
    bson_destroy(&pkg);
    CHECK(packages_find(conn, "find-1", NULL, NULL, &pkg, &n, &err));
    CHECK_INT(n, 2); /* several: the caller asks for a sender */
    bson_destroy(&pkg);
    CHECK(packages_find(conn, "find-1", "1027700132195", NULL, &pkg, &n, &err));
    CHECK_INT(n, 1);
    CHECK_STR(util_get_str(&pkg, "hash"), hash_b);
    bson_destroy(&pkg);
    CHECK(packages_find(conn, "find-1", NULL, "CN=region-07", &pkg, &n, &err));
    CHECK_INT(n, 1);
    CHECK_STR(util_get_str(&pkg, "hash"), hash_a);
    CHECK_STR(util_get_str(&pkg, "packet_id"), "find-1");
    bson_destroy(&pkg);
    CHECK(packages_find(conn, "find-1", "1027700132195", "CN=region-07", &pkg, &n, &err));
    CHECK_INT(n, 0);
    bson_destroy(&pkg);
    CHECK(packages_find(conn, "find-2", NULL, NULL, &pkg, &n, &err));
    CHECK_INT(n, 0);
    CHECK_INT(pkg.len, 5);
    bson_destroy(&pkg);
}

typedef struct {
    bson_t *docs[256];
    int n;
} docs_t;

static bool
keep_doc(void *ctx, const bson_t *doc)
{
    docs_t *d = ctx;

    if (d->n == 256)
        return false;
    d->docs[d->n++] = bson_copy(doc);
    return true;
}

static void
docs_free(docs_t *d)
{
    for (int i = 0; i < d->n; i++)
        bson_destroy(d->docs[i]);
    d->n = 0;
}

/* Copies set from the test's store to target (twice: the second finds every
 * row there) and reads it back: the same documents in the same order. */
static void
copy_set(store_conn_t *target, copy_set_t set)
{
    docs_t from = {0}, back = {0};
    kt_error_t err;
    bool inserted = false;

    kt_error_clear(&err);
    CHECK(store_copy_each(conn, set, keep_doc, &from, &err));
    CHECK(from.n > 0 && from.n < 256);
    for (int round = 0; round < 2; round++)
        for (int i = 0; i < from.n; i++) {
            CHECK(store_copy_put(target, set, from.docs[i], &inserted, &err));
            CHECK(inserted == (round == 0));
        }
    CHECK(store_copy_each(target, set, keep_doc, &back, &err));
    CHECK_INT(back.n, from.n);
    for (int i = 0; i < from.n && i < back.n; i++)
        CHECK(bson_equal(from.docs[i], back.docs[i]));
    docs_free(&from);
    docs_free(&back);
}

/* kontingentctl migrate's package sets (store/copy.h): MongoDB's documents
 * out of one SQLite store and into another, where the operations use them. */
static void
test_copy(void)
{
    char path[600], key[PACKAGES_KEY_MAX], *data = NULL;
    store_options_t opts = {.backend = STORE_SQLITE, .sqlite_path = path};
    store_t *other;
    store_conn_t *target;
    bson_t pkg, legacy = BSON_INITIALIZER, bad = BSON_INITIALIZER;
    kt_error_t err;
    seen_items_t s = {0};
    pieces_t p = {0};
    size_t len = 0;
    bool inserted = true;
    int n = 0;

    kt_error_clear(&err);
    snprintf(path, sizeof path, "%s/copy.db", dir);
    other = store_new(&opts, &err);
    CHECK(other != NULL);
    if (other == NULL)
        return;
    target = store_conn_pop(other, STORE_POOL_BATCH);
    CHECK(store_prepare(target, &err));
    for (copy_set_t set = COPY_PACKAGES; set <= COPY_PACKAGE_CHUNKS; set++)
        copy_set(target, set);

    packages_key(&region, "items-1", key);
    CHECK(packages_items_each(target, key, collect_item, &s, &err));
    CHECK_INT(s.n, 3);
    packages_key(&region, "receipt-1", key);
    CHECK(packages_get(target, key, &pkg, &err));
    CHECK(packages_receipt_each(target, &pkg, collect_piece, &p, &err));
    CHECK(p.len == 10 && memcmp(p.data, "<Receipt/>", 10) == 0);
    bson_destroy(&pkg);
    packages_key(&region, "wait-a", key);
    CHECK(packages_load(target, key, &data, &len, &err));
    CHECK(len == 9 && data != NULL && memcmp(data, "<Packet/>", 9) == 0);
    free(data);
    CHECK(packages_find(target, "find-1", NULL, NULL, &pkg, &n, &err));
    CHECK_INT(n, 2);
    bson_destroy(&pkg);

    /* A registration of before the keys: its PacketID is its _id. */
    BSON_APPEND_UTF8(&legacy, "_id", "legacy-1");
    BSON_APPEND_UTF8(&legacy, "hash", hash_a);
    BSON_APPEND_UTF8(&legacy, "receipt", "<Old/>");
    CHECK(store_copy_put(target, COPY_PACKAGES, &legacy, &inserted, &err));
    CHECK(inserted);
    CHECK(packages_find(target, "legacy-1", NULL, NULL, &pkg, &n, &err));
    CHECK_INT(n, 1);
    CHECK(bson_equal(&pkg, &legacy));
    bson_destroy(&pkg);
    bson_destroy(&legacy);
    /* A row that is not one: no key and number, or no bytes. */
    BSON_APPEND_UTF8(&bad, "_id", "no-number");
    CHECK(!store_copy_put(target, COPY_PACKAGE_ITEMS, &bad, &inserted, &err));
    CHECK_INT(err.status, 500);
    kt_error_clear(&err);
    CHECK(!store_copy_put(target, COPY_PACKAGE_CHUNKS, &bad, &inserted, &err));
    bson_destroy(&bad);
    store_conn_push(target);
    store_free(other);
}

int
main(void)
{
    char path[600];
    int rc;

    if ((store = tmp_store_open("sqlite-packages", dir, path)) == NULL)
        return 1;
    conn = store_conn_pop(store, STORE_POOL_BATCH);
    CHECK_RUN(test_register);
    CHECK_RUN(test_items);
    CHECK_RUN(test_receipt_pages);
    CHECK_RUN(test_queue_bytes);
    CHECK_RUN(test_waiting_order);
    CHECK_RUN(test_attempts);
    CHECK_RUN(test_lease_race);
    CHECK_RUN(test_lease_takeover);
    CHECK_RUN(test_in_batch);
    CHECK_RUN(test_get_and_find);
    CHECK_RUN(test_copy);
    store_conn_push(conn);
    store_free(store);
    rc = check_failed ? 1 : 0;
    tmp_store_remove(dir);
    printf("%d passed, %d failed\n", check_passed, check_failed);
    return rc;
}
