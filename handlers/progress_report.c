/*
 * progress_report: GET /api/v1/reports/progress (docs/reports.md,
 * "Progress") — успеваемость, качество знаний and the average mark of one
 * academic year and attestation period, by subject, grade, school or
 * municipality, as the progress records stood at as_of; JSON, CSV, XML
 * (xsd: ProgressReport) or an SVG chart.
 *
 * One scan of the progress versions (store/scan.h) keeps, per record, the
 * marks of the period (model/progress_report.h); a second, of the
 * organisations, gives their ОКТМО when grouping by municipality. Who may
 * ask is the contingent report's: region, ministry and admin for the whole
 * region (or one ?organization=), a school for itself only. Aggregates
 * disclose no one's record: no access-log entry.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/strmap.h"
#include "handlers/common.h"
#include "handlers/handlers.h"
#include "handlers/reports.h"
#include "model/calendar.h"
#include "model/progress.h"
#include "model/progress_report.h"
#include "model/validators.h"
#include "core/msg.h"
#include "store/kind.h"
#include "store/scan.h"
#include "store/util.h"

#define PREPORT_MAX_BYTES (1024u << 20) /* as the other reports: ~10 million records */

typedef struct {
    const char *year;
    const char *period;
    const char *as_of; /* the bound on version times ("…Z"), NULL: now */
    const char *org;   /* NULL: the whole region */
    progress_group_t group;
    bool en;         /* the answer in English (Accept-Language) */
    strmap_t *cells; /* group value → progress_cell_t */
    progress_cell_t total;
    const char **keys; /* rows, sorted */
    progress_cell_t *rows;
    size_t nrows;
} preport_t;

/* --- parameters ------------------------------------------------------------------------------ */

/* The academic year of today: from 1 September on, the one that starts. */
static const char *
current_year(arena_t *arena)
{
    char today[11], year[PROGRESS_YEAR_LEN + 1];

    date_today(today);
    return progress_year_of(today, year) ? arena_strdup(arena, year) : NULL;
}

/* ?as_of=: a time, or a date counting to the end of that day (model/calendar.h). */
static bool
parse_as_of(request_t *req, const char **bound, kt_error_t *err)
{
    const char *v = request_query(req, "as_of");
    char *end;

    *bound = NULL;
    if (v == NULL || strlen(v) != 10)
        return handler_time(req, "as_of", bound, err);
    end = arena_alloc(req->arena, CALENDAR_TIME_SIZE);
    if (!date_parse(v, NULL, NULL, NULL) || end == NULL || !calendar_day_end(v, end)) {
        kt_error_set_status(err, KT_DOMAIN_INPUT, KT_FORMAT, 400,
                            "as_of must be a date (YYYY-MM-DD) or a time (RFC 3339)");
        return false;
    }
    *bound = end;
    return true;
}

static bool
bad_param(kt_error_t *err, const char *what)
{
    kt_error_set_status(err, KT_DOMAIN_INPUT, KT_FORMAT, 400, "%s", what);
    return false;
}

static bool
preport_params(request_t *req, preport_t *r, kt_error_t *err)
{
    const char *group = request_query(req, "group_by");
    const char *asked = request_query(req, "organization");

    r->year = request_query(req, "year");
    r->period = request_query(req, "period");
    if (r->year == NULL)
        r->year = current_year(req->arena);
    if (r->period == NULL)
        r->period = "Y";
    r->group = progress_group_parse(group != NULL ? group : "school");
    if (r->year == NULL || !progress_year_valid(r->year))
        return bad_param(err, "year must be an academic year, YYYY-YYYY (2026-2027)");
    if (!progress_period_in_scheme("QUARTERS", r->period) &&
        !progress_period_in_scheme("TRIMESTERS", r->period) &&
        !progress_period_in_scheme("HALF_YEARS", r->period))
        return bad_param(err, "period must be one of Q1..Q4, T1..T3, H1, H2, Y");
    if (r->group == PGROUP__MAX)
        return bad_param(err, "group_by must be one of subject, grade, school, municipality");
    if (asked != NULL && !ogrn_valid(asked))
        return bad_param(err, "organization must be an OGRN");
    r->org = asked;
    if (req->principal.role == ROLE_SCHOOL) {
        if (asked != NULL && strcmp(asked, req->principal.org) != 0) {
            kt_error_set(err, KT_DOMAIN_AUTH, KT_FORBIDDEN,
                         "a school reports on its own organisation only");
            return false;
        }
        r->org = req->principal.org;
    }
    return parse_as_of(req, &r->as_of, err);
}

