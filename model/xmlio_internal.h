/*
 * xmlio_internal: what the parts of the XML exchange share; private to
 * model/xmlio_*.c (the interface is model/xmlio.h, the one header others
 * include). The parts, along the sections of the format's work:
 *   xmlio_read.c    the reader: a state machine over xmlTextReader, items
 *                   copied node by node, the envelope, the public reader calls
 *   xmlio_scan.c    the scans of the bytes before libxml2 parses them
 *                   (DOCTYPE in the prolog, attributes per element)
 *   xmlio_schema.c  the XSD: loading it, validating a copy, and our own words
 *                   for libxml2's errors (no value of a package is quoted)
 *   xmlio_tree.c    XML ⇄ JSON by the models' field tables (their xml column,
 *                   model/fields.h): item trees, pointers → XPaths
 *   xmlio_write.c   BSON of the store → XML, by the same tables
 */
#ifndef KT_XMLIO_INTERNAL_H
#define KT_XMLIO_INTERNAL_H

#include <stdarg.h>

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlreader.h>
#include <libxml/xmlschemas.h>

#include "model/fields.h"
#include "model/xmlio.h"

/* libxml2 2.12 made the error handed to structured handlers const. */
#if LIBXML_VERSION >= 21200
typedef const xmlError xmlio_xml_error_t;
#else
typedef xmlError xmlio_xml_error_t;
#endif

/* No network. Not NOENT (entities stay unexpanded), not DTDLOAD, DTDATTR or
 * DTDVALID (no external DTD is fetched), not HUGE (libxml2's own limits on
 * depth, text size and entity amplification stay on). */
#define XMLIO_PARSE_OPTIONS XML_PARSE_NONET

#define XMLIO_XSI_NS          "http://www.w3.org/2001/XMLSchema-instance"
#define XMLIO_ITEM_ERRORS_MAX 10  /* schema errors kept per item */
#define XMLIO_XPATH_MAX       512 /* bytes of an XPath built here */
#define XMLIO_SEGMENT_MAX     32  /* bytes of one JSON Pointer segment we can know */
#define XMLIO_INDEX_MAX       1000000
#define XMLIO_SHORT_LINE_MAX  65535 /* libxml2's 16-bit line of an element */
#define XMLIO_PROLOG_SCAN     65536 /* bytes of a file searched for a DOCTYPE */

/* Mapping. */

/* What an item's element converts by: its model's table, and the store's
 * attributes of the record (id, version, state), which are members of the
 * same name but written from the store, not from the document. */
typedef struct {
    const field_t *root;
    const char *const *attrs;
} xmlio_shape_of_t;

/* The element of each kind of item, and what it converts by (root NULL: an
 * item without members). */
extern const char *const xmlio_item_names[XMLIO_ITEM__MAX];
extern const xmlio_shape_of_t xmlio_item_shapes[XMLIO_ITEM__MAX];

/* The row XML reads and writes a member by: the row itself, or an ASSIGNED
 * row's shape (a student's education); NULL when the member has no XML. */
static inline const field_t *
xmlio_xml_row(const field_t *row)
{
    const field_t *x = row->type == FIELD_T_ASSIGNED ? row->child : row;

    return x != NULL && x->xml != NULL ? x : NULL;
}

static inline bool
xmlio_is_attribute(const field_t *x)
{
    return x != NULL && x->xml != NULL && x->xml[0] == '@';
}

static inline bool
xmlio_is_element(const field_t *x)
{
    return x != NULL && x->xml != NULL && x->xml[0] != '@';
}

/* An ARRAY whose items repeat its own element with no container (Country). */
static inline bool
xmlio_repeats_itself(const field_t *x)
{
    return x->type == FIELD_T_ARRAY && x->child->xml == NULL;
}

/* Whether the element name inside parent repeats by design in table. */
bool xmlio_table_repeats(const field_t *table, const xmlChar *parent, const xmlChar *name);

