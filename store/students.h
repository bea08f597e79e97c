/*
 * students: the versioned record store — "Versioning without transactions"
 * of DESIGN.md, as documented in docs/storage.md. One implementation serves
 * every kind of record (store/kind.h: students, organisations); the
 * store_record_* functions take the kind, the store_student_* ones are the
 * student kind's. The collections named below are the students'; an
 * organisation's are organization_versions and organizations.
 *
 * Collections (every hot operation is an _id lookup or an insert):
 *   student_versions  _id "<student id>:<version, 10 digits>" — immutable
 *                     snapshots; inserting version N+1 is the write lock.
 *   students          _id "<student id>" — the head: a hint of the latest
 *                     version that readers roll forward (probe N+1).
 *   claims            _id "snils:<11 digits>" / "doc:<TYPE|SERIES|NUMBER>"
 *                     (normalised) and their later generations "<key>|<g>",
 *                     plus the hint "<key>|latest" — which student claimed a
 *                     СНИЛС or a document; whether the claim binds is decided
 *                     by that student's current version and the claim's age.
 *   changes           the change feed (store/feed.h).
 * A write (store/write.c): read version N → look at the keys it adds (reads
 * only: 409 when one is bound) → claim them → reserve a feed sequence →
 * claim anew those claimed more than half their youth ago → insert version
 * N+1 (with the hash of version N) → move the head. Claims are never deleted
 * or released. A crash between any two steps leaves a state that reads
 * correctly: claims without a version go stale, a feed entry without one is
 * void, a version ahead of the head is rolled forward to and the head moved by
 * the next read or write, or by `kontingentctl repair` (docs/storage.md,
 * "Every crash state").
 */
#ifndef KT_STORE_STUDENTS_H
#define KT_STORE_STUDENTS_H

#include <bson/bson.h>
#include <mongoc/mongoc.h>
#include <stdbool.h>
#include <stdint.h>

#include "auth/principal.h"
#include "core/error.h"
#include "store/kind.h"

#define STUDENT_ID_LEN 36

typedef enum { KIND_CREATE = 0, KIND_UPDATE, KIND_DELETE, KIND__MAX } write_kind_t;

/* Who writes, from where, why: kept with the version. */
typedef struct {
    const principal_t *principal;
    const char *request_id; /* API writes */
    const char *package_id; /* package items (NULL for API writes) */
    int64_t item;           /* 1-based item index within the package */
    const char *reason;     /* NULL or "приказ № 45 от 01.09.2026" */
    const char *fault;      /* test builds only: "crash-after-version" */
} write_meta_t;

/* A record (a student, an organisation) as read: the version's document
 * plus its bookkeeping. The id is a student's uuid or an organisation's ОГРН. */
typedef struct {
    char id[STUDENT_ID_LEN + 1];
    int64_t version;
    bool deleted;
    bson_t doc;    /* the student's fields (model/student.h) */
    bson_t record; /* the whole version record (time, principal, reason, ...) */
} student_t;

void student_init(student_t *s);

void student_release(student_t *s);

/* Moves src into dst (releasing what dst held); src needs no release after. */
void student_move(student_t *dst, student_t *src);

/* "create", "update", "delete". */
const char *store_kind_name(write_kind_t kind);

/* Reads the latest version (rolling the head forward and repairing it when it
 * lags). 404 NOT_FOUND when the student never existed. A deleted student is
 * returned with deleted = true; the caller answers 410. */
bool store_student_get(mongoc_client_t *client, const char *db, const char *id, student_t *out,
                       kt_error_t *err);

/* Reads version n exactly (404 when it does not exist). */
bool store_student_get_version(mongoc_client_t *client, const char *db, const char *id, int64_t n,
                               student_t *out, kt_error_t *err);

/* Reads the version that was current at time as_of ("...Z" RFC 3339, UTC,
 * millisecond precision): 404 when the student did not exist yet. */
bool store_student_as_of(mongoc_client_t *client, const char *db, const char *id, const char *as_of,
                         student_t *out, kt_error_t *err);

/* The same for any kind of record; messages name the kind. */
bool store_record_get(mongoc_client_t *client, const char *db, const store_kind_t *kind,
                      const char *id, student_t *out, kt_error_t *err);
