/*
 * test_xmlio: the XML exchange format. The committed samples read item by
 * item into the trees the student model takes; an item that breaks the XSD
 * is rejected alone; envelope errors reject the package (XSD for the wrong
 * root, namespace or Header, MALFORMED for what is not well-formed); the
 * hostile inputs (external entities to a file and to the network, billion
 * laughs, deep nesting, invalid UTF-8, truncation, too many or too large
 * items) fail safe, quickly, without fetching anything and without a word
 * on stderr; JSON Pointers map to XPaths; and what xmlio_write_student()
 * writes is valid by the XSD and reads back to the same student.
 *
 * The XSD is found from KT_TEST_DATA (<repo>/tests/data, set by CMake) as
 * <repo>/xsd, or else from the harness's own path (check_repo_path, check.h).
 */
#include <libxml/parser.h>
#include <libxml/xmlschemas.h>
#include <libxml/xmlwriter.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/utf8.h"
#include "model/codec.h"
#include "model/education.h"
#include "model/fields.h"
#include "model/organization.h"
#include "model/student.h"
#include "model/xmlio.h"
#include "tests/unit/check.h"

#define NS        "urn:kontingent:exchange:1"
#define PACKET_ID "6f1c2b7e-4d3a-4f6b-9c1e-2a5d8e7f9b10"
#define HEADER                                                                                     \
    "<Header><PacketID>" PACKET_ID "</PacketID><SourceSystemID>TEST-01</SourceSystemID>"           \
    "<Timestamp>2026-09-01T10:00:00+03:00</Timestamp></Header>"
#define DOCS_DEFAULT                                                                               \
    "<Document type=\"BIRTH_CERT_RF\"><Series>II-ТН</Series><Number>654321</Number></Document>"
#define RUN_ITEMS_MAX 8

static xmlio_schema_t *schema;
static xmlSchemaPtr raw_schema; /* the same XSD, loaded by libxml2 directly */

/* Setup. */

/* <repo>/rel in the arena (check_repo_path, tests/unit/check.h). */
static const char *
repo_path(arena_t *a, const char *rel)
{
    char path[1100];

    check_repo_path(path, sizeof path, rel);
    return arena_printf(a, "%s", path);
}

/* A whole file into the arena, NUL-terminated; NULL when unreadable. */
static char *
slurp(arena_t *a, const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *data = NULL;
    long n;

    *len = 0;
    if (f == NULL)
        return NULL;
    if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0) {
        data = arena_alloc(a, (size_t)n + 1);
        if (data != NULL) {
            *len = fread(data, 1, (size_t)n, f);
            data[*len] = '\0';
        }
    }
    fclose(f);
    return data;
}

/* libxml2 must never write to stderr: these capture fd 2 around a call. */
static FILE *captured;
static int saved_stderr = -1;

static void
stderr_begin(void)
{
    fflush(stderr);
    captured = tmpfile();
    saved_stderr = dup(2);
    if (captured != NULL)
        dup2(fileno(captured), 2);
}

/* Restores stderr; returns the bytes written meanwhile (first cap - 1 in out). */
static size_t
stderr_end(char *out, size_t cap)
{
    size_t n = 0;

    fflush(stderr);
    dup2(saved_stderr, 2);
    close(saved_stderr);
    out[0] = '\0';
    if (captured == NULL)
        return 0;
    n = (size_t)ftell(captured);
    rewind(captured);
    out[fread(out, 1, cap - 1, captured)] = '\0';
    fclose(captured);
    captured = NULL;
    return n;
}

/* An external entity loader that only counts: proof that nothing is fetched. */
static int loader_calls;

static xmlParserInputPtr
counting_loader(const char *url, const char *id, xmlParserCtxtPtr ctxt)
{
    (void)url;
    (void)id;
    (void)ctxt;
    loader_calls++;
    return NULL;
}

/* Reading. */

typedef struct {
    bool header_ok;
    xmlio_header_t header;
    kt_error_t header_err;
    xmlio_item_t items[RUN_ITEMS_MAX];
    size_t n;       /* items returned */
    kt_error_t end; /* why reading stopped: KT_OK at a clean end */
} run_t;

/* Reads a whole package; items live in a (not reset between items). */
static void
run_xml(arena_t *a, const char *xml, size_t len, run_t *out)
{
    kt_error_t err;
    xmlio_reader_t *r = xmlio_reader_new(schema, xml, len, &err);
    xmlio_item_t item;

    memset(out, 0, sizeof *out);
    if (r == NULL) {
        out->end = err;
        return;
    }
    out->header_ok = xmlio_reader_header(r, &out->header, &out->header_err);
    while (xmlio_reader_next(r, a, &item, &out->end)) {
        if (out->n < RUN_ITEMS_MAX)
            out->items[out->n] = item;
        out->n++;
    }
    xmlio_reader_free(r);
}

static void
run_str(arena_t *a, const char *xml, run_t *out)
{
    run_xml(a, xml, strlen(xml), out);
}

/* A package around items. */
static const char *
packet(arena_t *a, const char *items)
{
    return arena_printf(a, "<Packet xmlns=\"" NS "\">" HEADER "<Data>%s</Data></Packet>", items);
}

/* A valid student with the given localId, sex and documents (NULL: one birth certificate). */
static const char *
student_xml(arena_t *a, const char *local_id, const char *sex, const char *docs)
{
    return arena_printf(a,
                        "<Student localId=\"%s\"><LastName>Петров</LastName>"
                        "<FirstName>Иван</FirstName><Sex>%s</Sex><BirthDate>2014-03-02</BirthDate>"
                        "<Citizenship category=\"RF\"/><Documents>%s</Documents><Addresses>"
                        "<Address kind=\"REGISTRATION\"><Text>Казань</Text></Address></Addresses>"
                        "<Organization>1027700132195</Organization></Student>",
                        local_id, sex, docs != NULL ? docs : DOCS_DEFAULT);
}

static const char *
tree_json(arena_t *a, const json_value_t *v)
{
    buf_t b;
    const char *out;

    buf_init(&b, 0);
    out = v != NULL && json_write(&b, v) ? arena_strdup(a, b.data) : "(none)";
    buf_release(&b);
    return out;
}

/* The tree passes the student model. */
static bool
model_ok(arena_t *a, const json_value_t *tree, bson_t *out)
{
    kt_error_t err;
    bool ok;

    kt_error_clear(&err);
    ok = tree != NULL && student_from_json(a, tree, NULL, out, &err);
    if (!ok) {
        fprintf(stderr, "  model rejected: %s\n", err.message);
        for (const kt_field_error_t *f = err.fields; f != NULL; f = f->next)
            fprintf(stderr, "    %s %s %s\n", f->pointer, kt_code_name(f->code),
                    f->message ? f->message : "");
    }
    return ok;
}

static bool
has_field(const kt_error_t *err, const char *pointer)
{
    for (const kt_field_error_t *f = err->fields; f != NULL; f = f->next) {
        if (strcmp(f->pointer, pointer) == 0 && f->code == KT_XSD)
            return true;
    }
    return false;
}

static void
dump_fields(const kt_error_t *err)
{
    fprintf(stderr, "  error %s: %s\n", kt_code_name(err->code), err->message);
    for (const kt_field_error_t *f = err->fields; f != NULL; f = f->next)
        fprintf(stderr, "    %s: %s\n", f->pointer, f->message ? f->message : "");
}

/* A package that must fail whole with code, no item returned after. */
static void
check_package_fails(const char *what, const char *xml, size_t len, kt_code_t code)
{
    arena_t *a = arena_new(0);
    run_t r;

    run_xml(a, xml, len, &r);
    if (r.end.code != code) {
        fprintf(stderr, "%s: expected %s, got %s (%s)\n", what, kt_code_name(code),
                kt_code_name(r.end.code), r.end.message);
        check_failures_in_test++;
    }
    CHECK(r.end.domain == KT_DOMAIN_XML);
    CHECK_INT(r.end.status, kt_code_status(code));
    CHECK(utf8_valid(r.end.message, strlen(r.end.message)));
    arena_free(a);
}

static void
check_str_fails(const char *what, const char *xml, kt_code_t code)
{
    check_package_fails(what, xml, strlen(xml), code);
}

/* The samples. */

static const char SAMPLE_1[] =
    "{\"last_name\":\"Иванова-Петрова\",\"first_name\":\"Анна\",\"middle_name\":\"Сергеевна\","
    "\"sex\":\"F\",\"birth_date\":\"2015-05-20\",\"birth_place\":\"г. Казань\","
    "\"snils\":\"112-233-445 95\",\"citizenship\":{\"category\":\"RF\"},"
    "\"documents\":[{\"type\":\"BIRTH_CERT_RF\",\"series\":\"IV-АМ\",\"number\":\"123456\","
    "\"issuer\":\"Отдел ЗАГС Вахитовского района г. Казани\",\"issued_on\":\"2015-06-01\"}],"
    "\"addresses\":[{\"kind\":\"REGISTRATION\",\"text\":\"Республика Татарстан, г. Казань, "
    "ул. Баумана, д. 1, кв. 5\",\"region_code\":\"16\",\"oktmo\":\"92701000\","
    "\"fias_guid\":\"0c5b2444-70a0-4932-980c-b4dc0d3f02b5\"}],"
    "\"representatives\":[{\"kind\":\"MOTHER\",\"last_name\":\"Иванова\",\"first_name\":\"Мария\","
    "\"middle_name\":\"Ивановна\",\"birth_date\":\"1988-01-10\",\"snils\":\"00132667900\","
    "\"citizenship\":{\"category\":\"DUAL\",\"countries\":[\"643\",\"804\"]},"
    "\"document\":{\"type\":\"PASSPORT_RF\",\"series\":\"9205\",\"number\":\"654321\","
    "\"issuer\":\"МВД по Республике Татарстан\",\"issued_on\":\"2008-02-01\"},"
    "\"phone\":\"+7 (912) 345-67-89\",\"email\":\"maria@example.ru\"}],"
    "\"organization\":\"1021600001235\"}";

static const char SAMPLE_2[] =
    "{\"id\":\"2da35c03-2ba9-43b6-b5bf-7dc9a44fbc7b\",\"last_name\":\"Сафин\","
    "\"first_name\":\"Тимур\",\"sex\":\"M\",\"birth_date\":\"2011-10-03\","
    "\"snils\":\"14567891208\",\"citizenship\":{\"category\":\"RF\",\"countries\":[\"643\"]},"
    "\"documents\":[{\"type\":\"PASSPORT_RF\",\"series\":\"9226\",\"number\":\"100200\","
    "\"issued_on\":\"2025-10-20\"}],\"addresses\":[{\"kind\":\"RESIDENCE\","
    "\"text\":\"г. Набережные Челны, пр. Мира, д. 10\"}],\"organization\":\"1161650004560\"}";

/* The sample's two Event items: the attribute student is the item's id,
 * the elements are the JSON body of POST /students/{id}/events, valid. */
static void
check_sample_events(arena_t *a, const run_t *r)
{
    static const char out_json[] =
        "{\"type\":\"TRANSFER_OUT\",\"date\":\"2026-08-31\",\"order\":{\"number\":\"51-у\","
        "\"date\":\"2026-08-31\"},\"to_organization\":\"1021600001235\"}";

    if (r->n < 6)
        return;
    for (size_t i = 4; i < 6; i++) {
        const xmlio_item_t *it = &r->items[i];
        bson_t ev = BSON_INITIALIZER;
        kt_error_t err;
        CHECK_INT(it->kind, XMLIO_ITEM_EVENT);
        CHECK_INT(it->error.code, KT_OK);
        CHECK(it->student == NULL && it->event != NULL && it->reason == NULL);
        CHECK_STR(it->id, "0b7c5a7e-2f7e-4a8e-9a52-1d2f3e4a5b6c");
        CHECK_STR(it->xpath, i == 4 ? "/Packet/Data/Event[1]" : "/Packet/Data/Event[2]");
        CHECK(education_event_from_json(a, it->event, "2026-09-01", &ev, &err));
        bson_destroy(&ev);
    }
    CHECK_STR(tree_json(a, r->items[4].event), out_json);
    CHECK(json_get(r->items[5].event, "grade")->type == JSON_NUMBER);
    CHECK_STR(json_get(r->items[5].event, "grade")->str, "5");
    CHECK(json_get(json_get(r->items[5].event, "program"), "adapted")->type == JSON_FALSE);
}

