/* utf8: strict UTF-8 checks (no overlongs, no surrogates, nothing past U+10FFFF). */
#ifndef KT_UTF8_H
#define KT_UTF8_H

#include <stdbool.h>
#include <stddef.h>

/* Length of the valid UTF-8 sequence at s (1..4), or 0 when it is invalid. */
size_t utf8_char_len(const char *s, size_t avail);

/* True when all len bytes are valid UTF-8 and none is NUL. */
bool utf8_valid(const char *s, size_t len);

#endif
