/* common: request helpers shared by the handlers. */
#include "handlers/common.h"

#include <string.h>

#include "core/utf8.h"

typedef struct {
    store_t *store;
    mongoc_client_t *client;
} lease_t;

static void
give_back(void *data)
{
    lease_t *l = data;
    store_client_push(l->store, l->client);
}

mongoc_client_t *
handler_client(const app_t *app, request_t *req)
{
    lease_t *l = arena_alloc(req->arena, sizeof *l);

    if (l == NULL)
        return NULL;
    l->store = app->store;
    l->client = store_client_pop(app->store);
    if (arena_add_cleanup(req->arena, give_back, l) != 0) {
        store_client_push(app->store, l->client);
        return NULL;
    }
    return l->client;
}

bool
handler_parse_int(const char *s, int64_t *out)
{
    int64_t n = 0;

    if (s == NULL || *s == '\0' || strlen(s) > 18)
        return false;
    for (const char *p = s; *p; p++) {
        if (*p < '0' || *p > '9')
            return false;
        n = n * 10 + (*p - '0');
    }
    *out = n;
    return true;
}

bool
handler_limit(const request_t *req, int *out, kt_error_t *err)
{
    const char *v = request_query(req, "limit");
    int64_t n = LIST_LIMIT_DEFAULT;

    if (v != NULL && (!handler_parse_int(v, &n) || n < 1 || n > LIST_LIMIT_MAX)) {
        kt_error_set(err, KT_DOMAIN_INPUT, KT_FORMAT, 400, "limit must be 1..%d", LIST_LIMIT_MAX);
        return false;
    }
    *out = (int)n;
    return true;
}

bool
handler_if_match(const request_t *req, int64_t *out, kt_error_t *err)
{
    const char *v = request_header(req, "if-match");
    size_t n;
    char digits[24];

    *out = 0;
    if (v == NULL)
        return true;
    n = strlen(v);
    if (n >= 3 && n < sizeof digits + 2 && v[0] == '"' && v[n - 1] == '"') {
        memcpy(digits, v + 1, n - 2);
        digits[n - 2] = '\0';
        if (handler_parse_int(digits, out) && *out > 0)
            return true;
    }
    kt_error_set(err, KT_DOMAIN_INPUT, KT_MALFORMED, 400, "If-Match must be a version in quotes");
    return false;
}

static size_t
count_chars(const char *s, size_t len)
{
    size_t n = 0;

    for (size_t i = 0; i < len; n++)
        i += utf8_char_len(s + i, len - i) ?: 1;
    return n;
}

bool
handler_reason(request_t *req, const char **out, kt_error_t *err)
{
    const char *v = request_query(req, "reason");
    const char *h = request_header(req, "x-reason");
    size_t len = v ? strlen(v) : 0;

    *out = NULL;
    if (v == NULL && h != NULL &&
        (v = request_percent_decode(req->arena, h, strlen(h), false, &len)) == NULL)
        goto bad;
    while (v != NULL && len > 0 && (*v == ' ' || *v == '\t')) {
        v++;
        len--;
    }
    if (v == NULL || len == 0)
        return true;
    if (count_chars(v, len) > REASON_MAX)
        goto bad;
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)v[i] < 0x20)
            goto bad;
    *out = v;
    return true;
bad:
    kt_error_set(err, KT_DOMAIN_INPUT, KT_FORMAT, 400,
                 "reason must be percent-encoded UTF-8 text of at most %d characters", REASON_MAX);
    return false;
}

bool
handler_json_body(request_t *req, json_value_t **out, kt_error_t *err)
{
    json_limits_t lim = {.max_depth = 16, .max_string = 64 * 1024, .max_nodes = 20000};

    return json_parse(req->arena, req->body, req->body_len, &lim, out, err);
}

bool
handler_can_write(const request_t *req, kt_error_t *err)
{
    switch (req->principal.role) {
    case ROLE_REGION:
    case ROLE_SCHOOL:
    case ROLE_MINISTRY:
    case ROLE_ADMIN:
        return true;
    default:
        kt_error_set(err, KT_DOMAIN_AUTH, KT_FORBIDDEN, 403, "this role may not change records");
        return false;
    }
}

void
handler_etag(request_t *req, response_t *res, int64_t version)
{
    response_header(res, "ETag", arena_printf(req->arena, "\"%lld\"", (long long)version));
}
