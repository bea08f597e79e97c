/*
 * feed: the change feed — one entry per student version, in a gapless
 * sequence, for incremental sync (GET /api/v1/changes).
 *
 * A sequence number is taken by inserting {_id: <20-digit seq>} into
 * `changes`: inserts with a unique _id are the one thing atomic on every
 * backend. A writer probes from the hint in `counters` upward, so number n
 * is only ever inserted after n-1 exists: no holes. The entry is reserved
 * *before* its version is inserted and the version records the sequence;
 * a reader shows an entry only once its version exists with that sequence,
 * skips entries whose version was won by another writer (or never came,
 * after FEED_LEASE_MS), and stops at an entry still in flight. So a reader
 * never loses an entry, never sees one twice, and sees a student's versions
 * in order (version N+1 can only be reserved after version N was inserted).
 */
#ifndef KT_FEED_H
#define KT_FEED_H

#include <bson/bson.h>
#include <mongoc/mongoc.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/error.h"

/* After this long an entry whose version never appeared is void. A writer
 * whose reservation is older than half of it reserves again. */
#define FEED_LEASE_MS 60000

typedef struct {
    int64_t seq;
    int64_t reserved_ms; /* wall clock, for the lease */
} feed_ticket_t;

/* Reserves the next sequence for (student, version, kind); org is the
 * student's organisation at that version (for per-school feeds), from_org
 * (NULL or "" when the same) its organisation at the version before: the
 * school the student left, which sees the entry as "left". */
bool feed_reserve(mongoc_client_t *client, const char *db, const char *student_id, int64_t version,
                  const char *kind, const char *org, const char *from_org, const char *time,
                  feed_ticket_t *ticket, kt_error_t *err);

/* One resolved entry of the feed. */
typedef struct {
    int64_t seq;
    char student_id[40];
    int64_t version;
    char kind[8];
    char time[32];
    char org[16];
    char from_org[16]; /* the organisation the student left with this version, or "" */
    bool left;         /* shown to from_org: only the id, that the student left */
} feed_entry_t;

typedef bool (*feed_visit_fn)(void *ctx, const feed_entry_t *entry);

/*
 * Visits up to limit valid entries after sequence since, in order. org (NULL:
 * all) keeps only entries of that organisation, and the entries of students
 * who left it (from_org), marked left; the others still advance the cursor.
 * *next is the cursor to resume from: the last sequence resolved.
 */
bool feed_read(mongoc_client_t *client, const char *db, int64_t since, int limit, const char *org,
               feed_visit_fn visit, void *ctx, int64_t *next, kt_error_t *err);

/* Milliseconds since the epoch, wall clock. */
int64_t feed_now_ms(void);

#endif
