/*
 * reports: GET /api/v1/reports/contingent and /api/v1/reports/migration
 * (docs/reports.md).
 *
 * Both scan the student versions once (store/scan.h) and keep, per student,
 * the summary of its latest version (or the latest written by known_at): the
 * facts on the report date (contingent) or the moves between schools
 * (migration). The dates of the education history say what was true when,
 * so a transfer dated after as_of leaves the student at the old school
 * however late it was entered; known_at reproduces an earlier answer. Aggregation
 * happens in the worker, so the store is asked for nothing it cannot do
 * (FerretDB has no useful $group over nested arrays). Who may ask: region,
 * ministry and admin for the whole region; a school for its own
 * organisation only; auditors review access, not statistics (403, by the
 * route table in fcgi/routes.c).
 * Aggregates disclose no one's record, so a report is not an access-log
 * entry; its request is in the request log like any other.
 */
#include <stdlib.h>
#include <string.h>

#include "core/strmap.h"
#include "handlers/common.h"
#include "handlers/handlers.h"
#include "service/healthdata.h"
#include "handlers/reports.h"
#include "model/calendar.h"
#include "model/education.h"
#include "model/validators.h"
#include "store/kind.h"
#include "store/scan.h"
#include "store/util.h"

/* Memory a report may hold (about 100 bytes per student: 1 GiB ≈ 10 million). */
#define REPORT_MAX_BYTES (1024u << 20)
#define REPORT_MOVES_MAX 64 /* moves of one student taken into account */
#define KEY_SEP          '\x1f'

/* Parameters shared by both reports. */

static bool
parse_date_param(const request_t *req, const char *name, const char **out, kt_error_t *err)
{
    const char *v = request_query(req, name);

    *out = NULL;
    if (v == NULL)
        return true;
    if (!date_parse(v, NULL, NULL, NULL) || strlen(v) != 10) {
        kt_error_set_status(err, KT_DOMAIN_INPUT, KT_FORMAT, 400, "%s must be a date, YYYY-MM-DD",
                            name);
        return false;
    }
    *out = v;
    return true;
}

/* ?level= — one level of the code list, or absent (every level). */
static bool
parse_level(const request_t *req, const char **out, kt_error_t *err)
{
    *out = request_query(req, "level");
    if (*out == NULL || education_level_valid(*out))
        return true;
    kt_error_set_status(err, KT_DOMAIN_INPUT, KT_FORMAT, 400,
                        "level must be one of PRESCHOOL, NOO, OOO, SOO, SPO, DOP");
    return false;
}

/* ?known_at= — what the registry knew then: the versions written up to that
 * time (a date counts to the end of that day in the region's zone,
 * model/calendar.h); NULL (absent): every version, today's knowledge. */
static bool
parse_known_at(const request_t *req, const char **bound, kt_error_t *err)
{
    const char *v = request_query(req, "known_at"), *date;
    char *end = NULL;

    *bound = NULL;
    if (v == NULL || strlen(v) != 10)
        return handler_time(req, "known_at", bound, err);
    if (!parse_date_param(req, "known_at", &date, err))
        return false;
    end = arena_alloc(req->arena, CALENDAR_TIME_SIZE);
    if (end == NULL)
        return false;
    if (!calendar_day_end(date, end)) { /* a valid date: only the C library can fail */
        kt_error_set(err, KT_DOMAIN_INTERNAL, KT_INTERNAL, "the end of the day %s", date);
        return false;
    }
    *bound = end;
    return true;
}

/* The organisation the principal may report on: NULL for the whole region. */
static bool
report_scope(const request_t *req, const char *asked, const char **org, kt_error_t *err)
{
    *org = asked;
    if (asked != NULL && (strlen(asked) != 13 || asked[strspn(asked, "0123456789")] != '\0')) {
        kt_error_set_status(err, KT_DOMAIN_INPUT, KT_FORMAT, 400,
                            "organization must be an OGRN, 13 digits");
        return false;
    }
    if (req->principal.role != ROLE_SCHOOL)
        return true; /* the route admits only the roles that report on the whole region */
    if (asked == NULL || strcmp(asked, req->principal.org) == 0) {
        *org = req->principal.org;
        return true;
    }
    kt_error_set(err, KT_DOMAIN_AUTH, KT_FORBIDDEN,
                 "a school reports on its own organisation only");
    return false;
}

