/*
 * jwt: compact JWS verification and minting with OpenSSL 3.
 *
 * A token is checked in the order that exposes the least code to an
 * unauthenticated sender: length and shape first, then the header (whose
 * "alg" must equal the configured one), then the signature, and only then is
 * the payload parsed. Header and payload trees live in an arena of their own
 * that is freed before jwt_verify() returns.
 */
#include "auth/jwt.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/rand.h>

#include "core/arena.h"
#include "core/buf.h"
#include "core/json.h"
#include "core/utf8.h"

struct jwt_key {
    EVP_PKEY *pkey;
    jwt_alg_t alg;
    bool can_sign; /* loaded from a private key */
    char kid[JWT_KID_LEN + 1];
    jwt_key_t *next; /* the next key of a public key file; owned */
};

/* Both algorithms carry 64 raw signature bytes: Ed25519's own, or r||s. */
#define JWT_SIG_LEN   64
#define JWT_EC_COORD  32
#define JWT_DER_MAX   128 /* a DER ECDSA P-256 signature takes at most 72 */
#define JWT_ORG_LEN   13  /* an ОГРН */
#define JWT_ARENA_CAP (256 * 1024)
#define JWT_ID_BYTES  16 /* a jti from jwt_new_id(): 128 random bits */

/* A token of JWT_MAX_LEN bytes cannot hold more values than this. */
static const json_limits_t jwt_json_limits = {
    .max_depth = 16,
    .max_string = JWT_MAX_LEN,
    .max_nodes = 2048,
};

static const char *const alg_names[JWT_ALG__MAX] = {
    [JWT_ALG_EDDSA] = "EdDSA",
    [JWT_ALG_ES256] = "ES256",
};

/* Scope names as they appear in the space-separated "scope" claim. */
static const struct {
    const char *name;
    unsigned bit;
} scope_table[] = {
    {"health", SCOPE_HEALTH},
};

/*
 * Header parameters that point at or carry a key. We only ever use the
 * configured key, so a token that offers another one is refused rather than
 * half-honoured; "crit" names extensions we do not implement (RFC 7515 4.1.11).
 */
static const char *const header_refused[] = {"crit", "jku", "jwk", "x5u", "x5c"};

typedef struct {
    const char *ptr;
    size_t len;
} jwt_view_t;

typedef struct {
    jwt_view_t header;
    jwt_view_t payload;
    jwt_view_t signature;
    jwt_view_t signed_part; /* header '.' payload: what the signature covers */
} jwt_parts_t;

/* Every verification failure is the same 401; the reason is for logs only. */
static bool
jwt_reject(kt_error_t *err, const char *reason)
{
    kt_error_set(err, KT_DOMAIN_AUTH, KT_UNAUTHENTICATED, "%s", reason);
    return false;
}

static bool
jwt_internal(kt_error_t *err, const char *reason)
{
    kt_error_set(err, KT_DOMAIN_INTERNAL, KT_INTERNAL, "jwt: %s", reason);
    return false;
}

bool
jwt_alg_parse(const char *name, jwt_alg_t *alg)
{
    *alg = JWT_ALG__MAX;
    if (name == NULL)
        return false;
    for (unsigned i = 0; i < JWT_ALG__MAX; i++) {
        if (strcmp(name, alg_names[i]) == 0) {
            *alg = (jwt_alg_t)i;
            return true;
        }
    }
    return false;
}

const char *
jwt_alg_name(jwt_alg_t alg)
{
    if ((unsigned)alg >= JWT_ALG__MAX)
        return NULL;
    return alg_names[alg];
}

/* Ed25519 hashes internally and takes no digest; ES256 is ECDSA over SHA-256. */
static const EVP_MD *
jwt_alg_md(jwt_alg_t alg)
{
    return alg == JWT_ALG_ES256 ? EVP_sha256() : NULL;
}

static bool b64url_encode(buf_t *b, const void *data, size_t len);

/* ---- Keys ---------------------------------------------------------------- */

/* Encrypted keys are refused instead of prompting on a terminal a worker does not have. */
static int
jwt_pem_no_password(char *buf, int size, int rwflag, void *u)
{
    return -1;
}

static bool
jwt_key_is_p256(EVP_PKEY *pkey)
{
    char group[64];
    size_t group_len = 0;
    int nid;

    if (!EVP_PKEY_is_a(pkey, "EC"))
        return false;
    if (EVP_PKEY_get_group_name(pkey, group, sizeof group, &group_len) != 1)
        return false;
    nid = OBJ_sn2nid(group);
    if (nid == NID_undef)
        nid = EC_curve_nist2nid(group);
    return nid == NID_X9_62_prime256v1;
}

