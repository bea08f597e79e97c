/*
 * msg: the one catalogue of texts a person reads (docs/i18n.md).
 *
 * A text is named by its English printf format, as gettext names a message
 * by its msgid: the code keeps `kt_error_set(err, d, c, "no such student")`
 * and the compiler checks its arguments against the English format; the
 * catalogue gives the Russian format with the same conversions in the same
 * order (tests/unit/test_msg.c). Errors are formatted in both languages when
 * they are set (core/error.c), and the answer picks one by Accept-Language.
 * scripts/msgcheck fails the lint when a text at a message call is not in
 * the catalogue, or a Russian literal lives outside it.
 */
#ifndef KT_MSG_H
#define KT_MSG_H

#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>

typedef struct {
    const char *en; /* the key: the English printf format */
    const char *ru; /* the Russian format, the same conversions in the same order */
} kt_msg_t;

/* The name of a value of a code list ("sex", "M" → "мужской" / "male"). */
typedef struct {
    const char *list;
    const char *code;
    const char *en;
    const char *ru;
} kt_msg_code_t;

/* The name of code in list, in the language asked for; NULL when the
 * catalogue has none. */
const char *kt_msg_code(const char *list, const char *code, bool en);

/* The code catalogue's entries, for tests. */
size_t kt_msg_code_count(void);
const kt_msg_code_t *kt_msg_code_at(size_t i);

/* printf of a catalogue format in English (en) or Russian, into out. */
void kt_msg_format(bool en, char *out, size_t cap, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* The Russian format for an English one, or NULL when the catalogue has none. */
const char *kt_msg_ru(const char *en);

/* The text in the language asked for: en itself when en is true or when the
 * catalogue has no Russian for it (the lint keeps that from happening). */
const char *kt_msg(const char *en, bool want_en);

/* The catalogue's entries, for tests. */
size_t kt_msg_count(void);
const kt_msg_t *kt_msg_at(size_t i);

/* Formats the Russian text of the English format fmt into out (cap bytes,
 * cut at a whole UTF-8 character). A %s argument that is itself a text of
 * the catalogue is put in Russian too, so a message may name another
 * ("%s: not a valid value" with "the student's data"). */
void kt_msg_vformat_ru(char *out, size_t cap, const char *fmt, va_list ap);
void kt_msg_format_ru(char *out, size_t cap, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The conversions of a printf format, one letter each and in order ("sd"
 * for "%s … %lld"), the length modifiers kept ("sld"); false when the
 * format has a conversion this module does not know or more than fit. */
bool kt_msg_conversions(const char *fmt, char *out, size_t cap);

#endif
