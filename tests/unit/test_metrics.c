/* test_metrics: the shared counters add up across processes and render in
 * the Prometheus text format. */
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "http/metrics.h"

static char *
render(const metrics_t *m, const metrics_queue_t *q)
{
    buf_t b;

    buf_init(&b, 1u << 20);
    CHECK(metrics_render(m, q, &b));
    return buf_detach(&b, NULL);
}

/* Two children count into the mapping their parent made; the parent sees both. */
static void
test_children_add_up(void)
{
    metrics_t *m = metrics_new();
    metrics_queue_t q = {.known = true, .waiting = 2, .oldest_age = 7.5};

    CHECK(m != NULL);
    CHECK(metrics_route_add(m, "GET", "/api/v1/students/{id}"));
    for (int c = 0; c < 2; c++) {
        pid_t pid = fork();
        if (pid == 0) {
            int r = metrics_route_index(m, "GET", "/api/v1/students/{id}");
            metrics_request(m, r, 200, 0.003);
            metrics_request(m, r, 404, 0.2);
            metrics_store_op(m, false, KT_STORE_UNAVAILABLE);
            metrics_access_log_failed(m);
            _exit(0);
        }
        waitpid(pid, NULL, 0);
    }
    metrics_request(m, metrics_route_index(m, "GET", "-"), 404, 0.001);
    metrics_workers_set(m, 3, 4);
    char *text = render(m, &q);
    CHECK(strstr(text, "# TYPE kontingent_http_requests_total counter\n") != NULL);
    CHECK(strstr(text, "kontingent_http_requests_total{method=\"GET\",route=\"/api/v1/students/"
                       "{id}\",status=\"200\"} 2\n") != NULL);
    CHECK(strstr(text, "kontingent_http_requests_total{method=\"\",route=\"unmatched\","
                       "status=\"404\"} 1\n") != NULL);
    /* Cumulative buckets: 2 at 5 ms, all 4 by 250 ms and at +Inf. */
    CHECK(strstr(text, "route=\"/api/v1/students/{id}\",le=\"0.005\"} 2\n") != NULL);
    CHECK(strstr(text, "route=\"/api/v1/students/{id}\",le=\"0.1\"} 2\n") != NULL);
    CHECK(strstr(text, "route=\"/api/v1/students/{id}\",le=\"0.25\"} 4\n") != NULL);
    CHECK(strstr(text, "route=\"/api/v1/students/{id}\",le=\"+Inf\"} 4\n") != NULL);
    CHECK(strstr(text, "kontingent_store_operations_total 2\n") != NULL);
    CHECK(strstr(text, "kontingent_store_errors_total{code=\"STORE_UNAVAILABLE\"} 2\n") != NULL);
    CHECK(strstr(text, "kontingent_access_log_write_failures_total 2\n") != NULL);
    CHECK(strstr(text, "kontingent_workers_alive 3\n") != NULL);
    CHECK(strstr(text, "kontingent_workers_configured 4\n") != NULL);
    CHECK(strstr(text, "kontingent_queue_packages 2\n") != NULL);
    CHECK(strstr(text, "kontingent_queue_oldest_age_seconds 7.500\n") != NULL);
    free(text);
    metrics_free(m);
}

/* HEAD counts as its GET route; an unknown route or none is "unmatched". */
static void
test_route_index(void)
{
    metrics_t *m = metrics_new();

    CHECK(metrics_route_add(m, "GET", "/a"));
    CHECK(metrics_route_add(m, "POST", "/a"));
    CHECK_INT(metrics_route_index(m, "HEAD", "/a"), 0);
    CHECK_INT(metrics_route_index(m, "POST", "/a"), 1);
    CHECK_INT(metrics_route_index(m, "PUT", "/a"), METRICS_ROUTES);
    CHECK_INT(metrics_route_index(m, "GET", NULL), METRICS_ROUTES);
    for (int i = 2; i < METRICS_ROUTES; i++)
        CHECK(metrics_route_add(m, "GET", "/b"));
    CHECK(!metrics_route_add(m, "GET", "/c")); /* full: refused, not overflowed */
    metrics_free(m);
}

/* A store that did not answer leaves the queue's numbers out, saying so. */
static void
test_queue_unknown(void)
{
    metrics_queue_t q = {.known = false};
    char *text = render(NULL, &q);

    CHECK(strstr(text, "kontingent_queue_up 0\n") != NULL);
    CHECK(strstr(text, "kontingent_queue_packages ") == NULL);
    free(text);
}

int
main(void)
{
    CHECK_RUN(test_children_add_up);
    CHECK_RUN(test_route_index);
    CHECK_RUN(test_queue_unknown);
    CHECK_MAIN_END();
}
