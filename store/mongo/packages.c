/* packages: registrations and item results, each an insert with a unique _id. */
#include "store/mongo/mongo.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store/store.h"
#include "store/util.h"

#define PACKAGES "packages"
#define ITEMS    "package_items"
#define RECEIPTS "package_receipts"

static void
item_id(const char *key, int64_t index, char out[128])
{
    snprintf(out, 128, "%s:%08lld", key, (long long)index);
}

bool
mongo_packages_register(store_conn_t *conn, const char *key, const char *packet_id,
                        const char *hash, const principal_t *who, const char *source_system,
                        package_seen_t *seen, bson_t *existing, kt_error_t *err)
{
    bson_t doc = BSON_INITIALIZER, principal;
    char time[32];
    bool found = false;

    bson_init(existing); /* initialised on every path: the caller destroys it */
    util_time_now(time);
    BSON_APPEND_UTF8(&doc, "_id", key);
    BSON_APPEND_UTF8(&doc, "packet_id", packet_id);
    BSON_APPEND_UTF8(&doc, "hash", hash);
    BSON_APPEND_UTF8(&doc, "status", "PROCESSING");
    BSON_APPEND_UTF8(&doc, "received_at", time);
    BSON_APPEND_UTF8(&doc, "source_system", source_system);
    BSON_APPEND_DOCUMENT_BEGIN(&doc, "principal", &principal);
    BSON_APPEND_UTF8(&principal, "subject", who->subject);
    BSON_APPEND_UTF8(&principal, "role", principal_role_name(who->role));
    BSON_APPEND_UTF8(&principal, "organization", who->org);
    BSON_APPEND_UTF8(&principal, "auth", principal_method_name(who->method));
    if (who->scopes & SCOPE_HEALTH)
        BSON_APPEND_UTF8(&principal, "scope", "health");
    bson_append_document_end(&doc, &principal);
    insert_result_t rc = mongo_insert(conn, PACKAGES, &doc, err);
    bson_destroy(&doc);
    if (rc == INSERT_OK) {
        *seen = PACKAGE_NEW;
        return true;
    }
    if (rc == INSERT_FAILED)
        return false;
    bson_destroy(existing); /* util_find_id initialises it again, even when it fails */
    if (!mongo_find_id(conn, PACKAGES, key, existing, &found, err))
        return false;
    const char *stored = found ? util_get_str(existing, "hash") : NULL;
    if (stored == NULL || strcmp(stored, hash) != 0) {
        kt_error_set(err, KT_DOMAIN_INPUT, KT_DUPLICATE_PACKET,
                     "PacketID %s was received before with other content", packet_id);
        return false;
    }
    *seen = packages_has_receipt(existing) ? PACKAGE_SAME : PACKAGE_UNFINISHED;
    return true;
}

bool
mongo_packages_item_get(store_conn_t *conn, const char *key, int64_t index, bson_t *result,
                        bool *found, kt_error_t *err)
{
    char id[128];

    item_id(key, index, id);
    return mongo_find_id(conn, ITEMS, id, result, found, err);
}

bool
mongo_packages_item_put(store_conn_t *conn, const char *key, int64_t index, const bson_t *result,
                        bool *kept_existing, kt_error_t *err)
{
    char id[128];
    bson_t doc = BSON_INITIALIZER;
    bson_iter_t it;

    item_id(key, index, id);
    BSON_APPEND_UTF8(&doc, "_id", id);
    if (bson_iter_init(&it, result))
        while (bson_iter_next(&it))
            if (strcmp(bson_iter_key(&it), "_id") != 0)
                bson_append_iter(&doc, NULL, 0, &it);
    insert_result_t rc = mongo_insert(conn, ITEMS, &doc, err);
    bson_destroy(&doc);
    *kept_existing = rc == INSERT_DUPLICATE;
    return rc != INSERT_FAILED;
}

/* Rewrites the registration of key with the members of changes
 * replacing (or adding to) the stored ones. Only the package's processor
 * writes it, so read-then-replace is enough; it is a status, not a lock. */
