/*
 * student: one declared field table, walked once.
 *
 * student_fields below is the whole phase-1 model: each row says a member's
 * JSON name, its type, whether it is mandatory, its length limit (characters
 * of a string, items of an array), its shape check or enum list, and for
 * objects and arrays the table of what is inside. The walk turns the input
 * tree into a normalised tree in the arena (trimmed strings, СНИЛС as
 * digits, series upper-cased), collecting every error with its JSON
 * Pointer; only a clean tree is written out as BSON. Rules that look at
 * several members of one object (document type → series shape, citizenship
 * category → countries) are the object row's `rule`, run after its members.
 *
 * Choices the contract leaves open, made here:
 *   - Strings are trimmed of outer spaces (U+0020). An optional string that
 *     is empty after trimming counts as absent; an optional array with no
 *     items likewise. A control character (C0, DEL, C1) anywhere is FORMAT.
 *   - A date of the right shape that does not exist (2023-02-29) is
 *     DATE_RANGE, as DATA-MODEL.md calls it "impossible"; bad shape is FORMAT.
 *   - A document's issued_on is compared with its holder's birth date: the
 *     student's for documents[], the representative's own (when given) for
 *     representatives[i].document.
 *   - Names: letters of the Cyrillic block (so Tatar ә or Bashkir ҡ pass),
 *     Latin letters with Latin-1 and Extended-A diacritics (é, ł), space,
 *     hyphen and apostrophe; at least one letter; ’ (U+2019) is stored as '.
 *   - Birth certificate series: Cyrillic Х, С, І typed in the Roman part are
 *     read as X, C, I (federal.md §3); the letters may be lower case. Both
 *     are stored upper case, Roman part in Latin.
 *   - At most STUDENT_ERRORS_MAX field errors are reported, so a body of a
 *     million unknown members cannot make a million-line answer.
 */
#include "model/student.h"

#include <stdint.h>
#include <string.h>

#include "core/utf8.h"
#include "model/validators.h"

#define STUDENT_ERRORS_MAX 100
#define STUDENT_DATE_MIN   "1900-01-01"
#define STUDENT_REQ        true
#define STUDENT_OPT        false
#define STUDENT_BAD_CP     UINT32_MAX
#define STUDENT_SERIES_MAX 20

/* E.164 allows 15 digits; 10 is a Russian number without its country code. */
#define STUDENT_PHONE_DIGITS_MIN 10
#define STUDENT_PHONE_DIGITS_MAX 15

typedef struct student_ctx student_ctx_t;
typedef struct student_field student_field_t;

typedef enum { STUDENT_ABSENT = 0, STUDENT_OK, STUDENT_BAD } student_state_t;

/* The outcome for one member of an object: its normalised value when OK. */
typedef struct {
    student_state_t state;
    json_value_t *out;
} student_slot_t;

/* Checks (and may normalise in place) a trimmed, non-empty string; returns
 * KT_OK or the code to report, with *msg the Russian text (NULL: the title). */
typedef kt_code_t (*student_check_fn)(student_ctx_t *cx, json_value_t *s, const char **msg);

/* A rule across the members of one object at ptr, given their slots. */
typedef void (*student_rule_fn)(student_ctx_t *cx, const char *ptr, student_slot_t *slots);

typedef enum {
    STUDENT_T_END = 0,  /* ends a table */
    STUDENT_T_ASSIGNED, /* server-assigned: accepted and skipped */
    STUDENT_T_STRING,
    STUDENT_T_ENUM,
    STUDENT_T_OBJECT,
    STUDENT_T_ARRAY,
    STUDENT_T__MAX
} student_type_t;

/* An object that is a person: dates of its documents compare with its own birth date. */
#define STUDENT_F_PERSON 1u

struct student_field {
    const char *name;
    student_type_t type;
    bool required;
    size_t max;                   /* characters, or items of an ARRAY; 0: check/enum bound it */
    student_check_fn check;       /* STRING: shape check and normalisation, or NULL */
    const char *const *values;    /* ENUM: the NULL-terminated list */
    const student_field_t *child; /* OBJECT: member table; ARRAY: the item */
    student_rule_fn rule;         /* OBJECT: rule across members, or NULL */
    unsigned flags;
};

struct student_ctx {
    arena_t *arena;
    const char *today;
    const char *birth; /* the current person's normalised birth date, or NULL */
    kt_error_t fields; /* the field errors, moved into err at the end */
    size_t nerrors;    /* errors found, including those past the cap */
    bool oom;
};

/* Reporting. */

static void
student_fail(student_ctx_t *cx, const char *ptr, kt_code_t code, const char *msg)
{
    cx->nerrors++;
    if (cx->fields.nfields >= STUDENT_ERRORS_MAX)
        return;
    if (!kt_error_add_field(&cx->fields, cx->arena, ptr, code, msg))
        cx->oom = true;
}

/* ptr + "/" + key, the key escaped per RFC 6901 (~ → ~0, / → ~1). On
 * allocation failure returns ptr itself, so callers need no NULL checks. */
static const char *
student_ptr_key(student_ctx_t *cx, const char *ptr, const char *key, size_t key_len)
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

static const char *
student_ptr(student_ctx_t *cx, const char *ptr, const char *name)
{
    return student_ptr_key(cx, ptr, name, strlen(name));
}

static const char *
student_ptr_index(student_ctx_t *cx, const char *ptr, size_t i)
{
    const char *out = arena_printf(cx->arena, "%s/%zu", ptr, i);

    if (out == NULL)
        cx->oom = true;
    return out != NULL ? out : ptr;
}

