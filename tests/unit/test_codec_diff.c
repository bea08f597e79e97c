/*
 * test_codec_diff: the BSON → JSON codec (every type, skip lists, the tree
 * round trip, canonical bytes, depth), diff_documents (creation, leaves,
 * nesting, arrays growing and shrinking, removals in place, escaping) and
 * patch_merge (every test vector of RFC 7396 Appendix A).
 */
#include <stdint.h>
#include <string.h>

#include "model/codec.h"
#include "model/diff.h"
#include "model/patch.h"
#include "tests/unit/check.h"

/* A BSON document from (relaxed extended) JSON, for writing tests tersely. */
static bson_t *
doc_from(const char *json)
{
    bson_error_t error;
    bson_t *b = bson_new_from_json((const uint8_t *)json, -1, &error);

    if (b == NULL)
        fprintf(stderr, "bad test JSON %s: %s\n", json, error.message);
    return b;
}

/* codec_canonical of doc as a C string in buf (released by the caller). */
static const char *
canon(buf_t *buf, const bson_t *doc, const char *const *skip)
{
    buf_init(buf, 0);
    if (doc == NULL || !codec_canonical(buf, doc, skip))
        return "(failed)";
    return buf->data != NULL ? buf->data : "";
}

/* Codec. */

static void
test_codec_scalars(void)
{
    bson_t *doc = bson_new();
    buf_t b;

    bson_append_utf8(doc, "s", -1, "Иван \"q\"\n\\", -1);
    bson_append_int32(doc, "i32", -1, -42);
    bson_append_int64(doc, "i64", -1, INT64_C(9007199254740993));
    bson_append_double(doc, "d", -1, 1.5);
    bson_append_double(doc, "whole", -1, 100.0);
    bson_append_bool(doc, "t", -1, true);
    bson_append_bool(doc, "f", -1, false);
    bson_append_null(doc, "n", -1);
    CHECK_STR(canon(&b, doc, NULL),
              "{\"s\":\"Иван \\\"q\\\"\\u000a\\\\\",\"i32\":-42,\"i64\":9007199254740993,"
              "\"d\":1.5,\"whole\":100,\"t\":true,\"f\":false,\"n\":null}");
    buf_release(&b);
    bson_destroy(doc);
}

static void
test_codec_date_time(void)
{
    bson_t *doc = bson_new();
    buf_t b;

    bson_append_date_time(doc, "epoch", -1, 0);
    bson_append_date_time(doc, "ms", -1, INT64_C(1700000000123));
    bson_append_date_time(doc, "leap", -1, INT64_C(1709208000000));
    bson_append_date_time(doc, "before", -1, -1);
    bson_append_date_time(doc, "old", -1, INT64_C(-2208988800000));
    bson_append_date_time(doc, "last", -1, INT64_C(253402300799999));
    CHECK_STR(canon(&b, doc, NULL),
              "{\"epoch\":\"1970-01-01T00:00:00.000Z\",\"ms\":\"2023-11-14T22:13:20.123Z\","
              "\"leap\":\"2024-02-29T12:00:00.000Z\",\"before\":\"1969-12-31T23:59:59.999Z\","
              "\"old\":\"1900-01-01T00:00:00.000Z\",\"last\":\"9999-12-31T23:59:59.999Z\"}");
    buf_release(&b);
    bson_destroy(doc);
}