static bool
rewrite(store_conn_t *conn, const char *key, const bson_t *changes, kt_error_t *err)
{
    bson_t current, doc = BSON_INITIALIZER;
    bson_iter_t it, probe;
    bool found, ok;

    if (!mongo_find_id(conn, PACKAGES, key, &current, &found, err))
        return false;
    if (!found) { /* as the SQLite backend: nothing is written under an unknown key */
        bson_destroy(&current);
        kt_error_set(err, KT_DOMAIN_INPUT, KT_NOT_FOUND, "no such package");
        return false;
    }
    if (bson_iter_init(&it, &current))
        while (bson_iter_next(&it))
            if (!bson_iter_init_find(&probe, changes, bson_iter_key(&it)))
                bson_append_iter(&doc, NULL, 0, &it);
    bson_concat(&doc, changes);
    ok = mongo_replace_id(conn, PACKAGES, key, &doc, err);
    bson_destroy(&current);
    bson_destroy(&doc);
    return ok;
}

static void
page_id(const char *key, int64_t page, char out[128])
{
    snprintf(out, 128, "%s:%06lld", key, (long long)page);
}

/* Writes the receipt's pages; a page left by an earlier attempt is replaced. */
static bool
put_pages(store_conn_t *conn, const char *key, const char *receipt, size_t len, size_t page_bytes,
          int64_t *pages, kt_error_t *err)
{
    *pages = 0;
    for (size_t off = 0; off < len; off += page_bytes, (*pages)++) {
        char id[128];
        bson_t doc = BSON_INITIALIZER;
        size_t part = len - off < page_bytes ? len - off : page_bytes;
        page_id(key, *pages, id);
        BSON_APPEND_UTF8(&doc, "_id", id);
        BSON_APPEND_BINARY(&doc, "data", BSON_SUBTYPE_BINARY, (const uint8_t *)receipt + off,
                           (uint32_t)part);
        bool ok = mongo_replace_id(conn, RECEIPTS, id, &doc, err);
        bson_destroy(&doc);
        if (!ok)
            return false;
    }
    return true;
}

bool
mongo_packages_finish(store_conn_t *conn, const char *key, const char *status, const bson_t *totals,
                      const char *receipt, size_t len, size_t page_bytes, kt_error_t *err)
{
    bson_t changes = BSON_INITIALIZER;
    char time[32];
    int64_t pages = 0;
    bool ok;

    if (page_bytes == 0)
        page_bytes = PACKAGES_PAGE_DEFAULT;
    if (!put_pages(conn, key, receipt, len, page_bytes, &pages, err)) {
        bson_destroy(&changes);
        return false;
    }
    util_time_now(time);
    BSON_APPEND_UTF8(&changes, "status", status);
    BSON_APPEND_DOCUMENT(&changes, "totals", totals);
    BSON_APPEND_INT64(&changes, "receipt_pages", pages);
    BSON_APPEND_INT64(&changes, "receipt_bytes", (int64_t)len);
    BSON_APPEND_UTF8(&changes, "finished_at", time);
    ok = rewrite(conn, key, &changes, err);
    bson_destroy(&changes);
    return ok;
}

bool
mongo_packages_receipt_each(store_conn_t *conn, const bson_t *pkg, packages_piece_fn fn, void *ctx,
                            kt_error_t *err)
{
    const char *whole = util_get_str(pkg, "receipt"), *key = util_get_str(pkg, "_id");
    int64_t pages = util_get_int(pkg, "receipt_pages", 0);

    if (whole != NULL) /* stored before receipts had pages */
        return fn(ctx, whole, strlen(whole));
    for (int64_t n = 0; key != NULL && n < pages; n++) {
        char id[128];
        bson_t page;
        bson_iter_t it;
        bool found = false, ok;
        const uint8_t *bytes = NULL;
        uint32_t blen = 0;
        bson_subtype_t sub;
        page_id(key, n, id);
        if (!mongo_find_id(conn, RECEIPTS, id, &page, &found, err))
            return false;
        ok = found && bson_iter_init_find(&it, &page, "data") && BSON_ITER_HOLDS_BINARY(&it);
        if (ok) {
            bson_iter_binary(&it, &sub, &blen, &bytes);
            ok = fn(ctx, (const char *)bytes, blen);
        }
        bson_destroy(&page);
        if (!ok) {
            if (err->code == KT_OK)
                kt_error_set(err, KT_DOMAIN_STORE, KT_INTERNAL,
                             "package %s: receipt page %lld missing", key, (long long)n);
            return false;
        }
    }
    return true;
}

typedef struct {
    size_t prefix;
    packages_item_fn fn;
    void *ctx;
} items_t;

