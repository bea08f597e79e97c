/*
 * response: status, headers and a capped body buffer, serialised once in
 * CGI response form ("Status: 200 OK\r\n" + headers + blank line + body).
 * Handlers fill it; server.c writes it; problem.c fills it for errors.
 */
#ifndef KT_RESPONSE_H
#define KT_RESPONSE_H

#include <stdbool.h>
#include <stddef.h>

#include "core/arena.h"
#include "core/buf.h"
#include "http/request.h"

#define RESPONSE_HEADERS_MAX 16
#define RESPONSE_BODY_MAX    (64u << 20) /* bodies larger than this are streamed */

/* A streamed body: the handler's function writes through write_fn, in
 * pieces, after the head went out (so the status cannot change any more). */
typedef bool (*response_write_fn)(void *wctx, const char *data, size_t len);
typedef bool (*response_stream_fn)(void *ctx, response_write_fn write_fn, void *wctx);

typedef struct {
    int status;
    const char *content_type; /* NULL: no body */
    kv_t headers[RESPONSE_HEADERS_MAX];
    size_t nheaders;
    buf_t body;
    response_stream_fn stream; /* non-NULL: the body is streamed, body is unused */
    void *stream_ctx;
} response_t;

void response_init(response_t *res);

void response_release(response_t *res);

/* Adds a header; name and value must outlive the response (arena or static). */
bool response_header(response_t *res, const char *name, const char *value);

/* Sets status and content type and clears any body written so far. */
void response_reset(response_t *res, int status, const char *content_type);

/* Makes the body a stream produced by fn(ctx, …) when the response is written. */
void response_stream(response_t *res, int status, const char *content_type, response_stream_fn fn,
                     void *ctx);

/* Writes "Status:", Content-Type, Content-Length (unless streamed), X-Request-Id, the headers
 * and the blank line into out. */
bool response_head(const response_t *res, const request_t *req, buf_t *out);

/* "OK", "Not Found", ... */
const char *response_reason(int status);

#endif