/* --- scans -------------------------------------------------------------------------------------
 */

static bool
keep_progress(void *ctx, const scan_version_t *v, void *value, kt_error_t *err)
{
    const preport_t *r = ctx;

    (void)err;
    progress_summarize(v->doc, r->year, r->period, value);
    return true;
}

typedef struct {
    char oktmo[12];
} org_oktmo_t;

static bool
keep_org(void *ctx, const scan_version_t *v, void *value, kt_error_t *err)
{
    org_oktmo_t *o = value;
    const char *oktmo = util_get_str(v->doc, "oktmo");

    (void)ctx;
    (void)err;
    if (oktmo != NULL && strlen(oktmo) < sizeof o->oktmo)
        memcpy(o->oktmo, oktmo, strlen(oktmo) + 1);
    return true;
}

/* The municipality of a school: the first five digits of its ОКТМО padded
 * to the 8-digit code, as the migration report ("" when unknown). */
static void
municipality(strmap_t *orgs, const char *ogrn, char out[9])
{
    void *v = orgs != NULL && ogrn[0] != '\0' ? strmap_get(orgs, ogrn) : NULL;
    const org_oktmo_t *o = v != NULL ? scan_summary(v) : NULL;

    out[0] = '\0';
    if (o == NULL || strlen(o->oktmo) < 5)
        return;
    memcpy(out, o->oktmo, 5);
    memcpy(out + 5, "000", 4);
}

/* --- counting ----------------------------------------------------------------------------------
 */

static bool
add_to(preport_t *r, const char *key, const uint8_t *marks, size_t n)
{
    bool created;
    progress_cell_t *c = strmap_put(r->cells, key, &created);

    if (c == NULL)
        return false;
    if (created)
        memset(c, 0, sizeof *c);
    progress_cell_add(c, marks, n);
    return true;
}

static bool
count_one(preport_t *r, const progress_summary_t *s, strmap_t *orgs)
{
    char key[16];

    progress_cell_add(&r->total, s->marks, PROGRESS_REPORT_SUBJECTS);
    switch (r->group) {
    case PGROUP_SUBJECT:
        for (int i = 0; i < PROGRESS_REPORT_SUBJECTS && progress_subjects[i] != NULL; i++)
            if (s->marks[i] != PMARK_NONE && !add_to(r, progress_subjects[i], &s->marks[i], 1))
                return false;
        return true;
    case PGROUP_GRADE:
        snprintf(key, sizeof key, "%d", s->grade);
        break;
    case PGROUP_SCHOOL:
        snprintf(key, sizeof key, "%s", s->org);
        break;
    default:
        municipality(orgs, s->org, key);
        break;
    }
    return add_to(r, key, s->marks, PROGRESS_REPORT_SUBJECTS);
}

static bool
count_all(preport_t *r, strmap_t *records, strmap_t *orgs)
{
    size_t pos = 0;
    const char *id;
    void *value;

    while (strmap_next(records, &pos, &id, &value)) {
        const progress_summary_t *s = scan_summary(value);
        if (!s->used || (r->org != NULL && strcmp(s->org, r->org) != 0))
            continue;
        if (!count_one(r, s, orgs))
            return false;
    }
    return true;
}

