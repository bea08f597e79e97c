/* organizations: the registry's rules that need the store (service/organizations.h). */
#include "service/organizations.h"

#include <string.h>

#include "model/validators.h"
#include "store/organizations.h"
#include "store/records.h"
#include "store/util.h"

bool
organizations_may_write(const principal_t *p, kt_error_t *err)
{
    if (p->role == ROLE_REGION || p->role == ROLE_ADMIN)
        return true;
    kt_error_set(err, KT_DOMAIN_AUTH, KT_FORBIDDEN,
                 "only the region and administrators change the registry of organisations");
    return false;
}

/* A 422 with one field error, as the model reports its own. */
static bool
field_error(arena_t *arena, kt_error_t *err, const char *pointer, kt_code_t code, const char *msg)
{
    kt_error_set(err, KT_DOMAIN_INPUT, KT_VALIDATION,
                 "The organisation's data failed validation (1 error)");
    kt_error_add_field(err, arena, pointer, code, msg);
    return false;
}

bool
organizations_check_refs(store_conn_t *conn, arena_t *arena, const bson_t *doc, const bson_t *cur,
                         kt_error_t *err)
{
    const char *ogrn = util_get_str(doc, "ogrn");
    const char *parent = util_get_str(doc, "parent");
    const char *before = cur != NULL ? util_get_str(cur, "parent") : NULL;
    record_t p;
    kt_error_t e;

    if (cur != NULL && ogrn != NULL && strcmp(ogrn, util_get_str(cur, "ogrn") ?: "") != 0)
        return field_error(arena, err, "/ogrn", KT_FORMAT,
                           "The OGRN identifies the organisation and cannot be changed");
    if (parent == NULL || (before != NULL && strcmp(parent, before) == 0))
        return true;
    kt_error_clear(&e);
    record_init(&p);
    bool found = store_record_get(conn, &store_kind_organization, parent, &p, &e);
    record_release(&p);
    if (found)
        return true;
    if (e.code != KT_NOT_FOUND) {
        *err = e;
        return false;
    }
    return field_error(arena, err, "/parent", KT_REF_NOT_FOUND,
                       "No parent organisation with this OGRN is in the registry");
}