static void
check_sample_items(arena_t *a, const run_t *r)
{
    static const char *const local_ids[] = {"123", "124", "125", "126"};
    static const char *const xpaths[] = {"/Packet/Data/Student[1]", "/Packet/Data/Student[2]",
                                         "/Packet/Data/Student[3]",
                                         "/Packet/Data/DeleteStudent[1]"};

    CHECK_INT(r->n, 6);
    for (size_t i = 0; i < 4 && i < r->n; i++) {
        const xmlio_item_t *it = &r->items[i];
        bson_t doc = BSON_INITIALIZER;
        CHECK_INT(it->index, i + 1);
        CHECK_STR(it->local_id, local_ids[i]);
        CHECK_STR(it->xpath, xpaths[i]);
        CHECK_INT(it->error.code, KT_OK);
        CHECK_INT(it->kind, i < 3 ? XMLIO_ITEM_STUDENT : XMLIO_ITEM_DELETE);
        if (i < 3)
            CHECK(model_ok(a, it->student, &doc));
        bson_destroy(&doc);
    }
    if (r->n < 4)
        return;
    CHECK_STR(tree_json(a, r->items[0].student), SAMPLE_1);
    CHECK(r->items[0].id == NULL && r->items[0].reason == NULL);
    CHECK_STR(tree_json(a, r->items[1].student), SAMPLE_2);
    CHECK_STR(r->items[1].id, "2da35c03-2ba9-43b6-b5bf-7dc9a44fbc7b");
    CHECK(r->items[3].student == NULL);
    CHECK_STR(r->items[3].id, "5a533eb7-a50f-4060-81f7-fa37e8546c72");
    CHECK_STR(r->items[3].reason, "приказ № 45 от 01.09.2026 (выбыл в другой регион)");
    check_sample_events(a, r);
}

static void
test_sample_packet(void)
{
    arena_t *a = arena_new(0);
    size_t len;
    const char *xml = slurp(a, repo_path(a, "xsd/samples/packet-changes.xml"), &len);
    run_t r;

    CHECK(xml != NULL);
    if (xml == NULL)
        goto done;
    run_xml(a, xml, len, &r);
    CHECK(r.header_ok);
    CHECK_STR(r.header.packet_id, "6f1c2b7e-4d3a-4f6b-9c1e-2a5d8e7f9b10");
    CHECK_STR(r.header.source_system, "MUNICIPAL-EDU-07");
    CHECK_STR(r.header.timestamp, "2026-09-01T10:00:00+03:00");
    CHECK_INT(r.end.code, KT_OK);
    check_sample_items(a, &r);
done:
    arena_free(a);
}

/* The same sample through xmlio_reader_new_file, the arena reset per item. */
static void
test_sample_file(void)
{
    arena_t *a = arena_new(0), *item_arena = arena_new(1 << 20);
    kt_error_t err;
    xmlio_reader_t *r =
        xmlio_reader_new_file(schema, repo_path(a, "xsd/samples/packet-changes.xml"), &err);
    xmlio_header_t h;
    xmlio_item_t item;
    size_t n = 0;

    CHECK(r != NULL);
    if (r != NULL) {
        CHECK(xmlio_reader_header(r, &h, &err));
        CHECK(xmlio_reader_header(r, &h, &err)); /* again: the same header */
        CHECK_STR(h.source_system, "MUNICIPAL-EDU-07");
        while (xmlio_reader_next(r, item_arena, &item, &err)) {
            n++;
            CHECK_INT(item.error.code, KT_OK);
            arena_reset(item_arena);
        }
        CHECK_INT(err.code, KT_OK);
        CHECK(!xmlio_reader_next(r, item_arena, &item, &err)); /* stays at the end */
        CHECK_INT(err.code, KT_OK);
        xmlio_reader_free(r);
    }
    CHECK_INT(n, 6);
    r = xmlio_reader_new_file(schema, "/nonexistent/packet.xml", &err);
    CHECK(r == NULL);
    CHECK_INT(err.code, KT_NOT_FOUND);
    arena_free(item_arena);
    arena_free(a);
}

/* The committed samples are valid by libxml2 too (test_xsd.py checks them with xmlschema). */
static void
test_samples_valid(void)
{
    static const char *const files[] = {
        "xsd/samples/packet-small.xml",  "xsd/samples/packet-changes.xml",
        "xsd/samples/student.xml",       "xsd/samples/receipt.xml",
        "xsd/samples/organization.xml",  "xsd/samples/packet-organizations.xml",
        "xsd/samples/packet-records.xml"};
    arena_t *a = arena_new(0);

    for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
        xmlDocPtr doc = xmlReadFile(repo_path(a, files[i]), NULL, XML_PARSE_NONET);
        xmlSchemaValidCtxtPtr v = xmlSchemaNewValidCtxt(raw_schema);
        CHECK(doc != NULL && v != NULL);
        if (doc != NULL && v != NULL && xmlSchemaValidateDoc(v, doc) != 0) {
            fprintf(stderr, "%s is not valid\n", files[i]);
            check_failures_in_test++;
        }
        xmlSchemaFreeValidCtxt(v);
        xmlFreeDoc(doc);
    }
    arena_free(a);
}

/* Items standing alone. */

static void
test_item_breaking_xsd_alone(void)
{
    arena_t *a = arena_new(0);
    const char *items = arena_printf(
        a, "%s\n%s\n%s\n<DeleteStudent id=\"5a533eb7-a50f-4060-81f7-fa37e8546c72\" localId=\"4\"/>",
        student_xml(a, "1", "M", NULL), student_xml(a, "2", "X", NULL),
        student_xml(a, "3", "F",
                    DOCS_DEFAULT "<Document type=\"OTHER\"><Number>0123456789012345678901234567890"
                                 "</Number></Document>"));
    run_t r;

    run_str(a, packet(a, items), &r);
    CHECK_INT(r.end.code, KT_OK);
    CHECK_INT(r.n, 4);
    if (r.n != 4)
        goto done;
    CHECK(r.items[0].error.code == KT_OK && r.items[0].student != NULL);
    /* Item 2: Sex outside its enumeration, on line 2. */
    CHECK_INT(r.items[1].error.code, KT_XSD);
    CHECK_INT(r.items[1].error.status, 422);
    CHECK(r.items[1].student == NULL);
    CHECK_STR(r.items[1].local_id, "2");
    CHECK(has_field(&r.items[1].error, "/Packet/Data/Student[2]/Sex"));
    CHECK(strstr(r.items[1].error.message_ru, "Строка 2, /Packet/Data/Student[2]/Sex") != NULL);
    CHECK(strstr(r.items[1].error.message, "{" NS "}") == NULL);
    /* Item 3: the second document's number is too long. */
    CHECK_INT(r.items[2].error.code, KT_XSD);
    CHECK(has_field(&r.items[2].error, "/Packet/Data/Student[3]/Documents/Document[2]/Number"));
    /* Item 4: a DeleteStudent without its reason. */
    CHECK_INT(r.items[3].kind, XMLIO_ITEM_DELETE);
    CHECK_INT(r.items[3].error.code, KT_XSD);
    CHECK(has_field(&r.items[3].error, "/Packet/Data/DeleteStudent[1]"));
    CHECK_STR(r.items[3].id, "5a533eb7-a50f-4060-81f7-fa37e8546c72");
    CHECK(r.items[3].reason == NULL);
    if (r.items[1].error.nfields == 0)
        dump_fields(&r.items[1].error);
done:
    arena_free(a);
}

/* Schema errors on attributes and on order, and the text of the message. */
static void
test_item_error_paths(void)
{
    arena_t *a = arena_new(0);
    const char *bad_type =
        "<Student><LastName>Петров</LastName><FirstName>Иван</FirstName><Sex>M</Sex>"
        "<BirthDate>2014-03-02</BirthDate><Citizenship category=\"RF\"/><Documents>" DOCS_DEFAULT
        "<Document type=\"DIPLOMA\"><Number>1</Number></Document></Documents><Addresses>"
        "<Address kind=\"REGISTRATION\"><Text>Казань</Text></Address></Addresses>"
        "<Organization>1027700132195</Organization></Student>";
    const char *swapped =
        "<Student><FirstName>Иван</FirstName><LastName>Петров</LastName><Sex>M</Sex></Student>";
    const char *long_value = arena_printf(
        a, "%s",
        student_xml(a, "9",
                    "ЖЖЖЖЖЖЖЖЖЖЖЖЖЖЖЖЖЖЖЖЖЖЖЖЖЖЖЖЖЖЖЖЖЖЖЖЖЖЖЖЖЖЖЖЖЖЖЖЖЖЖЖЖЖЖЖЖЖЖЖЖЖЖЖЖЖЖЖЖЖЖЖЖЖЖЖЖ"
                    "ЖЖЖЖЖЖЖЖЖЖЖЖЖЖЖЖЖЖЖЖЖЖЖЖЖЖЖЖЖЖЖЖЖЖЖЖЖЖЖЖЖЖЖЖЖЖЖЖЖЖЖЖЖЖЖЖЖЖЖЖЖЖЖЖЖЖЖЖЖЖЖЖЖЖЖ",
                    NULL));
    run_t r;

    run_str(a, packet(a, arena_printf(a, "%s%s%s", bad_type, swapped, long_value)), &r);
    CHECK_INT(r.n, 3);
    if (r.n == 3) {
        CHECK(has_field(&r.items[0].error, "/Packet/Data/Student[1]/Documents/Document[2]/@type"));
        CHECK(has_field(&r.items[1].error, "/Packet/Data/Student[2]/FirstName"));
        CHECK_INT(r.items[2].error.code, KT_XSD);
        /* A long message is cut at a character, never inside one. */
        CHECK(utf8_valid(r.items[2].error.message, strlen(r.items[2].error.message)));
        for (const kt_field_error_t *f = r.items[2].error.fields; f != NULL; f = f->next)
            CHECK(utf8_valid(f->message, strlen(f->message)));
    }
    arena_free(a);
}

/* Text is given exactly: CDATA, character references, text around a comment. */
static void
test_text_forms(void)
{
    arena_t *a = arena_new(0);
    const char *item =
        "<Student><LastName><![CDATA[Пет]]>&#x440;о<!-- note -->в</LastName>"
        "<FirstName>Иван &amp; Co</FirstName><Sex>M</Sex><BirthDate>2014-03-02</BirthDate>"
        "<BirthPlace>  г. Казань\t</BirthPlace><Citizenship category=\"RF\"/>"
        "<Documents>" DOCS_DEFAULT "</Documents><Addresses><Address kind=\"ACTUAL\"><Text>"
        "a &lt; b</Text></Address></Addresses><Representatives/>"
        "<Organization>1027700132195</Organization></Student>";
    run_t r;

    run_str(a, packet(a, item), &r);
    CHECK_INT(r.n, 1);
    if (r.n == 1) {
        const json_value_t *s = r.items[0].student;
        CHECK_STR(json_get(s, "last_name")->str, "Петров");
        CHECK_STR(json_get(s, "first_name")->str, "Иван & Co");
        CHECK_STR(json_get(s, "birth_place")->str, "  г. Казань\t");
        CHECK_STR(json_get(json_get(s, "addresses")->child, "text")->str, "a < b");
        CHECK(json_get(s, "representatives")->type == JSON_ARRAY);
        CHECK_INT(json_get(s, "representatives")->count, 0);
    }
    arena_free(a);
}

/* Prefixed names, xsi: hints and comments are all fine; nothing is fetched. */
static void
test_prefixes_and_hints(void)
{
    arena_t *a = arena_new(0);
    const char *xml =
        "<?xml version=\"1.0\"?>\n<!-- a comment before the root -->\n"
        "<k:Packet xmlns:k=\"" NS "\" xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" "
        "xsi:schemaLocation=\"" NS " http://127.0.0.1:9/kontingent.xsd\">"
        "<k:Header><k:PacketID>P-1</k:PacketID><k:SourceSystemID>S</k:SourceSystemID>"
        "<k:Timestamp> 2026-09-01T10:00:00Z </k:Timestamp></k:Header><?pi here?>"
        "<k:Data><k:DeleteStudent id=\"5a533eb7-a50f-4060-81f7-fa37e8546c72\" reason=\"r\"/>"
        "<Student xmlns=\"" NS "\"><LastName>Петров</LastName><FirstName>Иван</FirstName>"
        "<Sex>M</Sex><BirthDate>2014-03-02</BirthDate><Citizenship "
        "category=\"RF\"/><Documents>" DOCS_DEFAULT
        "</Documents><Addresses><Address kind=\"REGISTRATION\"><Text>Казань</Text>"
        "</Address></Addresses><Organization>1027700132195</Organization></Student>"
        "</k:Data></k:Packet>\n<!-- and after -->\n";
    run_t r;

    loader_calls = 0;
    run_str(a, xml, &r);
    CHECK(r.header_ok);
    CHECK_STR(r.header.packet_id, "P-1");
    CHECK_STR(r.header.timestamp, "2026-09-01T10:00:00Z");
    CHECK_INT(r.end.code, KT_OK);
    CHECK_INT(r.n, 2);
    if (r.n == 2) {
        CHECK_INT(r.items[0].error.code, KT_OK);
        CHECK_STR(r.items[0].xpath, "/Packet/Data/DeleteStudent[1]");
        CHECK_INT(r.items[1].error.code, KT_OK);
        CHECK_STR(r.items[1].xpath, "/Packet/Data/Student[1]");
    }
    CHECK_INT(loader_calls, 0);
    arena_free(a);
}