/* Building the normalised tree. */

static json_value_t *
student_node(student_ctx_t *cx, json_type_t type)
{
    json_value_t *n = arena_calloc(cx->arena, 1, sizeof *n);

    if (n == NULL)
        cx->oom = true;
    else
        n->type = type;
    return n;
}

/* Replaces the text of a string node with a copy of len bytes of text. */
static bool
student_set(student_ctx_t *cx, json_value_t *s, const char *text, size_t len)
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

static json_value_t *
student_string_node(student_ctx_t *cx, const char *text, size_t len)
{
    json_value_t *n = student_node(cx, JSON_STRING);

    if (n != NULL && !student_set(cx, n, text, len))
        return NULL;
    return n;
}

/* Appends child to parent; key is a table name (static) or NULL in arrays. */
static void
student_append(json_value_t *parent, json_value_t **tail, json_value_t *child, const char *key)
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

/* Decodes the code point at s[*i] and moves past it; STUDENT_BAD_CP when the
 * bytes are not UTF-8 (the parser guarantees they are; other callers may not). */
static uint32_t
student_cp(const char *s, size_t len, size_t *i)
{
    const unsigned char *u = (const unsigned char *)s + *i;
    size_t n = utf8_char_len(s + *i, len - *i);
    uint32_t cp;

    if (n == 0) {
        (*i)++;
        return STUDENT_BAD_CP;
    }
    cp = n == 1 ? u[0] : u[0] & (0x7f >> n);
    for (size_t k = 1; k < n; k++)
        cp = (cp << 6) | (u[k] & 0x3f);
    *i += n;
    return cp;
}

/* Writes a code point below U+0800 (all this module produces) as UTF-8. */
static size_t
student_put_cp(char *out, uint32_t cp)
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    out[0] = (char)(0xc0 | (cp >> 6));
    out[1] = (char)(0x80 | (cp & 0x3f));
    return 2;
}

static bool
student_is_control(uint32_t cp)
{
    return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f);
}

static bool
student_is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool
student_digits(const json_value_t *s, size_t n)
{
    if (s->len != n)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (!student_is_digit(s->str[i]))
            return false;
    }
    return true;
}

/* Letters of a person's name; see the module comment. */
static bool
student_is_letter(uint32_t cp)
{
    if ((cp >= 'A' && cp <= 'Z') || (cp >= 'a' && cp <= 'z'))
        return true;
    if (cp >= 0xc0 && cp <= 0x17f)
        return cp != 0xd7 && cp != 0xf7; /* × and ÷ sit among the letters */
    /* U+0482–U+0489 are a sign and combining marks, not letters. */
    return (cp >= 0x400 && cp <= 0x481) || (cp >= 0x48a && cp <= 0x4ff);
}

/* Shape checks (student_check_fn). */

