/*
 * diff: walks two BSON documents side by side.
 *
 * Members are matched by key, array elements by index. The order of the
 * changes is a merge of both documents' orders: the new document's keys in
 * its order, each removed key placed where it stood in the old one. For two
 * versions of a model document (both in field-table order) that is simply
 * the table order. Finding a key is a linear scan, so one level costs
 * O(members²); the model's documents have a few dozen members at most.
 */
#include "model/diff.h"

#include "model/codec.h"

#include <string.h>

#include "core/buf.h"

/* Deeper than this, a changed sub-document is reported whole, so that a
 * hostile stored document cannot exhaust the C stack. */
#define DIFF_MAX_DEPTH 64

typedef struct {
    bson_t *changes;
    uint32_t next_key; /* the "0", "1", ... key of the next entry */
    size_t count;      /* entries appended by this call */
    buf_t path;        /* JSON Pointer of the value being compared */
} diff_ctx_t;

static void diff_values(diff_ctx_t *cx, const bson_iter_t *old_it, const bson_iter_t *new_it,
                        int depth);

/* Appends "/" and key escaped per RFC 6901 (~ → ~0, / → ~1); returns the
 * length to cut back to. */
static size_t
diff_path_push(diff_ctx_t *cx, const char *key)
{
    size_t saved = cx->path.len;

    buf_putc(&cx->path, '/');
    for (const char *k = key; *k != '\0'; k++) {
        if (*k == '~')
            buf_puts(&cx->path, "~0");
        else if (*k == '/')
            buf_puts(&cx->path, "~1");
        else
            buf_putc(&cx->path, *k);
    }
    return saved;
}

static void
diff_path_cut(diff_ctx_t *cx, size_t saved)
{
    cx->path.len = saved;
    if (cx->path.data != NULL)
        cx->path.data[saved] = '\0';
}

/* old or new: the value at it, or null when it is NULL (absent on that side). */
static void
diff_append_side(bson_t *entry, const char *name, const bson_iter_t *it)
{
    if (it != NULL)
        bson_append_iter(entry, name, -1, it);
    else
        bson_append_null(entry, name, -1);
}

static void
diff_emit(diff_ctx_t *cx, const bson_iter_t *old_it, const bson_iter_t *new_it)
{
    char keybuf[16];
    const char *key;
    size_t key_len = bson_uint32_to_string(cx->next_key, &key, keybuf, sizeof keybuf);
    const char *path = cx->path.data != NULL ? cx->path.data : "";
    bson_t entry;

    if (!bson_append_document_begin(cx->changes, key, (int)key_len, &entry))
        return;
    bson_append_utf8(&entry, "path", 4, path, (int)cx->path.len);
    diff_append_side(&entry, "old", old_it);
    diff_append_side(&entry, "new", new_it);
    if (bson_append_document_end(cx->changes, &entry)) {
        cx->next_key++;
        cx->count++;
    }
}

/* Emits one change at path + "/" + key. */
static void
diff_emit_at(diff_ctx_t *cx, const char *key, const bson_iter_t *old_it, const bson_iter_t *new_it)
{
    size_t saved = diff_path_push(cx, key);

    diff_emit(cx, old_it, new_it);
    diff_path_cut(cx, saved);
}

static bool
diff_same_bytes(const void *a, uint32_t alen, const void *b, uint32_t blen)
{
    return alen == blen && (alen == 0 || memcmp(a, b, alen) == 0);
}

/* The bytes of the document or array it points at (data NULL otherwise). */
static void
diff_raw(const bson_iter_t *it, uint32_t *len, const uint8_t **data)
{
    *len = 0;
    *data = NULL;
    if (BSON_ITER_HOLDS_DOCUMENT(it))
        bson_iter_document(it, len, data);
    else if (BSON_ITER_HOLDS_ARRAY(it))
        bson_iter_array(it, len, data);
}