static void
test_codec_foreign_types(void)
{
    static const uint8_t bytes[] = {0x00, 0xab, 0xff};
    bson_t *doc = bson_new();
    bson_oid_t oid;
    bson_decimal128_t dec;
    buf_t b;

    bson_oid_init_from_string(&oid, "65a1b2c3d4e5f60718293a4b");
    bson_decimal128_from_string("1.5", &dec);
    bson_append_oid(doc, "oid", -1, &oid);
    bson_append_binary(doc, "bin", -1, BSON_SUBTYPE_BINARY, bytes, sizeof bytes);
    bson_append_decimal128(doc, "dec", -1, &dec);
    bson_append_timestamp(doc, "ts", -1, 1700000000, 7);
    bson_append_regex(doc, "re", -1, "^a/b$", "i");
    bson_append_code(doc, "code", -1, "return 1");
    bson_append_undefined(doc, "u", -1);
    bson_append_minkey(doc, "min", -1);
    CHECK_STR(canon(&b, doc, NULL),
              "{\"oid\":\"65a1b2c3d4e5f60718293a4b\",\"bin\":\"00abff\",\"dec\":\"1.5\","
              "\"ts\":\"1700000000:7\",\"re\":\"/^a/b$/i\",\"code\":\"return 1\",\"u\":null,"
              "\"min\":null}");
    buf_release(&b);
    bson_destroy(doc);
}

static void
test_codec_nested_and_skip(void)
{
    static const char *const skip[] = {"_id", "version", NULL};
    bson_t *doc = doc_from("{\"_id\": 1, \"a\": {\"version\": 2, \"b\": [1, \"x\", {\"c\": []}]},"
                           " \"version\": 3, \"e\": {}}");
    buf_t b;

    /* Only top-level keys are skipped; nested ones of the same name stay. */
    CHECK_STR(canon(&b, doc, skip), "{\"a\":{\"version\":2,\"b\":[1,\"x\",{\"c\":[]}]},\"e\":{}}");
    buf_release(&b);
    CHECK_STR(
        canon(&b, doc, NULL),
        "{\"_id\":1,\"a\":{\"version\":2,\"b\":[1,\"x\",{\"c\":[]}]},\"version\":3,\"e\":{}}");
    buf_release(&b);
    bson_destroy(doc);
}

static void
test_codec_array_and_value(void)
{
    bson_t *arr = doc_from("{\"0\": \"a\", \"1\": 2}");
    bson_t *doc = doc_from("{\"k\": [true, null]}");
    bson_iter_t it;
    buf_t b;
    jw_t w;

    buf_init(&b, 0);
    jw_init(&w, &b);
    codec_bson_to_json(&w, arr, true, NULL);
    CHECK(jw_ok(&w));
    CHECK_STR(b.data, "[\"a\",2]");
    buf_release(&b);

    buf_init(&b, 0);
    jw_init(&w, &b);
    CHECK(bson_iter_init_find(&it, doc, "k"));
    codec_value_to_json(&w, &it);
    CHECK(jw_ok(&w));
    CHECK_STR(b.data, "[true,null]");
    buf_release(&b);
    bson_destroy(arr);
    bson_destroy(doc);
}

static void
test_codec_tree_round_trip(void)
{
    const char *json = "{\"last_name\":\"Иванов\",\"n\":-7,\"d\":0.25,\"ok\":true,\"z\":null,"
                       "\"docs\":[{\"type\":\"PASSPORT_RF\"},[]],\"e\":{}}";
    bson_t *doc = doc_from(json);
    arena_t *a = arena_new(0);
    json_value_t *tree = codec_bson_to_tree(a, doc);
    buf_t b;

    CHECK(tree != NULL && tree->type == JSON_OBJECT);
    buf_init(&b, 0);
    CHECK(tree != NULL && json_write(&b, tree));
    CHECK_STR(b.data, json);
    CHECK_STR(json_get(tree, "last_name") ? json_get(tree, "last_name")->str : NULL, "Иванов");
    buf_release(&b);
    arena_free(a);
    bson_destroy(doc);
}

/* A document nested deeper than the writer allows fails cleanly. */
static void
test_codec_too_deep(void)
{
    bson_t *docs[80];
    bson_t *root;
    arena_t *a = arena_new(0);
    buf_t b;

    docs[79] = bson_new();
    bson_append_int32(docs[79], "x", -1, 1);
    for (int i = 78; i >= 0; i--) {
        docs[i] = bson_new();
        bson_append_document(docs[i], "d", -1, docs[i + 1]);
    }
    root = docs[0];
    buf_init(&b, 0);
    CHECK(!codec_canonical(&b, root, NULL));
    CHECK(codec_bson_to_tree(a, root) == NULL);
    buf_release(&b);
    for (int i = 0; i < 80; i++)
        bson_destroy(docs[i]);
    arena_free(a);
}