static kt_code_t
student_check_name(student_ctx_t *cx, json_value_t *s, const char **msg)
{
    char *out = arena_alloc(cx->arena, s->len + 1);
    size_t i = 0, k = 0, letters = 0;

    *msg = "Допустимы буквы (кириллица или латиница), пробел, дефис и апостроф";
    if (out == NULL) {
        cx->oom = true;
        return KT_FORMAT;
    }
    while (i < s->len) {
        size_t at = i;
        uint32_t cp = student_cp(s->str, s->len, &i);
        if (cp == 0x2019) { /* the typographic apostrophe is stored as the plain one */
            out[k++] = '\'';
            continue;
        }
        if (!student_is_letter(cp) && cp != ' ' && cp != '-' && cp != '\'')
            return KT_FORMAT;
        letters += student_is_letter(cp);
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
student_date_shape(const json_value_t *s)
{
    if (s->len != 10 || s->str[4] != '-' || s->str[7] != '-')
        return false;
    for (size_t i = 0; i < 10; i++) {
        if (i != 4 && i != 7 && !student_is_digit(s->str[i]))
            return false;
    }
    return true;
}

static kt_code_t
student_check_date(student_ctx_t *cx, json_value_t *s, const char **msg)
{
    *msg = "Ожидается дата в виде ГГГГ-ММ-ДД";
    if (!student_date_shape(s))
        return KT_FORMAT;
    *msg = "Такой даты не существует";
    if (!date_parse(s->str, NULL, NULL, NULL))
        return KT_DATE_RANGE;
    *msg = "Дата должна быть не раньше 1900-01-01 и не позже сегодняшней";
    if (date_compare(s->str, STUDENT_DATE_MIN) < 0 || date_compare(s->str, cx->today) > 0)
        return KT_DATE_RANGE;
    return KT_OK;
}

/* A person's birth date: also the bound for the issue dates of their documents. */
static kt_code_t
student_check_birth_date(student_ctx_t *cx, json_value_t *s, const char **msg)
{
    kt_code_t code = student_check_date(cx, s, msg);

    if (code == KT_OK)
        cx->birth = s->str;
    return code;
}

static kt_code_t
student_check_snils(student_ctx_t *cx, json_value_t *s, const char **msg)
{
    char digits[12];

    *msg = "СНИЛС: 11 цифр или XXX-XXX-XXX YY";
    if (!snils_normalize(s->str, digits))
        return KT_FORMAT;
    *msg = NULL;
    if (!snils_checksum_ok(digits))
        return KT_SNILS_CHECKSUM;
    student_set(cx, s, digits, 11);
    return KT_OK;
}

static kt_code_t
student_check_ogrn(student_ctx_t *cx, json_value_t *s, const char **msg)
{
    *msg = "ОГРН: 13 цифр";
    if (!student_digits(s, 13))
        return KT_FORMAT;
    *msg = NULL;
    return ogrn_valid(s->str) ? KT_OK : KT_OGRN_CHECKSUM;
}

static kt_code_t
student_check_country(student_ctx_t *cx, json_value_t *s, const char **msg)
{
    *msg = "Код страны по ОКСМ: 3 цифры";
    return student_digits(s, 3) ? KT_OK : KT_FORMAT;
}

static kt_code_t
student_check_region(student_ctx_t *cx, json_value_t *s, const char **msg)
{
    *msg = "Код региона: 2 цифры";
    return student_digits(s, 2) ? KT_OK : KT_FORMAT;
}

static kt_code_t
student_check_oktmo(student_ctx_t *cx, json_value_t *s, const char **msg)
{
    *msg = "ОКТМО: 8 или 11 цифр";
    return oktmo_valid(s->str) ? KT_OK : KT_FORMAT;
}

static int
student_hex_lower(char c)
{
    if (student_is_digit(c) || (c >= 'a' && c <= 'f'))
        return c;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 'a';
    return 0;
}

/* A GUID of ФИАС/ГАР, 8-4-4-4-12 hex digits; stored in lower case. */
static kt_code_t
student_check_fias(student_ctx_t *cx, json_value_t *s, const char **msg)
{
    char out[37];

    *msg = "GUID ФИАС: xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx";
    if (s->len != 36)
        return KT_FORMAT;
    for (size_t i = 0; i < 36; i++) {
        bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        int c = dash ? (s->str[i] == '-' ? '-' : 0) : student_hex_lower(s->str[i]);
        if (c == 0)
            return KT_FORMAT;
        out[i] = (char)c;
    }
    student_set(cx, s, out, 36);
    return KT_OK;
}

/* "+7 (912) 345-67-89" → "+79123456789": spaces, hyphens and parentheses go. */
static kt_code_t
student_check_phone(student_ctx_t *cx, json_value_t *s, const char **msg)
{
    char out[1 + STUDENT_PHONE_DIGITS_MAX];
    size_t k = 0;

    *msg = "Телефон: «+» и от 10 до 15 цифр";
    for (size_t i = 0; i < s->len; i++) {
        char c = s->str[i];
        if (c == ' ' || c == '-' || c == '(' || c == ')')
            continue;
        if (k == sizeof out || (k == 0 ? c != '+' : !student_is_digit(c)))
            return KT_FORMAT;
        out[k++] = c;
    }
    if (k < 1 + STUDENT_PHONE_DIGITS_MIN)
        return KT_FORMAT;
    student_set(cx, s, out, k);
    return KT_OK;
}

/* Deliberately simple (RFC 5322 allows far more than mail systems accept):
 * one "@" with something on each side, and no spaces. */
static kt_code_t
student_check_email(student_ctx_t *cx, json_value_t *s, const char **msg)
{
    const char *at = memchr(s->str, '@', s->len);

    *msg = "Адрес электронной почты: один знак «@», без пробелов";
    if (at == NULL || at == s->str || at == s->str + s->len - 1 ||
        memchr(at + 1, '@', s->len - (size_t)(at - s->str) - 1) != NULL ||
        memchr(s->str, ' ', s->len) != NULL)
        return KT_FORMAT;
    return KT_OK;
}

/* The Latin Roman digit a character of a birth certificate series stands
 * for: I V X L C in either case, or the Cyrillic look-alikes І, Х, С. */
static char
student_roman_digit(uint32_t cp)
{
    switch (cp) {
    case 'I':
    case 'i':
    case 0x406:
    case 0x456:
        return 'I';
    case 'V':
    case 'v':
        return 'V';
    case 'X':
    case 'x':
    case 0x425:
    case 0x445:
        return 'X';
    case 'L':
    case 'l':
        return 'L';
    case 'C':
    case 'c':
    case 0x421:
    case 0x441:
        return 'C';
    default:
        return 0;
    }
}

/* The upper-case Russian letter (А–Я, Ё) for cp in either case, or 0. */
static uint32_t
student_russian_upper(uint32_t cp)
{
    if (cp >= 0x410 && cp <= 0x42f)
        return cp;
    if (cp >= 0x430 && cp <= 0x44f)
        return cp - 0x20;
    if (cp == 0x401 || cp == 0x451)
        return 0x401;
    return 0;
}

/* Series of a Russian birth certificate: "IV-АМ" (Roman numeral, hyphen,
 * two Russian letters). The field's character limit bounds out. */
static kt_code_t
student_check_birth_series(student_ctx_t *cx, json_value_t *s, const char **msg)
{
    char out[STUDENT_SERIES_MAX + 8];
    size_t i = 0, k = 0, letters = 0;
    uint32_t cp;

    *msg = "Серия свидетельства о рождении: римское число, дефис, две русские буквы (IV-АМ)";
    while (i < s->len && s->str[i] != '-' && k < STUDENT_SERIES_MAX) {
        char digit = student_roman_digit(student_cp(s->str, s->len, &i));
        if (digit == 0)
            return KT_FORMAT;
        out[k++] = digit;
    }
    if (k == 0 || i >= s->len || s->str[i] != '-')
        return KT_FORMAT;
    out[k++] = '-';
    i++;
    while (i < s->len && letters < 3) {
        cp = student_russian_upper(student_cp(s->str, s->len, &i));
        if (cp == 0)
            return KT_FORMAT;
        k += student_put_cp(out + k, cp);
        letters++;
    }
    if (letters != 2 || i != s->len)
        return KT_FORMAT;
    student_set(cx, s, out, k);
    return KT_OK;
}

static kt_code_t
student_check_passport_series(student_ctx_t *cx, json_value_t *s, const char **msg)
{
    *msg = "Серия паспорта РФ: 4 цифры";
    return student_digits(s, 4) ? KT_OK : KT_FORMAT;
}

static kt_code_t
student_check_rf_number(student_ctx_t *cx, json_value_t *s, const char **msg)
{
    *msg = "Номер документа РФ: 6 цифр";
    return student_digits(s, 6) ? KT_OK : KT_FORMAT;
}

/* "|" separates the parts of a document's claim key (store/write.c), so it
 * may not appear inside a series or number. */
static kt_code_t
student_check_key_part(student_ctx_t *cx, json_value_t *s, const char **msg)
{
    (void)cx;
    if (memchr(s->str, '|', s->len) == NULL)
        return KT_OK;
    *msg = "Символ «|» недопустим в серии и номере документа";
    return KT_FORMAT;
}

/* Rules across the members of one object (student_rule_fn). */

enum {
    STUDENT_DOC_TYPE,
    STUDENT_DOC_SERIES,
    STUDENT_DOC_NUMBER,
    STUDENT_DOC_ISSUER,
    STUDENT_DOC_ISSUED_ON,
    STUDENT_DOC__MAX
};

enum { STUDENT_CIT_CATEGORY, STUDENT_CIT_COUNTRIES, STUDENT_CIT__MAX };

/* The shapes of series and number that a document type fixes. */
typedef struct {
    const char *type;
    student_check_fn series; /* a series is then mandatory */
    student_check_fn number;
} student_doc_shape_t;

static const student_doc_shape_t student_doc_shapes[] = {
    {"BIRTH_CERT_RF", student_check_birth_series, student_check_rf_number},
    {"PASSPORT_RF", student_check_passport_series, student_check_rf_number},
};

/* Runs check over an OK slot; reports and marks it BAD on failure. */
static void
student_recheck(student_ctx_t *cx, const char *ptr, const char *name, student_slot_t *slot,
                student_check_fn check)
{
    const char *msg = NULL;
    kt_code_t code;

    if (slot->state != STUDENT_OK)
        return;
    code = check(cx, slot->out, &msg);
    if (code != KT_OK) {
        student_fail(cx, student_ptr(cx, ptr, name), code, msg);
        slot->state = STUDENT_BAD;
    }
}

static void
student_rule_document(student_ctx_t *cx, const char *ptr, student_slot_t *slots)
{
    const json_value_t *type = slots[STUDENT_DOC_TYPE].out;
    const json_value_t *issued = slots[STUDENT_DOC_ISSUED_ON].out;

    for (size_t i = 0; slots[STUDENT_DOC_TYPE].state == STUDENT_OK &&
                       i < sizeof student_doc_shapes / sizeof *student_doc_shapes;
         i++) {
        const student_doc_shape_t *shape = &student_doc_shapes[i];
        if (strcmp(type->str, shape->type) != 0)
            continue;
        if (slots[STUDENT_DOC_SERIES].state == STUDENT_ABSENT) {
            student_fail(cx, student_ptr(cx, ptr, "series"), KT_REQUIRED, NULL);
            slots[STUDENT_DOC_SERIES].state = STUDENT_BAD;
        }
        student_recheck(cx, ptr, "series", &slots[STUDENT_DOC_SERIES], shape->series);
        student_recheck(cx, ptr, "number", &slots[STUDENT_DOC_NUMBER], shape->number);
    }
    if (slots[STUDENT_DOC_ISSUED_ON].state == STUDENT_OK && cx->birth != NULL &&
        date_compare(issued->str, cx->birth) < 0) {
        student_fail(cx, student_ptr(cx, ptr, "issued_on"), KT_DATE_ORDER,
                     "Дата выдачи раньше даты рождения");
        slots[STUDENT_DOC_ISSUED_ON].state = STUDENT_BAD;
    }
}

/* The index of the first country repeated earlier in the list, or -1. */
static long
student_country_repeat(const json_value_t *countries, bool *has_russia)
{
    long i = 0;

    *has_russia = false;
    for (const json_value_t *c = countries->child; c != NULL; c = c->next, i++) {
        *has_russia = *has_russia || strcmp(c->str, "643") == 0;
        for (const json_value_t *d = countries->child; d != c; d = d->next) {
            if (strcmp(c->str, d->str) == 0)
                return i;
        }
    }
    return -1;
}

/* RF: countries ["643"] or none (then ["643"] is stored). */
static void
student_citizenship_rf(student_ctx_t *cx, const char *ptr, student_slot_t *countries)
{
    json_value_t *list, *tail = NULL, *russia;

    if (countries->state == STUDENT_OK) {
        if (countries->out->count != 1 || strcmp(countries->out->child->str, "643") != 0) {
            student_fail(cx, ptr, KT_FORMAT, "Для гражданства РФ указывается только страна 643");
            countries->state = STUDENT_BAD;
        }
        return;
    }
    list = student_node(cx, JSON_ARRAY);
    russia = student_string_node(cx, "643", 3);
    if (list == NULL || russia == NULL)
        return;
    student_append(list, &tail, russia, NULL);
    countries->out = list;
    countries->state = STUDENT_OK;
}

static void
student_rule_citizenship(student_ctx_t *cx, const char *ptr, student_slot_t *slots)
{
    student_slot_t *countries = &slots[STUDENT_CIT_COUNTRIES];
    const char *cptr = student_ptr(cx, ptr, "countries"), *category;
    size_t n = countries->state == STUDENT_OK ? countries->out->count : 0;
    bool russia = false;
    long repeat = n > 0 ? student_country_repeat(countries->out, &russia) : -1;

    if (slots[STUDENT_CIT_CATEGORY].state != STUDENT_OK || countries->state == STUDENT_BAD)
        return;
    category = slots[STUDENT_CIT_CATEGORY].out->str;
    if (repeat >= 0) {
        student_fail(cx, student_ptr_index(cx, cptr, (size_t)repeat), KT_FORMAT,
                     "Страна указана дважды");
        countries->state = STUDENT_BAD;
    } else if (strcmp(category, "RF") == 0) {
        student_citizenship_rf(cx, cptr, countries);
    } else if (strcmp(category, "STATELESS") == 0 && n > 0) {
        student_fail(cx, cptr, KT_FORMAT, "Для лиц без гражданства страны не указываются");
    } else if ((strcmp(category, "FOREIGN") == 0 || strcmp(category, "DUAL") == 0) && n == 0) {
        student_fail(cx, cptr, KT_REQUIRED, NULL);
    } else if (strcmp(category, "FOREIGN") == 0 && russia) {
        student_fail(cx, cptr, KT_FORMAT, "Для иностранного гражданства страна 643 не указывается");
    } else if (strcmp(category, "DUAL") == 0 && n < 2) {
        student_fail(cx, cptr, KT_FORMAT, "Для двойного гражданства нужно не менее двух стран");
    }
}

/* The field table. */

static const char *const student_sexes[] = {"M", "F", NULL};
static const char *const student_citizenship_categories[] = {"RF", "FOREIGN", "DUAL", "STATELESS",
                                                             NULL};
static const char *const student_document_types[] = {
    "BIRTH_CERT_RF", "PASSPORT_RF", "BIRTH_CERT_FOREIGN", "PASSPORT_FOREIGN", "OTHER", NULL};
static const char *const student_address_kinds[] = {"REGISTRATION", "RESIDENCE", "ACTUAL", NULL};
static const char *const student_representative_kinds[] = {
    "MOTHER", "FATHER", "GUARDIAN", "TRUSTEE", "ADOPTIVE_PARENT", "OTHER", NULL};

/* Columns: name, type, required, max, check, enum values, child, rule, flags. */

/* Array items and the root have no name: designated, they read better. */
static const student_field_t student_country = {
    .type = STUDENT_T_STRING, .required = STUDENT_REQ, .check = student_check_country};

static const student_field_t student_citizenship_fields[] = {
    [STUDENT_CIT_CATEGORY] = {"category", STUDENT_T_ENUM, STUDENT_REQ, 0, NULL,
                              student_citizenship_categories, NULL, NULL, 0},
    [STUDENT_CIT_COUNTRIES] = {"countries", STUDENT_T_ARRAY, STUDENT_OPT, STUDENT_COUNTRIES_MAX,
                               NULL, NULL, &student_country, NULL, 0},
    [STUDENT_CIT__MAX] = {0},
};

/* Type-specific shapes of series and number: student_doc_shapes. */
static const student_field_t student_document_fields[] = {
    [STUDENT_DOC_TYPE] = {"type", STUDENT_T_ENUM, STUDENT_REQ, 0, NULL, student_document_types,
                          NULL, NULL, 0},
    [STUDENT_DOC_SERIES] = {"series", STUDENT_T_STRING, STUDENT_OPT, STUDENT_SERIES_MAX,
                            student_check_key_part, NULL, NULL, NULL, 0},
    [STUDENT_DOC_NUMBER] = {"number", STUDENT_T_STRING, STUDENT_REQ, 30, student_check_key_part,
                            NULL, NULL, NULL, 0},
    [STUDENT_DOC_ISSUER] = {"issuer", STUDENT_T_STRING, STUDENT_OPT, 500, NULL, NULL, NULL, NULL,
                            0},
    [STUDENT_DOC_ISSUED_ON] = {"issued_on", STUDENT_T_STRING, STUDENT_OPT, 0, student_check_date,
                               NULL, NULL, NULL, 0},
    [STUDENT_DOC__MAX] = {0},
};

static const student_field_t student_document = {.type = STUDENT_T_OBJECT,
                                                 .required = STUDENT_REQ,
                                                 .child = student_document_fields,
                                                 .rule = student_rule_document};

static const student_field_t student_address_fields[] = {
    {"kind", STUDENT_T_ENUM, STUDENT_REQ, 0, NULL, student_address_kinds, NULL, NULL, 0},
    {"text", STUDENT_T_STRING, STUDENT_REQ, 1000, NULL, NULL, NULL, NULL, 0},
    {"region_code", STUDENT_T_STRING, STUDENT_OPT, 0, student_check_region, NULL, NULL, NULL, 0},
    {"oktmo", STUDENT_T_STRING, STUDENT_OPT, 0, student_check_oktmo, NULL, NULL, NULL, 0},
    {"fias_guid", STUDENT_T_STRING, STUDENT_OPT, 0, student_check_fias, NULL, NULL, NULL, 0},
    {0},
};

static const student_field_t student_address = {
    .type = STUDENT_T_OBJECT, .required = STUDENT_REQ, .child = student_address_fields};

static const student_field_t student_representative_fields[] = {
    {"kind", STUDENT_T_ENUM, STUDENT_REQ, 0, NULL, student_representative_kinds, NULL, NULL, 0},
    {"last_name", STUDENT_T_STRING, STUDENT_REQ, 100, student_check_name, NULL, NULL, NULL, 0},
    {"first_name", STUDENT_T_STRING, STUDENT_REQ, 100, student_check_name, NULL, NULL, NULL, 0},
    {"middle_name", STUDENT_T_STRING, STUDENT_OPT, 100, student_check_name, NULL, NULL, NULL, 0},
    {"birth_date", STUDENT_T_STRING, STUDENT_OPT, 0, student_check_birth_date, NULL, NULL, NULL, 0},
    {"snils", STUDENT_T_STRING, STUDENT_OPT, 0, student_check_snils, NULL, NULL, NULL, 0},
    {"citizenship", STUDENT_T_OBJECT, STUDENT_OPT, 0, NULL, NULL, student_citizenship_fields,
     student_rule_citizenship, 0},
    {"document", STUDENT_T_OBJECT, STUDENT_OPT, 0, NULL, NULL, student_document_fields,
     student_rule_document, 0},
    {"phone", STUDENT_T_STRING, STUDENT_OPT, 32, student_check_phone, NULL, NULL, NULL, 0},
    {"email", STUDENT_T_STRING, STUDENT_OPT, 254, student_check_email, NULL, NULL, NULL, 0},
    {0},
};

static const student_field_t student_representative = {.type = STUDENT_T_OBJECT,
                                                       .required = STUDENT_REQ,
                                                       .child = student_representative_fields,
                                                       .flags = STUDENT_F_PERSON};

/* The phase-1 student; phase 2 and 3 blocks become rows here. */
static const student_field_t student_fields[] = {
    {"id", STUDENT_T_ASSIGNED, STUDENT_OPT, 0, NULL, NULL, NULL, NULL, 0},
    {"version", STUDENT_T_ASSIGNED, STUDENT_OPT, 0, NULL, NULL, NULL, NULL, 0},
    {"state", STUDENT_T_ASSIGNED, STUDENT_OPT, 0, NULL, NULL, NULL, NULL, 0},
    {"last_name", STUDENT_T_STRING, STUDENT_REQ, 100, student_check_name, NULL, NULL, NULL, 0},
    {"first_name", STUDENT_T_STRING, STUDENT_REQ, 100, student_check_name, NULL, NULL, NULL, 0},
    {"middle_name", STUDENT_T_STRING, STUDENT_OPT, 100, student_check_name, NULL, NULL, NULL, 0},
    {"sex", STUDENT_T_ENUM, STUDENT_REQ, 0, NULL, student_sexes, NULL, NULL, 0},
    {"birth_date", STUDENT_T_STRING, STUDENT_REQ, 0, student_check_birth_date, NULL, NULL, NULL, 0},
    {"birth_place", STUDENT_T_STRING, STUDENT_OPT, 500, NULL, NULL, NULL, NULL, 0},
    {"snils", STUDENT_T_STRING, STUDENT_OPT, 0, student_check_snils, NULL, NULL, NULL, 0},
    {"citizenship", STUDENT_T_OBJECT, STUDENT_REQ, 0, NULL, NULL, student_citizenship_fields,
     student_rule_citizenship, 0},
    {"documents", STUDENT_T_ARRAY, STUDENT_REQ, STUDENT_DOCUMENTS_MAX, NULL, NULL,
     &student_document, NULL, 0},
    {"addresses", STUDENT_T_ARRAY, STUDENT_REQ, STUDENT_ADDRESSES_MAX, NULL, NULL, &student_address,
     NULL, 0},
    {"representatives", STUDENT_T_ARRAY, STUDENT_OPT, STUDENT_REPRESENTATIVES_MAX, NULL, NULL,
     &student_representative, NULL, 0},
    {"organization", STUDENT_T_STRING, STUDENT_REQ, 0, student_check_ogrn, NULL, NULL, NULL, 0},
    {0},
};

static const student_field_t student_root = {.type = STUDENT_T_OBJECT,
                                             .required = STUDENT_REQ,
                                             .child = student_fields,
                                             .flags = STUDENT_F_PERSON};

/* The walk. */

static void student_member(student_ctx_t *cx, const student_field_t *f, const json_value_t *v,
                           const char *ptr, student_slot_t *slot);

/* Counts the characters of a string, or returns false at a control character
 * or a byte that is not UTF-8. */
static bool
student_scan(const json_value_t *s, size_t *chars)
{
    size_t i = 0;

    *chars = 0;
    while (i < s->len) {
        uint32_t cp = student_cp(s->str, s->len, &i);
        if (cp == STUDENT_BAD_CP || student_is_control(cp))
            return false;
        (*chars)++;
    }
    return true;
}

static bool
student_in_enum(const json_value_t *s, const char *const *values)
{
    for (size_t i = 0; values[i] != NULL; i++) {
        if (strlen(values[i]) == s->len && memcmp(values[i], s->str, s->len) == 0)
            return true;
    }
    return false;
}

/* "Допустимые значения: M, F" for an ENUM error. */
static const char *
student_enum_message(student_ctx_t *cx, const char *const *values)
{
    const char *msg = "Допустимые значения:";

    for (size_t i = 0; msg != NULL && values[i] != NULL; i++)
        msg = arena_printf(cx->arena, "%s%s %s", msg, i > 0 ? "," : "", values[i]);
    return msg;
}

/* Checks a scalar value's rule (enum list, then shape) on its trimmed copy. */
static student_state_t
student_scalar_rule(student_ctx_t *cx, const student_field_t *f, json_value_t *node,
                    const char *ptr)
{
    const char *msg = NULL;
    kt_code_t code;

    if (f->type == STUDENT_T_ENUM && !student_in_enum(node, f->values)) {
        student_fail(cx, ptr, KT_ENUM, student_enum_message(cx, f->values));
        return STUDENT_BAD;
    }
    if (f->check == NULL)
        return STUDENT_OK;
    code = f->check(cx, node, &msg);
    if (code != KT_OK) {
        student_fail(cx, ptr, code, msg);
        return STUDENT_BAD;
    }
    return STUDENT_OK;
}

/* STRING and ENUM: a JSON string, no control characters, trimmed, within
 * the length in characters, then the enum list or the shape check. */
static student_state_t
student_string(student_ctx_t *cx, const student_field_t *f, const json_value_t *in, const char *ptr,
               json_value_t **out)
{
    size_t start = 0, end = in->len, chars;

    if (in->type != JSON_STRING) {
        student_fail(cx, ptr, KT_FORMAT, "Ожидается строка");
        return STUDENT_BAD;
    }
    if (!student_scan(in, &chars)) {
        student_fail(cx, ptr, KT_FORMAT, "Недопустимые управляющие символы");
        return STUDENT_BAD;
    }
    while (start < end && in->str[start] == ' ')
        start++;
    while (end > start && in->str[end - 1] == ' ')
        end--;
    if (start == end) {
        if (f->required)
            student_fail(cx, ptr, KT_REQUIRED, NULL);
        return f->required ? STUDENT_BAD : STUDENT_ABSENT;
    }
    chars -= in->len - (end - start); /* the trimmed spaces are one byte each */
    if (f->max != 0 && chars > f->max) {
        student_fail(cx, ptr, KT_FORMAT, arena_printf(cx->arena, "Не более %zu символов", f->max));
        return STUDENT_BAD;
    }
    *out = student_string_node(cx, in->str + start, end - start);
    if (*out == NULL)
        return STUDENT_BAD;
    return student_scalar_rule(cx, f, *out, ptr);
}

static student_state_t
student_array(student_ctx_t *cx, const student_field_t *f, const json_value_t *in, const char *ptr,
              json_value_t **out)
{
    json_value_t *tail = NULL;
    student_slot_t item;
    size_t i = 0, before = cx->nerrors;

    if (in->type != JSON_ARRAY) {
        student_fail(cx, ptr, KT_FORMAT, "Ожидается массив");
        return STUDENT_BAD;
    }
    if (in->count == 0) {
        if (f->required)
            student_fail(cx, ptr, KT_REQUIRED, "Нужен хотя бы один элемент");
        return f->required ? STUDENT_BAD : STUDENT_ABSENT;
    }
    if (f->max != 0 && in->count > f->max) {
        student_fail(cx, ptr, KT_FORMAT, arena_printf(cx->arena, "Не более %zu элементов", f->max));
        return STUDENT_BAD;
    }
    *out = student_node(cx, JSON_ARRAY);
    for (const json_value_t *v = in->child; *out != NULL && v != NULL; v = v->next, i++) {
        student_member(cx, f->child, v, student_ptr_index(cx, ptr, i), &item);
        if (item.state == STUDENT_OK)
            student_append(*out, &tail, item.out, NULL);
    }
    return *out != NULL && cx->nerrors == before ? STUDENT_OK : STUDENT_BAD;
}

static bool
student_known(const student_field_t *table, const json_value_t *m)
{
    for (const student_field_t *f = table; f->type != STUDENT_T_END; f++) {
        if (strlen(f->name) == m->key_len && memcmp(f->name, m->key, m->key_len) == 0)
            return true;
    }
    return false;
}

/* Validates the members of an object against its table into slots. */
static void
student_members(student_ctx_t *cx, const student_field_t *table, const json_value_t *in,
                const char *ptr, student_slot_t *slots)
{
    for (const json_value_t *m = in->child; m != NULL; m = m->next) {
        if (!student_known(table, m))
            student_fail(cx, student_ptr_key(cx, ptr, m->key, m->key_len), KT_UNKNOWN_FIELD, NULL);
    }
    for (size_t i = 0; table[i].type != STUDENT_T_END; i++) {
        if (table[i].type == STUDENT_T_ASSIGNED)
            continue;
        student_member(cx, &table[i], json_get(in, table[i].name),
                       student_ptr(cx, ptr, table[i].name), &slots[i]);
    }
}

static size_t
student_table_len(const student_field_t *table)
{
    size_t n = 0;

    while (table[n].type != STUDENT_T_END)
        n++;
    return n;
}

static student_state_t
student_object(student_ctx_t *cx, const student_field_t *f, const json_value_t *in, const char *ptr,
               json_value_t **out)
{
    size_t n = student_table_len(f->child), before = cx->nerrors;
    const char *saved_birth = cx->birth;
    json_value_t *tail = NULL;
    student_slot_t *slots;

    if (in->type != JSON_OBJECT) {
        student_fail(cx, ptr, KT_FORMAT, "Ожидается объект");
        return STUDENT_BAD;
    }
    slots = arena_calloc(cx->arena, n, sizeof *slots);
    *out = student_node(cx, JSON_OBJECT);
    if (slots == NULL || *out == NULL) {
        cx->oom = true;
        return STUDENT_BAD;
    }
    if (f->flags & STUDENT_F_PERSON)
        cx->birth = NULL;
    student_members(cx, f->child, in, ptr, slots);
    if (f->rule != NULL)
        f->rule(cx, ptr, slots);
    for (size_t i = 0; i < n; i++) {
        if (slots[i].state == STUDENT_OK)
            student_append(*out, &tail, slots[i].out, f->child[i].name);
    }
    cx->birth = saved_birth;
    return cx->nerrors == before ? STUDENT_OK : STUDENT_BAD;
}

/* One value v (NULL when the member is absent) of field f at ptr. */
static void
student_member(student_ctx_t *cx, const student_field_t *f, const json_value_t *v, const char *ptr,
               student_slot_t *slot)
{
    slot->state = STUDENT_ABSENT;
    slot->out = NULL;
    if (v == NULL || v->type == JSON_NULL) {
        if (f->required) {
            student_fail(cx, ptr, KT_REQUIRED, NULL);
            slot->state = STUDENT_BAD;
        }
        return;
    }
    switch (f->type) {
    case STUDENT_T_STRING:
    case STUDENT_T_ENUM:
        slot->state = student_string(cx, f, v, ptr, &slot->out);
        break;
    case STUDENT_T_OBJECT:
        slot->state = student_object(cx, f, v, ptr, &slot->out);
        break;
    case STUDENT_T_ARRAY:
        slot->state = student_array(cx, f, v, ptr, &slot->out);
        break;
    default:
        break;
    }
}

/* Output. */

static bool student_bson_members(const json_value_t *v, bson_t *out);

/* Appends one normalised value: the tree holds only strings, objects, arrays. */
static bool
student_bson_value(bson_t *out, const char *key, size_t key_len, const json_value_t *v)
{
    bson_t child;
    bool ok;

    if (v->type == JSON_STRING)
        return bson_append_utf8(out, key, (int)key_len, v->str, (int)v->len);
    if (v->type == JSON_OBJECT)
        ok = bson_append_document_begin(out, key, (int)key_len, &child);
    else
        ok = bson_append_array_begin(out, key, (int)key_len, &child);
    if (!ok)
        return false;
    ok = student_bson_members(v, &child);
    if (v->type == JSON_OBJECT)
        return bson_append_document_end(out, &child) && ok;
    return bson_append_array_end(out, &child) && ok;
}

static bool
student_bson_members(const json_value_t *v, bson_t *out)
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
        if (!student_bson_value(out, key, key_len, c))
            return false;
    }
    return true;
}

