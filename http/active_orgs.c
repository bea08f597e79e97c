/* active_orgs: a small per-worker cache of organisations seen ACTIVE. */
#include "http/active_orgs.h"

#include "core/clock.h"
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auth/principal.h"
#include "store/organizations.h"

typedef struct {
    char ogrn[PRINCIPAL_ORG_MAX];
    int64_t seen_ms; /* monotonic: when the store last said ACTIVE */
} slot_t;

struct active_orgs {
    pthread_mutex_t mu;
    slot_t slots[ACTIVE_ORGS_SLOTS];
};

/* FNV-1a: one slot per organisation; a collision only costs a store read. */
static slot_t *
slot_of(active_orgs_t *c, const char *ogrn)
{
    uint32_t h = 2166136261u;

    for (const char *p = ogrn; *p != '\0'; p++)
        h = (h ^ (unsigned char)*p) * 16777619u;
    return &c->slots[h % ACTIVE_ORGS_SLOTS];
}

active_orgs_t *
active_orgs_new(void)
{
    active_orgs_t *c = calloc(1, sizeof *c);

    if (c != NULL && pthread_mutex_init(&c->mu, NULL) != 0) {
        free(c);
        c = NULL;
    }
    return c;
}

void
active_orgs_free(active_orgs_t *c)
{
    if (c == NULL)
        return;
    pthread_mutex_destroy(&c->mu);
    free(c);
}

/* Whether the store said ACTIVE for ogrn less than max_age_ms ago. */
static bool
cached(active_orgs_t *c, const char *ogrn, int64_t now, int64_t max_age_ms)
{
    slot_t *s;
    bool hit;

    pthread_mutex_lock(&c->mu);
    s = slot_of(c, ogrn);
    hit = strcmp(s->ogrn, ogrn) == 0 && now - s->seen_ms < max_age_ms;
    pthread_mutex_unlock(&c->mu);
    return hit;
}

static void
remember(active_orgs_t *c, const char *ogrn, int64_t now)
{
    slot_t *s;

    if (strlen(ogrn) >= sizeof s->ogrn)
        return;
    pthread_mutex_lock(&c->mu);
    s = slot_of(c, ogrn);
    memcpy(s->ogrn, ogrn, strlen(ogrn) + 1);
    s->seen_ms = now;
    pthread_mutex_unlock(&c->mu);
}

bool
active_orgs_check(active_orgs_t *c, store_t *store, const char *ogrn, bool *active, kt_error_t *err)
{
    int64_t now = clock_monotonic_ms();
    store_conn_t *conn;
    bool ok;

    *active = false;
    if (cached(c, ogrn, now, ACTIVE_ORGS_TTL_MS)) {
        *active = true;
        return true;
    }
    conn = store_conn_pop(store, STORE_POOL_REQUEST); /* a request waits on it: the short bound */
    if (conn == NULL) {
        kt_error_set(err, KT_DOMAIN_STORE, KT_UNAVAILABLE, "no store client");
        return false;
    }
    ok = store_organization_active(conn, ogrn, active, err);
    store_conn_push(conn);
    if (ok && *active)
        remember(c, ogrn, now);
    /* A store that cannot answer does not log out the schools it recently
     * knew active: their answer stands for ACTIVE_ORGS_STALE_MS. */
    if (!ok && cached(c, ogrn, now, ACTIVE_ORGS_STALE_MS)) {
        kt_error_clear(err);
        *active = ok = true;
    }
    return ok;
}
