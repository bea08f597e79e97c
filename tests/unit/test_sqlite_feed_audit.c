/*
 * test_sqlite_feed_audit: the SQLite store's change feed, access log, audit
 * queries, report and export scans and health keys (store/sqlite/feed.c,
 * audit.c, scan.c, health_keys.c) on a database file of its own in a
 * temporary directory — no server.
 *
 * The version, head and feed rows the reads need are inserted with plain
 * SQL in the layout of store/sqlite/schema.c (what record_write stores): a
 * version record built by store_build_record, its columns beside it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/arena.h"
#include "core/buf.h"
#include "core/json.h"
#include "store/copy.h"
#include "store/sqlite/sqlite.h"
#include "tests/unit/check.h"
#include "tests/unit/tmp_store.h"

#define SA "00000000-0000-4000-8000-00000000000a"
#define SB "00000000-0000-4000-8000-00000000000b"
#define SC "00000000-0000-4000-8000-00000000000c"
#define SD "00000000-0000-4000-8000-00000000000d"

#define ORG_A "1027700000001"
#define ORG_B "1027700000002"

static char dir[512];
static store_t *store;
static store_conn_t *conn;

static void
sql(const char *text)
{
    char *msg = NULL;

    if (sqlite3_exec(sqlite_db(conn), text, NULL, NULL, &msg) != SQLITE_OK) {
        fprintf(stderr, "%s: %s\n", text, msg ? msg : "?");
        CHECK(!"SQL failed");
    }
    sqlite3_free(msg);
}

static bool
open_store(void)
{
    char path[600];

    if ((store = tmp_store_open("sqlite-feed-audit", dir, path)) == NULL)
        return false;
    conn = store_conn_pop(store, STORE_POOL_BATCH);
    return true;
}

static void
close_store(void)
{
    store_conn_push(conn);
    store_free(store);
    tmp_store_remove(dir);
}

/* --- rows as record_write leaves them --- */

typedef struct {
    const char *id;
    int64_t version;
    const char *time;
    bool deleted;
    int64_t seq;
    const char *subject;
    const char *org;
} version_row_t;

/* A version of a student, its head moved to it; a feed entry when seq > 0. */
static void
put_version(const version_row_t *r)
{
    principal_t who = {.role = ROLE_REGION, .method = AUTH_TOKEN};
    write_meta_t meta = {.principal = &who, .request_id = "test"};
    bson_t doc = BSON_INITIALIZER, rec, head = BSON_INITIALIZER;
    record_args_t a = {.kind = &store_kind_student,
                       .id = r->id,
                       .version = r->version,
                       .seq = r->seq,
                       .op = r->deleted        ? WRITE_DELETE
                             : r->version == 1 ? WRITE_CREATE
                                               : WRITE_UPDATE,
                       .deleted = r->deleted,
                       .time = r->time,
                       .doc = &doc,
                       .prev_hash = ""};
    sqlite3_stmt *st;

    snprintf(who.subject, sizeof who.subject, "%s", r->subject);
    BSON_APPEND_UTF8(&doc, "last_name", "Иванова");
    BSON_APPEND_UTF8(&doc, "organization", r->org);
    CHECK(store_build_record(&rec, &a, &meta));
    CHECK(sqlite3_prepare_v2(sqlite_db(conn),
                             "INSERT INTO student_versions(id, version, time, state, seq, subject,"
                             " organization, record) VALUES(?, ?, ?, ?, ?, ?, ?, ?)",
                             -1, &st, NULL) == SQLITE_OK);
    sqlite_bind_text(st, 1, r->id);
    sqlite3_bind_int64(st, 2, r->version);
    sqlite_bind_text(st, 3, r->time);
    sqlite_bind_text(st, 4, r->deleted ? "DELETED" : "ACTIVE");
    sqlite3_bind_int64(st, 5, r->seq);
    sqlite_bind_text(st, 6, r->subject);
    sqlite_bind_text(st, 7, r->org);
    sqlite_bind_bson(st, 8, &rec);
    CHECK(sqlite3_step(st) == SQLITE_DONE);
    sqlite3_finalize(st);
    BSON_APPEND_UTF8(&head, "_id", r->id);
    CHECK(sqlite3_prepare_v2(sqlite_db(conn),
                             "INSERT OR REPLACE INTO students(id, version, state, updated_at, head)"
                             " VALUES(?, ?, ?, ?, ?)",
                             -1, &st, NULL) == SQLITE_OK);
    sqlite_bind_text(st, 1, r->id);
    sqlite3_bind_int64(st, 2, r->version);
    sqlite_bind_text(st, 3, r->deleted ? "DELETED" : "ACTIVE");
    sqlite_bind_text(st, 4, r->time);
    sqlite_bind_bson(st, 5, &head);
    CHECK(sqlite3_step(st) == SQLITE_DONE);
    sqlite3_finalize(st);
    bson_destroy(&doc);
    bson_destroy(&rec);
    bson_destroy(&head);
}

