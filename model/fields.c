/*
 * fields: the walker of declared field tables (model/fields.h).
 *
 * Choices made here for every model:
 *   - A date of the right shape that does not exist (2023-02-29) is
 *     DATE_RANGE, as DATA-MODEL.md calls it "impossible"; bad shape is FORMAT.
 *     Dates lie within 1900-01-01 … today (the region's day, model/calendar.h).
 *   - A document's issued_on is compared with its holder's birth date
 *     (FIELD_F_PERSON marks the objects that are persons).
 *   - Names: letters of the Cyrillic block (so Tatar ә or Bashkir ҡ pass),
 *     Latin letters with Latin-1 and Extended-A diacritics (é, ł), space,
 *     hyphen and apostrophe; at least one letter; ’ (U+2019) is stored as '.
 *   - An INT is a JSON integer (no fraction, no exponent) within its bounds;
 *     a string of digits is FORMAT, as JSON types are part of the contract.
 */
#include "model/fields.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/msg.h"
#include "core/utf8.h"
#include "model/calendar.h"
#include "model/validators.h"

#define FIELDS_DATE_MIN "1900-01-01"

/* E.164 allows 15 digits; 10 is a Russian number without its country code. */
#define FIELDS_PHONE_DIGITS_MIN 10
#define FIELDS_PHONE_DIGITS_MAX 15

/* Reporting. */

void
fields_fail(fields_ctx_t *cx, const char *ptr, kt_code_t code, const char *msg)
{
    cx->nerrors++;
    if (cx->fields.nfields >= FIELDS_ERRORS_MAX)
        return;
    if (!kt_error_add_field(&cx->fields, cx->arena, ptr, code, msg))
        cx->oom = true;
}

void
fields_failf(fields_ctx_t *cx, const char *ptr, kt_code_t code, const char *fmt, ...)
{
    char en[KT_ERROR_MESSAGE_MAX], ru[KT_ERROR_MESSAGE_MAX];
    va_list ap;

    cx->nerrors++;
    if (cx->fields.nfields >= FIELDS_ERRORS_MAX)
        return;
    va_start(ap, fmt);
    kt_msg_vformat_ru(ru, sizeof ru, fmt, ap);
    va_end(ap);
    va_start(ap, fmt);
    vsnprintf(en, sizeof en, fmt, ap);
    va_end(ap);
    if (!kt_error_add_field2(&cx->fields, cx->arena, ptr, code, en, ru))
        cx->oom = true;
}

/* ptr + "/" + key, the key escaped per RFC 6901 (~ → ~0, / → ~1). On
 * allocation failure returns ptr itself, so callers need no NULL checks. */
static const char *
fields_ptr_key(fields_ctx_t *cx, const char *ptr, const char *key, size_t key_len)
{
    size_t plen = strlen(ptr), n = plen + 1 + key_len, k = plen;
    char *out;

    for (size_t i = 0; i < key_len; i++)
        n += key[i] == '~' || key[i] == '/';
    out = arena_alloc(cx->arena, n + 1);
    if (out == NULL) {
        cx->oom = true;
        return ptr;
    }
    memcpy(out, ptr, plen);
    out[k++] = '/';
    for (size_t i = 0; i < key_len; i++) {
        if (key[i] == '~' || key[i] == '/') {
            out[k++] = '~';
            out[k++] = key[i] == '~' ? '0' : '1';
        } else {
            out[k++] = key[i];
        }
    }
    out[k] = '\0';
    return out;
}

const char *
fields_ptr(fields_ctx_t *cx, const char *ptr, const char *name)
{
    return fields_ptr_key(cx, ptr, name, strlen(name));
}

const char *
fields_ptr_index(fields_ctx_t *cx, const char *ptr, size_t i)
{
    const char *out = arena_printf(cx->arena, "%s/%zu", ptr, i);

    if (out == NULL)
        cx->oom = true;
    return out != NULL ? out : ptr;
}

/* Building the normalised tree. */

