/*
 * report: see model/report.h. Documents are read with bson iterators; a
 * member of the wrong type counts as absent (the write path never stores
 * one, and verify reports a corrupted record).
 */
#include "model/report.h"

#include <stdio.h>
#include <string.h>

#include "model/validators.h"

static const char *const dim_names[DIM__MAX] = {
    "organization", "oktmo", "level",        "grade",      "sex", "age",
    "citizenship",  "form",  "health_group", "disability", "ovz",
};

const char *
report_dim_name(report_dim_t d)
{
    return d < DIM__MAX ? dim_names[d] : NULL;
}

bool
report_dim_health(report_dim_t d)
{
    return d == DIM_HEALTH_GROUP || d == DIM_DISABILITY || d == DIM_OVZ;
}

bool
report_dim_numeric(report_dim_t d)
{
    return d == DIM_GRADE || d == DIM_AGE;
}

static bool
dim_parse(const char *s, size_t len, report_dim_t *out)
{
    for (int d = 0; d < DIM__MAX; d++) {
        if (strlen(dim_names[d]) == len && memcmp(dim_names[d], s, len) == 0) {
            *out = (report_dim_t)d;
            return true;
        }
    }
    return false;
}

bool
report_parse_group_by(const char *s, report_dim_t *dims, size_t *n, kt_error_t *err)
{
    *n = 0;
    if (s != NULL && *s == '\0')
        return true;
    while (s != NULL) {
        const char *comma = strchr(s, ',');
        size_t len = comma != NULL ? (size_t)(comma - s) : strlen(s);
        report_dim_t d;
        if (!dim_parse(s, len, &d)) {
            kt_error_set(err, KT_DOMAIN_INPUT, KT_FORMAT,
                         "group_by: %.*s is not one of organization, oktmo, level, grade, sex, "
                         "age, citizenship, form, health_group, disability, ovz",
                         (int)(len > 40 ? 40 : len), s);
            return false;
        }
        for (size_t i = 0; i < *n; i++) {
            if (dims[i] == d) {
                kt_error_set(err, KT_DOMAIN_INPUT, KT_FORMAT, "group_by names %s twice",
                             dim_names[d]);
                return false;
            }
        }
        dims[(*n)++] = d;
        s = comma != NULL ? comma + 1 : NULL;
    }
    return true;
}

/* Reading documents. */

static const char *
doc_str(const bson_t *doc, const char *key)
{
    bson_iter_t it;

    if (bson_iter_init_find(&it, doc, key) && BSON_ITER_HOLDS_UTF8(&it))
        return bson_iter_utf8(&it, NULL);
    return "";
}

static int64_t
doc_int(const bson_t *doc, const char *key, int64_t fallback)
{
    bson_iter_t it;

    if (bson_iter_init_find(&it, doc, key) &&
        (BSON_ITER_HOLDS_INT64(&it) || BSON_ITER_HOLDS_INT32(&it)))
        return bson_iter_as_int64(&it);
    return fallback;
}

/* The sub-document (or array) at it, as a static bson_t. */
static bool
doc_child(const bson_iter_t *it, bson_t *out)
{
    uint32_t len;
    const uint8_t *data;

    if (BSON_ITER_HOLDS_DOCUMENT(it))
        bson_iter_document(it, &len, &data);
    else if (BSON_ITER_HOLDS_ARRAY(it))
        bson_iter_array(it, &len, &data);
    else
        return false;
    return bson_init_static(out, data, len);
}

static bool
doc_member(const bson_t *doc, const char *key, bson_t *out)
{
    bson_iter_t it;

    return bson_iter_init_find(&it, doc, key) && doc_child(&it, out);
}

static void
copy(char *dst, size_t size, const char *src)
{
    snprintf(dst, size, "%s", src);
}

static bool
is_main_level(const char *level)
{
    return level[0] != '\0' && strcmp(level, "DOP") != 0;
}

/* enrolled_on ≤ date and not ended on or before it. */
static bool
episode_open_on(const bson_t *ep, const char *date)
{
    const char *from = doc_str(ep, "enrolled_on"), *to = doc_str(ep, "ended_on");

    if (from[0] == '\0' || strcmp(from, date) > 0)
        return false;
    if (strcmp(doc_str(ep, "status"), "ENDED") != 0)
        return true;
    return to[0] != '\0' && strcmp(to, date) > 0;
}

