/*
 * problem: the one place that turns a kt_error_t into an RFC 9457
 * application/problem+json response:
 *   {type, title, status, detail, code, request_id, errors: [{pointer, code, message}]}
 * 401 answers carry WWW-Authenticate. Internal and store errors never leak
 * their message to the client (it goes to the log instead).
 */
#ifndef KT_PROBLEM_H
#define KT_PROBLEM_H

#include "core/error.h"
#include "core/json.h"
#include "http/request.h"
#include "http/response.h"

void problem_render(response_t *res, const request_t *req, const kt_error_t *err);

/* Extension members written into the problem object after the standard
 * ones (e.g. a deleted student's deleted_at, deleted_by, reason). */
typedef void (*problem_extra_fn)(jw_t *w, void *ctx);

void problem_render_with(response_t *res, const request_t *req, const kt_error_t *err,
                         problem_extra_fn extra, void *ctx);

#endif
