/*
 * family: a person's children (and themself from 14) as the families'
 * service shows them. The members written are an allow-list (write_item):
 * whatever the student document holds beyond them never leaves here.
 */
#include "service/family.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/validators.h"
#include "store/kind.h"
#include "store/records.h"
#include "store/util.h"

/* Whether the person born on birth_date is FAMILY_SELF_AGE or older on today
 * (both "YYYY-MM-DD"). Compared as text: the birthday FAMILY_SELF_AGE years
 * on, which for 29 February in a common year reads as a date after the 28th,
 * so the age comes on 1 March, as the law counts it. */
static bool
family_of_age(const char *birth_date, const char *today)
{
    char threshold[40];
    int year, month, day;

    if (birth_date == NULL || strlen(birth_date) != 10 || today == NULL ||
        !date_parse(birth_date, &year, &month, &day))
        return false;
    snprintf(threshold, sizeof threshold, "%04d-%02d-%02d", year + FAMILY_SELF_AGE, month, day);
    return strcmp(threshold, today) <= 0;
}

/* The kind of the first representative carrying snils; NULL when none does. */
static const char *
family_representative(const bson_t *doc, const char *snils)
{
    bson_iter_t it, reps, rep;

    if (!bson_iter_init_find(&it, doc, "representatives") || !BSON_ITER_HOLDS_ARRAY(&it) ||
        !bson_iter_recurse(&it, &reps))
        return NULL;
    while (bson_iter_next(&reps)) {
        const char *s, *kind;

        if (!BSON_ITER_HOLDS_DOCUMENT(&reps))
            continue;
        bson_iter_recurse(&reps, &rep);
        s = NULL;
        kind = NULL;
        while (bson_iter_next(&rep)) {
            if (BSON_ITER_HOLDS_UTF8(&rep) && strcmp(bson_iter_key(&rep), "snils") == 0)
                s = bson_iter_utf8(&rep, NULL);
            else if (BSON_ITER_HOLDS_UTF8(&rep) && strcmp(bson_iter_key(&rep), "kind") == 0)
                kind = bson_iter_utf8(&rep, NULL);
        }
        if (s != NULL && strcmp(s, snils) == 0)
            return kind != NULL ? kind : "OTHER";
    }
    return NULL;
}

/* The person's relation to the student: a representative's kind, "SELF"
 * from FAMILY_SELF_AGE, or NULL (not theirs to see). */
static const char *
family_relation(const record_t *r, const char *snils, const char *today, bool self)
{
    const char *own = util_get_str(&r->doc, "snils");

    if (r->deleted)
        return NULL;
    if (!self)
        return family_representative(&r->doc, snils);
    if (own != NULL && strcmp(own, snils) == 0 &&
        family_of_age(util_get_str(&r->doc, "birth_date"), today))
        return "SELF";
    return NULL;
}

static void
family_string(jw_t *w, const bson_t *doc, const char *name)
{
    const char *v = doc != NULL ? util_get_str(doc, name) : NULL;

    jw_key(w, name);
    jw_string(w, v);
}

/* The school: the student's organisation with its names from the registry
 * (null names when the registry has no such record). */
static bool
family_school(store_conn_t *conn, const bson_t *doc, jw_t *w, kt_error_t *err)
{
    const char *ogrn = util_get_str(doc, "organization");
    record_t org;
    bool found;

    jw_key(w, "school");
    if (ogrn == NULL) {
        jw_null(w);
        return true;
    }
    record_init(&org);
    found = store_record_get(conn, &store_kind_organization, ogrn, &org, err);
    if (!found && err->code != KT_NOT_FOUND) {
        record_release(&org);
        return false;
    }
    kt_error_clear(err);
    jw_object_begin(w);
    jw_key(w, "ogrn");
    jw_string(w, ogrn);
    family_string(w, found ? &org.doc : NULL, "short_name");
    family_string(w, found ? &org.doc : NULL, "full_name");
    jw_object_end(w);
    record_release(&org);
    return true;
}

/* The open main episode (ACTIVE or on LEAVE, any level but DOP), the last
 * one when the history is inconsistent; false when there is none. */
static bool
family_open_episode(const bson_t *doc, bson_t *episode)
{
    bson_iter_t it, eps;
    bool found = false;

    if (!bson_iter_init_find(&it, doc, "education") || !BSON_ITER_HOLDS_ARRAY(&it) ||
        !bson_iter_recurse(&it, &eps))
        return false;
    while (bson_iter_next(&eps)) {
        const uint8_t *data;
        uint32_t len;
        bson_t ep;
        const char *status, *level;

        if (!BSON_ITER_HOLDS_DOCUMENT(&eps))
            continue;
        bson_iter_document(&eps, &len, &data);
        if (!bson_init_static(&ep, data, len))
            continue;
        status = util_get_str(&ep, "status");
        level = util_get_str(&ep, "level");
        if (status == NULL || level == NULL || strcmp(level, "DOP") == 0 ||
            (strcmp(status, "ACTIVE") != 0 && strcmp(status, "LEAVE") != 0))
            continue;
        if (found)
            bson_destroy(episode);
        bson_copy_to(&ep, episode);
        found = true;
    }
    return found;
}

