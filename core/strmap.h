/*
 * strmap: a hash map from strings to fixed-size values, for work that must
 * hold one small record per entity of a whole collection (reports scan every
 * student's versions and keep the latest per student).
 *
 * Open addressing with linear probing; keys are copied into slabs; values
 * live inline in one array (value_size bytes each, zeroed when created), so
 * a value pointer is valid only until the next strmap_put. The memory a map
 * holds is counted (strmap_bytes) and bounded by max_bytes: a put that would
 * pass it fails, as does one that runs out of memory.
 */
#ifndef KT_STRMAP_H
#define KT_STRMAP_H

#include <stdbool.h>
#include <stddef.h>

typedef struct strmap strmap_t;

/* A new map of value_size-byte values holding at most max_bytes (0: no bound). */
strmap_t *strmap_new(size_t value_size, size_t max_bytes);

void strmap_free(strmap_t *m);

/* The value of key, or NULL. */
void *strmap_get(const strmap_t *m, const char *key);

/* The value of key, created (zeroed) when absent (*created tells which);
 * NULL when the map is full or out of memory. */
void *strmap_put(strmap_t *m, const char *key, bool *created);

size_t strmap_count(const strmap_t *m);

/* Bytes held (tables, keys and values). */
size_t strmap_bytes(const strmap_t *m);

/* Iteration in no particular order: start with *pos = 0; false at the end. */
bool strmap_next(const strmap_t *m, size_t *pos, const char **key, void **value);

#endif
