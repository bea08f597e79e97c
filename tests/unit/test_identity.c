/*
 * test_identity: the normalisation of names and the tolerance of the
 * identity comparison (service/identity.h) as a table: what is the same
 * person, what is another.
 */
#include <bson/bson.h>
#include <string.h>

#include "core/arena.h"
#include "service/identity.h"
#include "tests/unit/check.h"

typedef struct {
    const char *a, *b;
    int want; /* the capped edit distance of the normalised names */
} name_case_t;

static const name_case_t name_cases[] = {
    {"Иванова", "Иванова", 0},
    {"Иванова", "иванова", 0},                 /* case */
    {"ИВАНОВА", "иванова", 0},                 /* case */
    {"Фёдорова", "Федорова", 0},               /* ё/е */
    {"ФЁДОРОВА", "федорова", 0},               /* Ё/е */
    {"Иванова-Петрова", "Иванова Петрова", 0}, /* hyphen, space */
    {"Иванова-Петрова", "ИвановаПетрова", 0},
    {"Д'Артаньян", "Дартаньян", 0}, /* apostrophe */
    {"Д’Артаньян", "Дартаньян", 0}, /* typographic apostrophe */
    {"Ивaнoвa", "Иванова", 0},      /* Latin a and o in a Cyrillic name */
    {"Иванoва", "Иванова", 0},      /* the issue's «Иванoва», Latin o */
    {"CAФИН", "Сафин", 0},          /* Latin capitals C and A */
    {"Karimov", "karimov", 0},      /* a Latin name: case only */
    {"Karimov", "Каримов", 2},      /* no look-alikes outside Cyrillic names */
    {"Гайнуллина", "ГАЙНУЛЛИНА", 0},
    {"Әлиева", "әлиева", 0},   /* Tatar letters have a case too */
    {"Иванова", "Иванвоа", 2}, /* a transposition is two edits */
    {"Иванова", "Иваноав", 2},
    {"Иванова", "Ивановa", 0},  /* Latin a at the end */
    {"Иванова", "Иваноова", 1}, /* one letter more */
    {"Иванова", "Иванва", 1},   /* one letter less */
    {"Иванова", "Иваного", 2},  /* two letters replaced */
    {"Иванова", "Ивонова", 1},  /* one replaced */
    {"Иванова", "Иванов", 1},   /* one letter less at the end */
    {"Иванова", "Сидорова", 2},
    {"Анна", "Яна", 2},
    {"", "", 0},
    {"А", "", 1},
};

static void
test_name_distances(void)
{
    for (size_t i = 0; i < sizeof name_cases / sizeof name_cases[0]; i++) {
        int got = identity_name_distance(name_cases[i].a, name_cases[i].b);
        if (got != name_cases[i].want)
            fprintf(stderr, "  %s / %s: %d, want %d\n", name_cases[i].a, name_cases[i].b, got,
                    name_cases[i].want);
        CHECK_INT(got, name_cases[i].want);
        CHECK_INT(identity_name_distance(name_cases[i].b, name_cases[i].a), name_cases[i].want);
    }
}

static void
test_normalize_bounds(void)
{
    uint32_t out[IDENTITY_NAME_MAX];

    CHECK_INT(identity_normalize("Иванова-Петрова", out, IDENTITY_NAME_MAX), 14);
    CHECK_INT(out[0], 0x0438);                           /* и */
    CHECK_INT(identity_normalize("Иванова", out, 3), 4); /* longer than max: max + 1 */
    CHECK_INT(identity_normalize("\xff", out, IDENTITY_NAME_MAX), IDENTITY_NAME_MAX + 1);
    CHECK_INT(identity_normalize(NULL, out, IDENTITY_NAME_MAX), 0);
}

static void
person(bson_t *b, const char *last, const char *first, const char *birth, const char *sex)
{
    bson_init(b);
    BSON_APPEND_UTF8(b, "last_name", last);
    BSON_APPEND_UTF8(b, "first_name", first);
    BSON_APPEND_UTF8(b, "birth_date", birth);
    BSON_APPEND_UTF8(b, "sex", sex);
}

typedef struct {
    const char *last, *first, *birth, *sex;
    unsigned want;
} person_case_t;

