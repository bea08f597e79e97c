/*
 * education: POST /api/v1/students/{id}/events (an education event, one new
 * student version) and GET /api/v1/students/{id}/trajectory. The rules are
 * the model's (model/education.h); this file decides who may post what and
 * writes through store_student_write like every other change.
 *
 * Access (docs/enrolment.md): region and admin post any event; a school
 * posts events on its own students, opens episodes only at itself and
 * changes only its own episodes; the school a student was transferred out
 * to (transfer_to of the last main episode) may post its TRANSFER_IN.
 * Ministry and auditor may not post (403, by the route table in
 * fcgi/routes.c). Others' students are 404.
 */
#include <string.h>

#include "handlers/common.h"
#include "handlers/healthdata.h"
#include "handlers/education.h"
#include "handlers/handlers.h"
#include "handlers/records.h"
#include "handlers/students.h"
#include "model/education.h"
#include "model/validators.h"
#include "store/audit.h"
#include "store/organizations.h"
#include "store/records.h"
#include "store/util.h"

#define EVENT_WRITE_RETRIES 5

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
    kt_error_set(err, KT_DOMAIN_INPUT, KT_VALIDATION, 422,
                 "Событие не прошло проверку (ошибок: 1)");
    kt_error_add_field(err, arena, name[0] == 't' ? "/to_organization" : "/organization",
                       KT_REF_NOT_FOUND,
                       "Организации с таким ОГРН нет в реестре или она не действует");
    return false;
}

bool
education_event_refs(store_conn_t *conn, arena_t *arena, const bson_t *event, kt_error_t *err)
{
    return event_ref(conn, arena, event, "organization", err) &&
           event_ref(conn, arena, event, "to_organization", err);
}

/* The model's access rule as an error (404 keeps others' students unknown). */
static bool
may_post(request_t *req, const bson_t *student, const char *type, kt_error_t *err)
{
    kt_code_t code = education_may_post(req->arena, &req->principal, student, type);

    if (code == KT_NOT_FOUND)
        kt_error_set(err, KT_DOMAIN_INPUT, KT_NOT_FOUND, 404, "no such student");
    else if (code != KT_OK)
        kt_error_set(err, KT_DOMAIN_AUTH, code, 403, "this role may not post education events");
    return code == KT_OK;
}

static bool
may_apply(request_t *req, const bson_t *event, const education_outcome_t *o, kt_error_t *err)
{
    const char *pointer = NULL;

    if (education_may_apply(&req->principal, event, o, &pointer) == KT_OK)
        return true;
    kt_error_set(err, KT_DOMAIN_AUTH, KT_FORBIDDEN, 403,
                 "a school may only post events of its own organisation");
    kt_error_add_field(err, req->arena, pointer, KT_FORBIDDEN, NULL);
    return false;
}

static void
answer_version(request_t *req, response_t *res, int status, const write_result_t *out,
               const bson_t *doc)
{
    jw_t w;

    response_reset(res, status, "application/json");
    handler_etag(req, res, out->version);
    jw_init(&w, &res->body);
    students_write_json(&w, out->id, out->version, false, doc);
}

/* One attempt: read, check, apply, write. */
static bool
post_once(const app_t *app, store_conn_t *conn, request_t *req, response_t *res,
          const bson_t *event, const write_meta_t *meta, int64_t expected, kt_error_t *err)
{
    bson_t doc = BSON_INITIALIZER;
    education_outcome_t outcome;
    write_result_t out;
    record_t cur;
    bool ok = false;

    record_init(&cur);
    if (!store_student_get(conn, req->params[0], &cur, err) ||
        !may_post(req, &cur.doc, util_get_str(event, "type"), err))
        goto done;
    if (cur.deleted) {
        ok = records_answer_gone(req, res, &cur, err);
        goto done;
    }
    if (!education_event_refs(conn, req->arena, event, err) ||
        !education_apply(req->arena, &cur.doc, event, &doc, &outcome, err) ||
        !may_apply(req, event, &outcome, err))
        goto done;
    if (!store_student_write(conn, WRITE_UPDATE, cur.id, expected ? expected : cur.version, &doc,
                             meta, &out, err))
        goto done;
    /* The answer never carries the health block (removed without opening it,
     * docs/health.md); a read shows it to who may see it. */
    static const principal_t nobody = {.role = ROLE_NONE};
    healthdata_t h = {NULL, conn, &nobody};
    if (!healthdata_view(&h, &doc, NULL, err))
        goto done;
    /* The whole record is personal data the poster did not send: logged like a
     * read, or left out of the answer when the log cannot be written. */
    if (!records_log_write(app, req, conn, &store_kind_student, out.id))
        bson_reinit(&doc);
    answer_version(req, res, 201, &out, &doc);
    ok = true;
done:
    record_release(&cur);
    bson_destroy(&doc);
    return ok;
}

bool
handle_student_event(const app_t *app, request_t *req, response_t *res, kt_error_t *err)
{
    store_conn_t *conn = handler_conn(app, req);
    json_value_t *body = NULL;
    const char *reason = NULL;
    bson_t event = BSON_INITIALIZER;
    int64_t expected = 0;
    write_meta_t meta;
    char today[11];
    bool ok = false;

    date_today(today);
    if (conn == NULL || !handler_if_match(req, &expected, err) ||
        !handler_reason(req, &reason, err) || !handler_json_body(req, &body, err) ||
        !education_event_from_json(req->arena, body, today, &event, err))
        goto done;
    memset(&meta, 0, sizeof meta);
    meta.principal = &req->principal;
    meta.request_id = req->request_id;
    meta.reason = reason != NULL ? reason : education_reason(req->arena, &event);
    for (int attempt = 0; attempt < EVENT_WRITE_RETRIES; attempt++) {
        ok = post_once(app, conn, req, res, &event, &meta, expected, err);
        if (ok || expected != 0 || err->code != KT_VERSION_CONFLICT)
            break;
    }
done:
    bson_destroy(&event);
    return ok;
}

bool
handle_student_trajectory(const app_t *app, request_t *req, response_t *res, kt_error_t *err)
{
    store_conn_t *conn = handler_conn(app, req);
    record_t s;
    jw_t w;
    bool ok = false;

    record_init(&s);
    if (conn == NULL || !students_load(app, req, conn, &s, err))
        goto done;
    if (s.deleted) {
        ok = records_answer_gone(req, res, &s, err);
        goto done;
    }
    const char *ids[] = {s.id};
    if (!audit_log_read(conn, &req->principal, req->request_id, "trajectory", ids, 1, err))
        goto done;
    response_reset(res, 200, "application/json");
    handler_etag(req, res, s.version);
    jw_init(&w, &res->body);
    jw_object_begin(&w);
    jw_key(&w, "id");
    jw_string(&w, s.id);
    jw_key(&w, "version");
    jw_int(&w, s.version);
    if (!education_trajectory(req->arena, &s.doc, &w)) {
        kt_error_set(err, KT_DOMAIN_INPUT, KT_PAYLOAD_TOO_LARGE, 413,
                     "out of memory building the trajectory");
        goto done;
    }
    jw_object_end(&w);
    ok = true;
done:
    record_release(&s);
    return ok;
}
