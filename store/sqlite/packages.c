/*
 * packages: registrations, item results, receipt pages, the queue's bytes
 * and leases on SQLite (store/packages.h; tables in store/sqlite/schema.c).
 *
 * The documents are the MongoDB implementation's (store/mongo/packages.c),
 * member for member: the registration and the item results are BSON blobs,
 * with the members that queries use (status, received_at, packet_id, the
 * sender's organisation and subject) as columns beside them, written in the
 * same statement. What MongoDB does with unique _ids and a sequence of
 * single-document writes is a primary key and one transaction here: a
 * receipt's pages commit with the final status, a queued package's chunks
 * with INQUEUE, and a lease is one row changed inside BEGIN IMMEDIATE.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store/sqlite/sqlite.h"

/* A queued package's bytes are stored in chunks of this size. */
#define CHUNK_BYTES (8u << 20)

static int64_t
now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts); /* shared by every worker process */
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* One step of st: *row tells whether it gave a row; false with err set on
 * an error. */
static bool
step(sqlite3_stmt *st, store_conn_t *conn, const char *what, bool *row, kt_error_t *err)
{
    int rc = sqlite3_step(st);

    *row = rc == SQLITE_ROW;
    if (rc == SQLITE_ROW || rc == SQLITE_DONE)
        return true;
    sqlite_error(err, sqlite_db(conn), rc, what);
    return false;
}

/* Ends a use of a cached statement: a statement left on a row would keep
 * this connection's read snapshot open, and so stale, until reset. */
static bool
release(sqlite3_stmt *st, bool ok)
{
    if (st != NULL) {
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
    }
    return ok;
}

static void
damaged(kt_error_t *err, const char *what, const char *key)
{
    kt_error_set(err, KT_DOMAIN_STORE, KT_INTERNAL, "package %s: damaged %s", key, what);
}

/* Ends the transaction sqlite_begin opened: commits it when ok, undoes it
 * otherwise. Exactly one end per begin — inside a batch (store_batch_begin)
 * each is a savepoint, and one end too many would end the batch. */
static bool
end(store_conn_t *conn, bool ok, kt_error_t *err)
{
    if (ok)
        return sqlite_commit(conn, err); /* rolls back itself when it fails */
    sqlite_rollback(conn);
    return false;
}

/* The registration of key into out (initialised on every path). */
static bool
read_registration(store_conn_t *conn, const char *key, bson_t *out, bool *found, kt_error_t *err)
{
    sqlite3_stmt *st = sqlite_stmt(conn, "SELECT doc FROM packages WHERE key = ?", err);
    bool ok = false;

    bson_init(out);
    *found = false;
    if (st == NULL)
        return false;
    sqlite_bind_text(st, 1, key);
    if (!step(st, conn, "read package", found, err))
        return release(st, false);
    ok = true;
    if (*found) {
        bson_destroy(out); /* sqlite_column_bson initialises it again */
        ok = sqlite_column_bson(st, 0, out);
        if (!ok)
            damaged(err, "registration", key);
    }
    return release(st, ok);
}

/* The registration MongoDB stores (store/mongo/packages.c), member for member. */
static void
registration(bson_t *doc, const char *key, const char *packet_id, const char *hash,
             const principal_t *who, const char *source_system, const char *time)
{
    bson_t principal;

    BSON_APPEND_UTF8(doc, "_id", key);
    BSON_APPEND_UTF8(doc, "packet_id", packet_id);
    BSON_APPEND_UTF8(doc, "hash", hash);
    BSON_APPEND_UTF8(doc, "status", "PROCESSING");
    BSON_APPEND_UTF8(doc, "received_at", time);
    BSON_APPEND_UTF8(doc, "source_system", source_system);
    BSON_APPEND_DOCUMENT_BEGIN(doc, "principal", &principal);
    BSON_APPEND_UTF8(&principal, "subject", who->subject);
    BSON_APPEND_UTF8(&principal, "role", principal_role_name(who->role));
    BSON_APPEND_UTF8(&principal, "organization", who->org);
    BSON_APPEND_UTF8(&principal, "auth", principal_method_name(who->method));
    if (who->scopes & SCOPE_HEALTH)
        BSON_APPEND_UTF8(&principal, "scope", "health");
    bson_append_document_end(doc, &principal);
}

static const char *
or_empty(const char *s)
{
    return s != NULL ? s : "";
}

/* Inserts the registration doc unless key has one; *inserted tells which.
 * A copied registration of before the keys has no packet_id: its _id is. */