/* Diff. */

/* Runs diff_documents and renders the change list as canonical JSON. */
static void
check_diff(const char *old_json, const char *new_json, const char *const *skip, size_t count,
           const char *expect)
{
    bson_t *old_doc = old_json != NULL ? doc_from(old_json) : NULL;
    bson_t *new_doc = doc_from(new_json);
    bson_t changes = BSON_INITIALIZER;
    buf_t b;
    jw_t w;

    CHECK_INT(diff_documents(old_doc, new_doc, skip, &changes), count);
    buf_init(&b, 0);
    jw_init(&w, &b);
    codec_bson_to_json(&w, &changes, true, NULL);
    CHECK(jw_ok(&w));
    CHECK_STR(b.data, expect);
    buf_release(&b);
    bson_destroy(&changes);
    if (old_doc != NULL)
        bson_destroy(old_doc);
    bson_destroy(new_doc);
}

static void
test_diff_creation(void)
{
    static const char *const skip[] = {"version", NULL};

    check_diff(NULL, "{\"version\": 1, \"last_name\": \"Иванов\", \"documents\": [{\"n\": \"1\"}]}",
               skip, 2,
               "[{\"path\":\"/last_name\",\"old\":null,\"new\":\"Иванов\"},"
               "{\"path\":\"/documents\",\"old\":null,\"new\":[{\"n\":\"1\"}]}]");
}

static void
test_diff_unchanged(void)
{
    check_diff("{\"a\": \"x\", \"b\": [1, {\"c\": 2}]}", "{\"a\": \"x\", \"b\": [1, {\"c\": 2}]}",
               NULL, 0, "[]");
    /* Skipped keys do not count, even when they differ or disappear. */
    static const char *const skip[] = {"version", "updated_at", NULL};
    check_diff("{\"version\": 1, \"a\": \"x\", \"updated_at\": 5}",
               "{\"version\": 2, \"a\": \"x\"}", skip, 0, "[]");
}

static void
test_diff_leaf(void)
{
    check_diff("{\"last_name\": \"Иванов\", \"sex\": \"M\"}",
               "{\"last_name\": \"Петров\", \"sex\": \"M\"}", NULL, 1,
               "[{\"path\":\"/last_name\",\"old\":\"Иванов\",\"new\":\"Петров\"}]");
    /* A change of type is a change, even when the JSON looks alike. */
    check_diff("{\"n\": 5}", "{\"n\": {\"$numberLong\": \"5\"}}", NULL, 1,
               "[{\"path\":\"/n\",\"old\":5,\"new\":5}]");
    check_diff("{\"n\": 5}", "{\"n\": \"5\"}", NULL, 1,
               "[{\"path\":\"/n\",\"old\":5,\"new\":\"5\"}]");
    /* An object replaced by a string is one change with whole values. */
    check_diff("{\"c\": {\"category\": \"RF\"}}", "{\"c\": \"RF\"}", NULL, 1,
               "[{\"path\":\"/c\",\"old\":{\"category\":\"RF\"},\"new\":\"RF\"}]");
}

static void
test_diff_nested(void)
{
    check_diff("{\"citizenship\": {\"category\": \"RF\", \"countries\": [\"643\"]}}",
               "{\"citizenship\": {\"category\": \"DUAL\", \"countries\": [\"643\", \"804\"]}}",
               NULL, 2,
               "[{\"path\":\"/citizenship/category\",\"old\":\"RF\",\"new\":\"DUAL\"},"
               "{\"path\":\"/citizenship/countries/1\",\"old\":null,\"new\":\"804\"}]");
    check_diff("{\"documents\": [{\"type\": \"PASSPORT_RF\", \"number\": \"123456\"}]}",
               "{\"documents\": [{\"type\": \"PASSPORT_RF\", \"number\": \"654321\"}]}", NULL, 1,
               "[{\"path\":\"/documents/0/number\",\"old\":\"123456\",\"new\":\"654321\"}]");
}