static void
put_entry(int64_t seq, const char *id, int64_t version, const char *kind, const char *org,
          const char *from_org)
{
    char text[512];

    snprintf(text, sizeof text,
             "INSERT INTO changes(seq, student_id, version, kind, time, org, from_org)"
             " VALUES(%lld, '%s', %lld, '%s', '2026-01-01T00:00:%02lld.000Z', '%s', '%s')",
             (long long)seq, id, (long long)version, kind, (long long)seq, org, from_org);
    sql(text);
}

/* --- the feed --- */

typedef struct {
    int n;
    int64_t seq[16];
    bool left[16];
    char from_org[16][16];
} seen_t;

static bool
see(void *ctx, const feed_entry_t *e)
{
    seen_t *s = ctx;

    if (s->n < 16) {
        s->seq[s->n] = e->seq;
        s->left[s->n] = e->left;
        memcpy(s->from_org[s->n], e->from_org, sizeof e->from_org);
        s->n++;
    }
    return true;
}

/* One page; *next its cursor. */
static seen_t
page(int64_t since, int limit, const char *org, int64_t *next)
{
    seen_t s = {0};
    kt_error_t err;

    kt_error_clear(&err);
    CHECK(feed_read(conn, since, limit, org, see, &s, next, &err));
    return s;
}

static void
feed_rows(void)
{
    put_entry(1, SA, 1, "create", ORG_A, "");
    put_entry(2, SB, 1, "create", ORG_B, "");
    put_entry(3, SA, 2, "update", ORG_A, ORG_A);
    put_entry(4, SC, 1, "create", ORG_B, "");
    put_entry(5, SA, 3, "update", ORG_B, ORG_A); /* SA leaves A for B */
    put_entry(6, SB, 2, "update", ORG_B, ORG_B);
    put_entry(7, SD, 1, "create", ORG_A, "");
    put_entry(8, SD, 2, "delete", ORG_A, "");
}

static void
test_feed_region_pages_in_order(void)
{
    int64_t next = 0, since = 0, want = 1;
    seen_t s;

    feed_rows();
    /* Pages of 3: 1-3, 4-6, 7-8, then nothing; every entry once, in order. */
    for (int p = 0; p < 4; p++) {
        s = page(since, 3, NULL, &next);
        for (int i = 0; i < s.n; i++) {
            CHECK_INT(s.seq[i], want++);
            CHECK(!s.left[i]);
        }
        CHECK_INT(s.n, p < 2 ? 3 : p == 2 ? 2 : 0);
        CHECK_INT(next, p == 0 ? 3 : p == 1 ? 6 : 8);
        since = next;
    }
    CHECK_INT(want, 9);
    /* A from_org equal to org is no move: not shown as one. */
    s = page(2, 1, NULL, &next);
    CHECK_STR(s.from_org[0], "");
    s = page(4, 1, NULL, &next);
    CHECK_STR(s.from_org[0], ORG_A);
    /* A cursor past the end stays where it is. */
    s = page(100, 5, NULL, &next);
    CHECK_INT(s.n, 0);
    CHECK_INT(next, 100);
}

