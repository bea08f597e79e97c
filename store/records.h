/*
 * records: the versioned record store, one implementation per backend for
 * every kind of record (store/kind.h: students, organisations). The
 * store_record_* functions take the kind, the store_student_* ones are the
 * student kind's.
 *
 * What every backend keeps (docs/storage.md): immutable versions keyed by
 * record id and version, each with who/when/why, the field-level changes
 * and a SHA-256 hash chaining it to the version before; a head per record
 * (latest version, state, the kind's search members); the claims that keep
 * a student's СНИЛС and documents unique among active students; a change-feed
 * entry per version of a kind in the feed. A write is all of that or none of
 * it as readers see it: one transaction on SQLite, the insert-as-lock
 * protocol of store/mongo/write.c on MongoDB.
 */
#ifndef KT_STORE_RECORDS_H
#define KT_STORE_RECORDS_H

#include <bson/bson.h>
#include <stdbool.h>
#include <stdint.h>

#include "auth/principal.h"
#include "core/error.h"
#include "store/kind.h"
#include "store/store.h"

#define STUDENT_ID_LEN 36

typedef enum { WRITE_CREATE = 0, WRITE_UPDATE, WRITE_DELETE, WRITE__MAX } write_op_t;

/* Who writes, from where, why: kept with the version. */
typedef struct {
    const principal_t *principal;
    const char *request_id; /* API writes */
    const char *package_id; /* package items (NULL for API writes) */
    int64_t item;           /* 1-based item index within the package */
    const char *reason;     /* NULL or "приказ № 45 от 01.09.2026" */
    /* An update that changes who the record is (a student's name, birth date
     * or sex: service/identity.h): its version's kind is "identity_change". */
    bool identity_change;
    const char *fault; /* test builds only: "crash-after-version" */
    /* Merge and unmerge (service/merge.h; NULL/false for every other write):
     * the version's kind ("merge", "merged", "unmerge", "unmerged"), its
     * state when not the op's ("MERGED"), the member naming the other record
     * of the pair ("merged_from", "merged_into", "unmerged", "unmerged_from")
     * and that record's id. revive lets an update write over a MERGED
     * current version (the duplicate an unmerge restores). */
    const char *version_kind;
    const char *state;
    const char *link_member;
    const char *link_id;
    bool revive;
} write_meta_t;

/* A record (a student, an organisation) as read: the version's document
 * plus its bookkeeping. The id is a student's uuid or an organisation's ОГРН. */
typedef struct {
    char id[STUDENT_ID_LEN + 1];
    int64_t version;
    bool deleted;
    bson_t doc;    /* the student's fields (model/student.h) */
    bson_t record; /* the whole version record (time, principal, reason, ...) */
} record_t;

void record_init(record_t *s);

void record_release(record_t *s);

/* Moves src into dst (releasing what dst held); src needs no release after. */
void record_move(record_t *dst, record_t *src);

/* A version's state: "ACTIVE", "DELETED", or "MERGED" (a duplicate merged
 * into another record: deleted is true for it too, so everything that skips
 * deleted records — claims, searches, reports, export — skips it). */
#define RECORD_MERGED "MERGED"
const char *record_state(const record_t *s);

/* Whether s is a merged duplicate; its version names the survivor in
 * "merged_into". */
bool record_is_merged(const record_t *s);

/* "create", "update", "delete" (a version's kind may also be "identity_change":
 * write_meta_t). */
const char *store_kind_name(write_op_t kind);

/* Reads the latest version (rolling the head forward and repairing it when it
 * lags). 404 NOT_FOUND when the student never existed. A deleted student is
 * returned with deleted = true; the caller answers 410. */
bool store_student_get(store_conn_t *conn, const char *id, record_t *out, kt_error_t *err);

/* Reads version n exactly (404 when it does not exist). */
bool store_student_get_version(store_conn_t *conn, const char *id, int64_t n, record_t *out,
                               kt_error_t *err);

/* Reads the version that was current at time as_of ("...Z" RFC 3339, UTC,
 * millisecond precision): 404 when the student did not exist yet. */
bool store_student_as_of(store_conn_t *conn, const char *id, const char *as_of, record_t *out,
                         kt_error_t *err);

/* The same for any kind of record; messages name the kind. */
bool store_record_get(store_conn_t *conn, const store_kind_t *kind, const char *id, record_t *out,
                      kt_error_t *err);
bool store_record_get_version(store_conn_t *conn, const store_kind_t *kind, const char *id,
                              int64_t n, record_t *out, kt_error_t *err);
bool store_record_as_of(store_conn_t *conn, const store_kind_t *kind, const char *id,
                        const char *as_of, record_t *out, kt_error_t *err);

/* Result of a write. */
typedef struct {
    char id[STUDENT_ID_LEN + 1];
    int64_t version;
    bool unchanged; /* the new document equals the current one: nothing written */
} write_result_t;

