/*
 * test_education: the education model. The event body's field table (its
 * INT and BOOL rows at their bounds, per-type members, the order's date);
 * applying events (a whole path, every rule with its code and pointer, all
 * errors at once, DOP overlapping, the limits); the read-only rule of
 * `education` in student bodies; the trajectory; date arithmetic.
 *
 * JSON is written with ' for ".
 */
#include <stdlib.h>
#include <string.h>

#include "model/codec.h"
#include "model/education.h"
#include "tests/unit/check.h"
#include "tests/unit/quoted_json.h"

#define TODAY   "2026-11-29"
#define SCHOOL  "1027700132195"
#define SCHOOL2 "1037700000007"
#define CLUB    "1047700000006"

#define ORDER(d) "'order': {'number': '1', 'date': '" d "'}"
/* An ENROLL at a school level; extra adds the programme, grade and letter (STD: the usual). */
#define OPEN(d, org, rest)                                                                         \
    "{'type': 'ENROLL', 'date': '" d "', " ORDER(d) ", 'organization': '" org "', " rest "}"
#define ENROLL(d, org, extra) OPEN(d, org, "'level': 'NOO', 'form': 'FULL_TIME'" extra)
#define STD                   ", 'program': {'name': 'ООП НОО', 'adapted': false}, 'grade': 1, 'class_letter': 'А'"
#define PROG                  ", 'program': {'name': 'x'}"
#define EVENT(t, d, extra)    "{'type': '" t "', 'date': '" d "', " ORDER(d) extra "}"
#define DOP(d)                                                                                     \
    "{'type': 'ENROLL', 'date': '" d                                                               \
    "', " ORDER(d) ", 'organization': '" CLUB "',"                                                 \
                   " 'level': 'DOP', 'program': {'name': 'Шахматы'}, 'form': 'FULL_TIME'}"

static void
to_bson(arena_t *a, const char *quoted, bson_t *out)
{
    bson_t *b;
    bson_error_t e;
    const char *text = q(a, quoted);

    b = bson_new_from_json((const uint8_t *)text, (ssize_t)strlen(text), &e);
    if (b == NULL) {
        fprintf(stderr, "bad test BSON: %s\n", e.message);
        bson_init(out);
        return;
    }
    bson_copy_to(b, out);
    bson_destroy(b);
}

static void
dump(const kt_error_t *err)
{
    for (const kt_field_error_t *f = err->fields; f != NULL; f = f->next)
        fprintf(stderr, "    %s %s\n", f->pointer, kt_code_name(f->code));
}

/* The event body must fail with exactly n errors, one of them code at ptr. */
static void
check_event_fails(const char *body, size_t n, const char *ptr, kt_code_t code)
{
    arena_t *a = arena_new(0);
    bson_t out = BSON_INITIALIZER;
    kt_error_t err;
    bool ok = education_event_from_json(a, parse(a, body), TODAY, &out, &err);

    CHECK(!ok);
    if (ok || err.nfields != n || !has_error(&err, ptr, code)) {
        fprintf(stderr, "  expected %s at %s in: %s\n", kt_code_name(code), ptr, body);
        if (!ok)
            dump(&err);
        CHECK(0);
    }
    bson_destroy(&out);
    arena_free(a);
}

static void
check_event_ok(const char *body)
{
    arena_t *a = arena_new(0);
    bson_t out = BSON_INITIALIZER;
    kt_error_t err;
    bool ok = education_event_from_json(a, parse(a, body), TODAY, &out, &err);

    if (!ok) {
        fprintf(stderr, "  expected valid: %s\n", body);
        dump(&err);
    }
    CHECK(ok);
    bson_destroy(&out);
    arena_free(a);
}

/* A student (just what the rules read) after applying events in turn. */
typedef struct {
    arena_t *arena;
    bson_t doc;
    education_outcome_t outcome;
    kt_error_t err;
} st_t;

static void
st_init(st_t *s)
{
    s->arena = arena_new(0);
    to_bson(s->arena,
            "{'last_name': 'Иванова', 'birth_date': '2015-03-14', 'organization': '" SCHOOL "'}",
            &s->doc);
}

static void
st_release(st_t *s)
{
    bson_destroy(&s->doc);
    arena_free(s->arena);
}

