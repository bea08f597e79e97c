/*
 * pair: what the store knows about two records joined by a merge
 * (store/records.h, store_record_write_pair): the survivor's version that
 * names a duplicate, and verify's check that a merged record's survivor
 * carries the merge — shared by both backends.
 */
#include <stdio.h>
#include <string.h>

#include "store/backend.h"
#include "store/util.h"

static bool
names(const record_t *v, const char *other)
{
    const char *from = util_get_str(&v->record, "merged_from");
    const char *split = util_get_str(&v->record, "unmerged");

    return (from != NULL && strcmp(from, other) == 0) ||
           (split != NULL && strcmp(split, other) == 0);
}

bool
store_pair_latest(store_conn_t *conn, const store_kind_t *kind, const record_t *s,
                  const char *other, record_t *v, bool *found, kt_error_t *err)
{
    *found = false;
    for (int64_t n = s->version; n >= 1 && s->version - n < STORE_PAIR_HISTORY_MAX; n--) {
        if (!store_record_get_version(conn, kind, s->id, n, v, err))
            return false;
        if (names(v, other)) {
            *found = true;
            return true;
        }
    }
    return true;
}

/* A merged record whose survivor lacks the merge: the first of the two
 * writes of a merge stands alone (MongoDB: a crash or a lost race between
 * them), or the survivor's side of an unmerge does. */
bool
store_pair_check(store_conn_t *conn, const store_kind_t *kind, const record_t *cur,
                 bool *incomplete, char *problem, kt_error_t *err)
{
    const char *to = util_get_str(&cur->record, "merged_into");
    record_t s, v;
    kt_error_t e;
    bool found = false, ok = true;

    *incomplete = false;
    if (!record_is_merged(cur) || to == NULL)
        return true;
    record_init(&s);
    record_init(&v);
    kt_error_clear(&e);
    if (!store_record_get(conn, kind, to, &s, &e)) {
        ok = e.code == KT_NOT_FOUND;
        if (!ok)
            *err = e;
    } else {
        ok = store_pair_latest(conn, kind, &s, cur->id, &v, &found, err);
    }
    const char *k = found ? util_get_str(&v.record, "kind") : NULL;
    if (ok && (k == NULL || strcmp(k, "merge") != 0)) {
        *incomplete = true;
        snprintf(problem, 256,
                 "merged into %s, whose history does not end the pair with the merge"
                 " (send the merge or the unmerge again)",
                 to);
    }
    record_release(&s);
    record_release(&v);
    return ok;
}
