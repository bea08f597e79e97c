/*
 * progress_report: what the progress report counts (docs/reports.md,
 * "Progress"), as pure functions over progress records — no store, no
 * HTTP; handlers/progress_report.c feeds it from store/scan.h and renders.
 *
 * For one academic year and one attestation period, a student's marks of
 * that period are "in scope" of a group: all of them for a grade, a school
 * or a municipality, the one of the subject for a subject. Of the students
 * with at least one mark in scope (students):
 *   passing  (успевающие)     no mark in scope is 1, 2, FAIL or NA;
 *   quality  (качество знаний) every mark in scope is 4, 5 or PASS;
 * and the average mark is the mean of the 1..5 marks in scope. The rates are
 * passing/students and quality/students, in percent.
 */
#ifndef KT_PROGRESS_REPORT_H
#define KT_PROGRESS_REPORT_H

#include <bson/bson.h>
#include <stdbool.h>
#include <stdint.h>

#define PROGRESS_REPORT_SUBJECTS 48 /* room for the subject codes (model/progress.h) */

/* A mark as the summary keeps it. */
enum {
    PMARK_NONE = 0, /* 1..5: the mark itself */
    PMARK_PASS = 6,
    PMARK_FAIL = 7,
    PMARK_NA = 8,
};

typedef enum {
    PGROUP_SUBJECT = 0,
    PGROUP_GRADE,
    PGROUP_SCHOOL,
    PGROUP_MUNICIPALITY,
    PGROUP__MAX
} progress_group_t;

/* One progress record, for one year and period (a fixed-size scan summary). */
typedef struct {
    bool used; /* the record is of the year asked */
    int8_t grade;
    char org[14];
    uint8_t marks[PROGRESS_REPORT_SUBJECTS]; /* by subject index, PMARK_* */
} progress_summary_t;

/* The figures of a group. hidden_* are set by progress_report_suppress. */
typedef struct {
    int64_t students;
    int64_t passing;
    int64_t quality;
    int64_t marks;    /* 1..5 marks counted */
    int64_t mark_sum; /* their sum */
    bool hidden;      /* the whole row (students small, or given away) */
    bool passing_hidden;
    bool quality_hidden;
} progress_cell_t;

/* "subject", "grade", "school", "municipality"; PGROUP__MAX when unknown. */
progress_group_t progress_group_parse(const char *s);
const char *progress_group_name(progress_group_t g);

/* The summary of doc for year and period (out zeroed first). */
void progress_summarize(const bson_t *doc, const char *year, const char *period,
                        progress_summary_t *out);

/* Adds one student with the n marks of scope (PMARK_*, PMARK_NONE skipped);
 * a student without any mark in scope is not counted. */
void progress_cell_add(progress_cell_t *c, const uint8_t *marks, size_t n);

/*
 * Small-cell suppression (model/report.h's rule, REPORT_K_MIN): a row whose
 * students are 1..4 is hidden; for groups that partition the students
 * (grade, school, municipality) secondary suppression hides more rows so
 * that the total does not give a hidden one away (report_suppress); a
 * passing or quality count is hidden with its row, or when it or the
 * students without it are 1..4 (either would single out a few children).
 * The total's figures follow the same rules.
 */
bool progress_report_suppress(progress_cell_t *rows, size_t n, progress_cell_t *total,
                              bool partition);

/* Percent with one decimal (rates), two decimals (average); -1 when the
 * denominator is 0. */
double progress_rate(int64_t part, int64_t whole);
double progress_average(const progress_cell_t *c);

#endif
