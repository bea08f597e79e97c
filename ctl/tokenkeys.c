/*
 * tokenkeys: rotating the token-signing key.
 *
 *   token rotate             a new signing key; the public key file keeps the
 *                            old one beside it, so that tokens it signed stay
 *                            valid until they expire; the workers reload
 *   token retire KID [--now] drop an old key from the public key file once
 *                            every token it signed has expired (KT_TOKEN_MAX_TTL
 *                            after it was replaced; --now: at once)
 *
 * The public key file (KT_TOKEN_PUBLIC_KEY) holds the keys the workers accept,
 * newest first, each PEM block after a comment line
 *     # kid <kid> replaced-at <unix time>
 * for the keys that no longer sign (the workers' PEM reader skips the line).
 *
 * All or nothing: both new files are written beside the old ones and read
 * back before anything is swapped; then the public file is renamed into
 * place (from then on both keys verify), then the private key (from then on
 * the new one signs), then the workers are told. A failure before the
 * renames leaves everything as it was.
 */
#include "ctl/tokenkeys.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "auth/jwt.h"
#include "ctl/keys.h"

#define REPLACED_NONE (-1)

typedef struct {
    jwt_alg_t alg;
    jwt_key_t *signing;  /* KT_TOKEN_PRIVATE_KEY */
    jwt_key_t *accepted; /* KT_TOKEN_PUBLIC_KEY's chain */
    char *text;          /* the public key file as it is */
} tokenkeys_t;

static void
tokenkeys_release(tokenkeys_t *t)
{
    jwt_key_free(t->signing);
    jwt_key_free(t->accepted);
    free(t->text);
}

static char *
read_text(const char *path)
{
    FILE *f = fopen(path, "re");
    buf_t b;
    char chunk[4096];
    size_t n;

    if (f == NULL)
        return NULL;
    buf_init(&b, 1u << 20);
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        buf_append(&b, chunk, n);
    fclose(f);
    if (b.overflow || b.data == NULL) {
        buf_release(&b);
        return NULL;
    }
    return buf_detach(&b, NULL);
}

static bool
tokenkeys_open(tokenkeys_t *t, const config_t *cfg)
{
    kt_error_t err;

    kt_error_clear(&err);
    memset(t, 0, sizeof *t);
    if (!jwt_alg_parse(cfg->token_alg, &t->alg)) {
        fprintf(stderr, "kontingentctl token: KT_TOKEN_ALG must be EdDSA or ES256\n");
        return false;
    }
    t->signing = jwt_key_load_private(cfg->token_private_key, t->alg, &err);
    t->accepted = t->signing ? jwt_key_load_public(cfg->token_public_key, t->alg, &err) : NULL;
    t->text = t->accepted ? read_text(cfg->token_public_key) : NULL;
    if (t->text == NULL) {
        fprintf(stderr, "kontingentctl token: %s\n",
                err.code != KT_OK ? err.message : "cannot read the public key file");
        return false;
    }
    return true;
}

static bool
chain_has(const jwt_key_t *keys, const char *kid)
{
    for (; keys != NULL; keys = jwt_key_next(keys))
        if (strcmp(jwt_key_id(keys), kid) == 0)
            return true;
    return false;
}

static int
chain_length(const jwt_key_t *keys)
{
    int n = 0;

    for (; keys != NULL; keys = jwt_key_next(keys))
        n++;
    return n;
}

/* When kid was replaced, from its "# kid <kid> replaced-at <t>" line. */
static int64_t
replaced_at(const char *text, const char *kid)
{
    char pattern[JWT_KID_LEN + 32];
    const char *at;
    long long t = REPLACED_NONE;

    snprintf(pattern, sizeof pattern, "# kid %s replaced-at ", kid);
    at = strstr(text, pattern);
    if (at != NULL) {
        char *end = NULL;
        errno = 0;
        t = strtoll(at + strlen(pattern), &end, 10);
        if (errno != 0 || end == at + strlen(pattern) || (*end != '\n' && *end != '\0'))
            t = REPLACED_NONE;
    }
    return t;
}

/* One key's block of the public key file. */
static bool
put_block(buf_t *out, const jwt_key_t *key, int64_t replaced)
{
    if (replaced != REPLACED_NONE)
        buf_printf(out, "# kid %s replaced-at %" PRId64 "\n", jwt_key_id(key), replaced);
    else
        buf_printf(out, "# kid %s (signing)\n", jwt_key_id(key));
    return jwt_key_pem(key, false, out);
}

