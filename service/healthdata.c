/* healthdata: sealing, opening and hiding the health block (see service/healthdata.h). */
#include "service/healthdata.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <string.h>

#include "core/utf8.h"
#include "model/diff.h"
#include "store/health_keys.h"

#define REWRAP_PAGE 200

/* The sub-document member key of doc as a static view; false when absent.
 * out borrows doc's bytes: it needs no destroy and dies with doc. */
static bool
sub_document(const bson_t *doc, const char *key, bson_t *out)
{
    bson_iter_t it;
    const uint8_t *data;
    uint32_t len;

    if (doc == NULL || !bson_iter_init_find(&it, doc, key) || !BSON_ITER_HOLDS_DOCUMENT(&it))
        return false;
    bson_iter_document(&it, &len, &data);
    return bson_init_static(out, data, len);
}

bool
healthdata_has_sealed(const bson_t *doc)
{
    bson_t sealed;
    return sub_document(doc, HEALTH_SEALED, &sealed);
}

bool
healthdata_check_body(const principal_t *who, const json_value_t *body, arena_t *arena,
                      kt_error_t *err)
{
    if (body == NULL || body->type != JSON_OBJECT || principal_can_see_health(who) ||
        json_get(body, HEALTH_MEMBER) == NULL)
        return true;
    kt_error_set(err, KT_DOMAIN_AUTH, KT_FORBIDDEN, 403,
                 "writing health data needs the health scope");
    if (arena != NULL)
        kt_error_add_field(err, arena, "/" HEALTH_MEMBER, KT_FORBIDDEN, NULL);
    return false;
}

/* Opens a sealed block into plain (initialised when true). */
static bool
open_block(const healthdata_t *h, const bson_t *sealed, bson_t *plain, kt_error_t *err)
{
    const char *kid = seal_block_kid(sealed);
    unsigned char dk[SEAL_KEY_LEN];
    bson_t wraps;
    bool found = false, ok;

    if (kid == NULL) {
        kt_error_set(err, KT_DOMAIN_INTERNAL, KT_INTEGRITY, 500, "a sealed block has no key id");
        return false;
    }
    if (!health_keys_get(h->conn, kid, &wraps, &found, err))
        return false;
    if (!found) {
        kt_error_set(err, KT_DOMAIN_INTERNAL, KT_KEY_UNAVAILABLE, 503,
                     "data key %s is not in health_keys", kid);
        return false;
    }
    ok = seal_unwrap_any(h->ring, kid, &wraps, dk, err) && seal_open(dk, sealed, plain, err);
    OPENSSL_cleanse(dk, sizeof dk);
    bson_destroy(&wraps);
    return ok;
}

static bool copy_sealed(const bson_t *doc, const bson_t *sealed, bson_t *out);

/* Seals plain under a fresh data key wrapped by the current KEK; out is doc
 * with the block as HEALTH_SEALED (copy_sealed). */
static bool
seal_new(const healthdata_t *h, const bson_t *doc, const bson_t *plain, bson_t *out,
         kt_error_t *err)
{
    const seal_kek_t *kek = seal_keyring_current(h->ring, err);
    unsigned char dk[SEAL_KEY_LEN];
    char dkid[SEAL_DKID_LEN + 1];
    bson_t wraps = BSON_INITIALIZER, block = BSON_INITIALIZER;
    bool ok = kek != NULL && seal_new_data_key(dk, dkid, err) &&
              seal_wrap(kek, dkid, dk, &wraps, err) &&
              health_keys_insert(h->conn, dkid, &wraps, err) &&
              seal_block(dk, dkid, plain, &block, err) && copy_sealed(doc, &block, out);

    OPENSSL_cleanse(dk, sizeof dk);
    bson_destroy(&wraps);
    bson_destroy(&block);
    return ok;
}

/* Copies doc's members but "health" into out with sealed (nullable) as
 * HEALTH_SEALED where the store keeps it: before "education" (which events
 * append last, model/education.c), else last. One place, so that a write that
 * changes nothing stores the same bytes as the version before. */
static bool
copy_sealed(const bson_t *doc, const bson_t *sealed, bson_t *out)
{
    bson_iter_t it;
    bool ok = bson_iter_init(&it, doc), placed = sealed == NULL;

    while (ok && bson_iter_next(&it)) {
        const char *key = bson_iter_key(&it);
        if (strcmp(key, HEALTH_MEMBER) == 0 || strcmp(key, HEALTH_SEALED) == 0)
            continue;
        if (!placed && strcmp(key, "education") == 0)
            placed = BSON_APPEND_DOCUMENT(out, HEALTH_SEALED, sealed);
        ok = bson_append_iter(out, NULL, 0, &it);
    }
    return ok && (placed || BSON_APPEND_DOCUMENT(out, HEALTH_SEALED, sealed));
}

/* Copies doc's members but skip into out. */
static void
copy_except(const bson_t *doc, const char *skip, bson_t *out)
{
    bson_iter_t it;

    if (!bson_iter_init(&it, doc))
        return;
    while (bson_iter_next(&it))
        if (strcmp(bson_iter_key(&it), skip) != 0)
            bson_append_iter(out, NULL, 0, &it);
}

