/*
 * write: the write protocol of a version of any kind of record (store/kind.h)
 * and the claims that keep a student's СНИЛС and documents unique. Order
 * (docs/storage.md, "The write protocol"), and what a worker that dies right
 * after each step leaves behind ("Every crash state"):
 *   1. read the current version N (rolling the head forward)
 *      — nothing written;
 *   2. claim the keys the new document adds (insert with unique _id)
 *      — claims without a version: they bind while young, then are stale;
 *   3. reserve the change-feed sequence
 *      — a feed entry without its version: void after FEED_LEASE_MS;
 *   4. check the claims still stand (4a), insert version N+1 — the lock: of
 *      two writers exactly one succeeds
 *      — version N+1 with the head at N: readers roll forward to it;
 *   5. move the head — the complete write.
 * No state needs a cleanup: each is either void by rule or completed by the
 * next reader, writer or `kontingentctl repair`. That is why nothing here
 * undoes a step when a later one fails.
 * Claims are never deleted: whether a claim binds is decided by its holder's
 * current version (and, while the version its writer was to insert is not
 * there, by its age), so a claim left behind by a dropped key, a lost race or
 * a crash is taken over by the next student that needs the key, by inserting
 * the key's next generation — an insert, so of two takers exactly one wins.
 * Just before step 4 a writer checks that its claims still stand.
 */
#include <stdio.h>
#include <string.h>

#include "core/arena.h"
#include "model/codec.h"
#include "model/diff.h"
#include "model/student.h"
#include "store/mongo/mongo.h"
#include "store/records.h"
#include "store/util.h"

#define CLAIMS      "claims"
#define MAX_KEYS    (STUDENT_DOCUMENTS_MAX + 1)
#define CLAIM_TRIES 5
/* How long a claim whose writer has not yet decided its version binds
 * (docs/storage.md). Less than a package lease (fcgi/runner.h), so that a
 * package resumed after its worker died takes over the claims that worker
 * left; a writer inserts its version within half of it after checking that
 * its claims still stand, or claims again. */
#define CLAIM_YOUTH_MS 15000

typedef struct {
    const char *keys[MAX_KEYS]; /* "snils:…", "doc:…" */
    size_t n;
    int64_t gens[MAX_KEYS];    /* the generation this write holds, -1: none claimed */
    int64_t claimed[MAX_KEYS]; /* that generation's claimed_ms */
    bool unclaimed[MAX_KEYS];  /* none_bound() found no claim at all: insert first */
} keyset_t;

/* The latest generation of a key's claim, as read. */
typedef struct {
    bool found;
    int64_t gen;
    char holder[64];
    int64_t version; /* the version its writer was to insert (1 for claims older than it) */
    int64_t claimed_ms;
} claim_t;

static void
keys_of(arena_t *arena, const store_kind_t *kind, const bson_t *doc, keyset_t *ks)
{
    ks->n = kind->claim_keys != NULL ? kind->claim_keys(arena, doc, ks->keys, MAX_KEYS) : 0;
    for (size_t i = 0; i < MAX_KEYS; i++) {
        ks->gens[i] = -1;
        ks->claimed[i] = 0;
        ks->unclaimed[i] = false;
    }
}

static bool
keys_has(const keyset_t *ks, const char *key)
{
    for (size_t i = 0; i < ks->n; i++)
        if (ks->keys[i] != NULL && strcmp(ks->keys[i], key) == 0)
            return true;
    return false;
}

/* Generation 0 of a key is the key itself (claims written before generations
 * existed are generation 0); generation g is "<key>|<g>" ("|" ends no key). */
static const char *
claim_id(arena_t *arena, const char *key, int64_t gen)
{
    return gen == 0 ? key : arena_printf(arena, "%s|%lld", key, (long long)gen);
}