const char *
report_accepted(const request_t *req)
{
    const char *accept = request_header(req, "accept");

    if (accept == NULL || strstr(accept, "application/json") != NULL)
        return "application/json";
    if (strstr(accept, "text/csv") != NULL)
        return "text/csv";
    if (strstr(accept, "image/svg+xml") != NULL)
        return "image/svg+xml";
    if (strstr(accept, "application/xml") != NULL || strstr(accept, "text/xml") != NULL)
        return "application/xml";
    return "application/json";
}

/* The organisations' ОКТМО and short names, as the registry said at the bound. */

typedef struct {
    char oktmo[12];
    char short_name[REPORT_ORG_NAME_MAX]; /* cut at a whole character */
} org_summary_t;

static void
copy_name(char *out, size_t cap, const char *name)
{
    size_t n = name != NULL ? strlen(name) : 0;

    if (n >= cap) {
        n = cap - 1;
        while (n > 0 && ((unsigned char)name[n] & 0xc0) == 0x80)
            n--; /* name[n] starts a character: cut before it */
    }
    if (n > 0)
        memcpy(out, name, n);
    out[n] = '\0';
}

static bool
keep_org(void *ctx, const scan_version_t *v, void *value, kt_error_t *err)
{
    org_summary_t *o = value;
    const char *oktmo = util_get_str(v->doc, "oktmo");

    (void)ctx;
    (void)err;
    if (oktmo != NULL && strlen(oktmo) < sizeof o->oktmo)
        memcpy(o->oktmo, oktmo, strlen(oktmo) + 1);
    copy_name(o->short_name, sizeof o->short_name, util_get_str(v->doc, "short_name"));
    return true;
}

static scan_spec_t
org_spec(const char *bound)
{
    return (scan_spec_t){.kind = &store_kind_organization,
                         .until = bound,
                         .value_size = sizeof(org_summary_t),
                         .max_bytes = REPORT_MAX_BYTES,
                         .keep = keep_org};
}

static const char *
org_oktmo(strmap_t *orgs, const char *ogrn)
{
    void *v = orgs != NULL && ogrn[0] != '\0' ? strmap_get(orgs, ogrn) : NULL;
    const org_summary_t *o = v != NULL ? scan_summary(v) : NULL;

    return o != NULL && o->oktmo[0] != '\0' ? o->oktmo : NULL;
}

static const char *
org_short_name(strmap_t *orgs, const char *ogrn)
{
    void *v = orgs != NULL && ogrn[0] != '\0' ? strmap_get(orgs, ogrn) : NULL;
    const org_summary_t *o = v != NULL ? scan_summary(v) : NULL;

    return o != NULL && o->short_name[0] != '\0' ? o->short_name : NULL;
}

static bool
scan_orgs(store_conn_t *conn, const char *bound, strmap_t **out, kt_error_t *err)
{
    scan_spec_t spec = org_spec(bound);

    return store_scan_latest(conn, &spec, out, err);
}

/* Contingent. */

typedef struct {
    const char *date;
    const healthdata_t *health; /* non-NULL: open sealed health blocks (health dimensions) */
} facts_ctx_t;

/* The facts of a version; with the health dimensions asked for (by a
 * principal with the health scope) its sealed block is opened first. */
static bool
keep_facts(void *ctx, const scan_version_t *v, void *value, kt_error_t *err)
{
    facts_ctx_t *c = ctx;
    bson_t opened;
    bool ok;

    if (c->health == NULL || v->deleted || !healthdata_has_sealed(v->doc)) {
        report_facts(v->doc, v->deleted, c->date, value);
        return true;
    }
    bson_copy_to(v->doc, &opened);
    ok = healthdata_view(c->health, &opened, NULL, err);
    if (ok)
        report_facts(&opened, v->deleted, c->date, value);
    bson_destroy(&opened);
    return ok;
}

