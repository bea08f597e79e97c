/*
 * store: the registry's storage, behind one contract with two
 * implementations (docs/storage.md):
 *   sqlite   the default: libsqlite3 in the worker processes, one file in
 *            WAL mode, a write is one transaction (store/sqlite/);
 *   mongodb  MongoDB through libmongoc, for a region that outgrows one
 *            machine; tested against FerretDB 1.24 (store/mongo/).
 *
 * One store_t per process (per worker, created after fork). Work borrows a
 * connection — store_conn_t, the one handle every operation takes — from one
 * of three pools, one per bound on a wait: API requests, batch work
 * (kontingentctl, the package runner, scans) and /health; and gives it back.
 * The operations are declared by topic: records.h (versioned records),
 * feed.h, audit.h, scan.h, packages.h, verify.h, health_keys.h.
 */
#ifndef KT_STORE_H
#define KT_STORE_H

#include <stdbool.h>

#include "core/error.h"

typedef struct store store_t;
typedef struct store_conn store_conn_t;

typedef enum { STORE_SQLITE = 0, STORE_MONGODB } store_backend_t;

typedef struct {
    store_backend_t backend;
    const char *sqlite_path; /* STORE_SQLITE: the database file */
    const char *mongodb_uri; /* STORE_MONGODB */
    const char *db_name;     /* STORE_MONGODB: the database */
} store_options_t;

typedef enum {
    STORE_POOL_REQUEST = 0, /* STORE_REQUEST_TIMEOUT_MS */
    STORE_POOL_BATCH,       /* STORE_BATCH_TIMEOUT_MS */
    STORE_POOL_HEALTH,      /* STORE_HEALTH_TIMEOUT_MS */
} store_pool_t;

/* Waits are bounded (docs/storage.md, "Time bounds"). MongoDB: what the URI
 * does not set — serverSelectionTimeoutMS and connectTimeoutMS 2000, and
 * socketTimeoutMS this for API requests. SQLite: how long a request waits
 * for the write lock. */
#define STORE_REQUEST_TIMEOUT_MS 10000
/* kontingentctl, the package runner and the scans (reports, export, audit):
 * this, or the URI's socketTimeoutMS when that is longer. */
#define STORE_BATCH_TIMEOUT_MS 120000
/* /health: every wait (selection, connect, each round trip, the lock). */
#define STORE_HEALTH_TIMEOUT_MS 3000
/* Where /health's write probe writes (one small document per worker). */
#define STORE_HEALTH_COLLECTION "health"

/* Opens the store (connections are made lazily). */
store_t *store_new(const store_options_t *opts, kt_error_t *err);

void store_free(store_t *store);

/* "sqlite" or "mongodb". */
const char *store_backend_name(const store_t *store);

/* A connection of pool, and back (to the pool it came from). Never NULL. */
store_conn_t *store_conn_pop(store_t *store, store_pool_t pool);

void store_conn_push(store_conn_t *conn);

/* Creates what the store needs (tables or collections, indexes); idempotent,
 * run at every start. */
bool store_prepare(store_conn_t *conn, kt_error_t *err);

/* A batch of writes on conn (package items): until store_batch_end they
 * commit together — SQLite: one transaction, so a batch costs one fsync and
 * an item's write and its recorded result are never apart; MongoDB: each
 * operation is durable on its own, and these do nothing. A batch holds
 * SQLite's write lock: keep it short (INGEST_BATCH items), and write only on
 * conn meanwhile. store_batch_end(conn, false) undoes the batch's writes. */
bool store_batch_begin(store_conn_t *conn, kt_error_t *err);
bool store_batch_end(store_conn_t *conn, bool commit, kt_error_t *err);

typedef struct {
    bool reachable;    /* the store answered */
    bool writable;     /* and the write probe succeeded */
    double latency_ms; /* of the first answer */
    kt_error_t error;  /* why not, when not writable */
} store_health_t;

/* /health's check on its own pool: a read, then a small write; true when
 * both succeed. Bounded by about three STORE_HEALTH_TIMEOUT_MS whatever the
 * store does. */
bool store_check(store_t *store, store_health_t *out);

#endif