json_value_t *
fields_node(fields_ctx_t *cx, json_type_t type)
{
    json_value_t *n = arena_calloc(cx->arena, 1, sizeof *n);

    if (n == NULL)
        cx->oom = true;
    else
        n->type = type;
    return n;
}

/* Replaces the text of a string node with a copy of len bytes of text. */
bool
fields_set(fields_ctx_t *cx, json_value_t *s, const char *text, size_t len)
{
    char *copy = arena_strndup(cx->arena, text, len);

    if (copy == NULL) {
        cx->oom = true;
        return false;
    }
    s->str = copy;
    s->len = len;
    return true;
}

json_value_t *
fields_string_node(fields_ctx_t *cx, const char *text, size_t len)
{
    json_value_t *n = fields_node(cx, JSON_STRING);

    if (n != NULL && !fields_set(cx, n, text, len))
        return NULL;
    return n;
}

/* Appends child to parent; key is a table name (static) or NULL in arrays. */
void
fields_append(json_value_t *parent, json_value_t **tail, json_value_t *child, const char *key)
{
    child->key = key;
    child->key_len = key != NULL ? strlen(key) : 0;
    child->next = NULL;
    if (*tail == NULL)
        parent->child = child;
    else
        (*tail)->next = child;
    *tail = child;
    parent->count++;
}

/* Characters. */

/* Decodes the code point at s[*i] and moves past it; FIELDS_BAD_CP when the
 * bytes are not UTF-8 (the parser guarantees they are; other callers may not). */
uint32_t
fields_cp(const char *s, size_t len, size_t *i)
{
    const unsigned char *u = (const unsigned char *)s + *i;
    size_t n = utf8_char_len(s + *i, len - *i);
    uint32_t cp;

    if (n == 0) {
        (*i)++;
        return FIELDS_BAD_CP;
    }
    cp = n == 1 ? u[0] : u[0] & (0x7f >> n);
    for (size_t k = 1; k < n; k++)
        cp = (cp << 6) | (u[k] & 0x3f);
    *i += n;
    return cp;
}

/* Writes a code point below U+0800 (all this module produces) as UTF-8. */
size_t
fields_put_cp(char *out, uint32_t cp)
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    out[0] = (char)(0xc0 | (cp >> 6));
    out[1] = (char)(0x80 | (cp & 0x3f));
    return 2;
}

/* Controls and bidirectional formatting: the one text rule (core/utf8.h). */
static bool
fields_is_control(uint32_t cp)
{
    return !utf8_cp_is_text(cp);
}

static bool
fields_is_digit(char c)
{
    return c >= '0' && c <= '9';
}

bool
fields_digits(const json_value_t *s, size_t n)
{
    if (s->len != n)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (!fields_is_digit(s->str[i]))
            return false;
    }
    return true;
}

/* Letters of a person's name; see the module comment. */
static bool
fields_is_letter(uint32_t cp)
{
    if ((cp >= 'A' && cp <= 'Z') || (cp >= 'a' && cp <= 'z'))
        return true;
    if (cp >= 0xc0 && cp <= 0x17f)
        return cp != 0xd7 && cp != 0xf7; /* × and ÷ sit among the letters */
    /* U+0482–U+0489 are a sign and combining marks, not letters. */
    return (cp >= 0x400 && cp <= 0x481) || (cp >= 0x48a && cp <= 0x4ff);
}

/* Shape checks (field_check_fn). */

kt_code_t
fields_check_name(fields_ctx_t *cx, json_value_t *s, const char **msg)
{
    char *out = arena_alloc(cx->arena, s->len + 1);
    size_t i = 0, k = 0, letters = 0;

    *msg = "Letters (Cyrillic or Latin), space, hyphen and apostrophe are allowed";
    if (out == NULL) {
        cx->oom = true;
        return KT_FORMAT;
    }
    while (i < s->len) {
        size_t at = i;
        uint32_t cp = fields_cp(s->str, s->len, &i);
        if (cp == 0x2019) { /* the typographic apostrophe is stored as the plain one */
            out[k++] = '\'';
            continue;
        }
        if (!fields_is_letter(cp) && cp != ' ' && cp != '-' && cp != '\'')
            return KT_FORMAT;
        letters += fields_is_letter(cp);
        memcpy(out + k, s->str + at, i - at);
        k += i - at;
    }
    if (letters == 0)
        return KT_FORMAT;
    out[k] = '\0';
    s->str = out;
    s->len = k;
    return KT_OK;
}

