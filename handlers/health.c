/* health: GET /api/v1/health — liveness of the service and its store. */
#include "handlers/handlers.h"

#include "core/json.h"

/* "ok", "unwritable" (answers, but the write probe failed: a full disk, a
 * read-only file system, a node that is not primary) or "unavailable". */
static const char *
store_state(const store_health_t *h)
{
    return h->writable ? "ok" : h->reachable ? "unwritable" : "unavailable";
}

bool
handle_health(const app_t *app, request_t *req, response_t *res, kt_error_t *err)
{
    store_health_t h;
    jw_t w;

    (void)req;
    bool ok = store_check(app->store, &h);
    response_reset(res, ok ? 200 : 503, "application/json");
    if (!ok)
        response_header(res, "Retry-After", "5");
    jw_init(&w, &res->body);
    jw_object_begin(&w);
    jw_key(&w, "status");
    jw_string(&w, ok ? "ok" : "unavailable");
    jw_key(&w, "version");
    jw_string(&w, KT_VERSION);
    jw_key(&w, "store");
    jw_object_begin(&w);
    jw_key(&w, "ok");
    jw_bool(&w, ok);
    jw_key(&w, "state");
    jw_string(&w, store_state(&h));
    jw_key(&w, "latency_ms");
    jw_double(&w, (double)(long)(h.latency_ms * 1000) / 1000);
    jw_object_end(&w);
    jw_object_end(&w);
    if (!ok)
        *err = h.error; /* logged with the request, answered as health */
    return true;
}
