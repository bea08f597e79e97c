/* ingest: packages item by item, through the records' write path. */
#include "service/ingest.h"

#include <libxml/xmlwriter.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/msg.h"
#include "core/clock.h"
#include "service/healthdata.h"
#include "service/duplicates.h"
#include "service/identity.h"
#include "model/education.h"
#include "service/organizations.h"
#include "service/progress.h"
#include "service/students.h"
#include "model/organization.h"
#include "model/student.h"
#include "model/calendar.h"
#include "model/validators.h"
#include "service/education.h"
#include "service/write.h"
#include "store/organizations.h"
#include "store/packages.h"
#include "store/records.h"
#include "store/util.h"

#define ITEM_ARENA_CAP (32u << 20)
/* Items applied (with their results) in one store batch: one transaction and
 * one fsync on SQLite. It holds the write lock while it runs, so it is small
 * enough that an API write waits well under a second behind it. */
#define INGEST_BATCH 64
/* A batch also ends once it has run this long, whatever its count: a queued
 * package renews its lease (fcgi/runner.h, 30 s) only between batches, and a
 * slow store (FerretDB under load: several round trips an item, and each
 * create's duplicate search) must not let 64 items outlive it. It bounds how
 * long a batch holds SQLite's write lock too. */
#define INGEST_BATCH_MS 2000

typedef struct {
    const ingest_ctx_t *ctx;
    const char *key;       /* the package's store key (store/packages.h) */
    const char *packet_id; /* as sent: what versions and the receipt carry */
    arena_t *arena;
    char today[11];
} run_t;

static void
sha256_hex(const char *data, size_t len, char out[65])
{
    static const char hex[] = "0123456789abcdef";
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;

    EVP_Digest(data, len, md, &n, EVP_sha256(), NULL);
    for (unsigned i = 0; i < 32; i++) {
        out[2 * i] = hex[md[i] >> 4];
        out[2 * i + 1] = hex[md[i] & 15];
    }
    out[64] = '\0';
}

/* --- item results ------------------------------------------------------------------- */

static void
result_begin(bson_t *r, const xmlio_item_t *item, const char *outcome)
{
    bson_init(r);
    BSON_APPEND_UTF8(r, "result", outcome);
    if (item->local_id != NULL)
        BSON_APPEND_UTF8(r, "local_id", item->local_id);
}

static void
result_ok(bson_t *r, const xmlio_item_t *item, const char *outcome, const char *id, int64_t version)
{
    result_begin(r, item, outcome);
    BSON_APPEND_UTF8(r, "id", id);
    BSON_APPEND_INT64(r, "version", version);
}

/* REJECTED with every field error of e at its XPath (or e itself at the item). */
static void
result_rejected(bson_t *r, const run_t *run, const xmlio_item_t *item, const kt_error_t *e)
{
    bson_t errors, one;
    char key[16];
    int n = 0;

    result_begin(r, item, "REJECTED");
    BSON_APPEND_ARRAY_BEGIN(r, "errors", &errors);
    for (const kt_field_error_t *f = e->fields; f != NULL; f = f->next, n++) {
        snprintf(key, sizeof key, "%d", n);
        bson_append_document_begin(&errors, key, -1, &one);
        BSON_APPEND_UTF8(&one, "code", kt_code_name(f->code));
        const char *path = e->code == KT_XSD ? f->pointer
                                             : xmlio_item_pointer_to_xpath(run->arena, item->kind,
                                                                           item->xpath, f->pointer);
        BSON_APPEND_UTF8(&one, "path", path ? path : item->xpath);
        BSON_APPEND_UTF8(&one, "message", kt_field_message(f, false));
        bson_append_document_end(&errors, &one);
    }
    if (n == 0) {
        bson_append_document_begin(&errors, "0", -1, &one);
        BSON_APPEND_UTF8(&one, "code", kt_code_name(e->code));
        BSON_APPEND_UTF8(&one, "path", item->xpath);
        BSON_APPEND_UTF8(&one, "message",
                         e->domain == KT_DOMAIN_STORE || e->domain == KT_DOMAIN_INTERNAL
                             ? kt_code_title(e->code, false)
                             : kt_error_message(e, false));
        bson_append_document_end(&errors, &one);
    }
    bson_append_array_end(r, &errors);
}

/* One warning of an accepted item: {code, path, message} under "warnings". */
static void
append_warning(bson_t *warnings, int i, const char *code, const char *path, const char *message)
{
    char key[16];
    bson_t one;

    snprintf(key, sizeof key, "%d", i);
    bson_append_document_begin(warnings, key, -1, &one);
    BSON_APPEND_UTF8(&one, "code", code);
    BSON_APPEND_UTF8(&one, "path", path);
    BSON_APPEND_UTF8(&one, "message", message);
    bson_append_document_end(warnings, &one);
}

/* The names of the fields that agree, comma-separated, in arena. */
static const char *
agree_list(arena_t *arena, unsigned agree)
{
    const char *s = "";

    for (int i = 0; i < DUP_AGREE_BITS; i++)
        if (agree & (1u << i))
            s = arena_printf(arena, "%s%s%s", s, s[0] ? ", " : "", duplicates_agree_name(1u << i));
    return s != NULL ? s : "";
}

/* A created student's probable duplicates (docs/duplicates.md): the item
 * is accepted and its result carries a PROBABLE_DUPLICATE warning per pair
 * stored — naming the pair, not the other student (a receipt is served
 * again to whoever re-sends the PacketID); a search that failed is a
 * DUPLICATE_CHECK_FAILED warning. The created student stands either way. */