bool store_record_get_version(mongoc_client_t *client, const char *db, const store_kind_t *kind,
                              const char *id, int64_t n, student_t *out, kt_error_t *err);
bool store_record_as_of(mongoc_client_t *client, const char *db, const store_kind_t *kind,
                        const char *id, const char *as_of, student_t *out, kt_error_t *err);

/* Result of a write. */
typedef struct {
    char id[STUDENT_ID_LEN + 1];
    int64_t version;
    bool unchanged; /* the new document equals the current one: nothing written */
} write_result_t;

/*
 * Writes a version. KIND_CREATE: id NULL, a new id is assigned. KIND_UPDATE:
 * doc replaces the current document; expected_version (0: any) is compared
 * with the current one (412 VERSION_CONFLICT naming it). KIND_DELETE: doc is
 * ignored, the reason is required by the caller. An update to a document
 * equal to the current one writes nothing (out->unchanged); a deleted record
 * is 410 GONE. A lost race for version N+1 is VERSION_CONFLICT too; callers
 * without If-Match retry. Duplicates: 409 DUPLICATE_SNILS /
 * DUPLICATE_DOCUMENT with the holder's id in err->ref; VERSION_CONFLICT has
 * the current version in err->ref.
 */
bool store_student_write(mongoc_client_t *client, const char *db, write_kind_t kind, const char *id,
                         int64_t expected_version, const bson_t *doc, const write_meta_t *meta,
                         write_result_t *out, kt_error_t *err);

/* The same for any kind. A create with id NULL assigns a uuid; a create
 * naming an id (an organisation's ОГРН) that exists is 409 kind->duplicate_id
 * with the id in err->ref — the unique _id of version 1 decides races. */
bool store_record_write(mongoc_client_t *client, const char *db, const store_kind_t *kind,
                        write_kind_t wkind, const char *id, int64_t expected_version,
                        const bson_t *doc, const write_meta_t *meta, write_result_t *out,
                        kt_error_t *err);

/* The student that holds a claim key ("snils:..." or "doc:..."): the holder
 * of its latest claim, "" when none (callers re-check the holder's current
 * version): fills id (size ≥ 37). */
bool store_claim_holder(mongoc_client_t *client, const char *db, const char *key, char *id,
                        kt_error_t *err);

/* Repair: makes sure an active record holds a claim on each key of its
 * current version s (claim keys are re-derived, so keys written before a
 * change of their normalisation get their new claim). *restored counts the
 * claims inserted, *contested the keys another record's claim binds (verify
 * reports those as DUPLICATE when both carry the key). */
bool store_claims_restore(mongoc_client_t *client, const char *db, const store_kind_t *kind,
                          const student_t *s, long *restored, long *contested, kt_error_t *err);

/* Ids of active heads whose field equals value ("organization" or
 * "name_key"), ascending, after the id `after` (NULL: from the start). The
 * heads are hints: callers re-read each student and re-check the filter. */
bool store_student_find_ids(mongoc_client_t *client, const char *db, const char *field,
                            const char *value, const char *after, int limit, char (*ids)[40],
                            int *n, kt_error_t *err);

/* Ids of active heads of kind matching filter (equality on top-level head
 * members), ascending, after `after` (NULL: from the start). Hints, as above. */
bool store_record_find_ids(mongoc_client_t *client, const char *db, const store_kind_t *kind,
                           const bson_t *filter, const char *after, int limit, char (*ids)[40],
                           int *n, kt_error_t *err);

/* Creates the indexes a real MongoDB needs for searches; idempotent. */
bool store_ensure_indexes(mongoc_client_t *client, const char *db, kt_error_t *err);

/* The hex SHA-256 of a version record, as stored in its "hash". */
bool store_version_hash(const bson_t *record, const char *prev_hash, char out[65]);

/* For the store's own modules (write.c, verify.c): */
void store_version_id(const char *id, int64_t n, char out[64]);
bool store_load_version(mongoc_client_t *client, const char *db, const store_kind_t *kind,
                        const char *id, int64_t n, student_t *out, bool *found, kt_error_t *err);
bool store_move_head(mongoc_client_t *client, const char *db, const store_kind_t *kind,
                     const student_t *s, kt_error_t *err);

#endif
