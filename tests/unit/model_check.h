/*
 * model_check: what the tests of the models on the field walker share
 * (test_student.c, test_organization.c): bodies written with ' for " and `
 * for ' (q()), the model's full document with a merge patch applied, and
 * checks that a body passes, or fails with exactly one field error.
 *
 * Before including it a test defines TODAY (the upper bound of dates),
 * MODEL_FROM_JSON (the model's _from_json function) and BASE (its full,
 * valid document, in q() quoting).
 */
#ifndef KT_TESTS_MODEL_CHECK_H
#define KT_TESTS_MODEL_CHECK_H

#include <stdio.h>
#include <string.h>

#include "core/buf.h"
#include "model/codec.h"
#include "model/patch.h"
#include "tests/unit/check.h"
#include "tests/unit/quoted_json.h"

static json_value_t *
base_with(arena_t *a, const char *patch)
{
    json_value_t *base = parse(a, BASE);

    return patch != NULL ? patch_merge(a, base, parse(a, patch)) : base;
}

/* Validates body; on success json holds the canonical JSON of the result. */
static bool
validate(arena_t *a, const json_value_t *body, kt_error_t *err, buf_t *json)
{
    bson_t out = BSON_INITIALIZER;
    bool ok;

    kt_error_clear(err);
    buf_init(json, 0);
    ok = MODEL_FROM_JSON(a, body, TODAY, &out, err);
    if (ok)
        codec_canonical(json, &out, NULL);
    bson_destroy(&out);
    return ok;
}

static void
dump_errors(const char *what, const kt_error_t *err)
{
    fprintf(stderr, "  %s: %s\n", what, err->message);
    for (const kt_field_error_t *f = err->fields; f != NULL; f = f->next)
        fprintf(stderr, "    %s %s %s\n", f->pointer, kt_code_name(f->code),
                f->message ? f->message : "");
}

/* The body must fail with exactly one field error: code at ptr. */
static void
check_body_one(arena_t *a, const char *what, const json_value_t *body, const char *ptr,
               kt_code_t code)
{
    kt_error_t err;
    buf_t json;
    bool ok = validate(a, body, &err, &json);

    CHECK(!ok);
    CHECK(err.code == KT_VALIDATION && err.status == 422 && err.domain == KT_DOMAIN_INPUT);
    if (ok || err.nfields != 1 || !has_error(&err, ptr, code)) {
        fprintf(stderr, "expected only %s at '%s' for %s\n", kt_code_name(code), ptr, what);
        dump_errors("got", &err);
        check_failures_in_test++;
    }
    buf_release(&json);
}

static void
check_one(const char *patch, const char *ptr, kt_code_t code)
{
    arena_t *a = arena_new(0);

    check_body_one(a, patch, base_with(a, patch), ptr, code);
    arena_free(a);
}

/* The patched BASE must pass; returns nothing, prints the errors if not. */
static void
check_ok(const char *patch)
{
    arena_t *a = arena_new(0);
    kt_error_t err;
    buf_t json;

    if (!validate(a, base_with(a, patch), &err, &json)) {
        fprintf(stderr, "expected %s to pass\n", patch);
        dump_errors("got", &err);
        check_failures_in_test++;
    }
    buf_release(&json);
    arena_free(a);
}

#endif
