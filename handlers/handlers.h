/*
 * handlers: one file per resource; each handler has the route_handler_fn
 * signature of http/router.h. The route table (fcgi/routes.c) is the only
 * caller. Handlers turn a checked request into model/store calls and a
 * response; they never format errors themselves (problem.c does).
 */
#ifndef KT_HANDLERS_H
#define KT_HANDLERS_H

#include "http/router.h"

/* health.c */
bool handle_health(const app_t *app, request_t *req, response_t *res, kt_error_t *err);
bool handle_health_live(const app_t *app, request_t *req, response_t *res, kt_error_t *err);
bool handle_health_ready(const app_t *app, request_t *req, response_t *res, kt_error_t *err);

/* metrics.c */
bool handle_metrics(const app_t *app, request_t *req, response_t *res, kt_error_t *err);

/* openapi.c */
bool handle_openapi(const app_t *app, request_t *req, response_t *res, kt_error_t *err);

/* whoami.c */
bool handle_whoami(const app_t *app, request_t *req, response_t *res, kt_error_t *err);

/* students.c */
bool handle_student_create(const app_t *app, request_t *req, response_t *res, kt_error_t *err);
bool handle_student_get(const app_t *app, request_t *req, response_t *res, kt_error_t *err);
bool handle_student_put(const app_t *app, request_t *req, response_t *res, kt_error_t *err);
bool handle_student_patch(const app_t *app, request_t *req, response_t *res, kt_error_t *err);
bool handle_student_delete(const app_t *app, request_t *req, response_t *res, kt_error_t *err);

/* merge.c */
bool handle_student_merge(const app_t *app, request_t *req, response_t *res, kt_error_t *err);
bool handle_student_unmerge(const app_t *app, request_t *req, response_t *res, kt_error_t *err);

/* education.c */
bool handle_student_event(const app_t *app, request_t *req, response_t *res, kt_error_t *err);
bool handle_student_trajectory(const app_t *app, request_t *req, response_t *res, kt_error_t *err);

/* duplicates.c */
bool handle_student_duplicates(const app_t *app, request_t *req, response_t *res, kt_error_t *err);
bool handle_duplicates_list(const app_t *app, request_t *req, response_t *res, kt_error_t *err);
bool handle_duplicate_dismiss(const app_t *app, request_t *req, response_t *res, kt_error_t *err);

/* history.c */
bool handle_student_history(const app_t *app, request_t *req, response_t *res, kt_error_t *err);
bool handle_student_version(const app_t *app, request_t *req, response_t *res, kt_error_t *err);

/* organizations.c */
bool handle_organization_list(const app_t *app, request_t *req, response_t *res, kt_error_t *err);
bool handle_organization_create(const app_t *app, request_t *req, response_t *res, kt_error_t *err);
bool handle_organization_get(const app_t *app, request_t *req, response_t *res, kt_error_t *err);
bool handle_organization_put(const app_t *app, request_t *req, response_t *res, kt_error_t *err);
bool handle_organization_patch(const app_t *app, request_t *req, response_t *res, kt_error_t *err);
bool handle_organization_history(const app_t *app, request_t *req, response_t *res,
                                 kt_error_t *err);
bool handle_organization_version(const app_t *app, request_t *req, response_t *res,
                                 kt_error_t *err);

/* search.c */
bool handle_student_search(const app_t *app, request_t *req, response_t *res, kt_error_t *err);

/* changes.c */
bool handle_changes(const app_t *app, request_t *req, response_t *res, kt_error_t *err);

/* audit.c */
bool handle_audit_access(const app_t *app, request_t *req, response_t *res, kt_error_t *err);
bool handle_audit_changes(const app_t *app, request_t *req, response_t *res, kt_error_t *err);
bool handle_audit_verify_last(const app_t *app, request_t *req, response_t *res, kt_error_t *err);
bool handle_student_verify(const app_t *app, request_t *req, response_t *res, kt_error_t *err);

/* packages.c */
bool handle_package_post(const app_t *app, request_t *req, response_t *res, kt_error_t *err);
bool handle_package_get(const app_t *app, request_t *req, response_t *res, kt_error_t *err);

/* export.c */
bool handle_export(const app_t *app, request_t *req, response_t *res, kt_error_t *err);

/* reports.c: statistical reports (docs/reports.md). */
bool handle_report_contingent(const app_t *app, request_t *req, response_t *res, kt_error_t *err);
bool handle_report_migration(const app_t *app, request_t *req, response_t *res, kt_error_t *err);

/* The families' service for the state services portal (handlers/family.c). */
bool handle_family_children(const app_t *app, request_t *req, response_t *res, kt_error_t *err);
bool handle_family_child(const app_t *app, request_t *req, response_t *res, kt_error_t *err);

/* progress.c: current progress (docs/progress.md). */
bool handle_progress_get(const app_t *app, request_t *req, response_t *res, kt_error_t *err);
bool handle_progress_put(const app_t *app, request_t *req, response_t *res, kt_error_t *err);
bool handle_progress_patch(const app_t *app, request_t *req, response_t *res, kt_error_t *err);
bool handle_progress_history(const app_t *app, request_t *req, response_t *res, kt_error_t *err);

/* progress_report.c: успеваемость and качество знаний (docs/reports.md). */
bool handle_report_progress(const app_t *app, request_t *req, response_t *res, kt_error_t *err);

#endif
