/* duplicates: probable duplicates of a student (service/duplicates.h). */
#include "service/duplicates.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>

#include "model/names.h"
#include "store/duplicates.h"
#include "store/organizations.h"
#include "store/util.h"

/* The most representatives' СНИЛС and documents compared per student
 * (the model allows a handful of each). */
#define PER_STUDENT_MAX 16

static const char *const agree_names[DUP_AGREE_BITS] = {"last_name",
                                                        "first_name",
                                                        "middle_name",
                                                        "birth_date",
                                                        "sex",
                                                        "birth_place",
                                                        "representatives.snils",
                                                        "documents",
                                                        "first_middle_swapped",
                                                        "birth_date_day_month_swapped"};

/* A student's fields as the score compares them: names in folded Latin. */
typedef struct {
    char last[NAMES_LATIN_MAX], first[NAMES_LATIN_MAX], middle[NAMES_LATIN_MAX];
    char place[NAMES_LATIN_MAX];
    const char *birth, *sex, *snils;
    const char *reps[PER_STUDENT_MAX];
    int nreps;
    char docs[PER_STUDENT_MAX][80]; /* "<series>|<number>" */
    int ndocs;
} person_t;

static const char *
str_or_empty(const char *s)
{
    return s != NULL ? s : "";
}

/* The strings at member `inner` of each document of array `outer`. */
static void
each_member(const bson_t *doc, const char *outer, const char *inner, const char **out, int *n)
{
    bson_iter_t it, arr, one;

    *n = 0;
    if (!bson_iter_init_find(&it, doc, outer) || !BSON_ITER_HOLDS_ARRAY(&it) ||
        !bson_iter_recurse(&it, &arr))
        return;
    while (*n < PER_STUDENT_MAX && bson_iter_next(&arr))
        if (BSON_ITER_HOLDS_DOCUMENT(&arr) && bson_iter_recurse(&arr, &one) &&
            bson_iter_find(&one, inner) && BSON_ITER_HOLDS_UTF8(&one) &&
            bson_iter_utf8(&one, NULL)[0] != '\0')
            out[(*n)++] = bson_iter_utf8(&one, NULL);
}

static void
documents_of(const bson_t *doc, person_t *p)
{
    bson_iter_t it, arr;

    p->ndocs = 0;
    if (!bson_iter_init_find(&it, doc, "documents") || !BSON_ITER_HOLDS_ARRAY(&it) ||
        !bson_iter_recurse(&it, &arr))
        return;
    while (p->ndocs < PER_STUDENT_MAX && bson_iter_next(&arr)) {
        const uint8_t *data;
        uint32_t len;
        bson_t one;
        if (!BSON_ITER_HOLDS_DOCUMENT(&arr))
            continue;
        bson_iter_document(&arr, &len, &data);
        if (!bson_init_static(&one, data, len) || util_get_str(&one, "number") == NULL)
            continue;
        snprintf(p->docs[p->ndocs++], sizeof p->docs[0], "%s|%s",
                 str_or_empty(util_get_str(&one, "series")), util_get_str(&one, "number"));
    }
}

static void
person_of(const bson_t *doc, person_t *p)
{
    names_latin(util_get_str(doc, "last_name"), p->last);
    names_latin(util_get_str(doc, "first_name"), p->first);
    names_latin(util_get_str(doc, "middle_name"), p->middle);
    names_latin(util_get_str(doc, "birth_place"), p->place);
    p->birth = str_or_empty(util_get_str(doc, "birth_date"));
    p->sex = str_or_empty(util_get_str(doc, "sex"));
    p->snils = str_or_empty(util_get_str(doc, "snils"));
    each_member(doc, "representatives", "snils", p->reps, &p->nreps);
    documents_of(doc, p);
}

/* Points of a name: full when equal, 7/10 at one edit, 4/10 at two (names
 * of six letters or more); 0 when either is missing or two edits apart;
 * -1 when they differ by three or more. */
