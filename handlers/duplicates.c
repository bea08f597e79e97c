/*
 * duplicates: GET /api/v1/students/{id}/duplicates, GET /api/v1/duplicates,
 * POST /api/v1/duplicates/{pair}/dismiss, and the flag of a create
 * (handlers/duplicates.h; docs/duplicates.md). The routes are the region's
 * and the administrators' (fcgi/routes.c): the candidates of a student come
 * from every school. Candidates and pairs tie students together, so every
 * answer naming students is access-logged like a read.
 */
#include "handlers/duplicates.h"

#include <string.h>

#include "handlers/common.h"
#include "handlers/handlers.h"
#include "handlers/records.h"
#include "handlers/students.h"
#include "http/log.h"
#include "model/codec.h"
#include "model/validators.h"
#include "service/duplicates.h"
#include "store/audit.h"
#include "store/duplicates.h"
#include "store/util.h"

static const char *
str_or_empty(const char *s)
{
    return s != NULL ? s : "";
}

/* The access-log row of an answer naming students ids (n of them). */
static bool
log_students(request_t *req, store_conn_t *conn, const char *what, const char *const *ids, size_t n,
             kt_error_t *err)
{
    return n == 0 || audit_log_read(conn, &req->principal, req->request_id, what, ids, n, err);
}

/* Whether the principal may see a student of organisation org. */
static bool
may_see(const request_t *req, const char *org)
{
    return req->principal.role != ROLE_SCHOOL || strcmp(org, req->principal.org) == 0;
}

const char *
duplicates_after_create(const app_t *app, request_t *req, store_conn_t *conn,
                        const write_meta_t *meta, const char *id, const bson_t *doc)
{
    dup_candidate_t found[DUP_CANDIDATES_MAX];
    const char *ids[DUP_CANDIDATES_MAX], *value = "";
    char pair[STUDENT_ID_LEN + 1];
    size_t nshown = 0;
    int n = 0;
    kt_error_t err;

    kt_error_clear(&err);
    if (!duplicates_flag(conn, id, doc, meta, found, DUP_CANDIDATES_MAX, &n, &err)) {
        log_event(LOG_ERROR, "request %s: student %s created, its duplicates not searched: %s",
                  req->request_id, id, err.message);
        return NULL;
    }
    if (n == 0)
        return NULL;
    for (int i = 0; i < n; i++)
        if (may_see(req, found[i].org))
            ids[nshown++] = found[i].id;
    if (!log_students(req, conn, "duplicate_candidates", ids, nshown, &err)) {
        log_event(LOG_ERROR, "request %s: the access log refused the duplicates of %s (%s)",
                  req->request_id, id, err.message);
        nshown = 0; /* the pairs are stored; the answer names no other student */
    }
    for (int i = 0; i < n && value != NULL; i++) {
        bool shown = nshown > 0 && may_see(req, found[i].org);
        duplicates_pair_id(id, found[i].id, pair);
        value = arena_printf(req->arena, "%s%s%s;score=%d%s%s", value, i ? ", " : "", pair,
                             found[i].score, shown ? ";student=" : "", shown ? found[i].id : "");
    }
    return value;
}

/* --- GET /api/v1/students/{id}/duplicates --- */

static void
write_agree(jw_t *w, unsigned agree)
{
    jw_key(w, "agree");
    jw_array_begin(w);
    for (int i = 0; i < DUP_AGREE_BITS; i++)
        if (agree & (1u << i))
            jw_string(w, duplicates_agree_name(1u << i));
    jw_array_end(w);
}

/* A candidate: its id, score, what agrees, and what an operator compares. */
static void
write_candidate(jw_t *w, const dup_candidate_t *c, const bson_t *doc)
{
    static const char *const shown[] = {"last_name", "first_name",  "middle_name",  "birth_date",
                                        "sex",       "birth_place", "organization", NULL};

    jw_object_begin(w);
    jw_key(w, "student_id");
    jw_string(w, c->id);
    jw_key(w, "score");
    jw_int(w, c->score);
    write_agree(w, c->agree);
    for (int i = 0; shown[i] != NULL; i++)
        if (util_get_str(doc, shown[i]) != NULL) {
            jw_key(w, shown[i]);
            jw_string(w, util_get_str(doc, shown[i]));
        }
    jw_object_end(w);
}

/* The candidates' current documents, in found's order (a candidate gone
 * since the search is left out: *n shrinks). */
