/*
 * patch: JSON Merge Patch (RFC 7396) over parsed trees: a member whose patch
 * value is null is removed, objects merge recursively, anything else
 * replaces. The result is a new tree in arena; target is not modified.
 */
#ifndef KT_PATCH_H
#define KT_PATCH_H

#include "core/arena.h"
#include "core/json.h"

/* NULL only when out of memory. target may be NULL (treated as {}). */
json_value_t *patch_merge(arena_t *arena, const json_value_t *target, const json_value_t *patch);

#endif
