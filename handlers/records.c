/*
 * records: the shared handlers of versioned resources (handlers/records.h).
 * History pages are newest first; their cursor is the version to continue
 * below. Reads of a kind whose reads are personal data (store/kind.h
 * `logged`) write an access-log row before anything is answered.
 */
#include "handlers/records.h"

#include <string.h>

#include "http/log.h"
#include "http/problem.h"
#include "handlers/common.h"
#include "service/healthdata.h"
#include "handlers/duplicates.h"
#include "service/identity.h"
#include "handlers/students.h"
#include "model/codec.h"
#include "model/patch.h"
#include "service/write.h"
#include "store/audit.h"
#include "store/util.h"

void
records_write_json(jw_t *w, const record_resource_t *r, const char *id, int64_t version,
                   bool deleted, const bson_t *doc)
{
    records_write_json_state(w, r, id, version, deleted ? "DELETED" : "ACTIVE", doc);
}

void
records_write_json_state(jw_t *w, const record_resource_t *r, const char *id, int64_t version,
                         const char *state, const bson_t *doc)
{
    bson_iter_t it;

    jw_object_begin(w);
    jw_key(w, "id");
    jw_string(w, id);
    jw_key(w, "version");
    jw_int(w, version);
    if (r->with_state) {
        jw_key(w, "state");
        jw_string(w, state);
    }
    if (bson_iter_init(&it, doc)) {
        while (bson_iter_next(&it)) {
            jw_key(w, bson_iter_key(&it));
            codec_value_to_json(w, &it);
        }
    }
    jw_object_end(w);
}

/* An access-log row for a read of personal data; nothing for other kinds.
 * A read that disclosed health carries fields ["health"] and its purpose. */
static bool
log_read(const app_t *app, request_t *req, store_conn_t *conn, const record_resource_t *r,
         const char *what, const char *id, bool disclosed, const char *purpose, kt_error_t *err)
{
    static const char *const health[] = {HEALTH_MEMBER, NULL};
    const char *ids[] = {id};

    if (!r->kind->logged)
        return true;
    return audit_log_read_fields(conn, &req->principal, req->request_id, what, ids, 1,
                                 disclosed ? health : NULL, purpose, err);
}

/* The health block of a kind that has one (service/healthdata.h). */
static healthdata_t
health_of(const app_t *app, request_t *req, store_conn_t *conn)
{
    healthdata_t h = {app->health_ring, conn, &req->principal};
    return h;
}

/* A stored document as this principal may see it (kinds without health: as
 * is). doc is replaced in place (healthdata_view destroys it and steals the
 * new one), so a caller that still needs the stored form passes a copy. */
static bool
view(const app_t *app, request_t *req, store_conn_t *conn, const record_resource_t *r, bson_t *doc,
     bool *disclosed, kt_error_t *err)
{
    healthdata_t h = health_of(app, req, conn);

    *disclosed = false;
    return !r->health || healthdata_view(&h, doc, disclosed, err);
}

/* The purpose of a read (kinds without health: none). */
static bool
purpose_of(const record_resource_t *r, request_t *req, const char **out, kt_error_t *err)
{
    *out = NULL;
    return !r->health || handler_purpose(req, out, err);
}

/* The document to store for doc (cur: the current stored one, NULL on create). */
static bool
seal(const app_t *app, request_t *req, store_conn_t *conn, const record_resource_t *r,
     const bson_t *cur, const bson_t *doc, bson_t *stored, kt_error_t *err)
{
    healthdata_t h = health_of(app, req, conn);

    if (r->health)
        return healthdata_seal(&h, cur, doc, stored, err);
    /* stored is the caller's, initialised: the _noinit copy appends into it
     * (bson_copy_to would initialise it over itself). "" excludes nothing. */
    bson_copy_to_excluding_noinit(doc, stored, "", NULL);
    return true;
}

static void
gone_extra(jw_t *w, void *ctx)
{
    const record_t *s = ctx;
    bson_iter_t it;

    jw_key(w, "deleted_at");
    jw_string(w, util_get_str(&s->record, "time"));
    jw_key(w, "deleted_by");
    if (bson_iter_init_find(&it, &s->record, "principal"))
        codec_value_to_json(w, &it);
    else
        jw_null(w);
    jw_key(w, "reason");
    jw_string(w, util_get_str(&s->record, "reason"));
    jw_key(w, "version");
    jw_int(w, s->version);
}