/* Attributes in other namespaces are copied with them, for the XSD to refuse
 * in the item alone; none is ever taken for one of ours. */
static void
test_namespaced_attributes(void)
{
    arena_t *a = arena_new(0);
    const char *items = arena_printf(
        a,
        "<DeleteStudent xmlns:k=\"" NS "\" k:id=\"x\" k:reason=\"y\" xml:lang=\"ru\" "
        "id=\"5a533eb7-a50f-4060-81f7-fa37e8546c72\" reason=\"r\"/>"
        "<DeleteStudent xmlns:p=\"urn:p\" p:id=\"5a533eb7-a50f-4060-81f7-fa37e8546c72\" "
        "p:reason=\"r\"><x xmlns:p=\"urn:q\" p:a=\"1\"/></DeleteStudent>%s",
        student_xml(a, "3", "M", NULL));
    run_t r;

    run_str(a, packet(a, items), &r);
    CHECK_INT(r.end.code, KT_OK);
    CHECK_INT(r.n, 3);
    if (r.n == 3) {
        CHECK_INT(r.items[0].error.code, KT_XSD);
        CHECK_STR(r.items[0].id, "5a533eb7-a50f-4060-81f7-fa37e8546c72");
        CHECK_INT(r.items[1].error.code, KT_XSD);
        CHECK(r.items[1].id == NULL && r.items[1].reason == NULL);
        CHECK_INT(r.items[2].error.code, KT_OK);
    }
    arena_free(a);
}

/* A package in windows-1251, as some regional systems send them. */
static void
test_windows_1251(void)
{
    arena_t *a = arena_new(0);
    /* "Петров" in windows-1251: CF E5 F2 F0 EE E2. */
    const char *xml = packet(
        a, "<Student><LastName>\xcf\xe5\xf2\xf0\xee\xe2</LastName><FirstName>Ivan</FirstName>"
           "<Sex>M</Sex><BirthDate>2014-03-02</BirthDate><Citizenship category=\"RF\"/>"
           "<Documents>"
           "<Document type=\"OTHER\"><Number>1</Number></Document></Documents><Addresses><Address "
           "kind=\"ACTUAL\"><Text>Kazan</Text></Address></Addresses><Organization>1027700132195"
           "</Organization></Student>");
    run_t r;

    run_str(a, arena_printf(a, "<?xml version=\"1.0\" encoding=\"windows-1251\"?>%s", xml), &r);
    CHECK_INT(r.n, 1);
    if (r.n == 1)
        CHECK_STR(json_get(r.items[0].student, "last_name")->str, "Петров");
    arena_free(a);
}

static void
test_empty_data(void)
{
    arena_t *a = arena_new(0);
    run_t r;

    run_str(a, "<Packet xmlns=\"" NS "\">" HEADER "<Data/></Packet>", &r);
    CHECK(r.header_ok);
    CHECK_INT(r.n, 0);
    CHECK_INT(r.end.code, KT_OK);
    run_str(a, "<Packet xmlns=\"" NS "\">" HEADER "<Data>\n  <!-- nothing -->\n</Data></Packet>",
            &r);
    CHECK_INT(r.n, 0);
    CHECK_INT(r.end.code, KT_OK);
    arena_free(a);
}

/* The envelope. */

static void
test_wrong_root_or_namespace(void)
{
    arena_t *a = arena_new(0);
    run_t r;

    check_str_fails("root Student", student_xml(a, "1", "M", NULL), KT_XSD);
    check_str_fails("other namespace",
                    "<Packet xmlns=\"urn:kontingent:exchange:2\">" HEADER "<Data/></Packet>",
                    KT_XSD);
    check_str_fails("no namespace", "<Packet>" HEADER "<Data/></Packet>", KT_XSD);
    check_str_fails("root Receipt",
                    "<Receipt xmlns=\"" NS "\"><Status>PROCESSED</Status></Receipt>", KT_XSD);
    run_str(a, "<Packet>" HEADER "<Data/></Packet>", &r);
    CHECK(!r.header_ok);
    CHECK_INT(r.header_err.code, KT_XSD);
    CHECK_INT(r.header_err.status, 422);
    CHECK(strstr(r.header_err.message, "Packet") != NULL);
    CHECK_INT(r.n, 0);
    arena_free(a);
}

static void
test_header_errors(void)
{
    arena_t *a = arena_new(0);
    run_t r;

    run_str(a,
            "<Packet xmlns=\"" NS "\"><Header><PacketID>has spaces</PacketID>"
            "<SourceSystemID>S</SourceSystemID><Timestamp>2026-09-01T10:00:00Z</Timestamp>"
            "</Header><Data/></Packet>",
            &r);
    CHECK_INT(r.header_err.code, KT_XSD);
    CHECK(strstr(r.header_err.message, "/Packet/Header/PacketID") != NULL);
    CHECK_INT(r.end.code, KT_XSD); /* next() repeats the package's error */
    check_str_fails("no Timestamp",
                    "<Packet xmlns=\"" NS "\"><Header><PacketID>P</PacketID>"
                    "<SourceSystemID>S</SourceSystemID></Header><Data/></Packet>",
                    KT_XSD);
    check_str_fails("Timestamp without zone",
                    "<Packet xmlns=\"" NS "\"><Header><PacketID>P</PacketID><SourceSystemID>S"
                    "</SourceSystemID><Timestamp>2026-09-01T10:00:00</Timestamp></Header><Data/>"
                    "</Packet>",
                    KT_XSD);
    check_str_fails("no Header", "<Packet xmlns=\"" NS "\"><Data/></Packet>", KT_XSD);
    check_str_fails("empty Packet", "<Packet xmlns=\"" NS "\"/>", KT_XSD);
    check_str_fails("no Data", "<Packet xmlns=\"" NS "\">" HEADER "</Packet>", KT_XSD);
    check_str_fails("attribute on Packet",
                    "<Packet xmlns=\"" NS "\" mode=\"FULL\">" HEADER "<Data/></Packet>", KT_XSD);
    check_str_fails("attribute on Data",
                    "<Packet xmlns=\"" NS "\">" HEADER "<Data mode=\"FULL\"/></Packet>", KT_XSD);
    check_str_fails("text in Data", packet(a, "hello"), KT_XSD);
    check_str_fails("element after Data",
                    "<Packet xmlns=\"" NS "\">" HEADER "<Data/><Extra/></Packet>", KT_XSD);
    arena_free(a);
}

/* PacketID: 64 characters fill the header's field exactly; 65 break the XSD. */
static void
test_packet_id_length(void)
{
    arena_t *a = arena_new(0);
    char id[66];
    run_t r;

    memset(id, 'A', 65);
    id[64] = '\0';
    run_str(a,
            arena_printf(a,
                         "<Packet xmlns=\"" NS "\"><Header><PacketID>%s</PacketID>"
                         "<SourceSystemID>S</SourceSystemID><Timestamp>2026-09-01T10:00:00Z"
                         "</Timestamp></Header><Data/></Packet>",
                         id),
            &r);
    CHECK(r.header_ok);
    CHECK_STR(r.header.packet_id, id);
    id[64] = 'A';
    id[65] = '\0';
    run_str(a,
            arena_printf(a,
                         "<Packet xmlns=\"" NS "\"><Header><PacketID>%s</PacketID>"
                         "<SourceSystemID>S</SourceSystemID><Timestamp>2026-09-01T10:00:00Z"
                         "</Timestamp></Header><Data/></Packet>",
                         id),
            &r);
    CHECK_INT(r.header_err.code, KT_XSD);
    arena_free(a);
}

/* An unknown element in Data stops the package after the items before it. */
static void
test_unknown_item(void)
{
    arena_t *a = arena_new(0);
    run_t r;

    run_str(a,
            packet(a, arena_printf(a, "%s<Graduate/>%s", student_xml(a, "1", "M", NULL),
                                   student_xml(a, "2", "M", NULL))),
            &r);
    CHECK_INT(r.n, 1);
    CHECK_INT(r.end.code, KT_XSD);
    CHECK(strstr(r.end.message, "Graduate") != NULL);
    run_str(a, packet(a, "<Student xmlns=\"urn:other\"><LastName>Петров</LastName></Student>"), &r);
    CHECK_INT(r.n, 0);
    CHECK_INT(r.end.code, KT_XSD);
    arena_free(a);
}

static void
test_not_well_formed(void)
{
    arena_t *a = arena_new(0);
    run_t r;

    check_str_fails("empty", "", KT_MALFORMED);
    check_str_fails("not XML", "{\"json\": true}", KT_MALFORMED);
    check_str_fails("mismatched", "<Packet xmlns=\"" NS "\"><Header></Packet>", KT_MALFORMED);
    check_str_fails("undefined prefix",
                    "<Packet xmlns=\"" NS "\"><Header><x:PacketID>P</x:PacketID></Header></Packet>",
                    KT_MALFORMED);
    check_str_fails("trailing element",
                    "<Packet xmlns=\"" NS "\">" HEADER "<Data/></Packet><Packet/>", KT_MALFORMED);
    check_str_fails("unknown entity", packet(a, "&nbsp;"), KT_MALFORMED);
    /* Broken after a good item: the item comes, then the package's error. */
    run_str(a,
            arena_printf(a,
                         "<Packet xmlns=\"" NS "\">" HEADER "<Data>%s%s<Student></Data></Packet>",
                         student_xml(a, "1", "M", NULL), student_xml(a, "2", "F", NULL)),
            &r);
    CHECK(r.n >= 1);
    CHECK_INT(r.end.code, KT_MALFORMED);
    CHECK_INT(r.end.status, 400);
    CHECK(strstr(r.end.message_ru, "Строка 1") != NULL);
    arena_free(a);
}

/* Hostile input. */

/* Runs xml and checks it fails whole with code, quickly, fetching nothing,
 * printing nothing, and never showing /etc/passwd. */
static void
check_hostile(const char *what, const char *xml, size_t len, kt_code_t code)
{
    arena_t *a = arena_new(0);
    xmlExternalEntityLoader saved = xmlGetExternalEntityLoader();
    char printed[512];
    size_t nprinted;
    clock_t start = clock();
    double seconds;
    run_t r;

    loader_calls = 0;
    xmlSetExternalEntityLoader(counting_loader);
    stderr_begin();
    run_xml(a, xml, len, &r);
    nprinted = stderr_end(printed, sizeof printed);
    xmlSetExternalEntityLoader(saved);
    seconds = (double)(clock() - start) / CLOCKS_PER_SEC;
    if (r.end.code != code || loader_calls != 0 || nprinted != 0 || seconds > 2.0) {
        fprintf(stderr, "%s: got %s (%s), %d loads, %.2f s, stderr: %s\n", what,
                kt_code_name(r.end.code), r.end.message, loader_calls, seconds, printed);
        check_failures_in_test++;
    }
    CHECK(strstr(r.end.message, "root:") == NULL);
    CHECK(strstr(r.header.packet_id, "root") == NULL);
    for (size_t i = 0; i < r.n && i < RUN_ITEMS_MAX; i++)
        CHECK(strstr(tree_json(a, r.items[i].student), "root:") == NULL);
    arena_free(a);
}

static void
check_hostile_str(const char *what, const char *xml, kt_code_t code)
{
    check_hostile(what, xml, strlen(xml), code);
}

#define TAIL                                                                                       \
    "<SourceSystemID>S</SourceSystemID><Timestamp>2026-09-01T10:00:00Z</Timestamp></Header>"       \
    "<Data/></Packet>"

static void
test_external_entities(void)
{
    check_hostile_str("XXE file",
                      "<?xml version=\"1.0\"?>\n<!DOCTYPE Packet [\n"
                      "  <!ENTITY xxe SYSTEM \"file:///etc/passwd\">\n]>\n"
                      "<Packet xmlns=\"" NS "\"><Header><PacketID>&xxe;</PacketID>" TAIL,
                      KT_MALFORMED);
    check_hostile_str("XXE http",
                      "<!DOCTYPE Packet [<!ENTITY xxe SYSTEM \"http://127.0.0.1:9/x\">]>"
                      "<Packet xmlns=\"" NS "\"><Header><PacketID>&xxe;</PacketID>" TAIL,
                      KT_MALFORMED);
    check_hostile_str("XXE in an attribute",
                      "<!DOCTYPE Packet [<!ENTITY xxe SYSTEM \"file:///etc/passwd\">]>"
                      "<Packet xmlns=\"" NS "\" a=\"&xxe;\"><Header><PacketID>P</PacketID>" TAIL,
                      KT_MALFORMED);
    check_hostile_str("parameter entity",
                      "<!DOCTYPE Packet [<!ENTITY % p SYSTEM \"file:///etc/passwd\"> %p;]>"
                      "<Packet xmlns=\"" NS "\"><Header><PacketID>P</PacketID>" TAIL,
                      KT_MALFORMED);
    check_hostile_str("external DTD file",
                      "<!DOCTYPE Packet SYSTEM \"file:///etc/passwd\">"
                      "<Packet xmlns=\"" NS "\"><Header><PacketID>P</PacketID>" TAIL,
                      KT_MALFORMED);
    check_hostile_str("external DTD http",
                      "<!DOCTYPE Packet PUBLIC \"-//X//Y\" \"http://127.0.0.1:9/x.dtd\">"
                      "<Packet xmlns=\"" NS "\"><Header><PacketID>P</PacketID>" TAIL,
                      KT_MALFORMED);
    check_hostile_str("XInclude is just an unknown element",
                      "<Packet xmlns=\"" NS "\" xmlns:xi=\"http://www.w3.org/2001/XInclude\">"
                      "<Header><PacketID>P</PacketID><xi:include href=\"file:///etc/passwd\" "
                      "parse=\"text\"/>" TAIL,
                      KT_XSD);
}

