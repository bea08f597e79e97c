/*
 * test_esia: ЕСИА identity tokens (auth/esia.h) signed by keys the test
 * makes itself — ГОСТ Р 34.10-2012 (256 and 512) through the gost engine,
 * and RSA for RS256 — checked for what they must and must not let through.
 */
#define OPENSSL_SUPPRESS_DEPRECATED

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "auth/esia.h"
#include "auth/jwt.h"
#include "check.h"
#include "core/arena.h"

#define NOW   1800000000LL
#define ISS   "https://esia.gosuslugi.ru/"
#define AUD   "kontingent-portal"
#define SNILS "11223344595"

static arena_t *T; /* the tokens the test mints */
static const esia_policy_t policy = {.issuer = ISS, .audience = AUD};
static char dir[] = "/tmp/kt-esia-XXXXXX";

typedef struct {
    EVP_PKEY *pkey;
    const char *alg;
    const char *md;
} signer_t;

static signer_t gost256, gost512, rsa, gost256_other;

static EVP_PKEY *
gost_key(int nid, const char *paramset)
{
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_id(nid, NULL);
    EVP_PKEY *pkey = NULL;

    if (ctx != NULL && EVP_PKEY_keygen_init(ctx) == 1 &&
        EVP_PKEY_CTX_ctrl_str(ctx, "paramset", paramset) > 0)
        EVP_PKEY_keygen(ctx, &pkey);
    EVP_PKEY_CTX_free(ctx);
    return pkey;
}

/* Writes the public keys to a PEM file of dir; returns its path (static). */
static const char *
write_keys(const char *name, EVP_PKEY **keys, size_t n)
{
    static char path[256];
    FILE *f;

    snprintf(path, sizeof path, "%s/%s", dir, name);
    f = fopen(path, "w");
    for (size_t i = 0; f != NULL && i < n; i++)
        PEM_write_PUBKEY(f, keys[i]);
    if (f != NULL)
        fclose(f);
    return path;
}

static char *
sign_token(const signer_t *s, const char *header, const char *payload)
{
    buf_t t;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    unsigned char sig[1024];
    size_t sig_len = sizeof sig;
    char *out = NULL;

    buf_init(&t, 16384);
    jwt_b64url_encode(&t, header, strlen(header));
    buf_putc(&t, '.');
    jwt_b64url_encode(&t, payload, strlen(payload));
    if (EVP_DigestSignInit(ctx, NULL, EVP_get_digestbyname(s->md), NULL, s->pkey) == 1 &&
        EVP_DigestSign(ctx, sig, &sig_len, (unsigned char *)t.data, t.len) == 1) {
        buf_putc(&t, '.');
        jwt_b64url_encode(&t, sig, sig_len);
        out = arena_strdup(T, t.data);
    }
    buf_release(&t);
    EVP_MD_CTX_free(ctx);
    return out;
}

static char header_buf[512];

static const char *
header_of(const signer_t *s)
{
    snprintf(header_buf, sizeof header_buf, "{\"alg\":\"%s\",\"typ\":\"JWT\"}", s->alg);
    return header_buf;
}

static char payload_buf[1024];

static const char *
payload_with(const char *iss, const char *aud, long long exp, const char *snils_json)
{
    snprintf(payload_buf, sizeof payload_buf,
             "{\"iss\":\"%s\",\"aud\":\"%s\",\"exp\":%lld,\"sub\":\"1000123456\"%s%s}", iss, aud,
             exp, snils_json ? ",\"snils\":" : "", snils_json ? snils_json : "");
    return payload_buf;
}

static const char *
good_payload(void)
{
    return payload_with(ISS, AUD, NOW + 3600, "\"" SNILS "\"");
}

static esia_keys_t *all_keys;

/* The reason a token is refused, or "ok". */
static const char *
verdict(const char *token, esia_identity_t *id)
{
    static char reason[256];
    esia_identity_t scratch;
    kt_error_t err = {0};

    if (token == NULL)
        return "(no token)";
    if (esia_verify(all_keys, &policy, token, strlen(token), NOW, id ? id : &scratch, &err))
        return "ok";
    CHECK_INT(err.code, KT_UNAUTHENTICATED);
    snprintf(reason, sizeof reason, "%s", err.message);
    return reason;
}

