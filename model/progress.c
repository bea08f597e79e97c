/*
 * progress: the current-progress model (model/progress.h) — one declared
 * field table, its rules, and the merge of partial bodies.
 *
 * Choices the issue leaves open, made here (docs/progress.md):
 *   - subjects are short Latin codes of the subjects of the ФГОС НОО/ООО/СОО
 *     curricula (progress_subjects); a region adds codes here and in the doc;
 *   - periods: Q1..Q4 (QUARTERS), T1..T3 (TRIMESTERS), H1..H2 (HALF_YEARS),
 *     and Y, the year's mark, in every scheme;
 *   - a mark is "1".."5", PASS (зачтено), FAIL (не зачтено) or NA (не
 *     аттестован), and NA, only NA, carries a reason.
 */
#include "model/progress.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "model/codec.h"
#include "model/fields.h"
#include "model/validators.h"

const char *const progress_subjects[] = {
    "RUS",  "LIT",  "LITREAD", "NATIVE", "NATIVELIT", "FL",  "FL2",    "MATH",
    "ALG",  "GEOM", "PROB",    "INF",    "HIST",      "SOC", "GEOG",   "PHYS",
    "CHEM", "BIO",  "ENV",     "ORKSE",  "ODNKNR",    "MUS", "ART",    "TECH",
    "PE",   "OBZR", "ASTR",    "ECON",   "LAW",       "IND", "NATSCI", NULL,
};

const char *const progress_subject_names[] = {
    "Русский язык",
    "Литература",
    "Литературное чтение",
    "Родной язык",
    "Литературное чтение на родном языке / Родная литература",
    "Иностранный язык",
    "Второй иностранный язык",
    "Математика",
    "Алгебра",
    "Геометрия",
    "Вероятность и статистика",
    "Информатика",
    "История",
    "Обществознание",
    "География",
    "Физика",
    "Химия",
    "Биология",
    "Окружающий мир",
    "Основы религиозных культур и светской этики",
    "Основы духовно-нравственной культуры народов России",
    "Музыка",
    "Изобразительное искусство",
    "Труд (технология)",
    "Физическая культура",
    "Основы безопасности и защиты Родины",
    "Астрономия",
    "Экономика",
    "Право",
    "Индивидуальный проект",
    "Естествознание",
    NULL,
};

const char *const progress_schemes[] = {"QUARTERS", "TRIMESTERS", "HALF_YEARS", NULL};
const char *const progress_periods[] = {"Q1", "Q2", "Q3", "Q4", "T1", "T2",
                                        "T3", "H1", "H2", "Y",  NULL};
static const char *const progress_marks[] = {"5", "4", "3", "2", "1", "PASS", "FAIL", "NA", NULL};
static const char *const progress_reasons[] = {"ILLNESS", "ABSENCES", "ARRIVED", "OTHER", NULL};

static bool
in_list(const char *const *list, const char *s)
{
    for (size_t i = 0; s != NULL && list[i] != NULL; i++)
        if (strcmp(list[i], s) == 0)
            return true;
    return false;
}

bool
progress_year_valid(const char *year)
{
    int a, b;

    if (year == NULL || strlen(year) != PROGRESS_YEAR_LEN || year[4] != '-')
        return false;
    for (int i = 0; i < PROGRESS_YEAR_LEN; i++)
        if (i != 4 && (year[i] < '0' || year[i] > '9'))
            return false;
    a = (year[0] - '0') * 1000 + (year[1] - '0') * 100 + (year[2] - '0') * 10 + (year[3] - '0');
    b = (year[5] - '0') * 1000 + (year[6] - '0') * 100 + (year[7] - '0') * 10 + (year[8] - '0');
    return a >= 2000 && a <= 2099 && b == a + 1;
}

