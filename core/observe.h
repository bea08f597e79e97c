/*
 * observe: the hook through which the lower layers report what /metrics
 * counts (store operations and their errors, access-log entries that could
 * not be written) without depending on the layer that keeps the counters.
 * The worker installs its counting function once, before its threads start
 * (fcgi/server.c); until then, and in kontingentctl, reports go nowhere.
 */
#ifndef KT_OBSERVE_H
#define KT_OBSERVE_H

#include <stdbool.h>

#include "core/error.h"

typedef enum {
    KT_OBSERVE_STORE_OP = 0,      /* one store contract operation ended (ok or code) */
    KT_OBSERVE_ACCESS_LOG_FAILED, /* an access-log entry was not written (code) */
    KT_OBSERVE__MAX
} kt_observe_t;

/* ok: whether the operation succeeded; code: its error code when not. */
typedef void (*kt_observe_fn)(void *ctx, kt_observe_t what, bool ok, kt_code_t code);

/* Installs fn, called with ctx (fn NULL: none). Call before any thread reports. */
void kt_observe_install(kt_observe_fn fn, void *ctx);

/* Reports what to the installed function, if any. */
void kt_observe(kt_observe_t what, bool ok, kt_code_t code);

/* The common case: reports operation `what` with the outcome ok and the
 * code of err (KT_INTERNAL when err is NULL); returns ok. */
bool kt_observed(kt_observe_t what, bool ok, const kt_error_t *err);

#endif
