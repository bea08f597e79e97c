/*
 * test_health: the health block of the student model (model/student.c,
 * phase 2) — a full block normalises; every field's code list, range and
 * cross-field rule fails with its code at its JSON Pointer; and the XML map
 * writes the block in the XSD's order with booleans as xs:boolean. And who
 * may see it: the health scope, held by a ministry, school or admin.
 */
#include <libxml/xmlwriter.h>
#include <stdlib.h>
#include <string.h>

#include "auth/principal.h"
#include "model/codec.h"
#include "model/patch.h"
#include "model/student.h"
#include "model/xmlio.h"
#include "tests/unit/check.h"

#define TODAY "2026-03-15"

static const char BASE[] =
    "{'organization': '1027700132195', 'last_name': 'Иванова', 'first_name': 'Анна',"
    " 'sex': 'F', 'birth_date': '2015-05-20', 'citizenship': {'category': 'RF'},"
    " 'documents': [{'type': 'BIRTH_CERT_RF', 'series': 'IV-АМ', 'number': '123456'}],"
    " 'addresses': [{'kind': 'REGISTRATION', 'text': 'Казань, ул. Баумана, д. 1'}],"
    " 'health': {'health_group': 'II', 'pe_group': 'SPECIAL_A',"
    "   'disability': {'group': 'CHILD_DISABLED', 'reason': 'CHILDHOOD', 'from': '2020-01-10',"
    "     'until': '2031-05-20'},"
    "   'ovz': {'pmpk_conclusion_no': ' 17-ПМПК ', 'date': '2021-04-01',"
    "     'recommended_program': 'АООП НОО, вариант 5.1'},"
    "   'needs_adapted_program': true,"
    "   'long_term_treatment': {'needed': true, 'training_form': 'HOME'},"
    "   'legal_basis': {'kind': 'CONSENT_WRITTEN', 'consent_ref': 'согласие № 12 от 01.09.2025'}}}";

static const char EXPECTED_HEALTH[] =
    "'health':{'health_group':'II','pe_group':'SPECIAL_A',"
    "'disability':{'group':'CHILD_DISABLED','reason':'CHILDHOOD','from':'2020-01-10',"
    "'until':'2031-05-20'},"
    "'ovz':{'pmpk_conclusion_no':'17-ПМПК','date':'2021-04-01',"
    "'recommended_program':'АООП НОО, вариант 5.1'},'needs_adapted_program':true,"
    "'long_term_treatment':{'needed':true,'training_form':'HOME'},"
    "'legal_basis':{'kind':'CONSENT_WRITTEN','consent_ref':'согласие № 12 от 01.09.2025'}}";

static char *
q(arena_t *a, const char *s)
{
    char *out = arena_strdup(a, s);

    for (char *p = out; p != NULL && *p != '\0'; p++)
        if (*p == '\'')
            *p = '"';
    return out;
}

static json_value_t *
parse(arena_t *a, const char *quoted)
{
    const char *text = q(a, quoted);
    json_value_t *v = NULL;
    kt_error_t err;

    if (!json_parse(a, text, strlen(text), NULL, &v, &err))
        fprintf(stderr, "bad test JSON (%s): %s\n", err.message, text);
    return v;
}

/* BASE with a merge patch applied, validated; out receives the document. */
static bool
validate(arena_t *a, const char *patch, bson_t *out, kt_error_t *err)
{
    json_value_t *body = parse(a, BASE);

    if (patch != NULL)
        body = patch_merge(a, body, parse(a, patch));
    kt_error_clear(err);
    bson_init(out);
    return student_from_json(a, body, TODAY, out, err);
}

static bool
has_error(const kt_error_t *err, const char *ptr, kt_code_t code)
{
    for (const kt_field_error_t *f = err->fields; f != NULL; f = f->next)
        if (strcmp(f->pointer, ptr) == 0 && f->code == code)
            return true;
    return false;
}

/* The patched student fails with exactly one error: code at ptr. */
static void
check_one(const char *patch, const char *ptr, kt_code_t code)
{
    arena_t *a = arena_new(0);
    bson_t out;
    kt_error_t err;
    bool ok = validate(a, patch, &out, &err);

    if (ok || err.nfields != 1 || !has_error(&err, ptr, code)) {
        fprintf(stderr, "expected only %s at %s for %s\n", kt_code_name(code), ptr, patch);
        for (const kt_field_error_t *f = ok ? NULL : err.fields; f != NULL; f = f->next)
            fprintf(stderr, "  got %s %s\n", f->pointer, kt_code_name(f->code));
        check_failures_in_test++;
    }
    bson_destroy(&out);
    arena_free(a);
}

