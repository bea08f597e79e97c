/*
 * report_render: the contingent report as JSON, CSV (RFC 4180), XML of the
 * exchange namespace (xsd: ContingentReport) and an SVG bar chart.
 * Unknown values ("") are null in JSON, absent attributes in XML, and "not
 * given" (in the request's language) in CSV and the chart. A suppressed count
 * (small cell, docs/reports.md) is never written: null with "suppressed":
 * true in JSON, an empty count in CSV, suppressed="true" without count in
 * XML, "hidden" in the chart. CSV and the chart are for people: codes by
 * their names (core/msg.h), schools by their short names.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "core/msg.h"
#include "handlers/reports.h"

#define SVG_WIDTH   960
#define SVG_LABEL_W 360
#define SVG_ROW_H   24
#define SVG_TOP     88

void
report_json_count(jw_t *w, int64_t n, bool hidden)
{
    if (hidden)
        jw_null(w);
    else
        jw_int(w, n);
}

bool
report_render_json(const contingent_t *r, buf_t *out)
{
    jw_t w;

    jw_init(&w, out);
    jw_object_begin(&w);
    jw_key(&w, "as_of");
    jw_string(&w, r->as_of);
    jw_key(&w, "age_on");
    jw_string(&w, r->age_on);
    jw_key(&w, "known_at");
    jw_string(&w, r->known_at);
    jw_key(&w, "group_by");
    jw_array_begin(&w);
    for (size_t i = 0; i < r->ndims; i++)
        jw_string(&w, report_dim_name(r->dims[i]));
    jw_array_end(&w);
    jw_key(&w, "total");
    report_json_count(&w, r->total, r->total_hidden);
    jw_key(&w, "not_enrolled");
    report_json_count(&w, r->not_enrolled, r->not_enrolled_hidden);
    jw_key(&w, "suppression_threshold");
    jw_int(&w, REPORT_K_MIN);
    jw_key(&w, "rows");
    jw_array_begin(&w);
    for (size_t k = 0; k < r->nrows; k++) {
        const report_row_t *row = &r->rows[k];
        jw_object_begin(&w);
        for (size_t i = 0; i < r->ndims; i++) {
            report_dim_t d = r->dims[i];
            jw_key(&w, report_dim_name(d));
            if (row->values[d][0] == '\0')
                jw_null(&w);
            else if (report_dim_numeric(d))
                jw_int(&w, strtoll(row->values[d], NULL, 10)); /* lint: allow (our own digits) */
            else
                jw_string(&w, row->values[d]);
        }
        jw_key(&w, "count");
        report_json_count(&w, row->count, row->hidden);
        if (row->hidden) {
            jw_key(&w, "suppressed");
            jw_bool(&w, true);
        }
        jw_object_end(&w);
    }
    jw_array_end(&w);
    jw_object_end(&w);
    return jw_ok(&w);
}

/* The CSV dialect for people (docs/reports.md "CSV"), the console's too
 * (web/js/csv.js): UTF-8 with a byte-order mark, ";" between cells (the
 * list separator of a Russian-locale spreadsheet), CRLF, every cell quoted,
 * a cell that a spreadsheet would run as a formula (= + - @, tab, CR) after
 * an apostrophe. */
static bool
csv_cell(buf_t *out, const char *s, bool last)
{
    bool ok = buf_putc(out, '"');

    if (s[0] != '\0' && strchr("=+-@\t\r", s[0]) != NULL)
        ok = ok && buf_putc(out, '\'');
    for (; ok && *s != '\0'; s++)
        ok = (*s != '"' || buf_putc(out, '"')) && buf_putc(out, *s);
    return ok && buf_putc(out, '"') && (last ? buf_puts(out, "\r\n") : buf_putc(out, ';'));
}

/* The code list of a dimension's values, NULL for numbers and identifiers. */
static const char *
dim_list(report_dim_t d)
{
    switch (d) {
    case DIM_LEVEL:
        return "level";
    case DIM_SEX:
        return "sex";
    case DIM_CITIZENSHIP:
        return "citizenship";
    case DIM_FORM:
        return "form";
    case DIM_HEALTH_GROUP:
        return "health_group";
    case DIM_DISABILITY:
        return "disability";
    case DIM_OVZ:
        return "ovz";
    default:
        return NULL;
    }
}

static const char *
dim_title(report_dim_t d, bool en)
{
    const char *t = kt_msg_code("report_dim", report_dim_name(d), en);

    return t != NULL ? t : report_dim_name(d);
}

