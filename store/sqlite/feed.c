/*
 * feed: the change feed of the SQLite store (store/feed.h). A write numbers
 * its entry in its own transaction (store/sqlite/records.c), and writes are
 * serialised by BEGIN IMMEDIATE: the committed entries are exactly 1..max,
 * in commit order, with no entry in flight for a reader to wait for. A page
 * is one range scan: of the primary key for the whole region, or for a
 * school the merge of two index ranges — its own entries (org, seq) and the
 * entries of students who left it (from_org, seq) — ordered by seq.
 */
#include "store/sqlite/sqlite.h"

#include <string.h>

/* Taken first: every entry at or below it is committed, and the page reads
 * nothing above it, so the cursor may move to it when the page ends early. */
#define SQL_FEED_MAX "SELECT coalesce(max(seq), 0) FROM changes"

#define ENTRY_COLUMNS "seq, student_id, version, kind, time, org, from_org"

#define SQL_FEED_ALL                                                                               \
    "SELECT " ENTRY_COLUMNS ", 0 FROM changes WHERE seq > ?1 AND seq <= ?2 ORDER BY seq LIMIT ?3"

/* The second range names from_org != '' so that the partial index serves it. */
#define SQL_FEED_ORG                                                                               \
    "SELECT " ENTRY_COLUMNS ", 0 AS left FROM changes"                                             \
    " WHERE org = ?4 AND seq > ?1 AND seq <= ?2"                                                   \
    " UNION ALL"                                                                                   \
    " SELECT " ENTRY_COLUMNS ", 1 AS left FROM changes"                                            \
    " WHERE from_org = ?4 AND from_org != '' AND org != ?4 AND seq > ?1 AND seq <= ?2"             \
    " ORDER BY 1 LIMIT ?3"

/* Copies column i into dst (size bytes), cut to fit. */
static void
copy_column(char *dst, size_t size, sqlite3_stmt *st, int i)
{
    const unsigned char *s = sqlite3_column_text(st, i);
    size_t n = s != NULL ? (size_t)sqlite3_column_bytes(st, i) : 0;

    if (n >= size)
        n = size - 1;
    if (n > 0)
        memcpy(dst, s, n);
    dst[n] = '\0';
}

static void
fill_entry(feed_entry_t *e, sqlite3_stmt *st)
{
    memset(e, 0, sizeof *e);
    e->seq = sqlite3_column_int64(st, 0);
    copy_column(e->student_id, sizeof e->student_id, st, 1);
    e->version = sqlite3_column_int64(st, 2);
    copy_column(e->kind, sizeof e->kind, st, 3);
    copy_column(e->time, sizeof e->time, st, 4);
    copy_column(e->org, sizeof e->org, st, 5);
    copy_column(e->from_org, sizeof e->from_org, st, 6);
    /* As the MongoDB entry: from_org only when the student moved. */
    if (strcmp(e->from_org, e->org) == 0)
        e->from_org[0] = '\0';
    e->left = sqlite3_column_int(st, 7) != 0;
}

/* The highest committed sequence into *max. */
static bool
feed_max(store_conn_t *conn, int64_t *max, kt_error_t *err)
{
    sqlite3_stmt *st = sqlite_stmt(conn, SQL_FEED_MAX, err);
    int rc;

    *max = 0;
    if (st == NULL)
        return false;
    rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        sqlite_error(err, sqlite_db(conn), rc, "feed: the last sequence");
        sqlite3_reset(st);
        return false;
    }
    *max = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    return true;
}

bool
sqlite_feed_read(store_conn_t *conn, int64_t since, int limit, const char *org, feed_visit_fn visit,
                 void *ctx, int64_t *next, kt_error_t *err)
{
    sqlite3_stmt *st = NULL;
    int64_t max = 0, last = since;
    int n = 0, rc = SQLITE_DONE;

    *next = since;
    if (limit < 1) {
        kt_error_set(err, KT_DOMAIN_INTERNAL, KT_INTERNAL, "feed: limit must be at least 1");
        return false;
    }
    if (!feed_max(conn, &max, err))
        return false;
    st = sqlite_stmt(conn, org != NULL ? SQL_FEED_ORG : SQL_FEED_ALL, err);
    if (st == NULL)
        return false;
    sqlite3_bind_int64(st, 1, since);
    sqlite3_bind_int64(st, 2, max);
    sqlite3_bind_int(st, 3, limit);
    if (org != NULL)
        sqlite_bind_text(st, 4, org);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        feed_entry_t e;
        fill_entry(&e, st);
        visit(ctx, &e);
        last = e.seq;
        n++;
    }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) {
        sqlite_error(err, sqlite_db(conn), rc, "feed: read");
        return false;
    }
    /* A full page resumes after its last entry; a short one has seen every
     * entry of this reader up to max (the others' do not concern it). */
    *next = n == limit ? last : (max > since ? max : since);
    return true;
}
