/*
 * test_certmap: loading the operator's certificate map and looking DNs up,
 * plus the role and method names the map is written in.
 *
 * Each case writes its file to a fresh temporary path and removes it again.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auth/certmap.h"
#include "auth/principal.h"
#include "check.h"

#define ORG  "1027700132195"
#define ORG2 "1037739010891"

static const char good_map[] = "# Kontingent certificate map (test)\n"
                               "\n"
                               "region - CN=MUNICIPAL-EDU-07,O=Kontingent Dev,C=RU\n"
                               "   # an indented comment\n"
                               "school " ORG " CN=school-1,O=School 1,C=RU\n"
                               "school\t" ORG2 "\t CN=school 2,O=School #2\\, Annex,C=RU  \t\n"
                               "ministry " ORG " CN=minobr,O=Ministry,C=RU\r\n"
                               "\t \n"
                               "auditor - CN=audit,O=Audit,C=RU\n"
                               "admin - CN=ops";

/* Writes text (len bytes) to a new temporary file; the caller unlinks path. */
static void
write_file(char *path, const char *text, size_t len)
{
    FILE *f;
    int fd;

    memcpy(path, "/tmp/kt_certmap_XXXXXX", sizeof "/tmp/kt_certmap_XXXXXX");
    fd = mkstemp(path);
    f = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (f == NULL) {
        perror("mkstemp");
        exit(2);
    }
    fwrite(text, 1, len, f);
    fclose(f);
}

static certmap_t *
load_n(const char *text, size_t len, kt_error_t *err)
{
    char path[32];
    certmap_t *map;

    write_file(path, text, len);
    map = certmap_load(path, err);
    unlink(path);
    return map;
}

static certmap_t *
load(const char *text, kt_error_t *err)
{
    return load_n(text, strlen(text), err);
}

/* The load error of a map that must not load; "loaded" when it did. */
static const char *
load_error(const char *text, char *message)
{
    kt_error_t err;
    certmap_t *map;

    memset(&err, 0, sizeof err);
    map = load(text, &err);
    if (map != NULL) {
        certmap_free(map);
        return "loaded";
    }
    CHECK_INT(err.code, KT_INTERNAL);
    memcpy(message, err.message, sizeof err.message);
    return message;
}

/* True when the load fails and the message names the line and the reason. */
static bool
fails_at(const char *text, int line, const char *reason)
{
    char message[KT_ERROR_MESSAGE_MAX];
    char where[32];
    const char *got = load_error(text, message);

    snprintf(where, sizeof where, ":%d: ", line);
    if (strstr(got, where) != NULL && strstr(got, reason) != NULL)
        return true;
    fprintf(stderr, "  expected line %d, \"%s\"; got \"%s\"\n", line, reason, got);
    return false;
}

static void
test_lookup_hits(void)
{
    kt_error_t err;
    certmap_t *map = load(good_map, &err);
    principal_t p;

    CHECK(map != NULL);
    CHECK(certmap_lookup(map, "CN=MUNICIPAL-EDU-07,O=Kontingent Dev,C=RU", &p));
    CHECK_STR(p.subject, "CN=MUNICIPAL-EDU-07,O=Kontingent Dev,C=RU");
    CHECK_INT(p.role, ROLE_REGION);
    CHECK_STR(p.org, "");
    CHECK_INT(p.method, AUTH_CERT);
    CHECK_INT(p.scopes, 0);
    CHECK(certmap_lookup(map, "CN=school-1,O=School 1,C=RU", &p));
    CHECK_INT(p.role, ROLE_SCHOOL);
    CHECK_STR(p.org, ORG);
    /* Tabs separate fields; inner blanks and '#' belong to the DN, outer blanks do not. */
    CHECK(certmap_lookup(map, "CN=school 2,O=School #2\\, Annex,C=RU", &p));
    CHECK_STR(p.org, ORG2);
    CHECK(certmap_lookup(map, "CN=minobr,O=Ministry,C=RU", &p));
    CHECK_INT(p.role, ROLE_MINISTRY);
    CHECK(certmap_lookup(map, "CN=audit,O=Audit,C=RU", &p));
    CHECK_INT(p.role, ROLE_AUDITOR);
    CHECK(certmap_lookup(map, "CN=ops", &p));
    CHECK_INT(p.role, ROLE_ADMIN);
    certmap_free(map);
}

