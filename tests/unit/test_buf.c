/*
 * test_buf: appending, growth, the cap and its sticky overflow flag,
 * detaching, and buf_json_string's escaping of every kind of byte.
 */
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "tests/unit/check.h"

static void
test_empty(void)
{
    buf_t b;

    buf_init(&b, 0);
    CHECK(b.data == NULL && b.len == 0 && !b.overflow);
    CHECK(buf_append(&b, "", 0));
    CHECK_STR(b.data, "");
    CHECK_INT(b.len, 0);
    buf_release(&b);
    CHECK(b.data == NULL && b.len == 0 && b.alloc == 0);
}

static void
test_append(void)
{
    buf_t b;

    buf_init(&b, 0);
    CHECK(buf_puts(&b, "abc"));
    CHECK(buf_putc(&b, '-'));
    CHECK(buf_append(&b, "x\0y", 3));
    CHECK_INT(b.len, 7);
    CHECK(memcmp(b.data, "abc-x\0y", 8) == 0);
    CHECK(buf_printf(&b, "|%d|%s|%05.2f", -12, "s", 2.5));
    CHECK_INT(b.len, 7 + 12);
    CHECK(memcmp(b.data + 7, "|-12|s|02.50", 13) == 0);
    CHECK(b.data[b.len] == '\0');
    buf_release(&b);
}

/* Growth keeps the bytes and the terminating NUL across many reallocations. */
static void
test_growth(void)
{
    buf_t b;
    int ok = 1;

    buf_init(&b, 0);
    for (int i = 0; i < 100000; i++)
        buf_putc(&b, (char)('a' + i % 26));
    CHECK_INT(b.len, 100000);
    CHECK(b.alloc > b.len);
    for (int i = 0; i < 100000; i++)
        ok &= b.data[i] == (char)('a' + i % 26);
    CHECK(ok);
    CHECK(b.data[b.len] == '\0');
    buf_release(&b);
}

