/*
 * fuzz_request: the request path of a worker without the store — FastCGI
 * parameters and body → request_parse → router → authentication →
 * body read → problem+json. Input: "NAME=VALUE" lines, a blank line, the body.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "auth/authn.h"
#include "http/problem.h"
#include "http/request.h"
#include "fcgi/routes.h"
#include "http/router.h"

#define MAX_PARAMS 256

typedef struct {
    const char *data;
    size_t len, pos;
} mem_t;

static long
read_mem(void *ctx, char *buf, size_t len)
{
    mem_t *m = ctx;
    size_t n = m->len - m->pos < len ? m->len - m->pos : len;

    memcpy(buf, m->data + m->pos, n);
    m->pos += n;
    return (long)n;
}

/* Splits the input into NUL-terminated parameter strings and the body. */
static size_t
split(char *text, size_t len, char **params, mem_t *body)
{
    size_t n = 0, i = 0;

    while (i < len && n < MAX_PARAMS - 1) {
        char *nl = memchr(text + i, '\n', len - i);
        size_t end = nl ? (size_t)(nl - text) : len;
        if (end == i) { /* the blank line */
            i++;
            break;
        }
        text[end] = '\0';
        params[n++] = text + i;
        i = end + 1;
    }
    params[n] = NULL;
    body->data = text + (i < len ? i : len);
    body->len = i < len ? len - i : 0;
    body->pos = 0;
    return n;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    char *params[MAX_PARAMS];
    arena_t *arena = arena_new(8u << 20);
    request_t req;
    response_t res;
    kt_error_t err;
    mem_t body;
    char allow[64];

    memcpy(text, data, size);
    text[size] = '\0';
    split(text, size, params, &body);
    kt_error_clear(&err);
    response_init(&res);
    bool ok = request_parse(&req, arena, params, &err);
    const route_t *route =
        ok ? router_match(routes_table, routes_count, &req, allow, sizeof allow, &err) : NULL;
    if (route != NULL) {
        authn_input_t in = {
            request_header(&req, "authorization"), req.ssl_verify, req.ssl_dn, 0, NULL, NULL};
        principal_t p;
        authn_authenticate(NULL, NULL, &in, &p, &err);
        if (route->media_types != NULL && req.has_content_length)
            request_read_body(&req, 1u << 20, read_mem, &body, &err);
    }
    if (err.code != KT_OK)
        problem_render(&res, &req, &err);
    response_release(&res);
    arena_free(arena);
    free(text);
    return 0;
}
