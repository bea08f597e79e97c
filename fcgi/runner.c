/* runner: the background processing of queued packages. */
#include "fcgi/runner.h"

#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fcgi/log.h"
#include "handlers/ingest.h"
#include "store/feed.h"
#include "store/packages.h"
#include "store/util.h"

#define RUNNER_POLL_MS 1000
#define RUNNER_BATCH   16

typedef struct {
    const runner_args_t *args;
    mongoc_client_t *client;
    const char *packet_id;
    char owner[64];
    int64_t epoch;
    int64_t renewed_ms;
} run_t;

/* After each item: stop when the worker stops, renew the lease now and then. */
static bool
keep_going(void *arg, size_t done)
{
    run_t *r = arg;
    const app_t *app = r->args->app;
    kt_error_t err;
    bool kept = true;

    if (atomic_load(r->args->stopping))
        return false;
    if (feed_now_ms() - r->renewed_ms < RUNNER_LEASE_MS / 3)
        return true;
    kt_error_clear(&err);
    if (!packages_lease_renew(r->client, store_db_name(app->store), r->packet_id, r->owner,
                              RUNNER_LEASE_MS, &r->epoch, &kept, &err) ||
        !kept)
        return false;
    r->renewed_ms = feed_now_ms();
    return true;
}

/* The sender of the package, so that its items are written in its name. */
static bool
sender(mongoc_client_t *client, const char *db, const char *packet_id, principal_t *p)
{
    bson_t pkg = BSON_INITIALIZER;
    kt_error_t err;
    const char *v;

    memset(p, 0, sizeof *p);
    kt_error_clear(&err);
    bson_destroy(&pkg);
    if (!packages_get(client, db, packet_id, &pkg, &err))
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

static void
process(run_t *r)
{
    const app_t *app = r->args->app;
    const char *db = store_db_name(app->store);
    kt_error_t err;
    bool taken = false;
    principal_t who;
    ingest_totals_t t;

    kt_error_clear(&err);
    if (!packages_lease_take(r->client, db, r->packet_id, r->owner, RUNNER_LEASE_MS, &r->epoch,
                             &taken, &err) ||
        !taken || !sender(r->client, db, r->packet_id, &who))
        return;
    r->renewed_ms = feed_now_ms();
    ingest_ctx_t ctx = {.client = r->client,
                        .db = db,
                        .schema = app->schema,
                        .principal = &who,
                        .progress = keep_going,
                        .progress_arg = r,
                        .health_ring = app->health_ring};
    if (ingest_resume(&ctx, r->packet_id, &t, &err))
        log_event(LOG_INFO, "package processed in the background: %ld items, %ld rejected",
                  t.received, t.rejected);
    else
        log_event(LOG_WARN, "background package stopped (it will be resumed): %s", err.message);
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
    char ids[RUNNER_BATCH][72];
    run_t r = {.args = args};

    snprintf(r.owner, sizeof r.owner, "worker-%ld", (long)getpid());
    while (!atomic_load(args->stopping)) {
        kt_error_t err;
        int n = 0;
        kt_error_clear(&err);
        r.client = store_client_pop(args->app->store);
        if (packages_waiting(r.client, store_db_name(args->app->store), ids, RUNNER_BATCH, &n,
                             &err))
            for (int i = 0; i < n && !atomic_load(args->stopping); i++) {
                r.packet_id = ids[i];
                process(&r);
            }
        store_client_push(args->app->store, r.client);
        sleep_unless_stopping(args);
    }
    return NULL;
}
