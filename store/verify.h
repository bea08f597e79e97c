/*
 * verify: recomputes the tamper-evident chain of every student and every
 * organisation (each kind of store/kind.h) — each
 * version's hash = SHA-256(previous hash ‖ canonical bytes of the version) —
 * and checks that the head agrees with the versions and that each version's
 * change-feed entry names it. Reports the first broken link of each student,
 * and every claim key (СНИЛС, document) that two active students carry.
 * repair completes interrupted writes (heads that lag their versions).
 */
#ifndef KT_STORE_VERIFY_H
#define KT_STORE_VERIFY_H

#include <stdbool.h>
#include <stdio.h>

#include "core/error.h"
#include "core/progress.h"
#include "store/store.h"
#include "store/kind.h"

/* How many broken students the last run's summary names. */
#define VERIFY_LIST_MAX 100

typedef struct {
    long students;
    long versions; /* the students' */
    long organizations;
    long organization_versions;
    long progress; /* progress records (store/progress.h) */
    long progress_versions;
    long broken;     /* students with a broken link */
    long incomplete; /* heads lagging their versions (repairable) */
    long repaired;
    long duplicates;      /* claim keys (СНИЛС, document) carried by a second active student */
    long claims_restored; /* repair: claims inserted for keys of active students */
    long claims_contested; /* repair: keys of active students another student's claim binds */
    char broken_ids[VERIFY_LIST_MAX][40]; /* the first broken students */
    int listed;
    struct strmap *claim_keys; /* verify_all's own: key → the first active holder */
} verify_report_t;

/* The duplicate-key report holds one entry per claim key of every active
 * student; past this many bytes verify fails rather than take the machine. */
#define VERIFY_KEYS_MAX_BYTES ((size_t)2 << 30)

/* The verdict for one student: ok, or the first broken link in problem
 * (size ≥ 256) with the version it is at in *bad_version. */
bool verify_student(store_conn_t *conn, const char *id, long *versions, bool *head_lags,
                    int64_t *bad_version, char *problem, kt_error_t *err);

/* The same for a record of any kind. */
bool verify_record(store_conn_t *conn, const store_kind_t *kind, const char *id, long *versions,
                   bool *head_lags, int64_t *bad_version, char *problem, kt_error_t *err);

/* Verifies every student and organisation, printing one line per problem to out (BROKEN,
 * INCOMPLETE, DUPLICATE); stores the summary as the last run (collection verify_runs,
 * _id "last"). */
bool verify_all(store_conn_t *conn, FILE *out, verify_report_t *r, kt_error_t *err);

/* How many records (students, organisations) verify_all and verify_repair_all
 * will visit: their heads, counted — the total of their progress. A head
 * missing under a lagging write is not counted, so a run may visit a few more. */
bool verify_count(store_conn_t *conn, long *records, kt_error_t *err);

/* The progress verify_all and verify_repair_all step once per record they
 * visit (NULL, the default: none). Process-wide: kontingentctl sets it before
 * a run; the workers never do. */
void verify_progress_use(progress_t *p);

/* The summary of the last verify_all (a copy in out, initialised by the
 * call): time, students, versions, broken, incomplete, ok, broken_students.
 * *found is false when verify never ran. */
bool verify_last_run(store_conn_t *conn, bson_t *out, bool *found, kt_error_t *err);

/* Rolls every head forward to its latest version, and claims every key of
 * every active student's current version that it does not hold (so keys are
 * re-derived after their normalisation changes, docs/storage.md). */
bool verify_repair_all(store_conn_t *conn, FILE *out, verify_report_t *r, kt_error_t *err);

#endif
