/*
 * kontingentctl: the operator's command line over the same library as the
 * server. Commands:
 *   token issue --role R [--org OGRN] [--ttl DURATION] [--sub NAME] [--scope S]
 *   token revoke --jti ID | --subject NAME   add to the revocation list
 *             (KT_TOKEN_REVOKED); the workers apply it within a second
 *   token kid  the key id (RFC 7638 thumbprint) of the signing key
 *   init      create the store's indexes (idempotent; workers do it at start too)
 *   verify    recompute every student's and organisation's hash chain and find claim
 *             keys (СНИЛС, document) two active students carry; exit 1 on a broken
 *             link or a duplicate key
 *   repair    complete interrupted writes (heads that lag their versions) and claim
 *             the keys active students carry without a claim (re-derived keys)
 *   import FILE [--receipt OUT]  apply an XML package offline, through the same
 *             code path as POST /api/v1/packages (as principal "kontingentctl", admin)
 *   export --organization OGRN [--as-of TIME]  the organisation's students as a
 *             Packet on standard output (the code of GET /api/v1/export); when the
 *             store fails, exit 1 and no whole Packet (docs/xml-exchange.md)
 *   keys rotate [--grace S] | rewrap | status | retire KID  the health data's
 *             master keys (ctl/keys.c)
 *   migrate --to sqlite|mongodb [--sqlite FILE] [--mongodb-uri URI] [--db NAME]
 *             copy the registry to the other store implementation, rebuild its
 *             heads and claims, verify it (ctl/migrate.c)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sys/mman.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <unistd.h>

#include "auth/jwt.h"
#include "auth/revoke.h"
#include "ctl/keys.h"
#include "ctl/migrate.h"
#include "service/export.h"
#include "service/ingest.h"
#include "http/config.h"
#include "model/validators.h"
#include "store/store.h"
#include "store/records.h"
#include "store/verify.h"

static int
usage(void)
{
    fprintf(stderr,
            "usage: kontingentctl token issue --role ROLE [--org OGRN] [--ttl DURATION]\n"
            "                                [--sub NAME] [--scope health]\n"
            "       kontingentctl token revoke --jti ID | --subject NAME\n"
            "       kontingentctl token kid\n"
            "       kontingentctl init | verify | repair\n"
            "       kontingentctl import FILE [--receipt OUT]\n"
            "       kontingentctl export --organization OGRN [--as-of 2026-09-20T00:00:00.000Z]\n"
            "       kontingentctl keys rotate [--grace SECONDS] | rewrap | status | retire KID\n"
            "       kontingentctl migrate --to sqlite|mongodb [--sqlite FILE]\n"
            "                             [--mongodb-uri URI] [--db NAME]\n"
            "  ROLE: region, school, ministry, auditor, admin\n"
            "  DURATION: a number with s, m, h or d (default 1h), at most KT_TOKEN_MAX_TTL (24h)\n"
            "configuration comes from the environment (KT_VAR, KT_TOKEN_PRIVATE_KEY, ...)\n");
    return 2;
}

/* "90s", "15m", "12h", "30d" → seconds; -1 when malformed. Whether it is
 * allowed is the caller's question (KT_TOKEN_MAX_TTL). */
static long long
parse_duration(const char *s)
{
    char *end = NULL;
    long long n;

    if (s[0] < '0' || s[0] > '9')
        return -1;
    n = strtoll(s, &end, 10);
    if (end == s || n <= 0 || n > 1000000000LL)
        return -1;
    if (strcmp(end, "s") == 0 || *end == '\0')
        return n;
    if (strcmp(end, "m") == 0)
        return n * 60;
    if (strcmp(end, "h") == 0)
        return n * 3600;
    if (strcmp(end, "d") == 0)
        return n * 86400;
    return -1;
}

static bool
copy_arg(char *dst, size_t size, const char *value)
{
    size_t n = strlen(value);

    if (n >= size)
        return false;
    memcpy(dst, value, n + 1);
    return true;
}

static bool
parse_token_args(int argc, char **argv, jwt_claims_t *c, long long *ttl)
{
    for (int i = 0; i + 1 < argc; i += 2) {
        const char *opt = argv[i], *val = argv[i + 1];
        if (strcmp(opt, "--role") == 0)
            c->role = principal_role_parse(val);
        else if (strcmp(opt, "--org") == 0 && !copy_arg(c->org, sizeof c->org, val))
            return false;
        else if (strcmp(opt, "--sub") == 0 && !copy_arg(c->sub, sizeof c->sub, val))
            return false;
        else if (strcmp(opt, "--ttl") == 0 && (*ttl = parse_duration(val)) < 0)
            return false;
        else if (strcmp(opt, "--scope") == 0 && strcmp(val, "health") == 0)
            c->scopes |= SCOPE_HEALTH;
        else if (strcmp(opt, "--role") && strcmp(opt, "--org") && strcmp(opt, "--sub") &&
                 strcmp(opt, "--ttl") && strcmp(opt, "--scope"))
            return false;
    }
    return argc % 2 == 0 && c->role != ROLE_NONE;
}