/* today as given when it is a real date, else the clock's. */
static const char *
student_today(const char *today, char now[11])
{
    if (today != NULL && date_parse(today, NULL, NULL, NULL))
        return today;
    date_today(now);
    return now;
}

/* 422 with the field list: the list moves over after kt_error_set(), which resets it. */
static void
student_report(student_ctx_t *cx, kt_error_t *err)
{
    if (err == NULL)
        return;
    kt_error_set(err, KT_DOMAIN_INPUT, KT_VALIDATION, 422,
                 "Данные обучающегося не прошли проверку (ошибок: %zu)", cx->nerrors);
    err->fields = cx->fields.fields;
    err->nfields = cx->fields.nfields;
}

bool
student_from_json(arena_t *arena, const json_value_t *body, const char *today, bson_t *out,
                  kt_error_t *err)
{
    student_ctx_t cx;
    student_slot_t root;
    char now[11];
    bool ok = false;

    memset(&cx, 0, sizeof cx);
    cx.arena = arena;
    cx.today = student_today(today, now);
    student_member(&cx, &student_root, body, "", &root);
    if (cx.oom) {
        kt_error_set(err, KT_DOMAIN_INPUT, KT_PAYLOAD_TOO_LARGE, 413,
                     "Не хватило памяти на проверку данных обучающегося");
        goto done;
    }
    if (cx.nerrors > 0 || root.state != STUDENT_OK) {
        student_report(&cx, err);
        goto done;
    }
    if (!student_bson_members(root.out, out)) {
        kt_error_set(err, KT_DOMAIN_INTERNAL, KT_INTERNAL, 500, "BSON документа не собран");
        goto done;
    }
    ok = true;
done:
    return ok;
}