static bool
read_claim(store_conn_t *conn, arena_t *arena, const store_kind_t *kind, const char *key,
           int64_t gen, claim_t *c, kt_error_t *err)
{
    bson_t doc = BSON_INITIALIZER; /* destroyed below even when no id could be made */
    bool found;
    const char *cid = claim_id(arena, key, gen);

    if (cid == NULL || !mongo_find_id(conn, CLAIMS, cid, &doc, &found, err)) {
        if (cid == NULL)
            kt_error_set(err, KT_DOMAIN_INTERNAL, KT_INTERNAL, "out of memory");
        bson_destroy(&doc);
        return false;
    }
    if (found) {
        const char *holder = util_get_str(&doc, kind->id_member);
        c->found = true;
        c->gen = gen;
        snprintf(c->holder, sizeof c->holder, "%s", holder ? holder : "");
        c->version = util_get_int(&doc, "version", 1);
        c->claimed_ms = util_get_int(&doc, "claimed_ms", 0);
    }
    bson_destroy(&doc);
    return true;
}

/* "<key>|latest" {gen}: a hint of a key's latest generation, written after
 * a generation is inserted. It may lag (or go back, two writers replacing it
 * at once), never lead: the search goes up from it. */
static const char *
hint_id(arena_t *arena, const char *key)
{
    return arena_printf(arena, "%s|latest", key);
}

static int64_t
read_hint(store_conn_t *conn, arena_t *arena, const char *key)
{
    const char *hid = hint_id(arena, key);
    kt_error_t ignored;
    bson_t doc = BSON_INITIALIZER; /* destroyed below even when no id could be made */
    bool found = false;
    int64_t gen = 0;

    if (hid != NULL && mongo_find_id(conn, CLAIMS, hid, &doc, &found, &ignored) && found)
        gen = util_get_int(&doc, "gen", 0);
    bson_destroy(&doc);
    return gen > 0 ? gen : 0;
}

static void
write_hint(store_conn_t *conn, arena_t *arena, const char *key, int64_t gen)
{
    const char *hid = hint_id(arena, key);
    kt_error_t ignored;
    bson_t doc = BSON_INITIALIZER;

    if (hid == NULL)
        return;
    BSON_APPEND_UTF8(&doc, "_id", hid);
    BSON_APPEND_INT64(&doc, "gen", gen);
    mongo_replace_id(conn, CLAIMS, hid, &doc, &ignored); /* a hint: failure is harmless */
    bson_destroy(&doc);
}

/* The latest claim of key, searching up from generation from (known to
 * exist, or 0: from the hint). Generation g+1 is only ever inserted by a
 * writer that read g, so generations have no holes: gallop up, then bisect. */
static bool gallop(store_conn_t *conn, arena_t *arena, const store_kind_t *kind, const char *key,
                   int64_t lo, claim_t *c, kt_error_t *err);

static bool
read_from_zero(store_conn_t *conn, arena_t *arena, const store_kind_t *kind, const char *key,
               claim_t *c, kt_error_t *err)
{
    if (!read_claim(conn, arena, kind, key, 0, c, err))
        return false;
    return !c->found || gallop(conn, arena, kind, key, 0, c, err);
}

static bool
latest_claim(store_conn_t *conn, arena_t *arena, const store_kind_t *kind, const char *key,
             int64_t from, claim_t *c, kt_error_t *err)
{
    int64_t lo = from;

    memset(c, 0, sizeof *c);
    if (lo == 0) { /* a key never claimed costs one lookup; the hint only after */
        if (!read_claim(conn, arena, kind, key, 0, c, err))
            return false;
        if (!c->found)
            return true;
        lo = read_hint(conn, arena, key);
        if (lo == 0)
            return gallop(conn, arena, kind, key, 0, c, err);
    }
    if (!read_claim(conn, arena, kind, key, lo, c, err))
        return false;
    if (!c->found) /* not where the hint or this write said: search from 0 */
        return read_from_zero(conn, arena, kind, key, c, err);
    return gallop(conn, arena, kind, key, lo, c, err);
}

/* From generation lo (found, in *c) up to the latest. */
static bool
gallop(store_conn_t *conn, arena_t *arena, const store_kind_t *kind, const char *key, int64_t lo,
       claim_t *c, kt_error_t *err)
{
    int64_t hi = -1, step = 1;

    while (hi < 0 || hi - lo > 1) {
        int64_t probe = hi < 0 ? lo + step : lo + (hi - lo) / 2;
        claim_t p = {0};
        if (!read_claim(conn, arena, kind, key, probe, &p, err))
            return false;
        if (p.found) {
            *c = p;
            lo = probe;
            step *= 2;
        } else {
            hi = probe;
        }
    }
    return true;
}