/* "NNNN-NN-NN"; whether such a day exists is date_parse()'s question. */
static bool
fields_date_shape(const json_value_t *s)
{
    if (s->len != 10 || s->str[4] != '-' || s->str[7] != '-')
        return false;
    for (size_t i = 0; i < 10; i++) {
        if (i != 4 && i != 7 && !fields_is_digit(s->str[i]))
            return false;
    }
    return true;
}

kt_code_t
fields_check_date(fields_ctx_t *cx, json_value_t *s, const char **msg)
{
    *msg = "A date is expected as YYYY-MM-DD";
    if (!fields_date_shape(s))
        return KT_FORMAT;
    *msg = "There is no such date";
    if (!date_parse(s->str, NULL, NULL, NULL))
        return KT_DATE_RANGE;
    *msg = "The date must be from 1900-01-01 to today";
    if (date_compare(s->str, FIELDS_DATE_MIN) < 0 || date_compare(s->str, cx->today) > 0)
        return KT_DATE_RANGE;
    return KT_OK;
}

/* A person's birth date: also the bound for the issue dates of their documents. */
kt_code_t
fields_check_birth_date(fields_ctx_t *cx, json_value_t *s, const char **msg)
{
    kt_code_t code = fields_check_date(cx, s, msg);

    if (code == KT_OK)
        cx->birth = s->str;
    return code;
}

kt_code_t
fields_check_snils(fields_ctx_t *cx, json_value_t *s, const char **msg)
{
    char digits[12];

    *msg = "SNILS: 11 digits or XXX-XXX-XXX YY";
    if (!snils_normalize(s->str, digits))
        return KT_FORMAT;
    *msg = NULL;
    if (!snils_checksum_ok(digits))
        return KT_SNILS_CHECKSUM;
    fields_set(cx, s, digits, 11);
    return KT_OK;
}

kt_code_t
fields_check_ogrn(fields_ctx_t *cx, json_value_t *s, const char **msg)
{
    *msg = "OGRN: 13 digits";
    if (!fields_digits(s, 13))
        return KT_FORMAT;
    *msg = NULL;
    return ogrn_valid(s->str) ? KT_OK : KT_OGRN_CHECKSUM;
}

kt_code_t
fields_check_country(fields_ctx_t *cx, json_value_t *s, const char **msg)
{
    *msg = "Country code of OKSM: 3 digits";
    return fields_digits(s, 3) ? KT_OK : KT_FORMAT;
}

kt_code_t
fields_check_region(fields_ctx_t *cx, json_value_t *s, const char **msg)
{
    *msg = "Region code: 2 digits";
    return fields_digits(s, 2) ? KT_OK : KT_FORMAT;
}

kt_code_t
fields_check_oktmo(fields_ctx_t *cx, json_value_t *s, const char **msg)
{
    *msg = "OKTMO: 8 or 11 digits";
    return oktmo_valid(s->str) ? KT_OK : KT_FORMAT;
}

static int
fields_hex_lower(char c)
{
    if (fields_is_digit(c) || (c >= 'a' && c <= 'f'))
        return c;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 'a';
    return 0;
}

