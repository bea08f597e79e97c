/*
 * Unit tests of the roles in the route table (fcgi/routes.c): the table and
 * the matrix of docs/security.md ("Roles") say the same, row by row, and the
 * server's check (router_admits) answers by the table with 403 FORBIDDEN.
 *
 * docs/security.md is found from KT_TEST_DATA (<repo>/tests/data, set by
 * CMake). The matrix is the Markdown table whose header starts
 * "| method | path |"; its other columns are role names, its cells `yes`,
 * `own` (a school, for its own organisation: allowed by role) or `—`.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "fcgi/routes.h"
#include "http/router.h"

#define DOC_MAX     (256 * 1024)
#define COLUMNS_MAX 16
#define CELL_MAX    128

static char doc[DOC_MAX];

/* docs/security.md into doc; false when it cannot be read. */
static bool
read_doc(void)
{
    char path[1100];
    FILE *f;
    size_t n;

    check_repo_path(path, sizeof path, "docs/security.md");
    f = fopen(path, "r");
    if (f == NULL) {
        fprintf(stderr, "cannot open %s\n", path);
        return false;
    }
    n = fread(doc, 1, sizeof doc - 1, f);
    doc[n] = '\0';
    fclose(f);
    return n > 0 && n < sizeof doc - 1;
}

/* The cells of one table line ("| a | `b` | c |"), trimmed and without
 * backticks; the number of cells. */
static int
split_row(const char *line, size_t len, char cells[][CELL_MAX])
{
    int n = 0;
    size_t i = 1; /* past the leading '|' */

    while (i < len && n < COLUMNS_MAX) {
        size_t end = i, k = 0;
        while (end < len && line[end] != '|')
            end++;
        if (end >= len)
            break; /* text after the last '|' is not a cell */
        for (size_t j = i; j < end && k + 1 < CELL_MAX; j++)
            if (line[j] != '`' && !(k == 0 && line[j] == ' '))
                cells[n][k++] = line[j];
        while (k > 0 && cells[n][k - 1] == ' ')
            k--;
        cells[n][k] = '\0';
        n++;
        i = end + 1;
    }
    return n;
}

static const route_t *
find_route(const char *method, const char *pattern)
{
    for (size_t i = 0; i < routes_count; i++)
        if (strcmp(routes_table[i].method, method) == 0 &&
            strcmp(routes_table[i].pattern, pattern) == 0)
            return &routes_table[i];
    return NULL;
}

/* The roles one matrix line admits; a cell that is not yes/own/— fails. */
static unsigned
row_roles(char cells[][CELL_MAX], const role_t *roles, int ncells)
{
    unsigned mask = 0;

    for (int c = 2; c < ncells; c++) {
        bool yes = strcmp(cells[c], "yes") == 0, own = strcmp(cells[c], "own") == 0;
        CHECK(yes || own || strcmp(cells[c], "—") == 0);
        CHECK(!own || roles[c] == ROLE_SCHOOL); /* `own` is a school's scope */
        if (yes || own)
            mask |= ROLE_BIT(roles[c]);
    }
    return mask;
}

/* One matrix line against the table; marks the route seen. */
static void
check_row(char cells[][CELL_MAX], const role_t *roles, int ncells, int ncolumns, bool *seen)
{
    const route_t *r = find_route(cells[0], cells[1]);

    CHECK_INT(ncells, ncolumns);
    if (r == NULL) {
        fprintf(stderr, "docs/security.md names %s %s, which is no route\n", cells[0], cells[1]);
        CHECK(r != NULL);
        return;
    }
    CHECK(!seen[r - routes_table]); /* one line per route */
    seen[r - routes_table] = true;
    if (row_roles(cells, roles, ncells) != r->roles)
        fprintf(stderr, "roles of %s %s: docs/security.md and fcgi/routes.c differ\n", cells[0],
                cells[1]);
    CHECK_INT(row_roles(cells, roles, ncells), r->roles);
}

