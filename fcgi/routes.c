/*
 * routes: the one table of every endpoint (redis's command table, kcgi's
 * pages). What a route declares — authentication, the roles that may call
 * it, body media types, body limit — is enforced by server.c before its
 * handler runs. The roles are the matrix of docs/security.md ("Roles"); the
 * unit test test_route_roles.c holds the two to each other.
 *
 * A row, slot by slot:
 *   .method, .pattern   what router_match() matches ({name}: one segment)
 *   .handler            handlers/handlers.h
 *   .flags              ROUTE_PUBLIC (no authentication), ROUTE_PACKAGE,
 *                       ROUTE_SCAN (router.h)
 *   .roles, .denied     who may call it, and what the others are told (403)
 *   .media_types        the body's types; absent: the route takes no body
 *   .max_body           the body limit; absent: KT_MAX_BODY
 */
#include "fcgi/routes.h"
#include "http/router.h"
#include "handlers/handlers.h"

static const char *const json_types[] = {"application/json", NULL};
static const char *const patch_types[] = {"application/merge-patch+json", NULL};
static const char *const xml_types[] = {"application/xml", "text/xml", NULL};

/* Bodies of one student are small; 1 MiB is far above any valid one. */
#define STUDENT_BODY_MAX (1u << 20)

#define REGION          ROLE_BIT(ROLE_REGION)
#define SCHOOL          ROLE_BIT(ROLE_SCHOOL)
#define MINISTRY        ROLE_BIT(ROLE_MINISTRY)
#define AUDITOR         ROLE_BIT(ROLE_AUDITOR)
#define ADMIN           ROLE_BIT(ROLE_ADMIN)
#define HEALTH_MINISTRY ROLE_BIT(ROLE_MINISTRY_HEALTH)
#define PORTAL          ROLE_BIT(ROLE_PORTAL)

/* The role sets of the table, each with what the roles outside it are told.
 * EVERYONE is every role there is; ANYONE every role that reads the registry's
 * education records — not the health ministry (students and their health
 * block, reports, organisations: below) and not the portal (its own routes). */
#define EVERYONE .roles = ROLES_ALL
#define ANYONE                                                                                     \
    .roles = REGION | SCHOOL | MINISTRY | AUDITOR | ADMIN,                                         \
    .denied = "this role does not read education records"
#define STUDENT_READERS                                                                            \
    .roles = REGION | SCHOOL | MINISTRY | AUDITOR | ADMIN | HEALTH_MINISTRY,                       \
    .denied = "this role does not read students"
#define REGISTRY_READERS                                                                           \
    .roles = REGION | SCHOOL | MINISTRY | AUDITOR | ADMIN | HEALTH_MINISTRY,                       \
    .denied = "this role does not read the registry of organisations"
#define FAMILY .roles = PORTAL, .denied = "the family endpoints are for the state services portal"
#define WRITERS                                                                                    \
    .roles = REGION | SCHOOL | MINISTRY | ADMIN, .denied = "this role may not change records"
#define EVENT_POSTERS                                                                              \
    .roles = REGION | SCHOOL | ADMIN, .denied = "this role may not post education events"
#define PROGRESS_WRITERS                                                                           \
    .roles = REGION | SCHOOL | ADMIN, .denied = "this role may not write progress"
#define AUDITORS .roles = AUDITOR | ADMIN, .denied = "the audit endpoints are for auditors"
#define REPORTERS                                                                                  \
    .roles = REGION | SCHOOL | MINISTRY | ADMIN | HEALTH_MINISTRY,                                 \
    .denied = "reports are for the region, the ministries and admins"
#define EDUCATION_REPORTERS                                                                        \
    .roles = REGION | SCHOOL | MINISTRY | ADMIN,                                                   \
    .denied = "progress reports are for the region, the ministry of education, schools and admins"
#define REGION_REPORTERS                                                                           \
    .roles = REGION | MINISTRY | ADMIN,                                                            \
    .denied = "migration between schools is reported for the whole region only"
#define DEDUPLICATORS                                                                              \
    .roles = REGION | ADMIN,                                                                       \
    .denied = "probable duplicates are for the region's operators and administrators"