static void
flag_created(const run_t *run, const xmlio_item_t *item, const char *id, const bson_t *doc,
             const write_meta_t *meta, bson_t *result)
{
    dup_candidate_t found[DUP_CANDIDATES_MAX];
    char pair[STUDENT_ID_LEN + 1], text[KT_ERROR_MESSAGE_MAX];
    int n = 0;
    kt_error_t e;
    bson_t warnings;

    kt_error_clear(&e);
    bool ok = duplicates_flag(run->ctx->conn, id, doc, meta, found, DUP_CANDIDATES_MAX, &n, &e);
    if (ok && n == 0)
        return;
    BSON_APPEND_ARRAY_BEGIN(result, "warnings", &warnings);
    if (!ok)
        append_warning(
            &warnings, 0, "DUPLICATE_CHECK_FAILED", item->xpath,
            kt_msg("The search for probable duplicates failed; the student was created", false));
    for (int i = 0; ok && i < n; i++) {
        duplicates_pair_id(id, found[i].id, pair);
        /* Receipts are Russian (docs/i18n.md). */
        kt_msg_format(false, text, sizeof text,
                      "Probable duplicate of another record: pair %s, score %d; these agree: %s",
                      pair, found[i].score, agree_list(run->arena, found[i].agree));
        append_warning(&warnings, i, "PROBABLE_DUPLICATE", item->xpath, text);
    }
    bson_append_array_end(result, &warnings);
}

/* --- applying one item ---------------------------------------------------------------- */

static void
fill_meta(const run_t *run, const xmlio_item_t *item, write_meta_t *meta)
{
    memset(meta, 0, sizeof *meta);
    meta->principal = run->ctx->principal;
    meta->package_id = run->packet_id;
    meta->item = (int64_t)item->index;
    meta->reason = item->reason;
}

static bool
visible(const run_t *run, const bson_t *doc)
{
    const char *org = util_get_str(doc, "organization");

    return run->ctx->principal->role != ROLE_SCHOOL ||
           (org != NULL && strcmp(org, run->ctx->principal->org) == 0);
}

/* Was this student's current version written by this very item (an earlier,
 * interrupted run of the package)? Then the item is reported as it was.
 * PacketIDs are each sender's own, so the version's writer must be the sender. */
static const char *
earlier_outcome(const run_t *run, const xmlio_item_t *item, const record_t *s)
{
    const principal_t *p = run->ctx->principal;
    const char *pkg = util_get_str(&s->record, "source.package_id");
    const char *kind = util_get_str(&s->record, "kind");
    const char *subject = util_get_str(&s->record, "principal.subject");
    const char *auth = util_get_str(&s->record, "principal.auth");

    if (pkg == NULL || kind == NULL || strcmp(pkg, run->packet_id) != 0 ||
        util_get_int(&s->record, "source.item", 0) != (int64_t)item->index || subject == NULL ||
        strcmp(subject, p->subject) != 0 || !principal_method_matches(p->method, auth))
        return NULL;
    return strcmp(kind, "create") == 0   ? "CREATED"
           : strcmp(kind, "delete") == 0 ? "DELETED"
                                         : "UPDATED";
}

/* The student a keyed item updates: its id, by СНИЛС, then by document. */
static bool
find_target(const run_t *run, const xmlio_item_t *item, const bson_t *doc, char *id,
            kt_error_t *err)
{
    const char *snils = NULL, *docs[STUDENT_DOCUMENTS_MAX];
    size_t nd = student_keys(run->arena, doc, &snils, docs, STUDENT_DOCUMENTS_MAX);
    const ingest_ctx_t *c = run->ctx;

    id[0] = '\0';
    if (item->id != NULL) {
        snprintf(id, STUDENT_ID_LEN + 1, "%s", item->id);
        return true;
    }
    for (size_t i = 0; i <= nd && id[0] == '\0'; i++) {
        const char *key =
            i == 0 ? (snils && snils[0] ? arena_printf(run->arena, "snils:%s", snils) : NULL)
                   : arena_printf(run->arena, "doc:%s", docs[i - 1]);
        if (key == NULL)
            continue;
        if (!store_claim_holder(c->conn, key, id, err))
            return false;
        if (id[0] == '\0')
            continue;
        record_t s;
        kt_error_t e;
        kt_error_clear(&e);
        record_init(&s);
        /* A stale claim (nobody holds the key any more), or a student this
         * principal may not see: as if there were none (issue 12), so the
         * item becomes a create that the claim refuses as a duplicate. */
        bool live = store_student_get(c->conn, id, &s, &e) && !s.deleted && visible(run, &s.doc);
        record_release(&s);
        if (!live)
            id[0] = '\0';
    }
    return true;
}

/* The document an item writes: doc, with the target's education kept
 * (read-only in items, model/education.h); cur NULL on create. */
static bool
item_document(const run_t *run, const xmlio_item_t *item, const bson_t *cur, const bson_t *doc,
              bson_t *full, kt_error_t *err)
{
    bson_copy_to(doc, full);
    if (!education_check_body(run->arena, item->student, cur, doc, err))
        return false;
    if (education_carry(cur, full))
        return true;
    kt_error_set(err, KT_DOMAIN_INTERNAL, KT_INTERNAL, "cannot keep the education");
    return false;
}

/* Replaces full by the document to store: its health block sealed, or the
 * target's stored one kept (service/healthdata.h); cur NULL on create. */