static bool
jwt_key_type_matches(EVP_PKEY *pkey, jwt_alg_t alg)
{
    if (alg == JWT_ALG_EDDSA)
        return EVP_PKEY_is_a(pkey, "ED25519");
    return jwt_key_is_p256(pkey);
}

/* The members of the key's public JWK in RFC 7638's order (lexicographic,
 * no whitespace), written to jwk; false when OpenSSL cannot export them. */
static bool
jwt_key_jwk(EVP_PKEY *pkey, jwt_alg_t alg, buf_t *jwk)
{
    unsigned char x[JWT_EC_COORD], y[JWT_EC_COORD];
    size_t x_len = sizeof x;
    BIGNUM *bx = NULL, *by = NULL;
    bool ok = false;

    if (alg == JWT_ALG_EDDSA) {
        if (EVP_PKEY_get_raw_public_key(pkey, x, &x_len) != 1 || x_len != sizeof x)
            return false;
        buf_puts(jwk, "{\"crv\":\"Ed25519\",\"kty\":\"OKP\",\"x\":\"");
        b64url_encode(jwk, x, x_len);
        buf_puts(jwk, "\"}");
        return !jwk->overflow;
    }
    if (EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_EC_PUB_X, &bx) != 1 ||
        EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_EC_PUB_Y, &by) != 1 ||
        BN_bn2binpad(bx, x, JWT_EC_COORD) != JWT_EC_COORD ||
        BN_bn2binpad(by, y, JWT_EC_COORD) != JWT_EC_COORD)
        goto done;
    buf_puts(jwk, "{\"crv\":\"P-256\",\"kty\":\"EC\",\"x\":\"");
    b64url_encode(jwk, x, sizeof x);
    buf_puts(jwk, "\",\"y\":\"");
    b64url_encode(jwk, y, sizeof y);
    buf_puts(jwk, "\"}");
    ok = !jwk->overflow;
done:
    BN_free(bx);
    BN_free(by);
    return ok;
}

/* kid = base64url(SHA-256(JWK)), RFC 7638: any party can compute it from the
 * public key alone, so it names the key without a registry of names. */
static bool
jwt_key_thumbprint(EVP_PKEY *pkey, jwt_alg_t alg, char kid[JWT_KID_LEN + 1])
{
    buf_t jwk, out;
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned md_len = 0;
    bool ok;

    buf_init(&jwk, 512);
    buf_init(&out, 64);
    ok = jwt_key_jwk(pkey, alg, &jwk) &&
         EVP_Digest(jwk.data, jwk.len, md, &md_len, EVP_sha256(), NULL) == 1 &&
         b64url_encode(&out, md, md_len) && out.len == JWT_KID_LEN;
    if (ok)
        memcpy(kid, out.data, JWT_KID_LEN + 1);
    buf_release(&jwk);
    buf_release(&out);
    return ok;
}

static void
jwt_key_error(kt_error_t *err, const char *path, const char *reason)
{
    kt_error_set(err, KT_DOMAIN_INTERNAL, KT_INTERNAL, "jwt key %s: %s",
                 path != NULL ? path : "(null)", reason);
}

static EVP_PKEY *
jwt_key_read_pem(BIO *bio, bool private_key)
{
    if (private_key)
        return PEM_read_bio_PrivateKey(bio, NULL, jwt_pem_no_password, NULL);
    return PEM_read_bio_PUBKEY(bio, NULL, jwt_pem_no_password, NULL);
}

/* One key of bio, whose type must match alg: NULL with err when not. */
static jwt_key_t *
jwt_key_from_pkey(EVP_PKEY *pkey, jwt_alg_t alg, bool private_key, const char *path,
                  kt_error_t *err)
{
    jwt_key_t *key = NULL;

    if (!jwt_key_type_matches(pkey, alg)) {
        jwt_key_error(err, path, alg == JWT_ALG_EDDSA ? "not an Ed25519 key" : "not a P-256 key");
        goto fail;
    }
    key = calloc(1, sizeof *key);
    if (key == NULL) {
        jwt_key_error(err, path, "out of memory");
        goto fail;
    }
    if (!jwt_key_thumbprint(pkey, alg, key->kid)) {
        jwt_key_error(err, path, "cannot compute the key id");
        goto fail;
    }
    key->pkey = pkey; /* steals pkey */
    key->alg = alg;
    key->can_sign = private_key;
    return key;
fail:
    free(key);
    EVP_PKEY_free(pkey);
    return NULL;
}

/* The keys of bio: one private key, or one to JWT_KEYS_MAX public keys (a
 * file that holds the current key and those still accepted after a
 * rotation), chained in file order. */