static void
test_feed_school_sees_its_own_and_left(void)
{
    int64_t next = 0;
    seen_t s = page(0, 10, ORG_A, &next);
    kt_error_t err;

    /* A: its creates and updates, and SA's move to B as "left". */
    CHECK_INT(s.n, 5);
    int64_t want[] = {1, 3, 5, 7, 8};
    for (int i = 0; i < 5 && i < s.n; i++) {
        CHECK_INT(s.seq[i], want[i]);
        CHECK(s.left[i] == (want[i] == 5));
    }
    CHECK_INT(next, 8); /* a short page has seen everything up to the last entry */
    /* Pages of 2 resume after their last entry. */
    s = page(0, 2, ORG_A, &next);
    CHECK(s.n == 2 && s.seq[1] == 3 && next == 3);
    s = page(3, 2, ORG_A, &next);
    CHECK(s.n == 2 && s.seq[0] == 5 && s.left[0] && s.seq[1] == 7 && next == 7);
    s = page(7, 2, ORG_A, &next);
    CHECK(s.n == 1 && s.seq[0] == 8 && next == 8);
    /* B sees SA arrive (not as left), its own updates. */
    s = page(4, 10, ORG_B, &next);
    CHECK(s.n == 2 && s.seq[0] == 5 && !s.left[0] && s.seq[1] == 6 && next == 8);
    /* A school with no entries moves to the end. */
    s = page(0, 10, "1027799999999", &next);
    CHECK(s.n == 0 && next == 8);
    kt_error_clear(&err);
    CHECK(!feed_read(conn, 0, 0, NULL, see, &s, &next, &err) && err.code == KT_INTERNAL);
}

/* --- the access log --- */

typedef struct {
    char id[64];
    char time[32];
} logged_t;

/* The entries so far, oldest first. */
static int
logged(logged_t *out, int max)
{
    sqlite3_stmt *st;
    int n = 0;

    CHECK(sqlite3_prepare_v2(sqlite_db(conn), "SELECT id, time FROM access_log ORDER BY id", -1,
                             &st, NULL) == SQLITE_OK);
    while (n < max && sqlite3_step(st) == SQLITE_ROW) {
        snprintf(out[n].id, sizeof out[n].id, "%s", (const char *)sqlite3_column_text(st, 0));
        snprintf(out[n].time, sizeof out[n].time, "%s", (const char *)sqlite3_column_text(st, 1));
        n++;
    }
    sqlite3_finalize(st);
    return n;
}

typedef struct {
    int n;
    char ids[8][64];
    char next[64]; /* "" for null */
    bool subject_hidden, fields_ok;
} query_page_t;

static query_page_t
query(const char *student, const char *subject, const char *from, const char *to,
      const char *cursor, int limit)
{
    audit_filter_t f = {.student = student, .subject = subject, .from = from, .to = to};
    query_page_t p = {.subject_hidden = true, .fields_ok = true};
    arena_t *a = arena_new(0);
    json_value_t *root = NULL, *items, *next;
    kt_error_t err;
    buf_t b;
    jw_t w;

    kt_error_clear(&err);
    buf_init(&b, 0);
    jw_init(&w, &b);
    CHECK(audit_query(conn, &f, cursor, limit, &w, &err));
    CHECK(json_parse(a, b.data, b.len, NULL, &root, &err));
    items = json_get(root, "items");
    next = json_get(root, "next_cursor");
    CHECK(items != NULL && items->type == JSON_ARRAY && next != NULL);
    for (json_value_t *e = items ? items->child : NULL; e != NULL && p.n < 8; e = e->next) {
        json_value_t *id = json_get(e, "id"), *fields = json_get(e, "fields");
        CHECK(id != NULL && id->type == JSON_STRING);
        snprintf(p.ids[p.n++], 64, "%s", id ? id->str : "");
        p.subject_hidden = p.subject_hidden && json_get(e, "subject") == NULL &&
                           json_get(e, "_id") == NULL &&
                           json_get(json_get(e, "principal"), "subject") != NULL;
        if (fields != NULL)
            p.fields_ok = p.fields_ok && fields->count == 1 &&
                          strcmp(fields->child->str, "health") == 0 &&
                          json_get(e, "purpose") != NULL;
    }
    if (next != NULL && next->type == JSON_STRING)
        snprintf(p.next, sizeof p.next, "%s", next->str);
    buf_release(&b);
    arena_free(a);
    return p;
}

static void
log_read(const char *subject, const char *const *students, size_t n, bool health)
{
    static const char *const fields[] = {"health", NULL};
    principal_t who = {.role = ROLE_MINISTRY, .method = AUTH_TOKEN};
    kt_error_t err;

    kt_error_clear(&err);
    snprintf(who.subject, sizeof who.subject, "%s", subject);
    CHECK(audit_log_read_fields(conn, &who, "req-1", "student", students, n, health ? fields : NULL,
                                health ? "проверка" : NULL, &err));
    usleep(3000); /* entries of distinct milliseconds, so that periods tell them apart */
}

