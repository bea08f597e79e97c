/*
 * audit: the access log and the auditors' queries in the SQLite store
 * (store/audit.h).
 *
 * An entry is the MongoDB entry document, kept whole in access_log.entry,
 * with its id "<13-digit ms>-<uuid>" and its time made from the same
 * millisecond — so that a period of time is a range of ids, and every query
 * is one descending range scan of an index, as MongoDB's sort by _id:
 * by subject (subject, id), by student access_log_students (student_id, id),
 * one row per student the entry names. The changes a subject wrote are a
 * range of student_versions_subject (subject, seq, time).
 */
#include "store/sqlite/sqlite.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "model/codec.h"
#include "store/feed.h"

#define AUDIT_LIMIT_MAX 500

/* Above every id ("<digits>-…"): the open upper bound. */
#define ID_TOP "~"

#define SQL_LOG_INSERT "INSERT INTO access_log(id, time, subject, entry) VALUES(?1, ?2, ?3, ?4)"
/* A student named twice in one read is one row. */
#define SQL_LOG_STUDENT "INSERT OR IGNORE INTO access_log_students(student_id, id) VALUES(?1, ?2)"

/* ?1 subject, ids in [?2, ?3), newest first, ?4 rows. */
#define SQL_BY_SUBJECT                                                                             \
    "SELECT id, entry FROM access_log WHERE subject = ?1 AND id >= ?2 AND id < ?3"                 \
    " ORDER BY id DESC LIMIT ?4"
/* ?1 student, ids in [?2, ?3), ?5 the subject or NULL, newest first, ?4 rows.
 * CROSS JOIN keeps the student's rows the outer loop. */
#define SQL_BY_STUDENT                                                                             \
    "SELECT a.id, a.entry FROM access_log_students s CROSS JOIN access_log a ON a.id = s.id"       \
    " WHERE s.student_id = ?1 AND s.id >= ?2 AND s.id < ?3 AND (?5 IS NULL OR a.subject = ?5)"     \
    " ORDER BY s.id DESC LIMIT ?4"

/* ?1 subject, seq below ?2, time in [?3, ?4], newest first, ?5 rows. */
#define SQL_CHANGES                                                                                \
    "SELECT record FROM student_versions WHERE subject = ?1 AND seq < ?2"                          \
    " AND time >= ?3 AND time <= ?4 ORDER BY seq DESC LIMIT ?5"

