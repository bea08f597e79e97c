/*
 * xmlio: the XML exchange format (namespace urn:kontingent:exchange:1,
 * xsd/kontingent-exchange-1.xsd) ⇄ the student model.
 *
 * Reading is streaming and hardened: a package is read item by item with
 * libxml2's xmlTextReader (one item's subtree expanded, validated against the
 * XSD, converted, freed), never as one tree, so a worker's memory does not
 * grow with the package. No DTD (a DOCTYPE is an error), no entity
 * expansion, no network, limits on depth, attributes per element (counted
 * on the bytes before libxml2 parses them), item count, and text sizes.
 * The XSD checks shape; the values are then checked by the same field table
 * as JSON (model/student.h) — an item is converted to the JSON tree of the
 * student model and passed to student_from_json. One set of rules.
 */
#ifndef KT_XMLIO_H
#define KT_XMLIO_H

#include <bson/bson.h>
#include <libxml/xmlwriter.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/error.h"
#include "core/json.h"

#define XMLIO_NS "urn:kontingent:exchange:1"

/* Bounds (docs/xml-exchange.md, "Limits"). */
#define XMLIO_MAX_DEPTH      32         /* element nesting */
#define XMLIO_MAX_ITEMS      250000     /* items per package: a 128 MiB package holds ~150 000 */
#define XMLIO_MAX_TEXT       65536      /* bytes of one text node or attribute */
#define XMLIO_MAX_ITEM_BYTES (1u << 20) /* serialised size of one item */
#define XMLIO_MAX_ATTRIBUTES 32         /* attributes of one element, namespace declarations too */

/* The compiled schema: once per worker (thread-safe for validation with a
 * validation context per thread; each reader has its own). Load it before
 * starting threads: it calls xmlInitParser(), which libxml2 wants called
 * from the main thread. */
typedef struct xmlio_schema xmlio_schema_t;

xmlio_schema_t *xmlio_schema_load(const char *xsd_path, kt_error_t *err);

void xmlio_schema_free(xmlio_schema_t *schema);

/* The Header's fields, as the XSD allows them: PacketID up to 64 characters
 * and SourceSystemID up to 128, both ASCII by their patterns (so characters
 * are bytes), plus the terminating NUL; Timestamp is RFC 3339 with at most
 * nine digits of fraction (35 characters). */
typedef struct {
    char packet_id[65];
    char source_system[129];
    char timestamp[40];
} xmlio_header_t;

typedef enum {
    XMLIO_ITEM_STUDENT = 0,
    XMLIO_ITEM_DELETE,
    XMLIO_ITEM_EVENT,        /* an education event (model/education.h) */
    XMLIO_ITEM_ORGANIZATION, /* <Organization ogrn="…">: upsert by ОГРН */
    XMLIO_ITEM_PROGRESS,     /* <Progress student="…" year="…">: merged (model/progress.h) */
    XMLIO_ITEM__MAX
} xmlio_item_kind_t;

/* One item of a package, converted. Strings and the tree live in the arena
 * given to xmlio_reader_next (reset by the caller between items). The tree
 * is what student_from_json() takes: "id", "version" (a number) and "state"
 * from the attributes when present, then the fields in DATA-MODEL.md order,
 * element text exactly as given (the model trims and normalises). id,
 * local_id and reason are the attributes as given, even when invalid. */
typedef struct {
    xmlio_item_kind_t kind;
    size_t index;               /* 1-based position among the items */
    const char *xpath;          /* "/Packet/Data/Student[3]" (position among its own kind) */
    const char *id;             /* attribute id (an Event's, a Progress's: attribute student),
                                   or NULL */
    const char *local_id;       /* attribute localId, or NULL */
    const char *reason;         /* DeleteStudent's and Event's reason attribute, or NULL */
    json_value_t *student;      /* XMLIO_ITEM_STUDENT: the student as a JSON tree, or NULL when
                                   the item broke the XSD (then err says so) */
    json_value_t *event;        /* XMLIO_ITEM_EVENT: the event body as a JSON tree (the JSON of
                                   POST /students/{id}/events), or NULL when it broke the XSD */
    json_value_t *organization; /* XMLIO_ITEM_ORGANIZATION: the organisation as the JSON tree
                                   organization_from_json() takes ("ogrn" and "version" from
                                   the attributes), or NULL when the item broke the XSD */
    json_value_t *progress;     /* XMLIO_ITEM_PROGRESS: the record as the JSON tree
                                   progress_from_json() takes ("year" from the attribute; the
                                   student is id), or NULL when the item broke the XSD */
    kt_error_t error;           /* the item's own XSD error (code KT_XSD, field path = XPath) */
    bool health;                /* the item's raw XML holds an element named Health or named as
                                   a member of the health block (HealthGroup, Disability, …), in
                                   any namespace, valid or not: where its bytes may be kept
                                   (docs/xml-exchange.md, "Health data") */
} xmlio_item_t;

