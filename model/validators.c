/*
 * validators: the check-digit algorithms of СНИЛС, ОГРН and ИНН, the shapes
 * of КПП and ОКТМО, and calendar dates. Each is a pure function over a
 * NUL-terminated string; the rules are quoted in ../shared/research/federal.md §3.
 */
#include "model/validators.h"

#include <string.h>

/* СНИЛС numbers up to 001-001-998 were issued before the check number existed. */
#define SNILS_UNCHECKED_MAX 1001998L

static bool
val_is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* True when the first n bytes of s are ASCII digits (stops at the NUL). */
static bool
val_digits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (!val_is_digit(s[i]))
            return false;
    }
    return true;
}

/* True when s is exactly n digits. */
static bool
val_all_digits(const char *s, size_t n)
{
    return s != NULL && strlen(s) == n && val_digits(s, n);
}

bool
snils_normalize(const char *in, char out[12])
{
    size_t len = in != NULL ? strlen(in) : 0;
    bool ok = false;

    out[0] = '\0';
    if (len == 11 && val_digits(in, 11)) {
        memcpy(out, in, 11);
        ok = true;
    } else if (len == 14 && in[3] == '-' && in[7] == '-' && in[11] == ' ' && val_digits(in, 3) &&
               val_digits(in + 4, 3) && val_digits(in + 8, 3) && val_digits(in + 12, 2)) {
        memcpy(out, in, 3);
        memcpy(out + 3, in + 4, 3);
        memcpy(out + 6, in + 8, 3);
        memcpy(out + 9, in + 12, 2);
        ok = true;
    }
    out[ok ? 11 : 0] = '\0';
    return ok;
}

bool
snils_checksum_ok(const char digits[11])
{
    long number = 0;
    int sum = 0, check;

    if (!val_digits(digits, 11))
        return false;
    for (int i = 0; i < 9; i++) {
        number = number * 10 + (digits[i] - '0');
        sum += (digits[i] - '0') * (9 - i);
    }
    if (number <= SNILS_UNCHECKED_MAX)
        return true;
    if (sum < 100)
        check = sum;
    else if (sum <= 101)
        check = 0;
    else
        check = sum % 101 == 100 ? 0 : sum % 101;
    return check == (digits[9] - '0') * 10 + (digits[10] - '0');
}

/* The remainder of the decimal number in the first n digits of s, digit by
 * digit, so that a 14-digit prefix needs no 64-bit arithmetic. */
static int
val_mod(const char *s, size_t n, int m)
{
    int r = 0;

    for (size_t i = 0; i < n; i++)
        r = (r * 10 + (s[i] - '0')) % m;
    return r;
}

bool
ogrn_valid(const char *s)
{
    if (val_all_digits(s, 13))
        return val_mod(s, 12, 11) % 10 == s[12] - '0';
    if (val_all_digits(s, 15))
        return val_mod(s, 14, 13) % 10 == s[14] - '0';
    return false;
}

/* Σ w[i]·d[i] mod 11 mod 10: the check digit of ИНН over n weights. */
static int
val_inn_check(const char *s, const int *w, size_t n)
{
    int sum = 0;

    for (size_t i = 0; i < n; i++)
        sum += w[i] * (s[i] - '0');
    return sum % 11 % 10;
}

bool
inn_valid(const char *s)
{
    static const int w10[] = {2, 4, 10, 3, 5, 9, 4, 6, 8};
    static const int w11[] = {7, 2, 4, 10, 3, 5, 9, 4, 6, 8};
    static const int w12[] = {3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8};

    if (val_all_digits(s, 10))
        return val_inn_check(s, w10, 9) == s[9] - '0';
    if (val_all_digits(s, 12))
        return val_inn_check(s, w11, 10) == s[10] - '0' && val_inn_check(s, w12, 11) == s[11] - '0';
    return false;
}

bool
kpp_valid(const char *s)
{
    if (s == NULL || strlen(s) != 9 || !val_digits(s, 4) || !val_digits(s + 6, 3))
        return false;
    for (int i = 4; i < 6; i++) {
        if (!val_is_digit(s[i]) && !(s[i] >= 'A' && s[i] <= 'Z'))
            return false;
    }
    return true;
}

bool
oktmo_valid(const char *s)
{
    return val_all_digits(s, 8) || val_all_digits(s, 11);
}

static bool
val_leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int
val_days_in_month(int y, int m)
{
    static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

    return m == 2 && val_leap(y) ? 29 : days[m - 1];
}

/* Reads n digits of s as a number; the caller checked they are digits. */
static int
val_number(const char *s, size_t n)
{
    int v = 0;

    for (size_t i = 0; i < n; i++)
        v = v * 10 + (s[i] - '0');
    return v;
}

bool
date_parse(const char *s, int *y, int *m, int *d)
{
    int yy = 0, mm = 0, dd = 0;
    bool ok = false;

    if (s == NULL || strlen(s) != 10 || s[4] != '-' || s[7] != '-' || !val_digits(s, 4) ||
        !val_digits(s + 5, 2) || !val_digits(s + 8, 2))
        goto done;
    yy = val_number(s, 4);
    mm = val_number(s + 5, 2);
    dd = val_number(s + 8, 2);
    /* Year 0000 does not exist in the civil calendar ISO 8601 dates of people use. */
    ok = yy >= 1 && mm >= 1 && mm <= 12 && dd >= 1 && dd <= val_days_in_month(yy, mm);
done:
    if (!ok)
        yy = mm = dd = 0;
    if (y != NULL)
        *y = yy;
    if (m != NULL)
        *m = mm;
    if (d != NULL)
        *d = dd;
    return ok;
}

/* Fixed-width ISO dates order the same way as their bytes. */
int
date_compare(const char *a, const char *b)
{
    int c = memcmp(a, b, 10);

    return (c > 0) - (c < 0);
}
