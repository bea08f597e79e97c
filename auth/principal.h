/*
 * principal: who is making a request, and what roles exist.
 *
 * A principal comes from a verified bearer token (jwt.c) or from a client
 * certificate verified by nginx and mapped through the certificate map
 * (certmap.c). The route table decides by role alone (fcgi/routes.c); handlers
 * decide what remains from organisation and scopes.
 */
#ifndef KT_PRINCIPAL_H
#define KT_PRINCIPAL_H

#include <stdbool.h>

typedef enum {
    ROLE_NONE = 0,
    ROLE_REGION,   /* regional systems: read and write all students */
    ROLE_SCHOOL,   /* school software: its own organisation only */
    ROLE_MINISTRY, /* the ministry of education ("ministry_education"; "ministry" before the split)
                    */
    ROLE_AUDITOR,  /* read-only: students, history, access log */
    ROLE_ADMIN,    /* operators */
    ROLE_MINISTRY_HEALTH, /* the ministry of health: reads students and their health block, reports
                           */
    ROLE_PORTAL, /* the state services portal (ЕПГУ), by certificate: the family endpoints */
    ROLE__MAX
} role_t;

/* AUTH_LOCAL: an operator's command on the server itself (kontingentctl import,
 * export), which no token or certificate stands behind. */
typedef enum { AUTH_NONE = 0, AUTH_TOKEN, AUTH_CERT, AUTH_LOCAL, AUTH__MAX } auth_method_t;

/* Scopes are bits; the health scope (phase 2) guards the health block. */
enum { SCOPE_HEALTH = 1u << 0 };

#define PRINCIPAL_SUBJECT_MAX 256
#define PRINCIPAL_ORG_MAX     16 /* ОГРН: 13 digits (15 for ОГРНИП) + NUL */

#define PRINCIPAL_TOKEN_ID_MAX 65 /* a token's jti + NUL */

typedef struct {
    char subject[PRINCIPAL_SUBJECT_MAX];
    role_t role;
    char org[PRINCIPAL_ORG_MAX]; /* "" when the principal has no organisation */
    auth_method_t method;
    unsigned scopes;
    char token_id[PRINCIPAL_TOKEN_ID_MAX]; /* the token's jti, for the log; "" otherwise */
} principal_t;

/* "region", "school", ... ; NULL for ROLE_NONE or out of range. */
const char *principal_role_name(role_t role);

/* ROLE_NONE when name is not a role. "ministry", the one ministry role
 * before the split (docs/security.md, "Roles"), reads as ROLE_MINISTRY. */
role_t principal_role_parse(const char *name);

/* The role a token's or a certificate's role name grants with its scopes:
 * principal_role_parse(), except that the pre-split name "ministry" with the
 * health scope is the health ministry's (docs/security.md, "Migration of
 * ministry tokens"). ROLE_NONE when name is not a role. */
role_t principal_role_resolve(const char *name, unsigned scopes);

/* Whether p may read the health block (docs/health.md, "Who sees what"):
 * the health scope, held by the health ministry, a school (its own students
 * only, as for everything) or an admin. Any other role with the scope (the
 * education ministry, region, auditor, portal) is treated as without it.
 * Reports use it too; writes of the block also need a route that admits
 * writes, which the health ministry's role does not. */
bool principal_can_see_health(const principal_t *p);

/* "token", "certificate", "local"; "none". */
const char *principal_method_name(auth_method_t method);

/* True when "auth" as stored in a record names this method. kontingentctl
 * wrote "none" before AUTH_LOCAL had its name: such records are local too. */
bool principal_method_matches(auth_method_t method, const char *stored);

/* The method's name in package keys: "none" for AUTH_LOCAL, as before it had
 * a name, so that a package imported then is still recognised when re-sent. */
const char *principal_method_key(auth_method_t method);

#endif
