/* msg: lookup in the catalogue (core/msg_catalogue.c) and the Russian formatting. */
#include "core/msg.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>

#include "core/utf8.h"

extern const kt_msg_t kt_msg_catalogue[];
extern const size_t kt_msg_catalogue_len;
extern const kt_msg_code_t kt_msg_code_catalogue[];
extern const size_t kt_msg_code_catalogue_len;

/* One conversion of a printf format, as far as this module reads them. */
typedef struct {
    char text[32]; /* "%-*.*lld" as written, '*' already replaced by numbers */
    size_t len;
    char length[3]; /* "", "h", "hh", "l", "ll", "z", "j", "t", "L" */
    char conv;      /* d i u o x X c s f e E g G p % */
} msg_spec_t;

size_t
kt_msg_count(void)
{
    return kt_msg_catalogue_len;
}

const kt_msg_t *
kt_msg_at(size_t i)
{
    return i < kt_msg_catalogue_len ? &kt_msg_catalogue[i] : NULL;
}

/* A linear search: errors are rare next to requests, and the catalogue has a
 * few hundred entries. */
const char *
kt_msg_ru(const char *en)
{
    if (en == NULL)
        return NULL;
    for (size_t i = 0; i < kt_msg_catalogue_len; i++)
        if (strcmp(kt_msg_catalogue[i].en, en) == 0)
            return kt_msg_catalogue[i].ru;
    return NULL;
}

const char *
kt_msg(const char *en, bool want_en)
{
    const char *ru = want_en ? NULL : kt_msg_ru(en);

    return ru != NULL ? ru : en;
}

static bool
msg_spec_put(msg_spec_t *s, char c)
{
    if (s->len + 1 >= sizeof s->text)
        return false;
    s->text[s->len++] = c;
    s->text[s->len] = '\0';
    return true;
}

/* Reads the conversion at p ('%'); *star counts the '*' met (their values
 * come from the arguments). Returns the byte after it, or NULL. */
static const char *
msg_spec_parse(const char *p, msg_spec_t *s, int *star)
{
    size_t n = 0;

    memset(s, 0, sizeof *s);
    *star = 0;
    msg_spec_put(s, *p++);
    while (*p != '\0' && strchr("-+ #0", *p) != NULL)
        msg_spec_put(s, *p++);
    for (int part = 0; part < 2; part++) {
        if (part == 1 && *p == '.')
            msg_spec_put(s, *p++);
        else if (part == 1)
            break;
        if (*p == '*') {
            (*star)++;
            msg_spec_put(s, *p++);
        }
        while (*p >= '0' && *p <= '9')
            if (!msg_spec_put(s, *p++))
                return NULL;
    }
    while (*p != '\0' && strchr("hlzjtL", *p) != NULL && n < 2) {
        s->length[n++] = *p;
        msg_spec_put(s, *p++);
    }
    if (*p == '\0' || strchr("diuoxXcsfeEgGp%", *p) == NULL || !msg_spec_put(s, *p))
        return NULL;
    s->conv = *p;
    return p + 1;
}

bool
kt_msg_conversions(const char *fmt, char *out, size_t cap)
{
    size_t k = 0;
    msg_spec_t s;
    int star;

    for (const char *p = fmt; *p != '\0';) {
        if (*p != '%') {
            p++;
            continue;
        }
        if ((p = msg_spec_parse(p, &s, &star)) == NULL)
            return false;
        if (s.conv == '%')
            continue;
        for (int i = 0; i < star; i++)
            if (k + 1 < cap)
                out[k++] = '*';
        for (const char *l = s.length; *l != '\0'; l++)
            if (k + 1 < cap)
                out[k++] = *l;
        if (k + 1 >= cap)
            return false;
        out[k++] = s.conv;
    }
    out[k] = '\0';
    return true;
}

/* Replaces the spec's '*'s by the numbers taken from the arguments. */
static void
msg_spec_stars(msg_spec_t *s, int star, va_list *ap)
{
    char text[sizeof s->text], num[16];
    size_t k = 0;

    if (star == 0)
        return;
    for (size_t i = 0; i < s->len; i++) {
        size_t n = 1;
        const char *piece = &s->text[i];
        if (s->text[i] == '*') {
            n = (size_t)snprintf(num, sizeof num, "%d", va_arg(*ap, int));
            piece = num;
        }
        if (k + n >= sizeof text)
            break;
        memcpy(text + k, piece, n);
        k += n;
    }
    text[k] = '\0';
    memcpy(s->text, text, k + 1);
    s->len = k;
}

static bool
msg_is(const msg_spec_t *s, const char *length)
{
    return strcmp(s->length, length) == 0;
}

