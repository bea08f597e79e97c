/* master: socket, privileges, prefork and supervision. */
#include "fcgi/master.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "http/log.h"
#include "fcgi/server.h"
#include "fcgi/routes.h"

#define MAX_WORKERS    64
#define STOP_TIMEOUT_S 30

typedef struct {
    pid_t pid;
    time_t started;
} slot_t;

typedef struct {
    const config_t *cfg;
    int listen_fd;
    slot_t slots[MAX_WORKERS];
    pid_t retiring[MAX_WORKERS * 4];
    size_t nretiring;
    time_t backoff_until;
    metrics_t *metrics; /* shared with the workers; NULL: /metrics counts nothing */
} master_t;

static int
open_socket(const config_t *cfg)
{
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    int fd = -1;

    if (strlen(cfg->socket_path) >= sizeof addr.sun_path) {
        log_event(LOG_ERROR, "socket path is too long: %s", cfg->socket_path);
        return -1;
    }
    memcpy(addr.sun_path, cfg->socket_path, strlen(cfg->socket_path) + 1);
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
        goto fail;
    unlink(cfg->socket_path); /* a stale socket of an earlier run */
    if (bind(fd, (struct sockaddr *)&addr, sizeof addr) != 0 ||
        chmod(cfg->socket_path, cfg->socket_mode) != 0 || listen(fd, cfg->backlog) != 0)
        goto fail;
    if (cfg->socket_group[0] != '\0') {
        struct group *g = getgrnam(cfg->socket_group);
        if (g == NULL || chown(cfg->socket_path, (uid_t)-1, g->gr_gid) != 0)
            goto fail;
    }
    return fd;
fail:
    log_event(LOG_ERROR, "cannot listen on %s: %s", cfg->socket_path, strerror(errno));
    if (fd >= 0)
        close(fd);
    return -1;
}

static void
write_pid_file(const config_t *cfg)
{
    FILE *f = fopen(cfg->pid_file, "w");

    if (f == NULL) {
        log_event(LOG_WARN, "cannot write %s", cfg->pid_file);
        return;
    }
    fprintf(f, "%ld\n", (long)getpid());
    fclose(f);
}

/* Creates the store's indexes once, in a short-lived child, before the
 * workers start: concurrent createIndexes from every worker crash FerretDB
 * 1.24's connection handler, and the master itself must not hold store
 * clients across fork. */
static void
init_store(const config_t *cfg)
{
    pid_t pid = fork();
    int status = 0;

    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        _exit(server_init_store(cfg));
    }
    if (pid > 0)
        waitpid(pid, &status, 0);
}

static pid_t
spawn_worker(master_t *m)
{
    pid_t pid = fork();

    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        _exit(server_worker_run(m->cfg, m->listen_fd, m->metrics));
    }
    if (pid < 0)
        log_event(LOG_ERROR, "fork failed: %s", strerror(errno));
    return pid;
}

static void
fill_slots(master_t *m)
{
    time_t now = time(NULL);

    if (now < m->backoff_until)
        return;
    for (int i = 0; i < m->cfg->workers; i++) {
        if (m->slots[i].pid > 0)
            continue;
        m->slots[i].pid = spawn_worker(m);
        m->slots[i].started = now;
    }
}

/* Reaps children; a worker of the current set that died leaves its slot free. */
static void
reap(master_t *m)
{
    int status;
    pid_t pid;

    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
        for (int i = 0; i < m->cfg->workers; i++) {
            if (m->slots[i].pid != pid)
                continue;
            m->slots[i].pid = 0;
            metrics_worker_restarted(m->metrics);
            log_event(LOG_WARN, "worker %ld exited (status %d), restarting", (long)pid, status);
            if (time(NULL) - m->slots[i].started < 2)
                m->backoff_until = time(NULL) + 1;
        }
        for (size_t i = 0; i < m->nretiring; i++)
            if (m->retiring[i] == pid)
                m->retiring[i] = m->retiring[--m->nretiring];
    }
}