#define LOL_DTD                                                                                    \
    "<?xml version=\"1.0\"?>\n<!DOCTYPE Packet [\n <!ENTITY lol \"lol\">\n"                        \
    " <!ENTITY lol1 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">\n"                     \
    " <!ENTITY lol2 \"&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;\">\n"           \
    " <!ENTITY lol3 \"&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;\">\n"           \
    " <!ENTITY lol4 \"&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;\">\n"           \
    " <!ENTITY lol5 \"&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;\">\n"           \
    " <!ENTITY lol6 \"&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;\">\n"           \
    " <!ENTITY lol7 \"&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;\">\n"           \
    " <!ENTITY lol8 \"&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;\">\n"           \
    " <!ENTITY lol9 \"&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;\">\n]>\n"

static void
test_billion_laughs(void)
{
    check_hostile_str("billion laughs in text",
                      LOL_DTD "<Packet xmlns=\"" NS "\"><Header><PacketID>&lol9;</PacketID>" TAIL,
                      KT_MALFORMED);
    check_hostile_str("billion laughs in an attribute",
                      LOL_DTD "<Packet xmlns=\"" NS
                              "\" a=\"&lol9;\"><Header><PacketID>P</PacketID>" TAIL,
                      KT_MALFORMED);
    check_hostile_str("quadratic blowup",
                      "<!DOCTYPE Packet [<!ENTITY a \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\">]>"
                      "<Packet xmlns=\"" NS
                      "\"><Header><PacketID>&a;&a;&a;&a;&a;&a;</PacketID>" TAIL,
                      KT_MALFORMED);
}

/* ASCII text as UTF-16LE with a byte order mark, into arena. */
static char *
utf16le(arena_t *a, const char *ascii, size_t *len)
{
    size_t n = strlen(ascii);
    char *out = arena_alloc(a, 2 * n + 2);

    out[0] = '\xff';
    out[1] = '\xfe';
    for (size_t i = 0; i < n; i++) {
        out[2 + 2 * i] = ascii[i];
        out[3 + 2 * i] = '\0';
    }
    *len = 2 * n + 2;
    return out;
}

/* The DOCTYPE is refused before libxml2 parses it: from memory, from a
 * file, after a declaration and comments; in UTF-16, where the byte scan
 * cannot see it, the reader's own check refuses it, still fetching nothing. */
static void
test_doctype_refused_first(void)
{
    static const char xxe[] =
        "\xef\xbb\xbf<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!-- <!DOCTYPE in a comment -->\n"
        "<?pi?>\n<!DOCTYPE Packet [<!ENTITY xxe SYSTEM \"file:///etc/passwd\">]>\n"
        "<Packet xmlns=\"" NS "\"><Header><PacketID>&xxe;</PacketID>" TAIL;
    arena_t *a = arena_new(0);
    char path[] = "/tmp/test_xmlio_XXXXXX";
    int fd = mkstemp(path);
    xmlio_reader_t *r;
    xmlio_header_t h;
    kt_error_t err;
    size_t len;
    const char *wide;
    run_t run;

    run_str(a, xxe, &run);
    CHECK_INT(run.end.code, KT_MALFORMED);
    CHECK_STR(run.end.message_ru, "Строка 4: DOCTYPE в пакете не допускается");
    CHECK(fd >= 0 && write(fd, xxe, sizeof xxe - 1) == (ssize_t)(sizeof xxe - 1));
    r = fd >= 0 ? xmlio_reader_new_file(schema, path, &err) : NULL;
    CHECK(r != NULL && !xmlio_reader_header(r, &h, &err));
    CHECK_STR(err.message_ru, "Строка 4: DOCTYPE в пакете не допускается");
    xmlio_reader_free(r);
    if (fd >= 0) {
        close(fd);
        unlink(path);
    }
    wide = utf16le(a, xxe + 3, &len);
    check_hostile("XXE in UTF-16", wide, len, KT_MALFORMED);
    wide = utf16le(a, LOL_DTD "<Packet xmlns=\"" NS "\"><Header><PacketID>&lol9;</PacketID>" TAIL,
                   &len);
    check_hostile("billion laughs in UTF-16", wide, len, KT_MALFORMED);
    /* A UTF-16 package without a DTD is read as any other. */
    wide = utf16le(a,
                   packet(a, "<DeleteStudent id=\"5a533eb7-a50f-4060-81f7-fa37e8546c72\" "
                             "reason=\"r\"/>"),
                   &len);
    run_xml(a, wide, len, &run);
    CHECK_INT(run.n, 1);
    CHECK_INT(run.end.code, KT_OK);
    arena_free(a);
}

/* 10 000 nested elements, inside items and inside the Header. */
static void
test_deep_nesting(void)
{
    arena_t *a = arena_new(0);
    size_t n = 10000, len = 0;
    char *deep = arena_alloc(a, n * 7 + 1);
    const char *xml;

    for (size_t i = 0; i < n; i++) {
        memcpy(deep + len, "<a>", 3);
        len += 3;
    }
    for (size_t i = 0; i < n; i++) {
        memcpy(deep + len, "</a>", 4);
        len += 4;
    }
    deep[len] = '\0';
    xml = packet(a, arena_printf(a, "<Student><LastName>%s</LastName></Student>", deep));
    check_hostile_str("deep in an item", xml, KT_MALFORMED);
    xml = arena_printf(a, "<Packet xmlns=\"" NS "\"><Header>%s</Header><Data/></Packet>", deep);
    check_hostile_str("deep in the Header", xml, KT_MALFORMED);
    xml = packet(a, arena_printf(a,
                                 "<DeleteStudent id=\"5a533eb7-a50f-4060-81f7-fa37e8546c72\" "
                                 "reason=\"r\">%s</DeleteStudent>",
                                 deep));
    check_hostile_str("deep in a DeleteStudent", xml, KT_MALFORMED);
    arena_free(a);
}

static void
test_invalid_utf8(void)
{
    static const char nul[] = "<Packet xmlns=\"" NS "\">\0</Packet>";
    static const char odd16[] = "\xff\xfe<\0P\0a\0c\0k\0e\0t\0 \0\x00\xd8>\0";
    arena_t *a = arena_new(0);

    check_hostile_str("bad byte in an item",
                      packet(a, student_xml(a, "1", "M",
                                            "<Document type=\"OTHER\"><Number>\xff\xfe</Number>"
                                            "</Document>")),
                      KT_MALFORMED);
    check_hostile_str("overlong slash in the Header",
                      "<Packet xmlns=\"" NS "\"><Header><PacketID>\xc0\xaf</PacketID>" TAIL,
                      KT_MALFORMED);
    check_hostile_str("surrogate in an attribute",
                      packet(a, "<DeleteStudent id=\"5a533eb7-a50f-4060-81f7-fa37e8546c72\" "
                                "reason=\"\xed\xa0\x80\"/>"),
                      KT_MALFORMED);
    check_hostile("NUL byte", nul, sizeof nul - 1, KT_MALFORMED);
    /* Errors of the encoding conversion reach libxml2's global handler, not the reader's. */
    check_hostile_str("undefined windows-1251 byte",
                      "<?xml version=\"1.0\" encoding=\"windows-1251\"?><Packet xmlns=\"" NS
                      "\"><Header><PacketID>\x98</PacketID>" TAIL,
                      KT_MALFORMED);
    check_hostile_str("unknown encoding",
                      "<?xml version=\"1.0\" encoding=\"x-no-such\"?><Packet xmlns=\"" NS
                      "\"><Header><PacketID>P</PacketID>" TAIL,
                      KT_MALFORMED);
    check_hostile("lone surrogate in UTF-16", odd16, sizeof odd16 - 1, KT_MALFORMED);
    arena_free(a);
}

/* Cut inside the third student: the two before it come, then MALFORMED. */
static void
test_truncated(void)
{
    arena_t *a = arena_new(0);
    size_t len;
    const char *xml = slurp(a, repo_path(a, "xsd/samples/packet-changes.xml"), &len);
    const char *cut = xml != NULL ? strstr(xml, "<Representative kind=\"FATHER\">") : NULL;
    run_t r;

    CHECK(cut != NULL);
    if (cut == NULL)
        goto done;
    run_xml(a, xml, (size_t)(cut - xml) + 10, &r);
    CHECK_INT(r.n, 2);
    CHECK_INT(r.end.code, KT_MALFORMED);
    if (r.n == 2) {
        CHECK_INT(r.items[0].error.code, KT_OK);
        CHECK_INT(r.items[1].error.code, KT_OK);
    }
done:
    arena_free(a);
}

/* XMLIO_MAX_ITEMS items pass, one more stops the package. */
static void
test_too_many_items(void)
{
    static const char item[] = "<DeleteStudent id=\"5a533eb7-a50f-4060-81f7-fa37e8546c72\" "
                               "reason=\"r\"/>\n";
    size_t n = XMLIO_MAX_ITEMS + 1, len = 0, isz = sizeof item - 1;
    size_t cap = n * isz + 1024, count = 0;
    char *xml = malloc(cap);
    arena_t *a = arena_new(1 << 16);
    kt_error_t err;
    xmlio_reader_t *r;
    xmlio_item_t it;

    if (xml == NULL || a == NULL) {
        CHECK(false);
        goto done;
    }
    len += (size_t)snprintf(xml, cap, "<Packet xmlns=\"" NS "\">" HEADER "<Data>\n");
    for (size_t i = 0; i < n; i++, len += isz)
        memcpy(xml + len, item, isz);
    len += (size_t)snprintf(xml + len, cap - len, "</Data></Packet>");
    r = xmlio_reader_new(schema, xml, len, &err);
    while (r != NULL && xmlio_reader_next(r, a, &it, &err)) {
        count++;
        arena_reset(a);
    }
    CHECK_INT(count, XMLIO_MAX_ITEMS);
    CHECK_INT(err.code, KT_PAYLOAD_TOO_LARGE);
    CHECK_INT(err.status, 413);
    xmlio_reader_free(r);
done:
    arena_free(a);
    free(xml);
}

/* One text over XMLIO_MAX_TEXT; an item over XMLIO_MAX_ITEM_BYTES. */
static void
test_size_limits(void)
{
    arena_t *a = arena_new(0);
    size_t big = XMLIO_MAX_TEXT + 1, part = 60000, parts = XMLIO_MAX_ITEM_BYTES / part + 1;
    char *text = arena_alloc(a, big + 1);
    const char *many = "";

    memset(text, 'x', big);
    text[big] = '\0';
    check_hostile_str(
        "long text",
        packet(a, arena_printf(a, "<Student><BirthPlace>%s</BirthPlace></Student>", text)),
        KT_PAYLOAD_TOO_LARGE);
    check_hostile_str("long attribute",
                      packet(a, arena_printf(a, "<DeleteStudent id=\"1\" reason=\"%s\"/>", text)),
                      KT_PAYLOAD_TOO_LARGE);
    text[part] = '\0';
    for (size_t i = 0; i < parts; i++)
        many = arena_printf(a, "%s<BirthPlace>%s</BirthPlace>", many, text);
    check_hostile_str("large item", packet(a, arena_printf(a, "<Student>%s</Student>", many)),
                      KT_PAYLOAD_TOO_LARGE);
    /* Just under both limits, the item is the XSD's to judge. */
    text[XMLIO_MAX_TEXT] = '\0';
    memset(text, 'x', XMLIO_MAX_TEXT);
    check_hostile_str(
        "text at the limit",
        packet(a, arena_printf(a, "<Student><BirthPlace>%s</BirthPlace></Student>", text)), KT_OK);
    arena_free(a);
}

/* " a1=\"x\" a2=\"x\" …": n attributes named a1 … an, into arena. */
static const char *
junk_attributes(arena_t *a, size_t n)
{
    const char *out = "";

    for (size_t i = 1; i <= n; i++)
        out = arena_printf(a, "%s a%zu=\"x\"", out, i);
    return out;
}

