/*
 * verify: the SQLite store's chains, derived rows and duplicate keys, for
 * every kind of versioned record (students, then organisations), and repair.
 *
 * The versions are the truth; the head, its head_keys rows and a student's
 * claims are derived from the latest version in the write's transaction.
 * verify recomputes each chain (store_version_hash), checks that each
 * version of a kind in the feed has its changes row, and that the derived
 * rows agree with the latest version: a head naming a version that does not
 * exist is BROKEN, derived rows that disagree otherwise are INCOMPLETE
 * (nothing lags on SQLite, so they come from `migrate` or from a hand on the
 * file; repair rebuilds them). Duplicates are computed from the versions,
 * not from the claims, whose primary key would hide them: verify must find
 * what tampering did. verify_all reads one snapshot (one read transaction),
 * so a write during the run cannot look like a duplicate or a broken head.
 */
#include <stdio.h>
#include <string.h>

#include "core/arena.h"
#include "core/strmap.h"
#include "model/student.h"
#include "store/sqlite/sqlite.h"
#include "store/util.h"

/* Ids per page of the walk over records; a repair commits once a page. */
#define PAGE        256
#define META_VERIFY "verify_last"

static const store_kind_t *const verify_kinds[] = {&store_kind_student, &store_kind_organization,
                                                   &store_kind_progress};

static void
no_memory(kt_error_t *err)
{
    kt_error_set(err, KT_DOMAIN_INTERNAL, KT_INTERNAL, "verify: out of memory");
}

/* A read transaction (deferred BEGIN): one snapshot for what follows. */
static bool
read_begin(store_conn_t *conn, kt_error_t *err)
{
    int rc = sqlite3_exec(sqlite_db(conn), "BEGIN", NULL, NULL, NULL);

    if (rc != SQLITE_OK)
        sqlite_error(err, sqlite_db(conn), rc, "begin a read");
    return rc == SQLITE_OK;
}

