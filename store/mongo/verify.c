/* verify: chain and head checks, the duplicate-key report, and repair of
 * interrupted writes, for every kind of versioned record (students, then
 * organisations). */
#include "store/mongo/mongo.h"

#include <string.h>

#include "core/arena.h"
#include "core/strmap.h"
#include "model/student.h"
#include "store/store.h"
#include "store/records.h"
#include "store/util.h"

/* The feed entry at the version's sequence must name this version. */
static bool
check_feed(store_conn_t *conn, const record_t *v, char *problem, kt_error_t *err, bool *ok)
{
    char sid[24];
    bson_t entry;
    bool found;

    *ok = true;
    snprintf(sid, sizeof sid, "%020lld", (long long)util_get_int(&v->record, "seq", 0));
    if (!mongo_find_id(conn, "changes", sid, &entry, &found, err))
        return false;
    const char *student = found ? util_get_str(&entry, "student_id") : NULL;
    if (student == NULL || strcmp(student, v->id) != 0 ||
        util_get_int(&entry, "version", 0) != v->version) {
        snprintf(problem, 256, "version %lld has no change-feed entry", (long long)v->version);
        *ok = false;
    }
    bson_destroy(&entry);
    return true;
}

/* verify_record, keeping the last version read in *last (when not NULL). */
static bool
verify_chain(store_conn_t *conn, const store_kind_t *kind, const char *id, long *versions,
             bool *head_lags, int64_t *bad_version, char *problem, record_t *last, kt_error_t *err)
{
    char prev_hash[65] = "";
    bson_t head;
    bool found = true, ok = true, linked = true;
    int64_t n;

    *versions = 0;
    *bad_version = 0;
    problem[0] = '\0';
    for (n = 1; found && linked; n++) {
        record_t v;
        record_init(&v);
        ok = mongo_load_version(conn, kind, id, n, &v, &found, err);
        if (ok && found) {
            linked = store_check_link(kind, &v, id, n, prev_hash, problem);
            if (linked && kind->feed)
                ok = check_feed(conn, &v, problem, err, &linked);
            snprintf(prev_hash, sizeof prev_hash, "%s", util_get_str(&v.record, "hash") ?: "");
            (*versions)++;
        }
        if (ok && found && last != NULL)
            record_move(last, &v); /* steals v: last is the newest version read so far */
        else
            record_release(&v);
        if (!ok)
            return false;
        if (!linked)
            *bad_version = n;
    }
    if (!mongo_find_id(conn, kind->heads, id, &head, &found, err))
        return false;
    int64_t head_version = found ? util_get_int(&head, "version", 0) : 0;
    bson_destroy(&head);
    *head_lags = head_version < *versions;
    if (linked && head_version > *versions) {
        snprintf(problem, 256, "the head names version %lld, which does not exist",
                 (long long)head_version);
        *bad_version = head_version;
    }
    return true;
}

bool
mongo_verify_record(store_conn_t *conn, const store_kind_t *kind, const char *id, long *versions,
                    bool *head_lags, int64_t *bad_version, char *problem, kt_error_t *err)
{
    return verify_chain(conn, kind, id, versions, head_lags, bad_version, problem, NULL, err);
}

typedef bool (*id_visit_fn)(store_conn_t *conn, const store_kind_t *kind, const char *id, FILE *out,
                            verify_report_t *r, kt_error_t *err);

typedef struct {
    store_conn_t *conn;
    const store_kind_t *kind;
    id_visit_fn fn;
    FILE *out;
    verify_report_t *r;
    kt_error_t *err;
    bool ok;
} each_t;

static bool
visit_version_one(void *ctx, const bson_t *doc)
{
    each_t *e = ctx;
    const char *id = util_get_str(doc, e->kind->id_member);

    if (id != NULL)
        e->ok = e->fn(e->conn, e->kind, id, e->out, e->r, e->err);
    return e->ok;
}

