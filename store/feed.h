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

/*
 * The feed's epoch (docs/api.md, "Changes"; docs/operations.md, "Backup"):
 * which history the sequences and versions belong to. A store starts in
 * the original epoch, FEED_EPOCH_ORIGINAL; restoring a backup re-uses
 * sequences and versions that were handed out before, so `kontingentctl
 * epoch renew` gives the store a new, random epoch (16 hex digits), and
 * cursors and ETags of another epoch are refused.
 */
#define FEED_EPOCH_MAX      24
#define FEED_EPOCH_ORIGINAL "0"

/* The store's epoch (FEED_EPOCH_ORIGINAL when none was ever set). */
bool feed_epoch_get(store_conn_t *conn, char epoch[FEED_EPOCH_MAX], kt_error_t *err);

/* Gives the store a new random epoch, written to epoch. */
bool feed_epoch_renew(store_conn_t *conn, char epoch[FEED_EPOCH_MAX], kt_error_t *err);

/* Milliseconds since the epoch, wall clock. */
int64_t feed_now_ms(void);

#endif
