/*
 * store: the SQLite backend's connections — one database file opened by
 * every worker process and kontingentctl, a pool of connections per bound
 * on a wait, prepared statements cached per connection, the schema, /health
 * and the operations table.
 */
#include "store/sqlite/sqlite.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/buf.h"

/* Statements cached per connection: more than the store's distinct SQL. */
#define STMT_CACHE 96

typedef struct stmt_slot {
    char *sql;
    sqlite3_stmt *st;
} stmt_slot_t;

typedef struct pooled {
    sqlite_conn_t conn;
    stmt_slot_t stmts[STMT_CACHE];
    int nstmts;
    struct pooled *next;
} pooled_t;

typedef struct {
    store_t base; /* first: a store_t * is a sqlite_store_t * */
    char path[1024];
    pthread_mutex_t lock;
    pooled_t *free[3]; /* idle connections, per store_pool_t */
} sqlite_store_t;

static const int pool_timeout_ms[3] = {
    [STORE_POOL_REQUEST] = STORE_REQUEST_TIMEOUT_MS,
    [STORE_POOL_BATCH] = STORE_BATCH_TIMEOUT_MS,
    [STORE_POOL_HEALTH] = STORE_HEALTH_TIMEOUT_MS,
};

void
sqlite_error(kt_error_t *err, sqlite3 *db, int rc, const char *what)
{
    int primary = rc & 0xff;
    bool unavailable = primary == SQLITE_BUSY || primary == SQLITE_LOCKED ||
                       primary == SQLITE_FULL || primary == SQLITE_IOERR ||
                       primary == SQLITE_READONLY || primary == SQLITE_CANTOPEN ||
                       primary == SQLITE_NOMEM || primary == SQLITE_PROTOCOL;
    const char *msg = db != NULL ? sqlite3_errmsg(db) : sqlite3_errstr(rc);

    if (err == NULL)
        return;
    kt_error_set(err, KT_DOMAIN_STORE, unavailable ? KT_STORE_UNAVAILABLE : KT_INTERNAL,
                 "%s: %s (sqlite %d)", what, msg, rc);
}

/* Pragmas of every connection: WAL (set once in the file, kept), FULL sync
 * — a commit is on disk before it is acknowledged, in the WAL and so safe
 * from kill -9 and a power cut — and how long to wait for the write lock. */
/* How long a writer naps between looks at a busy write lock. SQLite's own
 * busy handler sleeps up to 100 ms at a time while the lock may long be free
 * (measured: 8 writers, p99 611–678 ms with it, 130–170 ms with this). */
#define BUSY_NAP_US 500

/* Waits for the write lock in short naps, up to the pool's bound (arg: the
 * bound in ms, as a pointer-sized integer); then SQLITE_BUSY: 503. */
static int
busy_wait(void *arg, int naps)
{
    static _Thread_local struct timespec since; /* this thread's wait: naps == 0 starts it */
    intptr_t timeout_ms = (intptr_t)arg;
    struct timespec now;

    clock_gettime(CLOCK_MONOTONIC, &now);
    if (naps == 0)
        since = now;
    if ((now.tv_sec - since.tv_sec) * 1000 + (now.tv_nsec - since.tv_nsec) / 1000000 >= timeout_ms)
        return 0;
    usleep(BUSY_NAP_US);
    return 1;
}

/* The batch pool's connections (reports, export, verify, the queue) read
 * the file through a memory map of up to this many bytes (libsqlite3 caps
 * it at about 2 GiB): no copy from the page cache per page. A report's scan
 * of 100 000 students took 0.45 s of CPU instead of 0.75 s. Requests keep
 * plain reads: under a map an I/O error of the disk is a SIGBUS that ends
 * the worker (the master starts another) rather than a 503. */
#define BATCH_MMAP_BYTES 2147418112
#define KT_STR_(x)       #x
#define KT_STR(x)        KT_STR_(x)

static int
configure(sqlite3 *db, int timeout_ms, store_pool_t pool)
{
    int rc = sqlite3_busy_handler(db, busy_wait, (void *)(intptr_t)timeout_ms);

    /* page_size first: it takes effect only on a new, empty file, before WAL.
     * A version record is about 2 KB: at 4 KiB pages each took a page of its
     * own; at 16 KiB the file is 40 % smaller and a full scan reads it in a
     * third of the time (measured at 1 M students, docs/storage.md). */
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(
            db,
            "PRAGMA page_size=16384; PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; "
            "PRAGMA foreign_keys=OFF; PRAGMA cache_size=-32768; "
            "PRAGMA temp_store=MEMORY;",
            NULL, NULL, NULL);
    if (rc == SQLITE_OK && pool == STORE_POOL_BATCH)
        rc = sqlite3_exec(db, "PRAGMA mmap_size=" KT_STR(BATCH_MMAP_BYTES) ";", NULL, NULL, NULL);
    return rc;
}

