/* feed: gapless sequence by probing inserts; readers verify each entry. */
#include "store/mongo/mongo.h"

#include <stdio.h>
#include <string.h>
#include <sys/time.h>

#include "store/util.h"

#define FEED_COLL       "changes"
#define COUNTERS_COLL   "counters"
#define FEED_HINT_ID    "changes"
#define FEED_MAX_PROBES 100000

static void
seq_id(int64_t seq, char out[24])
{
    snprintf(out, 24, "%020lld", (long long)seq);
}

/* The hint: the highest sequence some writer took (it may lag, never lead). */
static bool
read_hint(store_conn_t *conn, int64_t *hint, kt_error_t *err)
{
    bson_t doc;
    bool found;

    if (!mongo_find_id(conn, COUNTERS_COLL, FEED_HINT_ID, &doc, &found, err))
        return false;
    *hint = found ? util_get_int(&doc, "value", 0) : 0;
    bson_destroy(&doc);
    return true;
}

static void
write_hint(store_conn_t *conn, int64_t value)
{
    bson_t doc = BSON_INITIALIZER;
    kt_error_t ignored;

    BSON_APPEND_UTF8(&doc, "_id", FEED_HINT_ID);
    BSON_APPEND_INT64(&doc, "value", value);
    mongo_replace_id(conn, COUNTERS_COLL, FEED_HINT_ID, &doc, &ignored);
    bson_destroy(&doc);
}

static void
entry_doc(bson_t *doc, int64_t seq, const char *student_id, int64_t version, const char *kind,
          const char *org, const char *from_org, const char *time, int64_t now)
{
    char id[24];

    seq_id(seq, id);
    bson_init(doc);
    BSON_APPEND_UTF8(doc, "_id", id);
    BSON_APPEND_INT64(doc, "seq", seq);
    BSON_APPEND_UTF8(doc, "student_id", student_id);
    BSON_APPEND_INT64(doc, "version", version);
    BSON_APPEND_UTF8(doc, "kind", kind);
    BSON_APPEND_UTF8(doc, "organization", org ? org : "");
    if (from_org != NULL && from_org[0] != '\0' && (org == NULL || strcmp(org, from_org) != 0))
        BSON_APPEND_UTF8(doc, "from_organization", from_org);
    BSON_APPEND_UTF8(doc, "time", time);
    BSON_APPEND_INT64(doc, "reserved_ms", now);
}

bool
mongo_feed_reserve(store_conn_t *conn, const char *student_id, int64_t version, const char *kind,
                   const char *org, const char *from_org, const char *time, feed_ticket_t *ticket,
                   kt_error_t *err)
{
    int64_t hint = 0;

    if (!read_hint(conn, &hint, err))
        return false;
    /* Step 3 of the write protocol (write.c). The entry goes in before its
     * version; a crash after this insert leaves it without one, and readers
     * judge it void after FEED_LEASE_MS (resolve()). A crash before the hint
     * is written only leaves the hint lagging: the next writer probes on. */
    for (int64_t seq = hint + 1; seq <= hint + FEED_MAX_PROBES; seq++) {
        bson_t doc;
        int64_t now = feed_now_ms();
        entry_doc(&doc, seq, student_id, version, kind, org, from_org, time, now);
        insert_result_t rc = mongo_insert(conn, FEED_COLL, &doc, err);
        bson_destroy(&doc);
        if (rc == INSERT_FAILED)
            return false;
        if (rc == INSERT_OK) {
            ticket->seq = seq;
            ticket->reserved_ms = now;
            write_hint(conn, seq);
            return true;
        }
    }
    kt_error_set(err, KT_DOMAIN_STORE, KT_INTERNAL, "feed: no free sequence near the hint");
    return false;
}

static void
copy_str(char *dst, size_t size, const char *src)
{
    size_t n = src ? strlen(src) : 0;

    if (n >= size)
        n = size - 1;
    if (n)
        memcpy(dst, src, n);
    dst[n] = '\0';
}

typedef enum { ENTRY_VALID, ENTRY_VOID, ENTRY_PENDING } entry_state_t;

/* Decides an entry by its version: ours, somebody else's, or not there yet. */
static bool
resolve(store_conn_t *conn, const bson_t *entry, entry_state_t *state, kt_error_t *err)
{
    char vid[64];
    bson_t version;
    bool found;

    snprintf(vid, sizeof vid, "%s:%010lld", util_get_str(entry, "student_id"),
             (long long)util_get_int(entry, "version", 0));
    if (!mongo_find_id(conn, "student_versions", vid, &version, &found, err))
        return false;
    if (found)
        *state = util_get_int(&version, "seq", -1) == util_get_int(entry, "seq", -2) ? ENTRY_VALID
                                                                                     : ENTRY_VOID;
    else
        *state = feed_now_ms() - util_get_int(entry, "reserved_ms", 0) > FEED_LEASE_MS
                     ? ENTRY_VOID
                     : ENTRY_PENDING;
    bson_destroy(&version);
    return true;
}

static void
fill_entry(feed_entry_t *e, const bson_t *doc)
{
    memset(e, 0, sizeof *e);
    e->seq = util_get_int(doc, "seq", 0);
    e->version = util_get_int(doc, "version", 0);
    copy_str(e->student_id, sizeof e->student_id, util_get_str(doc, "student_id"));
    copy_str(e->kind, sizeof e->kind, util_get_str(doc, "kind"));
    copy_str(e->time, sizeof e->time, util_get_str(doc, "time"));
    copy_str(e->org, sizeof e->org, util_get_str(doc, "organization"));
    copy_str(e->from_org, sizeof e->from_org, util_get_str(doc, "from_organization"));
}

/* Whether the reader of org's feed sees e, and as what. */
static bool
entry_visible(feed_entry_t *e, const char *org)
{
    if (org == NULL || strcmp(org, e->org) == 0)
        return true;
    e->left = e->from_org[0] != '\0' && strcmp(org, e->from_org) == 0;
    return e->left;
}

bool
mongo_feed_read(store_conn_t *conn, int64_t since, int limit, const char *org, feed_visit_fn visit,
                void *ctx, int64_t *next, kt_error_t *err)
{
    int shown = 0;
    /* Entries of other schools advance the cursor but are not shown; bound
     * the work one page may do on them. */
    int budget = limit * 20 + 100;

    *next = since;
    for (int64_t seq = since + 1; shown < limit && budget-- > 0; seq++) {
        char id[24];
        bson_t entry;
        bool found;
        entry_state_t state = ENTRY_PENDING;

        seq_id(seq, id);
        if (!mongo_find_id(conn, FEED_COLL, id, &entry, &found, err))
            return false;
        bool ok = found && resolve(conn, &entry, &state, err);
        if (ok && state == ENTRY_VALID) {
            feed_entry_t e;
            fill_entry(&e, &entry);
            if (entry_visible(&e, org)) {
                visit(ctx, &e);
                shown++;
            }
        }
        bson_destroy(&entry);
        if (found && !ok)
            return false;
        /* An entry in flight ends the page and the cursor stays before it:
         * skipping it would lose it once its version lands. */
        if (!found || state == ENTRY_PENDING)
            break;
        *next = seq;
    }
    return true;
}
