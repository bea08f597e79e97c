/* organizations: the organisation kind and the reference check. */
#include "store/organizations.h"

#include <string.h>

#include "model/validators.h"
#include "store/records.h"
#include "store/util.h"

/* An ОГРН of a legal entity: 13 digits with a valid check digit. */
static bool
organization_valid_id(const char *id)
{
    return id != NULL && strlen(id) == 13 && ogrn_valid(id);
}

/* The head's members the list filters on ("" when absent). */
static void
organization_head_keys(const bson_t *doc, bson_t *head)
{
    static const char *const keys[] = {"oktmo", "type", "status", "parent", NULL};

    for (size_t i = 0; keys[i] != NULL; i++) {
        const char *v = util_get_str(doc, keys[i]);
        BSON_APPEND_UTF8(head, keys[i], v ? v : "");
    }
}

const store_kind_t store_kind_organization = {
    .name = "organization",
    .versions = "organization_versions",
    .heads = "organizations",
    .id_member = "organization_id",
    .valid_id = organization_valid_id,
    .head_keys = organization_head_keys,
    .claim_keys = NULL, /* the ОГРН is the id: version 1's unique _id keeps it unique */
    .duplicate_id = KT_DUPLICATE_OGRN,
    .feed = false,
    .logged = false,
};

bool
store_organization_active(store_conn_t *conn, const char *ogrn, bool *active, kt_error_t *err)
{
    record_t org;
    kt_error_t e;
    bool ok;

    *active = false;
    kt_error_clear(&e);
    record_init(&org);
    ok = store_record_get(conn, &store_kind_organization, ogrn, &org, &e);
    if (ok) {
        const char *status = util_get_str(&org.doc, "status");
        *active = status != NULL && strcmp(status, "ACTIVE") == 0;
    } else if (e.code == KT_NOT_FOUND) {
        ok = true;
    } else if (err != NULL) {
        *err = e;
    }
    record_release(&org);
    return ok;
}
