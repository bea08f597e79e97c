/*
 * records: versioned records on SQLite, for every kind of store/kind.h —
 * reads (current, exact version, as of a time), the write transaction, the
 * searches over the heads' members, and the claims' holder.
 *
 * A write is one transaction (BEGIN IMMEDIATE, so writers queue on the
 * write lock instead of failing at COMMIT): read the current version, check
 * the preconditions, claim the keys the new document adds and release those
 * it drops, take the next change-feed sequence, insert the version, rewrite
 * the head and its head_keys rows, COMMIT. Readers see all of it or none of
 * it; the versions are the truth and everything else is derived from them
 * in the same transaction (verify.c checks it, repair rebuilds it).
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "core/arena.h"
#include "core/buf.h"
#include "model/student.h"
#include "store/sqlite/sqlite.h"
#include "store/util.h"

/* The most members a find_ids filter may name: one join each. The
 * organisations' list has four filters, the students' searches one. */
#define FIND_MEMBERS_MAX 8
/* With several members, each one's heads are counted up to this many to
 * pick the rarest to drive the scan: a bounded probe, an index range each. */
#define PROBE_MAX 1000

sqlite3_stmt *
sqlite_table_stmt(store_conn_t *conn, const char *fmt, const char *table, kt_error_t *err)
{
    char sql[1024];

    /* table is a kind's constant name, never input */
    snprintf(sql, sizeof sql, fmt, table);
    return sqlite_stmt(conn, sql, err);
}

static void
not_found(kt_error_t *err, const store_kind_t *kind, const char *what)
{
    bool org = strcmp(kind->name, "organization") == 0;

    /* Whole texts per kind, as the catalogue needs them (core/msg.h). */
    if (what[0] != '\0')
        kt_error_set(err, KT_DOMAIN_INPUT, KT_NOT_FOUND,
                     org ? "no such organization at that time" : "no such student at that time");
    else
        kt_error_set(err, KT_DOMAIN_INPUT, KT_NOT_FOUND,
                     org ? "no such organization" : "no such student");
}

static void
no_memory(kt_error_t *err)
{
    kt_error_set(err, KT_DOMAIN_INTERNAL, KT_INTERNAL, "out of memory");
}

bool
sqlite_record_from_blob(const char *id, int64_t version, const bson_t *rec, record_t *out)
{
    bson_iter_t it;
    uint32_t len = 0;
    const uint8_t *data = NULL;
    bson_t view;
    const char *state = util_get_str(rec, "state");

    record_release(out);
    record_init(out);
    snprintf(out->id, sizeof out->id, "%s", id);
    out->version = version;
    out->deleted = state != NULL && strcmp(state, "ACTIVE") != 0; /* DELETED, MERGED */
    bson_destroy(&out->record);
    bson_copy_to(rec, &out->record);
    if (!bson_iter_init_find(&it, rec, "doc") || !BSON_ITER_HOLDS_DOCUMENT(&it))
        return false;
    bson_iter_document(&it, &len, &data);
    if (!bson_init_static(&view, data, len)) /* borrows rec's bytes */
        return false;
    bson_destroy(&out->doc);
    bson_copy_to(&view, &out->doc);
    return true;
}

/* Steps st, a query of (version, record) of id; on a row, out holds it. */
static bool
step_version(store_conn_t *conn, sqlite3_stmt *st, const char *id, record_t *out, bool *found,
             kt_error_t *err)
{
    int rc = sqlite3_step(st);
    bson_t rec;
    bool ok = true;

    *found = rc == SQLITE_ROW;
    if (rc == SQLITE_ROW) {
        int64_t version = sqlite3_column_int64(st, 0);
        ok = sqlite_column_bson(st, 1, &rec) && sqlite_record_from_blob(id, version, &rec, out);
        bson_destroy(&rec);
        if (!ok)
            kt_error_set(err, KT_DOMAIN_STORE, KT_INTERNAL,
                         "version %lld of %s is not a version record", (long long)version, id);
    } else if (rc != SQLITE_DONE) {
        sqlite_error(err, sqlite_db(conn), rc, "read a version");
        ok = false;
    }
    sqlite3_reset(st); /* ends the statement's read of the snapshot */
    return ok;
}