static int
name_points(const char *a, const char *b, int full)
{
    size_t shorter = strlen(a) < strlen(b) ? strlen(a) : strlen(b);
    int d;

    if (a[0] == '\0' || b[0] == '\0')
        return 0;
    d = names_distance(a, b, 3);
    if (d == 0)
        return full;
    if (d == 1)
        return full * 7 / 10;
    if (d == 2)
        return shorter >= 6 ? full * 4 / 10 : 0;
    return -1;
}

/* "YYYY-MM-DD" with day and month swapped against b (and not equal). */
static bool
date_swapped(const char *a, const char *b)
{
    return strlen(a) == 10 && strlen(b) == 10 && strcmp(a, b) != 0 && memcmp(a, b, 5) == 0 &&
           memcmp(a + 5, b + 8, 2) == 0 && memcmp(a + 8, b + 5, 2) == 0;
}

static bool
share_one(const char *const *a, int na, const char *const *b, int nb)
{
    for (int i = 0; i < na; i++)
        for (int j = 0; j < nb; j++)
            if (strcmp(a[i], b[j]) == 0)
                return true;
    return false;
}

static bool
share_document(const person_t *a, const person_t *b)
{
    for (int i = 0; i < a->ndocs; i++)
        for (int j = 0; j < b->ndocs; j++)
            if (strcmp(a->docs[i], b->docs[j]) == 0)
                return true;
    return false;
}

/* Adds points, and the bit when they are positive. */
static void
add(dup_score_t *s, int points, unsigned bit)
{
    s->score += points;
    if (points > 0)
        s->agree |= bit;
}

/* The first and middle names: straight, or crosswise (swapped), or a
 * first name that is another one (-20: twins share all but that). */
static void
score_given_names(const person_t *a, const person_t *b, dup_score_t *s)
{
    int first = name_points(a->first, b->first, 20);
    int cross1 = name_points(a->first, b->middle, 20),
        cross2 = name_points(a->middle, b->first, 10);

    if (first < 0 && cross1 >= 14 && cross2 >= 7) {
        add(s, cross1 + cross2, DUP_FIRST_NAME | DUP_MIDDLE_NAME | DUP_NAMES_SWAPPED);
        return;
    }
    add(s, first < 0 ? -20 : first, DUP_FIRST_NAME);
    int middle = name_points(a->middle, b->middle, 10);
    add(s, middle >= 7 ? middle : 0, DUP_MIDDLE_NAME);
}

dup_score_t
duplicates_score(const bson_t *da, const bson_t *db)
{
    person_t a, b; /* about 3.5 KB each */
    person_t *pa = &a, *pb = &b;
    dup_score_t s = {0, 0};
    int last;

    person_of(da, pa);
    person_of(db, pb);
    last = name_points(pa->last, pb->last, 25);
    add(&s, last < 0 ? 0 : last, DUP_LAST_NAME);
    score_given_names(pa, pb, &s);
    if (pa->birth[0] != '\0' && strcmp(pa->birth, pb->birth) == 0)
        add(&s, 25, DUP_BIRTH_DATE);
    else if (date_swapped(pa->birth, pb->birth))
        add(&s, 15, DUP_DATE_SWAPPED);
    if (pa->sex[0] != '\0' && pb->sex[0] != '\0')
        add(&s, strcmp(pa->sex, pb->sex) == 0 ? 5 : -10, DUP_SEX);
    if (pa->place[0] != '\0' && pb->place[0] != '\0' && names_distance(pa->place, pb->place, 3) < 3)
        add(&s, 5, DUP_BIRTH_PLACE);
    if (share_one(pa->reps, pa->nreps, pb->reps, pb->nreps))
        add(&s, 15, DUP_REPRESENTATIVE_SNILS);
    if (share_document(pa, pb))
        add(&s, 20, DUP_DOCUMENT);
    if (pa->snils[0] != '\0' && pb->snils[0] != '\0' && strcmp(pa->snils, pb->snils) != 0)
        s.score -= 30; /* two СНИЛС: two persons, unless one was mistyped */
    s.score = s.score < 0 ? 0 : s.score > 100 ? 100 : s.score;
    return s;
}

const char *
duplicates_agree_name(unsigned bit)
{
    for (int i = 0; i < DUP_AGREE_BITS; i++)
        if (bit == 1u << i)
            return agree_names[i];
    return NULL;
}

