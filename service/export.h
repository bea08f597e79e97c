/*
 * export: a Packet of one organisation's students (now, or as of a time),
 * written in pieces through a write function: the HTTP handler streams it to
 * the client, `kontingentctl export` to a file. Memory is one page.
 *
 * Each page (up to 500 students) is read and written into a buffer, then
 * access-logged, and only then sent: nothing reaches the client that the
 * access log does not hold. The first page is made before anything is sent
 * (export_begin), so a store that fails then gives an error and no body. A
 * failure on a later page sends no more students and no closing tags: the
 * output ends with the marker EXPORT_FAILED_MARK (docs/xml-exchange.md).
 */
#ifndef KT_SERVICE_EXPORT_H
#define KT_SERVICE_EXPORT_H

#include <libxml/xmlwriter.h>
#include <bson/bson.h>
#include <stdbool.h>

#include "auth/principal.h"
#include "store/store.h"
#include "core/buf.h"
#include "model/seal.h"

/* Where the pieces go: false when they cannot be written (the client left). */
typedef bool (*export_write_fn)(void *wctx, const char *data, size_t len);

/* The start of the last line of an export cut short by a failure. */
#define EXPORT_FAILED_MARK "<?kontingent-export-failed"

typedef struct {
    store_conn_t *conn;
    const char *org;              /* ОГРН */
    const char *as_of;            /* NULL: now; else "YYYY-MM-DDTHH:MM:SS.mmmZ" */
    const principal_t *principal; /* for the access log */
    const char *request_id;       /* for the access log */
    /* Health keys (NULL: none) and the stated purpose, for the access log;
     * health is shown only to principals that may see it (service/healthdata.h). */
    const seal_keyring_t *health_ring;
    const char *purpose;
    const char *fault; /* test builds: an injected failure (export.c), else NULL */
    /* The state of a running export (export_begin sets it up). */
    xmlTextWriterPtr writer;
    buf_t page;      /* the page written, not yet sent */
    char (*ids)[40]; /* the page's ids */
    char cursor[64]; /* where the next page starts */
    char last[40];   /* the last student written (pages may repeat one) */
    int page_no;     /* pages made so far */
    bool more;       /* another page may follow */
} export_t;

/* Makes (and logs) the first page; false with err (nothing to send) when
 * the store fails. Then export_send, or export_end to give up. */
bool export_begin(export_t *e, kt_error_t *err);

/* Sends the pages made, making and logging each next one before sending it;
 * false with err when the store or the output failed (the output is then
 * cut short, see above). Ends the export either way. */
bool export_send(export_t *e, export_write_fn write_fn, void *wctx, kt_error_t *err);

/* Releases what a begun export holds; safe to call twice. */
void export_end(export_t *e);

#endif
