/*
 * router: the route table type and matching.
 *
 * A route names a method, a path pattern whose "{name}" segments capture one
 * path segment each, the handler, whether authentication is needed, the
 * roles that may call it, the media types a body may have and the body
 * limit. routes.c holds the one static table; the server checks everything
 * a route declares before the handler runs, so handlers see only requests
 * that fit. Role gates are coarse (the role alone, as redis's ACL categories
 * in its command table); row-level checks — a school's own students, the
 * health scope — stay in the handlers.
 */
#ifndef KT_ROUTER_H
#define KT_ROUTER_H

#include <stdbool.h>
#include <stddef.h>

#include "auth/principal.h"
#include "core/error.h"
#include "http/app.h"
#include "http/request.h"
#include "http/response.h"

typedef bool (*route_handler_fn)(const app_t *app, request_t *req, response_t *res,
                                 kt_error_t *err);

enum {
    ROUTE_PUBLIC = 1u << 0,  /* no authentication (health) */
    ROUTE_PACKAGE = 1u << 1, /* body limit KT_MAX_PACKAGE instead of KT_MAX_BODY */
    ROUTE_SCAN = 1u << 2,    /* scans the store: the batch pool's longer round trips */
};

/* The bit of one role in a route's roles. */
#define ROLE_BIT(role) (1u << (role))

/* Every role there is: a route open to every authenticated principal. */
#define ROLES_ALL                                                                                  \
    (ROLE_BIT(ROLE_REGION) | ROLE_BIT(ROLE_SCHOOL) | ROLE_BIT(ROLE_MINISTRY) |                     \
     ROLE_BIT(ROLE_AUDITOR) | ROLE_BIT(ROLE_ADMIN) | ROLE_BIT(ROLE_MINISTRY_HEALTH) |              \
     ROLE_BIT(ROLE_PORTAL))

typedef struct {
    const char *method;
    const char *pattern;
    route_handler_fn handler;
    unsigned flags;
    unsigned roles;                 /* ROLE_BIT()s of the roles that may call it */
    const char *denied;             /* the 403 FORBIDDEN detail for the other roles */
    const char *const *media_types; /* NULL: the route takes no body */
    size_t max_body;                /* 0: the configured KT_MAX_BODY */
} route_t;

/*
 * Finds the route for method and path. On a match fills req->params and
 * req->route_pattern. No route for the path: 404 NOT_FOUND. The path exists
 * but not for this method: 405 with the allowed methods written to allow
 * ("GET, PUT").
 */
const route_t *router_match(const route_t *table, size_t n, request_t *req, char *allow,
                            size_t allow_size, kt_error_t *err);

/* True when the request's media type is one the route accepts. */
bool router_accepts(const route_t *route, const char *media_type);

/* True when a principal of this role may call the route; otherwise false
 * with 403 FORBIDDEN and the route's denied text. Public routes admit all. */
bool router_admits(const route_t *route, role_t role, kt_error_t *err);

#endif