/* Applies body; on success the student moves on. */
static bool
st_apply(st_t *s, const char *body)
{
    bson_t ev = BSON_INITIALIZER, next = BSON_INITIALIZER;
    bool ok;

    kt_error_clear(&s->err);
    ok = education_event_from_json(s->arena, parse(s->arena, body), TODAY, &ev, &s->err) &&
         education_apply(s->arena, &s->doc, &ev, &next, &s->outcome, &s->err);
    if (ok) {
        bson_destroy(&s->doc);
        bson_steal(&s->doc, &next);
    } else {
        bson_destroy(&next);
    }
    bson_destroy(&ev);
    return ok;
}

static void
st_ok(st_t *s, const char *body)
{
    if (!st_apply(s, body)) {
        fprintf(stderr, "  expected to apply: %s\n", body);
        dump(&s->err);
        CHECK(0);
    }
}

/* Applying body fails with exactly n errors, one of them code at ptr. */
static void
st_fails(st_t *s, const char *body, size_t n, const char *ptr, kt_code_t code)
{
    bool ok = st_apply(s, body);

    CHECK(!ok);
    CHECK(ok || (s->err.code == KT_VALIDATION && s->err.status == 422));
    if (ok || s->err.nfields != n || !has_error(&s->err, ptr, code)) {
        fprintf(stderr, "  expected %s at %s in: %s\n", kt_code_name(code), ptr, body);
        if (!ok)
            dump(&s->err);
        CHECK(0);
    }
}

static const char *
st_str(st_t *s, const char *dotted)
{
    bson_iter_t it, found;

    if (bson_iter_init(&it, &s->doc) && bson_iter_find_descendant(&it, dotted, &found) &&
        BSON_ITER_HOLDS_UTF8(&found))
        return bson_iter_utf8(&found, NULL);
    return NULL;
}

static int64_t
st_int(st_t *s, const char *dotted)
{
    bson_iter_t it, found;

    if (bson_iter_init(&it, &s->doc) && bson_iter_find_descendant(&it, dotted, &found) &&
        BSON_ITER_HOLDS_INT64(&found))
        return bson_iter_int64(&found);
    return -1;
}

static bool
st_has(st_t *s, const char *dotted)
{
    bson_iter_t it, found;

    return bson_iter_init(&it, &s->doc) && bson_iter_find_descendant(&it, dotted, &found);
}

/* Tests. */

static void
test_days(void)
{
    CHECK_INT(education_days("1970-01-01"), 0);
    CHECK_INT(education_days("2024-03-01") - education_days("2024-02-28"), 2);
    CHECK_INT(education_days("2023-03-01") - education_days("2023-02-28"), 1);
    CHECK_INT(education_days("2000-01-01"), 10957);
}

static void
test_event_int_and_bool_rows(void)
{
    check_event_ok(ENROLL("2024-09-01", SCHOOL, PROG ", 'grade': 0"));
    check_event_ok(ENROLL("2024-09-01", SCHOOL, PROG ", 'grade': 12"));
    check_event_fails(ENROLL("2024-09-01", SCHOOL, PROG ", 'grade': 13"), 1, "/grade", KT_FORMAT);
    check_event_fails(ENROLL("2024-09-01", SCHOOL, PROG ", 'grade': -1"), 1, "/grade", KT_FORMAT);
    check_event_fails(ENROLL("2024-09-01", SCHOOL, PROG ", 'grade': 1.5"), 1, "/grade", KT_FORMAT);
    check_event_fails(ENROLL("2024-09-01", SCHOOL, PROG ", 'grade': 1e0"), 1, "/grade", KT_FORMAT);
    check_event_fails(ENROLL("2024-09-01", SCHOOL, PROG ", 'grade': '3'"), 1, "/grade", KT_FORMAT);
    check_event_fails(ENROLL("2024-09-01", SCHOOL, PROG ", 'grade': {'$gt': 1}"), 1, "/grade",
                      KT_FORMAT);
    check_event_ok(EVENT("EXPEL", "2024-09-01", ", 'episode': 1"));
    check_event_ok(EVENT("EXPEL", "2024-09-01", ", 'episode': 50"));
    check_event_fails(EVENT("EXPEL", "2024-09-01", ", 'episode': 0"), 1, "/episode", KT_FORMAT);
    check_event_fails(EVENT("EXPEL", "2024-09-01", ", 'episode': 51"), 1, "/episode", KT_FORMAT);
    check_event_ok(
        ENROLL("2024-09-01", SCHOOL, ", 'grade': 1, 'program': {'name': 'x', 'adapted': true}"));
    check_event_fails(
        ENROLL("2024-09-01", SCHOOL, ", 'grade': 1, 'program': {'name': 'x', 'adapted': 'true'}"),
        1, "/program/adapted", KT_FORMAT);
    check_event_fails(
        ENROLL("2024-09-01", SCHOOL, ", 'grade': 1, 'program': {'name': 'x', 'adapted': 1}"), 1,
        "/program/adapted", KT_FORMAT);
}

