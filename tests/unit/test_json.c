/*
 * test_json: the strict parser (what it accepts, every rejection, limits),
 * json_get, json_as_int64, the tree writer and the streaming writer.
 */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "tests/unit/check.h"

/* Parses a NUL-terminated document that must be accepted. */
static json_value_t *
parse_ok(arena_t *a, const char *text)
{
    json_value_t *v = NULL;
    kt_error_t err;

    kt_error_clear(&err);
    if (!json_parse(a, text, strlen(text), NULL, &v, &err)) {
        fprintf(stderr, "unexpected rejection of %s: %s\n", text, err.message);
        return NULL;
    }
    return v;
}

/* Parses text, writes it compactly and compares with expect. */
static void
round_trip(const char *text, const char *expect)
{
    arena_t *a = arena_new(0);
    json_value_t *v = parse_ok(a, text);
    buf_t b;

    buf_init(&b, 0);
    CHECK(v != NULL);
    if (v != NULL) {
        CHECK(json_write(&b, v));
        CHECK_STR(b.data, expect);
    }
    buf_release(&b);
    arena_free(a);
}

static void
test_scalars(void)
{
    arena_t *a = arena_new(0);
    json_value_t *v;

    v = parse_ok(a, "null");
    CHECK(v != NULL && v->type == JSON_NULL && v->key == NULL && v->next == NULL);
    v = parse_ok(a, "true");
    CHECK(v != NULL && v->type == JSON_TRUE);
    v = parse_ok(a, "false");
    CHECK(v != NULL && v->type == JSON_FALSE);
    v = parse_ok(a, " \t\r\n 42 \n");
    CHECK(v != NULL && v->type == JSON_NUMBER);
    CHECK_STR(v ? v->str : NULL, "42");
    CHECK_INT(v ? v->len : 0, 2);
    CHECK_INT(v ? v->offset : 0, 5);
    v = parse_ok(a, "\"h\\u00e9llo\"");
    CHECK(v != NULL && v->type == JSON_STRING);
    CHECK_STR(v ? v->str : NULL, "h\xc3\xa9llo");
    CHECK_INT(v ? v->len : 0, 6);
    v = parse_ok(a, "\"\"");
    CHECK(v != NULL && v->type == JSON_STRING && v->len == 0);
    CHECK_STR(v ? v->str : NULL, "");
    arena_free(a);
}

static void
test_numbers_valid(void)
{
    static const char *const ok[] = {
        "0",     "-0",      "7",      "-7",     "10",    "1234567890",
        "0.5",   "-0.0",    "3.1415", "1e10",   "1E10",  "1e+10",
        "1e-10", "2.5E-3",  "0e0",    "-0E+00", "1.0e0", "99999999999999999999999999",
        "1e400", "-1e-400", "0.000"};
    arena_t *a = arena_new(0);

    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        json_value_t *v = parse_ok(a, ok[i]);
        CHECK(v != NULL && v->type == JSON_NUMBER);
        /* The literal is kept exactly as written, whatever a double makes of it. */
        CHECK_STR(v ? v->str : NULL, ok[i]);
        CHECK_INT(v ? v->len : 0, strlen(ok[i]));
    }
    arena_free(a);
}

static void
test_containers(void)
{
    arena_t *a = arena_new(0);
    json_value_t *v, *c;

    v = parse_ok(a, "[]");
    CHECK(v != NULL && v->type == JSON_ARRAY && v->count == 0 && v->child == NULL);
    v = parse_ok(a, "{}");
    CHECK(v != NULL && v->type == JSON_OBJECT && v->count == 0 && v->child == NULL);
    v = parse_ok(a, "[1, \"two\", [3], {\"four\": 4}, true, null]");
    CHECK(v != NULL && v->type == JSON_ARRAY && v->count == 6);
    c = v ? v->child : NULL;
    CHECK(c != NULL && c->type == JSON_NUMBER && c->key == NULL && c->offset == 1);
    c = c ? c->next : NULL;
    CHECK(c != NULL && c->type == JSON_STRING);
    CHECK_STR(c ? c->str : NULL, "two");
    c = c ? c->next : NULL;
    CHECK(c != NULL && c->type == JSON_ARRAY && c->count == 1 && c->child->type == JSON_NUMBER);
    c = c ? c->next : NULL;
    CHECK(c != NULL && c->type == JSON_OBJECT && c->count == 1);
    CHECK_STR(c && c->child ? c->child->key : NULL, "four");
    c = c ? c->next : NULL;
    CHECK(c != NULL && c->type == JSON_TRUE);
    c = c ? c->next : NULL;
    CHECK(c != NULL && c->type == JSON_NULL && c->next == NULL);
    arena_free(a);
}

