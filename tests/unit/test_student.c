/*
 * test_student: the phase-1 student model. A full valid student normalises
 * to the expected document (seen through the codec's JSON); each rule fails
 * with its code at its JSON Pointer; errors are all reported at once; an
 * operator object ({"$gt": ""}) in any scalar place is FORMAT; unknown
 * members are caught at every level; limits hold at their edges; and the
 * lookup keys come out of the stored form.
 *
 * Bodies are written with ' for " and ` for ' (see q()), and most cases are the full
 * student with a merge patch applied, so each shows only what it changes.
 */
#include <stdlib.h>
#include <string.h>

#include "model/codec.h"
#include "model/patch.h"
#include "model/student.h"
#include "tests/unit/check.h"

#define TODAY           "2026-03-15"
#define MODEL_FROM_JSON student_from_json

static const char BASE[] =
    "{'organization': '1027700132195',"
    " 'id': '0b7c5a7e-2f7e-4a8e-9a52-1d2f3e4a5b6c', 'version': 3, 'state': 'ACTIVE',"
    " 'last_name': '  Иванова-Петрова ', 'first_name': 'Анна', 'middle_name': 'Сергеевна',"
    " 'sex': 'F', 'birth_date': '2015-05-20', 'birth_place': 'г. Казань',"
    " 'snils': '112-233-445 95',"
    " 'citizenship': {'category': 'RF'},"
    " 'documents': [{'type': 'BIRTH_CERT_RF', 'series': 'iv-ам', 'number': '123456',"
    "   'issuer': 'Отдел ЗАГС', 'issued_on': '2015-06-01'}],"
    " 'addresses': [{'kind': 'REGISTRATION', 'text': 'Казань, ул. Баумана, д. 1',"
    "   'region_code': '16', 'oktmo': '92701000',"
    "   'fias_guid': '0C5B2444-70A0-4932-980C-B4DC0D3F02B5'}],"
    " 'representatives': [{'kind': 'MOTHER', 'last_name': 'Иванова', 'first_name': 'Мария',"
    "   'middle_name': 'Ивановна', 'birth_date': '1988-01-10', 'snils': '00132667900',"
    "   'citizenship': {'category': 'DUAL', 'countries': ['643', '804']},"
    "   'document': {'type': 'PASSPORT_RF', 'series': '9205', 'number': '654321',"
    "     'issuer': 'МВД по РТ', 'issued_on': '2008-02-01'},"
    "   'phone': '+7 (912) 345-67-89', 'email': 'maria@example.ru'}]}";

static const char EXPECTED[] =
    "{'last_name':'Иванова-Петрова','first_name':'Анна','middle_name':'Сергеевна','sex':'F',"
    "'birth_date':'2015-05-20','birth_place':'г. Казань','snils':'11223344595',"
    "'citizenship':{'category':'RF','countries':['643']},"
    "'documents':[{'type':'BIRTH_CERT_RF','series':'IV-АМ','number':'123456',"
    "'issuer':'Отдел ЗАГС','issued_on':'2015-06-01'}],"
    "'addresses':[{'kind':'REGISTRATION','text':'Казань, ул. Баумана, д. 1','region_code':'16',"
    "'oktmo':'92701000','fias_guid':'0c5b2444-70a0-4932-980c-b4dc0d3f02b5'}],"
    "'representatives':[{'kind':'MOTHER','last_name':'Иванова','first_name':'Мария',"
    "'middle_name':'Ивановна','birth_date':'1988-01-10','snils':'00132667900',"
    "'citizenship':{'category':'DUAL','countries':['643','804']},"
    "'document':{'type':'PASSPORT_RF','series':'9205','number':'654321','issuer':'МВД по РТ',"
    "'issued_on':'2008-02-01'},'phone':'+79123456789','email':'maria@example.ru'}],"
    "'organization':'1027700132195'}";

/* Helpers: q(), parse(), base_with(), validate(), check_one(), check_ok()… */
#include "tests/unit/model_check.h"

/* The patched student passes and its stored form contains fragment. */
static void
check_stored(const char *patch, const char *fragment)
{
    arena_t *a = arena_new(0);
    const char *want = q(a, fragment);
    kt_error_t err;
    buf_t json;
    bool ok = validate(a, base_with(a, patch), &err, &json);

    if (!ok || strstr(json.data, want) == NULL) {
        fprintf(stderr, "expected %s to store %s\n  got %s\n", patch, want,
                ok ? json.data : "an error");
        if (!ok)
            dump_errors("got", &err);
        check_failures_in_test++;
    }
    buf_release(&json);
    arena_free(a);
}

/* The node at a JSON Pointer (no escapes needed by these tests), or NULL. */
static json_value_t *
node_at(json_value_t *v, const char *ptr)
{
    char token[64];

    while (v != NULL && *ptr == '/') {
        size_t n = strcspn(ptr + 1, "/");
        if (n >= sizeof token)
            return NULL;
        memcpy(token, ptr + 1, n);
        token[n] = '\0';
        ptr += n + 1;
        if (v->type == JSON_OBJECT) {
            v = json_get(v, token);
        } else {
            size_t i = (size_t)strtoul(token, NULL, 10); /* lint: allow (test) */
            for (v = v->child; v != NULL && i > 0; i--)
                v = v->next;
        }
    }
    return v;
}

/* The full student with the value at ptr replaced by the JSON repl. */
static json_value_t *
base_replaced(arena_t *a, const char *ptr, const char *repl)
{
    json_value_t *body = base_with(a, NULL), *at = node_at(body, ptr), *r = parse(a, repl);

    if (at == NULL || r == NULL) {
        fprintf(stderr, "no %s in the test student\n", ptr);
        return NULL;
    }
    at->type = r->type;
    at->str = r->str;
    at->len = r->len;
    at->child = r->child;
    at->count = r->count;
    return body;
}

/* A string of n copies of the UTF-8 character c, as a JSON string with quotes. */
static const char *
repeat(arena_t *a, const char *c, size_t n)
{
    size_t len = strlen(c);
    char *s = arena_alloc(a, n * len + 3);

    s[0] = '\'';
    for (size_t i = 0; i < n; i++)
        memcpy(s + 1 + i * len, c, len);
    s[1 + n * len] = '\'';
    s[2 + n * len] = '\0';
    return s;
}

/* A JSON array of n copies of item. */
static const char *
array_of(arena_t *a, const char *item, size_t n)
{
    buf_t b;
    char *s;

    buf_init(&b, 0);
    buf_putc(&b, '[');
    for (size_t i = 0; i < n; i++) {
        if (i > 0)
            buf_putc(&b, ',');
        buf_puts(&b, item);
    }
    buf_putc(&b, ']');
    s = arena_strdup(a, b.data);
    buf_release(&b);
    return s;
}

/* Valid student. */

static void
test_valid_full(void)
{
    arena_t *a = arena_new(0);
    bson_t out = BSON_INITIALIZER;
    kt_error_t err;
    bson_iter_t it;
    buf_t json;

    CHECK(validate(a, base_with(a, NULL), &err, &json));
    CHECK_STR(json.data, q(a, EXPECTED));
    buf_release(&json);

    /* The BSON types themselves: strings, a document, arrays. */
    kt_error_clear(&err);
    CHECK(student_from_json(a, base_with(a, NULL), TODAY, &out, &err));
    CHECK(bson_iter_init_find(&it, &out, "last_name") && BSON_ITER_HOLDS_UTF8(&it));
    CHECK(bson_iter_init_find(&it, &out, "birth_date") && BSON_ITER_HOLDS_UTF8(&it));
    CHECK(bson_iter_init_find(&it, &out, "citizenship") && BSON_ITER_HOLDS_DOCUMENT(&it));
    CHECK(bson_iter_init_find(&it, &out, "documents") && BSON_ITER_HOLDS_ARRAY(&it));
    CHECK(!bson_has_field(&out, "id") && !bson_has_field(&out, "version") &&
          !bson_has_field(&out, "state"));
    CHECK_INT(err.code, KT_OK);
    bson_destroy(&out);
    arena_free(a);
}