static jwt_key_t *
jwt_key_read_all(BIO *bio, jwt_alg_t alg, bool private_key, const char *path, kt_error_t *err)
{
    jwt_key_t *first = NULL, **tail = &first;
    EVP_PKEY *pkey;
    int n = 0;

    while ((first == NULL || !private_key) && (pkey = jwt_key_read_pem(bio, private_key)) != NULL) {
        if (++n > JWT_KEYS_MAX) {
            EVP_PKEY_free(pkey);
            jwt_key_error(err, path, "more than JWT_KEYS_MAX (8) keys");
            goto fail;
        }
        *tail = jwt_key_from_pkey(pkey, alg, private_key, path, err);
        if (*tail == NULL)
            goto fail;
        tail = &(*tail)->next;
    }
    if (first == NULL)
        jwt_key_error(err, path, private_key ? "not a PEM private key" : "not a PEM public key");
    return first;
fail:
    jwt_key_free(first);
    return NULL;
}

static jwt_key_t *
jwt_key_load(const char *path, jwt_alg_t alg, bool private_key, kt_error_t *err)
{
    BIO *bio = NULL;
    jwt_key_t *key = NULL;

    if (path == NULL || (unsigned)alg >= JWT_ALG__MAX) {
        jwt_key_error(err, path, "no path or unknown algorithm");
        goto done;
    }
    bio = BIO_new_file(path, "r");
    if (bio == NULL) {
        jwt_key_error(err, path, "cannot open");
        goto done;
    }
    key = jwt_key_read_all(bio, alg, private_key, path, err);
done:
    BIO_free(bio);
    ERR_clear_error(); /* leave no stale OpenSSL errors for unrelated code to find */
    return key;
}

jwt_key_t *
jwt_key_parse_public(const char *pem, size_t len, jwt_alg_t alg, kt_error_t *err)
{
    BIO *bio = len <= INT32_MAX ? BIO_new_mem_buf(pem, (int)len) : NULL;
    jwt_key_t *key = NULL;

    if (bio == NULL || (unsigned)alg >= JWT_ALG__MAX)
        jwt_key_error(err, "(memory)", "no PEM or unknown algorithm");
    else
        key = jwt_key_read_all(bio, alg, false, "(memory)", err);
    BIO_free(bio);
    ERR_clear_error();
    return key;
}

jwt_key_t *
jwt_key_generate(jwt_alg_t alg, kt_error_t *err)
{
    EVP_PKEY *pkey = NULL;

    if (alg == JWT_ALG_EDDSA)
        pkey = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    else if (alg == JWT_ALG_ES256)
        pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    ERR_clear_error();
    if (pkey == NULL) {
        jwt_key_error(err, "(new)", "cannot generate a key");
        return NULL;
    }
    return jwt_key_from_pkey(pkey, alg, true, "(new)", err);
}

bool
jwt_key_pem(const jwt_key_t *key, bool private_part, buf_t *out)
{
    BIO *bio = BIO_new(BIO_s_mem());
    char *data = NULL;
    long len = 0;
    bool ok = false;

    if (bio == NULL || key == NULL || (private_part && !key->can_sign))
        goto done;
    ok = private_part ? PEM_write_bio_PrivateKey(bio, key->pkey, NULL, NULL, 0, NULL, NULL) == 1
                      : PEM_write_bio_PUBKEY(bio, key->pkey) == 1;
    len = BIO_get_mem_data(bio, &data);
    ok = ok && len > 0 && buf_append(out, data, (size_t)len);
done:
    BIO_free(bio);
    ERR_clear_error();
    return ok;
}

const jwt_key_t *
jwt_key_next(const jwt_key_t *key)
{
    return key != NULL ? key->next : NULL;
}

jwt_key_t *
jwt_key_load_public(const char *path, jwt_alg_t alg, kt_error_t *err)
{
    return jwt_key_load(path, alg, false, err);
}

jwt_key_t *
jwt_key_load_private(const char *path, jwt_alg_t alg, kt_error_t *err)
{
    return jwt_key_load(path, alg, true, err);
}

const char *
jwt_key_id(const jwt_key_t *key)
{
    return key != NULL ? key->kid : "";
}

void
jwt_key_free(jwt_key_t *key)
{
    while (key != NULL) {
        jwt_key_t *next = key->next;
        EVP_PKEY_free(key->pkey);
        free(key);
        key = next;
    }
}

/* ---- base64url (RFC 4648 section 5, without padding) --------------------- */

static const char b64url_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static int
b64url_value(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '-')
        return 62;
    if (c == '_')
        return 63;
    return -1;
}

/*
 * Decodes strictly: no padding, no whitespace, no characters outside the
 * alphabet, and the unused low bits of the last character must be zero, so
 * that every byte string has exactly one accepted encoding. out must hold
 * len / 4 * 3 + 2 bytes.
 */