static _Thread_local progress_group_t sort_group;

/* Grades as numbers, the rest as text; unknown ("") last. */
static int
key_cmp(const void *pa, const void *pb)
{
    const char *a = *(const char *const *)pa, *b = *(const char *const *)pb;

    if (a[0] == '\0' || b[0] == '\0')
        return (a[0] == '\0') - (b[0] == '\0');
    if (sort_group == PGROUP_GRADE && strlen(a) != strlen(b))
        return strlen(a) < strlen(b) ? -1 : 1;
    return strcmp(a, b);
}

/* The cells as sorted rows, with their suppression. */
static bool
make_rows(arena_t *arena, preport_t *r)
{
    size_t n = strmap_count(r->cells), pos = 0, k = 0;
    const char *key;
    void *value;

    r->keys = arena_calloc(arena, n + 1, sizeof *r->keys);
    r->rows = arena_calloc(arena, n + 1, sizeof *r->rows);
    if (r->keys == NULL || r->rows == NULL)
        return false;
    while (strmap_next(r->cells, &pos, &key, &value))
        if (((progress_cell_t *)value)->students > 0 && (r->keys[k] = arena_strdup(arena, key)))
            k++;
    sort_group = r->group;
    qsort(r->keys, k, sizeof *r->keys, key_cmp);
    for (size_t i = 0; i < k; i++)
        memcpy(&r->rows[i], strmap_get(r->cells, r->keys[i]), sizeof *r->rows);
    r->nrows = k;
    return progress_report_suppress(r->rows, k, &r->total, r->group != PGROUP_SUBJECT);
}

/* --- rendering ---------------------------------------------------------------------------------
 */

/* A subject's name in the answer's language (the code list "subject"). */
static const char *
subject_name(const char *code, bool en)
{
    const char *name = kt_msg_code("subject", code, en);

    return name != NULL ? name : code;
}

static void
json_count(jw_t *w, const char *key, int64_t n, bool hidden)
{
    jw_key(w, key);
    report_json_count(w, n, hidden);
}

static void
json_number(jw_t *w, const char *key, double v, bool hidden)
{
    jw_key(w, key);
    if (hidden || v < 0)
        jw_null(w);
    else
        jw_double(w, v);
}

static void
json_cell(jw_t *w, const progress_cell_t *c)
{
    json_count(w, "students", c->students, c->hidden);
    json_count(w, "passing", c->passing, c->passing_hidden);
    json_count(w, "quality", c->quality, c->quality_hidden);
    json_number(w, "success_rate", progress_rate(c->passing, c->students), c->passing_hidden);
    json_number(w, "quality_rate", progress_rate(c->quality, c->students), c->quality_hidden);
    json_number(w, "average_mark", progress_average(c), c->hidden);
    jw_key(w, "suppressed");
    jw_bool(w, c->hidden);
}

static bool
render_json(const preport_t *r, buf_t *out)
{
    jw_t w;

    jw_init(&w, out);
    jw_object_begin(&w);
    jw_key(&w, "year");
    jw_string(&w, r->year);
    jw_key(&w, "period");
    jw_string(&w, r->period);
    jw_key(&w, "as_of");
    jw_string(&w, r->as_of);
    jw_key(&w, "organization");
    jw_string(&w, r->org);
    jw_key(&w, "group_by");
    jw_string(&w, progress_group_name(r->group));
    jw_key(&w, "suppression_threshold");
    jw_int(&w, REPORT_K_MIN);
    jw_key(&w, "total");
    jw_object_begin(&w);
    json_cell(&w, &r->total);
    jw_object_end(&w);
    jw_key(&w, "rows");
    jw_array_begin(&w);
    for (size_t k = 0; k < r->nrows; k++) {
        jw_object_begin(&w);
        jw_key(&w, progress_group_name(r->group));
        if (r->keys[k][0] == '\0')
            jw_null(&w);
        else if (r->group == PGROUP_GRADE)
            jw_int(&w, strtol(r->keys[k], NULL, 10)); /* lint: allow (our own digits) */
        else
            jw_string(&w, r->keys[k]);
        if (r->group == PGROUP_SUBJECT) {
            jw_key(&w, "name");
            jw_string(&w, subject_name(r->keys[k], r->en));
        }
        json_cell(&w, &r->rows[k]);
        jw_object_end(&w);
    }
    jw_array_end(&w);
    jw_object_end(&w);
    return jw_ok(&w);
}