static void
test_diff_arrays(void)
{
    /* Grow: the new element is one change with the whole object. */
    check_diff("{\"d\": [{\"n\": \"1\"}]}", "{\"d\": [{\"n\": \"1\"}, {\"n\": \"2\"}, \"x\"]}",
               NULL, 2,
               "[{\"path\":\"/d/1\",\"old\":null,\"new\":{\"n\":\"2\"}},"
               "{\"path\":\"/d/2\",\"old\":null,\"new\":\"x\"}]");
    /* Shrink. */
    check_diff("{\"d\": [{\"n\": \"1\"}, {\"n\": \"2\"}]}", "{\"d\": [{\"n\": \"1\"}]}", NULL, 1,
               "[{\"path\":\"/d/1\",\"old\":{\"n\":\"2\"},\"new\":null}]");
    /* Removing the first element shifts the others: compared by index. */
    check_diff("{\"d\": [\"a\", \"b\"]}", "{\"d\": [\"b\"]}", NULL, 2,
               "[{\"path\":\"/d/0\",\"old\":\"a\",\"new\":\"b\"},"
               "{\"path\":\"/d/1\",\"old\":\"b\",\"new\":null}]");
    /* An array emptied. */
    check_diff("{\"d\": [1]}", "{\"d\": []}", NULL, 1,
               "[{\"path\":\"/d/0\",\"old\":1,\"new\":null}]");
}

/* The phase-3 shapes: int64 and boolean leaves inside objects inside arrays
 * change leaf by leaf and come out as JSON numbers and booleans. */
static void
test_diff_ints_and_bools_in_arrays(void)
{
    check_diff("{\"exams\": [{\"kind\": \"EGE\", \"score\": {\"$numberLong\": \"80\"},"
               " \"passed\": true}]}",
               "{\"exams\": [{\"kind\": \"EGE\", \"score\": {\"$numberLong\": \"86\"},"
               " \"passed\": false}, {\"kind\": \"OGE\", \"mark\": {\"$numberLong\": \"5\"}}]}",
               NULL, 3,
               "[{\"path\":\"/exams/0/score\",\"old\":80,\"new\":86},"
               "{\"path\":\"/exams/0/passed\",\"old\":true,\"new\":false},"
               "{\"path\":\"/exams/1\",\"old\":null,\"new\":{\"kind\":\"OGE\",\"mark\":5}}]");
    /* The same number stored as int32 and int64 is a change of type, reported. */
    check_diff("{\"e\": [{\"year\": 2025}]}", "{\"e\": [{\"year\": {\"$numberLong\": \"2025\"}}]}",
               NULL, 1, "[{\"path\":\"/e/0/year\",\"old\":2025,\"new\":2025}]");
}

static void
test_diff_removed_in_place(void)
{
    /* A removed member is reported where it stood, between its neighbours. */
    check_diff("{\"a\": 1, \"b\": 2, \"c\": 3, \"d\": 4}", "{\"a\": 1, \"c\": 30, \"e\": 5}", NULL,
               4,
               "[{\"path\":\"/b\",\"old\":2,\"new\":null},"
               "{\"path\":\"/c\",\"old\":3,\"new\":30},"
               "{\"path\":\"/e\",\"old\":null,\"new\":5},"
               "{\"path\":\"/d\",\"old\":4,\"new\":null}]");
    /* Keys are matched exactly: a dot is not a path. */
    check_diff("{\"a.b\": 1}", "{\"a.b\": 1, \"a\": {\"b\": 1}}", NULL, 1,
               "[{\"path\":\"/a\",\"old\":null,\"new\":{\"b\":1}}]");
}

