/*
 * education: what the event handlers share (handlers/education.c,
 * handlers/ingest.c).
 */
#ifndef KT_HANDLERS_EDUCATION_H
#define KT_HANDLERS_EDUCATION_H

#include <bson/bson.h>
#include <mongoc/mongoc.h>
#include <stdbool.h>

#include "core/error.h"

/*
 * The one place where the organisations an event names (`organization`,
 * `to_organization`) are to be looked up in the organisations registry
 * (REF_NOT_FOUND, built on the organisations branch). Both the API and
 * package items call it before applying an event. Until the registry is
 * merged, an ОГРН whose check digit is valid (the model checked it) is
 * accepted, so this returns true.
 */
bool education_event_refs(mongoc_client_t *client, const char *db, const bson_t *event,
                          kt_error_t *err);

#endif
