/*
 * student: the student model — one declared field table (model/fields.h
 * walks it).
 *
 * student_fields below is the whole phase-1 model: each row says a member's
 * JSON name, its type, whether it is mandatory, its length limit (characters
 * of a string, items of an array), its shape check or enum list, and for
 * objects and arrays the table of what is inside. Rules that look at
 * several members of one object (document type → series shape, citizenship
 * category → countries) are the object row's `rule`, run after its members.
 *
 * Choices the contract leaves open, made here (the walker's own choices —
 * trimming, absent optional members, names, dates — are in model/fields.c):
 *   - A document's issued_on is compared with its holder's birth date: the
 *     student's for documents[], the representative's own (when given) for
 *     representatives[i].document.
 *   - Birth certificate series: Cyrillic Х, С, І typed in the Roman part are
 *     read as X, C, I (federal.md §3); the letters may be lower case. Both
 *     are stored upper case, Roman part in Latin.
 */
#include "model/student.h"

#include <stdint.h>
#include <string.h>

#include "model/education.h"
#include "model/fields.h"
#include "model/results.h"
#include "model/validators.h"

#define STUDENT_SERIES_MAX 20

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
student_check_birth_series(fields_ctx_t *cx, json_value_t *s, const char **msg)
{
    char out[STUDENT_SERIES_MAX + 8];
    size_t i = 0, k = 0, letters = 0;
    uint32_t cp;

    *msg = "Birth certificate series: a Roman number, a hyphen, two Russian letters (IV-АМ)";
    while (i < s->len && s->str[i] != '-' && k < STUDENT_SERIES_MAX) {
        char digit = student_roman_digit(fields_cp(s->str, s->len, &i));
        if (digit == 0)
            return KT_FORMAT;
        out[k++] = digit;
    }
    if (k == 0 || i >= s->len || s->str[i] != '-')
        return KT_FORMAT;
    out[k++] = '-';
    i++;
    while (i < s->len && letters < 3) {
        cp = student_russian_upper(fields_cp(s->str, s->len, &i));
        if (cp == 0)
            return KT_FORMAT;
        k += fields_put_cp(out + k, cp);
        letters++;
    }
    if (letters != 2 || i != s->len)
        return KT_FORMAT;
    fields_set(cx, s, out, k);
    return KT_OK;
}

static kt_code_t
student_check_passport_series(fields_ctx_t *cx, json_value_t *s, const char **msg)
{
    *msg = "RF passport series: 4 digits";
    return fields_digits(s, 4) ? KT_OK : KT_FORMAT;
}

static kt_code_t
student_check_rf_number(fields_ctx_t *cx, json_value_t *s, const char **msg)
{
    *msg = "RF document number: 6 digits";
    return fields_digits(s, 6) ? KT_OK : KT_FORMAT;
}

/* "|" separates the parts of a document's claim key (store/write.c), so it
 * may not appear inside a series or number. */
static kt_code_t
student_check_key_part(fields_ctx_t *cx, json_value_t *s, const char **msg)
{
    (void)cx;
    if (memchr(s->str, '|', s->len) == NULL)
        return KT_OK;
    *msg = "The character \"|\" is not allowed in a document's series and number";
    return KT_FORMAT;
}

/* Rules across the members of one object (field_rule_fn). */

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
    field_check_fn series; /* a series is then mandatory */
    field_check_fn number;
} student_doc_shape_t;

static const student_doc_shape_t student_doc_shapes[] = {
    {"BIRTH_CERT_RF", student_check_birth_series, student_check_rf_number},
    {"PASSPORT_RF", student_check_passport_series, student_check_rf_number},
};

