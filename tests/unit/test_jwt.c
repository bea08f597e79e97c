/*
 * test_jwt: signing and verification of bearer tokens.
 *
 * Keys are generated afresh for each run and written to temporary PEM files,
 * so no key material is committed. Hostile tokens are built here with a small
 * independent encoder and signer (OpenSSL's own base64 and ECDSA_SIG), which
 * also proves that jwt.c speaks standard JWS rather than only to itself.
 *
 * Every header of our two algorithms written as a literal here gets the kid
 * of the "a" key of its algorithm, and every payload the iss, aud and jti the
 * test policy demands, unless the literal names them itself (complete()): so
 * each case below still tests the one thing it names.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>

#include "auth/jwt.h"
#include "core/arena.h"
#include "check.h"

#define NOW    INT64_C(1700000000)
#define HDR_ED "{\"alg\":\"EdDSA\",\"typ\":\"JWT\"}"
#define HDR_EC "{\"alg\":\"ES256\",\"typ\":\"JWT\"}"
#define ORG    "1027700132195"
#define PAYLOAD_OK                                                                                 \
    "{\"sub\":\"school-1\",\"role\":\"school\",\"org\":\"" ORG "\",\"scope\":\"read health\","     \
    "\"iat\":1699990000,\"exp\":1700003600}"

typedef enum { SIG_RAW, SIG_DER, SIG_NONE } sig_mode_t;

typedef struct {
    EVP_PKEY *pkey;
    char priv_path[32];
    char pub_path[32];
    jwt_key_t *pub; /* loaded from pub_path for the key's natural alg */
    jwt_key_t *priv;
} test_key_t;

#define ISS "kt-test-issuer"
#define AUD "kt-test-api"
/* Loose enough for the literal payloads' exp of 1800000000. */
static const jwt_policy_t policy = {ISS, AUD, INT64_C(200000000)};

/* Test-lifetime memory: every forged token lives here and goes at the end. */
static arena_t *T;
static test_key_t ed_a, ed_b, ec_a, ec_b, ec_p384;
static char garbage_path[32];

/* ---- Fixtures ------------------------------------------------------------ */

static void
write_pem(char *path, EVP_PKEY *pkey, bool private_key)
{
    int fd;
    FILE *f;

    memcpy(path, "/tmp/kt_jwt_XXXXXX", sizeof "/tmp/kt_jwt_XXXXXX");
    fd = mkstemp(path);
    f = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (f == NULL) {
        perror("mkstemp");
        exit(2);
    }
    if (private_key)
        PEM_write_PrivateKey(f, pkey, NULL, NULL, 0, NULL, NULL);
    else
        PEM_write_PUBKEY(f, pkey);
    fclose(f);
}

static void
key_setup(test_key_t *k, EVP_PKEY *pkey, jwt_alg_t alg)
{
    if (pkey == NULL) {
        fprintf(stderr, "key generation failed\n");
        exit(2);
    }
    k->pkey = pkey;
    write_pem(k->priv_path, pkey, true);
    write_pem(k->pub_path, pkey, false);
    if (alg != JWT_ALG__MAX) {
        k->pub = jwt_key_load_public(k->pub_path, alg, NULL);
        k->priv = jwt_key_load_private(k->priv_path, alg, NULL);
    }
}

static void
key_teardown(test_key_t *k)
{
    jwt_key_free(k->pub);
    jwt_key_free(k->priv);
    EVP_PKEY_free(k->pkey);
    unlink(k->priv_path);
    unlink(k->pub_path);
}

