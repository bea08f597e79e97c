/*
 * report_render: the contingent report as JSON, CSV (RFC 4180), XML of the
 * exchange namespace (xsd: ContingentReport) and an SVG bar chart.
 * Unknown values ("") are null in JSON, empty in CSV, absent attributes in
 * XML, and «не указано» in the chart. A suppressed count (small cell,
 * docs/reports.md) is never written: null with "suppressed": true in JSON, an
 * empty count in CSV, suppressed="true" without count in XML, «скрыто» in
 * the chart.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "handlers/reports.h"

#define SVG_WIDTH   960
#define SVG_LABEL_W 360
#define SVG_ROW_H   24
#define SVG_TOP     70

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

/* Values are codes and numbers; quoting is there for whatever a future
 * dimension brings. A leading = + - @ would be a formula to a spreadsheet. */
static bool
csv_cell(buf_t *out, const char *s)
{
    bool quote = strpbrk(s, ",\"\r\n") != NULL || strchr("=+-@", s[0]) != NULL;
    bool ok = !quote || buf_putc(out, '"');

    if (quote && strchr("=+-@", s[0]) != NULL && s[0] != '\0')
        ok = ok && buf_putc(out, '\'');
    for (; ok && *s != '\0'; s++)
        ok = (*s != '"' || buf_putc(out, '"')) && buf_putc(out, *s);
    return ok && (!quote || buf_putc(out, '"'));
}

