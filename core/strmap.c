/*
 * strmap: open addressing over a power-of-two table, grown at 3/4 load.
 * Keys are FNV-1a hashed and copied into 64 KiB slabs (one allocation per
 * slab, not per key, so a million keys are a few dozen allocations).
 */
#include "core/strmap.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define STRMAP_INITIAL 1024
#define STRMAP_SLAB    (64u << 10)

typedef struct slab {
    struct slab *next;
    size_t used;
    char data[];
} slab_t;

typedef struct {
    uint64_t hash;
    const char *key; /* NULL: empty */
} slot_t;

struct strmap {
    slot_t *slots;
    unsigned char *values;
    size_t cap, count, value_size, max_bytes, bytes;
    slab_t *slabs;
};

static uint64_t
strmap_hash(const char *s)
{
    uint64_t h = 14695981039346656037ull;

    for (; *s != '\0'; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ull;
    }
    return h;
}

static bool
strmap_fits(const strmap_t *m, size_t more)
{
    return m->max_bytes == 0 || m->bytes + more <= m->max_bytes;
}

static bool
strmap_alloc_table(strmap_t *m, size_t cap, slot_t **slots, unsigned char **values)
{
    size_t more = cap * (sizeof **slots + m->value_size);

    if (!strmap_fits(m, more))
        return false;
    *slots = calloc(cap, sizeof **slots);
    *values = calloc(cap, m->value_size);
    if (*slots == NULL || *values == NULL) {
        free(*slots);
        free(*values);
        return false;
    }
    m->bytes += more;
    return true;
}

strmap_t *
strmap_new(size_t value_size, size_t max_bytes)
{
    strmap_t *m = calloc(1, sizeof *m);

    if (m == NULL)
        return NULL;
    m->value_size = value_size > 0 ? value_size : 1;
    m->max_bytes = max_bytes;
    m->cap = STRMAP_INITIAL;
    if (!strmap_alloc_table(m, m->cap, &m->slots, &m->values)) {
        free(m);
        return NULL;
    }
    return m;
}

void
strmap_free(strmap_t *m)
{
    if (m == NULL)
        return;
    while (m->slabs != NULL) {
        slab_t *next = m->slabs->next;
        free(m->slabs);
        m->slabs = next;
    }
    free(m->slots);
    free(m->values);
    free(m);
}

static size_t
strmap_find(const slot_t *slots, size_t cap, uint64_t hash, const char *key)
{
    size_t i = (size_t)hash & (cap - 1);

    while (slots[i].key != NULL && (slots[i].hash != hash || strcmp(slots[i].key, key) != 0))
        i = (i + 1) & (cap - 1);
    return i;
}

void *
strmap_get(const strmap_t *m, const char *key)
{
    size_t i = strmap_find(m->slots, m->cap, strmap_hash(key), key);

    return m->slots[i].key != NULL ? m->values + i * m->value_size : NULL;
}

static bool
strmap_grow(strmap_t *m)
{
    size_t cap = m->cap * 2, old_bytes = m->cap * (sizeof *m->slots + m->value_size);
    slot_t *slots;
    unsigned char *values;

    if (!strmap_alloc_table(m, cap, &slots, &values))
        return false;
    for (size_t i = 0; i < m->cap; i++) {
        if (m->slots[i].key == NULL)
            continue;
        size_t k = strmap_find(slots, cap, m->slots[i].hash, m->slots[i].key);
        slots[k] = m->slots[i];
        memcpy(values + k * m->value_size, m->values + i * m->value_size, m->value_size);
    }
    free(m->slots);
    free(m->values);
    m->slots = slots;
    m->values = values;
    m->cap = cap;
    m->bytes -= old_bytes;
    return true;
}

static const char *
strmap_copy_key(strmap_t *m, const char *key)
{
    size_t len = strlen(key) + 1;
    slab_t *s = m->slabs;

    if (s == NULL || STRMAP_SLAB - s->used < len) {
        size_t size = len > STRMAP_SLAB ? len : STRMAP_SLAB;
        if (!strmap_fits(m, sizeof *s + size) || (s = malloc(sizeof *s + size)) == NULL)
            return NULL;
        m->bytes += sizeof *s + size;
        s->next = m->slabs;
        s->used = 0;
        m->slabs = s;
    }
    memcpy(s->data + s->used, key, len);
    s->used += len;
    return s->data + s->used - len;
}

void *
strmap_put(strmap_t *m, const char *key, bool *created)
{
    uint64_t hash = strmap_hash(key);
    size_t i = strmap_find(m->slots, m->cap, hash, key);

    *created = false;
    if (m->slots[i].key != NULL)
        return m->values + i * m->value_size;
    if ((m->count + 1) * 4 > m->cap * 3) {
        if (!strmap_grow(m))
            return NULL;
        i = strmap_find(m->slots, m->cap, hash, key);
    }
    m->slots[i].key = strmap_copy_key(m, key);
    if (m->slots[i].key == NULL)
        return NULL;
    m->slots[i].hash = hash;
    m->count++;
    *created = true;
    return m->values + i * m->value_size;
}

size_t
strmap_count(const strmap_t *m)
{
    return m->count;
}

size_t
strmap_bytes(const strmap_t *m)
{
    return m->bytes;
}

bool
strmap_next(const strmap_t *m, size_t *pos, const char **key, void **value)
{
    for (; *pos < m->cap; (*pos)++) {
        if (m->slots[*pos].key != NULL) {
            *key = m->slots[*pos].key;
            *value = m->values + *pos * m->value_size;
            (*pos)++;
            return true;
        }
    }
    return false;
}
