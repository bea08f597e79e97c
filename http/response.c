/* response: building and serialising the head of a response. */
#include "http/response.h"

#include <string.h>
#include <strings.h>

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

static bool
response_has_header(const response_t *res, const char *name)
{
    for (size_t i = 0; i < res->nheaders; i++)
        if (strcasecmp(res->headers[i].name, name) == 0)
            return true;
    return false;
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

/* The reason phrases of the statuses the service answers with (RFC 9110). */
static const struct {
    int status;
    const char *reason;
} response_reasons[] = {
    {200, "OK"},
    {201, "Created"},
    {202, "Accepted"},
    {204, "No Content"},
    {301, "Moved Permanently"},
    {304, "Not Modified"},
    {400, "Bad Request"},
    {401, "Unauthorized"},
    {403, "Forbidden"},
    {404, "Not Found"},
    {405, "Method Not Allowed"},
    {406, "Not Acceptable"},
    {409, "Conflict"},
    {410, "Gone"},
    {412, "Precondition Failed"},
    {413, "Content Too Large"},
    {414, "URI Too Long"},
    {415, "Unsupported Media Type"},
    {422, "Unprocessable Content"},
    {428, "Precondition Required"},
    {431, "Request Header Fields Too Large"},
    {500, "Internal Server Error"},
    {503, "Service Unavailable"},
};

const char *
response_reason(int status)
{
    for (size_t i = 0; i < sizeof response_reasons / sizeof response_reasons[0]; i++)
        if (response_reasons[i].status == status)
            return response_reasons[i].reason;
    return "Unknown";
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
    /* Texts of a body are in the request's language (docs/i18n.md); a
     * handler whose body has a fixed language names it itself. */
    if (res->content_type != NULL && !response_has_header(res, "Content-Language")) {
        buf_printf(out, "Content-Language: %s\r\n", req->lang_en ? "en" : "ru");
        buf_puts(out, "Vary: Accept-Language\r\n");
    }
    for (size_t i = 0; i < res->nheaders; i++)
        buf_printf(out, "%s: %s\r\n", res->headers[i].name, res->headers[i].value);
    return buf_puts(out, "\r\n");
}