/* Whether an element's local name is Health or a member of the health block. */
bool xmlio_health_name(const xmlChar *name);

/* The record at root as its model's _from_json() takes it; NULL when the
 * arena is out of memory. */
json_value_t *xmlio_record_tree(arena_t *arena, const xmlNode *root, const xmlio_shape_of_t *shape);

/* The reader. */

struct xmlio_schema {
    xmlSchemaPtr xsd;
};

typedef enum {
    XMLIO_AT_START = 0, /* nothing read yet */
    XMLIO_AT_HEADER,    /* the Header is read and valid; Data comes next */
    XMLIO_IN_DATA,      /* inside Data, between items */
    XMLIO_AT_END,       /* the document is read to its end */
    XMLIO_FAILED,       /* a whole-package error: every later call repeats it */
    XMLIO_AT__MAX
} xmlio_state_t;

/* What the schema said about one copied document. */
typedef struct {
    arena_t *arena;                      /* where field errors go; NULL: keep none */
    const char *root_xpath;              /* the XPath of the copy's root element */
    kt_error_t fields;                   /* the field errors, pointer = XPath */
    size_t count;                        /* errors reported, kept or not */
    bool oom;                            /* a field error did not fit in the arena */
    char first[KT_ERROR_MESSAGE_MAX];    /* "Line N, XPath: message" of the first */
    char first_ru[KT_ERROR_MESSAGE_MAX]; /* the same in Russian (core/msg.h) */
} xmlio_vlog_t;

struct xmlio_reader {
    xmlTextReaderPtr xr;
    xmlSchemaValidCtxtPtr vctxt; /* one per reader: validation contexts are not shared */
    int fd;                      /* xmlio_reader_new_file's descriptor, or -1 */
    xmlio_state_t state;
    kt_error_t failure; /* XMLIO_FAILED: the error to repeat */
    xmlio_header_t header;
    bool parse_failed; /* libxml2 reported an error while parsing */
    long parse_line;
    int parse_code;     /* libxml2's code of the first parse error */
    xmlio_vlog_t *vlog; /* during a validation: where its errors go */
    size_t items;       /* items met so far */
    size_t count[XMLIO_ITEM__MAX];
};

/* A copy of one element being made from the reader's nodes. */
typedef struct {
    xmlDocPtr doc;
    xmlNodePtr cur; /* the open element that takes the next child; NULL: none yet */
    size_t bytes;   /* about the serialised size of what was copied */
    bool health;    /* an element with a health name was copied (xmlio_item_t.health) */
} xmlio_copy_t;

typedef enum { XMLIO_NEXT_ELEMENT = 0, XMLIO_NEXT_END, XMLIO_NEXT_FAIL } xmlio_next_t;