static bool
each_item(void *ctx, const bson_t *doc)
{
    items_t *t = ctx;
    const char *id = util_get_str(doc, "_id");
    char *end;
    long long index;

    if (id == NULL || strlen(id) <= t->prefix)
        return true;
    index = strtoll(id + t->prefix, &end, 10);
    if (*end != '\0') /* not an item row of this package */
        return true;
    return t->fn(t->ctx, index, doc);
}

bool
mongo_packages_items_each(store_conn_t *conn, const char *key, packages_item_fn fn, void *ctx,
                          kt_error_t *err)
{
    bson_t filter = BSON_INITIALIZER, range, opts = BSON_INITIALIZER, sort;
    char lo[128], hi[128];
    items_t t = {strlen(key) + 1, fn, ctx};
    bool ok;

    /* "<key>:" up to "<key>;" — ':' and ';' are neighbours, and item ids are
     * zero-padded, so the _id order is the item order. */
    snprintf(lo, sizeof lo, "%s:", key);
    snprintf(hi, sizeof hi, "%s;", key);
    BSON_APPEND_DOCUMENT_BEGIN(&filter, "_id", &range);
    BSON_APPEND_UTF8(&range, "$gte", lo);
    BSON_APPEND_UTF8(&range, "$lt", hi);
    bson_append_document_end(&filter, &range);
    BSON_APPEND_DOCUMENT_BEGIN(&opts, "sort", &sort);
    BSON_APPEND_INT32(&sort, "_id", 1);
    bson_append_document_end(&opts, &sort);
    ok = mongo_each(conn, ITEMS, &filter, &opts, each_item, &t, err);
    bson_destroy(&filter);
    bson_destroy(&opts);
    return ok;
}

bool
mongo_packages_get(store_conn_t *conn, const char *key, bson_t *out, kt_error_t *err)
{
    bool found = false;

    if (!mongo_find_id(conn, PACKAGES, key, out, &found, err))
        return false;
    if (!found)
        kt_error_set(err, KT_DOMAIN_INPUT, KT_NOT_FOUND, "no such package");
    return found;
}

typedef struct {
    bson_t *first;
    int n;
} found_t;

static bool
keep_first(void *ctx, const bson_t *doc)
{
    found_t *f = ctx;

    if (f->n++ == 0) {
        /* doc is the cursor's: copy it. bson_copy_to overwrites without
         * destroying, and packages_find initialised out already. */
        bson_destroy(f->first);
        bson_copy_to(doc, f->first);
    }
    return f->n < 2;
}

bool
mongo_packages_find(store_conn_t *conn, const char *packet_id, const char *org, const char *sender,
                    bson_t *out, int *n, kt_error_t *err)
{
    bson_t filter = BSON_INITIALIZER, any, one;
    found_t f = {out, 0};
    bool ok;

    bson_init(out);
    /* By the PacketID as sent; a registration of before the keys has it as _id. */
    BSON_APPEND_ARRAY_BEGIN(&filter, "$or", &any);
    BSON_APPEND_DOCUMENT_BEGIN(&any, "0", &one);
    BSON_APPEND_UTF8(&one, "packet_id", packet_id);
    bson_append_document_end(&any, &one);
    BSON_APPEND_DOCUMENT_BEGIN(&any, "1", &one);
    BSON_APPEND_UTF8(&one, "_id", packet_id);
    bson_append_document_end(&any, &one);
    bson_append_array_end(&filter, &any);
    if (org != NULL)
        BSON_APPEND_UTF8(&filter, "principal.organization", org);
    if (sender != NULL)
        BSON_APPEND_UTF8(&filter, "principal.subject", sender);
    ok = mongo_each(conn, PACKAGES, &filter, NULL, keep_first, &f, err);
    bson_destroy(&filter);
    *n = f.n;
    return ok;
}

#define CHUNKS      "package_chunks"
#define LEASES      "package_leases"
#define CHUNK_BYTES (8u << 20)

