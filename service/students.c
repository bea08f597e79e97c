/* students: the student rules that need the store (service/students.h). */
#include "service/students.h"

#include <string.h>

#include "store/organizations.h"
#include "store/util.h"

bool
students_check_organization(store_conn_t *conn, arena_t *arena, const bson_t *doc,
                            const bson_t *cur, kt_error_t *err)
{
    const char *org = util_get_str(doc, "organization");
    const char *before = cur != NULL ? util_get_str(cur, "organization") : NULL;
    bool active = false;

    if (org == NULL || (before != NULL && strcmp(org, before) == 0))
        return true; /* kept: a later liquidation does not block other changes */
    if (!store_organization_active(conn, org, &active, err))
        return false;
    if (active)
        return true;
    kt_error_set(err, KT_DOMAIN_INPUT, KT_VALIDATION,
                 "The student's data failed validation (1 error)");
    kt_error_add_field(err, arena, "/organization", KT_REF_NOT_FOUND,
                       "No active organisation with this OGRN is in the registry");
    return false;
}
