/*
 * test_sqlite_store: the SQLite store's connections (store/sqlite/store.c)
 * on a database file of its own under $TMPDIR — a connection goes back to
 * its pool with no read snapshot left open: the next user of it sees what
 * others committed meanwhile, and /health's probe leaves nothing that keeps
 * a checkpoint from folding the write-ahead log back.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/sqlite/sqlite.h"
#include "tests/unit/check.h"
#include "tests/unit/tmp_store.h"

static store_t *store;
static char path[600];

/* A connection of our own beside the pools, as another process would have. */
static sqlite3 *
other(void)
{
    sqlite3 *db = NULL;

    if (sqlite3_open(path, &db) != SQLITE_OK)
        return NULL;
    sqlite3_busy_timeout(db, 5000);
    return db;
}

/* Counts meta's rows with sql (two spellings: two statements of the cache). */
static int
count_meta(store_conn_t *conn, const char *sql)
{
    kt_error_t err;
    sqlite3_stmt *st = sqlite_stmt(conn, sql, &err);
    int n = -1;

    if (st != NULL && sqlite3_step(st) == SQLITE_ROW)
        n = sqlite3_column_int(st, 0);
    return n; /* the statement is left on its row, as a careless reader would */
}

static void
test_a_pooled_connection_reads_the_present(void)
{
    store_conn_t *conn = store_conn_pop(store, STORE_POOL_REQUEST);
    sqlite3 *db = other();
    int before = count_meta(conn, "SELECT count(*) FROM meta");

    store_conn_push(conn);
    CHECK(db != NULL && sqlite3_exec(db, "INSERT INTO meta(key, doc) VALUES('t1', x'0500000000')",
                                     NULL, NULL, NULL) == SQLITE_OK);
    conn = store_conn_pop(store, STORE_POOL_REQUEST); /* the same connection again */
    /* Another statement: one left on its row before the push must not have
     * kept the connection in the past. */
    CHECK_INT(count_meta(conn, "SELECT count(key) FROM meta"), before + 1);
    store_conn_push(conn);
    sqlite3_close(db);
}

static void
test_health_leaves_the_log_foldable(void)
{
    store_health_t h;
    sqlite3 *db = other();
    int log = -1, done = -2;

    CHECK(store_check(store, &h) && h.writable);
    CHECK(db != NULL && sqlite3_exec(db, "INSERT INTO meta(key, doc) VALUES('t2', x'0500000000')",
                                     NULL, NULL, NULL) == SQLITE_OK);
    CHECK(sqlite3_wal_checkpoint_v2(db, NULL, SQLITE_CHECKPOINT_PASSIVE, &log, &done) == SQLITE_OK);
    CHECK(log > 0);
    CHECK_INT(done, log); /* no snapshot held anywhere: every frame folded back */
    sqlite3_close(db);
}

int
main(void)
{
    char dir[512];
    int rc;

    if ((store = tmp_store_open("sqlite-store", dir, path)) == NULL)
        return 1;
    CHECK_RUN(test_a_pooled_connection_reads_the_present);
    CHECK_RUN(test_health_leaves_the_log_foldable);
    store_free(store);
    rc = check_failed ? 1 : 0;
    tmp_store_remove(dir);
    printf("%d passed, %d failed\n", check_passed, check_failed);
    return rc;
}