/* A value as people read it: a code's name, a number, an identifier. */
static const char *
dim_value(report_dim_t d, const char *v, bool en)
{
    const char *name = dim_list(d) != NULL ? kt_msg_code(dim_list(d), v, en) : NULL;

    if (v[0] == '\0')
        return kt_msg("not given", en);
    return name != NULL ? name : v;
}

static bool
csv_header(const contingent_t *r, bool en, buf_t *out)
{
    bool ok = buf_puts(out, "\xEF\xBB\xBF");

    for (size_t i = 0; ok && i < r->ndims; i++) {
        if (r->dims[i] == DIM_ORGANIZATION)
            ok = csv_cell(out, kt_msg_code("report_dim", "ogrn", en), false);
        ok = ok && csv_cell(out, dim_title(r->dims[i], en), false);
    }
    return ok && csv_cell(out, kt_msg_code("report_dim", "count", en), true);
}

bool
report_render_csv(const contingent_t *r, bool en, buf_t *out)
{
    char n[32];
    bool ok = csv_header(r, en, out);

    for (size_t k = 0; ok && k < r->nrows; k++) {
        const report_row_t *row = &r->rows[k];
        for (size_t i = 0; ok && i < r->ndims; i++) {
            report_dim_t d = r->dims[i];
            if (d == DIM_ORGANIZATION)
                ok = csv_cell(out, row->values[d], false) &&
                     csv_cell(out, row->org_name != NULL ? row->org_name : "", false);
            else
                ok = csv_cell(out, dim_value(d, row->values[d], en), false);
        }
        snprintf(n, sizeof n, "%lld", (long long)row->count);
        ok = ok && csv_cell(out, row->hidden ? "" : n, true);
    }
    return ok;
}

static bool
xml_text(buf_t *out, const char *s)
{
    bool ok = true;

    for (; ok && *s != '\0'; s++) {
        switch (*s) {
        case '<':
            ok = buf_puts(out, "&lt;");
            break;
        case '>':
            ok = buf_puts(out, "&gt;");
            break;
        case '&':
            ok = buf_puts(out, "&amp;");
            break;
        case '"':
            ok = buf_puts(out, "&quot;");
            break;
        default:
            ok = buf_putc(out, *s);
        }
    }
    return ok;
}

/* count="n", or suppressed="true" (totalSuppressed… for the totals) without it. */
static bool
xml_count(buf_t *out, const char *name, int64_t n, bool hidden)
{
    if (!hidden)
        return buf_printf(out, " %s=\"%lld\"", name, (long long)n);
    if (strcmp(name, "count") == 0)
        return buf_puts(out, " suppressed=\"true\"");
    return buf_printf(out, " %sSuppressed=\"true\"", name);
}

bool
report_render_xml(const contingent_t *r, buf_t *out)
{
    bool ok = buf_printf(out,
                         "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                         "<ContingentReport xmlns=\"urn:kontingent:exchange:1\" asOf=\"%s\" "
                         "ageOn=\"%s\"",
                         r->as_of, r->age_on) &&
              xml_count(out, "total", r->total, r->total_hidden) &&
              xml_count(out, "notEnrolled", r->not_enrolled, r->not_enrolled_hidden) &&
              buf_puts(out, ">\n");

    for (size_t k = 0; ok && k < r->nrows; k++) {
        ok = buf_puts(out, "  <Row");
        for (size_t i = 0; ok && i < r->ndims; i++) {
            const char *v = r->rows[k].values[r->dims[i]];
            if (v[0] != '\0')
                ok = buf_printf(out, " %s=\"", report_dim_name(r->dims[i])) && xml_text(out, v) &&
                     buf_putc(out, '"');
        }
        ok = ok && xml_count(out, "count", r->rows[k].count, r->rows[k].hidden) &&
             buf_puts(out, "/>\n");
    }
    return ok && buf_puts(out, "</ContingentReport>\n");
}

/* The chart: bars labelled in the request's language, counts with thin-space
 * thousands separators, dd.mm.yyyy dates, an axis with ticks. */

#define SVG_AXIS_H 44 /* below the bars: the axis, its labels and title */
#define SVG_PLOT_W (SVG_WIDTH - SVG_LABEL_W - 90)

