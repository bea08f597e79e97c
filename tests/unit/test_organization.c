/*
 * test_organization: the organisation model. A full valid organisation
 * normalises to the expected document; each rule fails with its code at its
 * JSON Pointer (ИНН and ОГРН check digits, КПП shape, enums, dates, the
 * parent that is the organisation itself); every error comes at once;
 * unknown members and operator objects are refused; id and version are
 * accepted and ignored.
 *
 * Bodies are written with ' for " (see q() in model_check.h); most cases
 * are the full organisation with a merge patch applied.
 */
#include <stdlib.h>
#include <string.h>

#include "model/codec.h"
#include "model/organization.h"
#include "model/patch.h"
#include "tests/unit/check.h"

#define TODAY           "2026-03-15"
#define MODEL_FROM_JSON organization_from_json

static const char BASE[] =
    "{'id': '1021600001235', 'version': 2, 'ogrn': '1021600001235', 'inn': '1654001117',"
    " 'kpp': '1655AB001', 'full_name': ' МБОУ «Гимназия № 1» ', 'short_name': 'Гимназия № 1',"
    " 'type': 'SCHOOL', 'oktmo': '92701000',"
    " 'addresses': [{'kind': 'LEGAL', 'text': 'Казань, ул. Баумана, д. 10', 'region_code': '16',"
    "   'fias_guid': '0C5B2444-70A0-4932-980C-B4DC0D3F02B5'}],"
    " 'license': {'number': 'Л035-01234-16/00123456', 'issued_on': '2016-08-01',"
    "   'issuer': 'Минобрнауки РТ'},"
    " 'status': 'ACTIVE', 'parent': '1161650004560', 'head_name': 'Хабибуллина Гульнара',"
    " 'phone': '+7 (843) 292-00-01', 'email': 'gym1@edu.tatar.ru',"
    " 'site': 'https://edu.tatar.ru/gym1'}";

static const char EXPECTED[] =
    "{'ogrn':'1021600001235','inn':'1654001117','kpp':'1655AB001',"
    "'full_name':'МБОУ «Гимназия № 1»','short_name':'Гимназия № 1','type':'SCHOOL',"
    "'oktmo':'92701000','addresses':[{'kind':'LEGAL','text':'Казань, ул. Баумана, д. 10',"
    "'region_code':'16','fias_guid':'0c5b2444-70a0-4932-980c-b4dc0d3f02b5'}],"
    "'license':{'number':'Л035-01234-16/00123456','issued_on':'2016-08-01',"
    "'issuer':'Минобрнауки РТ'},'status':'ACTIVE','parent':'1161650004560',"
    "'head_name':'Хабибуллина Гульнара','phone':'+78432920001','email':'gym1@edu.tatar.ru',"
    "'site':'https://edu.tatar.ru/gym1'}";

/* Helpers: q(), parse(), base_with(), validate(), check_one(), check_ok()… */
#include "tests/unit/model_check.h"

static void
test_valid_normalises(void)
{
    arena_t *a = arena_new(0);
    kt_error_t err;
    buf_t json;

    CHECK(validate(a, base_with(a, NULL), &err, &json));
    CHECK_STR(json.data, q(a, EXPECTED));
    buf_release(&json);
    arena_free(a);
}

static void
test_required(void)
{
    arena_t *a = arena_new(0);
    kt_error_t err;
    buf_t json;
    static const char *const members[] = {"ogrn", "inn",   "kpp",     "full_name", "short_name",
                                          "type", "oktmo", "license", "status"};

    CHECK(!validate(a, parse(a, "{'addresses': []}"), &err, &json));
    for (size_t i = 0; i < sizeof members / sizeof *members; i++) {
        char ptr[32];
        snprintf(ptr, sizeof ptr, "/%s", members[i]);
        CHECK(has_error(&err, ptr, KT_REQUIRED));
    }
    CHECK(has_error(&err, "/addresses", KT_REQUIRED));
    CHECK_INT(err.nfields, 10);
    buf_release(&json);
    arena_free(a);
    check_one("{'license': {'number': null}}", "/license/number", KT_REQUIRED);
    check_one("{'license': {'issued_on': null}}", "/license/issued_on", KT_REQUIRED);
    check_one("{'addresses': [{'kind': 'ACTUAL'}]}", "/addresses/0/text", KT_REQUIRED);
    check_ok("{'parent': null, 'head_name': null, 'phone': null, 'email': null, 'site': null}");
    check_ok("{'license': {'issuer': null}}");
}