static void
test_event_members_by_type(void)
{
    check_event_fails("{'date': '2024-09-01', " ORDER("2024-09-01") "}", 1, "/type", KT_REQUIRED);
    check_event_fails(EVENT("MOVE", "2024-09-01", ""), 1, "/type", KT_ENUM);
    check_event_fails("{'type': 'EXPEL', 'date': '2024-09-01'}", 1, "/order", KT_REQUIRED);
    check_event_fails(EVENT("EXPEL", "2024-09-01", ", 'x': 1"), 1, "/x", KT_UNKNOWN_FIELD);
    check_event_fails(EVENT("ENROLL", "2024-09-01", ""), 4, "/program", KT_REQUIRED);
    check_event_fails(EVENT("TRANSFER_IN", "2024-09-01", ""), 4, "/organization", KT_REQUIRED);
    check_event_fails(ENROLL("2024-09-01", SCHOOL, STD ", 'episode': 2"), 1, "/episode",
                      KT_FORBIDDEN);
    check_event_fails(EVENT("EXPEL", "2024-09-01", ", 'grade': 2"), 1, "/grade", KT_FORBIDDEN);
    check_event_fails(EVENT("RETURN", "2024-09-01", ", 'to_organization': '" SCHOOL "'"), 1,
                      "/to_organization", KT_FORBIDDEN);
    check_event_fails(EVENT("TRANSFER_CLASS", "2024-09-01", ""), 1, "/grade", KT_REQUIRED);
    check_event_fails(EVENT("TRANSFER_CLASS", "2024-09-01", ", 'level': 'NOO', 'grade': 2"), 1,
                      "/level", KT_FORBIDDEN);
    check_event_ok(EVENT("TRANSFER_CLASS", "2024-09-01", ", 'grade': 2, 'episode': 1"));
    check_event_ok(EVENT("TRANSFER_OUT", "2024-09-01", ", 'to_organization': '" SCHOOL "'"));
    check_event_fails(EVENT("TRANSFER_OUT", "2024-09-01", ", 'to_organization': '1027700132194'"),
                      1, "/to_organization", KT_OGRN_CHECKSUM);
    check_event_ok(EVENT("GRADUATE", "2024-09-01", ", 'note': 'с отличием'"));
}

