/*
 * config: the service's settings, read once from the configuration file and
 * the environment at start
 * (and again by new workers after SIGHUP). Read-only after that; the only
 * global state a worker has besides its pools. docs/operations.md lists
 * every variable with its default.
 */
#ifndef KT_CONFIG_H
#define KT_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "core/error.h"
#include "model/calendar.h"
#include "store/store.h"

#define CONFIG_PATH_MAX 1024

/* The configuration file read when KT_CONFIG is unset (docs/operations.md, "The
 * configuration file"); its bounds: settings, and bytes per line. */
#define CONFIG_FILE_DEFAULT      "/etc/kontingent/kontingent.conf"
#define CONFIG_FILE_SETTINGS_MAX 128
#define CONFIG_LINE_MAX          4096

/* The longest lifetime KT_TOKEN_MAX_TTL may allow (docs/operations.md, "Tokens"). */
#define CONFIG_TOKEN_TTL_CAP (30 * 86400)

typedef struct {
    char config_file[CONFIG_PATH_MAX];       /* the file read, "" when none */
    char var_dir[CONFIG_PATH_MAX];           /* KT_VAR, default "var" */
    char socket_path[CONFIG_PATH_MAX];       /* KT_SOCKET */
    char pid_file[CONFIG_PATH_MAX];          /* KT_PID_FILE */
    char store[16];                          /* KT_STORE: sqlite (default) or mongodb */
    char sqlite_path[CONFIG_PATH_MAX];       /* KT_SQLITE, default <KT_VAR>/data/<KT_DB>.db */
    char mongodb_uri[CONFIG_PATH_MAX];       /* MONGODB_URI */
    char db_name[128];                       /* KT_DB */
    char token_alg[16];                      /* KT_TOKEN_ALG: EdDSA or ES256 */
    char token_public_key[CONFIG_PATH_MAX];  /* KT_TOKEN_PUBLIC_KEY */
    char token_private_key[CONFIG_PATH_MAX]; /* KT_TOKEN_PRIVATE_KEY (kontingentctl) */
    char token_issuer[128];                  /* KT_TOKEN_ISSUER, default "kontingentctl" */
    char token_audience[128];                /* KT_TOKEN_AUDIENCE, default "kontingent" */
    long long token_max_ttl;                 /* KT_TOKEN_MAX_TTL seconds, 60..30 d, default 24 h */
    char token_revoked[CONFIG_PATH_MAX];     /* KT_TOKEN_REVOKED, the revocation list */
    char client_map[CONFIG_PATH_MAX];        /* KT_CLIENT_MAP */
    char health_keys[CONFIG_PATH_MAX];       /* KT_HEALTH_KEYS: the health data's master keys */
    char esia_keys[CONFIG_PATH_MAX];         /* KT_ESIA_KEYS: ЕСИА's public keys (PEM) */
    char esia_issuer[256];                   /* KT_ESIA_ISSUER: the ЕСИА tokens' "iss" */
    char esia_audience[256];                 /* KT_ESIA_AUDIENCE: their "aud" (our client id) */
    char user[64];                           /* KT_USER: drop privileges to it when root */
    char socket_group[64];                   /* KT_SOCKET_GROUP: group that may connect */
    unsigned socket_mode;                    /* KT_SOCKET_MODE, octal, default 0660 */
    int workers;                             /* KT_WORKERS, 1..64, default 2 */
    int threads;                             /* KT_THREADS per worker, 1..256, default 8 */
    size_t max_body;                         /* KT_MAX_BODY bytes, default 8 MiB */
    size_t max_package;             /* KT_MAX_PACKAGE bytes (XML, also inflated), 128 MiB */
    size_t package_inline_items;    /* KT_PACKAGE_INLINE_ITEMS: more are queued, 500 */
    int package_slots;              /* KT_PACKAGE_SLOTS: package bodies a worker holds at once, 2 */
    int package_attempts;           /* KT_PACKAGE_ATTEMPTS: tries at a queued package, 3 */
    size_t receipt_page_bytes;      /* KT_RECEIPT_PAGE_BYTES: a stored receipt page, 4 MiB */
    char xsd_path[CONFIG_PATH_MAX]; /* KT_XSD, default <source>/xsd/kontingent-exchange-1.xsd */
    int backlog;                    /* KT_BACKLOG, default 1024 */
    char time_zone[CALENDAR_ZONE_MAX]; /* KT_TIMEZONE: the region's day, default Europe/Moscow */
    long progress_seconds; /* KT_PROGRESS_SECONDS: kontingentctl's progress lines, 0..3600, 10 */
} config_t;

/* Fills cfg from the configuration file (KT_CONFIG, else CONFIG_FILE_DEFAULT
 * when it exists: NAME=value lines, the names of the environment variables)
 * and the environment, which overrides the file; false with err for an
 * invalid value, a malformed line or a name the service does not read. It
 * also makes KT_TIMEZONE the process's zone (calendar_zone_use): call it
 * before any thread starts. */
bool config_load(config_t *cfg, kt_error_t *err);

/* Opens the store the configuration names (KT_STORE, KT_SQLITE, MONGODB_URI, KT_DB). */
store_t *config_store_new(const config_t *cfg, kt_error_t *err);

#endif
