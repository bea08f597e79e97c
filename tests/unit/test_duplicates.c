/*
 * test_duplicates: the score of a probable duplicate (service/duplicates.h)
 * as a table of planted pairs — a typo, ё/е, a Latin transliteration,
 * swapped first and middle names, a missing СНИЛС score at or above the
 * threshold; twins, namesakes born on another day and two СНИЛС below it —
 * and the blocking keys that bring each planted pair together.
 */
#include <bson/bson.h>
#include <string.h>

#include "service/duplicates.h"
#include "store/records.h"
#include "tests/unit/check.h"

typedef struct {
    const char *last, *first, *middle, *birth, *sex, *snils, *rep_snils;
} person_t;

static const person_t maria = {"Фёдорова", "Мария",       "Петровна",   "2015-03-14",
                               "F",        "11223344595", "12345678964"};

typedef struct {
    const char *what;
    person_t other;
    bool flagged; /* scores DUP_THRESHOLD or more */
    unsigned agree_has;
} pair_case_t;

static const pair_case_t cases[] = {
    {"the same",
     {"Фёдорова", "Мария", "Петровна", "2015-03-14", "F", NULL, NULL},
     true,
     DUP_LAST_NAME | DUP_FIRST_NAME | DUP_MIDDLE_NAME | DUP_BIRTH_DATE | DUP_SEX},
    {"a typo in the surname",
     {"Фёдерова", "Мария", "Петровна", "2015-03-14", "F", NULL, NULL},
     true,
     DUP_LAST_NAME | DUP_BIRTH_DATE},
    {"a typo in the first name",
     {"Фёдорова", "Мраия", "Петровна", "2015-03-14", "F", NULL, NULL},
     true,
     DUP_BIRTH_DATE},
    {"е for ё",
     {"Федорова", "Мария", "Петровна", "2015-03-14", "F", NULL, NULL},
     true,
     DUP_LAST_NAME},
    {"Latin",
     {"Fedorova", "Mariya", "Petrovna", "2015-03-14", "F", NULL, NULL},
     true,
     DUP_LAST_NAME | DUP_FIRST_NAME | DUP_MIDDLE_NAME},
    {"Latin, other spelling",
     {"Fyodorova", "Maria", "Petrovna", "2015-03-14", "F", NULL, NULL},
     true,
     DUP_FIRST_NAME},
    {"first and middle swapped",
     {"Фёдорова", "Петровна", "Мария", "2015-03-14", "F", NULL, NULL},
     true,
     DUP_NAMES_SWAPPED | DUP_FIRST_NAME | DUP_MIDDLE_NAME},
    {"no middle name",
     {"Фёдорова", "Мария", NULL, "2015-03-14", "F", NULL, NULL},
     true,
     DUP_LAST_NAME | DUP_FIRST_NAME},
    {"day and month swapped",
     {"Фёдорова", "Мария", "Петровна", "2015-14-03", "F", NULL, "12345678964"},
     true,
     DUP_DATE_SWAPPED | DUP_REPRESENTATIVE_SNILS},
    {"a namesake born on another day",
     {"Фёдорова", "Мария", "Петровна", "2015-07-02", "F", NULL, NULL},
     false,
     DUP_LAST_NAME},
    {"a twin sister",
     {"Фёдорова", "Анна", "Петровна", "2015-03-14", "F", NULL, "12345678964"},
     false,
     DUP_REPRESENTATIVE_SNILS},
    {"a twin brother",
     {"Фёдоров", "Михаил", "Петрович", "2015-03-14", "M", NULL, "12345678964"},
     false,
     DUP_BIRTH_DATE},
    {"another СНИЛС",
     {"Фёдорова", "Мария", "Петровна", "2015-03-14", "F", "11223344496", NULL},
     false,
     DUP_BIRTH_DATE},
    {"someone else", {"Гарипова", "Алсу", "Ринатовна", "2008-04-11", "F", NULL, NULL}, false, 0},
};