static bool
insert_registration(store_conn_t *conn, const bson_t *doc, bool *inserted, kt_error_t *err)
{
    sqlite3_stmt *st =
        sqlite_stmt(conn,
                    "INSERT INTO packages (key, packet_id, hash, status, received_at,"
                    " org, sender, doc) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
                    " ON CONFLICT (key) DO NOTHING",
                    err);
    bool ok;

    *inserted = false;
    if (st == NULL)
        return false;
    sqlite_bind_text(st, 1, util_get_str(doc, "_id"));
    sqlite_bind_text(st, 2,
                     util_get_str(doc, util_get_str(doc, "packet_id") ? "packet_id" : "_id"));
    sqlite_bind_text(st, 3, or_empty(util_get_str(doc, "hash")));
    sqlite_bind_text(st, 4, or_empty(util_get_str(doc, "status")));
    sqlite_bind_text(st, 5, or_empty(util_get_str(doc, "received_at")));
    sqlite_bind_text(st, 6, or_empty(util_get_str(doc, "principal.organization")));
    sqlite_bind_text(st, 7, or_empty(util_get_str(doc, "principal.subject")));
    sqlite_bind_bson(st, 8, doc);
    ok = sqlite_step_done(st, conn, "register package", err);
    *inserted = ok && sqlite3_changes(sqlite_db(conn)) == 1;
    return release(st, ok);
}

bool
sqlite_packages_register(store_conn_t *conn, const char *key, const char *packet_id,
                         const char *hash, const principal_t *who, const char *source_system,
                         package_seen_t *seen, bson_t *existing, kt_error_t *err)
{
    bson_t doc = BSON_INITIALIZER;
    char time[32];
    bool inserted = false, found = false, tx, ok = false;
    const char *stored;

    bson_init(existing); /* initialised on every path: the caller destroys it */
    *seen = PACKAGE_NEW;
    util_time_now(time);
    registration(&doc, key, packet_id, hash, who, source_system, time);
    /* The insert and the read of what it found see the same state. */
    if (!sqlite_begin(conn, err))
        goto done;
    tx = insert_registration(conn, &doc, &inserted, err);
    if (tx && !inserted) {
        bson_destroy(existing); /* read_registration initialises it again */
        tx = read_registration(conn, key, existing, &found, err);
    }
    if (!end(conn, tx, err))
        goto done;
    if (inserted) {
        ok = true;
        goto done;
    }
    stored = found ? util_get_str(existing, "hash") : NULL;
    if (stored == NULL || strcmp(stored, hash) != 0) {
        kt_error_set(err, KT_DOMAIN_INPUT, KT_DUPLICATE_PACKET,
                     "PacketID %s was received before with other content", packet_id);
        goto done;
    }
    *seen = packages_has_receipt(existing) ? PACKAGE_SAME : PACKAGE_UNFINISHED;
    ok = true;
done:
    bson_destroy(&doc);
    return ok;
}

bool
sqlite_packages_item_get(store_conn_t *conn, const char *key, int64_t index, bson_t *result,
                         bool *found, kt_error_t *err)
{
    sqlite3_stmt *st =
        sqlite_stmt(conn, "SELECT result FROM package_items WHERE key = ? AND item = ?", err);
    bool ok = false;

    bson_init(result);
    *found = false;
    if (st == NULL)
        return false;
    sqlite_bind_text(st, 1, key);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)index);
    if (!step(st, conn, "read package item", found, err))
        return release(st, false);
    ok = true;
    if (*found) {
        bson_destroy(result);
        ok = sqlite_column_bson(st, 0, result);
        if (!ok)
            damaged(err, "item result", key);
    }
    return release(st, ok);
}

bool
sqlite_packages_item_put(store_conn_t *conn, const char *key, int64_t index, const bson_t *result,
                         bool *kept_existing, kt_error_t *err)
{
    sqlite3_stmt *st = sqlite_stmt(conn,
                                   "INSERT INTO package_items (key, item, result) VALUES (?, ?, ?)"
                                   " ON CONFLICT (key, item) DO NOTHING",
                                   err);
    bson_t doc = BSON_INITIALIZER;
    char id[128];
    bson_iter_t it;
    bool ok;

    *kept_existing = false;
    if (st == NULL) {
        bson_destroy(&doc);
        return false;
    }
    /* MongoDB's item document: its _id, then the result's members. */
    snprintf(id, sizeof id, "%s:%08lld", key, (long long)index);
    BSON_APPEND_UTF8(&doc, "_id", id);
    if (bson_iter_init(&it, result))
        while (bson_iter_next(&it))
            if (strcmp(bson_iter_key(&it), "_id") != 0)
                bson_append_iter(&doc, NULL, 0, &it);
    sqlite_bind_text(st, 1, key);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)index);
    sqlite_bind_bson(st, 3, &doc);
    ok = sqlite_step_done(st, conn, "store package item", err);
    /* Nothing inserted: the result of an earlier attempt is there and wins. */
    *kept_existing = ok && sqlite3_changes(sqlite_db(conn)) == 0;
    bson_destroy(&doc);
    return release(st, ok);
}

