/*
 * test_report: the facts of a student on a date (open episode, grade from
 * events, deleted, DOP ignored), ages, group_by parsing, moves between
 * schools, the reference dates, and small-cell suppression.
 */
#include <string.h>

#include "model/report.h"
#include "tests/unit/check.h"

/* A student with a main episode at A (grade 1 from 2024-09-01, grade 2 from
 * 2025-09-01) ended by TRANSFER_OUT on 2026-01-15, then TRANSFER_IN at B on
 * 2026-01-20 (grade 2), and a DOP episode at C throughout. */
static void
student(bson_t *doc)
{
    bson_t *b = BCON_NEW(
        "sex", "F", "birth_date", "2017-03-10", "citizenship", "{", "category", "RF", "}",
        "education", "[", "{", "episode", BCON_INT64(1), "organization", "1027700000001", "level",
        "NOO", "form", "FULL_TIME", "grade", BCON_INT64(2), "enrolled_on", "2024-09-01", "status",
        "ENDED", "ended_on", "2026-01-15", "end_reason", "TRANSFER_OUT", "events", "[", "{", "type",
        "ENROLL", "date", "2024-09-01", "grade", BCON_INT64(1), "}", "{", "type", "TRANSFER_CLASS",
        "date", "2025-09-01", "grade", BCON_INT64(2), "}", "{", "type", "TRANSFER_OUT", "date",
        "2026-01-15", "}", "]", "}", "{", "episode", BCON_INT64(2), "organization", "1027700000002",
        "level", "DOP", "form", "FULL_TIME", "enrolled_on", "2024-10-01", "status", "ACTIVE",
        "events", "[", "{", "type", "ENROLL", "date", "2024-10-01", "}", "]", "}", "{", "episode",
        BCON_INT64(3), "organization", "1027700000003", "level", "NOO", "form", "PART_TIME",
        "grade", BCON_INT64(2), "enrolled_on", "2026-01-20", "status", "ACTIVE", "events", "[", "{",
        "type", "TRANSFER_IN", "date", "2026-01-20", "grade", BCON_INT64(2), "}", "]", "}", "]");
    bson_copy_to(b, doc);
    bson_destroy(b);
}

static void
test_facts(void)
{
    bson_t doc;
    report_facts_t f;

    student(&doc);
    report_facts(&doc, false, "2024-09-20", &f);
    CHECK(f.counted);
    CHECK_STR(f.org, "1027700000001");
    CHECK_INT(f.grade, 1);
    CHECK_STR(f.level, "NOO");
    CHECK_STR(f.sex, "F");
    CHECK_STR(f.citizenship, "RF");
    report_facts(&doc, false, "2025-09-20", &f);
    CHECK_INT(f.grade, 2);
    report_facts(&doc, false, "2026-01-15", &f); /* ended that day: not there any more */
    CHECK(!f.counted);
    report_facts(&doc, false, "2026-01-17", &f); /* between schools; DOP does not count */
    CHECK(!f.counted);
    report_facts(&doc, false, "2026-09-20", &f);
    CHECK(f.counted);
    CHECK_STR(f.org, "1027700000003");
    CHECK_STR(f.form, "PART_TIME");
    report_facts(&doc, false, "2024-08-31", &f); /* before any enrolment */
    CHECK(!f.counted);
    report_facts(&doc, true, "2026-09-20", &f); /* deleted: not on record at all */
    CHECK(!f.counted && f.deleted);
    report_facts(&doc, false, "2024-08-31", &f);
    CHECK(!f.deleted);
    bson_destroy(&doc);
}

static void
test_age_and_values(void)
{
    report_facts_t f = {.grade = -1, .birth = "2017-03-10", .sex = "M"};
    char v[16];

    CHECK_INT(report_age("2017-03-10", "2027-01-01"), 9);
    CHECK_INT(report_age("2017-03-10", "2027-03-10"), 10);
    CHECK_INT(report_age("2017-03-10", "2027-03-09"), 9);
    CHECK_INT(report_age("2016-02-29", "2017-02-28"), 0);
    CHECK_INT(report_age("2016-02-29", "2017-03-01"), 1);
    CHECK_INT(report_age("bad", "2017-03-01"), -1);
    CHECK_INT(report_age("2020-01-01", "2019-01-01"), -1);
    report_dim_value(&f, DIM_AGE, "2027-01-01", NULL, v);
    CHECK_STR(v, "9");
    report_dim_value(&f, DIM_GRADE, "2027-01-01", NULL, v);
    CHECK_STR(v, "");
    report_dim_value(&f, DIM_OKTMO, "2027-01-01", "45380000", v);
    CHECK_STR(v, "45380000");
}

static void
test_group_by(void)
{
    report_dim_t dims[DIM__MAX];
    size_t n;
    kt_error_t err;

    kt_error_clear(&err);
    CHECK(report_parse_group_by("organization,grade,sex,age,citizenship,form", dims, &n, &err));
    CHECK_INT(n, 6);
    CHECK_INT(dims[1], DIM_GRADE);
    CHECK(report_parse_group_by("", dims, &n, &err) && n == 0);
    CHECK(!report_parse_group_by("grade,grade", dims, &n, &err));
    CHECK_INT(err.status, 422); /* a model error; the handler answers 400 */
    kt_error_clear(&err);
    CHECK(!report_parse_group_by("organization,height", dims, &n, &err));
    CHECK_INT(err.code, KT_FORMAT);
    CHECK(!report_parse_group_by("organization,", dims, &n, &err));
}

