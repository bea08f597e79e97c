/*
 * scan: the latest version of every record of a kind as it stood at a time
 * — what reports count (#5: "what the versions say was true at as_of, not
 * today's state").
 *
 * The backend reads the versions at or before the bound (SQLite: only the
 * latest of each record, by index; MongoDB: one pass in store order, as
 * FerretDB cannot sort a large collection), keeping per record the highest
 * version in a strmap. The
 * caller decides what a version leaves behind (keep: a fixed-size summary,
 * value_size bytes); a kept summary superseded by a later version is
 * released with drop. Memory is the map: about 100 bytes per entity plus
 * the summaries, bounded by max_bytes (507-like 503 UNAVAILABLE past it).
 */
#ifndef KT_STORE_SCAN_H
#define KT_STORE_SCAN_H

#include <bson/bson.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/error.h"
#include "store/store.h"
#include "core/strmap.h"
#include "store/kind.h"

/* One version as the scan meets it. */
typedef struct {
    const char *id;
    int64_t version;
    bool deleted;
    const char *time;
    const bson_t *doc; /* the fields; a deletion repeats the last ones (check deleted) */
} scan_version_t;

typedef struct {
    const store_kind_t *kind; /* whose versions: &store_kind_student */
    const char *until;        /* versions with time ≤ until ("…Z" stored form); NULL: all */
    size_t value_size;        /* bytes of a summary */
    size_t max_bytes;         /* bound of the map (0: none) */
    /* Fills the summary of v into value (zeroed); false aborts the scan (err set by it). */
    bool (*keep)(void *ctx, const scan_version_t *v, void *value, kt_error_t *err);
    void (*drop)(void *ctx, void *value); /* NULL: nothing to release */
    void *ctx;
} scan_spec_t;

/* Runs the scan; *out is the map id → summary (free with scan_free). */
bool store_scan_latest(store_conn_t *conn, const scan_spec_t *spec, strmap_t **out,
                       kt_error_t *err);

/*
 * One page of the entities that had field = value in some version at or
 * before until: versions are read in _id order ("<id>:<version>") after
 * cursor (a version _id, "" at the start; updated to the last one read),
 * limit at a time; ids (width 40) receives each entity once per page, in
 * order; *more tells whether a next page may exist. An entity whose
 * versions straddle two pages appears in both: callers skip the repeat.
 * Memory is the page, whatever the collection's size. field is
 * "doc.organization", the one member every backend indexes for this (export
 * by school); SQLite refuses another with 500 INTERNAL, a caller's bug.
 */
bool store_scan_page(store_conn_t *conn, const scan_spec_t *spec, const char *field,
                     const char *value, char cursor[64], int limit, char (*ids)[40], int *n,
                     bool *more, kt_error_t *err);

/* The summary of an entry of the map (a value of strmap_next). */
void *scan_summary(void *map_value);

/* Frees the map, dropping every summary. */
void scan_free(const scan_spec_t *spec, strmap_t *map);

#endif
