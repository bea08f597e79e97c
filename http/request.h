/*
 * request: one HTTP request as the worker sees it, parsed from FastCGI
 * parameters and body with explicit limits.
 *
 * request_parse() is pure (params in, struct out) so that unit tests and the
 * fuzz target drive it without a socket. Every string points into the
 * request's arena. The path is percent-decoded once and must be valid UTF-8
 * without NUL; query values likewise. Nothing here decides authorisation.
 */
#ifndef KT_REQUEST_H
#define KT_REQUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "auth/principal.h"
#include "core/arena.h"
#include "core/error.h"

/* Bounds, documented in docs/api.md ("Limits"). */
#define REQUEST_PATH_MAX         2048
#define REQUEST_QUERY_MAX        8192
#define REQUEST_QUERY_PARAMS_MAX 64
#define REQUEST_HEADERS_MAX      100
#define REQUEST_HEADER_VALUE_MAX 16384
#define REQUEST_ID_MAX           64
#define REQUEST_PATH_PARAMS_MAX  4

typedef struct {
    const char *name;
    const char *value;
    size_t value_len;
} kv_t;

typedef struct {
    arena_t *arena;
    const char *method; /* "GET", ... */
    const char *path;   /* decoded, without the query */
    kv_t *query;        /* decoded name=value pairs, in order */
    size_t nquery;
    kv_t *headers; /* names lowercased with '-', e.g. "if-match" */
    size_t nheaders;
    const char *media_type; /* Content-Type without parameters, lowercased; "" if none */
    bool has_content_length;
    size_t content_length;
    const char *body; /* NUL-terminated for convenience; body_len is the truth */
    size_t body_len;
    char request_id[REQUEST_ID_MAX + 1];
    const char *ssl_verify; /* nginx's $ssl_client_verify, "" when absent */
    const char *ssl_dn;     /* nginx's $ssl_client_s_dn */
    bool lang_en;           /* Accept-Language asks for English first */
    principal_t principal;
    const char *route_pattern;                   /* for logs: the pattern, never the path */
    const char *params[REQUEST_PATH_PARAMS_MAX]; /* {name} segments of the route */
    size_t nparams;
    struct timespec started;
    bool store_scan; /* the route scans: its store conn may wait longer (ROUTE_SCAN) */
} request_t;

/*
 * Fills req from NULL-terminated "NAME=VALUE" FastCGI parameters. The body
 * is not read here. On bad input returns false with err (400 MALFORMED,
 * 414 for an over-long URI) and req still usable for the error response
 * (request id, language).
 */
bool request_parse(request_t *req, arena_t *arena, char **params, kt_error_t *err);

/* The value of a lowercased header name, or NULL. */
const char *request_header(const request_t *req, const char *name);

/* The first value of a query parameter, or NULL. */
const char *request_query(const request_t *req, const char *name);

/* Reads the body through read_fn (which returns bytes read, 0 at end, <0 on
 * error) into the arena: 413 over max_body, 400 when shorter than declared. */
typedef long (*request_read_fn)(void *ctx, char *buf, size_t len);

bool request_read_body(request_t *req, size_t max_body, request_read_fn read_fn, void *ctx,
                       kt_error_t *err);

/* Percent-decodes len bytes into the arena: "%41" → "A"; '+' → ' ' when
 * plus_is_space. NULL for bad escapes, invalid UTF-8 or NUL. */
char *request_percent_decode(arena_t *arena, const char *s, size_t len, bool plus_is_space,
                             size_t *out_len);

/* Generates a fresh 32-hex-digit request id into out (size ≥ 33). */
void request_generate_id(char *out);

#endif