bool
progress_year_of(const char *date, char out[PROGRESS_YEAR_LEN + 1])
{
    int y, m, d;

    out[0] = '\0';
    if (date == NULL || !date_parse(date, &y, &m, &d) || y < 2000 || y > 2099)
        return false;
    if (m < 9)
        y--;
    /* y is 1999..2099 here; the modulo only tells the compiler so. */
    snprintf(out, PROGRESS_YEAR_LEN + 1, "%04u-%04u", (unsigned)y % 10000u,
             (unsigned)(y + 1) % 10000u);
    return true;
}

bool
progress_period_in_scheme(const char *scheme, const char *period)
{
    if (scheme == NULL || period == NULL)
        return false;
    if (strcmp(period, "Y") == 0)
        return true;
    if (strcmp(scheme, "QUARTERS") == 0)
        return period[0] == 'Q' && period[1] >= '1' && period[1] <= '4' && period[2] == '\0';
    if (strcmp(scheme, "TRIMESTERS") == 0)
        return period[0] == 'T' && period[1] >= '1' && period[1] <= '3' && period[2] == '\0';
    if (strcmp(scheme, "HALF_YEARS") == 0)
        return period[0] == 'H' && period[1] >= '1' && period[1] <= '2' && period[2] == '\0';
    return false;
}

progress_mark_kind_t
progress_mark_kind(const char *mark, int *value)
{
    *value = 0;
    if (mark != NULL && mark[0] >= '1' && mark[0] <= '5' && mark[1] == '\0') {
        *value = mark[0] - '0';
        return PROGRESS_MARK_NUMERIC;
    }
    if (mark != NULL && strcmp(mark, "PASS") == 0)
        return PROGRESS_MARK_PASS;
    if (mark != NULL && strcmp(mark, "FAIL") == 0)
        return PROGRESS_MARK_FAIL;
    return PROGRESS_MARK_NA;
}

/* Checks. */

static kt_code_t
check_subject(fields_ctx_t *cx, json_value_t *s, const char **msg)
{
    (void)cx;
    *msg = "Код предмета из перечня (docs/progress.md)";
    return in_list(progress_subjects, s->str) ? KT_OK : KT_ENUM;
}

static kt_code_t
check_year(fields_ctx_t *cx, json_value_t *s, const char **msg)
{
    (void)cx;
    *msg = "Учебный год: ГГГГ-ГГГГ, два года подряд (2026-2027)";
    return progress_year_valid(s->str) ? KT_OK : KT_FORMAT;
}

/* Rules. */

enum { MARK_SUBJECT, MARK_PERIOD, MARK_MARK, MARK_REASON, MARK__MAX };

/* «Не аттестован» carries its reason; no other mark has one. */
static void
mark_rule(fields_ctx_t *cx, const char *ptr, field_slot_t *slots)
{
    bool na;

    if (slots[MARK_MARK].state != FIELD_OK)
        return;
    na = strcmp(slots[MARK_MARK].out->str, "NA") == 0;
    if (na && slots[MARK_REASON].state == FIELD_ABSENT)
        fields_fail(cx, fields_ptr(cx, ptr, "reason"), KT_REQUIRED,
                    "Для «не аттестован» (NA) нужна причина");
    else if (!na && slots[MARK_REASON].state == FIELD_OK)
        fields_fail(cx, fields_ptr(cx, ptr, "reason"), KT_FORMAT,
                    "Причина указывается только для «не аттестован» (NA)");
}

enum { ABS_PERIOD, ABS_DAYS, ABS_LESSONS, ABS_DAYS_ILLNESS, ABS_LESSONS_ILLNESS, ABS__MAX };

static int64_t
slot_int(const field_slot_t *slot)
{
    /* The walker checked the literal is an integer in its bounds. */
    return slot->state == FIELD_OK ? strtoll(slot->out->str, NULL, 10) : -1; /* lint: allow */
}