/* doc = the members of current that changes does not name, then changes —
 * MongoDB's rewrite, so that both stores give the same document. */
static void
merge(const bson_t *current, const bson_t *changes, bson_t *doc)
{
    bson_iter_t it, probe;

    if (bson_iter_init(&it, current))
        while (bson_iter_next(&it))
            if (!bson_iter_init_find(&probe, changes, bson_iter_key(&it)))
                bson_append_iter(doc, NULL, 0, &it);
    bson_concat(doc, changes);
}

/* Replaces (or adds) the members of changes in the registration of key and
 * its status column. Inside the caller's transaction. */
static bool
rewrite(store_conn_t *conn, const char *key, const bson_t *changes, kt_error_t *err)
{
    bson_t current, doc = BSON_INITIALIZER;
    sqlite3_stmt *st = NULL;
    bool found = false, ok = false;

    if (!read_registration(conn, key, &current, &found, err))
        goto done;
    if (!found) {
        kt_error_set(err, KT_DOMAIN_INPUT, KT_NOT_FOUND, "no such package");
        goto done;
    }
    merge(&current, changes, &doc);
    st = sqlite_stmt(conn, "UPDATE packages SET status = ?, doc = ? WHERE key = ?", err);
    if (st == NULL)
        goto done;
    sqlite_bind_text(st, 1, util_get_str(&doc, "status"));
    sqlite_bind_bson(st, 2, &doc);
    sqlite_bind_text(st, 3, key);
    ok = release(st, sqlite_step_done(st, conn, "update package", err));
done:
    bson_destroy(&current);
    bson_destroy(&doc);
    return ok;
}

/* The stored pieces of key in table (package_receipts: pages,
 * package_chunks: chunks; column number is their order), replaced by len bytes
 * of data in pieces of at most size (*count of them). Inside the caller's
 * transaction: an earlier attempt's pieces go, this one may have fewer. */
static bool
put_pieces(store_conn_t *conn, const char *table, const char *number, const char *key,
           const char *data, size_t len, size_t size, int64_t *count, kt_error_t *err)
{
    char del[96], ins[128];
    sqlite3_stmt *st;

    *count = 0;
    snprintf(del, sizeof del, "DELETE FROM %s WHERE key = ?", table);
    snprintf(ins, sizeof ins, "INSERT INTO %s (key, %s, data) VALUES (?, ?, ?)", table, number);
    if ((st = sqlite_stmt(conn, del, err)) == NULL)
        return false;
    sqlite_bind_text(st, 1, key);
    if (!release(st, sqlite_step_done(st, conn, table, err)))
        return false;
    for (size_t off = 0; off < len; off += size, (*count)++) {
        size_t part = len - off < size ? len - off : size;
        if ((st = sqlite_stmt(conn, ins, err)) == NULL)
            return false;
        sqlite_bind_text(st, 1, key);
        sqlite3_bind_int64(st, 2, (sqlite3_int64)*count);
        sqlite3_bind_blob(st, 3, data + off, (int)part, SQLITE_STATIC);
        if (!release(st, sqlite_step_done(st, conn, table, err)))
            return false;
    }
    return true;
}

bool
sqlite_packages_finish(store_conn_t *conn, const char *key, const char *status,
                       const bson_t *totals, const char *receipt, size_t len, size_t page_bytes,
                       kt_error_t *err)
{
    bson_t changes = BSON_INITIALIZER;
    char time[32];
    int64_t pages = 0;
    bool ok = false;

    /* A page is one blob, bound with an int length: the configuration
     * allows 4 KiB to 15 MiB (KT_RECEIPT_PAGE_BYTES); 0 is the default. */
    if (page_bytes == 0 || page_bytes > (1u << 30))
        page_bytes = PACKAGES_PAGE_DEFAULT;
    if (!sqlite_begin(conn, err))
        goto done;
    ok = put_pieces(conn, "package_receipts", "page", key, receipt, len, page_bytes, &pages, err);
    if (ok) {
        util_time_now(time);
        BSON_APPEND_UTF8(&changes, "status", status);
        BSON_APPEND_DOCUMENT(&changes, "totals", totals);
        BSON_APPEND_INT64(&changes, "receipt_pages", pages);
        BSON_APPEND_INT64(&changes, "receipt_bytes", (int64_t)len);
        BSON_APPEND_UTF8(&changes, "finished_at", time);
        ok = rewrite(conn, key, &changes, err);
    }
    ok = end(conn, ok, err);
done:
    bson_destroy(&changes);
    return ok;
}

