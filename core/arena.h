/*
 * arena: a per-request memory pool with a cleanup list (nginx's ngx_pool_t).
 *
 * Everything a request allocates comes from its arena and is released at
 * once by arena_reset() when the request ends. Foreign resources (bson_t,
 * cursors, xmlDoc) register a cleanup so that handlers almost never free.
 * Allocation failure returns NULL; a hard cap bounds what one request may
 * take, so a hostile request cannot grow a worker without limit.
 */
#ifndef KT_ARENA_H
#define KT_ARENA_H

#include <stddef.h>

typedef struct arena arena_t;
typedef void (*arena_cleanup_fn)(void *data);

/* A new arena that never holds more than cap bytes (0: no cap). */
arena_t *arena_new(size_t cap);

/* Runs the cleanups (last registered first) and frees every block. */
void arena_free(arena_t *arena);

/* Runs the cleanups and frees all but the first block, ready for reuse. */
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

/* Registers fn(data) to run at reset/free; returns 0, or -1 when out of memory. */
int arena_add_cleanup(arena_t *arena, arena_cleanup_fn fn, void *data);

/* Bytes handed out since the last reset (for tests and limits). */
size_t arena_used(const arena_t *arena);

#endif
