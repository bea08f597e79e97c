/* store: the libmongoc pool and its health. */
#include "store/store.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/buf.h"

struct store {
    mongoc_client_pool_t *pool;
    mongoc_uri_t *uri;
    char db_name[128];
};

static pthread_once_t mongoc_once = PTHREAD_ONCE_INIT;

/* libmongoc's own warnings as JSON lines like ours. FerretDB does not know
 * endSessions, which the driver sends when a pool closes: that one is noise. */
static void
log_handler(mongoc_log_level_t level, const char *domain, const char *message, void *data)
{
    buf_t b;

    if (level > MONGOC_LOG_LEVEL_WARNING || strstr(message, "endSessions") != NULL)
        return;
    buf_init(&b, 4096);
    buf_puts(&b, "{\"level\":\"warn\",\"component\":\"mongoc\",\"msg\":");
    buf_json_string(&b, message, strlen(message));
    buf_puts(&b, "}\n");
    if (b.data != NULL && write(STDERR_FILENO, b.data, b.len) < 0)
        b.overflow = true;
    buf_release(&b);
}

static void
init_mongoc(void)
{
    mongoc_init();
    mongoc_log_set_handler(log_handler, NULL);
}

static void
bound_timeouts(mongoc_uri_t *uri)
{
    if (!mongoc_uri_has_option(uri, MONGOC_URI_SERVERSELECTIONTIMEOUTMS))
        mongoc_uri_set_option_as_int32(uri, MONGOC_URI_SERVERSELECTIONTIMEOUTMS, 2000);
    if (!mongoc_uri_has_option(uri, MONGOC_URI_CONNECTTIMEOUTMS))
        mongoc_uri_set_option_as_int32(uri, MONGOC_URI_CONNECTTIMEOUTMS, 2000);
    /* A pooled client waits for a free server instead of failing at once. */
    if (!mongoc_uri_has_option(uri, MONGOC_URI_SERVERSELECTIONTRYONCE))
        mongoc_uri_set_option_as_bool(uri, MONGOC_URI_SERVERSELECTIONTRYONCE, false);
}

store_t *
store_new(const char *uri_string, const char *db_name, kt_error_t *err)
{
    bson_error_t error;
    store_t *store = calloc(1, sizeof *store);

    pthread_once(&mongoc_once, init_mongoc);
    if (store == NULL || strlen(db_name) >= sizeof store->db_name)
        goto fail;
    memcpy(store->db_name, db_name, strlen(db_name) + 1);
    store->uri = mongoc_uri_new_with_error(uri_string, &error);
    if (store->uri == NULL) {
        kt_error_set(err, KT_DOMAIN_STORE, KT_INTERNAL, 500, "bad MONGODB_URI: %s", error.message);
        goto fail;
    }
    bound_timeouts(store->uri);
    store->pool = mongoc_client_pool_new(store->uri);
    if (store->pool == NULL)
        goto fail;
    mongoc_client_pool_set_error_api(store->pool, MONGOC_ERROR_API_VERSION_2);
    mongoc_client_pool_set_appname(store->pool, "kontingent");
    return store;
fail:
    if (err != NULL && err->code == KT_OK)
        kt_error_set(err, KT_DOMAIN_STORE, KT_INTERNAL, 500, "cannot create the store pool");
    store_free(store);
    return NULL;
}

void
store_free(store_t *store)
{
    if (store == NULL)
        return;
    if (store->pool != NULL)
        mongoc_client_pool_destroy(store->pool);
    if (store->uri != NULL)
        mongoc_uri_destroy(store->uri);
    free(store);
}

mongoc_client_t *
store_client_pop(store_t *store)
{
    return mongoc_client_pool_pop(store->pool);
}

void
store_client_push(store_t *store, mongoc_client_t *client)
{
    if (client != NULL)
        mongoc_client_pool_push(store->pool, client);
}

const char *
store_db_name(const store_t *store)
{
    return store->db_name;
}

void
store_error(kt_error_t *err, const bson_error_t *error, const char *what)
{
    bool unavailable = error->domain == MONGOC_ERROR_SERVER_SELECTION ||
                       error->domain == MONGOC_ERROR_STREAM || error->domain == MONGOC_ERROR_CLIENT;

    kt_error_set(err, KT_DOMAIN_STORE, unavailable ? KT_STORE_UNAVAILABLE : KT_INTERNAL,
                 unavailable ? 503 : 500, "%s: %s (%u.%u)", what, error->message, error->domain,
                 error->code);
}

static double
now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

bool
store_ping(store_t *store, double *latency_ms, kt_error_t *err)
{
    bson_t cmd = BSON_INITIALIZER;
    bson_error_t error;
    mongoc_client_t *client = store_client_pop(store);
    double t0 = now_ms();
    bool ok;

    BSON_APPEND_INT32(&cmd, "ping", 1);
    ok = mongoc_client_command_simple(client, "admin", &cmd, NULL, NULL, &error);
    /* After the store restarted, a pooled connection fails once and is then
     * dropped by the driver: try again on a fresh one before saying "down". */
    if (!ok && error.domain == MONGOC_ERROR_STREAM)
        ok = mongoc_client_command_simple(client, "admin", &cmd, NULL, NULL, &error);
    *latency_ms = now_ms() - t0;
    if (!ok)
        store_error(err, &error, "ping");
    store_client_push(store, client);
    bson_destroy(&cmd);
    return ok;
}
