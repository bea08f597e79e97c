/*
 * test_seal: the health block's cryptography (model/seal.h) — the key file,
 * AES-256-GCM round trips, and every way a block or a wrap can fail to
 * open: wrong key, tampered nonce, ciphertext or tag, a block moved under
 * another key id, an unknown KEK; re-wrapping under a second KEK keeps the
 * data key readable with either.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "model/seal.h"
#include "tests/unit/check.h"

/* Two keys: 32 bytes each, base64. */
static const char KEYS[] = "# comment\n"
                           "k1 AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n"
                           "\n"
                           "  k2 ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8=  \n";

static void
test_keyring_parse(void)
{
    seal_keyring_t ring;
    kt_error_t err;

    kt_error_clear(&err);
    CHECK(seal_keyring_parse(&ring, KEYS, strlen(KEYS), &err));
    CHECK_INT(ring.n, 2);
    CHECK_STR(ring.keys[0].id, "k1");
    CHECK_INT(ring.keys[0].key[31], 31);
    CHECK_STR(seal_keyring_current(&ring, &err)->id, "k2");
    CHECK(seal_keyring_find(&ring, "k1") == &ring.keys[0]);
    CHECK(seal_keyring_find(&ring, "k3") == NULL);

    static const char *const bad[] = {
        "k1\n",                                              /* no key */
        "K1 AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n", /* upper case id */
        "k1 AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxw=\n",     /* 29 bytes */
        "k1 AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8!\n", /* not base64 */
        "k1 AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n"
        "k1 ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8=\n", /* the same id twice */
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        kt_error_clear(&err);
        CHECK(!seal_keyring_parse(&ring, bad[i], strlen(bad[i]), &err));
        CHECK(err.code == KT_KEY_UNAVAILABLE && err.status == 503);
        CHECK_INT(ring.n, 0);
    }
    kt_error_clear(&err);
    CHECK(seal_keyring_current(&ring, &err) == NULL);
    CHECK(err.code == KT_KEY_UNAVAILABLE);
}

static void
test_keyring_load(void)
{
    seal_keyring_t ring;
    kt_error_t err;
    char path[] = "/tmp/kt-test-seal-XXXXXX";
    int fd = mkstemp(path);

    kt_error_clear(&err);
    CHECK(fd >= 0);
    CHECK(write(fd, KEYS, strlen(KEYS)) == (ssize_t)strlen(KEYS));
    close(fd);
    CHECK(seal_keyring_load(&ring, path, &err));
    CHECK_INT(ring.n, 2);
    unlink(path);
    /* A missing file is no error: health data is then unavailable. */
    CHECK(seal_keyring_load(&ring, path, &err));
    CHECK_INT(ring.n, 0);
}

static void
test_encrypt_roundtrip(void)
{
    unsigned char key[SEAL_KEY_LEN] = {1}, other[SEAL_KEY_LEN] = {2};
    unsigned char nonce[SEAL_NONCE_LEN], nonce2[SEAL_NONCE_LEN], tag[SEAL_TAG_LEN];
    unsigned char ct[16], ct2[16], pt[16];
    const char *msg = "группа здоровья";
    size_t len = 16;
    kt_error_t err;

    kt_error_clear(&err);
    CHECK(seal_encrypt(key, "aad", (const unsigned char *)msg, len, nonce, ct, tag, &err));
    CHECK(memcmp(ct, msg, len) != 0);
    CHECK(seal_decrypt(key, "aad", nonce, ct, len, tag, pt, &err));
    CHECK(memcmp(pt, msg, len) == 0);
    /* A fresh nonce every time: the same plaintext never gives the same bytes. */
    CHECK(seal_encrypt(key, "aad", (const unsigned char *)msg, len, nonce2, ct2, tag, &err));
    CHECK(memcmp(nonce, nonce2, sizeof nonce) != 0 && memcmp(ct, ct2, len) != 0);
    /* Wrong key, wrong AAD: INTEGRITY, and nothing decrypted is left behind. */
    CHECK(!seal_decrypt(other, "aad", nonce2, ct2, len, tag, pt, &err));
    CHECK(err.code == KT_INTEGRITY && err.status == 500);
    CHECK(memcmp(pt, msg, len) != 0);
    kt_error_clear(&err);
    CHECK(!seal_decrypt(key, "aae", nonce2, ct2, len, tag, pt, &err));
    CHECK(err.code == KT_INTEGRITY);
}

/* A health-like document. */
static void
plain_doc(bson_t *b)
{
    bson_init(b);
    BSON_APPEND_UTF8(b, "health_group", "III");
    BSON_APPEND_BOOL(b, "needs_adapted_program", true);
}