/* Does the claim c bind, that is, may its holder carry the key? Its holder
 * carries it now, or the version its writer was to insert is undecided
 * (not there yet) and the claim is younger than CLAIM_YOUTH_MS. The clock is
 * read before the holder: a writer that found its claim young enough inserts
 * its version before the claim can be judged old, so a reader that judges it
 * old sees that version. */
static bool
claim_binds(store_conn_t *conn, arena_t *arena, const store_kind_t *kind, const char *key,
            const claim_t *c, bool *binds, kt_error_t *err)
{
    int64_t now = feed_now_ms();
    record_t s;
    kt_error_t e;
    keyset_t ks;
    bool decided, carries;

    kt_error_clear(&e);
    record_init(&s);
    if (mongo_record_get(conn, kind, c->holder, &s, &e)) {
        keys_of(arena, kind, &s.doc, &ks);
        decided = s.version >= c->version;
        carries = !s.deleted && keys_has(&ks, key);
    } else if (e.code == KT_NOT_FOUND) {
        decided = carries = false; /* a create in flight, or one that died */
    } else {
        record_release(&s);
        *err = e;
        return false;
    }
    record_release(&s);
    *binds = carries || (!decided && now - c->claimed_ms < CLAIM_YOUTH_MS);
    return true;
}

static insert_result_t
insert_claim(store_conn_t *conn, arena_t *arena, const store_kind_t *kind, const char *key,
             int64_t gen, const char *id, int64_t version, int64_t *claimed_ms, kt_error_t *err)
{
    bson_t doc;
    const char *cid = claim_id(arena, key, gen);
    insert_result_t rc;

    *claimed_ms = feed_now_ms();
    if (cid == NULL) {
        kt_error_set(err, KT_DOMAIN_INTERNAL, KT_INTERNAL, "out of memory");
        return INSERT_FAILED;
    }
    bson_init(&doc);
    BSON_APPEND_UTF8(&doc, "_id", cid);
    BSON_APPEND_UTF8(&doc, "key", key);
    BSON_APPEND_INT64(&doc, "gen", gen);
    BSON_APPEND_UTF8(&doc, kind->id_member, id);
    BSON_APPEND_INT64(&doc, "version", version);
    BSON_APPEND_INT64(&doc, "claimed_ms", *claimed_ms);
    rc = mongo_insert(conn, CLAIMS, &doc, err);
    bson_destroy(&doc);
    return rc;
}

/* Takes key i of ks for version `version` of record id, or finds that this
 * write holds it already (the same version, claimed less than half the
 * youth ago). A claim that does not bind is taken over by inserting the
 * key's next generation; of two writers taking one over, exactly one
 * inserts it. Fills ks->gens[i] and ks->claimed[i]. */
static bool
claim(store_conn_t *conn, arena_t *arena, const store_kind_t *kind, keyset_t *ks, size_t i,
      const char *id, int64_t version, kt_error_t *err)
{
    const char *key = ks->keys[i];
    int64_t from = ks->gens[i] > 0 ? ks->gens[i] : 0;
    claim_t c = {0};
    bool look = !ks->unclaimed[i]; /* none_bound() saw no claim: try generation 0 first */

    for (int attempt = 0; attempt < CLAIM_TRIES; attempt++, look = true) {
        int64_t now = feed_now_ms(), claimed;
        bool binds = false;
        if (look && !latest_claim(conn, arena, kind, key, from, &c, err))
            return false;
        bool mine = c.found && strcmp(c.holder, id) == 0;
        if (mine && c.version == version && now - c.claimed_ms < CLAIM_YOUTH_MS / 2) {
            ks->gens[i] = c.gen;
            ks->claimed[i] = c.claimed_ms;
            return true;
        }
        if (c.found && !mine && !claim_binds(conn, arena, kind, key, &c, &binds, err))
            return false;
        if (binds) {
            store_duplicate_key(err, key, c.holder);
            return false;
        }
        int64_t next = c.found ? c.gen + 1 : 0;
        /* From this insert on, a crash leaves a claim whose version never
         * comes: it binds while younger than CLAIM_YOUTH_MS, then is stale
         * (crash state 2). A crash before the hint is written only leaves
         * the hint lagging, which the search up from it absorbs. */
        insert_result_t rc = insert_claim(conn, arena, kind, key, next, id, version, &claimed, err);
        if (rc == INSERT_OK) {
            if (next > 0)
                write_hint(conn, arena, key, next);
            ks->gens[i] = next;
            ks->claimed[i] = claimed;
            return true;
        }
        if (rc == INSERT_FAILED)
            return false;
        from = c.found ? c.gen : 0; /* another writer inserted `next` first: look again */
    }
    kt_error_set(err, KT_DOMAIN_STORE, KT_INTERNAL, "claim %s: too much contention", key);
    return false;
}