static void
fixtures_setup(void)
{
    FILE *f;

    T = arena_new(0);
    key_setup(&ed_a, EVP_PKEY_Q_keygen(NULL, NULL, "ED25519"), JWT_ALG_EDDSA);
    key_setup(&ed_b, EVP_PKEY_Q_keygen(NULL, NULL, "ED25519"), JWT_ALG_EDDSA);
    key_setup(&ec_a, EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256"), JWT_ALG_ES256);
    key_setup(&ec_b, EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256"), JWT_ALG_ES256);
    key_setup(&ec_p384, EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384"), JWT_ALG__MAX);
    memcpy(garbage_path, "/tmp/kt_jwt_XXXXXX", sizeof "/tmp/kt_jwt_XXXXXX");
    f = fdopen(mkstemp(garbage_path), "w");
    fputs("-----BEGIN PUBLIC KEY-----\nnot base64 at all\n-----END PUBLIC KEY-----\n", f);
    fclose(f);
}

static void
fixtures_teardown(void)
{
    key_teardown(&ed_a);
    key_teardown(&ed_b);
    key_teardown(&ec_a);
    key_teardown(&ec_b);
    key_teardown(&ec_p384);
    unlink(garbage_path);
    arena_free(T);
}

/* ---- An independent token builder ---------------------------------------- */

/* base64url through OpenSSL's standard base64, translated; pad keeps the '='. */
static char *
b64(const void *data, size_t len, bool pad)
{
    char *out = arena_alloc(T, len / 3 * 4 + 8);
    int n = EVP_EncodeBlock((unsigned char *)out, data, (int)len);

    for (int i = 0; i < n; i++) {
        if (out[i] == '+')
            out[i] = '-';
        else if (out[i] == '/')
            out[i] = '_';
        else if (out[i] == '=' && !pad)
            out[i] = '\0';
    }
    return out;
}

/* "{" rest → "{" add rest, unless the text names `name` already. */
static const char *
add_member(const char *text, const char *name, const char *add)
{
    if (text[0] != '{' || strstr(text, name) != NULL)
        return text;
    return arena_printf(T, "{%s%s%s", add, text[1] == '}' ? "" : ",", text + 1);
}

/* The members every token must carry now, added to a literal that lacks them.
 * Each addition is a whole number of base64 groups (a multiple of 3 bytes,
 * hence the two spaces), so the literal keeps the padding bits it was
 * written with (test_malformed_base64). */
static const char *
complete(const char *text)
{
    if (strncmp(text, "{\"alg\":\"EdDSA\"", 14) == 0)
        return add_member(text, "\"kid\"",
                          arena_printf(T, "\"kid\":\"%s\"  ", jwt_key_id(ed_a.pub)));
    if (strncmp(text, "{\"alg\":\"ES256\"", 14) == 0)
        return add_member(text, "\"kid\"",
                          arena_printf(T, "\"kid\":\"%s\"  ", jwt_key_id(ec_a.pub)));
    if (strstr(text, "\"alg\"") != NULL)
        return text;
    text = add_member(text, "\"jti\"", "\"jti\":\"t-123\"");
    text = add_member(text, "\"aud\"", "\"aud\":\"" AUD "\"");
    return add_member(text, "\"iss\"", "\"iss\":\"" ISS "\"");
}

static char *
b64s(const char *text)
{
    text = complete(text);
    return b64(text, strlen(text), false);
}

/* Decodes base64url with OpenSSL (after restoring the padding); returns the length. */
static size_t
unb64(const char *in, size_t len, unsigned char *out)
{
    char *std = arena_alloc(T, len + 4);
    size_t n = 0;
    int got;

    for (size_t i = 0; i < len; i++)
        std[n++] = in[i] == '-' ? '+' : in[i] == '_' ? '/' : in[i];
    while (n % 4 != 0)
        std[n++] = '=';
    got = EVP_DecodeBlock(out, (unsigned char *)std, (int)n);
    return got < 0 ? 0 : (size_t)got - (n - len);
}

/* Signs input; ES256 as JWS r||s (SIG_RAW) or as OpenSSL's DER (SIG_DER). */
static size_t
test_sign(EVP_PKEY *pkey, const char *input, sig_mode_t mode, unsigned char *out)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    bool ec = EVP_PKEY_is_a(pkey, "EC");
    unsigned char der[128];
    size_t der_len = sizeof der;
    const unsigned char *p = der;
    const BIGNUM *r, *s;
    ECDSA_SIG *sig;

    EVP_DigestSignInit(ctx, NULL, ec ? EVP_sha256() : NULL, NULL, pkey);
    EVP_DigestSign(ctx, der, &der_len, (const unsigned char *)input, strlen(input));
    EVP_MD_CTX_free(ctx);
    if (!ec || mode == SIG_DER) {
        memcpy(out, der, der_len);
        return der_len;
    }
    sig = d2i_ECDSA_SIG(NULL, &p, (long)der_len);
    ECDSA_SIG_get0(sig, &r, &s);
    BN_bn2binpad(r, out, 32);
    BN_bn2binpad(s, out + 32, 32);
    ECDSA_SIG_free(sig);
    return 64;
}

/* h64 '.' p64 '.' signature over the first two, exactly as given. */
static char *
assemble(const char *h64, const char *p64, EVP_PKEY *pkey, sig_mode_t mode)
{
    char *input = arena_printf(T, "%s.%s", h64, p64);
    unsigned char sig[128];
    size_t sig_len = 0;

    if (mode != SIG_NONE)
        sig_len = test_sign(pkey, input, mode, sig);
    return arena_printf(T, "%s.%s", input, b64(sig, sig_len, false));
}

static char *
forge(const char *header, const char *payload, EVP_PKEY *pkey)
{
    return assemble(b64s(header), b64s(payload), pkey, SIG_RAW);
}

static char *
forge_ed(const char *payload)
{
    return forge(HDR_ED, payload, ed_a.pkey);
}

/* ---- Verification helpers ------------------------------------------------ */

static bool
verify(const jwt_key_t *key, const char *token, jwt_claims_t *c)
{
    return jwt_verify(key, &policy, token, strlen(token), NOW, c, NULL);
}

/*
 * The reason a token is refused, or "accepted". Every refusal must be the
 * same 401 of the auth domain and leave the claims empty.
 */
static const char *
why(const jwt_key_t *key, const char *token)
{
    kt_error_t err;
    jwt_claims_t c;

    memset(&err, 0, sizeof err);
    memset(&c, 0x5a, sizeof c);
    if (jwt_verify(key, &policy, token, strlen(token), NOW, &c, &err))
        return "accepted";
    CHECK_INT(err.domain, KT_DOMAIN_AUTH);
    CHECK_INT(err.code, KT_UNAUTHENTICATED);
    CHECK_INT(err.status, 401);
    CHECK(strstr(err.message, token) == NULL || token[0] == '\0');
    CHECK_INT(c.role, ROLE_NONE);
    CHECK_STR(c.sub, "");
    CHECK_INT(c.exp, 0);
    return arena_strdup(T, err.message);
}

static const char *
why_ed(const char *payload)
{
    return why(ed_a.pub, forge_ed(payload));
}

static jwt_claims_t
school_claims(void)
{
    jwt_claims_t c;

    memset(&c, 0, sizeof c);
    memcpy(c.sub, "school-1", sizeof "school-1");
    c.role = ROLE_SCHOOL;
    memcpy(c.org, ORG, sizeof ORG);
    c.scopes = SCOPE_HEALTH;
    memcpy(c.iss, ISS, sizeof ISS);
    memcpy(c.aud, AUD, sizeof AUD);
    memcpy(c.jti, "jti-1", sizeof "jti-1");
    c.iat = NOW - 10;
    c.exp = NOW + 3600;
    return c;
}

/* ---- Round trips --------------------------------------------------------- */

static void
check_round_trip(const test_key_t *k)
{
    jwt_claims_t in = school_claims(), out;
    kt_error_t err;
    char *token = jwt_sign(k->priv, &in, &err);
    const char *header, *h64;

    CHECK(token != NULL);
    if (token == NULL)
        return;
    CHECK(jwt_verify(k->pub, &policy, token, strlen(token), NOW, &out, &err));
    CHECK_STR(out.sub, "school-1");
    CHECK_INT(out.role, ROLE_SCHOOL);
    CHECK_STR(out.org, ORG);
    CHECK_INT(out.scopes, SCOPE_HEALTH);
    CHECK_INT(out.iat, NOW - 10);
    CHECK_INT(out.exp, NOW + 3600);
    /* A private key verifies too, and the header is what the contract says. */
    CHECK(verify(k->priv, token, &out));
    header = arena_printf(T, "{\"alg\":\"%s\",\"typ\":\"JWT\",\"kid\":\"%s\"}",
                          k == &ed_a ? "EdDSA" : "ES256", jwt_key_id(k->pub));
    h64 = b64(header, strlen(header), false);
    CHECK_INT(strncmp(token, h64, strlen(h64)), 0);
    CHECK_INT(token[strlen(h64)], '.');
    free(token);
}

static void
test_round_trip_eddsa(void)
{
    check_round_trip(&ed_a);
}

static void
test_round_trip_es256(void)
{
    check_round_trip(&ec_a);
}

/* A public key file of several keys (a rotation's overlap): a token of each
 * verifies; once a key is left out, its tokens are "unknown key id". */
static void
test_key_rotation_overlap(void)
{
    kt_error_t err;
    jwt_key_t *old_key = jwt_key_generate(JWT_ALG_EDDSA, &err);
    jwt_key_t *new_key = jwt_key_generate(JWT_ALG_EDDSA, &err);
    jwt_key_t *both = NULL, *only_new = NULL;
    jwt_claims_t in = school_claims(), out;
    char *old_token = NULL, *new_token = NULL;
    buf_t pem;

    buf_init(&pem, 0);
    CHECK(old_key != NULL && new_key != NULL);
    if (old_key == NULL || new_key == NULL)
        goto done;
    CHECK(strcmp(jwt_key_id(old_key), jwt_key_id(new_key)) != 0);
    CHECK(jwt_key_pem(new_key, false, &pem));
    only_new = jwt_key_parse_public(pem.data, pem.len, JWT_ALG_EDDSA, &err);
    CHECK(buf_puts(&pem, "# kid old replaced-at 1700000000\n")); /* text between is skipped */
    CHECK(jwt_key_pem(old_key, false, &pem));
    both = jwt_key_parse_public(pem.data, pem.len, JWT_ALG_EDDSA, &err);
    CHECK(both != NULL && only_new != NULL);
    CHECK_STR(jwt_key_id(both), jwt_key_id(new_key)); /* the first is the newest */
    CHECK(jwt_key_next(both) != NULL && jwt_key_next(jwt_key_next(both)) == NULL);
    old_token = jwt_sign(old_key, &in, &err);
    new_token = jwt_sign(new_key, &in, &err);
    CHECK(old_token != NULL && new_token != NULL);
    if (both == NULL || only_new == NULL || old_token == NULL || new_token == NULL)
        goto done;
    CHECK(jwt_verify(both, &policy, old_token, strlen(old_token), NOW, &out, &err));
    CHECK(jwt_verify(both, &policy, new_token, strlen(new_token), NOW, &out, &err));
    CHECK(jwt_verify(only_new, &policy, new_token, strlen(new_token), NOW, &out, &err));
    CHECK(!jwt_verify(only_new, &policy, old_token, strlen(old_token), NOW, &out, &err));
    CHECK_STR(err.message, "unknown key id");
    /* A public key signs nothing; a private part is written only for a private key. */
    CHECK(!jwt_key_pem(both, true, &pem));
done:
    free(old_token);
    free(new_token);
    jwt_key_free(both);
    jwt_key_free(only_new);
    jwt_key_free(old_key);
    jwt_key_free(new_key);
    buf_release(&pem);
}

static void
test_round_trip_minimal(void)
{
    jwt_claims_t in, out;
    char *token;

    memset(&in, 0, sizeof in);
    memcpy(in.sub, "op", 3);
    memcpy(in.iss, ISS, sizeof ISS);
    memcpy(in.aud, AUD, sizeof AUD);
    memcpy(in.jti, "j", 2);
    in.role = ROLE_ADMIN;
    in.exp = NOW + 1;
    token = jwt_sign(ed_a.priv, &in, NULL);
    CHECK(token != NULL && verify(ed_a.pub, token, &out));
    CHECK_STR(out.sub, "op");
    CHECK_INT(out.role, ROLE_ADMIN);
    CHECK_STR(out.org, "");
    CHECK_INT(out.scopes, 0);
    CHECK_INT(out.iat, 0);
    free(token);
}

/* Tokens from another signer verify, and ours verify with plain OpenSSL. */
static void
test_interop(void)
{
    jwt_claims_t c = school_claims();
    char *token = jwt_sign(ec_a.priv, &c, NULL);
    const char *dot = token ? strrchr(token, '.') : NULL;
    unsigned char raw[128], *der = NULL;
    ECDSA_SIG *sig = ECDSA_SIG_new();
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    int der_len;

    CHECK_STR(why(ed_a.pub, forge(HDR_ED, PAYLOAD_OK, ed_a.pkey)), "accepted");
    CHECK_STR(why(ec_a.pub, forge(HDR_EC, PAYLOAD_OK, ec_a.pkey)), "accepted");
    CHECK(dot != NULL);
    if (dot == NULL)
        goto done;
    CHECK_INT(unb64(dot + 1, strlen(dot + 1), raw), 64);
    ECDSA_SIG_set0(sig, BN_bin2bn(raw, 32, NULL), BN_bin2bn(raw + 32, 32, NULL));
    der_len = i2d_ECDSA_SIG(sig, &der);
    EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL, ec_a.pkey);
    CHECK_INT(EVP_DigestVerify(ctx, der, (size_t)der_len, (const unsigned char *)token,
                               (size_t)(dot - token)),
              1);
done:
    OPENSSL_free(der);
    ECDSA_SIG_free(sig);
    EVP_MD_CTX_free(ctx);
    free(token);
}

/* ---- Expiry and claims --------------------------------------------------- */

static void
test_expired(void)
{
    CHECK_STR(why_ed("{\"sub\":\"a\",\"role\":\"region\",\"exp\":1700000000}"), "token expired");
    CHECK_STR(why_ed("{\"sub\":\"a\",\"role\":\"region\",\"exp\":1600000000}"), "token expired");
    CHECK_STR(why_ed("{\"sub\":\"a\",\"role\":\"region\",\"exp\":-1}"), "token expired");
    CHECK_STR(why_ed("{\"sub\":\"a\",\"role\":\"region\",\"exp\":1700000001}"), "accepted");
}

static void
test_exp_missing_or_bad(void)
{
    CHECK_STR(why_ed("{\"sub\":\"a\",\"role\":\"region\"}"), "bad claim exp");
    CHECK_STR(why_ed("{\"sub\":\"a\",\"role\":\"region\",\"exp\":\"1800000000\"}"),
              "bad claim exp");
    CHECK_STR(why_ed("{\"sub\":\"a\",\"role\":\"region\",\"exp\":1.8e9}"), "bad claim exp");
    CHECK_STR(why_ed("{\"sub\":\"a\",\"role\":\"region\",\"exp\":1800000000.5}"), "bad claim exp");
    CHECK_STR(why_ed("{\"sub\":\"a\",\"role\":\"region\",\"exp\":null}"), "bad claim exp");
    CHECK_STR(why_ed("{\"sub\":\"a\",\"role\":\"region\",\"exp\":99999999999999999999}"),
              "bad claim exp");
}

static void
test_not_before(void)
{
    CHECK_STR(why_ed("{\"sub\":\"a\",\"role\":\"region\",\"nbf\":1700000001,\"exp\":1800000000}"),
              "token not yet valid");
    CHECK_STR(why_ed("{\"sub\":\"a\",\"role\":\"region\",\"nbf\":1700000000,\"exp\":1800000000}"),
              "accepted");
}

static void
test_role_and_org(void)
{
    CHECK_STR(why_ed("{\"sub\":\"a\",\"role\":\"school\",\"exp\":1800000000}"),
              "school token without org");
    CHECK_STR(why_ed("{\"sub\":\"a\",\"role\":\"school\",\"org\":\"\",\"exp\":1800000000}"),
              "school token without org");
    CHECK_STR(why_ed("{\"sub\":\"a\",\"role\":\"teacher\",\"exp\":1800000000}"), "unknown role");
    CHECK_STR(why_ed("{\"sub\":\"a\",\"role\":\"Region\",\"exp\":1800000000}"), "unknown role");
    CHECK_STR(why_ed("{\"sub\":\"a\",\"role\":\"\",\"exp\":1800000000}"), "unknown role");
    CHECK_STR(why_ed("{\"sub\":\"a\",\"exp\":1800000000}"), "bad claim role");
    CHECK_STR(why_ed("{\"sub\":\"a\",\"role\":[\"region\"],\"exp\":1800000000}"), "bad claim role");
    CHECK_STR(why_ed("{\"sub\":\"a\",\"role\":\"school\",\"org\":\"102770013219\","
                     "\"exp\":1800000000}"),
              "bad claim org");
    CHECK_STR(why_ed("{\"sub\":\"a\",\"role\":\"school\",\"org\":\"102770013219X\","
                     "\"exp\":1800000000}"),
              "bad claim org");
    CHECK_STR(why_ed("{\"sub\":\"a\",\"role\":\"school\",\"org\":\"304500116000157\","
                     "\"exp\":1800000000}"),
              "bad claim org");
    CHECK_STR(why_ed("{\"sub\":\"a\",\"role\":\"school\",\"org\":1027700132195,"
                     "\"exp\":1800000000}"),
              "bad claim org");
    /* org is optional for other roles, but must still be an ОГРН when present. */
    CHECK_STR(
        why_ed("{\"sub\":\"a\",\"role\":\"ministry\",\"org\":\"" ORG "\",\"exp\":1800000000}"),
        "accepted");
    CHECK_STR(why_ed("{\"sub\":\"a\",\"role\":\"ministry\",\"org\":\"x\",\"exp\":1800000000}"),
              "bad claim org");
}

static void
test_subject(void)
{
    char sub[300];
    char *payload;

    CHECK_STR(why_ed("{\"role\":\"region\",\"exp\":1800000000}"), "bad claim sub");
    CHECK_STR(why_ed("{\"sub\":\"\",\"role\":\"region\",\"exp\":1800000000}"), "bad claim sub");
    CHECK_STR(why_ed("{\"sub\":7,\"role\":\"region\",\"exp\":1800000000}"), "bad claim sub");
    memset(sub, 'x', sizeof sub);
    sub[255] = '\0';
    payload = arena_printf(T, "{\"sub\":\"%s\",\"role\":\"region\",\"exp\":1800000000}", sub);
    CHECK_STR(why_ed(payload), "accepted");
    sub[255] = 'x';
    sub[256] = '\0';
    payload = arena_printf(T, "{\"sub\":\"%s\",\"role\":\"region\",\"exp\":1800000000}", sub);
    CHECK_STR(why_ed(payload), "bad claim sub");
}

static unsigned
scopes_of(const char *scope_json)
{
    jwt_claims_t c;
    char *payload = arena_printf(
        T, "{\"sub\":\"a\",\"role\":\"ministry\",\"scope\":%s,\"exp\":1800000000}", scope_json);

    if (!verify(ed_a.pub, forge_ed(payload), &c))
        return 0xdead;
    return c.scopes;
}

static void
test_scopes(void)
{
    CHECK_INT(scopes_of("\"health\""), SCOPE_HEALTH);
    CHECK_INT(scopes_of("\"read  health write\""), SCOPE_HEALTH);
    CHECK_INT(scopes_of("\"healthy read\""), 0);
    CHECK_INT(scopes_of("\"HEALTH\""), 0);
    CHECK_INT(scopes_of("\"\""), 0);
    CHECK_INT(scopes_of("[\"health\"]"), 0xdead);
    CHECK_STR(why_ed("{\"sub\":\"a\",\"role\":\"region\",\"iat\":\"now\",\"exp\":1800000000}"),
              "bad claim iat");
}

static role_t
role_of(const char *role, const char *scope)
{
    jwt_claims_t c;
    char *payload = arena_printf(
        T, "{\"sub\":\"a\",\"role\":\"%s\",\"scope\":\"%s\",\"exp\":1800000000}", role, scope);

    if (!verify(ed_a.pub, forge_ed(payload), &c))
        return ROLE__MAX;
    return c.role;
}

/* The ministry split (docs/security.md, "Migration of ministry tokens"): a
 * token minted before it says "ministry" and keeps working. */
static void
test_ministry_roles(void)
{
    CHECK_INT(role_of("ministry", ""), ROLE_MINISTRY);
    CHECK_INT(role_of("ministry", "health"), ROLE_MINISTRY_HEALTH);
    CHECK_INT(role_of("ministry_education", "health"), ROLE_MINISTRY);
    CHECK_INT(role_of("ministry_health", ""), ROLE_MINISTRY_HEALTH);
    CHECK_INT(role_of("portal", ""), ROLE_PORTAL);
}

/* ---- Signatures and algorithms ------------------------------------------- */

static char *
flip_char(const char *token, size_t at)
{
    char *t = arena_strdup(T, token);

    t[at] = t[at] == 'A' ? 'B' : 'A';
    return t;
}

static void
test_bad_signature(void)
{
    const char *ed = forge_ed(PAYLOAD_OK);
    const char *ec = forge(HDR_EC, PAYLOAD_OK, ec_a.pkey);
    size_t ed_sig = (size_t)(strrchr(ed, '.') - ed) + 1;
    size_t ec_sig = (size_t)(strrchr(ec, '.') - ec) + 1;

    CHECK_STR(why(ed_a.pub, flip_char(ed, ed_sig + 10)), "bad signature");
    CHECK_STR(why(ec_a.pub, flip_char(ec, ec_sig + 10)), "bad signature");
    /* A changed claim breaks the signature before the claim is ever read. */
    CHECK_STR(why(ed_a.pub, flip_char(ed, (size_t)(strchr(ed, '.') - ed) + 10)), "bad signature");
    CHECK_STR(why(ec_a.pub, flip_char(ec, (size_t)(strchr(ec, '.') - ec) + 10)), "bad signature");
}

static void
test_wrong_key(void)
{
    CHECK_STR(why(ed_a.pub, forge(HDR_ED, PAYLOAD_OK, ed_b.pkey)), "bad signature");
    CHECK_STR(why(ec_a.pub, forge(HDR_EC, PAYLOAD_OK, ec_b.pkey)), "bad signature");
}

static void
test_signature_length(void)
{
    const char *h64 = b64s(HDR_EC), *p64 = b64s(PAYLOAD_OK);
    const char *der = assemble(h64, p64, ec_a.pkey, SIG_DER);
    const char *good = forge(HDR_EC, PAYLOAD_OK, ec_a.pkey);
    char *short_sig = arena_strdup(T, good);

    /* ECDSA in DER (70-72 bytes) is what naive implementations send; JWS forbids it. */
    CHECK_STR(why(ec_a.pub, der), "bad signature");
    /* 86 characters carry 64 bytes; 84 carry 63. */
    short_sig[strlen(short_sig) - 2] = '\0';
    CHECK_STR(why(ec_a.pub, short_sig), "bad signature");
    /* 66 bytes whose first 64 are the genuine signature: the length alone must refuse it. */
    CHECK_STR(why(ec_a.pub, arena_printf(T, "%sAA", good)), "bad signature");
    CHECK_STR(why(ec_a.pub, arena_printf(T, "%sAAA", good)), "bad signature");
    CHECK_STR(why(ed_a.pub, assemble(b64s(HDR_ED), p64, NULL, SIG_NONE)), "bad signature");
}

static void
test_alg_none(void)
{
    const char *p64 = b64s(PAYLOAD_OK);

    CHECK_STR(
        why(ed_a.pub, assemble(b64s("{\"alg\":\"none\",\"typ\":\"JWT\"}"), p64, NULL, SIG_NONE)),
        "algorithm not allowed");
    CHECK_STR(why(ec_a.pub, assemble(b64s("{\"alg\":\"none\"}"), p64, NULL, SIG_NONE)),
              "algorithm not allowed");
    CHECK_STR(why(ed_a.pub, assemble(b64s("{\"alg\":\"None\"}"), p64, NULL, SIG_NONE)),
              "algorithm not allowed");
}

static void
test_alg_hs256(void)
{
    /* The classic confusion: an HMAC keyed with the public key's PEM text. */
    const char *h64 = b64s("{\"alg\":\"HS256\",\"typ\":\"JWT\"}");
    const char *input = arena_printf(T, "%s.%s", h64, b64s(PAYLOAD_OK));
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned mac_len = 0;
    FILE *f = fopen(ed_a.pub_path, "r");
    char pem[512];
    size_t pem_len = fread(pem, 1, sizeof pem, f);

    fclose(f);
    HMAC(EVP_sha256(), pem, (int)pem_len, (const unsigned char *)input, strlen(input), mac,
         &mac_len);
    CHECK_STR(why(ed_a.pub, arena_printf(T, "%s.%s", input, b64(mac, mac_len, false))),
              "algorithm not allowed");
}

static void
test_alg_mismatch(void)
{
    /* A genuine ES256 token is still refused by an EdDSA verifier, and back. */
    CHECK_STR(why(ed_a.pub, forge(HDR_EC, PAYLOAD_OK, ec_a.pkey)), "algorithm not allowed");
    CHECK_STR(why(ec_a.pub, forge(HDR_ED, PAYLOAD_OK, ed_a.pkey)), "algorithm not allowed");
    CHECK_STR(why(ed_a.pub, forge("{\"alg\":\"eddsa\"}", PAYLOAD_OK, ed_a.pkey)),
              "algorithm not allowed");
    CHECK_STR(why(ed_a.pub, forge("{\"alg\":\"Ed25519\"}", PAYLOAD_OK, ed_a.pkey)),
              "algorithm not allowed");
    CHECK_STR(why(ed_a.pub, forge("{\"alg\":\"EdDSA \"}", PAYLOAD_OK, ed_a.pkey)),
              "algorithm not allowed");
    CHECK_STR(why(ed_a.pub, forge("{\"typ\":\"JWT\"}", PAYLOAD_OK, ed_a.pkey)),
              "algorithm not allowed");
    CHECK_STR(why(ed_a.pub, forge("{\"alg\":null}", PAYLOAD_OK, ed_a.pkey)),
              "algorithm not allowed");
}

static void
test_header_parameters(void)
{
    CHECK_STR(why(ed_a.pub, forge("{\"alg\":\"EdDSA\"}", PAYLOAD_OK, ed_a.pkey)), "accepted");
    CHECK_STR(why(ed_a.pub, forge("{\"alg\":\"EdDSA\",\"kid\":\"k1\"}", PAYLOAD_OK, ed_a.pkey)),
              "unknown key id");
    CHECK_STR(why(ed_a.pub, forge("{\"alg\":\"EdDSA\",\"typ\":\"jwt\"}", PAYLOAD_OK, ed_a.pkey)),
              "malformed token");
    CHECK_STR(why(ed_a.pub, forge("{\"alg\":\"EdDSA\",\"crit\":[\"exp\"]}", PAYLOAD_OK, ed_a.pkey)),
              "unsupported header parameter");
    CHECK_STR(
        why(ed_a.pub, forge("{\"alg\":\"EdDSA\",\"jku\":\"https://evil\"}", PAYLOAD_OK, ed_a.pkey)),
        "unsupported header parameter");
    CHECK_STR(why(ed_a.pub, forge("{\"alg\":\"EdDSA\",\"jwk\":{}}", PAYLOAD_OK, ed_a.pkey)),
              "unsupported header parameter");
    /* A strict parser refuses a second "alg" instead of picking one of them. */
    CHECK_STR(why(ed_a.pub, forge("{\"alg\":\"EdDSA\",\"alg\":\"none\"}", PAYLOAD_OK, ed_a.pkey)),
              "malformed token");
}

/* ---- Structure ----------------------------------------------------------- */

static void
test_malformed_structure(void)
{
    const char *good = forge_ed(PAYLOAD_OK);

    CHECK_STR(why(ed_a.pub, ""), "malformed token");
    CHECK_STR(why(ed_a.pub, "abcdef"), "malformed token");
    CHECK_STR(why(ed_a.pub, ".."), "malformed token");
    CHECK_STR(why(ed_a.pub, strchr(good, '.') + 1), "malformed token");
    CHECK_STR(why(ed_a.pub, arena_printf(T, "%s.", good)), "malformed token");
    CHECK_STR(why(ed_a.pub, arena_printf(T, "%s.AAAA", good)), "malformed token");
    CHECK_STR(why(ed_a.pub, arena_printf(T, "x%s", good)), "malformed token");
    CHECK_STR(why(ed_a.pub, arena_printf(T, " %s", good)), "malformed token");
    CHECK_STR(why(ed_a.pub, arena_printf(T, "Bearer %s", good)), "malformed token");
}

static void
test_malformed_base64(void)
{
    const char *h64 = b64s(HDR_ED);
    /* 44 bytes: the last character of its base64 carries two unused bits. */
    const char *payload = "{\"sub\":\"a\",\"role\":\"region\",\"exp\":1800000000}";
    char *p64 = b64s(payload);
    char *loose = arena_strdup(T, p64);
    size_t n = strlen(loose);

    CHECK(strlen(payload) % 3 != 0);
    CHECK_STR(why(ed_a.pub, assemble(h64, p64, ed_a.pkey, SIG_RAW)), "accepted");
    /* Same bytes, non-zero unused bits: a second spelling that must not pass. */
    loose[n - 1] = (char)(loose[n - 1] + 1);
    CHECK_STR(why(ed_a.pub, assemble(h64, loose, ed_a.pkey, SIG_RAW)), "malformed token");
    CHECK_STR(why(ed_a.pub, assemble(h64, b64(payload, strlen(payload), true), ed_a.pkey, SIG_RAW)),
              "malformed token");
    CHECK_STR(why(ed_a.pub, assemble(arena_printf(T, "%s==", h64), p64, ed_a.pkey, SIG_RAW)),
              "malformed token");
    /* Standard base64's alphabet is not base64url's. */
    CHECK_STR(
        why(ed_a.pub, assemble(b64s("{\"alg\":\"EdDSA\",\"x\":\">>>\"}"), p64, ed_a.pkey, SIG_RAW)),
        "accepted");
    CHECK_STR(why(ed_a.pub, assemble(arena_printf(T, "eyJ+%s", h64 + 4), p64, ed_a.pkey, SIG_RAW)),
              "malformed token");
    CHECK_STR(why(ed_a.pub,
                  assemble(h64, arena_printf(T, "%.10s %s", p64, p64 + 10), ed_a.pkey, SIG_RAW)),
              "malformed token");
    CHECK_STR(why(ed_a.pub, assemble(h64, arena_printf(T, "%sA", p64), ed_a.pkey, SIG_RAW)),
              "malformed token");
    /* One character more than whole groups of four carries no byte at all. */
    CHECK_INT(strlen(h64) % 4, 0);
    CHECK_STR(why(ed_a.pub, assemble(arena_printf(T, "%sA", h64), p64, ed_a.pkey, SIG_RAW)),
              "malformed token");
}

static void
test_malformed_json(void)
{
    CHECK_STR(why(ed_a.pub, forge("not json", PAYLOAD_OK, ed_a.pkey)), "malformed token");
    CHECK_STR(why(ed_a.pub, forge("[\"EdDSA\"]", PAYLOAD_OK, ed_a.pkey)), "malformed token");
    CHECK_STR(why(ed_a.pub, forge("\"EdDSA\"", PAYLOAD_OK, ed_a.pkey)), "malformed token");
    CHECK_STR(why(ed_a.pub, forge(HDR_ED "x", PAYLOAD_OK, ed_a.pkey)), "malformed token");
    CHECK_STR(why(ed_a.pub, forge("", PAYLOAD_OK, ed_a.pkey)), "malformed token");
    CHECK_STR(why_ed("[{\"sub\":\"a\",\"role\":\"region\",\"exp\":1800000000}]"),
              "malformed token");
    CHECK_STR(why_ed("\"sub\""), "malformed token");
    CHECK_STR(why_ed("{\"sub\":\"a\",\"sub\":\"b\",\"role\":\"region\",\"exp\":1800000000}"),
              "malformed token");
    CHECK_STR(why_ed("{\"sub\":\"a\",\"role\":\"region\",\"exp\":1800000000"), "malformed token");
    CHECK_STR(why_ed(""), "malformed token");
}

/* A signed token whose payload carries an ignored claim of pad bytes. */
static char *
token_of_length(size_t pad)
{
    char *filler = arena_alloc(T, pad + 1);
    const char *payload;

    memset(filler, 'p', pad);
    filler[pad] = '\0';
    payload = arena_printf(
        T, "{\"sub\":\"a\",\"role\":\"region\",\"exp\":1800000000,\"pad\":\"%s\"}", filler);
    return forge_ed(payload);
}

static void
test_length_cap(void)
{
    const char *max_token = NULL;
    bool saw_over = false;

    /* Walk across the cap: every length up to it passes, every length over it fails. */
    for (size_t pad = 2700; pad < 2960; pad++) {
        const char *token = token_of_length(pad);
        size_t len = strlen(token);

        if (len <= JWT_MAX_LEN)
            CHECK_STR(why(ed_a.pub, token), "accepted");
        else
            CHECK_STR(why(ed_a.pub, token), "token too long");
        if (len == JWT_MAX_LEN)
            max_token = token;
        saw_over |= len > JWT_MAX_LEN;
    }
    CHECK(max_token != NULL);
    CHECK(saw_over);
    /* Base64 never makes a 4097-byte token of this shape, so make one by hand. */
    if (max_token != NULL)
        CHECK_STR(why(ed_a.pub, arena_printf(T, "A%s", max_token)), "token too long");
    CHECK_STR(why(ed_a.pub, token_of_length(100000)), "token too long");
}

/* The token is a view: bytes past len are not read, a NUL inside is refused. */
static void
test_length_is_honoured(void)
{
    const char *good = forge_ed(PAYLOAD_OK);
    size_t n = strlen(good);
    char *buf = arena_printf(T, "%s.trailing", good);
    jwt_claims_t c;

    CHECK(jwt_verify(ed_a.pub, &policy, buf, n, NOW, &c, NULL));
    CHECK(!jwt_verify(ed_a.pub, &policy, buf, n + 1, NOW, &c, NULL));
    buf[n] = '\0';
    CHECK(!jwt_verify(ed_a.pub, &policy, buf, n + 1, NOW, &c, NULL));
    buf[10] = '\0';
    CHECK(!jwt_verify(ed_a.pub, &policy, buf, n, NOW, &c, NULL));
    CHECK(!jwt_verify(ed_a.pub, &policy, NULL, 0, NOW, &c, NULL));
    CHECK(!jwt_verify(ed_a.pub, NULL, good, n, NOW, &c, NULL));
}

/* ---- Keys and algorithms ------------------------------------------------- */

static void
check_load_fails(jwt_key_t *key, kt_error_t *err)
{
    CHECK(key == NULL);
    CHECK_INT(err->code, KT_INTERNAL);
    CHECK(err->message[0] != '\0');
    jwt_key_free(key);
}

static void
test_key_type_mismatch(void)
{
    kt_error_t err;

    CHECK(ed_a.pub != NULL && ed_a.priv != NULL && ec_a.pub != NULL && ec_a.priv != NULL);
    check_load_fails(jwt_key_load_public(ed_a.pub_path, JWT_ALG_ES256, &err), &err);
    CHECK(strstr(err.message, "not a P-256 key") != NULL);
    check_load_fails(jwt_key_load_private(ed_a.priv_path, JWT_ALG_ES256, &err), &err);
    check_load_fails(jwt_key_load_public(ec_a.pub_path, JWT_ALG_EDDSA, &err), &err);
    CHECK(strstr(err.message, "not an Ed25519 key") != NULL);
    check_load_fails(jwt_key_load_private(ec_a.priv_path, JWT_ALG_EDDSA, &err), &err);
    /* Right family, wrong curve. */
    check_load_fails(jwt_key_load_public(ec_p384.pub_path, JWT_ALG_ES256, &err), &err);
    check_load_fails(jwt_key_load_private(ec_p384.priv_path, JWT_ALG_ES256, &err), &err);
}

static void
test_key_load_errors(void)
{
    kt_error_t err;

    check_load_fails(jwt_key_load_public("/nonexistent/key.pem", JWT_ALG_EDDSA, &err), &err);
    check_load_fails(jwt_key_load_public(garbage_path, JWT_ALG_EDDSA, &err), &err);
    /* The public half is not a private key, and a private PEM is not a PUBKEY. */
    check_load_fails(jwt_key_load_private(ed_a.pub_path, JWT_ALG_EDDSA, &err), &err);
    check_load_fails(jwt_key_load_public(ed_a.priv_path, JWT_ALG_EDDSA, &err), &err);
    check_load_fails(jwt_key_load_public(ed_a.pub_path, JWT_ALG__MAX, &err), &err);
    check_load_fails(jwt_key_load_public(NULL, JWT_ALG_EDDSA, &err), &err);
    CHECK(jwt_key_load_public("/nonexistent/key.pem", JWT_ALG_EDDSA, NULL) == NULL);
    jwt_key_free(NULL);
}

static void
test_alg_names(void)
{
    jwt_alg_t alg;

    CHECK(jwt_alg_parse("EdDSA", &alg) && alg == JWT_ALG_EDDSA);
    CHECK(jwt_alg_parse("ES256", &alg) && alg == JWT_ALG_ES256);
    CHECK(!jwt_alg_parse("none", &alg));
    CHECK(!jwt_alg_parse("HS256", &alg));
    CHECK(!jwt_alg_parse("es256", &alg));
    CHECK(!jwt_alg_parse(NULL, &alg));
    CHECK_STR(jwt_alg_name(JWT_ALG_EDDSA), "EdDSA");
    CHECK_STR(jwt_alg_name(JWT_ALG_ES256), "ES256");
    CHECK(jwt_alg_name(JWT_ALG__MAX) == NULL);
}

static void
check_sign_refused(const jwt_key_t *key, const jwt_claims_t *c, const char *reason)
{
    kt_error_t err;
    char *token = jwt_sign(key, c, &err);

    CHECK(token == NULL);
    CHECK(strstr(err.message, reason) != NULL);
    free(token);
}

/* jwt_sign never mints what jwt_verify would refuse. */
static void
test_sign_refuses(void)
{
    jwt_claims_t c = school_claims();

    check_sign_refused(ed_a.pub, &c, "no signing key");
    check_sign_refused(NULL, &c, "no signing key");
    c.org[0] = '\0';
    check_sign_refused(ed_a.priv, &c, "school token without org");
    c = school_claims();
    memcpy(c.org, "12345", 6);
    check_sign_refused(ed_a.priv, &c, "bad claim org");
    c = school_claims();
    c.role = ROLE_NONE;
    check_sign_refused(ed_a.priv, &c, "unknown role");
    c.role = ROLE__MAX;
    check_sign_refused(ed_a.priv, &c, "unknown role");
    c = school_claims();
    c.sub[0] = '\0';
    check_sign_refused(ed_a.priv, &c, "bad claim sub");
    memset(c.sub, 'x', sizeof c.sub);
    check_sign_refused(ed_a.priv, &c, "bad claim sub");
}

/* ---- Key ids, issuer, audience, token ids, lifetime ---------------------- */

/* RFC 8037 appendix A.3: the thumbprint of the Ed25519 key of A.2. */
static void
test_kid_rfc8037(void)
{
    static const char x_b64[] = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo";
    unsigned char raw[64];
    test_key_t k;

    memset(&k, 0, sizeof k);
    CHECK_INT(unb64(x_b64, strlen(x_b64), raw), 32);
    key_setup(&k, EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, raw, 32), JWT_ALG__MAX);
    k.pub = jwt_key_load_public(k.pub_path, JWT_ALG_EDDSA, NULL);
    CHECK_STR(jwt_key_id(k.pub), "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k");
    key_teardown(&k);
}