/* Of the days and lessons missed, those for illness are a part. */
static void
absence_rule(fields_ctx_t *cx, const char *ptr, field_slot_t *slots)
{
    if (slot_int(&slots[ABS_DAYS_ILLNESS]) > slot_int(&slots[ABS_DAYS]) &&
        slots[ABS_DAYS].state == FIELD_OK)
        fields_fail(cx, fields_ptr(cx, ptr, "days_illness"), KT_FORMAT,
                    "Дней по болезни больше, чем дней пропущено");
    if (slot_int(&slots[ABS_LESSONS_ILLNESS]) > slot_int(&slots[ABS_LESSONS]) &&
        slots[ABS_LESSONS].state == FIELD_OK)
        fields_fail(cx, fields_ptr(cx, ptr, "lessons_illness"), KT_FORMAT,
                    "Уроков по болезни больше, чем уроков пропущено");
}

enum {
    PR_ID,
    PR_VERSION,
    PR_STUDENT,
    PR_ORGANIZATION,
    PR_YEAR,
    PR_GRADE,
    PR_SCHEME,
    PR_MARKS,
    PR_ABSENCES,
    PR__MAX
};

static const char *
member_str(const json_value_t *obj, const char *key)
{
    const json_value_t *v = json_get(obj, key);

    return v != NULL && v->type == JSON_STRING ? v->str : "";
}

/* Whether an earlier item of arr (before stop) has the same key members. */
static bool
repeats(const json_value_t *arr, const json_value_t *stop, const char *k1, const char *k2)
{
    for (const json_value_t *p = arr->child; p != NULL && p != stop; p = p->next)
        if (strcmp(member_str(p, k1), member_str(stop, k1)) == 0 &&
            (k2 == NULL || strcmp(member_str(p, k2), member_str(stop, k2)) == 0))
            return true;
    return false;
}

/* Each period belongs to the scheme; one mark per (subject, period), one
 * absence line per period. */
static void
check_entries(fields_ctx_t *cx, const char *ptr, const field_slot_t *slot, const char *scheme,
              const char *key2)
{
    size_t i = 0;

    if (slot->state != FIELD_OK)
        return;
    for (const json_value_t *it = slot->out->child; it != NULL; it = it->next, i++) {
        const char *at = fields_ptr_index(cx, ptr, i);
        if (scheme != NULL && !progress_period_in_scheme(scheme, member_str(it, "period")))
            fields_fail(cx, fields_ptr(cx, at, "period"), KT_ENUM,
                        "Период не входит в схему аттестации (scheme)");
        if (repeats(slot->out, it, "period", key2))
            fields_fail(cx, at, KT_FORMAT,
                        key2 != NULL ? "Вторая отметка по предмету за тот же период"
                                     : "Второе число пропусков за тот же период");
    }
}

static void
progress_rule(fields_ctx_t *cx, const char *ptr, field_slot_t *slots)
{
    const char *scheme = slots[PR_SCHEME].state == FIELD_OK ? slots[PR_SCHEME].out->str : NULL;

    check_entries(cx, fields_ptr(cx, ptr, "marks"), &slots[PR_MARKS], scheme, "subject");
    check_entries(cx, fields_ptr(cx, ptr, "absences"), &slots[PR_ABSENCES], scheme, NULL);
}

/* The tables (model/fields.h names every slot of a row). */

static const field_t progress_mark_fields[] = {
    [MARK_SUBJECT] = FIELD_STR("subject", "@subject", FIELD_REQ, 16, check_subject),
    [MARK_PERIOD] = FIELD_ENUM("period", "@period", FIELD_REQ, progress_periods),
    [MARK_MARK] = FIELD_ENUM("mark", "@mark", FIELD_REQ, progress_marks),
    [MARK_REASON] = FIELD_ENUM("reason", "@reason", FIELD_OPT, progress_reasons),
    [MARK__MAX] = FIELD_END,
};

static const field_t progress_mark = {.xml = "Mark",
                                      .type = FIELD_T_OBJECT,
                                      .required = FIELD_REQ,
                                      .child = progress_mark_fields,
                                      .rule = mark_rule};

