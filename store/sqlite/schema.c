/*
 * schema: the tables of the SQLite store (docs/storage.md, "SQLite"), run by
 * store_prepare() at every start; each statement is idempotent. Documents
 * stay documents — a version record is the same BSON the hash chain covers,
 * in a blob — and only the members queries use are columns, each served by
 * an index, so that every list, search and audit query is a range scan
 * bounded by its page.
 */
#include "store/sqlite/sqlite.h"

/* The same tables for each kind of versioned record (store/kind.h): the
 * versions and the heads named by kind->versions and kind->heads. */
#define VERSIONED(versions, heads)                                                                 \
    "CREATE TABLE IF NOT EXISTS " versions " ("                                                    \
    " id TEXT NOT NULL,"                                                                           \
    " version INTEGER NOT NULL,"                                                                   \
    " time TEXT NOT NULL,"    /* stored form, \"...Z\": as_of, audit periods */                    \
    " state TEXT NOT NULL,"   /* ACTIVE | DELETED */                                               \
    " seq INTEGER,"           /* change-feed sequence (kinds in the feed) */                       \
    " subject TEXT NOT NULL," /* principal.subject: the auditors' changes query */                 \
    " organization TEXT,"     /* doc.organization (students): export by school */                  \
    " record BLOB NOT NULL,"  /* the whole version record, BSON, as hashed */                      \
    " PRIMARY KEY (id, version));"                                                                 \
    "CREATE INDEX IF NOT EXISTS " versions "_subject ON " versions " (subject, seq, time);"        \
    "CREATE INDEX IF NOT EXISTS " versions "_org ON " versions                                     \
    " (organization, id, version) WHERE organization IS NOT NULL;"                                 \
    "CREATE INDEX IF NOT EXISTS " versions "_time ON " versions " (time);"                         \
    "CREATE TABLE IF NOT EXISTS " heads " ("                                                       \
    " id TEXT PRIMARY KEY,"                                                                        \
    " version INTEGER NOT NULL,"                                                                   \
    " state TEXT NOT NULL,"                                                                        \
    " updated_at TEXT NOT NULL,"                                                                   \
    " head BLOB NOT NULL);" /* the head document (kind->head_keys), BSON */

