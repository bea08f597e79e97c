/*
 * packages: POST /api/v1/packages (an XML package, optionally gzip) → the
 * receipt; GET /api/v1/packages/{PacketID} → the stored receipt. The work
 * is ingest.c's; this file speaks HTTP: authorisation, gzip with a cap on
 * the inflated size (a gzip bomb is 413), and the XML answer.
 */
#include <stdlib.h>
#include <string.h>

#include "fcgi/gunzip.h"
#include "handlers/common.h"
#include "handlers/handlers.h"
#include "handlers/ingest.h"
#include "store/packages.h"
#include "store/util.h"

static void
free_buffer(void *p)
{
    free(p);
}

/* Inflates a gzip body (fcgi/gunzip.h: at most max bytes, one member) into
 * heap memory that the request's arena frees. */
static bool
gunzip(request_t *req, size_t max, const char **out, size_t *out_len, kt_error_t *err)
{
    char *buf = NULL;

    if (!gunzip_inflate(req->body, req->body_len, max, &buf, out_len, err))
        return false;
    if (arena_add_cleanup(req->arena, free_buffer, buf) != 0) {
        free(buf);
        kt_error_set(err, KT_DOMAIN_INTERNAL, KT_INTERNAL, 500, "out of memory");
        return false;
    }
    *out = buf;
    return true;
}

static bool
package_body(const app_t *app, request_t *req, const char **data, size_t *len, kt_error_t *err)
{
    const char *enc = request_header(req, "content-encoding");

    if (enc == NULL || strcmp(enc, "identity") == 0) {
        *data = req->body;
        *len = req->body_len;
        return true;
    }
    if (strcmp(enc, "gzip") == 0)
        return gunzip(req, app->cfg->max_package, data, len, err);
    kt_error_set(err, KT_DOMAIN_INPUT, KT_UNSUPPORTED_MEDIA_TYPE, 415,
                 "Content-Encoding must be gzip or absent");
    return false;
}

static void
answer_xml(response_t *res, const char *xml, size_t len)
{
    response_reset(res, 200, "application/xml; charset=utf-8");
    buf_append(&res->body, xml, len);
}

bool
handle_package_post(const app_t *app, request_t *req, response_t *res, kt_error_t *err)
{
    mongoc_client_t *client = handler_client(app, req);
    const char *data = NULL;
    size_t len = 0, receipt_len = 0;
    char *receipt = NULL;
    ingest_totals_t totals;
    bool queued = false;
    char packet_id[INGEST_ID_MAX];

    if (client == NULL || !handler_can_write(req, err) || !package_body(app, req, &data, &len, err))
        return false;
    ingest_ctx_t ctx = {.client = client,
                        .db = store_db_name(app->store),
                        .schema = app->schema,
                        .principal = &req->principal,
                        .queue_above = app->cfg->package_inline_items,
                        .health_ring = app->health_ring};
    if (!ingest_package(&ctx, data, len, &receipt, &receipt_len, &totals, &queued, packet_id, err))
        return false;
    answer_xml(res, receipt, receipt_len);
    if (queued) {
        res->status = 202;
        response_header(res, "Location",
                        arena_printf(req->arena, "/api/v1/packages/%s", packet_id));
    }
    free(receipt);
    return true;
}

bool
handle_package_get(const app_t *app, request_t *req, response_t *res, kt_error_t *err)
{
    mongoc_client_t *client = handler_client(app, req);
    bson_t pkg = BSON_INITIALIZER;
    bool ok = false;

    if (client == NULL)
        return false;
    bson_destroy(&pkg);
    if (!packages_get(client, store_db_name(app->store), req->params[0], &pkg, err))
        goto done;
    const char *who = util_get_str(&pkg, "principal.organization");
    if (req->principal.role == ROLE_SCHOOL && (who == NULL || strcmp(who, req->principal.org))) {
        kt_error_set(err, KT_DOMAIN_INPUT, KT_NOT_FOUND, 404, "no such package");
        goto done;
    }
    const char *receipt = util_get_str(&pkg, "receipt");
    if (receipt == NULL) {
        /* Still being processed (or its processing stopped): say so in a receipt. */
        size_t len = 0;
        char *xml = ingest_inqueue_receipt(util_get_str(&pkg, "_id"), &len);
        if (xml == NULL) {
            kt_error_set(err, KT_DOMAIN_INTERNAL, KT_INTERNAL, 500, "out of memory");
            goto done;
        }
        answer_xml(res, xml, len);
        free(xml);
        res->status = 202;
    } else {
        answer_xml(res, receipt, strlen(receipt));
    }
    ok = true;
done:
    bson_destroy(&pkg);
    return ok;
}
