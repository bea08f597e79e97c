/* merge: merge and unmerge of two student records (service/merge.h). */
#include "service/merge.h"

#include <stdio.h>
#include <string.h>

#include "core/buf.h"
#include "model/codec.h"
#include "model/fields.h"
#include "model/student.h"
#include "service/duplicates.h"
#include "service/identity.h"
#include "service/write.h"
#include "store/util.h"

/* The most distinct top-level members two documents may have together. */
#define MEMBERS_MAX 64

/* --- the documents --- */

/* Sets the headline code of a list of field errors with its first one
 * (kt_error_set clears the field list). */
static void
headline(kt_error_t *err, kt_code_t code)
{
    if (err->code == code)
        return;
    if (code == KT_MERGE_CONFLICT)
        kt_error_set(err, KT_DOMAIN_INPUT, code,
                     "The records differ in fields the request does not resolve");
    else if (code == KT_UNMERGE_CONFLICT)
        kt_error_set(err, KT_DOMAIN_INPUT, code,
                     "Changes since the merge touch fields the merge combined");
    else
        kt_error_set(err, KT_DOMAIN_INPUT, KT_VALIDATION, "prefer names what cannot be chosen");
}

/* Whether two values (iterators on them) are equal in canonical form. */
static bool
same_value(const bson_iter_t *a, const bson_iter_t *b)
{
    bson_t x = BSON_INITIALIZER, y = BSON_INITIALIZER;
    buf_t bx, by;
    bool same;

    bson_append_iter(&x, "v", 1, a);
    bson_append_iter(&y, "v", 1, b);
    buf_init(&bx, 0);
    buf_init(&by, 0);
    codec_canonical(&bx, &x, NULL);
    codec_canonical(&by, &y, NULL);
    same = bx.len == by.len && (bx.len == 0 || memcmp(bx.data, by.data, bx.len) == 0);
    buf_release(&bx);
    buf_release(&by);
    bson_destroy(&x);
    bson_destroy(&y);
    return same;
}

/* Whether member name is equal (or absent) in both. */
static bool
same_member(const bson_t *a, const bson_t *b, const char *name)
{
    bson_iter_t x, y;
    bool hx = a != NULL && bson_iter_init_find(&x, a, name);
    bool hy = b != NULL && bson_iter_init_find(&y, b, name);

    return hx == hy && (!hx || same_value(&x, &y));
}

static bool
names_has(const char *const *names, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(names[i], name) == 0)
            return true;
    return false;
}

static void
names_add_doc(const bson_t *doc, const char **names, size_t *n)
{
    bson_iter_t it;

    if (doc == NULL || !bson_iter_init(&it, doc))
        return;
    while (bson_iter_next(&it) && *n < MEMBERS_MAX)
        if (!names_has(names, *n, bson_iter_key(&it)))
            names[(*n)++] = bson_iter_key(&it);
}

/* The top-level members of a, b and c: the student table's order first (so
 * the result is in the model's order), then any other member. */
static size_t
member_names(const bson_t *a, const bson_t *b, const bson_t *c, const char **names)
{
    const char *seen[MEMBERS_MAX];
    size_t n = 0, ns = 0;

    names_add_doc(a, seen, &ns);
    names_add_doc(b, seen, &ns);
    names_add_doc(c, seen, &ns);
    for (const field_t *f = student_root.child; f->type != FIELD_T_END; f++)
        if (f->name != NULL && names_has(seen, ns, f->name))
            names[n++] = f->name;
    for (size_t i = 0; i < ns; i++)
        if (!names_has(names, n, seen[i]))
            names[n++] = seen[i];
    return n;
}

static bool
copy_member(bson_t *out, const bson_t *from, const char *name)
{
    bson_iter_t it;

    return !bson_iter_init_find(&it, from, name) || bson_append_iter(out, name, -1, &it);
}

static bool
is_top_field(const char *name)
{
    for (const field_t *f = student_root.child; f->type != FIELD_T_END; f++)
        if (f->name != NULL && strcmp(f->name, name) == 0)
            return true;
    return strcmp(name, "health") == 0;
}