static bool
sealed(const run_t *run, const bson_t *cur, bson_t *full, kt_error_t *err)
{
    const ingest_ctx_t *c = run->ctx;
    healthdata_t h = {c->health_ring, c->conn, c->principal};
    bson_t stored = BSON_INITIALIZER;

    if (!healthdata_seal(&h, cur, full, &stored, err)) {
        bson_destroy(&stored);
        return false;
    }
    bson_destroy(full);
    bson_steal(full, &stored); /* steals stored: full stays the caller's to destroy */
    return true;
}

/* A create's document: doc checked and sealed. full is initialised on every
 * path (item_document copies first): the caller destroys it. */
static bool
create_document(const run_t *run, const xmlio_item_t *item, const bson_t *doc, bson_t *full,
                kt_error_t *err)
{
    return item_document(run, item, NULL, doc, full, err) &&
           students_check_organization(run->ctx->conn, run->arena, full, NULL, err) &&
           sealed(run, NULL, full, err);
}

typedef struct {
    const run_t *run;
    const xmlio_item_t *item;
    const bson_t *doc;
} student_item_t;

/* The target's current version, when it is the principal's to change (a
 * school's own student; others' are answered as missing, issue 12). */
static bool
load_target(void *ctx, const char *id, record_t *cur, kt_error_t *err)
{
    const student_item_t *s = ctx;

    if (!store_student_get(s->run->ctx->conn, id, cur, err))
        return false;
    if (visible(s->run, &cur->doc))
        return true;
    kt_error_set(err, KT_DOMAIN_INPUT, KT_NOT_FOUND, "no such student");
    return false;
}

/* An update's document: the item's, with the target's education kept and
 * its health block sealed (or the stored one kept). An item that describes
 * another person than the target (service/identity.h) is refused with
 * IDENTITY_CONFLICT before anything is written, whether it found the target
 * by СНИЛС, by document or by id: a package never changes who a record is
 * (the JSON API does, with a reason). */
static bool
update_document(void *ctx, const record_t *cur, bson_t *full, kt_error_t *err)
{
    const student_item_t *s = ctx;
    unsigned differ = identity_disagree(&cur->doc, s->doc);

    if (differ != 0) {
        identity_conflict(err, s->run->arena, differ, visible(s->run, &cur->doc) ? cur->id : NULL);
        return false;
    }
    bson_destroy(full); /* item_document initialises it again */
    return item_document(s->run, s->item, &cur->doc, s->doc, full, err) &&
           students_check_organization(s->run->ctx->conn, s->run->arena, full, &cur->doc, err) &&
           sealed(s->run, &cur->doc, full, err);
}

/* CREATED or UPDATED; an unchanged document is UNCHANGED unless this very
 * item wrote the current version (an interrupted run, resumed). */
static const char *
student_outcome(const run_t *run, const xmlio_item_t *item, bool create, const record_t *cur,
                const write_result_t *out)
{
    const char *earlier = out->unchanged ? earlier_outcome(run, item, cur) : NULL;

    return create ? "CREATED" : !out->unchanged ? "UPDATED" : earlier ? earlier : "UNCHANGED";
}

static bool
write_student(const run_t *run, const xmlio_item_t *item, const bson_t *doc, bson_t *result,
              kt_error_t *err)
{
    const ingest_ctx_t *c = run->ctx;
    char id[STUDENT_ID_LEN + 1];
    student_item_t si = {run, item, doc};
    bson_t full = BSON_INITIALIZER;
    write_meta_t meta;
    write_result_t out;
    record_t cur;
    bool ok = false, create;

    record_init(&cur);
    fill_meta(run, item, &meta);
    if (!find_target(run, item, doc, id, err))
        goto done;
    create = id[0] == '\0';
    if (create) {
        bson_destroy(&full); /* create_document initialises it again */
        ok = create_document(run, item, doc, &full, err) &&
             store_student_write(c->conn, WRITE_CREATE, NULL, 0, &full, &meta, &out, err);
    } else {
        service_update_t u = {.kind = &store_kind_student,
                              .id = id,
                              .meta = &meta,
                              .load = load_target,
                              .compose = update_document,
                              .ctx = &si};
        ok = service_update(c->conn, &u, &cur, &full, &out, err);
    }
    if (ok)
        result_ok(result, item, student_outcome(run, item, create, &cur, &out), out.id,
                  out.version);
    if (ok && create)
        flag_created(run, item, out.id, &full, &meta, result);
done:
    record_release(&cur);
    bson_destroy(&full);
    return ok;
}

static bool
apply_student(const run_t *run, const xmlio_item_t *item, bson_t *result, kt_error_t *err)
{
    bson_t doc = BSON_INITIALIZER;
    bool ok = false;

    if (!healthdata_check_body(run->ctx->principal, item->student, NULL, err) ||
        !student_from_json(run->arena, item->student, run->today, &doc, err))
        goto done;
    if (!visible(run, &doc)) {
        kt_error_set(err, KT_DOMAIN_AUTH, KT_FORBIDDEN,
                     "a school may only send students of its own organisation");
        goto done;
    }
    ok = write_student(run, item, &doc, result, err);
done:
    bson_destroy(&doc);
    return ok;
}

typedef struct {
    const run_t *run;
    const bson_t *doc;
} org_item_t;

/* An organisation item's document, once its references check out. */
static bool
org_document(void *ctx, const record_t *cur, bson_t *doc, kt_error_t *err)
{
    const org_item_t *o = ctx;

    if (!organizations_check_refs(o->run->ctx->conn, o->run->arena, o->doc, &cur->doc, err))
        return false;
    bson_concat(doc, o->doc);
    return true;
}

