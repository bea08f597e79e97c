/*
 * esia: ЕСИА identity tokens, verified with OpenSSL 3 (RS256) and its gost
 * engine (ГОСТ Р 34.10-2012). The engine API is deprecated in OpenSSL 3, but
 * Debian's gost provider (gostprov) carries digests and ciphers only, no
 * signatures: the engine is the one way to verify GOST with the system's
 * OpenSSL. It is loaded once per process and registered as the default for
 * GOST keys and digests only.
 *
 * The order of checks is jwt.c's: shape and header first, then the
 * signature, and only then the payload.
 */
#define OPENSSL_SUPPRESS_DEPRECATED /* ENGINE_*: see above */

#include "auth/esia.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/engine.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "auth/jwt.h"
#include "core/arena.h"
#include "core/buf.h"
#include "core/json.h"

#define ESIA_ARENA_CAP    (256 * 1024)
#define ESIA_RSA_MIN_BITS 2048

typedef enum { ESIA_ALG_RS256 = 0, ESIA_ALG_GOST256, ESIA_ALG_GOST512, ESIA_ALG__MAX } esia_alg_t;

/* A JWS "alg" and the digest it signs over (GOST digests come from the engine). */
static const struct {
    const char *name;
    const char *digest;
} esia_algs[ESIA_ALG__MAX] = {
    [ESIA_ALG_RS256] = {"RS256", "SHA256"},
    [ESIA_ALG_GOST256] = {"GOST3410_2012_256", "md_gost12_256"},
    [ESIA_ALG_GOST512] = {"GOST3410_2012_512", "md_gost12_512"},
};

typedef struct {
    EVP_PKEY *pkey;
    esia_alg_t alg;
    char kid[ESIA_KID_LEN + 1];
} esia_key_t;

struct esia_keys {
    esia_key_t keys[ESIA_KEYS_MAX];
    size_t n;
};

static bool
esia_reject(kt_error_t *err, const char *reason)
{
    kt_error_set(err, KT_DOMAIN_AUTH, KT_UNAUTHENTICATED, "%s", reason);
    return false;
}

/* ---- The gost engine ------------------------------------------------------ */

static pthread_once_t esia_gost_once = PTHREAD_ONCE_INIT;
static bool esia_gost_loaded; /* written once, under esia_gost_once */

static void
esia_gost_load(void)
{
    ENGINE *e;

    ENGINE_load_dynamic();
    e = ENGINE_by_id("gost");
    if (e == NULL)
        goto done;
    if (ENGINE_init(e) != 1) {
        ENGINE_free(e);
        goto done;
    }
    /* GOST key types, their ASN.1 and the Streebog digests: nothing else of
     * the process's cryptography changes hands. */
    esia_gost_loaded =
        ENGINE_set_default(e, ENGINE_METHOD_PKEY_METHS | ENGINE_METHOD_PKEY_ASN1_METHS |
                                  ENGINE_METHOD_DIGESTS) == 1;
    ENGINE_finish(e); /* the defaults hold their own references */
    ENGINE_free(e);
done:
    ERR_clear_error();
}

bool
esia_gost_available(void)
{
    pthread_once(&esia_gost_once, esia_gost_load);
    return esia_gost_loaded;
}

/* ---- Keys ----------------------------------------------------------------- */

static void
esia_key_error(kt_error_t *err, const char *path, const char *reason)
{
    kt_error_set(err, KT_DOMAIN_INTERNAL, KT_INTERNAL, "esia keys %s: %s",
                 path != NULL ? path : "(null)", reason);
}

/* The algorithm a key admits, by its type; ESIA_ALG__MAX: none. */
static esia_alg_t
esia_key_alg(EVP_PKEY *pkey)
{
    int id = EVP_PKEY_get_base_id(pkey);

    if (id == EVP_PKEY_RSA)
        return EVP_PKEY_get_bits(pkey) >= ESIA_RSA_MIN_BITS ? ESIA_ALG_RS256 : ESIA_ALG__MAX;
    if (id == NID_id_GostR3410_2012_256)
        return ESIA_ALG_GOST256;
    if (id == NID_id_GostR3410_2012_512)
        return ESIA_ALG_GOST512;
    return ESIA_ALG__MAX;
}

/* kid = base64url(SHA-256(DER SubjectPublicKeyInfo)): computable by anyone
 * from the key or certificate alone. */
static bool
esia_key_thumbprint(EVP_PKEY *pkey, char kid[ESIA_KID_LEN + 1])
{
    unsigned char *der = NULL, md[EVP_MAX_MD_SIZE];
    unsigned md_len = 0;
    int der_len = i2d_PUBKEY(pkey, &der);
    buf_t out;
    bool ok;

    buf_init(&out, 64);
    ok = der_len > 0 && EVP_Digest(der, (size_t)der_len, md, &md_len, EVP_sha256(), NULL) == 1 &&
         jwt_b64url_encode(&out, md, md_len) && out.len == ESIA_KID_LEN;
    if (ok)
        memcpy(kid, out.data, ESIA_KID_LEN + 1);
    OPENSSL_free(der);
    buf_release(&out);
    return ok;
}

