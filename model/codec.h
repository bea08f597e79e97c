/*
 * codec: BSON of the store ⇄ JSON of the API, for documents whose shape the
 * model made (strings, integers, booleans, null, documents, arrays, and
 * date-times as RFC 3339 UTC strings). No MongoDB extended JSON anywhere.
 */
#ifndef KT_CODEC_H
#define KT_CODEC_H

#include <bson/bson.h>
#include <stdbool.h>

#include "core/arena.h"
#include "core/json.h"

/* Writes the document (or array) as one JSON value; keys in stored order.
 * skip (nullable, NULL-terminated) names top-level keys to leave out. */
void codec_bson_to_json(jw_t *w, const bson_t *doc, bool is_array, const char *const *skip);

/* Writes the value the iterator is at. */
void codec_value_to_json(jw_t *w, const bson_iter_t *it);

/* Parses the JSON of codec_bson_to_json back into a tree in arena
 * (a convenience for merge patch: BSON → tree). NULL when out of memory. */
json_value_t *codec_bson_to_tree(arena_t *arena, const bson_t *doc);

/* Canonical bytes for hashing: the compact JSON of codec_bson_to_json with
 * top-level keys in stored order. Appends to out. */
bool codec_canonical(buf_t *out, const bson_t *doc, const char *const *skip);

/* True when key is one of the NULL-terminated skip list (NULL: none). */
bool codec_key_skipped(const char *key, const char *const *skip);

#endif
