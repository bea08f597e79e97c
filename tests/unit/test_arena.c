/*
 * test_arena: alignment, the cap, cleanups in reverse order on reset and
 * free, reuse after reset, and the string helpers.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "core/arena.h"
#include "tests/unit/check.h"

/* Cleanups append their tag here, so the order they ran in can be checked. */
typedef struct {
    char order[16];
    size_t n;
} cleanup_log_t;

typedef struct {
    cleanup_log_t *log;
    char tag;
} cleanup_arg_t;

static void
log_cleanup(void *data)
{
    cleanup_arg_t *arg = data;

    if (arg->log->n + 1 < sizeof arg->log->order)
        arg->log->order[arg->log->n++] = arg->tag;
}

static void
test_alignment(void)
{
    arena_t *a = arena_new(0);
    static const size_t sizes[] = {1, 3, 7, 8, 15, 16, 17, 31, 100, 20000, 1, 5};

    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        unsigned char *p = arena_alloc(a, sizes[i]);
        CHECK(p != NULL);
        CHECK((uintptr_t)p % _Alignof(max_align_t) == 0);
        CHECK((uintptr_t)p % 16 == 0);
        if (p != NULL)
            memset(p, 0xab, sizes[i]);
    }
    arena_free(a);
}

/* Allocations never overlap, even across blocks. */
static void
test_distinct(void)
{
    arena_t *a = arena_new(0);
    unsigned char *p[200];

    for (int i = 0; i < 200; i++) {
        p[i] = arena_alloc(a, 300);
        CHECK(p[i] != NULL);
        if (p[i] != NULL)
            memset(p[i], i, 300);
    }
    for (int i = 0; i < 200; i++) {
        if (p[i] != NULL)
            CHECK(p[i][0] == (unsigned char)i && p[i][299] == (unsigned char)i);
    }
    arena_free(a);
}

static void
test_used(void)
{
    arena_t *a = arena_new(0);

    CHECK_INT(arena_used(a), 0);
    arena_alloc(a, 1);
    CHECK_INT(arena_used(a), 16);
    arena_alloc(a, 16);
    CHECK_INT(arena_used(a), 32);
    arena_alloc(a, 17);
    CHECK_INT(arena_used(a), 64);
    arena_alloc(a, 0);
    CHECK_INT(arena_used(a), 64);
    arena_reset(a);
    CHECK_INT(arena_used(a), 0);
    arena_free(a);
}

/* A capped arena refuses what would take it past the cap, and only that. */
static void
test_cap(void)
{
    const size_t cap = 256 * 1024;
    arena_t *a = arena_new(cap);
    size_t got = 0;

    while (arena_alloc(a, 1000) != NULL)
        got++;
    CHECK(got > 0);
    CHECK(arena_used(a) <= cap);
    CHECK(got * 1008 > cap / 2);
    CHECK(arena_alloc(a, cap) == NULL);
    /* After a reset the whole allowance is there again. */
    arena_reset(a);
    CHECK(arena_alloc(a, cap / 2) != NULL);
    CHECK(arena_alloc(a, cap) == NULL);
    arena_free(a);
}

static void
test_huge_requests(void)
{
    arena_t *capped = arena_new(1 << 20);
    arena_t *open = arena_new(0);

    CHECK(arena_alloc(capped, SIZE_MAX) == NULL);
    CHECK(arena_alloc(capped, SIZE_MAX - 40) == NULL);
    CHECK(arena_alloc(capped, (1 << 20) + 1) == NULL);
    /* Without a cap, sizes whose rounding or header would wrap must fail too. */
    CHECK(arena_alloc(open, SIZE_MAX) == NULL);
    CHECK(arena_alloc(open, SIZE_MAX - 15) == NULL);
    CHECK(arena_alloc(open, SIZE_MAX - 40) == NULL);
    CHECK(arena_calloc(open, SIZE_MAX / 2, 4) == NULL);
    CHECK(arena_calloc(open, 4, SIZE_MAX / 2) == NULL);
    /* The arenas still work after refusing. */
    CHECK(arena_alloc(capped, 100) != NULL);
    CHECK(arena_alloc(open, 100) != NULL);
    arena_free(capped);
    arena_free(open);
}

static void
test_large_block(void)
{
    arena_t *a = arena_new(0);
    unsigned char *small = arena_alloc(a, 10);
    unsigned char *big = arena_alloc(a, 1 << 20);
    unsigned char *after = arena_alloc(a, 10);

    CHECK(small != NULL && big != NULL && after != NULL);
    if (big != NULL) {
        memset(big, 1, 1 << 20);
        CHECK(big[(1 << 20) - 1] == 1);
    }
    arena_reset(a);
    CHECK(arena_alloc(a, 1 << 20) != NULL);
    arena_free(a);
}

