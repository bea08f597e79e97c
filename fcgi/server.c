/*
 * server: the worker's threads and the request pipeline.
 *
 * Each thread does its own poll()+accept4() on the non-blocking listening
 * socket and hands the connection to libfcgi (FCGX_Request.ipcFd), instead
 * of blocking inside FCGX_Accept_r. That way a thread notices a stop within
 * one poll interval without signals, which would otherwise interrupt the
 * reads of requests in flight; graceful stop is just "finish the current
 * request, then leave the loop".
 */
#include "fcgi/server.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <fcgiapp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "auth/authn.h"
#include "http/log.h"
#include "http/problem.h"
#include "fcgi/routes.h"
#include "http/router.h"
#include "fcgi/runner.h"
#include "store/records.h"
#include "core/observe.h"

#define ACCEPT_POLL_MS  200
#define ARENA_CAP_SLACK (16u << 20) /* arena room beyond the body itself */

/* The one mutable global: set by the worker's main thread on SIGTERM. */
static atomic_bool stopping;

typedef struct {
    const app_t *app;
    int listen_fd;
    pthread_t tid;
} thread_ctx_t;

/* A school acts for its organisation only while that is registered and ACTIVE. */
static bool
organization_active(const app_t *app, const principal_t *p, kt_error_t *err)
{
    bool active = false;

    if (p->role != ROLE_SCHOOL)
        return true;
    if (!active_orgs_check(app->active_orgs, app->store, p->org, &active, err))
        return false;
    if (!active)
        kt_error_set(err, KT_DOMAIN_AUTH, KT_UNAUTHENTICATED,
                     "organization %s is not registered or not ACTIVE", p->org);
    return active;
}

static bool
authenticate(const app_t *app, request_t *req, int64_t now, kt_error_t *err)
{
    authn_input_t in = {
        .authorization = request_header(req, "authorization"),
        .ssl_verify = req->ssl_verify,
        .ssl_dn = req->ssl_dn,
        .now = now,
        .policy = &app->token_policy,
        .revoked = app->revoked,
    };
    return authn_authenticate(app->token_key, app->certmap, &in, &req->principal, err) &&
           organization_active(app, &req->principal, err);
}

/* Package bodies held by this worker process now: each may take KT_MAX_PACKAGE
 * bytes (and as much again inflated), so their number bounds the worker's
 * memory; a package past the bound waits outside (503, Retry-After). */
static atomic_int package_slots_used;

static void
package_slot_release(void *unused)
{
    (void)unused;
    atomic_fetch_sub(&package_slots_used, 1);
}

/* Takes a slot for a package body until the request's arena is reset (after
 * the answer went out); false with 503 UNAVAILABLE when all are taken. */
static bool
package_slot_take(const app_t *app, request_t *req, kt_error_t *err)
{
    if (atomic_fetch_add(&package_slots_used, 1) < app->cfg->package_slots &&
        arena_add_cleanup(req->arena, package_slot_release, NULL) == 0)
        return true;
    atomic_fetch_sub(&package_slots_used, 1);
    kt_error_set(err, KT_DOMAIN_INPUT, KT_UNAVAILABLE,
                 "this worker is receiving %d packages already; retry shortly",
                 app->cfg->package_slots);
    return false;
}

/* Checks what the route declares about bodies, then reads the body. */
static bool
take_body(const app_t *app, const route_t *route, request_t *req, const server_io_t *io,
          kt_error_t *err)
{
    /* Only regional systems (verified client certificates) post packages up
     * to KT_MAX_PACKAGE; nginx lets nothing larger than KT_MAX_BODY through
     * for anyone else (docs/xml-exchange.md, "Size"). */
    bool large = route->flags & ROUTE_PACKAGE && req->principal.method == AUTH_CERT;
    size_t max_body = route->max_body ? route->max_body
                      : large         ? app->cfg->max_package
                                      : app->cfg->max_body;

    if (route->media_types == NULL)
        return true; /* a body on GET/DELETE is ignored, never read */
    if (!router_accepts(route, req->media_type)) {
        kt_error_set(err, KT_DOMAIN_INPUT, KT_UNSUPPORTED_MEDIA_TYPE, "Content-Type must be %s",
                     route->media_types[0]);
        return false;
    }
    if (!req->has_content_length || req->content_length == 0) {
        kt_error_set(err, KT_DOMAIN_INPUT, KT_MALFORMED, "a request body is required");
        return false;
    }
    return request_read_body(req, max_body, io->read_body, io->read_ctx, err);
}

