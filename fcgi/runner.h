/*
 * runner: each worker's background thread for queued XML packages. It
 * polls the queue every second, takes a package's lease (an insert: of two
 * workers exactly one wins), processes it through ingest_resume — skipping
 * items an earlier, interrupted run applied — and renews the lease as it
 * goes. A worker that dies leaves its lease to expire (RUNNER_LEASE_MS);
 * then another worker takes the package over. On stop it lets go at once.
 */
#ifndef KT_RUNNER_H
#define KT_RUNNER_H

#include <stdatomic.h>

#include "http/app.h"

#define RUNNER_LEASE_MS 30000

typedef struct {
    const app_t *app;
    atomic_bool *stopping;
} runner_args_t;

/* The thread's function; arg is a runner_args_t that outlives the thread. */
void *runner_main(void *arg);

#endif