/* More than XMLIO_MAX_ATTRIBUTES attributes on one element refuse the package
 * as it is opened, from its bytes, before libxml2 parses the element (its
 * own duplicate check is quadratic: 40 000 attributes cost seconds of CPU).
 * Namespace declarations count; '=' in values, text, comments, CDATA and
 * processing instructions does not. */
static void
test_attribute_bound(void)
{
    arena_t *a = arena_new(0);
    const char *over =
        packet(a, arena_printf(a, "<Student%s/>", junk_attributes(a, XMLIO_MAX_ATTRIBUTES + 1)));
    const char *at =
        packet(a, arena_printf(a, "<Student%s/>", junk_attributes(a, XMLIO_MAX_ATTRIBUTES)));
    const char *eqs = "", *wide, *quiet;
    char path[] = "/tmp/test_xmlio_XXXXXX";
    int fd = mkstemp(path);
    xmlio_reader_t *r;
    xmlio_header_t h;
    kt_error_t err;
    size_t len;
    run_t run;

    run_str(a, over, &run);
    CHECK_INT(run.end.code, KT_MALFORMED);
    CHECK_INT(run.end.status, 400);
    CHECK(!run.header_ok); /* refused before the Header, which comes first, is read */
    CHECK_INT(run.n, 0);
    CHECK(strstr(run.end.message_ru, "Строка 1: у элемента больше 32 атрибутов") != NULL);
    /* The line is the element's, also after text and values the scan skips. */
    run_str(a,
            arena_printf(a,
                         "<Packet xmlns=\"" NS "\">\n" HEADER "<Data>\n<DeleteStudent id=\"1\" "
                         "reason=\"a\nb\"/>\n<Student%s/></Data></Packet>",
                         junk_attributes(a, XMLIO_MAX_ATTRIBUTES + 1)),
            &run);
    CHECK(strstr(run.end.message_ru, "Строка 5: ") == run.end.message_ru);
    /* At the bound the element is the XSD's to judge. */
    run_str(a, at, &run);
    CHECK_INT(run.n, 1);
    CHECK_INT(run.end.code, KT_OK);
    CHECK_INT(run.items[0].error.code, KT_XSD);
    /* Namespace declarations are attributes too. */
    for (int i = 0; i < XMLIO_MAX_ATTRIBUTES; i++)
        eqs = arena_printf(a, "%s xmlns:p%d=\"urn:p:%d\"", eqs, i, i);
    check_str_fails("namespace declarations",
                    arena_printf(a, "<Packet xmlns=\"" NS "\"%s>" HEADER "<Data/></Packet>", eqs),
                    KT_MALFORMED);
    eqs = "";
    /* '=' and '>' where they are not attributes. */
    for (int i = 0; i < 3 * XMLIO_MAX_ATTRIBUTES; i++)
        eqs = arena_printf(a, "%s k%d=v>", eqs, i);
    quiet = packet(
        a,
        arena_printf(a,
                     "<!--%s--><?pi %s?><DeleteStudent id=\"5a533eb7-a50f-4060-81f7-fa37e8546c72\""
                     " reason=\"%s\"/><DeleteStudent id=\"5a533eb7-a50f-4060-81f7-fa37e8546c72\""
                     " reason='%s'/><Student><LastName><![CDATA[<x %s>]]>%s</LastName></Student>",
                     eqs, eqs, eqs, eqs, eqs, eqs));
    run_str(a, quiet, &run);
    CHECK_INT(run.end.code, KT_OK);
    CHECK_INT(run.n, 3);
    /* UTF-16, where the bytes of an ASCII character are two. */
    wide = utf16le(a, over, &len);
    check_package_fails("UTF-16", wide, len, KT_MALFORMED);
    wide = utf16le(a, at, &len);
    run_xml(a, wide, len, &run);
    CHECK_INT(run.n, 1);
    /* A file, read in pieces. */
    CHECK(fd >= 0 && write(fd, over, strlen(over)) == (ssize_t)strlen(over));
    r = fd >= 0 ? xmlio_reader_new_file(schema, path, &err) : NULL;
    CHECK(r != NULL && !xmlio_reader_header(r, &h, &err));
    CHECK_INT(err.code, KT_MALFORMED);
    xmlio_reader_free(r);
    if (fd >= 0) {
        close(fd);
        unlink(path);
    }
    arena_free(a);
}

/* A schema error names the XPath and the kind of failure (the facet or
 * rule) in our own words, never the value, which may be personal or health
 * data: receipts are shown to principals who may not see it. */
static void
test_item_errors_never_quote_values(void)
{
    static const char *const secrets[] = {"F84.0-АУТИЗМ", "ЖЕНСКИЙ", "1122334459Z",  "15.01.2015",
                                          "SECRETSTATE",  "ZZTOP",   "Мухаметзянова"};
    static const char head[] = "<LastName>Петров</LastName><FirstName>Иван</FirstName>";
    static const char tail[] =
        "<Citizenship category=\"RF\"/><Documents>" DOCS_DEFAULT "</Documents><Addresses>"
        "<Address kind=\"REGISTRATION\"><Text>Казань</Text></Address></Addresses>"
        "<Organization>1027700132195</Organization>";
    arena_t *a = arena_new(0);
    const char *items = arena_printf(
        a,
        "<Student>%s<Sex>ЖЕНСКИЙ</Sex><BirthDate>15.01.2015</BirthDate><SNILS>1122334459Z</SNILS>"
        "%s</Student>"
        "<Student>%s<Sex>F</Sex><BirthDate>2015-01-01</BirthDate>%s<Health><Disability group=\"I\">"
        "<Reason>F84.0-АУТИЗМ</Reason></Disability></Health></Student>"
        "<Student state=\"SECRETSTATE\" school=\"ZZTOP\">%s<Sex>F</Sex>"
        "<BirthDate>2015-01-01</BirthDate>%s<Nickname>Мухаметзянова</Nickname></Student>",
        head, tail, head, tail, head, tail);
    run_t r;

    run_str(a, packet(a, items), &r);
    CHECK_INT(r.n, 3);
    for (size_t i = 0; i < r.n && i < 3; i++) {
        const kt_error_t *e = &r.items[i].error;
        CHECK_INT(e->code, KT_XSD);
        CHECK(e->fields != NULL);
        for (size_t k = 0; k < sizeof secrets / sizeof *secrets; k++) {
            CHECK(strstr(e->message, secrets[k]) == NULL);
            for (const kt_field_error_t *f = e->fields; f != NULL; f = f->next)
                if (strstr(f->message, secrets[k]) != NULL) {
                    fprintf(stderr, "  value quoted at %s: %s\n", f->pointer, f->message);
                    check_failures_in_test++;
                }
        }
    }
    if (r.n != 3) {
        arena_free(a);
        return;
    }
    CHECK(has_field(&r.items[0].error, "/Packet/Data/Student[1]/Sex"));
    CHECK(has_field(&r.items[0].error, "/Packet/Data/Student[1]/BirthDate"));
    CHECK(has_field(&r.items[0].error, "/Packet/Data/Student[1]/SNILS"));
    CHECK(strstr(r.items[0].error.message_ru, "Строка 1, /Packet/Data/Student[1]/Sex: ") != NULL);
    CHECK(strstr(r.items[0].error.fields->message, "(XSD: enumeration)") != NULL);
    CHECK(has_field(&r.items[1].error, "/Packet/Data/Student[2]/Health/Disability/Reason"));
    CHECK(strstr(r.items[1].error.fields->message_ru, "Строка 1: ") ==
          r.items[1].error.fields->message_ru);
    CHECK(strstr(r.items[1].error.fields->message, "Line 1: ") == r.items[1].error.fields->message);
    CHECK(strstr(r.items[1].error.fields->message, "enumeration") != NULL);
    CHECK(has_field(&r.items[2].error, "/Packet/Data/Student[3]/@state"));
    CHECK(has_field(&r.items[2].error, "/Packet/Data/Student[3]/@school"));
    for (const kt_field_error_t *f = r.items[0].error.fields; f != NULL; f = f->next)
        if (strstr(f->pointer, "SNILS") != NULL)
            CHECK(strstr(f->message, "(XSD: pattern)") != NULL);
    /* An element out of place says which the schema expects there. */
    for (const kt_field_error_t *f = r.items[2].error.fields; f != NULL; f = f->next)
        if (strstr(f->pointer, "Nickname") != NULL)
            CHECK(strstr(f->message_ru, "ожидается") != NULL);
    arena_free(a);
}

/* Pointers to XPaths. */

static void
test_pointer_to_xpath(void)
{
    static const char *const cases[][2] = {
        {"/documents/0/number", "/Documents/Document[1]/Number"},
        {"/citizenship/countries/1", "/Citizenship/Country[2]"},
        {"/representatives/0/document/series",
         "/Representatives/Representative[1]/Document/Series"},
        {"/snils", "/SNILS"},
        {"/last_name", "/LastName"},
        {"/birth_date", "/BirthDate"},
        {"/organization", "/Organization"},
        {"/documents/2/type", "/Documents/Document[3]/@type"},
        {"/documents/0/issued_on", "/Documents/Document[1]/IssuedOn"},
        {"/addresses/9/fias_guid", "/Addresses/Address[10]/FiasGuid"},
        {"/addresses/0/kind", "/Addresses/Address[1]/@kind"},
        {"/citizenship/category", "/Citizenship/@category"},
        {"/representatives/1/citizenship/countries/0",
         "/Representatives/Representative[2]/Citizenship/Country[1]"},
        {"/representatives/0/kind", "/Representatives/Representative[1]/@kind"},
        {"/representatives/0/document/type", "/Representatives/Representative[1]/Document/@type"},
        {"/representatives/3/email", "/Representatives/Representative[4]/Email"},
        {"/documents", "/Documents"},
        {"/citizenship/countries", "/Citizenship/Country"},
        {"/citizenship", "/Citizenship"},
        {"/id", "/@id"},
        /* Phase 3. */
        {"/achievements/1/document/url", "/Achievements/Achievement[2]/Document/Url"},
        {"/achievements/0/document", "/Achievements/Achievement[1]/Document"},
        {"/achievements/0/kind", "/Achievements/Achievement[1]/@kind"},
        {"/achievements/199/place", "/Achievements/Achievement[200]/Place"},
        {"/exams/4/score", "/Exams/Exam[5]/Score"},
        {"/exams/0/passed", "/Exams/Exam[1]/Passed"},
        {"/exams/0/kind", "/Exams/Exam[1]/@kind"},
        {"/certificates/0/type", "/Certificates/Certificate[1]/@type"},
        {"/certificates/9/with_honors", "/Certificates/Certificate[10]/WithHonors"},
        {"/certificates/0/organization", "/Certificates/Certificate[1]/Organization"},
        {"/exams", "/Exams"},
        {"/exams/0/score/1", ""},
        {"/achievements/0/document/type", ""},
        /* Shapes the map does not know: the item itself. */
        {"", ""},
        {"/", ""},
        {"snils", ""},
        {"/nope", ""},
        {"/documents/x", ""},
        {"/documents/01", ""},
        {"/documents/-1", ""},
        {"/documents/0/nope", ""},
        {"/snils/0", ""},
        {"/documents/0/number/extra", ""},
        {"/citizenship/countries/0/x", ""},
        {"/documents/0/category", ""},
        {"/citizenship/id", ""},
        {"/last_name~1x", ""},
        {"/documents/99999999999999999999", ""},
        {"/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
         ""},
    };
    static const char item[] = "/Packet/Data/Student[3]";
    arena_t *a = arena_new(0);

    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        const char *want = arena_printf(a, "%s%s", item, cases[i][1]);
        const char *got = xmlio_pointer_to_xpath(a, item, cases[i][0]);
        if (strcmp(got, want) != 0) {
            fprintf(stderr, "pointer '%s': got %s, want %s\n", cases[i][0], got, want);
            check_failures_in_test++;
        }
    }
    CHECK_STR(xmlio_pointer_to_xpath(a, item, NULL), item);
    CHECK_STR(xmlio_pointer_to_xpath(a, NULL, "/snils"), "/SNILS");
    arena_free(a);
}