/* The grade of the episode's latest event dated ≤ date that carries one. */
static int
episode_grade_on(const bson_t *ep, const char *date)
{
    bson_t events, ev;
    bson_iter_t it;
    int grade = -1;

    if (!doc_member(ep, "events", &events) || !bson_iter_init(&it, &events))
        return (int)doc_int(ep, "grade", -1);
    while (bson_iter_next(&it)) {
        if (!doc_child(&it, &ev) || strcmp(doc_str(&ev, "date"), date) > 0)
            continue;
        int64_t g = doc_int(&ev, "grade", -1);
        if (g >= 0 && g <= 12)
            grade = (int)g;
    }
    return grade;
}

/* The health dimensions from an opened block: unknown without one. */
static void
health_facts(const bson_t *doc, report_facts_t *out)
{
    bson_t health, dis, ovz;

    if (!doc_member(doc, "health", &health))
        return;
    copy(out->health_group, sizeof out->health_group, doc_str(&health, "health_group"));
    copy(out->disability, sizeof out->disability,
         doc_member(&health, "disability", &dis) ? doc_str(&dis, "group") : "NONE");
    copy(out->ovz, sizeof out->ovz, doc_member(&health, "ovz", &ovz) ? "YES" : "NO");
}

void
report_facts(const bson_t *doc, bool deleted, const char *date, report_facts_t *out)
{
    bson_t education, ep, cit;
    bson_iter_t it;

    memset(out, 0, sizeof *out);
    out->grade = -1;
    copy(out->birth, sizeof out->birth, doc_str(doc, "birth_date"));
    copy(out->sex, sizeof out->sex, doc_str(doc, "sex"));
    if (doc_member(doc, "citizenship", &cit))
        copy(out->citizenship, sizeof out->citizenship, doc_str(&cit, "category"));
    health_facts(doc, out);
    out->deleted = deleted;
    if (deleted || !doc_member(doc, "education", &education) || !bson_iter_init(&it, &education))
        return;
    while (bson_iter_next(&it)) {
        if (!doc_child(&it, &ep) || !is_main_level(doc_str(&ep, "level")) ||
            !episode_open_on(&ep, date))
            continue;
        out->counted = true;
        copy(out->org, sizeof out->org, doc_str(&ep, "organization"));
        copy(out->level, sizeof out->level, doc_str(&ep, "level"));
        copy(out->form, sizeof out->form, doc_str(&ep, "form"));
        out->grade = (int8_t)episode_grade_on(&ep, date);
    }
}

int
report_age(const char *birth, const char *on)
{
    int by, bm, bd, y, m, d;

    if (!date_parse(birth, &by, &bm, &bd) || !date_parse(on, &y, &m, &d) || strcmp(birth, on) > 0)
        return -1;
    return y - by - (m < bm || (m == bm && d < bd));
}

void
report_dim_value(const report_facts_t *f, report_dim_t d, const char *age_on, const char *oktmo,
                 char out[16])
{
    int n;

    out[0] = '\0';
    switch (d) {
    case DIM_ORGANIZATION:
        copy(out, 16, f->org);
        break;
    case DIM_OKTMO:
        copy(out, 16, oktmo != NULL ? oktmo : "");
        break;
    case DIM_LEVEL:
        copy(out, 16, f->level);
        break;
    case DIM_GRADE:
        if (f->grade >= 0)
            snprintf(out, 16, "%d", f->grade);
        break;
    case DIM_SEX:
        copy(out, 16, f->sex);
        break;
    case DIM_AGE:
        n = report_age(f->birth, age_on);
        if (n >= 0)
            snprintf(out, 16, "%d", n);
        break;
    case DIM_CITIZENSHIP:
        copy(out, 16, f->citizenship);
        break;
    case DIM_FORM:
        copy(out, 16, f->form);
        break;
    case DIM_HEALTH_GROUP:
        copy(out, 16, f->health_group);
        break;
    case DIM_DISABILITY:
        copy(out, 16, f->disability);
        break;
    case DIM_OVZ:
        copy(out, 16, f->ovz);
        break;
    default:
        break;
    }
}

