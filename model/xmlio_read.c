/*
 * xmlio_read: packages in, students out, with libxml2 (see model/xmlio.h;
 * the parts of the module: model/xmlio_internal.h).
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
 */
#include "model/xmlio_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/msg.h"
#include "core/utf8.h"

/* Failing. */

static bool xmlio_fail_texts(xmlio_reader_t *r, kt_error_t *err, kt_code_t code, const char *en,
                             const char *ru);

/* Records a whole-package error: the reader stops, and every later call
 * repeats it. Returns false, for the caller to return. fmt is a text of the
 * catalogue (core/msg.h), formatted in both languages. */
static bool __attribute__((format(printf, 4, 5)))
xmlio_fail(xmlio_reader_t *r, kt_error_t *err, kt_code_t code, const char *fmt, ...)
{
    char en[KT_ERROR_MESSAGE_MAX], ru[KT_ERROR_MESSAGE_MAX];
    va_list ap;

    va_start(ap, fmt);
    xmlio_vformat(en, sizeof en, fmt, ap);
    va_end(ap);
    va_start(ap, fmt);
    kt_msg_vformat_ru(ru, sizeof ru, fmt, ap);
    va_end(ap);
    return xmlio_fail_texts(r, err, code, en, ru);
}

/* Fails with a message already formatted in both languages. */
static bool
xmlio_fail_texts(xmlio_reader_t *r, kt_error_t *err, kt_code_t code, const char *en, const char *ru)
{
    kt_error_set(&r->failure, KT_DOMAIN_XML, code, "%s", en);
    snprintf(r->failure.message_ru, sizeof r->failure.message_ru, "%s", ru);
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
    return xmlio_fail(r, err, KT_INTERNAL, "Not enough memory to parse the XML");
}

/* The request's arena is capped: running out of it is the package's fault. */
static bool
xmlio_fail_arena(xmlio_reader_t *r, kt_error_t *err)
{
    return xmlio_fail(r, err, KT_PAYLOAD_TOO_LARGE,
                      "Item %zu of the package does not fit in the request's memory", r->items);
}

/* An element with more attributes than XMLIO_MAX_ATTRIBUTES, at line. */
static bool
xmlio_fail_attributes(xmlio_reader_t *r, kt_error_t *err, long line)
{
    return xmlio_fail(r, err, KT_MALFORMED, "Line %ld: the element has more than %d attributes",
                      line, XMLIO_MAX_ATTRIBUTES);
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
    r->parse_code = e->code;
}

static bool
xmlio_fail_parse(xmlio_reader_t *r, kt_error_t *err)
{
    if (!r->parse_failed)
        return xmlio_fail(r, err, KT_MALFORMED, "Line %d: the XML could not be read",
                          xmlTextReaderGetParserLineNumber(r->xr));
    if (xmlio_parse_key(r->parse_code) == NULL)
        return xmlio_fail(r, err, KT_MALFORMED,
                          "Line %ld: the XML is not well-formed (libxml2 error %d)", r->parse_line,
                          r->parse_code);
    return xmlio_fail(r, err, KT_MALFORMED, "Line %ld: the XML is not well-formed: %s",
                      r->parse_line, xmlio_parse_key(r->parse_code));
}

static void
xmlio_on_generic_error(void *ctx, const char *fmt, ...)
{
    xmlio_reader_t *r = ctx;

    (void)fmt; /* its arguments may be bytes of the input: our own words instead */
    if (r == NULL || r->parse_failed)
        return;
    r->parse_failed = true;
    r->parse_line = xmlTextReaderGetParserLineNumber(r->xr);
    r->parse_code = XML_I18N_CONV_FAILED;
}

static void
xmlio_on_global_error(void *ctx, xmlio_xml_error_t *e)
{
    if (ctx != NULL)
        xmlio_on_parse_error(ctx, e);
}

void
xmlio_global_enter(xmlio_global_t *saved, xmlio_reader_t *r)
{
    saved->structured = xmlStructuredError;
    saved->structured_ctx = xmlStructuredErrorContext;
    saved->generic = xmlGenericError;
    saved->generic_ctx = xmlGenericErrorContext;
    xmlSetStructuredErrorFunc(r, xmlio_on_global_error);
    xmlSetGenericErrorFunc(r, xmlio_on_generic_error);
}