bool
sqlite_packages_receipt_each(store_conn_t *conn, const bson_t *pkg, packages_piece_fn fn, void *ctx,
                             kt_error_t *err)
{
    const char *whole = util_get_str(pkg, "receipt"), *key = util_get_str(pkg, "_id");
    int64_t pages = util_get_int(pkg, "receipt_pages", 0);

    if (whole != NULL) /* a registration that holds the receipt whole */
        return fn(ctx, whole, strlen(whole));
    for (int64_t n = 0; key != NULL && n < pages; n++) {
        sqlite3_stmt *st =
            sqlite_stmt(conn, "SELECT data FROM package_receipts WHERE key = ? AND page = ?", err);
        bool row = false;
        if (st == NULL)
            return false;
        sqlite_bind_text(st, 1, key);
        sqlite3_bind_int64(st, 2, (sqlite3_int64)n);
        if (!step(st, conn, "read receipt page", &row, err))
            return release(st, false);
        if (!row) {
            kt_error_set(err, KT_DOMAIN_STORE, KT_INTERNAL, "package %s: receipt page %lld missing",
                         key, (long long)n);
            return release(st, false);
        }
        /* The page's bytes live until the reset; fn leaves err to the caller. */
        const char *bytes = sqlite3_column_blob(st, 0);
        int blen = sqlite3_column_bytes(st, 0);
        if (!release(st, fn(ctx, bytes != NULL ? bytes : "", (size_t)blen)))
            return false;
    }
    return true;
}

bool
sqlite_packages_items_each(store_conn_t *conn, const char *key, packages_item_fn fn, void *ctx,
                           kt_error_t *err)
{
    sqlite3_stmt *st = sqlite_stmt(
        conn, "SELECT item, result FROM package_items WHERE key = ? ORDER BY item", err);
    bool row = true, ok = true;

    if (st == NULL)
        return false;
    sqlite_bind_text(st, 1, key);
    /* The primary key (key, item) is the order: a range scan, no sort. */
    while (ok && (ok = step(st, conn, "read package items", &row, err)) && row) {
        const uint8_t *data = sqlite3_column_blob(st, 1);
        int len = sqlite3_column_bytes(st, 1);
        bson_t result;
        if (data == NULL || len < 5 || !bson_init_static(&result, data, (size_t)len)) {
            damaged(err, "item result", key);
            ok = false;
        } else {
            ok = fn(ctx, sqlite3_column_int64(st, 0), &result);
        }
    }
    return release(st, ok);
}

bool
sqlite_packages_enqueue(store_conn_t *conn, const char *key, const char *data, size_t len,
                        kt_error_t *err)
{
    bson_t changes = BSON_INITIALIZER;
    int64_t n = 0;
    bool ok = false;

    if (!sqlite_begin(conn, err))
        goto done;
    ok = put_pieces(conn, "package_chunks", "n", key, data, len, CHUNK_BYTES, &n, err);
    if (ok) {
        BSON_APPEND_UTF8(&changes, "status", "INQUEUE");
        BSON_APPEND_INT64(&changes, "chunks", n);
        ok = rewrite(conn, key, &changes, err);
    }
    ok = end(conn, ok, err);
done:
    bson_destroy(&changes);
    return ok;
}

/* Appends chunk n (the row st is on) to *buf; false when it is not chunk n. */
static bool
append_chunk(sqlite3_stmt *st, int64_t n, char **buf, size_t *used)
{
    const void *bytes = sqlite3_column_blob(st, 1);
    size_t blen = (size_t)sqlite3_column_bytes(st, 1);
    char *grown;

    if (sqlite3_column_int64(st, 0) != n || (bytes == NULL && blen > 0))
        return false;
    grown = realloc(*buf, *used + blen + 1);
    if (grown == NULL)
        return false;
    memcpy(grown + *used, bytes, blen);
    *buf = grown;
    *used += blen;
    return true;
}

