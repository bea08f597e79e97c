/*
 * fuzz_student: any bytes, parsed as a request body is (with limits), then
 * validated as a student. Nothing may crash or leak; a rejection must be a
 * 422 with at least one field error, each with a pointer that is "" or
 * starts with "/"; an accepted student must have keys and canonical JSON,
 * and must validate again, unchanged, from its own stored form (the
 * normalisation is idempotent).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "model/codec.h"
#include "model/student.h"

#define FUZZ_STUDENT_ARENA_CAP ((size_t)16 << 20)
#define FUZZ_STUDENT_TODAY     "2026-03-15"

static void
fuzz_student_check_error(const kt_error_t *err)
{
    if (err->code == KT_PAYLOAD_TOO_LARGE)
        return;
    if (err->code != KT_VALIDATION || err->status != 422 || err->fields == NULL)
        abort();
    for (const kt_field_error_t *f = err->fields; f != NULL; f = f->next) {
        if (f->pointer == NULL || (f->pointer[0] != '\0' && f->pointer[0] != '/'))
            abort();
    }
}

/* The stored form, read back as a body, validates to the same bytes. */
static void
fuzz_student_check_stored(arena_t *arena, const bson_t *doc)
{
    const char *keys[STUDENT_DOCUMENTS_MAX];
    const char *snils = NULL;
    json_value_t *tree = codec_bson_to_tree(arena, doc);
    bson_t again = BSON_INITIALIZER;
    buf_t first, second;
    kt_error_t err;

    buf_init(&first, 0);
    buf_init(&second, 0);
    if (student_keys(arena, doc, &snils, keys, STUDENT_DOCUMENTS_MAX) > STUDENT_DOCUMENTS_MAX ||
        snils == NULL)
        abort();
    if (!codec_canonical(&first, doc, NULL) || tree == NULL)
        abort();
    if (!student_from_json(arena, tree, FUZZ_STUDENT_TODAY, &again, &err) ||
        !codec_canonical(&second, &again, NULL))
        abort();
    if (first.len != second.len || memcmp(first.data, second.data, first.len) != 0)
        abort();
    bson_destroy(&again);
    buf_release(&first);
    buf_release(&second);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const json_limits_t lim = {.max_depth = 16, .max_string = 64 * 1024, .max_nodes = 100000};
    arena_t *arena = arena_new(FUZZ_STUDENT_ARENA_CAP);
    json_value_t *body = NULL;
    bson_t out = BSON_INITIALIZER;
    kt_error_t err;

    if (arena == NULL)
        goto done;
    kt_error_clear(&err);
    if (!json_parse(arena, (const char *)data, size, &lim, &body, &err))
        goto done;
    if (student_from_json(arena, body, FUZZ_STUDENT_TODAY, &out, &err))
        fuzz_student_check_stored(arena, &out);
    else
        fuzz_student_check_error(&err);
done:
    bson_destroy(&out);
    arena_free(arena);
    return 0;
}