bool
sqlite_record_latest(store_conn_t *conn, const store_kind_t *kind, const char *id, record_t *out,
                     bool *found, kt_error_t *err)
{
    sqlite3_stmt *st = sqlite_table_stmt(
        conn, "SELECT version, record FROM %s WHERE id = ?1 ORDER BY version DESC LIMIT 1",
        kind->versions, err);

    *found = false;
    return st != NULL && sqlite_bind_text(st, 1, id) == SQLITE_OK &&
           step_version(conn, st, id, out, found, err);
}

/* The head is derived in the write's transaction, so the versions are read
 * directly: no head to roll forward. */
bool
sqlite_record_get(store_conn_t *conn, const store_kind_t *kind, const char *id, record_t *out,
                  kt_error_t *err)
{
    bool found = false;

    if (id == NULL || !kind->valid_id(id)) {
        not_found(err, kind, "");
        return false;
    }
    if (!sqlite_record_latest(conn, kind, id, out, &found, err))
        return false;
    if (!found)
        not_found(err, kind, "");
    return found;
}

bool
sqlite_record_get_version(store_conn_t *conn, const store_kind_t *kind, const char *id, int64_t n,
                          record_t *out, kt_error_t *err)
{
    sqlite3_stmt *st;
    bool found = false;

    if (id != NULL && kind->valid_id(id) && n >= 1) {
        st =
            sqlite_table_stmt(conn, "SELECT version, record FROM %s WHERE id = ?1 AND version = ?2",
                              kind->versions, err);
        if (st == NULL)
            return false;
        sqlite_bind_text(st, 1, id);
        sqlite3_bind_int64(st, 2, n);
        if (!step_version(conn, st, id, out, &found, err))
            return false;
        if (found)
            return true;
    }
    kt_error_set(err, KT_DOMAIN_INPUT, KT_NOT_FOUND, "no such version");
    return false;
}

/* The latest version stamped at or before as_of: one range scan of the
 * record's versions, newest first (the stored times are "...Z" strings of
 * one width, so they compare as times). */
bool
sqlite_record_as_of(store_conn_t *conn, const store_kind_t *kind, const char *id, const char *as_of,
                    record_t *out, kt_error_t *err)
{
    sqlite3_stmt *st;
    bool found = false;

    if (!sqlite_record_get(conn, kind, id, out, err)) /* 404 when it never existed */
        return false;
    st = sqlite_table_stmt(conn,
                           "SELECT version, record FROM %s WHERE id = ?1 AND time <= ?2"
                           " ORDER BY version DESC LIMIT 1",
                           kind->versions, err);
    if (st == NULL)
        return false;
    sqlite_bind_text(st, 1, id);
    sqlite_bind_text(st, 2, as_of != NULL ? as_of : "");
    if (!step_version(conn, st, id, out, &found, err))
        return false;
    if (!found)
        not_found(err, kind, " at that time");
    return found;
}

/* --- keys --- */

void
sqlite_keys_of(arena_t *arena, const store_kind_t *kind, const bson_t *doc, sqlite_keys_t *ks)
{
    ks->n = kind->claim_keys != NULL && doc != NULL
                ? kind->claim_keys(arena, doc, ks->keys, STORE_MAX_KEYS)
                : 0;
}

bool
sqlite_keys_has(const sqlite_keys_t *ks, const char *key)
{
    for (size_t i = 0; i < ks->n; i++)
        if (ks->keys[i] != NULL && strcmp(ks->keys[i], key) == 0)
            return true;
    return false;
}

bool
sqlite_claim_read(store_conn_t *conn, const char *key, char *holder, size_t size, kt_error_t *err)
{
    sqlite3_stmt *st = sqlite_stmt(conn, "SELECT id FROM claims WHERE key = ?1", err);
    int rc;

    holder[0] = '\0';
    if (st == NULL)
        return false;
    sqlite_bind_text(st, 1, key);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        const char *id = (const char *)sqlite3_column_text(st, 0);
        snprintf(holder, size, "%s", id != NULL ? id : "");
    }
    sqlite3_reset(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        sqlite_error(err, sqlite_db(conn), rc, "read a claim");
    return rc == SQLITE_ROW || rc == SQLITE_DONE;
}

