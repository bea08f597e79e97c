/*
 * progress: the current-progress kind of the versioned store (store/kind.h)
 * — one record per student and academic year (model/progress.h), so that
 * tens of millions of marks a year never swell a student's own version
 * chain. Its versions live in progress_versions and its heads in progress
 * (with student_id, year and organization for lists and reports).
 *
 * The record id is a uuid derived from the student's id and the year
 * (store_progress_id): ids of every kind keep one width (record_t, version
 * keys, verify's lines), and the pair (student, year) finds its record
 * without a lookup. Progress is not in the change feed (docs/progress.md:
 * the feed is the roster's, and marks would drown it); reads are personal
 * data, access-logged.
 */
#ifndef KT_STORE_PROGRESS_H
#define KT_STORE_PROGRESS_H

#include "store/kind.h"

/* The record id of (student_id, year): the uuid (version 8, RFC 9562) of
 * the first 16 bytes of SHA-256("kontingent-progress:<student_id>:<year>"),
 * lower case, in out (37 bytes). False only when the digest fails. */
bool store_progress_id(const char *student_id, const char *year, char out[37]);

#endif