/* A printf longer than the internal scratch takes the second path. */
static void
test_printf_long(void)
{
    buf_t b;
    char big[1000];

    memset(big, 'w', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    buf_init(&b, 0);
    buf_puts(&b, "<");
    CHECK(buf_printf(&b, "%s>", big));
    CHECK_INT(b.len, 1 + 999 + 1);
    CHECK(b.data[0] == '<' && b.data[1] == 'w' && b.data[999] == 'w' && b.data[1000] == '>');
    CHECK(b.data[b.len] == '\0');
    buf_release(&b);
}

/* Up to the cap is fine; past it the append is refused whole and flagged. */
static void
test_cap(void)
{
    buf_t b;

    buf_init(&b, 10);
    CHECK(buf_append(&b, "12345678", 8));
    CHECK(buf_append(&b, "90", 2));
    CHECK_INT(b.len, 10);
    CHECK(!b.overflow);
    CHECK(!buf_putc(&b, 'x'));
    CHECK(b.overflow);
    CHECK_INT(b.len, 10);
    CHECK_STR(b.data, "1234567890");
    buf_release(&b);

    buf_init(&b, 10);
    CHECK(buf_puts(&b, "1234"));
    CHECK(!buf_puts(&b, "5678901"));
    CHECK_STR(b.data, "1234");
    /* The flag is sticky: even what would fit is refused, so one check at the end does. */
    CHECK(!buf_putc(&b, '5'));
    CHECK(!buf_append(&b, "", 0));
    CHECK_STR(b.data, "1234");
    buf_release(&b);
}

static void
test_cap_printf(void)
{
    buf_t b;
    char big[600];

    memset(big, 'p', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    buf_init(&b, 100);
    CHECK(!buf_printf(&b, "%s", big));
    CHECK(b.overflow);
    CHECK_INT(b.len, 0);
    buf_release(&b);

    buf_init(&b, 5);
    CHECK(buf_printf(&b, "%d", 12345));
    CHECK(!buf_printf(&b, "%d", 6));
    CHECK_STR(b.data, "12345");
    buf_release(&b);
}

static void
test_cap_json_string(void)
{
    buf_t b;

    buf_init(&b, 8);
    CHECK(!buf_json_string(&b, "abcdefgh", 8));
    CHECK(b.overflow);
    CHECK(b.len <= 8);
    buf_release(&b);
}

static void
test_clear(void)
{
    buf_t b;

    buf_init(&b, 4);
    buf_puts(&b, "toolong");
    CHECK(b.overflow);
    buf_clear(&b);
    CHECK(!b.overflow);
    CHECK_INT(b.len, 0);
    CHECK(buf_puts(&b, "ok"));
    CHECK_STR(b.data, "ok");
    buf_release(&b);
}

static void
test_detach(void)
{
    buf_t b;
    size_t len = 0;
    char *p;

    buf_init(&b, 100);
    buf_puts(&b, "hand over");
    p = buf_detach(&b, &len);
    CHECK_STR(p, "hand over");
    CHECK_INT(len, 9);
    CHECK(b.data == NULL && b.len == 0 && b.alloc == 0);
    CHECK_INT(b.cap, 100);
    CHECK(buf_puts(&b, "again"));
    CHECK_STR(b.data, "again");
    free(p);
    buf_release(&b);

    buf_init(&b, 0);
    p = buf_detach(&b, NULL);
    CHECK(p == NULL);
}

/* Writes s (len bytes) through buf_json_string and compares with expect. */
static void
check_json_string(const char *s, size_t len, const char *expect)
{
    buf_t b;

    buf_init(&b, 0);
    CHECK(buf_json_string(&b, s, len));
    CHECK_STR(b.data, expect);
    buf_release(&b);
}

static void
test_json_string_plain(void)
{
    check_json_string("", 0, "\"\"");
    check_json_string("plain text", 10, "\"plain text\"");
    check_json_string("a/b", 3, "\"a/b\"");
    check_json_string("q\"b\\", 4, "\"q\\\"b\\\\\"");
    check_json_string("$gt", 3, "\"$gt\"");
}

static void
test_json_string_controls(void)
{
    check_json_string("\n\r\t\b\f", 5, "\"\\u000a\\u000d\\u0009\\u0008\\u000c\"");
    check_json_string("\x01\x1f", 2, "\"\\u0001\\u001f\"");
    check_json_string("a\0b", 3, "\"a\\u0000b\"");
    check_json_string("\x7f", 1, "\"\\u007f\"");
    check_json_string(" ~", 2, "\" ~\"");
}

static void
test_json_string_utf8(void)
{
    check_json_string("\xd0\xa1\xd0\x9d\xd0\x98\xd0\x9b\xd0\xa1", 10,
                      "\"\xd0\xa1\xd0\x9d\xd0\x98\xd0\x9b\xd0\xa1\"");
    check_json_string("\xe2\x82\xac", 3, "\"\xe2\x82\xac\"");
    check_json_string("\xf0\x9f\x98\x80", 4, "\"\xf0\x9f\x98\x80\"");
    check_json_string("\xf4\x8f\xbf\xbf", 4, "\"\xf4\x8f\xbf\xbf\"");
}

/* Each byte of an invalid sequence becomes one U+FFFD; valid neighbours stay. */
static void
test_json_string_invalid_utf8(void)
{
    check_json_string("\xff", 1, "\"\\ufffd\"");
    check_json_string("a\x80z", 3, "\"a\\ufffdz\"");
    check_json_string("\xc3", 1, "\"\\ufffd\"");
    check_json_string("\xc3(", 2, "\"\\ufffd(\"");
    check_json_string("\xc0\xaf", 2, "\"\\ufffd\\ufffd\"");
    check_json_string("\xe0\x80\xaf", 3, "\"\\ufffd\\ufffd\\ufffd\"");
    check_json_string("\xed\xa0\x80", 3, "\"\\ufffd\\ufffd\\ufffd\"");
    check_json_string("\xf4\x90\x80\x80", 4, "\"\\ufffd\\ufffd\\ufffd\\ufffd\"");
    check_json_string("\xe2\x82", 2, "\"\\ufffd\\ufffd\"");
    check_json_string("\xe2\x82\xac\xe2", 4, "\"\xe2\x82\xac\\ufffd\"");
    /* The length is honoured: a sequence cut by it is invalid. */
    check_json_string("\xe2\x82\xac", 2, "\"\\ufffd\\ufffd\"");
}

int
main(void)
{
    CHECK_RUN(test_empty);
    CHECK_RUN(test_append);
    CHECK_RUN(test_growth);
    CHECK_RUN(test_printf_long);
    CHECK_RUN(test_cap);
    CHECK_RUN(test_cap_printf);
    CHECK_RUN(test_cap_json_string);
    CHECK_RUN(test_clear);
    CHECK_RUN(test_detach);
    CHECK_RUN(test_json_string_plain);
    CHECK_RUN(test_json_string_controls);
    CHECK_RUN(test_json_string_utf8);
    CHECK_RUN(test_json_string_invalid_utf8);
    CHECK_MAIN_END();
}