static void
test_event_levels_and_dates(void)
{
    /* School levels need a grade; others do not. */
    check_event_fails(
        "{'type': 'ENROLL', 'date': '2024-09-01', " ORDER(
            "2024-09-01") ", 'organization': '" SCHOOL
                          "', 'level': 'OOO', 'program': {'name': 'x'}, 'form': 'FAMILY'}",
        1, "/grade", KT_REQUIRED);
    check_event_ok(DOP("2024-09-01"));
    check_event_ok("{'type': 'ENROLL', 'date': '2024-09-01', " ORDER(
        "2024-09-01") ", 'organization': '" SCHOOL "', 'level': 'SPO', 'program': {'name': 'x', "
                      "'code': '09.02.07'}, 'form': 'EXTRAMURAL', 'financing': 'CONTRACT'}");
    check_event_fails(
        "{'type': 'ENROLL', 'date': '2024-09-01', " ORDER(
            "2024-09-01") ", 'organization': '" SCHOOL
                          "', 'level': 'SPO', 'program': {'name': 'x', 'code': '09.02'}, 'form': "
                          "'FULL_TIME'}",
        1, "/program/code", KT_FORMAT);
    check_event_fails(OPEN("2024-09-01", SCHOOL, "'level': 'NOO', 'form': 'EVENING'" STD), 1,
                      "/form", KT_ENUM);
    check_event_fails(OPEN("2024-09-01", SCHOOL, "'level': 'VO', 'form': 'SELF'" STD), 1, "/level",
                      KT_ENUM);
    /* Dates: real, not in the future; the order at most 30 days after. */
    check_event_fails(EVENT("EXPEL", "2024-02-30", ""), 2, "/date", KT_DATE_RANGE);
    check_event_fails(EVENT("EXPEL", "2026-11-30", ""), 2, "/date", KT_DATE_RANGE);
    check_event_fails(EVENT("EXPEL", "01.09.2024", ""), 2, "/date", KT_FORMAT);
    check_event_ok("{'type': 'EXPEL', 'date': '2024-09-01', 'order': {'number': '7', 'date': "
                   "'2024-10-01'}}");
    check_event_fails("{'type': 'EXPEL', 'date': '2024-09-01', 'order': {'number': '7', 'date': "
                      "'2024-10-02'}}",
                      1, "/order/date", KT_DATE_ORDER);
    check_event_ok("{'type': 'EXPEL', 'date': '2024-09-01', 'order': {'number': '7', 'date': "
                   "'2020-01-01'}}");
    check_event_fails("{'type': 'EXPEL', 'date': '2024-09-01', 'order': {'date': '2024-09-01'}}", 1,
                      "/order/number", KT_REQUIRED);
}

static void
test_apply_full_path(void)
{
    st_t s;

    st_init(&s);
    st_ok(&s, ENROLL("2024-09-01", SCHOOL, STD));
    CHECK_STR(s.outcome.organization, SCHOOL);
    CHECK_INT(s.outcome.episode, 1);
    CHECK_STR(st_str(&s, "education.0.status"), "ACTIVE");
    CHECK_STR(st_str(&s, "education.0.enrolled_on"), "2024-09-01");
    CHECK_STR(st_str(&s, "education.0.enroll_order.number"), "1");
    CHECK_INT(st_int(&s, "education.0.grade"), 1);
    st_ok(&s, EVENT("TRANSFER_CLASS", "2025-09-01", ", 'grade': 2, 'class_letter': 'Б'"));
    CHECK_INT(st_int(&s, "education.0.grade"), 2);
    CHECK_STR(st_str(&s, "education.0.class_letter"), "Б");
    st_ok(&s, EVENT("TRANSFER_CLASS", "2025-09-02", ", 'grade': 2"));
    CHECK(!st_has(&s, "education.0.class_letter"));
    st_ok(&s, EVENT("ACADEMIC_LEAVE", "2025-11-10", ""));
    CHECK_STR(st_str(&s, "education.0.status"), "LEAVE");
    st_ok(&s, EVENT("RETURN", "2026-01-12", ""));
    CHECK_STR(st_str(&s, "education.0.status"), "ACTIVE");
    CHECK(education_transfer_to(s.arena, &s.doc) == NULL);
    st_ok(&s, EVENT("TRANSFER_OUT", "2026-02-01", ", 'to_organization': '" SCHOOL2 "'"));
    CHECK_STR(st_str(&s, "education.0.status"), "ENDED");
    CHECK_STR(st_str(&s, "education.0.end_reason"), "TRANSFER_OUT");
    CHECK_STR(st_str(&s, "education.0.ended_on"), "2026-02-01");
    CHECK_STR(st_str(&s, "education.0.transfer_to"), SCHOOL2);
    CHECK_STR(st_str(&s, "education.0.events.5.type"), "TRANSFER_OUT");
    CHECK_STR(st_str(&s, "organization"), SCHOOL); /* until the new school takes the student */
    CHECK_STR(education_transfer_to(s.arena, &s.doc), SCHOOL2);
    st_ok(&s, "{'type': 'TRANSFER_IN', 'date': '2026-02-01', " ORDER(
                  "2026-02-01") ", 'organization': '" SCHOOL2
                                "', 'level': 'NOO', 'program': {'name': 'x'},"
                                " 'form': 'FULL_TIME', 'grade': 2}");
    CHECK_STR(st_str(&s, "organization"), SCHOOL2);
    CHECK_INT(st_int(&s, "education.1.episode"), 2);
    CHECK(education_transfer_to(s.arena, &s.doc) == NULL);
    st_ok(&s, EVENT("GRADUATE", "2026-05-31", ""));
    CHECK_STR(st_str(&s, "education.1.end_reason"), "GRADUATE");
    CHECK_STR(st_str(&s, "education.1.end_order.date"), "2026-05-31");
    /* The student's other members keep their order, education comes last. */
    bson_iter_t it;
    const char *keys[4] = {0};
    int n = 0;
    for (bson_iter_init(&it, &s.doc); bson_iter_next(&it) && n < 4;)
        keys[n++] = bson_iter_key(&it);
    CHECK_INT(n, 4);
    CHECK_STR(keys[0], "last_name");
    CHECK_STR(keys[2], "organization");
    CHECK_STR(keys[3], "education");
    st_release(&s);
}