/* The people's CSV dialect of the contingent report (docs/reports.md "CSV"):
 * headers and subjects in the request's language, rates with the decimal
 * separator of that language (a comma in Russian, which a Russian-locale
 * spreadsheet reads as a number), an empty cell when hidden or undefined. */
static bool
csv_count(buf_t *out, int64_t n, bool hidden)
{
    char text[32];

    snprintf(text, sizeof text, "%lld", (long long)n);
    return report_csv_cell(out, hidden ? "" : text, false);
}

static bool
csv_number(buf_t *out, double v, bool hidden, bool en, bool last)
{
    char text[32];

    snprintf(text, sizeof text, "%g", v);
    if (!en)
        for (char *p = text; *p != '\0'; p++)
            *p = *p == '.' ? ',' : *p;
    return report_csv_cell(out, hidden || v < 0 ? "" : text, last);
}

static bool
csv_line(buf_t *out, const char *key, const progress_cell_t *c, bool en)
{
    return report_csv_cell(out, key, false) && csv_count(out, c->students, c->hidden) &&
           csv_count(out, c->passing, c->passing_hidden) &&
           csv_count(out, c->quality, c->quality_hidden) &&
           csv_number(out, progress_rate(c->passing, c->students), c->passing_hidden, en, false) &&
           csv_number(out, progress_rate(c->quality, c->students), c->quality_hidden, en, false) &&
           csv_number(out, progress_average(c), c->hidden, en, true);
}

static const char *
csv_key(const preport_t *r, size_t k)
{
    if (r->keys[k][0] == '\0')
        return kt_msg("not given", r->en);
    return r->group == PGROUP_SUBJECT ? subject_name(r->keys[k], r->en) : r->keys[k];
}

static bool
render_csv(const preport_t *r, buf_t *out)
{
    static const char *const heads[] = {"students",     "passing",      "quality",
                                        "success_rate", "quality_rate", "average_mark"};
    const char *group = kt_msg_code("progress_column", progress_group_name(r->group), r->en);
    bool ok = buf_puts(out, REPORT_CSV_BOM) &&
              report_csv_cell(out, group != NULL ? group : progress_group_name(r->group), false);

    for (size_t i = 0; ok && i < sizeof heads / sizeof *heads; i++)
        ok = report_csv_cell(out, kt_msg_code("progress_column", heads[i], r->en),
                             i + 1 == sizeof heads / sizeof *heads);
    for (size_t k = 0; ok && k < r->nrows; k++)
        ok = csv_line(out, csv_key(r, k), &r->rows[k], r->en);
    return ok && csv_line(out, kt_msg("Total", r->en), &r->total, r->en);
}

static bool
xml_cell(buf_t *out, const progress_cell_t *c)
{
    bool ok = true;

    if (!c->hidden)
        ok = buf_printf(out, " students=\"%lld\"", (long long)c->students);
    if (ok && !c->passing_hidden)
        ok = buf_printf(out, " passing=\"%lld\" successRate=\"%g\"", (long long)c->passing,
                        progress_rate(c->passing, c->students));
    if (ok && !c->quality_hidden)
        ok = buf_printf(out, " quality=\"%lld\" qualityRate=\"%g\"", (long long)c->quality,
                        progress_rate(c->quality, c->students));
    if (ok && !c->hidden && c->marks > 0)
        ok = buf_printf(out, " averageMark=\"%g\"", progress_average(c));
    return ok && (!c->hidden || buf_puts(out, " suppressed=\"true\""));
}

