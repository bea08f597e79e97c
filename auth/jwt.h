/*
 * jwt: compact JWS tokens (RFC 7515/7519) signed with EdDSA (Ed25519) or
 * ES256 (P-256), verified and minted with OpenSSL.
 *
 * The algorithm is fixed by configuration when the key is loaded; a token's
 * own "alg" header must equal it exactly or the token is rejected ("none",
 * HS256 and every other value included). The header's "kid" must be the
 * RFC 7638 thumbprint of one of the verifier's keys: a public key file may
 * hold several (the current one and, during a rotation's overlap, the
 * previous ones; docs/operations.md, "Rotating keys"). Claims: sub, role, org (ОГРН, for school
 * tokens), scope (space-separated, e.g. "health"), iss, aud, jti, iat, exp;
 * iss, aud, jti and exp are required, and what iss and aud must say and how
 * long a token may live is the verifier's policy (jwt_policy_t).
 */
#ifndef KT_JWT_H
#define KT_JWT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "auth/principal.h"
#include "core/arena.h"
#include "core/buf.h"
#include "core/error.h"
#include "core/json.h"

typedef enum { JWT_ALG_EDDSA = 0, JWT_ALG_ES256, JWT_ALG__MAX } jwt_alg_t;

typedef struct jwt_key jwt_key_t;

/* Maximum length of a token accepted by jwt_verify (bytes). */
#define JWT_MAX_LEN 4096

/* A key id: the RFC 7638 thumbprint (SHA-256, base64url, 43 characters). */
#define JWT_KID_LEN 43
/* iss and aud values, NUL included. */
#define JWT_NAME_MAX 128
/* A token id (jti): 1..64 characters of [A-Za-z0-9_-], NUL included. */
#define JWT_JTI_MAX PRINCIPAL_TOKEN_ID_MAX
/* Seconds a token's exp may lie beyond now + max_ttl: the issuer's clock may
 * run ahead of the verifier's. */
#define JWT_CLOCK_SKEW 300

/* "EdDSA" or "ES256" → alg; false for anything else (and *alg = JWT_ALG__MAX). */
bool jwt_alg_parse(const char *name, jwt_alg_t *alg);

/* The JWS "alg" value; NULL when alg is out of range. */
const char *jwt_alg_name(jwt_alg_t alg);

/* Loads a PEM public key (verification) or private key (signing, and it
 * verifies too). The key type must match alg: Ed25519 for EdDSA, EC on
 * P-256 for ES256. Encrypted private keys are refused. NULL on failure, err
 * set to KT_INTERNAL (500): a bad key is the operator's problem, not the
 * client's. */
jwt_key_t *jwt_key_load_public(const char *path, jwt_alg_t alg, kt_error_t *err);
/* A public key file holds at most this many keys (PEM after PEM; text
 * between them is ignored); jwt_key_load_public chains them in file order. */
#define JWT_KEYS_MAX 8
jwt_key_t *jwt_key_load_private(const char *path, jwt_alg_t alg, kt_error_t *err);
void jwt_key_free(jwt_key_t *key);

/* The key's id, JWT_KID_LEN characters: the RFC 7638 thumbprint of its
 * public part (a JWK of kty OKP/crv Ed25519, or kty EC/crv P-256). */
const char *jwt_key_id(const jwt_key_t *key);

/* The next key of a chain loaded from a public key file (NULL after the last). */
const jwt_key_t *jwt_key_next(const jwt_key_t *key);

/* The public keys of PEM text (as jwt_key_load_public, from memory). */
jwt_key_t *jwt_key_parse_public(const char *pem, size_t len, jwt_alg_t alg, kt_error_t *err);

/* A new key pair for alg (it signs). */
jwt_key_t *jwt_key_generate(jwt_alg_t alg, kt_error_t *err);

/* Appends key's PEM to out: its public part, or its private part (unencrypted:
 * the file's mode protects it) when private_part and the key has one. */