static void
test_apply_state_rules(void)
{
    st_t s;

    st_init(&s);
    st_fails(&s, EVENT("EXPEL", "2024-09-01", ""), 1, "/type", KT_NO_OPEN_EPISODE);
    st_fails(&s, ENROLL("2010-09-01", SCHOOL, STD), 1, "/date", KT_DATE_ORDER); /* before birth */
    st_ok(&s, ENROLL("2024-09-01", SCHOOL, STD));
    st_fails(&s, ENROLL("2024-09-02", SCHOOL2, STD), 1, "/type", KT_EPISODE_OPEN);
    /* All at once: open episode and a date before the birth. */
    st_fails(&s, ENROLL("2014-09-02", SCHOOL2, STD), 3, "/type", KT_EPISODE_OPEN);
    CHECK(has_error(&s.err, "/date", KT_DATE_ORDER));
    st_fails(&s, EVENT("RETURN", "2024-10-01", ""), 1, "/type", KT_EPISODE_STATE);
    st_fails(&s, EVENT("TRANSFER_CLASS", "2024-08-31", ", 'grade': 2"), 1, "/date", KT_DATE_ORDER);
    st_fails(&s, EVENT("EXPEL", "2024-10-01", ", 'episode': 2"), 1, "/episode", KT_NO_OPEN_EPISODE);
    st_fails(&s, EVENT("TRANSFER_OUT", "2024-10-01", ", 'to_organization': '" SCHOOL "'"), 1,
             "/to_organization", KT_FORMAT);
    st_ok(&s, EVENT("ACADEMIC_LEAVE", "2024-10-01", ""));
    st_fails(&s, EVENT("ACADEMIC_LEAVE", "2024-10-02", ""), 1, "/type", KT_EPISODE_STATE);
    st_fails(&s, EVENT("TRANSFER_CLASS", "2024-10-02", ", 'grade': 2"), 1, "/type",
             KT_EPISODE_STATE);
    st_fails(&s, EVENT("GRADUATE", "2024-10-02", ""), 1, "/type", KT_EPISODE_STATE);
    st_fails(&s, EVENT("RETURN", "2024-09-30", ""), 1, "/date", KT_DATE_ORDER);
    st_ok(&s, EVENT("EXPEL", "2024-10-01", "")); /* the same day as the last event: fine */
    st_fails(&s, EVENT("RETURN", "2024-10-02", ", 'episode': 1"), 1, "/episode",
             KT_NO_OPEN_EPISODE);
    st_fails(&s, ENROLL("2024-09-30", SCHOOL, STD), 1, "/date", KT_DATE_ORDER);
    st_ok(&s, ENROLL("2024-10-01", SCHOOL2, STD));
    st_release(&s);
}

static void
test_apply_dop_overlaps(void)
{
    st_t s;

    st_init(&s);
    st_ok(&s, DOP("2023-09-01")); /* DOP first: the student's organisation stays */
    CHECK_STR(s.outcome.organization, SCHOOL);
    st_ok(&s, ENROLL("2024-09-01", SCHOOL2, STD));
    CHECK_STR(st_str(&s, "organization"), SCHOOL2);
    st_ok(&s, DOP("2024-09-02"));
    st_ok(&s, DOP("2024-01-01")); /* DOP dates are free of the main episodes' */
    st_ok(&s, EVENT("EXPEL", "2024-10-01", ", 'episode': 3"));
    CHECK_STR(s.outcome.episode_org, CLUB);
    CHECK_STR(st_str(&s, "education.2.status"), "ENDED");
    CHECK_STR(st_str(&s, "education.1.status"), "ACTIVE");
    st_ok(&s, EVENT("EXPEL", "2024-10-01", "")); /* the main episode */
    CHECK_STR(st_str(&s, "education.1.status"), "ENDED");
    CHECK_STR(st_str(&s, "education.0.status"), "ACTIVE");
    st_release(&s);
}

