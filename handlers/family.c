/*
 * family: the families' service for the state services portal (ЕПГУ) —
 * GET /api/v1/family/children and GET /api/v1/family/children/{id}
 * (docs/api.md, "The families' service"; docs/security.md).
 *
 * The route admits the portal role alone (its client certificate). The
 * person the portal asks for is named by their ЕСИА token in the
 * X-ESIA-Token header, verified here (auth/esia.h); a missing or bad token
 * is 401 like every authentication failure, its reason in the log only.
 * Every answer, an empty list included, is an access-log entry whose
 * subject is the person ("esia:snils:<11 digits>") and whose role is the
 * portal's, written before the answer is sent.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "handlers/common.h"
#include "handlers/handlers.h"
#include "model/calendar.h"
#include "model/codec.h"
#include "model/progress.h"
#include "model/validators.h"
#include "service/family.h"
#include "service/progress.h"
#include "store/audit.h"
#include "store/util.h"

#define FAMILY_TOKEN_HEADER   "x-esia-token"
#define FAMILY_SUBJECT_PREFIX "esia:snils:"

/* The person the portal asks for: their СНИЛС, checksum included. */
static bool
family_person(const app_t *app, const request_t *req, char snils[ESIA_SNILS_LEN + 1],
              kt_error_t *err)
{
    const char *token = request_header(req, FAMILY_TOKEN_HEADER);
    esia_identity_t id;

    if (app->esia_keys == NULL) {
        kt_error_set(err, KT_DOMAIN_INTERNAL, KT_UNAVAILABLE,
                     "the families' service has no ESIA keys (KT_ESIA_KEYS)");
        return false;
    }
    if (token == NULL || token[0] == '\0') {
        kt_error_set(err, KT_DOMAIN_AUTH, KT_UNAUTHENTICATED, "no X-ESIA-Token");
        return false;
    }
    if (!esia_verify(app->esia_keys, &app->esia_policy, token, strlen(token), (int64_t)time(NULL),
                     &id, err))
        return false;
    if (!snils_checksum_ok(id.snils)) {
        kt_error_set(err, KT_DOMAIN_AUTH, KT_UNAUTHENTICATED, "bad claim snils (checksum)");
        return false;
    }
    memcpy(snils, id.snils, ESIA_SNILS_LEN + 1);
    return true;
}

/* The access log's principal: the person, through the portal. */
static principal_t
family_reader(const request_t *req, const char *snils)
{
    principal_t who = req->principal;

    snprintf(who.subject, sizeof who.subject, FAMILY_SUBJECT_PREFIX "%s", snils);
    who.token_id[0] = '\0';
    return who;
}

static bool
family_log(store_conn_t *conn, const request_t *req, const char *snils, const char *what,
           const char *const *ids, size_t n, kt_error_t *err)
{
    principal_t who = family_reader(req, snils);

    return audit_log_read(conn, &who, req->request_id, what, ids, n, err);
}

static bool
family_cursor(const request_t *req, const char **after, kt_error_t *err)
{
    *after = request_query(req, "cursor");
    if (*after == NULL || util_is_uuid(*after))
        return true;
    kt_error_set_status(err, KT_DOMAIN_INPUT, KT_FORMAT, 400, "cursor must be a student id");
    return false;
}

bool
handle_family_children(const app_t *app, request_t *req, response_t *res, kt_error_t *err)
{
    char snils[ESIA_SNILS_LEN + 1], today[11];
    const char *after = NULL;
    store_conn_t *conn = NULL;
    family_shown_t shown;
    buf_t body;
    jw_t w;
    bool ok;

    if (!family_cursor(req, &after, err) || !family_person(app, req, snils, err))
        return false;
    conn = handler_conn(app, req);
    if (conn == NULL)
        return false;
    date_today(today);
    buf_init(&body, 0);
    jw_init(&w, &body);
    ok = family_list(conn, req->arena, snils, today, after, &w, &shown, err) &&
         family_log(conn, req, snils, "family", shown.ids, shown.n, err);
    if (ok) {
        response_reset(res, 200, "application/json");
        ok = buf_append(&res->body, body.data, body.len);
    }
    buf_release(&body);
    return ok;
}

/* The members of a progress record a family sees (docs/progress.md): not
 * its ids, version or organisation. */
static const char *const family_progress_members[] = {"year", "grade", "scheme", "marks",
                                                      "absences"};

/* "progress": the child's record for the year (ctx), null when there is none.
 * Access was decided by family_child(), so the read is the service's with no
 * principal to judge. */
static bool
family_progress(void *ctx, store_conn_t *conn, const char *id, jw_t *w, kt_error_t *err)
{
    const char *year = ctx;
    record_t r;
    bson_iter_t it;
    bool ok;

    record_init(&r);
    jw_key(w, "progress");
    ok = service_progress_get(conn, NULL, id, year, NULL, &r, err);
    if (!ok && err->code == KT_NOT_FOUND) {
        kt_error_clear(err);
        jw_null(w);
        ok = true;
        goto done;
    }
    if (!ok)
        goto done;
    jw_object_begin(w);
    for (size_t i = 0; i < sizeof family_progress_members / sizeof *family_progress_members; i++) {
        if (!bson_iter_init_find(&it, &r.doc, family_progress_members[i]))
            continue;
        jw_key(w, family_progress_members[i]);
        codec_value_to_json(w, &it);
    }
    jw_object_end(w);
done:
    record_release(&r);
    return ok;
}

/* ?year= (YYYY-YYYY), by default the academic year of today. */
static bool
family_year(const request_t *req, const char *today, char year[PROGRESS_YEAR_LEN + 1],
            kt_error_t *err)
{
    const char *asked = request_query(req, "year");

    if (asked == NULL) {
        if (progress_year_of(today, year))
            return true;
        kt_error_set(err, KT_DOMAIN_INTERNAL, KT_INTERNAL, "no academic year for %s", today);
        return false;
    }
    if (!progress_year_valid(asked)) {
        kt_error_set_status(err, KT_DOMAIN_INPUT, KT_FORMAT, 400,
                            "year must be an academic year, YYYY-YYYY (2026-2027)");
        return false;
    }
    snprintf(year, PROGRESS_YEAR_LEN + 1, "%s", asked);
    return true;
}

bool
handle_family_child(const app_t *app, request_t *req, response_t *res, kt_error_t *err)
{
    const char *id = req->nparams > 0 ? req->params[0] : NULL;
    char snils[ESIA_SNILS_LEN + 1], today[11], year[PROGRESS_YEAR_LEN + 1];
    store_conn_t *conn = NULL;
    buf_t body;
    jw_t w;
    bool ok;

    date_today(today);
    if (!family_year(req, today, year, err) || !family_person(app, req, snils, err))
        return false;
    if (id == NULL || !util_is_uuid(id)) {
        kt_error_set(err, KT_DOMAIN_INPUT, KT_NOT_FOUND, "no such child");
        return false;
    }
    conn = handler_conn(app, req);
    if (conn == NULL)
        return false;
    buf_init(&body, 0);
    jw_init(&w, &body);
    ok = family_child(conn, req->arena, snils, today, id, family_progress, year, &w, err) &&
         family_log(conn, req, snils, "family_child", &id, 1, err);
    if (ok) {
        response_reset(res, 200, "application/json");
        ok = buf_append(&res->body, body.data, body.len);
    }
    buf_release(&body);
    return ok;
}
