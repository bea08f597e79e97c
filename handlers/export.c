/* export: GET /api/v1/export — the organisation's students streamed as a
 * Packet (service/export.h does the work; this is the HTTP side). */
#include <string.h>

#include "handlers/common.h"
#include "handlers/handlers.h"
#include "model/validators.h"
#include "service/export.h"

static void
end_cleanup(void *data)
{
    export_end(data);
}

static bool
stream(void *ctx, response_write_fn write_fn, void *wctx)
{
    kt_error_t err;

    kt_error_clear(&err);
    return export_send(ctx, write_fn, wctx, &err);
}

bool
handle_export(const app_t *app, request_t *req, response_t *res, kt_error_t *err)
{
    export_t *e = arena_calloc(req->arena, 1, sizeof *e);
    const char *org = request_query(req, "organization");

    if (e == NULL || !handler_as_of(req, &e->as_of, err) || !handler_purpose(req, &e->purpose, err))
        return false;
    /* Checked before the first byte: later, an error can only cut the stream. */
    if (principal_can_see_health(&req->principal) &&
        seal_keyring_current(app->health_ring, err) == NULL)
        return false;
    if (org == NULL || !ogrn_valid(org) || strlen(org) != 13) {
        kt_error_set_status(err, KT_DOMAIN_INPUT, KT_FORMAT, 400,
                            "organization must be the OGRN (13 digits) of a school");
        return false;
    }
    if (req->principal.role == ROLE_SCHOOL && strcmp(org, req->principal.org) != 0) {
        kt_error_set(err, KT_DOMAIN_AUTH, KT_FORBIDDEN,
                     "a school may only export its own students");
        return false;
    }
    e->principal = &req->principal;
    e->request_id = req->request_id;
    e->health_ring = app->health_ring;
    e->org = org;
    e->conn = handler_conn(app, req);
#ifdef KT_FAULT_INJECTION
    e->fault = request_header(req, "x-kt-fault");
#endif
    if (e->conn == NULL)
        return false;
    /* The first page is read and logged before the status is sent: a store
     * that fails now is a 503, never a 200 with an empty Packet. */
    if (arena_add_cleanup(req->arena, end_cleanup, e) != 0) {
        kt_error_set(err, KT_DOMAIN_INTERNAL, KT_INTERNAL, "out of memory for the export");
        return false;
    }
    if (!export_begin(e, err))
        return false;
    response_stream(res, 200, "application/xml; charset=utf-8", stream, e);
    return true;
}
