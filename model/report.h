/*
 * report: what the statistical reports (docs/reports.md) count, as pure
 * functions over student documents — the facts of one student on a date,
 * the group key of those facts, the moves between schools, and the rows a
 * report is made of. No store, no HTTP: handlers/reports.c feeds these from
 * store/scan.h and renders them.
 *
 * Rules (docs/education contract): a student is in the contingent on date D
 * when a main-level episode (not DOP) is open on D (enrolled_on ≤ D and not
 * ended on or before D); its organisation, level and form are the
 * episode's, its grade that of the episode's latest event dated ≤ D that
 * carries one. Age is in whole years on age_on.
 */
#ifndef KT_REPORT_H
#define KT_REPORT_H

#include <bson/bson.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/error.h"

typedef enum {
    DIM_ORGANIZATION = 0,
    DIM_OKTMO, /* the organisation's municipality (from the organisations registry) */
    DIM_LEVEL,
    DIM_GRADE,
    DIM_SEX,
    DIM_AGE,
    DIM_CITIZENSHIP,
    DIM_FORM,
    DIM_HEALTH_GROUP, /* the health dimensions: principals with the health scope only */
    DIM_DISABILITY,
    DIM_OVZ,
    DIM__MAX
} report_dim_t;

/* "organization", "oktmo", "level", ... */
const char *report_dim_name(report_dim_t d);

/* Grade and age are numbers in JSON (and sort as numbers). */
bool report_dim_numeric(report_dim_t d);

/* Whether d reads the health block (special category: the health scope only). */
bool report_dim_health(report_dim_t d);

/* Parses "organization,grade,sex" into dims (no repeats); 400 FORMAT otherwise. */
bool report_parse_group_by(const char *s, report_dim_t *dims, size_t *n, kt_error_t *err);

/* One student on a date (a fixed-size summary: reports keep one per student). */
typedef struct {
    bool counted; /* not deleted and in a main-level episode open on the date */
    bool deleted; /* deleted in the version taken: neither counted nor not enrolled */
    int8_t grade; /* -1: none */
    char org[14];
    char birth[11];
    char sex[2];
    char level[10];
    char form[11];
    char citizenship[10];
    char health_group[4]; /* I…V; "" unknown (no block, or not opened) */
    char disability[16];  /* the group, NONE; "" unknown */
    char ovz[4];          /* YES, NO; "" unknown */
} report_facts_t;

/* The facts of doc on date; the health members are read from an opened
 * "health" member when doc has one (the caller opens it only for principals
 * with the health scope). */
void report_facts(const bson_t *doc, bool deleted, const char *date, report_facts_t *out);

/* The value of dimension d for f ("" when unknown); age on age_on; oktmo
 * from the caller (NULL: unknown). out has room for 16 bytes. */
void report_dim_value(const report_facts_t *f, report_dim_t d, const char *age_on,
                      const char *oktmo, char out[16]);

/* Whole years from birth to on (both "YYYY-MM-DD"); -1 when either is bad. */
int report_age(const char *birth, const char *on);

/* A move between organisations: an episode ended by TRANSFER_OUT paired with
 * the next main episode opened by TRANSFER_IN; "" for an end not on record
 * (left the region's registry, or arrived from outside it). */
typedef struct {
    char from[14];
    char to[14];
    char date[11]; /* the TRANSFER_OUT's date, or the TRANSFER_IN's when no out is on record */
    char level[10];
} report_move_t;

/* The moves of one student, in order; returns how many (at most max). */
size_t report_moves(const bson_t *doc, report_move_t *out, size_t max);

/*
 * Small-cell suppression (docs/reports.md): a count that could single out a
 * child is not shown. hidden[i] is set for every counts[i] in
 * 1..REPORT_K_MIN-1 (primary; a cell the caller hid already stays hidden);
 * then, while the hidden cells are exactly one, or their sum would give each
 * of them away (all 1, or all REPORT_K_MIN-1), the smallest shown cell is
 * hidden too (secondary), so that total minus the shown cells does not tell
 * a hidden one. Returns whether total must be
 * hidden as well: it is small itself, or the rule could not be met.
 */
#define REPORT_K_MIN 5
bool report_suppress(const int64_t *counts, bool *hidden, size_t n, int64_t total);

/* Whether a single count (a total) is small: 1..REPORT_K_MIN-1. */
bool report_small(int64_t count);

/* The latest 20 September on or before today (the ОО-1 reference date; today
 * is the region's day, model/calendar.h), and the 1 January after a reference
 * date (age is counted on it). */
void report_default_as_of(const char *today, char out[11]);
void report_default_age_on(const char *as_of, char out[11]);

#endif
