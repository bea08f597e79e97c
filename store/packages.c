/* packages: registrations and item results, each an insert with a unique _id. */
#include "store/packages.h"

#include <stdio.h>
#include <string.h>

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

bool
packages_finish(mongoc_client_t *client, const char *db, const char *packet_id, const char *status,
                const bson_t *totals, const char *receipt, kt_error_t *err)
{
    bson_t current, doc = BSON_INITIALIZER;
    bson_iter_t it;
    bool found, ok;

    if (!util_find_id(client, db, PACKAGES, packet_id, &current, &found, err))
        return false;
    if (bson_iter_init(&it, &current))
        while (bson_iter_next(&it)) {
            const char *k = bson_iter_key(&it);
            if (strcmp(k, "status") && strcmp(k, "totals") && strcmp(k, "receipt") &&
                strcmp(k, "finished_at"))
                bson_append_iter(&doc, NULL, 0, &it);
        }
    char time[32];
    util_time_now(time);
    BSON_APPEND_UTF8(&doc, "status", status);
    BSON_APPEND_DOCUMENT(&doc, "totals", totals);
    BSON_APPEND_UTF8(&doc, "receipt", receipt);
    BSON_APPEND_UTF8(&doc, "finished_at", time);
    ok = util_replace_id(client, db, PACKAGES, packet_id, &doc, err);
    bson_destroy(&current);
    bson_destroy(&doc);
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
