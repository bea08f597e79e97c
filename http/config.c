/* config: the configuration file and environment variables, with defaults
 * and range checks. */
#include "http/config.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The configuration file's settings, read by config_load before any other
 * setting; process-wide like the environment they stand beside, and, like
 * config_load, filled before any thread starts. */
typedef struct {
    char name[64];
    char *value; /* owned */
    int line;
    bool used; /* read by config_load: a setting nobody reads is a typo */
} file_setting_t;

static file_setting_t file_settings[CONFIG_FILE_SETTINGS_MAX];
static int file_count;

static void
file_settings_clear(void)
{
    for (int i = 0; i < file_count; i++)
        free(file_settings[i].value);
    file_count = 0;
}

/* A setting: the environment's (when set and not empty), else the file's, else NULL. */
static const char *
setting(const char *name)
{
    const char *v = getenv(name);

    for (int i = 0; i < file_count; i++) {
        if (strcmp(file_settings[i].name, name) == 0) {
            file_settings[i].used = true;
            if (v == NULL || v[0] == '\0')
                v = file_settings[i].value;
            break;
        }
    }
    return (v != NULL && v[0] != '\0') ? v : NULL;
}

static const char *
env_or(const char *name, const char *fallback)
{
    const char *v = setting(name);
    return v != NULL ? v : fallback;
}

static bool
copy_value(char *dst, size_t size, const char *name, const char *value, kt_error_t *err)
{
    size_t n = strlen(value);

    if (n >= size) {
        kt_error_set(err, KT_DOMAIN_INTERNAL, KT_INTERNAL, "%s is too long", name);
        return false;
    }
    memcpy(dst, value, n + 1);
    return true;
}

/* A path setting: the variable, or var_dir + "/" + the default tail. */
static bool
path_value(char *dst, const char *name, const config_t *cfg, const char *tail, kt_error_t *err)
{
    const char *v = setting(name);
    char fallback[CONFIG_PATH_MAX];

    if (v != NULL && v[0] != '\0')
        return copy_value(dst, CONFIG_PATH_MAX, name, v, err);
    if (snprintf(fallback, sizeof fallback, "%s/%s", cfg->var_dir, tail) >= (int)sizeof fallback) {
        kt_error_set(err, KT_DOMAIN_INTERNAL, KT_INTERNAL, "KT_VAR is too long");
        return false;
    }
    return copy_value(dst, CONFIG_PATH_MAX, name, fallback, err);
}

static bool
number_value(const char *name, unsigned long long fallback, unsigned long long lo,
             unsigned long long hi, int base, unsigned long long *out, kt_error_t *err)
{
    const char *v = setting(name);
    char *end = NULL;

    *out = fallback;
    if (v == NULL || v[0] == '\0')
        return true;
    errno = 0;
    unsigned long long n = strtoull(v, &end, base);
    if (errno != 0 || end == v || *end != '\0' || v[0] == '-' || n < lo || n > hi) {
        kt_error_set(err, KT_DOMAIN_INTERNAL, KT_INTERNAL, "%s must be a number in %llu..%llu",
                     name, lo, hi);
        return false;
    }
    *out = n;
    return true;
}

