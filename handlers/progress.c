/*
 * progress: a student's current progress for an academic year
 * (docs/progress.md) — GET (also ?as_of=), PUT (the whole record), PATCH
 * (marks and absences merged by key) of /api/v1/students/{id}/progress/{year}
 * and its history. The rules and the write are the service's
 * (service/progress.h), shared with package items; this file speaks HTTP.
 *
 * Access is the student's education data's (docs/security.md): every role
 * reads, a school only its own students (others' are 404); region, school
 * and admin write (the route table). Every answer that shows a record is
 * an access-log row naming the student, as a read of the student would be.
 */
#include <libxml/xmlwriter.h>
#include <string.h>

#include "handlers/common.h"
#include "handlers/handlers.h"
#include "handlers/records.h"
#include "model/codec.h"
#include "model/xmlio.h"
#include "service/progress.h"
#include "store/audit.h"
#include "store/progress.h"
#include "store/util.h"

/* {"id", "version", ...the document}: id is the record's own. */
static void
write_record(jw_t *w, const char *id, int64_t version, const bson_t *doc)
{
    bson_iter_t it;

    jw_object_begin(w);
    jw_key(w, "id");
    jw_string(w, id);
    jw_key(w, "version");
    jw_int(w, version);
    if (bson_iter_init(&it, doc)) {
        while (bson_iter_next(&it)) {
            jw_key(w, bson_iter_key(&it));
            codec_value_to_json(w, &it);
        }
    }
    jw_object_end(w);
}

static void
answer(const app_t *app, request_t *req, response_t *res, int status, const char *id,
       int64_t version, const bson_t *doc)
{
    jw_t w;

    response_reset(res, status, "application/json");
    handler_etag(app, req, res, version);
    jw_init(&w, &res->body);
    write_record(&w, id, version, doc);
}

/* The record as <Progress>, the element of packages. */
static bool
answer_xml(const app_t *app, request_t *req, response_t *res, const record_t *s, kt_error_t *err)
{
    xmlBufferPtr out = xmlBufferCreate();
    xmlTextWriterPtr w = out ? xmlNewTextWriterMemory(out, 0) : NULL;
    bool ok = w != NULL && xmlTextWriterStartDocument(w, "1.0", "UTF-8", NULL) >= 0 &&
              xmlio_write_progress(w, s->version, &s->doc) && xmlTextWriterEndDocument(w) >= 0;

    if (w != NULL)
        xmlFreeTextWriter(w);
    if (ok) {
        response_reset(res, 200, "application/xml; charset=utf-8");
        handler_etag(app, req, res, s->version);
        buf_append(&res->body, xmlBufferContent(out), (size_t)xmlBufferLength(out));
    } else {
        kt_error_set(err, KT_DOMAIN_INTERNAL, KT_INTERNAL, "cannot write the progress as XML");
    }
    if (out != NULL)
        xmlBufferFree(out);
    return ok;
}

/* An access-log row naming the student. */
static bool
log_access(request_t *req, store_conn_t *conn, const char *what, kt_error_t *err)
{
    const char *ids[] = {req->params[0]};

    return audit_log_read(conn, &req->principal, req->request_id, what, ids, 1, err);
}

bool
handle_progress_get(const app_t *app, request_t *req, response_t *res, kt_error_t *err)
{
    store_conn_t *conn = handler_conn(app, req);
    const char *as_of = NULL;
    record_t s;
    bool ok = false;

    record_init(&s);
    if (conn == NULL || !handler_as_of(req, &as_of, err) ||
        !service_progress_get(conn, &req->principal, req->params[0], req->params[1], as_of, &s,
                              err) ||
        !log_access(req, conn, as_of != NULL ? "progress_as_of" : "progress", err))
        goto done;
    if (records_wants_xml(req)) {
        ok = answer_xml(app, req, res, &s, err);
        goto done;
    }
    answer(app, req, res, 200, s.id, s.version, &s.doc);
    ok = true;
done:
    record_release(&s);
    return ok;
}

/* PUT (merge false) and PATCH (merge true): 201 at the first write. The
 * answer shows the stored record; when its access-log row cannot be written
 * it carries only the id and version (the write stands). */
static bool
put(const app_t *app, request_t *req, response_t *res, bool merge, kt_error_t *err)
{
    store_conn_t *conn = handler_conn(app, req);
    json_value_t *body = NULL;
    const char *reason = NULL;
    bson_t doc = BSON_INITIALIZER, none = BSON_INITIALIZER;
    int64_t expected = 0;
    write_meta_t meta;
    write_result_t out;
    bool created = false, ok = false;
    kt_error_t e;

    if (conn == NULL || !handler_if_match(app, req, &expected, err) ||
        !handler_reason(req, &reason, err) || !handler_json_body(req, &body, err))
        goto done;
    records_fill_meta(req, &meta, reason);
    progress_put_t p = {.who = &req->principal,
                        .student_id = req->params[0],
                        .year = req->params[1],
                        .body = body,
                        .merge = merge,
                        .expected = expected,
                        .meta = &meta};
    if (!service_progress_put(conn, req->arena, &p, &doc, &out, &created, err))
        goto done;
    kt_error_clear(&e);
    answer(app, req, res, created ? 201 : 200, out.id, out.version,
           log_access(req, conn, "write", &e) ? &doc : &none);
    ok = true;
done:
    bson_destroy(&doc);
    bson_destroy(&none);
    return ok;
}

bool
handle_progress_put(const app_t *app, request_t *req, response_t *res, kt_error_t *err)
{
    return put(app, req, res, false, err);
}

bool
handle_progress_patch(const app_t *app, request_t *req, response_t *res, kt_error_t *err)
{
    return put(app, req, res, true, err);
}

/* GET …/progress/{year}/history: newest first, ?cursor= the version to
 * continue below, ?limit=. */
bool
handle_progress_history(const app_t *app, request_t *req, response_t *res, kt_error_t *err)
{
    store_conn_t *conn = handler_conn(app, req);
    const char *cursor = request_query(req, "cursor");
    record_t cur;
    int64_t start, v;
    int limit;
    jw_t w;
    bool ok = false;

    record_init(&cur);
    if (conn == NULL || !handler_limit(req, &limit, err) ||
        !service_progress_get(conn, &req->principal, req->params[0], req->params[1], NULL, &cur,
                              err))
        goto done;
    start = cur.version;
    if (cursor != NULL &&
        (!handler_parse_int(cursor, &start) || start < 1 || start > cur.version)) {
        kt_error_set_status(err, KT_DOMAIN_INPUT, KT_FORMAT, 400,
                            "cursor is not a version of this history");
        goto done;
    }
    if (!log_access(req, conn, "progress_history", err))
        goto done;
    response_reset(res, 200, "application/json");
    jw_init(&w, &res->body);
    jw_object_begin(&w);
    jw_key(&w, "items");
    jw_array_begin(&w);
    for (v = start; v >= 1 && v > start - limit; v--) {
        record_t s;
        record_init(&s);
        bool got = store_record_get_version(conn, &store_kind_progress, cur.id, v, &s, err);
        if (got)
            records_write_entry(&w, &s.record, NULL);
        record_release(&s);
        if (!got)
            goto done;
    }
    jw_array_end(&w);
    jw_key(&w, "next_cursor");
    if (v >= 1)
        jw_string(&w, arena_printf(req->arena, "%lld", (long long)v));
    else
        jw_null(&w);
    jw_object_end(&w);
    ok = true;
done:
    record_release(&cur);
    return ok;
}