static void
test_access_log_queries(void)
{
    logged_t e[8];
    query_page_t p;
    kt_error_t err;

    log_read("reader-1", (const char *[]){SA, SB}, 2, false); /* e0 */
    log_read("reader-2", (const char *[]){SA}, 1, true);      /* e1 */
    log_read("reader-1", (const char *[]){SB}, 1, false);     /* e2 */
    log_read("reader-1", (const char *[]){SA, SA}, 2, false); /* e3: one row for SA */
    CHECK_INT(logged(e, 8), 4);

    p = query(SA, NULL, NULL, NULL, NULL, 10);
    CHECK(p.n == 3 && strcmp(p.ids[0], e[3].id) == 0 && strcmp(p.ids[1], e[1].id) == 0 &&
          strcmp(p.ids[2], e[0].id) == 0);
    CHECK_STR(p.next, "");
    CHECK(p.subject_hidden && p.fields_ok);
    p = query(NULL, "reader-1", NULL, NULL, NULL, 10);
    CHECK(p.n == 3 && strcmp(p.ids[0], e[3].id) == 0 && strcmp(p.ids[1], e[2].id) == 0 &&
          strcmp(p.ids[2], e[0].id) == 0);
    p = query(SA, "reader-1", NULL, NULL, NULL, 10);
    CHECK(p.n == 2 && strcmp(p.ids[0], e[3].id) == 0 && strcmp(p.ids[1], e[0].id) == 0);
    p = query(NULL, "reader-3", NULL, NULL, NULL, 10);
    CHECK(p.n == 0 && p.next[0] == '\0');

    /* The period: both bounds inclusive, at millisecond precision. */
    p = query(SA, NULL, e[1].time, e[1].time, NULL, 10);
    CHECK(p.n == 1 && strcmp(p.ids[0], e[1].id) == 0);
    p = query(SA, NULL, NULL, e[1].time, NULL, 10);
    CHECK(p.n == 2 && strcmp(p.ids[0], e[1].id) == 0);
    p = query(NULL, "reader-1", e[2].time, NULL, NULL, 10);
    CHECK(p.n == 2 && strcmp(p.ids[1], e[2].id) == 0);
    CHECK_INT(query(SA, NULL, "2999-01-01T00:00:00.000Z", NULL, NULL, 10).n, 0);
    CHECK_INT(query(SA, NULL, NULL, "2000-01-01T00:00:00.500Z", NULL, 10).n, 0);
    CHECK_INT(query(SA, NULL, "1960-01-01T00:00:00.000Z", NULL, NULL, 10).n, 3);

    kt_error_clear(&err);
    buf_t b;
    jw_t w;
    buf_init(&b, 0);
    jw_init(&w, &b);
    CHECK(!audit_query(conn, &(audit_filter_t){0}, NULL, 10, &w, &err) && err.code == KT_INTERNAL);
    kt_error_clear(&err);
    CHECK(!audit_query(conn, &(audit_filter_t){.subject = "x", .from = "yesterday"}, NULL, 10, &w,
                       &err) &&
          err.code == KT_INTERNAL);
    buf_release(&b);
}

static void
test_access_log_cursor_pages(void)
{
    logged_t e[8];
    char cursor[64] = "";
    int pages = 0;
    query_page_t p;

    CHECK_INT(logged(e, 8), 4);
    /* SA's entries (e3, e1, e0) one a page, newest first, then a null cursor. */
    const char *want[] = {e[3].id, e[1].id, e[0].id};
    for (;;) {
        p = query(SA, NULL, NULL, NULL, cursor[0] ? cursor : NULL, 1);
        CHECK(p.n == 1 && pages < 3 && strcmp(p.ids[0], want[pages]) == 0);
        pages++;
        if (p.next[0] == '\0' || pages > 3)
            break;
        CHECK_STR(p.next, p.ids[0]);
        memcpy(cursor, p.next, sizeof cursor);
    }
    CHECK_INT(pages, 3);
    /* Two a page by subject: 2, then 1. */
    p = query(NULL, "reader-1", NULL, NULL, NULL, 2);
    CHECK(p.n == 2 && p.next[0] != '\0');
    p = query(NULL, "reader-1", NULL, NULL, p.next, 2);
    CHECK(p.n == 1 && p.next[0] == '\0' && strcmp(p.ids[0], e[0].id) == 0);
}

/* --- what a subject changed --- */

typedef struct {
    int n, stop_at;
    int64_t seq[8];
} changes_t;

static bool
see_change(void *ctx, const bson_t *rec)
{
    changes_t *c = ctx;

    if (c->n < 8)
        c->seq[c->n++] = util_get_int(rec, "seq", -1);
    return c->n != c->stop_at;
}