/* Whether the report groups by d (the registry is scanned for ОКТМО and short names only). */
static bool
groups_by(const contingent_t *r, report_dim_t d)
{
    for (size_t i = 0; i < r->ndims; i++) {
        if (r->dims[i] == d)
            return true;
    }
    return false;
}

/* Health dimensions: the health scope only (403 otherwise, whatever the data).
 * The health ministry reports on health dimensions only: the education
 * ministry's statistics are not its business (docs/security.md, "Roles"). */
static bool
wants_health(const request_t *req, const contingent_t *r, kt_error_t *err)
{
    bool asked = false;

    for (size_t i = 0; i < r->ndims; i++)
        asked = asked || report_dim_health(r->dims[i]);
    if (!asked && req->principal.role == ROLE_MINISTRY_HEALTH) {
        kt_error_set(err, KT_DOMAIN_AUTH, KT_FORBIDDEN,
                     "the health ministry's reports are grouped by a health dimension "
                     "(health_group, disability, ovz)");
        return false;
    }
    if (asked && !principal_can_see_health(&req->principal)) {
        kt_error_set(err, KT_DOMAIN_AUTH, KT_FORBIDDEN,
                     "health_group, disability and ovz need the health scope");
        return false;
    }
    return asked;
}

/* Filters of the contingent report (NULL: any). */
typedef struct {
    const char *org;
    const char *level;
} contingent_filter_t;

static bool
counts_add(strmap_t *counts, const contingent_t *r, const report_facts_t *f, const char *oktmo)
{
    char key[DIM__MAX * 17], value[16];
    size_t k = 0;
    bool created;
    int64_t *n;

    for (size_t i = 0; i < r->ndims; i++) {
        report_dim_value(f, r->dims[i], r->age_on, oktmo, value);
        size_t len = strlen(value);
        memcpy(key + k, value, len);
        k += len;
        key[k++] = KEY_SEP;
    }
    key[k] = '\0';
    n = strmap_put(counts, key, &created);
    if (n == NULL)
        return false;
    (*n)++;
    return true;
}

static bool
count_students(strmap_t *students, strmap_t *orgs, contingent_t *r, const contingent_filter_t *flt,
               strmap_t *counts)
{
    size_t pos = 0;
    const char *id;
    void *value;

    while (strmap_next(students, &pos, &id, &value)) {
        const report_facts_t *f = scan_summary(value);
        if (flt->org != NULL && strcmp(f->org, flt->org) != 0)
            continue;
        if (flt->level != NULL && strcmp(f->level, flt->level) != 0)
            continue;
        if (f->deleted)
            continue; /* not on record in the version taken */
        if (!f->counted) {
            r->not_enrolled += flt->org == NULL && flt->level == NULL;
            continue;
        }
        r->total++;
        if (!counts_add(counts, r, f, org_oktmo(orgs, f->org)))
            return false;
    }
    return true;
}

static _Thread_local const contingent_t *sort_report;

static int
value_cmp(const char *a, const char *b, bool numeric)
{
    if (a[0] == '\0' || b[0] == '\0')
        return (a[0] == '\0') - (b[0] == '\0'); /* unknown last */
    if (numeric && strlen(a) != strlen(b))
        return strlen(a) < strlen(b) ? -1 : 1;
    return strcmp(a, b);
}

static int
row_cmp(const void *pa, const void *pb)
{
    const report_row_t *a = pa, *b = pb;

    for (size_t i = 0; i < sort_report->ndims; i++) {
        report_dim_t d = sort_report->dims[i];
        int c = value_cmp(a->values[d], b->values[d], report_dim_numeric(d));
        if (c != 0)
            return c;
    }
    return 0;
}