static void
test_diff_escaping_and_append(void)
{
    bson_t *old_doc = doc_from("{\"a/b\": 1, \"m~n\": 1}");
    bson_t *new_doc = doc_from("{\"a/b\": 2, \"m~n\": 2}");
    bson_t changes = BSON_INITIALIZER;
    buf_t b;
    jw_t w;

    CHECK_INT(diff_documents(old_doc, new_doc, NULL, &changes), 2);
    /* A second call appends after the first: keys "2", "3". */
    CHECK_INT(diff_documents(new_doc, old_doc, NULL, &changes), 2);
    CHECK_INT(bson_count_keys(&changes), 4);
    buf_init(&b, 0);
    jw_init(&w, &b);
    codec_bson_to_json(&w, &changes, true, NULL);
    CHECK(jw_ok(&w));
    CHECK_STR(b.data, "[{\"path\":\"/a~1b\",\"old\":1,\"new\":2},"
                      "{\"path\":\"/m~0n\",\"old\":1,\"new\":2},"
                      "{\"path\":\"/a~1b\",\"old\":2,\"new\":1},"
                      "{\"path\":\"/m~0n\",\"old\":2,\"new\":1}]");
    CHECK(bson_has_field(&changes, "3"));
    buf_release(&b);
    bson_destroy(&changes);
    bson_destroy(old_doc);
    bson_destroy(new_doc);
}

/* Patch. */

/* RFC 7396 Appendix A: target, patch, result. */
static void
check_patch(const char *target, const char *patch, const char *expect)
{
    arena_t *a = arena_new(0);
    json_value_t *t = NULL, *p = NULL, *r;
    kt_error_t err;
    buf_t before, after, out;

    CHECK(json_parse(a, target, strlen(target), NULL, &t, &err));
    CHECK(json_parse(a, patch, strlen(patch), NULL, &p, &err));
    buf_init(&before, 0);
    buf_init(&after, 0);
    buf_init(&out, 0);
    json_write(&before, t);
    r = patch_merge(a, t, p);
    CHECK(r != NULL);
    CHECK(r != NULL && json_write(&out, r));
    CHECK_STR(out.data, expect);
    /* The target is left as it was. */
    json_write(&after, t);
    CHECK_STR(after.data, before.data);
    buf_release(&before);
    buf_release(&after);
    buf_release(&out);
    arena_free(a);
}

static void
test_patch_rfc7396(void)
{
    check_patch("{\"a\":\"b\"}", "{\"a\":\"c\"}", "{\"a\":\"c\"}");
    check_patch("{\"a\":\"b\"}", "{\"b\":\"c\"}", "{\"a\":\"b\",\"b\":\"c\"}");
    check_patch("{\"a\":\"b\"}", "{\"a\":null}", "{}");
    check_patch("{\"a\":\"b\",\"b\":\"c\"}", "{\"a\":null}", "{\"b\":\"c\"}");
    check_patch("{\"a\":[\"b\"]}", "{\"a\":\"c\"}", "{\"a\":\"c\"}");
    check_patch("{\"a\":\"c\"}", "{\"a\":[\"b\"]}", "{\"a\":[\"b\"]}");
    check_patch("{\"a\":{\"b\":\"c\"}}", "{\"a\":{\"b\":\"d\",\"c\":null}}",
                "{\"a\":{\"b\":\"d\"}}");
    check_patch("{\"a\":[{\"b\":\"c\"}]}", "{\"a\":[1]}", "{\"a\":[1]}");
    check_patch("[\"a\",\"b\"]", "[\"c\",\"d\"]", "[\"c\",\"d\"]");
    check_patch("{\"a\":\"b\"}", "[\"c\"]", "[\"c\"]");
    check_patch("{\"a\":\"foo\"}", "null", "null");
    check_patch("{\"a\":\"foo\"}", "\"bar\"", "\"bar\"");
    check_patch("{\"e\":null}", "{\"a\":1}", "{\"e\":null,\"a\":1}");
    check_patch("[1,2]", "{\"a\":\"b\",\"c\":null}", "{\"a\":\"b\"}");
    check_patch("{}", "{\"a\":{\"bb\":{\"ccc\":null}}}", "{\"a\":{\"bb\":{}}}");
}

