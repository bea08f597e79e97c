/*
 * test_package_queue: the two decisions of the package queue that need no
 * store (docs/xml-exchange.md):
 *   - whether an item carries health data is decided on the raw element
 *     names (xmlio_item_t.health), valid or not, so that a package with a
 *     health element is never queued (its bytes would wait in the store);
 *   - a package's store key (packages_key) is its sender's: the same
 *     PacketID from two senders gives two keys of a fixed shape.
 *
 * The XSD is found from KT_TEST_DATA (<repo>/tests/data, set by CMake).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/xmlio.h"
#include "store/packages.h"
#include "tests/unit/check.h"

#define NS "urn:kontingent:exchange:1"
#define HEADER                                                                                     \
    "<Header><PacketID>p-1</PacketID><SourceSystemID>TEST-01</SourceSystemID>"                     \
    "<Timestamp>2026-09-01T10:00:00+03:00</Timestamp></Header>"
#define BEGIN                                                                                      \
    "<Student><LastName>Иванова</LastName><FirstName>Анна</FirstName><Sex>F</Sex>"      \
    "<BirthDate>2015-05-20</BirthDate>"
#define MIDDLE                                                                                       \
    "<Citizenship category=\"RF\"><Country>643</Country></Citizenship>"                              \
    "<Documents><Document type=\"BIRTH_CERT_RF\"><Series>II-ТН</Series><Number>654321</Number>"    \
    "</Document></Documents><Addresses><Address kind=\"REGISTRATION\"><Text>г. Казань</Text>" \
    "</Address></Addresses><Organization>1027700132195</Organization>"
#define HEALTH                                                                                     \
    "<Health><HealthGroup>II</HealthGroup><LegalBasis kind=\"CONSENT_WRITTEN\">"                   \
    "<ConsentRef>согласие № 1</ConsentRef></LegalBasis></Health>"

static xmlio_schema_t *schema;

/* The health flag and validity of the only item of a package with data. */
static void
read_one(const char *data, bool *health, bool *valid)
{
    char xml[4096];
    kt_error_t err;
    xmlio_item_t item;
    arena_t *a = arena_new(0);
    int n = snprintf(xml, sizeof xml, "<Packet xmlns=\"" NS "\">" HEADER "<Data>%s</Data></Packet>",
                     data);
    xmlio_reader_t *r = xmlio_reader_new(schema, xml, (size_t)n, &err);

    *health = *valid = false;
    CHECK(r != NULL);
    if (r != NULL && xmlio_reader_next(r, a, &item, &err)) {
        *health = item.health;
        *valid = item.error.code == KT_OK;
    } else {
        CHECK(!"the item was not read");
    }
    xmlio_reader_free(r);
    arena_free(a);
}

static void
expect(const char *data, bool health, bool valid)
{
    bool h = !health, v = !valid;

    read_one(data, &h, &v);
    if (h != health || v != valid)
        fprintf(stderr, "item %s: health %d valid %d\n", data, h, v);
    CHECK(h == health);
    CHECK(v == valid);
}

static void
test_health_is_decided_on_raw_names(void)
{
    expect(BEGIN "<SNILS>112-233-445 95</SNILS>" MIDDLE "</Student>", false, true);
    expect(BEGIN "<SNILS>112-233-445 95</SNILS>" MIDDLE HEALTH "</Student>", true, true);
    /* The cases that broke the XSD and so were not seen before. */
    expect(BEGIN "<SNILS>123</SNILS>" MIDDLE HEALTH "</Student>", true, false);
    expect(BEGIN HEALTH "<SNILS>112-233-445 95</SNILS>" MIDDLE "</Student>", true, false);
    expect(BEGIN MIDDLE "<HealthGroup>II</HealthGroup></Student>", true, false);
    expect(BEGIN MIDDLE "<Disability group=\"1\"/></Student>", true, false);
    expect(BEGIN MIDDLE "<h:Health xmlns:h=\"urn:other\">F84</h:Health></Student>", true, false);
    expect("<DeleteStudent id=\"00000000-0000-4000-8000-000000000000\" reason=\"r\">"
           "<Health/></DeleteStudent>",
           true, false);
    /* A name that only starts like one is not health. */
    expect(BEGIN MIDDLE "<Healthy>x</Healthy></Student>", false, false);
}

static void
test_keys_are_the_senders(void)
{
    principal_t a = {.subject = "CN=region-07", .role = ROLE_REGION, .method = AUTH_CERT};
    principal_t b = a, c = a;
    char ka[PACKAGES_KEY_MAX], ka2[PACKAGES_KEY_MAX], kb[PACKAGES_KEY_MAX], kc[PACKAGES_KEY_MAX];
    char id[65];

    snprintf(b.subject, sizeof b.subject, "school-1027700132195");
    b.role = ROLE_SCHOOL;
    b.method = AUTH_TOKEN;
    c.method = AUTH_TOKEN; /* the same subject by another method is another sender */
    packages_key(&a, "p-1", ka);
    packages_key(&a, "p-1", ka2);
    packages_key(&b, "p-1", kb);
    packages_key(&c, "p-1", kc);
    CHECK_STR(ka, ka2);
    CHECK(strcmp(ka, kb) != 0);
    CHECK(strcmp(ka, kc) != 0);
    CHECK_INT(strlen(ka), 24 + 1 + 3);
    CHECK(strspn(ka, "0123456789abcdef") == 24 && ka[24] == '/');
    CHECK_STR(ka + 25, "p-1");
    /* The longest PacketID the XSD allows fits, whatever the subject. */
    memset(id, 'x', 64);
    id[64] = '\0';
    memset(a.subject, 'y', sizeof a.subject - 1);
    a.subject[sizeof a.subject - 1] = '\0';
    packages_key(&a, id, ka);
    CHECK_INT(strlen(ka), 24 + 1 + 64);
    CHECK_STR(ka + 25, id);
}

int
main(void)
{
    char path[1100];
    kt_error_t err;

    check_repo_path(path, sizeof path, "xsd/kontingent-exchange-1.xsd");
    schema = xmlio_schema_load(path, &err);
    if (schema == NULL) {
        fprintf(stderr, "cannot load the XSD %s: %s\n", path, err.message);
        return 1;
    }
    CHECK_RUN(test_health_is_decided_on_raw_names);
    CHECK_RUN(test_keys_are_the_senders);
    xmlio_schema_free(schema);
    CHECK_MAIN_END();
}