static void
family_class(const bson_t *doc, jw_t *w)
{
    bson_t ep;
    int64_t grade;

    jw_key(w, "class");
    if (!family_open_episode(doc, &ep)) {
        jw_null(w);
        return;
    }
    grade = util_get_int(&ep, "grade", -1);
    jw_object_begin(w);
    family_string(w, &ep, "level");
    jw_key(w, "grade");
    if (grade >= 0)
        jw_int(w, grade);
    else
        jw_null(w);
    family_string(w, &ep, "class_letter");
    family_string(w, &ep, "status");
    jw_object_end(w);
    bson_destroy(&ep);
}

/* The allow-list of what a family sees of a student. */
static bool
write_item(store_conn_t *conn, const record_t *r, const char *relation, family_more_fn more,
           void *ctx, jw_t *w, kt_error_t *err)
{
    jw_object_begin(w);
    jw_key(w, "id");
    jw_string(w, r->id);
    jw_key(w, "relation");
    jw_string(w, relation);
    family_string(w, &r->doc, "last_name");
    family_string(w, &r->doc, "first_name");
    family_string(w, &r->doc, "middle_name");
    family_string(w, &r->doc, "birth_date");
    if (!family_school(conn, &r->doc, w, err))
        return false;
    family_class(&r->doc, w);
    if (more != NULL && !more(ctx, conn, r->id, w, err))
        return false;
    jw_object_end(w);
    return true;
}

/* Reads id; *relation is NULL when the person may not see it (missing
 * included). */
static bool
family_read(store_conn_t *conn, const char *id, const char *snils, const char *today, bool self,
            record_t *r, const char **relation, kt_error_t *err)
{
    *relation = NULL;
    if (!store_student_get(conn, id, r, err)) {
        if (err->code != KT_NOT_FOUND)
            return false;
        kt_error_clear(err);
        return true;
    }
    *relation = family_relation(r, snils, today, self);
    return true;
}

/* Writes the candidates that pass the re-check; returns the ids shown. */
static bool
family_write_found(store_conn_t *conn, arena_t *arena, char (*ids)[40], int n, const char *snils,
                   const char *today, bool self, jw_t *w, family_shown_t *shown, kt_error_t *err)
{
    for (int i = 0; i < n; i++) {
        record_t r;
        const char *relation;
        bool ok;

        record_init(&r);
        ok = family_read(conn, ids[i], snils, today, self, &r, &relation, err);
        if (ok && relation != NULL && shown->n < FAMILY_SHOWN_MAX) {
            ok = write_item(conn, &r, relation, NULL, NULL, w, err);
            shown->ids[shown->n++] = arena_strdup(arena, r.id);
        }
        record_release(&r);
        if (!ok)
            return false;
    }
    return true;
}

bool
family_list(store_conn_t *conn, arena_t *arena, const char *snils, const char *today,
            const char *after, jw_t *w, family_shown_t *shown, kt_error_t *err)
{
    char(*ids)[40] = arena_alloc(arena, sizeof *ids * FAMILY_PAGE);
    int n = 0;

    shown->n = 0;
    if (ids == NULL) {
        kt_error_set(err, KT_DOMAIN_INTERNAL, KT_INTERNAL, "family: out of memory");
        return false;
    }
    jw_object_begin(w);
    jw_key(w, "items");
    jw_array_begin(w);
    if (after == NULL &&
        (!store_student_find_ids(conn, "snils", snils, NULL, FAMILY_SELF_MAX, ids, &n, err) ||
         !family_write_found(conn, arena, ids, n, snils, today, true, w, shown, err)))
        return false;
    if (!store_student_find_ids(conn, "representative_snils", snils, after, FAMILY_PAGE, ids, &n,
                                err) ||
        !family_write_found(conn, arena, ids, n, snils, today, false, w, shown, err))
        return false;
    jw_array_end(w);
    jw_key(w, "next_cursor");
    jw_string(w, n == FAMILY_PAGE ? ids[n - 1] : NULL);
    jw_object_end(w);
    return true;
}

bool
family_child(store_conn_t *conn, arena_t *arena, const char *snils, const char *today,
             const char *id, family_more_fn more, void *ctx, jw_t *w, kt_error_t *err)
{
    record_t r;
    const char *relation = NULL;
    bool ok;

    (void)arena;
    record_init(&r);
    ok = family_read(conn, id, snils, today, false, &r, &relation, err);
    if (ok && relation == NULL && !r.deleted && r.id[0] != '\0')
        relation = family_relation(&r, snils, today, true);
    if (ok && relation == NULL) {
        kt_error_set(err, KT_DOMAIN_INPUT, KT_NOT_FOUND, "no such child");
        ok = false;
    }
    ok = ok && write_item(conn, &r, relation, more, ctx, w, err);
    record_release(&r);
    return ok;
}