/* Splits each key back into its values; rows sorted by the group's values. */
static bool
rows_from_counts(arena_t *arena, strmap_t *counts, contingent_t *r)
{
    size_t pos = 0;
    const char *key;
    void *value;

    r->rows = arena_calloc(arena, strmap_count(counts) + 1, sizeof *r->rows);
    if (r->rows == NULL)
        return false;
    while (strmap_next(counts, &pos, &key, &value)) {
        report_row_t *row = &r->rows[r->nrows++];
        char *copy = arena_strdup(arena, key), *p = copy;
        if (copy == NULL)
            return false;
        for (size_t i = 0; i < r->ndims; i++) {
            char *sep = strchr(p, KEY_SEP);
            *sep = '\0';
            row->values[r->dims[i]] = p;
            p = sep + 1;
        }
        memcpy(&row->count, value, sizeof row->count);
    }
    sort_report = r; /* qsort has no context argument in C17 */
    qsort(r->rows, r->nrows, sizeof *r->rows, row_cmp);
    return true;
}

/* Each row's organisation by its short name, for people (CSV, the chart). */
static bool
name_rows(arena_t *arena, strmap_t *orgs, contingent_t *r)
{
    for (size_t k = 0; groups_by(r, DIM_ORGANIZATION) && k < r->nrows; k++) {
        const char *name = org_short_name(orgs, r->rows[k].values[DIM_ORGANIZATION]);
        if (name != NULL && (r->rows[k].org_name = arena_strdup(arena, name)) == NULL)
            return false;
    }
    return true;
}

/* Small-cell suppression of the rows, the total and not_enrolled (model/report.h). */
static bool
report_suppress_rows(contingent_t *r)
{
    int64_t *counts = malloc((r->nrows + 1) * sizeof *counts);
    bool *hidden = calloc(r->nrows + 1, sizeof *hidden);
    bool ok = counts != NULL && hidden != NULL;

    for (size_t k = 0; ok && k < r->nrows; k++)
        counts[k] = r->rows[k].count;
    if (ok) {
        r->total_hidden = report_suppress(counts, hidden, r->nrows, r->total);
        for (size_t k = 0; k < r->nrows; k++)
            r->rows[k].hidden = hidden[k];
        r->not_enrolled_hidden = report_small(r->not_enrolled);
    }
    free(counts);
    free(hidden);
    return ok;
}

static bool
contingent_params(request_t *req, contingent_t *r, contingent_filter_t *flt, const char **bound,
                  kt_error_t *err)
{
    const char *group_by = request_query(req, "group_by");
    char today[11], *fallback = arena_alloc(req->arena, 11), *age_on;

    if (fallback == NULL)
        return false;
    date_today(today);
    report_default_as_of(today, fallback);
    if (!parse_date_param(req, "as_of", &r->as_of, err) || !parse_known_at(req, bound, err) ||
        !parse_date_param(req, "age_on", &r->age_on, err))
        return false;
    if (!report_parse_group_by(group_by != NULL ? group_by : "organization", r->dims, &r->ndims,
                               err)) {
        kt_error_restatus(err, 400); /* a query parameter, not a body field */
        return false;
    }
    if (!report_scope(req, request_query(req, "organization"), &flt->org, err))
        return false;
    if (!parse_level(req, &flt->level, err))
        return false;
    r->as_of = r->as_of != NULL ? r->as_of : fallback;
    r->known_at = *bound;
    if (r->age_on == NULL) {
        age_on = arena_alloc(req->arena, 11);
        if (age_on == NULL)
            return false;
        report_default_age_on(r->as_of, age_on);
        r->age_on = age_on;
    }
    return true;
}