static pooled_t *
conn_open(sqlite_store_t *store, store_pool_t pool)
{
    pooled_t *p = calloc(1, sizeof *p);

    if (p == NULL)
        abort(); /* as libmongoc does when it cannot allocate */
    p->conn.base.store = &store->base;
    p->conn.base.pool = pool;
    /* A failed open still gives a handle: its errors reach the first
     * statement as 503, as a store that is down should. */
    int rc =
        sqlite3_open_v2(store->path, &p->conn.db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc == SQLITE_OK)
        configure(p->conn.db, pool_timeout_ms[pool], pool);
    return p;
}

static void
conn_close(pooled_t *p)
{
    for (int i = 0; i < p->nstmts; i++) {
        sqlite3_finalize(p->stmts[i].st);
        free(p->stmts[i].sql);
    }
    sqlite3_close_v2(p->conn.db);
    free(p);
}

static store_t *
sqlite_open(const store_options_t *opts, kt_error_t *err)
{
    sqlite_store_t *store = calloc(1, sizeof *store);

    if (store == NULL || opts->sqlite_path == NULL ||
        strlen(opts->sqlite_path) >= sizeof store->path) {
        kt_error_set(err, KT_DOMAIN_STORE, KT_INTERNAL, "bad SQLite path");
        free(store);
        return NULL;
    }
    store->base.ops = &store_sqlite_ops;
    memcpy(store->path, opts->sqlite_path, strlen(opts->sqlite_path) + 1);
    pthread_mutex_init(&store->lock, NULL);
    return &store->base;
}

static void
sqlite_close(store_t *base)
{
    sqlite_store_t *store = (sqlite_store_t *)base;

    for (int i = 0; i < 3; i++) {
        while (store->free[i] != NULL) {
            pooled_t *p = store->free[i];
            store->free[i] = p->next;
            conn_close(p);
        }
    }
    pthread_mutex_destroy(&store->lock);
    free(store);
}

static store_conn_t *
sqlite_conn_pop(store_t *base, store_pool_t pool)
{
    sqlite_store_t *store = (sqlite_store_t *)base;
    pooled_t *p;

    pthread_mutex_lock(&store->lock);
    p = store->free[pool];
    if (p != NULL)
        store->free[pool] = p->next;
    pthread_mutex_unlock(&store->lock);
    if (p == NULL)
        p = conn_open(store, pool);
    p->next = NULL;
    return &p->conn.base;
}

static void
sqlite_conn_push(store_conn_t *conn)
{
    sqlite_store_t *store = (sqlite_store_t *)conn->store;
    pooled_t *p = (pooled_t *)conn;

    /* A connection left inside a transaction (a caller's bug) would hold
     * the write lock: end it before anyone else gets the connection. */
    /* A statement stepped to a row and not reset keeps its read snapshot
     * open: the next user of the connection would read the past, and its
     * first write would fail at once (SQLITE_BUSY_SNAPSHOT). Reset them all. */
    for (int i = 0; i < p->nstmts; i++)
        sqlite3_reset(p->stmts[i].st);
    if (!sqlite3_get_autocommit(p->conn.db))
        sqlite3_exec(p->conn.db, "ROLLBACK", NULL, NULL, NULL);
    p->conn.depth = 0;
    pthread_mutex_lock(&store->lock);
    p->next = store->free[conn->pool];
    store->free[conn->pool] = p;
    pthread_mutex_unlock(&store->lock);
}

sqlite3_stmt *
sqlite_stmt(store_conn_t *conn, const char *sql, kt_error_t *err)
{
    pooled_t *p = (pooled_t *)conn;
    sqlite3_stmt *st = NULL;
    int rc;

    for (int i = 0; i < p->nstmts; i++) {
        if (strcmp(p->stmts[i].sql, sql) == 0) {
            sqlite3_reset(p->stmts[i].st);
            sqlite3_clear_bindings(p->stmts[i].st);
            return p->stmts[i].st;
        }
    }
    rc = sqlite3_prepare_v3(p->conn.db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL);
    if (rc != SQLITE_OK) {
        sqlite_error(err, p->conn.db, rc, "prepare");
        return NULL;
    }
    if (p->nstmts == STMT_CACHE) { /* full: the oldest goes */
        sqlite3_finalize(p->stmts[0].st);
        free(p->stmts[0].sql);
        memmove(p->stmts, p->stmts + 1, sizeof p->stmts[0] * (STMT_CACHE - 1));
        p->nstmts--;
    }
    p->stmts[p->nstmts].sql = strdup(sql);
    if (p->stmts[p->nstmts].sql == NULL)
        abort();
    p->stmts[p->nstmts++].st = st;
    return st;
}

