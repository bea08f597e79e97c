/*
 * test_strmap: puts and gets across growth, values surviving a rehash,
 * iteration seeing every key once, and the byte bound.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/strmap.h"
#include "tests/unit/check.h"

static void
test_put_get_grow(void)
{
    strmap_t *m = strmap_new(sizeof(long), 0);
    char key[32];
    bool created;
    long *v;

    CHECK(m != NULL);
    for (long i = 0; i < 20000; i++) {
        snprintf(key, sizeof key, "student-%ld", i);
        v = strmap_put(m, key, &created);
        CHECK(v != NULL && created && *v == 0);
        *v = i * 3;
    }
    CHECK_INT(strmap_count(m), 20000);
    for (long i = 0; i < 20000; i += 7) {
        snprintf(key, sizeof key, "student-%ld", i);
        v = strmap_get(m, key);
        CHECK(v != NULL && *v == i * 3);
    }
    v = strmap_put(m, "student-5", &created);
    CHECK(v != NULL && !created && *v == 15);
    CHECK(strmap_get(m, "student-20000") == NULL);
    CHECK(strmap_get(m, "") == NULL);
    strmap_free(m);
}

static void
test_iterate(void)
{
    strmap_t *m = strmap_new(sizeof(int), 0);
    char key[16];
    bool created, seen[3000] = {false};
    size_t pos = 0, n = 0;
    const char *k;
    void *v;

    for (int i = 0; i < 3000; i++) {
        snprintf(key, sizeof key, "%d", i);
        *(int *)strmap_put(m, key, &created) = i;
    }
    while (strmap_next(m, &pos, &k, &v)) {
        int i = *(int *)v;
        CHECK(i >= 0 && i < 3000 && !seen[i] && strtol(k, NULL, 10) == i); /* lint: allow (test) */
        seen[i] = true;
        n++;
    }
    CHECK_INT(n, 3000);
    strmap_free(m);
}

static void
test_bound(void)
{
    strmap_t *m = strmap_new(64, 256 * 1024);
    char key[32];
    bool created, full = false;
    long i;

    CHECK(m != NULL);
    for (i = 0; i < 100000 && !full; i++) {
        snprintf(key, sizeof key, "k%ld", i);
        full = strmap_put(m, key, &created) == NULL;
    }
    CHECK(full);
    CHECK(strmap_bytes(m) <= 256 * 1024);
    CHECK(strmap_get(m, "k1") != NULL); /* what was put stays */
    strmap_free(m);
}

int
main(void)
{
    CHECK_RUN(test_put_get_grow);
    CHECK_RUN(test_iterate);
    CHECK_RUN(test_bound);
    CHECK_MAIN_END();
}
