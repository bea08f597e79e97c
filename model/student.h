/*
 * student: the phase-1 student model — one declared field table drives
 * validation and normalisation (docs/data-model.md, DATA-MODEL.md).
 *
 * Input is a parsed JSON tree (core/json.h); output is the normalised BSON
 * document the store keeps, fields in table order, absent optional fields
 * omitted. Every field error is collected with its JSON Pointer (RFC 6901)
 * before failing, as 422 VALIDATION with err->fields. Unknown fields are
 * UNKNOWN_FIELD; an object or array where a scalar belongs (e.g.
 * {"$gt": ""}) is FORMAT, so nothing from a body ever reaches the store as
 * an operator or a field name. The server-assigned members "id", "version"
 * and "state" are accepted and ignored, so a client may PUT back what it GOT.
 */
#ifndef KT_STUDENT_H
#define KT_STUDENT_H

#include <bson/bson.h>
#include <stdbool.h>

#include "core/arena.h"
#include "core/error.h"
#include "core/json.h"
#include "model/fields.h"

/* Limits of one student document (docs/data-model.md "Limits"). */
#define STUDENT_DOCUMENTS_MAX       20
#define STUDENT_ADDRESSES_MAX       10
#define STUDENT_REPRESENTATIVES_MAX 10
#define STUDENT_COUNTRIES_MAX       5

/*
 * Validates body and appends the normalised fields to out (an initialised,
 * empty bson_t). today is "YYYY-MM-DD", the upper bound of dates. On failure
 * returns false, err = 422 KT_VALIDATION with the field list (allocated in
 * arena), and out holds garbage the caller destroys.
 */
bool student_from_json(arena_t *arena, const json_value_t *body, const char *today, bson_t *out,
                       kt_error_t *err);

/* The lookup keys of a normalised student: its СНИЛС ("" when none) and the
 * claim keys of its documents, "TYPE|SERIES|NUMBER" (student_doc_claim_key),
 * up to max. Returns the number of document keys. Strings are allocated in
 * arena. */
size_t student_keys(arena_t *arena, const bson_t *doc, const char **snils, const char **doc_keys,
                    size_t max);

/* The claim key of a document, "TYPE|SERIES|NUMBER" with every part
 * normalised as a person reads it: upper case, the Cyrillic letters that look
 * like Latin ones as Latin, fullwidth forms as ASCII, spaces, hyphens, dashes
 * and format characters (zero-width, bidi marks) dropped. In arena; NULL when
 * it is out of memory. */
const char *student_doc_claim_key(arena_t *arena, const char *type, const char *series,
                                  const char *number);

/* The student's field table (an OBJECT row): model/xmlio_tree.c and
 * xmlio_write.c read and write XML by its xml names. */
extern const field_t student_root;

#endif