static const field_t progress_absence_fields[] = {
    [ABS_PERIOD] = FIELD_ENUM("period", "@period", FIELD_REQ, progress_periods),
    [ABS_DAYS] = FIELD_INT("days", "@days", FIELD_REQ, 0, PROGRESS_DAYS_MAX),
    [ABS_LESSONS] = FIELD_INT("lessons", "@lessons", FIELD_REQ, 0, PROGRESS_LESSONS_MAX),
    [ABS_DAYS_ILLNESS] = FIELD_INT("days_illness", "@daysIllness", FIELD_OPT, 0, PROGRESS_DAYS_MAX),
    [ABS_LESSONS_ILLNESS] =
        FIELD_INT("lessons_illness", "@lessonsIllness", FIELD_OPT, 0, PROGRESS_LESSONS_MAX),
    [ABS__MAX] = FIELD_END,
};

static const field_t progress_absence = {.xml = "Absence",
                                         .type = FIELD_T_OBJECT,
                                         .required = FIELD_REQ,
                                         .child = progress_absence_fields,
                                         .rule = absence_rule};

static const field_t progress_fields[] = {
    [PR_ID] = FIELD_ASSIGNED("id"),
    [PR_VERSION] = FIELD_ASSIGNED("version"),
    [PR_STUDENT] = FIELD_ASSIGNED("student_id"),
    [PR_ORGANIZATION] = FIELD_ASSIGNED("organization"),
    [PR_YEAR] = FIELD_STR("year", "@year", FIELD_OPT, 0, check_year),
    [PR_GRADE] = FIELD_INT("grade", "Grade", FIELD_REQ, PROGRESS_GRADE_MIN, PROGRESS_GRADE_MAX),
    [PR_SCHEME] = FIELD_ENUM("scheme", "Scheme", FIELD_REQ, progress_schemes),
    [PR_MARKS] = FIELD_ARRAY("marks", "Marks", FIELD_OPT, PROGRESS_MARKS_MAX, &progress_mark),
    [PR_ABSENCES] =
        FIELD_ARRAY("absences", "Absences", FIELD_OPT, PROGRESS_ABSENCES_MAX, &progress_absence),
    [PR__MAX] = FIELD_END,
};

const field_t progress_root = {
    .type = FIELD_T_OBJECT, .required = FIELD_REQ, .child = progress_fields, .rule = progress_rule};

/* The body's year, when it names one, is the path's. */
static bool
same_year(arena_t *arena, const bson_t *checked, const char *year, kt_error_t *err)
{
    bson_iter_t it;

    if (!bson_iter_init_find(&it, checked, "year") || !BSON_ITER_HOLDS_UTF8(&it) ||
        strcmp(bson_iter_utf8(&it, NULL), year) == 0)
        return true;
    kt_error_set(err, KT_DOMAIN_INPUT, KT_VALIDATION,
                 "Данные успеваемости не прошли проверку (ошибок: 1)");
    kt_error_add_field(err, arena, "/year", KT_FORMAT, "Учебный год не совпадает с годом в адресе");
    return false;
}

bool
progress_from_json(arena_t *arena, const json_value_t *body, const char *student_id,
                   const char *year, const char *organization, bson_t *out, kt_error_t *err)
{
    bson_t checked = BSON_INITIALIZER;
    bool ok;

    ok =
        fields_from_json(arena, &progress_root, body, NULL, "Данные успеваемости", &checked, err) &&
        same_year(arena, &checked, year, err);
    if (ok) {
        BSON_APPEND_UTF8(out, "student_id", student_id);
        BSON_APPEND_UTF8(out, "year", year);
        BSON_APPEND_UTF8(out, "organization", organization);
        bson_copy_to_excluding_noinit(&checked, out, "year", NULL);
    }
    bson_destroy(&checked);
    return ok;
}

