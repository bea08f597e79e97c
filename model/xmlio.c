/*
 * xmlio: packages in, students out, with libxml2 (see model/xmlio.h).
 *
 * Reading is a small state machine over xmlTextReader (xmlio_state_t):
 * the root must be {urn:kontingent:exchange:1}Packet; its Header is copied
 * and checked by the XSD; then each child of Data is one item, read, copied,
 * validated, converted and freed before the next is touched; after Data
 * only the end of the document may come. Every node read passes
 * xmlio_read(), which holds the rules that apply everywhere: no DOCTYPE, no
 * entity references, nesting within XMLIO_MAX_DEPTH, and any error libxml2
 * reports ends the package.
 *
 * Hardening, beyond the parser options (XMLIO_PARSE_OPTIONS):
 *   - A DOCTYPE is refused before libxml2 parses a byte of it: the prolog's
 *     bytes are scanned when the reader is made (xmlio_prescan), so no
 *     entity is ever declared. One in an encoding the scan cannot read
 *     (UTF-16) meets the node check of xmlio_read(); by then nothing has
 *     been fetched (no DTDLOAD, no NOENT) and libxml2's amplification limits
 *     have bounded any expansion.
 *   - libxml2 never prints: the reader and each validation context report
 *     to handlers here, and while a public call runs so do the thread's
 *     global handlers, where errors of the encoding conversion arrive.
 *   - An item is copied node by node (below), so its memory is bounded
 *     before it exists; the reader frees what it has passed.
 *
 * Choices the interface leaves open, made here:
 *   - An item is not expanded with xmlTextReaderExpand(): that builds the
 *     whole subtree before any limit can be checked, so a 500 MB <Student>
 *     would sit in memory first. The item is read node by node instead and
 *     copied into a fresh xmlDoc (xmlio_copy_*), checking depth, text and
 *     item size at each node while the reader frees what it has passed.
 *     The copy is validated with xmlSchemaValidateDoc() against the XSD's
 *     global Student or DeleteStudent element, converted, and freed.
 *   - The envelope is validated by the XSD's own Packet declaration: the
 *     root element (with its attributes) and the Header are copied the same
 *     way into <Packet><Header>…</Header><Data/></Packet>, and that document
 *     is validated. No second description of the Header lives in C.
 *   - An element in Data other than Student and DeleteStudent is a
 *     whole-package XSD error: the interface knows no third kind of item,
 *     and an unknown one means the sender speaks another version of the
 *     format, so applying the rest of its package would be a guess.
 *   - Limits: nesting deeper than XMLIO_MAX_DEPTH, or an element with more
 *     than XMLIO_MAX_ATTRIBUTES attributes (xmlio_scan_*, on the bytes), is
 *     MALFORMED (400); a text
 *     or attribute value over XMLIO_MAX_TEXT bytes, an item over
 *     XMLIO_MAX_ITEM_BYTES (counted as names, attribute values and text
 *     arrive) or more than XMLIO_MAX_ITEMS items is PAYLOAD_TOO_LARGE (413).
 *   - Item XPaths give a position to the elements that repeat by design
 *     (Document[1], Country[2] even when alone), as xmlio_pointer_to_xpath()
 *     does, and to any other element that has a same-named sibling.
 *   - Line numbers: libxml2 keeps an element's line in 16 bits; past line
 *     65535 the parser's own line, at most a chunk ahead, stands in.
 *   - Attribute values and text reach the student tree exactly as given
 *     (the model trims and normalises); the XSD's string types do not
 *     collapse whitespace, so the schema and the model judge the same text.
 *
 * The models' field tables carry each member's XML name (model/fields.h);
 * reading, writing and the pointer-to-XPath translation all walk them.
 */
#include "model/xmlio.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlreader.h>
#include <libxml/xmlschemas.h>

#include "core/utf8.h"
#include "model/education.h"
#include "model/organization.h"
#include "model/student.h"

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

/* Mapping XML ⇄ JSON: the models' field tables name every member's element
 * or attribute (the xml column, model/fields.h); reading, writing and the
 * pointer-to-XPath translation all walk them. What is left here is the
 * item's envelope. */

static const char *const xmlio_item_names[XMLIO_ITEM__MAX] = {
    [XMLIO_ITEM_STUDENT] = "Student",
    [XMLIO_ITEM_DELETE] = "DeleteStudent",
    [XMLIO_ITEM_EVENT] = "Event",
    [XMLIO_ITEM_ORGANIZATION] = "Organization",
};

/* What an item's element converts by: its model's table, and the store's
 * attributes of the record (id, version, state), which are members of the
 * same name but written from the store, not from the document. */
typedef struct {
    const field_t *root;
    const char *const *attrs;
} xmlio_shape_of_t;

static const char *const xmlio_student_attrs[] = {"id", "version", "state", NULL};
static const char *const xmlio_org_attrs[] = {"version", NULL};
/* An event's attributes are the item's (student, localId, reason), not members. */
static const char *const xmlio_no_attrs[] = {NULL};

/* The shape of each kind of item (root NULL: an item without members). */
static const xmlio_shape_of_t xmlio_item_shapes[XMLIO_ITEM__MAX] = {
    [XMLIO_ITEM_STUDENT] = {&student_root, xmlio_student_attrs},
    [XMLIO_ITEM_EVENT] = {&education_event_root, xmlio_no_attrs},
    [XMLIO_ITEM_ORGANIZATION] = {&organization_root, xmlio_org_attrs},
};

/* The row XML reads and writes a member by: the row itself, or an ASSIGNED
 * row's shape (a student's education); NULL when the member has no XML. */
static const field_t *
xmlio_xml_row(const field_t *row)
{
    const field_t *x = row->type == FIELD_T_ASSIGNED ? row->child : row;

    return x != NULL && x->xml != NULL ? x : NULL;
}

static bool
xmlio_is_attribute(const field_t *x)
{
    return x != NULL && x->xml != NULL && x->xml[0] == '@';
}

static bool
xmlio_is_element(const field_t *x)
{
    return x != NULL && x->xml != NULL && x->xml[0] != '@';
}

/* An ARRAY whose items repeat its own element with no container (Country). */
static bool
xmlio_repeats_itself(const field_t *x)
{
    return x->type == FIELD_T_ARRAY && x->child->xml == NULL;
}

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
    arena_t *arena;                   /* where field errors go; NULL: keep none */
    const char *root_xpath;           /* the XPath of the copy's root element */
    kt_error_t fields;                /* the field errors, pointer = XPath */
    size_t count;                     /* errors reported, kept or not */
    bool oom;                         /* a field error did not fit in the arena */
    char first[KT_ERROR_MESSAGE_MAX]; /* "строка N, XPath: message" of the first */
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
    char parse_message[KT_ERROR_MESSAGE_MAX];
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

/* Messages. */

/* Cuts s back to its last whole UTF-8 character: vsnprintf truncates bytes. */
static void
xmlio_utf8_cut(char *s)
{
    size_t n = strlen(s), lead = n;

    while (lead > 0 && ((unsigned char)s[lead - 1] & 0xc0) == 0x80)
        lead--;
    if (lead > 0 && utf8_char_len(s + lead - 1, n - lead + 1) == 0)
        s[lead - 1] = '\0';
}

static void
xmlio_vformat(char *out, size_t cap, const char *fmt, va_list ap)
{
    vsnprintf(out, cap, fmt, ap);
    xmlio_utf8_cut(out);
}

static void __attribute__((format(printf, 3, 4)))
xmlio_format(char *out, size_t cap, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    xmlio_vformat(out, cap, fmt, ap);
    va_end(ap);
}

/* libxml2's message on one line, without "{urn:kontingent:exchange:1}"
 * before each name, which tells the sender nothing. */
static void
xmlio_clean(char *out, size_t cap, const char *msg)
{
    static const char ns[] = "{" XMLIO_NS "}";
    size_t k = 0;

    for (const char *p = msg != NULL ? msg : ""; *p != '\0' && k + 1 < cap;) {
        if (strncmp(p, ns, sizeof ns - 1) == 0) {
            p += sizeof ns - 1;
            continue;
        }
        out[k++] = *p == '\n' || *p == '\r' ? ' ' : *p;
        p++;
    }
    while (k > 0 && out[k - 1] == ' ')
        k--;
    out[k] = '\0';
    xmlio_utf8_cut(out);
}

/* Records a whole-package error: the reader stops, and every later call
 * repeats it. Returns false, for the caller to return. */
static bool __attribute__((format(printf, 4, 5)))
xmlio_fail(xmlio_reader_t *r, kt_error_t *err, kt_code_t code, const char *fmt, ...)
{
    char msg[KT_ERROR_MESSAGE_MAX];
    va_list ap;

    va_start(ap, fmt);
    xmlio_vformat(msg, sizeof msg, fmt, ap);
    va_end(ap);
    kt_error_set(&r->failure, KT_DOMAIN_XML, code, "%s", msg);
    r->state = XMLIO_FAILED;
    if (err != NULL)
        *err = r->failure;
    return false;
}

static bool
xmlio_repeat(const xmlio_reader_t *r, kt_error_t *err)
{
    if (err != NULL)
        *err = r->failure;
    return false;
}

static bool
xmlio_fail_memory(xmlio_reader_t *r, kt_error_t *err)
{
    return xmlio_fail(r, err, KT_INTERNAL, "Не хватило памяти на разбор XML");
}

/* The request's arena is capped: running out of it is the package's fault. */
static bool
xmlio_fail_arena(xmlio_reader_t *r, kt_error_t *err)
{
    return xmlio_fail(r, err, KT_PAYLOAD_TOO_LARGE,
                      "Элемент %zu пакета не поместился в память запроса", r->items);
}

/* An element with more attributes than XMLIO_MAX_ATTRIBUTES, at line. */
static bool
xmlio_fail_attributes(xmlio_reader_t *r, kt_error_t *err, long line)
{
    return xmlio_fail(r, err, KT_MALFORMED, "Строка %ld: у элемента больше %d атрибутов", line,
                      XMLIO_MAX_ATTRIBUTES);
}

/* The line of the reader's current node. */
static long
xmlio_line(xmlio_reader_t *r)
{
    xmlNodePtr node = xmlTextReaderCurrentNode(r->xr);
    long line = node != NULL ? xmlGetLineNo(node) : -1;

    if (line <= 0 || line >= XMLIO_SHORT_LINE_MAX)
        line = xmlTextReaderGetParserLineNumber(r->xr);
    return line;
}

/* Our own words for libxml2's errors. libxml2's text quotes the value that
 * broke the schema ("The value 'F84.0-…' is not an element of the set …"),
 * and that value may be personal or health data while receipts are shown to
 * principals who may not see it. So no text of libxml2's reaches a message:
 * the error's code picks ours, which names the kind of failure (the XSD
 * facet or rule) and leaves the place to the XPath. An unknown code gets a
 * general message with the code's number. */
typedef struct {
    int code; /* libxml2's xmlParserErrors */
    const char *rule;
    const char *text;
} xmlio_message_t;

