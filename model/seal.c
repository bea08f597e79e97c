/* seal: AES-256-GCM sealing and key wrapping with OpenSSL EVP (see model/seal.h). */
#include "model/seal.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SEAL_FILE_MAX (64 * 1024) /* bytes of a key file */
#define SEAL_AAD_MAX  128
#define SEAL_LINE_MAX 256

static bool
seal_fail(kt_error_t *err, kt_code_t code, const char *fmt, const char *detail)
{
    kt_error_set(err, KT_DOMAIN_INTERNAL, code, fmt, detail);
    return false;
}

/* ---- base64 (RFC 4648 section 4, padded) ----------------------------------------------- */

static bool
seal_b64_append(bson_t *out, const char *key, const unsigned char *data, size_t len)
{
    size_t cap = (len + 2) / 3 * 4 + 1;
    char *text = malloc(cap);
    bool ok;

    if (text == NULL)
        return false;
    EVP_EncodeBlock((unsigned char *)text, data, (int)len);
    ok = bson_append_utf8(out, key, -1, text, -1);
    free(text);
    return ok;
}

/* Decodes member key of doc into out (cap bytes); *len the decoded length. */
static bool
seal_b64_member(const bson_t *doc, const char *key, unsigned char *out, size_t cap, size_t *len)
{
    bson_iter_t it;
    uint32_t n = 0;
    const char *s;
    int got;
    size_t pad = 0;

    if (!bson_iter_init_find(&it, doc, key) || !BSON_ITER_HOLDS_UTF8(&it))
        return false;
    s = bson_iter_utf8(&it, &n);
    if (n == 0 || n % 4 != 0 || (size_t)n / 4 * 3 > cap)
        return false;
    got = EVP_DecodeBlock(out, (const unsigned char *)s, (int)n);
    if (got < 0)
        return false;
    pad = (s[n - 1] == '=') + (s[n - 2] == '=');
    *len = (size_t)got - pad;
    return true;
}

/* ---- the key file ---------------------------------------------------------------------- */