static bool
exec_simple(store_conn_t *conn, const char *sql, kt_error_t *err)
{
    int rc = sqlite3_exec(sqlite_db(conn), sql, NULL, NULL, NULL);

    if (rc != SQLITE_OK)
        sqlite_error(err, sqlite_db(conn), rc, sql);
    return rc == SQLITE_OK;
}

bool
sqlite_begin(store_conn_t *conn, kt_error_t *err)
{
    sqlite_conn_t *c = (sqlite_conn_t *)conn;

    if (!exec_simple(conn, c->depth == 0 ? "BEGIN IMMEDIATE" : "SAVEPOINT kt_nested", err))
        return false;
    c->depth++;
    return true;
}

bool
sqlite_commit(store_conn_t *conn, kt_error_t *err)
{
    sqlite_conn_t *c = (sqlite_conn_t *)conn;

    if (c->depth > 1) {
        if (!exec_simple(conn, "RELEASE kt_nested", err)) {
            sqlite_rollback(conn);
            return false;
        }
        c->depth--;
        return true;
    }
    if (exec_simple(conn, "COMMIT", err)) {
        c->depth = 0;
        return true;
    }
    sqlite_rollback(conn);
    return false;
}

void
sqlite_rollback(store_conn_t *conn)
{
    sqlite_conn_t *c = (sqlite_conn_t *)conn;

    if (c->depth > 1) {
        sqlite3_exec(c->db, "ROLLBACK TO kt_nested; RELEASE kt_nested", NULL, NULL, NULL);
        c->depth--;
        return;
    }
    if (!sqlite3_get_autocommit(c->db))
        sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
    c->depth = 0;
}

/* A batch (store_batch_begin): the operations until store_batch_end commit
 * together, and hold the write lock meanwhile. */
static bool
sqlite_batch_begin(store_conn_t *conn, kt_error_t *err)
{
    return sqlite_begin(conn, err);
}

static bool
sqlite_batch_end(store_conn_t *conn, bool commit, kt_error_t *err)
{
    if (commit)
        return sqlite_commit(conn, err);
    sqlite_rollback(conn);
    return true;
}

int
sqlite_bind_text(sqlite3_stmt *st, int i, const char *s)
{
    return s == NULL ? sqlite3_bind_null(st, i) : sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT);
}

int
sqlite_bind_bson(sqlite3_stmt *st, int i, const bson_t *doc)
{
    return sqlite3_bind_blob(st, i, bson_get_data(doc), (int)doc->len, SQLITE_TRANSIENT);
}

bool
sqlite_column_bson(sqlite3_stmt *st, int i, bson_t *out)
{
    const uint8_t *data = sqlite3_column_blob(st, i);
    int len = sqlite3_column_bytes(st, i);
    bson_t view;

    if (data == NULL || len < 5 || !bson_init_static(&view, data, (size_t)len)) {
        bson_init(out);
        return false;
    }
    bson_copy_to(&view, out);
    return true;
}

bool
sqlite_step_done(sqlite3_stmt *st, store_conn_t *conn, const char *what, kt_error_t *err)
{
    int rc = sqlite3_step(st);

    if (rc == SQLITE_DONE || rc == SQLITE_ROW)
        return true;
    sqlite_error(err, sqlite_db(conn), rc, what);
    return false;
}

/* Every module's tables (store/sqlite/schema.c lists them). */
static bool
sqlite_prepare(store_conn_t *conn, kt_error_t *err)
{
    for (size_t i = 0; sqlite_schema[i] != NULL; i++)
        if (!exec_simple(conn, sqlite_schema[i], err))
            return false;
    return true;
}

static double
now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* A read, then a small write that needs room in the file and the write
 * lock: one row per worker process, replaced with a fresh 2 KiB filler. A
 * full disk, a read-only file system or a lock held too long fails it. */