static void
test_object_members(void)
{
    arena_t *a = arena_new(0);
    json_value_t *v = parse_ok(a, "{\"b\":1,\"a\":{\"x\":[]},\"\":\"empty key\"}");
    json_value_t *m;

    CHECK(v != NULL && v->count == 3);
    m = v ? v->child : NULL;
    CHECK_STR(m ? m->key : NULL, "b");
    CHECK_INT(m ? m->key_len : 0, 1);
    m = m ? m->next : NULL;
    CHECK_STR(m ? m->key : NULL, "a");
    CHECK(m != NULL && m->type == JSON_OBJECT && m->count == 1);
    CHECK_STR(m && m->child ? m->child->key : NULL, "x");
    m = m ? m->next : NULL;
    CHECK_STR(m ? m->key : NULL, "");
    CHECK_INT(m ? m->key_len : 1, 0);
    CHECK_STR(m ? m->str : NULL, "empty key");
    /* The same key in different objects is no duplicate. */
    CHECK(parse_ok(a, "{\"a\":1,\"b\":{\"a\":2},\"c\":[{\"a\":3},{\"a\":4}]}") != NULL);
    arena_free(a);
}

static void
test_nesting(void)
{
    arena_t *a = arena_new(0);
    json_value_t *v = parse_ok(a, "{\"a\":[{\"b\":[[{\"c\":null}]]}]}");
    json_value_t *c;

    CHECK(v != NULL);
    c = json_get(v, "a");
    CHECK(c != NULL && c->type == JSON_ARRAY);
    c = json_get(c ? c->child : NULL, "b");
    CHECK(c != NULL && c->type == JSON_ARRAY);
    c = c && c->child ? c->child->child : NULL;
    c = json_get(c, "c");
    CHECK(c != NULL && c->type == JSON_NULL);
    arena_free(a);
}