static changes_t
changes(const char *subject, const char *from, const char *to, int64_t before, int limit,
        int stop_at)
{
    audit_filter_t f = {.subject = subject, .from = from, .to = to};
    changes_t c = {.stop_at = stop_at};
    kt_error_t err;

    kt_error_clear(&err);
    CHECK(audit_changes_each(conn, &f, before, limit, see_change, &c, &err));
    return c;
}

static void
test_changes_by_subject(void)
{
    changes_t c;

    put_version(&(version_row_t){SA, 1, "2026-01-01T00:00:00.000Z", false, 11, "editor-1", ORG_A});
    put_version(&(version_row_t){SB, 1, "2026-01-02T00:00:00.000Z", false, 12, "editor-1", ORG_A});
    put_version(&(version_row_t){SA, 2, "2026-01-03T00:00:00.000Z", false, 13, "editor-2", ORG_A});
    put_version(&(version_row_t){SB, 2, "2026-01-04T00:00:00.000Z", false, 14, "editor-1", ORG_A});

    c = changes("editor-1", NULL, NULL, 0, 2, 0); /* limit + 1 records */
    CHECK(c.n == 3 && c.seq[0] == 14 && c.seq[1] == 12 && c.seq[2] == 11);
    c = changes("editor-1", NULL, NULL, 12, 2, 0);
    CHECK(c.n == 1 && c.seq[0] == 11);
    c = changes("editor-1", "2026-01-02T00:00:00.000Z", NULL, 0, 10, 0);
    CHECK(c.n == 2 && c.seq[0] == 14 && c.seq[1] == 12);
    c = changes("editor-1", NULL, "2026-01-02T00:00:00.000Z", 0, 10, 0);
    CHECK(c.n == 2 && c.seq[0] == 12 && c.seq[1] == 11);
    c = changes("editor-2", NULL, NULL, 0, 10, 0);
    CHECK(c.n == 1 && c.seq[0] == 13);
    c = changes("editor-1", NULL, NULL, 0, 10, 1); /* the visitor stops the walk */
    CHECK_INT(c.n, 1);
    CHECK_INT(changes("nobody", NULL, NULL, 0, 10, 0).n, 0);
}

/* --- scans --- */

typedef struct {
    int64_t version;
    bool deleted;
    char org[16];
} summary_t;

static bool
keep(void *ctx, const scan_version_t *v, void *value, kt_error_t *err)
{
    summary_t *s = value;
    const char *org = util_get_str(v->doc, "organization");

    (void)ctx;
    (void)err;
    s->version = v->version;
    s->deleted = v->deleted;
    snprintf(s->org, sizeof s->org, "%s", org ? org : "");
    return true;
}

static const summary_t *
kept(strmap_t *map, const char *id)
{
    void *v = map != NULL ? strmap_get(map, id) : NULL;

    return v != NULL ? scan_summary(v) : NULL;
}

static strmap_t *
scan(const char *until)
{
    scan_spec_t spec = {
        .kind = &store_kind_student, .until = until, .value_size = sizeof(summary_t), .keep = keep};
    strmap_t *map = NULL;
    kt_error_t err;

    kt_error_clear(&err);
    CHECK(store_scan_latest(conn, &spec, &map, &err));
    return map;
}

/* Students of the scans (fresh tables: run after the changes test's rows
 * are gone). */
static void
scan_rows(void)
{
    sql("DELETE FROM student_versions; DELETE FROM students;");
    /* SA moves A → B in March; SB is deleted in January; SC comes in
     * February; SD stays at A, three versions. */
    put_version(&(version_row_t){SA, 1, "2026-01-01T00:00:00.000Z", false, 1, "e", ORG_A});
    put_version(&(version_row_t){SA, 2, "2026-03-01T00:00:00.000Z", false, 6, "e", ORG_B});
    put_version(&(version_row_t){SB, 1, "2026-01-05T00:00:00.000Z", false, 2, "e", ORG_A});
    put_version(&(version_row_t){SB, 2, "2026-01-10T00:00:00.000Z", true, 3, "e", ORG_A});
    put_version(&(version_row_t){SC, 1, "2026-02-15T00:00:00.000Z", false, 5, "e", ORG_A});
    put_version(&(version_row_t){SD, 1, "2026-01-02T00:00:00.000Z", false, 4, "e", ORG_A});
    put_version(&(version_row_t){SD, 2, "2026-04-02T00:00:00.000Z", false, 7, "e", ORG_A});
    put_version(&(version_row_t){SD, 3, "2026-05-02T00:00:00.000Z", false, 8, "e", ORG_A});
}

