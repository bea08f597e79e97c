/*
 * education: what the event handlers share (handlers/education.c,
 * handlers/ingest.c).
 */
#ifndef KT_HANDLERS_EDUCATION_H
#define KT_HANDLERS_EDUCATION_H

#include <bson/bson.h>
#include <bson/bson.h>
#include <stdbool.h>

#include "core/error.h"
#include "store/store.h"

/*
 * The one place where the organisations an event names (`organization`,
 * `to_organization`) are looked up in the organisations registry: each must
 * exist and be ACTIVE, else 422 VALIDATION with REF_NOT_FOUND at its
 * pointer (field error in arena). Both the API and package items call it
 * before applying an event.
 */
bool education_event_refs(store_conn_t *conn, arena_t *arena, const bson_t *event, kt_error_t *err);

#endif