static void
test_string_escapes(void)
{
    arena_t *a = arena_new(0);
    json_value_t *v;

    v = parse_ok(a, "\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"");
    CHECK_STR(v ? v->str : NULL, "\"\\/\b\f\n\r\t");
    v = parse_ok(a, "\"\\u0041\\u00e9\\u20AC\\uffff\"");
    CHECK_STR(v ? v->str : NULL, "A\xc3\xa9\xe2\x82\xac\xef\xbf\xbf");
    /* U+1F600 as a surrogate pair, in either case of hex. */
    v = parse_ok(a, "\"\\ud83d\\ude00|\\uD83D\\uDE00\"");
    CHECK_STR(v ? v->str : NULL, "\xf0\x9f\x98\x80|\xf0\x9f\x98\x80");
    CHECK_INT(v ? v->len : 0, 9);
    /* The highest and lowest pairs: U+10000 and U+10FFFF. */
    v = parse_ok(a, "\"\\ud800\\udc00\\udbff\\udfff\"");
    CHECK_STR(v ? v->str : NULL, "\xf0\x90\x80\x80\xf4\x8f\xbf\xbf");
    /* Raw UTF-8 and DEL pass through untouched. */
    v = parse_ok(a, "\"\xd0\x9f\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82 \xf0\x9f\x98\x80 \x7f\"");
    CHECK_STR(v ? v->str : NULL,
              "\xd0\x9f\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82 \xf0\x9f\x98\x80 \x7f");
    /* Keys are decoded the same way. */
    v = parse_ok(a, "{\"\\u006b\\u0065\\u0079\":1}");
    CHECK(json_get(v, "key") != NULL);
    arena_free(a);
}

/* A document that must be rejected, where and why. */
typedef struct {
    const char *text;
    size_t len; /* 0: strlen(text) */
    size_t at;  /* the byte offset the message must name */
    const char *reason;
} reject_case_t;

static const reject_case_t reject_cases[] = {
    /* Structure. */
    {"", 0, 0, "unexpected end of input"},
    {"   ", 0, 3, "unexpected end of input"},
    {"[", 0, 1, "unexpected end of input"},
    {"[1", 0, 2, "expected ',' or ']'"},
    {"[1,", 0, 3, "unexpected end of input"},
    {"[1,]", 0, 3, "expected a value"},
    {"[,1]", 0, 1, "expected a value"},
    {"[1 2]", 0, 3, "expected ',' or ']'"},
    {"[}", 0, 1, "expected a value"},
    {"]", 0, 0, "expected a value"},
    {"{", 0, 1, "expected a string key"},
    {"{]", 0, 1, "expected a string key"},
    {"{\"a\"", 0, 4, "expected ':' after a key"},
    {"{\"a\" 1}", 0, 5, "expected ':' after a key"},
    {"{\"a\":", 0, 5, "unexpected end of input"},
    {"{\"a\":1,}", 0, 7, "expected a string key"},
    {"{\"a\":1 \"b\":2}", 0, 7, "expected ',' or '}'"},
    {"{,}", 0, 1, "expected a string key"},
    {"{1:2}", 0, 1, "expected a string key"},
    {"{'a':1}", 0, 1, "expected a string key"},
    {"{a:1}", 0, 1, "expected a string key"},
    /* Trailing bytes, comments, byte order marks, foreign whitespace. */
    {"1 2", 0, 2, "unexpected bytes after the document"},
    {"{} {}", 0, 3, "unexpected bytes after the document"},
    {"{}x", 0, 2, "unexpected bytes after the document"},
    {"{}\0", 3, 2, "unexpected bytes after the document"},
    {"nulll", 0, 4, "unexpected bytes after the document"},
    {"\xef\xbb\xbf{}", 0, 0, "expected a value"},
    {"/* c */ {}", 0, 0, "expected a value"},
    {"{} // c", 0, 3, "unexpected bytes after the document"},
    {"\v1", 0, 0, "expected a value"},
    {"\f1", 0, 0, "expected a value"},
    {"1\xc2\xa0", 0, 1, "unexpected bytes after the document"},
    /* Literals. */
    {"tru", 0, 0, "expected a value"},
    {"True", 0, 0, "expected a value"},
    {"nul", 0, 0, "expected a value"},
    {"fals", 0, 0, "expected a value"},
    {"undefined", 0, 0, "expected a value"},
    {"NaN", 0, 0, "expected a value"},
    {"Infinity", 0, 0, "expected a value"},
    {"-Infinity", 0, 1, "expected a digit"},
    {"[nan]", 0, 1, "expected a value"},
    /* Numbers. */
    {"01", 0, 0, "leading zero in a number"},
    {"-01", 0, 1, "leading zero in a number"},
    {"00", 0, 0, "leading zero in a number"},
    {"[0.5, 007]", 0, 6, "leading zero in a number"},
    {"+1", 0, 0, "a number cannot start with '+'"},
    {"[+0]", 0, 1, "a number cannot start with '+'"},
    {"-", 0, 1, "expected a digit"},
    {"- 1", 0, 1, "expected a digit"},
    {"--1", 0, 1, "expected a digit"},
    {".5", 0, 0, "expected a value"},
    {"1.", 0, 2, "expected a digit after the decimal point"},
    {"1.e5", 0, 2, "expected a digit after the decimal point"},
    {"1e", 0, 2, "expected a digit in the exponent"},
    {"1e+", 0, 3, "expected a digit in the exponent"},
    {"1E-x", 0, 3, "expected a digit in the exponent"},
    {"0x10", 0, 1, "unexpected bytes after the document"},
    {"1_000", 0, 1, "unexpected bytes after the document"},
    {"1.5.2", 0, 3, "unexpected bytes after the document"},
    /* Strings: termination, escapes, control characters. */
    {"\"abc", 0, 0, "unterminated string"},
    {"\"abc\\\"", 0, 0, "unterminated string"},
    {"[\"a]", 0, 1, "unterminated string"},
    {"\"\\x\"", 0, 1, "invalid escape"},
    {"\"\\'\"", 0, 1, "invalid escape"},
    {"\"\\U0041\"", 0, 1, "invalid escape"},
    {"\"\\u12\"", 0, 1, "\\u escape without four hex digits"},
    {"\"\\u12G4\"", 0, 1, "\\u escape without four hex digits"},
    {"\"ab\\u 123\"", 0, 3, "\\u escape without four hex digits"},
    {"\"a\x01\"", 0, 2, "control character in a string"},
    {"\"a\nb\"", 0, 2, "control character in a string"},
    {"\"\tx\"", 0, 1, "control character in a string"},
    {"\"\x1f\"", 0, 1, "control character in a string"},
    {"\"a\0b\"", 5, 2, "control character in a string"},
    {"{\"k\0\":1}", 8, 3, "control character in a string"},
    {"\"\\u0000\"", 0, 1, "\\u0000 is not allowed in a string"},
    {"{\"a\\u0000\":1}", 0, 3, "\\u0000 is not allowed in a string"},
    /* Surrogate escapes that do not pair. */
    {"\"\\ud800\"", 0, 1, "unpaired surrogate escape"},
    {"\"\\udbff x\"", 0, 1, "unpaired surrogate escape"},
    {"\"\\ud800\\u0041\"", 0, 1, "unpaired surrogate escape"},
    {"\"\\ud800\\ud800\"", 0, 1, "unpaired surrogate escape"},
    {"\"\\ud800\\n\"", 0, 1, "unpaired surrogate escape"},
    {"\"\\ud800\\u12\"", 0, 7, "\\u escape without four hex digits"},
    {"\"\\udc00\"", 0, 1, "unpaired surrogate escape"},
    {"\"x\\udfff\\ud800\"", 0, 2, "unpaired surrogate escape"},
    /* Invalid UTF-8 in strings and keys. */
    {"\"\xff\"", 0, 1, "invalid UTF-8"},
    {"\"\x80\"", 0, 1, "invalid UTF-8"},
    {"\"ab\xc3\"", 0, 3, "invalid UTF-8"},
    {"\"\xe2\x82\"", 0, 1, "invalid UTF-8"},
    {"\"\xc0\xaf\"", 0, 1, "invalid UTF-8"},
    {"\"\xe0\x80\xaf\"", 0, 1, "invalid UTF-8"},
    {"\"\xed\xa0\x80\"", 0, 1, "invalid UTF-8"},
    {"\"\xf4\x90\x80\x80\"", 0, 1, "invalid UTF-8"},
    {"\"\xf8\x88\x80\x80\x80\"", 0, 1, "invalid UTF-8"},
    {"{\"k\xfe\":1}", 0, 3, "invalid UTF-8"},
    /* Duplicate keys, also when the escapes differ or other members are between. */
    {"{\"a\":1,\"a\":2}", 0, 11, "duplicate key"},
    {"{\"a\":1,\"\\u0061\":2}", 0, 16, "duplicate key"},
    {"{\"a\":1,\"b\":2,\"c\":3,\"b\":4,\"a\":5}", 0, 23, "duplicate key"},
    {"[{\"x\":{\"\":1,\"\":2}}]", 0, 15, "duplicate key"},
    {"{\"$gt\":1,\"$gt\":1}", 0, 15, "duplicate key"},
};

static void
check_reject(const reject_case_t *rc)
{
    arena_t *a = arena_new(0);
    json_value_t *v = (json_value_t *)&v; /* anything but NULL, to see it cleared */
    size_t len = rc->len ? rc->len : strlen(rc->text);
    kt_error_t err;
    char want[64];

    kt_error_clear(&err);
    CHECK(!json_parse(a, rc->text, len, NULL, &v, &err));
    CHECK(v == NULL);
    CHECK_INT(err.code, KT_MALFORMED);
    CHECK_INT(err.domain, KT_DOMAIN_INPUT);
    CHECK_INT(err.status, 400);
    snprintf(want, sizeof want, "JSON at byte %zu: %s", rc->at, rc->reason);
    CHECK_STR(err.message, want);
    arena_free(a);
}

static void
test_rejections(void)
{
    for (size_t i = 0; i < sizeof reject_cases / sizeof reject_cases[0]; i++) {
        int before = check_failures_in_test;
        check_reject(&reject_cases[i]);
        if (check_failures_in_test != before)
            fprintf(stderr, "  in reject case %zu: \"%s\"\n", i, reject_cases[i].text);
    }
}

/* Also a NULL error pointer must be fine: the error is simply not reported. */
static void
test_reject_without_err(void)
{
    arena_t *a = arena_new(0);
    json_value_t *v = NULL;

    CHECK(!json_parse(a, "[1,]", 4, NULL, &v, NULL));
    CHECK(v == NULL);
    CHECK(json_parse(a, "[1]", 3, NULL, &v, NULL));
    CHECK(v != NULL);
    arena_free(a);
}

/* Exactly len bytes are read: what lies beyond is not looked at. */
static void
test_length_not_nul(void)
{
    arena_t *a = arena_new(0);
    json_value_t *v = NULL;
    kt_error_t err;

    CHECK(json_parse(a, "[1]garbage", 3, NULL, &v, &err));
    CHECK(v != NULL && v->count == 1);
    CHECK(json_parse(a, "\"ab\"cd", 4, NULL, &v, &err));
    CHECK_STR(v ? v->str : NULL, "ab");
    CHECK(!json_parse(a, "\"ab\"", 3, NULL, &v, &err));
    CHECK_STR(err.message, "JSON at byte 0: unterminated string");
    CHECK(!json_parse(a, "true", 3, NULL, &v, &err));
    CHECK(!json_parse(a, NULL, 0, NULL, &v, &err));
    CHECK(v == NULL);
    arena_free(a);
}

/* Builds n nested arrays: "[[[...]]]". */
static char *
nested_arrays(size_t n)
{
    char *s = malloc(2 * n + 1);

    memset(s, '[', n);
    memset(s + n, ']', n);
    s[2 * n] = '\0';
    return s;
}

static bool
parse_with(const char *text, size_t max_depth, size_t max_string, size_t max_nodes, kt_error_t *err)
{
    arena_t *a = arena_new(0);
    json_limits_t lim = {max_depth, max_string, max_nodes};
    json_value_t *v = NULL;
    bool ok;

    kt_error_clear(err);
    ok = json_parse(a, text, strlen(text), &lim, &v, err);
    CHECK(ok == (v != NULL));
    arena_free(a);
    return ok;
}

static void
test_limit_depth(void)
{
    char *at = nested_arrays(64), *over = nested_arrays(65), *deep = nested_arrays(100000);
    kt_error_t err;

    CHECK(parse_with(at, 0, 0, 0, &err));
    CHECK(!parse_with(over, 0, 0, 0, &err));
    CHECK_STR(err.message, "JSON at byte 64: nesting deeper than 64");
    CHECK_INT(err.code, KT_MALFORMED);
    /* Far deeper than any C stack would take recursively; the limit bounds it. */
    CHECK(!parse_with(deep, 0, 0, 0, &err));
    CHECK(parse_with(deep, 100000, 0, 0, &err));
    CHECK(!parse_with(deep, 99999, 0, 0, &err));
    CHECK(parse_with("{\"a\":{\"b\":[1]}}", 3, 0, 0, &err));
    CHECK(!parse_with("{\"a\":{\"b\":[[]]}}", 3, 0, 0, &err));
    CHECK_STR(err.message, "JSON at byte 11: nesting deeper than 3");
    /* Scalars do not nest. */
    CHECK(parse_with("[\"x\", 1, null]", 1, 0, 0, &err));
    free(at);
    free(over);
    free(deep);
}

static void
test_limit_string(void)
{
    kt_error_t err;

    CHECK(parse_with("[\"abcd\"]", 0, 4, 0, &err));
    CHECK(!parse_with("[\"abcde\"]", 0, 4, 0, &err));
    CHECK_STR(err.message, "JSON at byte 1: string longer than 4 bytes");
    CHECK(parse_with("{\"abcd\":1}", 0, 4, 0, &err));
    CHECK(!parse_with("{\"abcde\":1}", 0, 4, 0, &err));
    CHECK_STR(err.message, "JSON at byte 1: string longer than 4 bytes");
    /* The limit counts decoded bytes: six escape bytes can be one byte, or two. */
    CHECK(parse_with("\"\\u0041\"", 0, 1, 0, &err));
    CHECK(!parse_with("\"\\u00e9\"", 0, 1, 0, &err));
    CHECK(parse_with("\"\\ud83d\\ude00\"", 0, 4, 0, &err));
    CHECK(!parse_with("\"\\ud83d\\ude00\"", 0, 3, 0, &err));
    CHECK(!parse_with("\"\xc3\xa9\"", 0, 1, 0, &err));
    /* Number literals are held to it too. */
    CHECK(parse_with("-1.5", 0, 4, 0, &err));
    CHECK(!parse_with("-1.55", 0, 4, 0, &err));
    CHECK_STR(err.message, "JSON at byte 0: number longer than 4 bytes");
}

static void
test_limit_nodes(void)
{
    kt_error_t err;

    /* An array and its two elements are three values; a member is one. */
    CHECK(parse_with("[1,2]", 0, 0, 3, &err));
    CHECK(!parse_with("[1,2]", 0, 0, 2, &err));
    CHECK_STR(err.message, "JSON at byte 3: more values than 2");
    CHECK(parse_with("{\"a\":{\"b\":null}}", 0, 0, 3, &err));
    CHECK(!parse_with("{\"a\":{\"b\":null}}", 0, 0, 2, &err));
    CHECK(parse_with("7", 0, 0, 1, &err));
}

/* A capped arena that runs out is a request too large, not a malformed one. */
static void
test_arena_exhausted(void)
{
    arena_t *a = arena_new(64 * 1024);
    size_t n = 20000;
    char *text = malloc(2 * n + 2);
    json_value_t *v = (json_value_t *)&v;
    kt_error_t err;

    text[0] = '[';
    for (size_t i = 0; i < n; i++) {
        text[1 + 2 * i] = '0';
        text[2 + 2 * i] = ',';
    }
    text[2 * n] = ']';
    CHECK(!json_parse(a, text, 2 * n + 1, NULL, &v, &err));
    CHECK(v == NULL);
    CHECK_INT(err.code, KT_PAYLOAD_TOO_LARGE);
    CHECK_INT(err.status, 413);
    CHECK(strncmp(err.message, "JSON at byte ", 13) == 0);
    arena_free(a);
    free(text);
}

/* Many members: duplicates are still found, wherever they are. */
static void
test_many_keys(void)
{
    arena_t *a = arena_new(0);
    buf_t b;
    json_value_t *v = NULL;
    kt_error_t err;

    buf_init(&b, 0);
    buf_putc(&b, '{');
    for (int i = 0; i < 5000; i++)
        buf_printf(&b, "%s\"k%d\":%d", i ? "," : "", (i * 7919) % 5000, i);
    buf_putc(&b, '}');
    CHECK(json_parse(a, b.data, b.len, NULL, &v, &err));
    CHECK(v != NULL && v->count == 5000);
    CHECK(json_get(v, "k4999") != NULL);
    b.len--;
    buf_puts(&b, ",\"k1234\":0}");
    CHECK(!json_parse(a, b.data, b.len, NULL, &v, &err));
    CHECK(v == NULL);
    CHECK(strstr(err.message, "duplicate key") != NULL);
    buf_release(&b);
    arena_free(a);
}

static void
test_get(void)
{
    arena_t *a = arena_new(0);
    json_value_t *v = parse_ok(a, "{\"ab\":1,\"a\":2,\"abc\":3,\"\":4}");
    json_value_t *arr = parse_ok(a, "[{\"a\":1}]");

    CHECK_STR(json_get(v, "a") ? json_get(v, "a")->str : NULL, "2");
    CHECK_STR(json_get(v, "ab") ? json_get(v, "ab")->str : NULL, "1");
    CHECK_STR(json_get(v, "abc") ? json_get(v, "abc")->str : NULL, "3");
    CHECK_STR(json_get(v, "") ? json_get(v, "")->str : NULL, "4");
    CHECK(json_get(v, "abcd") == NULL);
    CHECK(json_get(v, "A") == NULL);
    CHECK(json_get(v, NULL) == NULL);
    CHECK(json_get(NULL, "a") == NULL);
    CHECK(json_get(arr, "a") == NULL);
    CHECK(json_get(json_get(v, "a"), "a") == NULL);
    arena_free(a);
}

static bool
as_int64(const char *text, int64_t *out)
{
    arena_t *a = arena_new(0);
    json_value_t *v = parse_ok(a, text);
    bool ok;

    *out = -1;
    ok = json_as_int64(v, out);
    arena_free(a);
    return ok;
}

static void
test_as_int64(void)
{
    int64_t n;

    CHECK(as_int64("0", &n) && n == 0);
    CHECK(as_int64("-0", &n) && n == 0);
    CHECK(as_int64("42", &n) && n == 42);
    CHECK(as_int64("-42", &n) && n == -42);
    CHECK(as_int64("9223372036854775807", &n) && n == INT64_MAX);
    CHECK(as_int64("-9223372036854775808", &n) && n == INT64_MIN);
    CHECK(!as_int64("9223372036854775808", &n) && n == 0);
    CHECK(!as_int64("-9223372036854775809", &n) && n == 0);
    CHECK(!as_int64("18446744073709551616", &n) && n == 0);
    CHECK(!as_int64("99999999999999999999999", &n) && n == 0);
    CHECK(!as_int64("1.0", &n) && n == 0);
    CHECK(!as_int64("1.5", &n));
    CHECK(!as_int64("1e2", &n));
    CHECK(!as_int64("1E2", &n));
    CHECK(!as_int64("0e0", &n));
    CHECK(!as_int64("\"5\"", &n) && n == 0);
    CHECK(!as_int64("true", &n));
    CHECK(!as_int64("null", &n));
    CHECK(!as_int64("[1]", &n));
    n = 7;
    CHECK(!json_as_int64(NULL, &n) && n == 0);
}

static void
test_write_round_trip(void)
{
    round_trip(" { \"a\" : [ 1 , 2.50 , -0 , 1E+2 ] , \"b\" : { } , \"c\" : [ ] } ",
               "{\"a\":[1,2.50,-0,1E+2],\"b\":{},\"c\":[]}");
    round_trip("[null,true,false,\"\"]", "[null,true,false,\"\"]");
    round_trip("\"\\u00e9\\/\\t\\u0001\\u007f\\\"\\\\\"",
               "\"\xc3\xa9/\\u0009\\u0001\\u007f\\\"\\\\\"");
    round_trip("\"\\ud83d\\ude00\"", "\"\xf0\x9f\x98\x80\"");
    round_trip("{\"z\":1,\"a\":2,\"m\":3}", "{\"z\":1,\"a\":2,\"m\":3}");
    round_trip("[[[[]],{}],[{\"x\":[{}]}]]", "[[[[]],{}],[{\"x\":[{}]}]]");
    round_trip("{\"k\\n\":\"v\"}", "{\"k\\u000a\":\"v\"}");
    round_trip("-12.5e-3", "-12.5e-3");
    round_trip("\"plain\"", "\"plain\"");
}

/* The output of json_write parses back and writes the same bytes again. */
static void
test_write_fixed_point(void)
{
    static const char doc[] = "{\"t\":\"\\u001f\\u00ff\\ud83d\\ude00\",\"n\":[0.1,-5e+300],"
                              "\"o\":{\"\":[true,false,null]}}";
    arena_t *a = arena_new(0);
    json_value_t *v = NULL, *w = NULL;
    buf_t b1, b2;
    kt_error_t err;

    buf_init(&b1, 0);
    buf_init(&b2, 0);
    CHECK(json_parse(a, doc, strlen(doc), NULL, &v, &err));
    CHECK(v != NULL && json_write(&b1, v));
    CHECK(json_parse(a, b1.data, b1.len, NULL, &w, &err));
    CHECK(w != NULL && json_write(&b2, w));
    CHECK_STR(b1.data, b2.data);
    CHECK_STR(b1.data, "{\"t\":\"\\u001f\xc3\xbf\xf0\x9f\x98\x80\",\"n\":[0.1,-5e+300],"
                       "\"o\":{\"\":[true,false,null]}}");
    buf_release(&b1);
    buf_release(&b2);
    arena_free(a);
}

static void
test_write_failures(void)
{
    arena_t *a = arena_new(0);
    json_value_t *v = parse_ok(a, "{\"key\":\"a longer value\"}");
    json_value_t bad = {.type = JSON_NUMBER};
    buf_t b;

    buf_init(&b, 10);
    CHECK(!json_write(&b, v));
    CHECK(b.overflow);
    buf_release(&b);
    buf_init(&b, 0);
    CHECK(!json_write(&b, NULL));
    CHECK(!json_write(&b, &bad));
    bad.type = JSON__MAX;
    CHECK(!json_write(&b, &bad));
    buf_release(&b);
    arena_free(a);
}

/* json_write walks without recursion, so trees deeper than any stack are fine. */
static void
test_write_deep(void)
{
    arena_t *a = arena_new(0);
    char *deep = nested_arrays(50000);
    json_limits_t lim = {50000, 0, 0};
    json_value_t *v = NULL;
    kt_error_t err;
    buf_t b;

    buf_init(&b, 0);
    CHECK(json_parse(a, deep, strlen(deep), &lim, &v, &err));
    CHECK(v != NULL && json_write(&b, v));
    CHECK_STR(b.data, deep);
    buf_release(&b);
    free(deep);
    arena_free(a);
}

/* MongoDB operators mean nothing here: "$gt" is a key like any other. */
static void
test_dollar_keys_are_plain(void)
{
    arena_t *a = arena_new(0);
    json_value_t *v =
        parse_ok(a, "{\"$gt\":1,\"$where\":\"sleep(1)\",\"a.b\":{\"$oid\":\"x\"},\"$$\":[]}");
    json_value_t *m;

    CHECK(v != NULL && v->type == JSON_OBJECT && v->count == 4);
    m = json_get(v, "$gt");
    CHECK(m != NULL && m->type == JSON_NUMBER);
    m = json_get(v, "$where");
    CHECK(m != NULL && m->type == JSON_STRING);
    m = json_get(v, "a.b");
    CHECK(m != NULL && m->type == JSON_OBJECT && json_get(m, "$oid") != NULL);
    CHECK(json_get(m, "$oid") && json_get(m, "$oid")->type == JSON_STRING);
    CHECK(json_get(v, "$$") != NULL);
    arena_free(a);
    round_trip("{\"$gt\":1,\"a.b\":{\"$oid\":\"x\"}}", "{\"$gt\":1,\"a.b\":{\"$oid\":\"x\"}}");
}

/* A document using every jw call, compared byte for byte. */
static void
test_jw_document(void)
{
    arena_t *a = arena_new(0);
    json_value_t *tree = parse_ok(a, "{ \"t\" : [ 1 , { } ] }");
    buf_t b;
    jw_t w;

    buf_init(&b, 0);
    jw_init(&w, &b);
    jw_object_begin(&w);
    jw_key(&w, "id");
    jw_string(&w, "a\"b");
    jw_key(&w, "n");
    jw_int(&w, -5);
    jw_key(&w, "big");
    jw_int(&w, INT64_MIN);
    jw_key(&w, "d");
    jw_double(&w, 0.1);
    jw_key(&w, "ok");
    jw_bool(&w, true);
    jw_key(&w, "no");
    jw_bool(&w, false);
    jw_key(&w, "nil");
    jw_null(&w);
    jw_key(&w, "none");
    jw_string(&w, NULL);
    jw_key(&w, "arr");
    jw_array_begin(&w);
    jw_int(&w, 1);
    jw_string_n(&w, "x\0y", 3);
    jw_array_begin(&w);
    jw_array_end(&w);
    jw_object_begin(&w);
    jw_object_end(&w);
    jw_raw(&w, "{\"r\":1}", 7);
    jw_value(&w, tree);
    jw_value(&w, NULL);
    jw_array_end(&w);
    jw_key(&w, "\xd0\xb9\n");
    jw_string(&w, "\xff");
    jw_object_end(&w);
    CHECK(jw_ok(&w));
    CHECK_STR(b.data, "{\"id\":\"a\\\"b\",\"n\":-5,\"big\":-9223372036854775808,\"d\":0.1,"
                      "\"ok\":true,\"no\":false,\"nil\":null,\"none\":null,"
                      "\"arr\":[1,\"x\\u0000y\",[],{},{\"r\":1},{\"t\":[1,{}]},null],"
                      "\"\xd0\xb9\\u000a\":\"\\ufffd\"}");
    buf_release(&b);
    arena_free(a);
}

/* Writes one top-level value of the given kind (0..5). */
static void
jw_one_value(jw_t *w, int kind)
{
    switch (kind) {
    case 0:
        jw_int(w, 42);
        break;
    case 1:
        jw_string(w, "s");
        break;
    case 2:
        jw_null(w);
        break;
    case 3:
        jw_array_begin(w);
        jw_array_end(w);
        break;
    case 4:
        jw_object_begin(w);
        jw_object_end(w);
        break;
    default:
        jw_bool(w, true);
    }
}

/* Any single value may stand at the top level, as RFC 8259 allows. */
static void
test_jw_scalars_at_top(void)
{
    static const char *const expect[] = {"42", "\"s\"", "null", "[]", "{}", "true"};

    for (int i = 0; i < 6; i++) {
        buf_t b;
        jw_t w;
        buf_init(&b, 0);
        jw_init(&w, &b);
        jw_one_value(&w, i);
        CHECK(jw_ok(&w));
        CHECK_STR(b.data, expect[i]);
        buf_release(&b);
    }
}

static void
check_double(double d, const char *expect)
{
    buf_t b;
    jw_t w;

    buf_init(&b, 0);
    jw_init(&w, &b);
    jw_double(&w, d);
    CHECK(jw_ok(&w));
    CHECK_STR(b.data, expect);
    if (b.data != NULL && isfinite(d))
        CHECK(strtod(b.data, NULL) == d); /* lint: allow (test) */
    buf_release(&b);
}

static void
test_jw_double(void)
{
    check_double(0.0, "0");
    check_double(-0.0, "-0");
    check_double(1.0, "1");
    check_double(-2.5, "-2.5");
    check_double(0.1, "0.1");
    check_double(0.1 + 0.2, "0.30000000000000004");
    check_double(1.0 / 3.0, "0.3333333333333333");
    check_double(100.0, "100");
    check_double(123456.0, "123456");
    check_double(1e21, "1e+21");
    check_double(1.5e-7, "1.5e-07");
    check_double(DBL_MAX, "1.7976931348623157e+308");
    check_double(DBL_MIN, "2.2250738585072014e-308");
    check_double(5e-324, "5e-324");
    check_double(9007199254740993.0, "9007199254740992");
    check_double(NAN, "null");
    check_double(INFINITY, "null");
    check_double(-INFINITY, "null");
}

/* Output of jw_double must itself be a JSON number the parser accepts. */
static void
test_jw_double_parses(void)
{
    static const double values[] = {1e21, 1.5e-7, -0.0, DBL_MAX, 5e-324, 12345.678, -1e-300};
    arena_t *a = arena_new(0);

    for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
        buf_t b;
        jw_t w;
        buf_init(&b, 0);
        jw_init(&w, &b);
        jw_double(&w, values[i]);
        CHECK(b.data != NULL && parse_ok(a, b.data) != NULL);
        buf_release(&b);
    }
    arena_free(a);
}

