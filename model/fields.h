/*
 * fields: the declared-field-table walker every model is validated by
 * (students, organisations, events). A model is a table of field_t rows;
 * fields_from_json() walks a parsed JSON tree against it once, turning it
 * into normalised BSON (trimmed strings, normalised codes, members in table
 * order, absent optional members omitted) and collecting every error with
 * its JSON Pointer (RFC 6901) as 422 KT_VALIDATION.
 *
 * The rules every model shares are here: unknown members are UNKNOWN_FIELD;
 * an object or array where a scalar belongs (e.g. {"$gt": ""}) is FORMAT,
 * so nothing from a body reaches the store as an operator or a field name;
 * control characters are FORMAT; strings are trimmed of outer spaces and an
 * optional string empty after trimming (or an optional empty array) counts
 * as absent; at most FIELDS_ERRORS_MAX errors are reported. The shape
 * checks that more than one model uses (dates, ОГРН, СНИЛС, ОКТМО, phone,
 * ...) are public below; a model's own checks and cross-member rules live
 * with its table.
 */
#ifndef KT_FIELDS_H
#define KT_FIELDS_H

#include <bson/bson.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/error.h"
#include "core/json.h"

#define FIELDS_ERRORS_MAX 100
#define FIELD_REQ         true
#define FIELD_OPT         false

typedef struct fields_ctx fields_ctx_t;
typedef struct field field_t;

typedef enum { FIELD_ABSENT = 0, FIELD_OK, FIELD_BAD } field_state_t;

/* The outcome for one member of an object: its normalised value when OK. */
typedef struct {
    field_state_t state;
    json_value_t *out;
} field_slot_t;

/* Checks (and may normalise in place) a trimmed, non-empty string; returns
 * KT_OK or the code to report, with *msg an English text of the catalogue (core/msg.h; NULL: the
 * title). */
typedef kt_code_t (*field_check_fn)(fields_ctx_t *cx, json_value_t *s, const char **msg);

/* A rule across the members of one object at ptr, given their slots (in
 * table order). */
typedef void (*field_rule_fn)(fields_ctx_t *cx, const char *ptr, field_slot_t *slots);

typedef enum {
    FIELD_T_END = 0,  /* ends a table */
    FIELD_T_ASSIGNED, /* server-assigned: accepted and skipped */
    FIELD_T_STRING,
    FIELD_T_ENUM,
    FIELD_T_OBJECT,
    FIELD_T_ARRAY,
    FIELD_T_INT,  /* a JSON integer within [min, max] */
    FIELD_T_BOOL, /* true or false */
    FIELD_T__MAX
} field_type_t;

/* An object that is a person: dates of its documents compare with its own birth date. */
#define FIELD_F_PERSON 1u

struct field {
    const char *name;
    const char *xml; /* the XML name (see "XML names" below), or NULL: not in the format */
    field_type_t type;
    bool required;
    size_t max;                /* characters, items of an ARRAY, or an INT's upper bound; 0: none */
    field_check_fn check;      /* STRING: shape check and normalisation, or NULL */
    const char *const *values; /* ENUM: the NULL-terminated list */
    const field_t *child;      /* OBJECT: member table; ARRAY: the item; ASSIGNED: see below */
    field_rule_fn rule;        /* OBJECT: rule across members, or NULL */
    unsigned flags;
    int64_t min; /* INT: the lower bound */
};

/*
 * One row of a table per line, in the words of its type (nginx comments every
 * slot of its module tables; here the macro names them):
 *   FIELD_STR(name, xml, required, max, check)
 *                                            a string of at most max characters
 *                                            (0: no bound), checked and normalised
 *                                            by check (NULL: none)
 *   FIELD_ENUM(name, xml, required, values)  one of values (NULL-terminated)
 *   FIELD_INT(name, xml, required, min, max) an integer in [min, max]
 *   FIELD_BOOL(name, xml, required)          true or false
 *   FIELD_OBJECT(name, xml, required, members, rule, flags)
 *                                            an object of the table members, rule
 *                                            across them (NULL: none), FIELD_F_*
 *   FIELD_ARRAY(name, xml, required, max, item)
 *                                            at most max items, each the row *item
 *   FIELD_ASSIGNED(name)                     server-assigned: accepted and skipped
 *   FIELD_ASSIGNED_AS(name, shape)           the same, with the row *shape saying
 *                                            what the server keeps there, for XML
 *   FIELD_END                                ends a table
 * required is FIELD_REQ or FIELD_OPT. Rows of array items and roots have no
 * name and are written with designated initialisers.
 *
 * XML names (model/xmlio_tree.c and xmlio_write.c read and write the
 * exchange by them, so the model is declared once; the order of a table is
 * the order of the XSD):
 *   "LastName"   a member is the element of that name, its text the value
 *                (INT: digits, BOOL: true/false); an OBJECT's element holds
 *                its members
 *   "@category"  a member is the attribute of that name of the object's
 *                element (attributes come first in a table)
 *   ARRAY        its xml names the container and the item row's xml each
 *                item: <Documents><Document/>…</Documents>; an item row
 *                without an xml name repeats the ARRAY's own element instead,
 *                with no container: <Country>643</Country><Country>…
 *   NULL         not part of the format (server-assigned members, whose
 *                XML is the item's envelope, xmlio_write_student's id/version)
 * A FIELD_ASSIGNED_AS row is skipped by the walker like any ASSIGNED one;
 * the reader and writer of XML follow its shape row (a student's education,
 * which only events change, model/education.h).
 */