bool
sqlite_claim_insert(store_conn_t *conn, const store_kind_t *kind, const char *key, const char *id,
                    bool *inserted, kt_error_t *err)
{
    sqlite3_stmt *st = sqlite_stmt(
        conn, "INSERT INTO claims(key, kind, id) VALUES(?1, ?2, ?3) ON CONFLICT(key) DO NOTHING",
        err);
    bool ok;

    *inserted = false;
    if (st == NULL)
        return false;
    sqlite_bind_text(st, 1, key);
    sqlite_bind_text(st, 2, kind->name);
    sqlite_bind_text(st, 3, id);
    ok = sqlite_step_done(st, conn, "claim a key", err);
    sqlite3_reset(st);
    *inserted = ok && sqlite3_changes(sqlite_db(conn)) > 0;
    return ok;
}

static bool
release_key(store_conn_t *conn, const char *key, const char *id, kt_error_t *err)
{
    sqlite3_stmt *st = sqlite_stmt(conn, "DELETE FROM claims WHERE key = ?1 AND id = ?2", err);
    bool ok;

    if (st == NULL)
        return false;
    sqlite_bind_text(st, 1, key);
    sqlite_bind_text(st, 2, id);
    ok = sqlite_step_done(st, conn, "release a key", err);
    sqlite3_reset(st);
    return ok;
}

/* Claims key for id. A key the write adds and another record holds is
 * refused (409); a key version N carried already is only re-inserted when
 * its row is missing (after `migrate`, say), as on MongoDB it binds through
 * version N whoever else claims it. */
static bool
claim_key(store_conn_t *conn, const store_kind_t *kind, const char *key, const char *id, bool adds,
          kt_error_t *err)
{
    char holder[64];
    bool inserted = false;

    if (!sqlite_claim_insert(conn, kind, key, id, &inserted, err))
        return false;
    if (inserted || !adds)
        return true;
    if (!sqlite_claim_read(conn, key, holder, sizeof holder, err))
        return false;
    if (strcmp(holder, id) == 0)
        return true;
    store_duplicate_key(err, key, holder);
    return false;
}

/* The keys of now are id's, those of before that now lacks are released. */
static bool
update_claims(store_conn_t *conn, const store_kind_t *kind, const sqlite_keys_t *before,
              const sqlite_keys_t *now, const char *id, kt_error_t *err)
{
    for (size_t i = 0; i < now->n; i++)
        if (!claim_key(conn, kind, now->keys[i], id, !sqlite_keys_has(before, now->keys[i]), err))
            return false;
    for (size_t i = 0; i < before->n; i++)
        if (!sqlite_keys_has(now, before->keys[i]) && !release_key(conn, before->keys[i], id, err))
            return false;
    return true;
}

bool
sqlite_claim_holder(store_conn_t *conn, const char *key, char *id, kt_error_t *err)
{
    char holder[64];

    id[0] = '\0';
    if (!sqlite_claim_read(conn, key, holder, sizeof holder, err))
        return false;
    if (strlen(holder) == STUDENT_ID_LEN)
        memcpy(id, holder, STUDENT_ID_LEN + 1);
    return true;
}

/* --- heads --- */

void
sqlite_head_doc(const store_kind_t *kind, const record_t *s, bson_t *head)
{
    const char *time = util_get_str(&s->record, "time");

    bson_init(head);
    BSON_APPEND_UTF8(head, "_id", s->id);
    BSON_APPEND_INT64(head, "version", s->version);
    BSON_APPEND_UTF8(head, "state", record_state(s));
    kind->head_keys(&s->doc, head);
    BSON_APPEND_UTF8(head, "updated_at", time != NULL ? time : "");
}

static bool
upsert_head(store_conn_t *conn, const store_kind_t *kind, const record_t *s, const bson_t *head,
            kt_error_t *err)
{
    const char *time = util_get_str(&s->record, "time");
    sqlite3_stmt *st = sqlite_table_stmt(
        conn,
        "INSERT INTO %s(id, version, state, updated_at, head) VALUES(?1, ?2, ?3, ?4, ?5)"
        " ON CONFLICT(id) DO UPDATE SET version = excluded.version, state = excluded.state,"
        " updated_at = excluded.updated_at, head = excluded.head",
        kind->heads, err);
    bool ok;

    if (st == NULL)
        return false;
    sqlite_bind_text(st, 1, s->id);
    sqlite3_bind_int64(st, 2, s->version);
    sqlite_bind_text(st, 3, record_state(s));
    sqlite_bind_text(st, 4, time != NULL ? time : "");
    sqlite_bind_bson(st, 5, head);
    ok = sqlite_step_done(st, conn, "write the head", err);
    sqlite3_reset(st);
    return ok;
}