/* The P-256 thumbprint, recomputed here from the key's coordinates. */
static void
test_kid_es256(void)
{
    BIGNUM *x = NULL, *y = NULL;
    unsigned char bx[32], by[32], md[32];
    char *jwk;

    EVP_PKEY_get_bn_param(ec_a.pkey, "qx", &x);
    EVP_PKEY_get_bn_param(ec_a.pkey, "qy", &y);
    BN_bn2binpad(x, bx, 32);
    BN_bn2binpad(y, by, 32);
    jwk = arena_printf(T, "{\"crv\":\"P-256\",\"kty\":\"EC\",\"x\":\"%s\",\"y\":\"%s\"}",
                       b64(bx, 32, false), b64(by, 32, false));
    EVP_Digest(jwk, strlen(jwk), md, NULL, EVP_sha256(), NULL);
    CHECK_STR(jwt_key_id(ec_a.pub), b64(md, 32, false));
    CHECK_STR(jwt_key_id(ec_a.priv), jwt_key_id(ec_a.pub));
    CHECK(strcmp(jwt_key_id(ec_a.pub), jwt_key_id(ec_b.pub)) != 0);
    CHECK_INT(strlen(jwt_key_id(ed_a.pub)), JWT_KID_LEN);
    BN_free(x);
    BN_free(y);
}