static void
test_check_digits(void)
{
    check_one("{'inn': '1654001118'}", "/inn", KT_INN_CHECKSUM);
    check_one("{'inn': '165400111'}", "/inn", KT_FORMAT);
    check_one("{'inn': '500100732259'}", "/inn", KT_FORMAT); /* a person's ИНН */
    check_one("{'inn': '16540011a7'}", "/inn", KT_FORMAT);
    check_one("{'ogrn': '1021600001236', 'id': null}", "/ogrn", KT_OGRN_CHECKSUM);
    check_one("{'ogrn': '102160000123'}", "/ogrn", KT_FORMAT);
    check_one("{'parent': '1161650004561'}", "/parent", KT_OGRN_CHECKSUM);
}

static void
test_kpp(void)
{
    check_ok("{'kpp': '165501001'}");
    check_ok("{'kpp': '16550Z001'}");
    check_one("{'kpp': '1655ab001'}", "/kpp", KT_FORMAT);
    check_one("{'kpp': '16550100'}", "/kpp", KT_FORMAT);
    check_one("{'kpp': 'A65501001'}", "/kpp", KT_FORMAT);
    check_one("{'kpp': '165501A01'}", "/kpp", KT_FORMAT);
}

static void
test_enums_and_shapes(void)
{
    check_one("{'type': 'UNIVERSITY'}", "/type", KT_ENUM);
    check_one("{'status': 'CLOSED'}", "/status", KT_ENUM);
    check_one("{'addresses': [{'kind': 'REGISTRATION', 'text': 'x'}]}", "/addresses/0/kind",
              KT_ENUM);
    check_one("{'oktmo': '927010'}", "/oktmo", KT_FORMAT);
    check_ok("{'oktmo': '92701000001', 'type': 'KINDERGARTEN', 'status': 'LIQUIDATED'}");
    check_one("{'license': {'issued_on': '2027-01-01'}}", "/license/issued_on", KT_DATE_RANGE);
    check_one("{'license': {'issued_on': '01.08.2016'}}", "/license/issued_on", KT_FORMAT);
    check_one("{'phone': '8843'}", "/phone", KT_FORMAT);
    check_one("{'email': 'gym1'}", "/email", KT_FORMAT);
    check_one("{'site': 'edu tatar ru'}", "/site", KT_FORMAT);
    check_one("{'head_name': 'Директор №1'}", "/head_name", KT_FORMAT);
    check_one("{'full_name': {'$gt': ''}}", "/full_name", KT_FORMAT);
    check_one("{'colour': 'red'}", "/colour", KT_UNKNOWN_FIELD);
    check_one("{'license': {'programs': []}}", "/license/programs", KT_UNKNOWN_FIELD);
}

/* Lengths at their edges: 1000 and 500 characters (Cyrillic: 2 bytes each). */
static void
test_lengths(void)
{
    arena_t *a = arena_new(0);
    char *name = arena_alloc(a, 2 * 1001 + 64);

    for (int n = 1000; n <= 1001; n++) {
        size_t k = 0;
        k += (size_t)snprintf(name, 32, "{'full_name': '");
        for (int i = 0; i < n; i++) {
            memcpy(name + k, "я", 2);
            k += 2;
        }
        memcpy(name + k, "'}", 3);
        if (n == 1000)
            check_ok(name);
        else
            check_one(name, "/full_name", KT_FORMAT);
    }
    arena_free(a);
}

static void
test_parent_is_not_itself(void)
{
    check_one("{'parent': '1021600001235'}", "/parent", KT_FORMAT);
}

static void
test_all_errors_at_once(void)
{
    arena_t *a = arena_new(0);
    kt_error_t err;
    buf_t json;

    CHECK(!validate(a,
                    base_with(a, "{'inn': '1654001118', 'kpp': 'x', 'type': 'X', 'status': 'Y'}"),
                    &err, &json));
    CHECK_INT(err.nfields, 4);
    CHECK(has_error(&err, "/inn", KT_INN_CHECKSUM) && has_error(&err, "/kpp", KT_FORMAT) &&
          has_error(&err, "/type", KT_ENUM) && has_error(&err, "/status", KT_ENUM));
    buf_release(&json);
    arena_free(a);
}

int
main(void)
{
    CHECK_RUN(test_valid_normalises);
    CHECK_RUN(test_required);
    CHECK_RUN(test_check_digits);
    CHECK_RUN(test_kpp);
    CHECK_RUN(test_enums_and_shapes);
    CHECK_RUN(test_lengths);
    CHECK_RUN(test_parent_is_not_itself);
    CHECK_RUN(test_all_errors_at_once);
    CHECK_MAIN_END();
}
