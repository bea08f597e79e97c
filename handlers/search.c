/*
 * search: GET /api/v1/students?… — by СНИЛС or by document (through the
 * claims: one _id lookup), by name and birth date, or by organisation
 * (through the heads, cursor-paginated by id). Every hit is re-read at its
 * latest version and re-checked, since heads and claims are only hints.
 */
#include <string.h>

#include "handlers/common.h"
#include "handlers/handlers.h"
#include "handlers/students.h"
#include "model/student.h"
#include "model/validators.h"
#include "store/audit.h"
#include "store/util.h"

typedef struct {
    const char *field; /* head field to filter on, or NULL for a claim lookup */
    const char *value;
    const char *claim; /* claim key */
} query_t;

static bool
build_query(request_t *req, query_t *q, kt_error_t *err)
{
    const char *snils = request_query(req, "snils");
    const char *dtype = request_query(req, "document_type");
    const char *dnum = request_query(req, "document_number");
    const char *ln = request_query(req, "last_name"), *fn = request_query(req, "first_name");
    const char *bd = request_query(req, "birth_date"), *org = request_query(req, "organization");
    char digits[12];

    memset(q, 0, sizeof *q);
    /* Checked whichever search is done: a malformed parameter is refused, not ignored. */
    if (org != NULL && (strlen(org) != 13 || org[strspn(org, "0123456789")] != '\0')) {
        kt_error_set_status(err, KT_DOMAIN_INPUT, KT_FORMAT, 400,
                            "organization must be an OGRN, 13 digits");
        return false;
    }
    if (snils != NULL) {
        if (!snils_normalize(snils, digits)) {
            kt_error_set_status(err, KT_DOMAIN_INPUT, KT_FORMAT, 400,
                                "SNILS: 11 digits or XXX-XXX-XXX YY");
            return false;
        }
        q->claim = arena_printf(req->arena, "snils:%s", digits);
    } else if (dtype != NULL && dnum != NULL) {
        const char *series = request_query(req, "document_series");
        const char *key = student_doc_claim_key(req->arena, dtype, series ? series : "", dnum);
        q->claim = key != NULL ? arena_printf(req->arena, "doc:%s", key) : NULL;
    } else if (ln != NULL && fn != NULL && bd != NULL) {
        q->field = "name_key";
        q->value = arena_printf(req->arena, "%s|%s|%s", ln, fn, bd);
    } else if (org != NULL) {
        q->field = "organization";
        q->value = org;
    } else {
        goto bad;
    }
    return q->claim != NULL || q->value != NULL;
bad:
    kt_error_set_status(err, KT_DOMAIN_INPUT, KT_FORMAT, 400,
                        "search by snils, by document_type+document_number[+document_series], by "
                        "last_name+first_name+birth_date, or by organization");
    return false;
}

/* Does the student's latest version still match the query? */
static bool
still_matches(const request_t *req, const query_t *q, const record_t *s)
{
    const char *org = util_get_str(&s->doc, "organization");

    if (s->deleted || !students_visible(req, &s->doc))
        return false;
    if (q->field != NULL && strcmp(q->field, "organization") == 0)
        return org != NULL && strcmp(org, q->value) == 0;
    return true; /* claims are re-checked by their holder; names change rarely */
}

static bool
candidate_ids(const app_t *app, store_conn_t *conn, const request_t *req, const query_t *q,
              int limit, char (*ids)[40], int *n, kt_error_t *err)
{

    *n = 0;
    if (q->claim != NULL) {
        if (!store_claim_holder(conn, q->claim, ids[0], err))
            return false;
        *n = ids[0][0] ? 1 : 0;
        return true;
    }
    return store_student_find_ids(conn, q->field, q->value, request_query(req, "cursor"), limit,
                                  ids, n, err);
}

bool
handle_student_search(const app_t *app, request_t *req, response_t *res, kt_error_t *err)
{
    store_conn_t *conn = handler_conn(app, req);
    const char *purpose = NULL;
    healthdata_t h = students_health(app, req, conn);
    bool disclosed = false;
    query_t q;
    int limit, n = 0, shown = 0;
    char(*ids)[40] = arena_alloc(req->arena, sizeof(*ids) * (LIST_LIMIT_MAX + 1));
    const char **seen = arena_calloc(req->arena, LIST_LIMIT_MAX + 1, sizeof(char *));
    jw_t w;

    if (conn == NULL || ids == NULL || seen == NULL || !handler_limit(req, &limit, err) ||
        !handler_purpose(req, &purpose, err) || !build_query(req, &q, err) ||
        !candidate_ids(app, conn, req, &q, limit, ids, &n, err))
        return false;
    response_reset(res, 200, "application/json");
    jw_init(&w, &res->body);
    jw_object_begin(&w);
    jw_key(&w, "items");
    jw_array_begin(&w);
    for (int i = 0; i < n; i++) {
        record_t s;
        kt_error_t e;
        bool opened = false;
        kt_error_clear(&e);
        record_init(&s);
        if (store_student_get(conn, ids[i], &s, &e) && still_matches(req, &q, &s) &&
            healthdata_view(&h, &s.doc, &opened, &e)) {
            disclosed = disclosed || opened;
            students_write_json(&w, s.id, s.version, false, &s.doc);
            seen[shown++] = arena_strdup(req->arena, s.id);
        } else if (e.code != KT_OK && e.code != KT_NOT_FOUND) {
            *err = e;
            record_release(&s);
            return false;
        }
        record_release(&s);
    }
    jw_array_end(&w);
    jw_key(&w, "next_cursor");
    jw_string(&w, q.field != NULL && n == limit ? arena_strdup(req->arena, ids[n - 1]) : NULL);
    jw_object_end(&w);
    if (shown > 0 &&
        !students_log_read(app, req, conn, "search", seen, (size_t)shown, disclosed, purpose, err))
        return false;
    return true;
}