void
xmlio_global_leave(const xmlio_global_t *saved)
{
    xmlSetStructuredErrorFunc(saved->structured_ctx, saved->structured);
    xmlSetGenericErrorFunc(saved->generic_ctx, saved->generic);
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
        xmlio_fail(r, err, KT_MALFORMED, "Line %ld: a DOCTYPE is not allowed in a package",
                   xmlio_line(r));
        return -1;
    }
    if (type == XML_READER_TYPE_ENTITY_REFERENCE || type == XML_READER_TYPE_ENTITY ||
        type == XML_READER_TYPE_NOTATION) {
        xmlio_fail(r, err, KT_MALFORMED, "Line %ld: entities are not allowed in a package",
                   xmlio_line(r));
        return -1;
    }
    if (xmlTextReaderDepth(r->xr) > XMLIO_MAX_DEPTH) {
        xmlio_fail(r, err, KT_MALFORMED, "Line %ld: elements are nested deeper than %d",
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
            xmlio_fail(r, err, KT_XSD, "Line %ld: text outside the data elements is not allowed",
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
        return xmlio_fail(r, err, KT_XSD, "Line %ld: the element %s is expected", xmlio_line(r),
                          want);
    xmlio_describe(r, name, sizeof name);
    return xmlio_fail(r, err, KT_XSD, "Line %ld: element %s where %s is expected", xmlio_line(r),
                      name, want);
}

/* Copying (see the module comment for why not xmlTextReaderExpand). */

/* Adds n bytes to the size of the item being copied. */
static bool
xmlio_copy_count(xmlio_reader_t *r, xmlio_copy_t *c, size_t n, kt_error_t *err)
{
    c->bytes += n;
    if (c->bytes <= XMLIO_MAX_ITEM_BYTES)
        return true;
    return xmlio_fail(r, err, KT_PAYLOAD_TOO_LARGE,
                      "Line %ld: an item of the package is larger than %u bytes", xmlio_line(r),
                      XMLIO_MAX_ITEM_BYTES);
}

static bool
xmlio_check_text(xmlio_reader_t *r, size_t len, kt_error_t *err)
{
    if (len <= XMLIO_MAX_TEXT)
        return true;
    return xmlio_fail(r, err, KT_PAYLOAD_TOO_LARGE,
                      "Line %ld: a text or attribute is larger than %d bytes", xmlio_line(r),
                      XMLIO_MAX_TEXT);
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
        return xmlio_fail(r, err, KT_MALFORMED, "The document has no root element");
    if (!xmlio_is(r, "Packet")) {
        xmlio_describe(r, name, sizeof name);
        return xmlio_fail(r, err, KT_XSD,
                          "Line %ld: the root element is %s where Packet in the namespace "
                          "urn:kontingent:exchange:1 is expected",
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
        return xmlio_fail(r, err, KT_INTERNAL,
                          "The package's header could not be checked against the XSD");
    if (ret > 0)
        return xmlio_fail_texts(r, err, KT_XSD, log.first, log.first_ru);
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
        return xmlio_fail(r, err, KT_XSD, "Line %ld: the element Data has no attributes",
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
        return xmlio_fail(r, err, KT_XSD, "Line %ld: no elements may follow Data", xmlio_line(r));
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
                      "Line %ld: element %s, where Data allows only Student, "
                      "DeleteStudent, Event, Organization and Progress",
                      xmlio_line(r), name);
}

/* Numbers the item and names its XPath. */
static bool
xmlio_item_begin(xmlio_reader_t *r, arena_t *arena, xmlio_item_kind_t kind, xmlio_item_t *item,
                 kt_error_t *err)
{
    if (r->items >= XMLIO_MAX_ITEMS)
        return xmlio_fail(r, err, KT_PAYLOAD_TOO_LARGE, "The package has more than %d items",
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
    bool event = item->kind == XMLIO_ITEM_EVENT || item->kind == XMLIO_ITEM_PROGRESS;
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
        return xmlio_fail(r, err, KT_INTERNAL,
                          "Item %zu of the package could not be checked against the XSD",
                          item->index);
    if (log.oom)
        return xmlio_fail_arena(r, err);
    if (ret > 0) {
        /* kt_error_set() empties the field list: it moves over after. */
        kt_error_set(&item->error, KT_DOMAIN_XML, KT_XSD, "%s", log.first);
        snprintf(item->error.message_ru, sizeof item->error.message_ru, "%s", log.first_ru);
        item->error.fields = log.fields.fields;
        item->error.nfields = log.fields.nfields;
    }
    return true;
}

/* The item's record as its model's tree, when it has members and is valid
 * by the XSD; false when the arena is out of memory. */
static bool
xmlio_item_tree(arena_t *arena, const xmlNode *root, xmlio_item_t *item)
{
    const xmlio_shape_of_t *shape = &xmlio_item_shapes[item->kind];
    json_value_t *tree;

    if (shape->root == NULL || item->error.code != KT_OK)
        return true;
    tree = xmlio_record_tree(arena, root, shape);
    if (item->kind == XMLIO_ITEM_STUDENT)
        item->student = tree;
    else if (item->kind == XMLIO_ITEM_EVENT)
        item->event = tree;
    else if (item->kind == XMLIO_ITEM_PROGRESS)
        item->progress = tree;
    else
        item->organization = tree;
    return tree != NULL;
}

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
    if (!xmlio_item_tree(arena, root, item)) {
        xmlio_fail_arena(r, err);
        goto done;
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

/* Readers. */

/* Fails the reader at once for an empty package or one with a DOCTYPE;
 * its first call then reports it. p holds the first len bytes. */
static void
xmlio_prescan(xmlio_reader_t *r, const char *p, size_t len)
{
    long line = 0;

    if (len == 0)
        xmlio_fail(r, NULL, KT_MALFORMED, "The package is empty");
    else if (xmlio_prolog_doctype(p, len, &line))
        xmlio_fail(r, NULL, KT_MALFORMED, "Line %ld: a DOCTYPE is not allowed in a package", line);
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
    kt_error_set(err, KT_DOMAIN_XML, KT_INTERNAL, "Reading the XML did not start: %s",
                 schema == NULL ? "no schema" : "out of memory");
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
    kt_error_set(err, KT_DOMAIN_XML, KT_INTERNAL, "Reading the XML did not start");
    xmlio_reader_free(r);
    return NULL;
}
xmlio_reader_t *
xmlio_reader_new(const xmlio_schema_t *schema, const char *data, size_t len, kt_error_t *err)
{
    xmlio_global_t saved;
    xmlio_reader_t *r;

    if (len > INT32_MAX) {
        kt_error_set(err, KT_DOMAIN_XML, KT_PAYLOAD_TOO_LARGE, "The package is larger than 2 GB");
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
        kt_error_set(err, KT_DOMAIN_XML, KT_NOT_FOUND, "File %.200s not opened: %s", path,
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