static bool
insert_head_key(store_conn_t *conn, const store_kind_t *kind, const char *id, const char *field,
                const char *value, kt_error_t *err)
{
    sqlite3_stmt *st = sqlite_stmt(
        conn, "INSERT INTO head_keys(kind, field, value, id) VALUES(?1, ?2, ?3, ?4)", err);
    bool ok;

    if (st == NULL)
        return false;
    sqlite_bind_text(st, 1, kind->name);
    sqlite_bind_text(st, 2, field);
    sqlite_bind_text(st, 3, value);
    sqlite_bind_text(st, 4, id);
    ok = sqlite_step_done(st, conn, "write a head key", err);
    sqlite3_reset(st);
    return ok;
}

/* The rows of one head member: a string, or each string of an array (a
 * multi-valued key, as the representatives' СНИЛС; head_keys gives distinct
 * values). */
static bool
insert_head_member(store_conn_t *conn, const store_kind_t *kind, const char *id, bson_iter_t *it,
                   kt_error_t *err)
{
    bson_iter_t elems;
    bool ok = true;

    if (BSON_ITER_HOLDS_UTF8(it))
        return insert_head_key(conn, kind, id, bson_iter_key(it), bson_iter_utf8(it, NULL), err);
    if (!BSON_ITER_HOLDS_ARRAY(it) || !bson_iter_recurse(it, &elems))
        return true;
    while (ok && bson_iter_next(&elems))
        if (BSON_ITER_HOLDS_UTF8(&elems))
            ok = insert_head_key(conn, kind, id, bson_iter_key(it), bson_iter_utf8(&elems, NULL),
                                 err);
    return ok;
}

/* One head_keys row per string member kind->head_keys gives (per string of
 * an array member), while the record is active; a deleted record has none
 * (find_ids lists active heads). */
static bool
put_head_keys(store_conn_t *conn, const store_kind_t *kind, const record_t *s, kt_error_t *err)
{
    sqlite3_stmt *st = sqlite_stmt(conn, "DELETE FROM head_keys WHERE kind = ?1 AND id = ?2", err);
    bson_t keys = BSON_INITIALIZER;
    bson_iter_t it;
    bool ok;

    if (st == NULL)
        return false;
    sqlite_bind_text(st, 1, kind->name);
    sqlite_bind_text(st, 2, s->id);
    ok = sqlite_step_done(st, conn, "clear the head keys", err);
    sqlite3_reset(st);
    if (ok && !s->deleted) {
        kind->head_keys(&s->doc, &keys);
        bool more = bson_iter_init(&it, &keys);
        while (ok && more && bson_iter_next(&it))
            ok = insert_head_member(conn, kind, s->id, &it, err);
    }
    bson_destroy(&keys);
    return ok;
}

bool
sqlite_put_head(store_conn_t *conn, const store_kind_t *kind, const record_t *s, kt_error_t *err)
{
    bson_t head;
    bool ok;

    sqlite_head_doc(kind, s, &head);
    ok = upsert_head(conn, kind, s, &head, err) && put_head_keys(conn, kind, s, err);
    bson_destroy(&head);
    return ok;
}

/* --- the write --- */

/* One write: its request, and the current version as read in the
 * transaction (version 0 on create). */
typedef struct {
    const store_kind_t *kind;
    write_op_t op;
    const char *id; /* NULL: a create assigns a uuid */
    int64_t expected;
    const bson_t *doc;
    const write_meta_t *meta;
    arena_t *arena;
    record_t cur;
} write_t;

/* A create naming its id: the id must be new (the transaction holds the
 * write lock, so nobody can take it between this read and the insert). */
static bool
id_free(store_conn_t *conn, const store_kind_t *kind, const char *id, kt_error_t *err)
{
    sqlite3_stmt *st =
        sqlite_table_stmt(conn, "SELECT 1 FROM %s WHERE id = ?1 LIMIT 1", kind->versions, err);
    int rc;

    if (st == NULL)
        return false;
    sqlite_bind_text(st, 1, id);
    rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc == SQLITE_ROW)
        store_duplicate_id(err, kind, id);
    else if (rc != SQLITE_DONE)
        sqlite_error(err, sqlite_db(conn), rc, "look up an id");
    return rc == SQLITE_DONE;
}