void
duplicates_append_agree(bson_t *doc, const char *key, unsigned agree)
{
    bson_t arr;
    char k[16];
    int n = 0;

    bson_append_array_begin(doc, key, -1, &arr);
    for (int i = 0; i < DUP_AGREE_BITS; i++)
        if (agree & (1u << i)) {
            snprintf(k, sizeof k, "%d", n++);
            bson_append_utf8(&arr, k, -1, agree_names[i], -1);
        }
    bson_append_array_end(doc, &arr);
}

/* The ids of one block, each once, added to ids. */
static bool
add_block(store_conn_t *conn, int k, const char *key, int limit, char (*ids)[40], int *n,
          kt_error_t *err)
{
    char block[DUP_BLOCK_MAX][40];
    int m = 0;

    if (!store_student_find_ids(conn, store_dup_key_names[k], key, NULL, limit, block, &m, err))
        return false;
    for (int i = 0; i < m; i++) {
        bool seen = false;
        for (int j = 0; j < *n && !seen; j++)
            seen = strcmp(ids[j], block[i]) == 0;
        if (!seen)
            memcpy(ids[(*n)++], block[i], 40);
    }
    return true;
}

/* The candidate ids of the blocking keys of doc within scope, each once:
 * of the records without a СНИЛС always, of those with one unless the
 * scope leaves them out (store/records.h: a key's first letter). */
static bool
block_ids(store_conn_t *conn, dup_scope_t scope, const bson_t *doc, char (*ids)[40], int *n,
          kt_error_t *err)
{
    char keys[STORE_DUP_KEYS][STORE_DUP_KEY_MAX];
    int limit = scope == DUP_SCOPE_FLAG ? DUP_FLAG_BLOCK_MAX : DUP_BLOCK_MAX;
    bool holders;

    *n = 0;
    store_dup_keys(doc, keys);
    holders = scope == DUP_SCOPE_ALL || keys[0][0] == STORE_DUP_NO_SNILS;
    for (int k = 0; k < STORE_DUP_KEYS; k++) {
        keys[k][0] = STORE_DUP_NO_SNILS;
        if (!add_block(conn, k, keys[k], limit, ids, n, err))
            return false;
        keys[k][0] = STORE_DUP_SNILS;
        if (holders && !add_block(conn, k, keys[k], limit, ids, n, err))
            return false;
    }
    return true;
}

/* Puts c into out (sorted by score descending, then id), keeping max. */
static void
keep_best(dup_candidate_t *out, int max, int *n, const dup_candidate_t *c)
{
    int at = *n < max ? (*n)++ : max;

    while (at > 0 && (out[at - 1].score < c->score ||
                      (out[at - 1].score == c->score && strcmp(out[at - 1].id, c->id) > 0))) {
        if (at < max)
            out[at] = out[at - 1];
        at--;
    }
    if (at < max)
        out[at] = *c;
}

/* Scores candidate id against doc into c; *usable false for a student
 * gone or deleted meanwhile (the heads are hints). */
static bool
score_one(store_conn_t *conn, const char *id, const bson_t *doc, dup_candidate_t *c, bool *usable,
          kt_error_t *err)
{
    record_t s;
    dup_score_t sc;
    bool ok;

    *usable = false;
    record_init(&s);
    ok = store_student_get(conn, id, &s, err);
    if (!ok && err->code == KT_NOT_FOUND) {
        kt_error_clear(err);
        ok = true;
    } else if (ok && !s.deleted) {
        sc = duplicates_score(doc, &s.doc);
        memset(c, 0, sizeof *c);
        memcpy(c->id, s.id, sizeof c->id); /* the record read is the one asked for */
        snprintf(c->org, sizeof c->org, "%s", str_or_empty(util_get_str(&s.doc, "organization")));
        c->score = sc.score;
        c->agree = sc.agree;
        *usable = true;
    }
    record_release(&s);
    return ok;
}

