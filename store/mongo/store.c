/* store: the MongoDB backend — libmongoc pools, health, the operations table. */
#include "store/mongo/mongo.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/buf.h"

/* Three pools, one per bound on a round trip (docs/storage.md, "Time
 * bounds"): a frozen store must cost a request seconds, not libmongoc's
 * default of five minutes, while a report's aggregation on a large
 * collection may legitimately take longer, and /health must answer first. */
typedef struct {
    store_t base;                   /* first: a store_t * is a mongo_store_t * */
    mongoc_client_pool_t *pool;     /* batch: kontingentctl, the package runner, scans */
    mongoc_client_pool_t *requests; /* API requests */
    mongoc_client_pool_t *health;   /* /health's ping and write probe */
    char db_name[128];
} mongo_store_t;

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
default_int(mongoc_uri_t *uri, const char *option, int32_t value)
{
    if (!mongoc_uri_has_option(uri, option))
        mongoc_uri_set_option_as_int32(uri, option, value);
}

/* What the operator's URI does not say. */
static void
bound_timeouts(mongoc_uri_t *uri)
{
    default_int(uri, MONGOC_URI_SERVERSELECTIONTIMEOUTMS, 2000);
    default_int(uri, MONGOC_URI_CONNECTTIMEOUTMS, 2000);
    default_int(uri, MONGOC_URI_SOCKETTIMEOUTMS, STORE_REQUEST_TIMEOUT_MS);
    /* A pooled client waits for a free server instead of failing at once. */
    if (!mongoc_uri_has_option(uri, MONGOC_URI_SERVERSELECTIONTRYONCE))
        mongoc_uri_set_option_as_bool(uri, MONGOC_URI_SERVERSELECTIONTRYONCE, false);
}

/* A pool on a copy of uri whose round trips wait at most socket_ms (never
 * less than the URI's own socketTimeoutMS when raise_only), named after
 * what it serves so that the store's logs tell the pools apart. */
static mongoc_client_pool_t *
pool_new(const mongoc_uri_t *base, int32_t socket_ms, bool raise_only, const char *appname)
{
    mongoc_uri_t *uri = mongoc_uri_copy(base);
    mongoc_client_pool_t *pool = NULL;
    int32_t have = mongoc_uri_get_option_as_int32(base, MONGOC_URI_SOCKETTIMEOUTMS, 0);

    if (uri == NULL)
        return NULL;
    if (!raise_only || have < socket_ms)
        mongoc_uri_set_option_as_int32(uri, MONGOC_URI_SOCKETTIMEOUTMS, socket_ms);
    if (!raise_only) { /* health: every wait short */
        mongoc_uri_set_option_as_int32(uri, MONGOC_URI_CONNECTTIMEOUTMS, socket_ms);
        mongoc_uri_set_option_as_int32(uri, MONGOC_URI_SERVERSELECTIONTIMEOUTMS, socket_ms);
    }
    pool = mongoc_client_pool_new(uri);
    mongoc_uri_destroy(uri);
    if (pool == NULL)
        return NULL;
    mongoc_client_pool_set_error_api(pool, MONGOC_ERROR_API_VERSION_2);
    mongoc_client_pool_set_appname(pool, appname);
    return pool;
}

static void mongo_close(store_t *base);

static store_t *
mongo_open(const store_options_t *opts, kt_error_t *err)
{
    bson_error_t error;
    mongo_store_t *store = calloc(1, sizeof *store);
    mongoc_uri_t *uri = NULL;

    pthread_once(&mongoc_once, init_mongoc);
    if (store == NULL || strlen(opts->db_name) >= sizeof store->db_name)
        goto fail;
    store->base.ops = &store_mongo_ops;
    memcpy(store->db_name, opts->db_name, strlen(opts->db_name) + 1);
    uri = mongoc_uri_new_with_error(opts->mongodb_uri, &error);
    if (uri == NULL) {
        kt_error_set(err, KT_DOMAIN_STORE, KT_INTERNAL, "bad MONGODB_URI: %s", error.message);
        goto fail;
    }
    bound_timeouts(uri);
    store->requests = pool_new(
        uri,
        mongoc_uri_get_option_as_int32(uri, MONGOC_URI_SOCKETTIMEOUTMS, STORE_REQUEST_TIMEOUT_MS),
        true, "kontingent");
    store->pool = pool_new(uri, STORE_BATCH_TIMEOUT_MS, true, "kontingent-batch");
    store->health = pool_new(uri, STORE_HEALTH_TIMEOUT_MS, false, "kontingent-health");
    if (store->requests == NULL || store->pool == NULL || store->health == NULL)
        goto fail;
    mongoc_uri_destroy(uri);
    return &store->base;
fail:
    if (err != NULL && err->code == KT_OK)
        kt_error_set(err, KT_DOMAIN_STORE, KT_INTERNAL, "cannot create the store pool");
    if (uri != NULL)
        mongoc_uri_destroy(uri);
    if (store != NULL)
        mongo_close(&store->base);
    return NULL;
}

