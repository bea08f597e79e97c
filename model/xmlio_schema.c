/*
 * xmlio_schema: the XSD. Loading it once per worker, validating the copy
 * of an item or of the envelope with the reader's own context, and the
 * words of every error: libxml2's texts may quote values of a package, so
 * the messages are our own, picked by libxml2's error code (see the
 * message tables below); the XPath of the node at fault is built here.
 */
#include "model/xmlio_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/msg.h"
#include "core/utf8.h"
#include "model/student.h"

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

void
xmlio_vformat(char *out, size_t cap, const char *fmt, va_list ap)
{
    vsnprintf(out, cap, fmt, ap);
    xmlio_utf8_cut(out);
}

void __attribute__((format(printf, 3, 4))) xmlio_format(char *out, size_t cap, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    xmlio_vformat(out, cap, fmt, ap);
    va_end(ap);
}

void
xmlio_lformat(bool en, char *out, size_t cap, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    if (en)
        xmlio_vformat(out, cap, fmt, ap);
    else
        kt_msg_vformat_ru(out, cap, fmt, ap);
    va_end(ap);
}

/* libxml2's message on one line, without "{urn:kontingent:exchange:1}"
 * before each name, which tells the sender nothing. */
void
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
    {XML_SCHEMAV_CVC_ENUMERATION_VALID, "enumeration",
     "the value is not in the list of allowed ones"},
    {XML_SCHEMAV_CVC_PATTERN_VALID, "pattern", "the value does not match the pattern"},
    {XML_SCHEMAV_CVC_LENGTH_VALID, "length", "the value's length is not the required one"},
    {XML_SCHEMAV_CVC_MINLENGTH_VALID, "minLength", "the value is shorter than allowed"},
    {XML_SCHEMAV_CVC_MAXLENGTH_VALID, "maxLength", "the value is longer than allowed"},
    {XML_SCHEMAV_CVC_MININCLUSIVE_VALID, "minInclusive", "the value is below the minimum"},
    {XML_SCHEMAV_CVC_MAXINCLUSIVE_VALID, "maxInclusive", "the value is above the maximum"},
    {XML_SCHEMAV_CVC_MINEXCLUSIVE_VALID, "minExclusive", "the value is not above the lower bound"},
    {XML_SCHEMAV_CVC_MAXEXCLUSIVE_VALID, "maxExclusive", "the value is not below the upper bound"},
    {XML_SCHEMAV_CVC_TOTALDIGITS_VALID, "totalDigits", "the value has more digits than allowed"},
    {XML_SCHEMAV_CVC_FRACTIONDIGITS_VALID, "fractionDigits",
     "the fraction has more digits than allowed"},
    {XML_SCHEMAV_CVC_FACET_VALID, "facet", "the value breaks a restriction of its type"},
    {XML_SCHEMAV_FACET, "facet", "the value breaks a restriction of its type"},
    {XML_SCHEMAV_CVC_DATATYPE_VALID_1_2_1, "type", "the value does not match its type"},
    {XML_SCHEMAV_CVC_DATATYPE_VALID_1_2_2, "type", "the value does not match its type"},
    {XML_SCHEMAV_CVC_DATATYPE_VALID_1_2_3, "type", "the value does not match its type"},
    {XML_SCHEMAV_CVC_TYPE_3_1_1, "type", "an element of a simple type has no attributes"},
    {XML_SCHEMAV_CVC_TYPE_3_1_2, "type", "an element of a simple type has no child elements"},
    {XML_SCHEMAV_CVC_TYPE_1, "type", "the element's type is not found"},
    {XML_SCHEMAV_CVC_TYPE_2, "type", "the element's type is abstract"},
    {XML_SCHEMAV_VALUE, "type", "the value does not match its type"},
    {XML_SCHEMAV_CVC_ATTRIBUTE_3, "type", "the attribute's value does not match its type"},
    {XML_SCHEMAV_CVC_COMPLEX_TYPE_2_1, "content", "the element must be empty"},
    {XML_SCHEMAV_CVC_COMPLEX_TYPE_2_2, "content", "the element allows text only"},
    {XML_SCHEMAV_CVC_COMPLEX_TYPE_2_3, "content", "text is not allowed here"},
    {XML_SCHEMAV_CVC_COMPLEX_TYPE_2_4, "content",
     "the elements or their order differ from the schema"},
    {XML_SCHEMAV_ELEMENT_CONTENT, "content", "the elements or their order differ from the schema"},
    {XML_SCHEMAV_CVC_COMPLEX_TYPE_3_1, "attribute",
     "the attribute's value is not the one the schema fixes"},
    {XML_SCHEMAV_CVC_COMPLEX_TYPE_3_2_1, "attribute", "the element has no such attribute"},
    {XML_SCHEMAV_CVC_COMPLEX_TYPE_3_2_2, "attribute", "the element has no such attribute"},
    {XML_SCHEMAV_CVC_COMPLEX_TYPE_4, "attribute", "a required attribute is missing:"},
    {XML_SCHEMAV_CVC_COMPLEX_TYPE_5_1, "attribute", "more than one attribute of type ID"},
    {XML_SCHEMAV_CVC_COMPLEX_TYPE_5_2, "attribute", "more than one attribute of type ID"},
    {XML_SCHEMAV_CVC_AU, "attribute", "the attribute's value is not the one the schema fixes"},
    {XML_SCHEMAV_CVC_ATTRIBUTE_1, "attribute", "the attribute is not declared in the schema"},
    {XML_SCHEMAV_CVC_ATTRIBUTE_2, "attribute", "the attribute's type is not found"},
    {XML_SCHEMAV_CVC_ATTRIBUTE_4, "attribute",
     "the attribute's value is not the one the schema fixes"},
    {XML_SCHEMAV_CVC_ELT_1, "element", "the element is not declared in the schema"},
    {XML_SCHEMAV_CVC_ELT_2, "element", "the element is abstract"},
    {XML_SCHEMAV_CVC_ELT_3_1, "nillable", "xsi:nil is not allowed here"},
    {XML_SCHEMAV_CVC_ELT_3_2_1, "nillable", "an element with xsi:nil has no content"},
    {XML_SCHEMAV_CVC_ELT_3_2_2, "nillable", "an element with xsi:nil has no fixed value"},
    {XML_SCHEMAV_CVC_ELT_4_1, "type", "xsi:type does not match the schema"},
    {XML_SCHEMAV_CVC_ELT_4_2, "type", "xsi:type does not match the schema"},
    {XML_SCHEMAV_CVC_ELT_4_3, "type", "xsi:type does not match the schema"},
    {XML_SCHEMAV_CVC_ELT_5_1_1, "fixed", "the value does not match the one the schema fixes"},
    {XML_SCHEMAV_CVC_ELT_5_1_2, "fixed", "the value does not match the one the schema fixes"},
    {XML_SCHEMAV_CVC_ELT_5_2_1, "fixed", "the value does not match the one the schema fixes"},
    {XML_SCHEMAV_CVC_ELT_5_2_2_1, "fixed", "the value does not match the one the schema fixes"},
    {XML_SCHEMAV_CVC_ELT_5_2_2_2_1, "fixed", "the value is not the one the schema fixes"},
    {XML_SCHEMAV_CVC_ELT_5_2_2_2_2, "fixed", "the value is not the one the schema fixes"},
    {XML_SCHEMAV_CVC_ELT_6, "identity", "a uniqueness or key constraint is broken"},
    {XML_SCHEMAV_CVC_ELT_7, "identity", "a uniqueness or key constraint is broken"},
    {XML_SCHEMAV_CVC_IDC, "identity", "a uniqueness or key constraint is broken"},
    {XML_SCHEMAV_CVC_WILDCARD, "element", "the schema does not allow the element"},
    {XML_SCHEMAV_DOCUMENT_ELEMENT_MISSING, "element", "no root element"},
    {XML_SCHEMAV_NOROOT, "element", "no root element"},
    {XML_SCHEMAV_UNDECLAREDELEM, "element", "the element is not declared in the schema"},
    {XML_SCHEMAV_NOTTOPLEVEL, "element", "the element is not declared in the schema"},
};

