/*
 * organization: the organisation model — one declared field table
 * (model/fields.h walks it). Sources: ../shared/research/federal.md §4
 * "Organization", §3 for the check digits.
 *
 * Choices the issue leaves open, made here (docs/organizations.md):
 *   - ИНН is a legal entity's: 10 digits (a 12-digit ИНН is a person's and
 *     FORMAT here); КПП is NNNN PP NNN, PP digits or capital Latin letters.
 *   - `parent` may not be the organisation itself (FORMAT); that it exists
 *     is checked by the handler, which has the store.
 *   - `site` is a web address: no spaces, at most 500 characters.
 */
#include "model/organization.h"

#include <string.h>

#include "model/fields.h"
#include "model/validators.h"

static kt_code_t
organization_check_inn(fields_ctx_t *cx, json_value_t *s, const char **msg)
{
    (void)cx;
    *msg = "ИНН организации: 10 цифр";
    if (!fields_digits(s, 10))
        return KT_FORMAT;
    *msg = NULL;
    return inn_valid(s->str) ? KT_OK : KT_INN_CHECKSUM;
}

static kt_code_t
organization_check_kpp(fields_ctx_t *cx, json_value_t *s, const char **msg)
{
    (void)cx;
    *msg = "КПП: 9 знаков, NNNNPPNNN (PP — цифры или заглавные латинские буквы)";
    return kpp_valid(s->str) ? KT_OK : KT_FORMAT;
}

static kt_code_t
organization_check_site(fields_ctx_t *cx, json_value_t *s, const char **msg)
{
    (void)cx;
    *msg = "Адрес сайта без пробелов";
    return memchr(s->str, ' ', s->len) == NULL ? KT_OK : KT_FORMAT;
}

enum {
    ORG_ID,
    ORG_VERSION,
    ORG_OGRN,
    ORG_INN,
    ORG_KPP,
    ORG_FULL_NAME,
    ORG_SHORT_NAME,
    ORG_TYPE,
    ORG_OKTMO,
    ORG_ADDRESSES,
    ORG_LICENSE,
    ORG_STATUS,
    ORG_PARENT,
    ORG_HEAD_NAME,
    ORG_PHONE,
    ORG_EMAIL,
    ORG_SITE,
    ORG__MAX
};

/* An organisation is not its own parent. */
static void
organization_rule(fields_ctx_t *cx, const char *ptr, field_slot_t *slots)
{
    if (slots[ORG_OGRN].state != FIELD_OK || slots[ORG_PARENT].state != FIELD_OK)
        return;
    if (strcmp(slots[ORG_OGRN].out->str, slots[ORG_PARENT].out->str) == 0) {
        fields_fail(cx, fields_ptr(cx, ptr, "parent"), KT_FORMAT,
                    "Организация не может быть головной для самой себя");
        slots[ORG_PARENT].state = FIELD_BAD;
    }
}

static const char *const organization_types[] = {"SCHOOL", "KINDERGARTEN", "SPO",
                                                 "DOP",    "OTHER",        NULL};
static const char *const organization_statuses[] = {"ACTIVE", "REORGANIZED", "LIQUIDATED", NULL};
static const char *const organization_address_kinds[] = {"LEGAL", "ACTUAL", NULL};

/* Columns: name, type, required, max, check, enum values, child, rule, flags. */

static const field_t organization_address_fields[] = {
    {"kind", FIELD_T_ENUM, FIELD_REQ, 0, NULL, organization_address_kinds, NULL, NULL, 0, 0},
    {"text", FIELD_T_STRING, FIELD_REQ, 1000, NULL, NULL, NULL, NULL, 0, 0},
    {"region_code", FIELD_T_STRING, FIELD_OPT, 0, fields_check_region, NULL, NULL, NULL, 0, 0},
    {"oktmo", FIELD_T_STRING, FIELD_OPT, 0, fields_check_oktmo, NULL, NULL, NULL, 0, 0},
    {"fias_guid", FIELD_T_STRING, FIELD_OPT, 0, fields_check_fias, NULL, NULL, NULL, 0, 0},
    {0},
};

