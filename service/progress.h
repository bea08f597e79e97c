/*
 * progress: a student's current progress for an academic year (marks and
 * absences, model/progress.h; docs/progress.md) — the one path for the JSON
 * API (GET/PUT/PATCH /api/v1/students/{id}/progress/{year}), the <Progress>
 * items of packages, and any other reader (the families' portal).
 * Transport-free: callers turn errors into problem+json or receipt lines.
 *
 * Who may see what (docs/security.md): the record follows its student. A
 * school (ROLE_SCHOOL) sees and writes the progress of the students whose
 * current organisation is its own, every other role any student's — the
 * route table decides which roles reach a call at all. A student that does
 * not exist, was deleted, or is not the school's is 404 NOT_FOUND alike.
 *
 * The service does not write the access log: the caller does, naming the
 * student (audit_log_read with what = "progress"), because who the access
 * is logged for (a principal, a parent through the portal) is the caller's.
 */
#ifndef KT_SERVICE_PROGRESS_H
#define KT_SERVICE_PROGRESS_H

#include <bson/bson.h>
#include <stdbool.h>
#include <stdint.h>

#include "auth/principal.h"
#include "core/arena.h"
#include "core/error.h"
#include "core/json.h"
#include "store/records.h"

/*
 * Reads the progress of student_id for year ("2026-2027") into out: the
 * current version, or with as_of ("…Z" stored form, NULL: now) the version
 * current at that time. The student's visibility is judged on its current
 * version: who NULL skips it (a caller that has decided access itself, as
 * the portal for a parent's children). Errors: 404 NOT_FOUND for a year
 * that is not "YYYY-YYYY" consecutive, a student not visible, or no record
 * (at as_of); store errors as they come. The document is model/progress.h's;
 * out->id is the record's id (store/progress.h), not the student's.
 */
bool service_progress_get(store_conn_t *conn, const principal_t *who, const char *student_id,
                          const char *year, const char *as_of, record_t *out, kt_error_t *err);

typedef struct {
    const principal_t *who;
    const char *student_id;
    const char *year;
    const json_value_t *body; /* the JSON of the record, or a package item's tree */
    /* false (PUT): the body is the whole record. true (PATCH, package
     * items): its marks and absences are merged into the current record by
     * (subject, period) and period; grade and scheme replace. */
    bool merge;
    int64_t expected; /* If-Match, 0: none (a lost race is retried) */
    const write_meta_t *meta;
} progress_put_t;

/*
 * Writes the student's progress for the year: creates the record at its
 * first write (*created), otherwise the next version (out->unchanged when
 * the result equals the current one). The stored document (doc, the
 * caller's, initialised) carries the student's current organisation.
 * Errors: 403 FORBIDDEN for a role that may not write progress (ministry,
 * auditor; who NULL: an internal writer, allowed), 404 NOT_FOUND as for
 * reads, 422 VALIDATION (the model's field
 * list; a student with no organisation: /organization), 412 VERSION_CONFLICT
 * with If-Match (also for a record that does not exist yet).
 */
bool service_progress_put(store_conn_t *conn, arena_t *arena, const progress_put_t *p, bson_t *doc,
                          write_result_t *out, bool *created, kt_error_t *err);

#endif
