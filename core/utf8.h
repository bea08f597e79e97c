/* utf8: strict UTF-8 checks (no overlongs, no surrogates, nothing past U+10FFFF). */
#ifndef KT_UTF8_H
#define KT_UTF8_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Length of the valid UTF-8 sequence at s (1..4), or 0 when it is invalid. */
size_t utf8_char_len(const char *s, size_t avail);

/* True when all len bytes are valid UTF-8 and none is NUL. */
bool utf8_valid(const char *s, size_t len);

/* The one rule for free text a person typed and the registry stores (a
 * field of a record, the reason of a write, the purpose of a read, a token's
 * subject): false for a control character (C0 with NUL, DEL, C1) and for the
 * invisible bidirectional formatting characters (U+061C, U+200E, U+200F,
 * U+202A..U+202E, U+2066..U+2069) that make text display otherwise than it
 * is stored (U+202E shows a приказ number reversed). */
bool utf8_cp_is_text(uint32_t cp);

/* Decodes the valid sequence at s (utf8_char_len bytes) into *cp; 0 when it
 * is invalid. */
size_t utf8_decode(const char *s, size_t avail, uint32_t *cp);

/* True when all len bytes are valid UTF-8 and every character passes
 * utf8_cp_is_text; *chars (nullable) is the number of characters. */
bool utf8_text_valid(const char *s, size_t len, size_t *chars);

#endif
