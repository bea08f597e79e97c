/*
 * packages: POST /api/v1/packages (an XML package, optionally gzip) → the
 * receipt; GET /api/v1/packages/{PacketID} → the stored receipt. The work
 * is ingest.c's; this file speaks HTTP: authorisation, gzip with a cap on
 * the inflated size (a gzip bomb is 413), and the XML answer.
 *
 * PacketIDs are each sender's own (store/packages.h): a GET answers the
 * caller's own package first, then — for a school, its organisation's; for
 * the roles that read every receipt, any sender's — the one package under
 * that PacketID (several: 409, and ?sender=<subject> picks one).
 */
#include <stdlib.h>
#include <string.h>

#include "http/gunzip.h"
#include "handlers/common.h"
#include "handlers/handlers.h"
#include "service/ingest.h"
#include "store/packages.h"
#include "store/util.h"

/* Seconds a client waits before it polls a waiting package again: the
 * runner takes a package within a second and records its progress every
 * INGEST_BATCH items, so polling faster shows nothing new
 * (docs/xml-exchange.md, "Large packages"). */
#define PACKAGE_RETRY_AFTER "5"

static void
free_buffer(void *p)
{
    free(p);
}

/* Inflates a gzip body (http/gunzip.h: at most max bytes, one member) into
 * heap memory that the request's arena frees. */