static const xmlio_message_t xmlio_schema_messages[] = {
    {XML_SCHEMAV_CVC_ENUMERATION_VALID, "enumeration", "значения нет в списке допустимых"},
    {XML_SCHEMAV_CVC_PATTERN_VALID, "pattern", "значение не соответствует шаблону"},
    {XML_SCHEMAV_CVC_LENGTH_VALID, "length", "длина значения не равна заданной"},
    {XML_SCHEMAV_CVC_MINLENGTH_VALID, "minLength", "значение короче допустимого"},
    {XML_SCHEMAV_CVC_MAXLENGTH_VALID, "maxLength", "значение длиннее допустимого"},
    {XML_SCHEMAV_CVC_MININCLUSIVE_VALID, "minInclusive", "значение меньше допустимого"},
    {XML_SCHEMAV_CVC_MAXINCLUSIVE_VALID, "maxInclusive", "значение больше допустимого"},
    {XML_SCHEMAV_CVC_MINEXCLUSIVE_VALID, "minExclusive", "значение не больше нижней границы"},
    {XML_SCHEMAV_CVC_MAXEXCLUSIVE_VALID, "maxExclusive", "значение не меньше верхней границы"},
    {XML_SCHEMAV_CVC_TOTALDIGITS_VALID, "totalDigits", "в значении больше цифр, чем допустимо"},
    {XML_SCHEMAV_CVC_FRACTIONDIGITS_VALID, "fractionDigits",
     "в дробной части больше цифр, чем допустимо"},
    {XML_SCHEMAV_CVC_FACET_VALID, "facet", "значение нарушает ограничение типа"},
    {XML_SCHEMAV_FACET, "facet", "значение нарушает ограничение типа"},
    {XML_SCHEMAV_CVC_DATATYPE_VALID_1_2_1, "type", "значение не соответствует типу"},
    {XML_SCHEMAV_CVC_DATATYPE_VALID_1_2_2, "type", "значение не соответствует типу"},
    {XML_SCHEMAV_CVC_DATATYPE_VALID_1_2_3, "type", "значение не соответствует типу"},
    {XML_SCHEMAV_CVC_TYPE_3_1_1, "type", "у элемента простого типа не бывает атрибутов"},
    {XML_SCHEMAV_CVC_TYPE_3_1_2, "type", "в элементе простого типа не бывает вложенных элементов"},
    {XML_SCHEMAV_CVC_TYPE_1, "type", "тип элемента не найден"},
    {XML_SCHEMAV_CVC_TYPE_2, "type", "тип элемента абстрактный"},
    {XML_SCHEMAV_VALUE, "type", "значение не соответствует типу"},
    {XML_SCHEMAV_CVC_ATTRIBUTE_3, "type", "значение атрибута не соответствует типу"},
    {XML_SCHEMAV_CVC_COMPLEX_TYPE_2_1, "content", "элемент должен быть пустым"},
    {XML_SCHEMAV_CVC_COMPLEX_TYPE_2_2, "content", "в элементе допускается только текст"},
    {XML_SCHEMAV_CVC_COMPLEX_TYPE_2_3, "content", "текст здесь не допускается"},
    {XML_SCHEMAV_CVC_COMPLEX_TYPE_2_4, "content", "состав или порядок элементов не по схеме"},
    {XML_SCHEMAV_ELEMENT_CONTENT, "content", "состав или порядок элементов не по схеме"},
    {XML_SCHEMAV_CVC_COMPLEX_TYPE_3_1, "attribute", "значение атрибута не равно заданному схемой"},
    {XML_SCHEMAV_CVC_COMPLEX_TYPE_3_2_1, "attribute", "такого атрибута у элемента не бывает"},
    {XML_SCHEMAV_CVC_COMPLEX_TYPE_3_2_2, "attribute", "такого атрибута у элемента не бывает"},
    {XML_SCHEMAV_CVC_COMPLEX_TYPE_4, "attribute", "нет обязательного атрибута"},
    {XML_SCHEMAV_CVC_COMPLEX_TYPE_5_1, "attribute", "атрибутов типа ID больше одного"},
    {XML_SCHEMAV_CVC_COMPLEX_TYPE_5_2, "attribute", "атрибутов типа ID больше одного"},
    {XML_SCHEMAV_CVC_AU, "attribute", "значение атрибута не равно заданному схемой"},
    {XML_SCHEMAV_CVC_ATTRIBUTE_1, "attribute", "атрибут не описан в схеме"},
    {XML_SCHEMAV_CVC_ATTRIBUTE_2, "attribute", "тип атрибута не найден"},
    {XML_SCHEMAV_CVC_ATTRIBUTE_4, "attribute", "значение атрибута не равно заданному схемой"},
    {XML_SCHEMAV_CVC_ELT_1, "element", "элемент не описан в схеме"},
    {XML_SCHEMAV_CVC_ELT_2, "element", "элемент абстрактный"},
    {XML_SCHEMAV_CVC_ELT_3_1, "nillable", "xsi:nil здесь не допускается"},
    {XML_SCHEMAV_CVC_ELT_3_2_1, "nillable", "в элементе с xsi:nil не бывает содержимого"},
    {XML_SCHEMAV_CVC_ELT_3_2_2, "nillable", "у элемента с xsi:nil не бывает значения по схеме"},
    {XML_SCHEMAV_CVC_ELT_4_1, "type", "xsi:type не соответствует схеме"},
    {XML_SCHEMAV_CVC_ELT_4_2, "type", "xsi:type не соответствует схеме"},
    {XML_SCHEMAV_CVC_ELT_4_3, "type", "xsi:type не соответствует схеме"},
    {XML_SCHEMAV_CVC_ELT_5_1_1, "fixed", "значение не соответствует заданному схемой"},
    {XML_SCHEMAV_CVC_ELT_5_1_2, "fixed", "значение не соответствует заданному схемой"},
    {XML_SCHEMAV_CVC_ELT_5_2_1, "fixed", "значение не соответствует заданному схемой"},
    {XML_SCHEMAV_CVC_ELT_5_2_2_1, "fixed", "значение не соответствует заданному схемой"},
    {XML_SCHEMAV_CVC_ELT_5_2_2_2_1, "fixed", "значение не равно заданному схемой"},
    {XML_SCHEMAV_CVC_ELT_5_2_2_2_2, "fixed", "значение не равно заданному схемой"},
    {XML_SCHEMAV_CVC_ELT_6, "identity", "нарушено ограничение уникальности или ключа"},
    {XML_SCHEMAV_CVC_ELT_7, "identity", "нарушено ограничение уникальности или ключа"},
    {XML_SCHEMAV_CVC_IDC, "identity", "нарушено ограничение уникальности или ключа"},
    {XML_SCHEMAV_CVC_WILDCARD, "element", "элемент не допускается схемой"},
    {XML_SCHEMAV_DOCUMENT_ELEMENT_MISSING, "element", "нет корневого элемента"},
    {XML_SCHEMAV_NOROOT, "element", "нет корневого элемента"},
    {XML_SCHEMAV_UNDECLAREDELEM, "element", "элемент не описан в схеме"},
    {XML_SCHEMAV_NOTTOPLEVEL, "element", "элемент не описан в схеме"},
};

static const xmlio_message_t xmlio_parse_messages[] = {
    {XML_ERR_NO_MEMORY, NULL, "не хватило памяти"},
    {XML_ERR_DOCUMENT_EMPTY, NULL, "документ пуст"},
    {XML_ERR_DOCUMENT_END, NULL, "после корневого элемента есть ещё данные"},
    {XML_ERR_EXTRA_CONTENT, NULL, "после корневого элемента есть ещё данные"},
    {XML_ERR_INVALID_CHAR, NULL, "недопустимый символ или байты не в кодировке документа"},
    {XML_ERR_INVALID_CHARREF, NULL, "ссылка на недопустимый символ"},
    {XML_ERR_INVALID_DEC_CHARREF, NULL, "ссылка на недопустимый символ"},
    {XML_ERR_INVALID_HEX_CHARREF, NULL, "ссылка на недопустимый символ"},
    {XML_ERR_UNKNOWN_ENCODING, NULL, "кодировка документа не поддерживается"},
    {XML_ERR_UNSUPPORTED_ENCODING, NULL, "кодировка документа не поддерживается"},
    {XML_ERR_INVALID_ENCODING, NULL, "байты не соответствуют кодировке документа"},
    {XML_I18N_CONV_FAILED, NULL, "байты не соответствуют кодировке документа"},
    {XML_ERR_TAG_NAME_MISMATCH, NULL, "закрывающий тег не совпадает с открывающим"},
    {XML_ERR_TAG_NOT_FINISHED, NULL, "элемент не закрыт (документ оборван?)"},
    {XML_ERR_NOT_WELL_BALANCED, NULL, "элементы вложены неправильно"},
    {XML_ERR_GT_REQUIRED, NULL, "тег не завершён символом >"},
    {XML_ERR_NAME_REQUIRED, NULL, "ожидается имя"},
    {XML_ERR_SPACE_REQUIRED, NULL, "ожидается пробел"},
    {XML_ERR_LT_IN_ATTRIBUTE, NULL, "символ < в значении атрибута"},
    {XML_ERR_ATTRIBUTE_NOT_STARTED, NULL, "значение атрибута не в кавычках"},
    {XML_ERR_ATTRIBUTE_NOT_FINISHED, NULL, "значение атрибута не закрыто"},
    {XML_ERR_ATTRIBUTE_WITHOUT_VALUE, NULL, "у атрибута нет значения"},
    {XML_ERR_ATTRIBUTE_REDEFINED, NULL, "атрибут повторяется"},
    {XML_NS_ERR_ATTRIBUTE_REDEFINED, NULL, "атрибут повторяется"},
    {XML_NS_ERR_UNDEFINED_NAMESPACE, NULL, "префикс пространства имён не объявлен"},
    {XML_NS_ERR_QNAME, NULL, "неверное имя с префиксом"},
    {XML_ERR_UNDECLARED_ENTITY, NULL, "ссылка на сущность"},
    {XML_ERR_ENTITYREF_SEMICOL_MISSING, NULL, "символ & вне ссылки на символ"},
    {XML_ERR_COMMENT_NOT_FINISHED, NULL, "комментарий не закрыт"},
    {XML_ERR_PI_NOT_FINISHED, NULL, "инструкция обработки не закрыта"},
    {XML_ERR_CDATA_NOT_FINISHED, NULL, "раздел CDATA не закрыт"},
    {XML_ERR_USER_STOP, NULL, "разбор остановлен"},
};

static const xmlio_message_t *
xmlio_message_find(const xmlio_message_t *table, size_t n, int code)
{
    for (size_t i = 0; i < n; i++) {
        if (table[i].code == code)
            return &table[i];
    }
    return NULL;
}

/* The text after "Element 'name': " in libxml2's message (names hold no
 * quote), or the whole message. */
static const char *
xmlio_message_rest(const char *msg)
{
    const char *end = strncmp(msg, "Element '", 9) == 0 ? strstr(msg + 9, "': ") : NULL;

    return end != NULL ? end + 3 : msg;
}

/* Copies to out a name or list of names libxml2 took from the schema, after
 * mark and up to stop in msg, when nothing but name characters is there. */
static bool
xmlio_message_names(const char *msg, const char *mark, const char *stop, char *out, size_t cap)
{
    static const char allowed[] =
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-., ";
    const char *at = strstr(msg, mark), *end;
    size_t n;

    if (at == NULL)
        return false;
    at += strlen(mark);
    end = strstr(at, stop);
    n = end != NULL ? (size_t)(end - at) : 0;
    if (n == 0 || n >= cap || strspn(at, allowed) < n)
        return false;
    memcpy(out, at, n);
    out[n] = '\0';
    return true;
}

/* An element out of place: which one is missing or unexpected, and what
 * the schema expects there (names from the schema, never from the data). */
static void
xmlio_content_text(const char *msg, const char *fallback, char *out, size_t cap)
{
    const char *rest = xmlio_message_rest(msg);
    const char *what = fallback;
    char names[KT_ERROR_MESSAGE_MAX / 2];
    bool listed;

    if (strncmp(rest, "Missing child element", 21) == 0)
        what = "не хватает вложенного элемента";
    else if (strncmp(rest, "This element is not expected", 28) == 0)
        what = "элемент здесь не ожидается";
    listed = xmlio_message_names(rest, "Expected is ( ", " )", names, sizeof names) ||
             xmlio_message_names(rest, "Expected is one of ( ", " )", names, sizeof names);
    if (listed)
        xmlio_format(out, cap, "%s, ожидается: %s", what, names);
    else
        xmlio_format(out, cap, "%s", what);
}

/* Our message for a schema error: "<text> (XSD: <rule>)"; msg is libxml2's,
 * cleaned, read only for names that come from the schema. */
static void
xmlio_schema_text(int code, const char *msg, char *out, size_t cap)
{
    const xmlio_message_t *m = xmlio_message_find(
        xmlio_schema_messages, sizeof xmlio_schema_messages / sizeof *xmlio_schema_messages, code);
    char text[KT_ERROR_MESSAGE_MAX], name[XMLIO_SEGMENT_MAX];

    if (m == NULL) {
        xmlio_format(out, cap, "нарушена схема XSD (ошибка libxml2 %d)", code);
        return;
    }
    if (strcmp(m->rule, "content") == 0)
        xmlio_content_text(msg, m->text, text, sizeof text);
    else if (code == XML_SCHEMAV_CVC_COMPLEX_TYPE_4 &&
             xmlio_message_names(xmlio_message_rest(msg), "The attribute '", "'", name,
                                 sizeof name))
        xmlio_format(text, sizeof text, "%s %s", m->text, name);
    else
        xmlio_format(text, sizeof text, "%s", m->text);
    xmlio_format(out, cap, "%s (XSD: %s)", text, m->rule);
}

/* Our message for an error of the parser (not well-formed XML). */
static void
xmlio_parse_text(int code, char *out, size_t cap)
{
    const xmlio_message_t *m = xmlio_message_find(
        xmlio_parse_messages, sizeof xmlio_parse_messages / sizeof *xmlio_parse_messages, code);

    if (m != NULL)
        xmlio_format(out, cap, "%s", m->text);
    else
        xmlio_format(out, cap, "ошибка разбора (libxml2 %d)", code);
}