/* items_received and items_done of a queued package (store/packages.h). */
bool
sqlite_packages_progress(store_conn_t *conn, const char *key, int64_t received, int64_t done,
                         kt_error_t *err)
{
    bson_t changes = BSON_INITIALIZER;
    bool ok;

    if (received >= 0)
        BSON_APPEND_INT64(&changes, "items_received", received);
    BSON_APPEND_INT64(&changes, "items_done", done);
    ok = rewrite(conn, key, &changes, err);
    bson_destroy(&changes);
    return ok;
}

bool
sqlite_packages_load(store_conn_t *conn, const char *key, char **data, size_t *len, kt_error_t *err)
{
    bson_t pkg;
    bool found = false, row = true, ok = true;
    sqlite3_stmt *st = NULL;
    char *buf = NULL;
    size_t used = 0;
    int64_t n = 0, chunks;

    *data = NULL;
    *len = 0;
    if (!read_registration(conn, key, &pkg, &found, err)) {
        bson_destroy(&pkg);
        return false;
    }
    chunks = found ? util_get_int(&pkg, "chunks", 0) : 0;
    bson_destroy(&pkg);
    st = sqlite_stmt(conn, "SELECT n, data FROM package_chunks WHERE key = ? ORDER BY n", err);
    if (st == NULL)
        return false;
    sqlite_bind_text(st, 1, key);
    while (ok && n < chunks && (ok = step(st, conn, "read package chunk", &row, err)) && row)
        if ((ok = append_chunk(st, n, &buf, &used)))
            n++;
    release(st, true);
    if (n < chunks) /* chunk n is not there (or no memory for it) */
        ok = false;
    if (!ok && err->code == KT_OK)
        kt_error_set(err, KT_DOMAIN_STORE, KT_INTERNAL, "package %s: chunk %lld missing", key,
                     (long long)n);
    if (ok && buf == NULL) { /* not queued, or already dropped */
        ok = false;
        kt_error_set(err, KT_DOMAIN_STORE, KT_INTERNAL, "package %s has no bytes", key);
    }
    if (!ok) {
        free(buf);
        return false;
    }
    buf[used] = '\0';
    *data = buf;
    *len = used;
    return true;
}

/* chunks_drop inside its transaction. */
static bool
drop_chunks(store_conn_t *conn, const char *key, kt_error_t *err)
{
    bson_t pkg, changes = BSON_INITIALIZER;
    sqlite3_stmt *st = NULL;
    bool found = false, ok = false;

    if (!read_registration(conn, key, &pkg, &found, err))
        goto done;
    st = sqlite_stmt(conn, "DELETE FROM package_chunks WHERE key = ?", err);
    if (st == NULL)
        goto done;
    sqlite_bind_text(st, 1, key);
    ok = release(st, sqlite_step_done(st, conn, "delete package chunks", err));
    if (ok && found && util_get_int(&pkg, "chunks", 0) > 0) {
        BSON_APPEND_INT64(&changes, "chunks", 0);
        ok = rewrite(conn, key, &changes, err);
    }
done:
    bson_destroy(&pkg);
    bson_destroy(&changes);
    return ok;
}

bool
sqlite_packages_chunks_drop(store_conn_t *conn, const char *key, kt_error_t *err)
{
    return sqlite_begin(conn, err) && end(conn, drop_chunks(conn, key, err), err);
}

bool
sqlite_packages_waiting(store_conn_t *conn, char (*keys)[PACKAGES_KEY_MAX], int max, int *n,
                        kt_error_t *err)
{
    /* Arrival order, the oldest first, so that a package is never overtaken
     * for good: the partial index packages_waiting is this order. */
    sqlite3_stmt *st = sqlite_stmt(conn,
                                   "SELECT key FROM packages WHERE status = 'INQUEUE'"
                                   " ORDER BY received_at, key LIMIT ?",
                                   err);
    bool row = true, ok = true;

    *n = 0;
    if (st == NULL)
        return false;
    sqlite3_bind_int(st, 1, max > 0 ? max : 0);
    while ((ok = step(st, conn, "read waiting packages", &row, err)) && row && *n < max) {
        const char *key = (const char *)sqlite3_column_text(st, 0);
        if (key != NULL && strlen(key) < PACKAGES_KEY_MAX)
            snprintf(keys[(*n)++], PACKAGES_KEY_MAX, "%s", key);
    }
    return release(st, ok);
}