static const xmlio_message_t xmlio_parse_messages[] = {
    {XML_ERR_NO_MEMORY, NULL, "out of memory"},
    {XML_ERR_DOCUMENT_EMPTY, NULL, "the document is empty"},
    {XML_ERR_DOCUMENT_END, NULL, "there is more data after the root element"},
    {XML_ERR_EXTRA_CONTENT, NULL, "there is more data after the root element"},
    {XML_ERR_INVALID_CHAR, NULL,
     "a character that is not allowed, or bytes not in the document's encoding"},
    {XML_ERR_INVALID_CHARREF, NULL, "a reference to a character that is not allowed"},
    {XML_ERR_INVALID_DEC_CHARREF, NULL, "a reference to a character that is not allowed"},
    {XML_ERR_INVALID_HEX_CHARREF, NULL, "a reference to a character that is not allowed"},
    {XML_ERR_UNKNOWN_ENCODING, NULL, "the document's encoding is not supported"},
    {XML_ERR_UNSUPPORTED_ENCODING, NULL, "the document's encoding is not supported"},
    {XML_ERR_INVALID_ENCODING, NULL, "the bytes do not match the document's encoding"},
    {XML_I18N_CONV_FAILED, NULL, "the bytes do not match the document's encoding"},
    {XML_ERR_TAG_NAME_MISMATCH, NULL, "the end tag does not match the start tag"},
    {XML_ERR_TAG_NOT_FINISHED, NULL, "an element is not closed (is the document cut short?)"},
    {XML_ERR_NOT_WELL_BALANCED, NULL, "the elements are not nested properly"},
    {XML_ERR_GT_REQUIRED, NULL, "a tag does not end with >"},
    {XML_ERR_NAME_REQUIRED, NULL, "a name is expected"},
    {XML_ERR_SPACE_REQUIRED, NULL, "a space is expected"},
    {XML_ERR_LT_IN_ATTRIBUTE, NULL, "a < in an attribute's value"},
    {XML_ERR_ATTRIBUTE_NOT_STARTED, NULL, "an attribute's value is not in quotes"},
    {XML_ERR_ATTRIBUTE_NOT_FINISHED, NULL, "an attribute's value is not closed"},
    {XML_ERR_ATTRIBUTE_WITHOUT_VALUE, NULL, "an attribute has no value"},
    {XML_ERR_ATTRIBUTE_REDEFINED, NULL, "an attribute is repeated"},
    {XML_NS_ERR_ATTRIBUTE_REDEFINED, NULL, "an attribute is repeated"},
    {XML_NS_ERR_UNDEFINED_NAMESPACE, NULL, "a namespace prefix is not declared"},
    {XML_NS_ERR_QNAME, NULL, "a malformed prefixed name"},
    {XML_ERR_UNDECLARED_ENTITY, NULL, "an entity reference"},
    {XML_ERR_ENTITYREF_SEMICOL_MISSING, NULL, "a & outside a character reference"},
    {XML_ERR_COMMENT_NOT_FINISHED, NULL, "a comment is not closed"},
    {XML_ERR_PI_NOT_FINISHED, NULL, "a processing instruction is not closed"},
    {XML_ERR_CDATA_NOT_FINISHED, NULL, "a CDATA section is not closed"},
    {XML_ERR_USER_STOP, NULL, "parsing stopped"},
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
xmlio_content_text(const char *msg, const char *fallback, bool en, char *out, size_t cap)
{
    const char *rest = xmlio_message_rest(msg);
    const char *what = fallback;
    char names[KT_ERROR_MESSAGE_MAX / 2];
    bool listed;

    if (strncmp(rest, "Missing child element", 21) == 0)
        what = "a child element is missing";
    else if (strncmp(rest, "This element is not expected", 28) == 0)
        what = "the element is not expected here";
    listed = xmlio_message_names(rest, "Expected is ( ", " )", names, sizeof names) ||
             xmlio_message_names(rest, "Expected is one of ( ", " )", names, sizeof names);
    if (listed)
        xmlio_lformat(en, out, cap, "%s, expected: %s", what, names);
    else
        xmlio_lformat(en, out, cap, "%s", what);
}

/* Our message for a schema error: "<text> (XSD: <rule>)", in English (en)
 * or Russian; msg is libxml2's, cleaned, read only for names that come from
 * the schema (element and attribute names, never values of the package). */
static void
xmlio_schema_text(int code, const char *msg, bool en, char *out, size_t cap)
{
    const xmlio_message_t *m = xmlio_message_find(
        xmlio_schema_messages, sizeof xmlio_schema_messages / sizeof *xmlio_schema_messages, code);
    char text[KT_ERROR_MESSAGE_MAX], name[XMLIO_SEGMENT_MAX];

    if (m == NULL) {
        xmlio_lformat(en, out, cap, "the XSD is violated (libxml2 error %d)", code);
        return;
    }
    if (strcmp(m->rule, "content") == 0)
        xmlio_content_text(msg, m->text, en, text, sizeof text);
    else if (code == XML_SCHEMAV_CVC_COMPLEX_TYPE_4 &&
             xmlio_message_names(xmlio_message_rest(msg), "The attribute '", "'", name,
                                 sizeof name))
        xmlio_lformat(en, text, sizeof text, "%s %s", m->text, name);
    else
        xmlio_lformat(en, text, sizeof text, "%s", m->text);
    xmlio_format(out, cap, "%s (XSD: %s)", text, m->rule);
}

const char *
xmlio_parse_key(int code)
{
    const xmlio_message_t *m = xmlio_message_find(
        xmlio_parse_messages, sizeof xmlio_parse_messages / sizeof *xmlio_parse_messages, code);

    return m != NULL ? m->text : NULL;
}

/* Appends to out (cap bytes, len used), truncating at a character. */
void __attribute__((format(printf, 4, 5)))
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

void
xmlio_on_valid_error(void *ctx, xmlio_xml_error_t *e)
{
    xmlio_reader_t *r = ctx;
    xmlio_vlog_t *log = r->vlog;
    char path[XMLIO_XPATH_MAX], msg[KT_ERROR_MESSAGE_MAX], attr[XMLIO_SEGMENT_MAX];
    char raw[KT_ERROR_MESSAGE_MAX], msg_ru[KT_ERROR_MESSAGE_MAX];
    char field[KT_ERROR_MESSAGE_MAX], field_ru[KT_ERROR_MESSAGE_MAX];
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
    xmlio_schema_text(e->code, raw, true, msg, sizeof msg);
    xmlio_schema_text(e->code, raw, false, msg_ru, sizeof msg_ru);
    if (log->count == 1) {
        xmlio_lformat(true, log->first, sizeof log->first, "Line %ld, %s: %s", line, path, msg);
        xmlio_lformat(false, log->first_ru, sizeof log->first_ru, "Line %ld, %s: %s", line, path,
                      msg_ru);
    }
    if (log->arena == NULL)
        return;
    xmlio_lformat(true, field, sizeof field, "Line %ld: %s", line, msg);
    xmlio_lformat(false, field_ru, sizeof field_ru, "Line %ld: %s", line, msg_ru);
    if (!kt_error_add_field2(&log->fields, log->arena, path, KT_XSD, field, field_ru))
        log->oom = true;
}

/* Validates doc; 0 valid, 1 not, -1 when libxml2 could not tell. */
int
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
        kt_error_set(err, KT_DOMAIN_XML, KT_INTERNAL, "XSD %.200s is not readable: %s",
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
        kt_error_set(err, KT_DOMAIN_XML, KT_INTERNAL, "XSD %.100s not loaded: %s", xsd_path,
                     first[0] != '\0' ? first : "out of memory");
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
