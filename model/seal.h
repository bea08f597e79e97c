/*
 * seal: AES-256-GCM for the health block (docs/health.md, "Encryption").
 *
 * Envelope encryption. Each sealed block is encrypted under its own random
 * data key (DK); the DK is kept only wrapped — encrypted under a master key
 * (KEK) from the key file — in the store's health_keys collection, never in
 * the version record, so rotating KEKs re-wraps DKs and never touches the
 * immutable, hash-chained versions.
 *
 *   sealed block (in the version's doc, member "health_sealed"):
 *       {kid: <DK id, 32 hex>, nonce, ct, tag}        base64, AAD "health:" kid
 *   wrap of a DK under KEK k (in health_keys, under "wraps.<k>"):
 *       {nonce, ct, tag}                              base64, AAD "dk:" kid ":" k
 *
 * The plaintext of a block is the BSON of the normalised health object.
 * A wrong key or an edited nonce, ciphertext or tag never yields bytes: it
 * is 500 INTEGRITY. A missing key file or a KEK the ring does not hold is
 * 503 KEY_UNAVAILABLE.
 *
 * The key file: one KEK a line, "<id> <base64 of 32 bytes>", '#' comments;
 * ids are [a-z0-9-]{1,32}; the last key is the current one (new DKs are
 * wrapped under it).
 */
#ifndef KT_SEAL_H
#define KT_SEAL_H

#include <bson/bson.h>
#include <stdbool.h>
#include <stddef.h>

#include "core/arena.h"
#include "core/error.h"

#define SEAL_KEY_LEN   32
#define SEAL_NONCE_LEN 12
#define SEAL_TAG_LEN   16
#define SEAL_KEYS_MAX  64    /* KEKs in one key file */
#define SEAL_ID_MAX    32    /* characters of a KEK id */
#define SEAL_DKID_LEN  32    /* hex characters of a DK id */
#define SEAL_PLAIN_MAX 65536 /* bytes of a health block's BSON */

typedef struct {
    char id[SEAL_ID_MAX + 1];
    unsigned char key[SEAL_KEY_LEN];
} seal_kek_t;

typedef struct {
    seal_kek_t keys[SEAL_KEYS_MAX];
    size_t n; /* 0: no key file (every use is KEY_UNAVAILABLE) */
} seal_keyring_t;

/* Reads the key file at path into ring (emptied first). A missing file is
 * not an error (ring->n = 0); an unreadable or malformed one is
 * KEY_UNAVAILABLE with the line in the message. */
bool seal_keyring_load(seal_keyring_t *ring, const char *path, kt_error_t *err);

/* Parses the text of a key file. */
bool seal_keyring_parse(seal_keyring_t *ring, const char *text, size_t len, kt_error_t *err);

/* Zeroes the keys. */
void seal_keyring_wipe(seal_keyring_t *ring);

/* The current KEK (the last), or NULL with KEY_UNAVAILABLE. */
const seal_kek_t *seal_keyring_current(const seal_keyring_t *ring, kt_error_t *err);

/* The KEK named id, or NULL. */
const seal_kek_t *seal_keyring_find(const seal_keyring_t *ring, const char *id);

/* A well-formed KEK id. */
bool seal_id_valid(const char *id);

/* A fresh DK and its id (32 lowercase hex digits). */
bool seal_new_data_key(unsigned char dk[SEAL_KEY_LEN], char dkid[SEAL_DKID_LEN + 1],
                       kt_error_t *err);

/* Appends to out the sealed block of plain (a BSON document) under dk. */
bool seal_block(const unsigned char dk[SEAL_KEY_LEN], const char *dkid, const bson_t *plain,
                bson_t *out, kt_error_t *err);

/* The DK id a sealed block names, or NULL when it is not a sealed block. */
const char *seal_block_kid(const bson_t *sealed);

/* Opens a sealed block into plain (initialised by the call when true). */
bool seal_open(const unsigned char dk[SEAL_KEY_LEN], const bson_t *sealed, bson_t *plain,
               kt_error_t *err);

/* Appends to out the wrap of dk under kek. */
bool seal_wrap(const seal_kek_t *kek, const char *dkid, const unsigned char dk[SEAL_KEY_LEN],
               bson_t *out, kt_error_t *err);

/* Unwraps dk from wraps ({<kek id>: wrap, ...}) with the first KEK of the
 * ring that has a wrap there; KEY_UNAVAILABLE when none has. */
bool seal_unwrap_any(const seal_keyring_t *ring, const char *dkid, const bson_t *wraps,
                     unsigned char dk[SEAL_KEY_LEN], kt_error_t *err);

/* Lower-level AES-256-GCM with a fresh random nonce (exposed for tests). */
bool seal_encrypt(const unsigned char key[SEAL_KEY_LEN], const char *aad, const unsigned char *pt,
                  size_t len, unsigned char nonce[SEAL_NONCE_LEN], unsigned char *ct,
                  unsigned char tag[SEAL_TAG_LEN], kt_error_t *err);
bool seal_decrypt(const unsigned char key[SEAL_KEY_LEN], const char *aad,
                  const unsigned char nonce[SEAL_NONCE_LEN], const unsigned char *ct, size_t len,
                  const unsigned char tag[SEAL_TAG_LEN], unsigned char *pt, kt_error_t *err);

#endif
