/*
 * export: GET /api/v1/export?organization=<ОГРН>[&as_of=<time>] — a Packet
 * of the organisation's students in the exchange format, streamed in
 * constant memory: ids are paged (500 at a time) from the heads, or with
 * as_of from the versions that named the organisation by then, each
 * student is read, written through libxml2's writer straight into the
 * FastCGI stream and freed. Importing an export changes nothing (every
 * item UNCHANGED). Every page is access-logged as an "export" read.
 */
#include <libxml/xmlwriter.h>
#include <stdlib.h>
#include <string.h>

#include "handlers/common.h"
#include "handlers/export.h"
#include "handlers/handlers.h"
#include "handlers/students.h"
#include "model/validators.h"
#include "model/xmlio.h"
#include "store/audit.h"
#include "store/kind.h"
#include "store/scan.h"
#include "store/util.h"

#define EXPORT_PAGE 500

static int
xml_out(void *ctx, const char *buf, int len)
{
    export_t *e = ctx;
    return e->write_fn(e->wctx, buf, (size_t)len) ? len : -1;
}

static int
xml_close(void *ctx)
{
    return 0;
}

/* The student as it was at as_of (or now), when it then belonged to org. */
static bool
read_member_raw(export_t *e, const char *id, student_t *s)
{
    const char *db = e->db;
    kt_error_t err;
    bool ok;

    kt_error_clear(&err);
    ok = e->as_of ? store_student_as_of(e->client, db, id, e->as_of, s, &err)
                  : store_student_get(e->client, db, id, s, &err);
    const char *org = ok ? util_get_str(&s->doc, "organization") : NULL;
    return ok && !s->deleted && org != NULL && strcmp(org, e->org) == 0;
}

/* The same, with the health block opened or removed (handlers/healthdata.h);
 * a block that cannot be opened fails the export (*failed). */
static bool
read_member(export_t *e, const char *id, student_t *s, bool *disclosed, bool *failed)
{
    healthdata_t h = {e->health_ring, e->client, e->db, e->principal};
    kt_error_t herr;
    bool opened = false;

    kt_error_clear(&herr);
    if (!read_member_raw(e, id, s))
        return false;
    *failed = !healthdata_view(&h, &s->doc, &opened, &herr);
    *disclosed = *disclosed || opened;
    return !*failed;
}

static void
write_header(xmlTextWriterPtr w)
{
    char id[37], time[32];

    util_uuid(id);
    util_time_now(time);
    xmlTextWriterStartElement(w, BAD_CAST "Header");
    xmlTextWriterWriteElement(w, BAD_CAST "PacketID", BAD_CAST id);
    xmlTextWriterWriteElement(w, BAD_CAST "SourceSystemID", BAD_CAST "KONTINGENT");
    xmlTextWriterWriteElement(w, BAD_CAST "Timestamp", BAD_CAST time);
    xmlTextWriterEndElement(w);
}

/* The ids of one page: today's members from the heads, or (as_of) every
 * student whose versions up to as_of ever named the organisation — a
 * student who has left since must be found too; read_member decides. */
static bool
page_ids(export_t *e, char (*ids)[40], char *cursor, int *n, bool *more, kt_error_t *err)
{
    scan_spec_t spec = {.collection = store_kind_student.versions,
                        .id_member = store_kind_student.id_member};

    if (e->as_of != NULL) {
        spec.until = e->as_of;
        return store_scan_page(e->client, e->db, &spec, "doc.organization", e->org, cursor,
                               EXPORT_PAGE, ids, n, more, err);
    }
    if (!store_student_find_ids(e->client, e->db, "organization", e->org, cursor[0] ? cursor : NULL,
                                EXPORT_PAGE, ids, n, err))
        return false;
    *more = *n == EXPORT_PAGE;
    if (*n > 0)
        memcpy(cursor, ids[*n - 1], 40);
    return true;
}

