/*
 * json: the strict parser, the tree writer and the streaming writer.
 *
 * The parser is a state machine over an explicit stack of open containers,
 * so a hostile document can exhaust its limits but never the C stack. Each
 * value is appended to its parent as soon as it starts; json_parse_step()
 * then decides, one byte of structure at a time, whether the innermost
 * container closes or takes another child. Duplicate keys are found when an
 * object closes, by sorting its members: O(n log n) whatever the keys are,
 * where an unkeyed hash table could be flooded with colliding keys.
 */
#include "core/json.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/utf8.h"

#define JSON_DEFAULT_DEPTH  64
#define JSON_DEFAULT_STRING ((size_t)1 << 20)
#define JSON_DEFAULT_NODES  1000000
#define JSON_STACK_FIRST    16

typedef struct {
    json_value_t *node; /* an open ARRAY or OBJECT */
    json_value_t *last; /* its last child so far, to append in O(1) */
} json_frame_t;

typedef struct {
    arena_t *arena;
    const char *text;
    size_t len;
    size_t pos;
    json_limits_t lim;
    size_t nodes;
    json_value_t *root;
    json_frame_t *stack;
    size_t depth;
    size_t stack_alloc;
    kt_error_t *err;
} json_parser_t;

/* Errors. Every message starts with the byte offset, so a client can find it. */

static bool
json_fail(json_parser_t *p, size_t at, const char *reason)
{
    kt_error_set(p->err, KT_DOMAIN_INPUT, KT_MALFORMED, "JSON at byte %zu: %s", at, reason);
    return false;
}

static bool
json_fail_limit(json_parser_t *p, size_t at, const char *what, size_t limit, const char *unit)
{
    kt_error_set(p->err, KT_DOMAIN_INPUT, KT_MALFORMED, "JSON at byte %zu: %s %zu%s", at, what,
                 limit, unit);
    return false;
}

/*
 * The arena is capped per request, so running out of it means the document
 * is too big for a request rather than that the server is broken.
 */
static bool
json_fail_memory(json_parser_t *p)
{
    kt_error_set(p->err, KT_DOMAIN_INPUT, KT_PAYLOAD_TOO_LARGE,
                 "JSON at byte %zu: the document needs more memory than a request may take",
                 p->pos);
    return false;
}

/* Reading bytes. */

static int
json_peek(const json_parser_t *p)
{
    return p->pos < p->len ? (unsigned char)p->text[p->pos] : -1;
}

static bool
json_is_digit(int c)
{
    return c >= '0' && c <= '9';
}

static void
json_skip_ws(json_parser_t *p)
{
    while (p->pos < p->len) {
        char c = p->text[p->pos];
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
            return;
        p->pos++;
    }
}

static bool
json_expect(json_parser_t *p, char c, const char *reason)
{
    json_skip_ws(p);
    if (json_peek(p) != (unsigned char)c)
        return json_fail(p, p->pos, reason);
    p->pos++;
    return true;
}

/* Strings. */

/* Finds the closing quote of the string whose opening quote is at p->pos. */
static bool
json_string_end(json_parser_t *p, size_t *end)
{
    size_t i = p->pos + 1;

    while (i < p->len && p->text[i] != '"')
        i += p->text[i] == '\\' ? 2 : 1;
    if (i >= p->len)
        return json_fail(p, p->pos, "unterminated string");
    *end = i;
    return true;
}

static size_t
json_utf8_encode(unsigned cp, char *out)
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xc0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xe0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        out[2] = (char)(0x80 | (cp & 0x3f));
        return 3;
    }
    out[0] = (char)(0xf0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
    out[3] = (char)(0x80 | (cp & 0x3f));
    return 4;
}

