/*
 * xmlio_scan: the package's bytes read before libxml2 parses any of them,
 * for what must be refused before the parser spends work on it: a DOCTYPE
 * in the prolog (so no entity is ever declared) and an element with more
 * than XMLIO_MAX_ATTRIBUTES attributes (libxml2 compares a start tag's
 * attributes pairwise). Pure functions over bytes; the reader calls them.
 */
#include "model/xmlio_internal.h"

#include <string.h>

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
bool
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
bool
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
