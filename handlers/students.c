/*
 * students: /api/v1/students — create, read (also as of a time), replace,
 * merge-patch, delete, history, versions and search. Validation is the
 * model's (model/student.h), versioning the store's (store/students.h);
 * this file decides who may see what and speaks HTTP.
 */
#include <libxml/xmlwriter.h>
#include <string.h>

#include "fcgi/problem.h"
#include "handlers/common.h"
#include "handlers/handlers.h"
#include "handlers/students.h"
#include "model/codec.h"
#include "model/patch.h"
#include "model/student.h"
#include "model/validators.h"
#include "model/xmlio.h"
#include "store/audit.h"
#include "store/students.h"
#include "store/util.h"

#define WRITE_RETRIES 5

void
students_write_json(jw_t *w, const char *id, int64_t version, bool deleted, const bson_t *doc)
{
    bson_iter_t it;

    jw_object_begin(w);
    jw_key(w, "id");
    jw_string(w, id);
    jw_key(w, "version");
    jw_int(w, version);
    jw_key(w, "state");
    jw_string(w, deleted ? "DELETED" : "ACTIVE");
    if (bson_iter_init(&it, doc)) {
        while (bson_iter_next(&it)) {
            jw_key(w, bson_iter_key(&it));
            codec_value_to_json(w, &it);
        }
    }
    jw_object_end(w);
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
students_load(const app_t *app, request_t *req, mongoc_client_t *client, student_t *s,
              kt_error_t *err)
{
    const char *id = req->params[0];

    if (!store_student_get(client, store_db_name(app->store), id, s, err))
        return false;
    if (!students_visible(req, &s->doc)) {
        kt_error_set(err, KT_DOMAIN_INPUT, KT_NOT_FOUND, 404, "no such student");
        return false;
    }
    return true;
}

healthdata_t
students_health(const app_t *app, request_t *req, mongoc_client_t *client)
{
    healthdata_t h = {app->health_ring, client, store_db_name(app->store), &req->principal};
    return h;
}

bool
students_log_read(const app_t *app, request_t *req, mongoc_client_t *client, const char *what,
                  const char *const *ids, size_t n, bool disclosed, const char *purpose,
                  kt_error_t *err)
{
    static const char *const health[] = {HEALTH_MEMBER, NULL};

    return audit_log_read_fields(client, store_db_name(app->store), &req->principal,
                                 req->request_id, what, ids, n, disclosed ? health : NULL, purpose,
                                 err);
}

static void
gone_extra(jw_t *w, void *ctx)
{
    const student_t *s = ctx;
    bson_iter_t it;

    jw_key(w, "deleted_at");
    jw_string(w, util_get_str(&s->record, "time"));
    jw_key(w, "deleted_by");
    if (bson_iter_init_find(&it, &s->record, "principal"))
        codec_value_to_json(w, &it);
    else
        jw_null(w);
    jw_key(w, "reason");
    jw_string(w, util_get_str(&s->record, "reason"));
    jw_key(w, "version");
    jw_int(w, s->version);
}

static bool
answer_gone(request_t *req, response_t *res, const student_t *s, kt_error_t *err)
{
    kt_error_set(err, KT_DOMAIN_INPUT, KT_GONE, 410, "the student was deleted");
    problem_render_with(res, req, err, gone_extra, (void *)s);
    return true;
}

/* Accept asks for XML (the exchange format) rather than JSON. */
static bool
wants_xml(const request_t *req)
{
    const char *accept = request_header(req, "accept");

    return accept != NULL && (strstr(accept, "application/xml") || strstr(accept, "text/xml")) &&
           !strstr(accept, "application/json");
}

/* The student as one <Student> of the exchange XSD. */
static bool
answer_student_xml(request_t *req, response_t *res, const student_t *s, kt_error_t *err)
{
    xmlBufferPtr out = xmlBufferCreate();
    xmlTextWriterPtr w = out ? xmlNewTextWriterMemory(out, 0) : NULL;
    bool ok = w != NULL && xmlTextWriterStartDocument(w, "1.0", "UTF-8", NULL) >= 0 &&
              xmlio_write_student(w, s->id, s->version, s->deleted, &s->doc) &&
              xmlTextWriterEndDocument(w) >= 0;

    if (w != NULL)
        xmlFreeTextWriter(w);
    if (ok) {
        response_reset(res, 200, "application/xml; charset=utf-8");
        handler_etag(req, res, s->version);
        buf_append(&res->body, xmlBufferContent(out), (size_t)xmlBufferLength(out));
    } else {
        kt_error_set(err, KT_DOMAIN_INTERNAL, KT_INTERNAL, 500, "cannot write the student as XML");
    }
    if (out != NULL)
        xmlBufferFree(out);
    return ok;
}

static void
answer_student(request_t *req, response_t *res, int status, const char *id, int64_t version,
               bool deleted, const bson_t *doc)
{
    jw_t w;

    response_reset(res, status, "application/json");
    handler_etag(req, res, version);
    jw_init(&w, &res->body);
    students_write_json(&w, id, version, deleted, doc);
}

bool
handle_student_get(const app_t *app, request_t *req, response_t *res, kt_error_t *err)
{
    mongoc_client_t *client = handler_client(app, req);
    healthdata_t h = students_health(app, req, client);
    const char *as_of = NULL, *purpose = NULL;
    student_t s;
    bool ok = false, disclosed = false;

    student_init(&s);
    if (client == NULL || !handler_as_of(req, &as_of, err) ||
        !healthdata_purpose(req, &purpose, err))
        goto done;
    if (as_of != NULL) {
        if (!students_load(app, req, client, &s, err))
            goto done;
        student_release(&s);
        student_init(&s);
        if (!store_student_as_of(client, store_db_name(app->store), req->params[0], as_of, &s, err))
            goto done;
    } else if (!students_load(app, req, client, &s, err)) {
        goto done;
    }
    if (s.deleted) {
        ok = answer_gone(req, res, &s, err);
        goto done;
    }
    const char *ids[] = {s.id};
    if (!healthdata_view(&h, &s.doc, &disclosed, err) ||
        !students_log_read(app, req, client, as_of ? "student_as_of" : "student", ids, 1, disclosed,
                           purpose, err))
        goto done;
    if (wants_xml(req)) {
        ok = answer_student_xml(req, res, &s, err);
        goto done;
    }
    answer_student(req, res, 200, s.id, s.version, false, &s.doc);
    ok = true;
done:
    student_release(&s);
    return ok;
}

/* Validates a whole student body into doc and checks a school writes its own. */
static bool
validated(request_t *req, const json_value_t *body, bson_t *doc, kt_error_t *err)
{
    char today[11];

    date_today(today);
    if (!student_from_json(req->arena, body, today, doc, err))
        return false;
    if (!students_visible(req, doc)) {
        kt_error_set(err, KT_DOMAIN_AUTH, KT_FORBIDDEN, 403,
                     "a school may only write students of its own organisation");
        kt_error_add_field(err, req->arena, "/organization", KT_FORBIDDEN, NULL);
        return false;
    }
    return true;
}

static void
fill_meta(request_t *req, write_meta_t *meta, const char *reason)
{
    memset(meta, 0, sizeof *meta);
    meta->principal = &req->principal;
    meta->request_id = req->request_id;
    meta->reason = reason;
#ifdef KT_FAULT_INJECTION
    meta->fault = request_header(req, "x-kt-fault");
#endif
}

bool
handle_student_create(const app_t *app, request_t *req, response_t *res, kt_error_t *err)
{
    mongoc_client_t *client = handler_client(app, req);
    healthdata_t h = students_health(app, req, client);
    json_value_t *body = NULL;
    const char *reason = NULL;
    bson_t doc = BSON_INITIALIZER, stored = BSON_INITIALIZER;
    write_meta_t meta;
    write_result_t out;
    bool ok = false;

    if (client == NULL || !handler_can_write(req, err) || !handler_reason(req, &reason, err) ||
        !handler_json_body(req, &body, err) || !healthdata_check_body(&req->principal, body, err) ||
        !validated(req, body, &doc, err) || !healthdata_seal(&h, NULL, &doc, &stored, err))
        goto done;
    fill_meta(req, &meta, reason);
    if (!store_student_write(client, store_db_name(app->store), KIND_CREATE, NULL, 0, &stored,
                             &meta, &out, err))
        goto done;
    answer_student(req, res, 201, out.id, out.version, false, &doc);
    response_header(res, "Location", arena_printf(req->arena, "/api/v1/students/%s", out.id));
    ok = true;
done:
    bson_destroy(&doc);
    bson_destroy(&stored);
    return ok;
}

/* The merge-patch base: the current document as this principal sees it. */
static const json_value_t *
patch_base(const healthdata_t *h, request_t *req, const student_t *cur, kt_error_t *err)
{
    bson_t seen;
    json_value_t *tree;

    bson_copy_to(&cur->doc, &seen);
    tree = healthdata_view(h, &seen, NULL, err) ? codec_bson_to_tree(req->arena, &seen) : NULL;
    bson_destroy(&seen);
    return tree;
}

/* Validates full, seals its health against cur and writes it. */
static bool
write_update(const healthdata_t *h, request_t *req, const student_t *cur, const json_value_t *full,
             int64_t expected, const write_meta_t *meta, bson_t *doc, write_result_t *out,
             kt_error_t *err)
{
    bson_t stored = BSON_INITIALIZER;
    bool ok = validated(req, full, doc, err) && healthdata_seal(h, &cur->doc, doc, &stored, err) &&
              store_student_write(h->client, h->db, KIND_UPDATE, cur->id,
                                  expected ? expected : cur->version, &stored, meta, out, err);

    bson_destroy(&stored);
    return ok;
}

/* PUT and PATCH: build the new document from the current one, write it,
 * retry a lost race when the client did not pin a version with If-Match. */
static bool
update(const app_t *app, request_t *req, response_t *res, bool merge, kt_error_t *err)
{
    mongoc_client_t *client = handler_client(app, req);
    json_value_t *body = NULL;
    const char *reason = NULL;
    int64_t expected = 0;
    write_meta_t meta;
    write_result_t out;

    if (client == NULL || !handler_can_write(req, err) || !handler_if_match(req, &expected, err) ||
        !handler_reason(req, &reason, err) || !handler_json_body(req, &body, err) ||
        !healthdata_check_body(&req->principal, body, err))
        return false;
    healthdata_t h = students_health(app, req, client);
    fill_meta(req, &meta, reason);
    for (int attempt = 0; attempt < WRITE_RETRIES; attempt++) {
        student_t cur;
        bson_t doc = BSON_INITIALIZER;
        student_init(&cur);
        bool ok = students_load(app, req, client, &cur, err);
        if (ok && cur.deleted) {
            answer_gone(req, res, &cur, err);
            student_release(&cur);
            return true;
        }
        const json_value_t *base = ok && merge ? patch_base(&h, req, &cur, err) : NULL;
        const json_value_t *full =
            ok && merge ? (base ? patch_merge(req->arena, base, body) : NULL) : body;
        ok = ok && full != NULL &&
             write_update(&h, req, &cur, full, expected, &meta, &doc, &out, err);
        if (ok)
            answer_student(req, res, 200, out.id, out.version, false, &doc);
        student_release(&cur);
        bson_destroy(&doc);
        if (ok)
            return true;
        if (expected != 0 || err->code != KT_VERSION_CONFLICT)
            return false;
    }
    return false;
}

bool
handle_student_put(const app_t *app, request_t *req, response_t *res, kt_error_t *err)
{
    return update(app, req, res, false, err);
}

bool
handle_student_patch(const app_t *app, request_t *req, response_t *res, kt_error_t *err)
{
    return update(app, req, res, true, err);
}

bool
handle_student_delete(const app_t *app, request_t *req, response_t *res, kt_error_t *err)
{
    mongoc_client_t *client = handler_client(app, req);
    const char *reason = NULL;
    int64_t expected = 0;
    write_meta_t meta;
    write_result_t out;
    student_t cur;
    bool ok = false;

    student_init(&cur);
    if (client == NULL || !handler_can_write(req, err) || !handler_if_match(req, &expected, err) ||
        !handler_reason(req, &reason, err))
        goto done;
    if (reason == NULL) {
        kt_error_set(err, KT_DOMAIN_INPUT, KT_REQUIRED, 422,
                     "a delete needs a reason (?reason= or X-Reason)");
        kt_error_add_field(err, req->arena, "/reason", KT_REQUIRED, NULL);
        goto done;
    }
    if (!students_load(app, req, client, &cur, err))
        goto done;
    if (cur.deleted) {
        ok = answer_gone(req, res, &cur, err);
        goto done;
    }
    fill_meta(req, &meta, reason);
    if (!store_student_write(client, store_db_name(app->store), KIND_DELETE, cur.id,
                             expected ? expected : cur.version, NULL, &meta, &out, err))
        goto done;
    response_reset(res, 204, NULL);
    ok = true;
done:
    student_release(&cur);
    return ok;
}
