/* Unit tests of http/request.c: parameters, path, query, headers, body. */
#include <string.h>

#include "check.h"
#include "http/request.h"

static bool
parse(arena_t *a, request_t *req, char **params, kt_error_t *err)
{
    kt_error_clear(err);
    return request_parse(req, a, params, err);
}

static void
test_basic_request(void)
{
    arena_t *a = arena_new(0);
    request_t req;
    kt_error_t err;
    char *params[] = {"REQUEST_METHOD=GET",
                      "REQUEST_URI=/api/v1/students?snils=112-233-445%2095&limit=5",
                      "QUERY_STRING=snils=112-233-445%2095&limit=5",
                      "HTTP_IF_MATCH=\"3\"",
                      "HTTP_ACCEPT_LANGUAGE=en-US,en;q=0.9",
                      "CONTENT_TYPE=Application/JSON; charset=utf-8",
                      "REQUEST_ID=0123456789abcdef0123456789abcdef",
                      "SSL_CLIENT_VERIFY=SUCCESS",
                      "SSL_CLIENT_S_DN=CN=x,O=y",
                      NULL};

    CHECK(parse(a, &req, params, &err));
    CHECK_STR(req.method, "GET");
    CHECK_STR(req.path, "/api/v1/students");
    CHECK_STR(request_query(&req, "snils"), "112-233-445 95");
    CHECK_STR(request_query(&req, "limit"), "5");
    CHECK(request_query(&req, "nope") == NULL);
    CHECK_STR(request_header(&req, "if-match"), "\"3\"");
    CHECK_STR(req.media_type, "application/json");
    CHECK_STR(req.request_id, "0123456789abcdef0123456789abcdef");
    CHECK_STR(req.ssl_verify, "SUCCESS");
    CHECK_STR(req.ssl_dn, "CN=x,O=y");
    CHECK(req.lang_en);
    CHECK(!req.has_content_length);
    arena_free(a);
}

static void
test_path_is_decoded_and_checked(void)
{
    arena_t *a = arena_new(0);
    request_t req;
    kt_error_t err;
    char *ok[] = {"REQUEST_METHOD=GET", "REQUEST_URI=/a/%D0%98%20b", NULL};
    char *nul[] = {"REQUEST_METHOD=GET", "REQUEST_URI=/a/%00b", NULL};
    char *bad_utf8[] = {"REQUEST_METHOD=GET", "REQUEST_URI=/a/%ff", NULL};
    char *bad_escape[] = {"REQUEST_METHOD=GET", "REQUEST_URI=/a/%4", NULL};
    char *relative[] = {"REQUEST_METHOD=GET", "REQUEST_URI=a/b", NULL};

    CHECK(parse(a, &req, ok, &err));
    CHECK_STR(req.path, "/a/И b");
    char **bad[] = {nul, bad_utf8, bad_escape, relative};
    for (size_t i = 0; i < 4; i++) {
        CHECK(!parse(a, &req, bad[i], &err));
        CHECK_INT(err.code, KT_MALFORMED);
        CHECK_INT(err.status, 400);
        CHECK(strlen(req.request_id) == 32); /* a generated id, for the error body */
    }
    arena_free(a);
}

static void
test_limits(void)
{
    arena_t *a = arena_new(0);
    request_t req;
    kt_error_t err;
    static char uri[REQUEST_PATH_MAX + 32], query[REQUEST_QUERY_MAX + 32], uri_param[8192];
    static char many[REQUEST_QUERY_PARAMS_MAX * 4 + 16], query_param[REQUEST_QUERY_MAX + 64];

    memset(uri, 'a', sizeof uri - 1);
    uri[0] = '/';
    snprintf(uri_param, sizeof uri_param, "REQUEST_URI=%.*s", REQUEST_PATH_MAX + 8, uri);
    char *long_path[] = {"REQUEST_METHOD=GET", uri_param, NULL};
    CHECK(!parse(a, &req, long_path, &err));
    CHECK_INT(err.status, 414);

    memset(query, 'q', sizeof query - 1);
    snprintf(query_param, sizeof query_param, "QUERY_STRING=%s", query);
    char *long_query[] = {"REQUEST_METHOD=GET", "REQUEST_URI=/x", query_param, NULL};
    CHECK(!parse(a, &req, long_query, &err));
    CHECK_INT(err.status, 414);

    size_t n = 0;
    n += (size_t)snprintf(many, sizeof many, "QUERY_STRING=");
    for (int i = 0; i <= REQUEST_QUERY_PARAMS_MAX; i++)
        n += (size_t)snprintf(many + n, sizeof many - n, "a=%d&", i % 10);
    char *many_params[] = {"REQUEST_METHOD=GET", "REQUEST_URI=/x", many, NULL};
    CHECK(!parse(a, &req, many_params, &err));
    CHECK_INT(err.status, 400);

    char *bad_length[] = {"REQUEST_METHOD=POST", "REQUEST_URI=/x", "CONTENT_LENGTH=12x", NULL};
    CHECK(!parse(a, &req, bad_length, &err));
    CHECK_INT(err.code, KT_MALFORMED);

    char *no_method[] = {"REQUEST_URI=/x", NULL};
    CHECK(!parse(a, &req, no_method, &err));
    arena_free(a);
}

