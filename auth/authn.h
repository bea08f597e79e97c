/*
 * authn: who is asking. A bearer token wins when present (and must then be
 * valid); otherwise a client certificate that nginx verified
 * (SSL_CLIENT_VERIFY = SUCCESS) and the certificate map knows. Anything else
 * is 401 UNAUTHENTICATED. A token must also pass the policy and not be on
 * the revocation list. The caller passes the inputs and the time. Every
 * refusal's message is the reason for the log, never for the client
 * (http/problem.c answers 401 with one generic detail).
 */
#ifndef KT_AUTHN_H
#define KT_AUTHN_H

#include <stdbool.h>
#include <stdint.h>

#include "auth/certmap.h"
#include "auth/jwt.h"
#include "auth/principal.h"
#include "auth/revoke.h"
#include "core/error.h"

typedef struct {
    const char *authorization;  /* the Authorization header, or NULL */
    const char *ssl_verify;     /* nginx's $ssl_client_verify, or "" */
    const char *ssl_dn;         /* nginx's $ssl_client_s_dn, or "" */
    int64_t now;                /* seconds since the epoch */
    const jwt_policy_t *policy; /* what a token must say (iss, aud, lifetime) */
    revoke_list_t *revoked;     /* revoked tokens; NULL: none */
} authn_input_t;

bool authn_authenticate(const jwt_key_t *key, const certmap_t *map, const authn_input_t *in,
                        principal_t *out, kt_error_t *err);

#endif
