/*
 * revoke: the list of revoked bearer tokens (var/tokens/revoked, KT_TOKEN_REVOKED),
 * written by `kontingentctl token revoke` and read by every worker, which
 * reloads it without a restart (docs/operations.md, "Tokens").
 *
 * The file is text, one revocation a line, '#' starts a comment:
 *   jti <unix time> <token id>      that one token
 *   sub <unix time> <subject>       every token of the subject issued at or
 *                                   before the time (iat <= time); the
 *                                   subject runs to the end of the line
 * A worker looks at the file's identity (inode, size, mtime) at most once
 * per REVOKE_CHECK_MS and reads it again when it changed. A file that is
 * missing is an empty list; one that cannot be read or does not parse
 * refuses every token until it is fixed (fail closed), with a log line.
 * Workers read it after dropping root: it lives outside the 0700 var/keys.
 */
#ifndef KT_REVOKE_H
#define KT_REVOKE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "core/error.h"

/* How often a worker looks at the file: a revocation binds within this. */
#define REVOKE_CHECK_MS 1000
/* The largest file a worker reads (about 40 000 revocations). */
#define REVOKE_MAX_BYTES (4u << 20)
/* A jti entry older than this is dropped when the file is written: no token
 * lives longer (the hard cap of KT_TOKEN_MAX_TTL, plus the clock skew). */
#define REVOKE_JTI_KEEP_SECONDS (30 * 86400 + 300)

typedef enum { REVOKE_JTI = 0, REVOKE_SUBJECT, REVOKE__MAX } revoke_kind_t;

typedef struct revoke_list revoke_list_t;

/* A list that reads path (the file need not exist yet). NULL on no memory. */
revoke_list_t *revoke_list_new(const char *path);
void revoke_list_free(revoke_list_t *list);

/*
 * Is a token (jti, sub, iat) revoked? Reloads the file first when it is time
 * to look and it changed. False with err (401, for the log: "token revoked",
 * or 503 UNAVAILABLE when the list cannot be read) when the token must be
 * refused. Thread-safe.
 */
bool revoke_list_allows(revoke_list_t *list, const char *jti, const char *sub, int64_t iat,
                        kt_error_t *err);

/* Whether value may be revoked as kind: a jti of [A-Za-z0-9_-], a subject of
 * text (core/utf8.h), each 1..255 bytes. */
bool revoke_value_valid(revoke_kind_t kind, const char *value);

/*
 * Adds a revocation at time now to the file at path (created 0644 when
 * missing, in a directory created 0755 when missing), dropping jti entries past
 * REVOKE_JTI_KEEP_SECONDS. The new file replaces the old one by rename, so a worker never reads
 * half of it; a lock file (path.lock) orders concurrent writers. False with err.
 */
bool revoke_file_add(const char *path, revoke_kind_t kind, const char *value, int64_t now,
                     kt_error_t *err);

#endif