/* Upsert by ОГРН: update the organisation that has it, or create it. A
 * create that loses a race to another writer is tried again as an update. */
static bool
write_organization(const run_t *run, const xmlio_item_t *item, const bson_t *doc, bson_t *result,
                   kt_error_t *err)
{
    const ingest_ctx_t *c = run->ctx;
    org_item_t oi = {run, doc};
    service_update_t u = {.kind = &store_kind_organization,
                          .id = util_get_str(doc, "ogrn"),
                          .compose = org_document,
                          .ctx = &oi};
    bson_t stored = BSON_INITIALIZER;
    write_meta_t meta;
    write_result_t out;
    record_t cur;
    bool ok = false, created = false;

    record_init(&cur);
    fill_meta(run, item, &meta);
    u.meta = &meta;
    for (int attempt = 0; attempt < 2 && !ok; attempt++) {
        ok = service_update(c->conn, &u, &cur, &stored, &out, err);
        if (ok || err->code != KT_NOT_FOUND)
            break;
        created = organizations_check_refs(c->conn, run->arena, doc, NULL, err) &&
                  store_record_write(c->conn, &store_kind_organization, WRITE_CREATE, u.id, 0, doc,
                                     &meta, &out, err);
        ok = created;
        if (!ok && err->code != KT_DUPLICATE_OGRN)
            break;
    }
    if (ok) {
        const char *earlier = out.unchanged ? earlier_outcome(run, item, &cur) : NULL;
        result_ok(result, item,
                  created          ? "CREATED"
                  : !out.unchanged ? "UPDATED"
                  : earlier        ? earlier
                                   : "UNCHANGED",
                  out.id, out.version);
    }
    record_release(&cur);
    bson_destroy(&stored);
    return ok;
}

static bool
apply_organization(const run_t *run, const xmlio_item_t *item, bson_t *result, kt_error_t *err)
{
    bson_t doc = BSON_INITIALIZER;
    bool ok = organizations_may_write(run->ctx->principal, err) &&
              organization_from_json(run->arena, item->organization, run->today, &doc, err) &&
              write_organization(run, item, &doc, result, err);

    bson_destroy(&doc);
    return ok;
}

static bool
apply_delete(const run_t *run, const xmlio_item_t *item, bson_t *result, kt_error_t *err)
{
    const ingest_ctx_t *c = run->ctx;
    write_meta_t meta;
    write_result_t out;
    record_t cur;
    bool ok = false;

    record_init(&cur);
    if (!store_student_get(c->conn, item->id, &cur, err))
        goto done;
    if (!visible(run, &cur.doc)) {
        kt_error_set(err, KT_DOMAIN_INPUT, KT_NOT_FOUND, "no such student");
        goto done;
    }
    if (cur.deleted && earlier_outcome(run, item, &cur) != NULL) {
        result_ok(result, item, "DELETED", cur.id, cur.version);
        ok = true;
        goto done;
    }
    fill_meta(run, item, &meta);
    if (store_student_write(c->conn, WRITE_DELETE, cur.id, 0, NULL, &meta, &out, err)) {
        result_ok(result, item, "DELETED", out.id, out.version);
        ok = true;
    }
done:
    record_release(&cur);
    return ok;
}

/* --- education events ------------------------------------------------------------------ */

typedef struct {
    const run_t *run;
    const xmlio_item_t *item;
} event_item_t;

/* The item applied by an interrupted run of this package. */
static bool
event_applied(void *ctx, const record_t *cur)
{
    const event_item_t *e = ctx;

    return earlier_outcome(e->run, e->item, cur) != NULL;
}

/* An Event item: the same access rule, model and write path as
 * POST /api/v1/students/{id}/events (service/education.h). */
static bool
apply_event(const run_t *run, const xmlio_item_t *item, bson_t *result, kt_error_t *err)
{
    bson_t event = BSON_INITIALIZER, doc = BSON_INITIALIZER;
    event_item_t e = {run, item};
    write_meta_t meta;
    write_result_t out;
    record_t cur;
    bool ok = false;

    record_init(&cur);
    if (!education_event_from_json(run->arena, item->event, run->today, &event, err))
        goto done;
    fill_meta(run, item, &meta);
    if (meta.reason == NULL)
        meta.reason = education_reason(run->arena, &event);
    event_post_t post = {.who = run->ctx->principal,
                         .student_id = item->id,
                         .event = &event,
                         .meta = &meta,
                         .applied = event_applied,
                         .ctx = &e};
    ok = service_student_event(run->ctx->conn, run->arena, &post, &cur, &doc, &out, err);
    if (ok)
        result_ok(result, item, "UPDATED", out.id, out.version);
done:
    record_release(&cur);
    bson_destroy(&doc);
    bson_destroy(&event);
    return ok;
}

/* --- current progress ------------------------------------------------------------------ */

/* UNCHANGED, unless this very item wrote the current version (an interrupted
 * run, resumed): then what it did. */
static const char *
progress_unchanged(const run_t *run, const xmlio_item_t *item, const char *id)
{
    const char *earlier = NULL;
    record_t cur;
    kt_error_t e;

    record_init(&cur);
    kt_error_clear(&e);
    if (store_record_get(run->ctx->conn, &store_kind_progress, id, &cur, &e))
        earlier = earlier_outcome(run, item, &cur);
    record_release(&cur);
    return earlier != NULL ? earlier : "UNCHANGED";
}

