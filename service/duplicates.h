/*
 * duplicates: probable duplicates of a student (issue 16; docs/duplicates.md).
 *
 * The candidate search reads the ids of each blocking key the student's
 * document gives (store/records.h, store_dup_keys: the consonant skeleton of
 * the surname + birth date, of the first name + birth date, of both names +
 * birth year) from the heads' index — at most DUP_BLOCK_MAX per key and
 * kind (DUP_FLAG_BLOCK_MAX at a create), so a search reads a bounded
 * number of records whatever the region's size —
 * scores each candidate against the document (duplicates_score) and keeps
 * the best DUP_CANDIDATES_MAX at or above a floor.
 *
 * A create whose candidates score DUP_THRESHOLD or more is accepted and
 * flagged (duplicates_flag): a pair per such candidate is stored
 * (store/duplicates.h) for the region's operators, who list the open pairs
 * and dismiss those that are two children.
 */
#ifndef KT_SERVICE_DUPLICATES_H
#define KT_SERVICE_DUPLICATES_H

#include <bson/bson.h>
#include <stdbool.h>

#include "auth/principal.h"
#include "core/error.h"
#include "store/records.h"
#include "store/store.h"

/* The score (0 … 100) from which a record is listed as a candidate, and
 * from which a create is flagged as a probable duplicate. */
#define DUP_FLOOR     50
#define DUP_THRESHOLD 70

/* The most candidates a search returns, and the most ids it reads per
 * blocking key and kind of record (with or without a СНИЛС; a block beyond
 * that — one very common name born on one day — is read in part, by id
 * order): at most 3 × 2 × 50 records per search. */
#define DUP_CANDIDATES_MAX 10
#define DUP_BLOCK_MAX      50
/* The same at a create (DUP_SCOPE_FLAG), which every write pays for: at
 * most 3 × 2 × 20 records. */
#define DUP_FLAG_BLOCK_MAX 20

/* What agrees between two documents, as bits; the names are the JSON
 * fields (duplicates_agree_name). A name counts as agreeing within two
 * edits of their folded Latin forms (model/names.h). */
typedef enum {
    DUP_LAST_NAME = 1u << 0,
    DUP_FIRST_NAME = 1u << 1,
    DUP_MIDDLE_NAME = 1u << 2,
    DUP_BIRTH_DATE = 1u << 3,
    DUP_SEX = 1u << 4,
    DUP_BIRTH_PLACE = 1u << 5,
    DUP_REPRESENTATIVE_SNILS = 1u << 6, /* a representative's СНИЛС is shared */
    DUP_DOCUMENT = 1u << 7,             /* a document's series and number are shared */
    DUP_NAMES_SWAPPED = 1u << 8,        /* first and middle name agree crosswise */
    DUP_DATE_SWAPPED = 1u << 9,         /* the birth dates differ by day and month swapped */
} dup_agree_t;

#define DUP_AGREE_BITS 10

typedef struct {
    int score;      /* 0 … 100 */
    unsigned agree; /* dup_agree_t bits */
} dup_score_t;

/* The score of b as a duplicate of a (symmetric), docs/duplicates.md
 * "Score": points for each agreeing field, fewer for a near name, a
 * penalty for another sex, first name or СНИЛС; clamped to 0 … 100. */
dup_score_t duplicates_score(const bson_t *a, const bson_t *b);

/* "last_name", "first_name", …, "first_middle_swapped",
 * "birth_date_day_month_swapped" for one bit; NULL for others. */
const char *duplicates_agree_name(unsigned bit);

/* Appends the array of agree's names as key to doc. */
void duplicates_append_agree(bson_t *doc, const char *key, unsigned agree);

typedef struct {
    char id[STUDENT_ID_LEN + 1];
    int score;
    unsigned agree;
    char org[16]; /* the candidate's organisation (ОГРН) */
} dup_candidate_t;

/* Which records a search reads: every one its blocks hold (an operator's
 * look at a record), or — at a create — only those that may be flagged: for
 * a document with a СНИЛС, the records without one (two valid, different
 * СНИЛС are two persons; a shared one is refused before: DUPLICATE_SNILS). */
typedef enum { DUP_SCOPE_ALL = 0, DUP_SCOPE_FLAG } dup_scope_t;

/*
 * The candidates of doc (the document of student self, NULL for one not
 * stored yet) within scope scoring floor or more, best first (then by id),
 * at most max into out; *n their count. Deleted students and self are never
 * candidates. read (nullable) gets the number of records the blocks held
 * and were read and scored: what a search costs (bench/duplicates).
 */
bool duplicates_find(store_conn_t *conn, dup_scope_t scope, const char *self, const bson_t *doc,
                     int floor, dup_candidate_t *out, int max, int *n, int *read, kt_error_t *err);

/* The pair id of two students: a uuid derived from both (in either order). */
void duplicates_pair_id(const char *a, const char *b, char out[STUDENT_ID_LEN + 1]);

/*
 * At a create of student id with doc: searches its candidates and stores an
 * open pair for each scoring DUP_THRESHOLD or more (a pair stored before is
 * kept as it was). The flagged candidates go to out (at most max, *n). The
 * create stands whatever happens here: a failure is the caller's to log.
 */
bool duplicates_flag(store_conn_t *conn, const char *id, const bson_t *doc,
                     const write_meta_t *meta, dup_candidate_t *out, int max, int *n,
                     kt_error_t *err);

/*
 * Dismisses pair id as "not a duplicate": records who, when and why, and
 * the pair leaves the open lists; the pair as stored after goes to out
 * (initialised on success). A pair dismissed before stays as it was (the
 * first dismissal is kept). 404 NOT_FOUND for no such pair.
 */
bool duplicates_dismiss(store_conn_t *conn, const char *id, const principal_t *who,
                        const char *reason, bson_t *out, kt_error_t *err);

/*
 * After students a and b were merged (service/merge.c): their pair, when one
 * was flagged and is still open, is closed as "merged" (who, when, why) and
 * leaves the open lists. No pair, or one closed before: nothing changes.
 */
bool duplicates_close_merged(store_conn_t *conn, const char *a, const char *b,
                             const principal_t *who, const char *reason, kt_error_t *err);

#endif
