/* principal: the names of roles and authentication methods, one table each. */
#include "auth/principal.h"

#include <string.h>

/* Indexed by role_t; ROLE_NONE has no name so that it can never be parsed. */
static const char *const role_names[ROLE__MAX] = {
    [ROLE_NONE] = NULL,
    [ROLE_REGION] = "region",
    [ROLE_SCHOOL] = "school",
    [ROLE_MINISTRY] = "ministry_education",
    [ROLE_AUDITOR] = "auditor",
    [ROLE_ADMIN] = "admin",
    [ROLE_MINISTRY_HEALTH] = "ministry_health",
    [ROLE_PORTAL] = "portal",
};

/* The one ministry role before the split, still accepted (docs/security.md). */
static const char legacy_ministry[] = "ministry";

static const char *const method_names[AUTH__MAX] = {
    [AUTH_NONE] = "none",
    [AUTH_TOKEN] = "token",
    [AUTH_CERT] = "certificate",
    [AUTH_LOCAL] = "local",
};

const char *
principal_role_name(role_t role)
{
    if ((unsigned)role >= ROLE__MAX)
        return NULL;
    return role_names[role];
}

role_t
principal_role_parse(const char *name)
{
    if (name == NULL)
        return ROLE_NONE;
    if (strcmp(name, legacy_ministry) == 0)
        return ROLE_MINISTRY;
    for (unsigned i = ROLE_NONE + 1; i < ROLE__MAX; i++) {
        if (strcmp(name, role_names[i]) == 0)
            return (role_t)i;
    }
    return ROLE_NONE;
}

role_t
principal_role_resolve(const char *name, unsigned scopes)
{
    /* Before the split only the health ministry had a use for the scope on a
     * ministry token; the education ministry's are issued without it. */
    if (name != NULL && strcmp(name, legacy_ministry) == 0 && (scopes & SCOPE_HEALTH) != 0)
        return ROLE_MINISTRY_HEALTH;
    return principal_role_parse(name);
}

/* Out-of-range methods read as "none" so that a log line is never NULL. */
const char *
principal_method_name(auth_method_t method)
{
    if ((unsigned)method >= AUTH__MAX)
        return method_names[AUTH_NONE];
    return method_names[method];
}

bool
principal_method_matches(auth_method_t method, const char *stored)
{
    if (stored == NULL)
        return false;
    return strcmp(stored, principal_method_name(method)) == 0 ||
           (method == AUTH_LOCAL && strcmp(stored, method_names[AUTH_NONE]) == 0);
}

const char *
principal_method_key(auth_method_t method)
{
    return method == AUTH_LOCAL ? method_names[AUTH_NONE] : principal_method_name(method);
}

bool
principal_can_see_health(const principal_t *p)
{
    if (p == NULL || (p->scopes & SCOPE_HEALTH) == 0)
        return false;
    return p->role == ROLE_MINISTRY_HEALTH || p->role == ROLE_SCHOOL || p->role == ROLE_ADMIN;
}
