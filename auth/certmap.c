/*
 * certmap: the operator's certificate map, read once at start-up into a flat
 * array. Lookups are a linear scan: a thousand short memcmp() calls cost
 * nothing next to the request they authenticate, and a scan has no ordering
 * subtleties to get wrong.
 */
#include "auth/certmap.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CERTMAP_LINE_MAX    1024 /* bytes of one line, without its newline */
#define CERTMAP_ENTRIES_MAX 1000
#define CERTMAP_ORG_LEN     13 /* an ОГРН */
#define CERTMAP_ROLE_MAX    16

typedef struct {
    char dn[PRINCIPAL_SUBJECT_MAX];
    size_t dn_len;
    role_t role;
    char org[PRINCIPAL_ORG_MAX];
    size_t line; /* where it was defined, to name both lines of a duplicate */
} certmap_entry_t;

struct certmap {
    certmap_entry_t *entries;
    size_t count;
    size_t alloc;
};

typedef enum { CERTMAP_LINE_OK, CERTMAP_LINE_EOF, CERTMAP_LINE_BAD } certmap_read_t;

/* The parser's working state for one line: a cursor and the reason it stopped. */
typedef struct {
    const char *p;
    const char *reason;
} certmap_cursor_t;

void
certmap_free(certmap_t *map)
{
    if (map == NULL)
        return;
    free(map->entries);
    free(map);
}

static bool
certmap_is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r';
}

/*
 * Reads one line, without its '\n', into line (CERTMAP_LINE_MAX + 1 bytes).
 * A line too long or holding a NUL byte is CERTMAP_LINE_BAD with a reason;
 * the load fails then, so the rest of the line need not be consumed.
 */
static certmap_read_t
certmap_read_line(FILE *f, char *line, const char **reason)
{
    size_t n = 0;
    int c;

    line[0] = '\0';
    while ((c = getc(f)) != EOF && c != '\n') {
        if (c == '\0') {
            *reason = "NUL byte in line";
            return CERTMAP_LINE_BAD;
        }
        if (n == CERTMAP_LINE_MAX) {
            *reason = "line longer than 1024 bytes";
            return CERTMAP_LINE_BAD;
        }
        line[n++] = (char)c;
    }
    line[n] = '\0';
    if (ferror(f)) {
        *reason = "read error";
        return CERTMAP_LINE_BAD;
    }
    return c == EOF && n == 0 ? CERTMAP_LINE_EOF : CERTMAP_LINE_OK;
}

/* The next blank-separated word; empty at the end of the line. */
static size_t
certmap_word(certmap_cursor_t *cur, const char **word)
{
    size_t n = 0;

    while (certmap_is_blank(*cur->p))
        cur->p++;
    *word = cur->p;
    while (cur->p[n] != '\0' && !certmap_is_blank(cur->p[n]))
        n++;
    cur->p += n;
    return n;
}

static bool
certmap_parse_role(certmap_cursor_t *cur, certmap_entry_t *e)
{
    char role[CERTMAP_ROLE_MAX];
    const char *word;
    size_t n = certmap_word(cur, &word);

    e->role = ROLE_NONE;
    if (n > 0 && n < sizeof role) {
        memcpy(role, word, n);
        role[n] = '\0';
        e->role = principal_role_parse(role);
    }
    if (e->role == ROLE_NONE)
        cur->reason = "unknown role";
    return e->role != ROLE_NONE;
}

static bool
certmap_parse_org(certmap_cursor_t *cur, certmap_entry_t *e)
{
    const char *word;
    size_t n = certmap_word(cur, &word);

    e->org[0] = '\0';
    if (n == 1 && word[0] == '-')
        return true;
    if (n != CERTMAP_ORG_LEN || strspn(word, "0123456789") < CERTMAP_ORG_LEN) {
        cur->reason = "organisation must be '-' or 13 digits";
        return false;
    }
    memcpy(e->org, word, n);
    e->org[n] = '\0';
    return true;
}

/* The DN is the rest of the line: inner blanks are part of it, outer ones are not. */
static bool
certmap_parse_dn(certmap_cursor_t *cur, certmap_entry_t *e)
{
    const char *start = cur->p;
    size_t n;

    while (certmap_is_blank(*start))
        start++;
    n = strlen(start);
    while (n > 0 && certmap_is_blank(start[n - 1]))
        n--;
    if (n == 0)
        cur->reason = "missing subject DN";
    else if (n >= sizeof e->dn)
        cur->reason = "subject DN longer than 255 bytes";
    else {
        memcpy(e->dn, start, n);
        e->dn[n] = '\0';
        e->dn_len = n;
    }
    return cur->reason == NULL;
}