/* A GUID of ФИАС/ГАР, 8-4-4-4-12 hex digits; stored in lower case. */
kt_code_t
fields_check_fias(fields_ctx_t *cx, json_value_t *s, const char **msg)
{
    char out[37];

    *msg = "FIAS GUID: xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx";
    if (s->len != 36)
        return KT_FORMAT;
    for (size_t i = 0; i < 36; i++) {
        bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        int c = dash ? (s->str[i] == '-' ? '-' : 0) : fields_hex_lower(s->str[i]);
        if (c == 0)
            return KT_FORMAT;
        out[i] = (char)c;
    }
    fields_set(cx, s, out, 36);
    return KT_OK;
}

/* "+7 (912) 345-67-89" → "+79123456789": spaces, hyphens and parentheses go. */
kt_code_t
fields_check_phone(fields_ctx_t *cx, json_value_t *s, const char **msg)
{
    char out[1 + FIELDS_PHONE_DIGITS_MAX];
    size_t k = 0;

    *msg = "Phone: \"+\" and 10 to 15 digits";
    for (size_t i = 0; i < s->len; i++) {
        char c = s->str[i];
        if (c == ' ' || c == '-' || c == '(' || c == ')')
            continue;
        if (k == sizeof out || (k == 0 ? c != '+' : !fields_is_digit(c)))
            return KT_FORMAT;
        out[k++] = c;
    }
    if (k < 1 + FIELDS_PHONE_DIGITS_MIN)
        return KT_FORMAT;
    fields_set(cx, s, out, k);
    return KT_OK;
}

/* Deliberately simple (RFC 5322 allows far more than mail systems accept):
 * one "@" with something on each side, and no spaces. */
kt_code_t
fields_check_email(fields_ctx_t *cx, json_value_t *s, const char **msg)
{
    const char *at = memchr(s->str, '@', s->len);

    *msg = "E-mail address: one \"@\", no spaces";
    if (at == NULL || at == s->str || at == s->str + s->len - 1 ||
        memchr(at + 1, '@', s->len - (size_t)(at - s->str) - 1) != NULL ||
        memchr(s->str, ' ', s->len) != NULL)
        return KT_FORMAT;
    return KT_OK;
}

/* Runs check over an OK slot; reports and marks it BAD on failure. */
void
fields_recheck(fields_ctx_t *cx, const char *ptr, const char *name, field_slot_t *slot,
               field_check_fn check)
{
    const char *msg = NULL;
    kt_code_t code;

    if (slot->state != FIELD_OK)
        return;
    code = check(cx, slot->out, &msg);
    if (code != KT_OK) {
        fields_fail(cx, fields_ptr(cx, ptr, name), code, msg);
        slot->state = FIELD_BAD;
    }
}

/* The walk. */

static void fields_member(fields_ctx_t *cx, const field_t *f, const json_value_t *v,
                          const char *ptr, field_slot_t *slot);

/* Counts the characters of a string, or returns false at a control character
 * or a byte that is not UTF-8. */
static bool
fields_scan(const json_value_t *s, size_t *chars)
{
    size_t i = 0;

    *chars = 0;
    while (i < s->len) {
        uint32_t cp = fields_cp(s->str, s->len, &i);
        if (cp == FIELDS_BAD_CP || fields_is_control(cp))
            return false;
        (*chars)++;
    }
    return true;
}

static bool
fields_in_enum(const json_value_t *s, const char *const *values)
{
    for (size_t i = 0; values[i] != NULL; i++) {
        if (strlen(values[i]) == s->len && memcmp(values[i], s->str, s->len) == 0)
            return true;
    }
    return false;
}

/* "M, F": the values of an ENUM error's message. */
static const char *
fields_enum_values(fields_ctx_t *cx, const char *const *values)
{
    const char *list = "";

    for (size_t i = 0; list != NULL && values[i] != NULL; i++)
        list = arena_printf(cx->arena, "%s%s%s", list, i > 0 ? ", " : "", values[i]);
    return list != NULL ? list : "";
}