static void
test_bad_request_id_is_replaced(void)
{
    arena_t *a = arena_new(0);
    request_t req;
    kt_error_t err;
    char *params[] = {"REQUEST_METHOD=GET", "REQUEST_URI=/x", "REQUEST_ID=\"><script>", NULL};

    CHECK(parse(a, &req, params, &err));
    CHECK(strlen(req.request_id) == 32);
    CHECK(strchr(req.request_id, '<') == NULL);
    arena_free(a);
}

typedef struct {
    const char *data;
    size_t len, pos, chunk;
} reader_t;

static long
read_mem(void *ctx, char *buf, size_t len)
{
    reader_t *r = ctx;
    size_t n = r->len - r->pos;

    if (n > len)
        n = len;
    if (n > r->chunk)
        n = r->chunk;
    memcpy(buf, r->data + r->pos, n);
    r->pos += n;
    return (long)n;
}

static void
test_body(void)
{
    arena_t *a = arena_new(0);
    request_t req;
    kt_error_t err;
    char *params[] = {"REQUEST_METHOD=POST", "REQUEST_URI=/x", "CONTENT_LENGTH=11", NULL};
    reader_t whole = {"hello world", 11, 0, 3};
    reader_t short_body = {"hello", 5, 0, 100};

    CHECK(parse(a, &req, params, &err));
    CHECK(request_read_body(&req, 100, read_mem, &whole, &err));
    CHECK_INT(req.body_len, 11);
    CHECK_STR(req.body, "hello world");

    CHECK(parse(a, &req, params, &err));
    CHECK(!request_read_body(&req, 10, read_mem, &whole, &err));
    CHECK_INT(err.code, KT_PAYLOAD_TOO_LARGE);
    CHECK_INT(err.status, 413);

    CHECK(parse(a, &req, params, &err));
    CHECK(!request_read_body(&req, 100, read_mem, &short_body, &err));
    CHECK_INT(err.code, KT_MALFORMED);
    arena_free(a);
}

static void
test_percent_decode(void)
{
    arena_t *a = arena_new(0);
    size_t len = 0;

    CHECK_STR(request_percent_decode(a, "a+b%2Bc", 7, true, &len), "a b+c");
    CHECK_INT(len, 5);
    CHECK_STR(request_percent_decode(a, "a+b", 3, false, NULL), "a+b");
    CHECK(request_percent_decode(a, "%zz", 3, false, NULL) == NULL);
    CHECK(request_percent_decode(a, "%", 1, false, NULL) == NULL);
    CHECK(request_percent_decode(a, "%c0%af", 6, false, NULL) == NULL); /* overlong '/' */
    arena_free(a);
}

/* Accept-Language with q-values (RFC 9110 12.5.4): English only when an
 * "en" range weighs more than Russian and "*"; Russian by default. */
static bool
asks_english(const char *value)
{
    arena_t *a = arena_new(0);
    request_t req;
    kt_error_t err;
    char header[128];
    char *params[] = {"REQUEST_METHOD=GET", "REQUEST_URI=/", header, NULL};
    bool en;

    snprintf(header, sizeof header, "HTTP_ACCEPT_LANGUAGE=%s", value);
    en = parse(a, &req, params, &err) && req.lang_en;
    arena_free(a);
    return en;
}

static void
test_accept_language(void)
{
    CHECK(asks_english("en"));
    CHECK(asks_english("EN-gb"));
    CHECK(asks_english("ru;q=0.5, en"));
    CHECK(asks_english("de, en;q=0.3"));
    CHECK(asks_english("en;q=0.8, ru;q=0.7"));
    CHECK(asks_english(" en-US ; q=1.0 , *;q=0.1"));
    CHECK(!asks_english(""));
    CHECK(!asks_english("ru"));
    CHECK(!asks_english("ru-RU,ru;q=0.9,en-US;q=0.8,en;q=0.7"));
    CHECK(!asks_english("en;q=0, ru"));
    CHECK(!asks_english("en;q=0"));
    CHECK(!asks_english("de"));
    CHECK(!asks_english("*, en;q=0.5"));
    CHECK(!asks_english("eng"));
    CHECK(!asks_english("en;q=bad"));
}

int
main(void)
{
    CHECK_RUN(test_basic_request);
    CHECK_RUN(test_path_is_decoded_and_checked);
    CHECK_RUN(test_limits);
    CHECK_RUN(test_bad_request_id_is_replaced);
    CHECK_RUN(test_body);
    CHECK_RUN(test_percent_decode);
    CHECK_RUN(test_accept_language);
    CHECK_MAIN_END();
}
