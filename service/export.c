/*
 * export: GET /api/v1/export?organization=<ОГРН>[&as_of=<time>] — a Packet
 * of the organisation's students in the exchange format, in constant memory:
 * ids are paged (500 at a time) from the heads, or with as_of from the
 * versions that named the organisation by then; each student is read and
 * written through libxml2's writer into the page's buffer and freed. A page
 * is access-logged as an "export" read before it is sent (service/export.h
 * and docs/xml-exchange.md say what a client sees when the store fails).
 * Importing an export changes nothing (every item UNCHANGED).
 */
#include <stdlib.h>
#include <string.h>

#include "service/export.h"
#include "service/healthdata.h"
#include "store/records.h"
#include "model/validators.h"
#include "model/xmlio.h"
#include "store/audit.h"
#include "store/kind.h"
#include "store/scan.h"
#include "store/util.h"

#define EXPORT_PAGE 500
/* A page's bytes are held until it is logged; past this the export fails. */
#define EXPORT_PAGE_BYTES (64u << 20)

#ifdef KT_FAULT_INJECTION
/* Test builds only: with x-kt-fault "export-read-N" or "export-log-N" pages
 * hold 2 students and page N's read (or its access-log entry) fails as if
 * the store went away. */
static int
page_size(const export_t *e)
{
    return e->fault != NULL && strncmp(e->fault, "export-", 7) == 0 ? 2 : EXPORT_PAGE;
}

static bool
fault_at(const export_t *e, const char *step, kt_error_t *err)
{
    char name[32];

    snprintf(name, sizeof name, "export-%s-%d", step, e->page_no);
    if (e->fault == NULL || strcmp(e->fault, name) != 0)
        return true;
    kt_error_set(err, KT_DOMAIN_STORE, KT_STORE_UNAVAILABLE, "injected fault %s", name);
    return false;
}
#else
#define page_size(e)           EXPORT_PAGE
#define fault_at(e, step, err) true
#endif

static int
xml_out(void *ctx, const char *buf, int len)
{
    export_t *e = ctx;
    return buf_append(&e->page, buf, (size_t)len) ? len : -1;
}

static int
xml_close(void *ctx)
{
    return 0;
}

/* A school's as_of export holds only the students it may see now (the
 * current version names it and is not deleted): a student who moved away
 * or was deleted since is not shown as of then either (404/410 on GET). */
static bool
visible_now(export_t *e, const char *id, bool *visible, kt_error_t *err)
{
    record_t now;
    bool ok;

    *visible = true;
    if (e->as_of == NULL || e->principal->role != ROLE_SCHOOL)
        return true;
    record_init(&now);
    ok = store_student_get(e->conn, id, &now, err);
    const char *org = ok ? util_get_str(&now.doc, "organization") : NULL;
    *visible = ok && !now.deleted && org != NULL && strcmp(org, e->org) == 0;
    record_release(&now);
    return ok || err->code == KT_NOT_FOUND;
}

/* The student as it was at as_of (or now) when it then belonged to org
 * (*member); false only when the store failed (err). */
static bool
read_member_raw(export_t *e, const char *id, record_t *s, bool *member, kt_error_t *err)
{
    kt_error_t e2;
    bool ok;

    *member = false;
    kt_error_clear(&e2);
    if (!visible_now(e, id, member, &e2)) {
        *err = e2;
        return false;
    }
    if (!*member)
        return true;
    kt_error_clear(&e2);
    ok = e->as_of ? store_student_as_of(e->conn, id, e->as_of, s, &e2)
                  : store_student_get(e->conn, id, s, &e2);
    const char *org = ok ? util_get_str(&s->doc, "organization") : NULL;
    *member = ok && !s->deleted && org != NULL && strcmp(org, e->org) == 0;
    if (!ok && e2.code != KT_NOT_FOUND)
        *err = e2;
    return ok || e2.code == KT_NOT_FOUND;
}

/* The same, with the health block opened or removed (service/healthdata.h);
 * a block that cannot be opened fails the export. */