void
server_dispatch(const app_t *app, request_t *req, bool parsed, kt_error_t *err,
                const server_io_t *io, response_t *res)
{
    char allow[64] = "";
    const route_t *route = NULL;

    if (!parsed)
        goto fail;
    route = router_match(routes_table, routes_count, req, allow, sizeof allow, err);
    if (route == NULL)
        goto fail;
    req->store_scan = (route->flags & ROUTE_SCAN) != 0;
    if (!(route->flags & ROUTE_PUBLIC) && !authenticate(app, req, io->now, err))
        goto fail;
    /* The role alone, before a package slot is taken or a body is read. */
    if (!router_admits(route, req->principal.role, err))
        goto fail;
    if (route->flags & ROUTE_PACKAGE && route->media_types != NULL &&
        !package_slot_take(app, req, err))
        goto fail;
    if (!take_body(app, route, req, io, err))
        goto fail;
    if (route->handler(app, req, res, err))
        return;
fail:
    problem_render(res, req, err);
    if (err->status == 405)
        response_header(res, "Allow", arena_strdup(req->arena, allow));
    if (err->code == KT_UNAVAILABLE || err->code == KT_STORE_UNAVAILABLE)
        response_header(res, "Retry-After", "5");
}

static long
fcgx_read(void *ctx, char *buf, size_t len)
{
    int chunk = len > (1u << 30) ? (1 << 30) : (int)len;
    return FCGX_GetStr(buf, chunk, (FCGX_Stream *)ctx);
}

static bool
fcgx_write(void *wctx, const char *data, size_t len)
{
    while (len > 0) {
        int chunk = len > (1u << 30) ? (1 << 30) : (int)len;
        if (FCGX_PutStr(data, chunk, (FCGX_Stream *)wctx) != chunk)
            return false;
        data += chunk;
        len -= (size_t)chunk;
    }
    return true;
}

/* The head, then the body or the stream. A stream that fails midway cannot
 * change the status any more: the log line says so and the body is cut. */
static bool
write_response(FCGX_Request *fr, const request_t *req, const response_t *res)
{
    buf_t head;
    bool ok;

    buf_init(&head, 64 * 1024);
    response_head(res, req, &head);
    ok = fcgx_write(fr->out, head.data, head.len);
    if (strcmp(req->method, "HEAD") == 0) /* the head only; a stream is not even started */
        ;
    else if (ok && res->stream != NULL)
        ok = res->stream(res->stream_ctx, fcgx_write, fr->out);
    else if (ok && res->body.len > 0)
        ok = fcgx_write(fr->out, res->body.data, res->body.len);
    buf_release(&head);
    return ok;
}

/* Seconds since the request arrived. */
static double
request_elapsed(const request_t *req)
{
    struct timespec now;

    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - req->started.tv_sec) +
           (double)(now.tv_nsec - req->started.tv_nsec) / 1e9;
}

static void
handle_request(const app_t *app, FCGX_Request *fr, arena_t *arena)
{
    request_t req;
    response_t res;
    kt_error_t err;
    server_io_t io = {fcgx_read, fr->in, (int64_t)time(NULL)};

    kt_error_clear(&err);
    response_init(&res);
    bool parsed = request_parse(&req, arena, fr->envp, &err);
    server_dispatch(app, &req, parsed, &err, &io, &res);
    if (!write_response(fr, &req, &res) && err.code == KT_OK)
        kt_error_set(&err, KT_DOMAIN_INTERNAL, KT_INTERNAL, "the body was cut short");
    log_request(&req, res.status, err.code != KT_OK ? &err : NULL);
    metrics_request(app->metrics, metrics_route_index(app->metrics, req.method, req.route_pattern),
                    res.status, request_elapsed(&req));
    response_release(&res);
    arena_reset(arena);
}

/* A connection, or -1 after a poll interval without one (or when another
 * thread or worker took it first). */
static int
accept_connection(int listen_fd)
{
    struct pollfd p = {.fd = listen_fd, .events = POLLIN};

    if (poll(&p, 1, ACCEPT_POLL_MS) <= 0)
        return -1;
    return accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
}

