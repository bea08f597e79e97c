/*
 * history: GET /api/v1/students/{id}/history (newest first, cursor = the
 * version to continue below) and GET /api/v1/students/{id}/versions/{n}.
 * Both read personal data and are access-logged. The implementation is
 * shared with organisations (handlers/records.c).
 */
#include "handlers/handlers.h"
#include "handlers/students.h"

bool
handle_student_history(const app_t *app, request_t *req, response_t *res, kt_error_t *err)
{
    return records_history(app, req, res, &students_resource, err);
}

bool
handle_student_version(const app_t *app, request_t *req, response_t *res, kt_error_t *err)
{
    return records_version(app, req, res, &students_resource, err);
}
