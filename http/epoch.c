/* epoch: the feed epoch, read once per worker under a mutex. */
#include "http/epoch.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct epoch_cache {
    pthread_mutex_t lock;
    bool loaded;
    char epoch[FEED_EPOCH_MAX];
};

epoch_cache_t *
epoch_cache_new(void)
{
    epoch_cache_t *c = calloc(1, sizeof *c);

    if (c != NULL && pthread_mutex_init(&c->lock, NULL) != 0) {
        free(c);
        return NULL;
    }
    return c;
}

void
epoch_cache_free(epoch_cache_t *cache)
{
    if (cache == NULL)
        return;
    pthread_mutex_destroy(&cache->lock);
    free(cache);
}

bool
epoch_cache_get(epoch_cache_t *cache, store_t *store, char out[FEED_EPOCH_MAX], kt_error_t *err)
{
    bool ok = true;

    pthread_mutex_lock(&cache->lock);
    if (!cache->loaded) {
        store_conn_t *conn = store_conn_pop(store, STORE_POOL_REQUEST);
        ok = feed_epoch_get(conn, cache->epoch, err);
        store_conn_push(conn);
        cache->loaded = ok;
    }
    if (ok)
        memcpy(out, cache->epoch, FEED_EPOCH_MAX);
    pthread_mutex_unlock(&cache->lock);
    return ok;
}

bool
epoch_is_original(const char *epoch)
{
    return strcmp(epoch, FEED_EPOCH_ORIGINAL) == 0;
}