static void
test_valid_minimal(void)
{
    arena_t *a = arena_new(0);
    const char *body = "{'last_name': 'Smith', 'first_name': 'John', 'sex': 'M',"
                       " 'birth_date': '2014-09-01',"
                       " 'citizenship': {'category': 'FOREIGN', 'countries': ['840']},"
                       " 'documents': [{'type': 'PASSPORT_FOREIGN', 'number': 'X 123/45'}],"
                       " 'addresses': [{'kind': 'ACTUAL', 'text': 'Москва'}],"
                       " 'organization': '1027739609391'}";
    kt_error_t err;
    buf_t json;

    CHECK(validate(a, parse(a, body), &err, &json));
    CHECK_STR(json.data, q(a, "{'last_name':'Smith','first_name':'John','sex':'M',"
                              "'birth_date':'2014-09-01',"
                              "'citizenship':{'category':'FOREIGN','countries':['840']},"
                              "'documents':[{'type':'PASSPORT_FOREIGN','number':'X 123/45'}],"
                              "'addresses':[{'kind':'ACTUAL','text':'Москва'}],"
                              "'organization':'1027739609391'}"));
    buf_release(&json);
    arena_free(a);
}

/* Optional members given as null, "" or [] are simply absent. */
static void
test_valid_absent_optionals(void)
{
    check_stored("{'middle_name': null, 'birth_place': '   ', 'snils': null,"
                 " 'representatives': []}",
                 "{'last_name':'Иванова-Петрова','first_name':'Анна','sex':'F',"
                 "'birth_date':'2015-05-20','citizenship'");
    check_stored("{'representatives': null}", "'addresses':[{'kind':'REGISTRATION','text':'Казань, "
                                              "ул. Баумана, д. 1','region_code':'16','oktmo':"
                                              "'92701000','fias_guid':'0c5b2444-70a0-4932-980c-"
                                              "b4dc0d3f02b5'}],'organization'");
    /* today NULL: the clock's date is the bound. */
    arena_t *a = arena_new(0);
    bson_t out = BSON_INITIALIZER;
    kt_error_t err;
    CHECK(student_from_json(a, base_with(a, NULL), NULL, &out, &err));
    bson_destroy(&out);
    arena_free(a);
}

/* Each rule. */

static void
test_errors_scalars(void)
{
    check_one("{'last_name': null}", "/last_name", KT_REQUIRED);
    check_one("{'first_name': ' \\u0020 '}", "/first_name", KT_REQUIRED);
    check_one("{'last_name': 'Ivan0v'}", "/last_name", KT_FORMAT);
    check_one("{'middle_name': 'Сергеевна!'}", "/middle_name", KT_FORMAT);
    check_one("{'sex': null}", "/sex", KT_REQUIRED);
    check_one("{'sex': 'X'}", "/sex", KT_ENUM);
    check_one("{'sex': 'm'}", "/sex", KT_ENUM);
    check_one("{'sex': 'Male'}", "/sex", KT_ENUM);
    check_one("{'birth_date': null}", "/birth_date", KT_REQUIRED);
    check_one("{'birth_date': '2015-5-20'}", "/birth_date", KT_FORMAT);
    check_one("{'birth_date': '20.05.2015'}", "/birth_date", KT_FORMAT);
    check_one("{'birth_date': '1899-12-31'}", "/birth_date", KT_DATE_RANGE);
    check_one("{'birth_date': '2026-03-16'}", "/birth_date", KT_DATE_RANGE);
    check_one("{'birth_date': '2014-02-29'}", "/birth_date", KT_DATE_RANGE);
    check_one("{'birth_date': '2014-13-01'}", "/birth_date", KT_DATE_RANGE);
    check_one("{'birth_place': 'Казань\\u0007'}", "/birth_place", KT_FORMAT);
    check_one("{'birth_place': 'Казань\\nРТ'}", "/birth_place", KT_FORMAT);
    check_one("{'birth_place': 'Казань\\u0085'}", "/birth_place", KT_FORMAT);
    check_one("{'snils': '112-233-445-95'}", "/snils", KT_FORMAT);
    check_one("{'snils': '1122334459'}", "/snils", KT_FORMAT);
    check_one("{'snils': '112-233-445 94'}", "/snils", KT_SNILS_CHECKSUM);
    check_one("{'organization': null}", "/organization", KT_REQUIRED);
    check_one("{'organization': '102770013219'}", "/organization", KT_FORMAT);
    check_one("{'organization': '304500123456783'}", "/organization", KT_FORMAT);
    check_one("{'organization': '1027700132194'}", "/organization", KT_OGRN_CHECKSUM);
    check_one("{'nickname': 'Аня'}", "/nickname", KT_UNKNOWN_FIELD);
    check_one("{'a/b~c': 1}", "/a~1b~0c", KT_UNKNOWN_FIELD);
    check_one("{'': 1}", "/", KT_UNKNOWN_FIELD);
    /* Boundaries that pass. */
    check_ok("{'birth_date': '1900-01-01'}");
    check_ok("{'birth_date': '2026-03-15', 'documents': [{'type': 'OTHER', 'number': '1'}]}");
    check_ok("{'birth_date': '2012-02-29'}");
}

static void
test_errors_citizenship(void)
{
    check_one("{'citizenship': null}", "/citizenship", KT_REQUIRED);
    check_one("{'citizenship': {'category': null, 'countries': ['643']}}", "/citizenship/category",
              KT_REQUIRED);
    check_one("{'citizenship': {'category': 'EU'}}", "/citizenship/category", KT_ENUM);
    check_one("{'citizenship': {'category': 'RF', 'countries': ['804']}}", "/citizenship/countries",
              KT_FORMAT);
    check_one("{'citizenship': {'category': 'RF', 'countries': ['643', '804']}}",
              "/citizenship/countries", KT_FORMAT);
    check_one("{'citizenship': {'category': 'FOREIGN'}}", "/citizenship/countries", KT_REQUIRED);
    check_one("{'citizenship': {'category': 'FOREIGN', 'countries': []}}", "/citizenship/countries",
              KT_REQUIRED);
    check_one("{'citizenship': {'category': 'FOREIGN', 'countries': ['804', '643']}}",
              "/citizenship/countries", KT_FORMAT);
    check_one("{'citizenship': {'category': 'DUAL', 'countries': ['643']}}",
              "/citizenship/countries", KT_FORMAT);
    check_one("{'citizenship': {'category': 'DUAL'}}", "/citizenship/countries", KT_REQUIRED);
    check_one("{'citizenship': {'category': 'STATELESS', 'countries': ['804']}}",
              "/citizenship/countries", KT_FORMAT);
    check_one("{'citizenship': {'category': 'FOREIGN', 'countries': ['84']}}",
              "/citizenship/countries/0", KT_FORMAT);
    check_one("{'citizenship': {'category': 'FOREIGN', 'countries': ['840', null]}}",
              "/citizenship/countries/1", KT_REQUIRED);
    check_one("{'citizenship': {'category': 'DUAL', 'countries': ['643', '804', '643']}}",
              "/citizenship/countries/2", KT_FORMAT);
    check_one("{'citizenship': {'category': 'FOREIGN', 'countries': ['004', '008', '010', "
              "'012', '016', '020']}}",
              "/citizenship/countries", KT_FORMAT);
    check_one("{'citizenship': {'category': 'RF', 'region': 'x'}}", "/citizenship/region",
              KT_UNKNOWN_FIELD);
    check_stored("{'citizenship': {'category': 'RF', 'countries': ['643']}}",
                 "'citizenship':{'category':'RF','countries':['643']}");
    check_stored("{'citizenship': {'category': 'STATELESS', 'countries': []}}",
                 "'citizenship':{'category':'STATELESS'}");
    check_stored("{'citizenship': {'category': 'FOREIGN', 'countries': ['004', '008', '010', "
                 "'012', '016']}}",
                 "'countries':['004','008','010','012','016']");
}

