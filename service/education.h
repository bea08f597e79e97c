/*
 * education: an enrolment event (приказ: зачисление, перевод, отчисление, …)
 * applied to a student — the one path for POST /api/v1/students/{id}/events
 * and for the Event items of XML packages (docs/enrolment.md).
 */
#ifndef KT_SERVICE_EDUCATION_H
#define KT_SERVICE_EDUCATION_H

#include <bson/bson.h>
#include <stdbool.h>

#include "auth/principal.h"
#include "core/arena.h"
#include "core/error.h"
#include "store/records.h"

/* Every organisation the event names (organization, to_organization) must
 * be in the registry and active: 422 with REF_NOT_FOUND at the member. */
bool education_event_refs(store_conn_t *conn, arena_t *arena, const bson_t *event, kt_error_t *err);

typedef struct {
    const principal_t *who;
    const char *student_id;
    const bson_t *event; /* validated (model/education.h) */
    int64_t expected;    /* If-Match, 0: none */
    const write_meta_t *meta;
    /* NULL, or: whether cur carries this event already (a package item
     * applied by an interrupted run); then nothing is written. */
    bool (*applied)(void *ctx, const record_t *cur);
    void *ctx;
} event_post_t;

/*
 * Applies the event to the student's current version and writes the result:
 * 404 NOT_FOUND for a student the principal may not see, 403 for a role or
 * school that may not post it, 410 GONE for a deleted student (cur holds it),
 * 422 for organisations not in the registry, a model error otherwise. doc
 * (initialised, empty) receives the stored document, cur the version it was
 * based on; an event cur carries already (applied) writes nothing.
 */
bool service_student_event(store_conn_t *conn, arena_t *arena, const event_post_t *p, record_t *cur,
                           bson_t *doc, write_result_t *out, kt_error_t *err);

#endif
