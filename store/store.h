/*
 * store: the connection to the MongoDB-compatible store (FerretDB by
 * default, MongoDB when MONGODB_URI says so).
 *
 * One store_t per worker process, created after fork: a thread-safe libmongoc
 * client pool. Handlers borrow a client for the length of a request with
 * store_client_pop/push. Only operations both FerretDB 1.24 and MongoDB
 * support are used (DESIGN.md: no transactions, no change streams).
 */
#ifndef KT_STORE_H
#define KT_STORE_H

#include <mongoc/mongoc.h>
#include <stdbool.h>

#include "core/error.h"

typedef struct store store_t;

/* Opens the pool (connections are made lazily). Server selection is bounded
 * (2 s unless the URI says otherwise) so a store that is down answers fast. */
store_t *store_new(const char *uri, const char *db_name, kt_error_t *err);

void store_free(store_t *store);

mongoc_client_t *store_client_pop(store_t *store);

void store_client_push(store_t *store, mongoc_client_t *client);

const char *store_db_name(const store_t *store);

/* Round trip of a ping command; false with KT_STORE_UNAVAILABLE when down. */
bool store_ping(store_t *store, double *latency_ms, kt_error_t *err);

/* Maps a libmongoc error to ours: connection problems → 503 STORE_UNAVAILABLE,
 * the rest → 500 INTERNAL (domain STORE; the message goes to logs only). */
void store_error(kt_error_t *err, const bson_error_t *error, const char *what);

#endif