static bool
contingent_render(const request_t *req, const contingent_t *r, response_t *res, kt_error_t *err)
{
    const char *type = report_accepted(req);
    bool ok;

    if (strcmp(type, "image/svg+xml") == 0 && r->nrows > REPORT_SVG_ROWS_MAX) {
        kt_error_set_status(
            err, KT_DOMAIN_INPUT, KT_FORMAT, 400,
            "the chart would have %zu bars (at most %d): group by fewer dimensions or "
            "ask for text/csv",
            r->nrows, REPORT_SVG_ROWS_MAX);
        return false;
    }
    response_reset(res, 200, strcmp(type, "text/csv") == 0 ? "text/csv; charset=utf-8" : type);
    if (strcmp(type, "text/csv") == 0) {
        response_header(
            res, "Content-Disposition",
            arena_printf(req->arena, "attachment; filename=\"contingent-%s.csv\"", r->as_of));
        ok = report_render_csv(r, req->lang_en, &res->body);
    } else if (strcmp(type, "application/xml") == 0)
        ok = report_render_xml(r, &res->body);
    else if (strcmp(type, "image/svg+xml") == 0)
        ok = report_render_svg(r, req->lang_en, &res->body);
    else
        ok = report_render_json(r, &res->body);
    if (!ok)
        kt_error_set(err, KT_DOMAIN_INTERNAL, KT_INTERNAL, "the report did not fit");
    return ok;
}

bool
handle_report_contingent(const app_t *app, request_t *req, response_t *res, kt_error_t *err)
{
    store_conn_t *conn = handler_conn(app, req);
    const char *bound = NULL;
    contingent_t r = {0};
    contingent_filter_t flt = {0};
    facts_ctx_t fctx;
    scan_spec_t spec = {.kind = &store_kind_student,
                        .value_size = sizeof(report_facts_t),
                        .max_bytes = REPORT_MAX_BYTES,
                        .keep = keep_facts,
                        .ctx = &fctx};
    strmap_t *students = NULL, *orgs = NULL, *counts = NULL;
    bool ok;

    if (conn == NULL || !contingent_params(req, &r, &flt, &bound, err))
        return false;
    healthdata_t health = {app->health_ring, conn, &req->principal};
    fctx.date = r.as_of;
    fctx.health = wants_health(req, &r, err) ? &health : NULL;
    if (err->code != KT_OK)
        return false;
    spec.until = bound;
    ok = store_scan_latest(conn, &spec, &students, err);
    ok = ok && (!(groups_by(&r, DIM_OKTMO) || groups_by(&r, DIM_ORGANIZATION)) ||
                scan_orgs(conn, bound, &orgs, err));
    counts = ok ? strmap_new(sizeof(int64_t), REPORT_MAX_BYTES) : NULL;
    ok = ok && counts != NULL && count_students(students, orgs, &r, &flt, counts) &&
         rows_from_counts(req->arena, counts, &r) && report_suppress_rows(&r) &&
         name_rows(req->arena, orgs, &r);
    if (!ok && err->code == KT_OK)
        kt_error_set(err, KT_DOMAIN_STORE, KT_UNAVAILABLE, "out of memory for the report");
    scan_free(&spec, students);
    scan_free(&(scan_spec_t){0}, orgs); /* org summaries hold nothing to drop */
    strmap_free(counts);
    return ok && contingent_render(req, &r, res, err);
}

/* Migration. */

typedef struct {
    report_move_t *moves; /* malloc'd; NULL when none */
    size_t n;
} moves_summary_t;

static bool
keep_moves(void *ctx, const scan_version_t *v, void *value, kt_error_t *err)
{
    moves_summary_t *s = value;
    report_move_t buf[REPORT_MOVES_MAX];
    size_t n = v->deleted ? 0 : report_moves(v->doc, buf, REPORT_MOVES_MAX);

    (void)ctx;
    if (n == 0)
        return true;
    s->moves = malloc(n * sizeof *s->moves);
    if (s->moves == NULL) {
        kt_error_set(err, KT_DOMAIN_STORE, KT_UNAVAILABLE, "out of memory for the report");
        return false;
    }
    memcpy(s->moves, buf, n * sizeof *buf);
    s->n = n;
    return true;
}

static void
drop_moves(void *ctx, void *value)
{
    moves_summary_t *s = value;

    (void)ctx;
    free(s->moves);
    s->moves = NULL;
}