static void
test_scan_latest_as_of(void)
{
    strmap_t *map;
    const summary_t *s;

    scan_rows();
    map = scan("2026-02-01T00:00:00.000Z");
    CHECK_INT(map ? strmap_count(map) : 0, 3); /* SC did not exist yet */
    s = kept(map, SA);
    CHECK(s != NULL && s->version == 1 && strcmp(s->org, ORG_A) == 0); /* March is later */
    s = kept(map, SB);
    CHECK(s != NULL && s->version == 2 && s->deleted);
    s = kept(map, SD);
    CHECK(s != NULL && s->version == 1 && !s->deleted);
    CHECK(kept(map, SC) == NULL);
    scan_free(&(scan_spec_t){0}, map);

    map = scan("2026-03-01T00:00:00.000Z"); /* the bound is inclusive */
    s = kept(map, SA);
    CHECK(s != NULL && s->version == 2 && strcmp(s->org, ORG_B) == 0);
    CHECK_INT(map ? strmap_count(map) : 0, 4);
    scan_free(&(scan_spec_t){0}, map);

    map = scan(NULL); /* every record's head version */
    s = kept(map, SD);
    CHECK(s != NULL && s->version == 3);
    s = kept(map, SA);
    CHECK(s != NULL && s->version == 2);
    CHECK_INT(map ? strmap_count(map) : 0, 4);
    scan_free(&(scan_spec_t){0}, map);

    map = scan("2025-01-01T00:00:00.000Z"); /* before everything */
    CHECK(map != NULL && strmap_count(map) == 0);
    scan_free(&(scan_spec_t){0}, map);
}

/* The pages of A's students with the given bound and page size, ids joined. */
static void
scan_pages(const char *until, int limit, char *out, size_t size)
{
    scan_spec_t spec = {.kind = &store_kind_student, .until = until};
    char cursor[64] = "", ids[8][40];
    bool more = true;
    int n = 0, pages = 0;
    size_t len = 0;
    kt_error_t err;

    out[0] = '\0';
    while (more && pages++ < 20) {
        kt_error_clear(&err);
        CHECK(store_scan_page(conn, &spec, "doc.organization", ORG_A, cursor, limit, ids, &n, &more,
                              &err));
        for (int i = 0; i < n; i++)
            len += (size_t)snprintf(out + len, size - len, "%c", ids[i][35]);
        len += (size_t)snprintf(out + len, size - len, "|");
    }
}

static void
test_scan_page(void)
{
    scan_spec_t spec = {.kind = &store_kind_student};
    char cursor[64] = "", ids[8][40], out[128];
    bool more = false;
    int n = 0;
    kt_error_t err;

    scan_rows();
    /* Ever at A by February: SA (v1), SB (v1, v2), SD (v1); SC came later. */
    scan_pages("2026-02-01T00:00:00.000Z", 10, out, sizeof out);
    CHECK_STR(out, "abd|");
    /* Two versions a page: SB straddles two pages and is in both; a full
     * last page says "more", and the next is empty. */
    scan_pages("2026-02-01T00:00:00.000Z", 2, out, sizeof out);
    CHECK_STR(out, "ab|bd||");
    /* Without a bound: SC, and SD's three versions (SA's v2 is at B). */
    scan_pages(NULL, 3, out, sizeof out);
    CHECK_STR(out, "ab|cd|d|");
    scan_pages(NULL, 10, out, sizeof out);
    CHECK_STR(out, "abcd|");
    /* The cursor is a version _id. */
    kt_error_clear(&err);
    CHECK(store_scan_page(conn, &spec, "doc.organization", ORG_A, cursor, 1, ids, &n, &more, &err));
    CHECK_STR(cursor, SA ":0000000001");
    CHECK(n == 1 && more);
    CHECK(!store_scan_page(conn, &spec, "doc.sex", "F", cursor, 1, ids, &n, &more, &err));
}

/* --- health keys --- */

static void
wraps_of(bson_t *w, const char *const *keks)
{
    bson_t wrap;

    bson_init(w);
    for (size_t i = 0; keks[i] != NULL; i++) {
        BSON_APPEND_DOCUMENT_BEGIN(w, keks[i], &wrap);
        BSON_APPEND_UTF8(&wrap, "nonce", "n");
        BSON_APPEND_UTF8(&wrap, "ct", "c");
        BSON_APPEND_UTF8(&wrap, "tag", "t");
        bson_append_document_end(w, &wrap);
    }
}