static void
test_matrix_is_the_table(void)
{
    char cells[COLUMNS_MAX][CELL_MAX];
    role_t roles[COLUMNS_MAX] = {ROLE_NONE};
    bool seen[64] = {false};
    const char *line = strstr(doc, "\n| method | path |");
    int ncolumns, rows = 0;

    CHECK(line != NULL);
    CHECK(routes_count <= sizeof seen / sizeof seen[0]);
    if (line == NULL)
        return;
    line++;
    ncolumns = split_row(line, strcspn(line, "\n"), cells);
    CHECK_INT(ncolumns, 2 + ROLE__MAX - 1); /* every role has its column */
    for (int c = 2; c < ncolumns; c++) {
        roles[c] = principal_role_parse(cells[c]);
        CHECK(roles[c] != ROLE_NONE);
    }
    line = strchr(line, '\n') + 1; /* the header's rule "| --- | ..." */
    for (line = strchr(line, '\n') + 1; line[0] == '|'; line = strchr(line, '\n') + 1) {
        check_row(cells, roles, split_row(line, strcspn(line, "\n"), cells), ncolumns, seen);
        rows++;
        if (strchr(line, '\n') == NULL)
            break;
    }
    CHECK_INT(rows, routes_count);
    for (size_t i = 0; i < routes_count; i++)
        if (!seen[i])
            fprintf(stderr, "docs/security.md lacks %s %s\n", routes_table[i].method,
                    routes_table[i].pattern);
}

/* The server's check: the route's roles pass, the others get 403 FORBIDDEN
 * with the route's own text, and no principal without a role passes. */
static void
test_admits_by_the_table(void)
{
    for (size_t i = 0; i < routes_count; i++) {
        const route_t *r = &routes_table[i];
        bool pub = (r->flags & ROUTE_PUBLIC) != 0;

        CHECK(r->roles != 0);
        CHECK(r->roles == ROLES_ALL || r->denied != NULL);
        CHECK(!pub || r->roles == ROLES_ALL); /* health: no credentials, so no role */
        for (role_t role = ROLE_NONE; role < ROLE__MAX; role++) {
            kt_error_t err;
            bool want = pub || (role != ROLE_NONE && (r->roles & ROLE_BIT(role)) != 0);

            kt_error_clear(&err);
            CHECK(router_admits(r, role, &err) == want);
            if (want)
                continue;
            CHECK_INT(err.status, 403);
            CHECK_INT(err.code, KT_FORBIDDEN);
            if (r->denied != NULL)
                CHECK_STR(err.message, r->denied);
        }
    }
}

/* The coarse gates the handlers had, with the texts they gave (the API's
 * answers did not change when the gates moved into the table). */
static void
test_gates_as_before(void)
{
    const route_t *write = find_route("POST", "/api/v1/students");
    const route_t *audit = find_route("GET", "/api/v1/audit/access");
    const route_t *event = find_route("POST", "/api/v1/students/{id}/events");
    const route_t *org = find_route("PATCH", "/api/v1/organizations/{ogrn}");
    const route_t *report = find_route("GET", "/api/v1/reports/contingent");

    CHECK(write != NULL && audit != NULL && event != NULL && org != NULL && report != NULL);
    if (write == NULL || audit == NULL || event == NULL || org == NULL || report == NULL)
        return;
    CHECK_STR(write->denied, "this role may not change records");
    CHECK_STR(audit->denied, "the audit endpoints are for auditors");
    CHECK_STR(event->denied, "this role may not post education events");
    CHECK_STR(org->denied,
              "only the region and administrators change the registry of organisations");
    CHECK_STR(report->denied, "reports are for the region, the ministries and admins");
}

int
main(void)
{
    if (!read_doc())
        return 1;
    CHECK_RUN(test_matrix_is_the_table);
    CHECK_RUN(test_admits_by_the_table);
    CHECK_RUN(test_gates_as_before);
    CHECK_MAIN_END();
}