/* Education: a student's episodes, and an Event item's own members. */
static void
test_pointer_to_xpath_education(void)
{
    static const char *const student_cases[][2] = {
        {"/education", "/Education"},
        {"/education/0/episode", "/Education/Episode[1]/Number"},
        {"/education/1/events/2/grade", "/Education/Episode[2]/Events/Event[3]/Grade"},
        {"/education/0/program/adapted", "/Education/Episode[1]/Program/Adapted"},
        {"/education/0/end_order/date", "/Education/Episode[1]/EndOrder/Date"},
    };
    static const char *const event_cases[][2] = {
        {"/type", "/Type"},
        {"/order/date", "/Order/Date"},
        {"/program/code", "/Program/Code"},
        {"/episode", "/Episode"},
        {"/to_organization", "/ToOrganization"},
        {"/grade", "/Grade"},
        {"/last_name", ""},
        {"/id", ""},
    };
    static const char st[] = "/Packet/Data/Student[1]", ev[] = "/Packet/Data/Event[2]";
    arena_t *a = arena_new(0);

    for (size_t i = 0; i < sizeof student_cases / sizeof *student_cases; i++)
        CHECK_STR(xmlio_item_pointer_to_xpath(a, XMLIO_ITEM_STUDENT, st, student_cases[i][0]),
                  arena_printf(a, "%s%s", st, student_cases[i][1]));
    for (size_t i = 0; i < sizeof event_cases / sizeof *event_cases; i++)
        CHECK_STR(xmlio_item_pointer_to_xpath(a, XMLIO_ITEM_EVENT, ev, event_cases[i][0]),
                  arena_printf(a, "%s%s", ev, event_cases[i][1]));
    CHECK_STR(xmlio_item_pointer_to_xpath(a, XMLIO_ITEM_DELETE, ev, "/type"), ev);
    arena_free(a);
}

/* The pointers of the model's own errors land on the elements that caused them. */
static void
test_model_errors_to_xpath(void)
{
    arena_t *a = arena_new(0);
    const char *bad = student_xml(a, "1", "M",
                                  "<Document type=\"BIRTH_CERT_RF\"><Series>II-ТН</Series>"
                                  "<Number>12345</Number></Document>");
    kt_error_t err;
    bson_t out = BSON_INITIALIZER;
    run_t r;

    run_str(a, packet(a, bad), &r);
    CHECK_INT(r.n, 1);
    if (r.n == 1) {
        CHECK(!student_from_json(a, r.items[0].student, NULL, &out, &err));
        CHECK_INT(err.nfields, 1);
        if (err.fields != NULL)
            CHECK_STR(xmlio_pointer_to_xpath(a, r.items[0].xpath, err.fields->pointer),
                      "/Packet/Data/Student[1]/Documents/Document[1]/Number");
    }
    bson_destroy(&out);
    arena_free(a);
}

/* Writing. */

static int raw_errors;

static void
count_error(void *ctx, xmlErrorPtr e)
{
    (void)ctx;
    if (e->level >= XML_ERR_ERROR) {
        fprintf(stderr, "  XSD: line %d: %s", e->line, e->message);
        raw_errors++;
    }
}

/* The document is valid by the XSD, read with libxml2 directly. */
static bool
valid_by_xsd(const char *xml, size_t len)
{
    xmlDocPtr doc = xmlReadMemory(xml, (int)len, NULL, NULL, XML_PARSE_NONET);
    xmlSchemaValidCtxtPtr v = xmlSchemaNewValidCtxt(raw_schema);
    bool ok;

    raw_errors = 0;
    xmlSchemaSetValidStructuredErrors(v, count_error, NULL);
    ok = doc != NULL && v != NULL && xmlSchemaValidateDoc(v, doc) == 0 && raw_errors == 0;
    xmlSchemaFreeValidCtxt(v);
    xmlFreeDoc(doc);
    return ok;
}

typedef struct {
    const char *id;
    int64_t version;
    bool deleted;
    const bson_t *doc;
} written_t;

/* Writes students, alone (n == 1, packet false) or in a Packet, into arena. */
static const char *
write_xml(arena_t *a, const written_t *s, size_t n, bool packet_root, size_t *len)
{
    xmlBufferPtr xb = xmlBufferCreate();
    xmlTextWriterPtr w = xmlNewTextWriterMemory(xb, 0);
    bool ok = w != NULL && xmlTextWriterStartDocument(w, NULL, "UTF-8", NULL) >= 0;
    const char *out = NULL;

    if (ok && packet_root)
        ok = xmlTextWriterStartElementNS(w, NULL, BAD_CAST "Packet", BAD_CAST NS) >= 0 &&
             xmlTextWriterWriteRaw(w, BAD_CAST HEADER) >= 0 &&
             xmlTextWriterStartElement(w, BAD_CAST "Data") >= 0;
    for (size_t i = 0; ok && i < n; i++)
        ok = xmlio_write_student(w, s[i].id, s[i].version, s[i].deleted, s[i].doc);
    ok = ok && xmlTextWriterEndDocument(w) >= 0;
    xmlFreeTextWriter(w);
    if (ok) {
        *len = (size_t)xmlBufferLength(xb);
        out = arena_strndup(a, (const char *)xmlBufferContent(xb), *len);
    }
    xmlBufferFree(xb);
    return out;
}

static void
check_same_student(arena_t *a, const bson_t *want, const json_value_t *tree)
{
    bson_t got = BSON_INITIALIZER;
    buf_t x, y;

    buf_init(&x, 0);
    buf_init(&y, 0);
    CHECK(model_ok(a, tree, &got));
    codec_canonical(&x, want, NULL);
    codec_canonical(&y, &got, NULL);
    CHECK_STR(y.data, x.data);
    buf_release(&x);
    buf_release(&y);
    bson_destroy(&got);
}

/* The sample's three students are stored, written, validated, read back. */
static void
test_write_round_trip(void)
{
    arena_t *a = arena_new(0);
    size_t len, wlen = 0;
    const char *xml = slurp(a, repo_path(a, "xsd/samples/packet-changes.xml"), &len);
    bson_t docs[3] = {BSON_INITIALIZER, BSON_INITIALIZER, BSON_INITIALIZER};
    written_t w[3] = {{"83e01178-017e-4732-a641-207b2ab9fde5", 3, false, &docs[0]},
                      {"2da35c03-2ba9-43b6-b5bf-7dc9a44fbc7b", 1, true, &docs[1]},
                      {NULL, 0, false, &docs[2]}};
    written_t alone = w[0];
    bson_t stored;
    const char *out;
    run_t r;

    run_xml(a, xml != NULL ? xml : "", xml != NULL ? len : 0, &r);
    CHECK_INT(r.n, 6);
    for (size_t i = 0; i < 3 && i < r.n; i++)
        CHECK(model_ok(a, r.items[i].student, &docs[i]));
    /* The store keeps its own members beside the student's: they are not written. */
    bson_copy_to(&docs[0], &stored);
    BSON_APPEND_UTF8(&stored, "_id", "internal");
    BSON_APPEND_INT64(&stored, "version", 3);
    alone.doc = &stored;
    out = write_xml(a, &alone, 1, false, &wlen);
    CHECK(out != NULL && valid_by_xsd(out, wlen));
    CHECK(out != NULL && strstr(out, "_id") == NULL && strstr(out, "internal") == NULL);
    CHECK(out != NULL && strstr(out, "version=\"3\" state=\"ACTIVE\"") != NULL);
    out = write_xml(a, w, 3, true, &wlen);
    CHECK(out != NULL && valid_by_xsd(out, wlen));
    run_xml(a, out != NULL ? out : "", out != NULL ? wlen : 0, &r);
    CHECK_INT(r.n, 3);
    CHECK_INT(r.end.code, KT_OK);
    for (size_t i = 0; i < 3 && i < r.n; i++)
        check_same_student(a, &docs[i], r.items[i].student);
    if (r.n == 3) {
        CHECK_STR(json_get(r.items[0].student, "id")->str, w[0].id);
        CHECK(json_get(r.items[0].student, "version")->type == JSON_NUMBER);
        CHECK_STR(json_get(r.items[0].student, "version")->str, "3");
        CHECK_STR(json_get(r.items[0].student, "state")->str, "ACTIVE");
        CHECK_STR(json_get(r.items[1].student, "state")->str, "DELETED");
        CHECK(json_get(r.items[2].student, "id") == NULL);
        CHECK(json_get(r.items[2].student, "version") == NULL);
    }
    for (size_t i = 0; i < 3; i++)
        bson_destroy(&docs[i]);
    bson_destroy(&stored);
    arena_free(a);
}

/* The export sample is what the writer makes of the same student. */
static void
test_write_matches_export_sample(void)
{
    arena_t *a = arena_new(0);
    size_t len, wlen = 0, slen;
    const char *packet_xml = slurp(a, repo_path(a, "xsd/samples/packet-changes.xml"), &len);
    const char *sample = slurp(a, repo_path(a, "xsd/samples/student.xml"), &slen);
    bson_t doc = BSON_INITIALIZER;
    written_t w = {"83e01178-017e-4732-a641-207b2ab9fde5", 3, false, &doc};
    const char *out;
    run_t r;

    run_xml(a, packet_xml != NULL ? packet_xml : "", packet_xml != NULL ? len : 0, &r);
    CHECK(r.n >= 1 && model_ok(a, r.items[0].student, &doc));
    out = write_xml(a, &w, 1, false, &wlen);
    CHECK(out != NULL && sample != NULL);
    /* Same elements and values; the sample is indented, the writer's output is not. */
    if (out != NULL && sample != NULL) {
        CHECK(strstr(out, "<Student xmlns=\"" NS "\" id=\"83e01178-017e-4732-a641-207b2ab9fde5\" "
                          "version=\"3\" state=\"ACTIVE\">") != NULL);
        CHECK(strstr(sample,
                     "<Student xmlns=\"" NS "\" id=\"83e01178-017e-4732-a641-207b2ab9fde5\" "
                     "version=\"3\" state=\"ACTIVE\">") != NULL);
        CHECK(strstr(out, "<SNILS>11223344595</SNILS>") != NULL);
        CHECK(strstr(sample, "<SNILS>11223344595</SNILS>") != NULL);
        CHECK(strstr(out, "<Citizenship category=\"RF\"><Country>643</Country></Citizenship>") !=
              NULL);
        CHECK(strstr(out, "<Phone>+79123456789</Phone>") != NULL);
        CHECK(strstr(sample, "<Phone>+79123456789</Phone>") != NULL);
    }
    bson_destroy(&doc);
    arena_free(a);
}

/* A stored student with an education history (integers, booleans, nested
 * events) is written valid by the XSD and reads back as the same history:
 * the read-only rule finds nothing changed. */
static void
test_write_education_round_trip(void)
{
    static const char stored_json[] =
        "{\"last_name\":\"Иванова\",\"first_name\":\"Анна\",\"sex\":\"F\","
        "\"birth_date\":\"2015-05-20\",\"citizenship\":{\"category\":\"RF\",\"countries\":"
        "[\"643\"]},\"documents\":[{\"type\":\"OTHER\",\"number\":\"1\"}],\"addresses\":"
        "[{\"kind\":\"ACTUAL\",\"text\":\"Казань\"}],\"organization\":\"1027700132195\","
        "\"education\":[{\"episode\":1,\"organization\":\"1027700132195\",\"level\":\"NOO\","
        "\"program\":{\"name\":\"ООП\",\"adapted\":true},\"form\":\"FULL_TIME\",\"grade\":2,"
        "\"enrolled_on\":\"2022-09-01\",\"enroll_order\":{\"number\":\"1\",\"date\":"
        "\"2022-09-01\"},\"status\":\"ENDED\",\"ended_on\":\"2023-09-01\",\"end_reason\":"
        "\"TRANSFER_OUT\",\"end_order\":{\"number\":\"2\",\"date\":\"2023-09-01\"},"
        "\"transfer_to\":\"1037700000007\",\"events\":[{\"type\":\"ENROLL\",\"date\":"
        "\"2022-09-01\",\"order\":{\"number\":\"1\",\"date\":\"2022-09-01\"},\"grade\":2},"
        "{\"type\":\"TRANSFER_OUT\",\"date\":\"2023-09-01\",\"order\":{\"number\":\"2\","
        "\"date\":\"2023-09-01\"},\"to_organization\":\"1037700000007\"}]}]}";
    arena_t *a = arena_new(0);
    bson_error_t berr;
    bson_t *stored = bson_new_from_json((const uint8_t *)stored_json, -1, &berr);
    written_t w = {"83e01178-017e-4732-a641-207b2ab9fde5", 2, false, stored};
    size_t wlen = 0;
    const char *out;
    bson_t doc = BSON_INITIALIZER;
    kt_error_t err;
    run_t r;

    CHECK(stored != NULL);
    if (stored == NULL)
        goto done;
    out = write_xml(a, &w, 1, true, &wlen);
    CHECK(out != NULL && valid_by_xsd(out, wlen));
    CHECK(out != NULL && strstr(out, "<Number>1</Number><Organization>") != NULL);
    CHECK(out != NULL && strstr(out, "<Adapted>true</Adapted>") != NULL);
    run_xml(a, out != NULL ? out : "", out != NULL ? wlen : 0, &r);
    CHECK_INT(r.n, 1);
    if (r.n == 1) {
        CHECK_INT(r.items[0].error.code, KT_OK);
        CHECK(model_ok(a, r.items[0].student, &doc));
        CHECK(education_check_body(a, r.items[0].student, stored, &doc, &err));
        /* A changed grade is a change the rule refuses. */
        json_value_t *ed = json_get(r.items[0].student, "education");
        json_get(ed->child, "grade")->str = "3";
        CHECK(!education_check_body(a, r.items[0].student, stored, &doc, &err));
    }
    bson_destroy(&doc);
    bson_destroy(stored);
done:
    arena_free(a);
}