/* "1234567" → "1 234 567" with U+2009 THIN SPACE between the groups. */
static void
svg_number(int64_t n, char *out, size_t cap)
{
    char digits[32];
    size_t len, k = 0;

    snprintf(digits, sizeof digits, "%lld", (long long)(n < 0 ? -n : n));
    len = strlen(digits);
    if (n < 0 && k + 1 < cap)
        out[k++] = '-';
    for (size_t i = 0; i < len && k + 4 < cap; i++) {
        if (i > 0 && (len - i) % 3 == 0) {
            memcpy(out + k, "\xE2\x80\x89", 3);
            k += 3;
        }
        out[k++] = digits[i];
    }
    out[k] = '\0';
}

/* "2026-09-20" → "20.09.2026"; anything else as it is. */
static void
svg_date(const char *iso, char *out, size_t cap)
{
    if (iso != NULL && strlen(iso) == 10 && iso[4] == '-' && iso[7] == '-')
        snprintf(out, cap, "%.2s.%.2s.%.4s", iso + 8, iso + 5, iso);
    else
        snprintf(out, cap, "%s", iso != NULL ? iso : "");
}

static const char *
svg_word(report_dim_t d, const report_row_t *row, bool en, char *tmp, size_t size)
{
    const char *v = row->values[d];

    if (v[0] == '\0')
        return kt_msg("not given", en);
    if (d == DIM_ORGANIZATION)
        return row->org_name != NULL ? row->org_name : v;
    if (d == DIM_GRADE) {
        kt_msg_format(en, tmp, size, "grade %s", v);
        return tmp;
    }
    if (d == DIM_AGE) {
        kt_msg_format(en, tmp, size, "age %s", v);
        return tmp;
    }
    return dim_value(d, v, en);
}

static bool
svg_label(buf_t *out, const contingent_t *r, const report_row_t *row, bool en)
{
    char tmp[64];
    bool ok = true;

    for (size_t i = 0; ok && i < r->ndims; i++) {
        report_dim_t d = r->dims[i];
        ok = (i == 0 || buf_puts(out, " · ")) &&
             xml_text(out, svg_word(d, row, en, tmp, sizeof tmp));
    }
    return ok;
}

/* The tooltip also names the school by its ОГРН. */
static bool
svg_title(buf_t *out, const contingent_t *r, const report_row_t *row, bool en, const char *n)
{
    bool ok = buf_puts(out, "<title>") && svg_label(out, r, row, en);

    if (row->org_name != NULL)
        ok = ok && buf_printf(out, " (%s %s)", kt_msg_code("report_dim", "ogrn", en),
                              row->values[DIM_ORGANIZATION]);
    return ok && buf_puts(out, ": ") && xml_text(out, n) && buf_puts(out, "</title>");
}

static bool
svg_bar(buf_t *out, const contingent_t *r, size_t k, int64_t scale, bool en)
{
    const report_row_t *row = &r->rows[k];
    int y = SVG_TOP + (int)k * SVG_ROW_H;
    int w = row->hidden ? 0 : (int)((double)SVG_PLOT_W * (double)row->count / (double)scale);
    char n[160], shown[32];

    svg_number(row->count, shown, sizeof shown);
    if (row->hidden)
        kt_msg_format(en, n, sizeof n, "hidden (under %d, or to protect such a cell)",
                      REPORT_K_MIN);
    else
        snprintf(n, sizeof n, "%s", shown);
    return buf_puts(out, "<g>") && svg_title(out, r, row, en, n) &&
           buf_printf(out, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">", SVG_LABEL_W - 8,
                      y + 16) &&
           svg_label(out, r, row, en) &&
           buf_printf(out,
                      "</text><rect class=\"b\" x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" "
                      "rx=\"2\"/><text x=\"%d\" y=\"%d\" class=\"n\">%s</text></g>\n",
                      SVG_LABEL_W, y + 3, w > 1 ? w : 1, SVG_ROW_H - 6, SVG_LABEL_W + w + 6, y + 16,
                      row->hidden ? kt_msg("hidden", en) : shown);
}

/* A tick step of 1, 2 or 5 × 10^k giving at most about five ticks up to max. */
static int64_t
svg_step(int64_t max)
{
    int64_t base = 1;

    while (base <= max / 10)
        base *= 10;
    if (max / base <= 2)
        return base / 2 > 0 ? base / 2 : 1;
    if (max / base <= 5)
        return base;
    return base * 2;
}

/* The scale's end: the first tick at or above max. */
static int64_t
svg_scale(int64_t max)
{
    int64_t step = svg_step(max);

    return (max + step - 1) / step * step;
}