static bool
b64url_decode(jwt_view_t in, unsigned char *out, size_t *out_len)
{
    uint32_t acc = 0;
    unsigned bits = 0;
    size_t n = 0;

    *out_len = 0;
    if (in.len % 4 == 1)
        return false;
    for (size_t i = 0; i < in.len; i++) {
        int v = b64url_value((unsigned char)in.ptr[i]);
        if (v < 0)
            return false;
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[n++] = (unsigned char)(acc >> bits);
            acc &= (1u << bits) - 1;
        }
    }
    if (acc != 0)
        return false;
    *out_len = n;
    return true;
}

static bool
b64url_encode(buf_t *b, const void *data, size_t len)
{
    const unsigned char *p = data;
    uint32_t acc = 0;
    unsigned bits = 0;

    for (size_t i = 0; i < len; i++) {
        acc = (acc << 8) | p[i];
        bits += 8;
        while (bits >= 6) {
            bits -= 6;
            buf_putc(b, b64url_alphabet[(acc >> bits) & 63]);
        }
        acc &= (1u << bits) - 1;
    }
    if (bits > 0)
        buf_putc(b, b64url_alphabet[(acc << (6 - bits)) & 63]);
    return !b->overflow;
}

/* ---- Signatures ---------------------------------------------------------- */

/* JWS carries ECDSA signatures as fixed-width r||s; OpenSSL wants DER. */
static bool
jwt_sig_raw_to_der(const unsigned char *raw, unsigned char **der, size_t *der_len)
{
    ECDSA_SIG *sig = ECDSA_SIG_new();
    BIGNUM *r = BN_bin2bn(raw, JWT_EC_COORD, NULL);
    BIGNUM *s = BN_bin2bn(raw + JWT_EC_COORD, JWT_EC_COORD, NULL);
    bool ok = false;
    int n;

    *der = NULL;
    *der_len = 0;
    if (sig == NULL || r == NULL || s == NULL || ECDSA_SIG_set0(sig, r, s) != 1)
        goto done;
    r = s = NULL; /* sig owns them now */
    n = i2d_ECDSA_SIG(sig, der);
    if (n <= 0)
        goto done;
    *der_len = (size_t)n;
    ok = true;
done:
    BN_free(r);
    BN_free(s);
    ECDSA_SIG_free(sig);
    return ok;
}

static bool
jwt_sig_der_to_raw(const unsigned char *der, size_t der_len, unsigned char *raw)
{
    const unsigned char *p = der;
    ECDSA_SIG *sig = d2i_ECDSA_SIG(NULL, &p, (long)der_len);
    const BIGNUM *r = NULL, *s = NULL;
    bool ok = false;

    if (sig == NULL)
        goto done;
    ECDSA_SIG_get0(sig, &r, &s);
    ok = BN_bn2binpad(r, raw, JWT_EC_COORD) == JWT_EC_COORD &&
         BN_bn2binpad(s, raw + JWT_EC_COORD, JWT_EC_COORD) == JWT_EC_COORD;
done:
    ECDSA_SIG_free(sig);
    return ok;
}

static bool
jwt_sig_verify(const jwt_key_t *key, jwt_view_t input, const unsigned char *sig, size_t sig_len)
{
    EVP_MD_CTX *ctx = NULL;
    unsigned char *der = NULL;
    const unsigned char *use = sig;
    size_t use_len = sig_len;
    bool ok = false;

    if (sig_len != JWT_SIG_LEN)
        goto done;
    if (key->alg == JWT_ALG_ES256) {
        if (!jwt_sig_raw_to_der(sig, &der, &use_len))
            goto done;
        use = der;
    }
    ctx = EVP_MD_CTX_new();
    if (ctx == NULL || EVP_DigestVerifyInit(ctx, NULL, jwt_alg_md(key->alg), NULL, key->pkey) != 1)
        goto done;
    ok = EVP_DigestVerify(ctx, use, use_len, (const unsigned char *)input.ptr, input.len) == 1;
done:
    EVP_MD_CTX_free(ctx);
    OPENSSL_free(der);
    ERR_clear_error();
    return ok;
}

static bool
jwt_sig_make(const jwt_key_t *key, const char *input, size_t len, unsigned char *out)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    unsigned char sig[JWT_DER_MAX];
    size_t sig_len = sizeof sig;
    bool ok = false;

    if (ctx == NULL || EVP_DigestSignInit(ctx, NULL, jwt_alg_md(key->alg), NULL, key->pkey) != 1)
        goto done;
    if (EVP_DigestSign(ctx, sig, &sig_len, (const unsigned char *)input, len) != 1)
        goto done;
    if (key->alg == JWT_ALG_ES256) {
        ok = jwt_sig_der_to_raw(sig, sig_len, out);
    } else if (sig_len == JWT_SIG_LEN) {
        memcpy(out, sig, JWT_SIG_LEN);
        ok = true;
    }