/* A merged record's problem names its survivor and when and why it was merged. */
static void
merged_extra(jw_t *w, void *ctx)
{
    const record_t *s = ctx;

    jw_key(w, "merged_at");
    jw_string(w, util_get_str(&s->record, "time"));
    jw_key(w, "reason");
    jw_string(w, util_get_str(&s->record, "reason"));
    jw_key(w, "version");
    jw_int(w, s->version);
}

/* GET of a merged record: 301 to the survivor (docs/api.md, "Merge and
 * unmerge": the child's data lives on there; an unmerge may revive this
 * record, so the redirect is not cached). A write to it is 410 GONE with
 * the same merged_into. */
static bool
answer_merged(request_t *req, response_t *res, const record_t *s, bool read, kt_error_t *err)
{
    const char *to = util_get_str(&s->record, "merged_into");

    if (read)
        kt_error_set(err, KT_DOMAIN_INPUT, KT_MERGED, "the record was merged into %s",
                     to ? to : "");
    else
        kt_error_set(err, KT_DOMAIN_INPUT, KT_GONE, "the record was merged into %s", to ? to : "");
    snprintf(err->ref, sizeof err->ref, "%s", to ? to : "");
    /* A write meets a closed record, as after a delete: when, by whom, why. */
    problem_render_with(res, req, err, read ? merged_extra : gone_extra, (void *)s);
    if (read && to != NULL) {
        response_header(res, "Location", arena_printf(req->arena, "/api/v1/students/%s", to));
        response_header(res, "Cache-Control", "no-store");
    }
    return true;
}

bool
records_answer_gone(request_t *req, response_t *res, const record_t *s, kt_error_t *err)
{
    if (record_is_merged(s))
        return answer_merged(req, res, s, false, err);
    kt_error_set(err, KT_DOMAIN_INPUT, KT_GONE, "the record was deleted");
    problem_render_with(res, req, err, gone_extra, (void *)s);
    return true;
}

bool
records_wants_xml(const request_t *req)
{
    const char *accept = request_header(req, "accept");

    return accept != NULL && (strstr(accept, "application/xml") || strstr(accept, "text/xml")) &&
           !strstr(accept, "application/json");
}

/* The record as the root element of the exchange XSD. */
static bool
answer_xml(const app_t *app, request_t *req, response_t *res, const record_resource_t *r,
           const record_t *s, kt_error_t *err)
{
    xmlBufferPtr out = xmlBufferCreate();
    xmlTextWriterPtr w = out ? xmlNewTextWriterMemory(out, 0) : NULL;
    bool ok = w != NULL && xmlTextWriterStartDocument(w, "1.0", "UTF-8", NULL) >= 0 &&
              r->write_xml(w, s) && xmlTextWriterEndDocument(w) >= 0;

    if (w != NULL)
        xmlFreeTextWriter(w);
    if (ok) {
        response_reset(res, 200, "application/xml; charset=utf-8");
        handler_etag(app, req, res, s->version);
        buf_append(&res->body, xmlBufferContent(out), (size_t)xmlBufferLength(out));
    } else {
        kt_error_set(err, KT_DOMAIN_INTERNAL, KT_INTERNAL, "cannot write the %s as XML",
                     r->kind->name);
    }
    if (out != NULL)
        xmlBufferFree(out);
    return ok;
}

static void
answer(const app_t *app, request_t *req, response_t *res, const record_resource_t *r, int status,
       const char *id, int64_t version, const bson_t *doc)
{
    jw_t w;

    response_reset(res, status, "application/json");
    handler_etag(app, req, res, version);
    jw_init(&w, &res->body);
    records_write_json(&w, r, id, version, false, doc);
}

bool
records_log_write(const app_t *app, request_t *req, store_conn_t *conn, const store_kind_t *kind,
                  const char *id)
{
    const char *ids[] = {id};
    kt_error_t err;

    if (!kind->logged)
        return true;
    if (audit_log_read(conn, &req->principal, req->request_id, "write", ids, 1, &err))
        return true;
    log_event(LOG_ERROR,
              "request %s: the access log refused the answer to a write of %s %s (%s): "
              "answered without personal data",
              req->request_id, kind->name, id, err.message);
    return false;
}