static bool
same_bytes(const bson_t *a, const bson_t *b)
{
    return a->len == b->len && memcmp(bson_get_data(a), bson_get_data(b), a->len) == 0;
}

bool
healthdata_seal(const healthdata_t *h, const bson_t *cur, const bson_t *doc, bson_t *stored,
                kt_error_t *err)
{
    bson_t plain, cur_sealed, cur_plain;
    bool has_plain = sub_document(doc, HEALTH_MEMBER, &plain);
    bool has_cur = sub_document(cur, HEALTH_SEALED, &cur_sealed), same;

    if (!has_plain)
        return copy_sealed(doc, has_cur && !principal_can_see_health(h->who) ? &cur_sealed : NULL,
                           stored);
    if (!principal_can_see_health(h->who)) { /* callers check first; never store it unasked */
        kt_error_set(err, KT_DOMAIN_AUTH, KT_FORBIDDEN, 403, "health data needs the health scope");
        return false;
    }
    /* A current block that cannot be opened (its key retired, or tampered with) is
     * simply replaced: the no-op check needs it, the new block does not. */
    if (has_cur && open_block(h, &cur_sealed, &cur_plain, NULL)) {
        same = same_bytes(&cur_plain, &plain);
        bson_destroy(&cur_plain);
        if (same)
            return copy_sealed(doc, &cur_sealed, stored);
    }
    return seal_new(h, doc, &plain, stored, err);
}

bool
healthdata_view(const healthdata_t *h, bson_t *doc, bool *disclosed, kt_error_t *err)
{
    bson_t sealed, plain, out = BSON_INITIALIZER;
    bool show = principal_can_see_health(h->who);

    if (disclosed != NULL)
        *disclosed = false;
    if (!sub_document(doc, HEALTH_SEALED, &sealed)) {
        bson_destroy(&out);
        return true;
    }
    if (show && !open_block(h, &sealed, &plain, err)) {
        bson_destroy(&out);
        return false;
    }
    copy_except(doc, HEALTH_SEALED, &out);
    if (show) {
        BSON_APPEND_DOCUMENT(&out, HEALTH_MEMBER, &plain);
        bson_destroy(&plain);
        if (disclosed != NULL)
            *disclosed = true;
    }
    bson_destroy(doc);
    bson_steal(doc, &out); /* steals out: doc is the caller's to destroy, as before */
    return true;
}

/* Whether a stored change's path is the sealed block or inside it. */
static bool
sealed_path(const bson_iter_t *entry)
{
    static const char prefix[] = "/" HEALTH_SEALED;
    bson_iter_t it;
    const char *path;

    if (!BSON_ITER_HOLDS_DOCUMENT(entry) || !bson_iter_recurse(entry, &it) ||
        !bson_iter_find(&it, "path") || !BSON_ITER_HOLDS_UTF8(&it))
        return false;
    path = bson_iter_utf8(&it, NULL);
    return strncmp(path, prefix, sizeof prefix - 1) == 0 &&
           (path[sizeof prefix - 1] == '\0' || path[sizeof prefix - 1] == '/');
}

void
healthdata_strip_changes(const bson_t *record, bson_t *changes)
{
    bson_iter_t it, arr;
    char key[24];
    size_t n = 0;

    if (!bson_iter_init_find(&it, record, "changes") || !BSON_ITER_HOLDS_ARRAY(&it) ||
        !bson_iter_recurse(&it, &arr))
        return;
    while (bson_iter_next(&arr)) {
        if (sealed_path(&arr))
            continue;
        snprintf(key, sizeof key, "%zu", n++);
        bson_append_iter(changes, key, -1, &arr);
    }
}

bool
healthdata_changes_touch(const bson_t *record)
{
    bson_iter_t it, arr;

    if (!bson_iter_init_find(&it, record, "changes") || !BSON_ITER_HOLDS_ARRAY(&it) ||
        !bson_iter_recurse(&it, &arr))
        return false;
    while (bson_iter_next(&arr))
        if (sealed_path(&arr))
            return true;
    return false;
}

/* {health: <opened block>} of a stored document, or {} when it has none. */
static bool
health_wrapper(const healthdata_t *h, const bson_t *doc, bson_t *out, kt_error_t *err)
{
    bson_t sealed, plain;

    bson_init(out);
    if (doc == NULL || !sub_document(doc, HEALTH_SEALED, &sealed))
        return true;
    if (!open_block(h, &sealed, &plain, err))
        return false;
    BSON_APPEND_DOCUMENT(out, HEALTH_MEMBER, &plain);
    bson_destroy(&plain);
    return true;
}

/* Appends the entries of from to the array to, numbering from *n. */
static void
append_entries(bson_t *to, const bson_t *from, size_t *n)
{
    bson_iter_t it;
    char key[24];

    if (!bson_iter_init(&it, from))
        return;
    while (bson_iter_next(&it)) {
        snprintf(key, sizeof key, "%zu", (*n)++);
        bson_append_iter(to, key, -1, &it);
    }
}

