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
    *msg = "An organisation's INN: 10 digits";
    if (!fields_digits(s, 10))
        return KT_FORMAT;
    *msg = NULL;
    return inn_valid(s->str) ? KT_OK : KT_INN_CHECKSUM;
}

static kt_code_t
organization_check_kpp(fields_ctx_t *cx, json_value_t *s, const char **msg)
{
    (void)cx;
    *msg = "KPP: 9 characters, NNNNPPNNN (PP digits or capital Latin letters)";
    return kpp_valid(s->str) ? KT_OK : KT_FORMAT;
}

static kt_code_t
organization_check_site(fields_ctx_t *cx, json_value_t *s, const char **msg)
{
    (void)cx;
    *msg = "A web address has no spaces";
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
                    "An organisation cannot be its own parent");
        slots[ORG_PARENT].state = FIELD_BAD;
    }
}

static const char *const organization_types[] = {"SCHOOL", "KINDERGARTEN", "SPO",
                                                 "DOP",    "OTHER",        NULL};
static const char *const organization_statuses[] = {"ACTIVE", "REORGANIZED", "LIQUIDATED", NULL};
static const char *const organization_address_kinds[] = {"LEGAL", "ACTUAL", NULL};

/* The tables: one row per member, FIELD_STR(name, xml, required, max, check) and its kin
 * (model/fields.h names every slot). */

static const field_t organization_address_fields[] = {
    FIELD_ENUM("kind", "@kind", FIELD_REQ, organization_address_kinds),
    FIELD_STR("text", "Text", FIELD_REQ, 1000, NULL),
    FIELD_STR("region_code", "RegionCode", FIELD_OPT, 0, fields_check_region),
    FIELD_STR("oktmo", "Oktmo", FIELD_OPT, 0, fields_check_oktmo),
    FIELD_STR("fias_guid", "FiasGuid", FIELD_OPT, 0, fields_check_fias),
    FIELD_END,
};

static const field_t organization_address = {.xml = "Address",
                                             .type = FIELD_T_OBJECT,
                                             .required = FIELD_REQ,
                                             .child = organization_address_fields};

static const field_t organization_license_fields[] = {
    FIELD_STR("number", "Number", FIELD_REQ, 100, NULL),
    FIELD_STR("issued_on", "IssuedOn", FIELD_REQ, 0, fields_check_date),
    FIELD_STR("issuer", "Issuer", FIELD_OPT, 500, NULL),
    FIELD_END,
};

static const field_t organization_fields[] = {
    [ORG_ID] = FIELD_ASSIGNED("id"),
    [ORG_VERSION] = FIELD_ASSIGNED("version"),
    [ORG_OGRN] = FIELD_STR("ogrn", "@ogrn", FIELD_REQ, 0, fields_check_ogrn),
    [ORG_INN] = FIELD_STR("inn", "Inn", FIELD_REQ, 0, organization_check_inn),
    [ORG_KPP] = FIELD_STR("kpp", "Kpp", FIELD_REQ, 0, organization_check_kpp),
    [ORG_FULL_NAME] = FIELD_STR("full_name", "FullName", FIELD_REQ, 1000, NULL),
    [ORG_SHORT_NAME] = FIELD_STR("short_name", "ShortName", FIELD_REQ, 500, NULL),
    [ORG_TYPE] = FIELD_ENUM("type", "Type", FIELD_REQ, organization_types),
    [ORG_OKTMO] = FIELD_STR("oktmo", "Oktmo", FIELD_REQ, 0, fields_check_oktmo),
    [ORG_ADDRESSES] = FIELD_ARRAY("addresses", "Addresses", FIELD_REQ, ORGANIZATION_ADDRESSES_MAX,
                                  &organization_address),
    [ORG_LICENSE] =
        FIELD_OBJECT("license", "License", FIELD_REQ, organization_license_fields, NULL, 0),
    [ORG_STATUS] = FIELD_ENUM("status", "Status", FIELD_REQ, organization_statuses),
    [ORG_PARENT] = FIELD_STR("parent", "Parent", FIELD_OPT, 0, fields_check_ogrn),
    [ORG_HEAD_NAME] = FIELD_STR("head_name", "HeadName", FIELD_OPT, 300, fields_check_name),
    [ORG_PHONE] = FIELD_STR("phone", "Phone", FIELD_OPT, 32, fields_check_phone),
    [ORG_EMAIL] = FIELD_STR("email", "Email", FIELD_OPT, 254, fields_check_email),
    [ORG_SITE] = FIELD_STR("site", "Site", FIELD_OPT, 500, organization_check_site),
    [ORG__MAX] = FIELD_END,
};

const field_t organization_root = {.type = FIELD_T_OBJECT,
                                   .required = FIELD_REQ,
                                   .child = organization_fields,
                                   .rule = organization_rule};

bool
organization_from_json(arena_t *arena, const json_value_t *body, const char *today, bson_t *out,
                       kt_error_t *err)
{
    return fields_from_json(arena, &organization_root, body, today,
                            "The organisation's data failed validation", out, err);
}