static void
test_kid_checked(void)
{
    char *other = arena_printf(T, "{\"alg\":\"EdDSA\",\"kid\":\"%s\"}", jwt_key_id(ed_b.pub));
    char *ours = arena_printf(T, "{\"alg\":\"EdDSA\",\"kid\":\"%s\"}", jwt_key_id(ed_a.pub));

    CHECK_STR(why(ed_a.pub, forge(ours, PAYLOAD_OK, ed_a.pkey)), "accepted");
    /* A token of the next key after a rotation, or of the old one before it. */
    CHECK_STR(why(ed_a.pub, forge(other, PAYLOAD_OK, ed_b.pkey)), "unknown key id");
    CHECK_STR(why(ed_b.pub, forge(ours, PAYLOAD_OK, ed_a.pkey)), "unknown key id");
    /* A kid that names our key does not make another key's signature good. */
    CHECK_STR(why(ed_a.pub, forge(ours, PAYLOAD_OK, ed_b.pkey)), "bad signature");
    /* No kid at all: refused, as are tokens minted before kids existed. */
    CHECK_STR(why(ed_a.pub, forge("{\"kid\":null,\"alg\":\"EdDSA\"}", PAYLOAD_OK, ed_a.pkey)),
              "unknown key id");
    CHECK_STR(why(ed_a.pub, assemble(b64("{\"alg\":\"EdDSA\",\"typ\":\"JWT\"}", 27, false),
                                     b64s(PAYLOAD_OK), ed_a.pkey, SIG_RAW)),
              "unknown key id");
    CHECK_STR(why(ed_a.pub, forge("{\"alg\":\"EdDSA\",\"kid\":7}", PAYLOAD_OK, ed_a.pkey)),
              "unknown key id");
}

