/*
 * audit: the auditors' endpoints (roles auditor and admin only, 403 for the
 * rest: the route table, fcgi/routes.c):
 *   GET /api/v1/audit/access       who read which records, by student and/or
 *                                  subject, within a period;
 *   GET /api/v1/audit/changes      the versions a subject wrote in a period;
 *   GET /api/v1/students/{id}/verify   one student's hash chain, checked now;
 *   GET /api/v1/audit/verify/last  the summary of the last `kontingentctl verify`.
 */
#include <string.h>

#include "handlers/common.h"
#include "handlers/handlers.h"
#include "handlers/records.h"
#include "handlers/students.h"
#include "model/codec.h"
#include "store/audit.h"
#include "store/util.h"
#include "store/verify.h"

#define SUBJECT_MAX       255
#define ACCESS_CURSOR_LEN (13 + 1 + 36)

static bool
subject_param(const request_t *req, const char **out, kt_error_t *err)
{
    *out = request_query(req, "subject");
    if (*out != NULL && (**out == '\0' || strlen(*out) > SUBJECT_MAX)) {
        kt_error_set_status(err, KT_DOMAIN_INPUT, KT_FORMAT, 400, "subject must be 1..%d bytes",
                            SUBJECT_MAX);
        return false;
    }
    return true;
}

/* A cursor that is not one this list gave is refused, never ignored (a
 * client that mangled it would otherwise get the first page again). */
static bool
bad_cursor(request_t *req, kt_error_t *err)
{
    kt_error_set_status(err, KT_DOMAIN_INPUT, KT_FORMAT, 400,
                        "cursor must be a next_cursor of this list");
    kt_error_add_field(err, req->arena, "/cursor", KT_FORMAT, NULL);
    return false;
}

/* An access-log cursor is an entry's id: "<13-digit ms>-<uuid>" (store/audit.c). */
static bool
access_cursor(request_t *req, const char **out, kt_error_t *err)
{
    const char *c = request_query(req, "cursor");

    *out = c;
    if (c == NULL || (strlen(c) == ACCESS_CURSOR_LEN && strspn(c, "0123456789") == 13 &&
                      c[13] == '-' && util_is_uuid(c + 14)))
        return true;
    return bad_cursor(req, err);
}

bool
handle_audit_access(const app_t *app, request_t *req, response_t *res, kt_error_t *err)
{
    audit_filter_t f = {.student = request_query(req, "student")};
    store_conn_t *conn;
    const char *cursor;
    int limit;
    jw_t w;

    if (!handler_limit(req, &limit, err) || !subject_param(req, &f.subject, err) ||
        !handler_period(req, &f.from, &f.to, err) || !access_cursor(req, &cursor, err))
        return false;
    if (f.student != NULL && !util_is_uuid(f.student)) {
        kt_error_set_status(err, KT_DOMAIN_INPUT, KT_FORMAT, 400, "student must be a student id");
        kt_error_add_field(err, req->arena, "/student", KT_FORMAT, NULL);
        return false;
    }
    if (f.student == NULL && f.subject == NULL) {
        kt_error_set_status(err, KT_DOMAIN_INPUT, KT_FORMAT, 400, "give student, subject or both");
        return false;
    }
    if ((conn = handler_conn(app, req)) == NULL)
        return false;
    response_reset(res, 200, "application/json");
    jw_init(&w, &res->body);
    return audit_query(conn, &f, cursor, limit, &w, err);
}

/* The page of /audit/changes as it is written: entries up to limit, then
 * whether one more exists. */
typedef struct {
    jw_t *w;
    request_t *req;
    int limit;
    int n;
    int64_t last_seq;
    bool more;
    const char **ids; /* the students shown, for the access log */
    size_t n_ids;
} changes_page_t;

static void
note_student(changes_page_t *p, const char *id)
{
    for (size_t i = 0; i < p->n_ids; i++)
        if (strcmp(p->ids[i], id) == 0)
            return;
    p->ids[p->n_ids++] = arena_strdup(p->req->arena, id);
}

static bool
write_change(void *ctx, const bson_t *record)
{
    changes_page_t *p = ctx;
    const char *id = util_get_str(record, "student_id");

    if (p->n == p->limit) {
        p->more = true;
        return false;
    }
    records_write_entry(p->w, record, "student_id");
    p->last_seq = util_get_int(record, "seq", 0);
    if (id != NULL)
        note_student(p, id);
    p->n++;
    return true;
}

static bool
changes_cursor(request_t *req, int64_t *before, kt_error_t *err)
{
    const char *cursor = request_query(req, "cursor");

    *before = 0;
    if (cursor == NULL || (handler_parse_int(cursor, before) && *before > 0))
        return true;
    return bad_cursor(req, err);
}