static void *
thread_main(void *arg)
{
    thread_ctx_t *t = arg;
    FCGX_Request fr;
    size_t largest = t->app->cfg->max_package > t->app->cfg->max_body ? t->app->cfg->max_package
                                                                      : t->app->cfg->max_body;
    arena_t *arena = arena_new(largest + ARENA_CAP_SLACK);

    /* -1: should libfcgi ever try to accept by itself, it fails at once. */
    FCGX_InitRequest(&fr, -1, 0);
    while (arena != NULL && !atomic_load(&stopping)) {
        int fd = accept_connection(t->listen_fd);
        if (fd < 0)
            continue;
        fr.ipcFd = fd;
        fr.keepConnection = 1; /* so FCGX_Accept_r keeps the fd we gave it */
        if (FCGX_Accept_r(&fr) < 0) {
            FCGX_Free(&fr, 1);
            continue;
        }
        handle_request(t->app, &fr, arena);
        FCGX_Finish_r(&fr);
    }
    FCGX_Free(&fr, 1);
    arena_free(arena);
    return NULL;
}

static int
wait_for_stop(void)
{
    sigset_t set;
    int sig = 0;

    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGQUIT);
    sigwait(&set, &sig);
    atomic_store(&stopping, true);
    return sig;
}

static int
run_threads(const app_t *app, int listen_fd)
{
    int n = app->cfg->threads, started = 0;
    thread_ctx_t *threads = calloc((size_t)n, sizeof *threads);

    if (threads == NULL)
        return 1;
    for (; started < n; started++) {
        threads[started] = (thread_ctx_t){.app = app, .listen_fd = listen_fd};
        if (pthread_create(&threads[started].tid, NULL, thread_main, &threads[started]) != 0)
            break;
    }
    runner_args_t runner = {.app = app, .stopping = &stopping};
    pthread_t runner_tid;
    bool background = app->cfg->package_inline_items != 0 &&
                      pthread_create(&runner_tid, NULL, runner_main, &runner) == 0;
    log_event(LOG_INFO, "worker ready with %d threads", started);
    if (started == n)
        wait_for_stop();
    atomic_store(&stopping, true);
    for (int i = 0; i < started; i++)
        pthread_join(threads[i].tid, NULL);
    if (background)
        pthread_join(runner_tid, NULL);
    free(threads);
    return started == n ? 0 : 1;
}

/* Running as root, become KT_USER (default nobody) once the files are read
 * and before any request is served. */
static bool
drop_privileges(const config_t *cfg)
{
    const char *name = cfg->user[0] ? cfg->user : "nobody";
    struct passwd *pw;

    if (geteuid() != 0)
        return true;
    pw = getpwnam(name);
    if (pw == NULL || setgroups(0, NULL) != 0 || setgid(pw->pw_gid) != 0 ||
        setuid(pw->pw_uid) != 0) {
        log_event(LOG_ERROR, "cannot drop privileges to %s", name);
        return false;
    }
    return true;
}

int
server_init_store(const config_t *cfg)
{
    kt_error_t err;
    store_t *store;
    int status = 0;

    kt_error_clear(&err);
    store = config_store_new(cfg, &err);
    if (store != NULL) {
        store_conn_t *conn = store_conn_pop(store, STORE_POOL_BATCH);
        if (!store_prepare(conn, &err))
            status = 1;
        store_conn_push(conn);
        store_free(store);
    }
    if (store == NULL || status != 0)
        log_event(LOG_WARN, "indexes not created (run kontingentctl init later): %s", err.message);
    return status;
}

/* The store's reports (core/observe.h) counted into /metrics. */
static void
observe_store(void *ctx, kt_observe_t what, bool ok, kt_code_t code)
{
    if (what == KT_OBSERVE_STORE_OP)
        metrics_store_op(ctx, ok, code);
    else if (what == KT_OBSERVE_ACCESS_LOG_FAILED)
        metrics_access_log_failed(ctx);
}

int
server_worker_run(const config_t *cfg, int listen_fd, metrics_t *metrics)
{
    app_t app;
    kt_error_t err;

    kt_error_clear(&err);
    FCGX_Init();
    if (!app_init(&app, cfg, &err)) {
        log_event(LOG_ERROR, "worker cannot start: %s", err.message);
        return SERVER_EXIT_CONFIG;
    }
    if (!drop_privileges(cfg)) {
        app_release(&app);
        return SERVER_EXIT_CONFIG;
    }
    app.metrics = metrics;
    kt_observe_install(observe_store, metrics);
    int status = run_threads(&app, listen_fd);
    app_release(&app);
    log_event(LOG_INFO, "worker stopped");
    return status;
}