typedef struct {
    int n;
    char ids[8][40];
    char time[8][32];
    bool shape_ok;
} keys_seen_t;

static bool
see_key(void *ctx, const bson_t *doc)
{
    keys_seen_t *k = ctx;
    const char *id = util_get_str(doc, "_id"), *time = util_get_str(doc, "time");
    bson_iter_t it;

    k->shape_ok = k->shape_ok && id != NULL && time != NULL &&
                  bson_iter_init_find(&it, doc, "wraps") && BSON_ITER_HOLDS_DOCUMENT(&it);
    if (k->n < 8 && id != NULL && time != NULL) {
        snprintf(k->ids[k->n], 40, "%s", id);
        snprintf(k->time[k->n], 32, "%s", time);
        k->n++;
    }
    return true;
}

static keys_seen_t
keys(const char *lacking, const char *after, int limit)
{
    keys_seen_t k = {.shape_ok = true};
    kt_error_t err;

    kt_error_clear(&err);
    CHECK(health_keys_each(conn, lacking, after, limit, see_key, &k, &err));
    CHECK(k.shape_ok);
    return k;
}

static void
test_health_keys(void)
{
    bson_t w, got;
    bool found = false;
    kt_error_t err;
    keys_seen_t k;
    char time1[32];

    kt_error_clear(&err);
    wraps_of(&w, (const char *[]){"kekA", NULL});
    CHECK(health_keys_insert(conn, "k1", &w, &err));
    CHECK(!health_keys_insert(conn, "k1", &w, &err) && err.status == 500);
    bson_destroy(&w);
    wraps_of(&w, (const char *[]){"kekA", "kekB", NULL});
    CHECK(health_keys_insert(conn, "k2", &w, &err));
    bson_destroy(&w);
    wraps_of(&w, (const char *[]){"kekB", NULL});
    CHECK(health_keys_insert(conn, "k3", &w, &err));
    bson_destroy(&w);

    CHECK(health_keys_get(conn, "k2", &got, &found, &err) && found);
    if (found) {
        CHECK(bson_has_field(&got, "kekA") && bson_has_field(&got, "kekB"));
        bson_destroy(&got);
    }
    CHECK(health_keys_get(conn, "k9", &got, &found, &err) && !found);

    k = keys(NULL, NULL, 10);
    CHECK(k.n == 3 && strcmp(k.ids[0], "k1") == 0 && strcmp(k.ids[2], "k3") == 0);
    memcpy(time1, k.time[0], sizeof time1);
    k = keys(NULL, "k1", 1);
    CHECK(k.n == 1 && strcmp(k.ids[0], "k2") == 0);
    k = keys("kekB", NULL, 10);
    CHECK(k.n == 1 && strcmp(k.ids[0], "k1") == 0);
    k = keys("kekA", NULL, 10);
    CHECK(k.n == 1 && strcmp(k.ids[0], "k3") == 0);

    usleep(2000); /* a later time, had put_wraps moved it */
    wraps_of(&w, (const char *[]){"kekA", "kekB", NULL});
    CHECK(health_keys_put_wraps(conn, "k1", &w, &err));
    CHECK(health_keys_put_wraps(conn, "k4", &w, &err)); /* a missing key is made */
    bson_destroy(&w);
    CHECK_INT(keys("kekB", NULL, 10).n, 0);
    k = keys(NULL, NULL, 10);
    CHECK(k.n == 4 && strcmp(k.time[0], time1) == 0 && strcmp(k.ids[3], "k4") == 0);
}

/* A rotation writes each key back from inside the visit, while other
 * connections write too: the visit must hold no read open (else the write
 * meets SQLITE_BUSY_SNAPSHOT at once). */
typedef struct {
    store_conn_t *other;
    int n;
    bool ok;
} rewrap_t;

static bool
rewrap(void *ctx, const bson_t *doc)
{
    rewrap_t *r = ctx;
    char other_id[16];
    bson_t w;
    kt_error_t err;

    kt_error_clear(&err);
    snprintf(other_id, sizeof other_id, "x%d", r->n++);
    wraps_of(&w, (const char *[]){"kekC", NULL});
    r->ok = r->ok && health_keys_insert(r->other, other_id, &w, &err); /* another writer */
    bson_destroy(&w);
    wraps_of(&w, (const char *[]){"kekA", "kekB", "kekC", NULL});
    r->ok = r->ok && health_keys_put_wraps(conn, util_get_str(doc, "_id"), &w, &err);
    if (err.code != KT_OK)
        fprintf(stderr, "rewrap: %s\n", err.message);
    bson_destroy(&w);
    return r->ok;
}

