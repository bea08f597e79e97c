/*
 * metrics: the counters behind GET /metrics (docs/operations.md,
 * "Metrics"), shared by the master and every worker.
 *
 * The master creates them before it forks (metrics_new: an anonymous
 * MAP_SHARED mapping), names the routes, and keeps the number of workers
 * alive up to date; each worker's threads add to them with atomic
 * operations (C11, lock-free on every platform we build for, so they work
 * across processes), so whichever worker answers a scrape reads the sum of
 * all. Nothing in them names a person: routes are patterns, never paths.
 * A NULL metrics_t is accepted everywhere and counts nothing (unit tests,
 * kontingentctl).
 */
#ifndef KT_METRICS_H
#define KT_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/error.h"

/* Rows of the route table the metrics can name; one more slot counts the
 * requests that matched no route ("unmatched"). */
#define METRICS_ROUTES 64

/* At most this many waiting packages are counted at a scrape (the count
 * is then a lower bound: kontingent_queue_packages_capped is 1). */
#define METRICS_QUEUE_MAX 1000

typedef struct metrics metrics_t;

/* The shared counters, all zero; NULL when the mapping fails. */
metrics_t *metrics_new(void);

void metrics_free(metrics_t *m);

/* Names the next route (static strings: they outlive every fork); false
 * when METRICS_ROUTES are named already. */
bool metrics_route_add(metrics_t *m, const char *method, const char *pattern);

/* The slot of a route by its method and pattern (HEAD counts as GET);
 * the "unmatched" slot when pattern is NULL or unknown. */
int metrics_route_index(const metrics_t *m, const char *method, const char *pattern);

/* One answered request: its route slot, status and duration in seconds. */
void metrics_request(metrics_t *m, int route, int status, double seconds);

/* One store operation ended: ok, or failed with code. */
void metrics_store_op(metrics_t *m, bool ok, kt_code_t code);

/* An access-log entry that could not be written (the read was refused). */
void metrics_access_log_failed(metrics_t *m);

/* The master's view of its workers: how many run now (of configured), and
 * one more restart of a worker that died. */
void metrics_workers_set(metrics_t *m, int alive, int configured);
void metrics_worker_restarted(metrics_t *m);

/* The master's last word on its workers (0, 0 without metrics). */
void metrics_workers_get(const metrics_t *m, int *alive, int *configured);

/* The package queue as the scrape found it. */
typedef struct {
    bool known;        /* false: the store did not answer; nothing is written */
    int64_t waiting;   /* INQUEUE packages (at most METRICS_QUEUE_MAX) */
    bool capped;       /* there may be more than waiting */
    double oldest_age; /* seconds since the oldest waiting one arrived; 0: none */
} metrics_queue_t;

/* Writes every metric in the Prometheus text format 0.0.4 to out. */
bool metrics_render(const metrics_t *m, const metrics_queue_t *queue, buf_t *out);

#endif
