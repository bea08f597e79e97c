/*
 * store: the connection to the MongoDB-compatible store (FerretDB by
 * default, MongoDB when MONGODB_URI says so).
 *
 * One store_t per worker process, created after fork: thread-safe libmongoc
 * client pools, one per bound on a round trip. Handlers borrow a client for
 * the length of a request (store_request_client_pop/push, or the batch pool
 * for scans); kontingentctl and background work use store_client_pop/push.
 * Only operations both FerretDB 1.24 and MongoDB support are used
 * (DESIGN.md: no transactions, no change streams).
 */
#ifndef KT_STORE_H
#define KT_STORE_H

#include <mongoc/mongoc.h>
#include <stdbool.h>

#include "core/error.h"

typedef struct store store_t;

/* Round trips are bounded (docs/storage.md, "Time bounds"). What the URI
 * does not set: serverSelectionTimeoutMS and connectTimeoutMS 2000, and
 * socketTimeoutMS STORE_REQUEST_TIMEOUT_MS for API requests. */
#define STORE_REQUEST_TIMEOUT_MS 10000
/* kontingentctl, the package runner and the scans (reports, export, audit):
 * this, or the URI's socketTimeoutMS when that is longer. */
#define STORE_BATCH_TIMEOUT_MS 120000
/* /health: every wait (selection, connect, each round trip). */
#define STORE_HEALTH_TIMEOUT_MS 3000
/* Where /health's write probe writes (one small document per worker). */
#define STORE_HEALTH_COLLECTION "health"

/* Opens the pools (connections are made lazily). */
store_t *store_new(const char *uri, const char *db_name, kt_error_t *err);

void store_free(store_t *store);

/* A client of the batch pool (long round trips allowed), and back. */
mongoc_client_t *store_client_pop(store_t *store);

void store_client_push(store_t *store, mongoc_client_t *client);

/* A client of the requests pool (STORE_REQUEST_TIMEOUT_MS), and back: a
 * client goes back to the pool it came from. */
mongoc_client_t *store_request_client_pop(store_t *store);

void store_request_client_push(store_t *store, mongoc_client_t *client);

const char *store_db_name(const store_t *store);

typedef struct {
    bool reachable;    /* a ping came back */
    bool writable;     /* and the write probe succeeded */
    double latency_ms; /* of the ping (and its one retry) */
    kt_error_t error;  /* why not, when not writable */
} store_health_t;

/* /health's check on its own pool: a ping, then a small write to
 * STORE_HEALTH_COLLECTION; true when both succeed. Bounded by about three
 * STORE_HEALTH_TIMEOUT_MS whatever the store does. */
bool store_check(store_t *store, store_health_t *out);

/* True for a libmongoc error that means "the store cannot serve this now,
 * retry": no connection, a round trip that timed out, a full disk, a
 * read-only or failing file system, a node that is not primary. */
bool store_error_unavailable(const bson_error_t *error);

/* Maps a libmongoc error to ours: store_error_unavailable() → 503
 * STORE_UNAVAILABLE, the rest → 500 INTERNAL (domain STORE; the message goes
 * to logs only). */
void store_error(kt_error_t *err, const bson_error_t *error, const char *what);

#endif
