/* response: building and serialising the head of a response. */
#include "fcgi/response.h"

#include <string.h>

void
response_init(response_t *res)
{
    memset(res, 0, sizeof *res);
    res->status = 200;
    buf_init(&res->body, RESPONSE_BODY_MAX);
}

void
response_release(response_t *res)
{
    buf_release(&res->body);
    memset(res, 0, sizeof *res);
}

bool
response_header(response_t *res, const char *name, const char *value)
{
    if (res->nheaders >= RESPONSE_HEADERS_MAX)
        return false;
    res->headers[res->nheaders++] = (kv_t){name, value, strlen(value)};
    return true;
}

void
response_reset(response_t *res, int status, const char *content_type)
{
    res->status = status;
    res->content_type = content_type;
    res->nheaders = 0;
    res->stream = NULL;
    res->stream_ctx = NULL;
    buf_clear(&res->body);
}

void
response_stream(response_t *res, int status, const char *content_type, response_stream_fn fn,
                void *ctx)
{
    response_reset(res, status, content_type);
    res->stream = fn;
    res->stream_ctx = ctx;
}

const char *
response_reason(int status)
{
    switch (status) {
    case 200:
        return "OK";
    case 201:
        return "Created";
    case 202:
        return "Accepted";
    case 204:
        return "No Content";
    case 304:
        return "Not Modified";
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 406:
        return "Not Acceptable";
    case 409:
        return "Conflict";
    case 410:
        return "Gone";
    case 412:
        return "Precondition Failed";
    case 413:
        return "Content Too Large";
    case 414:
        return "URI Too Long";
    case 415:
        return "Unsupported Media Type";
    case 422:
        return "Unprocessable Content";
    case 428:
        return "Precondition Required";
    case 431:
        return "Request Header Fields Too Large";
    case 500:
        return "Internal Server Error";
    case 503:
        return "Service Unavailable";
    default:
        return "Unknown";
    }
}

bool
response_head(const response_t *res, const request_t *req, buf_t *out)
{
    buf_printf(out, "Status: %d %s\r\n", res->status, response_reason(res->status));
    if (res->content_type != NULL) {
        buf_printf(out, "Content-Type: %s\r\n", res->content_type);
        if (res->stream == NULL)
            buf_printf(out, "Content-Length: %zu\r\n", res->body.len);
    }
    buf_printf(out, "X-Request-Id: %s\r\n", req->request_id);
    for (size_t i = 0; i < res->nheaders; i++)
        buf_printf(out, "%s: %s\r\n", res->headers[i].name, res->headers[i].value);
    return buf_puts(out, "\r\n");
}
