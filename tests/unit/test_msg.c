/* Unit tests of core/msg.c and its catalogue: both languages, the same
 * printf conversions, and errors formatted in both (docs/i18n.md). */
#include <string.h>

#include "check.h"
#include "core/arena.h"
#include "core/error.h"
#include "core/msg.h"

static bool
has_letter(const char *s)
{
    for (; *s; s++)
        if ((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (unsigned char)*s >= 0x80)
            return true;
    return false;
}

/* Every entry: an English key and a Russian text, both non-empty, the key
 * once, the Russian with the English one's conversions in the same order. */
static void
test_every_entry_has_both_languages(void)
{
    char en[64], ru[64];

    CHECK(kt_msg_count() > 200);
    for (size_t i = 0; i < kt_msg_count(); i++) {
        const kt_msg_t *m = kt_msg_at(i);
        bool ok = m->en != NULL && m->ru != NULL && has_letter(m->en) && has_letter(m->ru) &&
                  kt_msg_conversions(m->en, en, sizeof en) &&
                  kt_msg_conversions(m->ru, ru, sizeof ru) && strcmp(en, ru) == 0;
        if (!ok)
            fprintf(stderr, "catalogue entry %zu: \"%s\"\n", i, m->en ? m->en : "(null)");
        CHECK(ok);
        for (size_t j = 0; j < i; j++)
            CHECK(strcmp(kt_msg_at(j)->en, m->en) != 0);
    }
    CHECK(kt_msg_at(kt_msg_count()) == NULL);
}

static void
test_conversions(void)
{
    char out[32];

    CHECK(kt_msg_conversions("a %s b %lld c %zu%% %.*s %.200s", out, sizeof out));
    CHECK_STR(out, "slldzu*ss");
    CHECK(!kt_msg_conversions("%y", out, sizeof out));
    CHECK(!kt_msg_conversions("50%", out, sizeof out));
}

static void
test_lookup(void)
{
    CHECK_STR(kt_msg_ru("no such student"), "такого обучающегося нет");
    CHECK(kt_msg_ru("not in the catalogue") == NULL);
    CHECK_STR(kt_msg("no such student", true), "no such student");
    CHECK_STR(kt_msg("not in the catalogue", false), "not in the catalogue");
}

/* An error carries both texts; an argument that is a catalogue text is put
 * in Russian too; numbers and other strings stay as they are. */
static void
test_error_in_both_languages(void)
{
    kt_error_t err;

    kt_error_set(&err, KT_DOMAIN_INPUT, KT_VALIDATION, "%s (%zu errors)",
                 "The education event failed validation", (size_t)2);
    CHECK_STR(kt_error_message(&err, true), "The education event failed validation (2 errors)");
    /* The grammar of the issue: «Событие обучения не прошли проверку» no more. */
    CHECK_STR(kt_error_message(&err, false), "Событие обучения не прошло проверку (ошибок: 2)");
    kt_error_set(&err, KT_DOMAIN_INPUT, KT_MALFORMED, "limit must be 1..%d", 500);
    CHECK_STR(err.message_ru, "limit — от 1 до 500");
    kt_error_set(&err, KT_DOMAIN_INPUT, KT_MALFORMED, "%s must be a date, YYYY-MM-DD", "as_of");
    CHECK_STR(err.message_ru, "as_of — дата в виде ГГГГ-ММ-ДД");
    kt_error_set(&err, KT_DOMAIN_INPUT, KT_MALFORMED,
                 "If-Match names version %lld, the current one is %lld", 3LL, 4LL);
    CHECK_STR(err.message_ru, "If-Match называет версию 3, текущая — 4");
    /* A text outside the catalogue (a log-only message) stays English in both. */
    kt_error_set(&err, KT_DOMAIN_STORE, KT_INTERNAL, "sqlite: %s", "disk I/O error");
    CHECK_STR(err.message_ru, "sqlite: disk I/O error");
}

static void
test_russian_is_cut_at_a_character(void)
{
    char out[8];

    kt_msg_format_ru(out, sizeof out, "no such student");
    /* "такого" is 12 bytes: 7 fit, the last whole character ends at 6. */
    CHECK_STR(out, "так");
}

static void
test_field_messages(void)
{
    arena_t *a = arena_new(0);
    kt_error_t err;

    kt_error_clear(&err);
    CHECK(kt_error_add_field(&err, a, "/snils", KT_FORMAT, "SNILS: 11 digits or XXX-XXX-XXX YY"));
    CHECK(kt_error_add_fieldf(&err, a, "/name", KT_FORMAT, "At most %zu characters", (size_t)5));
    CHECK(kt_error_add_field(&err, a, "/x", KT_REQUIRED, NULL));
    CHECK_STR(kt_field_message(err.fields, false), "СНИЛС: 11 цифр или XXX-XXX-XXX YY");
    CHECK_STR(kt_field_message(err.fields, true), "SNILS: 11 digits or XXX-XXX-XXX YY");
    CHECK_STR(kt_field_message(err.fields->next, false), "Не более 5 символов");
    CHECK_STR(kt_field_message(err.fields->next, true), "At most 5 characters");
    CHECK_STR(kt_field_message(err.fields->next->next, false), "Не заполнено обязательное поле");
    CHECK_STR(kt_field_message(err.fields->next->next, true), "A mandatory field is missing");
    arena_free(a);
}

static void
test_wrap(void)
{
    kt_error_t inner, outer;

    kt_error_set(&inner, KT_DOMAIN_INPUT, KT_NOT_FOUND, "no such student");
    kt_error_wrap(&outer, KT_DOMAIN_INPUT, KT_NOT_FOUND, &inner,
                  "The package was not processed in %d attempts; the last error: ", 3);
    CHECK_STR(outer.message,
              "The package was not processed in 3 attempts; the last error: no such student");
    CHECK_STR(outer.message_ru,
              "Пакет не обработан (попыток: 3); последняя ошибка: такого обучающегося нет");
}

/* Every code name in both languages, each (list, code) once. */
static void
test_code_names(void)
{
    CHECK(kt_msg_code_count() > 100);
    for (size_t i = 0; i < kt_msg_code_count(); i++) {
        const kt_msg_code_t *c = kt_msg_code_at(i);
        CHECK(c->list[0] && c->code[0] && has_letter(c->en) && has_letter(c->ru));
        for (size_t j = 0; j < i; j++)
            CHECK(strcmp(kt_msg_code_at(j)->list, c->list) != 0 ||
                  strcmp(kt_msg_code_at(j)->code, c->code) != 0);
    }
    CHECK_STR(kt_msg_code("form", "FULL_TIME", false), "очная");
    CHECK_STR(kt_msg_code("form", "FULL_TIME", true), "full-time");
    CHECK(kt_msg_code("form", "NOPE", false) == NULL);
    CHECK(kt_msg_code_at(kt_msg_code_count()) == NULL);
}

int
main(void)
{
    CHECK_RUN(test_every_entry_has_both_languages);
    CHECK_RUN(test_conversions);
    CHECK_RUN(test_lookup);
    CHECK_RUN(test_error_in_both_languages);
    CHECK_RUN(test_russian_is_cut_at_a_character);
    CHECK_RUN(test_field_messages);
    CHECK_RUN(test_wrap);
    CHECK_RUN(test_code_names);
    CHECK_MAIN_END();
}
