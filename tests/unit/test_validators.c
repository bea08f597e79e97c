/*
 * test_validators: СНИЛС (shapes, every branch of the check number, the
 * numbers issued before it existed), ОГРН and ОГРНИП, ИНН, КПП, ОКТМО and
 * calendar dates. Check digits below were computed by hand from the rules in
 * federal.md §3 (sums given in the comments) or are public registry numbers.
 */
#include <string.h>

#include "model/calendar.h"
#include "model/validators.h"
#include "tests/unit/check.h"

/* normalize + checksum, as the student model uses them. */
static bool
snils_ok(const char *in)
{
    char digits[12];

    return snils_normalize(in, digits) && snils_checksum_ok(digits);
}

static void
test_snils_normalize(void)
{
    char out[12];

    CHECK(snils_normalize("112-233-445 95", out));
    CHECK_STR(out, "11223344595");
    CHECK(snils_normalize("11223344595", out));
    CHECK_STR(out, "11223344595");

    static const char *const bad[] = {"",
                                      "1122334459",
                                      "112233445950",
                                      "112-233-44595",
                                      "112 233 445 95",
                                      "112-233-445-95",
                                      "112-233-445  95",
                                      " 112-233-445 95",
                                      "112-233-445 95 ",
                                      "1122334459a",
                                      "112-23a-445 95",
                                      "112_233_445 95",
                                      "１１２-233-445 95",
                                      "+1122334459",
                                      "112-233-445 9",
                                      NULL};
    for (size_t i = 0; bad[i] != NULL; i++) {
        CHECK(!snils_normalize(bad[i], out));
        CHECK_STR(out, "");
    }
    CHECK(!snils_normalize(NULL, out));
}

static void
test_snils_checksum(void)
{
    /* The worked example of the source: s = 95 < 100, check = 95. */
    CHECK(snils_ok("112-233-445 95"));
    CHECK(!snils_ok("112-233-445 94"));
    CHECK(!snils_ok("112-233-445 05"));
    /* s < 100: 001-002-000 → 1·7 + 2·4 = 15, just above the threshold. */
    CHECK(snils_ok("00100200015"));
    CHECK(!snils_ok("00100200016"));
    /* s = 100 → 00. 001-326-679: 1·7+3·6+2·5+6·4+6·3+7·2+9·1 = 100. */
    CHECK(snils_ok("00132667900"));
    CHECK(!snils_ok("00132667999"));
    CHECK(!snils_ok("00132667901"));
    /* s = 101 → 00. 001-508-816: 7+5·6+8·4+8·3+1·2+6 = 101. */
    CHECK(snils_ok("00150881600"));
    CHECK(!snils_ok("00150881601"));
    /* s > 101: 001-168-299 → s = 108, 108 mod 101 = 7. */
    CHECK(snils_ok("001-168-299 07"));
    CHECK(!snils_ok("001-168-299 08"));
    /* s mod 101 = 100 → 00. 017-996-174: s = 201. */
    CHECK(snils_ok("01799617400"));
    CHECK(!snils_ok("017-996-174 99"));
    /* A larger one for the mod branch: 999-999-999 → s = 405, 405 mod 101 = 1. */
    CHECK(snils_ok("99999999901"));
    CHECK(!snils_ok("99999999900"));
}

static void
test_snils_unchecked(void)
{
    /* Numbers at or below 001-001-998 have no check number: anything goes. */
    CHECK(snils_ok("001-001-998 00"));
    CHECK(snils_ok("001-001-998 99"));
    CHECK(snils_ok("00100199812"));
    CHECK(snils_ok("000-000-000 00"));
    CHECK(snils_ok("000-000-001 77"));
    CHECK(snils_ok("00000999999"));
    /* 001-001-999 is the first number checked: 1·7 + 1·4 + 9·3 + 9·2 + 9·1 = 65. */
    CHECK(snils_ok("00100199965"));
    CHECK(!snils_ok("00100199900"));
    /* Non-digits never pass, whatever the number. */
    CHECK(!snils_checksum_ok("0010019980a"));
    CHECK(!snils_checksum_ok("00100a99800"));
}

static void
test_ogrn(void)
{
    /* 1027700132195 (ПАО Сбербанк): 102770013219 mod 11 = 5. */
    CHECK(ogrn_valid("1027700132195"));
    CHECK(!ogrn_valid("1027700132194"));
    CHECK(!ogrn_valid("1027700132196"));
    /* 1027739609391 (ПАО «Аэрофлот»): 102773960939 mod 11 = 1. */
    CHECK(ogrn_valid("1027739609391"));
    /* A prefix whose remainder is 10 has check digit 0: 100000000000 mod 11 = 10. */
    CHECK(ogrn_valid("1000000000000"));
    CHECK(!ogrn_valid("1000000000001"));
    /* ОГРНИП: 30450012345678 mod 13 = 3. */
    CHECK(ogrn_valid("304500123456783"));
    CHECK(!ogrn_valid("304500123456784"));
    /* Shapes. */
    CHECK(!ogrn_valid(""));
    CHECK(!ogrn_valid(NULL));
    CHECK(!ogrn_valid("102770013219"));
    CHECK(!ogrn_valid("10277001321950"));
    CHECK(!ogrn_valid("1027700132195 "));
    CHECK(!ogrn_valid("10277OO132195"));
    CHECK(!ogrn_valid("3045001234567830"));
}