/* The preconditions on the current version, as on MongoDB: 410 on a
 * deleted record, 412 naming the current version when If-Match differs. */
static bool
load_current(store_conn_t *conn, write_t *w, kt_error_t *err)
{
    if (w->op == WRITE_CREATE)
        return w->id == NULL || id_free(conn, w->kind, w->id, err);
    if (!sqlite_record_get(conn, w->kind, w->id, &w->cur, err))
        return false;
    if (w->cur.deleted && !(w->meta->revive && record_is_merged(&w->cur))) {
        kt_error_set(err, KT_DOMAIN_INPUT, KT_GONE,
                     strcmp(w->kind->name, "organization") == 0 ? "the organization was deleted"
                     : strcmp(w->kind->name, "progress") == 0   ? "the progress record was deleted"
                                                                : "the student was deleted");
        return false;
    }
    if (w->expected != 0 && w->expected != w->cur.version) {
        kt_error_set(err, KT_DOMAIN_INPUT, KT_VERSION_CONFLICT,
                     "If-Match names version %lld, the current one is %lld", (long long)w->expected,
                     (long long)w->cur.version);
        snprintf(err->ref, sizeof err->ref, "%lld", (long long)w->cur.version);
        return false;
    }
    return true;
}

/* The change-feed entry, numbered max + 1 under the write lock: gapless.
 * from_org names the school a student leaves, as mongo's reserve_feed. */
static bool
feed_append(store_conn_t *conn, record_args_t *a, kt_error_t *err)
{
    const char *org = util_get_str(a->doc, "organization");
    const char *from = a->prev_doc != NULL ? util_get_str(a->prev_doc, "organization") : NULL;
    sqlite3_stmt *st = sqlite_stmt(
        conn,
        "INSERT INTO changes(seq, student_id, version, kind, time, org, from_org)"
        " SELECT coalesce(max(seq), 0) + 1, ?1, ?2, ?3, ?4, ?5, ?6 FROM changes RETURNING seq",
        err);
    int rc;

    if (from != NULL && org != NULL && strcmp(from, org) == 0)
        from = NULL;
    if (st == NULL)
        return false;
    sqlite_bind_text(st, 1, a->id);
    sqlite3_bind_int64(st, 2, a->version);
    sqlite_bind_text(st, 3, store_record_kind(a));
    sqlite_bind_text(st, 4, a->time);
    sqlite_bind_text(st, 5, org != NULL ? org : "");
    sqlite_bind_text(st, 6, from != NULL ? from : "");
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        a->seq = sqlite3_column_int64(st, 0);
    else
        sqlite_error(err, sqlite_db(conn), rc, "append to the change feed");
    sqlite3_reset(st);
    return rc == SQLITE_ROW;
}

static bool
insert_version(store_conn_t *conn, const record_args_t *a, const write_meta_t *meta,
               const bson_t *rec, kt_error_t *err)
{
    const char *org = util_get_str(a->doc, "organization");
    sqlite3_stmt *st = sqlite_table_stmt(conn,
                                         "INSERT INTO %s(id, version, time, state, seq, subject,"
                                         " organization, record) VALUES(?1, ?2, ?3, ?4, ?5, ?6,"
                                         " ?7, ?8)",
                                         a->kind->versions, err);
    bool ok;

    if (st == NULL)
        return false;
    sqlite_bind_text(st, 1, a->id);
    sqlite3_bind_int64(st, 2, a->version);
    sqlite_bind_text(st, 3, a->time);
    sqlite_bind_text(st, 4, a->state ? a->state : a->deleted ? "DELETED" : "ACTIVE");
    if (a->kind->feed)
        sqlite3_bind_int64(st, 5, a->seq);
    sqlite_bind_text(st, 6, meta->principal->subject);
    sqlite_bind_text(st, 7, org); /* NULL binds NULL */
    sqlite_bind_bson(st, 8, rec);
    ok = sqlite_step_done(st, conn, "insert the version", err);
    sqlite3_reset(st);
    return ok;
}

/* The feed entry, the version record (the same BSON as MongoDB's, so the
 * hashes and the handlers' view agree), the head. */