/* Error handlers: libxml2 must never print, so every reader and validation
 * context reports here. */

static void
xmlio_on_parse_error(void *ctx, xmlio_xml_error_t *e)
{
    xmlio_reader_t *r = ctx;

    if (e == NULL || e->level < XML_ERR_ERROR || r->parse_failed)
        return;
    r->parse_failed = true;
    r->parse_line = e->line;
    xmlio_parse_text(e->code, r->parse_message, sizeof r->parse_message);
}

static bool
xmlio_fail_parse(xmlio_reader_t *r, kt_error_t *err)
{
    if (!r->parse_failed)
        return xmlio_fail(r, err, KT_MALFORMED, "Строка %d: XML не прочитан",
                          xmlTextReaderGetParserLineNumber(r->xr));
    return xmlio_fail(r, err, KT_MALFORMED, "Строка %ld: XML некорректен: %s", r->parse_line,
                      r->parse_message);
}

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

static void
xmlio_on_generic_error(void *ctx, const char *fmt, ...)
{
    xmlio_reader_t *r = ctx;

    (void)fmt; /* its arguments may be bytes of the input: our own words instead */
    if (r == NULL || r->parse_failed)
        return;
    r->parse_failed = true;
    r->parse_line = xmlTextReaderGetParserLineNumber(r->xr);
    xmlio_parse_text(XML_I18N_CONV_FAILED, r->parse_message, sizeof r->parse_message);
}

static void
xmlio_on_global_error(void *ctx, xmlio_xml_error_t *e)
{
    if (ctx != NULL)
        xmlio_on_parse_error(ctx, e);
}

static void
xmlio_global_enter(xmlio_global_t *saved, xmlio_reader_t *r)
{
    saved->structured = xmlStructuredError;
    saved->structured_ctx = xmlStructuredErrorContext;
    saved->generic = xmlGenericError;
    saved->generic_ctx = xmlGenericErrorContext;
    xmlSetStructuredErrorFunc(r, xmlio_on_global_error);
    xmlSetGenericErrorFunc(r, xmlio_on_generic_error);
}

static void
xmlio_global_leave(const xmlio_global_t *saved)
{
    xmlSetStructuredErrorFunc(saved->structured_ctx, saved->structured);
    xmlSetGenericErrorFunc(saved->generic_ctx, saved->generic);
}

/* Appends to out (cap bytes, len used), truncating at a character. */
static void __attribute__((format(printf, 4, 5)))
xmlio_append(char *out, size_t cap, size_t *len, const char *fmt, ...)
{
    va_list ap;

    if (*len + 1 >= cap)
        return;
    va_start(ap, fmt);
    xmlio_vformat(out + *len, cap - *len, fmt, ap);
    va_end(ap);
    *len += strlen(out + *len);
}

/* Whether the element name inside parent repeats by design in table: the
 * item of an ARRAY with a container (Document in Documents) or one that
 * repeats itself (Country). */
static bool
xmlio_table_repeats(const field_t *table, const xmlChar *parent, const xmlChar *name)
{
    for (const field_t *f = table; f->type != FIELD_T_END; f++) {
        const field_t *x = xmlio_xml_row(f), *sub = NULL;
        if (!xmlio_is_element(x))
            continue;
        if (x->type == FIELD_T_OBJECT)
            sub = x->child;
        if (x->type == FIELD_T_ARRAY && xmlio_repeats_itself(x) &&
            xmlStrEqual(name, BAD_CAST x->xml))
            return true;
        if (x->type == FIELD_T_ARRAY && !xmlio_repeats_itself(x)) {
            if (xmlStrEqual(parent, BAD_CAST x->xml) && xmlStrEqual(name, BAD_CAST x->child->xml))
                return true;
            sub = x->child->type == FIELD_T_OBJECT ? x->child->child : NULL;
        }
        if (sub != NULL && xmlio_table_repeats(sub, parent, name))
            return true;
    }
    return false;
}

static bool
xmlio_same_element(const xmlNode *a, const xmlNode *b)
{
    return a->type == XML_ELEMENT_NODE && xmlStrEqual(a->name, b->name);
}

/* The 1-based position of an element among its same-named siblings, or 0
 * when it needs none (alone, and not one of the repeating elements). */
static size_t
xmlio_position(const xmlNode *node)
{
    const xmlChar *parent = node->parent != NULL ? node->parent->name : NULL;
    size_t pos = 1;
    bool others = false;

    for (const xmlNode *s = node->prev; s != NULL; s = s->prev)
        pos += xmlio_same_element(s, node);
    for (const xmlNode *s = node->next; s != NULL && !others; s = s->next)
        others = xmlio_same_element(s, node);
    if (pos > 1 || others || xmlio_table_repeats(student_root.child, parent, node->name))
        return pos;
    return 0;
}

/* The attribute a schema message is about: libxml2 reports an attribute's
 * error on its element, and says which attribute only in the text,
 * "Element 'Document', attribute 'type': …". Copies the name into out
 * (cap bytes) when it is there and looks like a name. */
