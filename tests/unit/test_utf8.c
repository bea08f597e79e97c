/*
 * test_utf8: the strict decoder accepts exactly RFC 3629 UTF-8: every
 * boundary of each length is checked, and overlongs, surrogates, code points
 * past U+10FFFF, stray continuation bytes and truncated sequences are not.
 */
#include <string.h>

#include "core/utf8.h"
#include "tests/unit/check.h"

/* A byte sequence and the length utf8_char_len must report for it (0: invalid). */
typedef struct {
    const char *bytes;
    size_t avail;
    size_t want;
} utf8_case_t;

static const utf8_case_t valid_cases[] = {
    {"\x00", 1, 1}, /* NUL is a character; utf8_valid is what refuses it */
    {"A", 1, 1},
    {"\x7f", 1, 1},
    {"\xc2\x80", 2, 2},         /* U+0080, the first two-byte character */
    {"\xd0\x96", 2, 2},         /* U+0416 */
    {"\xdf\xbf", 2, 2},         /* U+07FF */
    {"\xe0\xa0\x80", 3, 3},     /* U+0800 */
    {"\xe2\x82\xac", 3, 3},     /* U+20AC */
    {"\xed\x9f\xbf", 3, 3},     /* U+D7FF, just below the surrogates */
    {"\xee\x80\x80", 3, 3},     /* U+E000, just above them */
    {"\xef\xbf\xbd", 3, 3},     /* U+FFFD */
    {"\xef\xbf\xbf", 3, 3},     /* U+FFFF */
    {"\xf0\x90\x80\x80", 4, 4}, /* U+10000 */
    {"\xf0\x9f\x98\x80", 4, 4}, /* U+1F600 */
    {"\xf4\x8f\xbf\xbf", 4, 4}, /* U+10FFFF, the last code point */
    {"A\xff", 2, 1},            /* only the first character is measured */
    {"\xc3\xa9\xff", 3, 2},
};

static const utf8_case_t invalid_cases[] = {
    {"", 0, 0},
    {"A", 0, 0},
    /* Stray continuation bytes and bytes that never start a sequence. */
    {"\x80", 1, 0},
    {"\xbf", 1, 0},
    {"\xc0\x80", 2, 0},
    {"\xc1\xbf", 2, 0},
    {"\xf5\x80\x80\x80", 4, 0},
    {"\xf8\x88\x80\x80\x80", 5, 0},
    {"\xfc\x84\x80\x80\x80\x80", 6, 0},
    {"\xfe", 1, 0},
    {"\xff", 1, 0},
    /* Overlong forms. */
    {"\xe0\x80\x80", 3, 0},
    {"\xe0\x9f\xbf", 3, 0},
    {"\xf0\x80\x80\x80", 4, 0},
    {"\xf0\x8f\xbf\xbf", 4, 0},
    /* UTF-16 surrogates encoded as UTF-8 (CESU-8 and lone halves). */
    {"\xed\xa0\x80", 3, 0},
    {"\xed\xad\xbf", 3, 0},
    {"\xed\xb0\x80", 3, 0},
    {"\xed\xbf\xbf", 3, 0},
    /* Past U+10FFFF. */
    {"\xf4\x90\x80\x80", 4, 0},
    {"\xf4\xbf\xbf\xbf", 4, 0},
    /* Continuation bytes that are not continuation bytes. */
    {"\xc3\x28", 2, 0},
    {"\xc3\xc3", 2, 0},
    {"\xe2\x28\xa1", 3, 0},
    {"\xe2\x82\x28", 3, 0},
    {"\xf0\x28\x8c\xbc", 4, 0},
    {"\xf0\x9f\x98\x28", 4, 0},
    /* Truncated: by the end of the bytes, or by avail though more bytes follow. */
    {"\xc3", 1, 0},
    {"\xe2\x82", 2, 0},
    {"\xf0\x9f\x98", 3, 0},
    {"\xc3\xa9", 1, 0},
    {"\xe2\x82\xac", 2, 0},
    {"\xf0\x9f\x98\x80", 3, 0},
};

static void
check_cases(const utf8_case_t *cases, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        size_t got = utf8_char_len(cases[i].bytes, cases[i].avail);
        if (got != cases[i].want) {
            fprintf(stderr, "  case %zu: utf8_char_len gave %zu, want %zu\n", i, got,
                    cases[i].want);
            check_failures_in_test++;
        }
    }
}

static void
test_char_len_valid(void)
{
    check_cases(valid_cases, sizeof valid_cases / sizeof valid_cases[0]);
}

static void
test_char_len_invalid(void)
{
    check_cases(invalid_cases, sizeof invalid_cases / sizeof invalid_cases[0]);
}