/* What a valid token could still not be: too long-lived, or for an ОГРН
 * that no organisation can have. The messages say what to change. */
static bool
token_request_allowed(const config_t *cfg, const jwt_claims_t *c, long long ttl)
{
    if (ttl > cfg->token_max_ttl) {
        fprintf(stderr,
                "kontingentctl: --ttl is %lld seconds; a token may live at most %lld seconds "
                "(KT_TOKEN_MAX_TTL; at most %d)\n",
                ttl, cfg->token_max_ttl, CONFIG_TOKEN_TTL_CAP);
        return false;
    }
    if (c->org[0] != '\0' && (strlen(c->org) != 13 || !ogrn_valid(c->org))) {
        fprintf(stderr,
                "kontingentctl: --org %s is not an ОГРН (OGRN): 13 digits, the last a "
                "check digit\n",
                c->org);
        return false;
    }
    return true;
}

/* iss, aud and a fresh jti: what every worker demands (docs/operations.md, "Tokens"). */
static bool
token_stamp(const config_t *cfg, jwt_claims_t *c, long long ttl)
{
    snprintf(c->iss, sizeof c->iss, "%s", cfg->token_issuer);
    snprintf(c->aud, sizeof c->aud, "%s", cfg->token_audience);
    if (c->sub[0] == '\0')
        snprintf(c->sub, sizeof c->sub, "%s-cli", principal_role_name(c->role));
    c->iat = (int64_t)time(NULL);
    c->exp = c->iat + ttl;
    if (!jwt_new_id(c->jti)) {
        fprintf(stderr, "kontingentctl: no random bytes for the token id\n");
        return false;
    }
    return true;
}

static int
cmd_token_issue(const config_t *cfg, int argc, char **argv)
{
    jwt_claims_t claims = {0};
    long long ttl = 3600;
    kt_error_t err;
    jwt_alg_t alg;
    int rc = 1;

    kt_error_clear(&err);
    if (!parse_token_args(argc, argv, &claims, &ttl))
        return usage();
    if (!token_request_allowed(cfg, &claims, ttl) || !token_stamp(cfg, &claims, ttl))
        return 1;
    if (!jwt_alg_parse(cfg->token_alg, &alg)) {
        fprintf(stderr, "kontingentctl: KT_TOKEN_ALG must be EdDSA or ES256\n");
        return 1;
    }
    jwt_key_t *key = jwt_key_load_private(cfg->token_private_key, alg, &err);
    char *token = key ? jwt_sign(key, &claims, &err) : NULL;
    if (token != NULL) {
        printf("%s\n", token);
        if (isatty(STDERR_FILENO))
            fprintf(stderr, "jti %s (kontingentctl token revoke --jti %s)\n", claims.jti,
                    claims.jti);
        rc = 0;
    } else {
        fprintf(stderr, "kontingentctl: %s\n", err.message);
    }
    free(token);
    jwt_key_free(key);
    return rc;
}

/* token revoke --jti ID | --subject NAME: exit 2 on bad arguments, nothing written. */
static int
cmd_token_revoke(const config_t *cfg, int argc, char **argv)
{
    revoke_kind_t kind = REVOKE__MAX;
    kt_error_t err;

    kt_error_clear(&err);
    if (argc == 2 && strcmp(argv[0], "--jti") == 0)
        kind = REVOKE_JTI;
    else if (argc == 2 && strcmp(argv[0], "--subject") == 0)
        kind = REVOKE_SUBJECT;
    if (kind == REVOKE__MAX)
        return usage();
    if (!revoke_value_valid(kind, argv[1])) {
        fprintf(stderr, "kontingentctl: %s must be 1..255 bytes of %s\n", argv[0],
                kind == REVOKE_JTI ? "[A-Za-z0-9_-]" : "text without control characters");
        return 2;
    }
    if (!revoke_file_add(cfg->token_revoked, kind, argv[1], (int64_t)time(NULL), &err)) {
        fprintf(stderr, "kontingentctl: %s\n", err.message);
        return 1;
    }
    printf("revoked %s %s in %s; the workers apply it within %d ms\n",
           kind == REVOKE_JTI ? "jti" : "subject", argv[1], cfg->token_revoked, REVOKE_CHECK_MS);
    return 0;
}