bool
merge_check_prefer(arena_t *arena, const bson_t *prefer, bson_t *out, kt_error_t *err)
{
    bson_iter_t it;
    bool ok = true;

    bson_init(out);
    kt_error_clear(err);
    if (prefer == NULL || !bson_iter_init(&it, prefer))
        return true;
    while (bson_iter_next(&it)) {
        const char *key = bson_iter_key(&it);
        const char *name = key[0] == '/' ? key + 1 : key;
        const char *side = BSON_ITER_HOLDS_UTF8(&it) ? bson_iter_utf8(&it, NULL) : NULL;
        const char *ptr = arena_printf(arena, "/prefer/%s", name);
        if (!is_top_field(name)) {
            headline(err, KT_VALIDATION);
            kt_error_add_field(err, arena, ptr, KT_UNKNOWN_FIELD, "Not a field of a student");
            ok = false;
        } else if (side == NULL ||
                   (strcmp(side, "survivor") != 0 && strcmp(side, "duplicate") != 0)) {
            headline(err, KT_VALIDATION);
            kt_error_add_field(err, arena, ptr, KT_ENUM, "Either survivor or duplicate");
            ok = false;
        } else {
            BSON_APPEND_UTF8(out, name, side);
        }
    }
    return ok;
}

/* A document's claim key, "" when it has none. */
static const char *
document_key(arena_t *arena, const bson_t *d)
{
    const char *type = util_get_str(d, "type"), *series = util_get_str(d, "series");
    const char *number = util_get_str(d, "number");
    const char *key =
        student_doc_claim_key(arena, type ? type : "", series ? series : "", number ? number : "");
    return key != NULL ? key : "";
}

/* Whether item (a document of the list `name`) is in list already. */
static bool
list_holds(arena_t *arena, const char *name, const bson_t *list, const bson_iter_t *item)
{
    bson_iter_t it;
    bson_t a, b;
    uint32_t la, lb;
    const uint8_t *da, *db;
    bool documents = strcmp(name, "documents") == 0;

    if (!bson_iter_init(&it, list) || !BSON_ITER_HOLDS_DOCUMENT(item))
        return false;
    bson_iter_document(item, &lb, &db);
    if (!bson_init_static(&b, db, lb))
        return false;
    while (bson_iter_next(&it)) {
        if (!BSON_ITER_HOLDS_DOCUMENT(&it))
            continue;
        if (!documents && same_value(&it, item))
            return true;
        bson_iter_document(&it, &la, &da);
        if (documents && bson_init_static(&a, da, la) &&
            strcmp(document_key(arena, &a), document_key(arena, &b)) == 0)
            return true;
    }
    return false;
}

/* The union of the lists `name` of s and d: s's items, then d's not in s. */
static bool
union_list(arena_t *arena, const char *name, const bson_t *s, const bson_t *d, size_t max,
           bson_t *out, kt_error_t *err)
{
    bson_iter_t it, items;
    bson_t list = BSON_INITIALIZER, arr;
    uint32_t len;
    const uint8_t *data;
    size_t n = 0;
    char key[16];
    bool ok = true;

    for (int side = 0; side < 2; side++) {
        const bson_t *doc = side == 0 ? s : d;
        if (!bson_iter_init_find(&it, doc, name) || !BSON_ITER_HOLDS_ARRAY(&it))
            continue;
        bson_iter_array(&it, &len, &data);
        if (!bson_init_static(&arr, data, len) || !bson_iter_init(&items, &arr))
            continue;
        while (bson_iter_next(&items)) {
            if (side == 1 && list_holds(arena, name, &list, &items))
                continue;
            snprintf(key, sizeof key, "%zu", n++);
            bson_append_iter(&list, key, -1, &items);
        }
    }
    if (n > max) {
        headline(err, KT_MERGE_CONFLICT);
        kt_error_add_fieldf(err, arena, arena_printf(arena, "/%s", name), KT_MERGE_CONFLICT,
                            "Together more than %zu: choose a side in prefer", max);
        ok = false;
    } else if (n > 0) {
        bson_append_array(out, name, -1, &list);
    }
    bson_destroy(&list);
    return ok;
}

/* The lists that combine, with their bound; 0: not a list that combines. */
static size_t
union_max(const char *name)
{
    if (strcmp(name, "documents") == 0)
        return STUDENT_DOCUMENTS_MAX;
    if (strcmp(name, "representatives") == 0)
        return STUDENT_REPRESENTATIVES_MAX;
    return 0;
}