static void
test_errors_documents(void)
{
    check_one("{'documents': null}", "/documents", KT_REQUIRED);
    check_one("{'documents': []}", "/documents", KT_REQUIRED);
    check_one("{'documents': [null]}", "/documents/0", KT_REQUIRED);
    check_one("{'documents': [{'number': '1'}]}", "/documents/0/type", KT_REQUIRED);
    check_one("{'documents': [{'type': 'VISA', 'number': '1'}]}", "/documents/0/type", KT_ENUM);
    check_one("{'documents': [{'type': 'OTHER'}]}", "/documents/0/number", KT_REQUIRED);
    check_one("{'documents': [{'type': 'BIRTH_CERT_RF', 'number': '123456'}]}",
              "/documents/0/series", KT_REQUIRED);
    check_one("{'documents': [{'type': 'BIRTH_CERT_RF', 'series': 'IV-AM', 'number': '123456'}]}",
              "/documents/0/series", KT_FORMAT);
    check_one("{'documents': [{'type': 'BIRTH_CERT_RF', 'series': 'IV-АМБ', 'number': '123456'}]}",
              "/documents/0/series", KT_FORMAT);
    check_one("{'documents': [{'type': 'BIRTH_CERT_RF', 'series': 'IVАМ', 'number': '123456'}]}",
              "/documents/0/series", KT_FORMAT);
    check_one("{'documents': [{'type': 'BIRTH_CERT_RF', 'series': '-АМ', 'number': '123456'}]}",
              "/documents/0/series", KT_FORMAT);
    check_one("{'documents': [{'type': 'BIRTH_CERT_RF', 'series': 'IV-А', 'number': '123456'}]}",
              "/documents/0/series", KT_FORMAT);
    check_one("{'documents': [{'type': 'BIRTH_CERT_RF', 'series': '4-АМ', 'number': '123456'}]}",
              "/documents/0/series", KT_FORMAT);
    check_one("{'documents': [{'type': 'BIRTH_CERT_RF', 'series': 'IV-АМ', 'number': '12345'}]}",
              "/documents/0/number", KT_FORMAT);
    check_one("{'documents': [{'type': 'PASSPORT_RF', 'number': '123456'}]}", "/documents/0/series",
              KT_REQUIRED);
    check_one("{'documents': [{'type': 'PASSPORT_RF', 'series': '92 05', 'number': '123456'}]}",
              "/documents/0/series", KT_FORMAT);
    check_one("{'documents': [{'type': 'PASSPORT_RF', 'series': '9205', 'number': '1234567'}]}",
              "/documents/0/number", KT_FORMAT);
    check_one("{'documents': [{'type': 'BIRTH_CERT_RF', 'series': 'IV-АМ', 'number': '123456',"
              " 'issued_on': '2015-05-19'}]}",
              "/documents/0/issued_on", KT_DATE_ORDER);
    check_one("{'documents': [{'type': 'BIRTH_CERT_RF', 'series': 'IV-АМ', 'number': '123456',"
              " 'issued_on': '2026-03-16'}]}",
              "/documents/0/issued_on", KT_DATE_RANGE);
    check_one("{'documents': [{'type': 'OTHER', 'number': '1', 'issued_on': '2015/06/01'}]}",
              "/documents/0/issued_on", KT_FORMAT);
    check_one("{'documents': [{'type': 'OTHER', 'number': '1', 'kind': 'x'}]}", "/documents/0/kind",
              KT_UNKNOWN_FIELD);
    /* The same day as the birth is fine; so are other types without a series. */
    check_ok("{'documents': [{'type': 'BIRTH_CERT_RF', 'series': 'IV-АМ', 'number': '123456',"
             " 'issued_on': '2015-05-20'}, {'type': 'BIRTH_CERT_FOREIGN', 'number': 'AB-1'}]}");
    /* The second document's error is at index 1. */
    check_one("{'documents': [{'type': 'OTHER', 'number': '1'}, {'type': 'PASSPORT_RF',"
              " 'series': '9205', 'number': 'x'}]}",
              "/documents/1/number", KT_FORMAT);
}

static void
test_errors_addresses(void)
{
    check_one("{'addresses': []}", "/addresses", KT_REQUIRED);
    check_one("{'addresses': [{'text': 'Казань'}]}", "/addresses/0/kind", KT_REQUIRED);
    check_one("{'addresses': [{'kind': 'HOME', 'text': 'Казань'}]}", "/addresses/0/kind", KT_ENUM);
    check_one("{'addresses': [{'kind': 'ACTUAL'}]}", "/addresses/0/text", KT_REQUIRED);
    check_one("{'addresses': [{'kind': 'ACTUAL', 'text': 'К', 'region_code': '1'}]}",
              "/addresses/0/region_code", KT_FORMAT);
    check_one("{'addresses': [{'kind': 'ACTUAL', 'text': 'К', 'region_code': '1б'}]}",
              "/addresses/0/region_code", KT_FORMAT);
    check_one("{'addresses': [{'kind': 'ACTUAL', 'text': 'К', 'oktmo': '927010'}]}",
              "/addresses/0/oktmo", KT_FORMAT);
    check_one("{'addresses': [{'kind': 'ACTUAL', 'text': 'К',"
              " 'fias_guid': '0c5b2444-70a0-4932-980c-b4dc0d3f02b'}]}",
              "/addresses/0/fias_guid", KT_FORMAT);
    check_one("{'addresses': [{'kind': 'ACTUAL', 'text': 'К',"
              " 'fias_guid': '0c5b244470a0-4932-980c-b4dc0d3f02b5a'}]}",
              "/addresses/0/fias_guid", KT_FORMAT);
    check_one("{'addresses': [{'kind': 'ACTUAL', 'text': 'К',"
              " 'fias_guid': 'gc5b2444-70a0-4932-980c-b4dc0d3f02b5'}]}",
              "/addresses/0/fias_guid", KT_FORMAT);
    check_one("{'addresses': [{'kind': 'ACTUAL', 'text': 'К', 'zip': '420000'}]}",
              "/addresses/0/zip", KT_UNKNOWN_FIELD);
    check_stored("{'addresses': [{'kind': 'ACTUAL', 'text': 'К', 'oktmo': '92701000001'}]}",
                 "'addresses':[{'kind':'ACTUAL','text':'К','oktmo':'92701000001'}]");
}

