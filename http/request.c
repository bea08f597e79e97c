/* request: FastCGI parameters → request_t, strictly and within bounds. */
#include "http/request.h"

#include <ctype.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/utf8.h"

static int
hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

char *
request_percent_decode(arena_t *arena, const char *s, size_t len, bool plus_is_space,
                       size_t *out_len)
{
    char *out = arena_alloc(arena, len + 1);
    size_t n = 0;

    if (out == NULL)
        return NULL;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (c == '%') {
            if (len - i < 3 || hex_value(s[i + 1]) < 0 || hex_value(s[i + 2]) < 0)
                return NULL;
            c = (char)(hex_value(s[i + 1]) * 16 + hex_value(s[i + 2]));
            i += 2;
        } else if (c == '+' && plus_is_space) {
            c = ' ';
        }
        out[n++] = c;
    }
    out[n] = '\0';
    if (!utf8_valid(out, n))
        return NULL;
    if (out_len != NULL)
        *out_len = n;
    return out;
}

void
request_generate_id(char *out)
{
    static const char hex[] = "0123456789abcdef";
    unsigned char raw[16];

    if (RAND_bytes(raw, sizeof raw) != 1)
        memset(raw, 0, sizeof raw);
    for (size_t i = 0; i < sizeof raw; i++) {
        out[2 * i] = hex[raw[i] >> 4];
        out[2 * i + 1] = hex[raw[i] & 15];
    }
    out[32] = '\0';
}

/* nginx's $request_id is 32 hex digits; anything else is replaced. */
static void
set_request_id(request_t *req, const char *given)
{
    size_t n = given ? strlen(given) : 0;
    bool ok = n >= 8 && n <= REQUEST_ID_MAX;

    for (size_t i = 0; ok && i < n; i++)
        ok = isalnum((unsigned char)given[i]) || given[i] == '-';
    if (ok)
        memcpy(req->request_id, given, n + 1);
    else
        request_generate_id(req->request_id);
}

/* "HTTP_IF_MATCH" → "if-match" in the arena. */
static char *
header_name(arena_t *arena, const char *param, size_t len)
{
    char *name = arena_strndup(arena, param + 5, len - 5);

    if (name == NULL)
        return NULL;
    for (char *p = name; *p; p++)
        *p = *p == '_' ? '-' : (char)tolower((unsigned char)*p);
    return name;
}

static bool
add_header(request_t *req, const char *name, const char *value, kt_error_t *err)
{
    size_t vlen = strlen(value);

    if (req->nheaders >= REQUEST_HEADERS_MAX || vlen > REQUEST_HEADER_VALUE_MAX) {
        kt_error_set_status(err, KT_DOMAIN_INPUT, KT_MALFORMED, 431,
                            "too many or too large headers");
        return false;
    }
    req->headers[req->nheaders++] = (kv_t){name, value, vlen};
    return true;
}

/* Splits "a=1&b=%20x" into decoded pairs. Empty pieces are skipped. */
static bool
parse_query(request_t *req, const char *q, kt_error_t *err)
{
    size_t qlen = strlen(q);

    if (qlen > REQUEST_QUERY_MAX) {
        kt_error_set_status(err, KT_DOMAIN_INPUT, KT_MALFORMED, 414,
                            "query string longer than %d bytes", REQUEST_QUERY_MAX);
        return false;
    }
    req->query = arena_calloc(req->arena, REQUEST_QUERY_PARAMS_MAX, sizeof(kv_t));
    if (req->query == NULL)
        goto oom;
    for (const char *p = q; *p;) {
        const char *amp = strchr(p, '&');
        size_t plen = amp ? (size_t)(amp - p) : strlen(p);
        if (plen > 0) {
            const char *eq = memchr(p, '=', plen);
            size_t nlen = eq ? (size_t)(eq - p) : plen;
            size_t vlen = eq ? plen - nlen - 1 : 0;
            kv_t *kv = &req->query[req->nquery];
            if (req->nquery >= REQUEST_QUERY_PARAMS_MAX) {
                kt_error_set(err, KT_DOMAIN_INPUT, KT_MALFORMED, "more than %d query parameters",
                             REQUEST_QUERY_PARAMS_MAX);
                return false;
            }
            kv->name = request_percent_decode(req->arena, p, nlen, true, NULL);
            kv->value = request_percent_decode(req->arena, eq ? eq + 1 : p + plen, vlen, true,
                                               &kv->value_len);
            if (kv->name == NULL || kv->value == NULL) {
                kt_error_set(err, KT_DOMAIN_INPUT, KT_MALFORMED,
                             "query string is not valid percent-encoded UTF-8");
                return false;
            }
            req->nquery++;
        }
        p += plen + (amp ? 1 : 0);
    }
    return true;
oom:
    kt_error_set(err, KT_DOMAIN_INTERNAL, KT_INTERNAL, "out of memory");
    return false;
}