static void
test_apply_limits(void)
{
    st_t s;

    st_init(&s);
    for (int i = 0; i < EDUCATION_EPISODES_MAX; i++)
        st_ok(&s, DOP("2024-09-01"));
    st_fails(&s, DOP("2024-09-01"), 1, "/type", KT_FORMAT);
    st_release(&s);
    st_init(&s);
    st_ok(&s, ENROLL("2024-09-01", SCHOOL, STD));
    for (int i = 1; i < EDUCATION_EVENTS_MAX; i++)
        st_ok(&s, EVENT("TRANSFER_CLASS", "2024-09-01", ", 'grade': 1"));
    st_fails(&s, EVENT("TRANSFER_CLASS", "2024-09-01", ", 'grade': 1"), 1, "/type", KT_FORMAT);
    st_release(&s);
}

static bool
check_body(st_t *s, const char *body, bool create)
{
    bson_t doc;
    bool ok;

    to_bson(s->arena, body, &doc);
    bson_iter_t it;
    if (bson_iter_init_find(&it, &doc, "education")) { /* doc is the validated body: no education */
        bson_t copy = BSON_INITIALIZER;
        bson_copy_to_excluding_noinit(&doc, &copy, "education", NULL);
        bson_destroy(&doc);
        bson_steal(&doc, &copy);
    }
    kt_error_clear(&s->err);
    ok = education_check_body(s->arena, parse(s->arena, body), create ? NULL : &s->doc, &doc,
                              &s->err);
    bson_destroy(&doc);
    return ok;
}

static void
test_read_only(void)
{
    st_t s;

    st_init(&s);
    CHECK(check_body(&s, "{'organization': '" SCHOOL "'}", true));
    CHECK(check_body(&s, "{'organization': '" SCHOOL "', 'education': []}", true));
    CHECK(check_body(&s, "{'organization': '" SCHOOL "', 'education': null}", true));
    CHECK(!check_body(&s, "{'organization': '" SCHOOL "', 'education': [{'episode': 1}]}", true));
    CHECK(has_error(&s.err, "/education", KT_READ_ONLY) && s.err.nfields == 1);
    st_ok(
        &s,
        "{'type': 'ENROLL', 'date': '2024-09-01', " ORDER(
            "2024-09-01") ", 'organization': '" SCHOOL
                          "', 'level': 'DOP', 'program': {'name': 'x', 'adapted': false}, 'form': "
                          "'SELF', 'grade': 3}");
    /* Equal, members in another order: fine. */
    CHECK(check_body(
        &s,
        "{'organization': '" SCHOOL "', 'education': [{'events': [{'type': 'ENROLL', 'date': "
        "'2024-09-01', 'order': {'date': '2024-09-01', 'number': '1'}, 'grade': 3}], 'episode': 1, "
        "'organization': '" SCHOOL "', 'level': 'DOP', 'program': {'adapted': false, 'name': 'x'}, "
        "'form': 'SELF', 'grade': 3, 'enrolled_on': '2024-09-01', 'enroll_order': {'number': '1', "
        "'date': '2024-09-01'}, 'status': 'ACTIVE'}]}",
        false));
    CHECK(!check_body(
        &s,
        "{'organization': '" SCHOOL "', 'education': [{'events': [{'type': 'ENROLL', 'date': "
        "'2024-09-01', 'order': {'date': '2024-09-01', 'number': '1'}, 'grade': 4}], 'episode': 1, "
        "'organization': '" SCHOOL "', 'level': 'DOP', 'program': {'adapted': false, 'name': 'x'}, "
        "'form': 'SELF', 'grade': 3, 'enrolled_on': '2024-09-01', 'enroll_order': {'number': '1', "
        "'date': '2024-09-01'}, 'status': 'ACTIVE'}]}",
        false));
    CHECK(!check_body(&s, "{'organization': '" SCHOOL "', 'education': []}", false));
    CHECK(check_body(&s, "{'organization': '" SCHOOL "'}", false));
    /* Only a DOP episode is open: organization may still change. */
    CHECK(check_body(&s, "{'organization': '" SCHOOL2 "'}", false));
    st_ok(&s, ENROLL("2024-09-01", SCHOOL, STD));
    CHECK(!check_body(&s, "{'organization': '" SCHOOL2 "'}", false));
    CHECK(has_error(&s.err, "/organization", KT_READ_ONLY) && s.err.nfields == 1);
    st_ok(&s, EVENT("GRADUATE", "2024-09-02", ""));
    CHECK(check_body(&s, "{'organization': '" SCHOOL2 "'}", false));
    /* education_carry keeps the stored history. */
    bson_t doc = BSON_INITIALIZER;
    CHECK(education_carry(&s.doc, &doc));
    CHECK(bson_has_field(&doc, "education"));
    bson_destroy(&doc);
    bson_init(&doc);
    CHECK(education_carry(NULL, &doc) && bson_count_keys(&doc) == 0);
    bson_destroy(&doc);
    st_release(&s);
}