static void
test_errors_representatives(void)
{
    const char *rep = "{'representatives': [{'kind': 'FATHER', 'last_name': 'Иванов',"
                      " 'first_name': 'Иван', %s}]}";
    struct {
        const char *members;
        const char *ptr;
        kt_code_t code;
    } cases[] = {
        {"'phone': '89123456789'", "/representatives/0/phone", KT_FORMAT},
        {"'phone': '+791234567'", "/representatives/0/phone", KT_FORMAT},
        {"'phone': '+7912345678901234'", "/representatives/0/phone", KT_FORMAT},
        {"'phone': '+7 912 345 67 8x'", "/representatives/0/phone", KT_FORMAT},
        {"'email': 'a@b@c'", "/representatives/0/email", KT_FORMAT},
        {"'email': 'ivan ivanov@mail.ru'", "/representatives/0/email", KT_FORMAT},
        {"'email': '@mail.ru'", "/representatives/0/email", KT_FORMAT},
        {"'email': 'ivan@'", "/representatives/0/email", KT_FORMAT},
        {"'email': 'ivan.mail.ru'", "/representatives/0/email", KT_FORMAT},
        {"'snils': '112-233-445 96'", "/representatives/0/snils", KT_SNILS_CHECKSUM},
        {"'birth_date': '1850-01-01'", "/representatives/0/birth_date", KT_DATE_RANGE},
        {"'citizenship': {'category': 'FOREIGN'}", "/representatives/0/citizenship/countries",
         KT_REQUIRED},
        {"'document': {'type': 'PASSPORT_RF', 'series': '9205'}",
         "/representatives/0/document/number", KT_REQUIRED},
        {"'document': {'type': 'PASSPORT_RF', 'series': '9205', 'number': '654321', 'color': 1}",
         "/representatives/0/document/color", KT_UNKNOWN_FIELD},
        /* Compared with the representative's own birth date... */
        {"'birth_date': '1990-01-01', 'document': {'type': 'PASSPORT_RF', 'series': '9205',"
         " 'number': '654321', 'issued_on': '1989-12-31'}",
         "/representatives/0/document/issued_on", KT_DATE_ORDER},
        {"'documents': []", "/representatives/0/documents", KT_UNKNOWN_FIELD},
    };
    arena_t *a = arena_new(0);

    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
        check_one(arena_printf(a, rep, cases[i].members), cases[i].ptr, cases[i].code);
    check_one("{'representatives': [{'last_name': 'Иванов', 'first_name': 'Иван'}]}",
              "/representatives/0/kind", KT_REQUIRED);
    check_one("{'representatives': [{'kind': 'UNCLE', 'last_name': 'Иванов',"
              " 'first_name': 'Иван'}]}",
              "/representatives/0/kind", KT_ENUM);
    check_one("{'representatives': [{'kind': 'OTHER', 'first_name': 'Иван'}]}",
              "/representatives/0/last_name", KT_REQUIRED);
    check_one("{'representatives': {'kind': 'OTHER'}}", "/representatives", KT_FORMAT);
    /* ...never with the child's: a passport issued before the child was born is fine. */
    check_ok(arena_printf(a, rep,
                          "'document': {'type': 'PASSPORT_RF', 'series': '9205',"
                          " 'number': '654321', 'issued_on': '2005-01-01'}"));
    check_ok(arena_printf(a, rep,
                          "'birth_date': '1985-01-01', 'document': {'type': 'PASSPORT_RF',"
                          " 'series': '9205', 'number': '654321', 'issued_on': '2005-01-01'}"));
    check_stored(arena_printf(a, rep, "'phone': ' +7-912-345-67-89 ', 'email': 'a@b'"),
                 "'phone':'+79123456789','email':'a@b'");
    check_stored(arena_printf(a, rep, "'phone': '+375 (29) 123-45-67'"), "'phone':'+375291234567'");
    arena_free(a);
}

/* Several errors in one body are all reported, each at its pointer. */
static void
test_all_errors_at_once(void)
{
    arena_t *a = arena_new(0);
    json_value_t *body = base_with(a, "{'last_name': '', 'sex': 'X', 'snils': '112-233-445 00',"
                                      " 'documents': [{'type': 'PASSPORT_RF', 'series': '9205',"
                                      " 'number': '1'}], 'hobby': 'chess'}");
    kt_error_t err;
    buf_t json;

    CHECK(!validate(a, body, &err, &json));
    CHECK_INT(err.code, KT_VALIDATION);
    CHECK_INT(err.status, 422);
    CHECK_INT(err.nfields, 5);
    CHECK(has_error(&err, "/hobby", KT_UNKNOWN_FIELD));
    CHECK(has_error(&err, "/last_name", KT_REQUIRED));
    CHECK(has_error(&err, "/sex", KT_ENUM));
    CHECK(has_error(&err, "/snils", KT_SNILS_CHECKSUM));
    CHECK(has_error(&err, "/documents/0/number", KT_FORMAT));
    /* Unknown members first, then the table's order. */
    CHECK(err.fields != NULL && strcmp(err.fields->pointer, "/hobby") == 0);
    if (err.nfields != 5)
        dump_errors("got", &err);
    buf_release(&json);

    /* A body missing everything: every mandatory member. */
    CHECK(!validate(a, parse(a, "{}"), &err, &json));
    CHECK_INT(err.nfields, 8);
    CHECK(has_error(&err, "/last_name", KT_REQUIRED));
    CHECK(has_error(&err, "/first_name", KT_REQUIRED));
    CHECK(has_error(&err, "/sex", KT_REQUIRED));
    CHECK(has_error(&err, "/birth_date", KT_REQUIRED));
    CHECK(has_error(&err, "/citizenship", KT_REQUIRED));
    CHECK(has_error(&err, "/documents", KT_REQUIRED));
    CHECK(has_error(&err, "/addresses", KT_REQUIRED));
    CHECK(has_error(&err, "/organization", KT_REQUIRED));
    buf_release(&json);
    arena_free(a);
}

/* Every place a string belongs rejects an object, an array, a number, a bool. */
static void
test_operator_in_every_scalar(void)
{
    static const char *const places[] = {"/last_name",
                                         "/first_name",
                                         "/middle_name",
                                         "/sex",
                                         "/birth_date",
                                         "/birth_place",
                                         "/snils",
                                         "/organization",
                                         "/citizenship/category",
                                         "/documents/0/type",
                                         "/documents/0/series",
                                         "/documents/0/number",
                                         "/documents/0/issuer",
                                         "/documents/0/issued_on",
                                         "/addresses/0/kind",
                                         "/addresses/0/text",
                                         "/addresses/0/region_code",
                                         "/addresses/0/oktmo",
                                         "/addresses/0/fias_guid",
                                         "/representatives/0/kind",
                                         "/representatives/0/last_name",
                                         "/representatives/0/first_name",
                                         "/representatives/0/middle_name",
                                         "/representatives/0/birth_date",
                                         "/representatives/0/snils",
                                         "/representatives/0/citizenship/category",
                                         "/representatives/0/citizenship/countries/0",
                                         "/representatives/0/document/type",
                                         "/representatives/0/document/series",
                                         "/representatives/0/document/number",
                                         "/representatives/0/document/issuer",
                                         "/representatives/0/document/issued_on",
                                         "/representatives/0/phone",
                                         "/representatives/0/email",
                                         NULL};
    static const char *const values[] = {"{'$gt': ''}", "{'$ne': null}", "['x']",
                                         "42",          "true",          NULL};

    for (size_t i = 0; places[i] != NULL; i++) {
        for (size_t k = 0; values[k] != NULL; k++) {
            arena_t *a = arena_new(0);
            json_value_t *body = base_replaced(a, places[i], values[k]);
            CHECK(body != NULL);
            if (body != NULL)
                check_body_one(a, arena_printf(a, "%s at %s", values[k], places[i]), body,
                               places[i], KT_FORMAT);
            arena_free(a);
        }
    }
}

