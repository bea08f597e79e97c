/* progress: the progress kind and its ids (store/progress.h). */
#include "store/progress.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>

#include "store/util.h"

bool
store_progress_id(const char *student_id, const char *year, char out[37])
{
    static const char hex[] = "0123456789abcdef";
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    char text[128];
    int n = snprintf(text, sizeof text, "kontingent-progress:%s:%s", student_id, year);
    size_t k = 0;

    out[0] = '\0';
    if (n < 0 || (size_t)n >= sizeof text ||
        EVP_Digest(text, (size_t)n, md, &mdlen, EVP_sha256(), NULL) != 1)
        return false;
    md[6] = (unsigned char)((md[6] & 0x0f) | 0x80); /* version 8: custom */
    md[8] = (unsigned char)((md[8] & 0x3f) | 0x80); /* variant: RFC 9562 */
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            out[k++] = '-';
        out[k++] = hex[md[i] >> 4];
        out[k++] = hex[md[i] & 15];
    }
    out[k] = '\0';
    return true;
}

/* The head's members lists and reports filter on ("" when absent). */
static void
progress_head_keys(const bson_t *doc, bson_t *head)
{
    static const char *const keys[] = {"student_id", "year", "organization", NULL};

    for (size_t i = 0; keys[i] != NULL; i++) {
        const char *v = util_get_str(doc, keys[i]);
        BSON_APPEND_UTF8(head, keys[i], v ? v : "");
    }
}

const store_kind_t store_kind_progress = {
    .name = "progress",
    .versions = "progress_versions",
    .heads = "progress",
    .id_member = "progress_id",
    .valid_id = util_is_uuid,
    .head_keys = progress_head_keys,
    .claim_keys = NULL,
    .duplicate_id =
        KT_VERSION_CONFLICT, /* two first writes of one (student, year): the loser retries */
    .feed = false,
    .logged = true,
};
