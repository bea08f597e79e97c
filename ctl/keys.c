/*
 * keys: the health key file and rotation, for kontingentctl.
 *
 *   keys rotate [--grace S]  make a new master key (KEK), wrap every data key
 *                            under it, and only then write it to the key file
 *                            as current (a store that fails before leaves the
 *                            file as it was), tell the workers (SIGHUP to the
 *                            master, which starts fresh workers that read it),
 *                            wait S seconds (default 3), then re-wrap the data
 *                            keys made meanwhile, pass after pass, until a pass
 *                            finds nothing left
 *   keys rewrap              resume an interrupted re-wrap (idempotent)
 *   keys status              the KEKs of the file and how many data keys each
 *                            one wraps; exit 1 while some lack the current one
 *   keys retire KID          remove an old KEK from the file once no data key
 *                            depends on it alone, and tell the workers
 *
 * Re-wrapping adds a wrap and never removes one, so a worker that still
 * holds only the old KEK keeps reading every block while the rotation runs.
 */
#include "ctl/keys.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "service/healthdata.h"
#include "store/store.h"

#define KEYS_GRACE_DEFAULT 3
#define KEYS_PASSES_MAX    100

typedef struct {
    const config_t *cfg;
    store_t *store;
    seal_keyring_t ring;
    healthdata_t h;
} keys_ctx_t;

static bool
keys_open(keys_ctx_t *k, const config_t *cfg)
{
    kt_error_t err;

    kt_error_clear(&err);
    memset(k, 0, sizeof *k);
    k->cfg = cfg;
    if (!seal_keyring_load(&k->ring, cfg->health_keys, &err)) {
        fprintf(stderr, "kontingentctl keys: %s\n", err.message);
        return false;
    }
    k->store = config_store_new(cfg, &err);
    if (k->store == NULL) {
        fprintf(stderr, "kontingentctl keys: %s\n", err.message);
        return false;
    }
    k->h.ring = &k->ring;
    k->h.conn = store_conn_pop(k->store, STORE_POOL_BATCH);
    return true;
}

static void
keys_close(keys_ctx_t *k)
{
    if (k->h.conn != NULL)
        store_conn_push(k->h.conn);
    store_free(k->store);
    seal_keyring_wipe(&k->ring);
}

/* Writes the ring to the key file: a temporary file (0600) renamed over it. */
static bool
keys_write_file(const char *path, const seal_keyring_t *ring)
{
    char tmp[CONFIG_PATH_MAX + 8], b64[64];
    int fd;
    FILE *f;
    bool ok;

    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    f = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (f == NULL) {
        fprintf(stderr, "kontingentctl keys: %s: %s\n", tmp, strerror(errno));
        if (fd >= 0)
            close(fd);
        return false;
    }
    fprintf(f, "# Health data master keys (docs/health.md). The last one is current.\n");
    for (size_t i = 0; i < ring->n; i++) {
        EVP_EncodeBlock((unsigned char *)b64, ring->keys[i].key, SEAL_KEY_LEN);
        fprintf(f, "%s %s\n", ring->keys[i].id, b64);
    }
    OPENSSL_cleanse(b64, sizeof b64);
    ok = fflush(f) == 0 && fsync(fileno(f)) == 0;
    ok = fclose(f) == 0 && ok && rename(tmp, path) == 0;
    if (!ok)
        fprintf(stderr, "kontingentctl keys: cannot write %s: %s\n", path, strerror(errno));
    return ok;
}

/* SIGHUP to the master: fresh workers read the key file. */
void
keys_tell_workers(const config_t *cfg)
{
    FILE *f = fopen(cfg->pid_file, "re");
    long pid = 0;

    if (f != NULL && fscanf(f, "%ld", &pid) == 1 && pid > 1 && kill((pid_t)pid, SIGHUP) == 0)
        printf("told the service (pid %ld) to reload its keys\n", pid);
    else
        printf("no running service found (%s): it reads the keys when it starts\n", cfg->pid_file);
    if (f != NULL)
        fclose(f);
}

/* "k<N+1>" for the highest "k<N>" of the ring. */
static void
keys_next_id(const seal_keyring_t *ring, char out[SEAL_ID_MAX + 1])
{
    long top = 0;

    for (size_t i = 0; i < ring->n; i++) {
        char *end = NULL;
        const char *id = ring->keys[i].id;
        long n = id[0] == 'k' ? strtol(id + 1, &end, 10) : 0;
        if (end != NULL && *end == '\0' && n > top)
            top = n;
    }
    snprintf(out, SEAL_ID_MAX + 1, "k%ld", top + 1);
}

/* Re-wrap passes until one finds nothing; pause seconds between passes. */
static bool
keys_rewrap_all(keys_ctx_t *k, unsigned pause)
{
    kt_error_t err;
    long done = 0, total = 0;

    for (int pass = 0; pass < KEYS_PASSES_MAX; pass++) {
        kt_error_clear(&err);
        if (!healthdata_rewrap_pass(&k->h, &done, &err)) {
            fprintf(stderr, "kontingentctl keys: re-wrap failed (%s): %s\n", kt_code_name(err.code),
                    err.message);
            return false;
        }
        total += done;
        printf("re-wrap pass %d: %ld data keys\n", pass + 1, done);
        if (done == 0 && pass > 0)
            break;
        sleep(pause);
    }
    printf("re-wrapped %ld data keys under %s\n", total, k->ring.keys[k->ring.n - 1].id);
    return true;
}

