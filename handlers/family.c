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
#include "model/validators.h"
#include "service/family.h"
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
                     "the families' service has no ЕСИА keys (KT_ESIA_KEYS)");
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

bool
handle_family_child(const app_t *app, request_t *req, response_t *res, kt_error_t *err)
{
    const char *id = req->nparams > 0 ? req->params[0] : NULL;
    char snils[ESIA_SNILS_LEN + 1], today[11];
    store_conn_t *conn = NULL;
    buf_t body;
    jw_t w;
    bool ok;

    if (!family_person(app, req, snils, err))
        return false;
    if (id == NULL || !util_is_uuid(id)) {
        kt_error_set(err, KT_DOMAIN_INPUT, KT_NOT_FOUND, "no such child");
        return false;
    }
    conn = handler_conn(app, req);
    if (conn == NULL)
        return false;
    date_today(today);
    buf_init(&body, 0);
    jw_init(&w, &body);
    ok = family_child(conn, req->arena, snils, today, id, NULL, NULL, &w, err) &&
         family_log(conn, req, snils, "family_child", &id, 1, err);
    if (ok) {
        response_reset(res, 200, "application/json");
        ok = buf_append(&res->body, body.data, body.len);
    }
    buf_release(&body);
    return ok;
}