/* Messages (xmlio_schema.c): formatted, cut at a whole UTF-8 character. */
void xmlio_vformat(char *out, size_t cap, const char *fmt, va_list ap);
void xmlio_format(char *out, size_t cap, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* libxml2's message on one line, without our namespace before each name. */
void xmlio_clean(char *out, size_t cap, const char *msg);

/* Appends to out (cap bytes, len used), truncating at a character. */
void xmlio_append(char *out, size_t cap, size_t *len, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Our message for an error of the parser (not well-formed XML). */
/* Our text (a key of the catalogue) for libxml2's parse error code, or NULL. */
const char *xmlio_parse_key(int code);

/* xmlio_format in English (en) or in Russian from the catalogue (core/msg.h). */
void xmlio_lformat(bool en, char *out, size_t cap, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Validates doc with the reader's context, its errors into log; 0 valid,
 * 1 not, -1 when libxml2 could not tell. */
int xmlio_validate(xmlio_reader_t *r, xmlDocPtr doc, xmlio_vlog_t *log);

/* The handler of a reader's validation context (ctx the reader): each
 * schema error into the validation's log, with the XPath of its node. */
void xmlio_on_valid_error(void *ctx, xmlio_xml_error_t *e);

/* libxml2 reports some errors (the input's encoding conversion, I/O) to
 * the thread's global handlers rather than the reader's, and those print.
 * While a public call runs, the global handlers are ours (ctx the reader,
 * or NULL to drop the messages); then what was there is put back. */
typedef struct {
    xmlStructuredErrorFunc structured;
    void *structured_ctx;
    xmlGenericErrorFunc generic;
    void *generic_ctx;
} xmlio_global_t;

/* Makes the thread's global handlers ours for a public call (r NULL: drop
 * what they report), saving what was there; leave puts it back. */
void xmlio_global_enter(xmlio_global_t *saved, xmlio_reader_t *r);
void xmlio_global_leave(const xmlio_global_t *saved);

/* The scans of the bytes (xmlio_scan.c). */

/* XML's whitespace (the S production). */
static inline bool
xmlio_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* The attribute bound, on the bytes (XMLIO_MAX_ATTRIBUTES). libxml2 checks a
 * start tag's attributes for duplicates pairwise, inside xmlTextReaderRead()
 * and before any check of ours can see the element: one element with 40 000
 * attributes costs seconds of CPU. So the bound is kept on the bytes before
 * libxml2 parses any of them, by a small lexer over the code units of the
 * document's encoding (one byte for UTF-8 and the other ASCII-compatible
 * encodings, two or four for UTF-16 and UCS-4, told by the first bytes as
 * the XML specification's appendix F does). In a start tag it counts '='
 * outside quoted values, which is exact for well-formed XML; comments,
 * CDATA sections, processing instructions, declarations and end tags are
 * passed over. The reader checks each element again (xmlio_read), for an
 * encoding this lexer cannot read. */
typedef enum {
    XMLIO_SCAN_TEXT = 0,   /* character data: waits for '<' */
    XMLIO_SCAN_LT,         /* after '<' */
    XMLIO_SCAN_BANG,       /* after "<!" */
    XMLIO_SCAN_BANG_DASH,  /* after "<!-" */
    XMLIO_SCAN_CDATA_OPEN, /* after "<![", matching "CDATA[" */
    XMLIO_SCAN_COMMENT,    /* up to "-->" */
    XMLIO_SCAN_CDATA,      /* up to "]]>" */
    XMLIO_SCAN_PI,         /* up to "?>" */
    XMLIO_SCAN_DECL,       /* "<!DOCTYPE …>" and the like, brackets and quotes nested */
    XMLIO_SCAN_END_TAG,    /* up to '>' */
    XMLIO_SCAN_TAG,        /* a start tag outside quotes: counts '=' */
    XMLIO_SCAN_VALUE,      /* a quoted attribute value */
    XMLIO_SCAN__MAX
} xmlio_scan_state_t;

typedef struct {
    xmlio_scan_state_t state;
    unsigned width;  /* bytes per code unit: 1, 2 or 4; 0 before the first bytes */
    bool big_endian; /* of a code unit of 2 or 4 bytes */
    unsigned char unit[4];
    unsigned nunit; /* bytes of a code unit split between two pieces */
    uint32_t quote; /* VALUE, DECL: the quote that closes, or 0 */
    unsigned run;   /* '-', ']' or '?' just seen; "CDATA[" matched; DECL's '[' depth */
    unsigned attrs; /* '=' of the current start tag */
    long line, tag_line;
} xmlio_scan_t;

/* Whether a DOCTYPE comes in the prolog of the len bytes at p (*line: its line). */
bool xmlio_prolog_doctype(const char *p, size_t len, long *line);

/* Scans the next len bytes of the document; false when an element there
 * has more than XMLIO_MAX_ATTRIBUTES attributes (s->tag_line is its line). */
bool xmlio_scan_feed(xmlio_scan_t *s, const char *data, size_t len);

#endif