/* Before claiming anything: is any key the write adds bound to another
 * record? Then it is refused without having claimed the others (a claim
 * made for a write that is then refused would bind for CLAIM_YOUTH_MS, and
 * a corrected retry would meet it). Only reads; claim() decides for real. */
static bool
none_bound(store_conn_t *conn, arena_t *arena, const store_kind_t *kind, keyset_t *now,
           const keyset_t *before, const char *id, kt_error_t *err)
{
    for (size_t i = 0; i < now->n; i++) {
        bool binds = false;
        claim_t c;
        if (keys_has(before, now->keys[i]))
            continue;
        if (!latest_claim(conn, arena, kind, now->keys[i], 0, &c, err))
            return false;
        now->unclaimed[i] = !c.found;
        if (!c.found || strcmp(c.holder, id) == 0)
            continue;
        if (!claim_binds(conn, arena, kind, now->keys[i], &c, &binds, err))
            return false;
        if (binds) {
            store_duplicate_key(err, now->keys[i], c.holder);
            return false;
        }
    }
    return true;
}

/* Claims the keys of now that before lacks, for the version to be inserted. */
static bool
claim_new(store_conn_t *conn, arena_t *arena, const store_kind_t *kind, keyset_t *now,
          const keyset_t *before, const char *id, int64_t version, kt_error_t *err)
{
    for (size_t i = 0; i < now->n; i++) {
        if (keys_has(before, now->keys[i]))
            continue;
        if (!claim(conn, arena, kind, now, i, id, version, err))
            return false;
    }
    return true;
}

/* Just before the version is inserted: every claim this write holds must be
 * younger than half the youth, or be claimed again. Nobody can have taken a
 * younger one over: a claim whose version is undecided binds until it is
 * CLAIM_YOUTH_MS old, and one whose version was decided by another write of
 * this record makes the version insert fail anyway. So a writer that passes
 * this inserts its version before any other writer may judge its claims
 * stale (docs/storage.md, "Claims"), as long as the insert takes less than
 * the other half. */
static bool
claims_stand(store_conn_t *conn, arena_t *arena, const store_kind_t *kind, keyset_t *now,
             const char *id, int64_t version, kt_error_t *err)
{
    for (size_t i = 0; i < now->n; i++) {
        if (now->gens[i] < 0 || feed_now_ms() - now->claimed[i] < CLAIM_YOUTH_MS / 2)
            continue;
        if (!claim(conn, arena, kind, now, i, id, version, err))
            return false;
    }
    return true;
}

/* A create naming its id: the id must be free (the insert of version 1
 * decides a race; this read gives the common case its clear answer). */
static bool
id_free(store_conn_t *conn, const store_kind_t *kind, const char *id, kt_error_t *err)
{
    record_t s;
    kt_error_t e;
    bool ok;

    kt_error_clear(&e);
    record_init(&s);
    ok = mongo_record_get(conn, kind, id, &s, &e);
    record_release(&s);
    if (ok)
        store_duplicate_id(err, kind, id);
    else if (e.code != KT_NOT_FOUND)
        *err = e;
    return !ok && e.code == KT_NOT_FOUND;
}

