/*
 * test_claim_keys: documents are claimed by a normalised key
 * (student_doc_claim_key, issue 12 item 16), so that spellings a person
 * reads as one document are one key, and different documents stay apart.
 */
#include "check.h"
#include "core/arena.h"
#include "model/student.h"

static arena_t *arena;

static const char *
key(const char *type, const char *series, const char *number)
{
    return student_doc_claim_key(arena, type, series, number);
}

static void
same(const char *series_a, const char *number_a, const char *series_b, const char *number_b)
{
    CHECK_STR(key("PASSPORT_FOREIGN", series_a, number_a),
              key("PASSPORT_FOREIGN", series_b, number_b));
}

static void
test_cyrillic_look_alikes_are_latin(void)
{
    same("АВ", "С123456", "AB", "C123456");
    same("ЕКМНОРТХУ", "1", "EKMHOPTXY", "1");
    same("ІЅЈ", "1", "ISJ", "1");
    CHECK_STR(key("PASSPORT_FOREIGN", "АВ", "С123456"), "PASSPORT_FOREIGN|AB|C123456");
}

static void
test_case_is_folded(void)
{
    same("ab", "c123456", "AB", "C123456");
    same("ав", "с123456", "AB", "C123456");
    same("жэ", "1", "ЖЭ", "1"); /* Cyrillic without a Latin twin: upper case, kept Cyrillic */
    CHECK_STR(key("OTHER", "ё", "1"), "OTHER|Ё|1");
}

static void
test_spaces_hyphens_and_format_characters_are_dropped(void)
{
    same("A B", "C 123 456", "AB", "C123456");
    same("A-B", "C-123456", "AB", "C123456");
    same("A\u00a0B", "C\u2013123456", "AB", "C123456");       /* no-break space, en dash */
    same("A\u200bB", "\u200dC123456\ufeff", "AB", "C123456"); /* zero-width, BOM */
    same("\u202eAB", "C12\u00ad3456", "AB", "C123456");       /* bidi override, soft hyphen */
    same("\uff21\uff22", "\uff23123456", "AB", "C123456");    /* fullwidth forms */
    same("\tA\nB ", "C123456", "AB", "C123456");
}

static void
test_different_documents_stay_apart(void)
{
    CHECK(strcmp(key("PASSPORT_FOREIGN", "AB", "C123456"),
                 key("PASSPORT_FOREIGN", "AB", "C123457")) != 0);
    CHECK(strcmp(key("PASSPORT_FOREIGN", "AB", "C123456"),
                 key("BIRTH_CERT_FOREIGN", "AB", "C123456")) != 0);
    CHECK(strcmp(key("OTHER", "Ж", "1"), key("OTHER", "X", "1")) != 0);
    CHECK(strcmp(key("OTHER", "Б", "1"), key("OTHER", "B", "1")) != 0);
    CHECK(strcmp(key("OTHER", "AB", "0"), key("OTHER", "AB", "O")) != 0); /* digits are digits */
}

static void
test_russian_documents_fold_the_same_way(void)
{
    CHECK_STR(key("BIRTH_CERT_RF", "IV-АМ", "123456"), "BIRTH_CERT_RF|IVAM|123456");
    CHECK_STR(key("BIRTH_CERT_RF", "IV АМ", "123456"), key("BIRTH_CERT_RF", "IV-AM", "123456"));
    CHECK_STR(key("PASSPORT_RF", "4510", "123456"), "PASSPORT_RF|4510|123456");
    CHECK_STR(key("OTHER", "", "1"), "OTHER||1");
}

int
main(void)
{
    arena = arena_new(0);
    CHECK_RUN(test_cyrillic_look_alikes_are_latin);
    CHECK_RUN(test_case_is_folded);
    CHECK_RUN(test_spaces_hyphens_and_format_characters_are_dropped);
    CHECK_RUN(test_different_documents_stay_apart);
    CHECK_RUN(test_russian_documents_fold_the_same_way);
    arena_free(arena);
    CHECK_MAIN_END();
}