static void
doc_of(const person_t *p, bson_t *doc)
{
    bson_t arr, one;

    bson_init(doc);
    BSON_APPEND_UTF8(doc, "last_name", p->last);
    BSON_APPEND_UTF8(doc, "first_name", p->first);
    if (p->middle != NULL)
        BSON_APPEND_UTF8(doc, "middle_name", p->middle);
    BSON_APPEND_UTF8(doc, "sex", p->sex);
    BSON_APPEND_UTF8(doc, "birth_date", p->birth);
    if (p->snils != NULL)
        BSON_APPEND_UTF8(doc, "snils", p->snils);
    if (p->rep_snils != NULL) {
        BSON_APPEND_ARRAY_BEGIN(doc, "representatives", &arr);
        BSON_APPEND_DOCUMENT_BEGIN(&arr, "0", &one);
        BSON_APPEND_UTF8(&one, "kind", "MOTHER");
        BSON_APPEND_UTF8(&one, "snils", p->rep_snils);
        bson_append_document_end(&arr, &one);
        bson_append_array_end(doc, &arr);
    }
}

/* Whether one of the three blocking keys of a and b is the same, but for
 * the letter that says whether the record holds a СНИЛС (a search reads
 * both kinds). */
static bool
share_key(const bson_t *a, const bson_t *b)
{
    char ka[STORE_DUP_KEYS][STORE_DUP_KEY_MAX], kb[STORE_DUP_KEYS][STORE_DUP_KEY_MAX];

    store_dup_keys(a, ka);
    store_dup_keys(b, kb);
    CHECK(ka[0][0] == STORE_DUP_SNILS && kb[0][0] == STORE_DUP_NO_SNILS);
    for (int i = 0; i < STORE_DUP_KEYS; i++)
        if (strcmp(ka[i] + 1, kb[i] + 1) == 0)
            return true;
    return false;
}

static void
test_planted_pairs(void)
{
    bson_t a, b;

    doc_of(&maria, &a);
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        doc_of(&cases[i].other, &b);
        dup_score_t s = duplicates_score(&a, &b), back = duplicates_score(&b, &a);
        if ((s.score >= DUP_THRESHOLD) != cases[i].flagged ||
            (s.agree & cases[i].agree_has) != cases[i].agree_has)
            fprintf(stderr, "case \"%s\": score %d, agree %#x\n", cases[i].what, s.score, s.agree);
        CHECK((s.score >= DUP_THRESHOLD) == cases[i].flagged);
        CHECK((s.agree & cases[i].agree_has) == cases[i].agree_has);
        CHECK(s.score >= 0 && s.score <= 100);
        if (cases[i].flagged) /* what the score finds, the keys must bring together */
            CHECK(share_key(&a, &b));
        if (strcmp(cases[i].what, "a typo in the surname") != 0 &&
            strcmp(cases[i].what, "a typo in the first name") != 0 &&
            strcmp(cases[i].what, "first and middle swapped") != 0)
            CHECK_INT(back.score, s.score); /* symmetric where the names are */
        bson_destroy(&b);
    }
    bson_destroy(&a);
}

static void
test_agree_names(void)
{
    bson_t doc = BSON_INITIALIZER;

    CHECK_STR(duplicates_agree_name(DUP_LAST_NAME), "last_name");
    CHECK_STR(duplicates_agree_name(DUP_DATE_SWAPPED), "birth_date_day_month_swapped");
    CHECK(duplicates_agree_name(3) == NULL);
    duplicates_append_agree(&doc, "agree", DUP_BIRTH_DATE | DUP_SEX);
    char *json = bson_as_relaxed_extended_json(&doc, NULL);
    CHECK_STR(json, "{ \"agree\" : [ \"birth_date\", \"sex\" ] }");
    bson_free(json);
    bson_destroy(&doc);
}

static void
test_pair_id(void)
{
    const char *a = "8f37c988-4ed5-49d1-af84-ae2b45996c4e",
               *b = "0b1d2c3e-4ed5-49d1-af84-ae2b4599aaaa";
    char x[STUDENT_ID_LEN + 1], y[STUDENT_ID_LEN + 1];

    duplicates_pair_id(a, b, x);
    duplicates_pair_id(b, a, y);
    CHECK_STR(x, y); /* either order */
    CHECK_INT(strlen(x), 36);
    CHECK(x[14] == '8'); /* version 8 */
    duplicates_pair_id(a, a, y);
    CHECK(strcmp(x, y) != 0);
}

int
main(void)
{
    CHECK_RUN(test_planted_pairs);
    CHECK_RUN(test_agree_names);
    CHECK_RUN(test_pair_id);
    CHECK_MAIN_END();
}
