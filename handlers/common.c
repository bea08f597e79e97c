/* common: request helpers shared by the handlers. */
#include "handlers/common.h"
#include "service/healthdata.h"

#include <string.h>

#include "core/utf8.h"
#include "model/validators.h"

typedef struct {
    store_t *store;
    store_conn_t *conn;
    bool batch; /* from the batch pool (scans), else the requests pool */
} lease_t;

static void
give_back(void *data)
{
    lease_t *l = data;

    if (l->batch)
        store_conn_push(l->conn);
    else
        store_conn_push(l->conn);
}

/* Routes that scan (ROUTE_SCAN: reports, export, the audit logs) get the batch pool's longer
 * bound on a round trip; every other request the short one, so that a store
 * that stopped answering costs a request seconds (docs/storage.md). */
store_conn_t *
handler_conn(const app_t *app, request_t *req)
{
    lease_t *l = arena_alloc(req->arena, sizeof *l);

    if (l == NULL)
        return NULL;
    l->store = app->store;
    l->batch = req->store_scan;
    l->conn = l->batch ? store_conn_pop(app->store, STORE_POOL_BATCH)
                       : store_conn_pop(app->store, STORE_POOL_REQUEST);
    if (arena_add_cleanup(req->arena, give_back, l) != 0) {
        give_back(l);
        return NULL;
    }
    return l->conn;
}

bool
handler_parse_int(const char *s, int64_t *out)
{
    int64_t n = 0;

    if (s == NULL || *s == '\0' || strlen(s) > 18)
        return false;
    for (const char *p = s; *p; p++) {
        if (*p < '0' || *p > '9')
            return false;
        n = n * 10 + (*p - '0');
    }
    *out = n;
    return true;
}

bool
handler_limit(const request_t *req, int *out, kt_error_t *err)
{
    const char *v = request_query(req, "limit");
    int64_t n = LIST_LIMIT_DEFAULT;

    if (v != NULL && (!handler_parse_int(v, &n) || n < 1 || n > LIST_LIMIT_MAX)) {
        kt_error_set_status(err, KT_DOMAIN_INPUT, KT_FORMAT, 400, "limit must be 1..%d",
                            LIST_LIMIT_MAX);
        return false;
    }
    *out = (int)n;
    return true;
}

/* The tag's epoch against the store's: the original one has none. */
static bool
same_epoch(const app_t *app, const char *tagged, kt_error_t *err)
{
    char epoch[FEED_EPOCH_MAX];

    if (!epoch_cache_get(app->epoch, app->store, epoch, err))
        return false;
    if (strcmp(tagged != NULL ? tagged : FEED_EPOCH_ORIGINAL, epoch) == 0)
        return true;
    kt_error_set_status(err, KT_DOMAIN_INPUT, KT_FEED_EPOCH_CHANGED, 412,
                        "the ETag is of before the registry was restored from a backup: read "
                        "the record again");
    return false;
}

bool
handler_if_match(const app_t *app, const request_t *req, int64_t *out, kt_error_t *err)
{
    const char *v = request_header(req, "if-match");
    size_t n;
    char tag[24 + FEED_EPOCH_MAX], *dot;

    *out = 0;
    if (v == NULL)
        return true;
    n = strlen(v);
    if (n >= 3 && n < sizeof tag + 2 && v[0] == '"' && v[n - 1] == '"') {
        memcpy(tag, v + 1, n - 2);
        tag[n - 2] = '\0';
        dot = strchr(tag, '.');
        if (dot != NULL)
            *dot++ = '\0';
        if (handler_parse_int(tag, out) && *out > 0 && (dot == NULL || dot[0] != '\0'))
            return same_epoch(app, dot, err);
    }
    *out = 0;
    kt_error_set(err, KT_DOMAIN_INPUT, KT_MALFORMED, "If-Match must be a version in quotes");
    return false;
}