static bool
render_xml(const preport_t *r, buf_t *out)
{
    bool ok = buf_printf(out,
                         "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                         "<ProgressReport xmlns=\"urn:kontingent:exchange:1\" year=\"%s\" "
                         "period=\"%s\" groupBy=\"%s\"",
                         r->year, r->period, progress_group_name(r->group)) &&
              (r->as_of == NULL || buf_printf(out, " asOf=\"%s\"", r->as_of)) &&
              (r->org == NULL || buf_printf(out, " organization=\"%s\"", r->org)) &&
              buf_puts(out, ">\n  <Total") && xml_cell(out, &r->total) && buf_puts(out, "/>\n");

    for (size_t k = 0; ok && k < r->nrows; k++)
        ok = buf_printf(out, "  <Row key=\"%s\"", r->keys[k]) && xml_cell(out, &r->rows[k]) &&
             buf_puts(out, "/>\n");
    return ok && buf_puts(out, "</ProgressReport>\n");
}

#define SVG_WIDTH 960
#define SVG_LABEL 300
#define SVG_BAR   (SVG_WIDTH - SVG_LABEL - 90)
#define SVG_ROW   44
#define SVG_TOP   80

static bool
svg_bar(buf_t *out, int y, const char *cls, double rate, bool hidden, const char *what, bool en)
{
    int w = hidden || rate < 0 ? 1 : (int)(SVG_BAR * rate / 100.0);
    char text[256];

    if (hidden || rate < 0)
        kt_msg_format(en, text, sizeof text, "%s: hidden", kt_msg(what, en));
    else
        kt_msg_format(en, text, sizeof text, "%s: %g%%", kt_msg(what, en), rate);
    w = w > 1 ? w : 1;
    return buf_printf(out,
                      "<rect class=\"%s\" x=\"%d\" y=\"%d\" width=\"%d\" height=\"16\"/>"
                      "<text x=\"%d\" y=\"%d\">%s</text>\n",
                      cls, SVG_LABEL, y, w, SVG_LABEL + w + 6, y + 13, text);
}

static bool
svg_row(buf_t *out, const preport_t *r, size_t k)
{
    const progress_cell_t *c = &r->rows[k];
    int y = SVG_TOP + (int)k * SVG_ROW;
    char label[256];

    if (r->keys[k][0] == '\0')
        snprintf(label, sizeof label, "%s", kt_msg("not given", r->en));
    else if (r->group == PGROUP_GRADE)
        kt_msg_format(r->en, label, sizeof label, "grade %s", r->keys[k]);
    else
        snprintf(label, sizeof label, "%s",
                 r->group == PGROUP_SUBJECT ? subject_name(r->keys[k], r->en) : r->keys[k]);
    return buf_printf(out, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">%s</text>\n", SVG_LABEL - 8,
                      y + 20, label) &&
           svg_bar(out, y + 2, "s", progress_rate(c->passing, c->students), c->passing_hidden,
                   "success rate", r->en) &&
           svg_bar(out, y + 20, "q", progress_rate(c->quality, c->students), c->quality_hidden,
                   "quality", r->en);
}

