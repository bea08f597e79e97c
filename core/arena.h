/*
 * arena: a memory pool with a cleanup list (nginx's ngx_pool_t).
 *
 * Each worker thread has one, reset after every request (fcgi/server.c);
 * shorter-lived ones serve a package item, a store write, a token check. One
 * thread uses an arena at a time: there is no lock.
 *
 * What it frees, all at once at arena_reset() or arena_free(): the memory it
 * handed out, and whatever the cleanups registered with arena_add_cleanup()
 * free. Nothing else. A bson_t, a cursor, an xmlDoc or a malloc'ed buffer is
 * released by the function that made it (docs/architecture.md, "Concurrency
 * and memory") unless it registers a cleanup, as, for example, the pooled
 * store client (handlers/common.c), the package slot (fcgi/server.c) and
 * the package body buffers and streams (handlers/packages.c) do.
 *
 * Allocation failure returns NULL. A cap bounds the bytes of an arena's
 * blocks, which bounds what one request may take, so a hostile request cannot
 * grow a worker without limit; the bytes handed out are fewer (each
 * allocation is rounded up to 16, and a block's tail is left unused when the
 * next allocation does not fit in it).
 */
#ifndef KT_ARENA_H
#define KT_ARENA_H

#include <stddef.h>

typedef struct arena arena_t;
typedef void (*arena_cleanup_fn)(void *data);

/* A new arena whose blocks never hold more than cap bytes (0: no cap), or
 * NULL. Its first block (16 KiB) is taken at once, even beyond a smaller cap. */
arena_t *arena_new(size_t cap);

/* Runs the cleanups (last registered first), frees every block and the
 * arena. NULL is allowed. */
void arena_free(arena_t *arena);

/* Runs the cleanups (last registered first; they may still use arena
 * memory), then frees every block but the one arena_new() took, ready for
 * reuse. Every pointer the arena handed out is invalid afterwards. */
void arena_reset(arena_t *arena);

/* Aligned memory, or NULL when out of memory or over the cap. */
void *arena_alloc(arena_t *arena, size_t size);

/* Zeroed memory, or NULL. */
void *arena_calloc(arena_t *arena, size_t n, size_t size);

/* A NUL-terminated copy of len bytes of s, or NULL. */
char *arena_strndup(arena_t *arena, const char *s, size_t len);

/* A NUL-terminated copy of s, or NULL. */
char *arena_strdup(arena_t *arena, const char *s);

/* printf into the arena, or NULL. */
char *arena_printf(arena_t *arena, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Registers fn(data) to run at reset/free; returns 0, or -1 when out of
 * memory (the record is allocated in the arena, so a full arena refuses it):
 * then fn is not registered and the caller releases data itself. */
int arena_add_cleanup(arena_t *arena, arena_cleanup_fn fn, void *data);

/* Bytes handed out since the last reset, each allocation rounded up to 16
 * (for tests and limits). */
size_t arena_used(const arena_t *arena);

#endif