/* Phase 3: achievements, exams, certificates. */

/* A valid student whose phase-3 elements (after Organization) are extra. */
static const char *
records_xml(arena_t *a, const char *extra)
{
    return arena_printf(a,
                        "<Student><LastName>Петров</LastName><FirstName>Иван</FirstName>"
                        "<Sex>M</Sex><BirthDate>2008-03-02</BirthDate>"
                        "<Citizenship category=\"RF\"/><Documents>" DOCS_DEFAULT "</Documents>"
                        "<Addresses><Address kind=\"REGISTRATION\"><Text>Казань</Text></Address>"
                        "</Addresses><Organization>1027700132195</Organization>%s</Student>",
                        extra);
}

/* The sample reads into numbers and booleans where the model has them. */
static void
test_records_sample(void)
{
    arena_t *a = arena_new(0);
    size_t len;
    const char *xml = slurp(a, repo_path(a, "xsd/samples/packet-records.xml"), &len);
    bson_t doc = BSON_INITIALIZER;
    const char *json;
    run_t r;

    run_xml(a, xml != NULL ? xml : "", xml != NULL ? len : 0, &r);
    CHECK_INT(r.n, 1);
    CHECK_INT(r.end.code, KT_OK);
    if (r.n == 1) {
        CHECK_INT(r.items[0].error.code, KT_OK);
        CHECK(model_ok(a, r.items[0].student, &doc));
        json = tree_json(a, r.items[0].student);
        CHECK(strstr(json, "\"result\":\"PRIZE_WINNER\",\"place\":3,\"date\":\"2025-01-22\"") !=
              NULL);
        CHECK(strstr(json, "\"badge\":\"GOLD\"") != NULL);
        CHECK(strstr(json, "{\"kind\":\"EGE\",\"year\":2026,\"subject_code\":\"2\",") != NULL);
        CHECK(strstr(json, "\"score\":86,\"passed\":true}") != NULL);
        CHECK(strstr(json, "{\"kind\":\"FINAL_MARK\",\"year\":2026,\"subject\":\"Физика\","
                           "\"mark\":4}") != NULL);
        CHECK(strstr(json, "\"with_honors\":true,\"organization\":\"1021600001235\"}]}") != NULL);
    }
    bson_destroy(&doc);
    arena_free(a);
}

/* Numbers and booleans are digits and true/false exactly, as the XSD has
 * them (xs:string patterns, no whitespace collapsing): they read into JSON
 * numbers and booleans; any other text is the item's XSD error at its path. */
static void
test_records_text_forms(void)
{
    static const char *const bad[][2] = {
        {"<Year> 2024</Year><Subject>Химия</Subject><Mark>3</Mark>", "Year"},
        {"<Year>2024</Year><Subject>Химия</Subject><Score>007</Score>", "Score"},
        {"<Year>2024</Year><Subject>Химия</Subject><Score>-5</Score>", "Score"},
        {"<Year>2024</Year><Subject>Химия</Subject><Mark>3</Mark><Passed>1</Passed>", "Passed"},
        {"<Year>2024</Year><Subject>Химия</Subject><Mark>3</Mark><Passed>True</Passed>", "Passed"},
    };
    arena_t *a = arena_new(0);
    const char *items =
        records_xml(a, "<Exams><Exam kind=\"OGE\"><Year>2024</Year><Subject>Химия</Subject>"
                       "<Score>0</Score><Passed>true</Passed></Exam><Exam kind=\"GVE9\">"
                       "<Year>2024</Year><Subject>Химия</Subject><Mark>2</Mark>"
                       "<Passed>false</Passed></Exam></Exams>");
    bson_t doc = BSON_INITIALIZER;
    run_t r;

    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        items = arena_printf(a, "%s%s", items,
                             records_xml(a, arena_printf(a,
                                                         "<Exams><Exam kind=\"OGE\">%s</Exam>"
                                                         "</Exams>",
                                                         bad[i][0])));
    run_str(a, packet(a, items), &r);
    CHECK_INT(r.n, 6);
    if (r.n == 6) {
        CHECK(model_ok(a, r.items[0].student, &doc));
        CHECK_STR(tree_json(a, json_get(r.items[0].student, "exams")),
                  "[{\"kind\":\"OGE\",\"year\":2024,\"subject\":\"Химия\",\"score\":0,"
                  "\"passed\":true},{\"kind\":\"GVE9\",\"year\":2024,\"subject\":\"Химия\","
                  "\"mark\":2,\"passed\":false}]");
    }
    for (size_t i = 0; i < sizeof bad / sizeof *bad && i + 1 < r.n; i++) {
        const xmlio_item_t *it = &r.items[i + 1];
        const char *path =
            arena_printf(a, "/Packet/Data/Student[%zu]/Exams/Exam[1]/%s", i + 2, bad[i][1]);
        CHECK(it->student == NULL && it->error.code == KT_XSD);
        if (!has_field(&it->error, path)) {
            fprintf(stderr, "expected an XSD error at %s\n", path);
            dump_fields(&it->error);
            check_failures_in_test++;
        }
    }
    bson_destroy(&doc);
    arena_free(a);
}

/* The model's range and kind errors land on the elements. */
static void
test_records_model_errors(void)
{
    arena_t *a = arena_new(0);
    const char *bad = records_xml(
        a, "<Achievements><Achievement kind=\"GTO\"><Title>ГТО</Title><Level>FEDERAL</Level>"
           "<Result>WINNER</Result><Date>2024-05-30</Date></Achievement></Achievements>"
           "<Exams><Exam kind=\"EGE\"><Year>2026</Year><Subject>Химия</Subject>"
           "<Score>101</Score><Mark>5</Mark></Exam></Exams>");
    static const char *const want[] = {
        "/Packet/Data/Student[1]/Achievements/Achievement[1]/Badge",
        "/Packet/Data/Student[1]/Exams/Exam[1]/Score",
        "/Packet/Data/Student[1]/Exams/Exam[1]/Mark",
    };
    kt_error_t err;
    bson_t out = BSON_INITIALIZER;
    size_t i = 0;
    run_t r;

    run_str(a, packet(a, bad), &r);
    CHECK_INT(r.n, 1);
    if (r.n == 1) {
        CHECK(!student_from_json(a, r.items[0].student, NULL, &out, &err));
        CHECK_INT(err.nfields, 3);
        for (const kt_field_error_t *f = err.fields; f != NULL && i < 3; f = f->next, i++)
            CHECK_STR(xmlio_pointer_to_xpath(a, r.items[0].xpath, f->pointer), want[i]);
    }
    bson_destroy(&out);
    arena_free(a);
}

/* Stored → written (valid by the XSD, numbers as digits, booleans as
 * true/false) → read → the same stored student. */
static void
test_records_write_round_trip(void)
{
    arena_t *a = arena_new(0);
    size_t len, wlen = 0;
    const char *xml = slurp(a, repo_path(a, "xsd/samples/packet-records.xml"), &len);
    bson_t doc = BSON_INITIALIZER;
    written_t w = {"83e01178-017e-4732-a641-207b2ab9fde5", 2, false, &doc};
    const char *out;
    run_t r;

    run_xml(a, xml != NULL ? xml : "", xml != NULL ? len : 0, &r);
    CHECK(r.n == 1 && model_ok(a, r.items[0].student, &doc));
    out = write_xml(a, &w, 1, true, &wlen);
    CHECK(out != NULL && valid_by_xsd(out, wlen));
    CHECK(out != NULL && strstr(out, "<Organization>1021600001235</Organization><Achievements>"
                                     "<Achievement kind=\"OLYMPIAD\"><Title>") != NULL);
    CHECK(out != NULL && strstr(out, "<Result>PRIZE_WINNER</Result><Place>3</Place>") != NULL);
    CHECK(out != NULL && strstr(out, "<Score>86</Score><Passed>true</Passed></Exam>") != NULL);
    CHECK(out != NULL && strstr(out, "<WithHonors>true</WithHonors>") != NULL);
    run_xml(a, out != NULL ? out : "", out != NULL ? wlen : 0, &r);
    CHECK_INT(r.n, 1);
    if (r.n == 1)
        check_same_student(a, &doc, r.items[0].student);
    bson_destroy(&doc);
    arena_free(a);
}

/* Schema loading. */

static void
test_schema_load_errors(void)
{
    arena_t *a = arena_new(0);
    char printed[512];
    kt_error_t err;
    xmlio_schema_t *s;
    size_t n;

    stderr_begin();
    s = xmlio_schema_load("/nonexistent/kontingent.xsd", &err);
    n = stderr_end(printed, sizeof printed);
    CHECK(s == NULL);
    CHECK_INT(err.code, KT_INTERNAL);
    CHECK_INT(n, 0);
    stderr_begin();
    s = xmlio_schema_load(repo_path(a, "xsd/samples/receipt.xml"), &err);
    n = stderr_end(printed, sizeof printed);
    CHECK(s == NULL);
    CHECK_INT(err.code, KT_INTERNAL);
    if (n != 0) {
        fprintf(stderr, "printed: %s\n", printed);
        check_failures_in_test++;
    }
    xmlio_schema_free(NULL);
    CHECK(xmlio_reader_new(NULL, "<a/>", 4, &err) == NULL);
    arena_free(a);
}

/* Organisations: the items of the organisations sample pass the model; the
 * ОГРН is the root's attribute; pointers map into the Organization element;
 * the writer makes what the sample shows, valid by the XSD. */
static void
test_organization_items(void)
{
    arena_t *a = arena_new(0);
    size_t len, wlen = 0, slen;
    const char *xml = slurp(a, repo_path(a, "xsd/samples/packet-organizations.xml"), &len);
    const char *sample = slurp(a, repo_path(a, "xsd/samples/organization.xml"), &slen);
    bson_t doc = BSON_INITIALIZER;
    kt_error_t err;
    run_t r;

    CHECK(xml != NULL && sample != NULL);
    if (xml == NULL || sample == NULL)
        goto done;
    run_xml(a, xml, len, &r);
    CHECK_INT(r.n, 2);
    CHECK_INT(r.end.code, KT_OK);
    for (size_t i = 0; i < 2 && i < r.n; i++) {
        CHECK_INT(r.items[i].kind, XMLIO_ITEM_ORGANIZATION);
        CHECK_INT(r.items[i].error.code, KT_OK);
        CHECK(r.items[i].student == NULL && r.items[i].organization != NULL);
        CHECK_STR(r.items[i].xpath,
                  i == 0 ? "/Packet/Data/Organization[1]" : "/Packet/Data/Organization[2]");
    }
    if (r.n < 2)
        goto done;
    CHECK_STR(r.items[1].local_id, "org-2");
    CHECK_STR(json_get(r.items[0].organization, "ogrn")->str, "1021600001235");
    kt_error_clear(&err);
    CHECK(organization_from_json(a, r.items[0].organization, NULL, &doc, &err));
    /* Written back: the export sample, valid by the XSD. */
    xmlBufferPtr xb = xmlBufferCreate();
    xmlTextWriterPtr w = xmlNewTextWriterMemory(xb, 0);
    CHECK(xmlTextWriterStartDocument(w, NULL, "UTF-8", NULL) >= 0 &&
          xmlio_write_organization(w, 2, &doc) && xmlTextWriterEndDocument(w) >= 0);
    xmlFreeTextWriter(w);
    const char *out = arena_strndup(a, (const char *)xmlBufferContent(xb), xmlBufferLength(xb));
    wlen = (size_t)xmlBufferLength(xb);
    xmlBufferFree(xb);
    CHECK(valid_by_xsd(out, wlen));
    CHECK(strstr(out, "<Organization xmlns=\"" NS "\" ogrn=\"1021600001235\" version=\"2\">") !=
          NULL);
    CHECK(strstr(sample, "<Organization xmlns=\"" NS "\" ogrn=\"1021600001235\" version=\"2\">") !=
          NULL);
    CHECK(strstr(out, "<Phone>+78432920001</Phone>") != NULL);
    CHECK(strstr(sample, "<Phone>+78432920001</Phone>") != NULL);
    CHECK(strstr(out, "<License><Number>") != NULL);
done:
    bson_destroy(&doc);
    arena_free(a);
}

static void
test_organization_pointers(void)
{
    arena_t *a = arena_new(0);
    const char *item = "/Packet/Data/Organization[3]";

    CHECK_STR(xmlio_pointer_to_xpath(a, item, "/ogrn"), "/Packet/Data/Organization[3]/@ogrn");
    CHECK_STR(xmlio_pointer_to_xpath(a, item, "/inn"), "/Packet/Data/Organization[3]/Inn");
    CHECK_STR(xmlio_pointer_to_xpath(a, item, "/license/issued_on"),
              "/Packet/Data/Organization[3]/License/IssuedOn");
    CHECK_STR(xmlio_pointer_to_xpath(a, item, "/addresses/1/kind"),
              "/Packet/Data/Organization[3]/Addresses/Address[2]/@kind");
    CHECK_STR(xmlio_pointer_to_xpath(a, item, "/last_name"), item); /* not an organisation's */
    CHECK_STR(xmlio_pointer_to_xpath(a, "/Packet/Data/Student[1]", "/organization"),
              "/Packet/Data/Student[1]/Organization");
    arena_free(a);
}