/* SIGHUP: the current workers retire (finish what they do), new ones start. */
static void
reload(master_t *m)
{
    log_event(LOG_INFO, "reloading: starting new workers");
    for (int i = 0; i < m->cfg->workers; i++) {
        if (m->slots[i].pid > 0 && m->nretiring < sizeof m->retiring / sizeof m->retiring[0]) {
            kill(m->slots[i].pid, SIGTERM);
            m->retiring[m->nretiring++] = m->slots[i].pid;
        }
        m->slots[i].pid = 0;
    }
    m->backoff_until = 0;
    fill_slots(m);
}

static size_t
live_workers(const master_t *m)
{
    size_t n = m->nretiring;

    for (int i = 0; i < m->cfg->workers; i++)
        n += m->slots[i].pid > 0;
    return n;
}

static void
signal_all(const master_t *m, int sig)
{
    for (int i = 0; i < m->cfg->workers; i++)
        if (m->slots[i].pid > 0)
            kill(m->slots[i].pid, sig);
    for (size_t i = 0; i < m->nretiring; i++)
        kill(m->retiring[i], sig);
}

/* SIGTERM: every worker finishes its requests; stragglers are killed. */
static void
stop_all(master_t *m)
{
    time_t deadline = time(NULL) + STOP_TIMEOUT_S;
    sigset_t set;
    struct timespec tick = {0, 100 * 1000 * 1000};

    log_event(LOG_INFO, "stopping workers");
    signal_all(m, SIGTERM);
    sigemptyset(&set);
    sigaddset(&set, SIGCHLD);
    while (live_workers(m) > 0) {
        if (time(NULL) > deadline) {
            signal_all(m, SIGKILL);
            deadline = time(NULL) + 5;
        }
        sigtimedwait(&set, NULL, &tick);
        for (int i = 0; i < m->cfg->workers; i++)
            if (m->slots[i].pid > 0 && waitpid(m->slots[i].pid, NULL, WNOHANG) > 0)
                m->slots[i].pid = 0;
        reap(m);
    }
}

/* The counters of /metrics, named after the route table, before any fork. */
static metrics_t *
metrics_create(void)
{
    metrics_t *metrics = metrics_new();

    if (metrics == NULL) {
        log_event(LOG_WARN, "no shared memory for /metrics: nothing will be counted");
        return NULL;
    }
    for (size_t i = 0; i < routes_count; i++)
        if (!metrics_route_add(metrics, routes_table[i].method, routes_table[i].pattern))
            log_event(LOG_WARN, "/metrics: route %s %s not counted (more than %d routes)",
                      routes_table[i].method, routes_table[i].pattern, METRICS_ROUTES);
    return metrics;
}

static void
supervise(master_t *m)
{
    sigset_t set;
    struct timespec tick = {1, 0};

    sigemptyset(&set);
    sigaddset(&set, SIGCHLD);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    for (;;) {
        fill_slots(m);
        metrics_workers_set(m->metrics, (int)live_workers(m), m->cfg->workers);
        int sig = sigtimedwait(&set, NULL, &tick);
        if (sig == SIGTERM || sig == SIGINT)
            break;
        if (sig == SIGHUP)
            reload(m);
        reap(m);
    }
    stop_all(m);
}

int
master_run(const config_t *cfg)
{
    master_t m = {.cfg = cfg, .listen_fd = -1};
    sigset_t set;

    /* Signals are taken synchronously: by sigtimedwait here, by sigwait in
     * workers (which inherit this mask). */
    sigemptyset(&set);
    sigaddset(&set, SIGCHLD);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    sigaddset(&set, SIGQUIT);
    sigprocmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
    /* Whatever started us: the pid file and anything a worker creates are the
     * service's own (the socket's mode is set explicitly, KT_SOCKET_MODE). */
    umask(077);
    m.listen_fd = open_socket(cfg);
    if (m.listen_fd < 0)
        return 1;
    write_pid_file(cfg);
    init_store(cfg);
    m.metrics = metrics_create();
    log_event(LOG_INFO, "master listening on %s with %d workers x %d threads; the region's day: %s",
              cfg->socket_path, cfg->workers, cfg->threads, cfg->time_zone);
    supervise(&m);
    close(m.listen_fd);
    metrics_free(m.metrics);
    log_event(LOG_INFO, "master stopped");
    return 0;
}
