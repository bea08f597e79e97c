/*
 * students: /api/v1/students — create, read (also as of a time), replace,
 * merge-patch and delete. Validation is the model's (model/student.h),
 * versioning the store's (store/records.h), the HTTP of a versioned
 * resource is shared with organisations (handlers/records.c); this file
 * decides who may see and write which student, and checks that a student's
 * organisation is an active one (docs/organizations.md).
 */
#include <libxml/xmlwriter.h>
#include <string.h>

#include "handlers/common.h"
#include "handlers/handlers.h"
#include "handlers/records.h"
#include "handlers/students.h"
#include "service/students.h"
#include "model/education.h"
#include "model/student.h"
#include "model/calendar.h"
#include "model/validators.h"
#include "model/xmlio.h"
#include "store/audit.h"
#include "store/organizations.h"
#include "store/records.h"
#include "store/util.h"

void
students_write_json(jw_t *w, const char *id, int64_t version, bool deleted, const bson_t *doc)
{
    records_write_json(w, &students_resource, id, version, deleted, doc);
}

bool
students_visible(const request_t *req, const bson_t *doc)
{
    const char *org;

    if (req->principal.role != ROLE_SCHOOL)
        return true;
    org = util_get_str(doc, "organization");
    return org != NULL && strcmp(org, req->principal.org) == 0;
}

/* Reads the student and hides it (404) from a school it does not belong to. */
bool
students_load(const app_t *app, request_t *req, store_conn_t *conn, record_t *s, kt_error_t *err)
{
    const char *id = req->params[0];

    if (!store_student_get(conn, id, s, err))
        return false;
    if (!students_visible(req, &s->doc)) {
        kt_error_set(err, KT_DOMAIN_INPUT, KT_NOT_FOUND, "no such student");
        return false;
    }
    return true;
}

/* Validates a whole student body into doc, checks a school writes its own,
 * and that a new or changed organisation is an active one; `education` is
 * read-only (model/education.h): cur's is kept. */
static bool
validated(const app_t *app, request_t *req, store_conn_t *conn, const json_value_t *body,
          const bson_t *cur, bson_t *doc, kt_error_t *err)
{
    char today[11];

    date_today(today);
    if (!student_from_json(req->arena, body, today, doc, err) ||
        !education_check_body(req->arena, body, cur, doc, err))
        return false;
    if (!education_carry(cur, doc)) {
        kt_error_set(err, KT_DOMAIN_INTERNAL, KT_INTERNAL, "cannot keep the education");
        return false;
    }
    if (!students_visible(req, doc)) {
        kt_error_set(err, KT_DOMAIN_AUTH, KT_FORBIDDEN,
                     "a school may only write students of its own organisation");
        kt_error_add_field(err, req->arena, "/organization", KT_FORBIDDEN, NULL);
        return false;
    }
    return students_check_organization(conn, req->arena, doc, cur, err);
}

static bool
write_xml(xmlTextWriterPtr w, const record_t *s)
{
    return xmlio_write_student(w, s->id, s->version, s->deleted, &s->doc);
}

const record_resource_t students_resource = {
    .kind = &store_kind_student,
    .location = "/api/v1/students/",
    .with_state = true,
    .load = students_load,
    .validate = validated,
    .new_id = NULL,
    .write_xml = write_xml,
    .health = true,
    .identity = true,
};

healthdata_t
students_health(const app_t *app, request_t *req, store_conn_t *conn)
{
    healthdata_t h = {app->health_ring, conn, &req->principal};
    return h;
}

bool
students_log_read(const app_t *app, request_t *req, store_conn_t *conn, const char *what,
                  const char *const *ids, size_t n, bool disclosed, const char *purpose,
                  kt_error_t *err)
{
    static const char *const health[] = {HEALTH_MEMBER, NULL};

    return audit_log_read_fields(conn, &req->principal, req->request_id, what, ids, n,
                                 disclosed ? health : NULL, purpose, err);
}

bool
handle_student_get(const app_t *app, request_t *req, response_t *res, kt_error_t *err)
{
    return records_get(app, req, res, &students_resource, err);
}

bool
handle_student_create(const app_t *app, request_t *req, response_t *res, kt_error_t *err)
{
    return records_create(app, req, res, &students_resource, err);
}

bool
handle_student_put(const app_t *app, request_t *req, response_t *res, kt_error_t *err)
{
    return records_update(app, req, res, &students_resource, false, err);
}

bool
handle_student_patch(const app_t *app, request_t *req, response_t *res, kt_error_t *err)
{
    return records_update(app, req, res, &students_resource, true, err);
}

bool
handle_student_delete(const app_t *app, request_t *req, response_t *res, kt_error_t *err)
{
    store_conn_t *conn = handler_conn(app, req);
    const char *reason = NULL;
    int64_t expected = 0;
    write_meta_t meta;
    write_result_t out;
    record_t cur;
    bool ok = false;

    record_init(&cur);
    if (conn == NULL || !handler_if_match(app, req, &expected, err) ||
        !handler_reason(req, &reason, err))
        goto done;
    if (reason == NULL) {
        kt_error_set(err, KT_DOMAIN_INPUT, KT_REQUIRED,
                     "a delete needs a reason (?reason= or X-Reason)");
        kt_error_add_field(err, req->arena, "/reason", KT_REQUIRED, NULL);
        goto done;
    }
    if (!students_load(app, req, conn, &cur, err))
        goto done;
    if (cur.deleted) {
        ok = records_answer_gone(req, res, &cur, err);
        goto done;
    }
    records_fill_meta(req, &meta, reason);
    if (!store_student_write(conn, WRITE_DELETE, cur.id, expected ? expected : cur.version, NULL,
                             &meta, &out, err))
        goto done;
    response_reset(res, 204, NULL);
    ok = true;
done:
    record_release(&cur);
    return ok;
}
