/* runner: the background processing of queued packages. */
#include "fcgi/runner.h"

#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "http/log.h"
#include "service/ingest.h"
#include "store/feed.h"
#include "store/packages.h"
#include "store/util.h"

#define RUNNER_POLL_MS 1000
#define RUNNER_BATCH   16

typedef struct {
    const runner_args_t *args;
    store_conn_t *conn;
    const char *key; /* the package's store key (store/packages.h) */
    char owner[64];
    int64_t epoch;
    int64_t renewed_ms;
    bool lost; /* the lease could not be renewed: another worker may hold it */
} run_t;

/* After each item: stop when the worker stops, renew the lease now and then. */
static bool
keep_going(void *arg, size_t done)
{
    run_t *r = arg;
    kt_error_t err;
    bool kept = true;

    if (atomic_load(r->args->stopping))
        return false;
    if (feed_now_ms() - r->renewed_ms < RUNNER_LEASE_MS / 3)
        return true;
    kt_error_clear(&err);
    if (!packages_lease_renew(r->conn, r->key, r->owner, RUNNER_LEASE_MS, &r->epoch, &kept, &err) ||
        !kept) {
        r->lost = true;
        return false;
    }
    r->renewed_ms = feed_now_ms();
    return true;
}

/* The sender of the package, so that its items are written in its name. */
static bool
sender(store_conn_t *conn, const char *key, principal_t *p)
{
    bson_t pkg = BSON_INITIALIZER;
    kt_error_t err;
    const char *v;

    memset(p, 0, sizeof *p);
    kt_error_clear(&err);
    bson_destroy(&pkg);
    if (!packages_get(conn, key, &pkg, &err))
        return false;
    if ((v = util_get_str(&pkg, "principal.subject")) != NULL)
        snprintf(p->subject, sizeof p->subject, "%s", v);
    if ((v = util_get_str(&pkg, "principal.organization")) != NULL)
        snprintf(p->org, sizeof p->org, "%s", v);
    v = util_get_str(&pkg, "principal.role");
    p->role = v ? principal_role_parse(v) : ROLE_NONE;
    v = util_get_str(&pkg, "principal.auth");
    p->method = v && strcmp(v, "certificate") == 0 ? AUTH_CERT : AUTH_TOKEN;
    v = util_get_str(&pkg, "principal.scope"); /* the sender's scopes hold for its items */
    p->scopes = v && strcmp(v, "health") == 0 ? SCOPE_HEALTH : 0;
    bson_destroy(&pkg);
    return p->role != ROLE_NONE;
}

/* The package ended (done or given up): its stored bytes go. */
static void
drop_bytes(run_t *r)
{
    kt_error_t err;

    kt_error_clear(&err);
    if (!packages_chunks_drop(r->conn, r->key, &err))
        log_event(LOG_WARN, "a finished package's bytes were not deleted: %s", err.message);
}

/* Gives the package up: a FAILED receipt after attempts attempts. */
static void
give_up(run_t *r, const ingest_ctx_t *ctx, int64_t attempts, const kt_error_t *last)
{
    kt_error_t err;
    ingest_totals_t t;

    kt_error_clear(&err);
    if (!ingest_fail(ctx, r->key, (int)attempts, last, &t, &err)) {
        log_event(LOG_WARN, "a package could not be given up (tried again later): %s", err.message);
        return;
    }
    log_event(LOG_WARN, "background package given up after %lld attempts (%ld items applied): %s",
              (long long)attempts, t.received, last->message);
    drop_bytes(r);
}

/* One attempt at the package whose lease r holds (counted in attempts). */
static void
attempt(run_t *r, const ingest_ctx_t *ctx, int64_t attempts)
{
    const config_t *cfg = r->args->app->cfg;
    kt_error_t err;
    ingest_totals_t t;

    kt_error_clear(&err);
    if (attempts > cfg->package_attempts) { /* the last attempt ended without a word (killed) */
        kt_error_set(&err, KT_DOMAIN_INTERNAL, KT_INTERNAL, 500, "the last attempt was cut short");
        give_up(r, ctx, attempts - 1, &err);
        return;
    }
    if (ingest_resume(ctx, r->key, &t, &err)) {
        log_event(LOG_INFO, "package processed in the background: %ld items, %ld rejected",
                  t.received, t.rejected);
        drop_bytes(r);
        return;
    }
    if (!r->lost && !atomic_load(r->args->stopping) && attempts >= cfg->package_attempts) {
        give_up(r, ctx, attempts, &err);
        return;
    }
    log_event(LOG_WARN, "background package stopped (attempt %lld of %d; it will be resumed): %s",
              (long long)attempts, cfg->package_attempts, err.message);
}

static void
process(run_t *r)
{
    const app_t *app = r->args->app;
    kt_error_t err;
    bool taken = false, waiting = false;
    int64_t attempts = 0;
    principal_t who;

    kt_error_clear(&err);
    r->lost = false;
    if (!packages_lease_take(r->conn, r->key, r->owner, RUNNER_LEASE_MS, &r->epoch, &taken, &err) ||
        !taken)
        return;
    r->renewed_ms = feed_now_ms();
    if (packages_attempt(r->conn, r->key, &attempts, &waiting, &err) && waiting) {
        bool known = sender(r->conn, r->key, &who);
        ingest_ctx_t ctx = {.conn = r->conn,
                            .schema = app->schema,
                            .principal = &who,
                            .progress = keep_going,
                            .progress_arg = r,
                            .health_ring = app->health_ring,
                            .receipt_page = app->cfg->receipt_page_bytes};
        if (known) {
            attempt(r, &ctx, attempts);
        } else if (attempts >= app->cfg->package_attempts) { /* nobody to write its items as */
            kt_error_set(&err, KT_DOMAIN_INTERNAL, KT_INTERNAL, 500, "the sender is unknown");
            give_up(r, &ctx, attempts, &err);
        }
    }
    /* Let go now, so that the next attempt (or another package's) does not wait. */
    kt_error_clear(&err);
    if (!r->lost)
        packages_lease_release(r->conn, r->key, r->owner, r->epoch, &err);
}

static void
sleep_unless_stopping(const runner_args_t *args)
{
    for (int waited = 0; waited < RUNNER_POLL_MS && !atomic_load(args->stopping); waited += 100)
        poll(NULL, 0, 100);
}

void *
runner_main(void *arg)
{
    const runner_args_t *args = arg;
    char keys[RUNNER_BATCH][PACKAGES_KEY_MAX];
    run_t r = {.args = args};

    snprintf(r.owner, sizeof r.owner, "worker-%ld", (long)getpid());
    while (!atomic_load(args->stopping)) {
        kt_error_t err;
        int n = 0;
        kt_error_clear(&err);
        r.conn = store_conn_pop(args->app->store, STORE_POOL_BATCH);
        if (packages_waiting(r.conn, keys, RUNNER_BATCH, &n, &err))
            for (int i = 0; i < n && !atomic_load(args->stopping); i++) {
                r.key = keys[i];
                process(&r);
            }
        store_conn_push(r.conn);
        sleep_unless_stopping(args);
    }
    return NULL;
}