/* Objects and arrays where a scalar, or the other container, was given. */
static void
test_containers_of_wrong_type(void)
{
    check_one("{'citizenship': 'RF'}", "/citizenship", KT_FORMAT);
    check_one("{'citizenship': ['RF']}", "/citizenship", KT_FORMAT);
    check_one("{'citizenship': {'category': 'DUAL', 'countries': '643,804'}}",
              "/citizenship/countries", KT_FORMAT);
    check_one("{'documents': {'$gt': ''}}", "/documents", KT_FORMAT);
    check_one("{'documents': ['PASSPORT_RF']}", "/documents/0", KT_FORMAT);
    check_one("{'addresses': 'Казань'}", "/addresses", KT_FORMAT);
    check_one("{'representatives': [{'kind': 'MOTHER', 'last_name': 'И', 'first_name': 'М',"
              " 'document': [{'type': 'OTHER', 'number': '1'}]}]}",
              "/representatives/0/document", KT_FORMAT);

    const char *const roots[] = {"[]", "'student'", "42", "true", NULL};
    for (size_t i = 0; roots[i] != NULL; i++) {
        arena_t *a = arena_new(0);
        check_body_one(a, roots[i], parse(a, roots[i]), "", KT_FORMAT);
        arena_free(a);
    }
    arena_t *a = arena_new(0);
    check_body_one(a, "null", parse(a, "null"), "", KT_REQUIRED);
    check_body_one(a, "no body", NULL, "", KT_REQUIRED);
    arena_free(a);
}

/* id, version and state are skipped at the top, whatever their type, and
 * unknown anywhere else. */
static void
test_assigned_members(void)
{
    check_ok("{'id': {'$gt': ''}, 'version': 'x', 'state': ['DELETED']}");
    check_one("{'documents': [{'type': 'OTHER', 'number': '1', 'id': 'x'}]}", "/documents/0/id",
              KT_UNKNOWN_FIELD);
    check_one("{'citizenship': {'category': 'RF', 'version': 1}}", "/citizenship/version",
              KT_UNKNOWN_FIELD);
}

static void
test_limits(void)
{
    arena_t *a = arena_new(0);
    const char *doc = "{'type': 'OTHER', 'number': '1'}";
    const char *addr = "{'kind': 'ACTUAL', 'text': 'К'}";
    const char *rep = "{'kind': 'OTHER', 'last_name': 'И', 'first_name': 'М'}";

    /* 100 characters of two bytes each pass; 101 do not. */
    check_ok(arena_printf(a, "{'last_name': %s}", repeat(a, "Ж", 100)));
    check_one(arena_printf(a, "{'last_name': %s}", repeat(a, "Ж", 101)), "/last_name", KT_FORMAT);
    check_ok(arena_printf(a, "{'middle_name': %s}", repeat(a, "z", 100)));
    check_one(arena_printf(a, "{'first_name': %s}", repeat(a, "z", 101)), "/first_name", KT_FORMAT);
    check_ok(arena_printf(a, "{'birth_place': %s}", repeat(a, "ё", 500)));
    check_one(arena_printf(a, "{'birth_place': %s}", repeat(a, "ё", 501)), "/birth_place",
              KT_FORMAT);
    /* Spaces trimmed away do not count. */
    check_ok(
        arena_printf(a, "{'last_name': ' %s '}", arena_strndup(a, repeat(a, "Я", 100) + 1, 200)));
    check_ok(
        arena_printf(a, "{'addresses': [{'kind': 'ACTUAL', 'text': %s}]}", repeat(a, "ж", 1000)));
    check_one(
        arena_printf(a, "{'addresses': [{'kind': 'ACTUAL', 'text': %s}]}", repeat(a, "ж", 1001)),
        "/addresses/0/text", KT_FORMAT);
    check_ok(arena_printf(a,
                          "{'documents': [{'type': 'OTHER', 'series': %s, 'number': %s,"
                          " 'issuer': %s}]}",
                          repeat(a, "Ш", 20), repeat(a, "9", 30), repeat(a, "Щ", 500)));
    check_one(arena_printf(a, "{'documents': [{'type': 'OTHER', 'series': %s, 'number': '1'}]}",
                           repeat(a, "Ш", 21)),
              "/documents/0/series", KT_FORMAT);
    check_one(
        arena_printf(a, "{'documents': [{'type': 'OTHER', 'number': %s}]}", repeat(a, "9", 31)),
        "/documents/0/number", KT_FORMAT);
    check_one(arena_printf(a, "{'documents': [{'type': 'OTHER', 'number': '1', 'issuer': %s}]}",
                           repeat(a, "Щ", 501)),
              "/documents/0/issuer", KT_FORMAT);
    /* Array sizes. */
    check_ok(arena_printf(a, "{'documents': %s}", array_of(a, doc, STUDENT_DOCUMENTS_MAX)));
    check_one(arena_printf(a, "{'documents': %s}", array_of(a, doc, STUDENT_DOCUMENTS_MAX + 1)),
              "/documents", KT_FORMAT);
    check_ok(arena_printf(a, "{'addresses': %s}", array_of(a, addr, STUDENT_ADDRESSES_MAX)));
    check_one(arena_printf(a, "{'addresses': %s}", array_of(a, addr, STUDENT_ADDRESSES_MAX + 1)),
              "/addresses", KT_FORMAT);
    check_ok(
        arena_printf(a, "{'representatives': %s}", array_of(a, rep, STUDENT_REPRESENTATIVES_MAX)));
    check_one(arena_printf(a, "{'representatives': %s}",
                           array_of(a, rep, STUDENT_REPRESENTATIVES_MAX + 1)),
              "/representatives", KT_FORMAT);
    /* E-mail: 254 characters (246 + "@mail.ru"). */
    check_ok(arena_printf(a,
                          "{'representatives': [{'kind': 'OTHER', 'last_name': 'И',"
                          " 'first_name': 'М', 'email': '%.*s@mail.ru'}]}",
                          246, repeat(a, "m", 246) + 1));
    check_one(arena_printf(a,
                           "{'representatives': [{'kind': 'OTHER', 'last_name': 'И',"
                           " 'first_name': 'М', 'email': '%.*s@mail.ru'}]}",
                           247, repeat(a, "m", 247) + 1),
              "/representatives/0/email", KT_FORMAT);
    arena_free(a);
}

static void
test_names(void)
{
    check_stored("{'last_name': 'Д`Артаньян'}", "'last_name':'Д`Артаньян'");
    check_stored("{'last_name': 'O\\u2019Brien'}", "'last_name':'O`Brien'");
    check_stored("{'last_name': 'Ёлкина', 'first_name': 'Әлия', 'middle_name': 'Müller'}",
                 "'last_name':'Ёлкина','first_name':'Әлия','middle_name':'Müller'");
    check_stored("{'first_name': 'Анна Мария'}", "'first_name':'Анна Мария'");
    check_one("{'last_name': 'Иван1'}", "/last_name", KT_FORMAT);
    check_one("{'last_name': 'Иван_'}", "/last_name", KT_FORMAT);
    check_one("{'last_name': '---'}", "/last_name", KT_FORMAT);
    check_one("{'last_name': 'Иван\\tов'}", "/last_name", KT_FORMAT);
    check_one("{'last_name': 'Ivan\\u00d7'}", "/last_name", KT_FORMAT);
    check_one("{'last_name': 'Петров\\u0483'}", "/last_name", KT_FORMAT);
    check_one("{'last_name': '李'}", "/last_name", KT_FORMAT);
}