static void
setup(void)
{
    EVP_PKEY *pub[3];
    kt_error_t err = {0};

    T = arena_new(16u << 20);
    CHECK(T != NULL && mkdtemp(dir) != NULL);
    CHECK(esia_gost_available());
    gost256 =
        (signer_t){gost_key(NID_id_GostR3410_2012_256, "A"), "GOST3410_2012_256", "md_gost12_256"};
    gost256_other =
        (signer_t){gost_key(NID_id_GostR3410_2012_256, "A"), "GOST3410_2012_256", "md_gost12_256"};
    gost512 =
        (signer_t){gost_key(NID_id_GostR3410_2012_512, "A"), "GOST3410_2012_512", "md_gost12_512"};
    rsa = (signer_t){EVP_RSA_gen(2048), "RS256", "SHA256"};
    CHECK(gost256.pkey && gost256_other.pkey && gost512.pkey && rsa.pkey);
    pub[0] = gost256.pkey;
    pub[1] = gost512.pkey;
    pub[2] = rsa.pkey;
    all_keys = esia_keys_load(write_keys("all.pem", pub, 3), &err);
    CHECK(all_keys != NULL);
    CHECK_INT(esia_keys_count(all_keys), 3);
}

static void
test_gost_256(void)
{
    esia_identity_t id;

    CHECK_STR(verdict(sign_token(&gost256, header_of(&gost256), good_payload()), &id), "ok");
    CHECK_STR(id.snils, SNILS);
    CHECK_STR(id.sub, "1000123456");
    CHECK_INT(id.exp, NOW + 3600);
}

static void
test_gost_512_and_rs256(void)
{
    CHECK_STR(verdict(sign_token(&gost512, header_of(&gost512), good_payload()), NULL), "ok");
    CHECK_STR(verdict(sign_token(&rsa, header_of(&rsa), good_payload()), NULL), "ok");
}

static void
test_snils_forms(void)
{
    esia_identity_t id;
    const char *p = payload_with(ISS, AUD, NOW + 60, "\"112-233-445 95\"");

    CHECK_STR(verdict(sign_token(&gost256, header_of(&gost256), p), &id), "ok");
    CHECK_STR(id.snils, SNILS);
    p = payload_with(ISS, AUD, NOW + 60, NULL);
    CHECK_STR(verdict(sign_token(&gost256, header_of(&gost256), p), NULL), "bad claim snils");
    p = payload_with(ISS, AUD, NOW + 60, "11223344595");
    CHECK_STR(verdict(sign_token(&gost256, header_of(&gost256), p), NULL), "bad claim snils");
    p = payload_with(ISS, AUD, NOW + 60, "\"1122334459\"");
    CHECK_STR(verdict(sign_token(&gost256, header_of(&gost256), p), NULL), "bad claim snils");
    p = payload_with(ISS, AUD, NOW + 60, "\"112-233-445-95\"");
    CHECK_STR(verdict(sign_token(&gost256, header_of(&gost256), p), NULL), "bad claim snils");
}

static void
test_bad_signature(void)
{
    char *t = sign_token(&gost256, header_of(&gost256), good_payload());
    char *last = strrchr(t, '.') + 5;

    *last = *last == 'A' ? 'B' : 'A';
    CHECK_STR(verdict(t, NULL), "bad signature");
    /* Another GOST key, not configured. */
    CHECK_STR(verdict(sign_token(&gost256_other, header_of(&gost256), good_payload()), NULL),
              "bad signature");
    /* The payload changed after signing. */
    t = sign_token(&gost256, header_of(&gost256), good_payload());
    {
        char *forged = sign_token(&gost256, header_of(&gost256),
                                  payload_with(ISS, AUD, NOW + 3600, "\"12345678964\""));
        char *dot1 = strchr(t, '.'), *dot2 = strrchr(t, '.');
        char *fdot1 = strchr(forged, '.'), *fdot2 = strrchr(forged, '.');
        buf_t b;

        buf_init(&b, 16384);
        buf_append(&b, t, (size_t)(dot1 - t));
        buf_append(&b, fdot1, (size_t)(fdot2 - fdot1));
        buf_puts(&b, dot2);
        CHECK_STR(verdict(b.data, NULL), "bad signature");
        buf_release(&b);
    }
}