static bool
render_svg(const preport_t *r, buf_t *out)
{
    int height = SVG_TOP + (int)r->nrows * SVG_ROW + 20;
    char title[256], total[256], quality[128] = "";
    bool ok;

    kt_msg_format(r->en, title, sizeof title,
                  "Success rate and quality of knowledge, %s, period %s", r->year, r->period);
    if (r->total.passing_hidden)
        kt_msg_format(r->en, total, sizeof total, "Total: hidden");
    else
        kt_msg_format(r->en, total, sizeof total, "Total: success rate %g%%",
                      progress_rate(r->total.passing, r->total.students));
    if (!r->total.quality_hidden)
        kt_msg_format(r->en, quality, sizeof quality, ", quality %g%%",
                      progress_rate(r->total.quality, r->total.students));
    ok = buf_printf(out,
                    "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
                    "viewBox=\"0 0 %d %d\" role=\"img\" aria-labelledby=\"t\">\n"
                    "<style>text{font:13px sans-serif;fill:#222}.h{font-size:17px;"
                    "font-weight:600}.s{fill:#2f6db5}.q{fill:#4a9d5b}</style>\n"
                    "<rect width=\"100%%\" height=\"100%%\" style=\"fill:#fff\"/>\n"
                    "<text id=\"t\" class=\"h\" x=\"16\" y=\"28\">%s</text>\n"
                    "<text x=\"16\" y=\"52\">%s%s</text>\n",
                    SVG_WIDTH, height, SVG_WIDTH, height, title, total, quality);
    for (size_t k = 0; ok && k < r->nrows; k++)
        ok = svg_row(out, r, k);
    return ok && buf_puts(out, "</svg>\n");
}

static bool
render(const request_t *req, const preport_t *r, response_t *res, kt_error_t *err)
{
    const char *type = report_accepted(req);
    bool ok;

    if (strcmp(type, "image/svg+xml") == 0 && r->nrows > REPORT_SVG_ROWS_MAX) {
        kt_error_set_status(err, KT_DOMAIN_INPUT, KT_FORMAT, 400,
                            "the chart would have %zu groups (at most %d): ask for text/csv",
                            r->nrows, REPORT_SVG_ROWS_MAX);
        return false;
    }
    response_reset(res, 200, strcmp(type, "text/csv") == 0 ? "text/csv; charset=utf-8" : type);
    if (strcmp(type, "text/csv") == 0)
        ok = render_csv(r, &res->body);
    else if (strcmp(type, "application/xml") == 0)
        ok = render_xml(r, &res->body);
    else if (strcmp(type, "image/svg+xml") == 0)
        ok = render_svg(r, &res->body);
    else
        ok = render_json(r, &res->body);
    if (!ok)
        kt_error_set(err, KT_DOMAIN_INTERNAL, KT_INTERNAL, "the report did not fit");
    return ok;
}

bool
handle_report_progress(const app_t *app, request_t *req, response_t *res, kt_error_t *err)
{
    store_conn_t *conn = handler_conn(app, req);
    preport_t r = {0};
    scan_spec_t spec = {.kind = &store_kind_progress,
                        .value_size = sizeof(progress_summary_t),
                        .max_bytes = PREPORT_MAX_BYTES,
                        .keep = keep_progress,
                        .ctx = &r};
    scan_spec_t orgs_spec = {.kind = &store_kind_organization,
                             .value_size = sizeof(org_oktmo_t),
                             .max_bytes = PREPORT_MAX_BYTES,
                             .keep = keep_org};
    strmap_t *records = NULL, *orgs = NULL;
    bool ok;

    if (conn == NULL || !preport_params(req, &r, err))
        return false;
    r.en = req->lang_en;
    spec.until = orgs_spec.until = r.as_of;
    r.cells = strmap_new(sizeof(progress_cell_t), PREPORT_MAX_BYTES);
    ok = r.cells != NULL && store_scan_latest(conn, &spec, &records, err) &&
         (r.group != PGROUP_MUNICIPALITY || store_scan_latest(conn, &orgs_spec, &orgs, err));
    ok = ok && count_all(&r, records, orgs) && make_rows(req->arena, &r);
    if (!ok && err->code == KT_OK)
        kt_error_set(err, KT_DOMAIN_STORE, KT_UNAVAILABLE, "out of memory for the report");
    ok = ok && render(req, &r, res, err);
    scan_free(&spec, records);
    scan_free(&orgs_spec, orgs);
    strmap_free(r.cells);
    return ok;
}