/* A header that carries text is percent-encoded UTF-8: printable ASCII only
 * (docs/openapi.yaml's pattern). Raw bytes beyond ASCII are refused rather
 * than guessed at: proxies and clients disagree on their encoding. */
static bool
header_printable(const char *h)
{
    for (const char *c = h; h != NULL && *c != '\0'; c++)
        if (*c < 0x20 || *c > 0x7e)
            return false;
    return true;
}

/* The longest header that can decode to max characters: each a UTF-8
 * sequence of up to 4 bytes, each byte "%XX" (docs/openapi.yaml's maxLength). */
static bool
header_text_fits(const char *h, size_t max_chars)
{
    return h == NULL || (strnlen(h, max_chars * 12 + 1) <= max_chars * 12 && header_printable(h));
}

/* A query parameter that is blank (absent, empty or spaces) is not given. */
static const char *
query_text(const request_t *req, const char *name)
{
    const char *v = request_query(req, name);

    return v != NULL && v[strspn(v, " \t")] != '\0' ? v : NULL;
}

static const char *
header_text_decode(request_t *req, const char *h, size_t *len)
{
    if (!header_printable(h))
        return NULL;
    return request_percent_decode(req->arena, h, strlen(h), false, len);
}

bool
handler_reason(request_t *req, const char **out, kt_error_t *err)
{
    const char *v = query_text(req, "reason");
    const char *h = request_header(req, "x-reason");
    size_t len = v ? strlen(v) : 0, chars = 0;

    *out = NULL;
    /* Checked even when the query's reason wins: the header is malformed either way. */
    if (!header_text_fits(h, REASON_MAX) ||
        (v == NULL && h != NULL && (v = header_text_decode(req, h, &len)) == NULL))
        goto bad;
    while (v != NULL && len > 0 && (*v == ' ' || *v == '\t')) {
        v++;
        len--;
    }
    if (v == NULL || len == 0)
        return true;
    if (!utf8_text_valid(v, len, &chars) || chars > REASON_MAX)
        goto bad;
    *out = v;
    return true;
bad:
    kt_error_set_status(
        err, KT_DOMAIN_INPUT, KT_FORMAT, 400,
        "reason must be percent-encoded UTF-8 text of at most %d characters, without "
        "control or bidirectional formatting characters",
        REASON_MAX);
    return false;
}

bool
handler_json_body(request_t *req, json_value_t **out, kt_error_t *err)
{
    json_limits_t lim = {.max_depth = 16, .max_string = 64 * 1024, .max_nodes = 20000};

    return json_parse(req->arena, req->body, req->body_len, &lim, out, err);
}

void
handler_etag(const app_t *app, request_t *req, response_t *res, int64_t version)
{
    char epoch[FEED_EPOCH_MAX];
    kt_error_t ignored;

    if (!epoch_cache_get(app->epoch, app->store, epoch, &ignored))
        return; /* no ETag rather than one that could name other content */
    if (epoch_is_original(epoch))
        response_header(res, "ETag", arena_printf(req->arena, "\"%lld\"", (long long)version));
    else
        response_header(res, "ETag",
                        arena_printf(req->arena, "\"%lld.%s\"", (long long)version, epoch));
}

static bool
all_digits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return true;
}

/* YYYY-MM-DDTHH:MM:SS[.f…]Z exactly (UTC, as every stored time is). */
static bool
rfc3339_utc(const char *v)
{
    size_t n = strlen(v), frac = 0;
    char date[11];
    int y, m, d;

    if (n < 20 || n > 30 || !all_digits(v, 4) || v[4] != '-' || !all_digits(v + 5, 2) ||
        v[7] != '-' || !all_digits(v + 8, 2) || (v[10] != 'T' && v[10] != 't') ||
        !all_digits(v + 11, 2) || v[13] != ':' || !all_digits(v + 14, 2) || v[16] != ':' ||
        !all_digits(v + 17, 2) || (v[n - 1] != 'Z' && v[n - 1] != 'z'))
        return false;
    if (n > 20) {
        frac = n - 21;
        if (v[19] != '.' || frac == 0 || !all_digits(v + 20, frac))
            return false;
    }
    memcpy(date, v, 10);
    date[10] = '\0';
    return date_parse(date, &y, &m, &d) && (v[11] - '0') * 10 + (v[12] - '0') < 24 &&
           (v[14] - '0') < 6 && (v[17] - '0') < 6;
}