/* One member of the merged document. */
static bool
compose_member(arena_t *arena, const char *name, const bson_t *s, const bson_t *d,
               const bson_t *prefer, bson_t *out, kt_error_t *err)
{
    bson_iter_t x, y;
    bool hs = bson_iter_init_find(&x, s, name), hd = bson_iter_init_find(&y, d, name);
    const char *side = util_get_str(prefer, name);

    if (side != NULL)
        return copy_member(out, strcmp(side, "duplicate") == 0 ? d : s, name);
    if (union_max(name) > 0)
        return union_list(arena, name, s, d, union_max(name), out, err);
    if (!hs || !hd || same_value(&x, &y)) /* one side only, or both agree */
        return copy_member(out, hs ? s : d, name);
    headline(err, KT_MERGE_CONFLICT);
    kt_error_add_field(err, arena, arena_printf(arena, "/%s", name), KT_MERGE_CONFLICT,
                       "The values differ: choose a side in prefer");
    return false;
}

bool
merge_compose(arena_t *arena, const bson_t *survivor, const bson_t *duplicate, const bson_t *prefer,
              bson_t *out, kt_error_t *err)
{
    const char *names[3 * MEMBERS_MAX];
    size_t n = member_names(survivor, duplicate, NULL, names);
    bool ok = true;

    for (size_t i = 0; i < n; i++)
        ok = compose_member(arena, names[i], survivor, duplicate, prefer, out, err) && ok;
    return ok;
}

bool
merge_uncompose(arena_t *arena, const bson_t *before, const bson_t *merged, const bson_t *now,
                bson_t *out, kt_error_t *err)
{
    const char *names[3 * MEMBERS_MAX];
    size_t n = member_names(before, merged, now, names);
    bool ok = true;

    for (size_t i = 0; i < n; i++) {
        bool since = !same_member(merged, now, names[i]);
        bool touched = !same_member(before, merged, names[i]);
        if (since && touched) {
            headline(err, KT_UNMERGE_CONFLICT);
            kt_error_add_field(err, arena, arena_printf(arena, "/%s", names[i]),
                               KT_UNMERGE_CONFLICT, "Changed since the merge");
            ok = false;
        } else {
            copy_member(out, since ? now : before, names[i]);
        }
    }
    return ok;
}

/* --- the pair's state --- */

static void
set_ref(kt_error_t *err, const char *id)
{
    snprintf(err->ref, sizeof err->ref, "%s", id);
}

/* The survivor's latest version naming dup_id (merged_from or unmerged). */
static bool
latest_naming(store_conn_t *conn, const record_t *s, const char *dup_id, record_t *v, bool *found,
              kt_error_t *err)
{
    return store_pair_latest(conn, &store_kind_student, s, dup_id, v, found, err);
}

static bool
kind_is(const record_t *v, const char *kind)
{
    const char *k = util_get_str(&v->record, "kind");

    return k != NULL && strcmp(k, kind) == 0;
}

static const char *
merged_into(const record_t *s)
{
    const char *to = record_is_merged(s) ? util_get_str(&s->record, "merged_into") : NULL;

    return to != NULL ? to : "";
}

/* Reads both records and refuses what cannot be merged or unmerged. */
static bool
load_pair(store_conn_t *conn, arena_t *arena, const merge_request_t *m, record_t *s, record_t *d,
          kt_error_t *err)
{
    kt_error_t e;

    if (m->duplicate == NULL || !util_is_uuid(m->duplicate)) {
        kt_error_set(err, KT_DOMAIN_INPUT, KT_VALIDATION, "duplicate must be a student's id");
        kt_error_add_field(err, arena, "/duplicate", m->duplicate ? KT_FORMAT : KT_REQUIRED, NULL);
        return false;
    }
    if (strcmp(m->survivor, m->duplicate) == 0) {
        kt_error_set(err, KT_DOMAIN_INPUT, KT_MERGE_SELF, "a record cannot be merged into itself");
        kt_error_add_field(err, arena, "/duplicate", KT_MERGE_SELF, NULL);
        return false;
    }
    if (!store_student_get(conn, m->survivor, s, err))
        return false;
    if (record_is_merged(s)) {
        kt_error_set(err, KT_DOMAIN_INPUT, KT_MERGE_STATE,
                     "this record was merged into another: merge into that one");
        set_ref(err, merged_into(s));
        return false;
    }
    if (s->deleted) {
        kt_error_set(err, KT_DOMAIN_INPUT, KT_GONE, "the student was deleted");
        return false;
    }
    kt_error_clear(&e);
    if (!store_student_get(conn, m->duplicate, d, &e)) {
        if (e.code != KT_NOT_FOUND) {
            *err = e;
            return false;
        }
        kt_error_set(err, KT_DOMAIN_INPUT, KT_REF_NOT_FOUND, "no such student as the duplicate");
        kt_error_add_field(err, arena, "/duplicate", KT_REF_NOT_FOUND, NULL);
        return false;
    }
    return true;
}

