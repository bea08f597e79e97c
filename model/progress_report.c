/* progress_report: the figures of the progress report (model/progress_report.h). */
#include "model/progress_report.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/progress.h"
#include "model/report.h"

static const char *const group_names[PGROUP__MAX] = {
    [PGROUP_SUBJECT] = "subject",
    [PGROUP_GRADE] = "grade",
    [PGROUP_SCHOOL] = "school",
    [PGROUP_MUNICIPALITY] = "municipality",
};

progress_group_t
progress_group_parse(const char *s)
{
    for (int g = 0; g < PGROUP__MAX; g++)
        if (s != NULL && strcmp(s, group_names[g]) == 0)
            return (progress_group_t)g;
    return PGROUP__MAX;
}

const char *
progress_group_name(progress_group_t g)
{
    return g < PGROUP__MAX ? group_names[g] : "";
}

static int
subject_index(const char *code)
{
    for (int i = 0; progress_subjects[i] != NULL && i < PROGRESS_REPORT_SUBJECTS; i++)
        if (strcmp(progress_subjects[i], code) == 0)
            return i;
    return -1;
}

static uint8_t
mark_code(const char *mark)
{
    int v;

    switch (progress_mark_kind(mark, &v)) {
    case PROGRESS_MARK_NUMERIC:
        return (uint8_t)v;
    case PROGRESS_MARK_PASS:
        return PMARK_PASS;
    case PROGRESS_MARK_FAIL:
        return PMARK_FAIL;
    default:
        return PMARK_NA;
    }
}

/* The member's string, or "". */
static const char *
str_of(const bson_iter_t *parent, const char *key)
{
    bson_iter_t it;

    if (bson_iter_recurse(parent, &it) && bson_iter_find(&it, key) && BSON_ITER_HOLDS_UTF8(&it))
        return bson_iter_utf8(&it, NULL);
    return "";
}

void
progress_summarize(const bson_t *doc, const char *year, const char *period, progress_summary_t *out)
{
    bson_iter_t it, arr;

    memset(out, 0, sizeof *out);
    out->grade = -1;
    if (!bson_iter_init_find(&it, doc, "year") || !BSON_ITER_HOLDS_UTF8(&it) ||
        strcmp(bson_iter_utf8(&it, NULL), year) != 0)
        return;
    out->used = true;
    if (bson_iter_init_find(&it, doc, "grade") && BSON_ITER_HOLDS_NUMBER(&it))
        out->grade = (int8_t)bson_iter_as_int64(&it);
    if (bson_iter_init_find(&it, doc, "organization") && BSON_ITER_HOLDS_UTF8(&it))
        snprintf(out->org, sizeof out->org, "%s", bson_iter_utf8(&it, NULL));
    if (!bson_iter_init_find(&it, doc, "marks") || !bson_iter_recurse(&it, &arr))
        return;
    while (bson_iter_next(&arr)) {
        int i = subject_index(str_of(&arr, "subject"));
        if (i >= 0 && strcmp(str_of(&arr, "period"), period) == 0)
            out->marks[i] = mark_code(str_of(&arr, "mark"));
    }
}

void
progress_cell_add(progress_cell_t *c, const uint8_t *marks, size_t n)
{
    bool any = false, passing = true, quality = true;

    for (size_t i = 0; i < n; i++) {
        uint8_t m = marks[i];
        if (m == PMARK_NONE)
            continue;
        any = true;
        passing = passing && !(m == 1 || m == 2 || m == PMARK_FAIL || m == PMARK_NA);
        quality = quality && (m == 4 || m == 5 || m == PMARK_PASS);
        if (m >= 1 && m <= 5) {
            c->marks++;
            c->mark_sum += m;
        }
    }
    if (!any)
        return;
    c->students++;
    c->passing += passing;
    c->quality += quality;
}

/* A part of a cell, hidden with its row or when it or its complement is small. */
static bool
part_hidden(const progress_cell_t *c, int64_t part)
{
    return c->hidden || report_small(part) || report_small(c->students - part);
}

bool
progress_report_suppress(progress_cell_t *rows, size_t n, progress_cell_t *total, bool partition)
{
    int64_t *counts = malloc((n + 1) * sizeof *counts);
    bool *hidden = calloc(n + 1, sizeof *hidden);

    if (counts == NULL || hidden == NULL) {
        free(counts);
        free(hidden);
        return false;
    }
    for (size_t k = 0; k < n; k++)
        counts[k] = rows[k].students;
    if (partition) {
        total->hidden = report_suppress(counts, hidden, n, total->students);
    } else {
        for (size_t k = 0; k < n; k++)
            hidden[k] = report_small(counts[k]);
        total->hidden = report_small(total->students);
    }
    for (size_t k = 0; k < n; k++) {
        rows[k].hidden = hidden[k];
        rows[k].passing_hidden = part_hidden(&rows[k], rows[k].passing);
        rows[k].quality_hidden = part_hidden(&rows[k], rows[k].quality);
    }
    total->passing_hidden = part_hidden(total, total->passing);
    total->quality_hidden = part_hidden(total, total->quality);
    free(counts);
    free(hidden);
    return true;
}

double
progress_rate(int64_t part, int64_t whole)
{
    /* Rounded half up in integers (no libm): tenths of a percent. */
    return whole > 0 ? (double)((part * 1000 + whole / 2) / whole) / 10.0 : -1;
}

double
progress_average(const progress_cell_t *c)
{
    return c->marks > 0 ? (double)((c->mark_sum * 100 + c->marks / 2) / c->marks) / 100.0 : -1;
}