static const field_t organization_address = {
    .type = FIELD_T_OBJECT, .required = FIELD_REQ, .child = organization_address_fields};

static const field_t organization_license_fields[] = {
    {"number", FIELD_T_STRING, FIELD_REQ, 100, NULL, NULL, NULL, NULL, 0, 0},
    {"issued_on", FIELD_T_STRING, FIELD_REQ, 0, fields_check_date, NULL, NULL, NULL, 0, 0},
    {"issuer", FIELD_T_STRING, FIELD_OPT, 500, NULL, NULL, NULL, NULL, 0, 0},
    {0},
};

static const field_t organization_fields[] = {
    [ORG_ID] = {"id", FIELD_T_ASSIGNED, FIELD_OPT, 0, NULL, NULL, NULL, NULL, 0, 0},
    [ORG_VERSION] = {"version", FIELD_T_ASSIGNED, FIELD_OPT, 0, NULL, NULL, NULL, NULL, 0, 0},
    [ORG_OGRN] = {"ogrn", FIELD_T_STRING, FIELD_REQ, 0, fields_check_ogrn, NULL, NULL, NULL, 0, 0},
    [ORG_INN] = {"inn", FIELD_T_STRING, FIELD_REQ, 0, organization_check_inn, NULL, NULL, NULL, 0,
                 0},
    [ORG_KPP] = {"kpp", FIELD_T_STRING, FIELD_REQ, 0, organization_check_kpp, NULL, NULL, NULL, 0,
                 0},
    [ORG_FULL_NAME] = {"full_name", FIELD_T_STRING, FIELD_REQ, 1000, NULL, NULL, NULL, NULL, 0, 0},
    [ORG_SHORT_NAME] = {"short_name", FIELD_T_STRING, FIELD_REQ, 500, NULL, NULL, NULL, NULL, 0, 0},
    [ORG_TYPE] = {"type", FIELD_T_ENUM, FIELD_REQ, 0, NULL, organization_types, NULL, NULL, 0, 0},
    [ORG_OKTMO] = {"oktmo", FIELD_T_STRING, FIELD_REQ, 0, fields_check_oktmo, NULL, NULL, NULL, 0,
                   0},
    [ORG_ADDRESSES] = {"addresses", FIELD_T_ARRAY, FIELD_REQ, ORGANIZATION_ADDRESSES_MAX, NULL,
                       NULL, &organization_address, NULL, 0, 0},
    [ORG_LICENSE] = {"license", FIELD_T_OBJECT, FIELD_REQ, 0, NULL, NULL,
                     organization_license_fields, NULL, 0, 0},
    [ORG_STATUS] = {"status", FIELD_T_ENUM, FIELD_REQ, 0, NULL, organization_statuses, NULL, NULL,
                    0, 0},
    [ORG_PARENT] = {"parent", FIELD_T_STRING, FIELD_OPT, 0, fields_check_ogrn, NULL, NULL, NULL, 0,
                    0},
    [ORG_HEAD_NAME] = {"head_name", FIELD_T_STRING, FIELD_OPT, 300, fields_check_name, NULL, NULL,
                       NULL, 0, 0},
    [ORG_PHONE] = {"phone", FIELD_T_STRING, FIELD_OPT, 32, fields_check_phone, NULL, NULL, NULL, 0,
                   0},
    [ORG_EMAIL] = {"email", FIELD_T_STRING, FIELD_OPT, 254, fields_check_email, NULL, NULL, NULL, 0,
                   0},
    [ORG_SITE] = {"site", FIELD_T_STRING, FIELD_OPT, 500, organization_check_site, NULL, NULL, NULL,
                  0, 0},
    [ORG__MAX] = {0},
};

static const field_t organization_root = {.type = FIELD_T_OBJECT,
                                          .required = FIELD_REQ,
                                          .child = organization_fields,
                                          .rule = organization_rule};

bool
organization_from_json(arena_t *arena, const json_value_t *body, const char *today, bson_t *out,
                       kt_error_t *err)
{
    return fields_from_json(arena, &organization_root, body, today, "Данные организации", out, err);
}
