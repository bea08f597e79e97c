/*
 * record: what every backend shares about versioned records — the version
 * record and its hash chain, the student kind (its head members and claim
 * keys), and the record type's lifetime.
 */
#include <openssl/evp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "core/arena.h"
#include "core/buf.h"
#include "model/codec.h"
#include "model/diff.h"
#include "model/names.h"
#include "model/student.h"
#include "store/backend.h"
#include "store/util.h"

/* Representatives' СНИЛС a head carries: far more than a student has. */
#define STUDENT_REPRESENTATIVES_KEYS_MAX 16

static const char *const kind_names[WRITE__MAX] = {"create", "update", "delete"};

const char *
store_kind_name(write_op_t kind)
{
    return kind < WRITE__MAX ? kind_names[kind] : "update";
}

const char *
store_record_kind(const record_args_t *a)
{
    if (a->version_kind != NULL)
        return a->version_kind;
    return a->op == WRITE_UPDATE && a->identity_change ? "identity_change" : store_kind_name(a->op);
}

const char *
record_state(const record_t *s)
{
    if (!s->deleted)
        return "ACTIVE";
    return record_is_merged(s) ? RECORD_MERGED : "DELETED";
}

bool
record_is_merged(const record_t *s)
{
    const char *state = util_get_str(&s->record, "state");

    return s->deleted && state != NULL && strcmp(state, RECORD_MERGED) == 0;
}

void
record_init(record_t *s)
{
    memset(s, 0, sizeof *s);
    bson_init(&s->doc);
    bson_init(&s->record);
}

void
record_release(record_t *s)
{
    bson_destroy(&s->doc);
    bson_destroy(&s->record);
}

/* A bson_t must never be copied by assignment (it points into itself):
 * its contents are stolen instead. src is left released. */