static void
check_ok(const char *patch)
{
    arena_t *a = arena_new(0);
    bson_t out;
    kt_error_t err;

    if (!validate(a, patch, &out, &err)) {
        fprintf(stderr, "expected %s to pass: %s\n", patch ? patch : "BASE", err.message);
        check_failures_in_test++;
    }
    bson_destroy(&out);
    arena_free(a);
}

static void
test_full_block_normalises(void)
{
    arena_t *a = arena_new(0);
    bson_t out;
    kt_error_t err;
    buf_t json;

    buf_init(&json, 0);
    CHECK(validate(a, NULL, &out, &err));
    codec_canonical(&json, &out, NULL);
    CHECK(strstr(json.data, q(a, EXPECTED_HEALTH)) != NULL);
    buf_release(&json);
    bson_destroy(&out);
    arena_free(a);
}

/* legal_basis is mandatory whenever the block is there; its kind decides the reference. */
static void
test_legal_basis_rules(void)
{
    check_one("{'health': {'legal_basis': null}}", "/health/legal_basis", KT_REQUIRED);
    check_one("{'health': {'health_group': null, 'pe_group': null, 'disability': null, 'ovz': null,"
              " 'needs_adapted_program': null, 'long_term_treatment': null, 'legal_basis': null}}",
              "/health/legal_basis", KT_REQUIRED);
    check_one("{'health': {'legal_basis': {'kind': 'CONSENT_WRITTEN', 'consent_ref': null}}}",
              "/health/legal_basis/consent_ref", KT_REQUIRED);
    check_one("{'health': {'legal_basis': {'kind': 'LAW', 'consent_ref': null}}}",
              "/health/legal_basis/law_ref", KT_REQUIRED);
    check_ok("{'health': {'legal_basis': {'kind': 'LAW', 'consent_ref': null,"
             " 'law_ref': '273-ФЗ ст. 79'}}}");
    check_one("{'health': {'legal_basis': {'kind': 'ORAL'}}}", "/health/legal_basis/kind", KT_ENUM);
    check_one("{'health': {'legal_basis': {'kind': null}}}", "/health/legal_basis/kind",
              KT_REQUIRED);
}

static void
test_codes(void)
{
    check_one("{'health': {'health_group': 'VI'}}", "/health/health_group", KT_ENUM);
    check_one("{'health': {'health_group': 2}}", "/health/health_group", KT_FORMAT);
    check_one("{'health': {'pe_group': 'SPECIAL'}}", "/health/pe_group", KT_ENUM);
    check_one("{'health': {'disability': {'group': 'IV'}}}", "/health/disability/group", KT_ENUM);
    check_one("{'health': {'disability': {'reason': 'FLU'}}}", "/health/disability/reason",
              KT_ENUM);
    check_one("{'health': {'long_term_treatment': {'training_form': 'SCHOOL'}}}",
              "/health/long_term_treatment/training_form", KT_ENUM);
    check_one("{'health': {'needs_adapted_program': 'yes'}}", "/health/needs_adapted_program",
              KT_FORMAT);
    check_one("{'health': {'long_term_treatment': {'needed': 1}}}",
              "/health/long_term_treatment/needed", KT_FORMAT);
    check_one("{'health': {'blood_type': 'A'}}", "/health/blood_type", KT_UNKNOWN_FIELD);
    check_one("{'health': {'health_group': {'$gt': ''}}}", "/health/health_group", KT_FORMAT);
}