/*
 * The answer to a write that stored version `version` of doc: the document
 * without the health block (a write never opens the stored block, and does
 * not echo the writer's: docs/health.md), access-logged like a read because a
 * merge patch answers with data the writer did not send. The write stands
 * whatever happens next: when the access log cannot be written the answer
 * carries only the id and version, so no personal data leaves unlogged.
 */
static void
answer_write(const app_t *app, request_t *req, response_t *res, store_conn_t *conn,
             const record_resource_t *r, int status, const write_result_t *out, const bson_t *doc)
{
    bson_t shown = BSON_INITIALIZER;

    if (records_log_write(app, req, conn, r->kind, out->id))
        bson_copy_to_excluding_noinit(doc, &shown, HEALTH_MEMBER, NULL);
    answer(app, req, res, r, status, out->id, out->version, &shown);
    bson_destroy(&shown);
}

bool
records_get(const app_t *app, request_t *req, response_t *res, const record_resource_t *r,
            kt_error_t *err)
{
    store_conn_t *conn = handler_conn(app, req);
    const char *as_of = NULL, *purpose = NULL;
    record_t s;
    bool ok = false, disclosed = false;

    record_init(&s);
    if (conn == NULL || !handler_as_of(req, &as_of, err) || !purpose_of(r, req, &purpose, err) ||
        !r->load(app, req, conn, &s, err))
        goto done;
    if (as_of != NULL) { /* visible now (load), then read as it was */
        record_release(&s);
        record_init(&s);
        if (!store_record_as_of(conn, r->kind, req->params[0], as_of, &s, err))
            goto done;
    }
    if (record_is_merged(&s)) {
        ok = answer_merged(req, res, &s, true, err);
        goto done;
    }
    if (s.deleted) {
        ok = records_answer_gone(req, res, &s, err);
        goto done;
    }
    const char *what = as_of ? arena_printf(req->arena, "%s_as_of", r->kind->name) : r->kind->name;
    if (what == NULL || !view(app, req, conn, r, &s.doc, &disclosed, err) ||
        !log_read(app, req, conn, r, what, s.id, disclosed, purpose, err))
        goto done;
    if (records_wants_xml(req)) {
        ok = answer_xml(app, req, res, r, &s, err);
        goto done;
    }
    answer(app, req, res, r, 200, s.id, s.version, &s.doc);
    ok = true;
done:
    record_release(&s);
    return ok;
}

void
records_fill_meta(request_t *req, write_meta_t *meta, const char *reason)
{
    memset(meta, 0, sizeof *meta);
    meta->principal = &req->principal;
    meta->request_id = req->request_id;
    meta->reason = reason;
#ifdef KT_FAULT_INJECTION
    meta->fault = request_header(req, "x-kt-fault");
#endif
}

/* A 409 DUPLICATE_SNILS/DUPLICATE_DOCUMENT names the holder (existing_id)
 * only to a principal who may read that student: to any other the duplicate
 * is refused alike, without the id (issue 12, docs/security.md). */
static void
hide_holder(const app_t *app, request_t *req, store_conn_t *conn, const record_resource_t *r,
            kt_error_t *err)
{
    record_t holder;
    kt_error_t e;

    if ((err->code != KT_DUPLICATE_SNILS && err->code != KT_DUPLICATE_DOCUMENT) ||
        err->ref[0] == '\0')
        return;
    kt_error_clear(&e);
    record_init(&holder);
    if (!store_record_get(conn, r->kind, err->ref, &holder, &e) || holder.deleted ||
        !students_visible(req, &holder.doc))
        err->ref[0] = '\0';
    record_release(&holder);
}

