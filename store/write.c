/*
 * write: the write protocol of a version of any kind of record (store/kind.h)
 * and the claims that keep a student's СНИЛС and documents unique. Order
 * (docs/storage.md):
 *   1. read the current version N (rolling the head forward);
 *   2. claim the keys the new document adds (insert with unique _id);
 *   3. reserve the change-feed sequence;
 *   4. insert version N+1 — the lock: of two writers exactly one succeeds;
 *   5. move the head.
 * Claims are never deleted on the write path: whether a claim still binds is
 * decided by its holder's current version, so a claim left behind by a
 * dropped key, a lost race or a crash is simply taken over by the next
 * student that needs the key. Deleting claims on the write path would race
 * with a concurrent writer re-adding the key.
 */
#include <stdio.h>
#include <string.h>

#include "core/arena.h"
#include "model/codec.h"
#include "model/diff.h"
#include "model/student.h"
#include "store/feed.h"
#include "store/students.h"
#include "store/util.h"

#define CLAIMS      "claims"
#define MAX_KEYS    (STUDENT_DOCUMENTS_MAX + 1)
#define CLAIM_TRIES 3
/* Less than a package lease (fcgi/runner.h), so that a package resumed after
 * its worker died takes over the claims that worker left without a version. */
#define CLAIM_YOUTH_MS 15000

typedef struct {
    const char *keys[MAX_KEYS]; /* "snils:…", "doc:…" */
    size_t n;
} keyset_t;

static void
keys_of(arena_t *arena, const store_kind_t *kind, const bson_t *doc, keyset_t *ks)
{
    ks->n = kind->claim_keys != NULL ? kind->claim_keys(arena, doc, ks->keys, MAX_KEYS) : 0;
}

static bool
keys_has(const keyset_t *ks, const char *key)
{
    for (size_t i = 0; i < ks->n; i++)
        if (ks->keys[i] != NULL && strcmp(ks->keys[i], key) == 0)
            return true;
    return false;
}

/* Does record holder (rolled forward, not deleted) still carry key? */
static bool
holder_owns(mongoc_client_t *client, const char *db, arena_t *arena, const store_kind_t *kind,
            const char *holder, const char *key, int64_t claimed_ms, bool *owns, kt_error_t *err)
{
    student_t s;
    kt_error_t e;
    keyset_t ks;

    kt_error_clear(&e);
    student_init(&s);
    *owns = false;
    if (!store_record_get(client, db, kind, holder, &s, &e)) {
        student_release(&s);
        if (e.code != KT_NOT_FOUND) {
            *err = e;
            return false;
        }
        /* No version yet: a create in flight (its claim and version are
         * milliseconds apart), or one that died; after CLAIM_YOUTH_MS it is dead. */
        *owns = feed_now_ms() - claimed_ms < CLAIM_YOUTH_MS;
        return true;
    }
    keys_of(arena, kind, &s.doc, &ks);
    *owns = !s.deleted && keys_has(&ks, key);
    student_release(&s);
    return true;
}

static void
claim_doc(bson_t *doc, const store_kind_t *kind, const char *key, const char *id)
{
    bson_init(doc);
    BSON_APPEND_UTF8(doc, "_id", key);
    BSON_APPEND_UTF8(doc, kind->id_member, id);
    BSON_APPEND_INT64(doc, "claimed_ms", feed_now_ms());
}

static void
duplicate(kt_error_t *err, const char *key, const char *holder)
{
    bool snils = strncmp(key, "snils:", 6) == 0;

    kt_error_set(err, KT_DOMAIN_INPUT, snils ? KT_DUPLICATE_SNILS : KT_DUPLICATE_DOCUMENT, 409,
                 snils ? "another student holds this SNILS"
                       : "another student holds this document");
    snprintf(err->ref, sizeof err->ref, "%s", holder);
}