static void
read_end(store_conn_t *conn)
{
    if (sqlite3_exec(sqlite_db(conn), "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
        sqlite_rollback(conn);
}

/* The changes row at the version's sequence must name this version. */
static bool
check_feed(store_conn_t *conn, const record_t *v, char *problem, bool *linked, kt_error_t *err)
{
    sqlite3_stmt *st =
        sqlite_stmt(conn, "SELECT student_id, version FROM changes WHERE seq = ?1", err);
    int rc;

    if (st == NULL)
        return false;
    sqlite3_bind_int64(st, 1, util_get_int(&v->record, "seq", 0));
    rc = sqlite3_step(st);
    const char *sid = rc == SQLITE_ROW ? (const char *)sqlite3_column_text(st, 0) : NULL;
    *linked = sid != NULL && strcmp(sid, v->id) == 0 && sqlite3_column_int64(st, 1) == v->version;
    sqlite3_reset(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        sqlite_error(err, sqlite_db(conn), rc, "read the change feed");
        return false;
    }
    if (!*linked)
        snprintf(problem, 256, "version %lld has no change-feed entry", (long long)v->version);
    return true;
}

/* One row of the versions walk: its number must be the next, its record a
 * version record that links to prev_hash (and to its feed entry). */
static bool
check_row(store_conn_t *conn, const store_kind_t *kind, sqlite3_stmt *st, const char *id, int64_t n,
          const char *prev_hash, record_t *v, char *problem, bool *linked, kt_error_t *err)
{
    bson_t rec;

    *linked = false;
    if (sqlite3_column_int64(st, 0) != n) {
        snprintf(problem, 256, "version %lld is missing", (long long)n);
        return true;
    }
    bool parsed = sqlite_column_bson(st, 1, &rec) && sqlite_record_from_blob(id, n, &rec, v);
    bson_destroy(&rec);
    if (!parsed) {
        snprintf(problem, 256, "version %lld is not a version record", (long long)n);
        return true;
    }
    *linked = store_check_link(kind, v, id, n, prev_hash, problem);
    return !*linked || !kind->feed || check_feed(conn, v, problem, linked, err);
}

/* Walks id's versions in order up to the first broken link; last holds the
 * last version read (the latest when nothing is broken). */
static bool
walk_versions(store_conn_t *conn, const store_kind_t *kind, const char *id, long *versions,
              int64_t *bad_version, char *problem, record_t *last, kt_error_t *err)
{
    sqlite3_stmt *st = sqlite_table_stmt(
        conn, "SELECT version, record FROM %s WHERE id = ?1 ORDER BY version", kind->versions, err);
    char prev_hash[65] = "";
    bool ok = true, linked = true;
    int rc = SQLITE_DONE;

    if (st == NULL)
        return false;
    sqlite_bind_text(st, 1, id);
    while (ok && linked && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t n = *versions + 1;
        ok = check_row(conn, kind, st, id, n, prev_hash, last, problem, &linked, err);
        snprintf(prev_hash, sizeof prev_hash, "%s", util_get_str(&last->record, "hash") ?: "");
        (*versions)++;
        if (!linked)
            *bad_version = n;
    }
    sqlite3_reset(st);
    if (ok && rc != SQLITE_ROW && rc != SQLITE_DONE) {
        sqlite_error(err, sqlite_db(conn), rc, "read the versions");
        return false;
    }
    return ok;
}

/* The head row: its version (0 when there is none) and whether its
 * document is the one the latest version s makes. */
static bool
head_agrees(store_conn_t *conn, const store_kind_t *kind, const record_t *s, int64_t *version,
            bool *agrees, kt_error_t *err)
{
    sqlite3_stmt *st =
        sqlite_table_stmt(conn, "SELECT version, head FROM %s WHERE id = ?1", kind->heads, err);
    bson_t head, want;
    int rc;

    *version = 0;
    *agrees = false;
    if (st == NULL)
        return false;
    sqlite_bind_text(st, 1, s->id);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *version = sqlite3_column_int64(st, 0);
        sqlite_head_doc(kind, s, &want);
        *agrees = sqlite_column_bson(st, 1, &head) && *version == s->version &&
                  store_same_document(&head, &want);
        bson_destroy(&head);
        bson_destroy(&want);
    }
    sqlite3_reset(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        sqlite_error(err, sqlite_db(conn), rc, "read a head");
    return rc == SQLITE_ROW || rc == SQLITE_DONE;
}

/* Whether the head member field holds value: equals it, or (a multi-valued
 * member, an array) holds it among its strings. */
static bool
head_member_has(const bson_t *want, const char *field, const char *value)
{
    bson_iter_t it, elems;

    if (field == NULL || value == NULL || !bson_iter_init_find(&it, want, field))
        return false;
    if (BSON_ITER_HOLDS_UTF8(&it))
        return strcmp(bson_iter_utf8(&it, NULL), value) == 0;
    if (!BSON_ITER_HOLDS_ARRAY(&it) || !bson_iter_recurse(&it, &elems))
        return false;
    while (bson_iter_next(&elems))
        if (BSON_ITER_HOLDS_UTF8(&elems) && strcmp(bson_iter_utf8(&elems, NULL), value) == 0)
            return true;
    return false;
}

/* The rows a head should have: one per string member, one per string of an
 * array member (sqlite/records.c, put_head_keys). */
static uint32_t
head_rows_expected(const bson_t *want)
{
    bson_iter_t it, elems;
    uint32_t n = 0;

    if (!bson_iter_init(&it, want))
        return 0;
    while (bson_iter_next(&it)) {
        if (BSON_ITER_HOLDS_UTF8(&it))
            n++;
        else if (BSON_ITER_HOLDS_ARRAY(&it) && bson_iter_recurse(&it, &elems))
            while (bson_iter_next(&elems))
                n += BSON_ITER_HOLDS_UTF8(&elems) ? 1 : 0;
    }
    return n;
}

/* The head_keys rows of s: one per member of the head (per string of an
 * array member) while active, none when deleted. */
static bool
head_keys_agree(store_conn_t *conn, const store_kind_t *kind, const record_t *s, bool *agree,
                kt_error_t *err)
{
    sqlite3_stmt *st =
        sqlite_stmt(conn, "SELECT field, value FROM head_keys WHERE kind = ?1 AND id = ?2", err);
    bson_t want = BSON_INITIALIZER;
    uint32_t rows = 0;
    int rc;

    *agree = true;
    if (st == NULL)
        return false;
    if (!s->deleted)
        kind->head_keys(&s->doc, &want);
    sqlite_bind_text(st, 1, kind->name);
    sqlite_bind_text(st, 2, s->id);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *field = (const char *)sqlite3_column_text(st, 0);
        const char *value = (const char *)sqlite3_column_text(st, 1);
        *agree = *agree && head_member_has(&want, field, value);
        rows++;
    }
    sqlite3_reset(st);
    *agree = *agree && rows == head_rows_expected(&want);
    bson_destroy(&want);
    if (rc != SQLITE_DONE)
        sqlite_error(err, sqlite_db(conn), rc, "read the head keys");
    return rc == SQLITE_DONE;
}

static bool
count_claims(store_conn_t *conn, const store_kind_t *kind, const char *id, int64_t *n,
             kt_error_t *err)
{
    sqlite3_stmt *st =
        sqlite_stmt(conn, "SELECT count(*) FROM claims WHERE kind = ?1 AND id = ?2", err);
    int rc;

    if (st == NULL)
        return false;
    sqlite_bind_text(st, 1, kind->name);
    sqlite_bind_text(st, 2, id);
    rc = sqlite3_step(st);
    *n = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_reset(st);
    if (rc != SQLITE_ROW)
        sqlite_error(err, sqlite_db(conn), rc, "count claims");
    return rc == SQLITE_ROW;
}

/* The claims of s: every key of its current version while active, and no
 * other. */
static bool
claims_agree(store_conn_t *conn, const store_kind_t *kind, const record_t *s, bool *agree,
             kt_error_t *err)
{
    arena_t *arena;
    sqlite_keys_t ks = {0};
    char holder[64];
    int64_t distinct = 0, held = 0;
    bool ok = true;

    *agree = true;
    if (kind->claim_keys == NULL)
        return true;
    if ((arena = arena_new(0)) == NULL) {
        no_memory(err);
        return false;
    }
    if (!s->deleted)
        sqlite_keys_of(arena, kind, &s->doc, &ks);
    for (size_t i = 0; ok && i < ks.n; i++) {
        sqlite_keys_t seen = {.n = i};
        memcpy(seen.keys, ks.keys, sizeof ks.keys[0] * i);
        if (sqlite_keys_has(&seen, ks.keys[i])) /* one document named twice */
            continue;
        distinct++;
        ok = sqlite_claim_read(conn, ks.keys[i], holder, sizeof holder, err);
        *agree = *agree && strcmp(holder, s->id) == 0;
    }
    ok = ok && count_claims(conn, kind, s->id, &held, err);
    *agree = *agree && held == distinct;
    arena_free(arena);
    return ok;
}

/* Whether the head, head_keys and claims are those the latest version s
 * makes; *head_version is the head row's (0: none). */
static bool
derived_agree(store_conn_t *conn, const store_kind_t *kind, const record_t *s,
              int64_t *head_version, bool *agree, kt_error_t *err)
{
    bool head = false, keys = false, claims = false;

    if (!head_agrees(conn, kind, s, head_version, &head, err) ||
        !head_keys_agree(conn, kind, s, &keys, err) || !claims_agree(conn, kind, s, &claims, err))
        return false;
    *agree = head && keys && claims;
    return true;
}

/* verify_record, keeping the last version read in last. */
static bool
verify_chain(store_conn_t *conn, const store_kind_t *kind, const char *id, long *versions,
             bool *head_lags, int64_t *bad_version, char *problem, record_t *last, kt_error_t *err)
{
    int64_t head_version = 0;
    bool agree = true;

    *versions = 0;
    *bad_version = 0;
    *head_lags = false;
    problem[0] = '\0';
    if (!walk_versions(conn, kind, id, versions, bad_version, problem, last, err))
        return false;
    if (problem[0] != '\0') /* broken: its derived rows are beside the point */
        return true;
    if (*versions > 0 && !derived_agree(conn, kind, last, &head_version, &agree, err))
        return false;
    if (head_version > *versions) {
        snprintf(problem, 256, "the head names version %lld, which does not exist",
                 (long long)head_version);
        *bad_version = head_version;
    }
    *head_lags = !agree;
    return true;
}

bool
sqlite_verify_record(store_conn_t *conn, const store_kind_t *kind, const char *id, long *versions,
                     bool *head_lags, int64_t *bad_version, char *problem, kt_error_t *err)
{
    bool own = sqlite3_get_autocommit(sqlite_db(conn)) != 0; /* not inside verify_all's read */
    record_t last;
    bool ok;

    record_init(&last);
    if (own && !read_begin(conn, err)) {
        record_release(&last);
        return false;
    }
    ok = verify_chain(conn, kind, id, versions, head_lags, bad_version, problem, &last, err);
    if (own)
        read_end(conn);
    record_release(&last);
    return ok;
}

/* --- the walk over every record --- */

typedef struct walk walk_t;
typedef bool (*visit_fn)(walk_t *w, const store_kind_t *kind, const char *id);

struct walk {
    store_conn_t *conn;
    FILE *out;
    verify_report_t *r;
    kt_error_t *err;
    visit_fn visit;
    bool repair; /* a page is one write transaction */
};

/* The next page of record ids after `after`, from the versions (a record
 * whose head is missing is found too). No kind's id is 40 bytes or longer:
 * such rows are not records, and verify does not list them. */
static bool
page_ids(walk_t *w, const store_kind_t *kind, const char *after, char (*ids)[40], int *n)
{
    sqlite3_stmt *st = sqlite_table_stmt(w->conn,
                                         "SELECT DISTINCT id FROM %s WHERE id > ?1 AND"
                                         " length(id) < 40 ORDER BY id LIMIT ?2",
                                         kind->versions, w->err);
    int rc;

    *n = 0;
    if (st == NULL)
        return false;
    sqlite_bind_text(st, 1, after);
    sqlite3_bind_int(st, 2, PAGE);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *id = (const char *)sqlite3_column_text(st, 0);
        snprintf(ids[(*n)++], sizeof *ids, "%s", id != NULL ? id : "");
    }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE)
        sqlite_error(w->err, sqlite_db(w->conn), rc, "list records");
    return rc == SQLITE_DONE;
}

