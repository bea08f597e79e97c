/*
 * feed: the change feed — one entry per student version, in a gapless
 * sequence, for incremental sync (GET /api/v1/changes). A reader never loses
 * an entry, never sees one twice, and sees a student's versions in order.
 * SQLite numbers the entries in the write's transaction; MongoDB reserves
 * them by inserting the next sequence before the version (store/mongo/feed.c).
 */
#ifndef KT_FEED_H
#define KT_FEED_H

#include <bson/bson.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/error.h"
#include "store/store.h"

/* One resolved entry of the feed. */
typedef struct {
    int64_t seq;
    char student_id[40];
    int64_t version;
    char kind[16]; /* "create", "update", "delete", "identity_change" */
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
bool feed_read(store_conn_t *conn, int64_t since, int limit, const char *org, feed_visit_fn visit,
               void *ctx, int64_t *next, kt_error_t *err);

/* Milliseconds since the epoch, wall clock. */
int64_t feed_now_ms(void);

#endif
