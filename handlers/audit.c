/*
 * audit: GET /api/v1/audit/access?student=<id> | ?subject=<name> — who read
 * which records. Auditors and admins only.
 */
#include "handlers/common.h"
#include "handlers/handlers.h"
#include "store/audit.h"

bool
handle_audit_access(const app_t *app, request_t *req, response_t *res, kt_error_t *err)
{
    mongoc_client_t *client = handler_client(app, req);
    const char *student = request_query(req, "student");
    const char *subject = request_query(req, "subject");
    int limit;
    jw_t w;

    if (req->principal.role != ROLE_AUDITOR && req->principal.role != ROLE_ADMIN) {
        kt_error_set(err, KT_DOMAIN_AUTH, KT_FORBIDDEN, 403, "the access log is for auditors");
        return false;
    }
    if (client == NULL || !handler_limit(req, &limit, err))
        return false;
    if ((student == NULL) == (subject == NULL)) {
        kt_error_set(err, KT_DOMAIN_INPUT, KT_FORMAT, 400, "give exactly one of student, subject");
        return false;
    }
    response_reset(res, 200, "application/json");
    jw_init(&w, &res->body);
    return audit_query(client, store_db_name(app->store), student, subject,
                       request_query(req, "cursor"), limit, &w, err);
}