/* Checks a scalar value's rule (enum list, then shape) on its trimmed copy. */
static field_state_t
fields_scalar_rule(fields_ctx_t *cx, const field_t *f, json_value_t *node, const char *ptr)
{
    const char *msg = NULL;
    kt_code_t code;

    if (f->type == FIELD_T_ENUM && !fields_in_enum(node, f->values)) {
        fields_failf(cx, ptr, KT_ENUM, "Allowed values: %s", fields_enum_values(cx, f->values));
        return FIELD_BAD;
    }
    if (f->check == NULL)
        return FIELD_OK;
    code = f->check(cx, node, &msg);
    if (code != KT_OK) {
        fields_fail(cx, ptr, code, msg);
        return FIELD_BAD;
    }
    return FIELD_OK;
}

/* STRING and ENUM: a JSON string, no control characters, trimmed, within
 * the length in characters, then the enum list or the shape check. */
static field_state_t
fields_string(fields_ctx_t *cx, const field_t *f, const json_value_t *in, const char *ptr,
              json_value_t **out)
{
    size_t start = 0, end = in->len, chars;

    if (in->type != JSON_STRING) {
        fields_fail(cx, ptr, KT_FORMAT, "A string is expected");
        return FIELD_BAD;
    }
    if (!fields_scan(in, &chars)) {
        fields_fail(cx, ptr, KT_FORMAT, "Control characters are not allowed");
        return FIELD_BAD;
    }
    while (start < end && in->str[start] == ' ')
        start++;
    while (end > start && in->str[end - 1] == ' ')
        end--;
    if (start == end) {
        if (f->required)
            fields_fail(cx, ptr, KT_REQUIRED, NULL);
        return f->required ? FIELD_BAD : FIELD_ABSENT;
    }
    chars -= in->len - (end - start); /* the trimmed spaces are one byte each */
    if (f->max != 0 && chars > f->max) {
        fields_failf(cx, ptr, KT_FORMAT, "At most %zu characters", f->max);
        return FIELD_BAD;
    }
    *out = fields_string_node(cx, in->str + start, end - start);
    if (*out == NULL)
        return FIELD_BAD;
    return fields_scalar_rule(cx, f, *out, ptr);
}

static field_state_t
fields_array(fields_ctx_t *cx, const field_t *f, const json_value_t *in, const char *ptr,
             json_value_t **out)
{
    json_value_t *tail = NULL;
    field_slot_t item;
    size_t i = 0, before = cx->nerrors;

    if (in->type != JSON_ARRAY) {
        fields_fail(cx, ptr, KT_FORMAT, "An array is expected");
        return FIELD_BAD;
    }
    if (in->count == 0) {
        if (f->required)
            fields_fail(cx, ptr, KT_REQUIRED, "At least one item is needed");
        return f->required ? FIELD_BAD : FIELD_ABSENT;
    }
    if (f->max != 0 && in->count > f->max) {
        fields_failf(cx, ptr, KT_FORMAT, "At most %zu items", f->max);
        return FIELD_BAD;
    }
    *out = fields_node(cx, JSON_ARRAY);
    for (const json_value_t *v = in->child; *out != NULL && v != NULL; v = v->next, i++) {
        fields_member(cx, f->child, v, fields_ptr_index(cx, ptr, i), &item);
        if (item.state == FIELD_OK)
            fields_append(*out, &tail, item.out, NULL);
    }
    return *out != NULL && cx->nerrors == before ? FIELD_OK : FIELD_BAD;
}

static bool
fields_known(const field_t *table, const json_value_t *m)
{
    for (const field_t *f = table; f->type != FIELD_T_END; f++) {
        if (strlen(f->name) == m->key_len && memcmp(f->name, m->key, m->key_len) == 0)
            return true;
    }
    return false;
}

/* Validates the members of an object against its table into slots. */
static void
fields_members(fields_ctx_t *cx, const field_t *table, const json_value_t *in, const char *ptr,
               field_slot_t *slots)
{
    for (const json_value_t *m = in->child; m != NULL; m = m->next) {
        if (!fields_known(table, m))
            fields_fail(cx, fields_ptr_key(cx, ptr, m->key, m->key_len), KT_UNKNOWN_FIELD, NULL);
    }
    for (size_t i = 0; table[i].type != FIELD_T_END; i++) {
        if (table[i].type == FIELD_T_ASSIGNED)
            continue;
        fields_member(cx, &table[i], json_get(in, table[i].name),
                      fields_ptr(cx, ptr, table[i].name), &slots[i]);
    }
}