static void
mongo_close(store_t *base)
{
    mongo_store_t *store = (mongo_store_t *)base;

    if (store->pool != NULL)
        mongoc_client_pool_destroy(store->pool);
    if (store->requests != NULL)
        mongoc_client_pool_destroy(store->requests);
    if (store->health != NULL)
        mongoc_client_pool_destroy(store->health);
    free(store);
}

static mongoc_client_pool_t *
pool_of(mongo_store_t *store, store_pool_t pool)
{
    return pool == STORE_POOL_REQUEST  ? store->requests
           : pool == STORE_POOL_HEALTH ? store->health
                                       : store->pool;
}

/* A connection is a client of the pool asked for, and the database. */
static store_conn_t *
mongo_conn_pop(store_t *base, store_pool_t pool)
{
    mongo_store_t *store = (mongo_store_t *)base;
    mongo_conn_t *c = calloc(1, sizeof *c);

    if (c == NULL)
        abort(); /* as libmongoc does when it cannot allocate */
    c->base.store = base;
    c->base.pool = pool;
    c->client = mongoc_client_pool_pop(pool_of(store, pool));
    c->db = store->db_name;
    return &c->base;
}

static void
mongo_conn_push(store_conn_t *conn)
{
    mongo_conn_t *c = (mongo_conn_t *)conn;

    mongoc_client_pool_push(pool_of((mongo_store_t *)conn->store, conn->pool), c->client);
    free(c);
}

/* MongoDB's codes for "cannot write now, retry": a full disk, a node that is
 * not (or no longer) primary, shutting down, a write concern or time limit
 * that was not met, the network. */
static bool
server_code_unavailable(uint32_t code)
{
    static const uint32_t codes[] = {
        6,     /* HostUnreachable */
        7,     /* HostNotFound */
        50,    /* MaxTimeMSExpired */
        64,    /* WriteConcernFailed */
        89,    /* NetworkTimeout */
        91,    /* ShutdownInProgress */
        189,   /* PrimarySteppedDown */
        262,   /* ExceededTimeLimit */
        9001,  /* SocketException */
        10107, /* NotWritablePrimary */
        11600, /* InterruptedAtShutdown */
        11602, /* InterruptedDueToReplStateChange */
        13435, /* NotPrimaryNoSecondaryOk */
        14031, /* OutOfDiskSpace */
    };

    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++)
        if (codes[i] == code)
            return true;
    return false;
}

/* FerretDB answers a failing SQLite with InternalError (1) and SQLite's own
 * words ("... database or disk is full (13)"); MongoDB's storage engine
 * names errno. These say the store cannot write now, not that we erred. */
static bool
message_unavailable(const char *message)
{
    static const char *const words[] = {
        "database or disk is full",    /* SQLITE_FULL */
        "disk I/O error",              /* SQLITE_IOERR */
        "attempt to write a readonly", /* SQLITE_READONLY */
        "database is locked",          /* SQLITE_BUSY past busy_timeout */
        "No space left on device",     /* ENOSPC */
        "Read-only file system",       /* EROFS */
        "Input/output error",          /* EIO */
    };

    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
        if (strstr(message, words[i]) != NULL)
            return true;
    return false;
}

bool
mongo_error_unavailable(const bson_error_t *error)
{
    bool from_server =
        error->domain == MONGOC_ERROR_SERVER || error->domain == MONGOC_ERROR_WRITE_CONCERN;

    return error->domain == MONGOC_ERROR_SERVER_SELECTION || error->domain == MONGOC_ERROR_STREAM ||
           error->domain == MONGOC_ERROR_CLIENT ||
           (from_server && server_code_unavailable(error->code)) ||
           message_unavailable(error->message);
}

void
mongo_error(kt_error_t *err, const bson_error_t *error, const char *what)
{
    bool unavailable = mongo_error_unavailable(error);

    kt_error_set(err, KT_DOMAIN_STORE, unavailable ? KT_STORE_UNAVAILABLE : KT_INTERNAL,
                 "%s: %s (%u.%u)", what, error->message, error->domain, error->code);
}

static double
now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static bool
ping(mongoc_client_t *client, bson_error_t *error)
{
    bson_t cmd = BSON_INITIALIZER;
    bool ok;

    BSON_APPEND_INT32(&cmd, "ping", 1);
    ok = mongoc_client_command_simple(client, "admin", &cmd, NULL, NULL, error);
    bson_destroy(&cmd);
    return ok;
}

/* A small write that needs room in the store: one document per worker
 * process in the `health` collection, replaced with a fresh 2 KiB filler
 * each time. A full disk, a read-only file system or a node that is not
 * primary fails it. */