#define CLAIMS_REGION "\"sub\":\"a\",\"role\":\"region\",\"exp\":1800000000"

static void
test_issuer_and_audience(void)
{
    CHECK_STR(why_ed("{\"iss\":\"other\"," CLAIMS_REGION "}"), "bad claim iss");
    CHECK_STR(why_ed("{\"iss\":null," CLAIMS_REGION "}"), "bad claim iss");
    CHECK_STR(why_ed("{\"iss\":\"" ISS "x\"," CLAIMS_REGION "}"), "bad claim iss");
    CHECK_STR(why_ed("{\"aud\":\"other\"," CLAIMS_REGION "}"), "bad claim aud");
    CHECK_STR(why_ed("{\"aud\":null," CLAIMS_REGION "}"), "bad claim aud");
    CHECK_STR(why_ed("{\"aud\":[]," CLAIMS_REGION "}"), "bad claim aud");
    CHECK_STR(why_ed("{\"aud\":[\"other\"]," CLAIMS_REGION "}"), "bad claim aud");
    CHECK_STR(why_ed("{\"aud\":[\"other\",\"" AUD "\"]," CLAIMS_REGION "}"), "accepted");
    CHECK_STR(why_ed("{\"aud\":[[\"" AUD "\"]]," CLAIMS_REGION "}"), "bad claim aud");
}

