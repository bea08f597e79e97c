/*
 * codec: BSON → JSON through the streaming writer, and back to a tree through
 * the strict parser.
 *
 * The model only stores strings, integers, doubles, booleans, null,
 * documents, arrays and date-times. Other BSON types never come from the
 * model, but a document edited by hand in the store may hold them; rather
 * than fail a read, each is written as one plain JSON value:
 *   date_time   "YYYY-MM-DDTHH:MM:SS.mmmZ" (RFC 3339, UTC, milliseconds)
 *   oid         its 24 lower-case hex digits
 *   binary      its bytes as lower-case hex (the subtype is dropped)
 *   decimal128  its string form ("1.5E+3", "NaN")
 *   timestamp   "<seconds>:<increment>"
 *   regex       "/pattern/options"
 *   code, symbol, code with scope  the code text (the scope is dropped)
 *   dbpointer   the collection name
 *   undefined, minkey, maxkey  null
 * None of these parses back to its BSON type: the JSON side has no way to
 * say it, and the API never needs it to.
 */
#include "model/codec.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

/* The parser's limits for codec_bson_to_tree: a BSON document is at most
 * 16 MiB, so no string of one is longer; nesting is the writer's limit. */
#define CODEC_TREE_MAX_STRING ((size_t)16 << 20)
#define CODEC_MS_PER_DAY      86400000LL

static void codec_document(jw_t *w, const bson_iter_t *parent, bool is_array,
                           const char *const *skip);

bool
codec_key_skipped(const char *key, const char *const *skip)
{
    for (size_t i = 0; skip != NULL && skip[i] != NULL; i++) {
        if (strcmp(key, skip[i]) == 0)
            return true;
    }
    return false;
}

/* Days since 1970-01-01 → civil date (Howard Hinnant's days_from_civil, inverted);
 * exact over the whole int64 millisecond range, where gmtime() may fail. */