/* Keys. */

/* The string member key of doc, or "" when it has none. */
static const char *
student_doc_string(const bson_t *doc, const char *key)
{
    bson_iter_t it;

    if (bson_iter_init_find(&it, doc, key) && BSON_ITER_HOLDS_UTF8(&it))
        return bson_iter_utf8(&it, NULL);
    return "";
}

/* "TYPE|SERIES|NUMBER" of one stored document, or NULL. */
static const char *
student_doc_key(arena_t *arena, const bson_iter_t *item)
{
    const uint8_t *data;
    uint32_t len;
    bson_t doc;

    if (!BSON_ITER_HOLDS_DOCUMENT(item))
        return NULL;
    bson_iter_document(item, &len, &data);
    if (!bson_init_static(&doc, data, len))
        return NULL;
    return arena_printf(arena, "%s|%s|%s", student_doc_string(&doc, "type"),
                        student_doc_string(&doc, "series"), student_doc_string(&doc, "number"));
}

size_t
student_keys(arena_t *arena, const bson_t *doc, const char **snils, const char **doc_keys,
             size_t max)
{
    bson_iter_t it, items;
    const char *s = arena_strdup(arena, student_doc_string(doc, "snils"));
    size_t n = 0;

    if (snils != NULL)
        *snils = s != NULL ? s : "";
    if (!bson_iter_init_find(&it, doc, "documents") || !BSON_ITER_HOLDS_ARRAY(&it) ||
        !bson_iter_recurse(&it, &items))
        return 0;
    while (n < max && bson_iter_next(&items)) {
        const char *key = student_doc_key(arena, &items);
        if (key != NULL)
            doc_keys[n++] = key;
    }
    return n;
}
