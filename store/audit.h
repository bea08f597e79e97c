/*
 * audit: the access log — who read which students' personal data, what
 * they read, when, under which request. Appended on every read of personal
 * data (a student, search results, history, versions); read by auditors.
 * Entries are inserted with a time-ordered _id so that the log pages newest
 * first without a separate sort key.
 */
#ifndef KT_STORE_AUDIT_H
#define KT_STORE_AUDIT_H

#include <mongoc/mongoc.h>
#include <stdbool.h>
#include <stddef.h>

#include "auth/principal.h"
#include "core/error.h"
#include "core/json.h"

/* Appends one entry; a failure fails the read that caused it (503). */
bool audit_log_read(mongoc_client_t *client, const char *db, const principal_t *who,
                    const char *request_id, const char *what, const char *const *student_ids,
                    size_t n, kt_error_t *err);

/* The same, for a read that disclosed fields beyond the phase-1 data
 * (fields: NULL-terminated, e.g. {"health", NULL}) with the purpose the
 * reader stated; both are kept in the entry. */
bool audit_log_read_fields(mongoc_client_t *client, const char *db, const principal_t *who,
                           const char *request_id, const char *what, const char *const *student_ids,
                           size_t n, const char *const *fields, const char *purpose,
                           kt_error_t *err);

/* Query of the access log: by student or by subject (exactly one), newest
 * first, before the cursor (an entry _id; NULL for the newest), limit ≤ 500.
 * Writes {"items": [...], "next_cursor": ...} with w. */
bool audit_query(mongoc_client_t *client, const char *db, const char *student, const char *subject,
                 const char *cursor, int limit, jw_t *w, kt_error_t *err);

#endif