void
record_move(record_t *dst, record_t *src)
{
    record_release(dst);
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

/* "representative_snils": the distinct СНИЛС of the student's representatives,
 * an array (the families' service finds a parent's children by it, issue 15);
 * written only when there is one. */
static void
student_representative_keys(const bson_t *doc, bson_t *head)
{
    const char *seen[STUDENT_REPRESENTATIVES_KEYS_MAX];
    bson_iter_t it, reps;
    bson_t arr;
    size_t n = 0;
    char idx[24];

    if (!bson_iter_init_find(&it, doc, "representatives") || !BSON_ITER_HOLDS_ARRAY(&it) ||
        !bson_iter_recurse(&it, &reps))
        return;
    while (n < STUDENT_REPRESENTATIVES_KEYS_MAX && bson_iter_next(&reps)) {
        bson_iter_t rep;
        const char *snils;
        bool dup = false;

        if (!BSON_ITER_HOLDS_DOCUMENT(&reps) || !bson_iter_recurse(&reps, &rep) ||
            !bson_iter_find(&rep, "snils") || !BSON_ITER_HOLDS_UTF8(&rep))
            continue;
        snils = bson_iter_utf8(&rep, NULL);
        for (size_t i = 0; i < n; i++)
            dup = dup || strcmp(seen[i], snils) == 0;
        if (!dup && snils[0] != '\0')
            seen[n++] = snils;
    }
    if (n == 0)
        return;
    BSON_APPEND_ARRAY_BEGIN(head, "representative_snils", &arr);
    for (size_t i = 0; i < n; i++) {
        snprintf(idx, sizeof idx, "%zu", i);
        BSON_APPEND_UTF8(&arr, idx, seen[i]);
    }
    bson_append_array_end(head, &arr);
}

void
store_dup_keys(const bson_t *doc, char keys[STORE_DUP_KEYS][STORE_DUP_KEY_MAX])
{
    const char *bd = util_get_str(doc, "birth_date"), *snils = util_get_str(doc, "snils");
    char last[NAMES_LATIN_MAX], first[NAMES_LATIN_MAX], holds = STORE_DUP_NO_SNILS;

    names_skeleton(util_get_str(doc, "last_name"), last);
    names_skeleton(util_get_str(doc, "first_name"), first);
    bd = bd != NULL ? bd : "";
    if (snils != NULL && snils[0] != '\0')
        holds = STORE_DUP_SNILS;
    /* Each name part is at most 64 bytes of the key: a longer skeleton
     * (a name of 100 letters) is cut, the same way on both sides. */
    snprintf(keys[0], STORE_DUP_KEY_MAX, "%c|%.64s|%.10s", holds, last, bd);
    snprintf(keys[1], STORE_DUP_KEY_MAX, "%c|%.64s|%.10s", holds, first, bd);
    snprintf(keys[2], STORE_DUP_KEY_MAX, "%c|%.64s|%.64s|%.4s", holds, last, first, bd);
}

const char *const store_dup_key_names[STORE_DUP_KEYS] = {"dup_last_date", "dup_first_date",
                                                         "dup_names_year"};

/* The student head's search members: organisation, СНИЛС, name + birth date,
 * the duplicate search's blocking keys (store_dup_keys), the representatives'
 * СНИЛС. */
static void
student_head_keys(const bson_t *doc, bson_t *head)
{
    char keys[STORE_DUP_KEYS][STORE_DUP_KEY_MAX];

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
    store_dup_keys(doc, keys);
    for (int i = 0; i < STORE_DUP_KEYS; i++)
        BSON_APPEND_UTF8(head, store_dup_key_names[i], keys[i]);
    student_representative_keys(doc, head);
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

/* Builds version a->version into rec, initialised here on every path: the
 * caller destroys (or steals) it even when this fails. */
bool
store_build_record(bson_t *rec, const record_args_t *a, const write_meta_t *meta)
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
    BSON_APPEND_UTF8(rec, "kind", store_record_kind(a));
    BSON_APPEND_UTF8(rec, "state", a->state ? a->state : a->deleted ? "DELETED" : "ACTIVE");
    if (meta->link_member != NULL && meta->link_id != NULL)
        BSON_APPEND_UTF8(rec, meta->link_member, meta->link_id);
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
    /* The hash covers every member above but _id, prev_hash included, which
     * is what chains the versions; "hash" itself comes last. */
    if (!store_version_hash(rec, a->prev_hash, hash))
        return false;
    BSON_APPEND_UTF8(rec, "hash", hash);
    return true;
}

bool
store_same_document(const bson_t *a, const bson_t *b)
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

void
store_duplicate_id(kt_error_t *err, const store_kind_t *kind, const char *id)
{
    kt_error_set(err, KT_DOMAIN_INPUT, kind->duplicate_id,
                 strcmp(kind->name, "organization") == 0 ? "this organization exists already"
                                                         : "this student exists already");
    snprintf(err->ref, sizeof err->ref, "%s", id);
}

void
store_duplicate_key(kt_error_t *err, const char *key, const char *holder)
{
    bool snils = strncmp(key, "snils:", 6) == 0;

    kt_error_set(err, KT_DOMAIN_INPUT, snils ? KT_DUPLICATE_SNILS : KT_DUPLICATE_DOCUMENT,
                 snils ? "another student holds this SNILS"
                       : "another student holds this document");
    snprintf(err->ref, sizeof err->ref, "%s", holder);
}

/* Checks version n's own fields and its link to the previous hash. */
bool
store_check_link(const store_kind_t *kind, const record_t *v, const char *id, int64_t n,
                 const char *prev_hash, char *problem)
{
    char hash[65];
    const char *stored = util_get_str(&v->record, "hash");
    const char *prev = util_get_str(&v->record, "prev_hash");
    const char *sid = util_get_str(&v->record, kind->id_member);

    if (sid == NULL || strcmp(sid, id) != 0 || util_get_int(&v->record, "version", 0) != n) {
        snprintf(problem, 256, "version %lld names another %s or number", (long long)n, kind->name);
        return false;
    }
    if (prev == NULL || strcmp(prev, prev_hash) != 0) {
        snprintf(problem, 256, "version %lld does not link to the hash of version %lld",
                 (long long)n, (long long)n - 1);
        return false;
    }
    if (stored == NULL || !store_version_hash(&v->record, prev_hash, hash) ||
        strcmp(hash, stored) != 0) {
        snprintf(problem, 256, "version %lld: content does not match its hash", (long long)n);
        return false;
    }
    return true;
}

/* Where a kind's counts go in the report. */
static progress_t *verify_progress;

void
verify_progress_use(progress_t *p)
{
    verify_progress = p;
}

void
store_verify_count(const store_kind_t *kind, verify_report_t *r, long versions)
{
    progress_step(verify_progress);
    if (kind == &store_kind_organization) {
        r->organizations++;
        r->organization_versions += versions;
    } else if (kind == &store_kind_progress) {
        r->progress++;
        r->progress_versions += versions;
    } else {
        r->students++;
        r->versions += versions;
    }
}

/* A claim key's kind for verify's lines: the value itself is personal data. */
const char *
store_key_kind(const char *key)
{
    return strncmp(key, "snils:", 6) == 0 ? "SNILS" : "document";
}

void
store_fault_point(const write_meta_t *meta, const char *name)
{
#ifdef KT_FAULT_INJECTION
    if (meta->fault != NULL && strcmp(meta->fault, name) == 0)
        raise(SIGKILL);
#else
    (void)meta;
    (void)name;
#endif
}

void
store_verify_summary(const verify_report_t *r, bson_t *out)
{
    char time[32], key[16];
    bson_t ids;

    bson_init(out);
    util_time_now(time);
    BSON_APPEND_UTF8(out, "_id", "last");
    BSON_APPEND_UTF8(out, "time", time);
    BSON_APPEND_INT64(out, "students", r->students);
    BSON_APPEND_INT64(out, "versions", r->versions);
    BSON_APPEND_INT64(out, "organizations", r->organizations);
    BSON_APPEND_INT64(out, "organization_versions", r->organization_versions);
    BSON_APPEND_INT64(out, "progress", r->progress);
    BSON_APPEND_INT64(out, "progress_versions", r->progress_versions);
    BSON_APPEND_INT64(out, "broken", r->broken);
    BSON_APPEND_INT64(out, "incomplete", r->incomplete);
    BSON_APPEND_INT64(out, "duplicates", r->duplicates);
    BSON_APPEND_BOOL(out, "ok", r->broken == 0 && r->duplicates == 0);
    BSON_APPEND_ARRAY_BEGIN(out, "broken_students", &ids);
    for (int i = 0; i < r->listed; i++) {
        snprintf(key, sizeof key, "%d", i);
        bson_append_utf8(&ids, key, -1, r->broken_ids[i], -1);
    }
    bson_append_array_end(out, &ids);
}
