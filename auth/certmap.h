/*
 * certmap: maps the subject of a client certificate (verified by nginx) to a
 * principal, through a config file of the operator's.
 *
 * File format (docs/operations.md), one mapping per line, '#' comments:
 *     <role> <org-or-dash> <subject DN as nginx prints $ssl_client_s_dn>
 * e.g.
 *     region - CN=MUNICIPAL-EDU-07,O=Kontingent Dev,C=RU
 *     school 1027700132195 CN=school-1,O=School 1,C=RU
 * The DN is the rest of the line without its outer blanks, compared byte for
 * byte. Comments are whole lines only, since a DN may contain '#'. Lines are
 * at most 1024 bytes, a DN at most 255; a school needs its organisation; a DN
 * is mapped at most once; the map holds at most 1000 mappings.
 */
#ifndef KT_CERTMAP_H
#define KT_CERTMAP_H

#include <stdbool.h>

#include "auth/principal.h"
#include "core/error.h"

typedef struct certmap certmap_t;

/* Loads the file; a malformed line fails the load with its line number
 * (err KT_INTERNAL, 500: the operator's file, not the client, is wrong). */
certmap_t *certmap_load(const char *path, kt_error_t *err);

void certmap_free(certmap_t *map);

/* Fills p (method AUTH_CERT, subject = the DN) when the DN is mapped; on a
 * miss p is cleared (ROLE_NONE, AUTH_NONE). */
bool certmap_lookup(const certmap_t *map, const char *subject_dn, principal_t *p);

#endif
