/* names: comparable forms of a person's name (model/names.h). */
#include "model/names.h"

#include <stdbool.h>
#include <string.h>

#include "core/utf8.h"

static bool
is_cyrillic(uint32_t cp)
{
    return cp >= 0x0400 && cp <= 0x04FF;
}

/* Characters that separate parts of a name and do not count. */
static bool
is_separator(uint32_t cp)
{
    return cp == ' ' || cp == '-' || cp == '\'' || cp == 0x2019 || cp == 0x2010 || cp == 0x2011;
}

/* The Cyrillic letter a Latin one imitates, or 0. Capitals are mapped before
 * lower-casing: "H" looks like "Н", "h" looks like nothing Cyrillic. */
static uint32_t
look_alike(uint32_t cp)
{
    static const char latin[] = "ABCEHKMOPTXYacepoxy";
    static const uint32_t cyrillic[] = {0x0430, 0x0432, 0x0441, 0x0435, 0x043D, 0x043A, 0x043C,
                                        0x043E, 0x0440, 0x0442, 0x0445, 0x0443, 0x0430, 0x0441,
                                        0x0435, 0x0440, 0x043E, 0x0445, 0x0443};
    const char *at = cp < 0x80 && cp != 0 ? strchr(latin, (int)cp) : NULL;

    return at != NULL ? cyrillic[at - latin] : 0;
}

/* Lower case of the letters a name may hold (Latin, Latin-1, Cyrillic with
 * its extensions: Tatar ә, ө, ү, җ, ң, һ), and ё as е. */
static uint32_t
lower(uint32_t cp)
{
    if ((cp >= 'A' && cp <= 'Z') || (cp >= 0xC0 && cp <= 0xDE && cp != 0xD7))
        return cp + 32;
    if (cp >= 0x0410 && cp <= 0x042F)
        return cp + 32;
    if (cp >= 0x0400 && cp <= 0x040F)
        cp += 80;
    if (((cp >= 0x0460 && cp <= 0x0481) || (cp >= 0x048A && cp <= 0x04BF) ||
         (cp >= 0x04D0 && cp <= 0x04FF)) &&
        cp % 2 == 0)
        return cp + 1;
    if (cp >= 0x04C1 && cp <= 0x04CE && cp % 2 == 1)
        return cp + 1;
    return cp == 0x0451 ? 0x0435 : cp;
}

/* Decodes name into cps; the count, or max + 1 when it does not fit or is
 * not UTF-8. *cyrillic tells whether a Cyrillic letter occurs. */
static size_t
decode(const char *name, uint32_t *cps, size_t max, bool *cyrillic)
{
    size_t len = strlen(name), n = 0;

    *cyrillic = false;
    for (size_t i = 0; i < len;) {
        size_t k = n < max ? utf8_decode(name + i, len - i, &cps[n]) : 0; /* room first */
        if (k == 0)
            return max + 1;
        *cyrillic = *cyrillic || is_cyrillic(cps[n]);
        i += k;
        n++;
    }
    return n;
}

size_t
names_normalize(const char *name, uint32_t *out, size_t max)
{
    uint32_t raw[NAMES_MAX];
    bool cyrillic = false;
    size_t n = decode(name != NULL ? name : "", raw, NAMES_MAX, &cyrillic), kept = 0;

    if (n > NAMES_MAX)
        return max + 1;
    for (size_t i = 0; i < n; i++) {
        uint32_t cp = raw[i], alike = cyrillic ? look_alike(cp) : 0;
        if (is_separator(cp))
            continue;
        if (kept == max)
            return max + 1;
        out[kept++] = lower(alike != 0 ? alike : cp);
    }
    return kept;
}

/* The Latin letters of a lower-case letter (ICAO-like for Cyrillic: х "kh",
 * ц "ts", щ "shch", ю "iu", я "ia"; Latin-1 without its accents), "" for
 * what has none (ъ, ь, marks, digits). */
static const char *
latin_of(uint32_t cp)
{
    static const char *const cyr[32] = {
        "a", "b", "v", "g", "d", "e",  "zh", "z",  "i",  "i",    "k", "l", "m", "n", "o",  "p",
        "r", "s", "t", "u", "f", "kh", "ts", "ch", "sh", "shch", "",  "y", "",  "e", "iu", "ia"};
    static const char *const lat1[32] = {"a", "a", "a", "a", "a", "a", "ae", "c", "e",  "e", "e",
                                         "e", "i", "i", "i", "i", "d", "n",  "o", "o",  "o", "o",
                                         "o", "",  "o", "u", "u", "u", "u",  "y", "th", "y"};
    static const struct {
        uint32_t cp;
        const char *latin;
    } more[] = {{0x0454, "e"}, {0x0456, "i"}, {0x0457, "i"},  {0x045E, "u"}, {0x04D9, "a"},
                {0x04E9, "o"}, {0x04AF, "u"}, {0x0497, "zh"}, {0x04A3, "n"}, {0x04BB, "h"},
                {0x0493, "g"}, {0x049B, "k"}, {0x04B1, "u"},  {0x00DF, "ss"}};

    static const char ascii[] =
        "a\0b\0c\0d\0e\0f\0g\0h\0i\0j\0k\0l\0m\0n\0o\0p\0q\0r\0s\0t\0u\0v\0w"
        "\0x\0y\0z";

    if (cp >= 'a' && cp <= 'z')
        return ascii + 2 * (cp - 'a');
    if (cp >= 0x0430 && cp <= 0x044F)
        return cyr[cp - 0x0430];
    if (cp >= 0xE0 && cp <= 0xFF)
        return lat1[cp - 0xE0];
    for (size_t i = 0; i < sizeof more / sizeof more[0]; i++)
        if (more[i].cp == cp)
            return more[i].latin;
    return "";
}

