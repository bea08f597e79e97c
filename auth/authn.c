/* authn: bearer token or mapped client certificate → principal. */
#include "auth/authn.h"

#include <string.h>
#include <strings.h>

static bool
from_token(const jwt_key_t *key, const authn_input_t *in, principal_t *out, kt_error_t *err)
{
    const char *value = in->authorization;
    jwt_claims_t claims;

    if (strncasecmp(value, "Bearer ", 7) != 0) {
        kt_error_set(err, KT_DOMAIN_AUTH, KT_UNAUTHENTICATED,
                     "Authorization must use the Bearer scheme");
        return false;
    }
    value += 7;
    while (*value == ' ')
        value++;
    if (!jwt_verify(key, in->policy, value, strlen(value), in->now, &claims, err))
        return false;
    if (in->revoked != NULL &&
        !revoke_list_allows(in->revoked, claims.jti, claims.sub, claims.iat, err))
        return false;
    memcpy(out->subject, claims.sub, sizeof out->subject);
    memcpy(out->org, claims.org, sizeof out->org);
    out->role = claims.role;
    out->scopes = claims.scopes;
    memcpy(out->token_id, claims.jti, sizeof out->token_id);
    out->method = AUTH_TOKEN;
    return true;
}

static bool
from_certificate(const certmap_t *map, const authn_input_t *in, principal_t *out, kt_error_t *err)
{
    if (strcmp(in->ssl_verify, "SUCCESS") != 0) {
        kt_error_set(err, KT_DOMAIN_AUTH, KT_UNAUTHENTICATED,
                     "the client certificate was not verified");
        return false;
    }
    if (map == NULL || !certmap_lookup(map, in->ssl_dn, out)) {
        kt_error_set(err, KT_DOMAIN_AUTH, KT_UNAUTHENTICATED,
                     "the client certificate is not registered");
        return false;
    }
    out->method = AUTH_CERT;
    return true;
}

bool
authn_authenticate(const jwt_key_t *key, const certmap_t *map, const authn_input_t *in,
                   principal_t *out, kt_error_t *err)
{
    memset(out, 0, sizeof *out);
    if (in->authorization != NULL && in->authorization[0] != '\0')
        return from_token(key, in, out, err);
    if (in->ssl_verify != NULL && in->ssl_verify[0] != '\0' && strcmp(in->ssl_verify, "NONE") != 0)
        return from_certificate(map, in, out, err);
    kt_error_set(err, KT_DOMAIN_AUTH, KT_UNAUTHENTICATED,
                 "a bearer token or a client certificate is required");
    return false;
}