/*
 * Writes a version. WRITE_CREATE: id NULL, a new id is assigned. WRITE_UPDATE:
 * doc replaces the current document; expected_version (0: any) is compared
 * with the current one (412 VERSION_CONFLICT naming it). WRITE_DELETE: doc is
 * ignored, the reason is required by the caller. An update to a document
 * equal to the current one writes nothing (out->unchanged); a deleted record
 * is 410 GONE. A lost race for version N+1 is VERSION_CONFLICT too; callers
 * without If-Match retry. Duplicates: 409 DUPLICATE_SNILS /
 * DUPLICATE_DOCUMENT with the holder's id in err->ref; VERSION_CONFLICT has
 * the current version in err->ref.
 */
bool store_student_write(store_conn_t *conn, write_op_t kind, const char *id,
                         int64_t expected_version, const bson_t *doc, const write_meta_t *meta,
                         write_result_t *out, kt_error_t *err);

/* The same for any kind. A create with id NULL assigns a uuid; a create
 * naming an id (an organisation's ОГРН) that exists is 409 kind->duplicate_id
 * with the id in err->ref — the unique _id of version 1 decides races. */
bool store_record_write(store_conn_t *conn, const store_kind_t *kind, write_op_t wkind,
                        const char *id, int64_t expected_version, const bson_t *doc,
                        const write_meta_t *meta, write_result_t *out, kt_error_t *err);

/* One record of a two-record write: as store_record_write's arguments,
 * expected_version required (the version doc was composed from). */
typedef struct {
    write_op_t op; /* WRITE_UPDATE or WRITE_DELETE */
    const char *id;
    int64_t expected_version;
    const bson_t *doc; /* NULL for WRITE_DELETE */
    const write_meta_t *meta;
} write_side_t;

/*
 * Writes sides[0], then sides[1] (a merge: the duplicate's final version,
 * which gives up its claims, then the survivor's, which takes them). On
 * SQLite one transaction: both or neither. On MongoDB two writes of the
 * insert-as-lock protocol in that order: when the second fails the first
 * stands (out[0] filled, out[1].version 0) and the caller completes it by
 * writing the second side alone (docs/storage.md, "Two-record writes").
 * Each side is refused as store_record_write refuses it (410, 412).
 */
bool store_record_write_pair(store_conn_t *conn, const store_kind_t *kind,
                             const write_side_t sides[2], write_result_t out[2], kt_error_t *err);

/* How far back a survivor's history is read for the version naming a
 * duplicate (store_pair_latest). */
#define STORE_PAIR_HISTORY_MAX 1000

/* The latest version of s (read down from its current one, at most
 * STORE_PAIR_HISTORY_MAX) that names other as merged_from or unmerged, into
 * v; *found false when none. */
bool store_pair_latest(store_conn_t *conn, const store_kind_t *kind, const record_t *s,
                       const char *other, record_t *v, bool *found, kt_error_t *err);

/* verify: whether cur, a merged record, has a survivor whose latest version
 * naming it is the merge; *incomplete (with the line in problem, size ≥ 256)
 * when not — a pair whose second write is missing (MongoDB). */
bool store_pair_check(store_conn_t *conn, const store_kind_t *kind, const record_t *cur,
                      bool *incomplete, char *problem, kt_error_t *err);

/* The student that holds a claim key ("snils:..." or "doc:..."): the holder
 * of its latest claim, "" when none (callers re-check the holder's current
 * version): fills id (size ≥ 37). */
bool store_claim_holder(store_conn_t *conn, const char *key, char *id, kt_error_t *err);

/* Ids of active heads whose field equals value ("organization" or
 * "name_key"), ascending, after the id `after` (NULL: from the start). The
 * heads are hints: callers re-read each student and re-check the filter. */
bool store_student_find_ids(store_conn_t *conn, const char *field, const char *value,
                            const char *after, int limit, char (*ids)[40], int *n, kt_error_t *err);

/* Ids of active heads of kind matching filter (equality on top-level head
 * members), ascending, after `after` (NULL: from the start). Hints, as above. */
bool store_record_find_ids(store_conn_t *conn, const store_kind_t *kind, const bson_t *filter,
                           const char *after, int limit, char (*ids)[40], int *n, kt_error_t *err);

/*
 * The blocking keys of the duplicate search (docs/duplicates.md): a
 * student's head carries them as members dup_last_date (the consonant
 * skeleton of the surname + birth date), dup_first_date (of the first name
 * + birth date) and dup_names_year (of both names + birth year), so that
 * store_student_find_ids by one of them reads a block of candidates from an
 * index. Each value begins with STORE_DUP_SNILS or STORE_DUP_NO_SNILS and
 * "|": whether the record holds a СНИЛС, so that a search may leave out the
 * records that hold one. Skeletons: model/names.h, names_skeleton.
 */
#define STORE_DUP_KEYS     3
#define STORE_DUP_KEY_MAX  160
#define STORE_DUP_SNILS    's'
#define STORE_DUP_NO_SNILS 'n'
extern const char *const store_dup_key_names[STORE_DUP_KEYS];
void store_dup_keys(const bson_t *doc, char keys[STORE_DUP_KEYS][STORE_DUP_KEY_MAX]);

/* The hex SHA-256 of a version record, as stored in its "hash". */
bool store_version_hash(const bson_t *record, const char *prev_hash, char out[65]);

/* "<id>:<version, 10 digits>": a version's key in every backend. */
void store_version_id(const char *id, int64_t n, char out[64]);

#endif
