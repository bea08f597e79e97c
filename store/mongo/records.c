/*
 * records: the MongoDB implementation's reads of versioned records, which
 * roll the head forward (every kind of store/kind.h: students,
 * organisations), the searches by head members, and the collections and
 * indexes it prepares. The write protocol is write.c's; both are described
 * in docs/storage.md.
 */
#include "store/mongo/mongo.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>

#include "core/arena.h"
#include "core/buf.h"
#include "model/codec.h"
#include "model/diff.h"
#include "model/student.h"
#include "store/feed.h"
#include "store/store.h"
#include "store/util.h"

/* Loads version n into out; *found false when it does not exist. */
bool
mongo_load_version(store_conn_t *conn, const store_kind_t *kind, const char *id, int64_t n,
                   record_t *out, bool *found, kt_error_t *err)
{
    char vid[64];
    bson_iter_t it;
    uint32_t len = 0;
    const uint8_t *data = NULL;

    store_version_id(id, n, vid);
    /* util_find_id initialises record on every path, found or not, failed or
     * not: destroy what out held first, and out stays releasable after. */
    bson_destroy(&out->record);
    if (!mongo_find_id(conn, kind->versions, vid, &out->record, found, err))
        return false;
    if (!*found)
        return true;
    bson_destroy(&out->doc);
    if (bson_iter_init_find(&it, &out->record, "doc") && BSON_ITER_HOLDS_DOCUMENT(&it)) {
        bson_t view;
        bson_iter_document(&it, &len, &data);
        bson_init_static(&view, data, len); /* borrows record's bytes */
        bson_copy_to(&view, &out->doc);     /* a copy: doc outlives a reload of record */
    } else {
        bson_init(&out->doc);
    }
    snprintf(out->id, sizeof out->id, "%s", id);
    out->version = n;
    const char *state = util_get_str(&out->record, "state");
    out->deleted = state != NULL && strcmp(state, "ACTIVE") != 0; /* DELETED, MERGED */
    return true;
}

/* The head document: version, state, the kind's search members, time. */
static void
head_doc(const store_kind_t *kind, const record_t *s, bson_t *head)
{
    bson_init(head);
    BSON_APPEND_UTF8(head, "_id", s->id);
    BSON_APPEND_INT64(head, "version", s->version);
    BSON_APPEND_UTF8(head, "state", record_state(s));
    kind->head_keys(&s->doc, head);
    BSON_APPEND_UTF8(head, "updated_at", util_get_str(&s->record, "time"));
}

