/* arena: blocks chained in a list, bump allocation inside a block. */
#include "core/arena.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ARENA_BLOCK 16384
#define ARENA_ALIGN 16

typedef struct block {
    struct block *next;
    size_t size; /* usable bytes in data */
    size_t used;
    _Alignas(ARENA_ALIGN) unsigned char data[];
} block_t;

typedef struct cleanup {
    arena_cleanup_fn fn;
    void *data;
    struct cleanup *next;
} cleanup_t;

struct arena {
    block_t *blocks; /* newest first; the last one is kept by reset */
    cleanup_t *cleanups;
    size_t cap;
    size_t total; /* bytes of all blocks */
    size_t used;
};

static block_t *
block_new(size_t size)
{
    block_t *b;

    /* Without a cap nothing else bounds size, and the header must not wrap it. */
    if (size > SIZE_MAX - sizeof *b)
        return NULL;
    b = malloc(sizeof *b + size);
    if (b == NULL)
        return NULL;
    b->next = NULL;
    b->size = size;
    b->used = 0;
    return b;
}

arena_t *
arena_new(size_t cap)
{
    arena_t *a = calloc(1, sizeof *a);

    if (a == NULL)
        return NULL;
    a->blocks = block_new(ARENA_BLOCK);
    if (a->blocks == NULL) {
        free(a);
        return NULL;
    }
    a->cap = cap;
    a->total = ARENA_BLOCK;
    return a;
}

static void
run_cleanups(arena_t *a)
{
    while (a->cleanups != NULL) {
        cleanup_t *c = a->cleanups;
        a->cleanups = c->next;
        c->fn(c->data);
    }
}

void
arena_reset(arena_t *a)
{
    if (a == NULL)
        return;
    run_cleanups(a);
    while (a->blocks->next != NULL) {
        block_t *b = a->blocks;
        a->blocks = b->next;
        free(b);
    }
    a->blocks->used = 0;
    a->total = a->blocks->size;
    a->used = 0;
}

void
arena_free(arena_t *a)
{
    if (a == NULL)
        return;
    arena_reset(a);
    free(a->blocks);
    free(a);
}

void *
arena_alloc(arena_t *a, size_t size)
{
    block_t *b = a->blocks;
    size_t need = (size + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);

    if (need < size)
        return NULL;
    if (b->size - b->used < need) {
        size_t bsize = need > ARENA_BLOCK ? need : ARENA_BLOCK;
        if (a->cap != 0 && (a->total + bsize > a->cap || bsize > a->cap))
            return NULL;
        b = block_new(bsize);
        if (b == NULL)
            return NULL;
        b->next = a->blocks;
        a->blocks = b;
        a->total += bsize;
    }
    void *p = b->data + b->used;
    b->used += need;
    a->used += need;
    return p;
}

void *
arena_calloc(arena_t *a, size_t n, size_t size)
{
    if (size != 0 && n > SIZE_MAX / size)
        return NULL;
    void *p = arena_alloc(a, n * size);
    if (p != NULL)
        memset(p, 0, n * size);
    return p;
}

char *
arena_strndup(arena_t *a, const char *s, size_t len)
{
    char *p = arena_alloc(a, len + 1);

    if (p == NULL)
        return NULL;
    memcpy(p, s, len);
    p[len] = '\0';
    return p;
}

char *
arena_strdup(arena_t *a, const char *s)
{
    return arena_strndup(a, s, strlen(s));
}

char *
arena_printf(arena_t *a, const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return NULL;
    char *p = arena_alloc(a, (size_t)n + 1);
    if (p == NULL)
        return NULL;
    va_start(ap, fmt);
    vsnprintf(p, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return p;
}

int
arena_add_cleanup(arena_t *a, arena_cleanup_fn fn, void *data)
{
    cleanup_t *c = arena_alloc(a, sizeof *c);

    if (c == NULL)
        return -1;
    c->fn = fn;
    c->data = data;
    c->next = a->cleanups;
    a->cleanups = c;
    return 0;
}

size_t
arena_used(const arena_t *a)
{
    return a->used;
}