bool
healthdata_changes(const healthdata_t *h, const record_t *s, const bson_t *prev, bson_t *changes,
                   bool *disclosed, kt_error_t *err)
{
    bson_iter_t it, arr;
    bson_t stored = BSON_INITIALIZER, before, after, diff = BSON_INITIALIZER;
    bool touched = false, ok = true;
    size_t n = 0;

    *disclosed = false;
    if (bson_iter_init_find(&it, &s->record, "changes") && BSON_ITER_HOLDS_ARRAY(&it) &&
        bson_iter_recurse(&it, &arr)) {
        while (bson_iter_next(&arr)) {
            if (sealed_path(&arr))
                touched = true;
            else
                bson_append_iter(&stored, NULL, 0, &arr);
        }
    }
    append_entries(changes, &stored, &n);
    if (touched && principal_can_see_health(h->who)) {
        ok = health_wrapper(h, prev, &before, err);
        if (ok && !(ok = health_wrapper(h, &s->doc, &after, err)))
            bson_destroy(&before);
        if (ok) {
            diff_documents(&before, &after, NULL, &diff);
            append_entries(changes, &diff, &n);
            *disclosed = true;
            bson_destroy(&before);
            bson_destroy(&after);
        }
    }
    bson_destroy(&stored);
    bson_destroy(&diff);
    return ok;
}

/* ---- rotation -------------------------------------------------------------------------- */

typedef struct {
    const healthdata_t *h;
    const seal_kek_t *kek;
    long done;
    char last[128];
    int seen;
    kt_error_t *err;
    bool failed;
} rewrap_t;

static bool
rewrap_one(void *ctx, const bson_t *doc)
{
    rewrap_t *r = ctx;
    const char *dkid = util_get_str(doc, "_id");
    unsigned char dk[SEAL_KEY_LEN];
    bson_t wraps, next = BSON_INITIALIZER;
    bool ok;

    r->seen++;
    if (dkid != NULL)
        snprintf(r->last, sizeof r->last, "%s", dkid);
    if (dkid == NULL || strlen(dkid) != SEAL_DKID_LEN || !sub_document(doc, "wraps", &wraps))
        return true; /* not ours to mend */
    /* wraps borrows the cursor's doc, valid during this call only; next is
     * our own copy, without any wrap under the new KEK (seal_wrap appends
     * that one, and a key must not appear twice). */
    bson_copy_to_excluding_noinit(&wraps, &next, r->kek->id, NULL);
    ok = seal_unwrap_any(r->h->ring, dkid, &wraps, dk, r->err) &&
         seal_wrap(r->kek, dkid, dk, &next, r->err) &&
         health_keys_put_wraps(r->h->conn, dkid, &next, r->err);
    OPENSSL_cleanse(dk, sizeof dk);
    bson_destroy(&next);
    r->done += ok;
    r->failed = !ok;
    return ok;
}

bool
healthdata_rewrap_pass(const healthdata_t *h, long *done, kt_error_t *err)
{
    rewrap_t r = {.h = h, .err = err};

    *done = 0;
    r.kek = seal_keyring_current(h->ring, err);
    if (r.kek == NULL)
        return false;
    do {
        r.seen = 0;
        if (!health_keys_each(h->conn, r.kek->id, r.last[0] ? r.last : NULL, REWRAP_PAGE,
                              rewrap_one, &r, err) ||
            r.failed)
            break;
    } while (r.seen == REWRAP_PAGE);
    *done = r.done;
    return !r.failed && (err == NULL || err->code == KT_OK);
}

typedef struct {
    const seal_keyring_t *ring;
    long total, unknown;
    long *per;
    long in_page;
    char last[64]; /* the last key counted: the next page starts after it */
} counts_t;

#define KEY_COUNT_PAGE 1000

static bool
count_one(void *ctx, const bson_t *doc)
{
    counts_t *c = ctx;
    bson_t wraps, box;
    bool any = false;

    const char *id = util_get_str(doc, "_id");

    c->total++;
    c->in_page++;
    snprintf(c->last, sizeof c->last, "%s", id ? id : "");
    for (size_t i = 0; sub_document(doc, "wraps", &wraps) && i < c->ring->n; i++) {
        if (sub_document(&wraps, c->ring->keys[i].id, &box)) {
            c->per[i]++;
            any = true;
        }
    }
    c->unknown += !any;
    return true;
}

bool
healthdata_key_counts(const healthdata_t *h, long *total, long per[SEAL_KEYS_MAX], long *unknown,
                      kt_error_t *err)
{
    static const seal_keyring_t none = {.n = 0};
    counts_t c = {.ring = h->ring ? h->ring : &none, .per = per};
    bool ok;

    memset(per, 0, sizeof(long) * SEAL_KEYS_MAX);
    do { /* in pages, so that memory does not grow with the keys */
        c.in_page = 0;
        ok = health_keys_each(h->conn, NULL, c.total > 0 ? c.last : NULL, KEY_COUNT_PAGE, count_one,
                              &c, err);
    } while (ok && c.in_page == KEY_COUNT_PAGE);
    *total = c.total;
    *unknown = c.unknown;
    return ok;
}