static void
codec_civil(int64_t days, int64_t *y, int *m, int *d)
{
    int64_t z = days + 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;

    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

static void
codec_date_time(jw_t *w, int64_t ms)
{
    /* Floor division, so that instants before 1970 land on the right day. */
    int64_t days = ms / CODEC_MS_PER_DAY - (ms % CODEC_MS_PER_DAY < 0);
    int64_t rest = ms - days * CODEC_MS_PER_DAY;
    int64_t y;
    int m, d;
    char text[64];

    codec_civil(days, &y, &m, &d);
    snprintf(text, sizeof text, "%04" PRId64 "-%02d-%02dT%02d:%02d:%02d.%03dZ", y, m, d,
             (int)(rest / 3600000), (int)(rest / 60000 % 60), (int)(rest / 1000 % 60),
             (int)(rest % 1000));
    jw_string(w, text);
}

static void
codec_hex(jw_t *w, const uint8_t *data, uint32_t len)
{
    static const char digits[] = "0123456789abcdef";
    buf_t hex;

    buf_init(&hex, 0);
    for (uint32_t i = 0; i < len; i++) {
        buf_putc(&hex, digits[data[i] >> 4]);
        buf_putc(&hex, digits[data[i] & 15]);
    }
    if (hex.overflow || (len > 0 && hex.data == NULL))
        w->failed = true;
    jw_string_n(w, hex.data != NULL ? hex.data : "", hex.len);
    buf_release(&hex);
}

/* The types the model never writes; see the module comment for their forms. */
static void
codec_foreign_value(jw_t *w, const bson_iter_t *it)
{
    char text[BSON_DECIMAL128_STRING > 64 ? BSON_DECIMAL128_STRING : 64];
    const uint8_t *bytes = NULL;
    const char *s, *options = NULL;
    uint32_t len = 0, t, i;
    bson_subtype_t subtype;
    bson_decimal128_t dec;

    switch (bson_iter_type(it)) {
    case BSON_TYPE_OID:
        bson_oid_to_string(bson_iter_oid(it), text);
        jw_string(w, text);
        break;
    case BSON_TYPE_BINARY:
        bson_iter_binary(it, &subtype, &len, &bytes);
        codec_hex(w, bytes, len);
        break;
    case BSON_TYPE_DECIMAL128:
        bson_iter_decimal128(it, &dec);
        bson_decimal128_to_string(&dec, text);
        jw_string(w, text);
        break;
    case BSON_TYPE_TIMESTAMP:
        bson_iter_timestamp(it, &t, &i);
        snprintf(text, sizeof text, "%" PRIu32 ":%" PRIu32, t, i);
        jw_string(w, text);
        break;
    case BSON_TYPE_REGEX: {
        buf_t re;
        s = bson_iter_regex(it, &options);
        buf_init(&re, 0);
        buf_putc(&re, '/');
        buf_puts(&re, s);
        buf_putc(&re, '/');
        buf_puts(&re, options != NULL ? options : "");
        if (re.overflow)
            w->failed = true;
        jw_string_n(w, re.data, re.len);
        buf_release(&re);
        break;
    }
    case BSON_TYPE_CODE:
        s = bson_iter_code(it, &len);
        jw_string_n(w, s, len);
        break;
    case BSON_TYPE_CODEWSCOPE:
        s = bson_iter_codewscope(it, &len, &t, &bytes);
        jw_string_n(w, s, len);
        break;
    case BSON_TYPE_SYMBOL:
        s = bson_iter_symbol(it, &len);
        jw_string_n(w, s, len);
        break;
    case BSON_TYPE_DBPOINTER: {
        const bson_oid_t *oid;
        bson_iter_dbpointer(it, &len, &s, &oid);
        jw_string_n(w, s, len);
        break;
    }
    default: /* undefined, minkey, maxkey, and types newer than this code */
        jw_null(w);
        break;
    }
}

void
codec_value_to_json(jw_t *w, const bson_iter_t *it)
{
    const char *s;
    uint32_t len;

    switch (bson_iter_type(it)) {
    case BSON_TYPE_UTF8:
        s = bson_iter_utf8(it, &len);
        jw_string_n(w, s, len);
        break;
    case BSON_TYPE_INT32:
        jw_int(w, bson_iter_int32(it));
        break;
    case BSON_TYPE_INT64:
        jw_int(w, bson_iter_int64(it));
        break;
    case BSON_TYPE_DOUBLE:
        jw_double(w, bson_iter_double(it));
        break;
    case BSON_TYPE_BOOL:
        jw_bool(w, bson_iter_bool(it));
        break;
    case BSON_TYPE_NULL:
        jw_null(w);
        break;
    case BSON_TYPE_DATE_TIME:
        codec_date_time(w, bson_iter_date_time(it));
        break;
    case BSON_TYPE_DOCUMENT:
    case BSON_TYPE_ARRAY:
        codec_document(w, it, bson_iter_type(it) == BSON_TYPE_ARRAY, NULL);
        break;
    default:
        codec_foreign_value(w, it);
        break;
    }
}

/* Writes the members of the container iter is positioned in. Recursion stops
 * as soon as the writer fails, which it does past JW_MAX_DEPTH, so a deeply
 * nested document from the store cannot exhaust the C stack. */
static void
codec_members(jw_t *w, bson_iter_t *iter, bool is_array, const char *const *skip)
{
    if (is_array)
        jw_array_begin(w);
    else
        jw_object_begin(w);
    while (!w->failed && bson_iter_next(iter)) {
        if (is_array) {
            codec_value_to_json(w, iter);
            continue;
        }
        if (codec_key_skipped(bson_iter_key(iter), skip))
            continue;
        jw_key(w, bson_iter_key(iter));
        codec_value_to_json(w, iter);
    }
    if (is_array)
        jw_array_end(w);
    else
        jw_object_end(w);
}

static void
codec_document(jw_t *w, const bson_iter_t *parent, bool is_array, const char *const *skip)
{
    bson_iter_t child;

    if (w->failed)
        return;
    if (!bson_iter_recurse(parent, &child)) {
        w->failed = true;
        return;
    }
    codec_members(w, &child, is_array, skip);
}

void
codec_bson_to_json(jw_t *w, const bson_t *doc, bool is_array, const char *const *skip)
{
    bson_iter_t iter;

    if (doc == NULL || !bson_iter_init(&iter, doc)) {
        w->failed = true;
        return;
    }
    codec_members(w, &iter, is_array, skip);
}

json_value_t *
codec_bson_to_tree(arena_t *arena, const bson_t *doc)
{
    const json_limits_t lim = {.max_depth = JW_MAX_DEPTH, .max_string = CODEC_TREE_MAX_STRING};
    json_value_t *tree = NULL;
    kt_error_t err;
    buf_t text;
    jw_t w;

    /* The parser copies every string into arena (text is released below),
     * so the tree borrows nothing: doc may be destroyed as soon as this
     * returns. */
    buf_init(&text, 0);
    jw_init(&w, &text);
    codec_bson_to_json(&w, doc, false, NULL);
    if (!jw_ok(&w))
        goto done;
    if (!json_parse(arena, text.data, text.len, &lim, &tree, &err))
        tree = NULL;
done:
    buf_release(&text);
    return tree;
}

bool
codec_canonical(buf_t *out, const bson_t *doc, const char *const *skip)
{
    jw_t w;

    jw_init(&w, out);
    codec_bson_to_json(&w, doc, false, skip);
    return jw_ok(&w);
}