static void
test_lookup_misses(void)
{
    kt_error_t err;
    certmap_t *map = load(good_map, &err);
    principal_t p;

    CHECK(map != NULL);
    /* A miss leaves an empty principal behind, never a stale one. */
    CHECK(certmap_lookup(map, "CN=ops", &p));
    CHECK(!certmap_lookup(map, "cn=ops", &p));
    CHECK_INT(p.role, ROLE_NONE);
    CHECK_INT(p.method, AUTH_NONE);
    CHECK_STR(p.subject, "");
    CHECK(!certmap_lookup(map, "CN=op", &p));
    CHECK(!certmap_lookup(map, "CN=ops ", &p));
    CHECK(!certmap_lookup(map, " CN=ops", &p));
    CHECK(!certmap_lookup(map, "CN=school-1,O=School 1,C=R", &p));
    CHECK(!certmap_lookup(map, "CN=school-1, O=School 1, C=RU", &p));
    CHECK(!certmap_lookup(map, "CN=minobr,O=Ministry,C=RU\r", &p));
    CHECK(!certmap_lookup(map, "# Kontingent certificate map (test)", &p));
    CHECK(!certmap_lookup(map, "", &p));
    CHECK(!certmap_lookup(map, NULL, &p));
    CHECK(!certmap_lookup(NULL, "CN=ops", &p));
    certmap_free(map);
    certmap_free(NULL);
}

static void
test_empty_and_comment_only(void)
{
    kt_error_t err;
    certmap_t *map = load("", &err);
    principal_t p;

    CHECK(map != NULL);
    CHECK(!certmap_lookup(map, "CN=ops", &p));
    certmap_free(map);
    map = load("# nothing yet\n\n   \n#region - CN=ops\n", &err);
    CHECK(map != NULL);
    CHECK(!certmap_lookup(map, "CN=ops", &p));
    CHECK(!certmap_lookup(map, "CN=ops\n", &p));
    certmap_free(map);
}

static void
test_malformed_lines(void)
{
    CHECK(fails_at("# c\nregion - CN=a\nteacher - CN=b\n", 3, "unknown role"));
    CHECK(fails_at("Region - CN=a\n", 1, "unknown role"));
    CHECK(fails_at("none - CN=a\n", 1, "unknown role"));
    CHECK(fails_at("regionregionregion - CN=a\n", 1, "unknown role"));
    CHECK(fails_at("\n\nschool 102770013219 CN=a\n", 3, "13 digits"));
    CHECK(fails_at("school 10277001321950 CN=a\n", 1, "13 digits"));
    CHECK(fails_at("school 102770013219X CN=a\n", 1, "13 digits"));
    CHECK(fails_at("region -- CN=a\n", 1, "13 digits"));
    CHECK(fails_at("region\n", 1, "13 digits"));
    CHECK(fails_at("region -\n", 1, "missing subject DN"));
    CHECK(fails_at("region - \t \r\n", 1, "missing subject DN"));
    CHECK(fails_at("school - CN=a\n", 1, "organisation"));
    CHECK(fails_at("region - CN=a\nregion - CN=b\nschool " ORG " CN=a\n", 3,
                   "duplicate subject DN (line 1)"));
}

static void
test_line_limits(void)
{
    char text[1100];
    char dn[300];
    char msg[KT_ERROR_MESSAGE_MAX];

    /* A 1024-byte comment is a line like any other; one byte more is refused. */
    memset(text, '#', 1024);
    memcpy(text + 1024, "\nregion - CN=a\n", sizeof "\nregion - CN=a\n");
    CHECK_STR(load_error(text, msg), "loaded");
    memset(text, '#', 1025);
    memcpy(text + 1025, "\nregion - CN=a\n", sizeof "\nregion - CN=a\n");
    CHECK(fails_at(text, 1, "longer than 1024"));
    /* The DN must fit the principal's subject field. */
    memset(dn, 'x', sizeof dn);
    dn[255] = '\0';
    snprintf(text, sizeof text, "region - %s\n", dn);
    CHECK_STR(load_error(text, msg), "loaded");
    dn[255] = 'x';
    dn[256] = '\0';
    snprintf(text, sizeof text, "region - %s\n", dn);
    CHECK(fails_at(text, 1, "longer than 255"));
}

static void
test_nul_byte(void)
{
    static const char text[] = "region - CN=a\nregion - CN=b\0c\n";
    kt_error_t err;

    CHECK(load_n(text, sizeof text - 1, &err) == NULL);
    CHECK(strstr(err.message, ":2: NUL") != NULL);
}

