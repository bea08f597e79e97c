/*
 * education: POST /api/v1/students/{id}/events (an education event, one new
 * student version) and GET /api/v1/students/{id}/trajectory. The rules are
 * the model's (model/education.h); who may post what, and the write, are the
 * service's (service/education.h), shared with package items.
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
#include "service/healthdata.h"
#include "handlers/handlers.h"
#include "handlers/records.h"
#include "handlers/students.h"
#include "model/education.h"
#include "model/calendar.h"
#include "model/validators.h"
#include "service/education.h"
#include "store/audit.h"
#include "store/organizations.h"
#include "store/records.h"
#include "store/util.h"

static void
answer_version(const app_t *app, request_t *req, response_t *res, int status,
               const write_result_t *out, const bson_t *doc)
{
    jw_t w;

    response_reset(res, status, "application/json");
    handler_etag(app, req, res, out->version);
    jw_init(&w, &res->body);
    students_write_json(&w, out->id, out->version, false, doc);
}

/* The written version as the poster may see it: without the health block
 * (removed without opening it, docs/health.md; a read shows it to who may
 * see it), and without the record at all when its access log cannot be
 * written — it is personal data the poster did not send. */
static bool
answer_posted(const app_t *app, request_t *req, response_t *res, store_conn_t *conn,
              const write_result_t *out, bson_t *doc, kt_error_t *err)
{
    static const principal_t nobody = {.role = ROLE_NONE};
    healthdata_t h = {NULL, conn, &nobody};

    if (!healthdata_view(&h, doc, NULL, err))
        return false;
    if (!records_log_write(app, req, conn, &store_kind_student, out->id))
        bson_reinit(doc);
    answer_version(app, req, res, 201, out, doc);
    return true;
}

bool
handle_student_event(const app_t *app, request_t *req, response_t *res, kt_error_t *err)
{
    store_conn_t *conn = handler_conn(app, req);
    json_value_t *body = NULL;
    const char *reason = NULL;
    bson_t event = BSON_INITIALIZER, doc = BSON_INITIALIZER;
    int64_t expected = 0;
    write_meta_t meta;
    write_result_t out;
    record_t cur;
    char today[11];
    bool ok = false;

    record_init(&cur);
    date_today(today);
    if (conn == NULL || !handler_if_match(app, req, &expected, err) ||
        !handler_reason(req, &reason, err) || !handler_json_body(req, &body, err) ||
        !education_event_from_json(req->arena, body, today, &event, err))
        goto done;
    memset(&meta, 0, sizeof meta);
    meta.principal = &req->principal;
    meta.request_id = req->request_id;
    meta.reason = reason != NULL ? reason : education_reason(req->arena, &event);
    event_post_t post = {.who = &req->principal,
                         .student_id = req->params[0],
                         .event = &event,
                         .expected = expected,
                         .meta = &meta};
    if (service_student_event(conn, req->arena, &post, &cur, &doc, &out, err))
        ok = answer_posted(app, req, res, conn, &out, &doc, err);
    else if (err->code == KT_GONE)
        ok = records_answer_gone(req, res, &cur, err);
done:
    record_release(&cur);
    bson_destroy(&doc);
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
    handler_etag(app, req, res, s.version);
    jw_init(&w, &res->body);
    jw_object_begin(&w);
    jw_key(&w, "id");
    jw_string(&w, s.id);
    jw_key(&w, "version");
    jw_int(&w, s.version);
    if (!education_trajectory(req->arena, &s.doc, &w)) {
        kt_error_set(err, KT_DOMAIN_INPUT, KT_PAYLOAD_TOO_LARGE,
                     "out of memory building the trajectory");
        goto done;
    }
    jw_object_end(&w);
    ok = true;
done:
    record_release(&s);
    return ok;
}