static void
fill_meta(write_meta_t *meta, const write_meta_t *from, const char *kind, const char *member,
          const char *other)
{
    *meta = *from;
    meta->identity_change = false;
    meta->version_kind = kind;
    meta->link_member = member;
    meta->link_id = other;
}

static void
fill_result(merge_result_t *out, const record_t *s, const record_t *d)
{
    snprintf(out->survivor, sizeof out->survivor, "%s", s->id);
    snprintf(out->duplicate, sizeof out->duplicate, "%s", d->id);
    out->identity = identity_disagree(&s->doc, &d->doc);
}

/* --- merge --- */

/* The duplicate is merged into s already: complete the survivor's side when
 * its latest version naming d is not the merge. */
static bool
merge_resume(store_conn_t *conn, arena_t *arena, const merge_request_t *m, const record_t *s,
             const record_t *d, const bson_t *prefer, merge_result_t *out, kt_error_t *err)
{
    record_t v;
    bson_t doc = BSON_INITIALIZER;
    write_meta_t meta;
    write_result_t w;
    bool found = false, ok = false;

    record_init(&v);
    if (!latest_naming(conn, s, d->id, &v, &found, err))
        goto done;
    if (found && kind_is(&v, "merge")) {
        kt_error_set(err, KT_DOMAIN_INPUT, KT_ALREADY_MERGED, "the records are merged already");
        set_ref(err, s->id);
        goto done;
    }
    if (!merge_compose(arena, &s->doc, &d->doc, prefer, &doc, err))
        goto done;
    fill_meta(&meta, m->meta, "merge", "merged_from", d->id);
    if (!store_student_write(conn, WRITE_UPDATE, s->id, s->version, &doc, &meta, &w, err))
        goto done;
    out->survivor_version = w.version;
    out->duplicate_version = d->version;
    out->completed = true;
    ok = true;
done:
    bson_destroy(&doc);
    record_release(&v);
    return ok;
}

static bool
merge_once(store_conn_t *conn, arena_t *arena, const merge_request_t *m, const bson_t *prefer,
           merge_result_t *out, kt_error_t *err)
{
    record_t s, d;
    bson_t doc = BSON_INITIALIZER;
    write_meta_t ms, md;
    write_result_t w[2];
    bool ok = false;

    record_init(&s);
    record_init(&d);
    if (!load_pair(conn, arena, m, &s, &d, err))
        goto done;
    fill_result(out, &s, &d);
    if (strcmp(merged_into(&d), s.id) == 0) {
        ok = merge_resume(conn, arena, m, &s, &d, prefer, out, err);
        goto done;
    }
    if (d.deleted) {
        kt_error_set(err, KT_DOMAIN_INPUT, KT_MERGE_STATE,
                     record_is_merged(&d) ? "the duplicate was merged into another record"
                                          : "the duplicate was deleted");
        set_ref(err, merged_into(&d));
        kt_error_add_field(err, arena, "/duplicate", KT_MERGE_STATE, NULL);
        goto done;
    }
    if (!merge_compose(arena, &s.doc, &d.doc, prefer, &doc, err))
        goto done;
    fill_meta(&md, m->meta, "merged", "merged_into", s.id);
    md.state = RECORD_MERGED;
    fill_meta(&ms, m->meta, "merge", "merged_from", d.id);
    write_side_t sides[2] = {
        {WRITE_DELETE, d.id, d.version, NULL, &md},
        {WRITE_UPDATE, s.id, s.version, &doc, &ms},
    };
    if (!store_record_write_pair(conn, &store_kind_student, sides, w, err))
        goto done;
    out->duplicate_version = w[0].version;
    out->survivor_version = w[1].version;
    ok = true;
done:
    bson_destroy(&doc);
    record_release(&s);
    record_release(&d);
    return ok;
}