bool
duplicates_find(store_conn_t *conn, dup_scope_t scope, const char *self, const bson_t *doc,
                int floor, dup_candidate_t *out, int max, int *n, int *read, kt_error_t *err)
{
    char ids[STORE_DUP_KEYS * 2 * DUP_BLOCK_MAX][40];
    int nids = 0;
    dup_candidate_t c;
    bool usable;

    *n = 0;
    if (read != NULL)
        *read = 0;
    if (!block_ids(conn, scope, doc, ids, &nids, err))
        return false;
    for (int i = 0; i < nids; i++) {
        if (self != NULL && strcmp(ids[i], self) == 0)
            continue;
        if (read != NULL)
            (*read)++;
        if (!score_one(conn, ids[i], doc, &c, &usable, err))
            return false;
        if (usable && c.score >= floor)
            keep_best(out, max, n, &c);
    }
    return true;
}

void
duplicates_pair_id(const char *a, const char *b, char out[STUDENT_ID_LEN + 1])
{
    static const char hex[] = "0123456789abcdef";
    const char *lo = strcmp(a, b) < 0 ? a : b, *hi = lo == a ? b : a;
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    char joined[2 * STUDENT_ID_LEN + 2];
    int k = 0;

    snprintf(joined, sizeof joined, "%s|%s", lo, hi);
    EVP_Digest(joined, strlen(joined), md, &mdlen, EVP_sha256(), NULL);
    md[6] = (unsigned char)((md[6] & 0x0f) | 0x80); /* uuid version 8: made here */
    md[8] = (unsigned char)((md[8] & 0x3f) | 0x80); /* the RFC 9562 variant */
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            out[k++] = '-';
        out[k++] = hex[md[i] >> 4];
        out[k++] = hex[md[i] & 15];
    }
    out[k] = '\0';
}

/* The municipality of an organisation: the first 8 digits of its ОКТМО
 * (a municipal district or city), "" when it has none. */
static bool
municipality_of(store_conn_t *conn, const char *ogrn, char out[9], kt_error_t *err)
{
    record_t org;
    const char *oktmo;
    bool ok;

    out[0] = '\0';
    if (ogrn[0] == '\0')
        return true;
    record_init(&org);
    ok = store_record_get(conn, &store_kind_organization, ogrn, &org, err);
    if (!ok && err->code == KT_NOT_FOUND) {
        kt_error_clear(err);
        ok = true;
    }
    oktmo = ok ? util_get_str(&org.doc, "oktmo") : NULL;
    if (oktmo != NULL && strlen(oktmo) >= 8)
        snprintf(out, 9, "%.8s", oktmo);
    record_release(&org);
    return ok;
}

static void
append_pair_strings(bson_t *doc, const char *key, const char *a, const char *b)
{
    bson_t arr;

    bson_append_array_begin(doc, key, -1, &arr);
    BSON_APPEND_UTF8(&arr, "0", a);
    if (strcmp(a, b) != 0)
        BSON_APPEND_UTF8(&arr, "1", b);
    bson_append_array_end(doc, &arr);
}

static void
append_source(bson_t *pair, const write_meta_t *meta)
{
    bson_t src;

    BSON_APPEND_DOCUMENT_BEGIN(pair, "source", &src);
    if (meta->package_id != NULL) {
        BSON_APPEND_UTF8(&src, "package_id", meta->package_id);
        BSON_APPEND_INT64(&src, "item", meta->item);
    } else {
        BSON_APPEND_UTF8(&src, "request_id", str_or_empty(meta->request_id));
    }
    bson_append_document_end(pair, &src);
    BSON_APPEND_UTF8(pair, "principal", meta->principal->subject);
}

