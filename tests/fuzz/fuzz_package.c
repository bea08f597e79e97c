/*
 * fuzz_package: any bytes as the body of POST /api/v1/packages, read as the
 * handler reads it: the header, then every item, each student and each
 * organisation through its model, each of the model's field errors through
 * xmlio_pointer_to_xpath().
 * Nothing may crash or leak. The reader must end cleanly or with a
 * whole-package error of the XML domain (MALFORMED, XSD, PAYLOAD_TOO_LARGE)
 * whose message is UTF-8; items must be numbered 1, 2, 3 …; an item is
 * either converted (a student's or organisation's tree, a DeleteStudent's
 * attributes) or
 * carries its own XSD error, every path of which lies under its XPath, in
 * messages of ours that quote nothing (libxml2's quote the value with
 * apostrophes, and the value may be personal data); and libxml2 must never
 * reach its process-wide error handlers (they print).
 *
 * The XSD is <repo>/xsd/kontingent-exchange-1.xsd, found from this file's
 * path (<repo>/tests/fuzz/fuzz_package.c), or KT_XSD_PATH when set.
 */
#include <libxml/xmlerror.h>
#include <libxml/xmlversion.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/utf8.h"
#include "model/organization.h"
#include "model/student.h"
#include "model/xmlio.h"

#define FUZZ_PACKAGE_ARENA_CAP ((size_t)16 << 20)
#define FUZZ_PACKAGE_TODAY     "2026-03-15"

#if LIBXML_VERSION >= 21200
typedef const xmlError fuzz_package_xml_error_t;
#else
typedef xmlError fuzz_package_xml_error_t;
#endif

/* The process-wide handlers, which print: xmlio must route every libxml2
 * message to its own, so reaching these is a failure. */
static void
fuzz_package_printed(void *ctx, const char *fmt, ...)
{
    (void)ctx;
    fprintf(stderr, "libxml2 printed: %s\n", fmt);
    abort();
}

static void
fuzz_package_printed_structured(void *ctx, fuzz_package_xml_error_t *e)
{
    (void)ctx;
    fprintf(stderr, "libxml2 reported globally: %s\n", e != NULL ? e->message : "");
    abort();
}

/* Loaded once for the process: the schema is read-only configuration. */
static xmlio_schema_t *
fuzz_package_schema(void)
{
    static xmlio_schema_t *schema;
    char path[4096];
    const char *env = getenv("KT_XSD_PATH");
    kt_error_t err;
    size_t len;

    if (schema != NULL)
        return schema;
    xmlSetGenericErrorFunc(NULL, fuzz_package_printed);
    xmlSetStructuredErrorFunc(NULL, fuzz_package_printed_structured);
    snprintf(path, sizeof path, "%s", __FILE__);
    for (int i = 0; i < 3; i++) {
        char *slash = strrchr(path, '/');
        if (slash != NULL)
            *slash = '\0';
    }
    len = strlen(path);
    snprintf(path + len, sizeof path - len, "/xsd/kontingent-exchange-1.xsd");
    schema = xmlio_schema_load(env != NULL ? env : path, &err);
    if (schema == NULL) {
        fprintf(stderr, "fuzz_package: %s\n", err.message);
        abort();
    }
    return schema;
}

static bool
fuzz_package_under(const char *path, const char *xpath)
{
    return path != NULL && strncmp(path, xpath, strlen(xpath)) == 0;
}

static void
fuzz_package_check_utf8(const char *s)
{
    if (s == NULL || !utf8_valid(s, strlen(s)))
        abort();
}

/* An item's own XSD error: 422, every path under the item's XPath. */
static void
fuzz_package_check_item_error(const xmlio_item_t *item)
{
    if (item->error.code != KT_XSD || item->error.status != 422 || item->student != NULL ||
        item->organization != NULL)
        abort();
    fuzz_package_check_utf8(item->error.message);
    for (const kt_field_error_t *f = item->error.fields; f != NULL; f = f->next) {
        if (!fuzz_package_under(f->pointer, item->xpath) || f->code != KT_XSD)
            abort();
        fuzz_package_check_utf8(f->message);
        if (strchr(f->message, '\'') != NULL)
            abort();
    }
}

typedef bool (*fuzz_model_fn)(arena_t *arena, const json_value_t *body, const char *today,
                              bson_t *out, kt_error_t *err);

/* A converted record through its model; its errors map into the item. */
static void
fuzz_package_check_record(arena_t *arena, const xmlio_item_t *item, const json_value_t *tree,
                          fuzz_model_fn model)
{
    bson_t out = BSON_INITIALIZER;
    kt_error_t err;

    if (tree == NULL || tree->type != JSON_OBJECT)
        abort();
    kt_error_clear(&err);
    if (!model(arena, tree, FUZZ_PACKAGE_TODAY, &out, &err)) {
        for (const kt_field_error_t *f = err.fields; f != NULL; f = f->next) {
            if (!fuzz_package_under(xmlio_pointer_to_xpath(arena, item->xpath, f->pointer),
                                    item->xpath))
                abort();
        }
    }
    bson_destroy(&out);
}

static void
fuzz_package_check_item(arena_t *arena, const xmlio_item_t *item, size_t index)
{
    if (item->index != index || !fuzz_package_under(item->xpath, "/Packet/Data/"))
        abort();
    if (item->error.code != KT_OK)
        fuzz_package_check_item_error(item);
    else if (item->kind == XMLIO_ITEM_STUDENT && item->organization == NULL)
        fuzz_package_check_record(arena, item, item->student, student_from_json);
    else if (item->kind == XMLIO_ITEM_ORGANIZATION && item->student == NULL)
        fuzz_package_check_record(arena, item, item->organization, organization_from_json);
    else if (item->kind != XMLIO_ITEM_DELETE || item->student != NULL ||
             item->organization != NULL || item->id == NULL || item->reason == NULL)
        abort();
}

static void
fuzz_package_check_end(const kt_error_t *err)
{
    if (err->code == KT_OK)
        return;
    if (err->domain != KT_DOMAIN_XML ||
        (err->code != KT_MALFORMED && err->code != KT_XSD && err->code != KT_PAYLOAD_TOO_LARGE))
        abort();
    fuzz_package_check_utf8(err->message);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    arena_t *arena = arena_new(FUZZ_PACKAGE_ARENA_CAP);
    xmlio_reader_t *r = NULL;
    xmlio_header_t header;
    xmlio_item_t item;
    kt_error_t err;
    size_t n = 0;

    if (arena == NULL)
        goto done;
    r = xmlio_reader_new(fuzz_package_schema(), (const char *)data, size, &err);
    if (r == NULL) {
        fuzz_package_check_end(&err);
        goto done;
    }
    if (!xmlio_reader_header(r, &header, &err))
        fuzz_package_check_end(&err);
    while (xmlio_reader_next(r, arena, &item, &err)) {
        fuzz_package_check_item(arena, &item, ++n);
        arena_reset(arena);
    }
    fuzz_package_check_end(&err);
done:
    xmlio_reader_free(r);
    arena_free(arena);
    return 0;
}