/* A Progress item: merged into the student's record for the year, as
 * PATCH /api/v1/students/{id}/progress/{year} (service/progress.h); the
 * receipt names the progress record (its id and version). */
static bool
apply_progress(const run_t *run, const xmlio_item_t *item, bson_t *result, kt_error_t *err)
{
    const json_value_t *year = json_get(item->progress, "year");
    bson_t doc = BSON_INITIALIZER;
    write_meta_t meta;
    write_result_t out;
    bool created = false, ok;

    fill_meta(run, item, &meta);
    progress_put_t p = {.who = run->ctx->principal,
                        .student_id = item->id,
                        .year = year != NULL && year->type == JSON_STRING ? year->str : "",
                        .body = item->progress,
                        .merge = true,
                        .meta = &meta};
    ok = service_progress_put(run->ctx->conn, run->arena, &p, &doc, &out, &created, err);
    if (ok)
        result_ok(result, item,
                  created         ? "CREATED"
                  : out.unchanged ? progress_unchanged(run, item, out.id)
                                  : "UPDATED",
                  out.id, out.version);
    bson_destroy(&doc);
    return ok;
}

/* The item's result: the stored one when it was applied before, else apply
 * it now and store the result. A store outage fails the whole run. */
static bool
item_result(const run_t *run, const xmlio_item_t *item, bson_t *result, kt_error_t *err)
{
    const ingest_ctx_t *c = run->ctx;
    bool found = false, kept = false, ok;
    kt_error_t e;

    if (!packages_item_get(c->conn, run->key, (int64_t)item->index, result, &found, err))
        return false;
    if (found)
        return true;
    bson_destroy(result);
    kt_error_clear(&e);
    if (item->error.code != KT_OK) {
        ok = false;
        e = item->error;
    } else if (item->kind == XMLIO_ITEM_DELETE) {
        ok = apply_delete(run, item, result, &e);
    } else if (item->kind == XMLIO_ITEM_EVENT) {
        ok = apply_event(run, item, result, &e);
    } else if (item->kind == XMLIO_ITEM_ORGANIZATION) {
        ok = apply_organization(run, item, result, &e);
    } else if (item->kind == XMLIO_ITEM_PROGRESS) {
        ok = apply_progress(run, item, result, &e);
    } else {
        ok = apply_student(run, item, result, &e);
    }
    if (!ok && (e.code == KT_STORE_UNAVAILABLE || e.code == KT_INTERNAL)) {
        *err = e;
        bson_init(result);
        return false;
    }
    if (!ok)
        result_rejected(result, run, item, &e);
    if (!packages_item_put(c->conn, run->key, (int64_t)item->index, result, &kept, err))
        return false;
    if (kept) { /* another run recorded this item first: report its result */
        bson_destroy(result);
        return packages_item_get(c->conn, run->key, (int64_t)item->index, result, &found, err);
    }
    return true;
}

/* --- the receipt ---------------------------------------------------------------------- */

static void
count(ingest_totals_t *t, const char *outcome)
{
    t->received++;
    if (strcmp(outcome, "CREATED") == 0)
        t->created++;
    else if (strcmp(outcome, "UPDATED") == 0)
        t->updated++;
    else if (strcmp(outcome, "UNCHANGED") == 0)
        t->unchanged++;
    else if (strcmp(outcome, "DELETED") == 0)
        t->deleted++;
    else
        t->rejected++;
}

/* The receipt's <Error> (or <Warning>) elements of the result's array. */
static void
write_notes(xmlTextWriterPtr w, const bson_t *r, const char *array, const char *element)
{
    bson_iter_t it, arr;

    if (!bson_iter_init_find(&it, r, array) || !bson_iter_recurse(&it, &arr))
        return;
    while (bson_iter_next(&arr)) {
        bson_t one;
        uint32_t len;
        const uint8_t *data;
        if (!BSON_ITER_HOLDS_DOCUMENT(&arr))
            continue;
        bson_iter_document(&arr, &len, &data);
        if (!bson_init_static(&one, data, len))
            continue;
        xmlTextWriterStartElement(w, BAD_CAST element);
        xmlTextWriterWriteAttribute(w, BAD_CAST "code", BAD_CAST util_get_str(&one, "code"));
        xmlTextWriterWriteAttribute(w, BAD_CAST "path", BAD_CAST util_get_str(&one, "path"));
        xmlTextWriterWriteString(w, BAD_CAST util_get_str(&one, "message"));
        xmlTextWriterEndElement(w);
    }
}

static void
write_item(xmlTextWriterPtr w, size_t index, const bson_t *r)
{
    char num[32];

    xmlTextWriterStartElement(w, BAD_CAST "Item");
    snprintf(num, sizeof num, "%zu", index);
    xmlTextWriterWriteAttribute(w, BAD_CAST "index", BAD_CAST num);
    if (util_get_str(r, "local_id"))
        xmlTextWriterWriteAttribute(w, BAD_CAST "localId", BAD_CAST util_get_str(r, "local_id"));
    if (util_get_str(r, "id")) {
        xmlTextWriterWriteAttribute(w, BAD_CAST "id", BAD_CAST util_get_str(r, "id"));
        snprintf(num, sizeof num, "%lld", (long long)util_get_int(r, "version", 0));
        xmlTextWriterWriteAttribute(w, BAD_CAST "version", BAD_CAST num);
    }
    xmlTextWriterWriteAttribute(w, BAD_CAST "result", BAD_CAST util_get_str(r, "result"));
    write_notes(w, r, "errors", "Error");
    write_notes(w, r, "warnings", "Warning");
    xmlTextWriterEndElement(w);
}