/* The literal payloads all get "iss"/"aud"/"jti" from complete(): these name
 * them so that they stay absent. */
static void
test_tokens_of_yesterday(void)
{
    const char *old = "{\"sub\":\"a\",\"role\":\"region\",\"iat\":1699990000,\"exp\":1700003600}";
    const char *h64 = b64(HDR_ED, strlen(HDR_ED), false);

    /* Today's kontingentctl minted exactly this: no kid, iss, aud or jti. */
    CHECK_STR(why(ed_a.pub, assemble(h64, b64(old, strlen(old), false), ed_a.pkey, SIG_RAW)),
              "unknown key id");
    CHECK_STR(why_ed("{\"iss\":null,\"aud\":null,\"jti\":\"j\"," CLAIMS_REGION "}"),
              "bad claim iss");
}

static void
test_token_id(void)
{
    jwt_claims_t c;
    char id[JWT_JTI_MAX], id2[JWT_JTI_MAX];

    CHECK_STR(why_ed("{\"jti\":null," CLAIMS_REGION "}"), "bad claim jti");
    CHECK_STR(why_ed("{\"jti\":\"\"," CLAIMS_REGION "}"), "bad claim jti");
    CHECK_STR(why_ed("{\"jti\":7," CLAIMS_REGION "}"), "bad claim jti");
    CHECK_STR(why_ed("{\"jti\":\"a b\"," CLAIMS_REGION "}"), "bad claim jti");
    CHECK_STR(why_ed("{\"jti\":\"a/b\"," CLAIMS_REGION "}"), "bad claim jti");
    CHECK_STR(why_ed("{\"jti\":\""
                     "0123456789012345678901234567890123456789012345678901234567890123"
                     "\"," CLAIMS_REGION "}"),
              "accepted");
    CHECK_STR(why_ed("{\"jti\":\""
                     "01234567890123456789012345678901234567890123456789012345678901234"
                     "\"," CLAIMS_REGION "}"),
              "bad claim jti");
    CHECK(verify(ed_a.pub, forge_ed("{\"jti\":\"Ab-_9\"," CLAIMS_REGION "}"), &c));
    CHECK_STR(c.jti, "Ab-_9");
    CHECK_STR(c.iss, ISS);
    CHECK_STR(c.aud, AUD);
    CHECK(jwt_new_id(id) && jwt_new_id(id2));
    CHECK_INT(strlen(id), 22);
    CHECK(strcmp(id, id2) != 0);
    CHECK_STR(why_ed(arena_printf(T, "{\"jti\":\"%s\"," CLAIMS_REGION "}", id)), "accepted");
}

