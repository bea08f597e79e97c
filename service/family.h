/*
 * family: the families' service (issue 15, docs/api.md "The families'
 * service") — what a person signed in through ЕСИА may see of the registry,
 * asked for by the state services portal: the students for whom a
 * representative carries the person's СНИЛС (their children), and, from the
 * day they turn FAMILY_SELF_AGE in the region's time zone, the student who
 * is the person themself.
 *
 * A child is shown as its id, name, birth date, the relation ("MOTHER",
 * "FATHER", ... as the representative's kind; "SELF"), the current school
 * (ОГРН and names from the registry) and class (the open main episode's
 * level, grade, letter and status) — never health data, documents,
 * addresses, СНИЛС or other representatives. The store's head key finds the
 * candidates; each is re-read and re-checked, since heads are hints.
 */
#ifndef KT_SERVICE_FAMILY_H
#define KT_SERVICE_FAMILY_H

#include <stdbool.h>
#include <stddef.h>

#include "core/arena.h"
#include "core/error.h"
#include "core/json.h"
#include "store/store.h"

#define FAMILY_SELF_AGE  14 /* years: a student sees themself from this birthday */
#define FAMILY_PAGE      50 /* children in one page of the list */
#define FAMILY_SELF_MAX  2  /* students holding one СНИЛС: one, by uniqueness */
#define FAMILY_SHOWN_MAX (FAMILY_PAGE + FAMILY_SELF_MAX)

/* What one answer disclosed, for the access log. */
typedef struct {
    const char *ids[FAMILY_SHOWN_MAX]; /* students shown, in arena */
    size_t n;
} family_shown_t;

/* The page of snils's children after the id `after` (NULL: the first page,
 * which begins with the person themself when they are a student of 14 or
 * more on today): writes {"items": [...], "next_cursor": id | null} with w.
 * snils is 11 digits; today "YYYY-MM-DD". A person who is nobody's
 * representative gets an empty list. */
bool family_list(store_conn_t *conn, arena_t *arena, const char *snils, const char *today,
                 const char *after, jw_t *w, family_shown_t *shown, kt_error_t *err);

/* One child (or the person themself) by id: the list's item, written with w.
 * A student who is not the person's child (or self, from 14), a deleted
 * one or no student at all: 404 NOT_FOUND alike, nothing written.
 * with_child, when not NULL, is called after the item's members and before
 * its end, to add more (current progress: docs/api.md). */
typedef bool (*family_more_fn)(void *ctx, store_conn_t *conn, const char *id, jw_t *w,
                               kt_error_t *err);
bool family_child(store_conn_t *conn, arena_t *arena, const char *snils, const char *today,
                  const char *id, family_more_fn more, void *ctx, jw_t *w, kt_error_t *err);

#endif