bool
mongo_move_head(store_conn_t *conn, const store_kind_t *kind, const record_t *s, kt_error_t *err)
{
    bson_t head;

    head_doc(kind, s, &head);
    bool ok = mongo_replace_id(conn, kind->heads, s->id, &head, err);
    bson_destroy(&head);
    return ok;
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

bool
mongo_record_get(store_conn_t *conn, const store_kind_t *kind, const char *id, record_t *out,
                 kt_error_t *err)
{
    bson_t head;
    bool found = false, ok;
    int64_t hint = 0, n;

    if (!kind->valid_id(id)) {
        not_found(err, kind, "");
        return false;
    }
    if (!mongo_find_id(conn, kind->heads, id, &head, &found, err))
        return false;
    hint = found ? util_get_int(&head, "version", 0) : 0;
    bson_destroy(&head);
    /* Roll forward: the head is a hint; version hint+1 may already exist. */
    for (n = hint > 0 ? hint : 1;; n++) {
        record_t probe;
        record_init(&probe);
        ok = mongo_load_version(conn, kind, id, n, &probe, &found, err);
        if (ok && found) {
            record_move(out, &probe); /* steals probe's bson_ts: no release */
            continue;
        }
        record_release(&probe);
        if (!ok)
            return false;
        break;
    }
    if (out->version == 0) {
        not_found(err, kind, "");
        return false;
    }
    /* A version past the head is crash state 4 of the write protocol
     * (write.c): the writer died, or failed, after the version and before
     * the head. The reader finishes its step 5; a failure is harmless. */
    if (out->version != hint) {
        kt_error_t ignored;
        mongo_move_head(conn, kind, out, &ignored); /* complete an interrupted write */
    }
    return true;
}

bool
mongo_record_get_version(store_conn_t *conn, const store_kind_t *kind, const char *id, int64_t n,
                         record_t *out, kt_error_t *err)
{
    bool found = false;

    if (kind->valid_id(id) && n >= 1) {
        if (!mongo_load_version(conn, kind, id, n, out, &found, err))
            return false;
        if (found)
            return true;
    }
    kt_error_set(err, KT_DOMAIN_INPUT, KT_NOT_FOUND, "no such version");
    return false;
}

/* Binary search for the last version whose time is ≤ as_of. It relies on
 * times growing with versions: version N+1 is stamped after its writer read
 * version N, and the writers' clocks agree (one machine, or NTP; the claims'
 * youth assumes the same, docs/storage.md). */
bool
mongo_record_as_of(store_conn_t *conn, const store_kind_t *kind, const char *id, const char *as_of,
                   record_t *out, kt_error_t *err)
{
    record_t probe;
    int64_t lo = 1, hi, best = 0;
    bool found;

    if (!mongo_record_get(conn, kind, id, out, err))
        return false;
    hi = out->version;
    while (lo <= hi) {
        int64_t mid = lo + (hi - lo) / 2;
        record_init(&probe);
        if (!mongo_load_version(conn, kind, id, mid, &probe, &found, err)) {
            record_release(&probe);
            return false;
        }
        const char *t = found ? util_get_str(&probe.record, "time") : NULL;
        if (t != NULL && strcmp(t, as_of) <= 0) {
            best = mid;
            lo = mid + 1;
        } else {
            hi = mid - 1;
        }
        record_release(&probe);
    }
    if (best == 0) {
        not_found(err, kind, " at that time");
        return false;
    }
    if (best == out->version)
        return true;
    record_release(out); /* out held the current version: load the earlier one in its place */
    record_init(out);
    return mongo_load_version(conn, kind, id, best, out, &found, err) && found;
}

/* Appends {_id: {$gt: after}} when after is given. */
static void
append_after(bson_t *filter, const char *after)
{
    bson_t range;

    if (after == NULL)
        return;
    BSON_APPEND_DOCUMENT_BEGIN(filter, "_id", &range);
    BSON_APPEND_UTF8(&range, "$gt", after);
    bson_append_document_end(filter, &range);
}

bool
mongo_record_find_ids(store_conn_t *conn, const store_kind_t *kind, const bson_t *filter,
                      const char *after, int limit, char (*ids)[40], int *n, kt_error_t *err)
{
    bson_t f = BSON_INITIALIZER, opts = BSON_INITIALIZER, sort, proj;
    util_strings_t found = {"_id", (char *)ids, sizeof *ids, limit, 0};
    bool ok;

    bson_concat(&f, filter);
    BSON_APPEND_UTF8(&f, "state", "ACTIVE");
    append_after(&f, after);
    BSON_APPEND_DOCUMENT_BEGIN(&opts, "sort", &sort);
    BSON_APPEND_INT32(&sort, "_id", 1);
    bson_append_document_end(&opts, &sort);
    BSON_APPEND_DOCUMENT_BEGIN(&opts, "projection", &proj);
    BSON_APPEND_INT32(&proj, "_id", 1);
    bson_append_document_end(&opts, &proj);
    BSON_APPEND_INT64(&opts, "limit", limit);
    ok = mongo_each(conn, kind->heads, &f, &opts, util_collect_string, &found, err);
    *n = found.n;
    bson_destroy(&f);
    bson_destroy(&opts);
    return ok;
}

/* Appends the key document of spec, "a,b,_id" → {a: 1, b: 1, _id: 1}, and
 * names the index after it ("a_b__id"). */
static void
index_spec(bson_t *idx, const char *spec)
{
    char name[128], field[64];
    bson_t key;
    size_t n = 0;

    BSON_APPEND_DOCUMENT_BEGIN(idx, "key", &key);
    for (const char *p = spec; *p != '\0';) {
        size_t len = strcspn(p, ",");
        snprintf(field, sizeof field, "%.*s", (int)len, p);
        BSON_APPEND_INT32(&key, field, 1);
        p += len + (p[len] == ',');
    }
    bson_append_document_end(idx, &key);
    for (const char *p = spec; *p != '\0' && n + 1 < sizeof name; p++)
        name[n++] = *p == ',' ? '_' : *p;
    name[n] = '\0';
    BSON_APPEND_UTF8(idx, "name", name);
}

/* Creates one index of coll (spec: a comma-separated compound key). */
static bool
create_index(mongoc_database_t *d, const char *coll, const char *spec, kt_error_t *err)
{
    bson_t cmd = BSON_INITIALIZER, arr, idx;
    bson_error_t error;
    bool ok;

    BSON_APPEND_UTF8(&cmd, "createIndexes", coll);
    BSON_APPEND_ARRAY_BEGIN(&cmd, "indexes", &arr);
    BSON_APPEND_DOCUMENT_BEGIN(&arr, "0", &idx);
    index_spec(&idx, spec);
    bson_append_document_end(&arr, &idx);
    bson_append_array_end(&cmd, &arr);
    ok = mongoc_database_write_command_with_opts(d, &cmd, NULL, NULL, &error);
    if (!ok)
        mongo_error(err, &error, coll);
    bson_destroy(&cmd);
    return ok;
}

/* Creates the indexes of coll, each a comma-separated compound key — one
 * createIndexes command per index. FerretDB 1.24 panics ("slice bounds out
 * of range", validateIndexesForCreation in msg_createindexes.go) when one
 * command names two or more indexes that exist already: it drops each
 * existing one from its list by its position in the request, which the
 * first deletion shifted (FerretDB issue #3858). With one index a command,
 * an index that exists is simply "all indexes already exist", so every
 * start (and every `kontingentctl init`) after the first is harmless. */
static bool
create_indexes(store_conn_t *conn, const char *coll, const char *const *specs, kt_error_t *err)
{
    mongoc_database_t *d = mongo_database(conn);
    bool ok = true;

    for (int i = 0; ok && specs[i] != NULL; i++)
        ok = create_index(d, coll, specs[i], err);
    mongoc_database_destroy(d);
    return ok;
}

static bool
create_collection(mongoc_database_t *d, const char *name, kt_error_t *err)
{
    bson_t cmd = BSON_INITIALIZER;
    bson_error_t error;
    bool ok = true;

    BSON_APPEND_UTF8(&cmd, "create", name);
    /* 48 NamespaceExists: created before, as expected on every start but the first. */
    if (!mongoc_database_write_command_with_opts(d, &cmd, NULL, NULL, &error) && error.code != 48) {
        mongo_error(err, &error, name);
        ok = false;
    }
    bson_destroy(&cmd);
    return ok;
}

/* Every collection exists from the start, so that operators (and the
 * scripts' FerretDB _id expression indexes, docs/storage.md) find them all. */
static bool
create_collections(store_conn_t *conn, kt_error_t *err)
{
    static const char *const names[] = {"student_versions", "students",
                                        "claims",           "changes",
                                        "counters",         "access_log",
                                        "verify_runs",      "packages",
                                        "package_items",    "package_chunks",
                                        "package_leases",   "package_receipts",
                                        "dup_pairs",        NULL};
    static const char *const org_names[] = {"organization_versions", "organizations",
                                            "progress_versions", "progress", NULL};
    mongoc_database_t *d = mongo_database(conn);
    bool ok = true;

    for (int i = 0; ok && names[i] != NULL; i++)
        ok = create_collection(d, names[i], err);
    for (int i = 0; ok && org_names[i] != NULL; i++)
        ok = create_collection(d, org_names[i], err);
    mongoc_database_destroy(d);
    return ok;
}

bool
mongo_prepare(store_conn_t *conn, kt_error_t *err)
{
    /* Each serves a query's equality members, then its sort (docs/storage.md,
     * "MongoDB"): lists and searches page by _id among active heads, the
     * access log pages newest first by _id, the auditors' "what did this
     * principal change" by feed sequence, export by school in version order. */
    static const char *const heads[] = {"organization,state,_id", "name_key,state,_id",
                                        "snils,state,_id", "dup_last_date,state,_id",
                                        "dup_first_date,state,_id", "dup_names_year,state,_id",
                                        /* multikey: an array of the representatives' */
                                        "representative_snils,state,_id", NULL};
    static const char *const access[] = {"students,_id", "subject,_id", NULL};
    static const char *const orgs[] = {"oktmo,state,_id",  "type,state,_id", "status,state,_id",
                                       "parent,state,_id", "state,_id",      NULL};
    static const char *const versions[] = {"principal.subject,seq", "doc.organization,_id", "time",
                                           NULL};
    static const char *const pairs[] = {"organizations,state,created,_id",
                                        "municipalities,state,created,_id", "state,created,_id",
                                        NULL};
    /* Progress (store/progress.h): a student's years, a school's records,
     * export by school and the reports' time bound. */
    static const char *const progress[] = {"student_id,state,_id", "organization,year,state,_id",
                                           NULL};
    static const char *const progress_versions[] = {"doc.organization,_id", "time", NULL};

    return create_collections(conn, err) &&
           create_indexes(conn, store_kind_student.heads, heads, err) &&
           create_indexes(conn, "access_log", access, err) &&
           create_indexes(conn, store_kind_organization.heads, orgs, err) &&
           create_indexes(conn, store_kind_student.versions, versions, err) &&
           create_indexes(conn, DUP_PAIRS, pairs, err) &&
           create_indexes(conn, store_kind_progress.heads, progress, err) &&
           create_indexes(conn, store_kind_progress.versions, progress_versions, err);
}
