/*
 * merge: two records of one child become one, and back (issue 16;
 * docs/api.md, "Merge and unmerge"). Transport-free: the handler turns the
 * errors into problem+json.
 *
 * A merge writes two versions with one store operation
 * (store_record_write_pair): the duplicate's final version, kind "merged",
 * state MERGED, "merged_into" the survivor, which gives up its claims; then
 * the survivor's version, kind "merge", "merged_from" the duplicate, whose
 * document combines the two (merge_compose) and which takes the claims.
 * An unmerge writes the survivor's version, kind "unmerge", "unmerged" the
 * duplicate, with its document from before the merge plus what changed
 * since in fields the merge did not touch; then the duplicate's, kind
 * "unmerged", "unmerged_from" the survivor, ACTIVE again with the document
 * it had. Versions are only ever added.
 *
 * On MongoDB the two versions are two writes: when the first stands and
 * the second did not happen (a crash, a lost race), the same request sent
 * again completes it — the pair's state is read from the duplicate and
 * from the survivor's latest version naming it.
 */
#ifndef KT_SERVICE_MERGE_H
#define KT_SERVICE_MERGE_H

#include <bson/bson.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/error.h"
#include "store/records.h"

/* How far back a survivor's history is read to find the version that
 * merged a duplicate (an unmerge, a completion) is STORE_PAIR_HISTORY_MAX:
 * a longer history past the merge is refused with 409 NOT_MERGED naming it. */

/* The lists that combine (docs/api.md): documents by their claim key
 * (type, series, number; the survivor's entry wins on a tie),
 * representatives by their whole content. Every other field is taken
 * whole from one side. */

typedef struct {
    const char *survivor;  /* the path's id */
    const char *duplicate; /* the body's */
    /* {"<field>": "survivor" | "duplicate"}: which side wins where they
     * differ (checked by merge_check_prefer). NULL: none. */
    const bson_t *prefer;
    const write_meta_t *meta; /* principal, request id, reason */
} merge_request_t;

typedef struct {
    char survivor[STUDENT_ID_LEN + 1];
    int64_t survivor_version;
    char duplicate[STUDENT_ID_LEN + 1];
    int64_t duplicate_version;
    unsigned identity; /* the identity fields that differed (service/identity.h mask) */
    bool completed;    /* an earlier, interrupted request's pair was completed */
} merge_result_t;

/* Checks prefer's members: top-level fields of the student model ("/" may
 * lead them), values "survivor" or "duplicate"; 422 VALIDATION with a
 * field error under /prefer otherwise. A normalised copy (no "/") goes to
 * out (initialised here). */
bool merge_check_prefer(arena_t *arena, const bson_t *prefer, bson_t *out, kt_error_t *err);

/* The survivor's merged document into out (initialised, empty): 422
 * MERGE_CONFLICT listing each field that differs and prefer leaves open
 * (pointer "/<field>"). */
bool merge_compose(arena_t *arena, const bson_t *survivor, const bson_t *duplicate,
                   const bson_t *prefer, bson_t *out, kt_error_t *err);

/* The survivor's document after an unmerge into out (initialised, empty):
 * before (the merge's previous version) with, for each field changed since
 * the merge (merged → now) that the merge did not touch (before → merged),
 * today's value; 409 UNMERGE_CONFLICT listing the fields changed on both. */
bool merge_uncompose(arena_t *arena, const bson_t *before, const bson_t *merged, const bson_t *now,
                     bson_t *out, kt_error_t *err);

/* POST /students/{survivor}/merge. */
bool service_merge(store_conn_t *conn, arena_t *arena, const merge_request_t *m,
                   merge_result_t *out, kt_error_t *err);

/* POST /students/{survivor}/unmerge (prefer unused). */
bool service_unmerge(store_conn_t *conn, arena_t *arena, const merge_request_t *m,
                     merge_result_t *out, kt_error_t *err);

#endif