bool
seal_id_valid(const char *id)
{
    size_t n = strlen(id);

    if (n == 0 || n > SEAL_ID_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = id[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'))
            return false;
    }
    return true;
}

/* One "<id> <base64>" line (trimmed, not a comment) into the ring. */
static bool
seal_parse_line(seal_keyring_t *ring, char *line, size_t lineno, kt_error_t *err)
{
    char msg[96], *space = strchr(line, ' ');
    unsigned char raw[48];
    seal_kek_t *k = &ring->keys[ring->n];
    int got;

    snprintf(msg, sizeof msg, "line %zu", lineno);
    if (space == NULL || ring->n == SEAL_KEYS_MAX)
        return seal_fail(err, KT_KEY_UNAVAILABLE, "health key file: bad %s", msg);
    *space = '\0';
    while (*++space == ' ')
        continue;
    if (!seal_id_valid(line) || seal_keyring_find(ring, line) != NULL || strlen(space) != 44)
        return seal_fail(err, KT_KEY_UNAVAILABLE, "health key file: bad %s", msg);
    got = EVP_DecodeBlock(raw, (const unsigned char *)space, 44);
    if (got != 33 || space[43] != '=' || space[42] == '=')
        return seal_fail(err, KT_KEY_UNAVAILABLE, "health key file: bad key on %s", msg);
    memcpy(k->id, line, strlen(line) + 1); /* ≤ SEAL_ID_MAX: seal_id_valid */
    memcpy(k->key, raw, SEAL_KEY_LEN);
    OPENSSL_cleanse(raw, sizeof raw);
    ring->n++;
    return true;
}

bool
seal_keyring_parse(seal_keyring_t *ring, const char *text, size_t len, kt_error_t *err)
{
    char line[SEAL_LINE_MAX];
    size_t lineno = 0, i = 0;

    seal_keyring_wipe(ring);
    while (i < len) {
        size_t start = i, n;
        while (i < len && text[i] != '\n')
            i++;
        n = i - start;
        i++;
        lineno++;
        while (n > 0 && (text[start + n - 1] == '\r' || text[start + n - 1] == ' '))
            n--;
        while (n > 0 && text[start] == ' ') {
            start++;
            n--;
        }
        if (n == 0 || text[start] == '#')
            continue;
        if (n >= sizeof line)
            return seal_fail(err, KT_KEY_UNAVAILABLE, "health key file: line %s too long", "");
        memcpy(line, text + start, n);
        line[n] = '\0';
        bool ok = seal_parse_line(ring, line, lineno, err);
        OPENSSL_cleanse(line, sizeof line);
        if (!ok) {
            seal_keyring_wipe(ring);
            return false;
        }
    }
    return true;
}

bool
seal_keyring_load(seal_keyring_t *ring, const char *path, kt_error_t *err)
{
    char *text = malloc(SEAL_FILE_MAX);
    FILE *f = NULL;
    size_t len;
    bool ok = false;

    seal_keyring_wipe(ring);
    if (text == NULL)
        return seal_fail(err, KT_INTERNAL, "out of memory%s", "");
    f = fopen(path, "re");
    if (f == NULL) {
        ok = errno == ENOENT; /* no key file: health data is unavailable, nothing else */
        if (!ok)
            seal_fail(err, KT_KEY_UNAVAILABLE, "health key file: %s", strerror(errno));
        goto done;
    }
    len = fread(text, 1, SEAL_FILE_MAX, f);
    if (ferror(f) || len == SEAL_FILE_MAX)
        seal_fail(err, KT_KEY_UNAVAILABLE, "health key file: unreadable or over 64 KiB%s", "");
    else
        ok = seal_keyring_parse(ring, text, len, err);
    OPENSSL_cleanse(text, len);
done:
    if (f != NULL)
        fclose(f);
    free(text);
    return ok;
}

void
seal_keyring_wipe(seal_keyring_t *ring)
{
    OPENSSL_cleanse(ring, sizeof *ring);
    ring->n = 0;
}

const seal_kek_t *
seal_keyring_current(const seal_keyring_t *ring, kt_error_t *err)
{
    if (ring == NULL || ring->n == 0) {
        seal_fail(err, KT_KEY_UNAVAILABLE, "no health key file%s", "");
        return NULL;
    }
    return &ring->keys[ring->n - 1];
}

const seal_kek_t *
seal_keyring_find(const seal_keyring_t *ring, const char *id)
{
    for (size_t i = 0; ring != NULL && i < ring->n; i++)
        if (strcmp(ring->keys[i].id, id) == 0)
            return &ring->keys[i];
    return NULL;
}

/* ---- AES-256-GCM ------------------------------------------------------------------------ */

bool
seal_encrypt(const unsigned char key[SEAL_KEY_LEN], const char *aad, const unsigned char *pt,
             size_t len, unsigned char nonce[SEAL_NONCE_LEN], unsigned char *ct,
             unsigned char tag[SEAL_TAG_LEN], kt_error_t *err)
{
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    int n = 0, fin = 0;
    bool ok = c != NULL && len <= SEAL_PLAIN_MAX && RAND_bytes(nonce, SEAL_NONCE_LEN) == 1 &&
              EVP_EncryptInit_ex(c, EVP_aes_256_gcm(), NULL, key, nonce) == 1 &&
              EVP_EncryptUpdate(c, NULL, &n, (const unsigned char *)aad, (int)strlen(aad)) == 1 &&
              EVP_EncryptUpdate(c, ct, &n, pt, (int)len) == 1 &&
              EVP_EncryptFinal_ex(c, ct + n, &fin) == 1 &&
              EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, SEAL_TAG_LEN, tag) == 1;

    EVP_CIPHER_CTX_free(c);
    return ok || seal_fail(err, KT_INTERNAL, "AES-GCM encryption failed%s", "");
}

