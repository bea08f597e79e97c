/*
 * results: the member tables of achievements, exams and certificates, and
 * the rules across the members of one item (see model/results.h).
 *
 * Choices the issue leaves open, made here (docs/data-model.md "Phase 3"):
 *   - Codes: a member an item's kind needs and lacks is REQUIRED; a member
 *     its kind rules out, or one that contradicts another (passed true with
 *     mark 2), is FORMAT — as citizenship's category rules do; an integer
 *     outside its bounds is FORMAT, as the walker reports any INT. A code
 *     the kind does not take from a list that has it is ENUM. No new code.
 *   - ГТО (kind GTO): result is PARTICIPANT (took the tests, no badge) or
 *     WINNER (earned a badge), never PRIZE_WINNER; a WINNER names the badge
 *     (GOLD, SILVER, BRONZE); ГТО has no places. Other kinds have no badge.
 *   - An achievement's date, its document's date and a certificate's issue
 *     date are not before the student's birth date (DATE_ORDER) nor after
 *     today (DATE_RANGE); an exam's year is not before the birth year.
 *   - An exam's year lies within 2000 … the current year + 1 (the next
 *     school year's exams are planned ahead); score 0–100 for every kind
 *     (ОГЭ's maximum depends on the subject, kept simple), mark 2–5.
 *   - passed is checked against a mark (2 → false, 3–5 → true); with a
 *     score alone (ЕГЭ) it is the sender's word: minimum scores change by
 *     subject and year, and are not ours to keep.
 *   - A school attestat's number is 14 digits (federal.md §4, KNOW,
 *     unverified: the blank forms since 2014); a СПО diploma's is up to 30
 *     characters.
 */
#include "model/results.h"

#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "model/validators.h"

/* Members, in table order: the slots of a rule are indexed by them. */

enum {
    RESULTS_ACH_KIND,
    RESULTS_ACH_TITLE,
    RESULTS_ACH_EVENT,
    RESULTS_ACH_LEVEL,
    RESULTS_ACH_SUBJECT,
    RESULTS_ACH_RESULT,
    RESULTS_ACH_PLACE,
    RESULTS_ACH_BADGE,
    RESULTS_ACH_DATE,
    RESULTS_ACH_ORGANIZER,
    RESULTS_ACH_DOCUMENT,
    RESULTS_ACH__MAX
};

enum { RESULTS_PROOF_NUMBER, RESULTS_PROOF_DATE, RESULTS_PROOF_URL, RESULTS_PROOF__MAX };

enum {
    RESULTS_EXAM_KIND,
    RESULTS_EXAM_YEAR,
    RESULTS_EXAM_SUBJECT_CODE,
    RESULTS_EXAM_SUBJECT,
    RESULTS_EXAM_SCORE,
    RESULTS_EXAM_MARK,
    RESULTS_EXAM_PASSED,
    RESULTS_EXAM__MAX
};

enum {
    RESULTS_CERT_TYPE,
    RESULTS_CERT_SERIES,
    RESULTS_CERT_NUMBER,
    RESULTS_CERT_ISSUED_ON,
    RESULTS_CERT_WITH_HONORS,
    RESULTS_CERT_ORGANIZATION,
    RESULTS_CERT__MAX
};

#define RESULTS_SCORE_MAX       100
#define RESULTS_MARK_MIN        2
#define RESULTS_MARK_MAX        5
#define RESULTS_YEAR_MAX        9999 /* the row's bound; the rule's is the current year + 1 */
#define RESULTS_PLACE_MAX       1000
#define RESULTS_ATTESTAT_DIGITS 14

/* Shape checks (field_check_fn). */

/* A link to a scan or a page: http:// or https:// (either case), something
 * after it, no spaces. */
static kt_code_t
results_check_url(fields_ctx_t *cx, json_value_t *s, const char **msg)
{
    size_t scheme = 0;

    (void)cx;
    *msg = "Link: http:// or https:// and an address without spaces";
    if (s->len > 7 && strncasecmp(s->str, "http://", 7) == 0)
        scheme = 7;
    else if (s->len > 8 && strncasecmp(s->str, "https://", 8) == 0)
        scheme = 8;
    if (scheme == 0 || memchr(s->str, ' ', s->len) != NULL)
        return KT_FORMAT;
    return KT_OK;
}

