/*
 * server: one worker process — M threads that accept FastCGI connections on
 * the shared listening socket and run each request through parse → route →
 * authenticate → body checks → handler → response → log line.
 */
#ifndef KT_SERVER_H
#define KT_SERVER_H

#include "http/app.h"
#include "http/request.h"
#include "http/response.h"

/* Exit status of a worker that cannot start (bad key file, bad config):
 * the master backs off instead of restarting it in a tight loop. */
#define SERVER_EXIT_CONFIG 78

/* Creates the store's indexes (idempotent); returns an exit status. */
int server_init_store(const config_t *cfg);

/* Runs a worker until SIGTERM/SIGINT; returns the process exit status. */
/* metrics: the shared counters the master made before the fork (NULL: none). */
int server_worker_run(const config_t *cfg, int listen_fd, metrics_t *metrics);

/* Runs one parsed request through the route table into res (no I/O):
 * the core of a worker, exposed for tests and the fuzz target. */
typedef struct {
    request_read_fn read_body;
    void *read_ctx;
    int64_t now; /* seconds since the epoch, for token expiry */
} server_io_t;

void server_dispatch(const app_t *app, request_t *req, bool parsed, kt_error_t *err,
                     const server_io_t *io, response_t *res);

#endif