/* Each misuse must leave the writer failed. */
static void
test_jw_misuse(void)
{
    buf_t b;
    jw_t w;

    buf_init(&b, 0);
#define MISUSE(calls)                                                                              \
    do {                                                                                           \
        buf_clear(&b);                                                                             \
        jw_init(&w, &b);                                                                           \
        calls;                                                                                     \
        CHECK(!jw_ok(&w));                                                                         \
    } while (0)
    MISUSE(jw_key(&w, "top"));
    MISUSE(
        (jw_object_begin(&w), jw_key(&w, "a"), jw_key(&w, "b"), jw_int(&w, 1), jw_object_end(&w)));
    MISUSE((jw_object_begin(&w), jw_key(&w, "a"), jw_object_end(&w)));
    MISUSE((jw_object_begin(&w), jw_key(&w, NULL), jw_int(&w, 1), jw_object_end(&w)));
    MISUSE(jw_object_end(&w));
    MISUSE(jw_array_end(&w));
    MISUSE((jw_array_begin(&w), jw_array_end(&w), jw_array_end(&w)));
    MISUSE((jw_int(&w, 1), jw_int(&w, 2)));
    MISUSE((jw_object_begin(&w), jw_object_end(&w), jw_object_begin(&w), jw_object_end(&w)));
    MISUSE(jw_array_begin(&w));
    MISUSE((jw_object_begin(&w), jw_key(&w, "open")));
    MISUSE(jw_raw(&w, "", 0));
    MISUSE(jw_raw(&w, NULL, 3));
    MISUSE(jw_init(&w, NULL); jw_int(&w, 1));
#undef MISUSE
    buf_release(&b);
}