static bool
xmlio_message_attr(const char *msg, char *out, size_t cap)
{
    static const char mark[] = "', attribute '";
    const char *at = msg != NULL && strncmp(msg, "Element '", 9) == 0 ? strstr(msg, mark) : NULL;
    size_t n;

    if (at == NULL)
        return false;
    at += sizeof mark - 1;
    n = strspn(at, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.:");
    if (n == 0 || n >= cap || at[n] != '\'')
        return false;
    memcpy(out, at, n);
    out[n] = '\0';
    return true;
}

/* The XPath of node (an element, attribute or text of a copy): root_xpath
 * for the copy's root, then each element's name, "@name" for an attribute. */
static void
xmlio_node_xpath(char *out, size_t cap, const char *root_xpath, const xmlNode *node)
{
    const xmlNode *chain[XMLIO_MAX_DEPTH + 2];
    const xmlNode *attr = NULL;
    size_t n = 0, len = 0;

    out[0] = '\0';
    xmlio_append(out, cap, &len, "%s", root_xpath);
    if (node != NULL && node->type == XML_ATTRIBUTE_NODE)
        attr = node;
    if (node != NULL && node->type != XML_ELEMENT_NODE)
        node = node->parent;
    for (; node != NULL && node->type == XML_ELEMENT_NODE && n < sizeof chain / sizeof *chain;
         node = node->parent)
        chain[n++] = node;
    /* chain[n - 1] is the root, named by root_xpath. */
    for (size_t i = n > 0 ? n - 1 : 0; i-- > 0;) {
        size_t pos = xmlio_position(chain[i]);
        xmlio_append(out, cap, &len, "/%s", (const char *)chain[i]->name);
        if (pos > 0)
            xmlio_append(out, cap, &len, "[%zu]", pos);
    }
    if (attr != NULL)
        xmlio_append(out, cap, &len, "/@%s", (const char *)attr->name);
}

/* The line an element of a copy came from (kept in _private when copied). */
static long
xmlio_node_line(const xmlNode *node, long fallback)
{
    while (node != NULL && node->type != XML_ELEMENT_NODE)
        node = node->parent;
    if (node != NULL && node->_private != NULL)
        return (long)(uintptr_t)node->_private;
    return fallback;
}

static void
xmlio_on_valid_error(void *ctx, xmlio_xml_error_t *e)
{
    xmlio_reader_t *r = ctx;
    xmlio_vlog_t *log = r->vlog;
    char path[XMLIO_XPATH_MAX], msg[KT_ERROR_MESSAGE_MAX], attr[XMLIO_SEGMENT_MAX];
    char raw[KT_ERROR_MESSAGE_MAX];
    const char *field;
    long line;

    if (log == NULL || e == NULL || e->level < XML_ERR_ERROR)
        return;
    if (log->count++ >= XMLIO_ITEM_ERRORS_MAX)
        return;
    xmlio_node_xpath(path, sizeof path, log->root_xpath, e->node);
    line = xmlio_node_line(e->node, e->line);
    xmlio_clean(raw, sizeof raw, e->message);
    if (xmlio_message_attr(raw, attr, sizeof attr) && strstr(path, "/@") == NULL) {
        size_t len = strlen(path);
        xmlio_append(path, sizeof path, &len, "/@%s", attr);
    }
    xmlio_schema_text(e->code, raw, msg, sizeof msg);
    if (log->count == 1)
        xmlio_format(log->first, sizeof log->first, "Строка %ld, %s: %s", line, path, msg);
    if (log->arena == NULL)
        return;
    field = arena_printf(log->arena, "Строка %ld: %s", line, msg);
    if (field == NULL || !kt_error_add_field(&log->fields, log->arena, path, KT_XSD, field))
        log->oom = true;
}

/* Validates doc; 0 valid, 1 not, -1 when libxml2 could not tell. */
static int
xmlio_validate(xmlio_reader_t *r, xmlDocPtr doc, xmlio_vlog_t *log)
{
    int ret;

    r->vlog = log;
    ret = xmlSchemaValidateDoc(r->vctxt, doc);
    r->vlog = NULL;
    if (ret < 0)
        return -1;
    return ret > 0 || log->count > 0;
}

/* Reading nodes. */

/* Reads the next node: 1 when there is one, 0 at the end of the document,
 * -1 after a whole-package error (err set). xmlio_prescan() refuses a
 * DOCTYPE before parsing; one it cannot see (UTF-16) is refused here, and
 * as DTDLOAD and NOENT are off nothing it declares has been fetched, and
 * libxml2's amplification limits bound what it could expand meanwhile. */
static int
xmlio_read(xmlio_reader_t *r, kt_error_t *err)
{
    int ret = xmlTextReaderRead(r->xr);
    int type;

    if (ret < 0 || r->parse_failed) {
        xmlio_fail_parse(r, err);
        return -1;
    }
    if (ret == 0)
        return 0;
    type = xmlTextReaderNodeType(r->xr);
    if (type == XML_READER_TYPE_DOCUMENT_TYPE) {
        xmlio_fail(r, err, KT_MALFORMED, "Строка %ld: DOCTYPE в пакете не допускается",
                   xmlio_line(r));
        return -1;
    }
    if (type == XML_READER_TYPE_ENTITY_REFERENCE || type == XML_READER_TYPE_ENTITY ||
        type == XML_READER_TYPE_NOTATION) {
        xmlio_fail(r, err, KT_MALFORMED, "Строка %ld: сущности в пакете не допускаются",
                   xmlio_line(r));
        return -1;
    }
    if (xmlTextReaderDepth(r->xr) > XMLIO_MAX_DEPTH) {
        xmlio_fail(r, err, KT_MALFORMED, "Строка %ld: вложенность элементов глубже %d",
                   xmlio_line(r), XMLIO_MAX_DEPTH);
        return -1;
    }
    if (type == XML_READER_TYPE_ELEMENT &&
        xmlTextReaderAttributeCount(r->xr) > XMLIO_MAX_ATTRIBUTES) {
        xmlio_fail_attributes(r, err, xmlio_line(r));
        return -1;
    }
    return 1;
}

static bool
xmlio_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static bool
xmlio_blank(const xmlChar *s)
{
    for (; s != NULL && *s != '\0'; s++) {
        if (!xmlio_space((char)*s))
            return false;
    }
    return true;
}

/* Whether the current node is the element {XMLIO_NS}name. */
static bool
xmlio_is(xmlio_reader_t *r, const char *name)
{
    const xmlChar *ns = xmlTextReaderConstNamespaceUri(r->xr);

    return ns != NULL && xmlStrEqual(ns, BAD_CAST XMLIO_NS) &&
           xmlStrEqual(xmlTextReaderConstLocalName(r->xr), BAD_CAST name);
}

/* The current element's name for a message: "Foo", or "{ns}Foo" outside ours. */
static void
xmlio_describe(xmlio_reader_t *r, char *out, size_t cap)
{
    const char *ns = (const char *)xmlTextReaderConstNamespaceUri(r->xr);
    const char *name = (const char *)xmlTextReaderConstLocalName(r->xr);

    if (ns != NULL && strcmp(ns, XMLIO_NS) == 0)
        xmlio_format(out, cap, "%.100s", name != NULL ? name : "?");
    else
        xmlio_format(out, cap, "{%.60s}%.60s", ns != NULL ? ns : "", name != NULL ? name : "?");
}

/* Moves to the next element child of the open element at depth - 1:
 * ELEMENT on it, END at that element's end tag or the document's end, FAIL
 * on error. Comments, processing instructions and whitespace are passed
 * over; other text is an XSD error, as no envelope element has text. */
static xmlio_next_t
xmlio_next_child(xmlio_reader_t *r, int depth, kt_error_t *err)
{
    for (;;) {
        int ret = xmlio_read(r, err), type;
        if (ret < 0)
            return XMLIO_NEXT_FAIL;
        if (ret == 0)
            return XMLIO_NEXT_END;
        type = xmlTextReaderNodeType(r->xr);
        if (type == XML_READER_TYPE_ELEMENT && xmlTextReaderDepth(r->xr) == depth)
            return XMLIO_NEXT_ELEMENT;
        if (type == XML_READER_TYPE_END_ELEMENT && xmlTextReaderDepth(r->xr) == depth - 1)
            return XMLIO_NEXT_END;
        if ((type == XML_READER_TYPE_TEXT || type == XML_READER_TYPE_CDATA) &&
            !xmlio_blank(xmlTextReaderConstValue(r->xr))) {
            xmlio_fail(r, err, KT_XSD, "Строка %ld: текст вне элементов данных не допускается",
                       xmlio_line(r));
            return XMLIO_NEXT_FAIL;
        }
    }
}

/* "Строка N: ожидается Data" at an end, "…: элемент X, ожидается Data" at X. */
static bool
xmlio_fail_expected(xmlio_reader_t *r, xmlio_next_t at, const char *want, kt_error_t *err)
{
    char name[KT_ERROR_MESSAGE_MAX / 2];

    if (at != XMLIO_NEXT_ELEMENT)
        return xmlio_fail(r, err, KT_XSD, "Строка %ld: ожидается элемент %s", xmlio_line(r), want);
    xmlio_describe(r, name, sizeof name);
    return xmlio_fail(r, err, KT_XSD, "Строка %ld: элемент %s, а ожидается %s", xmlio_line(r), name,
                      want);
}

/* Copying (see the module comment for why not xmlTextReaderExpand). */

/* Adds n bytes to the size of the item being copied. */
static bool
xmlio_copy_count(xmlio_reader_t *r, xmlio_copy_t *c, size_t n, kt_error_t *err)
{
    c->bytes += n;
    if (c->bytes <= XMLIO_MAX_ITEM_BYTES)
        return true;
    return xmlio_fail(r, err, KT_PAYLOAD_TOO_LARGE, "Строка %ld: элемент пакета больше %u байт",
                      xmlio_line(r), XMLIO_MAX_ITEM_BYTES);
}

static bool
xmlio_check_text(xmlio_reader_t *r, size_t len, kt_error_t *err)
{
    if (len <= XMLIO_MAX_TEXT)
        return true;
    return xmlio_fail(r, err, KT_PAYLOAD_TOO_LARGE, "Строка %ld: текст или атрибут больше %d байт",
                      xmlio_line(r), XMLIO_MAX_TEXT);
}

/* The namespace uri in scope at node, declared on node when none is. An
 * attribute needs a prefixed one, looked up by its own prefix first
 * (xmlSearchNsByHref() would find the element's default); xml: is
 * predeclared. */
static xmlNsPtr
xmlio_copy_ns(xmlNodePtr node, const xmlChar *uri, const xmlChar *prefix, bool attr)
{
    xmlNsPtr ns;

    if (xmlStrEqual(uri, XML_XML_NAMESPACE))
        return xmlSearchNs(node->doc, node, BAD_CAST "xml");
    if (attr) {
        prefix = prefix != NULL ? prefix : BAD_CAST "a";
        ns = xmlSearchNs(node->doc, node, prefix);
        return ns != NULL && xmlStrEqual(ns->href, uri) ? ns : xmlNewNs(node, uri, prefix);
    }
    ns = xmlSearchNsByHref(node->doc, node, uri);
    return ns != NULL ? ns : xmlNewNs(node, uri, NULL);
}

/* Copies the attribute the reader is on to node. */
static bool
xmlio_copy_attribute(xmlio_reader_t *r, xmlio_copy_t *c, xmlNodePtr node, kt_error_t *err)
{
    const xmlChar *name = xmlTextReaderConstLocalName(r->xr);
    const xmlChar *value = xmlTextReaderConstValue(r->xr);
    const xmlChar *uri = xmlTextReaderConstNamespaceUri(r->xr);
    size_t len = value != NULL ? (size_t)xmlStrlen(value) : 0;
    xmlNsPtr ns = NULL;

    if (!xmlio_check_text(r, len, err) ||
        !xmlio_copy_count(r, c, len + (size_t)xmlStrlen(name) + 4, err))
        return false;
    if (uri != NULL) {
        ns = xmlio_copy_ns(node, uri, xmlTextReaderConstPrefix(r->xr), true);
        if (ns == NULL)
            return xmlio_fail_memory(r, err);
    }
    if (xmlNewNsProp(node, ns, name, value != NULL ? value : BAD_CAST "") == NULL)
        return xmlio_fail_memory(r, err);
    return true;
}

/* Copies the current element's attributes, namespace declarations aside
 * (the copy declares what it uses), and moves back to the element. */
static bool
xmlio_copy_attributes(xmlio_reader_t *r, xmlio_copy_t *c, xmlNodePtr node, kt_error_t *err)
{
    int more = xmlTextReaderMoveToFirstAttribute(r->xr);
    bool ok = true;

    while (ok && more == 1) {
        if (!xmlTextReaderIsNamespaceDecl(r->xr))
            ok = xmlio_copy_attribute(r, c, node, err);
        more = xmlTextReaderMoveToNextAttribute(r->xr);
    }
    xmlTextReaderMoveToElement(r->xr);
    if (ok && more < 0)
        return xmlio_fail_parse(r, err);
    return ok;
}

/* Whether an element's local name is Health or a member of the health
 * block: decided on the name alone, before the schema has a say, so that an
 * item that breaks the XSD still counts as carrying health data. */
static bool
xmlio_health_name(const xmlChar *name)
{
    const field_t *health = NULL;

    for (const field_t *f = student_root.child; f->type != FIELD_T_END; f++) {
        if (strcmp(f->name, "health") == 0)
            health = f;
    }
    if (health == NULL || xmlStrEqual(name, BAD_CAST health->xml))
        return health != NULL;
    for (const field_t *f = health->child; f->type != FIELD_T_END; f++) {
        if (xmlio_is_element(xmlio_xml_row(f)) && xmlStrEqual(name, BAD_CAST f->xml))
            return true;
    }
    return false;
}

/* Copies the reader's current element (name, namespace, attributes, line)
 * as the last child of c->cur, or as the root of c->doc. */
static xmlNodePtr
xmlio_copy_element(xmlio_reader_t *r, xmlio_copy_t *c, kt_error_t *err)
{
    const xmlChar *name = xmlTextReaderConstLocalName(r->xr);
    const xmlChar *uri = xmlTextReaderConstNamespaceUri(r->xr);
    long line = xmlio_line(r);
    xmlNodePtr node = xmlNewDocNode(c->doc, NULL, name, NULL);

    c->health = c->health || xmlio_health_name(name);
    if (node == NULL) {
        xmlio_fail_memory(r, err);
        return NULL;
    }
    if (c->cur == NULL)
        xmlDocSetRootElement(c->doc, node);
    else
        xmlAddChild(c->cur, node);
    node->_private = (void *)(uintptr_t)(line > 0 ? line : 0);
    node->line = (unsigned short)(line > 0 && line < XMLIO_SHORT_LINE_MAX ? line : 0);
    if (uri != NULL) {
        xmlNsPtr ns = xmlio_copy_ns(node, uri, NULL, false);
        if (ns == NULL) {
            xmlio_fail_memory(r, err);
            return NULL;
        }
        xmlSetNs(node, ns);
    }
    if (!xmlio_copy_count(r, c, 2 * (size_t)xmlStrlen(name) + 5, err) ||
        !xmlio_copy_attributes(r, c, node, err))
        return NULL;
    return node;
}

/* Copies the current element and opens it for its children, unless empty. */
static bool
xmlio_copy_open(xmlio_reader_t *r, xmlio_copy_t *c, kt_error_t *err)
{
    xmlNodePtr node = xmlio_copy_element(r, c, err);

    if (node == NULL)
        return false;
    if (!xmlTextReaderIsEmptyElement(r->xr))
        c->cur = node;
    return true;
}

static bool
xmlio_copy_text(xmlio_reader_t *r, xmlio_copy_t *c, kt_error_t *err)
{
    const xmlChar *value = xmlTextReaderConstValue(r->xr);
    size_t len = value != NULL ? (size_t)xmlStrlen(value) : 0;
    xmlNodePtr text;

    if (!xmlio_check_text(r, len, err) || !xmlio_copy_count(r, c, len, err))
        return false;
    text = xmlNewDocTextLen(c->doc, value, (int)len);
    if (text == NULL)
        return xmlio_fail_memory(r, err);
    /* Adjacent text (text, CDATA, text) merges into one node here. */
    if (xmlAddChild(c->cur, text) == NULL) {
        xmlFreeNode(text);
        return xmlio_fail_memory(r, err);
    }
    return true;
}

/* One node met inside the element being copied. */
static bool
xmlio_copy_node(xmlio_reader_t *r, xmlio_copy_t *c, kt_error_t *err)
{
    switch (xmlTextReaderNodeType(r->xr)) {
    case XML_READER_TYPE_ELEMENT:
        return xmlio_copy_open(r, c, err);
    case XML_READER_TYPE_END_ELEMENT:
        c->cur = c->cur->parent != NULL && c->cur->parent->type == XML_ELEMENT_NODE ? c->cur->parent
                                                                                    : NULL;
        return true;
    case XML_READER_TYPE_TEXT:
    case XML_READER_TYPE_CDATA:
    case XML_READER_TYPE_WHITESPACE:
    case XML_READER_TYPE_SIGNIFICANT_WHITESPACE:
        return xmlio_copy_text(r, c, err);
    default:
        return true; /* comments and processing instructions are not content */
    }
}

/* Copies the reader's current element and all inside it into c, reading up
 * to its end tag; c->cur is as before when done. */
static bool
xmlio_copy_subtree(xmlio_reader_t *r, xmlio_copy_t *c, kt_error_t *err)
{
    xmlNodePtr top = c->cur;

    if (!xmlio_copy_open(r, c, err))
        return false;
    while (c->cur != top) {
        int ret = xmlio_read(r, err);
        if (ret < 0)
            return false;
        if (ret == 0)
            return xmlio_fail_parse(r, err);
        if (!xmlio_copy_node(r, c, err))
            return false;
    }
    return true;
}

/* The envelope. */

/* A node's text, trimmed of XML whitespace, into out (cap bytes). */
static void
xmlio_copy_trimmed(char *out, size_t cap, const xmlNode *node)
{
    xmlChar *text = xmlNodeGetContent(node);
    const char *s = (const char *)text;
    size_t len;

    out[0] = '\0';
    if (text == NULL)
        return;
    while (xmlio_space(*s))
        s++;
    len = strlen(s);
    while (len > 0 && xmlio_space(s[len - 1]))
        len--;
    xmlio_format(out, cap, "%.*s", (int)(len < cap ? len : cap - 1), s);
    xmlFree(text);
}

static void
xmlio_header_fields(xmlDocPtr doc, xmlio_header_t *h)
{
    xmlNodePtr root = xmlDocGetRootElement(doc);
    xmlNodePtr header = root != NULL ? root->children : NULL;

    while (header != NULL && header->type != XML_ELEMENT_NODE)
        header = header->next;
    for (xmlNodePtr n = header != NULL ? header->children : NULL; n != NULL; n = n->next) {
        if (n->type != XML_ELEMENT_NODE)
            continue;
        if (xmlStrEqual(n->name, BAD_CAST "PacketID"))
            xmlio_copy_trimmed(h->packet_id, sizeof h->packet_id, n);
        else if (xmlStrEqual(n->name, BAD_CAST "SourceSystemID"))
            xmlio_copy_trimmed(h->source_system, sizeof h->source_system, n);
        else if (xmlStrEqual(n->name, BAD_CAST "Timestamp"))
            xmlio_copy_trimmed(h->timestamp, sizeof h->timestamp, n);
    }
}

/* Finds the root, which must be our Packet, and copies it without children. */
static bool
xmlio_root(xmlio_reader_t *r, xmlio_copy_t *c, kt_error_t *err)
{
    xmlio_next_t next = xmlio_next_child(r, 0, err);
    char name[KT_ERROR_MESSAGE_MAX / 2];
    xmlNodePtr root;

    if (next == XMLIO_NEXT_FAIL)
        return false;
    if (next == XMLIO_NEXT_END)
        return xmlio_fail(r, err, KT_MALFORMED, "В документе нет корневого элемента");
    if (!xmlio_is(r, "Packet")) {
        xmlio_describe(r, name, sizeof name);
        return xmlio_fail(r, err, KT_XSD,
                          "Строка %ld: корневой элемент %s, а ожидается Packet в пространстве "
                          "имён " XMLIO_NS,
                          xmlio_line(r), name);
    }
    root = xmlio_copy_element(r, c, err);
    if (root == NULL)
        return false;
    if (xmlTextReaderIsEmptyElement(r->xr))
        return xmlio_fail_expected(r, XMLIO_NEXT_END, "Header", err);
    c->cur = root;
    return true;
}

/* Copies the Header under the copied root, and an empty Data after it. */
static bool
xmlio_header_copy(xmlio_reader_t *r, xmlio_copy_t *c, kt_error_t *err)
{
    xmlio_next_t next = xmlio_next_child(r, 1, err);

    if (next == XMLIO_NEXT_FAIL)
        return false;
    if (next != XMLIO_NEXT_ELEMENT || !xmlio_is(r, "Header"))
        return xmlio_fail_expected(r, next, "Header", err);
    if (!xmlio_copy_subtree(r, c, err))
        return false;
    if (xmlNewChild(c->cur, c->cur->ns, BAD_CAST "Data", NULL) == NULL)
        return xmlio_fail_memory(r, err);
    return true;
}

static bool
xmlio_header_check(xmlio_reader_t *r, xmlDocPtr doc, kt_error_t *err)
{
    xmlio_vlog_t log;
    int ret;

    memset(&log, 0, sizeof log);
    log.root_xpath = "/Packet";
    ret = xmlio_validate(r, doc, &log);
    if (ret < 0)
        return xmlio_fail(r, err, KT_INTERNAL, "Заголовок пакета не удалось проверить по XSD");
    if (ret > 0)
        return xmlio_fail(r, err, KT_XSD, "%s", log.first);
    xmlio_header_fields(doc, &r->header);
    return true;
}

/* Reads and checks everything up to the end of the Header. */
static bool
xmlio_envelope(xmlio_reader_t *r, kt_error_t *err)
{
    xmlio_copy_t c = {0};
    bool ok = false;

    c.doc = xmlNewDoc(BAD_CAST "1.0");
    if (c.doc == NULL) {
        xmlio_fail_memory(r, err);
        goto done;
    }
    if (!xmlio_root(r, &c, err) || !xmlio_header_copy(r, &c, err) ||
        !xmlio_header_check(r, c.doc, err))
        goto done;
    r->state = XMLIO_AT_HEADER;
    ok = true;
done:
    xmlFreeDoc(c.doc);
    return ok;
}

/* Data has no attributes of its own; namespace declarations and xsi:
 * hints are what any element may carry. */
static bool
xmlio_data_attributes(xmlio_reader_t *r, kt_error_t *err)
{
    int more = xmlTextReaderMoveToFirstAttribute(r->xr);
    bool bad = false;

    while (!bad && more == 1) {
        const xmlChar *uri = xmlTextReaderConstNamespaceUri(r->xr);
        bad = !xmlTextReaderIsNamespaceDecl(r->xr) &&
              !(uri != NULL && xmlStrEqual(uri, BAD_CAST XMLIO_XSI_NS));
        more = xmlTextReaderMoveToNextAttribute(r->xr);
    }
    xmlTextReaderMoveToElement(r->xr);
    if (bad)
        return xmlio_fail(r, err, KT_XSD, "Строка %ld: у элемента Data не бывает атрибутов",
                          xmlio_line(r));
    return more < 0 ? xmlio_fail_parse(r, err) : true;
}

/* After Data only the end of Packet may come; then the document must end. */
static bool
xmlio_finish(xmlio_reader_t *r, kt_error_t *err)
{
    xmlio_next_t next = xmlio_next_child(r, 1, err);
    int ret;

    if (next == XMLIO_NEXT_FAIL)
        return false;
    if (next == XMLIO_NEXT_ELEMENT)
        return xmlio_fail(r, err, KT_XSD, "Строка %ld: после Data элементов быть не должно",
                          xmlio_line(r));
    while ((ret = xmlio_read(r, err)) > 0)
        continue;
    if (ret < 0)
        return false;
    r->state = XMLIO_AT_END;
    return true;
}

static bool
xmlio_enter_data(xmlio_reader_t *r, kt_error_t *err)
{
    xmlio_next_t next = xmlio_next_child(r, 1, err);

    if (next == XMLIO_NEXT_FAIL)
        return false;
    if (next != XMLIO_NEXT_ELEMENT || !xmlio_is(r, "Data"))
        return xmlio_fail_expected(r, next, "Data", err);
    if (!xmlio_data_attributes(r, err))
        return false;
    if (xmlTextReaderIsEmptyElement(r->xr))
        return xmlio_finish(r, err);
    r->state = XMLIO_IN_DATA;
    return true;
}

/* Items. */

static bool
xmlio_item_kind(xmlio_reader_t *r, xmlio_item_kind_t *kind, kt_error_t *err)
{
    char name[KT_ERROR_MESSAGE_MAX / 2];

    for (int k = 0; k < XMLIO_ITEM__MAX; k++) {
        if (xmlio_is(r, xmlio_item_names[k])) {
            *kind = (xmlio_item_kind_t)k;
            return true;
        }
    }
    xmlio_describe(r, name, sizeof name);
    return xmlio_fail(r, err, KT_XSD,
                      "Строка %ld: элемент %s, а в Data допускаются только Student, "
                      "DeleteStudent, Event и Organization",
                      xmlio_line(r), name);
}

/* Numbers the item and names its XPath. */
static bool
xmlio_item_begin(xmlio_reader_t *r, arena_t *arena, xmlio_item_kind_t kind, xmlio_item_t *item,
                 kt_error_t *err)
{
    if (r->items >= XMLIO_MAX_ITEMS)
        return xmlio_fail(r, err, KT_PAYLOAD_TOO_LARGE, "В пакете больше %d элементов",
                          XMLIO_MAX_ITEMS);
    item->kind = kind;
    item->index = ++r->items;
    r->count[kind]++;
    item->xpath =
        arena_printf(arena, "/Packet/Data/%s[%zu]", xmlio_item_names[kind], r->count[kind]);
    return item->xpath != NULL ? true : xmlio_fail_arena(r, err);
}

/* The attribute name of node copied into arena, or NULL when absent. */
static bool
xmlio_attr(arena_t *arena, const xmlNode *node, const char *name, const char **out)
{
    xmlChar *value = xmlGetNoNsProp(node, BAD_CAST name);

    *out = NULL;
    if (value == NULL)
        return true;
    *out = arena_strdup(arena, (const char *)value);
    xmlFree(value);
    return *out != NULL;
}

/* The item's identifying attributes, as given even when the item is invalid
 * (the receipt echoes localId). */
static bool
xmlio_item_attributes(xmlio_reader_t *r, arena_t *arena, const xmlNode *root, xmlio_item_t *item,
                      kt_error_t *err)
{
    bool event = item->kind == XMLIO_ITEM_EVENT;
    bool ok = xmlio_attr(arena, root, event ? "student" : "id", &item->id) &&
              xmlio_attr(arena, root, "localId", &item->local_id);

    if (ok && item->kind != XMLIO_ITEM_STUDENT)
        ok = xmlio_attr(arena, root, "reason", &item->reason);
    return ok ? true : xmlio_fail_arena(r, err);
}

/* Validates the copy; a schema error is the item's own (item->error). */
static bool
xmlio_item_check(xmlio_reader_t *r, arena_t *arena, xmlDocPtr doc, xmlio_item_t *item,
                 kt_error_t *err)
{
    xmlio_vlog_t log;
    int ret;

    memset(&log, 0, sizeof log);
    log.arena = arena;
    log.root_xpath = item->xpath;
    ret = xmlio_validate(r, doc, &log);
    if (ret < 0)
        return xmlio_fail(r, err, KT_INTERNAL, "Элемент %zu пакета не удалось проверить по XSD",
                          item->index);
    if (log.oom)
        return xmlio_fail_arena(r, err);
    if (ret > 0) {
        /* kt_error_set() empties the field list: it moves over after. */
        kt_error_set(&item->error, KT_DOMAIN_XML, KT_XSD, "%s", log.first);
        item->error.fields = log.fields.fields;
        item->error.nfields = log.fields.nfields;
    }
    return true;
}

static json_value_t *xmlio_record_tree(arena_t *arena, const xmlNode *root,
                                       const xmlio_shape_of_t *shape);

/* Reads the item the reader is on into item. */
static bool
xmlio_item(xmlio_reader_t *r, arena_t *arena, xmlio_item_t *item, kt_error_t *err)
{
    xmlio_copy_t c = {0};
    xmlNodePtr root;
    bool ok = false;

    c.doc = xmlNewDoc(BAD_CAST "1.0");
    if (c.doc == NULL) {
        xmlio_fail_memory(r, err);
        goto done;
    }
    if (!xmlio_copy_subtree(r, &c, err))
        goto done;
    item->health = c.health;
    root = xmlDocGetRootElement(c.doc);
    if (!xmlio_item_attributes(r, arena, root, item, err) ||
        !xmlio_item_check(r, arena, c.doc, item, err))
        goto done;
    if (item->kind == XMLIO_ITEM_STUDENT && item->error.code == KT_OK) {
        item->student = xmlio_record_tree(arena, root, &xmlio_item_shapes[XMLIO_ITEM_STUDENT]);
        if (item->student == NULL) {
            xmlio_fail_arena(r, err);
            goto done;
        }
    }
    if (item->kind == XMLIO_ITEM_EVENT && item->error.code == KT_OK) {
        item->event = xmlio_record_tree(arena, root, &xmlio_item_shapes[XMLIO_ITEM_EVENT]);
        if (item->event == NULL) {
            xmlio_fail_arena(r, err);
            goto done;
        }
    }
    if (item->kind == XMLIO_ITEM_ORGANIZATION && item->error.code == KT_OK) {
        item->organization =
            xmlio_record_tree(arena, root, &xmlio_item_shapes[XMLIO_ITEM_ORGANIZATION]);
        if (item->organization == NULL) {
            xmlio_fail_arena(r, err);
            goto done;
        }
    }
    ok = true;
done:
    xmlFreeDoc(c.doc);
    return ok;
}

static bool
xmlio_next_item(xmlio_reader_t *r, arena_t *arena, xmlio_item_t *item, kt_error_t *err)
{
    xmlio_next_t next = xmlio_next_child(r, 2, err);
    xmlio_item_kind_t kind = XMLIO_ITEM_STUDENT;

    if (next == XMLIO_NEXT_FAIL)
        return false;
    if (next == XMLIO_NEXT_END) {
        xmlio_finish(r, err); /* err stays KT_OK at a clean end */
        return false;
    }
    if (!xmlio_item_kind(r, &kind, err) || !xmlio_item_begin(r, arena, kind, item, err))
        return false;
    return xmlio_item(r, arena, item, err);
}

/* The record tree: XML → JSON by the field table. */

typedef struct {
    arena_t *arena;
    bool oom;
} xmlio_tree_t;

/* A node of type with a copy of len bytes of str (NULL: none). */
static json_value_t *
xmlio_tree_node(xmlio_tree_t *t, json_type_t type, const char *str, size_t len)
{
    json_value_t *v = arena_calloc(t->arena, 1, sizeof *v);

    if (v == NULL) {
        t->oom = true;
        return NULL;
    }
    v->type = type;
    if (str != NULL) {
        v->str = arena_strndup(t->arena, str, len);
        v->len = len;
        t->oom = t->oom || v->str == NULL;
    }
    return v;
}

/* Appends child to parent (an object, with key, or an array, key NULL);
 * does nothing when either is NULL after a failed allocation. */
static void
xmlio_tree_add(json_value_t *parent, const char *key, json_value_t *child)
{
    json_value_t **at;

    if (parent == NULL || child == NULL)
        return;
    child->key = key;
    child->key_len = key != NULL ? strlen(key) : 0;
    for (at = &parent->child; *at != NULL; at = &(*at)->next)
        continue;
    *at = child;
    parent->count++;
}

/* The next element child of parent named name after after (NULL: the first). */
static const xmlNode *
xmlio_child(const xmlNode *parent, const char *name, const xmlNode *after)
{
    const xmlNode *c = after != NULL ? after->next : parent->children;

    for (; c != NULL; c = c->next) {
        if (c->type == XML_ELEMENT_NODE && xmlStrEqual(c->name, BAD_CAST name))
            return c;
    }
    return NULL;
}

static json_value_t *
xmlio_tree_text(xmlio_tree_t *t, const xmlNode *elem)
{
    xmlChar *text = xmlNodeGetContent(elem);
    json_value_t *v;

    if (text == NULL) {
        t->oom = true;
        return NULL;
    }
    v = xmlio_tree_node(t, JSON_STRING, (const char *)text, (size_t)xmlStrlen(text));
    xmlFree(text);
    return v;
}

/* An INT's text as a number literal (the XSD allows only digits without
 * leading zeros), a BOOL's "true"/"false" as true/false. */
static json_value_t *
xmlio_tree_typed(xmlio_tree_t *t, const xmlNode *elem, bool number)
{
    json_value_t *v = xmlio_tree_text(t, elem);

    if (v != NULL && number)
        v->type = JSON_NUMBER;
    else if (v != NULL)
        v->type = strcmp(v->str, "true") == 0 ? JSON_TRUE : JSON_FALSE;
    return v;
}

/* Adds the attribute name of elem to obj as the member key. */
static void
xmlio_tree_attr(xmlio_tree_t *t, json_value_t *obj, const xmlNode *elem, const char *key,
                const char *name, json_type_t type)
{
    xmlChar *value = xmlGetNoNsProp(elem, BAD_CAST name);

    if (value == NULL)
        return;
    xmlio_tree_add(obj, key,
                   xmlio_tree_node(t, type, (const char *)value, (size_t)xmlStrlen(value)));
    xmlFree(value);
}

/* The members of table that are attributes of elem (they come first). */
static void
xmlio_tree_attrs(xmlio_tree_t *t, json_value_t *obj, const xmlNode *elem, const field_t *table)
{
    for (const field_t *f = table; f->type != FIELD_T_END; f++) {
        const field_t *x = xmlio_xml_row(f);
        if (xmlio_is_attribute(x))
            xmlio_tree_attr(t, obj, elem, f->name, x->xml + 1, JSON_STRING);
    }
}

static void xmlio_tree_members(xmlio_tree_t *t, json_value_t *obj, const xmlNode *elem,
                               const field_t *table);

static json_value_t *
xmlio_tree_object(xmlio_tree_t *t, const xmlNode *elem, const field_t *row)
{
    json_value_t *obj = xmlio_tree_node(t, JSON_OBJECT, NULL, 0);

    xmlio_tree_attrs(t, obj, elem, row->child);
    xmlio_tree_members(t, obj, elem, row->child);
    return obj;
}

static json_value_t *xmlio_tree_value(xmlio_tree_t *t, const xmlNode *elem, const field_t *row);

/* Every child of parent named name, converted by the item row, as an array. */
static json_value_t *
xmlio_tree_array(xmlio_tree_t *t, const xmlNode *parent, const char *name, const field_t *item)
{
    json_value_t *array = xmlio_tree_node(t, JSON_ARRAY, NULL, 0);

    for (const xmlNode *c = xmlio_child(parent, name, NULL); c != NULL;
         c = xmlio_child(parent, name, c))
        xmlio_tree_add(array, NULL, xmlio_tree_value(t, c, item));
    return array;
}

static json_value_t *
xmlio_tree_value(xmlio_tree_t *t, const xmlNode *elem, const field_t *row)
{
    switch (row->type) {
    case FIELD_T_STRING:
    case FIELD_T_ENUM:
        return xmlio_tree_text(t, elem);
    case FIELD_T_OBJECT:
        return xmlio_tree_object(t, elem, row);
    case FIELD_T_ARRAY:
        return xmlio_tree_array(t, elem, row->child->xml, row->child);
    case FIELD_T_INT:
        return xmlio_tree_typed(t, elem, true);
    case FIELD_T_BOOL:
        return xmlio_tree_typed(t, elem, false);
    default:
        return NULL;
    }
}

/* The members of obj from elem's children, in the order of table. An ARRAY
 * that repeats itself is a member only when at least one element is there. */
static void
xmlio_tree_members(xmlio_tree_t *t, json_value_t *obj, const xmlNode *elem, const field_t *table)
{
    for (const field_t *f = table; f->type != FIELD_T_END; f++) {
        const field_t *x = xmlio_xml_row(f);
        const xmlNode *child = xmlio_is_element(x) ? xmlio_child(elem, x->xml, NULL) : NULL;
        if (child == NULL)
            continue;
        if (xmlio_repeats_itself(x))
            xmlio_tree_add(obj, f->name, xmlio_tree_array(t, elem, x->xml, x->child));
        else
            xmlio_tree_add(obj, f->name, xmlio_tree_value(t, child, x));
    }
}

/* The record as its model's _from_json() takes it: the root's attributes
 * first (the table's, then the store's, version a number), as GET answers
 * them, then the fields. */
static json_value_t *
xmlio_record_tree(arena_t *arena, const xmlNode *root, const xmlio_shape_of_t *shape)
{
    xmlio_tree_t t = {arena, false};
    json_value_t *obj = xmlio_tree_node(&t, JSON_OBJECT, NULL, 0);

    xmlio_tree_attrs(&t, obj, root, shape->root->child);
    for (size_t i = 0; shape->attrs[i] != NULL; i++) {
        bool number = strcmp(shape->attrs[i], "version") == 0;
        xmlio_tree_attr(&t, obj, root, shape->attrs[i], shape->attrs[i],
                        number ? JSON_NUMBER : JSON_STRING);
    }
    xmlio_tree_members(&t, obj, root, shape->root->child);
    return t.oom ? NULL : obj;
}

/* JSON Pointer → XPath. */

/* Reads one pointer segment (up to '/' or the end) into seg; returns what
 * follows, or NULL when the segment is longer than any name we know. */
static const char *
xmlio_segment(const char *p, char *seg, size_t cap)
{
    size_t n = strcspn(p, "/");

    if (n >= cap)
        return NULL;
    memcpy(seg, p, n);
    seg[n] = '\0';
    return p + n;
}

/* An array index of a pointer: digits, no leading zero. */
static bool
xmlio_index(const char *seg, size_t *out)
{
    size_t v = 0;

    if (seg[0] == '\0' || (seg[0] == '0' && seg[1] != '\0'))
        return false;
    for (const char *p = seg; *p != '\0'; p++) {
        if (*p < '0' || *p > '9' || v >= XMLIO_INDEX_MAX)
            return false;
        v = v * 10 + (size_t)(*p - '0');
    }
    *out = v;
    return true;
}

/* The XML row of the member name of table, or NULL when it has none. */
static const field_t *
xmlio_member_row(const field_t *table, const char *name)
{
    for (const field_t *f = table; f != NULL && f->type != FIELD_T_END; f++) {
        if (strcmp(f->name, name) == 0)
            return xmlio_xml_row(f);
    }
    return NULL;
}

static bool
xmlio_is_root_attr(const char *const *attrs, const char *seg)
{
    for (size_t i = 0; attrs[i] != NULL; i++) {
        if (strcmp(attrs[i], seg) == 0)
            return true;
    }
    return false;
}

/* Where a pointer walk stands: the members of the current object (NULL at
 * a leaf), whether it is the record's root, and an ARRAY row whose index
 * comes next. */
typedef struct {
    const char *const *root_attrs;
    const field_t *rows;
    bool at_root;
    const field_t *pending;
    char *out;
    size_t cap, len;
} xmlio_walk_t;

static bool
xmlio_walk_index(xmlio_walk_t *w, const char *seg)
{
    const field_t *item = w->pending->child;
    size_t i;

    if (!xmlio_index(seg, &i))
        return false;
    w->pending = NULL;
    if (item->xml == NULL) {
        xmlio_append(w->out, w->cap, &w->len, "[%zu]", i + 1);
        w->rows = NULL;
        return true;
    }
    xmlio_append(w->out, w->cap, &w->len, "/%s[%zu]", item->xml, i + 1);
    w->rows = item->type == FIELD_T_OBJECT ? item->child : NULL;
    return true;
}

static bool
xmlio_walk_member(xmlio_walk_t *w, const char *seg)
{
    const field_t *x;

    /* The store's attributes (a student's id, version and state) are members. */
    if (w->at_root && xmlio_is_root_attr(w->root_attrs, seg)) {
        xmlio_append(w->out, w->cap, &w->len, "/@%s", seg);
        w->rows = NULL;
        return true;
    }
    w->at_root = false;
    x = xmlio_member_row(w->rows, seg);
    if (x == NULL)
        return false;
    xmlio_append(w->out, w->cap, &w->len, "/%s", x->xml);
    w->rows = x->type == FIELD_T_OBJECT && !xmlio_is_attribute(x) ? x->child : NULL;
    if (x->type == FIELD_T_ARRAY)
        w->pending = x;
    return true;
}

/* The path below the item for a pointer into the record; false for a
 * pointer the table does not know. */
static bool
xmlio_pointer_walk(const xmlio_shape_of_t *shape, const char *pointer, char *out, size_t cap)
{
    xmlio_walk_t w = {shape->attrs, shape->root->child, true, NULL, out, cap, 0};
    char seg[XMLIO_SEGMENT_MAX];

    out[0] = '\0';
    while (*pointer != '\0') {
        if (*pointer != '/' || (w.rows == NULL && w.pending == NULL))
            return false;
        pointer = xmlio_segment(pointer + 1, seg, sizeof seg);
        if (pointer == NULL)
            return false;
        if (w.pending != NULL ? !xmlio_walk_index(&w, seg) : !xmlio_walk_member(&w, seg))
            return false;
    }
    return true;
}

const char *
xmlio_pointer_to_xpath(arena_t *arena, const char *item_xpath, const char *pointer)
{
    /* The item's element, named by its XPath, says which table the pointer walks. */
    bool org = item_xpath != NULL && strncmp(item_xpath, "/Packet/Data/Organization[", 26) == 0;

    return xmlio_item_pointer_to_xpath(arena, org ? XMLIO_ITEM_ORGANIZATION : XMLIO_ITEM_STUDENT,
                                       item_xpath, pointer);
}

const char *
xmlio_item_pointer_to_xpath(arena_t *arena, xmlio_item_kind_t kind, const char *item_xpath,
                            const char *pointer)
{
    const xmlio_shape_of_t *shape =
        kind >= 0 && kind < XMLIO_ITEM__MAX ? &xmlio_item_shapes[kind] : NULL;
    char below[XMLIO_XPATH_MAX];
    const char *xpath;

    if (item_xpath == NULL)
        item_xpath = "";
    if (pointer == NULL || shape == NULL || shape->root == NULL ||
        !xmlio_pointer_walk(shape, pointer, below, sizeof below))
        return item_xpath;
    xpath = arena_printf(arena, "%s%s", item_xpath, below);
    return xpath != NULL ? xpath : item_xpath;
}

/* Writing: BSON of the store → XML by the field table. */

/* The document or array the iterator is at, as a bson_t over its bytes. */
static bool
xmlio_bson_sub(const bson_iter_t *it, bson_t *out)
{
    const uint8_t *data = NULL;
    uint32_t len = 0;

    if (BSON_ITER_HOLDS_DOCUMENT(it))
        bson_iter_document(it, &len, &data);
    else if (BSON_ITER_HOLDS_ARRAY(it))
        bson_iter_array(it, &len, &data);
    return data != NULL && bson_init_static(out, data, len);
}

/* A string member into *s (NULL when the member is no string); false for a
 * string that is not UTF-8 without NUL, which no XML can carry. */
static bool
xmlio_bson_string(const bson_iter_t *it, const char **s)
{
    uint32_t len = 0;

    *s = NULL;
    if (!BSON_ITER_HOLDS_UTF8(it))
        return true;
    *s = bson_iter_utf8(it, &len);
    return utf8_valid(*s, len);
}

static bool
xmlio_write_text(xmlTextWriterPtr w, const bson_iter_t *it, const char *name)
{
    const char *s;

    if (!xmlio_bson_string(it, &s))
        return false;
    return s == NULL || xmlTextWriterWriteElement(w, BAD_CAST name, BAD_CAST s) >= 0;
}

/* An integer or a boolean member as the element's text; other types are
 * not this row's and are left out, as strings of other rows are. */
static bool
xmlio_write_scalar(xmlTextWriterPtr w, const bson_iter_t *it, const char *name)
{
    char text[24];

    if (BSON_ITER_HOLDS_INT64(it) || BSON_ITER_HOLDS_INT32(it))
        snprintf(text, sizeof text, "%" PRId64,
                 BSON_ITER_HOLDS_INT64(it) ? bson_iter_int64(it) : bson_iter_int32(it));
    else if (BSON_ITER_HOLDS_BOOL(it))
        snprintf(text, sizeof text, "%s", bson_iter_bool(it) ? "true" : "false");
    else
        return true;
    return xmlTextWriterWriteElement(w, BAD_CAST name, BAD_CAST text) >= 0;
}

static bool xmlio_write_members(xmlTextWriterPtr w, const bson_t *doc, const field_t *table);

/* The member key of doc as the attribute name, when it is a string. */
static bool
xmlio_write_attr(xmlTextWriterPtr w, const bson_t *doc, const char *key, const char *name)
{
    bson_iter_t it;
    const char *value = NULL;

    if (!bson_iter_init_find(&it, doc, key))
        return true;
    if (!xmlio_bson_string(&it, &value))
        return false;
    return value == NULL || xmlTextWriterWriteAttribute(w, BAD_CAST name, BAD_CAST value) >= 0;
}

/* The members of table that are attributes (type, kind, category, ogrn). */
static bool
xmlio_write_attrs(xmlTextWriterPtr w, const bson_t *doc, const field_t *table)
{
    bool ok = true;

    for (const field_t *f = table; ok && f->type != FIELD_T_END; f++) {
        const field_t *x = xmlio_xml_row(f);
        if (xmlio_is_attribute(x))
            ok = xmlio_write_attr(w, doc, f->name, x->xml + 1);
    }
    return ok;
}

/* <Name attr="…">members</Name> from a sub-document. */
static bool
xmlio_write_object(xmlTextWriterPtr w, const bson_iter_t *it, const field_t *row)
{
    bson_t sub;

    if (!BSON_ITER_HOLDS_DOCUMENT(it) || !xmlio_bson_sub(it, &sub))
        return true;
    return xmlTextWriterStartElement(w, BAD_CAST row->xml) >= 0 &&
           xmlio_write_attrs(w, &sub, row->child) && xmlio_write_members(w, &sub, row->child) &&
           xmlTextWriterEndElement(w) >= 0;
}

/* The items of an array, each as the item row says; name is the element
 * of an item that is text. */
static bool
xmlio_write_items(xmlTextWriterPtr w, const bson_t *array, const field_t *item, const char *name)
{
    bson_iter_t it;
    bool ok = bson_iter_init(&it, array);

    while (ok && bson_iter_next(&it)) {
        if (item->type == FIELD_T_OBJECT)
            ok = xmlio_write_object(w, &it, item);
        else
            ok = xmlio_write_text(w, &it, name);
    }
    return ok;
}

static bool
xmlio_write_array(xmlTextWriterPtr w, const bson_iter_t *it, const field_t *row)
{
    bson_t array;

    /* An empty list is written as no element: Documents needs one item. */
    if (!BSON_ITER_HOLDS_ARRAY(it) || !xmlio_bson_sub(it, &array) || bson_count_keys(&array) == 0)
        return true;
    if (xmlio_repeats_itself(row))
        return xmlio_write_items(w, &array, row->child, row->xml);
    return xmlTextWriterStartElement(w, BAD_CAST row->xml) >= 0 &&
           xmlio_write_items(w, &array, row->child, row->child->xml) &&
           xmlTextWriterEndElement(w) >= 0;
}

/* The members of doc that table names as elements, in the table's order;
 * others (the store's own) are not part of the format. */
static bool
xmlio_write_members(xmlTextWriterPtr w, const bson_t *doc, const field_t *table)
{
    bool ok = true;

    for (const field_t *f = table; ok && f->type != FIELD_T_END; f++) {
        const field_t *x = xmlio_xml_row(f);
        bson_iter_t it;
        if (!xmlio_is_element(x) || !bson_iter_init_find(&it, doc, f->name))
            continue;
        if (x->type == FIELD_T_STRING || x->type == FIELD_T_ENUM)
            ok = xmlio_write_text(w, &it, x->xml);
        else if (x->type == FIELD_T_INT || x->type == FIELD_T_BOOL)
            ok = xmlio_write_scalar(w, &it, x->xml);
        else if (x->type == FIELD_T_OBJECT)
            ok = xmlio_write_object(w, &it, x);
        else if (x->type == FIELD_T_ARRAY)
            ok = xmlio_write_array(w, &it, x);
    }
    return ok;
}

static bool
xmlio_write_root(xmlTextWriterPtr w, const char *id, int64_t version, bool deleted,
                 const bson_t *doc)
{
    char number[24];
    /* xmlns as the first attribute: xmlTextWriterStartElementNS() would put it last. */
    bool ok = xmlTextWriterStartElement(w, BAD_CAST "Student") >= 0 &&
              xmlTextWriterWriteAttribute(w, BAD_CAST "xmlns", BAD_CAST XMLIO_NS) >= 0;

    if (ok && id != NULL)
        ok = utf8_valid(id, strlen(id)) &&
             xmlTextWriterWriteAttribute(w, BAD_CAST "id", BAD_CAST id) >= 0;
    if (ok && version > 0) {
        snprintf(number, sizeof number, "%" PRId64, version);
        ok = xmlTextWriterWriteAttribute(w, BAD_CAST "version", BAD_CAST number) >= 0;
    }
    if (ok)
        ok = xmlTextWriterWriteAttribute(w, BAD_CAST "state",
                                         BAD_CAST(deleted ? "DELETED" : "ACTIVE")) >= 0;
    return ok && xmlio_write_members(w, doc, student_root.child) && xmlTextWriterEndElement(w) >= 0;
}

bool
xmlio_write_organization(xmlTextWriterPtr w, int64_t version, const bson_t *doc)
{
    xmlio_global_t saved;
    bson_iter_t it;
    const char *ogrn = NULL;
    char number[24];
    bool ok;

    xmlio_global_enter(&saved, NULL);
    /* The ОГРН names the organisation: an attribute the XSD requires. */
    ok = bson_iter_init_find(&it, doc, "ogrn") && xmlio_bson_string(&it, &ogrn) && ogrn != NULL &&
         xmlTextWriterStartElement(w, BAD_CAST "Organization") >= 0 &&
         xmlTextWriterWriteAttribute(w, BAD_CAST "xmlns", BAD_CAST XMLIO_NS) >= 0 &&
         xmlio_write_attrs(w, doc, organization_root.child);
    if (ok && version > 0) {
        snprintf(number, sizeof number, "%" PRId64, version);
        ok = xmlTextWriterWriteAttribute(w, BAD_CAST "version", BAD_CAST number) >= 0;
    }
    ok = ok && xmlio_write_members(w, doc, organization_root.child) &&
         xmlTextWriterEndElement(w) >= 0;
    xmlio_global_leave(&saved);
    return ok;
}

bool
xmlio_write_student(xmlTextWriterPtr w, const char *id, int64_t version, bool deleted,
                    const bson_t *doc)
{
    xmlio_global_t saved;
    bool ok;

    xmlio_global_enter(&saved, NULL);
    ok = xmlio_write_root(w, id, version, deleted, doc);
    xmlio_global_leave(&saved);
    return ok;
}

/* The schema. */

static void
xmlio_on_schema_error(void *ctx, xmlio_xml_error_t *e)
{
    char *first = ctx;

    if (e != NULL && e->level >= XML_ERR_ERROR && first[0] == '\0')
        xmlio_clean(first, KT_ERROR_MESSAGE_MAX, e->message);
}

xmlio_schema_t *
xmlio_schema_load(const char *xsd_path, kt_error_t *err)
{
    char first[KT_ERROR_MESSAGE_MAX] = "";
    xmlSchemaParserCtxtPtr pctxt = NULL;
    xmlio_schema_t *schema = NULL;
    xmlSchemaPtr xsd = NULL;

    kt_error_clear(err);
    xmlInitParser();
    /* Checked first: libxml2 would print its I/O error rather than report it. */
    if (xsd_path == NULL || access(xsd_path, R_OK) != 0) {
        kt_error_set(err, KT_DOMAIN_XML, KT_INTERNAL, "XSD %.200s не читается: %s",
                     xsd_path != NULL ? xsd_path : "(null)", strerror(errno));
        goto done;
    }
    pctxt = xmlSchemaNewParserCtxt(xsd_path);
    if (pctxt != NULL) {
        xmlSchemaSetParserStructuredErrors(pctxt, xmlio_on_schema_error, first);
        xsd = xmlSchemaParse(pctxt);
    }
    schema = xsd != NULL ? calloc(1, sizeof *schema) : NULL;
    if (schema == NULL) {
        kt_error_set(err, KT_DOMAIN_XML, KT_INTERNAL, "XSD %.100s не загружена: %s", xsd_path,
                     first[0] != '\0' ? first : "нет памяти");
        xmlSchemaFree(xsd);
        goto done;
    }
    schema->xsd = xsd;
done:
    xmlSchemaFreeParserCtxt(pctxt);
    return schema;
}

void
xmlio_schema_free(xmlio_schema_t *schema)
{
    if (schema == NULL)
        return;
    xmlSchemaFree(schema->xsd);
    free(schema);
}

/* Readers. */

/* The index just past the first end at or after i (counting the lines
 * passed in *line), or len when there is none. */
static size_t
xmlio_skip_past(const char *p, size_t len, size_t i, const char *end, long *line)
{
    size_t n = strlen(end);

    for (; i + n <= len; i++) {
        if (memcmp(p + i, end, n) == 0)
            return i + n;
        *line += p[i] == '\n';
    }
    return len;
}

/* Whether a DOCTYPE comes in the prolog (after the XML declaration,
 * comments, processing instructions, whitespace), found in the bytes
 * before libxml2 parses any: a DTD is refused before any of its
 * declarations exists. ASCII-compatible encodings only (UTF-8,
 * windows-1251…); a UTF-16 document still meets the DOCTYPE check of
 * xmlio_read(). *line is the DOCTYPE's line. */
static bool
xmlio_prolog_doctype(const char *p, size_t len, long *line)
{
    size_t i = len >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0 ? 3 : 0;

    *line = 1;
    while (i < len) {
        if (xmlio_space(p[i])) {
            *line += p[i++] == '\n';
        } else if (len - i >= 2 && memcmp(p + i, "<?", 2) == 0) {
            i = xmlio_skip_past(p, len, i + 2, "?>", line);
        } else if (len - i >= 4 && memcmp(p + i, "<!--", 4) == 0) {
            i = xmlio_skip_past(p, len, i + 4, "-->", line);
        } else {
            /* In a prolog "<!" opens a comment or a DOCTYPE, nothing else. */
            return len - i >= 2 && memcmp(p + i, "<!", 2) == 0;
        }
    }
    return false;
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

/* The code unit's width and byte order from the document's first bytes. */
static void
xmlio_scan_detect(xmlio_scan_t *s, const unsigned char *p, size_t len)
{
    static const struct {
        unsigned char bytes[4];
        size_t n;
        unsigned width;
        bool big_endian;
    } marks[] = {
        {{0x00, 0x00, 0xfe, 0xff}, 4, 4, true},
        {{0xff, 0xfe, 0x00, 0x00}, 4, 4, false},
        {{0x00, 0x00, 0x00, 0x3c}, 4, 4, true},
        {{0x3c, 0x00, 0x00, 0x00}, 4, 4, false},
        {{0xfe, 0xff}, 2, 2, true},
        {{0xff, 0xfe}, 2, 2, false},
        {{0x00, 0x3c, 0x00, 0x3f}, 4, 2, true},
        {{0x3c, 0x00, 0x3f, 0x00}, 4, 2, false},
    };

    s->width = 1;
    s->line = 1;
    for (size_t i = 0; i < sizeof marks / sizeof *marks; i++) {
        if (len >= marks[i].n && memcmp(p, marks[i].bytes, marks[i].n) == 0) {
            s->width = marks[i].width;
            s->big_endian = marks[i].big_endian;
            return;
        }
    }
}

static const char xmlio_cdata_open[] = "CDATA["; /* after "<![" */

/* One character of markup: true, or false at the attribute past the bound. */
static bool
xmlio_scan_markup(xmlio_scan_t *s, uint32_t c)
{
    switch (s->state) {
    case XMLIO_SCAN_LT:
        s->attrs = s->run = 0;
        s->quote = 0;
        s->state = c == '!'   ? XMLIO_SCAN_BANG
                   : c == '?' ? XMLIO_SCAN_PI
                   : c == '/' ? XMLIO_SCAN_END_TAG
                   : c == '>' ? XMLIO_SCAN_TEXT
                              : XMLIO_SCAN_TAG;
        break;
    case XMLIO_SCAN_BANG:
        s->state = c == '-'   ? XMLIO_SCAN_BANG_DASH
                   : c == '[' ? XMLIO_SCAN_CDATA_OPEN
                   : c == '>' ? XMLIO_SCAN_TEXT
                              : XMLIO_SCAN_DECL;
        break;
    case XMLIO_SCAN_BANG_DASH:
        s->state = c == '-' ? XMLIO_SCAN_COMMENT : XMLIO_SCAN_DECL;
        break;
    case XMLIO_SCAN_CDATA_OPEN:
        if (c != (unsigned char)xmlio_cdata_open[s->run])
            s->state = XMLIO_SCAN_DECL;
        else if (++s->run == sizeof xmlio_cdata_open - 1)
            s->state = XMLIO_SCAN_CDATA;
        if (s->state != XMLIO_SCAN_CDATA_OPEN)
            s->run = 0;
        break;
    case XMLIO_SCAN_COMMENT:
    case XMLIO_SCAN_CDATA:
        if (c == '>' && s->run >= 2)
            s->state = XMLIO_SCAN_TEXT;
        else
            s->run = c == (s->state == XMLIO_SCAN_COMMENT ? '-' : ']') ? s->run + 1 : 0;
        break;
    case XMLIO_SCAN_PI:
        if (c == '>' && s->run > 0)
            s->state = XMLIO_SCAN_TEXT;
        else
            s->run = c == '?';
        break;
    case XMLIO_SCAN_DECL:
        if (s->quote != 0)
            s->quote = c == s->quote ? 0 : s->quote;
        else if (c == '"' || c == '\'')
            s->quote = c;
        else if (c == '[' || (c == ']' && s->run > 0))
            s->run += c == '[' ? 1 : -1u;
        else if (c == '>' && s->run == 0)
            s->state = XMLIO_SCAN_TEXT;
        break;
    case XMLIO_SCAN_END_TAG:
        if (c == '>')
            s->state = XMLIO_SCAN_TEXT;
        break;
    case XMLIO_SCAN_TAG:
        if (c == '"' || c == '\'') {
            s->quote = c;
            s->state = XMLIO_SCAN_VALUE;
        } else if (c == '>') {
            s->state = XMLIO_SCAN_TEXT;
        } else if (c == '=') {
            return ++s->attrs <= XMLIO_MAX_ATTRIBUTES;
        }
        break;
    case XMLIO_SCAN_VALUE:
        if (c == s->quote)
            s->state = XMLIO_SCAN_TAG;
        break;
    default:
        break;
    }
    return true;
}

/* One code unit (values past ASCII stand as 0x80: no markup is made of them). */
static bool
xmlio_scan_char(xmlio_scan_t *s, uint32_t c)
{
    if (c == '\n')
        s->line++;
    if (s->state != XMLIO_SCAN_TEXT)
        return xmlio_scan_markup(s, c);
    if (c == '<') {
        s->state = XMLIO_SCAN_LT;
        s->tag_line = s->line;
    }
    return true;
}

static uint32_t
xmlio_scan_unit(const xmlio_scan_t *s)
{
    uint32_t v = 0;

    for (unsigned k = 0; k < s->width; k++) {
        unsigned shift = 8 * (s->big_endian ? s->width - 1 - k : k);
        v |= (uint32_t)s->unit[k] << shift;
    }
    return v < 0x80 ? v : 0x80;
}

/* The byte a single-byte scan may jump to in its state (text up to '<', a
 * value up to its quote, an end tag up to '>'), or 0 when it reads on byte
 * by byte. */
static int
xmlio_scan_target(const xmlio_scan_t *s)
{
    switch (s->state) {
    case XMLIO_SCAN_TEXT:
        return '<';
    case XMLIO_SCAN_VALUE:
        return (int)s->quote;
    case XMLIO_SCAN_END_TAG:
        return '>';
    default:
        return 0;
    }
}

/* The index of the first byte c at or after i (len when none), counting
 * the lines passed: most of a package is text and values, passed at the
 * speed of memchr. */
static size_t
xmlio_scan_skip(xmlio_scan_t *s, const unsigned char *p, size_t i, size_t len, int c)
{
    const unsigned char *at = memchr(p + i, c, len - i);
    size_t end = at != NULL ? (size_t)(at - p) : len;

    for (const unsigned char *nl = memchr(p + i, '\n', end - i); nl != NULL;
         nl = memchr(nl + 1, '\n', (size_t)(p + end - nl - 1)))
        s->line++;
    return end;
}

/* Scans the next len bytes of the document; false when an element there
 * has more than XMLIO_MAX_ATTRIBUTES attributes (s->tag_line is its line). */
static bool
xmlio_scan_feed(xmlio_scan_t *s, const char *data, size_t len)
{
    const unsigned char *p = (const unsigned char *)data;

    if (s->width == 0)
        xmlio_scan_detect(s, p, len);
    for (size_t i = 0; i < len; i++) {
        if (s->width == 1) {
            int target = xmlio_scan_target(s);
            if (target != 0 && (i = xmlio_scan_skip(s, p, i, len, target)) == len)
                break;
            if (!xmlio_scan_char(s, p[i] < 0x80 ? p[i] : 0x80))
                return false;
            continue;
        }
        s->unit[s->nunit++] = p[i];
        if (s->nunit < s->width)
            continue;
        s->nunit = 0;
        if (!xmlio_scan_char(s, xmlio_scan_unit(s)))
            return false;
    }
    return true;
}

/* Fails the reader at once for an empty package or one with a DOCTYPE;
 * its first call then reports it. p holds the first len bytes. */
static void
xmlio_prescan(xmlio_reader_t *r, const char *p, size_t len)
{
    long line = 0;

    if (len == 0)
        xmlio_fail(r, NULL, KT_MALFORMED, "Пакет пуст");
    else if (xmlio_prolog_doctype(p, len, &line))
        xmlio_fail(r, NULL, KT_MALFORMED, "Строка %ld: DOCTYPE в пакете не допускается", line);
}

/* Fails the reader at once when an element of the len bytes at p has too
 * many attributes. */
static void
xmlio_prescan_attributes(xmlio_reader_t *r, const char *p, size_t len)
{
    xmlio_scan_t scan = {0};

    if (r->state != XMLIO_FAILED && !xmlio_scan_feed(&scan, p, len))
        xmlio_fail_attributes(r, NULL, scan.tag_line);
}

/* xmlio_prescan() over the first XMLIO_PROLOG_SCAN bytes of the file. */
static void
xmlio_prescan_fd(xmlio_reader_t *r)
{
    char *head = malloc(XMLIO_PROLOG_SCAN);
    ssize_t n = head != NULL ? pread(r->fd, head, XMLIO_PROLOG_SCAN, 0) : -1;

    if (n >= 0)
        xmlio_prescan(r, head, (size_t)n);
    free(head);
}

/* xmlio_prescan_attributes() over the whole file, a piece at a time. */
static void
xmlio_prescan_attributes_fd(xmlio_reader_t *r)
{
    char *piece = malloc(XMLIO_PROLOG_SCAN);
    xmlio_scan_t scan = {0};
    off_t at = 0;
    ssize_t n;

    if (piece == NULL)
        return; /* the reader's own check of each element still holds */
    while (r->state != XMLIO_FAILED && (n = pread(r->fd, piece, XMLIO_PROLOG_SCAN, at)) > 0) {
        if (!xmlio_scan_feed(&scan, piece, (size_t)n))
            xmlio_fail_attributes(r, NULL, scan.tag_line);
        at += n;
    }
    free(piece);
}

static xmlio_reader_t *
xmlio_reader_alloc(const xmlio_schema_t *schema, kt_error_t *err)
{
    xmlio_reader_t *r = NULL;

    kt_error_clear(err);
    if (schema == NULL)
        goto fail;
    r = calloc(1, sizeof *r);
    if (r == NULL)
        goto fail;
    r->fd = -1;
    r->vctxt = xmlSchemaNewValidCtxt(schema->xsd);
    if (r->vctxt == NULL)
        goto fail;
    xmlSchemaSetValidStructuredErrors(r->vctxt, xmlio_on_valid_error, r);
    return r;
fail:
    kt_error_set(err, KT_DOMAIN_XML, KT_INTERNAL, "Чтение XML не началось: %s",
                 schema == NULL ? "нет схемы" : "нет памяти");
    xmlio_reader_free(r);
    return NULL;
}

/* Makes a new xmlTextReader safe for input from anyone; frees r on failure.
 * The parser properties repeat what XMLIO_PARSE_OPTIONS leaves off, so a
 * changed libxml2 default cannot turn them on. */
static xmlio_reader_t *
xmlio_reader_setup(xmlio_reader_t *r, kt_error_t *err)
{
    static const int off[] = {XML_PARSER_LOADDTD, XML_PARSER_DEFAULTATTRS, XML_PARSER_VALIDATE,
                              XML_PARSER_SUBST_ENTITIES};
    bool ok = r->xr != NULL;

    if (ok)
        xmlTextReaderSetStructuredErrorHandler(r->xr, xmlio_on_parse_error, r);
    for (size_t i = 0; ok && i < sizeof off / sizeof *off; i++)
        ok = xmlTextReaderSetParserProp(r->xr, off[i], 0) == 0;
    if (ok)
        return r;
    kt_error_set(err, KT_DOMAIN_XML, KT_INTERNAL, "Чтение XML не началось");
    xmlio_reader_free(r);
    return NULL;
}

xmlio_reader_t *
xmlio_reader_new(const xmlio_schema_t *schema, const char *data, size_t len, kt_error_t *err)
{
    xmlio_global_t saved;
    xmlio_reader_t *r;

    if (len > INT32_MAX) {
        kt_error_set(err, KT_DOMAIN_XML, KT_PAYLOAD_TOO_LARGE, "Пакет больше 2 ГБ");
        return NULL;
    }
    r = xmlio_reader_alloc(schema, err);
    if (r == NULL)
        return NULL;
    xmlio_global_enter(&saved, r);
    r->xr = xmlReaderForMemory(data != NULL ? data : "", (int)len, NULL, NULL, XMLIO_PARSE_OPTIONS);
    xmlio_global_leave(&saved);
    r = xmlio_reader_setup(r, err);
    if (r != NULL)
        xmlio_prescan(r, data, len);
    if (r != NULL)
        xmlio_prescan_attributes(r, data, len);
    return r;
}

xmlio_reader_t *
xmlio_reader_new_file(const xmlio_schema_t *schema, const char *path, kt_error_t *err)
{
    xmlio_reader_t *r = xmlio_reader_alloc(schema, err);
    xmlio_global_t saved;

    if (r == NULL)
        return NULL;
    /* A descriptor, not xmlReaderForFile(): no gzip guessing, no entity loader. */
    r->fd = open(path, O_RDONLY | O_CLOEXEC);
    if (r->fd < 0) {
        kt_error_set(err, KT_DOMAIN_XML, KT_NOT_FOUND, "Файл %.200s не открыт: %s", path,
                     strerror(errno));
        xmlio_reader_free(r);
        return NULL;
    }
    xmlio_global_enter(&saved, r);
    r->xr = xmlReaderForFd(r->fd, path, NULL, XMLIO_PARSE_OPTIONS);
    xmlio_global_leave(&saved);
    r = xmlio_reader_setup(r, err);
    if (r != NULL)
        xmlio_prescan_fd(r);
    if (r != NULL)
        xmlio_prescan_attributes_fd(r);
    return r;
}

void
xmlio_reader_free(xmlio_reader_t *r)
{
    if (r == NULL)
        return;
    if (r->xr != NULL)
        xmlFreeTextReader(r->xr);
    if (r->vctxt != NULL)
        xmlSchemaFreeValidCtxt(r->vctxt);
    if (r->fd >= 0)
        close(r->fd);
    free(r);
}

bool
xmlio_reader_header(xmlio_reader_t *r, xmlio_header_t *header, kt_error_t *err)
{
    xmlio_global_t saved;
    bool ok = true;

    memset(header, 0, sizeof *header);
    kt_error_clear(err);
    if (r->state == XMLIO_FAILED)
        return xmlio_repeat(r, err);
    if (r->state == XMLIO_AT_START) {
        xmlio_global_enter(&saved, r);
        ok = xmlio_envelope(r, err);
        xmlio_global_leave(&saved);
    }
    if (ok)
        *header = r->header;
    return ok;
}

/* xmlio_reader_next() inside the global handler's routing. */
static bool
xmlio_next(xmlio_reader_t *r, arena_t *arena, xmlio_item_t *item, kt_error_t *err)
{
    if (r->state == XMLIO_AT_START && !xmlio_envelope(r, err))
        return false;
    if (r->state == XMLIO_AT_HEADER && !xmlio_enter_data(r, err))
        return false;
    if (r->state == XMLIO_IN_DATA)
        return xmlio_next_item(r, arena, item, err);
    if (r->state == XMLIO_FAILED)
        return xmlio_repeat(r, err);
    return false;
}

bool
xmlio_reader_next(xmlio_reader_t *r, arena_t *arena, xmlio_item_t *item, kt_error_t *err)
{
    xmlio_global_t saved;
    bool ok;

    memset(item, 0, sizeof *item);
    kt_error_clear(err);
    xmlio_global_enter(&saved, r);
    ok = xmlio_next(r, arena, item, err);
    xmlio_global_leave(&saved);
    return ok;
}