/* Checks preconditions on the current version; fills cur (version 0 on create). */
static bool
load_current(store_conn_t *conn, const store_kind_t *kind, write_op_t wk, const char *id,
             int64_t expected, bool revive, record_t *cur, kt_error_t *err)
{
    if (wk == WRITE_CREATE)
        return id == NULL || id_free(conn, kind, id, err);
    if (!mongo_record_get(conn, kind, id, cur, err))
        return false;
    if (cur->deleted && !(revive && record_is_merged(cur))) {
        kt_error_set(err, KT_DOMAIN_INPUT, KT_GONE,
                     strcmp(kind->name, "organization") == 0 ? "the organization was deleted"
                     : strcmp(kind->name, "progress") == 0   ? "the progress record was deleted"
                                                             : "the student was deleted");
        return false;
    }
    if (expected != 0 && expected != cur->version) {
        kt_error_set(err, KT_DOMAIN_INPUT, KT_VERSION_CONFLICT,
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
insert_version(store_conn_t *conn, const record_args_t *a, const write_meta_t *meta,
               record_t *written, kt_error_t *err)
{
    bson_t rec;
    bool ok = store_build_record(&rec, a, meta);
    insert_result_t rc = ok ? mongo_insert(conn, a->kind->versions, &rec, err) : INSERT_FAILED;

    if (rc == INSERT_OK) {
        /* bson_copy_to and bson_steal initialise their destination without
         * destroying it: release what written held first. */
        record_release(written);
        snprintf(written->id, sizeof written->id, "%s", a->id);
        written->version = a->version;
        written->deleted = a->deleted;
        bson_copy_to(a->doc, &written->doc); /* a copy: a->doc stays the caller's */
        bson_steal(&written->record, &rec);  /* steals rec: not destroyed here */
    } else {
        bson_destroy(&rec);
    }
    if (!ok)
        kt_error_set(err, KT_DOMAIN_INTERNAL, KT_INTERNAL, "cannot hash the version");
    if (rc == INSERT_DUPLICATE && a->version == 1 && a->named_id) {
        store_duplicate_id(err, a->kind, a->id);
    } else if (rc == INSERT_DUPLICATE) {
        kt_error_set(err, KT_DOMAIN_INPUT, KT_VERSION_CONFLICT,
                     "another write created version %lld first", (long long)a->version);
        snprintf(err->ref, sizeof err->ref, "%lld", (long long)a->version);
    }
    return rc == INSERT_OK;
}

/* Step 3: the change-feed sequence of the version. */
static bool
reserve_feed(store_conn_t *conn, record_args_t *a, kt_error_t *err)
{
    feed_ticket_t ticket;
    const char *org = util_get_str(a->doc, "organization");
    /* A move: the school the student left learns it from its own feed. */
    const char *from = a->prev_doc != NULL ? util_get_str(a->prev_doc, "organization") : NULL;
    const char *kind = store_record_kind(a);

    /* A crash after this leaves a feed entry whose version never comes
     * (crash state 3): readers wait for it up to FEED_LEASE_MS, then skip it
     * as void. The same holds for the entry of a writer that loses step 4. */
    if (!mongo_feed_reserve(conn, a->id, a->version, kind, org, from, a->time, &ticket, err))
        return false;
    /* A reservation near its lease could be judged void by a reader; take another. */
    if (feed_now_ms() - ticket.reserved_ms > FEED_LEASE_MS / 2 &&
        !mongo_feed_reserve(conn, a->id, a->version, kind, org, from, a->time, &ticket, err))
        return false;
    a->seq = ticket.seq;
    return true;
}

/* The keys a write claims (step 2) and holds until its version is in. */
typedef struct {
    arena_t *arena;
    keyset_t *now;
} claims_t;

/* Steps 3–5: feed, version, head; just before the version, the claims of
 * step 2 are checked to stand (claims_stand(): the version is inserted only
 * by a writer that still holds its claims). */
static bool
append_version(store_conn_t *conn, record_args_t *a, const claims_t *cl, const write_meta_t *meta,
               kt_error_t *err)
{
    if (a->kind->feed && !reserve_feed(conn, a, err))
        return false;
    /* Step 4a. A refusal here (another student's claim binds by now) leaves
     * crash states 2 and 3: this write's claims go stale, its feed entry is
     * void. Nothing to undo. */
    if (!claims_stand(conn, cl->arena, a->kind, cl->now, a->id, a->version, err))
        return false;
    record_t written;
    kt_error_t ignored;
    record_init(&written);
    bool ok = insert_version(conn, a, meta, &written, err);
    if (ok) {
        /* Crash state 4: version N+1 is in, the head names N. Readers roll
         * forward to N+1 and move the head themselves (store_record_get);
         * `kontingentctl repair` moves every lagging head. The test build
         * dies exactly here on request (test_crash_between_version_and_head_is_completed). */
        store_fault_point(meta, "crash-after-version");
        mongo_move_head(conn, a->kind, &written, &ignored); /* a hint: failure is repaired later */
    }
    record_release(&written);
    return ok;
}

bool
mongo_record_write(store_conn_t *conn, const store_kind_t *kind, write_op_t wk, const char *id,
                   int64_t expected_version, const bson_t *doc, const write_meta_t *meta,
                   write_result_t *out, kt_error_t *err)
{
    arena_t *arena = arena_new(0);
    record_t cur;
    keyset_t before = {0}, now = {0};
    char time[32], new_id[STUDENT_ID_LEN + 1];
    bool ok = false;

    record_init(&cur);
    memset(out, 0, sizeof *out);
    /* Step 1: reads only; a failure or crash from here to the first claim
     * leaves nothing behind (crash state 1). */
    if (arena == NULL ||
        !load_current(conn, kind, wk, id, expected_version, meta->revive, &cur, err))
        goto done;
    if (wk == WRITE_CREATE && id == NULL)
        util_uuid(new_id);
    else
        snprintf(new_id, sizeof new_id, "%s", wk == WRITE_CREATE ? id : cur.id);
    snprintf(out->id, sizeof out->id, "%s", new_id);
    /* A delete stores the current document again, state DELETED. new_doc
     * (and a.prev_doc, a.prev_hash below) borrow from cur, which lives until
     * done:. */
    const bson_t *new_doc = wk == WRITE_DELETE ? &cur.doc : doc;
    /* An update to an equal document writes nothing, so a retried request
     * or a package item sent twice adds no version and no feed entry. */
    if (wk == WRITE_UPDATE && !cur.deleted && meta->version_kind == NULL &&
        store_same_document(&cur.doc, new_doc)) {
        out->version = cur.version;
        out->unchanged = true;
        ok = true;
        goto done;
    }
    /* Only the keys the new document adds are claimed: those version N
     * carries already bind through it, whatever their claim's age. A delete
     * claims nothing, and its keys' claims go stale with it. */
    if (wk != WRITE_CREATE && !cur.deleted) /* a revived record carries no keys */
        keys_of(arena, kind, &cur.doc, &before);
    if (wk != WRITE_DELETE)
        keys_of(arena, kind, new_doc, &now);
    /* Step 2: none_bound() only reads, so a 409 for one key leaves no claim
     * on the others; claim_new() inserts, and a failure after its first
     * insert leaves crash state 2 — not undone, because a claim is never
     * deleted (another write of this record may rely on it). */
    if (!none_bound(conn, arena, kind, &now, &before, new_id, err) ||
        !claim_new(conn, arena, kind, &now, &before, new_id, cur.version + 1, err))
        goto done;
    util_time_now(time);
    record_args_t a = {
        .kind = kind,
        .id = new_id,
        .version = cur.version + 1,
        .op = wk,
        .deleted = wk == WRITE_DELETE,
        .time = time,
        .doc = new_doc,
        .prev_doc = wk == WRITE_CREATE ? NULL : &cur.doc,
        .prev_hash = wk == WRITE_CREATE ? "" : util_get_str(&cur.record, "hash"),
        .named_id = wk == WRITE_CREATE && id != NULL,
        .identity_change = meta->identity_change,
        .version_kind = meta->version_kind,
        .state = meta->state,
    };
    if (a.prev_hash == NULL)
        a.prev_hash = "";
    claims_t cl = {arena, &now};
    if (!append_version(conn, &a, &cl, meta, err))
        goto done;
    out->version = a.version;
    ok = true;
done:
    record_release(&cur);
    arena_free(arena);
    return ok;
}

/* Two writes in order, each the protocol above; there is no transaction, so
 * a failure (or a crash) after the first leaves it standing: the duplicate
 * merged and the survivor not yet combined, or the survivor unmerged and
 * the duplicate not yet restored. Both read correctly, verify reports the
 * pair as incomplete, and the request sent again completes it
 * (service/merge.c; docs/storage.md, "Two-record writes"). */
bool
mongo_record_write_pair(store_conn_t *conn, const store_kind_t *kind, const write_side_t sides[2],
                        write_result_t out[2], kt_error_t *err)
{
    memset(out, 0, 2 * sizeof *out);
    for (int i = 0; i < 2; i++) {
        const write_side_t *s = &sides[i];
        if (s->id == NULL || s->expected_version <= 0 || s->op == WRITE_CREATE) {
            kt_error_set(err, KT_DOMAIN_INTERNAL, KT_INTERNAL, "a pair write names two versions");
            return false;
        }
        if (!mongo_record_write(conn, kind, s->op, s->id, s->expected_version, s->doc, s->meta,
                                &out[i], err))
            return false;
        if (i == 0) /* the test build dies here on request: the first side stands alone */
            store_fault_point(s->meta, "crash-between-sides");
    }
    return true;
}

bool
mongo_claim_holder(store_conn_t *conn, const char *key, char *id, kt_error_t *err)
{
    arena_t *arena = arena_new(0);
    claim_t c;
    bool ok;

    id[0] = '\0';
    if (arena == NULL) {
        kt_error_set(err, KT_DOMAIN_INTERNAL, KT_INTERNAL, "out of memory");
        return false;
    }
    ok = latest_claim(conn, arena, &store_kind_student, key, 0, &c, err);
    if (ok && c.found && strlen(c.holder) == STUDENT_ID_LEN)
        memcpy(id, c.holder, STUDENT_ID_LEN + 1);
    arena_free(arena);
    return ok;
}

/* Claims one key of an active record's current version, unless it holds the
 * latest claim already; *held false when another record's claim binds. */
static bool
restore_key(store_conn_t *conn, arena_t *arena, const store_kind_t *kind, const record_t *s,
            const char *key, bool *restored, bool *held, kt_error_t *err)
{
    bool binds = false;
    claim_t c;

    *restored = false;
    *held = true;
    if (!latest_claim(conn, arena, kind, key, 0, &c, err))
        return false;
    if (c.found && strcmp(c.holder, s->id) == 0)
        return true;
    if (c.found && !claim_binds(conn, arena, kind, key, &c, &binds, err))
        return false;
    if (binds) {
        *held = false;
        return true;
    }
    int64_t next = c.found ? c.gen + 1 : 0;
    int64_t claimed;
    insert_result_t rc =
        insert_claim(conn, arena, kind, key, next, s->id, s->version, &claimed, err);
    if (rc == INSERT_OK && next > 0)
        write_hint(conn, arena, key, next);
    *restored = rc == INSERT_OK;
    return rc != INSERT_FAILED;
}

bool
mongo_claims_restore(store_conn_t *conn, const store_kind_t *kind, const record_t *s,
                     long *restored, long *contested, kt_error_t *err)
{
    arena_t *arena;
    keyset_t ks;
    bool ok = true;

    if (kind->claim_keys == NULL || s->deleted || s->version == 0)
        return true;
    if ((arena = arena_new(0)) == NULL) {
        kt_error_set(err, KT_DOMAIN_INTERNAL, KT_INTERNAL, "out of memory");
        return false;
    }
    keys_of(arena, kind, &s->doc, &ks);
    for (size_t i = 0; ok && i < ks.n; i++) {
        bool done = false, held = true;
        ok = restore_key(conn, arena, kind, s, ks.keys[i], &done, &held, err);
        *restored += done;
        *contested += !held;
    }
    arena_free(arena);
    return ok;
}