bool
records_create(const app_t *app, request_t *req, response_t *res, const record_resource_t *r,
               kt_error_t *err)
{
    store_conn_t *conn = handler_conn(app, req);
    json_value_t *body = NULL;
    const char *reason = NULL;
    bson_t doc = BSON_INITIALIZER, stored = BSON_INITIALIZER;
    const char *flagged = NULL;
    write_meta_t meta;
    write_result_t out;
    bool ok = false;

    if (conn == NULL || !handler_reason(req, &reason, err) || !handler_json_body(req, &body, err) ||
        (r->health && !healthdata_check_body(&req->principal, body, req->arena, err)) ||
        !r->validate(app, req, conn, body, NULL, &doc, err) ||
        !seal(app, req, conn, r, NULL, &doc, &stored, err))
        goto done;
    records_fill_meta(req, &meta, reason);
    if (!store_record_write(conn, r->kind, WRITE_CREATE, r->new_id ? r->new_id(&doc) : NULL, 0,
                            &stored, &meta, &out, err)) {
        hide_holder(app, req, conn, r, err);
        goto done;
    }
    if (r->identity) /* persons: probable duplicates are flagged (docs/duplicates.md) */
        flagged = duplicates_after_create(app, req, conn, &meta, out.id, &doc);
    answer_write(app, req, res, conn, r, 201, &out, &doc);
    response_header(res, "Location", arena_printf(req->arena, "%s%s", r->location, out.id));
    if (flagged != NULL)
        response_header(res, "X-Probable-Duplicates", flagged);
    ok = true;
done:
    bson_destroy(&doc);
    bson_destroy(&stored);
    return ok;
}

/* The merge-patch base: the current document as this principal sees it. */
static json_value_t *
patch_base(const app_t *app, request_t *req, store_conn_t *conn, const record_resource_t *r,
           const bson_t *cur, kt_error_t *err)
{
    bson_t seen;
    bool disclosed;
    json_value_t *tree;

    /* view() replaces its document; cur keeps the sealed block that
     * update_once() compares the new one against, so the view gets a copy.
     * The tree lives in the arena and borrows nothing from seen. */
    bson_copy_to(cur, &seen);
    tree = view(app, req, conn, r, &seen, &disclosed, err) ? codec_bson_to_tree(req->arena, &seen)
                                                           : NULL;
    bson_destroy(&seen);
    return tree;
}

typedef struct {
    const app_t *app;
    request_t *req;
    store_conn_t *conn;
    const record_resource_t *r;
    const json_value_t *body;
    bool merge;
    write_meta_t *meta; /* the write's: its identity_change is set by update_compose */
    bson_t shown;       /* the validated document, as the answer shows it */
} update_t;

static bool
update_load(void *ctx, const char *id, record_t *cur, kt_error_t *err)
{
    update_t *u = ctx;

    return u->r->load(u->app, u->req, u->conn, cur, err);
}

/* A write that changes who the record is (a person's identity fields) is
 * allowed with a reason only, and its version's kind says so. */
static bool
identity_rule(update_t *u, const record_t *cur, kt_error_t *err)
{
    u->meta->identity_change = false;
    if (!u->r->identity || !identity_changed(&cur->doc, &u->shown))
        return true;
    if (u->meta->reason == NULL) {
        kt_error_set_status(err, KT_DOMAIN_INPUT, KT_REQUIRED, 400,
                            "a change of last_name, first_name, birth_date or sex needs a reason "
                            "(?reason= or X-Reason)");
        kt_error_add_field(err, u->req->arena, "/reason", KT_REQUIRED, NULL);
        return false;
    }
    u->meta->identity_change = true;
    return true;
}

/* The new document: the body (or the body merged into the current document
 * as this principal sees it), validated against cur, then sealed. */
static bool
update_compose(void *ctx, const record_t *cur, bson_t *stored, kt_error_t *err)
{
    update_t *u = ctx;
    const json_value_t *full = u->body;

    if (u->merge) {
        const json_value_t *base = patch_base(u->app, u->req, u->conn, u->r, &cur->doc, err);
        full = base != NULL ? patch_merge(u->req->arena, base, u->body) : NULL;
    }
    bson_reinit(&u->shown);
    return full != NULL &&
           u->r->validate(u->app, u->req, u->conn, full, &cur->doc, &u->shown, err) &&
           identity_rule(u, cur, err) &&
           seal(u->app, u->req, u->conn, u->r, &cur->doc, &u->shown, stored, err);
}

