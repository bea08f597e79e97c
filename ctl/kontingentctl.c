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
 * The texts `--help` prints are the table `commands` below. Every command takes
 * --help and --version; a wrong argument is named, exit 2; import exits 1 when
 * an item is rejected. The configuration is the service's (config_load: the
 * file, then the environment). docs/operations.md, "kontingentctl".
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sys/mman.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <unistd.h>

#include "auth/jwt.h"
#include "core/progress.h"
#include "auth/revoke.h"
#include "ctl/keys.h"
#include "ctl/tokenkeys.h"
#include "ctl/feedepoch.h"
#include "ctl/migrate.h"
#include "service/export.h"
#include "service/ingest.h"
#include "http/config.h"
#include "model/validators.h"
#include "store/store.h"
#include "store/records.h"
#include "store/verify.h"

/* One command's help: `kontingentctl NAME --help` prints it on stdout. */
typedef struct {
    const char *name;     /* as typed: "token issue", "verify" */
    const char *synopsis; /* its arguments */
    const char *about;
} command_t;

static const command_t commands[] = {
    {"token issue", "--role ROLE [--org OGRN] [--ttl DURATION] [--sub NAME] [--scope health]",
     "Print a signed bearer token (KT_TOKEN_PRIVATE_KEY).\n"
     "  ROLE: region, school, ministry, auditor, admin\n"
     "  DURATION: a number with s, m, h or d (default 1h), at most KT_TOKEN_MAX_TTL (24h)\n"},
    {"token revoke", "--jti ID | --subject NAME",
     "Add a token id or a subject to the revocation list (KT_TOKEN_REVOKED); the workers\n"
     "apply it within a second.\n"},
    {"token kid", "", "Print the key id (RFC 7638 thumbprint) of the token-signing key.\n"},
    {"token rotate", "",
     "Add a new token-signing key; new tokens are signed with it, tokens of the older keys\n"
     "stay valid until those are retired (docs/operations.md, \"Rotating token keys\").\n"},
    {"token retire", "KID [--now]",
     "Stop accepting tokens signed with the key KID (after its overlap; --now at once).\n"},
    {"epoch", "[renew]",
     "Print the change feed's epoch; renew starts a new one (after a restore: sync clients\n"
     "resynchronise, docs/operations.md).\n"},
    {"init", "", "Create the store's tables or indexes (idempotent; the workers do it too).\n"},
    {"verify", "",
     "Recompute every student's and organisation's hash chain and find claim keys two\n"
     "active students carry. Exit 1 on a broken link or a duplicate key.\n"},
    {"repair", "",
     "Complete interrupted writes (heads that lag their versions) and restore missing\n"
     "claims.\n"},
    {"import", "FILE [--receipt OUT]",
     "Apply an XML package offline, through the code of POST /api/v1/packages (as the\n"
     "principal \"kontingentctl\", admin); --receipt writes the receipt (0600).\n"
     "Exit 0 when every item was applied, 1 when any was rejected (the receipt says\n"
     "which and why) or the package failed.\n"},
    {"export", "--organization OGRN [--as-of 2026-09-20T00:00:00.000Z]",
     "Write the organisation's students as a Packet on standard output (the code of\n"
     "GET /api/v1/export). When the store fails: exit 1 and no whole Packet.\n"},
    {"keys", "rotate [--grace SECONDS] | rewrap | status | retire KID",
     "The health data's master keys (KT_HEALTH_KEYS; docs/health.md, \"Keys\").\n"},
    {"migrate", "--to sqlite|mongodb [--sqlite FILE] [--mongodb-uri URI] [--db NAME]",
     "Copy the registry to the other store implementation, rebuild its heads and claims,\n"
     "and verify it.\n"},
};

#define COMMANDS (sizeof commands / sizeof *commands)

static const char help_footer[] =
    "\n"
    "Options of every command: --help (this text, exit 0), --version.\n"
    "Configuration: the service's own, /etc/kontingent/kontingent.conf (or the file\n"
    "KT_CONFIG names; KT_CONFIG= reads none), then the environment (KT_VAR, KT_STORE,\n"
    "KT_SQLITE, MONGODB_URI, KT_TOKEN_PRIVATE_KEY, ...), which overrides the file.\n"
    "Long commands (import, export, verify, repair) show a progress bar on a terminal and\n"
    "a line every KT_PROGRESS_SECONDS (10) otherwise, on standard error.\n"
    "Exit status: 0 done, 1 failed (or, for import, an item rejected; for verify, a\n"
    "broken chain), 2 the arguments are wrong.\n";