/* Every record that ever existed has a version 1. */
static bool
each_record(store_conn_t *conn, const store_kind_t *kind, id_visit_fn fn, FILE *out,
            verify_report_t *r, kt_error_t *err)
{
    bson_t filter = BSON_INITIALIZER, opts = BSON_INITIALIZER, proj;
    each_t e = {conn, kind, fn, out, r, err, true};
    bool ok;

    BSON_APPEND_INT64(&filter, "version", 1);
    BSON_APPEND_DOCUMENT_BEGIN(&opts, "projection", &proj);
    BSON_APPEND_INT32(&proj, kind->id_member, 1);
    bson_append_document_end(&opts, &proj);
    ok = mongo_each(conn, kind->versions, &filter, &opts, visit_version_one, &e, err);
    bson_destroy(&filter);
    bson_destroy(&opts);
    return ok && e.ok;
}

/* Records the claim keys of an active student's current version; a key that
 * another active student carries already is a duplicate (docs/storage.md). */
static bool
note_keys(const store_kind_t *kind, const record_t *cur, FILE *out, verify_report_t *r,
          kt_error_t *err)
{
    const char *keys[STUDENT_DOCUMENTS_MAX + 1];
    arena_t *arena;
    size_t n;
    bool ok = true;

    if (kind->claim_keys == NULL || cur->deleted || cur->version == 0)
        return true;
    if ((arena = arena_new(0)) == NULL)
        goto full;
    n = kind->claim_keys(arena, &cur->doc, keys, sizeof keys / sizeof *keys);
    for (size_t i = 0; ok && i < n; i++) {
        bool created;
        char *holder = strmap_put(r->claim_keys, keys[i], &created);
        if (holder == NULL)
            ok = false;
        else if (created)
            snprintf(holder, STUDENT_ID_LEN + 1, "%s", cur->id);
        else if (strcmp(holder, cur->id) != 0) {
            r->duplicates++;
            fprintf(out, "DUPLICATE %s carried by the active students %s and %s\n",
                    store_key_kind(keys[i]), holder, cur->id);
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
verify_one(store_conn_t *conn, const store_kind_t *kind, const char *id, FILE *out,
           verify_report_t *r, kt_error_t *err)
{
    char problem[256];
    long versions = 0;
    bool lags = false;
    int64_t bad = 0;
    record_t cur;

    record_init(&cur);
    char pair[256];
    bool unpaired = false;
    bool ok = verify_chain(conn, kind, id, &versions, &lags, &bad, problem, &cur, err) &&
              note_keys(kind, &cur, out, r, err) &&
              (problem[0] != '\0' || store_pair_check(conn, kind, &cur, &unpaired, pair, err));
    record_release(&cur);
    if (!ok)
        return false;
    store_verify_count(kind, r, versions);
    if (problem[0] != '\0') {
        r->broken++;
        if (r->listed < VERIFY_LIST_MAX && kind == &store_kind_student)
            snprintf(r->broken_ids[r->listed++], sizeof r->broken_ids[0], "%s", id);
        fprintf(out, "BROKEN %s %s at version %lld: %s\n", kind->name, id, (long long)bad, problem);
    } else if (lags) {
        r->incomplete++;
        fprintf(out, "INCOMPLETE %s %s: the head lags its versions (run repair)\n", kind->name, id);
    }
    if (problem[0] == '\0' && unpaired) {
        r->incomplete++;
        fprintf(out, "INCOMPLETE %s %s: %s\n", kind->name, id, pair);
    }
    return true;
}

static const store_kind_t *const verify_kinds[] = {&store_kind_student, &store_kind_organization,
                                                   &store_kind_progress};

static void
store_last_run(store_conn_t *conn, const verify_report_t *r)
{
    bson_t doc;
    kt_error_t ignored;

    store_verify_summary(r, &doc);
    mongo_replace_id(conn, "verify_runs", "last", &doc, &ignored);
    bson_destroy(&doc);
}

bool
mongo_verify_all(store_conn_t *conn, FILE *out, verify_report_t *r, kt_error_t *err)
{
    bool ok = true;

    memset(r, 0, sizeof *r);
    r->claim_keys = strmap_new(STUDENT_ID_LEN + 1, VERIFY_KEYS_MAX_BYTES);
    if (r->claim_keys == NULL) {
        kt_error_set(err, KT_DOMAIN_INTERNAL, KT_INTERNAL, "verify: no memory");
        return false;
    }
    for (size_t i = 0; ok && i < sizeof verify_kinds / sizeof *verify_kinds; i++)
        ok = each_record(conn, verify_kinds[i], verify_one, out, r, err);
    strmap_free(r->claim_keys);
    r->claim_keys = NULL;
    if (ok)
        store_last_run(conn, r);
    return ok;
}

bool
mongo_verify_last_run(store_conn_t *conn, bson_t *out, bool *found, kt_error_t *err)
{
    return mongo_find_id(conn, "verify_runs", "last", out, found, err);
}

/* Whether the head carries every search member the kind gives the current
 * document (a head written before a member was added lacks it: the
 * duplicate search's blocking keys, docs/duplicates.md). */
static bool
members_agree(const store_kind_t *kind, const record_t *s, const bson_t *head)
{
    bson_t want = BSON_INITIALIZER;
    bson_iter_t it;
    bool agree = true;

    if (!s->deleted)
        kind->head_keys(&s->doc, &want);
    if (bson_iter_init(&it, &want))
        while (agree && bson_iter_next(&it)) {
            const char *have = util_get_str(head, bson_iter_key(&it));
            agree = !BSON_ITER_HOLDS_UTF8(&it) ||
                    (have != NULL && strcmp(have, bson_iter_utf8(&it, NULL)) == 0);
        }
    bson_destroy(&want);
    return agree;
}

static bool
repair_one(store_conn_t *conn, const store_kind_t *kind, const char *id, FILE *out,
           verify_report_t *r, kt_error_t *err)
{
    bson_t head;
    bool found, members;
    record_t s;

    if (!mongo_find_id(conn, kind->heads, id, &head, &found, err))
        return false;
    int64_t before = found ? util_get_int(&head, "version", 0) : 0;
    record_init(&s);
    bool ok = mongo_record_get(conn, kind, id, &s, err) && /* rolls forward, moves the head */
              mongo_claims_restore(conn, kind, &s, &r->claims_restored, &r->claims_contested, err);
    members = !ok || s.version != before || members_agree(kind, &s, &head);
    bson_destroy(&head);
    if (ok && !members) /* the head is current but older than its members */
        ok = mongo_move_head(conn, kind, &s, err);
    if (ok && (s.version != before || !members)) {
        r->repaired++;
        fprintf(out, "REPAIRED %s %s: head %lld → %lld\n", kind->name, id, (long long)before,
                (long long)s.version);
    }
    store_verify_count(kind, r, 0);
    record_release(&s);
    return ok;
}

bool
mongo_verify_repair_all(store_conn_t *conn, FILE *out, verify_report_t *r, kt_error_t *err)
{
    memset(r, 0, sizeof *r);
    for (size_t i = 0; i < sizeof verify_kinds / sizeof *verify_kinds; i++)
        if (!each_record(conn, verify_kinds[i], repair_one, out, r, err))
            return false;
    return true;
}

bool
mongo_verify_count(store_conn_t *conn, long *records, kt_error_t *err)
{
    bson_t filter = BSON_INITIALIZER;
    bson_error_t error;
    bool ok = true;

    *records = 0;
    for (size_t i = 0; ok && i < sizeof verify_kinds / sizeof *verify_kinds; i++) {
        mongoc_collection_t *c = mongo_collection(conn, verify_kinds[i]->heads);
        int64_t n = mongoc_collection_count_documents(c, &filter, NULL, NULL, NULL, &error);

        if (n < 0) {
            mongo_error(err, &error, verify_kinds[i]->heads);
            ok = false;
        } else {
            *records += (long)n;
        }
        mongoc_collection_destroy(c);
    }
    bson_destroy(&filter);
    return ok;
}
