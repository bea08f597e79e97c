/*
 * organization: the organisation model (the registry of schools) — one
 * declared field table for the shared walker (model/fields.h);
 * docs/organizations.md lists the fields and rules.
 *
 * Input is a parsed JSON tree; output the normalised BSON document the
 * store keeps, members in table order, absent optional members omitted.
 * The server-assigned members "id" and "version" are accepted and ignored,
 * so a client may PUT back what it GOT.
 */
#ifndef KT_ORGANIZATION_H
#define KT_ORGANIZATION_H

#include <bson/bson.h>
#include <stdbool.h>

#include "core/arena.h"
#include "core/error.h"
#include "core/json.h"
#include "model/fields.h"

#define ORGANIZATION_ADDRESSES_MAX 10

/*
 * Validates body and appends the normalised fields to out (an initialised,
 * empty bson_t). today is "YYYY-MM-DD", the upper bound of dates. On failure
 * returns false, err = 422 KT_VALIDATION with the field list (in arena), and
 * out holds garbage the caller destroys.
 */
bool organization_from_json(arena_t *arena, const json_value_t *body, const char *today,
                            bson_t *out, kt_error_t *err);

/* The organisation's field table (an OBJECT row), for model/xmlio_tree.c. */
extern const field_t organization_root;

#endif
