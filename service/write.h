/*
 * write: the one read-modify-write of a versioned record, for every use case
 * that changes a record from what it holds now — the JSON API's PUT and
 * PATCH, enrolment events from the API and from packages, package items
 * that update a student or an organisation. Transport-free: callers turn
 * its errors into problem+json or receipt lines.
 */
#ifndef KT_SERVICE_WRITE_H
#define KT_SERVICE_WRITE_H

#include <bson/bson.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/error.h"
#include "store/records.h"

/* A lost race (VERSION_CONFLICT without If-Match) is tried again from the
 * read this many times in all. */
#define SERVICE_WRITE_RETRIES 5

typedef struct {
    const store_kind_t *kind;
    const char *id;
    int64_t expected; /* If-Match; 0: the version read, and a lost race is retried */
    const write_meta_t *meta;
    /* Reads the current version into cur, with the caller's rule of who may
     * see it (a school its own students); NULL: store_record_get. */
    bool (*load)(void *ctx, const char *id, record_t *cur, kt_error_t *err);
    /* The document to store (doc: initialised, empty) from the current
     * version; false with err set refuses the write, without a retry. */
    bool (*compose)(void *ctx, const record_t *cur, bson_t *doc, kt_error_t *err);
    void *ctx;
} service_update_t;

/*
 * Reads the current version, composes the new document from it and writes
 * it as the next version (unchanged: nothing written, out->unchanged). A
 * deleted record is 410 GONE, cur holding its last version. cur and doc (the
 * caller's, initialised) hold the version the last attempt was based on and
 * the document it composed (the one written, when it succeeds).
 */
bool service_update(store_conn_t *conn, const service_update_t *u, record_t *cur, bson_t *doc,
                    write_result_t *out, kt_error_t *err);

#endif