static void
test_series_and_identifiers(void)
{
    check_stored(
        "{'documents': [{'type': 'BIRTH_CERT_RF', 'series': 'ХIV-ам', 'number': '000001'}]}",
        "'series':'XIV-АМ'");
    check_stored("{'documents': [{'type': 'BIRTH_CERT_RF', 'series': 'viii-ып', "
                 "'number': '000001'}]}",
                 "'series':'VIII-ЫП'");
    check_stored("{'documents': [{'type': 'BIRTH_CERT_RF', 'series': ' Сі-ёж ', "
                 "'number': '000001'}]}",
                 "'series':'CI-ЁЖ'");
    check_stored("{'documents': [{'type': 'OTHER', 'series': 'ab-1', 'number': 'x'}]}",
                 "'series':'ab-1'");
    check_stored("{'snils': '11223344595'}", "'snils':'11223344595'");
    check_stored("{'snils': '001-001-998 42'}", "'snils':'00100199842'");
    check_stored("{'snils': '00100199842'}", "'snils':'00100199842'");
}

static void
test_keys(void)
{
    arena_t *a = arena_new(0);
    bson_t out = BSON_INITIALIZER, bare = BSON_INITIALIZER;
    const char *keys[4] = {NULL};
    const char *snils = NULL;
    kt_error_t err;
    json_value_t *body =
        base_with(a, "{'documents': [{'type': 'BIRTH_CERT_RF', 'series': 'ii-жю', 'number': "
                     "'123456'}, {'type': 'OTHER', 'number': 'N 1'}, {'type': 'PASSPORT_RF',"
                     " 'series': '9205', 'number': '000001'}]}");

    CHECK(student_from_json(a, body, TODAY, &out, &err));
    CHECK_INT(student_keys(a, &out, &snils, keys, 4), 3);
    /* Claim keys are normalised (student_doc_claim_key): no hyphens or spaces. */
    CHECK_STR(snils, "11223344595");
    CHECK_STR(keys[0], "BIRTH_CERT_RF|IIЖЮ|123456");
    CHECK_STR(keys[1], "OTHER||N1");
    CHECK_STR(keys[2], "PASSPORT_RF|9205|000001");
    CHECK(keys[3] == NULL);
    /* max bounds the keys. */
    keys[0] = keys[1] = NULL;
    CHECK_INT(student_keys(a, &out, &snils, keys, 1), 1);
    CHECK_STR(keys[0], "BIRTH_CERT_RF|IIЖЮ|123456");
    CHECK(keys[1] == NULL);
    CHECK_INT(student_keys(a, &out, &snils, NULL, 0), 0);
    /* No СНИЛС, no documents. */
    CHECK_INT(student_keys(a, &bare, &snils, keys, 4), 0);
    CHECK_STR(snils, "");
    bson_destroy(&out);
    bson_destroy(&bare);
    arena_free(a);
}

static void
test_messages(void)
{
    arena_t *a = arena_new(0);
    json_value_t *body = base_with(a, "{'last_name': null, 'snils': '112-233-445 00',"
                                      " 'sex': 'X', 'birth_place': {'$gt': ''}}");
    kt_error_t err;
    buf_t json;

    CHECK(!validate(a, body, &err, &json));
    for (const kt_field_error_t *f = err.fields; f != NULL; f = f->next) {
        if (f->code == KT_REQUIRED || f->code == KT_SNILS_CHECKSUM)
            CHECK(f->message == NULL); /* the code's title says it all */
        else if (f->code == KT_ENUM)
            CHECK_STR(f->message_ru, "Допустимые значения: M, F");
        else if (f->code == KT_FORMAT)
            CHECK_STR(f->message_ru, "Ожидается строка");
        if (f->code == KT_ENUM)
            CHECK_STR(f->message, "Allowed values: M, F");
    }
    CHECK_STR(err.message_ru, "Данные обучающегося не прошли проверку (ошибок: 4)");
    CHECK_STR(err.message, "The student's data failed validation (4 errors)");
    buf_release(&json);
    arena_free(a);
}

/* A body with more errors than the cap reports the cap's worth. */
static void
test_error_cap(void)
{
    arena_t *a = arena_new(0);
    buf_t text, json;
    json_value_t *body = NULL;
    kt_error_t err;

    buf_init(&text, 0);
    buf_putc(&text, '{');
    for (int i = 0; i < 150; i++)
        buf_printf(&text, "%s\"x%d\":%d", i ? "," : "", i, i);
    buf_putc(&text, '}');
    CHECK(json_parse(a, text.data, text.len, NULL, &body, &err));
    CHECK(!validate(a, body, &err, &json));
    CHECK_INT(err.nfields, 100);
    CHECK(strstr(err.message_ru, "ошибок: 158") != NULL);
    buf_release(&text);
    buf_release(&json);
    arena_free(a);
}

/* An arena too small for the work: a clean error, nothing half-done. */
static void
test_out_of_memory(void)
{
    arena_t *big = arena_new(0);
    arena_t *tiny = arena_new(16384);
    const char *doc =
        arena_printf(big, "{'type': 'OTHER', 'number': '1', 'issuer': %s}", repeat(big, "Щ", 500));
    json_value_t *body =
        base_with(big, arena_printf(big, "{'documents': %s}", array_of(big, doc, 20)));
    bson_t out = BSON_INITIALIZER;
    kt_error_t err;

    kt_error_clear(&err);
    CHECK(body != NULL);
    CHECK(!student_from_json(tiny, body, TODAY, &out, &err));
    CHECK_INT(err.code, KT_PAYLOAD_TOO_LARGE);
    CHECK_INT(err.status, 413);
    bson_destroy(&out);
    arena_free(tiny);
    arena_free(big);
}

/* "|" joins the parts of a document's claim key, so it may not be inside one. */
static void
test_document_key_separator(void)
{
    check_one("{'documents': [{'type': 'OTHER', 'number': '12|34'}]}", "/documents/0/number",
              KT_FORMAT);
    check_one("{'documents': [{'type': 'OTHER', 'series': 'A|B', 'number': '1234'}]}",
              "/documents/0/series", KT_FORMAT);
    check_ok("{'documents': [{'type': 'OTHER', 'series': 'A-B', 'number': '12/34'}]}");
}

/* Phase 3: achievements, exams, certificates (model/results.c). Each case
 * changes one valid item through a merge patch (item_with) and puts it as
 * the only item of its array. */

static const char ACHIEVEMENT[] = "{'kind': 'OLYMPIAD', 'title': 'Всероссийская олимпиада',"
                                  " 'event_name': 'Региональный этап ВсОШ', 'level': 'REGIONAL',"
                                  " 'subject': 'Математика', 'result': 'PRIZE_WINNER', 'place': 2,"
                                  " 'date': '2025-01-20', 'organizer': 'Минобрнауки РТ',"
                                  " 'document': {'number': 'Д-17', 'date': '2025-01-25',"
                                  " 'url': 'https://olymp.example.ru/d/17'}}";
static const char EXAM[] = "{'kind': 'OGE', 'year': 2025, 'subject_code': '1',"
                           " 'subject': 'Русский язык', 'score': 30, 'mark': 5, 'passed': true}";
static const char CERTIFICATE[] = "{'type': 'ATTESTAT_OOO', 'number': '01234000012345',"
                                  " 'issued_on': '2025-06-25', 'with_honors': true,"
                                  " 'organization': '1027700132195'}";

static const char *
item_base(const char *array)
{
    if (strcmp(array, "achievements") == 0)
        return ACHIEVEMENT;
    return strcmp(array, "exams") == 0 ? EXAM : CERTIFICATE;
}