typedef struct {
    const char *from, *to, *level, *known_at;
    int64_t total;
    bool total_hidden; /* small-cell suppression (model/report.h) */
    strmap_t *flows;   /* "from␟to" → pair_cell_t */
    strmap_t *munis;   /* "oktmo␟oktmo" → pair_cell_t */
    strmap_t *totals;  /* ОГРН → org_totals_t */
} migration_t;

typedef struct {
    int64_t n;
    bool hidden;
} pair_cell_t;

typedef struct {
    int64_t in, out;
    bool in_hidden, out_hidden;
} org_totals_t;

/* The municipality (муниципальный район или городской округ) of an ОКТМО:
 * its first five digits, padded with zeros to the 8-digit code. */
static void
municipality(const char *oktmo, char out[9])
{
    if (oktmo == NULL || strlen(oktmo) < 5) {
        out[0] = '\0';
        return;
    }
    memcpy(out, oktmo, 5);
    memcpy(out + 5, "000", 4);
}

static bool
pair_add(strmap_t *map, const char *a, const char *b)
{
    char key[64];
    bool created;
    pair_cell_t *c;

    snprintf(key, sizeof key, "%s%c%s", a, KEY_SEP, b);
    c = strmap_put(map, key, &created);
    if (c == NULL)
        return false;
    c->n++;
    return true;
}

static bool
totals_add(strmap_t *map, const char *org, bool in)
{
    bool created;
    org_totals_t *t = org[0] != '\0' ? strmap_put(map, org, &created) : NULL;

    if (org[0] == '\0')
        return true;
    if (t == NULL)
        return false;
    if (in)
        t->in++;
    else
        t->out++;
    return true;
}

static bool
migration_add(migration_t *m, strmap_t *orgs, const report_move_t *mv)
{
    char ma[9], mb[9];

    if (strcmp(mv->date, m->from) < 0 || strcmp(mv->date, m->to) > 0)
        return true;
    if (m->level != NULL && strcmp(mv->level, m->level) != 0)
        return true;
    m->total++;
    municipality(org_oktmo(orgs, mv->from), ma);
    municipality(org_oktmo(orgs, mv->to), mb);
    return pair_add(m->flows, mv->from, mv->to) && pair_add(m->munis, ma, mb) &&
           totals_add(m->totals, mv->from, false) && totals_add(m->totals, mv->to, true);
}

static bool
migration_count(migration_t *m, strmap_t *students, strmap_t *orgs)
{
    size_t pos = 0;
    const char *id;
    void *value;

    while (strmap_next(students, &pos, &id, &value)) {
        const moves_summary_t *s = scan_summary(value);
        for (size_t i = 0; i < s->n; i++) {
            if (!migration_add(m, orgs, &s->moves[i]))
                return false;
        }
    }
    return true;
}

/* Small-cell suppression of a pair map against the total; true when the
 * total must be hidden too. */
static bool
suppress_pairs(strmap_t *map, int64_t total, bool *failed)
{
    size_t n = strmap_count(map), pos = 0, i = 0;
    int64_t *counts = malloc((n + 1) * sizeof *counts);
    bool *hidden = calloc(n + 1, sizeof *hidden), total_hidden = false;
    const char *key;
    void *value;

    *failed = counts == NULL || hidden == NULL;
    while (!*failed && strmap_next(map, &pos, &key, &value)) {
        counts[i] = ((pair_cell_t *)value)->n;
        hidden[i++] = ((pair_cell_t *)value)->hidden;
    }
    if (!*failed)
        total_hidden = report_suppress(counts, hidden, n, total);
    for (pos = 0, i = 0; !*failed && strmap_next(map, &pos, &key, &value);)
        ((pair_cell_t *)value)->hidden = hidden[i++];
    free(counts);
    free(hidden);
    return total_hidden;
}

/* A hidden flow hides what it is part of: its organisations' out and in,
 * and the flow between their municipalities. */
