/* openapi: GET /api/v1/openapi.json (handlers/openapi.h). */
#include "handlers/openapi.h"

#include "handlers/handlers.h"

bool
handle_openapi(const app_t *app, request_t *req, response_t *res, kt_error_t *err)
{
    (void)app;
    (void)req;
    response_reset(res, 200, "application/json");
    response_header(res, "ETag", kt_openapi_etag);
    /* Public and the same for everyone until the next build: caches may keep it
     * but ask again (the ETag answers whether it changed). */
    response_header(res, "Cache-Control", "no-cache");
    if (!buf_append(&res->body, (const char *)kt_openapi_json, kt_openapi_json_len)) {
        kt_error_set(err, KT_DOMAIN_INTERNAL, KT_INTERNAL, "out of memory for the document");
        return false;
    }
    return true;
}