/* One PEM block → a public key; NULL for another kind of block. */
static EVP_PKEY *
esia_block_key(const char *name, const unsigned char *data, long len)
{
    const unsigned char *p = data;
    EVP_PKEY *pkey = NULL;
    X509 *cert = NULL;

    if (strcmp(name, PEM_STRING_PUBLIC) == 0)
        return d2i_PUBKEY(NULL, &p, len);
    if (strcmp(name, PEM_STRING_X509) != 0)
        return NULL;
    cert = d2i_X509(NULL, &p, len);
    if (cert != NULL)
        pkey = X509_get_pubkey(cert);
    X509_free(cert);
    return pkey;
}

static bool
esia_keys_add(esia_keys_t *keys, EVP_PKEY *pkey, const char *path, kt_error_t *err)
{
    esia_key_t *k = &keys->keys[keys->n];

    if (keys->n == ESIA_KEYS_MAX) {
        esia_key_error(err, path, "more keys than the limit (16)");
        return false;
    }
    k->alg = esia_key_alg(pkey);
    if (k->alg == ESIA_ALG__MAX) {
        esia_key_error(err, path, "a key neither GOST R 34.10-2012 nor RSA of 2048 bits or more");
        return false;
    }
    if (!esia_key_thumbprint(pkey, k->kid)) {
        esia_key_error(err, path, "cannot compute a key id");
        return false;
    }
    k->pkey = pkey;
    keys->n++;
    return true;
}

/* Reads blocks until the end of the file; false with err on a bad block. */
static bool
esia_keys_read(esia_keys_t *keys, BIO *bio, const char *path, kt_error_t *err)
{
    for (;;) {
        char *name = NULL, *header = NULL;
        unsigned char *data = NULL;
        long len = 0;
        EVP_PKEY *pkey;
        bool ok;

        if (PEM_read_bio(bio, &name, &header, &data, &len) != 1)
            return true; /* the end (or trailing text): checked by the caller's count */
        pkey = esia_block_key(name, data, len);
        ok = pkey != NULL;
        if (!ok)
            esia_key_error(err, path,
                           "a block that is not a public key or certificate we can read");
        ok = ok && esia_keys_add(keys, pkey, path, err);
        if (!ok)
            EVP_PKEY_free(pkey);
        OPENSSL_free(name);
        OPENSSL_free(header);
        OPENSSL_free(data);
        if (!ok)
            return false;
    }
}

esia_keys_t *
esia_keys_load(const char *path, kt_error_t *err)
{
    esia_keys_t *keys = NULL;
    BIO *bio = NULL;
    bool ok = false;

    esia_gost_available(); /* GOST keys decode only with the engine's ASN.1 methods */
    if (path == NULL || path[0] == '\0') {
        esia_key_error(err, path, "no file");
        goto done;
    }
    keys = calloc(1, sizeof *keys);
    bio = BIO_new_file(path, "r");
    if (keys == NULL || bio == NULL) {
        esia_key_error(err, path, keys == NULL ? "out of memory" : "cannot open");
        goto done;
    }
    if (!esia_keys_read(keys, bio, path, err))
        goto done;
    if (keys->n == 0) {
        esia_key_error(err, path, "no PUBLIC KEY or CERTIFICATE block");
        goto done;
    }
    ok = true;
done:
    BIO_free(bio);
    ERR_clear_error();
    if (!ok) {
        esia_keys_free(keys);
        keys = NULL;
    }
    return keys;
}

void
esia_keys_free(esia_keys_t *keys)
{
    if (keys == NULL)
        return;
    for (size_t i = 0; i < keys->n; i++)
        EVP_PKEY_free(keys->keys[i].pkey);
    free(keys);
}

size_t
esia_keys_count(const esia_keys_t *keys)
{
    return keys != NULL ? keys->n : 0;
}

const char *
esia_key_id(const esia_keys_t *keys, size_t i)
{
    return keys != NULL && i < keys->n ? keys->keys[i].kid : "";
}

/* ---- Signature ------------------------------------------------------------ */

static bool
esia_alg_parse(const json_value_t *alg, esia_alg_t *out)
{
    for (unsigned i = 0; i < ESIA_ALG__MAX; i++) {
        if (jwt_json_string_is(alg, esia_algs[i].name)) {
            *out = (esia_alg_t)i;
            return true;
        }
    }
    return false;
}

static bool
esia_sig_verify(const esia_key_t *key, const jwt_jws_t *jws)
{
    const EVP_MD *md = EVP_get_digestbyname(esia_algs[key->alg].digest);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    bool ok = false;

    if (md == NULL || ctx == NULL || EVP_DigestVerifyInit(ctx, NULL, md, NULL, key->pkey) != 1)
        goto done;
    ok = EVP_DigestVerify(ctx, jws->sig, jws->sig_len, (const unsigned char *)jws->signed_part,
                          jws->signed_len) == 1;
done:
    EVP_MD_CTX_free(ctx);
    ERR_clear_error();
    return ok;
}

/* The header's alg picks the key type; its kid, when present, the key (whose
 * type must then be alg's). Without a kid every key of alg's type is tried. */
