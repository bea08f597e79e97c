/*
 * metrics: GET /metrics — the shared counters (http/metrics.h) and, read
 * at the scrape, the package queue: how many packages wait and since when
 * the oldest does. Both are bounded: at most METRICS_QUEUE_MAX + 1 keys on
 * the health pool (STORE_HEALTH_TIMEOUT_MS a round trip). No personal data:
 * route patterns, codes and counts only (docs/security.md).
 */
#include "handlers/handlers.h"

#include <time.h>

#include "store/packages.h"
#include "store/util.h"

/* Seconds since a stored time "YYYY-MM-DDTHH:MM:SS(.mmm)Z"; 0 when unparsable. */
static double
age_of(const char *stamp, time_t now)
{
    struct tm tm = {0};
    const char *rest = stamp != NULL ? strptime(stamp, "%Y-%m-%dT%H:%M:%S", &tm) : NULL;

    if (rest == NULL)
        return 0;
    time_t then = timegm(&tm);
    return now > then ? (double)(now - then) : 0;
}

static void
read_queue(const app_t *app, request_t *req, metrics_queue_t *q)
{
    char(*keys)[PACKAGES_KEY_MAX] = arena_calloc(req->arena, METRICS_QUEUE_MAX + 1, sizeof *keys);
    store_conn_t *conn = store_conn_pop(app->store, STORE_POOL_HEALTH);
    kt_error_t err;
    bson_t pkg;
    int n = 0;

    kt_error_clear(&err);
    *q = (metrics_queue_t){0};
    if (keys == NULL || !packages_waiting(conn, keys, METRICS_QUEUE_MAX + 1, &n, &err))
        goto done;
    q->known = true;
    q->capped = n > METRICS_QUEUE_MAX;
    q->waiting = q->capped ? METRICS_QUEUE_MAX : n;
    /* The oldest's arrival: a package that ended meanwhile leaves 0. */
    if (n > 0) {
        if (packages_get(conn, keys[0], &pkg, &err))
            q->oldest_age = age_of(util_get_str(&pkg, "received_at"), time(NULL));
        bson_destroy(&pkg); /* initialised by packages_get, found or not */
    }
done:
    store_conn_push(conn);
}

bool
handle_metrics(const app_t *app, request_t *req, response_t *res, kt_error_t *err)
{
    metrics_queue_t queue;

    read_queue(app, req, &queue);
    response_reset(res, 200, "text/plain; version=0.0.4; charset=utf-8");
    if (!metrics_render(app->metrics, &queue, &res->body)) {
        kt_error_set(err, KT_DOMAIN_INTERNAL, KT_INTERNAL, "the metrics do not fit the answer");
        return false;
    }
    return true;
}
