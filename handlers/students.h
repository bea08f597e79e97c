/*
 * students: what the student handlers share (students.c, history.c,
 * search.c): the JSON representation and the visibility rule.
 */
#ifndef KT_HANDLERS_STUDENTS_H
#define KT_HANDLERS_STUDENTS_H

#include <bson/bson.h>

#include "core/json.h"
#include "http/router.h"
#include "service/healthdata.h"
#include "handlers/records.h"
#include "store/records.h"

/* The student resource for the shared handlers of handlers/records.h. */
extern const record_resource_t students_resource;

/* {"id", "version", "state", ...the document's fields}. */
void students_write_json(jw_t *w, const char *id, int64_t version, bool deleted, const bson_t *doc);

/* A school sees only students of its own organisation; other roles see all. */
bool students_visible(const request_t *req, const bson_t *doc);

/* The current version of the student named by the route's {id}; 404 when it
 * does not exist or the principal may not see it. */
bool students_load(const app_t *app, request_t *req, store_conn_t *conn, record_t *s,
                   kt_error_t *err);

/* The health block's context for this request (service/healthdata.h). */
healthdata_t students_health(const app_t *app, request_t *req, store_conn_t *conn);

/* Access-logs a read of the students ids; when health was disclosed, with
 * fields ["health"] and the stated purpose. */
bool students_log_read(const app_t *app, request_t *req, store_conn_t *conn, const char *what,
                       const char *const *ids, size_t n, bool disclosed, const char *purpose,
                       kt_error_t *err);

#endif
