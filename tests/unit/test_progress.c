/*
 * test_progress: the current-progress model (model/progress.h). A full valid
 * record normalises to the stored document (student, year, organisation
 * first); each rule fails with its code at its JSON Pointer: subject codes,
 * periods outside the scheme, marks and reasons, repeated (subject, period)
 * and periods, absence bounds, illness above the total, a year other than
 * the path's; the merge of a partial body replaces and adds by key; the
 * derived record ids are uuids, one per (student, year).
 */
#include <stdlib.h>
#include <string.h>

#include "model/codec.h"
#include "model/progress.h"
#include "model/progress_report.h"
#include "store/progress.h"
#include "store/util.h"
#include "tests/unit/check.h"

#define TODAY "2026-12-01"
#define SID   "0b7a9c1e-3f2d-4c5b-8a69-7e1d2c3b4a59"
#define ORG   "1021600001235"

static bool
progress_check(arena_t *a, const json_value_t *body, const char *today, bson_t *out,
               kt_error_t *err)
{
    (void)today;
    return progress_from_json(a, body, SID, "2026-2027", ORG, out, err);
}

#define MODEL_FROM_JSON progress_check

static const char BASE[] =
    "{'id': 'x', 'version': 3, 'student_id': 'ignored', 'organization': 'ignored',"
    " 'year': '2026-2027', 'grade': 5, 'scheme': 'QUARTERS',"
    " 'marks': [{'subject': 'RUS', 'period': 'Q1', 'mark': '5'},"
    "           {'subject': 'MATH', 'period': 'Q1', 'mark': '4'},"
    "           {'subject': 'PE', 'period': 'Q1', 'mark': 'PASS'},"
    "           {'subject': 'HIST', 'period': 'Q1', 'mark': 'NA', 'reason': 'ILLNESS'}],"
    " 'absences': [{'period': 'Q1', 'days': 5, 'lessons': 28, 'days_illness': 4,"
    "               'lessons_illness': 22}]}";

static const char EXPECTED[] =
    "{'student_id':'" SID "','year':'2026-2027','organization':'" ORG "',"
    "'grade':5,'scheme':'QUARTERS',"
    "'marks':[{'subject':'RUS','period':'Q1','mark':'5'},"
    "{'subject':'MATH','period':'Q1','mark':'4'},"
    "{'subject':'PE','period':'Q1','mark':'PASS'},"
    "{'subject':'HIST','period':'Q1','mark':'NA','reason':'ILLNESS'}],"
    "'absences':[{'period':'Q1','days':5,'lessons':28,'days_illness':4,'lessons_illness':22}]}";

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
    check_ok("{'year': null, 'marks': null, 'absences': null}");
    check_ok("{'scheme': 'TRIMESTERS', 'marks': [{'subject': 'ALG', 'period': 'T3', 'mark': "
             "'3'}], 'absences': [{'period': 'Y', 'days': 0, 'lessons': 0}]}");
    check_ok("{'scheme': 'HALF_YEARS', 'marks': [{'subject': 'INF', 'period': 'H2', 'mark': "
             "'FAIL'}, {'subject': 'INF', 'period': 'Y', 'mark': '2'}], 'absences': null}");
}

static void
test_codes(void)
{
    check_one("{'marks': [{'subject': 'ASTROLOGY', 'period': 'Q1', 'mark': '5'}]}",
              "/marks/0/subject", KT_ENUM);
    check_one("{'marks': [{'subject': 'RUS', 'period': 'Q5', 'mark': '5'}]}", "/marks/0/period",
              KT_ENUM);
    check_one("{'marks': [{'subject': 'RUS', 'period': 'T1', 'mark': '5'}]}", "/marks/0/period",
              KT_ENUM); /* a trimester in a school of quarters */
    check_one("{'marks': [{'subject': 'RUS', 'period': 'Q1', 'mark': '6'}]}", "/marks/0/mark",
              KT_ENUM);
    check_one("{'marks': [{'subject': 'RUS', 'period': 'Q1', 'mark': 5}]}", "/marks/0/mark",
              KT_FORMAT);
    check_one("{'scheme': 'MONTHS'}", "/scheme", KT_ENUM);
    check_one("{'grade': 12}", "/grade", KT_FORMAT);
    check_one("{'grade': null}", "/grade", KT_REQUIRED);
    check_one("{'colour': 'red'}", "/colour", KT_UNKNOWN_FIELD);
}