static const char *
why_at(const jwt_policy_t *p, int64_t now, const char *payload)
{
    kt_error_t err;
    jwt_claims_t c;
    const char *token = forge_ed(payload);

    if (jwt_verify(ed_a.pub, p, token, strlen(token), now, &c, &err))
        return "accepted";
    return arena_strdup(T, err.message);
}

static void
test_lifetime(void)
{
    const jwt_policy_t day = {ISS, AUD, 86400};

    CHECK_STR(why_at(&day, NOW, "{\"sub\":\"a\",\"role\":\"region\",\"exp\":1700086400}"),
              "accepted");
    CHECK_STR(why_at(&day, NOW, "{\"sub\":\"a\",\"role\":\"region\",\"exp\":1700086700}"),
              "accepted"); /* the clock skew */
    CHECK_STR(why_at(&day, NOW, "{\"sub\":\"a\",\"role\":\"region\",\"exp\":1700086701}"),
              "lifetime over the maximum");
    CHECK_STR(why_at(&day, NOW, "{\"sub\":\"a\",\"role\":\"region\",\"exp\":4102444800}"),
              "lifetime over the maximum");
    /* A long token is refused however long it has been in use. */
    CHECK_STR(
        why_at(&day, NOW + 86400 * 10, "{\"sub\":\"a\",\"role\":\"region\",\"exp\":1700000000000}"),
        "lifetime over the maximum");
}