static void
student_rule_document(fields_ctx_t *cx, const char *ptr, field_slot_t *slots)
{
    const json_value_t *type = slots[STUDENT_DOC_TYPE].out;
    const json_value_t *issued = slots[STUDENT_DOC_ISSUED_ON].out;

    for (size_t i = 0; slots[STUDENT_DOC_TYPE].state == FIELD_OK &&
                       i < sizeof student_doc_shapes / sizeof *student_doc_shapes;
         i++) {
        const student_doc_shape_t *shape = &student_doc_shapes[i];
        if (strcmp(type->str, shape->type) != 0)
            continue;
        if (slots[STUDENT_DOC_SERIES].state == FIELD_ABSENT) {
            fields_fail(cx, fields_ptr(cx, ptr, "series"), KT_REQUIRED, NULL);
            slots[STUDENT_DOC_SERIES].state = FIELD_BAD;
        }
        fields_recheck(cx, ptr, "series", &slots[STUDENT_DOC_SERIES], shape->series);
        fields_recheck(cx, ptr, "number", &slots[STUDENT_DOC_NUMBER], shape->number);
    }
    if (slots[STUDENT_DOC_ISSUED_ON].state == FIELD_OK && cx->birth != NULL &&
        date_compare(issued->str, cx->birth) < 0) {
        fields_fail(cx, fields_ptr(cx, ptr, "issued_on"), KT_DATE_ORDER,
                    "The issue date is before the birth date");
        slots[STUDENT_DOC_ISSUED_ON].state = FIELD_BAD;
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
student_citizenship_rf(fields_ctx_t *cx, const char *ptr, field_slot_t *countries)
{
    json_value_t *list, *tail = NULL, *russia;

    if (countries->state == FIELD_OK) {
        if (countries->out->count != 1 || strcmp(countries->out->child->str, "643") != 0) {
            fields_fail(cx, ptr, KT_FORMAT, "RF citizenship takes only the country 643");
            countries->state = FIELD_BAD;
        }
        return;
    }
    list = fields_node(cx, JSON_ARRAY);
    russia = fields_string_node(cx, "643", 3);
    if (list == NULL || russia == NULL)
        return;
    fields_append(list, &tail, russia, NULL);
    countries->out = list;
    countries->state = FIELD_OK;
}

static void
student_rule_citizenship(fields_ctx_t *cx, const char *ptr, field_slot_t *slots)
{
    field_slot_t *countries = &slots[STUDENT_CIT_COUNTRIES];
    const char *cptr = fields_ptr(cx, ptr, "countries"), *category;
    size_t n = countries->state == FIELD_OK ? countries->out->count : 0;
    bool russia = false;
    long repeat = n > 0 ? student_country_repeat(countries->out, &russia) : -1;

    if (slots[STUDENT_CIT_CATEGORY].state != FIELD_OK || countries->state == FIELD_BAD)
        return;
    category = slots[STUDENT_CIT_CATEGORY].out->str;
    if (repeat >= 0) {
        fields_fail(cx, fields_ptr_index(cx, cptr, (size_t)repeat), KT_FORMAT,
                    "The country is given twice");
        countries->state = FIELD_BAD;
    } else if (strcmp(category, "RF") == 0) {
        student_citizenship_rf(cx, cptr, countries);
    } else if (strcmp(category, "STATELESS") == 0 && n > 0) {
        fields_fail(cx, cptr, KT_FORMAT, "Stateless persons have no countries");
    } else if ((strcmp(category, "FOREIGN") == 0 || strcmp(category, "DUAL") == 0) && n == 0) {
        fields_fail(cx, cptr, KT_REQUIRED, NULL);
    } else if (strcmp(category, "FOREIGN") == 0 && russia) {
        fields_fail(cx, cptr, KT_FORMAT, "Foreign citizenship does not take the country 643");
    } else if (strcmp(category, "DUAL") == 0 && n < 2) {
        fields_fail(cx, cptr, KT_FORMAT, "Dual citizenship needs at least two countries");
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

/* The tables: one row per member, FIELD_STR(name, xml, required, max, check) and its kin
 * (model/fields.h names every slot). */

/* Array items and the root have no name: designated, they read better. */
/* No xml name: a country repeats the ARRAY's own element (<Country>). */
static const field_t student_country = {
    .type = FIELD_T_STRING, .required = FIELD_REQ, .check = fields_check_country};

static const field_t student_citizenship_fields[] = {
    [STUDENT_CIT_CATEGORY] =
        FIELD_ENUM("category", "@category", FIELD_REQ, student_citizenship_categories),
    [STUDENT_CIT_COUNTRIES] =
        FIELD_ARRAY("countries", "Country", FIELD_OPT, STUDENT_COUNTRIES_MAX, &student_country),
    [STUDENT_CIT__MAX] = FIELD_END,
};

/* Type-specific shapes of series and number: student_doc_shapes. */
static const field_t student_document_fields[] = {
    [STUDENT_DOC_TYPE] = FIELD_ENUM("type", "@type", FIELD_REQ, student_document_types),
    [STUDENT_DOC_SERIES] =
        FIELD_STR("series", "Series", FIELD_OPT, STUDENT_SERIES_MAX, student_check_key_part),
    [STUDENT_DOC_NUMBER] = FIELD_STR("number", "Number", FIELD_REQ, 30, student_check_key_part),
    [STUDENT_DOC_ISSUER] = FIELD_STR("issuer", "Issuer", FIELD_OPT, 500, NULL),
    [STUDENT_DOC_ISSUED_ON] = FIELD_STR("issued_on", "IssuedOn", FIELD_OPT, 0, fields_check_date),
    [STUDENT_DOC__MAX] = FIELD_END,
};

static const field_t student_document = {.xml = "Document",
                                         .type = FIELD_T_OBJECT,
                                         .required = FIELD_REQ,
                                         .child = student_document_fields,
                                         .rule = student_rule_document};

static const field_t student_address_fields[] = {
    FIELD_ENUM("kind", "@kind", FIELD_REQ, student_address_kinds),
    FIELD_STR("text", "Text", FIELD_REQ, 1000, NULL),
    FIELD_STR("region_code", "RegionCode", FIELD_OPT, 0, fields_check_region),
    FIELD_STR("oktmo", "Oktmo", FIELD_OPT, 0, fields_check_oktmo),
    FIELD_STR("fias_guid", "FiasGuid", FIELD_OPT, 0, fields_check_fias),
    FIELD_END,
};

static const field_t student_address = {.xml = "Address",
                                        .type = FIELD_T_OBJECT,
                                        .required = FIELD_REQ,
                                        .child = student_address_fields};

static const field_t student_representative_fields[] = {
    FIELD_ENUM("kind", "@kind", FIELD_REQ, student_representative_kinds),
    FIELD_STR("last_name", "LastName", FIELD_REQ, 100, fields_check_name),
    FIELD_STR("first_name", "FirstName", FIELD_REQ, 100, fields_check_name),
    FIELD_STR("middle_name", "MiddleName", FIELD_OPT, 100, fields_check_name),
    FIELD_STR("birth_date", "BirthDate", FIELD_OPT, 0, fields_check_birth_date),
    FIELD_STR("snils", "SNILS", FIELD_OPT, 0, fields_check_snils),
    FIELD_OBJECT("citizenship", "Citizenship", FIELD_OPT, student_citizenship_fields,
                 student_rule_citizenship, 0),
    FIELD_OBJECT("document", "Document", FIELD_OPT, student_document_fields, student_rule_document,
                 0),
    FIELD_STR("phone", "Phone", FIELD_OPT, 32, fields_check_phone),
    FIELD_STR("email", "Email", FIELD_OPT, 254, fields_check_email),
    FIELD_END,
};

static const field_t student_representative = {.xml = "Representative",
                                               .type = FIELD_T_OBJECT,
                                               .required = FIELD_REQ,
                                               .child = student_representative_fields,
                                               .flags = FIELD_F_PERSON};

/* Phase 2: the health block (docs/health.md). Sealed before it is stored
 * (service/healthdata.h); here it is validated like every other member.
 * The code lists of disability reasons and training forms are our proposal. */

#define STUDENT_DATE_FAR "2100-12-31"

enum { HEALTH_DIS_GROUP, HEALTH_DIS_REASON, HEALTH_DIS_FROM, HEALTH_DIS_UNTIL, HEALTH_DIS__MAX };
enum { HEALTH_LTT_NEEDED, HEALTH_LTT_FORM, HEALTH_LTT__MAX };
enum { HEALTH_LB_KIND, HEALTH_LB_CONSENT, HEALTH_LB_LAW, HEALTH_LB__MAX };

/* A date that may lie in the future (the end of a disability term), up to
 * STUDENT_DATE_FAR. */
static kt_code_t
student_check_term_end(fields_ctx_t *cx, json_value_t *s, const char **msg)
{
    const char *today = cx->today;
    kt_code_t code;

    cx->today = STUDENT_DATE_FAR;
    code = fields_check_date(cx, s, msg);
    cx->today = today;
    if (code == KT_DATE_RANGE && date_parse(s->str, NULL, NULL, NULL))
        *msg = "The date must be from 1900-01-01 to 2100-12-31";
    return code;
}

static void
student_rule_disability(fields_ctx_t *cx, const char *ptr, field_slot_t *slots)
{
    const field_slot_t *from = &slots[HEALTH_DIS_FROM], *until = &slots[HEALTH_DIS_UNTIL];

    if (from->state == FIELD_OK && cx->birth != NULL && date_compare(from->out->str, cx->birth) < 0)
        fields_fail(cx, fields_ptr(cx, ptr, "from"), KT_DATE_ORDER,
                    "The disability is dated before the birth date");
    if (from->state == FIELD_OK && until->state == FIELD_OK &&
        date_compare(until->out->str, from->out->str) < 0)
        fields_fail(cx, fields_ptr(cx, ptr, "until"), KT_DATE_ORDER,
                    "The disability ends before it starts");
}

static void
student_rule_treatment(fields_ctx_t *cx, const char *ptr, field_slot_t *slots)
{
    if (slots[HEALTH_LTT_NEEDED].state == FIELD_OK &&
        slots[HEALTH_LTT_NEEDED].out->type == JSON_FALSE &&
        slots[HEALTH_LTT_FORM].state == FIELD_OK)
        fields_fail(cx, fields_ptr(cx, ptr, "training_form"), KT_FORMAT,
                    "The form of training is given only when treatment is needed");
}

static void
student_rule_legal_basis(fields_ctx_t *cx, const char *ptr, field_slot_t *slots)
{
    const char *kind;

    if (slots[HEALTH_LB_KIND].state != FIELD_OK)
        return;
    kind = slots[HEALTH_LB_KIND].out->str;
    if (strcmp(kind, "CONSENT_WRITTEN") == 0 && slots[HEALTH_LB_CONSENT].state == FIELD_ABSENT)
        fields_fail(cx, fields_ptr(cx, ptr, "consent_ref"), KT_REQUIRED,
                    "Written consent needs its reference");
    if (strcmp(kind, "LAW") == 0 && slots[HEALTH_LB_LAW].state == FIELD_ABSENT)
        fields_fail(cx, fields_ptr(cx, ptr, "law_ref"), KT_REQUIRED,
                    "Processing under the law needs the article of the law");
}

static const char *const health_groups[] = {"I", "II", "III", "IV", "V", NULL};
static const char *const health_pe_groups[] = {"MAIN",      "PREPARATORY", "SPECIAL_A",
                                               "SPECIAL_B", "EXEMPT",      NULL};
static const char *const health_disability_groups[] = {"CHILD_DISABLED", "I", "II", "III", NULL};
static const char *const health_disability_reasons[] = {"CHILDHOOD",  "GENERAL_DISEASE", "INJURY",
                                                        "CONGENITAL", "OTHER",           NULL};
static const char *const health_training_forms[] = {"HOME", "MEDICAL_ORGANIZATION", "DISTANCE",
                                                    NULL};
static const char *const health_legal_kinds[] = {"CONSENT_WRITTEN", "LAW", NULL};

static const field_t health_disability_fields[] = {
    [HEALTH_DIS_GROUP] = FIELD_ENUM("group", "@group", FIELD_REQ, health_disability_groups),
    [HEALTH_DIS_REASON] = FIELD_ENUM("reason", "Reason", FIELD_OPT, health_disability_reasons),
    [HEALTH_DIS_FROM] = FIELD_STR("from", "From", FIELD_REQ, 0, fields_check_date),
    [HEALTH_DIS_UNTIL] = FIELD_STR("until", "Until", FIELD_OPT, 0, student_check_term_end),
    [HEALTH_DIS__MAX] = FIELD_END,
};

static const field_t health_ovz_fields[] = {
    FIELD_STR("pmpk_conclusion_no", "PmpkConclusionNo", FIELD_REQ, 50, NULL),
    FIELD_STR("date", "Date", FIELD_REQ, 0, fields_check_date),
    FIELD_STR("recommended_program", "RecommendedProgram", FIELD_OPT, 500, NULL),
    FIELD_END,
};

static const field_t health_treatment_fields[] = {
    [HEALTH_LTT_NEEDED] = FIELD_BOOL("needed", "Needed", FIELD_REQ),
    [HEALTH_LTT_FORM] =
        FIELD_ENUM("training_form", "TrainingForm", FIELD_OPT, health_training_forms),
    [HEALTH_LTT__MAX] = FIELD_END,
};

static const field_t health_legal_basis_fields[] = {
    [HEALTH_LB_KIND] = FIELD_ENUM("kind", "@kind", FIELD_REQ, health_legal_kinds),
    [HEALTH_LB_CONSENT] = FIELD_STR("consent_ref", "ConsentRef", FIELD_OPT, 200, NULL),
    [HEALTH_LB_LAW] = FIELD_STR("law_ref", "LawRef", FIELD_OPT, 200, NULL),
    [HEALTH_LB__MAX] = FIELD_END,
};

/* legal_basis is required whenever the block is there at all: a block with
 * any field needs it, and a block without fields says nothing. */
static const field_t student_health_fields[] = {
    FIELD_ENUM("health_group", "HealthGroup", FIELD_OPT, health_groups),
    FIELD_ENUM("pe_group", "PeGroup", FIELD_OPT, health_pe_groups),
    FIELD_OBJECT("disability", "Disability", FIELD_OPT, health_disability_fields,
                 student_rule_disability, 0),
    FIELD_OBJECT("ovz", "Ovz", FIELD_OPT, health_ovz_fields, NULL, 0),
    FIELD_BOOL("needs_adapted_program", "NeedsAdaptedProgram", FIELD_OPT),
    FIELD_OBJECT("long_term_treatment", "LongTermTreatment", FIELD_OPT, health_treatment_fields,
                 student_rule_treatment, 0),
    FIELD_OBJECT("legal_basis", "LegalBasis", FIELD_REQ, health_legal_basis_fields,
                 student_rule_legal_basis, 0),
    FIELD_END,
};

/* The phase-1 student; phase 2 and 3 blocks become rows here. */
static const field_t student_fields[] = {
    FIELD_ASSIGNED("id"),
    FIELD_ASSIGNED("version"),
    FIELD_ASSIGNED("state"),
    FIELD_STR("last_name", "LastName", FIELD_REQ, 100, fields_check_name),
    FIELD_STR("first_name", "FirstName", FIELD_REQ, 100, fields_check_name),
    FIELD_STR("middle_name", "MiddleName", FIELD_OPT, 100, fields_check_name),
    FIELD_ENUM("sex", "Sex", FIELD_REQ, student_sexes),
    FIELD_STR("birth_date", "BirthDate", FIELD_REQ, 0, fields_check_birth_date),
    FIELD_STR("birth_place", "BirthPlace", FIELD_OPT, 500, NULL),
    FIELD_STR("snils", "SNILS", FIELD_OPT, 0, fields_check_snils),
    FIELD_OBJECT("citizenship", "Citizenship", FIELD_REQ, student_citizenship_fields,
                 student_rule_citizenship, 0),
    FIELD_ARRAY("documents", "Documents", FIELD_REQ, STUDENT_DOCUMENTS_MAX, &student_document),
    FIELD_ARRAY("addresses", "Addresses", FIELD_REQ, STUDENT_ADDRESSES_MAX, &student_address),
    FIELD_ARRAY("representatives", "Representatives", FIELD_OPT, STUDENT_REPRESENTATIVES_MAX,
                &student_representative),
    FIELD_STR("organization", "Organization", FIELD_REQ, 0, fields_check_ogrn),
    /* Read-only: changed by events only (model/education.h checks and keeps it). */
    FIELD_ASSIGNED_AS("education", &education_episodes),
    /* phase 2 */
    FIELD_OBJECT("health", "Health", FIELD_OPT, student_health_fields, NULL, 0),
    /* Phase 3: achievements, exam results, certificates (model/results.c). */
    FIELD_ARRAY("achievements", "Achievements", FIELD_OPT, RESULTS_ACHIEVEMENTS_MAX,
                &results_achievement),
    FIELD_ARRAY("exams", "Exams", FIELD_OPT, RESULTS_EXAMS_MAX, &results_exam),
    FIELD_ARRAY("certificates", "Certificates", FIELD_OPT, RESULTS_CERTIFICATES_MAX,
                &results_certificate),
    FIELD_END,
};

const field_t student_root = {.type = FIELD_T_OBJECT,
                              .required = FIELD_REQ,
                              .child = student_fields,
                              .flags = FIELD_F_PERSON};

bool
student_from_json(arena_t *arena, const json_value_t *body, const char *today, bson_t *out,
                  kt_error_t *err)
{
    return fields_from_json(arena, &student_root, body, today,
                            "The student's data failed validation", out, err);
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

/* Claim keys name a document the way a person reads it (issue 12): spaces,
 * hyphens, dashes and format characters (zero-width, bidi marks, soft
 * hyphen) dropped; fullwidth forms as ASCII; upper case; the Cyrillic
 * letters that look like Latin ones written as those Latin letters. The
 * stored document keeps what was sent. */
static bool
student_key_drops(uint32_t cp)
{
    return cp == ' ' || (cp >= 0x09 && cp <= 0x0d) || cp == '-' || cp == 0xa0 || cp == 0xad ||
           cp == 0x61c || cp == 0x1680 || cp == 0x180e || (cp >= 0x2000 && cp <= 0x200f) ||
           (cp >= 0x2010 && cp <= 0x2015) || (cp >= 0x2028 && cp <= 0x202f) || cp == 0x205f ||
           (cp >= 0x2060 && cp <= 0x206f) || cp == 0x2212 || cp == 0x3000 || cp == 0xfe58 ||
           cp == 0xfe63 || cp == 0xfeff || cp == 0xff0d;
}

static uint32_t
student_key_fold(uint32_t cp)
{
    /* А В Е К М Н О Р С Т У Х (U+0410…) and Ѕ І Ј as the Latin letters they look like. */
    static const struct {
        uint32_t cyr;
        char lat;
    } looks[] = {{0x410, 'A'}, {0x412, 'B'}, {0x415, 'E'}, {0x41a, 'K'}, {0x41c, 'M'},
                 {0x41d, 'H'}, {0x41e, 'O'}, {0x420, 'P'}, {0x421, 'C'}, {0x422, 'T'},
                 {0x423, 'Y'}, {0x425, 'X'}, {0x405, 'S'}, {0x406, 'I'}, {0x408, 'J'}};

    if (cp >= 0xff01 && cp <= 0xff5e) /* fullwidth ASCII */
        cp -= 0xfee0;
    if (cp >= 'a' && cp <= 'z')
        return cp - 0x20;
    if (cp >= 0x430 && cp <= 0x44f)
        cp -= 0x20;
    else if (cp >= 0x450 && cp <= 0x45f)
        cp -= 0x50;
    for (size_t i = 0; i < sizeof looks / sizeof *looks; i++)
        if (looks[i].cyr == cp)
            return (uint32_t)looks[i].lat;
    return cp;
}

/* s as a claim key part (see above), in arena. */
static const char *
student_key_part(arena_t *arena, const char *s)
{
    size_t len = strlen(s), i = 0, k = 0;
    char *out = arena_alloc(arena, len + 1);

    while (out != NULL && i < len) {
        size_t at = i;
        uint32_t cp = fields_cp(s, len, &i);
        if (cp != FIELDS_BAD_CP && student_key_drops(cp))
            continue;
        uint32_t folded = cp == FIELDS_BAD_CP ? cp : student_key_fold(cp);
        if (folded != cp) { /* the folds give ASCII or Cyrillic: below U+0800 */
            k += fields_put_cp(out + k, folded);
        } else {
            memcpy(out + k, s + at, i - at);
            k += i - at;
        }
    }
    if (out != NULL)
        out[k] = '\0';
    return out;
}

const char *
student_doc_claim_key(arena_t *arena, const char *type, const char *series, const char *number)
{
    const char *t = student_key_part(arena, type), *s = student_key_part(arena, series),
               *n = student_key_part(arena, number);

    return t && s && n ? arena_printf(arena, "%s|%s|%s", t, s, n) : NULL;
}

/* "TYPE|SERIES|NUMBER" of one stored document, normalised, or NULL. */
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
    return student_doc_claim_key(arena, student_doc_string(&doc, "type"),
                                 student_doc_string(&doc, "series"),
                                 student_doc_string(&doc, "number"));
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