static bool
load_numbers(config_t *cfg, kt_error_t *err)
{
    unsigned long long n;

    if (!number_value("KT_WORKERS", 2, 1, 64, 10, &n, err))
        return false;
    cfg->workers = (int)n;
    if (!number_value("KT_THREADS", 8, 1, 256, 10, &n, err))
        return false;
    cfg->threads = (int)n;
    if (!number_value("KT_MAX_BODY", 8u << 20, 1024, 1ull << 32, 10, &n, err))
        return false;
    cfg->max_body = (size_t)n;
    if (!number_value("KT_MAX_PACKAGE", 128u << 20, 1024, 1ull << 34, 10, &n, err))
        return false;
    cfg->max_package = (size_t)n;
    if (!number_value("KT_PACKAGE_INLINE_ITEMS", 500, 0, 1000000, 10, &n, err))
        return false;
    cfg->package_inline_items = (size_t)n;
    if (!number_value("KT_PACKAGE_SLOTS", 2, 1, 64, 10, &n, err))
        return false;
    cfg->package_slots = (int)n;
    if (!number_value("KT_PACKAGE_ATTEMPTS", 3, 1, 100, 10, &n, err))
        return false;
    cfg->package_attempts = (int)n;
    /* Pages stay below the store's 16 MB document limit (docs/xml-exchange.md). */
    if (!number_value("KT_RECEIPT_PAGE_BYTES", 4u << 20, 4096, 15u << 20, 10, &n, err))
        return false;
    cfg->receipt_page_bytes = (size_t)n;
    if (!number_value("KT_BACKLOG", 1024, 1, 65535, 10, &n, err))
        return false;
    cfg->backlog = (int)n;
    if (!number_value("KT_SOCKET_MODE", 0660, 0, 0777, 8, &n, err))
        return false;
    cfg->socket_mode = (unsigned)n;
    if (!number_value("KT_TOKEN_MAX_TTL", 86400, 60, CONFIG_TOKEN_TTL_CAP, 10, &n, err))
        return false;
    cfg->token_max_ttl = (long long)n;
    /* kontingentctl's progress lines when standard error is not a terminal. */
    if (!number_value("KT_PROGRESS_SECONDS", 10, 0, 3600, 10, &n, err))
        return false;
    cfg->progress_seconds = (long)n;
    return true;
}

/* KT_STORE names the backend; KT_SQLITE the embedded store's file (default
 * <KT_VAR>/data/<KT_DB>.db). */
static bool
store_value(config_t *cfg, kt_error_t *err)
{
    char rel[CONFIG_PATH_MAX];

    if (strcmp(cfg->store, "sqlite") != 0 && strcmp(cfg->store, "mongodb") != 0) {
        kt_error_set(err, KT_DOMAIN_INTERNAL, KT_INTERNAL,
                     "KT_STORE must be sqlite or mongodb, not \"%s\"", cfg->store);
        return false;
    }
    snprintf(rel, sizeof rel, "data/%s.db", cfg->db_name);
    return path_value(cfg->sqlite_path, "KT_SQLITE", cfg, rel, err);
}

/* KT_TIMEZONE: checked against the zone files and made the process's zone
 * here, at start, so that an unknown name stops the service before it
 * serves a single wrong date. */
static bool
timezone_value(config_t *cfg, kt_error_t *err)
{
    const char *name = env_or("KT_TIMEZONE", CALENDAR_ZONE_DEFAULT);

    return copy_value(cfg->time_zone, sizeof cfg->time_zone, "KT_TIMEZONE", name, err) &&
           calendar_zone_use(cfg->time_zone, err);
}

/* The name of a setting: a capital letter, then capitals, digits and '_'. */
static bool
name_valid(const char *s, size_t n)
{
    if (n == 0 || n >= sizeof file_settings[0].name || !isupper((unsigned char)s[0]))
        return false;
    for (size_t i = 0; i < n; i++)
        if (!isupper((unsigned char)s[i]) && !isdigit((unsigned char)s[i]) && s[i] != '_')
            return false;
    return true;
}

static char *
trim(char *s)
{
    size_t n = strlen(s);

    while (*s == ' ' || *s == '\t')
        s++, n--;
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
        s[--n] = '\0';
    return s;
}

/* One line: blank, "# comment", or NAME=value (spaces around either allowed; a
 * value in one pair of "" or '' quotes loses them, nothing is unescaped). */
