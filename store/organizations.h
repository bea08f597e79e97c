/*
 * organizations: the organisation kind of the versioned store (store/kind.h)
 * — the registry of schools. An organisation's id is its ОГРН; its records
 * live in organization_versions ("<ОГРН>:<10-digit version>") and its heads
 * in organizations (with oktmo, type, status, parent for the list's
 * filters). Organisations are not personal data: not in the change feed,
 * reads not access-logged (docs/organizations.md).
 */
#ifndef KT_STORE_ORGANIZATIONS_H
#define KT_STORE_ORGANIZATIONS_H

#include <stdbool.h>

#include "core/error.h"
#include "store/store.h"
#include "store/kind.h"

/* Does the organisation ogrn exist with status ACTIVE now? *active false
 * when it does not exist or is REORGANIZED or LIQUIDATED; false only on a
 * store failure. For students' (and enrolment events') references. */
bool store_organization_active(store_conn_t *conn, const char *ogrn, bool *active, kt_error_t *err);

#endif
