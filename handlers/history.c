/*
 * history: GET /api/v1/students/{id}/history (newest first, cursor = the
 * version to continue below) and GET /api/v1/students/{id}/versions/{n}.
 * Both read personal data and are access-logged.
 */
#include <string.h>

#include "handlers/common.h"
#include "handlers/handlers.h"
#include "handlers/students.h"
#include "model/codec.h"
#include "store/audit.h"
#include "store/util.h"

/* {"pointer": path, "old": …, "new": …} for each stored change. */
static void
write_changes(jw_t *w, const bson_t *record)
{
    bson_iter_t it, arr, item;

    jw_array_begin(w);
    if (bson_iter_init_find(&it, record, "changes") && BSON_ITER_HOLDS_ARRAY(&it) &&
        bson_iter_recurse(&it, &arr)) {
        while (bson_iter_next(&arr)) {
            if (!BSON_ITER_HOLDS_DOCUMENT(&arr) || !bson_iter_recurse(&arr, &item))
                continue;
            jw_object_begin(w);
            while (bson_iter_next(&item)) {
                const char *k = bson_iter_key(&item);
                jw_key(w, strcmp(k, "path") == 0 ? "pointer" : k);
                codec_value_to_json(w, &item);
            }
            jw_object_end(w);
        }
    }
    jw_array_end(w);
}

static void
write_member(jw_t *w, const bson_t *record, const char *key)
{
    bson_iter_t it;

    jw_key(w, key);
    if (bson_iter_init_find(&it, record, key))
        codec_value_to_json(w, &it);
    else
        jw_null(w);
}

void
history_write_entry(jw_t *w, const bson_t *record, bool with_student)
{
    jw_object_begin(w);
    if (with_student)
        write_member(w, record, "student_id");
    jw_key(w, "version");
    jw_int(w, util_get_int(record, "version", 0));
    write_member(w, record, "time");
    write_member(w, record, "kind");
    write_member(w, record, "state");
    write_member(w, record, "principal");
    write_member(w, record, "source");
    write_member(w, record, "reason");
    write_member(w, record, "hash");
    jw_key(w, "changes");
    write_changes(w, record);
    jw_object_end(w);
}

static bool
history_start(const request_t *req, int64_t latest, int64_t *start, kt_error_t *err)
{
    const char *cursor = request_query(req, "cursor");

    *start = latest;
    if (cursor == NULL)
        return true;
    if (!handler_parse_int(cursor, start) || *start < 1 || *start > latest) {
        kt_error_set(err, KT_DOMAIN_INPUT, KT_FORMAT, 400,
                     "cursor is not a version of this history");
        return false;
    }
    return true;
}

bool
handle_student_history(const app_t *app, request_t *req, response_t *res, kt_error_t *err)
{
    mongoc_client_t *client = handler_client(app, req);
    const char *db = store_db_name(app->store);
    student_t cur;
    int64_t start, v;
    int limit;
    jw_t w;
    bool ok = false;

    student_init(&cur);
    if (client == NULL || !handler_limit(req, &limit, err) ||
        !students_load(app, req, client, &cur, err) ||
        !history_start(req, cur.version, &start, err))
        goto done;
    const char *ids[] = {cur.id};
    if (!audit_log_read(client, db, &req->principal, req->request_id, "history", ids, 1, err))
        goto done;
    response_reset(res, 200, "application/json");
    jw_init(&w, &res->body);
    jw_object_begin(&w);
    jw_key(&w, "items");
    jw_array_begin(&w);
    for (v = start; v >= 1 && v > start - limit; v--) {
        student_t s;
        student_init(&s);
        bool got = store_student_get_version(client, db, cur.id, v, &s, err);
        if (got)
            history_write_entry(&w, &s.record, false);
        student_release(&s);
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
    student_release(&cur);
    return ok;
}

bool
handle_student_version(const app_t *app, request_t *req, response_t *res, kt_error_t *err)
{
    mongoc_client_t *client = handler_client(app, req);
    const char *db = store_db_name(app->store);
    student_t cur, s;
    int64_t n = 0;
    jw_t w;
    bool ok = false;

    student_init(&cur);
    student_init(&s);
    if (client == NULL || !students_load(app, req, client, &cur, err))
        goto done;
    if (!handler_parse_int(req->params[1], &n) || n < 1) {
        kt_error_set(err, KT_DOMAIN_INPUT, KT_NOT_FOUND, 404, "no such version");
        goto done;
    }
    if (!store_student_get_version(client, db, cur.id, n, &s, err))
        goto done;
    const char *ids[] = {cur.id};
    if (!audit_log_read(client, db, &req->principal, req->request_id, "version", ids, 1, err))
        goto done;
    response_reset(res, 200, "application/json");
    handler_etag(req, res, n);
    jw_init(&w, &res->body);
    students_write_json(&w, s.id, s.version, s.deleted, &s.doc);
    ok = true;
done:
    student_release(&cur);
    student_release(&s);
    return ok;
}