static void
hide_sums_of(migration_t *m, strmap_t *orgs, const char *key)
{
    char from[14], ma[9], mb[9], pair[64];
    const char *sep = strchr(key, KEY_SEP), *to = sep + 1;
    size_t len = (size_t)(sep - key);
    org_totals_t *t;
    pair_cell_t *c;

    if (len >= sizeof from)
        return; /* keys are ОГРН (13 digits) or "" */
    memcpy(from, key, len);
    from[len] = '\0';
    if (from[0] != '\0' && (t = strmap_get(m->totals, from)) != NULL)
        t->out_hidden = true;
    if (to[0] != '\0' && (t = strmap_get(m->totals, to)) != NULL)
        t->in_hidden = true;
    municipality(org_oktmo(orgs, from), ma);
    municipality(org_oktmo(orgs, to), mb);
    snprintf(pair, sizeof pair, "%s%c%s", ma, KEY_SEP, mb);
    if ((c = strmap_get(m->munis, pair)) != NULL)
        c->hidden = true;
}

/* Small-cell suppression of the whole answer (docs/reports.md). */
static bool
migration_suppress(migration_t *m, strmap_t *orgs)
{
    size_t pos = 0;
    const char *key;
    void *value;
    bool failed = false, hide_total = report_small(m->total);

    hide_total = suppress_pairs(m->flows, m->total, &failed) || hide_total;
    while (!failed && strmap_next(m->flows, &pos, &key, &value)) {
        if (((pair_cell_t *)value)->hidden)
            hide_sums_of(m, orgs, key);
    }
    hide_total = (!failed && suppress_pairs(m->munis, m->total, &failed)) || hide_total;
    for (pos = 0; !failed && strmap_next(m->totals, &pos, &key, &value);) {
        org_totals_t *t = value;
        t->in_hidden = t->in_hidden || report_small(t->in);
        t->out_hidden = t->out_hidden || report_small(t->out);
    }
    m->total_hidden = hide_total;
    return !failed;
}

/* Writes {"from": a|null, "to": b|null, "count": n} for each entry of a pair
 * map (a hidden count: null and "suppressed": true). */
static void
write_pairs(jw_t *w, strmap_t *map)
{
    size_t pos = 0;
    const char *key;
    void *value;

    jw_array_begin(w);
    while (strmap_next(map, &pos, &key, &value)) {
        const char *sep = strchr(key, KEY_SEP);
        const pair_cell_t *c = value;
        jw_object_begin(w);
        jw_key(w, "from");
        if (sep == key)
            jw_null(w);
        else
            jw_string_n(w, key, (size_t)(sep - key));
        jw_key(w, "to");
        jw_string(w, sep[1] != '\0' ? sep + 1 : NULL);
        jw_key(w, "count");
        report_json_count(w, c->n, c->hidden);
        if (c->hidden) {
            jw_key(w, "suppressed");
            jw_bool(w, true);
        }
        jw_object_end(w);
    }
    jw_array_end(w);
}

static void
write_totals(jw_t *w, strmap_t *totals, strmap_t *orgs)
{
    size_t pos = 0;
    const char *org;
    void *value;

    jw_array_begin(w);
    while (strmap_next(totals, &pos, &org, &value)) {
        const org_totals_t *t = value;
        jw_object_begin(w);
        jw_key(w, "organization");
        jw_string(w, org);
        jw_key(w, "oktmo");
        jw_string(w, org_oktmo(orgs, org));
        jw_key(w, "in");
        report_json_count(w, t->in, t->in_hidden);
        jw_key(w, "out");
        report_json_count(w, t->out, t->out_hidden);
        jw_key(w, "net");
        report_json_count(w, t->in - t->out, t->in_hidden || t->out_hidden);
        if (t->in_hidden || t->out_hidden) {
            jw_key(w, "suppressed");
            jw_bool(w, true);
        }
        jw_object_end(w);
    }
    jw_array_end(w);
}