static bool
probe_write(mongoc_client_t *client, const char *db, bson_error_t *error)
{
    mongoc_collection_t *c = mongoc_client_get_collection(client, db, STORE_HEALTH_COLLECTION);
    bson_t filter = BSON_INITIALIZER, doc = BSON_INITIALIZER, opts = BSON_INITIALIZER;
    char id[64], filler[2048];
    struct timespec ts;
    bool ok;

    clock_gettime(CLOCK_REALTIME, &ts);
    snprintf(id, sizeof id, "probe-%ld", (long)getpid());
    for (size_t i = 0; i < sizeof filler; i++)
        filler[i] = (char)('a' + (ts.tv_nsec / 7 + (long)i) % 26);
    BSON_APPEND_UTF8(&filter, "_id", id);
    BSON_APPEND_INT64(&doc, "at_ms", (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
    bson_append_utf8(&doc, "filler", -1, filler, (int)sizeof filler);
    BSON_APPEND_BOOL(&opts, "upsert", true);
    ok = mongoc_collection_replace_one(c, &filter, &doc, &opts, NULL, error);
    if (!ok && error->code == 11000) /* two threads created it at once: it was written */
        ok = true;
    bson_destroy(&filter);
    bson_destroy(&doc);
    bson_destroy(&opts);
    mongoc_collection_destroy(c);
    return ok;
}

static bool
mongo_check(store_t *base, store_health_t *out)
{
    mongo_store_t *store = (mongo_store_t *)base;
    bson_error_t error;
    mongoc_client_t *client = mongoc_client_pool_pop(store->health);
    double t0 = now_ms();
    bool ok = ping(client, &error);

    /* After the store restarted, a pooled connection fails once, at once, and
     * is then dropped by the driver: try a fresh one before saying "down". A
     * ping that timed out is not tried again: /health answers within one
     * STORE_HEALTH_TIMEOUT_MS per step. */
    if (!ok && error.domain == MONGOC_ERROR_STREAM && now_ms() - t0 < STORE_HEALTH_TIMEOUT_MS / 2)
        ok = ping(client, &error);
    out->latency_ms = now_ms() - t0;
    out->reachable = ok;
    out->writable = ok && probe_write(client, store->db_name, &error);
    if (!out->writable)
        mongo_error(&out->error, &error, ok ? "health write probe" : "ping");
    else
        kt_error_clear(&out->error);
    mongoc_client_pool_push(store->health, client);
    return out->writable;
}

/* Each operation is durable on its own (w=majority in the URI): a batch is
 * only a unit of work, with nothing to commit or undo. */
static bool
mongo_batch_begin(store_conn_t *conn, kt_error_t *err)
{
    return true;
}

static bool
mongo_batch_end(store_conn_t *conn, bool commit, kt_error_t *err)
{
    return true;
}

const store_ops_t store_mongo_ops = {
    .name = "mongodb",
    .open = mongo_open,
    .close = mongo_close,
    .conn_pop = mongo_conn_pop,
    .conn_push = mongo_conn_push,
    .check = mongo_check,
    .prepare = mongo_prepare,
    .batch_begin = mongo_batch_begin,
    .batch_end = mongo_batch_end,
    .record_get = mongo_record_get,
    .record_get_version = mongo_record_get_version,
    .record_as_of = mongo_record_as_of,
    .record_write = mongo_record_write,
    .record_write_pair = mongo_record_write_pair,
    .record_find_ids = mongo_record_find_ids,
    .claim_holder = mongo_claim_holder,
    .feed_read = mongo_feed_read,
    .feed_epoch_get = mongo_feed_epoch_get,
    .feed_epoch_set = mongo_feed_epoch_set,
    .audit_log_read_fields = mongo_audit_log_read_fields,
    .audit_query = mongo_audit_query,
    .audit_changes_each = mongo_audit_changes_each,
    .scan_latest = mongo_scan_latest,
    .scan_page = mongo_scan_page,
    .packages_register = mongo_packages_register,
    .packages_item_get = mongo_packages_item_get,
    .packages_item_put = mongo_packages_item_put,
    .packages_finish = mongo_packages_finish,
    .packages_receipt_each = mongo_packages_receipt_each,
    .packages_items_each = mongo_packages_items_each,
    .packages_enqueue = mongo_packages_enqueue,
    .packages_load = mongo_packages_load,
    .packages_progress = mongo_packages_progress,
    .packages_chunks_drop = mongo_packages_chunks_drop,
    .packages_waiting = mongo_packages_waiting,
    .packages_attempt = mongo_packages_attempt,
    .packages_lease_take = mongo_packages_lease_take,
    .packages_lease_renew = mongo_packages_lease_renew,
    .packages_lease_release = mongo_packages_lease_release,
    .packages_get = mongo_packages_get,
    .packages_find = mongo_packages_find,
    .verify_record = mongo_verify_record,
    .verify_all = mongo_verify_all,
    .verify_last_run = mongo_verify_last_run,
    .verify_repair_all = mongo_verify_repair_all,
    .verify_count = mongo_verify_count,
    .health_keys_insert = mongo_health_keys_insert,
    .health_keys_get = mongo_health_keys_get,
    .health_keys_put_wraps = mongo_health_keys_put_wraps,
    .health_keys_each = mongo_health_keys_each,
    .dup_pair_put = mongo_dup_pair_put,
    .dup_pair_get = mongo_dup_pair_get,
    .dup_pairs_list = mongo_dup_pairs_list,
    .copy_each = mongo_copy_each,
    .copy_put = mongo_copy_put,
    .copy_finish = mongo_copy_finish,
};