static void
test_rules(void)
{
    check_one("{'marks': [{'subject': 'RUS', 'period': 'Q1', 'mark': 'NA'}]}", "/marks/0/reason",
              KT_REQUIRED);
    check_one("{'marks': [{'subject': 'RUS', 'period': 'Q1', 'mark': '3', 'reason': 'OTHER'}]}",
              "/marks/0/reason", KT_FORMAT);
    check_one("{'marks': [{'subject': 'RUS', 'period': 'Q1', 'mark': '3'},"
              " {'subject': 'RUS', 'period': 'Q1', 'mark': '4'}]}",
              "/marks/1", KT_FORMAT);
    check_one("{'absences': [{'period': 'Q1', 'days': 1, 'lessons': 2},"
              " {'period': 'Q1', 'days': 1, 'lessons': 2}]}",
              "/absences/1", KT_FORMAT);
    check_one("{'absences': [{'period': 'Q1', 'days': 1, 'lessons': 2, 'days_illness': 2}]}",
              "/absences/0/days_illness", KT_FORMAT);
    check_one("{'absences': [{'period': 'Q1', 'days': 1, 'lessons': 2, 'lessons_illness': 3}]}",
              "/absences/0/lessons_illness", KT_FORMAT);
    check_one("{'absences': [{'period': 'Q1', 'days': 251, 'lessons': 2}]}", "/absences/0/days",
              KT_FORMAT);
    check_one("{'absences': [{'period': 'Q1', 'days': -1, 'lessons': 2}]}", "/absences/0/days",
              KT_FORMAT);
}

/* A body naming another year than the path's is refused. */
static void
test_year(void)
{
    arena_t *a = arena_new(0);
    kt_error_t err;
    buf_t json;

    CHECK(!validate(a, base_with(a, "{'year': '2025-2026'}"), &err, &json));
    CHECK(err.code == KT_VALIDATION && has_error(&err, "/year", KT_FORMAT));
    buf_release(&json);
    arena_free(a);
    check_one("{'year': '2026-2028'}", "/year", KT_FORMAT);
    CHECK(progress_year_valid("2026-2027"));
    CHECK(!progress_year_valid("2026-2026"));
    CHECK(!progress_year_valid("1999-2000"));
    CHECK(!progress_year_valid("2026/2027"));
    CHECK(!progress_year_valid("2026-20270"));
    char y[10];
    CHECK(progress_year_of("2026-09-01", y) && strcmp(y, "2026-2027") == 0);
    CHECK(progress_year_of("2027-08-31", y) && strcmp(y, "2026-2027") == 0);
    CHECK(!progress_year_of("2027-02-30", y) && y[0] == '\0');
}

static void
test_bounds(void)
{
    arena_t *a = arena_new(0);
    buf_t b;
    kt_error_t err;
    bson_t out = BSON_INITIALIZER;
    json_value_t *body;

    /* PROGRESS_MARKS_MAX + 1 marks: the array's bound (repeats are not reached). */
    buf_init(&b, 0);
    buf_puts(&b, "{\"grade\": 5, \"scheme\": \"QUARTERS\", \"marks\": [");
    for (int i = 0; i <= PROGRESS_MARKS_MAX; i++)
        buf_printf(&b, "%s{\"subject\": \"RUS\", \"period\": \"Q1\", \"mark\": \"5\"}",
                   i ? "," : "");
    buf_puts(&b, "]}");
    CHECK(json_parse(a, b.data, b.len, NULL, &body, &err));
    CHECK(!progress_from_json(a, body, SID, "2026-2027", ORG, &out, &err));
    CHECK(has_error(&err, "/marks", KT_FORMAT));
    buf_release(&b);
    bson_destroy(&out);
    arena_free(a);
}

/* A partial body replaces the marks of its (subject, period) and adds others. */
static void
test_merge(void)
{
    arena_t *a = arena_new(0);
    bson_t cur = BSON_INITIALIZER, out = BSON_INITIALIZER;
    kt_error_t err;
    buf_t json;
    json_value_t *merged;

    CHECK(progress_from_json(a, base_with(a, NULL), SID, "2026-2027", ORG, &cur, &err));
    merged = progress_merge(a, &cur,
                            parse(a, "{'grade': 5, 'scheme': 'QUARTERS', 'marks': ["
                                     "{'subject': 'RUS', 'period': 'Q1', 'mark': '3'},"
                                     "{'subject': 'RUS', 'period': 'Q2', 'mark': '4'}],"
                                     " 'absences': [{'period': 'Q2', 'days': 1, 'lessons': 6}]}"));
    CHECK(merged != NULL);
    CHECK(progress_from_json(a, merged, SID, "2026-2027", ORG, &out, &err));
    buf_init(&json, 0);
    codec_canonical(&json, &out, NULL);
    CHECK(strstr(json.data, "{\"subject\":\"RUS\",\"period\":\"Q1\",\"mark\":\"3\"}") != NULL);
    CHECK(strstr(json.data, "{\"subject\":\"RUS\",\"period\":\"Q2\",\"mark\":\"4\"}") != NULL);
    CHECK(strstr(json.data, "\"mark\":\"5\"") == NULL); /* RUS Q1 replaced */
    CHECK(strstr(json.data, "{\"subject\":\"MATH\",\"period\":\"Q1\",\"mark\":\"4\"}") != NULL);
    CHECK(strstr(json.data, "{\"period\":\"Q1\",\"days\":5") != NULL);
    CHECK(strstr(json.data, "{\"period\":\"Q2\",\"days\":1,\"lessons\":6}") != NULL);
    buf_release(&json);
    bson_destroy(&cur);
    bson_destroy(&out);
    arena_free(a);
}