static bool
load_candidates(store_conn_t *conn, dup_candidate_t *found, int *n, record_t *docs, kt_error_t *err)
{
    int kept = 0;

    for (int i = 0; i < *n; i++) {
        kt_error_t e;
        kt_error_clear(&e);
        if (!store_student_get(conn, found[i].id, &docs[kept], &e)) {
            if (e.code != KT_NOT_FOUND) {
                *err = e;
                *n = kept;
                return false;
            }
            continue;
        }
        if (docs[kept].deleted) {
            record_release(&docs[kept]);
            record_init(&docs[kept]);
            continue;
        }
        found[kept++] = found[i];
    }
    *n = kept;
    return true;
}

static void
answer_candidates(request_t *req, response_t *res, const char *id, const dup_candidate_t *found,
                  const record_t *docs, int n)
{
    jw_t w;

    response_reset(res, 200, "application/json");
    jw_init(&w, &res->body);
    jw_object_begin(&w);
    jw_key(&w, "student_id");
    jw_string(&w, id);
    jw_key(&w, "threshold");
    jw_int(&w, DUP_THRESHOLD);
    jw_key(&w, "items");
    jw_array_begin(&w);
    for (int i = 0; i < n; i++)
        write_candidate(&w, &found[i], &docs[i].doc);
    jw_array_end(&w);
    jw_object_end(&w);
}

bool
handle_student_duplicates(const app_t *app, request_t *req, response_t *res, kt_error_t *err)
{
    store_conn_t *conn = handler_conn(app, req);
    dup_candidate_t found[DUP_CANDIDATES_MAX];
    record_t self, docs[DUP_CANDIDATES_MAX];
    const char *ids[DUP_CANDIDATES_MAX + 1];
    int n = 0;
    bool ok = false;

    record_init(&self);
    for (int i = 0; i < DUP_CANDIDATES_MAX; i++)
        record_init(&docs[i]);
    if (conn == NULL || !students_load(app, req, conn, &self, err))
        goto done;
    if (self.deleted) {
        ok = records_answer_gone(req, res, &self, err);
        goto done;
    }
    if (!duplicates_find(conn, DUP_SCOPE_ALL, self.id, &self.doc, DUP_FLOOR, found,
                         DUP_CANDIDATES_MAX, &n, NULL, err) ||
        !load_candidates(conn, found, &n, docs, err))
        goto done;
    ids[0] = self.id;
    for (int i = 0; i < n; i++)
        ids[i + 1] = found[i].id;
    if (!log_students(req, conn, "student_duplicates", ids, (size_t)n + 1, err))
        goto done;
    answer_candidates(req, res, self.id, found, docs, n);
    ok = true;
done:
    record_release(&self);
    for (int i = 0; i < DUP_CANDIDATES_MAX; i++)
        record_release(&docs[i]);
    return ok;
}

/* --- GET /api/v1/duplicates --- */

/* A page of open pairs: their JSON, the students they name (for the access
 * log), the last one's cursor. */
typedef struct {
    request_t *req;
    jw_t *w;
    const char **ids;
    size_t nids;
    int n;
    const char *last_created, *last_id;
} pairs_page_t;

/* A pair as the API shows it: {id, students: [a, b], then the stored
 * members but _id, a and b}. */
static void
write_pair(jw_t *w, const bson_t *pair)
{
    bson_t view = BSON_INITIALIZER, arr;
    const char *a = util_get_str(pair, "a"), *b = util_get_str(pair, "b");

    BSON_APPEND_UTF8(&view, "id", util_get_str(pair, "_id") ? util_get_str(pair, "_id") : "");
    BSON_APPEND_ARRAY_BEGIN(&view, "students", &arr);
    BSON_APPEND_UTF8(&arr, "0", a != NULL ? a : "");
    BSON_APPEND_UTF8(&arr, "1", b != NULL ? b : "");
    bson_append_array_end(&view, &arr);
    bson_copy_to_excluding_noinit(pair, &view, "_id", "a", "b", NULL);
    codec_bson_to_json(w, &view, false, NULL);
    bson_destroy(&view);
}

static bool
page_visit(void *ctx, const bson_t *pair)
{
    pairs_page_t *p = ctx;
    const char *a = util_get_str(pair, "a"), *b = util_get_str(pair, "b");

    write_pair(p->w, pair);
    if (a != NULL)
        p->ids[p->nids++] = arena_strdup(p->req->arena, a);
    if (b != NULL)
        p->ids[p->nids++] = arena_strdup(p->req->arena, b);
    p->last_created = arena_strdup(p->req->arena, str_or_empty(util_get_str(pair, "created")));
    p->last_id = arena_strdup(p->req->arena, str_or_empty(util_get_str(pair, "_id")));
    p->n++;
    return true;
}

/* The list's filter (organization= a valid ОГРН, municipality= 8 digits
 * of an ОКТМО; not both) and cursor ("<created>_<pair id>"). */