/* Reads the four hex digits of the \u escape whose backslash is at `at`. */
static bool
json_hex4(json_parser_t *p, size_t at, size_t end, unsigned *cp)
{
    *cp = 0;
    if (end - at < 6)
        return json_fail(p, at, "\\u escape without four hex digits");
    for (size_t i = at + 2; i < at + 6; i++) {
        char c = p->text[i];
        unsigned d;
        if (c >= '0' && c <= '9')
            d = (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f')
            d = (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            d = (unsigned)(c - 'A' + 10);
        else
            return json_fail(p, at, "\\u escape without four hex digits");
        *cp = (*cp << 4) | d;
    }
    return true;
}

static bool
json_is_u_escape(const json_parser_t *p, size_t at, size_t end)
{
    return end - at >= 2 && p->text[at] == '\\' && p->text[at + 1] == 'u';
}

/*
 * Decodes \uXXXX at *i, with its low half when it is a high surrogate, so
 * that what reaches the tree is always valid UTF-8 without NUL.
 */
static bool
json_decode_unicode(json_parser_t *p, size_t *i, size_t end, char *out, size_t *k)
{
    size_t at = *i;
    unsigned cp, lo;

    if (!json_hex4(p, at, end, &cp))
        return false;
    *i += 6;
    if (cp >= 0xdc00 && cp <= 0xdfff)
        return json_fail(p, at, "unpaired surrogate escape");
    if (cp >= 0xd800 && cp <= 0xdbff) {
        if (!json_is_u_escape(p, *i, end))
            return json_fail(p, at, "unpaired surrogate escape");
        if (!json_hex4(p, *i, end, &lo))
            return false;
        if (lo < 0xdc00 || lo > 0xdfff)
            return json_fail(p, at, "unpaired surrogate escape");
        cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
        *i += 6;
    }
    if (cp == 0)
        return json_fail(p, at, "\\u0000 is not allowed in a string");
    *k = json_utf8_encode(cp, out);
    return true;
}

static bool
json_decode_escape(json_parser_t *p, size_t *i, size_t end, char *out, size_t *k)
{
    static const char from[] = "\"\\/bfnrt";
    static const char to[] = "\"\\/\b\f\n\r\t";
    const char *hit = memchr(from, p->text[*i + 1], sizeof from - 1);

    if (hit != NULL) {
        out[0] = to[hit - from];
        *k = 1;
        *i += 2;
        return true;
    }
    if (p->text[*i + 1] != 'u')
        return json_fail(p, *i, "invalid escape");
    return json_decode_unicode(p, i, end, out, k);
}

/* Decodes one character at *i into out (up to 4 bytes), advancing *i. */
static bool
json_decode_char(json_parser_t *p, size_t *i, size_t end, char *out, size_t *k)
{
    unsigned char c = (unsigned char)p->text[*i];

    if (c == '\\')
        return json_decode_escape(p, i, end, out, k);
    if (c < 0x20)
        return json_fail(p, *i, "control character in a string");
    *k = c < 0x80 ? 1 : utf8_char_len(p->text + *i, end - *i);
    if (*k == 0)
        return json_fail(p, *i, "invalid UTF-8");
    memcpy(out, p->text + *i, *k);
    *i += *k;
    return true;
}

/*
 * Decodes the string at p->pos. No character decodes to more bytes than it
 * takes in the input, so the raw length (capped by the limit) is room enough.
 */
static bool
json_parse_string(json_parser_t *p, const char **str, size_t *len)
{
    size_t start = p->pos, end, i, n = 0;
    char *dst;

    if (!json_string_end(p, &end))
        return false;
    i = start + 1;
    dst = arena_alloc(p->arena, (end - i < p->lim.max_string ? end - i : p->lim.max_string) + 1);
    if (dst == NULL)
        return json_fail_memory(p);
    while (i < end) {
        char ch[4];
        size_t k;
        if (!json_decode_char(p, &i, end, ch, &k))
            return false;
        if (k > p->lim.max_string - n)
            return json_fail_limit(p, start, "string longer than", p->lim.max_string, " bytes");
        memcpy(dst + n, ch, k);
        n += k;
    }
    dst[n] = '\0';
    *str = dst;
    *len = n;
    p->pos = end + 1;
    return true;
}

/* Numbers and literals. */

static bool
json_skip_digits(json_parser_t *p)
{
    size_t start = p->pos;

    while (json_is_digit(json_peek(p)))
        p->pos++;
    return p->pos > start;
}

/* Checks the RFC 8259 number grammar and keeps the literal as written. */
static bool
json_parse_number(json_parser_t *p, json_value_t *v)
{
    size_t start = p->pos;

    if (json_peek(p) == '-')
        p->pos++;
    if (json_peek(p) == '0') {
        p->pos++;
        if (json_is_digit(json_peek(p)))
            return json_fail(p, p->pos - 1, "leading zero in a number");
    } else if (!json_skip_digits(p)) {
        return json_fail(p, p->pos, "expected a digit");
    }
    if (json_peek(p) == '.') {
        p->pos++;
        if (!json_skip_digits(p))
            return json_fail(p, p->pos, "expected a digit after the decimal point");
    }
    if (json_peek(p) == 'e' || json_peek(p) == 'E') {
        p->pos++;
        if (json_peek(p) == '+' || json_peek(p) == '-')
            p->pos++;
        if (!json_skip_digits(p))
            return json_fail(p, p->pos, "expected a digit in the exponent");
    }
    if (p->pos - start > p->lim.max_string)
        return json_fail_limit(p, start, "number longer than", p->lim.max_string, " bytes");
    v->len = p->pos - start;
    v->str = arena_strndup(p->arena, p->text + start, v->len);
    return v->str != NULL || json_fail_memory(p);
}

static bool
json_parse_literal(json_parser_t *p, json_type_t type)
{
    static const char *const words[JSON__MAX] = {
        [JSON_NULL] = "null", [JSON_FALSE] = "false", [JSON_TRUE] = "true"};
    size_t n = strlen(words[type]);

    if (p->len - p->pos < n || memcmp(p->text + p->pos, words[type], n) != 0)
        return json_fail(p, p->pos, "expected a value");
    p->pos += n;
    return true;
}

/* Values and containers. */

/* The type a value starting with c has, or JSON__MAX when none starts so. */
static json_type_t
json_type_at(const json_parser_t *p)
{
    int c = json_peek(p);

    switch (c) {
    case '{':
        return JSON_OBJECT;
    case '[':
        return JSON_ARRAY;
    case '"':
        return JSON_STRING;
    case 't':
        return JSON_TRUE;
    case 'f':
        return JSON_FALSE;
    case 'n':
        return JSON_NULL;
    default:
        return c == '-' || json_is_digit(c) ? JSON_NUMBER : JSON__MAX;
    }
}

static bool
json_fail_value(json_parser_t *p)
{
    if (p->pos >= p->len)
        return json_fail(p, p->pos, "unexpected end of input");
    if (json_peek(p) == '+')
        return json_fail(p, p->pos, "a number cannot start with '+'");
    return json_fail(p, p->pos, "expected a value");
}

static json_value_t *
json_node_new(json_parser_t *p, json_type_t type)
{
    json_value_t *v;

    if (p->nodes >= p->lim.max_nodes) {
        json_fail_limit(p, p->pos, "more values than", p->lim.max_nodes, "");
        return NULL;
    }
    v = arena_calloc(p->arena, 1, sizeof *v);
    if (v == NULL) {
        json_fail_memory(p);
        return NULL;
    }
    p->nodes++;
    v->type = type;
    v->offset = p->pos;
    return v;
}

/* Makes v the root, or the last child of the innermost open container. */
static void
json_attach(json_parser_t *p, json_value_t *v)
{
    json_frame_t *f;

    if (p->depth == 0) {
        p->root = v;
        return;
    }
    f = &p->stack[p->depth - 1];
    if (f->last == NULL)
        f->node->child = v;
    else
        f->last->next = v;
    f->last = v;
    f->node->count++;
}

/* Opens container v; the stack grows by doubling, up to the depth limit. */
static bool
json_push(json_parser_t *p, json_value_t *v)
{
    if (p->depth >= p->lim.max_depth)
        return json_fail_limit(p, v->offset, "nesting deeper than", p->lim.max_depth, "");
    if (p->depth == p->stack_alloc) {
        size_t n = p->stack_alloc ? p->stack_alloc * 2 : JSON_STACK_FIRST;
        json_frame_t *s = arena_calloc(p->arena, n, sizeof *s);
        if (s == NULL)
            return json_fail_memory(p);
        if (p->depth > 0)
            memcpy(s, p->stack, p->depth * sizeof *s);
        p->stack = s;
        p->stack_alloc = n;
    }
    p->stack[p->depth].node = v;
    p->stack[p->depth].last = NULL;
    p->depth++;
    return true;
}

/* Parses one value; a container is only opened, json_parse_step() fills it. */
static bool
json_parse_value(json_parser_t *p, const char *key, size_t key_len)
{
    json_value_t *v;
    json_type_t type;

    json_skip_ws(p);
    type = json_type_at(p);
    if (type == JSON__MAX)
        return json_fail_value(p);
    v = json_node_new(p, type);
    if (v == NULL)
        return false;
    v->key = key;
    v->key_len = key_len;
    json_attach(p, v);
    switch (type) {
    case JSON_ARRAY:
    case JSON_OBJECT:
        p->pos++;
        return json_push(p, v);
    case JSON_STRING:
        return json_parse_string(p, &v->str, &v->len);
    case JSON_NUMBER:
        return json_parse_number(p, v);
    default:
        return json_parse_literal(p, type);
    }
}

static bool
json_parse_member(json_parser_t *p)
{
    const char *key;
    size_t key_len;

    json_skip_ws(p);
    if (json_peek(p) != '"')
        return json_fail(p, p->pos, "expected a string key");
    if (!json_parse_string(p, &key, &key_len))
        return false;
    if (!json_expect(p, ':', "expected ':' after a key"))
        return false;
    return json_parse_value(p, key, key_len);
}

/* Orders members by key, then by position, so that repeats sit side by side. */
static int
json_member_cmp(const void *a, const void *b)
{
    const json_value_t *x = *(const json_value_t *const *)a;
    const json_value_t *y = *(const json_value_t *const *)b;
    int c;

    if (x->key_len != y->key_len)
        return x->key_len < y->key_len ? -1 : 1;
    c = memcmp(x->key, y->key, x->key_len);
    if (c != 0)
        return c;
    return (x->offset > y->offset) - (x->offset < y->offset);
}

static bool
json_same_key(const json_value_t *x, const json_value_t *y)
{
    return x->key_len == y->key_len && memcmp(x->key, y->key, x->key_len) == 0;
}

/*
 * Rejects an object that repeats a key. The offset reported is that of the
 * value of the first member, in document order, whose key came before.
 */
static bool
json_check_keys(json_parser_t *p, const json_value_t *obj)
{
    const json_value_t **m;
    size_t i = 0, first = SIZE_MAX;

    if (obj->count < 2)
        return true;
    m = arena_calloc(p->arena, obj->count, sizeof *m);
    if (m == NULL)
        return json_fail_memory(p);
    for (const json_value_t *v = obj->child; v != NULL; v = v->next)
        m[i++] = v;
    qsort(m, obj->count, sizeof *m, json_member_cmp);
    for (i = 1; i < obj->count; i++) {
        if (json_same_key(m[i - 1], m[i]) && m[i]->offset < first)
            first = m[i]->offset;
    }
    if (first != SIZE_MAX)
        return json_fail(p, first, "duplicate key");
    return true;
}

/*
 * One step inside the innermost open container: it either closes, or takes
 * its next child, which must follow a comma unless it is the first.
 */
static bool
json_parse_step(json_parser_t *p)
{
    json_value_t *node = p->stack[p->depth - 1].node;
    bool is_object = node->type == JSON_OBJECT;

    json_skip_ws(p);
    if (json_peek(p) == (is_object ? '}' : ']')) {
        p->pos++;
        p->depth--;
        return !is_object || json_check_keys(p, node);
    }
    if (node->count > 0 &&
        !json_expect(p, ',', is_object ? "expected ',' or '}'" : "expected ',' or ']'"))
        return false;
    return is_object ? json_parse_member(p) : json_parse_value(p, NULL, 0);
}

static void
json_parser_init(json_parser_t *p, arena_t *arena, const char *text, size_t len,
                 const json_limits_t *lim, kt_error_t *err)
{
    memset(p, 0, sizeof *p);
    p->arena = arena;
    p->text = text;
    p->len = len;
    p->err = err;
    p->lim.max_depth = lim != NULL && lim->max_depth ? lim->max_depth : JSON_DEFAULT_DEPTH;
    p->lim.max_string = lim != NULL && lim->max_string ? lim->max_string : JSON_DEFAULT_STRING;
    p->lim.max_nodes = lim != NULL && lim->max_nodes ? lim->max_nodes : JSON_DEFAULT_NODES;
}

bool
json_parse(arena_t *arena, const char *text, size_t len, const json_limits_t *lim,
           json_value_t **out, kt_error_t *err)
{
    json_parser_t p;
    bool ok = false;

    *out = NULL;
    json_parser_init(&p, arena, text, len, lim, err);
    if (!json_parse_value(&p, NULL, 0))
        goto done;
    while (p.depth > 0) {
        if (!json_parse_step(&p))
            goto done;
    }
    json_skip_ws(&p);
    if (p.pos != p.len) {
        json_fail(&p, p.pos, "unexpected bytes after the document");
        goto done;
    }
    *out = p.root;
    ok = true;
done:
    return ok;
}

/* Reading the tree. */

json_value_t *
json_get(const json_value_t *obj, const char *key)
{
    size_t len;

    if (obj == NULL || obj->type != JSON_OBJECT || key == NULL)
        return NULL;
    len = strlen(key);
    for (json_value_t *m = obj->child; m != NULL; m = m->next) {
        if (m->key_len == len && memcmp(m->key, key, len) == 0)
            return m;
    }
    return NULL;
}

/*
 * Accumulates the digits as a magnitude, which reaches 2^63 for INT64_MIN;
 * a '.', 'e' or 'E' is not a digit, so fractions and exponents fail.
 */
bool
json_as_int64(const json_value_t *v, int64_t *out)
{
    const char *s;
    bool negative;
    uint64_t mag = 0, limit;

    *out = 0;
    if (v == NULL || v->type != JSON_NUMBER || v->str == NULL || v->len == 0)
        return false;
    s = v->str;
    negative = s[0] == '-';
    limit = negative ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    for (size_t i = negative; i < v->len; i++) {
        unsigned d = (unsigned)(s[i] - '0');
        if (d > 9 || mag > (limit - d) / 10)
            return false;
        mag = mag * 10 + d;
    }
    if (v->len == (size_t)negative)
        return false;
    /* Subtracting one first keeps -2^63 inside int64 (and "-0" is plain 0). */
    *out = negative && mag > 0 ? -(int64_t)(mag - 1) - 1 : (int64_t)mag;
    return true;
}

/* Writing the tree. */

/* The containers json_write() has entered and not yet closed. */
typedef struct {
    const json_value_t **open;
    size_t depth;
    size_t alloc;
} json_wstack_t;

static bool
json_wstack_push(json_wstack_t *s, const json_value_t *v)
{
    if (s->depth == s->alloc) {
        size_t n = s->alloc ? s->alloc * 2 : JSON_STACK_FIRST;
        const json_value_t **open = realloc(s->open, n * sizeof *open);
        if (open == NULL)
            return false;
        s->open = open;
        s->alloc = n;
    }
    s->open[s->depth++] = v;
    return true;
}

static bool
json_is_container(const json_value_t *v)
{
    return v->type == JSON_ARRAY || v->type == JSON_OBJECT;
}

/* Writes the key of v when its parent is an object. */
static bool
json_write_key(buf_t *b, const json_wstack_t *s, const json_value_t *v)
{
    if (s->depth == 0 || s->open[s->depth - 1]->type != JSON_OBJECT)
        return true;
    return v->key != NULL && buf_json_string(b, v->key, v->key_len) && buf_putc(b, ':');
}

/* Writes a scalar, or the opening bracket of a container. */
static bool
json_write_head(buf_t *b, const json_value_t *v)
{
    switch (v->type) {
    case JSON_NULL:
        return buf_puts(b, "null");
    case JSON_FALSE:
        return buf_puts(b, "false");
    case JSON_TRUE:
        return buf_puts(b, "true");
    case JSON_NUMBER:
        return v->str != NULL && v->len > 0 && buf_append(b, v->str, v->len);
    case JSON_STRING:
        return v->str != NULL && buf_json_string(b, v->str, v->len);
    case JSON_ARRAY:
        return buf_putc(b, '[');
    case JSON_OBJECT:
        return buf_putc(b, '{');
    default:
        return false;
    }
}

static bool
json_write_tail(buf_t *b, const json_value_t *v)
{
    if (!json_is_container(v))
        return true;
    return buf_putc(b, v->type == JSON_ARRAY ? ']' : '}');
}

/*
 * Walks the tree without recursion: down into the first child, then along
 * the siblings, closing containers on the way back up.
 */
bool
json_write(buf_t *b, const json_value_t *v)
{
    json_wstack_t s = {0};
    bool ok = false;

    if (v == NULL)
        goto done;
    for (;;) {
        if (!json_write_key(b, &s, v) || !json_write_head(b, v))
            goto done;
        if (json_is_container(v) && v->child != NULL) {
            if (!json_wstack_push(&s, v))
                goto done;
            v = v->child;
            continue;
        }
        json_write_tail(b, v);
        while (s.depth > 0 && v->next == NULL) {
            v = s.open[--s.depth];
            json_write_tail(b, v);
        }
        if (s.depth == 0)
            break;
        if (!buf_putc(b, ','))
            goto done;
        v = v->next;
    }
    ok = !b->overflow;
done:
    free(s.open);
    return ok;
}

/* The streaming writer. */

void
jw_init(jw_t *w, buf_t *out)
{
    memset(w, 0, sizeof *w);
    w->out = out;
    w->failed = out == NULL;
}

/*
 * Places the comma a value needs, and refuses a value where none may go: a
 * second value at the top level. After a key the value needs nothing.
 */
static bool
jw_value_prefix(jw_t *w)
{
    if (w->failed)
        return false;
    if (w->after_key) {
        w->after_key = false;
        return true;
    }
    if (w->depth == 0 && w->need_comma[0]) {
        w->failed = true;
        return false;
    }
    if (w->need_comma[w->depth])
        buf_putc(w->out, ',');
    w->need_comma[w->depth] = true;
    return true;
}

static void
jw_begin(jw_t *w, char open)
{
    if (w->depth >= JW_MAX_DEPTH)
        w->failed = true;
    if (!jw_value_prefix(w))
        return;
    buf_putc(w->out, open);
    w->depth++;
    w->need_comma[w->depth] = false;
}

static void
jw_end(jw_t *w, char close)
{
    if (w->depth == 0 || w->after_key)
        w->failed = true;
    if (w->failed)
        return;
    buf_putc(w->out, close);
    w->depth--;
}

void
jw_object_begin(jw_t *w)
{
    jw_begin(w, '{');
}

void
jw_object_end(jw_t *w)
{
    jw_end(w, '}');
}

void
jw_array_begin(jw_t *w)
{
    jw_begin(w, '[');
}

void
jw_array_end(jw_t *w)
{
    jw_end(w, ']');
}

void
jw_key(jw_t *w, const char *key)
{
    if (key == NULL || w->depth == 0 || w->after_key)
        w->failed = true;
    if (w->failed)
        return;
    if (w->need_comma[w->depth])
        buf_putc(w->out, ',');
    w->need_comma[w->depth] = true;
    buf_json_string(w->out, key, strlen(key));
    buf_putc(w->out, ':');
    w->after_key = true;
}

void
jw_string(jw_t *w, const char *s)
{
    if (s == NULL)
        jw_null(w);
    else
        jw_string_n(w, s, strlen(s));
}

void
jw_string_n(jw_t *w, const char *s, size_t len)
{
    if (s == NULL) {
        jw_null(w);
        return;
    }
    if (jw_value_prefix(w))
        buf_json_string(w->out, s, len);
}

void
jw_int(jw_t *w, int64_t v)
{
    char num[24];
    int n = snprintf(num, sizeof num, "%" PRId64, v);

    if (jw_value_prefix(w))
        buf_append(w->out, num, (size_t)n);
}

/*
 * The shortest text that reads back as the same double. "%.17g" always
 * does; most values need far fewer digits ("0.1", not "0.10000000000000001").
 * Every precision is tried because fewer digits is not always fewer bytes:
 * 100 round-trips as "1e+02" at one digit but is "100" at three.
 */
static size_t
jw_format_double(char *num, size_t size, double v)
{
    char attempt[32];
    size_t best = 0;

    for (int prec = 1; prec <= 17; prec++) {
        int n = snprintf(attempt, sizeof attempt, "%.*g", prec, v);
        if (n <= 0 || (size_t)n >= sizeof attempt || (size_t)n >= size)
            continue;
        if ((best == 0 || (size_t)n < best) &&
            strtod(attempt, NULL) == v) { /* lint: allow (our own output) */
            memcpy(num, attempt, (size_t)n + 1);
            best = (size_t)n;
        }
    }
    return best;
}

void
jw_double(jw_t *w, double v)
{
    char num[32];
    size_t n;

    if (!isfinite(v)) {
        jw_null(w);
        return;
    }
    n = jw_format_double(num, sizeof num, v);
    if (jw_value_prefix(w))
        buf_append(w->out, num, n);
}

void
jw_bool(jw_t *w, bool v)
{
    if (jw_value_prefix(w))
        buf_puts(w->out, v ? "true" : "false");
}

void
jw_null(jw_t *w)
{
    if (jw_value_prefix(w))
        buf_puts(w->out, "null");
}

void
jw_raw(jw_t *w, const char *json, size_t len)
{
    if (json == NULL || len == 0)
        w->failed = true;
    if (jw_value_prefix(w))
        buf_append(w->out, json, len);
}

void
jw_value(jw_t *w, const json_value_t *v)
{
    if (v == NULL) {
        jw_null(w);
        return;
    }
    if (jw_value_prefix(w) && !json_write(w->out, v))
        w->failed = true;
}

bool
jw_ok(const jw_t *w)
{
    return !w->failed && w->out != NULL && !w->out->overflow && w->depth == 0 && !w->after_key;
}