static bool
append_version(store_conn_t *conn, record_args_t *a, const write_meta_t *meta, kt_error_t *err)
{
    record_t written;
    bson_t rec;
    bool ok;

    if (a->kind->feed && !feed_append(conn, a, err))
        return false;
    ok = store_build_record(&rec, a, meta); /* initialises rec on every path */
    if (!ok)
        kt_error_set(err, KT_DOMAIN_INTERNAL, KT_INTERNAL, "cannot hash the version");
    ok = ok && insert_version(conn, a, meta, &rec, err);
    record_init(&written);
    snprintf(written.id, sizeof written.id, "%s", a->id);
    written.version = a->version;
    written.deleted = a->deleted;
    bson_destroy(&written.doc);
    bson_copy_to(a->doc, &written.doc); /* a copy: a->doc stays the caller's */
    bson_destroy(&written.record);
    bson_steal(&written.record, &rec); /* steals rec: not destroyed here */
    ok = ok && sqlite_put_head(conn, a->kind, &written, err);
    record_release(&written);
    return ok;
}

/* The new version's time: now, or its predecessor's when the wall clock
 * stepped back (NTP): as_of relies on times growing with versions. */
static void
stamp(const record_t *cur, char time[32])
{
    const char *prev = util_get_str(&cur->record, "time");

    util_time_now(time);
    if (prev != NULL && strcmp(prev, time) > 0)
        snprintf(time, 32, "%s", prev);
}

/* Everything between BEGIN and COMMIT; out->unchanged when nothing is to be
 * written. */
static bool
write_locked(store_conn_t *conn, write_t *w, write_result_t *out, kt_error_t *err)
{
    sqlite_keys_t before = {0}, now = {0};
    char time[32], id[STUDENT_ID_LEN + 1];

    if (w->op != WRITE_DELETE && w->doc == NULL) {
        kt_error_set(err, KT_DOMAIN_INTERNAL, KT_INTERNAL, "a %s needs a document",
                     store_kind_name(w->op));
        return false;
    }
    if (!load_current(conn, w, err))
        return false;
    if (w->op == WRITE_CREATE && w->id == NULL)
        util_uuid(id);
    else
        snprintf(id, sizeof id, "%s", w->op == WRITE_CREATE ? w->id : w->cur.id);
    snprintf(out->id, sizeof out->id, "%s", id);
    /* A delete stores the current document again, state DELETED. */
    const bson_t *doc = w->op == WRITE_DELETE ? &w->cur.doc : w->doc;
    /* A merge or unmerge version records the event even when the document
     * stays the same. */
    if (w->op == WRITE_UPDATE && !w->cur.deleted && w->meta->version_kind == NULL &&
        store_same_document(&w->cur.doc, doc)) {
        out->version = w->cur.version;
        out->unchanged = true;
        return true;
    }
    if (w->op != WRITE_CREATE && !w->cur.deleted) /* a revived record holds no keys */
        sqlite_keys_of(w->arena, w->kind, &w->cur.doc, &before);
    if (w->op != WRITE_DELETE)
        sqlite_keys_of(w->arena, w->kind, doc, &now);
    if (!update_claims(conn, w->kind, &before, &now, id, err))
        return false;
    stamp(&w->cur, time);
    const char *prev_hash = w->op == WRITE_CREATE ? "" : util_get_str(&w->cur.record, "hash");
    record_args_t a = {
        .kind = w->kind,
        .id = id,
        .version = w->cur.version + 1,
        .op = w->op,
        .deleted = w->op == WRITE_DELETE,
        .time = time,
        .doc = doc,
        .prev_doc = w->op == WRITE_CREATE ? NULL : &w->cur.doc,
        .prev_hash = prev_hash != NULL ? prev_hash : "",
        .named_id = w->op == WRITE_CREATE && w->id != NULL,
        .identity_change = w->meta->identity_change,
        .version_kind = w->meta->version_kind,
        .state = w->meta->state,
    };
    if (!append_version(conn, &a, w->meta, err))
        return false;
    out->version = a.version;
    return true;
}

