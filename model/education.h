/*
 * education: a student's education history (the `education` member of the
 * student, /work/notes/education-contract.md) and the events that are the
 * only way to change it (docs/enrolment.md).
 *
 * Pure rules, no I/O: an event body is validated by a field table
 * (model/fields.h) into normalised BSON; a validated event is applied to a
 * stored student, giving the new student document (new `education`, and
 * `organization` moved by ENROLL/TRANSFER_IN of a main level) or every rule
 * error at once, as 422 VALIDATION with JSON Pointers into the event body.
 * Also here: the read-only rule of `education` in student bodies, and the
 * trajectory (a timeline derived from the episodes).
 */
#ifndef KT_EDUCATION_H
#define KT_EDUCATION_H

#include <bson/bson.h>
#include <stdbool.h>
#include <stdint.h>

#include "auth/principal.h"
#include "core/arena.h"
#include "core/error.h"
#include "core/json.h"
#include "model/fields.h"

#define EDUCATION_EPISODES_MAX  50  /* episodes of one student */
#define EDUCATION_EVENTS_MAX    200 /* events of one episode */
#define EDUCATION_ORDER_LAG_MAX 30  /* days an order may be dated after its event */
#define EDUCATION_GRADE_MAX     12

/* Validates an event body ({type, date, order, ...}) into out (an
 * initialised, empty bson_t): the per-type members it needs or must not
 * have, and the order's date. today bounds dates (NULL: the clock's). */
bool education_event_from_json(arena_t *arena, const json_value_t *body, const char *today,
                               bson_t *out, kt_error_t *err);

typedef struct {
    const char *organization; /* the student's organisation after the event */
    const char *episode_org;  /* the organisation of the episode the event is about */
    int64_t episode;          /* that episode's number */
} education_outcome_t;

/*
 * Applies a validated event to the stored student doc: new_doc (initialised,
 * empty) receives the student's members in their order, `organization`
 * replaced when a main episode opens, and the new `education` last. On a
 * rule violation returns false with err = 422 VALIDATION and the field
 * errors (EPISODE_OPEN, NO_OPEN_EPISODE, EPISODE_STATE, DATE_ORDER, FORMAT)
 * at pointers into the event body. Strings of outcome live in arena.
 */
bool education_apply(arena_t *arena, const bson_t *student, const bson_t *event, bson_t *new_doc,
                     education_outcome_t *outcome, kt_error_t *err);

/*
 * The read-only rule for a student body (create, PUT, PATCH, package item):
 * body's `education` must be absent, or equal (as JSON values) to the
 * stored one (current NULL on create: none); and while current has an open
 * main episode, doc's `organization` must equal the stored one. Otherwise
 * 422 VALIDATION with READ_ONLY at /education or /organization.
 */
bool education_check_body(arena_t *arena, const json_value_t *body, const bson_t *current,
                          const bson_t *doc, kt_error_t *err);

/* Appends current's `education` (when it has one) to doc, which must not
 * have one yet: what a write of a student body keeps. */
bool education_carry(const bson_t *current, bson_t *doc);

/* The organisation a student's last main episode was transferred out to
 * (ended by TRANSFER_OUT with transfer_to), else NULL; in arena. */
const char *education_transfer_to(arena_t *arena, const bson_t *student);

/* True when level is one of the code list's levels (PRESCHOOL, NOO, …). */
bool education_level_valid(const char *level);

/*
 * Who may post an event (docs/enrolment.md), in two steps shared by the API
 * and packages. Before applying: region and admin any; ministry and auditor
 * KT_FORBIDDEN; a school its own students, and the TRANSFER_IN of a student
 * whose last main episode was transferred out to it; any other student is
 * KT_NOT_FOUND (a school does not learn that it exists). After applying: a
 * school opens episodes only at itself and changes only its own episodes,
 * else KT_FORBIDDEN with *pointer the member at fault. student NULL: the
 * role alone is checked (before the body is read).
 */
kt_code_t education_may_post(arena_t *arena, const principal_t *p, const bson_t *student,
                             const char *type);
kt_code_t education_may_apply(const principal_t *p, const bson_t *event,
                              const education_outcome_t *outcome, const char **pointer);

/* The reason kept with an event's version when none is given:
 * "ENROLL: приказ № 45-у от 2024-08-28", in arena. */
const char *education_reason(arena_t *arena, const bson_t *event);

/* Writes the trajectory of the student's episodes as the members
 * "segments" and "moves" of an open JSON object (docs/enrolment.md). */
bool education_trajectory(arena_t *arena, const bson_t *student, jw_t *w);

/* Days since 1970-01-01 of a valid "YYYY-MM-DD" (for date arithmetic). */
int64_t education_days(const char *date);

/* The body of an event (an OBJECT row), for model/xmlio_tree.c. */
extern const field_t education_event_root;

/* A student's education as the server stores it (an ARRAY row of episodes,
 * each with its events): declared for XML only, never checked against. */
extern const field_t education_episodes;

#endif