static char *
many_entries(size_t n)
{
    char *text = malloc(n * 24 + 1);
    size_t len = 0;

    for (size_t i = 0; i < n; i++)
        len += (size_t)snprintf(text + len, 25, "region - CN=host-%zu\n", i);
    text[len] = '\0';
    return text;
}

static void
test_entry_limit(void)
{
    kt_error_t err;
    char *text = many_entries(1000);
    certmap_t *map = load(text, &err);
    principal_t p;

    CHECK(map != NULL);
    CHECK(certmap_lookup(map, "CN=host-999", &p));
    CHECK(!certmap_lookup(map, "CN=host-1000", &p));
    certmap_free(map);
    free(text);
    text = many_entries(1001);
    CHECK(fails_at(text, 1001, "more than 1000"));
    free(text);
}

static void
test_missing_file(void)
{
    kt_error_t err;

    CHECK(certmap_load("/nonexistent/certmap.conf", &err) == NULL);
    CHECK(strstr(err.message, "/nonexistent/certmap.conf") != NULL);
    CHECK(certmap_load(NULL, &err) == NULL);
    CHECK(certmap_load("/nonexistent/certmap.conf", NULL) == NULL);
}

static void
test_role_names(void)
{
    for (int r = ROLE_NONE + 1; r < ROLE__MAX; r++)
        CHECK_INT(principal_role_parse(principal_role_name((role_t)r)), r);
    CHECK_STR(principal_role_name(ROLE_REGION), "region");
    CHECK_STR(principal_role_name(ROLE_SCHOOL), "school");
    CHECK_STR(principal_role_name(ROLE_MINISTRY), "ministry_education");
    CHECK_STR(principal_role_name(ROLE_MINISTRY_HEALTH), "ministry_health");
    CHECK_STR(principal_role_name(ROLE_PORTAL), "portal");
    /* The pre-split name (docs/security.md, "Migration of ministry tokens"). */
    CHECK_INT(principal_role_parse("ministry"), ROLE_MINISTRY);
    CHECK_INT(principal_role_resolve("ministry", 0), ROLE_MINISTRY);
    CHECK_INT(principal_role_resolve("ministry", SCOPE_HEALTH), ROLE_MINISTRY_HEALTH);
    CHECK_INT(principal_role_resolve("ministry_education", SCOPE_HEALTH), ROLE_MINISTRY);
    CHECK_INT(principal_role_resolve("portal", 0), ROLE_PORTAL);
    CHECK_INT(principal_role_resolve(NULL, 0), ROLE_NONE);
    CHECK_STR(principal_role_name(ROLE_AUDITOR), "auditor");
    CHECK_STR(principal_role_name(ROLE_ADMIN), "admin");
    CHECK(principal_role_name(ROLE_NONE) == NULL);
    CHECK(principal_role_name(ROLE__MAX) == NULL);
    CHECK_INT(principal_role_parse("none"), ROLE_NONE);
    CHECK_INT(principal_role_parse(""), ROLE_NONE);
    CHECK_INT(principal_role_parse("ADMIN"), ROLE_NONE);
    CHECK_INT(principal_role_parse(NULL), ROLE_NONE);
    CHECK_STR(principal_method_name(AUTH_TOKEN), "token");
    CHECK_STR(principal_method_name(AUTH_CERT), "certificate");
    CHECK_STR(principal_method_name(AUTH_NONE), "none");
    CHECK_STR(principal_method_name(AUTH_LOCAL), "local");
    CHECK(principal_method_matches(AUTH_LOCAL, "local"));
    CHECK(principal_method_matches(AUTH_LOCAL, "none")); /* written before "local" */
    CHECK(!principal_method_matches(AUTH_TOKEN, "none"));
    CHECK(!principal_method_matches(AUTH_CERT, NULL));
    CHECK_STR(principal_method_key(AUTH_LOCAL), "none");
    CHECK_STR(principal_method_key(AUTH_CERT), "certificate");
    CHECK_STR(principal_method_name(AUTH__MAX), "none");
}

int
main(void)
{
    CHECK_RUN(test_lookup_hits);
    CHECK_RUN(test_lookup_misses);
    CHECK_RUN(test_empty_and_comment_only);
    CHECK_RUN(test_malformed_lines);
    CHECK_RUN(test_line_limits);
    CHECK_RUN(test_nul_byte);
    CHECK_RUN(test_entry_limit);
    CHECK_RUN(test_missing_file);
    CHECK_RUN(test_role_names);
    CHECK_MAIN_END();
}