static bool
parse_line(char *line, int lineno, const char *path, kt_error_t *err)
{
    char *s = trim(line), *eq, *value, *name;
    size_t n;

    if (s[0] == '\0' || s[0] == '#')
        return true;
    eq = strchr(s, '=');
    if (eq == NULL) {
        kt_error_set(err, KT_DOMAIN_INTERNAL, KT_INTERNAL, "%s: line %d: expected NAME=value", path,
                     lineno);
        return false;
    }
    *eq = '\0';
    name = trim(s);
    value = trim(eq + 1);
    if (!name_valid(name, strlen(name))) {
        kt_error_set(err, KT_DOMAIN_INTERNAL, KT_INTERNAL,
                     "%s: line %d: \"%s\" is not a setting's name (KT_...)", path, lineno, name);
        return false;
    }
    n = strlen(value);
    if (n >= 2 && (value[0] == '"' || value[0] == '\'') && value[n - 1] == value[0]) {
        value[n - 1] = '\0';
        value++;
    }
    for (int i = 0; i < file_count; i++) {
        if (strcmp(file_settings[i].name, name) == 0) {
            kt_error_set(err, KT_DOMAIN_INTERNAL, KT_INTERNAL,
                         "%s: line %d: %s is set twice (also on line %d)", path, lineno, name,
                         file_settings[i].line);
            return false;
        }
    }
    if (file_count == CONFIG_FILE_SETTINGS_MAX) {
        kt_error_set(err, KT_DOMAIN_INTERNAL, KT_INTERNAL, "%s: line %d: more than %d settings",
                     path, lineno, CONFIG_FILE_SETTINGS_MAX);
        return false;
    }
    file_setting_t *f = &file_settings[file_count];
    f->value = strdup(value);
    if (f->value == NULL) {
        kt_error_set(err, KT_DOMAIN_INTERNAL, KT_INTERNAL, "out of memory");
        return false;
    }
    snprintf(f->name, sizeof f->name, "%s", name);
    f->line = lineno;
    f->used = false;
    file_count++;
    return true;
}

static bool
read_file(FILE *f, const char *path, kt_error_t *err)
{
    char line[CONFIG_LINE_MAX + 2];
    int lineno = 0;

    while (fgets(line, sizeof line, f) != NULL) {
        size_t n = strlen(line);
        lineno++;
        if (n > CONFIG_LINE_MAX || (n == CONFIG_LINE_MAX && line[n - 1] != '\n' && !feof(f))) {
            kt_error_set(err, KT_DOMAIN_INTERNAL, KT_INTERNAL,
                         "%s: line %d is longer than %d bytes", path, lineno, CONFIG_LINE_MAX);
            return false;
        }
        if (n > 0 && line[n - 1] == '\n')
            line[n - 1] = '\0';
        if (!parse_line(line, lineno, path, err))
            return false;
    }
    if (ferror(f)) {
        kt_error_set(err, KT_DOMAIN_INTERNAL, KT_INTERNAL, "%s: cannot read it", path);
        return false;
    }
    return true;
}

/* KT_CONFIG names the file (it must exist); unset, CONFIG_FILE_DEFAULT is read
 * when it exists; set but empty, no file is read. */
static bool
config_file_load(char *used_path, kt_error_t *err)
{
    const char *path = getenv("KT_CONFIG");
    bool required = path != NULL;
    FILE *f;
    bool ok;

    file_settings_clear();
    used_path[0] = '\0';
    if (path == NULL)
        path = CONFIG_FILE_DEFAULT;
    if (path[0] == '\0')
        return true;
    f = fopen(path, "re");
    if (f == NULL) {
        if (!required && errno == ENOENT)
            return true;
        kt_error_set(err, KT_DOMAIN_INTERNAL, KT_INTERNAL, "KT_CONFIG %s: %s", path,
                     strerror(errno));
        return false;
    }
    ok = read_file(f, path, err);
    fclose(f);
    if (ok)
        snprintf(used_path, CONFIG_PATH_MAX, "%s", path);
    return ok;
}

/* A setting in the file that config_load did not read is misspelt or not the
 * service's: an error, not a silently ignored line. */
static bool
file_all_used(const char *path, kt_error_t *err)
{
    for (int i = 0; i < file_count; i++) {
        if (!file_settings[i].used) {
            kt_error_set(err, KT_DOMAIN_INTERNAL, KT_INTERNAL,
                         "%s: line %d: %s is not a setting of the service (docs/operations.md, "
                         "\"Settings\")",
                         path, file_settings[i].line, file_settings[i].name);
            return false;
        }
    }
    return true;
}

static bool load_settings(config_t *cfg, kt_error_t *err);