/* attempt inside its transaction. */
static bool
count_attempt(store_conn_t *conn, const char *key, int64_t *attempts, bool *waiting,
              kt_error_t *err)
{
    bson_t pkg, changes = BSON_INITIALIZER;
    bool found = false, ok = false;
    const char *status;

    if (!read_registration(conn, key, &pkg, &found, err))
        goto done;
    status = found ? util_get_str(&pkg, "status") : NULL;
    /* The list of waiting packages is a moment old: another worker may have
     * ended this one since. */
    *waiting = status != NULL && strcmp(status, "INQUEUE") == 0;
    *attempts = (found ? util_get_int(&pkg, "attempts", 0) : 0) + 1;
    ok = true;
    if (*waiting) {
        BSON_APPEND_INT64(&changes, "attempts", *attempts);
        ok = rewrite(conn, key, &changes, err);
    }
done:
    bson_destroy(&pkg);
    bson_destroy(&changes);
    return ok;
}

bool
sqlite_packages_attempt(store_conn_t *conn, const char *key, int64_t *attempts, bool *waiting,
                        kt_error_t *err)
{
    *attempts = 0;
    *waiting = false;
    if (sqlite_begin(conn, err) && end(conn, count_attempt(conn, key, attempts, waiting, err), err))
        return true;
    *waiting = false; /* not counted: nothing to do now */
    return false;
}

/* The lease row of key: *found, its epoch and expiry. */
static bool
read_lease(store_conn_t *conn, const char *key, bool *found, int64_t *epoch, int64_t *expires,
           kt_error_t *err)
{
    sqlite3_stmt *st =
        sqlite_stmt(conn, "SELECT epoch, expires_ms FROM package_leases WHERE key = ?", err);

    *found = false;
    *epoch = *expires = 0;
    if (st == NULL)
        return false;
    sqlite_bind_text(st, 1, key);
    if (!step(st, conn, "read lease", found, err))
        return release(st, false);
    if (*found) {
        *epoch = sqlite3_column_int64(st, 0);
        *expires = sqlite3_column_int64(st, 1);
    }
    return release(st, true);
}

static bool
write_lease(store_conn_t *conn, const char *key, const char *owner, int64_t epoch, int64_t expires,
            kt_error_t *err)
{
    sqlite3_stmt *st = sqlite_stmt(conn,
                                   "INSERT INTO package_leases (key, owner, epoch, expires_ms)"
                                   " VALUES (?, ?, ?, ?) ON CONFLICT (key) DO UPDATE SET"
                                   " owner = excluded.owner, epoch = excluded.epoch,"
                                   " expires_ms = excluded.expires_ms",
                                   err);

    if (st == NULL)
        return false;
    sqlite_bind_text(st, 1, key);
    sqlite_bind_text(st, 2, owner);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)epoch);
    sqlite3_bind_int64(st, 4, (sqlite3_int64)expires);
    return release(st, sqlite_step_done(st, conn, "write lease", err));
}

/* lease_take inside its transaction: *next is the epoch taken. */
static bool
take_lease(store_conn_t *conn, const char *key, const char *owner, int64_t ttl_ms, int64_t *next,
           bool *taken, kt_error_t *err)
{
    int64_t last = 0, expires = 0, now;
    bool found = false;

    if (!read_lease(conn, key, &found, &last, &expires, err))
        return false;
    now = now_ms();
    if (found && expires > now) /* somebody holds it */
        return true;
    *next = last + 1;
    *taken = write_lease(conn, key, owner, *next, now + ttl_ms, err);
    return *taken;
}

bool
sqlite_packages_lease_take(store_conn_t *conn, const char *key, const char *owner, int64_t ttl_ms,
                           int64_t *epoch, bool *taken, kt_error_t *err)
{
    int64_t next = 0;

    *taken = false;
    /* The write lock first: of two workers, the second reads the first's row. */
    if (!sqlite_begin(conn, err) ||
        !end(conn, take_lease(conn, key, owner, ttl_ms, &next, taken, err), err)) {
        *taken = false;
        return false;
    }
    if (*taken)
        *epoch = next;
    return true;
}

/* next_epoch inside its transaction. */
static bool
move_epoch(store_conn_t *conn, const char *key, const char *owner, int64_t epoch, int64_t expires,
           bool *kept, kt_error_t *err)
{
    int64_t current = 0, ignored = 0;
    bool found = false;

    if (!read_lease(conn, key, &found, &current, &ignored, err))
        return false;
    /* Only the holder at its epoch: an expired lease nobody took is still
     * its holder's, as on MongoDB, where nobody inserted the next epoch. */
    *kept = found && current == epoch;
    return !*kept || write_lease(conn, key, owner, current + 1, expires, err);
}