static bool
sqlite_check(store_t *base, store_health_t *out)
{
    store_conn_t *conn = sqlite_conn_pop(base, STORE_POOL_HEALTH);
    sqlite3_stmt *st;
    double t0 = now_ms();
    char filler[2048];
    kt_error_t *err = &out->error;

    kt_error_clear(err);
    out->reachable = (st = sqlite_stmt(conn, "SELECT count(*) FROM sqlite_master", err)) != NULL &&
                     sqlite_step_done(st, conn, "health read", err);
    /* A statement left on its row keeps the connection's read snapshot open
     * until its next use: no checkpoint could fold the WAL back past it (the
     * WAL grew to 5 GB under bench/scale), and the probe's write below would
     * not commit until then. */
    if (st != NULL)
        sqlite3_reset(st);
    out->latency_ms = now_ms() - t0;
    out->writable = false;
    if (out->reachable) {
        for (size_t i = 0; i < sizeof filler; i++)
            filler[i] = (char)('a' + ((long)t0 / 7 + (long)i) % 26);
        st = sqlite_stmt(
            conn, "INSERT OR REPLACE INTO health(worker, at_ms, filler) VALUES(?, ?, ?)", err);
        if (st != NULL) {
            sqlite3_bind_int64(st, 1, (sqlite3_int64)getpid());
            sqlite3_bind_int64(st, 2, (sqlite3_int64)t0);
            sqlite3_bind_blob(st, 3, filler, (int)sizeof filler, SQLITE_STATIC);
            out->writable = sqlite_step_done(st, conn, "health write probe", err);
            sqlite3_reset(st);
        }
    }
    sqlite_conn_push(conn);
    return out->writable;
}

const store_ops_t store_sqlite_ops = {
    .name = "sqlite",
    .open = sqlite_open,
    .close = sqlite_close,
    .conn_pop = sqlite_conn_pop,
    .conn_push = sqlite_conn_push,
    .check = sqlite_check,
    .prepare = sqlite_prepare,
    .batch_begin = sqlite_batch_begin,
    .batch_end = sqlite_batch_end,
    .record_get = sqlite_record_get,
    .record_get_version = sqlite_record_get_version,
    .record_as_of = sqlite_record_as_of,
    .record_write = sqlite_record_write,
    .record_write_pair = sqlite_record_write_pair,
    .record_find_ids = sqlite_record_find_ids,
    .claim_holder = sqlite_claim_holder,
    .feed_read = sqlite_feed_read,
    .feed_epoch_get = sqlite_feed_epoch_get,
    .feed_epoch_set = sqlite_feed_epoch_set,
    .audit_log_read_fields = sqlite_audit_log_read_fields,
    .audit_query = sqlite_audit_query,
    .audit_changes_each = sqlite_audit_changes_each,
    .scan_latest = sqlite_scan_latest,
    .scan_page = sqlite_scan_page,
    .packages_register = sqlite_packages_register,
    .packages_item_get = sqlite_packages_item_get,
    .packages_item_put = sqlite_packages_item_put,
    .packages_finish = sqlite_packages_finish,
    .packages_receipt_each = sqlite_packages_receipt_each,
    .packages_items_each = sqlite_packages_items_each,
    .packages_enqueue = sqlite_packages_enqueue,
    .packages_load = sqlite_packages_load,
    .packages_progress = sqlite_packages_progress,
    .packages_chunks_drop = sqlite_packages_chunks_drop,
    .packages_waiting = sqlite_packages_waiting,
    .packages_attempt = sqlite_packages_attempt,
    .packages_lease_take = sqlite_packages_lease_take,
    .packages_lease_renew = sqlite_packages_lease_renew,
    .packages_lease_release = sqlite_packages_lease_release,
    .packages_get = sqlite_packages_get,
    .packages_find = sqlite_packages_find,
    .verify_record = sqlite_verify_record,
    .verify_all = sqlite_verify_all,
    .verify_last_run = sqlite_verify_last_run,
    .verify_repair_all = sqlite_verify_repair_all,
    .verify_count = sqlite_verify_count,
    .health_keys_insert = sqlite_health_keys_insert,
    .health_keys_get = sqlite_health_keys_get,
    .health_keys_put_wraps = sqlite_health_keys_put_wraps,
    .health_keys_each = sqlite_health_keys_each,
    .dup_pair_put = sqlite_dup_pair_put,
    .dup_pair_get = sqlite_dup_pair_get,
    .dup_pairs_list = sqlite_dup_pairs_list,
    .copy_each = sqlite_copy_each,
    .copy_put = sqlite_copy_put,
    .copy_finish = sqlite_copy_finish,
};