static bool
parse_path(request_t *req, const char *uri, kt_error_t *err)
{
    const char *qmark = strchr(uri, '?');
    size_t len = qmark ? (size_t)(qmark - uri) : strlen(uri);

    if (len > REQUEST_PATH_MAX) {
        kt_error_set_status(err, KT_DOMAIN_INPUT, KT_MALFORMED, 414, "path longer than %d bytes",
                            REQUEST_PATH_MAX);
        return false;
    }
    req->path = request_percent_decode(req->arena, uri, len, false, NULL);
    if (req->path == NULL || req->path[0] != '/') {
        req->path = "";
        kt_error_set(err, KT_DOMAIN_INPUT, KT_MALFORMED, "path is not valid percent-encoded UTF-8");
        return false;
    }
    return true;
}

/* "application/JSON; charset=utf-8" → "application/json". */
static const char *
media_type(arena_t *arena, const char *content_type)
{
    size_t n = strcspn(content_type, ";");

    while (n > 0 && content_type[n - 1] == ' ')
        n--;
    char *m = arena_strndup(arena, content_type, n);
    if (m == NULL)
        return "";
    for (char *p = m; *p; p++)
        *p = (char)tolower((unsigned char)*p);
    return m;
}

static bool
parse_content_length(request_t *req, const char *v, kt_error_t *err)
{
    size_t n = 0;

    if (v == NULL || v[0] == '\0')
        return true;
    for (const char *p = v; *p; p++) {
        if (!isdigit((unsigned char)*p) || n > (SIZE_MAX - 9) / 10) {
            kt_error_set(err, KT_DOMAIN_INPUT, KT_MALFORMED, "bad Content-Length");
            return false;
        }
        n = n * 10 + (size_t)(*p - '0');
    }
    req->has_content_length = true;
    req->content_length = n;
    return true;
}

/* The weight of one Accept-Language element "tag;q=0.5" (RFC 9110 12.5.4):
 * 1000 for no q, 0 for q=0 or a malformed q; *tag_len is the tag's length. */
static int
language_weight(const char *el, size_t len, size_t *tag_len)
{
    const char *semi = memchr(el, ';', len), *q;
    int w = 0, digits = 0;

    *tag_len = semi != NULL ? (size_t)(semi - el) : len;
    while (*tag_len > 0 && (el[*tag_len - 1] == ' ' || el[*tag_len - 1] == '\t'))
        (*tag_len)--;
    if (semi == NULL)
        return 1000;
    for (q = semi + 1; q < el + len && (*q == ' ' || *q == '\t'); q++)
        ;
    if (el + len - q < 3 || (q[0] != 'q' && q[0] != 'Q') || q[1] != '=')
        return 0;
    q += 2;
    if (*q == '1')
        return 1000;
    if (*q++ != '0' || q >= el + len || *q++ != '.')
        return 0;
    for (; q < el + len && *q >= '0' && *q <= '9' && digits < 3; q++, digits++)
        w = w * 10 + (*q - '0');
    while (digits++ < 3)
        w *= 10;
    return w;
}

/* The language is decided before anything can fail, so errors speak it:
 * English when an "en" range weighs more than every "ru" one and "*"
 * (RFC 9110 12.5.4, q-values); Russian otherwise, and by default. */
static void
parse_language(request_t *req)
{
    const char *al = request_header(req, "accept-language");
    int best_en = 0, best_other = 0;

    req->lang_en = false;
    for (const char *p = al; p != NULL && *p != '\0';) {
        const char *end = strchr(p, ',');
        size_t len = end != NULL ? (size_t)(end - p) : strlen(p), tag_len;
        int w;
        while (len > 0 && (*p == ' ' || *p == '\t')) {
            p++;
            len--;
        }
        w = language_weight(p, len, &tag_len);
        if (tag_len >= 2 && strncasecmp(p, "en", 2) == 0 && (tag_len == 2 || p[2] == '-'))
            best_en = w > best_en ? w : best_en;
        else if ((tag_len >= 2 && strncasecmp(p, "ru", 2) == 0 && (tag_len == 2 || p[2] == '-')) ||
                 (tag_len == 1 && p[0] == '*'))
            best_other = w > best_other ? w : best_other;
        p = end != NULL ? end + 1 : NULL;
    }
    req->lang_en = best_en > best_other;
}