/* Visits one page; a repair's page is one write transaction. */
static bool
visit_page(walk_t *w, const store_kind_t *kind, char (*ids)[40], int n)
{
    bool ok = !w->repair || sqlite_begin(w->conn, w->err);

    for (int i = 0; ok && i < n; i++)
        ok = w->visit(w, kind, ids[i]);
    if (w->repair && ok)
        ok = sqlite_commit(w->conn, w->err);
    else if (w->repair)
        sqlite_rollback(w->conn);
    return ok;
}

static bool
walk_kind(walk_t *w, const store_kind_t *kind)
{
    char ids[PAGE][40], after[40] = "";
    int n = 0;

    do {
        if (!page_ids(w, kind, after, ids, &n) || !visit_page(w, kind, ids, n))
            return false;
        if (n > 0)
            memcpy(after, ids[n - 1], sizeof after);
    } while (n > 0);
    return true;
}

static bool
walk_all(walk_t *w)
{
    for (size_t i = 0; i < sizeof verify_kinds / sizeof *verify_kinds; i++)
        if (!walk_kind(w, verify_kinds[i]))
            return false;
    return true;
}

/* Records the claim keys of an active student's current version; a key that
 * another active student carries already is a duplicate. */
static bool
note_keys(const store_kind_t *kind, const record_t *cur, FILE *out, verify_report_t *r,
          kt_error_t *err)
{
    sqlite_keys_t ks = {0};
    arena_t *arena;
    bool ok = true;

    if (kind->claim_keys == NULL || cur->deleted || cur->version == 0)
        return true;
    if ((arena = arena_new(0)) == NULL)
        goto full;
    sqlite_keys_of(arena, kind, &cur->doc, &ks);
    for (size_t i = 0; ok && i < ks.n; i++) {
        bool created;
        char *holder = strmap_put(r->claim_keys, ks.keys[i], &created);
        if (holder == NULL)
            ok = false;
        else if (created)
            snprintf(holder, STUDENT_ID_LEN + 1, "%s", cur->id);
        else if (strcmp(holder, cur->id) != 0) {
            r->duplicates++;
            fprintf(out, "DUPLICATE %s carried by the active students %s and %s\n",
                    store_key_kind(ks.keys[i]), holder, cur->id);
        }
    }
    arena_free(arena);
    if (ok)
        return true;
full:
    kt_error_set(err, KT_DOMAIN_INTERNAL, KT_INTERNAL,
                 "verify: no memory for the duplicate-key report");
    return false;
}

