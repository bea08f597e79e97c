/*
 * records: what the handlers of versioned resources share — students and
 * organisations, one implementation: the JSON and XML representations, a
 * read (also as of a time), create, replace and merge-patch with If-Match
 * and retries, history pages and exact versions. A resource says how its
 * records are loaded (who may see them), validated (model + references),
 * who may write them and how they look in XML; store/kind.h says where they
 * live and whether reads are access-logged.
 */
#ifndef KT_HANDLERS_RECORDS_H
#define KT_HANDLERS_RECORDS_H

#include <bson/bson.h>
#include <libxml/xmlwriter.h>
#include <mongoc/mongoc.h>

#include "core/json.h"
#include "http/router.h"
#include "store/records.h"

typedef struct record_resource {
    const store_kind_t *kind;
    const char *location; /* "/api/v1/students/": the Location of a created record */
    bool with_state;      /* the JSON carries "state" (records that can be deleted) */
    /* The current version of the record the route's {id} names; 404 when it
     * does not exist or the principal may not see it. */
    bool (*load)(const app_t *app, request_t *req, store_conn_t *conn, record_t *s,
                 kt_error_t *err);
    /* A whole body into the document to store; cur is the current document
     * (NULL on create), so references are checked only when they change. */
    bool (*validate)(const app_t *app, request_t *req, store_conn_t *conn, const json_value_t *body,
                     const bson_t *cur, bson_t *doc, kt_error_t *err);
    /* The id of a record being created, from its document; NULL: assigned. */
    const char *(*new_id)(const bson_t *doc);
    bool (*write_xml)(xmlTextWriterPtr w, const record_t *s);
    /* The kind carries a health block (service/healthdata.h): it is sealed
     * before every write, opened or removed after every read, and reads by a
     * principal that may see it need a purpose. */
    bool health;
    /* The records are persons (service/identity.h): an update that changes
     * an identity field needs a reason and is recorded as "identity_change". */
    bool identity;
} record_resource_t;

/* {"id", "version"[, "state"], ...the document's members}. */
void records_write_json(jw_t *w, const record_resource_t *r, const char *id, int64_t version,
                        bool deleted, const bson_t *doc);

/* The same with the state named ("ACTIVE", "DELETED", "MERGED": record_state). */
void records_write_json_state(jw_t *w, const record_resource_t *r, const char *id, int64_t version,
                              const char *state, const bson_t *doc);

/* Who, where from, why: the version's bookkeeping for an API write. */
void records_fill_meta(request_t *req, write_meta_t *meta, const char *reason);

/* 410 GONE with who deleted the record, when and why. */
/* One history entry of a version record: {version, time, kind, state,
 * principal, source, reason, hash, changes}, led by its id member (e.g.
 * "student_id") when id_member is not NULL. */
void records_write_entry(jw_t *w, const bson_t *record, const char *id_member);

bool records_answer_gone(request_t *req, response_t *res, const record_t *s, kt_error_t *err);

/* Accept asks for XML (the exchange format) rather than JSON. */
bool records_wants_xml(const request_t *req);

/* GET /{id}[?as_of=]: JSON or XML, 410 for a deleted record. */
bool records_get(const app_t *app, request_t *req, response_t *res, const record_resource_t *r,
                 kt_error_t *err);

/* An access-log row ("write") for the answer to a write of record id, which
 * shows personal data like a read (kinds whose reads are logged; others:
 * true). False when the row could not be written (logged for operators):
 * the caller then answers without personal data. */
bool records_log_write(const app_t *app, request_t *req, store_conn_t *conn,
                       const store_kind_t *kind, const char *id);

/* POST: 201 with Location and ETag. */
bool records_create(const app_t *app, request_t *req, response_t *res, const record_resource_t *r,
                    kt_error_t *err);

/* PUT (merge false) and merge-PATCH with If-Match; a lost race without
 * If-Match is retried on the newer version. */
bool records_update(const app_t *app, request_t *req, response_t *res, const record_resource_t *r,
                    bool merge, kt_error_t *err);

/* GET /{id}/history (newest first, cursor) and /{id}/versions/{n}. */
bool records_history(const app_t *app, request_t *req, response_t *res, const record_resource_t *r,
                     kt_error_t *err);
bool records_version(const app_t *app, request_t *req, response_t *res, const record_resource_t *r,
                     kt_error_t *err);

#endif
