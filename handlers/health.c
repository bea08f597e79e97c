/* health: GET /api/v1/health (the service and its store), /health/live
 * (the process answers) and /health/ready (it can serve: store writable). */
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

/* Liveness: the worker answers. Nothing else is asked (the store may be
 * down: restarting the service would not bring it back). */
bool
handle_health_live(const app_t *app, request_t *req, response_t *res, kt_error_t *err)
{
    jw_t w;

    (void)app;
    (void)req;
    (void)err;
    response_reset(res, 200, "application/json");
    jw_init(&w, &res->body);
    jw_object_begin(&w);
    jw_key(&w, "status");
    jw_string(&w, "ok");
    jw_key(&w, "version");
    jw_string(&w, KT_VERSION);
    jw_object_end(&w);
    return true;
}

/* Readiness: the store answers and takes a write, and the master has at
 * least one worker up (without shared counters, the one answering). */
bool
handle_health_ready(const app_t *app, request_t *req, response_t *res, kt_error_t *err)
{
    store_health_t h;
    int alive = 1, configured = 1;
    jw_t w;

    (void)req;
    if (app->metrics != NULL)
        metrics_workers_get(app->metrics, &alive, &configured);
    bool store_ok = store_check(app->store, &h);
    bool ok = store_ok && alive > 0;
    response_reset(res, ok ? 200 : 503, "application/json");
    if (!ok)
        response_header(res, "Retry-After", "5");
    jw_init(&w, &res->body);
    jw_object_begin(&w);
    jw_key(&w, "status");
    jw_string(&w, ok ? "ok" : "unavailable");
    jw_key(&w, "store");
    jw_string(&w, store_state(&h));
    jw_key(&w, "workers");
    jw_object_begin(&w);
    jw_key(&w, "alive");
    jw_int(&w, alive);
    jw_key(&w, "configured");
    jw_int(&w, configured);
    jw_object_end(&w);
    jw_object_end(&w);
    if (!store_ok)
        *err = h.error; /* logged with the request */
    return true;
}