bool
sqlite_record_write(store_conn_t *conn, const store_kind_t *kind, write_op_t op, const char *id,
                    int64_t expected_version, const bson_t *doc, const write_meta_t *meta,
                    write_result_t *out, kt_error_t *err)
{
    write_t w = {.kind = kind,
                 .op = op,
                 .id = id,
                 .expected = expected_version,
                 .doc = doc,
                 .meta = meta,
                 .arena = arena_new(0)}; /* w.cur: record_init below */
    bool ok = false;

    record_init(&w.cur);
    memset(out, 0, sizeof *out);
    if (w.arena == NULL) {
        no_memory(err);
        goto done;
    }
    if (!sqlite_begin(conn, err))
        goto done;
    ok = write_locked(conn, &w, out, err);
    if (ok && !out->unchanged) {
        /* The test build dies here on request: the transaction is not
         * committed, so neither the version nor anything else is there. */
        store_fault_point(meta, "crash-after-version");
        ok = sqlite_commit(conn, err); /* rolls back when it fails */
    } else {
        sqlite_rollback(conn);
    }
done:
    record_release(&w.cur);
    arena_free(w.arena);
    return ok;
}

/* Both sides in one transaction: a refusal of either writes neither. */
bool
sqlite_record_write_pair(store_conn_t *conn, const store_kind_t *kind, const write_side_t sides[2],
                         write_result_t out[2], kt_error_t *err)
{
    arena_t *arena = arena_new(0);
    bool ok = arena != NULL;

    memset(out, 0, 2 * sizeof *out);
    if (!ok) {
        no_memory(err);
        return false;
    }
    ok = sqlite_begin(conn, err);
    for (int i = 0; ok && i < 2; i++) {
        write_t w = {.kind = kind,
                     .op = sides[i].op,
                     .id = sides[i].id,
                     .expected = sides[i].expected_version,
                     .doc = sides[i].doc,
                     .meta = sides[i].meta,
                     .arena = arena};
        record_init(&w.cur);
        ok = w.id != NULL && w.expected > 0 && w.op != WRITE_CREATE;
        if (!ok)
            kt_error_set(err, KT_DOMAIN_INTERNAL, KT_INTERNAL, "a pair write names two versions");
        ok = ok && write_locked(conn, &w, &out[i], err);
        record_release(&w.cur);
    }
    if (ok) {
        store_fault_point(sides[1].meta, "crash-after-version");
        ok = sqlite_commit(conn, err); /* rolls back when it fails */
    } else {
        sqlite_rollback(conn);
        memset(out, 0, 2 * sizeof *out);
    }
    arena_free(arena);
    return ok;
}

/* --- searches --- */

/* Active heads in id order, from the heads' primary key (?1, the kind, is
 * bound but unused: the table is the kind's). */
static const char *const list_all_sql =
    "SELECT id FROM %s WHERE state = 'ACTIVE' AND id > ?2 ORDER BY id LIMIT ?3";

/* Members 1.. join on (kind, field, value, id) — the head_keys primary key,
 * a point lookup each — while member 0 drives: a range scan of that key in
 * id order after the cursor, stopped by LIMIT. CROSS JOIN keeps member 0
 * outermost, so the order comes from the index and no sort is needed.
 * Parameters: ?1 kind, ?2 after, ?3 limit, member i's field ?(4+2i) and
 * value ?(5+2i). */
static bool
find_sql(int members, buf_t *sql)
{
    buf_puts(sql, "SELECT k0.id FROM head_keys k0");
    for (int i = 1; i < members; i++)
        buf_printf(sql,
                   " CROSS JOIN head_keys k%d ON k%d.kind = ?1 AND k%d.field = ?%d"
                   " AND k%d.value = ?%d AND k%d.id = k0.id",
                   i, i, i, 4 + 2 * i, i, 5 + 2 * i, i);
    buf_puts(sql, " WHERE k0.kind = ?1 AND k0.field = ?4 AND k0.value = ?5 AND k0.id > ?2"
                  " ORDER BY k0.id LIMIT ?3");
    return !sql->overflow && sql->data != NULL;
}

/* A find_ids filter as (field, value) pairs; member 0 drives the scan. */
typedef struct {
    const char *fields[FIND_MEMBERS_MAX];
    const char *values[FIND_MEMBERS_MAX];
    int n;
} members_t;

