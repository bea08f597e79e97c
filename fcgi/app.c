/* app: per-worker shared state, created after fork. */
#include "fcgi/app.h"

#include <string.h>

bool
app_init(app_t *app, const config_t *cfg, kt_error_t *err)
{
    jwt_alg_t alg;

    memset(app, 0, sizeof *app);
    app->cfg = cfg;
    if (!jwt_alg_parse(cfg->token_alg, &alg)) {
        kt_error_set(err, KT_DOMAIN_INTERNAL, KT_INTERNAL, 500,
                     "KT_TOKEN_ALG must be EdDSA or ES256");
        goto fail;
    }
    app->token_key = jwt_key_load_public(cfg->token_public_key, alg, err);
    if (app->token_key == NULL)
        goto fail;
    app->certmap = certmap_load(cfg->client_map, err);
    if (app->certmap == NULL)
        goto fail;
    app->schema = xmlio_schema_load(cfg->xsd_path, err);
    if (app->schema == NULL)
        goto fail;
    app->store = store_new(cfg->mongodb_uri, cfg->db_name, err);
    if (app->store == NULL)
        goto fail;
    return true;
fail:
    app_release(app);
    return false;
}

void
app_release(app_t *app)
{
    store_free(app->store);
    xmlio_schema_free(app->schema);
    certmap_free(app->certmap);
    jwt_key_free(app->token_key);
    memset(app, 0, sizeof *app);
}