static void
test_calloc(void)
{
    arena_t *a = arena_new(0);
    unsigned char *p;
    int zero = 1;

    /* Dirty the first block, then reset, so that zeroing is not luck. */
    p = arena_alloc(a, 4096);
    if (p != NULL)
        memset(p, 0xff, 4096);
    arena_reset(a);
    p = arena_calloc(a, 512, 8);
    CHECK(p != NULL);
    for (size_t i = 0; p != NULL && i < 4096; i++)
        zero &= p[i] == 0;
    CHECK(zero);
    arena_free(a);
}

static void
test_strings(void)
{
    arena_t *a = arena_new(0);
    char *s;

    s = arena_strndup(a, "hello world", 5);
    CHECK_STR(s, "hello");
    s = arena_strndup(a, "a\0b", 3);
    CHECK(s != NULL && s[0] == 'a' && s[1] == '\0' && s[2] == 'b' && s[3] == '\0');
    s = arena_strndup(a, "", 0);
    CHECK_STR(s, "");
    s = arena_strdup(
        a, "\xd0\x9a\xd0\xbe\xd0\xbd\xd1\x82\xd0\xb8\xd0\xbd\xd0\xb3\xd0\xb5\xd0\xbd\xd1\x82");
    CHECK_STR(s,
              "\xd0\x9a\xd0\xbe\xd0\xbd\xd1\x82\xd0\xb8\xd0\xbd\xd0\xb3\xd0\xb5\xd0\xbd\xd1\x82");
    s = arena_printf(a, "%s-%d-%05.1f", "x", 42, 3.14159);
    CHECK_STR(s, "x-42-003.1");
    s = arena_printf(a, "%s", "");
    CHECK_STR(s, "");
    arena_free(a);
}

static void
test_printf_long(void)
{
    arena_t *a = arena_new(0);
    char big[40000];
    char *s;

    memset(big, 'z', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    s = arena_printf(a, "<%s>", big);
    CHECK(s != NULL && strlen(s) == sizeof big + 1);
    CHECK(s != NULL && s[0] == '<' && s[1] == 'z' && s[sizeof big] == '>');
    arena_free(a);
}

static void
test_printf_over_cap(void)
{
    arena_t *a = arena_new(32 * 1024);
    char big[40000];

    memset(big, 'q', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    CHECK(arena_printf(a, "%s", big) == NULL);
    CHECK(arena_strdup(a, big) == NULL);
    CHECK_STR(arena_printf(a, "%d", 7), "7");
    arena_free(a);
}

/* Cleanups run last-registered first, once, on reset; free runs the rest. */
static void
test_cleanups_reverse_on_reset(void)
{
    arena_t *a = arena_new(0);
    cleanup_log_t log = {{0}, 0};
    cleanup_arg_t args[4] = {{&log, '1'}, {&log, '2'}, {&log, '3'}, {&log, '4'}};

    CHECK_INT(arena_add_cleanup(a, log_cleanup, &args[0]), 0);
    CHECK_INT(arena_add_cleanup(a, log_cleanup, &args[1]), 0);
    arena_alloc(a, 50000); /* a second block between the registrations */
    CHECK_INT(arena_add_cleanup(a, log_cleanup, &args[2]), 0);
    arena_reset(a);
    CHECK_STR(log.order, "321");
    arena_reset(a);
    CHECK_STR(log.order, "321");
    CHECK_INT(arena_add_cleanup(a, log_cleanup, &args[3]), 0);
    arena_free(a);
    CHECK_STR(log.order, "3214");
}

static void
test_cleanup_over_cap(void)
{
    arena_t *a = arena_new(20 * 1024);
    cleanup_log_t log = {{0}, 0};
    cleanup_arg_t arg = {&log, 'x'};

    /* Fill the arena, so that the cleanup record itself cannot be placed. */
    while (arena_alloc(a, 512) != NULL)
        ;
    CHECK_INT(arena_add_cleanup(a, log_cleanup, &arg), -1);
    arena_free(a);
    CHECK_STR(log.order, "");
}

static void
test_free_null(void)
{
    arena_free(NULL);
    arena_reset(NULL);
    CHECK(1);
}

int
main(void)
{
    CHECK_RUN(test_alignment);
    CHECK_RUN(test_distinct);
    CHECK_RUN(test_used);
    CHECK_RUN(test_cap);
    CHECK_RUN(test_huge_requests);
    CHECK_RUN(test_large_block);
    CHECK_RUN(test_calloc);
    CHECK_RUN(test_strings);
    CHECK_RUN(test_printf_long);
    CHECK_RUN(test_printf_over_cap);
    CHECK_RUN(test_cleanups_reverse_on_reset);
    CHECK_RUN(test_cleanup_over_cap);
    CHECK_RUN(test_free_null);
    CHECK_MAIN_END();
}