/* The open pair of new student id (doc) and candidate c. */
static bool
store_pair(store_conn_t *conn, const char *id, const bson_t *doc, const dup_candidate_t *c,
           const write_meta_t *meta, kt_error_t *err)
{
    const char *org = str_or_empty(util_get_str(doc, "organization"));
    char pid[STUDENT_ID_LEN + 1], time[32], mun_a[9], mun_b[9];
    bson_t pair = BSON_INITIALIZER;
    bool written = false, ok;

    ok = municipality_of(conn, org, mun_a, err) && municipality_of(conn, c->org, mun_b, err);
    if (!ok)
        goto done;
    duplicates_pair_id(id, c->id, pid);
    util_time_now(time);
    BSON_APPEND_UTF8(&pair, "_id", pid);
    BSON_APPEND_UTF8(&pair, "a", id);
    BSON_APPEND_UTF8(&pair, "b", c->id);
    BSON_APPEND_INT32(&pair, "score", c->score);
    duplicates_append_agree(&pair, "agree", c->agree);
    BSON_APPEND_UTF8(&pair, "created", time);
    BSON_APPEND_UTF8(&pair, "state", "open");
    append_pair_strings(&pair, "organizations", org, c->org);
    append_pair_strings(&pair, "municipalities", mun_a, mun_b);
    append_source(&pair, meta);
    ok = store_dup_pair_put(conn, &pair, false, &written, err);
done:
    bson_destroy(&pair);
    return ok;
}

bool
duplicates_flag(store_conn_t *conn, const char *id, const bson_t *doc, const write_meta_t *meta,
                dup_candidate_t *out, int max, int *n, kt_error_t *err)
{
    if (!duplicates_find(conn, DUP_SCOPE_FLAG, id, doc, DUP_THRESHOLD, out, max, n, NULL, err))
        return false;
    for (int i = 0; i < *n; i++)
        if (!store_pair(conn, id, doc, &out[i], meta, err))
            return false;
    return true;
}

/* The pair closed by who: its members but state, then state and under the
 * same name the closing's {subject, role, time, reason}: "dismissed" (two
 * children) or "merged" (one child, its records merged). */
static void
closed_doc(const bson_t *pair, const char *state, const principal_t *who, const char *reason,
           bson_t *out)
{
    char time[32];
    bson_t d;

    bson_init(out);
    bson_copy_to_excluding_noinit(pair, out, "state", NULL);
    BSON_APPEND_UTF8(out, "state", state);
    util_time_now(time);
    BSON_APPEND_DOCUMENT_BEGIN(out, state, &d);
    BSON_APPEND_UTF8(&d, "subject", who->subject);
    BSON_APPEND_UTF8(&d, "role", str_or_empty(principal_role_name(who->role)));
    BSON_APPEND_UTF8(&d, "time", time);
    BSON_APPEND_UTF8(&d, "reason", reason != NULL ? reason : "");
    bson_append_document_end(out, &d);
}

bool
duplicates_dismiss(store_conn_t *conn, const char *id, const principal_t *who, const char *reason,
                   bson_t *out, kt_error_t *err)
{
    bson_t pair;
    bool found = false, written = false;
    const char *state;

    if (!store_dup_pair_get(conn, id, &pair, &found, err))
        return false;
    if (!found) {
        kt_error_set(err, KT_DOMAIN_INPUT, KT_NOT_FOUND, "no such duplicate pair");
        return false;
    }
    state = util_get_str(&pair, "state");
    if (state != NULL && strcmp(state, "dismissed") == 0) {
        bson_steal(out, &pair); /* dismissed before: the first dismissal stands */
        return true;
    }
    closed_doc(&pair, "dismissed", who, reason, out);
    bson_destroy(&pair);
    if (!store_dup_pair_put(conn, out, true, &written, err)) {
        bson_destroy(out);
        return false;
    }
    return true;
}

bool
duplicates_close_merged(store_conn_t *conn, const char *a, const char *b, const principal_t *who,
                        const char *reason, kt_error_t *err)
{
    char id[STUDENT_ID_LEN + 1];
    bson_t pair, closed;
    bool found = false, written = false, ok;
    const char *state;

    duplicates_pair_id(a, b, id);
    if (!store_dup_pair_get(conn, id, &pair, &found, err))
        return false;
    if (!found)
        return true; /* the pair was never flagged: nothing to close */
    state = util_get_str(&pair, "state");
    if (state == NULL || strcmp(state, "open") != 0) {
        bson_destroy(&pair); /* closed before: the first closing stands */
        return true;
    }
    closed_doc(&pair, "merged", who, reason, &closed);
    bson_destroy(&pair);
    ok = store_dup_pair_put(conn, &closed, true, &written, err);
    bson_destroy(&closed);
    return ok;
}
