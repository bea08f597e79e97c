/*
 * epoch: each worker's copy of the store's feed epoch (store/feed.h), read
 * from the store once, at the first request that needs it, and kept for
 * the worker's life: `kontingentctl epoch renew` tells the master, whose
 * fresh workers read the new one. Cursors of the change feed and ETags
 * carry it (docs/api.md, "Changes" and "Versions").
 */
#ifndef KT_HTTP_EPOCH_H
#define KT_HTTP_EPOCH_H

#include <stdbool.h>

#include "core/error.h"
#include "store/feed.h"
#include "store/store.h"

typedef struct epoch_cache epoch_cache_t;

epoch_cache_t *epoch_cache_new(void);

void epoch_cache_free(epoch_cache_t *cache);

/* The epoch into out; false with err when it was never read and the store
 * cannot answer now. Thread-safe. */
bool epoch_cache_get(epoch_cache_t *cache, store_t *store, char out[FEED_EPOCH_MAX],
                     kt_error_t *err);

/* Whether epoch is the original one (cursors and ETags then look as they
 * always did: "N", without an epoch). */
bool epoch_is_original(const char *epoch);

#endif
