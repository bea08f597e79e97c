/*
 * esia: the identity token of a person signed in through ЕСИА, which the
 * state services portal (role portal) passes with its request in the
 * X-ESIA-Token header (docs/security.md, "The families' service").
 *
 * A compact JWS (the parsing is jwt.c's) signed by ЕСИА with ГОСТ Р 34.10-2012
 * ("alg" GOST3410_2012_256 or GOST3410_2012_512, through OpenSSL's gost
 * engine, Debian's libengine-gost-openssl) or, in test environments, RS256.
 * The keys are the deployment's (KT_ESIA_KEYS: one PEM file of public keys
 * and/or certificates, at most ESIA_KEYS_MAX). Each key admits the one
 * algorithm of its type, so "none", HS256 and an RSA key offered for a GOST
 * "alg" (or the reverse) are refused. A key's id is
 * base64url(SHA-256(DER SubjectPublicKeyInfo)); a token's "kid", when
 * present, must name a configured key; without one each key of the token's
 * algorithm is tried.
 *
 * A GOST signature is 64 (or 128) bytes in the order the gost engine signs
 * and verifies: s then r, each big-endian (the CryptoPro layout, what ЕСИА's
 * client libraries pass to OpenSSL unchanged).
 *
 * Claims: iss and aud (the policy's), exp (required), nbf (optional), each
 * with ESIA_LEEWAY seconds of clock skew; a lifetime over ESIA_MAX_TTL is
 * refused; "snils" (required: the person's СНИЛС, 11 digits, or in the form
 * XXX-XXX-XXX YY) and "sub" (optional, ЕСИА's id of the person, for the log).
 */
#ifndef KT_ESIA_H
#define KT_ESIA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

#define ESIA_TOKEN_MAX 8192        /* bytes of a token */
#define ESIA_KEYS_MAX  16          /* keys in KT_ESIA_KEYS */
#define ESIA_LEEWAY    60          /* seconds of clock skew allowed on exp and nbf */
#define ESIA_MAX_TTL   (24 * 3600) /* exp at most this far beyond now (+ leeway) */
#define ESIA_SNILS_LEN 11
#define ESIA_SUB_MAX   65 /* ЕСИА's person id ("sub"), NUL included */
#define ESIA_KID_LEN   43

typedef struct esia_keys esia_keys_t;

typedef struct {
    const char *issuer;   /* "iss" must equal it */
    const char *audience; /* "aud" must equal it or be an array holding it */
} esia_policy_t;

typedef struct {
    char snils[ESIA_SNILS_LEN + 1]; /* 11 digits */
    char sub[ESIA_SUB_MAX];         /* "" when the token has none */
    int64_t exp;
} esia_identity_t;

/* Loads the GOST engine once per process; false when it is not installed
 * (then GOST keys and tokens are refused, RS256 works). */
bool esia_gost_available(void);

/* Loads every PUBLIC KEY and CERTIFICATE block of the PEM file at path. A
 * block of another kind, a key of another type (RSA under 2048 bits
 * included), a GOST key without the engine, no key at all or more than
 * ESIA_KEYS_MAX: NULL with KT_INTERNAL (the operator's file is wrong). */
esia_keys_t *esia_keys_load(const char *path, kt_error_t *err);
void esia_keys_free(esia_keys_t *keys);
size_t esia_keys_count(const esia_keys_t *keys);
/* The id of key i (ESIA_KID_LEN characters), "" out of range. */
const char *esia_key_id(const esia_keys_t *keys, size_t i);

/* Verifies token (len bytes, not necessarily NUL-terminated) at time now.
 * On failure identity is zeroed and err is KT_UNAUTHENTICATED with a reason
 * for the log ("bad signature", "algorithm not allowed", "unknown key id",
 * "token expired", "bad claim snils", ...) that never holds the token. */
bool esia_verify(const esia_keys_t *keys, const esia_policy_t *policy, const char *token,
                 size_t len, int64_t now, esia_identity_t *identity, kt_error_t *err);

#endif
