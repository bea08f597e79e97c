/* education: an enrolment event applied to a student (service/education.h). */
#include "service/education.h"

#include <string.h>

#include "model/education.h"
#include "service/write.h"
#include "store/organizations.h"
#include "store/util.h"

/* One organisation an event names (member name) must be in the registry and
 * active; otherwise REF_NOT_FOUND at /name. */
static bool
event_ref(store_conn_t *conn, arena_t *arena, const bson_t *event, const char *name,
          kt_error_t *err)
{
    const char *ogrn = util_get_str(event, name);
    bool active = false;

    if (ogrn == NULL)
        return true;
    if (!store_organization_active(conn, ogrn, &active, err))
        return false;
    if (active)
        return true;
    kt_error_set(err, KT_DOMAIN_INPUT, KT_VALIDATION, "The event failed validation (1 error)");
    kt_error_add_field(err, arena, name[0] == 't' ? "/to_organization" : "/organization",
                       KT_REF_NOT_FOUND,
                       "No active organisation with this OGRN is in the registry");
    return false;
}

bool
education_event_refs(store_conn_t *conn, arena_t *arena, const bson_t *event, kt_error_t *err)
{
    return event_ref(conn, arena, event, "organization", err) &&
           event_ref(conn, arena, event, "to_organization", err);
}

typedef struct {
    store_conn_t *conn;
    arena_t *arena;
    const event_post_t *p;
} event_ctx_t;

/* The current version, for a principal that may post this event on it
 * (404 keeps others' students unknown). */
static bool
load(void *ctx, const char *id, record_t *cur, kt_error_t *err)
{
    event_ctx_t *e = ctx;
    kt_code_t code;

    if (!store_student_get(e->conn, id, cur, err))
        return false;
    code = education_may_post(e->arena, e->p->who, &cur->doc, util_get_str(e->p->event, "type"));
    if (code == KT_NOT_FOUND)
        kt_error_set(err, KT_DOMAIN_INPUT, KT_NOT_FOUND, "no such student");
    else if (code != KT_OK)
        kt_error_set(err, KT_DOMAIN_AUTH, code, "this role may not post education events");
    return code == KT_OK;
}

/* The student's document with the event applied; an event the student
 * carries already (applied by an interrupted package run) is the document
 * as it is, which the store writes as nothing. */
static bool
compose(void *ctx, const record_t *cur, bson_t *doc, kt_error_t *err)
{
    event_ctx_t *e = ctx;
    education_outcome_t outcome;
    const char *pointer = NULL;

    if (e->p->applied != NULL && e->p->applied(e->p->ctx, cur)) {
        bson_concat(doc, &cur->doc);
        return true;
    }
    if (!education_event_refs(e->conn, e->arena, e->p->event, err) ||
        !education_apply(e->arena, &cur->doc, e->p->event, doc, &outcome, err))
        return false;
    if (education_may_apply(e->p->who, e->p->event, &outcome, &pointer) == KT_OK)
        return true;
    kt_error_set(err, KT_DOMAIN_AUTH, KT_FORBIDDEN,
                 "a school may only post events of its own organisation");
    kt_error_add_field(err, e->arena, pointer, KT_FORBIDDEN, NULL);
    return false;
}

bool
service_student_event(store_conn_t *conn, arena_t *arena, const event_post_t *p, record_t *cur,
                      bson_t *doc, write_result_t *out, kt_error_t *err)
{
    event_ctx_t e = {conn, arena, p};
    service_update_t u = {
        .kind = &store_kind_student,
        .id = p->student_id,
        .expected = p->expected,
        .meta = p->meta,
        .load = load,
        .compose = compose,
        .ctx = &e,
    };

    return service_update(conn, &u, cur, doc, out, err);
}