/* Merging. */

/* A shallow copy of v without its sibling link, renamed key. */
static json_value_t *
node_copy(arena_t *arena, const json_value_t *v, const char *key)
{
    json_value_t *c = arena_alloc(arena, sizeof *c);

    if (c == NULL)
        return NULL;
    *c = *v;
    c->next = NULL;
    c->key = key;
    c->key_len = key != NULL ? strlen(key) : 0;
    return c;
}

/* Appends child (copied) to parent's list. */
static bool
append(arena_t *arena, json_value_t *parent, json_value_t **tail, const json_value_t *child,
       const char *key)
{
    json_value_t *c = node_copy(arena, child, key);

    if (c == NULL)
        return false;
    if (*tail == NULL)
        parent->child = c;
    else
        (*tail)->next = c;
    *tail = c;
    parent->count++;
    return true;
}

/* Whether item has the same key members as any item of arr. */
static bool
keyed_in(const json_value_t *arr, const json_value_t *item, const char *k2)
{
    for (const json_value_t *p = arr != NULL ? arr->child : NULL; p != NULL; p = p->next)
        if (strcmp(member_str(p, "period"), member_str(item, "period")) == 0 &&
            (k2 == NULL || strcmp(member_str(p, k2), member_str(item, k2)) == 0))
            return true;
    return false;
}

/* cur's items not replaced by one of add, then add's. */
static json_value_t *
merge_array(arena_t *arena, const json_value_t *cur, const json_value_t *add, const char *key,
            const char *k2)
{
    json_value_t *out = arena_calloc(arena, 1, sizeof *out), *tail = NULL;

    if (out == NULL)
        return NULL;
    out->type = JSON_ARRAY;
    out->key = key;
    out->key_len = strlen(key);
    for (const json_value_t *p = cur != NULL ? cur->child : NULL; p != NULL; p = p->next)
        if ((add == NULL || add->type != JSON_ARRAY || !keyed_in(add, p, k2)) &&
            !append(arena, out, &tail, p, NULL))
            return NULL;
    for (const json_value_t *p = add != NULL && add->type == JSON_ARRAY ? add->child : NULL;
         p != NULL; p = p->next)
        if (!append(arena, out, &tail, p, NULL))
            return NULL;
    return out;
}

json_value_t *
progress_merge(arena_t *arena, const bson_t *cur, const json_value_t *body)
{
    json_value_t *base = cur != NULL ? codec_bson_to_tree(arena, cur) : NULL;
    json_value_t *out, *tail = NULL, *marks, *absences;

    if (cur == NULL || body == NULL || body->type != JSON_OBJECT)
        return (json_value_t *)body; /* nothing to merge into; the model judges the body */
    if (base == NULL)
        return NULL;
    out = arena_calloc(arena, 1, sizeof *out);
    marks =
        merge_array(arena, json_get(base, "marks"), json_get(body, "marks"), "marks", "subject");
    absences = merge_array(arena, json_get(base, "absences"), json_get(body, "absences"),
                           "absences", NULL);
    if (out == NULL || marks == NULL || absences == NULL)
        return NULL;
    out->type = JSON_OBJECT;
    /* The body's other members win; cur's stay where the body is silent. */
    for (const json_value_t *p = base->child; p != NULL; p = p->next)
        if (strcmp(p->key, "marks") != 0 && strcmp(p->key, "absences") != 0 &&
            json_get(body, p->key) == NULL && !append(arena, out, &tail, p, p->key))
            return NULL;
    for (const json_value_t *p = body->child; p != NULL; p = p->next)
        if (strcmp(p->key, "marks") != 0 && strcmp(p->key, "absences") != 0 &&
            !append(arena, out, &tail, p, p->key))
            return NULL;
    if (!append(arena, out, &tail, marks, "marks") ||
        !append(arena, out, &tail, absences, "absences"))
        return NULL;
    return out;
}
