/*
 * fuzz_json: json_parse() must never crash, must fail only with its two
 * documented errors, and whatever it accepts must survive a round trip:
 * writing the tree, parsing the output and writing again gives the same
 * bytes (the writer's output is a fixed point).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"

#define FUZZ_JSON_ARENA_CAP ((size_t)64 << 20)

/* A failed parse must leave *out NULL and name a known code and the offset. */
static void
fuzz_json_check_error(const json_value_t *doc, const kt_error_t *err)
{
    if (doc != NULL)
        abort();
    if (err->code != KT_MALFORMED && err->code != KT_PAYLOAD_TOO_LARGE)
        abort();
    if (strncmp(err->message, "JSON at byte ", 13) != 0)
        abort();
}

static void
fuzz_json_round_trip(arena_t *arena, const json_value_t *doc)
{
    buf_t first, second;
    json_value_t *again = NULL;
    kt_error_t err;

    buf_init(&first, 0);
    buf_init(&second, 0);
    if (!json_write(&first, doc))
        abort();
    if (!json_parse(arena, first.data, first.len, NULL, &again, &err))
        abort();
    if (!json_write(&second, again))
        abort();
    if (first.len != second.len || memcmp(first.data, second.data, first.len) != 0)
        abort();
    buf_release(&first);
    buf_release(&second);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    arena_t *arena = arena_new(FUZZ_JSON_ARENA_CAP);
    json_value_t *doc = NULL;
    kt_error_t err;

    if (arena == NULL)
        goto done;
    kt_error_clear(&err);
    if (json_parse(arena, (const char *)data, size, NULL, &doc, &err))
        fuzz_json_round_trip(arena, doc);
    else
        fuzz_json_check_error(doc, &err);
done:
    arena_free(arena);
    return 0;
}