static bool
list_query(request_t *req, const char **field, const char **value, char **created,
           const char **after, kt_error_t *err)
{
    const char *org = request_query(req, "organization"), *mun = request_query(req, "municipality");
    const char *cursor = request_query(req, "cursor");
    char *sep;

    *field = *value = *after = NULL;
    *created = NULL;
    if (org != NULL && mun != NULL) {
        kt_error_set_status(err, KT_DOMAIN_INPUT, KT_FORMAT, 400,
                            "organization and municipality: one filter at a time");
        return false;
    }
    if (org != NULL && !(strlen(org) == 13 && ogrn_valid(org))) {
        kt_error_set_status(err, KT_DOMAIN_INPUT, KT_FORMAT, 400, "organization: not a valid OGRN");
        return false;
    }
    if (mun != NULL && !(strlen(mun) == 8 && strspn(mun, "0123456789") == 8)) {
        kt_error_set_status(err, KT_DOMAIN_INPUT, KT_FORMAT, 400,
                            "municipality: not 8 digits of an OKTMO");
        return false;
    }
    *field = org != NULL ? "organization" : mun != NULL ? "municipality" : NULL;
    *value = org != NULL ? org : mun;
    if (cursor == NULL)
        return true;
    *created = arena_strdup(req->arena, cursor);
    sep = *created != NULL ? strchr(*created, '_') : NULL;
    if (sep == NULL || sep - *created != 24 || !util_is_uuid(sep + 1)) {
        kt_error_set_status(err, KT_DOMAIN_INPUT, KT_FORMAT, 400, "cursor is not one of this list");
        return false;
    }
    *sep = '\0';
    *after = sep + 1;
    return true;
}

bool
handle_duplicates_list(const app_t *app, request_t *req, response_t *res, kt_error_t *err)
{
    store_conn_t *conn = handler_conn(app, req);
    const char *field = NULL, *value = NULL, *after = NULL;
    char *created = NULL;
    int limit = 0;
    pairs_page_t page = {.req = req};
    jw_t w;

    if (conn == NULL || !handler_limit(req, &limit, err) ||
        !list_query(req, &field, &value, &created, &after, err))
        return false;
    page.ids = arena_alloc(req->arena, sizeof *page.ids * 2 * (size_t)limit);
    if (page.ids == NULL) {
        kt_error_set(err, KT_DOMAIN_INTERNAL, KT_INTERNAL, "no memory");
        return false;
    }
    response_reset(res, 200, "application/json");
    jw_init(&w, &res->body);
    page.w = &w;
    jw_object_begin(&w);
    jw_key(&w, "items");
    jw_array_begin(&w);
    if (!store_dup_pairs_list(conn, field, value, created, after, limit, page_visit, &page, err) ||
        !log_students(req, conn, "duplicates", page.ids, page.nids, err))
        return false; /* the error replaces the body */
    jw_array_end(&w);
    jw_key(&w, "next_cursor");
    jw_string(&w, page.n == limit
                      ? arena_printf(req->arena, "%s_%s", page.last_created, page.last_id)
                      : NULL);
    jw_object_end(&w);
    return true;
}

/* --- POST /api/v1/duplicates/{pair}/dismiss --- */

bool
handle_duplicate_dismiss(const app_t *app, request_t *req, response_t *res, kt_error_t *err)
{
    store_conn_t *conn = handler_conn(app, req);
    const char *id = req->params[0], *reason = NULL;
    const char *ids[2];
    bson_t pair;
    jw_t w;
    bool ok;

    if (conn == NULL || !handler_reason(req, &reason, err))
        return false;
    if (reason == NULL) {
        kt_error_set(err, KT_DOMAIN_INPUT, KT_REQUIRED,
                     "a dismissal needs a reason (?reason= or X-Reason)");
        kt_error_add_field(err, req->arena, "/reason", KT_REQUIRED, NULL);
        return false;
    }
    if (!util_is_uuid(id)) {
        kt_error_set(err, KT_DOMAIN_INPUT, KT_NOT_FOUND, "no such duplicate pair");
        return false;
    }
    if (!duplicates_dismiss(conn, id, &req->principal, reason, &pair, err))
        return false;
    ids[0] = util_get_str(&pair, "a");
    ids[1] = util_get_str(&pair, "b");
    ok = ids[0] != NULL && ids[1] != NULL ? log_students(req, conn, "duplicates", ids, 2, err)
                                          : true;
    if (ok) {
        response_reset(res, 200, "application/json");
        jw_init(&w, &res->body);
        write_pair(&w, &pair);
    }
    bson_destroy(&pair);
    return ok;
}