static void
test_claims(void)
{
    const char *h = header_of(&gost256);

    CHECK_STR(verdict(sign_token(&gost256, h,
                                 payload_with("https://evil/", AUD, NOW + 60, "\"" SNILS "\"")),
                      NULL),
              "bad claim iss");
    CHECK_STR(verdict(sign_token(&gost256, h,
                                 payload_with(ISS, "another-client", NOW + 60, "\"" SNILS "\"")),
                      NULL),
              "bad claim aud");
    /* Expired, within and beyond the leeway. */
    CHECK_STR(verdict(sign_token(&gost256, h,
                                 payload_with(ISS, AUD, NOW - ESIA_LEEWAY + 1, "\"" SNILS "\"")),
                      NULL),
              "ok");
    CHECK_STR(
        verdict(sign_token(&gost256, h, payload_with(ISS, AUD, NOW - ESIA_LEEWAY, "\"" SNILS "\"")),
                NULL),
        "token expired");
    CHECK_STR(
        verdict(sign_token(&gost256, h,
                           payload_with(ISS, AUD, NOW + ESIA_MAX_TTL + 3600, "\"" SNILS "\"")),
                NULL),
        "lifetime over the maximum");
    CHECK_STR(
        verdict(sign_token(&gost256, h,
                           "{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"snils\":\"" SNILS "\"}"),
                NULL),
        "bad claim exp");
    CHECK_STR(
        verdict(sign_token(&gost256, h,
                           "{\"iss\":\"" ISS "\",\"aud\":[\"x\",\"" AUD
                           "\"],\"exp\":1800000600,\"nbf\":1800000300,\"snils\":\"" SNILS "\"}"),
                NULL),
        "token not yet valid");
    CHECK_STR(
        verdict(sign_token(&gost256, h,
                           "{\"iss\":\"" ISS "\",\"aud\":[\"x\",\"" AUD
                           "\"],\"exp\":1800000600,\"nbf\":1800000030,\"snils\":\"" SNILS "\"}"),
                NULL),
        "ok");
}

static char *
unsigned_token(const char *header)
{
    buf_t t;
    const char *p = good_payload();
    char *out;

    buf_init(&t, 8192);
    jwt_b64url_encode(&t, header, strlen(header));
    buf_putc(&t, '.');
    jwt_b64url_encode(&t, p, strlen(p));
    buf_putc(&t, '.');
    out = arena_strdup(T, t.data);
    buf_release(&t);
    return out;
}

static void
test_algorithms_refused(void)
{
    signer_t rsa_as_gost = {rsa.pkey, "GOST3410_2012_256", "SHA256"};
    signer_t gost_as_rs = {gost256.pkey, "RS256", "md_gost12_256"};
    char hs[128];

    CHECK_STR(verdict(unsigned_token("{\"alg\":\"none\"}"), NULL), "algorithm not allowed");
    CHECK_STR(verdict(unsigned_token("{\"alg\":\"HS256\"}"), NULL), "algorithm not allowed");
    CHECK_STR(verdict(unsigned_token("{\"typ\":\"JWT\"}"), NULL), "algorithm not allowed");
    /* Each key admits its own algorithm only. */
    CHECK_STR(verdict(sign_token(&rsa_as_gost, header_of(&rsa_as_gost), good_payload()), NULL),
              "bad signature");
    CHECK_STR(verdict(sign_token(&gost_as_rs, header_of(&gost_as_rs), good_payload()), NULL),
              "bad signature");
    snprintf(hs, sizeof hs, "{\"alg\":\"RS256\",\"kid\":\"%s\"}", esia_key_id(all_keys, 0));
    CHECK_STR(verdict(sign_token(&rsa, hs, good_payload()), NULL), "algorithm not allowed");
    CHECK_STR(
        verdict(sign_token(&gost256, "{\"alg\":\"GOST3410_2012_256\",\"jwk\":{}}", good_payload()),
                NULL),
        "unsupported header parameter");
}