done:
    EVP_MD_CTX_free(ctx);
    ERR_clear_error();
    return ok;
}

/* ---- Token structure ----------------------------------------------------- */

/* Exactly three segments separated by two dots; any segment may be empty here. */
static bool
jwt_split(const char *token, size_t len, jwt_parts_t *parts)
{
    const char *end = token + len;
    const char *dot1 = memchr(token, '.', len);
    const char *dot2 = dot1 ? memchr(dot1 + 1, '.', (size_t)(end - dot1 - 1)) : NULL;

    memset(parts, 0, sizeof *parts);
    if (dot2 == NULL || memchr(dot2 + 1, '.', (size_t)(end - dot2 - 1)) != NULL)
        return false;
    parts->header = (jwt_view_t){token, (size_t)(dot1 - token)};
    parts->payload = (jwt_view_t){dot1 + 1, (size_t)(dot2 - dot1 - 1)};
    parts->signature = (jwt_view_t){dot2 + 1, (size_t)(end - dot2 - 1)};
    parts->signed_part = (jwt_view_t){token, (size_t)(dot2 - token)};
    return true;
}

static bool
jwt_segment_decode(arena_t *arena, jwt_view_t seg, unsigned char **out, size_t *out_len)
{
    *out_len = 0;
    *out = arena_alloc(arena, seg.len / 4 * 3 + 3);
    return *out != NULL && b64url_decode(seg, *out, out_len);
}

/* A segment that must decode to a JSON object (the header and the payload). */
static bool
jwt_segment_object(arena_t *arena, jwt_view_t seg, json_value_t **obj)
{
    unsigned char *text = NULL;
    size_t text_len = 0;

    *obj = NULL;
    if (!jwt_segment_decode(arena, seg, &text, &text_len))
        return false;
    if (!json_parse(arena, (const char *)text, text_len, &jwt_json_limits, obj, NULL))
        return false;
    return (*obj)->type == JSON_OBJECT;
}

static bool
jwt_string_is(const json_value_t *v, const char *want)
{
    size_t n = strlen(want);

    return v != NULL && v->type == JSON_STRING && v->len == n && memcmp(v->str, want, n) == 0;
}

static bool jwt_header_common(const json_value_t *header, kt_error_t *err);

static bool
jwt_header_check(const json_value_t *header, const jwt_key_t *key, kt_error_t *err)
{
    if (!jwt_string_is(json_get(header, "alg"), alg_names[key->alg]))
        return jwt_reject(err, "algorithm not allowed");
    /* Signed by another key (an old one after rotation, another issuer's):
     * say so in the log rather than "bad signature". */
    if (!jwt_string_is(json_get(header, "kid"), key->kid))
        return jwt_reject(err, "unknown key id");
    return jwt_header_common(header, err);
}

/* The key of keys whose id the header names (a public key file holds the
 * current key and, during a rotation's overlap, the previous ones); the
 * first when none does, which jwt_header_check then refuses. */
static const jwt_key_t *
jwt_key_pick(const jwt_key_t *keys, const json_value_t *header)
{
    const json_value_t *kid = json_get(header, "kid");

    for (const jwt_key_t *k = keys; k != NULL; k = k->next)
        if (jwt_string_is(kid, k->kid))
            return k;
    return keys;
}

static bool
jwt_signature_check(arena_t *arena, const jwt_key_t *key, const jwt_parts_t *parts, kt_error_t *err)
{
    unsigned char *sig = NULL;
    size_t sig_len = 0;

    if (!jwt_segment_decode(arena, parts->signature, &sig, &sig_len) ||
        !jwt_sig_verify(key, parts->signed_part, sig, sig_len))
        return jwt_reject(err, "bad signature");
    return true;
}

/* ---- Claims -------------------------------------------------------------- */

static unsigned
jwt_scope_bit(const char *name, size_t len)
{
    for (size_t i = 0; i < sizeof scope_table / sizeof scope_table[0]; i++) {
        if (strlen(scope_table[i].name) == len && memcmp(scope_table[i].name, name, len) == 0)
            return scope_table[i].bit;
    }
    return 0;
}

/* Unknown scopes are ignored: issuers may grant scopes meant for other services. */
static unsigned
jwt_scopes_parse(const char *s, size_t len)
{
    unsigned bits = 0;
    size_t i = 0;

    while (i < len) {
        size_t start;

        while (i < len && s[i] == ' ')
            i++;
        start = i;
        while (i < len && s[i] != ' ')
            i++;
        bits |= jwt_scope_bit(s + start, i - start);
    }
    return bits;
}

static bool
jwt_org_valid(const char *org)
{
    for (size_t i = 0; i < JWT_ORG_LEN; i++) {
        if (org[i] < '0' || org[i] > '9')
            return false;
    }
    return org[JWT_ORG_LEN] == '\0';
}