/* Each against Иванова Мария, 2015-03-14, F. */
static const person_case_t person_cases[] = {
    {"Иванова", "Мария", "2015-03-14", "F", 0},
    {"ИВАНОВА", "мария", "2015-03-14", "F", 0},
    {"Иванoва", "Мария", "2015-03-14", "F", 0}, /* Latin o */
    {"Иванова", "Марья", "2015-03-14", "F", 0}, /* one typo */
    {"Ивонова", "Мария", "2015-03-14", "F", 0}, /* one typo */
    {"Ивонова", "Марья", "2015-03-14", "F",     /* two typos, one in each name */
     IDENTITY_LAST_NAME | IDENTITY_FIRST_NAME},
    {"Иваного", "Мария", "2015-03-14", "F", IDENTITY_LAST_NAME}, /* two typos in one */
    {"Иванова", "Мария", "2015-03-15", "F", IDENTITY_BIRTH_DATE},
    {"Иванова", "Мария", "2015-03-14", "M", IDENTITY_SEX},
    {"Иванова-Петрова", "Анна", "2015-05-20", "F",
     IDENTITY_LAST_NAME | IDENTITY_FIRST_NAME | IDENTITY_BIRTH_DATE},
    {"Гарипова", "Алсу", "2008-04-11", "F",
     IDENTITY_LAST_NAME | IDENTITY_FIRST_NAME | IDENTITY_BIRTH_DATE},
};

static void
test_person_tolerance(void)
{
    bson_t stored, incoming;

    person(&stored, "Иванова", "Мария", "2015-03-14", "F");
    for (size_t i = 0; i < sizeof person_cases / sizeof person_cases[0]; i++) {
        const person_case_t *c = &person_cases[i];
        person(&incoming, c->last, c->first, c->birth, c->sex);
        CHECK_INT(identity_disagree(&stored, &incoming), c->want);
        CHECK_INT(identity_disagree(&incoming, &stored), c->want);
        bson_destroy(&incoming);
    }
    bson_destroy(&stored);
}

static void
test_changed_is_byte_for_byte(void)
{
    bson_t a, b;

    person(&a, "Иванова", "Мария", "2015-03-14", "F");
    person(&b, "Иванова", "Мария", "2015-03-14", "F");
    CHECK(!identity_changed(&a, &b));
    bson_destroy(&b);
    person(&b, "Иванoва", "Мария", "2015-03-14", "F"); /* the same person, another spelling */
    CHECK(identity_changed(&a, &b));
    CHECK(identity_disagree(&a, &b) == 0);
    bson_destroy(&b);
    bson_init(&b); /* no identity fields at all */
    CHECK(identity_changed(&a, &b));
    bson_destroy(&b);
    bson_destroy(&a);
}

static void
test_conflict_error(void)
{
    arena_t *arena = arena_new(0);
    kt_error_t err;

    kt_error_clear(&err);
    identity_conflict(&err, arena, IDENTITY_FIRST_NAME | IDENTITY_SEX,
                      "8f37c988-4ed5-49d1-af84-ae2b45996c4e");
    CHECK_INT(err.code, KT_IDENTITY_CONFLICT);
    CHECK_INT(err.status, 409);
    CHECK_STR(kt_code_name(err.code), "IDENTITY_CONFLICT");
    CHECK(strstr(err.message, "8f37c988-4ed5-49d1-af84-ae2b45996c4e") != NULL);
    CHECK(strstr(err.message_ru, "имя, пол") != NULL);
    CHECK(strstr(err.message, "first name, sex") != NULL);
    CHECK_INT(err.nfields, 2);
    CHECK_STR(err.fields->pointer, "/first_name");
    CHECK_STR(err.fields->next->pointer, "/sex");
    CHECK(strstr(err.fields->message, "8f37c988") != NULL);
    identity_conflict(&err, arena, IDENTITY_BIRTH_DATE, NULL); /* not the principal's to see */
    CHECK(strstr(err.message, "8f37") == NULL);
    CHECK_INT(err.nfields, 1);
    CHECK_STR(err.fields->pointer, "/birth_date");
    CHECK_STR(identity_field_title(IDENTITY_BIRTH_DATE), "birth date");
    CHECK_STR(identity_field_pointer(IDENTITY_LAST_NAME), "/last_name");
    arena_free(arena);
}

int
main(void)
{
    CHECK_RUN(test_name_distances);
    CHECK_RUN(test_normalize_bounds);
    CHECK_RUN(test_person_tolerance);
    CHECK_RUN(test_changed_is_byte_for_byte);
    CHECK_RUN(test_conflict_error);
    CHECK_MAIN_END();
}