static void
test_patch_more(void)
{
    /* Nulls inside an array are data, not removals. */
    check_patch("{\"a\":1}", "{\"b\":[null,{\"c\":null}]}", "{\"a\":1,\"b\":[null,{\"c\":null}]}");
    /* Order: target members in place, new ones after, in patch order. */
    check_patch("{\"x\":1,\"y\":{\"p\":1,\"q\":2},\"z\":3}", "{\"w\":0,\"y\":{\"q\":null,\"r\":4}}",
                "{\"x\":1,\"y\":{\"p\":1,\"r\":4},\"z\":3,\"w\":0}");
    /* Keys with escapes and non-ASCII are compared by their bytes. */
    check_patch("{\"ключ\":\"a\",\"a\\\"b\":1}", "{\"ключ\":\"б\",\"a\\\"b\":null}",
                "{\"ключ\":\"б\"}");
}

static void
test_patch_null_arguments(void)
{
    arena_t *a = arena_new(0);
    const char *text = "{\"a\":{\"b\":null},\"c\":null}";
    json_value_t *p = NULL, *r;
    kt_error_t err;
    buf_t out;

    CHECK(json_parse(a, text, strlen(text), NULL, &p, &err));
    r = patch_merge(a, NULL, p);
    buf_init(&out, 0);
    CHECK(r != NULL && json_write(&out, r));
    CHECK_STR(out.data, "{\"a\":{}}");
    buf_release(&out);
    r = patch_merge(a, p, NULL);
    buf_init(&out, 0);
    CHECK(r != NULL && json_write(&out, r));
    CHECK_STR(out.data, "{\"a\":{\"b\":null},\"c\":null}");
    buf_release(&out);
    r = patch_merge(a, NULL, NULL);
    buf_init(&out, 0);
    CHECK(r != NULL && json_write(&out, r));
    CHECK_STR(out.data, "{}");
    buf_release(&out);
    arena_free(a);
}

/* An arena too small for the result: NULL, no crash. An arena keeps its
 * first 16 KiB block, so the cap is that block and the patch is larger. */
static void
test_patch_out_of_memory(void)
{
    arena_t *big = arena_new(0);
    arena_t *tiny = arena_new(16384);
    json_value_t *p = NULL;
    kt_error_t err;
    buf_t text;

    buf_init(&text, 0);
    buf_puts(&text, "{\"a\":[1,2,3],\"b\":{\"c\":\"");
    for (int i = 0; i < 20000; i++)
        buf_putc(&text, 'x');
    buf_puts(&text, "\"}}");
    CHECK(json_parse(big, text.data, text.len, NULL, &p, &err));
    CHECK(tiny != NULL);
    if (tiny != NULL && p != NULL)
        CHECK(patch_merge(tiny, NULL, p) == NULL);
    buf_release(&text);
    arena_free(big);
    arena_free(tiny);
}

int
main(void)
{
    CHECK_RUN(test_codec_scalars);
    CHECK_RUN(test_codec_date_time);
    CHECK_RUN(test_codec_foreign_types);
    CHECK_RUN(test_codec_nested_and_skip);
    CHECK_RUN(test_codec_array_and_value);
    CHECK_RUN(test_codec_tree_round_trip);
    CHECK_RUN(test_codec_too_deep);
    CHECK_RUN(test_diff_creation);
    CHECK_RUN(test_diff_unchanged);
    CHECK_RUN(test_diff_leaf);
    CHECK_RUN(test_diff_nested);
    CHECK_RUN(test_diff_arrays);
    CHECK_RUN(test_diff_removed_in_place);
    CHECK_RUN(test_diff_ints_and_bools_in_arrays);
    CHECK_RUN(test_diff_escaping_and_append);
    CHECK_RUN(test_patch_rfc7396);
    CHECK_RUN(test_patch_more);
    CHECK_RUN(test_patch_null_arguments);
    CHECK_RUN(test_patch_out_of_memory);
    CHECK_MAIN_END();
}