static bool
is_vowel(char c)
{
    return c == 'a' || c == 'e' || c == 'i' || c == 'o' || c == 'u';
}

/* Appends c to out unless it repeats the last letter (doubled letters are
 * spelt single: "Kirillov", "Kirilov"). */
static void
put_folded(char *out, size_t *n, char c)
{
    if (*n > 0 && out[*n - 1] == c)
        return;
    if (*n + 1 < NAMES_LATIN_MAX)
        out[(*n)++] = c;
}

/* One letter of the raw transliteration s at i, folded over the usual
 * spellings: y, j → i; w → v; q → k; x → ks; c → ts before e, i, y, c of
 * "ch" kept (ч), else k; h after a consonant dropped (kh, zh, ch, sh),
 * else k (х written "h"). */
static void
fold_one(const char *s, size_t i, char *out, size_t *n)
{
    char c = s[i], next = s[i + 1];

    switch (c) {
    case 'y':
    case 'j':
        put_folded(out, n, 'i');
        break;
    case 'w':
        put_folded(out, n, 'v');
        break;
    case 'q':
        put_folded(out, n, 'k');
        break;
    case 'x':
        put_folded(out, n, 'k');
        put_folded(out, n, 's');
        break;
    case 'c':
        if (next == 'h')
            put_folded(out, n, 'c');
        else if (next == 'e' || next == 'i' || next == 'y') {
            put_folded(out, n, 't');
            put_folded(out, n, 's');
        } else
            put_folded(out, n, 'k');
        break;
    case 'h':
        if (i == 0 || is_vowel(s[i - 1]) || s[i - 1] == 'y' || s[i - 1] == 'j')
            put_folded(out, n, 'k');
        break;
    default:
        put_folded(out, n, c);
    }
}

size_t
names_latin(const char *name, char *out)
{
    uint32_t cps[NAMES_MAX];
    char raw[NAMES_LATIN_MAX];
    size_t n = names_normalize(name, cps, NAMES_MAX), len = 0, kept = 0;

    out[0] = '\0';
    if (n > NAMES_MAX)
        return 0;
    for (size_t i = 0; i < n; i++) {
        const char *l = latin_of(cps[i]);
        size_t k = strlen(l);
        memcpy(raw + len, l, k); /* ≤ 4 bytes per code point: fits */
        len += k;
    }
    raw[len] = '\0';
    for (size_t i = 0; i < len; i++)
        fold_one(raw, i, out, &kept);
    out[kept] = '\0';
    return kept;
}

size_t
names_skeleton(const char *name, char *out)
{
    char latin[NAMES_LATIN_MAX];
    size_t n = names_latin(name, latin), kept = 0;

    for (size_t i = 0; i < n; i++)
        if (!is_vowel(latin[i]))
            out[kept++] = latin[i];
    out[kept] = '\0';
    return kept;
}

int
names_distance(const char *a, const char *b, int cap)
{
    size_t na = strlen(a), nb = strlen(b);
    int rows[3][NAMES_LATIN_MAX + 1]; /* row i at i % 3, with rows i - 1 and i - 2 */

    if (na > NAMES_LATIN_MAX || nb > NAMES_LATIN_MAX)
        return cap;
    if ((na > nb ? na - nb : nb - na) >= (size_t)cap)
        return cap;
    for (size_t j = 0; j <= nb; j++)
        rows[0][j] = (int)j;
    for (size_t i = 1; i <= na; i++) {
        int *two = rows[(i + 1) % 3], *up = rows[(i + 2) % 3], *row = rows[i % 3], least;
        row[0] = least = (int)i;
        for (size_t j = 1; j <= nb; j++) {
            int best = up[j - 1] + (a[i - 1] != b[j - 1]);
            if (up[j] + 1 < best)
                best = up[j] + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
                two[j - 2] + 1 < best) /* two letters swapped: one edit */
                best = two[j - 2] + 1;
            row[j] = best;
            least = best < least ? best : least;
        }
        if (least >= cap) /* every path is past the cap already */
            return cap;
    }
    return rows[na % 3][nb] < cap ? rows[na % 3][nb] : cap;
}