/* token kid: the id the workers expect in a token's header. */
static int
cmd_token_kid(const config_t *cfg)
{
    kt_error_t err;
    jwt_alg_t alg;
    jwt_key_t *key;

    kt_error_clear(&err);
    if (!jwt_alg_parse(cfg->token_alg, &alg)) {
        fprintf(stderr, "kontingentctl: KT_TOKEN_ALG must be EdDSA or ES256\n");
        return 1;
    }
    key = jwt_key_load_public(cfg->token_public_key, alg, &err);
    if (key == NULL) {
        fprintf(stderr, "kontingentctl: %s\n", err.message);
        return 1;
    }
    printf("%s\n", jwt_key_id(key));
    jwt_key_free(key);
    return 0;
}

typedef enum { STORE_CMD_INIT, STORE_CMD_VERIFY, STORE_CMD_REPAIR } store_cmd_t;

static bool
run_store_cmd(store_conn_t *conn, store_cmd_t cmd, bool *clean, kt_error_t *err)
{
    verify_report_t r;

    *clean = true;
    switch (cmd) {
    case STORE_CMD_INIT:
        if (!store_prepare(conn, err))
            return false;
        printf("store ready\n");
        return true;
    case STORE_CMD_VERIFY:
        if (!verify_all(conn, stdout, &r, err))
            return false;
        printf("%s: %ld students, %ld versions, %ld broken, %ld incomplete, %ld duplicate keys; "
               "%ld organizations, %ld versions; %ld progress records, %ld versions\n",
               r.broken       ? "BROKEN"
               : r.duplicates ? "DUPLICATE"
                              : "OK",
               r.students, r.versions, r.broken, r.incomplete, r.duplicates, r.organizations,
               r.organization_versions, r.progress, r.progress_versions);
        *clean = r.broken == 0 && r.duplicates == 0;
        return true;
    case STORE_CMD_REPAIR:
        if (!verify_repair_all(conn, stdout, &r, err))
            return false;
        printf("repaired %ld of %ld students and %ld organizations; %ld claims restored, %ld "
               "keys held by another student (see verify)\n",
               r.repaired, r.students, r.organizations, r.claims_restored, r.claims_contested);
        return true;
    }
    return false;
}

static int
cmd_store(const config_t *cfg, store_cmd_t cmd)
{
    kt_error_t err;
    bool clean = false;

    kt_error_clear(&err);
    store_t *store = config_store_new(cfg, &err);
    if (store == NULL) {
        fprintf(stderr, "kontingentctl: %s\n", err.message);
        return 1;
    }
    store_conn_t *conn = store_conn_pop(store, STORE_POOL_BATCH);
    bool ok = run_store_cmd(conn, cmd, &clean, &err);
    if (!ok)
        fprintf(stderr, "kontingentctl: %s\n", err.message);
    store_conn_push(conn);
    store_free(store);
    return ok && clean ? 0 : 1;
}

/* A progress line on a terminal, nothing otherwise. */
static bool
progress(void *arg, size_t done)
{
    if (done % 100 == 0)
        fprintf(stderr, "\rimported %zu items", done);
    return true;
}

static bool
write_receipt(const char *path, const char *receipt, size_t len)
{
    FILE *f = fopen(path, "w");
    bool ok = f != NULL && fwrite(receipt, 1, len, f) == len;

    if (f != NULL && fclose(f) != 0)
        ok = false;
    return ok;
}

static int
import_mapped(const config_t *cfg, const char *data, size_t len, const char *receipt_path)
{
    principal_t who = {.subject = "kontingentctl", .role = ROLE_ADMIN, .method = AUTH_NONE};
    kt_error_t err;
    ingest_totals_t t;
    char *receipt = NULL;
    size_t receipt_len = 0;
    int rc = 1;

    kt_error_clear(&err);
    xmlio_schema_t *schema = xmlio_schema_load(cfg->xsd_path, &err);
    store_t *store = schema ? config_store_new(cfg, &err) : NULL;
    store_conn_t *conn = store ? store_conn_pop(store, STORE_POOL_BATCH) : NULL;
    ingest_ctx_t ctx = {conn, schema, &who, isatty(STDERR_FILENO) ? progress : NULL,
                        NULL, 0,      NULL, cfg->receipt_page_bytes};
    bool queued = false;
    char packet_id[INGEST_ID_MAX];
    if (conn != NULL &&
        ingest_package(&ctx, data, len, &receipt, &receipt_len, &t, &queued, packet_id, &err)) {
        fprintf(stderr, "%s", isatty(STDERR_FILENO) ? "\n" : "");
        printf("received %ld: created %ld, updated %ld, unchanged %ld, deleted %ld, rejected %ld\n",
               t.received, t.created, t.updated, t.unchanged, t.deleted, t.rejected);
        rc = receipt_path && !write_receipt(receipt_path, receipt, receipt_len) ? 1 : 0;
    } else {
        fprintf(stderr, "kontingentctl import: %s %s\n", kt_code_name(err.code), err.message);
    }
    free(receipt);
    if (store != NULL) {
        store_conn_push(conn);
        store_free(store);
    }
    xmlio_schema_free(schema);
    return rc;
}