static void
test_kid(void)
{
    char h[160];

    snprintf(h, sizeof h, "{\"alg\":\"GOST3410_2012_256\",\"kid\":\"%s\"}",
             esia_key_id(all_keys, 0));
    CHECK_STR(verdict(sign_token(&gost256, h, good_payload()), NULL), "ok");
    CHECK_STR(verdict(sign_token(&gost256, "{\"alg\":\"GOST3410_2012_256\",\"kid\":\"nope\"}",
                                 good_payload()),
                      NULL),
              "unknown key id");
    CHECK_INT(strlen(esia_key_id(all_keys, 2)), ESIA_KID_LEN);
    CHECK_STR(esia_key_id(all_keys, 3), "");
}

static void
test_malformed(void)
{
    char big[ESIA_TOKEN_MAX + 2];

    CHECK_STR(verdict("", NULL), "malformed token");
    CHECK_STR(verdict("a.b", NULL), "malformed token");
    CHECK_STR(verdict("a.b.c.d", NULL), "malformed token");
    memset(big, 'A', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    CHECK_STR(verdict(big, NULL), "token too long");
}

static void
test_key_files(void)
{
    kt_error_t err = {0};
    EVP_PKEY *small = EVP_RSA_gen(1024);
    char path[256];
    FILE *f;

    CHECK(esia_keys_load(write_keys("small.pem", &small, 1), &err) == NULL);
    CHECK_INT(err.code, KT_INTERNAL);
    CHECK(esia_keys_load(write_keys("none.pem", NULL, 0), &err) == NULL);
    CHECK(esia_keys_load("/nonexistent/esia.pem", &err) == NULL);
    snprintf(path, sizeof path, "%s/private.pem", dir);
    f = fopen(path, "w");
    PEM_write_PrivateKey(f, gost256.pkey, NULL, NULL, 0, NULL, NULL);
    fclose(f);
    CHECK(esia_keys_load(path, &err) == NULL); /* a private key is not what this file holds */
    EVP_PKEY_free(small);
}

static void
test_certificate(void)
{
    X509 *cert = X509_new();
    X509_NAME *name;
    kt_error_t err = {0};
    esia_keys_t *keys;
    char path[256];
    FILE *f;

    X509_set_version(cert, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
    X509_gmtime_adj(X509_getm_notBefore(cert), 0);
    X509_gmtime_adj(X509_getm_notAfter(cert), 3600);
    X509_set_pubkey(cert, gost256.pkey);
    name = X509_get_subject_name(cert);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (unsigned char *)"ESIA test", -1, -1, 0);
    X509_set_issuer_name(cert, name);
    CHECK(X509_sign(cert, gost256.pkey, EVP_get_digestbyname("md_gost12_256")) > 0);
    snprintf(path, sizeof path, "%s/cert.pem", dir);
    f = fopen(path, "w");
    PEM_write_X509(f, cert);
    fclose(f);
    keys = esia_keys_load(path, &err);
    CHECK(keys != NULL);
    CHECK_STR(esia_key_id(keys, 0), esia_key_id(all_keys, 0)); /* the same public key */
    esia_keys_free(keys);
    X509_free(cert);
}

int
main(void)
{
    CHECK_RUN(setup);
    CHECK_RUN(test_gost_256);
    CHECK_RUN(test_gost_512_and_rs256);
    CHECK_RUN(test_snils_forms);
    CHECK_RUN(test_bad_signature);
    CHECK_RUN(test_claims);
    CHECK_RUN(test_algorithms_refused);
    CHECK_RUN(test_kid);
    CHECK_RUN(test_malformed);
    CHECK_RUN(test_key_files);
    CHECK_RUN(test_certificate);
    esia_keys_free(all_keys);
    EVP_PKEY_free(gost256.pkey);
    EVP_PKEY_free(gost256_other.pkey);
    EVP_PKEY_free(gost512.pkey);
    EVP_PKEY_free(rsa.pkey);
    arena_free(T);
    {
        char cmd[128];
        snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
        CHECK(system(cmd) == 0);
    }
    CHECK_MAIN_END();
}
