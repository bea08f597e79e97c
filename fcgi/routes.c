/*
 * routes: the one table of every endpoint (redis's command table, kcgi's
 * pages). What a route declares — authentication, body media types, body
 * limit — is enforced by server.c before its handler runs.
 */
#include "fcgi/router.h"
#include "handlers/handlers.h"

static const char *const json_types[] = {"application/json", NULL};
static const char *const patch_types[] = {"application/merge-patch+json", NULL};
static const char *const xml_types[] = {"application/xml", "text/xml", NULL};

/* Bodies of one student are small; 1 MiB is far above any valid one. */
#define STUDENT_BODY_MAX (1u << 20)

const route_t routes_table[] = {
    {"GET", "/api/v1/health", handle_health, ROUTE_PUBLIC, NULL, 0},
    {"GET", "/api/v1/whoami", handle_whoami, 0, NULL, 0},
    {"GET", "/api/v1/students", handle_student_search, 0, NULL, 0},
    {"POST", "/api/v1/students", handle_student_create, 0, json_types, STUDENT_BODY_MAX},
    {"GET", "/api/v1/students/{id}", handle_student_get, 0, NULL, 0},
    {"PUT", "/api/v1/students/{id}", handle_student_put, 0, json_types, STUDENT_BODY_MAX},
    {"PATCH", "/api/v1/students/{id}", handle_student_patch, 0, patch_types, STUDENT_BODY_MAX},
    {"DELETE", "/api/v1/students/{id}", handle_student_delete, 0, NULL, 0},
    {"GET", "/api/v1/students/{id}/history", handle_student_history, 0, NULL, 0},
    {"GET", "/api/v1/students/{id}/versions/{n}", handle_student_version, 0, NULL, 0},
    {"POST", "/api/v1/students/{id}/events", handle_student_event, 0, json_types, STUDENT_BODY_MAX},
    {"GET", "/api/v1/students/{id}/trajectory", handle_student_trajectory, 0, NULL, 0},
    {"GET", "/api/v1/changes", handle_changes, 0, NULL, 0},
    {"GET", "/api/v1/audit/access", handle_audit_access, ROUTE_SCAN, NULL, 0},
    {"GET", "/api/v1/audit/changes", handle_audit_changes, ROUTE_SCAN, NULL, 0},
    {"GET", "/api/v1/audit/verify/last", handle_audit_verify_last, 0, NULL, 0},
    {"GET", "/api/v1/students/{id}/verify", handle_student_verify, 0, NULL, 0},
    {"POST", "/api/v1/packages", handle_package_post, ROUTE_PACKAGE, xml_types, 0},
    {"GET", "/api/v1/packages/{id}", handle_package_get, 0, NULL, 0},
    {"GET", "/api/v1/export", handle_export, ROUTE_SCAN, NULL, 0},
    {"GET", "/api/v1/reports/contingent", handle_report_contingent, ROUTE_SCAN, NULL, 0},
    {"GET", "/api/v1/reports/migration", handle_report_migration, ROUTE_SCAN, NULL, 0},
    {"GET", "/api/v1/organizations", handle_organization_list, 0, NULL, 0},
    {"POST", "/api/v1/organizations", handle_organization_create, 0, json_types, STUDENT_BODY_MAX},
    {"GET", "/api/v1/organizations/{ogrn}", handle_organization_get, 0, NULL, 0},
    {"PUT", "/api/v1/organizations/{ogrn}", handle_organization_put, 0, json_types,
     STUDENT_BODY_MAX},
    {"PATCH", "/api/v1/organizations/{ogrn}", handle_organization_patch, 0, patch_types,
     STUDENT_BODY_MAX},
    {"GET", "/api/v1/organizations/{ogrn}/history", handle_organization_history, 0, NULL, 0},
    {"GET", "/api/v1/organizations/{ogrn}/versions/{n}", handle_organization_version, 0, NULL, 0},
};

const size_t routes_count = sizeof routes_table / sizeof routes_table[0];