/* Takes key for id, taking over a stale claim (its holder no longer has the key). */
static bool
claim(mongoc_client_t *client, const char *db, arena_t *arena, const store_kind_t *kind,
      const char *key, const char *id, kt_error_t *err)
{
    for (int attempt = 0; attempt < CLAIM_TRIES; attempt++) {
        bson_t doc, existing;
        bool found, owns = false;
        claim_doc(&doc, kind, key, id);
        insert_result_t rc = util_insert(client, db, CLAIMS, &doc, err);
        bson_destroy(&doc);
        if (rc != INSERT_DUPLICATE)
            return rc == INSERT_OK;
        if (!util_find_id(client, db, CLAIMS, key, &existing, &found, err))
            return false;
        const char *holder = found ? util_get_str(&existing, kind->id_member) : NULL;
        bool ok = holder == NULL || strcmp(holder, id) == 0 ||
                  holder_owns(client, db, arena, kind, holder, key,
                              util_get_int(&existing, "claimed_ms", 0), &owns, err);
        if (ok && holder != NULL && strcmp(holder, id) == 0) {
            bson_destroy(&existing);
            return true;
        }
        if (ok && owns)
            duplicate(err, key, holder);
        else if (ok && holder != NULL)
            ok = util_delete_id(client, db, CLAIMS, key, err); /* stale: take it over */
        bson_destroy(&existing);
        if (!ok || owns)
            return false;
    }
    kt_error_set(err, KT_DOMAIN_STORE, KT_INTERNAL, 500, "claim %s: too much contention", key);
    return false;
}

static bool
claim_new(mongoc_client_t *client, const char *db, arena_t *arena, const store_kind_t *kind,
          const keyset_t *now, const keyset_t *before, const char *id, kt_error_t *err)
{
    for (size_t i = 0; i < now->n; i++) {
        if (keys_has(before, now->keys[i]))
            continue;
        if (!claim(client, db, arena, kind, now->keys[i], id, err))
            return false;
    }
    return true;
}

static void
append_principal(bson_t *rec, const principal_t *p)
{
    bson_t child;

    BSON_APPEND_DOCUMENT_BEGIN(rec, "principal", &child);
    BSON_APPEND_UTF8(&child, "subject", p->subject);
    BSON_APPEND_UTF8(&child, "role", principal_role_name(p->role));
    if (p->org[0])
        BSON_APPEND_UTF8(&child, "organization", p->org);
    else
        BSON_APPEND_NULL(&child, "organization");
    BSON_APPEND_UTF8(&child, "auth", principal_method_name(p->method));
    bson_append_document_end(rec, &child);
}

static void
append_source(bson_t *rec, const write_meta_t *meta)
{
    bson_t child;

    BSON_APPEND_DOCUMENT_BEGIN(rec, "source", &child);
    if (meta->package_id != NULL) {
        BSON_APPEND_UTF8(&child, "package_id", meta->package_id);
        BSON_APPEND_INT64(&child, "item", meta->item);
    } else {
        BSON_APPEND_UTF8(&child, "request_id", meta->request_id ? meta->request_id : "");
    }
    bson_append_document_end(rec, &child);
}

typedef struct {
    const store_kind_t *kind;
    const char *id;
    int64_t version;
    int64_t seq;
    write_kind_t wkind;
    bool deleted;
    const char *time;
    const bson_t *doc;
    const bson_t *prev_doc; /* NULL on create */
    const char *prev_hash;
    bool named_id; /* a create whose id the client gave */
} record_args_t;

static bool
build_record(bson_t *rec, const record_args_t *a, const write_meta_t *meta)
{
    static const char *const no_skip[] = {NULL};
    char vid[64], hash[65];
    bson_t changes;

    store_version_id(a->id, a->version, vid);
    bson_init(rec);
    BSON_APPEND_UTF8(rec, "_id", vid);
    BSON_APPEND_UTF8(rec, a->kind->id_member, a->id);
    BSON_APPEND_INT64(rec, "version", a->version);
    if (a->kind->feed) /* a kind outside the feed has no sequence */
        BSON_APPEND_INT64(rec, "seq", a->seq);
    BSON_APPEND_UTF8(rec, "kind", store_kind_name(a->wkind));
    BSON_APPEND_UTF8(rec, "state", a->deleted ? "DELETED" : "ACTIVE");
    BSON_APPEND_UTF8(rec, "time", a->time);
    append_principal(rec, meta->principal);
    append_source(rec, meta);
    if (meta->reason != NULL)
        BSON_APPEND_UTF8(rec, "reason", meta->reason);
    else
        BSON_APPEND_NULL(rec, "reason");
    BSON_APPEND_DOCUMENT(rec, "doc", a->doc);
    BSON_APPEND_ARRAY_BEGIN(rec, "changes", &changes);
    diff_documents(a->prev_doc, a->doc, no_skip, &changes);
    bson_append_array_end(rec, &changes);
    BSON_APPEND_UTF8(rec, "prev_hash", a->prev_hash);
    if (!store_version_hash(rec, a->prev_hash, hash))
        return false;
    BSON_APPEND_UTF8(rec, "hash", hash);
    return true;
}