/* The whole list, on stdout for --help, on stderr after a wrong command. */
static void
print_usage(FILE *out)
{
    for (size_t i = 0; i < COMMANDS; i++)
        fprintf(out, "%s kontingentctl %s%s%s\n", i == 0 ? "usage:" : "      ", commands[i].name,
                commands[i].synopsis[0] ? " " : "", commands[i].synopsis);
}

static int
help_all(void)
{
    printf("kontingentctl %s: the operator's commands for the Kontingent registry\n\n", KT_VERSION);
    print_usage(stdout);
    printf("\nkontingentctl COMMAND --help says more about one command.\n%s", help_footer);
    return 0;
}

static int
help_command(const command_t *c)
{
    printf("usage: kontingentctl %s%s%s\n\n%s%s", c->name, c->synopsis[0] ? " " : "", c->synopsis,
           c->about, help_footer);
    return 0;
}

/* The command's synopsis on stderr; exit status 2. */
static int
command_usage(const char *command)
{
    for (size_t i = 0; i < COMMANDS; i++)
        if (strcmp(commands[i].name, command) == 0)
            fprintf(stderr, "usage: kontingentctl %s%s%s\n", command,
                    commands[i].synopsis[0] ? " " : "", commands[i].synopsis);
    fprintf(stderr, "(kontingentctl %s --help says more)\n", command);
    return 2;
}

/* A wrong argument: what is wrong with it, the command's synopsis; exit status 2. */
static int usage_error(const char *command, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int
usage_error(const char *command, const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "kontingentctl %s: ", command);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return command_usage(command);
}