bool
mongo_packages_enqueue(store_conn_t *conn, const char *key, const char *data, size_t len,
                       kt_error_t *err)
{
    int64_t n = 0;

    for (size_t off = 0; off < len; off += CHUNK_BYTES, n++) {
        char id[128];
        bson_t doc = BSON_INITIALIZER;
        size_t part = len - off < CHUNK_BYTES ? len - off : CHUNK_BYTES;
        snprintf(id, sizeof id, "%s:%06lld", key, (long long)n);
        BSON_APPEND_UTF8(&doc, "_id", id);
        BSON_APPEND_BINARY(&doc, "data", BSON_SUBTYPE_BINARY, (const uint8_t *)data + off,
                           (uint32_t)part);
        insert_result_t rc = mongo_insert(conn, CHUNKS, &doc, err);
        bson_destroy(&doc);
        if (rc == INSERT_FAILED) /* a duplicate is a chunk stored by an earlier attempt */
            return false;
    }
    bson_t changes = BSON_INITIALIZER;
    BSON_APPEND_UTF8(&changes, "status", "INQUEUE");
    BSON_APPEND_INT64(&changes, "chunks", n);
    bool ok = rewrite(conn, key, &changes, err);
    bson_destroy(&changes);
    return ok;
}

/* items_received and items_done of a queued package (store/packages.h). */
bool
mongo_packages_progress(store_conn_t *conn, const char *key, int64_t received, int64_t done,
                        kt_error_t *err)
{
    bson_t changes = BSON_INITIALIZER;
    bool ok;

    if (received >= 0)
        BSON_APPEND_INT64(&changes, "items_received", received);
    BSON_APPEND_INT64(&changes, "items_done", done);
    ok = rewrite(conn, key, &changes, err);
    bson_destroy(&changes);
    return ok;
}

bool
mongo_packages_load(store_conn_t *conn, const char *key, char **data, size_t *len, kt_error_t *err)
{
    bson_t pkg;
    bool found;
    char *buf = NULL;
    size_t used = 0;

    *data = NULL;
    if (!mongo_find_id(conn, PACKAGES, key, &pkg, &found, err))
        return false;
    int64_t chunks = found ? util_get_int(&pkg, "chunks", 0) : 0;
    bson_destroy(&pkg);
    for (int64_t n = 0; n < chunks; n++) {
        char id[128];
        bson_t chunk;
        bson_iter_t it;
        const uint8_t *bytes = NULL;
        uint32_t blen = 0;
        bson_subtype_t sub;
        snprintf(id, sizeof id, "%s:%06lld", key, (long long)n);
        if (!mongo_find_id(conn, CHUNKS, id, &chunk, &found, err))
            goto fail;
        if (found && bson_iter_init_find(&it, &chunk, "data") && BSON_ITER_HOLDS_BINARY(&it))
            bson_iter_binary(&it, &sub, &blen, &bytes);
        char *grown = found ? realloc(buf, used + blen + 1) : NULL;
        if (grown != NULL) {
            memcpy(grown + used, bytes, blen);
            buf = grown;
            used += blen;
        }
        bson_destroy(&chunk);
        if (grown == NULL) {
            kt_error_set(err, KT_DOMAIN_STORE, KT_INTERNAL, "package %s: chunk %lld missing", key,
                         (long long)n);
            goto fail;
        }
    }
    if (buf == NULL)
        goto fail;
    buf[used] = '\0';
    *data = buf;
    *len = used;
    return true;
fail:
    if (err->code == KT_OK)
        kt_error_set(err, KT_DOMAIN_STORE, KT_INTERNAL, "package %s has no bytes", key);
    free(buf);
    return false;
}

bool
mongo_packages_chunks_drop(store_conn_t *conn, const char *key, kt_error_t *err)
{
    bson_t pkg, changes = BSON_INITIALIZER;
    bool found, ok = true;

    if (!mongo_find_id(conn, PACKAGES, key, &pkg, &found, err)) {
        bson_destroy(&changes);
        return false;
    }
    int64_t chunks = found ? util_get_int(&pkg, "chunks", 0) : 0;
    bson_destroy(&pkg);
    for (int64_t n = 0; ok && n < chunks; n++) {
        char id[128];
        snprintf(id, sizeof id, "%s:%06lld", key, (long long)n);
        ok = mongo_delete_id(conn, CHUNKS, id, err);
    }
    if (ok && chunks > 0) {
        BSON_APPEND_INT64(&changes, "chunks", 0);
        ok = rewrite(conn, key, &changes, err);
    }
    bson_destroy(&changes);
    return ok;
}