static bool
verify_one(walk_t *w, const store_kind_t *kind, const char *id)
{
    verify_report_t *r = w->r;
    char problem[256];
    long versions = 0;
    bool lags = false;
    int64_t bad = 0;
    record_t cur;

    record_init(&cur);
    char pair[256];
    bool unpaired = false;
    bool ok =
        verify_chain(w->conn, kind, id, &versions, &lags, &bad, problem, &cur, w->err) &&
        note_keys(kind, &cur, w->out, r, w->err) &&
        (problem[0] != '\0' || store_pair_check(w->conn, kind, &cur, &unpaired, pair, w->err));
    record_release(&cur);
    if (!ok)
        return false;
    store_verify_count(kind, r, versions);
    if (problem[0] != '\0') {
        r->broken++;
        if (r->listed < VERIFY_LIST_MAX && kind == &store_kind_student)
            snprintf(r->broken_ids[r->listed++], sizeof r->broken_ids[0], "%s", id);
        fprintf(w->out, "BROKEN %s %s at version %lld: %s\n", kind->name, id, (long long)bad,
                problem);
    } else if (lags) {
        r->incomplete++;
        fprintf(w->out, "INCOMPLETE %s %s: the head lags its versions (run repair)\n", kind->name,
                id);
    }
    if (problem[0] == '\0' && unpaired) {
        r->incomplete++;
        fprintf(w->out, "INCOMPLETE %s %s: %s\n", kind->name, id, pair);
    }
    return true;
}