/* The accepted keys but skip, with their replaced-at times; the one that
 * signed until now (was_signing, nullable) replaced at now. */
static bool
put_old_blocks(buf_t *out, const tokenkeys_t *t, const char *skip, const char *was_signing,
               int64_t now)
{
    for (const jwt_key_t *k = t->accepted; k != NULL; k = jwt_key_next(k)) {
        const char *kid = jwt_key_id(k);
        if (skip != NULL && strcmp(kid, skip) == 0)
            continue;
        int64_t when =
            was_signing != NULL && strcmp(kid, was_signing) == 0 ? now : replaced_at(t->text, kid);
        if (!put_block(out, k, when))
            return false;
    }
    return true;
}

/* Writes len bytes to path, created anew with mode, synced. */
static bool
write_new(const char *path, const char *data, size_t len, mode_t mode)
{
    int fd;
    bool ok;

    unlink(path); /* a stale one of an interrupted run */
    fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
    if (fd < 0)
        return false;
    ok = write(fd, data, len) == (ssize_t)len && fsync(fd) == 0;
    return close(fd) == 0 && ok;
}

/* The prepared public file must hold want (and also_want when not NULL). */
static bool
check_public(const char *path, jwt_alg_t alg, const char *want, const char *also_want)
{
    kt_error_t err;
    jwt_key_t *keys = jwt_key_load_public(path, alg, &err);
    bool ok =
        keys != NULL && chain_has(keys, want) && (also_want == NULL || chain_has(keys, also_want));

    jwt_key_free(keys);
    return ok;
}

static bool
check_private(const char *path, jwt_alg_t alg, const char *want)
{
    kt_error_t err;
    jwt_key_t *key = jwt_key_load_private(path, alg, &err);
    bool ok = key != NULL && strcmp(jwt_key_id(key), want) == 0;

    jwt_key_free(key);
    return ok;
}

/* The next name of path ("<path>.rotating"). */
static void
staged(char out[CONFIG_PATH_MAX + 16], const char *path)
{
    snprintf(out, CONFIG_PATH_MAX + 16, "%s.rotating", path);
}

/* Writes and checks both staged files; nothing is in place yet. */
static bool
stage_rotation(const config_t *cfg, const tokenkeys_t *t, const jwt_key_t *fresh, int64_t now)
{
    char pub[CONFIG_PATH_MAX + 16], key[CONFIG_PATH_MAX + 16];
    buf_t pub_text, key_text;
    bool ok;

    buf_init(&pub_text, 1u << 20);
    buf_init(&key_text, 64 * 1024);
    staged(pub, cfg->token_public_key);
    staged(key, cfg->token_private_key);
    ok = put_block(&pub_text, fresh, REPLACED_NONE) &&
         put_old_blocks(&pub_text, t, NULL, jwt_key_id(t->signing), now) &&
         jwt_key_pem(fresh, true, &key_text) && !pub_text.overflow &&
         write_new(pub, pub_text.data, pub_text.len, 0644) &&
         write_new(key, key_text.data, key_text.len, 0600) &&
         check_public(pub, t->alg, jwt_key_id(fresh), jwt_key_id(t->signing)) &&
         check_private(key, t->alg, jwt_key_id(fresh));
    if (key_text.data != NULL)
        memset(key_text.data, 0, key_text.len);
    buf_release(&key_text);
    buf_release(&pub_text);
    if (!ok) {
        fprintf(stderr,
                "kontingentctl token rotate: cannot prepare %s and %s (%s); nothing changed\n", pub,
                key, strerror(errno));
        unlink(pub);
        unlink(key);
    }
    return ok;
}

/* The swap: the public file first (both keys verify), then the private key. */
static bool
swap_rotation(const config_t *cfg)
{
    char pub[CONFIG_PATH_MAX + 16], key[CONFIG_PATH_MAX + 16];

    staged(pub, cfg->token_public_key);
    staged(key, cfg->token_private_key);
    if (rename(pub, cfg->token_public_key) != 0) {
        fprintf(stderr, "kontingentctl token rotate: %s: %s; nothing changed\n",
                cfg->token_public_key, strerror(errno));
        unlink(pub);
        unlink(key);
        return false;
    }
    if (rename(key, cfg->token_private_key) != 0) {
        /* The old key still signs, and both verify: a consistent state. */
        fprintf(stderr,
                "kontingentctl token rotate: %s: %s; the old key still signs (run rotate again)\n",
                cfg->token_private_key, strerror(errno));
        unlink(key);
        return false;
    }
    return true;
}

