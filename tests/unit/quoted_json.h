/*
 * quoted_json: JSON bodies in C strings written with ' for " and ` for '
 * (q()), parsed into the arena (parse()), and the check that an error names
 * a field (has_error()) — what every model test needs.
 */
#ifndef KT_TESTS_QUOTED_JSON_H
#define KT_TESTS_QUOTED_JSON_H

#include <stdio.h>
#include <string.h>

#include "core/arena.h"
#include "core/error.h"
#include "core/json.h"

/* s with every ' turned into " and every ` into ', in the arena. */
static char *
q(arena_t *a, const char *s)
{
    char *out = arena_strdup(a, s);

    for (char *p = out; p != NULL && *p != '\0'; p++) {
        if (*p == '\'')
            *p = '"';
        else if (*p == '`')
            *p = '\'';
    }
    return out;
}

static json_value_t *
parse(arena_t *a, const char *quoted)
{
    const char *text = q(a, quoted);
    json_value_t *v = NULL;
    kt_error_t err;

    if (!json_parse(a, text, strlen(text), NULL, &v, &err))
        fprintf(stderr, "bad test JSON (%s): %s\n", err.message, text);
    return v;
}

/* The model's full BASE document with a merge patch applied (patch NULL: as is). */
static bool
has_error(const kt_error_t *err, const char *ptr, kt_code_t code)
{
    for (const kt_field_error_t *f = err->fields; f != NULL; f = f->next) {
        if (strcmp(f->pointer, ptr) == 0 && f->code == code)
            return true;
    }
    return false;
}

#endif