static bool
gunzip(request_t *req, size_t max, const char **out, size_t *out_len, kt_error_t *err)
{
    char *buf = NULL;

    if (!gunzip_inflate(req->body, req->body_len, max, &buf, out_len, err))
        return false;
    if (arena_add_cleanup(req->arena, free_buffer, buf) != 0) {
        free(buf);
        kt_error_set(err, KT_DOMAIN_INTERNAL, KT_INTERNAL, "out of memory");
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
    kt_error_set(err, KT_DOMAIN_INPUT, KT_UNSUPPORTED_MEDIA_TYPE,
                 "Content-Encoding must be gzip or absent");
    return false;
}

/* A receipt is a document kept with its package and read by whoever asks
 * later: its texts are Russian, whatever the request's language (docs/i18n.md). */
static void
receipt_language(response_t *res)
{
    response_header(res, "Content-Language", "ru");
}

static void
answer_xml(response_t *res, const char *xml, size_t len)
{
    response_reset(res, 200, "application/xml; charset=utf-8");
    receipt_language(res);
    buf_append(&res->body, xml, len);
}

bool
handle_package_post(const app_t *app, request_t *req, response_t *res, kt_error_t *err)
{
    store_conn_t *conn = handler_conn(app, req);
    const char *data = NULL;
    size_t len = 0, receipt_len = 0;
    char *receipt = NULL;
    ingest_totals_t totals;
    bool queued = false;
    char packet_id[INGEST_ID_MAX];

    if (conn == NULL || !package_body(app, req, &data, &len, err))
        return false;
    ingest_ctx_t ctx = {.conn = conn,
                        .schema = app->schema,
                        .principal = &req->principal,
                        .queue_above = app->cfg->package_inline_items,
                        .health_ring = app->health_ring,
                        .receipt_page = app->cfg->receipt_page_bytes};
    if (!ingest_package(&ctx, data, len, &receipt, &receipt_len, &totals, &queued, packet_id, err))
        return false;
    answer_xml(res, receipt, receipt_len);
    if (queued) {
        res->status = 202;
        response_header(res, "Retry-After", PACKAGE_RETRY_AFTER);
        response_header(res, "Location",
                        arena_printf(req->arena, "/api/v1/packages/%s", packet_id));
    }
    free(receipt);
    return true;
}

/* The registration of PacketID id that the caller may read (see the top). */
static bool
readable_package(store_conn_t *conn, const request_t *req, const char *id, bson_t *pkg,
                 kt_error_t *err)
{
    const principal_t *p = &req->principal;
    const char *sender = request_query(req, "sender");
    char key[PACKAGES_KEY_MAX];
    kt_error_t own;
    int n = 0;

    kt_error_clear(&own);
    packages_key(p, id, key);
    if (sender == NULL || strcmp(sender, p->subject) == 0) {
        if (packages_get(conn, key, pkg, &own))
            return true;
        bson_destroy(pkg);
        if (own.code != KT_NOT_FOUND) {
            *err = own;
            return false;
        }
    }
    if (!packages_find(conn, id, p->role == ROLE_SCHOOL ? p->org : NULL, sender, pkg, &n, err))
        return false;
    if (n == 1)
        return true;
    if (n == 0)
        kt_error_set(err, KT_DOMAIN_INPUT, KT_NOT_FOUND, "no such package");
    else
        kt_error_set(err, KT_DOMAIN_INPUT, KT_DUPLICATE_PACKET,
                     "several senders used PacketID %s: name one with ?sender=<subject>", id);
    return false;
}

static bool
append_piece(void *ctx, const char *bytes, size_t len)
{
    buf_t *b = ctx;

    buf_append(b, bytes, len);
    return !b->overflow;
}

typedef struct {
    store_conn_t *conn;
    const char *db;
    bson_t pkg;
} receipt_stream_t;

typedef struct {
    response_write_fn write_fn;
    void *wctx;
} piece_out_t;

static bool
write_piece(void *ctx, const char *bytes, size_t len)
{
    piece_out_t *o = ctx;

    return o->write_fn(o->wctx, bytes, len);
}

/* A receipt above the response buffer, one page at a time. */
static bool
stream_receipt(void *ctx, response_write_fn write_fn, void *wctx)
{
    receipt_stream_t *s = ctx;
    piece_out_t out = {write_fn, wctx};
    kt_error_t err;

    kt_error_clear(&err);
    return packages_receipt_each(s->conn, &s->pkg, write_piece, &out, &err);
}

static void
free_stream(void *p)
{
    bson_destroy(&((receipt_stream_t *)p)->pkg);
}

/* The stored receipt, pages joined into one document. */
static bool
answer_receipt(store_conn_t *conn, request_t *req, response_t *res, const bson_t *pkg,
               kt_error_t *err)
{
    if (util_get_int(pkg, "receipt_bytes", 0) < (int64_t)RESPONSE_BODY_MAX) {
        response_reset(res, 200, "application/xml; charset=utf-8");
        receipt_language(res);
        if (packages_receipt_each(conn, pkg, append_piece, &res->body, err))
            return true;
        if (err->code == KT_OK)
            kt_error_set(err, KT_DOMAIN_INTERNAL, KT_INTERNAL, "the receipt does not fit");
        return false;
    }
    receipt_stream_t *s = arena_alloc(req->arena, sizeof *s);
    if (s == NULL) {
        kt_error_set(err, KT_DOMAIN_INTERNAL, KT_INTERNAL, "out of memory");
        return false;
    }
    s->conn = conn;
    bson_copy_to(pkg, &s->pkg);
    if (arena_add_cleanup(req->arena, free_stream, s) != 0) {
        bson_destroy(&s->pkg);
        kt_error_set(err, KT_DOMAIN_INTERNAL, KT_INTERNAL, "out of memory");
        return false;
    }
    response_stream(res, 200, "application/xml; charset=utf-8", stream_receipt, s);
    receipt_language(res);
    return true;
}

bool
handle_package_get(const app_t *app, request_t *req, response_t *res, kt_error_t *err)
{
    store_conn_t *conn = handler_conn(app, req);
    bson_t pkg = BSON_INITIALIZER;
    bool ok = false;

    if (conn == NULL)
        return false;
    bson_destroy(&pkg);
    if (!readable_package(conn, req, req->params[0], &pkg, err))
        goto done;
    if (!packages_has_receipt(&pkg)) {
        /* Still being processed (or its processing stopped): say so in a receipt. */
        size_t len = 0;
        const char *id = util_get_str(&pkg, "packet_id");
        ingest_progress_t progress = {util_get_int(&pkg, "items_received", 0),
                                      util_get_int(&pkg, "items_done", 0)};
        char *xml =
            ingest_inqueue_receipt(id != NULL ? id : util_get_str(&pkg, "_id"), &progress, &len);
        if (xml == NULL) {
            kt_error_set(err, KT_DOMAIN_INTERNAL, KT_INTERNAL, "out of memory");
            goto done;
        }
        answer_xml(res, xml, len);
        free(xml);
        res->status = 202;
        response_header(res, "Retry-After", PACKAGE_RETRY_AFTER);
    } else if (!answer_receipt(conn, req, res, &pkg, err)) {
        goto done;
    }
    ok = true;
done:
    bson_destroy(&pkg);
    return ok;
}