/* Replaces the string member key of sealed (a copy made into out). */
static void
with_member(const bson_t *sealed, const char *key, const char *value, bson_t *out)
{
    bson_init(out);
    bson_copy_to_excluding_noinit(sealed, out, key, NULL);
    BSON_APPEND_UTF8(out, key, value);
}

static void
test_block_roundtrip_and_tamper(void)
{
    unsigned char dk[SEAL_KEY_LEN], dk2[SEAL_KEY_LEN];
    char dkid[SEAL_DKID_LEN + 1], dkid2[SEAL_DKID_LEN + 1];
    bson_t plain, sealed = BSON_INITIALIZER, opened, bad;
    kt_error_t err;

    kt_error_clear(&err);
    plain_doc(&plain);
    CHECK(seal_new_data_key(dk, dkid, &err) && seal_new_data_key(dk2, dkid2, &err));
    CHECK(strcmp(dkid, dkid2) != 0);
    CHECK(seal_block(dk, dkid, &plain, &sealed, &err));
    CHECK_STR(seal_block_kid(&sealed), dkid);
    CHECK(seal_open(dk, &sealed, &opened, &err));
    CHECK(bson_equal(&plain, &opened));
    bson_destroy(&opened);

    kt_error_clear(&err);
    CHECK(!seal_open(dk2, &sealed, &opened, &err));
    CHECK(err.code == KT_INTEGRITY);

    static const struct {
        const char *key, *value;
    } edits[] = {
        {"tag", "AAAAAAAAAAAAAAAAAAAAAA=="},
        {"nonce", "AAAAAAAAAAAAAAAA"},
        {"ct", "AAAA"},
        {"ct", "not base64"},
        {"kid", "00000000000000000000000000000000"}, /* moved under another key id */
    };
    for (size_t i = 0; i < sizeof edits / sizeof *edits; i++) {
        with_member(&sealed, edits[i].key, edits[i].value, &bad);
        kt_error_clear(&err);
        CHECK(!seal_open(dk, &bad, &opened, &err));
        CHECK(err.code == KT_INTEGRITY);
        bson_destroy(&bad);
    }
    bson_destroy(&plain);
    bson_destroy(&sealed);
}

static void
test_wrap_and_rewrap(void)
{
    seal_keyring_t ring, only1, only2;
    unsigned char dk[SEAL_KEY_LEN], out[SEAL_KEY_LEN];
    char dkid[SEAL_DKID_LEN + 1];
    bson_t wraps = BSON_INITIALIZER;
    kt_error_t err;

    kt_error_clear(&err);
    CHECK(seal_keyring_parse(&ring, KEYS, strlen(KEYS), &err));
    only1 = ring;
    only1.n = 1;
    only2 = ring;
    only2.keys[0] = ring.keys[1];
    only2.n = 1;
    CHECK(seal_new_data_key(dk, dkid, &err));
    CHECK(seal_wrap(&ring.keys[0], dkid, dk, &wraps, &err));
    CHECK(seal_unwrap_any(&only1, dkid, &wraps, out, &err) && memcmp(out, dk, sizeof dk) == 0);
    /* A ring without k1: the key is unavailable, not garbage. */
    CHECK(!seal_unwrap_any(&only2, dkid, &wraps, out, &err));
    CHECK(err.code == KT_KEY_UNAVAILABLE && err.status == 503);
    /* Unwrapping under another data key's id fails authentication. */
    kt_error_clear(&err);
    CHECK(!seal_unwrap_any(&only1, "0123456789abcdef0123456789abcdef", &wraps, out, &err));
    CHECK(err.code == KT_INTEGRITY);
    /* Re-wrap: a second wrap under k2; either key alone now opens it. */
    kt_error_clear(&err);
    CHECK(seal_wrap(&ring.keys[1], dkid, dk, &wraps, &err));
    memset(out, 0, sizeof out);
    CHECK(seal_unwrap_any(&only2, dkid, &wraps, out, &err) && memcmp(out, dk, sizeof dk) == 0);
    memset(out, 0, sizeof out);
    CHECK(seal_unwrap_any(&only1, dkid, &wraps, out, &err) && memcmp(out, dk, sizeof dk) == 0);
    bson_destroy(&wraps);
}

int
main(void)
{
    CHECK_RUN(test_keyring_parse);
    CHECK_RUN(test_keyring_load);
    CHECK_RUN(test_encrypt_roundtrip);
    CHECK_RUN(test_block_roundtrip_and_tamper);
    CHECK_RUN(test_wrap_and_rewrap);
    CHECK_MAIN_END();
}