static void
test_ids_and_marks(void)
{
    char a[37], b[37], c[37];
    int v;

    CHECK(store_progress_id(SID, "2026-2027", a));
    CHECK(store_progress_id(SID, "2026-2027", b));
    CHECK(store_progress_id(SID, "2027-2028", c));
    CHECK(util_is_uuid(a));
    CHECK_STR(a, b);
    CHECK(strcmp(a, c) != 0);
    CHECK(a[14] == '8');
    CHECK(progress_mark_kind("4", &v) == PROGRESS_MARK_NUMERIC && v == 4);
    CHECK(progress_mark_kind("PASS", &v) == PROGRESS_MARK_PASS && v == 0);
    CHECK(progress_mark_kind("FAIL", &v) == PROGRESS_MARK_FAIL);
    CHECK(progress_mark_kind("NA", &v) == PROGRESS_MARK_NA);
    CHECK(progress_period_in_scheme("QUARTERS", "Y"));
    CHECK(!progress_period_in_scheme("HALF_YEARS", "H3"));
    size_t n = 0;
    while (progress_subjects[n] != NULL) {
        CHECK(progress_subject_names[n] != NULL);
        n++;
    }
    CHECK(progress_subject_names[n] == NULL); /* a name per code, no more */
}

/* The figures: passing, quality, average; a student without marks counts nowhere. */
static void
test_report_cells(void)
{
    progress_cell_t c = {0};
    uint8_t a[] = {5, 4, PMARK_PASS}, b[] = {5, 2, PMARK_NONE}, none[] = {0, 0},
            na[] = {PMARK_NA, 4}, fail[] = {PMARK_FAIL}, three[] = {3, 5};

    progress_cell_add(&c, a, 3);
    progress_cell_add(&c, b, 3);
    progress_cell_add(&c, none, 2);
    progress_cell_add(&c, na, 2);
    progress_cell_add(&c, fail, 1);
    progress_cell_add(&c, three, 2);
    CHECK_INT(c.students, 5);
    CHECK_INT(c.passing, 2); /* a and three */
    CHECK_INT(c.quality, 1); /* a */
    CHECK_INT(c.marks, 7);
    CHECK_INT(c.mark_sum, 5 + 4 + 5 + 2 + 4 + 3 + 5);
    CHECK(progress_rate(2, 5) == 40.0);
    CHECK(progress_rate(2, 3) == 66.7);
    CHECK(progress_rate(1, 0) < 0);
    CHECK(progress_average(&c) == 4.0);
}

/* Rows of 1..4 are hidden, then another so that the total does not give
 * one away; a part or its complement of 1..4 is hidden. */
static void
test_report_suppression(void)
{
    progress_cell_t rows[3] = {{.students = 3, .passing = 3, .quality = 1},
                               {.students = 20, .passing = 18, .quality = 10},
                               {.students = 30, .passing = 30, .quality = 5}};
    progress_cell_t total = {.students = 53, .passing = 51, .quality = 16};

    CHECK(progress_report_suppress(rows, 3, &total, true));
    CHECK(rows[0].hidden && rows[0].passing_hidden && rows[0].quality_hidden);
    CHECK(rows[1].hidden); /* secondary: the smallest shown */
    CHECK(!rows[2].hidden && !rows[2].passing_hidden && !rows[2].quality_hidden);
    CHECK(!total.hidden);
    CHECK(total.passing_hidden); /* 2 without: small */
    CHECK(!total.quality_hidden);
    /* Overlapping rows (subjects): the primary rule alone. */
    progress_cell_t subj[2] = {{.students = 3}, {.students = 20, .passing = 16, .quality = 20}};
    progress_cell_t all = {.students = 20, .passing = 16, .quality = 20};
    CHECK(progress_report_suppress(subj, 2, &all, false));
    CHECK(subj[0].hidden && !subj[1].hidden);
    CHECK(subj[1].passing_hidden && !subj[1].quality_hidden);
    CHECK(progress_group_parse("municipality") == PGROUP_MUNICIPALITY);
    CHECK(progress_group_parse("sex") == PGROUP__MAX);
}

int
main(void)
{
    CHECK_RUN(test_valid_normalises);
    CHECK_RUN(test_codes);
    CHECK_RUN(test_rules);
    CHECK_RUN(test_year);
    CHECK_RUN(test_bounds);
    CHECK_RUN(test_merge);
    CHECK_RUN(test_ids_and_marks);
    CHECK_RUN(test_report_cells);
    CHECK_RUN(test_report_suppression);
    CHECK_MAIN_END();
}
