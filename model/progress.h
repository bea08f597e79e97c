/*
 * progress: a student's current progress (текущая успеваемость) for one
 * academic year — marks per subject per attestation period and absences per
 * period (docs/progress.md). One declared field table (model/fields.h), so
 * JSON and the <Progress> items of packages are validated by the same rows.
 *
 * The document the store keeps (members in this order):
 *   student_id    the student (uuid), from the path or the item's attribute
 *   year          "2026-2027": the academic year
 *   organization  the school (ОГРН) the student belonged to at the write
 *   grade         1..11, the class the student attends that year
 *   scheme        QUARTERS | TRIMESTERS | HALF_YEARS: the school's periods
 *   marks         [{subject, period, mark[, reason]}]: one per (subject, period)
 *   absences      [{period, days, lessons[, days_illness, lessons_illness]}]
 * student_id and organization are server-assigned (accepted and ignored in
 * a body); year, when a body carries it, must be the one of the path.
 */
#ifndef KT_PROGRESS_H
#define KT_PROGRESS_H

#include <bson/bson.h>
#include <stdbool.h>

#include "core/arena.h"
#include "core/error.h"
#include "core/json.h"
#include "model/fields.h"

/* Bounds (docs/progress.md, "Bounds"). */
#define PROGRESS_MARKS_MAX    400  /* marks of one student in one year */
#define PROGRESS_ABSENCES_MAX 5    /* one per period: Q1..Q4 and the year */
#define PROGRESS_DAYS_MAX     250  /* days missed in one period */
#define PROGRESS_LESSONS_MAX  2000 /* lessons missed in one period */
#define PROGRESS_GRADE_MIN    1
#define PROGRESS_GRADE_MAX    11
#define PROGRESS_YEAR_LEN     9 /* "2026-2027" */

/* What a mark says for the reports. */
typedef enum {
    PROGRESS_MARK_NUMERIC = 0, /* "1".."5": value */
    PROGRESS_MARK_PASS,        /* зачтено */
    PROGRESS_MARK_FAIL,        /* не зачтено */
    PROGRESS_MARK_NA,          /* не аттестован */
    PROGRESS_MARK__MAX
} progress_mark_kind_t;

/* The subject codes (NULL-terminated), with their Russian names in the same
 * order; the period schemes and their periods. */
extern const char *const progress_subjects[];
extern const char *const progress_subject_names[];
extern const char *const progress_schemes[];
extern const char *const progress_periods[];

/* The progress table (an OBJECT row), for model/xmlio_tree.c. */
extern const field_t progress_root;

/* "2026-2027": two consecutive years from 2000 on. */
bool progress_year_valid(const char *year);

/* The academic year a date ("YYYY-MM-DD") falls in: from 1 September on,
 * the one that starts ("2026-09-01" → "2026-2027", "2027-05-31" →
 * "2026-2027"). False for a date that is not one. */
bool progress_year_of(const char *date, char out[PROGRESS_YEAR_LEN + 1]);

/* Whether period belongs to scheme ("Y", the year's mark, to every one). */
bool progress_period_in_scheme(const char *scheme, const char *period);

/*
 * Validates body and writes the stored document to out (initialised,
 * empty): student_id, year (the path's; a body's "year" must equal it) and
 * organization first, then the validated members. On failure false with
 * err = 422 KT_VALIDATION and its field list (in arena); out holds garbage
 * the caller destroys.
 */
bool progress_from_json(arena_t *arena, const json_value_t *body, const char *student_id,
                        const char *year, const char *organization, bson_t *out, kt_error_t *err);

/*
 * The merge of a PATCH (or a package item) into the current document: a
 * tree of cur with the body's grade and scheme, each body mark replacing
 * the current one of the same (subject, period) or added, each body absence
 * replacing the one of its period or added. cur NULL: the body itself. The
 * result (in arena) is then validated by progress_from_json. NULL when out
 * of memory.
 */
json_value_t *progress_merge(arena_t *arena, const bson_t *cur, const json_value_t *body);

/* The kind and, for a numeric mark, its value (1..5). */
progress_mark_kind_t progress_mark_kind(const char *mark, int *value);

#endif
