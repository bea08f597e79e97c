/* app: per-worker shared state, created after fork. */
#include "http/app.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "http/log.h"

/* A missing or bad health key file does not stop the worker: everything
 * but health data works, and health data answers 503 KEY_UNAVAILABLE. */
static bool
app_load_health_keys(app_t *app, const config_t *cfg)
{
    kt_error_t e;

    kt_error_clear(&e);
    app->health_ring = malloc(sizeof *app->health_ring);
    if (app->health_ring == NULL)
        return false;
    if (!seal_keyring_load(app->health_ring, cfg->health_keys, &e))
        log_event(LOG_ERROR, "health data unavailable: %s", e.message);
    else if (app->health_ring->n == 0)
        log_event(LOG_WARN, "health data unavailable: no key file %s", cfg->health_keys);
    return true;
}

/* A missing or bad ЕСИА key file does not stop the worker either: only the
 * families' service answers 503 without it. */
static void
app_load_esia_keys(app_t *app, const config_t *cfg)
{
    kt_error_t e;

    kt_error_clear(&e);
    app->esia_policy = (esia_policy_t){cfg->esia_issuer, cfg->esia_audience};
    if (access(cfg->esia_keys, F_OK) != 0) {
        log_event(LOG_INFO, "the families' service is off: no ЕСИА key file %s", cfg->esia_keys);
        return;
    }
    app->esia_keys = esia_keys_load(cfg->esia_keys, &e);
    if (app->esia_keys == NULL)
        log_event(LOG_ERROR, "the families' service is off: %s", e.message);
    else
        log_event(LOG_INFO, "ЕСИА tokens: %zu key(s) from %s, iss %s, aud %s, GOST %s",
                  esia_keys_count(app->esia_keys), cfg->esia_keys, cfg->esia_issuer,
                  cfg->esia_audience, esia_gost_available() ? "available" : "unavailable");
}

bool
app_init(app_t *app, const config_t *cfg, kt_error_t *err)
{
    jwt_alg_t alg;

    memset(app, 0, sizeof *app);
    app->cfg = cfg;
    if (!jwt_alg_parse(cfg->token_alg, &alg)) {
        kt_error_set(err, KT_DOMAIN_INTERNAL, KT_INTERNAL, "KT_TOKEN_ALG must be EdDSA or ES256");
        goto fail;
    }
    app->token_key = jwt_key_load_public(cfg->token_public_key, alg, err);
    if (app->token_key == NULL)
        goto fail;
    app->token_policy = (jwt_policy_t){cfg->token_issuer, cfg->token_audience, cfg->token_max_ttl};
    app->revoked = revoke_list_new(cfg->token_revoked);
    app->active_orgs = active_orgs_new();
    app->epoch = epoch_cache_new();
    if (app->revoked == NULL || app->active_orgs == NULL || app->epoch == NULL) {
        kt_error_set(err, KT_DOMAIN_INTERNAL, KT_INTERNAL, "no memory for the token state");
        goto fail;
    }
    log_event(LOG_INFO, "bearer tokens: kid %s, iss %s, aud %s, max ttl %llds, revoked in %s",
              jwt_key_id(app->token_key), cfg->token_issuer, cfg->token_audience,
              cfg->token_max_ttl, cfg->token_revoked);
    app->certmap = certmap_load(cfg->client_map, err);
    if (app->certmap == NULL)
        goto fail;
    app->schema = xmlio_schema_load(cfg->xsd_path, err);
    if (app->schema == NULL)
        goto fail;
    app->store = config_store_new(cfg, err);
    if (app->store == NULL)
        goto fail;
    if (!app_load_health_keys(app, cfg))
        goto fail;
    app_load_esia_keys(app, cfg);
    return true;
fail:
    app_release(app);
    return false;
}

void
app_release(app_t *app)
{
    store_free(app->store);
    if (app->health_ring != NULL) {
        seal_keyring_wipe(app->health_ring);
        free(app->health_ring);
    }
    xmlio_schema_free(app->schema);
    certmap_free(app->certmap);
    esia_keys_free(app->esia_keys);
    jwt_key_free(app->token_key);
    revoke_list_free(app->revoked);
    active_orgs_free(app->active_orgs);
    epoch_cache_free(app->epoch);
    memset(app, 0, sizeof *app);
}