#define REGISTRARS                                                                                 \
    .roles = REGION | ADMIN,                                                                       \
    .denied = "only the region and administrators change the registry of organisations"

#define MERGERS                                                                                    \
    .roles = REGION | ADMIN, .denied = "only the region and administrators merge records"
/* A merge request: two ids, a reason, a choice per field. */
#define MERGE_BODY_MAX (16u << 10)

/* clang-format off */
const route_t routes_table[] = {
    {.method = "GET", .pattern = "/api/v1/health", .handler = handle_health,
     .flags = ROUTE_PUBLIC, EVERYONE},
    {.method = "GET", .pattern = "/api/v1/health/live", .handler = handle_health_live,
     .flags = ROUTE_PUBLIC, EVERYONE},
    {.method = "GET", .pattern = "/api/v1/health/ready", .handler = handle_health_ready,
     .flags = ROUTE_PUBLIC, EVERYONE},
    /* Public to the workers; nginx lets only the loopback reach it (docs/security.md). */
    {.method = "GET", .pattern = "/metrics", .handler = handle_metrics, .flags = ROUTE_PUBLIC,
     EVERYONE},
    {.method = "GET", .pattern = "/api/v1/whoami", .handler = handle_whoami, EVERYONE},
    /* The contract itself, for client generators: public like health. */
    {.method = "GET", .pattern = "/api/v1/openapi.json", .handler = handle_openapi,
     .flags = ROUTE_PUBLIC, EVERYONE},

    /* Students. A school's reads and writes are of its own students (handlers). */
    {.method = "GET", .pattern = "/api/v1/students", .handler = handle_student_search,
     STUDENT_READERS},
    {.method = "POST", .pattern = "/api/v1/students", .handler = handle_student_create, WRITERS,
     .media_types = json_types, .max_body = STUDENT_BODY_MAX},
    {.method = "GET", .pattern = "/api/v1/students/{id}", .handler = handle_student_get,
     STUDENT_READERS},
    {.method = "PUT", .pattern = "/api/v1/students/{id}", .handler = handle_student_put, WRITERS,
     .media_types = json_types, .max_body = STUDENT_BODY_MAX},
    {.method = "PATCH", .pattern = "/api/v1/students/{id}", .handler = handle_student_patch,
     WRITERS, .media_types = patch_types, .max_body = STUDENT_BODY_MAX},
    {.method = "DELETE", .pattern = "/api/v1/students/{id}", .handler = handle_student_delete,
     WRITERS},
    {.method = "GET", .pattern = "/api/v1/students/{id}/history",
     .handler = handle_student_history, STUDENT_READERS},
    {.method = "GET", .pattern = "/api/v1/students/{id}/versions/{n}",
     .handler = handle_student_version, STUDENT_READERS},
    {.method = "POST", .pattern = "/api/v1/students/{id}/events", .handler = handle_student_event,
     EVENT_POSTERS, .media_types = json_types, .max_body = STUDENT_BODY_MAX},
    {.method = "GET", .pattern = "/api/v1/students/{id}/trajectory",
     .handler = handle_student_trajectory, ANYONE},
    {.method = "GET", .pattern = "/api/v1/changes", .handler = handle_changes, ANYONE},
    /* Merge and unmerge of duplicates: the region's decision (issue 16). */
    {.method = "POST", .pattern = "/api/v1/students/{id}/merge", .handler = handle_student_merge,
     MERGERS, .media_types = json_types, .max_body = MERGE_BODY_MAX},
    {.method = "POST", .pattern = "/api/v1/students/{id}/unmerge",
     .handler = handle_student_unmerge, MERGERS, .media_types = json_types,
     .max_body = MERGE_BODY_MAX},

    /* Probable duplicates (docs/duplicates.md). */
    {.method = "GET", .pattern = "/api/v1/students/{id}/duplicates",
     .handler = handle_student_duplicates, DEDUPLICATORS},
    {.method = "GET", .pattern = "/api/v1/duplicates", .handler = handle_duplicates_list,
     DEDUPLICATORS},
    {.method = "POST", .pattern = "/api/v1/duplicates/{pair}/dismiss",
     .handler = handle_duplicate_dismiss, DEDUPLICATORS},

    /* Current progress (docs/progress.md): written like education data. */
    {.method = "GET", .pattern = "/api/v1/students/{id}/progress/{year}",
     .handler = handle_progress_get, ANYONE},
    {.method = "PUT", .pattern = "/api/v1/students/{id}/progress/{year}",
     .handler = handle_progress_put, PROGRESS_WRITERS, .media_types = json_types,
     .max_body = STUDENT_BODY_MAX},
    {.method = "PATCH", .pattern = "/api/v1/students/{id}/progress/{year}",
     .handler = handle_progress_patch, PROGRESS_WRITERS, .media_types = json_types,
     .max_body = STUDENT_BODY_MAX},
    {.method = "GET", .pattern = "/api/v1/students/{id}/progress/{year}/history",
     .handler = handle_progress_history, ANYONE},

    /* Audit. */
    {.method = "GET", .pattern = "/api/v1/audit/access", .handler = handle_audit_access,
     .flags = ROUTE_SCAN, AUDITORS},
    {.method = "GET", .pattern = "/api/v1/audit/changes", .handler = handle_audit_changes,
     .flags = ROUTE_SCAN, AUDITORS},
    {.method = "GET", .pattern = "/api/v1/audit/verify/last",
     .handler = handle_audit_verify_last, AUDITORS},
    {.method = "GET", .pattern = "/api/v1/students/{id}/verify", .handler = handle_student_verify,
     AUDITORS},

    /* Packages, export and reports. */
    {.method = "POST", .pattern = "/api/v1/packages", .handler = handle_package_post,
     .flags = ROUTE_PACKAGE, WRITERS, .media_types = xml_types},
    {.method = "GET", .pattern = "/api/v1/packages/{id}", .handler = handle_package_get, ANYONE},
    {.method = "GET", .pattern = "/api/v1/export", .handler = handle_export,
     .flags = ROUTE_SCAN, ANYONE},
    {.method = "GET", .pattern = "/api/v1/reports/contingent",
     .handler = handle_report_contingent, .flags = ROUTE_SCAN, REPORTERS},
    {.method = "GET", .pattern = "/api/v1/reports/migration", .handler = handle_report_migration,
     .flags = ROUTE_SCAN, REGION_REPORTERS},
    {.method = "GET", .pattern = "/api/v1/reports/progress", .handler = handle_report_progress,
     .flags = ROUTE_SCAN, EDUCATION_REPORTERS},

    /* Organisations: every role but the portal reads the registry. */
    {.method = "GET", .pattern = "/api/v1/organizations", .handler = handle_organization_list,
     REGISTRY_READERS},
    {.method = "POST", .pattern = "/api/v1/organizations",
     .handler = handle_organization_create, REGISTRARS, .media_types = json_types,
     .max_body = STUDENT_BODY_MAX},
    {.method = "GET", .pattern = "/api/v1/organizations/{ogrn}",
     .handler = handle_organization_get, REGISTRY_READERS},
    {.method = "PUT", .pattern = "/api/v1/organizations/{ogrn}",
     .handler = handle_organization_put, REGISTRARS, .media_types = json_types,
     .max_body = STUDENT_BODY_MAX},
    {.method = "PATCH", .pattern = "/api/v1/organizations/{ogrn}",
     .handler = handle_organization_patch, REGISTRARS, .media_types = patch_types,
     .max_body = STUDENT_BODY_MAX},
    {.method = "GET", .pattern = "/api/v1/organizations/{ogrn}/history",
     .handler = handle_organization_history, REGISTRY_READERS},
    {.method = "GET", .pattern = "/api/v1/organizations/{ogrn}/versions/{n}",
     .handler = handle_organization_version, REGISTRY_READERS},

    /* The families' service: the portal, for a person signed in through ЕСИА. */
    {.method = "GET", .pattern = "/api/v1/family/children", .handler = handle_family_children,
     FAMILY},
    {.method = "GET", .pattern = "/api/v1/family/children/{id}", .handler = handle_family_child,
     FAMILY},
};
/* clang-format on */

const size_t routes_count = sizeof routes_table / sizeof routes_table[0];
