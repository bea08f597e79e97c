/* router: segment-by-segment matching of "/a/{x}/b" patterns. */
#include "http/router.h"

#include <string.h>

/* Matches path against pattern; captures {name} segments into params. */
static bool
pattern_match(const char *pattern, const char *path, arena_t *arena, const char **params,
              size_t *nparams)
{
    size_t np = 0;

    while (*pattern && *path) {
        if (*pattern == '{') {
            const char *pend = strchr(pattern, '}');
            size_t seg = strcspn(path, "/");
            if (pend == NULL || seg == 0 || np >= REQUEST_PATH_PARAMS_MAX)
                return false;
            if (params != NULL && (params[np] = arena_strndup(arena, path, seg)) == NULL)
                return false;
            np++;
            pattern = pend + 1;
            path += seg;
            continue;
        }
        if (*pattern != *path)
            return false;
        pattern++;
        path++;
    }
    if (*pattern != '\0' || *path != '\0')
        return false;
    if (nparams != NULL)
        *nparams = np;
    return true;
}

static void
add_allow(char *allow, size_t size, const char *method)
{
    size_t len = strlen(allow);
    size_t mlen = strlen(method);

    if (strstr(allow, method) != NULL || len + mlen + 3 > size)
        return;
    if (len > 0) {
        memcpy(allow + len, ", ", 2);
        len += 2;
    }
    memcpy(allow + len, method, mlen + 1);
}

/* HEAD is served wherever GET is (RFC 9110 §9.3.2): the same handler, and
 * the server writes the head without the body. */
static bool
method_matches(const char *route_method, const char *method)
{
    return strcmp(route_method, method) == 0 ||
           (strcmp(method, "HEAD") == 0 && strcmp(route_method, "GET") == 0);
}

const route_t *
router_match(const route_t *table, size_t n, request_t *req, char *allow, size_t allow_size,
             kt_error_t *err)
{
    bool path_known = false;

    allow[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        if (!pattern_match(table[i].pattern, req->path, NULL, NULL, NULL))
            continue;
        path_known = true;
        add_allow(allow, allow_size, table[i].method);
        if (strcmp(table[i].method, "GET") == 0)
            add_allow(allow, allow_size, "HEAD");
        if (!method_matches(table[i].method, req->method))
            continue;
        pattern_match(table[i].pattern, req->path, req->arena, req->params, &req->nparams);
        req->route_pattern = table[i].pattern;
        return &table[i];
    }
    if (path_known)
        kt_error_set(err, KT_DOMAIN_INPUT, KT_METHOD_NOT_ALLOWED, 405,
                     "this method is not allowed here; Allow lists the ones that are");
    else
        kt_error_set(err, KT_DOMAIN_INPUT, KT_NOT_FOUND, 404, "no such resource");
    return NULL;
}

bool
router_accepts(const route_t *route, const char *media_type)
{
    if (route->media_types == NULL)
        return false;
    for (const char *const *m = route->media_types; *m != NULL; m++)
        if (strcmp(*m, media_type) == 0)
            return true;
    return false;
}

bool
router_admits(const route_t *route, role_t role, kt_error_t *err)
{
    if (route->flags & ROUTE_PUBLIC ||
        (role > ROLE_NONE && role < ROLE__MAX && (route->roles & ROLE_BIT(role)) != 0))
        return true;
    kt_error_set(err, KT_DOMAIN_AUTH, KT_FORBIDDEN, 403, "%s",
                 route->denied != NULL ? route->denied : "this role may not call this endpoint");
    return false;
}
