/* whoami: GET /api/v1/whoami — the principal the request authenticated as. */
#include "handlers/handlers.h"

#include "core/json.h"

bool
handle_whoami(const app_t *app, request_t *req, response_t *res, kt_error_t *err)
{
    const principal_t *p = &req->principal;
    jw_t w;

    response_reset(res, 200, "application/json");
    jw_init(&w, &res->body);
    jw_object_begin(&w);
    jw_key(&w, "subject");
    jw_string(&w, p->subject);
    jw_key(&w, "role");
    jw_string(&w, principal_role_name(p->role));
    jw_key(&w, "organization");
    jw_string(&w, p->org[0] ? p->org : NULL);
    jw_key(&w, "auth_method");
    jw_string(&w, principal_method_name(p->method));
    jw_key(&w, "scopes");
    jw_array_begin(&w);
    if (p->scopes & SCOPE_HEALTH)
        jw_string(&w, "health");
    jw_array_end(&w);
    jw_object_end(&w);
    return true;
}