/* The id and the stored-form time of an entry written now, of one ms. */
static void
entry_stamp(char id[64], char time_s[32])
{
    int64_t ms = feed_now_ms();
    time_t secs = (time_t)(ms / 1000);
    struct tm tm;
    char uuid[37];
    size_t n;

    util_uuid(uuid);
    snprintf(id, 64, "%013lld-%s", (long long)ms, uuid);
    gmtime_r(&secs, &tm);
    n = strftime(time_s, 32, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(time_s + n, 32 - n, ".%03dZ", (int)(ms % 1000));
}

/* The entry document, as MongoDB's (store/mongo/audit.c). */
static void
entry_doc(bson_t *doc, const char *id, const char *time_s, const principal_t *who,
          const char *request_id, const char *what, const char *const *student_ids, size_t n,
          const char *const *fields, const char *purpose)
{
    char key[24];
    bson_t principal, list;

    bson_init(doc);
    BSON_APPEND_UTF8(doc, "_id", id);
    BSON_APPEND_UTF8(doc, "time", time_s);
    BSON_APPEND_DOCUMENT_BEGIN(doc, "principal", &principal);
    BSON_APPEND_UTF8(&principal, "subject", who->subject);
    BSON_APPEND_UTF8(&principal, "role", principal_role_name(who->role));
    if (who->org[0])
        BSON_APPEND_UTF8(&principal, "organization", who->org);
    else
        BSON_APPEND_NULL(&principal, "organization");
    bson_append_document_end(doc, &principal);
    BSON_APPEND_UTF8(doc, "subject", who->subject); /* top level: the query key */
    BSON_APPEND_ARRAY_BEGIN(doc, "students", &list);
    for (size_t i = 0; i < n; i++) {
        snprintf(key, sizeof key, "%zu", i);
        bson_append_utf8(&list, key, -1, student_ids[i], -1);
    }
    bson_append_array_end(doc, &list);
    BSON_APPEND_UTF8(doc, "what", what);
    BSON_APPEND_UTF8(doc, "request_id", request_id);
    if (fields == NULL)
        return;
    BSON_APPEND_ARRAY_BEGIN(doc, "fields", &list);
    for (size_t i = 0; fields[i] != NULL; i++) {
        snprintf(key, sizeof key, "%zu", i);
        bson_append_utf8(&list, key, -1, fields[i], -1);
    }
    bson_append_array_end(doc, &list);
    if (purpose != NULL)
        BSON_APPEND_UTF8(doc, "purpose", purpose);
    else
        BSON_APPEND_NULL(doc, "purpose");
}

/* The rows of one entry, inside the caller's transaction. */
static bool
insert_entry(store_conn_t *conn, const char *id, const char *time_s, const char *subject,
             const bson_t *doc, const char *const *student_ids, size_t n, kt_error_t *err)
{
    sqlite3_stmt *st = sqlite_stmt(conn, SQL_LOG_INSERT, err);
    bool ok;

    if (st == NULL)
        return false;
    sqlite_bind_text(st, 1, id);
    sqlite_bind_text(st, 2, time_s);
    sqlite_bind_text(st, 3, subject);
    sqlite_bind_bson(st, 4, doc);
    ok = sqlite_step_done(st, conn, "access log", err);
    sqlite3_reset(st);
    for (size_t i = 0; ok && i < n; i++) {
        if ((st = sqlite_stmt(conn, SQL_LOG_STUDENT, err)) == NULL)
            return false;
        sqlite_bind_text(st, 1, student_ids[i]);
        sqlite_bind_text(st, 2, id);
        ok = sqlite_step_done(st, conn, "access log", err);
        sqlite3_reset(st);
    }
    return ok;
}

bool
sqlite_audit_log_read_fields(store_conn_t *conn, const principal_t *who, const char *request_id,
                             const char *what, const char *const *student_ids, size_t n,
                             const char *const *fields, const char *purpose, kt_error_t *err)
{
    char id[64], time_s[32];
    bson_t doc;
    bool ok = false;

    entry_stamp(id, time_s);
    entry_doc(&doc, id, time_s, who, request_id, what, student_ids, n, fields, purpose);
    if (!sqlite_begin(conn, err))
        goto done;
    if (!insert_entry(conn, id, time_s, who->subject, &doc, student_ids, n, err)) {
        sqlite_rollback(conn);
        goto done;
    }
    ok = sqlite_commit(conn, err);
done:
    bson_destroy(&doc);
    return ok;
}

/* The milliseconds of a stored-form time "YYYY-MM-DDTHH:MM:SS.mmmZ". */
static bool
stored_ms(const char *t, int64_t *ms)
{
    struct tm tm;
    const char *rest;

    memset(&tm, 0, sizeof tm);
    rest = strptime(t, "%Y-%m-%dT%H:%M:%S", &tm);
    if (rest == NULL || rest[0] != '.' || strspn(rest + 1, "0123456789") != 3 ||
        strcmp(rest + 4, "Z") != 0)
        return false;
    *ms = (int64_t)timegm(&tm) * 1000 + (rest[1] - '0') * 100 + (rest[2] - '0') * 10 +
          (rest[3] - '0');
    return true;
}

/* The ids of the period and below the cursor: [lo, hi). An entry's id
 * starts with the millisecond of its time, so time ≥ from is id ≥ "<from
 * ms>" and time ≤ to is id < "<to ms + 1>" (a time before 1970 bounds
 * nothing from below, everything from above). */
static bool
id_range(const audit_filter_t *f, const char *cursor, char lo[64], char hi[64], kt_error_t *err)
{
    int64_t from = 0, to = 0;
    char to_hi[64];

    lo[0] = '\0';
    snprintf(hi, 64, "%s", cursor != NULL ? cursor : ID_TOP);
    if ((f->from != NULL && !stored_ms(f->from, &from)) ||
        (f->to != NULL && !stored_ms(f->to, &to))) {
        kt_error_set(err, KT_DOMAIN_INPUT, KT_FORMAT, 400,
                     "from and to must be stored-form times (YYYY-MM-DDTHH:MM:SS.mmmZ)");
        return false;
    }
    if (f->from != NULL && from > 0)
        snprintf(lo, 64, "%013lld", (long long)from);
    if (f->to != NULL) {
        snprintf(to_hi, sizeof to_hi, "%013lld", (long long)(to < 0 ? 0 : to + 1));
        if (strcmp(to_hi, hi) < 0)
            memcpy(hi, to_hi, strlen(to_hi) + 1);
    }
    return true;
}

/* As MongoDB's: the entry's members but the query key, _id as "id". */
static void
write_entry(jw_t *w, const bson_t *doc)
{
    bson_iter_t it;

    jw_object_begin(w);
    if (bson_iter_init(&it, doc)) {
        while (bson_iter_next(&it)) {
            const char *key = bson_iter_key(&it);
            if (strcmp(key, "subject") == 0)
                continue;
            jw_key(w, strcmp(key, "_id") == 0 ? "id" : key);
            codec_value_to_json(w, &it);
        }
    }
    jw_object_end(w);
}

/* The statement of the query, bound; NULL with err set. */
static sqlite3_stmt *
query_stmt(store_conn_t *conn, const audit_filter_t *f, const char *lo, const char *hi, int limit,
           kt_error_t *err)
{
    sqlite3_stmt *st = sqlite_stmt(conn, f->student != NULL ? SQL_BY_STUDENT : SQL_BY_SUBJECT, err);

    if (st == NULL)
        return NULL;
    sqlite_bind_text(st, 1, f->student != NULL ? f->student : f->subject);
    sqlite_bind_text(st, 2, lo);
    sqlite_bind_text(st, 3, hi);
    sqlite3_bind_int(st, 4, limit + 1); /* the extra row says a next page exists */
    if (f->student != NULL)
        sqlite_bind_text(st, 5, f->subject);
    return st;
}

/* The page's entries into w; *last the id of the last written, *more
 * whether a next one exists. */
static bool
write_items(store_conn_t *conn, sqlite3_stmt *st, int limit, jw_t *w, char last[64], bool *more,
            kt_error_t *err)
{
    int n = 0, rc;

    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const void *data = sqlite3_column_blob(st, 1);
        int len = sqlite3_column_bytes(st, 1);
        bson_t view;
        if (n == limit) {
            *more = true;
            break;
        }
        /* A view of the row's blob, valid until the next step. */
        if (data == NULL || len < 5 || !bson_init_static(&view, data, (size_t)len)) {
            kt_error_set(err, KT_DOMAIN_STORE, KT_INTERNAL, 500, "access log: a bad entry");
            return false;
        }
        write_entry(w, &view);
        snprintf(last, 64, "%s", (const char *)sqlite3_column_text(st, 0));
        n++;
    }
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        sqlite_error(err, sqlite_db(conn), rc, "access log query");
        return false;
    }
    return true;
}