static int
keys_rotate(const config_t *cfg, unsigned grace)
{
    keys_ctx_t k;
    seal_kek_t *kek;
    int rc = 1;

    if (!keys_open(&k, cfg))
        goto done;
    if (k.ring.n == SEAL_KEYS_MAX) {
        fprintf(stderr, "kontingentctl keys: the key file holds %d keys; retire some\n",
                SEAL_KEYS_MAX);
        goto done;
    }
    kek = &k.ring.keys[k.ring.n];
    keys_next_id(&k.ring, kek->id);
    if (RAND_bytes(kek->key, SEAL_KEY_LEN) != 1)
        goto done;
    k.ring.n++;
    /* All or nothing: every data key gets a wrap under the new KEK before the
     * file names it (a wrap adds, never replaces: the workers, which do not
     * know the new KEK yet, read on). A store that cannot be reached or
     * written fails here, and the key file is untouched. */
    printf("new key %s: wrapping every data key under it first\n", kek->id);
    if (!keys_rewrap_all(&k, 0)) {
        fprintf(stderr, "kontingentctl keys: nothing changed: %s still holds the old keys\n",
                cfg->health_keys);
        goto done;
    }
    if (!keys_write_file(cfg->health_keys, &k.ring))
        goto done;
    printf("new current key %s in %s\n", kek->id, cfg->health_keys);
    keys_tell_workers(cfg);
    /* Data keys the old workers made meanwhile, wrapped under the old KEK
     * only: readable by all, re-wrapped now (or by `keys rewrap`). */
    sleep(grace);
    rc = keys_rewrap_all(&k, grace > 0 ? 1 : 0) ? 0 : 1;
done:
    keys_close(&k);
    return rc;
}

static int
keys_rewrap(const config_t *cfg)
{
    keys_ctx_t k;
    int rc = 1;

    if (keys_open(&k, cfg) && k.ring.n > 0)
        rc = keys_rewrap_all(&k, 0) ? 0 : 1;
    else if (k.store != NULL)
        fprintf(stderr, "kontingentctl keys: no key file %s\n", cfg->health_keys);
    keys_close(&k);
    return rc;
}

/* Prints the counts; *complete when every data key has a current wrap. */
static bool
keys_print_status(keys_ctx_t *k, bool *complete)
{
    long total = 0, per[SEAL_KEYS_MAX], unknown = 0;
    kt_error_t err;

    kt_error_clear(&err);
    *complete = false;
    if (!healthdata_key_counts(&k->h, &total, per, &unknown, &err)) {
        fprintf(stderr, "kontingentctl keys: %s\n", err.message);
        return false;
    }
    printf("key file %s: %zu keys\n", k->cfg->health_keys, k->ring.n);
    for (size_t i = 0; i < k->ring.n; i++)
        printf("  %-12s wraps %ld of %ld data keys%s\n", k->ring.keys[i].id, per[i], total,
               i + 1 == k->ring.n ? "  (current)" : "");
    if (unknown > 0)
        printf("  %ld data keys have no wrap under any key of the file\n", unknown);
    *complete = k->ring.n > 0 && per[k->ring.n - 1] == total;
    printf("re-wrap %s\n", *complete ? "complete" : "incomplete: run kontingentctl keys rewrap");
    return true;
}

static int
keys_status(const config_t *cfg)
{
    keys_ctx_t k;
    bool complete = false;
    int rc = 1;

    if (keys_open(&k, cfg) && keys_print_status(&k, &complete))
        rc = complete ? 0 : 1;
    keys_close(&k);
    return rc;
}

static int
keys_retire(const config_t *cfg, const char *kid)
{
    keys_ctx_t k;
    bool complete = false;
    int rc = 1;
    size_t at = 0;

    if (!keys_open(&k, cfg) || !keys_print_status(&k, &complete))
        goto done;
    while (at < k.ring.n && strcmp(k.ring.keys[at].id, kid) != 0)
        at++;
    if (at == k.ring.n || at + 1 == k.ring.n || !complete) {
        fprintf(stderr, "kontingentctl keys: %s is %s\n", kid,
                at == k.ring.n       ? "not in the key file"
                : at + 1 == k.ring.n ? "the current key"
                                     : "still needed: finish the re-wrap first");
        goto done;
    }
    memmove(&k.ring.keys[at], &k.ring.keys[at + 1], (k.ring.n - at - 1) * sizeof k.ring.keys[0]);
    k.ring.n--;
    if (!keys_write_file(cfg->health_keys, &k.ring))
        goto done;
    printf("retired %s\n", kid);
    keys_tell_workers(cfg);
    rc = 0;
done:
    keys_close(&k);
    return rc;
}

int
keys_command(const config_t *cfg, int argc, char **argv)
{
    if (argc == 1 && strcmp(argv[0], "rotate") == 0)
        return keys_rotate(cfg, KEYS_GRACE_DEFAULT);
    if (argc == 3 && strcmp(argv[0], "rotate") == 0 && strcmp(argv[1], "--grace") == 0) {
        char *end = NULL;
        long s = strtol(argv[2], &end, 10);
        if (end != argv[2] && *end == '\0' && s >= 0 && s <= 3600)
            return keys_rotate(cfg, (unsigned)s);
    }
    if (argc == 1 && strcmp(argv[0], "rewrap") == 0)
        return keys_rewrap(cfg);
    if (argc == 1 && strcmp(argv[0], "status") == 0)
        return keys_status(cfg);
    if (argc == 2 && strcmp(argv[0], "retire") == 0)
        return keys_retire(cfg, argv[1]);
    return 2;
}
