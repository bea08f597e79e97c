/* students: the student rules that need the store, shared by the JSON API
 * and package items. */
#ifndef KT_SERVICE_STUDENTS_H
#define KT_SERVICE_STUDENTS_H

#include <bson/bson.h>
#include <stdbool.h>

#include "core/arena.h"
#include "core/error.h"
#include "store/store.h"

/* A student document's organisation must be an existing, active one when
 * it is set (cur NULL: a create) or changed from cur's; an update that keeps
 * it passes even if it was liquidated since. Otherwise 422 VALIDATION with
 * REF_NOT_FOUND at /organization (field error in arena). */
bool students_check_organization(store_conn_t *conn, arena_t *arena, const bson_t *doc,
                                 const bson_t *cur, kt_error_t *err);

#endif