/* Moves the lease of key held at *epoch to the next epoch, expiring at
 * expires; *kept false when another holds it now. */
static bool
next_epoch(store_conn_t *conn, const char *key, const char *owner, int64_t *epoch, int64_t expires,
           bool *kept, kt_error_t *err)
{
    *kept = false;
    if (!sqlite_begin(conn, err) ||
        !end(conn, move_epoch(conn, key, owner, *epoch, expires, kept, err), err)) {
        *kept = false;
        return false;
    }
    if (*kept)
        (*epoch)++;
    return true;
}

bool
sqlite_packages_lease_renew(store_conn_t *conn, const char *key, const char *owner, int64_t ttl_ms,
                            int64_t *epoch, bool *kept, kt_error_t *err)
{
    return next_epoch(conn, key, owner, epoch, now_ms() + ttl_ms, kept, err);
}

bool
sqlite_packages_lease_release(store_conn_t *conn, const char *key, const char *owner, int64_t epoch,
                              kt_error_t *err)
{
    bool kept = false;

    /* The next epoch, expired already: a lease another worker holds now
     * (not kept) is left alone. */
    return next_epoch(conn, key, owner, &epoch, 0, &kept, err);
}

bool
sqlite_packages_get(store_conn_t *conn, const char *key, bson_t *out, kt_error_t *err)
{
    bool found = false;

    if (!read_registration(conn, key, out, &found, err))
        return false;
    if (!found)
        kt_error_set(err, KT_DOMAIN_INPUT, KT_NOT_FOUND, "no such package");
    return found;
}

bool
sqlite_packages_find(store_conn_t *conn, const char *packet_id, const char *org, const char *sender,
                     bson_t *out, int *n, kt_error_t *err)
{
    /* NULL binds NULL: "? IS NULL" leaves that filter out. */
    sqlite3_stmt *st = sqlite_stmt(conn,
                                   "SELECT doc FROM packages WHERE packet_id = ?1"
                                   " AND (?2 IS NULL OR org = ?2) AND (?3 IS NULL OR sender = ?3)"
                                   " ORDER BY received_at, key LIMIT 2",
                                   err);
    bool row = true, ok = true;

    bson_init(out);
    *n = 0;
    if (st == NULL)
        return false;
    sqlite_bind_text(st, 1, packet_id);
    sqlite_bind_text(st, 2, org);
    sqlite_bind_text(st, 3, sender);
    while ((ok = step(st, conn, "find packages", &row, err)) && row) {
        if ((*n)++ == 0) {
            bson_destroy(out); /* sqlite_column_bson initialises it again */
            if (!sqlite_column_bson(st, 0, out)) {
                damaged(err, "registration", packet_id);
                ok = false;
                break;
            }
        }
    }
    return release(st, ok);
}

/* --- copy (store/copy.h): the package sets as MongoDB's documents ------ */

/* Calls fn with each row's column 0, a BSON blob, until fn returns false. */
static bool
each_blob(store_conn_t *conn, sqlite3_stmt *st, util_each_fn fn, void *ctx, kt_error_t *err)
{
    bool row = true, ok = true, go = true;

    while (go && (ok = step(st, conn, "copy packages", &row, err)) && row) {
        const uint8_t *data = sqlite3_column_blob(st, 0);
        int len = sqlite3_column_bytes(st, 0);
        bson_t doc;
        if (data == NULL || len < 5 || !bson_init_static(&doc, data, (size_t)len)) {
            kt_error_set(err, KT_DOMAIN_STORE, KT_INTERNAL, "copy: a damaged package row");
            return release(st, false);
        }
        go = fn(ctx, &doc);
    }
    return release(st, ok);
}

/* Calls fn with {_id: "<key>:<n, 6 digits>", data} for each row (key, n,
 * data) of st: a receipt page or a chunk. */
static bool
each_bytes(store_conn_t *conn, sqlite3_stmt *st, util_each_fn fn, void *ctx, kt_error_t *err)
{
    bool row = true, ok = true, go = true;

    while (go && (ok = step(st, conn, "copy packages", &row, err)) && row) {
        bson_t doc = BSON_INITIALIZER;
        char id[128];
        const void *data = sqlite3_column_blob(st, 2);
        snprintf(id, sizeof id, "%s:%06lld", (const char *)sqlite3_column_text(st, 0),
                 (long long)sqlite3_column_int64(st, 1));
        BSON_APPEND_UTF8(&doc, "_id", id);
        BSON_APPEND_BINARY(&doc, "data", BSON_SUBTYPE_BINARY, data != NULL ? data : "",
                           (uint32_t)sqlite3_column_bytes(st, 2));
        go = fn(ctx, &doc);
        bson_destroy(&doc);
    }
    return release(st, ok);
}