static bool
esia_signature_check(const esia_keys_t *keys, const jwt_jws_t *jws, kt_error_t *err)
{
    const json_value_t *kid = json_get(jws->header, "kid");
    esia_alg_t alg = ESIA_ALG__MAX;
    size_t tried = 0;

    if (!esia_alg_parse(json_get(jws->header, "alg"), &alg))
        return esia_reject(err, "algorithm not allowed");
    if (kid != NULL && kid->type != JSON_STRING)
        return esia_reject(err, "malformed token");
    for (size_t i = 0; i < keys->n; i++) {
        const esia_key_t *k = &keys->keys[i];

        if (kid != NULL && !jwt_json_string_is(kid, k->kid))
            continue;
        if (k->alg != alg && kid != NULL)
            return esia_reject(err, "algorithm not allowed"); /* the key's type decides */
        if (k->alg != alg)
            continue;
        tried++;
        if (esia_sig_verify(k, jws))
            return true;
    }
    if (tried > 0)
        return esia_reject(err, "bad signature");
    return esia_reject(err, kid != NULL ? "unknown key id" : "algorithm not allowed");
}

/* ---- Claims --------------------------------------------------------------- */

/* 11 digits, or XXX-XXX-XXX YY; out gets the digits. */
static bool
esia_snils_read(const json_value_t *v, char out[ESIA_SNILS_LEN + 1])
{
    size_t n = 0;

    if (v == NULL || v->type != JSON_STRING || (v->len != 11 && v->len != 14))
        return false;
    for (size_t i = 0; i < v->len; i++) {
        char c = v->str[i];
        bool sep = v->len == 14 && (i == 3 || i == 7 || i == 11);

        if (sep) {
            if (c != (i == 11 ? ' ' : '-'))
                return false;
            continue;
        }
        if (c < '0' || c > '9')
            return false;
        out[n++] = c;
    }
    out[n] = '\0';
    return n == ESIA_SNILS_LEN;
}

static bool
esia_time_check(const json_value_t *payload, int64_t now, int64_t *exp, kt_error_t *err)
{
    const json_value_t *nbf_v = json_get(payload, "nbf");
    int64_t nbf = 0;

    if (!json_as_int64(json_get(payload, "exp"), exp))
        return esia_reject(err, "bad claim exp");
    if (*exp + ESIA_LEEWAY <= now)
        return esia_reject(err, "token expired");
    if (*exp - now > ESIA_MAX_TTL + ESIA_LEEWAY)
        return esia_reject(err, "lifetime over the maximum");
    if (nbf_v != NULL && !json_as_int64(nbf_v, &nbf))
        return esia_reject(err, "bad claim nbf");
    if (nbf_v != NULL && nbf > now + ESIA_LEEWAY)
        return esia_reject(err, "token not yet valid");
    return true;
}

static bool
esia_claims_check(const json_value_t *payload, const esia_policy_t *policy, int64_t now,
                  esia_identity_t *id, kt_error_t *err)
{
    const json_value_t *sub = json_get(payload, "sub");

    if (!jwt_json_string_is(json_get(payload, "iss"), policy->issuer))
        return esia_reject(err, "bad claim iss");
    if (!jwt_audience_matches(json_get(payload, "aud"), policy->audience))
        return esia_reject(err, "bad claim aud");
    if (!esia_time_check(payload, now, &id->exp, err))
        return false;
    if (!esia_snils_read(json_get(payload, "snils"), id->snils))
        return esia_reject(err, "bad claim snils");
    if (sub == NULL)
        return true;
    if (sub->type != JSON_STRING || sub->len == 0 || sub->len >= sizeof id->sub ||
        memchr(sub->str, '\0', sub->len) != NULL)
        return esia_reject(err, "bad claim sub");
    memcpy(id->sub, sub->str, sub->len);
    id->sub[sub->len] = '\0';
    return true;
}

bool
esia_verify(const esia_keys_t *keys, const esia_policy_t *policy, const char *token, size_t len,
            int64_t now, esia_identity_t *identity, kt_error_t *err)
{
    arena_t *arena = NULL;
    jwt_jws_t jws;
    json_value_t *payload = NULL;
    esia_identity_t id;
    bool ok = false;

    memset(identity, 0, sizeof *identity);
    memset(&id, 0, sizeof id);
    if (keys == NULL || policy == NULL || policy->issuer == NULL || policy->audience == NULL) {
        kt_error_set(err, KT_DOMAIN_INTERNAL, KT_INTERNAL, "esia: no keys or policy");
        goto done;
    }
    arena = arena_new(ESIA_ARENA_CAP);
    if (arena == NULL) {
        kt_error_set(err, KT_DOMAIN_INTERNAL, KT_INTERNAL, "esia: out of memory");
        goto done;
    }
    if (!jwt_jws_open(arena, token, len, ESIA_TOKEN_MAX, &jws, err) ||
        !esia_signature_check(keys, &jws, err) || !jwt_jws_payload(arena, &jws, &payload, err) ||
        !esia_claims_check(payload, policy, now, &id, err))
        goto done;
    *identity = id;
    ok = true;
done:
    arena_free(arena);
    return ok;
}