/* Moves. */

static const char *
first_event_type(const bson_t *ep)
{
    bson_t events, ev;
    bson_iter_t it;

    if (doc_member(ep, "events", &events) && bson_iter_init(&it, &events) && bson_iter_next(&it) &&
        doc_child(&it, &ev))
        return doc_str(&ev, "type");
    return "";
}

static void
move_set(report_move_t *m, const char *from, const char *to, const char *date, const char *level)
{
    copy(m->from, sizeof m->from, from);
    copy(m->to, sizeof m->to, to);
    copy(m->date, sizeof m->date, date);
    copy(m->level, sizeof m->level, level);
}

size_t
report_moves(const bson_t *doc, report_move_t *out, size_t max)
{
    bson_t education, ep;
    bson_iter_t it;
    size_t n = 0;
    bool pending = false; /* the previous main episode ended by TRANSFER_OUT */

    if (!doc_member(doc, "education", &education) || !bson_iter_init(&it, &education))
        return 0;
    while (n < max && bson_iter_next(&it)) {
        if (!doc_child(&it, &ep) || !is_main_level(doc_str(&ep, "level")))
            continue;
        bool in = strcmp(first_event_type(&ep), "TRANSFER_IN") == 0;
        if (pending && in)
            copy(out[n - 1].to, sizeof out[n - 1].to, doc_str(&ep, "organization"));
        else if (in)
            move_set(&out[n++], "", doc_str(&ep, "organization"), doc_str(&ep, "enrolled_on"),
                     doc_str(&ep, "level"));
        pending = strcmp(doc_str(&ep, "end_reason"), "TRANSFER_OUT") == 0;
        if (pending && n < max)
            move_set(&out[n++], doc_str(&ep, "organization"), doc_str(&ep, "transfer_to"),
                     doc_str(&ep, "ended_on"), doc_str(&ep, "level"));
        else if (pending)
            pending = false;
    }
    return n;
}

/* Reference dates. */

void
report_default_as_of(const char *today, char out[11])
{
    int y, m, d;

    if (!date_parse(today, &y, &m, &d)) {
        copy(out, 11, today);
        return;
    }
    if (m < 9 || (m == 9 && d < 20))
        y--;
    snprintf(out, 11, "%04d-09-20", y);
}

void
report_default_age_on(const char *as_of, char out[11])
{
    int y, m, d;

    if (!date_parse(as_of, &y, &m, &d)) {
        copy(out, 11, as_of);
        return;
    }
    /* The school year of as_of starts on 1 September; ages count on the
     * 1 January inside it (ОО-1: «число полных лет на 1 января следующего года»). */
    snprintf(out, 11, "%04d-01-01", m >= 9 ? y + 1 : y);
}

bool
report_small(int64_t count)
{
    return count > 0 && count < REPORT_K_MIN;
}

/* Whether the hidden cells' sum tells each of them (or there is one). */
static bool
hidden_revealing(const int64_t *counts, const bool *hidden, size_t n)
{
    int64_t sum = 0, cells = 0;

    for (size_t i = 0; i < n; i++) {
        if (hidden[i]) {
            sum += counts[i];
            cells++;
        }
    }
    return cells > 0 && (cells == 1 || sum == cells || sum == cells * (REPORT_K_MIN - 1));
}

/* The smallest shown non-zero cell (the first of equals); n when none. */
static size_t
smallest_shown(const int64_t *counts, const bool *hidden, size_t n)
{
    size_t best = n;

    for (size_t i = 0; i < n; i++) {
        if (!hidden[i] && counts[i] > 0 && (best == n || counts[i] < counts[best]))
            best = i;
    }
    return best;
}

bool
report_suppress(const int64_t *counts, bool *hidden, size_t n, int64_t total)
{
    for (size_t i = 0; i < n; i++)
        hidden[i] = hidden[i] || report_small(counts[i]);
    while (hidden_revealing(counts, hidden, n)) {
        size_t next = smallest_shown(counts, hidden, n);
        if (next == n)
            return true; /* every cell is hidden: only hiding the total protects them */
        hidden[next] = true;
    }
    return report_small(total);
}