bool
seal_decrypt(const unsigned char key[SEAL_KEY_LEN], const char *aad,
             const unsigned char nonce[SEAL_NONCE_LEN], const unsigned char *ct, size_t len,
             const unsigned char tag[SEAL_TAG_LEN], unsigned char *pt, kt_error_t *err)
{
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    unsigned char t[SEAL_TAG_LEN];
    int n = 0, fin = 0;
    bool ok;

    memcpy(t, tag, sizeof t);
    ok = c != NULL && EVP_DecryptInit_ex(c, EVP_aes_256_gcm(), NULL, key, nonce) == 1 &&
         EVP_DecryptUpdate(c, NULL, &n, (const unsigned char *)aad, (int)strlen(aad)) == 1 &&
         EVP_DecryptUpdate(c, pt, &n, ct, (int)len) == 1 &&
         EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, SEAL_TAG_LEN, t) == 1 &&
         EVP_DecryptFinal_ex(c, pt + n, &fin) == 1;
    EVP_CIPHER_CTX_free(c);
    if (!ok) {
        OPENSSL_cleanse(pt, len);
        return seal_fail(err, KT_INTEGRITY, "health data does not authenticate%s", "");
    }
    return true;
}

/* Appends {nonce, ct, tag} of pt under key and aad. */
static bool
seal_box(const unsigned char key[SEAL_KEY_LEN], const char *aad, const unsigned char *pt,
         size_t len, bson_t *out, kt_error_t *err)
{
    unsigned char nonce[SEAL_NONCE_LEN], tag[SEAL_TAG_LEN];
    unsigned char *ct = malloc(len + 1);
    bool ok = ct != NULL && seal_encrypt(key, aad, pt, len, nonce, ct, tag, err);

    ok = ok && seal_b64_append(out, "nonce", nonce, sizeof nonce) &&
         seal_b64_append(out, "ct", ct, len) && seal_b64_append(out, "tag", tag, sizeof tag);
    free(ct);
    return ok || (err != NULL && err->code != KT_OK) ||
           seal_fail(err, KT_INTERNAL, "cannot seal%s", "");
}

/* Opens {nonce, ct, tag} into pt (cap bytes), *len its length. */
static bool
seal_unbox(const unsigned char key[SEAL_KEY_LEN], const char *aad, const bson_t *box,
           unsigned char *pt, size_t cap, size_t *len, kt_error_t *err)
{
    unsigned char nonce[SEAL_NONCE_LEN + 3], tag[SEAL_TAG_LEN + 3];
    unsigned char *ct = malloc(cap + 3);
    size_t nn = 0, nt = 0;
    bool ok = ct != NULL && seal_b64_member(box, "nonce", nonce, sizeof nonce, &nn) &&
              nn == SEAL_NONCE_LEN && seal_b64_member(box, "tag", tag, sizeof tag, &nt) &&
              nt == SEAL_TAG_LEN && seal_b64_member(box, "ct", ct, cap + 3, len) && *len <= cap;

    if (!ok)
        seal_fail(err, KT_INTEGRITY, "a sealed health block is malformed%s", "");
    else
        ok = seal_decrypt(key, aad, nonce, ct, *len, tag, pt, err);
    free(ct);
    return ok;
}

/* ---- data keys, blocks, wraps ---------------------------------------------------------- */

bool
seal_new_data_key(unsigned char dk[SEAL_KEY_LEN], char dkid[SEAL_DKID_LEN + 1], kt_error_t *err)
{
    static const char hex[] = "0123456789abcdef";
    unsigned char id[SEAL_DKID_LEN / 2];

    if (RAND_bytes(dk, SEAL_KEY_LEN) != 1 || RAND_bytes(id, sizeof id) != 1)
        return seal_fail(err, KT_INTERNAL, "no randomness%s", "");
    for (size_t i = 0; i < sizeof id; i++) {
        dkid[2 * i] = hex[id[i] >> 4];
        dkid[2 * i + 1] = hex[id[i] & 15];
    }
    dkid[SEAL_DKID_LEN] = '\0';
    return true;
}

static bool
seal_dkid_valid(const char *kid)
{
    if (kid == NULL || strlen(kid) != SEAL_DKID_LEN)
        return false;
    for (const char *p = kid; *p; p++)
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
            return false;
    return true;
}