static bool
read_member(export_t *e, const char *id, record_t *s, bool *member, bool *disclosed,
            kt_error_t *err)
{
    healthdata_t h = {e->health_ring, e->conn, e->principal};
    bool opened = false;

    if (!read_member_raw(e, id, s, member, err))
        return false;
    if (!*member)
        return true;
    if (!healthdata_view(&h, &s->doc, &opened, err))
        return false;
    *disclosed = *disclosed || opened;
    return true;
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
page_ids(export_t *e, int *n, kt_error_t *err)
{
    scan_spec_t spec = {.kind = &store_kind_student};

    if (!fault_at(e, "read", err))
        return false;
    if (e->as_of != NULL) {
        spec.until = e->as_of;
        return store_scan_page(e->conn, &spec, "doc.organization", e->org, e->cursor, page_size(e),
                               e->ids, n, &e->more, err);
    }
    if (!store_student_find_ids(e->conn, "organization", e->org, e->cursor[0] ? e->cursor : NULL,
                                page_size(e), e->ids, n, err))
        return false;
    e->more = *n == page_size(e);
    if (*n > 0)
        memcpy(e->cursor, e->ids[*n - 1], 40);
    return true;
}

/* Writes the page's members into the writer; shown[*k] the ids written. */
/* The student's progress records (store/progress.h), each as it stood at
 * as_of, after its student: a package applies them in that order. Heads
 * list every record that ever existed (progress is never deleted). */
#define EXPORT_PROGRESS_YEARS 64 /* academic years of one student */

static bool
write_progress(export_t *e, const char *student_id, kt_error_t *err)
{
    char(*ids)[40] = malloc(sizeof(*ids) * EXPORT_PROGRESS_YEARS);
    bson_t filter = BSON_INITIALIZER;
    int n = 0;
    bool ok;

    BSON_APPEND_UTF8(&filter, "student_id", student_id);
    ok = ids != NULL && store_record_find_ids(e->conn, &store_kind_progress, &filter, NULL,
                                              EXPORT_PROGRESS_YEARS, ids, &n, err);
    for (int i = 0; ok && i < n; i++) {
        record_t p;
        kt_error_t e2;
        kt_error_clear(&e2);
        record_init(&p);
        bool got =
            e->as_of ? store_record_as_of(e->conn, &store_kind_progress, ids[i], e->as_of, &p, &e2)
                     : store_record_get(e->conn, &store_kind_progress, ids[i], &p, &e2);
        const char *sid = got ? util_get_str(&p.doc, "student_id") : NULL;
        if (got && sid != NULL && strcmp(sid, student_id) == 0)
            ok = xmlio_write_progress(e->writer, p.version, &p.doc);
        else if (!got && e2.code != KT_NOT_FOUND) {
            *err = e2;
            ok = false;
        }
        record_release(&p);
    }
    if (ids == NULL)
        kt_error_set(err, KT_DOMAIN_INTERNAL, KT_INTERNAL, "out of memory for the export");
    free(ids);
    bson_destroy(&filter);
    return ok;
}

static bool
write_members(export_t *e, int n, const char **shown, int *k, bool *disclosed, kt_error_t *err)
{
    bool ok = true;

    for (int i = 0; ok && i < n; i++) {
        record_t s;
        bool member = false;
        if (strcmp(e->ids[i], e->last) == 0)
            continue; /* its versions straddled two pages */
        memcpy(e->last, e->ids[i], 40);
        record_init(&s);
        ok = read_member(e, e->ids[i], &s, &member, disclosed, err);
        if (ok && member) {
            ok = xmlio_write_student(e->writer, s.id, s.version, false, &s.doc) &&
                 write_progress(e, s.id, err);
            shown[(*k)++] = e->ids[i];
        }
        record_release(&s);
    }
    return ok;
}

/* Reads the next page into e->page (with the closing tags after the last)
 * and logs it; nothing of it is sent yet. */
static bool
make_page(export_t *e, kt_error_t *err)
{
    static const char *const health[] = {"health", NULL};
    const char *shown[EXPORT_PAGE];
    int n = 0, k = 0;
    bool disclosed = false;

    e->page_no++;
    if (!page_ids(e, &n, err) || !write_members(e, n, shown, &k, &disclosed, err))
        goto failed;
    if (!e->more && xmlTextWriterEndDocument(e->writer) < 0)
        goto failed;
    if (xmlTextWriterFlush(e->writer) < 0 || e->page.overflow)
        goto failed;
    if (k > 0 && (!fault_at(e, "log", err) ||
                  !audit_log_read_fields(e->conn, e->principal, e->request_id, "export", shown,
                                         (size_t)k, disclosed ? health : NULL, e->purpose, err)))
        goto failed;
    return true;
failed:
    if (err->code == KT_OK)
        kt_error_set(err, KT_DOMAIN_INTERNAL, KT_INTERNAL,
                     "the export's page could not be written (more than %u bytes?)",
                     EXPORT_PAGE_BYTES);
    return false;
}

bool
export_begin(export_t *e, kt_error_t *err)
{
    xmlOutputBufferPtr out;

    buf_init(&e->page, EXPORT_PAGE_BYTES);
    e->ids = malloc(sizeof(*e->ids) * EXPORT_PAGE);
    out = e->ids ? xmlOutputBufferCreateIO(xml_out, xml_close, e, NULL) : NULL;
    e->writer = out ? xmlNewTextWriter(out) : NULL;
    if (e->writer == NULL) {
        export_end(e);
        kt_error_set(err, KT_DOMAIN_INTERNAL, KT_INTERNAL, "out of memory for the export");
        return false;
    }
    e->cursor[0] = e->last[0] = '\0';
    e->page_no = 0;
    xmlTextWriterStartDocument(e->writer, "1.0", "UTF-8", NULL);
    xmlTextWriterStartElementNS(e->writer, NULL, BAD_CAST "Packet", BAD_CAST XMLIO_NS);
    write_header(e->writer);
    xmlTextWriterStartElement(e->writer, BAD_CAST "Data");
    if (!make_page(e, err)) {
        export_end(e);
        return false;
    }
    return true;
}

/* The last line of an export cut short: no closing tags follow, so the
 * document is not well-formed, and the marker says why. */
static void
write_failure(export_t *e, export_write_fn write_fn, void *wctx, const kt_error_t *err)
{
    char line[256];
    const char *rid = e->request_id != NULL ? e->request_id : "";
    size_t len = strspn(rid, "0123456789abcdefABCDEF-_.:") == strlen(rid) ? strlen(rid) : 0;
    int n =
        snprintf(line, sizeof line, "\n" EXPORT_FAILED_MARK " code=\"%s\" request_id=\"%.*s\"?>\n",
                 kt_code_name(err->code), (int)(len < 64 ? len : 64), rid);

    if (n > 0)
        write_fn(wctx, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
}

bool
export_send(export_t *e, export_write_fn write_fn, void *wctx, kt_error_t *err)
{
    bool ok = true;

    for (;;) {
        ok = e->page.len == 0 || write_fn(wctx, e->page.data, e->page.len);
        buf_clear(&e->page);
        if (!ok)
            kt_error_set(err, KT_DOMAIN_INTERNAL, KT_INTERNAL, "the export's output failed");
        if (!ok || !e->more)
            break;
        ok = make_page(e, err);
        if (!ok) {
            buf_clear(&e->page); /* neither logged nor whole: never sent */
            write_failure(e, write_fn, wctx, err);
            break;
        }
    }
    export_end(e);
    return ok;
}

void
export_end(export_t *e)
{
    if (e->writer != NULL)
        xmlFreeTextWriter(e->writer); /* flushes into e->page and frees out */
    e->writer = NULL;
    free(e->ids);
    e->ids = NULL;
    buf_release(&e->page);
}