static bool
migration_render(const migration_t *m, strmap_t *orgs, buf_t *out)
{
    jw_t w;

    jw_init(&w, out);
    jw_object_begin(&w);
    jw_key(&w, "from");
    jw_string(&w, m->from);
    jw_key(&w, "to");
    jw_string(&w, m->to);
    jw_key(&w, "level");
    jw_string(&w, m->level);
    jw_key(&w, "known_at");
    jw_string(&w, m->known_at);
    jw_key(&w, "total_moves");
    report_json_count(&w, m->total, m->total_hidden);
    jw_key(&w, "suppression_threshold");
    jw_int(&w, REPORT_K_MIN);
    jw_key(&w, "flows");
    write_pairs(&w, m->flows);
    jw_key(&w, "municipalities");
    write_pairs(&w, m->munis);
    jw_key(&w, "organizations");
    write_totals(&w, m->totals, orgs);
    jw_object_end(&w);
    return jw_ok(&w);
}

static bool
migration_params(request_t *req, migration_t *m, const char **bound, kt_error_t *err)
{
    char today[11], *start = arena_alloc(req->arena, 11), *end = arena_strdup(req->arena, "");
    const char *scope;

    if (start == NULL || end == NULL)
        return false;
    date_today(today);
    report_default_as_of(today, start);
    memcpy(start + 5, "09-01", 5); /* the school year of the last reference date */
    if (!parse_date_param(req, "from", &m->from, err) ||
        !parse_date_param(req, "to", &m->to, err) || !parse_known_at(req, bound, err) ||
        !report_scope(req, request_query(req, "organization"), &scope, err))
        return false;
    if (scope != NULL) {
        kt_error_set(err, KT_DOMAIN_AUTH, KT_FORBIDDEN,
                     "migration between schools is reported for the whole region only");
        return false;
    }
    if (!parse_level(req, &m->level, err))
        return false;
    m->from = m->from != NULL ? m->from : start;
    m->to = m->to != NULL ? m->to : arena_strdup(req->arena, today);
    if (m->to == NULL || strcmp(m->from, m->to) > 0) {
        kt_error_set_status(err, KT_DOMAIN_INPUT, KT_FORMAT, 400, "from must not be after to");
        return false;
    }
    return true;
}

bool
handle_report_migration(const app_t *app, request_t *req, response_t *res, kt_error_t *err)
{
    store_conn_t *conn = handler_conn(app, req);
    const char *bound = NULL;
    migration_t m = {0};
    scan_spec_t spec = {.kind = &store_kind_student,
                        .value_size = sizeof(moves_summary_t),
                        .max_bytes = REPORT_MAX_BYTES,
                        .keep = keep_moves,
                        .drop = drop_moves};
    strmap_t *students = NULL, *orgs = NULL;
    bool ok;

    if (conn == NULL || !migration_params(req, &m, &bound, err))
        return false;
    m.known_at = bound;
    spec.until = bound;
    m.flows = strmap_new(sizeof(pair_cell_t), REPORT_MAX_BYTES);
    m.munis = strmap_new(sizeof(pair_cell_t), REPORT_MAX_BYTES);
    m.totals = strmap_new(sizeof(org_totals_t), REPORT_MAX_BYTES);
    ok = m.flows != NULL && m.munis != NULL && m.totals != NULL &&
         store_scan_latest(conn, &spec, &students, err) && scan_orgs(conn, bound, &orgs, err) &&
         migration_count(&m, students, orgs) && migration_suppress(&m, orgs);
    if (ok) {
        response_reset(res, 200, "application/json");
        ok = migration_render(&m, orgs, &res->body);
    }
    if (!ok && err->code == KT_OK)
        kt_error_set(err, KT_DOMAIN_STORE, KT_UNAVAILABLE, "out of memory for the report");
    scan_free(&spec, students);
    scan_free(&(scan_spec_t){0}, orgs); /* org summaries hold nothing to drop */
    strmap_free(m.flows);
    strmap_free(m.munis);
    strmap_free(m.totals);
    return ok;
}