static void
test_jw_depth(void)
{
    buf_t b;
    jw_t w;

    buf_init(&b, 0);
    jw_init(&w, &b);
    for (int i = 0; i < JW_MAX_DEPTH; i++)
        jw_array_begin(&w);
    for (int i = 0; i < JW_MAX_DEPTH; i++)
        jw_array_end(&w);
    CHECK(jw_ok(&w));
    CHECK_INT(b.len, 2 * JW_MAX_DEPTH);
    buf_clear(&b);
    jw_init(&w, &b);
    for (int i = 0; i <= JW_MAX_DEPTH; i++)
        jw_array_begin(&w);
    for (int i = 0; i <= JW_MAX_DEPTH; i++)
        jw_array_end(&w);
    CHECK(!jw_ok(&w));
    /* Once failed, nothing more is written. */
    CHECK_INT(b.len, JW_MAX_DEPTH);
    buf_release(&b);
}

static void
test_jw_overflow(void)
{
    buf_t b;
    jw_t w;

    buf_init(&b, 8);
    jw_init(&w, &b);
    jw_array_begin(&w);
    jw_string(&w, "longer than eight");
    jw_array_end(&w);
    CHECK(!jw_ok(&w));
    CHECK(b.overflow);
    buf_release(&b);
}

int
main(void)
{
    CHECK_RUN(test_scalars);
    CHECK_RUN(test_numbers_valid);
    CHECK_RUN(test_containers);
    CHECK_RUN(test_object_members);
    CHECK_RUN(test_nesting);
    CHECK_RUN(test_string_escapes);
    CHECK_RUN(test_rejections);
    CHECK_RUN(test_reject_without_err);
    CHECK_RUN(test_length_not_nul);
    CHECK_RUN(test_limit_depth);
    CHECK_RUN(test_limit_string);
    CHECK_RUN(test_limit_nodes);
    CHECK_RUN(test_arena_exhausted);
    CHECK_RUN(test_many_keys);
    CHECK_RUN(test_get);
    CHECK_RUN(test_as_int64);
    CHECK_RUN(test_write_round_trip);
    CHECK_RUN(test_write_fixed_point);
    CHECK_RUN(test_write_failures);
    CHECK_RUN(test_write_deep);
    CHECK_RUN(test_dollar_keys_are_plain);
    CHECK_RUN(test_jw_document);
    CHECK_RUN(test_jw_scalars_at_top);
    CHECK_RUN(test_jw_double);
    CHECK_RUN(test_jw_double_parses);
    CHECK_RUN(test_jw_misuse);
    CHECK_RUN(test_jw_depth);
    CHECK_RUN(test_jw_overflow);
    CHECK_MAIN_END();
}