static const char *const copy_select[COPY__MAX] = {
    [COPY_PACKAGES] = "SELECT doc FROM packages ORDER BY key",
    [COPY_PACKAGE_ITEMS] = "SELECT result FROM package_items ORDER BY key, item",
    [COPY_PACKAGE_RECEIPTS] = "SELECT key, page, data FROM package_receipts ORDER BY key, page",
    [COPY_PACKAGE_CHUNKS] = "SELECT key, n, data FROM package_chunks ORDER BY key, n",
};

static const char *const copy_insert[COPY__MAX] = {
    [COPY_PACKAGE_ITEMS] =
        "INSERT OR IGNORE INTO package_items (key, item, result) VALUES (?, ?, ?)",
    [COPY_PACKAGE_RECEIPTS] = "INSERT OR IGNORE INTO package_receipts (key, page, data)"
                              " VALUES (?, ?, ?)",
    [COPY_PACKAGE_CHUNKS] = "INSERT OR IGNORE INTO package_chunks (key, n, data) VALUES (?, ?, ?)",
};

bool
sqlite_packages_copy_each(store_conn_t *conn, copy_set_t set, util_each_fn fn, void *ctx,
                          kt_error_t *err)
{
    sqlite3_stmt *st;

    if (set >= COPY__MAX || copy_select[set] == NULL) {
        kt_error_set(err, KT_DOMAIN_STORE, KT_INTERNAL, "copy: %s is not a package set",
                     copy_set_name(set));
        return false;
    }
    if ((st = sqlite_stmt(conn, copy_select[set], err)) == NULL)
        return false;
    if (set == COPY_PACKAGES || set == COPY_PACKAGE_ITEMS)
        return each_blob(conn, st, fn, ctx, err);
    return each_bytes(conn, st, fn, ctx, err);
}

/* "<key>:<n>" → key and n (the key may hold ':' itself: n is what follows
 * the last one). */
static bool
split_id(const char *id, char key[PACKAGES_KEY_MAX], int64_t *n)
{
    const char *colon = id != NULL ? strrchr(id, ':') : NULL;
    char *end = NULL;
    long long v;

    if (colon == NULL || colon == id || (size_t)(colon - id) >= PACKAGES_KEY_MAX ||
        colon[1] < '0' || colon[1] > '9')
        return false;
    v = strtoll(colon + 1, &end, 10);
    if (*end != '\0')
        return false;
    memcpy(key, id, (size_t)(colon - id));
    key[colon - id] = '\0';
    *n = v;
    return true;
}

bool
sqlite_packages_copy_put(store_conn_t *conn, copy_set_t set, const bson_t *doc, bool *inserted,
                         kt_error_t *err)
{
    const char *id = util_get_str(doc, "_id");
    char key[PACKAGES_KEY_MAX];
    int64_t n = 0;
    bson_iter_t it;
    const uint8_t *bytes = NULL;
    uint32_t blen = 0;
    bson_subtype_t sub;
    sqlite3_stmt *st;
    bool is_bytes = set == COPY_PACKAGE_RECEIPTS || set == COPY_PACKAGE_CHUNKS, ok;

    *inserted = false;
    if (set == COPY_PACKAGES && id != NULL)
        return insert_registration(conn, doc, inserted, err);
    if (is_bytes && bson_iter_init_find(&it, doc, "data") && BSON_ITER_HOLDS_BINARY(&it))
        bson_iter_binary(&it, &sub, &blen, &bytes);
    if (set >= COPY__MAX || copy_insert[set] == NULL || !split_id(id, key, &n) ||
        (is_bytes && bytes == NULL)) {
        kt_error_set(err, KT_DOMAIN_STORE, KT_INTERNAL, "copy: %s: not a package row (%s)",
                     copy_set_name(set), id != NULL ? id : "no _id");
        return false;
    }
    if ((st = sqlite_stmt(conn, copy_insert[set], err)) == NULL)
        return false;
    sqlite_bind_text(st, 1, key);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)n);
    if (is_bytes)
        sqlite3_bind_blob(st, 3, bytes, (int)blen, SQLITE_STATIC);
    else
        sqlite_bind_bson(st, 3, doc);
    ok = sqlite_step_done(st, conn, copy_set_name(set), err);
    *inserted = ok && sqlite3_changes(sqlite_db(conn)) == 1;
    return release(st, ok);
}