/* Equality of the types the model never writes (see codec.c). */
static bool
diff_equal_foreign(const bson_iter_t *a, const bson_iter_t *b)
{
    /* bson_iter_value() caches into the iterator, so it gets copies. */
    bson_iter_t ca = *a, cb = *b;
    const bson_value_t *x = bson_iter_value(&ca);
    const bson_value_t *y = bson_iter_value(&cb);

    switch (x->value_type) {
    case BSON_TYPE_OID:
        return bson_oid_equal(&x->value.v_oid, &y->value.v_oid);
    case BSON_TYPE_BINARY:
        return x->value.v_binary.subtype == y->value.v_binary.subtype &&
               diff_same_bytes(x->value.v_binary.data, x->value.v_binary.data_len,
                               y->value.v_binary.data, y->value.v_binary.data_len);
    case BSON_TYPE_DECIMAL128:
        return x->value.v_decimal128.high == y->value.v_decimal128.high &&
               x->value.v_decimal128.low == y->value.v_decimal128.low;
    case BSON_TYPE_TIMESTAMP:
        return x->value.v_timestamp.timestamp == y->value.v_timestamp.timestamp &&
               x->value.v_timestamp.increment == y->value.v_timestamp.increment;
    case BSON_TYPE_REGEX:
        return strcmp(x->value.v_regex.regex, y->value.v_regex.regex) == 0 &&
               strcmp(x->value.v_regex.options, y->value.v_regex.options) == 0;
    case BSON_TYPE_CODE:
        return diff_same_bytes(x->value.v_code.code, x->value.v_code.code_len, y->value.v_code.code,
                               y->value.v_code.code_len);
    case BSON_TYPE_SYMBOL:
        return diff_same_bytes(x->value.v_symbol.symbol, x->value.v_symbol.len,
                               y->value.v_symbol.symbol, y->value.v_symbol.len);
    case BSON_TYPE_CODEWSCOPE:
        return diff_same_bytes(x->value.v_codewscope.code, x->value.v_codewscope.code_len,
                               y->value.v_codewscope.code, y->value.v_codewscope.code_len) &&
               diff_same_bytes(x->value.v_codewscope.scope_data, x->value.v_codewscope.scope_len,
                               y->value.v_codewscope.scope_data, y->value.v_codewscope.scope_len);
    case BSON_TYPE_DBPOINTER:
        return diff_same_bytes(x->value.v_dbpointer.collection, x->value.v_dbpointer.collection_len,
                               y->value.v_dbpointer.collection,
                               y->value.v_dbpointer.collection_len) &&
               bson_oid_equal(&x->value.v_dbpointer.oid, &y->value.v_dbpointer.oid);
    default: /* null, undefined, minkey, maxkey: the type is the value */
        return true;
    }
}

/* Whether two values are the same, type included: int32 5 and int64 5 differ,
 * doubles compare by their bits (NaN equals itself, 0.0 and -0.0 differ). */
static bool
diff_equal(const bson_iter_t *a, const bson_iter_t *b)
{
    const uint8_t *x, *y;
    uint32_t xl, yl;
    double dx, dy;

    if (bson_iter_type(a) != bson_iter_type(b))
        return false;
    switch (bson_iter_type(a)) {
    case BSON_TYPE_UTF8:
        x = (const uint8_t *)bson_iter_utf8(a, &xl);
        y = (const uint8_t *)bson_iter_utf8(b, &yl);
        return diff_same_bytes(x, xl, y, yl);
    case BSON_TYPE_DOCUMENT:
    case BSON_TYPE_ARRAY:
        diff_raw(a, &xl, &x);
        diff_raw(b, &yl, &y);
        return x != NULL && y != NULL && diff_same_bytes(x, xl, y, yl);
    case BSON_TYPE_INT32:
        return bson_iter_int32(a) == bson_iter_int32(b);
    case BSON_TYPE_INT64:
        return bson_iter_int64(a) == bson_iter_int64(b);
    case BSON_TYPE_BOOL:
        return bson_iter_bool(a) == bson_iter_bool(b);
    case BSON_TYPE_DATE_TIME:
        return bson_iter_date_time(a) == bson_iter_date_time(b);
    case BSON_TYPE_DOUBLE:
        dx = bson_iter_double(a);
        dy = bson_iter_double(b);
        return memcmp(&dx, &dy, sizeof dx) == 0;
    default:
        return diff_equal_foreign(a, b);
    }
}

/* A read-only view of the document or array it points at. */
static bool
diff_view(const bson_iter_t *it, bson_t *view)
{
    const uint8_t *data;
    uint32_t len;

    diff_raw(it, &len, &data);
    return data != NULL && bson_init_static(view, data, len);
}

/* Finds key in doc by exact comparison (bson_iter_find_descendant would read
 * dots as a path); pos is its index among doc's members. */
static bool
diff_find(const bson_t *doc, const char *key, bson_iter_t *it, uint32_t *pos)
{
    uint32_t i = 0;

    if (!bson_iter_init(it, doc))
        return false;
    for (; bson_iter_next(it); i++) {
        if (strcmp(bson_iter_key(it), key) == 0) {
            *pos = i;
            return true;
        }
    }
    return false;
}

