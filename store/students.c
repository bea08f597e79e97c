/*
 * students: reads of versioned records that roll the head forward (for every
 * kind of store/kind.h: students, organisations), and the student kind.
 * The write protocol is write.c's; both are described in docs/storage.md.
 */
#include "store/students.h"

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

static const char *const kind_names[KIND__MAX] = {"create", "update", "delete"};

const char *
store_kind_name(write_kind_t kind)
{
    return kind < KIND__MAX ? kind_names[kind] : "update";
}

void
student_init(student_t *s)
{
    memset(s, 0, sizeof *s);
    bson_init(&s->doc);
    bson_init(&s->record);
}

void
student_release(student_t *s)
{
    bson_destroy(&s->doc);
    bson_destroy(&s->record);
}

/* A bson_t must never be copied by assignment (it points into itself):
 * its contents are stolen instead. src is left released. */
void
student_move(student_t *dst, student_t *src)
{
    student_release(dst);
    memcpy(dst->id, src->id, sizeof dst->id);
    dst->version = src->version;
    dst->deleted = src->deleted;
    bson_steal(&dst->doc, &src->doc);
    bson_steal(&dst->record, &src->record);
}

void
store_version_id(const char *id, int64_t n, char out[64])
{
    snprintf(out, 64, "%s:%010lld", id, (long long)n);
}

/* Loads version n into out; *found false when it does not exist. */
bool
store_load_version(mongoc_client_t *client, const char *db, const store_kind_t *kind,
                   const char *id, int64_t n, student_t *out, bool *found, kt_error_t *err)
{
    char vid[64];
    bson_iter_t it;
    uint32_t len = 0;
    const uint8_t *data = NULL;

    store_version_id(id, n, vid);
    /* util_find_id initialises record on every path, found or not, failed or
     * not: destroy what out held first, and out stays releasable after. */
    bson_destroy(&out->record);
    if (!util_find_id(client, db, kind->versions, vid, &out->record, found, err))
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
    out->deleted = state != NULL && strcmp(state, "DELETED") == 0;
    return true;
}

/* The student head's search members: organisation, СНИЛС, name + birth date. */
static void
student_head_keys(const bson_t *doc, bson_t *head)
{
    const char *org = util_get_str(doc, "organization");
    const char *snils = util_get_str(doc, "snils");
    const char *ln = util_get_str(doc, "last_name");
    const char *fn = util_get_str(doc, "first_name");
    const char *bd = util_get_str(doc, "birth_date");
    char name_key[512];

    snprintf(name_key, sizeof name_key, "%s|%s|%s", ln ? ln : "", fn ? fn : "", bd ? bd : "");
    BSON_APPEND_UTF8(head, "organization", org ? org : "");
    BSON_APPEND_UTF8(head, "snils", snils ? snils : "");
    BSON_APPEND_UTF8(head, "name_key", name_key);
}

/* Claim keys of a student: "snils:<11 digits>", "doc:<TYPE|SERIES|NUMBER>". */
static size_t
student_claim_keys(arena_t *arena, const bson_t *doc, const char **keys, size_t max)
{
    const char *snils = NULL;
    const char *docs[STUDENT_DOCUMENTS_MAX];
    size_t nd = student_keys(arena, doc, &snils, docs, STUDENT_DOCUMENTS_MAX), n = 0;

    if (snils != NULL && snils[0] != '\0' && n < max)
        keys[n++] = arena_printf(arena, "snils:%s", snils);
    for (size_t i = 0; i < nd && n < max; i++)
        keys[n++] = arena_printf(arena, "doc:%s", docs[i]);
    return n;
}

const store_kind_t store_kind_student = {
    .name = "student",
    .versions = "student_versions",
    .heads = "students",
    .id_member = "student_id",
    .valid_id = util_is_uuid,
    .head_keys = student_head_keys,
    .claim_keys = student_claim_keys,
    .duplicate_id = KT_INTERNAL, /* ids are generated: never a duplicate */
    .feed = true,
    .logged = true,
};

/* The head document: version, state, the kind's search members, time. */
static void
head_doc(const store_kind_t *kind, const student_t *s, bson_t *head)
{
    bson_init(head);
    BSON_APPEND_UTF8(head, "_id", s->id);
    BSON_APPEND_INT64(head, "version", s->version);
    BSON_APPEND_UTF8(head, "state", s->deleted ? "DELETED" : "ACTIVE");
    kind->head_keys(&s->doc, head);
    BSON_APPEND_UTF8(head, "updated_at", util_get_str(&s->record, "time"));
}