static int
cmd_import(const config_t *cfg, int argc, char **argv)
{
    const char *receipt = argc == 3 && strcmp(argv[1], "--receipt") == 0 ? argv[2] : NULL;
    struct stat st;
    int fd, rc;

    if (argc != 1 && receipt == NULL)
        return usage();
    fd = open(argv[0], O_RDONLY | O_CLOEXEC);
    if (fd < 0 || fstat(fd, &st) != 0 || st.st_size == 0) {
        fprintf(stderr, "kontingentctl import: cannot read %s\n", argv[0]);
        if (fd >= 0)
            close(fd);
        return 1;
    }
    void *data = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (data == MAP_FAILED)
        return 1;
    rc = import_mapped(cfg, data, (size_t)st.st_size, receipt);
    munmap(data, (size_t)st.st_size);
    return rc;
}

static bool
write_stdout(void *wctx, const char *data, size_t len)
{
    return fwrite(data, 1, len, stdout) == len;
}

static int
cmd_export(const config_t *cfg, int argc, char **argv)
{
    principal_t who = {.subject = "kontingentctl", .role = ROLE_ADMIN, .method = AUTH_NONE};
    export_t e = {.principal = &who, .request_id = "kontingentctl"};
    kt_error_t err;

    for (int i = 0; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--organization") == 0)
            e.org = argv[i + 1];
        else if (strcmp(argv[i], "--as-of") == 0)
            e.as_of = argv[i + 1];
        else
            return usage();
    }
    if (e.org == NULL || argc % 2 != 0)
        return usage();
    kt_error_clear(&err);
    store_t *store = config_store_new(cfg, &err);
    if (store == NULL) {
        fprintf(stderr, "kontingentctl export: %s\n", err.message);
        return 1;
    }
    e.conn = store_conn_pop(store, STORE_POOL_BATCH);
    /* Nothing is written unless the first page was read; a later failure
     * leaves a cut, not well-formed Packet ending in EXPORT_FAILED_MARK. */
    bool ok = export_begin(&e, &err) && export_send(&e, write_stdout, NULL, &err);
    if (ok && fflush(stdout) != 0) {
        ok = false;
        kt_error_set(&err, KT_DOMAIN_INTERNAL, KT_INTERNAL, "cannot write the output");
    }
    if (!ok)
        fprintf(stderr,
                "kontingentctl export: the export failed, the output is not a package: %s\n",
                err.message);
    store_conn_push(e.conn);
    store_free(store);
    return ok ? 0 : 1;
}

int
main(int argc, char **argv)
{
    config_t cfg;
    kt_error_t err;

    kt_error_clear(&err);
    if (!config_load(&cfg, &err)) {
        fprintf(stderr, "kontingentctl: %s\n", err.message);
        return 1;
    }
    if (argc >= 3 && strcmp(argv[1], "token") == 0 && strcmp(argv[2], "issue") == 0)
        return cmd_token_issue(&cfg, argc - 3, argv + 3);
    if (argc >= 3 && strcmp(argv[1], "token") == 0 && strcmp(argv[2], "revoke") == 0)
        return cmd_token_revoke(&cfg, argc - 3, argv + 3);
    if (argc == 3 && strcmp(argv[1], "token") == 0 && strcmp(argv[2], "kid") == 0)
        return cmd_token_kid(&cfg);
    if (argc == 2 && strcmp(argv[1], "init") == 0)
        return cmd_store(&cfg, STORE_CMD_INIT);
    if (argc == 2 && strcmp(argv[1], "verify") == 0)
        return cmd_store(&cfg, STORE_CMD_VERIFY);
    if (argc == 2 && strcmp(argv[1], "repair") == 0)
        return cmd_store(&cfg, STORE_CMD_REPAIR);
    if (argc >= 3 && strcmp(argv[1], "import") == 0)
        return cmd_import(&cfg, argc - 2, argv + 2);
    if (argc >= 2 && strcmp(argv[1], "export") == 0)
        return cmd_export(&cfg, argc - 2, argv + 2);
    if (argc >= 2 && strcmp(argv[1], "migrate") == 0) {
        int rc = migrate_command(&cfg, argc - 2, argv + 2);
        return rc == 2 ? usage() : rc;
    }
    if (argc >= 3 && strcmp(argv[1], "keys") == 0) {
        int rc = keys_command(&cfg, argc - 2, argv + 2);
        return rc == 2 ? usage() : rc;
    }
    return usage();
}