/* The filter's members: strings, at most FIND_MEMBERS_MAX (borrowed from filter). */
static bool
members_of(const bson_t *filter, members_t *m, kt_error_t *err)
{
    bson_iter_t it;

    m->n = 0;
    if (filter == NULL || !bson_iter_init(&it, filter))
        return true;
    while (bson_iter_next(&it)) {
        if (m->n == FIND_MEMBERS_MAX) {
            kt_error_set(err, KT_DOMAIN_INTERNAL, KT_INTERNAL, "a search names at most %d fields",
                         FIND_MEMBERS_MAX);
            return false;
        }
        if (!BSON_ITER_HOLDS_UTF8(&it)) {
            kt_error_set(err, KT_DOMAIN_INTERNAL, KT_INTERNAL,
                         "a search by %s needs a string to compare", bson_iter_key(&it));
            return false;
        }
        m->fields[m->n] = bson_iter_key(&it);
        m->values[m->n++] = bson_iter_utf8(&it, NULL);
    }
    return true;
}

/* How many heads carry member i, counted up to PROBE_MAX (an index range). */
static bool
probe_member(store_conn_t *conn, const store_kind_t *kind, const members_t *m, int i,
             int64_t *count, kt_error_t *err)
{
    sqlite3_stmt *st = sqlite_stmt(conn,
                                   "SELECT count(*) FROM (SELECT 1 FROM head_keys WHERE kind = ?1"
                                   " AND field = ?2 AND value = ?3 LIMIT ?4)",
                                   err);
    int rc;

    if (st == NULL)
        return false;
    sqlite_bind_text(st, 1, kind->name);
    sqlite_bind_text(st, 2, m->fields[i]);
    sqlite_bind_text(st, 3, m->values[i]);
    sqlite3_bind_int(st, 4, PROBE_MAX);
    rc = sqlite3_step(st);
    *count = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_reset(st);
    if (rc != SQLITE_ROW)
        sqlite_error(err, sqlite_db(conn), rc, "find ids");
    return rc == SQLITE_ROW;
}

/* Puts the rarest member first: the driving scan then reads the fewest
 * rows that fail the other members (an organisation's students filtered by
 * a name would otherwise read the whole school for one page). */
static bool
rarest_first(store_conn_t *conn, const store_kind_t *kind, members_t *m, kt_error_t *err)
{
    int64_t best = INT64_MAX, count = 0;
    int at = 0;

    for (int i = 0; m->n > 1 && i < m->n; i++) {
        if (!probe_member(conn, kind, m, i, &count, err))
            return false;
        if (count < best) {
            best = count;
            at = i;
        }
    }
    const char *field = m->fields[at], *value = m->values[at];
    m->fields[at] = m->fields[0];
    m->values[at] = m->values[0];
    m->fields[0] = field;
    m->values[0] = value;
    return true;
}

static void
bind_members(sqlite3_stmt *st, const members_t *m)
{
    for (int i = 0; i < m->n; i++) {
        sqlite_bind_text(st, 4 + 2 * i, m->fields[i]);
        sqlite_bind_text(st, 5 + 2 * i, m->values[i]);
    }
}

static bool
collect_ids(store_conn_t *conn, sqlite3_stmt *st, char (*ids)[40], int *n, kt_error_t *err)
{
    int rc;

    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *id = (const char *)sqlite3_column_text(st, 0);
        if (id != NULL && strlen(id) < sizeof *ids)
            memcpy(ids[(*n)++], id, strlen(id) + 1);
    }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE)
        sqlite_error(err, sqlite_db(conn), rc, "find ids");
    return rc == SQLITE_DONE;
}

bool
sqlite_record_find_ids(store_conn_t *conn, const store_kind_t *kind, const bson_t *filter,
                       const char *after, int limit, char (*ids)[40], int *n, kt_error_t *err)
{
    sqlite3_stmt *st = NULL;
    members_t m;
    buf_t sql;
    bool ok = false;

    *n = 0;
    buf_init(&sql, 4096);
    if (limit <= 0)
        return true;
    if (!members_of(filter, &m, err) || !rarest_first(conn, kind, &m, err))
        goto done;
    if (m.n == 0)
        st = sqlite_table_stmt(conn, list_all_sql, kind->heads, err);
    else if (find_sql(m.n, &sql))
        st = sqlite_stmt(conn, sql.data, err);
    else
        no_memory(err);
    if (st == NULL)
        goto done;
    bind_members(st, &m);
    sqlite_bind_text(st, 1, kind->name);
    sqlite_bind_text(st, 2, after != NULL ? after : "");
    sqlite3_bind_int(st, 3, limit);
    ok = collect_ids(conn, st, ids, n, err);
done:
    buf_release(&sql);
    return ok;
}
