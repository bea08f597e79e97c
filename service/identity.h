/*
 * identity: is the person of an incoming student document the person a
 * stored record holds? A package item matched to a record by СНИЛС or by a
 * document, or sent with the record's id, may only update that record when
 * it describes the same child (issue 16; docs/xml-exchange.md, "Matching").
 *
 * The identity fields are last_name, first_name, birth_date and sex. Names
 * are compared normalised (identity_normalize): case, ё/е, hyphens, spaces
 * and apostrophes do not count, nor do Latin letters that look like Cyrillic
 * ones in a Cyrillic name. Between the normalised names one typo in all is
 * tolerated (edit distance 1: one letter replaced, added or left out, over
 * the surname and the first name together); the birth date and the sex must
 * be equal. The middle name is not compared (often missing or transliterated
 * otherwise).
 */
#ifndef KT_SERVICE_IDENTITY_H
#define KT_SERVICE_IDENTITY_H

#include <bson/bson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/error.h"
#include "model/names.h"

/* Code points kept of a normalised name; the model allows 100 characters. */
#define IDENTITY_NAME_MAX NAMES_MAX

/* The identity fields, as bits of a mask of disagreeing fields. */
typedef enum {
    IDENTITY_LAST_NAME = 1u << 0,
    IDENTITY_FIRST_NAME = 1u << 1,
    IDENTITY_BIRTH_DATE = 1u << 2,
    IDENTITY_SEX = 1u << 3,
} identity_field_t;

#define IDENTITY_FIELDS 4

/* The comparable form of a name into out: names_normalize (model/names.h),
 * kept under this name for identity matching. */
size_t identity_normalize(const char *name, uint32_t *out, size_t max);

/* The edit distance between the normalised a and b, capped: 0, 1, or 2 for
 * "two or more". */
int identity_name_distance(const char *a, const char *b);

/* The identity fields where incoming disagrees with stored beyond the
 * tolerance (a mask of identity_field_t; 0: the same person). */
unsigned identity_disagree(const bson_t *stored, const bson_t *incoming);

/* Whether doc changes any identity field of cur at all (as stored, byte for
 * byte): such a JSON write needs a reason and is recorded as an
 * "identity_change" (docs/api.md). */
bool identity_changed(const bson_t *cur, const bson_t *doc);

/* The JSON Pointer ("/last_name") and Russian name ("фамилия") of a field. */
const char *identity_field_pointer(identity_field_t f);
const char *identity_field_title(identity_field_t f);

/* 409 IDENTITY_CONFLICT for the fields of mask, one field error each (in
 * arena); the message names the record's id when id is not NULL (only for a
 * principal who may see the record). */
void identity_conflict(kt_error_t *err, arena_t *arena, unsigned mask, const char *id);

#endif
