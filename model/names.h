/*
 * names: the comparable forms of a person's name, shared by identity
 * matching (service/identity.h) and the duplicate search's blocking keys
 * (store/record.c, service/duplicates.h; docs/duplicates.md).
 *
 * names_normalize is the form identity matching compares: case, ё/е,
 * hyphens, spaces and apostrophes do not count, nor do Latin look-alikes in
 * a Cyrillic name. names_latin goes further, so that a Cyrillic name and
 * its Latin spelling meet: the normalised name transliterated to Latin and
 * folded over the usual variants of transliteration (й/y/j, х/kh/h, x/ks,
 * doubled letters). names_skeleton keeps only the consonants of that form:
 * the blocking key's part, which a changed vowel does not move.
 */
#ifndef KT_MODEL_NAMES_H
#define KT_MODEL_NAMES_H

#include <stddef.h>
#include <stdint.h>

/* Code points kept of a normalised name; the model allows 100 characters. */
#define NAMES_MAX 128

/* Bytes of a Latin form or skeleton, NUL included (a Cyrillic letter gives
 * at most four Latin ones: щ → shch). */
#define NAMES_LATIN_MAX (4 * NAMES_MAX + 1)

/*
 * The comparable form of a name into out (at most max code points): lower
 * case, ё → е, no hyphens, spaces or apostrophes, and — when the name has a
 * Cyrillic letter — the Latin look-alikes (a, c, e, o, p, x, y and the
 * capitals A B C E H K M O P T X Y) as the Cyrillic letters they imitate.
 * Returns the length; a name that is not valid UTF-8 or longer than max
 * code points returns max + 1 (never equal to a normal name's length).
 */
size_t names_normalize(const char *name, uint32_t *out, size_t max);

/* The folded Latin form of a name into out (size NAMES_LATIN_MAX), ASCII
 * lower case: "Мария", "Maria" and "Mariya" give "maria"; "Михаил" and
 * "Mikhail" give "mikail". A name that is not valid UTF-8 or too long gives
 * "". Returns the length. */
size_t names_latin(const char *name, char *out);

/* The consonants of names_latin(name) (a, e, i, o, u dropped), into out
 * (size NAMES_LATIN_MAX): "Иванова" and "Ivanova" give "vnv". Returns the
 * length. */
size_t names_skeleton(const char *name, char *out);

/* The edit distance of two strings, capped at cap: letters replaced, added,
 * left out, and two neighbours swapped count one each (the optimal string
 * alignment distance). */
int names_distance(const char *a, const char *b, int cap);

#endif