static const char *
status_of(const ingest_totals_t *t)
{
    if (t->rejected == 0)
        return "PROCESSED";
    return t->rejected == t->received ? "REJECTED" : "PARTIAL";
}

static void
totals_bson(const ingest_totals_t *t, bson_t *b)
{
    bson_init(b);
    BSON_APPEND_INT64(b, "received", t->received);
    BSON_APPEND_INT64(b, "created", t->created);
    BSON_APPEND_INT64(b, "updated", t->updated);
    BSON_APPEND_INT64(b, "unchanged", t->unchanged);
    BSON_APPEND_INT64(b, "deleted", t->deleted);
    BSON_APPEND_INT64(b, "rejected", t->rejected);
}

static void
write_totals(xmlTextWriterPtr w, const ingest_totals_t *t)
{
    char n[32];
    const struct {
        const char *name;
        long value;
    } rows[] = {{"received", t->received},   {"created", t->created}, {"updated", t->updated},
                {"unchanged", t->unchanged}, {"deleted", t->deleted}, {"rejected", t->rejected}};

    xmlTextWriterStartElement(w, BAD_CAST "Totals");
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        snprintf(n, sizeof n, "%ld", rows[i].value);
        xmlTextWriterWriteAttribute(w, BAD_CAST rows[i].name, BAD_CAST n);
    }
    xmlTextWriterEndElement(w);
}

/* <QueueProgress received= done=/> of a waiting package (docs/xml-exchange.md);
 * not Progress, which is an item of students' marks. */
static void
write_progress(xmlTextWriterPtr w, const ingest_progress_t *p)
{
    char n[32];

    xmlTextWriterStartElement(w, BAD_CAST "QueueProgress");
    snprintf(n, sizeof n, "%lld", (long long)p->received);
    xmlTextWriterWriteAttribute(w, BAD_CAST "received", BAD_CAST n);
    snprintf(n, sizeof n, "%lld", (long long)p->done);
    xmlTextWriterWriteAttribute(w, BAD_CAST "done", BAD_CAST n);
    xmlTextWriterEndElement(w);
}

/* <Receipt> around the items written so far; why (nullable) is the package's
 * own error (a FAILED package); progress (nullable) how far a waiting one is. */
static char *
build_receipt(const char *packet_id, const char *status, const ingest_totals_t *t,
              const ingest_progress_t *progress, const kt_error_t *why, xmlBufferPtr items,
              size_t *len)
{
    xmlBufferPtr out = xmlBufferCreate();
    xmlTextWriterPtr w = xmlNewTextWriterMemory(out, 0);
    char *copy = NULL;

    xmlTextWriterStartDocument(w, "1.0", "UTF-8", NULL);
    xmlTextWriterStartElementNS(w, NULL, BAD_CAST "Receipt", BAD_CAST XMLIO_NS);
    xmlTextWriterWriteElement(w, BAD_CAST "PacketID", BAD_CAST packet_id);
    xmlTextWriterWriteElement(w, BAD_CAST "Status", BAD_CAST status);
    write_totals(w, t);
    if (progress != NULL)
        write_progress(w, progress);
    if (why != NULL) {
        xmlTextWriterStartElement(w, BAD_CAST "Error");
        xmlTextWriterWriteAttribute(w, BAD_CAST "code", BAD_CAST kt_code_name(why->code));
        xmlTextWriterWriteString(w, BAD_CAST kt_error_message(why, false));
        xmlTextWriterEndElement(w);
    }
    xmlTextWriterStartElement(w, BAD_CAST "Items");
    xmlTextWriterWriteRaw(w, xmlBufferContent(items));
    xmlTextWriterEndElement(w);
    xmlTextWriterEndDocument(w);
    xmlFreeTextWriter(w);
    *len = (size_t)xmlBufferLength(out);
    copy = malloc(*len + 1);
    if (copy != NULL) {
        memcpy(copy, xmlBufferContent(out), *len);
        copy[*len] = '\0';
    }
    xmlBufferFree(out);
    return copy;
}

/* --- the package ---------------------------------------------------------------------- */

/* First pass: the whole document must be well-formed, its envelope valid and
 * its items within the limits before anything is written. *health tells
 * whether an item's raw XML holds a health element, valid or not
 * (xmlio_item_t.health): such a package is never queued. */
static bool
check_whole(const ingest_ctx_t *ctx, const char *data, size_t len, xmlio_header_t *h, size_t *count,
            bool *health, kt_error_t *err)
{
    xmlio_reader_t *r = xmlio_reader_new(ctx->schema, data, len, err);
    arena_t *arena = arena_new(ITEM_ARENA_CAP);
    xmlio_item_t item;
    bool ok = r != NULL && arena != NULL && xmlio_reader_header(r, h, err);

    *count = 0;
    *health = false;
    while (ok && xmlio_reader_next(r, arena, &item, err)) {
        *health = *health || item.health;
        arena_reset(arena);
        (*count)++;
    }
    ok = ok && err->code == KT_OK;
    arena_free(arena);
    xmlio_reader_free(r);
    return ok;
}