bool
sqlite_audit_query(store_conn_t *conn, const audit_filter_t *f, const char *cursor, int limit,
                   jw_t *w, kt_error_t *err)
{
    char lo[64], hi[64], last[64] = "";
    sqlite3_stmt *st;
    bool more = false, ok;

    if (f->student == NULL && f->subject == NULL) {
        kt_error_set(err, KT_DOMAIN_INPUT, KT_FORMAT, 400, "give student, subject or both");
        return false;
    }
    if (limit < 1 || limit > AUDIT_LIMIT_MAX) {
        kt_error_set(err, KT_DOMAIN_INPUT, KT_FORMAT, 400, "limit must be 1 to %d",
                     AUDIT_LIMIT_MAX);
        return false;
    }
    if (!id_range(f, cursor, lo, hi, err) || (st = query_stmt(conn, f, lo, hi, limit, err)) == NULL)
        return false;
    jw_object_begin(w);
    jw_key(w, "items");
    jw_array_begin(w);
    ok = write_items(conn, st, limit, w, last, &more, err);
    sqlite3_reset(st);
    jw_array_end(w);
    jw_key(w, "next_cursor");
    jw_string(w, more ? last : NULL);
    jw_object_end(w);
    return ok;
}

bool
sqlite_audit_changes_each(store_conn_t *conn, const audit_filter_t *f, int64_t before_seq,
                          int limit, util_each_fn fn, void *ctx, kt_error_t *err)
{
    sqlite3_stmt *st;
    int rc;

    if (f->subject == NULL || limit < 1 || limit > AUDIT_LIMIT_MAX) {
        kt_error_set(err, KT_DOMAIN_INPUT, KT_FORMAT, 400,
                     "the changes query needs a subject and a limit of 1 to %d", AUDIT_LIMIT_MAX);
        return false;
    }
    if ((st = sqlite_stmt(conn, SQL_CHANGES, err)) == NULL)
        return false;
    sqlite_bind_text(st, 1, f->subject);
    sqlite3_bind_int64(st, 2, before_seq > 0 ? before_seq : INT64_MAX);
    sqlite_bind_text(st, 3, f->from != NULL ? f->from : "");
    sqlite_bind_text(st, 4, f->to != NULL ? f->to : ID_TOP);
    sqlite3_bind_int(st, 5, limit + 1);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const void *data = sqlite3_column_blob(st, 0);
        int len = sqlite3_column_bytes(st, 0);
        bson_t view;
        if (data == NULL || len < 5 || !bson_init_static(&view, data, (size_t)len)) {
            kt_error_set(err, KT_DOMAIN_STORE, KT_INTERNAL, 500, "student_versions: a bad record");
            sqlite3_reset(st);
            return false;
        }
        if (!fn(ctx, &view))
            break;
    }
    sqlite3_reset(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        sqlite_error(err, sqlite_db(conn), rc, "changes by subject");
        return false;
    }
    return true;
}