/* Heads of records that have no version at all: forged, or left by a
 * tampered file. BROKEN, as a head naming a version that does not exist. */
static bool
orphan_heads(walk_t *w, const store_kind_t *kind)
{
    char sql[512];
    sqlite3_stmt *st;
    int rc;

    snprintf(sql, sizeof sql,
             "SELECT h.id, h.version FROM %s h WHERE NOT EXISTS"
             " (SELECT 1 FROM %s v WHERE v.id = h.id) ORDER BY h.id",
             kind->heads, kind->versions);
    if ((st = sqlite_stmt(w->conn, sql, w->err)) == NULL)
        return false;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *id = (const char *)sqlite3_column_text(st, 0);
        long long v = sqlite3_column_int64(st, 1);
        w->r->broken++;
        if (w->r->listed < VERIFY_LIST_MAX && kind == &store_kind_student && id != NULL &&
            strlen(id) < sizeof w->r->broken_ids[0])
            snprintf(w->r->broken_ids[w->r->listed++], sizeof w->r->broken_ids[0], "%s", id);
        fprintf(w->out,
                "BROKEN %s %s at version %lld: the head names version %lld, which does "
                "not exist\n",
                kind->name, id != NULL ? id : "", v, v);
    }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE)
        sqlite_error(w->err, sqlite_db(w->conn), rc, "find heads without versions");
    return rc == SQLITE_DONE;
}

/* The summary, in the shape of MongoDB's verify_runs "last". */
static void
store_last_run(store_conn_t *conn, const verify_report_t *r)
{
    bson_t doc;
    kt_error_t ignored;
    sqlite3_stmt *st;

    store_verify_summary(r, &doc);
    st = sqlite_stmt(conn,
                     "INSERT INTO meta(key, doc) VALUES(?1, ?2)"
                     " ON CONFLICT(key) DO UPDATE SET doc = excluded.doc",
                     &ignored);
    if (st != NULL) {
        sqlite_bind_text(st, 1, META_VERIFY);
        sqlite_bind_bson(st, 2, &doc);
        sqlite_step_done(st, conn, "keep the verify summary", &ignored); /* best effort, as mongo */
        sqlite3_reset(st);
    }
    bson_destroy(&doc);
}