/* Parses one mapping line into e; the reason is NULL when it parsed. */
static const char *
certmap_parse_line(const char *line, certmap_entry_t *e)
{
    certmap_cursor_t cur = {line, NULL};

    memset(e, 0, sizeof *e);
    if (!certmap_parse_role(&cur, e) || !certmap_parse_org(&cur, e) || !certmap_parse_dn(&cur, e))
        return cur.reason;
    if (e->role == ROLE_SCHOOL && e->org[0] == '\0')
        return "a school needs its organisation";
    return NULL;
}

/* Comments are whole lines only: a DN may itself contain '#'. */
static bool
certmap_line_is_empty(const char *line)
{
    while (certmap_is_blank(*line))
        line++;
    return *line == '\0' || *line == '#';
}

static const certmap_entry_t *
certmap_find(const certmap_t *map, const char *dn, size_t len)
{
    for (size_t i = 0; i < map->count; i++) {
        const certmap_entry_t *e = &map->entries[i];

        if (e->dn_len == len && memcmp(e->dn, dn, len) == 0)
            return e;
    }
    return NULL;
}

/* Appends e unless the map is full or already maps its DN; the reason says which. */
static const char *
certmap_add(certmap_t *map, const certmap_entry_t *e, size_t *first_line)
{
    const certmap_entry_t *dup = certmap_find(map, e->dn, e->dn_len);

    if (dup != NULL) {
        *first_line = dup->line;
        return "duplicate subject DN";
    }
    if (map->count == CERTMAP_ENTRIES_MAX)
        return "more than 1000 mappings";
    if (map->count == map->alloc) {
        size_t n = map->alloc ? map->alloc * 2 : 16;
        certmap_entry_t *p = realloc(map->entries, n * sizeof *p);

        if (p == NULL)
            return "out of memory";
        map->entries = p;
        map->alloc = n;
    }
    map->entries[map->count++] = *e;
    return NULL;
}

/* Parses a mapping line and adds it; the reason is NULL when both went well. */
static const char *
certmap_take_line(certmap_t *map, const char *line, size_t lineno, size_t *first_line)
{
    certmap_entry_t e;
    const char *reason = certmap_parse_line(line, &e);

    if (reason != NULL)
        return reason;
    e.line = lineno;
    return certmap_add(map, &e, first_line);
}

static void
certmap_error(kt_error_t *err, const char *path, size_t line, const char *reason, size_t first)
{
    if (first != 0)
        kt_error_set(err, KT_DOMAIN_INTERNAL, KT_INTERNAL, "certmap %s:%zu: %s (line %zu)", path,
                     line, reason, first);
    else
        kt_error_set(err, KT_DOMAIN_INTERNAL, KT_INTERNAL, "certmap %s:%zu: %s", path, line,
                     reason);
}

static bool
certmap_read(certmap_t *map, FILE *f, const char *path, kt_error_t *err)
{
    char line[CERTMAP_LINE_MAX + 1];
    size_t lineno = 0;

    for (;;) {
        const char *reason = NULL;
        size_t first = 0;
        certmap_read_t r = certmap_read_line(f, line, &reason);

        lineno++;
        if (r == CERTMAP_LINE_EOF)
            return true;
        if (r == CERTMAP_LINE_OK && certmap_line_is_empty(line))
            continue;
        if (r == CERTMAP_LINE_OK)
            reason = certmap_take_line(map, line, lineno, &first);
        if (reason != NULL) {
            certmap_error(err, path, lineno, reason, first);
            return false;
        }
    }
}

certmap_t *
certmap_load(const char *path, kt_error_t *err)
{
    FILE *f = NULL;
    certmap_t *map = NULL;
    certmap_t *out = NULL;

    if (path == NULL) {
        kt_error_set(err, KT_DOMAIN_INTERNAL, KT_INTERNAL, "certmap: no path");
        goto done;
    }
    map = calloc(1, sizeof *map);
    f = fopen(path, "r");
    if (map == NULL || f == NULL) {
        kt_error_set(err, KT_DOMAIN_INTERNAL, KT_INTERNAL, "certmap %s: cannot open", path);
        goto done;
    }
    if (!certmap_read(map, f, path, err))
        goto done;
    out = map;
    map = NULL;
done:
    if (f != NULL)
        fclose(f);
    certmap_free(map);
    return out;
}

bool
certmap_lookup(const certmap_t *map, const char *subject_dn, principal_t *p)
{
    const certmap_entry_t *e;

    memset(p, 0, sizeof *p);
    if (map == NULL || subject_dn == NULL)
        return false;
    /* A DN as long as the subject field cannot be mapped, so there is no need to read further. */
    e = certmap_find(map, subject_dn, strnlen(subject_dn, sizeof p->subject));
    if (e == NULL)
        return false;
    memcpy(p->subject, e->dn, e->dn_len + 1);
    p->role = e->role;
    memcpy(p->org, e->org, sizeof p->org);
    p->method = AUTH_CERT;
    return true;
}
