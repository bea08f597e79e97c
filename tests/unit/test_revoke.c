/*
 * test_revoke: the token revocation list — what revoke_file_add writes, what
 * a list reading it allows, and that a file it cannot use refuses every token.
 * Each check reads with a fresh list, which looks at the file at once (a
 * list in use looks at most once per REVOKE_CHECK_MS).
 */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "auth/revoke.h"
#include "tests/unit/check.h"

#define NOW 1700000000

static char dir[64];
static char path[128];

static void
setup(void)
{
    memcpy(dir, "/tmp/kt_revoke_XXXXXX", sizeof "/tmp/kt_revoke_XXXXXX");
    if (mkdtemp(dir) == NULL)
        exit(2);
    snprintf(path, sizeof path, "%s/revoked", dir);
}

static void
teardown(void)
{
    char p[160];

    unlink(path);
    snprintf(p, sizeof p, "%s.lock", path);
    unlink(p);
    rmdir(dir);
}

/* The answer of a fresh list for a token: "ok" or the reason for the log. */
static const char *
answer(const char *jti, const char *sub, int64_t iat)
{
    static char reason[512];
    revoke_list_t *list = revoke_list_new(path);
    kt_error_t err;
    bool ok;

    memset(&err, 0, sizeof err);
    ok = revoke_list_allows(list, jti, sub, iat, &err);
    revoke_list_free(list);
    if (ok)
        return "ok";
    snprintf(reason, sizeof reason, "%d %s", err.status, err.message);
    return reason;
}

static void
write_file(const char *text)
{
    FILE *f = fopen(path, "w");

    fputs(text, f);
    fclose(f);
}

static void
test_missing_file_allows_everything(void)
{
    unlink(path);
    CHECK_STR(answer("j1", "school-1", NOW), "ok");
}

static void
test_revoke_jti(void)
{
    kt_error_t err;
    struct stat st;

    unlink(path);
    CHECK(revoke_file_add(path, REVOKE_JTI, "j1", NOW, &err));
    CHECK_STR(answer("j1", "school-1", NOW), "401 token revoked (jti)");
    CHECK_STR(answer("j2", "school-1", NOW), "ok");
    CHECK_STR(answer("j", "school-1", NOW), "ok");
    CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0644);
}

static void
test_revoke_subject(void)
{
    kt_error_t err;

    unlink(path);
    CHECK(revoke_file_add(path, REVOKE_SUBJECT, "журнал школы 1", NOW, &err));
    /* Issued at or before the revocation: refused; after it: a new token. */
    CHECK_STR(answer("j1", "журнал школы 1", NOW - 100), "401 token revoked (subject)");
    CHECK_STR(answer("j1", "журнал школы 1", NOW), "401 token revoked (subject)");
    CHECK_STR(answer("j1", "журнал школы 1", NOW + 1), "ok");
    CHECK_STR(answer("j1", "журнал школы", NOW - 100), "ok");
    /* Revoked again later: the latest time binds. */
    CHECK(revoke_file_add(path, REVOKE_SUBJECT, "журнал школы 1", NOW + 50, &err));
    CHECK(revoke_file_add(path, REVOKE_SUBJECT, "a", NOW + 60, &err));
    CHECK_STR(answer("j1", "журнал школы 1", NOW + 1), "401 token revoked (subject)");
    CHECK_STR(answer("j1", "журнал школы 1", NOW + 51), "ok");
    CHECK_STR(answer("j1", "a", NOW + 60), "401 token revoked (subject)");
}

static void
test_old_jti_entries_are_dropped(void)
{
    kt_error_t err;

    unlink(path);
    CHECK(revoke_file_add(path, REVOKE_JTI, "old", NOW, &err));
    CHECK(revoke_file_add(path, REVOKE_SUBJECT, "s", NOW, &err));
    CHECK(revoke_file_add(path, REVOKE_JTI, "new", NOW + REVOKE_JTI_KEEP_SECONDS + 1, &err));
    CHECK_STR(answer("old", "x", NOW), "ok");
    CHECK_STR(answer("new", "x", NOW), "401 token revoked (jti)");
    CHECK_STR(answer("x", "s", NOW), "401 token revoked (subject)");
}

static void
test_values(void)
{
    kt_error_t err;

    CHECK(revoke_value_valid(REVOKE_JTI, "Ab-_09"));
    CHECK(!revoke_value_valid(REVOKE_JTI, ""));
    CHECK(!revoke_value_valid(REVOKE_JTI, "a b"));
    CHECK(!revoke_value_valid(REVOKE_JTI, "a\nb"));
    CHECK(revoke_value_valid(REVOKE_SUBJECT, "school 1"));
    CHECK(!revoke_value_valid(REVOKE_SUBJECT, "a\nsub b"));
    CHECK(!revoke_value_valid(REVOKE_SUBJECT, "a\xe2\x80\xae"));
    CHECK(!revoke_value_valid(REVOKE__MAX, "a"));
    CHECK(!revoke_file_add(path, REVOKE_SUBJECT, "a\njti 0 x", NOW, &err));
}

/* A file a worker cannot use refuses every token: 503, never silently none. */
static void
test_bad_file_fails_closed(void)
{
    write_file("# comment\n\njti 1700000000 ok\n");
    CHECK_STR(answer("x", "y", NOW), "ok");
    write_file("jti 1700000000 ok\ngarbage\n");
    CHECK(strncmp(answer("x", "y", NOW), "503 ", 4) == 0);
    write_file("jti -5 ok\n");
    CHECK(strncmp(answer("x", "y", NOW), "503 ", 4) == 0);
    write_file("sub 1700000000 \n");
    CHECK(strncmp(answer("x", "y", NOW), "503 ", 4) == 0);
    write_file("jti 1700000000 a b\n");
    CHECK(strncmp(answer("x", "y", NOW), "503 ", 4) == 0);
    chmod(path, 0);
    if (geteuid() != 0)
        CHECK(strncmp(answer("x", "y", NOW), "503 ", 4) == 0);
    chmod(path, 0644);
}

/* One list in use reads the file again once it changed (and its next look is due). */
static void
test_reload(void)
{
    revoke_list_t *list;
    kt_error_t err;

    unlink(path);
    list = revoke_list_new(path);
    CHECK(revoke_list_allows(list, "j9", "s", NOW, &err));
    CHECK(revoke_file_add(path, REVOKE_JTI, "j9", NOW, &err));
    usleep((REVOKE_CHECK_MS + 100) * 1000);
    CHECK(!revoke_list_allows(list, "j9", "s", NOW, &err));
    revoke_list_free(list);
}

int
main(void)
{
    setup();
    CHECK_RUN(test_missing_file_allows_everything);
    CHECK_RUN(test_revoke_jti);
    CHECK_RUN(test_revoke_subject);
    CHECK_RUN(test_old_jti_entries_are_dropped);
    CHECK_RUN(test_values);
    CHECK_RUN(test_bad_file_fails_closed);
    CHECK_RUN(test_reload);
    teardown();
    CHECK_MAIN_END();
}
