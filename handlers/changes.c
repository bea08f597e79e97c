/*
 * changes: GET /api/v1/changes?since=<cursor>&limit= — the change feed for
 * incremental sync (store/feed.h). Entries carry ids only, no personal
 * data. A school sees the entries of its own organisation, and a "left"
 * entry for each student who moved away from it. next_cursor is
 * always given: it is where to resume, even when nothing new has come yet.
 *
 * A cursor is "<sequence>" in the store's original epoch and
 * "<epoch>.<sequence>" after a restore (store/feed.h): a cursor of another
 * epoch names a history the store no longer has, and answers 410
 * FEED_EPOCH_CHANGED — the client starts over without since.
 */
#include "handlers/common.h"
#include "handlers/handlers.h"
#include "store/feed.h"

#include <string.h>

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

/* since = "<seq>" or "<epoch>.<seq>" of the current epoch → *seq. */
static bool
parse_cursor(const char *since, const char *epoch, int64_t *seq, kt_error_t *err)
{
    const char *dot = strchr(since, '.');
    size_t elen = dot != NULL ? (size_t)(dot - since) : 0;
    const char *digits = dot != NULL ? dot + 1 : since;
    bool same = dot != NULL ? elen == strlen(epoch) && strncmp(since, epoch, elen) == 0 &&
                                  !epoch_is_original(epoch)
                            : epoch_is_original(epoch);

    if (!handler_parse_int(digits, seq) || (dot != NULL && elen == 0)) {
        kt_error_set_status(err, KT_DOMAIN_INPUT, KT_FORMAT, 400,
                            "since must be a cursor from this feed");
        return false;
    }
    if (!same && *seq != 0) {
        kt_error_set(err, KT_DOMAIN_INPUT, KT_FEED_EPOCH_CHANGED,
                     "the cursor is of before the registry was restored from a backup: start "
                     "again without since");
        return false;
    }
    if (!same)
        *seq = 0; /* "0" starts from the beginning in any epoch */
    return true;
}

static const char *
cursor_of(request_t *req, const char *epoch, int64_t seq)
{
    if (epoch_is_original(epoch))
        return arena_printf(req->arena, "%lld", (long long)seq);
    return arena_printf(req->arena, "%s.%lld", epoch, (long long)seq);
}

bool
handle_changes(const app_t *app, request_t *req, response_t *res, kt_error_t *err)
{
    store_conn_t *conn = handler_conn(app, req);
    const char *since_s = request_query(req, "since");
    const char *org = req->principal.role == ROLE_SCHOOL ? req->principal.org : NULL;
    int64_t since = 0, next = 0;
    char epoch[FEED_EPOCH_MAX];
    int limit;
    jw_t w;

    if (conn == NULL || !handler_limit(req, &limit, err) ||
        !epoch_cache_get(app->epoch, app->store, epoch, err))
        return false;
    if (since_s != NULL && !parse_cursor(since_s, epoch, &since, err))
        return false;
    response_reset(res, 200, "application/json");
    response_header(res, "X-Feed-Epoch", arena_strdup(req->arena, epoch));
    jw_init(&w, &res->body);
    jw_object_begin(&w);
    jw_key(&w, "items");
    jw_array_begin(&w);
    if (!feed_read(conn, since, limit, org, visit, &w, &next, err))
        return false;
    jw_array_end(&w);
    jw_key(&w, "epoch");
    jw_string(&w, epoch);
    jw_key(&w, "next_cursor");
    jw_string(&w, cursor_of(req, epoch, next));
    jw_object_end(&w);
    return true;
}