bool
records_update(const app_t *app, request_t *req, response_t *res, const record_resource_t *r,
               bool merge, kt_error_t *err)
{
    store_conn_t *conn = handler_conn(app, req);
    json_value_t *body = NULL;
    const char *reason = NULL;
    int64_t expected = 0;
    write_meta_t meta;
    write_result_t out;
    bson_t stored = BSON_INITIALIZER;
    record_t cur;
    bool ok = false;
    update_t u = {app, req, conn, r, NULL, merge, &meta, BSON_INITIALIZER};

    record_init(&cur);
    if (conn == NULL || !handler_if_match(app, req, &expected, err) ||
        !handler_reason(req, &reason, err) || !handler_json_body(req, &body, err) ||
        (r->health && !healthdata_check_body(&req->principal, body, req->arena, err)))
        goto done;
    records_fill_meta(req, &meta, reason);
    u.body = body;
    service_update_t su = {.kind = r->kind,
                           .id = req->params[0],
                           .expected = expected,
                           .meta = &meta,
                           .load = update_load,
                           .compose = update_compose,
                           .ctx = &u};
    if (service_update(conn, &su, &cur, &stored, &out, err)) {
        answer_write(app, req, res, conn, r, 200, &out, &u.shown);
        ok = true;
    } else if (err->code == KT_GONE && cur.deleted) {
        ok = records_answer_gone(req, res, &cur, err);
    } else {
        hide_holder(app, req, conn, r, err);
    }
done:
    record_release(&cur);
    bson_destroy(&stored);
    bson_destroy(&u.shown);
    return ok;
}

/* {"pointer": path, "old": …, "new": …} for each visible change. */
static void
write_changes(jw_t *w, const bson_t *changes)
{
    bson_iter_t arr, item;

    jw_array_begin(w);
    if (bson_iter_init(&arr, changes)) {
        while (bson_iter_next(&arr)) {
            if (!BSON_ITER_HOLDS_DOCUMENT(&arr) || !bson_iter_recurse(&arr, &item))
                continue;
            jw_object_begin(w);
            while (bson_iter_next(&item)) {
                const char *k = bson_iter_key(&item);
                jw_key(w, strcmp(k, "path") == 0 ? "pointer" : k);
                codec_value_to_json(w, &item);
            }
            jw_object_end(w);
        }
    }
    jw_array_end(w);
}

static void
write_member(jw_t *w, const bson_t *record, const char *key)
{
    bson_iter_t it;

    jw_key(w, key);
    if (bson_iter_init_find(&it, record, key))
        codec_value_to_json(w, &it);
    else
        jw_null(w);
}

/* The other record a merge or unmerge version names, when it names one
 * (service/merge.h): only those versions carry the member. */
static void
write_links(jw_t *w, const bson_t *record)
{
    static const char *const links[] = {"merged_into", "merged_from", "unmerged", "unmerged_from"};

    for (size_t i = 0; i < sizeof links / sizeof *links; i++)
        if (util_get_str(record, links[i]) != NULL)
            write_member(w, record, links[i]);
}

static void
write_entry_changes(jw_t *w, const bson_t *record, const char *id_member, const bson_t *changes)
{
    jw_object_begin(w);
    if (id_member != NULL)
        write_member(w, record, id_member);
    jw_key(w, "version");
    jw_int(w, util_get_int(record, "version", 0));
    write_member(w, record, "time");
    write_member(w, record, "kind");
    write_member(w, record, "state");
    write_member(w, record, "principal");
    write_member(w, record, "source");
    write_member(w, record, "reason");
    write_member(w, record, "hash");
    write_links(w, record);
    jw_key(w, "changes");
    write_changes(w, changes);
    jw_object_end(w);
}

/* A version record as history shows it, for principals that may not see
 * health: the sealed block's entries are left out (service/healthdata.h). */
void
records_write_entry(jw_t *w, const bson_t *record, const char *id_member)
{
    bson_t changes = BSON_INITIALIZER;

    healthdata_strip_changes(record, &changes);
    write_entry_changes(w, record, id_member, &changes);
    bson_destroy(&changes);
}

static bool
history_start(const request_t *req, int64_t latest, int64_t *start, kt_error_t *err)
{
    const char *cursor = request_query(req, "cursor");

    *start = latest;
    if (cursor == NULL)
        return true;
    if (!handler_parse_int(cursor, start) || *start < 1 || *start > latest) {
        kt_error_set_status(err, KT_DOMAIN_INPUT, KT_FORMAT, 400,
                            "cursor is not a version of this history");
        return false;
    }
    return true;
}

/* The changes of version s this principal may see: for a kind with health,
 * the sealed block's entries removed, or replaced by the opened blocks'
 * own diff (the version before read only when needed). */