static void
test_moves(void)
{
    bson_t doc;
    report_move_t m[8];
    size_t n;

    student(&doc);
    n = report_moves(&doc, m, 8);
    CHECK_INT(n, 1);
    CHECK_STR(m[0].from, "1027700000001");
    CHECK_STR(m[0].to, "1027700000003");
    CHECK_STR(m[0].date, "2026-01-15");
    CHECK_STR(m[0].level, "NOO");
    bson_destroy(&doc);

    /* An arrival from outside the registry and a departure not followed up. */
    bson_t *b = BCON_NEW("education", "[", "{", "organization", "1027700000005", "level", "OOO",
                         "enrolled_on", "2026-02-01", "status", "ENDED", "ended_on", "2026-03-01",
                         "end_reason", "TRANSFER_OUT", "transfer_to", "1027700000006", "events",
                         "[", "{", "type", "TRANSFER_IN", "date", "2026-02-01", "}", "]", "}", "]");
    n = report_moves(b, m, 8);
    CHECK_INT(n, 2);
    CHECK_STR(m[0].from, "");
    CHECK_STR(m[0].to, "1027700000005");
    CHECK_STR(m[0].date, "2026-02-01");
    CHECK_STR(m[1].from, "1027700000005");
    CHECK_STR(m[1].to, "1027700000006");
    CHECK_STR(m[1].date, "2026-03-01");
    CHECK_INT(report_moves(b, m, 1), 1);
    bson_destroy(b);
}

static void
test_health_facts(void)
{
    report_facts_t f;
    char v[16];
    bson_t *none = BCON_NEW("sex", "M");
    bson_t *some =
        BCON_NEW("health", "{", "health_group", "III", "ovz", "{", "date", "2026-01-01", "}", "}");
    bson_t *dis = BCON_NEW("health", "{", "disability", "{", "group", "CHILD_DISABLED", "}", "}");

    report_facts(none, false, "2026-09-20", &f);
    report_dim_value(&f, DIM_HEALTH_GROUP, "2027-01-01", NULL, v);
    CHECK_STR(v, "");
    report_dim_value(&f, DIM_OVZ, "2027-01-01", NULL, v);
    CHECK_STR(v, "");
    report_facts(some, false, "2026-09-20", &f);
    CHECK_STR(f.health_group, "III");
    CHECK_STR(f.disability, "NONE");
    CHECK_STR(f.ovz, "YES");
    report_facts(dis, false, "2026-09-20", &f);
    CHECK_STR(f.health_group, "");
    CHECK_STR(f.disability, "CHILD_DISABLED");
    CHECK_STR(f.ovz, "NO");
    CHECK(report_dim_health(DIM_OVZ) && !report_dim_health(DIM_GRADE));
    bson_destroy(none);
    bson_destroy(some);
    bson_destroy(dis);
}

static void
test_reference_dates(void)
{
    char d[11];

    report_default_as_of("2026-11-29", d);
    CHECK_STR(d, "2026-09-20");
    report_default_as_of("2026-09-19", d);
    CHECK_STR(d, "2025-09-20");
    report_default_as_of("2026-09-20", d);
    CHECK_STR(d, "2026-09-20");
    report_default_age_on("2026-09-20", d);
    CHECK_STR(d, "2027-01-01");
    report_default_age_on("2027-03-01", d);
    CHECK_STR(d, "2027-01-01");
}

/* Small cells: primary (1..4), secondary until the hidden sum tells nothing. */
static void
test_suppression(void)
{
    int64_t none[] = {10, 7, 5};
    int64_t one[] = {10, 3, 6, 7};
    int64_t ones[] = {1, 1, 9, 12};
    int64_t mixed[] = {2, 3, 20};
    int64_t all_small[] = {4, 4};
    int64_t lone[] = {3};
    bool h[4] = {false};

    CHECK(!report_suppress(none, h, 3, 22));
    CHECK(!h[0] && !h[1] && !h[2]);
    /* One hidden cell would be total minus the rest: the smallest shown (6) goes too. */
    memset(h, 0, sizeof h);
    CHECK(!report_suppress(one, h, 4, 26));
    CHECK(!h[0] && h[1] && h[2] && !h[3]);
    /* Two hidden cells summing to 2 are both 1: the smallest shown (9) goes too. */
    memset(h, 0, sizeof h);
    CHECK(!report_suppress(ones, h, 4, 23));
    CHECK(h[0] && h[1] && h[2] && !h[3]);
    /* 2 + 3: the sum does not tell them apart. */
    memset(h, 0, sizeof h);
    CHECK(!report_suppress(mixed, h, 3, 25));
    CHECK(h[0] && h[1] && !h[2]);
    /* 4 + 4 and nothing left to hide: the total goes. */
    memset(h, 0, sizeof h);
    CHECK(report_suppress(all_small, h, 2, 8));
    CHECK(h[0] && h[1]);
    memset(h, 0, sizeof h);
    CHECK(report_suppress(lone, h, 1, 3));
    CHECK(h[0]);
    /* A cell the caller hid stays hidden and counts as hidden. */
    memset(h, 0, sizeof h);
    h[0] = true;
    CHECK(!report_suppress(none, h, 3, 22));
    CHECK(h[0] && !h[1] && h[2]);
    CHECK(report_small(1) && report_small(4) && !report_small(0) && !report_small(5));
}

int
main(void)
{
    CHECK_RUN(test_facts);
    CHECK_RUN(test_age_and_values);
    CHECK_RUN(test_group_by);
    CHECK_RUN(test_moves);
    CHECK_RUN(test_health_facts);
    CHECK_RUN(test_reference_dates);
    CHECK_RUN(test_suppression);
    CHECK_MAIN_END();
}