static void
test_trajectory(void)
{
    st_t s;
    buf_t b;
    jw_t w;

    st_init(&s);
    st_ok(&s, ENROLL("2024-09-01", SCHOOL, STD));
    st_ok(&s, EVENT("TRANSFER_CLASS", "2025-09-01", ", 'grade': 2, 'class_letter': 'Б'"));
    st_ok(&s, EVENT("ACADEMIC_LEAVE", "2025-09-01", "")); /* same day: no time in grade 2 */
    st_ok(&s, EVENT("TRANSFER_OUT", "2025-10-01", ", 'to_organization': '" SCHOOL2 "'"));
    st_ok(&s, "{'type': 'TRANSFER_IN', 'date': '2025-10-02', " ORDER(
                  "2025-10-02") ", 'organization': '" SCHOOL2
                                "', 'level': 'NOO', 'program': {'name': 'x'},"
                                " 'form': 'FAMILY', 'grade': 2}");
    buf_init(&b, 0);
    jw_init(&w, &b);
    jw_object_begin(&w);
    CHECK(education_trajectory(s.arena, &s.doc, &w));
    jw_object_end(&w);
    CHECK(jw_ok(&w));
    CHECK_STR((const char *)b.data,
              q(s.arena,
                "{'segments':["
                "{'from':'2024-09-01','to':'2025-09-01','episode':1,'organization':'" SCHOOL
                "','level':'NOO','grade':1,'class_letter':'А','form':'FULL_TIME','status':"
                "'ACTIVE'},"
                "{'from':'2025-09-01','to':'2025-10-01','episode':1,'organization':'" SCHOOL
                "','level':'NOO','grade':2,'class_letter':'Б','form':'FULL_TIME','status':'LEAVE'},"
                "{'from':'2025-10-02','to':null,'episode':2,'organization':'" SCHOOL2
                "','level':'NOO','grade':2,'class_letter':null,'form':'FAMILY','status':'ACTIVE'}"
                "],'moves':["
                "{'date':'2024-09-01','type':'ENROLL','from_organization':null,"
                "'to_organization':'" SCHOOL "','episode':1,'level':'NOO'},"
                "{'date':'2025-10-01','type':'TRANSFER_OUT','from_organization':'" SCHOOL
                "','to_organization':'" SCHOOL2 "','episode':1,'level':'NOO'},"
                "{'date':'2025-10-02','type':'TRANSFER_IN','from_organization':'" SCHOOL
                "','to_organization':'" SCHOOL2 "','episode':2,'level':'NOO'}]}"));
    buf_release(&b);
    st_release(&s);
}

static void
principal(principal_t *p, role_t role, const char *org)
{
    memset(p, 0, sizeof *p);
    p->role = role;
    snprintf(p->org, sizeof p->org, "%s", org);
}

