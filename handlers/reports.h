/*
 * reports: the aggregated rows of a report and their renderings (JSON, CSV,
 * XML of the exchange namespace, an SVG bar chart) — handlers/reports.c
 * computes, handlers/report_render.c writes.
 */
#ifndef KT_HANDLERS_REPORTS_H
#define KT_HANDLERS_REPORTS_H

#include <stdbool.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/json.h"
#include "http/request.h"
#include "model/report.h"

/* One row: the group's values (in dims order; "" = unknown) and its count;
 * hidden: the count is suppressed (small cell, model/report.h), every
 * rendering shows it as such and never the number. */
typedef struct {
    const char *values[DIM__MAX];
    const char *org_name; /* the organisation's short name (registry), NULL: unknown */
    int64_t count;
    bool hidden;
} report_row_t;

typedef struct {
    const char *as_of;    /* "YYYY-MM-DD": the report date */
    const char *known_at; /* the bound on version times, NULL: all */
    const char *age_on;   /* "YYYY-MM-DD" */
    report_dim_t dims[DIM__MAX];
    size_t ndims;
    report_row_t *rows;
    size_t nrows;
    int64_t total;        /* students counted */
    int64_t not_enrolled; /* students on record but in no open main episode on as_of */
    bool total_hidden;    /* suppressed (small, or it would give a hidden row away) */
    bool not_enrolled_hidden;
} contingent_t;

/* Bytes of an organisation's short name kept for a report's rows. */
#define REPORT_ORG_NAME_MAX 256

/* At most this many bars in an SVG chart (more: 400, ask for CSV). */
#define REPORT_SVG_ROWS_MAX 400

/* A count in a JSON report: the number, or null when it is suppressed. */
void report_json_count(jw_t *w, int64_t n, bool hidden);

bool report_render_json(const contingent_t *r, buf_t *out);
bool report_render_xml(const contingent_t *r, buf_t *out);
/* For people, in Russian or English (en; docs/i18n.md): the CSV dialect of
 * docs/reports.md ("CSV") and the chart. */
bool report_render_csv(const contingent_t *r, bool en, buf_t *out);

/* One cell of the people's CSV dialect (docs/reports.md "CSV"): quoted, a
 * formula neutralised, then ";" or, for the last, CRLF. A file starts with
 * REPORT_CSV_BOM. */
#define REPORT_CSV_BOM "\xEF\xBB\xBF"
bool report_csv_cell(buf_t *out, const char *s, bool last);
bool report_render_svg(const contingent_t *r, bool en, buf_t *out);

/* The report format the request's Accept asks for: application/json (also
 * when it names none of these), text/csv, image/svg+xml or application/xml. */
const char *report_accepted(const request_t *req);

#endif