bool jwt_key_pem(const jwt_key_t *key, bool private_part, buf_t *out);

/* What a verifier demands beyond a good signature. */
typedef struct {
    const char *issuer;   /* "iss" must equal it */
    const char *audience; /* "aud" must equal it, or be an array holding it */
    int64_t max_ttl;      /* exp may be at most now + max_ttl + JWT_CLOCK_SKEW */
} jwt_policy_t;

typedef struct {
    char sub[PRINCIPAL_SUBJECT_MAX];
    role_t role;
    char org[PRINCIPAL_ORG_MAX];
    unsigned scopes; /* SCOPE_* bits */
    char iss[JWT_NAME_MAX];
    char aud[JWT_NAME_MAX]; /* verify: the policy's audience once matched */
    char jti[JWT_JTI_MAX];
    int64_t iat;
    int64_t exp;
} jwt_claims_t;

/* A fresh random token id (16 random bytes, base64url: 22 characters). */
bool jwt_new_id(char out[JWT_JTI_MAX]);

/*
 * Verifies signature, alg, kid, structure, the policy (iss, aud, lifetime)
 * and expiry (exp <= now is expired; a school token without org is invalid;
 * nbf, when present, must not be in the future; jti is required). Headers
 * carrying "crit", "jku", "jwk", "x5u" or "x5c" are refused. token is len
 * bytes and need not be NUL-terminated. On success fills claims; on failure
 * claims is zeroed and err is KT_UNAUTHENTICATED (status 401) with a short
 * reason for logs ("token expired", "bad signature", "algorithm not
 * allowed", "unknown key id", "bad claim aud", "malformed token", ...) that
 * never contains the token itself.
 */
bool jwt_verify(const jwt_key_t *key, const jwt_policy_t *policy, const char *token, size_t len,
                int64_t now, jwt_claims_t *claims, kt_error_t *err);

/* Mints a token for claims, with the key's kid in the header; returns a
 * malloc'd NUL-terminated string or NULL. Claims jwt_verify() would refuse
 * (no role, empty sub or a sub that is not text, an org that is not 13
 * digits, a school without org, a bad jti) and public-only keys fail with
 * KT_INTERNAL. iat is written when non-zero; org, iss, aud and jti when
 * non-empty; scope when any bit is set. */
char *jwt_sign(const jwt_key_t *key, const jwt_claims_t *claims, kt_error_t *err);

/*
 * The compact JWS that other verifiers of signed tokens share (auth/esia.c):
 * jwt_jws_open() splits a token, decodes and parses its header (which must be
 * a JSON object, with "typ" absent or "JWT" and none of "crit", "jku", "jwk",
 * "x5u", "x5c") and decodes its signature, all into arena; the payload is
 * parsed only by jwt_jws_payload(), after the caller has checked the
 * signature. Failures are KT_UNAUTHENTICATED with a reason for the log. The
 * token is not copied: the views point into it.
 */
typedef struct {
    json_value_t *header;
    const char *payload64; /* the payload segment, base64url */
    size_t payload64_len;
    const char *signed_part; /* header '.' payload: what the signature covers */
    size_t signed_len;
    unsigned char *sig; /* the decoded signature */
    size_t sig_len;
} jwt_jws_t;

bool jwt_jws_open(arena_t *arena, const char *token, size_t len, size_t max_len, jwt_jws_t *out,
                  kt_error_t *err);
bool jwt_jws_payload(arena_t *arena, const jwt_jws_t *jws, json_value_t **payload, kt_error_t *err);

/* Whether v is the JSON string want. */
bool jwt_json_string_is(const json_value_t *v, const char *want);

/* Whether "aud" (a string or an array of strings) names want. */
bool jwt_audience_matches(const json_value_t *aud, const char *want);

/* base64url without padding, appended to b; false when b overflowed. */
bool jwt_b64url_encode(buf_t *b, const void *data, size_t len);

#endif