static bool
svg_axis(buf_t *out, const contingent_t *r, int64_t scale, bool en)
{
    int y = SVG_TOP + (int)r->nrows * SVG_ROW_H + 2;
    int64_t step = svg_step(scale);
    char n[32];
    bool ok = buf_printf(out, "<g class=\"axis\"><line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/>\n",
                         SVG_LABEL_W, y, SVG_LABEL_W + SVG_PLOT_W, y);

    for (int64_t v = 0; ok && v <= scale; v += step) {
        int x = SVG_LABEL_W + (int)((double)SVG_PLOT_W * (double)v / (double)scale);
        svg_number(v, n, sizeof n);
        ok = buf_printf(out,
                        "<line class=\"grid\" x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/>"
                        "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/>"
                        "<text class=\"t\" x=\"%d\" y=\"%d\" text-anchor=\"middle\">%s</text>\n",
                        x, SVG_TOP, x, y, x, y, x, y + 5, x, y + 18, n);
    }
    return ok &&
           buf_printf(out, "<text class=\"s\" x=\"%d\" y=\"%d\" text-anchor=\"middle\">",
                      SVG_LABEL_W + SVG_PLOT_W / 2, y + 36) &&
           xml_text(out, kt_msg_code("report_dim", "count", en)) && buf_puts(out, "</text></g>\n");
}

/* "Контингент на 20.09.2026: 1 234 обучающихся" and the lines under it. */
static bool
svg_heading(buf_t *out, const contingent_t *r, bool en)
{
    char date[16], age[16], n[32], line[256];
    bool ok;

    svg_date(r->as_of, date, sizeof date);
    svg_date(r->age_on, age, sizeof age);
    svg_number(r->total, n, sizeof n);
    if (r->total_hidden)
        kt_msg_format(en, line, sizeof line, "Contingent on %s: the number is hidden", date);
    else if (r->total % 10 == 1 && r->total % 100 != 11)
        kt_msg_format(en, line, sizeof line, "Contingent on %s: %s student", date, n);
    else
        kt_msg_format(en, line, sizeof line, "Contingent on %s: %s students", date, n);
    ok = buf_puts(out, "<text id=\"t\" class=\"h\" x=\"16\" y=\"28\">") && xml_text(out, line) &&
         buf_puts(out, "</text>\n<text class=\"s\" x=\"16\" y=\"50\">") &&
         xml_text(out, kt_msg("Grouped by: ", en));
    for (size_t i = 0; ok && i < r->ndims; i++)
        ok = (i == 0 || buf_puts(out, ", ")) && xml_text(out, dim_title(r->dims[i], en));
    kt_msg_format(en, line, sizeof line, "; age on %s", age);
    ok = ok && xml_text(out, line) && buf_puts(out, "</text>\n");
    svg_number(r->not_enrolled, n, sizeof n);
    kt_msg_format(en, line, sizeof line, "On record but not enrolled on that date: %s",
                  r->not_enrolled_hidden ? kt_msg("hidden", en) : n);
    return ok && buf_puts(out, "<text class=\"s\" x=\"16\" y=\"70\">") && xml_text(out, line) &&
           buf_puts(out, "</text>\n");
}

bool
report_render_svg(const contingent_t *r, bool en, buf_t *out)
{
    int64_t max = 1, scale;
    int height = SVG_TOP + (int)r->nrows * SVG_ROW_H + SVG_AXIS_H;
    bool ok;

    for (size_t k = 0; k < r->nrows; k++)
        max = !r->rows[k].hidden && r->rows[k].count > max ? r->rows[k].count : max;
    scale = svg_scale(max);
    ok = buf_printf(out,
                    "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
                    "viewBox=\"0 0 %d %d\" role=\"img\" aria-labelledby=\"t\">\n"
                    "<style>text{font:13px sans-serif;fill:#222}.h{font-size:17px;"
                    "font-weight:600}.s{fill:#555}.n{fill:#333}.t{font-size:11px;fill:#555}"
                    ".b{fill:#2f6db5}.axis line{stroke:#888}.axis .grid{stroke:#e4e4e4}</style>\n"
                    "<rect width=\"100%%\" height=\"100%%\" style=\"fill:#fff\"/>\n",
                    SVG_WIDTH, height, SVG_WIDTH, height) &&
         svg_heading(out, r, en) && svg_axis(out, r, scale, en);
    for (size_t k = 0; ok && k < r->nrows; k++)
        ok = svg_bar(out, r, k, scale, en);
    return ok && buf_puts(out, "</svg>\n");
}
