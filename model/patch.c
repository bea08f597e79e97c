/*
 * patch: RFC 7396 MergePatch, building a fresh tree.
 *
 * Every node of the result is a copy in the arena (strings and keys too), so
 * the result outlives neither more nor less than the arena it was made in,
 * whatever the lifetimes of target and patch. Existing members keep the
 * target's order; new members follow in the patch's order. Recursion is as
 * deep as the patch's nesting, which json_parse() bounds (64 by default).
 * Looking a member up is a linear scan: O(|target members| × |patch members|)
 * per object, where the target is a stored document of a few dozen members.
 */
#include "model/patch.h"

#include <string.h>

static json_value_t *patch_apply(arena_t *arena, const json_value_t *target,
                                 const json_value_t *patch);

/* A member of obj with the same key as m, or NULL. Keys carry their length,
 * so the comparison does not stop at a NUL. */
static const json_value_t *
patch_find(const json_value_t *obj, const json_value_t *m)
{
    if (obj == NULL || obj->type != JSON_OBJECT)
        return NULL;
    for (const json_value_t *c = obj->child; c != NULL; c = c->next) {
        if (c->key_len == m->key_len && memcmp(c->key, m->key, m->key_len) == 0)
            return c;
    }
    return NULL;
}

/* A node of type with no children, key or next; NULL when out of memory. */
static json_value_t *
patch_node(arena_t *arena, const json_value_t *like)
{
    json_value_t *n = arena_calloc(arena, 1, sizeof *n);

    if (n == NULL)
        return NULL;
    n->type = like->type;
    n->offset = like->offset;
    if (like->str != NULL) {
        n->str = arena_strndup(arena, like->str, like->len);
        n->len = like->len;
        if (n->str == NULL)
            return NULL;
    }
    return n;
}

/* Appends child to parent under the key of member (a copy); false when out of memory. */
static bool
patch_append(arena_t *arena, json_value_t *parent, json_value_t **tail, json_value_t *child,
             const json_value_t *member)
{
    if (parent->type == JSON_OBJECT) {
        char *key = arena_strndup(arena, member->key, member->key_len);
        if (key == NULL)
            return false;
        child->key = key;
        child->key_len = member->key_len;
    }
    if (*tail == NULL)
        parent->child = child;
    else
        (*tail)->next = child;
    *tail = child;
    parent->count++;
    return true;
}

/* A deep copy of v, nulls inside included (they are data, not removals). */
static json_value_t *
patch_copy(arena_t *arena, const json_value_t *v)
{
    json_value_t *n = patch_node(arena, v), *tail = NULL;

    if (n == NULL)
        return NULL;
    for (const json_value_t *c = v->child; c != NULL; c = c->next) {
        json_value_t *copy = patch_copy(arena, c);
        if (copy == NULL || !patch_append(arena, n, &tail, copy, c))
            return NULL;
    }
    return n;
}

/* MergePatch for an object patch: target's members first, patched or removed,
 * then the patch's new members. A non-object target counts as {}. */
static json_value_t *
patch_object(arena_t *arena, const json_value_t *target, const json_value_t *patch)
{
    json_value_t *out = patch_node(arena, patch), *tail = NULL, *v;
    const json_value_t *p;

    if (out == NULL)
        return NULL;
    for (const json_value_t *t = target != NULL && target->type == JSON_OBJECT ? target->child
                                                                               : NULL;
         t != NULL; t = t->next) {
        p = patch_find(patch, t);
        if (p != NULL && p->type == JSON_NULL)
            continue;
        v = p != NULL ? patch_apply(arena, t, p) : patch_copy(arena, t);
        if (v == NULL || !patch_append(arena, out, &tail, v, t))
            return NULL;
    }
    for (p = patch->child; p != NULL; p = p->next) {
        if (p->type == JSON_NULL || patch_find(target, p) != NULL)
            continue;
        v = patch_apply(arena, NULL, p);
        if (v == NULL || !patch_append(arena, out, &tail, v, p))
            return NULL;
    }
    return out;
}

static json_value_t *
patch_apply(arena_t *arena, const json_value_t *target, const json_value_t *patch)
{
    if (patch->type == JSON_OBJECT)
        return patch_object(arena, target, patch);
    return patch_copy(arena, patch);
}

json_value_t *
patch_merge(arena_t *arena, const json_value_t *target, const json_value_t *patch)
{
    static const json_value_t empty = {.type = JSON_OBJECT};

    /* No patch at all changes nothing: the result is a copy of the target. */
    if (patch == NULL)
        return patch_copy(arena, target != NULL ? target : &empty);
    return patch_apply(arena, target, patch);
}
