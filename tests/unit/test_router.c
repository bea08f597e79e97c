/* Unit tests of http/router.c and the route table. */
#include <string.h>

#include "check.h"
#include "fcgi/routes.h"
#include "http/router.h"

static bool
fake(const app_t *app, request_t *req, response_t *res, kt_error_t *err)
{
    return true;
}

static const char *const json[] = {"application/json", NULL};
static const route_t table[] = {
    {.method = "GET", .pattern = "/api/v1/students", .handler = fake},
    {.method = "POST", .pattern = "/api/v1/students", .handler = fake, .media_types = json},
    {.method = "GET", .pattern = "/api/v1/students/{id}", .handler = fake},
    {.method = "PATCH", .pattern = "/api/v1/students/{id}", .handler = fake, .media_types = json},
    {.method = "GET", .pattern = "/api/v1/students/{id}/versions/{n}", .handler = fake},
};

static const route_t *
match(arena_t *a, request_t *req, const char *method, const char *path, char *allow,
      kt_error_t *err)
{
    memset(req, 0, sizeof *req);
    req->arena = a;
    req->method = method;
    req->path = path;
    kt_error_clear(err);
    return router_match(table, sizeof table / sizeof table[0], req, allow, 64, err);
}

static void
test_matches_and_captures(void)
{
    arena_t *a = arena_new(0);
    request_t req;
    kt_error_t err;
    char allow[64];

    CHECK(match(a, &req, "GET", "/api/v1/students", allow, &err) == &table[0]);
    CHECK(match(a, &req, "POST", "/api/v1/students", allow, &err) == &table[1]);
    /* HEAD is served by the GET route (the server leaves the body out). */
    CHECK(match(a, &req, "HEAD", "/api/v1/students", allow, &err) == &table[0]);
    CHECK(match(a, &req, "GET", "/api/v1/students/abc", allow, &err) == &table[2]);
    CHECK_INT(req.nparams, 1);
    CHECK_STR(req.params[0], "abc");
    CHECK_STR(req.route_pattern, "/api/v1/students/{id}");
    CHECK(match(a, &req, "GET", "/api/v1/students/abc/versions/7", allow, &err) == &table[4]);
    CHECK_INT(req.nparams, 2);
    CHECK_STR(req.params[1], "7");
    arena_free(a);
}

static void
test_404_and_405(void)
{
    arena_t *a = arena_new(0);
    request_t req;
    kt_error_t err;
    char allow[64];

    CHECK(match(a, &req, "GET", "/api/v1/student", allow, &err) == NULL);
    CHECK_INT(err.status, 404);
    CHECK(match(a, &req, "GET", "/api/v1/students/", allow, &err) == NULL); /* empty {id} */
    CHECK_INT(err.status, 404);
    CHECK(match(a, &req, "GET", "/api/v1/students/a/b", allow, &err) == NULL);
    CHECK_INT(err.status, 404);
    CHECK(match(a, &req, "DELETE", "/api/v1/students", allow, &err) == NULL);
    CHECK_INT(err.status, 405);
    CHECK_INT(err.code, KT_METHOD_NOT_ALLOWED);
    CHECK_STR(allow, "GET, HEAD, POST");
    CHECK(match(a, &req, "PUT", "/api/v1/students/x", allow, &err) == NULL);
    CHECK_STR(allow, "GET, HEAD, PATCH");
    CHECK(match(a, &req, "HEAD", "/api/v1/students/x/versions/1", allow, &err) == &table[4]);
    CHECK(match(a, &req, "TRACE", "/api/v1/students/x", allow, &err) == NULL);
    CHECK_INT(err.status, 405);
    CHECK_STR(allow, "GET, HEAD, PATCH");
    arena_free(a);
}

static void
test_accepts(void)
{
    CHECK(router_accepts(&table[1], "application/json"));
    CHECK(!router_accepts(&table[1], "application/xml"));
    CHECK(!router_accepts(&table[0], "application/json"));
}

/* Every pattern of the real table is well formed and unique per method. */
static void
test_real_table(void)
{
    for (size_t i = 0; i < routes_count; i++) {
        CHECK(routes_table[i].pattern[0] == '/');
        CHECK(routes_table[i].handler != NULL);
        for (size_t j = i + 1; j < routes_count; j++)
            CHECK(strcmp(routes_table[i].pattern, routes_table[j].pattern) != 0 ||
                  strcmp(routes_table[i].method, routes_table[j].method) != 0);
    }
}

int
main(void)
{
    CHECK_RUN(test_matches_and_captures);
    CHECK_RUN(test_404_and_405);
    CHECK_RUN(test_accepts);
    CHECK_RUN(test_real_table);
    CHECK_MAIN_END();
}