static void
test_health_keys_visit_may_write(void)
{
    rewrap_t r = {.other = store_conn_pop(store, STORE_POOL_REQUEST), .ok = true};
    kt_error_t err;

    kt_error_clear(&err);
    CHECK(health_keys_each(conn, "kekC", NULL, 3, rewrap, &r, &err));
    CHECK(r.ok && r.n == 3);
    CHECK_INT(keys("kekC", NULL, 10).n, 1); /* k4: the page was 3 */
    kt_error_clear(&err);
    CHECK(!health_keys_each(conn, NULL, NULL, 0, rewrap, &r, &err) && err.status == 500);
    store_conn_push(r.other);
}

/* --- copy (kontingentctl migrate) --- */

typedef struct {
    store_conn_t *to;
    copy_set_t set;
    int n, inserted;
    bool ok;
} copier_t;

static bool
copy_one(void *ctx, const bson_t *doc)
{
    copier_t *c = ctx;
    bool inserted = false;
    kt_error_t err;

    kt_error_clear(&err);
    c->ok = c->ok && store_copy_put(c->to, c->set, doc, &inserted, &err);
    c->n++;
    c->inserted += inserted;
    return c->ok;
}

/* The access log and the health keys into a second file, twice: the second
 * time everything is there already. The copy answers the same queries. */
static void
test_copy_access_log_and_health_keys(void)
{
    char path[600];
    kt_error_t err;
    store_t *other;
    store_conn_t *saved = conn;
    query_page_t before, after;

    kt_error_clear(&err);
    snprintf(path, sizeof path, "%s/copy.db", dir);
    other = store_new(&(store_options_t){.backend = STORE_SQLITE, .sqlite_path = path}, &err);
    CHECK(other != NULL);
    if (other == NULL)
        return;
    copier_t c = {.to = store_conn_pop(other, STORE_POOL_BATCH), .ok = true};
    CHECK(store_prepare(c.to, &err));
    for (int round = 0; round < 2; round++) {
        for (copy_set_t set = COPY_ACCESS_LOG; set <= COPY_HEALTH_KEYS; set++) {
            c.set = set;
            c.n = c.inserted = 0;
            CHECK(store_copy_each(conn, set, copy_one, &c, &err));
            CHECK(c.ok && c.n > 0 && c.inserted == (round == 0 ? c.n : 0));
        }
    }
    before = query(SA, NULL, NULL, NULL, NULL, 10);
    conn = c.to; /* the queries of this file read the copy */
    after = query(SA, NULL, NULL, NULL, NULL, 10);
    CHECK(after.n == before.n && before.n == 3 && strcmp(after.ids[2], before.ids[2]) == 0);
    CHECK(after.subject_hidden && after.fields_ok);
    CHECK_INT(query(NULL, "reader-1", NULL, NULL, NULL, 10).n, 3);
    CHECK_INT(keys(NULL, NULL, 100).n, 7); /* k1-k4, x0-x2 */
    conn = saved;
    store_conn_push(c.to);
    store_free(other);
    for (const char *const *s = (const char *const[]){"", "-wal", "-shm", NULL}; *s; s++) {
        snprintf(path, sizeof path, "%s/copy.db%s", dir, *s);
        unlink(path);
    }
}

int
main(void)
{
    if (!open_store()) {
        fprintf(stderr, "cannot open a SQLite store in /tmp\n");
        return 1;
    }
    CHECK_RUN(test_feed_region_pages_in_order);
    CHECK_RUN(test_feed_school_sees_its_own_and_left);
    CHECK_RUN(test_access_log_queries);
    CHECK_RUN(test_access_log_cursor_pages);
    CHECK_RUN(test_changes_by_subject);
    CHECK_RUN(test_scan_latest_as_of);
    CHECK_RUN(test_scan_page);
    CHECK_RUN(test_health_keys);
    CHECK_RUN(test_health_keys_visit_may_write);
    CHECK_RUN(test_copy_access_log_and_health_keys);
    close_store();
    CHECK_MAIN_END();
}
