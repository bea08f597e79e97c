/*
 * app: what a worker shares between its threads — the configuration, the
 * store's client pool, the token key, policy and revocation list, and the
 * certificate map. Built after
 * fork, read-only afterwards (the pool is thread-safe), freed at exit.
 */
#ifndef KT_APP_H
#define KT_APP_H

#include "auth/certmap.h"
#include "auth/esia.h"
#include "auth/jwt.h"
#include "auth/revoke.h"
#include "http/active_orgs.h"
#include "http/config.h"
#include "http/epoch.h"
#include "http/metrics.h"
#include "model/seal.h"
#include "model/xmlio.h"
#include "store/store.h"

typedef struct {
    const config_t *cfg;
    store_t *store;
    jwt_key_t *token_key;
    jwt_policy_t token_policy;  /* iss, aud, lifetime: from the configuration */
    revoke_list_t *revoked;     /* the token revocation list, reloaded on change */
    active_orgs_t *active_orgs; /* school principals' organisations seen ACTIVE */
    certmap_t *certmap;
    xmlio_schema_t *schema; /* the exchange XSD, compiled once per worker */
    /* ЕСИА's keys for the families' service (NULL: not configured, 503). */
    esia_keys_t *esia_keys;
    esia_policy_t esia_policy;
    /* The health data's master keys (empty: none usable). */
    seal_keyring_t *health_ring;
    /* The counters of /metrics, shared with the master and the other
     * workers (NULL: nothing is counted). Not owned. */
    metrics_t *metrics;
    epoch_cache_t *epoch; /* the store's feed epoch, read once */
} app_t;

/* Loads keys and maps and opens the store pool; false with err when a file is bad. */
bool app_init(app_t *app, const config_t *cfg, kt_error_t *err);

void app_release(app_t *app);

#endif