static size_t
fields_table_len(const field_t *table)
{
    size_t n = 0;

    while (table[n].type != FIELD_T_END)
        n++;
    return n;
}

static field_state_t
fields_object(fields_ctx_t *cx, const field_t *f, const json_value_t *in, const char *ptr,
              json_value_t **out)
{
    size_t n = fields_table_len(f->child), before = cx->nerrors;
    const char *saved_birth = cx->birth;
    json_value_t *tail = NULL;
    field_slot_t *slots;

    if (in->type != JSON_OBJECT) {
        fields_fail(cx, ptr, KT_FORMAT, "An object is expected");
        return FIELD_BAD;
    }
    slots = arena_calloc(cx->arena, n, sizeof *slots);
    *out = fields_node(cx, JSON_OBJECT);
    if (slots == NULL || *out == NULL) {
        cx->oom = true;
        return FIELD_BAD;
    }
    if (f->flags & FIELD_F_PERSON)
        cx->birth = NULL;
    fields_members(cx, f->child, in, ptr, slots);
    if (f->rule != NULL)
        f->rule(cx, ptr, slots);
    for (size_t i = 0; i < n; i++) {
        if (slots[i].state == FIELD_OK)
            fields_append(*out, &tail, slots[i].out, f->child[i].name);
    }
    cx->birth = saved_birth;
    return cx->nerrors == before ? FIELD_OK : FIELD_BAD;
}

/* INT: an integer literal (no fraction or exponent) within [min, max]; the
 * node keeps the literal, so the output writes exactly what was checked. */
static field_state_t
fields_int(fields_ctx_t *cx, const field_t *f, const json_value_t *in, const char *ptr,
           json_value_t **out)
{
    int64_t v;

    if (in->type != JSON_NUMBER || !json_as_int64(in, &v)) {
        fields_fail(cx, ptr, KT_FORMAT, "An integer is expected");
        return FIELD_BAD;
    }
    if (v < f->min || v > (int64_t)f->max) {
        fields_failf(cx, ptr, KT_FORMAT, "A number from %lld to %lld is expected",
                     (long long)f->min, (long long)f->max);
        return FIELD_BAD;
    }
    *out = fields_node(cx, JSON_NUMBER);
    if (*out == NULL || !fields_set(cx, *out, in->str, in->len))
        return FIELD_BAD;
    return FIELD_OK;
}

static field_state_t
fields_bool(fields_ctx_t *cx, const json_value_t *in, const char *ptr, json_value_t **out)
{
    if (in->type != JSON_TRUE && in->type != JSON_FALSE) {
        fields_fail(cx, ptr, KT_FORMAT, "true or false is expected");
        return FIELD_BAD;
    }
    *out = fields_node(cx, in->type);
    return *out != NULL ? FIELD_OK : FIELD_BAD;
}

/* One value v (NULL when the member is absent) of field f at ptr. */
static void
fields_member(fields_ctx_t *cx, const field_t *f, const json_value_t *v, const char *ptr,
              field_slot_t *slot)
{
    slot->state = FIELD_ABSENT;
    slot->out = NULL;
    if (v == NULL || v->type == JSON_NULL) {
        if (f->required) {
            fields_fail(cx, ptr, KT_REQUIRED, NULL);
            slot->state = FIELD_BAD;
        }
        return;
    }
    switch (f->type) {
    case FIELD_T_STRING:
    case FIELD_T_ENUM:
        slot->state = fields_string(cx, f, v, ptr, &slot->out);
        break;
    case FIELD_T_OBJECT:
        slot->state = fields_object(cx, f, v, ptr, &slot->out);
        break;
    case FIELD_T_ARRAY:
        slot->state = fields_array(cx, f, v, ptr, &slot->out);
        break;
    case FIELD_T_INT:
        slot->state = fields_int(cx, f, v, ptr, &slot->out);
        break;
    case FIELD_T_BOOL:
        slot->state = fields_bool(cx, v, ptr, &slot->out);
        break;
    default:
        break;
    }
}

