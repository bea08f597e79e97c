/*
 * changes: GET /api/v1/changes?since=<cursor>&limit= — the change feed for
 * incremental sync (store/feed.h). Entries carry ids only, no personal
 * data. A school sees the entries of its own organisation, and a "left"
 * entry for each student who moved away from it. next_cursor is
 * always given: it is where to resume, even when nothing new has come yet.
 */
#include "handlers/common.h"
#include "handlers/handlers.h"
#include "store/feed.h"

/* One feed entry. The school a student left sees a "left" entry: the id and
 * no version (which is the new school's), docs/api.md "Changes". */
static bool
visit(void *ctx, const feed_entry_t *e)
{
    jw_t *w = ctx;

    jw_object_begin(w);
    jw_key(w, "sequence");
    jw_int(w, e->seq);
    jw_key(w, "student_id");
    jw_string(w, e->student_id);
    if (!e->left) {
        jw_key(w, "version");
        jw_int(w, e->version);
    }
    jw_key(w, "kind");
    jw_string(w, e->left ? "left" : e->kind);
    jw_key(w, "time");
    jw_string(w, e->time);
    jw_object_end(w);
    return true;
}

bool
handle_changes(const app_t *app, request_t *req, response_t *res, kt_error_t *err)
{
    store_conn_t *conn = handler_conn(app, req);
    const char *since_s = request_query(req, "since");
    const char *org = req->principal.role == ROLE_SCHOOL ? req->principal.org : NULL;
    int64_t since = 0, next = 0;
    int limit;
    jw_t w;

    if (conn == NULL || !handler_limit(req, &limit, err))
        return false;
    if (since_s != NULL && !handler_parse_int(since_s, &since)) {
        kt_error_set_status(err, KT_DOMAIN_INPUT, KT_FORMAT, 400,
                            "since must be a cursor from this feed");
        return false;
    }
    response_reset(res, 200, "application/json");
    jw_init(&w, &res->body);
    jw_object_begin(&w);
    jw_key(&w, "items");
    jw_array_begin(&w);
    if (!feed_read(conn, since, limit, org, visit, &w, &next, err))
        return false;
    jw_array_end(&w);
    jw_key(&w, "next_cursor");
    jw_string(&w, arena_printf(req->arena, "%lld", (long long)next));
    jw_object_end(&w);
    return true;
}
