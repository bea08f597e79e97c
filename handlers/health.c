/* health: GET /api/v1/health — liveness of the service and its store. */
#include "handlers/handlers.h"

#include "core/json.h"

bool
handle_health(const app_t *app, request_t *req, response_t *res, kt_error_t *err)
{
    double latency_ms = 0;
    kt_error_t store_err;
    jw_t w;

    kt_error_clear(&store_err);
    bool ok = store_ping(app->store, &latency_ms, &store_err);
    response_reset(res, ok ? 200 : 503, "application/json");
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
    jw_key(&w, "latency_ms");
    jw_double(&w, (double)(long)(latency_ms * 1000) / 1000);
    jw_object_end(&w);
    jw_object_end(&w);
    if (!ok)
        *err = store_err; /* logged with the request, answered as health */
    return true;
}