int
tokenkeys_rotate(const config_t *cfg, int argc, char **argv)
{
    tokenkeys_t t;
    jwt_key_t *fresh = NULL;
    kt_error_t err;
    int64_t now = (int64_t)time(NULL);
    int rc = 1;

    (void)argv;
    if (argc != 0)
        return 2;
    kt_error_clear(&err);
    if (!tokenkeys_open(&t, cfg))
        goto done;
    if (!chain_has(t.accepted, jwt_key_id(t.signing))) {
        fprintf(stderr,
                "kontingentctl token rotate: %s does not hold the signing key's public part\n",
                cfg->token_public_key);
        goto done;
    }
    if (chain_length(t.accepted) >= JWT_KEYS_MAX) {
        fprintf(stderr, "kontingentctl token rotate: %s holds %d keys; retire old ones first\n",
                cfg->token_public_key, JWT_KEYS_MAX);
        goto done;
    }
    fresh = jwt_key_generate(t.alg, &err);
    if (fresh == NULL || !stage_rotation(cfg, &t, fresh, now) || !swap_rotation(cfg))
        goto done;
    printf("new signing key %s\n", jwt_key_id(fresh));
    printf("%s is still accepted; retire it once its tokens have expired, after %lld:\n"
           "  kontingentctl token retire %s\n",
           jwt_key_id(t.signing), (long long)(now + cfg->token_max_ttl + JWT_CLOCK_SKEW),
           jwt_key_id(t.signing));
    keys_tell_workers(cfg);
    rc = 0;
done:
    if (fresh == NULL && err.code != KT_OK)
        fprintf(stderr, "kontingentctl token rotate: %s\n", err.message);
    jwt_key_free(fresh);
    tokenkeys_release(&t);
    return rc;
}

/* Why kid may not go now; NULL when it may. */
static const char *
retire_refusal(const config_t *cfg, const tokenkeys_t *t, const char *kid, bool now_flag,
               int64_t now)
{
    int64_t replaced = replaced_at(t->text, kid);

    if (strcmp(kid, jwt_key_id(t->signing)) == 0)
        return "is the signing key (rotate first)";
    if (!chain_has(t->accepted, kid))
        return "is not in the public key file";
    if (!now_flag && replaced != REPLACED_NONE &&
        now < replaced + cfg->token_max_ttl + JWT_CLOCK_SKEW)
        return "may still have signed live tokens (wait until KT_TOKEN_MAX_TTL after the "
               "rotation, or --now)";
    return NULL;
}

int
tokenkeys_retire(const config_t *cfg, int argc, char **argv)
{
    char pub[CONFIG_PATH_MAX + 16];
    tokenkeys_t t;
    buf_t text;
    bool now_flag = argc == 2 && strcmp(argv[1], "--now") == 0;
    const char *why;
    int rc = 1;

    if (argc < 1 || argc > 2 || (argc == 2 && !now_flag))
        return 2;
    buf_init(&text, 1u << 20);
    if (!tokenkeys_open(&t, cfg))
        goto done;
    why = retire_refusal(cfg, &t, argv[0], now_flag, (int64_t)time(NULL));
    if (why != NULL) {
        fprintf(stderr, "kontingentctl token retire: %s %s\n", argv[0], why);
        goto done;
    }
    staged(pub, cfg->token_public_key);
    if (!put_old_blocks(&text, &t, argv[0], NULL, 0) || text.overflow ||
        !write_new(pub, text.data, text.len, 0644) ||
        !check_public(pub, t.alg, jwt_key_id(t.signing), NULL) ||
        rename(pub, cfg->token_public_key) != 0) {
        fprintf(stderr, "kontingentctl token retire: cannot write %s; nothing changed\n",
                cfg->token_public_key);
        unlink(pub);
        goto done;
    }
    printf("retired %s: tokens it signed are refused from now on\n", argv[0]);
    keys_tell_workers(cfg);
    rc = 0;
done:
    buf_release(&text);
    tokenkeys_release(&t);
    return rc;
}
