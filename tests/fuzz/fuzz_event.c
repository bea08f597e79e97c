/*
 * fuzz_event: any bytes, parsed as a request body is, validated as an
 * education event and, when valid, applied to a student with one open
 * main episode, one open DOP episode and one ended episode (so every rule
 * of model/education.c can be reached). Nothing may crash or leak; a
 * rejection must be a 422 with field errors whose pointers are "" or start
 * with "/"; an applied event must leave a student whose education and
 * trajectory can be read back and whose `education` the read-only rule
 * finds equal to itself.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "model/codec.h"
#include "model/education.h"

#define FUZZ_EVENT_ARENA_CAP ((size_t)16 << 20)
#define FUZZ_EVENT_TODAY     "2026-03-15"

static const char fuzz_event_student[] =
    "{\"birth_date\": \"2015-03-14\", \"organization\": \"1027700132195\", \"education\": ["
    "{\"episode\": 1, \"organization\": \"1037700000007\", \"level\": \"NOO\", \"program\": "
    "{\"name\": \"x\"}, \"form\": \"FULL_TIME\", \"grade\": 1, \"enrolled_on\": \"2022-09-01\", "
    "\"enroll_order\": {\"number\": \"1\", \"date\": \"2022-09-01\"}, \"status\": \"ENDED\", "
    "\"ended_on\": \"2023-01-10\", \"end_reason\": \"TRANSFER_OUT\", \"end_order\": {\"number\": "
    "\"2\", \"date\": \"2023-01-10\"}, \"transfer_to\": \"1027700132195\", \"events\": [{\"type\": "
    "\"ENROLL\", \"date\": \"2022-09-01\", \"order\": {\"number\": \"1\", \"date\": "
    "\"2022-09-01\"}, \"grade\": 1}, {\"type\": \"TRANSFER_OUT\", \"date\": \"2023-01-10\", "
    "\"order\": {\"number\": \"2\", \"date\": \"2023-01-10\"}, \"to_organization\": "
    "\"1027700132195\"}]},"
    "{\"episode\": 2, \"organization\": \"1027700132195\", \"level\": \"NOO\", \"program\": "
    "{\"name\": \"x\"}, \"form\": \"FULL_TIME\", \"grade\": 1, \"enrolled_on\": \"2023-01-11\", "
    "\"enroll_order\": {\"number\": \"3\", \"date\": \"2023-01-11\"}, \"status\": \"ACTIVE\", "
    "\"events\": [{\"type\": \"TRANSFER_IN\", \"date\": \"2023-01-11\", \"order\": {\"number\": "
    "\"3\", \"date\": \"2023-01-11\"}, \"grade\": 1}]},"
    "{\"episode\": 3, \"organization\": \"1047700000006\", \"level\": \"DOP\", \"program\": "
    "{\"name\": \"y\"}, \"form\": \"FULL_TIME\", \"enrolled_on\": \"2023-02-01\", "
    "\"enroll_order\": {\"number\": \"4\", \"date\": \"2023-02-01\"}, \"status\": \"LEAVE\", "
    "\"events\": [{\"type\": \"ENROLL\", \"date\": \"2023-02-01\", \"order\": {\"number\": \"4\", "
    "\"date\": \"2023-02-01\"}}, {\"type\": \"ACADEMIC_LEAVE\", \"date\": \"2023-03-01\", "
    "\"order\": {\"number\": \"5\", \"date\": \"2023-03-01\"}}]}]}";

static void
fuzz_event_check_error(const kt_error_t *err)
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

/* The new student: its history reads back, equal to itself, with a trajectory. */
static void
fuzz_event_check_applied(arena_t *arena, const bson_t *doc)
{
    json_value_t *tree = codec_bson_to_tree(arena, doc);
    kt_error_t err;
    buf_t out;
    jw_t w;

    if (tree == NULL || !bson_has_field(doc, "education"))
        abort();
    if (!education_check_body(arena, tree, doc, doc, &err))
        abort();
    buf_init(&out, 0);
    jw_init(&w, &out);
    jw_object_begin(&w);
    if (!education_trajectory(arena, doc, &w))
        abort();
    jw_object_end(&w);
    if (!jw_ok(&w))
        abort();
    buf_release(&out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const json_limits_t lim = {.max_depth = 16, .max_string = 64 * 1024, .max_nodes = 20000};
    arena_t *arena = arena_new(FUZZ_EVENT_ARENA_CAP);
    json_value_t *body = NULL;
    bson_t event = BSON_INITIALIZER, next = BSON_INITIALIZER, *student = NULL;
    education_outcome_t outcome;
    bson_error_t berr;
    kt_error_t err;

    student = bson_new_from_json((const uint8_t *)fuzz_event_student, -1, &berr);
    if (arena == NULL || student == NULL)
        abort();
    kt_error_clear(&err);
    if (!json_parse(arena, (const char *)data, size, &lim, &body, &err))
        goto done;
    if (!education_event_from_json(arena, body, FUZZ_EVENT_TODAY, &event, &err)) {
        fuzz_event_check_error(&err);
        goto done;
    }
    if (education_apply(arena, student, &event, &next, &outcome, &err))
        fuzz_event_check_applied(arena, &next);
    else
        fuzz_event_check_error(&err);
done:
    bson_destroy(&event);
    bson_destroy(&next);
    bson_destroy(student);
    arena_free(arena);
    return 0;
}