#define FIELD_STR(n, x, req, mx, chk)                                                              \
    {                                                                                              \
        .name = (n), .xml = (x), .type = FIELD_T_STRING, .required = (req), .max = (mx),           \
        .check = (chk)                                                                             \
    }
#define FIELD_ENUM(n, x, req, vals)                                                                \
    {                                                                                              \
        .name = (n), .xml = (x), .type = FIELD_T_ENUM, .required = (req), .values = (vals)         \
    }
#define FIELD_INT(n, x, req, lo, hi)                                                               \
    {                                                                                              \
        .name = (n), .xml = (x), .type = FIELD_T_INT, .required = (req), .min = (lo), .max = (hi)  \
    }
#define FIELD_BOOL(n, x, req)                                                                      \
    {                                                                                              \
        .name = (n), .xml = (x), .type = FIELD_T_BOOL, .required = (req)                           \
    }
#define FIELD_OBJECT(n, x, req, members, rl, fl)                                                   \
    {                                                                                              \
        .name = (n), .xml = (x), .type = FIELD_T_OBJECT, .required = (req), .child = (members),    \
        .rule = (rl), .flags = (fl)                                                                \
    }
#define FIELD_ARRAY(n, x, req, mx, item)                                                           \
    {                                                                                              \
        .name = (n), .xml = (x), .type = FIELD_T_ARRAY, .required = (req), .max = (mx),            \
        .child = (item)                                                                            \
    }
#define FIELD_ASSIGNED(n)                                                                          \
    {                                                                                              \
        .name = (n), .type = FIELD_T_ASSIGNED, .required = FIELD_OPT                               \
    }
#define FIELD_ASSIGNED_AS(n, shape)                                                                \
    {                                                                                              \
        .name = (n), .type = FIELD_T_ASSIGNED, .required = FIELD_OPT, .child = (shape)             \
    }
#define FIELD_END                                                                                  \
    {                                                                                              \
        .type = FIELD_T_END                                                                        \
    }

struct fields_ctx {
    arena_t *arena;
    const char *today;
    const char *birth; /* the current person's normalised birth date, or NULL */
    kt_error_t fields; /* the field errors, moved into err at the end */
    size_t nerrors;    /* errors found, including those past the cap */
    bool oom;
};

/*
 * Validates body against root (an OBJECT row) and appends the normalised
 * members to out (an initialised, empty bson_t). today is "YYYY-MM-DD", the
 * upper bound of dates (NULL or invalid: the clock's). what is the
 * summary, a text of the catalogue ("The student's data failed validation",
 * followed by the count). On failure returns false,
 * err = 422 KT_VALIDATION with the field list (allocated in arena), and out
 * holds garbage the caller destroys.
 */
bool fields_from_json(arena_t *arena, const field_t *root, const json_value_t *body,
                      const char *today, const char *what, bson_t *out, kt_error_t *err);

/* Appends the members of a normalised tree (an OBJECT, as the walker or
 * codec_bson_to_tree() builds it: strings, integer literals, booleans,
 * objects, arrays) to out; false when BSON cannot hold it. */
bool fields_tree_to_bson(const json_value_t *obj, bson_t *out);

/* For models' checks and rules. */
/* msg: an English text of the catalogue (core/msg.h), NULL for the code's title. */
void fields_fail(fields_ctx_t *cx, const char *ptr, kt_code_t code, const char *msg);
/* The same with a printf format of the catalogue, formatted in both languages. */
void fields_failf(fields_ctx_t *cx, const char *ptr, kt_code_t code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
const char *fields_ptr(fields_ctx_t *cx, const char *ptr, const char *name);
const char *fields_ptr_index(fields_ctx_t *cx, const char *ptr, size_t i);
json_value_t *fields_node(fields_ctx_t *cx, json_type_t type);
bool fields_set(fields_ctx_t *cx, json_value_t *s, const char *text, size_t len);
json_value_t *fields_string_node(fields_ctx_t *cx, const char *text, size_t len);
void fields_append(json_value_t *parent, json_value_t **tail, json_value_t *child, const char *key);
/* Runs check over an OK slot; reports and marks it BAD on failure. */
void fields_recheck(fields_ctx_t *cx, const char *ptr, const char *name, field_slot_t *slot,
                    field_check_fn check);

/* Characters. */
#define FIELDS_BAD_CP UINT32_MAX
uint32_t fields_cp(const char *s, size_t len, size_t *i);
size_t fields_put_cp(char *out, uint32_t cp);
bool fields_digits(const json_value_t *s, size_t n);

/* Shared shape checks (field_check_fn). */
kt_code_t fields_check_name(fields_ctx_t *cx, json_value_t *s, const char **msg);
kt_code_t fields_check_date(fields_ctx_t *cx, json_value_t *s, const char **msg);
kt_code_t fields_check_birth_date(fields_ctx_t *cx, json_value_t *s, const char **msg);
kt_code_t fields_check_snils(fields_ctx_t *cx, json_value_t *s, const char **msg);
kt_code_t fields_check_ogrn(fields_ctx_t *cx, json_value_t *s, const char **msg);
kt_code_t fields_check_country(fields_ctx_t *cx, json_value_t *s, const char **msg);
kt_code_t fields_check_region(fields_ctx_t *cx, json_value_t *s, const char **msg);
kt_code_t fields_check_oktmo(fields_ctx_t *cx, json_value_t *s, const char **msg);
kt_code_t fields_check_fias(fields_ctx_t *cx, json_value_t *s, const char **msg);
kt_code_t fields_check_phone(fields_ctx_t *cx, json_value_t *s, const char **msg);
kt_code_t fields_check_email(fields_ctx_t *cx, json_value_t *s, const char **msg);

#endif