static void
test_access(void)
{
    principal_t region, admin, ministry, auditor, own, dest, other;
    education_outcome_t o = {.episode_org = SCHOOL};
    const char *ptr = NULL;
    bson_t ev;
    st_t s;

    principal(&region, ROLE_REGION, "");
    principal(&admin, ROLE_ADMIN, "");
    principal(&ministry, ROLE_MINISTRY, "");
    principal(&auditor, ROLE_AUDITOR, "");
    principal(&own, ROLE_SCHOOL, SCHOOL);
    principal(&dest, ROLE_SCHOOL, SCHOOL2);
    principal(&other, ROLE_SCHOOL, CLUB);
    st_init(&s);
    CHECK_INT(education_may_post(s.arena, &region, &s.doc, "EXPEL"), KT_OK);
    CHECK_INT(education_may_post(s.arena, &admin, &s.doc, "EXPEL"), KT_OK);
    CHECK_INT(education_may_post(s.arena, &ministry, &s.doc, "EXPEL"), KT_FORBIDDEN);
    CHECK_INT(education_may_post(s.arena, &auditor, NULL, ""), KT_FORBIDDEN);
    CHECK_INT(education_may_post(s.arena, &dest, NULL, ""), KT_OK); /* the role alone */
    CHECK_INT(education_may_post(s.arena, &own, &s.doc, "EXPEL"), KT_OK);
    CHECK_INT(education_may_post(s.arena, &dest, &s.doc, "TRANSFER_IN"), KT_NOT_FOUND);
    st_ok(&s, ENROLL("2024-09-01", SCHOOL, STD));
    st_ok(&s, EVENT("TRANSFER_OUT", "2024-10-01", ", 'to_organization': '" SCHOOL2 "'"));
    CHECK_INT(education_may_post(s.arena, &dest, &s.doc, "TRANSFER_IN"), KT_OK);
    CHECK_INT(education_may_post(s.arena, &dest, &s.doc, "ENROLL"), KT_NOT_FOUND);
    CHECK_INT(education_may_post(s.arena, &other, &s.doc, "TRANSFER_IN"), KT_NOT_FOUND);
    CHECK_INT(education_may_post(s.arena, &own, &s.doc, "TRANSFER_IN"), KT_OK);
    /* After applying: a school opens episodes at itself, changes its own episodes. */
    to_bson(s.arena, "{'type': 'ENROLL', 'organization': '" SCHOOL2 "'}", &ev);
    CHECK_INT(education_may_apply(&dest, &ev, &o, &ptr), KT_OK);
    CHECK_INT(education_may_apply(&own, &ev, &o, &ptr), KT_FORBIDDEN);
    CHECK_STR(ptr, "/organization");
    CHECK_INT(education_may_apply(&region, &ev, &o, &ptr), KT_OK);
    bson_destroy(&ev);
    to_bson(s.arena, "{'type': 'EXPEL', 'order': {'number': '5', 'date': '2024-10-01'}}", &ev);
    CHECK_INT(education_may_apply(&own, &ev, &o, &ptr), KT_OK);
    CHECK_INT(education_may_apply(&other, &ev, &o, &ptr), KT_FORBIDDEN);
    CHECK_STR(ptr, "/episode");
    CHECK_STR(education_reason(s.arena, &ev), "отчисление: приказ № 5 от 01.10.2024");
    bson_destroy(&ev);
    st_release(&s);
}

/* The reports' ?level= filter: the code list, exactly. */
static void
test_level_valid(void)
{
    CHECK(education_level_valid("NOO"));
    CHECK(education_level_valid("PRESCHOOL"));
    CHECK(education_level_valid("DOP"));
    CHECK(!education_level_valid("noo"));
    CHECK(!education_level_valid("NOO "));
    CHECK(!education_level_valid(""));
    CHECK(!education_level_valid(NULL));
}

int
main(void)
{
    CHECK_RUN(test_days);
    CHECK_RUN(test_level_valid);
    CHECK_RUN(test_event_int_and_bool_rows);
    CHECK_RUN(test_event_members_by_type);
    CHECK_RUN(test_event_levels_and_dates);
    CHECK_RUN(test_apply_full_path);
    CHECK_RUN(test_apply_state_rules);
    CHECK_RUN(test_apply_dop_overlaps);
    CHECK_RUN(test_apply_limits);
    CHECK_RUN(test_read_only);
    CHECK_RUN(test_trajectory);
    CHECK_RUN(test_access);
    CHECK_MAIN_END();
}