/* Emits, as removals, the members of old at positions [from, to) that new lacks. */
static void
diff_removed(diff_ctx_t *cx, const bson_t *old_doc, const bson_t *new_doc, const char *const *skip,
             uint32_t from, uint32_t to)
{
    bson_iter_t it, found;
    uint32_t i = 0, pos;

    if (from >= to || !bson_iter_init(&it, old_doc))
        return;
    for (; bson_iter_next(&it) && i < to; i++) {
        const char *key = bson_iter_key(&it);
        if (i < from || codec_key_skipped(key, skip) || diff_find(new_doc, key, &found, &pos))
            continue;
        diff_emit_at(cx, key, &it, NULL);
    }
}

/* Compares two documents member by member; see the module comment for the order. */
static void
diff_objects(diff_ctx_t *cx, const bson_t *old_doc, const bson_t *new_doc, const char *const *skip,
             int depth)
{
    bson_iter_t it, old_it;
    uint32_t cursor = 0, pos;

    if (!bson_iter_init(&it, new_doc))
        return;
    while (bson_iter_next(&it)) {
        const char *key = bson_iter_key(&it);
        if (codec_key_skipped(key, skip))
            continue;
        if (!diff_find(old_doc, key, &old_it, &pos)) {
            diff_emit_at(cx, key, NULL, &it);
            continue;
        }
        diff_removed(cx, old_doc, new_doc, skip, cursor, pos);
        cursor = pos + 1 > cursor ? pos + 1 : cursor;
        size_t saved = diff_path_push(cx, key);
        diff_values(cx, &old_it, &it, depth + 1);
        diff_path_cut(cx, saved);
    }
    diff_removed(cx, old_doc, new_doc, skip, cursor, UINT32_MAX);
}

/* Compares two arrays index by index; a surplus element is a change of its own. */
static void
diff_arrays(diff_ctx_t *cx, const bson_t *old_arr, const bson_t *new_arr, int depth)
{
    bson_iter_t a, b;
    bool has_a, has_b;
    char keybuf[16];
    const char *key;

    if (!bson_iter_init(&a, old_arr) || !bson_iter_init(&b, new_arr))
        return;
    has_a = bson_iter_next(&a);
    has_b = bson_iter_next(&b);
    for (uint32_t i = 0; has_a || has_b; i++) {
        bson_uint32_to_string(i, &key, keybuf, sizeof keybuf);
        size_t saved = diff_path_push(cx, key);
        if (has_a && has_b)
            diff_values(cx, &a, &b, depth + 1);
        else
            diff_emit(cx, has_a ? &a : NULL, has_b ? &b : NULL);
        diff_path_cut(cx, saved);
        has_a = has_a && bson_iter_next(&a);
        has_b = has_b && bson_iter_next(&b);
    }
}

/* Two values at the current path: containers of one kind are walked, anything
 * else is one change when it differs. */
static void
diff_values(diff_ctx_t *cx, const bson_iter_t *old_it, const bson_iter_t *new_it, int depth)
{
    bson_type_t type = bson_iter_type(new_it);
    bson_t old_view, new_view;

    if (diff_equal(old_it, new_it))
        return;
    if (type != bson_iter_type(old_it) || depth > DIFF_MAX_DEPTH ||
        (type != BSON_TYPE_DOCUMENT && type != BSON_TYPE_ARRAY) || !diff_view(old_it, &old_view) ||
        !diff_view(new_it, &new_view)) {
        diff_emit(cx, old_it, new_it);
        return;
    }
    if (type == BSON_TYPE_DOCUMENT)
        diff_objects(cx, &old_view, &new_view, NULL, depth);
    else
        diff_arrays(cx, &old_view, &new_view, depth);
}

size_t
diff_documents(const bson_t *old_doc, const bson_t *new_doc, const char *const *skip,
               bson_t *changes)
{
    diff_ctx_t cx = {.changes = changes};
    bson_t empty = BSON_INITIALIZER;

    buf_init(&cx.path, 0);
    cx.next_key = bson_count_keys(changes);
    diff_objects(&cx, old_doc != NULL ? old_doc : &empty, new_doc != NULL ? new_doc : &empty, skip,
                 0);
    buf_release(&cx.path);
    bson_destroy(&empty);
    return cx.count;
}