bool
sqlite_verify_all(store_conn_t *conn, FILE *out, verify_report_t *r, kt_error_t *err)
{
    walk_t w = {.conn = conn, .out = out, .r = r, .err = err, .visit = verify_one};
    bool ok;

    memset(r, 0, sizeof *r);
    r->claim_keys = strmap_new(STUDENT_ID_LEN + 1, VERIFY_KEYS_MAX_BYTES);
    if (r->claim_keys == NULL) {
        no_memory(err);
        return false;
    }
    ok = read_begin(conn, err);
    ok = ok && walk_all(&w);
    for (size_t i = 0; ok && i < sizeof verify_kinds / sizeof *verify_kinds; i++)
        ok = orphan_heads(&w, verify_kinds[i]);
    read_end(conn);
    strmap_free(r->claim_keys);
    r->claim_keys = NULL;
    if (ok)
        store_last_run(conn, r);
    return ok;
}

bool
sqlite_verify_last_run(store_conn_t *conn, bson_t *out, bool *found, kt_error_t *err)
{
    sqlite3_stmt *st = sqlite_stmt(conn, "SELECT doc FROM meta WHERE key = ?1", err);
    int rc;

    bson_init(out);
    *found = false;
    if (st == NULL)
        return false;
    sqlite_bind_text(st, 1, META_VERIFY);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        bson_destroy(out);
        *found = sqlite_column_bson(st, 0, out); /* initialises out on every path */
    }
    sqlite3_reset(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        sqlite_error(err, sqlite_db(conn), rc, "read the verify summary");
    return rc == SQLITE_ROW || rc == SQLITE_DONE;
}

/* --- repair --- */

/* Does holder's current version, active, carry key? */
static bool
holder_carries(store_conn_t *conn, const store_kind_t *kind, const char *holder, const char *key,
               bool *carries, kt_error_t *err)
{
    arena_t *arena = arena_new(0);
    sqlite_keys_t ks = {0};
    record_t h;
    bool found = false, ok;

    *carries = false;
    if (arena == NULL) {
        no_memory(err);
        return false;
    }
    record_init(&h);
    ok = sqlite_record_latest(conn, kind, holder, &h, &found, err);
    if (ok && found && !h.deleted) {
        sqlite_keys_of(arena, kind, &h.doc, &ks);
        *carries = sqlite_keys_has(&ks, key);
    }
    record_release(&h);
    arena_free(arena);
    return ok;
}

static bool
exec_claim(store_conn_t *conn, const char *sql, const char *a, const char *b, const char *c,
           kt_error_t *err)
{
    sqlite3_stmt *st = sqlite_stmt(conn, sql, err);
    bool ok;

    if (st == NULL)
        return false;
    sqlite_bind_text(st, 1, a);
    sqlite_bind_text(st, 2, b);
    if (c != NULL)
        sqlite_bind_text(st, 3, c);
    ok = sqlite_step_done(st, conn, "repair a claim", err);
    sqlite3_reset(st);
    return ok;
}

/* Claims key for s: inserted when free, taken over from a holder that does
 * not carry it (a stale row), left to a holder that does (contested: the
 * duplicate verify reports). */
static bool
restore_key(store_conn_t *conn, const store_kind_t *kind, const record_t *s, const char *key,
            verify_report_t *r, kt_error_t *err)
{
    char holder[64];
    bool inserted = false, carries = false;

    if (!sqlite_claim_insert(conn, kind, key, s->id, &inserted, err))
        return false;
    if (inserted) {
        r->claims_restored++;
        return true;
    }
    if (!sqlite_claim_read(conn, key, holder, sizeof holder, err))
        return false;
    if (strcmp(holder, s->id) == 0)
        return true;
    if (!holder_carries(conn, kind, holder, key, &carries, err))
        return false;
    if (carries) {
        r->claims_contested++;
        return true;
    }
    r->claims_restored++;
    return exec_claim(conn, "UPDATE claims SET id = ?2, kind = ?3 WHERE key = ?1", key, s->id,
                      kind->name, err);
}

/* Releases the claims s holds but its current version (or its deletion)
 * no longer carries; *released counts them. */