/* A jti is 1..64 characters of the base64url alphabet: what revocation lists hold. */
static bool
jwt_jti_valid(const char *jti)
{
    size_t n = 0;

    for (; n < JWT_JTI_MAX && jti[n] != '\0'; n++) {
        if (b64url_value((unsigned char)jti[n]) < 0)
            return false;
    }
    return n > 0 && n < JWT_JTI_MAX;
}

/*
 * The rules both verify and sign hold claims to, so that jwt_sign() can never
 * mint a token that jwt_verify() refuses. NULL when the claims are sound.
 */

static const char *
jwt_claims_problem(const jwt_claims_t *c)
{
    const char *sub_end = memchr(c->sub, '\0', sizeof c->sub);

    /* The subject is stored with every version a token writes: text only. */
    if (sub_end == NULL || c->sub[0] == '\0' ||
        !utf8_text_valid(c->sub, (size_t)(sub_end - c->sub), NULL))
        return "bad claim sub";
    if (c->jti[0] != '\0' && !jwt_jti_valid(c->jti))
        return "bad claim jti";
    if (memchr(c->iss, '\0', sizeof c->iss) == NULL)
        return "bad claim iss";
    if (memchr(c->aud, '\0', sizeof c->aud) == NULL)
        return "bad claim aud";
    if (principal_role_name(c->role) == NULL)
        return "unknown role";
    if (memchr(c->org, '\0', sizeof c->org) == NULL)
        return "bad claim org";
    if (c->org[0] != '\0' && !jwt_org_valid(c->org))
        return "bad claim org";
    if (c->role == ROLE_SCHOOL && c->org[0] == '\0')
        return "school token without org";
    return NULL;
}

/* Copies a string claim into a fixed field; absent is fine unless required. */
static bool
jwt_claim_copy(const json_value_t *payload, const char *name, bool required, char *dst,
               size_t dst_size)
{
    const json_value_t *v = json_get(payload, name);

    if (v == NULL)
        return !required;
    if (v->type != JSON_STRING || v->len >= dst_size)
        return false;
    memcpy(dst, v->str, v->len);
    dst[v->len] = '\0';
    return true;
}

static bool
jwt_claim_int(const json_value_t *payload, const char *name, bool required, int64_t *out)
{
    const json_value_t *v = json_get(payload, name);

    *out = 0;
    if (v == NULL)
        return !required;
    return json_as_int64(v, out);
}

static bool
jwt_claims_read(const json_value_t *payload, jwt_claims_t *c, kt_error_t *err)
{
    const json_value_t *role = json_get(payload, "role");
    const json_value_t *scope = json_get(payload, "scope");
    const char *problem;

    if (!jwt_claim_copy(payload, "sub", true, c->sub, sizeof c->sub))
        return jwt_reject(err, "bad claim sub");
    if (role == NULL || role->type != JSON_STRING)
        return jwt_reject(err, "bad claim role");
    if (!jwt_claim_copy(payload, "org", false, c->org, sizeof c->org))
        return jwt_reject(err, "bad claim org");
    if (scope != NULL && scope->type != JSON_STRING)
        return jwt_reject(err, "bad claim scope");
    c->scopes = scope != NULL ? jwt_scopes_parse(scope->str, scope->len) : 0;
    c->role = principal_role_resolve(role->str, c->scopes);
    if (!jwt_claim_int(payload, "iat", false, &c->iat))
        return jwt_reject(err, "bad claim iat");
    if (!jwt_claim_int(payload, "exp", true, &c->exp))
        return jwt_reject(err, "bad claim exp");
    if (!jwt_claim_copy(payload, "jti", true, c->jti, sizeof c->jti) || !jwt_jti_valid(c->jti))
        return jwt_reject(err, "bad claim jti");
    problem = jwt_claims_problem(c);
    if (problem != NULL)
        return jwt_reject(err, problem);
    return true;
}

/* RFC 7519 4.1.5: a token must not be accepted before its "nbf", when it has one. */
static bool
jwt_claims_current(const json_value_t *payload, const jwt_claims_t *c, int64_t now, kt_error_t *err)
{
    int64_t nbf = 0;

    if (c->exp <= now)
        return jwt_reject(err, "token expired");
    if (!jwt_claim_int(payload, "nbf", false, &nbf))
        return jwt_reject(err, "bad claim nbf");
    if (nbf > now)
        return jwt_reject(err, "token not yet valid");
    return true;
}

