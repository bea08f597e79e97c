/*
 * log: one JSON object per line on stderr, written with a single write(2)
 * so that lines of concurrent threads and workers never interleave.
 *
 * What is logged is chosen so that no personal data can appear: the route
 * pattern (never the path or query), status, duration, the principal's
 * subject and role (service accounts, not children), the request id.
 */
#ifndef KT_LOG_H
#define KT_LOG_H

#include "core/error.h"
#include "http/request.h"

typedef enum { LOG_DEBUG = 0, LOG_INFO, LOG_WARN, LOG_ERROR, LOG__MAX } log_level_t;

/* An event of the process: message is ours (static text or config values). */
void log_event(log_level_t level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The line of a finished request; err (nullable) adds its code and, for
 * store/internal errors, its message for operators. */
void log_request(const request_t *req, int status, const kt_error_t *err);

#endif
