/* Unit tests of http/response.c's reason phrases (the table response_reasons). */
#include <string.h>

#include "check.h"
#include "core/error.h"
#include "http/response.h"

/* Every status an error code maps to has its phrase in the Status line. */
static void
test_every_code_status_has_a_reason(void)
{
    for (int code = KT_OK + 1; code < KT_CODE__MAX; code++) {
        int status = kt_code_status((kt_code_t)code);
        if (strcmp(response_reason(status), "Unknown") == 0)
            fprintf(stderr, "code %d: status %d has no reason phrase\n", code, status);
        CHECK(strcmp(response_reason(status), "Unknown") != 0);
    }
}

static void
test_phrases(void)
{
    CHECK_STR(response_reason(200), "OK");
    CHECK_STR(response_reason(204), "No Content");
    CHECK_STR(response_reason(403), "Forbidden");
    CHECK_STR(response_reason(413), "Content Too Large");
    CHECK_STR(response_reason(431), "Request Header Fields Too Large");
    CHECK_STR(response_reason(503), "Service Unavailable");
    CHECK_STR(response_reason(299), "Unknown");
    CHECK_STR(response_reason(0), "Unknown");
}

int
main(void)
{
    CHECK_RUN(test_every_code_status_has_a_reason);
    CHECK_RUN(test_phrases);
    CHECK_MAIN_END();
}