static bool
apply_all(run_t *run, const char *data, size_t len, xmlBufferPtr items, ingest_totals_t *t,
          kt_error_t *err)
{
    xmlio_header_t h;
    xmlio_item_t item;
    xmlio_reader_t *r = xmlio_reader_new(run->ctx->schema, data, len, err);
    xmlTextWriterPtr w = xmlNewTextWriterMemory(items, 0);
    bool ok = r != NULL && xmlio_reader_header(r, &h, err);

    size_t in_batch = 0;
    int64_t batch_began = 0;

    while (ok && xmlio_reader_next(r, run->arena, &item, err)) {
        bson_t result = BSON_INITIALIZER;
        if (in_batch == 0)
            batch_began = clock_monotonic_ms();
        ok = (in_batch > 0 || store_batch_begin(run->ctx->conn, err)) &&
             item_result(run, &item, &result, err);
        in_batch++;
        if (ok) {
            write_item(w, item.index, &result);
            count(t, util_get_str(&result, "result"));
        }
        bson_destroy(&result);
        arena_reset(run->arena);
        if (ok &&
            (in_batch == INGEST_BATCH || clock_monotonic_ms() - batch_began >= INGEST_BATCH_MS)) {
            /* A queued package (the runner's) tells its INQUEUE receipt how far
             * it got, in the batch of the items it counts. */
            ok = run->ctx->progress == NULL ||
                 packages_progress(run->ctx->conn, run->key, -1, item.index, err);
            /* A failed progress write undoes the batch with it (its items are
             * applied again by the next attempt). */
            if (!store_batch_end(run->ctx->conn, ok, err))
                ok = false;
            in_batch = 0;
        }
        /* Between batches only: the runner renews its lease here, and a
         * renewal inside a batch would be undone with it. */
        if (ok && in_batch == 0 && run->ctx->progress != NULL &&
            !run->ctx->progress(run->ctx->progress_arg, item.index)) {
            kt_error_set(err, KT_DOMAIN_STORE, KT_INTERNAL, "the package's lease was lost");
            ok = false;
        }
    }
    /* A failed run undoes its open batch: those items have neither writes nor
     * results, and the next attempt applies them (the receipt of this run is
     * not kept). */
    if (in_batch > 0 && !store_batch_end(run->ctx->conn, ok, err))
        ok = false;
    xmlTextWriterFlush(w);
    xmlFreeTextWriter(w);
    xmlio_reader_free(r);
    return ok && err->code == KT_OK;
}

static char *
stored_receipt(const ingest_ctx_t *ctx, const bson_t *existing, size_t *len, ingest_totals_t *t,
               kt_error_t *err)
{
    char *receipt = NULL;

    if (!packages_receipt_load(ctx->conn, existing, &receipt, len, err))
        return NULL;
    t->received = util_get_int(existing, "totals.received", 0);
    t->created = util_get_int(existing, "totals.created", 0);
    t->updated = util_get_int(existing, "totals.updated", 0);
    t->unchanged = util_get_int(existing, "totals.unchanged", 0);
    t->deleted = util_get_int(existing, "totals.deleted", 0);
    t->rejected = util_get_int(existing, "totals.rejected", 0);
    return receipt;
}

/* Applies every item of data and stores the receipt; *receipt is malloc'd. */
static bool
run_to_receipt(const ingest_ctx_t *ctx, const char *key, const char *packet_id, const char *data,
               size_t len, char **receipt, size_t *receipt_len, ingest_totals_t *totals,
               kt_error_t *err)
{
    run_t run = {
        .ctx = ctx, .key = key, .packet_id = packet_id, .arena = arena_new(ITEM_ARENA_CAP)};
    xmlBufferPtr items = xmlBufferCreate();
    bson_t tb;
    bool ok = false;

    *receipt = NULL;
    date_today(run.today);
    if (run.arena == NULL || items == NULL || !apply_all(&run, data, len, items, totals, err))
        goto done;
    *receipt = build_receipt(packet_id, status_of(totals), totals, NULL, NULL, items, receipt_len);
    totals_bson(totals, &tb);
    ok = *receipt != NULL && packages_finish(ctx->conn, key, status_of(totals), &tb, *receipt,
                                             *receipt_len, ctx->receipt_page, err);
    bson_destroy(&tb);
done:
    if (!ok) {
        free(*receipt);
        *receipt = NULL;
    }
    if (items != NULL)
        xmlBufferFree(items);
    arena_free(run.arena);
    return ok;
}

char *
ingest_inqueue_receipt(const char *packet_id, const ingest_progress_t *progress, size_t *len)
{
    ingest_totals_t none = {0};
    xmlBufferPtr items = xmlBufferCreate();
    char *xml =
        items ? build_receipt(packet_id, "INQUEUE", &none, progress, NULL, items, len) : NULL;

    if (items != NULL)
        xmlBufferFree(items);
    return xml;
}