static bool
visible_changes(const app_t *app, request_t *req, store_conn_t *conn, const record_resource_t *r,
                const record_t *s, bson_t *changes, bool *disclosed, kt_error_t *err)
{
    healthdata_t h = health_of(app, req, conn);
    record_t prev;
    bson_iter_t it;
    bool ok, need;

    *disclosed = false;
    if (!r->health) {
        if (bson_iter_init_find(&it, &s->record, "changes") && BSON_ITER_HOLDS_ARRAY(&it)) {
            const uint8_t *data;
            uint32_t len;
            bson_t view_of;
            bson_iter_array(&it, &len, &data);
            /* view_of borrows s->record's bytes; changes (the caller's,
             * initialised) gets its own copy of them. */
            if (bson_init_static(&view_of, data, len))
                bson_copy_to_excluding_noinit(&view_of, changes, "", NULL);
        }
        return true;
    }
    need = s->version > 1 && principal_can_see_health(&req->principal) &&
           healthdata_changes_touch(&s->record);
    record_init(&prev);
    ok = !need || store_record_get_version(conn, r->kind, s->id, s->version - 1, &prev, err);
    ok = ok && healthdata_changes(&h, s, need ? &prev.doc : NULL, changes, disclosed, err);
    record_release(&prev);
    return ok;
}

bool
records_history(const app_t *app, request_t *req, response_t *res, const record_resource_t *r,
                kt_error_t *err)
{
    store_conn_t *conn = handler_conn(app, req);
    const char *purpose = NULL;
    record_t cur;
    int64_t start, v;
    int limit;
    jw_t w;
    bool ok = false, disclosed = false;

    record_init(&cur);
    if (conn == NULL || !handler_limit(req, &limit, err) || !purpose_of(r, req, &purpose, err) ||
        !r->load(app, req, conn, &cur, err) || !history_start(req, cur.version, &start, err))
        goto done;
    response_reset(res, 200, "application/json");
    jw_init(&w, &res->body);
    jw_object_begin(&w);
    jw_key(&w, "items");
    jw_array_begin(&w);
    for (v = start; v >= 1 && v > start - limit; v--) {
        record_t s;
        bson_t changes = BSON_INITIALIZER;
        bool shown = false;
        record_init(&s);
        bool got = store_record_get_version(conn, r->kind, cur.id, v, &s, err) &&
                   visible_changes(app, req, conn, r, &s, &changes, &shown, err);
        if (got)
            write_entry_changes(&w, &s.record, NULL, &changes);
        disclosed = disclosed || shown;
        record_release(&s);
        bson_destroy(&changes);
        if (!got)
            goto done;
    }
    jw_array_end(&w);
    jw_key(&w, "next_cursor");
    if (v >= 1)
        jw_string(&w, arena_printf(req->arena, "%lld", (long long)v));
    else
        jw_null(&w);
    jw_object_end(&w);
    ok = log_read(app, req, conn, r, "history", cur.id, disclosed, purpose, err);
done:
    record_release(&cur);
    return ok;
}

bool
records_version(const app_t *app, request_t *req, response_t *res, const record_resource_t *r,
                kt_error_t *err)
{
    store_conn_t *conn = handler_conn(app, req);
    const char *purpose = NULL;
    record_t cur, s;
    int64_t n = 0;
    jw_t w;
    bool ok = false, disclosed = false;

    record_init(&cur);
    record_init(&s);
    /* Only a school needs the current version first: it sees a student's
     * versions while the student is its own. Everyone else reads version n
     * directly. */
    if (conn == NULL || !purpose_of(r, req, &purpose, err) ||
        (req->principal.role == ROLE_SCHOOL && !r->load(app, req, conn, &cur, err)))
        goto done;
    if (!handler_parse_int(req->params[1], &n) || n < 1) {
        kt_error_set(err, KT_DOMAIN_INPUT, KT_NOT_FOUND, "no such version");
        goto done;
    }
    if (!store_record_get_version(conn, r->kind, req->params[0], n, &s, err) ||
        !view(app, req, conn, r, &s.doc, &disclosed, err) ||
        !log_read(app, req, conn, r, "version", s.id, disclosed, purpose, err))
        goto done;
    response_reset(res, 200, "application/json");
    handler_etag(app, req, res, n);
    jw_init(&w, &res->body);
    records_write_json_state(&w, r, s.id, s.version, record_state(&s), &s.doc);
    ok = true;
done:
    record_release(&cur);
    record_release(&s);
    return ok;
}