static void
test_inn(void)
{
    /* 7707083893 (ПАО Сбербанк). */
    CHECK(inn_valid("7707083893"));
    CHECK(!inn_valid("7707083894"));
    /* A weighted sum that is 10 mod 11 gives check digit 0 (mod 10), not 10. */
    CHECK(inn_valid("7707083950"));
    CHECK(!inn_valid("7707083951"));
    /* The ИНН of the organisations in xsd/samples/packet-organizations.xml. */
    CHECK(inn_valid("1654001117"));
    CHECK(inn_valid("1650012340"));
    /* A person's ИНН: both check digits. */
    CHECK(inn_valid("500100732259"));
    CHECK(!inn_valid("500100732258")); /* the second digit wrong */
    CHECK(!inn_valid("500100732269")); /* the first digit wrong */
    CHECK(!inn_valid(""));
    CHECK(!inn_valid(NULL));
    CHECK(!inn_valid("77070838"));
    CHECK(!inn_valid("77070838931"));
    CHECK(!inn_valid("770708389a"));
}

static void
test_kpp(void)
{
    CHECK(kpp_valid("773601001"));
    CHECK(kpp_valid("7736AB001"));
    CHECK(kpp_valid("77360Z001"));
    CHECK(!kpp_valid("7736ab001"));
    CHECK(!kpp_valid("77360100"));
    CHECK(!kpp_valid("7736010010"));
    CHECK(!kpp_valid("A73601001"));
    CHECK(!kpp_valid("7736010A1"));
    CHECK(!kpp_valid("7736АБ001")); /* Cyrillic letters are not the Latin ones */
    CHECK(!kpp_valid("7736 B001"));
    CHECK(!kpp_valid("77360-001"));
    CHECK(!kpp_valid(""));
    CHECK(!kpp_valid(NULL));
}

static void
test_oktmo(void)
{
    CHECK(oktmo_valid("45382000"));
    CHECK(oktmo_valid("45382000001"));
    CHECK(!oktmo_valid("4538200"));
    CHECK(!oktmo_valid("453820000"));
    CHECK(!oktmo_valid("4538200000"));
    CHECK(!oktmo_valid("453820000012"));
    CHECK(!oktmo_valid("4538200O"));
    CHECK(!oktmo_valid(NULL));
}

static void
test_date_parse(void)
{
    int y = -1, m = -1, d = -1;

    CHECK(date_parse("2024-02-29", &y, &m, &d));
    CHECK_INT(y, 2024);
    CHECK_INT(m, 2);
    CHECK_INT(d, 29);
    CHECK(date_parse("2000-02-29", NULL, NULL, NULL));  /* divisible by 400 */
    CHECK(!date_parse("1900-02-29", NULL, NULL, NULL)); /* by 100, not by 400 */
    CHECK(!date_parse("2023-02-29", &y, &m, &d));
    CHECK_INT(y, 0);
    CHECK_INT(m, 0);
    CHECK_INT(d, 0);
    CHECK(date_parse("2023-02-28", NULL, NULL, NULL));
    CHECK(!date_parse("2026-13-01", NULL, NULL, NULL));
    CHECK(!date_parse("2026-00-10", NULL, NULL, NULL));
    CHECK(!date_parse("2026-04-31", NULL, NULL, NULL));
    CHECK(date_parse("2026-12-31", NULL, NULL, NULL));
    CHECK(!date_parse("2026-01-00", NULL, NULL, NULL));
    CHECK(!date_parse("2026-01-32", NULL, NULL, NULL));
    /* A range is the caller's business: the shape and the day are fine. */
    CHECK(date_parse("1899-12-31", &y, &m, &d));
    CHECK_INT(y, 1899);
    CHECK(!date_parse("0000-01-01", NULL, NULL, NULL));
    CHECK(date_parse("9999-12-31", NULL, NULL, NULL));
    /* Shapes. */
    static const char *const bad[] = {"",           "2024-2-29",   "2024-02-9",   "24-02-29",
                                      "2024/02/29", "2024-02-29 ", " 2024-02-29", "2024-02-29T00",
                                      "20240229",   "2024-0a-29",  "+024-02-29",  "2024--2-29",
                                      NULL};
    for (size_t i = 0; bad[i] != NULL; i++)
        CHECK(!date_parse(bad[i], NULL, NULL, NULL));
    CHECK(!date_parse(NULL, &y, NULL, NULL));
}

static void
test_date_compare_today(void)
{
    char today[11];
    int y, m, d;

    CHECK_INT(date_compare("2024-02-29", "2024-02-29"), 0);
    CHECK_INT(date_compare("2024-02-28", "2024-02-29"), -1);
    CHECK_INT(date_compare("2025-01-01", "2024-12-31"), 1);
    CHECK_INT(date_compare("1900-01-01", "1899-12-31"), 1);
    date_today(today);
    CHECK_INT(strlen(today), 10);
    CHECK(date_parse(today, &y, &m, &d));
    CHECK(y >= 2024);
}

int
main(void)
{
    CHECK_RUN(test_snils_normalize);
    CHECK_RUN(test_snils_checksum);
    CHECK_RUN(test_snils_unchecked);
    CHECK_RUN(test_ogrn);
    CHECK_RUN(test_inn);
    CHECK_RUN(test_kpp);
    CHECK_RUN(test_oktmo);
    CHECK_RUN(test_date_parse);
    CHECK_RUN(test_date_compare_today);
    CHECK_MAIN_END();
}