/* One page of students; false at the end (or on failure: *ok). */
static bool
write_page(export_t *e, xmlTextWriterPtr w, char (*ids)[40], char *cursor, bool *ok)
{
    const char *db = e->db;
    const char *shown[EXPORT_PAGE];
    kt_error_t err;
    int n = 0, k = 0;
    bool more = false, disclosed = false, failed = false;

    kt_error_clear(&err);
    *ok = page_ids(e, ids, cursor, &n, &more, &err);
    for (int i = 0; *ok && i < n; i++) {
        student_t s;
        if (strcmp(ids[i], e->last) == 0)
            continue; /* its versions straddled two pages */
        memcpy(e->last, ids[i], 40);
        student_init(&s);
        if (read_member(e, ids[i], &s, &disclosed, &failed)) {
            *ok = xmlio_write_student(w, s.id, s.version, false, &s.doc);
            shown[k++] = ids[i];
        }
        *ok = *ok && !failed;
        student_release(&s);
    }
    static const char *const health[] = {"health", NULL};
    if (*ok && k > 0)
        *ok = audit_log_read_fields(e->client, db, e->principal, e->request_id, "export", shown,
                                    (size_t)k, disclosed ? health : NULL, e->purpose, &err);
    *ok = *ok && xmlTextWriterFlush(w) >= 0;
    return *ok && more;
}

bool
export_packet(export_t *e, response_write_fn write_fn, void *wctx)
{
    char(*ids)[40] = malloc(sizeof(*ids) * EXPORT_PAGE);
    char cursor[64] = "";
    bool ok = ids != NULL;

    e->write_fn = write_fn;
    e->wctx = wctx;
    xmlOutputBufferPtr out = ids ? xmlOutputBufferCreateIO(xml_out, xml_close, e, NULL) : NULL;
    xmlTextWriterPtr w = out ? xmlNewTextWriter(out) : NULL;
    if (w == NULL) {
        free(ids);
        return false;
    }
    xmlTextWriterStartDocument(w, "1.0", "UTF-8", NULL);
    xmlTextWriterStartElementNS(w, NULL, BAD_CAST "Packet", BAD_CAST XMLIO_NS);
    write_header(w);
    xmlTextWriterStartElement(w, BAD_CAST "Data");
    e->last[0] = '\0';
    while (ok && write_page(e, w, ids, cursor, &ok))
        ;
    xmlTextWriterEndDocument(w);
    xmlFreeTextWriter(w); /* flushes and frees out */
    free(ids);
    return ok;
}

static bool
stream(void *ctx, response_write_fn write_fn, void *wctx)
{
    return export_packet(ctx, write_fn, wctx);
}

bool
handle_export(const app_t *app, request_t *req, response_t *res, kt_error_t *err)
{
    export_t *e = arena_calloc(req->arena, 1, sizeof *e);
    const char *org = request_query(req, "organization");

    if (e == NULL || !handler_as_of(req, &e->as_of, err) ||
        !healthdata_purpose(req, &e->purpose, err))
        return false;
    /* Checked before the first byte: later, an error can only cut the stream. */
    if (principal_can_see_health(&req->principal) &&
        seal_keyring_current(app->health_ring, err) == NULL)
        return false;
    if (org == NULL || !ogrn_valid(org) || strlen(org) != 13) {
        kt_error_set(err, KT_DOMAIN_INPUT, KT_FORMAT, 400,
                     "organization must be the ОГРН (13 digits) of a school");
        return false;
    }
    if (req->principal.role == ROLE_SCHOOL && strcmp(org, req->principal.org) != 0) {
        kt_error_set(err, KT_DOMAIN_AUTH, KT_FORBIDDEN, 403,
                     "a school may only export its own students");
        return false;
    }
    e->db = store_db_name(app->store);
    e->principal = &req->principal;
    e->request_id = req->request_id;
    e->health_ring = app->health_ring;
    e->org = org;
    e->client = handler_client(app, req);
    if (e->client == NULL)
        return false;
    response_stream(res, 200, "application/xml; charset=utf-8", stream, e);
    return true;
}