bool
store_move_head(mongoc_client_t *client, const char *db, const store_kind_t *kind,
                const student_t *s, kt_error_t *err)
{
    bson_t head;

    head_doc(kind, s, &head);
    bool ok = util_replace_id(client, db, kind->heads, s->id, &head, err);
    bson_destroy(&head);
    return ok;
}

static void
not_found(kt_error_t *err, const store_kind_t *kind, const char *what)
{
    kt_error_set(err, KT_DOMAIN_INPUT, KT_NOT_FOUND, 404, "no such %s%s", kind->name, what);
}

bool
store_record_get(mongoc_client_t *client, const char *db, const store_kind_t *kind, const char *id,
                 student_t *out, kt_error_t *err)
{
    bson_t head;
    bool found = false, ok;
    int64_t hint = 0, n;

    if (!kind->valid_id(id)) {
        not_found(err, kind, "");
        return false;
    }
    if (!util_find_id(client, db, kind->heads, id, &head, &found, err))
        return false;
    hint = found ? util_get_int(&head, "version", 0) : 0;
    bson_destroy(&head);
    /* Roll forward: the head is a hint; version hint+1 may already exist. */
    for (n = hint > 0 ? hint : 1;; n++) {
        student_t probe;
        student_init(&probe);
        ok = store_load_version(client, db, kind, id, n, &probe, &found, err);
        if (ok && found) {
            student_move(out, &probe); /* steals probe's bson_ts: no release */
            continue;
        }
        student_release(&probe);
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
        store_move_head(client, db, kind, out, &ignored); /* complete an interrupted write */
    }
    return true;
}

bool
store_student_get(mongoc_client_t *client, const char *db, const char *id, student_t *out,
                  kt_error_t *err)
{
    return store_record_get(client, db, &store_kind_student, id, out, err);
}

bool
store_record_get_version(mongoc_client_t *client, const char *db, const store_kind_t *kind,
                         const char *id, int64_t n, student_t *out, kt_error_t *err)
{
    bool found = false;

    if (kind->valid_id(id) && n >= 1) {
        if (!store_load_version(client, db, kind, id, n, out, &found, err))
            return false;
        if (found)
            return true;
    }
    kt_error_set(err, KT_DOMAIN_INPUT, KT_NOT_FOUND, 404, "no such version");
    return false;
}

bool
store_student_get_version(mongoc_client_t *client, const char *db, const char *id, int64_t n,
                          student_t *out, kt_error_t *err)
{
    return store_record_get_version(client, db, &store_kind_student, id, n, out, err);
}

/* Binary search for the last version whose time is ≤ as_of. It relies on
 * times growing with versions: version N+1 is stamped after its writer read
 * version N, and the writers' clocks agree (one machine, or NTP; the claims'
 * youth assumes the same, docs/storage.md). */
bool
store_record_as_of(mongoc_client_t *client, const char *db, const store_kind_t *kind,
                   const char *id, const char *as_of, student_t *out, kt_error_t *err)
{
    student_t probe;
    int64_t lo = 1, hi, best = 0;
    bool found;

    if (!store_record_get(client, db, kind, id, out, err))
        return false;
    hi = out->version;
    while (lo <= hi) {
        int64_t mid = lo + (hi - lo) / 2;
        student_init(&probe);
        if (!store_load_version(client, db, kind, id, mid, &probe, &found, err)) {
            student_release(&probe);
            return false;
        }
        const char *t = found ? util_get_str(&probe.record, "time") : NULL;
        if (t != NULL && strcmp(t, as_of) <= 0) {
            best = mid;
            lo = mid + 1;
        } else {
            hi = mid - 1;
        }
        student_release(&probe);
    }
    if (best == 0) {
        not_found(err, kind, " at that time");
        return false;
    }
    if (best == out->version)
        return true;
    student_release(out); /* out held the current version: load the earlier one in its place */
    student_init(out);
    return store_load_version(client, db, kind, id, best, out, &found, err) && found;
}

bool
store_student_as_of(mongoc_client_t *client, const char *db, const char *id, const char *as_of,
                    student_t *out, kt_error_t *err)
{
    return store_record_as_of(client, db, &store_kind_student, id, as_of, out, err);
}