bool
report_render_csv(const contingent_t *r, buf_t *out)
{
    bool ok = true;

    for (size_t i = 0; i < r->ndims; i++)
        ok = ok && buf_puts(out, report_dim_name(r->dims[i])) && buf_putc(out, ',');
    ok = ok && buf_puts(out, "count\r\n");
    for (size_t k = 0; ok && k < r->nrows; k++) {
        for (size_t i = 0; i < r->ndims; i++)
            ok = ok && csv_cell(out, r->rows[k].values[r->dims[i]]) && buf_putc(out, ',');
        if (r->rows[k].hidden)
            ok = ok && buf_puts(out, "\r\n");
        else
            ok = ok && buf_printf(out, "%lld\r\n", (long long)r->rows[k].count);
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

/* The chart speaks Russian: codes become words. */
static const char *const svg_words[][2] = {
    {"M", "муж."},
    {"F", "жен."},
    {"PRESCHOOL", "дошк."},
    {"NOO", "НОО"},
    {"OOO", "ООО"},
    {"SOO", "СОО"},
    {"SPO", "СПО"},
    {"DOP", "ДОП"},
    {"FULL_TIME", "очная"},
    {"PART_TIME", "очно-заочная"},
    {"EXTRAMURAL", "заочная"},
    {"FAMILY", "семейная"},
    {"SELF", "самообразование"},
    {"RF", "гражд. РФ"},
    {"FOREIGN", "иностр."},
    {"DUAL", "двойное гражд."},
    {"STATELESS", "без гражд."},
};

/* The dimensions' names in the chart's subtitle. */
static const char *const svg_dims[DIM__MAX] = {
    "организация", "ОКТМО",          "уровень",         "класс",        "пол", "возраст",
    "гражданство", "форма обучения", "группа здоровья", "инвалидность", "ОВЗ",
};

static const char *
svg_word(report_dim_t d, const char *v, char *tmp, size_t size)
{
    if (v[0] == '\0')
        return "не указано";
    if (d == DIM_GRADE) {
        snprintf(tmp, size, "%s кл.", v);
        return tmp;
    }
    if (d == DIM_AGE) {
        snprintf(tmp, size, "%s лет", v);
        return tmp;
    }
    if (d == DIM_HEALTH_GROUP) {
        snprintf(tmp, size, "%s гр. здоровья", v);
        return tmp;
    }
    if (d == DIM_DISABILITY && strcmp(v, "NONE") != 0 && strcmp(v, "CHILD_DISABLED") != 0) {
        snprintf(tmp, size, "%s гр. инвалидности", v);
        return tmp;
    }
    for (size_t i = 0; i < sizeof svg_words / sizeof *svg_words; i++) {
        if (strcmp(svg_words[i][0], v) == 0)
            return svg_words[i][1];
    }
    return v;
}

static bool
svg_label(buf_t *out, const contingent_t *r, const report_row_t *row)
{
    char tmp[64];
    bool ok = true;

    for (size_t i = 0; ok && i < r->ndims; i++) {
        report_dim_t d = r->dims[i];
        ok = (i == 0 || buf_puts(out, " · ")) &&
             xml_text(out, svg_word(d, row->values[d], tmp, sizeof tmp));
    }
    return ok;
}

static bool
svg_bar(buf_t *out, const contingent_t *r, size_t k, int64_t max)
{
    const report_row_t *row = &r->rows[k];
    int y = SVG_TOP + (int)k * SVG_ROW_H;
    int w = row->hidden
                ? 0
                : (int)((double)(SVG_WIDTH - SVG_LABEL_W - 80) * (double)row->count / (double)max);
    char n[128];

    if (row->hidden)
        snprintf(n, sizeof n, "скрыто (менее %d или для защиты такой ячейки)", REPORT_K_MIN);
    else
        snprintf(n, sizeof n, "%lld", (long long)row->count);
    return buf_printf(out, "<g><title>") && svg_label(out, r, row) &&
           buf_printf(out, ": %s</title>", n) &&
           buf_printf(out, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">", SVG_LABEL_W - 8,
                      y + 16) &&
           svg_label(out, r, row) &&
           buf_printf(out,
                      "</text><rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" rx=\"2\"/>"
                      "<text x=\"%d\" y=\"%d\" class=\"n\">%s</text></g>\n",
                      SVG_LABEL_W, y + 3, w > 1 ? w : 1, SVG_ROW_H - 6, SVG_LABEL_W + w + 6, y + 16,
                      row->hidden ? "скрыто" : n);
}

bool
report_render_svg(const contingent_t *r, buf_t *out)
{
    int64_t max = 1;
    int height = SVG_TOP + (int)r->nrows * SVG_ROW_H + 20;
    bool ok;

    for (size_t k = 0; k < r->nrows; k++)
        max = !r->rows[k].hidden && r->rows[k].count > max ? r->rows[k].count : max;
    ok = buf_printf(out,
                    "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
                    "viewBox=\"0 0 %d %d\" role=\"img\" aria-labelledby=\"t\">\n"
                    "<style>text{font:13px sans-serif;fill:#222}.h{font-size:17px;"
                    "font-weight:600}.s{fill:#555}.n{fill:#333}rect{fill:#2f6db5}</style>\n"
                    "<rect width=\"100%%\" height=\"100%%\" style=\"fill:#fff\"/>\n"
                    "<text id=\"t\" class=\"h\" x=\"16\" y=\"28\">Контингент на %s: ",
                    SVG_WIDTH, height, SVG_WIDTH, height, r->as_of);
    if (r->total_hidden)
        ok = ok && buf_puts(out, "число скрыто");
    else
        ok = ok &&
             buf_printf(out, "%lld %s", (long long)r->total,
                        r->total % 10 == 1 && r->total % 100 != 11 ? "обучающийся" : "обучающихся");
    ok = ok && buf_puts(out, "</text>\n<text class=\"s\" x=\"16\" y=\"50\">Группировка: ");
    for (size_t i = 0; ok && i < r->ndims; i++)
        ok = buf_printf(out, "%s%s", i > 0 ? ", " : "", svg_dims[r->dims[i]]);
    ok = ok && buf_printf(out, "; возраст на %s</text>\n", r->age_on);
    for (size_t k = 0; ok && k < r->nrows; k++)
        ok = svg_bar(out, r, k, max);
    return ok && buf_puts(out, "</svg>\n");
}
