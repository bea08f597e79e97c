/* metrics: shared atomic counters and their Prometheus text rendering. */
#include "http/metrics.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

/* Counters in a mapping shared by processes must not hide a lock. */
_Static_assert(ATOMIC_LLONG_LOCK_FREE == 2, "64-bit atomics must be lock-free");

#define STATUS_MIN 100
#define STATUS_MAX 599
#define STATUSES   (STATUS_MAX - STATUS_MIN + 1)
#define UNMATCHED  (METRICS_ROUTES) /* the slot after the named routes */
#define SLOTS      (METRICS_ROUTES + 1)

/* Upper bounds of the latency buckets, in seconds (+Inf is the count). */
static const double bucket_le[] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30};
#define BUCKETS (sizeof bucket_le / sizeof bucket_le[0])

typedef atomic_ullong counter_t;

/* What lives in the shared mapping: plain counters, no pointers. */
typedef struct {
    counter_t requests[SLOTS][STATUSES];
    counter_t buckets[SLOTS][BUCKETS]; /* each bucket alone; rendered cumulative */
    counter_t count[SLOTS];
    counter_t sum_us[SLOTS];
    counter_t store_ops;
    counter_t store_errors[KT_CODE__MAX];
    counter_t access_log_failures;
    counter_t worker_restarts;
    atomic_int workers_alive;
    atomic_int workers_configured;
} shared_t;

/* The handle: the mapping and the route names, which are set before fork
 * and so are the same in every process. */
struct metrics {
    shared_t *shared;
    int nroutes;
    const char *method[METRICS_ROUTES];
    const char *pattern[METRICS_ROUTES];
};