const char *const sqlite_schema[] = {
    /* Versions and heads of students and organisations. */
    VERSIONED("student_versions", "students"),
    VERSIONED("organization_versions", "organizations"),
    VERSIONED("progress_versions", "progress"), /* store/progress.h */
    /* The heads' search members of active records, one row per member:
     * (kind, field, value) → ids in order, for lists and searches by
     * organisation, name + birth date, СНИЛС, and the organisations' filters. */
    "CREATE TABLE IF NOT EXISTS head_keys ("
    " kind TEXT NOT NULL, field TEXT NOT NULL, value TEXT NOT NULL, id TEXT NOT NULL,"
    " PRIMARY KEY (kind, field, value, id)) WITHOUT ROWID;"
    "CREATE INDEX IF NOT EXISTS head_keys_id ON head_keys (kind, id);",
    /* СНИЛС and documents of active students' current versions: the primary
     * key is the uniqueness (store/records.h). */
    "CREATE TABLE IF NOT EXISTS claims ("
    " key TEXT PRIMARY KEY, kind TEXT NOT NULL, id TEXT NOT NULL) WITHOUT ROWID;"
    "CREATE INDEX IF NOT EXISTS claims_id ON claims (kind, id);",
    /* The change feed: seq is taken in the write's transaction, so it has
     * no holes and no entry without its version. */
    "CREATE TABLE IF NOT EXISTS changes ("
    " seq INTEGER PRIMARY KEY, student_id TEXT NOT NULL, version INTEGER NOT NULL,"
    " kind TEXT NOT NULL, time TEXT NOT NULL, org TEXT NOT NULL DEFAULT '',"
    " from_org TEXT NOT NULL DEFAULT '');"
    "CREATE INDEX IF NOT EXISTS changes_org ON changes (org, seq);"
    "CREATE INDEX IF NOT EXISTS changes_from_org ON changes (from_org, seq) WHERE from_org != '';",
    /* The access log: an entry, and one row per student it names. Queries
     * page newest first by the entry's id, which begins with the
     * millisecond of its time (store/sqlite/audit.c). */
    "CREATE TABLE IF NOT EXISTS access_log ("
    " n INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, time TEXT NOT NULL,"
    " subject TEXT NOT NULL, entry BLOB NOT NULL);"
    "CREATE INDEX IF NOT EXISTS access_log_subject_id ON access_log (subject, id);"
    "CREATE TABLE IF NOT EXISTS access_log_students ("
    " student_id TEXT NOT NULL, id TEXT NOT NULL,"
    " PRIMARY KEY (student_id, id)) WITHOUT ROWID;",
    /* The wrapped data keys of sealed health blocks (store/health_keys.h):
     * wraps is the BSON {<KEK id>: {nonce, ct, tag}, ...}. */
    "CREATE TABLE IF NOT EXISTS health_keys ("
    " id TEXT PRIMARY KEY, time TEXT NOT NULL, wraps BLOB NOT NULL);",
    /* The report scans' path to each record's latest version as of a time
     * (store/sqlite/scan.c): the primary key with the time, so that the
     * walk reads the index alone. */
    "CREATE INDEX IF NOT EXISTS student_versions_latest ON student_versions (id, version, time);"
    "CREATE INDEX IF NOT EXISTS organization_versions_latest"
    " ON organization_versions (id, version, time);"
    "CREATE INDEX IF NOT EXISTS progress_versions_latest ON progress_versions (id, version, time);",
    /* /health's write probe: one row per worker process. */
    "CREATE TABLE IF NOT EXISTS health ("
    " worker INTEGER PRIMARY KEY, at_ms INTEGER NOT NULL, filler BLOB);",
    /* Packages (store/packages.h): the registration is the same document as
     * MongoDB's, in a blob; the members queries use are columns, kept with
     * it in the same statement. The primary key is the idempotency. */
    "CREATE TABLE IF NOT EXISTS packages ("
    " key TEXT PRIMARY KEY,"      /* packages_key: \"<sender tag>/<PacketID>\" */
    " packet_id TEXT NOT NULL,"   /* as sent: packages_find */
    " hash TEXT NOT NULL,"        /* SHA-256 of the bytes: a re-send's check */
    " status TEXT NOT NULL,"      /* PROCESSING, INQUEUE, PROCESSED, PARTIAL, REJECTED, FAILED */
    " received_at TEXT NOT NULL," /* \"...Z\": the queue's arrival order */
    " org TEXT NOT NULL,"         /* principal.organization */
    " sender TEXT NOT NULL,"      /* principal.subject */
    " doc BLOB NOT NULL) WITHOUT ROWID;" /* the registration, BSON */
    "CREATE INDEX IF NOT EXISTS packages_packet ON packages (packet_id);"
    "CREATE INDEX IF NOT EXISTS packages_waiting ON packages (received_at, key)"
    " WHERE status = 'INQUEUE';"
    /* One result per applied item, in item order. */
    "CREATE TABLE IF NOT EXISTS package_items ("
    " key TEXT NOT NULL, item INTEGER NOT NULL, result BLOB NOT NULL,"
    " PRIMARY KEY (key, item)) WITHOUT ROWID;"
    /* The receipt in pages of at most the configured size. */
    "CREATE TABLE IF NOT EXISTS package_receipts ("
    " key TEXT NOT NULL, page INTEGER NOT NULL, data BLOB NOT NULL,"
    " PRIMARY KEY (key, page));"
    /* A queued package's bytes in 8 MiB chunks, until it ends. */
    "CREATE TABLE IF NOT EXISTS package_chunks ("
    " key TEXT NOT NULL, n INTEGER NOT NULL, data BLOB NOT NULL,"
    " PRIMARY KEY (key, n));"
    /* Who processes a queued package: one row per package, updated in a
     * write transaction; epoch only grows, so a holder that was taken over
     * can never renew, not even after the row was reused. */
    "CREATE TABLE IF NOT EXISTS package_leases ("
    " key TEXT PRIMARY KEY, owner TEXT NOT NULL, epoch INTEGER NOT NULL,"
    " expires_ms INTEGER NOT NULL) WITHOUT ROWID;",
    /* Small documents kept by name: the last verify run ("verify_last"). */
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, doc BLOB NOT NULL);",
    /* Probable duplicates (store/duplicates.h): the pair documents, and one
     * row per list an open pair is in, in the lists' order (newest first). */
    "CREATE TABLE IF NOT EXISTS dup_pairs ("
    " id TEXT PRIMARY KEY, created TEXT NOT NULL, state TEXT NOT NULL, doc BLOB NOT NULL);"
    "CREATE TABLE IF NOT EXISTS dup_pair_keys ("
    " field TEXT NOT NULL, value TEXT NOT NULL, created TEXT NOT NULL, id TEXT NOT NULL,"
    " PRIMARY KEY (field, value, created, id)) WITHOUT ROWID;"
    "CREATE INDEX IF NOT EXISTS dup_pair_keys_id ON dup_pair_keys (id);",
    NULL,
};
