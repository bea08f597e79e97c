/*
 * merge: POST /api/v1/students/{id}/merge and /unmerge (service/merge.h;
 * docs/api.md, "Merge and unmerge"). The body is
 * {"duplicate": "<id>", "reason": "...", "prefer": {"<field>": "survivor" |
 * "duplicate"}}; the reason may come as ?reason= or X-Reason instead, and is
 * required. Region and admin only (fcgi/routes.c), so every student is
 * visible to the caller; both records' personal data is in the answer's
 * making, and both are access-logged as written.
 */
#include <string.h>

#include "core/utf8.h"
#include "handlers/common.h"
#include "handlers/handlers.h"
#include "handlers/records.h"
#include "service/identity.h"
#include "service/merge.h"
#include "store/records.h"

static const char *const identity_names[IDENTITY_FIELDS] = {"last_name", "first_name", "birth_date",
                                                            "sex"};

/* The body's members: every one known, of its type. */
static bool
check_members(request_t *req, const json_value_t *body, kt_error_t *err)
{
    bool ok = true;

    if (body->type != JSON_OBJECT) {
        kt_error_set(err, KT_DOMAIN_INPUT, KT_MALFORMED, "the body must be a JSON object");
        return false;
    }
    kt_error_set(err, KT_DOMAIN_INPUT, KT_VALIDATION, "the request is not a merge request");
    for (const json_value_t *m = body->child; m != NULL; m = m->next) {
        const char *ptr = arena_printf(req->arena, "/%s", m->key);
        bool is_str = m->type == JSON_STRING;
        if (strcmp(m->key, "duplicate") == 0 || strcmp(m->key, "reason") == 0) {
            if (!is_str) {
                kt_error_add_field(err, req->arena, ptr, KT_FORMAT, "строка (a string)");
                ok = false;
            }
        } else if (strcmp(m->key, "prefer") == 0) {
            if (m->type != JSON_OBJECT) {
                kt_error_add_field(err, req->arena, ptr, KT_FORMAT, "объект (an object)");
                ok = false;
            }
        } else {
            kt_error_add_field(err, req->arena, ptr, KT_UNKNOWN_FIELD, NULL);
            ok = false;
        }
    }
    if (ok)
        kt_error_clear(err);
    return ok;
}

/* The reason: the body's, else ?reason= or X-Reason; required. */
static bool
reason_of(request_t *req, const json_value_t *body, const char **out, kt_error_t *err)
{
    const json_value_t *r = json_get(body, "reason");
    size_t chars = 0, len = r != NULL ? r->len : 0;
    const char *v = r != NULL ? r->str : NULL;

    while (v != NULL && len > 0 && (*v == ' ' || *v == '\t')) {
        v++;
        len--;
    }
    if (v != NULL && len > 0 && (!utf8_text_valid(v, len, &chars) || chars > REASON_MAX)) {
        kt_error_set(err, KT_DOMAIN_INPUT, KT_VALIDATION, "the reason is not acceptable text");
        kt_error_add_field(err, req->arena, "/reason", KT_FORMAT, NULL);
        return false;
    }
    *out = v != NULL && len > 0 ? arena_strndup(req->arena, v, len) : NULL;
    if (*out == NULL && !handler_reason(req, out, err))
        return false;
    if (*out == NULL) {
        kt_error_set(err, KT_DOMAIN_INPUT, KT_REQUIRED, "a merge and an unmerge need a reason");
        kt_error_add_field(err, req->arena, "/reason", KT_REQUIRED, NULL);
        return false;
    }
    return true;
}

/* prefer as BSON: strings as they are, anything else as null (which
 * merge_check_prefer refuses as ENUM). */
static void
prefer_of(const json_value_t *body, bson_t *out)
{
    const json_value_t *p = json_get(body, "prefer");

    bson_init(out);
    for (const json_value_t *m = p != NULL ? p->child : NULL; m != NULL; m = m->next) {
        if (m->type == JSON_STRING)
            bson_append_utf8(out, m->key, (int)m->key_len, m->str, (int)m->len);
        else
            bson_append_null(out, m->key, (int)m->key_len);
    }
}

static void
side_json(jw_t *w, const char *key, const char *id, int64_t version, const char *state)
{
    jw_key(w, key);
    jw_object_begin(w);
    jw_key(w, "id");
    jw_string(w, id);
    jw_key(w, "version");
    jw_int(w, version);
    jw_key(w, "state");
    jw_string(w, state);
    jw_object_end(w);
}

static void
answer(const app_t *app, request_t *req, response_t *res, const merge_result_t *r, bool merge)
{
    jw_t w;

    response_reset(res, 200, "application/json");
    handler_etag(app, req, res, r->survivor_version);
    jw_init(&w, &res->body);
    jw_object_begin(&w);
    side_json(&w, "survivor", r->survivor, r->survivor_version, "ACTIVE");
    side_json(&w, "duplicate", r->duplicate, r->duplicate_version,
              merge ? RECORD_MERGED : "ACTIVE");
    jw_key(&w, "identity_differs");
    jw_array_begin(&w);
    for (int i = 0; i < IDENTITY_FIELDS; i++)
        if (r->identity & (1u << i))
            jw_string(&w, identity_names[i]);
    jw_array_end(&w);
    jw_key(&w, "completed");
    jw_bool(&w, r->completed);
    jw_object_end(&w);
}

static bool
merge_or_unmerge(const app_t *app, request_t *req, response_t *res, bool merge, kt_error_t *err)
{
    store_conn_t *conn = handler_conn(app, req);
    json_value_t *body = NULL;
    const json_value_t *dup;
    const char *reason = NULL;
    write_meta_t meta;
    merge_result_t out;
    bson_t prefer = BSON_INITIALIZER;
    bool ok = false;

    if (conn == NULL || !handler_json_body(req, &body, err) || !check_members(req, body, err) ||
        !reason_of(req, body, &reason, err))
        goto done;
    dup = json_get(body, "duplicate");
    bson_destroy(&prefer);
    prefer_of(body, &prefer);
    records_fill_meta(req, &meta, reason);
    merge_request_t m = {.survivor = req->params[0],
                         .duplicate = dup != NULL ? dup->str : NULL,
                         .prefer = &prefer,
                         .meta = &meta};
    if (!(merge ? service_merge(conn, req->arena, &m, &out, err)
                : service_unmerge(conn, req->arena, &m, &out, err)))
        goto done;
    /* The write stands whatever the access log says (records_log_write). */
    records_log_write(app, req, conn, &store_kind_student, out.survivor);
    records_log_write(app, req, conn, &store_kind_student, out.duplicate);
    answer(app, req, res, &out, merge);
    ok = true;
done:
    bson_destroy(&prefer);
    return ok;
}

bool
handle_student_merge(const app_t *app, request_t *req, response_t *res, kt_error_t *err)
{
    return merge_or_unmerge(app, req, res, true, err);
}

bool
handle_student_unmerge(const app_t *app, request_t *req, response_t *res, kt_error_t *err)
{
    return merge_or_unmerge(app, req, res, false, err);
}