/* A subject's code in a catalogue: Latin letters, digits, ".", "-", "_". */
static kt_code_t
results_check_code(fields_ctx_t *cx, json_value_t *s, const char **msg)
{
    (void)cx;
    *msg = "Subject code: Latin letters, digits, \".\", \"-\", \"_\"";
    for (size_t i = 0; i < s->len; i++) {
        char c = s->str[i];
        if (!((c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
              c == '.' || c == '-' || c == '_'))
            return KT_FORMAT;
    }
    return KT_OK;
}

static kt_code_t
results_check_attestat_number(fields_ctx_t *cx, json_value_t *s, const char **msg)
{
    (void)cx;
    *msg = "Certificate number: 14 digits";
    return fields_digits(s, RESULTS_ATTESTAT_DIGITS) ? KT_OK : KT_FORMAT;
}

/* Helpers of the rules: each reports at ptr/name and marks the slot BAD. */

static void
results_fail(fields_ctx_t *cx, const char *ptr, const char *name, field_slot_t *slot,
             kt_code_t code, const char *msg)
{
    fields_fail(cx, fields_ptr(cx, ptr, name), code, msg);
    slot->state = FIELD_BAD;
}

/* A member the item's kind needs. */
static void
results_require(fields_ctx_t *cx, const char *ptr, const char *name, field_slot_t *slot,
                const char *msg)
{
    if (slot->state == FIELD_ABSENT)
        results_fail(cx, ptr, name, slot, KT_REQUIRED, msg);
}

/* A member the item's kind rules out. */
static void
results_forbid(fields_ctx_t *cx, const char *ptr, const char *name, field_slot_t *slot,
               const char *msg)
{
    if (slot->state == FIELD_OK)
        results_fail(cx, ptr, name, slot, KT_FORMAT, msg);
}

/* A date of the student's life: not before the birth date. */
static void
results_after_birth(fields_ctx_t *cx, const char *ptr, const char *name, field_slot_t *slot)
{
    if (slot->state == FIELD_OK && cx->birth != NULL && date_compare(slot->out->str, cx->birth) < 0)
        results_fail(cx, ptr, name, slot, KT_DATE_ORDER,
                     "The date is before the student's birth date");
}

static bool
results_is(const field_slot_t *slot, const char *value)
{
    return slot->state == FIELD_OK && strcmp(slot->out->str, value) == 0;
}

static int64_t
results_int(const field_slot_t *slot)
{
    int64_t v = 0;

    json_as_int64(slot->out, &v);
    return v;
}

/* The year of a valid "YYYY-MM-DD". */
static int
results_year(const char *date)
{
    int y = 0;

    date_parse(date, &y, NULL, NULL);
    return y;
}

/* Rules (field_rule_fn). */

/* ГТО: PARTICIPANT or WINNER; a WINNER's badge; no place. */
static void
results_rule_gto(fields_ctx_t *cx, const char *ptr, field_slot_t *slots)
{
    field_slot_t *result = &slots[RESULTS_ACH_RESULT], *badge = &slots[RESULTS_ACH_BADGE];

    if (results_is(result, "PRIZE_WINNER"))
        results_fail(cx, ptr, "result", result, KT_ENUM,
                     "For GTO: PARTICIPANT (no badge) or WINNER (badge awarded)");
    if (results_is(result, "WINNER"))
        results_require(cx, ptr, "badge", badge, "GTO with the result WINNER needs a badge");
    if (results_is(result, "PARTICIPANT"))
        results_forbid(cx, ptr, "badge", badge, "A badge goes only with the result WINNER");
    results_forbid(cx, ptr, "place", &slots[RESULTS_ACH_PLACE], "GTO has no places");
}

static void
results_rule_achievement(fields_ctx_t *cx, const char *ptr, field_slot_t *slots)
{
    if (results_is(&slots[RESULTS_ACH_KIND], "GTO"))
        results_rule_gto(cx, ptr, slots);
    else if (slots[RESULTS_ACH_KIND].state == FIELD_OK)
        results_forbid(cx, ptr, "badge", &slots[RESULTS_ACH_BADGE],
                       "A badge is given for GTO only");
    results_after_birth(cx, ptr, "date", &slots[RESULTS_ACH_DATE]);
}

/* The supporting document: something to find it by, dated not before birth. */
static void
results_rule_proof(fields_ctx_t *cx, const char *ptr, field_slot_t *slots)
{
    if (slots[RESULTS_PROOF_NUMBER].state == FIELD_ABSENT &&
        slots[RESULTS_PROOF_DATE].state == FIELD_ABSENT &&
        slots[RESULTS_PROOF_URL].state == FIELD_ABSENT)
        fields_fail(cx, ptr, KT_REQUIRED, "A number, a date or a link to the document is needed");
    results_after_birth(cx, ptr, "date", &slots[RESULTS_PROOF_DATE]);
}

/* Year: 2000 (the row) … the current year + 1, and not before the birth year. */
static void
results_exam_year(fields_ctx_t *cx, const char *ptr, field_slot_t *year)
{
    int last = results_year(cx->today) + 1;

    if (year->state != FIELD_OK)
        return;
    if (results_int(year) > last) {
        fields_failf(cx, fields_ptr(cx, ptr, "year"), KT_FORMAT, "A year from %d to %d is expected",
                     RESULTS_EXAM_YEAR_MIN, last);
        year->state = FIELD_BAD;
    } else if (cx->birth != NULL && results_int(year) < results_year(cx->birth))
        results_fail(cx, ptr, "year", year, KT_DATE_ORDER,
                     "The exam's year is before the birth year");
}

/* passed against a mark: 2 is a fail, 3–5 a pass. */
static void
results_exam_passed(fields_ctx_t *cx, const char *ptr, field_slot_t *slots)
{
    field_slot_t *mark = &slots[RESULTS_EXAM_MARK], *passed = &slots[RESULTS_EXAM_PASSED];
    bool failed;

    if (mark->state != FIELD_OK || passed->state != FIELD_OK)
        return;
    failed = results_int(mark) == RESULTS_MARK_MIN;
    if (failed && passed->out->type == JSON_TRUE)
        results_fail(cx, ptr, "passed", passed, KT_FORMAT,
                     "With the mark 2 the exam is not passed");
    else if (!failed && passed->out->type == JSON_FALSE)
        results_fail(cx, ptr, "passed", passed, KT_FORMAT,
                     "With a mark of 3 to 5 the exam is passed");
}

/* ЕГЭ: a score, no mark. ОГЭ: a score, a mark or both. ГВЭ, intermediate
 * and final marks: a mark, no score. */
static void
results_rule_exam(fields_ctx_t *cx, const char *ptr, field_slot_t *slots)
{
    field_slot_t *kind = &slots[RESULTS_EXAM_KIND];
    field_slot_t *score = &slots[RESULTS_EXAM_SCORE], *mark = &slots[RESULTS_EXAM_MARK];

    results_exam_year(cx, ptr, &slots[RESULTS_EXAM_YEAR]);
    if (results_is(kind, "EGE")) {
        results_require(cx, ptr, "score", score, "EGE needs a score of 0 to 100");
        results_forbid(cx, ptr, "mark", mark, "EGE has a score, not a mark");
    } else if (results_is(kind, "OGE")) {
        if (score->state == FIELD_ABSENT)
            results_require(cx, ptr, "mark", mark, "OGE needs a score, a mark or both");
    } else if (kind->state == FIELD_OK) {
        results_require(cx, ptr, "mark", mark, "A mark of 2 to 5 is needed");
        results_forbid(cx, ptr, "score", score, "This kind has a mark, not a score");
    }
    results_exam_passed(cx, ptr, slots);
}

/* An attestat's number is 14 digits; every certificate is issued after birth. */
static void
results_rule_certificate(fields_ctx_t *cx, const char *ptr, field_slot_t *slots)
{
    field_slot_t *type = &slots[RESULTS_CERT_TYPE];

    if (results_is(type, "ATTESTAT_OOO") || results_is(type, "ATTESTAT_SOO"))
        fields_recheck(cx, ptr, "number", &slots[RESULTS_CERT_NUMBER],
                       results_check_attestat_number);
    results_after_birth(cx, ptr, "issued_on", &slots[RESULTS_CERT_ISSUED_ON]);
}

/* The tables: one row per member, FIELD_STR(name, xml, required, max, check) and its kin
 * (model/fields.h names every slot). */

static const char *const results_achievement_kinds[] = {
    "OLYMPIAD", "CONTEST", "COMPETITION", "CONFERENCE", "GTO", "OTHER", NULL};
static const char *const results_levels[] = {"SCHOOL",  "MUNICIPAL",     "REGIONAL",
                                             "FEDERAL", "INTERNATIONAL", NULL};
static const char *const results_outcomes[] = {"PARTICIPANT", "PRIZE_WINNER", "WINNER", NULL};
static const char *const results_badges[] = {"GOLD", "SILVER", "BRONZE", NULL};
static const char *const results_exam_kinds[] = {"OGE",          "GVE9",       "EGE", "GVE11",
                                                 "INTERMEDIATE", "FINAL_MARK", NULL};
static const char *const results_certificate_types[] = {"ATTESTAT_OOO", "ATTESTAT_SOO",
                                                        "DIPLOMA_SPO", NULL};

static const field_t results_proof_fields[] = {
    [RESULTS_PROOF_NUMBER] = FIELD_STR("number", "Number", FIELD_OPT, 100, NULL),
    [RESULTS_PROOF_DATE] = FIELD_STR("date", "Date", FIELD_OPT, 0, fields_check_date),
    [RESULTS_PROOF_URL] = FIELD_STR("url", "Url", FIELD_OPT, 2000, results_check_url),
    [RESULTS_PROOF__MAX] = FIELD_END,
};

static const field_t results_achievement_fields[] = {
    [RESULTS_ACH_KIND] = FIELD_ENUM("kind", "@kind", FIELD_REQ, results_achievement_kinds),
    [RESULTS_ACH_TITLE] = FIELD_STR("title", "Title", FIELD_REQ, 500, NULL),
    [RESULTS_ACH_EVENT] = FIELD_STR("event_name", "EventName", FIELD_OPT, 500, NULL),
    [RESULTS_ACH_LEVEL] = FIELD_ENUM("level", "Level", FIELD_REQ, results_levels),
    [RESULTS_ACH_SUBJECT] = FIELD_STR("subject", "Subject", FIELD_OPT, 200, NULL),
    [RESULTS_ACH_RESULT] = FIELD_ENUM("result", "Result", FIELD_REQ, results_outcomes),
    [RESULTS_ACH_PLACE] = FIELD_INT("place", "Place", FIELD_OPT, 1, RESULTS_PLACE_MAX),
    [RESULTS_ACH_BADGE] = FIELD_ENUM("badge", "Badge", FIELD_OPT, results_badges),
    [RESULTS_ACH_DATE] = FIELD_STR("date", "Date", FIELD_REQ, 0, fields_check_date),
    [RESULTS_ACH_ORGANIZER] = FIELD_STR("organizer", "Organizer", FIELD_OPT, 500, NULL),
    [RESULTS_ACH_DOCUMENT] = FIELD_OBJECT("document", "Document", FIELD_OPT, results_proof_fields,
                                          results_rule_proof, 0),
    [RESULTS_ACH__MAX] = FIELD_END,
};

static const field_t results_exam_fields[] = {
    [RESULTS_EXAM_KIND] = FIELD_ENUM("kind", "@kind", FIELD_REQ, results_exam_kinds),
    [RESULTS_EXAM_YEAR] =
        FIELD_INT("year", "Year", FIELD_REQ, RESULTS_EXAM_YEAR_MIN, RESULTS_YEAR_MAX),
    [RESULTS_EXAM_SUBJECT_CODE] =
        FIELD_STR("subject_code", "SubjectCode", FIELD_OPT, 20, results_check_code),
    [RESULTS_EXAM_SUBJECT] = FIELD_STR("subject", "Subject", FIELD_REQ, 200, NULL),
    [RESULTS_EXAM_SCORE] = FIELD_INT("score", "Score", FIELD_OPT, 0, RESULTS_SCORE_MAX),
    [RESULTS_EXAM_MARK] = FIELD_INT("mark", "Mark", FIELD_OPT, RESULTS_MARK_MIN, RESULTS_MARK_MAX),
    [RESULTS_EXAM_PASSED] = FIELD_BOOL("passed", "Passed", FIELD_OPT),
    [RESULTS_EXAM__MAX] = FIELD_END,
};

static const field_t results_certificate_fields[] = {
    [RESULTS_CERT_TYPE] = FIELD_ENUM("type", "@type", FIELD_REQ, results_certificate_types),
    [RESULTS_CERT_SERIES] = FIELD_STR("series", "Series", FIELD_OPT, 20, NULL),
    [RESULTS_CERT_NUMBER] = FIELD_STR("number", "Number", FIELD_REQ, 30, NULL),
    [RESULTS_CERT_ISSUED_ON] = FIELD_STR("issued_on", "IssuedOn", FIELD_REQ, 0, fields_check_date),
    [RESULTS_CERT_WITH_HONORS] = FIELD_BOOL("with_honors", "WithHonors", FIELD_OPT),
    [RESULTS_CERT_ORGANIZATION] =
        FIELD_STR("organization", "Organization", FIELD_OPT, 0, fields_check_ogrn),
    [RESULTS_CERT__MAX] = FIELD_END,
};

const field_t results_achievement = {.xml = "Achievement",
                                     .type = FIELD_T_OBJECT,
                                     .required = FIELD_REQ,
                                     .child = results_achievement_fields,
                                     .rule = results_rule_achievement};

const field_t results_exam = {.xml = "Exam",
                              .type = FIELD_T_OBJECT,
                              .required = FIELD_REQ,
                              .child = results_exam_fields,
                              .rule = results_rule_exam};

const field_t results_certificate = {.xml = "Certificate",
                                     .type = FIELD_T_OBJECT,
                                     .required = FIELD_REQ,
                                     .child = results_certificate_fields,
                                     .rule = results_rule_certificate};