static void
test_subject_text(void)
{
    jwt_claims_t c = school_claims();

    CHECK_STR(why_ed("{\"sub\":\"a\\u202eb\",\"role\":\"region\",\"exp\":1800000000}"),
              "bad claim sub");
    CHECK_STR(why_ed("{\"sub\":\"a\\u007fb\",\"role\":\"region\",\"exp\":1800000000}"),
              "bad claim sub");
    CHECK_STR(why_ed("{\"sub\":\"a\\nb\",\"role\":\"region\",\"exp\":1800000000}"),
              "bad claim sub");
    CHECK_STR(why_ed("{\"sub\":\"журнал 1\",\"role\":\"region\",\"exp\":1800000000}"), "accepted");
    memcpy(c.sub, "x\xe2\x80\xaey", sizeof "x\xe2\x80\xaey");
    check_sign_refused(ed_a.priv, &c, "bad claim sub");
    c = school_claims();
    memcpy(c.jti, "a b", sizeof "a b");
    check_sign_refused(ed_a.priv, &c, "bad claim jti");
}

int
main(void)
{
    fixtures_setup();
    CHECK_RUN(test_round_trip_eddsa);
    CHECK_RUN(test_round_trip_es256);
    CHECK_RUN(test_round_trip_minimal);
    CHECK_RUN(test_key_rotation_overlap);
    CHECK_RUN(test_interop);
    CHECK_RUN(test_expired);
    CHECK_RUN(test_exp_missing_or_bad);
    CHECK_RUN(test_not_before);
    CHECK_RUN(test_role_and_org);
    CHECK_RUN(test_subject);
    CHECK_RUN(test_scopes);
    CHECK_RUN(test_ministry_roles);
    CHECK_RUN(test_bad_signature);
    CHECK_RUN(test_wrong_key);
    CHECK_RUN(test_signature_length);
    CHECK_RUN(test_alg_none);
    CHECK_RUN(test_alg_hs256);
    CHECK_RUN(test_alg_mismatch);
    CHECK_RUN(test_header_parameters);
    CHECK_RUN(test_malformed_structure);
    CHECK_RUN(test_malformed_base64);
    CHECK_RUN(test_malformed_json);
    CHECK_RUN(test_length_cap);
    CHECK_RUN(test_length_is_honoured);
    CHECK_RUN(test_key_type_mismatch);
    CHECK_RUN(test_key_load_errors);
    CHECK_RUN(test_alg_names);
    CHECK_RUN(test_sign_refuses);
    CHECK_RUN(test_kid_rfc8037);
    CHECK_RUN(test_kid_es256);
    CHECK_RUN(test_kid_checked);
    CHECK_RUN(test_issuer_and_audience);
    CHECK_RUN(test_tokens_of_yesterday);
    CHECK_RUN(test_token_id);
    CHECK_RUN(test_lifetime);
    CHECK_RUN(test_subject_text);
    fixtures_teardown();
    CHECK_MAIN_END();
}