static bool
same_document(const bson_t *a, const bson_t *b)
{
    buf_t x, y;
    bool same;

    buf_init(&x, 0);
    buf_init(&y, 0);
    codec_canonical(&x, a, NULL);
    codec_canonical(&y, b, NULL);
    same = x.len == y.len && (x.len == 0 || memcmp(x.data, y.data, x.len) == 0);
    buf_release(&x);
    buf_release(&y);
    return same;
}

#ifdef KT_FAULT_INJECTION
#include <signal.h>
#include <unistd.h>
/* Test builds only: die between two steps, as a crash would. */
static void
fault_point(const write_meta_t *meta, const char *name)
{
    if (meta->fault != NULL && strcmp(meta->fault, name) == 0)
        raise(SIGKILL);
}
#else
#define fault_point(meta, name) ((void)0)
#endif

static void
duplicate_id(kt_error_t *err, const store_kind_t *kind, const char *id)
{
    kt_error_set(err, KT_DOMAIN_INPUT, kind->duplicate_id, 409, "this %s exists already",
                 kind->name);
    snprintf(err->ref, sizeof err->ref, "%s", id);
}

/* A create naming its id: the id must be free (the insert of version 1
 * decides a race; this read gives the common case its clear answer). */
static bool
id_free(mongoc_client_t *client, const char *db, const store_kind_t *kind, const char *id,
        kt_error_t *err)
{
    student_t s;
    kt_error_t e;
    bool ok;

    kt_error_clear(&e);
    student_init(&s);
    ok = store_record_get(client, db, kind, id, &s, &e);
    student_release(&s);
    if (ok)
        duplicate_id(err, kind, id);
    else if (e.code != KT_NOT_FOUND)
        *err = e;
    return !ok && e.code == KT_NOT_FOUND;
}

/* Checks preconditions on the current version; fills cur (version 0 on create). */
static bool
load_current(mongoc_client_t *client, const char *db, const store_kind_t *kind, write_kind_t wk,
             const char *id, int64_t expected, student_t *cur, kt_error_t *err)
{
    if (wk == KIND_CREATE)
        return id == NULL || id_free(client, db, kind, id, err);
    if (!store_record_get(client, db, kind, id, cur, err))
        return false;
    if (cur->deleted) {
        kt_error_set(err, KT_DOMAIN_INPUT, KT_GONE, 410, "the %s was deleted", kind->name);
        return false;
    }
    if (expected != 0 && expected != cur->version) {
        kt_error_set(err, KT_DOMAIN_INPUT, KT_VERSION_CONFLICT, 412,
                     "If-Match names version %lld, the current one is %lld", (long long)expected,
                     (long long)cur->version);
        snprintf(err->ref, sizeof err->ref, "%lld", (long long)cur->version);
        return false;
    }
    return true;
}

/* Inserts version a->version; on success *written holds it as a reader would
 * load it, so that the head can be moved without reading it back. */
static bool
insert_version(mongoc_client_t *client, const char *db, const record_args_t *a,
               const write_meta_t *meta, student_t *written, kt_error_t *err)
{
    bson_t rec;
    bool ok = build_record(&rec, a, meta);
    insert_result_t rc = ok ? util_insert(client, db, a->kind->versions, &rec, err) : INSERT_FAILED;

    if (rc == INSERT_OK) {
        student_release(written);
        snprintf(written->id, sizeof written->id, "%s", a->id);
        written->version = a->version;
        written->deleted = a->deleted;
        bson_copy_to(a->doc, &written->doc);
        bson_steal(&written->record, &rec);
    } else {
        bson_destroy(&rec);
    }
    if (!ok)
        kt_error_set(err, KT_DOMAIN_INTERNAL, KT_INTERNAL, 500, "cannot hash the version");
    if (rc == INSERT_DUPLICATE && a->version == 1 && a->named_id) {
        duplicate_id(err, a->kind, a->id);
    } else if (rc == INSERT_DUPLICATE) {
        kt_error_set(err, KT_DOMAIN_INPUT, KT_VERSION_CONFLICT, 412,
                     "another write created version %lld first", (long long)a->version);
        snprintf(err->ref, sizeof err->ref, "%lld", (long long)a->version);
    }
    return rc == INSERT_OK;
}