/* The format is one of the catalogue's, checked by tests/unit/test_msg.c to
 * have the conversions of the English one, whose arguments the compiler
 * checked: the chunk and its argument agree. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
static int
msg_put_signed(char *out, size_t cap, const msg_spec_t *s, va_list *ap)
{
    if (msg_is(s, "l"))
        return snprintf(out, cap, s->text, va_arg(*ap, long));
    if (msg_is(s, "ll"))
        return snprintf(out, cap, s->text, va_arg(*ap, long long));
    if (msg_is(s, "z"))
        return snprintf(out, cap, s->text, va_arg(*ap, ssize_t));
    if (msg_is(s, "j"))
        return snprintf(out, cap, s->text, va_arg(*ap, intmax_t));
    if (msg_is(s, "t"))
        return snprintf(out, cap, s->text, va_arg(*ap, ptrdiff_t));
    return snprintf(out, cap, s->text, va_arg(*ap, int));
}

static int
msg_put_unsigned(char *out, size_t cap, const msg_spec_t *s, va_list *ap)
{
    if (msg_is(s, "l"))
        return snprintf(out, cap, s->text, va_arg(*ap, unsigned long));
    if (msg_is(s, "ll"))
        return snprintf(out, cap, s->text, va_arg(*ap, unsigned long long));
    if (msg_is(s, "z"))
        return snprintf(out, cap, s->text, va_arg(*ap, size_t));
    if (msg_is(s, "j"))
        return snprintf(out, cap, s->text, va_arg(*ap, uintmax_t));
    if (msg_is(s, "t"))
        return snprintf(out, cap, s->text, va_arg(*ap, ptrdiff_t));
    return snprintf(out, cap, s->text, va_arg(*ap, unsigned int));
}

static int
msg_put(char *out, size_t cap, const msg_spec_t *s, va_list *ap)
{
    const char *str;

    switch (s->conv) {
    case '%':
        return snprintf(out, cap, "%%");
    case 'd':
    case 'i':
        return msg_put_signed(out, cap, s, ap);
    case 'u':
    case 'o':
    case 'x':
    case 'X':
        return msg_put_unsigned(out, cap, s, ap);
    case 'c':
        return snprintf(out, cap, s->text, va_arg(*ap, int));
    case 's':
        str = va_arg(*ap, const char *);
        return snprintf(out, cap, s->text, str != NULL ? kt_msg(str, false) : "(null)");
    case 'p':
        return snprintf(out, cap, s->text, va_arg(*ap, void *));
    default:
        if (msg_is(s, "L"))
            return snprintf(out, cap, s->text, va_arg(*ap, long double));
        return snprintf(out, cap, s->text, va_arg(*ap, double));
    }
}
#pragma GCC diagnostic pop

/* Cuts s back to its last whole UTF-8 character. */
static void
msg_utf8_cut(char *s)
{
    size_t n = strlen(s), lead = n;

    while (lead > 0 && ((unsigned char)s[lead - 1] & 0xc0) == 0x80)
        lead--;
    if (lead > 0 && utf8_char_len(s + lead - 1, n - lead + 1) == 0)
        s[lead - 1] = '\0';
}

void
kt_msg_vformat_ru(char *out, size_t cap, const char *fmt, va_list ap)
{
    const char *p = kt_msg(fmt, false);
    size_t k = 0;
    msg_spec_t s;
    va_list args;
    int star, n;

    if (cap == 0)
        return;
    out[0] = '\0';
    va_copy(args, ap);
    while (*p != '\0' && k + 1 < cap) {
        if (*p != '%') {
            out[k++] = *p++;
            out[k] = '\0';
            continue;
        }
        if ((p = msg_spec_parse(p, &s, &star)) == NULL)
            break; /* a format the test would have refused */
        msg_spec_stars(&s, star, &args);
        n = msg_put(out + k, cap - k, &s, &args);
        if (n < 0)
            break;
        k += (size_t)n < cap - k ? (size_t)n : cap - k - 1;
    }
    va_end(args);
    out[k] = '\0';
    msg_utf8_cut(out);
}

void
kt_msg_format_ru(char *out, size_t cap, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    kt_msg_vformat_ru(out, cap, fmt, ap);
    va_end(ap);
}

void
kt_msg_format(bool en, char *out, size_t cap, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    if (en)
        vsnprintf(out, cap, fmt, ap);
    else
        kt_msg_vformat_ru(out, cap, fmt, ap);
    va_end(ap);
}

const char *
kt_msg_code(const char *list, const char *code, bool en)
{
    if (list == NULL || code == NULL)
        return NULL;
    for (size_t i = 0; i < kt_msg_code_catalogue_len; i++) {
        const kt_msg_code_t *c = &kt_msg_code_catalogue[i];
        if (strcmp(c->list, list) == 0 && strcmp(c->code, code) == 0)
            return en ? c->en : c->ru;
    }
    return NULL;
}

size_t
kt_msg_code_count(void)
{
    return kt_msg_code_catalogue_len;
}

const kt_msg_code_t *
kt_msg_code_at(size_t i)
{
    return i < kt_msg_code_catalogue_len ? &kt_msg_code_catalogue[i] : NULL;
}