bool
mongo_packages_attempt(store_conn_t *conn, const char *key, int64_t *attempts, bool *waiting,
                       kt_error_t *err)
{
    bson_t pkg, changes = BSON_INITIALIZER;
    bool found, ok = true;

    *attempts = 0;
    if (!mongo_find_id(conn, PACKAGES, key, &pkg, &found, err)) {
        bson_destroy(&changes);
        return false;
    }
    const char *status = found ? util_get_str(&pkg, "status") : NULL;
    /* The list of waiting packages is a moment old: another worker may have
     * ended this one since. */
    *waiting = status != NULL && strcmp(status, "INQUEUE") == 0;
    *attempts = (found ? util_get_int(&pkg, "attempts", 0) : 0) + 1;
    bson_destroy(&pkg);
    if (*waiting) {
        BSON_APPEND_INT64(&changes, "attempts", *attempts);
        ok = rewrite(conn, key, &changes, err);
    }
    bson_destroy(&changes);
    return ok;
}

bool
mongo_packages_waiting(store_conn_t *conn, char (*keys)[PACKAGES_KEY_MAX], int max, int *n,
                       kt_error_t *err)
{
    bson_t filter = BSON_INITIALIZER, opts = BSON_INITIALIZER, proj, sort;
    util_strings_t found = {"_id", (char *)keys, sizeof *keys, max, 0};
    bool ok;

    BSON_APPEND_UTF8(&filter, "status", "INQUEUE");
    BSON_APPEND_DOCUMENT_BEGIN(&opts, "projection", &proj);
    BSON_APPEND_INT32(&proj, "_id", 1);
    BSON_APPEND_INT32(&proj, "received_at", 1);
    bson_append_document_end(&opts, &proj);
    /* Arrival order: the oldest first, so a package is never overtaken for good. */
    BSON_APPEND_DOCUMENT_BEGIN(&opts, "sort", &sort);
    BSON_APPEND_INT32(&sort, "received_at", 1);
    BSON_APPEND_INT32(&sort, "_id", 1);
    bson_append_document_end(&opts, &sort);
    ok = mongo_each(conn, PACKAGES, &filter, &opts, util_collect_string, &found, err);
    *n = found.n;
    bson_destroy(&filter);
    bson_destroy(&opts);
    return ok;
}

static insert_result_t
insert_lease(store_conn_t *conn, const char *key, int64_t epoch, const char *owner, int64_t ttl_ms,
             kt_error_t *err)
{
    char id[128];
    bson_t doc = BSON_INITIALIZER;
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    snprintf(id, sizeof id, "%s:%08lld", key, (long long)epoch);
    BSON_APPEND_UTF8(&doc, "_id", id);
    BSON_APPEND_UTF8(&doc, "owner", owner);
    BSON_APPEND_INT64(&doc, "expires_ms",
                      (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 + ttl_ms);
    insert_result_t rc = mongo_insert(conn, LEASES, &doc, err);
    bson_destroy(&doc);
    return rc;
}

bool
mongo_packages_lease_take(store_conn_t *conn, const char *key, const char *owner, int64_t ttl_ms,
                          int64_t *epoch, bool *taken, kt_error_t *err)
{
    int64_t last = 0, expires = 0;
    struct timespec ts;

    *taken = false;
    for (int64_t e = 1;; e++) { /* the newest epoch: leases are few per package */
        char id[128];
        bson_t doc;
        bool found;
        snprintf(id, sizeof id, "%s:%08lld", key, (long long)e);
        if (!mongo_find_id(conn, LEASES, id, &doc, &found, err))
            return false;
        if (found)
            expires = util_get_int(&doc, "expires_ms", 0);
        bson_destroy(&doc);
        if (!found)
            break;
        last = e;
    }
    clock_gettime(CLOCK_REALTIME, &ts);
    if (last > 0 && expires > (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000)
        return true; /* somebody holds it */
    insert_result_t rc = insert_lease(conn, key, last + 1, owner, ttl_ms, err);
    *taken = rc == INSERT_OK;
    *epoch = last + 1;
    return rc != INSERT_FAILED;
}

bool
mongo_packages_lease_renew(store_conn_t *conn, const char *key, const char *owner, int64_t ttl_ms,
                           int64_t *epoch, bool *kept, kt_error_t *err)
{
    insert_result_t rc = insert_lease(conn, key, *epoch + 1, owner, ttl_ms, err);

    *kept = rc == INSERT_OK;
    if (*kept)
        (*epoch)++;
    return rc != INSERT_FAILED;
}

bool
mongo_packages_lease_release(store_conn_t *conn, const char *key, const char *owner, int64_t epoch,
                             kt_error_t *err)
{
    /* Expired already (ttl 0): a duplicate means another worker moved on. */
    return insert_lease(conn, key, epoch + 1, owner, 0, err) != INSERT_FAILED;
}