static void
test_dates_and_rules(void)
{
    check_one("{'health': {'disability': {'until': '2019-12-31'}}}", "/health/disability/until",
              KT_DATE_ORDER);
    check_one("{'health': {'disability': {'from': '2015-05-19', 'until': null}}}",
              "/health/disability/from", KT_DATE_ORDER);
    check_one("{'health': {'disability': {'from': '2026-03-16'}}}", "/health/disability/from",
              KT_DATE_RANGE);
    check_one("{'health': {'disability': {'from': null}}}", "/health/disability/from", KT_REQUIRED);
    check_one("{'health': {'disability': {'until': '2101-01-01'}}}", "/health/disability/until",
              KT_DATE_RANGE);
    check_one("{'health': {'disability': {'until': '2030-02-30'}}}", "/health/disability/until",
              KT_DATE_RANGE);
    check_ok("{'health': {'disability': {'until': '2100-12-31'}}}");
    check_ok("{'health': {'disability': {'until': '2020-01-10'}}}");
    check_one("{'health': {'ovz': {'date': null}}}", "/health/ovz/date", KT_REQUIRED);
    check_one("{'health': {'ovz': {'date': '2027-01-01'}}}", "/health/ovz/date", KT_DATE_RANGE);
    check_one("{'health': {'ovz': {'pmpk_conclusion_no': "
              "'123456789012345678901234567890123456789012345678901'}}}",
              "/health/ovz/pmpk_conclusion_no", KT_FORMAT);
    check_one("{'health': {'long_term_treatment': {'needed': false}}}",
              "/health/long_term_treatment/training_form", KT_FORMAT);
    check_ok("{'health': {'long_term_treatment': {'needed': false, 'training_form': null}}}");
    check_ok("{'health': null}");
}

/* The block through the XML map: order of the XSD, attributes, booleans. */
static void
test_xml_write(void)
{
    arena_t *a = arena_new(0);
    xmlBufferPtr xb = xmlBufferCreate();
    xmlTextWriterPtr w = xmlNewTextWriterMemory(xb, 0);
    bson_t out;
    kt_error_t err;

    CHECK(validate(a, NULL, &out, &err));
    CHECK(xmlio_write_student(w, NULL, 0, false, &out));
    xmlFreeTextWriter(w);
    const char *xml = (const char *)xmlBufferContent(xb);
    CHECK(strstr(xml, "<Organization>1027700132195</Organization><Health><HealthGroup>II"
                      "</HealthGroup><PeGroup>SPECIAL_A</PeGroup><Disability "
                      "group=\"CHILD_DISABLED\"><Reason>CHILDHOOD</Reason><From>2020-01-10</From>"
                      "<Until>2031-05-20</Until></Disability>") != NULL);
    CHECK(strstr(xml, "<NeedsAdaptedProgram>true</NeedsAdaptedProgram><LongTermTreatment><Needed>"
                      "true</Needed><TrainingForm>HOME</TrainingForm></LongTermTreatment>"
                      "<LegalBasis kind=\"CONSENT_WRITTEN\"><ConsentRef>") != NULL);
    xmlBufferFree(xb);
    bson_destroy(&out);
    arena_free(a);
}

static void
test_who_may_see_health(void)
{
    static const struct {
        role_t role;
        unsigned scopes;
        bool sees;
    } cases[] = {
        {ROLE_MINISTRY_HEALTH, SCOPE_HEALTH, true},
        {ROLE_MINISTRY, SCOPE_HEALTH, false}, /* the education ministry, since the split */
        {ROLE_PORTAL, SCOPE_HEALTH, false},
        {ROLE_MINISTRY_HEALTH, 0, false},
        {ROLE_SCHOOL, SCOPE_HEALTH, true},
        {ROLE_ADMIN, SCOPE_HEALTH, true},
        {ROLE_REGION, SCOPE_HEALTH, false},
        {ROLE_AUDITOR, SCOPE_HEALTH, false},
        {ROLE_NONE, SCOPE_HEALTH, false},
        {ROLE_MINISTRY, 0, false},
        {ROLE_SCHOOL, 0, false},
        {ROLE_ADMIN, 0, false},
    };

    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        principal_t p = {.role = cases[i].role, .scopes = cases[i].scopes};
        CHECK(principal_can_see_health(&p) == cases[i].sees);
    }
    CHECK(!principal_can_see_health(NULL));
}

int
main(void)
{
    CHECK_RUN(test_who_may_see_health);
    CHECK_RUN(test_full_block_normalises);
    CHECK_RUN(test_legal_basis_rules);
    CHECK_RUN(test_codes);
    CHECK_RUN(test_dates_and_rules);
    CHECK_RUN(test_xml_write);
    CHECK_MAIN_END();
}