/* "aud" is a string or an array of strings (RFC 7519 4.1.3); one must be ours. */
static bool
jwt_audience_has(const json_value_t *aud, const char *want)
{
    if (aud != NULL && aud->type == JSON_ARRAY) {
        for (const json_value_t *v = aud->child; v != NULL; v = v->next) {
            if (jwt_string_is(v, want))
                return true;
        }
        return false;
    }
    return jwt_string_is(aud, want);
}

/* The verifier's policy: who issued the token, for whom, for how long. A
 * token without iss or aud (as minted before they existed) is refused. */
static bool
jwt_policy_check(const json_value_t *payload, const jwt_policy_t *policy, jwt_claims_t *c,
                 int64_t now, kt_error_t *err)
{
    if (!jwt_string_is(json_get(payload, "iss"), policy->issuer))
        return jwt_reject(err, "bad claim iss");
    if (!jwt_audience_has(json_get(payload, "aud"), policy->audience))
        return jwt_reject(err, "bad claim aud");
    if (c->exp > now && c->exp - now > policy->max_ttl + JWT_CLOCK_SKEW)
        return jwt_reject(err, "lifetime over the maximum");
    snprintf(c->iss, sizeof c->iss, "%s", policy->issuer);
    snprintf(c->aud, sizeof c->aud, "%s", policy->audience);
    return true;
}

/* ---- The JWS shared with other verifiers (jwt.h) ------------------------- */

static bool
jwt_header_common(const json_value_t *header, kt_error_t *err)
{
    const json_value_t *typ = json_get(header, "typ");

    if (typ != NULL && !jwt_string_is(typ, "JWT"))
        return jwt_reject(err, "malformed token");
    for (size_t i = 0; i < sizeof header_refused / sizeof header_refused[0]; i++) {
        if (json_get(header, header_refused[i]) != NULL)
            return jwt_reject(err, "unsupported header parameter");
    }
    return true;
}

bool
jwt_jws_open(arena_t *arena, const char *token, size_t len, size_t max_len, jwt_jws_t *out,
             kt_error_t *err)
{
    jwt_parts_t parts;

    memset(out, 0, sizeof *out);
    if (token == NULL || len > max_len)
        return jwt_reject(err, token == NULL ? "malformed token" : "token too long");
    if (!jwt_split(token, len, &parts) || !jwt_segment_object(arena, parts.header, &out->header))
        return jwt_reject(err, "malformed token");
    if (!jwt_header_common(out->header, err))
        return false;
    if (!jwt_segment_decode(arena, parts.signature, &out->sig, &out->sig_len))
        return jwt_reject(err, "bad signature");
    out->payload64 = parts.payload.ptr;
    out->payload64_len = parts.payload.len;
    out->signed_part = parts.signed_part.ptr;
    out->signed_len = parts.signed_part.len;
    return true;
}

bool
jwt_jws_payload(arena_t *arena, const jwt_jws_t *jws, json_value_t **payload, kt_error_t *err)
{
    jwt_view_t seg = {jws->payload64, jws->payload64_len};

    if (!jwt_segment_object(arena, seg, payload))
        return jwt_reject(err, "malformed token");
    return true;
}

bool
jwt_json_string_is(const json_value_t *v, const char *want)
{
    return jwt_string_is(v, want);
}

bool
jwt_audience_matches(const json_value_t *aud, const char *want)
{
    return jwt_audience_has(aud, want);
}

bool
jwt_b64url_encode(buf_t *b, const void *data, size_t len)
{
    return b64url_encode(b, data, len);
}

/* ---- Verify and sign ----------------------------------------------------- */

bool
jwt_verify(const jwt_key_t *key, const jwt_policy_t *policy, const char *token, size_t len,
           int64_t now, jwt_claims_t *claims, kt_error_t *err)
{
    arena_t *arena = NULL;
    jwt_parts_t parts;
    json_value_t *header = NULL, *payload = NULL;
    jwt_claims_t c;
    bool ok = false;

    memset(claims, 0, sizeof *claims);
    memset(&c, 0, sizeof c);
    if (key == NULL || policy == NULL || policy->issuer == NULL || policy->audience == NULL) {
        jwt_internal(err, "no verification key or policy");
        goto done;
    }
    if (token == NULL || len > JWT_MAX_LEN || !jwt_split(token, len, &parts)) {
        jwt_reject(err, len > JWT_MAX_LEN ? "token too long" : "malformed token");
        goto done;
    }
    arena = arena_new(JWT_ARENA_CAP);
    if (arena == NULL) {
        jwt_internal(err, "out of memory");
        goto done;
    }
    if (!jwt_segment_object(arena, parts.header, &header)) {
        jwt_reject(err, "malformed token");
        goto done;
    }
    key = jwt_key_pick(key, header);
    if (!jwt_header_check(header, key, err) || !jwt_signature_check(arena, key, &parts, err))
        goto done;
    if (!jwt_segment_object(arena, parts.payload, &payload)) {
        jwt_reject(err, "malformed token");
        goto done;
    }
    if (!jwt_claims_read(payload, &c, err) || !jwt_claims_current(payload, &c, now, err) ||
        !jwt_policy_check(payload, policy, &c, now, err))
        goto done;
    *claims = c;
    ok = true;
done:
    arena_free(arena);
    return ok;
}