/* A merge patch of the student whose array holds the base item patched by patch. */
static const char *
item_with(arena_t *a, const char *array, const char *patch)
{
    json_value_t *item = patch_merge(a, parse(a, item_base(array)), parse(a, patch));
    const char *out = NULL;
    buf_t b;

    buf_init(&b, 0);
    if (json_write(&b, item))
        out = arena_printf(a, "{'%s': [%s]}", array, b.data);
    buf_release(&b);
    return out;
}

/* The item patched must fail with exactly code at /array/0 + ptr. */
static void
check_item(const char *array, const char *patch, const char *ptr, kt_code_t code)
{
    arena_t *a = arena_new(0);
    const char *full = arena_printf(a, "/%s/0%s", array, ptr);

    check_body_one(a, patch, base_with(a, item_with(a, array, patch)), full, code);
    arena_free(a);
}

static void
check_item_ok(const char *array, const char *patch)
{
    arena_t *a = arena_new(0);

    check_ok(item_with(a, array, patch));
    arena_free(a);
}

static void
test_results_valid(void)
{
    arena_t *a = arena_new(0);
    const char *all = arena_printf(a, "{'achievements': [%s], 'exams': [%s], 'certificates': [%s]}",
                                   ACHIEVEMENT, EXAM, CERTIFICATE);

    /* Integers stay JSON numbers, booleans true/false, members in table order, after
     * the phase-1 fields. */
    check_stored(all, "'organization':'1027700132195','achievements':[{'kind':'OLYMPIAD',"
                      "'title':'Всероссийская олимпиада','event_name':'Региональный этап ВсОШ',"
                      "'level':'REGIONAL','subject':'Математика','result':'PRIZE_WINNER',"
                      "'place':2,'date':'2025-01-20','organizer':'Минобрнауки РТ',"
                      "'document':{'number':'Д-17','date':'2025-01-25',"
                      "'url':'https://olymp.example.ru/d/17'}}],");
    check_stored(all, "'exams':[{'kind':'OGE','year':2025,'subject_code':'1',"
                      "'subject':'Русский язык','score':30,'mark':5,'passed':true}],");
    check_stored(all, "'certificates':[{'type':'ATTESTAT_OOO','number':'01234000012345',"
                      "'issued_on':'2025-06-25','with_honors':true,"
                      "'organization':'1027700132195'}]}");
    /* Minimal items; an empty array is absent. */
    check_stored("{'achievements': [{'kind': 'OTHER', 'title': ' Грамота ', 'level': 'SCHOOL',"
                 " 'result': 'PARTICIPANT', 'date': '2025-01-20'}]}",
                 "'achievements':[{'kind':'OTHER','title':'Грамота','level':'SCHOOL',"
                 "'result':'PARTICIPANT','date':'2025-01-20'}]}");
    check_stored("{'exams': [], 'certificates': []}", "'organization':'1027700132195'}");
    arena_free(a);
}

static void
test_results_achievements(void)
{
    check_item("achievements", "{'kind': 'HOBBY'}", "/kind", KT_ENUM);
    check_item("achievements", "{'kind': null}", "/kind", KT_REQUIRED);
    check_item("achievements", "{'title': '  '}", "/title", KT_REQUIRED);
    check_item("achievements", "{'title': {'$gt': ''}}", "/title", KT_FORMAT);
    check_item("achievements", "{'level': 'GALACTIC'}", "/level", KT_ENUM);
    check_item("achievements", "{'level': null}", "/level", KT_REQUIRED);
    check_item("achievements", "{'result': 'LOSER'}", "/result", KT_ENUM);
    check_item("achievements", "{'result': null}", "/result", KT_REQUIRED);
    check_item("achievements", "{'place': 0}", "/place", KT_FORMAT);
    check_item("achievements", "{'place': 1001}", "/place", KT_FORMAT);
    check_item("achievements", "{'place': 2.5}", "/place", KT_FORMAT);
    check_item("achievements", "{'place': '2'}", "/place", KT_FORMAT);
    check_item_ok("achievements", "{'place': 1}");
    check_item_ok("achievements", "{'place': 1000}");
    check_item("achievements", "{'date': null}", "/date", KT_REQUIRED);
    check_item("achievements", "{'date': '20.01.2025'}", "/date", KT_FORMAT);
    check_item("achievements", "{'date': '2026-03-16'}", "/date", KT_DATE_RANGE);
    check_item("achievements", "{'date': '2015-05-19'}", "/date", KT_DATE_ORDER);
    check_item_ok("achievements", "{'date': '2015-05-20'}");
    check_item_ok("achievements", "{'date': '2026-03-15'}");
    check_item("achievements", "{'organizer': 17}", "/organizer", KT_FORMAT);
    check_item("achievements", "{'surprise': 1}", "/surprise", KT_UNKNOWN_FIELD);
    check_item("achievements", "{'badge': 'GOLD'}", "/badge", KT_FORMAT);
    /* The supporting document. */
    check_item("achievements", "{'document': {'number': null, 'date': null, 'url': null}}",
               "/document", KT_REQUIRED);
    check_item("achievements", "{'document': {'url': 'ftp://x.ru/a'}}", "/document/url", KT_FORMAT);
    check_item("achievements", "{'document': {'url': 'https://x.ru/a b'}}", "/document/url",
               KT_FORMAT);
    check_item("achievements", "{'document': {'url': 'https://'}}", "/document/url", KT_FORMAT);
    check_item_ok("achievements", "{'document': {'url': 'HTTP://x.ru', 'number': null}}");
    check_item("achievements", "{'document': {'date': '2015-01-01'}}", "/document/date",
               KT_DATE_ORDER);
    check_item("achievements", "{'document': {'date': '2027-01-01'}}", "/document/date",
               KT_DATE_RANGE);
    check_item("achievements", "{'document': {'kind': 'x'}}", "/document/kind", KT_UNKNOWN_FIELD);
    check_item("achievements", "{'document': 'Д-17'}", "/document", KT_FORMAT);
}

static void
test_results_gto(void)
{
    check_item_ok("achievements", "{'kind': 'GTO', 'result': 'WINNER', 'badge': 'GOLD',"
                                  " 'place': null, 'level': 'FEDERAL'}");
    check_item_ok("achievements", "{'kind': 'GTO', 'result': 'PARTICIPANT', 'place': null}");
    check_item("achievements", "{'kind': 'GTO', 'result': 'WINNER', 'place': null}", "/badge",
               KT_REQUIRED);
    check_item("achievements", "{'kind': 'GTO', 'result': 'PRIZE_WINNER', 'place': null}",
               "/result", KT_ENUM);
    check_item("achievements",
               "{'kind': 'GTO', 'result': 'PARTICIPANT', 'badge': 'SILVER', 'place': null}",
               "/badge", KT_FORMAT);
    check_item("achievements", "{'kind': 'GTO', 'result': 'WINNER', 'badge': 'BRONZE'}", "/place",
               KT_FORMAT);
    check_item("achievements",
               "{'kind': 'GTO', 'result': 'WINNER', 'badge': 'PLATINUM',"
               " 'place': null}",
               "/badge", KT_ENUM);
}