/* A time query parameter, normalised for comparison with stored times
 * ("YYYY-MM-DDTHH:MM:SS.mmmZ", millisecond precision). */
bool
handler_time(const request_t *req, const char *name, const char **out, kt_error_t *err)
{
    const char *v = request_query(req, name);
    char ms[4] = "000";

    *out = NULL;
    if (v == NULL)
        return true;
    if (!rfc3339_utc(v)) {
        kt_error_set_status(err, KT_DOMAIN_INPUT, KT_FORMAT, 400,
                            "%s must be an RFC 3339 time in UTC, e.g. 2026-09-01T00:00:00Z", name);
        return false;
    }
    if (strlen(v) > 20) {
        size_t frac = strlen(v) - 21;
        memcpy(ms, v + 20, frac < 3 ? frac : 3);
        if (frac < 3)
            memset(ms + frac, '0', 3 - frac);
    }
    *out = arena_printf(req->arena, "%.10sT%.8s.%.3sZ", v, v + 11, ms);
    return *out != NULL;
}

bool
handler_as_of(const request_t *req, const char **out, kt_error_t *err)
{
    return handler_time(req, "as_of", out, err);
}

bool
handler_period(const request_t *req, const char **from, const char **to, kt_error_t *err)
{
    if (!handler_time(req, "from", from, err) || !handler_time(req, "to", to, err))
        return false;
    if (*from != NULL && *to != NULL && strcmp(*from, *to) > 0) {
        kt_error_set_status(err, KT_DOMAIN_INPUT, KT_FORMAT, 400, "from must not be later than to");
        return false;
    }
    return true;
}

/* ---- purpose --------------------------------------------------------------------------- */

bool
handler_purpose(request_t *req, const char **out, kt_error_t *err)
{
    const char *v = query_text(req, "purpose"), *h = request_header(req, "x-purpose");
    size_t len = v != NULL ? strlen(v) : 0, chars = 0;
    bool stated, needed = principal_can_see_health(&req->principal);

    *out = NULL;
    if (v == NULL && h != NULL)
        v = header_text_decode(req, h, &len);
    while (v != NULL && len > 0 && (*v == ' ' || *v == '\t')) {
        v++;
        len--;
    }
    /* Stated but not text (or not percent-encoded UTF-8) is FORMAT, not absent. */
    stated = (v != NULL && len > 0) || (v == NULL && h != NULL && h[0] != '\0');
    if (v != NULL && len > 0 && utf8_text_valid(v, len, &chars) && chars <= HEALTH_PURPOSE_MAX &&
        header_text_fits(h, HEALTH_PURPOSE_MAX)) {
        *out = needed ? v : NULL;
        return true;
    }
    /* Only a principal that may see health data must state a purpose, but a
     * purpose that is stated is checked whoever states it (the documented
     * form holds for every client). */
    stated = stated || !header_text_fits(h, HEALTH_PURPOSE_MAX);
    if (!needed && !stated)
        return true;
    kt_error_set_status(
        err, KT_DOMAIN_INPUT, stated ? KT_FORMAT : KT_REQUIRED, 400,
        "the purpose of a read (?purpose=, or X-Purpose percent-encoded) is UTF-8 text of at "
        "most %d characters, without control or bidirectional formatting characters; a "
        "principal with the health scope must state it",
        HEALTH_PURPOSE_MAX);
    kt_error_add_field(err, req->arena, "/purpose", err->code, NULL);
    return false;
}