static bool
jwt_header_write(buf_t *b, const jwt_key_t *key)
{
    jw_t w;

    jw_init(&w, b);
    jw_object_begin(&w);
    jw_key(&w, "alg");
    jw_string(&w, alg_names[key->alg]);
    jw_key(&w, "typ");
    jw_string(&w, "JWT");
    jw_key(&w, "kid");
    jw_string(&w, key->kid);
    jw_object_end(&w);
    return jw_ok(&w);
}

static void
jwt_scope_write(jw_t *w, unsigned scopes)
{
    buf_t names;

    buf_init(&names, 1024);
    for (size_t i = 0; i < sizeof scope_table / sizeof scope_table[0]; i++) {
        if ((scopes & scope_table[i].bit) == 0)
            continue;
        if (names.len > 0)
            buf_putc(&names, ' ');
        buf_puts(&names, scope_table[i].name);
    }
    if (names.len > 0) {
        jw_key(w, "scope");
        jw_string_n(w, names.data, names.len);
    }
    buf_release(&names);
}

static void
jwt_optional_write(jw_t *w, const char *name, const char *value)
{
    if (value[0] == '\0')
        return;
    jw_key(w, name);
    jw_string(w, value);
}

static bool
jwt_payload_write(buf_t *b, const jwt_claims_t *c)
{
    jw_t w;

    jw_init(&w, b);
    jw_object_begin(&w);
    jw_key(&w, "sub");
    jw_string(&w, c->sub);
    jw_key(&w, "role");
    jw_string(&w, principal_role_name(c->role));
    if (c->org[0] != '\0') {
        jw_key(&w, "org");
        jw_string(&w, c->org);
    }
    jwt_scope_write(&w, c->scopes);
    jwt_optional_write(&w, "iss", c->iss);
    jwt_optional_write(&w, "aud", c->aud);
    jwt_optional_write(&w, "jti", c->jti);
    if (c->iat != 0) {
        jw_key(&w, "iat");
        jw_int(&w, c->iat);
    }
    jw_key(&w, "exp");
    jw_int(&w, c->exp);
    jw_object_end(&w);
    return jw_ok(&w);
}

/* header64 '.' payload64, the signing input, appended to token. */
static bool
jwt_signing_input(buf_t *token, const jwt_key_t *key, const jwt_claims_t *claims)
{
    buf_t header, payload;
    bool ok;

    buf_init(&header, JWT_MAX_LEN);
    buf_init(&payload, JWT_MAX_LEN);
    ok = jwt_header_write(&header, key) && jwt_payload_write(&payload, claims) &&
         b64url_encode(token, header.data, header.len) && buf_putc(token, '.') &&
         b64url_encode(token, payload.data, payload.len);
    buf_release(&header);
    buf_release(&payload);
    return ok;
}

char *
jwt_sign(const jwt_key_t *key, const jwt_claims_t *claims, kt_error_t *err)
{
    buf_t token;
    unsigned char sig[JWT_SIG_LEN];
    const char *problem = NULL;
    char *out = NULL;

    buf_init(&token, JWT_MAX_LEN);
    if (key == NULL || claims == NULL || !key->can_sign) {
        jwt_internal(err, "no signing key");
        goto done;
    }
    problem = jwt_claims_problem(claims);
    if (problem != NULL) {
        jwt_internal(err, problem);
        goto done;
    }
    if (!jwt_signing_input(&token, key, claims)) {
        jwt_internal(err, "token too long");
        goto done;
    }
    if (!jwt_sig_make(key, token.data, token.len, sig)) {
        jwt_internal(err, "signing failed");
        goto done;
    }
    if (!buf_putc(&token, '.') || !b64url_encode(&token, sig, sizeof sig)) {
        jwt_internal(err, "token too long");
        goto done;
    }
    out = buf_detach(&token, NULL);
done:
    buf_release(&token);
    return out;
}

bool
jwt_new_id(char out[JWT_JTI_MAX])
{
    unsigned char raw[JWT_ID_BYTES];
    buf_t b;
    bool ok;

    out[0] = '\0';
    if (RAND_bytes(raw, sizeof raw) != 1)
        return false;
    buf_init(&b, JWT_JTI_MAX);
    ok = b64url_encode(&b, raw, sizeof raw) && b.len < JWT_JTI_MAX;
    if (ok)
        memcpy(out, b.data, b.len + 1);
    buf_release(&b);
    return ok;
}
