/*
 * students: what the student handlers share (students.c, history.c,
 * search.c): the JSON representation and the visibility rule.
 */
#ifndef KT_HANDLERS_STUDENTS_H
#define KT_HANDLERS_STUDENTS_H

#include <bson/bson.h>

#include "core/json.h"
#include "fcgi/router.h"
#include "store/students.h"

/* {"id", "version", "state", ...the document's fields}. */
void students_write_json(jw_t *w, const char *id, int64_t version, bool deleted, const bson_t *doc);

/* A school sees only students of its own organisation; other roles see all. */
bool students_visible(const request_t *req, const bson_t *doc);

/* The current version of the student named by the route's {id}; 404 when it
 * does not exist or the principal may not see it. */
bool students_load(const app_t *app, request_t *req, mongoc_client_t *client, student_t *s,
                   kt_error_t *err);

/* One history entry of a version record: {version, time, kind, state,
 * principal, source, reason, hash, changes}, led by student_id when asked. */
void history_write_entry(jw_t *w, const bson_t *record, bool with_student);

#endif