/* Output. */

static bool fields_bson_members(const json_value_t *v, bson_t *out);

/* Appends one normalised value: strings, integers (checked by fields_int),
 * booleans, objects, arrays. */
static bool
fields_bson_value(bson_t *out, const char *key, size_t key_len, const json_value_t *v)
{
    bson_t child;
    int64_t n;
    bool ok;

    if (v->type == JSON_STRING)
        return bson_append_utf8(out, key, (int)key_len, v->str, (int)v->len);
    if (v->type == JSON_NUMBER)
        return json_as_int64(v, &n) && bson_append_int64(out, key, (int)key_len, n);
    if (v->type == JSON_TRUE || v->type == JSON_FALSE)
        return bson_append_bool(out, key, (int)key_len, v->type == JSON_TRUE);
    if (v->type == JSON_OBJECT)
        ok = bson_append_document_begin(out, key, (int)key_len, &child);
    else
        ok = bson_append_array_begin(out, key, (int)key_len, &child);
    if (!ok)
        return false;
    ok = fields_bson_members(v, &child);
    if (v->type == JSON_OBJECT)
        return bson_append_document_end(out, &child) && ok;
    return bson_append_array_end(out, &child) && ok;
}

static bool
fields_bson_members(const json_value_t *v, bson_t *out)
{
    char keybuf[16];
    const char *key;
    size_t key_len;
    uint32_t i = 0;

    for (const json_value_t *c = v->child; c != NULL; c = c->next, i++) {
        if (v->type == JSON_ARRAY) {
            key_len = bson_uint32_to_string(i, &key, keybuf, sizeof keybuf);
        } else {
            key = c->key;
            key_len = c->key_len;
        }
        if (!fields_bson_value(out, key, key_len, c))
            return false;
    }
    return true;
}

bool
fields_tree_to_bson(const json_value_t *obj, bson_t *out)
{
    return fields_bson_members(obj, out);
}

/* today as given when it is a real date, else the clock's in the region's zone
 * (model/calendar.h). */
static const char *
fields_today(const char *today, char now[11])
{
    if (today != NULL && date_parse(today, NULL, NULL, NULL))
        return today;
    date_today(now);
    return now;
}

/* 422 with the field list: the list moves over after kt_error_set(), which resets it. */
static void
fields_report(fields_ctx_t *cx, const char *what, kt_error_t *err)
{
    if (err == NULL)
        return;
    kt_error_set(err, KT_DOMAIN_INPUT, KT_VALIDATION, "%s (%zu errors)", what, cx->nerrors);
    err->fields = cx->fields.fields;
    err->nfields = cx->fields.nfields;
}

bool
fields_from_json(arena_t *arena, const field_t *root, const json_value_t *body, const char *today,
                 const char *what, bson_t *out, kt_error_t *err)
{
    fields_ctx_t cx;
    field_slot_t slot;
    char now[11];

    memset(&cx, 0, sizeof cx);
    cx.arena = arena;
    cx.today = fields_today(today, now);
    fields_member(&cx, root, body, "", &slot);
    if (cx.oom) {
        kt_error_set(err, KT_DOMAIN_INPUT, KT_PAYLOAD_TOO_LARGE,
                     "Not enough memory to check the data");
        return false;
    }
    if (cx.nerrors > 0 || slot.state != FIELD_OK) {
        fields_report(&cx, what, err);
        return false;
    }
    if (!fields_bson_members(slot.out, out)) {
        kt_error_set(err, KT_DOMAIN_INTERNAL, KT_INTERNAL,
                     "the document's BSON could not be built");
        return false;
    }
    return true;
}
