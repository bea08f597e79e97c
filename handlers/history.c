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

/* {"pointer": path, "old": …, "new": …} for each visible change. */
static void
write_changes(jw_t *w, const bson_t *changes)
{
    bson_iter_t arr, item;

    jw_array_begin(w);
    if (bson_iter_init(&arr, changes)) {
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

static void
write_entry(jw_t *w, const student_t *s, const bson_t *changes)
{
    jw_object_begin(w);
    jw_key(w, "version");
    jw_int(w, s->version);
    write_member(w, &s->record, "time");
    write_member(w, &s->record, "kind");
    write_member(w, &s->record, "state");
    write_member(w, &s->record, "principal");
    write_member(w, &s->record, "source");
    write_member(w, &s->record, "reason");
    write_member(w, &s->record, "hash");
    jw_key(w, "changes");
    write_changes(w, changes);
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

/* The changes of version s this principal may see; health changes are
 * opened from the version before (read only when they are needed). */
static bool
visible_changes(const healthdata_t *h, const student_t *s, bson_t *changes, bool *disclosed,
                kt_error_t *err)
{
    student_t prev;
    bool ok, need = s->version > 1 && principal_can_see_health(h->who) &&
                    healthdata_changes_touch(&s->record);

    student_init(&prev);
    ok = !need || store_student_get_version(h->client, h->db, s->id, s->version - 1, &prev, err);
    ok = ok && healthdata_changes(h, s, need ? &prev.doc : NULL, changes, disclosed, err);
    student_release(&prev);
    return ok;
}

bool
handle_student_history(const app_t *app, request_t *req, response_t *res, kt_error_t *err)
{
    mongoc_client_t *client = handler_client(app, req);
    const char *db = store_db_name(app->store), *purpose = NULL;
    healthdata_t h = students_health(app, req, client);
    student_t cur;
    int64_t start, v;
    int limit;
    jw_t w;
    bool ok = false, disclosed = false;

    student_init(&cur);
    if (client == NULL || !handler_limit(req, &limit, err) ||
        !healthdata_purpose(req, &purpose, err) || !students_load(app, req, client, &cur, err) ||
        !history_start(req, cur.version, &start, err))
        goto done;
    const char *ids[] = {cur.id};
    response_reset(res, 200, "application/json");
    jw_init(&w, &res->body);
    jw_object_begin(&w);
    jw_key(&w, "items");
    jw_array_begin(&w);
    for (v = start; v >= 1 && v > start - limit; v--) {
        student_t s;
        bson_t changes = BSON_INITIALIZER;
        bool shown = false;
        student_init(&s);
        bool got = store_student_get_version(client, db, cur.id, v, &s, err) &&
                   visible_changes(&h, &s, &changes, &shown, err);
        if (got)
            write_entry(&w, &s, &changes);
        disclosed = disclosed || shown;
        student_release(&s);
        bson_destroy(&changes);
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
    ok = students_log_read(app, req, client, "history", ids, 1, disclosed, purpose, err);
done:
    student_release(&cur);
    return ok;
}

bool
handle_student_version(const app_t *app, request_t *req, response_t *res, kt_error_t *err)
{
    mongoc_client_t *client = handler_client(app, req);
    const char *db = store_db_name(app->store), *purpose = NULL;
    healthdata_t h = students_health(app, req, client);
    student_t cur, s;
    int64_t n = 0;
    jw_t w;
    bool ok = false, disclosed = false;

    student_init(&cur);
    student_init(&s);
    if (client == NULL || !healthdata_purpose(req, &purpose, err) ||
        !students_load(app, req, client, &cur, err))
        goto done;
    if (!handler_parse_int(req->params[1], &n) || n < 1) {
        kt_error_set(err, KT_DOMAIN_INPUT, KT_NOT_FOUND, 404, "no such version");
        goto done;
    }
    if (!store_student_get_version(client, db, cur.id, n, &s, err))
        goto done;
    const char *ids[] = {cur.id};
    if (!healthdata_view(&h, &s.doc, &disclosed, err) ||
        !students_log_read(app, req, client, "version", ids, 1, disclosed, purpose, err))
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
