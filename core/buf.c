/* buf: geometric growth, capped; JSON string escaping lives here too. */
#include "core/buf.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/utf8.h"

void
buf_init(buf_t *b, size_t cap)
{
    memset(b, 0, sizeof *b);
    b->cap = cap;
}

void
buf_release(buf_t *b)
{
    free(b->data);
    memset(b, 0, sizeof *b);
}

char *
buf_detach(buf_t *b, size_t *len)
{
    char *p = b->data;
    size_t cap = b->cap;

    if (len != NULL)
        *len = b->len;
    memset(b, 0, sizeof *b);
    b->cap = cap;
    return p;
}

void
buf_clear(buf_t *b)
{
    b->len = 0;
    b->overflow = false;
    if (b->data != NULL)
        b->data[0] = '\0';
}

static bool
buf_reserve(buf_t *b, size_t extra)
{
    size_t need = b->len + extra + 1;

    if (need < b->len || (b->cap != 0 && b->len + extra > b->cap)) {
        b->overflow = true;
        return false;
    }
    if (need <= b->alloc)
        return true;
    size_t n = b->alloc ? b->alloc : 256;
    while (n < need)
        n = n > SIZE_MAX / 2 ? need : n * 2;
    char *p = realloc(b->data, n);
    if (p == NULL) {
        b->overflow = true;
        return false;
    }
    b->data = p;
    b->alloc = n;
    return true;
}

bool
buf_append(buf_t *b, const void *data, size_t len)
{
    if (b->overflow || !buf_reserve(b, len))
        return false;
    if (len > 0)
        memcpy(b->data + b->len, data, len);
    b->len += len;
    b->data[b->len] = '\0';
    return true;
}

bool
buf_puts(buf_t *b, const char *s)
{
    return buf_append(b, s, strlen(s));
}

bool
buf_putc(buf_t *b, char c)
{
    return buf_append(b, &c, 1);
}

bool
buf_printf(buf_t *b, const char *fmt, ...)
{
    va_list ap;
    char small[256];
    int n;

    va_start(ap, fmt);
    n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0)
        return false;
    if ((size_t)n < sizeof small)
        return buf_append(b, small, (size_t)n);
    if (b->overflow || !buf_reserve(b, (size_t)n))
        return false;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return true;
}

bool
buf_json_string(buf_t *b, const char *s, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    size_t i = 0;

    buf_putc(b, '"');
    while (i < len) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x80) {
            size_t n = utf8_char_len(s + i, len - i);
            if (n == 0) {
                buf_puts(b, "\\ufffd");
                i++;
            } else {
                buf_append(b, s + i, n);
                i += n;
            }
            continue;
        }
        if (c == '"' || c == '\\') {
            char esc[2] = {'\\', (char)c};
            buf_append(b, esc, 2);
        } else if (c < 0x20 || c == 0x7f) {
            char esc[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
            buf_append(b, esc, 6);
        } else {
            buf_putc(b, (char)c);
        }
        i++;
    }
    return buf_putc(b, '"');
}