bool
handle_audit_changes(const app_t *app, request_t *req, response_t *res, kt_error_t *err)
{
    audit_filter_t f = {0};
    changes_page_t p = {.req = req};
    store_conn_t *conn;
    int64_t before;
    jw_t w;

    if (!handler_limit(req, &p.limit, err) || !subject_param(req, &f.subject, err) ||
        !handler_period(req, &f.from, &f.to, err) || !changes_cursor(req, &before, err))
        return false;
    if (f.subject == NULL) {
        kt_error_set_status(err, KT_DOMAIN_INPUT, KT_FORMAT, 400, "subject is required");
        return false;
    }
    p.ids = arena_calloc(req->arena, (size_t)p.limit, sizeof(char *));
    if (p.ids == NULL || (conn = handler_conn(app, req)) == NULL)
        return false;
    response_reset(res, 200, "application/json");
    jw_init(&w, &res->body);
    p.w = &w;
    jw_object_begin(&w);
    jw_key(&w, "items");
    jw_array_begin(&w);
    if (!audit_changes_each(conn, &f, before, p.limit, write_change, &p, err))
        return false;
    jw_array_end(&w);
    jw_key(&w, "next_cursor");
    jw_string(&w, p.more ? arena_printf(req->arena, "%lld", (long long)p.last_seq) : NULL);
    jw_object_end(&w);
    /* The changes carry personal data (old and new values): a read like any other. */
    return p.n_ids == 0 || audit_log_read(conn, &req->principal, req->request_id, "audit_changes",
                                          p.ids, p.n_ids, err);
}

bool
handle_student_verify(const app_t *app, request_t *req, response_t *res, kt_error_t *err)
{
    store_conn_t *conn;
    record_t s;
    char problem[256], now[32];
    long versions = 0;
    bool lags = false, ok = false;
    int64_t bad = 0;
    jw_t w;

    record_init(&s);
    if ((conn = handler_conn(app, req)) == NULL || !students_load(app, req, conn, &s, err) ||
        !verify_student(conn, s.id, &versions, &lags, &bad, problem, err))
        goto done;
    util_time_now(now);
    response_reset(res, 200, "application/json");
    jw_init(&w, &res->body);
    jw_object_begin(&w);
    jw_key(&w, "student_id");
    jw_string(&w, s.id);
    jw_key(&w, "ok");
    jw_bool(&w, problem[0] == '\0');
    jw_key(&w, "versions");
    jw_int(&w, versions);
    jw_key(&w, "head_lags");
    jw_bool(&w, lags);
    jw_key(&w, "broken_version");
    if (problem[0] != '\0')
        jw_int(&w, bad);
    else
        jw_null(&w);
    jw_key(&w, "problem");
    jw_string(&w, problem[0] != '\0' ? problem : NULL);
    jw_key(&w, "checked_at");
    jw_string(&w, now);
    jw_object_end(&w);
    ok = true;
done:
    record_release(&s);
    return ok;
}

static void
write_run(jw_t *w, const bson_t *run)
{
    static const char *const keys[] = {"time",   "students",        "versions",
                                       "broken", "incomplete",      "duplicates",
                                       "ok",     "broken_students", NULL};
    bson_iter_t it;

    jw_object_begin(w);
    for (int i = 0; keys[i] != NULL; i++) {
        jw_key(w, keys[i]);
        if (bson_iter_init_find(&it, run, keys[i])) {
            codec_value_to_json(w, &it);
        } else if (strcmp(keys[i], "broken_students") == 0) {
            jw_array_begin(w); /* runs recorded before the list existed */
            jw_array_end(w);
        } else {
            jw_null(w);
        }
    }
    jw_object_end(w);
}

bool
handle_audit_verify_last(const app_t *app, request_t *req, response_t *res, kt_error_t *err)
{
    store_conn_t *conn;
    bson_t run = BSON_INITIALIZER;
    bool found = false, ok = false;
    jw_t w;

    if ((conn = handler_conn(app, req)) == NULL)
        goto done;
    bson_destroy(&run);
    if (!verify_last_run(conn, &run, &found, err))
        goto done;
    if (!found) {
        kt_error_set(err, KT_DOMAIN_INPUT, KT_NOT_FOUND,
                     "kontingentctl verify has not been run yet");
        goto done;
    }
    response_reset(res, 200, "application/json");
    jw_init(&w, &res->body);
    write_run(&w, &run);
    ok = true;
done:
    bson_destroy(&run);
    return ok;
}
