/*
 * test_names: the folded Latin form and the consonant skeleton of names
 * (model/names.h) as tables — the spellings of one name that must meet, the
 * names that must not — and the capped edit distance.
 */
#include <string.h>

#include "model/names.h"
#include "tests/unit/check.h"

typedef struct {
    const char *name, *want;
} form_case_t;

static const form_case_t latin_cases[] = {
    {"Иванова", "ivanova"},
    {"Ivanova", "ivanova"},
    {"IVANOVA", "ivanova"},
    {"Мария", "maria"},
    {"Maria", "maria"},
    {"Mariya", "maria"},
    {"Михаил", "mikail"},
    {"Mikhail", "mikail"},
    {"Mihail", "mikail"},
    {"Ксения", "ksenia"},
    {"Xenia", "ksenia"},
    {"Kseniya", "ksenia"},
    {"Юлия", "iulia"},
    {"Julia", "iulia"},
    {"Yulia", "iulia"},
    {"Сергей", "sergei"},
    {"Sergey", "sergei"},
    {"Наталья", "natalia"},
    {"Natalya", "natalia"},
    {"Фёдоров", "fedorov"},
    {"Федоров", "fedorov"},
    {"Кириллов", "kirilov"},
    {"Kirilov", "kirilov"},
    {"Хабибуллин", "kabibulin"},
    {"Habibullin", "kabibulin"},
    {"Щукин", "scukin"},
    {"Цой", "tsoi"},
    {"Ильин", "ilin"},
    {"Гайнуллина-Петрова", "gainulinapetrova"},
    {"Ивaнoвa", "ivanova"}, /* Latin look-alikes in a Cyrillic name */
    {"Әлиева", "alieva"},
    {"Wladimir", "vladimir"},
    {"", ""},
};

static const form_case_t skeleton_cases[] = {
    {"Иванова", "vnv"},  {"Ivanova", "vnv"},   {"Ивонова", "vnv"}, /* a vowel typo */
    {"Мария", "mr"},     {"Mariya", "mr"},     {"Семёнов", "smnv"},
    {"Semenov", "smnv"}, {"Semyonov", "smnv"}, {"Ия", ""},
};

static void
test_latin(void)
{
    char out[NAMES_LATIN_MAX];

    for (size_t i = 0; i < sizeof latin_cases / sizeof *latin_cases; i++) {
        size_t n = names_latin(latin_cases[i].name, out);
        CHECK_STR(out, latin_cases[i].want);
        CHECK_INT(n, strlen(latin_cases[i].want));
    }
}

static void
test_skeleton(void)
{
    char out[NAMES_LATIN_MAX];

    for (size_t i = 0; i < sizeof skeleton_cases / sizeof *skeleton_cases; i++) {
        names_skeleton(skeleton_cases[i].name, out);
        CHECK_STR(out, skeleton_cases[i].want);
    }
}

/* Different names stay different: the key is coarse, not blind. */
static void
test_different(void)
{
    char a[NAMES_LATIN_MAX], b[NAMES_LATIN_MAX];

    names_skeleton("Иванова", a);
    names_skeleton("Петрова", b);
    CHECK(strcmp(a, b) != 0);
    names_skeleton("Анна", a);
    names_skeleton("Алёна", b);
    CHECK(strcmp(a, b) != 0);
}

/* Not UTF-8, or longer than NAMES_MAX letters: an empty form, not a crash
 * or a cut that could meet another name's form. (A name of NAMES_MAX + 1
 * letters wrote past the decoder's buffer when the code was in
 * service/identity.c.) */
static void
test_bounds(void)
{
    char out[NAMES_LATIN_MAX], longname[4 * NAMES_MAX + 8];

    CHECK_INT(names_latin("Ив\xff", out), 0);
    CHECK_STR(out, "");
    memset(longname, 'a', NAMES_MAX + 1);
    longname[NAMES_MAX + 1] = '\0';
    CHECK_INT(names_latin(longname, out), 0);
    for (size_t i = 0; i < NAMES_MAX; i++)
        memcpy(longname + 2 * i, "щ", 2); /* the longest transliteration */
    longname[2 * NAMES_MAX] = '\0';
    CHECK_INT(names_latin(longname, out), 2 * NAMES_MAX); /* "shch" folds to "sc" */
    CHECK_INT(names_latin(NULL, out), 0);
}

static void
test_distance(void)
{
    CHECK_INT(names_distance("ivanova", "ivanova", 3), 0);
    CHECK_INT(names_distance("ivanova", "ivanva", 3), 1);
    CHECK_INT(names_distance("ivanova", "ivonova", 3), 1);
    CHECK_INT(names_distance("ivanova", "ivanvoa", 3), 1); /* two neighbours swapped */
    CHECK_INT(names_distance("maria", "mraia", 3), 1);
    CHECK_INT(names_distance("abcd", "badc", 3), 2);
    CHECK_INT(names_distance("ivanova", "petrova", 3), 3); /* capped */
    CHECK_INT(names_distance("", "abc", 3), 3);
    CHECK_INT(names_distance("", "", 3), 0);
    CHECK_INT(names_distance("ab", "ba", 1), 1);
}

int
main(void)
{
    CHECK_RUN(test_latin);
    CHECK_RUN(test_skeleton);
    CHECK_RUN(test_different);
    CHECK_RUN(test_bounds);
    CHECK_RUN(test_distance);
    CHECK_MAIN_END();
}