/* An Organization item with a student's Organization content breaks the XSD alone. */
static void
test_organization_item_breaking_xsd(void)
{
    arena_t *a = arena_new(0);
    run_t r;

    run_str(a,
            packet(a, arena_printf(a,
                                   "<Organization ogrn=\"1021600001235\"><Inn>1</Inn>"
                                   "</Organization>%s",
                                   student_xml(a, "2", "M", NULL))),
            &r);
    CHECK_INT(r.n, 2);
    CHECK_INT(r.end.code, KT_OK);
    if (r.n == 2) {
        CHECK_INT(r.items[0].kind, XMLIO_ITEM_ORGANIZATION);
        CHECK_INT(r.items[0].error.code, KT_XSD);
        CHECK(r.items[0].organization == NULL);
        CHECK_INT(r.items[1].error.code, KT_OK);
    }
    arena_free(a);
}

/* The golden file: what the reader makes of every item of the committed
 * packets (its attributes, its tree as JSON, each leaf's pointer as an
 * XPath) and what the writer makes of that tree again, byte for byte. It
 * pins the XML mapping while the code behind it changes. KT_GOLDEN_UPDATE=1
 * rewrites tests/unit/golden/xmlio_samples.txt instead of comparing. */

static void golden_pointers(arena_t *a, buf_t *out, const xmlio_item_t *it, const json_value_t *v,
                            const char *ptr);

static void
golden_pointers(arena_t *a, buf_t *out, const xmlio_item_t *it, const json_value_t *v,
                const char *ptr)
{
    size_t i = 0;

    if (v->type != JSON_OBJECT && v->type != JSON_ARRAY) {
        const char *xpath = xmlio_item_pointer_to_xpath(a, it->kind, it->xpath, ptr);
        buf_printf(out, "  %s -> %s\n", ptr, xpath);
        return;
    }
    for (const json_value_t *c = v->child; c != NULL; c = c->next, i++) {
        const char *sub = v->type == JSON_OBJECT ? arena_printf(a, "%s/%s", ptr, c->key)
                                                 : arena_printf(a, "%s/%zu", ptr, i);
        golden_pointers(a, out, it, c, sub);
    }
}

/* The record tree written back by the writer of its kind. */
static void
golden_write(arena_t *a, buf_t *out, const xmlio_item_t *it, const json_value_t *tree)
{
    xmlBufferPtr xb = xmlBufferCreate();
    xmlTextWriterPtr w = xmlNewTextWriterMemory(xb, 0);
    bson_t doc = BSON_INITIALIZER;
    bool ok = fields_tree_to_bson(tree, &doc);

    (void)a;
    if (ok && it->kind == XMLIO_ITEM_STUDENT)
        ok = xmlio_write_student(w, it->id, 7, false, &doc);
    else if (ok)
        ok = xmlio_write_organization(w, 7, &doc);
    ok = ok && xmlTextWriterFlush(w) >= 0;
    buf_printf(out, "  written %s: %s\n", ok ? "ok" : "FAILED",
               ok ? (const char *)xmlBufferContent(xb) : "");
    xmlFreeTextWriter(w);
    xmlBufferFree(xb);
    bson_destroy(&doc);
}

static void
golden_item(arena_t *a, buf_t *out, const xmlio_item_t *it)
{
    const json_value_t *tree = it->student != NULL ? it->student
                               : it->event != NULL ? it->event
                                                   : it->organization;
    buf_t json;

    buf_printf(out, "%zu %s id=%s localId=%s reason=%s health=%d error=%s %s\n", it->index,
               it->xpath, it->id ? it->id : "-", it->local_id ? it->local_id : "-",
               it->reason ? it->reason : "-", it->health, kt_code_name(it->error.code),
               it->error.message_ru);
    for (const kt_field_error_t *f = it->error.fields; f != NULL; f = f->next)
        buf_printf(out, "  xsd %s: %s\n", f->pointer, kt_field_message(f, false));
    if (tree == NULL)
        return;
    buf_init(&json, 0);
    json_write(&json, tree);
    buf_printf(out, "  tree %.*s\n", (int)json.len, json.data);
    buf_release(&json);
    golden_pointers(a, out, it, tree, "");
    if (it->event == NULL)
        golden_write(a, out, it, tree);
}

static void
golden_packet(buf_t *out, const char *rel)
{
    arena_t *a = arena_new(0);
    size_t len;
    const char *xml = slurp(a, repo_path(a, rel), &len);
    kt_error_t err;
    xmlio_reader_t *r = xml != NULL ? xmlio_reader_new(schema, xml, len, &err) : NULL;
    xmlio_item_t item;

    buf_printf(out, "== %s\n", rel);
    CHECK(r != NULL);
    while (r != NULL && xmlio_reader_next(r, a, &item, &err))
        golden_item(a, out, &item);
    if (r != NULL)
        buf_printf(out, "end %s %s\n", kt_code_name(err.code), err.message_ru);
    xmlio_reader_free(r);
    arena_free(a);
}

/* Items that break the XSD inside repeating elements: their XPaths. */
static void
golden_broken(buf_t *out)
{
    arena_t *a = arena_new(0);
    const char *xml = packet(
        a, "<Student localId=\"b1\"><LastName>Ив</LastName><FirstName>А</FirstName>"
           "<Sex>X</Sex><BirthDate>2015-01-01</BirthDate><Citizenship category=\"RF\">"
           "<Country>643</Country><Country>64</Country></Citizenship><Documents>"
           "<Document type=\"NOPE\"><Number>1</Number></Document><Document type=\"OTHER\">"
           "<Number>2</Number><Bad/></Document></Documents><Addresses><Address kind=\"ACTUAL\">"
           "<Text>К</Text></Address></Addresses><Organization>1027700132195</Organization>"
           "</Student>"
           "<Event student=\"83e01178-017e-4732-a641-207b2ab9fde5\" localId=\"b2\">"
           "<Type>ENROLL</Type><Date>2026-13-01</Date><Grade>x</Grade></Event>"
           "<Organization ogrn=\"1\"><Inn>1</Inn></Organization>");
    kt_error_t err;
    xmlio_reader_t *r = xmlio_reader_new(schema, xml, strlen(xml), &err);
    xmlio_item_t item;

    buf_printf(out, "== broken items\n");
    while (r != NULL && xmlio_reader_next(r, a, &item, &err))
        golden_item(a, out, &item);
    if (r != NULL)
        buf_printf(out, "end %s %s\n", kt_code_name(err.code), err.message_ru);
    xmlio_reader_free(r);
    arena_free(a);
}

/* The export sample with a health block, in a package: episodes, their
 * events and every health member pass the reader and the writer too. */
static void
golden_full_student(buf_t *out)
{
    static const char health[] =
        "<Health><HealthGroup>II</HealthGroup><PeGroup>SPECIAL_A</PeGroup>"
        "<Disability group=\"CHILD_DISABLED\"><Reason>CHILDHOOD</Reason><From>2020-01-10</From>"
        "<Until>2031-05-20</Until></Disability><Ovz><PmpkConclusionNo>12</PmpkConclusionNo>"
        "<Date>2021-02-03</Date><RecommendedProgram>АООП</RecommendedProgram></Ovz>"
        "<NeedsAdaptedProgram>true</NeedsAdaptedProgram><LongTermTreatment><Needed>true</Needed>"
        "<TrainingForm>HOME</TrainingForm></LongTermTreatment><LegalBasis kind=\"CONSENT_WRITTEN\">"
        "<ConsentRef>согласие № 12</ConsentRef></LegalBasis></Health></Student>";
    arena_t *a = arena_new(0);
    size_t len;
    const char *sample = slurp(a, repo_path(a, "xsd/samples/student.xml"), &len);
    const char *from = sample != NULL ? strstr(sample, "<Student ") : NULL;
    const char *end = from != NULL ? strstr(from, "</Student>") : NULL;
    const char *xml =
        end != NULL ? packet(a, arena_printf(a, "%.*s%s", (int)(end - from), from, health)) : NULL;
    kt_error_t err;
    xmlio_reader_t *r = xml != NULL ? xmlio_reader_new(schema, xml, strlen(xml), &err) : NULL;
    xmlio_item_t item;

    buf_printf(out, "== student.xml with health\n");
    CHECK(r != NULL);
    while (r != NULL && xmlio_reader_next(r, a, &item, &err))
        golden_item(a, out, &item);
    if (r != NULL)
        buf_printf(out, "end %s %s\n", kt_code_name(err.code), err.message_ru);
    xmlio_reader_free(r);
    arena_free(a);
}

static void
test_golden_samples(void)
{
    arena_t *a = arena_new(0);
    const char *path = repo_path(a, "tests/unit/golden/xmlio_samples.txt");
    size_t len = 0;
    const char *want = slurp(a, path, &len);
    const char *update = getenv("KT_GOLDEN_UPDATE");
    buf_t out;

    buf_init(&out, 0);
    golden_packet(&out, "xsd/samples/packet-changes.xml");
    golden_packet(&out, "xsd/samples/packet-records.xml");
    golden_packet(&out, "xsd/samples/packet-organizations.xml");
    golden_full_student(&out);
    golden_broken(&out);
    if (update != NULL && strcmp(update, "1") == 0) {
        FILE *f = fopen(path, "wb");
        CHECK(f != NULL && fwrite(out.data, 1, out.len, f) == out.len);
        if (f != NULL)
            fclose(f);
    } else {
        CHECK(want != NULL);
        CHECK(want != NULL && len == out.len && memcmp(want, out.data, len) == 0);
    }
    buf_release(&out);
    arena_free(a);
}

int
main(void)
{
    arena_t *a;
    kt_error_t err;
    xmlSchemaParserCtxtPtr pctxt;

    a = arena_new(0);
    schema = xmlio_schema_load(repo_path(a, "xsd/kontingent-exchange-1.xsd"), &err);
    if (schema == NULL) {
        fprintf(stderr, "cannot load the XSD: %s\n", err.message);
        return 1;
    }
    pctxt = xmlSchemaNewParserCtxt(repo_path(a, "xsd/kontingent-exchange-1.xsd"));
    raw_schema = xmlSchemaParse(pctxt);
    xmlSchemaFreeParserCtxt(pctxt);
    arena_free(a);

    CHECK_RUN(test_golden_samples);
    CHECK_RUN(test_sample_packet);
    CHECK_RUN(test_pointer_to_xpath_education);
    CHECK_RUN(test_write_education_round_trip);
    CHECK_RUN(test_sample_file);
    CHECK_RUN(test_samples_valid);
    CHECK_RUN(test_item_breaking_xsd_alone);
    CHECK_RUN(test_item_error_paths);
    CHECK_RUN(test_text_forms);
    CHECK_RUN(test_prefixes_and_hints);
    CHECK_RUN(test_namespaced_attributes);
    CHECK_RUN(test_windows_1251);
    CHECK_RUN(test_empty_data);
    CHECK_RUN(test_wrong_root_or_namespace);
    CHECK_RUN(test_header_errors);
    CHECK_RUN(test_packet_id_length);
    CHECK_RUN(test_unknown_item);
    CHECK_RUN(test_not_well_formed);
    CHECK_RUN(test_external_entities);
    CHECK_RUN(test_billion_laughs);
    CHECK_RUN(test_doctype_refused_first);
    CHECK_RUN(test_deep_nesting);
    CHECK_RUN(test_invalid_utf8);
    CHECK_RUN(test_truncated);
    CHECK_RUN(test_too_many_items);
    CHECK_RUN(test_size_limits);
    CHECK_RUN(test_attribute_bound);
    CHECK_RUN(test_item_errors_never_quote_values);
    CHECK_RUN(test_pointer_to_xpath);
    CHECK_RUN(test_model_errors_to_xpath);
    CHECK_RUN(test_write_round_trip);
    CHECK_RUN(test_write_matches_export_sample);
    CHECK_RUN(test_schema_load_errors);
    CHECK_RUN(test_organization_items);
    CHECK_RUN(test_organization_pointers);
    CHECK_RUN(test_organization_item_breaking_xsd);
    CHECK_RUN(test_records_sample);
    CHECK_RUN(test_records_text_forms);
    CHECK_RUN(test_records_model_errors);
    CHECK_RUN(test_records_write_round_trip);

    xmlSchemaFree(raw_schema);
    xmlio_schema_free(schema);
    xmlCleanupParser();
    CHECK_MAIN_END();
}