typedef struct xmlio_reader xmlio_reader_t;

/* Opens a reader over len bytes of XML (already gunzipped by the caller).
 * The bytes are not copied: they must outlive the reader. An empty package
 * or one with a DOCTYPE is refused here already (the first call reports it),
 * before libxml2 parses any of it. */
xmlio_reader_t *xmlio_reader_new(const xmlio_schema_t *schema, const char *data, size_t len,
                                 kt_error_t *err);

/* Same, reading from a file (kontingentctl import). */
xmlio_reader_t *xmlio_reader_new_file(const xmlio_schema_t *schema, const char *path,
                                      kt_error_t *err);

void xmlio_reader_free(xmlio_reader_t *r);

/* Reads up to the end of the Header and validates the envelope so far.
 * Whole-package errors (domain KT_DOMAIN_XML): not well-formed, DOCTYPE,
 * entities, nesting deeper than XMLIO_MAX_DEPTH, an element with more than
 * XMLIO_MAX_ATTRIBUTES attributes → KT_MALFORMED (400); a text
 * or attribute over XMLIO_MAX_TEXT, an item over XMLIO_MAX_ITEM_BYTES, more
 * than XMLIO_MAX_ITEMS items → KT_PAYLOAD_TOO_LARGE (413); wrong namespace,
 * root or Header shape → KT_XSD (422). Messages are Russian, start with the
 * line ("Строка 12: …") and are our own: libxml2's error code picks the
 * words, and no value of the package is ever quoted (it may be personal or
 * health data, and receipts reach principals who may not see it).
 * Calling it again returns the same header or error. */
bool xmlio_reader_header(xmlio_reader_t *r, xmlio_header_t *header, kt_error_t *err);

/* The next item: true with *item filled, false at the end (err code KT_OK)
 * or on a whole-package error (err set: e.g. the document turns out not to
 * be well-formed after item 5000, or too many items, or an element in Data
 * other than Student and DeleteStudent, which is KT_XSD for the package).
 * An item that breaks the XSD is returned with item->student NULL and
 * item->error set (message "Строка N, <XPath>: …", one field error per
 * schema error with the XPath as pointer, worded "Строка N: <what> (XSD:
 * <facet or rule>)", never quoting the value); the reader goes on with the
 * next item. Reads the header first when xmlio_reader_header() was not
 * called. Once false, it stays false with the same err. */
bool xmlio_reader_next(xmlio_reader_t *r, arena_t *arena, xmlio_item_t *item, kt_error_t *err);

/* Maps a JSON Pointer of a field error ("/documents/0/number") to the XPath
 * of the element in the item ("<item xpath>/Documents/Document[1]/Number")
 * by the xml names of the field table (model/fields.h) that the item's
 * element in its XPath (Student or Organization) picks; members that are
 * attributes map to "@type", "@kind", "@category"; a
 * pointer of any other shape maps to item_xpath itself. The result is in
 * arena (item_xpath itself when the arena is out of memory). */
const char *xmlio_pointer_to_xpath(arena_t *arena, const char *item_xpath, const char *pointer);

/* The same for a pointer into an item of the given kind (an Event's body
 * maps by the Event's elements). */
const char *xmlio_item_pointer_to_xpath(arena_t *arena, xmlio_item_kind_t kind,
                                        const char *item_xpath, const char *pointer);
/* Writes <Organization xmlns=XMLIO_NS ogrn=… version=…> with the fields of
 * doc (a stored organisation, model/organization.c) in the order of the
 * XSD; the ОГРН is doc's "ogrn". Stands alone like xmlio_write_student. */
bool xmlio_write_organization(xmlTextWriterPtr w, int64_t version, const bson_t *doc);

/* Writes <Progress xmlns=XMLIO_NS student=… year=… version=… organization=…>
 * with the members of doc (a stored progress record, model/progress.h) in
 * the order of the XSD. Stands alone like xmlio_write_student. */
bool xmlio_write_progress(xmlTextWriterPtr w, int64_t version, const bson_t *doc);

/* Writes <Student xmlns=XMLIO_NS id=… version=… state=…> with the fields of
 * doc (a stored student: the JSON names of model/student.c; other members
 * are left out) in the order of the XSD. The element declares its namespace
 * itself, so it stands alone as a document's root or sits inside any
 * element. id NULL or version 0 leave those attributes out. False when the
 * writer fails or a string of doc is not UTF-8. */
bool xmlio_write_student(xmlTextWriterPtr w, const char *id, int64_t version, bool deleted,
                         const bson_t *doc);

#endif
