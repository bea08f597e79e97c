/* organizations: the registry's rules that need the store, shared by the
 * JSON API and package items (docs/organizations.md). */
#ifndef KT_SERVICE_ORGANIZATIONS_H
#define KT_SERVICE_ORGANIZATIONS_H

#include <bson/bson.h>
#include <stdbool.h>

#include "auth/principal.h"
#include "core/arena.h"
#include "core/error.h"
#include "store/store.h"

/* region and admin write organisations; other roles get 403 FORBIDDEN. The
 * package items use it; the API routes say the same in fcgi/routes.c. */
bool organizations_may_write(const principal_t *p, kt_error_t *err);

/* On an update (cur not NULL) the ОГРН may not change (FORMAT at /ogrn); a
 * parent set or changed must name an existing organisation (REF_NOT_FOUND
 * at /parent). 422 VALIDATION, field errors in arena. */
bool organizations_check_refs(store_conn_t *conn, arena_t *arena, const bson_t *doc,
                              const bson_t *cur, kt_error_t *err);

#endif