metrics_t *
metrics_new(void)
{
    metrics_t *m = calloc(1, sizeof *m);

    if (m == NULL)
        return NULL;
    /* Anonymous memory is zero, which is every counter's start. */
    m->shared =
        mmap(NULL, sizeof *m->shared, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (m->shared == MAP_FAILED) {
        free(m);
        return NULL;
    }
    return m;
}

void
metrics_free(metrics_t *m)
{
    if (m == NULL)
        return;
    munmap(m->shared, sizeof *m->shared);
    free(m);
}

bool
metrics_route_add(metrics_t *m, const char *method, const char *pattern)
{
    if (m == NULL || m->nroutes >= METRICS_ROUTES)
        return false;
    m->method[m->nroutes] = method;
    m->pattern[m->nroutes] = pattern;
    m->nroutes++;
    return true;
}

int
metrics_route_index(const metrics_t *m, const char *method, const char *pattern)
{
    const char *as = strcmp(method, "HEAD") == 0 ? "GET" : method;

    if (m == NULL || pattern == NULL)
        return UNMATCHED;
    for (int i = 0; i < m->nroutes; i++)
        if (strcmp(m->pattern[i], pattern) == 0 && strcmp(m->method[i], as) == 0)
            return i;
    return UNMATCHED;
}

static void
add(counter_t *c, unsigned long long n)
{
    atomic_fetch_add_explicit(c, n, memory_order_relaxed);
}

static unsigned long long
get(const counter_t *c)
{
    return atomic_load_explicit((counter_t *)c, memory_order_relaxed);
}

void
metrics_request(metrics_t *m, int route, int status, double seconds)
{
    size_t b = 0;

    if (m == NULL || route < 0 || route >= SLOTS)
        return;
    if (status < STATUS_MIN || status > STATUS_MAX)
        status = 500; /* cannot happen: the response's status is always valid */
    while (b < BUCKETS && seconds > bucket_le[b])
        b++;
    add(&m->shared->requests[route][status - STATUS_MIN], 1);
    if (b < BUCKETS)
        add(&m->shared->buckets[route][b], 1);
    add(&m->shared->count[route], 1);
    add(&m->shared->sum_us[route], seconds > 0 ? (unsigned long long)(seconds * 1e6) : 0);
}

void
metrics_store_op(metrics_t *m, bool ok, kt_code_t code)
{
    if (m == NULL)
        return;
    add(&m->shared->store_ops, 1);
    if (!ok && code > KT_OK && code < KT_CODE__MAX)
        add(&m->shared->store_errors[code], 1);
}

void
metrics_access_log_failed(metrics_t *m)
{
    if (m != NULL)
        add(&m->shared->access_log_failures, 1);
}

void
metrics_workers_set(metrics_t *m, int alive, int configured)
{
    if (m == NULL)
        return;
    atomic_store(&m->shared->workers_alive, alive);
    atomic_store(&m->shared->workers_configured, configured);
}

void
metrics_worker_restarted(metrics_t *m)
{
    if (m != NULL)
        add(&m->shared->worker_restarts, 1);
}

void
metrics_workers_get(const metrics_t *m, int *alive, int *configured)
{
    *alive = m != NULL ? atomic_load(&m->shared->workers_alive) : 0;
    *configured = m != NULL ? atomic_load(&m->shared->workers_configured) : 0;
}

static void
head(buf_t *out, const char *name, const char *type, const char *help)
{
    buf_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* The labels of a route slot: method and pattern (patterns hold no quote,
 * backslash or newline, so they need no escaping). */
static void
route_labels(const metrics_t *m, int slot, buf_t *out)
{
    if (slot == UNMATCHED)
        buf_puts(out, "method=\"\",route=\"unmatched\"");
    else
        buf_printf(out, "method=\"%s\",route=\"%s\"", m->method[slot], m->pattern[slot]);
}

static bool
slot_used(const metrics_t *m, int slot)
{
    return slot == UNMATCHED || slot < m->nroutes;
}

static void
render_requests(const metrics_t *m, buf_t *out)
{
    head(out, "kontingent_http_requests_total", "counter",
         "Requests answered, by route pattern and HTTP status.");
    for (int r = 0; r < SLOTS; r++) {
        for (int s = 0; s < STATUSES && slot_used(m, r); s++) {
            unsigned long long n = get(&m->shared->requests[r][s]);
            if (n == 0)
                continue;
            buf_puts(out, "kontingent_http_requests_total{");
            route_labels(m, r, out);
            buf_printf(out, ",status=\"%d\"} %llu\n", s + STATUS_MIN, n);
        }
    }
}

static void
render_histogram(const metrics_t *m, int r, buf_t *out)
{
    unsigned long long cumulative = 0, count = get(&m->shared->count[r]);

    for (size_t b = 0; b < BUCKETS; b++) {
        cumulative += get(&m->shared->buckets[r][b]);
        buf_puts(out, "kontingent_http_request_duration_seconds_bucket{");
        route_labels(m, r, out);
        buf_printf(out, ",le=\"%g\"} %llu\n", bucket_le[b], cumulative);
    }
    /* Read apart from the buckets, the count may be ahead of them by
     * requests that ended meanwhile; +Inf never goes below a bucket. */
    if (count < cumulative)
        count = cumulative;
    buf_puts(out, "kontingent_http_request_duration_seconds_bucket{");
    route_labels(m, r, out);
    buf_printf(out, ",le=\"+Inf\"} %llu\n", count);
    buf_puts(out, "kontingent_http_request_duration_seconds_sum{");
    route_labels(m, r, out);
    buf_printf(out, "} %.6f\n", (double)get(&m->shared->sum_us[r]) / 1e6);
    buf_puts(out, "kontingent_http_request_duration_seconds_count{");
    route_labels(m, r, out);
    buf_printf(out, "} %llu\n", count);
}

static void
render_latency(const metrics_t *m, buf_t *out)
{
    head(out, "kontingent_http_request_duration_seconds", "histogram",
         "Time from a request's arrival to its answer written, by route pattern.");
    for (int r = 0; r < SLOTS; r++)
        if (slot_used(m, r) && get(&m->shared->count[r]) > 0)
            render_histogram(m, r, out);
}

static void
render_store(const metrics_t *m, buf_t *out)
{
    head(out, "kontingent_store_operations_total", "counter",
         "Store contract operations (each one or a few round trips), ok or not.");
    buf_printf(out, "kontingent_store_operations_total %llu\n", get(&m->shared->store_ops));
    head(out, "kontingent_store_errors_total", "counter",
         "Store operations that failed, by error code.");
    for (int c = KT_OK + 1; c < KT_CODE__MAX; c++) {
        unsigned long long n = get(&m->shared->store_errors[c]);
        if (n > 0)
            buf_printf(out, "kontingent_store_errors_total{code=\"%s\"} %llu\n",
                       kt_code_name((kt_code_t)c), n);
    }
    head(out, "kontingent_access_log_write_failures_total", "counter",
         "Access-log entries that could not be written (each refused the read, 503).");
    buf_printf(out, "kontingent_access_log_write_failures_total %llu\n",
               get(&m->shared->access_log_failures));
}

static void
render_workers(const metrics_t *m, buf_t *out)
{
    head(out, "kontingent_workers_alive", "gauge", "Worker processes running now.");
    buf_printf(out, "kontingent_workers_alive %d\n", atomic_load(&m->shared->workers_alive));
    head(out, "kontingent_workers_configured", "gauge", "Worker processes wanted (KT_WORKERS).");
    buf_printf(out, "kontingent_workers_configured %d\n",
               atomic_load(&m->shared->workers_configured));
    head(out, "kontingent_worker_restarts_total", "counter",
         "Workers that died and were replaced.");
    buf_printf(out, "kontingent_worker_restarts_total %llu\n", get(&m->shared->worker_restarts));
}

static void
render_queue(const metrics_queue_t *q, buf_t *out)
{
    head(out, "kontingent_queue_up", "gauge",
         "1 when the package queue could be read at this scrape, 0 when the store did not answer.");
    buf_printf(out, "kontingent_queue_up %d\n", q->known);
    if (!q->known)
        return;
    head(out, "kontingent_queue_packages", "gauge",
         "XML packages waiting in the background queue (INQUEUE).");
    buf_printf(out, "kontingent_queue_packages %lld\n", (long long)q->waiting);
    head(out, "kontingent_queue_packages_capped", "gauge",
         "1 when more packages wait than a scrape counts (1000).");
    buf_printf(out, "kontingent_queue_packages_capped %d\n", q->capped);
    head(out, "kontingent_queue_oldest_age_seconds", "gauge",
         "Seconds since the oldest waiting package arrived (0: none waits).");
    buf_printf(out, "kontingent_queue_oldest_age_seconds %.3f\n", q->oldest_age);
}

bool
metrics_render(const metrics_t *m, const metrics_queue_t *queue, buf_t *out)
{
    head(out, "kontingent_build_info", "gauge", "The service's version.");
    buf_printf(out, "kontingent_build_info{version=\"%s\"} 1\n", KT_VERSION);
    if (m != NULL) {
        render_requests(m, out);
        render_latency(m, out);
        render_store(m, out);
        render_workers(m, out);
    }
    render_queue(queue, out);
    return !out->overflow;
}