bool
store_version_hash(const bson_t *record, const char *prev_hash, char out[65])
{
    static const char *const skip[] = {"_id", "hash", NULL};
    static const char hex[] = "0123456789abcdef";
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    buf_t b;
    bool ok;

    buf_init(&b, 0);
    buf_puts(&b, prev_hash ? prev_hash : "");
    ok = codec_canonical(&b, record, skip) && !b.overflow &&
         EVP_Digest(b.data, b.len, md, &mdlen, EVP_sha256(), NULL) == 1;
    buf_release(&b);
    if (!ok)
        return false;
    for (unsigned i = 0; i < 32; i++) {
        out[2 * i] = hex[md[i] >> 4];
        out[2 * i + 1] = hex[md[i] & 15];
    }
    out[64] = '\0';
    return true;
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
store_record_find_ids(mongoc_client_t *client, const char *db, const store_kind_t *kind,
                      const bson_t *filter, const char *after, int limit, char (*ids)[40], int *n,
                      kt_error_t *err)
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
    ok = util_each(client, db, kind->heads, &f, &opts, util_collect_string, &found, err);
    *n = found.n;
    bson_destroy(&f);
    bson_destroy(&opts);
    return ok;
}

bool
store_student_find_ids(mongoc_client_t *client, const char *db, const char *field,
                       const char *value, const char *after, int limit, char (*ids)[40], int *n,
                       kt_error_t *err)
{
    bson_t filter = BSON_INITIALIZER;
    bool ok;

    BSON_APPEND_UTF8(&filter, field, value);
    ok = store_record_find_ids(client, db, &store_kind_student, &filter, after, limit, ids, n, err);
    bson_destroy(&filter);
    return ok;
}

static bool
create_indexes(mongoc_client_t *client, const char *db, const char *coll, const char *const *keys,
               kt_error_t *err)
{
    mongoc_database_t *d = mongoc_client_get_database(client, db);
    bson_t cmd = BSON_INITIALIZER, arr, idx, key;
    bson_error_t error;
    char k[16];
    bool ok;

    BSON_APPEND_UTF8(&cmd, "createIndexes", coll);
    BSON_APPEND_ARRAY_BEGIN(&cmd, "indexes", &arr);
    for (int i = 0; keys[i] != NULL; i++) {
        snprintf(k, sizeof k, "%d", i);
        bson_append_document_begin(&arr, k, -1, &idx);
        BSON_APPEND_DOCUMENT_BEGIN(&idx, "key", &key);
        BSON_APPEND_INT32(&key, keys[i], 1);
        bson_append_document_end(&idx, &key);
        BSON_APPEND_UTF8(&idx, "name", keys[i]);
        bson_append_document_end(&arr, &idx);
    }
    bson_append_array_end(&cmd, &arr);
    ok = mongoc_database_write_command_with_opts(d, &cmd, NULL, NULL, &error);
    if (!ok)
        store_error(err, &error, coll);
    bson_destroy(&cmd);
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
        store_error(err, &error, name);
        ok = false;
    }
    bson_destroy(&cmd);
    return ok;
}

/* Every collection exists from the start, so that operators (and the
 * scripts' FerretDB _id expression indexes, docs/storage.md) find them all. */
static bool
create_collections(mongoc_client_t *client, const char *db, kt_error_t *err)
{
    static const char *const names[] = {
        "student_versions", "students",         "claims",   "changes",       "counters",
        "access_log",       "verify_runs",      "packages", "package_items", "package_chunks",
        "package_leases",   "package_receipts", NULL};
    static const char *const org_names[] = {"organization_versions", "organizations", NULL};
    mongoc_database_t *d = mongoc_client_get_database(client, db);
    bool ok = true;

    for (int i = 0; ok && names[i] != NULL; i++)
        ok = create_collection(d, names[i], err);
    for (int i = 0; ok && org_names[i] != NULL; i++)
        ok = create_collection(d, org_names[i], err);
    mongoc_database_destroy(d);
    return ok;
}

bool
store_ensure_indexes(mongoc_client_t *client, const char *db, kt_error_t *err)
{
    static const char *const heads[] = {"organization", "name_key", "snils", NULL};
    static const char *const access[] = {"students", "subject", NULL};
    static const char *const orgs[] = {"oktmo", "type", "status", "parent", NULL};
    /* The auditors' "what did this principal change" (store/audit.c). */
    static const char *const versions[] = {"principal.subject", NULL};

    return create_collections(client, db, err) &&
           create_indexes(client, db, store_kind_student.heads, heads, err) &&
           create_indexes(client, db, "access_log", access, err) &&
           create_indexes(client, db, store_kind_organization.heads, orgs, err) &&
           create_indexes(client, db, store_kind_student.versions, versions, err);
}