store_t *
config_store_new(const config_t *cfg, kt_error_t *err)
{
    store_options_t opts = {
        .backend = strcmp(cfg->store, "mongodb") == 0 ? STORE_MONGODB : STORE_SQLITE,
        .sqlite_path = cfg->sqlite_path,
        .mongodb_uri = cfg->mongodb_uri,
        .db_name = cfg->db_name,
    };

    return store_new(&opts, err);
}

bool
config_load(config_t *cfg, kt_error_t *err)
{
    bool ok;

    memset(cfg, 0, sizeof *cfg);
    ok = config_file_load(cfg->config_file, err) && load_settings(cfg, err) &&
         file_all_used(cfg->config_file, err);
    file_settings_clear();
    return ok;
}

static bool
load_settings(config_t *cfg, kt_error_t *err)
{
    if (!copy_value(cfg->var_dir, sizeof cfg->var_dir, "KT_VAR", env_or("KT_VAR", "var"), err) ||
        !path_value(cfg->socket_path, "KT_SOCKET", cfg, "run/kontingent.sock", err) ||
        !path_value(cfg->pid_file, "KT_PID_FILE", cfg, "run/kontingent-fcgi.pid", err) ||
        !path_value(cfg->token_public_key, "KT_TOKEN_PUBLIC_KEY", cfg, "keys/token-signing.pub",
                    err) ||
        !path_value(cfg->token_private_key, "KT_TOKEN_PRIVATE_KEY", cfg, "keys/token-signing.key",
                    err) ||
        !path_value(cfg->token_revoked, "KT_TOKEN_REVOKED", cfg, "tokens/revoked", err) ||
        !copy_value(cfg->token_issuer, sizeof cfg->token_issuer, "KT_TOKEN_ISSUER",
                    env_or("KT_TOKEN_ISSUER", "kontingentctl"), err) ||
        !copy_value(cfg->token_audience, sizeof cfg->token_audience, "KT_TOKEN_AUDIENCE",
                    env_or("KT_TOKEN_AUDIENCE", "kontingent"), err) ||
        !path_value(cfg->client_map, "KT_CLIENT_MAP", cfg, "tls/clients.map", err) ||
        !path_value(cfg->health_keys, "KT_HEALTH_KEYS", cfg, "keys/health.keys", err) ||
        !path_value(cfg->esia_keys, "KT_ESIA_KEYS", cfg, "keys/esia.pem", err) ||
        !copy_value(cfg->esia_issuer, sizeof cfg->esia_issuer, "KT_ESIA_ISSUER",
                    env_or("KT_ESIA_ISSUER", "http://esia.gosuslugi.ru/"), err) ||
        !copy_value(cfg->esia_audience, sizeof cfg->esia_audience, "KT_ESIA_AUDIENCE",
                    env_or("KT_ESIA_AUDIENCE", "kontingent"), err) ||
        !copy_value(cfg->mongodb_uri, sizeof cfg->mongodb_uri, "MONGODB_URI",
                    env_or("MONGODB_URI", "mongodb://127.0.0.1:27017/"), err) ||
        !copy_value(cfg->db_name, sizeof cfg->db_name, "KT_DB", env_or("KT_DB", "kontingent"),
                    err) ||
        !copy_value(cfg->store, sizeof cfg->store, "KT_STORE", env_or("KT_STORE", "sqlite"), err) ||
        !store_value(cfg, err) ||
        !copy_value(cfg->token_alg, sizeof cfg->token_alg, "KT_TOKEN_ALG",
                    env_or("KT_TOKEN_ALG", "EdDSA"), err) ||
        !copy_value(cfg->xsd_path, sizeof cfg->xsd_path, "KT_XSD",
                    env_or("KT_XSD", KT_SOURCE_DIR "/xsd/kontingent-exchange-1.xsd"), err) ||
        !copy_value(cfg->user, sizeof cfg->user, "KT_USER", env_or("KT_USER", ""), err) ||
        !copy_value(cfg->socket_group, sizeof cfg->socket_group, "KT_SOCKET_GROUP",
                    env_or("KT_SOCKET_GROUP", ""), err) ||
        !timezone_value(cfg, err))
        return false;
    return load_numbers(cfg, err);
}