static void
test_results_exams(void)
{
    check_item("exams", "{'kind': 'ENT'}", "/kind", KT_ENUM);
    check_item("exams", "{'year': null}", "/year", KT_REQUIRED);
    check_item("exams", "{'year': 1999}", "/year", KT_FORMAT);
    check_item("exams", "{'year': 2028}", "/year", KT_FORMAT); /* today is 2026-03-15 */
    check_item("exams", "{'year': '2025'}", "/year", KT_FORMAT);
    check_item_ok("exams", "{'year': 2027}");
    check_item("exams", "{'year': 2014}", "/year", KT_DATE_ORDER); /* born 2015 */
    check_item("exams", "{'subject_code': 'рус'}", "/subject_code", KT_FORMAT);
    check_item("exams", "{'subject_code': '123456789012345678901'}", "/subject_code", KT_FORMAT);
    check_item_ok("exams", "{'subject_code': 'RU-1.a_2'}");
    check_item("exams", "{'subject': null}", "/subject", KT_REQUIRED);
    check_item("exams", "{'score': -1}", "/score", KT_FORMAT);
    check_item("exams", "{'score': 101}", "/score", KT_FORMAT);
    check_item("exams", "{'score': 1e2}", "/score", KT_FORMAT);
    check_item("exams", "{'mark': 1}", "/mark", KT_FORMAT);
    check_item("exams", "{'mark': 6}", "/mark", KT_FORMAT);
    check_item("exams", "{'passed': 'yes'}", "/passed", KT_FORMAT);
    check_item("exams", "{'passed': 1}", "/passed", KT_FORMAT);
    /* By kind. */
    check_item_ok("exams", "{'kind': 'EGE', 'score': 0, 'mark': null, 'passed': false}");
    check_item_ok("exams", "{'kind': 'EGE', 'score': 100, 'mark': null}");
    check_item("exams", "{'kind': 'EGE', 'score': null, 'mark': null}", "/score", KT_REQUIRED);
    check_item("exams", "{'kind': 'EGE'}", "/mark", KT_FORMAT);
    check_item_ok("exams", "{'kind': 'OGE', 'score': null}");
    check_item_ok("exams", "{'kind': 'OGE', 'mark': null, 'passed': null}");
    check_item("exams", "{'kind': 'OGE', 'score': null, 'mark': null}", "/mark", KT_REQUIRED);
    for (size_t i = 0; i < 4; i++) {
        static const char *const kinds[] = {"GVE9", "GVE11", "INTERMEDIATE", "FINAL_MARK"};
        arena_t *a = arena_new(0);
        check_item_ok("exams", arena_printf(a, "{'kind': '%s', 'score': null}", kinds[i]));
        check_item("exams", arena_printf(a, "{'kind': '%s'}", kinds[i]), "/score", KT_FORMAT);
        check_item("exams",
                   arena_printf(a, "{'kind': '%s', 'score': null, 'mark': null}", kinds[i]),
                   "/mark", KT_REQUIRED);
        arena_free(a);
    }
    /* passed against the mark. */
    check_item("exams", "{'mark': 2}", "/passed", KT_FORMAT);
    check_item_ok("exams", "{'mark': 2, 'passed': false}");
    check_item("exams", "{'mark': 3, 'passed': false}", "/passed", KT_FORMAT);
    check_item_ok("exams", "{'mark': 3}");
}

static void
test_results_certificates(void)
{
    check_item("certificates", "{'type': 'DIPLOMA_VO'}", "/type", KT_ENUM);
    check_item("certificates", "{'number': null}", "/number", KT_REQUIRED);
    check_item("certificates", "{'number': '0123400001234'}", "/number", KT_FORMAT);
    check_item("certificates", "{'number': '01234 000012345'}", "/number", KT_FORMAT);
    check_item("certificates", "{'type': 'ATTESTAT_SOO', 'number': 'АБ 1234567'}", "/number",
               KT_FORMAT);
    check_item_ok("certificates", "{'type': 'DIPLOMA_SPO', 'series': '111604',"
                                  " 'number': '0001234'}");
    check_item("certificates",
               "{'type': 'DIPLOMA_SPO', 'number': '1234567890123456789012345678901'}", "/number",
               KT_FORMAT);
    check_item("certificates", "{'series': '123456789012345678901'}", "/series", KT_FORMAT);
    check_item("certificates", "{'issued_on': null}", "/issued_on", KT_REQUIRED);
    check_item("certificates", "{'issued_on': '2015-05-19'}", "/issued_on", KT_DATE_ORDER);
    check_item("certificates", "{'issued_on': '2026-03-16'}", "/issued_on", KT_DATE_RANGE);
    check_item("certificates", "{'issued_on': '2025-02-29'}", "/issued_on", KT_DATE_RANGE);
    check_item("certificates", "{'with_honors': 'true'}", "/with_honors", KT_FORMAT);
    check_item_ok("certificates", "{'with_honors': false}");
    check_item("certificates", "{'organization': '1027700132194'}", "/organization",
               KT_OGRN_CHECKSUM);
    check_item("certificates", "{'organization': '102770013219'}", "/organization", KT_FORMAT);
}

/* Limits of the arrays at their edges, and every error of several items at once. */
static void
test_results_limits(void)
{
    arena_t *a = arena_new(0);
    kt_error_t err;
    buf_t json;
    char *bad_exam = q(a, "{'kind': 'EGE', 'year': 2025, 'subject': 'Физика', 'score': 101,"
                          " 'mark': 4}");

    check_ok(arena_printf(a, "{'achievements': %s}", array_of(a, ACHIEVEMENT, 200)));
    check_one(arena_printf(a, "{'achievements': %s}", array_of(a, ACHIEVEMENT, 201)),
              "/achievements", KT_FORMAT);
    check_ok(arena_printf(a, "{'exams': %s}", array_of(a, EXAM, 300)));
    check_one(arena_printf(a, "{'exams': %s}", array_of(a, EXAM, 301)), "/exams", KT_FORMAT);
    check_ok(arena_printf(a, "{'certificates': %s}", array_of(a, CERTIFICATE, 10)));
    check_one(arena_printf(a, "{'certificates': %s}", array_of(a, CERTIFICATE, 11)),
              "/certificates", KT_FORMAT);
    check_one("{'exams': {'kind': 'EGE'}}", "/exams", KT_FORMAT);
    CHECK(!validate(
        a, base_with(a, arena_printf(a, "{'exams': [%s, %s, %s]}", EXAM, bad_exam, bad_exam)), &err,
        &json));
    CHECK(err.nfields == 4);
    CHECK(has_error(&err, "/exams/1/score", KT_FORMAT));
    CHECK(has_error(&err, "/exams/1/mark", KT_FORMAT));
    CHECK(has_error(&err, "/exams/2/score", KT_FORMAT));
    CHECK(has_error(&err, "/exams/2/mark", KT_FORMAT));
    buf_release(&json);
    arena_free(a);
}

int
main(void)
{
    CHECK_RUN(test_valid_full);
    CHECK_RUN(test_document_key_separator);
    CHECK_RUN(test_valid_minimal);
    CHECK_RUN(test_valid_absent_optionals);
    CHECK_RUN(test_errors_scalars);
    CHECK_RUN(test_errors_citizenship);
    CHECK_RUN(test_errors_documents);
    CHECK_RUN(test_errors_addresses);
    CHECK_RUN(test_errors_representatives);
    CHECK_RUN(test_all_errors_at_once);
    CHECK_RUN(test_operator_in_every_scalar);
    CHECK_RUN(test_containers_of_wrong_type);
    CHECK_RUN(test_assigned_members);
    CHECK_RUN(test_limits);
    CHECK_RUN(test_names);
    CHECK_RUN(test_series_and_identifiers);
    CHECK_RUN(test_keys);
    CHECK_RUN(test_messages);
    CHECK_RUN(test_error_cap);
    CHECK_RUN(test_out_of_memory);
    CHECK_RUN(test_results_valid);
    CHECK_RUN(test_results_achievements);
    CHECK_RUN(test_results_gto);
    CHECK_RUN(test_results_exams);
    CHECK_RUN(test_results_certificates);
    CHECK_RUN(test_results_limits);
    CHECK_MAIN_END();
}