bool
service_merge(store_conn_t *conn, arena_t *arena, const merge_request_t *m, merge_result_t *out,
              kt_error_t *err)
{
    bson_t prefer;
    bool ok = false;

    memset(out, 0, sizeof *out);
    if (!merge_check_prefer(arena, m->prefer, &prefer, err)) {
        bson_destroy(&prefer);
        return false;
    }
    /* A lost race (either record changed between the reads and the write)
     * is read again; on MongoDB the retry also completes a pair whose first
     * side stands. */
    for (int attempt = 0; attempt < SERVICE_WRITE_RETRIES; attempt++) {
        kt_error_clear(err);
        ok = merge_once(conn, arena, m, &prefer, out, err);
        if (ok || err->code != KT_VERSION_CONFLICT)
            break;
    }
    bson_destroy(&prefer);
    /* The merge stands; its probable-duplicate pair, if one was flagged,
     * leaves the open lists. Should that write fail, the pair stays open and
     * an operator dismisses it (docs/duplicates.md): the merge is not undone. */
    if (ok) {
        kt_error_t pair_err;
        kt_error_clear(&pair_err);
        (void)duplicates_close_merged(conn, out->survivor, out->duplicate, m->meta->principal,
                                      m->meta->reason, &pair_err);
    }
    return ok;
}

/* --- unmerge --- */

/* The survivor's document before merge version v and what it is to be. */
static bool
unmerge_doc(store_conn_t *conn, arena_t *arena, const record_t *s, const record_t *v, bson_t *doc,
            kt_error_t *err)
{
    record_t before;
    bool ok;

    record_init(&before);
    ok = store_student_get_version(conn, s->id, v->version - 1, &before, err) &&
         merge_uncompose(arena, &before.doc, &v->doc, &s->doc, doc, err);
    record_release(&before);
    return ok;
}

static bool
unmerge_once(store_conn_t *conn, arena_t *arena, const merge_request_t *m, merge_result_t *out,
             kt_error_t *err)
{
    record_t s, d, v;
    bson_t doc = BSON_INITIALIZER;
    write_meta_t ms, md;
    write_result_t w[2];
    bool found = false, ok = false;

    record_init(&s);
    record_init(&d);
    record_init(&v);
    if (!load_pair(conn, arena, m, &s, &d, err))
        goto done;
    fill_result(out, &s, &d);
    bool merged = strcmp(merged_into(&d), s.id) == 0;
    if (merged && !latest_naming(conn, &s, d.id, &v, &found, err))
        goto done;
    if (!merged || !found) {
        kt_error_set(err, KT_DOMAIN_INPUT, KT_NOT_MERGED,
                     "the duplicate is not merged into this record (or the merge is more than "
                     "%d versions back)",
                     STORE_PAIR_HISTORY_MAX);
        goto done;
    }
    fill_meta(&ms, m->meta, "unmerge", "unmerged", d.id);
    fill_meta(&md, m->meta, "unmerged", "unmerged_from", s.id);
    md.revive = true;
    if (kind_is(&v, "unmerge")) { /* MongoDB: the survivor's side stands, restore the duplicate */
        write_result_t one;
        if (!store_student_write(conn, WRITE_UPDATE, d.id, d.version, &d.doc, &md, &one, err))
            goto done;
        out->survivor_version = s.version;
        out->duplicate_version = one.version;
        out->completed = true;
        ok = true;
        goto done;
    }
    if (!unmerge_doc(conn, arena, &s, &v, &doc, err))
        goto done;
    write_side_t sides[2] = {
        {WRITE_UPDATE, s.id, s.version, &doc, &ms},
        {WRITE_UPDATE, d.id, d.version, &d.doc, &md},
    };
    if (!store_record_write_pair(conn, &store_kind_student, sides, w, err))
        goto done;
    out->survivor_version = w[0].version;
    out->duplicate_version = w[1].version;
    ok = true;
done:
    bson_destroy(&doc);
    record_release(&s);
    record_release(&d);
    record_release(&v);
    return ok;
}

bool
service_unmerge(store_conn_t *conn, arena_t *arena, const merge_request_t *m, merge_result_t *out,
                kt_error_t *err)
{
    bool ok = false;

    memset(out, 0, sizeof *out);
    for (int attempt = 0; attempt < SERVICE_WRITE_RETRIES; attempt++) {
        kt_error_clear(err);
        ok = unmerge_once(conn, arena, m, out, err);
        if (ok || err->code != KT_VERSION_CONFLICT)
            break;
    }
    return ok;
}