/* Every lead byte: which start a sequence, and how long it is. */
static void
test_lead_bytes(void)
{
    for (int c = 0; c < 256; c++) {
        char s[4] = {(char)c, '\x90', '\x80', '\x80'};
        size_t want;
        if (c < 0x80)
            want = 1;
        else if (c < 0xc2)
            want = 0;
        else if (c < 0xe0)
            want = 2;
        else if (c < 0xf0)
            want = c == 0xe0 ? 0 : 3; /* e0 90 80 is overlong; ed 90 80 is U+D400 */
        else if (c < 0xf5)
            want = c == 0xf4 ? 0 : 4; /* f4 90: past U+10FFFF */
        else
            want = 0;
        CHECK_INT(utf8_char_len(s, 4), want);
    }
}

static void
test_valid(void)
{
    CHECK(utf8_valid("", 0));
    CHECK(utf8_valid("plain ASCII", 11));
    CHECK(utf8_valid("\xd0\x9a\xd0\xbe\xd0\xbd\xd1\x82\xd0\xb8\xd0\xbd\xd0\xb3\xd0\xb5\xd0\xbd\xd1"
                     "\x82 \xe2\x82\xac \xf0\x9f\x98\x80",
                     29));
    CHECK(utf8_valid("abc\xff", 3));
    CHECK(!utf8_valid("a\0b", 3));
    CHECK(!utf8_valid("\0", 1));
    CHECK(!utf8_valid("abc\xff", 4));
    CHECK(!utf8_valid("ok\xc3", 3));
    CHECK(!utf8_valid("\xc3\xa9", 1));
    CHECK(!utf8_valid("x\xed\xa0\x80y", 5));
    CHECK(!utf8_valid("\xc0\xaf", 2));
    CHECK(!utf8_valid("\xf4\x90\x80\x80", 4));
}

/* The text rule: what a person may type into a stored free text. */
static void
test_text(void)
{
    size_t chars = 99;

    CHECK(utf8_text_valid("\xd0\xbf\xd1\x80\xd0\xb8\xd0\xba\xd0\xb0\xd0\xb7 \xe2\x84\x96 45", 19,
                          &chars));
    CHECK_INT(chars, 11);
    CHECK(utf8_text_valid("", 0, &chars));
    CHECK_INT(chars, 0);
    CHECK(
        utf8_text_valid("\xc2\xa0\xe2\x80\x8b\xf0\x9f\x98\x80", 9, NULL)); /* NBSP, ZWSP, U+1F600 */
    CHECK(!utf8_text_valid("a\tb", 3, NULL));
    CHECK(!utf8_text_valid("a\0b", 3, NULL));
    CHECK(!utf8_text_valid("a\x7f", 2, NULL));          /* DEL */
    CHECK(!utf8_text_valid("\xc2\x80", 2, NULL));       /* U+0080, C1 */
    CHECK(!utf8_text_valid("\xc2\x9f", 2, NULL));       /* U+009F, C1 */
    CHECK(utf8_text_valid("\xc2\xa0", 2, NULL));        /* U+00A0, after C1 */
    CHECK(!utf8_text_valid("45\xe2\x80\xae", 5, NULL)); /* U+202E RIGHT-TO-LEFT OVERRIDE */
    CHECK(!utf8_text_valid("\xe2\x80\xaa", 3, NULL));   /* U+202A */
    CHECK(utf8_text_valid("\xe2\x80\xa9", 3, NULL));    /* U+2029, before the range */
    CHECK(utf8_text_valid("\xe2\x80\xaf", 3, NULL));    /* U+202F, after it */
    CHECK(!utf8_text_valid("\xe2\x81\xa6", 3, NULL));   /* U+2066 */
    CHECK(!utf8_text_valid("\xe2\x81\xa9", 3, NULL));   /* U+2069 */
    CHECK(utf8_text_valid("\xe2\x81\xa5", 3, NULL));    /* U+2065 */
    CHECK(!utf8_text_valid("\xe2\x80\x8e", 3, NULL));   /* U+200E LRM */
    CHECK(!utf8_text_valid("\xe2\x80\x8f", 3, NULL));   /* U+200F RLM */
    CHECK(!utf8_text_valid("\xd8\x9c", 2, NULL));       /* U+061C ALM */
    CHECK(!utf8_text_valid("ok\xc3", 3, &chars));
    CHECK_INT(chars, 0);
}

int
main(void)
{
    CHECK_RUN(test_char_len_valid);
    CHECK_RUN(test_char_len_invalid);
    CHECK_RUN(test_lead_bytes);
    CHECK_RUN(test_valid);
    CHECK_RUN(test_text);
    CHECK_MAIN_END();
}