/* token issue's wrong argument: named, with the usage; false for the parser. */
static bool token_arg_wrong(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static bool
token_arg_wrong(const char *fmt, ...)
{
    va_list ap;

    fputs("kontingentctl token issue: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    command_usage("token issue");
    return false;
}

/* Exactly no arguments left. */
static int
no_arguments(const char *command, int argc, char **argv)
{
    return argc == 0 ? 0 : usage_error(command, "unexpected argument \"%s\"", argv[0]);
}

/* A progress report on stderr: a bar on a terminal, else lines every
 * KT_PROGRESS_SECONDS. */
static void
progress_open(progress_t *p, const config_t *cfg, const char *what, const char *unit,
              long long total)
{
    progress_start(p, stderr, isatty(STDERR_FILENO) != 0, cfg->progress_seconds, what, unit, total);
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

/* token issue's options; a wrong one is named (exit 2 from the caller). */
static bool
parse_token_args(int argc, char **argv, jwt_claims_t *c, long long *ttl)
{
    const char *role = NULL;

    for (int i = 0; i < argc; i += 2) {
        const char *opt = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
        bool known = strcmp(opt, "--role") == 0 || strcmp(opt, "--org") == 0 ||
                     strcmp(opt, "--sub") == 0 || strcmp(opt, "--ttl") == 0 ||
                     strcmp(opt, "--scope") == 0;
        if (!known)
            return token_arg_wrong("unknown argument \"%s\"", opt);
        if (val == NULL)
            return token_arg_wrong("%s needs a value", opt);
        if (strcmp(opt, "--role") == 0)
            role = val;
        if (strcmp(opt, "--org") == 0 && !copy_arg(c->org, sizeof c->org, val))
            return token_arg_wrong("--org is too long");
        if (strcmp(opt, "--sub") == 0 && !copy_arg(c->sub, sizeof c->sub, val))
            return token_arg_wrong("--sub is longer than %zu bytes", sizeof c->sub - 1);
        if (strcmp(opt, "--ttl") == 0 && (*ttl = parse_duration(val)) < 0)
            return token_arg_wrong("--ttl \"%s\": expected a number with s, m, h or d (90s, 15m, "
                                   "8h, 1d)",
                                   val);
        if (strcmp(opt, "--scope") == 0 && strcmp(val, "health") != 0)
            return token_arg_wrong("--scope \"%s\": the only scope is health", val);
        if (strcmp(opt, "--scope") == 0)
            c->scopes |= SCOPE_HEALTH;
    }
    if (role == NULL)
        return token_arg_wrong("--role is required");
    /* "ministry" is resolved as a token's role claim is (docs/security.md,
     * "Migration of ministry tokens"); the portal authenticates by its
     * certificate only, never by a token. */
    c->role = principal_role_resolve(role, c->scopes);
    if (c->role == ROLE_NONE || c->role == ROLE_PORTAL)
        return token_arg_wrong("--role \"%s\": expected region, school, ministry_education, "
                               "ministry_health, auditor or admin",
                               role);
    return true;
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
        return 2;
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
        return argc == 0 || (strcmp(argv[0], "--jti") && strcmp(argv[0], "--subject"))
                   ? usage_error("token revoke", "expected --jti ID or --subject NAME")
                   : usage_error("token revoke", "%s needs exactly one value", argv[0]);
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
    progress_t p;
    long records = 0;
    if (cmd != STORE_CMD_INIT) {
        /* The total makes the bar; without it (the count failed) a count still shows. */
        if (!verify_count(conn, &records, &err))
            records = 0;
        kt_error_clear(&err);
        progress_open(&p, cfg, cmd == STORE_CMD_VERIFY ? "verify" : "repair", "records", records);
        verify_progress_use(&p);
    }
    bool ok = run_store_cmd(conn, cmd, &clean, &err);
    if (cmd != STORE_CMD_INIT) {
        verify_progress_use(NULL);
        progress_finish(&p);
    }
    if (!ok)
        fprintf(stderr, "kontingentctl: %s\n", err.message);
    store_conn_push(conn);
    store_free(store);
    return ok && clean ? 0 : 1;
}

/* ingest's progress callback: items done so far. */
static bool
import_progress(void *arg, size_t done)
{
    progress_update(arg, (long long)done);
    return true;
}

/* The receipt names students: 0600 (umask 077, set in main). */
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
    principal_t who = {.subject = "kontingentctl", .role = ROLE_ADMIN, .method = AUTH_LOCAL};
    kt_error_t err;
    ingest_totals_t t;
    char *receipt = NULL;
    size_t receipt_len = 0;
    int rc = 1;

    kt_error_clear(&err);
    xmlio_schema_t *schema = xmlio_schema_load(cfg->xsd_path, &err);
    store_t *store = schema ? config_store_new(cfg, &err) : NULL;
    store_conn_t *conn = store ? store_conn_pop(store, STORE_POOL_BATCH) : NULL;
    progress_t p;
    progress_open(&p, cfg, "import", "items", 0);
    ingest_ctx_t ctx = {conn, schema, &who, import_progress, &p, 0, NULL, cfg->receipt_page_bytes};
    bool queued = false;
    char packet_id[INGEST_ID_MAX];
    bool ok = conn != NULL &&
              ingest_package(&ctx, data, len, &receipt, &receipt_len, &t, &queued, packet_id, &err);
    progress_finish(&p);
    if (ok) {
        printf("received %ld: created %ld, updated %ld, unchanged %ld, deleted %ld, rejected %ld\n",
               t.received, t.created, t.updated, t.unchanged, t.deleted, t.rejected);
        rc = 0;
        if (receipt_path && !write_receipt(receipt_path, receipt, receipt_len)) {
            fprintf(stderr, "kontingentctl import: cannot write the receipt to %s\n", receipt_path);
            rc = 1;
        }
        if (t.rejected > 0) {
            fprintf(stderr, "kontingentctl import: %ld of %ld items rejected (%s)\n", t.rejected,
                    t.received, receipt_path ? "the receipt says why" : "--receipt FILE says why");
            rc = 1;
        }
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
    const char *receipt = NULL, *file = NULL;
    struct stat st;
    int fd, rc;

    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--receipt") == 0 && i + 1 < argc)
            receipt = argv[++i];
        else if (strcmp(argv[i], "--receipt") == 0)
            return usage_error("import", "--receipt needs a file");
        else if (argv[i][0] == '-' && argv[i][1] != '\0')
            return usage_error("import", "unknown argument \"%s\"", argv[i]);
        else if (file != NULL)
            return usage_error("import", "one FILE only, not also \"%s\"", argv[i]);
        else
            file = argv[i];
    }
    if (file == NULL)
        return usage_error("import", "FILE is required");
    fd = open(file, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || fstat(fd, &st) != 0 || st.st_size == 0) {
        fprintf(stderr, "kontingentctl import: cannot read %s%s\n", file,
                fd >= 0 ? " (empty)" : "");
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

/* export's writer: standard output, and the bytes so far to the progress. */
typedef struct {
    progress_t progress;
    long long bytes;
} export_out_t;

static bool
write_stdout(void *wctx, const char *data, size_t len)
{
    export_out_t *o = wctx;

    o->bytes += (long long)len;
    progress_update(&o->progress, o->bytes);
    return fwrite(data, 1, len, stdout) == len;
}

static int
cmd_export(const config_t *cfg, int argc, char **argv)
{
    principal_t who = {.subject = "kontingentctl", .role = ROLE_ADMIN, .method = AUTH_LOCAL};
    export_t e = {.principal = &who, .request_id = "kontingentctl"};
    kt_error_t err;

    export_out_t out = {0};

    for (int i = 0; i < argc; i += 2) {
        if (strcmp(argv[i], "--organization") && strcmp(argv[i], "--as-of"))
            return usage_error("export", "unknown argument \"%s\"", argv[i]);
        if (i + 1 >= argc)
            return usage_error("export", "%s needs a value", argv[i]);
        if (strcmp(argv[i], "--organization") == 0)
            e.org = argv[i + 1];
        else
            e.as_of = argv[i + 1];
    }
    if (e.org == NULL)
        return usage_error("export", "--organization is required");
    kt_error_clear(&err);
    store_t *store = config_store_new(cfg, &err);
    if (store == NULL) {
        fprintf(stderr, "kontingentctl export: %s\n", err.message);
        return 1;
    }
    e.conn = store_conn_pop(store, STORE_POOL_BATCH);
    /* Nothing is written unless the first page was read; a later failure
     * leaves a cut, not well-formed Packet ending in EXPORT_FAILED_MARK. */
    progress_open(&out.progress, cfg, "export", "bytes", 0);
    bool ok = export_begin(&e, &err) && export_send(&e, write_stdout, &out, &err);
    progress_finish(&out.progress);
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

/* keys' arguments checked here, so that a wrong one is named (ctl/keys.c runs them). */
static int
check_keys_args(int argc, char **argv)
{
    char *end = NULL;
    long grace;

    if (argc == 0)
        return usage_error("keys", "rotate, rewrap, status or retire is required");
    if (strcmp(argv[0], "rewrap") == 0 || strcmp(argv[0], "status") == 0)
        return no_arguments("keys", argc - 1, argv + 1);
    if (strcmp(argv[0], "retire") == 0)
        return argc == 2 ? 0 : usage_error("keys", "retire needs exactly one KID");
    if (strcmp(argv[0], "rotate") != 0)
        return usage_error("keys", "unknown argument \"%s\"", argv[0]);
    if (argc == 1)
        return 0;
    if (strcmp(argv[1], "--grace") != 0)
        return usage_error("keys", "unknown argument \"%s\"", argv[1]);
    if (argc != 3)
        return usage_error("keys", "--grace needs one number of seconds, 0..3600");
    grace = strtol(argv[2], &end, 10);
    if (end == argv[2] || *end != '\0' || grace < 0 || grace > 3600)
        return usage_error("keys", "--grace \"%s\": a number of seconds, 0..3600", argv[2]);
    return 0;
}

/* The command argv names (one word, or two for token's); NULL when none. */
static const command_t *
find_command(int argc, char **argv, int *words)
{
    char name[64];

    for (size_t i = 0; i < COMMANDS; i++) {
        *words = strchr(commands[i].name, ' ') ? 2 : 1;
        if (*words == 2 && argc >= 3)
            snprintf(name, sizeof name, "%s %s", argv[1], argv[2]);
        else
            snprintf(name, sizeof name, "%s", argv[1]);
        if (argc >= 1 + *words && strcmp(name, commands[i].name) == 0)
            return &commands[i];
    }
    return NULL;
}

/* --help or --version among a command's arguments: answered before anything else. */
static int
help_or_version(const command_t *c, int argc, char **argv)
{
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
            return help_command(c);
        if (strcmp(argv[i], "--version") == 0) {
            printf("kontingentctl %s\n", KT_VERSION);
            return 0;
        }
    }
    return -1;
}

/* A command that reads the registry must find it: SQLite would create a new,
 * empty file where a misconfigured path points, and verify would say OK, export
 * write an empty Packet, keys rotate write a key and then fail its rewrap. Only
 * init makes a store. */
static bool
store_found(const config_t *cfg, const char *command)
{
    struct stat st;

    if (strcmp(cfg->store, "sqlite") != 0 || stat(cfg->sqlite_path, &st) == 0)
        return true;
    fprintf(stderr,
            "kontingentctl %s: there is no store at %s (KT_SQLITE; configuration: %s): point "
            "KT_CONFIG or KT_VAR at the service's, or make a new one with kontingentctl init\n",
            command, cfg->sqlite_path,
            cfg->config_file[0] ? cfg->config_file : "the environment alone");
    return false;
}

static int
run_command(const config_t *cfg, const command_t *c, int argc, char **argv)
{
    const char *n = c->name;
    int rc;

    if (strncmp(n, "token ", 6) != 0 && strcmp(n, "init") != 0 && !store_found(cfg, n))
        return 1;

    if (strcmp(n, "token issue") == 0)
        return cmd_token_issue(cfg, argc, argv);
    if (strcmp(n, "token revoke") == 0)
        return cmd_token_revoke(cfg, argc, argv);
    if (strcmp(n, "token rotate") == 0 || strcmp(n, "token retire") == 0) {
        rc = strcmp(n, "token rotate") == 0 ? tokenkeys_rotate(cfg, argc, argv)
                                            : tokenkeys_retire(cfg, argc, argv);
        return rc == 2 ? command_usage(n) : rc;
    }
    if (strcmp(n, "epoch") == 0) {
        rc = feedepoch_command(cfg, argc, argv);
        return rc == 2 ? command_usage(n) : rc;
    }
    if (strcmp(n, "import") == 0)
        return cmd_import(cfg, argc, argv);
    if (strcmp(n, "export") == 0)
        return cmd_export(cfg, argc, argv);
    if (strcmp(n, "migrate") == 0) {
        rc = migrate_command(cfg, argc, argv);
        return rc == 2 ? command_usage("migrate") : rc; /* it named the argument */
    }
    if (strcmp(n, "keys") == 0) {
        if ((rc = check_keys_args(argc, argv)) != 0)
            return rc;
        rc = keys_command(cfg, argc, argv);
        return rc == 2 ? usage_error("keys", "the arguments are not valid") : rc;
    }
    if ((rc = no_arguments(n, argc, argv)) != 0)
        return rc;
    if (strcmp(n, "token kid") == 0)
        return cmd_token_kid(cfg);
    return cmd_store(cfg, strcmp(n, "init") == 0     ? STORE_CMD_INIT
                          : strcmp(n, "verify") == 0 ? STORE_CMD_VERIFY
                                                     : STORE_CMD_REPAIR);
}

int
main(int argc, char **argv)
{
    config_t cfg;
    kt_error_t err;
    const command_t *c;
    int words, rc;

    /* Whatever it writes (a receipt, a new store file, keys) is for its owner alone. */
    umask(077);
    if (argc < 2) {
        print_usage(stderr);
        fprintf(stderr, "(kontingentctl --help says more)\n");
        return 2;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0)
        return help_all();
    if (strcmp(argv[1], "--version") == 0) {
        printf("kontingentctl %s\n", KT_VERSION);
        return 0;
    }
    c = find_command(argc, argv, &words);
    if (c == NULL) {
        fprintf(stderr, "kontingentctl: unknown command \"%s%s%s\"\n", argv[1],
                argc > 2 && strcmp(argv[1], "token") == 0 ? " " : "",
                argc > 2 && strcmp(argv[1], "token") == 0 ? argv[2] : "");
        print_usage(stderr);
        return 2;
    }
    argc -= 1 + words;
    argv += 1 + words;
    if ((rc = help_or_version(c, argc, argv)) >= 0)
        return rc;
    kt_error_clear(&err);
    if (!config_load(&cfg, &err)) {
        fprintf(stderr, "kontingentctl: configuration: %s\n", err.message);
        return 1;
    }
    return run_command(&cfg, c, argc, argv);
}