/* Step 3: the change-feed sequence of the version. */
static bool
reserve_feed(mongoc_client_t *client, const char *db, record_args_t *a, kt_error_t *err)
{
    feed_ticket_t ticket;
    const char *org = util_get_str(a->doc, "organization");
    /* A move: the school the student left learns it from its own feed. */
    const char *from = a->prev_doc != NULL ? util_get_str(a->prev_doc, "organization") : NULL;
    const char *kind = store_kind_name(a->wkind);

    if (!feed_reserve(client, db, a->id, a->version, kind, org, from, a->time, &ticket, err))
        return false;
    /* A reservation near its lease could be judged void by a reader; take another. */
    if (feed_now_ms() - ticket.reserved_ms > FEED_LEASE_MS / 2 &&
        !feed_reserve(client, db, a->id, a->version, kind, org, from, a->time, &ticket, err))
        return false;
    a->seq = ticket.seq;
    return true;
}

/* Steps 3–5: feed, version, head. */
static bool
append_version(mongoc_client_t *client, const char *db, record_args_t *a, const write_meta_t *meta,
               kt_error_t *err)
{
    if (a->kind->feed && !reserve_feed(client, db, a, err))
        return false;
    student_t written;
    kt_error_t ignored;
    student_init(&written);
    bool ok = insert_version(client, db, a, meta, &written, err);
    if (ok) {
        fault_point(meta, "crash-after-version");
        store_move_head(client, db, a->kind, &written,
                        &ignored); /* a hint: failure is repaired later */
    }
    student_release(&written);
    return ok;
}

bool
store_record_write(mongoc_client_t *client, const char *db, const store_kind_t *kind,
                   write_kind_t wk, const char *id, int64_t expected_version, const bson_t *doc,
                   const write_meta_t *meta, write_result_t *out, kt_error_t *err)
{
    arena_t *arena = arena_new(0);
    student_t cur;
    keyset_t before = {0}, now = {0};
    char time[32], new_id[STUDENT_ID_LEN + 1];
    bool ok = false;

    student_init(&cur);
    memset(out, 0, sizeof *out);
    if (arena == NULL || !load_current(client, db, kind, wk, id, expected_version, &cur, err))
        goto done;
    if (wk == KIND_CREATE && id == NULL)
        util_uuid(new_id);
    else
        snprintf(new_id, sizeof new_id, "%s", wk == KIND_CREATE ? id : cur.id);
    snprintf(out->id, sizeof out->id, "%s", new_id);
    const bson_t *new_doc = wk == KIND_DELETE ? &cur.doc : doc;
    if (wk == KIND_UPDATE && same_document(&cur.doc, new_doc)) {
        out->version = cur.version;
        out->unchanged = true;
        ok = true;
        goto done;
    }
    if (wk != KIND_CREATE)
        keys_of(arena, kind, &cur.doc, &before);
    if (wk != KIND_DELETE)
        keys_of(arena, kind, new_doc, &now);
    if (!claim_new(client, db, arena, kind, &now, &before, new_id, err))
        goto done;
    util_time_now(time);
    record_args_t a = {
        .kind = kind,
        .id = new_id,
        .version = cur.version + 1,
        .wkind = wk,
        .deleted = wk == KIND_DELETE,
        .time = time,
        .doc = new_doc,
        .prev_doc = wk == KIND_CREATE ? NULL : &cur.doc,
        .prev_hash = wk == KIND_CREATE ? "" : util_get_str(&cur.record, "hash"),
        .named_id = wk == KIND_CREATE && id != NULL,
    };
    if (a.prev_hash == NULL)
        a.prev_hash = "";
    if (!append_version(client, db, &a, meta, err))
        goto done;
    out->version = a.version;
    ok = true;
done:
    student_release(&cur);
    arena_free(arena);
    return ok;
}

bool
store_student_write(mongoc_client_t *client, const char *db, write_kind_t kind, const char *id,
                    int64_t expected_version, const bson_t *doc, const write_meta_t *meta,
                    write_result_t *out, kt_error_t *err)
{
    return store_record_write(client, db, &store_kind_student, kind,
                              kind == KIND_CREATE ? NULL : id, expected_version, doc, meta, out,
                              err);
}

bool
store_claim_holder(mongoc_client_t *client, const char *db, const char *key, char *id,
                   kt_error_t *err)
{
    bson_t existing;
    bool found;

    id[0] = '\0';
    if (!util_find_id(client, db, CLAIMS, key, &existing, &found, err))
        return false;
    const char *holder = found ? util_get_str(&existing, "student_id") : NULL;
    if (holder != NULL && strlen(holder) == STUDENT_ID_LEN)
        memcpy(id, holder, STUDENT_ID_LEN + 1);
    bson_destroy(&existing);
    return true;
}
