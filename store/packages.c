/* packages: the parts of store/packages.h every backend shares. */
#include "store/packages.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/util.h"

typedef struct {
    char *data;
    size_t len;
} gather_t;

static bool
gather(void *ctx, const char *bytes, size_t len)
{
    gather_t *g = ctx;
    char *grown = realloc(g->data, g->len + len + 1);

    if (grown == NULL)
        return false;
    memcpy(grown + g->len, bytes, len);
    g->data = grown;
    g->len += len;
    g->data[g->len] = '\0';
    return true;
}

void
packages_key(const principal_t *who, const char *packet_id, char key[PACKAGES_KEY_MAX])
{
    static const char hex[] = "0123456789abcdef";
    const char *method = principal_method_key(who->method);
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    char tag[25];
    EVP_MD_CTX *c = EVP_MD_CTX_new();

    memset(md, 0, sizeof md);
    if (c != NULL && EVP_DigestInit_ex(c, EVP_sha256(), NULL) == 1 &&
        EVP_DigestUpdate(c, method, strlen(method)) == 1 && EVP_DigestUpdate(c, "\n", 1) == 1 &&
        EVP_DigestUpdate(c, who->subject, strnlen(who->subject, sizeof who->subject)) == 1)
        EVP_DigestFinal_ex(c, md, &n);
    EVP_MD_CTX_free(c);
    for (unsigned i = 0; i < 12; i++) {
        tag[2 * i] = hex[md[i] >> 4];
        tag[2 * i + 1] = hex[md[i] & 15];
    }
    tag[24] = '\0';
    snprintf(key, PACKAGES_KEY_MAX, "%s/%s", tag, packet_id);
}

bool
packages_has_receipt(const bson_t *pkg)
{
    return util_get_str(pkg, "receipt") != NULL || util_get_int(pkg, "receipt_pages", 0) > 0;
}

bool
packages_receipt_load(store_conn_t *conn, const bson_t *pkg, char **receipt, size_t *len,
                      kt_error_t *err)
{
    gather_t g = {calloc(1, 1), 0};

    *receipt = NULL;
    *len = 0;
    if (g.data == NULL || !packages_receipt_each(conn, pkg, gather, &g, err)) {
        free(g.data);
        if (err->code == KT_OK)
            kt_error_set(err, KT_DOMAIN_INTERNAL, KT_INTERNAL, "out of memory");
        return false;
    }
    *receipt = g.data;
    *len = g.len;
    return true;
}
