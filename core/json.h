/*
 * json: a strict RFC 8259 parser into an arena tree, and a streaming writer.
 *
 * The parser is the only door JSON request bodies come through. It rejects
 * what a lenient parser would let slip into the store: duplicate keys,
 * invalid UTF-8, lone surrogates, NUL characters in strings, trailing bytes,
 * numbers that are not JSON numbers, nesting deeper than the limit. Nothing
 * is interpreted (no MongoDB extended JSON): "$gt" is just a key.
 *
 * Every node lives in the arena given to json_parse(); nothing to free.
 */
#ifndef KT_JSON_H
#define KT_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/buf.h"
#include "core/error.h"

typedef enum {
    JSON_NULL = 0,
    JSON_FALSE,
    JSON_TRUE,
    JSON_NUMBER,
    JSON_STRING,
    JSON_ARRAY,
    JSON_OBJECT,
    JSON__MAX
} json_type_t;

typedef struct json_value json_value_t;

struct json_value {
    json_type_t type;
    /* STRING: the decoded UTF-8 bytes, NUL-terminated, no NUL inside.
     * NUMBER: the literal text exactly as written, NUL-terminated. */
    const char *str;
    size_t len;
    /* Member of an OBJECT: its key (decoded, NUL-terminated). NULL otherwise. */
    const char *key;
    size_t key_len;
    json_value_t *child; /* ARRAY/OBJECT: first element or member */
    json_value_t *next;  /* next sibling */
    size_t count;        /* ARRAY/OBJECT: number of children */
    size_t offset;       /* byte offset of the value in the input, for messages */
};

/* A value of 0 in any member means its default. */
typedef struct {
    size_t max_depth;  /* nesting of arrays/objects; 0 means 64 */
    size_t max_string; /* bytes of one decoded string or key, or of a number's literal;
                          0 means 1 MiB */
    size_t max_nodes;  /* values in the whole document (a member counts once); 0 means
                          1 000 000 */
} json_limits_t;

/*
 * Parses exactly len bytes of text (NUL bytes in it are just bytes). On
 * failure returns false, *out = NULL and err says KT_MALFORMED (status 400)
 * with a message "JSON at byte N: reason" ("duplicate key", "nesting deeper
 * than 64", ...). For a duplicate key, N is the offset of the value of the
 * first repeated member in document order. When the arena (capped per
 * request) runs out, err says KT_PAYLOAD_TOO_LARGE (413) instead.
 * Whitespace may surround the value; a byte order mark is not whitespace.
 * lim may be NULL for the defaults.
 */
bool json_parse(arena_t *arena, const char *text, size_t len, const json_limits_t *lim,
                json_value_t **out, kt_error_t *err);

/* The member named key of an OBJECT, or NULL (also when v is not an object). */
json_value_t *json_get(const json_value_t *obj, const char *key);

/* An integer NUMBER without fraction or exponent that fits int64. */
bool json_as_int64(const json_value_t *v, int64_t *out);

/*
 * Serialises v compactly (no spaces), object members in their stored order,
 * numbers as their literal. Strings are escaped by buf_json_string(), so the
 * output parses back to the same tree. Walks without recursion; returns
 * false when the buf overflows or the tree is not one json_parse() could
 * have built (a member without a key, a number without a literal).
 */
bool json_write(buf_t *b, const json_value_t *v);

/*
 * jw: a streaming writer that places the commas and colons itself.
 *   jw_t w; jw_init(&w, &buf);
 *   jw_object_begin(&w); jw_key(&w, "id"); jw_string(&w, id); jw_object_end(&w);
 *   if (!jw_ok(&w)) ...
 * Nesting up to JW_MAX_DEPTH; errors make jw_ok() false and nothing more is
 * written after them: buf overflow, nesting deeper than JW_MAX_DEPTH, a key at the top
 * level or twice in a row, an end without a begin or right after a key, a
 * second top-level value. jw_ok() is meant for the end: it is also false
 * while a container or a key is still open. The writer does not record
 * which kind of container is open, so a key inside an array, or a value
 * without a key inside an object, is the caller's to avoid.
 */
#define JW_MAX_DEPTH 64

typedef struct {
    buf_t *out;
    int depth;
    bool need_comma[JW_MAX_DEPTH + 1];
    bool after_key;
    bool failed;
} jw_t;

void jw_init(jw_t *w, buf_t *out);
void jw_object_begin(jw_t *w);
void jw_object_end(jw_t *w);
void jw_array_begin(jw_t *w);
void jw_array_end(jw_t *w);
void jw_key(jw_t *w, const char *key);
void jw_string(jw_t *w, const char *s); /* NULL writes null */
void jw_string_n(jw_t *w, const char *s, size_t len);
void jw_int(jw_t *w, int64_t v);
void jw_double(jw_t *w, double v); /* shortest round-tripping form; non-finite → null */
void jw_bool(jw_t *w, bool v);
void jw_null(jw_t *w);
/* Writes pre-serialised JSON as one value (trusted: the caller made it; empty fails). */
void jw_raw(jw_t *w, const char *json, size_t len);
/* Writes a parsed tree as one value (its depth does not count against JW_MAX_DEPTH);
 * NULL writes null. */
void jw_value(jw_t *w, const json_value_t *v);
bool jw_ok(const jw_t *w);

#endif