bool
ingest_package(const ingest_ctx_t *ctx, const char *data, size_t len, char **receipt,
               size_t *receipt_len, ingest_totals_t *totals, bool *queued,
               char packet_id[INGEST_ID_MAX], kt_error_t *err)
{
    xmlio_header_t h;
    char hash[65], key[PACKAGES_KEY_MAX];
    package_seen_t seen;
    size_t count = 0;
    bson_t existing = BSON_INITIALIZER;
    bool ok = false, health = false;

    *receipt = NULL;
    *queued = false;
    packet_id[0] = '\0';
    memset(totals, 0, sizeof *totals);
    if (!check_whole(ctx, data, len, &h, &count, &health, err))
        goto done;
    snprintf(packet_id, INGEST_ID_MAX, "%s", h.packet_id);
    sha256_hex(data, len, hash);
    packages_key(ctx->principal, h.packet_id, key);
    bson_destroy(&existing);
    if (!packages_register(ctx->conn, key, h.packet_id, hash, ctx->principal, h.source_system,
                           &seen, &existing, err))
        goto done;
    if (seen == PACKAGE_SAME) {
        *receipt = stored_receipt(ctx, &existing, receipt_len, totals, err);
        ok = *receipt != NULL;
    } else if (ctx->queue_above != 0 && count > ctx->queue_above && !health) {
        /* A package with health data is never queued: the queue keeps its bytes in the
         * store, and health data is stored only sealed (docs/health.md). */
        ingest_progress_t progress = {.received = (int64_t)count, .done = 0};
        ok = packages_enqueue(ctx->conn, key, data, len, err) &&
             packages_progress(ctx->conn, key, progress.received, 0, err) &&
             (*receipt = ingest_inqueue_receipt(h.packet_id, &progress, receipt_len)) != NULL;
        *queued = ok;
    } else {
        ok = run_to_receipt(ctx, key, h.packet_id, data, len, receipt, receipt_len, totals, err);
    }
done:
    bson_destroy(&existing);
    return ok;
}

/* The PacketID as sent of the registration under key (a registration of
 * before the keys has it as its _id). */
static bool
sent_packet_id(const ingest_ctx_t *ctx, const char *key, char packet_id[INGEST_ID_MAX],
               kt_error_t *err)
{
    bson_t pkg = BSON_INITIALIZER;
    const char *id;

    bson_destroy(&pkg);
    if (!packages_get(ctx->conn, key, &pkg, err))
        return false;
    id = util_get_str(&pkg, "packet_id");
    snprintf(packet_id, INGEST_ID_MAX, "%s", id != NULL ? id : key);
    bson_destroy(&pkg);
    return true;
}

bool
ingest_resume(const ingest_ctx_t *ctx, const char *key, ingest_totals_t *totals, kt_error_t *err)
{
    char *data = NULL, *receipt = NULL, packet_id[INGEST_ID_MAX];
    size_t len = 0, receipt_len = 0;
    bool ok;

    memset(totals, 0, sizeof *totals);
    ok = sent_packet_id(ctx, key, packet_id, err) &&
         packages_load(ctx->conn, key, &data, &len, err) &&
         run_to_receipt(ctx, key, packet_id, data, len, &receipt, &receipt_len, totals, err);
    free(receipt);
    free(data);
    return ok;
}

typedef struct {
    xmlTextWriterPtr w;
    ingest_totals_t *t;
} failed_items_t;

static bool
failed_item(void *ctx, int64_t index, const bson_t *result)
{
    failed_items_t *f = ctx;
    const char *outcome = util_get_str(result, "result");

    write_item(f->w, (size_t)index, result);
    count(f->t, outcome != NULL ? outcome : "REJECTED");
    return true;
}

/* The receipt of a package given up: the items applied so far, and why. */
static char *
failed_receipt(const ingest_ctx_t *ctx, const char *key, const char *packet_id,
               const kt_error_t *why, ingest_totals_t *totals, size_t *len, kt_error_t *err)
{
    xmlBufferPtr items = xmlBufferCreate();
    xmlTextWriterPtr w = items != NULL ? xmlNewTextWriterMemory(items, 0) : NULL;
    failed_items_t f = {w, totals};
    char *xml = NULL;

    if (w == NULL)
        kt_error_set(err, KT_DOMAIN_INTERNAL, KT_INTERNAL, "out of memory");
    else if (packages_items_each(ctx->conn, key, failed_item, &f, err)) {
        xmlTextWriterFlush(w);
        xml = build_receipt(packet_id, "FAILED", totals, NULL, why, items, len);
    }
    if (w != NULL)
        xmlFreeTextWriter(w);
    if (items != NULL)
        xmlBufferFree(items);
    return xml;
}

bool
ingest_fail(const ingest_ctx_t *ctx, const char *key, int attempts, const kt_error_t *last,
            ingest_totals_t *totals, kt_error_t *err)
{
    char packet_id[INGEST_ID_MAX], *xml = NULL;
    kt_error_t why;
    kt_code_t code;
    size_t len = 0;
    bson_t tb;
    bool ok;

    memset(totals, 0, sizeof *totals);
    kt_error_clear(&why);
    /* Our own text: a store's or our internal message is not for the sender. */
    if (last->code == KT_OK || last->domain == KT_DOMAIN_STORE ||
        last->domain == KT_DOMAIN_INTERNAL) {
        code = last->code != KT_OK ? last->code : KT_INTERNAL;
        kt_error_set(&why, KT_DOMAIN_INPUT, code,
                     "The package was not processed in %d attempts; the last error: %s", attempts,
                     kt_code_title(code, true));
        kt_msg_format_ru(why.message_ru, sizeof why.message_ru,
                         "The package was not processed in %d attempts; the last error: %s",
                         attempts, kt_code_title(code, false));
    } else
        kt_error_wrap(&why, KT_DOMAIN_INPUT, last->code, last,
                      "The package was not processed in %d attempts; the last error: ", attempts);
    if (!sent_packet_id(ctx, key, packet_id, err) ||
        (xml = failed_receipt(ctx, key, packet_id, &why, totals, &len, err)) == NULL)
        return false;
    totals_bson(totals, &tb);
    ok = packages_finish(ctx->conn, key, "FAILED", &tb, xml, len, ctx->receipt_page, err);
    bson_destroy(&tb);
    free(xml);
    return ok;
}
