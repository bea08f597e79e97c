/* packages: registrations and item results, each an insert with a unique _id. */
#include "store/packages.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store/store.h"
#include "store/util.h"

#define PACKAGES "packages"
#define ITEMS    "package_items"

static void
item_id(const char *packet_id, int64_t index, char out[128])
{
    snprintf(out, 128, "%s:%08lld", packet_id, (long long)index);
}

bool
packages_register(mongoc_client_t *client, const char *db, const char *packet_id, const char *hash,
                  const principal_t *who, const char *source_system, package_seen_t *seen,
                  bson_t *existing, kt_error_t *err)
{
    bson_t doc = BSON_INITIALIZER, principal;
    char time[32];
    bool found = false;

    bson_init(existing);
    util_time_now(time);
    BSON_APPEND_UTF8(&doc, "_id", packet_id);
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
    insert_result_t rc = util_insert(client, db, PACKAGES, &doc, err);
    bson_destroy(&doc);
    if (rc == INSERT_OK) {
        *seen = PACKAGE_NEW;
        return true;
    }
    if (rc == INSERT_FAILED)
        return false;
    bson_destroy(existing);
    if (!util_find_id(client, db, PACKAGES, packet_id, existing, &found, err))
        return false;
    const char *stored = found ? util_get_str(existing, "hash") : NULL;
    if (stored == NULL || strcmp(stored, hash) != 0) {
        kt_error_set(err, KT_DOMAIN_INPUT, KT_DUPLICATE_PACKET, 409,
                     "PacketID %s was received before with other content", packet_id);
        return false;
    }
    *seen = util_get_str(existing, "receipt") != NULL ? PACKAGE_SAME : PACKAGE_UNFINISHED;
    return true;
}

bool
packages_item_get(mongoc_client_t *client, const char *db, const char *packet_id, int64_t index,
                  bson_t *result, bool *found, kt_error_t *err)
{
    char id[128];

    item_id(packet_id, index, id);
    return util_find_id(client, db, ITEMS, id, result, found, err);
}

bool
packages_item_put(mongoc_client_t *client, const char *db, const char *packet_id, int64_t index,
                  const bson_t *result, bool *kept_existing, kt_error_t *err)
{
    char id[128];
    bson_t doc = BSON_INITIALIZER;
    bson_iter_t it;

    item_id(packet_id, index, id);
    BSON_APPEND_UTF8(&doc, "_id", id);
    if (bson_iter_init(&it, result))
        while (bson_iter_next(&it))
            if (strcmp(bson_iter_key(&it), "_id") != 0)
                bson_append_iter(&doc, NULL, 0, &it);
    insert_result_t rc = util_insert(client, db, ITEMS, &doc, err);
    bson_destroy(&doc);
    *kept_existing = rc == INSERT_DUPLICATE;
    return rc != INSERT_FAILED;
}

/* Rewrites the registration of packet_id with the members of changes
 * replacing (or adding to) the stored ones. Only the package's processor
 * writes it, so read-then-replace is enough; it is a status, not a lock. */
static bool
rewrite(mongoc_client_t *client, const char *db, const char *packet_id, const bson_t *changes,
        kt_error_t *err)
{
    bson_t current, doc = BSON_INITIALIZER;
    bson_iter_t it, probe;
    bool found, ok;

    if (!util_find_id(client, db, PACKAGES, packet_id, &current, &found, err))
        return false;
    if (bson_iter_init(&it, &current))
        while (bson_iter_next(&it))
            if (!bson_iter_init_find(&probe, changes, bson_iter_key(&it)))
                bson_append_iter(&doc, NULL, 0, &it);
    bson_concat(&doc, changes);
    ok = util_replace_id(client, db, PACKAGES, packet_id, &doc, err);
    bson_destroy(&current);
    bson_destroy(&doc);
    return ok;
}

bool
packages_finish(mongoc_client_t *client, const char *db, const char *packet_id, const char *status,
                const bson_t *totals, const char *receipt, kt_error_t *err)
{
    bson_t changes = BSON_INITIALIZER;
    char time[32];
    bool ok;

    util_time_now(time);
    BSON_APPEND_UTF8(&changes, "status", status);
    BSON_APPEND_DOCUMENT(&changes, "totals", totals);
    BSON_APPEND_UTF8(&changes, "receipt", receipt);
    BSON_APPEND_UTF8(&changes, "finished_at", time);
    ok = rewrite(client, db, packet_id, &changes, err);
    bson_destroy(&changes);
    return ok;
}

bool
packages_get(mongoc_client_t *client, const char *db, const char *packet_id, bson_t *out,
             kt_error_t *err)
{
    bool found = false;

    if (!util_find_id(client, db, PACKAGES, packet_id, out, &found, err))
        return false;
    if (!found)
        kt_error_set(err, KT_DOMAIN_INPUT, KT_NOT_FOUND, 404, "no such package");
    return found;
}

#define CHUNKS      "package_chunks"
#define LEASES      "package_leases"
#define CHUNK_BYTES (8u << 20)

