/*
 * results: the phase-3 members of the student — achievements, exam results
 * and certificates (docs/data-model.md "Phase 3").
 *
 * They are rows of the student's field table (model/student.c), so the one
 * walker (model/fields.h) validates them and versions, history diffs,
 * as_of, search, export and the change feed carry them like any other
 * member. This module owns their member tables and the rules across the
 * members of one item (exam kind → score or mark, ГТО → badge, dates not
 * before the student's birth date); model/student.c only names the three
 * items below in its table.
 */
#ifndef KT_RESULTS_H
#define KT_RESULTS_H

#include "model/fields.h"

/* Items per student (docs/data-model.md "Phase 3"). */
#define RESULTS_ACHIEVEMENTS_MAX 200
#define RESULTS_EXAMS_MAX        300
#define RESULTS_CERTIFICATES_MAX 10

/* The first year an exam result may carry; the last is the current year + 1. */
#define RESULTS_EXAM_YEAR_MIN 2000

/* The item rows of the arrays "achievements", "exams" and "certificates". */
extern const field_t results_achievement;
extern const field_t results_exam;
extern const field_t results_certificate;

#endif