static bool
collect_params(request_t *req, char **params, const char **uri, const char **query,
               const char **clen, const char **ctype, const char **rid, kt_error_t *err)
{
    for (char **p = params; p && *p; p++) {
        const char *eq = strchr(*p, '=');
        if (eq == NULL)
            continue;
        size_t nlen = (size_t)(eq - *p);
        const char *v = eq + 1;
#define PARAM_IS(lit) (nlen == sizeof(lit) - 1 && memcmp(*p, lit, nlen) == 0)
        if (PARAM_IS("REQUEST_METHOD"))
            req->method = v;
        else if (PARAM_IS("REQUEST_URI"))
            *uri = v;
        else if (PARAM_IS("QUERY_STRING"))
            *query = v;
        else if (PARAM_IS("CONTENT_LENGTH"))
            *clen = v;
        else if (PARAM_IS("CONTENT_TYPE"))
            *ctype = v;
        else if (PARAM_IS("REQUEST_ID"))
            *rid = v;
        else if (PARAM_IS("SSL_CLIENT_VERIFY"))
            req->ssl_verify = v;
        else if (PARAM_IS("SSL_CLIENT_S_DN"))
            req->ssl_dn = v;
        else if (nlen > 5 && memcmp(*p, "HTTP_", 5) == 0) {
            char *name = header_name(req->arena, *p, nlen);
            if (name == NULL || !add_header(req, name, v, err))
                return false;
        }
#undef PARAM_IS
    }
    return true;
}

bool
request_parse(request_t *req, arena_t *arena, char **params, kt_error_t *err)
{
    const char *uri = NULL, *query = "", *clen = NULL, *ctype = "", *rid = NULL;

    memset(req, 0, sizeof *req);
    req->arena = arena;
    req->method = "";
    req->path = "";
    req->media_type = "";
    req->ssl_verify = "";
    req->ssl_dn = "";
    req->route_pattern = "-";
    clock_gettime(CLOCK_MONOTONIC, &req->started);
    req->headers = arena_calloc(arena, REQUEST_HEADERS_MAX, sizeof(kv_t));
    if (req->headers == NULL) {
        request_generate_id(req->request_id);
        kt_error_set(err, KT_DOMAIN_INTERNAL, KT_INTERNAL, "out of memory");
        return false;
    }
    bool ok = collect_params(req, params, &uri, &query, &clen, &ctype, &rid, err);
    set_request_id(req, rid);
    parse_language(req);
    if (!ok)
        return false;
    if (uri == NULL || req->method[0] == '\0') {
        kt_error_set(err, KT_DOMAIN_INPUT, KT_MALFORMED, "no request line");
        return false;
    }
    req->media_type = media_type(arena, ctype);
    return parse_path(req, uri, err) && parse_query(req, query, err) &&
           parse_content_length(req, clen, err);
}

const char *
request_header(const request_t *req, const char *name)
{
    for (size_t i = 0; i < req->nheaders; i++)
        if (strcmp(req->headers[i].name, name) == 0)
            return req->headers[i].value;
    return NULL;
}

const char *
request_query(const request_t *req, const char *name)
{
    for (size_t i = 0; i < req->nquery; i++)
        if (strcmp(req->query[i].name, name) == 0)
            return req->query[i].value;
    return NULL;
}

bool
request_read_body(request_t *req, size_t max_body, request_read_fn read_fn, void *ctx,
                  kt_error_t *err)
{
    size_t want = req->content_length;

    if (want > max_body) {
        kt_error_set(err, KT_DOMAIN_INPUT, KT_PAYLOAD_TOO_LARGE,
                     "body of %zu bytes is over the limit of %zu", want, max_body);
        return false;
    }
    char *body = arena_alloc(req->arena, want + 1);
    if (body == NULL) {
        kt_error_set(err, KT_DOMAIN_INPUT, KT_PAYLOAD_TOO_LARGE, "body too large");
        return false;
    }
    size_t got = 0;
    while (got < want) {
        long n = read_fn(ctx, body + got, want - got);
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    body[got] = '\0';
    if (got < want) {
        kt_error_set(err, KT_DOMAIN_INPUT, KT_MALFORMED, "body ended after %zu of %zu bytes", got,
                     want);
        return false;
    }
    req->body = body;
    req->body_len = got;
    return true;
}