static bool
release_stale(store_conn_t *conn, const store_kind_t *kind, const record_t *s,
              const sqlite_keys_t *ks, arena_t *arena, long *released, kt_error_t *err)
{
    sqlite3_stmt *st = sqlite_stmt(conn, "SELECT key FROM claims WHERE kind = ?1 AND id = ?2", err);
    const char *stale[STORE_MAX_KEYS];
    size_t n = 0;
    int rc;

    if (st == NULL)
        return false;
    sqlite_bind_text(st, 1, kind->name);
    sqlite_bind_text(st, 2, s->id);
    /* At most STORE_MAX_KEYS per pass (a tampered file may hold more): the
     * caller passes again while some were released. */
    while (n < STORE_MAX_KEYS && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *key = (const char *)sqlite3_column_text(st, 0);
        if (key != NULL && !sqlite_keys_has(ks, key) && (stale[n] = arena_strdup(arena, key)))
            n++;
    }
    sqlite3_reset(st);
    if (n < STORE_MAX_KEYS && rc != SQLITE_DONE) {
        sqlite_error(err, sqlite_db(conn), rc, "list claims");
        return false;
    }
    for (size_t i = 0; i < n; i++)
        if (!exec_claim(conn, "DELETE FROM claims WHERE key = ?1 AND id = ?2", stale[i], s->id,
                        NULL, err))
            return false;
    *released += (long)n;
    return true;
}

/* The claims of s: every key of its current version while active, no other. */
static bool
repair_claims(store_conn_t *conn, const store_kind_t *kind, const record_t *s, verify_report_t *r,
              long *released, kt_error_t *err)
{
    arena_t *arena;
    sqlite_keys_t ks = {0};
    bool ok = true;
    long before;

    if (kind->claim_keys == NULL)
        return true;
    if ((arena = arena_new(0)) == NULL) {
        no_memory(err);
        return false;
    }
    if (!s->deleted)
        sqlite_keys_of(arena, kind, &s->doc, &ks);
    for (size_t i = 0; ok && i < ks.n; i++)
        ok = restore_key(conn, kind, s, ks.keys[i], r, err);
    do {
        before = *released;
        ok = ok && release_stale(conn, kind, s, &ks, arena, released, err);
    } while (ok && *released > before);
    arena_free(arena);
    return ok;
}

/* Rebuilds the head and head_keys of id from its latest version when they
 * disagree, and its claims. */
static bool
repair_one(walk_t *w, const store_kind_t *kind, const char *id)
{
    record_t s;
    int64_t head_version = 0;
    bool found = false, head = true, keys = true, ok;
    long released = 0;

    record_init(&s);
    ok = sqlite_record_latest(w->conn, kind, id, &s, &found, w->err);
    if (!ok || !found) /* versions are never deleted: every id of the page has some */
        goto done;
    ok = head_agrees(w->conn, kind, &s, &head_version, &head, w->err) &&
         head_keys_agree(w->conn, kind, &s, &keys, w->err);
    if (ok && (!head || !keys)) {
        ok = sqlite_put_head(w->conn, kind, &s, w->err);
        w->r->repaired++;
        fprintf(w->out, "REPAIRED %s %s: head %lld → %lld\n", kind->name, id,
                (long long)head_version, (long long)s.version);
    }
    ok = ok && repair_claims(w->conn, kind, &s, w->r, &released, w->err);
    if (ok && released > 0)
        fprintf(w->out, "RELEASED %s %s: %ld claims its current version does not carry\n",
                kind->name, id, released);
    store_verify_count(kind, w->r, 0);
done:
    record_release(&s);
    return ok;
}

/* On SQLite nothing lags a transaction: repair rebuilds what `migrate` or a
 * hand on the file left — heads, head_keys and claims, from the versions. */
bool
sqlite_verify_repair_all(store_conn_t *conn, FILE *out, verify_report_t *r, kt_error_t *err)
{
    walk_t w = {.conn = conn, .out = out, .r = r, .err = err, .visit = repair_one, .repair = true};

    memset(r, 0, sizeof *r);
    return walk_all(&w);
}

bool
sqlite_verify_count(store_conn_t *conn, long *records, kt_error_t *err)
{
    *records = 0;
    for (size_t i = 0; i < sizeof verify_kinds / sizeof *verify_kinds; i++) {
        sqlite3_stmt *st =
            sqlite_table_stmt(conn, "SELECT count(*) FROM %s", verify_kinds[i]->heads, err);
        int rc;

        if (st == NULL)
            return false;
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW)
            *records += (long)sqlite3_column_int64(st, 0);
        sqlite3_reset(st);
        if (rc != SQLITE_ROW) {
            sqlite_error(err, sqlite_db(conn), rc, "count records");
            return false;
        }
    }
    return true;
}
