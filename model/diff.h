/*
 * diff: field-level changes between two versions of a document, as the
 * history shows them: one entry per changed leaf, with its JSON Pointer, the
 * old value and the new one (absent on one side = JSON null there). Arrays
 * are compared element by element by index; an element added or removed is
 * one change at its index with a whole object on one side.
 */
#ifndef KT_DIFF_H
#define KT_DIFF_H

#include <bson/bson.h>
#include <stdbool.h>

/* Appends to changes (an initialised bson_t) an array-shaped list of
 * {"path": "/last_name", "old": ..., "new": ...} documents ("0", "1", ...
 * keys), in document order. old_doc may be NULL (creation: every field new).
 * skip (nullable, NULL-terminated) names top-level keys to ignore.
 * Returns the number of changes. */
size_t diff_documents(const bson_t *old_doc, const bson_t *new_doc, const char *const *skip,
                      bson_t *changes);

#endif