bool
seal_block(const unsigned char dk[SEAL_KEY_LEN], const char *dkid, const bson_t *plain, bson_t *out,
           kt_error_t *err)
{
    char aad[SEAL_AAD_MAX];

    snprintf(aad, sizeof aad, "health:%s", dkid);
    return bson_append_utf8(out, "kid", -1, dkid, -1) &&
           seal_box(dk, aad, bson_get_data(plain), plain->len, out, err);
}

const char *
seal_block_kid(const bson_t *sealed)
{
    bson_iter_t it;
    const char *kid;

    if (!bson_iter_init_find(&it, sealed, "kid") || !BSON_ITER_HOLDS_UTF8(&it))
        return NULL;
    kid = bson_iter_utf8(&it, NULL);
    return seal_dkid_valid(kid) ? kid : NULL;
}

bool
seal_open(const unsigned char dk[SEAL_KEY_LEN], const bson_t *sealed, bson_t *plain,
          kt_error_t *err)
{
    const char *kid = seal_block_kid(sealed);
    unsigned char *pt = malloc(SEAL_PLAIN_MAX);
    char aad[SEAL_AAD_MAX];
    size_t len = 0;
    bool ok = false;

    if (pt == NULL || kid == NULL) {
        seal_fail(err, pt ? KT_INTEGRITY : KT_INTERNAL, "a sealed health block is malformed%s", "");
        goto done;
    }
    snprintf(aad, sizeof aad, "health:%s", kid);
    if (!seal_unbox(dk, aad, sealed, pt, SEAL_PLAIN_MAX, &len, err))
        goto done;
    ok = bson_init_static(plain, pt, len) && bson_validate(plain, BSON_VALIDATE_NONE, NULL);
    if (ok) {
        bson_t tmp;
        bson_copy_to(plain, &tmp);
        bson_steal(plain, &tmp);
    } else {
        seal_fail(err, KT_INTEGRITY, "an opened health block is not BSON%s", "");
    }
    OPENSSL_cleanse(pt, len);
done:
    free(pt);
    return ok;
}

bool
seal_wrap(const seal_kek_t *kek, const char *dkid, const unsigned char dk[SEAL_KEY_LEN],
          bson_t *out, kt_error_t *err)
{
    char aad[SEAL_AAD_MAX];
    bson_t box;
    bool ok;

    snprintf(aad, sizeof aad, "dk:%s:%s", dkid, kek->id);
    ok = BSON_APPEND_DOCUMENT_BEGIN(out, kek->id, &box);
    ok = ok && seal_box(kek->key, aad, dk, SEAL_KEY_LEN, &box, err);
    return bson_append_document_end(out, &box) && ok;
}

bool
seal_unwrap_any(const seal_keyring_t *ring, const char *dkid, const bson_t *wraps,
                unsigned char dk[SEAL_KEY_LEN], kt_error_t *err)
{
    unsigned char out[SEAL_KEY_LEN + 16];
    char aad[SEAL_AAD_MAX];
    bson_iter_t it;
    size_t len = 0;

    for (size_t i = ring != NULL ? ring->n : 0; i-- > 0;) {
        const seal_kek_t *k = &ring->keys[i];
        const uint8_t *data;
        uint32_t n;
        bson_t box;
        if (!bson_iter_init_find(&it, wraps, k->id) || !BSON_ITER_HOLDS_DOCUMENT(&it))
            continue;
        bson_iter_document(&it, &n, &data);
        snprintf(aad, sizeof aad, "dk:%s:%s", dkid, k->id);
        if (!bson_init_static(&box, data, n) ||
            !seal_unbox(k->key, aad, &box, out, sizeof out, &len, err))
            return false;
        if (len != SEAL_KEY_LEN)
            return seal_fail(err, KT_INTEGRITY, "a wrapped data key is malformed%s", "");
        memcpy(dk, out, SEAL_KEY_LEN);
        OPENSSL_cleanse(out, sizeof out);
        return true;
    }
    return seal_fail(err, KT_KEY_UNAVAILABLE,
                     "no key of the health key file unwraps data key %.40s", dkid);
}