bool
packages_enqueue(mongoc_client_t *client, const char *db, const char *packet_id, const char *data,
                 size_t len, kt_error_t *err)
{
    int64_t n = 0;

    for (size_t off = 0; off < len; off += CHUNK_BYTES, n++) {
        char id[128];
        bson_t doc = BSON_INITIALIZER;
        size_t part = len - off < CHUNK_BYTES ? len - off : CHUNK_BYTES;
        snprintf(id, sizeof id, "%s:%06lld", packet_id, (long long)n);
        BSON_APPEND_UTF8(&doc, "_id", id);
        BSON_APPEND_BINARY(&doc, "data", BSON_SUBTYPE_BINARY, (const uint8_t *)data + off,
                           (uint32_t)part);
        insert_result_t rc = util_insert(client, db, CHUNKS, &doc, err);
        bson_destroy(&doc);
        if (rc == INSERT_FAILED) /* a duplicate is a chunk stored by an earlier attempt */
            return false;
    }
    bson_t changes = BSON_INITIALIZER;
    BSON_APPEND_UTF8(&changes, "status", "INQUEUE");
    BSON_APPEND_INT64(&changes, "chunks", n);
    bool ok = rewrite(client, db, packet_id, &changes, err);
    bson_destroy(&changes);
    return ok;
}

bool
packages_load(mongoc_client_t *client, const char *db, const char *packet_id, char **data,
              size_t *len, kt_error_t *err)
{
    bson_t pkg;
    bool found;
    char *buf = NULL;
    size_t used = 0;

    *data = NULL;
    if (!util_find_id(client, db, PACKAGES, packet_id, &pkg, &found, err))
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
        snprintf(id, sizeof id, "%s:%06lld", packet_id, (long long)n);
        if (!util_find_id(client, db, CHUNKS, id, &chunk, &found, err))
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
            kt_error_set(err, KT_DOMAIN_STORE, KT_INTERNAL, 500, "package %s: chunk %lld missing",
                         packet_id, (long long)n);
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
        kt_error_set(err, KT_DOMAIN_STORE, KT_INTERNAL, 500, "package %s has no bytes", packet_id);
    free(buf);
    return false;
}

bool
packages_waiting(mongoc_client_t *client, const char *db, char (*ids)[72], int max, int *n,
                 kt_error_t *err)
{
    bson_t filter = BSON_INITIALIZER, opts = BSON_INITIALIZER, proj;
    util_strings_t found = {"_id", (char *)ids, sizeof *ids, max, 0};
    bool ok;

    BSON_APPEND_UTF8(&filter, "status", "INQUEUE");
    BSON_APPEND_DOCUMENT_BEGIN(&opts, "projection", &proj);
    BSON_APPEND_INT32(&proj, "_id", 1);
    bson_append_document_end(&opts, &proj);
    ok = util_each(client, db, PACKAGES, &filter, &opts, util_collect_string, &found, err);
    *n = found.n;
    bson_destroy(&filter);
    bson_destroy(&opts);
    return ok;
}

static insert_result_t
insert_lease(mongoc_client_t *client, const char *db, const char *packet_id, int64_t epoch,
             const char *owner, int64_t ttl_ms, kt_error_t *err)
{
    char id[128];
    bson_t doc = BSON_INITIALIZER;
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    snprintf(id, sizeof id, "%s:%08lld", packet_id, (long long)epoch);
    BSON_APPEND_UTF8(&doc, "_id", id);
    BSON_APPEND_UTF8(&doc, "owner", owner);
    BSON_APPEND_INT64(&doc, "expires_ms",
                      (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 + ttl_ms);
    insert_result_t rc = util_insert(client, db, LEASES, &doc, err);
    bson_destroy(&doc);
    return rc;
}

bool
packages_lease_take(mongoc_client_t *client, const char *db, const char *packet_id,
                    const char *owner, int64_t ttl_ms, int64_t *epoch, bool *taken, kt_error_t *err)
{
    int64_t last = 0, expires = 0;
    struct timespec ts;

    *taken = false;
    for (int64_t e = 1;; e++) { /* the newest epoch: leases are few per package */
        char id[128];
        bson_t doc;
        bool found;
        snprintf(id, sizeof id, "%s:%08lld", packet_id, (long long)e);
        if (!util_find_id(client, db, LEASES, id, &doc, &found, err))
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
    insert_result_t rc = insert_lease(client, db, packet_id, last + 1, owner, ttl_ms, err);
    *taken = rc == INSERT_OK;
    *epoch = last + 1;
    return rc != INSERT_FAILED;
}

bool
packages_lease_renew(mongoc_client_t *client, const char *db, const char *packet_id,
                     const char *owner, int64_t ttl_ms, int64_t *epoch, bool *kept, kt_error_t *err)
{
    insert_result_t rc = insert_lease(client, db, packet_id, *epoch + 1, owner, ttl_ms, err);

    *kept = rc == INSERT_OK;
    if (*kept)
        (*epoch)++;
    return rc != INSERT_FAILED;
}
