/* Unit tests of http/problem.c: the problem+json shape for every kind of error. */
#include <string.h>

#include "check.h"
#include "core/json.h"
#include "http/problem.h"

static json_value_t *
render(arena_t *a, response_t *res, request_t *req, const kt_error_t *err)
{
    json_value_t *v = NULL;
    kt_error_t perr;

    response_init(res);
    problem_render(res, req, err);
    kt_error_clear(&perr);
    json_parse(a, res->body.data, res->body.len, NULL, &v, &perr);
    return v;
}

static void
init_request(request_t *req, arena_t *a, bool en)
{
    memset(req, 0, sizeof *req);
    req->arena = a;
    req->lang_en = en;
    memcpy(req->request_id, "abcdef0123456789abcdef0123456789", 33);
}

static void
test_validation_problem(void)
{
    arena_t *a = arena_new(0);
    request_t req;
    response_t res;
    kt_error_t err;

    init_request(&req, a, false);
    kt_error_set(&err, KT_DOMAIN_INPUT, KT_VALIDATION, 422, "2 errors");
    kt_error_add_field(&err, a, "/snils", KT_SNILS_CHECKSUM, NULL);
    kt_error_add_field(&err, a, "/documents/0/number", KT_FORMAT, "six digits");
    json_value_t *v = render(a, &res, &req, &err);
    CHECK(v != NULL);
    CHECK_INT(res.status, 422);
    CHECK_STR(res.content_type, "application/problem+json");
    CHECK_STR(json_get(v, "code")->str, "VALIDATION");
    CHECK_STR(json_get(v, "type")->str, "urn:kontingent:problem:validation");
    CHECK_STR(json_get(v, "request_id")->str, req.request_id);
    CHECK_STR(json_get(v, "title")->str, "Ошибки в данных");
    json_value_t *errors = json_get(v, "errors");
    CHECK(errors != NULL && errors->count == 2);
    CHECK_STR(json_get(errors->child, "pointer")->str, "/snils");
    CHECK_STR(json_get(errors->child, "code")->str, "SNILS_CHECKSUM");
    CHECK_STR(json_get(errors->child->next, "message")->str, "six digits");
    response_release(&res);
    arena_free(a);
}

static void
test_401_has_www_authenticate_and_english(void)
{
    arena_t *a = arena_new(0);
    request_t req;
    response_t res;
    kt_error_t err;

    init_request(&req, a, true);
    kt_error_set(&err, KT_DOMAIN_AUTH, KT_UNAUTHENTICATED, 401, "token expired");
    json_value_t *v = render(a, &res, &req, &err);
    CHECK(v != NULL);
    CHECK_INT(res.status, 401);
    CHECK(res.nheaders == 1 && strcmp(res.headers[0].name, "WWW-Authenticate") == 0);
    CHECK_STR(json_get(v, "title")->str, "Authentication required");
    /* The reason is for the log only: every 401 says the same. */
    CHECK_STR(json_get(v, "detail")->str,
              "A valid bearer token or a registered client certificate is required; the reason "
              "for the refusal is in the server's log under the request_id");
    CHECK(json_get(v, "errors") == NULL);
    response_release(&res);
    arena_free(a);
}

static void
test_store_errors_do_not_leak(void)
{
    arena_t *a = arena_new(0);
    request_t req;
    response_t res;
    kt_error_t err;

    init_request(&req, a, true);
    kt_error_set(&err, KT_DOMAIN_STORE, KT_STORE_UNAVAILABLE, 503,
                 "No suitable servers found: 127.0.0.1:27017");
    json_value_t *v = render(a, &res, &req, &err);
    CHECK_INT(res.status, 503);
    CHECK(strstr(res.body.data, "27017") == NULL);
    CHECK_STR(json_get(v, "code")->str, "STORE_UNAVAILABLE");
    response_release(&res);
    arena_free(a);
}

static void
test_references(void)
{
    arena_t *a = arena_new(0);
    request_t req;
    response_t res;
    kt_error_t err;

    init_request(&req, a, false);
    kt_error_set(&err, KT_DOMAIN_INPUT, KT_VERSION_CONFLICT, 412, "stale");
    snprintf(err.ref, sizeof err.ref, "7");
    json_value_t *v = render(a, &res, &req, &err);
    int64_t n = 0;
    CHECK(json_as_int64(json_get(v, "current_version"), &n) && n == 7);
    response_release(&res);
    kt_error_set(&err, KT_DOMAIN_INPUT, KT_DUPLICATE_SNILS, 409, "dup");
    snprintf(err.ref, sizeof err.ref, "8f37c988-4ed5-49d1-af84-ae2b45996c4e");
    v = render(a, &res, &req, &err);
    CHECK_STR(json_get(v, "existing_id")->str, "8f37c988-4ed5-49d1-af84-ae2b45996c4e");
    response_release(&res);
    arena_free(a);
}

/* Every code has a name, a status and both titles. */
static void
test_code_table_is_complete(void)
{
    for (int c = 0; c < KT_CODE__MAX; c++) {
        CHECK(strcmp(kt_code_name((kt_code_t)c), "INTERNAL") != 0 || c == KT_INTERNAL);
        CHECK(kt_code_status((kt_code_t)c) >= 200);
        CHECK(kt_code_title((kt_code_t)c, false)[0] != '\0');
        CHECK(kt_code_title((kt_code_t)c, true)[0] != '\0');
    }
}

int
main(void)
{
    CHECK_RUN(test_validation_problem);
    CHECK_RUN(test_401_has_www_authenticate_and_english);
    CHECK_RUN(test_store_errors_do_not_leak);
    CHECK_RUN(test_references);
    CHECK_RUN(test_code_table_is_complete);
    CHECK_MAIN_END();
}
