/*
 * audit: the access log — who read which students' personal data, what
 * they read, when, under which request. Appended on every read of personal
 * data (a student, search results, history, versions); read by auditors.
 * Entries are inserted with a time-ordered _id so that the log pages newest
 * first without a separate sort key.
 */
#ifndef KT_STORE_AUDIT_H
#define KT_STORE_AUDIT_H

#include <stdbool.h>
#include <stddef.h>

#include "auth/principal.h"
#include "core/error.h"
#include "store/store.h"
#include "core/json.h"
#include "store/util.h"

/* Appends one entry; a failure fails the read that caused it (503). */
bool audit_log_read(store_conn_t *conn, const principal_t *who, const char *request_id,
                    const char *what, const char *const *student_ids, size_t n, kt_error_t *err);

/* The same, for a read that disclosed fields beyond the phase-1 data
 * (fields: NULL-terminated, e.g. {"health", NULL}) with the purpose the
 * reader stated; both are kept in the entry. */
bool audit_log_read_fields(store_conn_t *conn, const principal_t *who, const char *request_id,
                           const char *what, const char *const *student_ids, size_t n,
                           const char *const *fields, const char *purpose, kt_error_t *err);

/* What the audit queries filter on; NULL members do not filter. from and to
 * are stored-form times ("YYYY-MM-DDTHH:MM:SS.mmmZ"), both inclusive. */
typedef struct {
    const char *student; /* access log only */
    const char *subject;
    const char *from;
    const char *to;
} audit_filter_t;

/* Query of the access log: by student and/or subject (at least one), within
 * the period, newest first, before the cursor (an entry _id; NULL for the
 * newest), limit ≤ 500. Writes {"items": [...], "next_cursor": ...} with w. */
bool audit_query(store_conn_t *conn, const audit_filter_t *f, const char *cursor, int limit,
                 jw_t *w, kt_error_t *err);

/* The versions written by f->subject within the period, newest first by
 * change-feed sequence, below before_seq (0: from the newest): calls fn with
 * each version record, at most limit + 1 of them (the extra one tells the
 * caller that a next page exists). */
bool audit_changes_each(store_conn_t *conn, const audit_filter_t *f, int64_t before_seq, int limit,
                        util_each_fn fn, void *ctx, kt_error_t *err);

#endif
