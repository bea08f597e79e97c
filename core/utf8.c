/* utf8: the decoder of RFC 3629, table-free. */
#include "core/utf8.h"

size_t
utf8_char_len(const char *str, size_t avail)
{
    const unsigned char *s = (const unsigned char *)str;
    unsigned cp;
    size_t n;

    if (avail == 0)
        return 0;
    if (s[0] < 0x80)
        return 1;
    if (s[0] >= 0xc2 && s[0] <= 0xdf) {
        n = 2;
        cp = s[0] & 0x1f;
    } else if (s[0] >= 0xe0 && s[0] <= 0xef) {
        n = 3;
        cp = s[0] & 0x0f;
    } else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
        n = 4;
        cp = s[0] & 0x07;
    } else {
        return 0;
    }
    if (avail < n)
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3f);
    }
    if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10ffff ||
        (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return n;
}

bool
utf8_valid(const char *s, size_t len)
{
    size_t i = 0;

    while (i < len) {
        if (s[i] == '\0')
            return false;
        size_t n = utf8_char_len(s + i, len - i);
        if (n == 0)
            return false;
        i += n;
    }
    return true;
}

size_t
utf8_decode(const char *str, size_t avail, uint32_t *cp)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t n = utf8_char_len(str, avail);
    static const unsigned char lead_mask[5] = {0, 0x7f, 0x1f, 0x0f, 0x07};

    *cp = 0;
    if (n == 0)
        return 0;
    *cp = s[0] & lead_mask[n];
    for (size_t i = 1; i < n; i++)
        *cp = (*cp << 6) | (s[i] & 0x3f);
    return n;
}

bool
utf8_cp_is_text(uint32_t cp)
{
    if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f))
        return false;
    if (cp == 0x061c || cp == 0x200e || cp == 0x200f)
        return false;
    return !(cp >= 0x202a && cp <= 0x202e) && !(cp >= 0x2066 && cp <= 0x2069);
}

bool
utf8_text_valid(const char *s, size_t len, size_t *chars)
{
    size_t i = 0, n = 0;

    if (chars != NULL)
        *chars = 0;
    while (i < len) {
        uint32_t cp;
        size_t step = utf8_decode(s + i, len - i, &cp);
        if (step == 0 || !utf8_cp_is_text(cp))
            return false;
        i += step;
        n++;
    }
    if (chars != NULL)
        *chars = n;
    return true;
}
